/* load.h: load jobs: a channel's pending join requests read through a session into the store.
 *
 * The API (api/sessions_load.c) finds the channel and checks the account's right first, then
 * creates a JOB_LOAD job whose params (load_params_format) say which channel, how many and what
 * it is called; job.via is the session. Pages are read with account_list_pending()
 * (telegram/account.h). The runner (runner.c) claims it like any job and calls
 * load_run_step() until it is finished, keeping the lease, waiting out flood waits and network
 * trouble, and stopping when the job is cancelled or the process stops. Each step reads one page
 * (up to 100) newest first after the job's cursor and records it with the cursor in one store
 * transaction (job_load_page), so after a restart the job goes on from the last page recorded
 * and `done` counts every request exactly once; requests the bot already recorded are left as
 * they are (request_add is idempotent). */
#ifndef DM_JOBS_LOAD_H
#define DM_JOBS_LOAD_H

#include "core/common.h"
#include "store/store.h"
#include "telegram/account.h"

#define LOAD_DEFAULT_LIMIT 1000 /* the guide's "up to 1000 join requests" per operation */

struct load_params {
    struct account_channel channel; /* chat_id is not kept: 0 (the session's calls need id and
                                       access_hash) */
    int64_t limit;                  /* requests to load at most; 0 = all */
};

/* The JSON text kept in store_job.params, and back. */
dm_err load_params_format(const struct load_params *p, char *out, size_t n, struct dm_error *err);
dm_err load_params_parse(const char *s, struct load_params *out, struct dm_error *err);

/* What a running load job knows between steps. */
struct load_run {
    struct store *store;     /* borrowed */
    struct account *account; /* borrowed: job.via's, open while the job runs */
    int64_t job_id;
    struct load_params params;
    struct account_cursor cursor;
    int64_t done;  /* recorded so far (store_job.done) */
    int64_t total; /* min(Telegram's count, limit) as last seen */
};

/* From a claimed JOB_LOAD job, read through `account` (job.via's) and recorded in st; both are
 * borrowed for as long as lr is used. DM_EINVAL when its params or cursor are damaged. */
dm_err load_run_init(struct load_run *lr, struct store *st, struct account *account,
                     const struct store_job *job, struct dm_error *err);

/* Reads the next page through the job's session and records it as `owner`. *finished is true
 * when nothing is left to load (the limit is reached or Telegram has no more); the job's total
 * is then set to what was loaded. Failures in *te: Telegram's (tg_error.h: TG_FLOOD with its
 * wait, …), or TG_LOCAL with DM_ECONFLICT when the job was cancelled or taken over, or with
 * DM_EDB when the store failed (nothing recorded: try again). */
dm_err load_run_step(struct load_run *lr, const char *owner, bool *finished, struct tg_error *te);

#endif
