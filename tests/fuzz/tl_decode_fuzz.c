// clang-format off
/* libFuzzer target: the TL decoder on hostile bytes, boxed (gzip_packed refused, and on an
 * allowance) and as a method's result shape (on an allowance). (clang-format is off here: fuzz.sh
 * reads the fuzz-sources and fuzz-pkgs lines as they are.)
 * fuzz-sources: src/mtproto/tl_codec.c src/mtproto/gzip.c src/mtproto/tl/schema.c src/mtproto/tl/errors.c src/core/buf.c src/core/err.c
 * fuzz-pkgs: jansson zlib */
// clang-format on
#include "core/common.h"

#include "core/buf.h"
#include "mtproto/tl_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes p[0..n) with gzip_packed refused (packed false, as tl_decode) or on an allowance. */
static void decode_and_reencode(const uint8_t *p, size_t n, const struct tl_field *as, bool packed)
{
    json_t *v = NULL;
    struct dm_error e;
    size_t used = 0;
    struct tl_inflate gz = TL_INFLATE_INIT, gz2 = TL_INFLATE_INIT;
    dm_err rc =
        packed ? tl_decode_gz(p, n, as, &gz, &v, &used, &e) : tl_decode(p, n, as, &v, &used, &e);
    if (gz.inside || gz.left > TL_MAX_GZIP)
        abort(); /* cleared after every gzip_packed; never grows */
    if (rc == DM_OK) {
        if (used > n) abort();
        /* whatever decodes must encode again (flags are recomputed, so bytes may differ) */
        struct buf out;
        buf_init(&out, 64u << 20);
        if (tl_encode(&out, v, as, &e) != DM_OK) abort();
        buf_release(&out);
        json_decref(v);
    }
    /* skipping agrees with decoding, and spends the same allowance */
    size_t skipped = 0;
    dm_err a = tl_decode_gz(p, n, as, packed ? &gz2 : NULL, NULL, &skipped, NULL);
    if ((a == DM_OK) != (rc == DM_OK) || (a == DM_OK && (skipped != used || gz.left != gz2.left)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_and_reencode(data, size, NULL, false);
    decode_and_reencode(data, size, NULL, true);
    if (size >= 2) { /* the first two bytes pick a method; the rest is read as its result */
        const struct tl_ctor *c = &tl_ctors[(data[0] | data[1] << 8) % TL_NCTORS];
        if (c->flags & TL_C_METHOD)
            decode_and_reencode(data + 2, size - 2, &tl_fields[c->result], true);
    }
    return 0;
}
