#include "core/common.h"
#include "sim/botapi.h"

#include "sim/invites.h"
#include "sim/webhook.h"

#include <pthread.h>

#define MAX_POLL_TIMEOUT_S 60

/* --- parameters -------------------------------------------------------------------------- */

struct params {
    json_t *obj; /* owned: the body's fields; query values are added on first lookup */
    const struct http_request *req;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes a form-urlencoded piece in place; returns its new length. */
static size_t form_unescape(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            s[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            s[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    return o;
}

static void form_parse(json_t *obj, const char *body, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) return;
    memcpy(copy, body, len);
    copy[len] = 0;
    char *p = copy, *end = copy + len;
    while (p < end) {
        char *amp = memchr(p, '&', (size_t)(end - p));
        char *stop = amp ? amp : end;
        char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq) {
            size_t kn = form_unescape(p, (size_t)(eq - p));
            size_t vn = form_unescape(eq + 1, (size_t)(stop - eq - 1));
            json_t *v = json_stringn(eq + 1, vn);
            char key[128];
            if (v && kn < sizeof key) {
                memcpy(key, p, kn);
                key[kn] = 0;
                json_object_set_new(obj, key, v);
            } else {
                json_decref(v);
            }
        }
        p = stop + 1;
    }
    free(copy);
}

static bool starts_with_ci(const char *s, const char *prefix)
{
    return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Fills p from the request; false (with a description in msg) when a JSON body is broken. */
static bool params_init(struct params *p, const struct http_request *req, char *msg, size_t n)
{
    p->req = req;
    p->obj = NULL;
    const char *ct = http_header(req, "Content-Type");
    if (req->body_len > 0 && starts_with_ci(ct, "application/json")) {
        json_error_t je;
        p->obj = json_loadb(req->body, req->body_len, 0, &je);
        if (!json_is_object(p->obj)) {
            json_decref(p->obj);
            p->obj = NULL;
            snprintf(msg, n, "Bad Request: can't parse JSON object");
            return false;
        }
        return true;
    }
    p->obj = json_object();
    if (!p->obj) {
        snprintf(msg, n, "Internal Server Error");
        return false;
    }
    if (req->body_len > 0 && starts_with_ci(ct, "application/x-www-form-urlencoded"))
        form_parse(p->obj, req->body, req->body_len);
    return true;
}

static json_t *param(struct params *p, const char *name)
{
    json_t *v = json_object_get(p->obj, name);
    if (v) return v;
    const char *q = http_query(p->req, name);
    if (!q) return NULL;
    v = json_string(q);
    if (!v) return NULL;
    json_object_set_new(p->obj, name, v);
    return v;
}

enum { P_ABSENT, P_OK, P_BAD };

static bool parse_int64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return false;
    *out = v;
    return true;
}

static int param_int(struct params *p, const char *name, int64_t *out)
{
    json_t *v = param(p, name);
    if (!v || json_is_null(v)) return P_ABSENT;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return P_OK;
    }
    if (json_is_string(v)) {
        if (json_string_length(v) == 0) return P_ABSENT;
        return parse_int64(json_string_value(v), out) ? P_OK : P_BAD;
    }
    return P_BAD;
}

static const char *param_str(struct params *p, const char *name)
{
    json_t *v = param(p, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool param_bool(struct params *p, const char *name)
{
    json_t *v = param(p, name);
    if (json_is_boolean(v)) return json_is_true(v);
    const char *s = json_string_value(v);
    return s && (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0);
}

/* A JSON array given as such or as a string holding JSON; new reference or NULL. */
static json_t *param_array(struct params *p, const char *name)
{
    json_t *v = param(p, name);
    if (json_is_array(v)) return json_incref(v);
    if (!json_is_string(v)) return NULL;
    json_t *a = json_loads(json_string_value(v), 0, NULL);
    if (json_is_array(a)) return a;
    json_decref(a);
    return NULL;
}

/* --- answers ----------------------------------------------------------------------------- */

static void reply_ok(struct http_response *res, json_t *result, const char *description)
{
    json_t *j = json_pack("{s:b,s:o}", "ok", 1, "result", result ? result : json_true());
    if (j && description) json_object_set_new(j, "description", json_string(description));
    http_res_json(res, 200, j);
}

static void reply_error(struct http_response *res, int code, const char *description,
                        int retry_after)
{
    json_t *j = json_pack("{s:b,s:i,s:s}", "ok", 0, "error_code", code, "description", description);
    if (j && retry_after > 0)
        json_object_set_new(j, "parameters", json_pack("{s:i}", "retry_after", retry_after));
    http_res_json(res, code, j);
}

static void reply_bad(struct http_response *res, const char *what)
{
    char d[256];
    snprintf(d, sizeof d, "Bad Request: %s", what);
    reply_error(res, 400, d, 0);
}

void botapi_not_found(struct http_response *res)
{
    reply_error(res, 404, "Not Found", 0);
}

/* --- objects ----------------------------------------------------------------------------- */

static void set_opt_str(json_t *o, const char *key, const char *v)
{
    if (v) json_object_set_new(o, key, json_string(v));
}

static json_t *user_json(const struct sim_user *u)
{
    json_t *o = json_pack("{s:I,s:b,s:s}", "id", (json_int_t)u->id, "is_bot", u->is_bot,
                          "first_name", u->first_name);
    if (!o) return NULL;
    set_opt_str(o, "last_name", u->last_name);
    set_opt_str(o, "username", u->username);
    /* as Telegram: is_premium only when true */
    if (u->is_premium) json_object_set_new(o, "is_premium", json_true());
    set_opt_str(o, "language_code", u->language_code);
    return o;
}

static json_t *channel_json(const struct sim_channel *ch)
{
    json_t *o = json_pack("{s:I,s:s}", "id", (json_int_t)ch->id, "title", ch->title);
    if (!o) return NULL;
    set_opt_str(o, "username", ch->username);
    json_object_set_new(o, "type", json_string("channel"));
    return o;
}

static json_t *private_chat_json(const struct sim_user *u)
{
    json_t *o = json_pack("{s:I,s:s}", "id", (json_int_t)u->id, "first_name", u->first_name);
    if (!o) return NULL;
    set_opt_str(o, "last_name", u->last_name);
    set_opt_str(o, "username", u->username);
    json_object_set_new(o, "type", json_string("private"));
    return o;
}

/* A ChatInviteLink: the link as the world keeps it, with pending_join_request_count. */
static json_t *invite_json(struct world *w, const struct sim_channel *ch,
                           const struct sim_invite *l)
{
    struct sim_user *creator = world_user(w, l->creator_id);
    size_t pending, approved;
    world_invite_counts(w, ch, l->link, &pending, &approved);
    json_t *o = json_pack("{s:s,s:b,s:b,s:b}", "invite_link", l->link, "creates_join_request",
                          l->creates_join_request, "is_primary", 0, "is_revoked", l->revoked);
    if (!o) return NULL;
    if (creator) json_object_set_new(o, "creator", user_json(creator));
    set_opt_str(o, "name", l->name);
    if (l->expire_date) json_object_set_new(o, "expire_date", json_integer(l->expire_date));
    if (l->member_limit) json_object_set_new(o, "member_limit", json_integer(l->member_limit));
    if (l->creates_join_request)
        json_object_set_new(o, "pending_join_request_count", json_integer((json_int_t)pending));
    return o;
}

/* A link the world does not know (a test made it up): the channel's first admin stands in for
 * its creator. */
static json_t *unknown_invite_json(struct world *w, const struct sim_channel *ch,
                                   const struct sim_join_request *jr)
{
    struct sim_user *creator = ch->nadmins ? world_user(w, ch->admins[0].id) : NULL;
    json_t *l = json_pack("{s:s,s:b,s:b,s:b}", "invite_link", jr->invite_link,
                          "creates_join_request", 1, "is_primary", 0, "is_revoked", 0);
    if (l && creator) json_object_set_new(l, "creator", user_json(creator));
    return l;
}

static json_t *join_request_json(struct world *w, const struct sim_join_request *jr, bool query)
{
    struct sim_channel *ch = world_channel(w, jr->chat_id);
    struct sim_user *u = world_user(w, jr->user_id);
    if (!ch || !u) return NULL;
    json_t *o = json_pack("{s:o,s:o,s:I,s:I}", "chat", channel_json(ch), "from", user_json(u),
                          "user_chat_id", (json_int_t)u->id, "date", (json_int_t)jr->date);
    if (!o) return NULL;
    set_opt_str(o, "bio", u->bio);
    if (jr->invite_link) {
        struct sim_invite *known = world_invite(ch, jr->invite_link);
        json_object_set_new(o, "invite_link",
                            known ? invite_json(w, ch, known) : unknown_invite_json(w, ch, jr));
    }
    if (query && jr->query_id) { /* a string, as the Bot API gives query ids */
        char id[24];
        snprintf(id, sizeof id, "%" PRIu64, jr->query_id);
        json_object_set_new(o, "query_id", json_string(id));
    }
    return o;
}

/* A private message of the bot's or the user's (payload: message_id, date, text, reply_markup?)
 * as Telegram shows it, from `from`, in the user's private chat. */
static json_t *private_message_json(const json_t *payload, const struct sim_user *from,
                                    const struct sim_user *u)
{
    json_t *m =
        json_pack("{s:O,s:o,s:o,s:O,s:O}", "message_id", json_object_get(payload, "message_id"),
                  "from", user_json(from), "chat", private_chat_json(u), "date",
                  json_object_get(payload, "date"), "text", json_object_get(payload, "text"));
    json_t *markup = json_object_get(payload, "reply_markup");
    if (m && markup) json_object_set(m, "reply_markup", markup);
    return m;
}

json_t *botapi_update_json(struct world *w, const struct sim_update *u)
{
    const struct sim_user *user =
        u->payload ? world_user(w, json_integer_value(json_object_get(u->payload, "user_id")))
                   : NULL;
    switch ((enum upd_kind)u->kind) {
    case UPD_CHAT_JOIN_REQUEST:
        if (u->ref >= w->njrs) return NULL;
        return json_pack("{s:I,s:o}", "update_id", (json_int_t)u->id, "chat_join_request",
                         join_request_json(w, &w->jrs[u->ref], u->query));
    case UPD_CALLBACK_QUERY: {
        int64_t bot_id = json_integer_value(json_object_get(u->payload, "bot_id"));
        const struct sim_user *bot_user = user ? world_user(w, bot_id) : NULL;
        if (!bot_user) return NULL;
        char instance[24]; /* the same for every press in one chat, as Telegram's */
        snprintf(instance, sizeof instance, "%" PRId64, user->id ^ bot_id);
        return json_pack(
            "{s:I,s:{s:O,s:o,s:o,s:s,s:O}}", "update_id", (json_int_t)u->id, "callback_query", "id",
            json_object_get(u->payload, "id"), "from", user_json(user), "message",
            private_message_json(json_object_get(u->payload, "message"), bot_user, user),
            "chat_instance", instance, "data", json_object_get(u->payload, "data"));
    }
    case UPD_MESSAGE:
        if (!user) return NULL;
        return json_pack("{s:I,s:o}", "update_id", (json_int_t)u->id, "message",
                         private_message_json(u->payload, user, user));
    case UPD_KIND_COUNT:
        break;
    }
    return NULL;
}

/* --- methods ----------------------------------------------------------------------------- */

struct call {
    struct world *w;
    struct sim_bot *bot;
    struct params *p;
    struct http_response *res;
};

/* Resolves chat_id to a channel or (for private chats) a user; answers and returns false when
 * it names nothing. */
static bool resolve_chat(struct call *c, struct sim_channel **ch, struct sim_user **user)
{
    *ch = NULL;
    *user = NULL;
    int64_t id;
    const char *s = param_str(c->p, "chat_id");
    if (s && s[0] == '@') {
        *ch = world_channel_by_username(c->w, s + 1);
    } else {
        int r = param_int(c->p, "chat_id", &id);
        if (r == P_ABSENT) {
            reply_bad(c->res, "chat_id is empty");
            return false;
        }
        if (r == P_OK) {
            *ch = world_channel(c->w, id);
            if (!*ch && id > 0) *user = world_user(c->w, id);
        }
    }
    if (!*ch && !*user) {
        reply_bad(c->res, "chat not found");
        return false;
    }
    return true;
}

/* Resolves chat_id to a channel and reads user_id (the methods about one user in a channel);
 * answers and returns false when either is missing or wrong. */
static bool resolve_channel_user(struct call *c, struct sim_channel **ch, int64_t *user_id)
{
    struct sim_user *u;
    if (!resolve_chat(c, ch, &u)) return false;
    if (!*ch) {
        reply_bad(c->res, "chat not found");
        return false;
    }
    int r = param_int(c->p, "user_id", user_id);
    if (r != P_OK) {
        reply_bad(c->res, r == P_ABSENT ? "user_id is empty" : "invalid user_id specified");
        return false;
    }
    return true;
}

static void m_get_me(struct call *c)
{
    struct sim_user *u = world_user(c->w, c->bot->id);
    json_t *o = user_json(u);
    if (o)
        json_object_update_new(o, json_pack("{s:b,s:b,s:b,s:b,s:b}", "can_join_groups", 1,
                                            "can_read_all_group_messages", 0,
                                            "supports_inline_queries", 0, "can_connect_to_business",
                                            0, "has_main_web_app", 0));
    if (o)
        json_object_set_new(o, "supports_join_request_queries",
                            json_boolean(c->bot->supports_join_request_queries));
    reply_ok(c->res, o, NULL);
}

static void m_get_chat(struct call *c)
{
    struct sim_channel *ch;
    struct sim_user *u;
    if (!resolve_chat(c, &ch, &u)) return;
    json_t *o = ch ? channel_json(ch) : private_chat_json(u);
    if (o && u) set_opt_str(o, "bio", u->bio);
    if (o) json_object_set_new(o, "accent_color_id", json_integer(0));
    if (o) json_object_set_new(o, "max_reaction_count", json_integer(11));
    /* ChatFullInfo.guard_bot: "only available to chat administrators" */
    struct sim_user *guard = ch && ch->guard_bot ? world_user(c->w, ch->guard_bot) : NULL;
    if (o && guard && world_channel_admin(ch, c->bot->id))
        json_object_set_new(o, "guard_bot", user_json(guard));
    reply_ok(c->res, o, NULL);
}

/* A ChatMember as the Bot API shapes it: ChatMemberAdministrator with every right flag (the
 * world keeps can_invite_users and can_restrict_members; the others are those of a channel
 * admin that posts), ChatMemberBanned ("kicked", with until_date, 0 for ever), ChatMemberMember
 * or ChatMemberLeft. The world has no owner: its admins are administrators. */
static void m_get_chat_member(struct call *c)
{
    struct sim_channel *ch;
    int64_t user_id;
    if (!resolve_channel_user(c, &ch, &user_id)) return;
    struct sim_user *member = world_user(c->w, user_id);
    if (!member) {
        reply_bad(c->res, "user not found");
        return;
    }
    const struct sim_admin *a = world_channel_admin(ch, user_id);
    json_t *o;
    if (a) {
        o = json_pack("{s:s,s:o,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b}",
                      "status", "administrator", "user", user_json(member), "can_be_edited", 0,
                      "is_anonymous", 0, "can_manage_chat", 1, "can_delete_messages", 1,
                      "can_manage_video_chats", 1, "can_restrict_members", a->can_restrict_members,
                      "can_promote_members", 0, "can_change_info", 1, "can_invite_users",
                      a->can_invite_users, "can_post_stories", 1, "can_edit_stories", 1,
                      "can_delete_stories", 1, "can_post_messages", 1, "can_edit_messages", 1,
                      "can_pin_messages", 0);
    } else if (world_is_banned(c->w, ch, user_id)) {
        o = json_pack("{s:s,s:o,s:I}", "status", "kicked", "user", user_json(member), "until_date",
                      (json_int_t)world_ban_record(c->w, ch, user_id)->until_date);
    } else {
        o = json_pack("{s:s,s:o}", "status", world_is_member(ch, user_id) ? "member" : "left",
                      "user", user_json(member));
    }
    reply_ok(c->res, o, NULL);
}

/* banChatMember (chat_id, user_id, until_date, revoke_messages) and unbanChatMember (chat_id,
 * user_id, only_if_banned): world_ban / world_unban, with the errors of the real server
 * ("Bad Request: not enough rights to restrict/unrestrict chat member", "Bad Request: user is an
 * administrator of the chat", "Bad Request: user not found"). */
static void m_ban(struct call *c)
{
    struct sim_channel *ch;
    int64_t user_id, until = 0;
    if (!resolve_channel_user(c, &ch, &user_id)) return;
    if (param_int(c->p, "until_date", &until) == P_BAD) {
        reply_bad(c->res, "invalid until_date specified");
        return;
    }
    sim_err e =
        world_ban(c->w, ch->id, user_id, until, param_bool(c->p, "revoke_messages"), c->bot->id);
    if (e != SIM_OK)
        reply_bad(c->res, sim_err_botapi(e));
    else
        reply_ok(c->res, NULL, NULL);
}

static void m_unban(struct call *c)
{
    struct sim_channel *ch;
    int64_t user_id;
    if (!resolve_channel_user(c, &ch, &user_id)) return;
    sim_err e = world_unban(c->w, ch->id, user_id, param_bool(c->p, "only_if_banned"), c->bot->id);
    if (e != SIM_OK)
        reply_bad(c->res, sim_err_botapi(e));
    else
        reply_ok(c->res, NULL, NULL);
}

/* The sizes of a user's one profile photo: PhotoSize objects, smallest first. */
static json_t *profile_photo_json(const struct sim_user *u)
{
    static const int sides[] = {160, 320, 640};
    json_t *sizes = json_array();
    for (size_t i = 0; sizes && i < DM_ARRAY_LEN(sides); i++) {
        char id[64], uid[32];
        snprintf(id, sizeof id, "AgACAgIAAxUAAW%" PRId64 "x%d", u->id, sides[i]);
        snprintf(uid, sizeof uid, "AQAD%" PRId64 "x%d", u->id, sides[i]);
        json_array_append_new(sizes, json_pack("{s:s,s:s,s:i,s:i,s:i}", "file_id", id,
                                               "file_unique_id", uid, "width", sides[i], "height",
                                               sides[i], "file_size", sides[i] * sides[i] / 10));
    }
    return sizes;
}

/* getUserProfilePhotos (user_id, offset, limit 1..100, default 100): UserProfilePhotos. */
static void m_get_profile_photos(struct call *c)
{
    int64_t user_id, offset = 0, limit = 100;
    int r = param_int(c->p, "user_id", &user_id);
    if (r != P_OK) {
        reply_bad(c->res, r == P_ABSENT ? "user_id is empty" : "invalid user_id specified");
        return;
    }
    if (param_int(c->p, "offset", &offset) == P_BAD || offset < 0) {
        reply_bad(c->res, "invalid offset specified");
        return;
    }
    if (param_int(c->p, "limit", &limit) == P_BAD) {
        reply_bad(c->res, "invalid limit specified");
        return;
    }
    limit = DM_MAX(1, DM_MIN(100, limit));
    const struct sim_user *u = world_user(c->w, user_id);
    if (!u) {
        reply_bad(c->res, "user not found");
        return;
    }
    int64_t total = u->has_photo ? 1 : 0;
    json_t *photos = json_array();
    for (int64_t i = offset; photos && i < total && i - offset < limit; i++)
        json_array_append_new(photos, profile_photo_json(u));
    reply_ok(c->res, json_pack("{s:I,s:o}", "total_count", (json_int_t)total, "photos", photos),
             NULL);
}

static void reply_updates(struct call *c, int64_t limit)
{
    json_t *arr = json_array();
    struct sim_bot *b = c->bot;
    for (size_t i = b->qhead; i < b->qend && (int64_t)json_array_size(arr) < limit; i++)
        json_array_append_new(arr, botapi_update_json(c->w, &b->q[i]));
    reply_ok(c->res, arr, NULL);
}

static void webhook_conflict(struct call *c)
{
    reply_error(c->res, 409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                "to delete the webhook first",
                0);
}

static void m_get_updates(struct call *c)
{
    struct sim_bot *b = c->bot;
    if (b->webhook_url) {
        webhook_conflict(c);
        return;
    }
    int64_t offset = 0, limit = 100, timeout = 0;
    param_int(c->p, "offset", &offset);
    param_int(c->p, "limit", &limit);
    param_int(c->p, "timeout", &timeout);
    limit = DM_MAX(1, DM_MIN(100, limit));
    timeout = DM_MAX(0, DM_MIN(MAX_POLL_TIMEOUT_S, timeout));
    json_t *allowed = param_array(c->p, "allowed_updates");
    if (allowed) world_bot_set_allowed(b, allowed);
    json_decref(allowed);

    uint64_t gen = ++b->poll_gen;
    pthread_cond_broadcast(&b->cond); /* an older waiting poll loses */
    world_bot_confirm(b, offset);

    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)timeout;
    for (;;) {
        if (c->w->stopping || world_bot_pending(b) > 0) {
            reply_updates(c, limit);
            return;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > deadline.tv_sec ||
            (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
            reply_updates(c, limit);
            return;
        }
        world_bot_wait(c->w, b, &deadline);
        if (c->w->stopping) continue;
        if (b->poll_gen != gen) {
            reply_error(c->res, 409,
                        "Conflict: terminated by other getUpdates request; make sure that only one "
                        "bot instance is running",
                        0);
            return;
        }
        if (b->webhook_url) {
            webhook_conflict(c);
            return;
        }
    }
}

static void m_set_webhook(struct call *c)
{
    struct sim_bot *b = c->bot;
    const char *url = param_str(c->p, "url");
    if (!url || !*url) {
        bool had = b->webhook_url != NULL;
        free(b->webhook_url);
        b->webhook_url = NULL;
        pthread_cond_broadcast(&b->cond);
        reply_ok(c->res, NULL, had ? "Webhook was deleted" : "Webhook is already deleted");
        return;
    }
    char msg[256];
    if (!webhook_check_url(url, msg, sizeof msg)) {
        reply_error(c->res, 400, msg, 0);
        return;
    }
    const char *secret = param_str(c->p, "secret_token");
    if (secret && *secret) {
        size_t n = strlen(secret);
        bool good = n <= 256;
        for (size_t i = 0; good && i < n; i++)
            good = secret[i] == '_' || secret[i] == '-' || (secret[i] >= '0' && secret[i] <= '9') ||
                   (secret[i] >= 'a' && secret[i] <= 'z') || (secret[i] >= 'A' && secret[i] <= 'Z');
        if (!good) {
            reply_bad(c->res, "secret token contains unallowed characters");
            return;
        }
    } else {
        secret = NULL;
    }
    char *nurl = strdup(url);
    char *nsecret = secret ? strdup(secret) : NULL;
    if (!nurl || (secret && !nsecret) || webhook_start(c->w, b) != DM_OK) {
        free(nurl);
        free(nsecret);
        reply_error(c->res, 500, "Internal Server Error", 0);
        return;
    }
    bool same = b->webhook_url && strcmp(b->webhook_url, url) == 0;
    free(b->webhook_url);
    free(b->webhook_secret);
    b->webhook_url = nurl;
    b->webhook_secret = nsecret;
    b->hook_last_error_date = 0;
    b->hook_last_error[0] = 0;
    json_t *allowed = param_array(c->p, "allowed_updates");
    if (allowed) world_bot_set_allowed(b, allowed);
    json_decref(allowed);
    if (param_bool(c->p, "drop_pending_updates")) world_bot_drop_pending(b);
    pthread_cond_broadcast(&b->cond);
    reply_ok(c->res, NULL, same ? "Webhook is already set" : "Webhook was set");
}

static void m_delete_webhook(struct call *c)
{
    struct sim_bot *b = c->bot;
    bool had = b->webhook_url != NULL;
    free(b->webhook_url);
    free(b->webhook_secret);
    b->webhook_url = NULL;
    b->webhook_secret = NULL;
    if (param_bool(c->p, "drop_pending_updates")) world_bot_drop_pending(b);
    pthread_cond_broadcast(&b->cond);
    reply_ok(c->res, NULL, had ? "Webhook was deleted" : "Webhook is already deleted");
}

static void m_get_webhook_info(struct call *c)
{
    struct sim_bot *b = c->bot;
    json_t *o = json_pack("{s:s,s:b,s:I}", "url", b->webhook_url ? b->webhook_url : "",
                          "has_custom_certificate", 0, "pending_update_count",
                          (json_int_t)world_bot_pending(b));
    if (o && b->webhook_url) {
        json_object_set_new(o, "ip_address", json_string("127.0.0.1"));
        json_object_set_new(o, "max_connections", json_integer(40));
        if (b->hook_last_error_date) {
            json_object_set_new(o, "last_error_date", json_integer(b->hook_last_error_date));
            json_object_set_new(o, "last_error_message", json_string(b->hook_last_error));
        }
        if (b->allowed_updates) json_object_set(o, "allowed_updates", b->allowed_updates);
    }
    reply_ok(c->res, o, NULL);
}

static void decide(struct call *c, bool approve)
{
    struct sim_channel *ch;
    int64_t user_id;
    if (!resolve_channel_user(c, &ch, &user_id)) return;
    sim_err e = world_jr_decide(c->w, ch->id, user_id, approve, c->bot->id);
    if (e != SIM_OK)
        reply_bad(c->res, sim_err_botapi(e));
    else
        reply_ok(c->res, NULL, NULL);
}

static void m_approve(struct call *c)
{
    decide(c, true);
}

static void m_decline(struct call *c)
{
    decide(c, false);
}

/* createChatInviteLink and editChatInviteLink: name, expire_date, member_limit,
 * creates_join_request as the Bot API documents them, checked by the world (sim/invites.h). */
static bool invite_spec(struct call *c, struct sim_invite_spec *s)
{
    *s = (struct sim_invite_spec){.name = param_str(c->p, "name"),
                                  .creates_join_request = param_bool(c->p, "creates_join_request")};
    if (param_int(c->p, "expire_date", &s->expire_date) == P_BAD) {
        reply_bad(c->res, "invalid expire_date specified");
        return false;
    }
    if (param_int(c->p, "member_limit", &s->member_limit) == P_BAD) {
        reply_bad(c->res, "invalid member_limit specified");
        return false;
    }
    return true;
}

static void reply_invite(struct call *c, struct sim_channel *ch, sim_err e,
                         const struct sim_invite *l, const struct dm_error *err)
{
    char why[200];
    if (e == SIM_LINK_BAD) {
        dm_snprintf_utf8(why, sizeof why, "%s", err->msg);
        reply_bad(c->res, why);
    } else if (e != SIM_OK)
        reply_bad(c->res, sim_err_botapi(e));
    else
        reply_ok(c->res, invite_json(c->w, ch, l), NULL);
}

/* The channel of a link method (chat_id) and, for edit and revoke, its invite_link. */
static bool invite_target(struct call *c, bool named, struct sim_channel **ch, const char **link)
{
    struct sim_user *u;
    if (!resolve_chat(c, ch, &u)) return false;
    if (!*ch) {
        reply_bad(c->res, "chat not found");
        return false;
    }
    *link = param_str(c->p, "invite_link");
    if (named && (!*link || !**link)) {
        reply_bad(c->res, "invite_link is empty");
        return false;
    }
    return true;
}

static void m_create_invite(struct call *c)
{
    struct sim_channel *ch;
    const char *link;
    struct sim_invite_spec s;
    if (!invite_target(c, false, &ch, &link) || !invite_spec(c, &s)) return;
    struct sim_invite *l = NULL;
    struct dm_error err = {0};
    sim_err e = world_invite_create(c->w, ch, c->bot->id, &s, &l, &err);
    reply_invite(c, ch, e, l, &err);
}

static void m_edit_invite(struct call *c)
{
    struct sim_channel *ch;
    const char *link;
    struct sim_invite_spec s;
    if (!invite_target(c, true, &ch, &link) || !invite_spec(c, &s)) return;
    struct sim_invite *l = NULL;
    struct dm_error err = {0};
    sim_err e = world_invite_edit(ch, c->bot->id, link, &s, &l, &err);
    reply_invite(c, ch, e, l, &err);
}

static void m_revoke_invite(struct call *c)
{
    struct sim_channel *ch;
    const char *link;
    if (!invite_target(c, true, &ch, &link)) return;
    struct sim_invite *l = NULL;
    sim_err e = world_invite_revoke(ch, c->bot->id, link, &l);
    reply_invite(c, ch, e, l, NULL);
}

/* reply_markup's inline keyboard as Telegram checks it: rows of buttons, each with a text and
 * one of url, callback_data (1-64 bytes) or web_app {url} (private chats only; an http(s) URL:
 * tgsim takes http too, its tests having no TLS). Answers and returns false when it is bad. */
static bool reply_markup_ok(struct call *c, bool private_chat)
{
    json_t *m = json_object_get(c->p->obj, "reply_markup");
    if (!m) return true;
    json_t *owned = NULL;
    if (json_is_string(m)) m = owned = json_loads(json_string_value(m), 0, NULL);
    json_t *rows = json_object_get(m, "inline_keyboard");
    bool ok = json_is_array(rows);
    const char *why = "can't parse reply keyboard markup JSON object";
    size_t i, j;
    json_t *row, *btn;
    json_array_foreach(rows, i, row)
    {
        ok = ok && json_is_array(row);
        json_array_foreach(row, j, btn)
        {
            if (!ok) break;
            const char *text = json_string_value(json_object_get(btn, "text"));
            json_t *url = json_object_get(btn, "url"),
                   *data = json_object_get(btn, "callback_data");
            json_t *app = json_object_get(btn, "web_app");
            const char *app_url = json_string_value(json_object_get(app, "url"));
            int kinds = !!url + !!data + !!app;
            if (!text || !text[0] || kinds != 1) {
                ok = false;
                why = "can't parse inline keyboard button: Text buttons are unallowed in the "
                      "inline keyboard";
            } else if (data && (!json_is_string(data) || json_string_length(data) < 1 ||
                                json_string_length(data) > 64)) {
                ok = false;
                why = "BUTTON_DATA_INVALID";
            } else if (app && (!app_url || (strncmp(app_url, "https://", 8) != 0 &&
                                            strncmp(app_url, "http://", 7) != 0))) {
                ok = false;
                why = "BUTTON_URL_INVALID";
            } else if (app && !private_chat) {
                ok = false;
                why = "BUTTON_TYPE_INVALID";
            }
        }
    }
    json_decref(owned);
    if (!ok) reply_bad(c->res, why);
    return ok;
}

static void m_send_message(struct call *c)
{
    struct sim_channel *ch;
    struct sim_user *u;
    if (!resolve_chat(c, &ch, &u)) return;
    const char *text = param_str(c->p, "text");
    if (!text || !*text) {
        reply_bad(c->res, "message text is empty");
        return;
    }
    if (strlen(text) > 4096 * 4) {
        reply_bad(c->res, "message is too long");
        return;
    }
    if (ch && !world_channel_admin(ch, c->bot->id)) {
        reply_bad(c->res, "need administrator rights in the channel chat");
        return;
    }
    if (!ch && !world_bot_may_write(c->w, c->bot, u->id)) { /* user_chat_id's window is over */
        reply_error(c->res, 403, "Forbidden: bot can't initiate conversation with a user", 0);
        return;
    }
    if (!reply_markup_ok(c, !ch)) return;
    int64_t chat_id = ch ? ch->id : u->id;
    int64_t id = world_bot_record_message(c->w, c->bot, chat_id, c->p->obj);
    json_t *m = json_pack("{s:I,s:o,s:o,s:I,s:s}", "message_id", (json_int_t)id, "from",
                          user_json(world_user(c->w, c->bot->id)), "chat",
                          ch ? channel_json(ch) : private_chat_json(u), "date",
                          (json_int_t)world_now(), "text", text);
    reply_ok(c->res, m, NULL);
}

/* answerCallbackQuery (callback_query_id, text?, show_alert?): once per query, within
 * SIM_CALLBACK_ANSWER_MS; otherwise Telegram's "query is too old ..." (QUERY_ID_INVALID). */
static void m_answer_callback(struct call *c)
{
    const char *s = param_str(c->p, "callback_query_id");
    int64_t id = 0;
    if ((!s || !*s) && param_int(c->p, "callback_query_id", &id) == P_ABSENT)
        return reply_bad(c->res, "callback_query_id is empty");
    if (s && *s && !parse_int64(s, &id)) id = 0;
    const char *text = param_str(c->p, "text");
    if (text && strlen(text) > 200 * 4) return reply_bad(c->res, "MESSAGE_TOO_LONG");
    sim_err e = id > 0 ? world_callback_answer(c->bot, (uint64_t)id, text && *text ? text : NULL)
                       : SIM_QUERY_INVALID;
    if (e != SIM_OK)
        reply_bad(c->res, sim_err_botapi(e));
    else
        reply_ok(c->res, json_true(), NULL);
}

/* The message an edit names (chat_id, message_id), the bot's own; answers and returns NULL when
 * there is none. */
static struct sim_message *edit_target(struct call *c)
{
    struct sim_channel *ch;
    struct sim_user *u;
    if (!resolve_chat(c, &ch, &u)) return NULL;
    int64_t message_id = 0;
    if (param_int(c->p, "message_id", &message_id) == P_ABSENT) {
        reply_bad(c->res, "message identifier is not specified");
        return NULL;
    }
    struct sim_message *m = world_bot_message(c->bot, ch ? ch->id : u->id, message_id);
    if (!m) reply_bad(c->res, "message to edit not found");
    return m;
}

/* Replaces m's text (text NULL: kept) and reply_markup (from the call; none given: removed), as
 * editMessageText and editMessageReplyMarkup do, and answers with the message. */
static void edit_message(struct call *c, struct sim_message *m, const char *text)
{
    json_t *was_text = json_object_get(m->params, "text");
    json_t *markup = json_object_get(c->p->obj, "reply_markup");
    json_t *parsed = json_is_string(markup) ? json_loads(json_string_value(markup), 0, NULL) : NULL;
    if (parsed) markup = parsed;
    json_t *old_markup = json_object_get(m->params, "reply_markup");
    json_t *old_parsed =
        json_is_string(old_markup) ? json_loads(json_string_value(old_markup), 0, NULL) : NULL;
    if (old_parsed) old_markup = old_parsed;
    bool same_text = !text || (was_text && strcmp(text, json_string_value(was_text)) == 0);
    bool same_markup =
        (!markup && !old_markup) || (markup && old_markup && json_equal(markup, old_markup));
    if (same_text && same_markup) {
        json_decref(parsed);
        json_decref(old_parsed);
        return reply_bad(c->res,
                         "message is not modified: specified new message content and reply "
                         "markup are exactly the same as a current content and reply markup of "
                         "the message");
    }
    if (text) json_object_set_new(m->params, "text", json_string(text));
    const char *parse_mode = param_str(c->p, "parse_mode");
    if (text && parse_mode) json_object_set_new(m->params, "parse_mode", json_string(parse_mode));
    if (text && !parse_mode) json_object_del(m->params, "parse_mode");
    if (markup)
        json_object_set(m->params, "reply_markup", markup);
    else
        json_object_del(m->params, "reply_markup");
    json_decref(parsed);
    json_decref(old_parsed);
    m->edits++;
    json_t *r = json_pack("{s:I,s:I,s:I,s:O}", "message_id", (json_int_t)m->message_id, "date",
                          (json_int_t)m->date, "edit_date", (json_int_t)world_now(), "text",
                          json_object_get(m->params, "text"));
    if (r && markup) json_object_set(r, "reply_markup", markup);
    reply_ok(c->res, r, NULL);
}

static void m_edit_text(struct call *c)
{
    const char *text = param_str(c->p, "text");
    if (!text || !*text) return reply_bad(c->res, "message text is empty");
    if (strlen(text) > 4096 * 4) return reply_bad(c->res, "message is too long");
    struct sim_message *m = edit_target(c);
    if (!m || !reply_markup_ok(c, m->chat_id > 0)) return;
    edit_message(c, m, text);
}

static void m_edit_markup(struct call *c)
{
    struct sim_message *m = edit_target(c);
    if (!m || !reply_markup_ok(c, m->chat_id > 0)) return;
    edit_message(c, m, NULL);
}

/* The chat_join_request_query_id parameter as a number; answers and returns false when it is
 * missing (Telegram's wording for a missing parameter) or names no query. */
static bool query_param(struct call *c, uint64_t *out)
{
    const char *s = param_str(c->p, "chat_join_request_query_id");
    int64_t v = 0;
    if ((!s || !*s) && param_int(c->p, "chat_join_request_query_id", &v) == P_ABSENT) {
        reply_bad(c->res, "chat_join_request_query_id is empty");
        return false;
    }
    if (s && *s && !parse_int64(s, &v)) v = 0;
    *out = v > 0 ? (uint64_t)v : 0; /* 0 names no query: "query ID is invalid" */
    return true;
}

/* answerChatJoinRequestQuery (chat_join_request_query_id, result: approve | decline | queue). */
static void m_answer_jr_query(struct call *c)
{
    uint64_t id;
    if (!query_param(c, &id)) return;
    const char *result = param_str(c->p, "result");
    if (!result || !*result) return reply_bad(c->res, "result is empty");
    if (strcmp(result, "approve") != 0 && strcmp(result, "decline") != 0 &&
        strcmp(result, "queue") != 0)
        return reply_bad(c->res, "invalid result specified"); /* wording assumed */
    sim_err e = world_jr_query_answer(c->w, c->bot, id, result);
    if (e != SIM_OK)
        reply_bad(c->res, sim_err_botapi(e));
    else
        reply_ok(c->res, NULL, NULL);
}

/* sendChatJoinRequestWebApp (chat_join_request_query_id, web_app_url): the Bot API asks for an
 * HTTPS URL; tgsim is Telegram's test environment, where Mini Apps may use plain HTTP
 * (core.telegram.org/bots/webapps, "Testing Mini Apps"). The error wording is assumed. */
static void m_send_jr_web_app(struct call *c)
{
    uint64_t id;
    if (!query_param(c, &id)) return;
    const char *url = param_str(c->p, "web_app_url");
    if (!url || !*url) return reply_bad(c->res, "web_app_url is empty");
    bool scheme = strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0;
    if (!scheme || strlen(url) > 2048 || strpbrk(url, " \t\r\n"))
        return reply_bad(c->res, "WEBAPP_URL_INVALID");
    sim_err e = world_jr_query_web_app(c->w, c->bot, id, url);
    if (e != SIM_OK)
        reply_bad(c->res, sim_err_botapi(e));
    else
        reply_ok(c->res, NULL, NULL);
}

static const struct method {
    const char *name;
    void (*fn)(struct call *c);
} methods[] = {
    {"getMe", m_get_me},
    {"getChat", m_get_chat},
    {"getChatMember", m_get_chat_member},
    {"getUpdates", m_get_updates},
    {"setWebhook", m_set_webhook},
    {"deleteWebhook", m_delete_webhook},
    {"getWebhookInfo", m_get_webhook_info},
    {"approveChatJoinRequest", m_approve},
    {"declineChatJoinRequest", m_decline},
    {"banChatMember", m_ban},
    {"unbanChatMember", m_unban},
    {"getUserProfilePhotos", m_get_profile_photos},
    {"sendMessage", m_send_message},
    {"editMessageText", m_edit_text},
    {"editMessageReplyMarkup", m_edit_markup},
    {"answerCallbackQuery", m_answer_callback},
    {"answerChatJoinRequestQuery", m_answer_jr_query},
    {"sendChatJoinRequestWebApp", m_send_jr_web_app},
    {"createChatInviteLink", m_create_invite},
    {"editChatInviteLink", m_edit_invite},
    {"revokeChatInviteLink", m_revoke_invite},
};

static const struct method *method_find(const char *name)
{
    for (size_t i = 0; i < DM_ARRAY_LEN(methods); i++)
        if (strcasecmp(methods[i].name, name) == 0) return &methods[i];
    return NULL;
}

const char *botapi_method_name(const char *method)
{
    const struct method *m = method_find(method);
    return m ? m->name : NULL;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void botapi_handle(struct world *w, const char *token, const char *method,
                   const struct http_request *req, struct http_response *res)
{
    world_lock(w);
    unsigned latency = w->latency_ms;
    struct sim_bot *bot = world_bot_by_token(w, token);
    world_unlock(w);
    if (latency) sleep_ms(latency);
    if (!bot) {
        reply_error(res, 401, "Unauthorized", 0);
        return;
    }
    const struct method *m = method_find(method);
    if (!m) {
        botapi_not_found(res);
        return;
    }
    struct params p;
    char msg[128];
    if (!params_init(&p, req, msg, sizeof msg)) {
        reply_error(res, 400, msg, 0);
        return;
    }
    world_lock(w);
    world_stat_call(w, m->name);
    struct sim_fault f;
    int retry;
    bool faulted = world_fault_take(w, m->name, &f);
    if (faulted && f.delay_ms) { /* a late answer: the fault's error, or (code 0) the right one */
        world_unlock(w);
        sleep_ms(f.delay_ms);
        world_lock(w);
    }
    if (faulted && f.error_code) {
        reply_error(res, f.error_code, f.description, f.retry_after);
    } else if (m->fn != m_get_updates && (retry = world_ratelimit_take(w, bot)) > 0) {
        char d[64];
        snprintf(d, sizeof d, "Too Many Requests: retry after %d", retry);
        reply_error(res, 429, d, retry);
    } else {
        struct call c = {.w = w, .bot = bot, .p = &p, .res = res};
        m->fn(&c);
    }
    world_unlock(w);
    json_decref(p.obj);
}
