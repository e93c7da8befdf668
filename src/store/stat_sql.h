/* stat_sql.h: the SQL both the schema's rollup triggers and folds (schema.c) and the store's
 * statements (sql.c) compute a request's statistics buckets with (internal to src/store/). */
#ifndef DM_STORE_STAT_SQL_H
#define DM_STORE_STAT_SQL_H

/* When request R was decided, for stat_decided: decided_at, or tg_date for a request recorded
 * decided without one. */
#define STAT_DECIDED_AT(R)                                                                         \
    "(CASE WHEN " R ".decided_at > 0 THEN " R ".decided_at ELSE " R ".tg_date END)"
/* The stat_latency_buckets bucket of request R's time to decision. */
#define STAT_LATENCY_LO(R)                                                                         \
    "(SELECT max(b.lo) FROM stat_latency_buckets b WHERE b.lo <= CASE WHEN " R ".decided_at > " R  \
    ".tg_date THEN " R ".decided_at - " R ".tg_date ELSE 0 END)"

#endif
