/* hide_all.c: deciding whole channels with hideAllChatJoinRequests, one step at a time
 * (hide_all.h). */
#include "core/common.h"
#include "jobs/hide_all.h"

#include "core/log.h"
#include "jobs/telegram_decisions.h"

#include <jansson.h>

static const char *const phases[] = {"load", "hide", "done"};

bool hide_all_fits(const struct store_request_filter *f)
{
    /* a scope without a chat would be every channel the session holds */
    return !f->q[0] && !f->date_from && !f->date_to && !f->rule_id &&
           (f->chat_id || !f->scope[0]) && (!f->invite_link[0] || f->chat_id);
}

dm_err hide_params_format(int64_t chat_id, const char *link, char *out, size_t n,
                          struct dm_error *err)
{
    json_t *j = json_pack("{s:s,s:I}", "mode", "hide_all", "chat_id", (json_int_t)chat_id);
    if (j && link && *link) json_object_set_new(j, "link", json_string(link));
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    dm_err e = !s               ? dm_fail(err, DM_ENOMEM, "out of memory")
               : strlen(s) >= n ? dm_fail(err, DM_ETOOBIG, "the job's parameters are too long")
                                : DM_OK;
    if (!e) dm_strlcpy(out, s, n);
    free(s);
    return e;
}

dm_err hide_params_parse(const char *s, int64_t *chat_id, char *link, struct dm_error *err)
{
    *chat_id = 0;
    link[0] = 0;
    if (!s || !*s) return dm_fail(err, DM_ENOTFOUND, "not a hide_all job");
    json_t *j = json_loads(s, 0, NULL);
    const char *mode = NULL, *l = NULL;
    json_int_t id = 0;
    dm_err e = DM_OK;
    if (!j || json_unpack(j, "{s:s}", "mode", &mode))
        e = dm_fail(err, DM_EINVAL, "the job's parameters are damaged");
    else if (strcmp(mode, "hide_all") != 0)
        e = dm_fail(err, DM_ENOTFOUND, "not a hide_all job");
    else if (json_unpack(j, "{s:I,s?s}", "chat_id", &id, "link", &l) ||
             (l && strlen(l) >= STORE_LINK_MAX))
        e = dm_fail(err, DM_EINVAL, "the job's parameters are damaged");
    if (!e) {
        *chat_id = id;
        if (l) dm_strlcpy(link, l, STORE_LINK_MAX);
    }
    json_decref(j);
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
    *out =
        (struct hide_cursor){chat, out->phase, {.date = date, .user_id = user, .user_hash = hash}};
    return DM_OK;
}

dm_err hide_run_init(struct hide_run *hr, struct store *st, struct account *account,
                     const struct store_job *job, struct dm_error *err)
{
    memset(hr, 0, sizeof *hr);
    hr->store = st;
    hr->account = account;
    hr->job_id = job->id;
    hr->kind = job->kind;
    dm_err e = hide_params_parse(job->params, &hr->only_chat, hr->link, err);
    return e ? e : hide_cursor_parse(job->cursor, &hr->cur, err);
}

/* A store failure as the runner sees failures. */
static dm_err stored(struct tg_error *te, dm_err e, const struct dm_error *err)
{
    return e ? tg_error_local(te, e, "%s", err->msg[0] ? err->msg : dm_strerror(e))
             : tg_error_set(te, TG_OK, 0);
}

/* Records the end of the current channel (its items done, or failed with why) and moves on. */
static dm_err finish_chat(struct hide_run *hr, const char *owner, int outcome, const char *why,
                          struct tg_error *te)
{
    struct hide_cursor next = {0};
    if (hr->only_chat) next = (struct hide_cursor){hr->only_chat, HIDE_DONE, {0}};
    char cursor[sizeof((struct store_job *)0)->cursor];
    struct dm_error err = {0};
    dm_err e = hide_cursor_format(&next, cursor, sizeof cursor, &err);
    if (!e)
        e = store_job_finish_chat(hr->store, hr->job_id, owner, hr->cur.chat_id, !hr->link[0],
                                  outcome, why, cursor, (int64_t)time(NULL), NULL, &err);
    if (!e) {
        hr->cur = next;
        hr->resolved = false;
    }
    return stored(te, e, &err);
}

/* The failures that end a channel, not the job: its items fail with why. */
static bool channel_refused(const struct tg_error *te)
{
    return te->kind == TG_NO_RIGHT || te->kind == TG_NOT_FOUND || te->kind == TG_INPUT;
}

static dm_err refuse_chat(struct hide_run *hr, const char *owner, struct tg_error *te)
{
    if (te->kind == TG_NO_RIGHT) account_no_right(-1, hr->resolved ? hr->ch.title : NULL, te);
    char why[STORE_ERROR_MAX];
    dm_strlcpy(why, te->e.msg, sizeof why);
    return finish_chat(hr, owner, ITEM_FAILED, why, te);
}

/* Picks the channel to work on when none is current: the named one, or the channel of the
 * job's first pending item. *none when nothing is left. */
static dm_err pick_chat(struct hide_run *hr, bool *none, struct tg_error *te)
{
    *none = false;
    if (hr->only_chat) {
        if (hr->cur.phase == HIDE_DONE) *none = true;
        if (!hr->cur.chat_id) /* one link's requests: no list tells them apart (hide_all.h) */
            hr->cur = (struct hide_cursor){hr->only_chat, hr->link[0] ? HIDE_CALL : HIDE_LOAD, {0}};
        return tg_error_set(te, TG_OK, 0);
    }
    struct store_item it;
    int n = 0;
    struct dm_error err = {0};
    dm_err e = store_job_next_items(hr->store, hr->job_id, 0, 1, &it, &n, &err);
    if (e) return stored(te, e, &err);
    if (n == 0)
        *none = true;
    else
        hr->cur = (struct hide_cursor){it.chat_id, HIDE_LOAD, {0}};
    return tg_error_set(te, TG_OK, 0);
}

/* One page of the channel's pending list, recorded. */
static dm_err load_page(struct hide_run *hr, const char *owner, struct tg_error *te)
{
    struct account_page page;
    int64_t now = (int64_t)time(NULL);
    dm_err e =
        account_list_pending(hr->account, &hr->ch, &hr->cur.at, ACCOUNT_PAGE_MAX, now, &page, te);
    if (e) return e;
    bool same = page.next.date == hr->cur.at.date && page.next.user_id == hr->cur.at.user_id;
    struct hide_cursor next = {hr->cur.chat_id, HIDE_LOAD, page.next};
    if (page.n < ACCOUNT_PAGE_MAX || same)
        next = (struct hide_cursor){hr->cur.chat_id, HIDE_CALL, {0}};
    char cursor[sizeof((struct store_job *)0)->cursor];
    struct dm_error err = {0};
    e = hide_cursor_format(&next, cursor, sizeof cursor, &err);
    if (!e)
        e = store_job_add_page(hr->store, hr->job_id, owner, page.rows, page.n, cursor, now, &err);
    if (!e) {
        hr->listed += (int64_t)page.n;
        hr->cur = next;
    }
    account_page_release(&page);
    return stored(te, e, &err);
}

/* Before the channel's bulk work: the approvals other admins made in the Telegram app meanwhile
 * are recorded as theirs (telegram_decisions.h), so the job skips those requests instead of
 * taking them for its own. A failure only costs that: the job goes on. */
static void telegram_first(struct hide_run *hr)
{
    struct tg_decisions_result r;
    struct tg_error te = {0};
    if (tg_decisions_check(hr->store, hr->account, hr->cur.chat_id, &r, &te))
        log_warn("jobs", "job %" PRId64 ": could not read the admin log of %" PRId64 ": %s",
                 hr->job_id, hr->cur.chat_id, te.e.msg);
    else if (r.recorded)
        log_info("jobs",
                 "job %" PRId64 ": %" PRId64 " requests of %" PRId64 " were approved in Telegram",
                 hr->job_id, r.recorded, hr->cur.chat_id);
}

dm_err hide_run_step(struct hide_run *hr, const char *owner, bool *finished, struct tg_error *te)
{
    *finished = false;
    if (!hr->cur.chat_id || hr->cur.phase == HIDE_DONE) {
        bool none = false;
        dm_err e = pick_chat(hr, &none, te);
        if (e || none) {
            *finished = !e;
            return e;
        }
    }
    if (!hr->resolved) {
        /* a session deleted or found dead meanwhile ends the job, not the channel */
        struct dm_error err = {0};
        dm_err e = account_usable(hr->account, &err);
        if (e == DM_ENOTFOUND || e == DM_EAUTH) {
            tg_error_set(te, TG_DEAD, 0);
            tg_error_say(te, "%s", err.msg);
            return DM_EAUTH;
        }
        if (e) return stored(te, e, &err);
        e = account_channel(hr->account, hr->cur.chat_id, &hr->ch, te);
        if (e) return channel_refused(te) ? refuse_chat(hr, owner, te) : e;
        hr->resolved = true;
        if (!hr->cur.at.date) telegram_first(hr);
    }
    bool call = hr->cur.phase == HIDE_CALL;
    dm_err e = call ? account_decide_channel(hr->account, &hr->ch, hr->kind == JOB_APPROVE,
                                             hr->link[0] ? hr->link : NULL, te)
                    : load_page(hr, owner, te);
    if (e) return channel_refused(te) ? refuse_chat(hr, owner, te) : e;
    return call ? finish_chat(hr, owner, ITEM_DONE, "", te) : DM_OK;
}
