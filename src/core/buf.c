#include "core/common.h"
#include "core/buf.h"

void buf_init(struct buf *b, size_t cap)
{
    b->data = NULL;
    b->len = b->alloc = 0;
    b->cap = cap;
}

void buf_release(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

static dm_err buf_grow(struct buf *b, size_t extra)
{
    if (extra > b->cap || b->len > b->cap - extra) return DM_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->alloc) return DM_OK;
    size_t n = b->alloc ? b->alloc : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    char *p = realloc(b->data, n);
    if (!p) return DM_ENOMEM;
    b->data = p;
    b->alloc = n;
    return DM_OK;
}

dm_err buf_append(struct buf *b, const void *p, size_t n)
{
    dm_err e = buf_grow(b, n);
    if (e) return e;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return DM_OK;
}

dm_err buf_reserve(struct buf *b, size_t n)
{
    dm_err e = buf_grow(b, n);
    if (!e) b->data[b->len] = 0;
    return e;
}

dm_err buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

dm_err buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return DM_EINVAL;
    dm_err e = buf_grow(b, (size_t)n);
    if (e) return e;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return DM_OK;
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p = b->data;
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->alloc = 0;
    return p;
}
