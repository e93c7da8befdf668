#include "core/common.h"

#include <ctype.h>

static const char *const err_strings[] = {
#define DM_ERR_STR(name, str) str,
    DM_ERR_MAP(DM_ERR_STR)
#undef DM_ERR_STR
};

static const char *const err_names[] = {
#define DM_ERR_NAME(name, str) #name,
    DM_ERR_MAP(DM_ERR_NAME)
#undef DM_ERR_NAME
};

const char *dm_strerror(dm_err code)
{
    if ((unsigned)code >= DM_ERR_COUNT) return "unknown error";
    return err_strings[code];
}

const char *dm_errname(dm_err code)
{
    static _Thread_local char lower[32];
    const char *n = (unsigned)code >= DM_ERR_COUNT ? "UNKNOWN" : err_names[code];
    size_t i = 0;
    for (; n[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)n[i]);
    lower[i] = 0;
    return lower;
}

dm_err dm_fail(struct dm_error *e, dm_err code, const char *fmt, ...)
{
    if (!e) return code;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    dm_vsnprintf_utf8(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

size_t dm_strlcpy(char *dst, const char *src, size_t n)
{
    size_t len = strlen(src);
    if (n == 0) return len;
    size_t c = len < n ? len : n - 1;
    if (c < len) /* do not cut a UTF-8 sequence in half */
        while (c > 0 && ((unsigned char)src[c] & 0xC0) == 0x80)
            c--;
    memcpy(dst, src, c);
    dst[c] = 0;
    return len;
}

int dm_utf8_char(const unsigned char *s, size_t *len)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    *len = 1;
    if (c < 0x80) return DM_UTF8_CHAR;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 4;
    else
        return DM_UTF8_BAD;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
    for (size_t i = 1; i < need; i++) {
        if (s[i] < lo || s[i] > hi) {
            *len = i;
            return DM_UTF8_CUT;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    *len = need;
    return DM_UTF8_CHAR;
}

size_t dm_utf8_copy(char *dst, size_t n, const char *src)
{
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    if (n == 0) return 0;
    bool in_place = dst == src;
    const unsigned char *s = (const unsigned char *)src;
    size_t w = 0;
    while (*s) {
        size_t k;
        int kind = dm_utf8_char(s, &k);
        const char *piece = (const char *)s;
        s += k;
        if (kind == DM_UTF8_CUT || (kind == DM_UTF8_BAD && in_place)) continue;
        if (kind == DM_UTF8_BAD) {
            piece = replacement;
            k = sizeof replacement - 1;
        }
        if (w + k > n - 1) break;
        memmove(dst + w, piece, k);
        w += k;
    }
    dst[w] = 0;
    return w;
}

int dm_vsnprintf_utf8(char *dst, size_t n, const char *fmt, va_list ap)
{
    if (n == 0) return 0;
    char small[1024];
    char *tmp = n <= sizeof small ? small : malloc(n);
    if (!tmp) { /* format in place: bad bytes are then dropped, never replaced */
        vsnprintf(dst, n, fmt, ap);
        return (int)dm_utf8_copy(dst, n, dst);
    }
    vsnprintf(tmp, n, fmt, ap);
    int w = (int)dm_utf8_copy(dst, n, tmp);
    if (tmp != small) free(tmp);
    return w;
}

int dm_snprintf_utf8(char *dst, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = dm_vsnprintf_utf8(dst, n, fmt, ap);
    va_end(ap);
    return w;
}
