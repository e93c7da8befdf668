/* bot.c: the bot account: settings, the update receiver thread, webhook deliveries and the chat
 * title cache.
 *
 * Locks: cfg_mu serialises bot_configure() (and with it every receiver restart); mu guards the
 * fields below it and is never held across a network call or a store call. The receiver thread
 * has its own client (rx) so that stopping it (botapi_client_abort) never disturbs the client
 * the job runner and the API borrow through bot_client_acquire(). */
#include "core/common.h"
#include "telegram/bot.h"

#include "botapi/client.h"
#include "botapi/join_query.h"
#include "botapi/update.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"
#include "telegram/tg_error.h"

#include <math.h>
#include <pthread.h>

#define TOKEN_MAX 257
#define SECRET_HEX 32  /* webhook secret_token: 32 hex digits */
#define TITLE_TTL 3600 /* seconds a cached chat title is trusted */
#define BACKOFF_MIN 1
#define BACKOFF_MAX 30
#define DEFAULT_RATE 30.0
#define MAX_RATE 100000.0
/* Polling by several processes on one database: the one holding this lease polls. It lasts
 * POLLER_LEASE_S without a renewal and is renewed before every getUpdates, whose timeout is
 * cut to POLL_MAX so that renewals come well within it; the others ask every STANDBY_S. */
#define POLLER_LEASE_S 10
#define POLL_MAX 5
#define STANDBY_S 3

static const char *const C = "bot";

struct bot {
    struct store *store;
    const struct secret_key *master;
    char api_url[512];
    char owner[64];
    int poll_timeout; /* getUpdates timeout (s): DOORMAN_POLL_TIMEOUT, default 25 */
    pthread_mutex_t cfg_mu;

    pthread_mutex_t mu;
    pthread_cond_t cv;     /* signalled when stop is set */
    char token[TOKEN_MAX]; /* secret; "" when not configured; wiped on free */
    char webhook_secret[SECRET_HEX + 1];
    struct botapi_client *client; /* shared; NULL without a token */
    struct botapi_client *rx;     /* the receiver's own client */
    pthread_t thread;
    bool thread_running; /* thread must be joined */
    bool stop;           /* the receiver should end */
    int64_t offset;      /* next getUpdates offset; kept across receiver restarts */
    struct bot_status st;
    bot_update_fn on_update; /* callback_query and message updates; NULL until set */
    void *on_update_ctx;
};

/* ---- small helpers ---- */

static void status_error(struct bot *b, bool receiving, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void status_error(struct bot *b, bool receiving, const char *fmt, ...)
{
    char msg[sizeof b->st.last_error];
    va_list ap;
    va_start(ap, fmt);
    dm_vsnprintf_utf8(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&b->mu);
    bool changed = strcmp(b->st.last_error, msg) != 0;
    dm_strlcpy(b->st.last_error, msg, sizeof b->st.last_error);
    b->st.receiving = receiving;
    pthread_mutex_unlock(&b->mu);
    if (changed && msg[0]) log_warn(C, "%s", msg);
}

static void status_ok(struct bot *b, bool got_update)
{
    pthread_mutex_lock(&b->mu);
    b->st.last_error[0] = 0;
    b->st.receiving = true;
    if (got_update) b->st.last_update_at = (int64_t)time(NULL);
    pthread_mutex_unlock(&b->mu);
}

/* Waits up to `seconds` or until stop; returns true when the receiver should end. */
static bool pause_or_stop(struct bot *b, int seconds)
{
    struct timespec ts = clock_after_ms((int64_t)seconds * 1000);
    pthread_mutex_lock(&b->mu);
    while (!b->stop && pthread_cond_timedwait(&b->cv, &b->mu, &ts) != ETIMEDOUT) {
    }
    bool stop = b->stop;
    pthread_mutex_unlock(&b->mu);
    return stop;
}

static int env_int(const char *name, int def, int lo, int hi)
{
    const char *s = getenv(name);
    if (!s || !*s) return def;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) {
        log_warn(C, "%s must be a number from %d to %d; using %d", name, lo, hi, def);
        return def;
    }
    return (int)v;
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static json_t *allowed_updates(void)
{
    return json_pack("[s,s,s]", "chat_join_request", "callback_query", "message");
}

/* ---- settings ---- */

/* Reads a plain setting into out; DM_ENOTFOUND leaves out "". */
static dm_err setting_text(struct bot *b, const char *key, char *out, size_t n,
                           struct dm_error *err)
{
    struct store *st = b->store;
    char *v = NULL;
    out[0] = 0;
    dm_err e = store_setting_get(st, key, &v, err);
    if (e) return e;
    dm_strlcpy(out, v, n);
    free(v);
    return DM_OK;
}

/* Reads a sealed setting into out (a secret: the caller wipes it). */
static dm_err setting_sealed(struct bot *b, const char *key, char *out, size_t n,
                             struct dm_error *err)
{
    char *sealed = NULL, *plain = NULL;
    size_t len = 0;
    struct store *st = b->store;
    out[0] = 0;
    dm_err e = store_setting_get(st, key, &sealed, err);
    if (e) return e;
    e = secret_open(b->master, sealed, &plain, &len);
    free(sealed);
    if (e) return dm_fail(err, e, "the stored %s cannot be decrypted with this secret key", key);
    if (len >= n)
        e = dm_fail(err, DM_ETOOBIG, "the stored %s is too long", key);
    else
        memcpy(out, plain, len + 1);
    secret_wipe(plain, len);
    free(plain);
    return e;
}

static dm_err setting_seal_set(struct bot *b, const char *key, const char *plain,
                               struct dm_error *err)
{
    char *sealed = NULL;
    dm_err e = secret_seal(b->master, plain, strlen(plain), &sealed);
    if (e) return dm_fail(err, e, "could not encrypt the %s", key);
    struct store *st = b->store;
    e = store_setting_set(st, key, sealed, err);
    free(sealed);
    return e;
}

/* ---- recording updates ---- */

/* When a query that came now, about a request Telegram dated tg_date (seconds), must be
 * answered by (Unix ms): BOTAPI_JOIN_QUERY_MS after it came, or after the end of the second
 * Telegram dated the request when that is earlier (an update delivered late: a restart, a
 * backlog), whichever comes first. */
static int64_t query_deadline_ms(int64_t tg_date)
{
    int64_t now_ms = clock_unix_ms();
    int64_t from = tg_date > 0 ? DM_MIN(now_ms, (tg_date + 1) * 1000) : now_ms;
    return from + BOTAPI_JOIN_QUERY_MS;
}

/* Hands a callback_query or message update to the handler (bot_set_update_handler): DM_OK
 * once what it causes is committed; DM_EUNAVAILABLE while no handler is set (the update is
 * taken again later). Other updates are ignored. */
static dm_err handle_other(struct bot *b, json_t *update, struct dm_error *err)
{
    if (!json_object_get(update, "callback_query") && !json_object_get(update, "message"))
        return DM_OK;
    pthread_mutex_lock(&b->mu);
    bot_update_fn fn = b->on_update;
    void *ctx = b->on_update_ctx;
    pthread_mutex_unlock(&b->mu);
    if (!fn) return dm_fail(err, DM_EUNAVAILABLE, "doorman is still starting");
    return fn(ctx, update, err);
}

/* The request and the channel (its title comes free with the update) that jr tells of. */
static void join_of(const struct botapi_join_request *jr, struct store_request *r,
                    struct store_chat *c)
{
    int64_t now = (int64_t)time(NULL);
    *r = (struct store_request){.chat_id = jr->chat_id,
                                .user_id = jr->user_id,
                                .tg_date = jr->date ? jr->date : now,
                                .status = REQ_PENDING,
                                .created_at = now};
    dm_strlcpy(r->first_name, jr->first_name, sizeof r->first_name);
    dm_strlcpy(r->last_name, jr->last_name, sizeof r->last_name);
    dm_strlcpy(r->username, jr->username, sizeof r->username);
    dm_strlcpy(r->bio, jr->bio, sizeof r->bio);
    dm_strlcpy(r->invite_link, jr->invite_link, sizeof r->invite_link);
    dm_strlcpy(r->language_code, jr->language_code, sizeof r->language_code);
    r->is_premium = jr->is_premium;
    *c = (struct store_chat){.chat_id = jr->chat_id, .fetched_at = now};
    dm_strlcpy(c->title, jr->chat_title, sizeof c->title);
    dm_strlcpy(c->username, jr->chat_username, sizeof c->username);
}

/* Caches the titles of chats[0..n) that have one (a failure is only logged). */
static void titles_put(struct store *st, const struct store_chat *chats, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct dm_error cerr = {0};
        if (chats[i].title[0] && store_chat_put(st, &chats[i], &cerr))
            log_warn(C, "could not cache the title of chat %" PRId64 ": %s", chats[i].chat_id,
                     cerr.msg);
    }
}

/* Whether Telegram asks for an answer to this request (a join-request query: guard mode). */
static bool join_has_query(const struct botapi_join_request *jr)
{
    return jr->query_id[0] && botapi_query_id_valid(jr->query_id);
}

/* Stores one join request alone (with its query when it has one). DM_EDB or DM_EUNAVAILABLE
 * (message in err) when it could not be stored. */
static dm_err record_join(struct bot *b, const struct botapi_join_request *jr, struct dm_error *err)
{
    struct store_request r;
    struct store_chat c;
    join_of(jr, &r, &c);
    struct store *st = b->store;
    bool inserted = false;
    dm_err e = join_has_query(jr)
                   ? store_request_add_query(st, &r, jr->query_id, query_deadline_ms(jr->date),
                                             &inserted, err)
                   : store_request_add(st, &r, &inserted, err);
    if (e) return e;
    titles_put(st, &c, 1);
    if (inserted)
        log_debug(C, "join request: chat %" PRId64 " user %" PRId64, r.chat_id, r.user_id);
    return DM_OK;
}

/* Stores one update if it is a chat_join_request; hands callback_query and message updates to
 * the handler (others are ignored). DM_EINVAL for a malformed one, DM_EDB or DM_EUNAVAILABLE
 * (message in err) when it could not be stored. */
static dm_err record_update(struct bot *b, json_t *update, bool *was_join, struct dm_error *err)
{
    struct botapi_join_request jr;
    dm_err e = botapi_join_request_parse(update, &jr, err);
    *was_join = e != DM_ENOTFOUND;
    if (e == DM_ENOTFOUND) return handle_other(b, update, err);
    return e ? e : record_join(b, &jr, err);
}

/* A poll's join requests that come without a query, recorded together (one transaction, a few
 * statements) rather than one transaction each; the updates between them that must be handled
 * alone (a query, a message, a callback) first see the batch before them recorded. rows and
 * chats hold room for every update of the poll (malloc'd when the first join comes). */
struct join_batch {
    struct store_request *rows;
    struct store_chat *chats; /* the batch's channels, each once, with its newest title */
    size_t n, nchats, cap;
};

/* Takes jr (a join request without a query) into jb; false when there is no room (out of
 * memory: the caller records it alone). */
static bool batch_take(struct join_batch *jb, const struct botapi_join_request *jr, size_t cap)
{
    if (!jb->rows) {
        jb->rows = malloc(cap * sizeof *jb->rows);
        jb->chats = malloc(cap * sizeof *jb->chats);
        jb->cap = jb->rows && jb->chats ? cap : 0;
    }
    if (jb->n == jb->cap) return false;
    struct store_chat c;
    join_of(jr, &jb->rows[jb->n++], &c);
    size_t i = 0;
    while (i < jb->nchats && jb->chats[i].chat_id != c.chat_id)
        i++;
    if (i == jb->nchats || c.title[0]) jb->chats[i] = c;
    jb->nchats += i == jb->nchats;
    return true;
}

/* Records the batch (emptied when it is recorded). */
static dm_err batch_record(struct bot *b, struct join_batch *jb, struct dm_error *err)
{
    if (!jb->n) return DM_OK;
    size_t inserted = 0;
    dm_err e = store_request_add_many(b->store, jb->rows, jb->n, &inserted, err);
    if (e) return e;
    titles_put(b->store, jb->chats, jb->nchats);
    log_debug(C, "%zu join requests, %zu new", jb->n, inserted);
    jb->n = jb->nchats = 0;
    return DM_OK;
}

static void batch_release(struct join_batch *jb)
{
    free(jb->rows);
    free(jb->chats);
}

/* ---- the receiver thread ---- */

enum call_result { CALL_OK, CALL_RETRY, CALL_REJECTED, CALL_STOPPED };

/* Classifies a failed receiver call, records it in the status and waits out the backoff.
 * *backoff doubles up to BACKOFF_MAX. */
static enum call_result receiver_failed(struct bot *b, const char *what, dm_err e,
                                        const struct botapi_reply *rep, const struct dm_error *err,
                                        int *backoff)
{
    if (e == DM_EUNAVAILABLE) return CALL_STOPPED; /* botapi_client_abort(): stopping */
    struct tg_error te;
    tg_error_botapi(&te, e, rep, err);
    if (te.kind == TG_DEAD) {
        status_error(b, false, "%s", te.e.msg);
        return CALL_REJECTED;
    }
    if (e)
        status_error(b, false, "%s", te.e.msg);
    else
        status_error(b, false, "%s: %s", what, te.e.msg);
    int wait = te.kind == TG_FLOOD ? (int)te.retry_after : *backoff;
    if (pause_or_stop(b, wait)) return CALL_STOPPED;
    *backoff = DM_MIN(*backoff * 2, BACKOFF_MAX);
    return CALL_RETRY;
}

/* One call with retries (backoff, 429); for getMe, deleteWebhook and setWebhook. On CALL_OK
 * *rep holds the reply (release it). */
static enum call_result receiver_call(struct bot *b, struct botapi_client *rx, const char *method,
                                      json_t *params, struct botapi_reply *rep)
{
    int backoff = BACKOFF_MIN;
    for (;;) {
        struct dm_error err = {0};
        dm_err e = botapi_call(rx, method, params, 15000, rep, &err);
        if (!e && rep->ok) return CALL_OK;
        enum call_result cr = receiver_failed(b, method, e, rep, &err, &backoff);
        botapi_reply_release(rep);
        if (cr != CALL_RETRY) return cr;
    }
}

/* One getUpdates round trip and the recording of its batch. */
static enum call_result poll_once(struct bot *b, struct botapi_client *rx, int *backoff)
{
    pthread_mutex_lock(&b->mu);
    int64_t offset = b->offset;
    pthread_mutex_unlock(&b->mu);

    int timeout = DM_MIN(b->poll_timeout, POLL_MAX);
    json_t *params = json_pack("{s:I, s:i, s:o}", "offset", (json_int_t)offset, "timeout", timeout,
                               "allowed_updates", allowed_updates());
    struct botapi_reply rep;
    struct dm_error err = {0};
    dm_err e = params
                   ? botapi_call(rx, "getUpdates", params, (long)(timeout + 15) * 1000, &rep, &err)
                   : dm_fail(&err, DM_ENOMEM, "out of memory");
    json_decref(params);
    if (e || !rep.ok) {
        enum call_result cr = receiver_failed(b, "getUpdates", e, &rep, &err, backoff);
        botapi_reply_release(&rep);
        return cr;
    }
    if (!json_is_array(rep.result)) {
        botapi_reply_release(&rep);
        dm_fail(&err, DM_EPROTO, "getUpdates answered without a list of updates");
        return receiver_failed(b, "getUpdates", DM_EPROTO, NULL, &err, backoff);
    }
    /* Every update of the batch is committed before the offset moves past it: `next` is past
     * every update committed, `taken` past those waiting in jb too. */
    int64_t next = offset, taken = offset;
    bool any_join = false;
    struct join_batch jb = {0};
    size_t i, n = json_array_size(rep.result);
    json_t *u;
    json_array_foreach(rep.result, i, u)
    {
        json_t *uid = json_object_get(u, "update_id");
        if (!json_is_integer(uid)) continue;
        int64_t past = (int64_t)json_integer_value(uid) + 1;
        struct botapi_join_request jr;
        dm_err pe = botapi_join_request_parse(u, &jr, &err);
        any_join |= pe != DM_ENOTFOUND;
        if (!pe && !join_has_query(&jr) && batch_take(&jb, &jr, n)) {
            taken = DM_MAX(taken, past);
            continue;
        }
        e = batch_record(b, &jb, &err);
        if (e) break;
        next = taken;
        e = pe == DM_ENOTFOUND ? handle_other(b, u, &err) : pe ? pe : record_join(b, &jr, &err);
        if (e && e != DM_EINVAL) break;
        if (e) log_warn(C, "skipping update %" PRId64 ": %s", past - 1, err.msg);
        e = DM_OK;
        next = taken = DM_MAX(next, past);
    }
    if (!e) e = batch_record(b, &jb, &err);
    if (!e) next = taken;
    batch_release(&jb);
    botapi_reply_release(&rep);
    pthread_mutex_lock(&b->mu); /* those before it are committed */
    b->offset = next;
    pthread_mutex_unlock(&b->mu);
    if (e) {
        status_error(b, false, "could not store updates: %s", err.msg);
        if (pause_or_stop(b, *backoff)) return CALL_STOPPED;
        *backoff = DM_MIN(*backoff * 2, BACKOFF_MAX);
        return CALL_RETRY;
    }
    status_ok(b, any_join);
    *backoff = BACKOFF_MIN;
    return CALL_OK;
}

/* Takes or renews the poller's lease before a poll. CALL_OK: this process polls now (*polling
 * true). Otherwise the status says why (another process polls, or the database cannot be
 * reached) and the call waited before the next try (CALL_RETRY), or was stopped. */
static enum call_result poller_lease(struct bot *b, bool *polling, int *backoff)
{
    struct store *st = b->store;
    struct dm_error err = {0};
    bool held = false;
    int64_t now = (int64_t)time(NULL);
    dm_err e =
        store_lease_acquire(st, BOT_POLLER_LEASE, b->owner, now, now + POLLER_LEASE_S, &held, &err);
    if (held) {
        if (!*polling) log_info(C, "this instance polls Telegram for updates");
        *polling = true;
        return CALL_OK;
    }
    *polling = false;
    int wait = STANDBY_S;
    if (e) {
        status_error(b, false, "updates wait for the database: %s", err.msg);
        wait = *backoff;
        *backoff = DM_MIN(*backoff * 2, BACKOFF_MAX);
    } else {
        /* receiving: the other process records the updates into the same database */
        status_error(b, true,
                     "Another doorman instance polls Telegram for updates; this one takes over "
                     "within %d seconds if it stops",
                     POLLER_LEASE_S + STANDBY_S);
    }
    return pause_or_stop(b, wait) ? CALL_STOPPED : CALL_RETRY;
}

static void *receiver_main(void *arg)
{
    struct bot *b = arg;
    pthread_mutex_lock(&b->mu);
    struct botapi_client *rx = botapi_client_ref(b->rx);
    int mode = b->st.mode;
    char url[sizeof b->st.webhook_url], secret[sizeof b->webhook_secret];
    dm_strlcpy(url, b->st.webhook_url, sizeof url);
    dm_strlcpy(secret, b->webhook_secret, sizeof secret);
    pthread_mutex_unlock(&b->mu);

    struct botapi_reply rep;
    enum call_result cr = receiver_call(b, rx, "getMe", NULL, &rep);
    if (cr == CALL_OK) {
        pthread_mutex_lock(&b->mu);
        b->st.id = (int64_t)json_integer_value(json_object_get(rep.result, "id"));
        dm_strlcpy(b->st.username, jstr(rep.result, "username"), sizeof b->st.username);
        b->st.supports_join_request_queries =
            json_is_true(json_object_get(rep.result, "supports_join_request_queries"));
        pthread_mutex_unlock(&b->mu);
        botapi_reply_release(&rep);
    }
    if (cr == CALL_OK && mode == BOT_WEBHOOK) {
        json_t *p = json_pack("{s:s, s:s, s:o}", "url", url, "secret_token", secret,
                              "allowed_updates", allowed_updates());
        cr = p ? receiver_call(b, rx, "setWebhook", p, &rep) : CALL_STOPPED;
        json_decref(p);
        if (cr == CALL_OK) {
            botapi_reply_release(&rep);
            status_ok(b, false);
            log_info(C, "webhook set; receiving at the configured URL");
        }
    } else if (cr == CALL_OK) {
        /* A webhook left from webhook mode would make getUpdates fail with 409. */
        cr = receiver_call(b, rx, "deleteWebhook", NULL, &rep);
        if (cr == CALL_OK) botapi_reply_release(&rep);
        int backoff = BACKOFF_MIN;
        if (cr == CALL_OK) log_info(C, "receiving updates by long polling");
        bool polling = false;
        while (cr == CALL_OK || cr == CALL_RETRY) {
            cr = poller_lease(b, &polling, &backoff);
            if (cr == CALL_OK) cr = poll_once(b, rx, &backoff);
        }
        /* another process takes over at once instead of after the lease ran out */
        if (polling) store_lease_release(b->store, BOT_POLLER_LEASE, b->owner, NULL);
    }
    botapi_client_free(rx);
    secret_wipe(secret, sizeof secret);
    return NULL;
}

/* Starts the receiver when a token is configured. Called with cfg_mu held. */
static dm_err receiver_start(struct bot *b)
{
    pthread_mutex_lock(&b->mu);
    bool have = b->token[0] != 0;
    pthread_mutex_unlock(&b->mu);
    if (!have) return DM_OK;
    struct botapi_client *rx = NULL;
    dm_err e = botapi_client_new(b->api_url, b->token, &rx);
    if (e) return e;
    pthread_mutex_lock(&b->mu);
    b->rx = rx;
    b->stop = false;
    pthread_mutex_unlock(&b->mu);
    if (pthread_create(&b->thread, NULL, receiver_main, b) != 0) {
        pthread_mutex_lock(&b->mu);
        b->rx = NULL;
        pthread_mutex_unlock(&b->mu);
        botapi_client_free(rx);
        return DM_ENOMEM;
    }
    b->thread_running = true;
    return DM_OK;
}

/* Stops the receiver and waits for it. Called with cfg_mu held. */
static void receiver_stop(struct bot *b)
{
    if (!b->thread_running) return;
    pthread_mutex_lock(&b->mu);
    b->stop = true;
    pthread_cond_broadcast(&b->cv);
    botapi_client_abort(b->rx);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
    b->thread_running = false;
    pthread_mutex_lock(&b->mu);
    struct botapi_client *rx = b->rx;
    b->rx = NULL;
    b->st.receiving = false;
    pthread_mutex_unlock(&b->mu);
    botapi_client_free(rx);
}

/* ---- public ---- */

static void bot_free(struct bot *b)
{
    botapi_client_free(b->client);
    secret_wipe(b->token, sizeof b->token);
    secret_wipe(b->webhook_secret, sizeof b->webhook_secret);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    pthread_mutex_destroy(&b->cfg_mu);
    free(b);
}

/* Loads the settings into b (no thread runs yet). */
static dm_err bot_load(struct bot *b, struct dm_error *err)
{
    char v[64];
    dm_err e = setting_text(b, "bot_mode", v, sizeof v, err);
    if (e && e != DM_ENOTFOUND) return e;
    b->st.mode = strcmp(v, "webhook") == 0 ? BOT_WEBHOOK : BOT_POLLING;
    e = setting_text(b, "bot_webhook_url", b->st.webhook_url, sizeof b->st.webhook_url, err);
    if (e && e != DM_ENOTFOUND) return e;
    e = setting_text(b, "bot_rate", v, sizeof v, err);
    if (e && e != DM_ENOTFOUND) return e;
    char *end;
    double rate = strtod(v, &end);
    b->st.rate = (!e && end != v && !*end && rate > 0 && rate <= MAX_RATE) ? rate : DEFAULT_RATE;

    e = setting_sealed(b, "bot_webhook_secret", b->webhook_secret, sizeof b->webhook_secret, err);
    if (e == DM_EDB || e == DM_EUNAVAILABLE) return e;
    if (e) b->webhook_secret[0] = 0;

    struct dm_error terr = {0};
    e = setting_sealed(b, "bot_token", b->token, sizeof b->token, &terr);
    if (e == DM_EDB || e == DM_EUNAVAILABLE) return dm_fail(err, e, "%s", terr.msg);
    if (e && e != DM_ENOTFOUND) { /* e.g. a different master key: say so, keep running */
        b->token[0] = 0;
        status_error(b, false, "%s: set the bot token again in Settings", terr.msg);
    }
    b->st.configured = b->token[0] != 0;
    if (b->st.configured) {
        e = botapi_client_new(b->api_url, b->token, &b->client);
        if (e) return dm_fail(err, e, "could not set up the Bot API client: %s", dm_strerror(e));
    }
    return DM_OK;
}

dm_err bot_start(const struct bot_config *cfg, struct bot **out, struct dm_error *err)
{
    *out = NULL;
    if (strlen(cfg->bot_api_url) >= sizeof((struct bot *)0)->api_url ||
        strlen(cfg->owner) >= sizeof((struct bot *)0)->owner)
        return dm_fail(err, DM_EINVAL, "the Bot API address is too long");
    struct bot *b = calloc(1, sizeof *b);
    if (!b) return dm_fail(err, DM_ENOMEM, "out of memory");
    b->store = cfg->store;
    b->master = cfg->master;
    dm_strlcpy(b->api_url, cfg->bot_api_url, sizeof b->api_url);
    dm_strlcpy(b->owner, cfg->owner, sizeof b->owner);
    b->poll_timeout = env_int("DOORMAN_POLL_TIMEOUT", 25, 1, 50);
    pthread_mutex_init(&b->cfg_mu, NULL);
    pthread_mutex_init(&b->mu, NULL);
    clock_cond_init(&b->cv);

    dm_err e = bot_load(b, err);
    if (!e) {
        e = receiver_start(b);
        if (e) dm_fail(err, e, "could not start the bot's update receiver");
    }
    if (e) {
        bot_free(b);
        return e;
    }
    if (!b->st.configured) log_info(C, "no bot token configured yet: set it in Settings");
    *out = b;
    return DM_OK;
}

void bot_stop(struct bot *b)
{
    if (!b) return;
    pthread_mutex_lock(&b->cfg_mu);
    receiver_stop(b);
    pthread_mutex_unlock(&b->cfg_mu);
    bot_free(b);
}

static bool url_valid(const char *u)
{
    if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) return false;
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p == 0x7f) return false;
    return strlen(u) > 8;
}

/* Checks a new token with getMe; fills id and username. */
static dm_err token_check(struct bot *b, const char *token, struct botapi_client **out, int64_t *id,
                          char *username, size_t n, struct dm_error *err)
{
    dm_err e = botapi_client_new(b->api_url, token, out);
    if (e == DM_EINVAL)
        return dm_fail(
            err, DM_EINVAL,
            "that is not a bot token: expected the form 123456:ABC-DEF… from @BotFather");
    if (e) return dm_fail(err, e, "could not set up the Bot API client");
    struct botapi_reply rep;
    struct dm_error cerr = {0};
    e = botapi_call(*out, "getMe", NULL, 15000, &rep, &cerr);
    struct tg_error te;
    tg_error_botapi(&te, e, &rep, &cerr);
    if (e)
        e = dm_fail(err, e, "could not check the bot token: %s", te.e.msg);
    else if (te.kind == TG_FLOOD || te.kind == TG_UNREACHABLE) /* worth trying again */
        e = dm_fail(err, DM_ETELEGRAM, "could not check the bot token: %s", rep.description);
    else if (te.kind != TG_OK)
        e = dm_fail(err, DM_EAUTH, "Telegram rejected the bot token: %s", rep.description);
    else {
        *id = (int64_t)json_integer_value(json_object_get(rep.result, "id"));
        dm_strlcpy(username, jstr(rep.result, "username"), n);
    }
    botapi_reply_release(&rep);
    if (e) {
        botapi_client_free(*out);
        *out = NULL;
    }
    return e;
}

dm_err bot_configure(struct bot *b, const char *token, int mode, const char *webhook_url,
                     double rate, struct dm_error *err)
{
    pthread_mutex_lock(&b->cfg_mu);
    struct bot_status cur;
    bot_get_status(b, &cur);
    if (mode < 0) mode = cur.mode;
    if (!webhook_url) webhook_url = cur.webhook_url;
    if (rate <= 0) rate = cur.rate;

    dm_err e = DM_OK;
    struct botapi_client *nc = NULL;
    int64_t id = 0;
    char username[sizeof cur.username] = "";
    char secret[SECRET_HEX + 1];
    dm_strlcpy(secret, b->webhook_secret, sizeof secret); /* only this thread writes it */
    bool url_changed = strcmp(webhook_url, cur.webhook_url) != 0;
    struct store *st = b->store;

    if (mode != BOT_POLLING && mode != BOT_WEBHOOK)
        e = dm_fail(err, DM_EINVAL, "mode must be \"polling\" or \"webhook\"");
    else if (strlen(webhook_url) >= sizeof cur.webhook_url)
        e = dm_fail(err, DM_EINVAL, "the webhook URL is too long (at most %zu bytes)",
                    sizeof cur.webhook_url - 1);
    else if (webhook_url[0] && !url_valid(webhook_url))
        e = dm_fail(err, DM_EINVAL, "the webhook URL must be an https:// (or http://) address");
    else if (mode == BOT_WEBHOOK && !webhook_url[0])
        e = dm_fail(err, DM_EINVAL, "webhook mode needs a webhook URL");
    else if (!isfinite(rate) || rate > MAX_RATE)
        e = dm_fail(err, DM_EINVAL, "bot_rate must be more than 0 and at most %g per second",
                    MAX_RATE);
    if (!e && token) e = token_check(b, token, &nc, &id, username, sizeof username, err);

    /* Store everything before touching the running receiver. */
    if (!e && token) e = setting_seal_set(b, "bot_token", token, err);
    if (!e && (!secret[0] || (mode == BOT_WEBHOOK && url_changed))) {
        secret_random_hex(secret, SECRET_HEX / 2);
        e = setting_seal_set(b, "bot_webhook_secret", secret, err);
    }
    if (!e) e = store_setting_set(st, "bot_mode", mode == BOT_WEBHOOK ? "webhook" : "polling", err);
    if (!e) e = store_setting_set(st, "bot_webhook_url", webhook_url, err);
    char rate_s[32];
    snprintf(rate_s, sizeof rate_s, "%g", rate);
    if (!e) e = store_setting_set(st, "bot_rate", rate_s, err);
    if (e) {
        botapi_client_free(nc);
        secret_wipe(secret, sizeof secret);
        pthread_mutex_unlock(&b->cfg_mu);
        return e;
    }

    bool restart =
        token || mode != cur.mode || url_changed || strcmp(secret, b->webhook_secret) != 0;
    if (restart) receiver_stop(b);
    pthread_mutex_lock(&b->mu);
    struct botapi_client *old = NULL;
    if (token) {
        old = b->client;
        b->client = nc;
        dm_strlcpy(b->token, token, sizeof b->token);
        b->st.configured = true;
        b->st.id = id;
        dm_strlcpy(b->st.username, username, sizeof b->st.username);
        b->st.last_error[0] = 0;
    }
    dm_strlcpy(b->webhook_secret, secret, sizeof b->webhook_secret);
    b->st.mode = mode;
    dm_strlcpy(b->st.webhook_url, webhook_url, sizeof b->st.webhook_url);
    b->st.rate = rate;
    pthread_mutex_unlock(&b->mu);
    botapi_client_free(old);
    secret_wipe(secret, sizeof secret);
    if (restart) {
        e = receiver_start(b);
        if (e) status_error(b, false, "could not start the update receiver: %s", dm_strerror(e));
    }
    pthread_mutex_unlock(&b->cfg_mu);
    log_info(C, "settings changed: mode %s, rate %g/s%s",
             mode == BOT_WEBHOOK ? "webhook" : "polling", rate, token ? ", new token" : "");
    return DM_OK;
}

void bot_set_update_handler(struct bot *b, bot_update_fn fn, void *ctx)
{
    pthread_mutex_lock(&b->mu);
    b->on_update = fn;
    b->on_update_ctx = ctx;
    pthread_mutex_unlock(&b->mu);
}

void bot_get_status(struct bot *b, struct bot_status *out)
{
    pthread_mutex_lock(&b->mu);
    *out = b->st;
    pthread_mutex_unlock(&b->mu);
}

bool bot_webhook_authorized(struct bot *b, const char *secret_header)
{
    char secret[SECRET_HEX + 1];
    pthread_mutex_lock(&b->mu);
    bool on = b->st.mode == BOT_WEBHOOK && b->st.configured && b->webhook_secret[0];
    dm_strlcpy(secret, b->webhook_secret, sizeof secret);
    pthread_mutex_unlock(&b->mu);
    bool good = on && secret_header && secret_equal(secret_header, secret);
    secret_wipe(secret, sizeof secret);
    return good;
}

int bot_webhook(struct bot *b, const char *secret_header, const char *body, size_t len)
{
    if (!bot_webhook_authorized(b, secret_header)) return 401;

    json_error_t jerr;
    json_t *u = json_loadb(body, len, 0, &jerr);
    if (!json_is_object(u) || !json_is_integer(json_object_get(u, "update_id"))) {
        json_decref(u);
        return 400;
    }
    bool was_join = false;
    struct dm_error err = {0};
    dm_err e = record_update(b, u, &was_join, &err);
    json_decref(u);
    if (e == DM_EINVAL) return 400;
    if (e) {
        status_error(b, false, "could not store updates: %s", err.msg);
        return 503;
    }
    status_ok(b, was_join);
    return 200;
}

struct botapi_client *bot_client_acquire(struct bot *b)
{
    pthread_mutex_lock(&b->mu);
    struct botapi_client *c = b->client ? botapi_client_ref(b->client) : NULL;
    pthread_mutex_unlock(&b->mu);
    return c;
}

void bot_client_release(struct bot *b, struct botapi_client *c)
{
    botapi_client_free(c);
}

dm_err bot_chat_title(struct bot *b, int64_t chat_id, char *out, size_t n)
{
    struct store *st = b->store;
    struct store_chat c;
    memset(&c, 0, sizeof c);
    out[0] = 0;
    int64_t now = (int64_t)time(NULL);
    dm_err e = store_chat_get(st, chat_id, &c, NULL);
    if (e && e != DM_ENOTFOUND) return e;
    bool cached = e == DM_OK;
    if (cached) dm_strlcpy(out, c.title, n);
    if (cached && c.fetched_at > now - TITLE_TTL) return DM_OK;

    struct botapi_client *cl = bot_client_acquire(b);
    if (!cl) return DM_OK;
    json_t *p = json_pack("{s:I}", "chat_id", (json_int_t)chat_id);
    struct botapi_reply rep;
    e = p ? botapi_call(cl, "getChat", p, 10000, &rep, NULL) : DM_ENOMEM;
    json_decref(p);
    bot_client_release(b, cl);
    if (e) return DM_OK; /* keep what we have; try again next time */
    struct tg_error te;
    tg_error_botapi(&te, e, &rep, NULL);
    bool definite = te.kind == TG_REFUSED || te.kind == TG_NOT_FOUND || te.kind == TG_NO_RIGHT;
    if (rep.ok || (!cached && definite)) {
        /* a definite "no" is cached too (empty title), so a missing chat is not asked for
         * on every page view; a stale title is kept over a failure */
        c.chat_id = chat_id;
        const char *t = jstr(rep.result, "title");
        if (!*t) t = jstr(rep.result, "first_name");
        dm_strlcpy(c.title, t, sizeof c.title);
        dm_strlcpy(c.username, jstr(rep.result, "username"), sizeof c.username);
        c.fetched_at = now;
        e = store_chat_put(st, &c, NULL);
        dm_strlcpy(out, c.title, n);
    }
    botapi_reply_release(&rep);
    return e;
}

/* One call of the bot's that answers an object; *rep holds it on DM_OK (release it). */
static dm_err bot_ask(struct bot *b, const char *method, json_t *params, struct botapi_reply *rep,
                      struct tg_error *te)
{
    struct botapi_client *cl = bot_client_acquire(b);
    if (!cl)
        return tg_error_local(te, DM_EUNAVAILABLE, "No bot token configured: set it in Settings");
    struct dm_error err = {0};
    dm_err e = botapi_call(cl, method, params, 10000, rep, &err);
    bot_client_release(b, cl);
    if ((e = tg_error_botapi(te, e, rep, &err))) botapi_reply_release(rep);
    return e;
}

dm_err bot_query_support(struct bot *b, bool *out, struct tg_error *te)
{
    *out = false;
    struct botapi_reply rep;
    dm_err e = bot_ask(b, "getMe", NULL, &rep, te);
    if (e) return e;
    *out = json_is_true(json_object_get(rep.result, "supports_join_request_queries"));
    pthread_mutex_lock(&b->mu);
    b->st.supports_join_request_queries = *out;
    pthread_mutex_unlock(&b->mu);
    botapi_reply_release(&rep);
    return DM_OK;
}

dm_err bot_channel_guard(struct bot *b, int64_t chat_id, struct bot_guard *out, struct tg_error *te)
{
    memset(out, 0, sizeof *out);
    json_t *p = json_pack("{s:I}", "chat_id", (json_int_t)chat_id);
    if (!p) return tg_error_local(te, DM_ENOMEM, "out of memory");
    struct botapi_reply rep;
    dm_err e = bot_ask(b, "getChat", p, &rep, te);
    json_decref(p);
    if (e) return e;
    json_t *g = json_object_get(rep.result, "guard_bot");
    json_t *id = json_object_get(g, "id");
    out->id = json_is_integer(id) ? (int64_t)json_integer_value(id) : 0;
    if (out->id) dm_strlcpy(out->username, jstr(g, "username"), sizeof out->username);
    dm_strlcpy(out->title, jstr(rep.result, "title"), sizeof out->title);
    botapi_reply_release(&rep);
    return DM_OK;
}
