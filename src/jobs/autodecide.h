/* autodecide.h: doorman deciding by itself. One thread per process, and among processes on one
 * database the one holding the lease "rules" (the others wait their turn), which
 *   1. judges every request recorded pending since (store_unevaluated: from long polling, the
 *      webhook, Load Requests, anything that records) by its channel's mode and rules
 *      (judge.h), and records the verdicts, each with its due action and time, in one
 *      transaction a batch: a request is judged once, even across a crash;
 *   2. judges again the delayed approvals that came due (judge.h, "recheck");
 *      A request that came with a join-request query is answered through it (guard.h);
 *   3. hands the decisions that are due to decision jobs (store_due_dispatch: one queued job per
 *      channel and action, joined by later ones while it waits) and wakes the job runner,
 *      which decides them through the channel's account with its rate limits, flood waits,
 *      restarts and exactly-once rules (runner.h);
 *   4. ends the verifications past their deadline (verify/verification.h) and sends those just
 *      begun to their applicants by private message (deliver.h).
 * The store wakes it when a request is recorded (store_on_request_added); otherwise it looks
 * every second, and at the next due time.
 *
 * A channel's backlog is judged by an apply job (kind JOB_APPLY, over the channel's pending
 * requests), which the runner runs step by step through apply_run_step: the same judging and
 * recording, each batch finishing its items. */
#ifndef DM_JOBS_AUTODECIDE_H
#define DM_JOBS_AUTODECIDE_H

#include "core/common.h"
#include "store/store.h"
#include "telegram/tg_error.h"

struct accounts;
struct autodecide;
struct guard;
struct job_runner;

/* store, accounts and runner are borrowed and must outlive it; owner (this process's lease
 * name) is copied. The store's on_request_added hook is set to wake it (and cleared by stop). */
struct autodecide_config {
    struct store *store;
    const struct accounts *accounts; /* has_photo asks through them (judge.h) */
    struct job_runner *runner;
    struct guard *guard; /* answers the join-request queries of what it judges (guard.h) */
    const char *owner;
    const char *public_url; /* the Mini App's base, for verifications' messages (deliver.h) */
};
dm_err autodecide_start(const struct autodecide_config *cfg, struct autodecide **out,
                        struct dm_error *err);
/* Finishes the batch in hand, then stops. NULL is allowed. */
void autodecide_stop(struct autodecide *a);

/* An apply job, run by the runner. */
struct apply_run {
    struct store *store; /* borrowed */
    struct judge *judge; /* owned: apply_run_release */
    int64_t job_id;
    int64_t judged; /* by this run, for the log */
};
dm_err apply_run_init(struct apply_run *ar, struct store *st, const struct accounts *as,
                      const struct store_job *job, struct dm_error *err);
/* Judges the next batch of the job's items and records them. *finished when none is left.
 * DM_ECONFLICT when owner no longer holds the job; a store failure is TG_LOCAL in *te. */
dm_err apply_run_step(struct apply_run *ar, const char *owner, bool *finished, struct tg_error *te);
void apply_run_release(struct apply_run *ar);

#endif
