/* queries.c: join-request queries (store.h, "join-request queries"): recorded with their
 * request, claimed once, finished with the decision or the rules' judging again. */
#include "core/common.h"

#include "store/job_tx.h"
#include "store/requests.h"
#include "store/rows.h"

const char *query_state_name(int state)
{
    static const char *const names[] = {"open", "sending", "answered", "late", "failed", "web_app"};
    return state >= 0 && state < (int)DM_ARRAY_LEN(names) ? names[state] : "unknown";
}

static void row_query(const struct db_row *r, void *out)
{
    struct store_query *q = out;
    q->request_id = row_int(r, 0);
    ROW_TEXT(r, 1, q->query_id);
    q->deadline_ms = row_int(r, 2);
    q->state = (int)row_int(r, 3);
    ROW_TEXT(r, 4, q->result);
    q->answered_at_ms = row_int(r, 5);
    ROW_TEXT(r, 6, q->error);
}

dm_err store_request_add_query(struct store *st, const struct store_request *r,
                               const char *query_id, int64_t deadline_ms, bool *inserted,
                               struct dm_error *err)
{
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    size_t n = 0;
    if (!e) e = request_insert(&tx, r, 1, &n, err);
    if (inserted) *inserted = !e && n == 1;
    struct db_args a;
    args_init(&a);
    arg_int(&a, r->chat_id);
    arg_int(&a, r->user_id);
    arg_text(&a, query_id, STORE_QUERY_ID_MAX);
    arg_int(&a, deadline_ms);
    if (!e) e = tx_run(&tx, S_QUERY_ADD, &a, NULL, NULL, NULL, err);
    return tx_close(&tx, e, err);
}

static bool has_id(const int64_t *ids, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (ids[i] == id) return true;
    return false;
}

dm_err store_queries_claim(struct store *st, const int64_t *ids, size_t n, int64_t until_ms,
                           const char *late_why, struct store_query *out, size_t *nout,
                           struct dm_error *err)
{
    *nout = 0;
    if (n == 0) return DM_OK;
    /* the batch's open queries, read first: most requests come without one, and then no write
     * transaction is needed */
    int64_t *open = malloc(n * sizeof *open);
    if (!open) return dm_fail(err, DM_ENOMEM, "out of memory reading queries");
    struct db_args a;
    args_init(&a);
    arg_int(&a, ids[0]);
    arg_int(&a, ids[n - 1]);
    arg_int(&a, (int64_t)n);
    int nopen = 0;
    struct db_stmt s = db_stmt_of(st, S_QUERY_OPEN);
    dm_err e = db_read(st, &s, &a, row_int0, open, sizeof *open, (int)n, &nopen, err);
    if (e || nopen == 0) {
        free(open);
        return e;
    }
    struct tx tx;
    e = tx_open(st, &tx, err);
    for (size_t i = 0; i < n && !e; i++) {
        if (!has_id(open, nopen, ids[i])) continue;
        struct db_args c;
        args_init(&c);
        arg_int(&c, ids[i]);
        arg_int(&c, until_ms);
        bool found = false;
        e = tx_read_one(&tx, S_QUERY_CLAIM, &c, row_query, &out[*nout], &found, err);
        if (!e && !found) {
            struct db_args l;
            args_init(&l);
            arg_int(&l, ids[i]);
            arg_text(&l, late_why, STORE_ERROR_MAX);
            e = tx_read_one(&tx, S_QUERY_LATE, &l, row_query, &out[*nout], &found, err);
        }
        if (!e && found) (*nout)++;
    }
    free(open);
    e = tx_close(&tx, e, err);
    if (e) *nout = 0;
    return e;
}

dm_err store_query_finish(struct store *st, const struct store_query *q, int decide, bool rejudge,
                          const struct store_audit *au, int64_t now, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, q->request_id);
    arg_int(&a, q->state);
    arg_text(&a, q->result, sizeof q->result);
    arg_int(&a, q->answered_at_ms);
    arg_text(&a, q->error, STORE_ERROR_MAX);
    int64_t changes = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_QUERY_FINISH, &a, NULL, NULL, &changes, err);
    if (!e && !changes)
        e = dm_fail(err, DM_ECONFLICT, "the query of request %" PRId64 " is not being answered",
                    q->request_id);
    struct db_args k;
    args_init(&k);
    arg_int(&k, q->request_id);
    if (!e && (decide == REQ_APPROVED || decide == REQ_DECLINED)) {
        struct db_args d;
        args_init(&d);
        arg_int(&d, q->request_id);
        arg_int(&d, decide);
        arg_int(&d, now);
        arg_ref(&d, STORE_RULES_ADMIN);
        arg_ref(&d, "bot");
        int64_t decided = 0;
        e = tx_run(&tx, S_REQUEST_DECIDE, &d, NULL, NULL, &decided, err);
        if (!e) e = tx_run(&tx, S_DUE_DELETE, &k, NULL, NULL, NULL, err);
        if (!e && decided && au) { /* for the webhooks, as a job's decision (store/jobs.c) */
            struct store_event ev = {.kind = EV_DECISION,
                                     .at = now,
                                     .chat_id = au->chat_id,
                                     .request_id = q->request_id,
                                     .user_id = au->user_id};
            dm_strlcpy(ev.subject, STORE_RULES_ADMIN, sizeof ev.subject);
            dm_strlcpy(ev.result, request_status_name(decide), sizeof ev.result);
            dm_strlcpy(ev.detail, "bot", sizeof ev.detail);
            e = tx_event(&tx, &ev, err);
        }
    }
    if (!e && rejudge) e = tx_run(&tx, S_QUERY_REJUDGE, &k, NULL, NULL, NULL, err);
    if (!e && au) e = tx_audit(&tx, au, err);
    return tx_close(&tx, e, err);
}

dm_err store_queries_sweep(struct store *st, int64_t before_ms, const char *why, int64_t *n,
                           struct dm_error *err)
{
    *n = 0;
    struct db_args a;
    args_init(&a);
    arg_int(&a, before_ms);
    struct db_args b;
    args_init(&b);
    arg_int(&b, before_ms);
    arg_text(&b, why, STORE_ERROR_MAX);
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_QUERY_SWEEP_REJUDGE, &a, NULL, NULL, NULL, err);
    if (!e) e = tx_run(&tx, S_QUERY_SWEEP, &b, NULL, NULL, n, err);
    return tx_close(&tx, e, err);
}

dm_err store_query_get(struct store *st, int64_t request_id, struct store_query *out,
                       struct dm_error *err)
{
    return db_read_id(st, S_QUERY_GET, request_id, row_query, out, "join-request query", err);
}
