/* invite_requests.c: listing join requests and starting decisions on them. */
#include "core/common.h"
#include "api/api.h"
#include "api/fields.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json_out.h"
#include "core/log.h"
#include "jobs/hide_all.h"
#include "jobs/via.h"
#include "telegram/account.h"
#include "telegram/bot.h"

#define MAX_IDS 10000
#define LIST_ANSWER_MAX (64u << 20) /* a page of the list at its largest, escaped, fits */
#define LIST_ROW_BYTES 768          /* room reserved for a row of the answer (about 530 used) */
#define PREFLIGHT_CHANNELS 20       /* channels checked at most (those with the most pending) */

/* One request as the list answers it (docs/api.md; the columns are fields.c's), written
 * straight into the answer: at 50 rows a page this is most of the list's work, and jansson's
 * tree of values took 4 times as many instructions as the rest of the request. */
static void request_write(struct json_out *o, const struct store_request *r)
{
    json_out_object(o);
    fields_json(o, &request_fields, r, false);
    json_out_end(o);
}

/* The page's items, written as the store reads them (store_request_fn). */
struct items {
    struct json_out *o;
    int64_t last_id;
};

static void item_write(void *ctx, const struct store_request *r)
{
    struct items *it = ctx;
    request_write(it->o, r);
    it->last_id = r->id;
}

/* A list reads at most this many matches of a search or a date range to count them: enough to
 * tell an admin what a filter holds, and a count that takes a millisecond or two at any size
 * (a search for a common name may match hundreds of thousands). */
#define LIST_COUNT_CAP 1000

/* exact false: the filter matches more than LIST_COUNT_CAP, each count is a lower bound. */
static void counts_write(struct json_out *o, const int64_t counts[REQ_STATUS_COUNT], bool exact)
{
    int64_t total = 0;
    json_out_object(o);
    for (int s = 0; s < REQ_STATUS_COUNT; s++) {
        json_out_key(o, request_status_name(s)), json_out_int(o, counts[s]);
        total += counts[s];
    }
    json_out_key(o, "total"), json_out_int(o, total);
    json_out_key(o, "exact"), json_out_bool(o, exact);
    json_out_end(o);
}

bool api_query_filter(struct api_ctx *c, struct store_request_filter *f)
{
    memset(f, 0, sizeof *f);
    f->status = -1;
    dm_strlcpy(f->scope, c->scope, sizeof f->scope);
    const char *status = http_query(c->req, "status");
    if (status && *status && strcmp(status, "all") != 0) {
        f->status = request_status_parse(status);
        if (f->status < 0)
            return api_bad_request(c, "'status' must be pending, approved, declined or all.");
    }
    const char *q = http_query(c->req, "q");
    if (q && strlen(q) >= sizeof f->q)
        return api_bad_request(c, "'q' is too long (at most %zu bytes).", sizeof f->q - 1);
    if (q && (dm_utf8_copy(f->q, sizeof f->q, q), strcmp(f->q, q) != 0)) /* a bad byte went */
        return api_bad_request(c, "'q' must be text (UTF-8).");
    const char *link = http_query(c->req, "invite_link");
    if (link && strlen(link) >= sizeof f->invite_link)
        return api_bad_request(c, "'invite_link' is too long (at most %zu bytes).",
                               sizeof f->invite_link - 1);
    if (link) dm_strlcpy(f->invite_link, link, sizeof f->invite_link);
    return api_query_int(c, "chat_id", INT64_MIN, INT64_MAX, &f->chat_id) &&
           api_query_int(c, "rule_id", 0, INT64_MAX, &f->rule_id) &&
           api_query_time(c, "from", false, &f->date_from) &&
           api_query_time(c, "to", true, &f->date_to);
}

void api_requests_list(struct api_ctx *c)
{
    struct store_request_filter f;
    int limit;
    int64_t before;
    if (!api_query_filter(c, &f) || !api_query_page(c, &limit, &before)) return;
    const char *count = http_query(c->req, "count");
    bool count_all = count && strcmp(count, "exact") == 0;
    if (count && !count_all && *count)
        return (void)api_bad_request(c, "'count' must be exact or left out.");
    struct store *st = c->env->store;
    int n = 0;
    int64_t counts[REQ_STATUS_COUNT] = {0};
    bool exact = true;
    struct dm_error err = {0};
    struct buf b;
    buf_init(&b, LIST_ANSWER_MAX);
    buf_reserve(&b, (size_t)limit * LIST_ROW_BYTES + 256); /* else it grows as it is written */
    struct json_out o;
    json_out_init(&o, &b);
    json_out_object(&o);
    json_out_key(&o, "items");
    json_out_array(&o);
    struct items items = {&o, 0};
    /* the counts come with the first page (a later one only when asked: count=exact); with a
     * search whose matches are rare, counting them reads every hit, which a page need not */
    bool counted = before == 0 || count_all;
    dm_err e =
        store_request_page(st, &f, before, limit, item_write, &items, &n,
                           count_all ? 0 : LIST_COUNT_CAP, counted ? counts : NULL, &exact, &err);
    if (e) {
        buf_release(&b);
        api_store_failed(c, e, &err);
        return;
    }
    json_out_end(&o);
    json_out_key(&o, "next_before");
    if (n == limit)
        json_out_int(&o, items.last_id);
    else
        json_out_null(&o);
    json_out_key(&o, "counts");
    if (counted)
        counts_write(&o, counts, exact);
    else
        json_out_null(&o);
    json_out_end(&o);
    if ((e = json_out_finish(&o))) {
        buf_release(&b);
        api_store_failed(c, e, NULL);
        return;
    }
    size_t len;
    char *body = buf_detach(&b, &len);
    http_res_take(c->res, 200, "application/json; charset=utf-8", body, len);
}

/* The chats, to answer GET /api/chats with; owns chats. */
struct chat_list {
    struct bot *bot;
    struct store_chat *chats;
    size_t n;
};

static void chats_answer(struct http_response *res, const struct chat_list *l)
{
    json_t *items = json_array();
    for (size_t i = 0; i < l->n; i++)
        json_array_append_new(
            items, json_pack("{s:I,s:o,s:s}", "chat_id", (json_int_t)l->chats[i].chat_id, "title",
                             api_text(l->chats[i].title), "username", l->chats[i].username));
    http_res_json(res, 200, json_pack("{s:o}", "items", items));
}

/* On the server's workers: the titles of chats known only by id (no update carried one) from
 * Telegram (getChat, cached by the bot), then the answer. */
static void chats_titles_run(void *arg, const struct http_request *req, struct http_response *res)
{
    struct chat_list *l = arg;
    for (size_t i = 0; i < l->n; i++)
        if (!l->chats[i].title[0])
            bot_chat_title(l->bot, l->chats[i].chat_id, l->chats[i].title,
                           sizeof l->chats[i].title);
    chats_answer(res, l);
}

static void chats_drop(void *arg)
{
    struct chat_list *l = arg;
    free(l->chats);
    free(l);
}

/* Answers at once when every title is known; else asks Telegram on a worker (http_res_defer). */
void api_chats_list(struct api_ctx *c)
{
    struct chat_list *l = calloc(1, sizeof *l);
    if (!l) {
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    l->bot = c->env->bot;
    struct dm_error err = {0};
    dm_err e = store_chat_list(c->env->store, &l->chats, &l->n, &err);
    if (e) {
        chats_drop(l);
        api_store_failed(c, e, &err);
        return;
    }
    if (!api_chats_in_scope(c, l->chats, &l->n)) {
        chats_drop(l);
        return;
    }
    for (size_t i = 0; i < l->n; i++)
        if (!l->chats[i].title[0]) {
            http_res_defer(c->res, chats_titles_run, l, chats_drop);
            return;
        }
    chats_answer(c->res, l);
    chats_drop(l);
}

/* Starts a job through the body's account or accounts (api_body_via); false after answering.
 * *whole: whether it may decide whole channels at once (one account that lists them). */
static bool job_base(struct api_ctx *c, int kind, struct store_job *job, bool *whole)
{
    memset(job, 0, sizeof *job);
    job->kind = kind;
    dm_strlcpy(job->admin, c->session.admin_name, sizeof job->admin);
    struct account *a = NULL;
    if (!api_body_via(c, job->via, sizeof job->via, &a)) return false;
    *whole = a && account_lists_pending(a);
    account_close(a);
    return true;
}

/* Formats the job's description, cut at a character boundary where it does not fit, and ends
 * it with " as <session>" when the job is not the bot's (that part is never cut). */
static void describe(struct store_job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void describe(struct store_job *job, const char *fmt, ...)
{
    char via[sizeof job->description / 2] = "";
    if (strcmp(job->via, VIA_ANY_SESSION) == 0)
        dm_strlcpy(via, " as any active session", sizeof via);
    else if (strlen(job->via) + 5 > sizeof via)
        dm_strlcpy(via, " as several sessions", sizeof via);
    else if (strcmp(job->via, ACCOUNT_BOT) != 0)
        dm_snprintf_utf8(via, sizeof via, " as %s", job->via);
    size_t vlen = strlen(via);
    va_list ap;
    va_start(ap, fmt);
    int w = dm_vsnprintf_utf8(job->description, sizeof job->description - vlen, fmt, ap);
    va_end(ap);
    memcpy(job->description + w, via, vlen + 1);
}

static void decide_selected(struct api_ctx *c, int kind)
{
    if (!api_only_fields(c, c->body, NULL, "request_ids", "session_name", NULL)) return;
    int64_t *v = NULL;
    size_t n = 0;
    if (!api_body_ids(c, MAX_IDS, &v, &n)) return;
    if (!api_requests_allowed(c, v, n)) {
        free(v);
        return;
    }
    struct store_job job;
    bool whole;
    if (!job_base(c, kind, &job, &whole)) {
        free(v);
        return;
    }
    describe(&job, "%s %zu selected request%s", kind == JOB_APPROVE ? "Approve" : "Decline", n,
             n == 1 ? "" : "s");
    int64_t id = 0;
    struct dm_error err = {0};
    dm_err e = store_job_create_ids(c->env->store, &job, v, n, time(NULL), &id, &err);
    free(v);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    api_job_started(c, id);
}

/* Reads the body's optional "filter" over pending requests. false after answering. */
static bool body_filter(struct api_ctx *c, struct store_request_filter *f)
{
    memset(f, 0, sizeof *f);
    f->status = REQ_PENDING;
    dm_strlcpy(f->scope, c->scope, sizeof f->scope);
    json_t *fj = json_object_get(c->body, "filter");
    if (!fj || json_is_null(fj)) return true;
    if (!json_is_object(fj)) return api_bad_request(c, "'filter' must be an object.");
    if (!api_only_fields(c, fj, "filter", "chat_id", "from", "to", "q", "rule_id", "invite_link",
                         NULL))
        return false;
    json_t *link = json_object_get(fj, "invite_link");
    if (link && !json_is_null(link)) {
        if (!json_is_string(link) || json_string_length(link) >= sizeof f->invite_link)
            return api_bad_request(c, "'filter.invite_link' must be a link of at most %zu bytes.",
                                   sizeof f->invite_link - 1);
        dm_strlcpy(f->invite_link, json_string_value(link), sizeof f->invite_link);
    }
    json_t *rule = json_object_get(fj, "rule_id");
    if (rule && !json_is_null(rule)) {
        if (!json_is_integer(rule) || json_integer_value(rule) <= 0)
            return api_bad_request(c, "'filter.rule_id' must be a rule's id.");
        f->rule_id = json_integer_value(rule);
    }
    json_t *chat = json_object_get(fj, "chat_id");
    if (chat && !json_is_null(chat)) {
        if (!json_is_integer(chat))
            return api_bad_request(c, "'filter.chat_id' must be an integer.");
        f->chat_id = json_integer_value(chat);
        if (!api_channel_allowed(c, f->chat_id)) return false;
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
    bool whole = false;
    if (!api_only_fields(c, c->body, NULL, "filter", "session_name", NULL) || !body_filter(c, &f) ||
        !job_base(c, kind, &job, &whole))
        return;
    bool whole_channels = whole && hide_all_fits(&f);
    struct store_chat chat = {0};
    if (f.chat_id && store_chat_get(c->env->store, f.chat_id, &chat, NULL) != DM_OK)
        snprintf(chat.title, sizeof chat.title, "chat %" PRId64, f.chat_id);
    const char *title = chat.title[0] ? chat.title : "an unnamed chat";
    describe(&job, "%s all pending%s%s%s%s%s%s%s%s", kind == JOB_APPROVE ? "Approve" : "Decline",
             f.rule_id ? " of a rule" : "", f.invite_link[0] ? " through " : "", f.invite_link,
             f.chat_id ? " in " : "", f.chat_id ? title : "", f.q[0] ? " matching \"" : "", f.q,
             f.q[0] ? "\"" : "");
    int64_t id = 0;
    struct dm_error err = {0};
    dm_err e = DM_OK;
    /* through a session, whole channels are decided with one hideAll call each */
    if (whole_channels)
        e = hide_params_format(f.chat_id, f.invite_link, job.params, sizeof job.params, &err);
    if (!e) e = store_job_create_filter(c->env->store, &job, &f, time(NULL), &id, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    api_job_started(c, id);
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
    struct store *st = c->env->store;
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

enum verdict { CAN_DECIDE, CANNOT_DECIDE, NOT_CHECKED };

/* Whether the account can decide in the channel, or why not (the reason's sentence); NOT_CHECKED
 * when the preflight's deadline (clock_ms) passes before the check is done. */
static enum verdict channel_check(struct account *a, int64_t chat_id, int64_t deadline, char *title,
                                  size_t title_n, char *why, size_t why_n)
{
    if (clock_ms() >= deadline) return NOT_CHECKED;
    struct account_channel ch;
    struct tg_error te = {0};
    enum account_role role = ACCOUNT_NOT_ADMIN;
    dm_err e = account_channel(a, chat_id, &ch, &te);
    if (!e && ch.title[0]) dm_strlcpy(title, ch.title, title_n);
    if (!e && clock_ms() >= deadline) return NOT_CHECKED;
    if (!e) e = account_role(a, &ch, &role, &te);
    if (!e && role != ACCOUNT_CAN_INVITE) account_no_right((int)role, title, &te);
    dm_strlcpy(why, role == ACCOUNT_CAN_INVITE ? "" : te.e.msg, why_n);
    return !e && role == ACCOUNT_CAN_INVITE ? CAN_DECIDE : CANNOT_DECIDE;
}

/* Runs on the HTTP server's workers (R_SLOW): every check is a call to Telegram. The channels
 * are checked one after another until env->preflight_deadline_ms has passed; those left are
 * answered checked:false with a reason that says so (a call under way when it passes ends
 * first, bounded by its own timeout). */
void api_requests_preflight(struct api_ctx *c)
{
    if (!api_only_fields(c, c->body, NULL, "session_name", "request_ids", "filter", NULL)) return;
    int64_t deadline = clock_ms() + c->env->preflight_deadline_ms;
    struct account *a = api_body_account(c, false);
    if (!a) return;
    struct affected *v = calloc(AFFECTED_MAX, sizeof *v);
    size_t n = 0;
    if (!v) {
        account_close(a);
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    if (!affected_channels(c, v, &n)) {
        account_close(a);
        free(v);
        return;
    }
    qsort(v, n, sizeof *v, by_pending);
    size_t checked = DM_MIN(n, (size_t)PREFLIGHT_CHANNELS), late = 0;

    struct account_check acct;
    account_check(a, &acct);
    json_t *channels = json_array();
    for (size_t i = 0; i < checked; i++) {
        struct store_chat chat = {0};
        if (store_chat_get(c->env->store, v[i].chat_id, &chat, NULL) != DM_OK || !chat.title[0])
            snprintf(chat.title, sizeof chat.title, "chat %" PRId64, v[i].chat_id);
        char why[STORE_ERROR_MAX] = "";
        enum verdict ok = CANNOT_DECIDE;
        if (!acct.ok)
            dm_snprintf_utf8(why, sizeof why, "The account cannot be used: %.200s", acct.error);
        else
            ok = channel_check(a, v[i].chat_id, deadline, chat.title, sizeof chat.title, why,
                               sizeof why);
        if (ok == NOT_CHECKED) {
            late++;
            dm_snprintf_utf8(why, sizeof why,
                             "Not checked: Telegram answered too slowly, and the check stops "
                             "after %" PRId64 " s. Decisions there fail if the account cannot "
                             "make them.",
                             c->env->preflight_deadline_ms / 1000);
        }
        json_array_append_new(
            channels,
            json_pack("{s:I,s:o,s:I,s:b,s:b,s:o}", "chat_id", (json_int_t)v[i].chat_id, "title",
                      api_text(chat.title), "pending", (json_int_t)v[i].pending, "checked",
                      ok != NOT_CHECKED, "can_decide", ok == CAN_DECIDE, "reason", api_text(why)));
    }
    free(v);
    log_info("api", "preflight via %s: account %s, %zu of %zu channels checked%s", account_name(a),
             acct.status, checked - late, n, late ? " (the deadline passed)" : "");
    http_res_json(c->res, 200,
                  json_pack("{s:s,s:{s:b,s:s,s:o},s:o,s:I,s:b}", "via", account_name(a), "account",
                            "ok", acct.ok, "status", acct.status, "error", api_text(acct.error),
                            "channels", channels, "unchecked", (json_int_t)(n - checked),
                            "deadline_exceeded", late > 0));
    account_close(a);
}
