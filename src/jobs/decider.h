/* decider.h: how the job runner decides one join request as an account.
 *
 * A job's `via` names the account: "bot" is the Bot API (decide_bot.c); user sessions over
 * MTProto come later as another struct decider_ops. The runner owns pacing, retries, pauses
 * and recording; a decider only makes one call and says what happened. */
#ifndef DM_JOBS_DECIDER_H
#define DM_JOBS_DECIDER_H

#include "core/common.h"
#include "store/store.h"

struct app;
struct botapi_reply;

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
     * work now: the job waits and open is tried again later. */
    dm_err (*open)(struct app *a, const char *via, void **ctx, struct dm_error *err);
    /* Decisions per second the account allows itself (read again while the job runs). */
    double (*rate)(void *ctx);
    /* One decision (kind: enum job_kind) on it->chat_id / it->user_id. Any thread; calls on one
     * ctx may run concurrently. */
    void (*decide)(void *ctx, int kind, const struct store_item *it, struct decision *out);
    void (*close)(void *ctx);
};

extern const struct decider_ops decider_bot;

/* The verdict for a Bot API answer (e and errmsg from botapi_call; rep when e is DM_OK).
 * Exposed for tests. */
void decider_bot_classify(dm_err e, const char *errmsg, const struct botapi_reply *rep,
                          struct decision *out);

#endif
