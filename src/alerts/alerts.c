/* alerts.c: the alerts thread: the wanted kinds, fan-out, delivery, backlog and summary (see
 * alerts.h). */
#include "core/common.h"
#include "alerts/alerts.h"

#include "alerts/body.h"
#include "alerts/post.h"
#include "alerts/text.h"
#include "core/log.h"
#include "store/leased_loop.h"

#define LEASE "alerts"
#define LEASE_S 15
#define IDLE_S 1.0       /* looks again at least this often */
#define TROUBLE_S 2.0    /* after the store failed */
#define FANOUT_BATCH 100 /* events handed over in one transaction */
#define DUE_BATCH 20     /* deliveries read at a time */
#define BACKOFF_MAX_S 3600
#define KEEP_S (7 * 86400) /* finished deliveries stay in the log this long */
#define PRUNE_EVERY_S 3600
#define BACKLOG_KEY "alerts.backlog_over"
#define SUMMARY_KEY "alerts.summary_at"

static const char *const C = "alerts";

struct alerts {
    struct store *store;
    const struct secret_key *master;
    unsigned retry_s, attempts, timeout_s;
    dm_err (*send_text)(void *ctx, int64_t chat_id, const char *text, struct dm_error *why);
    void *send_ctx;
    struct leased_loop *loop;
    int64_t pruned_at;
    struct store_event events[FANOUT_BATCH];
    struct store_delivery due[DUE_BATCH];
};

/* Every turn (held or not): which events this process records (store_events_want). */
static dm_err want_again(void *ctx, struct dm_error *err)
{
    struct alerts *a = ctx;
    uint32_t mask = 0;
    dm_err e = store_webhook_kinds_wanted(a->store, &mask, err);
    if (!e) store_events_want(a->store, mask);
    return e;
}

void alerts_changed(struct alerts *a)
{
    if (!a) return;
    struct dm_error err = {0};
    if (want_again(a, &err)) log_warn(C, "reading the webhooks: %s", err.msg);
    leased_loop_wake(a->loop);
}

dm_err alerts_test(struct alerts *a, const struct store_webhook *w, const char *by, int64_t *id,
                   struct dm_error *err)
{
    char message[STORE_NAME_MAX + 64];
    snprintf(message, sizeof message, "a test delivery asked for by %s", by);
    json_t *o = json_pack("{s:i,s:s,s:I,s:s}", "id", 0, "kind", event_kind_name(EV_TEST), "at",
                          (json_int_t)time(NULL), "message", message);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    dm_err e =
        body ? store_delivery_add(a->store, w->id, EV_TEST, body, (int64_t)time(NULL), id, err)
             : dm_fail(err, DM_ENOMEM, "out of memory");
    free(body);
    return e;
}

dm_err alerts_secret_new(struct alerts *a, char plain[65], char **sealed, struct dm_error *err)
{
    secret_random_hex(plain, 32);
    if (secret_seal(a->master, plain, 64, sealed))
        return dm_fail(err, DM_ENOMEM, "out of memory sealing a secret");
    return DM_OK;
}

/* Moves the outbox's events into deliveries. *more when a batch was full. */
static dm_err fan_out(struct alerts *a, const struct alert_settings *s, bool *more,
                      struct dm_error *err)
{
    int n = 0;
    dm_err e = store_events_next(a->store, FANOUT_BATCH, a->events, &n, err);
    char *bodies[FANOUT_BATCH] = {0};
    for (int i = 0; i < n && !e; i++)
        e = event_body(a->store, &a->events[i], s, &bodies[i], err);
    if (!e && n)
        e = store_events_fanout(a->store, a->events, (const char *const *)bodies, (size_t)n,
                                (int64_t)time(NULL), err);
    for (int i = 0; i < n; i++)
        free(bodies[i]);
    *more |= n == FANOUT_BATCH;
    return e;
}

/* A delivery to a Telegram chat: its text through the bot (alerts.h, Destinations). */
static dm_err send_chat(struct alerts *a, int64_t chat_id, struct store_delivery *d,
                        struct dm_error *why)
{
    d->http_status = 0;
    if (!a->send_text) return dm_fail(why, DM_EUNAVAILABLE, "no bot to send Telegram messages");
    char *text = malloc(ALERT_TEXT_MAX);
    if (!text) return dm_fail(why, DM_ENOMEM, "out of memory");
    alert_text(d->body, text);
    dm_err e = a->send_text(a->send_ctx, chat_id, text, why);
    free(text);
    return e;
}

/* One attempt at delivery d to webhook w (NULL: removed meanwhile); records its outcome. The one
 * place a delivery is sent (alerts.h, Other destinations). */
static dm_err deliver_one(struct alerts *a, const struct store_webhook *w, struct store_delivery *d,
                          struct dm_error *err)
{
    char *secret = NULL;
    size_t len = 0;
    struct dm_error why = {0};
    int64_t chat_id = 0;
    dm_err e;
    if (!w)
        e = dm_fail(&why, DM_ENOTFOUND, "the webhook was removed");
    else if (!w->enabled)
        e = dm_fail(&why, DM_ECONFLICT, "the webhook is disabled");
    else if (alert_chat_url(w->url, &chat_id))
        e = send_chat(a, chat_id, d, &why);
    else if (secret_open(a->master, w->secret_sealed, &secret, &len))
        e = dm_fail(&why, DM_ECRYPTO, "its secret cannot be opened with this master key");
    else
        e = post_signed(w->url, secret, d, a->timeout_s, &d->http_status, &why);
    if (secret) {
        secret_wipe(secret, len);
        free(secret);
    }
    int64_t now = (int64_t)time(NULL);
    d->attempts++;
    if (!e) {
        d->state = DELIVERY_OK;
        d->error[0] = 0;
    } else {
        dm_snprintf_utf8(d->error, sizeof d->error, "%s", why.msg);
        bool last = (unsigned)d->attempts >= a->attempts || !w || !w->enabled;
        int shift = DM_MIN(d->attempts - 1, 20);
        d->state = last ? DELIVERY_FAILED : DELIVERY_PENDING;
        d->next_at = now + DM_MIN((int64_t)a->retry_s << shift, (int64_t)BACKOFF_MAX_S);
        log_warn(C, "webhook %" PRId64 ", delivery %" PRId64 " (attempt %d): %s%s", d->webhook_id,
                 d->id, d->attempts, why.msg, last ? "; giving up" : "");
    }
    e = store_delivery_record(a->store, d, now, err);
    if (!e && d->state == DELIVERY_PENDING && w)
        e = store_delivery_postpone(a->store, w->id, d->next_at, err);
    return e;
}

/* Delivers what is due, one webhook's deliveries in order; a receiver that fails holds back the
 * rest of its webhook's (store_delivery_postpone). The lease is renewed on the way, and the
 * batch ends when it was lost. *more when a batch was full. */
static dm_err deliver_due(struct alerts *a, struct leased_loop *l, bool *more, struct dm_error *err)
{
    int n = 0;
    dm_err e = store_delivery_due(a->store, (int64_t)time(NULL), DUE_BATCH, a->due, &n, err);
    struct store_webhook w = {0};
    bool have = false;
    int64_t failed[DUE_BATCH];
    int nfailed = 0;
    for (int i = 0; i < n && !e; i++) {
        bool held = true;
        if ((e = leased_loop_renew(l, &held, err))) return e;
        if (!held) return DM_OK;
        bool held_back = false; /* its webhook failed earlier in this batch */
        for (int k = 0; k < nfailed; k++)
            held_back |= failed[k] == a->due[i].webhook_id;
        if (held_back) continue;
        if (!have || w.id != a->due[i].webhook_id) {
            struct dm_error gone = {0};
            dm_err g = store_webhook_get(a->store, a->due[i].webhook_id, &w, &gone);
            if (g && g != DM_ENOTFOUND) return dm_fail(err, g, "%s", gone.msg);
            have = !g;
        }
        e = deliver_one(a, have ? &w : NULL, &a->due[i], err);
        if (!e && a->due[i].state == DELIVERY_PENDING) failed[nfailed++] = a->due[i].webhook_id;
        if (leased_loop_stopping(l)) return e;
    }
    *more |= n == DUE_BATCH;
    return e;
}

static int64_t setting_int(struct store *st, const char *key)
{
    char *v = NULL;
    int64_t n = 0;
    if (store_setting_get(st, key, &v, NULL) == DM_OK) n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

static dm_err setting_put_int(struct store *st, const char *key, int64_t n, struct dm_error *err)
{
    char v[32];
    snprintf(v, sizeof v, "%" PRId64, n);
    return store_setting_set(st, key, v, err);
}

/* The backlog over its threshold: once per crossing, armed again at 90 % of it. */
static dm_err backlog_check(struct alerts *a, const struct alert_settings *s, struct dm_error *err)
{
    if (s->backlog_threshold <= 0) return DM_OK;
    struct store_request_total *t = NULL;
    size_t n = 0;
    dm_err e = store_request_totals(a->store, 1000000, &t, &n, err);
    if (e) return e;
    int64_t pending = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i].status == REQ_PENDING) pending += t[i].n;
    free(t);
    bool over = setting_int(a->store, BACKLOG_KEY) != 0;
    if (!over && pending > s->backlog_threshold) {
        struct store_event ev = {.kind = EV_BACKLOG, .at = (int64_t)time(NULL), .amount = pending};
        e = store_event_add(a->store, &ev, err);
        if (!e) e = setting_put_int(a->store, BACKLOG_KEY, 1, err);
    } else if (over && pending * 10 <= s->backlog_threshold * 9) {
        e = setting_put_int(a->store, BACKLOG_KEY, 0, err);
    }
    return e;
}

/* The daily summary of the day before summary_hour, once that hour (UTC) has come. */
static dm_err summary_check(struct alerts *a, const struct alert_settings *s, struct dm_error *err)
{
    if (s->summary_hour < 0) return DM_OK;
    int64_t now = (int64_t)time(NULL);
    int64_t slot = now - now % 86400 + s->summary_hour * 3600;
    if (slot > now) slot -= 86400;
    if (setting_int(a->store, SUMMARY_KEY) >= slot) return DM_OK;
    struct store_summary sum;
    dm_err e = store_summary(a->store, slot - 86400, slot, &sum, err);
    if (e) return e;
    struct store_event ev = {.kind = EV_SUMMARY, .at = now, .amount = sum.pending};
    snprintf(ev.detail, sizeof ev.detail,
             "{\"from\":%" PRId64 ",\"to\":%" PRId64 ",\"recorded\":%" PRId64
             ",\"approved\":%" PRId64 ",\"declined\":%" PRId64 ",\"pending\":%" PRId64 "}",
             slot - 86400, slot, sum.recorded, sum.approved, sum.declined, sum.pending);
    e = store_event_add(a->store, &ev, err);
    return e ? e : setting_put_int(a->store, SUMMARY_KEY, slot, err);
}

/* One round as the lease holder; sooner than idle when more is waiting or a delivery is due. */
static dm_err round_once(void *ctx, struct leased_loop *l, double *wait_s, struct dm_error *err)
{
    struct alerts *a = ctx;
    bool more = false;
    int64_t next_at = 0;
    struct alert_settings s;
    dm_err e = alert_settings_get(a->store, &s, err);
    if (!e) e = backlog_check(a, &s, err);
    if (!e) e = summary_check(a, &s, err);
    if (!e) e = fan_out(a, &s, &more, err);
    if (!e) e = deliver_due(a, l, &more, err);
    int64_t now = (int64_t)time(NULL);
    if (!e && now - a->pruned_at >= PRUNE_EVERY_S) {
        e = store_delivery_prune(a->store, now - KEEP_S, err);
        if (!e) a->pruned_at = now;
    }
    if (!e) e = store_delivery_next(a->store, &next_at, err);
    if (more) *wait_s = 0;
    if (next_at) *wait_s = DM_MIN(*wait_s, DM_MAX((double)(next_at - (int64_t)time(NULL)), 0));
    return e;
}

dm_err alerts_start(const struct alerts_config *cfg, struct alerts **out, struct dm_error *err)
{
    *out = NULL;
    struct alerts *a = calloc(1, sizeof *a);
    if (!a) return dm_fail(err, DM_ENOMEM, "out of memory");
    a->store = cfg->store;
    a->master = cfg->master;
    a->retry_s = DM_MAX(cfg->retry_s, 1u);
    a->attempts = DM_MAX(cfg->attempts, 1u);
    a->timeout_s = DM_MAX(cfg->timeout_s, 1u);
    a->send_text = cfg->send_text;
    a->send_ctx = cfg->send_ctx;
    struct leased_loop_config lc = {.store = cfg->store,
                                    .lease = LEASE,
                                    .owner = cfg->owner,
                                    .lease_s = LEASE_S,
                                    .idle_s = IDLE_S,
                                    .trouble_s = TROUBLE_S,
                                    .tag = C,
                                    .doing = "alerts",
                                    .holder = "this instance delivers webhooks",
                                    .other = "another instance delivers webhooks",
                                    .every = want_again,
                                    .round = round_once,
                                    .ctx = a};
    dm_err e = want_again(a, err);
    if (!e) e = leased_loop_start(&lc, &a->loop, err);
    if (e) {
        free(a);
        return e;
    }
    store_on_event(a->store, leased_loop_wake, a->loop);
    *out = a;
    return DM_OK;
}

void alerts_stop(struct alerts *a)
{
    if (!a) return;
    store_on_event(a->store, NULL, NULL);
    leased_loop_stop(a->loop);
    free(a);
}
