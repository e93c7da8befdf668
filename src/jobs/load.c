/* load.c: one page of a load job at a time, through the first of its sessions that can (load.h). */
#include "core/common.h"
#include "jobs/load.h"

#include "core/log.h"

#include <jansson.h>

static const char *const C = "jobs";

dm_err load_params_format(const struct load_params *p, char *out, size_t n, struct dm_error *err)
{
    const struct account_channel *ch = &p->channel;
    json_t *j =
        json_pack("{s:I,s:I,s:I,s:s,s:s,s:I}", "channel_id", (json_int_t)ch->id, "chat_id",
                  (json_int_t)ch->chat_id, "access_hash", (json_int_t)ch->access_hash, "title",
                  ch->title, "username", ch->username, "limit", (json_int_t)p->limit);
    if (j && p->by[0]) json_object_set_new(j, "by", json_string(p->by));
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s) return dm_fail(err, DM_ENOMEM, "out of memory");
    dm_err e = DM_OK;
    if (dm_strlcpy(out, s, n) >= n)
        e = dm_fail(err, DM_ETOOBIG, "the channel's title is too long to keep");
    free(s);
    return e;
}

dm_err load_params_parse(const char *s, struct load_params *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *j = json_loads(s, 0, NULL);
    const char *title = NULL, *username = NULL, *by = "";
    json_int_t id = 0, chat_id = 0, hash = 0, limit = 0;
    int bad = !j ||
              json_unpack(j, "{s:I,s?I,s:I,s:s,s:s,s:I,s?s}", "channel_id", &id, "chat_id",
                          &chat_id, "access_hash", &hash, "title", &title, "username", &username,
                          "limit", &limit, "by", &by) ||
              id <= 0 || chat_id > 0 || limit < 0 || strlen(by) >= sizeof out->by;
    if (!bad) {
        out->channel.id = id;
        out->channel.chat_id = chat_id;
        out->channel.access_hash = hash;
        dm_strlcpy(out->channel.title, title, sizeof out->channel.title);
        dm_strlcpy(out->channel.username, username, sizeof out->channel.username);
        out->limit = limit;
        dm_strlcpy(out->by, by, sizeof out->by);
    }
    json_decref(j);
    return bad ? dm_fail(err, DM_EINVAL, "the load job's parameters are damaged") : DM_OK;
}

dm_err load_run_init(struct load_run *lr, struct store *st, struct account *const *accounts,
                     size_t n, const struct store_job *job, struct dm_error *err)
{
    memset(lr, 0, sizeof *lr);
    if (n == 0 || n > VIA_MAX)
        return dm_fail(err, DM_EINVAL, "a load job reads through 1 to %d sessions", VIA_MAX);
    lr->store = st;
    for (size_t k = 0; k < n; k++)
        lr->acc[k].a = accounts[k];
    lr->n_acc = n;
    lr->job_id = job->id;
    lr->done = job->done;
    lr->total = job->total;
    dm_err e = load_params_parse(job->params, &lr->params, err);
    return e ? e : account_cursor_parse(job->cursor, &lr->cursor, err);
}

static bool same_cursor(const struct account_cursor *a, const struct account_cursor *b)
{
    return a->date == b->date && a->user_id == b->user_id && strcmp(a->by, b->by) == 0;
}

/* Whether la is the session whose view of the channel the params hold: the one the API
 * checked with (params.by), or, in jobs made before that was kept, the job's one session. */
static bool checked_by_api(const struct load_run *lr, const struct load_account *la)
{
    const char *by = lr->params.by;
    return by[0] ? strcmp(by, account_name(la->a)) == 0 : la == &lr->acc[0];
}

/* Makes la ready to load: usable, with the channel as it sees it (its own access hash). */
static dm_err account_ready(struct load_run *lr, struct load_account *la, struct tg_error *te)
{
    if (la->checked) return tg_error_set(te, TG_OK, 0);
    struct dm_error err = {0};
    dm_err e = account_usable(la->a, &err);
    if (e == DM_EAUTH || e == DM_ENOTFOUND) { /* invalid, or deleted: it will not come back */
        tg_error_set(te, TG_DEAD, 0);
        tg_error_say(te, "%s", err.msg);
        return e;
    }
    if (e) return tg_error_local(te, e, "%s", err.msg);
    if (checked_by_api(lr, la) || !lr->params.channel.chat_id)
        la->channel = lr->params.channel;
    else if ((e = account_channel(la->a, lr->params.channel.chat_id, &la->channel, te)))
        return e;
    la->checked = true;
    return tg_error_set(te, TG_OK, 0);
}

/* Reads and records one page through la. */
static dm_err load_page(struct load_run *lr, struct load_account *la, const char *owner,
                        bool *finished, struct tg_error *te)
{
    int64_t limit = lr->params.limit;
    int64_t want = limit ? DM_MIN(limit - lr->done, ACCOUNT_PAGE_MAX) : ACCOUNT_PAGE_MAX;
    struct account_page page = {0};
    int64_t now = (int64_t)time(NULL);
    if (want > 0) {
        dm_err e =
            account_list_pending(la->a, &la->channel, &lr->cursor, (int)want, now, &page, te);
        if (e) return e;
    }
    size_t n = page.n;
    /* the position moved unless nothing was read (a page from another session's cursor may
     * hold only requests read before, and still move it) */
    struct account_cursor next = want > 0 ? page.next : lr->cursor;
    int64_t seen = limit ? DM_MIN(page.count, limit) : page.count;
    char cursor[sizeof((struct store_job *)0)->cursor];
    struct dm_error err = {0};
    int64_t counted = 0;
    dm_err e = account_cursor_format(&next, cursor, sizeof cursor);
    if (!e)
        e = store_job_load_page(lr->store, lr->job_id, owner, account_name(la->a), page.rows, n,
                                cursor, seen, now, &counted, NULL, &err);
    account_page_release(&page);
    int64_t done = lr->done + counted;
    /* Finished at the limit, when the position did not move (nothing further to read), or on
     * a short page when Telegram counts no more. */
    *finished = want <= 0 || same_cursor(&next, &lr->cursor) || (limit && done >= limit) ||
                (n < (size_t)want && done >= seen);
    if (!e && *finished && seen != done) /* the total is what was loaded */
        e = store_job_load_page(lr->store, lr->job_id, owner, account_name(la->a), NULL, 0, cursor,
                                done, now, NULL, NULL, &err);
    if (e) return tg_error_local(te, e, "%s", err.msg[0] ? err.msg : dm_strerror(e));
    lr->cursor = next;
    lr->done = done;
    lr->total = *finished ? done : DM_MAX(seen, done);
    return tg_error_set(te, TG_OK, 0);
}

/* Whether te is la's own trouble, which the next session may not have: la then waits out a
 * flood wait, or is left out of the job. Anything else (Telegram out of reach, the store, the
 * job cancelled) is the job's, for the runner. */
static bool account_failed(struct load_run *lr, struct load_account *la, const struct tg_error *te,
                           int64_t now)
{
    const char *name = account_name(la->a);
    switch (te->kind) {
    case TG_FLOOD:
        la->paused_until = now + DM_MAX(te->retry_after, 1);
        if (lr->n_acc > 1)
            log_warn(C, "job %" PRId64 ": %s waits out a flood wait of %" PRId64 " s", lr->job_id,
                     name, te->retry_after);
        return true;
    case TG_DEAD:
    case TG_NO_RIGHT:
    case TG_NOT_FOUND:
    case TG_REFUSED:
        la->gone = true;
        dm_strlcpy(la->error, te->e.msg, sizeof la->error);
        if (lr->n_acc > 1)
            log_warn(C, "job %" PRId64 " goes on without %s: %s", lr->job_id, name, te->e.msg);
        return true;
    default:
        return false;
    }
}

/* No session can load now: the wait until the first is free again, or, when none is left, what
 * the first of them was told. */
static dm_err none_ready(const struct load_run *lr, int64_t now, struct tg_error *te)
{
    int64_t first = INT64_MAX;
    for (size_t k = 0; k < lr->n_acc; k++)
        if (!lr->acc[k].gone) first = DM_MIN(first, lr->acc[k].paused_until);
    if (first != INT64_MAX) {
        if (lr->n_acc == 1 && te->kind == TG_FLOOD) return te->e.code; /* as Telegram said it */
        dm_err e = tg_error_set(te, TG_FLOOD, DM_MAX(first - now, 1));
        if (lr->n_acc > 1)
            tg_error_say(te, "Every session of the job waits out Telegram's rate limit");
        return e;
    }
    if (lr->n_acc == 1 && te->kind != TG_OK) return te->e.code; /* as it was told */
    dm_err e = tg_error_set(te, TG_REFUSED, 0);
    if (lr->n_acc > 1)
        tg_error_say(te, "None of the job's sessions can load: %s: %s", account_name(lr->acc[0].a),
                     lr->acc[0].error);
    else
        tg_error_say(te, "%s", lr->acc[0].error);
    return e;
}

dm_err load_run_step(struct load_run *lr, const char *owner, bool *finished, struct tg_error *te)
{
    *finished = false;
    tg_error_set(te, TG_OK, 0);
    int64_t now = (int64_t)time(NULL);
    for (;;) {
        struct load_account *la = NULL;
        for (size_t k = 0; k < lr->n_acc && !la; k++)
            if (!lr->acc[k].gone && lr->acc[k].paused_until <= now) la = &lr->acc[k];
        if (!la) return none_ready(lr, now, te);
        dm_err e = account_ready(lr, la, te);
        if (!e) e = load_page(lr, la, owner, finished, te);
        if (!e || !account_failed(lr, la, te, now)) return e;
    }
}
