/* err.h: one error enum for all of doorman, with its strings, made from one X-macro.
 *
 * Functions return a dm_err (DM_OK is 0) and pass outputs through pointers. Where the
 * caller needs a sentence a user can act on, the function also takes a `struct dm_error *`
 * (may be NULL) and fills it with dm_fail(). */
#ifndef DM_ERR_H
#define DM_ERR_H

#define DM_ERR_MAP(X)                                                                              \
    X(OK, "ok")                                                                                    \
    X(NOMEM, "out of memory")                                                                      \
    X(INVAL, "invalid input")                                                                      \
    X(NOTFOUND, "not found")                                                                       \
    X(EXISTS, "already exists")                                                                    \
    X(TOOBIG, "too large")                                                                         \
    X(IO, "input/output error")                                                                    \
    X(DB, "database error")                                                                        \
    X(CRYPTO, "cryptography error")                                                                \
    X(AUTH, "not authorized")                                                                      \
    X(FORBIDDEN, "forbidden")                                                                      \
    X(RATELIMIT, "rate limited")                                                                   \
    X(TIMEOUT, "timed out")                                                                        \
    X(NETWORK, "network error")                                                                    \
    X(TELEGRAM, "Telegram returned an error")                                                      \
    X(CONFLICT, "conflict")                                                                        \
    X(UNAVAILABLE, "temporarily unavailable")                                                      \
    X(PROTO, "protocol error")

typedef enum {
#define DM_ERR_ENUM(name, str) DM_E##name,
    DM_ERR_MAP(DM_ERR_ENUM)
#undef DM_ERR_ENUM
        DM_ERR_COUNT
} dm_err;

#define DM_OK DM_EOK

/* An error with a message for people. `msg` is always NUL-terminated. */
struct dm_error {
    dm_err code;
    char msg[256];
};

/* The fixed string for a code ("not found"); never NULL. */
const char *dm_strerror(dm_err code);

/* The lowercase name of a code ("notfound"), for JSON error codes; never NULL. */
const char *dm_errname(dm_err code);

/* Fills *e (if not NULL) with code and the formatted message; returns code. */
dm_err dm_fail(struct dm_error *e, dm_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies src into dst (size n > 0), truncating at a UTF-8 character boundary; returns the
 * length of src (so truncation happened when the result is >= n). */
size_t dm_strlcpy(char *dst, const char *src, size_t n);

/* Copies src into dst (size n > 0) as valid UTF-8: an incomplete character (a lead byte and
 * fewer continuation bytes than it needs, which is what cutting text at a byte count leaves) is
 * dropped, any other byte that is not UTF-8 becomes U+FFFD, and the result is cut at a
 * character boundary to fit. dst and src may be the same buffer; then bad bytes are dropped
 * instead of replaced (U+FFFD would not fit in their place). Returns the length of dst. */
size_t dm_utf8_copy(char *dst, size_t n, const char *src);

/* What the bytes at s (NUL-terminated) are: DM_UTF8_CHAR, a character (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF) of *len bytes; DM_UTF8_CUT, the first *len bytes
 * of one that ends too early (a character cut in the middle); DM_UTF8_BAD, a byte (*len = 1)
 * that starts none. */
enum { DM_UTF8_CHAR, DM_UTF8_CUT, DM_UTF8_BAD };
int dm_utf8_char(const unsigned char *s, size_t *len);

/* snprintf for text that may hold non-ASCII: formats into dst (size n > 0), then makes the
 * result valid UTF-8 as dm_utf8_copy does, so the text is cut at a character boundary, and a
 * "%.200s" that cut a character in the middle leaves none of it. Returns the length of dst
 * (not the length the whole text would have had: to append, pass dst + w and n - w). */
int dm_snprintf_utf8(char *dst, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int dm_vsnprintf_utf8(char *dst, size_t n, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
