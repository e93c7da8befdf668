#include "core/common.h"

#include "mtproto/handshake.h"
#include "mtproto/tl_codec.h"

#include <openssl/crypto.h>

void handshake_init(struct handshake *h, int dc_id, const struct crypto_rsa_key *keys, size_t nkeys,
                    crypto_random_fn rnd, void *rnd_ctx)
{
    memset(h, 0, sizeof *h);
    h->dc_id = dc_id;
    h->keys = keys;
    h->nkeys = nkeys;
    h->rnd = rnd;
    h->rnd_ctx = rnd_ctx;
}

void handshake_release(struct handshake *h)
{
    OPENSSL_cleanse(h, sizeof *h);
}

static dm_err fail(struct handshake *h, struct dm_error *e, dm_err code, const char *msg)
{
    h->state = HS_FAILED;
    return dm_fail(e, code, "handshake: %s", msg);
}

static dm_err random_bytes(struct handshake *h, uint8_t *out, size_t n, struct dm_error *e)
{
    return h->rnd(h->rnd_ctx, out, n) ? fail(h, e, DM_ECRYPTO, "no random bytes") : DM_OK;
}

/* Encodes v (consumed) into out. */
static dm_err encode(struct handshake *h, json_t *v, struct buf *out, struct dm_error *e)
{
    if (!v) return fail(h, e, DM_ENOMEM, "out of memory");
    dm_err rc = tl_encode(out, v, NULL, e);
    json_decref(v);
    if (rc) h->state = HS_FAILED;
    return rc;
}

dm_err handshake_start(struct handshake *h, struct buf *req, struct dm_error *e)
{
    dm_err rc = random_bytes(h, h->nonce, 16, e);
    if (rc) return rc;
    json_t *nonce = tl_hex(h->nonce, 16);
    rc = encode(h, nonce ? json_pack("{s:s,s:o}", "_", "req_pq_multi", "nonce", nonce) : NULL, req,
                e);
    if (!rc) h->state = HS_WAIT_RESPQ;
    return rc;
}

/* Decodes an answer and checks its constructor and nonces. tl_decode() accepts no gzip_packed:
 * nothing is compressed before a key exists, and anyone on the path can write these bytes. */
static dm_err decode_answer(struct handshake *h, const uint8_t *p, size_t n, json_t **out,
                            struct dm_error *e)
{
    if (tl_decode(p, n, NULL, out, NULL, e)) {
        h->state = HS_FAILED;
        return DM_EPROTO;
    }
    uint8_t nonce[16], server_nonce[16];
    size_t len;
    if (tl_get_bytes(*out, "nonce", nonce, 16, &len, e) || CRYPTO_memcmp(nonce, h->nonce, 16) != 0)
        return json_decref(*out), fail(h, e, DM_EPROTO, "the server's nonce differs from ours");
    if (h->state != HS_WAIT_RESPQ &&
        (tl_get_bytes(*out, "server_nonce", server_nonce, 16, &len, e) ||
         CRYPTO_memcmp(server_nonce, h->server_nonce, 16) != 0))
        return json_decref(*out), fail(h, e, DM_EPROTO, "the server_nonce changed");
    return DM_OK;
}

static void be_bytes(uint64_t v, uint8_t *out, size_t *len)
{
    uint8_t tmp[8];
    size_t n = 0;
    for (int i = 7; i >= 0; i--) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        if (n || b) tmp[n++] = b;
    }
    memcpy(out, tmp, n);
    *len = n;
}

static dm_err on_res_pq(struct handshake *h, const json_t *res, struct buf *req, struct dm_error *e)
{
    if (!tl_is(res, "resPQ")) return fail(h, e, DM_EPROTO, "expected resPQ");
    size_t len;
    uint8_t pqb[8];
    if (tl_get_bytes(res, "server_nonce", h->server_nonce, 16, &len, e) || len != 16 ||
        tl_get_bytes(res, "pq", pqb, 8, &len, e) || len == 0)
        return fail(h, e, DM_EPROTO, "resPQ is malformed");
    uint64_t pq = 0;
    for (size_t i = 0; i < len; i++)
        pq = pq << 8 | pqb[i];
    uint32_t p, q;
    if (crypto_factorize(pq, &p, &q, e)) return h->state = HS_FAILED, DM_EPROTO;
    const struct crypto_rsa_key *key = NULL;
    const json_t *fps = json_object_get(res, "server_public_key_fingerprints");
    for (size_t i = 0; i < json_array_size(fps) && !key; i++)
        for (size_t k = 0; k < h->nkeys && !key; k++)
            if (json_integer_value(json_array_get(fps, i)) == h->keys[k].fingerprint)
                key = &h->keys[k];
    if (!key)
        return fail(h, e, DM_ECRYPTO,
                    "the server offers none of our RSA keys (check the configured key)");
    dm_err rc = random_bytes(h, h->new_nonce, 32, e);
    if (rc) return rc;

    uint8_t pb[8], qb[8];
    size_t pl, ql;
    be_bytes(p, pb, &pl);
    be_bytes(q, qb, &ql);
    json_t *inner = json_pack(
        "{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:i}", "_",
        h->temp_expires_in ? "p_q_inner_data_temp_dc" : "p_q_inner_data_dc", "pq", tl_hex(pqb, len),
        "p", tl_hex(pb, pl), "q", tl_hex(qb, ql), "nonce", tl_hex(h->nonce, 16), "server_nonce",
        tl_hex(h->server_nonce, 16), "new_nonce", tl_hex(h->new_nonce, 32), "dc", h->dc_id);
    if (inner && h->temp_expires_in)
        json_object_set_new(inner, "expires_in", json_integer(h->temp_expires_in));
    struct buf data;
    buf_init(&data, 192);
    rc = encode(h, inner, &data, e);
    uint8_t enc[256];
    if (!rc && (rc = crypto_rsa_pad_encrypt(key, (uint8_t *)data.data, data.len, h->rnd, h->rnd_ctx,
                                            enc, e)) != DM_OK)
        h->state = HS_FAILED;
    OPENSSL_cleanse(data.data, data.len);
    buf_release(&data);
    if (rc) return rc;
    rc = encode(h,
                json_pack("{s:s,s:o,s:o,s:o,s:o,s:I,s:o}", "_", "req_DH_params", "nonce",
                          tl_hex(h->nonce, 16), "server_nonce", tl_hex(h->server_nonce, 16), "p",
                          tl_hex(pb, pl), "q", tl_hex(qb, ql), "public_key_fingerprint",
                          (json_int_t)key->fingerprint, "encrypted_data", tl_hex(enc, 256)),
                req, e);
    if (!rc) h->state = HS_WAIT_DH_PARAMS;
    return rc;
}

/* client_DH_inner_data with a fresh b; computes auth_key. */
static dm_err send_client_dh(struct handshake *h, struct buf *req, struct dm_error *e)
{
    uint8_t b[256], g_b[256], gb = (uint8_t)h->g;
    dm_err rc = random_bytes(h, b, 256, e);
    if (!rc && (rc = crypto_mod_exp(&gb, 1, b, 256, h->prime, g_b, e)) == DM_OK &&
        (rc = crypto_dh_check_value(g_b, 256, h->prime, "g_b", e)) == DM_OK)
        rc = crypto_mod_exp(h->g_a, 256, b, 256, h->prime, h->auth_key, e);
    OPENSSL_cleanse(b, sizeof b);
    if (rc) return h->state = HS_FAILED, rc;
    struct buf data;
    buf_init(&data, 1024);
    uint8_t hash[20] = {0};
    buf_append(&data, hash, 20); /* room for SHA1(data) */
    rc = encode(h,
                json_pack("{s:s,s:o,s:o,s:I,s:o}", "_", "client_DH_inner_data", "nonce",
                          tl_hex(h->nonce, 16), "server_nonce", tl_hex(h->server_nonce, 16),
                          "retry_id", (json_int_t)h->retry_id, "g_b", tl_hex(g_b, 256)),
                &data, e);
    if (!rc) {
        crypto_sha1(hash, &(struct crypto_part){data.data + 20, data.len - 20}, 1);
        memcpy(data.data, hash, 20);
        uint8_t pad[16];
        size_t padn = (16 - data.len % 16) % 16;
        if ((rc = random_bytes(h, pad, padn, e)) == DM_OK &&
            (rc = buf_append(&data, pad, padn)) == DM_OK)
            rc = crypto_aes_ige(true, h->tmp_key, h->tmp_iv, (uint8_t *)data.data,
                                (uint8_t *)data.data, data.len);
        if (rc) fail(h, e, rc, "cannot encrypt client_DH_inner_data");
    }
    if (!rc)
        rc = encode(h,
                    json_pack("{s:s,s:o,s:o,s:o}", "_", "set_client_DH_params", "nonce",
                              tl_hex(h->nonce, 16), "server_nonce", tl_hex(h->server_nonce, 16),
                              "encrypted_data", tl_hex(data.data, data.len)),
                    req, e);
    buf_release(&data);
    if (!rc) h->state = HS_WAIT_DH_ANSWER;
    return rc;
}

static dm_err on_dh_params(struct handshake *h, const json_t *res, struct buf *req,
                           struct dm_error *e)
{
    if (tl_is(res, "server_DH_params_fail"))
        return fail(h, e, DM_ECRYPTO, "the server could not decrypt our data");
    if (!tl_is(res, "server_DH_params_ok"))
        return fail(h, e, DM_EPROTO, "expected server_DH_params_ok");
    crypto_tmp_aes(h->new_nonce, h->server_nonce, h->tmp_key, h->tmp_iv);
    uint8_t *ans = malloc(1024);
    size_t n = 0, used = 0;
    dm_err rc = DM_OK;
    json_t *inner = NULL;
    if (!ans) return fail(h, e, DM_ENOMEM, "out of memory");
    if (tl_get_bytes(res, "encrypted_answer", ans, 1024, &n, e) || n % 16 || n < 20 + 16) {
        rc = fail(h, e, DM_EPROTO, "encrypted_answer has a bad size");
    } else if (crypto_aes_ige(false, h->tmp_key, h->tmp_iv, ans, ans, n) ||
               tl_decode(ans + 20, n - 20, NULL, &inner, &used, NULL) ||
               !tl_is(inner, "server_DH_inner_data")) {
        rc = fail(h, e, DM_ECRYPTO, "encrypted_answer does not decrypt to server_DH_inner_data");
    } else {
        uint8_t sha[20], nonce[16];
        size_t l1 = 0, l2 = 0, l3 = 0;
        int32_t g = 0;
        crypto_sha1(sha, &(struct crypto_part){ans + 20, used}, 1);
        if (CRYPTO_memcmp(sha, ans, 20) != 0 || n - 20 - used >= 16)
            rc = fail(h, e, DM_ECRYPTO, "the answer's SHA1 or padding does not check");
        else if (tl_get_bytes(inner, "nonce", nonce, 16, &l1, e) ||
                 CRYPTO_memcmp(nonce, h->nonce, 16) ||
                 tl_get_bytes(inner, "server_nonce", nonce, 16, &l1, e) ||
                 CRYPTO_memcmp(nonce, h->server_nonce, 16))
            rc = fail(h, e, DM_EPROTO, "server_DH_inner_data has other nonces");
        else if (tl_get_int(inner, "g", &g, e) ||
                 tl_get_bytes(inner, "dh_prime", h->prime, 256, &l2, e) ||
                 tl_get_bytes(inner, "g_a", h->g_a, 256, &l3, e) ||
                 tl_get_int(inner, "server_time", &h->server_time, e) || l2 != 256 || l3 == 0)
            rc = fail(h, e, DM_EPROTO, "server_DH_inner_data is malformed");
        if (!rc) {
            memmove(h->g_a + 256 - l3, h->g_a, l3); /* left-pad g_a to 256 bytes */
            memset(h->g_a, 0, 256 - l3);
            if ((rc = crypto_dh_check_prime(h->prime, 256, g, e)) != DM_OK ||
                (rc = crypto_dh_check_value(h->g_a, 256, h->prime, "g_a", e)) != DM_OK)
                h->state = HS_FAILED;
            h->g = g;
        }
    }
    OPENSSL_cleanse(ans, 1024);
    free(ans);
    json_decref(inner);
    return rc ? rc : send_client_dh(h, req, e);
}

static dm_err on_dh_answer(struct handshake *h, const json_t *res, struct buf *req,
                           struct dm_error *e)
{
    static const char *const names[] = {"dh_gen_ok", "dh_gen_retry", "dh_gen_fail"};
    for (int i = 0; i < 3; i++) {
        if (!tl_is(res, names[i])) continue;
        char field[32];
        snprintf(field, sizeof field, "new_nonce_hash%d", i + 1);
        uint8_t got[16], want[16];
        size_t len;
        crypto_new_nonce_hash(h->new_nonce, i + 1, h->auth_key, want);
        if (tl_get_bytes(res, field, got, 16, &len, e) || len != 16 ||
            CRYPTO_memcmp(got, want, 16) != 0)
            return fail(h, e, DM_ECRYPTO, "new_nonce_hash does not check");
        if (i == 2) return fail(h, e, DM_ECRYPTO, "the server refused the key (dh_gen_fail)");
        if (i == 1) {
            if (++h->retries > HS_MAX_RETRIES)
                return fail(h, e, DM_ECRYPTO, "too many dh_gen_retry");
            uint8_t sha[20]; /* retry_id = auth_key_aux_hash */
            crypto_sha1(sha, &(struct crypto_part){h->auth_key, 256}, 1);
            h->retry_id = tl_read_u64(sha);
            return send_client_dh(h, req, e);
        }
        h->server_salt = (int64_t)(tl_read_u64(h->new_nonce) ^ tl_read_u64(h->server_nonce));
        h->state = HS_DONE;
        return DM_OK;
    }
    return fail(h, e, DM_EPROTO, "expected dh_gen_ok, dh_gen_retry or dh_gen_fail");
}

dm_err handshake_step(struct handshake *h, const uint8_t *answer, size_t len, struct buf *req,
                      struct dm_error *e)
{
    if (h->state != HS_WAIT_RESPQ && h->state != HS_WAIT_DH_PARAMS && h->state != HS_WAIT_DH_ANSWER)
        return dm_fail(e, DM_EINVAL, "handshake: not waiting for an answer");
    json_t *res = NULL;
    dm_err rc = decode_answer(h, answer, len, &res, e);
    if (rc) return rc;
    switch (h->state) {
    case HS_WAIT_RESPQ:
        rc = on_res_pq(h, res, req, e);
        break;
    case HS_WAIT_DH_PARAMS:
        rc = on_dh_params(h, res, req, e);
        break;
    default:
        rc = on_dh_answer(h, res, req, e);
        break;
    }
    json_decref(res);
    return rc;
}

dm_err mt_plain_wrap(int64_t msg_id, const uint8_t *body, size_t len, struct buf *out)
{
    if (len > UINT32_MAX) return DM_ETOOBIG;
    dm_err rc = tl_put_u64(out, 0);
    if (!rc) rc = tl_put_u64(out, (uint64_t)msg_id);
    if (!rc) rc = tl_put_u32(out, (uint32_t)len);
    if (!rc) rc = buf_append(out, body, len);
    return rc;
}

dm_err mt_plain_unwrap(const uint8_t *p, size_t n, int64_t *msg_id, const uint8_t **body,
                       size_t *len, struct dm_error *e)
{
    if (n < 20 || tl_read_u64(p) != 0)
        return dm_fail(e, DM_EPROTO, "handshake: not an unencrypted message");
    uint32_t l = tl_read_u32(p + 16);
    if (l != n - 20)
        return dm_fail(e, DM_EPROTO, "handshake: message length %" PRIu32 " in %zu bytes", l, n);
    *msg_id = (int64_t)tl_read_u64(p + 8);
    *body = p + 20;
    *len = l;
    return DM_OK;
}
