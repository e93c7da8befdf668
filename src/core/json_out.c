/* json_out.c: see json_out.h. */
#include "core/common.h"
#include "core/json_out.h"

void json_out_init(struct json_out *o, struct buf *b)
{
    memset(o, 0, sizeof *o);
    o->b = b;
    o->first[0] = true;
}

/* Appends n bytes: straight into b's memory while it has room (a list page writes thousands of
 * small pieces, and buf_append's checks and calls were a fifth of the page's time), else through
 * buf_append, which grows it within its cap. */
static inline dm_err put(struct buf *b, const void *p, size_t n)
{
    if (b->data && n < b->alloc - b->len && n <= b->cap - b->len) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
        return DM_OK;
    }
    return buf_append(b, p, n);
}

/* '"', s[0..n) and '"', as put does (one copy where b has room). */
static inline dm_err put_quoted(struct buf *b, const char *s, size_t n)
{
    if (b->data && n + 2 < b->alloc - b->len && n + 2 <= b->cap - b->len) {
        char *d = b->data + b->len;
        d[0] = '"';
        memcpy(d + 1, s, n);
        d[n + 1] = '"';
        d[n + 2] = 0;
        b->len += n + 2;
        return DM_OK;
    }
    dm_err e = buf_append(b, "\"", 1);
    if (!e) e = buf_append(b, s, n);
    return e ? e : buf_append(b, "\"", 1);
}

/* Whether c is written into a JSON string as it is: printable ASCII but a quote or a
 * backslash (a table: one load a byte where the tests took four compares, and most of a list
 * page's text is scanned by it). */
static const bool plain_bytes[256] = {
    [0x20 ... '"' - 1] = true, ['"' + 1 ... '\\' - 1] = true, ['\\' + 1 ... 0x7f] = true};

static inline bool plain(unsigned char c)
{
    return plain_bytes[c];
}

/* Before a value or a key: the comma that separates it from the one before. */
static inline bool next(struct json_out *o)
{
    if (o->e) return false;
    if (o->after_key) {
        o->after_key = false;
        return true;
    }
    if (!o->first[o->depth]) o->e = put(o->b, ",", 1);
    o->first[o->depth] = false;
    return !o->e;
}

static void open_level(struct json_out *o, char open, char close)
{
    if (!next(o)) return;
    if (o->depth + 1 >= JSON_OUT_DEPTH) {
        o->e = DM_ETOOBIG;
        return;
    }
    o->e = put(o->b, &open, 1);
    o->depth++;
    o->first[o->depth] = true;
    o->close[o->depth] = close;
}

void json_out_object(struct json_out *o)
{
    open_level(o, '{', '}');
}

void json_out_array(struct json_out *o)
{
    open_level(o, '[', ']');
}

void json_out_end(struct json_out *o)
{
    if (o->e) return;
    if (o->depth == 0 || o->after_key) {
        o->e = DM_EINVAL;
        return;
    }
    o->e = put(o->b, &o->close[o->depth], 1);
    o->depth--;
}

void json_out_key_json(struct json_out *o, const char *key_json, size_t len)
{
    if (o->e) return;
    /* what next() does, with the comma already in key_json: skip it where none goes */
    size_t skip = o->after_key || o->first[o->depth];
    if (!o->after_key) o->first[o->depth] = false;
    o->e = put(o->b, key_json + skip, len - skip);
    o->after_key = !o->e;
}

/* Starts a member: its key (the comma left out where none goes) written where o's buffer
 * ends, with room after it for n bytes of value. Returns where the key starts, and in *w its
 * length; NULL with o->e set when there is no room within the cap, or when a key was written
 * without its value. */
static inline char *member_start(struct json_out *o, const char *key_json, size_t len, size_t n,
                                 size_t *w)
{
    struct buf *b = o->b;
    if (o->e || o->after_key) {
        if (!o->e) o->e = DM_EINVAL;
        return NULL;
    }
    size_t skip = o->first[o->depth];
    size_t need = len - skip + n;
    if (!b->data || need >= b->alloc - b->len || need > b->cap - b->len) {
        dm_err e = buf_reserve(b, need);
        if (e) {
            o->e = e;
            return NULL;
        }
    }
    o->first[o->depth] = false;
    char *d = b->data + b->len;
    memcpy(d, key_json + skip, len - skip);
    *w = len - skip;
    return d;
}

/* Counts w bytes written at the end of b. */
static inline void member_done(struct buf *b, size_t w)
{
    b->len += w;
    b->data[b->len] = 0;
}

/* v's digits ending at d[-1] (d has room for 20 before it); returns how many were written. Two
 * digits at a time (a list page writes about 500 numbers of 10 to 13 digits): half the
 * divisions of one digit at a time. */
static inline size_t digits_before(char *d, int64_t v)
{
    static const char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233"
        "34353637383940414243444546474849505152535455565758596061626364656667"
        "6869707172737475767778798081828384858687888990919293949596979899";
    char *p = d;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    for (; u >= 100; u /= 100) {
        p -= 2;
        memcpy(p, pairs + 2 * (u % 100), 2);
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * u, 2);
    } else
        *--p = (char)('0' + u);
    if (v < 0) *--p = '-';
    return (size_t)(d - p);
}

#define INT_MAX_CHARS 20 /* -9223372036854775808 */

void json_out_member_int(struct json_out *o, const char *key_json, size_t len, int64_t v)
{
    char tmp[INT_MAX_CHARS];
    size_t n = digits_before(tmp + sizeof tmp, v);
    size_t w;
    char *d = member_start(o, key_json, len, n, &w);
    if (!d) return;
    memcpy(d + w, tmp + sizeof tmp - n, n);
    member_done(o->b, w + n);
}

void json_out_member_raw(struct json_out *o, const char *key_json, size_t len, const char *raw,
                         size_t n)
{
    size_t w;
    char *d = member_start(o, key_json, len, n, &w);
    if (!d) return;
    memcpy(d + w, raw, n);
    member_done(o->b, w + n);
}

void json_out_member_text(struct json_out *o, const char *key_json, size_t len, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (plain(*p))
        p++;
    if (*p) { /* something to escape or check: the general way */
        json_out_key_json(o, key_json, len);
        json_out_text(o, s);
        return;
    }
    size_t n = (size_t)(p - (const unsigned char *)s);
    size_t w;
    char *d = member_start(o, key_json, len, n + 2, &w);
    if (!d) return;
    d[w] = '"';
    memcpy(d + w + 1, s, n);
    d[w + 1 + n] = '"';
    member_done(o->b, w + n + 2);
}

/* A key and its comma are put together and appended at once: printf-style formatting cost
 * more than all the rest of a list page. */
void json_out_key(struct json_out *o, const char *key)
{
    char k[64];
    size_t n = strlen(key);
    if (o->e) return;
    if (n > sizeof k - 4) {
        o->e = DM_ETOOBIG;
        return;
    }
    memcpy(k, ",\"", 2);
    memcpy(k + 2, key, n);
    memcpy(k + 2 + n, "\":", 2);
    json_out_key_json(o, k, n + 4);
}

void json_out_text(struct json_out *o, const char *s)
{
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    if (!next(o)) return;
    struct buf *b = o->b;
    const unsigned char *p = (const unsigned char *)s;
    while (plain(*p))
        p++;
    if (!*p) { /* most text: nothing to escape or check, one copy */
        o->e = put_quoted(b, s, (size_t)(p - (const unsigned char *)s));
        return;
    }
    dm_err e = put(b, "\"", 1);
    if (!e && (const char *)p > s) e = put(b, s, (size_t)((const char *)p - s));
    while (!e && *p) {
        /* a run of characters written as they are */
        const unsigned char *run = p;
        while (plain(*p))
            p++;
        if (p > run) e = put(b, run, (size_t)(p - run));
        if (e || !*p) break;
        if (*p < 0x80) { /* a quote, a backslash or a control character */
            static const char short_form[] = {
                ['"'] = '"',  ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
                ['\n'] = 'n', ['\r'] = 'r',  ['\t'] = 't'};
            char esc[8];
            int n = *p < sizeof short_form && short_form[*p]
                        ? snprintf(esc, sizeof esc, "\\%c", short_form[*p])
                        : snprintf(esc, sizeof esc, "\\u%04X", *p); /* as jansson */
            e = put(b, esc, (size_t)n);
            p++;
            continue;
        }
        size_t k;
        int kind = dm_utf8_char(p, &k);
        if (kind == DM_UTF8_CHAR) e = put(b, p, k);
        if (kind == DM_UTF8_BAD) e = put(b, replacement, sizeof replacement - 1);
        p += k;
    }
    if (!e) e = put(b, "\"", 1);
    o->e = e;
}

void json_out_int(struct json_out *o, int64_t v)
{
    if (!next(o)) return;
    char d[INT_MAX_CHARS];
    size_t n = digits_before(d + sizeof d, v);
    o->e = put(o->b, d + sizeof d - n, n);
}

void json_out_bool(struct json_out *o, bool v)
{
    if (next(o)) o->e = v ? put(o->b, "true", 4) : put(o->b, "false", 5);
}

void json_out_null(struct json_out *o)
{
    if (next(o)) o->e = put(o->b, "null", 4);
}

dm_err json_out_finish(struct json_out *o)
{
    if (!o->e && (o->depth != 0 || o->after_key)) o->e = DM_EINVAL;
    return o->e;
}
