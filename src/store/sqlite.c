/* sqlite.c: the SQLite backend of store.h.
 *
 * Connections: one read-write connection, used under write_lock by every function that changes
 * something (each such call is one statement or one BEGIN IMMEDIATE transaction), and a pool of
 * READERS read-only connections for lookups and lists, so a panel page never waits behind a
 * write. The file is in WAL mode: readers see the last commit and never block the writer.
 * Every connection caches its prepared statements: the fixed ones by enum stmt_id, the request
 * filters by their shape (which filter fields are set), so hot queries are prepared once.
 *
 * Schema: versioned migrations (table schema_version), applied in one transaction at open. */
#include "core/common.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>

#include "core/buf.h"
#include "store/backend.h"

#define READERS 4
#define BUSY_TIMEOUT_MS 10000
#define CHAT_LIST_MAX 100000 /* chats returned by chat_list at most */
#define FILTER_SQL_MAX 4096

/* ---- schema ---- */

static const char *const migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE admins ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  pw_hash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE websessions ("
    "  token_hash TEXT PRIMARY KEY,"
    "  admin_id INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,"
    "  csrf TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX websessions_expires ON websessions(expires_at);"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE chats ("
    "  chat_id INTEGER PRIMARY KEY,"
    "  title TEXT NOT NULL DEFAULT '',"
    "  username TEXT NOT NULL DEFAULT '',"
    "  fetched_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE invite_requests ("
    "  id INTEGER PRIMARY KEY,"
    "  chat_id INTEGER NOT NULL,"
    "  user_id INTEGER NOT NULL,"
    "  first_name TEXT NOT NULL DEFAULT '',"
    "  last_name TEXT NOT NULL DEFAULT '',"
    "  username TEXT NOT NULL DEFAULT '',"
    "  bio TEXT NOT NULL DEFAULT '',"
    "  invite_link TEXT NOT NULL DEFAULT '',"
    "  tg_date INTEGER NOT NULL,"
    "  status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),"
    "  created_at INTEGER NOT NULL,"
    "  decided_at INTEGER NOT NULL DEFAULT 0,"
    "  decided_by TEXT NOT NULL DEFAULT '',"
    "  decided_via TEXT NOT NULL DEFAULT '',"
    "  last_error TEXT NOT NULL DEFAULT '',"
    /* first_name, last_name, username, lowercased (fold_case), one a line: the text q searches */
    "  search TEXT NOT NULL DEFAULT '',"
    "  UNIQUE (chat_id, user_id, tg_date));"
    /* at most one pending request per user and chat: makes request_add idempotent */
    "CREATE UNIQUE INDEX invite_requests_one_pending ON invite_requests(chat_id, user_id)"
    "  WHERE status = 0;"
    /* newest-first pages (keyset on id) by status, chat, or both; covering counts by status */
    "CREATE INDEX invite_requests_status ON invite_requests(status, id);"
    "CREATE INDEX invite_requests_chat ON invite_requests(chat_id, id);"
    "CREATE INDEX invite_requests_chat_status ON invite_requests(chat_id, status, id);"
    /* counts over a date range */
    "CREATE INDEX invite_requests_date ON invite_requests(tg_date, status);"
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY,"
    "  kind INTEGER NOT NULL CHECK (kind IN (0, 1)),"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  via TEXT NOT NULL,"
    "  admin TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  total INTEGER NOT NULL DEFAULT 0,"
    "  done INTEGER NOT NULL DEFAULT 0,"
    "  skipped INTEGER NOT NULL DEFAULT 0,"
    "  failed INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  finished_at INTEGER NOT NULL DEFAULT 0,"
    "  wait_until INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT NOT NULL DEFAULT '',"
    "  lease_owner TEXT NOT NULL DEFAULT '',"
    "  lease_until INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX jobs_active ON jobs(id) WHERE state IN (0, 1);"
    "CREATE TABLE job_items ("
    "  job_id INTEGER NOT NULL REFERENCES jobs(id),"
    "  request_id INTEGER NOT NULL REFERENCES invite_requests(id),"
    "  outcome INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (job_id, request_id)) WITHOUT ROWID;"
    "CREATE INDEX job_items_outcome ON job_items(job_id, outcome, request_id);"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  admin TEXT NOT NULL DEFAULT '',"
    "  action TEXT NOT NULL,"
    "  request_id INTEGER NOT NULL DEFAULT 0,"
    "  chat_id INTEGER NOT NULL DEFAULT 0,"
    "  user_id INTEGER NOT NULL DEFAULT 0,"
    "  job_id INTEGER NOT NULL DEFAULT 0,"
    "  via TEXT NOT NULL DEFAULT '',"
    "  result TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '');",
    /* 2: requests per (chat, status), kept by triggers, so the page's totals are O(chats) */
    "CREATE TABLE request_counts ("
    "  chat_id INTEGER NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  PRIMARY KEY (chat_id, status)) WITHOUT ROWID;"
    "INSERT INTO request_counts SELECT chat_id, status, count(*) FROM invite_requests"
    "  GROUP BY chat_id, status;"
    "CREATE TRIGGER request_counts_insert AFTER INSERT ON invite_requests BEGIN"
    "  INSERT INTO request_counts VALUES (NEW.chat_id, NEW.status, 1)"
    "    ON CONFLICT (chat_id, status) DO UPDATE SET n = n + 1;"
    "END;"
    "CREATE TRIGGER request_counts_update AFTER UPDATE OF chat_id, status ON invite_requests"
    "  WHEN OLD.chat_id IS NOT NEW.chat_id OR OLD.status IS NOT NEW.status BEGIN"
    "  UPDATE request_counts SET n = n - 1 WHERE chat_id = OLD.chat_id AND status = OLD.status;"
    "  INSERT INTO request_counts VALUES (NEW.chat_id, NEW.status, 1)"
    "    ON CONFLICT (chat_id, status) DO UPDATE SET n = n + 1;"
    "END;"
    "CREATE TRIGGER request_counts_delete AFTER DELETE ON invite_requests BEGIN"
    "  UPDATE request_counts SET n = n - 1 WHERE chat_id = OLD.chat_id AND status = OLD.status;"
    "END;",
    /* 3: Telegram sessions, logins in progress, load jobs (kind 2, params and cursor). SQLite
     * cannot change a CHECK: the jobs table is rebuilt (migrate() turns foreign keys off
     * around the migration and checks them before committing). */
    "CREATE TABLE sessions ("
    "  name TEXT PRIMARY KEY,"
    "  is_bot INTEGER NOT NULL DEFAULT 0,"
    "  api_id INTEGER NOT NULL,"
    "  api_hash_sealed TEXT NOT NULL,"
    "  phone TEXT NOT NULL DEFAULT '',"
    "  dc_id INTEGER NOT NULL DEFAULT 0,"
    "  account_id INTEGER NOT NULL DEFAULT 0,"
    "  first_name TEXT NOT NULL DEFAULT '',"
    "  last_name TEXT NOT NULL DEFAULT '',"
    "  username TEXT NOT NULL DEFAULT '',"
    "  account_phone TEXT NOT NULL DEFAULT '',"
    "  premium INTEGER NOT NULL DEFAULT 0,"
    "  status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),"
    "  status_reason TEXT NOT NULL DEFAULT '',"
    "  last_check_at INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE logins ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  phone TEXT NOT NULL DEFAULT '',"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  hint TEXT NOT NULL DEFAULT '',"
    "  sealed TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX logins_expires ON logins(expires_at);"
    "CREATE TABLE jobs_new ("
    "  id INTEGER PRIMARY KEY,"
    "  kind INTEGER NOT NULL CHECK (kind IN (0, 1, 2)),"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  via TEXT NOT NULL,"
    "  admin TEXT NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  total INTEGER NOT NULL DEFAULT 0,"
    "  done INTEGER NOT NULL DEFAULT 0,"
    "  skipped INTEGER NOT NULL DEFAULT 0,"
    "  failed INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  finished_at INTEGER NOT NULL DEFAULT 0,"
    "  wait_until INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT NOT NULL DEFAULT '',"
    "  lease_owner TEXT NOT NULL DEFAULT '',"
    "  lease_until INTEGER NOT NULL DEFAULT 0,"
    "  params TEXT NOT NULL DEFAULT '',"
    "  cursor TEXT NOT NULL DEFAULT '');"
    "INSERT INTO jobs_new(id, kind, state, via, admin, description, total, done, skipped, failed,"
    "  created_at, updated_at, finished_at, wait_until, error, lease_owner, lease_until)"
    "  SELECT id, kind, state, via, admin, description, total, done, skipped, failed,"
    "  created_at, updated_at, finished_at, wait_until, error, lease_owner, lease_until FROM jobs;"
    "DROP TABLE jobs;"
    "ALTER TABLE jobs_new RENAME TO jobs;"
    "CREATE INDEX jobs_active ON jobs(id) WHERE state IN (0, 1);",
    /* 4: named leases (store.h lease_acquire) */
    "CREATE TABLE leases ("
    "  name TEXT PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL) WITHOUT ROWID;",
};

/* ---- statements ---- */

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

enum stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_ADMIN_CREATE,
    S_ADMIN_GET,
    S_ADMIN_COUNT,
    S_ADMIN_SET_PASSWORD,
    S_WS_PURGE,
    S_WS_CREATE,
    S_WS_GET,
    S_WS_DELETE,
    S_SETTING_GET,
    S_SETTING_SET,
    S_SETTING_DELETE,
    S_CHAT_GET,
    S_CHAT_PUT,
    S_CHAT_LIST,
    S_REQUEST_ADD,
    S_REQUEST_GET,
    S_REQUEST_EXISTS,
    S_REQUEST_DECIDE,
    S_REQUEST_SET_ERROR,
    S_JOB_INSERT,
    S_JOB_ITEM_ADD,
    S_JOB_SET_TOTAL,
    S_JOB_GET,
    S_JOB_LIST,
    S_JOB_CLAIM,
    S_JOB_RENEW,
    S_JOB_INFO,
    S_JOB_COUNT_ITEM,
    S_JOB_SET_WAIT,
    S_JOB_FINISH,
    S_ITEMS,
    S_ITEM_GET,
    S_ITEM_SET,
    S_JOB_LOAD_PAGE,
    S_JOB_SET_CURSOR,
    S_JOB_ADD_TOTAL,
    S_ITEM_ADD_USER,
    S_ITEM_ADD_CHAT,
    S_ITEMS_OF_CHAT,
    S_SESSION_ADD,
    S_SESSION_GET,
    S_SESSION_LIST,
    S_SESSION_UPDATE,
    S_SESSION_DELETE,
    S_LOGIN_PURGE,
    S_LOGIN_PUT,
    S_LOGIN_GET,
    S_LOGIN_DELETE,
    S_AUDIT_ADD,
    S_AUDIT_LIST,
    S_LEASE_ACQUIRE,
    S_LEASE_RELEASE,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_LEASE_ACQUIRE] =
        "INSERT INTO leases(name, owner, expires_at) VALUES (?1, ?2, ?4) "
        "ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at "
        "WHERE leases.owner = excluded.owner OR leases.expires_at < ?3",
    [S_LEASE_RELEASE] = "DELETE FROM leases WHERE name = ?1 AND owner = ?2",
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_ADMIN_CREATE] = "INSERT INTO admins(name, pw_hash, created_at) VALUES (?1, ?2, ?3)",
    [S_ADMIN_GET] = "SELECT id, name, pw_hash, created_at FROM admins WHERE name = ?1",
    [S_ADMIN_COUNT] = "SELECT count(*) FROM admins",
    [S_ADMIN_SET_PASSWORD] = "UPDATE admins SET pw_hash = ?2 WHERE id = ?1",
    [S_WS_PURGE] = "DELETE FROM websessions WHERE expires_at <= ?1",
    [S_WS_CREATE] = "INSERT INTO websessions(token_hash, admin_id, csrf, created_at, expires_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_WS_GET] = "SELECT w.token_hash, w.admin_id, a.name, w.csrf, w.created_at, w.expires_at "
                 "FROM websessions w JOIN admins a ON a.id = w.admin_id "
                 "WHERE w.token_hash = ?1 AND w.expires_at > ?2",
    [S_WS_DELETE] = "DELETE FROM websessions WHERE token_hash = ?1",
    [S_SETTING_GET] = "SELECT value FROM settings WHERE key = ?1",
    [S_SETTING_SET] = "INSERT INTO settings(key, value) VALUES (?1, ?2) "
                      "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [S_SETTING_DELETE] = "DELETE FROM settings WHERE key = ?1",
    [S_CHAT_GET] = "SELECT chat_id, title, username, fetched_at FROM chats WHERE chat_id = ?1",
    [S_CHAT_PUT] =
        "INSERT INTO chats(chat_id, title, username, fetched_at) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT(chat_id) DO UPDATE SET title = excluded.title, "
        "username = excluded.username, fetched_at = excluded.fetched_at",
    /* the distinct chat ids of requests by a loose index scan (one index seek per chat) */
    [S_CHAT_LIST] =
        "WITH RECURSIVE ids(chat_id) AS ("
        "  SELECT (SELECT min(chat_id) FROM invite_requests)"
        "  UNION ALL SELECT (SELECT min(chat_id) FROM invite_requests WHERE chat_id > ids.chat_id)"
        "  FROM ids WHERE ids.chat_id IS NOT NULL) "
        "SELECT ids.chat_id, coalesce(c.title, ''), coalesce(c.username, ''), "
        "coalesce(c.fetched_at, 0) FROM ids LEFT JOIN chats c ON c.chat_id = ids.chat_id "
        "WHERE ids.chat_id IS NOT NULL ORDER BY coalesce(c.title, '') COLLATE NOCASE, ids.chat_id",
    [S_REQUEST_ADD] =
        "INSERT INTO invite_requests(chat_id, user_id, first_name, last_name, username, bio, "
        "invite_link, tg_date, status, created_at, decided_at, decided_by, decided_via, "
        "last_error, search) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
        "ON CONFLICT DO NOTHING",
    [S_REQUEST_GET] = "SELECT " REQUEST_COLS REQUEST_FROM " WHERE r.id = ?1",
    [S_REQUEST_EXISTS] = "SELECT 1 FROM invite_requests WHERE id = ?1",
    [S_REQUEST_DECIDE] =
        "UPDATE invite_requests SET status = ?2, decided_at = ?3, decided_by = ?4, "
        "decided_via = ?5, last_error = '' WHERE id = ?1 AND status = 0",
    [S_REQUEST_SET_ERROR] = "UPDATE invite_requests SET last_error = ?2 WHERE id = ?1",
    [S_JOB_INSERT] =
        "INSERT INTO jobs(kind, via, admin, description, created_at, updated_at, params) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
    [S_JOB_ITEM_ADD] = "INSERT INTO job_items(job_id, request_id) VALUES (?1, ?2) "
                       "ON CONFLICT DO NOTHING",
    [S_JOB_SET_TOTAL] = "UPDATE jobs SET total = ?2 WHERE id = ?1",
    [S_JOB_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?1",
    [S_JOB_LIST] = "SELECT " JOB_COLS " FROM jobs WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
    [S_JOB_CLAIM] =
        "UPDATE jobs SET state = 1, lease_owner = ?1, lease_until = ?3, updated_at = ?2 "
        "WHERE id = (SELECT id FROM jobs WHERE state IN (0, 1) "
        "AND (state = 0 OR lease_until < ?2) "
        "ORDER BY total - done - skipped - failed, id LIMIT 1) "
        "RETURNING " JOB_COLS,
    [S_JOB_RENEW] =
        "UPDATE jobs SET lease_until = ?3 WHERE id = ?1 AND state = 1 AND lease_owner = ?2",
    [S_JOB_INFO] = "SELECT state, kind, admin, via FROM jobs WHERE id = ?1",
    [S_JOB_COUNT_ITEM] = "UPDATE jobs SET done = done + (?2 = 1), skipped = skipped + (?2 = 2), "
                         "failed = failed + (?2 = 3), updated_at = ?3 WHERE id = ?1",
    [S_JOB_SET_WAIT] = "UPDATE jobs SET wait_until = ?2, error = ?3 WHERE id = ?1",
    [S_JOB_FINISH] = "UPDATE jobs SET state = ?2, error = ?3, finished_at = ?4, updated_at = ?4, "
                     "wait_until = 0, lease_owner = '', lease_until = 0 "
                     "WHERE id = ?1 AND state IN (0, 1)",
    [S_ITEMS] = "SELECT i.job_id, i.request_id, r.chat_id, r.user_id, r.status, i.outcome, i.error "
                "FROM job_items i JOIN invite_requests r ON r.id = i.request_id "
                "WHERE i.job_id = ?1 AND i.outcome = ?2 AND i.request_id > ?3 "
                "ORDER BY i.request_id LIMIT ?4",
    [S_ITEM_GET] = "SELECT i.outcome, r.chat_id, r.user_id, r.status "
                   "FROM job_items i JOIN invite_requests r ON r.id = i.request_id "
                   "WHERE i.job_id = ?1 AND i.request_id = ?2",
    [S_ITEM_SET] = "UPDATE job_items SET outcome = ?3, error = ?4 "
                   "WHERE job_id = ?1 AND request_id = ?2 AND outcome = 0",
    [S_JOB_LOAD_PAGE] = "UPDATE jobs SET cursor = ?3, total = ?4, done = done + ?5, "
                        "updated_at = ?6 WHERE id = ?1 AND state = 1 AND lease_owner = ?2",
    [S_JOB_SET_CURSOR] = "UPDATE jobs SET cursor = ?3, updated_at = ?4 "
                         "WHERE id = ?1 AND state = 1 AND lease_owner = ?2",
    [S_JOB_ADD_TOTAL] = "UPDATE jobs SET total = total + ?2 WHERE id = ?1",
    [S_ITEM_ADD_USER] = "INSERT INTO job_items(job_id, request_id) SELECT ?1, id "
                        "FROM invite_requests WHERE chat_id = ?2 AND user_id = ?3 AND status = 0 "
                        "ON CONFLICT DO NOTHING",
    [S_ITEM_ADD_CHAT] = "INSERT INTO job_items(job_id, request_id) SELECT ?1, id "
                        "FROM invite_requests WHERE chat_id = ?2 AND status = 0 "
                        "ON CONFLICT DO NOTHING",
    [S_ITEMS_OF_CHAT] = "SELECT i.request_id FROM job_items i "
                        "JOIN invite_requests r ON r.id = i.request_id "
                        "WHERE i.job_id = ?1 AND i.outcome = 0 AND r.chat_id = ?2 "
                        "ORDER BY i.request_id LIMIT ?3",
    [S_SESSION_ADD] = "INSERT INTO sessions(" SESSION_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                      "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [S_SESSION_GET] = "SELECT " SESSION_COLS " FROM sessions WHERE name = ?1",
    [S_SESSION_LIST] = "SELECT " SESSION_COLS " FROM sessions ORDER BY name",
    [S_SESSION_UPDATE] =
        "UPDATE sessions SET is_bot = ?2, api_id = ?3, api_hash_sealed = ?4, phone = ?5, "
        "dc_id = ?6, account_id = ?7, first_name = ?8, last_name = ?9, username = ?10, "
        "account_phone = ?11, premium = ?12, status = ?13, status_reason = ?14, "
        "last_check_at = ?15, last_error = ?16 WHERE name = ?1",
    [S_SESSION_DELETE] = "DELETE FROM sessions WHERE name = ?1",
    [S_LOGIN_PURGE] = "DELETE FROM logins WHERE expires_at <= ?1",
    [S_LOGIN_PUT] = "INSERT OR REPLACE INTO logins(" LOGIN_COLS ") "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_LOGIN_GET] = "SELECT " LOGIN_COLS " FROM logins WHERE id = ?1 AND expires_at > ?2",
    [S_LOGIN_DELETE] = "DELETE FROM logins WHERE id = ?1",
    [S_AUDIT_ADD] = "INSERT INTO audit(at, admin, action, request_id, chat_id, user_id, job_id, "
                    "via, result, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_AUDIT_LIST] = "SELECT " AUDIT_COLS " FROM audit WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
};

/* Which fields of a request filter are set; statements over a filter are cached by shape. */
enum {
    F_STATUS = 1,
    F_CHAT = 2,
    F_FROM = 4,
    F_TO = 8,
    F_TEXT = 16, /* q as a substring of the names */
    F_USER = 32, /* q all digits: also the exact user id */
    F_SHAPES = 64
};

struct filter_args {
    unsigned shape;
    int status;
    int64_t chat_id, date_from, date_to, user_id;
    char pattern[2 * sizeof(((struct store_request_filter *)0)->q) + 3]; /* %q% with escapes */
};

struct conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[S_COUNT];
    sqlite3_stmt *list[F_SHAPES];   /* request_list, by filter shape */
    sqlite3_stmt *counts[F_SHAPES]; /* request_counts, by filter shape (never F_STATUS) */
};

struct sqlite_store {
    struct store base;
    pthread_mutex_t write_lock; /* guards writer */
    struct conn writer;
    pthread_mutex_t pool_lock; /* guards reader_busy */
    pthread_cond_t pool_free;
    struct conn readers[READERS];
    bool reader_busy[READERS];
};

/* ---- helpers ---- */

/* Fills err from the connection's last error. A broken unique constraint is DM_EEXISTS;
 * everything else DM_EDB. SQLite's messages name tables and columns, never values. */
static dm_err db_fail(struct conn *c, struct dm_error *err, const char *what)
{
    int ext = sqlite3_extended_errcode(c->db);
    dm_err code = ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY
                      ? DM_EEXISTS
                      : DM_EDB;
    return dm_fail(err, code, "database error while %s: %s", what, sqlite3_errmsg(c->db));
}

static dm_err stmt_get(struct conn *c, enum stmt_id id, sqlite3_stmt **out, struct dm_error *err)
{
    if (!c->stmts[id] && sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                            &c->stmts[id], NULL) != SQLITE_OK)
        return db_fail(c, err, "preparing a statement");
    *out = c->stmts[id];
    return DM_OK;
}

/* Makes a cached statement ready for its next use. */
static void stmt_put(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* Binds text cut to a field of size `size` (at a UTF-8 boundary), as the store keeps it. */
static int bind_field(sqlite3_stmt *s, int i, const char *v, size_t size)
{
    char tmp[STORE_BIO_MAX];
    dm_strlcpy(tmp, v ? v : "", DM_MIN(size, sizeof tmp));
    return sqlite3_bind_text(s, i, tmp, -1, SQLITE_TRANSIENT);
}

/* Binds a field that must be kept whole (sealed text, JSON): v ends within its `size`-byte
 * array, as every record field does. */
static int bind_whole(sqlite3_stmt *s, int i, const char *v, size_t size)
{
    return sqlite3_bind_text(s, i, v, (int)strnlen(v, size - 1), SQLITE_TRANSIENT);
}

static void col_text(sqlite3_stmt *s, int i, char *dst, size_t size)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    dm_strlcpy(dst, t ? (const char *)t : "", size);
}

#define COL_TEXT(s, i, field) col_text(s, i, field, sizeof(field))

/* Runs a statement that returns no rows; *changes (may be NULL) gets the rows it changed. */
static dm_err stmt_exec(struct conn *c, sqlite3_stmt *s, int *changes, const char *what,
                        struct dm_error *err)
{
    int rc = sqlite3_step(s);
    dm_err e = rc == SQLITE_DONE || rc == SQLITE_ROW ? DM_OK : db_fail(c, err, what);
    if (changes) *changes = sqlite3_changes(c->db);
    stmt_put(s);
    return e;
}

/* Steps once. DM_OK with *row true: a row is there to read, and the caller calls stmt_put(s)
 * after reading it. Otherwise (no row, or an error) the statement is already reset. */
static dm_err stmt_row(struct conn *c, sqlite3_stmt *s, bool *row, const char *what,
                       struct dm_error *err)
{
    int rc = sqlite3_step(s);
    *row = rc == SQLITE_ROW;
    if (*row) return DM_OK;
    dm_err e = rc == SQLITE_DONE ? DM_OK : db_fail(c, err, what);
    stmt_put(s);
    return e;
}

static dm_err run_fixed(struct conn *c, enum stmt_id id, const char *what, struct dm_error *err)
{
    sqlite3_stmt *s = NULL;
    dm_err e = stmt_get(c, id, &s, err);
    return e ? e : stmt_exec(c, s, NULL, what, err);
}

static dm_err tx_begin(struct conn *c, struct dm_error *err)
{
    return run_fixed(c, S_BEGIN, "starting a transaction", err);
}

/* Commits when e is DM_OK, else rolls back; returns e or the commit's error. */
static dm_err tx_end(struct conn *c, dm_err e, struct dm_error *err)
{
    if (e == DM_OK) {
        e = run_fixed(c, S_COMMIT, "committing", err);
        if (e == DM_OK) return DM_OK;
    }
    if (!sqlite3_get_autocommit(c->db)) run_fixed(c, S_ROLLBACK, "rolling back", NULL);
    return e;
}

static struct conn *writer_get(struct sqlite_store *s)
{
    pthread_mutex_lock(&s->write_lock);
    return &s->writer;
}

static void writer_put(struct sqlite_store *s)
{
    pthread_mutex_unlock(&s->write_lock);
}

static struct conn *reader_get(struct sqlite_store *s)
{
    pthread_mutex_lock(&s->pool_lock);
    for (;;) {
        for (int i = 0; i < READERS; i++) {
            if (!s->reader_busy[i]) {
                s->reader_busy[i] = true;
                pthread_mutex_unlock(&s->pool_lock);
                return &s->readers[i];
            }
        }
        pthread_cond_wait(&s->pool_free, &s->pool_lock);
    }
}

static void reader_put(struct sqlite_store *s, struct conn *c)
{
    pthread_mutex_lock(&s->pool_lock);
    s->reader_busy[c - s->readers] = false;
    pthread_cond_signal(&s->pool_free);
    pthread_mutex_unlock(&s->pool_lock);
}

static int64_t before_key(int64_t before_id)
{
    return before_id > 0 ? before_id : INT64_MAX;
}

/* ---- filters ---- */

/* The lowercase of a capital letter c (a code point below U+0800), or c itself. */
static unsigned fold_cp(unsigned c)
{
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3AB && c != 0x3A2) ||
        (c >= 0x410 && c <= 0x42F))
        return c + 0x20; /* Latin-1, Greek, Cyrillic */
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    if (c >= 0x531 && c <= 0x556) return c + 0x30; /* Armenian */
    if (c == 0x178) return 0xFF;
    if (c == 0x386) return 0x3AC;
    if (c >= 0x388 && c <= 0x38A) return c + 0x25;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x38E || c == 0x38F) return c + 0x3F;
    /* blocks of upper/lower pairs (Latin Extended-A, Cyrillic extensions) */
    bool even_upper = (c >= 0x100 && c <= 0x137 && c != 0x130) || (c >= 0x14A && c <= 0x177) ||
                      (c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) ||
                      (c >= 0x4D0 && c <= 0x4FF);
    bool odd_upper =
        (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E) || (c >= 0x4C1 && c <= 0x4CE);
    return (even_upper && c % 2 == 0) || (odd_upper && c % 2 == 1) ? c + 1 : c;
}

/* Lowercases UTF-8 text in place: ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic and
 * Armenian capitals. Every mapping keeps the byte length; other bytes are left alone. SQLite's
 * own LIKE folds ASCII only, so names are stored folded (column search) and q is folded too. */
static void fold_case(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        if (*p >= 'A' && *p <= 'Z') {
            *p++ += 'a' - 'A';
        } else if ((p[0] & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
            unsigned cp = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
            unsigned lo = fold_cp(cp);
            p[0] = (unsigned char)(0xC0 | (lo >> 6));
            p[1] = (unsigned char)(0x80 | (lo & 0x3F));
            p += 2;
        } else {
            p++;
        }
    }
}

/* Reads f (NULL = no filter) into a shape and the values to bind. */
static void filter_args_init(struct filter_args *a, const struct store_request_filter *f)
{
    memset(a, 0, sizeof *a);
    a->status = -1;
    if (!f) return;
    a->status = f->status;
    a->chat_id = f->chat_id;
    a->date_from = f->date_from;
    a->date_to = f->date_to;
    a->shape = (f->status >= 0 ? F_STATUS : 0) | (f->chat_id ? F_CHAT : 0) |
               (f->date_from ? F_FROM : 0) | (f->date_to ? F_TO : 0);
    size_t qlen = strnlen(f->q, sizeof f->q - 1);
    if (qlen == 0) return;

    a->shape |= F_TEXT;
    char q[sizeof f->q];
    memcpy(q, f->q, qlen);
    q[qlen] = 0;
    fold_case(q);
    size_t o = 0;
    a->pattern[o++] = '%';
    for (size_t i = 0; i < qlen; i++) {
        char ch = q[i];
        if (ch == '%' || ch == '_' || ch == '\\') a->pattern[o++] = '\\';
        a->pattern[o++] = ch;
    }
    a->pattern[o++] = '%';
    a->pattern[o] = 0;

    bool digits = true;
    for (size_t i = 0; i < qlen && digits; i++)
        digits = f->q[i] >= '0' && f->q[i] <= '9';
    if (digits) {
        errno = 0;
        a->user_id = strtoll(f->q, NULL, 10);
        if (errno == 0) a->shape |= F_USER;
    }
}

/* Appends the filter's conditions (" AND …") for `shape`. Parameters: ?2 status, ?3 chat,
 * ?4 from, ?5 to, ?6 pattern, ?7 user id. A list pages by id, so it must not pick the date
 * index over the id order: `+` keeps the date terms off indexes there. */
static dm_err filter_sql(struct buf *b, unsigned shape, bool list)
{
    dm_err e = DM_OK;
    if (shape & F_STATUS) e = e ? e : buf_puts(b, " AND r.status = ?2");
    if (shape & F_CHAT) e = e ? e : buf_puts(b, " AND r.chat_id = ?3");
    if (shape & F_FROM) e = e ? e : buf_printf(b, " AND %sr.tg_date >= ?4", list ? "+" : "");
    if (shape & F_TO) e = e ? e : buf_printf(b, " AND %sr.tg_date <= ?5", list ? "+" : "");
    if (shape & F_TEXT)
        e = e ? e
              : buf_printf(b, " AND (r.search LIKE ?6 ESCAPE '\\'%s)",
                           shape & F_USER ? " OR r.user_id = ?7" : "");
    return e;
}

static int filter_bind(sqlite3_stmt *s, const struct filter_args *a, unsigned shape)
{
    int rc = SQLITE_OK;
    if (shape & F_STATUS) rc |= sqlite3_bind_int(s, 2, a->status);
    if (shape & F_CHAT) rc |= sqlite3_bind_int64(s, 3, a->chat_id);
    if (shape & F_FROM) rc |= sqlite3_bind_int64(s, 4, a->date_from);
    if (shape & F_TO) rc |= sqlite3_bind_int64(s, 5, a->date_to);
    if (shape & F_TEXT) rc |= sqlite3_bind_text(s, 6, a->pattern, -1, SQLITE_STATIC);
    if (shape & F_USER) rc |= sqlite3_bind_int64(s, 7, a->user_id);
    return rc;
}

/* Prepares head + filter conditions + tail; *out is owned by the caller (or a cache). */
static dm_err filter_prepare(struct conn *c, const char *head, unsigned shape, bool list,
                             const char *tail, sqlite3_stmt **out, struct dm_error *err)
{
    struct buf b;
    buf_init(&b, FILTER_SQL_MAX);
    dm_err e = buf_puts(&b, head);
    if (!e) e = filter_sql(&b, shape, list);
    if (!e) e = buf_puts(&b, tail);
    if (e) {
        buf_release(&b);
        return dm_fail(err, e, "could not build a request query: %s", dm_strerror(e));
    }
    int rc = sqlite3_prepare_v3(c->db, b.data, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    buf_release(&b);
    return rc == SQLITE_OK ? DM_OK : db_fail(c, err, "preparing a request query");
}

/* ---- rows ---- */

static void row_request(sqlite3_stmt *s, void *row)
{
    struct store_request *r = row;
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(s, 0);
    r->chat_id = sqlite3_column_int64(s, 1);
    r->user_id = sqlite3_column_int64(s, 2);
    COL_TEXT(s, 3, r->first_name);
    COL_TEXT(s, 4, r->last_name);
    COL_TEXT(s, 5, r->username);
    COL_TEXT(s, 6, r->bio);
    COL_TEXT(s, 7, r->invite_link);
    r->tg_date = sqlite3_column_int64(s, 8);
    r->status = sqlite3_column_int(s, 9);
    r->created_at = sqlite3_column_int64(s, 10);
    r->decided_at = sqlite3_column_int64(s, 11);
    COL_TEXT(s, 12, r->decided_by);
    COL_TEXT(s, 13, r->decided_via);
    COL_TEXT(s, 14, r->last_error);
    COL_TEXT(s, 15, r->chat_title);
}

static void row_job(sqlite3_stmt *s, void *row)
{
    struct store_job *j = row;
    memset(j, 0, sizeof *j);
    j->id = sqlite3_column_int64(s, 0);
    j->kind = sqlite3_column_int(s, 1);
    j->state = sqlite3_column_int(s, 2);
    COL_TEXT(s, 3, j->via);
    COL_TEXT(s, 4, j->admin);
    COL_TEXT(s, 5, j->description);
    j->total = sqlite3_column_int64(s, 6);
    j->done = sqlite3_column_int64(s, 7);
    j->skipped = sqlite3_column_int64(s, 8);
    j->failed = sqlite3_column_int64(s, 9);
    j->created_at = sqlite3_column_int64(s, 10);
    j->updated_at = sqlite3_column_int64(s, 11);
    j->finished_at = sqlite3_column_int64(s, 12);
    j->wait_until = sqlite3_column_int64(s, 13);
    COL_TEXT(s, 14, j->error);
    COL_TEXT(s, 15, j->params);
    COL_TEXT(s, 16, j->cursor);
}

static void row_session(sqlite3_stmt *s, void *row)
{
    struct store_session *x = row;
    memset(x, 0, sizeof *x);
    COL_TEXT(s, 0, x->name);
    x->is_bot = sqlite3_column_int(s, 1) != 0;
    x->api_id = sqlite3_column_int(s, 2);
    COL_TEXT(s, 3, x->api_hash_sealed);
    COL_TEXT(s, 4, x->phone);
    x->dc_id = sqlite3_column_int(s, 5);
    x->account_id = sqlite3_column_int64(s, 6);
    COL_TEXT(s, 7, x->first_name);
    COL_TEXT(s, 8, x->last_name);
    COL_TEXT(s, 9, x->username);
    COL_TEXT(s, 10, x->account_phone);
    x->premium = sqlite3_column_int(s, 11) != 0;
    x->status = sqlite3_column_int(s, 12);
    COL_TEXT(s, 13, x->status_reason);
    x->last_check_at = sqlite3_column_int64(s, 14);
    COL_TEXT(s, 15, x->last_error);
    x->created_at = sqlite3_column_int64(s, 16);
}

static void row_login(sqlite3_stmt *s, void *row)
{
    struct store_login *l = row;
    memset(l, 0, sizeof *l);
    COL_TEXT(s, 0, l->id);
    COL_TEXT(s, 1, l->name);
    COL_TEXT(s, 2, l->phone);
    l->state = sqlite3_column_int(s, 3);
    COL_TEXT(s, 4, l->hint);
    COL_TEXT(s, 5, l->sealed);
    l->created_at = sqlite3_column_int64(s, 6);
    l->expires_at = sqlite3_column_int64(s, 7);
}

static void row_item(sqlite3_stmt *s, void *row)
{
    struct store_item *it = row;
    memset(it, 0, sizeof *it);
    it->job_id = sqlite3_column_int64(s, 0);
    it->request_id = sqlite3_column_int64(s, 1);
    it->chat_id = sqlite3_column_int64(s, 2);
    it->user_id = sqlite3_column_int64(s, 3);
    it->request_status = sqlite3_column_int(s, 4);
    it->outcome = sqlite3_column_int(s, 5);
    COL_TEXT(s, 6, it->error);
}

static void row_audit(sqlite3_stmt *s, void *row)
{
    struct store_audit *a = row;
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(s, 0);
    a->at = sqlite3_column_int64(s, 1);
    COL_TEXT(s, 2, a->admin);
    COL_TEXT(s, 3, a->action);
    a->request_id = sqlite3_column_int64(s, 4);
    a->chat_id = sqlite3_column_int64(s, 5);
    a->user_id = sqlite3_column_int64(s, 6);
    a->job_id = sqlite3_column_int64(s, 7);
    COL_TEXT(s, 8, a->via);
    COL_TEXT(s, 9, a->result);
    COL_TEXT(s, 10, a->detail);
}

typedef void (*row_fn)(sqlite3_stmt *s, void *out);

/* Steps a bound statement into out[0..limit) of `size`-byte records; resets it. */
static dm_err rows_read(struct conn *c, sqlite3_stmt *s, row_fn fn, void *out, size_t size,
                        int limit, int *n, const char *what, struct dm_error *err)
{
    int rc = SQLITE_ROW;
    *n = 0;
    while (*n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        fn(s, (char *)out + (size_t)*n * size);
        (*n)++;
    }
    dm_err e = rc == SQLITE_ROW || rc == SQLITE_DONE ? DM_OK : db_fail(c, err, what);
    stmt_put(s);
    return e;
}

/* The key of a one-row read: ?1 is the text `text` (cut to `size`) or, when text is NULL, the
 * integer `id`; ?2 is `now` when `timed`. */
struct key {
    const char *text;
    size_t size;
    int64_t id;
    bool timed;
    int64_t now;
};

/* Reads one row of a fixed statement on a reader into out with fn. DM_ENOTFOUND (with `missing`
 * as the message) when there is none. */
static dm_err read_one(struct sqlite_store *s, enum stmt_id id, const struct key *k, row_fn fn,
                       void *out, const char *what, const char *missing, struct dm_error *err)
{
    struct conn *c = reader_get(s);
    sqlite3_stmt *q = NULL;
    bool row = false;
    dm_err e = stmt_get(c, id, &q, err);
    if (!e)
        e = (k->text ? bind_field(q, 1, k->text, k->size) : sqlite3_bind_int64(q, 1, k->id)) |
                    (k->timed ? sqlite3_bind_int64(q, 2, k->now) : SQLITE_OK)
                ? db_fail(c, err, "binding")
                : stmt_row(c, q, &row, what, err);
    if (!e && row) {
        fn(q, out);
        stmt_put(q);
    } else if (!e) {
        e = dm_fail(err, DM_ENOTFOUND, "%s", missing);
    }
    reader_put(s, c);
    return e;
}

/* Reads every row of a fixed statement (no parameters) on a reader into a malloc'd array of
 * `size`-byte records, *out (the caller frees it); DM_ETOOBIG past `max` rows ("more than
 * <max> <too_many>"). `what` names the rows ("chats"). */
static dm_err read_all(struct sqlite_store *s, enum stmt_id id, row_fn fn, size_t size, size_t max,
                       const char *too_many, const char *what, void **out, size_t *n,
                       struct dm_error *err)
{
    struct conn *c = reader_get(s);
    char *v = NULL;
    size_t len = 0, alloc = 0;
    sqlite3_stmt *q = NULL;
    int rc = SQLITE_DONE;
    dm_err e = stmt_get(c, id, &q, err);
    while (!e && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == max) {
            e = dm_fail(err, DM_ETOOBIG, "more than %zu %s", max, too_many);
        } else if (len == alloc) {
            size_t na = DM_MIN(alloc ? alloc * 2 : 16, max);
            char *nv = realloc(v, na * size);
            if (!nv)
                e = dm_fail(err, DM_ENOMEM, "out of memory listing %s", what);
            else
                v = nv, alloc = na;
        }
        if (!e) fn(q, v + len++ * size);
    }
    if (!e && rc != SQLITE_DONE) {
        char doing[64];
        snprintf(doing, sizeof doing, "listing %s", what);
        e = db_fail(c, err, doing);
    }
    if (q) stmt_put(q);
    reader_put(s, c);
    if (e) {
        free(v);
        return e;
    }
    *out = v;
    *n = len;
    return DM_OK;
}

/* ---- open and close ---- */

static void conn_close(struct conn *c)
{
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(c->stmts[i]);
    for (int i = 0; i < F_SHAPES; i++) {
        sqlite3_finalize(c->list[i]);
        sqlite3_finalize(c->counts[i]);
    }
    sqlite3_close(c->db);
    memset(c, 0, sizeof *c);
}

static dm_err conn_open(struct conn *c, const char *path, bool readonly, struct dm_error *err)
{
    int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
    memset(c, 0, sizeof *c);
    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        dm_err e = dm_fail(err, DM_EDB, "cannot open database %s: %s", path,
                           c->db ? sqlite3_errmsg(c->db) : "out of memory");
        conn_close(c);
        return e;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    const char *pragmas = readonly ? "PRAGMA cache_size = -8192"
                                   : "PRAGMA cache_size = -8192; PRAGMA foreign_keys = ON;"
                                     "PRAGMA synchronous = NORMAL";
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
        dm_err e = db_fail(c, err, "configuring the connection");
        conn_close(c);
        return e;
    }
    return DM_OK;
}

static dm_err wal_enable(struct conn *c, const char *path, struct dm_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK)
        return db_fail(c, err, "switching to WAL mode");
    int rc = sqlite3_step(s);
    const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;
    dm_err e = DM_OK;
    if (rc != SQLITE_ROW)
        e = db_fail(c, err, "switching to WAL mode");
    else if (!mode || strcmp((const char *)mode, "wal") != 0)
        e = dm_fail(err, DM_EDB,
                    "database %s cannot use WAL mode (journal mode stays '%s'); put it on a "
                    "local file system",
                    path, mode ? (const char *)mode : "?");
    sqlite3_finalize(s);
    return e;
}

static dm_err migrate(struct conn *c, struct dm_error *err)
{
    const int latest = (int)DM_ARRAY_LEN(migrations);
    /* a migration may rebuild a table that others reference: foreign keys are off while the
     * migrations run (the pragma is a no-op inside a transaction) and checked before COMMIT */
    if (sqlite3_exec(c->db, "PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE", NULL, NULL, NULL) !=
        SQLITE_OK)
        return db_fail(c, err, "starting the schema migration");
    dm_err e = DM_OK;
    sqlite3_stmt *s = NULL;
    if (sqlite3_exec(c->db,
                     "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                     "applied_at INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "SELECT coalesce(max(version), 0) FROM schema_version", -1, &s,
                           NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        e = db_fail(c, err, "reading the schema version");
        goto out;
    }
    int have = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    s = NULL;
    if (have > latest) {
        e = dm_fail(err, DM_EDB,
                    "the database has schema version %d but this doorman knows only up to %d: "
                    "use a newer doorman or restore a backup",
                    have, latest);
        goto out;
    }
    for (int v = have + 1; v <= latest; v++) {
        if (sqlite3_exec(c->db, migrations[v - 1], NULL, NULL, NULL) != SQLITE_OK) {
            e = db_fail(c, err, "migrating the schema");
            goto out;
        }
        char sql[128];
        snprintf(sql, sizeof sql,
                 "INSERT INTO schema_version(version, applied_at) VALUES (%d, CAST(strftime('%%s', "
                 "'now') AS INTEGER))",
                 v);
        if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            e = db_fail(c, err, "recording the schema version");
            goto out;
        }
    }
    if (sqlite3_prepare_v2(c->db, "PRAGMA foreign_key_check", -1, &s, NULL) != SQLITE_OK) {
        e = db_fail(c, err, "checking foreign keys after the migration");
        goto out;
    }
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        e = dm_fail(err, DM_EDB, "the schema migration broke a reference from table %s",
                    (const char *)sqlite3_column_text(s, 0));
    else if (rc != SQLITE_DONE)
        e = db_fail(c, err, "checking foreign keys after the migration");
out:
    sqlite3_finalize(s);
    if (e == DM_OK && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        e = db_fail(c, err, "committing the schema migration");
    if (e != DM_OK && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    if (sqlite3_exec(c->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK && !e)
        e = db_fail(c, err, "turning foreign keys back on");
    return e;
}

static void sq_close(struct store *st)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    if (!s) return;
    for (int i = 0; i < READERS; i++)
        conn_close(&s->readers[i]);
    conn_close(&s->writer);
    pthread_mutex_destroy(&s->write_lock);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_cond_destroy(&s->pool_free);
    free(s);
}

static dm_err sq_open(const char *path, struct store **out, struct dm_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return dm_fail(err, DM_EINVAL, "the database path is empty: give a file path");
    if (!sqlite3_threadsafe())
        return dm_fail(err, DM_EDB, "this SQLite library was built without thread support");

    /* create it private before SQLite does; -wal and -shm files copy its mode */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return dm_fail(err, DM_EIO, "cannot open database file %s: %s", path, strerror(errno));
    close(fd);

    struct sqlite_store *s = calloc(1, sizeof *s);
    if (!s) return dm_fail(err, DM_ENOMEM, "out of memory opening the database");
    s->base.ops = &store_sqlite_ops;
    pthread_mutex_init(&s->write_lock, NULL);
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_cond_init(&s->pool_free, NULL);

    dm_err e = conn_open(&s->writer, path, false, err);
    if (!e) e = wal_enable(&s->writer, path, err);
    if (!e) e = migrate(&s->writer, err);
    for (int i = 0; i < READERS && !e; i++)
        e = conn_open(&s->readers[i], path, true, err);
    if (e) {
        sq_close(&s->base);
        return e;
    }
    *out = &s->base;
    return DM_OK;
}

/* ---- admins and web sessions ---- */

static dm_err sq_admin_create(struct store *st, const char *name, const char *pw_hash, int64_t now,
                              int64_t *id, struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    dm_err e = stmt_get(c, S_ADMIN_CREATE, &q, err);
    if (!e) {
        int b = bind_field(q, 1, name, STORE_NAME_MAX) | bind_field(q, 2, pw_hash, STORE_HASH_MAX) |
                sqlite3_bind_int64(q, 3, now);
        e = b ? db_fail(c, err, "binding") : stmt_exec(c, q, NULL, "creating an admin", err);
        if (e == DM_EEXISTS)
            dm_fail(err, e, "an admin named '%s' already exists", name);
        else if (!e && id)
            *id = sqlite3_last_insert_rowid(c->db);
    }
    writer_put(s);
    return e;
}

static void row_admin(sqlite3_stmt *q, void *row)
{
    struct store_admin *out = row;
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(q, 0);
    COL_TEXT(q, 1, out->name);
    COL_TEXT(q, 2, out->pw_hash);
    out->created_at = sqlite3_column_int64(q, 3);
}

static dm_err sq_admin_get(struct store *st, const char *name, struct store_admin *out,
                           struct dm_error *err)
{
    char missing[sizeof err->msg];
    snprintf(missing, sizeof missing, "no admin named '%s'", name);
    return read_one((struct sqlite_store *)st, S_ADMIN_GET,
                    &(struct key){.text = name, .size = STORE_NAME_MAX}, row_admin, out,
                    "reading an admin", missing, err);
}

/* Runs a one-row, one-integer query on a reader. */
static dm_err read_int64(struct sqlite_store *s, enum stmt_id id, int64_t *v, const char *what,
                         struct dm_error *err)
{
    struct conn *c = reader_get(s);
    sqlite3_stmt *q = NULL;
    bool row = false;
    dm_err e = stmt_get(c, id, &q, err);
    if (!e) e = stmt_row(c, q, &row, what, err);
    if (!e) *v = row ? sqlite3_column_int64(q, 0) : 0;
    if (row) stmt_put(q);
    reader_put(s, c);
    return e;
}

static dm_err sq_admin_count(struct store *st, int64_t *n, struct dm_error *err)
{
    return read_int64((struct sqlite_store *)st, S_ADMIN_COUNT, n, "counting admins", err);
}

static dm_err sq_admin_set_password(struct store *st, int64_t id, const char *pw_hash,
                                    struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int changes = 0;
    dm_err e = stmt_get(c, S_ADMIN_SET_PASSWORD, &q, err);
    if (!e) {
        int b = sqlite3_bind_int64(q, 1, id) | bind_field(q, 2, pw_hash, STORE_HASH_MAX);
        e = b ? db_fail(c, err, "binding") : stmt_exec(c, q, &changes, "setting a password", err);
    }
    if (!e && changes == 0) e = dm_fail(err, DM_ENOTFOUND, "no admin with id %" PRId64, id);
    writer_put(s);
    return e;
}

static dm_err sq_websession_create(struct store *st, const struct store_websession *ws,
                                   struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    dm_err e = tx_begin(c, err);
    /* sessions that ended are of no use to anyone: drop them while we are here */
    if (!e) e = stmt_get(c, S_WS_PURGE, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, ws->created_at)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, NULL, "removing expired sessions", err);
    if (!e) e = stmt_get(c, S_WS_CREATE, &q, err);
    if (!e) {
        int b = bind_field(q, 1, ws->token_hash, sizeof ws->token_hash) |
                sqlite3_bind_int64(q, 2, ws->admin_id) |
                bind_field(q, 3, ws->csrf, sizeof ws->csrf) |
                sqlite3_bind_int64(q, 4, ws->created_at) | sqlite3_bind_int64(q, 5, ws->expires_at);
        e = b ? db_fail(c, err, "binding") : stmt_exec(c, q, NULL, "creating a web session", err);
    }
    e = tx_end(c, e, err);
    writer_put(s);
    return e;
}

static void row_websession(sqlite3_stmt *q, void *row)
{
    struct store_websession *out = row;
    memset(out, 0, sizeof *out);
    COL_TEXT(q, 0, out->token_hash);
    out->admin_id = sqlite3_column_int64(q, 1);
    COL_TEXT(q, 2, out->admin_name);
    COL_TEXT(q, 3, out->csrf);
    out->created_at = sqlite3_column_int64(q, 4);
    out->expires_at = sqlite3_column_int64(q, 5);
}

static dm_err sq_websession_get(struct store *st, const char *token_hash, int64_t now,
                                struct store_websession *out, struct dm_error *err)
{
    struct key k = {.text = token_hash, .size = sizeof out->token_hash, .timed = true, .now = now};
    return read_one((struct sqlite_store *)st, S_WS_GET, &k, row_websession, out,
                    "reading a web session", "the session does not exist or has expired", err);
}

/* Runs a fixed one-statement write that binds one text key (cut to `size`; 0: not cut). */
static dm_err write_by_key(struct sqlite_store *s, enum stmt_id id, const char *key, size_t size,
                           const char *what, struct dm_error *err)
{
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    dm_err e = stmt_get(c, id, &q, err);
    if (!e) {
        int b =
            size ? bind_field(q, 1, key, size) : sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
        e = b ? db_fail(c, err, "binding") : stmt_exec(c, q, NULL, what, err);
    }
    writer_put(s);
    return e;
}

static dm_err sq_websession_delete(struct store *st, const char *token_hash, struct dm_error *err)
{
    return write_by_key((struct sqlite_store *)st, S_WS_DELETE, token_hash,
                        sizeof((struct store_websession *)0)->token_hash, "deleting a web session",
                        err);
}

/* ---- settings ---- */

static dm_err sq_setting_get(struct store *st, const char *key, char **value, struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = reader_get(s);
    sqlite3_stmt *q = NULL;
    bool row = false;
    *value = NULL;
    dm_err e = stmt_get(c, S_SETTING_GET, &q, err);
    if (!e)
        e = sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC) ? db_fail(c, err, "binding") : DM_OK;
    if (!e) e = stmt_row(c, q, &row, "reading a setting", err);
    if (!e && row) {
        const unsigned char *t = sqlite3_column_text(q, 0);
        *value = strdup(t ? (const char *)t : "");
        if (!*value) e = dm_fail(err, DM_ENOMEM, "out of memory reading setting '%s'", key);
        stmt_put(q);
    } else if (!e) {
        e = dm_fail(err, DM_ENOTFOUND, "setting '%s' is not set", key);
    }
    reader_put(s, c);
    return e;
}

static dm_err sq_setting_set(struct store *st, const char *key, const char *value,
                             struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    dm_err e = stmt_get(c, S_SETTING_SET, &q, err);
    if (!e) {
        int b = sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC) |
                sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
        /* never name the value: settings may hold secrets */
        e = b ? db_fail(c, err, "binding") : stmt_exec(c, q, NULL, "saving a setting", err);
    }
    writer_put(s);
    return e;
}

static dm_err sq_setting_delete(struct store *st, const char *key, struct dm_error *err)
{
    return write_by_key((struct sqlite_store *)st, S_SETTING_DELETE, key, 0, "deleting a setting",
                        err);
}

/* ---- chats ---- */

static void row_chat(sqlite3_stmt *q, void *row)
{
    struct store_chat *out = row;
    memset(out, 0, sizeof *out);
    out->chat_id = sqlite3_column_int64(q, 0);
    COL_TEXT(q, 1, out->title);
    COL_TEXT(q, 2, out->username);
    out->fetched_at = sqlite3_column_int64(q, 3);
}

static dm_err sq_chat_get(struct store *st, int64_t chat_id, struct store_chat *out,
                          struct dm_error *err)
{
    char missing[64];
    snprintf(missing, sizeof missing, "chat %" PRId64 " is not known", chat_id);
    return read_one((struct sqlite_store *)st, S_CHAT_GET, &(struct key){.id = chat_id}, row_chat,
                    out, "reading a chat", missing, err);
}

static dm_err sq_chat_put(struct store *st, const struct store_chat *ch, struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    dm_err e = stmt_get(c, S_CHAT_PUT, &q, err);
    if (!e) {
        int b = sqlite3_bind_int64(q, 1, ch->chat_id) |
                bind_field(q, 2, ch->title, sizeof ch->title) |
                bind_field(q, 3, ch->username, sizeof ch->username) |
                sqlite3_bind_int64(q, 4, ch->fetched_at);
        e = b ? db_fail(c, err, "binding") : stmt_exec(c, q, NULL, "saving a chat", err);
    }
    writer_put(s);
    return e;
}

static dm_err sq_chat_list(struct store *st, struct store_chat **out, size_t *n,
                           struct dm_error *err)
{
    void *v = NULL;
    dm_err e = read_all((struct sqlite_store *)st, S_CHAT_LIST, row_chat, sizeof **out,
                        CHAT_LIST_MAX, "chats have requests", "chats", &v, n, err);
    if (!e) *out = v;
    return e;
}

/* ---- requests ---- */

/* Inserts a request on c (alone or inside the caller's transaction). */
static dm_err request_insert(struct conn *c, const struct store_request *r, bool *inserted,
                             struct dm_error *err)
{
    char search[sizeof r->first_name + sizeof r->last_name + sizeof r->username];
    snprintf(search, sizeof search, "%s\n%s\n%s", r->first_name, r->last_name, r->username);
    fold_case(search);
    sqlite3_stmt *q = NULL;
    int changes = 0;
    dm_err e = stmt_get(c, S_REQUEST_ADD, &q, err);
    if (!e) {
        int b = sqlite3_bind_int64(q, 1, r->chat_id) | sqlite3_bind_int64(q, 2, r->user_id) |
                bind_field(q, 3, r->first_name, sizeof r->first_name) |
                bind_field(q, 4, r->last_name, sizeof r->last_name) |
                bind_field(q, 5, r->username, sizeof r->username) |
                bind_field(q, 6, r->bio, sizeof r->bio) |
                bind_field(q, 7, r->invite_link, sizeof r->invite_link) |
                sqlite3_bind_int64(q, 8, r->tg_date) | sqlite3_bind_int(q, 9, r->status) |
                sqlite3_bind_int64(q, 10, r->created_at) |
                sqlite3_bind_int64(q, 11, r->decided_at) |
                bind_field(q, 12, r->decided_by, sizeof r->decided_by) |
                bind_field(q, 13, r->decided_via, sizeof r->decided_via) |
                bind_field(q, 14, r->last_error, sizeof r->last_error) |
                sqlite3_bind_text(q, 15, search, -1, SQLITE_STATIC);
        e = b ? db_fail(c, err, "binding")
              : stmt_exec(c, q, &changes, "recording a join request", err);
    }
    if (inserted) *inserted = !e && changes > 0;
    return e;
}

static dm_err sq_request_add(struct store *st, const struct store_request *r, bool *inserted,
                             struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    dm_err e = request_insert(c, r, inserted, err);
    writer_put(s);
    return e;
}

static dm_err sq_request_get(struct store *st, int64_t id, struct store_request *out,
                             struct dm_error *err)
{
    char missing[64];
    snprintf(missing, sizeof missing, "no join request with id %" PRId64, id);
    return read_one((struct sqlite_store *)st, S_REQUEST_GET, &(struct key){.id = id}, row_request,
                    out, "reading a join request", missing, err);
}

static dm_err sq_request_list(struct store *st, const struct store_request_filter *f,
                              int64_t before_id, int limit, struct store_request *out, int *n,
                              struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct filter_args a;
    *n = 0;
    if (limit <= 0) return DM_OK;
    filter_args_init(&a, f);
    struct conn *c = reader_get(s);
    sqlite3_stmt **q = &c->list[a.shape];
    dm_err e = *q ? DM_OK
                  : filter_prepare(c, "SELECT " REQUEST_COLS REQUEST_FROM " WHERE r.id < ?1",
                                   a.shape, true, " ORDER BY r.id DESC LIMIT ?8", q, err);
    if (!e) {
        int b = filter_bind(*q, &a, a.shape) | sqlite3_bind_int64(*q, 1, before_key(before_id)) |
                sqlite3_bind_int(*q, 8, limit);
        e = b ? db_fail(c, err, "binding")
              : rows_read(c, *q, row_request, out, sizeof *out, limit, n, "listing join requests",
                          err);
    }
    reader_put(s, c);
    return e;
}

static dm_err sq_request_counts(struct store *st, const struct store_request_filter *f,
                                int64_t counts[REQ_STATUS_COUNT], struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct filter_args a;
    filter_args_init(&a, f);
    a.shape &= ~(unsigned)F_STATUS;
    for (int i = 0; i < REQ_STATUS_COUNT; i++)
        counts[i] = 0;
    struct conn *c = reader_get(s);
    sqlite3_stmt **q = &c->counts[a.shape];
    /* no filter, or only a chat: the trigger-kept totals answer without scanning requests */
    bool kept = (a.shape & ~(unsigned)F_CHAT) == 0;
    dm_err e =
        *q ? DM_OK
           : filter_prepare(c,
                            kept ? "SELECT r.status, sum(r.n) FROM request_counts r WHERE 1"
                                 : "SELECT r.status, count(*) FROM invite_requests r WHERE 1",
                            a.shape, false, " GROUP BY r.status", q, err);
    int rc = SQLITE_DONE;
    if (!e && filter_bind(*q, &a, a.shape)) e = db_fail(c, err, "binding");
    while (!e && (rc = sqlite3_step(*q)) == SQLITE_ROW) {
        int status = sqlite3_column_int(*q, 0);
        if (status >= 0 && status < REQ_STATUS_COUNT) counts[status] = sqlite3_column_int64(*q, 1);
    }
    if (!e && rc != SQLITE_DONE) e = db_fail(c, err, "counting join requests");
    if (*q) stmt_put(*q);
    reader_put(s, c);
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

static dm_err job_insert(struct conn *c, const struct store_job *job, int64_t now, int64_t *id,
                         struct dm_error *err)
{
    sqlite3_stmt *q = NULL;
    dm_err e = stmt_get(c, S_JOB_INSERT, &q, err);
    if (e) return e;
    int b = sqlite3_bind_int(q, 1, job->kind) | bind_field(q, 2, job->via, sizeof job->via) |
            bind_field(q, 3, job->admin, sizeof job->admin) |
            bind_field(q, 4, job->description, sizeof job->description) |
            sqlite3_bind_int64(q, 5, now) | bind_whole(q, 6, job->params, sizeof job->params);
    e = b ? db_fail(c, err, "binding") : stmt_exec(c, q, NULL, "creating a job", err);
    if (!e) *id = sqlite3_last_insert_rowid(c->db);
    return e;
}

static dm_err job_set_total(struct conn *c, int64_t id, int64_t total, struct dm_error *err)
{
    sqlite3_stmt *q = NULL;
    dm_err e = stmt_get(c, S_JOB_SET_TOTAL, &q, err);
    if (e) return e;
    return sqlite3_bind_int64(q, 1, id) | sqlite3_bind_int64(q, 2, total)
               ? db_fail(c, err, "binding")
               : stmt_exec(c, q, NULL, "counting a job's items", err);
}

static dm_err sq_job_create_ids(struct store *st, const struct store_job *job, const int64_t *ids,
                                size_t n, int64_t now, int64_t *id, struct dm_error *err)
{
    if (n == 0) return dm_fail(err, DM_EINVAL, "a job needs at least one request");
    if (!decision_kind(job->kind, err)) return DM_EINVAL;
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int64_t job_id = 0, total = 0;
    dm_err e = tx_begin(c, err);
    if (!e) e = stmt_get(c, S_REQUEST_EXISTS, &q, err);
    for (size_t i = 0; i < n && !e; i++) {
        bool row = false;
        e = sqlite3_bind_int64(q, 1, ids[i]) ? db_fail(c, err, "binding")
                                             : stmt_row(c, q, &row, "checking a request", err);
        if (!e && row) stmt_put(q);
        if (!e && !row) e = dm_fail(err, DM_ENOTFOUND, "no join request with id %" PRId64, ids[i]);
    }
    if (!e) e = job_insert(c, job, now, &job_id, err);
    if (!e) e = stmt_get(c, S_JOB_ITEM_ADD, &q, err);
    for (size_t i = 0; i < n && !e; i++) {
        int changes = 0;
        e = sqlite3_bind_int64(q, 1, job_id) | sqlite3_bind_int64(q, 2, ids[i])
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, &changes, "adding a job item", err);
        total += changes; /* a repeated id adds nothing */
    }
    if (!e) e = job_set_total(c, job_id, total, err);
    e = tx_end(c, e, err);
    if (!e) *id = job_id;
    writer_put(s);
    return e;
}

static dm_err sq_job_create_filter(struct store *st, const struct store_job *job,
                                   const struct store_request_filter *f, int64_t now, int64_t *id,
                                   struct dm_error *err)
{
    if (f && f->status != -1 && f->status != REQ_PENDING)
        return dm_fail(err, DM_EINVAL, "a job over a filter takes pending requests only");
    if (!decision_kind(job->kind, err)) return DM_EINVAL;
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct filter_args a;
    filter_args_init(&a, f);
    a.shape |= F_STATUS;
    a.status = REQ_PENDING;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int64_t job_id = 0;
    int total = 0;
    dm_err e = tx_begin(c, err);
    if (!e) e = job_insert(c, job, now, &job_id, err);
    if (!e)
        e = filter_prepare(c,
                           "INSERT INTO job_items(job_id, request_id) SELECT ?9, r.id "
                           "FROM invite_requests r WHERE 1",
                           a.shape, false, "", &q, err);
    if (!e)
        e = filter_bind(q, &a, a.shape) | sqlite3_bind_int64(q, 9, job_id)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, &total, "adding a job's items", err);
    sqlite3_finalize(q);
    if (!e) e = job_set_total(c, job_id, total, err);
    e = tx_end(c, e, err);
    if (!e) *id = job_id;
    writer_put(s);
    return e;
}

static dm_err sq_job_get(struct store *st, int64_t id, struct store_job *out, struct dm_error *err)
{
    char missing[64];
    snprintf(missing, sizeof missing, "no job with id %" PRId64, id);
    return read_one((struct sqlite_store *)st, S_JOB_GET, &(struct key){.id = id}, row_job, out,
                    "reading a job", missing, err);
}

/* Runs a fixed "… WHERE id < ?1 ORDER BY id DESC LIMIT ?2" list on a reader. */
static dm_err read_page(struct sqlite_store *s, enum stmt_id id, int64_t before_id, int limit,
                        row_fn fn, void *out, size_t size, int *n, const char *what,
                        struct dm_error *err)
{
    *n = 0;
    if (limit <= 0) return DM_OK;
    struct conn *c = reader_get(s);
    sqlite3_stmt *q = NULL;
    dm_err e = stmt_get(c, id, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, before_key(before_id)) | sqlite3_bind_int(q, 2, limit)
                ? db_fail(c, err, "binding")
                : rows_read(c, q, fn, out, size, limit, n, what, err);
    reader_put(s, c);
    return e;
}

static dm_err sq_job_list(struct store *st, int64_t before_id, int limit, struct store_job *out,
                          int *n, struct dm_error *err)
{
    return read_page((struct sqlite_store *)st, S_JOB_LIST, before_id, limit, row_job, out,
                     sizeof *out, n, "listing jobs", err);
}

static dm_err sq_job_claim(struct store *st, const char *owner, int64_t now, int64_t lease_until,
                           struct store_job *out, struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    bool row = false;
    dm_err e = stmt_get(c, S_JOB_CLAIM, &q, err);
    if (!e)
        e = bind_field(q, 1, owner, STORE_NAME_MAX) | sqlite3_bind_int64(q, 2, now) |
                    sqlite3_bind_int64(q, 3, lease_until)
                ? db_fail(c, err, "binding")
                : stmt_row(c, q, &row, "claiming a job", err);
    if (!e && row) {
        row_job(q, out);
        e = stmt_exec(c, q, NULL, "claiming a job", err); /* runs to the end and resets */
    } else if (!e) {
        e = dm_fail(err, DM_ENOTFOUND, "no job is waiting");
    }
    writer_put(s);
    return e;
}

/* Reads a job's state, kind, admin and via on c (inside the caller's transaction). */
static dm_err job_info(struct conn *c, int64_t id, int *state, int *kind, char *admin, char *via,
                       struct dm_error *err)
{
    sqlite3_stmt *q = NULL;
    bool row = false;
    dm_err e = stmt_get(c, S_JOB_INFO, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, id) ? db_fail(c, err, "binding")
                                         : stmt_row(c, q, &row, "reading a job", err);
    if (e) return e;
    if (!row) return dm_fail(err, DM_ENOTFOUND, "no job with id %" PRId64, id);
    *state = sqlite3_column_int(q, 0);
    if (kind) *kind = sqlite3_column_int(q, 1);
    if (admin) col_text(q, 2, admin, STORE_NAME_MAX);
    if (via) col_text(q, 3, via, STORE_NAME_MAX);
    stmt_put(q);
    return DM_OK;
}

static dm_err sq_job_renew(struct store *st, int64_t id, const char *owner, int64_t lease_until,
                           struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int changes = 0, state = 0;
    dm_err e = stmt_get(c, S_JOB_RENEW, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, id) | bind_field(q, 2, owner, STORE_NAME_MAX) |
                    sqlite3_bind_int64(q, 3, lease_until)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, &changes, "renewing a job lease", err);
    if (!e && changes == 0) {
        e = job_info(c, id, &state, NULL, NULL, NULL, err);
        if (!e)
            e = dm_fail(err, DM_ECONFLICT,
                        state == JOB_RUNNING ? "job %" PRId64 " is held by another worker"
                                             : "job %" PRId64 " is %s",
                        id, job_state_name(state));
    }
    writer_put(s);
    return e;
}

static dm_err sq_job_items(struct store *st, int64_t job_id, int outcome, int64_t after, int limit,
                           struct store_item *out, int *n, struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    *n = 0;
    if (limit <= 0) return DM_OK;
    struct conn *c = reader_get(s);
    sqlite3_stmt *q = NULL;
    dm_err e = stmt_get(c, S_ITEMS, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, job_id) | sqlite3_bind_int(q, 2, outcome) |
                    sqlite3_bind_int64(q, 3, after) | sqlite3_bind_int(q, 4, limit)
                ? db_fail(c, err, "binding")
                : rows_read(c, q, row_item, out, sizeof *out, limit, n, "listing job items", err);
    reader_put(s, c);
    return e;
}

static dm_err sq_job_next_items(struct store *st, int64_t job_id, int64_t after, int limit,
                                struct store_item *out, int *n, struct dm_error *err)
{
    return sq_job_items(st, job_id, ITEM_PENDING, after, limit, out, n, err);
}

/* Inserts an audit row on c (alone or inside the caller's transaction). */
static dm_err audit_insert(struct conn *c, const struct store_audit *a, struct dm_error *err)
{
    sqlite3_stmt *q = NULL;
    dm_err e = stmt_get(c, S_AUDIT_ADD, &q, err);
    if (e) return e;
    int b = sqlite3_bind_int64(q, 1, a->at) | bind_field(q, 2, a->admin, sizeof a->admin) |
            bind_field(q, 3, a->action, sizeof a->action) |
            sqlite3_bind_int64(q, 4, a->request_id) | sqlite3_bind_int64(q, 5, a->chat_id) |
            sqlite3_bind_int64(q, 6, a->user_id) | sqlite3_bind_int64(q, 7, a->job_id) |
            bind_field(q, 8, a->via, sizeof a->via) |
            bind_field(q, 9, a->result, sizeof a->result) |
            bind_field(q, 10, a->detail, sizeof a->detail);
    return b ? db_fail(c, err, "binding") : stmt_exec(c, q, NULL, "writing the audit log", err);
}

/* The body of job_item_finish, inside its transaction on c. */
static dm_err item_finish(struct conn *c, const struct store_item *it, int64_t now,
                          struct dm_error *err)
{
    sqlite3_stmt *q = NULL;
    bool row = false;
    dm_err e = stmt_get(c, S_ITEM_GET, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, it->job_id) | sqlite3_bind_int64(q, 2, it->request_id)
                ? db_fail(c, err, "binding")
                : stmt_row(c, q, &row, "reading a job item", err);
    if (e) return e;
    if (!row)
        return dm_fail(err, DM_ENOTFOUND, "job %" PRId64 " has no item for request %" PRId64,
                       it->job_id, it->request_id);
    int outcome = sqlite3_column_int(q, 0);
    struct store_audit a = {.request_id = it->request_id, .job_id = it->job_id, .at = now};
    a.chat_id = sqlite3_column_int64(q, 1);
    a.user_id = sqlite3_column_int64(q, 2);
    int req_status = sqlite3_column_int(q, 3);
    stmt_put(q);
    if (outcome != ITEM_PENDING) return DM_OK; /* finished before: leave it as it was */

    int state, kind;
    e = job_info(c, it->job_id, &state, &kind, a.admin, a.via, err);
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
    if (outcome == ITEM_DONE || told) {
        e = stmt_get(c, S_REQUEST_DECIDE, &q, err);
        if (!e)
            e = sqlite3_bind_int64(q, 1, it->request_id) |
                        sqlite3_bind_int(q, 2,
                                         told                  ? it->final_status
                                         : kind == JOB_APPROVE ? REQ_APPROVED
                                                               : REQ_DECLINED) |
                        sqlite3_bind_int64(q, 3, now) | bind_field(q, 4, a.admin, sizeof a.admin) |
                        bind_field(q, 5, a.via, sizeof a.via)
                    ? db_fail(c, err, "binding")
                    : stmt_exec(c, q, NULL, "deciding a join request", err);
    } else if (outcome == ITEM_FAILED) {
        e = stmt_get(c, S_REQUEST_SET_ERROR, &q, err);
        if (!e)
            e = sqlite3_bind_int64(q, 1, it->request_id) |
                        bind_field(q, 2, it->error, sizeof it->error)
                    ? db_fail(c, err, "binding")
                    : stmt_exec(c, q, NULL, "recording a request's error", err);
    }
    if (!e) e = stmt_get(c, S_ITEM_SET, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, it->job_id) | sqlite3_bind_int64(q, 2, it->request_id) |
                    sqlite3_bind_int(q, 3, outcome) | bind_field(q, 4, a.detail, sizeof a.detail)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, NULL, "finishing a job item", err);
    if (!e) e = stmt_get(c, S_JOB_COUNT_ITEM, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, it->job_id) | sqlite3_bind_int(q, 2, outcome) |
                    sqlite3_bind_int64(q, 3, now)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, NULL, "counting a job item", err);
    if (!e) {
        static const char *const results[] = {
            [ITEM_DONE] = "ok", [ITEM_SKIPPED] = "already_handled", [ITEM_FAILED] = "error"};
        dm_strlcpy(a.result, results[outcome], sizeof a.result);
        e = audit_insert(c, &a, err);
    }
    return e;
}

static dm_err sq_job_item_finish(struct store *st, const struct store_item *it, int64_t now,
                                 struct dm_error *err)
{
    if (it->outcome != ITEM_DONE && it->outcome != ITEM_SKIPPED && it->outcome != ITEM_FAILED)
        return dm_fail(err, DM_EINVAL, "a job item cannot finish with outcome %d", it->outcome);
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    dm_err e = tx_begin(c, err);
    if (!e) e = item_finish(c, it, now, err);
    e = tx_end(c, e, err);
    writer_put(s);
    return e;
}

static dm_err sq_job_set_wait(struct store *st, int64_t id, int64_t wait_until, const char *why,
                              struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int changes = 0;
    dm_err e = stmt_get(c, S_JOB_SET_WAIT, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, id) | sqlite3_bind_int64(q, 2, wait_until) |
                    bind_field(q, 3, why ? why : "", STORE_ERROR_MAX)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, &changes, "setting a job's wait", err);
    if (!e && changes == 0) e = dm_fail(err, DM_ENOTFOUND, "no job with id %" PRId64, id);
    writer_put(s);
    return e;
}

static dm_err sq_job_finish(struct store *st, int64_t id, int state, const char *error, int64_t now,
                            struct dm_error *err)
{
    if (state != JOB_DONE && state != JOB_FAILED && state != JOB_CANCELLED)
        return dm_fail(err, DM_EINVAL, "a job cannot finish in state %s", job_state_name(state));
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int changes = 0, old = 0;
    dm_err e = stmt_get(c, S_JOB_FINISH, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, id) | sqlite3_bind_int(q, 2, state) |
                    bind_field(q, 3, error, STORE_ERROR_MAX) | sqlite3_bind_int64(q, 4, now)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, &changes, "finishing a job", err);
    if (!e && changes == 0) {
        e = job_info(c, id, &old, NULL, NULL, NULL, err);
        if (!e)
            e = dm_fail(err, DM_ECONFLICT, "job %" PRId64 " has already finished (%s)", id,
                        job_state_name(old));
    }
    writer_put(s);
    return e;
}

/* ---- load jobs ---- */

static dm_err sq_job_create_load(struct store *st, const struct store_job *job, int64_t now,
                                 int64_t *id, struct dm_error *err)
{
    if (job->kind != JOB_LOAD)
        return dm_fail(err, DM_EINVAL, "job_create_load makes load jobs, not kind %d", job->kind);
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    dm_err e = job_insert(c, job, now, id, err);
    writer_put(s);
    return e;
}

/* The error for a job update that changed nothing because `owner` no longer holds the job. */
static dm_err lease_lost(struct conn *c, int64_t job_id, struct dm_error *err)
{
    int state = 0;
    dm_err e = job_info(c, job_id, &state, NULL, NULL, NULL, err);
    return e ? e
             : dm_fail(err, DM_ECONFLICT,
                       state == JOB_RUNNING ? "job %" PRId64 " is held by another worker"
                                            : "job %" PRId64 " is %s",
                       job_id, job_state_name(state));
}

static dm_err sq_job_load_page(struct store *st, int64_t job_id, const char *owner,
                               const struct store_request *rows, size_t n, const char *cursor,
                               int64_t total, int64_t now, int64_t *added, struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int changes = 0;
    int64_t new_rows = 0;
    dm_err e = tx_begin(c, err);
    if (!e) e = stmt_get(c, S_JOB_LOAD_PAGE, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, job_id) | bind_field(q, 2, owner, STORE_NAME_MAX) |
                    bind_whole(q, 3, cursor ? cursor : "", sizeof((struct store_job *)0)->cursor) |
                    sqlite3_bind_int64(q, 4, total) | sqlite3_bind_int64(q, 5, (int64_t)n) |
                    sqlite3_bind_int64(q, 6, now)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, &changes, "recording a page of a load job", err);
    if (!e && changes == 0) e = lease_lost(c, job_id, err);
    for (size_t i = 0; i < n && !e; i++) {
        bool inserted = false;
        e = request_insert(c, &rows[i], &inserted, err);
        new_rows += inserted;
    }
    e = tx_end(c, e, err);
    writer_put(s);
    if (added) *added = e ? 0 : new_rows;
    return e;
}

/* ---- decision jobs that decide a channel at once ---- */

/* Sets the job's cursor if `owner` holds it (DM_ECONFLICT otherwise), on c. */
static dm_err job_cursor_set(struct conn *c, int64_t job_id, const char *owner, const char *cursor,
                             int64_t now, struct dm_error *err)
{
    sqlite3_stmt *q = NULL;
    int changes = 0;
    dm_err e = stmt_get(c, S_JOB_SET_CURSOR, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, job_id) | bind_field(q, 2, owner, STORE_NAME_MAX) |
                    bind_whole(q, 3, cursor ? cursor : "", sizeof((struct store_job *)0)->cursor) |
                    sqlite3_bind_int64(q, 4, now)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, &changes, "saving a job's position", err);
    return !e && changes == 0 ? lease_lost(c, job_id, err) : e;
}

/* Runs an item-adding statement (?1 job, ?2 chat, ?3 user if `user`) and counts what it added
 * into the job's total. */
static dm_err items_add(struct conn *c, enum stmt_id id, int64_t job_id, int64_t chat_id,
                        int64_t user_id, struct dm_error *err)
{
    sqlite3_stmt *q = NULL;
    int changes = 0;
    dm_err e = stmt_get(c, id, &q, err);
    if (!e) {
        int b = sqlite3_bind_int64(q, 1, job_id) | sqlite3_bind_int64(q, 2, chat_id);
        if (id == S_ITEM_ADD_USER) b |= sqlite3_bind_int64(q, 3, user_id);
        e = b ? db_fail(c, err, "binding") : stmt_exec(c, q, &changes, "adding a job item", err);
    }
    if (!e && changes) e = stmt_get(c, S_JOB_ADD_TOTAL, &q, err);
    if (!e && changes)
        e = sqlite3_bind_int64(q, 1, job_id) | sqlite3_bind_int64(q, 2, changes)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, NULL, "counting a job's items", err);
    return e;
}

static dm_err sq_job_add_page(struct store *st, int64_t job_id, const char *owner,
                              const struct store_request *rows, size_t n, const char *cursor,
                              int64_t now, struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    dm_err e = tx_begin(c, err);
    if (!e) e = job_cursor_set(c, job_id, owner, cursor, now, err);
    for (size_t i = 0; i < n && !e; i++) {
        e = request_insert(c, &rows[i], NULL, err);
        if (!e) e = items_add(c, S_ITEM_ADD_USER, job_id, rows[i].chat_id, rows[i].user_id, err);
    }
    e = tx_end(c, e, err);
    writer_put(s);
    return e;
}

#define CHAT_BATCH 512

static dm_err sq_job_finish_chat(struct store *st, int64_t job_id, const char *owner,
                                 int64_t chat_id, int outcome, const char *error,
                                 const char *cursor, int64_t now, int64_t *finished,
                                 struct dm_error *err)
{
    if (outcome != ITEM_DONE && outcome != ITEM_FAILED)
        return dm_fail(err, DM_EINVAL, "a channel's items finish done or failed, not %d", outcome);
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    int64_t total = 0;
    dm_err e = tx_begin(c, err);
    if (!e) e = job_cursor_set(c, job_id, owner, cursor, now, err);
    if (!e && outcome == ITEM_DONE) e = items_add(c, S_ITEM_ADD_CHAT, job_id, chat_id, 0, err);
    /* finished items leave the pending set, so each batch starts from the first left */
    for (bool more = !e; more && !e;) {
        int64_t ids[CHAT_BATCH];
        int n = 0;
        sqlite3_stmt *q = NULL;
        e = stmt_get(c, S_ITEMS_OF_CHAT, &q, err);
        if (!e && (sqlite3_bind_int64(q, 1, job_id) | sqlite3_bind_int64(q, 2, chat_id) |
                   sqlite3_bind_int(q, 3, CHAT_BATCH)))
            e = db_fail(c, err, "binding");
        for (bool row = true; !e && row && n < CHAT_BATCH;) {
            e = stmt_row(c, q, &row, "listing a channel's job items", err);
            if (!e && row) ids[n++] = sqlite3_column_int64(q, 0);
        }
        if (!e && n == CHAT_BATCH) stmt_put(q); /* may not have run to its end */
        for (int i = 0; i < n && !e; i++) {
            struct store_item it = {.job_id = job_id,
                                    .request_id = ids[i],
                                    .outcome = outcome,
                                    .final_status = REQ_PENDING};
            dm_strlcpy(it.error, error ? error : "", sizeof it.error);
            e = item_finish(c, &it, now, err);
        }
        total += n;
        more = n == CHAT_BATCH;
    }
    e = tx_end(c, e, err);
    writer_put(s);
    if (finished) *finished = e ? 0 : total;
    return e;
}

/* ---- Telegram sessions and logins ---- */

/* Binds every field of a session but created_at (?17) in the order of SESSION_COLS. */
static int session_bind(sqlite3_stmt *q, const struct store_session *x)
{
    return bind_field(q, 1, x->name, sizeof x->name) | sqlite3_bind_int(q, 2, x->is_bot) |
           sqlite3_bind_int(q, 3, x->api_id) |
           bind_whole(q, 4, x->api_hash_sealed, sizeof x->api_hash_sealed) |
           bind_field(q, 5, x->phone, sizeof x->phone) | sqlite3_bind_int(q, 6, x->dc_id) |
           sqlite3_bind_int64(q, 7, x->account_id) |
           bind_field(q, 8, x->first_name, sizeof x->first_name) |
           bind_field(q, 9, x->last_name, sizeof x->last_name) |
           bind_field(q, 10, x->username, sizeof x->username) |
           bind_field(q, 11, x->account_phone, sizeof x->account_phone) |
           sqlite3_bind_int(q, 12, x->premium) | sqlite3_bind_int(q, 13, x->status) |
           bind_field(q, 14, x->status_reason, sizeof x->status_reason) |
           sqlite3_bind_int64(q, 15, x->last_check_at) |
           bind_field(q, 16, x->last_error, sizeof x->last_error);
}

/* Runs S_SESSION_ADD or S_SESSION_UPDATE for x; *changes gets the rows changed. */
static dm_err session_write(struct sqlite_store *s, enum stmt_id id, const struct store_session *x,
                            int *changes, struct dm_error *err)
{
    if (x->status < SESSION_UNCHECKED || x->status > SESSION_INVALID)
        return dm_fail(err, DM_EINVAL, "unknown session status %d", x->status);
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    dm_err e = stmt_get(c, id, &q, err);
    if (!e) {
        int b = session_bind(q, x);
        if (id == S_SESSION_ADD) b |= sqlite3_bind_int64(q, 17, x->created_at);
        e = b ? db_fail(c, err, "binding") : stmt_exec(c, q, changes, "saving a session", err);
    }
    writer_put(s);
    return e;
}

static dm_err sq_session_add(struct store *st, const struct store_session *x, struct dm_error *err)
{
    dm_err e = session_write((struct sqlite_store *)st, S_SESSION_ADD, x, NULL, err);
    if (e == DM_EEXISTS) dm_fail(err, e, "a session named '%s' already exists", x->name);
    return e;
}

static dm_err sq_session_update(struct store *st, const struct store_session *x,
                                struct dm_error *err)
{
    int changes = 0;
    dm_err e = session_write((struct sqlite_store *)st, S_SESSION_UPDATE, x, &changes, err);
    if (!e && changes == 0) e = dm_fail(err, DM_ENOTFOUND, "no session named '%s'", x->name);
    return e;
}

static dm_err sq_session_get(struct store *st, const char *name, struct store_session *out,
                             struct dm_error *err)
{
    char missing[STORE_NAME_MAX + 32];
    snprintf(missing, sizeof missing, "no session named '%s'", name);
    return read_one((struct sqlite_store *)st, S_SESSION_GET,
                    &(struct key){.text = name, .size = STORE_NAME_MAX}, row_session, out,
                    "reading a session", missing, err);
}

#define SESSION_LIST_MAX 10000 /* sessions returned by session_list at most */

static dm_err sq_session_list(struct store *st, struct store_session **out, size_t *n,
                              struct dm_error *err)
{
    void *v = NULL;
    dm_err e = read_all((struct sqlite_store *)st, S_SESSION_LIST, row_session, sizeof **out,
                        SESSION_LIST_MAX, "sessions are stored", "sessions", &v, n, err);
    if (!e) *out = v;
    return e;
}

static dm_err sq_session_delete(struct store *st, const char *name, struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int changes = 0;
    dm_err e = stmt_get(c, S_SESSION_DELETE, &q, err);
    if (!e)
        e = bind_field(q, 1, name, STORE_NAME_MAX)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, &changes, "deleting a session", err);
    if (!e && changes == 0) e = dm_fail(err, DM_ENOTFOUND, "no session named '%s'", name);
    writer_put(s);
    return e;
}

static dm_err sq_login_put(struct store *st, const struct store_login *l, int64_t now,
                           struct dm_error *err)
{
    if (l->state != LOGIN_CODE_SENT && l->state != LOGIN_PASSWORD_NEEDED)
        return dm_fail(err, DM_EINVAL, "unknown login state %d", l->state);
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    dm_err e = tx_begin(c, err);
    /* logins that expired are of no use to anyone: drop them while we are here */
    if (!e) e = stmt_get(c, S_LOGIN_PURGE, &q, err);
    if (!e)
        e = sqlite3_bind_int64(q, 1, now) ? db_fail(c, err, "binding")
                                          : stmt_exec(c, q, NULL, "removing expired logins", err);
    if (!e) e = stmt_get(c, S_LOGIN_PUT, &q, err);
    if (!e)
        e = bind_field(q, 1, l->id, sizeof l->id) | bind_field(q, 2, l->name, sizeof l->name) |
                    bind_field(q, 3, l->phone, sizeof l->phone) | sqlite3_bind_int(q, 4, l->state) |
                    bind_field(q, 5, l->hint, sizeof l->hint) |
                    bind_whole(q, 6, l->sealed, sizeof l->sealed) |
                    sqlite3_bind_int64(q, 7, l->created_at) |
                    sqlite3_bind_int64(q, 8, l->expires_at)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, NULL, "saving a login", err);
    e = tx_end(c, e, err);
    writer_put(s);
    return e;
}

static dm_err sq_login_get(struct store *st, const char *id, int64_t now, struct store_login *out,
                           struct dm_error *err)
{
    return read_one((struct sqlite_store *)st, S_LOGIN_GET,
                    &(struct key){.text = id, .size = sizeof out->id, .timed = true, .now = now},
                    row_login, out, "reading a login", "no login with that id, or it has expired",
                    err);
}

static dm_err sq_login_delete(struct store *st, const char *id, struct dm_error *err)
{
    return write_by_key((struct sqlite_store *)st, S_LOGIN_DELETE, id,
                        sizeof((struct store_login *)0)->id, "deleting a login", err);
}

/* ---- audit ---- */

static dm_err sq_audit_add(struct store *st, const struct store_audit *a, struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    dm_err e = audit_insert(c, a, err);
    writer_put(s);
    return e;
}

static dm_err sq_audit_list(struct store *st, int64_t before_id, int limit, struct store_audit *out,
                            int *n, struct dm_error *err)
{
    return read_page((struct sqlite_store *)st, S_AUDIT_LIST, before_id, limit, row_audit, out,
                     sizeof *out, n, "reading the audit log", err);
}

/* ---- leases ---- */

static dm_err sq_lease_acquire(struct store *st, const char *name, const char *owner, int64_t now,
                               int64_t until, bool *held, struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    int changes = 0;
    *held = false;
    dm_err e = stmt_get(c, S_LEASE_ACQUIRE, &q, err);
    if (!e)
        e = bind_field(q, 1, name, STORE_TEXT_MAX) | bind_field(q, 2, owner, STORE_NAME_MAX) |
                    sqlite3_bind_int64(q, 3, now) | sqlite3_bind_int64(q, 4, until)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, &changes, "taking a lease", err);
    writer_put(s);
    *held = !e && changes > 0;
    return e;
}

static dm_err sq_lease_release(struct store *st, const char *name, const char *owner,
                               struct dm_error *err)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct conn *c = writer_get(s);
    sqlite3_stmt *q = NULL;
    dm_err e = stmt_get(c, S_LEASE_RELEASE, &q, err);
    if (!e)
        e = bind_field(q, 1, name, STORE_TEXT_MAX) | bind_field(q, 2, owner, STORE_NAME_MAX)
                ? db_fail(c, err, "binding")
                : stmt_exec(c, q, NULL, "releasing a lease", err);
    writer_put(s);
    return e;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .admin_create = sq_admin_create,
    .admin_get = sq_admin_get,
    .admin_count = sq_admin_count,
    .admin_set_password = sq_admin_set_password,
    .websession_create = sq_websession_create,
    .websession_get = sq_websession_get,
    .websession_delete = sq_websession_delete,
    .setting_get = sq_setting_get,
    .setting_set = sq_setting_set,
    .setting_delete = sq_setting_delete,
    .chat_get = sq_chat_get,
    .chat_put = sq_chat_put,
    .chat_list = sq_chat_list,
    .request_add = sq_request_add,
    .request_get = sq_request_get,
    .request_list = sq_request_list,
    .request_counts = sq_request_counts,
    .job_create_ids = sq_job_create_ids,
    .job_create_filter = sq_job_create_filter,
    .job_get = sq_job_get,
    .job_list = sq_job_list,
    .job_claim = sq_job_claim,
    .job_renew = sq_job_renew,
    .job_next_items = sq_job_next_items,
    .job_item_finish = sq_job_item_finish,
    .job_items = sq_job_items,
    .job_set_wait = sq_job_set_wait,
    .job_finish = sq_job_finish,
    .job_create_load = sq_job_create_load,
    .job_load_page = sq_job_load_page,
    .job_add_page = sq_job_add_page,
    .job_finish_chat = sq_job_finish_chat,
    .session_add = sq_session_add,
    .session_get = sq_session_get,
    .session_list = sq_session_list,
    .session_update = sq_session_update,
    .session_delete = sq_session_delete,
    .login_put = sq_login_put,
    .login_get = sq_login_get,
    .login_delete = sq_login_delete,
    .audit_add = sq_audit_add,
    .audit_list = sq_audit_list,
    .lease_acquire = sq_lease_acquire,
    .lease_release = sq_lease_release,
};
