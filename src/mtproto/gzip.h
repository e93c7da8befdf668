/* gzip.h: the gzip_packed payloads of MTProto (zlib). */
#ifndef DM_MTPROTO_GZIP_H
#define DM_MTPROTO_GZIP_H

#include "core/common.h"
#include "core/buf.h"

/* Inflates the gzip stream p[0..n) and appends the result to out. Fails with DM_ETOOBIG when the
 * output would pass `cap` bytes (out->cap also applies) and with DM_EPROTO on a corrupt or
 * truncated stream or trailing bytes. */
dm_err gzip_inflate(const uint8_t *p, size_t n, size_t cap, struct buf *out, struct dm_error *e);

/* Appends the gzip compression of p[0..n) to out (used by tgsim and tests). */
dm_err gzip_deflate(const uint8_t *p, size_t n, struct buf *out, struct dm_error *e);

#endif
