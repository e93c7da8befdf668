/* libFuzzer target: server-side transport detection and framing, then MTProto 2.0 message
 * decryption and TL decoding of whatever decrypts, on hostile bytes.
 * fuzz-sources: src/mtproto/transport.c src/mtproto/crypto.c src/mtproto/tl_codec.c
 * src/mtproto/gzip.c src/mtproto/tl/schema.c src/mtproto/tl/errors.c src/core/buf.c src/core/err.c
 * fuzz-pkgs: jansson zlib libcrypto */
#include "core/common.h"

#include "core/buf.h"
#include "mtproto/crypto.h"
#include "mtproto/tl_codec.h"
#include "mtproto/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t auth_key[256];
    for (int i = 0; i < 256; i++)
        auth_key[i] = (uint8_t)(i * 37 + 11);
    if (size < 1) return 0;
    size_t chunk = data[0] % 17 + 1; /* the first byte sets how the bytes arrive */
    data++, size--;
    struct transport t;
    transport_init(&t, TRANSPORT_DETECT, true, 1u << 16);
    struct buf plain;
    buf_init(&plain, 1u << 17);
    size_t pos = 0;
    while (pos < size) {
        size_t len = DM_MIN(chunk, size - pos), used;
        const uint8_t *pkt;
        size_t plen;
        bool ready;
        if (transport_read(&t, data + pos, len, &used, &pkt, &plen, &ready, NULL) != DM_OK) break;
        if (used > len) abort();
        pos += used;
        if (ready) {
            if (plen > t.max_packet) abort();
            size_t mlen;
            if (crypto_msg_decrypt(auth_key, CRYPTO_FROM_CLIENT, pkt, plen, &plain, &mlen, NULL) ==
                DM_OK)
                tl_decode((const uint8_t *)plain.data + 32, mlen - 32, NULL, NULL, NULL, NULL);
            tl_decode(pkt, plen, NULL, NULL, NULL, NULL);
        } else if (used == 0) {
            break;
        }
    }
    buf_release(&plain);
    transport_release(&t);
    return 0;
}
