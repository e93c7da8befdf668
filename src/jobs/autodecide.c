/* autodecide.c: the thread that judges arriving requests and hands due decisions to jobs, and
 * the apply job's step (see autodecide.h). */
#include "core/common.h"
#include "jobs/autodecide.h"

#include "core/log.h"
#include "jobs/guard.h"
#include "jobs/deliver.h"
#include "jobs/judge.h"
#include "jobs/runner.h"
#include "store/leased_loop.h"
#include "verify/verification.h"

#define BATCH 200         /* requests judged in one transaction */
#define DISPATCH_MAX 1000 /* decisions handed over in one transaction */
#define DELIVER_MAX 20    /* verifications' messages sent in one round */
#define LEASE "rules"
#define LEASE_S 10
#define IDLE_S 1.0    /* looks again at least this often */
#define TROUBLE_S 2.0 /* after the store failed */

static const char *const C = "rules";

struct autodecide {
    struct store *store;
    struct job_runner *runner;
    struct guard *guard;
    const struct accounts *accounts;
    const char *public_url;
    struct leased_loop *loop;
    struct judge *judge;
};

/* Judges rows[0..n) and records the verdicts (job_id: an apply job's items), answering their
 * join-request queries through guard when it is not NULL. A request whose verdict cannot be
 * made (the store failing) stops the batch there: what was judged before it is recorded, the
 * rest is judged again later. *judged gets how many were recorded. */
static dm_err judge_rows(struct store *st, struct judge *j, struct guard *guard,
                         const struct store_request *rows, int n, bool recheck,
                         struct store_verdict *v, int64_t job_id, const char *owner, int *judged,
                         struct dm_error *err)
{
    *judged = 0;
    int64_t now = (int64_t)time(NULL);
    judge_reset(j); /* rules edited since the last batch count from this one */
    dm_err e = DM_OK;
    int k = 0;
    for (; k < n && !e; k++)
        e = judge_request(j, &rows[k], recheck, now, &v[k], err);
    if (e) k--;
    if (k == 0) return e;
    struct dm_error rerr = {0};
    dm_err r = guard ? guard_take(guard, rows, v, k, &rerr) : DM_OK;
    if (r) log_warn(C, "join-request queries left unanswered (queued): %s", rerr.msg);
    r = store_verdicts_record(st, v, (size_t)k, job_id, owner, now, &rerr);
    if (guard) guard_go(guard); /* recorded or not: each answer records itself */
    if (r) return dm_fail(err, r, "%s", rerr.msg);
    *judged = k;
    return e;
}

/* One round: judge what is new, then the rechecks due, then hand over what is due, with rows
 * and verdicts for BATCH requests. *more when a batch was full (go again at once); *next_due the
 * earliest due time left. */
static dm_err round_work(struct autodecide *a, struct store_request *rows,
                         struct store_verdict *verdicts, bool *more, int64_t *next_due,
                         struct dm_error *err)
{
    struct store *st = a->store;
    *more = false;
    int n = 0, judged = 0;
    dm_err e = a->guard ? guard_sweep(a->guard, err) : DM_OK;
    if (!e) e = store_unevaluated(st, 0, BATCH, rows, &n, err);
    if (!e && n)
        e = judge_rows(st, a->judge, a->guard, rows, n, false, verdicts, 0, "", &judged, err);
    if (e) return e;
    *more |= n == BATCH;
    if (judged) log_debug(C, "judged %d new requests", judged);

    /* delayed approvals that came due, then checks that failed before */
    for (int action = DUE_RECHECK; action <= DUE_RETRY; action++) {
        e = store_judging_due(st, action, (int64_t)time(NULL), BATCH, rows, &n, err);
        if (!e && n)
            e = judge_rows(st, a->judge, NULL, rows, n, action == DUE_RECHECK, verdicts, 0, "",
                           &judged, err);
        if (e) return e;
        *more |= n == BATCH;
    }

    /* verifications past their deadline: their end is a verdict like the rules' */
    int ended = 0;
    e = verification_timeouts(st, (int64_t)time(NULL), BATCH, &ended, err);
    if (e) return e;
    if (ended) log_info(C, "%d verifications timed out", ended);
    *more |= ended == BATCH;

    int64_t handed = 0;
    e = store_due_dispatch(st, (int64_t)time(NULL), DISPATCH_MAX, &handed, next_due, err);
    if (e) return e;
    if (handed) {
        log_debug(C, "handed %" PRId64 " decisions to jobs", handed);
        job_runner_wake(a->runner);
    }
    *more |= handed == DISPATCH_MAX;
    int sent = 0;
    if (a->public_url)
        e = deliver_round(st, a->accounts, a->public_url, (int64_t)time(NULL), DELIVER_MAX, &sent,
                          err);
    if (e) return e;
    if (sent) log_info(C, "sent %d verifications to their applicants", sent);
    *more |= sent == DELIVER_MAX;
    int64_t deadline = 0;
    e = store_verification_next_deadline(st, &deadline, err);
    if (!e && deadline && (!*next_due || deadline < *next_due)) *next_due = deadline;
    return e;
}

/* round_work with its arrays made for the round and freed after it: kept between rounds, the
 * rows of the last batch (4.5 KB each, 0.9 MB for BATCH) stayed resident in an idle process
 * (docs/operations.md, Performance: Idle RSS). The rows come from one mapping, and only those
 * read are ever touched. */
static dm_err round_once(struct autodecide *a, bool *more, int64_t *next_due, struct dm_error *err)
{
    struct store_request *rows = malloc(BATCH * sizeof *rows);
    struct store_verdict *verdicts = malloc(BATCH * sizeof *verdicts);
    dm_err e = rows && verdicts ? round_work(a, rows, verdicts, more, next_due, err)
                                : dm_fail(err, DM_ENOMEM, "out of memory");
    free(rows);
    free(verdicts);
    return e;
}

/* The loop's round: round_once, and the wait until the next due time. */
static dm_err round_due(void *ctx, struct leased_loop *l, double *wait_s, struct dm_error *err)
{
    bool more = false;
    int64_t next_due = 0;
    dm_err e = round_once(ctx, &more, &next_due, err);
    if (more) *wait_s = 0;
    if (next_due) *wait_s = DM_MIN(*wait_s, DM_MAX((double)(next_due - (int64_t)time(NULL)), 0));
    return e;
}

static void autodecide_free(struct autodecide *a)
{
    judge_free(a->judge);
    free(a);
}

dm_err autodecide_start(const struct autodecide_config *cfg, struct autodecide **out,
                        struct dm_error *err)
{
    *out = NULL;
    struct autodecide *a = calloc(1, sizeof *a);
    if (!a) return dm_fail(err, DM_ENOMEM, "out of memory");
    a->store = cfg->store;
    a->runner = cfg->runner;
    a->guard = cfg->guard;
    a->accounts = cfg->accounts;
    a->public_url = cfg->public_url;
    dm_err e = judge_new(a->store, cfg->accounts, false, &a->judge, err);
    struct leased_loop_config lc = {.store = cfg->store,
                                    .lease = LEASE,
                                    .owner = cfg->owner,
                                    .lease_s = LEASE_S,
                                    .idle_s = IDLE_S,
                                    .trouble_s = TROUBLE_S,
                                    .tag = C,
                                    .doing = "deciding by rules",
                                    .holder = "this instance decides by the rules",
                                    .other = "another instance decides by the rules",
                                    .round = round_due,
                                    .ctx = a};
    if (!e) e = leased_loop_start(&lc, &a->loop, err);
    if (e) {
        autodecide_free(a);
        return e;
    }
    store_on_request_added(a->store, leased_loop_wake, a->loop);
    *out = a;
    return DM_OK;
}

void autodecide_stop(struct autodecide *a)
{
    if (!a) return;
    store_on_request_added(a->store, NULL, NULL);
    leased_loop_stop(a->loop);
    autodecide_free(a);
}

/* ---- the apply job ---- */

dm_err apply_run_init(struct apply_run *ar, struct store *st, const struct accounts *as,
                      const struct store_job *job, struct dm_error *err)
{
    *ar = (struct apply_run){.store = st, .job_id = job->id};
    return judge_new(st, as, true, &ar->judge, err);
}

void apply_run_release(struct apply_run *ar)
{
    judge_free(ar->judge);
    ar->judge = NULL;
}

#define APPLY_BATCH 100

dm_err apply_run_step(struct apply_run *ar, const char *owner, bool *finished, struct tg_error *te)
{
    *finished = false;
    struct store_item items[APPLY_BATCH];
    struct store_request rows[APPLY_BATCH];
    struct store_verdict v[APPLY_BATCH];
    struct dm_error err = {0};
    int n = 0, k = 0;
    dm_err e = store_job_next_items(ar->store, ar->job_id, 0, APPLY_BATCH, items, &n, &err);
    for (int i = 0; !e && i < n; i++)
        e = store_request_get(ar->store, items[i].request_id, &rows[k++], &err);
    int judged = 0;
    if (!e && n)
        e = judge_rows(ar->store, ar->judge, NULL, rows, k, false, v, ar->job_id, owner, &judged,
                       &err);
    ar->judged += judged;
    if (e == DM_ECONFLICT) return e;
    if (e) return tg_error_local(te, e, "%s", err.msg);
    *finished = n == 0;
    return DM_OK;
}
