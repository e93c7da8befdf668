/* rule_actions.c: an admin undoing what the rules did to requests: releasing the requests a
 * rule held (back to the admins, untagged), and lifting the bans of "decline and ban".
 * docs/api.md, Rules. */
#include "core/common.h"
#include "api/api.h"

#include "telegram/account.h"

#define RELEASE_MAX 1000

void api_requests_release(struct api_ctx *c)
{
    int64_t *ids = NULL;
    size_t n = 0;
    if (!api_only_fields(c, c->body, NULL, "request_ids", NULL) ||
        !api_body_ids(c, RELEASE_MAX, &ids, &n))
        return;
    if (!api_requests_allowed(c, ids, n)) {
        free(ids);
        return;
    }
    json_t *released = json_array(), *skipped = json_array();
    char note[STORE_TEXT_MAX];
    dm_snprintf_utf8(note, sizeof note, "released by %s", c->session.admin_name);
    for (size_t i = 0; i < n; i++) {
        struct store_request r = {0};
        struct dm_error err = {0};
        dm_err e = store_request_get(c->env->store, ids[i], &r, &err);
        struct store_audit a = {
            .at = time(NULL), .request_id = ids[i], .chat_id = r.chat_id, .user_id = r.user_id};
        dm_strlcpy(a.admin, c->session.admin_name, sizeof a.admin);
        dm_strlcpy(a.action, "release", sizeof a.action);
        dm_strlcpy(a.result, "ok", sizeof a.result);
        dm_strlcpy(a.detail, r.verdict, sizeof a.detail);
        if (!e) e = store_request_release(c->env->store, ids[i], note, &a, &err);
        if (e && e != DM_ENOTFOUND) {
            json_decref(released);
            json_decref(skipped);
            free(ids);
            api_store_failed(c, e, &err);
            return;
        }
        json_array_append_new(e ? skipped : released, json_integer(ids[i]));
    }
    free(ids);
    http_res_json(c->res, 200, json_pack("{s:o,s:o}", "released", released, "skipped", skipped));
}

#define UNBAN_MAX 100 /* a Telegram call each, while the admin waits */

/* One unban: the request's user through account a, recorded with its audit entry. false after
 * answering when the store failed; *out gets the request's result. */
static bool unban_one(struct api_ctx *c, struct account *a, int64_t id, json_t **out)
{
    struct store *st = c->env->store;
    struct store_request r = {0};
    struct dm_error err = {0};
    dm_err e = store_request_get(st, id, &r, &err);
    if (e == DM_ENOTFOUND || (!e && !r.banned)) {
        *out = json_pack("{s:I,s:b,s:s}", "request_id", (json_int_t)id, "ok", 0, "error",
                         e ? "no such request" : "not banned by doorman");
        return true;
    }
    if (e) return api_store_failed(c, e, &err);
    /* without a chosen account, the one that banned */
    struct account *own = NULL;
    if (!a &&
        account_open(c->env->accounts, r.decided_via[0] ? r.decided_via : ACCOUNT_BOT, &own, &err))
        return api_store_failed(c, err.code, &err);
    if (!a) a = own;
    struct account_request req = {r.id, r.chat_id, r.user_id};
    struct tg_error te;
    account_unban(a, &req, &te);
    struct store_audit au = {
        .at = time(NULL), .request_id = id, .chat_id = r.chat_id, .user_id = r.user_id};
    dm_strlcpy(au.admin, c->session.admin_name, sizeof au.admin);
    dm_strlcpy(au.action, "unban", sizeof au.action);
    dm_strlcpy(au.via, account_name(a), sizeof au.via);
    dm_strlcpy(au.result, te.kind == TG_OK ? "ok" : "error", sizeof au.result);
    dm_strlcpy(au.detail, te.kind == TG_OK ? "" : te.e.msg, sizeof au.detail);
    e = te.kind == TG_OK ? store_request_set_banned(st, id, false, &au, &err)
                         : store_audit_add(st, &au, &err);
    if (e) {
        account_close(own);
        return api_store_failed(c, e, &err);
    }
    *out = te.kind == TG_OK ? json_pack("{s:I,s:b}", "request_id", (json_int_t)id, "ok", 1)
                            : json_pack("{s:I,s:b,s:o}", "request_id", (json_int_t)id, "ok", 0,
                                        "error", api_text(te.e.msg));
    return true;
}

void api_requests_unban(struct api_ctx *c)
{
    int64_t *ids = NULL;
    size_t n = 0;
    if (!api_only_fields(c, c->body, NULL, "request_ids", "session_name", NULL) ||
        !api_body_ids(c, UNBAN_MAX, &ids, &n))
        return;
    if (!api_requests_allowed(c, ids, n)) {
        free(ids);
        return;
    }
    /* an account named in the body for all of them; else each through the account that banned */
    struct account *a = NULL;
    if (json_object_get(c->body, "session_name") && !(a = api_body_account(c, true))) {
        free(ids);
        return;
    }
    json_t *results = json_array();
    bool answered = false;
    for (size_t i = 0; i < n && !answered; i++) {
        json_t *one = NULL;
        if (unban_one(c, a, ids[i], &one))
            json_array_append_new(results, one);
        else
            answered = true;
    }
    account_close(a);
    free(ids);
    if (answered)
        json_decref(results);
    else
        http_res_json(c->res, 200, json_pack("{s:o}", "results", results));
}
