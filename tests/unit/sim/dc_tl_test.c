/* Unit tests of tgsim's TL (sim/dc_tl.c): the definition each layer's client is answered with
 * (dc_layers.c), and the decoder on gzip_packed: gzip and zlib streams, an allowance per message
 * shared with tl_codec (which decodes its plain fields), nesting refused, nothing accepted without
 * an allowance (the handshake). */
#include "core/common.h"
#include "mtproto/gzip.h"
#include "mtproto/tl_codec.h"
#include "sim/dc_tl.h"

#include "../check.h"

#include <zlib.h>

#define ID_gzip_packed 0x3072cfa1u

/* Appends gzip_packed(p[0..n)) to out, as zlib (compress2) or gzip (gzip_deflate). */
static void put_packed(struct buf *out, const void *p, size_t n, bool zlib)
{
    struct buf z;
    buf_init(&z, TL_MAX_GZIP);
    if (zlib) {
        uLongf zn = compressBound(n);
        uint8_t *zb = malloc(zn);
        if (!zb || compress2(zb, &zn, p, n, 9) != Z_OK || buf_append(&z, zb, zn)) abort();
        free(zb);
    } else if (gzip_deflate(p, n, &z, NULL)) {
        abort();
    }
    if (tl_put_u32(out, ID_gzip_packed) || tl_put_bytes(out, z.data, z.len)) abort();
    buf_release(&z);
}

static void encode(struct buf *out, const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    if (!j || tl_encode(out, j, NULL, NULL)) abort();
    json_decref(j);
}

static void test_forms(void)
{
    struct buf call, msg;
    buf_init(&call, 1 << 16);
    buf_init(&msg, 1 << 16);
    encode(&call, "{\"_\":\"users.getUsers\",\"id\":[{\"_\":\"inputUserSelf\"}]}");
    for (int zlib = 0; zlib <= 1; zlib++) {
        buf_reset(&msg);
        put_packed(&msg, call.data, call.len, zlib);
        CHECK((uint8_t)msg.data[5] == (zlib ? 0x78 : 0x1f)); /* after the id and a 1-byte length */
        struct tl_inflate gz = TL_INFLATE_INIT;
        json_t *j = NULL;
        size_t used = 0;
        struct dm_error e = {0};
        CHECK(dc_tl_decode((uint8_t *)msg.data, msg.len, &gz, &j, &used, &e) == DM_OK);
        CHECK(tl_is(j, "users.getUsers") && used == msg.len && gz.left == TL_MAX_GZIP - call.len &&
              !gz.inside);
        json_decref(j);
        /* without an allowance (tgsim's handshake): refused */
        j = NULL;
        CHECK(dc_tl_decode((uint8_t *)msg.data, msg.len, NULL, &j, NULL, &e) == DM_EPROTO && !j &&
              strstr(e.msg, "no compression"));
    }
    /* bytes left over inside the gzip_packed */
    buf_reset(&msg);
    tl_put_u32(&call, 0);
    put_packed(&msg, call.data, call.len, true);
    json_t *j = NULL;
    struct dm_error e = {0};
    CHECK(dc_tl_decode((uint8_t *)msg.data, msg.len, &(struct tl_inflate)TL_INFLATE_INIT, &j, NULL,
                       &e) == DM_EPROTO &&
          strstr(e.msg, "left over"));
    buf_release(&call);
    buf_release(&msg);
    printf("dc_tl: gzip and zlib gzip_packed decode; none without an allowance; left-over bytes "
           "refused\n");
}

static void test_nesting(void)
{
    struct buf call, one, two;
    buf_init(&call, 1 << 16);
    buf_init(&one, 1 << 16);
    buf_init(&two, 1 << 16);
    encode(&call, "{\"_\":\"help.getConfig\"}");
    put_packed(&one, call.data, call.len, false);
    put_packed(&two, one.data, one.len, true);
    struct tl_inflate gz = TL_INFLATE_INIT;
    json_t *j = NULL;
    struct dm_error e = {0};
    CHECK(dc_tl_decode((uint8_t *)two.data, two.len, &gz, &j, NULL, &e) == DM_EPROTO && !j &&
          strstr(e.msg, "inside gzip_packed") && !gz.inside);
    printf("dc_tl: gzip_packed(gzip_packed(help.getConfig)): %s\n", e.msg);

    /* a Vector<long> field (decoded by tl_codec) packed: fine; inside a packed message: nested */
    struct buf ids, ack;
    buf_init(&ids, 1 << 16);
    buf_init(&ack, 1 << 16);
    tl_put_u32(&ids, TL_ID_vector);
    tl_put_u32(&ids, 2);
    tl_put_u64(&ids, 11);
    tl_put_u64(&ids, 12);
    tl_put_u32(&ack, TL_ID_msgs_ack);
    put_packed(&ack, ids.data, ids.len, true);
    gz = (struct tl_inflate)TL_INFLATE_INIT;
    CHECK(dc_tl_decode((uint8_t *)ack.data, ack.len, &gz, &j, NULL, &e) == DM_OK &&
          tl_is(j, "msgs_ack") && json_array_size(json_object_get(j, "msg_ids")) == 2 &&
          gz.left == TL_MAX_GZIP - ids.len);
    json_decref(j);
    j = NULL;
    buf_reset(&two);
    put_packed(&two, ack.data, ack.len, false);
    gz = (struct tl_inflate)TL_INFLATE_INIT;
    CHECK(dc_tl_decode((uint8_t *)two.data, two.len, &gz, &j, NULL, &e) == DM_EPROTO && !j &&
          strstr(e.msg, "inside gzip_packed"));
    printf("dc_tl: gzip_packed(msgs_ack(gzip_packed(Vector<long>))): %s\n", e.msg);
    buf_release(&ids);
    buf_release(&ack);
    buf_release(&call);
    buf_release(&one);
    buf_release(&two);
}

/* Two rpc_error of 10 MiB, each in its own gzip_packed, decoded on one allowance (as tgsim decodes
 * the messages of one packet): the second passes it. */
static void test_allowance(void)
{
    size_t big = 10u << 20;
    char *s = malloc(big + 1);
    if (!s) abort();
    memset(s, 'x', big);
    s[big] = 0;
    json_t *err =
        json_pack("{s:s,s:i,s:s}", "_", "rpc_error", "error_code", 400, "error_message", s);
    free(s);
    struct buf one, msg;
    buf_init(&one, TL_MAX_GZIP);
    buf_init(&msg, 1 << 20);
    if (!err || tl_encode(&one, err, NULL, NULL)) abort();
    json_decref(err);
    put_packed(&msg, one.data, one.len, false);
    size_t first = msg.len;
    put_packed(&msg, one.data, one.len, true);
    struct tl_inflate gz = TL_INFLATE_INIT;
    json_t *j = NULL;
    size_t used = 0;
    struct dm_error e = {0};
    CHECK(dc_tl_decode((uint8_t *)msg.data, first, &gz, &j, &used, &e) == DM_OK && used == first);
    json_decref(j);
    j = NULL;
    CHECK(dc_tl_decode((uint8_t *)msg.data + first, msg.len - first, &gz, &j, NULL, &e) ==
              DM_ETOOBIG &&
          !j && gz.left == 0 && strstr(e.msg, "inflates past"));
    printf("dc_tl: two packed 10 MiB objects on one allowance: %s\n", e.msg);
    buf_release(&one);
    buf_release(&msg);
}

/* The constructor id tgsim writes for the object in the layer, and that the encoding succeeds. */
static uint32_t id_in_layer(const char *json, int layer)
{
    json_t *j = json_loads(json, 0, NULL);
    struct buf out;
    buf_init(&out, 1 << 16);
    struct dm_error e = {0};
    uint32_t id = 0;
    if (!j) abort();
    if (dc_tl_encode(&out, j, layer, &e) == DM_OK && out.len >= 4)
        memcpy(&id, out.data, 4); /* little-endian, as the hosts tgsim runs on */
    else
        fprintf(stderr, "encode at layer %d: %s\n", layer, e.msg);
    json_decref(j);
    buf_release(&out);
    return id;
}

/* Each layer from 144 up gets the definition of the oldest pinned layer at or above it: Telethon
 * 144, GramJS 198, mtcute's 223 and 227, ours (228) from 228 up. */
static void test_layers(void)
{
    static const char user[] = "{\"_\":\"user\",\"id\":1,\"first_name\":\"A\"}";
    static const char channel[] = "{\"_\":\"channel\",\"id\":2,\"title\":\"C\",\"photo\":{\"_\":"
                                  "\"chatPhotoEmpty\"},\"date\":0}";
    static const char full[] =
        "{\"_\":\"channelFull\",\"id\":2,\"about\":\"\",\"chat_photo\":{\"_\":"
        "\"photoEmpty\",\"id\":0},\"notify_settings\":{\"_\":"
        "\"peerNotifySettings\"},\"bot_info\":[]}";
    static const struct {
        const char *obj;
        int from, to; /* layers */
        uint32_t id;
    } want[] = {
        {user, 144, 144, 0x3ff6ecb0},    {user, 145, 198, 0x4b46c37e},
        {user, 199, 227, 0x31774388},    {user, 228, 240, 0xb1b8cc83},
        {channel, 144, 144, 0x8261ac61}, {channel, 145, 198, 0xe00998b7},
        {channel, 199, 227, 0x1c32b11c}, {channel, 228, 240, 0xd49f34c6},
        {full, 144, 144, 0xea68a619},    {full, 145, 198, 0x52d6806b},
        {full, 199, 223, 0xe4e0b29d},    {full, 224, 240, 0xa04e8d3a},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        for (int layer = want[i].from; layer <= want[i].to; layer++, n++)
            if (id_in_layer(want[i].obj, layer) != want[i].id) {
                fprintf(stderr, "layer %d: %.30s... not #%08x\n", layer, want[i].obj, want[i].id);
                CHECK(false);
            }
    CHECK(TL_LAYER == 228);
    printf("dc_tl: user, channel, channelFull written as each of %d (object, layer) pairs of "
           "layers 144..240 defines them\n",
           n);
}

int main(void)
{
    test_layers();
    test_forms();
    test_nesting();
    test_allowance();
    return CHECK_DONE();
}
