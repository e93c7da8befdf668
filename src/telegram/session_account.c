/* session_account.c: a session as an account (account.h): MTProto calls through the session's
 * one pooled client (every call with pool_call, so a dead key marks the session invalid), made
 * by loader.h or here.
 *
 * Deciding one request (messages.hideChatJoinRequest) needs the channel's and the user's
 * access hashes as this session knows them. The channel's is resolved once per handle
 * (account_channel). The user's, which doorman does not store, is read from the channel's
 * pending list as the session sees it (getChatInviteImporters around the request's date; the
 * whole list once a channel keeps missing) and kept in the handle. A request that list does not
 * hold is already handled on Telegram (as HIDE_REQUESTER_MISSING).
 *
 * Banning (channels.editBanned) and reading photos (photos.getUserPhotos) need the same user
 * access hash, found the same way; unbanning also looks in the channel's banned list
 * (channels.getParticipants with channelParticipantsKicked), since a banned user's request is
 * no longer pending. */
#include "core/common.h"

#include "mtproto/client.h"
#include "mtproto/tl_codec.h"
#include "telegram/account_backend.h"
#include "telegram/loader.h"
#include "telegram/pool.h"

#include <pthread.h>

#define CHANNELS_MAX 256     /* channels kept per handle; beyond, the oldest is forgotten */
#define USERS_MAX (1u << 20) /* user access hashes kept per handle (24 MiB at most) */
#define FULL_AFTER 3         /* misses in a channel before its whole pending list is read */
#define AROUND_PAGES 20      /* pages read at most to find one request around its date */
#define FULL_PAGES 5000      /* pages read at most for a whole list (500,000 requests) */

/* ---- what a handle keeps ---- */

struct chan {
    int64_t chat_id;
    struct account_channel ch;
    int misses;  /* requests looked up around their date */
    bool listed; /* the whole pending list was read */
};

struct user_slot {
    int64_t chat_id, user_id; /* user_id 0: empty */
    int64_t hash;
};

struct session_account {
    struct account base;
    pthread_mutex_t mu; /* guards the caches */
    struct chan chans[CHANNELS_MAX];
    size_t nchans, next_evict;
    struct user_slot *users; /* open addressing, cap a power of two */
    size_t nusers, cap;
    pthread_mutex_t lookup; /* one lookup on Telegram at a time (others wait, then find it) */
};

static size_t slot_of(int64_t chat_id, int64_t user_id, size_t cap)
{
    uint64_t h = (uint64_t)user_id * 0x9e3779b97f4a7c15u ^ (uint64_t)chat_id * 0xc2b2ae3d27d4eb4fu;
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* mu held. */
static bool user_find(struct session_account *s, int64_t chat_id, int64_t user_id, int64_t *hash)
{
    if (!s->cap) return false;
    for (size_t i = slot_of(chat_id, user_id, s->cap);; i = (i + 1) & (s->cap - 1)) {
        struct user_slot *u = &s->users[i];
        if (!u->user_id) return false;
        if (u->user_id == user_id && u->chat_id == chat_id) {
            *hash = u->hash;
            return true;
        }
    }
}

/* mu held. Keeps at most USERS_MAX (then forgets nothing and adds nothing: lookups go on). */
static void user_put(struct session_account *s, int64_t chat_id, int64_t user_id, int64_t hash)
{
    if ((s->nusers + 1) * 4 > s->cap * 3) { /* over 3/4 full: grow */
        size_t cap = s->cap ? s->cap * 2 : 1024;
        if (cap > USERS_MAX * 2) return;
        struct user_slot *v = calloc(cap, sizeof *v);
        if (!v) return;
        for (size_t i = 0; i < s->cap; i++) {
            struct user_slot *u = &s->users[i];
            if (!u->user_id) continue;
            size_t j = slot_of(u->chat_id, u->user_id, cap);
            while (v[j].user_id)
                j = (j + 1) & (cap - 1);
            v[j] = *u;
        }
        free(s->users);
        s->users = v;
        s->cap = cap;
    }
    for (size_t i = slot_of(chat_id, user_id, s->cap);; i = (i + 1) & (s->cap - 1)) {
        struct user_slot *u = &s->users[i];
        if (u->user_id == user_id && u->chat_id == chat_id) {
            u->hash = hash;
            return;
        }
        if (!u->user_id) {
            *u = (struct user_slot){chat_id, user_id, hash};
            s->nusers++;
            return;
        }
    }
}

/* mu held. */
static struct chan *chan_find(struct session_account *s, int64_t chat_id)
{
    for (size_t i = 0; i < s->nchans; i++)
        if (s->chans[i].chat_id == chat_id) return &s->chans[i];
    return NULL;
}

static struct session_account *of(struct account *a)
{
    return (struct session_account *)a;
}

static struct loader_via via_of(struct account *a)
{
    return (struct loader_via){a->as->pool, a->name};
}

/* ---- the session's state ---- */

static dm_err sess_usable(struct account *a, struct dm_error *err)
{
    struct store_session s;
    struct dm_error serr = {0};
    dm_err e = store_session_get(a->as->store, a->name, &s, &serr);
    if (e == DM_ENOTFOUND)
        return dm_fail(err, DM_ENOTFOUND,
                       "Session '%s' does not exist: choose another account or add it on the "
                       "Sessions page",
                       a->name);
    if (e) return dm_fail(err, e, "%s", serr.msg);
    if (s.status == SESSION_ACTIVE) return DM_OK;
    return dm_fail(err, DM_EAUTH,
                   "Session '%s' is not active (%s%s%s): check it on the Sessions page", a->name,
                   session_status_name(s.status), s.status_reason[0] ? ": " : "", s.status_reason);
}

/* Check Status (users.getUsers self), which also records what it finds. */
static void sess_check(struct account *a, struct account_check *out)
{
    struct store_session row;
    struct tg_error te = {0};
    if (pool_check(a->as->pool, a->name, (int64_t)time(NULL), &row, &te)) {
        dm_strlcpy(out->status, "error", sizeof out->status);
        dm_strlcpy(out->error, te.e.msg, sizeof out->error);
        return;
    }
    out->ok = row.status == SESSION_ACTIVE;
    dm_strlcpy(out->status, session_status_name(row.status), sizeof out->status);
    if (!out->ok)
        dm_snprintf_utf8(out->error, sizeof out->error, "%.100s%s%.100s%s", row.last_error,
                         row.status_reason[0] ? " (" : "", row.status_reason,
                         row.status_reason[0] ? ")" : "");
}

static double sess_rate(struct account *a)
{
    (void)a;
    return ACCOUNT_SESSION_RATE;
}

/* ---- channels ---- */

/* Saves what the session learnt of a channel in the chats table (the channel cache the panel
 * and the bot share); only a cache: a failure changes nothing. */
static void remember(struct account *a, const struct account_channel *ch)
{
    struct store_chat chat = {.chat_id = ch->chat_id, .fetched_at = (int64_t)time(NULL)};
    dm_strlcpy(chat.title, ch->title, sizeof chat.title);
    dm_strlcpy(chat.username, ch->username, sizeof chat.username);
    store_chat_put(a->as->store, &chat, NULL);
}

static dm_err sess_find(struct account *a, const struct account_ref *ref,
                        struct account_channel *out, struct tg_error *te)
{
    struct loader_via via = via_of(a);
    dm_err e = loader_resolve(&via, ref, out, te);
    if (!e) remember(a, out);
    return e;
}

/* The channel with Bot API id chat_id: by its @username when the chats table knows one
 * (Telegram gives an account a channel's access hash by name, and by bare id only for
 * channels the account has met), else, or when it was renamed, by id. */
static dm_err resolve(struct account *a, int64_t chat_id, struct account_channel *out,
                      struct tg_error *te)
{
    char id[32];
    snprintf(id, sizeof id, "%" PRId64, chat_id);
    struct account_ref ref;
    if (account_ref_parse(id, &ref, NULL) || !ref.channel_id) {
        dm_err e = tg_error_set(te, TG_NOT_FOUND, 0);
        tg_error_say(te, "Chat %s is not a channel", id);
        return e;
    }
    struct loader_via via = via_of(a);
    struct store_chat chat = {0};
    struct account_ref named = {0};
    if (store_chat_get(a->as->store, chat_id, &chat, NULL) == DM_OK && chat.username[0])
        dm_strlcpy(named.username, chat.username, sizeof named.username);
    dm_err e = named.username[0] ? loader_resolve(&via, &named, out, te)
                                 : tg_error_set(te, TG_NOT_FOUND, 0);
    if (te->kind == TG_NOT_FOUND || (!e && out->id != ref.channel_id))
        e = loader_resolve(&via, &ref, out, te);
    if (!e) remember(a, out);
    return e;
}

/* The channel of chat_id, resolved on first use; *out is a copy. */
static dm_err channel_get(struct session_account *s, int64_t chat_id, struct chan *out,
                          struct tg_error *te)
{
    pthread_mutex_lock(&s->mu);
    struct chan *hit = chan_find(s, chat_id);
    if (hit) *out = *hit;
    pthread_mutex_unlock(&s->mu);
    if (hit) return tg_error_set(te, TG_OK, 0);

    pthread_mutex_lock(&s->lookup);
    pthread_mutex_lock(&s->mu);
    hit = chan_find(s, chat_id);
    if (hit) *out = *hit;
    pthread_mutex_unlock(&s->mu);
    dm_err e = tg_error_set(te, TG_OK, 0);
    if (!hit) {
        memset(out, 0, sizeof *out);
        out->chat_id = chat_id;
        e = resolve(&s->base, chat_id, &out->ch, te);
        if (!e) {
            pthread_mutex_lock(&s->mu);
            size_t i = s->nchans < CHANNELS_MAX ? s->nchans++ : s->next_evict++ % CHANNELS_MAX;
            s->chans[i] = *out;
            pthread_mutex_unlock(&s->mu);
        }
    }
    pthread_mutex_unlock(&s->lookup);
    return e;
}

static dm_err sess_channel(struct account *a, int64_t chat_id, struct account_channel *out,
                           struct tg_error *te)
{
    struct chan c;
    dm_err e = channel_get(of(a), chat_id, &c, te);
    if (!e) *out = c.ch;
    return e;
}

static dm_err sess_role(struct account *a, const struct account_channel *ch, enum account_role *out,
                        struct tg_error *te)
{
    struct loader_via via = via_of(a);
    return loader_role(&via, ch, out, te);
}

/* ---- deciding one request ---- */

/* One call with the session's client (takes method). */
static dm_err sess_call(struct account *a, json_t *method, json_t **result, struct tg_error *te)
{
    dm_err e = method ? pool_call(a->as->pool, a->name, method, POOL_CALL_TIMEOUT_MS, result, te)
                      : tg_error_local(te, DM_ENOMEM, "out of memory");
    json_decref(method);
    return e;
}

/* Reads pages of the channel's pending list from `from` into the handle: up to max_pages, and
 * (when stop_date) not past requests older than stop_date. lookup held. */
static dm_err read_list(struct session_account *s, const struct chan *c, struct account_cursor from,
                        int64_t stop_date, int max_pages, struct tg_error *te)
{
    struct loader_via via = via_of(&s->base);
    for (int p = 0; p < max_pages; p++) {
        struct account_page page;
        dm_err e = loader_fetch_page(&via, &c->ch, &from, ACCOUNT_PAGE_MAX, 0, &page, te);
        if (e) return e;
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < page.n; i++)
            user_put(s, c->chat_id, page.rows[i].user_id, page.user_hashes[i]);
        pthread_mutex_unlock(&s->mu);
        bool last = page.n < ACCOUNT_PAGE_MAX || (stop_date && page.next.date < stop_date) ||
                    (page.next.date == from.date && page.next.user_id == from.user_id);
        from = page.next;
        account_page_release(&page);
        if (last) break;
    }
    return DM_OK;
}

/* The user's access hash as this session sees it, or *found false when Telegram does not list
 * the request as pending. */
static dm_err user_hash(struct session_account *s, const struct chan *c,
                        const struct account_request *r, int64_t *hash, bool *found,
                        struct tg_error *te)
{
    pthread_mutex_lock(&s->mu);
    *found = user_find(s, r->chat_id, r->user_id, hash);
    pthread_mutex_unlock(&s->mu);
    if (*found) return tg_error_set(te, TG_OK, 0);

    pthread_mutex_lock(&s->lookup);
    pthread_mutex_lock(&s->mu);
    *found = user_find(s, r->chat_id, r->user_id, hash);
    struct chan *cc = chan_find(s, r->chat_id);
    bool whole = cc && !cc->listed && cc->misses >= FULL_AFTER;
    if (cc && !*found) {
        cc->misses++;
        cc->listed |= whole;
    }
    pthread_mutex_unlock(&s->mu);
    dm_err e = tg_error_set(te, TG_OK, 0);
    if (!*found) {
        struct store_request req;
        struct account_cursor from = {0};
        if (!whole && store_request_get(s->base.as->store, r->request_id, &req, NULL) == DM_OK)
            from.date = req.tg_date + 1; /* the page starting at the request's date */
        if (whole || from.date)
            e = read_list(s, c, from, whole ? 0 : from.date - 1, whole ? FULL_PAGES : AROUND_PAGES,
                          te);
        pthread_mutex_lock(&s->mu);
        *found = user_find(s, r->chat_id, r->user_id, hash);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&s->lookup);
    return e;
}

static void sess_decide(struct account *a, bool approve, const struct account_request *r,
                        struct tg_error *te)
{
    struct session_account *s = of(a);
    struct chan c = {0};
    int64_t hash = 0;
    bool found = false;
    if (!channel_get(s, r->chat_id, &c, te) && !user_hash(s, &c, r, &hash, &found, te)) {
        if (!found) { /* not pending on Telegram: as HIDE_REQUESTER_MISSING */
            struct mt_rpc_error gone;
            mt_rpc_error_parse(&gone, 400, "HIDE_REQUESTER_MISSING");
            tg_error_mtproto(te, DM_ETELEGRAM, &gone, NULL);
            return;
        }
        sess_call(a,
                  json_pack("{s:s,s:b,s:{s:s,s:I,s:I},s:{s:s,s:I,s:I}}", "_",
                            "messages.hideChatJoinRequest", "approved", approve, "peer", "_",
                            "inputPeerChannel", "channel_id", (json_int_t)c.ch.id, "access_hash",
                            (json_int_t)c.ch.access_hash, "user_id", "_", "inputUser", "user_id",
                            (json_int_t)r->user_id, "access_hash", (json_int_t)hash),
                  NULL, te);
    }
    if (te->kind == TG_NO_RIGHT) account_no_right(-1, c.ch.title, te);
}

/* ---- bans and photos ---- */

#define KICKED_PAGE 200 /* users per channels.getParticipants page (Telegram's cap) */

/* Looks for user_id in the channel's banned list, keeping every access hash it reads in the
 * handle; *found when it is there. lookup held. */
static dm_err scan_banned(struct session_account *s, const struct chan *c, int64_t user_id,
                          int64_t *hash, bool *found, struct tg_error *te)
{
    *found = false;
    for (int offset = 0; offset < ACCOUNT_BANNED_SCAN && !*found; offset += KICKED_PAGE) {
        json_t *res = NULL;
        dm_err e = sess_call(&s->base,
                             json_pack("{s:s,s:{s:s,s:I,s:I},s:{s:s,s:s},s:i,s:i,s:I}", "_",
                                       "channels.getParticipants", "channel", "_", "inputChannel",
                                       "channel_id", (json_int_t)c->ch.id, "access_hash",
                                       (json_int_t)c->ch.access_hash, "filter", "_",
                                       "channelParticipantsKicked", "q", "", "offset", offset,
                                       "limit", KICKED_PAGE, "hash", (json_int_t)0),
                             &res, te);
        if (e) return e;
        json_t *users = json_object_get(res, "users"), *u;
        size_t i, n = json_array_size(json_object_get(res, "participants"));
        pthread_mutex_lock(&s->mu);
        json_array_foreach(users, i, u)
        {
            int64_t id = 0, h = 0;
            if (tl_get_long(u, "id", &id, NULL) || tl_get_long(u, "access_hash", &h, NULL))
                continue;
            user_put(s, c->chat_id, id, h);
            if (id == user_id) {
                *hash = h;
                *found = true;
            }
        }
        pthread_mutex_unlock(&s->mu);
        json_decref(res);
        if (n < KICKED_PAGE) break;
    }
    return tg_error_set(te, TG_OK, 0);
}

/* The user's access hash for a ban or a photo (the handle's, else from the pending list:
 * user_hash) or for an unban (the handle's, else from the banned list: a banned user's request
 * is no longer pending). *found false when none has it. */
static dm_err reach_user(struct session_account *s, const struct chan *c,
                         const struct account_request *r, bool banned_list, int64_t *hash,
                         bool *found, struct tg_error *te)
{
    if (!banned_list) return user_hash(s, c, r, hash, found, te);
    pthread_mutex_lock(&s->mu);
    *found = user_find(s, r->chat_id, r->user_id, hash);
    pthread_mutex_unlock(&s->mu);
    if (*found) return tg_error_set(te, TG_OK, 0);
    pthread_mutex_lock(&s->lookup);
    dm_err e = scan_banned(s, c, r->user_id, hash, found, te);
    pthread_mutex_unlock(&s->lookup);
    return e;
}

static dm_err unreachable_user(const struct account_request *r, struct tg_error *te)
{
    dm_err e = tg_error_set(te, TG_REFUSED, 0);
    tg_error_say(te, "This session cannot reach user %" PRId64 " any more: use the bot",
                 r->user_id);
    return e;
}

static dm_err sess_ban(struct account *a, const struct account_request *r, bool ban,
                       struct tg_error *te)
{
    struct session_account *s = of(a);
    struct chan c = {0};
    int64_t hash = 0;
    bool found = false;
    dm_err e = channel_get(s, r->chat_id, &c, te);
    if (!e) e = reach_user(s, &c, r, !ban, &hash, &found, te);
    if (e) return e;
    if (!found) /* unban: not in the banned list, so not banned: nothing to lift */
        return ban ? unreachable_user(r, te) : tg_error_set(te, TG_OK, 0);
    json_t *rights = json_pack("{s:s,s:i}", "_", "chatBannedRights", "until_date", 0);
    if (rights && ban) json_object_set_new(rights, "view_messages", json_true());
    e = sess_call(a,
                  json_pack("{s:s,s:{s:s,s:I,s:I},s:{s:s,s:I,s:I},s:o}", "_", "channels.editBanned",
                            "channel", "_", "inputChannel", "channel_id", (json_int_t)c.ch.id,
                            "access_hash", (json_int_t)c.ch.access_hash, "participant", "_",
                            "inputPeerUser", "user_id", (json_int_t)r->user_id, "access_hash",
                            (json_int_t)hash, "banned_rights", rights),
                  NULL, te);
    if (te->kind == TG_NO_RIGHT) account_no_ban_right(c.ch.title, te);
    return e;
}

static dm_err sess_has_photo(struct account *a, const struct account_request *r, bool *out,
                             struct tg_error *te)
{
    struct session_account *s = of(a);
    struct chan c = {0};
    int64_t hash = 0;
    bool found = false;
    dm_err e = channel_get(s, r->chat_id, &c, te);
    if (!e) e = reach_user(s, &c, r, false, &hash, &found, te);
    if (e) return e;
    if (!found) return unreachable_user(r, te);
    json_t *res = NULL;
    e = sess_call(a,
                  json_pack("{s:s,s:{s:s,s:I,s:I},s:i,s:I,s:i}", "_", "photos.getUserPhotos",
                            "user_id", "_", "inputUser", "user_id", (json_int_t)r->user_id,
                            "access_hash", (json_int_t)hash, "offset", 0, "max_id", (json_int_t)0,
                            "limit", 1),
                  &res, te);
    if (e) return e;
    int64_t count = 0;
    if (tl_is(res, "photos.photosSlice") && !tl_get_long(res, "count", &count, NULL))
        *out = count > 0;
    else if (tl_is(res, "photos.photos"))
        *out = json_array_size(json_object_get(res, "photos")) > 0;
    else
        e = tg_error_local(te, DM_EPROTO,
                           "Telegram's answer to photos.getUserPhotos is not photos");
    json_decref(res);
    return e;
}

/* ---- whole channels ---- */

static dm_err sess_list_pending(struct account *a, const struct account_channel *ch,
                                const struct account_cursor *from, int limit, int64_t now,
                                struct account_page *out, struct tg_error *te)
{
    struct loader_via via = via_of(a);
    return loader_fetch_page(&via, ch, from, limit, now, out, te);
}

static json_t *input_peer(const struct account_channel *ch)
{
    return json_pack("{s:s,s:I,s:I}", "_", "inputPeerChannel", "channel_id", (json_int_t)ch->id,
                     "access_hash", (json_int_t)ch->access_hash);
}

static dm_err sess_decide_channel(struct account *a, const struct account_channel *ch, bool approve,
                                  const char *link, struct tg_error *te)
{
    json_t *m = json_pack("{s:s,s:b,s:o}", "_", "messages.hideAllChatJoinRequests", "approved",
                          approve, "peer", input_peer(ch));
    if (m && link) json_object_set_new(m, "link", json_string(link));
    return sess_call(a, m, NULL, te);
}

/* ---- invite links and the admin log ---- */

static int64_t jint(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* A chatInviteExported as a store_link of the channel. */
static void link_from(const json_t *in, int64_t chat_id, struct store_link *out)
{
    memset(out, 0, sizeof *out);
    out->chat_id = chat_id;
    const char *link = json_string_value(json_object_get(in, "link"));
    const char *title = json_string_value(json_object_get(in, "title"));
    dm_utf8_copy(out->link, sizeof out->link, link ? link : "");
    dm_utf8_copy(out->name, sizeof out->name, title ? title : "");
    out->creator_id = jint(in, "admin_id");
    out->created_at = jint(in, "date");
    out->expire_date = jint(in, "expire_date");
    out->member_limit = jint(in, "usage_limit");
    out->creates_join_request = json_is_true(json_object_get(in, "request_needed"));
    out->revoked = json_is_true(json_object_get(in, "revoked"));
    out->pending = jint(in, "requested");
    out->known = true;
}

/* The user of that id among an answer's users, as an inputUser. */
static json_t *input_user_of(const json_t *users, int64_t id)
{
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u)
    {
        if (jint(u, "id") == id)
            return json_pack("{s:s,s:I,s:I}", "_", "inputUser", "user_id", (json_int_t)id,
                             "access_hash", (json_int_t)jint(u, "access_hash"));
    }
    return NULL;
}

/* One admin's links, revoked or not, appended to *out (at most STORE_LINKS_MAX in all). */
static dm_err admin_links(struct account *a, const struct account_channel *ch, json_t *admin,
                          bool revoked, struct store_link **out, size_t *n, struct tg_error *te)
{
    const char *after = "";
    json_t *ans = NULL;
    for (;;) {
        json_t *m = json_pack("{s:s,s:o,s:O,s:i}", "_", "messages.getExportedChatInvites", "peer",
                              input_peer(ch), "admin_id", admin, "limit", 100);
        if (m && revoked) json_object_set_new(m, "revoked", json_true());
        if (m && *after) {
            json_object_set_new(m, "offset_link", json_string(after));
            json_object_set_new(m, "offset_date", json_integer(0));
        }
        json_decref(ans);
        ans = NULL;
        dm_err e = sess_call(a, m, &ans, te);
        if (e) return e;
        json_t *invites = json_object_get(ans, "invites");
        size_t k = json_array_size(invites);
        struct store_link *g = k ? realloc(*out, (*n + k) * sizeof *g) : *out;
        if (k && !g) {
            json_decref(ans);
            return tg_error_local(te, DM_ENOMEM, "out of memory");
        }
        *out = g;
        for (size_t i = 0; i < k && *n < STORE_LINKS_MAX; i++)
            link_from(json_array_get(invites, i), ch->chat_id, &g[(*n)++]);
        if (k < 100 || *n >= STORE_LINKS_MAX) break;
        after = json_string_value(json_object_get(json_array_get(invites, k - 1), "link"));
        if (!after) break;
    }
    json_decref(ans);
    return DM_OK;
}

static dm_err sess_links(struct account *a, const struct account_channel *ch,
                         struct store_link **out, size_t *n, struct tg_error *te)
{
    json_t *ans = NULL;
    dm_err e = sess_call(
        a, json_pack("{s:s,s:o}", "_", "messages.getAdminsWithInvites", "peer", input_peer(ch)),
        &ans, te);
    json_t *admins = json_object_get(ans, "admins"), *users = json_object_get(ans, "users");
    size_t i;
    json_t *ad;
    json_array_foreach(admins, i, ad)
    {
        if (e) break;
        json_t *who = input_user_of(users, jint(ad, "admin_id"));
        if (!who) continue;
        if (jint(ad, "invites_count") > 0) e = admin_links(a, ch, who, false, out, n, te);
        if (!e && jint(ad, "revoked_invites_count") > 0)
            e = admin_links(a, ch, who, true, out, n, te);
        json_decref(who);
    }
    json_decref(ans);
    if (e) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return e;
}

/* How the admin log's users name someone: "@username", else the first name and the id. */
static void name_of(const json_t *users, int64_t id, char *out, size_t size)
{
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u)
    {
        if (jint(u, "id") != id) continue;
        const char *un = json_string_value(json_object_get(u, "username"));
        const char *first = json_string_value(json_object_get(u, "first_name"));
        if (un && *un)
            dm_snprintf_utf8(out, size, "@%s", un);
        else
            dm_snprintf_utf8(out, size, "%s (%" PRId64 ")", first ? first : "user", id);
        return;
    }
    dm_snprintf_utf8(out, size, "user %" PRId64, id);
}

static dm_err sess_joins(struct account *a, const struct account_channel *ch, int64_t after_event,
                         int64_t before_event, struct account_join **out, size_t *n,
                         struct tg_error *te)
{
    json_t *ans = NULL;
    dm_err e = sess_call(
        a,
        json_pack("{s:s,s:{s:s,s:I,s:I},s:s,s:{s:s,s:b},s:I,s:I,s:i}", "_", "channels.getAdminLog",
                  "channel", "_", "inputChannel", "channel_id", (json_int_t)ch->id, "access_hash",
                  (json_int_t)ch->access_hash, "q", "", "events_filter", "_",
                  "channelAdminLogEventsFilter", "join", 1, "max_id", (json_int_t)before_event,
                  "min_id", (json_int_t)after_event, "limit", ACCOUNT_JOINS_PAGE),
        &ans, te);
    if (e) return e;
    json_t *events = json_object_get(ans, "events"), *users = json_object_get(ans, "users");
    size_t k = json_array_size(events);
    *out = k ? calloc(DM_MIN(k, (size_t)ACCOUNT_JOINS_PAGE), sizeof **out) : NULL;
    if (k && !*out) e = tg_error_local(te, DM_ENOMEM, "out of memory");
    for (size_t i = 0; !e && i < k && *n < ACCOUNT_JOINS_PAGE; i++) {
        json_t *ev = json_array_get(events, i), *act = json_object_get(ev, "action");
        const char *kind = json_string_value(json_object_get(act, "_"));
        if (!kind || strcmp(kind, "channelAdminLogEventActionParticipantJoinByRequest") != 0)
            continue;
        struct account_join *j = &(*out)[(*n)++];
        j->event_id = jint(ev, "id");
        j->date = jint(ev, "date");
        j->user_id = jint(ev, "user_id");
        j->approved_by = jint(act, "approved_by");
        name_of(users, j->approved_by, j->approver, sizeof j->approver);
    }
    json_decref(ans);
    return e;
}

/* ---- the handle ---- */

static void sess_close(struct account *a)
{
    struct session_account *s = of(a);
    pthread_mutex_destroy(&s->lookup);
    pthread_mutex_destroy(&s->mu);
    free(s->users);
    free(s);
}

static const struct account_ops session_ops = {
    .usable = sess_usable,
    .check = sess_check,
    .rate = sess_rate,
    .channel = sess_channel,
    .find = sess_find,
    .role = sess_role,
    .decide = sess_decide,
    .list_pending = sess_list_pending,
    .decide_channel = sess_decide_channel,
    .links = sess_links,
    .joins = sess_joins,
    .ban = sess_ban,
    .has_photo = sess_has_photo,
    .close = sess_close,
};

dm_err session_account_open(const struct accounts *as, const char *name, struct account **out)
{
    (void)as;
    (void)name;
    struct session_account *s = calloc(1, sizeof *s);
    if (!s) return DM_ENOMEM;
    s->base.ops = &session_ops;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->lookup, NULL);
    *out = &s->base;
    return DM_OK;
}
