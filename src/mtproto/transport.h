/* transport.h: MTProto TCP framing (core.telegram.org/mtproto/mtproto-transports), no I/O.
 *
 * Kinds: abridged (client opens with 0xef; length/4 in 1 byte, or 0x7f + 3 bytes LE),
 * intermediate (client opens with 0xeeeeeeee; 4-byte LE length) and full (no opening tag;
 * length, sequence number, payload, CRC32). A server-side transport can detect the kind
 * from the client's first bytes.
 *
 * The decoder is incremental: feed it whatever arrived, it takes bytes up to the end of one
 * packet and hands the packet out. Packets are capped at max_packet bytes; a longer length, a
 * length that is not a multiple of 4, a wrong sequence number or CRC is DM_EPROTO and the
 * connection must be dropped. A 4-byte packet holding a negative int32 is the server's
 * transport error (-404 no auth key, -429 flood, -444 bad DC): see transport_error_code(). */
#ifndef DM_MTPROTO_TRANSPORT_H
#define DM_MTPROTO_TRANSPORT_H

#include "core/common.h"
#include "core/buf.h"

enum transport_kind {
    TRANSPORT_ABRIDGED,
    TRANSPORT_INTERMEDIATE,
    TRANSPORT_FULL,
    TRANSPORT_DETECT
};

#define TRANSPORT_DEFAULT_MAX (2u << 20) /* larger than any MTProto message Telegram sends */

struct transport {
    enum transport_kind kind; /* TRANSPORT_DETECT until a server side has seen the tag */
    bool server;
    uint32_t send_seq, recv_seq; /* full transport only */
    size_t max_packet;
    /* decoder state */
    uint8_t hdr[8];
    size_t hdr_len;
    bool tag_done;   /* the client's opening tag was read (server) */
    bool in_body;    /* header complete, reading body_len bytes into body */
    size_t body_len; /* bytes of body expected (full: payload + CRC) */
    struct buf body;
    /* a client's view of what the server sent before its first packet (transport_foreign) */
    uint8_t first[4];
    size_t first_len;
    bool got_packet;
};

/* kind: what a client speaks; a server passes TRANSPORT_DETECT (or a fixed kind). */
void transport_init(struct transport *t, enum transport_kind kind, bool server, size_t max_packet);
void transport_release(struct transport *t);

/* Appends the opening tag a client sends before its first packet (nothing for full). */
dm_err transport_start(struct transport *t, struct buf *out);

/* Appends one framed packet; len must be a multiple of 4 and at most max_packet. */
dm_err transport_frame(struct transport *t, const uint8_t *payload, size_t len, struct buf *out,
                       struct dm_error *e);

/* Consumes bytes of p[0..n) (*used receives the count, which may be less than n: call again with
 * the rest). When a packet completes, *pkt and *pkt_len point at it (valid until the next call)
 * and *ready is true. */
dm_err transport_read(struct transport *t, const uint8_t *p, size_t n, size_t *used,
                      const uint8_t **pkt, size_t *pkt_len, bool *ready, struct dm_error *e);

/* For a client whose server has not sent one whole packet yet (its bytes did not frame, or the
 * connection closed first): what else the server speaks, from its first bytes: "HTTP" (an HTTP
 * answer, "HTTP/": a web server or proxy on that address) or "TLS" (a TLS record: 0x15 or 0x16,
 * then 0x03), else NULL. Never a guess about bytes that framed as MTProto. */
const char *transport_foreign(const struct transport *t);

/* True when the packet is a transport error; *code receives it (e.g. -404). */
bool transport_error_code(const uint8_t *pkt, size_t len, int32_t *code);

#endif
