/* tokens.c: API tokens for automation (docs/api.md, API tokens). An admin makes a token with a
 * role no higher than their own and channels within theirs; its value is shown once and kept
 * as its digest (core/secret.h); it is sent as "Authorization: Bearer <token>" (auth.c reads
 * it) and every request made with it is audited (router.c). Owners see and revoke every
 * admin's tokens; other admins their own. */
#include "core/common.h"
#include "api/api.h"

#include "core/secret.h"

#include <ctype.h>

#define TOKEN_PREFIX "dm_"
#define TOKEN_NAME_MAX 32
#define CHANNELS_MAX 1000

static json_t *token_json(struct api_ctx *c, const struct store_token *t)
{
    char scope[STORE_SCOPE_MAX] = "";
    if (t->role != ROLE_OWNER) store_scope_of("token", t->id, scope);
    json_t *channels = api_scope_json(c, scope);
    if (!channels) return NULL;
    return json_pack("{s:I,s:s,s:s,s:s,s:o,s:I,s:o}", "id", (json_int_t)t->id, "name", t->name,
                     "admin", t->admin_name, "role", admin_role_name(t->role), "channels", channels,
                     "created_at", (json_int_t)t->created_at, "last_used_at",
                     api_time_or_null(t->last_used_at));
}

/* Whose tokens c may see and revoke: 0 (everyone's) for owners. */
static int64_t whose(const struct api_ctx *c)
{
    return c->role == ROLE_OWNER ? 0 : c->session.admin_id;
}

void api_tokens_list(struct api_ctx *c)
{
    struct store_token *v = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    dm_err e = store_token_list(c->env->store, whose(c), &v, &n, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *one = token_json(c, &v[i]);
        if (!one) {
            json_decref(items);
            free(v);
            return;
        }
        json_array_append_new(items, one);
    }
    free(v);
    http_res_json(c->res, 200, json_pack("{s:o}", "items", items));
}

void api_tokens_create(struct api_ctx *c)
{
    const char *name = NULL, *role_name = NULL;
    if (!api_only_fields(c, c->body, NULL, "name", "role", "channels", NULL) ||
        !api_field_string(c, "name", true, TOKEN_NAME_MAX, &name) ||
        !api_field_string(c, "role", true, 16, &role_name))
        return;
    if (!*name ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
            strlen(name)) {
        api_bad_request(c, "'name' must be 1 to %d letters, digits, '_', '.' or '-'.",
                        TOKEN_NAME_MAX);
        return;
    }
    int role = admin_role_parse(role_name);
    if (role < 0) {
        api_bad_request(c, "'role' must be owner, decider or viewer.");
        return;
    }
    if (role > c->role) {
        http_res_error(c->res, 403, "forbidden",
                       "A token's role cannot be higher than yours (%s): it cannot be %s.",
                       admin_role_name(c->role), admin_role_name(role));
        return;
    }
    int64_t *chats = NULL;
    size_t n = 0;
    if (!api_body_channels(c, role, CHANNELS_MAX, &chats, &n)) return;
    if (role != ROLE_OWNER && n == 0) {
        free(chats);
        api_bad_request(c, "A %s token needs 'channels': the channel ids it may use.",
                        admin_role_name(role));
        return;
    }
    char secret[2 * 32 + 1], token[sizeof TOKEN_PREFIX + sizeof secret];
    secret_random_hex(secret, 32);
    snprintf(token, sizeof token, TOKEN_PREFIX "%s", secret);
    secret_wipe(secret, sizeof secret);
    struct store_token t = {
        .admin_id = c->session.admin_id, .role = role, .created_at = time(NULL)};
    dm_strlcpy(t.name, name, sizeof t.name);
    secret_digest_hex(token, t.token_hash);
    int64_t id = 0;
    struct dm_error err = {0};
    dm_err e = store_token_create(c->env->store, &t, chats, n, &id, &err);
    free(chats);
    if (e) {
        secret_wipe(token, sizeof token);
        if (e == DM_EEXISTS)
            http_res_error(c->res, 409, "conflict", "You already have a token named '%s'.", name);
        else
            api_store_failed(c, e, &err);
        return;
    }
    char what[STORE_ERROR_MAX];
    dm_snprintf_utf8(what, sizeof what, "token %s (%s)", name, admin_role_name(role));
    api_audit(c, "token_create", "ok", what);
    t.id = id;
    dm_strlcpy(t.admin_name, c->session.admin_name, sizeof t.admin_name);
    json_t *one = token_json(c, &t);
    if (one) {
        json_object_set_new(one, "token", json_string(token));
        http_res_json(c->res, 200, json_pack("{s:o}", "token", one));
    }
    secret_wipe(token, sizeof token);
}

void api_tokens_revoke(struct api_ctx *c)
{
    if (!api_only_fields(c, c->body, NULL, NULL)) return;
    char *end = NULL;
    long long id = strtoll(c->path_arg, &end, 10);
    if (*end || id <= 0) {
        http_res_error(c->res, 404, "not_found", "No API token with id %s.", c->path_arg);
        return;
    }
    struct dm_error err = {0};
    dm_err e = store_token_delete(c->env->store, id, whose(c), &err);
    if (e == DM_ENOTFOUND) {
        http_res_error(c->res, 404, "not_found", "No API token of yours with id %lld.", id);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    char what[64];
    snprintf(what, sizeof what, "token id %lld", id);
    api_audit(c, "token_revoke", "ok", what);
    http_res_json(c->res, 200, json_object());
}
