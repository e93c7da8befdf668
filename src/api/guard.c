/* guard.c: GET /api/guard: whether doorman's bot can answer join-request queries (Bot API 10.1)
 * and, for each channel doorman knows (its requests' and its modes'), which bot the channel
 * assigned to process its join requests: guard mode works where that is doorman's bot
 * (jobs/guard.h). Asks Telegram (getMe, a getChat a channel): a slow route. */
#include "core/common.h"
#include "api/api.h"

#include "telegram/bot.h"
#include "telegram/tg_error.h"

#define GUARD_CHANNELS_MAX 200 /* channels asked about in one answer */

/* Adds chat_id to ids[0..*n) unless there or full. */
static void add_chat(int64_t *ids, size_t *n, int64_t chat_id)
{
    if (chat_id == 0 || *n == GUARD_CHANNELS_MAX) return;
    for (size_t i = 0; i < *n; i++)
        if (ids[i] == chat_id) return;
    ids[(*n)++] = chat_id;
}

/* The channels to ask about: ?chat_id= alone, else those with requests, then those with a mode
 * of their own. false after answering. */
static bool channels_of(struct api_ctx *c, int64_t *ids, size_t *n)
{
    *n = 0;
    int64_t one = 0;
    if (!api_query_int(c, "chat_id", INT64_MIN, INT64_MAX, &one)) return false;
    if (one) {
        add_chat(ids, n, one);
        return true;
    }
    struct dm_error err = {0};
    struct store_chat *chats = NULL;
    size_t nc = 0;
    dm_err e = store_chat_list(c->env->store, &chats, &nc, &err);
    for (size_t i = 0; !e && i < nc; i++)
        add_chat(ids, n, chats[i].chat_id);
    free(chats);
    struct store_mode *modes = NULL;
    size_t nm = 0;
    if (!e) e = store_mode_list(c->env->store, &modes, &nm, &err);
    for (size_t i = 0; !e && i < nm; i++)
        add_chat(ids, n, modes[i].chat_id);
    free(modes);
    return e ? api_store_failed(c, e, &err) : true;
}

static json_t *channel_json(struct bot *b, int64_t self, int64_t chat_id)
{
    struct bot_guard g;
    struct tg_error te = {0};
    json_t *o = json_pack("{s:I}", "chat_id", (json_int_t)chat_id);
    if (!o) return NULL;
    if (bot_channel_guard(b, chat_id, &g, &te)) {
        json_object_set_new(o, "guard_bot", json_null());
        json_object_set_new(o, "is_doorman", json_false());
        json_object_set_new(o, "error", api_text(te.e.msg));
        return o;
    }
    json_object_set_new(o, "title", api_text(g.title));
    json_object_set_new(
        o, "guard_bot",
        g.id ? json_pack("{s:I,s:o}", "id", (json_int_t)g.id, "username", api_text(g.username))
             : json_null());
    json_object_set_new(o, "is_doorman", json_boolean(g.id && g.id == self));
    json_object_set_new(o, "error", json_null());
    return o;
}

void api_guard_status(struct api_ctx *c)
{
    int64_t ids[GUARD_CHANNELS_MAX];
    size_t n = 0;
    if (!channels_of(c, ids, &n)) return;
    struct bot *b = c->env->bot;
    struct bot_status st;
    bot_get_status(b, &st);
    json_t *bot = json_pack("{s:b}", "configured", st.configured);
    json_t *channels = json_array();
    if (st.configured) {
        bool supports = false;
        struct tg_error te = {0};
        bool asked = bot_query_support(b, &supports, &te) == DM_OK;
        json_object_set_new(bot, "id", st.id ? json_integer(st.id) : json_null());
        json_object_set_new(bot, "username", api_text(st.username));
        json_object_set_new(bot, "supports_join_request_queries", json_boolean(supports));
        json_object_set_new(bot, "error", asked ? json_null() : api_text(te.e.msg));
        for (size_t i = 0; asked && i < n; i++)
            json_array_append_new(channels, channel_json(b, st.id, ids[i]));
    }
    http_res_json(c->res, 200, json_pack("{s:o,s:o}", "bot", bot, "channels", channels));
}
