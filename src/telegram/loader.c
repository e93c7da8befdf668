/* loader.c: channel references, rights and join-request pages over MTProto (loader.h). */
#include "core/common.h"
#include "telegram/loader.h"

#include "mtproto/client.h"
#include "telegram/pool.h"
#include "mtproto/tl_codec.h"

#define CHANNEL_ID_BASE 1000000000000LL
#define NOT_FOUND_HINT "Channel not found: use its @username or t.me link"

/* ---- references ---- */

static bool username_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* Copies the username at s (up to the end, '/', '?' or '#') into out; false when it is not
 * one (empty, too long, a character Telegram does not allow). */
static bool take_username(const char *s, struct loader_ref *out)
{
    size_t n = strcspn(s, "/?#");
    if (n == 0 || n >= sizeof out->username) return false;
    for (size_t i = 0; i < n; i++)
        if (!username_char(s[i])) return false;
    memcpy(out->username, s, n);
    out->username[n] = 0;
    return true;
}

/* The part after "t.me/" (with or without a scheme and "www."), or NULL for anything else. */
static const char *link_path(const char *s)
{
    static const char *const schemes[] = {"https://", "http://"};
    static const char *const hosts[] = {"t.me/", "telegram.me/", "telegram.dog/"};
    for (size_t i = 0; i < DM_ARRAY_LEN(schemes); i++)
        if (strncasecmp(s, schemes[i], strlen(schemes[i])) == 0) {
            s += strlen(schemes[i]);
            break;
        }
    if (strncasecmp(s, "www.", 4) == 0) s += 4;
    for (size_t i = 0; i < DM_ARRAY_LEN(hosts); i++)
        if (strncasecmp(s, hosts[i], strlen(hosts[i])) == 0) return s + strlen(hosts[i]);
    return NULL;
}

dm_err loader_parse_ref(const char *s, struct loader_ref *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '/'))
        len--;
    char buf[256];
    if (len == 0)
        return dm_fail(err, DM_EINVAL, "Enter the channel's @username, t.me link or -100… id.");
    if (len >= sizeof buf)
        return dm_fail(err, DM_EINVAL, "That is too long for a channel address.");
    memcpy(buf, s, len);
    buf[len] = 0;

    if (buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')) {
        char *end;
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (errno || *end)
            return dm_fail(err, DM_EINVAL,
                           "\"%s\" is not a channel id: channel ids look like -1001234567890.",
                           buf);
        if (v >= -CHANNEL_ID_BASE)
            return dm_fail(
                err, DM_EINVAL,
                "%s is not a channel id: channel ids start with -100 (like -1001234567890).", buf);
        out->channel_id = -(v + CHANNEL_ID_BASE);
        return DM_OK;
    }
    const char *path = link_path(buf);
    if (path) {
        if (*path == '+' || strncasecmp(path, "joinchat/", 9) == 0)
            return dm_fail(
                err, DM_EINVAL,
                "That is an invite link, not the channel's address: use the channel's @username, "
                "its t.me/username link or its -100… id.");
        if (strncasecmp(path, "s/", 2) == 0) path += 2; /* the web preview, t.me/s/name */
        if (take_username(path, out)) return DM_OK;
        return dm_fail(
            err, DM_EINVAL,
            "\"%s\" is not a channel link: it should look like https://t.me/channelname.", buf);
    }
    const char *name = buf[0] == '@' ? buf + 1 : buf;
    if (strlen(name) == strcspn(name, "/?#") && take_username(name, out)) return DM_OK;
    return dm_fail(
        err, DM_EINVAL,
        "\"%s\" is not a channel address: use @username (letters, digits and _), a t.me link "
        "or a -100… id.",
        buf);
}

int64_t loader_chat_id(int64_t channel_id)
{
    return -(CHANNEL_ID_BASE + channel_id);
}

/* ---- failures ---- */

dm_err loader_fail(dm_err e, const struct mt_rpc_error *rpc, const char *what, int *retry_after,
                   struct dm_error *err)
{
    static const char *const not_found[] = {"CHANNEL_INVALID",  "CHAT_ID_INVALID",
                                            "PEER_ID_INVALID",  "USERNAME_NOT_OCCUPIED",
                                            "USERNAME_INVALID", "CHANNEL_PUBLIC_GROUP_NA"};
    if (e == DM_ETELEGRAM && rpc) {
        for (size_t i = 0; i < DM_ARRAY_LEN(not_found); i++)
            if (mt_rpc_error_is(rpc, not_found[i]))
                return dm_fail(err, DM_ENOTFOUND, NOT_FOUND_HINT);
        if (mt_rpc_error_is(rpc, "USER_NOT_PARTICIPANT"))
            return dm_fail(err, DM_EFORBIDDEN, LOADER_NO_PERMISSION);
        if (mt_rpc_error_is(rpc, "BOT_METHOD_INVALID"))
            return dm_fail(err, DM_ETELEGRAM,
                           "A bot session cannot list join requests: use a user session.");
        if (rpc->code >= 500 || rpc->code == -503)
            return dm_fail(err, DM_EUNAVAILABLE, "Telegram had a problem %s (%s)", what,
                           rpc->message);
    }
    /* flood waits, dead keys, missing rights: the Session Manager's common answers */
    struct tg_error te = {0};
    dm_err code = tg_error_from_call(&te, e, rpc, err);
    if (code == DM_ERATELIMIT && retry_after)
        *retry_after = te.retry_after < 1         ? 1
                       : te.retry_after > INT_MAX ? INT_MAX
                                                  : (int)te.retry_after;
    if (code == DM_ETELEGRAM && te.why == TG_WHY_OTHER && rpc)
        return dm_fail(err, code, "Telegram refused %s: %s", what, rpc->message);
    if (err) *err = te.e;
    return code;
}

/* One call through the session's live client; on failure the code and sentence of
 * loader_fail. Takes method. */
static dm_err call(const struct loader_via *via, json_t *method, const char *what, json_t **result,
                   int *retry_after, struct dm_error *err)
{
    struct mt_rpc_error rpc = {0};
    dm_err e =
        method ? pool_call(via->pool, via->session, method, POOL_CALL_TIMEOUT_MS, result, &rpc, err)
               : dm_fail(err, DM_ENOMEM, "out of memory");
    json_decref(method);
    return e ? loader_fail(e, &rpc, what, retry_after, err) : DM_OK;
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
static dm_err channel_from(const json_t *chats, int64_t id, struct loader_channel *out,
                           struct dm_error *err)
{
    const json_t *chat = object_in(chats, id);
    if (!chat) return dm_fail(err, DM_ENOTFOUND, NOT_FOUND_HINT);
    if (tl_is(chat, "channelForbidden"))
        return dm_fail(err, DM_ENOTFOUND, "You are banned from that channel.");
    if (!tl_is(chat, "channel"))
        return dm_fail(err, DM_EPROTO, "Telegram described the channel in an unknown form");
    dm_err e = tl_get_long(chat, "access_hash", &out->access_hash, err);
    if (e) return e;
    out->id = id;
    copy_str(chat, "title", out->title, sizeof out->title);
    copy_str(chat, "username", out->username, sizeof out->username);
    return DM_OK;
}

dm_err loader_resolve(const struct loader_via *via, const struct loader_ref *ref,
                      struct loader_channel *out, int *retry_after, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    json_t *ans = NULL;
    dm_err e;
    if (ref->username[0]) {
        e = call(via,
                 json_pack("{s:s,s:s}", "_", "contacts.resolveUsername", "username", ref->username),
                 "to find the channel", &ans, retry_after, err);
        if (e == DM_ENOTFOUND)
            return dm_fail(err, e, "Channel not found: nobody is called @%s.", ref->username);
        if (e) return e;
        const json_t *peer = json_object_get(ans, "peer");
        int64_t id = 0;
        if (!tl_is(peer, "peerChannel") || tl_get_long(peer, "channel_id", &id, NULL)) {
            json_decref(ans);
            return dm_fail(err, DM_EINVAL, "@%s is not a channel.", ref->username);
        }
        e = channel_from(json_object_get(ans, "chats"), id, out, err);
    } else {
        json_t *in = json_pack("{s:s,s:[{s:s,s:I,s:I}]}", "_", "channels.getChannels", "id", "_",
                               "inputChannel", "channel_id", (json_int_t)ref->channel_id,
                               "access_hash", (json_int_t)0);
        e = call(via, in, "to find the channel", &ans, retry_after, err);
        if (e) return e;
        e = channel_from(json_object_get(ans, "chats"), ref->channel_id, out, err);
    }
    json_decref(ans);
    return e;
}

dm_err loader_role(const struct loader_via *via, const struct loader_channel *ch,
                   enum loader_role *role, int *retry_after, struct dm_error *err)
{
    *role = LOADER_NOT_ADMIN;
    json_t *ans = NULL;
    json_t *in =
        json_pack("{s:s,s:{s:s,s:I,s:I},s:{s:s}}", "_", "channels.getParticipant", "channel", "_",
                  "inputChannel", "channel_id", (json_int_t)ch->id, "access_hash",
                  (json_int_t)ch->access_hash, "participant", "_", "inputPeerSelf");
    dm_err e = call(via, in, "to tell your rights in the channel", &ans, retry_after, err);
    if (e == DM_EFORBIDDEN) return DM_OK; /* USER_NOT_PARTICIPANT, CHAT_ADMIN_REQUIRED, … */
    if (e) return e;
    const json_t *part = json_object_get(ans, "participant");
    const json_t *rights = json_object_get(part, "admin_rights");
    if (tl_is(part, "channelParticipantCreator") ||
        (tl_is(part, "channelParticipantAdmin") &&
         json_is_true(json_object_get(rights, "invite_users"))))
        *role = LOADER_CAN_INVITE;
    else if (tl_is(part, "channelParticipantAdmin"))
        *role = LOADER_ADMIN_NO_INVITE;
    json_decref(ans);
    return DM_OK;
}

dm_err loader_check_rights(const struct loader_via *via, const struct loader_channel *ch,
                           int *retry_after, struct dm_error *err)
{
    enum loader_role role;
    dm_err e = loader_role(via, ch, &role, retry_after, err);
    if (e) return e;
    return role == LOADER_CAN_INVITE ? DM_OK : dm_fail(err, DM_EFORBIDDEN, LOADER_NO_PERMISSION);
}

/* ---- pages ---- */

dm_err loader_cursor_format(const struct loader_cursor *c, char *out, size_t n)
{
    int w = snprintf(out, n, "{\"date\":%" PRId64 ",\"user\":%" PRId64 ",\"hash\":%" PRId64 "}",
                     c->date, c->user_id, c->user_hash);
    return w < 0 || (size_t)w >= n ? DM_ETOOBIG : DM_OK;
}

dm_err loader_cursor_parse(const char *s, struct loader_cursor *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s) return DM_OK;
    json_t *j = json_loads(s, 0, NULL);
    dm_err e = j && !tl_get_long(j, "date", &out->date, NULL) &&
                       !tl_get_long(j, "user", &out->user_id, NULL) &&
                       !tl_get_long(j, "hash", &out->user_hash, NULL)
                   ? DM_OK
                   : dm_fail(err, DM_EINVAL, "the job's saved position is damaged");
    json_decref(j);
    return e;
}

void loader_page_release(struct loader_page *p)
{
    free(p->rows);
    free(p->user_hashes);
    memset(p, 0, sizeof *p);
}

dm_err loader_page_from(const json_t *answer, int64_t chat_id, int64_t now, struct loader_page *out,
                        struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    const json_t *imps = json_object_get(answer, "importers"),
                 *users = json_object_get(answer, "users");
    if (!tl_is(answer, "messages.chatInviteImporters") || !json_is_array(imps) ||
        !json_is_array(users) || tl_get_long(answer, "count", &out->count, NULL) || out->count < 0)
        return dm_fail(err, DM_EPROTO,
                       "Telegram's list of join requests is not in the expected form");
    size_t n = json_array_size(imps);
    if (n > LOADER_PAGE_MAX)
        return dm_fail(err, DM_EPROTO,
                       "Telegram sent %zu join requests in one page (at most %d expected)", n,
                       LOADER_PAGE_MAX);
    out->rows = calloc(n ? n : 1, sizeof *out->rows);
    out->user_hashes = calloc(n ? n : 1, sizeof *out->user_hashes);
    if (!out->rows || !out->user_hashes) {
        loader_page_release(out);
        return dm_fail(err, DM_ENOMEM, "out of memory");
    }
    size_t i;
    const json_t *imp;
    json_array_foreach(imps, i, imp)
    {
        struct store_request *r = &out->rows[i];
        if (!tl_is(imp, "chatInviteImporter") || tl_get_long(imp, "user_id", &r->user_id, NULL) ||
            tl_get_long(imp, "date", &r->tg_date, NULL) || r->user_id <= 0) {
            loader_page_release(out);
            return dm_fail(err, DM_EPROTO, "Telegram sent a join request without a user or a date");
        }
        r->chat_id = chat_id;
        r->status = REQ_PENDING;
        r->created_at = now;
        copy_str(imp, "about", r->bio, sizeof r->bio);
        const json_t *u = object_in(users, r->user_id);
        int64_t hash = 0;
        if (u) {
            copy_str(u, "first_name", r->first_name, sizeof r->first_name);
            copy_str(u, "last_name", r->last_name, sizeof r->last_name);
            copy_str(u, "username", r->username, sizeof r->username);
            tl_get_long(u, "access_hash", &hash, NULL);
        }
        out->user_hashes[i] = hash;
        out->next = (struct loader_cursor){r->tg_date, r->user_id, hash};
    }
    out->n = n;
    return DM_OK;
}

dm_err loader_fetch_page(const struct loader_via *via, const struct loader_channel *ch,
                         const struct loader_cursor *from, int limit, int64_t now,
                         struct loader_page *out, int *retry_after, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    limit = DM_MAX(1, DM_MIN(limit, LOADER_PAGE_MAX));
    json_t *offset_user = from->user_id ? json_pack("{s:s,s:I,s:I}", "_", "inputUser", "user_id",
                                                    (json_int_t)from->user_id, "access_hash",
                                                    (json_int_t)from->user_hash)
                                        : json_pack("{s:s}", "_", "inputUserEmpty");
    json_t *in =
        json_pack("{s:s,s:b,s:{s:s,s:I,s:I},s:I,s:o,s:i}", "_", "messages.getChatInviteImporters",
                  "requested", 1, "peer", "_", "inputPeerChannel", "channel_id", (json_int_t)ch->id,
                  "access_hash", (json_int_t)ch->access_hash, "offset_date", (json_int_t)from->date,
                  "offset_user", offset_user, "limit", limit);
    json_t *ans = NULL;
    dm_err e = call(via, in, "to list the join requests", &ans, retry_after, err);
    if (e) return e;
    e = loader_page_from(ans, loader_chat_id(ch->id), now, out, err);
    json_decref(ans);
    if (!e && out->n > (size_t)limit) {
        loader_page_release(out);
        return dm_fail(err, DM_EPROTO, "Telegram sent more join requests than asked for");
    }
    if (!e && out->n == 0) out->next = *from;
    return e;
}
