/* admins.c: owners managing admins (docs/api.md, Admins): the list, invitations (a one-time,
 * expiring link like the setup link), role and channel changes, removal; and the invitation's
 * public side, which creates the invited admin.
 *
 * An invitation is kept in the settings table under "admin_invite:<digest of its token>" as
 * JSON {"role", "channels", "expires_at", "by"}; accepting it deletes it. */
#include "core/common.h"
#include "api/api.h"

#include "core/log.h"
#include "core/secret.h"

#define INVITE_KEY "admin_invite:"
#define INVITE_TTL (72 * 3600)
#define CHANNELS_MAX 1000 /* channels granted to one admin at most */

static json_t *admin_json(struct api_ctx *c, const struct store_admin *a)
{
    char scope[STORE_SCOPE_MAX] = "";
    if (a->role != ROLE_OWNER) store_scope_of("admin", a->id, scope);
    json_t *channels = api_scope_json(c, scope);
    if (!channels) return NULL;
    return json_pack("{s:s,s:s,s:o,s:b,s:I}", "name", a->name, "role", admin_role_name(a->role),
                     "channels", channels, "totp", a->totp_secret[0] != 0, "created_at",
                     (json_int_t)a->created_at);
}

void api_admins_list(struct api_ctx *c)
{
    struct store_admin *v = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    dm_err e = store_admin_list(c->env->store, &v, &n, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *one = admin_json(c, &v[i]);
        if (!one) { /* answered */
            json_decref(items);
            free(v);
            return;
        }
        json_array_append_new(items, one);
    }
    free(v);
    http_res_json(c->res, 200, json_pack("{s:o}", "items", items));
}

/* Reads the body's "role" (required) and "channels" (for viewers and deciders). false after
 * answering; *chats is the caller's to free. */
static bool body_role(struct api_ctx *c, int *role, int64_t **chats, size_t *n)
{
    const char *name = NULL;
    if (!api_field_string(c, "role", true, 16, &name)) return false;
    if ((*role = admin_role_parse(name)) < 0)
        return api_bad_request(c, "'role' must be owner, decider or viewer.");
    return api_body_channels(c, *role, CHANNELS_MAX, chats, n);
}

/* "decider in 3 channels", "owner" */
static void role_text(int role, size_t n, char *out, size_t size)
{
    if (role == ROLE_OWNER)
        snprintf(out, size, "owner");
    else
        snprintf(out, size, "%s in %zu channel%s", admin_role_name(role), n, n == 1 ? "" : "s");
}

void api_admins_invite(struct api_ctx *c)
{
    int role = 0;
    int64_t *chats = NULL;
    size_t n = 0;
    if (!api_only_fields(c, c->body, NULL, "role", "channels", NULL) ||
        !body_role(c, &role, &chats, &n))
        return;
    json_t *channels = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(channels, json_integer(chats[i]));
    free(chats);
    int64_t expires = time(NULL) + INVITE_TTL;
    json_t *rec =
        json_pack("{s:s,s:o,s:I,s:s}", "role", admin_role_name(role), "channels", channels,
                  "expires_at", (json_int_t)expires, "by", c->session.admin_name);
    char *value = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    char token[33], digest[65], key[sizeof INVITE_KEY + 64];
    secret_random_hex(token, 16);
    secret_digest_hex(token, digest);
    snprintf(key, sizeof key, INVITE_KEY "%s", digest);
    struct dm_error err = {0};
    dm_err e = value ? store_setting_set(c->env->store, key, value, &err) : DM_ENOMEM;
    free(value);
    if (e) {
        secret_wipe(token, sizeof token);
        api_store_failed(c, e, &err);
        return;
    }
    char what[64];
    role_text(role, n, what, sizeof what);
    api_audit(c, "admin_invite", "ok", what);
    char link[512];
    snprintf(link, sizeof link, "%s/invite#token=%s", c->env->public_url, token);
    secret_wipe(token, sizeof token);
    http_res_json(c->res, 200,
                  json_pack("{s:s,s:s,s:I}", "link", link, "role", admin_role_name(role),
                            "expires_at", (json_int_t)expires));
    secret_wipe(link, sizeof link);
}

/* The admin the path names; false after answering 404. */
static bool path_admin(struct api_ctx *c, struct store_admin *a)
{
    struct dm_error err = {0};
    dm_err e = store_admin_get(c->env->store, c->path_arg, a, &err);
    if (e == DM_ENOTFOUND) {
        http_res_error(c->res, 404, "not_found", "No admin named '%s'.", c->path_arg);
        return false;
    }
    return e ? api_store_failed(c, e, &err) : true;
}

void api_admins_update(struct api_ctx *c)
{
    struct store_admin a;
    int role = 0;
    int64_t *chats = NULL;
    size_t n = 0;
    if (!api_only_fields(c, c->body, NULL, "role", "channels", NULL) || !path_admin(c, &a) ||
        !body_role(c, &role, &chats, &n))
        return;
    struct dm_error err = {0};
    dm_err e = store_admin_set_role(c->env->store, a.id, role, chats, n, &err);
    free(chats);
    if (e == DM_ECONFLICT) {
        http_res_error(c->res, 409, "conflict", "%s.", err.msg);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    char what[STORE_ERROR_MAX], role_is[64];
    role_text(role, n, role_is, sizeof role_is);
    snprintf(what, sizeof what, "%s is now %s (their sessions ended, API tokens revoked)", a.name,
             role_is);
    api_audit(c, "admin_role", "ok", what);
    if (!path_admin(c, &a)) return;
    json_t *one = admin_json(c, &a);
    if (one) http_res_json(c->res, 200, json_pack("{s:o}", "admin", one));
}

void api_admins_delete(struct api_ctx *c)
{
    struct store_admin a;
    if (!api_only_fields(c, c->body, NULL, NULL) || !path_admin(c, &a)) return;
    struct dm_error err = {0};
    dm_err e = store_admin_delete(c->env->store, a.id, &err);
    if (e == DM_ECONFLICT) {
        http_res_error(c->res, 409, "conflict", "%s.", err.msg);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    api_audit(c, "admin_remove", "ok", a.name);
    http_res_json(c->res, 200, json_object());
}

/* The settings key of token's invitation. */
static void invite_key(const char *token, char key[sizeof INVITE_KEY + 64])
{
    char digest[65];
    secret_digest_hex(token, digest);
    snprintf(key, sizeof INVITE_KEY + 64, INVITE_KEY "%s", digest);
}

/* The record of an invitation read (value; NULL when there was none) if it has not expired (the
 * caller decrefs it); else NULL after answering 404. */
static json_t *invite_valid(struct api_ctx *c, const char *value)
{
    json_t *rec = value ? json_loads(value, 0, NULL) : NULL;
    if (rec && json_integer_value(json_object_get(rec, "expires_at")) > time(NULL)) return rec;
    json_decref(rec);
    http_res_error(c->res, 404, "not_found",
                   "This invitation is not valid: it was used, it expired, or it was never made. "
                   "Ask an owner for a new one.");
    return NULL;
}

void api_invite_get(struct api_ctx *c)
{
    const char *token = http_query(c->req, "token");
    if (!token || strlen(token) > 128) {
        api_bad_request(c, "'token' is missing: open the invitation link as it was given.");
        return;
    }
    char key[sizeof INVITE_KEY + 64], *value = NULL;
    invite_key(token, key);
    struct dm_error err = {0};
    dm_err e = store_setting_get(c->env->store, key, &value, &err);
    if (e && e != DM_ENOTFOUND) {
        api_store_failed(c, e, &err);
        return;
    }
    json_t *rec = invite_valid(c, value);
    free(value);
    if (!rec) return;
    http_res_json(c->res, 200,
                  json_pack("{s:O,s:O,s:O}", "role", json_object_get(rec, "role"), "expires_at",
                            json_object_get(rec, "expires_at"), "by", json_object_get(rec, "by")));
    json_decref(rec);
}

/* Creates the admin an invitation record names; DM_EINVAL and DM_EEXISTS with a message for
 * people. */
static dm_err invite_admin(struct api_ctx *c, const json_t *rec, const char *name,
                           const char *password, struct dm_error *err)
{
    int role = admin_role_parse(json_string_value(json_object_get(rec, "role")));
    json_t *channels = json_object_get(rec, "channels");
    size_t n = json_array_size(channels);
    int64_t *chats = calloc(n + 1, sizeof *chats);
    if (!chats || role < 0) {
        free(chats);
        return dm_fail(err, DM_ENOMEM, "the invitation's record cannot be read");
    }
    for (size_t i = 0; i < n; i++)
        chats[i] = json_integer_value(json_array_get(channels, i));
    dm_err e = auth_admin_add(c->env->store, name, password, role, chats, n, err);
    free(chats);
    return e;
}

void api_invite_accept(struct api_ctx *c)
{
    const char *token = NULL, *name = NULL, *password = NULL;
    if (!api_only_fields(c, c->body, NULL, "token", "name", "password", NULL) ||
        !api_field_string(c, "token", true, 128, &token) ||
        !api_field_string(c, "name", true, 64, &name) ||
        !api_field_string(c, "password", true, 1024, &password))
        return;
    /* taken (deleted) first: of two accepting at once, one gets it; given back when the admin
     * cannot be made (a bad name or password: the invitee tries again) */
    char key[sizeof INVITE_KEY + 64], *value = NULL;
    invite_key(token, key);
    struct store *st = c->env->store;
    struct dm_error err = {0};
    dm_err e = store_setting_take(st, key, &value, &err);
    if (e && e != DM_ENOTFOUND) {
        api_store_failed(c, e, &err);
        return;
    }
    json_t *rec = invite_valid(c, value);
    if (!rec) {
        free(value);
        return;
    }
    char what[STORE_ERROR_MAX];
    dm_snprintf_utf8(what, sizeof what, "joined as %s, invited by %s",
                     json_string_value(json_object_get(rec, "role")),
                     json_string_value(json_object_get(rec, "by")));
    e = invite_admin(c, rec, name, password, &err);
    json_decref(rec);
    if (e) {
        struct dm_error back = {0};
        if (store_setting_set(st, key, value, &back))
            log_warn("auth", "could not keep an invitation after a failed accept: %s", back.msg);
    }
    free(value);
    if (e == DM_EINVAL) {
        api_bad_request(c, "%s", err.msg);
        return;
    }
    if (e == DM_EEXISTS) {
        http_res_error(c->res, 409, "conflict", "%s", err.msg);
        return;
    }
    struct store_admin admin;
    if (!e) e = store_admin_get(st, name, &admin, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    dm_strlcpy(c->session.admin_name, name, sizeof c->session.admin_name);
    api_audit(c, "admin_join", "ok", what);
    log_info("auth", "admin '%s' joined through an invitation", name);
    api_session_start(c, admin.id, name);
}
