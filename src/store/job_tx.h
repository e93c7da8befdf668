/* job_tx.h: pieces of jobs.c (and the audit entry of store.c) that other parts of the store use
 * inside their own transactions (internal to src/store/). Each returns DM_OK or the dialect's error
 * in *err. */
#ifndef DM_STORE_JOB_TX_H
#define DM_STORE_JOB_TX_H

#include "store/db.h"

/* DM_ECONFLICT (naming why) unless `owner` holds running job job_id; marks it updated at now. */
dm_err job_tx_held(struct tx *tx, int64_t job_id, const char *owner, int64_t now,
                   struct dm_error *err);
/* Finishes the item (job_id, request_id) as done when it was pending: *done += 1 then. The
 * job's counters are job_tx_count_done's. */
dm_err job_tx_item_done(struct tx *tx, int64_t job_id, int64_t request_id, int64_t *done,
                        struct dm_error *err);
dm_err job_tx_count_done(struct tx *tx, int64_t job_id, int64_t done, int64_t now,
                         struct dm_error *err);
/* Adds the requests ids[0..n) as items to the newest queued job with job's kind, via, admin and
 * params, or to a new job made of *job, and counts them into its total. */
dm_err job_tx_add_queued(struct tx *tx, const struct store_job *job, const int64_t *ids, size_t n,
                         int64_t now, struct dm_error *err);

/* Records the verdicts v[0..n) inside tx (store_verdicts_record's, verdicts.c): their
 * requests' verdicts in one statement, then what each brings (a verification, a decision due).
 * pending (may be NULL; room for n) tells whether each request still waited. */
dm_err verdicts_tx_record(struct tx *tx, const struct store_verdict *v, size_t n, bool *pending,
                          struct dm_error *err);

/* One audit entry inside tx (store_audit_add's, in a transaction of the caller's). */
dm_err tx_audit(struct tx *tx, const struct store_audit *a, struct dm_error *err);

/* Records event e inside tx when its kind is wanted (store_events_want); nothing otherwise. */
dm_err tx_event(struct tx *tx, const struct store_event *e, struct dm_error *err);
/* Whether events of kind are wanted now. */
bool store_event_wanted(struct store *st, int kind);

#endif
