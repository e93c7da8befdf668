/* libFuzzer target: the session layer's receive path (mt_session_receive) on hostile messages that
 * decrypt. Each message is encrypted with the session's key, as a server would, so the bytes get
 * past msg_key into what the session does with them: containers, rpc_result, gzip_packed,
 * bad_server_salt, bad_msg_notification, new_session_created, pong, acks, replays.
 *
 * Before them the session has sent SENT calls and a ping, on a fixed clock with fixed "random"
 * bytes. Input: repeated [flags u8][len u16 LE][len bytes: msg_id u64 LE, seqno u32 LE, body].
 * flags bit 0: another session_id; bit 1: another salt; bit 2: flush after the message (acks and
 * re-queued calls go out, so later messages can name the new msg_ids). Any 8 bytes in a body
 * reading (LE) 0x5eed5eed5eed5eNN become the msg_id of sent message NN % (SENT + 1) (the ping is
 * the last), so seeds can answer our calls. Checked: every answer names a call we made and comes
 * at most once; the session keeps its caps; flushing afterwards works or fails cleanly.
 * fuzz-sources: src/mtproto/session.c src/mtproto/crypto.c src/mtproto/tl_codec.c
 * src/mtproto/gzip.c src/mtproto/tl/schema.c src/mtproto/tl/errors.c src/core/buf.c src/core/err.c
 * fuzz-pkgs: jansson zlib libcrypto */
#include "core/common.h"

#include "core/buf.h"
#include "mtproto/crypto.h"
#include "mtproto/session.h"
#include "mtproto/tl_codec.h"

#define SENT 8
#define NOW ((int64_t)1700000000 * 1000000000)
#define PLACEHOLDER 0x5eed5eed5eed5e00ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int answers[SENT + 2];

static dm_err fixed_random(void *ctx, uint8_t *out, size_t n)
{
    uint32_t *state = ctx;
    for (size_t i = 0; i < n; i++) {
        *state = *state * 1103515245u + 12345u;
        out[i] = (uint8_t)(*state >> 16);
    }
    return DM_OK;
}

static void on_result(void *ctx, uint64_t ref, const uint8_t *body, size_t len)
{
    (void)ctx;
    if (ref < 1 || ref > SENT + 1 || answers[ref]++) abort(); /* not ours, or answered twice */
    if (len && !body) abort();
}

static void on_failed(void *ctx, uint64_t ref, int code)
{
    (void)ctx;
    (void)code;
    if (ref < 1 || ref > SENT + 1 || answers[ref]++) abort();
}

static void on_new_session(void *ctx)
{
    (void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t key[CRYPTO_AUTH_KEY_SIZE];
    for (int i = 0; i < CRYPTO_AUTH_KEY_SIZE; i++)
        key[i] = (uint8_t)(i * 131 + 7);
    uint32_t seed = 1;
    memset(answers, 0, sizeof answers);
    struct mt_session s;
    if (mt_session_init(&s, key, 0x1122334455667788, fixed_random, &seed, NULL)) return 0;
    struct buf wire, plain, body;
    buf_init(&wire, 4u << 20);
    buf_init(&plain, 1u << 20);
    buf_init(&body, 1u << 20);
    /* SENT calls and a ping, flushed: they wait for answers */
    static const uint8_t call[] = {0x6b, 0x18, 0xf9, 0xc4}; /* help.getConfig */
    for (uint64_t ref = 1; ref <= SENT; ref++)
        mt_session_enqueue(&s, call, sizeof call, true, ref, false, NULL);
    uint8_t ping[12] = {0xec, 0x77, 0xbe, 0x7a, 1, 2, 3, 4, 5, 6, 7, 8};
    mt_session_enqueue(&s, ping, sizeof ping, true, SENT + 1, false, NULL);
    int64_t now = NOW;
    while (mt_session_has_output(&s, true)) {
        size_t count = 0;
        buf_reset(&wire);
        if (mt_session_flush(&s, now, &wire, &count, NULL) || !count) break;
    }
    int64_t ids[SENT + 1];
    for (size_t i = 0; i < SENT + 1; i++)
        ids[i] = i < s.nsent ? s.sent[i]->msg_id : 0;

    struct mt_session_events ev = {NULL, on_result, on_failed, on_new_session};
    size_t at = 0;
    while (size - at >= 3) {
        uint8_t flags = data[at];
        size_t len = (size_t)data[at + 1] | (size_t)data[at + 2] << 8;
        at += 3;
        if (len > size - at) len = size - at;
        const uint8_t *m = data + at;
        at += len;
        if (len < 12) continue;
        buf_reset(&body);
        buf_append(&body, m + 12, len - 12);
        while (body.len % 4)
            buf_append(&body, "", 1); /* messages are whole 32-bit words */
        uint8_t *b = (uint8_t *)body.data;
        for (size_t i = 0; i + 8 <= body.len; i++) {
            uint64_t v = tl_read_u64(b + i);
            if ((v & ~0xffull) != PLACEHOLDER) continue;
            int64_t id = ids[(v & 0xff) % (SENT + 1)];
            for (int k = 0; k < 8; k++)
                b[i + k] = (uint8_t)((uint64_t)id >> (8 * k));
            i += 7;
        }
        buf_reset(&plain);
        tl_put_u64(&plain, (uint64_t)s.server_salt ^ (flags & 2 ? 1 : 0));
        tl_put_u64(&plain, (uint64_t)s.session_id ^ (flags & 1 ? 1 : 0));
        buf_append(&plain, m, 12); /* msg_id, seqno */
        tl_put_u32(&plain, (uint32_t)body.len);
        buf_append(&plain, body.data, body.len);
        buf_reset(&wire);
        if (crypto_msg_encrypt(key, CRYPTO_FROM_SERVER, (const uint8_t *)plain.data, plain.len, 0,
                               fixed_random, &seed, &wire, NULL))
            continue;
        mt_session_receive(&s, (const uint8_t *)wire.data, wire.len, now, &ev, NULL);
        if (s.nqueue + s.nsent > MT_SESSION_MAX_MSGS || s.nacks > MT_ACKS_MAX) abort();
        now += 1000000; /* 1 ms per message */
        if (flags & 4) {
            size_t count = 0;
            buf_reset(&wire);
            if (mt_session_flush(&s, now, &wire, &count, NULL) == DM_OK && count) {
                for (size_t i = 0; i < SENT + 1; i++) /* re-sent calls have new msg_ids */
                    for (size_t k = 0; k < s.nsent; k++)
                        if (s.sent[k]->ref == i + 1) ids[i] = s.sent[k]->msg_id;
            }
        }
    }
    while (mt_session_has_output(&s, true)) { /* whatever is left goes out, or fails cleanly */
        size_t count = 0;
        buf_reset(&wire);
        if (mt_session_flush(&s, now, &wire, &count, NULL) || !count) break;
    }
    mt_session_release(&s);
    buf_release(&wire);
    buf_release(&plain);
    buf_release(&body);
    return 0;
}
