/* verdicts.c: what the store keeps for deciding by rules (store.h, "Rules' work"): the
 * requests the rules have not seen, their verdicts, the decisions due and their hand-over to
 * decision jobs, each channel's pace, and what the rules' context asks of earlier requests. */
#include "core/common.h"

#include "core/json_out.h"
#include "store/job_tx.h"
#include "store/rows.h"

#define DUE_TAKE_MAX 1000

/* Requests read by statement id, whose arguments a holds but the last: the limit. */
static dm_err read_requests(struct store *st, enum sql_id id, struct db_args *a, int limit,
                            struct store_request *out, int *n, struct dm_error *err)
{
    arg_int(a, limit);
    struct db_stmt s = db_stmt_of(st, id);
    return db_read(st, &s, a, row_request, out, sizeof *out, limit, n, err);
}

dm_err store_unevaluated(struct store *st, int64_t after, int limit, struct store_request *out,
                         int *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, after);
    return read_requests(st, S_UNEVALUATED, &a, limit, out, n, err);
}

dm_err store_judging_due(struct store *st, int action, int64_t now, int limit,
                         struct store_request *out, int *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, now);
    arg_int(&a, action);
    return read_requests(st, S_JUDGING_DUE, &a, limit, out, n, err);
}

struct verdict_row {
    int status;
    int64_t id, chat_id, user_id;
};

static void row_verdict(const struct db_row *r, void *out)
{
    struct verdict_row *x = out;
    x->id = row_int(r, 0);
    x->status = (int)row_int(r, 1);
    x->chat_id = row_int(r, 2);
    x->user_id = row_int(r, 3);
}

static int verdict_row_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct verdict_row *)a)->id, y = ((const struct verdict_row *)b)->id;
    return (x > y) - (x < y);
}

/* The due time of a paced approval of chat_id wanted at `at`: the channel's next free time
 * when that is later, which then moves on by 3600 / per_hour seconds. */
static dm_err pace(struct tx *tx, int64_t chat_id, int64_t per_hour, int64_t at, int64_t *due,
                   struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    int64_t next = 0;
    bool found = false;
    dm_err e = tx_read_one(tx, S_PACE_GET, &a, row_int0, &next, &found, err);
    if (e) return e;
    *due = DM_MAX(at, next);
    struct db_args w;
    args_init(&w);
    arg_int(&w, chat_id);
    arg_int(&w, *due + DM_MAX(3600 / per_hour, 1));
    return tx_run(tx, S_PACE_SET, &w, NULL, NULL, NULL, err);
}

/* The verification a "verify" verdict begins, unless the request has one. */
/* (a verify verdict is due at once: its due_at is when it was judged, the verification's start) */
static dm_err verification_begin(struct tx *tx, const struct store_verdict *v, int64_t chat_id,
                                 int64_t user_id, int64_t now, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, v->request_id);
    arg_int(&a, chat_id);
    arg_int(&a, user_id);
    arg_int(&a, VERIFY_CREATED);
    arg_int(&a, v->verify_deadline);
    arg_int(&a, 0);      /* attempts */
    arg_text(&a, "", 1); /* answer */
    arg_text(&a, "", 1); /* captcha */
    arg_ref(&a, v->challenge);
    arg_text(&a, "", 1); /* lang */
    arg_text(&a, "", 1); /* launch */
    arg_int(&a, now);
    arg_int(&a, now);
    return tx_run(tx, S_VERIFICATION_ADD, &a, NULL, NULL, NULL, err);
}

/* v[0..n)'s verdicts as S_VERDICTS_SET reads them: [[request_id, rule_id, text], ...]. */
static dm_err verdicts_json(const struct store_verdict *v, size_t n, struct buf *b)
{
    buf_init(b, SIZE_MAX);
    struct json_out o;
    json_out_init(&o, b);
    json_out_array(&o);
    for (size_t i = 0; i < n; i++) {
        json_out_array(&o);
        json_out_int(&o, v[i].request_id);
        json_out_int(&o, v[i].rule_id);
        json_out_text(&o, v[i].text);
        json_out_end(&o);
    }
    json_out_end(&o);
    return json_out_finish(&o);
}

/* What follows from verdict v on its request (row): a verification begun, the decision due put
 * (or, in *gone, a request whose due decision goes: a JSON array being written). */
static dm_err verdict_follow(struct tx *tx, const struct store_verdict *v,
                             const struct verdict_row *row, struct json_out *gone,
                             struct dm_error *err)
{
    bool pending = row->status == REQ_PENDING;
    dm_err e = DM_OK;
    if (pending && v->challenge)
        e = verification_begin(tx, v, row->chat_id, row->user_id, v->due_at, err);
    if (e) return e;
    if (!pending || v->action == DUE_NONE) {
        json_out_int(gone, v->request_id);
        return DM_OK;
    }
    int64_t due = v->due_at;
    if (v->action == DUE_APPROVE && v->per_hour > 0)
        e = pace(tx, row->chat_id, v->per_hour, v->due_at, &due, err);
    struct db_args k;
    args_init(&k);
    arg_int(&k, v->request_id);
    arg_int(&k, row->chat_id);
    arg_int(&k, v->action);
    arg_int(&k, due);
    return e ? e : tx_run(tx, S_DUE_PUT, &k, NULL, NULL, NULL, err);
}

dm_err verdicts_tx_record(struct tx *tx, const struct store_verdict *v, size_t n, bool *pending,
                          struct dm_error *err)
{
    if (!n) return DM_OK;
    struct buf arr, ids;
    dm_err e = verdicts_json(v, n, &arr);
    if (e) e = dm_fail(err, e, "could not write %zu verdicts: %s", n, dm_strerror(e));
    struct verdict_row *rows = e ? NULL : malloc(n * sizeof *rows);
    if (!e && !rows) e = dm_fail(err, DM_ENOMEM, "out of memory recording verdicts");
    struct db_collect c = {
        .fn = row_verdict, .out = (char *)rows, .size = sizeof *rows, .limit = (int)n};
    struct db_args a;
    args_init(&a);
    arg_ref(&a, arr.data);
    if (!e) e = tx_run(tx, S_VERDICTS_SET, &a, db_collect_row, &c, NULL, err);
    if (!e) qsort(rows, (size_t)c.n, sizeof *rows, verdict_row_cmp);
    buf_init(&ids, SIZE_MAX);
    struct json_out gone;
    json_out_init(&gone, &ids);
    json_out_array(&gone);
    for (size_t i = 0; i < n && !e; i++) {
        struct verdict_row key = {.id = v[i].request_id};
        const struct verdict_row *row =
            bsearch(&key, rows, (size_t)c.n, sizeof *rows, verdict_row_cmp);
        if (!row)
            e = dm_fail(err, DM_ENOTFOUND, "no join request with id %" PRId64, v[i].request_id);
        if (!e && pending) pending[i] = row->status == REQ_PENDING;
        if (!e) e = verdict_follow(tx, &v[i], row, &gone, err);
    }
    json_out_end(&gone);
    dm_err je = json_out_finish(&gone);
    if (!e && je) e = dm_fail(err, je, "could not write the requests' ids: %s", dm_strerror(je));
    struct db_args d;
    args_init(&d);
    arg_ref(&d, ids.data);
    if (!e && ids.len > 2) e = tx_run(tx, S_DUE_DELETE_MANY, &d, NULL, NULL, NULL, err);
    free(rows);
    buf_release(&arr);
    buf_release(&ids);
    return e;
}

dm_err store_verdicts_record(struct store *st, const struct store_verdict *v, size_t n,
                             int64_t job_id, const char *owner, int64_t now, struct dm_error *err)
{
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e && job_id) e = job_tx_held(&tx, job_id, owner, now, err);
    int64_t done = 0;
    if (!e) e = verdicts_tx_record(&tx, v, n, NULL, err);
    for (size_t i = 0; i < n && !e && job_id; i++)
        e = job_tx_item_done(&tx, job_id, v[i].request_id, &done, err);
    if (!e && job_id && done) e = job_tx_count_done(&tx, job_id, done, now, err);
    return tx_close(&tx, e, err);
}

/* ---- handing due decisions to jobs ---- */

struct due_row {
    int64_t request_id, chat_id;
    int action;
};

static void row_due(const struct db_row *r, void *out)
{
    struct due_row *x = out;
    x->request_id = row_int(r, 0);
    x->chat_id = row_int(r, 1);
    x->action = (int)row_int(r, 2);
}

struct taken {
    struct due_row *v;
    size_t n, cap;
};

static dm_err take_row(void *ctx, const struct db_row *r)
{
    struct taken *t = ctx;
    if (t->n == t->cap) return DM_OK;
    row_due(r, &t->v[t->n++]);
    return DM_OK;
}

static int due_order(const void *a, const void *b)
{
    const struct due_row *x = a, *y = b;
    if (x->chat_id != y->chat_id) return x->chat_id < y->chat_id ? -1 : 1;
    if (x->action != y->action) return x->action - y->action;
    return (x->request_id > y->request_id) - (x->request_id < y->request_id);
}

/* Hands rows[0..n) (one channel, one action) to the rules' queued job for them, or a new one,
 * inside tx. */
static dm_err hand_over(struct tx *tx, const struct due_row *rows, size_t n, int64_t now,
                        struct dm_error *err)
{
    int64_t chat_id = rows[0].chat_id;
    struct db_args m;
    args_init(&m);
    arg_int(&m, chat_id);
    struct store_mode mode = {0};
    bool found = false;
    dm_err e = tx_read_one(tx, S_MODE_OF, &m, row_mode, &mode, &found, err);
    if (e) return e;

    struct store_chat chat = {0};
    if (!e) e = tx_read_one(tx, S_CHAT_GET, &m, row_chat, &chat, &found, err);
    if (e) return e;
    struct store_job job = {.kind = rows[0].action == DUE_APPROVE ? JOB_APPROVE : JOB_DECLINE};
    dm_strlcpy(job.via, mode.via[0] ? mode.via : "bot", sizeof job.via);
    dm_strlcpy(job.admin, STORE_RULES_ADMIN, sizeof job.admin);
    snprintf(job.params, sizeof job.params, "{\"mode\":\"rules\",\"chat_id\":%" PRId64 "%s}",
             chat_id, rows[0].action == DUE_BAN ? ",\"ban\":true" : "");
    const char *what = rows[0].action == DUE_APPROVE ? "approve"
                       : rows[0].action == DUE_BAN   ? "decline and ban"
                                                     : "decline";
    if (found && chat.title[0])
        dm_snprintf_utf8(job.description, sizeof job.description, "Rules: %s in %s", what,
                         chat.title);
    else
        snprintf(job.description, sizeof job.description, "Rules: %s in channel %" PRId64, what,
                 chat_id);
    int64_t ids[DUE_TAKE_MAX];
    for (size_t i = 0; i < n; i++)
        ids[i] = rows[i].request_id;
    return job_tx_add_queued(tx, &job, ids, n, now, err);
}

dm_err store_due_dispatch(struct store *st, int64_t now, int limit, int64_t *handed,
                          int64_t *next_due, struct dm_error *err)
{
    *handed = 0;
    *next_due = 0;
    struct taken t = {.cap = (size_t)DM_MAX(DM_MIN(limit, DUE_TAKE_MAX), 1)};
    if (!(t.v = malloc(t.cap * sizeof *t.v)))
        return dm_fail(err, DM_ENOMEM, "out of memory handing decisions over");
    struct db_args a;
    args_init(&a);
    arg_int(&a, now);
    arg_int(&a, (int64_t)t.cap);
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_DUE_TAKE, &a, take_row, &t, NULL, err);
    if (!e) qsort(t.v, t.n, sizeof *t.v, due_order);
    for (size_t i = 0, j; !e && i < t.n; i = j) {
        for (j = i + 1;
             j < t.n && t.v[j].chat_id == t.v[i].chat_id && t.v[j].action == t.v[i].action; j++)
            ;
        e = hand_over(&tx, &t.v[i], j - i, now, err);
    }
    bool found = false;
    if (!e) e = tx_read_one(&tx, S_DUE_NEXT, NULL, row_int0, next_due, &found, err);
    e = tx_close(&tx, e, err);
    if (!e) *handed = (int64_t)t.n;
    free(t.v);
    return e;
}

/* ---- what the rules' context asks ---- */

dm_err store_wave_count(struct store *st, int64_t chat_id, const char *link, int64_t from,
                        int64_t to, int64_t *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    arg_int(&a, from);
    arg_int(&a, to);
    if (link) arg_text(&a, link, STORE_LINK_MAX);
    *n = 0;
    return db_read_one(st, link ? S_WAVE_LINK : S_WAVE_CHAT, &a, row_int0, n, "a count", err);
}

static dm_err user_exists(struct store *st, enum sql_id id, int64_t chat_id, int64_t user_id,
                          bool *out, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    arg_int(&a, user_id);
    int64_t n = 0;
    dm_err e = db_read_one(st, id, &a, row_int0, &n, "a count", err);
    *out = !e && n > 0;
    return e;
}

dm_err store_user_declined(struct store *st, int64_t chat_id, int64_t user_id, bool *out,
                           struct dm_error *err)
{
    return user_exists(st, S_USER_DECLINED, chat_id, user_id, out, err);
}

dm_err store_user_member_elsewhere(struct store *st, int64_t chat_id, int64_t user_id, bool *out,
                                   struct dm_error *err)
{
    return user_exists(st, S_USER_ELSEWHERE, chat_id, user_id, out, err);
}

dm_err store_user_known(struct store *st, int64_t chat_id, int64_t user_id, int64_t since,
                        bool *out, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    arg_int(&a, user_id);
    arg_int(&a, since);
    int64_t n = 0;
    dm_err e = db_read_one(st, S_USER_KNOWN, &a, row_int0, &n, "a count", err);
    *out = !e && n > 0;
    return e;
}

/* ---- an admin's changes ---- */

dm_err store_request_set_banned(struct store *st, int64_t id, bool banned,
                                const struct store_audit *au, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    arg_int(&a, banned);
    int64_t changes = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_REQUEST_SET_BANNED, &a, NULL, NULL, &changes, err);
    if (!e && !changes) e = dm_fail(err, DM_ENOTFOUND, "no join request with id %" PRId64, id);
    if (!e) e = tx_audit(&tx, au, err);
    return tx_close(&tx, e, err);
}

dm_err store_request_release(struct store *st, int64_t id, const char *note,
                             const struct store_audit *au, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    arg_text(&a, note, STORE_TEXT_MAX);
    int64_t changes = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_REQUEST_RELEASE, &a, NULL, NULL, &changes, err);
    if (!e && !changes)
        e = dm_fail(err, DM_ENOTFOUND, "request %" PRId64 " is not pending with a rule's verdict",
                    id);
    if (!e) e = tx_audit(&tx, au, err);
    return tx_close(&tx, e, err);
}
