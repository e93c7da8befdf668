/* The handshake state machine driven end to end by the official auth-key sample. */
#include "core/common.h"

#include "mtproto/gzip.h"
#include "mtproto/handshake.h"
#include "mtproto/tl_codec.h"
#include "testutil.h"

#define REPLAY_MAX 4096

/* Appends the bytes of hex to r (whose p holds REPLAY_MAX bytes). */
static void put_hex(struct t_replay *r, const char *hex)
{
    size_t n;
    uint8_t *b = t_unhex(hex, &n);
    if (r->n + n > REPLAY_MAX) abort();
    memcpy(r->p + r->n, b, n);
    r->n += n;
    free(b);
}

static const char *S(const json_t *v, const char *k)
{
    return json_string_value(json_object_get(v, k));
}

/* Encodes a server answer given as JSON text with %s holes filled from the sample. */
static void answer(struct buf *out, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    json_t *j = json_loads(text, 0, NULL);
    buf_reset(out);
    if (!j || tl_encode(out, j, NULL, NULL) != DM_OK) abort();
    json_decref(j);
}

/* Replaces the answer in out by gzip_packed(answer): no compression is accepted before a key. */
static void pack(struct buf *out)
{
    struct buf z, m;
    buf_init(&z, 1 << 16);
    buf_init(&m, 1 << 16);
    if (gzip_deflate((uint8_t *)out->data, out->len, &z, NULL) || tl_put_u32(&m, 0x3072cfa1u) ||
        tl_put_bytes(&m, z.data, z.len))
        abort();
    buf_reset(out);
    buf_append(out, m.data, m.len);
    buf_release(&z);
    buf_release(&m);
}

/* Runs the sample through a fresh handshake; `tamper` 1..3 corrupts one server answer, 4 and 5
 * send the first or the second in a gzip_packed. */
static void run(const json_t *v, const struct crypto_rsa_key *key, int tamper)
{
    uint8_t bytes[REPLAY_MAX];
    struct t_replay r = {bytes, 0, 0};
    put_hex(&r, S(v, "nonce"));
    put_hex(&r, S(v, "new_nonce"));
    put_hex(&r, S(v, "random_padding_bytes"));
    put_hex(&r,
            "0101010101010101010101010101010101010101010101010101010101010101"); /* temp_key (not in
                                                                                    the sample) */
    put_hex(&r, S(v, "b"));
    put_hex(&r, S(v, "client_padding"));
    struct handshake h;
    handshake_init(&h, (int)json_integer_value(json_object_get(v, "dc")), key, 1, t_replay_rnd, &r);
    struct dm_error e = {0};
    struct buf req, ans, msg;
    buf_init(&req, 1 << 16);
    buf_init(&ans, 1 << 16);
    buf_init(&msg, 1 << 16);

    CHECK(handshake_start(&h, &req, &e) == DM_OK, "start");
    mt_plain_wrap(0x65ABC0FC000DF764, (uint8_t *)req.data, req.len, &msg);
    if (!tamper)
        CHECK(t_eq_hex(msg.data, msg.len, S(v, "req_pq_multi_message")),
              "req_pq_multi message equals the sample");

    size_t n;
    uint8_t *res = t_unhex(S(v, "res_pq_body"), &n);
    if (tamper == 1) res[10] ^= 1; /* the nonce */
    buf_reset(&ans);
    buf_append(&ans, res, n);
    free(res);
    if (tamper == 4) pack(&ans);
    buf_reset(&req);
    dm_err rc = handshake_step(&h, (uint8_t *)ans.data, ans.len, &req, &e);
    if (tamper == 1) {
        CHECK(rc == DM_EPROTO && h.state == HS_FAILED && strstr(e.msg, "nonce"),
              "changed nonce: %s", e.msg);
        goto out;
    }
    if (tamper == 4) {
        CHECK(rc == DM_EPROTO && h.state == HS_FAILED && strstr(e.msg, "no compression"),
              "packed resPQ: %s", e.msg);
        goto out;
    }
    CHECK(rc == DM_OK && h.state == HS_WAIT_DH_PARAMS, "resPQ accepted: %s", e.msg);
    /* req_DH_params: all but encrypted_data (its temp_key is not published) equal the sample */
    json_t *mine = NULL;
    CHECK(req.len == 320 && tl_decode((uint8_t *)req.data, req.len, NULL, &mine, NULL, &e) == DM_OK,
          "req_DH_params");
    CHECK(json_is_string(json_object_get(mine, "p")) && strcmp(S(mine, "p"), "3c2357cf") == 0 &&
              strcmp(S(mine, "q"), "56bfb29f") == 0,
          "p and q");
    int64_t fp = 0;
    tl_get_long(mine, "public_key_fingerprint", &fp, &e);
    size_t fl;
    uint8_t *fle = t_unhex(S(v, "fingerprint_le"), &fl);
    CHECK(fp == (int64_t)tl_read_u64(fle), "fingerprint");
    free(fle);
    json_decref(mine);

    const char *enc = S(v, "encrypted_answer");
    char *bad = strdup(enc);
    if (tamper == 2) bad[100] = bad[100] == '0' ? '1' : '0';
    answer(&ans,
           "{\"_\":\"server_DH_params_ok\",\"nonce\":\"%s\",\"server_nonce\":\"%s\",\"encrypted_"
           "answer\":\"%s\"}",
           S(v, "nonce"), S(v, "server_nonce"), bad);
    free(bad);
    if (tamper == 5) pack(&ans);
    buf_reset(&req);
    rc = handshake_step(&h, (uint8_t *)ans.data, ans.len, &req, &e);
    if (tamper == 2) {
        CHECK(rc != DM_OK && h.state == HS_FAILED, "tampered answer rejected: %s", e.msg);
        goto out;
    }
    if (tamper == 5) {
        CHECK(rc == DM_EPROTO && h.state == HS_FAILED && strstr(e.msg, "no compression"),
              "packed server_DH_params_ok: %s", e.msg);
        goto out;
    }
    CHECK(rc == DM_OK && h.state == HS_WAIT_DH_ANSWER, "server_DH_params_ok accepted: %s", e.msg);
    CHECK(h.server_time == 1705754877, "server_time");
    answer(&ans,
           "{\"_\":\"set_client_DH_params\",\"nonce\":\"%s\",\"server_nonce\":\"%s\",\"encrypted_"
           "data\":\"%s\"}",
           S(v, "nonce"), S(v, "server_nonce"), S(v, "client_encrypted_data"));
    CHECK(req.len == ans.len && memcmp(req.data, ans.data, ans.len) == 0,
          "set_client_DH_params equals the sample");

    char hash[33];
    dm_strlcpy(hash, S(v, "new_nonce_hash1"), sizeof hash);
    if (tamper == 3) hash[0] = hash[0] == '6' ? '7' : '6';
    answer(
        &ans,
        "{\"_\":\"dh_gen_ok\",\"nonce\":\"%s\",\"server_nonce\":\"%s\",\"new_nonce_hash1\":\"%s\"}",
        S(v, "nonce"), S(v, "server_nonce"), hash);
    buf_reset(&req);
    rc = handshake_step(&h, (uint8_t *)ans.data, ans.len, &req, &e);
    if (tamper == 3) {
        CHECK(rc == DM_ECRYPTO && h.state == HS_FAILED, "bad new_nonce_hash1 rejected: %s", e.msg);
        goto out;
    }
    CHECK(rc == DM_OK && h.state == HS_DONE && req.len == 0, "dh_gen_ok: %s", e.msg);
    CHECK(t_eq_hex(h.auth_key, 256, S(v, "auth_key")), "auth_key equals the sample");
    size_t l1, l2;
    uint8_t *nn = t_unhex(S(v, "new_nonce"), &l1), *sn = t_unhex(S(v, "server_nonce"), &l2);
    CHECK(h.server_salt == (int64_t)(tl_read_u64(nn) ^ tl_read_u64(sn)), "server_salt");
    free(nn), free(sn);
    CHECK(r.pos == r.n, "every random byte used (%zu of %zu)", r.pos, r.n);
out:
    handshake_release(&h);
    buf_release(&req);
    buf_release(&ans);
    buf_release(&msg);
}

int main(void)
{
    json_t *v = t_vectors("official_auth_key_sample.json");
    struct crypto_rsa_key key;
    size_t nl, el;
    uint8_t *n = t_unhex(S(v, "rsa_modulus"), &nl), *ex = t_unhex(S(v, "rsa_exponent"), &el);
    memcpy(key.n, n, 256);
    memcpy(key.e, ex, el);
    key.e_len = el;
    key.fingerprint = crypto_rsa_fingerprint(key.n, 256, key.e, key.e_len);
    size_t fl;
    uint8_t *fle = t_unhex(S(v, "fingerprint_le"), &fl);
    CHECK(key.fingerprint == (int64_t)tl_read_u64(fle),
          "the production key's fingerprint is the sample's");
    free(fle), free(n), free(ex);
    run(v, &key, 0);
    printf("official sample: req_pq_multi, req_DH_params (but its encrypted_data), "
           "set_client_DH_params, auth_key, "
           "server_salt reproduced by the state machine\n");
    for (int t = 1; t <= 5; t++)
        run(v, &key, t);
    printf("handshake: resPQ and server_DH_params_ok in a gzip_packed are refused\n");
    key.fingerprint ^= 1; /* none of ours offered */
    uint8_t bytes[REPLAY_MAX] = {0};
    memset(bytes, 7, 64);
    struct t_replay r = {bytes, sizeof bytes, 0};
    struct handshake h;
    handshake_init(&h, 2, &key, 1, t_replay_rnd, &r);
    struct buf req;
    buf_init(&req, 1 << 16);
    struct dm_error e = {0};
    handshake_start(&h, &req, &e);
    size_t rn;
    uint8_t *res = t_unhex(S(v, "res_pq_body"), &rn);
    memcpy(res + 4, h.nonce, 16);
    buf_reset(&req);
    CHECK(handshake_step(&h, res, rn, &req, &e) == DM_ECRYPTO && strstr(e.msg, "RSA"), "no key: %s",
          e.msg);
    free(res);
    buf_release(&req);
    handshake_release(&h);
    json_decref(v);
    return t_done("handshake");
}
