/* runner.c: the job runner: LANES lanes, each a dispatcher thread and a few worker threads
 * (started with the lane's first job over items) running one job at a time.
 *
 * A lane's dispatcher claims a job (store job_claim_except with a lease it renews), passing over
 * the jobs whose via another lane of this process runs, so jobs through different accounts run
 * at the same time and jobs through the same account one after the other. It opens the job's
 * accounts (telegram/account.h; several for a job whose via names several: jobs/via.h) and
 * feeds the job's pending items into the lane's queue in request-id order, reading them in
 * batches keyed by the last request id seen (never LIMIT/OFFSET over changing rows). The lane's
 * workers take items from the queue; each item goes to the first of the job's accounts that can
 * take it now (ready, not waiting out a flood wait, not known to lack the right in the item's
 * channel), waiting for its slot from that account's token bucket, so up to WORKERS calls are in
 * flight at each account's rate; each outcome is recorded with job_items_finish (with its audit
 * row, naming the account) before the item counts as finished. Outcomes are recorded as a group
 * commit: a worker with an outcome adds it to the lane's outbox; if no other worker is recording,
 * it records everything the outbox holds in one transaction, else it waits until a recording
 * holds its outcome; either way it goes on only once its outcome is committed. So while one
 * transaction commits, the outcomes of the other calls in flight gather for the next one (on
 * PostgreSQL a transaction's round trips and its commit are most of what an item costs). A flood
 * wait pauses that account for retry_after; the others go on. The job is done when no item is
 * pending, in the queue or in flight. What a failure means to a job (wait, try again, give up,
 * reopen the account, leave the item to the next account) is decided in one place, below
 * ("failures"), from the classified error of tg_error.h.
 *
 * A load job (load.h) has no items to queue, and an Approve All / Deny All through a session
 * decides whole channels (hide_all.h): the dispatcher itself runs those step by step
 * (run_steps), keeping the lease the same way and waiting out flood waits and network trouble
 * (a load through several sessions goes on through the next one by itself, and waits only when
 * all of them wait).
 *
 * Pacing is the account's (struct pace: its token bucket and flood pause), kept by the runner
 * across jobs and shared by every lane that uses the account at once (their vias overlap: a list
 * and one of its sessions, or VIA_ANY_SESSION), so a flood wait holds back all of them, and a job
 * of that account that starts during it too.
 *
 * Locking: a lane's mu guards everything below it in struct lane; claim_mu guards the lanes'
 * vias (which job each runs) from a claim to the next; pace_mu the paces, taken inside a lane's
 * mu and never the other way round. Neither store calls nor Telegram calls are made while
 * holding a lane's mu. */
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
#include "jobs/via.h"
#include "store/store.h"
#include "telegram/account.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>

#define LANES 4               /* jobs run at once, each through its own accounts */
#define WORKERS 8             /* calls in flight at most, per lane */
#define BATCH 100             /* items read from the store at a time */
#define QUEUE_MAX (2 * BATCH) /* refilled below BATCH/2, so queue + in flight stays below */
#define MAX_ATTEMPTS 5        /* for items that got no answer or a server error */
#define OPEN_RETRY 2.0        /* seconds between tries to open an account that cannot work */
#define DEFAULT_LEASE 30
#define LOAD_BACKOFF_MAX 60 /* seconds between tries when Telegram cannot be reached */
#define NO_RIGHT_MAX 16     /* channels an account is remembered to lack the right in */
#define PACES_MAX 64        /* accounts whose pace is kept: more than the lanes can use at once */

static const char *const C = "jobs";

struct slot {
    struct store_item it;
    int attempts;
    double not_before; /* monotonic seconds: retry backoff */
};

/* An account's pace, kept by the runner across jobs and shared by the lanes that use it, so a
 * flood wait holds back every job of the account, also one that starts later. Guarded by
 * pace_mu (taken inside a lane's mu, never the other way round). */
struct job_runner;

struct pace {
    struct job_runner *r;
    char name[STORE_NAME_MAX]; /* "" when unused */
    int users;                 /* lane accounts using it now */
    struct ratelimit rl;
    double pause_until; /* monotonic; no calls before (a flood wait's retry_after) */
};

/* One of the accounts of the job a lane runs. */
struct lane_account {
    struct account *a; /* open for the whole job */
    bool ready;        /* account_usable said yes: workers may call it */
    bool down;         /* a worker found it unusable: asked again when none of its calls is out */
    bool gone;         /* account_usable said it cannot work: not used again in this job */
    double next_open;  /* monotonic: when to ask account_usable next */
    int inflight;      /* its calls out */
    char error[STORE_ERROR_MAX];    /* why it is down, waits or is gone */
    struct pace *pace;              /* the runner's, for as long as the job runs */
    int64_t no_right[NO_RIGHT_MAX]; /* channels where it lacks the right (a ring) */
    size_t n_no_right;
    char no_right_error[STORE_ERROR_MAX]; /* what Telegram said there */
};

struct job_runner;

struct lane {
    struct job_runner *r;
    pthread_t thread;
    pthread_t workers[WORKERS];
    size_t n_workers;
    bool thread_started;
    char via[STORE_VIA_MAX]; /* the via of the job it runs, "" when idle: claim_mu */

    pthread_mutex_t mu;
    pthread_cond_t wake; /* the dispatcher: job_runner_wake, an item finished, stop */
    pthread_cond_t work; /* the workers: items queued, account ready, stop */
    bool stop;
    bool woken;

    /* the job being run; workers take items only while active */
    bool active;
    int kind;
    bool ban; /* a decline job of the rules that bans too (params "ban") */
    struct lane_account acc[VIA_MAX];
    size_t n_acc;
    struct slot queue[QUEUE_MAX];
    size_t qlen;
    int inflight; /* taken by a worker and not yet recorded or queued again */

    /* outcomes to record together (record_outcome): a worker adds at most one at a time */
    struct store_item outbox[WORKERS];
    size_t n_out;
    bool recording;        /* a worker is recording a group (mu released meanwhile) */
    uint64_t added;        /* outcomes added to the outbox so far */
    uint64_t recorded;     /* of those, the first `recorded` are recorded (or given up: logged) */
    pthread_cond_t stored; /* the workers waiting for their outcome: a group was recorded */

    struct store_item batch[BATCH]; /* the dispatcher's read buffer */
};

struct job_runner {
    struct store *store;
    const struct accounts *accounts;
    char owner[64];
    int lease; /* seconds: DOORMAN_JOB_LEASE, default 30 */
    double renew_every;
    pthread_mutex_t claim_mu;
    pthread_mutex_t pace_mu;
    struct pace paces[PACES_MAX];
    struct lane lanes[LANES];
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

/* ---- paces (pace_mu taken here) ---- */

static double pace_paused_until(struct pace *p)
{
    struct job_runner *r = p->r;
    pthread_mutex_lock(&r->pace_mu);
    double until = p->pause_until;
    pthread_mutex_unlock(&r->pace_mu);
    return until;
}

/* Pauses the account until `until` (a later pause only); true when it was not paused as long. */
static bool pace_hold(struct pace *p, double until)
{
    struct job_runner *r = p->r;
    pthread_mutex_lock(&r->pace_mu);
    bool longer = until > p->pause_until;
    if (longer) {
        p->pause_until = until;
        ratelimit_hold(&p->rl, until);
    }
    pthread_mutex_unlock(&r->pace_mu);
    return longer;
}

/* The seconds from now to the account's next slot, taken. */
static double pace_reserve(struct pace *p, double now)
{
    struct job_runner *r = p->r;
    pthread_mutex_lock(&r->pace_mu);
    double wait = ratelimit_reserve(&p->rl, now);
    pthread_mutex_unlock(&r->pace_mu);
    return wait;
}

static void pace_set_rate(struct pace *p, double rate, double now)
{
    struct job_runner *r = p->r;
    pthread_mutex_lock(&r->pace_mu);
    ratelimit_set_rate(&p->rl, rate, now);
    pthread_mutex_unlock(&r->pace_mu);
}

/* The pace of account `name`, kept from before or made (in place of an unused one, preferring
 * one whose pause is over); users counts this use until pace_put. */
static struct pace *pace_get(struct job_runner *r, const char *name)
{
    double now = clock_s();
    pthread_mutex_lock(&r->pace_mu);
    struct pace *p = NULL, *spare = NULL;
    for (size_t i = 0; i < PACES_MAX && !p; i++) {
        struct pace *x = &r->paces[i];
        if (strcmp(x->name, name) == 0)
            p = x;
        else if (x->users == 0 &&
                 (!spare || !x->name[0] || (spare->name[0] && x->pause_until < spare->pause_until)))
            spare = x;
    }
    if (!p) { /* LANES * VIA_MAX < PACES_MAX: a spare is always there */
        p = spare;
        dm_strlcpy(p->name, name, sizeof p->name);
        p->pause_until = 0;
        ratelimit_init(&p->rl, 30, 1, now);
    }
    p->users++;
    pthread_mutex_unlock(&r->pace_mu);
    return p;
}

static void pace_put(struct job_runner *r, struct pace *p)
{
    pthread_mutex_lock(&r->pace_mu);
    p->users--;
    pthread_mutex_unlock(&r->pace_mu);
}

/* ---- the job's accounts (mu held) ---- */

static bool lacks_right(const struct lane_account *la, int64_t chat_id)
{
    for (size_t i = 0; i < DM_MIN(la->n_no_right, (size_t)NO_RIGHT_MAX); i++)
        if (la->no_right[i] == chat_id) return true;
    return false;
}

/* Whether account k may be given an item of chat_id now; *next is lowered to when a paused one
 * will be. */
static bool account_free(const struct lane_account *la, int64_t chat_id, double now, double *next)
{
    if (!la->ready || la->down || la->gone || lacks_right(la, chat_id)) return false;
    double until = pace_paused_until(la->pace);
    if (now >= until) return true;
    *next = DM_MIN(*next, until);
    return false;
}

/* The first account that may take an item of chat_id now, or -1. */
static int account_pick(struct lane *l, int64_t chat_id, double now, double *next)
{
    for (size_t k = 0; k < l->n_acc; k++)
        if (account_free(&l->acc[k], chat_id, now, next)) return (int)k;
    return -1;
}

/* Whether an account other than k could still take an item of chat_id (now or later). */
static bool other_account_for(const struct lane *l, size_t k, int64_t chat_id)
{
    for (size_t j = 0; j < l->n_acc; j++)
        if (j != k && !l->acc[j].gone && !lacks_right(&l->acc[j], chat_id)) return true;
    return false;
}

/* ---- the queue (mu held) ---- */

static void queue_push_back(struct lane *l, const struct slot *s)
{
    l->queue[l->qlen++] = *s;
}

static void queue_push_front(struct lane *l, const struct slot *s)
{
    memmove(&l->queue[1], &l->queue[0], l->qlen * sizeof l->queue[0]);
    l->queue[0] = *s;
    l->qlen++;
}

/* Index of the first item whose backoff is over and that an account may take now (in *k), or
 * that none of the job's accounts ever may (*k = -1: it fails), or -1 (then *next is lowered to
 * when one might be). */
static ssize_t queue_pick(struct lane *l, double now, double *next, int *k)
{
    for (size_t i = 0; i < l->qlen; i++) {
        if (l->queue[i].not_before > now) {
            *next = DM_MIN(*next, l->queue[i].not_before);
            continue;
        }
        int64_t chat_id = l->queue[i].it.chat_id;
        *k = account_pick(l, chat_id, now, next);
        if (*k >= 0 || !other_account_for(l, SIZE_MAX, chat_id)) return (ssize_t)i;
    }
    return -1;
}

static void queue_take(struct lane *l, size_t i, struct slot *out)
{
    *out = l->queue[i];
    memmove(&l->queue[i], &l->queue[i + 1], (l->qlen - i - 1) * sizeof l->queue[0]);
    l->qlen--;
}

/* ---- recording ---- */

/* doorman_decisions_total's result label (docs/operations.md, Metrics). */
static const char *outcome_name(int outcome)
{
    return outcome == ITEM_DONE ? "done" : outcome == ITEM_SKIPPED ? "skipped" : "failed";
}

/* Gives item it its outcome and error, to be recorded. */
static void item_outcome(struct store_item *it, int outcome, const char *error)
{
    it->outcome = outcome;
    dm_strlcpy(it->error, error, sizeof it->error);
}

/* Counts a recorded outcome under it->via, or the job's via (core/metrics.h). */
static void item_counted(const struct lane *l, const struct store_item *it)
{
    metrics_decision(it->via[0] ? it->via : l->via, job_kind_name(l->kind),
                     outcome_name(it->outcome));
}

/* Records an item's outcome (item_outcome) and counts it. A store that is unavailable
 * (DM_EUNAVAILABLE: busy, locked, unreachable) is tried again every second until it works or
 * the runner stops (then the item stays pending, and the next run meets Telegram's "already
 * handled"). Any other store error fails the same way every time: the item is recorded as
 * failed with that error as its reason instead, once; if even that cannot be recorded the item
 * is left pending (logged) so that the job goes on rather than stalling the runner. Called
 * without mu. */
static void record_item(struct lane *l, struct store_item *it)
{
    struct store *st = l->r->store;
    bool failed_instead = false;
    for (;;) {
        struct dm_error err = {0};
        dm_err e = store_job_items_finish(st, it, 1, (int64_t)time(NULL), &err);
        if (!e) {
            item_counted(l, it);
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
        pthread_mutex_lock(&l->mu);
        if (!l->stop) wait_until(&l->work, &l->mu, clock_s() + 1);
        bool stop = l->stop;
        pthread_mutex_unlock(&l->mu);
        if (stop) return;
    }
}

static int by_request_id(const void *a, const void *b)
{
    int64_t x = ((const struct store_item *)a)->request_id;
    int64_t y = ((const struct store_item *)b)->request_id;
    return (x > y) - (x < y);
}

/* Records n outcomes in one transaction (in request id order, the order PostgreSQL locks
 * their rows in), or, when that fails, each on its own as record_item does. Called without
 * mu. */
static void record_items(struct lane *l, struct store_item *items, size_t n)
{
    if (n > 1) {
        qsort(items, n, sizeof *items, by_request_id);
        struct dm_error err = {0};
        if (!store_job_items_finish(l->r->store, items, n, (int64_t)time(NULL), &err)) {
            for (size_t i = 0; i < n; i++)
                item_counted(l, &items[i]);
            return;
        }
        log_warn(C,
                 "job %" PRId64 ": could not record %zu outcomes together (%s); recording "
                 "each on its own",
                 items[0].job_id, n, err.msg);
    }
    for (size_t i = 0; i < n; i++)
        record_item(l, &items[i]);
}

/* Records a worker's outcome (item_outcome) with those of the other workers, and returns once
 * it is recorded: the group commit of the header. mu held; released while recording. */
static void record_outcome(struct lane *l, const struct store_item *it)
{
    l->outbox[l->n_out++] = *it;
    uint64_t mine = ++l->added;
    while (l->recorded < mine) {
        if (l->recording) {
            pthread_cond_wait(&l->stored, &l->mu);
            continue;
        }
        struct store_item group[WORKERS];
        size_t n = l->n_out;
        uint64_t upto = l->added;
        memcpy(group, l->outbox, n * sizeof *group);
        l->n_out = 0;
        l->recording = true;
        pthread_mutex_unlock(&l->mu);
        record_items(l, group, n);
        pthread_mutex_lock(&l->mu);
        l->recording = false;
        l->recorded = upto;
        pthread_cond_broadcast(&l->stored);
    }
}

/* ---- workers ---- */

/* Fails s, none of whose accounts may decide in its channel, with what the first of them that
 * lacks the right there was told, in its name (mu held; released while recording). */
static void fail_no_right(struct lane *l, struct slot *s)
{
    char error[STORE_ERROR_MAX] = "None of the job's accounts can decide in this channel";
    for (size_t k = 0; k < l->n_acc; k++)
        if (lacks_right(&l->acc[k], s->it.chat_id)) {
            dm_strlcpy(error, l->acc[k].no_right_error, sizeof error);
            dm_strlcpy(s->it.via, account_name(l->acc[k].a), sizeof s->it.via);
            break;
        }
    s->it.final_status = REQ_PENDING;
    item_outcome(&s->it, ITEM_FAILED, error);
    record_outcome(l, &s->it);
}

/* Acts on the outcome of deciding one item through account k (mu held; released while
 * recording). */
static void apply_decision(struct lane *l, struct slot *s, size_t k, const struct tg_error *te)
{
    struct lane_account *la = &l->acc[k];
    const char *name = account_name(la->a);
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
        if (pace_hold(la->pace, now + wait_seconds(te))) {
            metrics_ratelimit_pause();
            log_warn(C, "rate limited by Telegram: %s pauses for %d s", name, wait_seconds(te));
            flood_told(l->r->store, s->it.job_id, name, wait_seconds(te));
        }
        queue_push_front(l, s);
        return;
    case TG_DEAD: /* the account cannot work: asked again when none of its calls is out */
        la->down = true;
        dm_snprintf_utf8(la->error, sizeof la->error, "%.200s%s%.40s%s", te->e.msg,
                         te->name[0] ? " (" : "", te->name, te->name[0] ? ")" : "");
        queue_push_front(l, s);
        return;
    case TG_NO_RIGHT: /* the next account may have it */
        la->no_right[la->n_no_right++ % NO_RIGHT_MAX] = s->it.chat_id;
        dm_strlcpy(la->no_right_error, te->e.msg, sizeof la->no_right_error);
        if (other_account_for(l, k, s->it.chat_id)) {
            log_info(C, "job %" PRId64 ": %s lacks the right in chat %" PRId64 "; the next goes on",
                     s->it.job_id, name, s->it.chat_id);
            queue_push_front(l, s);
            return;
        }
        outcome = ITEM_FAILED;
        break;
    default:
        if (try_later(te) && ++s->attempts < MAX_ATTEMPTS) {
            s->not_before = now + (double)(1 << (s->attempts - 1)); /* 1, 2, 4, 8 s */
            queue_push_front(l, s);
            return;
        }
        outcome = ITEM_FAILED;
    }
    s->it.final_status = outcome == ITEM_SKIPPED ? already_status(te, l->kind) : REQ_PENDING;
    dm_strlcpy(s->it.via, name, sizeof s->it.via);
    char error[STORE_ERROR_MAX];
    dm_strlcpy(error, outcome == ITEM_DONE ? s->it.error : te->e.msg, sizeof error);
    item_outcome(&s->it, outcome, error);
    record_outcome(l, &s->it);
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
    struct lane *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        double now = clock_s(), next = now + 1;
        ssize_t i = -1;
        int k = -1;
        if (l->active) i = queue_pick(l, now, &next, &k);
        if (i < 0) {
            wait_until(&l->work, &l->mu, next);
            continue;
        }
        struct slot s;
        queue_take(l, (size_t)i, &s);
        if (k < 0) {
            l->inflight++;
            fail_no_right(l, &s);
            l->inflight--;
            pthread_cond_broadcast(&l->wake);
            continue;
        }
        struct lane_account *la = &l->acc[k];
        l->inflight++;
        la->inflight++;
        double slot_at = now + pace_reserve(la->pace, now);
        while (!l->stop && clock_s() < slot_at)
            wait_until(&l->work, &l->mu, slot_at);
        double never = INFINITY;
        if (l->stop || !l->active || !account_free(la, s.it.chat_id, clock_s(), &never)) {
            queue_push_front(l, &s); /* not called: back in line */
        } else {
            struct account *account = la->a;
            bool approve = l->kind == JOB_APPROVE;
            bool ban = l->ban;
            struct account_request req = {s.it.request_id, s.it.chat_id, s.it.user_id};
            pthread_mutex_unlock(&l->mu);
            struct tg_error te;
            notice_before(l->r->accounts, &req,
                          approve); /* while the applicant can be written to */
            account_decide(account, approve, &req, &te);
            if (ban) ban_after(account, &req, &s, &te);
            pthread_mutex_lock(&l->mu);
            apply_decision(l, &s, (size_t)k, &te);
        }
        la->inflight--;
        l->inflight--;
        pthread_cond_broadcast(&l->wake);
        pthread_cond_broadcast(&l->work); /* a retry or a pause may change what others do */
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* ---- the dispatcher ---- */

/* Reads the next batch after *after: items whose request is no longer pending are recorded as
 * skipped at once; the others are queued. mu held; released around store calls. */
static dm_err refill(struct lane *l, int64_t job_id, int64_t *after, bool *exhausted)
{
    struct store_item *items = l->batch;
    struct store *st = l->r->store;
    int n = 0;
    struct dm_error err = {0};
    pthread_mutex_unlock(&l->mu);
    dm_err e = store_job_next_items(st, job_id, *after, BATCH, items, &n, &err);
    if (e) log_error(C, "job %" PRId64 ": could not read its items: %s", job_id, err.msg);
    int queued = 0;
    for (int i = 0; !e && i < n; i++) {
        *after = items[i].request_id;
        if (items[i].request_status != REQ_PENDING) {
            char why[64];
            snprintf(why, sizeof why, "already %s", request_status_name(items[i].request_status));
            item_outcome(&items[i], ITEM_SKIPPED, why);
            record_item(l, &items[i]);
        } else {
            items[queued++] = items[i];
        }
    }
    pthread_mutex_lock(&l->mu);
    if (e) return e;
    for (int i = 0; i < queued; i++) {
        struct slot s = {.it = items[i], .attempts = 0, .not_before = 0};
        queue_push_back(l, &s);
    }
    if (n < BATCH) *exhausted = true;
    if (queued) pthread_cond_broadcast(&l->work);
    return DM_OK;
}

/* Shows a wait in the job (wait_until and why) when it changed enough to matter. mu held. */
static void show_wait(struct lane *l, int64_t job_id, int64_t want, const char *why, int64_t *shown)
{
    if (want == *shown || (want && *shown && llabs(want - *shown) <= 1)) return;
    struct store *st = l->r->store;
    pthread_mutex_unlock(&l->mu);
    struct dm_error err = {0};
    if (store_job_set_wait(st, job_id, want, why, &err) == DM_OK)
        *shown = want;
    else
        log_warn(C, "job %" PRId64 ": could not show its wait: %s", job_id, err.msg);
    pthread_mutex_lock(&l->mu);
}

/* Whether no lane of r is idle (claim_mu taken here). */
static bool lanes_full(struct job_runner *r)
{
    pthread_mutex_lock(&r->claim_mu);
    bool full = true;
    for (size_t i = 0; i < LANES; i++)
        if (!r->lanes[i].via[0]) full = false;
    pthread_mutex_unlock(&r->claim_mu);
    return full;
}

/* True when a queued job has fewer items left than job `id` and can run only if this lane lets
 * it (the same via, or every lane busy): a few selected requests should not wait behind an
 * Approve All of thousands. Called without mu. */
static bool smaller_job_waiting(struct lane *l, int64_t id)
{
    struct store *st = l->r->store;
    struct store_job cur, recent[32];
    int n = 0;
    if (store_job_get(st, id, &cur, NULL) ||
        store_job_list(st, 0, (int)DM_ARRAY_LEN(recent), recent, &n, NULL))
        return false;
    int64_t left = cur.total - cur.done - cur.skipped - cur.failed;
    bool full = lanes_full(l->r);
    for (int i = 0; i < n; i++)
        if (recent[i].state == JOB_QUEUED &&
            recent[i].total - recent[i].done - recent[i].skipped - recent[i].failed < left &&
            (full || strcmp(recent[i].via, cur.via) == 0))
            return true;
    return false;
}

/* What lease_keep found. */
enum lease {
    LEASE_HELD,  /* go on */
    LEASE_GONE,  /* cancelled or taken over: stop without touching the job */
    LEASE_YIELD, /* a smaller job waits: end the lease and let it go first */
};

/* Renews the lease of job `id` when the lane was woken or the renewal is due; a wake-up is
 * also when cancellation (job_renew's DM_ECONFLICT) and smaller jobs are noticed. mu held;
 * released around store calls. */
static enum lease lease_keep(struct lane *l, int64_t id, double *next_renew)
{
    double now = clock_s();
    if (!l->woken && now < *next_renew) return LEASE_HELD;
    struct job_runner *r = l->r;
    bool was_woken = l->woken;
    l->woken = false;
    pthread_mutex_unlock(&l->mu);
    struct dm_error err = {0};
    dm_err e = store_job_renew(r->store, id, r->owner, (int64_t)time(NULL) + r->lease, &err);
    bool yield = !e && was_woken && smaller_job_waiting(l, id);
    pthread_mutex_lock(&l->mu);
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
static void lease_end(struct lane *l, int64_t id, int64_t shown_wait, bool yielded)
{
    struct job_runner *r = l->r;
    if (shown_wait) store_job_set_wait(r->store, id, 0, "", NULL);
    store_job_renew(r->store, id, r->owner, (int64_t)time(NULL) - 1, NULL);
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

/* Asks account_usable of the accounts that are not ready and are due (mu held; released around
 * the calls). Returns how many are ready; *all_gone when none can ever work in this job. */
static size_t accounts_open(struct lane *l, int64_t id, double now, bool *all_gone)
{
    size_t ready = 0, gone = 0;
    for (size_t k = 0; k < l->n_acc; k++) {
        struct lane_account *la = &l->acc[k];
        if (la->down && la->inflight == 0) { /* asked again in OPEN_RETRY */
            log_warn(C, "job %" PRId64 ": %s", id, la->error);
            la->ready = false;
            la->down = false;
            la->next_open = now + OPEN_RETRY;
        }
        if (!la->ready && !la->down && !la->gone && now >= la->next_open) {
            struct dm_error err = {0};
            pthread_mutex_unlock(&l->mu);
            dm_err e = account_usable(la->a, &err);
            pthread_mutex_lock(&l->mu);
            if (e && e != DM_EUNAVAILABLE && e != DM_EDB) { /* e.g. the session is invalid */
                la->gone = true;
                dm_strlcpy(la->error, err.msg, sizeof la->error);
                if (l->n_acc > 1) log_warn(C, "job %" PRId64 " goes on without: %s", id, err.msg);
            } else if (e) {
                if (strcmp(la->error, err.msg) != 0)
                    log_warn(C, "job %" PRId64 " waits: %s", id, err.msg);
                dm_strlcpy(la->error, err.msg, sizeof la->error);
                la->next_open = now + OPEN_RETRY;
            } else {
                la->error[0] = 0;
                la->ready = true;
                l->active = true;
                pthread_cond_broadcast(&l->work);
            }
        }
        if (la->ready) pace_set_rate(la->pace, account_rate(la->a), now);
        ready += la->ready && !la->down;
        gone += la->gone;
    }
    *all_gone = gone == l->n_acc;
    return ready;
}

/* The wait to show while every ready account waits out a flood wait: the first of them to be
 * free, or 0 when one is free now (mu held). */
static double accounts_paused_until(const struct lane *l, double now)
{
    double first = INFINITY;
    for (size_t k = 0; k < l->n_acc; k++) {
        const struct lane_account *la = &l->acc[k];
        if (!la->ready || la->down || la->gone) continue;
        double until = pace_paused_until(la->pace);
        if (until <= now) return 0;
        first = DM_MIN(first, until);
    }
    return isinf(first) ? 0 : first;
}

/* Why the job's accounts cannot work: the first one's error (mu held). */
static const char *accounts_error(const struct lane *l)
{
    for (size_t k = 0; k < l->n_acc; k++)
        if (l->acc[k].error[0]) return l->acc[k].error;
    return "";
}

/* Runs one claimed decision job over items through the accounts in l->acc until it is done,
 * cancelled (or taken over), or the runner stops, or a smaller job waits (then it yields: the
 * smaller one is claimed first, this one after it). Called without mu. */
static void run_job(struct lane *l, const struct store_job *job)
{
    struct store *st = l->r->store;
    const int64_t id = job->id;
    struct dm_error err = {0};
    log_info(C, "job %" PRId64 ": %s via %s, %" PRId64 " of %" PRId64 " items left", id,
             job_kind_name(job->kind), job->via,
             job->total - job->done - job->skipped - job->failed, job->total);

    pthread_mutex_lock(&l->mu);
    l->kind = job->kind;
    l->ban = job->kind == JOB_DECLINE && job_bans(job);
    l->qlen = 0;
    l->active = false;
    int64_t after = 0, shown_wait = job->wait_until;
    bool exhausted = false, gone = false, done = false, yielded = false, failed = false;
    double next_renew = clock_s() + l->r->renew_every;
    char fail_error[STORE_ERROR_MAX] = "";

    while (!l->stop) {
        double now = clock_s();
        int64_t wall = (int64_t)time(NULL);
        enum lease ls = lease_keep(l, id, &next_renew);
        if (ls != LEASE_HELD) {
            gone = ls == LEASE_GONE;
            yielded = ls == LEASE_YIELD;
            break;
        }
        bool all_gone = false;
        size_t ready = accounts_open(l, id, now, &all_gone);
        if (all_gone && l->inflight == 0) {
            if (l->n_acc > 1)
                dm_snprintf_utf8(fail_error, sizeof fail_error,
                                 "None of the job's sessions can work: %s", accounts_error(l));
            else
                dm_strlcpy(fail_error, accounts_error(l), sizeof fail_error);
            failed = true;
            break;
        }

        if (ready && !exhausted && l->qlen < BATCH / 2 &&
            refill(l, id, &after, &exhausted) != DM_OK)
            next_renew = DM_MIN(next_renew, now + 1); /* store trouble: try again soon */
        if (exhausted && l->qlen == 0 && l->inflight == 0) {
            done = true;
            break;
        }

        int64_t want = 0;
        const char *why = "";
        double paused = ready ? accounts_paused_until(l, now) : 0;
        if (paused > now) {
            want = wall + (int64_t)ceil(paused - now);
            why = "Telegram's rate limit: waiting before going on";
        } else if (!ready) {
            want = shown_wait > wall + 2 ? shown_wait : wall + 10;
            why = accounts_error(l);
        }
        show_wait(l, id, want, why, &shown_wait);

        if (!l->woken && !l->stop) wait_until(&l->wake, &l->mu, DM_MIN(next_renew, clock_s() + 1));
    }

    /* Let the calls in flight finish and be recorded. */
    l->active = false;
    pthread_cond_broadcast(&l->work);
    while (l->inflight > 0)
        wait_until(&l->wake, &l->mu, clock_s() + 1);
    l->qlen = 0;
    pthread_mutex_unlock(&l->mu);

    int64_t wall = (int64_t)time(NULL);
    if (failed) {
        log_warn(C, "job %" PRId64 " failed: %s", id, fail_error);
        if (store_job_finish(st, id, JOB_FAILED, fail_error, wall, &err))
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
        lease_end(l, id, shown_wait, yielded);
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
static void run_steps(struct lane *l, const struct store_job *job, step_fn step, void *ctx,
                      const struct dm_error *why_not)
{
    struct store *st = l->r->store;
    const int64_t id = job->id;
    struct tg_error te = {0};
    if (why_not) tg_error_local(&te, why_not->code, "%s", why_not->msg);
    bool finished = false, failed = why_not != NULL, gone = false, yielded = false;

    pthread_mutex_lock(&l->mu);
    int64_t shown_wait = job->wait_until;
    double next_renew = clock_s() + l->r->renew_every, next_step = 0;
    if (job->wait_until > (int64_t)time(NULL)) /* a flood wait from before a restart */
        next_step = clock_s() + (double)(job->wait_until - (int64_t)time(NULL));
    int backoff = 0;
    while (!failed && !l->stop) {
        enum lease ls = lease_keep(l, id, &next_renew);
        if (ls != LEASE_HELD) {
            gone = ls == LEASE_GONE;
            yielded = ls == LEASE_YIELD;
            break;
        }
        if (clock_s() < next_step) {
            if (!l->woken && !l->stop) wait_until(&l->wake, &l->mu, DM_MIN(next_step, next_renew));
            continue;
        }
        pthread_mutex_unlock(&l->mu);
        dm_err e = step(ctx, l->r->owner, &finished, &te);
        pthread_mutex_lock(&l->mu);
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
        show_wait(l, id, wait ? (int64_t)time(NULL) + wait : 0, e ? te.e.msg : "", &shown_wait);
    }
    pthread_mutex_unlock(&l->mu);

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
        lease_end(l, id, 0, yielded); /* a flood wait shown stays: the next run honours it */
    }
}

/* Closes the job's accounts. */
static void accounts_end(struct lane *l)
{
    pthread_mutex_lock(&l->mu);
    for (size_t k = 0; k < l->n_acc; k++) {
        account_close(l->acc[k].a);
        pace_put(l->r, l->acc[k].pace);
    }
    l->n_acc = 0;
    pthread_mutex_unlock(&l->mu);
}

/* Opens the accounts job->via names into l->acc; on failure none stays open. Called without mu
 * (the lane's workers touch the accounts only while a job is active). */
static dm_err accounts_begin(struct lane *l, const struct store_job *job, struct dm_error *err)
{
    struct via_names v;
    dm_err e = via_names(l->r->store, job->via, &v, err);
    pthread_mutex_lock(&l->mu);
    l->n_acc = 0;
    for (size_t k = 0; !e && k < v.n; k++) {
        struct lane_account *la = &l->acc[k];
        memset(la, 0, sizeof *la);
        e = account_open(l->r->accounts, v.name[k], &la->a, err);
        if (!e) la->pace = pace_get(l->r, account_name(la->a));
        if (!e) l->n_acc++;
    }
    pthread_mutex_unlock(&l->mu);
    if (e) accounts_end(l);
    return e;
}

/* Starts the lane's workers when its first job over items comes (an idle doorman keeps no
 * threads waiting for work it may never get); true when at least one runs. Called by the
 * lane's dispatcher only, so n_workers changes in one thread; job_runner_stop reads it after
 * joining the dispatcher. */
static bool workers_start(struct lane *l)
{
    for (; l->n_workers < WORKERS; l->n_workers++)
        if (pthread_create(&l->workers[l->n_workers], NULL, worker_main, l) != 0) break;
    return l->n_workers > 0;
}

/* Runs a claimed job of any kind through its accounts, open while it runs (a load goes through
 * the first that can, load.h; a job over whole channels and the rules' apply use the first).
 * Called without mu. */
static void run_claimed(struct lane *l, const struct store_job *job)
{
    struct store *st = l->r->store;
    struct dm_error err = {0};
    dm_err e = accounts_begin(l, job, &err);
    struct account *account = l->n_acc ? l->acc[0].a : NULL;
    if (e) {
        run_steps(l, job, NULL, NULL, &err);
    } else if (job->kind == JOB_APPLY) {
        struct apply_run ar;
        e = apply_run_init(&ar, st, l->r->accounts, job, &err);
        if (!e)
            log_info(C,
                     "job %" PRId64 ": applying the rules to %" PRId64 " of %" PRId64
                     " requests left",
                     job->id, job->total - job->done, job->total);
        run_steps(l, job, apply_step, &ar, e ? &err : NULL);
        if (!e) apply_run_release(&ar);
    } else if (job->kind == JOB_LOAD) {
        struct load_run lr;
        struct account *accounts[VIA_MAX];
        for (size_t k = 0; k < l->n_acc; k++)
            accounts[k] = l->acc[k].a;
        e = load_run_init(&lr, st, accounts, l->n_acc, job, &err);
        if (!e)
            log_info(C, "job %" PRId64 ": load via %s from %s, %" PRId64 " loaded so far", job->id,
                     job->via, lr.params.channel.title, lr.done);
        run_steps(l, job, load_step, &lr, e ? &err : NULL);
    } else {
        struct hide_run hr;
        e = hide_run_init(&hr, st, account, job, &err);
        if (e == DM_ENOTFOUND && !workers_start(l)) {
            dm_fail(&err, DM_ENOMEM, "could not start the job runner's workers");
            run_steps(l, job, NULL, NULL, &err);
        } else if (e == DM_ENOTFOUND) { /* a decision job over items */
            run_job(l, job);
        } else {
            if (!e)
                log_info(C,
                         "job %" PRId64 ": %s all via %s with hideAll, %" PRId64 " of %" PRId64
                         " items left",
                         job->id, job_kind_name(job->kind), job->via,
                         job->total - job->done - job->skipped - job->failed, job->total);
            run_steps(l, job, hide_step, &hr, e ? &err : NULL);
        }
    }
    accounts_end(l);
}

/* Wakes the idle lanes but `self` (claim_mu held): a job was claimed, so another may wait. */
static void wake_idle(struct job_runner *r, const struct lane *self)
{
    for (size_t i = 0; i < LANES; i++) {
        struct lane *o = &r->lanes[i];
        if (o == self || o->via[0]) continue;
        pthread_mutex_lock(&o->mu);
        o->woken = true;
        pthread_cond_broadcast(&o->wake);
        pthread_mutex_unlock(&o->mu);
    }
}

/* Claims the job with the fewest items left whose via no other lane runs, and marks its via as
 * this lane's. Called without mu. */
static dm_err lane_claim(struct lane *l, struct store_job *job, struct dm_error *err)
{
    struct job_runner *r = l->r;
    const char *busy[LANES];
    size_t n = 0;
    pthread_mutex_lock(&r->claim_mu);
    for (size_t i = 0; i < LANES; i++)
        if (r->lanes[i].via[0]) busy[n++] = r->lanes[i].via;
    int64_t now = (int64_t)time(NULL);
    dm_err e = store_job_claim_except(r->store, r->owner, now, now + r->lease, busy, n, job, err);
    if (!e) {
        dm_strlcpy(l->via, job->via, sizeof l->via);
        wake_idle(r, l);
    }
    pthread_mutex_unlock(&r->claim_mu);
    return e;
}

/* Whether l is the first idle lane: the one that looks for work every second (claim_mu taken
 * here); the others look when woken. */
static bool first_idle(struct lane *l)
{
    struct job_runner *r = l->r;
    pthread_mutex_lock(&r->claim_mu);
    struct lane *first = NULL;
    for (size_t i = 0; i < LANES && !first; i++)
        if (!r->lanes[i].via[0]) first = &r->lanes[i];
    pthread_mutex_unlock(&r->claim_mu);
    return first == l;
}

static void *lane_main(void *arg)
{
    struct lane *l = arg;
    struct job_runner *r = l->r;
    char last_error[sizeof((struct dm_error *)0)->msg] = "";
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        l->woken = false;
        pthread_mutex_unlock(&l->mu);
        struct store_job job;
        struct dm_error err = {0};
        dm_err e = lane_claim(l, &job, &err);
        if (!e) {
            last_error[0] = 0;
            run_claimed(l, &job);
            pthread_mutex_lock(&r->claim_mu);
            l->via[0] = 0;
            pthread_mutex_unlock(&r->claim_mu);
        } else if (e != DM_ENOTFOUND && strcmp(last_error, err.msg) != 0) {
            log_error(C, "could not look for jobs: %s", err.msg);
            dm_strlcpy(last_error, err.msg, sizeof last_error);
        }
        bool poll = e && first_idle(l);
        pthread_mutex_lock(&l->mu);
        if (e && !l->woken && !l->stop) {
            if (poll)
                wait_until(&l->wake, &l->mu, clock_s() + 1);
            else
                pthread_cond_wait(&l->wake, &l->mu);
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* ---- public ---- */

void job_runner_stop(struct job_runner *r)
{
    if (!r) return;
    for (size_t i = 0; i < LANES; i++) {
        struct lane *l = &r->lanes[i];
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_broadcast(&l->wake);
        pthread_cond_broadcast(&l->work);
        pthread_mutex_unlock(&l->mu);
    }
    for (size_t i = 0; i < LANES; i++) {
        struct lane *l = &r->lanes[i];
        if (l->thread_started) pthread_join(l->thread, NULL); /* drains the job in flight */
        for (size_t w = 0; w < l->n_workers; w++)
            pthread_join(l->workers[w], NULL);
    }
    for (size_t i = 0; i < LANES; i++) {
        struct lane *l = &r->lanes[i];
        pthread_cond_destroy(&l->stored);
        pthread_cond_destroy(&l->work);
        pthread_cond_destroy(&l->wake);
        pthread_mutex_destroy(&l->mu);
    }
    pthread_mutex_destroy(&r->claim_mu);
    pthread_mutex_destroy(&r->pace_mu);
    free(r);
}

/* Starts a lane's dispatcher; false when its thread could not be made. */
static bool lane_start(struct lane *l)
{
    l->thread_started = pthread_create(&l->thread, NULL, lane_main, l) == 0;
    return l->thread_started;
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
    pthread_mutex_init(&r->claim_mu, NULL);
    pthread_mutex_init(&r->pace_mu, NULL);
    for (size_t i = 0; i < PACES_MAX; i++)
        r->paces[i].r = r;
    for (size_t i = 0; i < LANES; i++) {
        struct lane *l = &r->lanes[i];
        l->r = r;
        pthread_mutex_init(&l->mu, NULL);
        clock_cond_init(&l->wake);
        clock_cond_init(&l->work);
        clock_cond_init(&l->stored);
    }
    bool started = true;
    for (size_t i = 0; i < LANES && started; i++)
        started = lane_start(&r->lanes[i]);
    if (!started) {
        job_runner_stop(r);
        return dm_fail(err, DM_ENOMEM, "could not start the job runner's threads");
    }
    *out = r;
    return DM_OK;
}

void job_runner_wake(struct job_runner *r)
{
    if (!r) return;
    for (size_t i = 0; i < LANES; i++) {
        struct lane *l = &r->lanes[i];
        pthread_mutex_lock(&l->mu);
        l->woken = true;
        pthread_cond_broadcast(&l->wake);
        pthread_mutex_unlock(&l->mu);
    }
}
