/* runner.h: runs jobs in the background: decisions (approve/decline over a set of requests)
 * and loads (a channel's pending requests read through one or more sessions: jobs/load.h).
 *
 * Jobs live in the store (store_job_*); the API creates them and wakes the runner. The
 * runner runs up to 4 jobs at once, one per via (jobs through the same account one after the
 * other). It claims a job with a lease, walks its items in request-id order (never skipping rows
 * while others change), decides each through the job's account (job.via: the bot, a session,
 * or several sessions, jobs/via.h: the first that can take the item; through
 * telegram/account.h), and records every outcome in one store transaction with its audit entry,
 * which names the account. A flood wait (a 429's retry_after, FLOOD_WAIT_X) pauses all work of
 * that account in the job; HIDE_REQUESTER_MISSING / USER_ALREADY_PARTICIPANT count as already
 * handled. After
 * a restart an unfinished job is claimed again when its lease ends and goes on from its first
 * pending item; nothing is decided twice. A load job runs page by page on the same thread with
 * the same lease, cancellation and restart rules, and waits out a FLOOD_WAIT_X by itself,
 * showing it in the job's wait_until. */
#ifndef DM_JOBS_RUNNER_H
#define DM_JOBS_RUNNER_H

#include "core/common.h"

struct accounts;
struct job_runner;
struct store;

/* What the runner works with. store and accounts are borrowed and must outlive the runner;
 * owner is copied. */
struct job_runner_config {
    struct store *store;
    const struct accounts *accounts; /* who decides: telegram/account.h */
    const char *owner;               /* this process's name as the holder of job leases */
};

dm_err job_runner_start(const struct job_runner_config *cfg, struct job_runner **out,
                        struct dm_error *err);
/* Tells the runner a job was created or cancelled. */
void job_runner_wake(struct job_runner *r);
/* Finishes the decisions in flight, then stops. NULL is allowed. */
void job_runner_stop(struct job_runner *r);

#endif
