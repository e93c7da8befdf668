/* leased_loop_test: two loops on one lease in a temporary SQLite database: only the holder runs
 * rounds; a wake or a round's "again at once" brings the next round before the idle wait ends;
 * a failing round is retried after trouble_s; stopping gives the lease up, so the other loop
 * takes it. Waits are polled with deadlines, never slept blindly. */
#include "core/common.h"

#include "core/clock.h"
#include "store/leased_loop.h"
#include "../check.h"

#include <stdatomic.h>

struct counts {
    atomic_int turns;  /* every: each turn, holder or not */
    atomic_int rounds; /* round: as the holder */
    atomic_int again;  /* rounds that still ask to come back at once */
    atomic_int fail;   /* rounds that still fail */
};

static dm_err every(void *ctx, struct dm_error *err)
{
    struct counts *c = ctx;
    atomic_fetch_add(&c->turns, 1);
    return DM_OK;
}

static dm_err round_fn(void *ctx, struct leased_loop *l, double *wait_s, struct dm_error *err)
{
    struct counts *c = ctx;
    atomic_fetch_add(&c->rounds, 1);
    if (atomic_load(&c->again) > 0) {
        atomic_fetch_sub(&c->again, 1);
        *wait_s = 0;
    }
    if (atomic_load(&c->fail) > 0) {
        atomic_fetch_sub(&c->fail, 1);
        return dm_fail(err, DM_EIO, "a round that fails on purpose");
    }
    return DM_OK;
}

/* Whether *v reaches at least want within 5 s. */
static bool reaches(atomic_int *v, int want)
{
    double until = clock_s() + 5;
    while (atomic_load(v) < want && clock_s() < until) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(v) >= want;
}

static struct leased_loop *start(struct store *st, const char *owner, struct counts *c)
{
    struct leased_loop_config cfg = {.store = st,
                                     .lease = "test",
                                     .owner = owner,
                                     .lease_s = 60,
                                     .idle_s = 60, /* only wakes and "again" bring rounds here */
                                     .trouble_s = 0.05,
                                     .tag = "test",
                                     .doing = "testing",
                                     .every = every,
                                     .round = round_fn,
                                     .ctx = c};
    struct leased_loop *l = NULL;
    struct dm_error err = {0};
    if (leased_loop_start(&cfg, &l, &err)) fprintf(stderr, "start: %s\n", err.msg);
    return l;
}

int main(void)
{
    char dir[] = "/tmp/leased_loop_test.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char path[128];
    snprintf(path, sizeof path, "%s/doorman.db", dir);
    struct store *st = NULL;
    struct dm_error err = {0};
    if (store_open(path, &st, &err)) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        return 1;
    }

    struct counts a = {0}, b = {0};
    struct leased_loop *la = start(st, "a", &a);
    CHECK(la && reaches(&a.rounds, 1));
    struct leased_loop *lb = start(st, "b", &b);
    CHECK(lb && reaches(&b.turns, 1));
    leased_loop_wake(lb);
    CHECK(reaches(&b.turns, 2));
    CHECK(atomic_load(&b.rounds) == 0); /* a holds the lease */
    printf("ok one holder: the other loop turns but runs no round\n");

    leased_loop_wake(la);
    CHECK(reaches(&a.rounds, 2));
    atomic_store(&a.again, 3);
    leased_loop_wake(la);
    CHECK(reaches(&a.rounds, 6)); /* the woken round and three more at once */
    atomic_store(&a.fail, 2);
    leased_loop_wake(la);
    CHECK(reaches(&a.rounds, 9)); /* two failed, retried after trouble_s, then one that passed */
    CHECK(atomic_load(&a.fail) == 0);
    printf("ok rounds: on a wake, again at once when asked, after trouble_s when one failed\n");

    leased_loop_stop(la); /* gives the lease up */
    leased_loop_wake(lb);
    CHECK(reaches(&b.rounds, 1));
    leased_loop_stop(lb);
    printf("ok stop: the lease is given up and the other loop takes it\n");

    store_close(st);
    unlink(path);
    rmdir(dir);
    return CHECK_DONE();
}
