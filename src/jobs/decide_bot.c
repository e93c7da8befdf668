/* decide_bot.c: deciding join requests through the Bot API (approveChatJoinRequest /
 * declineChatJoinRequest with chat_id and user_id). */
#include "core/common.h"
#include "app.h"
#include "telegram/bot.h"
#include "botapi/client.h"
#include "jobs/decider.h"

#define CALL_TIMEOUT_MS 30000

struct bot_ctx {
    struct app *app;
    struct botapi_client *client;
};

static dm_err bot_open(struct app *a, const char *via, void **ctx, struct dm_error *err)
{
    struct botapi_client *c = a->bot ? bot_client_acquire(a->bot) : NULL;
    if (!c) return dm_fail(err, DM_EUNAVAILABLE, "No bot token configured: set it in Settings");
    struct bot_ctx *bc = malloc(sizeof *bc);
    if (!bc) {
        bot_client_release(a->bot, c);
        return dm_fail(err, DM_ENOMEM, "out of memory");
    }
    bc->app = a;
    bc->client = c;
    *ctx = bc;
    return DM_OK;
}

static double bot_rate(void *ctx)
{
    struct bot_ctx *bc = ctx;
    struct bot_status st;
    bot_get_status(bc->app->bot, &st);
    return st.rate;
}

void decider_bot_classify(dm_err e, const char *errmsg, const struct botapi_reply *rep,
                          struct decision *out)
{
    memset(out, 0, sizeof *out);
    if (e) {
        out->verdict = V_RETRY;
        dm_strlcpy(out->error, errmsg && *errmsg ? errmsg : dm_strerror(e), sizeof out->error);
        return;
    }
    if (rep->ok) {
        out->verdict = V_DONE;
        return;
    }
    dm_strlcpy(out->error, rep->description, sizeof out->error);
    int code = rep->error_code ? rep->error_code : (int)rep->http_status;
    if (botapi_already_handled(rep->description)) {
        out->verdict = V_ALREADY;
    } else if (code == 429) {
        out->verdict = V_FLOOD;
        out->retry_after = rep->retry_after > 0 ? rep->retry_after : 1;
    } else if (code == 401) {
        out->verdict = V_ACCOUNT;
        snprintf(out->error, sizeof out->error,
                 "Telegram rejected the bot token: set it again in Settings");
    } else if (code >= 500 || code < 400) {
        out->verdict = V_RETRY;
    } else {
        out->verdict = V_FAILED;
    }
}

static void bot_decide(void *ctx, int kind, const struct store_item *it, struct decision *out)
{
    struct bot_ctx *bc = ctx;
    struct dm_error err = {0};
    struct botapi_reply rep;
    memset(&rep, 0, sizeof rep);
    json_t *p = json_pack("{s:I, s:I}", "chat_id", (json_int_t)it->chat_id, "user_id",
                          (json_int_t)it->user_id);
    dm_err e =
        p ? botapi_call(bc->client,
                        kind == JOB_DECLINE ? "declineChatJoinRequest" : "approveChatJoinRequest",
                        p, CALL_TIMEOUT_MS, &rep, &err)
          : dm_fail(&err, DM_ENOMEM, "out of memory");
    json_decref(p);
    decider_bot_classify(e, err.msg, e ? NULL : &rep, out);
    if (out->verdict == V_ALREADY) /* a member was approved; otherwise it is gone as we meant */
        out->final_status = strstr(rep.description, "USER_ALREADY_PARTICIPANT") ? REQ_APPROVED
                            : kind == JOB_DECLINE                               ? REQ_DECLINED
                                                                                : REQ_APPROVED;
    botapi_reply_release(&rep);
}

static void bot_close(void *ctx)
{
    struct bot_ctx *bc = ctx;
    bot_client_release(bc->app->bot, bc->client);
    free(bc);
}

const struct decider_ops decider_bot = {
    .open = bot_open,
    .rate = bot_rate,
    .decide = bot_decide,
    .close = bot_close,
};
