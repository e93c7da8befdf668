/* observability.c: GET /healthz, /readyz and /metrics (docs/operations.md, Health and metrics),
 * and the recent warnings and errors (GET /api/logs). The first three need no login; /healthz
 * and /readyz say nothing secret and answer any Host, /metrics takes the metrics token or an
 * allowed address. */
#include "core/common.h"
#include "api/api.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/secret.h"
#include "http/host.h"
#include "telegram/bot.h"

#define METRICS_TOKEN_SETTING "metrics_token_digest"
#define METRICS_TEXT_MAX (16u << 20) /* the body of /metrics at most */
#define METRICS_CHANNEL_ROWS 30000   /* (channel, status) totals: 10,000 channels */
#define METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

void api_healthz(struct api_ctx *c)
{
    http_res_json(c->res, 200, json_pack("{s:s}", "status", "ok"));
}

/* One check of /readyz: adds {"ok": ok, "message": …} under name, and the name to not_ready
 * when it failed. */
static void check(json_t *checks, json_t *not_ready, const char *name, bool ok, const char *msg)
{
    json_object_set_new(checks, name, json_pack("{s:b,s:s}", "ok", ok, "message", msg));
    if (!ok) json_array_append_new(not_ready, json_string(name));
}

void api_readyz(struct api_ctx *c)
{
    json_t *checks = json_object(), *not_ready = json_array();
    bool db = store_ping(c->env->store, NULL) == DM_OK;
    check(checks, not_ready, "database", db,
          db ? "the database answers" : "the database does not answer");

    struct bot_status st;
    bot_get_status(c->env->bot, &st);
    if (!st.configured) { /* the panel serves its setup; there is nothing to receive yet */
        check(checks, not_ready, "telegram", true, "the bot is not configured yet");
        check(checks, not_ready, "poller", true, "the bot is not configured yet");
    } else {
        check(checks, not_ready, "telegram", st.receiving,
              st.receiving ? "the Bot API answered the last call"
                           : "the Bot API did not answer the last call (see Settings)");
        bool held = false;
        if (st.mode == BOT_WEBHOOK)
            check(checks, not_ready, "poller", true, "webhook mode: nobody polls");
        else if (db && store_lease_held(c->env->store, BOT_POLLER_LEASE, (int64_t)time(NULL), &held,
                                        NULL) == DM_OK)
            check(checks, not_ready, "poller", held,
                  held ? "a doorman instance polls for updates"
                       : "no doorman instance polls for updates");
        else
            check(checks, not_ready, "poller", false, "the poller's lease cannot be read");
    }
    size_t n = json_array_size(not_ready);
    json_t *body =
        json_pack("{s:b,s:o,s:o}", "ready", n == 0, "checks", checks, "not_ready", not_ready);
    if (n && body) {
        char msg[160] = "Not ready:";
        for (size_t i = 0; i < n; i++)
            dm_snprintf_utf8(msg + strlen(msg), sizeof msg - strlen(msg), "%s %s", i ? "," : "",
                             json_string_value(json_array_get(not_ready, i)));
        json_object_set_new(body, "error",
                            json_pack("{s:s,s:s}", "code", "not_ready", "message", msg));
    }
    http_res_json(c->res, n ? 503 : 200, body);
}

/* Whether the request may read /metrics: a matching bearer token, or (without an Authorization
 * header) an address of DOORMAN_METRICS_ALLOW. false after answering 401, 403 or 503. */
static bool metrics_allowed(struct api_ctx *c)
{
    const char *auth = http_header(c->req, "Authorization");
    if (!auth) {
        if (http_ip_in_list(c->env->metrics_allow, c->req->client_ip)) return true;
        http_res_error(c->res, 403, "forbidden",
                       "Metrics are read from the addresses DOORMAN_METRICS_ALLOW names, or with "
                       "'Authorization: Bearer <metrics token>' (set in Settings).");
        return false;
    }
    char *want = NULL;
    struct dm_error err = {0};
    dm_err e = store_setting_get(c->env->store, METRICS_TOKEN_SETTING, &want, &err);
    if (e && e != DM_ENOTFOUND) return api_store_failed(c, e, &err);
    char got[65] = "";
    bool ok = false;
    if (want && strncasecmp(auth, "Bearer ", 7) == 0 && strlen(auth + 7) <= 256) {
        secret_digest_hex(auth + 7, got);
        ok = secret_equal(got, want);
    }
    free(want);
    if (ok) return true;
    http_res_header(c->res, "WWW-Authenticate", "Bearer");
    http_res_error(c->res, 401, "unauthorized",
                   e == DM_ENOTFOUND ? "No metrics token is set: an admin sets one in Settings."
                                     : "Wrong metrics token.");
    return false;
}

/* The families read from the store; a store that does not answer leaves them out and
 * doorman_database_up says so. */
static dm_err write_store_families(struct api_ctx *c, struct buf *out)
{
    struct store_request_total *t = NULL;
    size_t n = 0;
    int64_t queued = 0, running = 0;
    bool up = store_request_totals(c->env->store, METRICS_CHANNEL_ROWS, &t, &n, NULL) == DM_OK &&
              store_job_queue(c->env->store, &queued, &running, NULL) == DM_OK;
    dm_err e = metrics_family(out, "doorman_database_up", "gauge",
                              "1 when the database answered this scrape, else 0.");
    if (!e) e = buf_printf(out, "doorman_database_up %d\n", up);
    if (up) {
        if (!e)
            e = metrics_family(out, "doorman_join_requests", "gauge",
                               "Join requests recorded, by channel and status.");
        for (size_t i = 0; !e && i < n; i++)
            e = buf_printf(
                out, "doorman_join_requests{chat_id=\"%" PRId64 "\",status=\"%s\"} %" PRId64 "\n",
                t[i].chat_id, request_status_name(t[i].status), t[i].n);
        if (!e) e = metrics_family(out, "doorman_jobs", "gauge", "Jobs queued and running.");
        if (!e)
            e = buf_printf(out,
                           "doorman_jobs{state=\"queued\"} %" PRId64 "\n"
                           "doorman_jobs{state=\"running\"} %" PRId64 "\n",
                           queued, running);
    }
    free(t);
    return e;
}

void api_metrics(struct api_ctx *c)
{
    if (!metrics_allowed(c)) return;
    struct buf out;
    buf_init(&out, METRICS_TEXT_MAX);
    dm_err e = write_store_families(c, &out);
    if (!e) e = metrics_write(&out);
    if (e) {
        buf_release(&out);
        http_res_error(c->res, 500, "internal", "The metrics did not fit in %u bytes.",
                       METRICS_TEXT_MAX);
        return;
    }
    size_t len = 0;
    char *body = buf_detach(&out, &len);
    http_res_take(c->res, 200, METRICS_CTYPE, body, len);
}

dm_err api_metrics_token_set(struct store *st, const char *token, struct dm_error *err)
{
    if (!token[0]) {
        dm_err e = store_setting_delete(st, METRICS_TOKEN_SETTING, err);
        return e == DM_ENOTFOUND ? DM_OK : e;
    }
    char digest[65];
    secret_digest_hex(token, digest);
    return store_setting_set(st, METRICS_TOKEN_SETTING, digest, err);
}

bool api_metrics_token_is_set(struct store *st)
{
    char *v = NULL;
    bool set = store_setting_get(st, METRICS_TOKEN_SETTING, &v, NULL) == DM_OK;
    free(v);
    return set;
}

void api_logs_list(struct api_ctx *c)
{
    struct log_entry *e = malloc(LOG_RECENT_MAX * sizeof *e);
    if (!e) {
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    size_t n = log_recent(e, LOG_RECENT_MAX);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            items, json_pack("{s:I,s:I,s:s,s:o,s:o}", "at", (json_int_t)(e[i].at_ms / 1000),
                             "at_ms", (json_int_t)e[i].at_ms, "level", log_level_name(e[i].level),
                             "component", api_text(e[i].component), "message", api_text(e[i].msg)));
    free(e);
    http_res_json(c->res, 200, json_pack("{s:o,s:n}", "items", items, "next_before"));
}
