/* deliver.c: verifications brought by private message (see deliver.h). */
#include "core/common.h"
#include "jobs/deliver.h"

#include "botapi/client.h"
#include "core/log.h"
#include "jobs/dm_challenge.h"
#include "telegram/account.h"
#include "telegram/bot.h"
#include "verify/challenge.h"
#include "verify/verification.h"

/* a verification's message is brought up to date while it was updated this recently */
#define SYNC_WINDOW_S (CHALLENGE_TIME_MAX + 3600)

static const char *const C = "verify";

static const char * or (const char *s, const char *def)
{
    return s && s[0] ? s : def;
}

/* The sendMessage parameters for v, its Mini App at url. */
static json_t *message_of(const struct store_verification *v, const char *url)
{
    struct challenge c;
    const char *text = "", *open = "";
    bool parsed = challenge_parse(v->spec, &c, NULL) == DM_OK;
    if (parsed) {
        text = challenge_text(&c, v->lang, "message");
        open = challenge_text(&c, v->lang, "open");
    }
    json_t *p =
        json_pack("{s:I,s:s,s:{s:[[{s:s,s:{s:s}}]]}}", "chat_id", (json_int_t)v->user_id, "text",
                  or (text, "To join, please complete a short check first: it takes a minute."),
                  "reply_markup", "inline_keyboard", "text", or (open, "Open the check"), "web_app",
                  "url", url);
    if (parsed) challenge_release(&c);
    return p;
}

/* Sends v's message with its Mini App at url; false (with why, Telegram's words) when it was not
 * sent. */
static bool send_one(struct botapi_client *bc, const struct store_verification *v, const char *url,
                     char *why, size_t n)
{
    return dm_bot_call(bc, "sendMessage", message_of(v, url), NULL, why, n);
}

/* Whether v's challenge goes as inline buttons (verify/challenge.h challenge_by_buttons). */
static bool by_buttons(const struct store_verification *v)
{
    struct challenge c;
    if (challenge_parse(v->spec, &c, NULL)) return false;
    bool yes = challenge_by_buttons(&c);
    challenge_release(&c);
    return yes;
}

static dm_err undelivered(struct store *st, const struct store_verification *v, const char *why,
                          int64_t now, struct dm_error *err)
{
    struct store_audit au = {
        .at = now, .request_id = v->request_id, .chat_id = v->chat_id, .user_id = v->user_id};
    dm_strlcpy(au.admin, STORE_RULES_ADMIN, sizeof au.admin);
    dm_strlcpy(au.action, "verify_undelivered", sizeof au.action);
    dm_strlcpy(au.via, "bot", sizeof au.via);
    dm_strlcpy(au.result, "error", sizeof au.result);
    dm_snprintf_utf8(au.detail, sizeof au.detail, "the private message was not sent: %s", why);
    return store_audit_add(st, &au, err);
}

dm_err deliver_round(struct store *st, const struct accounts *as, const char *public_url,
                     int64_t now, int limit, int *sent, struct dm_error *err)
{
    *sent = 0;
    struct botapi_client *bc = as->bot ? bot_client_acquire(as->bot) : NULL;
    if (!bc) return DM_OK; /* no bot: nothing can be sent; the deadlines decide */
    struct store_verification *v = malloc((size_t)limit * sizeof *v);
    int n = 0;
    dm_err e = v ? store_verifications_unsent(st, now - DELIVER_WINDOW_S, limit, v, &n, err)
                 : dm_fail(err, DM_ENOMEM, "out of memory");
    for (int i = 0; i < n && !e; i++) {
        char url[1024], why[STORE_ERROR_MAX];
        bool first = false, ok = false;
        if (by_buttons(&v[i])) {
            e = verification_dm_start(st, v[i].request_id, v[i].lang, now, &first, err);
            if (!e && first) {
                struct store_verification *cur = malloc(sizeof *cur);
                e = cur ? store_verification_get(st, v[i].request_id, cur, err)
                        : dm_fail(err, DM_ENOMEM, "out of memory");
                if (!e) e = dm_challenge_send(st, bc, cur, &ok, why, sizeof why, err);
                free(cur);
            }
        } else {
            e = verification_start(st, public_url, v[i].request_id, now, url, sizeof url, &first,
                                   err);
            if (!e && first) ok = send_one(bc, &v[i], url, why, sizeof why);
        }
        if (e == DM_ECONFLICT || e == DM_ETOOBIG) { /* over meanwhile; a URL too long: logged */
            if (e == DM_ETOOBIG) log_warn(C, "request %" PRId64 ": %s", v[i].request_id, err->msg);
            e = DM_OK;
            continue;
        }
        if (e || !first) continue; /* another delivery has it */
        if (ok) {
            ++*sent;
        } else {
            log_warn(C, "the verification of request %" PRId64 " was not sent: %s", v[i].request_id,
                     why);
            e = undelivered(st, &v[i], why, now, err);
        }
    }
    if (!e) e = dm_challenge_sync_round(st, bc, now, SYNC_WINDOW_S, limit, err);
    free(v);
    bot_client_release(as->bot, bc);
    return e;
}
