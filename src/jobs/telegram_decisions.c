/* telegram_decisions.c: the admin log's joins by request, recorded (telegram_decisions.h). */
#include "core/common.h"
#include "jobs/telegram_decisions.h"

#include "core/log.h"
#include "store/leased_loop.h"

#define LEASE "tg_decisions"
static const char *const C = "tg_decisions";

static void key_of(int64_t chat_id, char *out, size_t n)
{
    snprintf(out, n, "tg_decisions:%" PRId64, chat_id);
}

dm_err tg_decisions_check(struct store *st, struct account *account, int64_t chat_id,
                          struct tg_decisions_result *out, struct tg_error *te)
{
    memset(out, 0, sizeof *out);
    char key[64];
    key_of(chat_id, key, sizeof key);
    int64_t last = 0;
    char *v = NULL;
    struct dm_error err = {0};
    dm_err e = store_setting_get(st, key, &v, &err);
    if (!e) last = strtoll(v, NULL, 10);
    free(v);
    if (e && e != DM_ENOTFOUND) return tg_error_local(te, e, "%s", err.msg);
    struct account_channel ch;
    e = account_channel(account, chat_id, &ch, te);
    int64_t newest = last, before = 0;
    for (int page = 0; !e && page < TG_DECISIONS_PAGES; page++) {
        struct account_join *j = NULL;
        size_t n = 0;
        e = account_joins(account, &ch, last, before, &j, &n, te);
        for (size_t i = 0; !e && i < n; i++) {
            int64_t id = 0;
            out->events++;
            newest = DM_MAX(newest, j[i].event_id);
            before = before ? DM_MIN(before, j[i].event_id) : j[i].event_id;
            e = store_request_decided_in_telegram(st, chat_id, j[i].user_id, REQ_APPROVED,
                                                  j[i].approver, j[i].date, &id, &err);
            if (e) e = tg_error_local(te, e, "%s", err.msg);
            out->recorded += id != 0;
        }
        free(j);
        if (n < ACCOUNT_JOINS_PAGE) break;
    }
    if (!e && newest > last) {
        char s[32];
        snprintf(s, sizeof s, "%" PRId64, newest);
        e = store_setting_set(st, key, s, &err);
        if (e) e = tg_error_local(te, e, "%s", err.msg);
    }
    return e;
}

static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Telegram's pending users of the channel (sorted, malloc'd in *ids), when it lists fewer than
 * doorman holds pending and at most TG_SWEEP_MAX; *ids NULL when there is nothing to sweep. */
static dm_err telegram_pending(struct store *st, struct account *account,
                               const struct account_channel *ch, int64_t **ids, size_t *n,
                               struct tg_error *te)
{
    *ids = NULL;
    *n = 0;
    struct store_request_filter f = {.status = -1, .chat_id = ch->chat_id};
    int64_t counts[REQ_STATUS_COUNT] = {0};
    struct dm_error err = {0};
    dm_err e = store_request_counts(st, &f, counts, &err);
    if (e) return tg_error_local(te, e, "%s", err.msg);
    /* room for every user Telegram may list (the count may grow while it is read: capped) */
    int64_t *v = malloc((TG_SWEEP_MAX + ACCOUNT_PAGE_MAX) * sizeof *v);
    if (!v) return tg_error_local(te, DM_ENOMEM, "out of memory");
    struct account_cursor at = {0};
    bool complete = false;
    for (bool first = true;; first = false) {
        struct account_page p;
        e = account_list_pending(account, ch, &at, ACCOUNT_PAGE_MAX, 0, &p, te);
        if (e) break;
        bool nothing_to_find = p.count >= counts[REQ_PENDING] || p.count > TG_SWEEP_MAX;
        if (first && nothing_to_find) {
            account_page_release(&p);
            free(v);
            return DM_OK;
        }
        for (size_t i = 0; i < p.n && *n < TG_SWEEP_MAX + ACCOUNT_PAGE_MAX; i++)
            v[(*n)++] = p.rows[i].user_id;
        complete =
            p.n < ACCOUNT_PAGE_MAX || (p.next.date == at.date && p.next.user_id == at.user_id);
        at = p.next;
        account_page_release(&p);
        if (complete || *n >= TG_SWEEP_MAX) break;
    }
    if (e || !complete) { /* a list cut short tells nothing of what it left out */
        free(v);
        *n = 0;
        return e;
    }
    qsort(v, *n, sizeof *v, id_cmp);
    *ids = v;
    return DM_OK;
}

#define SWEEP_BATCH 500

dm_err tg_decisions_sweep(struct store *st, struct account *account, int64_t chat_id,
                          struct tg_decisions_result *out, struct tg_error *te)
{
    int64_t read_at = (int64_t)time(NULL);
    struct account_channel ch;
    int64_t *ids = NULL;
    size_t n = 0;
    dm_err e = account_channel(account, chat_id, &ch, te);
    if (!e) e = telegram_pending(st, account, &ch, &ids, &n, te);
    /* the admin log read after the list: an approval made before the list was read is one */
    struct tg_decisions_result checked = {0};
    if (!e) e = tg_decisions_check(st, account, chat_id, &checked, te);
    out->events += checked.events;
    out->recorded += checked.recorded;
    struct store_request *rows = !e && ids ? malloc(SWEEP_BATCH * sizeof *rows) : NULL;
    if (!e && ids && !rows) e = tg_error_local(te, DM_ENOMEM, "out of memory");
    struct dm_error err = {0};
    for (int64_t after = 0; rows && !e;) {
        int got = 0;
        e = store_pending_unheld(st, chat_id, after, read_at - 1, SWEEP_BATCH, rows, &got, &err);
        for (int i = 0; !e && i < got; i++) {
            after = rows[i].id;
            if (bsearch(&rows[i].user_id, ids, n, sizeof *ids, id_cmp)) continue;
            int64_t id = 0;
            e = store_request_decided_in_telegram(st, chat_id, rows[i].user_id, REQ_DECLINED, "",
                                                  read_at, &id, &err);
            out->recorded += id != 0;
        }
        if (e) e = tg_error_local(te, e, "%s", err.msg);
        if (got < SWEEP_BATCH) break;
    }
    free(rows);
    free(ids);
    return e;
}

/* ---- the periodic check ---- */

struct tg_watch {
    struct tg_watch_config cfg; /* its owner is the loop's copy's business */
    struct leased_loop *loop;
};

/* Checks one channel through the first session that can; false when none could. */
static bool check_chat(struct tg_watch *w, int64_t chat_id, const struct store_session *ss,
                       size_t nss)
{
    for (size_t i = 0; i < nss; i++) {
        if (ss[i].is_bot || ss[i].status != SESSION_ACTIVE) continue;
        struct account *a = NULL;
        struct dm_error err = {0};
        if (account_open(w->cfg.accounts, ss[i].name, &a, &err)) continue;
        struct tg_decisions_result r = {0};
        struct tg_error te = {0};
        dm_err e = tg_decisions_sweep(w->cfg.store, a, chat_id, &r, &te);
        account_close(a);
        if (!e && r.recorded)
            log_info(C, "%" PRId64 " requests of %" PRId64 " were decided in Telegram (read as %s)",
                     r.recorded, chat_id, ss[i].name);
        if (!e) return true;
        log_debug(C, "the admin log of %" PRId64 " through %s: %s", chat_id, ss[i].name, te.e.msg);
    }
    return false;
}

/* The loop's round: it logs its own trouble (a warning) and goes on at the next interval, so
 * it never fails. */
static dm_err round_once(void *ctx, struct leased_loop *l, double *wait_s, struct dm_error *unused)
{
    struct tg_watch *w = ctx;
    struct store *st = w->cfg.store;
    struct store_chat *chats = NULL;
    struct store_session *ss = NULL;
    size_t nchats = 0, nss = 0;
    struct dm_error err = {0};
    dm_err e = store_session_list(st, &ss, &nss, &err);
    if (!e && nss) e = store_chat_list(st, &chats, &nchats, &err);
    for (size_t i = 0; !e && i < nchats && !leased_loop_stopping(l); i++) {
        struct store_request_filter f = {.status = -1, .chat_id = chats[i].chat_id};
        int64_t counts[REQ_STATUS_COUNT] = {0};
        e = store_request_counts(st, &f, counts, &err);
        if (!e && counts[REQ_PENDING] > 0) check_chat(w, chats[i].chat_id, ss, nss);
    }
    if (e) log_warn(C, "checking decisions made in Telegram: %s", err.msg);
    free(chats);
    free(ss);
    return DM_OK;
}

dm_err tg_watch_start(const struct tg_watch_config *cfg, struct tg_watch **out,
                      struct dm_error *err)
{
    *out = NULL;
    if (!cfg->interval_s) return DM_OK;
    struct tg_watch *w = calloc(1, sizeof *w);
    if (!w) return dm_fail(err, DM_ENOMEM, "out of memory");
    w->cfg = *cfg;
    w->cfg.owner = NULL;
    struct leased_loop_config lc = {.store = cfg->store,
                                    .lease = LEASE,
                                    .owner = cfg->owner,
                                    .lease_s = 2 * (int64_t)cfg->interval_s + 60,
                                    .idle_s = cfg->interval_s,
                                    .trouble_s = cfg->interval_s,
                                    .tag = C,
                                    .doing = "checking decisions made in Telegram",
                                    .round = round_once,
                                    .ctx = w};
    dm_err e = leased_loop_start(&lc, &w->loop, err);
    if (e) {
        free(w);
        return e;
    }
    *out = w;
    return DM_OK;
}

void tg_watch_stop(struct tg_watch *w)
{
    if (!w) return;
    leased_loop_stop(w->loop);
    free(w);
}
