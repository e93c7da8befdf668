#include "core/common.h"
#include "sim/control.h"

#include "core/buf.h"
#include "sim/botapi.h"
#include "sim/cas.h"
#include "sim/invites.h"
#include "sim/updates.h"
#include "sim/webapp.h"

#define MAX_BULK 1000000     /* join requests per POST */
#define USER_IDS_LISTED 1000 /* user_ids is omitted past this */
#define LIST_CAP (1024u * 1024u * 1024u)

/* --- answers and input ------------------------------------------------------------------- */

static void fail(struct http_response *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct http_response *res, int status, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    dm_vsnprintf_utf8(msg, sizeof msg, fmt, ap);
    va_end(ap);
    http_res_json(res, status, json_pack("{s:s}", "error", msg));
}

static void fail_err(struct http_response *res, const struct dm_error *e)
{
    fail(res, 400, "%s", e->msg);
}

/* The body as a JSON object, or NULL after answering 400. */
static json_t *body_object(const struct http_request *req, struct http_response *res)
{
    json_error_t je;
    json_t *o = json_loadb(req->body, req->body_len, 0, &je);
    if (!o) {
        fail(res, 400, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        fail(res, 400, "the body must be a JSON object");
        return NULL;
    }
    return o;
}

/* Field readers: absent (or null) leaves *out as it is and fails only when required. */
static bool f_str(json_t *o, const char *k, bool required, const char **out, struct dm_error *e)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) {
        if (required) dm_fail(e, DM_EINVAL, "\"%s\" is required", k);
        return !required;
    }
    if (!json_is_string(v)) {
        dm_fail(e, DM_EINVAL, "\"%s\" must be a string", k);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static bool f_int(json_t *o, const char *k, bool required, int64_t min, int64_t max, int64_t *out,
                  struct dm_error *e)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) {
        if (required) dm_fail(e, DM_EINVAL, "\"%s\" is required", k);
        return !required;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        dm_fail(e, DM_EINVAL, "\"%s\" must be an integer from %" PRId64 " to %" PRId64, k, min,
                max);
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

static bool f_bool(json_t *o, const char *k, bool *out, struct dm_error *e)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return true;
    if (!json_is_boolean(v)) {
        dm_fail(e, DM_EINVAL, "\"%s\" must be true or false", k);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

static bool parse_id(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return false;
    *out = v;
    return true;
}

/* A query parameter as an integer: absent -> true with *out untouched. */
static bool q_int(const struct http_request *req, const char *k, int64_t *out, struct dm_error *e)
{
    const char *s = http_query(req, k);
    if (!s || !*s) return true;
    if (parse_id(s, out)) return true;
    dm_fail(e, DM_EINVAL, "query parameter %s must be an integer", k);
    return false;
}

static json_t *opt_string(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* --- handlers (world lock held) ---------------------------------------------------------- */

struct ctl {
    struct world *w;
    const struct http_request *req;
    struct http_response *res;
    json_t *body; /* the JSON object for POSTs */
    int64_t id;   /* the {id} in the path, when there is one */
    struct dm_error err;
};

static void post_bots(struct ctl *c)
{
    const char *username = NULL, *first = NULL, *token = NULL;
    bool queries = false;
    if (!f_str(c->body, "username", true, &username, &c->err) ||
        !f_str(c->body, "first_name", false, &first, &c->err) ||
        !f_str(c->body, "token", false, &token, &c->err) ||
        !f_bool(c->body, "supports_join_request_queries", &queries, &c->err))
        return fail_err(c->res, &c->err);
    struct sim_bot *b;
    if (world_bot_add(c->w, username, first ? first : username, token, &b, &c->err) != DM_OK)
        return fail_err(c->res, &c->err);
    world_bot_set_queries(c->w, b, queries);
    http_res_json(c->res, 200,
                  json_pack("{s:I,s:s,s:s}", "id", (json_int_t)b->id, "token", b->token, "username",
                            username));
}

static void post_users(struct ctl *c)
{
    const char *first = NULL, *last = NULL, *username = NULL, *bio = NULL, *lang = NULL;
    bool premium = false, scam = false, fake = false, photo = false;
    if (!f_str(c->body, "first_name", true, &first, &c->err) ||
        !f_str(c->body, "last_name", false, &last, &c->err) ||
        !f_str(c->body, "username", false, &username, &c->err) ||
        !f_str(c->body, "bio", false, &bio, &c->err) ||
        !f_str(c->body, "language_code", false, &lang, &c->err) ||
        !f_bool(c->body, "is_premium", &premium, &c->err) ||
        !f_bool(c->body, "scam", &scam, &c->err) || !f_bool(c->body, "fake", &fake, &c->err) ||
        !f_bool(c->body, "photo", &photo, &c->err))
        return fail_err(c->res, &c->err);
    int64_t id;
    /* checked first, so a bad one adds no user */
    if (!world_language_code_ok(lang, &c->err)) return fail_err(c->res, &c->err);
    if (world_user_add(c->w, first, last, username, bio, &id, &c->err) != DM_OK ||
        world_user_set_traits(c->w, id, premium, lang, scam, fake, photo, &c->err) != DM_OK)
        return fail_err(c->res, &c->err);
    http_res_json(c->res, 200, json_pack("{s:I}", "id", (json_int_t)id));
}

static json_t *user_traits(const struct sim_user *u)
{
    return json_pack("{s:I,s:b,s:o,s:b,s:b,s:b}", "id", (json_int_t)u->id, "is_premium",
                     u->is_premium, "language_code", opt_string(u->language_code), "scam",
                     u->is_scam, "fake", u->is_fake, "photo", u->has_photo);
}

/* Changes the traits of an existing user; a field left out keeps its value. */
static void post_user_traits(struct ctl *c)
{
    struct sim_user *u = world_user(c->w, c->id);
    if (!u) return fail(c->res, 400, "no user with id %" PRId64, c->id);
    bool premium = u->is_premium, scam = u->is_scam, fake = u->is_fake, photo = u->has_photo;
    const char *lang = u->language_code;
    json_t *lv = json_object_get(c->body, "language_code");
    if (lv && json_is_null(lv)) lang = NULL;
    if (!f_str(c->body, "language_code", false, &lang, &c->err) ||
        !f_bool(c->body, "is_premium", &premium, &c->err) ||
        !f_bool(c->body, "scam", &scam, &c->err) || !f_bool(c->body, "fake", &fake, &c->err) ||
        !f_bool(c->body, "photo", &photo, &c->err))
        return fail_err(c->res, &c->err);
    char *keep = lang ? strdup(lang) : NULL; /* lang may be the string being replaced */
    if (lang && !keep) return fail(c->res, 500, "out of memory");
    dm_err e = world_user_set_traits(c->w, c->id, premium, keep, scam, fake, photo, &c->err);
    free(keep);
    if (e) return fail_err(c->res, &c->err);
    http_res_json(c->res, 200, user_traits(world_user(c->w, c->id)));
}

/* Reads {"id","can_invite_users","can_restrict_members"} (both rights true when left out) and
 * applies it; false after answering. */
static bool apply_admin(struct ctl *c, struct sim_channel *ch, json_t *a)
{
    int64_t id = 0;
    bool can_invite = true, can_restrict = true;
    if (!json_is_object(a)) {
        fail(c->res, 400, "each admin must be an object {\"id\":…,\"can_invite_users\":…}");
        return false;
    }
    if (!f_int(a, "id", true, 1, INT64_MAX, &id, &c->err) ||
        !f_bool(a, "can_invite_users", &can_invite, &c->err) ||
        !f_bool(a, "can_restrict_members", &can_restrict, &c->err) ||
        world_channel_set_admin(c->w, ch, id, can_invite, can_restrict, &c->err) != DM_OK) {
        fail_err(c->res, &c->err);
        return false;
    }
    return true;
}

static json_t *channel_info(struct world *w, const struct sim_channel *ch)
{
    json_t *admins = json_array();
    for (size_t i = 0; i < ch->nadmins; i++)
        json_array_append_new(admins, json_pack("{s:I,s:b,s:b}", "id", (json_int_t)ch->admins[i].id,
                                                "can_invite_users", ch->admins[i].can_invite_users,
                                                "can_restrict_members",
                                                ch->admins[i].can_restrict_members));
    return json_pack("{s:I,s:s,s:o,s:o,s:I,s:o}", "id", (json_int_t)ch->id, "title", ch->title,
                     "username", opt_string(ch->username), "admins", admins, "members",
                     (json_int_t)world_member_count(ch), "guard_bot",
                     ch->guard_bot ? json_integer(ch->guard_bot) : json_null());
}

static void post_channels(struct ctl *c)
{
    const char *title = NULL, *username = NULL;
    json_t *admins = json_object_get(c->body, "admins");
    if (!f_str(c->body, "title", true, &title, &c->err) ||
        !f_str(c->body, "username", false, &username, &c->err))
        return fail_err(c->res, &c->err);
    if (admins && !json_is_array(admins))
        return fail(c->res, 400, "\"admins\" must be an array of {\"id\",\"can_invite_users\"}");
    size_t i;
    json_t *a;
    json_array_foreach(admins, i, a)
    { /* check every admin before creating anything */
        int64_t id = 0;
        bool can = true;
        if (!json_is_object(a) || !f_int(a, "id", true, 1, INT64_MAX, &id, &c->err) ||
            !f_bool(a, "can_invite_users", &can, &c->err) ||
            !f_bool(a, "can_restrict_members", &can, &c->err))
            return fail(c->res, 400, "admins[%zu]: %s", i,
                        json_is_object(a) ? c->err.msg : "must be an object");
        if (!world_user(c->w, id))
            return fail(c->res, 400, "admins[%zu]: no user or bot with id %" PRId64, i, id);
    }
    struct sim_channel *ch;
    if (world_channel_add(c->w, title, username, &ch, &c->err) != DM_OK)
        return fail_err(c->res, &c->err);
    json_array_foreach(admins, i, a)
    {
        if (!apply_admin(c, ch, a)) return;
    }
    http_res_json(c->res, 200, channel_info(c->w, ch));
}

static struct sim_channel *path_channel(struct ctl *c)
{
    struct sim_channel *ch = world_channel(c->w, c->id);
    if (!ch) fail(c->res, 400, "no channel with id %" PRId64, c->id);
    return ch;
}

static void get_channel(struct ctl *c)
{
    struct sim_channel *ch = path_channel(c);
    if (ch) http_res_json(c->res, 200, channel_info(c->w, ch));
}

static void post_channel_admins(struct ctl *c)
{
    struct sim_channel *ch = path_channel(c);
    if (ch && apply_admin(c, ch, c->body)) http_res_json(c->res, 200, channel_info(c->w, ch));
}

static void post_channel_members(struct ctl *c)
{
    struct sim_channel *ch = path_channel(c);
    if (!ch) return;
    int64_t user_id = 0;
    if (!f_int(c->body, "user_id", true, 1, INT64_MAX, &user_id, &c->err) ||
        world_channel_add_member(c->w, ch, user_id, &c->err) != DM_OK)
        return fail_err(c->res, &c->err);
    http_res_json(c->res, 200,
                  json_pack("{s:I,s:I,s:b}", "chat_id", (json_int_t)ch->id, "user_id",
                            (json_int_t)user_id, "member", 1));
}

/* {"bot_id": id} assigns the channel's guard bot (join-request queries), {"bot_id": null}
 * removes it. */
static void post_channel_guard(struct ctl *c)
{
    struct sim_channel *ch = path_channel(c);
    if (!ch) return;
    int64_t bot_id = 0;
    if (!json_object_get(c->body, "bot_id"))
        return fail(c->res, 400, "\"bot_id\" is required (null removes the guard bot)");
    if (!f_int(c->body, "bot_id", false, 1, INT64_MAX, &bot_id, &c->err) ||
        world_guard_set(c->w, ch, bot_id, &c->err) != DM_OK)
        return fail_err(c->res, &c->err);
    http_res_json(c->res, 200, channel_info(c->w, ch));
}

static void post_join_requests(struct ctl *c)
{
    int64_t chat_id = 0, user_id = 0, count = 0, date = 0, spread = 0;
    const char *link = NULL, *first = "User", *bio = NULL;
    bool bot_updates = true;
    if (!f_int(c->body, "chat_id", true, INT64_MIN, INT64_MAX, &chat_id, &c->err) ||
        !f_bool(c->body, "bot_updates", &bot_updates, &c->err) ||
        !f_int(c->body, "count", false, 1, MAX_BULK, &count, &c->err) ||
        !f_int(c->body, "date", false, 0, INT32_MAX, &date, &c->err) ||
        !f_str(c->body, "invite_link", false, &link, &c->err) ||
        !f_int(c->body, "spread_seconds", false, 0, 86400, &spread, &c->err))
        return fail_err(c->res, &c->err);
    if (spread && !count)
        return fail(c->res, 400, "\"spread_seconds\" goes with \"count\" (a wave of requests)");
    struct sim_channel *ch = world_channel(c->w, chat_id);
    if (!ch) return fail(c->res, 400, "no channel with id %" PRId64, chat_id);
    int64_t first_id;
    if (count) {
        if (!f_str(c->body, "first_name", false, &first, &c->err) ||
            !f_str(c->body, "bio", false, &bio, &c->err) ||
            world_jr_add_many(c->w, ch, (size_t)count, first, bio, link, date, spread, bot_updates,
                              &first_id, &c->err) != DM_OK)
            return fail_err(c->res, &c->err);
    } else {
        if (!f_int(c->body, "user_id", true, 1, INT64_MAX, &user_id, &c->err) ||
            world_jr_add(c->w, ch, user_id, date, link, bot_updates, &c->err) != DM_OK)
            return fail_err(c->res, &c->err);
        first_id = user_id;
        count = 1;
    }
    json_t *o = json_pack("{s:I,s:I,s:I}", "created", (json_int_t)count, "first_user_id",
                          (json_int_t)first_id, "last_user_id", (json_int_t)(first_id + count - 1));
    if (o && count <= USER_IDS_LISTED) {
        json_t *ids = json_array();
        for (int64_t i = 0; i < count; i++)
            json_array_append_new(ids, json_integer(first_id + i));
        json_object_set_new(o, "user_ids", ids);
    }
    http_res_json(c->res, 200, o);
}

/* A request's join-request query, as a "query" field of its row. */
static dm_err query_row(struct buf *b, const struct sim_join_request *jr)
{
    dm_err e =
        buf_printf(b,
                   ",\"query\":{\"id\":\"%" PRIu64 "\",\"state\":\"%s\",\"deadline_ms\":%" PRId64
                   ",\"answered_at_ms\":%" PRId64 ",\"answer_calls\":%u,\"web_app_url\":",
                   jr->query_id, jq_state_name(jr, world_now_ms()), jr->query_deadline_ms,
                   jr->query_answered_ms, (unsigned)jr->query_answer_calls);
    json_t *s = jr->web_app_url ? json_string(jr->web_app_url) : json_null();
    char *enc = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    if (!e) e = enc ? buf_printf(b, "%s}", enc) : DM_ENOMEM;
    free(enc);
    json_decref(s);
    return e;
}

/* POST /control/join-requests/decide {"chat_id","user_id","approve","by"}: an admin decides the
 * request in the Telegram app (by: a user or bot that is an admin with can_invite_users). The
 * request is then decided as any decision is: a later call through the bot or a session gets
 * HIDE_REQUESTER_MISSING, and an approval is in the admin log with approved_by. */
static void post_join_request_decide(struct ctl *c)
{
    int64_t chat_id = 0, user_id = 0, by = 0;
    bool approve = true;
    if (!f_int(c->body, "chat_id", true, INT64_MIN, INT64_MAX, &chat_id, &c->err) ||
        !f_int(c->body, "user_id", true, 1, INT64_MAX, &user_id, &c->err) ||
        !f_int(c->body, "by", true, 1, INT64_MAX, &by, &c->err) ||
        !f_bool(c->body, "approve", &approve, &c->err))
        return fail_err(c->res, &c->err);
    sim_err e = world_jr_decide(c->w, chat_id, user_id, approve, by);
    if (e != SIM_OK) return fail(c->res, 400, "%s", sim_err_rpc(e));
    http_res_json(c->res, 200,
                  json_pack("{s:I,s:I,s:s,s:I}", "chat_id", (json_int_t)chat_id, "user_id",
                            (json_int_t)user_id, "status", approve ? "approved" : "declined",
                            "decided_by", (json_int_t)by));
}

static json_t *invite_info(struct world *w, const struct sim_channel *ch,
                           const struct sim_invite *l)
{
    size_t pending, approved;
    world_invite_counts(w, ch, l->link, &pending, &approved);
    return json_pack("{s:s,s:o,s:I,s:I,s:I,s:I,s:b,s:b,s:I,s:I}", "link", l->link, "name",
                     opt_string(l->name), "creator_id", (json_int_t)l->creator_id, "date",
                     (json_int_t)l->date, "expire_date", (json_int_t)l->expire_date, "member_limit",
                     (json_int_t)l->member_limit, "creates_join_request", l->creates_join_request,
                     "revoked", l->revoked, "pending", (json_int_t)pending, "approved",
                     (json_int_t)approved);
}

/* POST /control/channels/{id}/links {"by","name","expire_date","member_limit",
 * "creates_join_request"}: a link made in the app by the admin `by`. */
static void post_channel_links(struct ctl *c)
{
    struct sim_channel *ch = path_channel(c);
    if (!ch) return;
    int64_t by = 0;
    struct sim_invite_spec s = {0};
    if (!f_int(c->body, "by", true, 1, INT64_MAX, &by, &c->err) ||
        !f_str(c->body, "name", false, &s.name, &c->err) ||
        !f_int(c->body, "expire_date", false, 0, INT64_MAX, &s.expire_date, &c->err) ||
        !f_int(c->body, "member_limit", false, 0, INT64_MAX, &s.member_limit, &c->err) ||
        !f_bool(c->body, "creates_join_request", &s.creates_join_request, &c->err))
        return fail_err(c->res, &c->err);
    struct sim_invite *l = NULL;
    sim_err e = world_invite_create(c->w, ch, by, &s, &l, &c->err);
    if (e == SIM_LINK_BAD) return fail_err(c->res, &c->err);
    if (e != SIM_OK) return fail(c->res, 400, "%s", sim_err_rpc(e));
    http_res_json(c->res, 200, invite_info(c->w, ch, l));
}

static void get_channel_links(struct ctl *c)
{
    struct sim_channel *ch = path_channel(c);
    if (!ch) return;
    json_t *links = json_array();
    for (size_t i = 0; i < ch->nlinks; i++)
        json_array_append_new(links, invite_info(c->w, ch, &ch->links[i]));
    http_res_json(c->res, 200, json_pack("{s:o}", "links", links));
}

/* Written by hand: the list may hold millions of rows. */
static void get_join_requests(struct ctl *c)
{
    int64_t chat_id = 0, user_id = 0;
    const char *st = http_query(c->req, "status");
    int status = -1;
    if (!q_int(c->req, "chat_id", &chat_id, &c->err) ||
        !q_int(c->req, "user_id", &user_id, &c->err))
        return fail_err(c->res, &c->err);
    if (st && *st && (status = jr_status_parse(st)) < 0)
        return fail(c->res, 400, "status must be pending, approved or declined");
    if (chat_id && !world_channel(c->w, chat_id))
        return fail(c->res, 400, "no channel with id %" PRId64, chat_id);
    struct buf b;
    buf_init(&b, LIST_CAP);
    uint64_t counts[3] = {0}, multi = 0, called = 0;
    dm_err e = buf_puts(&b, "{\"items\":[");
    bool first = true;
    struct sim_channel *row_ch = NULL; /* the last row's channel: rows come in runs */
    for (size_t i = 0; i < c->w->njrs && !e; i++) {
        const struct sim_join_request *jr = &c->w->jrs[i];
        if ((chat_id && jr->chat_id != chat_id) || (user_id && jr->user_id != user_id)) continue;
        counts[jr->status]++;
        if (jr->decisions > 1) multi++;
        if (jr->approve_calls + jr->decline_calls > 1) called++;
        if (status >= 0 && (int)jr->status != status) continue;
        e = buf_printf(&b,
                       "%s{\"chat_id\":%" PRId64 ",\"user_id\":%" PRId64
                       ",\"status\":\"%s\",\"date\":%" PRId64,
                       first ? "" : ",", jr->chat_id, jr->user_id, jr_status_name(jr->status),
                       jr->date);
        first = false;
        if (!e && jr->status == JR_PENDING)
            e = buf_puts(&b, ",\"decided_by\":null,\"decided_at\":null");
        else if (!e)
            e = buf_printf(&b,
                           ",\"decided_by\":%" PRId64 ",\"decided_at\":%" PRId64
                           ",\"decided_at_ms\":%" PRId64,
                           jr->decided_by, jr->decided_at, jr->decided_ms);
        if (!e)
            e = buf_printf(&b,
                           ",\"asked_at_ms\":%" PRId64 ",\"decisions\":%" PRIu32
                           ",\"approve_calls\":%" PRIu32 ",\"decline_calls\":%" PRIu32,
                           jr->asked_ms, jr->decisions, jr->approve_calls, jr->decline_calls);
        if (!row_ch || row_ch->id != jr->chat_id) row_ch = world_channel(c->w, jr->chat_id);
        if (!e && jr->by_ban) e = buf_puts(&b, ",\"by_ban\":true");
        if (!e && row_ch && world_is_banned(c->w, row_ch, jr->user_id))
            e = buf_puts(&b, ",\"banned\":true");
        if (!e && jr->query_id) e = query_row(&b, jr);
        if (!e && jr->invite_link) {
            json_t *s = json_string(jr->invite_link);
            char *enc = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
            e = enc ? buf_printf(&b, ",\"invite_link\":%s", enc) : DM_ENOMEM;
            free(enc);
            json_decref(s);
        }
        if (!e) e = buf_puts(&b, "}");
    }
    if (!e)
        e = buf_printf(
            &b,
            "],\"counts\":{\"pending\":%" PRIu64 ",\"approved\":%" PRIu64 ",\"declined\":%" PRIu64
            ",\"total\":%" PRIu64 ",\"decided_more_than_once\":%" PRIu64
            ",\"called_more_than_once\":%" PRIu64 "}}",
            counts[0], counts[1], counts[2], counts[0] + counts[1] + counts[2], multi, called);
    if (e) {
        buf_release(&b);
        return fail(c->res, 500, "cannot list the join requests: %s", dm_strerror(e));
    }
    size_t len;
    char *s = buf_detach(&b, &len);
    http_res_take(c->res, 200, "application/json; charset=utf-8", s, len);
}

static json_t *ban_json(const struct sim_ban *b, bool banned)
{
    return json_pack("{s:I,s:I,s:b,s:I,s:I,s:I,s:I,s:I,s:b,s:i,s:i}", "chat_id",
                     (json_int_t)b->chat_id, "user_id", (json_int_t)b->user_id, "banned", banned,
                     "until_date", (json_int_t)b->until_date, "banned_by", (json_int_t)b->banned_by,
                     "banned_at", (json_int_t)b->banned_at, "unbanned_by",
                     (json_int_t)b->unbanned_by, "unbanned_at", (json_int_t)b->unbanned_at,
                     "revoke_messages", b->revoke_messages, "ban_calls", (int)b->ban_calls,
                     "unban_calls", (int)b->unban_calls);
}

/* Every (channel, user) a ban or unban call was made for, filtered by chat_id, user_id and
 * banned=true|false; counts over the chat_id / user_id filter. */
static void get_bans(struct ctl *c)
{
    int64_t chat_id = 0, user_id = 0;
    const char *only = http_query(c->req, "banned");
    if (!q_int(c->req, "chat_id", &chat_id, &c->err) ||
        !q_int(c->req, "user_id", &user_id, &c->err))
        return fail_err(c->res, &c->err);
    if (only && *only && strcmp(only, "true") && strcmp(only, "false"))
        return fail(c->res, 400, "banned must be true or false");
    if (chat_id && !world_channel(c->w, chat_id))
        return fail(c->res, 400, "no channel with id %" PRId64, chat_id);
    json_t *items = json_array();
    uint64_t banned_n = 0, ban_calls = 0, unban_calls = 0, records = 0;
    struct sim_channel *ch = NULL;
    for (size_t i = 0; i < c->w->nbans; i++) {
        const struct sim_ban *b = &c->w->bans[i];
        if ((chat_id && b->chat_id != chat_id) || (user_id && b->user_id != user_id)) continue;
        if (!ch || ch->id != b->chat_id) ch = world_channel(c->w, b->chat_id);
        bool banned = ch && world_is_banned(c->w, ch, b->user_id);
        records++;
        banned_n += banned;
        ban_calls += b->ban_calls;
        unban_calls += b->unban_calls;
        if (only && *only && banned != (strcmp(only, "true") == 0)) continue;
        json_array_append_new(items, ban_json(b, banned));
    }
    http_res_json(c->res, 200,
                  json_pack("{s:o,s:{s:I,s:I,s:I,s:I}}", "items", items, "counts", "records",
                            (json_int_t)records, "banned", (json_int_t)banned_n, "ban_calls",
                            (json_int_t)ban_calls, "unban_calls", (json_int_t)unban_calls));
}

/* Lists users on the CAS-style blocklist: {"user_id"} or {"user_ids":[…]}, with "offenses"
 * (default 1) and "message". */
static void post_cas(struct ctl *c)
{
    int64_t user_id = 0, offenses = 1;
    const char *message = NULL;
    json_t *ids = json_object_get(c->body, "user_ids");
    if (!f_int(c->body, "user_id", false, 1, INT64_MAX, &user_id, &c->err) ||
        !f_int(c->body, "offenses", false, 1, 1000000, &offenses, &c->err) ||
        !f_str(c->body, "message", false, &message, &c->err))
        return fail_err(c->res, &c->err);
    if (ids && !json_is_array(ids))
        return fail(c->res, 400, "\"user_ids\" must be an array of user ids");
    if (!user_id && !json_array_size(ids))
        return fail(c->res, 400, "\"user_id\" or \"user_ids\" is required");
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    { /* all checked before any is listed */
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return fail(c->res, 400, "user_ids[%zu] must be a positive integer", i);
    }
    if (user_id && world_cas_put(c->w, user_id, (int)offenses, message, &c->err) != DM_OK)
        return fail_err(c->res, &c->err);
    json_array_foreach(ids, i, v)
    {
        if (world_cas_put(c->w, json_integer_value(v), (int)offenses, message, &c->err) != DM_OK)
            return fail_err(c->res, &c->err);
    }
    http_res_json(c->res, 200,
                  json_pack("{s:I,s:I}", "listed",
                            (json_int_t)((user_id ? 1 : 0) + json_array_size(ids)), "total",
                            (json_int_t)c->w->ncas));
}

static void get_cas(struct ctl *c)
{
    json_t *items = json_array();
    for (size_t i = 0; i < c->w->ncas; i++) {
        const struct sim_cas_entry *e = &c->w->cas[i];
        json_array_append_new(items, json_pack("{s:I,s:i,s:I,s:o}", "user_id",
                                               (json_int_t)e->user_id, "offenses", e->offenses,
                                               "time_added", (json_int_t)e->time_added, "message",
                                               opt_string(e->message)));
    }
    http_res_json(c->res, 200, json_pack("{s:o}", "items", items));
}

static json_t *config_json(struct world *w)
{
    return json_pack("{s:f,s:i,s:i,s:i}", "rate_limit", w->rate_limit, "latency_ms",
                     (int)w->latency_ms, "salt_lifetime", (int)w->salt_lifetime,
                     "difference_too_long", (int)w->diff_too_long);
}

static void post_config(struct ctl *c)
{
    json_t *rate = json_object_get(c->body, "rate_limit");
    int64_t latency = c->w->latency_ms, salt_lifetime = c->w->salt_lifetime,
            too_long = c->w->diff_too_long;
    if (rate && !json_is_null(rate) &&
        (!json_is_number(rate) || json_number_value(rate) < 0 || json_number_value(rate) > 1e6))
        return fail(c->res, 400, "\"rate_limit\" must be a number from 0 (off) to 1000000");
    if (!f_int(c->body, "latency_ms", false, 0, 60000, &latency, &c->err) ||
        !f_int(c->body, "salt_lifetime", false, 0, 86400, &salt_lifetime, &c->err) ||
        !f_int(c->body, "difference_too_long", false, 0, 1000000, &too_long, &c->err))
        return fail_err(c->res, &c->err);
    if (rate && !json_is_null(rate)) world_set_rate_limit(c->w, json_number_value(rate));
    c->w->latency_ms = (unsigned)latency;
    c->w->salt_lifetime = (unsigned)salt_lifetime;
    c->w->diff_too_long = (unsigned)too_long;
    http_res_json(c->res, 200, config_json(c->w));
}

static void get_config(struct ctl *c)
{
    http_res_json(c->res, 200, config_json(c->w));
}

static const char *default_description(int code)
{
    switch (code) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 409:
        return "Conflict";
    case 429:
        return "Too Many Requests";
    case 502:
        return "Bad Gateway";
    default:
        return "Internal Server Error";
    }
}

static void post_faults(struct ctl *c)
{
    const char *method = NULL, *desc = NULL;
    int64_t count = 1, code = -1, retry = 0, delay = 0;
    if (!f_str(c->body, "method", true, &method, &c->err) ||
        !f_int(c->body, "count", false, 0, 1000000, &count, &c->err) ||
        !f_int(c->body, "retry_after", false, 1, 86400, &retry, &c->err) ||
        !f_int(c->body, "delay_ms", false, 0, 60000, &delay, &c->err) ||
        !f_str(c->body, "description", false, &desc, &c->err))
        return fail_err(c->res, &c->err);
    bool cas = strcmp(method, CAS_METHOD) == 0;
    const char *name = cas ? CAS_METHOD : botapi_method_name(method);
    if (!name) return fail(c->res, 400, "tgsim does not serve a method named \"%s\"", method);
    /* error_code 0 (a late right answer) only with delay_ms */
    if (!f_int(c->body, "error_code", false, delay ? 0 : 400, 599, &code, &c->err))
        return fail_err(c->res, &c->err);
    struct sim_fault f = {
        .count = (unsigned)count, .retry_after = (int)retry, .delay_ms = (unsigned)delay};
    dm_strlcpy(f.method, name, sizeof f.method);
    f.error_code = (int)(code >= 0 ? code : retry ? 429 : delay ? 0 : 500);
    if (desc)
        dm_strlcpy(f.description, desc, sizeof f.description);
    else if (!f.error_code)
        dm_strlcpy(f.description, "the right answer, late", sizeof f.description);
    else if (retry)
        snprintf(f.description, sizeof f.description, "Too Many Requests: retry after %d",
                 (int)retry);
    else
        dm_strlcpy(f.description, default_description(f.error_code), sizeof f.description);
    if (world_fault_add(c->w, &f, &c->err) != DM_OK) return fail_err(c->res, &c->err);
    json_t *o = json_pack("{s:s,s:i,s:i,s:s}", "method", f.method, "count", (int)f.count,
                          "error_code", f.error_code, "description", f.description);
    if (o && retry) json_object_set_new(o, "retry_after", json_integer(retry));
    if (o && delay) json_object_set_new(o, "delay_ms", json_integer(delay));
    http_res_json(c->res, 200, o);
}

static void get_stats(struct ctl *c)
{
    struct world *w = c->w;
    json_t *calls = json_object();
    for (size_t i = 0; i < w->nstats; i++)
        json_object_set_new(calls, w->stats[i].method, json_integer((json_int_t)w->stats[i].calls));
    http_res_json(c->res, 200,
                  json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:I}}", "calls", calls,
                            "rate_limited", (json_int_t)w->rate_limited, "bots",
                            (json_int_t)w->nbots, "users", (json_int_t)(w->nusers - w->nbots),
                            "channels", (json_int_t)w->nchannels, "join_requests",
                            (json_int_t)w->njrs, "mtproto", "bad_server_salt",
                            (json_int_t)w->bad_server_salt, "bad_server_salt_repeated",
                            (json_int_t)w->bad_server_salt_repeated, "temp_keys",
                            (json_int_t)w->temp_keys, "temp_binds", (json_int_t)w->temp_binds,
                            "perm_empty", (json_int_t)w->perm_empty));
}

/* Every temporary auth key made so far is gone: its next message gets transport error -404. */
static void post_temp_keys_expire(struct ctl *c)
{
    c->w->temp_keys_before_ms = world_now_ms();
    http_res_json(c->res, 200,
                  json_pack("{s:I}", "expired_before_ms", (json_int_t)c->w->temp_keys_before_ms));
}

static struct sim_bot *path_bot(struct ctl *c)
{
    struct sim_bot *b = world_bot_by_id(c->w, c->id);
    if (!b) fail(c->res, 400, "no bot with id %" PRId64, c->id);
    return b;
}

static void get_bot_messages(struct ctl *c)
{
    struct sim_bot *b = path_bot(c);
    if (!b) return;
    json_t *items = json_array();
    for (size_t i = 0; i < b->nmsgs; i++) {
        const struct sim_message *m = &b->msgs[i];
        json_t *text = json_object_get(m->params, "text");
        json_array_append_new(
            items, json_pack("{s:I,s:I,s:I,s:O,s:O,s:i}", "message_id", (json_int_t)m->message_id,
                             "chat_id", (json_int_t)m->chat_id, "date", (json_int_t)m->date, "text",
                             text ? text : json_null(), "params",
                             m->params ? m->params : json_null(), "edits", (int)m->edits));
    }
    http_res_json(c->res, 200, json_pack("{s:o}", "items", items));
}

/* Copies the callback_data of the button labelled text in markup (an inline keyboard, as an
 * object or JSON text) into out (65 bytes); false when there is none. */
static bool button_data(json_t *markup, const char *text, char out[65])
{
    json_t *owned = json_is_string(markup) ? json_loads(json_string_value(markup), 0, NULL) : NULL;
    size_t i, j;
    json_t *row, *btn;
    out[0] = 0;
    json_array_foreach(json_object_get(owned ? owned : markup, "inline_keyboard"), i, row)
    {
        json_array_foreach(row, j, btn)
        {
            const char *t = json_string_value(json_object_get(btn, "text"));
            const char *d = json_string_value(json_object_get(btn, "callback_data"));
            if (!out[0] && t && d && strcmp(t, text) == 0) dm_strlcpy(out, d, 65);
        }
    }
    json_decref(owned);
    return out[0] != 0;
}

/* POST /control/bots/{id}/press {"user_id","message_id","text"? | "data"?}: the user presses an
 * inline button of the bot's message in their private chat: the one labelled text, or (a client
 * that sends what it likes) any callback data. A callback_query update follows. */
static void post_bot_press(struct ctl *c)
{
    struct sim_bot *b = path_bot(c);
    if (!b) return;
    int64_t user_id = 0, message_id = 0;
    const char *text = NULL, *data = NULL;
    if (!f_int(c->body, "user_id", true, 1, INT64_MAX, &user_id, &c->err) ||
        !f_int(c->body, "message_id", true, 1, INT64_MAX, &message_id, &c->err) ||
        !f_str(c->body, "text", false, &text, &c->err) ||
        !f_str(c->body, "data", false, &data, &c->err))
        return fail_err(c->res, &c->err);
    const struct sim_user *u = world_user(c->w, user_id);
    if (!u) return fail(c->res, 400, "no user with id %" PRId64, user_id);
    const struct sim_message *m = world_bot_message(b, user_id, message_id);
    if (!m)
        return fail(c->res, 400, "the bot sent no message %" PRId64 " to user %" PRId64, message_id,
                    user_id);
    if (!text == !data) return fail(c->res, 400, "give one of \"text\" and \"data\"");
    char found[65];
    if (text && !button_data(json_object_get(m->params, "reply_markup"), text, found))
        return fail(c->res, 400, "the message has no callback button \"%s\"", text);
    if (text) data = found;
    if (!*data || strlen(data) > 64) return fail(c->res, 400, "\"data\" must be 1-64 bytes");
    uint64_t id = 0;
    if (world_callback_press(c->w, b, m, u, data, &id) != DM_OK)
        return fail(c->res, 500, "out of memory");
    char sid[24];
    snprintf(sid, sizeof sid, "%" PRIu64, id);
    http_res_json(c->res, 200, json_pack("{s:s,s:s}", "callback_query_id", sid, "data", data));
}

/* GET /control/bots/{id}/callbacks: the callback queries and how the bot answered them. */
static void get_bot_callbacks(struct ctl *c)
{
    struct sim_bot *b = path_bot(c);
    if (!b) return;
    json_t *items = json_array();
    for (size_t i = 0; i < b->ncallbacks; i++) {
        const struct sim_callback *cb = &b->callbacks[i];
        char sid[24];
        snprintf(sid, sizeof sid, "%" PRIu64, cb->id);
        json_array_append_new(items, json_pack("{s:s,s:I,s:I,s:b,s:o}", "id", sid, "user_id",
                                               (json_int_t)cb->user_id, "message_id",
                                               (json_int_t)cb->message_id, "answered", cb->answered,
                                               "answer_text", opt_string(cb->answer_text)));
    }
    http_res_json(c->res, 200, json_pack("{s:o}", "items", items));
}

/* POST /control/bots/{id}/dm {"user_id","text"}: the user writes to the bot in private (a message
 * update); the bot may write to them from then on. */
static void post_bot_dm(struct ctl *c)
{
    struct sim_bot *b = path_bot(c);
    if (!b) return;
    int64_t user_id = 0;
    const char *text = NULL;
    if (!f_int(c->body, "user_id", true, 1, INT64_MAX, &user_id, &c->err) ||
        !f_str(c->body, "text", true, &text, &c->err))
        return fail_err(c->res, &c->err);
    const struct sim_user *u = world_user(c->w, user_id);
    if (!u || u->is_bot) return fail(c->res, 400, "no user with id %" PRId64, user_id);
    if (!*text || strlen(text) > 4096 * 4)
        return fail(c->res, 400, "\"text\" must be 1-4096 characters");
    int64_t message_id = 0;
    if (world_user_to_bot(b, u, text, &message_id) != DM_OK)
        return fail(c->res, 500, "out of memory");
    http_res_json(c->res, 200, json_pack("{s:I}", "message_id", (json_int_t)message_id));
}

/* {"supports_join_request_queries": bool}: what the bot's owner set up with BotFather. */
static void post_bot_settings(struct ctl *c)
{
    struct sim_bot *b = path_bot(c);
    if (!b) return;
    bool on = b->supports_join_request_queries;
    if (!f_bool(c->body, "supports_join_request_queries", &on, &c->err))
        return fail_err(c->res, &c->err);
    world_bot_set_queries(c->w, b, on);
    http_res_json(c->res, 200,
                  json_pack("{s:I,s:b}", "id", (json_int_t)b->id, "supports_join_request_queries",
                            b->supports_join_request_queries));
}

static void get_webhook(struct ctl *c)
{
    struct sim_bot *b = path_bot(c);
    if (!b) return;
    json_t *o = json_pack("{s:I,s:o,s:b,s:I,s:I,s:I}", "bot_id", (json_int_t)b->id, "url",
                          opt_string(b->webhook_url), "secret_token_set", b->webhook_secret != NULL,
                          "pending_update_count", (json_int_t)world_bot_pending(b), "delivered",
                          (json_int_t)b->hook_delivered, "failed_attempts",
                          (json_int_t)b->hook_failed_attempts);
    if (o) {
        json_object_set_new(o, "last_error_date",
                            b->hook_last_error_date ? json_integer(b->hook_last_error_date)
                                                    : json_null());
        json_object_set_new(o, "last_error_message",
                            b->hook_last_error[0] ? json_string(b->hook_last_error) : json_null());
        json_object_set_new(o, "allowed_updates",
                            b->allowed_updates ? json_incref(b->allowed_updates) : json_null());
    }
    http_res_json(c->res, 200, o);
}

/* --- MTProto accounts and data centres ---------------------------------------------------- */

static json_t *account_info(const struct sim_account *a)
{
    return json_pack("{s:I,s:s,s:i,s:b,s:i,s:I,s:b,s:b}", "id", (json_int_t)a->user_id, "phone",
                     a->phone, "dc", a->dc, "has_password", a->password != NULL, "flood_limit",
                     (int)a->flood_limit, "auth_epoch", (json_int_t)a->auth_epoch, "email_required",
                     a->email_required, "banned", a->banned);
}

static void post_accounts(struct ctl *c)
{
    const char *phone = NULL, *first = NULL, *last = NULL, *username = NULL, *password = NULL,
               *bio = NULL;
    int64_t dc = 1, user_id = 0, flood = 0;
    if (!f_str(c->body, "phone", true, &phone, &c->err) ||
        !f_str(c->body, "first_name", false, &first, &c->err) ||
        !f_str(c->body, "last_name", false, &last, &c->err) ||
        !f_str(c->body, "username", false, &username, &c->err) ||
        !f_str(c->body, "bio", false, &bio, &c->err) ||
        !f_str(c->body, "password", false, &password, &c->err) ||
        !f_int(c->body, "dc", false, 1, 5, &dc, &c->err) ||
        !f_int(c->body, "user_id", false, 1, INT64_MAX, &user_id, &c->err) ||
        !f_int(c->body, "flood_limit", false, 0, 1000000, &flood, &c->err))
        return fail_err(c->res, &c->err);
    if (!user_id && !first)
        return fail(c->res, 400, "\"first_name\" is required (or \"user_id\" of an existing user)");
    if (!user_id && bio) {
        if (world_user_add(c->w, first, last, username, bio, &user_id, &c->err) != DM_OK)
            return fail_err(c->res, &c->err);
    }
    struct sim_account *a;
    if (world_account_add(c->w, user_id, first, last, username, phone, (int)dc, password, &a,
                          &c->err) != DM_OK)
        return fail_err(c->res, &c->err);
    a->flood_limit = (unsigned)flood;
    http_res_json(c->res, 200, account_info(a));
}

static struct sim_account *path_account(struct ctl *c)
{
    struct sim_account *a = world_account(c->w, c->id);
    if (!a) fail(c->res, 400, "no account for user %" PRId64, c->id);
    return a;
}

static void get_account(struct ctl *c)
{
    struct sim_account *a = path_account(c);
    if (a) http_res_json(c->res, 200, account_info(a));
}

static void get_account_messages(struct ctl *c)
{
    struct sim_account *a = path_account(c);
    if (!a) return;
    json_t *items = json_array();
    for (size_t i = 0; i < a->ninbox; i++) {
        const struct sim_inbox_message *m = &a->inbox[i];
        json_array_append_new(items,
                              json_pack("{s:I,s:I,s:I,s:s,s:s}", "id", (json_int_t)m->id, "date",
                                        (json_int_t)m->date, "from_id", (json_int_t)m->from_id,
                                        "from", SIM_SERVICE_USER_NAME, "text", m->text));
    }
    http_res_json(c->res, 200, json_pack("{s:o}", "items", items));
}

/* The login code last sent to ?phone= or the body's "phone": an account's or a sign-up's (a
 * number without an account); NULL after answering 400. *id gets the account's user id, or 0. */
static struct sim_login_code *phone_code(struct ctl *c, const char *phone, const char **norm,
                                         int64_t *id)
{
    struct sim_account *a = phone ? world_account_by_phone(c->w, phone) : NULL;
    struct sim_signup *s = phone && !a ? world_signup(c->w, phone, false) : NULL;
    *id = a ? a->user_id : 0;
    *norm = a ? a->phone : s ? s->phone : "";
    struct sim_login_code *code = a ? &a->login : s ? &s->login : NULL;
    if (!code)
        fail(c->res, 400, "no account with phone %s, and no code was sent to it",
             phone ? phone : "(none: give ?phone=)");
    else if (!code->code[0])
        fail(c->res, 400, "no login code was sent to %s", *norm), code = NULL;
    return code;
}

static void get_login_code(struct ctl *c)
{
    const char *norm;
    int64_t id;
    struct sim_login_code *code = phone_code(c, http_query(c->req, "phone"), &norm, &id);
    if (!code) return;
    http_res_json(c->res, 200,
                  json_pack("{s:s,s:o,s:s,s:s,s:I,s:b,s:s}", "phone", norm, "id",
                            id ? json_integer(id) : json_null(), "code", code->code,
                            "phone_code_hash", code->hash, "sent_at", (json_int_t)code->sent_at,
                            "used", code->used, "via", code->sms ? "sms" : "app"));
}

/* Ages the last login code past its lifetime: signIn with it then answers PHONE_CODE_EXPIRED. */
static void post_login_code_expire(struct ctl *c)
{
    const char *phone = NULL, *norm;
    int64_t id;
    if (!f_str(c->body, "phone", true, &phone, &c->err)) return fail_err(c->res, &c->err);
    struct sim_login_code *code = phone_code(c, phone, &norm, &id);
    if (!code) return;
    code->sent_at -= 86400;
    http_res_json(c->res, 200,
                  json_pack("{s:s,s:I,s:b}", "phone", norm, "sent_at", (json_int_t)code->sent_at,
                            "expired", 1));
}

/* How Telegram treats the account's logins: {"email_required":b,"banned":b}, each optional. */
static void post_account_flags(struct ctl *c)
{
    struct sim_account *a = path_account(c);
    if (!a) return;
    json_t *v;
    const char *k;
    json_object_foreach(c->body, k, v)
    {
        if (strcmp(k, "email_required") && strcmp(k, "banned"))
            return fail(c->res, 400, "unknown field \"%s\" (email_required, banned)", k);
        if (!json_is_boolean(v)) return fail(c->res, 400, "\"%s\" must be true or false", k);
    }
    json_t *e = json_object_get(c->body, "email_required"), *b = json_object_get(c->body, "banned");
    if (e) a->email_required = json_is_true(e);
    if (b) a->banned = json_is_true(b);
    http_res_json(c->res, 200, account_info(a));
}

static void post_account_flood(struct ctl *c)
{
    struct sim_account *a = path_account(c);
    int64_t limit = -1, window = 60, wait = 0, count = 1;
    if (!a) return;
    if (!f_int(c->body, "flood_limit", false, 0, 1000000, &limit, &c->err) ||
        !f_int(c->body, "window", false, 1, 3600, &window, &c->err) ||
        !f_int(c->body, "wait", false, 1, 86400, &wait, &c->err) ||
        !f_int(c->body, "count", false, 0, 1000000, &count, &c->err))
        return fail_err(c->res, &c->err);
    if (limit >= 0) {
        a->flood_limit = (unsigned)limit;
        a->flood_window = (unsigned)window;
        a->flood_calls = 0;
        a->flood_window_start = world_mono();
    }
    if (wait) {
        a->flood_inject_seconds = (int)wait;
        a->flood_inject_count = (unsigned)count;
    }
    json_t *o = account_info(a);
    json_object_set_new(o, "flood_wait_pending", json_integer(a->flood_inject_count));
    http_res_json(c->res, 200, o);
}

static void post_account_revoke(struct ctl *c)
{
    struct sim_account *a = path_account(c);
    const char *error = "AUTH_KEY_UNREGISTERED";
    if (!a) return;
    if (!f_str(c->body, "error", false, &error, &c->err)) return fail_err(c->res, &c->err);
    if (strcmp(error, "AUTH_KEY_UNREGISTERED") && strcmp(error, "SESSION_REVOKED"))
        return fail(c->res, 400, "\"error\" must be AUTH_KEY_UNREGISTERED or SESSION_REVOKED");
    dm_strlcpy(a->revoke_error, error, sizeof a->revoke_error);
    a->auth_epoch++;
    http_res_json(c->res, 200, account_info(a));
}

static json_t *service_json(const struct sim_account *a)
{
    return json_pack("{s:s?,s:o}", "pending", a->service_ask[0] ? a->service_ask : NULL, "answers",
                     a->service_answers ? json_deep_copy(a->service_answers) : json_array());
}

/* POST /control/accounts/{id}/service {"ask": kind}: the account's connection is sent that
 * service message next (dc_server.c says what each one names and records). */
static void post_account_service(struct ctl *c)
{
    struct sim_account *a = path_account(c);
    const char *ask = NULL;
    if (!a) return;
    if (!f_str(c->body, "ask", true, &ask, &c->err)) return fail_err(c->res, &c->err);
    if (strcmp(ask, "msgs_state_req") && strcmp(ask, "msg_resend_req") &&
        strcmp(ask, "msg_detailed_info"))
        return fail(c->res, 400,
                    "\"ask\" must be msgs_state_req, msg_resend_req or msg_detailed_info");
    dm_strlcpy(a->service_ask, ask, sizeof a->service_ask);
    http_res_json(c->res, 200, service_json(a));
}

static void get_account_service(struct ctl *c)
{
    struct sim_account *a = path_account(c);
    if (a) http_res_json(c->res, 200, service_json(a));
}

static json_t *updates_json(const struct sim_account *a)
{
    const struct sim_upd_state *s = &a->upd;
    return json_pack("{s:i,s:i,s:i,s:I,s:I,s:I,s:I}", "pts", s->pts, "qts", s->qts, "seq", s->seq,
                     "date", (json_int_t)s->date, "logged", (json_int_t)s->n, "difference_calls",
                     (json_int_t)s->difference_calls, "too_long", (json_int_t)s->too_long);
}

/* POST /control/accounts/{id}/updates {"count": N, "hidden": false}: N service messages to the
 * account (updateNewMessage each, unrelated to join requests); hidden ones are logged for
 * getDifference but never pushed (a gap the client must fill). */
static void post_account_updates(struct ctl *c)
{
    struct sim_account *a = path_account(c);
    int64_t count = 1;
    bool hidden = false;
    if (!a) return;
    if (!f_int(c->body, "count", false, 1, 100000, &count, &c->err) ||
        !f_bool(c->body, "hidden", &hidden, &c->err))
        return fail_err(c->res, &c->err);
    for (int64_t i = 0; i < count; i++) {
        char text[64];
        snprintf(text, sizeof text, "Unrelated update %" PRId64 " of %" PRId64, i + 1, count);
        if (sim_upd_service_message(c->w, a, text, hidden))
            return fail(c->res, 500, "out of memory after %" PRId64 " updates", i);
    }
    http_res_json(c->res, 200, updates_json(a));
}

static void get_account_updates(struct ctl *c)
{
    struct sim_account *a = path_account(c);
    if (a) http_res_json(c->res, 200, updates_json(a));
}

static void get_dcs(struct ctl *c)
{
    http_res_json(c->res, 200, c->w->dcs ? json_deep_copy(c->w->dcs) : json_pack("{s:[]}", "dcs"));
}

/* --- routing ----------------------------------------------------------------------------- */

/* A route's pattern: segments after /control/, "#" matching an integer id. */
/* Opens a Mini App URL as the user would in Telegram (sim/webapp.h): {"bot_id","user_id","url",
 * "auth_date"? (default now), "platform"?, "theme_params"? (object), "hash"? (a forged one)} ->
 * {"url": with its launch fragment, "init_data"}. */
static void post_webapp_open(struct ctl *c)
{
    int64_t bot_id = 0, user_id = 0, auth_date = world_now();
    const char *url = NULL, *platform = "android", *hash = NULL;
    json_t *theme = json_object_get(c->body, "theme_params");
    if (!f_int(c->body, "bot_id", true, 1, INT64_MAX, &bot_id, &c->err) ||
        !f_int(c->body, "user_id", true, 1, INT64_MAX, &user_id, &c->err) ||
        !f_str(c->body, "url", true, &url, &c->err) ||
        !f_int(c->body, "auth_date", false, 1, INT64_MAX, &auth_date, &c->err) ||
        !f_str(c->body, "platform", false, &platform, &c->err) ||
        !f_str(c->body, "hash", false, &hash, &c->err))
        return fail_err(c->res, &c->err);
    if (theme && !json_is_object(theme))
        return fail(c->res, 400, "\"theme_params\" must be an object of colours");
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        return fail(c->res, 400, "\"url\" must be an http(s) URL, as Telegram requires");
    if (strchr(url, '#')) return fail(c->res, 400, "\"url\" must have no fragment");
    const struct sim_bot *bot = world_bot_by_id(c->w, bot_id);
    const struct sim_user *user = world_user(c->w, user_id);
    if (!bot) return fail(c->res, 400, "no bot with id %" PRId64, bot_id);
    if (!user) return fail(c->res, 400, "no user with id %" PRId64, user_id);
    char *themes = json_dumps(theme ? theme : json_object(), JSON_COMPACT);
    struct sim_webapp_launch l = {bot, user, url, auth_date, platform, themes ? themes : "{}",
                                  hash};
    struct buf data, full;
    buf_init(&data, 16384);
    buf_init(&full, 65536);
    dm_err e = sim_webapp_open(&l, &data, &full);
    free(themes);
    if (e)
        fail(c->res, 400, "could not make the launch: %s", dm_strerror(e));
    else
        http_res_json(c->res, 200,
                      json_pack("{s:s,s:s}", "url", full.data, "init_data", data.data));
    buf_release(&data);
    buf_release(&full);
}

static const struct route {
    const char *method;
    const char *pattern;
    void (*fn)(struct ctl *c);
} routes[] = {
    {"POST", "bots", post_bots},
    {"GET", "bots/#/messages", get_bot_messages},
    {"POST", "bots/#/settings", post_bot_settings},
    {"POST", "bots/#/press", post_bot_press},
    {"GET", "bots/#/callbacks", get_bot_callbacks},
    {"POST", "bots/#/dm", post_bot_dm},
    {"POST", "users", post_users},
    {"POST", "users/#/traits", post_user_traits},
    {"POST", "channels", post_channels},
    {"GET", "channels/#", get_channel},
    {"POST", "channels/#/admins", post_channel_admins},
    {"POST", "channels/#/members", post_channel_members},
    {"POST", "channels/#/guard-bot", post_channel_guard},
    {"POST", "join-requests", post_join_requests},
    {"POST", "join-requests/decide", post_join_request_decide},
    {"POST", "channels/#/links", post_channel_links},
    {"GET", "channels/#/links", get_channel_links},
    {"GET", "join-requests", get_join_requests},
    {"GET", "bans", get_bans},
    {"POST", "cas", post_cas},
    {"GET", "cas", get_cas},
    {"GET", "config", get_config},
    {"POST", "config", post_config},
    {"POST", "faults", post_faults},
    {"GET", "stats", get_stats},
    {"GET", "webhooks/#", get_webhook},
    {"POST", "accounts", post_accounts},
    {"GET", "accounts/#", get_account},
    {"POST", "accounts/#/flood", post_account_flood},
    {"POST", "accounts/#/flags", post_account_flags},
    {"POST", "accounts/#/revoke", post_account_revoke},
    {"GET", "accounts/#/messages", get_account_messages},
    {"POST", "accounts/#/service", post_account_service},
    {"GET", "accounts/#/service", get_account_service},
    {"POST", "accounts/#/updates", post_account_updates},
    {"GET", "accounts/#/updates", get_account_updates},
    {"GET", "login-code", get_login_code},
    {"POST", "login-code/expire", post_login_code_expire},
    {"GET", "dcs", get_dcs},
    {"POST", "temp-keys/expire", post_temp_keys_expire},
    {"POST", "webapp/open", post_webapp_open},
};

/* Matches path (after /control/) against pattern; stores a "#" segment's id. */
static bool route_match(const char *pattern, const char *path, int64_t *id)
{
    while (*pattern && *path) {
        if (*pattern == '#') {
            const char *end = strchr(path, '/');
            size_t n = end ? (size_t)(end - path) : strlen(path);
            char seg[32];
            if (n == 0 || n >= sizeof seg) return false;
            memcpy(seg, path, n);
            seg[n] = 0;
            if (!parse_id(seg, id)) return false;
            pattern++;
            path += n;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    if (*path == '/' && path[1] == 0) path++; /* a trailing slash is fine */
    return !*pattern && !*path;
}

void control_handle(struct world *w, const struct http_request *req, struct http_response *res)
{
    const char *path = req->path + strlen("/control/");
    const struct route *r = NULL;
    struct ctl c = {.w = w, .req = req, .res = res};
    bool path_known = false;
    for (size_t i = 0; i < DM_ARRAY_LEN(routes) && !r; i++) {
        if (!route_match(routes[i].pattern, path, &c.id)) continue;
        path_known = true;
        if (strcmp(routes[i].method, req->method) == 0) r = &routes[i];
    }
    if (!r) {
        if (path_known) return fail(res, 405, "%s is not allowed on %s", req->method, req->path);
        return fail(res, 404, "no control endpoint %s", req->path);
    }
    if (strcmp(r->method, "POST") == 0 && !(c.body = body_object(req, res))) return;
    world_lock(w);
    r->fn(&c);
    world_unlock(w);
    json_decref(c.body);
}
