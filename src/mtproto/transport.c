#include "core/common.h"

#include "mtproto/tl_codec.h"
#include "mtproto/transport.h"

#include <zlib.h>

static const uint8_t tag_intermediate[4] = {0xee, 0xee, 0xee, 0xee};

void transport_init(struct transport *t, enum transport_kind kind, bool server, size_t max_packet)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->server = server;
    t->max_packet = max_packet;
    t->tag_done = !server; /* only servers read an opening tag */
    buf_init(&t->body, max_packet + 4);
}

void transport_release(struct transport *t)
{
    buf_release(&t->body);
}

dm_err transport_start(struct transport *t, struct buf *out)
{
    if (t->kind == TRANSPORT_ABRIDGED) return buf_append(out, "\xef", 1);
    if (t->kind == TRANSPORT_INTERMEDIATE) return buf_append(out, tag_intermediate, 4);
    return DM_OK;
}

static uint32_t crc_of(const uint8_t *hdr, size_t hn, const uint8_t *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, hdr, (uInt)hn);
    return (uint32_t)crc32(c, p, (uInt)n);
}

dm_err transport_frame(struct transport *t, const uint8_t *payload, size_t len, struct buf *out,
                       struct dm_error *e)
{
    if (len % 4 || len == 0 || len > t->max_packet)
        return dm_fail(e, DM_EINVAL, "transport: cannot frame a packet of %zu bytes", len);
    size_t start = out->len;
    dm_err rc;
    switch (t->kind) {
    case TRANSPORT_ABRIDGED: {
        uint8_t h[4];
        size_t words = len / 4;
        if (words < 0x7f) {
            h[0] = (uint8_t)words;
            rc = buf_append(out, h, 1);
        } else {
            h[0] = 0x7f;
            h[1] = (uint8_t)words;
            h[2] = (uint8_t)(words >> 8);
            h[3] = (uint8_t)(words >> 16);
            rc = buf_append(out, h, 4);
        }
        if (!rc) rc = buf_append(out, payload, len);
        break;
    }
    case TRANSPORT_INTERMEDIATE:
        rc = tl_put_u32(out, (uint32_t)len);
        if (!rc) rc = buf_append(out, payload, len);
        break;
    case TRANSPORT_FULL: {
        uint8_t h[8];
        uint32_t total = (uint32_t)len + 12;
        for (int i = 0; i < 4; i++) {
            h[i] = (uint8_t)(total >> (8 * i));
            h[4 + i] = (uint8_t)(t->send_seq >> (8 * i));
        }
        rc = buf_append(out, h, 8);
        if (!rc) rc = buf_append(out, payload, len);
        if (!rc) rc = tl_put_u32(out, crc_of(h, 8, payload, len));
        if (!rc) t->send_seq++;
        break;
    }
    default:
        rc = DM_EINVAL;
    }
    if (rc) {
        out->len = start;
        return dm_fail(e, rc, "transport: cannot frame a packet of %zu bytes", len);
    }
    return DM_OK;
}

/* Copies header bytes until hdr holds `need`; returns whether it does. */
static bool take_hdr(struct transport *t, size_t need, const uint8_t *p, size_t n, size_t *pos)
{
    while (t->hdr_len < need && *pos < n)
        t->hdr[t->hdr_len++] = p[(*pos)++];
    return t->hdr_len >= need;
}

static dm_err bad_length(struct transport *t, size_t len, struct dm_error *e)
{
    return dm_fail(e, DM_EPROTO, "transport: packet length %zu is not a multiple of 4 in 4..%zu",
                   len, t->max_packet);
}

dm_err transport_read(struct transport *t, const uint8_t *p, size_t n, size_t *used,
                      const uint8_t **pkt, size_t *pkt_len, bool *ready, struct dm_error *e)
{
    size_t pos = 0;
    *ready = false;
    *used = 0;
    /* the server's first bytes, for transport_foreign (all of them are consumed by this call:
       no packet is shorter than 5 bytes) */
    for (size_t i = 0; !t->server && t->first_len < sizeof t->first && i < n; i++)
        t->first[t->first_len++] = p[i];
    if (!t->tag_done) {
        /* a server learns the kind from the first byte(s): 0xef, 0xeeeeeeee, or a full-transport
         * length */
        if (t->kind == TRANSPORT_DETECT || t->kind == TRANSPORT_ABRIDGED) {
            if (!take_hdr(t, 1, p, n, &pos)) return DM_OK;
            if (t->hdr[0] == 0xef) {
                t->kind = TRANSPORT_ABRIDGED;
                t->hdr_len = 0;
                t->tag_done = true;
            } else if (t->kind == TRANSPORT_ABRIDGED) {
                return dm_fail(e, DM_EPROTO, "transport: the client did not open with 0xef");
            }
        }
        if (!t->tag_done) {
            if (!take_hdr(t, 4, p, n, &pos)) {
                *used = pos;
                return DM_OK;
            }
            if (memcmp(t->hdr, tag_intermediate, 4) == 0) {
                t->kind = TRANSPORT_INTERMEDIATE;
                t->hdr_len = 0;
            } else if (t->kind == TRANSPORT_DETECT || t->kind == TRANSPORT_FULL) {
                t->kind = TRANSPORT_FULL; /* those 4 bytes were the first length: keep them */
            } else {
                return dm_fail(e, DM_EPROTO, "transport: the client did not open with 0xeeeeeeee");
            }
            t->tag_done = true;
        }
    }
    if (!t->in_body) {
        size_t len = 0;
        switch (t->kind) {
        case TRANSPORT_ABRIDGED:
            if (!take_hdr(t, 1, p, n, &pos)) goto more;
            if ((t->hdr[0] & 0x7f) == 0x7f) { /* the top bit is a client's quick-ack request */
                if (!take_hdr(t, 4, p, n, &pos)) goto more;
                len = ((size_t)t->hdr[1] | (size_t)t->hdr[2] << 8 | (size_t)t->hdr[3] << 16) * 4;
            } else {
                len = (size_t)(t->hdr[0] & 0x7f) * 4;
            }
            if (len == 0 || len > t->max_packet) return bad_length(t, len, e);
            break;
        case TRANSPORT_INTERMEDIATE:
            if (!take_hdr(t, 4, p, n, &pos)) goto more;
            len = tl_read_u32(t->hdr) & 0x7fffffffu; /* the top bit is a quick-ack request */
            if (len == 0 || len % 4 || len > t->max_packet) return bad_length(t, len, e);
            break;
        case TRANSPORT_FULL: {
            if (!take_hdr(t, 8, p, n, &pos)) goto more;
            size_t total = tl_read_u32(t->hdr);
            if (total < 16 || total % 4 || total - 12 > t->max_packet)
                return bad_length(t, total, e);
            uint32_t seq = tl_read_u32(t->hdr + 4);
            if (seq != t->recv_seq)
                return dm_fail(e, DM_EPROTO,
                               "transport: sequence number %" PRIu32 ", expected %" PRIu32, seq,
                               t->recv_seq);
            len = total - 12 + 4; /* payload and CRC */
            break;
        }
        default:
            return dm_fail(e, DM_EPROTO, "transport: kind not known");
        }
        t->body_len = len;
        t->in_body = true;
        buf_reset(&t->body);
    }
    size_t want = t->body_len - t->body.len, have = DM_MIN(want, n - pos);
    if (have && buf_append(&t->body, p + pos, have))
        return dm_fail(e, DM_ENOMEM, "transport: out of memory");
    pos += have;
    if (t->body.len < t->body_len) goto more;
    size_t plen = t->body.len;
    const uint8_t *body = (const uint8_t *)t->body.data;
    if (t->kind == TRANSPORT_FULL) {
        plen -= 4;
        if (crc_of(t->hdr, 8, body, plen) != tl_read_u32(body + plen))
            return dm_fail(e, DM_EPROTO, "transport: CRC32 mismatch in packet %" PRIu32,
                           t->recv_seq);
        t->recv_seq++;
    }
    t->in_body = false;
    t->hdr_len = 0;
    t->got_packet = true;
    *pkt = body;
    *pkt_len = plen;
    *ready = true;
more:
    *used = pos;
    return DM_OK;
}

const char *transport_foreign(const struct transport *t)
{
    if (t->server || t->got_packet || t->first_len < 2) return NULL;
    if (t->first_len == 4 && memcmp(t->first, "HTTP", 4) == 0) return "HTTP";
    if ((t->first[0] == 0x15 || t->first[0] == 0x16) && t->first[1] == 0x03) return "TLS";
    return NULL;
}

bool transport_error_code(const uint8_t *pkt, size_t len, int32_t *code)
{
    if (len != 4) return false;
    int32_t v = (int32_t)tl_read_u32(pkt);
    if (v >= 0) return false;
    *code = v;
    return true;
}
