/* Unit tests for src/http: the login throttle and Host checks. */
#include "core/common.h"
#include "../check.h"
#include "http/host.h"
#include "http/throttle.h"

#include <pthread.h>

static void test_throttle(void)
{
    struct throttle *t = throttle_new(2, 60);
    int64_t wait = 0;
    for (int i = 0; i < 3; i++)
        CHECK(throttle_reserve(t, "name:a", 3, 1000, &wait) == THROTTLE_OK);
    CHECK(throttle_reserve(t, "name:a", 3, 1010, &wait) == THROTTLE_LIMITED && wait == 50);
    CHECK(throttle_reserve(t, "name:a", 4, 1010, &wait) == THROTTLE_OK); /* a higher limit */
    throttle_release(t, "name:a"); /* not a failure after all */
    CHECK(throttle_reserve(t, "name:a", 3, 1059, &wait) == THROTTLE_LIMITED && wait == 1);
    CHECK(throttle_reserve(t, "name:a", 3, 1060, &wait) == THROTTLE_OK); /* the window ended */
    throttle_clear(t, "name:a");
    CHECK(throttle_reserve(t, "name:a", 1, 1061, &wait) == THROTTLE_OK);
    throttle_free(t);
}

/* A full table never frees a live slot: new keys wait (issue 10, item 4). */
static void test_throttle_full(void)
{
    struct throttle *t = throttle_new(2, 60);
    int64_t wait = 0;
    for (int i = 0; i < 5; i++)
        throttle_reserve(t, "name:admin", 5, 1000, NULL); /* locked */
    CHECK(throttle_reserve(t, "ip:192.0.2.1", 20, 1010, &wait) == THROTTLE_OK);
    int full = 0;
    for (int i = 0; i < 100; i++) {
        char key[32];
        snprintf(key, sizeof key, "name:other%d", i);
        full += throttle_reserve(t, key, 5, 1020 + i / 10, &wait) == THROTTLE_FULL;
    }
    printf("100 new keys on a full 2-slot table: %d refused\n", full);
    CHECK(full == 100);
    CHECK(wait == 1000 + 60 - 1029); /* when name:admin's window ends */
    CHECK(throttle_reserve(t, "name:admin", 5, 1030, &wait) == THROTTLE_LIMITED); /* still locked */
    /* A window that ended, or a slot whose attempts were all given back, is free again. */
    CHECK(throttle_reserve(t, "name:new", 5, 1060, &wait) == THROTTLE_OK);
    CHECK(throttle_reserve(t, "name:admin", 5, 1061, &wait) == THROTTLE_FULL);
    throttle_release(t, "ip:192.0.2.1");
    CHECK(throttle_reserve(t, "name:admin", 5, 1061, &wait) == THROTTLE_OK); /* a fresh window */
    throttle_free(t);
}

struct racer {
    struct throttle *t;
    pthread_barrier_t *go;
    enum throttle_result r;
};

static void *race(void *arg)
{
    struct racer *x = arg;
    pthread_barrier_wait(x->go);
    x->r = throttle_reserve(x->t, "name:admin", 5, 1000, NULL);
    return NULL;
}

/* Parallel attempts: as many pass as the limit, no more. */
static void test_throttle_parallel(void)
{
    struct throttle *t = throttle_new(64, 60);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 16);
    struct racer x[16];
    pthread_t th[16];
    for (int i = 0; i < 16; i++) {
        x[i] = (struct racer){.t = t, .go = &go};
        pthread_create(&th[i], NULL, race, &x[i]);
    }
    int ok = 0;
    for (int i = 0; i < 16; i++) {
        pthread_join(th[i], NULL);
        ok += x[i].r == THROTTLE_OK;
    }
    CHECK(ok == 5);
    pthread_barrier_destroy(&go);
    throttle_free(t);
}

/* Keys are compared on their first THROTTLE_KEY_MAX - 1 bytes. */
static void test_throttle_long_keys(void)
{
    struct throttle *t = throttle_new(4, 60);
    char a[300], b[300];
    memset(a, 'x', sizeof a - 1);
    a[sizeof a - 1] = 0;
    memcpy(b, a, sizeof b);
    b[200] = 'y';
    CHECK(throttle_reserve(t, a, 1, 1000, NULL) == THROTTLE_OK);
    CHECK(throttle_reserve(t, b, 1, 1000, NULL) == THROTTLE_LIMITED);
    throttle_free(t);
}

/* Addresses are keyed by what one holder has: an IPv4 address, or an IPv6 /64 (a home or a
 * server usually gets a whole /64, so keying whole addresses would give it 2^64 keys). */
static void test_ip_key(void)
{
    char a[96], b[96];
    throttle_ip_key("2001:db8:1:2:aaaa::1", a, sizeof a);
    throttle_ip_key("2001:db8:1:2:ffff:ffff:ffff:fffe", b, sizeof b);
    printf("ip keys: \"%s\" and \"%s\"\n", a, b);
    CHECK(strcmp(a, b) == 0);                              /* one /64, one key */
    throttle_ip_key("2001:0DB8:0001:0002::", b, sizeof b); /* another spelling of that /64 */
    CHECK(strcmp(a, b) == 0);
    throttle_ip_key("2001:db8:1:3::1", b, sizeof b); /* the next /64 */
    CHECK(strcmp(a, b) != 0);
    throttle_ip_key("192.0.2.1", a, sizeof a);
    throttle_ip_key("192.0.2.2", b, sizeof b);
    CHECK(strcmp(a, b) != 0);                         /* IPv4: the whole address */
    throttle_ip_key("::ffff:192.0.2.1", b, sizeof b); /* IPv4 on a dual-stack socket */
    CHECK(strcmp(a, "ip:192.0.2.1") == 0 && strcmp(a, b) == 0);
    throttle_ip_key("", a, sizeof a);
    CHECK(strcmp(a, "ip:") == 0); /* unknown: one shared key */
}

static void test_authority(void)
{
    char h[64];
    uint16_t port = 1, def = 0;
#define SPLIT(s) http_authority_split(s, strlen(s), h, sizeof h, &port)
    CHECK(SPLIT("example.com") && strcmp(h, "example.com") == 0 && port == 0);
    CHECK(SPLIT("Example.COM:8080") && strcmp(h, "Example.COM") == 0 && port == 8080);
    CHECK(SPLIT("[::1]:65535") && strcmp(h, "::1") == 0 && port == 65535);
    CHECK(SPLIT("[2001:db8::1]") && strcmp(h, "2001:db8::1") == 0 && port == 0);
    const char *bad[] = {"",      ":80",      "a:",   "a:0",    "a:65536",    "a:8080x",
                         "a:+80", "a:123456", "[::1", "[]:80",  "[x.com]:80", "[127.0.0.1]",
                         "a b",   "a/b",      "u@a",  "[::1]x", "a:80:80",    "a\r\nb"};
    for (size_t i = 0; i < DM_ARRAY_LEN(bad); i++) {
        bool ok = SPLIT(bad[i]);
        if (ok) printf("accepted: \"%s\"\n", bad[i]);
        CHECK(!ok);
    }
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(!SPLIT(longname));
#undef SPLIT
    CHECK(http_url_authority("https://Doorman.example/", h, sizeof h, &port, &def) &&
          strcmp(h, "Doorman.example") == 0 && port == 443 && def == 443);
    CHECK(http_url_authority("HTTP://u:p@[::1]:8080/x?y", h, sizeof h, &port, &def) &&
          strcmp(h, "::1") == 0 && port == 8080 && def == 80);
    CHECK(http_url_authority("http://127.0.0.1:0", h, sizeof h, &port, &def) == false);
    CHECK(!http_url_authority("ftp://example.com", h, sizeof h, &port, &def));
    CHECK(!http_url_authority("", h, sizeof h, &port, &def));
}

/* DNS rebinding (issue 10, item 6): only our own names pass. */
static void test_host_is(void)
{
    CHECK(http_host_is("doorman.example", "doorman.example", 443, 443));
    CHECK(http_host_is("DOORMAN.Example:443", "doorman.example", 443, 443));
    CHECK(!http_host_is("doorman.example:8443", "doorman.example", 443, 443));
    CHECK(!http_host_is("doorman.example", "doorman.example", 8080, 80)); /* port left out: 80 */
    CHECK(!http_host_is("doorman.example.", "doorman.example", 443, 443));
    CHECK(!http_host_is("evil.example", "doorman.example", 443, 443));
    CHECK(!http_host_is("doorman.example.evil.example", "doorman.example", 443, 443));
    CHECK(http_host_is("127.0.0.1:8080", "127.0.0.1", 8080, 80));
    CHECK(!http_host_is("127.0.0.1", "127.0.0.1", 8080, 80));
    CHECK(!http_host_is("127.0.0.2:8080", "127.0.0.1", 8080, 80));
    CHECK(!http_host_is("127.1:8080", "127.0.0.1", 8080, 80)); /* not an address: a name */
    CHECK(http_host_is("[0:0::1]:8080", "::1", 8080, 80));
    CHECK(http_host_is("[::1]:8080", "::1", 8080, 80));
    CHECK(!http_host_is("[::2]:8080", "::1", 8080, 80));
    CHECK(!http_host_is("localhost:8080", "127.0.0.1", 8080, 80));
    CHECK(!http_host_is("", "127.0.0.1", 80, 80));
    CHECK(http_ip_is_loopback("127.0.0.1") && http_ip_is_loopback("127.9.9.9"));
    CHECK(http_ip_is_loopback("::1") && !http_ip_is_loopback("::2"));
    CHECK(!http_ip_is_loopback("10.0.0.1") && !http_ip_is_loopback("") &&
          !http_ip_is_loopback("localhost"));
}

/* DOORMAN_METRICS_ALLOW's lists. */
static void test_ip_list(void)
{
    char bad[64] = "";
    CHECK(http_ip_list_valid("127.0.0.1,::1", bad, sizeof bad));
    CHECK(http_ip_list_valid("", bad, sizeof bad) && http_ip_list_valid(" , ", bad, sizeof bad));
    CHECK(!http_ip_list_valid("127.0.0.1, localhost", bad, sizeof bad) &&
          strcmp(bad, "localhost") == 0);
    CHECK(!http_ip_list_valid("10.0.0.0/8", bad, sizeof bad) && strcmp(bad, "10.0.0.0/8") == 0);
    CHECK(http_ip_in_list("127.0.0.1, ::1", "::1"));
    CHECK(http_ip_in_list("127.0.0.1 ::1", "127.0.0.1"));
    CHECK(http_ip_in_list("0:0::1", "::1")); /* as addresses */
    CHECK(!http_ip_in_list("127.0.0.1,::1", "127.0.0.7"));
    CHECK(!http_ip_in_list("", "127.0.0.1") && !http_ip_in_list("127.0.0.1", ""));
    CHECK(!http_ip_in_list("127.0.0.10", "127.0.0.1"));
}

int main(void)
{
    test_ip_list();
    test_authority();
    test_host_is();
    test_ip_key();
    test_throttle();
    test_throttle_full();
    test_throttle_parallel();
    test_throttle_long_keys();
    return CHECK_DONE();
}
