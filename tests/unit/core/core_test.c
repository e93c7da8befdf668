/* Unit tests for src/core and the small pure helpers of src/api. */
#include "core/common.h"
#include "../check.h"
#include "core/date.h"
#include "core/fold.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/csv.h"
#include "core/json_out.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/secret.h"

#include <fcntl.h>
#include <utf8proc.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_buf(void)
{
    struct buf b;
    buf_init(&b, 8);
    CHECK(buf_puts(&b, "abcd") == DM_OK);
    CHECK(buf_printf(&b, "%d", 1234) == DM_OK);
    CHECK(b.len == 8 && strcmp(b.data, "abcd1234") == 0);
    CHECK(buf_puts(&b, "x") == DM_ETOOBIG); /* the cap holds */
    CHECK(b.len == 8 && strcmp(b.data, "abcd1234") == 0);
    buf_reset(&b);
    CHECK(b.len == 0 && b.data[0] == 0);
    size_t n = 0;
    buf_puts(&b, "hi");
    char *p = buf_detach(&b, &n);
    CHECK(n == 2 && strcmp(p, "hi") == 0 && b.data == NULL);
    free(p);
    buf_release(&b);
    /* reserve: room made at once, the text kept and terminated; past the cap nothing changes */
    buf_init(&b, 100);
    CHECK(buf_reserve(&b, 50) == DM_OK && b.alloc > 50 && b.len == 0 && b.data[0] == 0);
    buf_puts(&b, "ab");
    char *before = b.data;
    CHECK(buf_reserve(&b, 40) == DM_OK && b.data == before && strcmp(b.data, "ab") == 0);
    CHECK(buf_reserve(&b, 99) == DM_ETOOBIG && b.len == 2 && strcmp(b.data, "ab") == 0);
    buf_release(&b);
}

/* fold_text folds ASCII without utf8proc: the same bytes as utf8proc's NFKC_Casefold for each
 * ASCII character, and text past ASCII (or with NUL) still goes through utf8proc. */
static void test_fold(void)
{
    char all[128];
    for (int i = 1; i < 128; i++)
        all[i - 1] = (char)i;
    char *fast = NULL, *slow = NULL;
    size_t nfast = 0;
    CHECK(fold_text(all, 127, &fast, &nfast) == DM_OK && nfast == 127);
    utf8proc_uint8_t *ref = NULL;
    utf8proc_ssize_t nref =
        utf8proc_map((const utf8proc_uint8_t *)all, 127, &ref,
                     UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    CHECK(nref == 127 && fast && memcmp(fast, ref, 127) == 0 && fast[127] == 0);
    CHECK(fold_text("Anna\nSTRASSE\nx_Y9", 17, &slow, NULL) == DM_OK &&
          strcmp(slow, "anna\nstrasse\nx_y9") == 0);
    free(slow);
    /* "Straße Ａ" (octal escapes: a hex one would take the letter after it) */
    CHECK(fold_text("Stra\303\237e \357\274\241", 11, &slow, NULL) == DM_OK &&
          strcmp(slow, "strasse a") == 0);
    free(slow);
    CHECK(fold_text("a\0B", 3, &slow, NULL) == DM_OK && strcmp(slow, "a\357\277\275b") == 0);
    free(slow);
    free(fast);
    free(ref);
}

static void test_utf8_copy(void)
{
    char d[8];
    /* 频 is E9 A2 91: a cut leaves none of it, the text goes on after it */
    CHECK(dm_utf8_copy(d, sizeof d,
                       "a\xe9\xa2"
                       "b") == 2 &&
          strcmp(d, "ab") == 0);
    CHECK(dm_utf8_copy(d, sizeof d, "\xe9\xa2\x91\xe9\xa2\x91\xe9\xa2\x91") == 6 &&
          strcmp(d, "\xe9\xa2\x91\xe9\xa2\x91") == 0);
    /* a byte that starts no character becomes U+FFFD, if it fits */
    CHECK(dm_utf8_copy(d, sizeof d, "/\xff/") == 5 && strcmp(d, "/\xef\xbf\xbd/") == 0);
    CHECK(dm_utf8_copy(d, sizeof d, "abcdef\xff") == 6 && strcmp(d, "abcdef") == 0);
    /* overlong forms, surrogates and code points above U+10FFFF are not characters */
#define FFFD "\xef\xbf\xbd"
    CHECK(dm_utf8_copy(d, sizeof d, "\xc0\xaf") == 6 && strcmp(d, FFFD FFFD) == 0);
    CHECK(dm_utf8_copy(d, sizeof d, "\xed\xa0\x80") == 6 && strcmp(d, FFFD FFFD) == 0);
    CHECK(dm_utf8_copy(d, sizeof d, "\xf4\x90\x80\x80") == 6 && strcmp(d, FFFD FFFD) == 0);
#undef FFFD
    CHECK(dm_utf8_copy(d, sizeof d, "\xf0\x9f\x98\x80") == 4);
    char in[16] = "x\xff\xe9\xa2"
                  "y";
    CHECK(dm_utf8_copy(in, sizeof in, in) == 2 && strcmp(in, "xy") == 0);
    char buf[11];
    /* "%.4s" of 频频 cuts the second; the field's own size cuts the third */
    CHECK(dm_snprintf_utf8(buf, sizeof buf, "<%.4s>", "\xe9\xa2\x91\xe9\xa2\x91") == 5 &&
          strcmp(buf, "<\xe9\xa2\x91>") == 0);
    CHECK(dm_snprintf_utf8(buf, sizeof buf, "ab%s", "\xe9\xa2\x91\xe9\xa2\x91\xe9\xa2\x91") == 8 &&
          strcmp(buf, "ab\xe9\xa2\x91\xe9\xa2\x91") == 0);
    struct dm_error e;
    dm_fail(&e, DM_EINVAL, "%.2s", "\xe9\xa2\x91");
    CHECK(e.msg[0] == 0);
}

/* JSON written straight out: what jansson wrote for the same values, and text made UTF-8. */
static void test_json_out(void)
{
    struct buf b;
    buf_init(&b, 1024);
    struct json_out o;
    json_out_init(&o, &b);
    json_out_object(&o);
    json_out_key(&o, "s");
    json_out_text(&o, "q\"b\\ \n\t\x01/\xe9\xa2\x91");
    json_out_key(&o, "bad");
    json_out_text(&o, "a\xff" /* not UTF-8 */ "b\xe9\xa2" /* cut */);
    json_out_key(&o, "n");
    json_out_array(&o);
    json_out_int(&o, 0);
    json_out_int(&o, -42);
    json_out_int(&o, INT64_MIN);
    json_out_int(&o, INT64_MAX);
    int64_t more[] = {7, 10, 99, 100, 101, 1700000123, -1000000000004};
    for (size_t i = 0; i < DM_ARRAY_LEN(more); i++)
        json_out_int(&o, more[i]);
    json_out_end(&o);
    json_out_key_json(&o, JSON_OUT_KEY("e"), JSON_OUT_KEY_LEN("e")); /* a key prepared */
    json_out_array(&o);
    json_out_end(&o);
    json_out_key(&o, "p");
    json_out_text(&o, "plain, then \"quoted\"");
    json_out_key(&o, "o");
    json_out_object(&o);
    json_out_key_json(&o, JSON_OUT_KEY("t"), JSON_OUT_KEY_LEN("t")); /* first: no comma */
    json_out_bool(&o, true);
    json_out_key(&o, "z");
    json_out_null(&o);
    json_out_end(&o);
    /* members written with their prepared keys: the same text as key, then value */
    json_out_key(&o, "m");
    json_out_object(&o);
    json_out_member_int(&o, JSON_OUT_KEY("i"), JSON_OUT_KEY_LEN("i"), -1000000000004);
    json_out_member_int(&o, JSON_OUT_KEY("j"), JSON_OUT_KEY_LEN("j"), INT64_MIN);
    json_out_member_text(&o, JSON_OUT_KEY("t"), JSON_OUT_KEY_LEN("t"), "plain");
    json_out_member_text(&o, JSON_OUT_KEY("u"), JSON_OUT_KEY_LEN("u"), "q\"\xff");
    json_out_member_raw(&o, JSON_OUT_KEY("r"), JSON_OUT_KEY_LEN("r"), "null", 4);
    json_out_end(&o);
    json_out_end(&o);
    CHECK(json_out_finish(&o) == DM_OK);
    CHECK(strcmp(b.data, "{\"s\":\"q\\\"b\\\\ \\n\\t\\u0001/\xe9\xa2\x91\","
                         "\"bad\":\"a\xef\xbf\xbd"
                         "b\","
                         "\"n\":[0,-42,-9223372036854775808,9223372036854775807,7,10,99,100,101,"
                         "1700000123,-1000000000004],\"e\":[],"
                         "\"p\":\"plain, then \\\"quoted\\\"\",\"o\":{\"t\":true,\"z\":null},"
                         "\"m\":{\"i\":-1000000000004,\"j\":-9223372036854775808,\"t\":\"plain\","
                         "\"u\":\"q\\\"\xef\xbf\xbd\",\"r\":null}}") == 0);
    /* an end too many, a key without its value, a cap: the first failure stays */
    buf_reset(&b);
    json_out_init(&o, &b);
    json_out_end(&o);
    CHECK(json_out_finish(&o) == DM_EINVAL);
    json_out_init(&o, &b);
    json_out_object(&o);
    json_out_key(&o, "k");
    CHECK(json_out_finish(&o) == DM_EINVAL);
    json_out_init(&o, &b); /* a member after a key without its value */
    json_out_object(&o);
    json_out_key(&o, "k");
    json_out_member_int(&o, JSON_OUT_KEY("x"), JSON_OUT_KEY_LEN("x"), 1);
    CHECK(json_out_finish(&o) == DM_EINVAL);
    struct buf small;
    buf_init(&small, 8);
    json_out_init(&o, &small);
    json_out_text(&o, "longer than eight");
    json_out_null(&o);
    CHECK(json_out_finish(&o) == DM_ETOOBIG);
    buf_reset(&small); /* text with its quotes just fits the cap, then one byte more does not */
    json_out_init(&o, &small);
    json_out_text(&o, "123456");
    CHECK(json_out_finish(&o) == DM_OK && strcmp(small.data, "\"123456\"") == 0);
    buf_reset(&small);
    json_out_init(&o, &small);
    json_out_text(&o, "1234567");
    CHECK(json_out_finish(&o) == DM_ETOOBIG);
    buf_reset(
        &small); /* a member just fits the cap (the object left open); one digit more does not */
    json_out_init(&o, &small);
    json_out_object(&o);
    json_out_member_int(&o, JSON_OUT_KEY("a"), JSON_OUT_KEY_LEN("a"), 123);
    CHECK(o.e == DM_OK && strcmp(small.data, "{\"a\":123") == 0);
    buf_reset(&small);
    json_out_init(&o, &small);
    json_out_object(&o);
    json_out_member_int(&o, JSON_OUT_KEY("a"), JSON_OUT_KEY_LEN("a"), 1234);
    CHECK(json_out_finish(&o) == DM_ETOOBIG);
    /* small pieces into memory the buf has beyond its cap stop at the cap too */
    buf_reset(&small);
    CHECK(small.alloc > 16);
    json_out_init(&o, &small);
    json_out_array(&o);
    for (int i = 1; i <= 5; i++)
        json_out_int(&o, i);
    CHECK(json_out_finish(&o) == DM_ETOOBIG && strcmp(small.data, "[1,2,3,4") == 0);
    buf_release(&small);
    buf_release(&b);
}

static void test_strlcpy(void)
{
    char d[5];
    CHECK(dm_strlcpy(d, "abc", sizeof d) == 3 && strcmp(d, "abc") == 0);
    CHECK(dm_strlcpy(d, "abcdef", sizeof d) == 6 && strcmp(d, "abcd") == 0);
    /* "aé€" = 61 c3a9 e282ac: cutting at 4 bytes must not split the euro sign */
    CHECK(dm_strlcpy(d, "a\xc3\xa9\xe2\x82\xac", sizeof d) == 6 && strcmp(d, "a\xc3\xa9") == 0);
    CHECK(strcmp(dm_errname(DM_ENOTFOUND), "notfound") == 0);
    CHECK(strcmp(dm_strerror(DM_ETOOBIG), "too large") == 0);
    struct dm_error e;
    CHECK(dm_fail(&e, DM_EINVAL, "bad %s", "thing") == DM_EINVAL &&
          strcmp(e.msg, "bad thing") == 0);
}

static void test_secret(void)
{
    CHECK(secret_init() == DM_OK);
    struct secret_key k, other;
    memset(k.k, 7, sizeof k.k);
    memset(other.k, 8, sizeof other.k);
    char *sealed = NULL, *plain = NULL;
    size_t len = 0;
    CHECK(secret_seal(&k, "123456:ABC-token", 16, &sealed) == DM_OK);
    CHECK(strncmp(sealed, "v1:", 3) == 0 && strstr(sealed, "ABC") == NULL);
    CHECK(secret_open(&k, sealed, &plain, &len) == DM_OK && len == 16 &&
          strcmp(plain, "123456:ABC-token") == 0);
    free(plain);
    CHECK(secret_open(&other, sealed, &plain, &len) == DM_ECRYPTO);
    sealed[10] = sealed[10] == 'A' ? 'B' : 'A'; /* tampering is detected */
    CHECK(secret_open(&k, sealed, &plain, &len) == DM_ECRYPTO);
    CHECK(secret_open(&k, "v1:", &plain, &len) == DM_ECRYPTO);
    CHECK(secret_open(&k, "plain", &plain, &len) == DM_ECRYPTO);
    free(sealed);

    char hash[SECRET_HASH_MAX];
    CHECK(secret_hash_password("correct horse", hash) == DM_OK);
    CHECK(strncmp(hash, "$argon2id$", 10) == 0);
    CHECK(secret_verify_password(hash, "correct horse"));
    CHECK(!secret_verify_password(hash, "correct horsf"));
    char t1[65], t2[65];
    secret_random_hex(t1, 32);
    secret_random_hex(t2, 32);
    CHECK(strlen(t1) == 64 && strcmp(t1, t2) != 0);
    secret_digest_hex("x", t1);
    secret_digest_hex("x", t2);
    CHECK(secret_equal(t1, t2) && !secret_equal(t1, "x"));

    /* the master key file is created 0600 and read back the same */
    char dir[] = "/tmp/dm-core-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    unsetenv("DOORMAN_SECRET_KEY");
    struct secret_key a, b;
    struct dm_error err;
    CHECK(secret_load_master(dir, &a, &err) == DM_OK);
    CHECK(secret_load_master(dir, &b, &err) == DM_OK && memcmp(a.k, b.k, sizeof a.k) == 0);
    char path[256];
    snprintf(path, sizeof path, "%s/secret.key", dir);
    struct stat stt;
    CHECK(stat(path, &stt) == 0 && (stt.st_mode & 0777) == 0600);
    setenv("DOORMAN_SECRET_KEY", "zz", 1);
    CHECK(secret_load_master(dir, &a, &err) == DM_EINVAL && strstr(err.msg, "64 hex") != NULL);
    unsetenv("DOORMAN_SECRET_KEY");
    unlink(path);
    rmdir(dir);
}

static void test_config(void)
{
    char host[64];
    uint16_t port = 0;
    CHECK(config_parse_listen("127.0.0.1:8080", host, sizeof host, &port) == DM_OK &&
          strcmp(host, "127.0.0.1") == 0 && port == 8080);
    CHECK(config_parse_listen("[::1]:0", host, sizeof host, &port) == DM_OK &&
          strcmp(host, "::1") == 0 && port == 0);
    CHECK(config_parse_listen("9090", host, sizeof host, &port) == DM_OK && port == 9090);
    CHECK(config_parse_listen("host:99999", host, sizeof host, &port) == DM_EINVAL);
    CHECK(config_parse_listen("host:", host, sizeof host, &port) == DM_EINVAL);
    struct config c;
    config_defaults(&c);
    char *argv[] = {"x", "--listen", "0.0.0.0:1", "--data", "/tmp/d", "--bogus", "--log-level"};
    int i = 1;
    struct dm_error err;
    CHECK(config_parse_flag(&c, 7, argv, &i, &err) == DM_OK && c.listen_port == 1 && i == 3);
    CHECK(config_parse_flag(&c, 7, argv, &i, &err) == DM_OK && strcmp(c.data_dir, "/tmp/d") == 0);
    CHECK(config_parse_flag(&c, 7, argv, &i, &err) == DM_ENOTFOUND);
    i = 6;
    CHECK(config_parse_flag(&c, 7, argv, &i, &err) == DM_EINVAL &&
          strstr(err.msg, "needs a value"));
}

static void test_parse_time(void)
{
    int64_t t = 0;
    CHECK(date_parse("1700000000", false, &t) && t == 1700000000);
    CHECK(date_parse("2026-01-31", false, &t) && t == 1769817600);
    CHECK(date_parse("2026-01-31", true, &t) && t == 1769817600 + 86399);
    CHECK(!date_parse("2026-02-31", false, &t));
    CHECK(!date_parse("2026-1-3", false, &t));
    CHECK(!date_parse("yesterday", false, &t));
    CHECK(!date_parse("", false, &t));
    char utc[DATE_UTC_LEN];
    date_format_utc(1769817600 + 86399, utc);
    CHECK(strcmp(utc, "2026-01-31T23:59:59Z") == 0);
    date_format_utc(0, utc);
    CHECK(strcmp(utc, "1970-01-01T00:00:00Z") == 0);
    date_format_utc(INT64_MAX / 2, utc);
    CHECK(strcmp(utc, "0000-00-00T00:00:00Z") == 0);
}

/* One text field alone, as csv_text writes it. */
static bool csv_field_is(const char *text, const char *want)
{
    struct buf b;
    buf_init(&b, 1024);
    bool ok = csv_text(&b, true, text) == DM_OK && strcmp(b.data, want) == 0;
    if (!ok) fprintf(stderr, "csv_text(%s) wrote [%s], want [%s]\n", text, b.data, want);
    buf_release(&b);
    return ok;
}

static void test_csv(void)
{
    CHECK(csv_field_is("plain", "\"plain\""));
    CHECK(csv_field_is("", "\"\""));
    CHECK(csv_field_is("a,b", "\"a,b\""));
    CHECK(csv_field_is("say \"hi\"", "\"say \"\"hi\"\"\""));
    CHECK(csv_field_is("two\r\nlines", "\"two\r\nlines\""));
    /* OWASP's list: = + - @ tab CR; only at the start */
    CHECK(csv_field_is("=1+1", "\"'=1+1\""));
    CHECK(csv_field_is("+1", "\"'+1\""));
    CHECK(csv_field_is("-1", "\"'-1\""));
    CHECK(csv_field_is("@SUM(A1)", "\"'@SUM(A1)\""));
    CHECK(csv_field_is("\tx", "\"'\tx\""));
    CHECK(csv_field_is("\rx", "\"'\rx\""));
    CHECK(csv_field_is("=\"a\"", "\"'=\"\"a\"\"\""));
    CHECK(csv_field_is("\nx", "\"\nx\""));
    CHECK(csv_field_is("a=b", "\"a=b\""));
    /* not UTF-8: a bad byte becomes U+FFFD, a character cut short at the end is dropped */
    CHECK(csv_field_is("Stra\xc3\x9f"
                       "e",
                       "\"Stra\xc3\x9f"
                       "e\""));
    CHECK(csv_field_is("a\xff"
                       "b",
                       "\"a\xef\xbf\xbd"
                       "b\""));
    CHECK(csv_field_is("ab\xe2\x82", "\"ab\""));

    struct buf b;
    buf_init(&b, 1024);
    CHECK(csv_int(&b, true, -1001234567890) == DM_OK && csv_raw(&b, false, "true") == DM_OK &&
          csv_raw(&b, false, "") == DM_OK && csv_text(&b, false, "x") == DM_OK &&
          csv_end_record(&b) == DM_OK);
    CHECK(strcmp(b.data, "-1001234567890,true,,\"x\"\r\n") == 0);
    buf_release(&b);
    buf_init(&b, 4); /* the cap is an error, never a silent cut */
    CHECK(csv_text(&b, true, "longer than four") == DM_ETOOBIG);
    buf_release(&b);
}

/* The text format: families, escaped labels, a cumulative histogram whose count is its +Inf
 * bucket, decision series counted apart. */
static void test_metrics(void)
{
    metrics_http_answer(200, 3000);     /* 3 ms: le 0.005 */
    metrics_http_answer(404, 200000);   /* 200 ms: le 0.25 */
    metrics_http_answer(503, 60000000); /* a minute: +Inf only */
    for (int i = 0; i < 3; i++)
        metrics_decision("bot", "approve", "done");
    metrics_decision("a\"b\\c\nd", "decline", "failed");
    metrics_store_error(METRICS_STORE_UNAVAILABLE);
    struct buf b;
    buf_init(&b, 1 << 20);
    CHECK(metrics_write(&b) == DM_OK);
    const char *t = b.data;
    CHECK(strstr(t, "# TYPE doorman_http_responses_total counter\n"));
    CHECK(strstr(t, "doorman_http_responses_total{code=\"2xx\"} 1\n"));
    CHECK(strstr(t, "doorman_http_responses_total{code=\"5xx\"} 1\n"));
    CHECK(strstr(t, "doorman_http_response_seconds_bucket{le=\"0.005\"} 1\n"));
    CHECK(strstr(t, "doorman_http_response_seconds_bucket{le=\"0.1\"} 1\n"));
    CHECK(strstr(t, "doorman_http_response_seconds_bucket{le=\"0.25\"} 2\n"));
    CHECK(strstr(t, "doorman_http_response_seconds_bucket{le=\"10\"} 2\n"));
    CHECK(strstr(t, "doorman_http_response_seconds_bucket{le=\"+Inf\"} 3\n"));
    CHECK(strstr(t, "doorman_http_response_seconds_count 3\n"));
    CHECK(strstr(t, "doorman_http_response_seconds_sum 60.203000\n"));
    CHECK(strstr(
        t, "doorman_decisions_total{account=\"bot\",action=\"approve\",result=\"done\"} 3\n"));
    CHECK(strstr(t, "doorman_decisions_total{account=\"a\\\"b\\\\c\\nd\",action=\"decline\",result="
                    "\"failed\"} 1\n"));
    CHECK(strstr(t, "doorman_store_errors_total{kind=\"unavailable\"} 1\n"));
    CHECK(strstr(t, "doorman_store_errors_total{kind=\"database\"} 0\n"));
    buf_release(&b);
    /* past the table's named series (all but 16; 2 are taken above): account="(other)" */
    char name[16], want[128];
    for (int i = 0; i < METRICS_DECISION_SERIES + 5; i++) {
        snprintf(name, sizeof name, "s%d", i);
        metrics_decision(name, "approve", "skipped");
    }
    buf_init(&b, 1 << 20);
    CHECK(metrics_write(&b) == DM_OK);
    snprintf(want, sizeof want, "account=\"(other)\",action=\"approve\",result=\"skipped\"} %d\n",
             METRICS_DECISION_SERIES + 5 - (METRICS_DECISION_SERIES - 16 - 2));
    CHECK(strstr(b.data, want));
    CHECK(strstr(b.data, "account=\"s0\",action=\"approve\",result=\"skipped\"} 1\n"));
    buf_release(&b);
}

/* The kept warnings and errors: only those, newest first, the last LOG_RECENT_MAX. */
static void test_log_recent(void)
{
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    fflush(stderr);
    dup2(null, 2);
    log_info("t", "not kept");
    for (int i = 0; i < LOG_RECENT_MAX + 20; i++)
        log_warn("t", "warning %d", i);
    log_error("t", "an error\nwith a newline");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(null);
    static struct log_entry e[LOG_RECENT_MAX];
    size_t n = log_recent(e, LOG_RECENT_MAX);
    CHECK(n == LOG_RECENT_MAX);
    CHECK(e[0].level == LOG_ERROR && strcmp(e[0].msg, "an error?with a newline") == 0);
    CHECK(e[1].level == LOG_WARN && strcmp(e[1].msg, "warning 519") == 0);
    CHECK(strcmp(e[n - 1].msg, "warning 21") == 0 && strcmp(e[n - 1].component, "t") == 0);
    CHECK(log_recent(e, 2) == 2 && strcmp(e[1].msg, "warning 519") == 0);
    CHECK(log_parse_format("json") == LOG_JSON && log_parse_format("xml") == -1);
}

int main(void)
{
    test_buf();
    test_strlcpy();
    test_fold();
    test_utf8_copy();
    test_json_out();
    test_secret();
    test_config();
    test_parse_time();
    test_csv();
    test_metrics();
    test_log_recent();
    return CHECK_DONE();
}
