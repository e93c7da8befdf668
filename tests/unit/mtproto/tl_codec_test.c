/* TL codec against GramJS's bytes (tests/interop/vectors/gramjs_tl.json), plus bounds. */
#include "core/common.h"

#include "mtproto/gzip.h"
#include "mtproto/tl_codec.h"
#include "testutil.h"

#include <sys/resource.h>
#include <time.h>
#include <zlib.h>

/* Equal as TL values: a long written as a decimal string equals the same integer. */
static bool same_value(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_string(b)) return same_value(b, a);
    if (json_is_string(a) && json_is_integer(b)) {
        char s[32];
        snprintf(s, sizeof s, "%" JSON_INTEGER_FORMAT, json_integer_value(b));
        return strcmp(s, json_string_value(a)) == 0;
    }
    if (json_is_object(a) && json_is_object(b)) {
        if (json_object_size(a) != json_object_size(b)) return false;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k,
                            v) if (!same_value(v, json_object_get(b, k))) return false;
        return true;
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b)) return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_value(json_array_get(a, i), json_array_get(b, i))) return false;
        return true;
    }
    return json_equal(a, b);
}

static void check_vectors(void)
{
    json_t *root = t_vectors("gramjs_tl.json");
    json_t *vecs = json_object_get(root, "vectors");
    size_t i;
    json_t *v;
    int n = 0;
    json_array_foreach(vecs, i, v)
    {
        json_t *value = json_object_get(v, "value");
        const char *hex = json_string_value(json_object_get(v, "hex"));
        const char *name = json_string_value(json_object_get(value, "_"));
        /* the same constructor ids in GramJS's layer and ours, or the bytes cannot match */
        const char *cn;
        json_t *id;
        json_object_foreach(json_object_get(v, "ids"), cn, id)
        {
            const struct tl_ctor *c = tl_ctor_by_name(cn);
            CHECK(c && c->id == (uint32_t)json_integer_value(id),
                  "%s: id differs from GramJS's layer", cn);
        }
        struct buf out;
        buf_init(&out, 1 << 20);
        struct dm_error e = {0};
        dm_err rc = tl_encode(&out, value, NULL, &e);
        CHECK(rc == DM_OK, "encode %s: %s", name, e.msg);
        CHECK(rc == DM_OK && t_eq_hex(out.data, out.len, hex),
              "encode %s: bytes differ from GramJS", name);

        size_t len, used = 0;
        uint8_t *bytes = t_unhex(hex, &len);
        json_t *dec = NULL;
        rc = tl_decode(bytes, len, NULL, &dec, &used, &e);
        CHECK(rc == DM_OK && used == len, "decode %s: %s", name, e.msg);
        CHECK(rc == DM_OK && same_value(value, dec), "decode %s: value differs", name);
        if (rc == DM_OK && !same_value(value, dec)) {
            char *s = json_dumps(dec, JSON_COMPACT);
            fprintf(stderr, "  got %s\n", s);
            free(s);
        }
        buf_reset(&out);
        CHECK(dec && tl_encode(&out, dec, NULL, &e) == DM_OK && t_eq_hex(out.data, out.len, hex),
              "re-encode %s", name);
        /* every truncation fails cleanly; skipping agrees with decoding */
        for (size_t cut = 0; cut < len; cut++)
            CHECK(tl_decode(bytes, cut, NULL, NULL, NULL, NULL) != DM_OK,
                  "%s truncated to %zu decodes", name, cut);
        CHECK(tl_decode(bytes, len, NULL, NULL, &used, NULL) == DM_OK && used == len, "skip %s",
              name);
        json_decref(dec);
        free(bytes);
        buf_release(&out);
        n++;
    }
    printf("gramjs vectors: %d values encode and decode byte-for-byte (%s)\n", n,
           json_string_value(json_object_get(root, "producer")));
    json_decref(root);
}

static json_t *parse(const char *s)
{
    json_error_t err;
    json_t *j = json_loads(s, 0, &err);
    if (!j) {
        fprintf(stderr, "bad test JSON: %s\n", err.text);
        exit(1);
    }
    return j;
}

static void check_bounds(void)
{
    struct dm_error e = {0};
    /* a vector that claims more elements than bytes */
    uint8_t v1[] = {0x59, 0xb4, 0xd6, 0x62, 0x15, 0xc4, 0xb5, 0x1c,
                    0xff, 0xff, 0xff, 0x7f, 1,    2,    3,    4};
    CHECK(tl_decode(v1, sizeof v1, NULL, NULL, NULL, &e) == DM_EPROTO,
          "huge vector count accepted");
    printf("huge vector: %s\n", e.msg);
    /* a string whose length runs past the end */
    uint8_t v2[] = {0x72, 0x5a, 0xfb, 0xbc, 0x00, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0x00, 'a'};
    CHECK(tl_decode(v2, sizeof v2, NULL, NULL, NULL, &e) == DM_EPROTO, "overlong string accepted");
    /* unknown constructor */
    uint8_t v3[] = {0x01, 0x02, 0x03, 0x04};
    CHECK(tl_decode(v3, sizeof v3, NULL, NULL, NULL, &e) == DM_EPROTO &&
              strstr(e.msg, "unknown constructor"),
          "unknown constructor: %s", e.msg);
    /* nesting: invokeWithoutUpdates(invokeWithoutUpdates(...)) 200 deep */
    struct buf deep;
    buf_init(&deep, 4096);
    for (int i = 0; i < 200; i++)
        tl_put_u32(&deep, TL_ID_invokeWithoutUpdates);
    tl_put_u32(&deep, TL_ID_help_getConfig);
    CHECK(tl_decode((uint8_t *)deep.data, deep.len, NULL, NULL, NULL, &e) == DM_EPROTO &&
              strstr(e.msg, "deeper"),
          "depth cap: %s", e.msg);
    printf("depth: %s\n", e.msg);
    buf_release(&deep);
    /* wrong type in a typed field: inputPeerSelf where InputUser is expected */
    json_t *bad = parse("{\"_\":\"users.getUsers\",\"id\":[{\"_\":\"inputPeerSelf\"}]}");
    struct buf out;
    buf_init(&out, 4096);
    CHECK(tl_encode(&out, bad, NULL, &e) == DM_EINVAL && strstr(e.msg, "is not a InputUser"),
          "type check: %s", e.msg);
    json_decref(bad);
    buf_reset(&out);
    json_t *miss = parse("{\"_\":\"contacts.resolveUsername\"}");
    CHECK(tl_encode(&out, miss, NULL, &e) == DM_EINVAL && strstr(e.msg, "username"),
          "missing field: %s", e.msg);
    json_decref(miss);
    buf_release(&out);
}

static void check_gzip_and_strings(void)
{
    struct dm_error e = {0};
    json_t *v =
        parse("{\"_\":\"rpc_error\",\"error_code\":420,\"error_message\":\"FLOOD_WAIT_31\"}");
    struct buf plain, packed, msg;
    buf_init(&plain, 1 << 20);
    buf_init(&packed, 1 << 20);
    buf_init(&msg, 1 << 20);
    CHECK(tl_encode(&plain, v, NULL, &e) == DM_OK, "encode");
    CHECK(gzip_deflate((uint8_t *)plain.data, plain.len, &packed, &e) == DM_OK, "deflate");
    tl_put_u32(&msg, 0x3072cfa1);
    tl_put_bytes(&msg, packed.data, packed.len);
    json_t *dec = NULL;
    size_t used;
    CHECK(tl_decode_gz((uint8_t *)msg.data, msg.len, NULL, &(struct tl_inflate)TL_INFLATE_INIT,
                       &dec, &used, &e) == DM_OK &&
              json_equal(dec, v) && used == msg.len,
          "gzip_packed: %s", e.msg);
    json_decref(dec);
    /* a bomb: 32 MiB of zeros inflates past TL_MAX_GZIP */
    size_t big = 32u << 20;
    uint8_t *zeros = calloc(1, big);
    buf_reset(&packed);
    buf_reset(&msg);
    CHECK(gzip_deflate(zeros, big, &packed, &e) == DM_OK, "deflate zeros");
    tl_put_u32(&msg, 0x3072cfa1);
    tl_put_bytes(&msg, packed.data, packed.len);
    CHECK(tl_decode_gz((uint8_t *)msg.data, msg.len, NULL, &(struct tl_inflate)TL_INFLATE_INIT,
                       NULL, NULL, &e) == DM_ETOOBIG,
          "gzip bomb: %s", e.msg);
    printf("gzip bomb (%zu packed bytes): %s\n", packed.len, e.msg);
    free(zeros);
    /* invalid UTF-8 from the wire becomes U+FFFD */
    buf_reset(&msg);
    tl_put_u32(&msg, TL_ID_rpc_error);
    tl_put_u32(&msg, 400);
    tl_put_bytes(&msg,
                 "A\xff"
                 "B\xc3",
                 4);
    CHECK(tl_decode((uint8_t *)msg.data, msg.len, NULL, &dec, NULL, &e) == DM_OK &&
              strcmp(json_string_value(json_object_get(dec, "error_message")),
                     "A\xef\xbf\xbd"
                     "B\xef\xbf\xbd") == 0,
          "utf-8 repair");
    json_decref(dec);
    json_decref(v);
    buf_release(&plain);
    buf_release(&packed);
    buf_release(&msg);
}

/* ---- gzip_packed nesting (issue 10, item 2) ---- */

static long peak_rss_kib(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends gzip_packed(gzip(p[0..n))) to out. */
static void put_packed(struct buf *out, const void *p, size_t n)
{
    struct buf z;
    buf_init(&z, TL_MAX_GZIP);
    if (gzip_deflate(p, n, &z, NULL) || tl_put_u32(out, 0x3072cfa1) ||
        tl_put_bytes(out, z.data, z.len))
        abort();
    buf_release(&z);
}

/* The packet of the issue: `layers` gzip_packed, each in the data of the one around it, around a
 * boolTrue. With `pad`, each layer's data ends in zeros up to TL_MAX_GZIP bytes (left over after
 * the object, which a decoder notices only once the layers inside are done). */
static void build_nested(struct buf *pkt, int layers, bool pad)
{
    struct buf plain;
    buf_init(&plain, TL_MAX_GZIP);
    tl_put_u32(&plain, TL_ID_boolTrue);
    static const uint8_t zeros[65536];
    for (int k = 1; k < layers; k++) {
        struct buf next;
        buf_init(&next, TL_MAX_GZIP);
        put_packed(&next, plain.data, plain.len);
        while (pad && next.len < TL_MAX_GZIP)
            if (buf_append(&next, zeros, DM_MIN(sizeof zeros, TL_MAX_GZIP - next.len))) abort();
        buf_release(&plain);
        plain = next;
    }
    put_packed(pkt, plain.data, plain.len);
    buf_release(&plain);
}

/* Issue 10, item 2. Before: tl_decode accepted a gzip_packed inside a gzip_packed, with no
 * count, and each layer could inflate to TL_MAX_GZIP: the 2-layer packet decoded (accepted), and
 * the 40-layer packet (34,872 bytes) grew the peak RSS by 642 MiB (all layers held at once)
 * before it was refused for its left-over padding, 20.7 s under ASan. Now: refused at the second
 * layer, having inflated the first one only. */
static void check_gzip_nesting(void)
{
    struct dm_error e = {0};
    struct buf pkt;
    buf_init(&pkt, 1u << 20);
    /* two layers, small: a gzip_packed inside a gzip_packed */
    build_nested(&pkt, 2, false);
    json_t *v = NULL;
    struct tl_inflate gz = TL_INFLATE_INIT;
    dm_err rc = tl_decode_gz((uint8_t *)pkt.data, pkt.len, NULL, &gz, &v, NULL, &e);
    printf("nested gzip_packed, 2 layers (%zu bytes): %s (%s)\n", pkt.len, dm_errname(rc),
           rc ? e.msg : "accepted");
    CHECK(rc == DM_EPROTO && strstr(e.msg, "inside gzip_packed") && !gz.inside,
          "2 layers refused: %s", e.msg);
    /* one layer is fine */
    struct buf one;
    buf_init(&one, 1u << 10);
    build_nested(&one, 1, false);
    gz = (struct tl_inflate)TL_INFLATE_INIT;
    CHECK(tl_decode_gz((uint8_t *)one.data, one.len, NULL, &gz, &v, NULL, &e) == DM_OK &&
              tl_is(v, "boolTrue") && gz.left == TL_MAX_GZIP - 4 && !gz.inside,
          "one layer: %s", e.msg);
    json_decref(v);
    v = NULL;
    /* without an allowance (tl_decode, the handshake): no gzip_packed at all */
    CHECK(tl_decode((uint8_t *)one.data, one.len, NULL, &v, NULL, &e) == DM_EPROTO &&
              strstr(e.msg, "no compression is accepted"),
          "tl_decode refuses gzip_packed: %s", e.msg);
    buf_release(&one);
    /* forty layers, each padded to TL_MAX_GZIP */
    buf_reset(&pkt);
    build_nested(&pkt, 40, true);
    long before = peak_rss_kib();
    double t0 = now_s();
    gz = (struct tl_inflate)TL_INFLATE_INIT;
    rc = tl_decode_gz((uint8_t *)pkt.data, pkt.len, NULL, &gz, NULL, NULL, &e);
    double took = now_s() - t0;
    long grew = peak_rss_kib() - before;
    size_t inflated = TL_MAX_GZIP - gz.left;
    printf("nested gzip_packed, 40 layers (%zu bytes): %s (%s); %zu bytes inflated, peak RSS grew "
           "by %ld MiB, "
           "%.2f s\n",
           pkt.len, dm_errname(rc), rc ? e.msg : "accepted", inflated, grew / 1024, took);
    CHECK(rc == DM_EPROTO && strstr(e.msg, "inside gzip_packed"), "40 layers refused: %s", e.msg);
    CHECK(inflated == TL_MAX_GZIP, "only the outer layer was inflated (%zu bytes)", inflated);
    CHECK(grew < 128 * 1024, "peak RSS grew by %ld KiB", grew);
    buf_release(&pkt);
}

/* Three users of 6 MiB each, every one in its own gzip_packed, as a Vector<User>: the message's
 * allowance is spent by the third. */
static void check_gzip_allowance(void)
{
    struct dm_error e = {0};
    size_t big = 6u << 20;
    char *name = malloc(big);
    if (!name) abort();
    memset(name, 'a', big);
    json_t *user =
        json_pack("{s:s,s:I,s:s%}", "_", "user", "id", (json_int_t)7, "first_name", name, big);
    free(name);
    struct buf one;
    buf_init(&one, TL_MAX_GZIP);
    CHECK(user && tl_encode(&one, user, NULL, &e) == DM_OK, "encode a big user: %s", e.msg);
    json_decref(user);
    json_t *call = json_pack("{s:s,s:[]}", "_", "users.getUsers", "id");
    const struct tl_field *as = tl_call_result(call);
    /* the whole Vector<User> packed (this used to read the vector's id twice) */
    json_t *users =
        parse("[{\"_\":\"user\",\"id\":7,\"first_name\":\"A\"},{\"_\":\"userEmpty\",\"id\":8}]");
    struct buf vec, packed;
    buf_init(&vec, 1u << 16);
    buf_init(&packed, 1u << 16);
    CHECK(tl_encode(&vec, users, as, &e) == DM_OK, "encode users: %s", e.msg);
    put_packed(&packed, vec.data, vec.len);
    json_t *got = NULL;
    CHECK(tl_decode_gz((uint8_t *)packed.data, packed.len, as, &(struct tl_inflate)TL_INFLATE_INIT,
                       &got, NULL, &e) == DM_OK &&
              same_value(got, users),
          "a packed Vector<User>: %s", e.msg);
    json_decref(got);
    json_decref(users);
    buf_release(&vec);
    buf_release(&packed);
    for (int n = 2; n <= 3; n++) {
        struct buf msg;
        buf_init(&msg, 1u << 20);
        tl_put_u32(&msg, TL_ID_vector);
        tl_put_u32(&msg, (uint32_t)n);
        for (int i = 0; i < n; i++)
            put_packed(&msg, one.data, one.len);
        struct tl_inflate gz = TL_INFLATE_INIT;
        json_t *v = NULL;
        dm_err rc = tl_decode_gz((uint8_t *)msg.data, msg.len, as, &gz, &v, NULL, &e);
        if (n == 2)
            CHECK(rc == DM_OK && json_array_size(v) == 2 && gz.left == TL_MAX_GZIP - 2 * one.len,
                  "two packed users (%zu bytes each) fit: %s", one.len, rc ? e.msg : "ok");
        else
            CHECK(rc == DM_ETOOBIG && gz.left == 0 && strstr(e.msg, "inflates past"),
                  "the third passes the message's allowance: %s", e.msg);
        if (n == 3)
            printf("gzip allowance: %d packed users of %zu bytes in one message: %s\n", n, one.len,
                   e.msg);
        json_decref(v);
        buf_release(&msg);
    }
    json_decref(call);
    buf_release(&one);
}

/* gzip_packed with a gzip (1f 8b) or a zlib (78 01 / 5e / 9c / da) stream inside. */
static void check_gzip_forms(void)
{
    struct dm_error e = {0};
    json_t *want =
        parse("{\"_\":\"rpc_error\",\"error_code\":420,\"error_message\":\"FLOOD_WAIT_31\"}");
    struct buf plain, msg;
    buf_init(&plain, 1 << 16);
    buf_init(&msg, 1 << 16);
    tl_encode(&plain, want, NULL, &e);
    /* python3 -c 'import zlib; print(zlib.compress(bytes.fromhex(
     *   "19ca4421a40100000d464c4f4f445f574149545f33310000")).hex())' */
    static const char py_zlib[] =
        "789c933ce5a2b884918181d7cdc7dfdf253edcd13324ded8908101004db905c6";
    size_t pyn;
    uint8_t *py = t_unhex(py_zlib, &pyn);
    CHECK(t_eq_hex(plain.data, plain.len, "19ca4421a40100000d464c4f4f445f574149545f33310000"),
          "the plain bytes");
    struct {
        const char *what;
        int level; /* zlib's compress2 at this level; -1: Python's bytes; -2: our gzip_deflate */
        const char *head;
    } forms[] = {
        {"zlib from Python's zlib.compress", -1, "789c"},
        {"zlib, level 1", 1, "7801"},
        {"zlib, level 5", 5, "785e"},
        {"zlib, level 6", 6, "789c"},
        {"zlib, level 9", 9, "78da"},
        {"gzip", -2, "1f8b"},
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(forms); i++) {
        uint8_t z[256];
        uLongf zn = sizeof z;
        struct buf gzb;
        buf_init(&gzb, 1 << 16);
        const uint8_t *data = z;
        if (forms[i].level == -1) {
            memcpy(z, py, pyn);
            zn = pyn;
        } else if (forms[i].level == -2) {
            gzip_deflate((uint8_t *)plain.data, plain.len, &gzb, &e);
            data = (const uint8_t *)gzb.data;
            zn = gzb.len;
        } else if (compress2(z, &zn, (const Bytef *)plain.data, plain.len, forms[i].level) !=
                   Z_OK) {
            abort();
        }
        buf_reset(&msg);
        tl_put_u32(&msg, 0x3072cfa1);
        tl_put_bytes(&msg, data, zn);
        json_t *v = NULL;
        struct tl_inflate gz = TL_INFLATE_INIT;
        CHECK(t_eq_hex(data, 2, forms[i].head), "%s starts %s", forms[i].what, forms[i].head);
        CHECK(tl_decode_gz((uint8_t *)msg.data, msg.len, NULL, &gz, &v, NULL, &e) == DM_OK &&
                  json_equal(v, want) && gz.left == TL_MAX_GZIP - plain.len,
              "%s: %s", forms[i].what, e.msg);
        json_decref(v);
        buf_release(&gzb);
    }
    /* what is not one whole gzip or zlib stream */
    uint8_t z[256];
    uLongf zn = sizeof z;
    compress2(z, &zn, (const Bytef *)plain.data, plain.len, 6);
    static const char *const bad[] = {"a zlib stream cut short", "a wrong adler32",
                                      "a preset dictionary", "raw deflate data",
                                      "two zlib streams"};
    for (size_t i = 0; i < DM_ARRAY_LEN(bad); i++) {
        uint8_t b[2 * sizeof z];
        const uint8_t *data = b;
        size_t bn = zn;
        memcpy(b, z, zn);
        if (i == 0) bn = zn - 3;
        if (i == 1) b[zn - 1] ^= 1;
        if (i == 2) { /* FDICT set, FCHECK made right again */
            b[1] = (uint8_t)((b[1] | 0x20) & ~0x1f);
            while ((b[0] * 256 + b[1]) % 31)
                b[1]++;
        }
        if (i == 3) data = b + 2, bn = zn - 6; /* no zlib header, no adler32 */
        if (i == 4) memcpy(b + zn, z, zn), bn = 2 * zn;
        buf_reset(&msg);
        tl_put_u32(&msg, 0x3072cfa1);
        tl_put_bytes(&msg, data, bn);
        struct tl_inflate gz = TL_INFLATE_INIT;
        CHECK(tl_decode_gz((uint8_t *)msg.data, msg.len, NULL, &gz, NULL, NULL, &e) == DM_EPROTO,
              "%s is refused", bad[i]);
        printf("gzip_packed with %s: %s\n", bad[i], e.msg);
    }
    free(py);
    json_decref(want);
    buf_release(&plain);
    buf_release(&msg);
}

static void check_tables(void)
{
    CHECK(TL_LAYER == 228, "layer %d", TL_LAYER);
    /* the join-request queries of layer 227 on (a bot decides a request by its query_id) */
    const struct tl_ctor *req = tl_ctor_by_name("updateBotChatInviteRequester");
    const struct tl_field *qid = tl_ctor_field(req, "query_id");
    CHECK(req && req->id == 0x7cb34d79 && qid && qid->kind == TL_K_LONG && qid->cond != TL_NO_COND,
          "updateBotChatInviteRequester#7cb34d79 with an optional query_id:long");
    const struct tl_ctor *set = tl_ctor_by_name("bots.setJoinChatResults");
    CHECK(set && set->id == 0xe71a4810 && tl_ctor_field(set, "query_id") &&
              tl_ctor_field(set, "result"),
          "bots.setJoinChatResults#e71a4810 query_id result");
    const struct tl_ctor *tog = tl_ctor_by_name("channels.toggleJoinRequest");
    CHECK(tog && tog->id == 0x0ecc2618 && tl_ctor_field(tog, "guard_bot"),
          "channels.toggleJoinRequest#0ecc2618 with guard_bot");
    const struct tl_error_def *d = tl_error_find("FLOOD_WAIT_31");
    CHECK(d && strcmp(d->name, "FLOOD_WAIT_%d") == 0 && d->code == 420, "FLOOD_WAIT_31");
    d = tl_error_find("PHONE_MIGRATE_4");
    CHECK(d && d->code == 303, "PHONE_MIGRATE_4");
    CHECK(tl_error_find("FLOOD_WAIT_") == NULL, "FLOOD_WAIT_ without a number");
    json_t *call =
        parse("{\"_\":\"invokeWithLayer\",\"layer\":223,\"query\":{\"_\":\"initConnection\","
              "\"query\":{\"_\":\"users.getUsers\",\"id\":[]}}}");
    const struct tl_field *r = tl_call_result(call);
    CHECK(r && r->kind == TL_K_TYPE && r->vector == TL_VEC_BOXED &&
              strcmp(tl_types[r->ref].name, "User") == 0,
          "invokeWithLayer(initConnection(users.getUsers)) returns Vector<User>");
    json_decref(call);
    /* the bare vector of bare future_salt, as Telethon reads it (GramJS boxes the elements) */
    const struct tl_ctor *fs = tl_ctor_by_name("future_salts");
    const struct tl_field *salts = tl_ctor_field(fs, "salts");
    CHECK(salts && salts->vector == TL_VEC_BARE && salts->kind == TL_K_BARE,
          "future_salts.salts is bare");
    for (size_t i = 1; i < TL_NCTORS; i++)
        CHECK(tl_ctors[i - 1].id < tl_ctors[i].id, "ids sorted");
    for (size_t i = 0; i < TL_NCTORS; i++)
        CHECK(tl_ctor_by_name(tl_ctors[i].name) == &tl_ctors[i], "name lookup %s",
              tl_ctors[i].name);
}

int main(void)
{
    check_tables();
    check_vectors();
    check_bounds();
    check_gzip_nesting();
    check_gzip_allowance();
    check_gzip_forms();
    check_gzip_and_strings();
    return t_done("tl_codec");
}
