/* notice.c: the private message after a decision (see notice.h). */
#include "core/common.h"
#include "jobs/notice.h"

#include "core/buf.h"
#include "core/log.h"
#include "jobs/deliver.h"
#include "jobs/dm_challenge.h"
#include "telegram/account.h"
#include "telegram/bot.h"
#include "verify/challenge.h"

static const char *const C = "notice";

static dm_err put_escaped(struct buf *b, const char *s)
{
    dm_err e = DM_OK;
    for (; *s && !e; s++) {
        switch (*s) {
        case '&':
            e = buf_puts(b, "&amp;");
            break;
        case '<':
            e = buf_puts(b, "&lt;");
            break;
        case '>':
            e = buf_puts(b, "&gt;");
            break;
        case '"':
            e = buf_puts(b, "&quot;");
            break;
        default:
            e = buf_append(b, s, 1);
        }
    }
    return e;
}

char *notice_render(const char *tpl, const char *first_name, const char *last_name,
                    const char *username, const char *channel)
{
    const struct {
        const char *name, *value;
    } vars[] = {{"{first_name}", first_name},
                {"{last_name}", last_name},
                {"{username}", username},
                {"{channel}", channel}};
    struct buf b;
    buf_init(&b, 8192);
    dm_err e = DM_OK;
    for (const char *p = tpl; *p && !e;) {
        size_t i = 0;
        while (i < DM_ARRAY_LEN(vars) && strncmp(p, vars[i].name, strlen(vars[i].name)) != 0)
            i++;
        if (i < DM_ARRAY_LEN(vars)) {
            e = put_escaped(&b, vars[i].value);
            p += strlen(vars[i].name);
        } else {
            e = buf_append(&b, p++, 1);
        }
    }
    char *out = e ? NULL : strdup(b.len ? b.data : "");
    buf_release(&b);
    return out;
}

static void audit(struct store *st, const struct store_request *r, const char *action,
                  const char *result, const char *detail)
{
    struct store_audit au = {.at = (int64_t)time(NULL),
                             .request_id = r->id,
                             .chat_id = r->chat_id,
                             .user_id = r->user_id};
    dm_strlcpy(au.admin, STORE_RULES_ADMIN, sizeof au.admin);
    dm_strlcpy(au.action, action, sizeof au.action);
    dm_strlcpy(au.via, "bot", sizeof au.via);
    dm_strlcpy(au.result, result, sizeof au.result);
    dm_snprintf_utf8(au.detail, sizeof au.detail, "%s", detail);
    struct dm_error err = {0};
    if (store_audit_add(st, &au, &err))
        log_warn(C, "request %" PRId64 ": the audit entry was not written: %s", r->id, err.msg);
}

/* Sends the message when there is one to send; r is the request as stored, ch its channel's
 * challenge. */
static void send_for(const struct accounts *as, const struct store_request *r, bool approve,
                     const struct store_challenge *ch)
{
    struct store *st = as->store;
    struct dm_error err = {0};
    dm_err e;
    if (r->tg_date < (int64_t)time(NULL) - DELIVER_WINDOW_S || r->status != REQ_PENDING) return;
    struct challenge c;
    if (challenge_parse(ch->spec, &c, NULL)) return;
    const char *tpl = challenge_text(&c, r->language_code, approve ? "welcome" : "decline");
    bool claimed = false;
    if (tpl[0] && (e = store_request_notify_claim(st, r->id, &claimed, &err)))
        log_warn(C, "request %" PRId64 ": %s", r->id, err.msg);
    char *text = claimed
                     ? notice_render(tpl, r->first_name, r->last_name, r->username, r->chat_title)
                     : NULL;
    challenge_release(&c);
    if (!text) return;
    struct botapi_client *bc = bot_client_acquire(as->bot);
    char why[STORE_ERROR_MAX] = "no bot token is configured";
    bool ok = bc && dm_bot_call(bc, "sendMessage",
                                json_pack("{s:I,s:s,s:s}", "chat_id", (json_int_t)r->user_id,
                                          "text", text, "parse_mode", "HTML"),
                                NULL, why, sizeof why);
    if (bc) bot_client_release(as->bot, bc);
    free(text);
    char detail[STORE_ERROR_MAX + 64];
    if (ok) {
        snprintf(detail, sizeof detail, "the %s message was sent", approve ? "welcome" : "decline");
        audit(st, r, "notice_sent", "ok", detail);
    } else {
        log_warn(C, "request %" PRId64 ": the %s message was not sent: %s", r->id,
                 approve ? "welcome" : "decline", why);
        snprintf(detail, sizeof detail, "the %s message was not sent: %s",
                 approve ? "welcome" : "decline", why);
        audit(st, r, "notice_undelivered", "error", detail);
    }
}

void notice_before(const struct accounts *as, const struct account_request *req, bool approve)
{
    if (!as->bot) return;
    struct store_request *r = malloc(sizeof *r);
    struct store_challenge *ch = malloc(sizeof *ch);
    struct dm_error err = {0};
    bool has_ch = false;
    dm_err e = !r || !ch ? DM_ENOMEM
                         : store_request_challenge(as->store, req->request_id, req->chat_id, r, ch,
                                                   &has_ch, &err);
    if (e == DM_ENOMEM)
        log_warn(C, "request %" PRId64 ": out of memory for its message", req->request_id);
    else if (e && e != DM_ENOTFOUND)
        log_warn(C, "request %" PRId64 ": %s", req->request_id, err.msg);
    if (!e && has_ch) send_for(as, r, approve, ch);
    free(r);
    free(ch);
}
