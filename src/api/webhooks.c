/* webhooks.c: outgoing webhooks and the alert settings (docs/api.md, Webhooks and alerts).
 * Owner-only routes (roles: settings): they say where doorman's events go. */
#include "core/common.h"
#include "api/api.h"

#include "alerts/alerts.h"

#define DELIVERIES_MAX 200

/* The {id} of the path; false after answering 404. */
static bool webhook_id(struct api_ctx *c, int64_t *id)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(c->path_arg, &end, 10);
    if (errno || *end || v <= 0 || strspn(c->path_arg, "0123456789") != strlen(c->path_arg)) {
        http_res_error(c->res, 404, "not_found", "No webhook with id '%s'.", c->path_arg);
        return false;
    }
    *id = v;
    return true;
}

static json_t *kinds_json(int64_t kinds)
{
    json_t *a = json_array();
    for (int k = 0; k < EV_COUNT; k++)
        if (kinds >> k & 1) json_array_append_new(a, json_string(event_kind_name(k)));
    return a;
}

static json_t *webhook_json(const struct store_webhook *w)
{
    return json_pack("{s:I,s:o,s:o,s:b,s:o,s:I,s:I,s:I}", "id", (json_int_t)w->id, "url",
                     api_text(w->url), "events", kinds_json(w->kinds), "enabled", w->enabled,
                     "created_by", api_text(w->created_by), "created_at", (json_int_t)w->created_at,
                     "updated_at", (json_int_t)w->updated_at, "pending", (json_int_t)w->pending);
}

/* Reads the body's url, events and enabled over w (each optional unless required). */
static bool webhook_fields(struct api_ctx *c, struct store_webhook *w, bool required)
{
    const char *url = NULL;
    if (!api_field_string(c, "url", required, STORE_URL_MAX - 1, &url)) return false;
    char why[128];
    if (url && !alerts_url_ok(url, why, sizeof why)) return api_bad_request(c, "%s.", why);
    if (url) dm_strlcpy(w->url, url, sizeof w->url);
    json_t *ev = json_object_get(c->body, "events");
    if (!ev && required) return api_bad_request(c, "'events' is required: a list of event kinds.");
    if (ev) {
        if (!json_is_array(ev) || json_array_size(ev) == 0)
            return api_bad_request(c, "'events' must be a non-empty list of event kinds.");
        w->kinds = 0;
        size_t i;
        json_t *k;
        json_array_foreach(ev, i, k)
        {
            int kind = json_is_string(k) ? event_kind_parse(json_string_value(k)) : -1;
            if (kind < 0 || kind == EV_TEST)
                return api_bad_request(c,
                                       "events[%zu] is not an event kind (request.new, "
                                       "request.decided, job.finished, job.failed, "
                                       "session.invalid, flood_wait, wave.caught, backlog.over, "
                                       "summary.daily).",
                                       i);
            w->kinds |= (int64_t)1 << kind;
        }
    }
    json_t *en = json_object_get(c->body, "enabled");
    if (en && !json_is_boolean(en)) return api_bad_request(c, "'enabled' must be true or false.");
    if (en) w->enabled = json_is_true(en);
    return true;
}

static void audit(struct api_ctx *c, const char *action, int64_t id)
{
    struct store_audit a = {.at = time(NULL)};
    dm_strlcpy(a.admin, c->session.admin_name, sizeof a.admin);
    dm_strlcpy(a.action, action, sizeof a.action);
    dm_strlcpy(a.result, "ok", sizeof a.result);
    snprintf(a.detail, sizeof a.detail, "webhook %" PRId64, id);
    store_audit_add(c->env->store, &a, NULL);
}

void api_webhooks_list(struct api_ctx *c)
{
    struct store_webhook *all = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    dm_err e = store_webhook_list(c->env->store, &all, &n, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array(), *kinds = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, webhook_json(&all[i]));
    for (int k = 0; k < EV_COUNT; k++)
        if (k != EV_TEST) json_array_append_new(kinds, json_string(event_kind_name(k)));
    free(all);
    http_res_json(c->res, 200, json_pack("{s:o,s:o}", "items", items, "events", kinds));
}

/* Answers {"webhook":…, "secret": plain} for the webhook just written. */
static void answer_with_secret(struct api_ctx *c, int status, int64_t id, const char *secret)
{
    struct store_webhook w;
    struct dm_error err = {0};
    dm_err e = store_webhook_get(c->env->store, id, &w, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    json_t *o = json_pack("{s:o}", "webhook", webhook_json(&w));
    if (secret) json_object_set_new(o, "secret", json_string(secret));
    http_res_json(c->res, status, o);
}

void api_webhooks_create(struct api_ctx *c)
{
    struct store_webhook w = {.enabled = true, .created_at = time(NULL)};
    if (!api_only_fields(c, c->body, NULL, "url", "events", "enabled", NULL) ||
        !webhook_fields(c, &w, true))
        return;
    struct store_webhook *all = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    dm_err e = store_webhook_list(c->env->store, &all, &n, &err);
    free(all);
    if (!e && n >= STORE_WEBHOOKS_MAX) {
        http_res_error(c->res, 409, "too_many",
                       "There are %d webhooks already, the most doorman keeps; remove one first.",
                       STORE_WEBHOOKS_MAX);
        return;
    }
    char secret[65], *sealed = NULL;
    if (!e) e = alerts_secret_new(c->env->alerts, secret, &sealed, &err);
    if (!e) dm_strlcpy(w.secret_sealed, sealed, sizeof w.secret_sealed);
    free(sealed);
    dm_strlcpy(w.created_by, c->session.admin_name, sizeof w.created_by);
    w.updated_at = w.created_at;
    int64_t id = 0;
    if (!e) e = store_webhook_add(c->env->store, &w, &id, &err);
    if (e) {
        secret_wipe(secret, sizeof secret);
        api_store_failed(c, e, &err);
        return;
    }
    alerts_changed(c->env->alerts);
    audit(c, "webhook_add", id);
    answer_with_secret(c, 201, id, secret);
    secret_wipe(secret, sizeof secret);
}

void api_webhooks_update(struct api_ctx *c)
{
    int64_t id;
    if (!webhook_id(c, &id) ||
        !api_only_fields(c, c->body, NULL, "url", "events", "enabled", "new_secret", NULL))
        return;
    struct store_webhook w;
    struct dm_error err = {0};
    dm_err e = store_webhook_get(c->env->store, id, &w, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    if (!webhook_fields(c, &w, false)) return;
    json_t *ns = json_object_get(c->body, "new_secret");
    if (ns && !json_is_boolean(ns)) {
        api_bad_request(c, "'new_secret' must be true or false.");
        return;
    }
    char secret[65] = "", *sealed = NULL;
    w.secret_sealed[0] = 0; /* kept unless a new one is asked for */
    if (json_is_true(ns)) {
        e = alerts_secret_new(c->env->alerts, secret, &sealed, &err);
        if (!e) dm_strlcpy(w.secret_sealed, sealed, sizeof w.secret_sealed);
        free(sealed);
    }
    w.updated_at = time(NULL);
    if (!e) e = store_webhook_update(c->env->store, &w, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    alerts_changed(c->env->alerts);
    audit(c, "webhook_update", id);
    answer_with_secret(c, 200, id, secret[0] ? secret : NULL);
    secret_wipe(secret, sizeof secret);
}

void api_webhooks_delete(struct api_ctx *c)
{
    int64_t id;
    if (!webhook_id(c, &id) || !api_only_fields(c, c->body, NULL, NULL)) return;
    struct dm_error err = {0};
    dm_err e = store_webhook_delete(c->env->store, id, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    alerts_changed(c->env->alerts);
    audit(c, "webhook_delete", id);
    http_res_json(c->res, 200, json_pack("{s:b}", "deleted", 1));
}

void api_webhooks_test(struct api_ctx *c)
{
    int64_t id, delivery = 0;
    if (!webhook_id(c, &id) || !api_only_fields(c, c->body, NULL, NULL)) return;
    struct store_webhook w;
    struct dm_error err = {0};
    dm_err e = store_webhook_get(c->env->store, id, &w, &err);
    if (!e && !w.enabled) {
        http_res_error(c->res, 409, "conflict",
                       "Webhook %" PRId64 " is turned off; turn it on first.", id);
        return;
    }
    if (!e) e = alerts_test(c->env->alerts, &w, c->session.admin_name, &delivery, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    http_res_json(c->res, 202, json_pack("{s:I}", "delivery_id", (json_int_t)delivery));
}

void api_webhooks_deliveries(struct api_ctx *c)
{
    int64_t id, before = 0;
    int limit;
    if (!webhook_id(c, &id) || !api_query_page(c, &limit, &before)) return;
    limit = DM_MIN(limit, DELIVERIES_MAX);
    struct store_webhook w;
    struct dm_error err = {0};
    struct store_delivery *d = calloc((size_t)limit, sizeof *d);
    int n = 0;
    dm_err e = d ? store_webhook_get(c->env->store, id, &w, &err) : DM_ENOMEM;
    if (!e) e = store_delivery_list(c->env->store, id, before, limit, d, &n, &err);
    if (e) {
        free(d);
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(
            items, json_pack("{s:I,s:I,s:s,s:s,s:i,s:o,s:o,s:o,s:I,s:I}", "id", (json_int_t)d[i].id,
                             "event_id", (json_int_t)d[i].event_id, "event",
                             event_kind_name(d[i].kind), "state", delivery_state_name(d[i].state),
                             "attempts", d[i].attempts, "http_status",
                             d[i].http_status ? json_integer(d[i].http_status) : json_null(),
                             "error", api_text(d[i].error), "next_at",
                             api_time_or_null(d[i].state == DELIVERY_PENDING ? d[i].next_at : 0),
                             "created_at", (json_int_t)d[i].created_at, "updated_at",
                             (json_int_t)d[i].updated_at));
    json_t *next = n == limit ? json_integer(d[n - 1].id) : json_null();
    free(d);
    http_res_json(c->res, 200, json_pack("{s:o,s:o}", "items", items, "next_before", next));
}

void api_alerts_get(struct api_ctx *c)
{
    struct alert_settings s;
    struct dm_error err = {0};
    dm_err e = alert_settings_get(c->env->store, &s, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    http_res_json(c->res, 200, alert_settings_json(&s));
}

void api_alerts_set(struct api_ctx *c)
{
    struct alert_settings s;
    struct dm_error err = {0};
    dm_err e = alert_settings_get(c->env->store, &s, &err);
    if (!e) e = alert_settings_set(c->env->store, c->body, &s, &err);
    if (e == DM_EINVAL) {
        api_bad_request(c, "%s.", err.msg);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    alerts_changed(c->env->alerts);
    audit(c, "alerts", 0);
    http_res_json(c->res, 200, alert_settings_json(&s));
}
