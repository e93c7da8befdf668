/* gzip.h: the gzip_packed payloads of MTProto (zlib).
 *
 * The packed_data of a gzip_packed is a gzip stream (RFC 1952, starting 1f 8b) from Telegram and
 * most clients, or a zlib stream (RFC 1950, starting 78 01 / 5e / 9c / da) from some clients in
 * the wild; Telegram accepts both, and so do we. What we write is always gzip. */
#ifndef DM_MTPROTO_GZIP_H
#define DM_MTPROTO_GZIP_H

#include "core/common.h"
#include "core/buf.h"

/* Inflates the gzip or zlib stream p[0..n) (told apart by its header) and appends the result to
 * out. Fails with DM_ETOOBIG when the output would pass `cap` bytes (out->cap also applies) and
 * with DM_EPROTO on a corrupt or truncated stream, one that needs a preset dictionary, or bytes
 * after the stream (a second gzip member included). */
dm_err gzip_inflate(const uint8_t *p, size_t n, size_t cap, struct buf *out, struct dm_error *e);

/* Appends the gzip compression of p[0..n) to out (used by tgsim and tests). */
dm_err gzip_deflate(const uint8_t *p, size_t n, struct buf *out, struct dm_error *e);

#endif
