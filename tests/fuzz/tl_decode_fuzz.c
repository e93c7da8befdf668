/* libFuzzer target: the TL decoder on hostile bytes, boxed and as a method's result shape.
 * fuzz-sources: src/mtproto/tl_codec.c src/mtproto/gzip.c src/mtproto/tl/schema.c
 * src/mtproto/tl/errors.c src/core/buf.c src/core/err.c fuzz-pkgs: jansson zlib */
#include "core/common.h"

#include "core/buf.h"
#include "mtproto/tl_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_and_reencode(const uint8_t *p, size_t n, const struct tl_field *as)
{
    json_t *v = NULL;
    struct dm_error e;
    size_t used = 0;
    if (tl_decode(p, n, as, &v, &used, &e) == DM_OK) {
        if (used > n) abort();
        /* whatever decodes must encode again (flags are recomputed, so bytes may differ) */
        struct buf out;
        buf_init(&out, 64u << 20);
        if (tl_encode(&out, v, as, &e) != DM_OK) abort();
        buf_release(&out);
        json_decref(v);
    }
    /* skipping agrees with decoding */
    size_t skipped = 0;
    dm_err a = tl_decode(p, n, as, NULL, &skipped, NULL);
    if ((a == DM_OK) != (v != NULL) || (a == DM_OK && skipped != used)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_and_reencode(data, size, NULL);
    if (size >= 2) { /* the first two bytes pick a method; the rest is read as its result */
        const struct tl_ctor *c = &tl_ctors[(data[0] | data[1] << 8) % TL_NCTORS];
        if (c->flags & TL_C_METHOD) decode_and_reencode(data + 2, size - 2, &tl_fields[c->result]);
    }
    return 0;
}
