/* leased_loop.c: the background thread that works while it holds a lease (leased_loop.h). */
#include "core/common.h"
#include "store/leased_loop.h"

#include "core/clock.h"
#include "core/log.h"

#include <pthread.h>

struct leased_loop {
    struct leased_loop_config cfg; /* its strings point into the fields below */
    char lease[STORE_TEXT_MAX], owner[STORE_NAME_MAX], tag[32], doing[128], holder[128], other[128];
    int64_t taken_at; /* when the lease was last taken or renewed */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, woken;
};

/* Takes or renews the lease; *held tells whether this process holds it. */
static dm_err lease_take(struct leased_loop *l, bool *held, struct dm_error *err)
{
    int64_t now = (int64_t)time(NULL);
    dm_err e = store_lease_acquire(l->cfg.store, l->cfg.lease, l->cfg.owner, now,
                                   now + l->cfg.lease_s, held, err);
    if (!e && *held) l->taken_at = now;
    return e;
}

dm_err leased_loop_renew(struct leased_loop *l, bool *held, struct dm_error *err)
{
    *held = true;
    if ((int64_t)time(NULL) - l->taken_at < l->cfg.lease_s / 3) return DM_OK;
    return lease_take(l, held, err);
}

bool leased_loop_stopping(struct leased_loop *l)
{
    pthread_mutex_lock(&l->mu);
    bool stop = l->stop;
    pthread_mutex_unlock(&l->mu);
    return stop;
}

void leased_loop_wake(void *loop)
{
    struct leased_loop *l = loop;
    pthread_mutex_lock(&l->mu);
    l->woken = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

/* One turn: the lease, and the round when held; *wait_s the wait after it. */
static dm_err turn(struct leased_loop *l, bool *holding, double *wait_s, struct dm_error *err)
{
    const struct leased_loop_config *cfg = &l->cfg;
    bool held = false;
    dm_err e = cfg->every ? cfg->every(cfg->ctx, err) : DM_OK;
    if (!e) e = lease_take(l, &held, err);
    if (!e && held != *holding && (held ? cfg->holder : cfg->other))
        log_info(cfg->tag, "%s", held ? cfg->holder : cfg->other);
    *holding = held;
    if (!e && held) e = cfg->round(cfg->ctx, l, wait_s, err);
    return e;
}

static void *loop_main(void *arg)
{
    struct leased_loop *l = arg;
    const struct leased_loop_config *cfg = &l->cfg;
    bool holding = false;
    char last_error[sizeof((struct dm_error *)0)->msg] = "";
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        l->woken = false;
        pthread_mutex_unlock(&l->mu);
        double wait = cfg->idle_s;
        struct dm_error err = {0};
        if (turn(l, &holding, &wait, &err)) {
            if (strcmp(last_error, err.msg) != 0)
                log_error(cfg->tag, "%s: %s", cfg->doing, err.msg);
            dm_strlcpy(last_error, err.msg, sizeof last_error);
            wait = cfg->trouble_s;
        } else {
            last_error[0] = 0;
        }
        double until = clock_s() + wait;
        struct timespec ts = clock_after_ms((int64_t)(wait * 1000));
        pthread_mutex_lock(&l->mu);
        while (wait > 0 && !l->woken && !l->stop && clock_s() < until)
            pthread_cond_timedwait(&l->cv, &l->mu, &ts);
    }
    pthread_mutex_unlock(&l->mu);
    if (holding) store_lease_release(cfg->store, cfg->lease, cfg->owner, NULL);
    return NULL;
}

dm_err leased_loop_start(const struct leased_loop_config *cfg, struct leased_loop **out,
                         struct dm_error *err)
{
    *out = NULL;
    struct leased_loop *l = calloc(1, sizeof *l);
    if (!l) return dm_fail(err, DM_ENOMEM, "out of memory");
    l->cfg = *cfg;
    struct {
        const char **field;
        char *copy;
        size_t size;
    } strings[] = {
        {&l->cfg.lease, l->lease, sizeof l->lease},    {&l->cfg.owner, l->owner, sizeof l->owner},
        {&l->cfg.tag, l->tag, sizeof l->tag},          {&l->cfg.doing, l->doing, sizeof l->doing},
        {&l->cfg.holder, l->holder, sizeof l->holder}, {&l->cfg.other, l->other, sizeof l->other},
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(strings); i++) {
        if (!*strings[i].field) continue;
        if (strlen(*strings[i].field) >= strings[i].size) {
            free(l);
            return dm_fail(err, DM_EINVAL, "'%.40s' is too long for a background loop",
                           *strings[i].field);
        }
        dm_strlcpy(strings[i].copy, *strings[i].field, strings[i].size);
        *strings[i].field = strings[i].copy;
    }
    pthread_mutex_init(&l->mu, NULL);
    clock_cond_init(&l->cv);
    if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->mu);
        free(l);
        return dm_fail(err, DM_ENOMEM, "could not start the thread of %s", cfg->lease);
    }
    *out = l;
    return DM_OK;
}

void leased_loop_stop(struct leased_loop *l)
{
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
