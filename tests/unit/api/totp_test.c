/* Unit tests of TOTP (api/totp.h) against RFC 6238's test vectors (Appendix B, SHA-1: the
 * 8-digit codes' last 6 digits) and RFC 4648's base32 vectors. */
#include "core/common.h"
#include "api/totp.h"

#include "../check.h"

/* RFC 6238's SHA-1 seed "12345678901234567890" in base32 */
#define SEED "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

static void test_vectors(void)
{
    static const struct {
        int64_t t;
        int code;
    } v[] = {
        {59, 287082},       {1111111109, 81804},  {1111111111, 50471},
        {1234567890, 5924}, {2000000000, 279037}, {20000000000, 353130},
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(v); i++)
        CHECK(totp_code(SEED, v[i].t / TOTP_STEP) == v[i].code);
    CHECK(totp_code("gezdgnbvgy3tqojqgezdgnbvgy3tqojq", 1) == 287082); /* any case */
    CHECK(totp_code("not base32!", 1) == -1);
    CHECK(totp_code("", 1) == -1);
    printf("ok totp: RFC 6238 SHA-1 vectors, lowercase secret, bad secrets\n");
}

static void test_check(void)
{
    int64_t step = 0;
    CHECK(totp_check(SEED, "287082", 59, &step) && step == 1);
    CHECK(totp_check(SEED, "287082", 59 + 30, &step) && step == 1); /* the step before */
    CHECK(totp_check(SEED, "287082", 59 - 30, &step) && step == 1); /* the step after */
    CHECK(!totp_check(SEED, "287082", 59 + 60, &step));
    CHECK(!totp_check(SEED, "28708", 59, &step));
    CHECK(!totp_check(SEED, "2870820", 59, &step));
    CHECK(!totp_check(SEED, "28708a", 59, &step));
    CHECK(totp_check(SEED, "005924", 1234567890, &step)); /* leading zeros */
    printf("ok totp: check within one step either way, 6 digits only\n");
}

static void test_base32(void)
{
    char out[TOTP_BASE32_MAX];
    totp_base32((const unsigned char *)"12345678901234567890", 20, out);
    CHECK(strcmp(out, SEED) == 0);
    totp_base32((const unsigned char *)"foobar", 6, out); /* RFC 4648 §10, unpadded */
    CHECK(strcmp(out, "MZXW6YTBOI") == 0);
    totp_base32((const unsigned char *)"f", 1, out);
    CHECK(strcmp(out, "MY") == 0);
    printf("ok totp: base32 (RFC 4648)\n");
}

int main(void)
{
    test_vectors();
    test_check();
    test_base32();
    return CHECK_DONE();
}
