/* hide_all.h: Approve All / Deny All through a session, each channel with one
 * messages.hideAllChatJoinRequests call.
 *
 * The API (api/invite_requests.c) creates an approve or decline job with job_create_filter
 * over the pending requests of the filter (which names at most a channel: no q, from, to or rule),
 * job.via the session, and params {"mode":"hide_all","chat_id":n} (0: every channel that has
 * pending requests). The runner claims it like any job and calls hide_run_step() until it is
 * finished, with the lease, cancellation, flood-wait and restart rules of load jobs. For each
 * channel in turn (the named one, or the channel of the job's first pending item), through the
 * job's account (telegram/account.h; one that account_lists_pending()):
 *   1. the channel as the account sees it (account_channel);
 *   2. its pending list read from Telegram page by page (account_list_pending), each page
 *      recorded with job_add_page: requests the table had not seen are recorded, and every one
 *      pending here becomes an item of the job (its total grows, so the progress shows the real
 *      work);
 *   3. one call deciding them all (account_decide_channel: hideAllChatJoinRequests);
 *   4. job_finish_chat: every pending item of the channel, and any request of it still pending
 *      here, is recorded decided (done), audited with the session as via.
 * Before step 2 (or the call of one link's job), the channel's admin log is read for approvals
 * made in the Telegram app meanwhile (jobs/telegram_decisions.h): those requests are recorded as
 * decided by their admin, and the job skips them.
 * The cursor ({"chat":n,"phase":"load"|"hide"|"done","date":…,"user":…,"hash":…}) is saved
 * with each record, so after a restart the job goes on where it was; a second hideAll after a
 * crash between the call and its record finds nothing pending on Telegram and is harmless, and
 * the rows are then recorded. A channel where the account lacks the invite-users right, or
 * that it cannot see, has its items failed with why, and the job goes on with the next one. */
#ifndef DM_JOBS_HIDE_ALL_H
#define DM_JOBS_HIDE_ALL_H

#include "core/common.h"
#include "store/store.h"
#include "telegram/account.h"

/* Whether a decision over `f` may use hideAll: it names at most a channel (and one when it
 * has a scope), and an invite link only with its channel. */
bool hide_all_fits(const struct store_request_filter *f);

/* The params of a hide_all job ({"mode":"hide_all","chat_id":n} with "link" for one invite
 * link's requests: link NULL or "" for none), and back (link: STORE_LINK_MAX bytes).
 * hide_params_parse: DM_ENOTFOUND when s is not a hide_all job's (another decision job),
 * DM_EINVAL when damaged.
 *
 * One link's requests: Telegram's pending list does not say which link a request came
 * through, so such a job reads no list: it makes the one call with `link` and finishes the
 * items it was created with (the requests recorded through the link). */
dm_err hide_params_format(int64_t chat_id, const char *link, char *out, size_t n,
                          struct dm_error *err);
dm_err hide_params_parse(const char *s, int64_t *chat_id, char *link, struct dm_error *err);

enum hide_phase { HIDE_LOAD = 0, HIDE_CALL = 1, HIDE_DONE = 2 };

struct hide_cursor {
    int64_t chat_id;          /* 0: pick the next channel */
    int phase;                /* enum hide_phase */
    struct account_cursor at; /* HIDE_LOAD: where the list goes on */
};
/* JSON text for store_job.cursor, and back ("" = the start). */
dm_err hide_cursor_format(const struct hide_cursor *c, char *out, size_t n, struct dm_error *err);
dm_err hide_cursor_parse(const char *s, struct hide_cursor *out, struct dm_error *err);

struct hide_run {
    struct store *store;     /* borrowed */
    struct account *account; /* borrowed: job.via's, open while the job runs */
    int64_t job_id;
    int kind;
    int64_t only_chat;         /* params' chat_id */
    char link[STORE_LINK_MAX]; /* params' link: "" for the whole channel */
    struct hide_cursor cur;
    bool resolved; /* ch is cur.chat_id's */
    struct account_channel ch;
    int64_t listed; /* requests read from Telegram by this run (for the log) */
};

/* From a claimed job whose params are a hide_all job's (DM_ENOTFOUND: another decision job),
 * run through `account` and recorded in st; both are borrowed for as long as hr is used. */
dm_err hide_run_init(struct hide_run *hr, struct store *st, struct account *account,
                     const struct store_job *job, struct dm_error *err);
/* One Telegram call and its record. *finished when no channel is left. Failures as
 * load_run_step's; an account that cannot work any more (deleted, or found dead) is TG_DEAD. */
dm_err hide_run_step(struct hide_run *hr, const char *owner, bool *finished, struct tg_error *te);

#endif
