/* fold.c: NFKC + case folding through utf8proc (see fold.h). */
#include "core/common.h"
#include "core/fold.h"

#include <pthread.h>
#include <utf8proc.h>

#include "core/buf.h"

#define FOLD_OPTIONS (UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD)

/* Copies s with each invalid UTF-8 sequence replaced by U+FFFD (utf8proc refuses invalid
 * text whole). */
static dm_err valid_copy(const char *s, size_t len, char **out)
{
    struct buf b;
    buf_init(&b, 3 * len + 1);
    dm_err e = buf_append(&b, "", 0);
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    for (size_t i = 0; i < len && !e;) {
        utf8proc_int32_t cp = 0;
        utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n > 0 && cp != 0) {
            e = buf_append(&b, p + i, (size_t)n);
            i += (size_t)n;
        } else {
            e = buf_append(&b, "\xEF\xBF\xBD", 3);
            i += n > 0 ? (size_t)n : 1;
        }
    }
    if (e) {
        buf_release(&b);
        return e;
    }
    *out = buf_detach(&b, NULL);
    return DM_OK;
}

bool fold_has_word(const char *s, size_t len, int n)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    int run = 0;
    for (size_t i = 0; i < len && run < n;) {
        utf8proc_int32_t cp = -1;
        utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
        utf8proc_category_t c = k > 0 ? utf8proc_category(cp) : UTF8PROC_CATEGORY_CN;
        bool word = (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
                    (c >= UTF8PROC_CATEGORY_ND && c <= UTF8PROC_CATEGORY_NO);
        run = word ? run + 1 : 0;
        i += k > 0 ? (size_t)k : 1;
    }
    return run >= n;
}

/* Text of ASCII only but NUL: NFKC leaves it as it is and case folding maps A-Z to a-z, and
 * nothing else (Unicode's CaseFolding.txt), so it folds without utf8proc, which decomposes,
 * folds and composes again each character (5% of the instructions of recording a request,
 * issue 12). Whether s is such text. */
static bool plain_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == 0 || (unsigned char)s[i] >= 0x80) return false;
    return true;
}

dm_err fold_text(const char *s, size_t len, char **out, size_t *out_len)
{
    *out = NULL;
    if (plain_ascii(s, len)) {
        char *folded = malloc(len + 1);
        if (!folded) return DM_ENOMEM;
        for (size_t i = 0; i < len; i++)
            folded[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        folded[len] = 0;
        *out = folded;
        if (out_len) *out_len = len;
        return DM_OK;
    }
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t n =
        utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &folded, FOLD_OPTIONS);
    if (n == UTF8PROC_ERROR_INVALIDUTF8 || (n >= 0 && memchr(s, 0, len))) {
        free(folded);
        char *valid = NULL;
        dm_err e = valid_copy(s, len, &valid);
        if (e) return e;
        n = utf8proc_map((const utf8proc_uint8_t *)valid, (utf8proc_ssize_t)strlen(valid), &folded,
                         FOLD_OPTIONS);
        free(valid);
    }
    if (n < 0) {
        free(folded);
        return n == UTF8PROC_ERROR_NOMEM ? DM_ENOMEM : DM_EINVAL;
    }
    *out = (char *)folded;
    if (out_len) *out_len = (size_t)n;
    return DM_OK;
}

static char version[64];

static void version_init(void)
{
    snprintf(version, sizeof version, "nfkc-casefold/unicode-%s", utf8proc_unicode_version());
}

const char *fold_version(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, version_init);
    return version;
}
