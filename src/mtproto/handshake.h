/* handshake.h: creating an auth key (core.telegram.org/mtproto/auth_key) as a pure state
 * machine: it turns each server answer into the next request body and never does I/O, so the
 * official worked example can drive it end to end and tgsim can be tested against it.
 *
 * Flow: handshake_start() gives req_pq_multi; each handshake_step() takes the body of the
 * server's unencrypted answer and gives req_DH_params, then set_client_DH_params; after
 * dh_gen_ok the state is HS_DONE and auth_key / server_salt / server_time are set (dh_gen_retry
 * is answered with a new g_b, up to HS_MAX_RETRIES times). Every check the docs require is
 * made: nonces, the answer's SHA1, the DH prime and generator, g_a and g_b ranges, and
 * new_nonce_hash1/2/3. A struct handshake holds key material: handshake_release() wipes it. */
#ifndef DM_MTPROTO_HANDSHAKE_H
#define DM_MTPROTO_HANDSHAKE_H

#include "core/common.h"
#include "core/buf.h"
#include "mtproto/crypto.h"

enum hs_state { HS_IDLE, HS_WAIT_RESPQ, HS_WAIT_DH_PARAMS, HS_WAIT_DH_ANSWER, HS_DONE, HS_FAILED };
#define HS_MAX_RETRIES 5

struct handshake {
    /* inputs, set before handshake_start (keys and rnd_ctx are borrowed) */
    int dc_id; /* as sent in p_q_inner_data: +10000 for test DCs, negative for media */
    int32_t temp_expires_in; /* 0: a permanent key; else a temporary one living this many seconds */
    const struct crypto_rsa_key *keys;
    size_t nkeys;
    crypto_random_fn rnd;
    void *rnd_ctx;
    /* results, valid in HS_DONE */
    uint8_t auth_key[256];
    int64_t server_salt;
    int32_t server_time;
    /* private */
    enum hs_state state;
    int retries;
    int g;
    uint64_t retry_id;
    uint8_t nonce[16], server_nonce[16], new_nonce[32], tmp_key[32], tmp_iv[32], prime[256],
        g_a[256];
};

void handshake_init(struct handshake *h, int dc_id, const struct crypto_rsa_key *keys, size_t nkeys,
                    crypto_random_fn rnd, void *rnd_ctx);
void handshake_release(struct handshake *h);
/* Appends the req_pq_multi body. */
dm_err handshake_start(struct handshake *h, struct buf *req, struct dm_error *e);
/* Takes an answer body; appends the next request body to req (nothing once HS_DONE). A failed
 * check puts the handshake in HS_FAILED; start a new one on a new connection. */
dm_err handshake_step(struct handshake *h, const uint8_t *answer, size_t len, struct buf *req,
                      struct dm_error *e);

/* Unencrypted messages (auth_key_id 0, msg_id, length, body), used only by the handshake. */
dm_err mt_plain_wrap(int64_t msg_id, const uint8_t *body, size_t len, struct buf *out);
/* Checks the envelope of p[0..n) and points *body at the body. */
dm_err mt_plain_unwrap(const uint8_t *p, size_t n, int64_t *msg_id, const uint8_t **body,
                       size_t *len, struct dm_error *e);

#endif
