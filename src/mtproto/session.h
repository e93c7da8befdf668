/* session.h: the encrypted MTProto 2.0 session (core.telegram.org/mtproto/description and
 * service_messages), as pure state: no sockets, no threads, no clock (callers pass the time).
 *
 * A session holds the auth key, session_id, server_salt, the server time offset, the msg_id and
 * seqno counters, the queue of messages to send, the messages sent and still waiting for an
 * answer (with their bodies, so they can be re-sent), and the ids of received messages still
 * to acknowledge.
 *
 * Outgoing: mt_session_enqueue() queues a body (an encoded TL object) under a caller's `ref`
 * (an opaque nonzero id; 0 means "no answer expected"). mt_session_flush() turns the queue and
 * pending acks into one encrypted packet: a lone message, or a msg_container of up to
 * MT_CONTAINER_MAX messages. Each message gets a fresh msg_id (time based, strictly increasing,
 * a multiple of 4) and seqno (2 * content-related messages sent before it, +1 when it is
 * content-related itself); inner messages get smaller msg_ids than their container.
 *
 * Incoming: mt_session_receive() decrypts a packet, checks it (auth_key_id, msg_key, our
 * session_id, an odd server msg_id), unpacks containers and gzip_packed, and handles the
 * service messages itself:
 *   rpc_result            answer for the message it names: events->result(ref, body)
 *   pong                  the same, for a ping (body: the pong)
 *   bad_server_salt       adopt the new salt, forget the future salts, re-queue the messages
 *                         named (fresh msg_ids)
 *   bad_msg_notification  16/17: correct the time offset from the notice's msg_id; 32/33: move
 *                         the seqno; 16, 17, 19, 20, 32, 33, 48: re-queue; other codes are
 *                         our bugs: events->failed(ref, code)
 *   new_session_created   adopt its server_salt; events->new_session() (updates may be lost)
 *   future_salts          kept (up to MT_SALTS_MAX), see "Salts" below
 *   msgs_state_req        answered with msgs_state_info: one byte per msg_id, what we know of
 *                         that server message (mt_session_msg_state)
 *   msg_resend_req        the messages named are sent again when we still hold them all (fresh
 *                         msg_ids); when one is unknown, msgs_state_info for all, as documented
 *   msg_detailed_info / msg_new_detailed_info: the answer_msg_id they name is acked when we
 *                         received it, else asked for again with msg_resend_req
 *   updates, updatesCombined, updateShort, updateShortMessage, updateShortChatMessage,
 *   updateShortSentMessage, updatesTooLong: events->update() (pushed by the server)
 *   msgs_ack, destroy_session_ok/none, anything else: acked only
 * gzip_packed is unpacked where Telegram sends it, a whole message or the result of an
 * rpc_result (as tdlib does); one inside another is refused, and all those of a packet together
 * inflate to at most TL_MAX_GZIP bytes (tl_codec.h, struct tl_inflate).
 * Every content-related message received (odd seqno) is acknowledged in a later flush.
 * Callbacks run inside mt_session_receive(); they must not call back into the session except
 * through mt_session_forget() and mt_session_enqueue().
 *
 * Salts (core.telegram.org/mtproto/service_messages, "Request for several future salts"): the
 * session keeps the future salts it was given, and each flush uses the one valid at the server's
 * time (mt_session_service(), called before flushing), so a server that rotates its salt never
 * has to refuse a message with bad_server_salt once the first future_salts came.
 *
 * A struct mt_session holds key material: mt_session_release() wipes it. Not thread-safe: the
 * owner serializes access. */
#ifndef DM_MTPROTO_SESSION_H
#define DM_MTPROTO_SESSION_H

#include "core/common.h"
#include "core/buf.h"
#include "mtproto/crypto.h"

#define MT_CONTAINER_MAX 100            /* messages per msg_container */
#define MT_CONTAINER_BYTES (512u << 10) /* body bytes per container */
#define MT_MESSAGE_MAX (1u << 20)       /* largest body we send */
#define MT_SESSION_MAX_MSGS 20000       /* queued + sent messages */
#define MT_ACKS_MAX 8192                /* ids in one msgs_ack (and kept waiting) */
#define MT_SEEN_RING 512  /* recent server msg_ids remembered (replays, msgs_state_req) */
#define MT_SALTS_MAX 64   /* future salts kept (and asked for at once: Telegram's limit) */
#define MT_SALTS_LOW 2    /* salts left (current included) when more are asked for */
#define MT_SALTS_RETRY 30 /* seconds before asking again when no future_salts came */

/* One future salt, valid at server times [since, until). */
struct mt_salt {
    int64_t since, until;
    int64_t salt;
};

struct mt_out {
    uint64_t ref;         /* the caller's id; 0: nothing is awaited */
    int64_t msg_id;       /* 0 while queued */
    int64_t container_id; /* the container it went out in, or 0 */
    bool content;         /* content-related (odd seqno) */
    bool fixed;           /* msg_id was fixed when it was queued (mt_session_enqueue_at) */
    size_t len;
    uint8_t body[]; /* the encoded TL object */
};

struct mt_session_events {
    void *ctx;
    /* The answer to the message sent under `ref`: the result of its rpc_result (gzip_packed
     * already unpacked, so it is decoded with tl_decode(), which refuses any more; an rpc_error
     * is passed as it is) or the pong of a ping. body is valid during the call only. */
    void (*result)(void *ctx, uint64_t ref, const uint8_t *body, size_t len);
    /* The server refused the message for good (bad_msg_notification error_code), or code 0:
     * it could not be queued again (out of memory, or its msg_id was fixed). */
    void (*failed)(void *ctx, uint64_t ref, int code);
    /* new_session_created: the server started a new session; updates may have been missed. */
    void (*new_session)(void *ctx);
    /* An Updates object the server pushed (outside any rpc_result; a whole gzip_packed message
     * already unpacked). body is valid during the call only. NULL: ignored. */
    void (*update)(void *ctx, const uint8_t *body, size_t len);
};

struct mt_session {
    uint8_t auth_key[CRYPTO_AUTH_KEY_SIZE];
    uint64_t auth_key_id;
    int64_t session_id;
    int64_t server_salt;
    int64_t time_offset; /* seconds to add to the local clock to get the server's */
    int64_t last_msg_id;
    int32_t content_sent; /* content-related messages sent in this session */
    crypto_random_fn rnd;
    void *rnd_ctx;
    /* messages: queue in sending order, sent in msg_id order (for binary search) */
    struct mt_out **queue, **sent;
    size_t nqueue, nsent, queue_cap, sent_cap;
    int64_t acks[MT_ACKS_MAX];
    size_t nacks;
    int64_t seen[MT_SEEN_RING];
    bool seen_content[MT_SEEN_RING]; /* was seen[i] content-related (so it is acked)? */
    size_t seen_pos;
    struct mt_salt salts[MT_SALTS_MAX]; /* by since; expired ones dropped at each flush */
    size_t nsalts;
    int64_t salts_asked; /* server time of the last get_future_salts, 0: not in this session */
    int64_t old_session; /* a previous session id to destroy at the next flush, or 0 */
    size_t resent; /* messages re-queued by the server's notices (a counter for logs and tests) */
};

/* Sets up a session on auth_key with a new random session_id (rnd is borrowed). */
dm_err mt_session_init(struct mt_session *s, const uint8_t auth_key[CRYPTO_AUTH_KEY_SIZE],
                       int64_t server_salt, crypto_random_fn rnd, void *rnd_ctx,
                       struct dm_error *e);
/* Frees the messages and wipes the key. */
void mt_session_release(struct mt_session *s);
/* Starts a new session on the same key (for a new connection): new session_id, seqno from 0,
 * the queue, the sent messages and the pending acks dropped. Salt, future salts and time offset
 * stay; the old session id is kept for mt_session_service() to destroy. */
dm_err mt_session_reset(struct mt_session *s, struct dm_error *e);

/* Before a flush: adopts the salt valid now (mt_session_use_salt), queues get_future_salts for
 * MT_SALTS_MAX salts when at most MT_SALTS_LOW are left and it has not asked within
 * MT_SALTS_RETRY seconds (in this session), and destroy_session for the session before the last
 * mt_session_reset(), so the server can drop what it kept for it. Both go in front of the queue,
 * without a ref: their answers only inform. Best effort, as the answers to the server's service
 * messages: one that does not fit the queue (MT_SESSION_MAX_MSGS) is left out and tried again. */
void mt_session_service(struct mt_session *s, int64_t now_ns);
/* Drops the salts expired at server time `now` (seconds) and adopts the one valid then, if any.
 * Returns how many salts are left (the current one included). */
size_t mt_session_use_salt(struct mt_session *s, int64_t now);
/* What we know of server message msg_id, as the byte msgs_state_info carries for it: 1 nothing
 * (older than what we remember), 2 not received (within what we remember), 3 not received (newer
 * than anything received), 4 received, +8 already acknowledged (content-related ones whose ack
 * went out), +16 received and needing no acknowledgement. */
uint8_t mt_session_msg_state(const struct mt_session *s, int64_t msg_id);

/* Sets the time offset from a server time (seconds) seen at local time now_ns. */
void mt_session_sync_time(struct mt_session *s, int64_t server_time, int64_t now_ns);
/* The next msg_id for local real time now_ns (nanoseconds since the epoch). It uses only
 * time_offset and last_msg_id, so a zeroed struct mt_session can number unencrypted messages. */
int64_t mt_session_msg_id(struct mt_session *s, int64_t now_ns);

/* Queues a copy of body[0..len) (an encoded TL object). `front` puts it before the queue. */
dm_err mt_session_enqueue(struct mt_session *s, const uint8_t *body, size_t len, bool content,
                          uint64_t ref, bool front, struct dm_error *e);
/* Queues a copy of body[0..len) in front, content-related, to go out under msg_id (taken from
 * mt_session_msg_id() just before): for a body that names the msg_id it is sent under
 * (auth.bindTempAuthKey). It goes out in a packet of its own; a notice that would have it sent
 * again under a new msg_id reports it failed (code 0) instead. */
dm_err mt_session_enqueue_at(struct mt_session *s, const uint8_t *body, size_t len, int64_t msg_id,
                             uint64_t ref, struct dm_error *e);
/* Drops every queued or sent message under ref (an abandoned call). */
void mt_session_forget(struct mt_session *s, uint64_t ref);
/* Does a flush have anything to send (queued messages, or acks when `with_acks`)? */
bool mt_session_has_output(const struct mt_session *s, bool with_acks);
/* Appends one encrypted packet (transport payload) to out with as many queued messages and
 * acks as fit; *count (if not NULL) receives the number of messages in it (0: nothing to send,
 * out unchanged). Call again while mt_session_has_output(). */
dm_err mt_session_flush(struct mt_session *s, int64_t now_ns, struct buf *out, size_t *count,
                        struct dm_error *e);

/* Decrypts and handles one packet from the server (see the top of this file). A packet that
 * does not decrypt or check is DM_ECRYPTO / DM_EPROTO: the connection should be dropped. */
dm_err mt_session_receive(struct mt_session *s, const uint8_t *pkt, size_t len, int64_t now_ns,
                          const struct mt_session_events *ev, struct dm_error *e);

/* The real-time clock in nanoseconds since the epoch (what callers pass as now_ns). */
int64_t mt_now_ns(void);

#endif
