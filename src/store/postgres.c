/* postgres.c: the PostgreSQL backend of store.h, for several doorman processes on one database.
 *
 * Connections: a pool of POOL libpq connections (each used by one thread at a time, handed out
 * under pool_lock). Every call is one statement in autocommit or one BEGIN … COMMIT
 * transaction at READ COMMITTED; rows that a transaction reads to change (a job item and its
 * request, a claimed job) are locked with FOR UPDATE, so two processes never decide the same
 * item twice. A connection that broke (server restarted, network gone) makes the call fail with
 * DM_EUNAVAILABLE and is opened again by the next call that takes it.
 *
 * Schema: the same versioned migrations as sqlite.c, expressed for PostgreSQL (table
 * schema_version), applied in one transaction at open under an advisory lock, so processes
 * starting together take turns. Case-insensitive search: `search` holds lower() of the names
 * and q is compared with lower(), so it folds what the database's LC_CTYPE folds (all of
 * Unicode with a UTF-8 locale; docs/operations.md).
 *
 * Messages never show the URL: only host, port and database name (its password stays out). */
#include "core/common.h"

#include <libpq-fe.h>
#include <pthread.h>

#include "core/buf.h"
#include "store/backend.h"

#define POOL 4
#define CONNECT_TIMEOUT_S "5"
#define CHAT_LIST_MAX 100000   /* chats returned by chat_list at most */
#define SESSION_LIST_MAX 10000 /* sessions returned by session_list at most */
#define SQL_MAX 4096           /* a built request query */
#define IDS_MAX (64u << 20)    /* the id array of job_create_ids, as text */
#define PARAMS_MAX 24
#define PARAM_TEXT_MAX 12288 /* the largest record (a login) fits */
#define CHAT_BATCH 512
#define MIGRATE_LOCK "7236823516" /* pg_advisory_xact_lock key: "doorman" migrations */

/* ---- schema ---- */

static const char *const migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE admins ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  pw_hash TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE TABLE websessions ("
    "  token_hash TEXT PRIMARY KEY,"
    "  admin_id BIGINT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,"
    "  csrf TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL);"
    "CREATE INDEX websessions_expires ON websessions(expires_at);"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE chats ("
    "  chat_id BIGINT PRIMARY KEY,"
    "  title TEXT NOT NULL DEFAULT '',"
    "  username TEXT NOT NULL DEFAULT '',"
    "  fetched_at BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE invite_requests ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  chat_id BIGINT NOT NULL,"
    "  user_id BIGINT NOT NULL,"
    "  first_name TEXT NOT NULL DEFAULT '',"
    "  last_name TEXT NOT NULL DEFAULT '',"
    "  username TEXT NOT NULL DEFAULT '',"
    "  bio TEXT NOT NULL DEFAULT '',"
    "  invite_link TEXT NOT NULL DEFAULT '',"
    "  tg_date BIGINT NOT NULL,"
    "  status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),"
    "  created_at BIGINT NOT NULL,"
    "  decided_at BIGINT NOT NULL DEFAULT 0,"
    "  decided_by TEXT NOT NULL DEFAULT '',"
    "  decided_via TEXT NOT NULL DEFAULT '',"
    "  last_error TEXT NOT NULL DEFAULT '',"
    /* first_name, last_name, username, lower(), one a line: the text q searches */
    "  search TEXT NOT NULL DEFAULT '',"
    "  UNIQUE (chat_id, user_id, tg_date));"
    "CREATE UNIQUE INDEX invite_requests_one_pending ON invite_requests(chat_id, user_id)"
    "  WHERE status = 0;"
    "CREATE INDEX invite_requests_status ON invite_requests(status, id);"
    "CREATE INDEX invite_requests_chat ON invite_requests(chat_id, id);"
    "CREATE INDEX invite_requests_chat_status ON invite_requests(chat_id, status, id);"
    "CREATE INDEX invite_requests_date ON invite_requests(tg_date, status);"
    "CREATE TABLE jobs ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  kind INTEGER NOT NULL CONSTRAINT jobs_kind_check CHECK (kind IN (0, 1)),"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  via TEXT NOT NULL,"
    "  admin TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  total BIGINT NOT NULL DEFAULT 0,"
    "  done BIGINT NOT NULL DEFAULT 0,"
    "  skipped BIGINT NOT NULL DEFAULT 0,"
    "  failed BIGINT NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  finished_at BIGINT NOT NULL DEFAULT 0,"
    "  wait_until BIGINT NOT NULL DEFAULT 0,"
    "  error TEXT NOT NULL DEFAULT '',"
    "  lease_owner TEXT NOT NULL DEFAULT '',"
    "  lease_until BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX jobs_active ON jobs(id) WHERE state IN (0, 1);"
    "CREATE TABLE job_items ("
    "  job_id BIGINT NOT NULL REFERENCES jobs(id),"
    "  request_id BIGINT NOT NULL REFERENCES invite_requests(id),"
    "  outcome INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (job_id, request_id));"
    "CREATE INDEX job_items_outcome ON job_items(job_id, outcome, request_id);"
    "CREATE TABLE audit ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  at BIGINT NOT NULL,"
    "  admin TEXT NOT NULL DEFAULT '',"
    "  action TEXT NOT NULL,"
    "  request_id BIGINT NOT NULL DEFAULT 0,"
    "  chat_id BIGINT NOT NULL DEFAULT 0,"
    "  user_id BIGINT NOT NULL DEFAULT 0,"
    "  job_id BIGINT NOT NULL DEFAULT 0,"
    "  via TEXT NOT NULL DEFAULT '',"
    "  result TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '');",
    /* 2: requests per (chat, status), kept by a trigger, so the page's totals are O(chats) */
    "CREATE TABLE request_counts ("
    "  chat_id BIGINT NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  n BIGINT NOT NULL,"
    "  PRIMARY KEY (chat_id, status));"
    "INSERT INTO request_counts SELECT chat_id, status, count(*) FROM invite_requests"
    "  GROUP BY chat_id, status;"
    "CREATE FUNCTION request_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    "  IF TG_OP <> 'INSERT' THEN"
    "    UPDATE request_counts SET n = n - 1 WHERE chat_id = OLD.chat_id AND status = OLD.status;"
    "  END IF;"
    "  IF TG_OP <> 'DELETE' THEN"
    "    INSERT INTO request_counts VALUES (NEW.chat_id, NEW.status, 1)"
    "      ON CONFLICT (chat_id, status) DO UPDATE SET n = request_counts.n + 1;"
    "  END IF;"
    "  RETURN NULL;"
    "END $$;"
    "CREATE TRIGGER request_counts_insert AFTER INSERT OR DELETE ON invite_requests"
    "  FOR EACH ROW EXECUTE FUNCTION request_counts_keep();"
    "CREATE TRIGGER request_counts_update AFTER UPDATE OF chat_id, status ON invite_requests"
    "  FOR EACH ROW WHEN (OLD.chat_id IS DISTINCT FROM NEW.chat_id"
    "    OR OLD.status IS DISTINCT FROM NEW.status)"
    "  EXECUTE FUNCTION request_counts_keep();",
    /* 3: Telegram sessions, logins in progress, load jobs (kind 2, params and cursor) */
    "CREATE TABLE sessions ("
    "  name TEXT PRIMARY KEY,"
    "  is_bot INTEGER NOT NULL DEFAULT 0,"
    "  api_id INTEGER NOT NULL,"
    "  api_hash_sealed TEXT NOT NULL,"
    "  phone TEXT NOT NULL DEFAULT '',"
    "  dc_id INTEGER NOT NULL DEFAULT 0,"
    "  account_id BIGINT NOT NULL DEFAULT 0,"
    "  first_name TEXT NOT NULL DEFAULT '',"
    "  last_name TEXT NOT NULL DEFAULT '',"
    "  username TEXT NOT NULL DEFAULT '',"
    "  account_phone TEXT NOT NULL DEFAULT '',"
    "  premium INTEGER NOT NULL DEFAULT 0,"
    "  status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),"
    "  status_reason TEXT NOT NULL DEFAULT '',"
    "  last_check_at BIGINT NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  created_at BIGINT NOT NULL);"
    "CREATE TABLE logins ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  phone TEXT NOT NULL DEFAULT '',"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  hint TEXT NOT NULL DEFAULT '',"
    "  sealed TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL);"
    "CREATE INDEX logins_expires ON logins(expires_at);"
    "ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check,"
    "  ADD CONSTRAINT jobs_kind_check CHECK (kind IN (0, 1, 2)),"
    "  ADD COLUMN params TEXT NOT NULL DEFAULT '',"
    "  ADD COLUMN cursor TEXT NOT NULL DEFAULT '';",
    /* 4: named leases (store.h lease_acquire) */
    "CREATE TABLE leases ("
    "  name TEXT PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  expires_at BIGINT NOT NULL);",
};

#define REQUEST_COLS                                                                               \
    "r.id, r.chat_id, r.user_id, r.first_name, r.last_name, r.username, r.bio, r.invite_link, "    \
    "r.tg_date, r.status, r.created_at, r.decided_at, r.decided_by, r.decided_via, r.last_error, " \
    "coalesce(c.title, '')"
#define REQUEST_FROM " FROM invite_requests r LEFT JOIN chats c ON c.chat_id = r.chat_id"
#define JOB_COLS                                                                                   \
    "id, kind, state, via, admin, description, total, done, skipped, failed, created_at, "         \
    "updated_at, finished_at, wait_until, error, params, cursor"
#define SESSION_COLS                                                                               \
    "name, is_bot, api_id, api_hash_sealed, phone, dc_id, account_id, first_name, last_name, "     \
    "username, account_phone, premium, status, status_reason, last_check_at, last_error, "         \
    "created_at"
#define LOGIN_COLS "id, name, phone, state, hint, sealed, created_at, expires_at"
#define AUDIT_COLS                                                                                 \
    "id, at, admin, action, request_id, chat_id, user_id, job_id, via, result, detail"

/* ---- connections ---- */

struct conn {
    PGconn *db; /* NULL until connected, and after it broke */
};

struct pg_store {
    struct store base;
    char *url;                 /* as given: holds the password; never printed */
    char where[192];           /* "host:port/database", for messages */
    pthread_mutex_t pool_lock; /* guards busy */
    pthread_cond_t pool_free;
    struct conn conns[POOL];
    bool busy[POOL];
};

/* Query parameters, as text (libpq's text format). */
struct params {
    int n;
    bool overflow;
    const char *v[PARAMS_MAX];
    char num[PARAMS_MAX][24];
    char text[PARAM_TEXT_MAX];
    size_t used;
};

static void p_int(struct params *p, int64_t v)
{
    if (p->n == PARAMS_MAX) {
        p->overflow = true;
        return;
    }
    snprintf(p->num[p->n], sizeof p->num[p->n], "%" PRId64, v);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

/* Text cut to a field of size `size` (at a UTF-8 boundary), as the store keeps it. Fields that
 * must stay whole (sealed text, JSON) end within their arrays, so the same cut keeps them. */
static void p_text(struct params *p, const char *s, size_t size)
{
    size_t room = sizeof p->text - p->used;
    if (p->n == PARAMS_MAX || room < size) {
        p->overflow = true;
        return;
    }
    char *dst = p->text + p->used;
    dm_strlcpy(dst, s ? s : "", size);
    p->used += strlen(dst) + 1;
    p->v[p->n++] = dst;
}

/* Text the caller keeps alive until the query ran. */
static void p_ref(struct params *p, const char *s)
{
    if (p->n == PARAMS_MAX) {
        p->overflow = true;
        return;
    }
    p->v[p->n++] = s;
}

static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void conn_drop(struct conn *c)
{
    if (c->db) PQfinish(c->db);
    c->db = NULL;
}

static dm_err conn_connect(struct pg_store *s, struct conn *c, struct dm_error *err)
{
    conn_drop(c);
    /* the URL's own options come after the defaults, so they win */
    const char *const keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                                NULL};
    const char *const vals[] = {CONNECT_TIMEOUT_S, "doorman", "UTF8", s->url, NULL};
    c->db = PQconnectdbParams(keys, vals, 1);
    if (!c->db) return dm_fail(err, DM_ENOMEM, "out of memory connecting to PostgreSQL");
    if (PQstatus(c->db) != CONNECTION_OK) {
        char msg[200];
        dm_strlcpy(msg, PQerrorMessage(c->db), sizeof msg);
        msg[strcspn(msg, "\n")] = 0;
        conn_drop(c);
        return dm_fail(err, DM_EUNAVAILABLE, "cannot connect to PostgreSQL at %s: %s", s->where,
                       msg);
    }
    PQsetNoticeProcessor(c->db, quiet_notices, NULL);
    return DM_OK;
}

/* Takes a free connection, opening it again when it broke; DM_EUNAVAILABLE (and no
 * connection held) when the server cannot be reached. */
static dm_err conn_get(struct pg_store *s, struct conn **out, struct dm_error *err)
{
    pthread_mutex_lock(&s->pool_lock);
    int i;
    for (;;) {
        for (i = 0; i < POOL && s->busy[i]; i++) {
        }
        if (i < POOL) break;
        pthread_cond_wait(&s->pool_free, &s->pool_lock);
    }
    s->busy[i] = true;
    pthread_mutex_unlock(&s->pool_lock);
    struct conn *c = &s->conns[i];
    /* reading what waits on an idle connection notices a server that closed it */
    dm_err e = DM_OK;
    if (!c->db || !PQconsumeInput(c->db) || PQstatus(c->db) != CONNECTION_OK)
        e = conn_connect(s, c, err);
    if (e) {
        pthread_mutex_lock(&s->pool_lock);
        s->busy[i] = false;
        pthread_cond_signal(&s->pool_free);
        pthread_mutex_unlock(&s->pool_lock);
        return e;
    }
    *out = c;
    return DM_OK;
}

static void conn_put(struct pg_store *s, struct conn *c)
{
    /* a connection left inside a transaction (its ROLLBACK failed) is not reused */
    if (c->db && (PQstatus(c->db) != CONNECTION_OK || PQtransactionStatus(c->db) != PQTRANS_IDLE))
        conn_drop(c);
    pthread_mutex_lock(&s->pool_lock);
    s->busy[c - s->conns] = false;
    pthread_cond_signal(&s->pool_free);
    pthread_mutex_unlock(&s->pool_lock);
}

/* Fills err from a failed result. A broken unique constraint is DM_EEXISTS, a lost
 * connection or a server shutting down DM_EUNAVAILABLE, everything else DM_EDB. Only the
 * primary message is shown: PostgreSQL's DETAIL lines quote values (settings may be secret). */
static dm_err db_fail(struct pg_store *s, struct conn *c, const PGresult *r, const char *what,
                      struct dm_error *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[200];
    dm_strlcpy(msg, primary ? primary : PQerrorMessage(c->db), sizeof msg);
    msg[strcspn(msg, "\n")] = 0;
    if (PQstatus(c->db) != CONNECTION_OK ||
        (state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)))
        return dm_fail(err, DM_EUNAVAILABLE,
                       "the database at %s is unavailable (while %s: %s); try again shortly",
                       s->where, what, msg);
    dm_err code = state && strcmp(state, "23505") == 0 ? DM_EEXISTS : DM_EDB;
    return dm_fail(err, code, "database error while %s: %s", what, msg);
}

/* Runs one statement. *res (may be NULL: the result is dropped) gets the rows, freed by the
 * caller with PQclear; *changes (may be NULL) the rows it changed. */
static dm_err run(struct pg_store *s, struct conn *c, const char *sql, const struct params *p,
                  PGresult **res, int64_t *changes, const char *what, struct dm_error *err)
{
    if (res) *res = NULL;
    if (changes) *changes = 0;
    if (p && p->overflow)
        return dm_fail(err, DM_ETOOBIG, "too many query parameters while %s", what);
    PGresult *r = PQexecParams(c->db, sql, p ? p->n : 0, NULL, p ? p->v : NULL, NULL, NULL, 0);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        dm_err e = db_fail(s, c, r, what, err);
        PQclear(r);
        return e;
    }
    if (changes) *changes = strtoll(PQcmdTuples(r), NULL, 10);
    if (res)
        *res = r;
    else
        PQclear(r);
    return DM_OK;
}

static dm_err tx_begin(struct pg_store *s, struct conn *c, struct dm_error *err)
{
    return run(s, c, "BEGIN", NULL, NULL, NULL, "starting a transaction", err);
}

/* Commits when e is DM_OK, else rolls back; returns e or the commit's error. */
static dm_err tx_end(struct pg_store *s, struct conn *c, dm_err e, struct dm_error *err)
{
    if (e == DM_OK) {
        e = run(s, c, "COMMIT", NULL, NULL, NULL, "committing", err);
        if (e == DM_OK) return DM_OK;
    }
    if (c->db && PQtransactionStatus(c->db) != PQTRANS_IDLE)
        run(s, c, "ROLLBACK", NULL, NULL, NULL, "rolling back", NULL);
    return e;
}

static int64_t g_int(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void g_text(const PGresult *r, int row, int col, char *dst, size_t size)
{
    dm_strlcpy(dst, PQgetvalue(r, row, col), size);
}

#define G_TEXT(r, i, c, field) g_text(r, i, c, field, sizeof(field))

static int64_t before_key(int64_t before_id)
{
    return before_id > 0 ? before_id : INT64_MAX;
}

/* ---- rows ---- */

typedef void (*row_fn)(const PGresult *r, int i, void *out);

static void row_request(const PGresult *q, int i, void *row)
{
    struct store_request *r = row;
    memset(r, 0, sizeof *r);
    r->id = g_int(q, i, 0);
    r->chat_id = g_int(q, i, 1);
    r->user_id = g_int(q, i, 2);
    G_TEXT(q, i, 3, r->first_name);
    G_TEXT(q, i, 4, r->last_name);
    G_TEXT(q, i, 5, r->username);
    G_TEXT(q, i, 6, r->bio);
    G_TEXT(q, i, 7, r->invite_link);
    r->tg_date = g_int(q, i, 8);
    r->status = (int)g_int(q, i, 9);
    r->created_at = g_int(q, i, 10);
    r->decided_at = g_int(q, i, 11);
    G_TEXT(q, i, 12, r->decided_by);
    G_TEXT(q, i, 13, r->decided_via);
    G_TEXT(q, i, 14, r->last_error);
    G_TEXT(q, i, 15, r->chat_title);
}

static void row_job(const PGresult *q, int i, void *row)
{
    struct store_job *j = row;
    memset(j, 0, sizeof *j);
    j->id = g_int(q, i, 0);
    j->kind = (int)g_int(q, i, 1);
    j->state = (int)g_int(q, i, 2);
    G_TEXT(q, i, 3, j->via);
    G_TEXT(q, i, 4, j->admin);
    G_TEXT(q, i, 5, j->description);
    j->total = g_int(q, i, 6);
    j->done = g_int(q, i, 7);
    j->skipped = g_int(q, i, 8);
    j->failed = g_int(q, i, 9);
    j->created_at = g_int(q, i, 10);
    j->updated_at = g_int(q, i, 11);
    j->finished_at = g_int(q, i, 12);
    j->wait_until = g_int(q, i, 13);
    G_TEXT(q, i, 14, j->error);
    G_TEXT(q, i, 15, j->params);
    G_TEXT(q, i, 16, j->cursor);
}

static void row_session(const PGresult *q, int i, void *row)
{
    struct store_session *x = row;
    memset(x, 0, sizeof *x);
    G_TEXT(q, i, 0, x->name);
    x->is_bot = g_int(q, i, 1) != 0;
    x->api_id = (int32_t)g_int(q, i, 2);
    G_TEXT(q, i, 3, x->api_hash_sealed);
    G_TEXT(q, i, 4, x->phone);
    x->dc_id = (int)g_int(q, i, 5);
    x->account_id = g_int(q, i, 6);
    G_TEXT(q, i, 7, x->first_name);
    G_TEXT(q, i, 8, x->last_name);
    G_TEXT(q, i, 9, x->username);
    G_TEXT(q, i, 10, x->account_phone);
    x->premium = g_int(q, i, 11) != 0;
    x->status = (int)g_int(q, i, 12);
    G_TEXT(q, i, 13, x->status_reason);
    x->last_check_at = g_int(q, i, 14);
    G_TEXT(q, i, 15, x->last_error);
    x->created_at = g_int(q, i, 16);
}

static void row_login(const PGresult *q, int i, void *row)
{
    struct store_login *l = row;
    memset(l, 0, sizeof *l);
    G_TEXT(q, i, 0, l->id);
    G_TEXT(q, i, 1, l->name);
    G_TEXT(q, i, 2, l->phone);
    l->state = (int)g_int(q, i, 3);
    G_TEXT(q, i, 4, l->hint);
    G_TEXT(q, i, 5, l->sealed);
    l->created_at = g_int(q, i, 6);
    l->expires_at = g_int(q, i, 7);
}

static void row_item(const PGresult *q, int i, void *row)
{
    struct store_item *it = row;
    memset(it, 0, sizeof *it);
    it->job_id = g_int(q, i, 0);
    it->request_id = g_int(q, i, 1);
    it->chat_id = g_int(q, i, 2);
    it->user_id = g_int(q, i, 3);
    it->request_status = (int)g_int(q, i, 4);
    it->outcome = (int)g_int(q, i, 5);
    G_TEXT(q, i, 6, it->error);
}

static void row_audit(const PGresult *q, int i, void *row)
{
    struct store_audit *a = row;
    memset(a, 0, sizeof *a);
    a->id = g_int(q, i, 0);
    a->at = g_int(q, i, 1);
    G_TEXT(q, i, 2, a->admin);
    G_TEXT(q, i, 3, a->action);
    a->request_id = g_int(q, i, 4);
    a->chat_id = g_int(q, i, 5);
    a->user_id = g_int(q, i, 6);
    a->job_id = g_int(q, i, 7);
    G_TEXT(q, i, 8, a->via);
    G_TEXT(q, i, 9, a->result);
    G_TEXT(q, i, 10, a->detail);
}

static void row_chat(const PGresult *q, int i, void *row)
{
    struct store_chat *out = row;
    memset(out, 0, sizeof *out);
    out->chat_id = g_int(q, i, 0);
    G_TEXT(q, i, 1, out->title);
    G_TEXT(q, i, 2, out->username);
    out->fetched_at = g_int(q, i, 3);
}

static void row_admin(const PGresult *q, int i, void *row)
{
    struct store_admin *out = row;
    memset(out, 0, sizeof *out);
    out->id = g_int(q, i, 0);
    G_TEXT(q, i, 1, out->name);
    G_TEXT(q, i, 2, out->pw_hash);
    out->created_at = g_int(q, i, 3);
}

static void row_websession(const PGresult *q, int i, void *row)
{
    struct store_websession *out = row;
    memset(out, 0, sizeof *out);
    G_TEXT(q, i, 0, out->token_hash);
    out->admin_id = g_int(q, i, 1);
    G_TEXT(q, i, 2, out->admin_name);
    G_TEXT(q, i, 3, out->csrf);
    out->created_at = g_int(q, i, 4);
    out->expires_at = g_int(q, i, 5);
}

/* ---- one-statement calls ---- */

/* Runs one statement on a pooled connection; *changes (may be NULL) as in run(). */
static dm_err exec1(struct pg_store *s, const char *sql, const struct params *p, int64_t *changes,
                    const char *what, struct dm_error *err)
{
    struct conn *c = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = run(s, c, sql, p, NULL, changes, what, err);
    conn_put(s, c);
    return e;
}

/* Reads up to `limit` rows of `size` bytes into out; *n gets how many. */
static dm_err read_rows(struct pg_store *s, const char *sql, const struct params *p, row_fn fn,
                        void *out, size_t size, int limit, int *n, const char *what,
                        struct dm_error *err)
{
    *n = 0;
    struct conn *c = NULL;
    PGresult *r = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = run(s, c, sql, p, &r, NULL, what, err);
    conn_put(s, c);
    if (e) return e;
    int rows = DM_MIN(PQntuples(r), limit);
    for (int i = 0; i < rows; i++)
        fn(r, i, (char *)out + (size_t)i * size);
    *n = rows;
    PQclear(r);
    return DM_OK;
}

/* Reads every row (at most `max`) into a malloc'd array of `size`-byte records. */
static dm_err read_all(struct pg_store *s, const char *sql, row_fn fn, size_t size, int max,
                       void **out, size_t *n, const char *what, struct dm_error *err)
{
    struct conn *c = NULL;
    PGresult *r = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = run(s, c, sql, NULL, &r, NULL, what, err);
    conn_put(s, c);
    if (e) return e;
    int rows = PQntuples(r);
    void *v = NULL;
    if (rows > max)
        e = dm_fail(err, DM_ETOOBIG, "more than %d rows while %s", max, what);
    else if (rows > 0 && !(v = calloc((size_t)rows, size)))
        e = dm_fail(err, DM_ENOMEM, "out of memory while %s", what);
    for (int i = 0; i < rows && !e; i++)
        fn(r, i, (char *)v + (size_t)i * size);
    PQclear(r);
    if (e) return e;
    *out = v;
    *n = (size_t)rows;
    return DM_OK;
}

/* ---- open and close ---- */

static dm_err migrate(struct pg_store *s, struct conn *c, struct dm_error *err)
{
    const int latest = (int)DM_ARRAY_LEN(migrations);
    PGresult *r = NULL;
    dm_err e = tx_begin(s, c, err);
    /* processes starting at once take turns here; the lock ends with the transaction */
    if (!e)
        e = run(s, c, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", NULL, NULL, NULL,
                "waiting for another doorman's schema migration", err);
    if (!e)
        e = run(s, c,
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "applied_at BIGINT NOT NULL)",
                NULL, NULL, NULL, "reading the schema version", err);
    if (!e)
        e = run(s, c, "SELECT coalesce(max(version), 0) FROM schema_version", NULL, &r, NULL,
                "reading the schema version", err);
    int have = e ? 0 : (int)g_int(r, 0, 0);
    PQclear(r);
    if (!e && have > latest)
        e = dm_fail(err, DM_EDB,
                    "the database has schema version %d but this doorman knows only up to %d: "
                    "use a newer doorman or restore a backup",
                    have, latest);
    for (int v = have + 1; v <= latest && !e; v++) {
        /* several statements: the simple query protocol, inside our transaction */
        PGresult *m = PQexec(c->db, migrations[v - 1]);
        if (PQresultStatus(m) != PGRES_COMMAND_OK && PQresultStatus(m) != PGRES_TUPLES_OK)
            e = db_fail(s, c, m, "migrating the schema", err);
        PQclear(m);
        struct params p = {0};
        p_int(&p, v);
        if (!e)
            e = run(s, c,
                    "INSERT INTO schema_version(version, applied_at) "
                    "VALUES ($1, extract(epoch FROM now())::bigint)",
                    &p, NULL, NULL, "recording the schema version", err);
    }
    return tx_end(s, c, e, err);
}

static void pg_close(struct store *st)
{
    struct pg_store *s = (struct pg_store *)st;
    if (!s) return;
    for (int i = 0; i < POOL; i++)
        conn_drop(&s->conns[i]);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_cond_destroy(&s->pool_free);
    if (s->url) explicit_bzero(s->url, strlen(s->url));
    free(s->url);
    free(s);
}

/* Describes the server of a URL without its password: "host:port/database". */
static dm_err describe_url(const char *url, char *out, size_t size, struct dm_error *err)
{
    char *msg = NULL;
    PQconninfoOption *o = PQconninfoParse(url, &msg);
    PQfreemem(msg); /* may quote the URL: not shown */
    if (!o)
        return dm_fail(err, DM_EINVAL,
                       "the PostgreSQL URL cannot be read: write it as "
                       "postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
    const char *host = NULL, *port = NULL, *db = NULL;
    for (PQconninfoOption *i = o; i->keyword; i++) {
        if (strcmp(i->keyword, "host") == 0) host = i->val;
        if (strcmp(i->keyword, "port") == 0) port = i->val;
        if (strcmp(i->keyword, "dbname") == 0) db = i->val;
    }
    snprintf(out, size, "%s:%s/%s", host && *host ? host : "localhost",
             port && *port ? port : "5432", db && *db ? db : "(default database)");
    PQconninfoFree(o);
    return DM_OK;
}

static dm_err pg_open(const char *url, struct store **out, struct dm_error *err)
{
    *out = NULL;
    if (!PQisthreadsafe())
        return dm_fail(err, DM_EDB, "this libpq was built without thread support");
    struct pg_store *s = calloc(1, sizeof *s);
    if (!s) return dm_fail(err, DM_ENOMEM, "out of memory opening the database");
    s->base.ops = &store_postgres_ops;
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_cond_init(&s->pool_free, NULL);
    dm_err e = describe_url(url, s->where, sizeof s->where, err);
    if (!e && !(s->url = strdup(url)))
        e = dm_fail(err, DM_ENOMEM, "out of memory opening the database");
    struct conn *c = NULL;
    if (!e) e = conn_get(s, &c, err);
    if (!e) {
        e = migrate(s, c, err);
        conn_put(s, c);
    }
    if (e) {
        pg_close(&s->base);
        return e;
    }
    *out = &s->base;
    return DM_OK;
}

/* ---- admins and web sessions ---- */

static dm_err pg_admin_create(struct store *st, const char *name, const char *pw_hash, int64_t now,
                              int64_t *id, struct dm_error *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct params p = {0};
    p_text(&p, name, STORE_NAME_MAX);
    p_text(&p, pw_hash, STORE_HASH_MAX);
    p_int(&p, now);
    struct conn *c = NULL;
    PGresult *r = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = run(s, c, "INSERT INTO admins(name, pw_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
            &p, &r, NULL, "creating an admin", err);
    conn_put(s, c);
    if (e == DM_EEXISTS) dm_fail(err, e, "an admin named '%s' already exists", name);
    if (!e && id) *id = g_int(r, 0, 0);
    PQclear(r);
    return e;
}

static dm_err pg_admin_get(struct store *st, const char *name, struct store_admin *out,
                           struct dm_error *err)
{
    struct params p = {0};
    p_text(&p, name, STORE_NAME_MAX);
    int n = 0;
    dm_err e = read_rows((struct pg_store *)st,
                         "SELECT id, name, pw_hash, created_at FROM admins WHERE name = $1", &p,
                         row_admin, out, sizeof *out, 1, &n, "reading an admin", err);
    return !e && n == 0 ? dm_fail(err, DM_ENOTFOUND, "no admin named '%s'", name) : e;
}

static dm_err pg_admin_count(struct store *st, int64_t *n, struct dm_error *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct conn *c = NULL;
    PGresult *r = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = run(s, c, "SELECT count(*) FROM admins", NULL, &r, NULL, "counting admins", err);
    conn_put(s, c);
    if (!e) *n = g_int(r, 0, 0);
    PQclear(r);
    return e;
}

static dm_err pg_admin_set_password(struct store *st, int64_t id, const char *pw_hash,
                                    struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, id);
    p_text(&p, pw_hash, STORE_HASH_MAX);
    int64_t changes = 0;
    dm_err e = exec1((struct pg_store *)st, "UPDATE admins SET pw_hash = $2 WHERE id = $1", &p,
                     &changes, "setting a password", err);
    return !e && changes == 0 ? dm_fail(err, DM_ENOTFOUND, "no admin with id %" PRId64, id) : e;
}

static dm_err pg_websession_create(struct store *st, const struct store_websession *ws,
                                   struct dm_error *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct params purge = {0}, p = {0};
    p_int(&purge, ws->created_at);
    p_text(&p, ws->token_hash, sizeof ws->token_hash);
    p_int(&p, ws->admin_id);
    p_text(&p, ws->csrf, sizeof ws->csrf);
    p_int(&p, ws->created_at);
    p_int(&p, ws->expires_at);
    struct conn *c = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = tx_begin(s, c, err);
    /* sessions that ended are of no use to anyone: drop them while we are here */
    if (!e)
        e = run(s, c, "DELETE FROM websessions WHERE expires_at <= $1", &purge, NULL, NULL,
                "removing expired sessions", err);
    if (!e)
        e = run(s, c,
                "INSERT INTO websessions(token_hash, admin_id, csrf, created_at, expires_at) "
                "VALUES ($1, $2, $3, $4, $5)",
                &p, NULL, NULL, "creating a web session", err);
    e = tx_end(s, c, e, err);
    conn_put(s, c);
    return e;
}

static dm_err pg_websession_get(struct store *st, const char *token_hash, int64_t now,
                                struct store_websession *out, struct dm_error *err)
{
    struct params p = {0};
    p_text(&p, token_hash, sizeof out->token_hash);
    p_int(&p, now);
    int n = 0;
    dm_err e = read_rows((struct pg_store *)st,
                         "SELECT w.token_hash, w.admin_id, a.name, w.csrf, w.created_at, "
                         "w.expires_at FROM websessions w JOIN admins a ON a.id = w.admin_id "
                         "WHERE w.token_hash = $1 AND w.expires_at > $2",
                         &p, row_websession, out, sizeof *out, 1, &n, "reading a web session", err);
    return !e && n == 0 ? dm_fail(err, DM_ENOTFOUND, "the session does not exist or has expired")
                        : e;
}

static dm_err pg_websession_delete(struct store *st, const char *token_hash, struct dm_error *err)
{
    struct params p = {0};
    p_text(&p, token_hash, sizeof((struct store_websession *)0)->token_hash);
    return exec1((struct pg_store *)st, "DELETE FROM websessions WHERE token_hash = $1", &p, NULL,
                 "deleting a web session", err);
}

/* ---- settings ---- */

static dm_err pg_setting_get(struct store *st, const char *key, char **value, struct dm_error *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct params p = {0};
    p_ref(&p, key);
    *value = NULL;
    struct conn *c = NULL;
    PGresult *r = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = run(s, c, "SELECT value FROM settings WHERE key = $1", &p, &r, NULL, "reading a setting",
            err);
    conn_put(s, c);
    if (!e && PQntuples(r) == 0) e = dm_fail(err, DM_ENOTFOUND, "setting '%s' is not set", key);
    if (!e && !(*value = strdup(PQgetvalue(r, 0, 0))))
        e = dm_fail(err, DM_ENOMEM, "out of memory reading setting '%s'", key);
    PQclear(r);
    return e;
}

static dm_err pg_setting_set(struct store *st, const char *key, const char *value,
                             struct dm_error *err)
{
    struct params p = {0};
    p_ref(&p, key);
    p_ref(&p, value);
    /* never name the value: settings may hold secrets */
    return exec1((struct pg_store *)st,
                 "INSERT INTO settings(key, value) VALUES ($1, $2) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 &p, NULL, "saving a setting", err);
}

static dm_err pg_setting_delete(struct store *st, const char *key, struct dm_error *err)
{
    struct params p = {0};
    p_ref(&p, key);
    return exec1((struct pg_store *)st, "DELETE FROM settings WHERE key = $1", &p, NULL,
                 "deleting a setting", err);
}

/* ---- chats ---- */

static dm_err pg_chat_get(struct store *st, int64_t chat_id, struct store_chat *out,
                          struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, chat_id);
    int n = 0;
    dm_err e =
        read_rows((struct pg_store *)st,
                  "SELECT chat_id, title, username, fetched_at FROM chats WHERE chat_id = $1", &p,
                  row_chat, out, sizeof *out, 1, &n, "reading a chat", err);
    return !e && n == 0 ? dm_fail(err, DM_ENOTFOUND, "chat %" PRId64 " is not known", chat_id) : e;
}

static dm_err pg_chat_put(struct store *st, const struct store_chat *ch, struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, ch->chat_id);
    p_text(&p, ch->title, sizeof ch->title);
    p_text(&p, ch->username, sizeof ch->username);
    p_int(&p, ch->fetched_at);
    return exec1((struct pg_store *)st,
                 "INSERT INTO chats(chat_id, title, username, fetched_at) VALUES ($1, $2, $3, $4) "
                 "ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, "
                 "username = excluded.username, fetched_at = excluded.fetched_at",
                 &p, NULL, "saving a chat", err);
}

static dm_err pg_chat_list(struct store *st, struct store_chat **out, size_t *n,
                           struct dm_error *err)
{
    /* the chats with requests come from the trigger-kept totals: O(chats), not O(requests);
     * ordered as SQLite's NOCASE order, in code points whatever the database's collation */
    return read_all((struct pg_store *)st,
                    "SELECT ids.chat_id, coalesce(c.title, ''), coalesce(c.username, ''), "
                    "coalesce(c.fetched_at, 0) FROM (SELECT chat_id FROM request_counts "
                    "GROUP BY chat_id HAVING sum(n) > 0) ids "
                    "LEFT JOIN chats c ON c.chat_id = ids.chat_id "
                    "ORDER BY lower(coalesce(c.title, '')) COLLATE \"C\", ids.chat_id",
                    row_chat, sizeof **out, CHAT_LIST_MAX, (void **)out, n, "listing chats", err);
}

/* ---- requests ---- */

static const char request_insert_sql[] =
    "INSERT INTO invite_requests(chat_id, user_id, first_name, last_name, username, bio, "
    "invite_link, tg_date, status, created_at, decided_at, decided_by, decided_via, last_error, "
    "search) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
    "lower($3::text || E'\\n' || $4::text || E'\\n' || $5::text)) ON CONFLICT DO NOTHING";

/* Inserts a request on c (alone or inside the caller's transaction). */
static dm_err request_insert(struct pg_store *s, struct conn *c, const struct store_request *r,
                             bool *inserted, struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, r->chat_id);
    p_int(&p, r->user_id);
    p_text(&p, r->first_name, sizeof r->first_name);
    p_text(&p, r->last_name, sizeof r->last_name);
    p_text(&p, r->username, sizeof r->username);
    p_text(&p, r->bio, sizeof r->bio);
    p_text(&p, r->invite_link, sizeof r->invite_link);
    p_int(&p, r->tg_date);
    p_int(&p, r->status);
    p_int(&p, r->created_at);
    p_int(&p, r->decided_at);
    p_text(&p, r->decided_by, sizeof r->decided_by);
    p_text(&p, r->decided_via, sizeof r->decided_via);
    p_text(&p, r->last_error, sizeof r->last_error);
    int64_t changes = 0;
    dm_err e = run(s, c, request_insert_sql, &p, NULL, &changes, "recording a join request", err);
    if (inserted) *inserted = !e && changes > 0;
    return e;
}

static dm_err pg_request_add(struct store *st, const struct store_request *r, bool *inserted,
                             struct dm_error *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct conn *c = NULL;
    if (inserted) *inserted = false;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = request_insert(s, c, r, inserted, err);
    conn_put(s, c);
    return e;
}

static dm_err pg_request_get(struct store *st, int64_t id, struct store_request *out,
                             struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, id);
    int n = 0;
    dm_err e =
        read_rows((struct pg_store *)st, "SELECT " REQUEST_COLS REQUEST_FROM " WHERE r.id = $1", &p,
                  row_request, out, sizeof *out, 1, &n, "reading a join request", err);
    return !e && n == 0 ? dm_fail(err, DM_ENOTFOUND, "no join request with id %" PRId64, id) : e;
}

/* Appends f's conditions (" AND …", status only when with_status) to b, their values to p.
 * q: a case-insensitive substring of the names (LIKE on the lowered names, its own % _ \
 * escaped), or when all digits also the exact user id. */
static dm_err filter_sql(struct buf *b, struct params *p, const struct store_request_filter *f,
                         bool with_status)
{
    if (!f) return DM_OK;
    dm_err e = DM_OK;
    if (with_status && f->status >= 0) {
        p_int(p, f->status);
        e = e ? e : buf_printf(b, " AND r.status = $%d", p->n);
    }
    if (f->chat_id) {
        p_int(p, f->chat_id);
        e = e ? e : buf_printf(b, " AND r.chat_id = $%d", p->n);
    }
    if (f->date_from) {
        p_int(p, f->date_from);
        e = e ? e : buf_printf(b, " AND r.tg_date >= $%d", p->n);
    }
    if (f->date_to) {
        p_int(p, f->date_to);
        e = e ? e : buf_printf(b, " AND r.tg_date <= $%d", p->n);
    }
    size_t qlen = strnlen(f->q, sizeof f->q - 1);
    if (qlen == 0 || e) return e;
    char pattern[2 * sizeof f->q + 3];
    size_t o = 0;
    pattern[o++] = '%';
    bool digits = true;
    for (size_t i = 0; i < qlen; i++) {
        char ch = f->q[i];
        if (ch == '%' || ch == '_' || ch == '\\') pattern[o++] = '\\';
        pattern[o++] = ch;
        digits = digits && ch >= '0' && ch <= '9';
    }
    pattern[o++] = '%';
    pattern[o] = 0;
    p_text(p, pattern, sizeof pattern);
    e = buf_printf(b, " AND (r.search LIKE lower($%d::text) ESCAPE '\\'", p->n);
    errno = 0;
    int64_t user_id = digits ? strtoll(f->q, NULL, 10) : 0;
    if (!e && digits && errno == 0) {
        p_int(p, user_id);
        e = buf_printf(b, " OR r.user_id = $%d", p->n);
    }
    return e ? e : buf_puts(b, ")");
}

/* Builds head + f's conditions + tail into b (released by the caller). */
static dm_err filter_query(struct buf *b, struct params *p, const char *head,
                           const struct store_request_filter *f, bool with_status, const char *tail,
                           struct dm_error *err)
{
    buf_init(b, SQL_MAX);
    dm_err e = buf_puts(b, head);
    if (!e) e = filter_sql(b, p, f, with_status);
    if (!e) e = buf_puts(b, tail);
    return e ? dm_fail(err, e, "could not build a request query: %s", dm_strerror(e)) : DM_OK;
}

static dm_err pg_request_list(struct store *st, const struct store_request_filter *f,
                              int64_t before_id, int limit, struct store_request *out, int *n,
                              struct dm_error *err)
{
    *n = 0;
    if (limit <= 0) return DM_OK;
    struct params p = {0};
    p_int(&p, before_key(before_id));
    p_int(&p, limit);
    struct buf b;
    dm_err e = filter_query(&b, &p, "SELECT " REQUEST_COLS REQUEST_FROM " WHERE r.id < $1", f, true,
                            " ORDER BY r.id DESC LIMIT $2", err);
    if (!e)
        e = read_rows((struct pg_store *)st, b.data, &p, row_request, out, sizeof *out, limit, n,
                      "listing join requests", err);
    buf_release(&b);
    return e;
}

static dm_err pg_request_counts(struct store *st, const struct store_request_filter *f,
                                int64_t counts[REQ_STATUS_COUNT], struct dm_error *err)
{
    struct pg_store *s = (struct pg_store *)st;
    for (int i = 0; i < REQ_STATUS_COUNT; i++)
        counts[i] = 0;
    /* no filter, or only a chat: the trigger-kept totals answer without scanning requests */
    bool kept = !f || (!f->date_from && !f->date_to && !f->q[0]);
    struct params p = {0};
    struct buf b;
    dm_err e = filter_query(&b, &p,
                            kept ? "SELECT r.status, sum(r.n) FROM request_counts r WHERE true"
                                 : "SELECT r.status, count(*) FROM invite_requests r WHERE true",
                            f, false, " GROUP BY r.status", err);
    struct conn *c = NULL;
    PGresult *r = NULL;
    if (!e) e = conn_get(s, &c, err);
    if (!e) {
        e = run(s, c, b.data, &p, &r, NULL, "counting join requests", err);
        conn_put(s, c);
    }
    buf_release(&b);
    for (int i = 0; !e && i < PQntuples(r); i++) {
        int64_t status = g_int(r, i, 0);
        if (status >= 0 && status < REQ_STATUS_COUNT) counts[status] = g_int(r, i, 1);
    }
    PQclear(r);
    return e;
}

/* ---- jobs ---- */

/* Jobs over requests approve or decline them. */
static bool decision_kind(int kind, struct dm_error *err)
{
    if (kind == JOB_APPROVE || kind == JOB_DECLINE) return true;
    dm_fail(err, DM_EINVAL, "a job over requests approves or declines, not kind %d", kind);
    return false;
}

static dm_err job_insert(struct pg_store *s, struct conn *c, const struct store_job *job,
                         int64_t now, int64_t *id, struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, job->kind);
    p_text(&p, job->via, sizeof job->via);
    p_text(&p, job->admin, sizeof job->admin);
    p_text(&p, job->description, sizeof job->description);
    p_int(&p, now);
    p_text(&p, job->params, sizeof job->params);
    PGresult *r = NULL;
    dm_err e = run(s, c,
                   "INSERT INTO jobs(kind, via, admin, description, created_at, updated_at, "
                   "params) VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
                   &p, &r, NULL, "creating a job", err);
    if (!e) *id = g_int(r, 0, 0);
    PQclear(r);
    return e;
}

static dm_err job_add_total(struct pg_store *s, struct conn *c, int64_t id, int64_t n,
                            struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, id);
    p_int(&p, n);
    return run(s, c, "UPDATE jobs SET total = total + $2 WHERE id = $1", &p, NULL, NULL,
               "counting a job's items", err);
}

static dm_err pg_job_create_ids(struct store *st, const struct store_job *job, const int64_t *ids,
                                size_t n, int64_t now, int64_t *id, struct dm_error *err)
{
    if (n == 0) return dm_fail(err, DM_EINVAL, "a job needs at least one request");
    if (!decision_kind(job->kind, err)) return DM_EINVAL;
    struct pg_store *s = (struct pg_store *)st;
    /* the ids as one array parameter: "{1,2,3}" */
    struct buf arr;
    buf_init(&arr, IDS_MAX);
    dm_err e = buf_puts(&arr, "{");
    for (size_t i = 0; i < n && !e; i++)
        e = buf_printf(&arr, "%s%" PRId64, i ? "," : "", ids[i]);
    if (!e) e = buf_puts(&arr, "}");
    if (e) {
        buf_release(&arr);
        return dm_fail(err, e, "too many requests for one job: %zu", n);
    }
    struct conn *c = NULL;
    PGresult *r = NULL;
    int64_t job_id = 0, total = 0;
    e = conn_get(s, &c, err);
    if (e) {
        buf_release(&arr);
        return e;
    }
    struct params p = {0};
    p_ref(&p, arr.data);
    e = tx_begin(s, c, err);
    if (!e)
        e = run(s, c,
                "SELECT x FROM unnest($1::bigint[]) WITH ORDINALITY AS t(x, i) "
                "WHERE NOT EXISTS (SELECT 1 FROM invite_requests WHERE id = x) ORDER BY i LIMIT 1",
                &p, &r, NULL, "checking the requests", err);
    if (!e && PQntuples(r) > 0)
        e = dm_fail(err, DM_ENOTFOUND, "no join request with id %" PRId64, g_int(r, 0, 0));
    PQclear(r);
    if (!e) e = job_insert(s, c, job, now, &job_id, err);
    struct params q = {0};
    p_int(&q, job_id);
    p_ref(&q, arr.data);
    /* a repeated id adds nothing */
    if (!e)
        e = run(s, c,
                "INSERT INTO job_items(job_id, request_id) SELECT $1, unnest($2::bigint[]) "
                "ON CONFLICT DO NOTHING",
                &q, NULL, &total, "adding a job's items", err);
    if (!e) e = job_add_total(s, c, job_id, total, err);
    e = tx_end(s, c, e, err);
    conn_put(s, c);
    buf_release(&arr);
    if (!e) *id = job_id;
    return e;
}

static dm_err pg_job_create_filter(struct store *st, const struct store_job *job,
                                   const struct store_request_filter *f, int64_t now, int64_t *id,
                                   struct dm_error *err)
{
    if (f && f->status != -1 && f->status != REQ_PENDING)
        return dm_fail(err, DM_EINVAL, "a job over a filter takes pending requests only");
    if (!decision_kind(job->kind, err)) return DM_EINVAL;
    struct pg_store *s = (struct pg_store *)st;
    struct conn *c = NULL;
    int64_t job_id = 0, total = 0;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = tx_begin(s, c, err);
    if (!e) e = job_insert(s, c, job, now, &job_id, err);
    struct params p = {0};
    struct buf b = {0};
    p_int(&p, job_id);
    if (!e)
        e = filter_query(&b, &p,
                         "INSERT INTO job_items(job_id, request_id) SELECT $1, r.id "
                         "FROM invite_requests r WHERE r.status = 0",
                         f, false, "", err);
    if (!e) e = run(s, c, b.data, &p, NULL, &total, "adding a job's items", err);
    buf_release(&b);
    if (!e) e = job_add_total(s, c, job_id, total, err);
    e = tx_end(s, c, e, err);
    conn_put(s, c);
    if (!e) *id = job_id;
    return e;
}

static dm_err pg_job_get(struct store *st, int64_t id, struct store_job *out, struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, id);
    int n = 0;
    dm_err e = read_rows((struct pg_store *)st, "SELECT " JOB_COLS " FROM jobs WHERE id = $1", &p,
                         row_job, out, sizeof *out, 1, &n, "reading a job", err);
    return !e && n == 0 ? dm_fail(err, DM_ENOTFOUND, "no job with id %" PRId64, id) : e;
}

/* Runs a "… WHERE id < $1 ORDER BY id DESC LIMIT $2" page. */
static dm_err read_page(struct pg_store *s, const char *sql, int64_t before_id, int limit,
                        row_fn fn, void *out, size_t size, int *n, const char *what,
                        struct dm_error *err)
{
    *n = 0;
    if (limit <= 0) return DM_OK;
    struct params p = {0};
    p_int(&p, before_key(before_id));
    p_int(&p, limit);
    return read_rows(s, sql, &p, fn, out, size, limit, n, what, err);
}

static dm_err pg_job_list(struct store *st, int64_t before_id, int limit, struct store_job *out,
                          int *n, struct dm_error *err)
{
    return read_page((struct pg_store *)st,
                     "SELECT " JOB_COLS " FROM jobs WHERE id < $1 ORDER BY id DESC LIMIT $2",
                     before_id, limit, row_job, out, sizeof *out, n, "listing jobs", err);
}

static dm_err pg_job_claim(struct store *st, const char *owner, int64_t now, int64_t lease_until,
                           struct store_job *out, struct dm_error *err)
{
    struct params p = {0};
    p_text(&p, owner, STORE_NAME_MAX);
    p_int(&p, now);
    p_int(&p, lease_until);
    int n = 0;
    /* SKIP LOCKED: two processes claiming at once take different jobs, and neither waits */
    dm_err e = read_rows(
        (struct pg_store *)st,
        "UPDATE jobs SET state = 1, lease_owner = $1, lease_until = $3, updated_at = $2 "
        "WHERE id = (SELECT id FROM jobs WHERE state IN (0, 1) AND (state = 0 OR lease_until < $2) "
        "ORDER BY total - done - skipped - failed, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "RETURNING " JOB_COLS,
        &p, row_job, out, sizeof *out, 1, &n, "claiming a job", err);
    return !e && n == 0 ? dm_fail(err, DM_ENOTFOUND, "no job is waiting") : e;
}

/* Reads a job's state, kind, admin and via on c (inside the caller's transaction). */
static dm_err job_info(struct pg_store *s, struct conn *c, int64_t id, int *state, int *kind,
                       char *admin, char *via, struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, id);
    PGresult *r = NULL;
    dm_err e = run(s, c, "SELECT state, kind, admin, via FROM jobs WHERE id = $1", &p, &r, NULL,
                   "reading a job", err);
    if (!e && PQntuples(r) == 0) e = dm_fail(err, DM_ENOTFOUND, "no job with id %" PRId64, id);
    if (!e) {
        *state = (int)g_int(r, 0, 0);
        if (kind) *kind = (int)g_int(r, 0, 1);
        if (admin) g_text(r, 0, 2, admin, STORE_NAME_MAX);
        if (via) g_text(r, 0, 3, via, STORE_NAME_MAX);
    }
    PQclear(r);
    return e;
}

/* The error for a job update that changed nothing because `owner` no longer holds the job. */
static dm_err lease_lost(struct pg_store *s, struct conn *c, int64_t job_id, struct dm_error *err)
{
    int state = 0;
    dm_err e = job_info(s, c, job_id, &state, NULL, NULL, NULL, err);
    return e ? e
             : dm_fail(err, DM_ECONFLICT,
                       state == JOB_RUNNING ? "job %" PRId64 " is held by another worker"
                                            : "job %" PRId64 " is %s",
                       job_id, job_state_name(state));
}

/* Runs a job update that needs `owner` to hold the job (DM_ECONFLICT otherwise), on c. */
static dm_err owned_update(struct pg_store *s, struct conn *c, int64_t job_id, const char *sql,
                           const struct params *p, const char *what, struct dm_error *err)
{
    int64_t changes = 0;
    dm_err e = run(s, c, sql, p, NULL, &changes, what, err);
    return !e && changes == 0 ? lease_lost(s, c, job_id, err) : e;
}

static dm_err pg_job_renew(struct store *st, int64_t id, const char *owner, int64_t lease_until,
                           struct dm_error *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct params p = {0};
    p_int(&p, id);
    p_text(&p, owner, STORE_NAME_MAX);
    p_int(&p, lease_until);
    struct conn *c = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = owned_update(s, c, id,
                     "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND state = 1 "
                     "AND lease_owner = $2",
                     &p, "renewing a job lease", err);
    conn_put(s, c);
    return e;
}

static dm_err pg_job_items(struct store *st, int64_t job_id, int outcome, int64_t after, int limit,
                           struct store_item *out, int *n, struct dm_error *err)
{
    *n = 0;
    if (limit <= 0) return DM_OK;
    struct params p = {0};
    p_int(&p, job_id);
    p_int(&p, outcome);
    p_int(&p, after);
    p_int(&p, limit);
    return read_rows((struct pg_store *)st,
                     "SELECT i.job_id, i.request_id, r.chat_id, r.user_id, r.status, i.outcome, "
                     "i.error FROM job_items i JOIN invite_requests r ON r.id = i.request_id "
                     "WHERE i.job_id = $1 AND i.outcome = $2 AND i.request_id > $3 "
                     "ORDER BY i.request_id LIMIT $4",
                     &p, row_item, out, sizeof *out, limit, n, "listing job items", err);
}

static dm_err pg_job_next_items(struct store *st, int64_t job_id, int64_t after, int limit,
                                struct store_item *out, int *n, struct dm_error *err)
{
    return pg_job_items(st, job_id, ITEM_PENDING, after, limit, out, n, err);
}

/* Inserts an audit row on c (alone or inside the caller's transaction). */
static dm_err audit_insert(struct pg_store *s, struct conn *c, const struct store_audit *a,
                           struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, a->at);
    p_text(&p, a->admin, sizeof a->admin);
    p_text(&p, a->action, sizeof a->action);
    p_int(&p, a->request_id);
    p_int(&p, a->chat_id);
    p_int(&p, a->user_id);
    p_int(&p, a->job_id);
    p_text(&p, a->via, sizeof a->via);
    p_text(&p, a->result, sizeof a->result);
    p_text(&p, a->detail, sizeof a->detail);
    return run(s, c,
               "INSERT INTO audit(at, admin, action, request_id, chat_id, user_id, job_id, via, "
               "result, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
               &p, NULL, NULL, "writing the audit log", err);
}

/* The body of job_item_finish, inside its transaction on c. */
static dm_err item_finish(struct pg_store *s, struct conn *c, const struct store_item *it,
                          int64_t now, struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, it->job_id);
    p_int(&p, it->request_id);
    PGresult *r = NULL;
    /* locks the item and its request: another process finishing the same item waits here and
     * then sees it finished */
    dm_err e = run(s, c,
                   "SELECT i.outcome, r.chat_id, r.user_id, r.status "
                   "FROM job_items i JOIN invite_requests r ON r.id = i.request_id "
                   "WHERE i.job_id = $1 AND i.request_id = $2 FOR UPDATE OF i, r",
                   &p, &r, NULL, "reading a job item", err);
    if (e) return e;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return dm_fail(err, DM_ENOTFOUND, "job %" PRId64 " has no item for request %" PRId64,
                       it->job_id, it->request_id);
    }
    int outcome = (int)g_int(r, 0, 0);
    struct store_audit a = {.request_id = it->request_id, .job_id = it->job_id, .at = now};
    a.chat_id = g_int(r, 0, 1);
    a.user_id = g_int(r, 0, 2);
    int req_status = (int)g_int(r, 0, 3);
    PQclear(r);
    if (outcome != ITEM_PENDING) return DM_OK; /* finished before: leave it as it was */

    int state, kind;
    e = job_info(s, c, it->job_id, &state, &kind, a.admin, a.via, err);
    if (e) return e;
    dm_strlcpy(a.action, job_kind_name(kind), sizeof a.action);
    dm_strlcpy(a.detail, it->error, sizeof a.detail);

    outcome = it->outcome;
    if (outcome == ITEM_DONE && req_status != REQ_PENDING) {
        outcome = ITEM_SKIPPED; /* decided elsewhere since the job read it */
        if (!a.detail[0])
            snprintf(a.detail, sizeof a.detail, "already %s", request_status_name(req_status));
    }
    /* Telegram's "already handled" means the request is no longer pending there: record the
     * status its answer tells, so the request leaves the pending list. */
    bool told = outcome == ITEM_SKIPPED && req_status == REQ_PENDING &&
                (it->final_status == REQ_APPROVED || it->final_status == REQ_DECLINED);
    struct params q = {0};
    p_int(&q, it->request_id);
    if (outcome == ITEM_DONE || told) {
        p_int(&q, told ? it->final_status : kind == JOB_APPROVE ? REQ_APPROVED : REQ_DECLINED);
        p_int(&q, now);
        p_text(&q, a.admin, sizeof a.admin);
        p_text(&q, a.via, sizeof a.via);
        e = run(s, c,
                "UPDATE invite_requests SET status = $2, decided_at = $3, decided_by = $4, "
                "decided_via = $5, last_error = '' WHERE id = $1 AND status = 0",
                &q, NULL, NULL, "deciding a join request", err);
    } else if (outcome == ITEM_FAILED) {
        p_text(&q, it->error, sizeof it->error);
        e = run(s, c, "UPDATE invite_requests SET last_error = $2 WHERE id = $1", &q, NULL, NULL,
                "recording a request's error", err);
    }
    struct params u = {0};
    p_int(&u, it->job_id);
    p_int(&u, it->request_id);
    p_int(&u, outcome);
    p_text(&u, a.detail, sizeof a.detail);
    if (!e)
        e = run(s, c,
                "UPDATE job_items SET outcome = $3, error = $4 "
                "WHERE job_id = $1 AND request_id = $2 AND outcome = 0",
                &u, NULL, NULL, "finishing a job item", err);
    struct params k = {0};
    p_int(&k, it->job_id);
    p_int(&k, outcome == ITEM_DONE);
    p_int(&k, outcome == ITEM_SKIPPED);
    p_int(&k, outcome == ITEM_FAILED);
    p_int(&k, now);
    if (!e)
        e = run(s, c,
                "UPDATE jobs SET done = done + $2, skipped = skipped + $3, failed = failed + $4, "
                "updated_at = $5 WHERE id = $1",
                &k, NULL, NULL, "counting a job item", err);
    if (!e) {
        static const char *const results[] = {
            [ITEM_DONE] = "ok", [ITEM_SKIPPED] = "already_handled", [ITEM_FAILED] = "error"};
        dm_strlcpy(a.result, results[outcome], sizeof a.result);
        e = audit_insert(s, c, &a, err);
    }
    return e;
}

static dm_err pg_job_item_finish(struct store *st, const struct store_item *it, int64_t now,
                                 struct dm_error *err)
{
    if (it->outcome != ITEM_DONE && it->outcome != ITEM_SKIPPED && it->outcome != ITEM_FAILED)
        return dm_fail(err, DM_EINVAL, "a job item cannot finish with outcome %d", it->outcome);
    struct pg_store *s = (struct pg_store *)st;
    struct conn *c = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = tx_begin(s, c, err);
    if (!e) e = item_finish(s, c, it, now, err);
    e = tx_end(s, c, e, err);
    conn_put(s, c);
    return e;
}

static dm_err pg_job_set_wait(struct store *st, int64_t id, int64_t wait_until, const char *why,
                              struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, id);
    p_int(&p, wait_until);
    p_text(&p, why ? why : "", STORE_ERROR_MAX);
    int64_t changes = 0;
    dm_err e =
        exec1((struct pg_store *)st, "UPDATE jobs SET wait_until = $2, error = $3 WHERE id = $1",
              &p, &changes, "setting a job's wait", err);
    return !e && changes == 0 ? dm_fail(err, DM_ENOTFOUND, "no job with id %" PRId64, id) : e;
}

static dm_err pg_job_finish(struct store *st, int64_t id, int state, const char *error, int64_t now,
                            struct dm_error *err)
{
    if (state != JOB_DONE && state != JOB_FAILED && state != JOB_CANCELLED)
        return dm_fail(err, DM_EINVAL, "a job cannot finish in state %s", job_state_name(state));
    struct pg_store *s = (struct pg_store *)st;
    struct params p = {0};
    p_int(&p, id);
    p_int(&p, state);
    p_text(&p, error, STORE_ERROR_MAX);
    p_int(&p, now);
    struct conn *c = NULL;
    int64_t changes = 0;
    int old = 0;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = run(s, c,
            "UPDATE jobs SET state = $2, error = $3, finished_at = $4, updated_at = $4, "
            "wait_until = 0, lease_owner = '', lease_until = 0 WHERE id = $1 AND state IN (0, 1)",
            &p, NULL, &changes, "finishing a job", err);
    if (!e && changes == 0) {
        e = job_info(s, c, id, &old, NULL, NULL, NULL, err);
        if (!e)
            e = dm_fail(err, DM_ECONFLICT, "job %" PRId64 " has already finished (%s)", id,
                        job_state_name(old));
    }
    conn_put(s, c);
    return e;
}

/* ---- load jobs ---- */

static dm_err pg_job_create_load(struct store *st, const struct store_job *job, int64_t now,
                                 int64_t *id, struct dm_error *err)
{
    if (job->kind != JOB_LOAD)
        return dm_fail(err, DM_EINVAL, "job_create_load makes load jobs, not kind %d", job->kind);
    struct pg_store *s = (struct pg_store *)st;
    struct conn *c = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = job_insert(s, c, job, now, id, err);
    conn_put(s, c);
    return e;
}

static dm_err pg_job_load_page(struct store *st, int64_t job_id, const char *owner,
                               const struct store_request *rows, size_t n, const char *cursor,
                               int64_t total, int64_t now, int64_t *added, struct dm_error *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct params p = {0};
    p_int(&p, job_id);
    p_text(&p, owner, STORE_NAME_MAX);
    p_text(&p, cursor ? cursor : "", sizeof((struct store_job *)0)->cursor);
    p_int(&p, total);
    p_int(&p, (int64_t)n);
    p_int(&p, now);
    struct conn *c = NULL;
    int64_t new_rows = 0;
    if (added) *added = 0;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = tx_begin(s, c, err);
    if (!e)
        e = owned_update(s, c, job_id,
                         "UPDATE jobs SET cursor = $3, total = $4, done = done + $5, "
                         "updated_at = $6 WHERE id = $1 AND state = 1 AND lease_owner = $2",
                         &p, "recording a page of a load job", err);
    for (size_t i = 0; i < n && !e; i++) {
        bool inserted = false;
        e = request_insert(s, c, &rows[i], &inserted, err);
        new_rows += inserted;
    }
    e = tx_end(s, c, e, err);
    conn_put(s, c);
    if (added) *added = e ? 0 : new_rows;
    return e;
}

/* ---- decision jobs that decide a channel at once ---- */

/* Sets the job's cursor if `owner` holds it (DM_ECONFLICT otherwise), on c. */
static dm_err job_cursor_set(struct pg_store *s, struct conn *c, int64_t job_id, const char *owner,
                             const char *cursor, int64_t now, struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, job_id);
    p_text(&p, owner, STORE_NAME_MAX);
    p_text(&p, cursor ? cursor : "", sizeof((struct store_job *)0)->cursor);
    p_int(&p, now);
    return owned_update(s, c, job_id,
                        "UPDATE jobs SET cursor = $3, updated_at = $4 "
                        "WHERE id = $1 AND state = 1 AND lease_owner = $2",
                        &p, "saving a job's position", err);
}

/* Makes items of the job for the pending requests of chat_id (of one user when user_id is not
 * 0) and counts what it added into the job's total. */
static dm_err items_add(struct pg_store *s, struct conn *c, int64_t job_id, int64_t chat_id,
                        int64_t user_id, struct dm_error *err)
{
    struct params p = {0};
    p_int(&p, job_id);
    p_int(&p, chat_id);
    if (user_id) p_int(&p, user_id);
    int64_t changes = 0;
    dm_err e = run(s, c,
                   user_id ? "INSERT INTO job_items(job_id, request_id) SELECT $1, id "
                             "FROM invite_requests WHERE chat_id = $2 AND user_id = $3 "
                             "AND status = 0 ON CONFLICT DO NOTHING"
                           : "INSERT INTO job_items(job_id, request_id) SELECT $1, id "
                             "FROM invite_requests WHERE chat_id = $2 AND status = 0 "
                             "ON CONFLICT DO NOTHING",
                   &p, NULL, &changes, "adding a job item", err);
    return !e && changes ? job_add_total(s, c, job_id, changes, err) : e;
}

static dm_err pg_job_add_page(struct store *st, int64_t job_id, const char *owner,
                              const struct store_request *rows, size_t n, const char *cursor,
                              int64_t now, struct dm_error *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct conn *c = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = tx_begin(s, c, err);
    if (!e) e = job_cursor_set(s, c, job_id, owner, cursor, now, err);
    for (size_t i = 0; i < n && !e; i++) {
        e = request_insert(s, c, &rows[i], NULL, err);
        if (!e) e = items_add(s, c, job_id, rows[i].chat_id, rows[i].user_id, err);
    }
    e = tx_end(s, c, e, err);
    conn_put(s, c);
    return e;
}

static dm_err pg_job_finish_chat(struct store *st, int64_t job_id, const char *owner,
                                 int64_t chat_id, int outcome, const char *error,
                                 const char *cursor, int64_t now, int64_t *finished,
                                 struct dm_error *err)
{
    if (outcome != ITEM_DONE && outcome != ITEM_FAILED)
        return dm_fail(err, DM_EINVAL, "a channel's items finish done or failed, not %d", outcome);
    struct pg_store *s = (struct pg_store *)st;
    struct conn *c = NULL;
    int64_t total = 0;
    if (finished) *finished = 0;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = tx_begin(s, c, err);
    if (!e) e = job_cursor_set(s, c, job_id, owner, cursor, now, err);
    if (!e && outcome == ITEM_DONE) e = items_add(s, c, job_id, chat_id, 0, err);
    /* finished items leave the pending set, so each batch starts from the first left */
    for (bool more = !e; more && !e;) {
        struct params p = {0};
        p_int(&p, job_id);
        p_int(&p, chat_id);
        p_int(&p, CHAT_BATCH);
        PGresult *r = NULL;
        e = run(s, c,
                "SELECT i.request_id FROM job_items i "
                "JOIN invite_requests r ON r.id = i.request_id "
                "WHERE i.job_id = $1 AND i.outcome = 0 AND r.chat_id = $2 "
                "ORDER BY i.request_id LIMIT $3",
                &p, &r, NULL, "listing a channel's job items", err);
        int n = e ? 0 : PQntuples(r);
        for (int i = 0; i < n && !e; i++) {
            struct store_item it = {.job_id = job_id,
                                    .request_id = g_int(r, i, 0),
                                    .outcome = outcome,
                                    .final_status = REQ_PENDING};
            dm_strlcpy(it.error, error ? error : "", sizeof it.error);
            e = item_finish(s, c, &it, now, err);
        }
        PQclear(r);
        total += n;
        more = n == CHAT_BATCH;
    }
    e = tx_end(s, c, e, err);
    conn_put(s, c);
    if (finished) *finished = e ? 0 : total;
    return e;
}

/* ---- Telegram sessions and logins ---- */

/* Every field of a session but created_at, in the order of SESSION_COLS. */
static void session_params(struct params *p, const struct store_session *x)
{
    p_text(p, x->name, sizeof x->name);
    p_int(p, x->is_bot);
    p_int(p, x->api_id);
    p_text(p, x->api_hash_sealed, sizeof x->api_hash_sealed);
    p_text(p, x->phone, sizeof x->phone);
    p_int(p, x->dc_id);
    p_int(p, x->account_id);
    p_text(p, x->first_name, sizeof x->first_name);
    p_text(p, x->last_name, sizeof x->last_name);
    p_text(p, x->username, sizeof x->username);
    p_text(p, x->account_phone, sizeof x->account_phone);
    p_int(p, x->premium);
    p_int(p, x->status);
    p_text(p, x->status_reason, sizeof x->status_reason);
    p_int(p, x->last_check_at);
    p_text(p, x->last_error, sizeof x->last_error);
}

static dm_err pg_session_add(struct store *st, const struct store_session *x, struct dm_error *err)
{
    if (x->status < SESSION_UNCHECKED || x->status > SESSION_INVALID)
        return dm_fail(err, DM_EINVAL, "unknown session status %d", x->status);
    struct params p = {0};
    session_params(&p, x);
    p_int(&p, x->created_at);
    dm_err e = exec1((struct pg_store *)st,
                     "INSERT INTO sessions(" SESSION_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, "
                     "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
                     &p, NULL, "saving a session", err);
    if (e == DM_EEXISTS) dm_fail(err, e, "a session named '%s' already exists", x->name);
    return e;
}

static dm_err pg_session_update(struct store *st, const struct store_session *x,
                                struct dm_error *err)
{
    if (x->status < SESSION_UNCHECKED || x->status > SESSION_INVALID)
        return dm_fail(err, DM_EINVAL, "unknown session status %d", x->status);
    struct params p = {0};
    session_params(&p, x);
    int64_t changes = 0;
    dm_err e = exec1((struct pg_store *)st,
                     "UPDATE sessions SET is_bot = $2, api_id = $3, api_hash_sealed = $4, "
                     "phone = $5, dc_id = $6, account_id = $7, first_name = $8, last_name = $9, "
                     "username = $10, account_phone = $11, premium = $12, status = $13, "
                     "status_reason = $14, last_check_at = $15, last_error = $16 WHERE name = $1",
                     &p, &changes, "saving a session", err);
    return !e && changes == 0 ? dm_fail(err, DM_ENOTFOUND, "no session named '%s'", x->name) : e;
}

static dm_err pg_session_get(struct store *st, const char *name, struct store_session *out,
                             struct dm_error *err)
{
    struct params p = {0};
    p_text(&p, name, STORE_NAME_MAX);
    int n = 0;
    dm_err e =
        read_rows((struct pg_store *)st, "SELECT " SESSION_COLS " FROM sessions WHERE name = $1",
                  &p, row_session, out, sizeof *out, 1, &n, "reading a session", err);
    return !e && n == 0 ? dm_fail(err, DM_ENOTFOUND, "no session named '%s'", name) : e;
}

static dm_err pg_session_list(struct store *st, struct store_session **out, size_t *n,
                              struct dm_error *err)
{
    return read_all(
        (struct pg_store *)st, "SELECT " SESSION_COLS " FROM sessions ORDER BY name COLLATE \"C\"",
        row_session, sizeof **out, SESSION_LIST_MAX, (void **)out, n, "listing sessions", err);
}

static dm_err pg_session_delete(struct store *st, const char *name, struct dm_error *err)
{
    struct params p = {0};
    p_text(&p, name, STORE_NAME_MAX);
    int64_t changes = 0;
    dm_err e = exec1((struct pg_store *)st, "DELETE FROM sessions WHERE name = $1", &p, &changes,
                     "deleting a session", err);
    return !e && changes == 0 ? dm_fail(err, DM_ENOTFOUND, "no session named '%s'", name) : e;
}

static dm_err pg_login_put(struct store *st, const struct store_login *l, int64_t now,
                           struct dm_error *err)
{
    if (l->state != LOGIN_CODE_SENT && l->state != LOGIN_PASSWORD_NEEDED)
        return dm_fail(err, DM_EINVAL, "unknown login state %d", l->state);
    struct pg_store *s = (struct pg_store *)st;
    struct params purge = {0}, p = {0};
    p_int(&purge, now);
    p_text(&p, l->id, sizeof l->id);
    p_text(&p, l->name, sizeof l->name);
    p_text(&p, l->phone, sizeof l->phone);
    p_int(&p, l->state);
    p_text(&p, l->hint, sizeof l->hint);
    p_text(&p, l->sealed, sizeof l->sealed);
    p_int(&p, l->created_at);
    p_int(&p, l->expires_at);
    struct conn *c = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = tx_begin(s, c, err);
    /* logins that expired are of no use to anyone: drop them while we are here */
    if (!e)
        e = run(s, c, "DELETE FROM logins WHERE expires_at <= $1", &purge, NULL, NULL,
                "removing expired logins", err);
    if (!e)
        e = run(s, c,
                "INSERT INTO logins(" LOGIN_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone, "
                "state = excluded.state, hint = excluded.hint, sealed = excluded.sealed, "
                "created_at = excluded.created_at, expires_at = excluded.expires_at",
                &p, NULL, NULL, "saving a login", err);
    e = tx_end(s, c, e, err);
    conn_put(s, c);
    return e;
}

static dm_err pg_login_get(struct store *st, const char *id, int64_t now, struct store_login *out,
                           struct dm_error *err)
{
    struct params p = {0};
    p_text(&p, id, sizeof out->id);
    p_int(&p, now);
    int n = 0;
    dm_err e = read_rows((struct pg_store *)st,
                         "SELECT " LOGIN_COLS " FROM logins WHERE id = $1 AND expires_at > $2", &p,
                         row_login, out, sizeof *out, 1, &n, "reading a login", err);
    return !e && n == 0 ? dm_fail(err, DM_ENOTFOUND, "no login with that id, or it has expired")
                        : e;
}

static dm_err pg_login_delete(struct store *st, const char *id, struct dm_error *err)
{
    struct params p = {0};
    p_text(&p, id, sizeof((struct store_login *)0)->id);
    return exec1((struct pg_store *)st, "DELETE FROM logins WHERE id = $1", &p, NULL,
                 "deleting a login", err);
}

/* ---- audit ---- */

static dm_err pg_audit_add(struct store *st, const struct store_audit *a, struct dm_error *err)
{
    struct pg_store *s = (struct pg_store *)st;
    struct conn *c = NULL;
    dm_err e = conn_get(s, &c, err);
    if (e) return e;
    e = audit_insert(s, c, a, err);
    conn_put(s, c);
    return e;
}

static dm_err pg_audit_list(struct store *st, int64_t before_id, int limit, struct store_audit *out,
                            int *n, struct dm_error *err)
{
    return read_page((struct pg_store *)st,
                     "SELECT " AUDIT_COLS " FROM audit WHERE id < $1 ORDER BY id DESC LIMIT $2",
                     before_id, limit, row_audit, out, sizeof *out, n, "reading the audit log",
                     err);
}

/* ---- leases ---- */

/* One statement: the row lock of ON CONFLICT makes two processes taking the same free lease
 * at once agree on one holder. */
static dm_err pg_lease_acquire(struct store *st, const char *name, const char *owner, int64_t now,
                               int64_t until, bool *held, struct dm_error *err)
{
    struct params p = {0};
    p_text(&p, name, STORE_TEXT_MAX);
    p_text(&p, owner, STORE_NAME_MAX);
    p_int(&p, now);
    p_int(&p, until);
    int64_t changes = 0;
    *held = false;
    dm_err e = exec1((struct pg_store *)st,
                     "INSERT INTO leases(name, owner, expires_at) VALUES ($1, $2, $4) "
                     "ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, "
                     "expires_at = EXCLUDED.expires_at "
                     "WHERE leases.owner = EXCLUDED.owner OR leases.expires_at < $3",
                     &p, &changes, "taking a lease", err);
    *held = !e && changes > 0;
    return e;
}

static dm_err pg_lease_release(struct store *st, const char *name, const char *owner,
                               struct dm_error *err)
{
    struct params p = {0};
    p_text(&p, name, STORE_TEXT_MAX);
    p_text(&p, owner, STORE_NAME_MAX);
    return exec1((struct pg_store *)st, "DELETE FROM leases WHERE name = $1 AND owner = $2", &p,
                 NULL, "releasing a lease", err);
}

const struct store_ops store_postgres_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .admin_create = pg_admin_create,
    .admin_get = pg_admin_get,
    .admin_count = pg_admin_count,
    .admin_set_password = pg_admin_set_password,
    .websession_create = pg_websession_create,
    .websession_get = pg_websession_get,
    .websession_delete = pg_websession_delete,
    .setting_get = pg_setting_get,
    .setting_set = pg_setting_set,
    .setting_delete = pg_setting_delete,
    .chat_get = pg_chat_get,
    .chat_put = pg_chat_put,
    .chat_list = pg_chat_list,
    .request_add = pg_request_add,
    .request_get = pg_request_get,
    .request_list = pg_request_list,
    .request_counts = pg_request_counts,
    .job_create_ids = pg_job_create_ids,
    .job_create_filter = pg_job_create_filter,
    .job_get = pg_job_get,
    .job_list = pg_job_list,
    .job_claim = pg_job_claim,
    .job_renew = pg_job_renew,
    .job_next_items = pg_job_next_items,
    .job_item_finish = pg_job_item_finish,
    .job_items = pg_job_items,
    .job_set_wait = pg_job_set_wait,
    .job_finish = pg_job_finish,
    .job_create_load = pg_job_create_load,
    .job_load_page = pg_job_load_page,
    .job_add_page = pg_job_add_page,
    .job_finish_chat = pg_job_finish_chat,
    .session_add = pg_session_add,
    .session_get = pg_session_get,
    .session_list = pg_session_list,
    .session_update = pg_session_update,
    .session_delete = pg_session_delete,
    .login_put = pg_login_put,
    .login_get = pg_login_get,
    .login_delete = pg_login_delete,
    .audit_add = pg_audit_add,
    .audit_list = pg_audit_list,
    .lease_acquire = pg_lease_acquire,
    .lease_release = pg_lease_release,
};
