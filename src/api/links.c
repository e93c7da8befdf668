/* links.c: a channel's invite links (docs/api.md, Invite links) and the decisions made in
 * Telegram by other admins (jobs/telegram_decisions.h does the checking). Viewers read and
 * deciders change the links of their channels only (router.c, api_channel_allowed). */
#include "core/common.h"
#include "api/api.h"
#include "jobs/telegram_decisions.h"
#include "telegram/account.h"

static json_t *link_json(const struct store_link *l)
{
    return json_pack(
        "{s:s,s:o,s:I,s:o,s:o,s:o,s:b,s:b,s:b,s:I,s:I}", "link", l->link, "name", api_text(l->name),
        "creator_id", (json_int_t)l->creator_id, "created_at", api_time_or_null(l->created_at),
        "expire_date", api_time_or_null(l->expire_date), "member_limit",
        l->member_limit ? json_integer(l->member_limit) : json_null(), "creates_join_request",
        l->creates_join_request, "revoked", l->revoked, "known", l->known, "pending",
        (json_int_t)l->pending, "requests", (json_int_t)l->requests);
}

/* The body's chat_id (a channel's id, required, among the caller's channels). */
static bool body_chat(struct api_ctx *c, int64_t *chat_id)
{
    json_t *v = json_object_get(c->body, "chat_id");
    if (!json_is_integer(v) || json_integer_value(v) == 0)
        return api_bad_request(c, "'chat_id' must be a channel's id.");
    *chat_id = json_integer_value(v);
    return api_channel_allowed(c, *chat_id);
}

/* Answers with the channel's links as the store has them. */
static void links_answer(struct api_ctx *c, int64_t chat_id)
{
    struct store_link *v = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    dm_err e = store_link_list(c->env->store, chat_id, &v, &n, &err);
    if (e) return (void)api_store_failed(c, e, &err);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, link_json(&v[i]));
    free(v);
    http_res_json(c->res, 200, json_pack("{s:o}", "items", items));
}

void api_links_list(struct api_ctx *c)
{
    int64_t chat_id = 0;
    if (!api_query_int(c, "chat_id", INT64_MIN, INT64_MAX, &chat_id)) return;
    if (!chat_id) return (void)api_bad_request(c, "'chat_id' must be a channel's id.");
    if (!api_channel_allowed(c, chat_id)) return;
    links_answer(c, chat_id);
}

/* The link's fields from the body (create and edit). */
static bool body_spec(struct api_ctx *c, struct account_link_spec *s)
{
    memset(s, 0, sizeof *s);
    json_t *jr = json_object_get(c->body, "creates_join_request");
    if (jr && !json_is_boolean(jr))
        return api_bad_request(c, "'creates_join_request' must be true or false.");
    s->creates_join_request = json_is_true(jr);
    if (!api_field_string(c, "name", false, 32 * 4, &s->name) ||
        !api_field_int(c, "expire_date", false, &s->expire_date) ||
        !api_field_int(c, "member_limit", false, &s->member_limit))
        return false;
    if (s->expire_date < 0) return api_bad_request(c, "'expire_date' must be a Unix time.");
    if (s->member_limit < 0 || s->member_limit > 99999)
        return api_bad_request(c, "'member_limit' must be from 1 to 99999 (0: none).");
    if (s->member_limit && s->creates_join_request)
        return api_bad_request(c, "A link that needs an admin's approval cannot have a member "
                                  "limit: leave one of them out.");
    return true;
}

/* Create, edit or revoke through the bot; the link as Telegram answers it is saved and
 * audited. */
static void link_write(struct api_ctx *c, enum account_link_op op)
{
    static const char *const actions[] = {[ACCOUNT_LINK_CREATE] = "link_create",
                                          [ACCOUNT_LINK_EDIT] = "link_edit",
                                          [ACCOUNT_LINK_REVOKE] = "link_revoke"};
    int64_t chat_id = 0;
    const char *link = NULL;
    struct account_link_spec spec = {0};
    bool ok = op == ACCOUNT_LINK_REVOKE
                  ? api_only_fields(c, c->body, NULL, "chat_id", "link", NULL)
                  : api_only_fields(c, c->body, NULL, "chat_id", "link", "name", "expire_date",
                                    "member_limit", "creates_join_request", NULL);
    if (!ok || !body_chat(c, &chat_id) ||
        !api_field_string(c, "link", op != ACCOUNT_LINK_CREATE, STORE_LINK_MAX - 1, &link) ||
        (op != ACCOUNT_LINK_REVOKE && !body_spec(c, &spec)))
        return;
    struct account *a = NULL;
    struct dm_error err = {0};
    dm_err e = account_open_chosen(c->env->accounts, NULL, &a, &err);
    if (e) return (void)api_store_failed(c, e, &err);
    struct account_channel ch;
    struct store_link out;
    struct tg_error te = {0};
    e = account_channel(a, chat_id, &ch, &te);
    if (!e) e = account_link_write(a, &ch, op, link, &spec, &out, &te);
    account_close(a);
    /* Telegram refusing the link's fields (or an unknown link) is the admin's to fix: a 400 */
    if (e && te.kind == TG_REFUSED) return (void)api_bad_request(c, "%s", te.e.msg);
    if (e) return (void)api_tg_failed(c, &te);
    int64_t now = (int64_t)time(NULL);
    struct store_audit au = {.at = now, .chat_id = chat_id, .via = ACCOUNT_BOT, .result = "ok"};
    dm_strlcpy(au.admin, c->session.admin_name, sizeof au.admin);
    dm_strlcpy(au.action, actions[op], sizeof au.action);
    dm_strlcpy(au.detail, out.link, sizeof au.detail);
    e = store_link_put(c->env->store, &out, now, &err);
    if (!e) e = store_audit_add(c->env->store, &au, &err);
    if (e) return (void)api_store_failed(c, e, &err);
    out.updated_at = now;
    http_res_json(c->res, 200, json_pack("{s:o}", "link", link_json(&out)));
}

void api_links_create(struct api_ctx *c)
{
    link_write(c, ACCOUNT_LINK_CREATE);
}

void api_links_edit(struct api_ctx *c)
{
    link_write(c, ACCOUNT_LINK_EDIT);
}

void api_links_revoke(struct api_ctx *c)
{
    link_write(c, ACCOUNT_LINK_REVOKE);
}

/* Reads every link of the channel through a session and saves them. */
void api_links_refresh(struct api_ctx *c)
{
    int64_t chat_id = 0;
    if (!api_only_fields(c, c->body, NULL, "chat_id", "session_name", NULL) ||
        !body_chat(c, &chat_id))
        return;
    if (!json_is_string(json_object_get(c->body, "session_name")))
        return (void)api_bad_request(c, "'session_name' must name the session that lists the "
                                        "links: the Bot API cannot list them.");
    struct account *a = api_body_account(c, true);
    if (!a) return;
    struct account_channel ch;
    struct store_link *v = NULL;
    size_t n = 0;
    struct tg_error te = {0};
    dm_err e = account_channel(a, chat_id, &ch, &te);
    if (!e) e = account_links(a, &ch, &v, &n, &te);
    account_close(a);
    if (e) return (void)api_tg_failed(c, &te);
    struct dm_error err = {0};
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n && !e; i++)
        e = store_link_put(c->env->store, &v[i], now, &err);
    free(v);
    if (e) return (void)api_store_failed(c, e, &err);
    links_answer(c, chat_id);
}

/* Checks the channel's admin log through a session for decisions made in Telegram. */
void api_decisions_check(struct api_ctx *c)
{
    int64_t chat_id = 0;
    if (!api_only_fields(c, c->body, NULL, "chat_id", "session_name", NULL) ||
        !body_chat(c, &chat_id))
        return;
    if (!json_is_string(json_object_get(c->body, "session_name")))
        return (void)api_bad_request(c, "'session_name' must name the session that reads the "
                                        "admin log: the Bot API cannot read it.");
    struct account *a = api_body_account(c, true);
    if (!a) return;
    struct tg_decisions_result r = {0};
    struct tg_error te = {0};
    dm_err e = tg_decisions_sweep(c->env->store, a, chat_id, &r, &te);
    account_close(a);
    if (e) return (void)api_tg_failed(c, &te);
    http_res_json(
        c->res, 200,
        json_pack("{s:I,s:I}", "events", (json_int_t)r.events, "recorded", (json_int_t)r.recorded));
}
