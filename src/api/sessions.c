/* sessions.c: the Session Manager's endpoints (docs/api.md "Sessions"), except loading
 * requests (sessions_load.c). The work is in telegram/login.h and telegram/pool.h; this
 * file reads bodies, maps failures to the documented errors and writes the audit log.
 * API hashes, codes, passwords, bot tokens and auth keys are never logged or answered. */
#include "core/common.h"
#include "api/api.h"
#include "core/log.h"
#include "telegram/pool.h"
#include "telegram/login.h"

#include <sodium.h>

#define SESSION_STRING_BODY_MAX 4096
#define SESSION_FILE_BODY_MAX (1024 * 1024) /* base64 text; the body itself is capped at 1 MiB */

/* ---- answers ---- */

static json_t *session_json(const struct store_session *s)
{
    json_t *account = json_null();
    if (s->account_id)
        account = json_pack("{s:I,s:o,s:o,s:s,s:s,s:b,s:b}", "id", (json_int_t)s->account_id,
                            "first_name", api_text(s->first_name), "last_name",
                            api_text(s->last_name), "username", s->username, "phone",
                            s->account_phone, "is_bot", s->is_bot, "premium", s->premium);
    return json_pack("{s:s,s:s,s:i,s:s,s:i,s:o,s:s,s:o,s:o,s:o,s:I}", "name", s->name, "type",
                     s->is_bot ? "bot" : "user", "api_id", (int)s->api_id, "phone", s->phone,
                     "dc_id", s->dc_id, "account", account, "status",
                     session_status_name(s->status), "status_reason", api_text(s->status_reason),
                     "last_check_at", api_time_or_null(s->last_check_at), "last_error",
                     api_text(s->last_error), "created_at", (json_int_t)s->created_at);
}

bool api_tg_failed(struct api_ctx *c, const struct tg_error *te)
{
    static const struct {
        int status;
        const char *code;
    } kinds[TG_KIND_COUNT] = {
        [TG_LOGIN_GONE] = {404, "login_not_found"}, [TG_BAD_CODE] = {400, "invalid_code"},
        [TG_CODE_EXPIRED] = {400, "code_expired"},  [TG_BAD_PASSWORD] = {400, "invalid_password"},
        [TG_NO_RIGHT] = {403, "no_permission"},     [TG_DEAD] = {400, "session_invalid"},
    };
    /* Telegram's refusals of a login that the admin acts on each in its own way (docs/api.md) */
    static const struct {
        const char *name;
        int status;
        const char *code;
    } named[] = {
        {"PHONE_NUMBER_INVALID", 400, "phone_invalid"},
        {"PHONE_NUMBER_BANNED", 403, "phone_banned"},
        {"PHONE_NUMBER_UNOCCUPIED", 404, "sign_up_required"},
        {"auth.authorizationSignUpRequired", 404, "sign_up_required"},
        {"auth.sentCodeTypeSetUpEmailRequired", 409, "email_setup_required"},
        {"SEND_CODE_UNAVAILABLE", 409, "resend_unavailable"},
    };
    dm_err e = te->e.code;
    const char *msg = te->e.msg[0] ? te->e.msg : dm_strerror(e);
    for (size_t i = 0; te->kind == TG_INPUT && i < DM_ARRAY_LEN(named); i++)
        if (strcmp(te->name, named[i].name) == 0) {
            http_res_error(c->res, named[i].status, named[i].code, "%s", msg);
            return false;
        }
    if (te->kind == TG_FLOOD) {
        char secs[24];
        snprintf(secs, sizeof secs, "%lld", (long long)te->retry_after);
        http_res_header(c->res, "Retry-After", secs);
        http_res_json(c->res, 429,
                      json_pack("{s:{s:s,s:s,s:I}}", "error", "code", "flood_wait", "message", msg,
                                "retry_after", (json_int_t)te->retry_after));
        return false;
    }
    if ((unsigned)te->kind < TG_KIND_COUNT && kinds[te->kind].code) {
        http_res_error(c->res, kinds[te->kind].status, kinds[te->kind].code, "%s", msg);
        return false;
    }
    switch (e) {
    case DM_EINVAL:
    case DM_ETOOBIG:
    case DM_ECRYPTO:
        http_res_error(c->res, 400, "bad_request", "%s", msg);
        break;
    case DM_ENOTFOUND:
    case DM_EEXISTS:
    case DM_ECONFLICT:
        return api_store_failed(c, e, &te->e); /* 404 / 409 with msg */
    case DM_ETIMEOUT:
    case DM_ENETWORK:
    case DM_EUNAVAILABLE:
        http_res_error(c->res, 503, "unavailable", "Telegram could not be reached: %s", msg);
        break;
    case DM_ETELEGRAM:
    case DM_EPROTO:
        http_res_error(c->res, 502, "telegram", "%s", msg);
        break;
    default: /* e.g. the session's file cannot be read: the message says what to do */
        log_error("api", "%s %s: %s", c->req->method, c->req->path, msg);
        http_res_error(c->res, 500, "internal", "%s", msg);
    }
    return false;
}

static void audit(struct api_ctx *c, const char *action, const char *name, const char *result,
                  const char *detail)
{
    struct store_audit a;
    memset(&a, 0, sizeof a);
    a.at = time(NULL);
    dm_strlcpy(a.admin, c->session.admin_name, sizeof a.admin);
    dm_strlcpy(a.action, action, sizeof a.action);
    dm_strlcpy(a.via, name, sizeof a.via);
    dm_strlcpy(a.result, result, sizeof a.result);
    dm_strlcpy(a.detail, detail, sizeof a.detail);
    struct dm_error err = {0};
    struct store *st = c->env->store;
    if (store_audit_add(st, &a, &err))
        log_warn("api", "could not write the audit log (%s %s): %s", action, name, err.msg);
}

/* "user 123 (@name)" or "bot 123": what an audit entry says about the account. */
static void account_detail(const struct store_session *s, char *out, size_t n)
{
    dm_snprintf_utf8(out, n, "%s %" PRId64 "%s%s%s", s->is_bot ? "bot" : "user", s->account_id,
                     s->username[0] ? " (@" : "", s->username, s->username[0] ? ")" : "");
}

/* 201/200 {"session":…} for a session just made, after auditing it. */
static void created(struct api_ctx *c, const char *action, const struct store_session *s,
                    int status)
{
    char detail[STORE_ERROR_MAX];
    account_detail(s, detail, sizeof detail);
    audit(c, action, s->name, "ok", detail);
    json_t *body = json_pack("{s:o}", "session", session_json(s));
    if (status == 200) json_object_set_new(body, "state", json_string("done"));
    http_res_json(c->res, status, body);
}

/* ---- lists ---- */

static void sessions_list(struct api_ctx *c, bool active_only)
{
    struct store *st = c->env->store;
    struct store_session *v = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    dm_err e = store_session_list(st, &v, &n, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        if (!active_only || v[i].status == SESSION_ACTIVE)
            json_array_append_new(items, session_json(&v[i]));
    free(v);
    http_res_json(c->res, 200, json_pack("{s:o}", "items", items));
}

void api_sessions_list(struct api_ctx *c)
{
    sessions_list(c, false);
}

void api_sessions_active(struct api_ctx *c)
{
    sessions_list(c, true);
}

/* ---- logins ---- */

/* The fields every way of making a session needs: name, api_id, api_hash. */
static bool read_new_session(struct api_ctx *c, const char **name, int64_t *api_id,
                             const char **api_hash)
{
    return api_field_string(c, "name", true, 256, name) &&
           api_field_int(c, "api_id", true, api_id) &&
           api_field_string(c, "api_hash", true, 256, api_hash);
}

/* A login as the API shows it; sent (how the code went) may be NULL. */
static json_t *login_json(const struct store_login *l, const struct login_sent *sent)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "login_id", l->id, "state",
                          l->state == LOGIN_PASSWORD_NEEDED ? "password_needed" : "code_sent",
                          "name", l->name, "phone", l->phone, "hint", l->hint, "expires_at",
                          (json_int_t)l->expires_at);
    if (sent) {
        json_object_set_new(o, "code_type", json_string(sent->type));
        json_object_set_new(o, "next_type",
                            sent->next_type[0] ? json_string(sent->next_type) : json_null());
        json_object_set_new(o, "timeout",
                            sent->timeout > 0 ? json_integer(sent->timeout) : json_null());
    }
    return o;
}

void api_sessions_login_start(struct api_ctx *c)
{
    const char *name = NULL, *api_hash = NULL, *phone = NULL;
    int64_t api_id = 0;
    if (!api_only_fields(c, c->body, NULL, "name", "api_id", "api_hash", "phone", NULL) ||
        !read_new_session(c, &name, &api_id, &api_hash) ||
        !api_field_string(c, "phone", true, 64, &phone))
        return;
    struct store_login l;
    struct login_sent sent;
    struct tg_error te = {0};
    dm_err e = login_start(c->env->pool, name, api_id, api_hash, phone, time(NULL), &l, &sent, &te);
    if (e) {
        api_tg_failed(c, &te);
        return;
    }
    http_res_json(c->res, 200, login_json(&l, &sent));
}

void api_sessions_login_get(struct api_ctx *c)
{
    struct store_login l;
    struct login_sent sent;
    struct tg_error te = {0};
    dm_err e = login_get(c->env->pool, c->path_arg, time(NULL), &l, &te);
    if (!e) e = login_sent_of(c->env->pool, &l, &sent, &te);
    if (e) {
        api_tg_failed(c, &te);
        return;
    }
    http_res_json(c->res, 200, login_json(&l, &sent));
}

void api_sessions_login_resend(struct api_ctx *c)
{
    const char *id = NULL;
    if (!api_only_fields(c, c->body, NULL, "login_id", NULL) ||
        !api_field_string(c, "login_id", true, 128, &id))
        return;
    struct store_login l;
    struct login_sent sent;
    struct tg_error te = {0};
    dm_err e = login_resend(c->env->pool, id, time(NULL), &l, &sent, &te);
    if (e) {
        api_tg_failed(c, &te);
        return;
    }
    http_res_json(c->res, 200, login_json(&l, &sent));
}

void api_sessions_login_code(struct api_ctx *c)
{
    const char *id = NULL, *code = NULL;
    if (!api_only_fields(c, c->body, NULL, "login_id", "code", NULL) ||
        !api_field_string(c, "login_id", true, 128, &id) ||
        !api_field_string(c, "code", true, 64, &code))
        return;
    bool done = false;
    struct store_login l;
    struct store_session s;
    struct tg_error te = {0};
    dm_err e = login_code(c->env->pool, id, code, time(NULL), &done, &l, &s, &te);
    if (e) {
        api_tg_failed(c, &te);
        return;
    }
    if (done) {
        created(c, "session_create", &s, 200);
        return;
    }
    http_res_json(c->res, 200,
                  json_pack("{s:s,s:o}", "state", "password_needed", "hint", api_text(l.hint)));
}

void api_sessions_login_password(struct api_ctx *c)
{
    const char *id = NULL, *password = NULL;
    if (!api_only_fields(c, c->body, NULL, "login_id", "password", NULL) ||
        !api_field_string(c, "login_id", true, 128, &id) ||
        !api_field_string(c, "password", true, 1024, &password))
        return;
    struct store_session s;
    struct tg_error te = {0};
    dm_err e = login_password(c->env->pool, id, password, time(NULL), &s, &te);
    if (e) {
        api_tg_failed(c, &te);
        return;
    }
    created(c, "session_create", &s, 200);
}

void api_sessions_bot(struct api_ctx *c)
{
    const char *name = NULL, *api_hash = NULL, *token = NULL;
    int64_t api_id = 0;
    if (!api_only_fields(c, c->body, NULL, "name", "api_id", "api_hash", "bot_token", NULL) ||
        !read_new_session(c, &name, &api_id, &api_hash) ||
        !api_field_string(c, "bot_token", true, 256, &token))
        return;
    struct store_session s;
    struct tg_error te = {0};
    dm_err e = login_bot(c->env->pool, name, api_id, api_hash, token, time(NULL), &s, &te);
    if (e) {
        api_tg_failed(c, &te);
        return;
    }
    created(c, "session_create", &s, 201);
}

/* ---- import, check, export, delete ---- */

void api_sessions_import(struct api_ctx *c)
{
    const char *name = NULL, *api_hash = NULL, *phone = NULL, *file = NULL, *string = NULL;
    int64_t api_id = 0;
    if (!api_only_fields(c, c->body, NULL, "name", "api_id", "api_hash", "phone", "file", "string",
                         NULL) ||
        !read_new_session(c, &name, &api_id, &api_hash) ||
        !api_field_string(c, "phone", false, 64, &phone) ||
        !api_field_string(c, "file", false, SESSION_FILE_BODY_MAX, &file) ||
        !api_field_string(c, "string", false, SESSION_STRING_BODY_MAX, &string))
        return;
    if (!file == !string) {
        api_bad_request(c, "Give either 'file' (the .session file in base64) or 'string' (a "
                           "string session), not both.");
        return;
    }
    unsigned char *bin = NULL;
    size_t len = 0;
    if (file) {
        size_t flen = strlen(file);
        bin = malloc(flen / 4 * 3 + 3);
        if (!bin) {
            http_res_error(c->res, 500, "internal", "Out of memory.");
            return;
        }
        if (sodium_base642bin(bin, flen / 4 * 3 + 3, file, flen, " \t\r\n", &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            len == 0) {
            free(bin);
            api_bad_request(c, "'file' must be the .session file's bytes in base64.");
            return;
        }
    }
    struct store_session s;
    struct tg_error te = {0};
    dm_err e = login_import(c->env->pool, name, api_id, api_hash, phone, bin, len, string,
                            time(NULL), &s, &te);
    free(bin);
    if (e) {
        api_tg_failed(c, &te);
        return;
    }
    created(c, "session_import", &s, 201);
}

void api_sessions_check(struct api_ctx *c)
{
    if (!api_only_fields(c, c->body, NULL, NULL)) return;
    struct store_session s;
    struct tg_error te = {0};
    const char *name = c->path_arg;
    dm_err e = pool_check(c->env->pool, name, time(NULL), &s, &te);
    if (e) {
        if (e != DM_ENOTFOUND) audit(c, "session_check", name, "error", te.e.msg);
        api_tg_failed(c, &te);
        return;
    }
    char detail[STORE_ERROR_MAX];
    if (s.status == SESSION_ACTIVE)
        account_detail(&s, detail, sizeof detail);
    else
        dm_snprintf_utf8(detail, sizeof detail, "invalid: %.200s", s.status_reason);
    audit(c, "session_check", name, s.status == SESSION_ACTIVE ? "ok" : "invalid", detail);
    http_res_json(c->res, 200, json_pack("{s:o}", "session", session_json(&s)));
}

void api_sessions_export(struct api_ctx *c)
{
    char *data = NULL;
    size_t len = 0;
    struct tg_error te = {0};
    dm_err e = login_export(c->env->pool, c->path_arg, &data, &len, &te);
    if (e) {
        api_tg_failed(c, &te);
        return;
    }
    char disp[128];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s.session\"", c->path_arg);
    http_res_header(c->res, "Content-Disposition", disp);
    http_res_take(c->res, 200, "application/octet-stream", data, len);
}

void api_sessions_delete(struct api_ctx *c)
{
    if (!api_only_fields(c, c->body, NULL, "logout", NULL)) return;
    json_t *v = json_object_get(c->body, "logout");
    if (v && !json_is_boolean(v) && !json_is_null(v)) {
        api_bad_request(c, "'logout' must be true or false.");
        return;
    }
    bool logout = json_is_true(v);
    struct tg_error te = {0};
    dm_err e = login_remove(c->env->pool, c->path_arg, logout, &te);
    if (e) {
        api_tg_failed(c, &te);
        return;
    }
    audit(c, "session_delete", c->path_arg, "ok", logout ? "logged out on Telegram first" : "");
    http_res_json(c->res, 200, json_object());
}
