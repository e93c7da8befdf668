#include "core/common.h"
#include "core/metrics.h"

#include <stdatomic.h>

/* Upper bounds in seconds of the answer-time histogram's buckets (+Inf follows). */
static const double http_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define HTTP_BUCKETS (DM_ARRAY_LEN(http_bounds) + 1)

static _Atomic uint64_t http_class[5]; /* 1xx .. 5xx */
static _Atomic uint64_t http_bucket[HTTP_BUCKETS];
static _Atomic uint64_t http_micros; /* sum of answer times */
static _Atomic uint64_t http_count;
static _Atomic uint64_t store_errors[METRICS_STORE_KINDS];
static _Atomic uint64_t ratelimit_pauses;

/* A counter family by (account, action, result): account a name copied (cut at 64 bytes),
 * action and result string literals kept by pointer (NULL: no such label). Its series live in an
 * open-addressed table; a slot is claimed once (EMPTY -> CLAIMED by compare-and-swap, then
 * filled, then READY) and never freed, so readers and counters never wait for a lock. Slots
 * claimed by named accounts stop OTHER_SLOTS short of full: the rest are for account "(other)"
 * (racing claims may take a few of them, never all). */
enum { SLOT_EMPTY, SLOT_CLAIMED, SLOT_READY };
struct series_slot {
    _Atomic int state;
    char account[METRICS_ACCOUNT_MAX];
    const char *action, *result;
    _Atomic uint64_t n;
};
struct series {
    const char *family, *help;
    const char *labels[3]; /* the label names of account, action, result */
    struct series_slot slots[METRICS_DECISION_SERIES];
    _Atomic unsigned named;
};
#define OTHER_SLOTS 16

static struct series decisions = {
    .family = "doorman_decisions_total",
    .help = "Job items finished since start, by account, action and result.",
    .labels = {"account", "action", "result"}};
static struct series mtproto_calls = {
    .family = "doorman_mtproto_calls_total",
    .help = "MTProto calls through each session since start, by outcome (OK, or the kind of "
            "failure: FLOOD, DEAD, UNREACHABLE, NO_RIGHT, NOT_FOUND, ...).",
    .labels = {"session", "outcome", NULL}};

void metrics_http_answer(int status, int64_t micros)
{
    if (status >= 100 && status <= 599) atomic_fetch_add(&http_class[status / 100 - 1], 1);
    if (micros < 0) micros = 0;
    size_t b = 0;
    while (b < DM_ARRAY_LEN(http_bounds) && (double)micros > http_bounds[b] * 1e6)
        b++;
    atomic_fetch_add(&http_bucket[b], 1);
    atomic_fetch_add(&http_micros, (uint64_t)micros);
    atomic_fetch_add(&http_count, 1);
}

void metrics_store_error(enum metrics_store_error kind)
{
    if (kind < METRICS_STORE_KINDS) atomic_fetch_add(&store_errors[kind], 1);
}

void metrics_ratelimit_pause(void)
{
    atomic_fetch_add(&ratelimit_pauses, 1);
}

static uint64_t series_hash(const char *account, const char *action, const char *result)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *s = account; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    h = (h ^ (uintptr_t)action) * 1099511628211ull;
    return (h ^ (uintptr_t)result) * 1099511628211ull;
}

static bool slot_is(struct series_slot *s, const char *account, const char *action,
                    const char *result)
{
    return s->action == action && s->result == result && strcmp(s->account, account) == 0;
}

static void series_add(struct series *t, const char *account, const char *action,
                       const char *result)
{
    char name[METRICS_ACCOUNT_MAX];
    dm_utf8_copy(name, sizeof name, account ? account : "");
    for (int pass = 0; pass < 2; pass++) {
        size_t start = (size_t)(series_hash(name, action, result) % METRICS_DECISION_SERIES);
        for (size_t i = 0; i < METRICS_DECISION_SERIES; i++) {
            struct series_slot *s = &t->slots[(start + i) % METRICS_DECISION_SERIES];
            int state = atomic_load(&s->state);
            bool may_claim =
                pass == 1 || atomic_load(&t->named) < METRICS_DECISION_SERIES - OTHER_SLOTS;
            if (state == SLOT_EMPTY && may_claim) {
                int expect = SLOT_EMPTY;
                if (atomic_compare_exchange_strong(&s->state, &expect, SLOT_CLAIMED)) {
                    if (pass == 0) atomic_fetch_add(&t->named, 1);
                    dm_strlcpy(s->account, name, sizeof s->account);
                    s->action = action;
                    s->result = result;
                    atomic_fetch_add(&s->n, 1);
                    atomic_store(&s->state, SLOT_READY);
                    return;
                }
                state = expect;
            }
            if (state == SLOT_EMPTY) break; /* not in the table, and no room for it */
            while (state == SLOT_CLAIMED)
                state = atomic_load(&s->state); /* being filled */
            if (slot_is(s, name, action, result)) {
                atomic_fetch_add(&s->n, 1);
                return;
            }
        }
        dm_strlcpy(name, "(other)", sizeof name); /* no room for another named series */
    }
}

void metrics_decision(const char *account, const char *action, const char *result)
{
    series_add(&decisions, account, action, result);
}

void metrics_mtproto_call(const char *session, const char *outcome)
{
    series_add(&mtproto_calls, session, outcome, NULL);
}

dm_err metrics_family(struct buf *out, const char *name, const char *type, const char *help)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

dm_err metrics_label(struct buf *out, const char *name, const char *value)
{
    dm_err e = buf_printf(out, "%s=\"", name);
    for (const char *p = value; !e && *p; p++) {
        if (*p == '\\')
            e = buf_puts(out, "\\\\");
        else if (*p == '"')
            e = buf_puts(out, "\\\"");
        else if (*p == '\n')
            e = buf_puts(out, "\\n");
        else
            e = buf_append(out, p, 1);
    }
    return e ? e : buf_puts(out, "\"");
}

static dm_err write_http(struct buf *out)
{
    dm_err e = metrics_family(out, "doorman_http_responses_total", "counter",
                              "HTTP answers sent, by status class.");
    for (int i = 0; !e && i < 5; i++)
        e = buf_printf(out, "doorman_http_responses_total{code=\"%dxx\"} %" PRIu64 "\n", i + 1,
                       atomic_load(&http_class[i]));
    if (!e)
        e = metrics_family(out, "doorman_http_response_seconds", "histogram",
                           "Time from a request's headers to its answer being queued.");
    uint64_t cumulative = 0;
    for (size_t b = 0; !e && b < HTTP_BUCKETS; b++) {
        cumulative += atomic_load(&http_bucket[b]);
        if (b < DM_ARRAY_LEN(http_bounds))
            e = buf_printf(out, "doorman_http_response_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                           http_bounds[b], cumulative);
        else
            e = buf_printf(out, "doorman_http_response_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
                           cumulative);
    }
    /* the count is the +Inf bucket's, read once above, so the two always agree */
    if (!e)
        e = buf_printf(out,
                       "doorman_http_response_seconds_sum %.6f\n"
                       "doorman_http_response_seconds_count %" PRIu64 "\n",
                       (double)atomic_load(&http_micros) / 1e6, cumulative);
    return e;
}

static dm_err write_series(struct buf *out, struct series *t)
{
    dm_err e = metrics_family(out, t->family, "counter", t->help);
    for (size_t i = 0; !e && i < METRICS_DECISION_SERIES; i++) {
        struct series_slot *s = &t->slots[i];
        if (atomic_load(&s->state) != SLOT_READY) continue;
        const char *values[3] = {s->account, s->action, s->result};
        e = buf_printf(out, "%s{", t->family);
        for (int l = 0; !e && l < 3; l++)
            if (t->labels[l]) {
                if (l) e = buf_puts(out, ",");
                if (!e) e = metrics_label(out, t->labels[l], values[l]);
            }
        if (!e) e = buf_printf(out, "} %" PRIu64 "\n", atomic_load(&s->n));
    }
    return e;
}

dm_err metrics_write(struct buf *out)
{
    dm_err e = write_http(out);
    if (!e) e = write_series(out, &decisions);
    if (!e) e = write_series(out, &mtproto_calls);
    if (!e)
        e = metrics_family(out, "doorman_ratelimit_pauses_total", "counter",
                           "Pauses of a job's decisions for a flood wait Telegram asked for.");
    if (!e)
        e = buf_printf(out, "doorman_ratelimit_pauses_total %" PRIu64 "\n",
                       atomic_load(&ratelimit_pauses));
    if (!e)
        e = metrics_family(out, "doorman_store_errors_total", "counter",
                           "Failed database statements, by kind (unavailable: busy, locked or "
                           "out of reach, and tried again).");
    if (!e)
        e = buf_printf(out,
                       "doorman_store_errors_total{kind=\"database\"} %" PRIu64 "\n"
                       "doorman_store_errors_total{kind=\"unavailable\"} %" PRIu64 "\n",
                       atomic_load(&store_errors[METRICS_STORE_DATABASE]),
                       atomic_load(&store_errors[METRICS_STORE_UNAVAILABLE]));
    return e;
}
