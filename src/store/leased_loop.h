/* leased_loop.h: a background thread that works while this process holds a lease in the store
 * (store_lease_acquire), so that of several doorman instances on one database only one does
 * the work: the rules' judging (jobs/autodecide.h), the alerts and webhooks (alerts/alerts.h),
 * the check of decisions made in Telegram (jobs/telegram_decisions.h).
 *
 * Each turn the thread runs `every` (when given, holder or not), takes or renews the lease for
 * lease_s seconds, runs `round` when it holds the lease, then waits: idle_s, or less when the
 * round asks (0: go again at once), or trouble_s after a failure (logged once until the
 * message changes), until leased_loop_wake or leased_loop_stop ends the wait early.
 *
 * Ownership: leased_loop_start copies the config's strings; ctx is the caller's and must
 * outlive the loop. leased_loop_stop ends the thread (a round running finishes first; a long
 * one asks leased_loop_stopping), gives the lease up when it is held, and frees the loop. */
#ifndef DM_STORE_LEASED_LOOP_H
#define DM_STORE_LEASED_LOOP_H

#include "store/store.h"

struct leased_loop;

struct leased_loop_config {
    struct store *store;
    const char *lease;  /* the lease's name */
    const char *owner;  /* this process, as the lease names it */
    int64_t lease_s;    /* the lease is taken for this long, renewed every turn */
    double idle_s;      /* the longest wait between turns */
    double trouble_s;   /* the wait after a failed turn */
    const char *tag;    /* the log's component */
    const char *doing;  /* the error's prefix in the log: "deciding by rules" */
    const char *holder; /* logged when the lease is taken (NULL: nothing logged) */
    const char *other;  /* logged when another instance has it (NULL: nothing logged) */
    /* Every turn before the lease is taken; NULL for none. */
    dm_err (*every)(void *ctx, struct dm_error *err);
    /* A round as the lease holder: *wait_s comes as idle_s; lower it to come back sooner. */
    dm_err (*round)(void *ctx, struct leased_loop *l, double *wait_s, struct dm_error *err);
    void *ctx;
};

dm_err leased_loop_start(const struct leased_loop_config *cfg, struct leased_loop **out,
                         struct dm_error *err);
/* Ends the wait at once (any thread; a void * so that store callbacks can take it). */
void leased_loop_wake(void *loop);
/* Whether leased_loop_stop was called: a long round ends early. */
bool leased_loop_stopping(struct leased_loop *l);
/* Within a round: renews the lease once a third of lease_s has passed since it was taken;
 * *held false when it was lost (the round should end). */
dm_err leased_loop_renew(struct leased_loop *l, bool *held, struct dm_error *err);
void leased_loop_stop(struct leased_loop *l);

#endif
