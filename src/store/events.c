/* events.c: the events outbox, the webhooks and their deliveries, written once above the
 * dialects (see store.h, "events and outgoing webhooks"). */
#include "core/common.h"

#include "store/job_tx.h"
#include "store/rows.h"

static const char *const kind_names[EV_COUNT] = {
    [EV_REQUEST_NEW] = "request.new",
    [EV_DECISION] = "request.decided",
    [EV_JOB_FINISHED] = "job.finished",
    [EV_JOB_FAILED] = "job.failed",
    [EV_SESSION_INVALID] = "session.invalid",
    [EV_FLOOD_WAIT] = "flood_wait",
    [EV_WAVE] = "wave.caught",
    [EV_BACKLOG] = "backlog.over",
    [EV_SUMMARY] = "summary.daily",
    [EV_TEST] = "test",
};

const char *event_kind_name(int kind)
{
    return kind >= 0 && kind < EV_COUNT ? kind_names[kind] : "?";
}

int event_kind_parse(const char *s)
{
    for (int k = 0; k < EV_COUNT; k++)
        if (strcmp(s, kind_names[k]) == 0) return k;
    return -1;
}

const char *delivery_state_name(int state)
{
    static const char *const names[] = {"pending", "delivered", "failed"};
    return state >= 0 && state <= DELIVERY_FAILED ? names[state] : "?";
}

void store_events_want(struct store *st, uint32_t mask)
{
    atomic_store(&st->events_want, mask);
}

bool store_event_wanted(struct store *st, int kind)
{
    return kind >= 0 && kind < EV_COUNT && (atomic_load(&st->events_want) >> kind & 1u);
}

void store_on_event(struct store *st, void (*fn)(void *ctx), void *ctx)
{
    st->on_event = fn;
    st->on_event_ctx = ctx;
}

dm_err tx_event(struct tx *tx, const struct store_event *e, struct dm_error *err)
{
    if (!store_event_wanted(tx->st, e->kind)) return DM_OK;
    struct db_args a;
    args_init(&a);
    args_event(&a, e);
    dm_err r = tx_run(tx, S_EVENT_ADD, &a, NULL, NULL, NULL, err);
    if (!r) tx->evented = true;
    return r;
}

dm_err store_event_add(struct store *st, const struct store_event *e, struct dm_error *err)
{
    if (!store_event_wanted(st, e->kind)) return DM_OK;
    struct tx tx;
    dm_err r = tx_open(st, &tx, err);
    if (!r) r = tx_event(&tx, e, err);
    return tx_close(&tx, r, err);
}

dm_err store_events_next(struct store *st, int limit, struct store_event *out, int *n,
                         struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, limit);
    struct db_stmt s = db_stmt_of(st, S_EVENTS_NEXT);
    return db_read(st, &s, &a, row_event, out, sizeof *out, limit, n, err);
}

/* ---- webhooks ---- */

static void args_webhook_change(struct db_args *a, const struct store_webhook *w)
{
    arg_int(a, w->id);
    arg_text(a, w->url, sizeof w->url);
    arg_int(a, w->kinds);
    arg_int(a, w->enabled);
    arg_text(a, w->secret_sealed, sizeof w->secret_sealed);
    arg_int(a, w->updated_at);
}

dm_err store_webhook_add(struct store *st, const struct store_webhook *w, int64_t *id,
                         struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, w->url, sizeof w->url);
    arg_text(&a, w->secret_sealed, sizeof w->secret_sealed);
    arg_int(&a, w->kinds);
    arg_int(&a, w->enabled);
    arg_text(&a, w->created_by, sizeof w->created_by);
    arg_int(&a, w->created_at);
    struct tx tx;
    bool found = false;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_read_one(&tx, S_WEBHOOK_ADD, &a, row_int0, id, &found, err);
    return tx_close(&tx, e, err);
}

dm_err store_webhook_get(struct store *st, int64_t id, struct store_webhook *out,
                         struct dm_error *err)
{
    return db_read_id(st, S_WEBHOOK_GET, id, row_webhook, out, "webhook", err);
}

dm_err store_webhook_list(struct store *st, struct store_webhook **out, size_t *n,
                          struct dm_error *err)
{
    return db_read_all(st, S_WEBHOOK_LIST, NULL, row_webhook, sizeof **out, STORE_WEBHOOKS_MAX * 2,
                       "webhooks", (void **)out, n, err);
}

dm_err store_webhook_update(struct store *st, const struct store_webhook *w, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    args_webhook_change(&a, w);
    int64_t changes = 0;
    dm_err e = db_exec(st, S_WEBHOOK_UPDATE, &a, &changes, err);
    return !e && changes == 0 ? dm_fail(err, DM_ENOTFOUND, "no webhook with id %" PRId64, w->id)
                              : e;
}

dm_err store_webhook_delete(struct store *st, int64_t id, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    int64_t changes = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_DELIVERIES_DELETE, &a, NULL, NULL, NULL, err);
    if (!e) e = tx_run(&tx, S_WEBHOOK_DELETE, &a, NULL, NULL, &changes, err);
    if (!e && changes == 0) e = dm_fail(err, DM_ENOTFOUND, "no webhook with id %" PRId64, id);
    return tx_close(&tx, e, err);
}

dm_err store_webhook_kinds_wanted(struct store *st, uint32_t *mask, struct dm_error *err)
{
    *mask = 0;
    int64_t *kinds = NULL;
    size_t n = 0;
    dm_err e = db_read_all(st, S_WEBHOOK_KINDS, NULL, row_int0, sizeof *kinds,
                           STORE_WEBHOOKS_MAX * 2, "webhooks", (void **)&kinds, &n, err);
    for (size_t i = 0; i < n && !e; i++)
        *mask |= (uint32_t)kinds[i] & EV_ALL;
    free(kinds);
    return e;
}

/* ---- deliveries ---- */

dm_err store_events_fanout(struct store *st, const struct store_event *ev,
                           const char *const *bodies, size_t n, int64_t now, struct dm_error *err)
{
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    for (size_t i = 0; i < n && !e; i++) {
        if (bodies[i]) {
            struct db_args a;
            args_init(&a);
            arg_int(&a, ev[i].id);
            arg_int(&a, ev[i].kind);
            arg_int(&a, now);
            arg_ref(&a, bodies[i]);
            arg_int(&a, (int64_t)1 << ev[i].kind);
            e = tx_run(&tx, S_DELIVERY_FANOUT, &a, NULL, NULL, NULL, err);
        }
        struct db_args d;
        args_init(&d);
        arg_int(&d, ev[i].id);
        if (!e) e = tx_run(&tx, S_EVENT_DELETE, &d, NULL, NULL, NULL, err);
    }
    return tx_close(&tx, e, err);
}

dm_err store_delivery_add(struct store *st, int64_t webhook_id, int kind, const char *body,
                          int64_t now, int64_t *id, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, webhook_id);
    arg_int(&a, kind);
    arg_int(&a, now);
    arg_ref(&a, body);
    struct tx tx;
    bool found = false;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_read_one(&tx, S_DELIVERY_ADD, &a, row_int0, id, &found, err);
    if (!e) tx.evented = true; /* wakes the alerts thread */
    return tx_close(&tx, e, err);
}

dm_err store_delivery_due(struct store *st, int64_t now, int limit, struct store_delivery *out,
                          int *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, now);
    arg_int(&a, limit);
    struct db_stmt s = db_stmt_of(st, S_DELIVERY_DUE);
    return db_read(st, &s, &a, row_delivery_body, out, sizeof *out, limit, n, err);
}

dm_err store_delivery_record(struct store *st, const struct store_delivery *d, int64_t now,
                             struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, d->id);
    arg_int(&a, d->state);
    arg_int(&a, d->attempts);
    arg_int(&a, d->next_at);
    arg_int(&a, d->http_status);
    arg_text(&a, d->error, sizeof d->error);
    arg_int(&a, now);
    return db_exec(st, S_DELIVERY_RECORD, &a, NULL, err);
}

dm_err store_delivery_postpone(struct store *st, int64_t webhook_id, int64_t until,
                               struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, webhook_id);
    arg_int(&a, until);
    return db_exec(st, S_DELIVERY_POSTPONE, &a, NULL, err);
}

dm_err store_delivery_list(struct store *st, int64_t webhook_id, int64_t before_id, int limit,
                           struct store_delivery *out, int *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, before_id > 0 ? before_id : INT64_MAX);
    arg_int(&a, limit);
    arg_int(&a, webhook_id);
    struct db_stmt s = db_stmt_of(st, S_DELIVERY_LIST);
    return db_read(st, &s, &a, row_delivery, out, sizeof *out, limit, n, err);
}

dm_err store_delivery_prune(struct store *st, int64_t before, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, before);
    return db_exec(st, S_DELIVERY_PRUNE, &a, NULL, err);
}

dm_err store_delivery_next(struct store *st, int64_t *next_at, struct dm_error *err)
{
    *next_at = 0;
    return db_read_one(st, S_DELIVERY_NEXT, NULL, row_int0, next_at, "no time", err);
}

static void row_summary(const struct db_row *r, void *out)
{
    struct store_summary *s = out;
    s->recorded = row_int(r, 0);
    s->approved = row_int(r, 1);
    s->declined = row_int(r, 2);
    s->pending = row_int(r, 3);
}

dm_err store_summary(struct store *st, int64_t from, int64_t to, struct store_summary *out,
                     struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, from);
    arg_int(&a, to);
    return db_read_one(st, S_SUMMARY, &a, row_summary, out, "no summary", err);
}
