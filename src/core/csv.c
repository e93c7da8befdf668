#include "core/common.h"
#include "core/csv.h"

bool csv_is_formula(const char *s)
{
    return *s && strchr("=+-@\t\r", *s);
}

static dm_err separator(struct buf *b, bool first)
{
    return first ? DM_OK : buf_append(b, ",", 1);
}

dm_err csv_text(struct buf *b, bool first, const char *s)
{
    bool formula = csv_is_formula(s);
    dm_err e = separator(b, first);
    if (!e) e = buf_append(b, formula ? "\"'" : "\"", formula ? 2 : 1);
    const char *run = s; /* bytes that go as they are, up to s */
    while (!e && *s) {
        size_t len = 0;
        int kind = dm_utf8_char((const unsigned char *)s, &len);
        if (kind == DM_UTF8_CHAR && *s != '"') {
            s += len;
            continue;
        }
        e = buf_append(b, run, (size_t)(s - run));
        if (!e && kind == DM_UTF8_CHAR) e = buf_append(b, "\"\"", 2);
        if (!e && kind == DM_UTF8_BAD) e = buf_append(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
        s += len; /* a character cut short is dropped */
        run = s;
    }
    if (!e) e = buf_append(b, run, (size_t)(s - run));
    return e ? e : buf_append(b, "\"", 1);
}

dm_err csv_int(struct buf *b, bool first, int64_t v)
{
    dm_err e = separator(b, first);
    return e ? e : buf_printf(b, "%" PRId64, v);
}

dm_err csv_raw(struct buf *b, bool first, const char *s)
{
    dm_err e = separator(b, first);
    return e ? e : buf_puts(b, s);
}

dm_err csv_end_record(struct buf *b)
{
    return buf_append(b, "\r\n", 2);
}
