/* runner.h: runs jobs in the background: decisions (approve/decline over a set of requests)
 * and loads (a channel's pending requests read through a session: jobs/load.h).
 *
 * Jobs live in the store (store_job_*); the API creates them and wakes the runner. The
 * runner claims a job with a lease, walks its items in request-id order (never skipping rows
 * while others change), decides each through the job's account ("bot" for now), and records
 * every outcome in one store transaction with its audit entry. A 429 retry_after pauses all
 * work of that account; HIDE_REQUESTER_MISSING / USER_ALREADY_PARTICIPANT count as already
 * handled. After a restart an unfinished job is claimed again when its lease ends and goes on
 * from its first pending item; nothing is decided twice. A load job runs page by page on the
 * same thread with the same lease, cancellation and restart rules, and waits out a
 * FLOOD_WAIT_X by itself, showing it in the job's wait_until. */
#ifndef DM_JOBS_RUNNER_H
#define DM_JOBS_RUNNER_H

#include "core/common.h"

struct app;
struct job_runner;

dm_err job_runner_start(struct app *a, struct job_runner **out, struct dm_error *err);
/* Tells the runner a job was created or cancelled. */
void job_runner_wake(struct job_runner *r);
/* Finishes the decisions in flight, then stops. NULL is allowed. */
void job_runner_stop(struct job_runner *r);

#endif
