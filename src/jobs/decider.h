/* decider.h: how the job runner decides one join request as an account.
 *
 * A job's `via` names the account: "bot" is the Bot API (decide_bot.c); any other name is a
 * session of the account pool, a user or bot account over MTProto (decide_session.c). The
 * runner owns pacing, retries, pauses and recording; a decider only makes one call and says
 * what happened. */
#ifndef DM_JOBS_DECIDER_H
#define DM_JOBS_DECIDER_H

#include "core/common.h"
#include "store/store.h"

struct app;
struct botapi_reply;
struct loader_channel;
struct mt_rpc_error;

enum verdict {
    V_DONE,    /* decided now */
    V_ALREADY, /* Telegram says it was already decided: final, skipped */
    V_FAILED,  /* will not work however often tried: final, error says why */
    V_RETRY,   /* no answer or a server error: try again later (limited attempts) */
    V_FLOOD,   /* rate limited: pause the whole account for retry_after seconds, then retry */
    V_ACCOUNT, /* the account cannot work now (e.g. token revoked): reopen it, then retry */
};

struct decision {
    enum verdict verdict;
    int retry_after;             /* V_FLOOD: seconds, >= 1 */
    int final_status;            /* V_ALREADY: what Telegram's answer says the request is now
                                    (REQ_APPROVED, REQ_DECLINED), REQ_PENDING when it cannot tell */
    char error[STORE_ERROR_MAX]; /* for everything but V_DONE */
};

struct decider_ops {
    /* Gets ready to decide as `via`. DM_EUNAVAILABLE (message in err) when the account cannot
     * work now: the job waits and open is tried again later. Any other error (e.g. DM_EAUTH: the
     * session is invalid or gone) is final: the job fails with the message. */
    dm_err (*open)(struct app *a, const char *via, void **ctx, struct dm_error *err);
    /* Decisions per second the account allows itself (read again while the job runs). */
    double (*rate)(void *ctx);
    /* One decision (kind: enum job_kind) on it->chat_id / it->user_id. Any thread; calls on one
     * ctx may run concurrently. */
    void (*decide)(void *ctx, int kind, const struct store_item *it, struct decision *out);
    void (*close)(void *ctx);
};

extern const struct decider_ops decider_bot;
/* Sessions over MTProto: messages.hideChatJoinRequest through the pool's one client of the
 * session (every call with pool_call, so a dead key marks the session invalid). The
 * channel's access hash is resolved once per channel per job (decider_session_channel); the
 * user's, which Telegram gives each account for itself and doorman does not store, is read
 * from the channel's pending list as the session sees it (getChatInviteImporters around the
 * request's date; the whole list once a channel keeps missing) and cached for the job. A
 * request Telegram does not list as pending is already handled (as HIDE_REQUESTER_MISSING). */
extern const struct decider_ops decider_session;

#define DECIDER_SESSION_RATE                                                                       \
    20.0 /* decisions per second: MTProto has no fixed limit like the                              \
            Bot API's; FLOOD_WAIT_X pauses the account as a 429 does */

/* The verdict for a session's hideChatJoinRequest (e and rpc from pool_call; errmsg its
 * message); kind is the job's, title names the channel in messages. Exposed for tests. */
void decider_session_classify(dm_err e, const struct mt_rpc_error *rpc, const char *errmsg,
                              int kind, const char *title, struct decision *out);

/* The sentence for an account without the invite-users right in a channel: role is a
 * loader_role (LOADER_NOT_ADMIN, LOADER_ADMIN_NO_INVITE) when known, -1 when Telegram only said
 * CHAT_ADMIN_REQUIRED. */
void decider_no_right(int role, const char *title, char *out, size_t n);

/* The channel with Bot API id chat_id (-100…) as session `via` sees it: resolved by the
 * @username the store's chats table knows for it (contacts.resolveUsername), else by id
 * (channels.getChannels), with its title and username then saved in that table (the channel
 * cache the panel and the bot share). loader.h's codes; DM_ENOTFOUND for an id that is not a
 * channel's. */
dm_err decider_session_channel(struct app *a, const char *via, int64_t chat_id,
                               struct loader_channel *out, int *retry_after, struct dm_error *err);

/* The session's state as the API and the runner judge it: DM_OK when it exists and is active;
 * DM_ENOTFOUND or DM_EAUTH with the contract's sentence ("Session 'x' is not active (invalid:
 * AUTH_KEY_UNREGISTERED): check it on the Sessions page") otherwise; DM_EDB when the store
 * fails. *out (may be NULL) gets the row. */
dm_err decider_session_usable(struct store *st, const char *name, struct store_session *out,
                              struct dm_error *err);

/* The verdict for a Bot API answer (e and errmsg from botapi_call; rep when e is DM_OK).
 * Exposed for tests. */
void decider_bot_classify(dm_err e, const char *errmsg, const struct botapi_reply *rep,
                          struct decision *out);

#endif
