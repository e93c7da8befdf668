/* verify_test: verification's pure parts (src/verify/): launch data checked against vectors made
 * by Python's hmac and urllib (not by us), with Telegram's signature field too, tampered, stale,
 * malformed; a challenge's texts picked
 * by language with the default behind them; the captcha a well-formed PNG of its size. */
#include "core/common.h"
#include "verify/captcha.h"
#include "verify/challenge.h"
#include "verify/initdata.h"

#include <zlib.h>

#include "../check.h"

/* Python: hmac.new(hmac.new(b"WebAppData", token, sha256).digest(), data_check_string, sha256),
 * the fields urllib.parse.urlencode'd (a space as '+'). */
static const char TOKEN[] = "1234567:TEST-token_abc";
static const char VECTOR[] =
    "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A424242%2C%22first_name%22%3A%22Zo%C3%"
    "AB+%3Cb%3E%22%2C%22last_name%22%3A%22%22%2C%22username%22%3A%22zoe_x%22%2C%22language_code%"
    "22%3A%22pt-br%22%7D&auth_date=1764900000&hash="
    "dfcf1f3958ac49169dac7525e49251926293032fcd61633336be7e0052b3854d";
#define AUTH_DATE 1764900000

/* With Telegram's `signature` field (Bot API 8.0): the hash covers it (Python, as above, over
 * every field but hash); the second vector's hash leaves it out, as a checker that dropped it
 * would compute, and must be refused. */
#define SIGNED_FIELDS                                                                              \
    "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A424242%2C%22first_name%22%3A%22Zo%22%7D" \
    "&auth_date=1764900000&signature=6fbdaab833d39f54518bd5c3eb3f511d035e68cb8Aa0-kK_e7oq_A&hash="
static const char SIGNED[] =
    SIGNED_FIELDS "c01db303bde0b0e787e8489a466dc1637d12ab4c52776eac67add419be8cc562";
static const char SIGNED_WITHOUT[] =
    SIGNED_FIELDS "cdd5f833096c3113fd09e26b9e35c765658f1fafbaddb7ebdce341a42d3f5e4c";

static dm_err check(const char *data, int64_t now, struct initdata *out)
{
    return initdata_check(data, strlen(data), TOKEN, now, 3600, out, NULL);
}

static void test_initdata(void)
{
    struct initdata id;
    CHECK(check(VECTOR, AUTH_DATE + 10, &id) == DM_OK);
    CHECK(id.user_id == 424242);
    CHECK(strcmp(id.first_name, "Zo\xc3\xab <b>") == 0);
    CHECK(strcmp(id.username, "zoe_x") == 0);
    CHECK(strcmp(id.language_code, "pt-br") == 0);
    CHECK(id.auth_date == AUTH_DATE);
    CHECK(strcmp(id.hash, "dfcf1f3958ac49169dac7525e49251926293032fcd61633336be7e0052b3854d") == 0);
    CHECK(check(SIGNED, AUTH_DATE + 10, &id) == DM_OK);
    CHECK(check(SIGNED_WITHOUT, AUTH_DATE + 10, &id) == DM_EAUTH);
    /* the fields in another order are the same data */
    char moved[sizeof VECTOR + 32];
    const char *user = strstr(VECTOR, "user=");
    const char *auth = strstr(VECTOR, "&auth_date=");
    snprintf(moved, sizeof moved, "%.*s&query_id=AAHdF6IQAAAAAN0XohDhrOrc%s", (int)(auth - user),
             user, auth);
    CHECK(check(moved, AUTH_DATE, &id) == DM_OK);

    CHECK(initdata_check(VECTOR, strlen(VECTOR), "1234567:other", AUTH_DATE, 3600, &id, NULL) ==
          DM_EAUTH);
    char tampered[sizeof VECTOR];
    memcpy(tampered, VECTOR, sizeof VECTOR);
    *strstr(tampered, "424242") = '5'; /* another user */
    CHECK(check(tampered, AUTH_DATE, &id) == DM_EAUTH);
    memcpy(tampered, VECTOR, sizeof VECTOR);
    tampered[sizeof VECTOR - 2] = tampered[sizeof VECTOR - 2] == '0' ? '1' : '0'; /* the hash */
    CHECK(check(tampered, AUTH_DATE, &id) == DM_EAUTH);

    CHECK(check(VECTOR, AUTH_DATE + 3600, &id) == DM_OK);
    CHECK(check(VECTOR, AUTH_DATE + 3601, &id) == DM_ETIMEOUT); /* stale */
    CHECK(check(VECTOR, AUTH_DATE - 61, &id) == DM_ETIMEOUT);   /* from the future */

    const char *const malformed[] = {
        "",
        "hash=",
        "auth_date=1&user=%7B%7D",
        "no_equals_sign",
        "user=%ZZ&hash=dfcf1f3958ac49169dac7525e49251926293032fcd61633336be7e0052b3854d",
        "a=1&a=2&hash=dfcf1f3958ac49169dac7525e49251926293032fcd61633336be7e0052b3854d",
        "user=%4&hash=dfcf1f3958ac49169dac7525e49251926293032fcd61633336be7e0052b3854d"};
    for (size_t i = 0; i < DM_ARRAY_LEN(malformed); i++)
        CHECK(check(malformed[i], AUTH_DATE, &id) == DM_EINVAL);
    char big[INITDATA_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK(check(big, AUTH_DATE, &id) == DM_EINVAL);
}

static const char SPEC[] =
    "{\"steps\":[\"question\",\"rules\"],\"correct_choice\":1,\"texts\":{"
    "\"default\":{\"rules\":\"Be kind\",\"accept\":\"OK\",\"question\":\"Sky?\","
    "\"choices\":[\"Green\",\"Blue\"]},"
    "\"pt\":{\"question\":\"C\xc3\xa9u?\",\"choices\":[\"Verde\",\"Azul\"]},"
    "\"pt-br\":{\"accept\":\"Aceito\"}}}";

static void test_challenge(void)
{
    struct challenge c;
    struct dm_error err = {0};
    CHECK(challenge_parse(SPEC, &c, &err) == DM_OK);
    CHECK(c.steps[STEP_RULES] && c.steps[STEP_QUESTION] && !c.steps[STEP_CAPTCHA]);
    CHECK(c.time_limit == 600 && c.on_pass == OUTCOME_APPROVE && c.on_fail == OUTCOME_DECLINE);
    CHECK(c.on_timeout == OUTCOME_DECLINE && c.captcha_attempts == 3 && c.correct_choice == 1);
    CHECK(strcmp(challenge_language(&c, "pt-BR"), "pt-br") == 0); /* the exact tag, any case */
    CHECK(strcmp(challenge_language(&c, "pt-pt"), "pt") == 0);    /* its primary language */
    CHECK(strcmp(challenge_language(&c, "de"), "default") == 0);
    CHECK(strcmp(challenge_language(&c, ""), "default") == 0);
    CHECK(strcmp(challenge_text(&c, "pt-br", "accept"), "Aceito") == 0);
    /* pt-br lacks it: pt's, before the default's */
    CHECK(strcmp(challenge_text(&c, "pt-br", "question"), "C\xc3\xa9u?") == 0);
    CHECK(strcmp(challenge_text(&c, "pt", "question"), "C\xc3\xa9u?") == 0);
    CHECK(strcmp(challenge_text(&c, "pt", "title"), "") == 0);
    CHECK(strcmp(json_string_value(json_array_get(challenge_choices(&c, "pt"), 1)), "Azul") == 0);
    CHECK(strcmp(json_string_value(json_array_get(challenge_choices(&c, "pt-br"), 1)), "Azul") ==
          0);
    CHECK(strcmp(json_string_value(json_array_get(challenge_choices(&c, "de"), 1)), "Blue") == 0);
    CHECK(c.delivery == DELIVERY_WEB_APP && !challenge_by_buttons(&c));
    challenge_release(&c);
    /* inline buttons: for rules and question only; a captcha goes as the Mini App's button */
    static const char BUTTONS[] =
        "{\"steps\":[\"rules\"],\"delivery\":\"buttons\",\"texts\":{\"default\":{"
        "\"rules\":\"Be kind\",\"accept\":\"OK\",\"welcome\":\"Hi {first_name}\"}}}";
    CHECK(challenge_parse(BUTTONS, &c, &err) == DM_OK);
    CHECK(c.delivery == DELIVERY_BUTTONS && challenge_by_buttons(&c));
    CHECK(strcmp(challenge_text(&c, "de", "welcome"), "Hi {first_name}") == 0);
    challenge_release(&c);
    static const char CAPTCHA_BUTTONS[] =
        "{\"steps\":[\"captcha\"],\"delivery\":\"buttons\",\"texts\":{\"default\":{}}}";
    CHECK(challenge_parse(CAPTCHA_BUTTONS, &c, &err) == DM_OK);
    CHECK(!challenge_by_buttons(&c));
    challenge_release(&c);
    CHECK(challenge_parse("{\"steps\":[\"captcha\"],\"delivery\":\"pigeon\",\"texts\":{"
                          "\"default\":{}}}",
                          &c, &err) == DM_EINVAL);
    CHECK(strstr(err.msg, "delivery: must be one of web_app, buttons") != NULL);
    int64_t t = 0;
    CHECK(challenge_time_limit(SPEC, &t) == DM_OK && t == 600);
    CHECK(challenge_time_limit("{\"steps\":[]}", &t) == DM_EINVAL);
    CHECK(challenge_parse("not json", &c, &err) == DM_EINVAL);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_captcha(void)
{
    char digits[CAPTCHA_DIGITS + 1];
    captcha_digits(digits);
    CHECK(strlen(digits) == CAPTCHA_DIGITS && strspn(digits, "0123456789") == CAPTCHA_DIGITS);
    unsigned char *png = NULL;
    size_t len = 0;
    CHECK(captcha_png(digits, &png, &len) == DM_OK);
    CHECK(len > 8 + 25 + 12 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    /* every chunk's CRC; IHDR's size; IDAT inflates to the rows with their filter bytes */
    size_t off = 8, rows = 0;
    bool ihdr = false, iend = false;
    unsigned char *raw = malloc((size_t)(CAPTCHA_W + 1) * CAPTCHA_H + 1);
    while (off + 12 <= len) {
        uint32_t n = be32(png + off);
        const unsigned char *type = png + off + 4;
        CHECK(off + 12 + n <= len);
        CHECK(be32(png + off + 8 + n) == (uint32_t)crc32(0, type, n + 4));
        if (memcmp(type, "IHDR", 4) == 0)
            ihdr = be32(type + 4) == CAPTCHA_W && be32(type + 8) == CAPTCHA_H && type[12] == 8;
        if (memcmp(type, "IDAT", 4) == 0) {
            uLongf out = (uLongf)(CAPTCHA_W + 1) * CAPTCHA_H + 1;
            CHECK(uncompress(raw, &out, type + 4, n) == Z_OK);
            rows = out;
        }
        if (memcmp(type, "IEND", 4) == 0) iend = true;
        off += 12 + n;
    }
    CHECK(ihdr && iend && off == len);
    CHECK(rows == (size_t)(CAPTCHA_W + 1) * CAPTCHA_H);
    free(raw);
    free(png);
}

int main(void)
{
    test_initdata();
    test_challenge();
    test_captcha();
    return CHECK_DONE();
}
