/* load.h: load jobs: a channel's pending join requests read through one or more sessions
 * into the store.
 *
 * The API (api/sessions_load.c) finds the channel and checks that an account of the job has
 * the right first, then creates a JOB_LOAD job whose params (load_params_format) say which
 * channel, how many and what it is called; job.via names its sessions (jobs/via.h: one, a list,
 * or VIA_ANY_SESSION). Pages are read with account_list_pending() (telegram/account.h). The
 * runner (runner.c) claims it like any job and calls load_run_step() until it is finished,
 * keeping the lease, waiting out flood waits and network trouble, and stopping when the job is
 * cancelled or the process stops. Each step reads one page (up to 100) newest first after the
 * job's cursor, through the first of its sessions that can work now, and records it with the
 * cursor in one store transaction (job_load_page, which notes each request as done by that
 * session: GET /api/jobs/{id} counts them per account), so after a restart the job goes on from
 * the last page recorded and `done` counts every request exactly once; requests the bot already
 * recorded are left as they are (request_add is idempotent). A session that must wait out a
 * FLOOD_WAIT leaves the next pages to the next session (it may take them again once its wait is
 * over); one whose key died, that was deleted, that lacks the right in the channel or cannot see
 * it, is left out for the rest of the job. The next session goes on from the cursor the other
 * made (account_list_pending reads that second again: nothing is left out, and nothing is
 * counted twice). The job waits only while every session left waits, and fails when none is
 * left. */
#ifndef DM_JOBS_LOAD_H
#define DM_JOBS_LOAD_H

#include "core/common.h"
#include "store/store.h"
#include "jobs/via.h"
#include "telegram/account.h"

#define LOAD_DEFAULT_LIMIT 1000 /* the guide's "up to 1000 join requests" per operation */

struct load_params {
    struct account_channel channel; /* as the session that checked it sees it; chat_id 0 in jobs
                                       made before several sessions could load */
    int64_t limit;                  /* requests to load at most; 0 = all */
    char by[STORE_NAME_MAX];        /* the session whose access hash channel holds; "" in jobs made
                                       before it was kept: the job's first */
};

/* The JSON text kept in store_job.params, and back. */
dm_err load_params_format(const struct load_params *p, char *out, size_t n, struct dm_error *err);
dm_err load_params_parse(const char *s, struct load_params *out, struct dm_error *err);

/* One of a load job's sessions, as the job knows it between steps. */
struct load_account {
    struct account *a;    /* borrowed: open while the job runs */
    bool checked;         /* account_usable said yes, and its view of the channel is known */
    bool gone;            /* cannot load in this job: left out */
    int64_t paused_until; /* wall seconds: waits out a FLOOD_WAIT until then */
    struct account_channel channel; /* the channel with this session's own access hash */
    char error[STORE_ERROR_MAX];    /* why it is gone */
};

/* What a running load job knows between steps. */
struct load_run {
    struct store *store; /* borrowed */
    struct load_account acc[VIA_MAX];
    size_t n_acc;
    int64_t job_id;
    struct load_params params;
    struct account_cursor cursor;
    int64_t done;  /* recorded so far (store_job.done) */
    int64_t total; /* min(Telegram's count, limit) as last seen */
};

/* From a claimed JOB_LOAD job, read through accounts[0..n) (job.via's, in its order; 1 to
 * VIA_MAX) and recorded in st; all are borrowed for as long as lr is used. DM_EINVAL when its
 * params or cursor are damaged. */
dm_err load_run_init(struct load_run *lr, struct store *st, struct account *const *accounts,
                     size_t n, const struct store_job *job, struct dm_error *err);

/* Reads the next page through the first of the job's sessions that can work now and records it
 * as `owner`, going on to the next session at once when one hits FLOOD_WAIT, is dead, or lacks
 * the right in the channel. *finished is true when nothing is left to load (the limit is
 * reached or Telegram has no more); the job's total is then set to what was loaded. Failures in
 * *te: TG_FLOOD with the wait until the first session is free again (every one left waits);
 * when no session is left, what the last one was told (with several: "None of the job's sessions
 * can load: …"); Telegram's trouble (TG_UNREACHABLE); or TG_LOCAL with DM_ECONFLICT when the job
 * was cancelled or taken over, or with DM_EDB when the store failed (nothing recorded: try
 * again). */
dm_err load_run_step(struct load_run *lr, const char *owner, bool *finished, struct tg_error *te);

#endif
