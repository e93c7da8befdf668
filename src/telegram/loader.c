/* loader.c: channel references, rights and join-request pages over MTProto (loader.h). */
#include "core/common.h"
#include "telegram/loader.h"

#include "mtproto/tl_codec.h"
#include "telegram/pool.h"

#define CHANNEL_ID_BASE 1000000000000LL

int64_t loader_chat_id(int64_t channel_id)
{
    return -(CHANNEL_ID_BASE + channel_id);
}

int64_t loader_channel_id(int64_t chat_id)
{
    return -chat_id - CHANNEL_ID_BASE;
}

/* One call through the session's live client (pool_call: a dead key marks the session
 * invalid). Takes method. */
static dm_err call(const struct loader_via *via, json_t *method, json_t **result,
                   struct tg_error *te)
{
    dm_err e = method ? pool_call(via->pool, via->session, method, POOL_CALL_TIMEOUT_MS, result, te)
                      : tg_error_local(te, DM_ENOMEM, "out of memory");
    json_decref(method);
    return e;
}

/* ---- channels ---- */

static void copy_str(const json_t *obj, const char *field, char *out, size_t n)
{
    const char *s = "";
    tl_get_str(obj, field, &s, NULL);
    dm_strlcpy(out, s, n);
}

/* The object with `id` in a vector of chats or users, or NULL. */
static const json_t *object_in(const json_t *vec, int64_t id)
{
    size_t i;
    const json_t *o;
    json_array_foreach(vec, i, o)
    {
        int64_t oid = 0;
        if (!tl_get_long(o, "id", &oid, NULL) && oid == id) return o;
    }
    return NULL;
}

/* Fills *out from the channel `id` in a chats vector. */
static dm_err channel_from(const json_t *chats, int64_t id, struct account_channel *out,
                           struct tg_error *te)
{
    const json_t *chat = object_in(chats, id);
    if (!chat) return tg_error_set(te, TG_NOT_FOUND, 0);
    if (tl_is(chat, "channelForbidden")) {
        dm_err e = tg_error_set(te, TG_NOT_FOUND, 0);
        tg_error_say(te, "You are banned from that channel.");
        return e;
    }
    struct dm_error err = {0};
    if (!tl_is(chat, "channel"))
        return tg_error_local(te, DM_EPROTO, "Telegram described the channel in an unknown form");
    if (tl_get_long(chat, "access_hash", &out->access_hash, &err))
        return tg_error_local(te, DM_EPROTO, "%s", err.msg);
    out->id = id;
    out->chat_id = loader_chat_id(id);
    copy_str(chat, "title", out->title, sizeof out->title);
    copy_str(chat, "username", out->username, sizeof out->username);
    return DM_OK;
}

#define DIALOG_PAGE 100 /* dialogs asked for at once: Telegram's limit */
#define DIALOG_PAGES 50 /* pages read at most looking for a channel (5,000 dialogs) */

/* The channel `id` among the account's dialogs (messages.getDialogs, paged by the last channel
 * of each page): where an account that has not met a channel by name finds its access hash.
 * TG_NOT_FOUND when the account is in no such channel, or cannot list dialogs (a bot). */
static dm_err find_in_dialogs(const struct loader_via *via, int64_t id, struct account_channel *out,
                              struct tg_error *te)
{
    int64_t after = 0, after_hash = 0;
    for (int page = 0; page < DIALOG_PAGES; page++) {
        json_t *ans = NULL;
        json_t *offset = after ? json_pack("{s:s,s:I,s:I}", "_", "inputPeerChannel", "channel_id",
                                           (json_int_t)after, "access_hash", (json_int_t)after_hash)
                               : json_pack("{s:s}", "_", "inputPeerEmpty");
        dm_err e = call(via,
                        offset ? json_pack("{s:s,s:i,s:i,s:o,s:i,s:I}", "_", "messages.getDialogs",
                                           "offset_date", 0, "offset_id", 0, "offset_peer", offset,
                                           "limit", DIALOG_PAGE, "hash", (json_int_t)0)
                               : NULL,
                        &ans, te);
        if (e) {
            if (te->kind != TG_FLOOD && te->kind != TG_DEAD && te->kind != TG_UNREACHABLE)
                e = tg_error_set(te, TG_NOT_FOUND, 0); /* BOT_METHOD_INVALID: a bot lists none */
            return e;
        }
        const json_t *chats = json_object_get(ans, "chats");
        if (object_in(chats, id)) {
            e = channel_from(chats, id, out, te);
            json_decref(ans);
            return e;
        }
        /* the next page starts after this page's last channel */
        const json_t *dialogs = json_object_get(ans, "dialogs");
        size_t n = json_array_size(dialogs);
        const json_t *last = n ? json_object_get(json_array_get(dialogs, n - 1), "peer") : NULL;
        int64_t next = 0;
        bool more = !tl_is(ans, "messages.dialogs") && n == DIALOG_PAGE &&
                    tl_is(last, "peerChannel") && !tl_get_long(last, "channel_id", &next, NULL) &&
                    object_in(chats, next) &&
                    !tl_get_long(object_in(chats, next), "access_hash", &after_hash, NULL);
        after = next;
        json_decref(ans);
        if (!more) break;
    }
    return tg_error_set(te, TG_NOT_FOUND, 0);
}

/* channels.getChannels of the channel `id` with access hash `hash`: *out from the answer (kept in
 * *ans for the caller to free). */
static dm_err get_channel(const struct loader_via *via, int64_t id, int64_t hash, json_t **ans,
                          struct account_channel *out, struct tg_error *te)
{
    dm_err e = call(via,
                    json_pack("{s:s,s:[{s:s,s:I,s:I}]}", "_", "channels.getChannels", "id", "_",
                              "inputChannel", "channel_id", (json_int_t)id, "access_hash",
                              (json_int_t)hash),
                    ans, te);
    return e ? e : channel_from(json_object_get(*ans, "chats"), id, out, te);
}

dm_err loader_resolve(const struct loader_via *via, const struct account_ref *ref,
                      struct account_channel *out, struct tg_error *te)
{
    memset(out, 0, sizeof *out);
    json_t *ans = NULL;
    dm_err e;
    if (ref->username[0]) {
        e = call(via,
                 json_pack("{s:s,s:s}", "_", "contacts.resolveUsername", "username", ref->username),
                 &ans, te);
        if (te->kind == TG_NOT_FOUND)
            tg_error_say(te, "Channel not found: nobody is called @%s.", ref->username);
        if (e) return e;
        const json_t *peer = json_object_get(ans, "peer");
        int64_t id = 0;
        if (!tl_is(peer, "peerChannel") || tl_get_long(peer, "channel_id", &id, NULL)) {
            json_decref(ans);
            e = tg_error_set(te, TG_INPUT, 0);
            tg_error_say(te, "@%s is not a channel.", ref->username);
            return e;
        }
        e = channel_from(json_object_get(ans, "chats"), id, out, te);
    } else {
        /* the hash learned before, and (none, or it is refused: another account's, learned under
         * this session's name before it was deleted and made again) 0, which Telegram answers
         * for a bot in the channel; not a bot in it: look among the account's dialogs */
        int64_t known = 0;
        pool_peer_get(via->pool, via->session, ref->channel_id, &known);
        e = get_channel(via, ref->channel_id, known, &ans, out, te);
        if (te->kind == TG_NOT_FOUND && known) {
            json_decref(ans);
            ans = NULL;
            e = get_channel(via, ref->channel_id, 0, &ans, out, te);
        }
        if (te->kind == TG_NOT_FOUND) e = find_in_dialogs(via, ref->channel_id, out, te);
        if (te->kind == TG_NOT_FOUND)
            tg_error_say(te,
                         "Channel not found: this account is not in channel -100%" PRId64
                         ". Add it to the channel, or name the channel by its @username.",
                         ref->channel_id);
    }
    if (!e) pool_peer_put(via->pool, via->session, out->id, out->access_hash);
    json_decref(ans);
    return e;
}

dm_err loader_role(const struct loader_via *via, const struct account_channel *ch,
                   enum account_role *role, struct tg_error *te)
{
    *role = ACCOUNT_NOT_ADMIN;
    json_t *ans = NULL;
    json_t *in =
        json_pack("{s:s,s:{s:s,s:I,s:I},s:{s:s}}", "_", "channels.getParticipant", "channel", "_",
                  "inputChannel", "channel_id", (json_int_t)ch->id, "access_hash",
                  (json_int_t)ch->access_hash, "participant", "_", "inputPeerSelf");
    dm_err e = call(via, in, &ans, te);
    if (te->kind == TG_NO_RIGHT) /* USER_NOT_PARTICIPANT, CHAT_ADMIN_REQUIRED, … */
        return tg_error_set(te, TG_OK, 0);
    if (e) return e;
    const json_t *part = json_object_get(ans, "participant");
    const json_t *rights = json_object_get(part, "admin_rights");
    if (tl_is(part, "channelParticipantCreator") ||
        (tl_is(part, "channelParticipantAdmin") &&
         json_is_true(json_object_get(rights, "invite_users"))))
        *role = ACCOUNT_CAN_INVITE;
    else if (tl_is(part, "channelParticipantAdmin"))
        *role = ACCOUNT_ADMIN_NO_INVITE;
    json_decref(ans);
    return DM_OK;
}

/* ---- pages ---- */

int64_t loader_request_user(struct store_request *r, const json_t *users)
{
    const json_t *u = object_in(users, r->user_id);
    int64_t hash = 0;
    if (!u) return 0;
    copy_str(u, "first_name", r->first_name, sizeof r->first_name);
    copy_str(u, "last_name", r->last_name, sizeof r->last_name);
    copy_str(u, "username", r->username, sizeof r->username);
    r->is_premium = json_is_true(json_object_get(u, "premium"));
    r->is_scam = json_is_true(json_object_get(u, "scam"));
    r->is_fake = json_is_true(json_object_get(u, "fake"));
    (void)tl_get_long(u, "access_hash", &hash, NULL);
    return hash;
}

dm_err loader_page_from(const json_t *answer, int64_t chat_id, int64_t now,
                        struct account_page *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    const json_t *imps = json_object_get(answer, "importers"),
                 *users = json_object_get(answer, "users");
    if (!tl_is(answer, "messages.chatInviteImporters") || !json_is_array(imps) ||
        !json_is_array(users) || tl_get_long(answer, "count", &out->count, NULL) || out->count < 0)
        return dm_fail(err, DM_EPROTO,
                       "Telegram's list of join requests is not in the expected form");
    size_t n = json_array_size(imps);
    if (n > ACCOUNT_PAGE_MAX)
        return dm_fail(err, DM_EPROTO,
                       "Telegram sent %zu join requests in one page (at most %d expected)", n,
                       ACCOUNT_PAGE_MAX);
    out->rows = calloc(n ? n : 1, sizeof *out->rows);
    out->user_hashes = calloc(n ? n : 1, sizeof *out->user_hashes);
    if (!out->rows || !out->user_hashes) {
        account_page_release(out);
        return dm_fail(err, DM_ENOMEM, "out of memory");
    }
    size_t i;
    const json_t *imp;
    json_array_foreach(imps, i, imp)
    {
        struct store_request *r = &out->rows[i];
        if (!tl_is(imp, "chatInviteImporter") || tl_get_long(imp, "user_id", &r->user_id, NULL) ||
            tl_get_long(imp, "date", &r->tg_date, NULL) || r->user_id <= 0) {
            account_page_release(out);
            return dm_fail(err, DM_EPROTO, "Telegram sent a join request without a user or a date");
        }
        r->chat_id = chat_id;
        r->status = REQ_PENDING;
        r->created_at = now;
        copy_str(imp, "about", r->bio, sizeof r->bio);
        int64_t hash = loader_request_user(r, users);
        out->user_hashes[i] = hash;
        out->next =
            (struct account_cursor){.date = r->tg_date, .user_id = r->user_id, .user_hash = hash};
    }
    out->n = n;
    return DM_OK;
}

/* Drops the rows newer than date (read before: the list is newest first), keeping the order. */
static void drop_newer(struct account_page *p, int64_t date)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->rows[i].tg_date <= date) {
            p->rows[k] = p->rows[i];
            p->user_hashes[k++] = p->user_hashes[i];
        }
    p->n = k;
}

dm_err loader_fetch_page(const struct loader_via *via, const struct account_channel *ch,
                         const struct account_cursor *from, int limit, int64_t now,
                         struct account_page *out, struct tg_error *te)
{
    memset(out, 0, sizeof *out);
    limit = DM_MAX(1, DM_MIN(limit, ACCOUNT_PAGE_MAX));
    /* Another session's cursor: its user's access hash is not ours, so go on from the second
     * after its date with no user (Telegram lists from before offset_date then: every request
     * of the cursor's second comes again, and those newer than it are dropped if any come). */
    bool foreign = from->user_id && from->by[0] && strcmp(from->by, via->session) != 0;
    const struct account_cursor restart = {.date = from->date + 1};
    const struct account_cursor *at = foreign ? &restart : from;
    json_t *offset_user =
        at->user_id ? json_pack("{s:s,s:I,s:I}", "_", "inputUser", "user_id",
                                (json_int_t)at->user_id, "access_hash", (json_int_t)at->user_hash)
                    : json_pack("{s:s}", "_", "inputUserEmpty");
    json_t *in =
        json_pack("{s:s,s:b,s:{s:s,s:I,s:I},s:I,s:o,s:i}", "_", "messages.getChatInviteImporters",
                  "requested", 1, "peer", "_", "inputPeerChannel", "channel_id", (json_int_t)ch->id,
                  "access_hash", (json_int_t)ch->access_hash, "offset_date", (json_int_t)at->date,
                  "offset_user", offset_user, "limit", limit);
    json_t *ans = NULL;
    dm_err e = call(via, in, &ans, te);
    if (e) return e;
    struct dm_error err = {0};
    e = loader_page_from(ans, loader_chat_id(ch->id), now, out, &err);
    json_decref(ans);
    if (e) return tg_error_local(te, e, "%s", err.msg);
    if (out->n > (size_t)limit) {
        account_page_release(out);
        return tg_error_local(te, DM_EPROTO, "Telegram sent more join requests than asked for");
    }
    if (out->n == 0) {
        out->next = *from;
        return DM_OK;
    }
    dm_strlcpy(out->next.by, via->session, sizeof out->next.by);
    if (foreign) drop_newer(out, from->date);
    return DM_OK;
}
