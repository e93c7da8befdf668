/* decide_session.c: deciding join requests through a session over MTProto
 * (messages.hideChatJoinRequest with the channel and the user as the session sees them). */
#include "core/common.h"
#include "app.h"
#include "jobs/decider.h"
#include "mtproto/client.h"
#include "mtproto/tl_codec.h"
#include "telegram/pool.h"
#include "telegram/loader.h"

#include <pthread.h>

#define CHANNELS_MAX 256     /* channels cached per job; beyond, the oldest is forgotten */
#define USERS_MAX (1u << 20) /* user access hashes cached per job (24 MiB at most) */
#define FULL_AFTER 3         /* misses in a channel before its whole pending list is read */
#define AROUND_PAGES 20      /* pages read at most to find one request around its date */
#define FULL_PAGES 5000      /* pages read at most for a whole list (500,000 requests) */

/* ---- the session's state ---- */

dm_err decider_session_usable(struct store *st, const char *name, struct store_session *out,
                              struct dm_error *err)
{
    struct store_session s;
    struct dm_error serr = {0};
    dm_err e = store_session_get(st, name, &s, &serr);
    if (e == DM_ENOTFOUND)
        return dm_fail(err, DM_ENOTFOUND,
                       "Session '%s' does not exist: choose another account or add it on the "
                       "Sessions page",
                       name);
    if (e) return dm_fail(err, e, "%s", serr.msg);
    if (out) *out = s;
    if (s.status == SESSION_ACTIVE) return DM_OK;
    return dm_fail(err, DM_EAUTH,
                   "Session '%s' is not active (%s%s%s): check it on the Sessions page", name,
                   session_status_name(s.status), s.status_reason[0] ? ": " : "", s.status_reason);
}

/* ---- channels ---- */

dm_err decider_session_channel(struct app *a, const char *via, int64_t chat_id,
                               struct loader_channel *out, int *retry_after, struct dm_error *err)
{
    char id[32];
    snprintf(id, sizeof id, "%" PRId64, chat_id);
    struct loader_ref ref;
    struct dm_error perr = {0};
    if (loader_parse_ref(id, &ref, &perr) || !ref.channel_id)
        return dm_fail(err, DM_ENOTFOUND, "Chat %s is not a channel", id);
    struct loader_via lv = {a->pool, via};
    /* by its @username when the cache knows one: Telegram gives an account a channel's access
       hash by name, and by bare id only for channels the account has met */
    struct store_chat chat = {0};
    struct loader_ref named = {0};
    if (store_chat_get(a->store, chat_id, &chat, NULL) == DM_OK && chat.username[0])
        dm_strlcpy(named.username, chat.username, sizeof named.username);
    dm_err e =
        named.username[0] ? loader_resolve(&lv, &named, out, retry_after, err) : DM_ENOTFOUND;
    if (e == DM_ENOTFOUND || (!e && out->id != ref.channel_id)) /* renamed: try the id */
        e = loader_resolve(&lv, &ref, out, retry_after, err);
    if (e) return e;
    chat = (struct store_chat){.chat_id = chat_id, .fetched_at = (int64_t)time(NULL)};
    dm_strlcpy(chat.title, out->title, sizeof chat.title);
    dm_strlcpy(chat.username, out->username, sizeof chat.username);
    store_chat_put(a->store, &chat, NULL); /* only a cache: a failure changes nothing */
    return DM_OK;
}

void decider_no_right(int role, const char *title, char *out, size_t n)
{
    if (role == LOADER_NOT_ADMIN)
        snprintf(out, n,
                 "This account is not an admin of %s: make it one, with the invite-users "
                 "right",
                 title);
    else if (role == LOADER_ADMIN_NO_INVITE)
        snprintf(out, n,
                 "This account is an admin of %s without the invite-users right: give it "
                 "that right",
                 title);
    else
        snprintf(out, n, "This account is not an admin with the invite-users right in %s", title);
}

/* ---- verdicts ---- */

void decider_session_classify(dm_err e, const struct mt_rpc_error *rpc, const char *errmsg,
                              int kind, const char *title, struct decision *out)
{
    static const char *const no_right[] = {"CHAT_ADMIN_REQUIRED", "RIGHT_FORBIDDEN",
                                           "CHANNEL_PRIVATE", "USER_NOT_PARTICIPANT"};
    memset(out, 0, sizeof *out);
    if (!e) {
        out->verdict = V_DONE;
        return;
    }
    if (e != DM_ETELEGRAM || !rpc) {
        out->verdict = e == DM_EAUTH ? V_ACCOUNT : V_RETRY;
        dm_strlcpy(out->error,
                   e == DM_EAUTH       ? LOADER_SESSION_INVALID
                   : errmsg && *errmsg ? errmsg
                                       : dm_strerror(e),
                   sizeof out->error);
        return;
    }
    dm_strlcpy(out->error, rpc->message, sizeof out->error);
    if (mt_rpc_error_is(rpc, "HIDE_REQUESTER_MISSING")) {
        out->verdict = V_ALREADY; /* gone: recorded as the job meant */
        out->final_status = kind == JOB_DECLINE ? REQ_DECLINED : REQ_APPROVED;
    } else if (mt_rpc_error_is(rpc, "USER_ALREADY_PARTICIPANT")) {
        out->verdict = V_ALREADY;
        out->final_status = REQ_APPROVED;
    } else if (mt_rpc_error_is(rpc, "FLOOD_WAIT") || mt_rpc_error_is(rpc, "FLOOD_PREMIUM_WAIT")) {
        out->verdict = V_FLOOD;
        out->retry_after = rpc->value < 1 ? 1 : rpc->value > INT_MAX ? INT_MAX : (int)rpc->value;
    } else if (tg_rpc_invalid(rpc)) {
        out->verdict = V_ACCOUNT;
        snprintf(out->error, sizeof out->error, "%s (%s)", LOADER_SESSION_INVALID, rpc->message);
    } else if (rpc->code >= 500 || rpc->code == -503) {
        out->verdict = V_RETRY;
    } else {
        out->verdict = V_FAILED;
        bool right = false;
        for (size_t i = 0; i < DM_ARRAY_LEN(no_right); i++)
            right |= mt_rpc_error_is(rpc, no_right[i]);
        if (right)
            decider_no_right(-1, title && *title ? title : "this channel", out->error,
                             sizeof out->error);
        else
            snprintf(out->error, sizeof out->error, "Telegram answered %s", rpc->message);
    }
}

/* The verdict for a failure of loader.h's calls (resolving a channel, reading its list). */
static void classify_loader(dm_err e, int retry_after, const char *msg, struct decision *out)
{
    memset(out, 0, sizeof *out);
    dm_strlcpy(out->error, msg && *msg ? msg : dm_strerror(e), sizeof out->error);
    switch (e) {
    case DM_ERATELIMIT:
        out->verdict = V_FLOOD;
        out->retry_after = retry_after < 1 ? 1 : retry_after;
        break;
    case DM_EAUTH:
        out->verdict = V_ACCOUNT;
        break;
    case DM_ETIMEOUT:
    case DM_ENETWORK:
    case DM_EUNAVAILABLE:
    case DM_EDB:
        out->verdict = V_RETRY;
        break;
    default:
        out->verdict = V_FAILED;
    }
}

/* ---- the job's caches ---- */

struct chan {
    int64_t chat_id;
    struct loader_channel ch;
    int misses;  /* requests looked up around their date */
    bool listed; /* the whole pending list was read */
};

struct user_slot {
    int64_t chat_id, user_id; /* user_id 0: empty */
    int64_t hash;
};

struct sess_ctx {
    struct app *app;
    char via[STORE_NAME_MAX];
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
static bool user_find(struct sess_ctx *s, int64_t chat_id, int64_t user_id, int64_t *hash)
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
static void user_put(struct sess_ctx *s, int64_t chat_id, int64_t user_id, int64_t hash)
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
static struct chan *chan_find(struct sess_ctx *s, int64_t chat_id)
{
    for (size_t i = 0; i < s->nchans; i++)
        if (s->chans[i].chat_id == chat_id) return &s->chans[i];
    return NULL;
}

/* The channel of chat_id, resolved on first use; *c is a copy. Fills *out on failure. */
static bool channel_get(struct sess_ctx *s, int64_t chat_id, struct chan *c, struct decision *out)
{
    pthread_mutex_lock(&s->mu);
    struct chan *hit = chan_find(s, chat_id);
    if (hit) *c = *hit;
    pthread_mutex_unlock(&s->mu);
    if (hit) return true;

    pthread_mutex_lock(&s->lookup);
    pthread_mutex_lock(&s->mu);
    hit = chan_find(s, chat_id);
    if (hit) *c = *hit;
    pthread_mutex_unlock(&s->mu);
    bool ok = hit != NULL;
    if (!ok) {
        struct dm_error err = {0};
        int retry_after = 0;
        memset(c, 0, sizeof *c);
        c->chat_id = chat_id;
        dm_err e = decider_session_channel(s->app, s->via, chat_id, &c->ch, &retry_after, &err);
        if (e) {
            classify_loader(e, retry_after, err.msg, out);
        } else {
            pthread_mutex_lock(&s->mu);
            size_t i = s->nchans < CHANNELS_MAX ? s->nchans++ : s->next_evict++ % CHANNELS_MAX;
            s->chans[i] = *c;
            pthread_mutex_unlock(&s->mu);
            ok = true;
        }
    }
    pthread_mutex_unlock(&s->lookup);
    return ok;
}

/* Reads pages of the channel's pending list from `from` into the cache: up to max_pages, and
 * (when stop_date) not past requests older than stop_date. lookup held. */
static dm_err read_list(struct sess_ctx *s, const struct chan *c, struct loader_cursor from,
                        int64_t stop_date, int max_pages, int *retry_after, struct dm_error *err)
{
    struct loader_via via = {s->app->pool, s->via};
    for (int p = 0; p < max_pages; p++) {
        struct loader_page page;
        dm_err e =
            loader_fetch_page(&via, &c->ch, &from, LOADER_PAGE_MAX, 0, &page, retry_after, err);
        if (e) return e;
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < page.n; i++)
            user_put(s, c->chat_id, page.rows[i].user_id, page.user_hashes[i]);
        pthread_mutex_unlock(&s->mu);
        bool last = page.n < LOADER_PAGE_MAX || (stop_date && page.next.date < stop_date) ||
                    (page.next.date == from.date && page.next.user_id == from.user_id);
        from = page.next;
        loader_page_release(&page);
        if (last) break;
    }
    return DM_OK;
}

/* The user's access hash as this session sees it, or *found false when Telegram does not list
 * the request as pending. Fills *out and returns false when Telegram could not be asked. */
static bool user_hash(struct sess_ctx *s, const struct store_item *it, int64_t *hash, bool *found,
                      struct decision *out)
{
    pthread_mutex_lock(&s->mu);
    *found = user_find(s, it->chat_id, it->user_id, hash);
    pthread_mutex_unlock(&s->mu);
    if (*found) return true;

    struct chan c;
    if (!channel_get(s, it->chat_id, &c, out)) return false;
    pthread_mutex_lock(&s->lookup);
    pthread_mutex_lock(&s->mu);
    *found = user_find(s, it->chat_id, it->user_id, hash);
    struct chan *cc = chan_find(s, it->chat_id);
    bool whole = cc && !cc->listed && cc->misses >= FULL_AFTER;
    if (cc && !*found) {
        cc->misses++;
        cc->listed |= whole;
    }
    pthread_mutex_unlock(&s->mu);
    dm_err e = DM_OK;
    struct dm_error err = {0};
    int retry_after = 0;
    if (!*found) {
        struct store_request r;
        struct loader_cursor from = {0};
        if (!whole && store_request_get(s->app->store, it->request_id, &r, NULL) == DM_OK)
            from.date = r.tg_date + 1; /* the page starting at the request's date */
        e = whole || from.date ? read_list(s, &c, from, whole ? 0 : from.date - 1,
                                           whole ? FULL_PAGES : AROUND_PAGES, &retry_after, &err)
                               : DM_OK;
        pthread_mutex_lock(&s->mu);
        *found = user_find(s, it->chat_id, it->user_id, hash);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&s->lookup);
    if (!e) return true;
    if (e == DM_EFORBIDDEN) {
        memset(out, 0, sizeof *out);
        out->verdict = V_FAILED;
        decider_no_right(-1, c.ch.title, out->error, sizeof out->error);
    } else {
        classify_loader(e, retry_after, err.msg, out);
    }
    return false;
}

/* ---- decider_ops ---- */

static dm_err sess_open(struct app *a, const char *via, void **ctx, struct dm_error *err)
{
    dm_err e = decider_session_usable(a->store, via, NULL, err);
    if (e == DM_EDB) return dm_fail(err, DM_EUNAVAILABLE, "%s", err->msg);
    if (e) return e;
    struct sess_ctx *s = calloc(1, sizeof *s);
    if (!s) return dm_fail(err, DM_ENOMEM, "out of memory");
    s->app = a;
    dm_strlcpy(s->via, via, sizeof s->via);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->lookup, NULL);
    *ctx = s;
    return DM_OK;
}

static double sess_rate(void *ctx)
{
    (void)ctx;
    return DECIDER_SESSION_RATE;
}

static void sess_decide(void *ctx, int kind, const struct store_item *it, struct decision *out)
{
    struct sess_ctx *s = ctx;
    struct chan c;
    int64_t hash = 0;
    bool found = false;
    if (!channel_get(s, it->chat_id, &c, out) || !user_hash(s, it, &hash, &found, out)) return;
    if (!found) { /* not pending on Telegram: as HIDE_REQUESTER_MISSING */
        struct mt_rpc_error gone = {0};
        mt_rpc_error_parse(&gone, 400, "HIDE_REQUESTER_MISSING");
        decider_session_classify(DM_ETELEGRAM, &gone, NULL, kind, c.ch.title, out);
        return;
    }
    json_t *m =
        json_pack("{s:s,s:b,s:{s:s,s:I,s:I},s:{s:s,s:I,s:I}}", "_", "messages.hideChatJoinRequest",
                  "approved", kind == JOB_APPROVE, "peer", "_", "inputPeerChannel", "channel_id",
                  (json_int_t)c.ch.id, "access_hash", (json_int_t)c.ch.access_hash, "user_id", "_",
                  "inputUser", "user_id", (json_int_t)it->user_id, "access_hash", (json_int_t)hash);
    struct mt_rpc_error rpc = {0};
    struct dm_error err = {0};
    json_t *res = NULL;
    dm_err e = m ? pool_call(s->app->pool, s->via, m, POOL_CALL_TIMEOUT_MS, &res, &rpc, &err)
                 : dm_fail(&err, DM_ENOMEM, "out of memory");
    json_decref(m);
    json_decref(res);
    decider_session_classify(e, &rpc, err.msg, kind, c.ch.title, out);
}

static void sess_close(void *ctx)
{
    struct sess_ctx *s = ctx;
    pthread_mutex_destroy(&s->lookup);
    pthread_mutex_destroy(&s->mu);
    free(s->users);
    free(s);
}

const struct decider_ops decider_session = {
    .open = sess_open,
    .rate = sess_rate,
    .decide = sess_decide,
    .close = sess_close,
};
