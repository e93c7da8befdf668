/* settings.c: the bot's configuration. The token is write-only: it is never sent back. */
#include "core/common.h"
#include "api/api.h"
#include "telegram/bot.h"
#include "core/log.h"

static const char *const mode_names[] = {"polling", "webhook"};

static void answer(struct api_ctx *c)
{
    struct bot_status s;
    bot_get_status(c->env->bot, &s);
    json_t *bot =
        json_pack("{s:b,s:o,s:s,s:b,s:o,s:o}", "configured", s.configured, "id",
                  s.configured ? json_integer(s.id) : json_null(), "username", s.username,
                  "receiving", s.receiving, "last_update_at", api_time_or_null(s.last_update_at),
                  "last_error", api_text(s.last_error));
    http_res_json(c->res, 200,
                  json_pack("{s:o,s:s,s:s,s:f}", "bot", bot, "mode",
                            mode_names[s.mode == BOT_WEBHOOK], "webhook_url", s.webhook_url,
                            "bot_rate", s.rate));
}

void api_settings_get(struct api_ctx *c)
{
    answer(c);
}

void api_settings_post(struct api_ctx *c)
{
    const char *token = NULL, *mode_s = NULL, *url = NULL;
    if (!api_only_fields(c, c->body, NULL, "bot_token", "mode", "webhook_url", "bot_rate", NULL) ||
        !api_field_string(c, "bot_token", false, 128, &token) ||
        !api_field_string(c, "mode", false, 16, &mode_s) ||
        !api_field_string(c, "webhook_url", false, 500, &url))
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
    struct dm_error err = {0};
    dm_err e = bot_configure(c->env->bot, token, mode, url, rate, &err);
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
    snprintf(a.detail, sizeof a.detail, "%smode=%s", token ? "bot token changed, " : "",
             mode_names[mode == BOT_WEBHOOK]);
    store_audit_add(c->env->store, &a, NULL);
    answer(c);
}
