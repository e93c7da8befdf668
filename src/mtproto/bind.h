/* bind.h: binding a temporary auth key to the permanent one, for perfect forward secrecy
 * (core.telegram.org/api/pfs, core.telegram.org/method/auth.bindTempAuthKey), both sides: the
 * client builds the call, a server (tgsim) opens and checks it.
 *
 * The call auth.bindTempAuthKey(perm_auth_key_id, nonce, expires_at, encrypted_message) goes out
 * encrypted with the temporary key; encrypted_message is bind_auth_key_inner sealed with the
 * permanent key by MTProto 1.0 (crypto_v1_encrypt), its header a random int128, the msg_id the
 * call itself is sent under, seqno 0 and the length. */
#ifndef DM_MTPROTO_BIND_H
#define DM_MTPROTO_BIND_H

#include "core/common.h"
#include "core/buf.h"
#include "mtproto/crypto.h"

struct mt_bind {
    int64_t nonce;
    uint64_t temp_auth_key_id, perm_auth_key_id;
    int64_t temp_session_id; /* the session the call is sent in */
    int32_t expires_at;      /* unix time the temporary key ends */
};

/* Appends the TL body of auth.bindTempAuthKey for b, sent under msg_id. */
dm_err mt_bind_encode(const uint8_t perm_key[CRYPTO_AUTH_KEY_SIZE], const struct mt_bind *b,
                      int64_t msg_id, crypto_random_fn rnd, void *rnd_ctx, struct buf *out,
                      struct dm_error *e);

/* Opens encrypted_message with perm_key: *b gets the binding and *msg_id the msg_id sealed in
 * it. DM_ECRYPTO when it is not the key's, does not decrypt or check, or is not a
 * bind_auth_key_inner. */
dm_err mt_bind_open(const uint8_t perm_key[CRYPTO_AUTH_KEY_SIZE], const uint8_t *enc, size_t len,
                    struct mt_bind *b, int64_t *msg_id, struct dm_error *e);

#endif
