/* db.h: how the store's rules run statements (internal to src/store/).
 *
 * Each public store function is one statement on a connection taken for it (db_exec,
 * db_read_*) or one transaction (tx_open … tx_close) on a write connection. Row readers turn
 * a row into a record (rows.h). Every helper returns DM_OK or the dialect's error in *err. */
#ifndef DM_STORE_DB_H
#define DM_STORE_DB_H

#include "store/dialect.h"

#include <pthread.h>
#include <stdatomic.h>
#include "store/sql.h"
#include "store/store.h"

/* A web session read lately (store.c): its record, the change count it was read at, and the
 * monotonic time until which it serves. */
#define WS_CACHE_SLOTS 16
struct ws_cached {
    struct store_websession ws;
    uint64_t gen;
    int64_t until_ms; /* 0: an empty slot */
};

struct store {
    const struct dialect *d;
    struct db *db;
    void (*on_added)(void *ctx); /* store_on_request_added */
    void *on_added_ctx;
    _Atomic uint32_t events_want; /* store_events_want */
    void (*on_event)(void *ctx);  /* store_on_event */
    void *on_event_ctx;
    pthread_mutex_t ws_lock;             /* guards the three below */
    uint64_t ws_gen;                     /* changes to web sessions or admins made here */
    unsigned ws_next;                    /* the slot the next session read goes to */
    struct ws_cached ws[WS_CACHE_SLOTS]; /* sessions read lately */
};

/* Notes that web sessions or admins were changed (a session ended, an admin's password or role
 * changed, an admin removed): the sessions read before serve no more (store_websession_get). */
void db_sessions_changed(struct store *st);

/* Calls the store's on_added hook: a new request was committed (requests.c, tx_close). */
void db_request_added(struct store *st);

/* Turns a row into a record at out (which the reader clears first). */
typedef void (*row_reader)(const struct db_row *r, void *out);

/* The text of statement id for st's dialect. */
struct db_stmt db_stmt_of(const struct store *st, enum sql_id id);

/* One statement on a write connection; *changes (may be NULL) as in dialect.run. */
dm_err db_exec(struct store *st, enum sql_id id, const struct db_args *a, int64_t *changes,
               struct dm_error *err);
/* Collects rows into an array of records: db_collect_row (a db_row_fn) with a struct
 * db_collect as its ctx puts each row, read by fn, into out[n++] of `size`-byte records while
 * n < limit. */
struct db_collect {
    row_reader fn;
    char *out;
    size_t size;
    int limit, n;
};
dm_err db_collect_row(void *ctx, const struct db_row *r);
/* Runs n reads (at most DB_READS_MAX) on one read connection, together where the dialect can
 * (dialect.run_reads: PostgreSQL sends them in one round trip), else one after the other. */
dm_err db_read_many(struct store *st, const struct db_read *reads, int n, struct dm_error *err);
/* One statement on a write connection whose rows (RETURNING) fn gets with ctx. */
dm_err db_exec_rows(struct store *st, enum sql_id id, const struct db_args *a, db_row_fn fn,
                    void *ctx, struct dm_error *err);
/* Reads up to `limit` rows of a statement on a read connection into out[] of `size`-byte
 * records; *n gets how many. s is a statement of sql.h or one built by the caller. */
dm_err db_read(struct store *st, const struct db_stmt *s, const struct db_args *a, row_reader fn,
               void *out, size_t size, int limit, int *n, struct dm_error *err);
/* Reads one row of statement id into out; DM_ENOTFOUND with `missing` when there is none. */
dm_err db_read_one(struct store *st, enum sql_id id, const struct db_args *a, row_reader fn,
                   void *out, const char *missing, struct dm_error *err);
/* Reads the row of statement id whose $1 is the integer key; DM_ENOTFOUND "no <noun> with id
 * <key>" when there is none. */
dm_err db_read_id(struct store *st, enum sql_id id, int64_t key, row_reader fn, void *out,
                  const char *noun, struct dm_error *err);
/* Reads the row of statement id whose $1 is the text key (cut to size) and $2 is now. */
dm_err db_read_timed(struct store *st, enum sql_id id, const char *key, size_t size, int64_t now,
                     row_reader fn, void *out, const char *missing, struct dm_error *err);
/* Reads every row (at most max) of statement id with arguments a (may be NULL) into a
 * malloc'd array *out of `size`-byte records, owned by the caller; DM_ETOOBIG ("more than
 * <max> <too_many>") past max. */
dm_err db_read_all(struct store *st, enum sql_id id, const struct db_args *a, row_reader fn,
                   size_t size, size_t max, const char *too_many, void **out, size_t *n,
                   struct dm_error *err);
/* "… WHERE id < $1 ORDER BY id DESC LIMIT $2": newest first, before_id 0 = first page;
 * db_read_page_of binds key (borrowed) as $3 too. */
dm_err db_read_page(struct store *st, enum sql_id id, int64_t before_id, int limit, row_reader fn,
                    void *out, size_t size, int *n, struct dm_error *err);
dm_err db_read_page_of(struct store *st, enum sql_id id, const char *key, int64_t before_id,
                       int limit, row_reader fn, void *out, size_t size, int *n,
                       struct dm_error *err);

/* A transaction on a write connection: tx_open takes the connection and begins; tx_close
 * commits when e is DM_OK (else rolls back), gives the connection back and returns e or the
 * commit's error. */
struct tx {
    struct store *st;
    struct db_conn *c;
    bool added;   /* a request was recorded: tx_close calls the on_added hook after committing */
    bool evented; /* an event was recorded: tx_close calls the on_event hook after committing */
};
dm_err tx_open(struct store *st, struct tx *tx, struct dm_error *err);
dm_err tx_close(struct tx *tx, dm_err e, struct dm_error *err);
/* One statement inside the transaction. fn gets each row with ctx. */
dm_err tx_run(struct tx *tx, enum sql_id id, const struct db_args *a, db_row_fn fn, void *ctx,
              int64_t *changes, struct dm_error *err);
dm_err tx_run_stmt(struct tx *tx, const struct db_stmt *s, const struct db_args *a, db_row_fn fn,
                   void *ctx, int64_t *changes, struct dm_error *err);
/* Reads the first row of statement id into out with fn; *found tells whether there was one. */
dm_err tx_read_one(struct tx *tx, enum sql_id id, const struct db_args *a, row_reader fn, void *out,
                   bool *found, struct dm_error *err);

/* A row reader of column 0 as an integer into *(int64_t *)out. */
void row_int0(const struct db_row *r, void *out);

#endif
