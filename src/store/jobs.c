/* jobs.c: the rules for jobs, written once above the dialects: creating decision and load
 * jobs, claiming and leasing them, finishing an item (the request, the job's counters and
 * the audit entry in one transaction), and the page-wise work of load jobs and of decision
 * jobs that decide a whole channel at once. */
#include "core/common.h"

#include "store/job_tx.h"
#include "store/requests.h"
#include "store/rows.h"

#define IDS_MAX (64u << 20) /* the ids of job_create_ids, as JSON text */
#define CHAT_BATCH 512

/* Jobs over requests approve or decline them. */
static bool decision_kind(int kind, struct dm_error *err)
{
    if (kind == JOB_APPROVE || kind == JOB_DECLINE) return true;
    dm_fail(err, DM_EINVAL, "a job over requests approves or declines, not kind %d", kind);
    return false;
}

static dm_err job_insert(struct tx *tx, const struct store_job *job, int64_t now, int64_t *id,
                         struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, job->kind);
    arg_text(&a, job->via, sizeof job->via);
    arg_text(&a, job->admin, sizeof job->admin);
    arg_text(&a, job->description, sizeof job->description);
    arg_int(&a, now);
    arg_text(&a, job->params, sizeof job->params);
    bool found = false;
    return tx_read_one(tx, S_JOB_INSERT, &a, row_int0, id, &found, err);
}

/* Adds n to the job's total (nothing to run for 0). */
static dm_err job_add_total(struct tx *tx, int64_t id, int64_t n, struct dm_error *err)
{
    if (!n) return DM_OK;
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    arg_int(&a, n);
    return tx_run(tx, S_JOB_ADD_TOTAL, &a, NULL, NULL, NULL, err);
}

/* The ids as one JSON array argument, in arr (released by the caller). */
static dm_err ids_json(const int64_t *ids, size_t n, struct buf *arr)
{
    buf_init(arr, IDS_MAX);
    dm_err e = buf_puts(arr, "[");
    for (size_t i = 0; i < n && !e; i++)
        e = buf_printf(arr, "%s%" PRId64, i ? "," : "", ids[i]);
    return e ? e : buf_puts(arr, "]");
}

dm_err store_job_create_ids(struct store *st, const struct store_job *job, const int64_t *ids,
                            size_t n, int64_t now, int64_t *id, struct dm_error *err)
{
    if (n == 0) return dm_fail(err, DM_EINVAL, "a job needs at least one request");
    if (!decision_kind(job->kind, err)) return DM_EINVAL;
    struct buf arr;
    dm_err e = ids_json(ids, n, &arr);
    if (e) {
        buf_release(&arr);
        return dm_fail(err, e, "too many requests for one job: %zu", n);
    }
    struct db_args check;
    args_init(&check);
    arg_ref(&check, arr.data);
    int64_t job_id = 0, total = 0, missing = 0;
    bool absent = false;
    struct tx tx;
    e = tx_open(st, &tx, err);
    if (!e) e = tx_read_one(&tx, S_REQUEST_MISSING, &check, row_int0, &missing, &absent, err);
    if (absent) e = dm_fail(err, DM_ENOTFOUND, "no join request with id %" PRId64, missing);
    if (!e) e = job_insert(&tx, job, now, &job_id, err);
    struct db_args add;
    args_init(&add);
    arg_int(&add, job_id);
    arg_ref(&add, arr.data);
    /* a repeated id adds nothing */
    if (!e) e = tx_run(&tx, S_JOB_ITEMS_ADD_IDS, &add, NULL, NULL, &total, err);
    if (!e) e = job_add_total(&tx, job_id, total, err);
    e = tx_close(&tx, e, err);
    buf_release(&arr);
    if (!e) *id = job_id;
    return e;
}

dm_err store_job_create_filter(struct store *st, const struct store_job *job,
                               const struct store_request_filter *rf, int64_t now, int64_t *id,
                               struct dm_error *err)
{
    if (rf && rf->status != -1 && rf->status != REQ_PENDING)
        return dm_fail(err, DM_EINVAL, "a job over a filter takes pending requests only");
    if (job->kind != JOB_APPLY && !decision_kind(job->kind, err)) return DM_EINVAL;
    struct filter f;
    dm_err e = filter_init(&f, rf, st->d->kind, err);
    if (e) return e;
    int64_t job_id = 0, total = 0;
    struct tx tx;
    struct buf b = {0};
    e = tx_open(st, &tx, err);
    if (!e) e = job_insert(&tx, job, now, &job_id, err);
    struct db_args a;
    args_init(&a);
    struct db_stmt s;
    arg_int(&a, job_id);
    if (!e) e = filter_stmt(FS_JOB_ITEMS, &f, false, &b, &a, &s, err);
    if (!e) e = tx_run_stmt(&tx, &s, &a, NULL, NULL, &total, err);
    if (!e) e = job_add_total(&tx, job_id, total, err);
    e = tx_close(&tx, e, err);
    buf_release(&b);
    filter_release(&f);
    if (!e) *id = job_id;
    return e;
}

dm_err store_job_get(struct store *st, int64_t id, struct store_job *out, struct dm_error *err)
{
    return db_read_id(st, S_JOB_GET, id, row_job, out, "job", err);
}

static void row_queue(const struct db_row *r, void *out)
{
    int64_t *v = out;
    v[0] = row_int(r, 0);
    v[1] = row_int(r, 1);
}

dm_err store_job_queue(struct store *st, int64_t *queued, int64_t *running, struct dm_error *err)
{
    int64_t v[2] = {0, 0};
    dm_err e = db_read_one(st, S_JOB_QUEUE, NULL, row_queue, v, "no count", err);
    *queued = v[0];
    *running = v[1];
    return e;
}

dm_err store_job_list(struct store *st, int64_t before_id, int limit, struct store_job *out, int *n,
                      struct dm_error *err)
{
    return store_job_list_of(st, JOBS_ALL, before_id, limit, out, n, err);
}

dm_err store_job_list_of(struct store *st, int whose, int64_t before_id, int limit,
                         struct store_job *out, int *n, struct dm_error *err)
{
    enum sql_id id = whose == JOBS_RULES    ? S_JOB_LIST_RULES
                     : whose == JOBS_ADMINS ? S_JOB_LIST_ADMINS
                                            : S_JOB_LIST;
    return db_read_page(st, id, before_id, limit, row_job, out, sizeof *out, n, err);
}

dm_err store_job_list_by(struct store *st, const char *admin, int64_t before_id, int limit,
                         struct store_job *out, int *n, struct dm_error *err)
{
    return db_read_page_of(st, S_JOB_LIST_BY, admin, before_id, limit, row_job, out, sizeof *out, n,
                           err);
}

dm_err store_job_claim(struct store *st, const char *owner, int64_t now, int64_t lease_until,
                       struct store_job *out, struct dm_error *err)
{
    return store_job_claim_except(st, owner, now, lease_until, NULL, 0, out, err);
}

/* The vias as a JSON array of strings, in arr (released by the caller). */
static dm_err texts_json(const char *const *v, size_t n, struct buf *arr)
{
    buf_init(arr, IDS_MAX);
    dm_err e = buf_puts(arr, "[");
    for (size_t i = 0; i < n && !e; i++) {
        e = buf_puts(arr, i ? ",\"" : "\"");
        for (const char *p = v[i]; *p && !e; p++)
            e = (unsigned char)*p < 0x20  ? buf_printf(arr, "\\u%04x", *p)
                : *p == '"' || *p == '\\' ? buf_printf(arr, "\\%c", *p)
                                          : buf_printf(arr, "%c", *p);
        if (!e) e = buf_puts(arr, "\"");
    }
    return e ? e : buf_puts(arr, "]");
}

dm_err store_job_claim_except(struct store *st, const char *owner, int64_t now, int64_t lease_until,
                              const char *const *skip, size_t n_skip, struct store_job *out,
                              struct dm_error *err)
{
    struct buf skipped;
    dm_err e = texts_json(skip, n_skip, &skipped);
    if (e) {
        buf_release(&skipped);
        return dm_fail(err, e, "out of memory claiming a job");
    }
    struct db_args a;
    args_init(&a);
    arg_text(&a, owner, STORE_NAME_MAX);
    arg_int(&a, now);
    arg_int(&a, lease_until);
    arg_ref(&a, skipped.data);
    struct tx tx;
    bool found = false;
    e = tx_open(st, &tx, err);
    if (!e) e = tx_read_one(&tx, S_JOB_CLAIM, &a, row_job, out, &found, err);
    e = tx_close(&tx, e, err);
    buf_release(&skipped);
    return !e && !found ? dm_fail(err, DM_ENOTFOUND, "no job is waiting") : e;
}

static void row_job_account(const struct db_row *r, void *out)
{
    struct store_job_account *x = out;
    ROW_TEXT(r, 0, x->via);
    x->done = row_int(r, 1);
    x->skipped = row_int(r, 2);
    x->failed = row_int(r, 3);
}

dm_err store_job_accounts(struct store *st, int64_t job_id, struct store_job_account *out, int max,
                          int *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, job_id);
    arg_int(&a, max);
    struct db_stmt s = db_stmt_of(st, S_JOB_ACCOUNTS);
    return db_read(st, &s, &a, row_job_account, out, sizeof *out, max, n, err);
}

struct job_info {
    int state, kind;
    char admin[STORE_NAME_MAX], via[STORE_VIA_MAX];
};

/* Reads a job's state, kind, admin and via from columns col.. of r. */
static void row_job_info_at(const struct db_row *r, int col, struct job_info *x)
{
    x->state = (int)row_int(r, col);
    x->kind = (int)row_int(r, col + 1);
    row_text(r, col + 2, x->admin, sizeof x->admin);
    row_text(r, col + 3, x->via, sizeof x->via);
}

static void row_job_info(const struct db_row *r, void *out)
{
    row_job_info_at(r, 0, out);
}

/* Reads a job's state, kind, admin and via inside tx. */
static dm_err job_info(struct tx *tx, int64_t id, struct job_info *out, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    bool found = false;
    dm_err e = tx_read_one(tx, S_JOB_INFO, &a, row_job_info, out, &found, err);
    return !e && !found ? dm_fail(err, DM_ENOTFOUND, "no job with id %" PRId64, id) : e;
}

/* The error for a job update that changed nothing because `owner` no longer holds the job. */
static dm_err lease_lost(struct tx *tx, int64_t job_id, struct dm_error *err)
{
    struct job_info j;
    dm_err e = job_info(tx, job_id, &j, err);
    return e ? e
             : dm_fail(err, DM_ECONFLICT,
                       j.state == JOB_RUNNING ? "job %" PRId64 " is held by another worker"
                                              : "job %" PRId64 " is %s",
                       job_id, job_state_name(j.state));
}

dm_err store_job_renew(struct store *st, int64_t id, const char *owner, int64_t lease_until,
                       struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    arg_text(&a, owner, STORE_NAME_MAX);
    arg_int(&a, lease_until);
    int64_t changes = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_JOB_RENEW, &a, NULL, NULL, &changes, err);
    if (!e && changes == 0) e = lease_lost(&tx, id, err);
    return tx_close(&tx, e, err);
}

dm_err store_job_items(struct store *st, int64_t job_id, int outcome, int64_t after, int limit,
                       struct store_item *out, int *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, job_id);
    arg_int(&a, outcome);
    arg_int(&a, after);
    arg_int(&a, limit);
    struct db_stmt s = db_stmt_of(st, S_ITEMS);
    return db_read(st, &s, &a, row_item, out, sizeof *out, limit, n, err);
}

dm_err store_job_next_items(struct store *st, int64_t job_id, int64_t after, int limit,
                            struct store_item *out, int *n, struct dm_error *err)
{
    return store_job_items(st, job_id, ITEM_PENDING, after, limit, out, n, err);
}

/* ---- finishing items ---- */

/* A job item as S_ITEMS_GET reads it, with its request and its job. */
struct item_state {
    int64_t request_id;
    int outcome, req_status;
    int64_t chat_id, user_id;
    char verdict[STORE_TEXT_MAX];
    struct job_info j;
};

static void row_item_state(const struct db_row *r, void *out)
{
    struct item_state *x = out;
    x->request_id = row_int(r, 0);
    x->outcome = (int)row_int(r, 1);
    x->chat_id = row_int(r, 2);
    x->user_id = row_int(r, 3);
    x->req_status = (int)row_int(r, 4);
    row_text(r, 5, x->verdict, sizeof x->verdict);
    row_job_info_at(r, 6, &x->j);
}

/* Changes the request as the item's outcome says: decided (by the job, or as Telegram told),
 * or its last error. */
static dm_err item_request(struct tx *tx, const struct store_item *it, int outcome, bool told,
                           int kind, const struct store_audit *au, int64_t now,
                           struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, it->request_id);
    if (outcome == ITEM_DONE || told) {
        /* told: someone decided it in Telegram before this job; Telegram does not say who */
        int status = told ? it->final_status : kind == JOB_APPROVE ? REQ_APPROVED : REQ_DECLINED;
        const char *by = told ? "" : au->admin, *via = told ? STORE_VIA_TELEGRAM : au->via;
        arg_int(&a, status);
        arg_int(&a, now);
        arg_text(&a, by, sizeof au->admin);
        arg_text(&a, via, sizeof au->via);
        dm_err e = tx_run(tx, S_REQUEST_DECIDE, &a, NULL, NULL, NULL, err);
        struct store_event ev = {.kind = EV_DECISION,
                                 .at = now,
                                 .chat_id = au->chat_id,
                                 .request_id = it->request_id,
                                 .user_id = au->user_id,
                                 .job_id = it->job_id};
        dm_strlcpy(ev.subject, by, sizeof ev.subject);
        dm_strlcpy(ev.result, request_status_name(status), sizeof ev.result);
        dm_strlcpy(ev.detail, via, sizeof ev.detail);
        return e ? e : tx_event(tx, &ev, err);
    }
    if (outcome != ITEM_FAILED) return DM_OK;
    arg_text(&a, it->error, sizeof it->error);
    return tx_run(tx, S_REQUEST_SET_ERROR, &a, NULL, NULL, NULL, err);
}

/* The outcomes of a run of items of one job, counted into it once after them (count_items),
 * so the job's row is locked by the run's last statement only. */
struct counts {
    int64_t done, skipped, failed;
};

static dm_err count_items(struct tx *tx, int64_t job_id, const struct counts *c, int64_t now,
                          struct dm_error *err)
{
    if (!c->done && !c->skipped && !c->failed) return DM_OK;
    struct db_args a;
    args_init(&a);
    arg_int(&a, job_id);
    arg_int(&a, c->done);
    arg_int(&a, c->skipped);
    arg_int(&a, c->failed);
    arg_int(&a, now);
    return tx_run(tx, S_JOB_COUNT_ITEM, &a, NULL, NULL, NULL, err);
}

/* Finishes item it, as is read it, inside tx; its outcome is added to *c. */
static dm_err item_finish(struct tx *tx, const struct item_state *is, const struct store_item *it,
                          struct counts *c, int64_t now, struct dm_error *err)
{
    if (is->outcome != ITEM_PENDING) return DM_OK; /* finished before: leave it as it was */
    const struct job_info *j = &is->j;
    struct store_audit au = {.request_id = it->request_id,
                             .job_id = it->job_id,
                             .at = now,
                             .chat_id = is->chat_id,
                             .user_id = is->user_id};
    dm_strlcpy(au.admin, j->admin, sizeof au.admin);
    dm_strlcpy(au.via, it->via[0] ? it->via : j->via, sizeof au.via);
    dm_strlcpy(au.action, job_kind_name(j->kind), sizeof au.action);
    dm_strlcpy(au.detail, it->error, sizeof au.detail);

    int outcome = it->outcome;
    if (outcome == ITEM_DONE && is->req_status != REQ_PENDING) {
        outcome = ITEM_SKIPPED; /* decided elsewhere since the job read it */
        if (!au.detail[0])
            snprintf(au.detail, sizeof au.detail, "already %s",
                     request_status_name(is->req_status));
    }
    /* a decision of the rules says which rule made it */
    if (outcome == ITEM_DONE && !au.detail[0] && strcmp(j->admin, STORE_RULES_ADMIN) == 0)
        dm_strlcpy(au.detail, is->verdict, sizeof au.detail);
    /* Telegram's "already handled" means the request is no longer pending there: record the
     * status its answer tells, so the request leaves the pending list. */
    bool told = outcome == ITEM_SKIPPED && is->req_status == REQ_PENDING &&
                (it->final_status == REQ_APPROVED || it->final_status == REQ_DECLINED);
    dm_err e = item_request(tx, it, outcome, told, j->kind, &au, now, err);

    struct db_args u;
    args_init(&u);
    arg_int(&u, it->job_id);
    arg_int(&u, it->request_id);
    arg_int(&u, outcome);
    arg_text(&u, au.detail, sizeof au.detail);
    arg_text(&u, it->via, sizeof it->via);
    if (!e) e = tx_run(tx, S_ITEM_SET, &u, NULL, NULL, NULL, err);
    if (e) return e;
    c->done += outcome == ITEM_DONE;
    c->skipped += outcome == ITEM_SKIPPED;
    c->failed += outcome == ITEM_FAILED;
    static const char *const results[] = {
        [ITEM_DONE] = "ok", [ITEM_SKIPPED] = "already_handled", [ITEM_FAILED] = "error"};
    dm_strlcpy(au.result, results[outcome], sizeof au.result);
    e = tx_audit(tx, &au, err);
    if (e || !it->banned) return e;
    struct db_args b;
    args_init(&b);
    arg_int(&b, it->request_id);
    arg_int(&b, 1);
    e = tx_run(tx, S_REQUEST_SET_BANNED, &b, NULL, NULL, NULL, err);
    dm_strlcpy(au.action, "ban", sizeof au.action);
    dm_strlcpy(au.result, "ok", sizeof au.result);
    return e ? e : tx_audit(tx, &au, err);
}

static int state_cmp(const void *key, const void *elem)
{
    int64_t k = *(const int64_t *)key, v = ((const struct item_state *)elem)->request_id;
    return (k > v) - (k < v);
}

/* Finishes items[0..n), all of job_id, inside tx: their states read with one statement (on
 * PostgreSQL one round trip, locking them in request id order), then each one's writes, then
 * the job's counts. */
static dm_err items_finish_run(struct tx *tx, int64_t job_id, const struct store_item *items,
                               size_t n, int64_t now, struct dm_error *err)
{
    int64_t *ids = malloc(n * sizeof *ids);
    struct item_state *states = malloc(n * sizeof *states);
    struct buf arr = {0};
    dm_err e = ids && states ? DM_OK : DM_ENOMEM;
    for (size_t i = 0; i < n && !e; i++)
        ids[i] = items[i].request_id;
    if (!e) e = ids_json(ids, n, &arr);
    if (e) e = dm_fail(err, e, "out of memory finishing %zu job items", n);
    struct db_args a;
    args_init(&a);
    arg_int(&a, job_id);
    arg_ref(&a, arr.data);
    struct db_collect got = {
        .fn = row_item_state, .out = (char *)states, .size = sizeof *states, .limit = (int)n};
    if (!e) e = tx_run(tx, S_ITEMS_GET, &a, db_collect_row, &got, NULL, err);
    struct counts c = {0};
    for (size_t i = 0; i < n && !e; i++) {
        struct item_state *is =
            bsearch(&items[i].request_id, states, (size_t)got.n, sizeof *states, state_cmp);
        if (!is)
            e = dm_fail(err, DM_ENOTFOUND, "job %" PRId64 " has no item for request %" PRId64,
                        job_id, items[i].request_id);
        else
            e = item_finish(tx, is, &items[i], &c, now, err);
        if (!e && is->outcome == ITEM_PENDING) is->outcome = items[i].outcome; /* given twice */
    }
    if (!e) e = count_items(tx, job_id, &c, now, err);
    buf_release(&arr);
    free(ids);
    free(states);
    return e;
}

dm_err store_job_items_finish(struct store *st, const struct store_item *items, size_t n,
                              int64_t now, struct dm_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].outcome != ITEM_DONE && items[i].outcome != ITEM_SKIPPED &&
            items[i].outcome != ITEM_FAILED)
            return dm_fail(err, DM_EINVAL, "a job item cannot finish with outcome %d",
                           items[i].outcome);
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    for (size_t i = 0, run; i < n && !e; i += run) { /* runs of items of one job */
        for (run = 1; i + run < n && items[i + run].job_id == items[i].job_id; run++)
            ;
        e = items_finish_run(&tx, items[i].job_id, items + i, run, now, err);
    }
    return tx_close(&tx, e, err);
}

dm_err store_job_set_wait(struct store *st, int64_t id, int64_t wait_until, const char *why,
                          struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    arg_int(&a, wait_until);
    arg_text(&a, why ? why : "", STORE_ERROR_MAX);
    int64_t changes = 0;
    dm_err e = db_exec(st, S_JOB_SET_WAIT, &a, &changes, err);
    return !e && changes == 0 ? dm_fail(err, DM_ENOTFOUND, "no job with id %" PRId64, id) : e;
}

dm_err store_job_finish(struct store *st, int64_t id, int state, const char *error, int64_t now,
                        struct dm_error *err)
{
    if (state != JOB_DONE && state != JOB_FAILED && state != JOB_CANCELLED)
        return dm_fail(err, DM_EINVAL, "a job cannot finish in state %s", job_state_name(state));
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    arg_int(&a, state);
    arg_text(&a, error, STORE_ERROR_MAX);
    arg_int(&a, now);
    int64_t changes = 0;
    struct tx tx;
    struct job_info j;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_JOB_FINISH, &a, NULL, NULL, &changes, err);
    if (!e && changes == 0) {
        e = job_info(&tx, id, &j, err);
        if (!e)
            e = dm_fail(err, DM_ECONFLICT, "job %" PRId64 " has already finished (%s)", id,
                        job_state_name(j.state));
    }
    struct store_event ev = {
        .kind = state == JOB_FAILED ? EV_JOB_FAILED : EV_JOB_FINISHED, .at = now, .job_id = id};
    dm_strlcpy(ev.result, job_state_name(state), sizeof ev.result);
    dm_snprintf_utf8(ev.detail, sizeof ev.detail, "%s", error ? error : "");
    if (!e) e = tx_event(&tx, &ev, err);
    return tx_close(&tx, e, err);
}

/* ---- load jobs ---- */

/* Begins a with what an update of a job held by owner starts with: $1 the job, $2 the owner,
 * $3 the cursor. */
static void args_owned(struct db_args *a, int64_t job_id, const char *owner, const char *cursor)
{
    args_init(a);
    arg_int(a, job_id);
    arg_text(a, owner, STORE_NAME_MAX);
    arg_text(a, cursor ? cursor : "", sizeof((struct store_job *)0)->cursor);
}

dm_err store_job_create_load(struct store *st, const struct store_job *job, int64_t now,
                             int64_t *id, struct dm_error *err)
{
    if (job->kind != JOB_LOAD)
        return dm_fail(err, DM_EINVAL, "job_create_load makes load jobs, not kind %d", job->kind);
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = job_insert(&tx, job, now, id, err);
    return tx_close(&tx, e, err);
}

/* A load job's page of rows as noted (store_job_load_page): the request recorded for each row
 * of a batch request_insert_then recorded, an item done by the account `via` in job job_id;
 * noted counts those the job had not noted before (a row read again is counted once). */
struct loaded_items {
    int64_t job_id;
    const char *via;
    int64_t noted;
};

/* A request_then step: one statement for the batch (S_ITEM_ADD_LOADED reads it staged on
 * SQLite, as its last argument on PostgreSQL). */
static dm_err loaded_items_add(void *ctx, struct tx *tx, const char *batch, struct dm_error *err)
{
    struct loaded_items *li = ctx;
    struct db_args a;
    args_init(&a);
    arg_int(&a, li->job_id);
    arg_text(&a, li->via, STORE_NAME_MAX);
    if (batch) arg_ref(&a, batch);
    int64_t changes = 0;
    dm_err e = tx_run(tx, S_ITEM_ADD_LOADED, &a, NULL, NULL, &changes, err);
    li->noted += e ? 0 : changes;
    return e;
}

dm_err store_job_load_page(struct store *st, int64_t job_id, const char *owner, const char *via,
                           const struct store_request *rows, size_t n, const char *cursor,
                           int64_t total, int64_t now, int64_t *counted, int64_t *added,
                           struct dm_error *err)
{
    int64_t changes = 0;
    size_t new_rows = 0;
    struct loaded_items li = {.job_id = job_id, .via = via};
    struct request_then then = {.fn = loaded_items_add, .ctx = &li};
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = request_insert_then(&tx, rows, n, &then, &new_rows, err);
    struct db_args a;
    args_owned(&a, job_id, owner, cursor);
    arg_int(&a, total);
    arg_int(&a, li.noted);
    arg_int(&a, now);
    if (!e) e = tx_run(&tx, S_JOB_LOAD_PAGE, &a, NULL, NULL, &changes, err);
    if (!e && changes == 0) e = lease_lost(&tx, job_id, err);
    e = tx_close(&tx, e, err);
    if (counted) *counted = e ? 0 : li.noted;
    if (added) *added = e ? 0 : (int64_t)new_rows;
    return e;
}

/* ---- decision jobs that decide a channel at once ---- */

/* Sets the job's cursor if `owner` holds it (DM_ECONFLICT otherwise), inside tx. */
static dm_err job_cursor_set(struct tx *tx, int64_t job_id, const char *owner, const char *cursor,
                             int64_t now, struct dm_error *err)
{
    struct db_args a;
    args_owned(&a, job_id, owner, cursor);
    arg_int(&a, now);
    int64_t changes = 0;
    dm_err e = tx_run(tx, S_JOB_SET_CURSOR, &a, NULL, NULL, &changes, err);
    return !e && changes == 0 ? lease_lost(tx, job_id, err) : e;
}

/* A request_then step: an item of the job for each row of the batch pending here. */
static dm_err page_items_add(void *ctx, struct tx *tx, const char *batch, struct dm_error *err)
{
    const int64_t *job_id = ctx;
    struct db_args a;
    args_init(&a);
    arg_int(&a, *job_id);
    if (batch) arg_ref(&a, batch);
    int64_t changes = 0;
    dm_err e = tx_run(tx, S_ITEM_ADD_PAGE, &a, NULL, NULL, &changes, err);
    return e ? e : job_add_total(tx, *job_id, changes, err);
}

dm_err store_job_add_page(struct store *st, int64_t job_id, const char *owner,
                          const struct store_request *rows, size_t n, const char *cursor,
                          int64_t now, struct dm_error *err)
{
    struct request_then then = {.fn = page_items_add, .ctx = &job_id};
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = job_cursor_set(&tx, job_id, owner, cursor, now, err);
    size_t recorded = 0;
    if (!e) e = request_insert_then(&tx, rows, n, &then, &recorded, err);
    return tx_close(&tx, e, err);
}

struct chat_batch {
    struct store_item *items; /* CHAT_BATCH */
    int n;
};

static dm_err batch_row(void *ctx, const struct db_row *r)
{
    struct chat_batch *b = ctx;
    if (b->n < CHAT_BATCH) b->items[b->n++].request_id = row_int(r, 0);
    return DM_OK;
}

dm_err store_job_finish_chat(struct store *st, int64_t job_id, const char *owner, int64_t chat_id,
                             bool whole_chat, int outcome, const char *error, const char *cursor,
                             int64_t now, int64_t *finished, struct dm_error *err)
{
    if (outcome != ITEM_DONE && outcome != ITEM_FAILED)
        return dm_fail(err, DM_EINVAL, "a channel's items finish done or failed, not %d", outcome);
    if (finished) *finished = 0;
    int64_t total = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = job_cursor_set(&tx, job_id, owner, cursor, now, err);
    struct job_info j; /* the job's one account decided the channel */
    if (!e) e = job_info(&tx, job_id, &j, err);
    if (!e && outcome == ITEM_DONE && whole_chat) {
        struct db_args a;
        args_init(&a);
        arg_int(&a, job_id);
        arg_int(&a, chat_id);
        int64_t changes = 0;
        e = tx_run(&tx, S_ITEM_ADD_CHAT, &a, NULL, NULL, &changes, err);
        if (!e) e = job_add_total(&tx, job_id, changes, err);
    }
    struct chat_batch b = {.items = e ? NULL : malloc(CHAT_BATCH * sizeof *b.items)};
    if (!e && !b.items) e = dm_fail(err, DM_ENOMEM, "out of memory finishing a channel's items");
    for (int i = 0; i < CHAT_BATCH && b.items; i++) {
        b.items[i] =
            (struct store_item){.job_id = job_id, .outcome = outcome, .final_status = REQ_PENDING};
        dm_strlcpy(b.items[i].error, error ? error : "", sizeof b.items[i].error);
        dm_strlcpy(b.items[i].via, j.via, sizeof b.items[i].via);
    }
    /* finished items leave the pending set, so each batch starts from the first left */
    for (bool more = !e; more && !e;) {
        struct db_args a;
        args_init(&a);
        arg_int(&a, job_id);
        arg_int(&a, chat_id);
        arg_int(&a, CHAT_BATCH);
        b.n = 0;
        e = tx_run(&tx, S_ITEMS_OF_CHAT, &a, batch_row, &b, NULL, err);
        if (!e && b.n) e = items_finish_run(&tx, job_id, b.items, (size_t)b.n, now, err);
        total += b.n;
        more = b.n == CHAT_BATCH;
    }
    free(b.items);
    e = tx_close(&tx, e, err);
    if (finished) *finished = e ? 0 : total;
    return e;
}

/* ---- pieces for other parts of the store (job_tx.h) ---- */

dm_err job_tx_held(struct tx *tx, int64_t job_id, const char *owner, int64_t now,
                   struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, job_id);
    arg_text(&a, owner, STORE_NAME_MAX);
    arg_int(&a, now);
    int64_t changes = 0;
    dm_err e = tx_run(tx, S_JOB_TOUCH, &a, NULL, NULL, &changes, err);
    return !e && changes == 0 ? lease_lost(tx, job_id, err) : e;
}

dm_err job_tx_item_done(struct tx *tx, int64_t job_id, int64_t request_id, int64_t *done,
                        struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, job_id);
    arg_int(&a, request_id);
    int64_t changes = 0;
    dm_err e = tx_run(tx, S_ITEM_DONE, &a, NULL, NULL, &changes, err);
    if (!e) *done += changes;
    return e;
}

dm_err job_tx_count_done(struct tx *tx, int64_t job_id, int64_t done, int64_t now,
                         struct dm_error *err)
{
    struct db_args c;
    args_init(&c);
    arg_int(&c, job_id);
    arg_int(&c, done);
    arg_int(&c, 0);
    arg_int(&c, 0);
    arg_int(&c, now);
    return tx_run(tx, S_JOB_COUNT_ITEM, &c, NULL, NULL, NULL, err);
}

dm_err job_tx_add_queued(struct tx *tx, const struct store_job *job, const int64_t *ids, size_t n,
                         int64_t now, struct dm_error *err)
{
    struct db_args f;
    args_init(&f);
    arg_int(&f, job->kind);
    arg_text(&f, job->via, sizeof job->via);
    arg_text(&f, job->params, sizeof job->params);
    int64_t job_id = 0, total = 0;
    bool found = false;
    dm_err e = tx_read_one(tx, S_RULES_JOB_FIND, &f, row_int0, &job_id, &found, err);
    if (!e && !found) e = job_insert(tx, job, now, &job_id, err);
    struct buf arr;
    dm_err b = ids_json(ids, n, &arr);
    if (!e && b) e = dm_fail(err, b, "out of memory handing decisions to a job");
    struct db_args add;
    args_init(&add);
    arg_int(&add, job_id);
    arg_ref(&add, arr.data);
    if (!e) e = tx_run(tx, S_JOB_ITEMS_ADD_IDS, &add, NULL, NULL, &total, err);
    if (!e) e = job_add_total(tx, job_id, total, err);
    buf_release(&arr);
    return e;
}
