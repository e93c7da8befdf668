/* load.c: one page of a load job at a time (load.h). */
#include "core/common.h"
#include "jobs/load.h"

#include <jansson.h>

dm_err load_params_format(const struct load_params *p, char *out, size_t n, struct dm_error *err)
{
    const struct account_channel *ch = &p->channel;
    json_t *j = json_pack("{s:I,s:I,s:s,s:s,s:I}", "channel_id", (json_int_t)ch->id, "access_hash",
                          (json_int_t)ch->access_hash, "title", ch->title, "username", ch->username,
                          "limit", (json_int_t)p->limit);
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
    const char *title = NULL, *username = NULL;
    json_int_t id = 0, hash = 0, limit = 0;
    int bad = !j ||
              json_unpack(j, "{s:I,s:I,s:s,s:s,s:I}", "channel_id", &id, "access_hash", &hash,
                          "title", &title, "username", &username, "limit", &limit) ||
              id <= 0 || limit < 0;
    if (!bad) {
        out->channel.id = id;
        out->channel.access_hash = hash;
        dm_strlcpy(out->channel.title, title, sizeof out->channel.title);
        dm_strlcpy(out->channel.username, username, sizeof out->channel.username);
        out->limit = limit;
    }
    json_decref(j);
    return bad ? dm_fail(err, DM_EINVAL, "the load job's parameters are damaged") : DM_OK;
}

dm_err load_run_init(struct load_run *lr, struct store *st, struct account *account,
                     const struct store_job *job, struct dm_error *err)
{
    memset(lr, 0, sizeof *lr);
    lr->store = st;
    lr->account = account;
    lr->job_id = job->id;
    lr->done = job->done;
    lr->total = job->total;
    dm_err e = load_params_parse(job->params, &lr->params, err);
    return e ? e : account_cursor_parse(job->cursor, &lr->cursor, err);
}

static bool same_cursor(const struct account_cursor *a, const struct account_cursor *b)
{
    return a->date == b->date && a->user_id == b->user_id;
}

dm_err load_run_step(struct load_run *lr, const char *owner, bool *finished, struct tg_error *te)
{
    *finished = false;
    int64_t limit = lr->params.limit;
    int64_t want = limit ? DM_MIN(limit - lr->done, ACCOUNT_PAGE_MAX) : ACCOUNT_PAGE_MAX;
    struct account_page page = {0};
    int64_t now = (int64_t)time(NULL);
    dm_err e = DM_OK;
    if (want > 0) {
        e = account_list_pending(lr->account, &lr->params.channel, &lr->cursor, (int)want, now,
                                 &page, te);
        if (e) return e;
    }
    size_t n = page.n;
    int64_t done = lr->done + (int64_t)n;
    /* Finished at the limit, on an empty page, on a short one when Telegram counts no more, or
     * when the position did not move (nothing further to read). */
    *finished = want <= 0 || n == 0 || (n < (size_t)want && done >= page.count) ||
                (limit && done >= limit) || same_cursor(&page.next, &lr->cursor);
    int64_t total = limit ? DM_MIN(page.count, limit) : page.count;
    total = *finished ? done : DM_MAX(total, done);
    struct account_cursor next = n ? page.next : lr->cursor;
    char cursor[sizeof((struct store_job *)0)->cursor];
    struct dm_error err = {0};
    e = account_cursor_format(&next, cursor, sizeof cursor);
    if (!e)
        e = store_job_load_page(lr->store, lr->job_id, owner, page.rows, n, cursor, total, now,
                                NULL, &err);
    account_page_release(&page);
    if (e) return tg_error_local(te, e, "%s", err.msg[0] ? err.msg : dm_strerror(e));
    lr->cursor = next;
    lr->done = done;
    lr->total = total;
    return tg_error_set(te, TG_OK, 0);
}
