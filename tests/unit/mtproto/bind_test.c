/* The binding of a temporary key (bind.h): what the client seals opens with the permanent key
 * into the same fields and msg_id; another key, a changed byte or a cut message do not open. The
 * same code against mtcute's binding is in tests/integration/interop.test.mjs (its temporary
 * keys against tgsim). */
#include "core/common.h"

#include "mtproto/bind.h"
#include "mtproto/tl_codec.h"
#include "testutil.h"

int main(void)
{
    uint8_t perm[256], other[256];
    for (int i = 0; i < 256; i++)
        perm[i] = (uint8_t)(i * 13 + 1), other[i] = (uint8_t)(i * 5 + 2);
    struct mt_bind b = {.nonce = -1234567890123,
                        .temp_auth_key_id = 0x1122334455667788ull,
                        .perm_auth_key_id = crypto_auth_key_id(perm),
                        .temp_session_id = 42,
                        .expires_at = 1700086400};
    struct buf body;
    buf_init(&body, 1024);
    struct dm_error e = {0};
    CHECK(mt_bind_encode(perm, &b, 0x6543210000000004, crypto_random, NULL, &body, &e) == DM_OK,
          "encode: %s", e.msg);
    json_t *j = NULL;
    CHECK(tl_decode((uint8_t *)body.data, body.len, NULL, &j, NULL, &e) == DM_OK &&
              !strcmp(json_string_value(json_object_get(j, "_")), "auth.bindTempAuthKey"),
          "an auth.bindTempAuthKey: %s", e.msg);
    int64_t perm_id = 0, nonce = 0;
    int32_t exp = 0;
    uint8_t enc[512];
    size_t n = 0;
    CHECK(!tl_get_long(j, "perm_auth_key_id", &perm_id, NULL) &&
              !tl_get_long(j, "nonce", &nonce, NULL) && !tl_get_int(j, "expires_at", &exp, NULL) &&
              !tl_get_bytes(j, "encrypted_message", enc, sizeof enc, &n, NULL),
          "its fields");
    CHECK((uint64_t)perm_id == b.perm_auth_key_id && nonce == b.nonce && exp == b.expires_at &&
              n == 24 + 80,
          "perm id, nonce and expires_at outside; 72 bytes sealed with 8 of padding");
    struct mt_bind got;
    int64_t msg_id = 0;
    CHECK(mt_bind_open(perm, enc, n, &got, &msg_id, &e) == DM_OK, "opens: %s", e.msg);
    CHECK(msg_id == 0x6543210000000004 && got.nonce == b.nonce &&
              got.temp_auth_key_id == b.temp_auth_key_id &&
              got.perm_auth_key_id == b.perm_auth_key_id && got.temp_session_id == 42 &&
              got.expires_at == b.expires_at,
          "the same binding and msg_id");
    CHECK(mt_bind_open(other, enc, n, &got, &msg_id, NULL) == DM_ECRYPTO, "not with another key");
    enc[40] ^= 1;
    CHECK(mt_bind_open(perm, enc, n, &got, &msg_id, NULL) == DM_ECRYPTO, "not when changed");
    enc[40] ^= 1;
    CHECK(mt_bind_open(perm, enc, n - 16, &got, &msg_id, NULL) == DM_ECRYPTO, "not when cut");
    json_decref(j);
    buf_release(&body);
    return t_done("mtproto bind");
}
