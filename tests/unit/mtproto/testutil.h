/* testutil.h: tiny helpers shared by the mtproto unit tests (checks, hex, vector files,
 * replayed random bytes). */
#ifndef DM_TEST_MTPROTO_UTIL_H
#define DM_TEST_MTPROTO_UTIL_H

#include "core/common.h"

#include <jansson.h>

static int t_failures, t_checks;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        t_checks++;                                                                                \
        if (!(cond)) {                                                                             \
            t_failures++;                                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

static inline int t_hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex into a new buffer (caller frees); *n receives its size. Aborts on bad hex. */
static inline uint8_t *t_unhex(const char *s, size_t *n)
{
    size_t len = strlen(s);
    if (len % 2) abort();
    uint8_t *p = malloc(len / 2 + 1);
    if (!p) abort();
    for (size_t i = 0; i < len; i += 2) {
        int hi = t_hexval(s[i]), lo = t_hexval(s[i + 1]);
        if (hi < 0 || lo < 0) abort();
        p[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *n = len / 2;
    return p;
}

static inline bool t_eq_hex(const void *p, size_t n, const char *hex)
{
    size_t m;
    uint8_t *want = t_unhex(hex, &m);
    bool ok = m == n && memcmp(want, p, n) == 0;
    free(want);
    return ok;
}

/* Loads tests/interop/vectors/<name> (DM_SOURCE_ROOT is set by tests/unit/mtproto/meson.build). */
static inline json_t *t_vectors(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/interop/vectors/%s", DM_SOURCE_ROOT, name);
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (!j) {
        fprintf(stderr, "cannot load %s: %s (line %d)\n", path, err.text, err.line);
        exit(1);
    }
    return j;
}

static inline int t_done(const char *what)
{
    printf("%s: %d checks, %d failures\n", what, t_checks, t_failures);
    return t_failures ? 1 : 0;
}

/* Random bytes replayed from a recording: a crypto_random_fn's context (p[pos..n) are left). */
struct t_replay {
    uint8_t *p;
    size_t n, pos;
};

/* A crypto_random_fn handing out the next n recorded bytes; DM_ECRYPTO when too few are left. */
static inline dm_err t_replay_rnd(void *ctx, uint8_t *out, size_t n)
{
    struct t_replay *r = ctx;
    if (r->n - r->pos < n) return DM_ECRYPTO;
    memcpy(out, r->p + r->pos, n);
    r->pos += n;
    return DM_OK;
}

#endif
