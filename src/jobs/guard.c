/* guard.c: answering join-request queries (see guard.h): the claim of a judged batch, the
 * workers, and the four answers. */
#include "core/common.h"
#include "jobs/guard.h"

#include "botapi/join_query.h"
#include "core/clock.h"
#include "core/log.h"
#include "telegram/account.h"
#include "telegram/bot.h"
#include "verify/verification.h"

#include <pthread.h>

static const char *const C = "guard";

enum guard_kind { KIND_APPROVE, KIND_DECLINE, KIND_BAN, KIND_QUEUE, KIND_VERIFY };

struct item {
    struct guard_query gq;
    int kind; /* enum guard_kind */
};

struct guard {
    struct store *store;
    const struct accounts *accounts;
    const char *public_url; /* where the verification Mini App is served */

    /* guard_take's claims, for guard_go (the rules' thread only) */
    struct item *taken;
    size_t ntaken;
    int64_t *ids;            /* a batch's request ids */
    struct store_query *got; /* a batch's claimed and late queries */
    size_t batch_cap;

    pthread_mutex_t mu;
    pthread_cond_t cv;          /* an item was queued, or stop */
    struct item *queue;         /* a ring of GUARD_QUEUE_MAX */
    size_t qhead, qlen, queued; /* queued: in the ring, or taken and not yet given */
    bool stop;
    pthread_t workers[GUARD_WORKERS];
    size_t nworkers; /* started, by guard_go when answers wait; fixed once stop is set */
    size_t idle;     /* workers waiting on cv */
};

/* ---- the answers ---- */

/* The audit entry of an answer (action: what was answered), its detail the verdict. */
static void audit_of(const struct guard_query *gq, const char *action, const char *result,
                     const char *why, struct store_audit *au)
{
    *au = (struct store_audit){.at = time(NULL),
                               .request_id = gq->q.request_id,
                               .chat_id = gq->chat_id,
                               .user_id = gq->user_id};
    dm_strlcpy(au->admin, STORE_RULES_ADMIN, sizeof au->admin);
    dm_strlcpy(au->action, action, sizeof au->action);
    dm_strlcpy(au->via, ACCOUNT_BOT, sizeof au->via);
    dm_strlcpy(au->result, result, sizeof au->result);
    const char *sep = gq->verdict[0] && why[0] ? "; " : "";
    dm_snprintf_utf8(au->detail, sizeof au->detail, "join-request query: %s%s%s", why, sep,
                     gq->verdict);
}

/* Records the outcome of gq (state, result, error) with its audit entry; decide and rejudge as
 * store_query_finish. A failure to record is logged: the sweep closes the query later. */
static void finish(struct guard *g, const struct guard_query *gq, int state, const char *result,
                   const char *error, int decide, bool rejudge, const char *action,
                   const char *audit_result)
{
    struct store_query q = gq->q;
    q.state = state;
    dm_strlcpy(q.result, result, sizeof q.result);
    dm_strlcpy(q.error, error, sizeof q.error);
    q.answered_at_ms = state == QUERY_ANSWERED || state == QUERY_WEB_APP ? clock_unix_ms() : 0;
    struct store_audit au;
    audit_of(gq, action, audit_result, error, &au);
    struct dm_error err = {0};
    dm_err e = store_query_finish(g->store, &q, decide, rejudge, &au, time(NULL), &err);
    if (e)
        log_warn(C, "could not record the answer to the query of request %" PRId64 ": %s",
                 gq->q.request_id, err.msg);
}

/* Bans the user of a request just declined through its query (decline, then ban, as the
 * rules' decision jobs do), with its audit entry. */
static void ban_after(struct guard *g, const struct guard_query *gq)
{
    struct dm_error err = {0};
    struct account *acc = NULL;
    struct tg_error te = {0};
    const struct account_request req = {gq->q.request_id, gq->chat_id, gq->user_id};
    if (account_open(g->accounts, ACCOUNT_BOT, &acc, &err))
        tg_error_local(&te, DM_ENOMEM, "%s", err.msg);
    else
        account_ban(acc, &req, &te);
    account_close(acc);
    struct store_audit au;
    if (te.kind == TG_OK) {
        audit_of(gq, "ban", "ok", "", &au);
        if (store_request_set_banned(g->store, gq->q.request_id, true, &au, &err))
            log_warn(C, "could not record the ban of request %" PRId64 ": %s", gq->q.request_id,
                     err.msg);
        return;
    }
    char why[STORE_ERROR_MAX];
    dm_snprintf_utf8(why, sizeof why, "declined, but not banned: %s", te.e.msg);
    audit_of(gq, "ban", "error", why, &au);
    if (store_audit_add(g->store, &au, &err))
        log_warn(C, "could not record a failed ban: %s", err.msg);
}

static const char *kind_action(int kind)
{
    return kind == KIND_APPROVE ? "approve" : kind == KIND_QUEUE ? "queue" : "decline";
}

/* Answers gq as kind, or with url shows the applicant that Mini App instead (see guard.h). */
static dm_err answer(struct guard *g, const struct guard_query *gq, int kind, const char *url)
{
    bool deciding = kind == KIND_APPROVE || kind == KIND_DECLINE || kind == KIND_BAN;
    const char *action = url ? "web_app" : kind_action(kind);
    enum botapi_join_answer a = kind == KIND_APPROVE ? BOTAPI_JOIN_APPROVE
                                : kind == KIND_QUEUE ? BOTAPI_JOIN_QUEUE
                                                     : BOTAPI_JOIN_DECLINE;
    int64_t left = gq->q.deadline_ms - clock_unix_ms();
    if (gq->q.state != QUERY_WEB_APP && left < GUARD_MARGIN_MS) {
        char why[128];
        snprintf(why, sizeof why,
                 "not answered, %" PRId64 " ms before its deadline (less than %d): left queued",
                 left, GUARD_MARGIN_MS);
        finish(g, gq, QUERY_LATE, "queue", why, -1, deciding, "queue", "late");
        return DM_ETIMEOUT;
    }
    long timeout = gq->q.state == QUERY_WEB_APP ? 10000L : (long)left;
    struct botapi_client *c = g->accounts->bot ? bot_client_acquire(g->accounts->bot) : NULL;
    struct botapi_reply rep;
    struct dm_error err = {0};
    struct tg_error te = {0};
    dm_err e;
    if (!c) {
        e = tg_error_local(&te, DM_EUNAVAILABLE, "No bot token configured: set it in Settings");
    } else {
        e = url ? botapi_send_join_web_app(c, gq->q.query_id, url, timeout, &rep, &err)
                : botapi_answer_join_query(c, gq->q.query_id, a, timeout, &rep, &err);
        e = tg_error_botapi(&te, e, &rep, &err);
        botapi_reply_release(&rep);
        bot_client_release(g->accounts->bot, c);
    }
    if (e) {
        finish(g, gq, QUERY_FAILED, "", te.e.msg, -1, deciding, action, "error");
        return e;
    }
    if (url) {
        finish(g, gq, QUERY_WEB_APP, "web_app", "", -1, false, action, "ok");
        return DM_OK;
    }
    int decide = kind == KIND_APPROVE ? REQ_APPROVED : deciding ? REQ_DECLINED : -1;
    finish(g, gq, QUERY_ANSWERED, botapi_join_answer_name(a), "", decide, false, action, "ok");
    if (kind == KIND_BAN) ban_after(g, gq);
    return DM_OK;
}

dm_err guard_approve(struct guard *g, const struct guard_query *gq)
{
    return answer(g, gq, KIND_APPROVE, NULL);
}

dm_err guard_decline(struct guard *g, const struct guard_query *gq, bool ban)
{
    return answer(g, gq, ban ? KIND_BAN : KIND_DECLINE, NULL);
}

dm_err guard_queue(struct guard *g, const struct guard_query *gq)
{
    return answer(g, gq, KIND_QUEUE, NULL);
}

dm_err guard_web_app(struct guard *g, const struct guard_query *gq, const char *url)
{
    return answer(g, gq, KIND_QUEUE, url);
}

/* A verify verdict: the applicant is shown the verification's Mini App through the query (its
 * verification marked sent, so the private-message delivery leaves it alone); without one (the
 * verdict could not be recorded, or it ended already) the query is answered queue. */
static void show_verification(struct guard *g, const struct guard_query *gq)
{
    char url[1024];
    struct dm_error err = {0};
    if (verification_start(g->store, g->public_url, gq->q.request_id, (int64_t)time(NULL), url,
                           sizeof url, NULL, &err) == DM_OK)
        guard_web_app(g, gq, url);
    else
        guard_queue(g, gq);
}

/* ---- the workers ---- */

static void *worker_main(void *arg)
{
    struct guard *g = arg;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (!g->stop && g->qlen == 0) {
            g->idle++;
            pthread_cond_wait(&g->cv, &g->mu);
            g->idle--;
        }
        if (g->stop) break;
        struct item it = g->queue[g->qhead];
        g->qhead = (g->qhead + 1) % GUARD_QUEUE_MAX;
        g->qlen--;
        g->queued--;
        pthread_mutex_unlock(&g->mu);
        switch (it.kind) {
        case KIND_APPROVE:
            guard_approve(g, &it.gq);
            break;
        case KIND_DECLINE:
            guard_decline(g, &it.gq, false);
            break;
        case KIND_BAN:
            guard_decline(g, &it.gq, true);
            break;
        case KIND_VERIFY:
            show_verification(g, &it.gq);
            break;
        default:
            guard_queue(g, &it.gq);
            break;
        }
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

/* ---- the rules' thread ---- */

/* The answer the verdict v calls for at now (seconds). */
static int kind_of(const struct store_verdict *v, int64_t now)
{
    if (v->verify_deadline) return KIND_VERIFY;
    bool at_once = v->due_at <= now && v->per_hour == 0;
    if (at_once && v->action == DUE_APPROVE) return KIND_APPROVE;
    if (at_once && v->action == DUE_DECLINE) return KIND_DECLINE;
    if (at_once && v->action == DUE_BAN) return KIND_BAN;
    return KIND_QUEUE;
}

dm_err guard_take(struct guard *g, const struct store_request *rows, struct store_verdict *v, int n,
                  struct dm_error *err)
{
    if (n <= 0) return DM_OK;
    pthread_mutex_lock(&g->mu);
    size_t room = GUARD_QUEUE_MAX - g->queued;
    pthread_mutex_unlock(&g->mu);
    if ((size_t)n > room || (size_t)n > g->batch_cap) {
        log_warn(C, "%zu answers wait already: these %d queries are left to expire (queued)",
                 GUARD_QUEUE_MAX - room, n);
        return DM_OK;
    }
    for (int i = 0; i < n; i++)
        g->ids[i] = rows[i].id;
    size_t got = 0;
    char late[96];
    snprintf(late, sizeof late, "not answered: judged less than %d ms before the deadline",
             GUARD_MARGIN_MS);
    dm_err e = store_queries_claim(g->store, g->ids, (size_t)n, clock_unix_ms() + GUARD_MARGIN_MS,
                                   late, g->got, &got, err);
    if (e) return e;
    int64_t now = (int64_t)time(NULL);
    int j = 0;
    for (size_t k = 0; k < got; k++) {
        while (j < n && rows[j].id != g->got[k].request_id)
            j++;
        if (j == n) break; /* not in the batch: cannot be (ids' order) */
        struct guard_query gq = {
            .q = g->got[k], .chat_id = rows[j].chat_id, .user_id = rows[j].user_id};
        dm_strlcpy(gq.verdict, v[j].text, sizeof gq.verdict);
        if (gq.q.state == QUERY_LATE) {
            struct store_audit au;
            audit_of(&gq, "queue", "late", gq.q.error, &au);
            struct dm_error aerr = {0};
            if (store_audit_add(g->store, &au, &aerr))
                log_warn(C, "could not record a late query: %s", aerr.msg);
            continue;
        }
        int kind = kind_of(&v[j], now);
        if (kind != KIND_QUEUE) v[j].action = DUE_NONE; /* the query decides */
        g->taken[g->ntaken++] = (struct item){.gq = gq, .kind = kind};
    }
    pthread_mutex_lock(&g->mu);
    g->queued += g->ntaken;
    pthread_mutex_unlock(&g->mu);
    return DM_OK;
}

/* Starts a worker for each waiting answer no idle worker will take, up to GUARD_WORKERS: the
 * workers start with the first answers, so a doorman that is no channel's join-request bot keeps
 * no threads for them. Called with mu held. When none can start, the answers wait for the next
 * guard_go, and guard_sweep closes those whose deadline passed. */
static void workers_add(struct guard *g)
{
    size_t want = g->qlen > g->idle ? g->qlen - g->idle : 0;
    for (; want > 0 && g->nworkers < GUARD_WORKERS; want--) {
        int rc = pthread_create(&g->workers[g->nworkers], NULL, worker_main, g);
        if (rc != 0) {
            log_warn(C, "could not start a worker to answer join-request queries (%zu running): %s",
                     g->nworkers, strerror(rc));
            return;
        }
        g->nworkers++;
    }
}

void guard_go(struct guard *g)
{
    if (!g->ntaken) return;
    pthread_mutex_lock(&g->mu);
    for (size_t i = 0; i < g->ntaken; i++)
        g->queue[(g->qhead + g->qlen++) % GUARD_QUEUE_MAX] = g->taken[i];
    workers_add(g);
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    g->ntaken = 0;
}

dm_err guard_sweep(struct guard *g, struct dm_error *err)
{
    int64_t n = 0;
    dm_err e = store_queries_sweep(g->store, clock_unix_ms() - GUARD_SWEEP_MS,
                                   "doorman stopped while answering: whether Telegram got the "
                                   "answer is unknown, so the rules decide it again",
                                   &n, err);
    if (!e && n)
        log_warn(C,
                 "%" PRId64 " join-request queries were left claimed by a process that "
                 "stopped: their requests are judged again",
                 n);
    return e;
}

/* ---- lifecycle ---- */

static void guard_free(struct guard *g)
{
    free(g->taken);
    free(g->ids);
    free(g->got);
    free(g->queue);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

#define BATCH_MAX 1024 /* requests guard_take takes at once (autodecide's batch is smaller) */

dm_err guard_start(const struct guard_config *cfg, struct guard **out, struct dm_error *err)
{
    *out = NULL;
    struct guard *g = calloc(1, sizeof *g);
    if (!g) return dm_fail(err, DM_ENOMEM, "out of memory");
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->store = cfg->store;
    g->accounts = cfg->accounts;
    g->public_url = cfg->public_url;
    g->batch_cap = BATCH_MAX;
    g->taken = malloc(BATCH_MAX * sizeof *g->taken);
    g->ids = malloc(BATCH_MAX * sizeof *g->ids);
    g->got = malloc(BATCH_MAX * sizeof *g->got);
    g->queue = malloc(GUARD_QUEUE_MAX * sizeof *g->queue);
    if (!g->taken || !g->ids || !g->got || !g->queue) {
        guard_free(g);
        return dm_fail(err, DM_ENOMEM, "out of memory");
    }
    *out = g;
    return DM_OK;
}

void guard_stop(struct guard *g)
{
    if (!g) return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    size_t dropped = g->qlen, nworkers = g->nworkers;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    for (size_t i = 0; i < nworkers; i++)
        pthread_join(g->workers[i], NULL);
    if (dropped)
        log_info(C, "stopping: %zu join-request answers not sent (closed by a later sweep)",
                 dropped);
    guard_free(g);
}
