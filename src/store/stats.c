/* stats.c: the statistics page's numbers from the rollups (see stats.h), read in one snapshot
 * on a read connection. */
#include "core/common.h"
#include "store/stats.h"

#include "store/db.h"

/* Rows appended to a malloc'd array of `size`-byte records, at most max (then *more). */
struct rows {
    void **arr;
    size_t *n;
    size_t size, cap, max;
    bool *more;
    void (*read)(const struct db_row *r, void *out);
};

static dm_err rows_add(void *ctx, const struct db_row *r)
{
    struct rows *x = ctx;
    if (*x->n >= x->max) {
        if (x->more) *x->more = true;
        return DM_OK;
    }
    if (*x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 64;
        void *a = realloc(*x->arr, cap * x->size);
        if (!a) return DM_ENOMEM;
        *x->arr = a;
        x->cap = cap;
    }
    void *out = (char *)*x->arr + *x->n * x->size;
    memset(out, 0, x->size);
    x->read(r, out);
    (*x->n)++;
    return DM_OK;
}

static void read_series(const struct db_row *r, void *out)
{
    struct stats_count *c = out;
    c->t = row_int(r, 0);
    c->chat_id = row_int(r, 1);
    c->pending = row_int(r, 2);
    c->approved = row_int(r, 3);
    c->declined = row_int(r, 4);
}

static void read_link(const struct db_row *r, void *out)
{
    struct stats_count *c = out;
    c->chat_id = row_int(r, 0);
    ROW_TEXT(r, 1, c->link);
    c->pending = row_int(r, 2);
    c->approved = row_int(r, 3);
    c->declined = row_int(r, 4);
}

static void read_decider(const struct db_row *r, void *out)
{
    struct stats_decider *d = out;
    ROW_TEXT(r, 0, d->by);
    ROW_TEXT(r, 1, d->via);
    d->rule_id = row_int(r, 2);
    ROW_TEXT(r, 3, d->rule_name);
    d->approved = row_int(r, 4);
    d->declined = row_int(r, 5);
}

static void read_latency(const struct db_row *r, void *out)
{
    struct stats_latency *l = out;
    l->lo = row_int(r, 0);
    l->hi = row_int(r, 1);
    l->n = row_int(r, 2);
}

/* Rows (bucket, n[, m]) read for the backlog: decisions (n approved, m declined) from the
 * range's first bucket on, each in its bucket of the flow or after the range; arrivals after
 * the range (those in it are the series'). */
struct since {
    const struct stats_query *q;
    int64_t first;
    int64_t *arrived, *decided; /* after the range */
    struct stats_flow *flow;
    size_t n_flow;
    bool decisions;
};

static dm_err since_add(void *ctx, const struct db_row *r)
{
    struct since *s = ctx;
    int64_t i = (row_int(r, 0) - s->first) / s->q->span;
    int64_t n = row_int(r, 1), m = s->decisions ? row_int(r, 2) : 0;
    if (s->decisions && i >= 0 && (size_t)i < s->n_flow) {
        s->flow[i].approved += n;
        s->flow[i].declined += m;
    } else if (i >= 0) {
        *(s->decisions ? s->decided : s->arrived) += n + m;
    }
    return DM_OK;
}

static dm_err run(struct store *st, struct db_conn *c, enum sql_id id, const struct db_args *a,
                  db_row_fn fn, void *ctx, struct dm_error *err)
{
    struct db_stmt s = db_stmt_of(st, id);
    dm_err e = st->d->run(c, &s, a, fn, ctx, NULL, err);
    if (e == DM_ENOMEM) return dm_fail(err, e, "out of memory %s", s.what);
    return e;
}

static dm_err pending_row(void *ctx, const struct db_row *r)
{
    *(int64_t *)ctx = row_int(r, 0);
    return DM_OK;
}

/* The whole weeks [*w1, *w2) of the day range first..last (buckets), or none (*w1 = *w2 past
 * the range) for hours or a range without one. */
static void weeks_of(int span, int64_t first, int64_t last, int64_t *w1, int64_t *w2)
{
    *w1 = (first + STATS_WEEK - 1) / STATS_WEEK * STATS_WEEK;
    *w2 = (last + span) / STATS_WEEK * STATS_WEEK;
    if (span != STATS_DAY || *w1 >= *w2) *w1 = *w2 = last + 1;
}

/* The statements of one snapshot. */
static dm_err read_all(struct store *st, struct db_conn *c, const struct stats_query *q,
                       int64_t first, int64_t last, struct store_stats *out, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, q->span);
    arg_int(&a, first);
    arg_int(&a, last);
    arg_int(&a, q->chat_id);
    struct db_args scoped = a;
    arg_ref(&scoped, q->scope);
    bool crowded = false;
    struct rows series = {(void **)&out->series, &out->n_series, sizeof *out->series, 0,
                          STATS_SERIES_MAX,      &crowded,       read_series};
    dm_err e = run(st, c, S_STATS_SERIES, &scoped, rows_add, &series, err);
    if (!e && crowded)
        return dm_fail(err, DM_EINVAL,
                       "the range holds more than %d (time, channel) pairs with requests: choose "
                       "a channel or a shorter range",
                       STATS_SERIES_MAX);

    int64_t w1, w2;
    weeks_of(q->span, first, last, &w1, &w2);
    struct db_args top = a;
    arg_int(&top, STATS_LINKS_MAX + 1);
    arg_int(&top, w1);
    arg_int(&top, w2);
    arg_ref(&top, q->scope);
    struct rows links = {(void **)&out->links, &out->n_links,    sizeof *out->links, 0,
                         STATS_LINKS_MAX,      &out->links_more, read_link};
    if (!e) e = run(st, c, S_STATS_LINKS, &top, rows_add, &links, err);
    top = a;
    arg_int(&top, STATS_DECIDERS_MAX + 1);
    arg_int(&top, w1);
    arg_int(&top, w2);
    arg_ref(&top, q->scope);
    struct rows deciders = {(void **)&out->deciders, &out->n_deciders,    sizeof *out->deciders, 0,
                            STATS_DECIDERS_MAX,      &out->deciders_more, read_decider};
    if (!e) e = run(st, c, S_STATS_DECIDERS, &top, rows_add, &deciders, err);

    /* the time to decision is kept by day (and week): the days the range touches */
    int64_t first_day = first / STATS_DAY * STATS_DAY;
    int64_t last_day = (last + q->span - 1) / STATS_DAY * STATS_DAY; /* the last bucket's last */
    weeks_of(STATS_DAY, first_day, last_day, &w1, &w2);
    struct db_args days;
    args_init(&days);
    arg_int(&days, STATS_DAY);
    arg_int(&days, first_day);
    arg_int(&days, last_day);
    arg_int(&days, q->chat_id);
    arg_int(&days, w1);
    arg_int(&days, w2);
    arg_ref(&days, q->scope);
    struct rows latency = {(void **)&out->latency,
                           &out->n_latency,
                           sizeof *out->latency,
                           0,
                           STATS_LATENCY_BUCKETS_MAX,
                           NULL,
                           read_latency};
    if (!e) e = run(st, c, S_STATS_LATENCY, &days, rows_add, &latency, err);

    /* the backlog at the end of each bucket: pending now, less what came after it, plus what
     * was decided after it */
    for (size_t i = 0; i < out->n_series; i++) {
        const struct stats_count *x = &out->series[i];
        out->flow[(x->t - first) / q->span].arrived += x->pending + x->approved + x->declined;
    }
    int64_t arrived_after = 0, decided_after = 0;
    struct since s = {q, first, &arrived_after, &decided_after, out->flow, out->n_flow, false};
    struct db_args since;
    args_init(&since);
    arg_int(&since, q->span);
    arg_int(&since, last);
    arg_int(&since, q->chat_id);
    arg_ref(&since, q->scope);
    if (!e) e = run(st, c, S_STATS_ARRIVED, &since, since_add, &s, err);
    s.decisions = true;
    args_init(&since);
    arg_int(&since, q->span);
    arg_int(&since, first);
    arg_int(&since, q->chat_id);
    arg_ref(&since, q->scope);
    if (!e) e = run(st, c, S_STATS_DECISIONS, &since, since_add, &s, err);
    struct db_args chat;
    args_init(&chat);
    arg_int(&chat, q->chat_id);
    arg_ref(&chat, q->scope);
    if (!e) e = run(st, c, S_STATS_PENDING, &chat, pending_row, &out->pending_now, err);
    int64_t backlog = out->pending_now - arrived_after + decided_after;
    for (size_t i = out->n_flow; i-- > 0 && !e;) {
        out->flow[i].backlog = backlog;
        backlog -= out->flow[i].arrived - out->flow[i].approved - out->flow[i].declined;
    }
    return e;
}

dm_err store_stats_read(struct store *st, const struct stats_query *q, struct store_stats *out,
                        struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    if (q->span != STATS_DAY && q->span != STATS_HOUR && q->span != STATS_WEEK)
        return dm_fail(err, DM_EINVAL, "the bucket must be an hour, a day or a week");
    if (q->from < 0 || q->to < q->from)
        return dm_fail(err, DM_EINVAL,
                       "the range must start at or after 0 and end after it starts");
    int64_t first = q->from / q->span * q->span, last = q->to / q->span * q->span;
    int64_t buckets = (last - first) / q->span + 1;
    if (buckets > STATS_BUCKETS_MAX)
        return dm_fail(err, DM_EINVAL, "the range holds %" PRId64 " buckets; at most %d", buckets,
                       STATS_BUCKETS_MAX);
    if (!(out->flow = calloc((size_t)buckets, sizeof *out->flow)))
        return dm_fail(err, DM_ENOMEM, "out of memory reading the statistics");
    out->n_flow = (size_t)buckets;
    for (int64_t i = 0; i < buckets; i++)
        out->flow[i].t = first + i * q->span;

    struct db_conn *c = NULL;
    dm_err e = st->d->conn_get(st->db, false, &c, err);
    if (e) return e;
    e = run(st, c, S_STATS_BEGIN, NULL, NULL, NULL, err);
    if (!e) e = read_all(st, c, q, first, last, out, err);
    e = dialect_tx_end(st->d, c, e, err);
    st->d->conn_put(st->db, c);
    return e;
}

void store_stats_release(struct store_stats *s)
{
    free(s->series);
    free(s->links);
    free(s->deciders);
    free(s->latency);
    free(s->flow);
    memset(s, 0, sizeof *s);
}

double stats_quantile(const struct stats_latency *h, size_t n, double q)
{
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += h[i].n;
    if (total <= 0) return -1;
    double rank = q * (double)total, below = 0;
    for (size_t i = 0; i < n; i++) {
        if (h[i].n > 0 && below + (double)h[i].n >= rank) {
            if (h[i].hi - h[i].lo <= 1) return (double)h[i].lo; /* whole seconds: exact */
            double within = (rank - below) / (double)h[i].n;
            return (double)h[i].lo + within * (double)(h[i].hi - h[i].lo);
        }
        below += (double)h[i].n;
    }
    return (double)h[n - 1].hi;
}
