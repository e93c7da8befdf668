/* bot_account.c: the bot as an account (account.h): it decides with approveChatJoinRequest /
 * declineChatJoinRequest, bans with banChatMember / unbanChatMember (only_if_banned), reads a
 * user's photos with getUserProfilePhotos, its role with getChatMember of itself and checks
 * itself with getMe, each call through the bot's current client (telegram/bot.h), so a new token is
 * used from the next call on. It can neither list a channel's pending requests nor decide a whole
 * channel: the Bot API has no such methods. */
#include "core/common.h"

#include "botapi/client.h"
#include "telegram/account_backend.h"
#include "telegram/bot.h"

#define CALL_TIMEOUT_MS 30000
#define NO_TOKEN "No bot token configured: set it in Settings"

/* The bot's client (a reference to give back with bot_client_release), or NULL without a
 * token. */
static struct botapi_client *client(struct account *a)
{
    return a->as->bot ? bot_client_acquire(a->as->bot) : NULL;
}

/* One call (takes params): the outcome is classified into *te, and on DM_OK *rep holds the
 * reply for the caller to release. */
static dm_err call(struct account *a, const char *method, json_t *params, struct botapi_reply *rep,
                   struct tg_error *te)
{
    memset(rep, 0, sizeof *rep);
    struct botapi_client *c = client(a);
    if (!c) {
        json_decref(params);
        dm_err e = tg_error_set(te, TG_DEAD, 0);
        tg_error_say(te, NO_TOKEN);
        return e;
    }
    struct dm_error err = {0};
    dm_err e = params ? botapi_call(c, method, params, CALL_TIMEOUT_MS, rep, &err)
                      : dm_fail(&err, DM_ENOMEM, "out of memory");
    json_decref(params);
    bot_client_release(a->as->bot, c);
    e = tg_error_botapi(te, e, rep, &err);
    if (e) botapi_reply_release(rep);
    return e;
}

static dm_err bot_usable(struct account *a, struct dm_error *err)
{
    struct bot_status st = {0};
    if (a->as->bot) bot_get_status(a->as->bot, &st);
    return st.configured ? DM_OK : dm_fail(err, DM_EUNAVAILABLE, NO_TOKEN);
}

static void bot_check(struct account *a, struct account_check *out)
{
    struct botapi_client *c = client(a);
    if (!c) {
        dm_strlcpy(out->status, "not_configured", sizeof out->status);
        dm_strlcpy(out->error, NO_TOKEN, sizeof out->error);
        return;
    }
    struct botapi_reply rep;
    struct dm_error err = {0};
    dm_err e = botapi_call(c, "getMe", NULL, CALL_TIMEOUT_MS, &rep, &err);
    bot_client_release(a->as->bot, c);
    out->ok = !e && rep.ok;
    dm_strlcpy(out->status, out->ok ? "ok" : "error", sizeof out->status);
    if (e)
        dm_snprintf_utf8(out->error, sizeof out->error, "Telegram could not be reached: %.200s",
                         err.msg);
    else if (!rep.ok)
        dm_snprintf_utf8(out->error, sizeof out->error, "Telegram rejected the bot token: %.200s",
                         rep.description);
    botapi_reply_release(&rep);
}

static double bot_rate(struct account *a)
{
    struct bot_status st = {.rate = 1};
    if (a->as->bot) bot_get_status(a->as->bot, &st);
    return st.rate;
}

/* The bot needs nothing but the id; the title and username are what the chats table knows. */
static dm_err bot_channel(struct account *a, int64_t chat_id, struct account_channel *out,
                          struct tg_error *te)
{
    struct store_chat chat = {0};
    out->chat_id = chat_id;
    if (store_chat_get(a->as->store, chat_id, &chat, NULL) == DM_OK) {
        dm_strlcpy(out->title, chat.title, sizeof out->title);
        dm_strlcpy(out->username, chat.username, sizeof out->username);
    }
    return tg_error_set(te, TG_OK, 0);
}

static dm_err bot_role(struct account *a, const struct account_channel *ch, enum account_role *out,
                       struct tg_error *te)
{
    struct bot_status st = {0};
    if (a->as->bot) bot_get_status(a->as->bot, &st);
    struct botapi_reply rep;
    dm_err e = call(
        a, "getChatMember",
        json_pack("{s:I,s:I}", "chat_id", (json_int_t)ch->chat_id, "user_id", (json_int_t)st.id),
        &rep, te);
    if (e) {
        tg_error_say(te, "Telegram %s: %.200s",
                     te->kind == TG_UNREACHABLE ? "could not be reached" : "answered", te->e.msg);
        return e;
    }
    const char *status = json_string_value(json_object_get(rep.result, "status"));
    bool admin = status && strcmp(status, "administrator") == 0;
    if ((status && strcmp(status, "creator") == 0) ||
        (admin && json_is_true(json_object_get(rep.result, "can_invite_users"))))
        *out = ACCOUNT_CAN_INVITE;
    else if (admin)
        *out = ACCOUNT_ADMIN_NO_INVITE;
    botapi_reply_release(&rep);
    return DM_OK;
}

static void bot_decide(struct account *a, bool approve, const struct account_request *r,
                       struct tg_error *te)
{
    struct botapi_reply rep;
    if (!call(a, approve ? "approveChatJoinRequest" : "declineChatJoinRequest",
              json_pack("{s:I, s:I}", "chat_id", (json_int_t)r->chat_id, "user_id",
                        (json_int_t)r->user_id),
              &rep, te))
        botapi_reply_release(&rep);
}

/* A ChatInviteLink as a store_link of the channel. */
static void link_from(const json_t *in, int64_t chat_id, struct store_link *out)
{
    out->chat_id = chat_id;
    const char *link = json_string_value(json_object_get(in, "invite_link"));
    const char *name = json_string_value(json_object_get(in, "name"));
    dm_utf8_copy(out->link, sizeof out->link, link ? link : "");
    dm_utf8_copy(out->name, sizeof out->name, name ? name : "");
    out->creator_id = json_integer_value(json_object_get(json_object_get(in, "creator"), "id"));
    out->expire_date = json_integer_value(json_object_get(in, "expire_date"));
    out->member_limit = json_integer_value(json_object_get(in, "member_limit"));
    out->creates_join_request = json_is_true(json_object_get(in, "creates_join_request"));
    out->revoked = json_is_true(json_object_get(in, "is_revoked"));
    out->pending = json_integer_value(json_object_get(in, "pending_join_request_count"));
    out->known = true;
}

static dm_err bot_link_write(struct account *a, const struct account_channel *ch,
                             enum account_link_op op, const char *link,
                             const struct account_link_spec *spec, struct store_link *out,
                             struct tg_error *te)
{
    static const char *const methods[] = {[ACCOUNT_LINK_CREATE] = "createChatInviteLink",
                                          [ACCOUNT_LINK_EDIT] = "editChatInviteLink",
                                          [ACCOUNT_LINK_REVOKE] = "revokeChatInviteLink"};
    json_t *p = json_pack("{s:I}", "chat_id", (json_int_t)ch->chat_id);
    if (p && op != ACCOUNT_LINK_CREATE) json_object_set_new(p, "invite_link", json_string(link));
    if (p && op != ACCOUNT_LINK_REVOKE) {
        if (spec->name && *spec->name) json_object_set_new(p, "name", json_string(spec->name));
        if (spec->expire_date)
            json_object_set_new(p, "expire_date", json_integer(spec->expire_date));
        if (spec->member_limit)
            json_object_set_new(p, "member_limit", json_integer(spec->member_limit));
        json_object_set_new(p, "creates_join_request", json_boolean(spec->creates_join_request));
    }
    struct botapi_reply rep;
    dm_err e = call(a, methods[op], p, &rep, te);
    if (e) return e;
    link_from(rep.result, ch->chat_id, out);
    out->created_at = op == ACCOUNT_LINK_CREATE ? (int64_t)time(NULL) : 0;
    botapi_reply_release(&rep);
    return DM_OK;
}

static dm_err bot_ban(struct account *a, const struct account_request *r, bool ban,
                      struct tg_error *te)
{
    struct botapi_reply rep;
    json_t *params = json_pack("{s:I,s:I}", "chat_id", (json_int_t)r->chat_id, "user_id",
                               (json_int_t)r->user_id);
    if (params && !ban) json_object_set_new(params, "only_if_banned", json_true());
    dm_err e = call(a, ban ? "banChatMember" : "unbanChatMember", params, &rep, te);
    if (!e) {
        botapi_reply_release(&rep);
    } else if (te->kind == TG_NO_RIGHT) {
        struct account_channel ch = {0};
        bot_channel(a, r->chat_id, &ch, NULL);
        account_no_ban_right(ch.title, te);
    }
    return e;
}

static dm_err bot_has_photo(struct account *a, const struct account_request *r, bool *out,
                            struct tg_error *te)
{
    struct botapi_reply rep;
    dm_err e =
        call(a, "getUserProfilePhotos",
             json_pack("{s:I,s:i}", "user_id", (json_int_t)r->user_id, "limit", 1), &rep, te);
    if (e) return e;
    json_t *total = json_object_get(rep.result, "total_count");
    if (!json_is_integer(total))
        e = tg_error_local(te, DM_EPROTO,
                           "Telegram's answer to getUserProfilePhotos has no total_count");
    else
        *out = json_integer_value(total) > 0;
    botapi_reply_release(&rep);
    return e;
}

static void bot_close(struct account *a)
{
    free(a);
}

static const struct account_ops bot_ops = {
    .usable = bot_usable,
    .check = bot_check,
    .rate = bot_rate,
    .channel = bot_channel,
    .role = bot_role,
    .decide = bot_decide,
    .link_write = bot_link_write,
    .ban = bot_ban,
    .has_photo = bot_has_photo,
    .close = bot_close,
};

dm_err bot_account_open(const struct accounts *as, struct account **out)
{
    (void)as;
    struct account *a = calloc(1, sizeof *a);
    if (!a) return DM_ENOMEM;
    a->ops = &bot_ops;
    *out = a;
    return DM_OK;
}
