/* hide_all.c: deciding whole channels with hideAllChatJoinRequests, one step at a time
 * (hide_all.h). */
#include "core/common.h"
#include "jobs/hide_all.h"

#include "app.h"
#include "jobs/decider.h"
#include "mtproto/client.h"
#include "telegram/pool.h"

#include <jansson.h>

static const char *const phases[] = {"load", "hide", "done"};

bool hide_all_fits(const struct store_request_filter *f)
{
    return !f->q[0] && !f->date_from && !f->date_to;
}

dm_err hide_params_format(int64_t chat_id, char *out, size_t n, struct dm_error *err)
{
    int w = snprintf(out, n, "{\"mode\":\"hide_all\",\"chat_id\":%" PRId64 "}", chat_id);
    return w < 0 || (size_t)w >= n ? dm_fail(err, DM_ETOOBIG, "the job's parameters are too long")
                                   : DM_OK;
}

dm_err hide_params_parse(const char *s, int64_t *chat_id, struct dm_error *err)
{
    *chat_id = 0;
    if (!s || !*s) return dm_fail(err, DM_ENOTFOUND, "not a hide_all job");
    json_t *j = json_loads(s, 0, NULL);
    const char *mode = NULL;
    json_int_t id = 0;
    dm_err e = DM_OK;
    if (!j || json_unpack(j, "{s:s}", "mode", &mode))
        e = dm_fail(err, DM_EINVAL, "the job's parameters are damaged");
    else if (strcmp(mode, "hide_all") != 0)
        e = dm_fail(err, DM_ENOTFOUND, "not a hide_all job");
    else if (json_unpack(j, "{s:I}", "chat_id", &id))
        e = dm_fail(err, DM_EINVAL, "the job's parameters are damaged");
    json_decref(j);
    if (!e) *chat_id = id;
    return e;
}

dm_err hide_cursor_format(const struct hide_cursor *c, char *out, size_t n, struct dm_error *err)
{
    int w = snprintf(out, n,
                     "{\"chat\":%" PRId64 ",\"phase\":\"%s\",\"date\":%" PRId64 ",\"user\":%" PRId64
                     ",\"hash\":%" PRId64 "}",
                     c->chat_id, phases[c->phase], c->at.date, c->at.user_id, c->at.user_hash);
    return w < 0 || (size_t)w >= n ? dm_fail(err, DM_ETOOBIG, "the job's position is too long")
                                   : DM_OK;
}

dm_err hide_cursor_parse(const char *s, struct hide_cursor *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s) return DM_OK;
    json_t *j = json_loads(s, 0, NULL);
    const char *phase = NULL;
    json_int_t chat = 0, date = 0, user = 0, hash = 0;
    bool bad = !j || json_unpack(j, "{s:I,s:s,s:I,s:I,s:I}", "chat", &chat, "phase", &phase, "date",
                                 &date, "user", &user, "hash", &hash);
    out->phase = -1;
    for (size_t i = 0; !bad && i < DM_ARRAY_LEN(phases); i++)
        if (strcmp(phase, phases[i]) == 0) out->phase = (int)i;
    bad |= out->phase < 0;
    json_decref(j);
    if (bad) {
        memset(out, 0, sizeof *out);
        return dm_fail(err, DM_EINVAL, "the job's saved position is damaged");
    }
    *out = (struct hide_cursor){chat, out->phase, {date, user, hash}};
    return DM_OK;
}

dm_err hide_run_init(struct hide_run *hr, struct app *a, const struct store_job *job,
                     struct dm_error *err)
{
    memset(hr, 0, sizeof *hr);
    hr->app = a;
    hr->job_id = job->id;
    hr->kind = job->kind;
    dm_strlcpy(hr->via, job->via, sizeof hr->via);
    dm_err e = hide_params_parse(job->params, &hr->only_chat, err);
    return e ? e : hide_cursor_parse(job->cursor, &hr->cur, err);
}

/* Records the end of the current channel (its items done, or failed with why) and moves on. */
static dm_err finish_chat(struct hide_run *hr, const char *owner, int outcome, const char *why,
                          struct dm_error *err)
{
    struct hide_cursor next = {0};
    if (hr->only_chat) next = (struct hide_cursor){hr->only_chat, HIDE_DONE, {0}};
    char cursor[sizeof((struct store_job *)0)->cursor];
    struct store *st = hr->app->store;
    int64_t n = 0;
    dm_err e = hide_cursor_format(&next, cursor, sizeof cursor, err);
    if (!e)
        e = store_job_finish_chat(st, hr->job_id, owner, hr->cur.chat_id, outcome, why, cursor,
                                  (int64_t)time(NULL), &n, err);
    if (e) return e;
    hr->cur = next;
    hr->resolved = false;
    return DM_OK;
}

/* The failures that end a channel, not the job: its items fail with why. */
static bool channel_refused(dm_err e)
{
    return e == DM_EFORBIDDEN || e == DM_ENOTFOUND || e == DM_EINVAL;
}

static dm_err refuse_chat(struct hide_run *hr, const char *owner, dm_err e,
                          const struct dm_error *why, struct dm_error *err)
{
    char msg[STORE_ERROR_MAX];
    if (e == DM_EFORBIDDEN)
        decider_no_right(-1, hr->resolved ? hr->ch.title : "this channel", msg, sizeof msg);
    else
        dm_strlcpy(msg, why->msg, sizeof msg);
    return finish_chat(hr, owner, ITEM_FAILED, msg, err);
}

/* Picks the channel to work on when none is current: the named one, or the channel of the
 * job's first pending item. false when nothing is left. */
static dm_err pick_chat(struct hide_run *hr, bool *none, struct dm_error *err)
{
    *none = false;
    if (hr->only_chat) {
        if (hr->cur.phase == HIDE_DONE) *none = true;
        if (!hr->cur.chat_id) hr->cur = (struct hide_cursor){hr->only_chat, HIDE_LOAD, {0}};
        return DM_OK;
    }
    struct store *st = hr->app->store;
    struct store_item it;
    int n = 0;
    dm_err e = store_job_next_items(st, hr->job_id, 0, 1, &it, &n, err);
    if (e) return e;
    if (n == 0)
        *none = true;
    else
        hr->cur = (struct hide_cursor){it.chat_id, HIDE_LOAD, {0}};
    return DM_OK;
}

/* One page of the channel's pending list, recorded. */
static dm_err load_page(struct hide_run *hr, const char *owner, int *retry_after,
                        struct dm_error *err)
{
    struct loader_via via = {hr->app->pool, hr->via};
    struct loader_page page;
    int64_t now = (int64_t)time(NULL);
    dm_err e = loader_fetch_page(&via, &hr->ch, &hr->cur.at, LOADER_PAGE_MAX, now, &page,
                                 retry_after, err);
    if (e) return e;
    bool same = page.next.date == hr->cur.at.date && page.next.user_id == hr->cur.at.user_id;
    struct hide_cursor next = {hr->cur.chat_id, HIDE_LOAD, page.next};
    if (page.n < LOADER_PAGE_MAX || same)
        next = (struct hide_cursor){hr->cur.chat_id, HIDE_CALL, {0}};
    char cursor[sizeof((struct store_job *)0)->cursor];
    struct store *st = hr->app->store;
    e = hide_cursor_format(&next, cursor, sizeof cursor, err);
    if (!e) e = store_job_add_page(st, hr->job_id, owner, page.rows, page.n, cursor, now, err);
    if (!e) {
        hr->listed += (int64_t)page.n;
        hr->cur = next;
    }
    loader_page_release(&page);
    return e;
}

/* The one call that decides every pending request of the channel. */
static dm_err hide_all_call(struct hide_run *hr, int *retry_after, struct dm_error *err)
{
    json_t *m =
        json_pack("{s:s,s:b,s:{s:s,s:I,s:I}}", "_", "messages.hideAllChatJoinRequests", "approved",
                  hr->kind == JOB_APPROVE, "peer", "_", "inputPeerChannel", "channel_id",
                  (json_int_t)hr->ch.id, "access_hash", (json_int_t)hr->ch.access_hash);
    struct mt_rpc_error rpc = {0};
    json_t *res = NULL;
    dm_err e = m ? pool_call(hr->app->pool, hr->via, m, POOL_CALL_TIMEOUT_MS, &res, &rpc, err)
                 : dm_fail(err, DM_ENOMEM, "out of memory");
    json_decref(m);
    json_decref(res);
    return e ? loader_fail(e, &rpc, "to decide the join requests", retry_after, err) : DM_OK;
}

dm_err hide_run_step(struct hide_run *hr, const char *owner, bool *finished, int *retry_after,
                     struct dm_error *err)
{
    *finished = false;
    if (!hr->cur.chat_id || hr->cur.phase == HIDE_DONE) {
        bool none = false;
        dm_err e = pick_chat(hr, &none, err);
        if (e || none) {
            *finished = !e;
            return e;
        }
    }
    if (!hr->resolved) {
        struct dm_error why = {0};
        /* a session deleted or found dead meanwhile ends the job, not the channel */
        dm_err e = decider_session_usable(hr->app->store, hr->via, NULL, err);
        if (e) return e == DM_ENOTFOUND ? DM_EAUTH : e;
        e = decider_session_channel(hr->app, hr->via, hr->cur.chat_id, &hr->ch, retry_after, &why);
        if (channel_refused(e)) return refuse_chat(hr, owner, e, &why, err);
        if (e) {
            *err = why;
            return e;
        }
        hr->resolved = true;
    }
    struct dm_error why = {0};
    bool call = hr->cur.phase == HIDE_CALL;
    dm_err e =
        call ? hide_all_call(hr, retry_after, &why) : load_page(hr, owner, retry_after, &why);
    if (channel_refused(e)) return refuse_chat(hr, owner, e, &why, err);
    if (e) {
        *err = why;
        return e;
    }
    return call ? finish_chat(hr, owner, ITEM_DONE, "", err) : DM_OK;
}
