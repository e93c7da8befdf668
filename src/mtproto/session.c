#include "core/common.h"

#include "mtproto/session.h"
#include "mtproto/tl_codec.h"

#include <openssl/crypto.h>

#define ID_msg_container 0x73f1f8dcu
#define ID_gzip_packed 0x3072cfa1u
#define ID_rpc_result 0xf35c6d01u
#define ID_pong 0x347773c5u
#define ID_bad_server_salt 0xedab447bu
#define ID_bad_msg_notification 0xa7eff811u
#define ID_new_session_created 0x9ec20908u
#define ID_msg_detailed_info 0x276d3ec6u
#define ID_msg_new_detailed_info 0x809db6dfu
#define ID_msgs_ack 0x62d6b459u
#define ID_future_salts 0xae500895u
#define ID_get_future_salts 0xb921bd04u
#define ID_msgs_state_req 0xda69fb52u
#define ID_msgs_state_info 0x04deb57du
#define ID_msg_resend_req 0x7d861a08u
#define ID_destroy_session 0xe7512126u
#define ID_vector 0x1cb5c415u

#define HEADER_SIZE 32 /* salt, session_id, msg_id, seqno, length */

/* Writes the n low bytes of v little-endian (TL's byte order). */
static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int64_t mt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Bodies may carry secrets (a bot token, a login code): wiped before they are freed. */
static void out_free(struct mt_out *m)
{
    OPENSSL_cleanse(m->body, m->len);
    free(m);
}

static void free_all(struct mt_out **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out_free(v[i]);
}

dm_err mt_session_init(struct mt_session *s, const uint8_t auth_key[CRYPTO_AUTH_KEY_SIZE],
                       int64_t server_salt, crypto_random_fn rnd, void *rnd_ctx, struct dm_error *e)
{
    memset(s, 0, sizeof *s);
    memcpy(s->auth_key, auth_key, CRYPTO_AUTH_KEY_SIZE);
    s->auth_key_id = crypto_auth_key_id(auth_key);
    s->server_salt = server_salt;
    s->rnd = rnd;
    s->rnd_ctx = rnd_ctx;
    return mt_session_reset(s, e);
}

void mt_session_release(struct mt_session *s)
{
    free_all(s->queue, s->nqueue);
    free_all(s->sent, s->nsent);
    free(s->queue);
    free(s->sent);
    OPENSSL_cleanse(s, sizeof *s);
}

dm_err mt_session_reset(struct mt_session *s, struct dm_error *e)
{
    uint8_t id[8];
    if (s->rnd(s->rnd_ctx, id, sizeof id))
        return dm_fail(e, DM_ECRYPTO, "session: no random bytes for a session id");
    s->old_session = s->session_id;
    s->session_id = (int64_t)tl_read_u64(id);
    s->salts_asked = 0;
    free_all(s->queue, s->nqueue);
    free_all(s->sent, s->nsent);
    s->nqueue = s->nsent = s->nacks = 0;
    s->content_sent = 0;
    memset(s->seen, 0, sizeof s->seen);
    memset(s->seen_content, 0, sizeof s->seen_content);
    return DM_OK;
}

size_t mt_session_use_salt(struct mt_session *s, int64_t now)
{
    size_t drop = 0;
    while (drop < s->nsalts && s->salts[drop].until <= now)
        drop++;
    memmove(s->salts, s->salts + drop, (s->nsalts - drop) * sizeof *s->salts);
    s->nsalts -= drop;
    if (s->nsalts && s->salts[0].since <= now) s->server_salt = s->salts[0].salt;
    return s->nsalts;
}

uint8_t mt_session_msg_state(const struct mt_session *s, int64_t msg_id)
{
    int64_t lo = INT64_MAX, hi = 0;
    size_t known = 0;
    for (size_t i = 0; i < MT_SEEN_RING; i++) {
        int64_t id = s->seen[i];
        if (!id) continue;
        known++;
        if (id == msg_id) {
            if (!s->seen_content[i]) return 4 + 16;
            for (size_t k = 0; k < s->nacks; k++)
                if (s->acks[k] == msg_id) return 4; /* its ack has not gone out yet */
            return 4 + 8;
        }
        lo = DM_MIN(lo, id);
        hi = DM_MAX(hi, id);
    }
    if (!known || msg_id > hi) return 3;
    /* the ring forgets the oldest ids once full: below them nothing is known */
    if (msg_id < lo) return known == MT_SEEN_RING ? 1 : 2;
    return 2;
}

void mt_session_sync_time(struct mt_session *s, int64_t server_time, int64_t now_ns)
{
    s->time_offset = server_time - now_ns / 1000000000;
    s->last_msg_id = 0; /* ids follow the corrected clock, even when it went back */
}

int64_t mt_session_msg_id(struct mt_session *s, int64_t now_ns)
{
    int64_t sec = now_ns / 1000000000 + s->time_offset;
    uint64_t frac = (uint64_t)(now_ns % 1000000000) * (1ull << 32) / 1000000000u;
    int64_t id = (int64_t)(((uint64_t)sec << 32 | frac) & ~(uint64_t)3);
    if (id <= s->last_msg_id) id = s->last_msg_id + 4;
    s->last_msg_id = id;
    return id;
}

/* ---- message lists ---- */

/* Makes room for `want` pointers in *v (capacity *cap), growing by doubling. */
static dm_err list_reserve(struct mt_out ***v, size_t want, size_t *cap)
{
    if (want <= *cap) return DM_OK;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < want)
        ncap *= 2;
    struct mt_out **nv = realloc(*v, ncap * sizeof *nv);
    if (!nv) return DM_ENOMEM;
    *v = nv;
    *cap = ncap;
    return DM_OK;
}

/* Index of the first sent message with msg_id >= id. */
static size_t sent_lower_bound(const struct mt_session *s, int64_t id)
{
    size_t lo = 0, hi = s->nsent;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->sent[mid]->msg_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static dm_err sent_insert(struct mt_session *s, struct mt_out *m)
{
    if (list_reserve(&s->sent, s->nsent + 1, &s->sent_cap)) return DM_ENOMEM;
    size_t at = sent_lower_bound(s, m->msg_id);
    memmove(s->sent + at + 1, s->sent + at, (s->nsent - at) * sizeof *s->sent);
    s->sent[at] = m;
    s->nsent++;
    return DM_OK;
}

static struct mt_out *sent_take(struct mt_session *s, size_t at)
{
    struct mt_out *m = s->sent[at];
    memmove(s->sent + at, s->sent + at + 1, (s->nsent - at - 1) * sizeof *s->sent);
    s->nsent--;
    return m;
}

/* Removes and returns the sent message with this msg_id, or NULL. */
static struct mt_out *sent_find_take(struct mt_session *s, int64_t msg_id)
{
    size_t at = sent_lower_bound(s, msg_id);
    return at < s->nsent && s->sent[at]->msg_id == msg_id ? sent_take(s, at) : NULL;
}

static dm_err queue_insert(struct mt_session *s, struct mt_out *m, size_t at)
{
    if (list_reserve(&s->queue, s->nqueue + 1, &s->queue_cap)) return DM_ENOMEM;
    memmove(s->queue + at + 1, s->queue + at, (s->nqueue - at) * sizeof *s->queue);
    s->queue[at] = m;
    s->nqueue++;
    return DM_OK;
}

dm_err mt_session_enqueue_at(struct mt_session *s, const uint8_t *body, size_t len, int64_t msg_id,
                             uint64_t ref, struct dm_error *e)
{
    dm_err rc = mt_session_enqueue(s, body, len, true, ref, true, e);
    if (!rc) s->queue[0]->fixed = true, s->queue[0]->msg_id = msg_id;
    return rc;
}

dm_err mt_session_enqueue(struct mt_session *s, const uint8_t *body, size_t len, bool content,
                          uint64_t ref, bool front, struct dm_error *e)
{
    if (len < 4 || len % 4)
        return dm_fail(e, DM_EINVAL, "session: a message of %zu bytes is not whole words", len);
    if (len > MT_MESSAGE_MAX)
        return dm_fail(e, DM_ETOOBIG, "session: a message of %zu bytes is larger than %u", len,
                       MT_MESSAGE_MAX);
    if (s->nqueue + s->nsent >= MT_SESSION_MAX_MSGS)
        return dm_fail(e, DM_ETOOBIG, "session: %d messages are already waiting",
                       MT_SESSION_MAX_MSGS);
    struct mt_out *m = malloc(sizeof *m + len);
    if (!m) return dm_fail(e, DM_ENOMEM, "session: out of memory");
    *m = (struct mt_out){.ref = ref, .content = content, .len = len};
    memcpy(m->body, body, len);
    if (queue_insert(s, m, front ? 0 : s->nqueue)) {
        out_free(m);
        return dm_fail(e, DM_ENOMEM, "session: out of memory");
    }
    return DM_OK;
}

/* Frees the messages of v[0..n) made for `ref`, keeping the others in order; returns how many
 * stay. */
static size_t outs_drop(struct mt_out **v, size_t n, uint64_t ref)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i]->ref == ref)
            out_free(v[i]);
        else
            v[k++] = v[i];
    }
    return k;
}

void mt_session_forget(struct mt_session *s, uint64_t ref)
{
    s->nqueue = outs_drop(s->queue, s->nqueue, ref);
    s->nsent = outs_drop(s->sent, s->nsent, ref);
}

bool mt_session_has_output(const struct mt_session *s, bool with_acks)
{
    return s->nqueue > 0 || (with_acks && s->nacks > 0);
}

/* ---- sending ---- */

static int32_t next_seqno(struct mt_session *s, bool content)
{
    int32_t seq = s->content_sent * 2 + (content ? 1 : 0);
    if (content) s->content_sent++;
    return seq;
}

/* msg_id, seqno, length, body */
static dm_err put_message(struct buf *out, int64_t msg_id, int32_t seqno, const uint8_t *body,
                          size_t len)
{
    dm_err rc = tl_put_u64(out, (uint64_t)msg_id);
    if (!rc) rc = tl_put_u32(out, (uint32_t)seqno);
    if (!rc) rc = tl_put_u32(out, (uint32_t)len);
    if (!rc) rc = buf_append(out, body, len);
    return rc;
}

/* The msgs_ack body for up to MT_ACKS_MAX pending acks. */
static dm_err ack_body(struct mt_session *s, struct buf *out)
{
    dm_err rc = tl_put_u32(out, ID_msgs_ack);
    if (!rc) rc = tl_put_u32(out, TL_ID_vector);
    if (!rc) rc = tl_put_u32(out, (uint32_t)s->nacks);
    for (size_t i = 0; i < s->nacks && !rc; i++)
        rc = tl_put_u64(out, (uint64_t)s->acks[i]);
    return rc;
}

/* Queues a service message of ours in front. Best effort: when the queue is full (or memory
 * short) it is left out, and the next flush or the server's next request tries again. */
static bool queue_service(struct mt_session *s, const uint8_t *m, size_t len, bool content)
{
    return mt_session_enqueue(s, m, len, content, 0, true, NULL) == DM_OK;
}

void mt_session_service(struct mt_session *s, int64_t now_ns)
{
    int64_t now = now_ns / 1000000000 + s->time_offset;
    uint8_t m[12];
    if (mt_session_use_salt(s, now) <= MT_SALTS_LOW &&
        (!s->salts_asked || now - s->salts_asked >= MT_SALTS_RETRY)) {
        put_le(m, ID_get_future_salts, 4);
        put_le(m + 4, MT_SALTS_MAX, 4);
        if (queue_service(s, m, 8, true)) s->salts_asked = now;
    }
    if (s->old_session) {
        put_le(m, ID_destroy_session, 4);
        put_le(m + 4, (uint64_t)s->old_session, 8);
        if (queue_service(s, m, 12, true)) s->old_session = 0;
    }
}

dm_err mt_session_flush(struct mt_session *s, int64_t now_ns, struct buf *out, size_t *count,
                        struct dm_error *e)
{
    if (count) *count = 0;
    if (!mt_session_has_output(s, true)) return DM_OK;
    /* how many queued messages go: at least one, then as many as fit; one with a fixed msg_id
     * goes alone (the acks wait for the next packet), and the others stop before it */
    bool alone = s->nqueue && s->queue[0]->fixed;
    size_t take = 0, bytes = 0, slots = alone ? 1 : MT_CONTAINER_MAX - (s->nacks ? 1 : 0);
    while (take < s->nqueue && take < slots && (take == 0 || !s->queue[take]->fixed) &&
           (take == 0 || bytes + s->queue[take]->len + 16 <= MT_CONTAINER_BYTES))
        bytes += s->queue[take++]->len + 16;
    bool with_acks = s->nacks && !alone;
    size_t total = take + (with_acks ? 1 : 0);
    if (list_reserve(&s->sent, s->nsent + take, &s->sent_cap))
        return dm_fail(e, DM_ENOMEM, "session: out of memory");

    struct buf acks, plain;
    buf_init(&acks, 16 + 8 * MT_ACKS_MAX);
    buf_init(&plain, HEADER_SIZE + 8 + bytes + 16 + acks.cap + 1024);
    dm_err rc = DM_OK;
    if (with_acks) rc = ack_body(s, &acks);
    /* header of the outer message; its msg_id, seqno and length are filled in at the end */
    if (!rc) rc = tl_put_u64(&plain, (uint64_t)s->server_salt);
    if (!rc) rc = tl_put_u64(&plain, (uint64_t)s->session_id);
    if (!rc) rc = buf_append(&plain, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    size_t body_at = plain.len;
    if (!rc && total > 1) {
        rc = tl_put_u32(&plain, ID_msg_container);
        if (!rc) rc = tl_put_u32(&plain, (uint32_t)total);
    }
    int64_t outer_id = 0;
    int32_t outer_seq = 0;
    for (size_t i = 0; i < take && !rc; i++) {
        struct mt_out *m = s->queue[i];
        if (!m->fixed) m->msg_id = mt_session_msg_id(s, now_ns);
        int32_t seq = next_seqno(s, m->content);
        if (total > 1)
            rc = put_message(&plain, m->msg_id, seq, m->body, m->len);
        else
            rc = buf_append(&plain, m->body, m->len), outer_id = m->msg_id, outer_seq = seq;
    }
    if (!rc && with_acks) {
        int64_t id = mt_session_msg_id(s, now_ns);
        int32_t seq = next_seqno(s, false);
        if (total > 1)
            rc = put_message(&plain, id, seq, (const uint8_t *)acks.data, acks.len);
        else
            rc = buf_append(&plain, acks.data, acks.len), outer_id = id, outer_seq = seq;
    }
    if (!rc && total > 1) {
        outer_id = mt_session_msg_id(s, now_ns);
        outer_seq = next_seqno(s, false);
    }
    if (!rc) {
        uint8_t *h = (uint8_t *)plain.data + 16;
        uint64_t id = (uint64_t)outer_id;
        size_t blen = plain.len - body_at;
        for (int i = 0; i < 8; i++)
            h[i] = (uint8_t)(id >> (8 * i));
        for (int i = 0; i < 4; i++)
            h[8 + i] = (uint8_t)((uint32_t)outer_seq >> (8 * i));
        for (int i = 0; i < 4; i++)
            h[12 + i] = (uint8_t)((uint32_t)blen >> (8 * i));
        rc = crypto_msg_encrypt(s->auth_key, CRYPTO_FROM_CLIENT, (const uint8_t *)plain.data,
                                plain.len, 0, s->rnd, s->rnd_ctx, out, e);
    } else if (rc != DM_ECRYPTO) {
        rc = dm_fail(e, rc, "session: cannot build a packet of %zu messages", total);
    }
    buf_release(&acks);
    OPENSSL_cleanse(plain.data, plain.len);
    buf_release(&plain);
    if (rc) return rc;

    /* the messages went out: awaited ones move to sent, the rest are done */
    for (size_t i = 0; i < take; i++) {
        struct mt_out *m = s->queue[i];
        m->container_id = total > 1 ? outer_id : 0;
        if (!m->ref)
            out_free(m);
        else
            sent_insert(s, m); /* cannot fail: room was reserved above */
    }
    memmove(s->queue, s->queue + take, (s->nqueue - take) * sizeof *s->queue);
    s->nqueue -= take;
    if (with_acks) s->nacks = 0;
    if (count) *count = total;
    return DM_OK;
}

/* ---- receiving ---- */

static void requeue(struct mt_session *s, int64_t bad_msg_id, int fail_code,
                    const struct mt_session_events *ev);

static void add_ack(struct mt_session *s, int64_t msg_id)
{
    if (s->nacks < MT_ACKS_MAX) s->acks[s->nacks++] = msg_id;
}

/* A server message arrived (the packet's, or one of its container): remembered for replays and
 * msgs_state_req, and acknowledged later when content-related. */
static void note_received(struct mt_session *s, int64_t msg_id, uint32_t seqno)
{
    size_t at = s->seen_pos++ % MT_SEEN_RING;
    s->seen[at] = msg_id;
    s->seen_content[at] = seqno & 1;
    if (seqno & 1) add_ack(s, msg_id);
}

/* The msg_ids of a msgs_state_req or msg_resend_req (p at its constructor): *ids points at
 * *count little-endian longs. */
static dm_err read_ids(const uint8_t *p, size_t n, const uint8_t **ids, uint32_t *count,
                       struct dm_error *e)
{
    if (n < 12 || tl_read_u32(p + 4) != ID_vector)
        return dm_fail(e, DM_EPROTO, "session: a msg_ids vector expected");
    *count = tl_read_u32(p + 8);
    if (*count > MT_ACKS_MAX || (size_t)*count * 8 > n - 12)
        return dm_fail(e, DM_EPROTO, "session: a msg_ids vector of %" PRIu32 " ids is too long",
                       *count);
    *ids = p + 12;
    return DM_OK;
}

/* msgs_state_info for req_msg_id: one byte per id, mt_session_msg_state(). Not content-related:
 * it is the acknowledgement of the request itself. */
static void send_state_info(struct mt_session *s, int64_t req_msg_id, const uint8_t *ids,
                            uint32_t count)
{
    struct buf b;
    buf_init(&b, 16 + count + 8);
    uint8_t *info = malloc(count ? count : 1);
    bool ok = info && !tl_put_u32(&b, ID_msgs_state_info) && !tl_put_u64(&b, (uint64_t)req_msg_id);
    for (uint32_t i = 0; ok && i < count; i++)
        info[i] = mt_session_msg_state(s, (int64_t)tl_read_u64(ids + 8 * i));
    if (ok && !tl_put_bytes(&b, info, count))
        queue_service(s, (const uint8_t *)b.data, b.len, false);
    buf_release(&b);
    free(info);
}

/* msg_resend_req: every message named is sent again when we still hold them all; otherwise the
 * documented answer is msgs_state_info for all of them, as if they had been asked about. */
static void on_resend_req(struct mt_session *s, int64_t req_msg_id, const uint8_t *ids,
                          uint32_t count, const struct mt_session_events *ev)
{
    for (uint32_t i = 0; i < count; i++) {
        int64_t id = (int64_t)tl_read_u64(ids + 8 * i);
        size_t at = sent_lower_bound(s, id);
        if (at == s->nsent || s->sent[at]->msg_id != id) {
            send_state_info(s, req_msg_id, ids, count);
            return;
        }
    }
    for (uint32_t i = 0; i < count; i++)
        requeue(s, (int64_t)tl_read_u64(ids + 8 * i), 0, ev);
}

/* msg_detailed_info / msg_new_detailed_info: the answer answer_msg_id is acked when it came,
 * else asked for again (msg_resend_req), as core.telegram.org documents. */
static void on_detailed_info(struct mt_session *s, int64_t answer_msg_id)
{
    if (mt_session_msg_state(s, answer_msg_id) & 4) {
        add_ack(s, answer_msg_id);
        return;
    }
    uint8_t m[20];
    put_le(m, ID_msg_resend_req, 4);
    put_le(m + 4, ID_vector, 4);
    put_le(m + 8, 1, 4);
    put_le(m + 12, (uint64_t)answer_msg_id, 8);
    queue_service(s, m, sizeof m, true);
}

/* future_salts: kept in order of valid_since, replacing those we had (the answer says all the
 * server has). salts is a bare vector of bare future_salt (valid_since, valid_until, salt). */
static dm_err on_future_salts(struct mt_session *s, const uint8_t *p, size_t n, struct dm_error *e)
{
    if (n < 20) return dm_fail(e, DM_EPROTO, "session: a truncated future_salts");
    size_t at = 16;
    if (tl_read_u32(p + at) == ID_vector) at += 4; /* tolerate a boxed vector */
    if (n - at < 4) return dm_fail(e, DM_EPROTO, "session: a truncated future_salts");
    uint32_t count = tl_read_u32(p + at);
    at += 4;
    if ((size_t)count * 16 > n - at)
        return dm_fail(e, DM_EPROTO, "session: future_salts ends inside its %" PRIu32 " salts",
                       count);
    s->nsalts = 0;
    for (uint32_t i = 0; i < count && s->nsalts < MT_SALTS_MAX; i++, at += 16) {
        struct mt_salt v = {(int32_t)tl_read_u32(p + at), (int32_t)tl_read_u32(p + at + 4),
                            (int64_t)tl_read_u64(p + at + 8)};
        if (v.until <= v.since) continue;
        size_t k = s->nsalts;
        while (k > 0 && s->salts[k - 1].since > v.since) {
            s->salts[k] = s->salts[k - 1];
            k--;
        }
        s->salts[k] = v;
        s->nsalts++;
    }
    return DM_OK;
}

/* Moves the sent messages named by bad_msg_id (the message, or all of a container) to the front
 * of the queue in their order, or reports them failed when `fail_code` is not 0. */
static void requeue(struct mt_session *s, int64_t bad_msg_id, int fail_code,
                    const struct mt_session_events *ev)
{
    size_t front = 0;
    for (size_t i = 0; i < s->nsent;) {
        struct mt_out *m = s->sent[i];
        if (m->msg_id != bad_msg_id && m->container_id != bad_msg_id) {
            i++;
            continue;
        }
        sent_take(s, i);
        if (m->fixed && !fail_code) { /* a new msg_id would not match its body */
            uint64_t ref = m->ref;
            out_free(m);
            if (ev && ev->failed) ev->failed(ev->ctx, ref, 0);
            continue;
        }
        if (fail_code) {
            uint64_t ref = m->ref;
            out_free(m);
            if (ev && ev->failed) ev->failed(ev->ctx, ref, fail_code);
            continue;
        }
        m->msg_id = m->container_id = 0;
        if (queue_insert(s, m, front) == DM_OK) {
            front++;
            s->resent++;
        } else {
            uint64_t ref = m->ref;
            out_free(m);
            if (ev && ev->failed) ev->failed(ev->ctx, ref, 0);
        }
    }
}

static void deliver(struct mt_session *s, int64_t req_msg_id, const uint8_t *body, size_t len,
                    const struct mt_session_events *ev)
{
    struct mt_out *m = sent_find_take(s, req_msg_id);
    if (!m) return; /* an answer to a message we forgot or got already */
    uint64_t ref = m->ref;
    out_free(m);
    if (ev && ev->result) ev->result(ev->ctx, ref, body, len);
}

static void on_bad_msg(struct mt_session *s, int64_t notice_id, int64_t bad_id, int code,
                       int64_t now_ns, const struct mt_session_events *ev)
{
    switch (code) {
    case 16: /* msg_id too low */
    case 17: /* msg_id too high */
        mt_session_sync_time(s, notice_id >> 32, now_ns);
        requeue(s, bad_id, 0, ev);
        break;
    case 32: /* seqno too low: jump ahead (Telethon's remedy, in content-related messages) */
        s->content_sent += 64;
        requeue(s, bad_id, 0, ev);
        break;
    case 33: /* seqno too high: step back */
        s->content_sent = s->content_sent > 16 ? s->content_sent - 16 : 0;
        requeue(s, bad_id, 0, ev);
        break;
    case 19: /* container msg_id reused */
    case 20: /* too old */
    case 48: /* bad salt (bad_server_salt carries the new one) */
        requeue(s, bad_id, 0, ev);
        break;
    default: /* 18, 34, 35, 64: a message we built wrong; sending it again would not help */
        requeue(s, bad_id, code, ev);
    }
}

static dm_err handle(struct mt_session *s, int64_t msg_id, const uint8_t *p, size_t n, int depth,
                     struct tl_inflate *gz, int64_t now_ns, const struct mt_session_events *ev,
                     struct dm_error *e);

static dm_err handle_container(struct mt_session *s, const uint8_t *p, size_t n,
                               struct tl_inflate *gz, int64_t now_ns,
                               const struct mt_session_events *ev, struct dm_error *e)
{
    if (n < 8) return dm_fail(e, DM_EPROTO, "session: a truncated msg_container");
    uint32_t count = tl_read_u32(p + 4);
    size_t at = 8;
    for (uint32_t i = 0; i < count; i++) {
        if (n - at < 16)
            return dm_fail(e, DM_EPROTO, "session: msg_container ends inside message %" PRIu32, i);
        int64_t id = (int64_t)tl_read_u64(p + at);
        uint32_t seqno = tl_read_u32(p + at + 8), len = tl_read_u32(p + at + 12);
        at += 16;
        if (len > n - at || len % 4)
            return dm_fail(e, DM_EPROTO,
                           "session: message %" PRIu32 " of a msg_container has a bad length", i);
        note_received(s, id, seqno);
        dm_err rc = handle(s, id, p + at, len, 1, gz, now_ns, ev, e);
        if (rc) return rc;
        at += len;
    }
    return DM_OK;
}

/* The body of rpc_result after req_msg_id: unpacked when it is gzip_packed (drawing on the
 * packet's allowance; refused inside a gzip_packed message). What is delivered holds no
 * gzip_packed that anyone unpacks: the client decodes answers with tl_decode(). */
static dm_err handle_rpc_result(struct mt_session *s, const uint8_t *p, size_t n,
                                struct tl_inflate *gz, const struct mt_session_events *ev,
                                struct dm_error *e)
{
    if (n < 16) return dm_fail(e, DM_EPROTO, "session: a truncated rpc_result");
    int64_t req = (int64_t)tl_read_u64(p + 4);
    const uint8_t *body = p + 12;
    size_t len = n - 12;
    if (tl_read_u32(body) != ID_gzip_packed) {
        deliver(s, req, body, len, ev);
        return DM_OK;
    }
    size_t used;
    struct buf plain;
    dm_err rc = tl_gzip_unpack(body + 4, len - 4, 16, gz, &used, &plain, e);
    if (!rc && plain.len < 4) rc = dm_fail(e, DM_EPROTO, "session: an empty gzip_packed result");
    if (!rc) deliver(s, req, (const uint8_t *)plain.data, plain.len, ev);
    buf_release(&plain);
    return rc;
}

/* One message; depth 0 for the packet's, 1 inside a container, 2 inside a gzip_packed. Every
 * gzip_packed in the packet draws on gz (see tl_codec.h: nesting refused, TL_MAX_GZIP in all). */
static dm_err handle(struct mt_session *s, int64_t msg_id, const uint8_t *p, size_t n, int depth,
                     struct tl_inflate *gz, int64_t now_ns, const struct mt_session_events *ev,
                     struct dm_error *e)
{
    if (n < 4) return dm_fail(e, DM_EPROTO, "session: an empty message");
    switch (tl_read_u32(p)) {
    case ID_msg_container:
        if (depth > 0)
            return dm_fail(e, DM_EPROTO, "session: a msg_container inside a msg_container");
        return handle_container(s, p, n, gz, now_ns, ev, e);
    case ID_gzip_packed: {
        size_t used;
        struct buf plain;
        dm_err rc = tl_gzip_unpack(p + 4, n - 4, 4, gz, &used, &plain, e);
        if (!rc) {
            gz->inside = true;
            rc = handle(s, msg_id, (const uint8_t *)plain.data, plain.len, 2, gz, now_ns, ev, e);
            gz->inside = false;
        }
        buf_release(&plain);
        return rc;
    }
    case ID_rpc_result:
        return handle_rpc_result(s, p, n, gz, ev, e);
    case ID_pong:
        if (n < 20) return dm_fail(e, DM_EPROTO, "session: a truncated pong");
        deliver(s, (int64_t)tl_read_u64(p + 4), p, n, ev);
        return DM_OK;
    case ID_bad_server_salt:
        if (n < 28) return dm_fail(e, DM_EPROTO, "session: a truncated bad_server_salt");
        s->server_salt = (int64_t)tl_read_u64(p + 20);
        s->nsalts = 0; /* they were not the server's: ask again */
        s->salts_asked = 0;
        requeue(s, (int64_t)tl_read_u64(p + 4), 0, ev);
        return DM_OK;
    case ID_bad_msg_notification:
        if (n < 20) return dm_fail(e, DM_EPROTO, "session: a truncated bad_msg_notification");
        on_bad_msg(s, msg_id, (int64_t)tl_read_u64(p + 4), (int)(int32_t)tl_read_u32(p + 16),
                   now_ns, ev);
        return DM_OK;
    case ID_new_session_created:
        if (n < 28) return dm_fail(e, DM_EPROTO, "session: a truncated new_session_created");
        s->server_salt = (int64_t)tl_read_u64(p + 20);
        if (ev && ev->new_session) ev->new_session(ev->ctx);
        return DM_OK;
    case ID_msg_detailed_info: /* msg_id answer_msg_id bytes status */
        if (n < 28) return dm_fail(e, DM_EPROTO, "session: a truncated msg_detailed_info");
        on_detailed_info(s, (int64_t)tl_read_u64(p + 12));
        return DM_OK;
    case ID_msg_new_detailed_info: /* answer_msg_id bytes status */
        if (n < 20) return dm_fail(e, DM_EPROTO, "session: a truncated msg_new_detailed_info");
        on_detailed_info(s, (int64_t)tl_read_u64(p + 4));
        return DM_OK;
    case ID_future_salts:
        return on_future_salts(s, p, n, e);
    case ID_msgs_state_req:
    case ID_msg_resend_req: {
        const uint8_t *ids = NULL;
        uint32_t count = 0;
        dm_err rc = read_ids(p, n, &ids, &count, e);
        if (rc) return rc;
        if (tl_read_u32(p) == ID_msgs_state_req)
            send_state_info(s, msg_id, ids, count);
        else
            on_resend_req(s, msg_id, ids, count, ev);
        return DM_OK;
    }
    case TL_ID_updates:
    case TL_ID_updatesCombined:
    case TL_ID_updateShort:
    case TL_ID_updateShortMessage:
    case TL_ID_updateShortChatMessage:
    case TL_ID_updateShortSentMessage:
    case TL_ID_updatesTooLong:
        if (ev && ev->update) ev->update(ev->ctx, p, n);
        return DM_OK;
    default: /* acks, destroy_session_ok/none: nothing to do beyond the ack */
        return DM_OK;
    }
}

dm_err mt_session_receive(struct mt_session *s, const uint8_t *pkt, size_t len, int64_t now_ns,
                          const struct mt_session_events *ev, struct dm_error *e)
{
    struct buf plain;
    buf_init(&plain, len);
    size_t msg_len = 0;
    dm_err rc = crypto_msg_decrypt(s->auth_key, CRYPTO_FROM_SERVER, pkt, len, &plain, &msg_len, e);
    if (rc) {
        buf_release(&plain);
        return rc;
    }
    const uint8_t *p = (const uint8_t *)plain.data;
    int64_t session_id = (int64_t)tl_read_u64(p + 8), msg_id = (int64_t)tl_read_u64(p + 16);
    uint32_t seqno = tl_read_u32(p + 24);
    bool seen = false;
    for (size_t i = 0; i < MT_SEEN_RING; i++)
        seen |= s->seen[i] == msg_id;
    if (session_id != s->session_id || seen) {
        /* an answer for an earlier session on this key, or a replay: ignore it */
    } else if ((msg_id & 3) != 1 && (msg_id & 3) != 3) {
        rc = dm_fail(e, DM_EPROTO, "session: the server sent a message id that is not odd");
    } else {
        note_received(s, msg_id, seqno);
        struct tl_inflate gz = TL_INFLATE_INIT; /* for the whole packet */
        rc = handle(s, msg_id, p + HEADER_SIZE, msg_len - HEADER_SIZE, 0, &gz, now_ns, ev, e);
    }
    OPENSSL_cleanse(plain.data, plain.len);
    buf_release(&plain);
    return rc;
}
