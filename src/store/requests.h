/* requests.h: what jobs.c and store.c use of the request rules (internal to src/store/). */
#ifndef DM_STORE_REQUESTS_H
#define DM_STORE_REQUESTS_H

#include "core/buf.h"
#include "store/db.h"

/* Records rows[0..n) inside tx as store_request_add_many does (their names folded for search,
 * a few statements for all of them); *inserted gets how many were new. */
dm_err request_insert(struct tx *tx, const struct store_request *rows, size_t n, size_t *inserted,
                      struct dm_error *err);

/* A step request_insert_then runs in tx over each batch it recorded, right after recording it,
 * while a statement can still read the batch: fn(ctx, tx, batch, err), batch NULL on SQLite
 * (the batch is staged in temp.request_batch, sql.c S_REQUEST_STAGE, emptied after the step)
 * and on PostgreSQL the batch's JSON array as S_REQUEST_ADD reads it (rows.h json_request),
 * valid during the call only. A batch is every row on SQLite, some 3,000 on PostgreSQL
 * (requests.c RECORD_CHUNK); none when n is 0. An error of fn ends the recording with it. */
struct request_then {
    dm_err (*fn)(void *ctx, struct tx *tx, const char *batch, struct dm_error *err);
    void *ctx;
};

/* request_insert, with then->fn run over each batch (then may be NULL: nothing). */
dm_err request_insert_then(struct tx *tx, const struct store_request *rows, size_t n,
                           const struct request_then *then, size_t *inserted, struct dm_error *err);

/* Folds every request's names again when the search column was folded another way (an older
 * doorman, another Unicode version), then records the folding in use. Run at open. */
dm_err requests_refold(struct store *st, struct dm_error *err);

/* The kinds of statement built over a request filter; each (kind, filter shape) has its own
 * statement key, so a backend can keep it prepared. FS_SEARCH_FIRST is built by requests.c
 * alone (PostgreSQL: a search's first page with its counts). */
enum filter_stmt { FS_LIST = 0, FS_COUNT, FS_COUNT_KEPT, FS_JOB_ITEMS, FS_SEARCH_FIRST };

/* A filter made ready: its shape (which fields are set) and the values to bind. */
struct filter {
    unsigned shape;
    int status;
    int64_t chat_id, date_from, date_to, user_id, rule_id;
    char scope[STORE_SCOPE_MAX];
    const char *link; /* the filter's invite_link (borrowed from it) */
    char *pattern;    /* q folded, as a LIKE pattern or a trigram index phrase; malloc'd */
    bool words;       /* q folded has 3 letters or digits in a row: a trigram index serves it */
};

/* Reads f (NULL = no filter) for a statement in kind's dialect (on SQLite a search of 3
 * characters or more goes through the trigram index). filter_release frees what it holds. */
dm_err filter_init(struct filter *f, const struct store_request_filter *rf, enum db_kind kind,
                   struct dm_error *err);
void filter_release(struct filter *f);
#define F_STATUS 1u

/* The statement of `kind` over the requests f lets through (ignoring its status unless
 * with_status) into b (cap SQL_FILTER_MAX; released by the caller), its values appended to a
 * after the arguments the kind takes first, which the caller has added:
 *   FS_LIST       $1 before this id, $2 at most this many; newest first
 *   FS_COUNT      $1 at most this many rows read; rows (status, count)
 *   FS_COUNT_KEPT (none); rows (status, count) from the trigger-kept totals (a chat and a
 *                 scope at most)
 *   FS_JOB_ITEMS  $1 the job: adds an item for each pending request
 * *s names the statement. */
dm_err filter_stmt(enum filter_stmt kind, const struct filter *f, bool with_status, struct buf *b,
                   struct db_args *a, struct db_stmt *s, struct dm_error *err);

#endif
