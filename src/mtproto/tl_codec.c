#include "core/common.h"

#include "mtproto/gzip.h"
#include "mtproto/tl_codec.h"

#include <math.h>

#define TL_ID_gzip_packed_ 0x3072cfa1u

/* ---- tables ---- */

const struct tl_ctor *tl_ctor_by_id(uint32_t id)
{
    size_t lo = 0, hi = TL_NCTORS;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (tl_ctors[mid].id == id) return &tl_ctors[mid];
        if (tl_ctors[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct tl_ctor *tl_ctor_by_name(const char *name)
{
    size_t lo = 0, hi = TL_NCTORS;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct tl_ctor *c = &tl_ctors[tl_ctors_by_name[mid]];
        int r = strcmp(c->name, name);
        if (r == 0) return c;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct tl_field *tl_ctor_field(const struct tl_ctor *c, const char *name)
{
    for (unsigned i = 0; i < c->nfields; i++)
        if (strcmp(tl_fields[c->fields + i].name, name) == 0) return &tl_fields[c->fields + i];
    return NULL;
}

/* Does `message` match `pattern`, where %d in the pattern stands for one or more digits? */
static bool error_matches(const char *pattern, const char *message)
{
    while (*pattern) {
        if (pattern[0] == '%' && pattern[1] == 'd') {
            if (*message < '0' || *message > '9') return false;
            while (*message >= '0' && *message <= '9')
                message++;
            pattern += 2;
        } else if (*pattern++ != *message++) {
            return false;
        }
    }
    return *message == 0;
}

const struct tl_error_def *tl_error_find(const char *message)
{
    for (size_t i = 0; i < TL_NERRORS; i++)
        if (error_matches(tl_errors[i].name, message)) return &tl_errors[i];
    return NULL;
}

/* ---- little-endian primitives ---- */

uint32_t tl_read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t tl_read_u64(const uint8_t *p)
{
    return (uint64_t)tl_read_u32(p) | (uint64_t)tl_read_u32(p + 4) << 32;
}

dm_err tl_put_u32(struct buf *out, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return buf_append(out, b, 4);
}

dm_err tl_put_u64(struct buf *out, uint64_t v)
{
    dm_err rc = tl_put_u32(out, (uint32_t)v);
    return rc ? rc : tl_put_u32(out, (uint32_t)(v >> 32));
}

dm_err tl_put_bytes(struct buf *out, const void *p, size_t n)
{
    if (n >= 1u << 24) return DM_ETOOBIG;
    uint8_t hdr[4];
    size_t h;
    if (n < 254) {
        hdr[0] = (uint8_t)n;
        h = 1;
    } else {
        hdr[0] = 254;
        hdr[1] = (uint8_t)n;
        hdr[2] = (uint8_t)(n >> 8);
        hdr[3] = (uint8_t)(n >> 16);
        h = 4;
    }
    static const uint8_t zeros[4];
    dm_err rc = buf_append(out, hdr, h);
    if (!rc) rc = buf_append(out, p, n);
    if (!rc) rc = buf_append(out, zeros, (4 - (h + n) % 4) % 4);
    return rc;
}

dm_err tl_read_bytes(const uint8_t *p, size_t n, const uint8_t **data, size_t *len, size_t *used)
{
    if (n < 1) return DM_EPROTO;
    size_t h = 1, l = p[0];
    if (l == 254) {
        if (n < 4) return DM_EPROTO;
        l = (size_t)p[1] | (size_t)p[2] << 8 | (size_t)p[3] << 16;
        h = 4;
    } else if (l == 255) {
        return DM_EPROTO;
    }
    size_t total = (h + l + 3) & ~(size_t)3;
    if (total > n) return DM_EPROTO;
    *data = p + h;
    *len = l;
    *used = total;
    return DM_OK;
}

/* ---- hex ---- */

json_t *tl_hex(const void *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(n * 2 + 1);
    if (!s) return NULL;
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[b[i] >> 4];
        s[2 * i + 1] = digits[b[i] & 15];
    }
    s[2 * n] = 0;
    json_t *j = json_stringn_nocheck(s, n * 2);
    free(s);
    return j;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex s[0..n) into out (n/2 bytes). */
static bool unhex(const char *s, size_t n, uint8_t *out)
{
    if (n % 2) return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* ---- decoding ---- */

struct rd {
    const uint8_t *p;
    size_t n, pos;
    int depth;
    struct tl_inflate *gz; /* NULL: gzip_packed refused */
    struct dm_error *e;
};

static dm_err rd_short(struct rd *r, const char *what, size_t need)
{
    return dm_fail(r->e, DM_EPROTO, "TL: %s needs %zu bytes at offset %zu, %zu left", what, need,
                   r->pos, r->n - r->pos);
}

static dm_err rd_u32(struct rd *r, uint32_t *v, const char *what)
{
    if (r->n - r->pos < 4) return rd_short(r, what, 4);
    *v = tl_read_u32(r->p + r->pos);
    r->pos += 4;
    return DM_OK;
}

static dm_err dec_value(struct rd *r, const struct tl_field *f, bool element, json_t **out);
static dm_err dec_boxed(struct rd *r, const struct tl_field *as, json_t **out);

/* Puts v (a new reference, may be NULL on allocation failure) into *out, or drops it. */
static dm_err give(struct rd *r, json_t *v, json_t **out)
{
    if (!out) {
        json_decref(v);
        return DM_OK;
    }
    if (!v) return dm_fail(r->e, DM_ENOMEM, "TL: out of memory");
    *out = v;
    return DM_OK;
}

/* Valid UTF-8 as is; otherwise each invalid byte becomes U+FFFD. */
static json_t *utf8_string(const uint8_t *s, size_t n)
{
    json_t *j = json_stringn((const char *)s, n);
    if (j) return j;
    struct buf b;
    buf_init(&b, n * 3 + 1);
    for (size_t i = 0; i < n;) {
        size_t len = 0;
        uint8_t c = s[i];
        if (c < 0x80)
            len = 1;
        else if (c >= 0xc2 && c <= 0xdf)
            len = 2;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4;
        if (len > 1 && i + len <= n) {
            json_t *probe = json_stringn((const char *)s + i, len);
            if (!probe) len = 0;
            json_decref(probe);
        } else if (len > 1) {
            len = 0;
        }
        if (len && buf_append(&b, s + i, len) == DM_OK) {
            i += len;
        } else {
            if (buf_append(&b, "\xef\xbf\xbd", 3)) break;
            i++;
        }
    }
    j = json_stringn(b.data ? b.data : "", b.len);
    buf_release(&b);
    return j;
}

static dm_err dec_fields(struct rd *r, const struct tl_ctor *c, json_t **out)
{
    json_t *obj = NULL;
    if (out) {
        obj = json_object();
        if (!obj || json_object_set_new(obj, "_", json_string(c->name))) {
            json_decref(obj);
            return dm_fail(r->e, DM_ENOMEM, "TL: out of memory");
        }
    }
    uint32_t flagv[256];
    dm_err rc = DM_OK;
    for (unsigned i = 0; i < c->nfields && !rc; i++) {
        const struct tl_field *f = &tl_fields[c->fields + i];
        if (f->cond != TL_NO_COND && !(flagv[f->cond] >> f->bit & 1)) continue;
        if (f->kind == TL_K_FLAGS && !f->vector) {
            rc = rd_u32(r, &flagv[i], f->name);
            continue;
        }
        if (f->kind == TL_K_TRUE && !f->vector) {
            if (obj && json_object_set_new(obj, f->name, json_true())) rc = DM_ENOMEM;
            continue;
        }
        json_t *v = NULL;
        rc = dec_value(r, f, false, obj ? &v : NULL);
        if (rc) {
            if (r->e && strlen(r->e->msg) < 160) {
                char inner[256];
                dm_strlcpy(inner, r->e->msg, sizeof inner);
                dm_fail(r->e, rc, "%s.%s: %s", c->name, f->name, inner);
            }
        } else if (obj && json_object_set_new(obj, f->name, v)) {
            rc = dm_fail(r->e, DM_ENOMEM, "TL: out of memory");
        }
    }
    if (rc) {
        json_decref(obj);
        return rc;
    }
    if (out) *out = obj;
    return DM_OK;
}

dm_err tl_gzip_unpack(const uint8_t *p, size_t n, size_t at, struct tl_inflate *gz, size_t *used,
                      struct buf *plain, struct dm_error *e)
{
    const uint8_t *data;
    size_t len;
    *used = 0;
    buf_init(plain, gz ? gz->left : 0);
    if (!gz)
        return dm_fail(e, DM_EPROTO,
                       "TL: gzip_packed data at offset %zu, where no compression is accepted", at);
    if (gz->inside)
        return dm_fail(e, DM_EPROTO, "TL: gzip_packed inside gzip_packed (its data at offset %zu)",
                       at);
    if (tl_read_bytes(p, n, &data, &len, used))
        return dm_fail(e, DM_EPROTO, "TL: gzip_packed data overruns the input at offset %zu", at);
    dm_err rc = gzip_inflate(data, len, gz->left, plain, e);
    if (rc == DM_ETOOBIG) {
        gz->left = 0;
        return dm_fail(
            e, rc, "TL: gzip_packed data at offset %zu: the message inflates past %u bytes in all",
            at, TL_MAX_GZIP);
    }
    if (!rc) gz->left -= plain->len;
    return rc;
}

/* A boxed object: its id, then its fields. `as` restricts the constructor (TL_K_TYPE) or is
 * NULL / TL_K_ANY / TL_K_OBJECT for any. gzip_packed is unpacked in place (with an allowance). */
static dm_err dec_boxed(struct rd *r, const struct tl_field *as, json_t **out)
{
    uint32_t id;
    dm_err rc = rd_u32(r, &id, "constructor id");
    if (rc) return rc;
    if (id == TL_ID_gzip_packed_) {
        size_t used = 0;
        struct buf plain;
        rc = tl_gzip_unpack(r->p + r->pos, r->n - r->pos, r->pos, r->gz, &used, &plain, r->e);
        r->pos += used;
        if (!rc) {
            struct rd inner = {(const uint8_t *)plain.data, plain.len, 0, r->depth, r->gz, r->e};
            r->gz->inside = true; /* a gzip_packed in there is refused */
            rc = dec_boxed(&inner, as, out);
            r->gz->inside = false;
            if (!rc && inner.pos != inner.n) {
                rc = dm_fail(r->e, DM_EPROTO, "TL: %zu bytes left over inside gzip_packed",
                             inner.n - inner.pos);
                if (out) json_decref(*out);
            }
        }
        buf_release(&plain);
        return rc;
    }
    if (as && as->kind == TL_K_TYPE && !as->vector && id == TL_ID_vector)
        return dm_fail(r->e, DM_EPROTO, "TL: a vector where %s was expected",
                       tl_types[as->ref].name);
    if (id == TL_ID_vector) {
        if (as && as->vector == TL_VEC_BOXED) { /* (inside a gzip_packed) read again from its id */
            r->pos -= 4;
            return dec_value(r, as, false, out);
        }
        return dm_fail(r->e, DM_EPROTO, "TL: a vector whose element type is not known here");
    }
    const struct tl_ctor *c = tl_ctor_by_id(id);
    if (!c)
        return dm_fail(r->e, DM_EPROTO, "TL: unknown constructor 0x%08x at offset %zu", id,
                       r->pos - 4);
    if (as && as->kind == TL_K_TYPE && ((c->flags & TL_C_METHOD) || c->type != as->ref))
        return dm_fail(r->e, DM_EPROTO, "TL: %s is not a %s", c->name, tl_types[as->ref].name);
    if (as && as->kind == TL_K_ANY && !(c->flags & TL_C_METHOD))
        return dm_fail(r->e, DM_EPROTO, "TL: %s is not a method call", c->name);
    return dec_fields(r, c, out);
}

/* One field value (a whole vector when f->vector and !element). */
static dm_err dec_value(struct rd *r, const struct tl_field *f, bool element, json_t **out)
{
    if (++r->depth > TL_MAX_DEPTH) {
        r->depth--;
        return dm_fail(r->e, DM_EPROTO, "TL: nested deeper than %d", TL_MAX_DEPTH);
    }
    dm_err rc = DM_OK;
    if (f->vector && !element) {
        uint32_t id, count;
        if (f->vector == TL_VEC_BOXED && (rc = rd_u32(r, &id, "vector id")) == DM_OK &&
            id != TL_ID_vector) {
            if (id == TL_ID_gzip_packed_) {
                r->pos -= 4;
                struct tl_field boxed = *f; /* unpack, then read the boxed vector inside */
                rc = dec_boxed(r, &boxed, out);
            } else {
                rc = dm_fail(r->e, DM_EPROTO, "TL: expected a vector, got constructor 0x%08x", id);
            }
            r->depth--;
            return rc;
        }
        if (!rc) rc = rd_u32(r, &count, "vector length");
        if (!rc && count > (r->n - r->pos) / 4)
            rc = dm_fail(r->e, DM_EPROTO, "TL: vector of %" PRIu32 " elements in %zu bytes", count,
                         r->n - r->pos);
        json_t *arr = NULL;
        if (!rc && out && !(arr = json_array())) rc = dm_fail(r->e, DM_ENOMEM, "TL: out of memory");
        for (uint32_t i = 0; i < count && !rc; i++) {
            json_t *v = NULL;
            rc = dec_value(r, f, true, arr ? &v : NULL);
            if (!rc && arr && json_array_append_new(arr, v))
                rc = dm_fail(r->e, DM_ENOMEM, "TL: out of memory");
        }
        if (rc)
            json_decref(arr);
        else if (out)
            *out = arr;
        r->depth--;
        return rc;
    }
    size_t left = r->n - r->pos;
    const uint8_t *p = r->p + r->pos;
    switch ((enum tl_kind)f->kind) {
    case TL_K_INT:
        if (left < 4)
            rc = rd_short(r, "int", 4);
        else
            rc = give(r, json_integer((int32_t)tl_read_u32(p)), out), r->pos += 4;
        break;
    case TL_K_LONG:
        if (left < 8)
            rc = rd_short(r, "long", 8);
        else
            rc = give(r, json_integer((json_int_t)(int64_t)tl_read_u64(p)), out), r->pos += 8;
        break;
    case TL_K_DOUBLE:
        if (left < 8) {
            rc = rd_short(r, "double", 8);
        } else {
            uint64_t u = tl_read_u64(p);
            double d;
            memcpy(&d, &u, sizeof d);
            /* NaN and infinities have no JSON form: refused when skipped too, so both agree */
            rc = isfinite(d) ? give(r, json_real(d), out)
                             : dm_fail(r->e, DM_EPROTO,
                                       "TL: a double at offset %zu is not a finite number", r->pos);
            r->pos += 8;
        }
        break;
    case TL_K_INT128:
    case TL_K_INT256: {
        size_t size = f->kind == TL_K_INT128 ? 16 : 32;
        if (left < size)
            rc = rd_short(r, size == 16 ? "int128" : "int256", size);
        else
            rc = give(r, out ? tl_hex(p, size) : NULL, out), r->pos += size;
        break;
    }
    case TL_K_STRING:
    case TL_K_BYTES: {
        const uint8_t *data;
        size_t len, used;
        if (tl_read_bytes(p, left, &data, &len, &used)) {
            rc = dm_fail(r->e, DM_EPROTO, "TL: string at offset %zu overruns the %zu bytes left",
                         r->pos, left);
            break;
        }
        r->pos += used;
        if (out)
            rc = give(r, f->kind == TL_K_STRING ? utf8_string(data, len) : tl_hex(data, len), out);
        break;
    }
    case TL_K_BOOL: {
        uint32_t id;
        if ((rc = rd_u32(r, &id, "Bool")) != DM_OK) break;
        if (id == TL_ID_boolTrue || id == TL_ID_boolFalse)
            rc = give(r, out ? json_boolean(id == TL_ID_boolTrue) : NULL, out);
        else
            rc = dm_fail(r->e, DM_EPROTO, "TL: expected a Bool, got 0x%08x", id);
        break;
    }
    case TL_K_TRUE: /* only inside vectors (no schema has them), and as a bare value */
        rc = give(r, out ? json_true() : NULL, out);
        break;
    case TL_K_FLAGS: {
        uint32_t v;
        if ((rc = rd_u32(r, &v, "flags")) == DM_OK) rc = give(r, out ? json_integer(v) : NULL, out);
        break;
    }
    case TL_K_BARE:
        rc = dec_fields(r, &tl_ctors[f->ref], out);
        break;
    case TL_K_TYPE:
    case TL_K_ANY:
    case TL_K_OBJECT: {
        struct tl_field one = *f;
        one.vector = 0;
        rc = dec_boxed(r, &one, out);
        break;
    }
    default:
        rc = dm_fail(r->e, DM_EPROTO, "TL: bad field kind %d", f->kind);
    }
    r->depth--;
    return rc;
}

dm_err tl_decode(const uint8_t *p, size_t n, const struct tl_field *as, json_t **out, size_t *used,
                 struct dm_error *e)
{
    return tl_decode_gz(p, n, as, NULL, out, used, e);
}

dm_err tl_decode_gz(const uint8_t *p, size_t n, const struct tl_field *as, struct tl_inflate *gz,
                    json_t **out, size_t *used, struct dm_error *e)
{
    struct rd r = {p, n, 0, 0, gz, e};
    json_t *v = NULL;
    dm_err rc =
        as ? dec_value(&r, as, false, out ? &v : NULL) : dec_boxed(&r, NULL, out ? &v : NULL);
    if (rc) return rc;
    if (out) *out = v;
    if (used) *used = r.pos;
    return DM_OK;
}

/* ---- encoding ---- */

struct wr {
    struct buf *out;
    int depth;
    struct dm_error *e;
};

static dm_err enc_value(struct wr *w, const json_t *v, const struct tl_field *f, bool element,
                        const char *what);

static dm_err wr_nomem(struct wr *w, dm_err rc)
{
    return dm_fail(w->e, rc, rc == DM_ETOOBIG ? "TL: message too large" : "TL: out of memory");
}

static dm_err enc_fields(struct wr *w, const json_t *obj, const struct tl_ctor *c)
{
    if (!json_is_object(obj)) return dm_fail(w->e, DM_EINVAL, "TL: %s must be an object", c->name);
    /* flags words: a bit is set when any field gated by it is present (true for flags.N?true) */
    uint32_t flagv[256] = {0};
    for (unsigned i = 0; i < c->nfields; i++) {
        const struct tl_field *f = &tl_fields[c->fields + i];
        if (f->cond == TL_NO_COND) continue;
        const json_t *v = json_object_get(obj, f->name);
        if (!v || json_is_null(v) || (f->kind == TL_K_TRUE && !f->vector && json_is_false(v)))
            continue;
        flagv[f->cond] |= 1u << f->bit;
    }
    dm_err rc;
    for (unsigned i = 0; i < c->nfields; i++) {
        const struct tl_field *f = &tl_fields[c->fields + i];
        const json_t *v = json_object_get(obj, f->name);
        if (f->kind == TL_K_FLAGS && !f->vector) {
            if ((rc = tl_put_u32(w->out, flagv[i])) != DM_OK) return wr_nomem(w, rc);
            continue;
        }
        if (f->cond != TL_NO_COND) {
            if (!(flagv[f->cond] >> f->bit & 1)) continue;
            if (f->kind == TL_K_TRUE && !f->vector) {
                if (!json_is_true(v))
                    return dm_fail(w->e, DM_EINVAL,
                                   "TL: %s.%s must be true: flag %s.%u is set by another field",
                                   c->name, f->name, tl_fields[c->fields + f->cond].name, f->bit);
                continue;
            }
        }
        if (!v || json_is_null(v))
            return dm_fail(w->e, DM_EINVAL, "TL: %s needs field %s", c->name, f->name);
        if ((rc = enc_value(w, v, f, false, f->name)) != DM_OK) return rc;
    }
    return DM_OK;
}

static dm_err enc_boxed(struct wr *w, const json_t *v, const struct tl_field *as)
{
    const char *name = json_string_value(json_object_get(v, "_"));
    if (!name) return dm_fail(w->e, DM_EINVAL, "TL: an object needs its constructor name in \"_\"");
    const struct tl_ctor *c = tl_ctor_by_name(name);
    if (!c) return dm_fail(w->e, DM_EINVAL, "TL: unknown constructor %s", name);
    if (as && as->kind == TL_K_TYPE && ((c->flags & TL_C_METHOD) || c->type != as->ref))
        return dm_fail(w->e, DM_EINVAL, "TL: %s is not a %s", name, tl_types[as->ref].name);
    if (as && as->kind == TL_K_ANY && !(c->flags & TL_C_METHOD))
        return dm_fail(w->e, DM_EINVAL, "TL: %s is not a method call", name);
    dm_err rc = tl_put_u32(w->out, c->id);
    if (rc) return wr_nomem(w, rc);
    return enc_fields(w, v, c);
}

static dm_err enc_hex(struct wr *w, const json_t *v, size_t fixed, bool as_tl_bytes,
                      const char *what)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (!s || n % 2 || (fixed && n != fixed * 2))
        return dm_fail(w->e, DM_EINVAL, "TL: %s must be a hex string%s", what,
                       fixed ? " of the right size" : "");
    uint8_t small[64];
    uint8_t *raw = n / 2 <= sizeof small ? small : malloc(n / 2 + 1);
    if (!raw) return dm_fail(w->e, DM_ENOMEM, "TL: out of memory");
    dm_err rc = DM_OK;
    if (!unhex(s, n, raw))
        rc = dm_fail(w->e, DM_EINVAL, "TL: %s is not hex", what);
    else if ((rc = as_tl_bytes ? tl_put_bytes(w->out, raw, n / 2)
                               : buf_append(w->out, raw, n / 2)) != DM_OK)
        rc = wr_nomem(w, rc);
    if (raw != small) free(raw);
    return rc;
}

static dm_err enc_value(struct wr *w, const json_t *v, const struct tl_field *f, bool element,
                        const char *what)
{
    if (++w->depth > TL_MAX_DEPTH) {
        w->depth--;
        return dm_fail(w->e, DM_EINVAL, "TL: nested deeper than %d", TL_MAX_DEPTH);
    }
    dm_err rc = DM_OK;
    if (f->vector && !element) {
        if (!json_is_array(v)) {
            rc = dm_fail(w->e, DM_EINVAL, "TL: %s must be an array", what);
        } else {
            size_t n = json_array_size(v);
            if (f->vector == TL_VEC_BOXED) rc = tl_put_u32(w->out, TL_ID_vector);
            if (!rc && n > UINT32_MAX) rc = DM_ETOOBIG;
            if (!rc) rc = tl_put_u32(w->out, (uint32_t)n);
            if (rc) rc = wr_nomem(w, rc);
            for (size_t i = 0; i < n && !rc; i++)
                rc = enc_value(w, json_array_get(v, i), f, true, what);
        }
        w->depth--;
        return rc;
    }
    switch ((enum tl_kind)f->kind) {
    case TL_K_INT:
    case TL_K_FLAGS:
        if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
            json_integer_value(v) > UINT32_MAX)
            rc = dm_fail(w->e, DM_EINVAL, "TL: %s must be a 32-bit integer", what);
        else if ((rc = tl_put_u32(w->out, (uint32_t)json_integer_value(v))) != DM_OK)
            rc = wr_nomem(w, rc);
        break;
    case TL_K_LONG: {
        int64_t x = 0;
        if (json_is_integer(v)) {
            x = json_integer_value(v);
        } else if (json_is_string(v)) {
            char *end;
            errno = 0;
            x = strtoll(json_string_value(v), &end, 10);
            if (errno || *end || end == json_string_value(v))
                rc = dm_fail(w->e, DM_EINVAL, "TL: %s is not a 64-bit integer", what);
        } else {
            rc = dm_fail(w->e, DM_EINVAL, "TL: %s must be an integer", what);
        }
        if (!rc && (rc = tl_put_u64(w->out, (uint64_t)x)) != DM_OK) rc = wr_nomem(w, rc);
        break;
    }
    case TL_K_DOUBLE:
        if (!json_is_number(v)) {
            rc = dm_fail(w->e, DM_EINVAL, "TL: %s must be a number", what);
        } else {
            double d = json_number_value(v);
            uint64_t u;
            memcpy(&u, &d, sizeof u);
            if ((rc = tl_put_u64(w->out, u)) != DM_OK) rc = wr_nomem(w, rc);
        }
        break;
    case TL_K_INT128:
        rc = enc_hex(w, v, 16, false, what);
        break;
    case TL_K_INT256:
        rc = enc_hex(w, v, 32, false, what);
        break;
    case TL_K_BYTES:
        rc = enc_hex(w, v, 0, true, what);
        break;
    case TL_K_STRING:
        if (!json_is_string(v))
            rc = dm_fail(w->e, DM_EINVAL, "TL: %s must be a string", what);
        else if ((rc = tl_put_bytes(w->out, json_string_value(v), json_string_length(v))) != DM_OK)
            rc = wr_nomem(w, rc);
        break;
    case TL_K_BOOL:
        if (!json_is_boolean(v))
            rc = dm_fail(w->e, DM_EINVAL, "TL: %s must be true or false", what);
        else if ((rc = tl_put_u32(w->out, json_is_true(v) ? TL_ID_boolTrue : TL_ID_boolFalse)) !=
                 DM_OK)
            rc = wr_nomem(w, rc);
        break;
    case TL_K_TRUE:
        break;
    case TL_K_BARE:
        rc = enc_fields(w, v, &tl_ctors[f->ref]);
        break;
    case TL_K_TYPE:
    case TL_K_ANY:
    case TL_K_OBJECT:
        if (!json_is_object(v))
            rc = dm_fail(w->e, DM_EINVAL, "TL: %s must be an object", what);
        else
            rc = enc_boxed(w, v, f);
        break;
    default:
        rc = dm_fail(w->e, DM_EINVAL, "TL: bad field kind %d", f->kind);
    }
    w->depth--;
    return rc;
}

dm_err tl_encode(struct buf *out, const json_t *v, const struct tl_field *as, struct dm_error *e)
{
    struct wr w = {out, 0, e};
    if (as) return enc_value(&w, v, as, false, "value");
    if (!json_is_object(v)) return dm_fail(e, DM_EINVAL, "TL: the value must be an object");
    return enc_boxed(&w, v, NULL);
}

const struct tl_field *tl_call_result(const json_t *call)
{
    for (int depth = 0; depth < TL_MAX_DEPTH && json_is_object(call); depth++) {
        const struct tl_ctor *c =
            tl_ctor_by_name(json_string_value(json_object_get(call, "_")) ?: "");
        if (!c || !(c->flags & TL_C_METHOD)) return NULL;
        const struct tl_field *r = &tl_fields[c->result];
        if (r->kind != TL_K_ANY) return r;
        call = json_object_get(call, "query");
    }
    return NULL;
}

/* ---- accessors ---- */

bool tl_is(const json_t *obj, const char *ctor_name)
{
    const char *n = json_string_value(json_object_get(obj, "_"));
    return n && strcmp(n, ctor_name) == 0;
}

static const char *ctor_of(const json_t *obj)
{
    const char *n = json_string_value(json_object_get(obj, "_"));
    return n ? n : "object";
}

static dm_err missing(const json_t *obj, const char *field, const char *want, struct dm_error *e)
{
    return dm_fail(e, DM_EPROTO, "%s.%s: missing or not %s", ctor_of(obj), field, want);
}

dm_err tl_get_int(const json_t *obj, const char *field, int32_t *out, struct dm_error *e)
{
    const json_t *v = json_object_get(obj, field);
    if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
        json_integer_value(v) > INT32_MAX)
        return missing(obj, field, "an int", e);
    *out = (int32_t)json_integer_value(v);
    return DM_OK;
}

dm_err tl_get_long(const json_t *obj, const char *field, int64_t *out, struct dm_error *e)
{
    const json_t *v = json_object_get(obj, field);
    if (!json_is_integer(v)) return missing(obj, field, "a long", e);
    *out = json_integer_value(v);
    return DM_OK;
}

dm_err tl_get_bool(const json_t *obj, const char *field, bool *out, struct dm_error *e)
{
    const json_t *v = json_object_get(obj, field);
    if (!v) { /* an absent flags.N?true is false */
        *out = false;
        return DM_OK;
    }
    if (!json_is_boolean(v)) return missing(obj, field, "a Bool", e);
    *out = json_is_true(v);
    return DM_OK;
}

dm_err tl_get_str(const json_t *obj, const char *field, const char **out, struct dm_error *e)
{
    const json_t *v = json_object_get(obj, field);
    if (!json_is_string(v)) return missing(obj, field, "a string", e);
    *out = json_string_value(v);
    return DM_OK;
}

dm_err tl_get_bytes(const json_t *obj, const char *field, uint8_t *out, size_t cap, size_t *len,
                    struct dm_error *e)
{
    const json_t *v = json_object_get(obj, field);
    size_t n = json_string_length(v);
    if (!json_is_string(v) || n % 2) return missing(obj, field, "bytes", e);
    if (n / 2 > cap)
        return dm_fail(e, DM_EPROTO, "%s.%s: %zu bytes, at most %zu expected", ctor_of(obj), field,
                       n / 2, cap);
    if (!unhex(json_string_value(v), n, out)) return missing(obj, field, "bytes", e);
    *len = n / 2;
    return DM_OK;
}

dm_err tl_get_obj(const json_t *obj, const char *field, const json_t **out, struct dm_error *e)
{
    const json_t *v = json_object_get(obj, field);
    if (!json_is_object(v) && !json_is_array(v)) return missing(obj, field, "an object", e);
    *out = v;
    return DM_OK;
}
