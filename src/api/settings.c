/* settings.c: the bot's configuration, the blocklist service and the metrics token. The tokens
 * are write-only: they are never sent back. */
#include "core/common.h"
#include "api/api.h"
#include "telegram/bot.h"
#include "core/log.h"
#include "jobs/judge.h"

static const char *const mode_names[] = {"polling", "webhook"};

#define BLOCKLIST_URL_MAX 500
#define METRICS_TOKEN_MAX 128

static void answer(struct api_ctx *c)
{
    struct bot_status s;
    bot_get_status(c->env->bot, &s);
    char *blocklist = NULL;
    struct dm_error err = {0};
    dm_err e = store_setting_get(c->env->store, JUDGE_BLOCKLIST_SETTING, &blocklist, &err);
    if (e && e != DM_ENOTFOUND) {
        api_store_failed(c, e, &err);
        return;
    }
    json_t *bot =
        json_pack("{s:b,s:o,s:s,s:b,s:o,s:o}", "configured", s.configured, "id",
                  s.configured ? json_integer(s.id) : json_null(), "username", s.username,
                  "receiving", s.receiving, "last_update_at", api_time_or_null(s.last_update_at),
                  "last_error", api_text(s.last_error));
    http_res_json(c->res, 200,
                  json_pack("{s:o,s:s,s:s,s:f,s:o,s:b}", "bot", bot, "mode",
                            mode_names[s.mode == BOT_WEBHOOK], "webhook_url", s.webhook_url,
                            "bot_rate", s.rate, "blocklist_url",
                            api_text(blocklist ? blocklist : ""), "metrics_token_set",
                            api_metrics_token_is_set(c->env->store)));
    free(blocklist);
}

/* Whether url may be the blocklist service's address (docs/api.md, Settings): "" turns it off.
 * false after answering 400. */
static bool blocklist_ok(struct api_ctx *c, const char *url)
{
    size_t n = strlen(url);
    if (!n || ((strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0) &&
               n <= BLOCKLIST_URL_MAX && !strpbrk(url, " \t\r\n?#")))
        return true;
    return api_bad_request(c,
                           "'blocklist_url' must be the http(s):// address of a service with "
                           "CAS's interface (e.g. https://api.cas.chat), at most %d bytes, or \"\" "
                           "to turn it off.",
                           BLOCKLIST_URL_MAX);
}

/* The metrics token: 16 to METRICS_TOKEN_MAX printable ASCII characters, or "" to remove it.
 * false after answering 400. */
static bool metrics_token_ok(struct api_ctx *c, const char *t)
{
    size_t n = strlen(t);
    bool printable = true;
    for (const char *p = t; *p; p++)
        printable &= *p > 0x20 && *p < 0x7f;
    if (n == 0 || (n >= 16 && n <= METRICS_TOKEN_MAX && printable)) return true;
    return api_bad_request(c,
                           "'metrics_token' must be 16 to %d printable ASCII characters without "
                           "spaces, or \"\" to remove it.",
                           METRICS_TOKEN_MAX);
}

static dm_err blocklist_set(struct api_ctx *c, const char *url, struct dm_error *err)
{
    dm_err e = url[0] ? store_setting_set(c->env->store, JUDGE_BLOCKLIST_SETTING, url, err)
                      : store_setting_delete(c->env->store, JUDGE_BLOCKLIST_SETTING, err);
    return e == DM_ENOTFOUND ? DM_OK : e;
}

void api_settings_get(struct api_ctx *c)
{
    answer(c);
}

void api_settings_post(struct api_ctx *c)
{
    const char *token = NULL, *mode_s = NULL, *url = NULL, *blocklist = NULL, *mtoken = NULL;
    if (!api_only_fields(c, c->body, NULL, "bot_token", "mode", "webhook_url", "bot_rate",
                         "blocklist_url", "metrics_token", NULL) ||
        !api_field_string(c, "metrics_token", false, METRICS_TOKEN_MAX + 1, &mtoken) ||
        !api_field_string(c, "bot_token", false, 128, &token) ||
        !api_field_string(c, "mode", false, 16, &mode_s) ||
        !api_field_string(c, "webhook_url", false, 500, &url) ||
        !api_field_string(c, "blocklist_url", false, BLOCKLIST_URL_MAX + 1, &blocklist))
        return;
    struct bot_status cur;
    bot_get_status(c->env->bot, &cur);
    int mode = cur.mode;
    if (mode_s) {
        if (strcmp(mode_s, "polling") == 0)
            mode = BOT_POLLING;
        else if (strcmp(mode_s, "webhook") == 0)
            mode = BOT_WEBHOOK;
        else {
            api_bad_request(c, "'mode' must be \"polling\" or \"webhook\".");
            return;
        }
    }
    if (!url) url = cur.webhook_url;
    if (mode == BOT_WEBHOOK && strncmp(url, "https://", 8) != 0 &&
        strncmp(url, "http://", 7) != 0) {
        api_bad_request(c, "'webhook_url' must be the https:// address Telegram should call.");
        return;
    }
    double rate = 0;
    json_t *r = json_object_get(c->body, "bot_rate");
    if (r && !json_is_null(r)) {
        /* at least one decision every 100 s: a smaller rate is a stalled queue (and a pause
           longer than any clock counts) */
        if (!json_is_number(r) || json_number_value(r) < 0.01 || json_number_value(r) > 100000) {
            api_bad_request(
                c, "'bot_rate' must be a number of decisions per second from 0.01 to 100000.");
            return;
        }
        rate = json_number_value(r);
    }
    if (token && !*token) {
        api_bad_request(c, "'bot_token' is empty.");
        return;
    }
    if (blocklist && !blocklist_ok(c, blocklist)) return;
    if (mtoken && !metrics_token_ok(c, mtoken)) return;
    struct dm_error err = {0};
    dm_err e = bot_configure(c->env->bot, token, mode, url, rate, &err);
    if (!e && blocklist) e = blocklist_set(c, blocklist, &err);
    if (!e && mtoken) e = api_metrics_token_set(c->env->store, mtoken, &err);
    if (e == DM_EAUTH || e == DM_EINVAL || e == DM_ETELEGRAM) {
        api_bad_request(c, "%s", err.msg);
        return;
    }
    if (e == DM_ENETWORK || e == DM_ETIMEOUT) {
        http_res_error(c->res, 502, "unavailable", "%s", err.msg);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    struct store_audit a = {.at = time(NULL)};
    dm_strlcpy(a.admin, c->session.admin_name, sizeof a.admin);
    dm_strlcpy(a.action, "settings", sizeof a.action);
    dm_strlcpy(a.result, "ok", sizeof a.result);
    dm_snprintf_utf8(a.detail, sizeof a.detail, "%smode=%s%s%s%s",
                     token ? "bot token changed, " : "", mode_names[mode == BOT_WEBHOOK],
                     blocklist ? ", blocklist_url=" : "", blocklist ? blocklist : "",
                     !mtoken     ? ""
                     : mtoken[0] ? ", metrics token set"
                                 : ", metrics token removed");
    store_audit_add(c->env->store, &a, NULL);
    answer(c);
}
