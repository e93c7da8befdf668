/* store.c: the store's rules for everything but requests and jobs (those are requests.c and
 * jobs.c), written once above the dialects: opening by URL, web sessions, settings,
 * chats, Telegram sessions, logins, the audit log and leases (admins and tokens: admins.c). */
#include "core/common.h"

#include "core/clock.h"
#include "core/fold.h"
#include "store/db.h"
#include "store/requests.h"
#include "store/job_tx.h"
#include "store/rows.h"

#define CHAT_LIST_MAX 100000   /* chats returned by chat_list at most */
#define SESSION_LIST_MAX 10000 /* sessions returned by session_list at most */

static const char *const status_names[REQ_STATUS_COUNT] = {"pending", "approved", "declined"};
static const char *const kind_names[] = {"approve", "decline", "load", "apply"};
static const char *const session_status_names[] = {"unchecked", "active", "invalid"};
static const char *const state_names[] = {"queued", "running", "done", "failed", "cancelled"};

const char *request_status_name(int status)
{
    return status >= 0 && status < REQ_STATUS_COUNT ? status_names[status] : "unknown";
}

int request_status_parse(const char *s)
{
    for (int i = 0; i < REQ_STATUS_COUNT; i++)
        if (s && strcmp(s, status_names[i]) == 0) return i;
    return -1;
}

const char *job_kind_name(int kind)
{
    return kind >= 0 && kind < (int)DM_ARRAY_LEN(kind_names) ? kind_names[kind] : "unknown";
}

const char *job_state_name(int state)
{
    return state >= 0 && state < (int)DM_ARRAY_LEN(state_names) ? state_names[state] : "unknown";
}

const char *session_status_name(int status)
{
    return status >= 0 && status < (int)DM_ARRAY_LEN(session_status_names)
               ? session_status_names[status]
               : "unknown";
}

/* ---- open and close ---- */

static dm_err open_with(const struct dialect *d, const char *url, struct store **out,
                        struct dm_error *err)
{
    struct store *st = calloc(1, sizeof *st);
    if (!st) return dm_fail(err, DM_ENOMEM, "out of memory opening the database");
    st->d = d;
    pthread_mutex_init(&st->ws_lock, NULL);
    dm_err e = d->open(url, &st->db, err);
    if (!e) e = requests_refold(st, err);
    if (e) {
        store_close(st);
        return e;
    }
    *out = st;
    return DM_OK;
}

dm_err store_open(const char *url, struct store **out, struct dm_error *err)
{
    *out = NULL;
    if (strncmp(url, "sqlite:", 7) == 0) return open_with(&dialect_sqlite, url + 7, out, err);
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
        return open_with(&dialect_postgres, url, out, err); /* libpq reads the whole URL */
    const char *scheme_end = strstr(url, "://");
    if (scheme_end) /* print the scheme only: the rest may hold a password */
        return dm_fail(
            err, DM_EINVAL,
            "unsupported database URL scheme '%.*s': use sqlite:PATH, a file path or postgresql://",
            (int)DM_MIN(scheme_end - url, 20), url);
    return open_with(&dialect_sqlite, url, out, err);
}

int store_release_idle(struct store *st)
{
    return st->d->release_idle ? st->d->release_idle(st->db) : 0;
}

void store_close(struct store *st)
{
    if (!st) return;
    if (st->db) st->d->close(st->db);
    pthread_mutex_destroy(&st->ws_lock);
    explicit_bzero(st->ws, sizeof st->ws);
    free(st);
}

/* ---- web sessions ---- */

/* Runs a purge of what ended before `now` and then `id` with a, in one transaction: records
 * that ended are of no use to anyone, so they go while we are here. */
static dm_err purge_then(struct store *st, enum sql_id purge, int64_t now, enum sql_id id,
                         const struct db_args *a, struct dm_error *err)
{
    struct db_args p;
    args_init(&p);
    arg_int(&p, now);
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, purge, &p, NULL, NULL, NULL, err);
    if (!e) e = tx_run(&tx, id, a, NULL, NULL, NULL, err);
    return tx_close(&tx, e, err);
}

/* Web sessions read lately serve the requests after them (every panel request reads its
 * session; on PostgreSQL a round trip of its own) for WS_CACHE_MS, while nothing in this
 * process changed web sessions or admins since (db_sessions_changed: a logout, a new session
 * and its purge, a password, a role, a removal) and never past the session's end. So a change
 * made through this process holds for the next request it answers; one made elsewhere
 * (another doorman on the same database, `doorman admin …`) within WS_CACHE_MS. */
#define WS_CACHE_MS 1000

void db_sessions_changed(struct store *st)
{
    pthread_mutex_lock(&st->ws_lock);
    st->ws_gen++;
    pthread_mutex_unlock(&st->ws_lock);
}

/* The session of token_hash read lately, into out; false when there is none that serves. */
static bool ws_cached_get(struct store *st, const char *token_hash, int64_t now,
                          struct store_websession *out)
{
    int64_t ms = clock_ms();
    bool hit = false;
    pthread_mutex_lock(&st->ws_lock);
    for (unsigned i = 0; i < WS_CACHE_SLOTS && !hit; i++) {
        const struct ws_cached *x = &st->ws[i];
        hit = x->until_ms > ms && x->gen == st->ws_gen && x->ws.expires_at > now &&
              strcmp(x->ws.token_hash, token_hash) == 0;
        if (hit) *out = x->ws;
    }
    pthread_mutex_unlock(&st->ws_lock);
    return hit;
}

/* Keeps ws, read at change count gen, unless something changed since (it may be stale). */
static void ws_cached_put(struct store *st, const struct store_websession *ws, uint64_t gen)
{
    int64_t until = clock_ms() + WS_CACHE_MS;
    pthread_mutex_lock(&st->ws_lock);
    if (gen == st->ws_gen) {
        unsigned slot = st->ws_next;
        for (unsigned i = 0; i < WS_CACHE_SLOTS; i++) {
            if (strcmp(st->ws[i].ws.token_hash, ws->token_hash) == 0) slot = i;
        }
        if (slot == st->ws_next) st->ws_next = (st->ws_next + 1) % WS_CACHE_SLOTS;
        st->ws[slot] = (struct ws_cached){.ws = *ws, .gen = gen, .until_ms = until};
    }
    pthread_mutex_unlock(&st->ws_lock);
}

dm_err store_websession_create(struct store *st, const struct store_websession *ws,
                               struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, ws->token_hash, sizeof ws->token_hash);
    arg_int(&a, ws->admin_id);
    arg_text(&a, ws->csrf, sizeof ws->csrf);
    arg_int(&a, ws->created_at);
    arg_int(&a, ws->expires_at);
    dm_err e = purge_then(st, S_WS_PURGE, ws->created_at, S_WS_CREATE, &a, err);
    db_sessions_changed(st); /* the purge may have ended sessions read lately */
    return e;
}

dm_err store_websession_get(struct store *st, const char *token_hash, int64_t now,
                            struct store_websession *out, struct dm_error *err)
{
    if (ws_cached_get(st, token_hash, now, out)) return DM_OK;
    pthread_mutex_lock(&st->ws_lock);
    uint64_t gen = st->ws_gen; /* before reading: a change made meanwhile keeps it out */
    pthread_mutex_unlock(&st->ws_lock);
    dm_err e = db_read_timed(st, S_WS_GET, token_hash, sizeof out->token_hash, now, row_websession,
                             out, "the session does not exist or has expired", err);
    if (!e) ws_cached_put(st, out, gen);
    return e;
}

/* Runs a one-statement write whose only argument is a text key cut to size. */
static dm_err exec_by_key(struct store *st, enum sql_id id, const char *key, size_t size,
                          int64_t *changes, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, key, size);
    return db_exec(st, id, &a, changes, err);
}

dm_err store_websession_delete(struct store *st, const char *token_hash, struct dm_error *err)
{
    dm_err e = exec_by_key(st, S_WS_DELETE, token_hash,
                           sizeof((struct store_websession *)0)->token_hash, NULL, err);
    db_sessions_changed(st);
    return e;
}

/* ---- settings ---- */

static dm_err setting_row(void *ctx, const struct db_row *r)
{
    const char *t = r->d->col_text(r, 0);
    char **value = ctx;
    *value = strdup(t ? t : "");
    return *value ? DM_OK : DM_ENOMEM;
}

dm_err store_setting_get(struct store *st, const char *key, char **value, struct dm_error *err)
{
    *value = NULL;
    struct db_args a;
    args_init(&a);
    arg_ref(&a, key);
    struct db_conn *c = NULL;
    struct db_stmt s = db_stmt_of(st, S_SETTING_GET);
    dm_err e = st->d->conn_get(st->db, false, &c, err);
    if (e) return e;
    e = st->d->run(c, &s, &a, setting_row, value, NULL, err);
    st->d->conn_put(st->db, c);
    if (e == DM_ENOMEM) return dm_fail(err, e, "out of memory reading setting '%s'", key);
    return !e && !*value ? dm_fail(err, DM_ENOTFOUND, "setting '%s' is not set", key) : e;
}

dm_err store_setting_set(struct store *st, const char *key, const char *value, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_ref(&a, key);
    arg_ref(&a, value);
    return db_exec(st, S_SETTING_SET, &a, NULL, err);
}

dm_err store_setting_delete(struct store *st, const char *key, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_ref(&a, key);
    return db_exec(st, S_SETTING_DELETE, &a, NULL, err);
}

dm_err store_setting_take(struct store *st, const char *key, char **value, struct dm_error *err)
{
    *value = NULL;
    struct db_args a;
    args_init(&a);
    arg_ref(&a, key);
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_SETTING_TAKE, &a, setting_row, value, NULL, err);
    e = tx_close(&tx, e, err);
    if (e) {
        free(*value);
        *value = NULL;
        return e;
    }
    return *value ? DM_OK : dm_fail(err, DM_ENOTFOUND, "setting '%s' is not set", key);
}

/* ---- chats ---- */

dm_err store_chat_get(struct store *st, int64_t chat_id, struct store_chat *out,
                      struct dm_error *err)
{
    char missing[64];
    snprintf(missing, sizeof missing, "chat %" PRId64 " is not known", chat_id);
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    return db_read_one(st, S_CHAT_GET, &a, row_chat, out, missing, err);
}

dm_err store_chat_put(struct store *st, const struct store_chat *ch, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, ch->chat_id);
    arg_text(&a, ch->title, sizeof ch->title);
    arg_text(&a, ch->username, sizeof ch->username);
    arg_int(&a, ch->fetched_at);
    return db_exec(st, S_CHAT_PUT, &a, NULL, err);
}

/* Chats by title, compared folded as search compares (so the order is the same on every
 * backend), then by id. */
struct chat_key {
    char *folded;
    struct store_chat chat;
};

static int chat_key_cmp(const void *a, const void *b)
{
    const struct chat_key *x = a, *y = b;
    int c = strcmp(x->folded, y->folded);
    return c ? c : (x->chat.chat_id > y->chat.chat_id) - (x->chat.chat_id < y->chat.chat_id);
}

dm_err store_chat_list(struct store *st, struct store_chat **out, size_t *n, struct dm_error *err)
{
    void *v = NULL;
    dm_err e = db_read_all(st, S_CHAT_LIST, NULL, row_chat, sizeof **out, CHAT_LIST_MAX,
                           "chats have requests", &v, n, err);
    if (e) return e;
    struct store_chat *chats = v;
    struct chat_key *keys = *n ? calloc(*n, sizeof *keys) : NULL;
    if (*n && !keys) e = DM_ENOMEM;
    for (size_t i = 0; i < *n && !e; i++) {
        keys[i].chat = chats[i];
        e = fold_text(chats[i].title, strlen(chats[i].title), &keys[i].folded, NULL);
    }
    if (!e && *n) {
        qsort(keys, *n, sizeof *keys, chat_key_cmp);
        for (size_t i = 0; i < *n; i++)
            chats[i] = keys[i].chat;
    }
    for (size_t i = 0; keys && i < *n; i++)
        free(keys[i].folded);
    free(keys);
    if (e) {
        free(chats);
        return dm_fail(err, e, "out of memory listing chats");
    }
    *out = chats;
    return DM_OK;
}

/* ---- Telegram sessions and logins ---- */

static dm_err session_write(struct store *st, enum sql_id id, const struct store_session *x,
                            int64_t *changes, struct dm_error *err)
{
    if (x->status < SESSION_UNCHECKED || x->status > SESSION_INVALID)
        return dm_fail(err, DM_EINVAL, "unknown session status %d", x->status);
    struct db_args a;
    args_init(&a);
    args_session(&a, x);
    if (id == S_SESSION_ADD) arg_int(&a, x->created_at);
    return db_exec(st, id, &a, changes, err);
}

dm_err store_session_add(struct store *st, const struct store_session *s, struct dm_error *err)
{
    dm_err e = session_write(st, S_SESSION_ADD, s, NULL, err);
    if (e == DM_EEXISTS) dm_fail(err, e, "a session named '%s' already exists", s->name);
    return e;
}

/* A session that becomes invalid raises EV_SESSION_INVALID in the same transaction. */
dm_err store_session_update(struct store *st, const struct store_session *s, struct dm_error *err)
{
    int64_t changes = 0;
    dm_err e;
    if (s->status != SESSION_INVALID || !store_event_wanted(st, EV_SESSION_INVALID)) {
        e = session_write(st, S_SESSION_UPDATE, s, &changes, err);
    } else {
        struct db_args k, a;
        args_init(&k);
        arg_text(&k, s->name, STORE_NAME_MAX);
        args_init(&a);
        args_session(&a, s);
        struct store_session *was = malloc(sizeof *was);
        bool found = false;
        struct tx tx;
        e = was ? tx_open(st, &tx, err) : dm_fail(err, DM_ENOMEM, "out of memory");
        if (!e) {
            e = tx_read_one(&tx, S_SESSION_GET, &k, row_session, was, &found, err);
            if (!e) e = tx_run(&tx, S_SESSION_UPDATE, &a, NULL, NULL, &changes, err);
            struct store_event ev = {.kind = EV_SESSION_INVALID, .at = (int64_t)time(NULL)};
            dm_strlcpy(ev.subject, s->name, sizeof ev.subject);
            dm_strlcpy(ev.detail, s->status_reason, sizeof ev.detail);
            if (!e && found && was->status != SESSION_INVALID) e = tx_event(&tx, &ev, err);
            e = tx_close(&tx, e, err);
        }
        free(was);
    }
    return !e && changes == 0 ? dm_fail(err, DM_ENOTFOUND, "no session named '%s'", s->name) : e;
}

dm_err store_session_get(struct store *st, const char *name, struct store_session *out,
                         struct dm_error *err)
{
    char missing[STORE_NAME_MAX + 32];
    snprintf(missing, sizeof missing, "no session named '%s'", name);
    struct db_args a;
    args_init(&a);
    arg_text(&a, name, STORE_NAME_MAX);
    return db_read_one(st, S_SESSION_GET, &a, row_session, out, missing, err);
}

dm_err store_session_list(struct store *st, struct store_session **out, size_t *n,
                          struct dm_error *err)
{
    void *v = NULL;
    dm_err e = db_read_all(st, S_SESSION_LIST, NULL, row_session, sizeof **out, SESSION_LIST_MAX,
                           "sessions are stored", &v, n, err);
    if (!e) *out = v;
    return e;
}

dm_err store_session_delete(struct store *st, const char *name, struct dm_error *err)
{
    int64_t changes = 0;
    dm_err e = exec_by_key(st, S_SESSION_DELETE, name, STORE_NAME_MAX, &changes, err);
    return !e && changes == 0 ? dm_fail(err, DM_ENOTFOUND, "no session named '%s'", name) : e;
}

static void row_update_state(const struct db_row *r, void *out)
{
    *(struct store_update_state *)out =
        (struct store_update_state){r->d->col_int(r, 0), r->d->col_int(r, 1), r->d->col_int(r, 2),
                                    r->d->col_int(r, 3), r->d->col_int(r, 4)};
}

dm_err store_session_updates_get(struct store *st, const char *name, struct store_update_state *out,
                                 struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, name, STORE_NAME_MAX);
    return db_read_one(st, S_UPDATES_GET, &a, row_update_state, out,
                       "the session has no update state saved", err);
}

dm_err store_session_updates_put(struct store *st, const char *name,
                                 const struct store_update_state *s, int64_t now,
                                 struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, name, STORE_NAME_MAX);
    arg_int(&a, s->account_id);
    arg_int(&a, s->pts);
    arg_int(&a, s->qts);
    arg_int(&a, s->seq);
    arg_int(&a, s->date);
    arg_int(&a, now);
    return db_exec(st, S_UPDATES_PUT, &a, NULL, err);
}

dm_err store_login_put(struct store *st, const struct store_login *l, int64_t now,
                       struct dm_error *err)
{
    if (l->state != LOGIN_CODE_SENT && l->state != LOGIN_PASSWORD_NEEDED)
        return dm_fail(err, DM_EINVAL, "unknown login state %d", l->state);
    struct db_args a;
    args_init(&a);
    arg_text(&a, l->id, sizeof l->id);
    arg_text(&a, l->name, sizeof l->name);
    arg_text(&a, l->phone, sizeof l->phone);
    arg_int(&a, l->state);
    arg_text(&a, l->hint, sizeof l->hint);
    arg_text(&a, l->sealed, sizeof l->sealed);
    arg_int(&a, l->created_at);
    arg_int(&a, l->expires_at);
    return purge_then(st, S_LOGIN_PURGE, now, S_LOGIN_PUT, &a, err);
}

dm_err store_login_get(struct store *st, const char *id, int64_t now, struct store_login *out,
                       struct dm_error *err)
{
    return db_read_timed(st, S_LOGIN_GET, id, sizeof out->id, now, row_login, out,
                         "no login with that id, or it has expired", err);
}

dm_err store_login_delete(struct store *st, const char *id, struct dm_error *err)
{
    return exec_by_key(st, S_LOGIN_DELETE, id, sizeof((struct store_login *)0)->id, NULL, err);
}

/* ---- the database itself ---- */

dm_err store_ping(struct store *st, struct dm_error *err)
{
    int64_t one = 0;
    return db_read_one(st, S_PING, NULL, row_int0, &one, "no answer", err);
}

/* ---- audit ---- */

dm_err store_audit_add(struct store *st, const struct store_audit *x, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    args_audit(&a, x);
    return db_exec(st, S_AUDIT_ADD, &a, NULL, err);
}

dm_err tx_audit(struct tx *tx, const struct store_audit *x, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    args_audit(&a, x);
    return tx_run(tx, S_AUDIT_ADD, &a, NULL, NULL, NULL, err);
}

dm_err store_audit_list(struct store *st, int64_t before_id, int limit, struct store_audit *out,
                        int *n, struct dm_error *err)
{
    return db_read_page(st, S_AUDIT_LIST, before_id, limit, row_audit, out, sizeof *out, n, err);
}

/* ---- leases ---- */

dm_err store_lease_acquire(struct store *st, const char *name, const char *owner, int64_t now,
                           int64_t until, bool *held, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, name, STORE_TEXT_MAX);
    arg_text(&a, owner, STORE_NAME_MAX);
    arg_int(&a, now);
    arg_int(&a, until);
    int64_t changes = 0;
    dm_err e = db_exec(st, S_LEASE_ACQUIRE, &a, &changes, err);
    *held = !e && changes > 0;
    return e;
}

dm_err store_lease_release(struct store *st, const char *name, const char *owner,
                           struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, name, STORE_TEXT_MAX);
    arg_text(&a, owner, STORE_NAME_MAX);
    return db_exec(st, S_LEASE_RELEASE, &a, NULL, err);
}

dm_err store_lease_held(struct store *st, const char *name, int64_t now, bool *held,
                        struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, name, STORE_TEXT_MAX);
    arg_int(&a, now);
    int64_t count = 0;
    dm_err e = db_read_one(st, S_LEASE_HELD, &a, row_int0, &count, "no count", err);
    *held = !e && count > 0;
    return e;
}

dm_err store_owner_forget(struct store *st, const char *owner, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, owner, STORE_NAME_MAX);
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_LEASES_FORGET, &a, NULL, NULL, NULL, err);
    if (!e) e = tx_run(&tx, S_JOB_LEASES_FORGET, &a, NULL, NULL, NULL, err);
    return tx_close(&tx, e, err);
}
