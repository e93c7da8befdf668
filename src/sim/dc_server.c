#include "core/common.h"
#include "sim/dc.h"

#include "core/buf.h"
#include "mtproto/bind.h"
#include "mtproto/crypto.h"
#include "mtproto/gzip.h"
#include "mtproto/handshake.h"
#include "mtproto/tl_codec.h"
#include "mtproto/transport.h"
#include "sim/dc_tl.h"
#include "sim/updates.h"

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/encoder.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_PACKET (1u << 20)
#define MSG_ID_PAST 300   /* seconds: an older client msg_id is "too low" (16) */
#define MSG_ID_FUTURE 30  /* seconds: a newer one is "too high" (17) */
#define IDLE_TIMEOUT 600  /* seconds without a packet before a connection is closed */
#define KEY_ACTIVE 10     /* seconds: a connection that carried a message this recently is in use */
#define DELAYED_MAX 20000 /* answers held back by the latency, per connection */
#define FUTURE_SALTS_MAX 64 /* salts in one future_salts at most (Telegram's limit) */
#define OLD_SALT_GRACE 1800 /* seconds the previous salt is still accepted (Telegram's figure) */
#define RECV_RING 256       /* client msg_ids remembered per connection, for msgs_state_req */
#define ANSWERS_MAX 64      /* service answers recorded per account */
#define PUSH_BATCH 256      /* updates pushed per turn of a connection's loop */

/* pq = 0x17ed48941a08f981 = 0x494c553b * 0x53911073, as in the official sample. */
static const uint8_t sample_pq[8] = {0x17, 0xed, 0x48, 0x94, 0x1a, 0x08, 0xf9, 0x81};
static const uint8_t sample_p[4] = {0x49, 0x4c, 0x55, 0x3b}, sample_q[4] = {0x53, 0x91, 0x10, 0x73};

struct dcs {
    struct world *w;
    char *priv_pem;
    struct crypto_rsa_key pub;
    int n;
    int lfd[DC_MAX];
    uint16_t port[DC_MAX];
    pthread_t accept_th;
    atomic_bool stop;
    atomic_int latency_ms;    /* added before every RPC answer */
    pthread_mutex_t conns_mu; /* guards conns */
    struct dc_conn *conns;
    /* auth keys (world lock) */
    struct dc_key **keys;
    size_t nkeys;
    struct dc_jr_index *jr_index; /* dc_rpc.c's (world lock) */
};

/* An rpc_result held back until `due` (the DCs' latency); sent in order. */
struct delayed {
    struct delayed *next;
    double due;
    size_t len;
    uint8_t body[];
};

struct dc_conn {
    struct dcs *d;
    struct dc_conn *next;
    pthread_t th;
    atomic_bool done;
    int fd, dc;     /* fd stays open while the connection owns a key (see key_claim) */
    double last_rx; /* monotonic time of the last encrypted message (world lock) */
    struct delayed *delayed, *delayed_tail;
    size_t ndelayed;
    struct transport tr;
    struct buf out;
    /* handshake */
    uint8_t nonce[16], server_nonce[16], new_nonce[32], tmp_key[32], tmp_iv[32], a[256];
    int hs_step;           /* 0 want req_pq, 1 want req_DH_params, 2 want set_client_DH_params */
    int32_t hs_expires_in; /* > 0: the key being made is temporary (p_q_inner_data_temp_dc) */
    /* session */
    struct dc_key *key;
    int64_t session_id;
    int64_t last_out_id;
    int32_t seq;        /* content messages sent in this session */
    int64_t max_msg_id; /* the client's highest msg_id in this session, and its seqno */
    int32_t max_msg_seqno;
    int layer;            /* from invokeWithLayer; 0 = ours */
    double disconnect_at; /* ping_delay_disconnect deadline, 0 = none */
    /* salts: the world's salt_lifetime and the salt valid when the last packet came */
    unsigned salt_life;
    int64_t salt_now;
    bool salts_given, salt_refused; /* future_salts sent / a bad_server_salt sent on it */
    /* client msg_ids received (for msgs_state_req), and whether each was content-related */
    int64_t recv_ids[RECV_RING];
    bool recv_content[RECV_RING];
    size_t recv_pos;
    /* the last service message sent on a control call: its kind, msg_id, and the id it named */
    char ask_kind[24];
    int64_t ask_id, ask_about;
    /* updates (sim/updates.h): pushed once the connection made an authorized call, from the
     * account's seq at that moment; upd_seq is the last one pushed (world lock). wake_fd (an
     * eventfd) is signalled by push_hook when the account has a new update. */
    bool upd_on;
    int64_t upd_user;
    int32_t upd_seq;
    int wake_fd;
};

void dc_random(void *p, size_t n)
{
    if (RAND_bytes(p, (int)n) != 1) abort(); /* no randomness: nothing safe to do */
}

static double now_mono(void)
{
    return world_mono();
}

int dc_count(const struct dcs *d)
{
    return d->n;
}

struct dc_jr_index **dc_jr_index_slot(struct dcs *d)
{
    return &d->jr_index;
}

void dc_set_latency(struct dcs *d, int ms)
{
    d->latency_ms = ms > 0 ? ms : 0;
}

uint16_t dc_port(const struct dcs *d, int dc)
{
    return dc >= 1 && dc <= d->n ? d->port[dc - 1] : 0;
}

/* ---- sending ---- */

static bool send_all(struct dc_conn *c, const void *p, size_t n)
{
    const char *s = p;
    while (n) {
        ssize_t r = send(c->fd, s, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        s += r;
        n -= (size_t)r;
    }
    return true;
}

static bool send_packet(struct dc_conn *c, const void *p, size_t n)
{
    buf_reset(&c->out);
    return transport_frame(&c->tr, p, n, &c->out, NULL) == DM_OK &&
           send_all(c, c->out.data, c->out.len);
}

static bool send_transport_error(struct dc_conn *c, int32_t code)
{
    uint8_t b[4];
    uint32_t v = (uint32_t)code;
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return send_packet(c, b, 4);
}

/* Server msg_ids: time-based, increasing, 1 mod 4 for answers and 3 mod 4 otherwise. */
static int64_t out_msg_id(struct dc_conn *c, bool answer)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t id = (int64_t)((uint64_t)ts.tv_sec << 32 | ((uint64_t)ts.tv_nsec << 2 & 0xfffffff0u));
    if (id <= c->last_out_id) id = (c->last_out_id & ~(int64_t)3) + 4;
    id = (id & ~(int64_t)3) | (answer ? 1 : 3);
    return c->last_out_id = id;
}

static bool send_plain(struct dc_conn *c, json_t *j)
{
    struct buf body, msg;
    buf_init(&body, 4096);
    buf_init(&msg, 4096);
    bool ok = j && tl_encode(&body, j, NULL, NULL) == DM_OK &&
              mt_plain_wrap(out_msg_id(c, true), (uint8_t *)body.data, body.len, &msg) == DM_OK &&
              send_packet(c, msg.data, msg.len);
    json_decref(j);
    buf_release(&body);
    buf_release(&msg);
    return ok;
}

/* Encrypts and sends one message body (the world lock is not needed: the key bytes never change).
 */
static bool send_body(struct dc_conn *c, const struct buf *body, bool content, bool answer)
{
    struct buf plain, wire;
    buf_init(&plain, MAX_PACKET);
    buf_init(&wire, MAX_PACKET + 2048);
    int32_t seqno = content ? 2 * c->seq++ + 1 : 2 * c->seq;
    bool ok = !tl_put_u64(&plain, (uint64_t)(c->salt_now ? c->salt_now : c->key->salt)) &&
              !tl_put_u64(&plain, (uint64_t)c->session_id) &&
              !tl_put_u64(&plain, (uint64_t)out_msg_id(c, answer)) &&
              !tl_put_u32(&plain, (uint32_t)seqno) && !tl_put_u32(&plain, (uint32_t)body->len) &&
              !buf_append(&plain, body->data, body->len) &&
              !crypto_msg_encrypt(c->key->key, CRYPTO_FROM_SERVER, (uint8_t *)plain.data, plain.len,
                                  0, crypto_random, NULL, &wire, NULL) &&
              send_packet(c, wire.data, wire.len);
    OPENSSL_cleanse(plain.data, plain.len);
    buf_release(&plain);
    buf_release(&wire);
    return ok;
}

static bool send_json(struct dc_conn *c, json_t *j, bool content)
{
    struct buf b;
    buf_init(&b, MAX_PACKET);
    bool ok = j && tl_encode(&b, j, NULL, NULL) == DM_OK && send_body(c, &b, content, false);
    json_decref(j);
    buf_release(&b);
    return ok;
}

/* Sends the held-back answers that are due (all of them when `all`). */
static bool send_delayed(struct dc_conn *c, bool all)
{
    double now = now_mono();
    bool ok = true;
    while (c->delayed && (all || c->delayed->due <= now)) {
        struct delayed *x = c->delayed;
        if (!(c->delayed = x->next)) c->delayed_tail = NULL;
        c->ndelayed--;
        struct buf b = {.data = (char *)x->body, .len = x->len};
        ok = ok && send_body(c, &b, true, true);
        OPENSSL_cleanse(x->body, x->len);
        free(x);
    }
    return ok;
}

/* Holds an answer back for the DCs' latency; other calls go on meanwhile. */
static bool delay_body(struct dc_conn *c, const struct buf *b)
{
    if (c->ndelayed >= DELAYED_MAX) { /* full: wait for the oldest instead of growing */
        double wait = c->delayed->due - now_mono();
        if (wait > 0) usleep((useconds_t)(wait * 1e6));
        if (!send_delayed(c, false)) return false;
    }
    struct delayed *x = malloc(sizeof *x + b->len);
    if (!x) return send_body(c, b, true, true);
    x->next = NULL;
    x->due = now_mono() + c->d->latency_ms / 1000.0;
    x->len = b->len;
    memcpy(x->body, b->data, b->len);
    if (c->delayed_tail)
        c->delayed_tail->next = x;
    else
        c->delayed = x;
    c->delayed_tail = x;
    c->ndelayed++;
    return true;
}

/* rpc_result(req_msg_id, result) with the result in the connection's layer. Consumes result. */
static bool send_result(struct dc_conn *c, int64_t req_msg_id, json_t *result)
{
    struct buf b;
    struct dm_error e = {0};
    buf_init(&b, MAX_PACKET);
    bool ok = !tl_put_u32(&b, TL_ID_rpc_result) && !tl_put_u64(&b, (uint64_t)req_msg_id);
    size_t at = b.len;
    int layer = c->layer ? c->layer : TL_LAYER;
    dm_err rc = DM_OK;
    if (json_is_array(result)) { /* Vector<T> results (users.getUsers) */
        rc = tl_put_u32(&b, TL_ID_vector) || tl_put_u32(&b, (uint32_t)json_array_size(result))
                 ? DM_ETOOBIG
                 : DM_OK;
        for (size_t i = 0; i < json_array_size(result) && !rc; i++)
            rc = dc_tl_encode(&b, json_array_get(result, i), layer, &e);
    } else if (ok) {
        rc = tl_is(result, "rpc_error") ? tl_encode(&b, result, NULL, &e)
                                        : dc_tl_encode(&b, result, layer, &e);
    }
    if (ok && rc) {
        /* a bug in an answer: tell the client instead of leaving the call hanging */
        fprintf(stderr, "tgsim: cannot encode an answer: %s\n", e.msg);
        b.len = at;
        json_t *err = dc_rpc_error(500, "INTERNAL_SERVER_ERROR");
        ok = tl_encode(&b, err, NULL, NULL) == DM_OK;
        json_decref(err);
    }
    ok = ok && (c->d->latency_ms > 0 ? delay_body(c, &b) : send_body(c, &b, true, true));
    json_decref(result);
    buf_release(&b);
    return ok;
}

/* ---- pushed updates ---- */

static struct dc_key *auth_key(struct dc_key *k);

/* The world's upd_hook (world lock held): wakes the connections of user_id's keys. */
static void push_hook(void *ctx, int64_t user_id)
{
    struct dcs *d = ctx;
    for (size_t i = 0; i < d->nkeys; i++) {
        struct dc_key *k = d->keys[i];
        if (k->owner && k->owner->wake_fd >= 0 && auth_key(k)->user_id == user_id)
            (void)eventfd_write(k->owner->wake_fd, 1);
    }
}

/* Pushes the account's updates after c->upd_seq (each an `updates` envelope, outside any
 * rpc_result, as Telegram sends them), PUSH_BATCH at most a turn; hidden ones are skipped, so
 * the client sees the seq jump. */
static bool push_updates(struct dc_conn *c)
{
    json_t *out = json_array();
    world_lock(c->d->w);
    struct dc_key *k = c->key && c->key->owner == c ? auth_key(c->key) : NULL;
    const struct sim_upd_state *s =
        k && k->user_id == c->upd_user ? sim_upd_state_of(c->d->w, k->user_id) : NULL;
    if (s && s->seq > c->upd_seq) {
        struct dc_call call = {c->d->w, c->d, k, c->dc, NULL};
        for (size_t i = 0; i < s->n && json_array_size(out) < PUSH_BATCH; i++) {
            const struct sim_upd_entry *e = sim_upd_entry(s, i);
            if (e->seq <= c->upd_seq) continue;
            if (!e->hidden) json_array_append_new(out, dc_rpc_push(&call, e));
            c->upd_seq = e->seq;
        }
        if (c->upd_seq < s->seq) (void)eventfd_write(c->wake_fd, 1); /* more next turn */
    }
    world_unlock(c->d->w);
    int layer = c->layer ? c->layer : TL_LAYER;
    bool ok = true;
    for (size_t i = 0; i < json_array_size(out) && ok; i++) {
        struct buf b;
        buf_init(&b, MAX_PACKET);
        struct dm_error e = {0};
        if (dc_tl_encode(&b, json_array_get(out, i), layer, &e))
            fprintf(stderr, "tgsim: cannot encode an update: %s\n", e.msg); /* a bug: skipped */
        else
            ok = send_body(c, &b, true, false);
        buf_release(&b);
    }
    json_decref(out);
    return ok;
}

/* The connection made an authorized call (world lock held): from now on it gets the account's
 * updates, as a Telegram session does once it made a call. */
static void push_start(struct dc_conn *c, struct dc_key *k)
{
    const struct sim_upd_state *s = k->user_id ? sim_upd_state_of(c->d->w, k->user_id) : NULL;
    if (!s || (c->upd_on && c->upd_user == k->user_id)) return;
    c->upd_on = true;
    c->upd_user = k->user_id;
    c->upd_seq = s->seq;
}

/* ---- the handshake ---- */

static bool hex_field(const json_t *o, const char *k, uint8_t *out, size_t want)
{
    size_t n = 0;
    return tl_get_bytes(o, k, out, want, &n, NULL) == DM_OK && n == want;
}

static bool nonces_match(struct dc_conn *c, const json_t *j, bool with_server)
{
    uint8_t n[16];
    if (!hex_field(j, "nonce", n, 16) || CRYPTO_memcmp(n, c->nonce, 16)) return false;
    return !with_server ||
           (hex_field(j, "server_nonce", n, 16) && !CRYPTO_memcmp(n, c->server_nonce, 16));
}

/* p_q_inner_data* from encrypted_data: RSA_PAD first, then the legacy SHA1 + data + padding. */
static json_t *decrypt_inner(struct dc_conn *c, const uint8_t enc[256])
{
    uint8_t raw[256], data[192];
    json_t *inner = NULL;
    if (crypto_rsa_private_raw(c->d->priv_pem, enc, raw, NULL)) return NULL;
    if (crypto_rsa_pad_unwrap(raw, data, NULL) == DM_OK) {
        if (dc_tl_decode(data, sizeof data, NULL, &inner, NULL, NULL)) inner = NULL;
    } else if (raw[0] == 0) {
        size_t used = 0;
        uint8_t sha[20];
        if (dc_tl_decode(raw + 21, 235, NULL, &inner, &used, NULL) == DM_OK) {
            crypto_sha1(sha, &(struct crypto_part){raw + 21, used}, 1);
            if (CRYPTO_memcmp(sha, raw + 1, 20)) {
                json_decref(inner);
                inner = NULL;
            }
        }
    }
    OPENSSL_cleanse(raw, sizeof raw);
    OPENSSL_cleanse(data, sizeof data);
    return inner;
}

static bool on_req_dh(struct dc_conn *c, const json_t *j)
{
    uint8_t enc[256];
    int64_t fp = 0;
    if (!nonces_match(c, j, true) || tl_get_long(j, "public_key_fingerprint", &fp, NULL) ||
        fp != c->d->pub.fingerprint || !hex_field(j, "encrypted_data", enc, 256))
        return false;
    json_t *inner = decrypt_inner(c, enc);
    const char *name = json_string_value(json_object_get(inner, "_"));
    uint8_t pq[8];
    bool ok = name && strncmp(name, "p_q_inner_data", 14) == 0 && nonces_match(c, inner, true) &&
              hex_field(inner, "pq", pq, 8) && !memcmp(pq, sample_pq, 8) &&
              hex_field(inner, "new_nonce", c->new_nonce, 32);
    c->hs_expires_in = 0;
    if (ok && strstr(name, "_temp"))
        ok = !tl_get_int(inner, "expires_in", &c->hs_expires_in, NULL) && c->hs_expires_in > 0;
    json_decref(inner);
    if (!ok) return false;
    crypto_tmp_aes(c->new_nonce, c->server_nonce, c->tmp_key, c->tmp_iv);
    dc_random(c->a, 256);
    uint8_t g = DC_G, g_a[256];
    if (crypto_mod_exp(&g, 1, c->a, 256, crypto_dh_prime, g_a, NULL)) return false;
    struct buf ans;
    buf_init(&ans, 4096);
    buf_append(&ans, g_a, 20); /* room for the SHA1 */
    json_t *sdh = json_pack("{s:s,s:o,s:o,s:i,s:o,s:o,s:i}", "_", "server_DH_inner_data", "nonce",
                            tl_hex(c->nonce, 16), "server_nonce", tl_hex(c->server_nonce, 16), "g",
                            DC_G, "dh_prime", tl_hex(crypto_dh_prime, 256), "g_a", tl_hex(g_a, 256),
                            "server_time", (int)world_now());
    ok = sdh && tl_encode(&ans, sdh, NULL, NULL) == DM_OK;
    json_decref(sdh);
    if (ok) {
        crypto_sha1((uint8_t *)ans.data, &(struct crypto_part){ans.data + 20, ans.len - 20}, 1);
        uint8_t pad[16];
        dc_random(pad, sizeof pad);
        ok = !buf_append(&ans, pad, (16 - ans.len % 16) % 16) &&
             !crypto_aes_ige(true, c->tmp_key, c->tmp_iv, (uint8_t *)ans.data, (uint8_t *)ans.data,
                             ans.len) &&
             send_plain(c,
                        json_pack("{s:s,s:o,s:o,s:o}", "_", "server_DH_params_ok", "nonce",
                                  tl_hex(c->nonce, 16), "server_nonce", tl_hex(c->server_nonce, 16),
                                  "encrypted_answer", tl_hex(ans.data, ans.len)));
    }
    buf_release(&ans);
    return ok;
}

static struct dc_key *key_find(struct dcs *d, uint64_t id)
{
    for (size_t i = 0; i < d->nkeys; i++)
        if (d->keys[i]->id == id) return d->keys[i];
    return NULL;
}

/* The key a connection's calls act as: a bound temporary key's permanent one (world lock). */
static struct dc_key *auth_key(struct dc_key *k)
{
    return k->temp && k->perm ? k->perm : k;
}

static bool on_set_client_dh(struct dc_conn *c, const json_t *j)
{
    if (!nonces_match(c, j, true)) return false;
    uint8_t *enc = malloc(1024);
    size_t n = 0, used = 0;
    json_t *inner = NULL;
    bool ok = false;
    struct dc_key *k = calloc(1, sizeof *k);
    uint8_t g_b[256], sha[20];
    if (!enc || !k || tl_get_bytes(j, "encrypted_data", enc, 1024, &n, NULL) || n % 16 || n < 36 ||
        crypto_aes_ige(false, c->tmp_key, c->tmp_iv, enc, enc, n) ||
        tl_decode(enc + 20, n - 20, NULL, &inner, &used, NULL))
        goto done;
    crypto_sha1(sha, &(struct crypto_part){enc + 20, used}, 1);
    size_t gl = 0;
    if (CRYPTO_memcmp(sha, enc, 20) || !tl_is(inner, "client_DH_inner_data") ||
        !nonces_match(c, inner, true) || tl_get_bytes(inner, "g_b", g_b, 256, &gl, NULL) || gl == 0)
        goto done;
    /* a big-endian number: Telethon and GramJS send it without leading zero bytes (1 in 256) */
    memmove(g_b + 256 - gl, g_b, gl);
    memset(g_b, 0, 256 - gl);
    if (crypto_dh_check_value(g_b, 256, crypto_dh_prime, "g_b", NULL) ||
        crypto_mod_exp(g_b, 256, c->a, 256, crypto_dh_prime, k->key, NULL))
        goto done;
    k->id = crypto_auth_key_id(k->key);
    k->dc = c->dc;
    k->salt = (int64_t)(tl_read_u64(c->new_nonce) ^ tl_read_u64(c->server_nonce));
    k->temp = c->hs_expires_in > 0;
    k->expires_at = k->temp ? world_now() + c->hs_expires_in : 0;
    k->created_ms = world_now_ms();
    world_lock(c->d->w);
    c->d->w->temp_keys += k->temp;
    struct dc_key **grown = NULL;
    if (c->d->nkeys < DC_MAX_KEYS && !key_find(c->d, k->id) &&
        (grown = realloc(c->d->keys, (c->d->nkeys + 1) * sizeof *grown)) != NULL) {
        c->d->keys = grown;
        c->d->keys[c->d->nkeys++] = k;
        ok = true;
    }
    world_unlock(c->d->w);
    if (!ok) goto done;
    uint8_t h1[16];
    crypto_new_nonce_hash(c->new_nonce, 1, k->key, h1);
    k = NULL; /* the table owns it */
    ok = send_plain(c, json_pack("{s:s,s:o,s:o,s:o}", "_", "dh_gen_ok", "nonce",
                                 tl_hex(c->nonce, 16), "server_nonce", tl_hex(c->server_nonce, 16),
                                 "new_nonce_hash1", tl_hex(h1, 16)));
done:
    if (enc) OPENSSL_cleanse(enc, 1024);
    free(enc);
    if (k) OPENSSL_cleanse(k, sizeof *k);
    free(k);
    OPENSSL_cleanse(c->a, sizeof c->a);
    json_decref(inner);
    return ok;
}

static bool on_plain(struct dc_conn *c, const uint8_t *pkt, size_t len)
{
    int64_t mid;
    const uint8_t *body;
    size_t blen;
    json_t *j = NULL;
    /* no allowance: no compression is accepted during the handshake */
    if (mt_plain_unwrap(pkt, len, &mid, &body, &blen, NULL) ||
        dc_tl_decode(body, blen, NULL, &j, NULL, NULL))
        return false;
    bool ok = false;
    if ((tl_is(j, "req_pq_multi") || tl_is(j, "req_pq")) && hex_field(j, "nonce", c->nonce, 16)) {
        dc_random(c->server_nonce, 16);
        c->hs_step = 1;
        ok = send_plain(
            c, json_pack("{s:s,s:o,s:o,s:o,s:[I]}", "_", "resPQ", "nonce", tl_hex(c->nonce, 16),
                         "server_nonce", tl_hex(c->server_nonce, 16), "pq", tl_hex(sample_pq, 8),
                         "server_public_key_fingerprints", (json_int_t)c->d->pub.fingerprint));
    } else if (tl_is(j, "req_DH_params") && c->hs_step == 1) {
        uint8_t p[4], q[4];
        ok = hex_field(j, "p", p, 4) && hex_field(j, "q", q, 4) && !memcmp(p, sample_p, 4) &&
             !memcmp(q, sample_q, 4) && on_req_dh(c, j);
        c->hs_step = 2;
    } else if (tl_is(j, "set_client_DH_params") && c->hs_step == 2) {
        ok = on_set_client_dh(c, j);
        c->hs_step = 0;
    }
    json_decref(j);
    return ok;
}

/* ---- encrypted messages ---- */

static bool send_bad_msg(struct dc_conn *c, int64_t msg_id, int32_t seqno, int code)
{
    return send_json(c,
                     json_pack("{s:s,s:I,s:i,s:i}", "_", "bad_msg_notification", "bad_msg_id",
                               (json_int_t)msg_id, "bad_msg_seqno", seqno, "error_code", code),
                     false);
}

/* The checks of core.telegram.org/mtproto/service_messages_about_messages; 0 when fine. */
static int msg_id_check(struct dc_conn *c, int64_t msg_id, int32_t seqno)
{
    if (msg_id % 4) return 18;
    int64_t t = (int64_t)((uint64_t)msg_id >> 32), now = world_now();
    if (t < now - MSG_ID_PAST) return 16;
    if (t > now + MSG_ID_FUTURE) return 17;
    if (seqno & 1) { /* content-related: against the highest msg_id seen */
        if (msg_id > c->max_msg_id && c->max_msg_id &&
            (seqno < c->max_msg_seqno || (seqno == c->max_msg_seqno && (seqno & 1))))
            return 32;
        if (msg_id < c->max_msg_id &&
            (seqno > c->max_msg_seqno || (seqno == c->max_msg_seqno && (seqno & 1))))
            return 33;
        if (msg_id > c->max_msg_id) {
            c->max_msg_id = msg_id;
            c->max_msg_seqno = seqno;
        }
    }
    return 0;
}

/* Unwraps invokeWithLayer / initConnection / invokeWithoutUpdates / invokeAfterMsg(s): the call. */
static const json_t *unwrap_call(struct dc_conn *c, const json_t *q)
{
    for (int depth = 0; depth < 8; depth++) {
        if (tl_is(q, "invokeWithLayer")) {
            int32_t layer = 0;
            if (!tl_get_int(q, "layer", &layer, NULL) && layer > 0) c->layer = layer;
        } else if (!tl_is(q, "initConnection") && !tl_is(q, "invokeWithoutUpdates") &&
                   !tl_is(q, "invokeAfterMsg") && !tl_is(q, "invokeAfterMsgs") &&
                   !tl_is(q, "invokeWithTakeout")) {
            return q;
        }
        q = json_object_get(q, "query");
    }
    return q;
}

/* A client message passed the checks: remembered for msgs_state_req. */
static void note_recv(struct dc_conn *c, int64_t msg_id, int32_t seqno)
{
    size_t at = c->recv_pos++ % RECV_RING;
    c->recv_ids[at] = msg_id;
    c->recv_content[at] = seqno & 1;
}

static bool on_message(struct dc_conn *c, int64_t msg_id, int32_t seqno, const uint8_t *body,
                       size_t len, int depth, struct tl_inflate *gz);

static bool on_container(struct dc_conn *c, const uint8_t *body, size_t len, int depth,
                         struct tl_inflate *gz)
{
    if (len < 8) return false;
    uint32_t count = tl_read_u32(body + 4);
    size_t at = 8;
    for (uint32_t i = 0; i < count; i++) {
        if (len - at < 16) return false;
        int64_t mid = (int64_t)tl_read_u64(body + at);
        int32_t seq = (int32_t)tl_read_u32(body + at + 8);
        uint32_t l = tl_read_u32(body + at + 12);
        if (l > len - at - 16) return false;
        int code = msg_id_check(c, mid, seq);
        if (!code) note_recv(c, mid, seq);
        if (code ? !send_bad_msg(c, mid, seq, code)
                 : !on_message(c, mid, seq, body + at + 16, l, depth + 1, gz))
            return false;
        at += 16 + l;
    }
    return true;
}

/* Salts (core.telegram.org/mtproto/description, "Server Salt"): with a salt_lifetime of L
 * seconds, the salt of key k in period p = floor(t / L) is salt_of(k, p); the previous one is
 * still accepted for min(L, OLD_SALT_GRACE) seconds, as Telegram accepts an old salt for 1800 s.
 * With L = 0 the handshake's salt stays for good. */
static int64_t salt_of(const struct dc_key *k, int64_t period)
{
    return period ? k->salt ^ (int64_t)((uint64_t)period * 0x9e3779b97f4a7c15ull) : k->salt;
}

static int64_t salt_period(unsigned life, int64_t t)
{
    return life ? t / life : 0;
}

/* The time salts follow, in seconds: from the precise clock, as clients read theirs; time()
 * reads a coarse one that can lag a few milliseconds, long enough to refuse a salt that a client
 * rightly switched to at the start of its period. */
static int64_t salt_clock(void)
{
    return world_now_ms() / 1000;
}

static bool salt_ok(const struct dc_conn *c, int64_t salt, int64_t now)
{
    if (salt == c->salt_now) return true;
    unsigned grace = DM_MIN(c->salt_life, OLD_SALT_GRACE);
    return c->salt_life && salt == salt_of(c->key, salt_period(c->salt_life, now - grace));
}

/* The answer to get_future_salts: as many salts as asked (1 to FUTURE_SALTS_MAX, as Telegram),
 * from the one valid now: one per period when salts rotate, else the key's salt in consecutive
 * hours from a minute ago. */
static json_t *future_salts(struct dc_conn *c, int64_t msg_id, const json_t *call)
{
    int32_t num = 1;
    (void)tl_get_int(call, "num", &num, NULL);
    num = num < 1 ? 1 : num > FUTURE_SALTS_MAX ? FUTURE_SALTS_MAX : num;
    int64_t now = salt_clock(), life = c->salt_life, p = salt_period(c->salt_life, now);
    json_t *salts = json_array();
    for (int32_t i = 0; i < num; i++) {
        int64_t since = life ? (p + i) * life : now - 60 + 3600 * i;
        int64_t until = life ? since + life : since + 3600;
        json_array_append_new(salts,
                              json_pack("{s:s,s:I,s:I,s:I}", "_", "future_salt", "valid_since",
                                        (json_int_t)since, "valid_until", (json_int_t)until, "salt",
                                        (json_int_t)salt_of(c->key, life ? p + i : 0)));
    }
    c->salts_given = true;
    return json_pack("{s:s,s:I,s:i,s:o}", "_", "future_salts", "req_msg_id", (json_int_t)msg_id,
                     "now", (int)now, "salts", salts);
}

/* ---- service messages about messages ---- */

/* What tgsim knows of client message msg_id, as msgs_state_info says it: 4 received (+16 when
 * it needed no ack), else 1 older than what is remembered, 2 not received within it, 3 newer. */
static uint8_t recv_state(const struct dc_conn *c, int64_t msg_id)
{
    int64_t lo = INT64_MAX, hi = 0;
    size_t known = 0;
    for (size_t i = 0; i < RECV_RING; i++) {
        if (!c->recv_ids[i]) continue;
        if (c->recv_ids[i] == msg_id) return c->recv_content[i] ? 4 : 4 + 16;
        known++;
        lo = DM_MIN(lo, c->recv_ids[i]);
        hi = DM_MAX(hi, c->recv_ids[i]);
    }
    if (!known || msg_id > hi) return 3;
    return msg_id < lo && c->recv_pos > RECV_RING ? 1 : 2;
}

/* msgs_state_info for req_msg_id about the ids of a msgs_state_req or msg_resend_req. */
static bool send_state_info(struct dc_conn *c, int64_t req_msg_id, const json_t *ids)
{
    size_t n = json_array_size(ids);
    uint8_t *info = malloc(n + 1);
    if (!info) return false;
    for (size_t i = 0; i < n; i++)
        info[i] = recv_state(c, (int64_t)json_integer_value(json_array_get(ids, i)));
    json_t *j = json_pack("{s:s,s:I,s:o}", "_", "msgs_state_info", "req_msg_id",
                          (json_int_t)req_msg_id, "info", tl_hex(info, n));
    free(info);
    return send_json(c, j, false);
}

/* Appends an answer to a control call's service message to the account's record (steals j). */
static void record_answer(struct dc_conn *c, json_t *j)
{
    world_lock(c->d->w);
    struct dc_key *k = auth_key(c->key);
    struct sim_account *a = k->user_id ? world_account(c->d->w, k->user_id) : NULL;
    if (a && !a->service_answers) a->service_answers = json_array();
    if (a && a->service_answers && json_array_size(a->service_answers) < ANSWERS_MAX)
        json_array_append(a->service_answers, j);
    world_unlock(c->d->w);
    json_decref(j);
}

/* Sends what POST /control/accounts/{id}/service asked for, once this connection holds the
 * account's key:
 *   msgs_state_req     about the last message tgsim sent and one 60 s ahead (never sent): a
 *                      client answers msgs_state_info, a received byte then 3
 *   msg_resend_req     for a msg_id the client never sent: msgs_state_info (it cannot resend)
 *   msg_detailed_info  naming an answer_msg_id never sent: the client asks msg_resend_req for it
 * The answers are recorded on the account (GET /control/accounts/{id}/service). */
static bool send_ask(struct dc_conn *c)
{
    char kind[sizeof c->ask_kind] = "";
    struct world *w = c->d->w;
    world_lock(w);
    struct dc_key *k = c->key && c->key->owner == c ? auth_key(c->key) : NULL;
    struct sim_account *a = k && k->user_id ? world_account(w, k->user_id) : NULL;
    if (a && a->service_ask[0]) {
        memcpy(kind, a->service_ask, sizeof kind);
        a->service_ask[0] = 0;
    }
    world_unlock(w);
    if (!kind[0]) return true;
    int64_t ahead = ((c->last_out_id + (60ll << 32)) & ~(int64_t)3) | 1;
    int64_t mine = c->max_msg_id ? c->max_msg_id : (int64_t)((uint64_t)world_now() << 32);
    json_t *j;
    bool content = true;
    if (!strcmp(kind, "msgs_state_req")) {
        c->ask_about = ahead;
        j = json_pack("{s:s,s:[I,I]}", "_", "msgs_state_req", "msg_ids", (json_int_t)c->last_out_id,
                      (json_int_t)ahead);
    } else if (!strcmp(kind, "msg_resend_req")) {
        c->ask_about = (mine - (1ll << 32)) & ~(int64_t)3;
        j = json_pack("{s:s,s:[I]}", "_", "msg_resend_req", "msg_ids", (json_int_t)c->ask_about);
    } else {
        c->ask_about = ahead;
        content = false;
        j = json_pack("{s:s,s:I,s:I,s:i,s:i}", "_", "msg_detailed_info", "msg_id", (json_int_t)mine,
                      "answer_msg_id", (json_int_t)ahead, "bytes", 64, "status", 0);
    }
    memcpy(c->ask_kind, kind, sizeof kind);
    bool ok = send_json(c, j, content);
    c->ask_id = c->last_out_id;
    return ok;
}

/* msgs_state_req, msg_resend_req, msgs_state_info and destroy_session from the client. */
static bool on_service(struct dc_conn *c, int64_t msg_id, const json_t *j)
{
    const json_t *ids = json_object_get(j, "msg_ids");
    if (tl_is(j, "msgs_state_req")) return send_state_info(c, msg_id, ids);
    if (tl_is(j, "msg_resend_req")) {
        /* tgsim keeps no message once sent: the documented answer is msgs_state_info for all */
        for (size_t i = 0; i < json_array_size(ids); i++)
            if (!strcmp(c->ask_kind, "msg_detailed_info") &&
                json_integer_value(json_array_get(ids, i)) == c->ask_about) {
                record_answer(c, json_pack("{s:s,s:s,s:O}", "_", "msg_resend_req", "asked",
                                           c->ask_kind, "msg_ids", ids));
                break;
            }
        return send_state_info(c, msg_id, ids);
    }
    if (tl_is(j, "msgs_state_info")) {
        int64_t req = 0;
        (void)tl_get_long(j, "req_msg_id", &req, NULL);
        uint8_t info[64];
        size_t n = 0;
        if (req && req == c->ask_id && !tl_get_bytes(j, "info", info, sizeof info, &n, NULL)) {
            json_t *bytes = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(bytes, json_integer(info[i]));
            record_answer(c, json_pack("{s:s,s:s,s:o}", "_", "msgs_state_info", "asked",
                                       c->ask_kind, "info", bytes));
        }
        return true;
    }
    /* destroy_session: forgets a session of this key other than the current one */
    int64_t sid = 0;
    (void)tl_get_long(j, "session_id", &sid, NULL);
    bool found = false;
    world_lock(c->d->w);
    struct dc_key *k = c->key;
    for (unsigned i = 0; i < k->nsessions && sid != c->session_id; i++)
        if (k->sessions[i] == sid) {
            memmove(k->sessions + i, k->sessions + i + 1, (k->nsessions - i - 1) * 8);
            k->nsessions--;
            found = true;
            break;
        }
    world_unlock(c->d->w);
    return send_json(c,
                     json_pack("{s:s,s:I}", "_",
                               found ? "destroy_session_ok" : "destroy_session_none", "session_id",
                               (json_int_t)sid),
                     true);
}

/* auth.bindTempAuthKey sent under msg_id on this connection's key (world lock held): the
 * binding sealed with the permanent key must name this call's msg_id, this temporary key, this
 * session and the call's own perm_auth_key_id, nonce and expires_at. A binding replaces the
 * permanent key's earlier one; the key ends at the binding's expires_at if that is sooner. */
static json_t *bind_temp_key(struct dc_conn *c, int64_t msg_id, const json_t *q)
{
    struct dc_key *t = c->key;
    if (!t->temp) return dc_rpc_error(400, "TEMP_AUTH_KEY_EMPTY");
    int64_t perm_id = 0, nonce = 0;
    int32_t expires_at = 0;
    uint8_t enc[512];
    size_t n = 0;
    if (tl_get_long(q, "perm_auth_key_id", &perm_id, NULL) ||
        tl_get_long(q, "nonce", &nonce, NULL) || tl_get_int(q, "expires_at", &expires_at, NULL) ||
        tl_get_bytes(q, "encrypted_message", enc, sizeof enc, &n, NULL))
        return dc_rpc_error(400, "ENCRYPTED_MESSAGE_INVALID");
    struct dc_key *p = key_find(c->d, (uint64_t)perm_id);
    struct mt_bind b;
    int64_t inner_msg_id = 0;
    if (!p || p->temp || p->dc != c->dc || mt_bind_open(p->key, enc, n, &b, &inner_msg_id, NULL) ||
        inner_msg_id != msg_id || b.nonce != nonce || b.perm_auth_key_id != (uint64_t)perm_id ||
        b.temp_auth_key_id != t->id || b.temp_session_id != c->session_id ||
        b.expires_at != expires_at)
        return dc_rpc_error(400, "ENCRYPTED_MESSAGE_INVALID");
    if (t->perm && t->perm != p) return dc_rpc_error(400, "TEMP_AUTH_KEY_ALREADY_BOUND");
    if (p->bound && p->bound != t) p->bound->perm = NULL;
    p->bound = t;
    t->perm = p;
    if (expires_at < t->expires_at) t->expires_at = expires_at;
    c->d->w->temp_binds++;
    return json_pack("{s:s}", "_", "boolTrue");
}

/* One message of a packet; every gzip_packed in the packet draws on gz (see tl_codec.h). */
static bool on_message(struct dc_conn *c, int64_t msg_id, int32_t seqno, const uint8_t *body,
                       size_t len, int depth, struct tl_inflate *gz)
{
    if (len < 4 || depth > 2) return false;
    uint32_t id = tl_read_u32(body);
    if (id == TL_ID_msg_container) return on_container(c, body, len, depth, gz);
    if (id == TL_ID_msgs_ack) return true;
    json_t *j = NULL;
    struct dm_error e = {0};
    if (dc_tl_decode(body, len, gz, &j, NULL, &e)) {
        /* an undecodable call still gets an answer, so the client does not wait forever */
        return send_result(c, msg_id, dc_rpc_error(400, "INPUT_CONSTRUCTOR_INVALID"));
    }
    bool ok = true;
    if (tl_is(j, "ping") || tl_is(j, "ping_delay_disconnect")) {
        int32_t delay = 0;
        if (!tl_get_int(j, "disconnect_delay", &delay, NULL))
            c->disconnect_at = delay > 0 ? now_mono() + delay : 0;
        ok = send_json(c,
                       json_pack("{s:s,s:I,s:O}", "_", "pong", "msg_id", (json_int_t)msg_id,
                                 "ping_id", json_object_get(j, "ping_id")),
                       true);
    } else if (tl_is(j, "destroy_session") || tl_is(j, "msgs_state_req") ||
               tl_is(j, "msg_resend_req") || tl_is(j, "msgs_state_info")) {
        ok = on_service(c, msg_id, j);
    } else if (tl_is(j, "get_future_salts")) {
        ok = send_json(c, future_salts(c, msg_id, j), true);
    } else if (tl_is(j, "http_wait") || tl_is(j, "msgs_all_info") ||
               tl_is(j, "msg_detailed_info") || tl_is(j, "msg_new_detailed_info")) {
        /* service messages tgsim does not need to answer */
    } else {
        const json_t *q = unwrap_call(c, j);
        world_lock(c->d->w);
        json_t *res;
        if (tl_is(q, "auth.bindTempAuthKey")) {
            res = bind_temp_key(c, msg_id, q);
        } else if (c->key->temp && !c->key->perm && !tl_is(q, "help.getConfig") &&
                   !tl_is(q, "help.getNearestDc")) {
            res = dc_rpc_error(401, "AUTH_KEY_PERM_EMPTY"); /* the docs' list for unbound keys */
            c->d->w->perm_empty++;
        } else {
            struct dc_call call = {c->d->w, c->d, auth_key(c->key), c->dc, q};
            res = dc_rpc_call(&call);
            if (!tl_is(res, "rpc_error") && !tl_is(j, "invokeWithoutUpdates"))
                push_start(c, call.key);
        }
        world_unlock(c->d->w);
        ok = send_result(c, msg_id, res);
    }
    (void)seqno;
    json_decref(j);
    return ok;
}

static bool session_known(struct dc_key *k, int64_t sid)
{
    for (unsigned i = 0; i < k->nsessions; i++)
        if (k->sessions[i] == sid) return true;
    return false;
}

/* Has the client closed (or reset) the connection? Its fd must be open: the caller is the
 * connection's thread, or holds the world lock while the connection owns a key. */
static bool conn_closed(const struct dc_conn *c)
{
    struct pollfd p = {c->fd, POLLRDHUP, 0};
    return poll(&p, 1, 0) != 0; /* a hang-up, reset or error is waiting to be read */
}

/* Connection c uses key k (world lock held). When another connection owns k and is still in use
 * (not closed by its client, and it carried a message within KEY_ACTIVE seconds), one authorized
 * key is used from two connections at once: AUTH_KEY_DUPLICATED for good, as Telegram. A client
 * reconnecting after its old socket died takes the key over, even when the old connection's
 * thread has not noticed yet; and the last messages of a connection its client has already
 * closed (read late, e.g. after a freeze) neither take the key back nor count as a second user. */
static void key_claim(struct dc_key *k, struct dc_conn *c)
{
    struct dc_conn *o = k->owner;
    if (o && o != c) {
        if (conn_closed(c)) return;
        struct dc_key *a = auth_key(k);
        if (a->user_id && now_mono() - o->last_rx <= KEY_ACTIVE && !conn_closed(o))
            a->duplicated = true;
    }
    k->owner = c;
    c->last_rx = now_mono();
}

static bool on_encrypted(struct dc_conn *c, const uint8_t *pkt, size_t len)
{
    struct dcs *d = c->d;
    uint64_t key_id = tl_read_u64(pkt);
    world_lock(d->w);
    struct dc_key *k = key_find(d, key_id);
    if (k && (k->dc != c->dc || (k->temp && (world_now() >= k->expires_at ||
                                             k->created_ms < d->w->temp_keys_before_ms))))
        k = NULL; /* a temporary key's end: -404, and the client makes a new one */
    if (k) {
        if (c->key && c->key != k && c->key->owner == c) c->key->owner = NULL;
        c->key = k;
        key_claim(k, c);
        c->salt_life = d->w->salt_lifetime;
        c->salt_now = salt_of(k, salt_period(c->salt_life, salt_clock()));
    }
    world_unlock(d->w);
    if (!k) {
        send_transport_error(c, -404);
        return false;
    }
    struct buf plain;
    buf_init(&plain, MAX_PACKET + 2048);
    size_t n = 0;
    bool ok = false;
    if (crypto_msg_decrypt(k->key, CRYPTO_FROM_CLIENT, pkt, len, &plain, &n, NULL) || n < 32) {
        send_transport_error(c, -404);
        goto done;
    }
    const uint8_t *p = (const uint8_t *)plain.data;
    int64_t salt = (int64_t)tl_read_u64(p), sid = (int64_t)tl_read_u64(p + 8),
            msg_id = (int64_t)tl_read_u64(p + 16);
    int32_t seqno = (int32_t)tl_read_u32(p + 24);
    ok = true;
    if (sid != c->session_id || !c->session_id) {
        c->session_id = sid;
        c->seq = 0;
        c->max_msg_id = 0;
        c->max_msg_seqno = 0;
        world_lock(d->w);
        bool known = session_known(k, sid);
        if (!known) {
            if (k->nsessions == DC_MAX_SESSIONS)
                memmove(k->sessions, k->sessions + 1, sizeof k->sessions - 8), k->nsessions--;
            k->sessions[k->nsessions++] = sid;
        }
        world_unlock(d->w);
        int64_t unique;
        dc_random(&unique, sizeof unique);
        if (!known)
            ok = send_json(c,
                           json_pack("{s:s,s:I,s:I,s:I}", "_", "new_session_created",
                                     "first_msg_id", (json_int_t)msg_id, "unique_id",
                                     (json_int_t)unique, "server_salt", (json_int_t)c->salt_now),
                           true);
    }
    int code = ok ? msg_id_check(c, msg_id, seqno) : 0;
    if (!ok) {
    } else if (code) {
        ok = send_bad_msg(c, msg_id, seqno, code);
    } else if (!salt_ok(c, salt, salt_clock())) {
        world_lock(d->w);
        d->w->bad_server_salt++;
        if (c->salt_refused || c->salts_given) d->w->bad_server_salt_repeated++;
        world_unlock(d->w);
        c->salt_refused = true;
        ok = send_json(c,
                       json_pack("{s:s,s:I,s:i,s:i,s:I}", "_", "bad_server_salt", "bad_msg_id",
                                 (json_int_t)msg_id, "bad_msg_seqno", seqno, "error_code", 48,
                                 "new_server_salt", (json_int_t)c->salt_now),
                       false);
    } else {
        note_recv(c, msg_id, seqno);
        struct tl_inflate gz = TL_INFLATE_INIT; /* for the whole packet */
        ok = on_message(c, msg_id, seqno, p + 32, n - 32, 0, &gz);
    }
done:
    OPENSSL_cleanse(plain.data, plain.len);
    buf_release(&plain);
    return ok;
}

/* ---- connections ---- */

static void *conn_main(void *arg)
{
    struct dc_conn *c = arg;
    uint8_t *rb = malloc(1 << 16);
    double last = now_mono();
    bool keep = rb != NULL;
    while (keep && !c->d->stop) {
        struct pollfd p[2] = {{c->fd, POLLIN, 0}, {c->wake_fd, POLLIN, 0}};
        double wait = 0.2; /* seconds; to the microsecond, so that the latency is what was asked */
        if (c->delayed) wait = DM_MIN(wait, DM_MAX(0.0, c->delayed->due - now_mono()));
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        int pr = ppoll(p, 2, &ts, NULL);
        eventfd_t woken;
        if (pr > 0 && (p[1].revents & POLLIN)) (void)eventfd_read(c->wake_fd, &woken);
        if (c->delayed && !send_delayed(c, false)) break;
        if (c->session_id && c->key && !send_ask(c)) break;
        if (c->upd_on && !push_updates(c)) break;
        double now = now_mono();
        if ((c->disconnect_at && now > c->disconnect_at) || now - last > IDLE_TIMEOUT) break;
        if (pr <= 0 || !(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t r = recv(c->fd, rb, 1 << 16, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        last = now;
        for (size_t off = 0; off < (size_t)r && keep;) {
            size_t used = 0, len = 0;
            const uint8_t *pkt = NULL;
            bool ready = false;
            if (transport_read(&c->tr, rb + off, (size_t)r - off, &used, &pkt, &len, &ready,
                               NULL)) {
                keep = false;
                break;
            }
            off += used;
            if (!ready) continue;
            if (len < 8)
                keep = false;
            else if (tl_read_u64(pkt) == 0)
                keep = on_plain(c, pkt, len);
            else
                keep = on_encrypted(c, pkt, len);
        }
    }
    free(rb);
    while (c->delayed) { /* answers that will not be sent any more */
        struct delayed *x = c->delayed;
        c->delayed = x->next;
        OPENSSL_cleanse(x->body, x->len);
        free(x);
    }
    world_lock(c->d->w);
    if (c->key && c->key->owner == c) c->key->owner = NULL;
    world_unlock(c->d->w);
    close(c->fd);
    c->fd = -1;
    close(c->wake_fd); /* push_hook reaches a connection only through a key it owns */
    c->wake_fd = -1;
    transport_release(&c->tr);
    buf_release(&c->out);
    OPENSSL_cleanse(c->tmp_key, sizeof c->tmp_key);
    OPENSSL_cleanse(c->a, sizeof c->a);
    c->done = true;
    return NULL;
}

/* Joins and frees finished connections (all of them when `all`). */
static void reap(struct dcs *d, bool all)
{
    pthread_mutex_lock(&d->conns_mu);
    struct dc_conn **pp = &d->conns;
    while (*pp) {
        struct dc_conn *c = *pp;
        if (all || c->done) {
            *pp = c->next;
            pthread_join(c->th, NULL);
            free(c);
        } else {
            pp = &c->next;
        }
    }
    pthread_mutex_unlock(&d->conns_mu);
}

static void *accept_main(void *arg)
{
    struct dcs *d = arg;
    struct pollfd p[DC_MAX];
    for (int i = 0; i < d->n; i++)
        p[i] = (struct pollfd){d->lfd[i], POLLIN, 0};
    while (!d->stop) {
        if (poll(p, (nfds_t)d->n, 200) <= 0) continue;
        reap(d, false);
        for (int i = 0; i < d->n; i++) {
            if (!(p[i].revents & POLLIN)) continue;
            int fd = accept(d->lfd[i], NULL, NULL);
            if (fd < 0) continue;
            struct dc_conn *c = calloc(1, sizeof *c);
            if (!c) {
                close(fd);
                continue;
            }
            c->d = d;
            c->fd = fd;
            c->dc = i + 1;
            if ((c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
                close(fd);
                free(c);
                continue;
            }
            transport_init(&c->tr, TRANSPORT_DETECT, true, MAX_PACKET + 2048);
            buf_init(&c->out, MAX_PACKET + 4096);
            pthread_mutex_lock(&d->conns_mu);
            if (pthread_create(&c->th, NULL, conn_main, c) != 0) {
                pthread_mutex_unlock(&d->conns_mu);
                transport_release(&c->tr);
                close(fd);
                close(c->wake_fd);
                free(c);
                continue;
            }
            c->next = d->conns;
            d->conns = c;
            pthread_mutex_unlock(&d->conns_mu);
        }
    }
    return NULL;
}

/* ---- start and stop ---- */

static dm_err make_key(struct dcs *d, const char *pem_path, struct dm_error *e)
{
    EVP_PKEY *pk = EVP_RSA_gen(2048);
    BIO *pub = BIO_new(BIO_s_mem()), *priv = BIO_new(BIO_s_mem());
    dm_err rc = DM_ECRYPTO;
    char *p;
    long n;
    /* the public key as PKCS#1 "BEGIN RSA PUBLIC KEY", the form Telegram publishes its keys in */
    OSSL_ENCODER_CTX *enc = pk ? OSSL_ENCODER_CTX_new_for_pkey(pk, OSSL_KEYMGMT_SELECT_PUBLIC_KEY,
                                                               "PEM", "type-specific", NULL)
                               : NULL;
    bool written = enc && pub && OSSL_ENCODER_to_bio(enc, pub) == 1;
    OSSL_ENCODER_CTX_free(enc);
    if (!written || !priv || !PEM_write_bio_PrivateKey(priv, pk, NULL, NULL, 0, NULL, NULL)) {
        rc = dm_fail(e, DM_ECRYPTO, "cannot generate an RSA key");
        goto done;
    }
    n = BIO_get_mem_data(pub, &p);
    char *pubs = strndup(p, (size_t)n);
    rc = pubs ? crypto_rsa_key_from_pem(pubs, &d->pub, e) : dm_fail(e, DM_ENOMEM, "out of memory");
    if (!rc) {
        FILE *f = fopen(pem_path, "w");
        if (!f || fwrite(pubs, 1, (size_t)n, f) != (size_t)n)
            rc = dm_fail(e, DM_EIO, "cannot write %s: %s", pem_path, strerror(errno));
        if (f && fclose(f) && !rc)
            rc = dm_fail(e, DM_EIO, "cannot write %s: %s", pem_path, strerror(errno));
    }
    free(pubs);
    if (!rc) {
        n = BIO_get_mem_data(priv, &p);
        if (!(d->priv_pem = strndup(p, (size_t)n))) rc = dm_fail(e, DM_ENOMEM, "out of memory");
    }
done:
    BIO_free(pub);
    BIO_free_all(priv);
    EVP_PKEY_free(pk);
    return rc;
}

dm_err dc_start(struct world *w, const char *pem_path, const uint16_t *ports, int n,
                struct dcs **out, struct dm_error *e)
{
    if (n < 1 || n > DC_MAX) return dm_fail(e, DM_EINVAL, "1 to %d DCs", DC_MAX);
    struct dcs *d = calloc(1, sizeof *d);
    if (!d) return dm_fail(e, DM_ENOMEM, "out of memory");
    d->w = w;
    d->n = n;
    for (int i = 0; i < DC_MAX; i++)
        d->lfd[i] = -1;
    pthread_mutex_init(&d->conns_mu, NULL);
    dm_err rc = make_key(d, pem_path, e);
    for (int i = 0; i < n && !rc; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons(ports[i]),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        int one = 1;
        d->lfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (d->lfd[i] < 0 || setsockopt(d->lfd[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
            bind(d->lfd[i], (struct sockaddr *)&a, sizeof a) || listen(d->lfd[i], 64) ||
            getsockname(d->lfd[i], (struct sockaddr *)&a, &al))
            rc = dm_fail(e, DM_EIO, "dc %d: cannot listen on 127.0.0.1:%u: %s", i + 1, ports[i],
                         strerror(errno));
        else
            d->port[i] = ntohs(a.sin_port);
    }
    json_t *table = rc ? NULL : json_array();
    for (int i = 0; i < n && table; i++)
        json_array_append_new(table, json_pack("{s:i,s:s,s:i}", "id", i + 1, "host", "127.0.0.1",
                                               "port", d->port[i]));
    if (!rc && table) {
        world_lock(w);
        json_decref(w->dcs);
        w->dcs = json_pack("{s:o,s:s,s:I}", "dcs", table, "rsa_pem", pem_path, "rsa_fingerprint",
                           (json_int_t)d->pub.fingerprint);
        world_unlock(w);
    }
    if (!rc && pthread_create(&d->accept_th, NULL, accept_main, d) != 0)
        rc = dm_fail(e, DM_ENOMEM, "cannot start a thread");
    if (rc) {
        for (int i = 0; i < n; i++)
            if (d->lfd[i] >= 0) close(d->lfd[i]);
        free(d->priv_pem);
        free(d);
        return rc;
    }
    world_lock(w);
    w->upd_hook = push_hook;
    w->upd_ctx = d;
    world_unlock(w);
    *out = d;
    return DM_OK;
}

void dc_stop(struct dcs *d)
{
    if (!d) return;
    world_lock(d->w);
    d->w->upd_hook = NULL;
    world_unlock(d->w);
    d->stop = true;
    pthread_join(d->accept_th, NULL);
    reap(d, true);
    for (int i = 0; i < d->n; i++)
        close(d->lfd[i]);
    for (size_t i = 0; i < d->nkeys; i++) {
        OPENSSL_cleanse(d->keys[i], sizeof *d->keys[i]);
        free(d->keys[i]);
    }
    free(d->keys);
    dc_jr_index_free(d->jr_index);
    OPENSSL_cleanse(d->priv_pem, strlen(d->priv_pem));
    free(d->priv_pem);
    pthread_mutex_destroy(&d->conns_mu);
    free(d);
}
