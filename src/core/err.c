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
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
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
