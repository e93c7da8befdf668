/* session_file.c: Pyrogram and Telethon .session files (SQLite), read from untrusted uploads
 * and written as Pyrogram schema v3. See session_file.h. */
#include "core/common.h"
#include "telegram/session_file.h"

#include "core/secret.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#define NOT_SESSION "This file is not a Pyrogram or Telethon session"
#define SQLITE_MAGIC "SQLite format 3" /* 16 bytes with its NUL */
#define TEXT_LIMIT (1 << 20)           /* longest string or blob SQLite may build here */
#define PYROGRAM_TRIGGER "trg_peers_last_update_on"

const char *tg_session_kind_name(enum tg_session_kind kind)
{
    switch (kind) {
    case TG_SESSION_PYROGRAM_FILE:
        return "Pyrogram file";
    case TG_SESSION_TELETHON_FILE:
        return "Telethon file";
    case TG_SESSION_PYROGRAM_STRING:
        return "Pyrogram string";
    case TG_SESSION_TELETHON_STRING:
        return "Telethon string";
    case TG_SESSION_GRAMJS_STRING:
        return "GramJS string";
    }
    return "session";
}

void tg_session_wipe(struct tg_session *s)
{
    secret_wipe(s, sizeof *s);
}

static bool address_valid(const char *a)
{
    for (; *a; a++)
        if (!(('0' <= *a && *a <= '9') || ('a' <= *a && *a <= 'z') || ('A' <= *a && *a <= 'Z') ||
              *a == '.' || *a == ':' || *a == '-'))
            return false;
    return true;
}

dm_err tg_session_check(const struct tg_session *s, const char *what, struct dm_error *err)
{
    if (s->dc_id < 1 || s->dc_id > 255)
        return dm_fail(err, DM_EINVAL, "%s: its data centre id %d is not 1 to 255.", what,
                       s->dc_id);
    bool any = false;
    for (size_t i = 0; i < TG_AUTH_KEY_BYTES; i++)
        any |= s->auth_key[i] != 0;
    if (!any)
        return dm_fail(err, DM_EINVAL,
                       "%s: it holds no auth key (the session was never logged in).", what);
    if (memchr(s->server_address, 0, sizeof s->server_address) == NULL ||
        !address_valid(s->server_address))
        return dm_fail(err, DM_EINVAL, "%s: its server address is not an IP address or host name.",
                       what);
    if (s->server_address[0] && (s->port < 1 || s->port > 65535))
        return dm_fail(err, DM_EINVAL, "%s: its port %d is not 1 to 65535.", what, s->port);
    if (s->api_id < 0)
        return dm_fail(err, DM_EINVAL, "%s: its API ID %d is negative.", what, s->api_id);
    if (s->user_id < 0) return dm_fail(err, DM_EINVAL, "%s: its user id is negative.", what);
    return DM_OK;
}

/* ---- the SQLite image ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks the 100-byte database header of img (len bytes) and turns a WAL-mode image into a
 * rollback-journal one (bytes 18 and 19), which an in-memory database can open. */
static dm_err header_check(unsigned char *img, size_t len, struct dm_error *err)
{
    if (len < 100 || memcmp(img, SQLITE_MAGIC, sizeof SQLITE_MAGIC) != 0)
        return dm_fail(err, DM_EINVAL, NOT_SESSION ": it is not an SQLite database.");
    uint32_t page = (uint32_t)img[16] << 8 | img[17];
    if (page == 1) page = 65536;
    if (page < 512 || (page & (page - 1)) != 0)
        return dm_fail(err, DM_EINVAL, NOT_SESSION ": its SQLite header is damaged.");
    uint32_t pages = be32(img + 28);
    bool pages_valid = pages != 0 && be32(img + 24) == be32(img + 92);
    if (len % page != 0 || (pages_valid && (uint64_t)pages * page > len))
        return dm_fail(err, DM_EINVAL,
                       NOT_SESSION ": it is cut short (%zu bytes; upload the whole file).", len);
    if (img[18] < 1 || img[18] > 2 || img[19] < 1 || img[19] > 2)
        return dm_fail(err, DM_EINVAL,
                       NOT_SESSION ": it needs a newer SQLite file format than this one.");
    img[18] = img[19] = 1;
    return DM_OK;
}

/* Copies an SQL name made by the uploader into out for a message, with anything outside
 * [A-Za-z0-9_] shown as '?'. */
static const char *safe_name(const unsigned char *name, char out[40])
{
    size_t i = 0;
    for (; name && name[i] && i < 39; i++) {
        char c = (char)name[i];
        bool ok =
            ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '_';
        out[i] = ok ? c : '?';
    }
    out[i] = 0;
    return out;
}

static dm_err db_fail(int rc, struct dm_error *err)
{
    if (rc == SQLITE_NOMEM) return dm_fail(err, DM_ENOMEM, "out of memory reading a session file");
    /* sqlite3_errstr is a fixed text: nothing from the file reaches the message */
    return dm_fail(err, DM_EINVAL, NOT_SESSION ": SQLite cannot read it (%s).", sqlite3_errstr(rc));
}

/* Opens img (kept by the caller until the connection closes) read-only, untrusted. */
static dm_err db_open(unsigned char *img, size_t len, sqlite3 **out, struct dm_error *err)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(db);
        return dm_fail(err, DM_ENOMEM, "cannot open an in-memory database");
    }
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, TEXT_LIMIT);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    rc = sqlite3_deserialize(db, "main", img, (sqlite3_int64)len, (sqlite3_int64)len,
                             SQLITE_DESERIALIZE_READONLY);
    if (rc != SQLITE_OK) {
        sqlite3_close(db);
        return db_fail(rc, err);
    }
    *out = db;
    return DM_OK;
}

/* Runs sql, which returns at most one row of one text column, into out ("" without a row). */
static dm_err db_text(sqlite3 *db, const char *sql, char *out, size_t n, struct dm_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return db_fail(rc, err);
    rc = sqlite3_step(st);
    out[0] = 0;
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
        dm_strlcpy(out, (const char *)sqlite3_column_text(st, 0), n);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? DM_OK : db_fail(rc, err);
}

/* Refuses a schema that could run anything: views, virtual tables, triggers other than
 * Pyrogram's own. Also checks the database is whole (quick_check). */
static dm_err schema_check(sqlite3 *db, struct dm_error *err)
{
    char ok[16];
    dm_err e = db_text(db, "PRAGMA quick_check(1)", ok, sizeof ok, err);
    if (e != DM_OK) return e;
    if (strcmp(ok, "ok") != 0)
        return dm_fail(err, DM_EINVAL, NOT_SESSION ": the SQLite database in it is damaged.");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, sql FROM sqlite_master", -1, &st,
                                NULL);
    if (rc != SQLITE_OK) return db_fail(rc, err);
    char name[40];
    e = DM_OK;
    while (e == DM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const unsigned char *obj = sqlite3_column_text(st, 1);
        const char *table = (const char *)sqlite3_column_text(st, 2);
        const char *sql = (const char *)sqlite3_column_text(st, 3);
        if (!type) continue;
        if (strcmp(type, "view") == 0)
            e = dm_fail(err, DM_EINVAL, NOT_SESSION ": it contains a view (%s).",
                        safe_name(obj, name));
        else if (strcmp(type, "trigger") == 0 &&
                 !(obj && strcmp((const char *)obj, PYROGRAM_TRIGGER) == 0 && table &&
                   strcmp(table, "peers") == 0))
            e = dm_fail(err, DM_EINVAL, NOT_SESSION ": it contains a trigger (%s).",
                        safe_name(obj, name));
        else if (strcmp(type, "table") == 0 && sql && strncasecmp(sql, "CREATE VIRTUAL", 14) == 0)
            e = dm_fail(err, DM_EINVAL, NOT_SESSION ": it contains a virtual table (%s).",
                        safe_name(obj, name));
    }
    sqlite3_finalize(st);
    if (e == DM_OK && rc != SQLITE_DONE) e = db_fail(rc, err);
    return e;
}

/* The columns of a sessions table that either tool writes, by name. */
enum col { C_DC, C_API, C_TEST, C_KEY, C_DATE, C_USER, C_BOT, C_ADDR, C_PORT, C_COUNT };
static const char *const col_names[C_COUNT] = {
    "dc_id",   "api_id", "test_mode",      "auth_key", "date",
    "user_id", "is_bot", "server_address", "port",
};

/* Marks which of col_names the sessions table has; refuses computed columns. */
static dm_err columns_read(sqlite3 *db, bool has[C_COUNT], int *ncols, struct dm_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT name, hidden FROM pragma_table_xinfo('sessions')", -1,
                                &st, NULL);
    if (rc != SQLITE_OK) return db_fail(rc, err);
    dm_err e = DM_OK;
    char name[40];
    *ncols = 0;
    while (e == DM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(st, 0);
        (*ncols)++;
        if (sqlite3_column_int(st, 1) != 0)
            e = dm_fail(err, DM_EINVAL,
                        NOT_SESSION ": its sessions table has a computed column (%s).",
                        safe_name((const unsigned char *)n, name));
        for (int i = 0; n && i < C_COUNT; i++)
            if (strcasecmp(n, col_names[i]) == 0) has[i] = true;
    }
    sqlite3_finalize(st);
    if (e == DM_OK && rc != SQLITE_DONE) e = db_fail(rc, err);
    return e;
}

/* Reads integer column i of st into *v; NULL reads as 0. */
static dm_err col_int(sqlite3_stmt *st, int i, int64_t lo, int64_t hi, int64_t *v,
                      struct dm_error *err)
{
    int t = sqlite3_column_type(st, i);
    *v = 0;
    if (t == SQLITE_NULL) return DM_OK;
    if (t != SQLITE_INTEGER)
        return dm_fail(err, DM_EINVAL, NOT_SESSION ": its %s is not a number.", col_names[i]);
    *v = sqlite3_column_int64(st, i);
    if (*v < lo || *v > hi)
        return dm_fail(err, DM_EINVAL, NOT_SESSION ": its %s is out of range.", col_names[i]);
    return DM_OK;
}

/* Reads the first sessions row (the one Pyrogram and Telethon use) into *out. */
static dm_err row_read(sqlite3 *db, const bool has[C_COUNT], struct tg_session *out,
                       struct dm_error *err)
{
    char sql[256] = "SELECT ";
    for (int i = 0; i < C_COUNT; i++) {
        size_t l = strlen(sql);
        snprintf(sql + l, sizeof sql - l, "%s%s", i ? ", " : "", has[i] ? col_names[i] : "NULL");
    }
    size_t l = strlen(sql);
    snprintf(sql + l, sizeof sql - l, " FROM sessions LIMIT 1");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return db_fail(rc, err);
    rc = sqlite3_step(st);
    dm_err e = DM_OK;
    int64_t v[C_COUNT] = {0};
    if (rc == SQLITE_DONE) {
        e = dm_fail(err, DM_EINVAL,
                    NOT_SESSION ": its sessions table is empty (the session was never saved).");
    } else if (rc != SQLITE_ROW) {
        e = db_fail(rc, err);
    } else {
        static const int64_t range[C_COUNT][2] = {
            [C_DC] = {1, 255},         [C_API] = {0, INT_MAX},    [C_TEST] = {0, 1},
            [C_DATE] = {0, INT64_MAX}, [C_USER] = {0, INT64_MAX}, [C_BOT] = {0, 1},
            [C_PORT] = {0, 65535},
        };
        for (int i = 0; e == DM_OK && i < C_COUNT; i++)
            if (i != C_KEY && i != C_ADDR) e = col_int(st, i, range[i][0], range[i][1], &v[i], err);
        if (e == DM_OK && sqlite3_column_type(st, C_DC) == SQLITE_NULL)
            e = dm_fail(err, DM_EINVAL, NOT_SESSION ": its sessions row has no data centre.");
    }
    if (e == DM_OK) {
        int t = sqlite3_column_type(st, C_KEY);
        int klen = sqlite3_column_bytes(st, C_KEY);
        if (t == SQLITE_NULL)
            e = dm_fail(err, DM_EINVAL,
                        NOT_SESSION ": it holds no auth key (the session was never logged in).");
        else if (t != SQLITE_BLOB || klen != TG_AUTH_KEY_BYTES)
            e = dm_fail(err, DM_EINVAL, NOT_SESSION ": its auth key is %d bytes, not %d.", klen,
                        TG_AUTH_KEY_BYTES);
        else
            memcpy(out->auth_key, sqlite3_column_blob(st, C_KEY), TG_AUTH_KEY_BYTES);
    }
    if (e == DM_OK) {
        int t = sqlite3_column_type(st, C_ADDR);
        const unsigned char *a = sqlite3_column_text(st, C_ADDR);
        if (t != SQLITE_NULL && t != SQLITE_TEXT)
            e = dm_fail(err, DM_EINVAL, NOT_SESSION ": its server_address is not text.");
        else if (a && dm_strlcpy(out->server_address, (const char *)a,
                                 sizeof out->server_address) >= sizeof out->server_address)
            e = dm_fail(err, DM_EINVAL, NOT_SESSION ": its server_address is too long.");
    }
    sqlite3_finalize(st);
    if (e != DM_OK) return e;
    out->dc_id = (int)v[C_DC];
    out->api_id = (int)v[C_API];
    out->test_mode = v[C_TEST] != 0;
    out->date = v[C_DATE];
    out->user_id = v[C_USER];
    out->is_bot = v[C_BOT] != 0;
    out->port = out->server_address[0] ? (int)v[C_PORT] : 0;
    return DM_OK;
}

/* The number in the version table (Pyrogram's column "number", Telethon's "version"). */
static int version_read(sqlite3 *db, bool pyrogram)
{
    char text[24];
    const char *sql = pyrogram ? "SELECT CAST(number AS TEXT) FROM version LIMIT 1"
                               : "SELECT CAST(version AS TEXT) FROM version LIMIT 1";
    if (db_text(db, sql, text, sizeof text, NULL) != DM_OK) return 0;
    long n = strtol(text, NULL, 10);
    return n > 0 && n < 1000 ? (int)n : 0;
}

static dm_err session_read(sqlite3 *db, struct tg_session *out, struct dm_error *err)
{
    dm_err e = schema_check(db, err);
    if (e != DM_OK) return e;
    char type[16];
    e = db_text(db, "SELECT type FROM sqlite_master WHERE name = 'sessions'", type, sizeof type,
                err);
    if (e != DM_OK) return e;
    if (strcmp(type, "table") != 0)
        return dm_fail(err, DM_EINVAL, NOT_SESSION ": it has no sessions table.");
    bool has[C_COUNT] = {0};
    int ncols = 0;
    e = columns_read(db, has, &ncols, err);
    if (e != DM_OK) return e;
    bool pyrogram = has[C_TEST] && has[C_DATE] && has[C_USER] && has[C_BOT];
    bool telethon = !has[C_TEST] && !has[C_DATE] && has[C_ADDR] && has[C_PORT];
    if (!has[C_DC] || !has[C_KEY] || (!pyrogram && !telethon))
        return dm_fail(err, DM_EINVAL,
                       NOT_SESSION ": its sessions table has other columns than either tool "
                                   "writes (%d columns).",
                       ncols);
    e = row_read(db, has, out, err);
    if (e != DM_OK) return e;
    out->kind = pyrogram ? TG_SESSION_PYROGRAM_FILE : TG_SESSION_TELETHON_FILE;
    out->schema_version = version_read(db, pyrogram);
    return tg_session_check(out, NOT_SESSION, err);
}

/* Runs fn on a copy of a session file's bytes opened as an untrusted read-only database, after
 * the checks every reader makes (size, sealed, SQLite header); the copy is wiped after. */
static dm_err with_file_db(const void *data, size_t len,
                           dm_err (*fn)(sqlite3 *db, void *ctx, struct dm_error *err), void *ctx,
                           struct dm_error *err)
{
    if (len > TG_SESSION_FILE_MAX)
        return dm_fail(err, DM_ETOOBIG,
                       NOT_SESSION ": it is %zu bytes, and session files are under %u MiB.", len,
                       TG_SESSION_FILE_MAX >> 20);
    if (tg_session_is_sealed(data, len))
        return dm_fail(err, DM_EINVAL,
                       NOT_SESSION ": it is a session file doorman sealed with its master key; "
                                   "export the session from that doorman to get a Pyrogram file.");
    if (len < 100) return dm_fail(err, DM_EINVAL, NOT_SESSION ": it is not an SQLite database.");
    unsigned char *img = malloc(len);
    if (!img) return dm_fail(err, DM_ENOMEM, "out of memory reading a session file");
    memcpy(img, data, len);
    sqlite3 *db = NULL;
    dm_err e = header_check(img, len, err);
    if (e == DM_OK) e = db_open(img, len, &db, err);
    if (e == DM_OK) e = fn(db, ctx, err);
    sqlite3_close(db);
    secret_wipe(img, len);
    free(img);
    return e;
}

static dm_err session_read_fn(sqlite3 *db, void *ctx, struct dm_error *err)
{
    return session_read(db, ctx, err);
}

dm_err tg_session_read_bytes(const void *data, size_t len, struct tg_session *out,
                             struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    return with_file_db(data, len, session_read_fn, out, err);
}

/* ---- the channels a session file knows ---- */

#define CHANNEL_PEER_BASE 1000000000000LL /* a channel's peer id is -(BASE + its id) */

struct peers_out {
    struct tg_peer *peers;
    size_t n;
};

static bool table_has(sqlite3 *db, const char *table, const char *a, const char *b)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pragma_table_info('%s') WHERE name IN ('%s', '%s')", table, a,
             b);
    sqlite3_stmt *st = NULL;
    bool yes = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
               sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 2;
    sqlite3_finalize(st);
    return yes;
}

static dm_err peers_read(sqlite3 *db, void *ctx, struct dm_error *err)
{
    struct peers_out *o = ctx;
    dm_err e = schema_check(db, err);
    if (e != DM_OK) return e;
    const char *sql = NULL;
    if (table_has(db, "peers", "id", "access_hash")) /* Pyrogram */
        sql = "SELECT id, access_hash FROM peers WHERE id < ?1 AND id >= ?2 AND "
              "typeof(access_hash) = 'integer' AND type IN ('channel', 'supergroup') LIMIT ?3";
    else if (table_has(db, "entities", "id", "hash")) /* Telethon: marked ids too */
        sql = "SELECT id, hash FROM entities WHERE id < ?1 AND id >= ?2 AND "
              "typeof(hash) = 'integer' LIMIT ?3";
    if (!sql) return DM_OK;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return DM_OK; /* columns of other types than either tool writes */
    sqlite3_bind_int64(st, 1, -CHANNEL_PEER_BASE);
    sqlite3_bind_int64(st, 2, -CHANNEL_PEER_BASE - INT64_C(0xffffffffff));
    sqlite3_bind_int(st, 3, TG_SESSION_PEERS_MAX);
    o->peers = calloc(TG_SESSION_PEERS_MAX, sizeof *o->peers);
    if (!o->peers) e = dm_fail(err, DM_ENOMEM, "out of memory reading a session file");
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        o->peers[o->n].channel_id = -sqlite3_column_int64(st, 0) - CHANNEL_PEER_BASE;
        o->peers[o->n].access_hash = sqlite3_column_int64(st, 1);
        o->n++;
    }
    if (!e && rc != SQLITE_DONE) e = db_fail(rc, err);
    sqlite3_finalize(st);
    return e;
}

dm_err tg_session_read_peers(const void *data, size_t len, struct tg_peer **out, size_t *n,
                             struct dm_error *err)
{
    struct peers_out o = {0};
    dm_err e = with_file_db(data, len, peers_read, &o, err);
    if (e || !o.n) {
        free(o.peers);
        o.peers = NULL;
        o.n = 0;
    }
    *out = o.peers;
    *n = o.n;
    return e;
}

/* Reads the file at path (at most max bytes; a symbolic link refused when nofollow) into *data
 * (malloc'd, *len bytes; the caller wipes and frees it). */
static dm_err load_file(const char *path, size_t max, bool nofollow, unsigned char **data,
                        size_t *len, struct dm_error *err)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0)
        return dm_fail(err, errno == ENOENT ? DM_ENOTFOUND : DM_EIO, "cannot open %s: %s", path,
                       strerror(errno));
    struct stat st;
    dm_err e = DM_OK;
    if (fstat(fd, &st) != 0)
        e = dm_fail(err, DM_EIO, "cannot read %s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        e = dm_fail(err, DM_EINVAL, NOT_SESSION ": it is not a regular file.");
    else if (st.st_size > (off_t)max)
        e = dm_fail(err, DM_ETOOBIG,
                    NOT_SESSION ": it is %lld bytes, and session files are under %u MiB.",
                    (long long)st.st_size, TG_SESSION_FILE_MAX >> 20);
    size_t n = e == DM_OK ? (size_t)st.st_size : 0;
    unsigned char *buf = e == DM_OK ? malloc(n ? n : 1) : NULL;
    if (e == DM_OK && !buf) e = dm_fail(err, DM_ENOMEM, "out of memory reading %s", path);
    size_t got = 0;
    while (e == DM_OK && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            e = dm_fail(err, DM_EIO, "cannot read %s: %s", path, strerror(errno));
        else if (r == 0)
            n = got; /* it shrank while we read: take what is there */
        else
            got += (size_t)r;
    }
    close(fd);
    if (e != DM_OK) {
        if (buf) secret_wipe(buf, n);
        free(buf);
        return e;
    }
    *data = buf;
    *len = n;
    return DM_OK;
}

dm_err tg_session_read_file(const char *path, struct tg_session *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    unsigned char *data = NULL;
    size_t len = 0;
    dm_err e = load_file(path, TG_SESSION_FILE_MAX, false, &data, &len, err);
    if (e == DM_OK) e = tg_session_read_bytes(data, len, out, err);
    if (data) {
        secret_wipe(data, len);
        free(data);
    }
    return e;
}

/* ---- writing Pyrogram v3 ---- */

/* Pyrogram 2.x's schema (pyrogram/storage/sqlite_storage.py, VERSION = 3), statement for
 * statement, so the file is what Pyrogram itself would have made. */
static const char pyrogram_v3_schema[] =
    "CREATE TABLE sessions\n(\n    dc_id     INTEGER PRIMARY KEY,\n    api_id    INTEGER,\n"
    "    test_mode INTEGER,\n    auth_key  BLOB,\n    date      INTEGER NOT NULL,\n"
    "    user_id   INTEGER,\n    is_bot    INTEGER\n);\n\n"
    "CREATE TABLE peers\n(\n    id             INTEGER PRIMARY KEY,\n"
    "    access_hash    INTEGER,\n    type           INTEGER NOT NULL,\n"
    "    username       TEXT,\n    phone_number   TEXT,\n"
    "    last_update_on INTEGER NOT NULL DEFAULT (CAST(STRFTIME('%s', 'now') AS INTEGER))\n);\n\n"
    "CREATE TABLE version\n(\n    number INTEGER PRIMARY KEY\n);\n\n"
    "CREATE INDEX idx_peers_id ON peers (id);\n"
    "CREATE INDEX idx_peers_username ON peers (username);\n"
    "CREATE INDEX idx_peers_phone_number ON peers (phone_number);\n\n"
    "CREATE TRIGGER trg_peers_last_update_on\n    AFTER UPDATE\n    ON peers\nBEGIN\n"
    "    UPDATE peers\n    SET last_update_on = CAST(STRFTIME('%s', 'now') AS INTEGER)\n"
    "    WHERE id = NEW.id;\nEND;\n"
    "INSERT INTO version VALUES (3);\n";

/* Inserts the channels' peers rows as Pyrogram writes them (type "channel"; Pyrogram names
 * both kinds of channel by the same InputPeerChannel). */
static int peers_write(sqlite3 *db, const struct tg_peer *peers, size_t n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT OR REPLACE INTO peers(id, access_hash, type) "
                                "VALUES (?, ?, 'channel')",
                                -1, &st, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        sqlite3_bind_int64(st, 1, -CHANNEL_PEER_BASE - peers[i].channel_id);
        sqlite3_bind_int64(st, 2, peers[i].access_hash);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Builds the Pyrogram v3 database for s (with peers, may be NULL) in memory; *img is
 * sqlite3_malloc'd. */
static dm_err pyrogram_image(const struct tg_session *s, const struct tg_peer *peers, size_t npeers,
                             unsigned char **img, size_t *len, struct dm_error *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, pyrogram_v3_schema, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &st,
                                NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, s->dc_id);
        if (s->api_id) sqlite3_bind_int(st, 2, s->api_id);
        sqlite3_bind_int(st, 3, s->test_mode);
        sqlite3_bind_blob(st, 4, s->auth_key, TG_AUTH_KEY_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, s->date ? s->date : (int64_t)time(NULL));
        if (s->user_id) sqlite3_bind_int64(st, 6, s->user_id);
        sqlite3_bind_int(st, 7, s->is_bot);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK && npeers) rc = peers_write(db, peers, npeers);
    sqlite3_int64 size = 0;
    *img = rc == SQLITE_OK ? sqlite3_serialize(db, "main", &size, 0) : NULL;
    if (rc == SQLITE_OK && !*img) rc = SQLITE_NOMEM;
    sqlite3_close(db);
    *len = (size_t)size;
    if (rc != SQLITE_OK)
        return dm_fail(err, rc == SQLITE_NOMEM ? DM_ENOMEM : DM_EDB,
                       "cannot build the session database: %s", sqlite3_errstr(rc));
    return DM_OK;
}

static dm_err write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return DM_EIO;
        p += w;
        n -= (size_t)w;
    }
    return DM_OK;
}

/* The directory part of path ("." when there is none) into out. */
static dm_err dir_of(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    size_t l = slash ? (size_t)(slash - path) : 1;
    if (slash && l == 0) l = 1; /* "/x" */
    if (l >= n) return DM_ETOOBIG;
    memcpy(out, slash ? path : ".", l);
    out[l] = 0;
    return DM_OK;
}

/* Checks that path's directory exists with no group or other access and, unless overwrite,
 * that path does not exist; fills dir and tmp (the template of the temporary file). */
static dm_err place_check(const char *path, bool overwrite, char *dir, char *tmp, size_t n,
                          struct dm_error *err)
{
    if (dir_of(path, dir, n) != DM_OK || snprintf(tmp, n, "%s.tmp-XXXXXX", path) >= (int)n)
        return dm_fail(err, DM_ETOOBIG, "the session path is too long");
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return dm_fail(err, DM_ENOTFOUND, "the sessions directory %s does not exist", dir);
    if (st.st_mode & 077)
        return dm_fail(err, DM_EFORBIDDEN,
                       "the sessions directory %s is open to other users (mode %03o); it must "
                       "be 0700",
                       dir, (unsigned)(st.st_mode & 0777));
    if (!overwrite && lstat(path, &st) == 0)
        return dm_fail(err, DM_EEXISTS, "a session file %s already exists", path);
    return DM_OK;
}

/* Writes p (n bytes) to a temporary file from the template tmp (mode 0600), fsyncs it and
 * moves it to path: rename() when overwrite, else link(), which never replaces a file made
 * meanwhile. On failure nothing is left behind. */
static dm_err place_file(const char *path, const char *dir, char *tmp, const unsigned char *p,
                         size_t n, bool overwrite, struct dm_error *err)
{
    dm_err e = DM_OK;
    int fd = mkostemp(tmp, O_CLOEXEC);
    const char *step = "create";
    if (fd < 0) {
        e = DM_EIO;
    } else {
        step = "write";
        if (fchmod(fd, 0600) != 0 || write_all(fd, p, n) != DM_OK || fsync(fd) != 0) e = DM_EIO;
        if (close(fd) != 0 && e == DM_OK) e = DM_EIO;
        step = "put in place";
        if (e == DM_OK && overwrite && rename(tmp, path) != 0) e = DM_EIO;
        if (e == DM_OK && !overwrite && link(tmp, path) != 0)
            e = errno == EEXIST ? DM_EEXISTS : DM_EIO;
        int saved = errno;
        if (e != DM_OK || !overwrite) unlink(tmp);
        errno = saved;
    }
    if (e == DM_EEXISTS) return dm_fail(err, e, "a session file %s already exists", path);
    if (e != DM_OK)
        return dm_fail(err, e, "cannot %s the session file %s: %s", step, path, strerror(errno));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* makes the rename durable; the file is complete either way */
        fsync(dfd);
        close(dfd);
    }
    return DM_OK;
}

/* The sealed file of the session file's bytes img: *out malloc'd. */
static dm_err seal_image(const struct secret_key *master, const unsigned char *img, size_t len,
                         unsigned char **out, size_t *out_len, struct dm_error *err)
{
    char *text = NULL;
    dm_err e = secret_seal(master, img, len, &text);
    if (e != DM_OK) return dm_fail(err, e, "cannot seal the session file: %s", dm_strerror(e));
    size_t m = strlen(TG_SESSION_SEALED_MAGIC), t = strlen(text);
    unsigned char *buf = malloc(m + t + 1);
    if (buf) {
        memcpy(buf, TG_SESSION_SEALED_MAGIC, m);
        memcpy(buf + m, text, t);
        buf[m + t] = '\n';
    }
    free(text);
    if (!buf) return dm_fail(err, DM_ENOMEM, "out of memory sealing a session file");
    *out = buf;
    *out_len = m + t + 1;
    return DM_OK;
}

/* Writes s's Pyrogram v3 image to path, sealed with master unless it is NULL. */
static dm_err write_session(const char *path, const struct tg_session *s,
                            const struct secret_key *master, bool overwrite, struct dm_error *err)
{
    dm_err e = tg_session_check(s, "This session cannot be saved", err);
    if (e != DM_OK) return e;
    char dir[PATH_MAX], tmp[PATH_MAX];
    if ((e = place_check(path, overwrite, dir, tmp, sizeof dir, err)) != DM_OK) return e;
    unsigned char *img = NULL, *sealed = NULL;
    size_t len = 0, sealed_len = 0;
    e = pyrogram_image(s, NULL, 0, &img, &len, err);
    if (e == DM_OK && master) e = seal_image(master, img, len, &sealed, &sealed_len, err);
    if (e == DM_OK)
        e = master ? place_file(path, dir, tmp, sealed, sealed_len, overwrite, err)
                   : place_file(path, dir, tmp, img, len, overwrite, err);
    if (img) secret_wipe(img, len);
    sqlite3_free(img);
    free(sealed);
    return e;
}

dm_err tg_session_write_pyrogram(const char *path, const struct tg_session *s, bool overwrite,
                                 struct dm_error *err)
{
    return write_session(path, s, NULL, overwrite, err);
}

dm_err tg_session_write_sealed(const char *path, const struct tg_session *s,
                               const struct secret_key *master, bool overwrite,
                               struct dm_error *err)
{
    return write_session(path, s, master, overwrite, err);
}

dm_err tg_session_pyrogram_bytes(const struct tg_session *s, const struct tg_peer *peers,
                                 size_t npeers, unsigned char **out, size_t *len,
                                 struct dm_error *err)
{
    *out = NULL;
    *len = 0;
    dm_err e = tg_session_check(s, "This session cannot be exported", err);
    unsigned char *img = NULL;
    size_t n = 0;
    if (e == DM_OK) e = pyrogram_image(s, peers, npeers, &img, &n, err);
    if (e == DM_OK && !(*out = malloc(n)))
        e = dm_fail(err, DM_ENOMEM, "out of memory building a session file");
    if (e == DM_OK) {
        memcpy(*out, img, n);
        *len = n;
    }
    if (img) secret_wipe(img, n);
    sqlite3_free(img);
    return e;
}

/* ---- doorman's stored files: sealed, or plain from before ---- */

bool tg_session_is_sealed(const void *data, size_t len)
{
    size_t m = strlen(TG_SESSION_SEALED_MAGIC);
    return len >= m && memcmp(data, TG_SESSION_SEALED_MAGIC, m) == 0;
}

#define NOT_OPENED "This session file cannot be opened"

/* Opens the sealed file data (len bytes) with master: *plain malloc'd, *plain_len bytes. */
static dm_err unseal(const struct secret_key *master, const unsigned char *data, size_t len,
                     char **plain, size_t *plain_len, struct dm_error *err)
{
    size_t m = strlen(TG_SESSION_SEALED_MAGIC);
    const unsigned char *body = data + m;
    size_t n = len - m;
    if (n > 0 && body[n - 1] == '\n') n--;
    if (memchr(body, 0, n))
        return dm_fail(err, DM_ECRYPTO, NOT_OPENED ": its sealed text is damaged.");
    char *text = malloc(n + 1);
    if (!text) return dm_fail(err, DM_ENOMEM, "out of memory opening a session file");
    memcpy(text, body, n);
    text[n] = 0;
    dm_err e = secret_open(master, text, plain, plain_len);
    free(text);
    if (e == DM_ENOMEM) return dm_fail(err, e, "out of memory opening a session file");
    if (e != DM_OK)
        return dm_fail(err, DM_ECRYPTO,
                       NOT_OPENED ": it was sealed with another master key than this doorman's "
                                  "(DOORMAN_SECRET_KEY or secret.key), or it was altered.");
    return DM_OK;
}

dm_err tg_session_read_stored(const char *path, const struct secret_key *master,
                              struct tg_session *out, unsigned char **image, size_t *len,
                              bool *sealed, struct dm_error *err)
{
    if (out) memset(out, 0, sizeof *out);
    if (image) *image = NULL;
    if (len) *len = 0;
    unsigned char *data = NULL;
    size_t n = 0;
    dm_err e = load_file(path, TG_SESSION_SEALED_MAX, true, &data, &n, err);
    if (e != DM_OK) return e;
    bool was_sealed = tg_session_is_sealed(data, n);
    if (sealed) *sealed = was_sealed;
    if (was_sealed) {
        char *plain = NULL;
        size_t plain_len = 0;
        e = unseal(master, data, n, &plain, &plain_len, err);
        secret_wipe(data, n);
        free(data);
        data = (unsigned char *)plain;
        n = plain_len;
        if (e != DM_OK) return e;
    }
    struct tg_session s;
    e = tg_session_read_bytes(data, n, &s, err);
    if (e == DM_OK && out) *out = s;
    tg_session_wipe(&s);
    if (e == DM_OK && image) {
        *image = data;
        if (len) *len = n;
        return DM_OK;
    }
    secret_wipe(data, n);
    free(data);
    return e;
}

dm_err tg_session_seal_file(const char *path, const struct secret_key *master, bool *converted,
                            struct dm_error *err)
{
    *converted = false;
    unsigned char *data = NULL, *sealed = NULL;
    size_t n = 0, sealed_len = 0;
    dm_err e = load_file(path, TG_SESSION_SEALED_MAX, true, &data, &n, err);
    if (e != DM_OK) return e;
    if (tg_session_is_sealed(data, n)) {
        free(data); /* nothing secret in a sealed file */
        return DM_OK;
    }
    struct tg_session s;
    e = tg_session_read_bytes(data, n, &s, err);
    tg_session_wipe(&s);
    char dir[PATH_MAX], tmp[PATH_MAX];
    if (e == DM_OK) e = place_check(path, true, dir, tmp, sizeof dir, err);
    if (e == DM_OK) e = seal_image(master, data, n, &sealed, &sealed_len, err);
    if (e == DM_OK) e = place_file(path, dir, tmp, sealed, sealed_len, true, err);
    secret_wipe(data, n);
    free(data);
    free(sealed);
    if (e == DM_OK) *converted = true;
    return e;
}

/* ---- names ---- */

bool tg_session_name_valid(const char *name)
{
    size_t n = 0;
    for (; name && name[n]; n++) {
        char c = name[n];
        if (n >= TG_SESSION_NAME_MAX || !(('0' <= c && c <= '9') || ('a' <= c && c <= 'z') ||
                                          ('A' <= c && c <= 'Z') || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

dm_err tg_session_path(const char *dir, const char *name, char *out, size_t n, struct dm_error *err)
{
    if (!tg_session_name_valid(name))
        return dm_fail(err, DM_EINVAL, "A session name is 1 to 64 letters, digits, '_' or '-'.");
    int w = snprintf(out, n, "%s/%s.session", dir, name);
    if (w < 0 || (size_t)w >= n) return dm_fail(err, DM_ETOOBIG, "the session path is too long");
    return DM_OK;
}
