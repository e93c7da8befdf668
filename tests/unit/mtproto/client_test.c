/* The client over real loopback TCP against a small MTProto server written here (server side
 * of the handshake with a generated RSA key and the official sample's DH prime, encrypted
 * sessions, rpc_result / rpc_error / pong / bad_server_salt / new_session_created answers).
 * It exercises what the pure tests cannot: the I/O thread, the handshake over a socket,
 * initConnection first, many threads and 1,000 calls in flight on one connection, per-call
 * timeouts, reconnect with re-sent calls, pings, an existing key, an unknown key (-404) and
 * both transports. The proof against an independent server is the tgsim integration test. */
#include "core/common.h"

#include "mtproto/client.h"
#include "mtproto/handshake.h"
#include "mtproto/session.h"
#include "mtproto/tl_codec.h"
#include "mtproto/transport.h"
#include "testutil.h"

#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#define BATCH 1000

/* ---- the test server ---- */

struct server {
    int lfd, port;
    pthread_t th;
    char *priv_pem;
    struct crypto_rsa_key pub;
    uint8_t prime[256];
    int g;
    int64_t salt;
    pthread_mutex_t mu;
    uint8_t keys[8][256];
    size_t nkeys;
    atomic_int stop, handshakes, inits, pings, bad_salts, connections, calls, max_batch;
    atomic_int drop_at;    /* close the connection when this many calls have arrived (0: never) */
    atomic_bool batching;  /* hold help.getNearestDc answers until BATCH of them arrived */
    atomic_int hs_hold_ms; /* hold the answer to req_pq_multi this long (0: not) */
    atomic_int hs_held;    /* answers to req_pq_multi held */
};

static struct server srv;

struct conn {
    int fd;
    struct transport tr;
    struct buf out;
    int64_t last_id;
    /* handshake */
    uint8_t nonce[16], server_nonce[16], new_nonce[32], tmp_key[32], tmp_iv[32], a[256];
    /* session */
    const uint8_t *key;
    int64_t session_id;
    int seq;
    int64_t held[BATCH]; /* req_msg_ids of held getNearestDc calls */
    int nheld;
};

static void die(const char *what)
{
    fprintf(stderr, "test server: %s\n", what);
    abort();
}

static int64_t server_msg_id(struct conn *c)
{
    int64_t id = (int64_t)((uint64_t)(mt_now_ns() / 1000000000) << 32) | 1;
    if (id <= c->last_id) id = c->last_id + 4;
    return c->last_id = id;
}

static void send_packet(struct conn *c, const void *p, size_t n)
{
    buf_reset(&c->out);
    if (transport_frame(&c->tr, p, n, &c->out, NULL)) die("frame");
    if (send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL) !=
        (ssize_t)c->out.len) { /* the client may be gone */
    }
}

static void encode(struct buf *b, json_t *j) /* consumes j */
{
    struct dm_error e = {0};
    if (!j || tl_encode(b, j, NULL, &e)) {
        fprintf(stderr, "encode: %s\n", e.msg);
        die("encode");
    }
    json_decref(j);
}

static void send_plain(struct conn *c, json_t *j)
{
    struct buf body, msg;
    buf_init(&body, 1 << 16);
    buf_init(&msg, 1 << 16);
    encode(&body, j);
    mt_plain_wrap(server_msg_id(c), (uint8_t *)body.data, body.len, &msg);
    send_packet(c, msg.data, msg.len);
    buf_release(&body);
    buf_release(&msg);
}

static void send_encrypted(struct conn *c, const struct buf *body, bool content)
{
    struct buf plain, wire;
    buf_init(&plain, 1 << 20);
    buf_init(&wire, 1 << 20);
    tl_put_u64(&plain, (uint64_t)srv.salt);
    tl_put_u64(&plain, (uint64_t)c->session_id);
    tl_put_u64(&plain, (uint64_t)server_msg_id(c));
    tl_put_u32(&plain, (uint32_t)(content ? 2 * c->seq++ + 1 : 2 * c->seq));
    tl_put_u32(&plain, (uint32_t)body->len);
    buf_append(&plain, body->data, body->len);
    if (crypto_msg_encrypt(c->key, CRYPTO_FROM_SERVER, (uint8_t *)plain.data, plain.len, 0,
                           crypto_random, NULL, &wire, NULL))
        die("encrypt");
    send_packet(c, wire.data, wire.len);
    buf_release(&plain);
    buf_release(&wire);
}

static void send_json(struct conn *c, json_t *j, bool content)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    encode(&b, j);
    send_encrypted(c, &b, content);
    buf_release(&b);
}

static void send_result(struct conn *c, int64_t req, json_t *result)
{
    send_json(c,
              json_pack("{s:s,s:I,s:o}", "_", "rpc_result", "req_msg_id", (json_int_t)req, "result",
                        result),
              true);
}

static void hexbytes(const json_t *o, const char *k, uint8_t *out, size_t cap, size_t *n)
{
    if (tl_get_bytes(o, k, out, cap, n, NULL)) die(k);
}

static void hs_step(struct conn *c, const uint8_t *body, size_t len)
{
    json_t *j = NULL;
    if (tl_decode(body, len, NULL, &j, NULL, NULL)) die("handshake decode");
    size_t n;
    if (tl_is(j, "req_pq_multi")) {
        hexbytes(j, "nonce", c->nonce, 16, &n);
        if (srv.hs_hold_ms) { /* a slow server: the client waits for the answer */
            srv.hs_held++;
            usleep((useconds_t)srv.hs_hold_ms * 1000);
        }
        crypto_random(NULL, c->server_nonce, 16);
        send_plain(c,
                   json_pack("{s:s,s:o,s:o,s:s,s:[I]}", "_", "resPQ", "nonce", tl_hex(c->nonce, 16),
                             "server_nonce", tl_hex(c->server_nonce, 16), "pq", "17ed48941a08f981",
                             "server_public_key_fingerprints", (json_int_t)srv.pub.fingerprint));
    } else if (tl_is(j, "req_DH_params")) {
        uint8_t enc[256], raw[256], data[192];
        hexbytes(j, "encrypted_data", enc, 256, &n);
        if (crypto_rsa_private_raw(srv.priv_pem, enc, raw, NULL) ||
            crypto_rsa_pad_unwrap(raw, data, NULL))
            die("RSA_PAD");
        json_t *inner = NULL;
        if (tl_decode(data, sizeof data, NULL, &inner, NULL, NULL) ||
            !tl_is(inner, "p_q_inner_data_dc"))
            die("inner");
        hexbytes(inner, "new_nonce", c->new_nonce, 32, &n);
        json_decref(inner);
        crypto_tmp_aes(c->new_nonce, c->server_nonce, c->tmp_key, c->tmp_iv);
        crypto_random(NULL, c->a, 256);
        uint8_t g = (uint8_t)srv.g, g_a[256];
        crypto_mod_exp(&g, 1, c->a, 256, srv.prime, g_a, NULL);
        struct buf ans;
        buf_init(&ans, 4096);
        buf_append(&ans, "01234567890123456789", 20);
        encode(&ans,
               json_pack("{s:s,s:o,s:o,s:i,s:o,s:o,s:i}", "_", "server_DH_inner_data", "nonce",
                         tl_hex(c->nonce, 16), "server_nonce", tl_hex(c->server_nonce, 16), "g",
                         srv.g, "dh_prime", tl_hex(srv.prime, 256), "g_a", tl_hex(g_a, 256),
                         "server_time", (int)(mt_now_ns() / 1000000000)));
        crypto_sha1((uint8_t *)ans.data, &(struct crypto_part){ans.data + 20, ans.len - 20}, 1);
        while (ans.len % 16)
            buf_append(&ans, "\0", 1);
        crypto_aes_ige(true, c->tmp_key, c->tmp_iv, (uint8_t *)ans.data, (uint8_t *)ans.data,
                       ans.len);
        send_plain(c, json_pack("{s:s,s:o,s:o,s:o}", "_", "server_DH_params_ok", "nonce",
                                tl_hex(c->nonce, 16), "server_nonce", tl_hex(c->server_nonce, 16),
                                "encrypted_answer", tl_hex(ans.data, ans.len)));
        buf_release(&ans);
    } else if (tl_is(j, "set_client_DH_params")) {
        uint8_t enc[1024], g_b[256], key[256];
        hexbytes(j, "encrypted_data", enc, sizeof enc, &n);
        crypto_aes_ige(false, c->tmp_key, c->tmp_iv, enc, enc, n);
        json_t *inner = NULL;
        size_t gl;
        if (tl_decode(enc + 20, n - 20, NULL, &inner, NULL, NULL) ||
            !tl_is(inner, "client_DH_inner_data"))
            die("cdh");
        hexbytes(inner, "g_b", g_b, 256, &gl);
        json_decref(inner);
        crypto_mod_exp(g_b, gl, c->a, 256, srv.prime, key, NULL);
        pthread_mutex_lock(&srv.mu);
        memcpy(srv.keys[srv.nkeys++ % 8], key, 256);
        pthread_mutex_unlock(&srv.mu);
        srv.handshakes++;
        uint8_t h1[16];
        crypto_new_nonce_hash(c->new_nonce, 1, key, h1);
        send_plain(c, json_pack("{s:s,s:o,s:o,s:o}", "_", "dh_gen_ok", "nonce",
                                tl_hex(c->nonce, 16), "server_nonce", tl_hex(c->server_nonce, 16),
                                "new_nonce_hash1", tl_hex(h1, 16)));
    } else {
        die("unexpected handshake message");
    }
    json_decref(j);
}

/* One message of the client's; false: drop the connection. */
static bool on_message(struct conn *c, int64_t msg_id, const uint8_t *body, size_t len)
{
    uint32_t id = tl_read_u32(body);
    if (id == 0x62d6b459u) return true; /* msgs_ack */
    json_t *j = NULL;
    if (tl_decode(body, len, NULL, &j, NULL, NULL)) die("decode a call");
    const char *name = json_string_value(json_object_get(j, "_"));
    bool keep = true;
    if (strcmp(name, "ping_delay_disconnect") == 0) {
        srv.pings++;
        send_json(c,
                  json_pack("{s:s,s:I,s:O}", "_", "pong", "msg_id", (json_int_t)msg_id, "ping_id",
                            json_object_get(j, "ping_id")),
                  false);
    } else if (strcmp(name, "invokeWithLayer") == 0) {
        const json_t *q = json_object_get(j, "query");
        if (json_integer_value(json_object_get(j, "layer")) != TL_LAYER ||
            !tl_is(q, "initConnection") ||
            json_integer_value(json_object_get(q, "api_id")) != 4242 ||
            !tl_is(json_object_get(q, "query"), "help.getConfig"))
            die("initConnection is not as expected");
        srv.inits++;
        send_result(c, msg_id, json_pack("{s:s}", "_", "boolTrue"));
    } else {
        int n = ++srv.calls;
        if (srv.drop_at && n >= srv.drop_at) {
            srv.drop_at = 0;
            keep = false;
        } else if (strcmp(name, "help.getNearestDc") == 0) {
            if (srv.batching) {
                c->held[c->nheld++] = msg_id;
                if (c->nheld > srv.max_batch) srv.max_batch = c->nheld;
                if (c->nheld == BATCH) {
                    for (int i = 0; i < BATCH; i++)
                        send_result(c, c->held[i],
                                    json_pack("{s:s,s:s,s:i,s:i}", "_", "nearestDc", "country",
                                              "ZZ", "this_dc", 2, "nearest_dc", 2));
                    c->nheld = 0;
                }
            } else {
                send_result(c, msg_id,
                            json_pack("{s:s,s:s,s:i,s:i}", "_", "nearestDc", "country", "ZZ",
                                      "this_dc", 2, "nearest_dc", 2));
            }
        } else if (strcmp(name, "users.getUsers") == 0) {
            send_result(c, msg_id,
                        json_pack("{s:s,s:i,s:s}", "_", "rpc_error", "error_code", 420,
                                  "error_message", "FLOOD_WAIT_7"));
        } else if (strcmp(name, "auth.sendCode") == 0) {
            send_result(c, msg_id,
                        json_pack("{s:s,s:i,s:s}", "_", "rpc_error", "error_code", 303,
                                  "error_message", "PHONE_MIGRATE_4"));
        } /* help.getSupport: never answered */
    }
    json_decref(j);
    return keep;
}

static bool on_encrypted(struct conn *c, const uint8_t *pkt, size_t len)
{
    uint64_t key_id = tl_read_u64(pkt);
    if (!c->key) {
        pthread_mutex_lock(&srv.mu);
        for (size_t i = 0; i < srv.nkeys && i < 8; i++)
            if (crypto_auth_key_id(srv.keys[i]) == key_id) c->key = srv.keys[i];
        pthread_mutex_unlock(&srv.mu);
        if (!c->key) {
            uint8_t err[4] = {0x6c, 0xfe, 0xff, 0xff}; /* -404 */
            send_packet(c, err, 4);
            return false;
        }
    }
    struct buf plain;
    buf_init(&plain, 1 << 21);
    size_t n;
    if (crypto_msg_decrypt(c->key, CRYPTO_FROM_CLIENT, pkt, len, &plain, &n, NULL)) die("decrypt");
    const uint8_t *p = (uint8_t *)plain.data;
    int64_t salt = (int64_t)tl_read_u64(p), sid = (int64_t)tl_read_u64(p + 8),
            msg_id = (int64_t)tl_read_u64(p + 16);
    if (msg_id % 4) die("client msg_id is not a multiple of 4");
    bool keep = true;
    if (sid != c->session_id) {
        c->session_id = sid;
        c->seq = 0;
        send_json(c,
                  json_pack("{s:s,s:I,s:I,s:I}", "_", "new_session_created", "first_msg_id",
                            (json_int_t)msg_id, "unique_id", (json_int_t)99, "server_salt",
                            (json_int_t)srv.salt),
                  true);
    }
    if (salt != srv.salt) {
        srv.bad_salts++;
        send_json(c,
                  json_pack("{s:s,s:I,s:i,s:i,s:I}", "_", "bad_server_salt", "bad_msg_id",
                            (json_int_t)msg_id, "bad_msg_seqno", (int)tl_read_u32(p + 24),
                            "error_code", 48, "new_server_salt", (json_int_t)srv.salt),
                  false);
    } else if (tl_read_u32(p + 32) == 0x73f1f8dcu) {
        uint32_t count = tl_read_u32(p + 36);
        size_t at = 40;
        for (uint32_t i = 0; i < count && keep; i++) {
            uint32_t l = tl_read_u32(p + at + 12);
            keep = on_message(c, (int64_t)tl_read_u64(p + at), p + at + 16, l);
            at += 16 + l;
        }
    } else {
        keep = on_message(c, msg_id, p + 32, n - 32);
    }
    buf_release(&plain);
    return keep;
}

static void serve(int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    c->fd = fd;
    transport_init(&c->tr, TRANSPORT_DETECT, true, TRANSPORT_DEFAULT_MAX);
    buf_init(&c->out, 4 << 20);
    srv.connections++;
    static _Thread_local uint8_t rb[1 << 16];
    bool keep = true;
    while (keep && !srv.stop) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t r = recv(fd, rb, sizeof rb, 0);
        if (r <= 0) break;
        for (size_t off = 0; off < (size_t)r && keep;) {
            size_t used;
            const uint8_t *pkt;
            size_t len;
            bool ready;
            if (transport_read(&c->tr, rb + off, (size_t)r - off, &used, &pkt, &len, &ready, NULL))
                die("transport");
            off += used;
            if (!ready) continue;
            if (tl_read_u64(pkt) == 0) {
                int64_t mid;
                const uint8_t *body;
                size_t blen;
                if (mt_plain_unwrap(pkt, len, &mid, &body, &blen, NULL)) die("plain");
                hs_step(c, body, blen);
            } else {
                keep = on_encrypted(c, pkt, len);
            }
        }
    }
    close(fd);
    transport_release(&c->tr);
    buf_release(&c->out);
    free(c);
}

static void *server_main(void *arg)
{
    (void)arg;
    while (!srv.stop) {
        struct pollfd p = {srv.lfd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        int fd = accept(srv.lfd, NULL, NULL);
        if (fd >= 0) serve(fd);
    }
    return NULL;
}

static void server_start(const char *pem_path)
{
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    BIO *pub = BIO_new(BIO_s_mem()), *priv = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(pub, pk);
    PEM_write_bio_PrivateKey(priv, pk, NULL, NULL, 0, NULL, NULL);
    char *p;
    long n = BIO_get_mem_data(pub, &p);
    FILE *f = fopen(pem_path, "w");
    fwrite(p, 1, (size_t)n, f);
    fclose(f);
    char *pubs = strndup(p, (size_t)n);
    if (crypto_rsa_key_from_pem(pubs, &srv.pub, NULL)) die("public key");
    free(pubs);
    n = BIO_get_mem_data(priv, &p);
    srv.priv_pem = strndup(p, (size_t)n);
    BIO_free(pub);
    BIO_free(priv);
    EVP_PKEY_free(pk);

    /* the DH prime and g from the official sample's server_DH_inner_data */
    json_t *v = t_vectors("official_auth_key_sample.json");
    size_t len, kl, il;
    uint8_t *ans = t_unhex(json_string_value(json_object_get(v, "encrypted_answer")), &len);
    uint8_t *k = t_unhex(json_string_value(json_object_get(v, "tmp_aes_key")), &kl);
    uint8_t *iv = t_unhex(json_string_value(json_object_get(v, "tmp_aes_iv")), &il);
    crypto_aes_ige(false, k, iv, ans, ans, len);
    json_t *inner = NULL;
    if (tl_decode(ans + 20, len - 20, NULL, &inner, NULL, NULL) ||
        tl_get_bytes(inner, "dh_prime", srv.prime, 256, &kl, NULL))
        die("sample prime");
    int32_t g;
    tl_get_int(inner, "g", &g, NULL);
    srv.g = g;
    json_decref(inner);
    json_decref(v);
    free(ans);
    free(k);
    free(iv);

    srv.salt = 0x0badc0ffee;
    pthread_mutex_init(&srv.mu, NULL);
    srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(srv.lfd, (struct sockaddr *)&a, sizeof a) || listen(srv.lfd, 16) ||
        getsockname(srv.lfd, (struct sockaddr *)&a, &al))
        die("listen");
    srv.port = ntohs(a.sin_port);
    pthread_create(&srv.th, NULL, server_main, NULL);
}

/* ---- the tests ---- */

static struct mt_client *client;

static json_t *method(const char *name)
{
    return json_pack("{s:s}", "_", name);
}

static dm_err call(struct mt_client *c, const char *name, int timeout_ms, json_t **res,
                   struct mt_rpc_error *rpc, struct dm_error *e)
{
    json_t *m = strcmp(name, "users.getUsers") == 0
                    ? json_pack("{s:s,s:[{s:s}]}", "_", name, "id", "_", "inputUserSelf")
                : strcmp(name, "auth.sendCode") == 0
                    ? json_pack("{s:s,s:s,s:i,s:s,s:{s:s}}", "_", name, "phone_number", "15550001",
                                "api_id", 4242, "api_hash", "x", "settings", "_", "codeSettings")
                    : method(name);
    dm_err rc = mt_call(c, m, timeout_ms, res, rpc, e);
    json_decref(m);
    return rc;
}

static atomic_int ok_calls;

static void *caller(void *arg)
{
    (void)arg;
    json_t *r = NULL;
    struct dm_error e = {0};
    if (call(client, "help.getNearestDc", 20000, &r, NULL, &e) == DM_OK && tl_is(r, "nearestDc"))
        ok_calls++;
    else
        fprintf(stderr, "call failed: %s\n", e.msg);
    json_decref(r);
    return NULL;
}

static void run_callers(int n)
{
    pthread_t *t = calloc((size_t)n, sizeof *t);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256 << 10);
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], &at, caller, NULL)) die("thread");
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_attr_destroy(&at);
    free(t);
}

static bool wait_for(atomic_int *v, int want, int ms)
{
    for (int i = 0; i < ms / 10 && *v < want; i++)
        usleep(10000);
    return *v >= want;
}

int main(void)
{
    char pem[] = "/tmp/mt_client_test_XXXXXX";
    int pfd = mkstemp(pem);
    close(pfd);
    server_start(pem);

    struct mt_config cfg;
    mt_config_init(&cfg);
    struct dm_error e = {0};
    CHECK(mt_config_set_dc(&cfg, 2, "127.0.0.1", srv.port, &e) == DM_OK, "set DC: %s", e.msg);
    dm_strlcpy(cfg.rsa_pem_path, pem, sizeof cfg.rsa_pem_path);
    cfg.api_id = 4242;
    cfg.temp_key_s = 0; /* the server here keeps permanent keys only; temporary ones: tgsim_test */
    cfg.ping_interval_ms = 1000;
    cfg.backoff_min_ms = 20;
    cfg.backoff_max_ms = 200;
    cfg.connect_timeout_ms = 5000;

    /* no key: handshake, initConnection, one call */
    CHECK(mt_client_new(&cfg, NULL, &client, &e) == DM_OK, "client: %s", e.msg);
    json_t *r = NULL;
    CHECK(call(client, "help.getNearestDc", 10000, &r, NULL, &e) == DM_OK && tl_is(r, "nearestDc"),
          "first call answered: %s", e.msg);
    int32_t dc = 0;
    CHECK(r && tl_get_int(r, "this_dc", &dc, NULL) == DM_OK && dc == 2,
          "decoded in the method's result type");
    json_decref(r);
    CHECK(srv.handshakes == 1 && srv.inits == 1,
          "one handshake, initConnection(invokeWithLayer) first");
    struct mt_auth auth;
    CHECK(mt_client_auth_key(client, 1000, &auth, &e) == DM_OK && auth.dc_id == 2 &&
              memcmp(auth.key, srv.keys[0], 256) == 0,
          "the client's auth key is the server's");
    printf("handshake over TCP, initConnection, first call: ok\n");

    /* rpc errors by name and number */
    struct mt_rpc_error rpc = {0};
    CHECK(call(client, "users.getUsers", 5000, NULL, &rpc, &e) == DM_ETELEGRAM &&
              mt_rpc_error_is(&rpc, "FLOOD_WAIT") && rpc.value == 7 && rpc.code == 420 &&
              strstr(e.msg, "FLOOD_WAIT_7"),
          "FLOOD_WAIT_7: %s", e.msg);
    CHECK(call(client, "auth.sendCode", 5000, NULL, &rpc, &e) == DM_ETELEGRAM &&
              mt_rpc_error_migrate_dc(&rpc) == 4,
          "PHONE_MIGRATE_4 names DC 4");
    /* a call that gets no answer times out alone */
    CHECK(call(client, "help.getSupport", 300, NULL, NULL, &e) == DM_ETIMEOUT,
          "unanswered call times out: %s", e.msg);
    CHECK(call(client, "help.getNearestDc", 5000, NULL, NULL, &e) == DM_OK,
          "the connection still works");
    json_t *bad = json_pack("{s:s}", "_", "nonsense.method");
    CHECK(mt_call(client, bad, 1000, NULL, NULL, &e) == DM_EINVAL, "unknown method: %s", e.msg);
    json_decref(bad);
    printf("rpc_error names and numbers, per-call timeout, bad input: ok\n");

    /* 1,000 calls in flight at once: the server answers none until it holds all of them */
    struct mt_client_stats st;
    mt_client_stats(client, &st);
    uint64_t conns = st.connections;
    srv.batching = true;
    ok_calls = 0;
    run_callers(BATCH);
    srv.batching = false;
    mt_client_stats(client, &st);
    CHECK(ok_calls == BATCH && srv.max_batch == BATCH,
          "%d of %d calls answered, %d in flight at once", (int)ok_calls, BATCH,
          (int)srv.max_batch);
    CHECK(st.connections == conns, "all on one connection");
    printf("%d calls in flight on one connection: ok\n", BATCH);

    /* the server drops the connection with calls unanswered: they are sent again after reconnecting
     */
    ok_calls = 0;
    srv.drop_at = srv.calls + 5;
    run_callers(20);
    mt_client_stats(client, &st);
    CHECK(ok_calls == 20 && st.connections > conns && st.resent > 0,
          "after a drop: %d of 20 answered, %" PRIu64 " connections, %" PRIu64 " resent",
          (int)ok_calls, st.connections, st.resent);
    CHECK(srv.handshakes == 1, "the reconnect reuses the key");
    CHECK(wait_for(&srv.pings, 1, 3000), "keepalive pings (every %d ms)", cfg.ping_interval_ms);
    printf("reconnect with re-sent calls, pings: ok\n");
    mt_client_free(client);

    /* an existing key: no handshake; the unknown salt is corrected by bad_server_salt */
    int salts = srv.bad_salts;
    CHECK(mt_client_new(&cfg, &auth, &client, &e) == DM_OK, "client with a key");
    CHECK(call(client, "help.getNearestDc", 5000, NULL, NULL, &e) == DM_OK,
          "call with the stored key: %s", e.msg);
    CHECK(srv.handshakes == 1 && srv.bad_salts > salts,
          "no new handshake; bad_server_salt handled");
    mt_client_free(client);

    /* the abridged transport */
    cfg.transport = TRANSPORT_ABRIDGED;
    CHECK(mt_client_new(&cfg, &auth, &client, &e) == DM_OK, "abridged client");
    CHECK(call(client, "help.getNearestDc", 5000, NULL, NULL, &e) == DM_OK,
          "call over abridged: %s", e.msg);
    mt_client_free(client);
    cfg.transport = TRANSPORT_INTERMEDIATE;

    /* a call queued while the handshake waits for the server's answer wakes the I/O thread, which
     * goes on waiting on the same connection (it took the wake for "handshake: no answer in
     * time" once, and connected again) */
    int conns0 = srv.connections, hs0 = srv.handshakes;
    srv.hs_held = 0;
    srv.hs_hold_ms = 1000;
    CHECK(mt_client_new(&cfg, NULL, &client, &e) == DM_OK, "client without a key");
    CHECK(wait_for(&srv.hs_held, 1, 5000), "the server holds its answer to req_pq_multi");
    CHECK(call(client, "help.getNearestDc", 10000, NULL, NULL, &e) == DM_OK,
          "a call queued during the handshake: %s", e.msg);
    srv.hs_hold_ms = 0;
    CHECK(srv.connections == conns0 + 1 && srv.handshakes == hs0 + 1,
          "one connection, one handshake: %d connections, %d handshakes", srv.connections - conns0,
          srv.handshakes - hs0);
    mt_client_free(client);
    printf("a call queued during the handshake: ok\n");

    /* a key the server does not know: -404 fails calls at once */
    struct mt_auth unknown = {.dc_id = 2};
    memset(unknown.key, 0x5a, sizeof unknown.key);
    CHECK(mt_client_new(&cfg, &unknown, &client, &e) == DM_OK, "client with an unknown key");
    CHECK(call(client, "help.getNearestDc", 5000, NULL, NULL, &e) == DM_EAUTH, "unknown key: %s",
          e.msg);
    CHECK(call(client, "help.getNearestDc", 5000, NULL, NULL, &e) == DM_EAUTH,
          "and again, without reconnecting");
    mt_client_free(client);

    /* nobody listening: calls time out naming the connection error */
    int dead = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in da = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t dl = sizeof da;
    bind(dead, (struct sockaddr *)&da, sizeof da);
    getsockname(dead, (struct sockaddr *)&da, &dl);
    close(dead);
    struct mt_config cfg2 = cfg;
    mt_config_set_dc(&cfg2, 2, "127.0.0.1", ntohs(da.sin_port), NULL);
    CHECK(mt_client_new(&cfg2, NULL, &client, &e) == DM_OK, "client for a closed port");
    CHECK(call(client, "help.getNearestDc", 500, NULL, NULL, &e) == DM_ETIMEOUT &&
              strstr(e.msg, "cannot connect"),
          "closed port: %s", e.msg);
    mt_client_free(client);

    /* configuration errors */
    cfg.dc_id = 9;
    CHECK(mt_client_new(&cfg, NULL, &client, &e) == DM_EINVAL && strstr(e.msg, "DC 9"),
          "unknown DC: %s", e.msg);
    cfg.dc_id = 2;
    dm_strlcpy(cfg.rsa_pem_path, "/nonexistent.pem", sizeof cfg.rsa_pem_path);
    CHECK(mt_client_new(&cfg, NULL, &client, &e) == DM_EINVAL, "missing key file: %s", e.msg);
    struct mt_rpc_error pr;
    mt_rpc_error_parse(&pr, 401, "SESSION_PASSWORD_NEEDED");
    CHECK(mt_rpc_error_is(&pr, "SESSION_PASSWORD_NEEDED") && pr.value == -1 &&
              mt_rpc_error_migrate_dc(&pr) == 0,
          "an error without a number");
    mt_rpc_error_parse(&pr, 420, "FLOOD_PREMIUM_WAIT_12");
    CHECK(mt_rpc_error_is(&pr, "FLOOD_PREMIUM_WAIT") && pr.value == 12, "FLOOD_PREMIUM_WAIT_12");
    mt_rpc_error_parse(&pr, 303, "USER_MIGRATE_5");
    CHECK(mt_rpc_error_migrate_dc(&pr) == 5, "USER_MIGRATE_5");

    srv.stop = 1;
    pthread_join(srv.th, NULL);
    close(srv.lfd);
    unlink(pem);
    free(srv.priv_pem);
    return t_done("mtproto client");
}
