/* transport framing against Telethon's packet codecs (tests/interop/vectors/telethon_crypto.json).
 */
#include "core/common.h"

#include "mtproto/transport.h"
#include "testutil.h"

static const char *kind_name[] = {"abridged", "intermediate", "full"};

/* Feeds stream in chunks of `chunk` bytes (0: varying sizes) to t; checks the packets. */
static void decode_stream(struct transport *t, const uint8_t *s, size_t n, json_t *payloads,
                          size_t chunk, const char *what)
{
    size_t pos = 0, got = 0, step = 1;
    struct dm_error e = {0};
    while (pos < n) {
        size_t len = chunk ? chunk : (step = step * 7 % 61 + 1);
        len = DM_MIN(len, n - pos);
        size_t off = 0;
        while (off < len) {
            size_t used;
            const uint8_t *pkt;
            size_t plen;
            bool ready;
            if (transport_read(t, s + pos + off, len - off, &used, &pkt, &plen, &ready, &e) !=
                DM_OK) {
                CHECK(false, "%s: %s", what, e.msg);
                return;
            }
            off += used;
            if (ready) {
                const char *want = json_string_value(json_array_get(payloads, got));
                CHECK(want && t_eq_hex(pkt, plen, want), "%s: packet %zu differs", what, got);
                got++;
            } else if (used == 0) {
                break;
            }
        }
        pos += len;
    }
    CHECK(got == json_array_size(payloads), "%s: %zu of %zu packets", what, got,
          json_array_size(payloads));
}

static void vectors(void)
{
    json_t *v = t_vectors("telethon_crypto.json");
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(v, "transport"), i, x)
    {
        enum transport_kind kind = (enum transport_kind)i;
        const char *name = json_string_value(json_object_get(x, "kind"));
        CHECK(strcmp(name, kind_name[kind]) == 0, "kind order");
        json_t *payloads = json_object_get(x, "payloads");
        size_t sn;
        uint8_t *stream = t_unhex(json_string_value(json_object_get(x, "stream")), &sn);
        /* encode as a client */
        struct transport c;
        transport_init(&c, kind, false, TRANSPORT_DEFAULT_MAX);
        struct buf out;
        buf_init(&out, 1 << 20);
        transport_start(&c, &out);
        size_t j;
        json_t *p;
        json_array_foreach(payloads, j, p)
        {
            size_t pl;
            uint8_t *pb = t_unhex(json_string_value(p), &pl);
            CHECK(transport_frame(&c, pb, pl, &out, NULL) == DM_OK, "frame");
            free(pb);
        }
        CHECK(out.len == sn && memcmp(out.data, stream, sn) == 0, "%s: our frames equal Telethon's",
              name);
        /* decode as a server that detects the kind, in several chunkings */
        size_t chunks[] = {1, 3, 4096, 0};
        for (size_t k = 0; k < DM_ARRAY_LEN(chunks); k++) {
            struct transport s;
            transport_init(&s, TRANSPORT_DETECT, true, TRANSPORT_DEFAULT_MAX);
            char what[64];
            snprintf(what, sizeof what, "%s server, chunk %zu", name, chunks[k]);
            decode_stream(&s, stream, sn, payloads, chunks[k], what);
            CHECK(s.kind == kind, "%s detected", name);
            transport_release(&s);
        }
        /* decode as a client: the same frames without the tag */
        size_t tag = kind == TRANSPORT_ABRIDGED ? 1 : kind == TRANSPORT_INTERMEDIATE ? 4 : 0;
        struct transport cl;
        transport_init(&cl, kind, false, TRANSPORT_DEFAULT_MAX);
        decode_stream(&cl, stream + tag, sn - tag, payloads, 5, name);
        transport_release(&cl);
        transport_release(&c);
        buf_release(&out);
        free(stream);
    }
    printf("telethon: abridged, intermediate and full framing equal; server detection and chunked "
           "decoding\n");
    json_decref(v);
}

static dm_err feed(struct transport *t, const void *p, size_t n, struct dm_error *e)
{
    size_t used;
    const uint8_t *pkt;
    size_t plen;
    bool ready;
    return transport_read(t, p, n, &used, &pkt, &plen, &ready, e);
}

static void hostile(void)
{
    struct dm_error e = {0};
    struct transport t;
    transport_init(&t, TRANSPORT_INTERMEDIATE, false, 1024);
    CHECK(feed(&t, "\x00\x10\x00\x00", 4, &e) == DM_EPROTO, "intermediate over the cap: %s", e.msg);
    transport_release(&t);
    transport_init(&t, TRANSPORT_INTERMEDIATE, false, 1024);
    CHECK(feed(&t, "\x05\x00\x00\x00", 4, &e) == DM_EPROTO, "intermediate length 5");
    transport_release(&t);
    transport_init(&t, TRANSPORT_INTERMEDIATE, false, 1024);
    CHECK(feed(&t, "\x00\x00\x00\x00", 4, &e) == DM_EPROTO, "intermediate length 0");
    transport_release(&t);
    transport_init(&t, TRANSPORT_ABRIDGED, false, 1024);
    CHECK(feed(&t, "\x7f\xff\xff\xff", 4, &e) == DM_EPROTO, "abridged 64 MiB: %s", e.msg);
    transport_release(&t);
    transport_init(&t, TRANSPORT_ABRIDGED, true, 1024);
    CHECK(feed(&t, "\xee", 1, &e) == DM_EPROTO, "abridged server without 0xef");
    transport_release(&t);
    /* full: CRC and sequence */
    struct transport c, s;
    struct buf out;
    buf_init(&out, 4096);
    transport_init(&c, TRANSPORT_FULL, false, 1024);
    transport_frame(&c, (const uint8_t *)"abcdefgh", 8, &out, NULL);
    out.data[10] ^= 1;
    transport_init(&s, TRANSPORT_DETECT, true, 1024);
    CHECK(feed(&s, out.data, out.len, &e) == DM_EPROTO && strstr(e.msg, "CRC"), "CRC: %s", e.msg);
    transport_release(&s);
    buf_reset(&out);
    transport_frame(&c, (const uint8_t *)"abcdefgh", 8, &out, NULL); /* seq 1 where 0 is expected */
    transport_init(&s, TRANSPORT_DETECT, true, 1024);
    CHECK(feed(&s, out.data, out.len, &e) == DM_EPROTO && strstr(e.msg, "sequence"), "seq: %s",
          e.msg);
    transport_release(&s);
    transport_release(&c);
    CHECK(transport_frame(&c, (const uint8_t *)"abc", 3, &out, &e) == DM_EINVAL,
          "unaligned frame refused");
    buf_release(&out);
    int32_t code = 0;
    CHECK(transport_error_code((const uint8_t *)"\x6c\xfe\xff\xff", 4, &code) && code == -404,
          "-404");
    CHECK(!transport_error_code((const uint8_t *)"\x04\x00\x00\x00", 4, &code),
          "4 is not an error");
}

/* A server that is not MTProto's: what its first bytes are, but only while they never framed. */
static void foreign(void)
{
    static const char http[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
    static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46};
    struct dm_error e = {0};
    struct transport t;
    /* intermediate: "HTTP" is a length no packet has */
    transport_init(&t, TRANSPORT_INTERMEDIATE, false, 1024);
    CHECK(feed(&t, http, 2, &e) == DM_OK && !transport_foreign(&t), "2 bytes tell nothing");
    CHECK(feed(&t, http + 2, sizeof http - 3, &e) == DM_EPROTO, "HTTP does not frame");
    CHECK(transport_foreign(&t) && strcmp(transport_foreign(&t), "HTTP") == 0, "HTTP named");
    transport_release(&t);
    /* abridged: "H" is a length of 288 bytes; the server closes first */
    transport_init(&t, TRANSPORT_ABRIDGED, false, 1024);
    CHECK(feed(&t, http, sizeof http - 1, &e) == DM_OK, "abridged waits for 288 bytes");
    CHECK(transport_foreign(&t) && strcmp(transport_foreign(&t), "HTTP") == 0, "HTTP named");
    transport_release(&t);
    transport_init(&t, TRANSPORT_INTERMEDIATE, false, 1024);
    CHECK(feed(&t, alert, sizeof alert, &e) == DM_EPROTO, "a TLS alert does not frame");
    CHECK(transport_foreign(&t) && strcmp(transport_foreign(&t), "TLS") == 0, "TLS named");
    transport_release(&t);
    /* an abridged packet of 88 bytes whose payload starts with 0x03 is MTProto once it framed */
    uint8_t pkt[89] = {0x16, 0x03};
    transport_init(&t, TRANSPORT_ABRIDGED, false, 1024);
    CHECK(feed(&t, pkt, sizeof pkt, &e) == DM_OK && !transport_foreign(&t), "a framed packet");
    transport_release(&t);
    /* MTProto's first packet (intermediate, 4 bytes of length) is nothing else */
    transport_init(&t, TRANSPORT_INTERMEDIATE, false, 1024);
    CHECK(feed(&t, "\x54\x00\x00\x00", 4, &e) == DM_OK && !transport_foreign(&t), "MTProto");
    transport_release(&t);
}

int main(void)
{
    vectors();
    hostile();
    foreign();
    return t_done("transport");
}
