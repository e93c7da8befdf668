/* The session layer against a server side written here with the crypto and TL codec: msg_id
 * and seqno rules, containers both ways, acks, rpc_result / gzip_packed / pong delivery,
 * bad_server_salt, bad_msg_notification and new_session_created recovery; a message under a
 * fixed msg_id (auth.bindTempAuthKey) goes alone and is never re-sent under another. */
#include "core/common.h"

#include "mtproto/gzip.h"
#include "mtproto/session.h"
#include "mtproto/tl_codec.h"
#include "testutil.h"

#include <zlib.h>

#define NOW ((int64_t)1700000000 * 1000000000 + 123456789)

static uint8_t key[256];

/* ---- the server side ---- */

struct msg {
    int64_t id;
    int32_t seqno;
    uint32_t ctor;
    const uint8_t *body;
    size_t len;
};

struct packet {
    uint8_t plain[1 << 20];
    int64_t salt, session_id, id;
    int32_t seqno;
    bool container;
    struct msg m[MT_CONTAINER_MAX + 1];
    size_t n;
};

/* Decrypts what the client sent and lists its messages (a container's, or the lone one). */
static bool parse(const struct buf *wire, struct packet *pk)
{
    struct buf plain;
    buf_init(&plain, sizeof pk->plain);
    size_t len;
    if (crypto_msg_decrypt(key, CRYPTO_FROM_CLIENT, (uint8_t *)wire->data, wire->len, &plain, &len,
                           NULL))
        return false;
    memcpy(pk->plain, plain.data, len);
    buf_release(&plain);
    const uint8_t *p = pk->plain;
    pk->salt = (int64_t)tl_read_u64(p);
    pk->session_id = (int64_t)tl_read_u64(p + 8);
    pk->id = (int64_t)tl_read_u64(p + 16);
    pk->seqno = (int32_t)tl_read_u32(p + 24);
    const uint8_t *body = p + 32;
    size_t blen = tl_read_u32(p + 28);
    pk->container = tl_read_u32(body) == 0x73f1f8dcu;
    pk->n = 0;
    if (!pk->container) {
        pk->m[pk->n++] = (struct msg){pk->id, pk->seqno, tl_read_u32(body), body, blen};
        return true;
    }
    uint32_t count = tl_read_u32(body + 4);
    size_t at = 8;
    for (uint32_t i = 0; i < count && i < DM_ARRAY_LEN(pk->m); i++) {
        struct msg *m = &pk->m[pk->n++];
        m->id = (int64_t)tl_read_u64(body + at);
        m->seqno = (int32_t)tl_read_u32(body + at + 8);
        m->len = tl_read_u32(body + at + 12);
        m->body = body + at + 16;
        m->ctor = tl_read_u32(m->body);
        at += 16 + m->len;
    }
    return at == blen;
}

/* Encrypts one server message (body given as JSON, or raw when json is NULL). */
static void server_send(const struct mt_session *s, struct buf *out, int64_t msg_id, int32_t seqno,
                        const char *json, const uint8_t *raw, size_t raw_len)
{
    struct buf body, plain;
    buf_init(&body, 1 << 20);
    buf_init(&plain, 1 << 20);
    if (json) {
        json_t *j = json_loads(json, 0, NULL);
        struct dm_error e = {0};
        if (!j || tl_encode(&body, j, NULL, &e)) {
            fprintf(stderr, "cannot encode %s: %s\n", json, e.msg);
            abort();
        }
        json_decref(j);
    } else {
        buf_append(&body, raw, raw_len);
    }
    tl_put_u64(&plain, 0x1122334455667788ull);
    tl_put_u64(&plain, (uint64_t)s->session_id);
    tl_put_u64(&plain, (uint64_t)msg_id);
    tl_put_u32(&plain, (uint32_t)seqno);
    tl_put_u32(&plain, (uint32_t)body.len);
    buf_append(&plain, body.data, body.len);
    buf_reset(out);
    if (crypto_msg_encrypt(key, CRYPTO_FROM_SERVER, (uint8_t *)plain.data, plain.len, 0,
                           crypto_random, NULL, out, NULL))
        abort();
    buf_release(&body);
    buf_release(&plain);
}

/* A server msg_id at `sec` seconds (odd: 1 mod 4 for answers). */
static int64_t server_id(int64_t sec, int n)
{
    return (int64_t)((uint64_t)sec << 32) + 4 * n + 1;
}

/* ---- what the client saw ---- */

struct seen {
    uint64_t refs[64];
    char bodies[64][64];
    size_t n;
    uint64_t failed_ref;
    int failed_code;
    int new_sessions;
    int updates;
    char update[64]; /* the last pushed update's constructor */
};

static void on_result(void *ctx, uint64_t ref, const uint8_t *body, size_t len)
{
    struct seen *sn = ctx;
    json_t *j = NULL;
    tl_decode(body, len, NULL, &j, NULL, NULL);
    snprintf(sn->bodies[sn->n], sizeof sn->bodies[0], "%s",
             j ? json_string_value(json_object_get(j, "_")) : "?");
    sn->refs[sn->n++] = ref;
    json_decref(j);
}

static void on_failed(void *ctx, uint64_t ref, int code)
{
    struct seen *sn = ctx;
    sn->failed_ref = ref;
    sn->failed_code = code;
}

static void on_new_session(void *ctx)
{
    ((struct seen *)ctx)->new_sessions++;
}

static void on_update(void *ctx, const uint8_t *body, size_t len)
{
    struct seen *sn = ctx;
    json_t *j = NULL;
    tl_decode(body, len, NULL, &j, NULL, NULL);
    snprintf(sn->update, sizeof sn->update, "%s",
             j ? json_string_value(json_object_get(j, "_")) : "?");
    sn->updates++;
    json_decref(j);
}

static const uint8_t get_config[4] = {0x6b, 0x18, 0xf9, 0xc4}; /* help.getConfig */

static void test_msg_id(void)
{
    struct mt_session s;
    CHECK(mt_session_init(&s, key, 7, crypto_random, NULL, NULL) == DM_OK, "init");
    int64_t prev = 0;
    bool ok = true;
    for (int i = 0; i < 1000; i++) {
        int64_t now =
            NOW + (i % 10 == 9 ? -5000000000ll : (int64_t)i * 10); /* the clock jumps back too */
        int64_t id = mt_session_msg_id(&s, now);
        ok &= id > prev && id % 4 == 0;
        prev = id;
    }
    CHECK(ok, "msg_ids strictly increase and are multiples of 4, even when the clock goes back");
    struct mt_session t;
    mt_session_init(&t, key, 7, crypto_random, NULL, NULL);
    int64_t id = mt_session_msg_id(&t, NOW);
    CHECK(id >> 32 == NOW / 1000000000, "msg_id carries unix time in its high 32 bits");
    CHECK((uint64_t)(id & 0xffffffff) >> 20 ==
              (uint64_t)((NOW % 1000000000) * 4294967296.0 / 1e9) >> 20,
          "and the fraction of the second in the low 32 bits");
    mt_session_sync_time(&t, NOW / 1000000000 + 3600, NOW);
    id = mt_session_msg_id(&t, NOW);
    CHECK(id >> 32 == NOW / 1000000000 + 3600, "the server time offset moves msg_ids");
    CHECK(s.session_id != t.session_id, "sessions get random ids");
    mt_session_release(&s);
    mt_session_release(&t);
}

static void test_flush_and_receive(void)
{
    struct mt_session s;
    struct dm_error e = {0};
    mt_session_init(&s, key, 0x0102030405060708, crypto_random, NULL, NULL);
    struct buf wire, in;
    buf_init(&wire, 4 << 20);
    buf_init(&in, 4 << 20);
    static struct packet pk;
    size_t count = 9;

    CHECK(mt_session_flush(&s, NOW, &wire, &count, &e) == DM_OK && count == 0 && wire.len == 0,
          "nothing queued: nothing sent");
    /* a lone content-related message */
    mt_session_enqueue(&s, get_config, 4, true, 100, false, &e);
    CHECK(mt_session_flush(&s, NOW, &wire, &count, &e) == DM_OK && count == 1, "one message: %s",
          e.msg);
    CHECK(parse(&wire, &pk) && !pk.container && pk.n == 1, "a lone message is not in a container");
    CHECK(pk.salt == 0x0102030405060708 && pk.session_id == s.session_id,
          "salt and session_id in the header");
    CHECK(pk.seqno == 1 && pk.id % 4 == 0,
          "first content-related message: seqno 1, msg_id %% 4 == 0");
    int64_t first_id = pk.id;

    /* the answer comes back; it is content-related, so it is acked in the next flush */
    char json[512];
    snprintf(json, sizeof json,
             "{\"_\":\"rpc_result\",\"req_msg_id\":%" PRId64 ",\"result\":{\"_\":\"boolTrue\"}}",
             first_id);
    server_send(&s, &in, server_id(NOW / 1000000000, 1), 1, json, NULL, 0);
    struct seen sn = {.n = 0};
    struct mt_session_events ev = {&sn, on_result, on_failed, on_new_session, on_update};
    CHECK(mt_session_receive(&s, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_OK, "receive: %s",
          e.msg);
    CHECK(sn.n == 1 && sn.refs[0] == 100 && strcmp(sn.bodies[0], "boolTrue") == 0,
          "rpc_result delivered to ref 100");
    CHECK(s.nsent == 0 && s.nacks == 1, "answered message leaves the sent list; one ack pending");
    CHECK(mt_session_receive(&s, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_OK && sn.n == 1,
          "a replayed message is ignored");

    /* three calls and the ack go out in one container */
    for (int i = 0; i < 3; i++)
        mt_session_enqueue(&s, get_config, 4, true, 200 + (uint64_t)i, false, &e);
    CHECK(mt_session_flush(&s, NOW, &wire, &count, &e) == DM_OK && count == 4, "container of 4");
    buf_reset(&wire);
    mt_session_flush(&s, NOW, &wire, &count, &e);
    CHECK(count == 0, "everything went in one packet");
    buf_reset(&wire);
    /* flush again with the same data to inspect it: rebuild from scratch */
    struct mt_session c;
    mt_session_init(&c, key, 5, crypto_random, NULL, NULL);
    c.acks[c.nacks++] = server_id(NOW / 1000000000, 9);
    for (int i = 0; i < 3; i++)
        mt_session_enqueue(&c, get_config, 4, true, 200 + (uint64_t)i, false, &e);
    buf_reset(&wire);
    mt_session_flush(&c, NOW, &wire, &count, &e);
    CHECK(parse(&wire, &pk) && pk.container && pk.n == 4, "msg_container with 4 messages");
    CHECK(pk.m[0].seqno == 1 && pk.m[1].seqno == 3 && pk.m[2].seqno == 5,
          "content-related seqnos 1, 3, 5");
    CHECK(pk.m[3].ctor == 0x62d6b459u && pk.m[3].seqno == 6,
          "msgs_ack last, seqno 6 (even, not content)");
    CHECK(tl_read_u64(pk.m[3].body + 12) == (uint64_t)server_id(NOW / 1000000000, 9),
          "it acks the server message");
    CHECK(pk.seqno == 6 && pk.id > pk.m[3].id && pk.m[0].id < pk.m[1].id,
          "container: even seqno, largest msg_id");
    int64_t container_id = pk.id, ids[3] = {pk.m[0].id, pk.m[1].id, pk.m[2].id};

    /* the server answers in a container: rpc_result, gzip_packed rpc_result, pong,
     * new_session_created */
    struct buf inner, gz, body;
    buf_init(&inner, 1 << 16);
    buf_init(&gz, 1 << 16);
    buf_init(&body, 1 << 16);
    json_t *cfg = json_pack("{s:s}", "_", "boolFalse");
    tl_encode(&inner, cfg, NULL, NULL);
    json_decref(cfg);
    gzip_deflate((uint8_t *)inner.data, inner.len, &gz, NULL);
    /* msg_container: new_session_created, rpc_result(ids[0]), rpc_result(ids[1], gzip_packed) */
    tl_put_u32(&body, 0x73f1f8dcu);
    tl_put_u32(&body, 3);
    struct buf one;
    buf_init(&one, 1 << 16);
    int64_t sec = NOW / 1000000000;
    for (int i = 0; i < 3; i++) {
        buf_reset(&one);
        if (i == 0) {
            json_t *j = json_pack("{s:s,s:I,s:I,s:I}", "_", "new_session_created", "first_msg_id",
                                  (json_int_t)ids[0], "unique_id", (json_int_t)77, "server_salt",
                                  (json_int_t)0x5555);
            tl_encode(&one, j, NULL, NULL);
            json_decref(j);
        } else {
            tl_put_u32(&one, 0xf35c6d01u);
            tl_put_u64(&one, (uint64_t)ids[i - 1]);
            if (i == 1) {
                tl_put_u32(&one, 0x997275b5u); /* boolTrue */
            } else {
                tl_put_u32(&one, 0x3072cfa1u);
                tl_put_bytes(&one, gz.data, gz.len);
            }
        }
        tl_put_u64(&body, (uint64_t)server_id(sec, 10 + i));
        tl_put_u32(&body, (uint32_t)(2 * i + 1));
        tl_put_u32(&body, (uint32_t)one.len);
        buf_append(&body, one.data, one.len);
    }
    server_send(&c, &in, server_id(sec, 20), 6, NULL, (uint8_t *)body.data, body.len);
    memset(&sn, 0, sizeof sn);
    CHECK(mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_OK,
          "container in: %s", e.msg);
    CHECK(sn.n == 2 && sn.refs[0] == 200 && sn.refs[1] == 201, "two results from the container");
    CHECK(strcmp(sn.bodies[1], "boolFalse") == 0, "gzip_packed result unpacked");
    CHECK(sn.new_sessions == 1 && c.server_salt == 0x5555,
          "new_session_created: salt adopted, reported");
    CHECK(c.nacks == 3,
          "three content-related inner messages to ack (the container itself is not)");

    /* bad_server_salt naming the container: the unanswered message is sent again with the new salt
     */
    snprintf(json, sizeof json,
             "{\"_\":\"bad_server_salt\",\"bad_msg_id\":%" PRId64
             ",\"bad_msg_seqno\":8,\"error_code\":48,"
             "\"new_server_salt\":4242}",
             container_id);
    server_send(&c, &in, server_id(sec, 30), 2, json, NULL, 0);
    CHECK(mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_OK,
          "bad_server_salt");
    CHECK(c.server_salt == 4242 && c.nqueue == 1 && c.queue[0]->ref == 202 && c.nsent == 0,
          "salt adopted, the third call re-queued");
    buf_reset(&wire);
    mt_session_flush(&c, NOW, &wire, &count, &e);
    CHECK(parse(&wire, &pk) && pk.salt == 4242 && pk.n == 2 && pk.m[0].id > container_id,
          "resent with the new salt and a fresh msg_id (with the acks)");
    int64_t resent_id = pk.m[0].id;

    /* an update the server pushes, outside any rpc_result: handed to events->update, acked */
    memset(&sn, 0, sizeof sn);
    snprintf(json, sizeof json,
             "{\"_\":\"updateShort\",\"update\":{\"_\":\"updatePendingJoinRequests\","
             "\"peer\":{\"_\":\"peerChannel\",\"channel_id\":77},\"requests_pending\":1,"
             "\"recent_requesters\":[5]},\"date\":1700000000}");
    size_t acks_before = c.nacks;
    server_send(&c, &in, server_id(sec, 31), 3, json, NULL, 0);
    CHECK(mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_OK &&
              sn.updates == 1 && strcmp(sn.update, "updateShort") == 0 && sn.n == 0 &&
              c.nacks == acks_before + 1,
          "a pushed updateShort reaches events->update, answers no call, and is acked: %s", e.msg);

    /* bad_msg_notification 17 (msg_id too high): the clock is corrected from the notice's msg_id */
    int64_t server_sec = sec - 4000;
    snprintf(json, sizeof json,
             "{\"_\":\"bad_msg_notification\",\"bad_msg_id\":%" PRId64
             ",\"bad_msg_seqno\":11,\"error_code\":17}",
             resent_id);
    server_send(&c, &in, server_id(server_sec, 1), 2, json, NULL, 0);
    CHECK(mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_OK,
          "bad_msg_notification 17");
    CHECK(c.time_offset == -4000 && c.nqueue == 1, "time offset -4000 s, message re-queued");
    buf_reset(&wire);
    mt_session_flush(&c, NOW, &wire, &count, &e);
    CHECK(parse(&wire, &pk) && pk.m[0].id >> 32 == server_sec && pk.m[0].ctor == 0xc4f9186bu,
          "resent with a msg_id on the server's clock");
    resent_id = pk.m[0].id;

    /* bad_msg_notification 32 (seqno too low): the seqno jumps ahead and the message goes again */
    int32_t seq_before = pk.m[0].seqno;
    snprintf(json, sizeof json,
             "{\"_\":\"bad_msg_notification\",\"bad_msg_id\":%" PRId64
             ",\"bad_msg_seqno\":11,\"error_code\":32}",
             resent_id);
    server_send(&c, &in, server_id(server_sec, 100), 2, json, NULL, 0);
    CHECK(mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_OK &&
              c.nqueue == 1,
          "bad_msg_notification 32 re-queues");
    buf_reset(&wire);
    mt_session_flush(&c, NOW, &wire, &count, &e);
    CHECK(parse(&wire, &pk) && pk.m[0].seqno == seq_before + 2 + 128 && pk.m[0].id > resent_id,
          "resent with seqno %d (was %d) and a fresh msg_id", pk.m[0].seqno, seq_before);
    resent_id = pk.m[0].id;

    /* bad_msg_notification 64 (invalid container) is final */
    snprintf(json, sizeof json,
             "{\"_\":\"bad_msg_notification\",\"bad_msg_id\":%" PRId64
             ",\"bad_msg_seqno\":11,\"error_code\":64}",
             resent_id);
    server_send(&c, &in, server_id(server_sec, 2), 2, json, NULL, 0);
    CHECK(mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_OK,
          "bad_msg_notification 64");
    CHECK(sn.failed_ref == 202 && sn.failed_code == 64 && c.nsent == 0 && c.nqueue == 0,
          "code 64 fails the call");

    /* pong answers the ping by its msg_id; msg_detailed_info gets its answer acked */
    uint8_t ping[12] = {0xec, 0x77, 0xbe, 0x7a, 1, 2, 3, 4, 5, 6, 7, 8};
    mt_session_enqueue(&c, ping, sizeof ping, true, 1, false, &e);
    buf_reset(&wire);
    mt_session_flush(&c, NOW, &wire, &count, &e);
    parse(&wire, &pk);
    snprintf(json, sizeof json,
             "{\"_\":\"pong\",\"msg_id\":%" PRId64 ",\"ping_id\":578437695752307201}", pk.m[0].id);
    server_send(&c, &in, server_id(server_sec, 3), 1, json, NULL, 0);
    memset(&sn, 0, sizeof sn);
    CHECK(mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_OK && sn.n == 1 &&
              sn.refs[0] == 1 && strcmp(sn.bodies[0], "pong") == 0,
          "pong delivered to the ping's ref");
    server_send(
        &c, &in, server_id(server_sec, 4), 0,
        "{\"_\":\"msg_new_detailed_info\",\"answer_msg_id\":99999,\"bytes\":10,\"status\":0}", NULL,
        0);
    c.nacks = 0;
    size_t queued = c.nqueue;
    mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e);
    CHECK(c.nacks == 0 && c.nqueue == queued + 1 && c.queue[0]->len == 20 &&
              tl_read_u32(c.queue[0]->body) == 0x7d861a08u &&
              tl_read_u64(c.queue[0]->body + 12) == 99999,
          "msg_new_detailed_info for an answer never received: msg_resend_req for it");
    mt_session_forget(&c, 0);
    snprintf(json, sizeof json,
             "{\"_\":\"msg_detailed_info\",\"msg_id\":1,\"answer_msg_id\":%" PRId64
             ",\"bytes\":10,\"status\":0}",
             server_id(server_sec, 3));
    server_send(&c, &in, server_id(server_sec, 5), 0, json, NULL, 0);
    c.nacks = 0;
    mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e);
    CHECK(c.nacks == 1 && c.acks[0] == server_id(server_sec, 3),
          "msg_detailed_info for an answer received: acked");

    /* forgotten calls get no result */
    mt_session_enqueue(&c, get_config, 4, true, 300, false, &e);
    buf_reset(&wire);
    mt_session_flush(&c, NOW, &wire, &count, &e);
    parse(&wire, &pk);
    int64_t forgotten = pk.m[0].id;
    mt_session_forget(&c, 300);
    snprintf(json, sizeof json,
             "{\"_\":\"rpc_result\",\"req_msg_id\":%" PRId64 ",\"result\":{\"_\":\"boolTrue\"}}",
             forgotten);
    server_send(&c, &in, server_id(server_sec, 5), 1, json, NULL, 0);
    memset(&sn, 0, sizeof sn);
    CHECK(mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_OK && sn.n == 0,
          "no result for a forgotten call");

    /* bad input */
    server_send(&c, &in, server_id(server_sec, 6), 1, "{\"_\":\"boolTrue\"}", NULL, 0);
    in.data[in.len - 1] ^= 1;
    CHECK(mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_ECRYPTO,
          "tampered: %s", e.msg);
    server_send(&c, &in, server_id(server_sec, 7) + 3, 1, "{\"_\":\"boolTrue\"}", NULL, 0);
    CHECK(mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_EPROTO,
          "even server msg_id");
    int64_t sid = c.session_id;
    c.session_id ^= 1;
    server_send(&c, &in, server_id(server_sec, 8), 1, "{\"_\":\"boolTrue\"}", NULL, 0);
    c.session_id = sid;
    c.nacks = 0;
    CHECK(mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_OK && c.nacks == 0,
          "another session's message is ignored");
    uint8_t bad_container[] = {0xdc, 0xf8, 0xf1, 0x73, 2, 0, 0, 0, 1,    0,    0, 0,
                               0,    0,    0,    0,    1, 0, 0, 0, 0xff, 0xff, 0, 0};
    server_send(&c, &in, server_id(server_sec, 9), 0, NULL, bad_container, sizeof bad_container);
    CHECK(mt_session_receive(&c, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_EPROTO,
          "overrunning container");

    /* reset: a new session on the same key */
    mt_session_enqueue(&c, get_config, 4, true, 400, false, &e);
    CHECK(mt_session_reset(&c, &e) == DM_OK && c.session_id != sid && c.nqueue == 0 &&
              c.content_sent == 0 && c.server_salt == 4242 && c.time_offset == -4000,
          "reset: new id, empty queue, seqno from 0, salt and clock kept");

    buf_release(&inner);
    buf_release(&gz);
    buf_release(&body);
    buf_release(&one);
    buf_release(&wire);
    buf_release(&in);
    mt_session_release(&c);
    mt_session_release(&s);
}

static void test_limits(void)
{
    struct mt_session s;
    struct dm_error e = {0};
    mt_session_init(&s, key, 1, crypto_random, NULL, NULL);
    struct buf wire;
    buf_init(&wire, 8 << 20);
    static struct packet pk;
    for (uint64_t i = 1; i <= 250; i++)
        mt_session_enqueue(&s, get_config, 4, true, i, false, &e);
    size_t sizes[4] = {0}, count, np = 0;
    bool order = true;
    uint64_t next = 1;
    while (mt_session_has_output(&s, true) && np < 4) {
        buf_reset(&wire);
        mt_session_flush(&s, NOW, &wire, &count, &e);
        sizes[np++] = count;
        parse(&wire, &pk);
        for (size_t i = 0; i < pk.n; i++)
            order &= pk.m[i].seqno == (int32_t)(2 * (next++ - 1) + 1);
    }
    CHECK(np == 3 && sizes[0] == MT_CONTAINER_MAX && sizes[1] == MT_CONTAINER_MAX && sizes[2] == 50,
          "250 calls go out as 100 + 100 + 50");
    CHECK(order && s.nsent == 250, "in order with consecutive odd seqnos; all 250 await answers");
    uint8_t big[8] = {0};
    CHECK(mt_session_enqueue(&s, big, 3, true, 1, false, &e) == DM_EINVAL,
          "a body that is not whole words");
    mt_session_forget(&s, 7);
    CHECK(s.nsent == 249, "forget removes a sent message");
    buf_release(&wire);
    mt_session_release(&s);
}

/* ---- gzip_packed ---- */

/* Appends gzip_packed(data) to out: a zlib stream (compress2) or a gzip one (gzip_deflate). */
static void put_packed(struct buf *out, const void *data, size_t n, bool zlib)
{
    struct buf z;
    buf_init(&z, TL_MAX_GZIP);
    if (zlib) {
        uLongf zn = compressBound(n);
        uint8_t *zb = malloc(zn);
        if (!zb || compress2(zb, &zn, data, n, 6) != Z_OK || buf_append(&z, zb, zn)) abort();
        free(zb);
    } else if (gzip_deflate(data, n, &z, NULL)) {
        abort();
    }
    if (tl_put_u32(out, 0x3072cfa1u) || tl_put_bytes(out, z.data, z.len)) abort();
    buf_release(&z);
}

/* rpc_result(req, result[0..n)) */
static void put_result(struct buf *out, int64_t req, const void *result, size_t n)
{
    tl_put_u32(out, 0xf35c6d01u);
    tl_put_u64(out, (uint64_t)req);
    buf_append(out, result, n);
}

/* Where Telegram sends it (a whole message, the result of an rpc_result), as gzip or zlib; one
 * inside another refused, here or when the answer is decoded; all of a packet's gzip_packed
 * within TL_MAX_GZIP together. */
static void test_gzip(void)
{
    struct mt_session s;
    struct dm_error e = {0};
    mt_session_init(&s, key, 1, crypto_random, NULL, NULL);
    struct buf wire, in, msg, inner;
    buf_init(&wire, 1 << 20);
    buf_init(&in, 1 << 20);
    buf_init(&msg, 1 << 20);
    buf_init(&inner, TL_MAX_GZIP);
    for (uint64_t i = 1; i <= 6; i++)
        mt_session_enqueue(&s, get_config, 4, true, i, false, &e);
    size_t count = 0;
    static struct packet pk;
    CHECK(mt_session_flush(&s, NOW, &wire, &count, &e) == DM_OK && parse(&wire, &pk) && pk.n == 6,
          "six calls out");
    int64_t id[7] = {0};
    for (size_t i = 0; i < 6; i++)
        id[i + 1] = pk.m[i].id;
    int64_t sec = NOW / 1000000000;
    int n = 100;
    struct mt_session_events ev;
    struct seen sn;
    static const uint8_t bool_true[4] = {0xb5, 0x75, 0x72, 0x99},
                         bool_false[4] = {0x37, 0x97, 0x79, 0xbc};
#define RECEIVE(want)                                                                              \
    (memset(&sn, 0, sizeof sn),                                                                    \
     ev = (struct mt_session_events){&sn, on_result, on_failed, on_new_session, on_update},        \
     server_send(&s, &in, server_id(sec, n++), 1, NULL, (uint8_t *)msg.data, msg.len),             \
     mt_session_receive(&s, (uint8_t *)in.data, in.len, NOW, &ev, &e) == (want))

    /* a whole message in zlib (78 9c) */
    buf_reset(&inner), buf_reset(&msg);
    put_result(&inner, id[1], bool_true, 4);
    put_packed(&msg, inner.data, inner.len, true);
    CHECK(RECEIVE(DM_OK) && sn.n == 1 && sn.refs[0] == 1 && strcmp(sn.bodies[0], "boolTrue") == 0,
          "gzip_packed(zlib) message: %s", e.msg);
    /* an rpc_result's result in zlib */
    buf_reset(&inner), buf_reset(&msg);
    put_packed(&inner, bool_false, 4, true);
    put_result(&msg, id[2], inner.data, inner.len);
    CHECK(RECEIVE(DM_OK) && sn.n == 1 && sn.refs[0] == 2 && strcmp(sn.bodies[0], "boolFalse") == 0,
          "rpc_result(gzip_packed(zlib)): %s", e.msg);
    /* gzip_packed(gzip_packed(rpc_result)) */
    struct buf mid;
    buf_init(&mid, TL_MAX_GZIP);
    buf_reset(&inner), buf_reset(&msg);
    put_result(&inner, id[3], bool_true, 4);
    put_packed(&mid, inner.data, inner.len, false);
    put_packed(&msg, mid.data, mid.len, false);
    CHECK(RECEIVE(DM_EPROTO) && sn.n == 0 && strstr(e.msg, "inside gzip_packed"),
          "nested messages: %s", e.msg);
    /* gzip_packed(rpc_result(gzip_packed(boolTrue))) */
    buf_reset(&inner), buf_reset(&msg), buf_reset(&mid);
    put_packed(&mid, bool_true, 4, false);
    put_result(&inner, id[3], mid.data, mid.len);
    put_packed(&msg, inner.data, inner.len, true);
    CHECK(RECEIVE(DM_EPROTO) && sn.n == 0 && strstr(e.msg, "inside gzip_packed"),
          "a packed result in a packed message: %s", e.msg);
    /* rpc_result(gzip_packed(gzip_packed(boolTrue))): delivered unpacked once, and the answer does
     * not decode (tl_decode refuses the gzip_packed left in it) */
    buf_reset(&inner), buf_reset(&msg), buf_reset(&mid);
    put_packed(&mid, bool_true, 4, false);
    put_packed(&inner, mid.data, mid.len, false);
    put_result(&msg, id[3], inner.data, inner.len);
    CHECK(RECEIVE(DM_OK) && sn.n == 1 && sn.refs[0] == 3 && strcmp(sn.bodies[0], "?") == 0,
          "a doubly packed result is delivered once unpacked and does not decode");
    /* two results of 10 MiB each in one container: the second passes the packet's allowance */
    uint8_t *ten = calloc(1, 10u << 20);
    if (!ten) abort();
    memcpy(ten, bool_true, 4);
    buf_reset(&msg);
    tl_put_u32(&msg, 0x73f1f8dcu);
    tl_put_u32(&msg, 2);
    for (int i = 0; i < 2; i++) {
        buf_reset(&inner), buf_reset(&mid);
        put_packed(&mid, ten, 10u << 20, false);
        put_result(&inner, id[4 + i], mid.data, mid.len);
        tl_put_u64(&msg, (uint64_t)server_id(sec, 200 + i));
        tl_put_u32(&msg, 1);
        tl_put_u32(&msg, (uint32_t)inner.len);
        buf_append(&msg, inner.data, inner.len);
    }
    CHECK(RECEIVE(DM_ETOOBIG) && sn.n == 1 && sn.refs[0] == 4 && strstr(e.msg, "inflates past"),
          "20 MiB of results in one packet: %s", e.msg);
    printf("gzip_packed: two 10 MiB results in one packet (%zu bytes): %s\n", msg.len, e.msg);
    /* the second alone, in a packet of its own, is fine */
    buf_reset(&msg);
    buf_append(&msg, inner.data, inner.len);
    CHECK(RECEIVE(DM_OK) && sn.n == 1 && sn.refs[0] == 5 && strcmp(sn.bodies[0], "boolTrue") == 0,
          "10 MiB in a packet of its own: %s", e.msg);
#undef RECEIVE
    free(ten);
    buf_release(&mid);
    buf_release(&inner);
    buf_release(&msg);
    buf_release(&wire);
    buf_release(&in);
    mt_session_release(&s);
}

/* A future_salt object in JSON. */
static int salt_json(char *out, size_t n, int64_t since, int64_t until, int64_t salt)
{
    return snprintf(out, n,
                    "{\"_\":\"future_salt\",\"valid_since\":%" PRId64 ",\"valid_until\":%" PRId64
                    ",\"salt\":%" PRId64 "}",
                    since, until, salt);
}

/* future salts, msgs_state_req, msg_resend_req, destroy_session */
static void test_service(void)
{
    struct mt_session s;
    struct dm_error e = {0};
    struct buf in, wire;
    buf_init(&in, 1 << 20);
    buf_init(&wire, 1 << 20);
    mt_session_init(&s, key, 7, crypto_random, NULL, NULL);
    int64_t sec = NOW / 1000000000;
    char json[2048], a1[128], a2[128], a3[128], a4[128];
    size_t count;

    /* no salts yet: the service asks for 64, once within MT_SALTS_RETRY */
    mt_session_service(&s, NOW);
    CHECK(s.nqueue == 1 && tl_read_u32(s.queue[0]->body) == 0xb921bd04u &&
              tl_read_u32(s.queue[0]->body + 4) == MT_SALTS_MAX && s.queue[0]->ref == 0,
          "get_future_salts num 64 queued");
    mt_session_service(&s, NOW + 5000000000ll);
    CHECK(s.nqueue == 1, "not asked again within %d s", MT_SALTS_RETRY);
    /* listed out of order, with one already expired */
    salt_json(a1, sizeof a1, sec, sec + 10, 22);
    salt_json(a2, sizeof a2, sec + 10, sec + 20, 11);
    salt_json(a3, sizeof a3, sec - 10, sec, 33);
    salt_json(a4, sizeof a4, sec + 20, sec + 40, 44);
    snprintf(json, sizeof json,
             "{\"_\":\"future_salts\",\"req_msg_id\":4,\"now\":%" PRId64
             ",\"salts\":[%s,%s,%s,%s]}",
             sec, a1, a2, a3, a4);
    server_send(&s, &in, server_id(sec, 1), 0, json, NULL, 0);
    CHECK(mt_session_receive(&s, (uint8_t *)in.data, in.len, NOW, NULL, &e) == DM_OK &&
              s.nsalts == 4,
          "future_salts kept: %s", e.msg);
    CHECK(mt_session_use_salt(&s, sec) == 3 && s.server_salt == 22,
          "the salt valid now is used, the expired one dropped");
    CHECK(mt_session_use_salt(&s, sec + 10) == 2 && s.server_salt == 11, "then the next");
    mt_session_forget(&s, 0);
    mt_session_service(&s, NOW + 31000000000ll);
    CHECK(s.nqueue == 1 && s.server_salt == 44 && s.nsalts == 1,
          "at most %d left: more asked for, the last salt in use", MT_SALTS_LOW);
    mt_session_forget(&s, 0);
    CHECK(mt_session_use_salt(&s, sec + 40) == 0 && s.server_salt == 44,
          "all expired: the last salt stays until bad_server_salt brings another");

    /* msgs_state_req: what we know of each server message */
    s.nacks = 0;
    server_send(&s, &in, server_id(sec, 2), 1, "{\"_\":\"pong\",\"msg_id\":1,\"ping_id\":2}", NULL,
                0);
    mt_session_receive(&s, (uint8_t *)in.data, in.len, NOW, NULL, &e);
    server_send(&s, &in, server_id(sec, 4), 0, "{\"_\":\"msgs_ack\",\"msg_ids\":[1]}", NULL, 0);
    mt_session_receive(&s, (uint8_t *)in.data, in.len, NOW, NULL, &e);
    CHECK(mt_session_msg_state(&s, server_id(sec, 2)) == 4, "received, ack not yet sent: 4");
    CHECK(mt_session_msg_state(&s, server_id(sec, 4)) == 4 + 16, "received, needs no ack: 20");
    CHECK(mt_session_msg_state(&s, server_id(sec, 3)) == 2, "between received ones: 2");
    CHECK(mt_session_msg_state(&s, server_id(sec, 9)) == 3, "newer than all received: 3");
    s.nacks = 0;
    CHECK(mt_session_msg_state(&s, server_id(sec, 2)) == 4 + 8, "received and acked: 12");
    snprintf(json, sizeof json,
             "{\"_\":\"msgs_state_req\",\"msg_ids\":[%" PRId64 ",%" PRId64 ",%" PRId64 "]}",
             server_id(sec, 2), server_id(sec, 3), server_id(sec, 20));
    server_send(&s, &in, server_id(sec, 10), 0, json, NULL, 0);
    mt_session_forget(&s, 0);
    CHECK(mt_session_receive(&s, (uint8_t *)in.data, in.len, NOW, NULL, &e) == DM_OK &&
              s.nqueue == 1,
          "msgs_state_req answered");
    const uint8_t *a = s.queue[0]->body;
    CHECK(tl_read_u32(a) == 0x04deb57du && (int64_t)tl_read_u64(a + 4) == server_id(sec, 10) &&
              a[12] == 3 && a[13] == 12 && a[14] == 2 && a[15] == 3 && !s.queue[0]->content,
          "msgs_state_info: req_msg_id, then the bytes 12 2 3 (not content-related): %d %d %d %d",
          a[12], a[13], a[14], a[15]);

    /* msg_resend_req: resent when we hold them all, else msgs_state_info */
    mt_session_forget(&s, 0);
    uint8_t call[4] = {0x6b, 0x18, 0xf9, 0xc4};
    mt_session_enqueue(&s, call, 4, true, 9, false, &e);
    mt_session_flush(&s, NOW, &wire, &count, &e);
    int64_t sent_id = s.sent[0]->msg_id;
    snprintf(json, sizeof json, "{\"_\":\"msg_resend_req\",\"msg_ids\":[%" PRId64 "]}", sent_id);
    server_send(&s, &in, server_id(sec, 11), 0, json, NULL, 0);
    mt_session_receive(&s, (uint8_t *)in.data, in.len, NOW, NULL, &e);
    CHECK(s.nsent == 0 && s.nqueue == 1 && s.queue[0]->ref == 9, "a message we hold is sent again");
    mt_session_flush(&s, NOW, &wire, &count, &e);
    snprintf(json, sizeof json, "{\"_\":\"msg_resend_req\",\"msg_ids\":[%" PRId64 ",%" PRId64 "]}",
             s.sent[0]->msg_id, sent_id);
    server_send(&s, &in, server_id(sec, 12), 0, json, NULL, 0);
    mt_session_receive(&s, (uint8_t *)in.data, in.len, NOW, NULL, &e);
    CHECK(s.nsent == 1 && s.nqueue == 1 && tl_read_u32(s.queue[0]->body) == 0x04deb57du &&
              s.queue[0]->body[12] == 2,
          "one forgotten: msgs_state_info for both, nothing resent");

    /* destroy_session for the session before a reset */
    int64_t old = s.session_id;
    mt_session_reset(&s, &e);
    mt_session_service(&s, NOW);
    CHECK(s.nqueue >= 1 && tl_read_u32(s.queue[0]->body) == 0xe7512126u &&
              (int64_t)tl_read_u64(s.queue[0]->body + 4) == old,
          "destroy_session for the old session id");
    mt_session_forget(&s, 0);
    mt_session_service(&s, NOW);
    CHECK(s.nqueue == 0, "once");

    /* a full queue leaves the service messages out, and they are tried again */
    while (mt_session_enqueue(&s, call, 4, true, 9, false, NULL) == DM_OK) {
    }
    s.nsalts = 0;
    s.salts_asked = 0;
    size_t full = s.nqueue + s.nsent;
    mt_session_service(&s, NOW);
    CHECK(full == MT_SESSION_MAX_MSGS && s.nqueue + s.nsent == full && s.salts_asked == 0,
          "queue full: get_future_salts left out, to be asked later");
    mt_session_forget(&s, 9);
    mt_session_service(&s, NOW);
    CHECK(s.nqueue == 1 && tl_read_u32(s.queue[0]->body) == 0xb921bd04u, "then asked");
    buf_release(&wire);
    buf_release(&in);
    mt_session_release(&s);
}

static void test_fixed_msg_id(void)
{
    struct mt_session s;
    struct dm_error e = {0};
    struct buf wire, in;
    buf_init(&wire, 1 << 20);
    buf_init(&in, 1 << 20);
    static struct packet pk;
    size_t count;
    mt_session_init(&s, key, 9, crypto_random, NULL, NULL);
    int64_t sec = NOW / 1000000000;
    s.acks[s.nacks++] = server_id(sec, 3);
    mt_session_enqueue(&s, get_config, 4, true, 301, false, &e);
    int64_t fixed = mt_session_msg_id(&s, NOW);
    CHECK(mt_session_enqueue_at(&s, get_config, 4, fixed, 300, &e) == DM_OK, "queued: %s", e.msg);
    CHECK(mt_session_flush(&s, NOW, &wire, &count, &e) == DM_OK && count == 1 &&
              parse(&wire, &pk) && !pk.container && pk.id == fixed && pk.seqno == 1,
          "the fixed one goes first, alone, under its msg_id");
    CHECK(s.nacks == 1 && s.nqueue == 1, "the ack and the other call wait for the next packet");
    buf_reset(&wire);
    mt_session_flush(&s, NOW, &wire, &count, &e);
    CHECK(count == 2 && parse(&wire, &pk) && pk.container && pk.m[0].id > fixed,
          "then the rest, after it");
    char json[256];
    snprintf(json, sizeof json,
             "{\"_\":\"bad_server_salt\",\"bad_msg_id\":%" PRId64
             ",\"bad_msg_seqno\":1,\"error_code\":48,\"new_server_salt\":77}",
             fixed);
    server_send(&s, &in, server_id(sec, 5), 2, json, NULL, 0);
    struct seen sn = {.failed_ref = 0, .failed_code = -1};
    struct mt_session_events ev = {&sn, on_result, on_failed, on_new_session, on_update};
    CHECK(mt_session_receive(&s, (uint8_t *)in.data, in.len, NOW, &ev, &e) == DM_OK &&
              sn.failed_ref == 300 && sn.failed_code == 0 && s.nqueue == 0,
          "asked to send it again: reported failed, not re-sent under a new msg_id");
    mt_session_release(&s);
    buf_release(&wire);
    buf_release(&in);
}

int main(void)
{
    for (int i = 0; i < 256; i++)
        key[i] = (uint8_t)(i * 7 + 3);
    test_msg_id();
    test_flush_and_receive();
    test_limits();
    test_gzip();
    test_service();
    test_fixed_msg_id();
    return t_done("mtproto session");
}
