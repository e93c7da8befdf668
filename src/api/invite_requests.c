/* invite_requests.c: listing join requests and starting decisions on them. */
#include "core/common.h"
#include "api/api.h"
#include "app.h"
#include "botapi/bot.h"
#include "jobs/runner.h"

#define MAX_IDS 10000

static json_t *request_json(const struct store_request *r)
{
    json_t *j = json_pack("{s:I,s:I,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:I}", "id", (json_int_t)r->id,
                          "chat_id", (json_int_t)r->chat_id, "chat_title", r->chat_title,
                          "user_id", (json_int_t)r->user_id, "first_name", r->first_name,
                          "last_name", r->last_name, "username", r->username, "bio", r->bio,
                          "invite_link", r->invite_link, "date", (json_int_t)r->tg_date, "status",
                          request_status_name(r->status), "created_at", (json_int_t)r->created_at);
    json_object_set_new(j, "decided_at", api_time_or_null(r->decided_at));
    json_object_set_new(j, "decided_by", json_string(r->decided_by));
    json_object_set_new(j, "decided_via", json_string(r->decided_via));
    json_object_set_new(j, "last_error", json_string(r->last_error));
    return j;
}

static json_t *counts_json(const int64_t counts[REQ_STATUS_COUNT])
{
    int64_t total = 0;
    json_t *j = json_object();
    for (int s = 0; s < REQ_STATUS_COUNT; s++) {
        json_object_set_new(j, request_status_name(s), json_integer(counts[s]));
        total += counts[s];
    }
    json_object_set_new(j, "total", json_integer(total));
    return j;
}

/* Query string → filter. */
static bool query_filter(struct api_ctx *c, struct store_request_filter *f)
{
    memset(f, 0, sizeof *f);
    f->status = -1;
    const char *status = http_query(c->req, "status");
    if (status && *status && strcmp(status, "all") != 0) {
        f->status = request_status_parse(status);
        if (f->status < 0)
            return api_bad_request(c, "'status' must be pending, approved, declined or all.");
    }
    const char *q = http_query(c->req, "q");
    if (q && dm_strlcpy(f->q, q, sizeof f->q) >= sizeof f->q)
        return api_bad_request(c, "'q' is too long (at most %zu bytes).", sizeof f->q - 1);
    return api_query_int(c, "chat_id", INT64_MIN, INT64_MAX, &f->chat_id) &&
           api_query_time(c, "from", false, &f->date_from) &&
           api_query_time(c, "to", true, &f->date_to);
}

void api_requests_list(struct api_ctx *c)
{
    struct store_request_filter f;
    int limit;
    int64_t before;
    if (!query_filter(c, &f) || !api_query_page(c, &limit, &before)) return;
    struct store_request *rows = calloc((size_t)limit, sizeof *rows);
    if (!rows) {
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    struct store *st = c->app->store;
    int n = 0;
    int64_t counts[REQ_STATUS_COUNT] = {0};
    struct dm_error err = {0};
    dm_err e = st->ops->request_list(st, &f, before, limit, rows, &n, &err);
    if (!e) e = st->ops->request_counts(st, &f, counts, &err);
    if (e) {
        free(rows);
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(items, request_json(&rows[i]));
    json_t *next = n == limit ? json_integer(rows[n - 1].id) : json_null();
    free(rows);
    http_res_json(c->res, 200, json_pack("{s:o,s:o,s:o}", "items", items, "next_before", next,
                                         "counts", counts_json(counts)));
}

void api_chats_list(struct api_ctx *c)
{
    struct store_chat *chats = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    dm_err e = c->app->store->ops->chat_list(c->app->store, &chats, &n, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!chats[i].title[0]) /* known only by id (no update carried its title): getChat, cached */
            bot_chat_title(c->app->bot, chats[i].chat_id, chats[i].title, sizeof chats[i].title);
        json_array_append_new(items, json_pack("{s:I,s:s,s:s}", "chat_id",
                                               (json_int_t)chats[i].chat_id, "title",
                                               chats[i].title, "username", chats[i].username));
    }
    free(chats);
    http_res_json(c->res, 200, json_pack("{s:o}", "items", items));
}

/* Answers 202 with the new job, after waking the runner. */
static void answer_job(struct api_ctx *c, int64_t id)
{
    struct store_job job;
    struct dm_error err = {0};
    dm_err e = c->app->store->ops->job_get(c->app->store, id, &job, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    job_runner_wake(c->app->jobs);
    http_res_json(c->res, 202, json_pack("{s:o}", "job", api_job_json(&job)));
}

static void job_base(struct api_ctx *c, int kind, struct store_job *job)
{
    memset(job, 0, sizeof *job);
    job->kind = kind;
    dm_strlcpy(job->via, "bot", sizeof job->via);
    dm_strlcpy(job->admin, c->session.admin_name, sizeof job->admin);
}

static void decide_selected(struct api_ctx *c, int kind)
{
    json_t *ids = json_object_get(c->body, "request_ids");
    if (!json_is_array(ids)) {
        api_bad_request(c, "'request_ids' must be an array of request ids.");
        return;
    }
    size_t n = json_array_size(ids);
    if (n == 0 || n > MAX_IDS) {
        api_bad_request(c, "'request_ids' must hold 1 to %d ids.", MAX_IDS);
        return;
    }
    int64_t *v = malloc(n * sizeof *v);
    if (!v) {
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(ids, i);
        if (!json_is_integer(x) || json_integer_value(x) <= 0) {
            free(v);
            api_bad_request(c, "'request_ids' must hold positive integers (item %zu does not).", i);
            return;
        }
        v[i] = json_integer_value(x);
    }
    struct store_job job;
    job_base(c, kind, &job);
    snprintf(job.description, sizeof job.description, "%s %zu selected request%s",
             kind == JOB_APPROVE ? "Approve" : "Decline", n, n == 1 ? "" : "s");
    int64_t id = 0;
    struct dm_error err = {0};
    dm_err e = c->app->store->ops->job_create_ids(c->app->store, &job, v, n, time(NULL), &id, &err);
    free(v);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    answer_job(c, id);
}

static void decide_all(struct api_ctx *c, int kind)
{
    struct store_request_filter f = {.status = REQ_PENDING};
    json_t *fj = json_object_get(c->body, "filter");
    if (fj && !json_is_null(fj)) {
        if (!json_is_object(fj)) {
            api_bad_request(c, "'filter' must be an object.");
            return;
        }
        json_t *chat = json_object_get(fj, "chat_id");
        if (chat && !json_is_null(chat)) {
            if (!json_is_integer(chat)) {
                api_bad_request(c, "'filter.chat_id' must be an integer.");
                return;
            }
            f.chat_id = json_integer_value(chat);
        }
        json_t *q = json_object_get(fj, "q");
        if (q && !json_is_null(q)) {
            if (!json_is_string(q) || json_string_length(q) >= sizeof f.q) {
                api_bad_request(c, "'filter.q' must be a string of at most %zu bytes.", sizeof f.q - 1);
                return;
            }
            dm_strlcpy(f.q, json_string_value(q), sizeof f.q);
        }
        if (!api_field_time(c, fj, "from", false, &f.date_from) ||
            !api_field_time(c, fj, "to", true, &f.date_to))
            return;
    }
    struct store_job job;
    job_base(c, kind, &job);
    int w = snprintf(job.description, sizeof job.description, "%s all pending",
                     kind == JOB_APPROVE ? "Approve" : "Decline");
    struct store_chat chat = {0};
    if (f.chat_id && c->app->store->ops->chat_get(c->app->store, f.chat_id, &chat, NULL) != DM_OK)
        snprintf(chat.title, sizeof chat.title, "chat %" PRId64, f.chat_id);
    if (f.chat_id && w > 0 && (size_t)w < sizeof job.description)
        w += snprintf(job.description + w, sizeof job.description - (size_t)w, " in %s",
                      chat.title[0] ? chat.title : "an unnamed chat");
    if (f.q[0] && w > 0 && (size_t)w < sizeof job.description)
        snprintf(job.description + w, sizeof job.description - (size_t)w, " matching \"%s\"", f.q);
    int64_t id = 0;
    struct dm_error err = {0};
    dm_err e = c->app->store->ops->job_create_filter(c->app->store, &job, &f, time(NULL), &id, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    answer_job(c, id);
}

void api_requests_approve(struct api_ctx *c)
{
    decide_selected(c, JOB_APPROVE);
}

void api_requests_deny(struct api_ctx *c)
{
    decide_selected(c, JOB_DECLINE);
}

void api_requests_approve_all(struct api_ctx *c)
{
    decide_all(c, JOB_APPROVE);
}

void api_requests_deny_all(struct api_ctx *c)
{
    decide_all(c, JOB_DECLINE);
}
