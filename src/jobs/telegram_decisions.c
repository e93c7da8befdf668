/* telegram_decisions.c: the admin log's joins by request, recorded (telegram_decisions.h). */
#include "core/common.h"
#include "jobs/telegram_decisions.h"

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
