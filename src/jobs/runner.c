/* runner.c: the job runner: one dispatcher thread and a few worker threads.
 *
 * The dispatcher claims one job at a time (store job_claim with a lease it renews), opens the
 * job's account (telegram/account.h), and feeds the job's pending items into a queue in request-id
 * order, reading them in batches keyed by the last request id seen (never LIMIT/OFFSET over
 * changing rows). Workers take items from the queue, each waiting for its slot from the
 * account's token bucket, so up to WORKERS calls are in flight at the configured rate; each
 * outcome is recorded with job_item_finish (one transaction with its audit row) before the
 * item counts as finished. A flood wait pauses every worker of the account for retry_after.
 * The job is done when no item is pending, in the queue or in flight. What a failure means to
 * a job (wait, try again, give up, reopen the account) is decided in one place, below
 * ("failures"), from the classified error of tg_error.h.
 *
 * A load job (load.h) has no items, and an Approve All / Deny All through a session decides
 * whole channels (hide_all.h): the dispatcher itself runs those step by step (run_steps),
 * keeping the lease the same way and waiting out flood waits and network trouble.
 *
 * Locking: mu guards everything below it in struct job_runner; neither store calls nor
 * Telegram calls are made while holding it. */
#include "core/common.h"
#include "jobs/runner.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "jobs/autodecide.h"
#include "jobs/hide_all.h"
#include "jobs/load.h"
#include "jobs/notice.h"
#include "jobs/ratelimit.h"
#include "store/store.h"
#include "telegram/account.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>

#define WORKERS 8             /* calls in flight at most */
#define BATCH 100             /* items read from the store at a time */
#define QUEUE_MAX (2 * BATCH) /* refilled below BATCH/2, so queue + in flight stays below */
#define MAX_ATTEMPTS 5        /* for items that got no answer or a server error */
#define OPEN_RETRY 2.0        /* seconds between tries to open an account that cannot work */
#define DEFAULT_LEASE 30
#define LOAD_BACKOFF_MAX 60 /* seconds between tries when Telegram cannot be reached */

static const char *const C = "jobs";

struct slot {
    struct store_item it;
    int attempts;
    double not_before; /* monotonic seconds: retry backoff */
};

struct job_runner {
    struct store *store;
    const struct accounts *accounts;
    char owner[64];
    int lease; /* seconds: DOORMAN_JOB_LEASE, default 30 */
    double renew_every;
    pthread_t thread;
    pthread_t workers[WORKERS];
    size_t n_workers;
    bool thread_started;

    pthread_mutex_t mu;
    pthread_cond_t wake; /* the dispatcher: job_runner_wake, an item finished, stop */
    pthread_cond_t work; /* the workers: items queued, account ready, stop */
    bool stop;
    bool woken;

    /* the job being run; workers take items only while active */
    bool active;
    struct account *account; /* the job's, open for the whole job */
    bool ready;              /* account_usable said yes: workers may call it */
    int kind;
    bool ban; /* a decline job of the rules that bans too (params "ban") */
    struct slot queue[QUEUE_MAX];
    size_t qlen;
    int inflight;      /* taken by a worker and not yet recorded or queued again */
    bool account_down; /* a worker found the account unusable: reopen it */
    char account_error[STORE_ERROR_MAX];

    /* the job's account's pacing */
    struct ratelimit rl;
    double pause_until; /* monotonic; no calls before (a flood wait's retry_after) */

    struct store_item batch[BATCH]; /* the dispatcher's read buffer */
};

/* Waits on cv (mu held) until the monotonic time t at most. */
static void wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, double t)
{
    struct timespec ts;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    pthread_cond_timedwait(cv, mu, &ts);
}

static int env_lease(void)
{
    const char *s = getenv("DOORMAN_JOB_LEASE");
    if (!s || !*s) return DEFAULT_LEASE;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 1 || v > 3600) {
        log_warn(C, "DOORMAN_JOB_LEASE must be 1 to 3600 seconds; using %d", DEFAULT_LEASE);
        return DEFAULT_LEASE;
    }
    return (int)v;
}

/* ---- failures: what they mean to a job ---- */

/* Worth making the same call again later: Telegram could not be reached or had trouble, or
 * doorman's store (or the session's connection, held by another process) is out of reach. */
static bool try_later(const struct tg_error *te)
{
    return te->kind == TG_UNREACHABLE ||
           (te->kind == TG_LOCAL && (te->e.code == DM_EDB || te->e.code == DM_EUNAVAILABLE));
}

/* The status of a request Telegram says was handled already: a member was approved; otherwise
 * it is gone, as the job meant. */
static int already_status(const struct tg_error *te, int kind)
{
    return tg_error_joined(te) || kind != JOB_DECLINE ? REQ_APPROVED : REQ_DECLINED;
}

static int wait_seconds(const struct tg_error *te)
{
    return te->retry_after > INT_MAX ? INT_MAX : (int)DM_MAX(te->retry_after, 1);
}

/* Seconds before trying a step of a job the dispatcher runs itself (load, hide_all) again
 * after te, or -1 when te is final. */
static int step_retry_in(const struct tg_error *te, int *backoff)
{
    if (te->kind == TG_FLOOD) {
        *backoff = 0;
        return wait_seconds(te);
    }
    if (!try_later(te)) return -1;
    *backoff = *backoff ? DM_MIN(*backoff * 2, LOAD_BACKOFF_MAX) : 1;
    return *backoff;
}

/* Tells of a flood wait of a minute or more (EV_FLOOD_WAIT; the alert settings say from how
 * many minutes on it is worth an alert). */
static void flood_told(struct store *st, int64_t job_id, const char *via, int seconds)
{
    if (seconds < 60) return;
    struct store_event ev = {
        .kind = EV_FLOOD_WAIT, .at = (int64_t)time(NULL), .job_id = job_id, .amount = seconds};
    dm_strlcpy(ev.subject, via, sizeof ev.subject);
    struct dm_error err = {0};
    if (store_event_add(st, &ev, &err))
        log_warn(C, "job %" PRId64 ": could not record a flood wait's event: %s", job_id, err.msg);
}

/* ---- the queue (mu held) ---- */

static void queue_push_back(struct job_runner *r, const struct slot *s)
{
    r->queue[r->qlen++] = *s;
}

static void queue_push_front(struct job_runner *r, const struct slot *s)
{
    memmove(&r->queue[1], &r->queue[0], r->qlen * sizeof r->queue[0]);
    r->queue[0] = *s;
    r->qlen++;
}

/* Index of the first item whose backoff is over, or -1 (then *next is lowered to when the
 * first one will be). */
static ssize_t queue_pick(struct job_runner *r, double now, double *next)
{
    for (size_t i = 0; i < r->qlen; i++) {
        if (r->queue[i].not_before <= now) return (ssize_t)i;
        *next = DM_MIN(*next, r->queue[i].not_before);
    }
    return -1;
}

static void queue_take(struct job_runner *r, size_t i, struct slot *out)
{
    *out = r->queue[i];
    memmove(&r->queue[i], &r->queue[i + 1], (r->qlen - i - 1) * sizeof r->queue[0]);
    r->qlen--;
}

/* ---- recording ---- */

/* doorman_decisions_total's result label (docs/operations.md, Metrics). */
static const char *outcome_name(int outcome)
{
    return outcome == ITEM_DONE ? "done" : outcome == ITEM_SKIPPED ? "skipped" : "failed";
}

/* Records an item's outcome (and counts it: core/metrics.h). A store that is unavailable
 * (DM_EUNAVAILABLE: busy, locked,
 * unreachable) is tried again every second until it works or the runner stops (then the item
 * stays pending, and the next run meets Telegram's "already handled"). Any other store error
 * fails the same way every time: the item is recorded as failed with that error as its reason
 * instead, once; if even that cannot be recorded the item is left pending (logged) so that the
 * job goes on rather than stalling the runner. */
static void record_item(struct job_runner *r, struct store_item *it, int outcome, const char *error)
{
    struct store *st = r->store;
    it->outcome = outcome;
    dm_strlcpy(it->error, error, sizeof it->error);
    bool failed_instead = false;
    for (;;) {
        struct dm_error err = {0};
        dm_err e = store_job_item_finish(st, it, (int64_t)time(NULL), &err);
        if (!e) {
            metrics_decision(account_name(r->account), job_kind_name(r->kind),
                             outcome_name(it->outcome));
            return;
        }
        log_error(C, "job %" PRId64 ": could not record request %" PRId64 ": %s", it->job_id,
                  it->request_id, err.msg);
        if (e != DM_EUNAVAILABLE) {
            if (failed_instead) return; /* left pending; the job goes on */
            failed_instead = true;
            it->outcome = ITEM_FAILED;
            dm_snprintf_utf8(it->error, sizeof it->error, "Could not record the outcome: %s",
                             err.msg);
            continue;
        }
        pthread_mutex_lock(&r->mu);
        if (!r->stop) wait_until(&r->work, &r->mu, clock_s() + 1);
        bool stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop) return;
    }
}

/* ---- workers ---- */

/* Acts on the outcome of deciding one item (mu held; released while recording). */
static void apply_decision(struct job_runner *r, struct slot *s, const struct tg_error *te)
{
    double now = clock_s();
    int outcome;
    switch (te->kind) {
    case TG_OK:
        outcome = ITEM_DONE;
        break;
    case TG_ALREADY:
        outcome = ITEM_SKIPPED;
        break;
    case TG_FLOOD:
        if (now + wait_seconds(te) > r->pause_until) {
            r->pause_until = now + wait_seconds(te);
            ratelimit_hold(&r->rl, r->pause_until);
            metrics_ratelimit_pause();
            log_warn(C, "rate limited by Telegram: pausing for %d s", wait_seconds(te));
            flood_told(r->store, s->it.job_id, account_name(r->account), wait_seconds(te));
        }
        queue_push_front(r, s);
        return;
    case TG_DEAD: /* the account cannot work: reopened when nothing is in flight */
        r->account_down = true;
        dm_snprintf_utf8(r->account_error, sizeof r->account_error, "%.200s%s%.40s%s", te->e.msg,
                         te->name[0] ? " (" : "", te->name, te->name[0] ? ")" : "");
        queue_push_front(r, s);
        return;
    default:
        if (try_later(te) && ++s->attempts < MAX_ATTEMPTS) {
            s->not_before = now + (double)(1 << (s->attempts - 1)); /* 1, 2, 4, 8 s */
            queue_push_front(r, s);
            return;
        }
        outcome = ITEM_FAILED;
    }
    s->it.final_status = outcome == ITEM_SKIPPED ? already_status(te, r->kind) : REQ_PENDING;
    pthread_mutex_unlock(&r->mu);
    char error[STORE_ERROR_MAX];
    dm_strlcpy(error, outcome == ITEM_DONE ? s->it.error : te->e.msg, sizeof error);
    record_item(r, &s->it, outcome, error);
    pthread_mutex_lock(&r->mu);
}

/* Decline and ban: once the decline is made (or was made before: a restart, or an admin), the
 * ban. A ban that must wait (flood, Telegram out of reach) becomes te, so the item is tried
 * again (declining again is answered "already handled"; banning twice is harmless); one that
 * cannot be made (no right to ban) leaves the decline standing with why in the item. */
static void ban_after(struct account *account, const struct account_request *req, struct slot *s,
                      struct tg_error *te)
{
    if (te->kind != TG_OK && te->kind != TG_ALREADY) return;
    struct tg_error bte;
    account_ban(account, req, &bte);
    if (bte.kind == TG_OK) {
        s->it.banned = true;
    } else if (bte.kind == TG_FLOOD || bte.kind == TG_DEAD || try_later(&bte)) {
        *te = bte;
    } else {
        dm_snprintf_utf8(s->it.error, sizeof s->it.error, "declined, but not banned: %s",
                         bte.e.msg);
        s->it.banned = false;
    }
}

static void *worker_main(void *arg)
{
    struct job_runner *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        double now = clock_s(), next = now + 1;
        ssize_t i = -1;
        if (r->active && !r->account_down) {
            if (now < r->pause_until)
                next = r->pause_until;
            else
                i = queue_pick(r, now, &next);
        }
        if (i < 0) {
            wait_until(&r->work, &r->mu, next);
            continue;
        }
        struct slot s;
        queue_take(r, (size_t)i, &s);
        r->inflight++;
        double slot_at = now + ratelimit_reserve(&r->rl, now);
        while (!r->stop && clock_s() < slot_at)
            wait_until(&r->work, &r->mu, slot_at);
        if (r->stop || !r->active || r->account_down || clock_s() < r->pause_until) {
            queue_push_front(r, &s); /* not called: back in line */
        } else {
            struct account *account = r->account;
            bool approve = r->kind == JOB_APPROVE;
            struct account_request req = {s.it.request_id, s.it.chat_id, s.it.user_id};
            pthread_mutex_unlock(&r->mu);
            bool ban = r->ban;
            struct tg_error te;
            notice_before(r->accounts, &req, approve); /* while the applicant can be written to */
            account_decide(account, approve, &req, &te);
            if (ban) ban_after(account, &req, &s, &te);
            pthread_mutex_lock(&r->mu);
            apply_decision(r, &s, &te);
        }
        r->inflight--;
        pthread_cond_broadcast(&r->wake);
        pthread_cond_broadcast(&r->work); /* a retry or a pause may change what others do */
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- the dispatcher ---- */

/* Reads the next batch after *after: items whose request is no longer pending are recorded as
 * skipped at once; the others are queued. mu held; released around store calls. */
static dm_err refill(struct job_runner *r, int64_t job_id, int64_t *after, bool *exhausted)
{
    struct store_item *items = r->batch;
    struct store *st = r->store;
    int n = 0;
    struct dm_error err = {0};
    pthread_mutex_unlock(&r->mu);
    dm_err e = store_job_next_items(st, job_id, *after, BATCH, items, &n, &err);
    if (e) log_error(C, "job %" PRId64 ": could not read its items: %s", job_id, err.msg);
    int queued = 0;
    for (int i = 0; !e && i < n; i++) {
        *after = items[i].request_id;
        if (items[i].request_status != REQ_PENDING) {
            char why[64];
            snprintf(why, sizeof why, "already %s", request_status_name(items[i].request_status));
            record_item(r, &items[i], ITEM_SKIPPED, why);
        } else {
            items[queued++] = items[i];
        }
    }
    pthread_mutex_lock(&r->mu);
    if (e) return e;
    for (int i = 0; i < queued; i++) {
        struct slot s = {.it = items[i], .attempts = 0, .not_before = 0};
        queue_push_back(r, &s);
    }
    if (n < BATCH) *exhausted = true;
    if (queued) pthread_cond_broadcast(&r->work);
    return DM_OK;
}

/* Shows a wait in the job (wait_until and why) when it changed enough to matter. mu held. */
static void show_wait(struct job_runner *r, int64_t job_id, int64_t want, const char *why,
                      int64_t *shown)
{
    if (want == *shown || (want && *shown && llabs(want - *shown) <= 1)) return;
    struct store *st = r->store;
    pthread_mutex_unlock(&r->mu);
    struct dm_error err = {0};
    if (store_job_set_wait(st, job_id, want, why, &err) == DM_OK)
        *shown = want;
    else
        log_warn(C, "job %" PRId64 ": could not show its wait: %s", job_id, err.msg);
    pthread_mutex_lock(&r->mu);
}

/* True when a queued job has fewer items left than job `id`: a few selected requests should not
 * wait behind an Approve All of thousands. Called without mu. */
static bool smaller_job_waiting(struct job_runner *r, int64_t id)
{
    struct store *st = r->store;
    struct store_job cur, recent[32];
    int n = 0;
    if (store_job_get(st, id, &cur, NULL) ||
        store_job_list(st, 0, (int)DM_ARRAY_LEN(recent), recent, &n, NULL))
        return false;
    int64_t left = cur.total - cur.done - cur.skipped - cur.failed;
    for (int i = 0; i < n; i++)
        if (recent[i].state == JOB_QUEUED &&
            recent[i].total - recent[i].done - recent[i].skipped - recent[i].failed < left)
            return true;
    return false;
}

/* What lease_keep found. */
enum lease {
    LEASE_HELD,  /* go on */
    LEASE_GONE,  /* cancelled or taken over: stop without touching the job */
    LEASE_YIELD, /* a smaller job waits: end the lease and let it go first */
};

/* Renews the lease of job `id` when the runner was woken or the renewal is due; a wake-up is
 * also when cancellation (job_renew's DM_ECONFLICT) and smaller jobs are noticed. mu held;
 * released around store calls. */
static enum lease lease_keep(struct job_runner *r, int64_t id, double *next_renew)
{
    double now = clock_s();
    if (!r->woken && now < *next_renew) return LEASE_HELD;
    struct store *st = r->store;
    bool was_woken = r->woken;
    r->woken = false;
    pthread_mutex_unlock(&r->mu);
    struct dm_error err = {0};
    dm_err e = store_job_renew(st, id, r->owner, (int64_t)time(NULL) + r->lease, &err);
    bool yield = !e && was_woken && smaller_job_waiting(r, id);
    pthread_mutex_lock(&r->mu);
    if (yield) {
        log_info(C, "job %" PRId64 ": a smaller job waits; letting it go first", id);
        return LEASE_YIELD;
    }
    if (e == DM_ECONFLICT) {
        log_info(C, "job %" PRId64 ": cancelled or taken over; stopping it", id);
        return LEASE_GONE;
    }
    if (e) log_warn(C, "job %" PRId64 ": could not renew its lease: %s", id, err.msg);
    *next_renew = now + r->renew_every;
    return LEASE_HELD;
}

/* Stopping or yielding: clears the wait shown and ends the lease now, so the job can be
 * claimed again at once. Called without mu. */
static void lease_end(struct job_runner *r, int64_t id, int64_t shown_wait, bool yielded)
{
    struct store *st = r->store;
    if (shown_wait) store_job_set_wait(st, id, 0, "", NULL);
    store_job_renew(st, id, r->owner, (int64_t)time(NULL) - 1, NULL);
    if (!yielded)
        log_info(C, "job %" PRId64 ": paused for shutdown; it goes on at the next start", id);
}

/* Whether a decline job bans too: the rules' "decline and ban" (params {"ban":true}). */
static bool job_bans(const struct store_job *job)
{
    json_t *p = job->params[0] ? json_loads(job->params, 0, NULL) : NULL;
    bool ban = json_is_true(json_object_get(p, "ban"));
    json_decref(p);
    return ban;
}

/* Runs one claimed decision job over items through `account` (job->via's) until it is done,
 * cancelled (or taken over), or the runner stops, or a smaller job waits (then it yields: the
 * smaller one is claimed first, this one after it). Called without mu. */
static void run_job(struct job_runner *r, const struct store_job *job, struct account *account)
{
    struct store *st = r->store;
    const int64_t id = job->id;
    struct dm_error err = {0};
    log_info(C, "job %" PRId64 ": %s via %s, %" PRId64 " of %" PRId64 " items left", id,
             job_kind_name(job->kind), job->via,
             job->total - job->done - job->skipped - job->failed, job->total);

    pthread_mutex_lock(&r->mu);
    r->account = account;
    r->ready = false;
    r->kind = job->kind;
    r->ban = job->kind == JOB_DECLINE && job_bans(job);
    r->qlen = 0;
    r->account_down = false;
    r->active = false;
    int64_t after = 0, shown_wait = job->wait_until;
    bool exhausted = false, gone = false, done = false, yielded = false, failed = false;
    double next_renew = clock_s() + r->renew_every, next_open = 0;
    char open_error[sizeof err.msg] = "";

    while (!r->stop) {
        double now = clock_s();
        int64_t wall = (int64_t)time(NULL);
        enum lease l = lease_keep(r, id, &next_renew);
        if (l != LEASE_HELD) {
            gone = l == LEASE_GONE;
            yielded = l == LEASE_YIELD;
            break;
        }

        if (r->account_down && r->inflight == 0) { /* asked again in OPEN_RETRY */
            log_warn(C, "job %" PRId64 ": %s", id, r->account_error);
            r->active = false;
            r->ready = false;
            r->account_down = false;
            next_open = now + OPEN_RETRY;
        }
        if (!r->ready && !r->account_down && now >= next_open) {
            pthread_mutex_unlock(&r->mu);
            dm_err e = account_usable(account, &err);
            pthread_mutex_lock(&r->mu);
            if (e && e != DM_EUNAVAILABLE && e != DM_EDB) { /* e.g. the session is invalid */
                dm_strlcpy(open_error, err.msg, sizeof open_error);
                failed = true;
                break;
            }
            if (e) {
                if (strcmp(open_error, err.msg) != 0)
                    log_warn(C, "job %" PRId64 " waits: %s", id, err.msg);
                dm_strlcpy(open_error, err.msg, sizeof open_error);
                next_open = now + OPEN_RETRY;
            } else {
                open_error[0] = 0;
                r->ready = true;
                r->active = true;
                pthread_cond_broadcast(&r->work);
            }
        }
        if (r->ready) ratelimit_set_rate(&r->rl, account_rate(account), now);

        if (r->ready && !exhausted && r->qlen < BATCH / 2 &&
            refill(r, id, &after, &exhausted) != DM_OK)
            next_renew = DM_MIN(next_renew, now + 1); /* store trouble: try again soon */
        if (exhausted && r->qlen == 0 && r->inflight == 0) {
            done = true;
            break;
        }

        int64_t want = 0;
        const char *why = "";
        if (r->pause_until > now) {
            want = wall + (int64_t)ceil(r->pause_until - now);
            why = "Telegram's rate limit: waiting before going on";
        } else if (!r->ready) {
            want = shown_wait > wall + 2 ? shown_wait : wall + 10;
            why = open_error;
        }
        show_wait(r, id, want, why, &shown_wait);

        if (!r->woken && !r->stop) wait_until(&r->wake, &r->mu, DM_MIN(next_renew, clock_s() + 1));
    }

    /* Let the calls in flight finish and be recorded. */
    r->active = false;
    pthread_cond_broadcast(&r->work);
    while (r->inflight > 0)
        wait_until(&r->wake, &r->mu, clock_s() + 1);
    r->account = NULL;
    r->ready = false;
    r->qlen = 0;
    pthread_mutex_unlock(&r->mu);

    int64_t wall = (int64_t)time(NULL);
    if (failed) {
        log_warn(C, "job %" PRId64 " failed: %s", id, open_error);
        if (store_job_finish(st, id, JOB_FAILED, open_error, wall, &err))
            log_error(C, "job %" PRId64 ": could not mark it failed: %s", id, err.msg);
    } else if (done) {
        if (store_job_finish(st, id, JOB_DONE, "", wall, &err))
            log_error(C, "job %" PRId64 ": could not mark it done: %s", id, err.msg);
        struct store_job fin;
        if (store_job_get(st, id, &fin, NULL) == DM_OK)
            log_info(C,
                     "job %" PRId64 " done: %" PRId64 " decided, %" PRId64 " skipped, %" PRId64
                     " failed",
                     id, fin.done, fin.skipped, fin.failed);
    } else if (!gone) {
        lease_end(r, id, shown_wait, yielded);
    }
}

/* A job the dispatcher runs itself, one step (a Telegram call and its record) at a time: a
 * load job (load_run_step) or a decision through hideAll (hide_run_step). */
typedef dm_err (*step_fn)(void *ctx, const char *owner, bool *finished, struct tg_error *te);

static dm_err load_step(void *ctx, const char *owner, bool *finished, struct tg_error *te)
{
    return load_run_step(ctx, owner, finished, te);
}

static dm_err hide_step(void *ctx, const char *owner, bool *finished, struct tg_error *te)
{
    return hide_run_step(ctx, owner, finished, te);
}

static dm_err apply_step(void *ctx, const char *owner, bool *finished, struct tg_error *te)
{
    return apply_run_step(ctx, owner, finished, te);
}

/* Runs a claimed job step by step until it is finished, fails, is cancelled (or taken over),
 * the runner stops, or a smaller job waits. A flood wait or trouble reaching Telegram is
 * waited out here, shown in the job. `why_not`: why ctx could not be made (the job fails at
 * once), or NULL. Called without mu. */
static void run_steps(struct job_runner *r, const struct store_job *job, step_fn step, void *ctx,
                      const struct dm_error *why_not)
{
    struct store *st = r->store;
    const int64_t id = job->id;
    struct tg_error te = {0};
    if (why_not) tg_error_local(&te, why_not->code, "%s", why_not->msg);
    bool finished = false, failed = why_not != NULL, gone = false, yielded = false;

    pthread_mutex_lock(&r->mu);
    int64_t shown_wait = job->wait_until;
    double next_renew = clock_s() + r->renew_every, next_step = 0;
    if (job->wait_until > (int64_t)time(NULL)) /* a flood wait from before a restart */
        next_step = clock_s() + (double)(job->wait_until - (int64_t)time(NULL));
    int backoff = 0;
    while (!failed && !r->stop) {
        enum lease l = lease_keep(r, id, &next_renew);
        if (l != LEASE_HELD) {
            gone = l == LEASE_GONE;
            yielded = l == LEASE_YIELD;
            break;
        }
        if (clock_s() < next_step) {
            if (!r->woken && !r->stop) wait_until(&r->wake, &r->mu, DM_MIN(next_step, next_renew));
            continue;
        }
        pthread_mutex_unlock(&r->mu);
        dm_err e = step(ctx, r->owner, &finished, &te);
        pthread_mutex_lock(&r->mu);
        if (e == DM_ECONFLICT) {
            gone = true;
            log_info(C, "job %" PRId64 ": cancelled or taken over; stopping it", id);
            break;
        }
        int wait = e ? step_retry_in(&te, &backoff) : 0;
        if (wait < 0) {
            failed = true;
            break;
        }
        if (!e) backoff = 0;
        if (!e && finished) break;
        if (e) log_warn(C, "job %" PRId64 ": %s; trying again in %d s", id, te.e.msg, wait);
        if (e && te.kind == TG_FLOOD) flood_told(st, id, job->via, wait);
        next_step = clock_s() + wait;
        show_wait(r, id, wait ? (int64_t)time(NULL) + wait : 0, e ? te.e.msg : "", &shown_wait);
    }
    pthread_mutex_unlock(&r->mu);

    int64_t wall = (int64_t)time(NULL);
    struct dm_error err = {0};
    if (failed) {
        log_warn(C, "job %" PRId64 " failed: %s", id, te.e.msg);
        if (store_job_finish(st, id, JOB_FAILED, te.e.msg, wall, &err))
            log_error(C, "job %" PRId64 ": could not mark it failed: %s", id, err.msg);
    } else if (finished) {
        if (shown_wait) store_job_set_wait(st, id, 0, "", NULL);
        struct store_job fin;
        if (store_job_finish(st, id, JOB_DONE, "", wall, &err))
            log_error(C, "job %" PRId64 ": could not mark it done: %s", id, err.msg);
        else if (store_job_get(st, id, &fin, NULL) == DM_OK)
            log_info(C,
                     "job %" PRId64 " done: %" PRId64 " done, %" PRId64 " skipped, %" PRId64
                     " failed of %" PRId64,
                     id, fin.done, fin.skipped, fin.failed, fin.total);
    } else if (!gone) {
        lease_end(r, id, 0, yielded); /* a flood wait shown stays: the next run honours it */
    }
}

/* Runs a claimed job of any kind through its account, open while it runs. Called without
 * mu. */
static void run_claimed(struct job_runner *r, const struct store_job *job)
{
    struct dm_error err = {0};
    struct account *account = NULL;
    dm_err e = account_open(r->accounts, job->via, &account, &err);
    if (e) {
        run_steps(r, job, NULL, NULL, &err);
    } else if (job->kind == JOB_APPLY) {
        struct apply_run ar;
        e = apply_run_init(&ar, r->store, r->accounts, job, &err);
        if (!e)
            log_info(C,
                     "job %" PRId64 ": applying the rules to %" PRId64 " of %" PRId64
                     " requests left",
                     job->id, job->total - job->done, job->total);
        run_steps(r, job, apply_step, &ar, e ? &err : NULL);
        if (!e) apply_run_release(&ar);
    } else if (job->kind == JOB_LOAD) {
        struct load_run lr;
        e = load_run_init(&lr, r->store, account, job, &err);
        if (!e)
            log_info(C, "job %" PRId64 ": load via %s from %s, %" PRId64 " loaded so far", job->id,
                     job->via, lr.params.channel.title, lr.done);
        run_steps(r, job, load_step, &lr, e ? &err : NULL);
    } else {
        struct hide_run hr;
        e = hide_run_init(&hr, r->store, account, job, &err);
        if (e == DM_ENOTFOUND) { /* a decision job over items */
            run_job(r, job, account);
        } else {
            if (!e)
                log_info(C,
                         "job %" PRId64 ": %s all via %s with hideAll, %" PRId64 " of %" PRId64
                         " items left",
                         job->id, job_kind_name(job->kind), job->via,
                         job->total - job->done - job->skipped - job->failed, job->total);
            run_steps(r, job, hide_step, &hr, e ? &err : NULL);
        }
    }
    account_close(account);
}

static void *runner_main(void *arg)
{
    struct job_runner *r = arg;
    struct store *st = r->store;
    char last_error[sizeof((struct dm_error *)0)->msg] = "";
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        r->woken = false;
        pthread_mutex_unlock(&r->mu);
        struct store_job job;
        struct dm_error err = {0};
        int64_t now = (int64_t)time(NULL);
        dm_err e = store_job_claim(st, r->owner, now, now + r->lease, &job, &err);
        if (!e) {
            last_error[0] = 0;
            run_claimed(r, &job);
        } else if (e != DM_ENOTFOUND && strcmp(last_error, err.msg) != 0) {
            log_error(C, "could not look for jobs: %s", err.msg);
            dm_strlcpy(last_error, err.msg, sizeof last_error);
        }
        pthread_mutex_lock(&r->mu);
        if (e && !r->woken && !r->stop) wait_until(&r->wake, &r->mu, clock_s() + 1);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* ---- public ---- */

static void runner_free(struct job_runner *r)
{
    pthread_cond_destroy(&r->work);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

void job_runner_stop(struct job_runner *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_broadcast(&r->wake);
    pthread_cond_broadcast(&r->work);
    pthread_mutex_unlock(&r->mu);
    if (r->thread_started) pthread_join(r->thread, NULL); /* drains the job in flight */
    for (size_t i = 0; i < r->n_workers; i++)
        pthread_join(r->workers[i], NULL);
    runner_free(r);
}

dm_err job_runner_start(const struct job_runner_config *cfg, struct job_runner **out,
                        struct dm_error *err)
{
    *out = NULL;
    if (strlen(cfg->owner) >= sizeof((struct job_runner *)0)->owner)
        return dm_fail(err, DM_EINVAL, "the runner's owner name is too long");
    struct job_runner *r = calloc(1, sizeof *r);
    if (!r) return dm_fail(err, DM_ENOMEM, "out of memory");
    r->store = cfg->store;
    r->accounts = cfg->accounts;
    dm_strlcpy(r->owner, cfg->owner, sizeof r->owner);
    r->lease = env_lease();
    r->renew_every = DM_MAX(r->lease / 3.0, 0.5);
    pthread_mutex_init(&r->mu, NULL);
    clock_cond_init(&r->wake);
    clock_cond_init(&r->work);
    ratelimit_init(&r->rl, 30, 1, clock_s());

    for (; r->n_workers < WORKERS; r->n_workers++)
        if (pthread_create(&r->workers[r->n_workers], NULL, worker_main, r) != 0) break;
    if (r->n_workers == WORKERS && pthread_create(&r->thread, NULL, runner_main, r) == 0)
        r->thread_started = true;
    if (!r->thread_started) {
        job_runner_stop(r);
        return dm_fail(err, DM_ENOMEM, "could not start the job runner's threads");
    }
    *out = r;
    return DM_OK;
}

void job_runner_wake(struct job_runner *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    r->woken = true;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->mu);
}
