/* sqlite.c: the SQLite dialect of the store (dialect.h).
 *
 * Connections: one read-write connection, used under write_lock by every call that changes
 * something (each such call is one statement or one BEGIN IMMEDIATE transaction), and a pool
 * of up to READERS read-only connections for lookups and lists, so a panel page never waits behind
 * a write. A reader is opened when first taken: the pool hands out the lowest free one, so a
 * quiet process keeps one or two, each holding its own parse of the schema (some 500 KB with the
 * search triggers) and page cache, and a reader not taken between two idle passes
 * (sq_release_idle) is closed again. The file is in WAL mode: readers see the last commit and never
 * block the writer. Every connection keeps its statements prepared, by statement key (sql.h).
 * Parameters are written $N in the store's texts and prepared here as ?N. */
#include "core/common.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>

#include "core/buf.h"
#include "store/schema.h"
#include "store/sql.h"

#define READERS 4
#define BUSY_TIMEOUT_MS 10000

struct db_conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[SQL_KEYS];
    int wal_pages; /* the writer: the WAL's length after its last commit (wal_committed) */
    bool taken;    /* a reader: taken since the last idle pass (sq_release_idle) */
};

struct db {
    char *path;                 /* owned; readers are opened from it when first taken */
    pthread_mutex_t write_lock; /* guards writer */
    struct db_conn writer;
    struct slots pool;               /* of readers */
    struct db_conn readers[READERS]; /* db NULL until first taken */
};

/* Fills err from the connection's last error. A broken unique constraint is DM_EEXISTS; trouble
 * that may go away by itself (the database still busy or locked after the busy timeout, a full
 * disk, an I/O error, no memory) DM_EUNAVAILABLE; everything else (the statement or its data is
 * wrong, it fails the same way every time) DM_EDB. SQLite's messages name tables and columns,
 * never values. */
static dm_err db_fail(struct db_conn *c, struct dm_error *err, const char *what)
{
    int ext = sqlite3_extended_errcode(c->db);
    switch (ext & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
        return dm_fail(err, DM_EUNAVAILABLE,
                       "the database is unavailable (while %s: %s); try again shortly", what,
                       sqlite3_errmsg(c->db));
    }
    dm_err code = ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY
                      ? DM_EEXISTS
                      : DM_EDB;
    return dm_fail(err, code, "database error while %s: %s", what, sqlite3_errmsg(c->db));
}

/* Prepares s, its $N parameters written ?N; cached by key when the key has a slot. */
static dm_err prepare(struct db_conn *c, const struct db_stmt *s, sqlite3_stmt **out,
                      struct dm_error *err)
{
    bool cached = s->key >= 0 && s->key < SQL_KEYS;
    if (cached && c->stmts[s->key]) {
        *out = c->stmts[s->key];
        return DM_OK;
    }
    struct buf b;
    buf_init(&b, 64 * 1024);
    dm_err e = buf_puts(&b, s->sql);
    for (size_t i = 0; !e && i + 1 < b.len; i++)
        if (b.data[i] == '$' && b.data[i + 1] >= '0' && b.data[i + 1] <= '9') b.data[i] = '?';
    int rc = e ? SQLITE_TOOBIG
               : sqlite3_prepare_v3(c->db, b.data, -1, cached ? SQLITE_PREPARE_PERSISTENT : 0, out,
                                    NULL);
    buf_release(&b);
    if (rc != SQLITE_OK) return db_fail(c, err, s->what);
    if (cached) c->stmts[s->key] = *out;
    return DM_OK;
}

static dm_err bind(struct db_conn *c, sqlite3_stmt *q, const struct db_args *a, const char *what,
                   struct dm_error *err)
{
    if (!a) return DM_OK;
    if (a->overflow) return dm_fail(err, DM_ETOOBIG, "too many query arguments while %s", what);
    int rc = SQLITE_OK;
    for (int i = 0; i < a->n && rc == SQLITE_OK; i++)
        rc = a->v[i].is_text ? sqlite3_bind_text(q, i + 1, a->v[i].s, -1, SQLITE_STATIC)
                             : sqlite3_bind_int64(q, i + 1, a->v[i].i);
    return rc == SQLITE_OK ? DM_OK : db_fail(c, err, what);
}

static dm_err sq_run(struct db_conn *c, const struct db_stmt *s, const struct db_args *a,
                     db_row_fn fn, void *ctx, int64_t *changes, struct dm_error *err)
{
    if (changes) *changes = 0;
    sqlite3_stmt *q = NULL;
    dm_err e = prepare(c, s, &q, err);
    if (!e) e = bind(c, q, a, s->what, err);
    int rc = SQLITE_DONE;
    struct db_row row = {.d = &dialect_sqlite, .impl = q};
    while (!e && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (fn) e = fn(ctx, &row);
        row.index++;
    }
    if (!e && rc != SQLITE_DONE) e = db_fail(c, err, s->what);
    if (!e && changes && !sqlite3_stmt_readonly(q)) *changes = sqlite3_changes64(c->db);
    if (q && s->key >= 0 && s->key < SQL_KEYS) {
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
    } else {
        sqlite3_finalize(q);
    }
    return e;
}

static dm_err sq_script(struct db_conn *c, const char *sql, const char *what, struct dm_error *err)
{
    return sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK ? DM_OK : db_fail(c, err, what);
}

static bool sq_in_tx(struct db_conn *c)
{
    return !sqlite3_get_autocommit(c->db);
}

static int64_t sq_col_int(const struct db_row *r, int col)
{
    return sqlite3_column_int64(r->impl, col);
}

static const char *sq_col_text(const struct db_row *r, int col)
{
    return (const char *)sqlite3_column_text(r->impl, col);
}

/* ---- connections ---- */

/* Opens c on path (a reader when readonly); c is all zero when it fails. */
static dm_err conn_open(struct db_conn *c, const char *path, bool readonly, struct dm_error *err);

static dm_err sq_conn_get(struct db *db, bool write, struct db_conn **out, struct dm_error *err)
{
    if (write) {
        pthread_mutex_lock(&db->write_lock);
        *out = &db->writer;
        return DM_OK;
    }
    int i = slots_take(&db->pool);
    dm_err e = db->readers[i].db ? DM_OK : conn_open(&db->readers[i], db->path, true, err);
    if (e) {
        slots_give(&db->pool, i);
        return e;
    }
    db->readers[i].taken = true;
    *out = &db->readers[i];
    return DM_OK;
}

static void sq_conn_put(struct db *db, struct db_conn *c)
{
    if (c == &db->writer)
        pthread_mutex_unlock(&db->write_lock);
    else
        slots_give(&db->pool, (int)(c - db->readers));
}

static void conn_close(struct db_conn *c)
{
    for (int i = 0; i < SQL_KEYS; i++)
        sqlite3_finalize(c->stmts[i]);
    sqlite3_close(c->db);
    memset(c, 0, sizeof *c);
}

static dm_err conn_open(struct db_conn *c, const char *path, bool readonly, struct dm_error *err)
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
    dm_err e = sq_script(c,
                         readonly ? "PRAGMA cache_size = -8192"
                                  : "PRAGMA cache_size = -8192; PRAGMA foreign_keys = ON;"
                                    "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY",
                         "configuring the connection", err);
    if (e) conn_close(c);
    return e;
}

/* The idle pass (store_release_idle): each connection free at the moment gives back its page
 * cache (the pages are read again from the file, most likely from the kernel's cache, when next
 * needed), and a reader not taken since the previous pass is closed: its schema, statements and
 * cache are some 300-500 KB (an idle doorman's background loops keep the first reader in use;
 * the others served bursts). Then malloc_trim (app.c) can hand the freed heap pages back. */
static int sq_release_idle(struct db *db)
{
    int closed = 0;
    for (int i = 0; i < READERS; i++) {
        if (!slots_try(&db->pool, i)) continue; /* in use: not idle */
        struct db_conn *c = &db->readers[i];
        closed += c->db && !c->taken;
        if (c->db && !c->taken)
            conn_close(c);
        else if (c->db)
            sqlite3_db_release_memory(c->db);
        c->taken = false;
        slots_give(&db->pool, i);
    }
    if (pthread_mutex_trylock(&db->write_lock) == 0) {
        sqlite3_db_release_memory(db->writer.db);
        pthread_mutex_unlock(&db->write_lock);
    }
    return closed;
}

/* Checkpoints: the writer copies the WAL into the database file (syncing both) after a commit
 * that leaves the WAL WAL_PAGES pages long or more, as SQLite's wal_autocheckpoint does by
 * default; but after a bulk commit (WAL_BULK_COMMIT pages or more: some 700 for 2,000 requests
 * recorded at once), only at WAL_BULK_PAGES. A bulk load then checkpoints a tenth as often,
 * copying a page it rewrote once a checkpoint rather than once a commit (seeding 300,000
 * requests with wal_autocheckpoint at 10,000: 196 → 28 fdatasync, 77k → 55k pread, issue 12);
 * the first ordinary commit after it checkpoints as before. WAL mode and synchronous = NORMAL
 * stay. What a power loss can take back is, as before, the commits since the WAL was last
 * synced (at a checkpoint): during a bulk load up to 40 MB of WAL instead of 4 MB. */
#define WAL_PAGES 1000
#define WAL_BULK_COMMIT 256
#define WAL_BULK_PAGES 10000

static int wal_committed(void *ctx, sqlite3 *db, const char *name, int pages)
{
    struct db_conn *c = ctx;
    /* the WAL starts over (shorter) at the first commit after a complete checkpoint */
    int wrote = pages > c->wal_pages ? pages - c->wal_pages : pages;
    c->wal_pages = pages;
    if (pages >= (wrote >= WAL_BULK_COMMIT ? WAL_BULK_PAGES : WAL_PAGES))
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static dm_err wal_mode(void *ctx, const struct db_row *r)
{
    const char *mode = sq_col_text(r, 0);
    dm_strlcpy(ctx, mode ? mode : "?", 16);
    return DM_OK;
}

static dm_err wal_enable(struct db_conn *c, const char *path, struct dm_error *err)
{
    char mode[16] = "";
    const struct db_stmt s = {-1, "PRAGMA journal_mode = WAL", "switching to WAL mode",
                              DB_PLAN_AUTO};
    dm_err e = sq_run(c, &s, NULL, wal_mode, mode, NULL, err);
    if (!e && strcmp(mode, "wal") != 0)
        e = dm_fail(err, DM_EDB,
                    "database %s cannot use WAL mode (journal mode stays '%s'); put it on a "
                    "local file system",
                    path, mode);
    if (!e) sqlite3_wal_hook(c->db, wal_committed, c);
    return e;
}

static void sq_close(struct db *db)
{
    if (!db) return;
    for (int i = 0; i < READERS; i++)
        conn_close(&db->readers[i]);
    conn_close(&db->writer);
    pthread_mutex_destroy(&db->write_lock);
    slots_release(&db->pool);
    free(db->path);
    free(db);
}

/* Before SQLite's first use in the process: no memory statistics, which doorman never reads
 * and which take a process-wide mutex around every allocation SQLite makes (2.4% of the CPU
 * of recording a batch, issue 12). Refused, harmlessly, when SQLite was used already. */
static void sqlite_configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static dm_err sq_open(const char *path, struct db **out, struct dm_error *err)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    pthread_once(&configured, sqlite_configure);
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

    struct db *db = calloc(1, sizeof *db);
    if (!db) return dm_fail(err, DM_ENOMEM, "out of memory opening the database");
    pthread_mutex_init(&db->write_lock, NULL);
    slots_init(&db->pool, READERS);
    if (!(db->path = strdup(path))) {
        sq_close(db);
        return dm_fail(err, DM_ENOMEM, "out of memory opening the database");
    }

    dm_err e = conn_open(&db->writer, path, false, err);
    if (!e) e = wal_enable(&db->writer, path, err);
    if (!e) e = schema_migrate(&dialect_sqlite, &db->writer, err);
    if (e) {
        sq_close(db);
        return e;
    }
    *out = db;
    return DM_OK;
}

/* ---- backup (store/backup.h) ---- */

#define BACKUP_STEP_PAGES 256 /* a step copies 1 MiB of 4 KiB pages */

/* Copies the database through one of the readers, inside one read transaction: the backup API
 * starts over whenever another connection changed the source between two steps, unless the
 * source reads one snapshot throughout; in WAL mode that read transaction holds up no writer. */
static dm_err sq_backup(struct db *db, const char *path,
                        void (*progress)(void *ctx, int64_t done, int64_t total), void *ctx,
                        struct dm_error *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return dm_fail(err, errno == EEXIST ? DM_EEXISTS : DM_EIO, "cannot create %s: %s", path,
                       strerror(errno));
    close(fd);
    struct db_conn *src = NULL;
    dm_err e = sq_conn_get(db, false, &src, err);
    if (e) {
        unlink(path);
        return e;
    }
    sqlite3 *dst = NULL;
    sqlite3_backup *b = NULL;
    e = sq_script(src, "BEGIN; SELECT count(*) FROM sqlite_schema",
                  "beginning the backup's read transaction", err);
    if (!e &&
        sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        e = dm_fail(err, DM_EIO, "cannot open %s: %s", path,
                    dst ? sqlite3_errmsg(dst) : "out of memory");
    if (!e && !(b = sqlite3_backup_init(dst, "main", src->db, "main")))
        e = dm_fail(err, DM_EIO, "cannot begin the backup into %s: %s", path, sqlite3_errmsg(dst));
    int rc = SQLITE_OK;
    while (!e && rc == SQLITE_OK) {
        rc = sqlite3_backup_step(b, BACKUP_STEP_PAGES);
        int total = sqlite3_backup_pagecount(b);
        if ((rc == SQLITE_OK || rc == SQLITE_DONE) && progress)
            progress(ctx, total - sqlite3_backup_remaining(b), total);
    }
    if (b) sqlite3_backup_finish(b);
    if (!e && rc != SQLITE_DONE)
        e = dm_fail(err, DM_EIO, "the backup into %s failed: %s", path, sqlite3_errstr(rc));
    if (dst && sqlite3_close(dst) != SQLITE_OK && !e)
        e = dm_fail(err, DM_EIO, "cannot close %s: %s", path, sqlite3_errmsg(dst));
    if (sq_in_tx(src)) sqlite3_exec(src->db, "ROLLBACK", NULL, NULL, NULL);
    sq_conn_put(db, src);
    if (e) unlink(path);
    return e;
}

const struct dialect dialect_sqlite = {
    .kind = DB_SQLITE, DIALECT_OPS(sq), .backup = sq_backup, .release_idle = sq_release_idle};
