/* verify.c: verification's API (docs/api.md, Verification): each channel's challenge for the
 * admins, a request's verification, and the Mini App's two calls, which the applicant makes
 * with Telegram's launch data instead of a login (verify/verification.h). */
#include "core/common.h"
#include "api/api.h"

#include <sodium.h>

#include "botapi/client.h"
#include "telegram/bot.h"
#include "verify/challenge.h"
#include "verify/initdata.h"
#include "verify/verification.h"

/* ---- challenges ---- */

static json_t *challenge_json(const struct store_challenge *c)
{
    json_t *spec = json_loads(c->spec, 0, NULL);
    return json_pack("{s:I,s:o,s:I}", "chat_id", (json_int_t)c->chat_id, "challenge",
                     spec ? spec : json_null(), "updated_at", (json_int_t)c->updated_at);
}

void api_challenges_list(struct api_ctx *c)
{
    struct store_challenge *all = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    struct api_scope sc;
    dm_err e = store_challenge_list(c->env->store, &all, &n, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    if (!api_scope_read(c, &sc)) {
        free(all);
        return;
    }
    json_t *def = json_null(), *channels = json_array();
    for (size_t i = 0; i < n; i++) {
        if (all[i].chat_id == 0) {
            json_decref(def);
            def = challenge_json(&all[i]);
        } else if (api_scope_has(&sc, all[i].chat_id)) {
            json_array_append_new(channels, challenge_json(&all[i]));
        }
    }
    api_scope_release(&sc);
    free(all);
    http_res_json(c->res, 200, json_pack("{s:o,s:o}", "default", def, "channels", channels));
}

void api_challenges_set(struct api_ctx *c)
{
    int64_t chat_id = 0;
    if (!api_only_fields(c, c->body, NULL, "chat_id", "challenge", NULL) ||
        !api_field_int(c, "chat_id", true, &chat_id))
        return;
    json_t *spec = json_object_get(c->body, "challenge");
    struct dm_error err = {0};
    if (!spec) {
        api_bad_request(c, "'challenge' is required (null removes the channel's own).");
        return;
    }
    if (json_is_null(spec)) {
        dm_err e = store_challenge_delete(c->env->store, chat_id, &err);
        if (e)
            api_store_failed(c, e, &err);
        else
            http_res_json(c->res, 200,
                          json_pack("{s:I,s:n}", "chat_id", (json_int_t)chat_id, "challenge"));
        return;
    }
    if (challenge_check(spec, &err)) {
        api_bad_request(c, "challenge%s%s", err.msg[0] == ':' ? "" : ".", err.msg);
        return;
    }
    struct store_challenge *ch = calloc(1, sizeof *ch);
    char *text = json_dumps(spec, JSON_COMPACT);
    dm_err e = ch && text ? DM_OK : DM_ENOMEM;
    if (!e && strlen(text) >= sizeof ch->spec) {
        api_bad_request(c, "The challenge is too long (%zu bytes at most as JSON).",
                        sizeof ch->spec - 1);
    } else if (!e) {
        *ch = (struct store_challenge){.chat_id = chat_id, .updated_at = time(NULL)};
        dm_strlcpy(ch->spec, text, sizeof ch->spec);
        e = store_challenge_set(c->env->store, ch, &err);
        if (!e) http_res_json(c->res, 200, challenge_json(ch));
    }
    if (e) api_store_failed(c, e, &err);
    free(text);
    free(ch);
}

/* ---- a request's verification, for the admins ---- */

void api_verifications_get(struct api_ctx *c)
{
    char *end = NULL;
    long long id = strtoll(c->path_arg, &end, 10);
    if (*end || id <= 0) {
        http_res_error(c->res, 404, "not_found", "No such join request.");
        return;
    }
    struct store_verification *v = malloc(sizeof *v);
    struct dm_error err = {0};
    dm_err e = v ? store_verification_get(c->env->store, id, v, &err) : DM_ENOMEM;
    if (e) {
        api_store_failed(c, e, &err);
        free(v);
        return;
    }
    char url[1024];
    json_t *spec = json_loads(v->spec, 0, NULL);
    bool has_url = verification_url(c->env->public_url, id, url, sizeof url) == DM_OK;
    http_res_json(c->res, 200,
                  json_pack("{s:I,s:I,s:I,s:s,s:I,s:I,s:s,s:s,s:o,s:s?,s:I,s:I}", "request_id",
                            (json_int_t)v->request_id, "chat_id", (json_int_t)v->chat_id, "user_id",
                            (json_int_t)v->user_id, "state", verify_state_name(v->state),
                            "deadline", (json_int_t)v->deadline, "attempts",
                            (json_int_t)v->attempts, "answer", v->answer, "language", v->lang,
                            "challenge", spec ? spec : json_null(), "url", has_url ? url : NULL,
                            "created_at", (json_int_t)v->created_at, "updated_at",
                            (json_int_t)v->updated_at));
    free(v);
}

/* ---- the Mini App ---- */

/* The applicant's error: launch data refused, not theirs, over. */
static void app_failed(struct api_ctx *c, dm_err e, const struct dm_error *err)
{
    switch (e) {
    case DM_EINVAL:
        http_res_error(c->res, 400, "bad_launch", "%s", err->msg);
        break;
    case DM_EAUTH:
        http_res_error(c->res, 401, "bad_signature", "%s", err->msg);
        break;
    case DM_ETIMEOUT:
        http_res_error(c->res, 401, "stale_launch", "%s", err->msg);
        break;
    case DM_EEXISTS:
        http_res_error(c->res, 409, "replayed_launch", "%s", err->msg);
        break;
    case DM_EFORBIDDEN:
        http_res_error(c->res, 403, "not_the_applicant", "%s", err->msg);
        break;
    case DM_ECONFLICT:
        http_res_error(c->res, 409, "verification_over", "%s", err->msg);
        break;
    default:
        api_store_failed(c, e, err);
    }
}

/* The launch of the body ("request_id", "init_data") with the bot's token in token; false
 * when answered. */
static bool app_launch(struct api_ctx *c, struct verify_launch *l, char *token, size_t size)
{
    const char *data = NULL;
    if (!api_field_int(c, "request_id", true, &l->request_id) ||
        !api_field_string(c, "init_data", true, INITDATA_MAX, &data))
        return false;
    struct botapi_client *bc = c->env->bot ? bot_client_acquire(c->env->bot) : NULL;
    dm_err e = bc ? botapi_client_token(bc, token, size) : DM_ENOTFOUND;
    if (bc) bot_client_release(c->env->bot, bc);
    if (e) {
        http_res_error(c->res, 503, "unavailable",
                       "doorman has no bot configured to check this launch against.");
        return false;
    }
    *l = (struct verify_launch){.data = data,
                                .len = strlen(data),
                                .bot_token = token,
                                .request_id = l->request_id,
                                .now = time(NULL)};
    return true;
}

void api_app_verify_open(struct api_ctx *c)
{
    struct verify_launch l = {0};
    char token[BOTAPI_TOKEN_MAX];
    if (!api_only_fields(c, c->body, NULL, "request_id", "init_data", NULL) ||
        !app_launch(c, &l, token, sizeof token))
        return;
    json_t *view = NULL;
    struct dm_error err = {0};
    dm_err e = verification_open(c->env->store, &l, &view, &err);
    sodium_memzero(token, sizeof token);
    if (e)
        app_failed(c, e, &err);
    else
        http_res_json(c->res, 200, view);
}

void api_app_verify_answer(struct api_ctx *c)
{
    struct verify_launch l = {0};
    char token[BOTAPI_TOKEN_MAX];
    struct verify_answer a = {.choice = -1};
    int64_t choice = -1;
    json_t *acc = json_object_get(c->body, "accepted");
    if (!api_only_fields(c, c->body, NULL, "request_id", "init_data", "accepted", "choice",
                         "captcha", "text", NULL) ||
        !api_field_int(c, "choice", false, &choice) ||
        !api_field_string(c, "captcha", false, 16, &a.captcha) ||
        !api_field_string(c, "text", false, STORE_ANSWER_MAX - 1, &a.text))
        return;
    if (acc && !json_is_boolean(acc)) {
        api_bad_request(c, "'accepted' must be true or false.");
        return;
    }
    if (choice < -1 || choice >= CHALLENGE_CHOICES_MAX) {
        api_bad_request(c, "'choice' must be the number of a choice, from 0.");
        return;
    }
    a.accepted = json_is_true(acc);
    a.choice = (int)choice;
    if (!app_launch(c, &l, token, sizeof token)) return;
    json_t *result = NULL;
    struct dm_error err = {0};
    dm_err e = verification_answer(c->env->store, &l, &a, &result, &err);
    sodium_memzero(token, sizeof token);
    if (e)
        app_failed(c, e, &err);
    else
        http_res_json(c->res, 200, result);
}
