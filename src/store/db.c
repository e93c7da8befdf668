/* db.c: arguments, rows and the statement helpers of db.h. */
#include "core/common.h"
#include "store/db.h"
#include "core/metrics.h"

void args_init(struct db_args *a)
{
    a->n = 0;
    a->overflow = false;
    a->used = 0;
}

void arg_int(struct db_args *a, int64_t v)
{
    if (a->n == DB_ARGS_MAX) {
        a->overflow = true;
        return;
    }
    a->v[a->n].is_text = false;
    a->v[a->n++].i = v;
}

void arg_text(struct db_args *a, const char *s, size_t size)
{
    size_t room = sizeof a->text - a->used;
    if (a->n == DB_ARGS_MAX || room < size) {
        a->overflow = true;
        return;
    }
    char *dst = a->text + a->used;
    dm_strlcpy(dst, s ? s : "", size);
    a->used += strlen(dst) + 1;
    a->v[a->n].is_text = true;
    a->v[a->n++].s = dst;
}

void arg_ref(struct db_args *a, const char *s)
{
    if (a->n == DB_ARGS_MAX) {
        a->overflow = true;
        return;
    }
    a->v[a->n].is_text = true;
    a->v[a->n++].s = s ? s : "";
}

int64_t row_int(const struct db_row *r, int col)
{
    return r->d->col_int(r, col);
}

void row_text(const struct db_row *r, int col, char *dst, size_t size)
{
    const char *t = r->d->col_text(r, col);
    dm_strlcpy(dst, t ? t : "", size);
}

void row_int0(const struct db_row *r, void *out)
{
    *(int64_t *)out = row_int(r, 0);
}

struct db_stmt db_stmt_of(const struct store *st, enum sql_id id)
{
    return sql_stmt(st->d->kind, id);
}

dm_err db_collect_row(void *ctx, const struct db_row *r)
{
    struct db_collect *c = ctx;
    if (c->n < c->limit) c->fn(r, c->out + (size_t)c->n++ * c->size);
    return DM_OK;
}

/* Counts a failed statement (core/metrics.h); returns e. */
static dm_err counted(dm_err e)
{
    if (e == DM_EDB) metrics_store_error(METRICS_STORE_DATABASE);
    if (e == DM_EUNAVAILABLE) metrics_store_error(METRICS_STORE_UNAVAILABLE);
    return e;
}

static dm_err run_on(struct store *st, bool write, const struct db_stmt *s, const struct db_args *a,
                     db_row_fn fn, void *ctx, int64_t *changes, struct dm_error *err)
{
    struct db_conn *c = NULL;
    dm_err e = st->d->conn_get(st->db, write, &c, err);
    if (e) return counted(e);
    e = st->d->run(c, s, a, fn, ctx, changes, err);
    st->d->conn_put(st->db, c);
    return counted(e);
}

dm_err db_read_many(struct store *st, const struct db_read *reads, int n, struct dm_error *err)
{
    struct db_conn *c = NULL;
    dm_err e = st->d->conn_get(st->db, false, &c, err);
    if (e) return counted(e);
    if (st->d->run_reads) {
        e = st->d->run_reads(c, reads, n, err);
    } else {
        for (int i = 0; i < n && !e; i++)
            e = st->d->run(c, reads[i].s, reads[i].a, reads[i].fn, reads[i].ctx, NULL, err);
    }
    st->d->conn_put(st->db, c);
    return counted(e);
}

dm_err db_exec(struct store *st, enum sql_id id, const struct db_args *a, int64_t *changes,
               struct dm_error *err)
{
    struct db_stmt s = db_stmt_of(st, id);
    return run_on(st, true, &s, a, NULL, NULL, changes, err);
}

dm_err db_exec_rows(struct store *st, enum sql_id id, const struct db_args *a, db_row_fn fn,
                    void *ctx, struct dm_error *err)
{
    struct db_stmt s = db_stmt_of(st, id);
    return run_on(st, true, &s, a, fn, ctx, NULL, err);
}

dm_err db_read(struct store *st, const struct db_stmt *s, const struct db_args *a, row_reader fn,
               void *out, size_t size, int limit, int *n, struct dm_error *err)
{
    struct db_collect c = {.fn = fn, .out = out, .size = size, .limit = limit};
    *n = 0;
    if (limit <= 0) return DM_OK;
    dm_err e = run_on(st, false, s, a, db_collect_row, &c, NULL, err);
    *n = e ? 0 : c.n;
    return e;
}

dm_err db_read_one(struct store *st, enum sql_id id, const struct db_args *a, row_reader fn,
                   void *out, const char *missing, struct dm_error *err)
{
    struct db_stmt s = db_stmt_of(st, id);
    int n = 0;
    dm_err e = db_read(st, &s, a, fn, out, 0, 1, &n, err);
    return !e && n == 0 ? dm_fail(err, DM_ENOTFOUND, "%s", missing) : e;
}

dm_err db_read_id(struct store *st, enum sql_id id, int64_t key, row_reader fn, void *out,
                  const char *noun, struct dm_error *err)
{
    char missing[128];
    snprintf(missing, sizeof missing, "no %s with id %" PRId64, noun, key);
    struct db_args a;
    args_init(&a);
    arg_int(&a, key);
    return db_read_one(st, id, &a, fn, out, missing, err);
}

dm_err db_read_timed(struct store *st, enum sql_id id, const char *key, size_t size, int64_t now,
                     row_reader fn, void *out, const char *missing, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, key, size);
    arg_int(&a, now);
    return db_read_one(st, id, &a, fn, out, missing, err);
}

struct grow {
    row_reader fn;
    char *v;
    size_t size, len, alloc, max;
    const char *too_many;
    struct dm_error *err;
};

static dm_err grow_row(void *ctx, const struct db_row *r)
{
    struct grow *g = ctx;
    if (g->len == g->max)
        return dm_fail(g->err, DM_ETOOBIG, "more than %zu %s", g->max, g->too_many);
    if (g->len == g->alloc) {
        size_t na = DM_MIN(g->alloc ? g->alloc * 2 : 16, g->max);
        char *nv = realloc(g->v, na * g->size);
        if (!nv) return dm_fail(g->err, DM_ENOMEM, "out of memory reading %s", g->too_many);
        g->v = nv;
        g->alloc = na;
    }
    g->fn(r, g->v + g->len++ * g->size);
    return DM_OK;
}

dm_err db_read_all(struct store *st, enum sql_id id, const struct db_args *a, row_reader fn,
                   size_t size, size_t max, const char *too_many, void **out, size_t *n,
                   struct dm_error *err)
{
    struct grow g = {.fn = fn, .size = size, .max = max, .too_many = too_many, .err = err};
    struct db_stmt s = db_stmt_of(st, id);
    dm_err e = run_on(st, false, &s, a, grow_row, &g, NULL, err);
    if (e) {
        free(g.v);
        return e;
    }
    *out = g.v;
    *n = g.len;
    return DM_OK;
}

dm_err db_read_page_of(struct store *st, enum sql_id id, const char *key, int64_t before_id,
                       int limit, row_reader fn, void *out, size_t size, int *n,
                       struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, before_id > 0 ? before_id : INT64_MAX);
    arg_int(&a, limit);
    if (key) arg_ref(&a, key);
    struct db_stmt s = db_stmt_of(st, id);
    return db_read(st, &s, &a, fn, out, size, limit, n, err);
}

dm_err db_read_page(struct store *st, enum sql_id id, int64_t before_id, int limit, row_reader fn,
                    void *out, size_t size, int *n, struct dm_error *err)
{
    return db_read_page_of(st, id, NULL, before_id, limit, fn, out, size, n, err);
}

void slots_init(struct slots *s, int n)
{
    memset(s, 0, sizeof *s);
    s->n = DM_MIN(n, SLOTS_MAX);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->free, NULL);
}

void slots_release(struct slots *s)
{
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->free);
}

int slots_take(struct slots *s)
{
    pthread_mutex_lock(&s->lock);
    for (;;) {
        for (int i = 0; i < s->n; i++) {
            if (!s->busy[i]) {
                s->busy[i] = true;
                pthread_mutex_unlock(&s->lock);
                return i;
            }
        }
        pthread_cond_wait(&s->free, &s->lock);
    }
}

bool slots_try(struct slots *s, int i)
{
    pthread_mutex_lock(&s->lock);
    bool took = !s->busy[i];
    s->busy[i] = true;
    pthread_mutex_unlock(&s->lock);
    return took;
}

void slots_give(struct slots *s, int i)
{
    pthread_mutex_lock(&s->lock);
    s->busy[i] = false;
    pthread_cond_signal(&s->free);
    pthread_mutex_unlock(&s->lock);
}

dm_err dialect_tx_end(const struct dialect *d, struct db_conn *c, dm_err e, struct dm_error *err)
{
    if (e == DM_OK) {
        struct db_stmt commit = sql_stmt(d->kind, S_COMMIT);
        e = counted(d->run(c, &commit, NULL, NULL, NULL, NULL, err));
        if (e == DM_OK) return DM_OK;
    }
    struct db_stmt rollback = sql_stmt(d->kind, S_ROLLBACK);
    if (d->in_tx(c)) d->run(c, &rollback, NULL, NULL, NULL, NULL, NULL);
    return e;
}

dm_err tx_open(struct store *st, struct tx *tx, struct dm_error *err)
{
    tx->st = st;
    tx->c = NULL;
    tx->added = false;
    tx->evented = false;
    dm_err e = st->d->conn_get(st->db, true, &tx->c, err);
    if (e) return counted(e);
    struct db_stmt begin = db_stmt_of(st, S_BEGIN);
    e = st->d->run(tx->c, &begin, NULL, NULL, NULL, NULL, err);
    if (e) {
        st->d->conn_put(st->db, tx->c);
        tx->c = NULL;
    }
    return counted(e);
}

dm_err tx_close(struct tx *tx, dm_err e, struct dm_error *err)
{
    if (!tx->c) return e;
    e = dialect_tx_end(tx->st->d, tx->c, e, err);
    tx->st->d->conn_put(tx->st->db, tx->c);
    tx->c = NULL;
    if (!e && tx->added) db_request_added(tx->st);
    if (!e && tx->evented && tx->st->on_event) tx->st->on_event(tx->st->on_event_ctx);
    return e;
}

void db_request_added(struct store *st)
{
    if (st->on_added) st->on_added(st->on_added_ctx);
}

void store_on_request_added(struct store *st, void (*fn)(void *ctx), void *ctx)
{
    st->on_added = fn;
    st->on_added_ctx = ctx;
}

dm_err tx_run_stmt(struct tx *tx, const struct db_stmt *s, const struct db_args *a, db_row_fn fn,
                   void *ctx, int64_t *changes, struct dm_error *err)
{
    return counted(tx->st->d->run(tx->c, s, a, fn, ctx, changes, err));
}

dm_err tx_run(struct tx *tx, enum sql_id id, const struct db_args *a, db_row_fn fn, void *ctx,
              int64_t *changes, struct dm_error *err)
{
    struct db_stmt s = db_stmt_of(tx->st, id);
    return tx_run_stmt(tx, &s, a, fn, ctx, changes, err);
}

dm_err tx_read_one(struct tx *tx, enum sql_id id, const struct db_args *a, row_reader fn, void *out,
                   bool *found, struct dm_error *err)
{
    struct db_collect c = {.fn = fn, .out = out, .size = 0, .limit = 1};
    dm_err e = tx_run(tx, id, a, db_collect_row, &c, NULL, err);
    *found = !e && c.n > 0;
    return e;
}
