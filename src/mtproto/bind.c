#include "core/common.h"

#include "mtproto/bind.h"
#include "mtproto/tl_codec.h"

#include <openssl/crypto.h>

#define INNER_LEN 40 /* bind_auth_key_inner: constructor + 4 longs + 1 int */

dm_err mt_bind_encode(const uint8_t perm_key[CRYPTO_AUTH_KEY_SIZE], const struct mt_bind *b,
                      int64_t msg_id, crypto_random_fn rnd, void *rnd_ctx, struct buf *out,
                      struct dm_error *e)
{
    uint8_t random[16];
    struct buf plain, enc;
    buf_init(&plain, 32 + INNER_LEN);
    buf_init(&enc, 128);
    dm_err rc = rnd(rnd_ctx, random, sizeof random) ? DM_ECRYPTO : DM_OK;
    if (!rc) rc = buf_append(&plain, random, sizeof random); /* in place of salt and session */
    if (!rc) rc = tl_put_u64(&plain, (uint64_t)msg_id);
    if (!rc) rc = tl_put_u32(&plain, 0); /* seqno */
    if (!rc) rc = tl_put_u32(&plain, INNER_LEN);
    if (!rc) rc = tl_put_u32(&plain, TL_ID_bind_auth_key_inner);
    if (!rc) rc = tl_put_u64(&plain, (uint64_t)b->nonce);
    if (!rc) rc = tl_put_u64(&plain, b->temp_auth_key_id);
    if (!rc) rc = tl_put_u64(&plain, b->perm_auth_key_id);
    if (!rc) rc = tl_put_u64(&plain, (uint64_t)b->temp_session_id);
    if (!rc) rc = tl_put_u32(&plain, (uint32_t)b->expires_at);
    if (rc)
        dm_fail(e, rc, "bind: cannot build the binding message");
    else
        rc = crypto_v1_encrypt(perm_key, (const uint8_t *)plain.data, plain.len, rnd, rnd_ctx, &enc,
                               e);
    OPENSSL_cleanse(plain.data, plain.len);
    buf_release(&plain);
    if (!rc) {
        rc = tl_put_u32(out, TL_ID_auth_bindTempAuthKey);
        if (!rc) rc = tl_put_u64(out, b->perm_auth_key_id);
        if (!rc) rc = tl_put_u64(out, (uint64_t)b->nonce);
        if (!rc) rc = tl_put_u32(out, (uint32_t)b->expires_at);
        if (!rc) rc = tl_put_bytes(out, enc.data, enc.len);
        if (rc) dm_fail(e, rc, "bind: cannot encode auth.bindTempAuthKey");
    }
    buf_release(&enc);
    return rc;
}

dm_err mt_bind_open(const uint8_t perm_key[CRYPTO_AUTH_KEY_SIZE], const uint8_t *enc, size_t len,
                    struct mt_bind *b, int64_t *msg_id, struct dm_error *e)
{
    struct buf plain;
    buf_init(&plain, 128);
    dm_err rc = crypto_v1_decrypt(perm_key, enc, len, &plain, e);
    const uint8_t *p = (const uint8_t *)plain.data;
    if (!rc && (plain.len != 32 + INNER_LEN || tl_read_u32(p + 24) != 0 ||
                tl_read_u32(p + 32) != TL_ID_bind_auth_key_inner))
        rc = dm_fail(e, DM_ECRYPTO, "bind: not a bind_auth_key_inner with seqno 0");
    if (!rc) {
        *msg_id = (int64_t)tl_read_u64(p + 16);
        b->nonce = (int64_t)tl_read_u64(p + 36);
        b->temp_auth_key_id = tl_read_u64(p + 44);
        b->perm_auth_key_id = tl_read_u64(p + 52);
        b->temp_session_id = (int64_t)tl_read_u64(p + 60);
        b->expires_at = (int32_t)tl_read_u32(p + 68);
    }
    OPENSSL_cleanse(plain.data, plain.len);
    buf_release(&plain);
    return rc;
}
