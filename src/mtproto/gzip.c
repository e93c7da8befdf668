#include "core/common.h"

#include "mtproto/gzip.h"

#include <zlib.h>

dm_err gzip_inflate(const uint8_t *p, size_t n, size_t cap, struct buf *out, struct dm_error *e)
{
    if (n > UINT_MAX)
        return dm_fail(e, DM_ETOOBIG, "gzip_packed: %zu compressed bytes is too much", n);
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 32 + MAX_WBITS: a zlib or a gzip header, detected automatically */
    if (inflateInit2(&z, 32 + MAX_WBITS) != Z_OK)
        return dm_fail(e, DM_ENOMEM, "gzip_packed: zlib init failed");
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    size_t produced = 0;
    dm_err rc = DM_OK;
    uint8_t chunk[16384];
    for (;;) {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        int zr = inflate(&z, Z_NO_FLUSH);
        size_t got = sizeof chunk - z.avail_out;
        if (got > cap - produced) {
            rc = dm_fail(e, DM_ETOOBIG, "gzip_packed: expands past %zu bytes", cap);
            break;
        }
        if (got && (rc = buf_append(out, chunk, got)) != DM_OK) {
            dm_fail(e, rc, "gzip_packed: cannot hold %zu inflated bytes", produced + got);
            break;
        }
        produced += got;
        if (zr == Z_STREAM_END) {
            if (z.avail_in != 0)
                rc = dm_fail(e, DM_EPROTO, "gzip_packed: %u bytes after the stream", z.avail_in);
            break;
        }
        if (zr == Z_NEED_DICT) {
            rc = dm_fail(e, DM_EPROTO, "gzip_packed: the stream needs a preset dictionary");
            break;
        }
        if (zr != Z_OK && !(zr == Z_BUF_ERROR && got)) {
            rc = dm_fail(e, DM_EPROTO, "gzip_packed: corrupt or truncated stream (%s)",
                         z.msg ? z.msg : "zlib error");
            break;
        }
    }
    inflateEnd(&z);
    return rc;
}

dm_err gzip_deflate(const uint8_t *p, size_t n, struct buf *out, struct dm_error *e)
{
    if (n > UINT_MAX) return dm_fail(e, DM_ETOOBIG, "gzip: %zu bytes is too much", n);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return dm_fail(e, DM_ENOMEM, "gzip: zlib init failed");
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    dm_err rc = DM_OK;
    uint8_t chunk[16384];
    int zr;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        zr = deflate(&z, Z_FINISH);
        if ((rc = buf_append(out, chunk, sizeof chunk - z.avail_out)) != DM_OK) {
            dm_fail(e, rc, "gzip: output too large");
            break;
        }
    } while (zr == Z_OK || zr == Z_BUF_ERROR);
    if (!rc && zr != Z_STREAM_END) rc = dm_fail(e, DM_EIO, "gzip: deflate failed");
    deflateEnd(&z);
    return rc;
}
