/* dm_challenge.c: a challenge by private message with inline buttons (see dm_challenge.h). */
#include "core/common.h"
#include "jobs/dm_challenge.h"

#include "botapi/client.h"
#include "core/log.h"
#include "telegram/account.h"
#include "telegram/bot.h"
#include "verify/verification.h"

#define CALL_TIMEOUT_MS 15000
#define NOTE_MAX 200

static const char *const C = "verify";

bool dm_bot_call(struct botapi_client *bc, const char *method, json_t *params, int64_t *message_id,
                 char *why, size_t why_size)
{
    struct botapi_reply rep;
    struct dm_error err = {0};
    dm_err e = params ? botapi_call(bc, method, params, CALL_TIMEOUT_MS, &rep, &err)
                      : dm_fail(&err, DM_ENOMEM, "out of memory");
    bool ok = !e && rep.ok;
    if (e)
        dm_snprintf_utf8(why, why_size, "%s", err.msg[0] ? err.msg : dm_strerror(e));
    else if (!rep.ok)
        dm_snprintf_utf8(why, why_size, "%s", rep.description);
    if (ok && message_id)
        *message_id = (int64_t)json_integer_value(json_object_get(rep.result, "message_id"));
    if (params) botapi_reply_release(&rep);
    json_decref(params);
    return ok;
}

/* The parameters that show v's message (text and buttons), to send (message_id 0) or edit. */
static json_t *message_params(const struct store_verification *v, int64_t message_id)
{
    char *text = NULL;
    json_t *kb = NULL;
    if (verification_dm_message(v, &text, &kb)) return NULL;
    json_t *p = json_pack("{s:I,s:s}", "chat_id", (json_int_t)v->user_id, "text", text);
    free(text);
    if (p && message_id) json_object_set_new(p, "message_id", json_integer(message_id));
    if (p && kb) json_object_set_new(p, "reply_markup", json_pack("{s:O}", "inline_keyboard", kb));
    json_decref(kb);
    return p;
}

dm_err dm_challenge_send(struct store *st, struct botapi_client *bc,
                         const struct store_verification *v, bool *sent, char *why, size_t why_size,
                         struct dm_error *err)
{
    int64_t id = 0;
    *sent = dm_bot_call(bc, "sendMessage", message_params(v, 0), &id, why, why_size);
    return *sent ? store_verification_shown(st, v->request_id, v->state, id, err) : DM_OK;
}

/* Edits v's message to show its state, once: a failure is logged ("not modified": another
 * edit came first). */
static dm_err sync_one(struct store *st, struct botapi_client *bc,
                       const struct store_verification *v, struct dm_error *err)
{
    char why[STORE_ERROR_MAX];
    bool ok = dm_bot_call(bc, "editMessageText", message_params(v, v->dm_message_id), NULL, why,
                          sizeof why);
    if (!ok && !strstr(why, "message is not modified"))
        log_warn(C, "the message of request %" PRId64 "'s verification was not updated: %s",
                 v->request_id, why);
    return store_verification_shown(st, v->request_id, v->state, 0, err);
}

dm_err dm_challenge_sync_round(struct store *st, struct botapi_client *bc, int64_t now,
                               int64_t window, int limit, struct dm_error *err)
{
    struct store_verification *v = malloc((size_t)limit * sizeof *v);
    int n = 0;
    dm_err e = v ? store_verifications_dm_stale(st, now - window, limit, v, &n, err)
                 : dm_fail(err, DM_ENOMEM, "out of memory");
    for (int i = 0; i < n && !e; i++)
        e = sync_one(st, bc, &v[i], err);
    free(v);
    return e;
}

/* Answers a callback query (best effort: the press is recorded already). */
static void answer(struct botapi_client *bc, const char *query_id, const char *note)
{
    json_t *p = json_pack("{s:s}", "callback_query_id", query_id);
    if (p && note[0]) json_object_set_new(p, "text", json_string(note));
    char why[STORE_ERROR_MAX];
    if (!dm_bot_call(bc, "answerCallbackQuery", p, NULL, why, sizeof why))
        log_info(C, "a button press was not answered: %s", why);
}

static dm_err on_press(struct dm_challenge *d, const json_t *cq, struct dm_error *err)
{
    const char *id = json_string_value(json_object_get(cq, "id"));
    const char *data = json_string_value(json_object_get(cq, "data"));
    json_t *uid = json_object_get(json_object_get(cq, "from"), "id");
    if (!id || !json_is_integer(uid))
        return dm_fail(err, DM_EINVAL, "a callback_query without id or from.id");
    int64_t now = (int64_t)time(NULL), request_id = 0;
    char note[NOTE_MAX];
    struct dm_error perr = {0};
    dm_err e = data ? verification_dm_press(d->store, data, json_integer_value(uid), now,
                                            &request_id, note, sizeof note, &perr)
                    : dm_fail(&perr, DM_EINVAL, "no data");
    if (e == DM_EINVAL || e == DM_ENOTFOUND) {
        e = DM_ECONFLICT;
        dm_strlcpy(note, "This button is no longer valid.", sizeof note);
    }
    if (e && e != DM_ECONFLICT && e != DM_EFORBIDDEN) { /* the store: delivered again */
        *err = perr;
        return e;
    }
    struct botapi_client *bc = bot_client_acquire(d->accounts->bot);
    if (!bc) return DM_OK;
    answer(bc, id, note);
    struct store_verification *v = e ? NULL : malloc(sizeof *v);
    struct dm_error serr = {0};
    if (v && store_verification_get(d->store, request_id, v, &serr) == DM_OK && v->dm_message_id &&
        v->dm_shown != v->state && v->state != VERIFY_ANSWERED)
        sync_one(d->store, bc, v, &serr); /* a failure: the next round tries again */
    free(v);
    bot_client_release(d->accounts->bot, bc);
    return DM_OK;
}

dm_err dm_challenge_update(void *ctx, const json_t *update, struct dm_error *err)
{
    const json_t *cq = json_object_get(update, "callback_query");
    if (json_is_object(cq)) return on_press(ctx, cq, err);
    return DM_OK; /* a private message: nothing to record (see dm_challenge.h) */
}
