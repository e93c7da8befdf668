/* Unit tests for src/http: the login throttle. */
#include "core/common.h"
#include "../check.h"
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

int main(void)
{
    test_ip_key();
    test_throttle();
    test_throttle_full();
    test_throttle_parallel();
    test_throttle_long_keys();
    return CHECK_DONE();
}
