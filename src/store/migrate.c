/* migrate.c: copies an SQLite database into an empty PostgreSQL one (see migrate.h).
 *
 * The column lists come from the target (information_schema, in column order), so both sides
 * name the same columns. The folded names of invite_requests.search are copied as they are:
 * both stores fold with core/fold.h, and opening the source folds it again first if an older
 * doorman wrote it. */
#include "core/common.h"
#include "store/migrate.h"

#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>

#include "core/buf.h"
#include "store/schema.h"
#include "store/store.h"

#define COPY_CHUNK (1u << 20) /* bytes of COPY text sent at a time */
#define COLS_SQL_MAX 2048

struct mig {
    sqlite3 *src;
    PGconn *dst;
    struct dm_error *err;
};

static dm_err pg_ok(struct mig *m, PGresult *r, const char *what)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN) return DM_OK;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    return dm_fail(m->err, DM_EDB, "PostgreSQL failed while %s: %s", what,
                   msg ? msg : PQerrorMessage(m->dst));
}

static dm_err pg_exec(struct mig *m, const char *sql, const char *what)
{
    PGresult *r = PQexec(m->dst, sql);
    dm_err e = pg_ok(m, r, what);
    PQclear(r);
    return e;
}

static dm_err sq_fail(struct mig *m, const char *what)
{
    return dm_fail(m->err, DM_EDB, "SQLite failed while %s: %s", what, sqlite3_errmsg(m->src));
}

/* The target's columns of table t, comma-separated. */
static dm_err columns(struct mig *m, const char *t, struct buf *out)
{
    const char *params[1] = {t};
    PGresult *r = PQexecParams(m->dst,
                               "SELECT column_name FROM information_schema.columns WHERE "
                               "table_schema = current_schema() AND table_name = $1 "
                               "ORDER BY ordinal_position",
                               1, NULL, params, NULL, NULL, 0);
    dm_err e = pg_ok(m, r, "reading the target's columns");
    for (int i = 0; !e && i < PQntuples(r); i++)
        e = buf_printf(out, "%s%s", i ? ", " : "", PQgetvalue(r, i, 0));
    if (e == DM_ETOOBIG) e = dm_fail(m->err, e, "table %s has too many columns", t);
    if (!e && PQntuples(r) == 0) e = dm_fail(m->err, DM_EDB, "the target has no table %s", t);
    PQclear(r);
    return e;
}

/* Adds one row's values to the running checksum: each value's text, then 0x1f; 0x1e ends it. */
static void hash_value(crypto_hash_sha256_state *h, const char *v, size_t n)
{
    crypto_hash_sha256_update(h, (const unsigned char *)v, n);
    crypto_hash_sha256_update(h, (const unsigned char *)"\x1f", 1);
}

static void hash_hex(crypto_hash_sha256_state *h, char out[65])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(h, d);
    sodium_bin2hex(out, 65, d, sizeof d);
}

/* COPY text format: backslash, tab, newline and carriage return escaped. */
static dm_err copy_text(struct buf *b, const char *v, size_t n)
{
    dm_err e = DM_OK;
    for (size_t i = 0; i < n && !e; i++) {
        char c = v[i];
        const char *esc = c == '\\'   ? "\\\\"
                          : c == '\t' ? "\\t"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                                      : NULL;
        e = esc ? buf_append(b, esc, 2) : buf_append(b, &c, 1);
    }
    return e;
}

/* Copies table t from the snapshot into the target; *rows and sum get what was read. */
static dm_err copy_table(struct mig *m, const char *t, const char *key, const char *cols,
                         int64_t *rows, char sum[65])
{
    char sql[COLS_SQL_MAX + 200];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s", cols, t, key);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(m->src, sql, -1, &q, NULL) != SQLITE_OK)
        return sq_fail(m, "reading the source (is it doorman's database?)");
    snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN", t, cols);
    dm_err e = pg_exec(m, sql, "starting the copy");
    struct buf b;
    buf_init(&b, 2 * COPY_CHUNK);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    *rows = 0;
    int rc, ncol = sqlite3_column_count(q);
    while (!e && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        for (int i = 0; i < ncol && !e; i++) {
            const char *v = (const char *)sqlite3_column_text(q, i);
            size_t n = (size_t)sqlite3_column_bytes(q, i);
            hash_value(&h, v ? v : "", v ? n : 0);
            e = copy_text(&b, v ? v : "", v ? n : 0);
            if (!e) e = buf_append(&b, i + 1 < ncol ? "\t" : "\n", 1);
        }
        crypto_hash_sha256_update(&h, (const unsigned char *)"\x1e", 1);
        (*rows)++;
        if (!e && b.len >= COPY_CHUNK) {
            if (PQputCopyData(m->dst, b.data, (int)b.len) != 1)
                e = dm_fail(m->err, DM_EDB, "PostgreSQL failed while copying %s: %s", t,
                            PQerrorMessage(m->dst));
            buf_reset(&b);
        }
    }
    if (e == DM_ETOOBIG) e = dm_fail(m->err, e, "a row of %s is too large to copy", t);
    if (!e && rc != SQLITE_DONE) e = sq_fail(m, "reading the source");
    sqlite3_finalize(q);
    if (!e && b.len && PQputCopyData(m->dst, b.data, (int)b.len) != 1)
        e = dm_fail(m->err, DM_EDB, "PostgreSQL failed while copying %s", t);
    buf_release(&b);
    if (PQputCopyEnd(m->dst, e ? "doorman migrate failed" : NULL) != 1 && !e)
        e = dm_fail(m->err, DM_EDB, "PostgreSQL failed while ending the copy of %s", t);
    PGresult *r;
    while ((r = PQgetResult(m->dst))) {
        if (!e) e = pg_ok(m, r, "copying rows");
        PQclear(r);
    }
    hash_hex(&h, sum);
    return e;
}

/* The target's rows of table t, hashed as copy_table hashed the source's. */
static dm_err target_sum(struct mig *m, const char *t, const char *key, const char *cols,
                         int64_t *rows, char sum[65])
{
    char sql[COLS_SQL_MAX + 300];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s", cols, t, key);
    PGresult *r = PQexec(m->dst, sql);
    dm_err e = pg_ok(m, r, "verifying the copy");
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    *rows = e ? 0 : PQntuples(r);
    for (int i = 0; !e && i < PQntuples(r); i++) {
        for (int c = 0; c < PQnfields(r); c++)
            hash_value(&h, PQgetvalue(r, i, c), (size_t)PQgetlength(r, i, c));
        crypto_hash_sha256_update(&h, (const unsigned char *)"\x1e", 1);
    }
    PQclear(r);
    hash_hex(&h, sum);
    return e;
}

static dm_err target_empty(struct mig *m)
{
    for (size_t i = 0; i < schema_kept_n; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT EXISTS (SELECT 1 FROM %s)", schema_kept[i].name);
        PGresult *r = PQexec(m->dst, sql);
        dm_err e = pg_ok(m, r, "checking that the target is empty");
        bool full = !e && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
        if (e) return e;
        if (full)
            return dm_fail(m->err, DM_EEXISTS,
                           "the target database already holds data (table %s): migrate into an "
                           "empty database",
                           schema_kept[i].name);
    }
    return DM_OK;
}

static dm_err copy_all(struct mig *m, FILE *out)
{
    dm_err e = target_empty(m);
    struct buf cols;
    buf_init(&cols, COLS_SQL_MAX);
    for (size_t i = 0; i < schema_kept_n && !e; i++) {
        const char *t = schema_kept[i].name, *key = schema_kept[i].key;
        buf_reset(&cols);
        e = columns(m, t, &cols);
        int64_t n_src = 0, n_dst = 0;
        char sum_src[65] = "", sum_dst[65] = "";
        if (!e) e = copy_table(m, t, key, cols.data, &n_src, sum_src);
        if (!e) e = target_sum(m, t, schema_kept[i].pg_key, cols.data, &n_dst, sum_dst);
        if (!e && (n_src != n_dst || strcmp(sum_src, sum_dst) != 0))
            e = dm_fail(m->err, DM_EDB,
                        "table %s differs after the copy (%" PRId64 " rows read, %" PRId64
                        " written; checksums %.16s… and %.16s…): nothing was committed",
                        t, n_src, n_dst, sum_src, sum_dst);
        if (!e) fprintf(out, "%-16s %10" PRId64 " rows  sha256 %s  ok\n", t, n_src, sum_src);
    }
    buf_release(&cols);
    for (size_t i = 0; i < schema_serial_n && !e; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT setval(pg_get_serial_sequence('%s', 'id'), "
                 "coalesce(max(id), 1), max(id) IS NOT NULL) FROM %s",
                 schema_serial[i], schema_serial[i]);
        e = pg_exec(m, sql, "setting the id sequences");
    }
    return e;
}

dm_err store_migrate(const char *from, const char *to, FILE *out, struct dm_error *err)
{
    const char *path = strncmp(from, "sqlite:", 7) == 0 ? from + 7 : from;
    if (strstr(from, "://"))
        return dm_fail(err, DM_EINVAL, "--from must be an SQLite database: sqlite:PATH or a path");
    if (strncmp(to, "postgresql://", 13) != 0 && strncmp(to, "postgres://", 11) != 0)
        return dm_fail(err, DM_EINVAL, "--to must be a PostgreSQL URL: postgresql://…");
    if (access(path, R_OK) != 0)
        return dm_fail(err, DM_ENOTFOUND, "cannot read %s: %s", path, strerror(errno));
    if (sodium_init() < 0) return dm_fail(err, DM_EINVAL, "libsodium cannot start");
    /* both at the latest schema: the source is upgraded as doorman serve would */
    struct store *st = NULL;
    dm_err e = store_open(from, &st, err);
    store_close(st);
    st = NULL;
    if (!e) e = store_open(to, &st, err);
    store_close(st);
    if (e) return e;

    struct mig m = {.err = err};
    m.dst = PQconnectdb(to);
    if (!m.dst || PQstatus(m.dst) != CONNECTION_OK) {
        PQfinish(m.dst);
        return dm_fail(err, DM_EUNAVAILABLE, "cannot connect to the target database");
    }
    if (sqlite3_open_v2(path, &m.src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        e = sq_fail(&m, "opening the source");
    } else {
        /* one read transaction: every table from the same moment */
        sqlite3_busy_timeout(m.src, 10000);
        if (sqlite3_exec(m.src, "BEGIN; SELECT count(*) FROM schema_version", NULL, NULL, NULL) !=
            SQLITE_OK)
            e = sq_fail(&m, "starting a read transaction");
    }
    if (!e) e = pg_exec(&m, "BEGIN", "starting a transaction");
    if (!e) e = copy_all(&m, out);
    if (!e) e = pg_exec(&m, "COMMIT", "committing");
    /* statistics for the planner now, not when autovacuum comes round: without them a search
     * is planned as if every name were rare */
    if (!e) e = pg_exec(&m, "ANALYZE", "gathering statistics (ANALYZE)");
    m.err = NULL; /* err keeps the first failure */
    if (e && PQtransactionStatus(m.dst) != PQTRANS_IDLE) pg_exec(&m, "ROLLBACK", "rolling back");
    sqlite3_close(m.src);
    PQfinish(m.dst);
    return e;
}
