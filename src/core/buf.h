/* buf.h: a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * A buf owns its memory; buf_release() frees it and leaves the buf empty and reusable.
 * `data` is always NUL-terminated when non-NULL (the NUL is not counted in `len`), so text
 * can be read as a C string. Appending past `cap` fails with DM_ETOOBIG and leaves the
 * contents as they were. */
#ifndef DM_BUF_H
#define DM_BUF_H

#include "core/common.h"

struct buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap; /* largest len allowed */
};

void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, memory kept */
dm_err buf_append(struct buf *b, const void *p, size_t n);
/* Makes room for n more bytes at once, so that appends up to them do not reallocate (an answer
 * whose size is known roughly beforehand); DM_ETOOBIG past the cap and DM_ENOMEM leave b as it
 * was. */
dm_err buf_reserve(struct buf *b, size_t n);
dm_err buf_puts(struct buf *b, const char *s);
dm_err buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes ownership of the contents away from b (caller frees); b is left empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
