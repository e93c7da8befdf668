/* links.c: invite links as doorman last saw them, and decisions made in Telegram (store.h). */
#include "core/common.h"
#include "store/db.h"
#include "store/job_tx.h"

dm_err store_link_put(struct store *st, const struct store_link *l, int64_t now,
                      struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, l->chat_id);
    arg_text(&a, l->link, sizeof l->link);
    arg_text(&a, l->name, sizeof l->name);
    arg_int(&a, l->creator_id);
    arg_int(&a, l->created_at);
    arg_int(&a, l->expire_date);
    arg_int(&a, l->member_limit);
    arg_int(&a, l->creates_join_request);
    arg_int(&a, l->revoked);
    arg_int(&a, now);
    return db_exec(st, S_LINK_PUT, &a, NULL, err);
}

static void row_link(const struct db_row *r, void *out)
{
    struct store_link *l = out;
    memset(l, 0, sizeof *l);
    ROW_TEXT(r, 0, l->link);
    ROW_TEXT(r, 1, l->name);
    l->creator_id = row_int(r, 2);
    l->created_at = row_int(r, 3);
    l->expire_date = row_int(r, 4);
    l->member_limit = row_int(r, 5);
    l->creates_join_request = row_int(r, 6) != 0;
    l->revoked = row_int(r, 7) != 0;
    l->updated_at = row_int(r, 8);
    l->known = true;
}

/* A row of S_LINK_SEEN: the link and its requests' counts. */
static void row_seen(const struct db_row *r, void *out)
{
    struct store_link *l = out;
    memset(l, 0, sizeof *l);
    ROW_TEXT(r, 0, l->link);
    l->pending = row_int(r, 1);
    l->requests = row_int(r, 2);
}

dm_err store_link_list(struct store *st, int64_t chat_id, struct store_link **out, size_t *n,
                       struct dm_error *err)
{
    *out = NULL;
    *n = 0;
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    arg_int(&a, STORE_LINKS_MAX + 1);
    struct store_link *saved = NULL, *seen = NULL;
    size_t nsaved = 0, nseen = 0;
    dm_err e = db_read_all(st, S_LINK_LIST, &a, row_link, sizeof *saved, STORE_LINKS_MAX,
                           "invite links", (void **)&saved, &nsaved, err);
    if (!e)
        e = db_read_all(st, S_LINK_SEEN, &a, row_seen, sizeof *seen, STORE_LINKS_MAX,
                        "invite links", (void **)&seen, &nseen, err);
    struct store_link *all = e ? NULL : calloc(nsaved + nseen + 1, sizeof *all);
    if (!e && !all) e = dm_fail(err, DM_ENOMEM, "out of memory listing invite links");
    if (e) {
        free(saved);
        free(seen);
        return e;
    }
    if (nsaved) memcpy(all, saved, nsaved * sizeof *all);
    size_t m = nsaved;
    for (size_t i = 0; i < nseen; i++) {
        size_t k = 0;
        while (k < nsaved && strcmp(all[k].link, seen[i].link) != 0)
            k++;
        if (k == nsaved) k = m++; /* seen only on requests */
        all[k].pending = seen[i].pending;
        all[k].requests = seen[i].requests;
        if (k >= nsaved) dm_strlcpy(all[k].link, seen[i].link, sizeof all[k].link);
    }
    for (size_t i = 0; i < m; i++)
        all[i].chat_id = chat_id;
    free(saved);
    free(seen);
    *out = all;
    *n = m;
    return DM_OK;
}

static void row_unheld(const struct db_row *r, void *out)
{
    struct store_request *q = out;
    memset(q, 0, sizeof *q);
    q->id = row_int(r, 0);
    q->user_id = row_int(r, 1);
}

dm_err store_pending_unheld(struct store *st, int64_t chat_id, int64_t after, int64_t before,
                            int limit, struct store_request *out, int *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    arg_int(&a, after);
    arg_int(&a, limit);
    arg_int(&a, before);
    struct db_stmt s = db_stmt_of(st, S_PENDING_UNHELD);
    return db_read(st, &s, &a, row_unheld, out, sizeof *out, limit, n, err);
}

dm_err store_request_decided_in_telegram(struct store *st, int64_t chat_id, int64_t user_id,
                                         int status, const char *by, int64_t at,
                                         int64_t *request_id, struct dm_error *err)
{
    if (request_id) *request_id = 0;
    if (status != REQ_APPROVED && status != REQ_DECLINED)
        return dm_fail(err, DM_EINVAL, "a decision is approved or declined");
    struct db_args k;
    args_init(&k);
    arg_int(&k, chat_id);
    arg_int(&k, user_id);
    int64_t id = 0;
    bool found = false;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_read_one(&tx, S_REQUEST_PENDING_OF, &k, row_int0, &id, &found, err);
    if (!e && found) {
        struct db_args a;
        args_init(&a);
        arg_int(&a, id);
        arg_int(&a, status);
        arg_int(&a, at);
        arg_text(&a, by, STORE_NAME_MAX);
        arg_ref(&a, STORE_VIA_TELEGRAM);
        e = tx_run(&tx, S_REQUEST_TELEGRAM_DECIDE, &a, NULL, NULL, NULL, err);
    }
    if (!e && found) {
        struct store_audit au = {.at = at,
                                 .request_id = id,
                                 .chat_id = chat_id,
                                 .user_id = user_id,
                                 .via = STORE_VIA_TELEGRAM,
                                 .result = "ok"};
        dm_strlcpy(au.admin, by, sizeof au.admin);
        dm_strlcpy(au.action, status == REQ_APPROVED ? "approve" : "decline", sizeof au.action);
        dm_snprintf_utf8(au.detail, sizeof au.detail, "decided in Telegram%s%s",
                         by[0] ? " by " : "", by);
        e = tx_audit(&tx, &au, err);
    }
    e = tx_close(&tx, e, err);
    if (!e && request_id) *request_id = found ? id : 0;
    return e;
}
