/* invite_requests.c: listing join requests and starting decisions on them. */
#include "core/common.h"
#include "api/api.h"
#include "app.h"
#include "telegram/bot.h"
#include "botapi/client.h"
#include "core/log.h"
#include "jobs/decider.h"
#include "jobs/hide_all.h"
#include "jobs/runner.h"
#include "telegram/pool.h"
#include "telegram/loader.h"

#define MAX_IDS 10000
#define PREFLIGHT_CHANNELS 20 /* channels checked at most (those with the most pending) */
#define CALL_TIMEOUT_MS 20000

static json_t *request_json(const struct store_request *r)
{
    json_t *j = json_pack(
        "{s:I,s:I,s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:I}", "id", (json_int_t)r->id, "chat_id",
        (json_int_t)r->chat_id, "chat_title", r->chat_title, "user_id", (json_int_t)r->user_id,
        "first_name", r->first_name, "last_name", r->last_name, "username", r->username, "bio",
        r->bio, "invite_link", r->invite_link, "date", (json_int_t)r->tg_date, "status",
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
    dm_err e = store_request_list(st, &f, before, limit, rows, &n, &err);
    if (!e) e = store_request_counts(st, &f, counts, &err);
    if (e) {
        free(rows);
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, request_json(&rows[i]));
    json_t *next = n == limit ? json_integer(rows[n - 1].id) : json_null();
    free(rows);
    http_res_json(c->res, 200,
                  json_pack("{s:o,s:o,s:o}", "items", items, "next_before", next, "counts",
                            counts_json(counts)));
}

void api_chats_list(struct api_ctx *c)
{
    struct store_chat *chats = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    dm_err e = store_chat_list(c->app->store, &chats, &n, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!chats[i]
                 .title[0]) /* known only by id (no update carried its title): getChat, cached */
            bot_chat_title(c->app->bot, chats[i].chat_id, chats[i].title, sizeof chats[i].title);
        json_array_append_new(items,
                              json_pack("{s:I,s:s,s:s}", "chat_id", (json_int_t)chats[i].chat_id,
                                        "title", chats[i].title, "username", chats[i].username));
    }
    free(chats);
    http_res_json(c->res, 200, json_pack("{s:o}", "items", items));
}

/* Answers 202 with the new job, after waking the runner. */
static void answer_job(struct api_ctx *c, int64_t id)
{
    struct store_job job;
    struct dm_error err = {0};
    dm_err e = store_job_get(c->app->store, id, &job, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    job_runner_wake(c->app->jobs);
    http_res_json(c->res, 202, json_pack("{s:o}", "job", api_job_json(&job)));
}

/* Reads "session_name" into via: null or absent is the bot; a name must be a session, an
 * active one when `active`. false after answering (400 naming it and why). */
static bool read_via(struct api_ctx *c, bool active, char via[STORE_NAME_MAX])
{
    dm_strlcpy(via, "bot", STORE_NAME_MAX);
    json_t *v = json_object_get(c->body, "session_name");
    if (!v || json_is_null(v)) return true;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= STORE_NAME_MAX)
        return api_bad_request(c, "'session_name' must be null (the bot) or a session's name.");
    const char *name = json_string_value(v);
    struct dm_error err = {0};
    dm_err e = decider_session_usable(c->app->store, name, NULL, &err);
    if (e == DM_EAUTH && !active) e = DM_OK;
    if (e == DM_ENOTFOUND || e == DM_EAUTH) return api_bad_request(c, "%s", err.msg);
    if (e) return api_store_failed(c, e, &err);
    dm_strlcpy(via, name, STORE_NAME_MAX);
    return true;
}

/* false after answering. */
static bool job_base(struct api_ctx *c, int kind, struct store_job *job)
{
    memset(job, 0, sizeof *job);
    job->kind = kind;
    dm_strlcpy(job->admin, c->session.admin_name, sizeof job->admin);
    return read_via(c, true, job->via);
}

/* Appends " as <session>" to the job's description when it is not the bot's. */
static void describe_via(struct store_job *job)
{
    size_t w = strlen(job->description);
    if (strcmp(job->via, "bot") != 0 && w < sizeof job->description)
        snprintf(job->description + w, sizeof job->description - w, " as %s", job->via);
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
    struct store_job job;
    if (!job_base(c, kind, &job)) return;
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
    snprintf(job.description, sizeof job.description, "%s %zu selected request%s",
             kind == JOB_APPROVE ? "Approve" : "Decline", n, n == 1 ? "" : "s");
    describe_via(&job);
    int64_t id = 0;
    struct dm_error err = {0};
    dm_err e = store_job_create_ids(c->app->store, &job, v, n, time(NULL), &id, &err);
    free(v);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    answer_job(c, id);
}

/* Reads the body's optional "filter" over pending requests. false after answering. */
static bool body_filter(struct api_ctx *c, struct store_request_filter *f)
{
    memset(f, 0, sizeof *f);
    f->status = REQ_PENDING;
    json_t *fj = json_object_get(c->body, "filter");
    if (!fj || json_is_null(fj)) return true;
    if (!json_is_object(fj)) return api_bad_request(c, "'filter' must be an object.");
    json_t *chat = json_object_get(fj, "chat_id");
    if (chat && !json_is_null(chat)) {
        if (!json_is_integer(chat))
            return api_bad_request(c, "'filter.chat_id' must be an integer.");
        f->chat_id = json_integer_value(chat);
    }
    json_t *q = json_object_get(fj, "q");
    if (q && !json_is_null(q)) {
        if (!json_is_string(q) || json_string_length(q) >= sizeof f->q)
            return api_bad_request(c, "'filter.q' must be a string of at most %zu bytes.",
                                   sizeof f->q - 1);
        dm_strlcpy(f->q, json_string_value(q), sizeof f->q);
    }
    return api_field_time(c, fj, "from", false, &f->date_from) &&
           api_field_time(c, fj, "to", true, &f->date_to);
}

static void decide_all(struct api_ctx *c, int kind)
{
    struct store_request_filter f;
    struct store_job job;
    if (!body_filter(c, &f) || !job_base(c, kind, &job)) return;
    int w = snprintf(job.description, sizeof job.description, "%s all pending",
                     kind == JOB_APPROVE ? "Approve" : "Decline");
    struct store_chat chat = {0};
    if (f.chat_id && store_chat_get(c->app->store, f.chat_id, &chat, NULL) != DM_OK)
        snprintf(chat.title, sizeof chat.title, "chat %" PRId64, f.chat_id);
    if (f.chat_id && w > 0 && (size_t)w < sizeof job.description)
        w += snprintf(job.description + w, sizeof job.description - (size_t)w, " in %s",
                      chat.title[0] ? chat.title : "an unnamed chat");
    if (f.q[0] && w > 0 && (size_t)w < sizeof job.description)
        snprintf(job.description + w, sizeof job.description - (size_t)w, " matching \"%s\"", f.q);
    describe_via(&job);
    int64_t id = 0;
    struct dm_error err = {0};
    dm_err e = DM_OK;
    /* through a session, whole channels are decided with one hideAll call each */
    if (strcmp(job.via, "bot") != 0 && hide_all_fits(&f))
        e = hide_params_format(f.chat_id, job.params, sizeof job.params, &err);
    if (!e) e = store_job_create_filter(c->app->store, &job, &f, time(NULL), &id, &err);
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

/* ---- preflight: what the chosen account can do in the affected channels ---- */

struct affected {
    int64_t chat_id;
    int64_t pending;
};

#define AFFECTED_MAX 4096 /* distinct channels gathered at most */

static struct affected *affected_add(struct affected *v, size_t *n, int64_t chat_id,
                                     int64_t pending)
{
    for (size_t i = 0; i < *n; i++)
        if (v[i].chat_id == chat_id) {
            v[i].pending += pending;
            return &v[i];
        }
    if (*n >= AFFECTED_MAX) return NULL;
    v[*n] = (struct affected){chat_id, pending};
    return &v[(*n)++];
}

static int by_pending(const void *a, const void *b)
{
    const struct affected *x = a, *y = b;
    return x->pending != y->pending ? (x->pending < y->pending ? 1 : -1)
                                    : (x->chat_id > y->chat_id) - (x->chat_id < y->chat_id);
}

/* The channels of the body's request_ids (their pending ones counted) or of its filter. false
 * after answering. */
static bool affected_channels(struct api_ctx *c, struct affected *v, size_t *n)
{
    struct store *st = c->app->store;
    struct dm_error err = {0};
    *n = 0;
    json_t *ids = json_object_get(c->body, "request_ids");
    if (ids && !json_is_null(ids)) {
        if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > MAX_IDS)
            return api_bad_request(c, "'request_ids' must hold 1 to %d ids.", MAX_IDS);
        size_t i;
        json_t *x;
        json_array_foreach(ids, i, x)
        {
            if (!json_is_integer(x) || json_integer_value(x) <= 0)
                return api_bad_request(
                    c, "'request_ids' must hold positive integers (item %zu does not).", i);
            struct store_request r;
            dm_err e = store_request_get(st, json_integer_value(x), &r, &err);
            if (e) return api_store_failed(c, e, &err);
            affected_add(v, n, r.chat_id, r.status == REQ_PENDING);
        }
        return true;
    }
    struct store_request_filter f;
    if (!body_filter(c, &f)) return false;
    struct store_chat *chats = NULL;
    size_t nchats = 0;
    dm_err e = DM_OK;
    if (!f.chat_id) e = store_chat_list(st, &chats, &nchats, &err);
    for (size_t i = 0; !e && i < (f.chat_id ? 1 : nchats); i++) {
        struct store_request_filter one = f;
        if (!f.chat_id) one.chat_id = chats[i].chat_id;
        int64_t counts[REQ_STATUS_COUNT] = {0};
        e = store_request_counts(st, &one, counts, &err);
        if (!e && (f.chat_id || counts[REQ_PENDING] > 0))
            affected_add(v, n, one.chat_id, counts[REQ_PENDING]);
    }
    free(chats);
    return e ? api_store_failed(c, e, &err) : true;
}

struct check {
    bool ok;
    char status[32];
    char error[STORE_ERROR_MAX];
};

/* The bot: configured, and its token still works (getMe). */
static void bot_account(struct app *a, struct botapi_client *bc, struct check *out)
{
    if (!bc) {
        dm_strlcpy(out->status, "not_configured", sizeof out->status);
        dm_strlcpy(out->error, "No bot token configured: set it in Settings", sizeof out->error);
        return;
    }
    (void)a;
    struct botapi_reply rep;
    struct dm_error err = {0};
    dm_err e = botapi_call(bc, "getMe", NULL, CALL_TIMEOUT_MS, &rep, &err);
    out->ok = !e && rep.ok;
    dm_strlcpy(out->status, out->ok ? "ok" : "error", sizeof out->status);
    if (e)
        snprintf(out->error, sizeof out->error, "Telegram could not be reached: %.200s", err.msg);
    else if (!rep.ok)
        snprintf(out->error, sizeof out->error, "Telegram rejected the bot token: %.200s",
                 rep.description);
    botapi_reply_release(&rep);
}

/* getChatMember of the bot itself in chat_id. */
static void bot_channel(struct botapi_client *bc, int64_t bot_id, int64_t chat_id,
                        const char *title, struct check *out)
{
    json_t *p =
        json_pack("{s:I,s:I}", "chat_id", (json_int_t)chat_id, "user_id", (json_int_t)bot_id);
    struct botapi_reply rep;
    struct dm_error err = {0};
    dm_err e = p ? botapi_call(bc, "getChatMember", p, CALL_TIMEOUT_MS, &rep, &err)
                 : dm_fail(&err, DM_ENOMEM, "out of memory");
    json_decref(p);
    if (e) {
        snprintf(out->error, sizeof out->error, "Telegram could not be reached: %.200s", err.msg);
    } else if (!rep.ok) {
        snprintf(out->error, sizeof out->error, "Telegram answered: %.200s", rep.description);
    } else {
        const char *status = json_string_value(json_object_get(rep.result, "status"));
        bool admin = status && strcmp(status, "administrator") == 0;
        out->ok = (status && strcmp(status, "creator") == 0) ||
                  (admin && json_is_true(json_object_get(rep.result, "can_invite_users")));
        if (!out->ok)
            decider_no_right(admin ? LOADER_ADMIN_NO_INVITE : LOADER_NOT_ADMIN, title, out->error,
                             sizeof out->error);
    }
    if (!e) botapi_reply_release(&rep);
}

/* A session: Check Status (users.getUsers self), which also records what it finds. */
static void session_account(struct app *a, const char *name, struct check *out)
{
    struct store_session row;
    struct tg_error te = {0};
    dm_err e = pool_check(a->pool, name, (int64_t)time(NULL), &row, &te);
    if (e) {
        dm_strlcpy(out->status, "error", sizeof out->status);
        dm_strlcpy(out->error, te.e.msg, sizeof out->error);
        return;
    }
    out->ok = row.status == SESSION_ACTIVE;
    dm_strlcpy(out->status, session_status_name(row.status), sizeof out->status);
    if (!out->ok)
        snprintf(out->error, sizeof out->error, "%.100s%s%.100s%s", row.last_error,
                 row.status_reason[0] ? " (" : "", row.status_reason,
                 row.status_reason[0] ? ")" : "");
}

/* channels.getParticipant of the session itself in chat_id. */
static void session_channel(struct app *a, const char *name, int64_t chat_id, char *title,
                            size_t title_n, struct check *out)
{
    struct loader_channel ch;
    struct dm_error err = {0};
    int retry_after = 0;
    dm_err e = decider_session_channel(a, name, chat_id, &ch, &retry_after, &err);
    if (!e) {
        dm_strlcpy(title, ch.title, title_n);
        struct loader_via via = {a->pool, name};
        enum loader_role role = LOADER_NOT_ADMIN;
        e = loader_role(&via, &ch, &role, &retry_after, &err);
        if (!e && role != LOADER_CAN_INVITE) {
            decider_no_right((int)role, title, out->error, sizeof out->error);
            return;
        }
    }
    out->ok = !e;
    if (e) dm_strlcpy(out->error, err.msg, sizeof out->error);
}

void api_requests_preflight(struct api_ctx *c)
{
    char via[STORE_NAME_MAX];
    if (!read_via(c, false, via)) return;
    struct affected *v = calloc(AFFECTED_MAX, sizeof *v);
    size_t n = 0;
    if (!v) {
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    if (!affected_channels(c, v, &n)) {
        free(v);
        return;
    }
    qsort(v, n, sizeof *v, by_pending);
    size_t checked = DM_MIN(n, (size_t)PREFLIGHT_CHANNELS);

    struct app *a = c->app;
    bool bot = strcmp(via, "bot") == 0;
    struct botapi_client *bc = bot && a->bot ? bot_client_acquire(a->bot) : NULL;
    struct check acct = {0};
    int64_t bot_id = 0;
    if (bot) {
        bot_account(a, bc, &acct);
        struct bot_status bs;
        if (a->bot) {
            bot_get_status(a->bot, &bs);
            bot_id = bs.id;
        }
    } else {
        session_account(a, via, &acct);
    }
    json_t *channels = json_array();
    for (size_t i = 0; i < checked; i++) {
        struct store_chat chat = {0};
        if (store_chat_get(a->store, v[i].chat_id, &chat, NULL) != DM_OK || !chat.title[0])
            snprintf(chat.title, sizeof chat.title, "chat %" PRId64, v[i].chat_id);
        struct check ch = {0};
        if (!acct.ok)
            snprintf(ch.error, sizeof ch.error, "The account cannot be used: %.200s", acct.error);
        else if (bot)
            bot_channel(bc, bot_id, v[i].chat_id, chat.title, &ch);
        else
            session_channel(a, via, v[i].chat_id, chat.title, sizeof chat.title, &ch);
        json_array_append_new(channels, json_pack("{s:I,s:s,s:I,s:b,s:s}", "chat_id",
                                                  (json_int_t)v[i].chat_id, "title", chat.title,
                                                  "pending", (json_int_t)v[i].pending, "can_decide",
                                                  ch.ok, "reason", ch.error));
    }
    if (bc) bot_client_release(a->bot, bc);
    free(v);
    log_info("api", "preflight via %s: account %s, %zu of %zu channels checked", via, acct.status,
             checked, n);
    http_res_json(c->res, 200,
                  json_pack("{s:s,s:{s:b,s:s,s:s},s:o,s:I}", "via", via, "account", "ok", acct.ok,
                            "status", acct.status, "error", acct.error, "channels", channels,
                            "unchecked", (json_int_t)(n - checked)));
}
