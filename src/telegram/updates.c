/* updates.c: sessions listening to Telegram's updates (see updates.h). */
#include "core/common.h"
#include "telegram/updates.h"

#include "core/clock.h"
#include "core/log.h"
#include "mtproto/client.h"
#include "mtproto/tl_codec.h"
#include "telegram/loader.h"
#include "telegram/pool.h"

#include <pthread.h>

static const char *const C = "updates";

#define WAIT_MS 1000      /* one wait for updates; the acquisition is let go between waits */
#define SCAN_MS 2000      /* the supervisor lists the sessions this often */
#define RETRY_MS 5000     /* after the session could not be used (another instance, offline) */
#define LOAD_PAGES 50     /* pages of 100 read for one channel's update at most */
#define DIFF_ROUNDS 100   /* differenceSlice answers followed at once at most */
#define MAX_LISTENERS 256 /* sessions listened to at once */
#define DIRTY_MAX 64      /* channels waiting to be read */
#define RECENT_MAX 16     /* recent requesters of a channel's update looked up in the store */
#define SKEW_S 5          /* Telegram's clock against ours, at most (seconds) */
#define BATCH_MAX 1000    /* updates taken at once before the channels they name are read */
#define CALL_MS POOL_CALL_TIMEOUT_MS

/* A channel to look at. */
struct listener_dirty {
    int64_t id, hash; /* MTProto channel id and the session's access hash (0: unknown) */
    /* the recent requesters of the channel's latest update, pending at its date `at`; unless
     * forced, the channel is read only when the store has one of them neither pending nor
     * decided since */
    int64_t recent[RECENT_MAX];
    size_t nrecent;
    int64_t at;
    int64_t pending; /* requests_pending: doorman having fewer pending means some it lacks */
    bool forced;
};

struct listener {
    struct listener *next;
    struct tg_updates *u;
    char name[STORE_NAME_MAX];
    int64_t account_id;
    bool bot; /* a bot session: join requests come as updateBotChatInviteRequester */
    pthread_t th;
    bool stop, seen; /* seen: still listed active in this scan (supervisor only) */
    /* the listener thread's own */
    struct store_update_state st;
    bool have_state, changed;
    struct listener_dirty dirty[DIRTY_MAX];
    size_t ndirty;
    bool reload_all; /* differenceTooLong: every channel doorman knows is read again */
};

struct tg_updates {
    struct store *store;
    struct pool *pool;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    struct listener *list; /* the supervisor thread's; stop flags under mu */
};

/* Sleeps up to ms, or until the listener is told to stop; false when it must stop. */
static bool pause_ms(struct listener *l, int64_t ms)
{
    struct tg_updates *u = l->u;
    struct timespec until = clock_after_ms(ms);
    pthread_mutex_lock(&u->mu);
    while (!l->stop && !u->stop && pthread_cond_timedwait(&u->cv, &u->mu, &until) != ETIMEDOUT) {
    }
    bool go = !l->stop && !u->stop;
    pthread_mutex_unlock(&u->mu);
    return go;
}

static bool stopping(struct listener *l)
{
    pthread_mutex_lock(&l->u->mu);
    bool s = l->stop || l->u->stop;
    pthread_mutex_unlock(&l->u->mu);
    return s;
}

static dm_err call(struct listener *l, json_t *method, json_t **ans, struct tg_error *te)
{
    dm_err e = pool_call(l->u->pool, l->name, method, CALL_MS, ans, te);
    json_decref(method);
    return e;
}

/* ---- what an update asks for ---- */

/* Remembers the access hashes of the channels an answer names. */
static void learn_chats(struct listener *l, const json_t *chats)
{
    size_t i;
    json_t *ch;
    json_array_foreach(chats, i, ch)
    {
        int64_t id = 0, hash = 0;
        if (tl_is(ch, "channel") && !tl_get_long(ch, "id", &id, NULL) &&
            !tl_get_long(ch, "access_hash", &hash, NULL))
            pool_peer_put(l->u->pool, l->name, id, hash);
    }
}

/* Channel id (MTProto's) is to be looked at, once however many updates name it: its entry in
 * dirty, NULL when there are too many (then every channel is read again). */
static struct listener_dirty *mark_id(struct listener *l, int64_t id)
{
    for (size_t i = 0; i < l->ndirty; i++)
        if (l->dirty[i].id == id) return &l->dirty[i];
    if (l->ndirty == DIRTY_MAX) {
        l->reload_all = true; /* too many at once: read them all */
        return NULL;
    }
    struct listener_dirty *d = &l->dirty[l->ndirty++];
    memset(d, 0, sizeof *d);
    d->id = id;
    return d;
}

/* A join-request update of `date` (0: unknown): its channel is to be read when its recent
 * requesters (the latest update's: one no longer among them is no longer pending) name one
 * doorman does not have. A decision only drops requesters, so it reads nothing (nor when doorman
 * decided a requester since); none pending reads nothing at all. */
static void mark_channel(struct listener *l, const json_t *upd, int64_t date)
{
    const json_t *peer = json_object_get(upd, "peer");
    const json_t *recent = json_object_get(upd, "recent_requesters");
    int64_t id = 0, pending = 1;
    (void)tl_get_long(upd, "requests_pending", &pending, NULL);
    if (pending <= 0 || !tl_is(peer, "peerChannel") || tl_get_long(peer, "channel_id", &id, NULL))
        return;
    struct listener_dirty *d = mark_id(l, id);
    if (!d) return;
    d->nrecent = 0;
    d->at = date ? date : (int64_t)time(NULL);
    d->pending = pending;
    if (!json_is_array(recent) || json_array_size(recent) > RECENT_MAX) {
        d->forced = true; /* cannot tell what is new: read */
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(recent, i, v)
    {
        if (json_is_integer(v)) d->recent[d->nrecent++] = json_integer_value(v);
    }
}

/* Whether doorman has every recent requester of the channel's update, pending or decided since
 * (by doorman, while the update was on its way), and as many pending as the update counts (the
 * recent requesters are only the latest few: one that came between two updates Telegram did not
 * both deliver is in the count alone); a store error counts as not: it is read. */
static bool nothing_new(struct listener *l, const struct listener_dirty *d)
{
    if (d->forced) return false;
    int64_t chat_id = loader_chat_id(d->id);
    struct dm_error err = {0};
    for (size_t i = 0; i < d->nrecent; i++) {
        bool have = false;
        if (store_user_known(l->u->store, chat_id, d->recent[i], d->at - SKEW_S, &have, &err) ||
            !have)
            return false;
    }
    struct store_request_filter f = {.status = -1, .chat_id = chat_id};
    int64_t counts[REQ_STATUS_COUNT] = {0};
    return !store_request_counts(l->u->store, &f, counts, &err) &&
           counts[REQ_PENDING] >= d->pending;
}

/* updateBotChatInviteRequester (to a bot that administers the channel): the request itself,
 * recorded at once; users: the vector that came with it. */
static void record_requester(struct listener *l, const json_t *upd, const json_t *users)
{
    const json_t *peer = json_object_get(upd, "peer"), *invite = json_object_get(upd, "invite");
    int64_t channel = 0;
    struct store_request r = {.status = REQ_PENDING, .created_at = (int64_t)time(NULL)};
    if (!tl_is(peer, "peerChannel") || tl_get_long(peer, "channel_id", &channel, NULL) ||
        tl_get_long(upd, "user_id", &r.user_id, NULL) || tl_get_long(upd, "date", &r.tg_date, NULL))
        return;
    r.chat_id = loader_chat_id(channel);
    const char *about = "", *link = "";
    (void)tl_get_str(upd, "about", &about, NULL);
    dm_strlcpy(r.bio, about, sizeof r.bio);
    if (tl_is(invite, "chatInviteExported") && !tl_get_str(invite, "link", &link, NULL))
        dm_strlcpy(r.invite_link, link, sizeof r.invite_link);
    loader_request_user(&r, users);
    bool inserted = false;
    struct dm_error err = {0};
    if (store_request_add(l->u->store, &r, &inserted, &err))
        log_warn(C, "session %s: cannot record the join request of user %" PRId64 ": %s", l->name,
                 r.user_id, err.msg);
    else if (inserted)
        log_info(C, "session %s: new join request of user %" PRId64 " in channel %" PRId64, l->name,
                 r.user_id, r.chat_id);
}

/* A bot's update in the qts sequence: false when it shows a gap (getDifference then). */
static bool apply_qts(struct listener *l, const json_t *upd, const json_t *users)
{
    int64_t qts = 0;
    if (tl_get_long(upd, "qts", &qts, NULL)) return true;
    if (qts <= l->st.qts) { /* had it, or it came before getState's state: recorded again */
        record_requester(l, upd, users);
        return true;
    }
    if (l->st.qts + 1 != qts) return false;
    record_requester(l, upd, users);
    l->st.qts = qts;
    l->changed = true;
    return true;
}

static bool is_channel_update(const char *name)
{
    return strstr(name, "Channel") != NULL; /* their pts is the channel's, not ours */
}

/* One Update from a pushed envelope (users: the envelope's, may be NULL; date: its date, 0 when
 * it has none): false when its pts or qts shows a gap (getDifference then). */
static bool apply(struct listener *l, const json_t *upd, const json_t *users, int64_t date)
{
    const char *name = json_string_value(json_object_get(upd, "_"));
    if (!name) return true;
    if (!strcmp(name, "updatePendingJoinRequests")) mark_channel(l, upd, date);
    if (!strcmp(name, "updateBotChatInviteRequester")) return apply_qts(l, upd, users);
    int64_t pts = 0, count = 0;
    if (is_channel_update(name) || tl_get_long(upd, "pts", &pts, NULL) ||
        tl_get_long(upd, "pts_count", &count, NULL))
        return true;
    if (pts <= l->st.pts) return true; /* had it */
    if (l->st.pts + count != pts) return false;
    l->st.pts = pts;
    l->changed = true;
    return true;
}

/* ---- filling gaps ---- */

static void set_state(struct listener *l, const json_t *s)
{
    (void)tl_get_long(s, "pts", &l->st.pts, NULL);
    (void)tl_get_long(s, "qts", &l->st.qts, NULL);
    (void)tl_get_long(s, "seq", &l->st.seq, NULL);
    (void)tl_get_long(s, "date", &l->st.date, NULL);
    l->have_state = l->changed = true;
}

/* updates.getState (no state yet) or updates.getDifference until the state is current. */
static dm_err difference(struct listener *l, struct tg_error *te)
{
    json_t *ans = NULL;
    if (!l->have_state) {
        dm_err e = call(l, json_pack("{s:s}", "_", "updates.getState"), &ans, te);
        if (!e) set_state(l, ans);
        json_decref(ans);
        return e;
    }
    for (int round = 0; round < DIFF_ROUNDS; round++) {
        dm_err e = call(l,
                        json_pack("{s:s,s:I,s:I,s:I}", "_", "updates.getDifference", "pts",
                                  (json_int_t)l->st.pts, "date", (json_int_t)l->st.date, "qts",
                                  (json_int_t)l->st.qts),
                        &ans, te);
        if (e) return e;
        bool more = tl_is(ans, "updates.differenceSlice");
        if (tl_is(ans, "updates.differenceEmpty")) {
            (void)tl_get_long(ans, "date", &l->st.date, NULL);
            (void)tl_get_long(ans, "seq", &l->st.seq, NULL);
            l->changed = true;
        } else if (tl_is(ans, "updates.differenceTooLong")) {
            (void)tl_get_long(ans, "pts", &l->st.pts, NULL);
            l->reload_all = l->changed = true;
            log_info(C,
                     "session %s: the gap is too long for Telegram's difference; its channels "
                     "are read again",
                     l->name);
        } else {
            learn_chats(l, json_object_get(ans, "chats"));
            size_t i;
            json_t *v;
            json_array_foreach(json_object_get(ans, "other_updates"), i, v)
            {
                if (tl_is(v, "updatePendingJoinRequests")) mark_channel(l, v, 0);
                if (tl_is(v, "updateBotChatInviteRequester"))
                    record_requester(l, v, json_object_get(ans, "users"));
            }
            set_state(l, json_object_get(ans, more ? "intermediate_state" : "state"));
        }
        json_decref(ans);
        ans = NULL;
        if (!more) return DM_OK;
    }
    return DM_OK; /* the rest on the next gap */
}

/* An envelope of updates already applied: a duplicate, or one that came before the state
 * updates.getState gave, which tells no news (it came while the listener started). Its join
 * requests are looked at all the same; both ways are idempotent. */
static void had_it(struct listener *l, const json_t *u, int64_t date)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(u, "updates"), i, v)
    {
        if (tl_is(v, "updatePendingJoinRequests")) mark_channel(l, v, date);
        if (tl_is(v, "updateBotChatInviteRequester"))
            record_requester(l, v, json_object_get(u, "users"));
    }
}

/* A pushed Updates object; true when a gap means getDifference. */
static bool on_updates(struct listener *l, const json_t *u)
{
    if (tl_is(u, "updatesTooLong")) return true;
    if (!l->have_state) return true;
    int64_t date = 0;
    (void)tl_get_long(u, "date", &date, NULL);
    if (tl_is(u, "updateShort")) return !apply(l, json_object_get(u, "update"), NULL, date);
    if (tl_is(u, "updates") || tl_is(u, "updatesCombined")) {
        int64_t seq = 0, start = 0;
        size_t i;
        json_t *v;
        (void)tl_get_long(u, "seq", &seq, NULL);
        if (tl_get_long(u, "seq_start", &start, NULL)) start = seq;
        if (seq && start <= l->st.seq) {
            had_it(l, u, date);
            return false;
        }
        if (seq && start != l->st.seq + 1) return true;
        learn_chats(l, json_object_get(u, "chats"));
        json_array_foreach(json_object_get(u, "updates"), i, v)
        {
            if (!apply(l, v, json_object_get(u, "users"), date)) return true;
        }
        if (seq) l->st.seq = seq;
        if (date) l->st.date = date;
        l->changed = true;
        return false;
    }
    /* updateShortMessage, updateShortChatMessage, updateShortSentMessage: pts only */
    return !apply(l, u, NULL, date);
}

/* ---- reading a channel's new requests ---- */

/* Reads the channel's newest pending requests until a page holds a known one. */
static dm_err load_channel(struct listener *l, int64_t id, int64_t hash, struct tg_error *te)
{
    struct loader_via via = {l->u->pool, l->name};
    struct account_channel ch = {.chat_id = loader_chat_id(id), .id = id, .access_hash = hash};
    if (!hash && !pool_peer_get(l->u->pool, l->name, id, &ch.access_hash)) {
        struct account_ref ref = {.channel_id = id};
        dm_err e = loader_resolve(&via, &ref, &ch, te);
        if (e) return e;
    }
    struct account_cursor from = {0};
    size_t added = 0;
    for (int page = 0; page < LOAD_PAGES && !stopping(l); page++) {
        struct account_page p;
        dm_err e =
            loader_fetch_page(&via, &ch, &from, ACCOUNT_PAGE_MAX, (int64_t)time(NULL), &p, te);
        if (e) return e;
        size_t inserted = 0;
        struct dm_error err = {0};
        e = p.n ? store_request_add_many(l->u->store, p.rows, p.n, &inserted, &err) : DM_OK;
        size_t n = p.n;
        from = p.next;
        account_page_release(&p);
        if (e) return tg_error_local(te, e, "%s", err.msg);
        added += inserted;
        if (inserted < n || n < ACCOUNT_PAGE_MAX) break; /* reached what was known */
    }
    if (added)
        log_info(C, "session %s: %zu new join request(s) in channel %" PRId64, l->name, added,
                 ch.chat_id);
    return DM_OK;
}

/* differenceTooLong: every channel doorman has requests of becomes one to read. */
static void mark_all(struct listener *l)
{
    struct store_chat *chats = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    if (store_chat_list(l->u->store, &chats, &n, &err)) {
        log_warn(C, "session %s: cannot list the channels to read again: %s", l->name, err.msg);
        return;
    }
    l->reload_all = false;
    for (size_t i = 0; i < n && l->ndirty < DIRTY_MAX; i++) {
        int64_t id = loader_channel_id(chats[i].chat_id);
        struct listener_dirty *d = id > 0 ? mark_id(l, id) : NULL;
        if (d) d->forced = true;
    }
    free(chats);
}

/* Reads the channels marked; a flood wait pauses them (kept for later). */
static void load_marked(struct listener *l)
{
    if (l->reload_all && l->bot) { /* a bot may not list a channel's requests */
        log_warn(C,
                 "session %s: a bot cannot read channels' requests again after a gap too long "
                 "for Telegram's difference; Load Requests through a user session finds them",
                 l->name);
        l->reload_all = false;
    }
    if (l->reload_all) mark_all(l);
    while (l->ndirty && !stopping(l)) {
        struct tg_error te = {0};
        dm_err e = nothing_new(l, &l->dirty[0])
                       ? DM_OK
                       : load_channel(l, l->dirty[0].id, l->dirty[0].hash, &te);
        if (e && (te.kind == TG_FLOOD || te.kind == TG_UNREACHABLE)) {
            log_warn(C, "session %s: channel %" PRId64 " waits: %s", l->name, l->dirty[0].id,
                     te.e.msg);
            (void)pause_ms(l, te.kind == TG_FLOOD ? DM_MIN(te.retry_after, 60) * 1000 : RETRY_MS);
            return;
        }
        if (e)
            log_warn(C, "session %s: cannot read channel %" PRId64 "'s requests: %s", l->name,
                     l->dirty[0].id, te.e.msg);
        memmove(l->dirty, l->dirty + 1, --l->ndirty * sizeof l->dirty[0]);
    }
}

/* ---- the listener ---- */

static void save_state(struct listener *l)
{
    if (!l->changed) return;
    struct dm_error err = {0};
    if (store_session_updates_put(l->u->store, l->name, &l->st, (int64_t)time(NULL), &err))
        log_warn(C, "session %s: cannot save its update state: %s", l->name, err.msg);
    else
        l->changed = false;
}

static void *listen_main(void *arg)
{
    struct listener *l = arg;
    struct dm_error err = {0};
    if (!store_session_updates_get(l->u->store, l->name, &l->st, &err) &&
        l->st.account_id == l->account_id)
        l->have_state = true;
    l->st.account_id = l->account_id;
    bool listening = false; /* said so: in step with Telegram's updates */
    while (!stopping(l)) {
        struct pool_conn *h = NULL;
        if (pool_acquire(l->u->pool, l->name, &h, &err)) {
            log_debug(C, "session %s: not listening for now: %s", l->name, err.msg);
            if (!pause_ms(l, RETRY_MS)) break;
            continue;
        }
        /* the first update waited for, then all that came with it: a burst (a thousand
         * decisions, each an updatePendingJoinRequests) reads each channel once */
        json_t *upd = NULL;
        dm_err e = mt_client_updates(pool_client(h), WAIT_MS, &upd, &err);
        bool gap = false;
        for (int n = 0; !e && n < BATCH_MAX; n++) {
            gap = on_updates(l, upd) || gap;
            json_decref(upd);
            upd = NULL;
            e = mt_client_updates(pool_client(h), 0, &upd, &err);
        }
        json_decref(upd);
        pool_release(l->u->pool, h);
        if (e && e != DM_ETIMEOUT && !pause_ms(l, RETRY_MS)) break;
        struct tg_error te = {0};
        if (gap && difference(l, &te)) {
            log_warn(C, "session %s: cannot catch up with its updates: %s", l->name, te.e.msg);
            if (!pause_ms(l, RETRY_MS)) break;
        } else if (!listening && l->have_state) {
            log_info(C, "session %s: listening to its updates", l->name);
            listening = true;
        }
        load_marked(l);
        save_state(l);
    }
    save_state(l);
    return NULL;
}

/* ---- the supervisor ---- */

static void stop_listener(struct tg_updates *u, struct listener *l)
{
    pthread_mutex_lock(&u->mu);
    l->stop = true;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    pthread_join(l->th, NULL);
    free(l);
}

/* Starts a listener for each active user session, stops those of sessions gone or invalid. */
static void scan(struct tg_updates *u)
{
    struct store_session *s = NULL;
    size_t n = 0, running = 0;
    struct dm_error err = {0};
    if (store_session_list(u->store, &s, &n, &err)) {
        log_warn(C, "cannot list the sessions: %s", err.msg);
        return;
    }
    for (struct listener *l = u->list; l; l = l->next)
        l->seen = false, running++;
    for (size_t i = 0; i < n; i++) {
        if (s[i].status != SESSION_ACTIVE || !s[i].account_id) continue;
        struct listener *l = u->list;
        while (l && (strcmp(l->name, s[i].name) || l->account_id != s[i].account_id))
            l = l->next;
        if (l) {
            l->seen = true;
            continue;
        }
        if (running >= MAX_LISTENERS || !(l = calloc(1, sizeof *l))) continue;
        l->u = u;
        dm_strlcpy(l->name, s[i].name, sizeof l->name);
        l->account_id = s[i].account_id;
        l->bot = s[i].is_bot;
        l->seen = true;
        if (pthread_create(&l->th, NULL, listen_main, l)) {
            free(l);
            continue;
        }
        l->next = u->list;
        u->list = l;
        running++;
        log_debug(C, "session %s: its updates listener starts", l->name);
    }
    free(s);
    for (struct listener **pp = &u->list; *pp;) {
        struct listener *l = *pp;
        if (l->seen) {
            pp = &l->next;
            continue;
        }
        *pp = l->next;
        log_info(C, "session %s: no longer listening to its updates", l->name);
        stop_listener(u, l);
    }
}

static void *supervise(void *arg)
{
    struct tg_updates *u = arg;
    for (;;) {
        scan(u);
        struct timespec until = clock_after_ms(SCAN_MS);
        pthread_mutex_lock(&u->mu);
        while (!u->stop && pthread_cond_timedwait(&u->cv, &u->mu, &until) != ETIMEDOUT) {
        }
        bool stop = u->stop;
        pthread_mutex_unlock(&u->mu);
        if (stop) break;
    }
    while (u->list) {
        struct listener *l = u->list;
        u->list = l->next;
        stop_listener(u, l);
    }
    return NULL;
}

dm_err tg_updates_start(const struct tg_updates_config *cfg, struct tg_updates **out,
                        struct dm_error *err)
{
    struct tg_updates *u = calloc(1, sizeof *u);
    if (!u) return dm_fail(err, DM_ENOMEM, "out of memory");
    u->store = cfg->store;
    u->pool = cfg->pool;
    pthread_mutex_init(&u->mu, NULL);
    clock_cond_init(&u->cv);
    if (pthread_create(&u->th, NULL, supervise, u)) {
        pthread_cond_destroy(&u->cv);
        pthread_mutex_destroy(&u->mu);
        free(u);
        return dm_fail(err, DM_ENOMEM, "cannot start the updates thread");
    }
    *out = u;
    return DM_OK;
}

void tg_updates_stop(struct tg_updates *u)
{
    if (!u) return;
    pthread_mutex_lock(&u->mu);
    u->stop = true; /* every listener sees it too; the supervisor joins them */
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    pthread_join(u->th, NULL);
    pthread_cond_destroy(&u->cv);
    pthread_mutex_destroy(&u->mu);
    free(u);
}
