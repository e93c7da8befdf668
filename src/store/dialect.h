/* dialect.h: what a database backend gives the store (internal to src/store/).
 *
 * The store's rules (store.c, requests.c, jobs.c) are written once against this interface, as
 * git's refs.c is written against ref_storage_be: a backend supplies only what differs by
 * database — connecting, connections for reading and for writing, transactions, running a
 * statement with typed arguments and handing its rows over, and classifying its errors.
 * Statement texts come from one table (sql.h); the rules pick the text for the dialect.
 *
 * Errors every backend reports alike: a broken unique constraint is DM_EEXISTS; a lost
 * connection or a server going away is DM_EUNAVAILABLE (the next call connects again);
 * anything else DM_EDB. Messages name what was being done and never a value or a password.
 *
 * Threading: a struct db is used from any number of threads; a struct db_conn by the thread
 * that took it, until it gives it back. */
#ifndef DM_STORE_DIALECT_H
#define DM_STORE_DIALECT_H

#include "core/common.h"

#include <pthread.h>

#define DB_ARGS_MAX 24
#define DB_ARG_TEXT_MAX 12288 /* text of one statement's arguments: the largest record fits */

struct db;      /* a backend's open database */
struct db_conn; /* one of its connections */

/* A statement's arguments $1..$n, in order, begun with args_init(). Text is copied, cut to the size
 * of the field it is stored in (at a UTF-8 boundary), or referenced (arg_ref: the caller keeps it
 * alive until the statement ran). Adding past DB_ARGS_MAX or the text room sets `overflow`, which
 * makes the statement fail with DM_ETOOBIG. */
struct db_args {
    int n;
    bool overflow;
    struct {
        bool is_text;
        int64_t i;
        const char *s;
    } v[DB_ARGS_MAX];
    size_t used;
    char text[DB_ARG_TEXT_MAX];
};

/* Makes a empty; the text room is not cleared (only what arguments use is read). */
void args_init(struct db_args *a);
void arg_int(struct db_args *a, int64_t v);
void arg_text(struct db_args *a, const char *s, size_t size); /* cut to size - 1 bytes */
void arg_ref(struct db_args *a, const char *s);

/* One row handed to a row callback, valid only during the call. */
struct db_row {
    const struct dialect *d;
    void *impl; /* the backend's cursor */
    int index;  /* the backend's row number */
};

int64_t row_int(const struct db_row *r, int col);
/* Copies a text column into dst of `size` bytes (cut at a UTF-8 boundary); NULL reads "". */
void row_text(const struct db_row *r, int col, char *dst, size_t size);
#define ROW_TEXT(r, col, field) row_text(r, col, field, sizeof(field))

/* Called for each row; a non-DM_OK return stops the statement and becomes its result. */
typedef dm_err (*db_row_fn)(void *ctx, const struct db_row *row);

/* How a backend that keeps a statement's plan (PostgreSQL) plans it:
 *   DB_PLAN_AUTO  as the backend chooses;
 *   DB_PLAN_EACH  again for every run, for its values: its best plan depends on them (a search
 *                 text: a rare one wants the search index, a common one the id order);
 *   DB_PLAN_ONCE  once for all values: every value is served by the same index walk (a list
 *                 page unfiltered or by channel), though the backend's estimate of a LIMIT $n
 *                 would make it plan again on every run. Honoured outside transactions;
 *   DB_PLAN_ANY   either way: its one plan is what the backend picks for any value (a lookup
 *                 by a unique key), so it runs under whichever of the above the connection was
 *                 last set to. */
enum db_plan { DB_PLAN_AUTO = 0, DB_PLAN_EACH, DB_PLAN_ONCE, DB_PLAN_ANY };

/* A statement to run: `key` identifies its text for the backend's statement cache (the same
 * key always comes with the same text; -1: not cached), `what` says what it does, for
 * messages, `plan` how it is planned (above). */
struct db_stmt {
    int key;
    const char *sql;
    const char *what;
    enum db_plan plan;
};

/* One of the reads dialect->run_reads runs: s with a, each row to fn(ctx, row). */
struct db_read {
    const struct db_stmt *s;
    const struct db_args *a;
    db_row_fn fn;
    void *ctx;
};
#define DB_READS_MAX 4

enum db_kind { DB_SQLITE = 0, DB_POSTGRES = 1 };

struct dialect {
    enum db_kind kind;
    /* Opens the database named by url (the backend's own part) and brings its schema to the
     * latest migration (schema.h). */
    dm_err (*open)(const char *url, struct db **out, struct dm_error *err);
    void (*close)(struct db *db);
    /* A connection to read with (`write` false: it may see the last commit only and must not
     * change anything) or to change data with. Every taken connection is given back. */
    dm_err (*conn_get)(struct db *db, bool write, struct db_conn **out, struct dm_error *err);
    void (*conn_put)(struct db *db, struct db_conn *c);
    /* Whether c is inside a transaction (dialect_tx_end rolls back only then). */
    bool (*in_tx)(struct db_conn *c);
    /* Runs one statement. Parameters are written $1..$n in the text. fn (may be NULL) gets
     * each row; *changes (may be NULL) the rows an INSERT, UPDATE or DELETE changed. */
    dm_err (*run)(struct db_conn *c, const struct db_stmt *s, const struct db_args *a, db_row_fn fn,
                  void *ctx, int64_t *changes, struct dm_error *err);
    /* Optional (NULL: the caller runs them one by one): runs n reads on c, outside a
     * transaction, as run() would one after the other, and hands each one's rows to its fn;
     * the first failure is the result. A backend may send them together (PostgreSQL: one
     * round trip for all). n is at most DB_READS_MAX. */
    dm_err (*run_reads)(struct db_conn *c, const struct db_read *reads, int n,
                        struct dm_error *err);
    /* Runs several statements without arguments or rows (schema migrations). */
    dm_err (*script)(struct db_conn *c, const char *sql, const char *what, struct dm_error *err);
    /* Column readers for struct db_row. col_text returns NULL for SQL NULL. */
    int64_t (*col_int)(const struct db_row *r, int col);
    const char *(*col_text)(const struct db_row *r, int col);
    /* Optional (NULL: this backend's databases are copied with its own tools): copies the
     * database into a new file at path as one snapshot while others go on writing, calling
     * progress(ctx, done, total) after each step (store/backup.h). */
    dm_err (*backup)(struct db *db, const char *path,
                     void (*progress)(void *ctx, int64_t done, int64_t total), void *ctx,
                     struct dm_error *err);
    /* Optional (NULL: nothing to give back): store_release_idle (store.h). */
    int (*release_idle)(struct db *db); /* the connections it closed */
};

/* The operations of a dialect whose functions are named PREFIX_open, PREFIX_close, … */
#define DIALECT_OPS(p)                                                                             \
    .open = p##_open, .close = p##_close, .conn_get = p##_conn_get, .conn_put = p##_conn_put,      \
    .in_tx = p##_in_tx, .run = p##_run, .script = p##_script, .col_int = p##_col_int,              \
    .col_text = p##_col_text

/* A fixed set of connection slots, each used by one thread at a time: slots_take waits for a
 * free one and returns its index, slots_try takes slot i only when it is free (true), slots_give
 * frees it. */
#define SLOTS_MAX 8
struct slots {
    pthread_mutex_t lock; /* guards busy */
    pthread_cond_t free;
    int n;
    bool busy[SLOTS_MAX];
};
void slots_init(struct slots *s, int n);
void slots_release(struct slots *s);
int slots_take(struct slots *s);
bool slots_try(struct slots *s, int i);
void slots_give(struct slots *s, int i);

/* Ends the transaction on c: commits when e is DM_OK, else rolls back; returns e or the
 * commit's error. */
dm_err dialect_tx_end(const struct dialect *d, struct db_conn *c, dm_err e, struct dm_error *err);

extern const struct dialect dialect_sqlite;
extern const struct dialect dialect_postgres; /* url: postgresql://… as libpq reads it */

#endif
