#include "core/common.h"
#include "api/api.h"
#include "core/date.h"
#include "core/log.h"
#include "jobs/runner.h"
#include "jobs/via.h"
#include "telegram/account.h"

bool api_bad_request(struct api_ctx *c, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    dm_vsnprintf_utf8(msg, sizeof msg, fmt, ap);
    va_end(ap);
    http_res_error(c->res, 400, "bad_request", "%s", msg);
    return false;
}

bool api_store_failed(struct api_ctx *c, dm_err e, const struct dm_error *err)
{
    const char *msg = err && err->msg[0] ? err->msg : dm_strerror(e);
    switch (e) {
    case DM_ENOTFOUND:
        http_res_error(c->res, 404, "not_found", "%s", msg);
        break;
    case DM_EEXISTS:
    case DM_ECONFLICT:
        http_res_error(c->res, 409, "conflict", "%s", msg);
        break;
    case DM_EUNAVAILABLE:
        http_res_error(c->res, 503, "unavailable",
                       "The database is unavailable; try again shortly.");
        break;
    default:
        log_error("api", "%s %s: %s", c->req->method, c->req->path, msg);
        http_res_error(c->res, 500, "internal",
                       "Something went wrong on the server; it was logged.");
    }
    return false;
}

bool api_only_fields(struct api_ctx *c, const json_t *obj, const char *where, ...)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        char known[300] = "";
        size_t len = 0;
        bool found = false;
        va_list ap;
        va_start(ap, where);
        for (const char *k; !found && (k = va_arg(ap, const char *));) {
            found = strcmp(k, key) == 0;
            len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", len ? ", " : "", k);
        }
        va_end(ap);
        if (found) continue;
        if (!len)
            return api_bad_request(c, "Unknown field '%s%s%s': %s takes none.", where ? where : "",
                                   where ? "." : "", key, where ? where : "this request");
        return api_bad_request(c, "Unknown field '%s%s%s': %s takes %s.", where ? where : "",
                               where ? "." : "", key, where ? where : "this request", known);
    }
    return true;
}

bool api_field_string(struct api_ctx *c, const char *key, bool required, size_t max_len,
                      const char **out)
{
    json_t *v = json_object_get(c->body, key);
    if (!v || json_is_null(v)) {
        if (required) return api_bad_request(c, "'%s' is required.", key);
        return true;
    }
    if (!json_is_string(v)) return api_bad_request(c, "'%s' must be a string.", key);
    if (json_string_length(v) > max_len)
        return api_bad_request(c, "'%s' is too long (at most %zu bytes).", key, max_len);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return api_bad_request(c, "'%s' must not contain NUL characters.", key);
    *out = json_string_value(v);
    return true;
}

bool api_field_int(struct api_ctx *c, const char *key, bool required, int64_t *out)
{
    json_t *v = json_object_get(c->body, key);
    if (!v || json_is_null(v)) {
        if (required) return api_bad_request(c, "'%s' is required.", key);
        return true;
    }
    if (!json_is_integer(v)) return api_bad_request(c, "'%s' must be an integer.", key);
    *out = json_integer_value(v);
    return true;
}

bool api_field_time(struct api_ctx *c, json_t *obj, const char *key, bool end_of_day, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return true;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_string(v) && date_parse(json_string_value(v), end_of_day, out)) return true;
    return api_bad_request(c, "'%s' must be Unix seconds or a date like 2026-01-31.", key);
}

bool api_query_int(struct api_ctx *c, const char *key, int64_t min, int64_t max, int64_t *out)
{
    const char *s = http_query(c->req, key);
    if (!s || !*s) return true;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return api_bad_request(c, "'%s' must be an integer from %" PRId64 " to %" PRId64 ".", key,
                               min, max);
    *out = v;
    return true;
}

bool api_query_time(struct api_ctx *c, const char *key, bool end_of_day, int64_t *out)
{
    const char *s = http_query(c->req, key);
    if (!s || !*s) return true;
    if (!date_parse(s, end_of_day, out))
        return api_bad_request(c, "'%s' must be Unix seconds or a date like 2026-01-31.", key);
    return true;
}

bool api_query_page(struct api_ctx *c, int *limit, int64_t *before)
{
    int64_t l = 50, b = 0;
    if (!api_query_int(c, "limit", 1, 500, &l) || !api_query_int(c, "before", 1, INT64_MAX, &b))
        return false;
    *limit = (int)l;
    *before = b;
    return true;
}

void api_list_page(struct api_ctx *c, size_t size, api_rows_fn rows, api_row_json_fn json)
{
    int limit;
    int64_t before;
    if (!api_query_page(c, &limit, &before)) return;
    char *v = calloc((size_t)limit, size);
    if (!v) {
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    int n = 0;
    struct dm_error err = {0};
    dm_err e = rows(c, before, limit, v, &n, &err);
    if (e) {
        free(v);
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array();
    int64_t last = 0;
    for (int i = 0; i < n; i++)
        json_array_append_new(items, json(v + (size_t)i * size, &last));
    json_t *next = n == limit ? json_integer(last) : json_null();
    free(v);
    http_res_json(c->res, 200, json_pack("{s:o,s:o}", "items", items, "next_before", next));
}

json_t *api_time_or_null(int64_t t)
{
    return t ? json_integer(t) : json_null();
}

json_t *api_text(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    size_t n = strlen(s) * 3 + 1; /* each bad byte may become the three of U+FFFD */
    char *fixed = malloc(n);
    if (!fixed) return NULL;
    dm_utf8_copy(fixed, n, s);
    j = json_string(fixed);
    free(fixed);
    return j;
}

json_t *api_job_json(const struct store_job *j)
{
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}", "id",
                     (json_int_t)j->id, "kind", job_kind_name(j->kind), "state",
                     job_state_name(j->state), "via", j->via, "admin", j->admin, "description",
                     api_text(j->description), "total", (json_int_t)j->total, "done",
                     (json_int_t)j->done, "skipped", (json_int_t)j->skipped, "failed",
                     (json_int_t)j->failed, "created_at", (json_int_t)j->created_at, "updated_at",
                     (json_int_t)j->updated_at, "finished_at", api_time_or_null(j->finished_at),
                     "wait_until", api_time_or_null(j->wait_until > time(NULL) ? j->wait_until : 0),
                     "error", api_text(j->error));
}

struct account *api_body_account(struct api_ctx *c, bool active)
{
    json_t *v = json_object_get(c->body, "session_name");
    if (v && !json_is_null(v) &&
        (!json_is_string(v) || json_string_length(v) == 0 ||
         json_string_length(v) >= STORE_NAME_MAX)) {
        api_bad_request(c, "'session_name' must be null (the bot) or a session's name.");
        return NULL;
    }
    struct account *a = NULL;
    struct dm_error err = {0};
    dm_err e = account_open_chosen(c->env->accounts, json_string_value(v), &a, &err);
    if (!e) e = account_usable(a, &err);
    if (e == DM_EUNAVAILABLE || (e == DM_EAUTH && !active)) e = DM_OK; /* it may work later */
    if (e == DM_ENOTFOUND || e == DM_EAUTH)
        api_bad_request(c, "%s", err.msg);
    else if (e)
        api_store_failed(c, e, &err);
    if (!e) return a;
    account_close(a);
    return NULL;
}

/* Checks that the session `name` exists and is active, for api_body_via's list; false after
 * answering 400 naming it and why. */
static bool listed_session_usable(struct api_ctx *c, size_t i, const json_t *v)
{
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) >= STORE_NAME_MAX || strcmp(json_string_value(v), ACCOUNT_BOT) == 0)
        return api_bad_request(c, "'session_name' item %zu must be a session's name.", i);
    struct account *a = NULL;
    struct dm_error err = {0};
    dm_err e = account_open_chosen(c->env->accounts, json_string_value(v), &a, &err);
    if (!e) e = account_usable(a, &err);
    account_close(a);
    if (e == DM_ENOTFOUND || e == DM_EAUTH) return api_bad_request(c, "%s", err.msg);
    return e && e != DM_EUNAVAILABLE ? api_store_failed(c, e, &err) : true;
}

bool api_body_via(struct api_ctx *c, char *via, size_t size, struct account **one)
{
    *one = NULL;
    json_t *v = json_object_get(c->body, "session_name");
    json_t *only = json_is_array(v) && json_array_size(v) == 1 ? json_array_get(v, 0) : NULL;
    if (only && json_is_string(only) && strcmp(json_string_value(only), VIA_ANY_SESSION) != 0) {
        if (!listed_session_usable(c, 0, only)) return false;
        dm_strlcpy(via, json_string_value(only), size);
        struct dm_error err = {0};
        dm_err e = account_open_chosen(c->env->accounts, via, one, &err);
        return e ? api_store_failed(c, e, &err) : true;
    }
    if (json_is_string(v) && strcmp(json_string_value(v), VIA_ANY_SESSION) == 0) {
        struct via_names names;
        struct dm_error err = {0};
        dm_err e = via_names(c->env->store, VIA_ANY_SESSION, &names, &err);
        if (e == DM_ENOTFOUND) return api_bad_request(c, "%s.", err.msg);
        if (e) return api_store_failed(c, e, &err);
        dm_strlcpy(via, VIA_ANY_SESSION, size);
        return true;
    }
    if (!json_is_array(v)) {
        *one = api_body_account(c, true);
        if (*one) dm_strlcpy(via, account_name(*one), size);
        return *one != NULL;
    }
    size_t n = json_array_size(v);
    if (n == 0 || n > VIA_MAX)
        return api_bad_request(c, "'session_name' must list 1 to %d sessions' names.", VIA_MAX);
    const char *names[VIA_MAX];
    for (size_t i = 0; i < n; i++) {
        if (!listed_session_usable(c, i, json_array_get(v, i))) return false;
        names[i] = json_string_value(json_array_get(v, i));
    }
    struct dm_error err = {0};
    if (via_join(names, n, via, size, &err))
        return api_bad_request(c, "'session_name': %s.", err.msg);
    return true;
}

bool api_body_ids(struct api_ctx *c, size_t max, int64_t **out, size_t *n)
{
    *out = NULL;
    json_t *ids = json_object_get(c->body, "request_ids");
    if (!json_is_array(ids))
        return api_bad_request(c, "'request_ids' must be an array of request ids.");
    *n = json_array_size(ids);
    if (*n == 0 || *n > max)
        return api_bad_request(c, "'request_ids' must hold 1 to %zu ids.", max);
    int64_t *v = malloc(*n * sizeof *v);
    if (!v) return api_store_failed(c, DM_ENOMEM, NULL);
    for (size_t i = 0; i < *n; i++) {
        json_t *x = json_array_get(ids, i);
        if (!json_is_integer(x) || json_integer_value(x) <= 0) {
            free(v);
            return api_bad_request(
                c, "'request_ids' must hold positive integers (item %zu does not).", i);
        }
        v[i] = json_integer_value(x);
    }
    *out = v;
    return true;
}

void api_job_started(struct api_ctx *c, int64_t id)
{
    struct store_job job;
    struct dm_error err = {0};
    dm_err e = store_job_get(c->env->store, id, &job, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    job_runner_wake(c->env->jobs);
    http_res_json(c->res, 202, json_pack("{s:o}", "job", api_job_json(&job)));
}

/* ---- channel scope (roles) ---- */

bool api_scope_read(struct api_ctx *c, struct api_scope *sc)
{
    *sc = (struct api_scope){.all = !c->scope[0]};
    if (sc->all) return true;
    struct dm_error err = {0};
    dm_err e = store_grants(c->env->store, c->scope, &sc->chats, &sc->n, &err);
    return e ? api_store_failed(c, e, &err) : true;
}

bool api_scope_has(const struct api_scope *sc, int64_t chat_id)
{
    for (size_t i = 0; i < sc->n && !sc->all; i++)
        if (sc->chats[i] == chat_id) return true;
    return sc->all;
}

void api_scope_release(struct api_scope *sc)
{
    free(sc->chats);
    *sc = (struct api_scope){0};
}

bool api_channel_allowed(struct api_ctx *c, int64_t chat_id)
{
    struct api_scope sc;
    if (!api_scope_read(c, &sc)) return false;
    bool has = api_scope_has(&sc, chat_id);
    api_scope_release(&sc);
    if (!has)
        http_res_error(c->res, 403, "forbidden",
                       "This needs channel %" PRId64 ", which is not among the channels %s.",
                       chat_id, c->token_id ? "of this token" : "assigned to you");
    return has;
}

bool api_chats_in_scope(struct api_ctx *c, struct store_chat *chats, size_t *n)
{
    struct api_scope sc;
    if (!api_scope_read(c, &sc)) return false;
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++)
        if (api_scope_has(&sc, chats[i].chat_id)) chats[kept++] = chats[i];
    *n = kept;
    api_scope_release(&sc);
    return true;
}

bool api_requests_allowed(struct api_ctx *c, const int64_t *ids, size_t n)
{
    if (!c->scope[0]) return true;
    int64_t first = 0;
    bool found = false;
    struct dm_error err = {0};
    dm_err e = store_requests_outside(c->env->store, ids, n, c->scope, &first, &found, &err);
    if (e) return api_store_failed(c, e, &err);
    if (found)
        http_res_error(c->res, 403, "forbidden",
                       "Request %" PRId64 " is in a channel that is not among the channels %s.",
                       first, c->token_id ? "of this token" : "assigned to you");
    return !found;
}

bool api_body_channels(struct api_ctx *c, int role, size_t max, int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    json_t *v = json_object_get(c->body, "channels");
    if (role == ROLE_OWNER || !v || json_is_null(v)) return true;
    if (!json_is_array(v) || json_array_size(v) > max)
        return api_bad_request(c, "'channels' must be a list of at most %zu channel ids.", max);
    *out = calloc(json_array_size(v) + 1, sizeof **out);
    if (!*out) return api_store_failed(c, DM_ENOMEM, NULL);
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_integer(x) || json_integer_value(x) == 0) {
            free(*out);
            *out = NULL;
            return api_bad_request(c, "'channels' must hold channel ids (integers).");
        }
        (*out)[i] = json_integer_value(x);
        if (!api_channel_allowed(c, (*out)[i])) {
            free(*out);
            *out = NULL;
            return false;
        }
    }
    *n = json_array_size(v);
    return true;
}

json_t *api_scope_json(struct api_ctx *c, const char *scope)
{
    if (!scope[0]) return json_null();
    int64_t *chats = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    dm_err e = store_grants(c->env->store, scope, &chats, &n, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return NULL;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer(chats[i]));
    free(chats);
    return a;
}
