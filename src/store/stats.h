/* stats.h: the numbers of the statistics page, read from the rollups the store keeps exact in
 * the transactions that record, decide and remove requests (schema.c, migration 10), so a
 * read costs the buckets of its range, never a scan of the requests.
 *
 * Time is bucketed in UTC: an hour, a day or a week (weeks start on a Thursday, as the epoch
 * did); a bucket is named by its first second. Requests count in the bucket of their tg_date,
 * by the status they have now; decisions in the bucket of their decided_at. The time to
 * decision (decided_at - tg_date) is kept as a histogram per channel and day (and week) of
 * decision: buckets 1 s wide below 10 s, then each 6/5 as wide as the one before, so a quantile
 * is exact below 10 s and within its bucket (at most 20 % wide) above.
 *
 * Ownership: store_stats_read fills a struct store_stats whose arrays are malloc'd and owned by
 * the caller, who frees them with store_stats_release (also after an error). */
#ifndef DM_STORE_STATS_H
#define DM_STORE_STATS_H

#include "store/store.h"

#define STATS_DAY 86400
#define STATS_HOUR 3600
#define STATS_WEEK 604800             /* kept for long ranges: whole weeks are read from it */
#define STATS_LINKS_MAX 50            /* links listed, the busiest first */
#define STATS_DECIDERS_MAX 100        /* deciders listed, the busiest first */
#define STATS_SERIES_MAX 100000       /* (bucket, channel) pairs with requests in one answer */
#define STATS_LATENCY_BUCKETS_MAX 200 /* the histogram has 113 buckets */

struct stats_query {
    int64_t from, to;            /* the buckets that hold these seconds and those between them */
    int64_t chat_id;             /* 0: every channel */
    char scope[STORE_SCOPE_MAX]; /* only the channels granted to this scope (roles); "": all */
    int span;                    /* STATS_HOUR, STATS_DAY or STATS_WEEK */
};

/* Requests of a bucket and channel (or link, over the whole range), by status now. */
struct stats_count {
    int64_t t; /* the bucket (0 for links) */
    int64_t chat_id;
    char link[STORE_LINK_MAX]; /* "" without a link (or in a series) */
    int64_t pending, approved, declined;
};

/* Decisions of one decider over the range: an admin (or STORE_RULES_ADMIN with the rule that
 * decided, rule_name "" when it was deleted since), through "bot" or a session. */
struct stats_decider {
    char by[STORE_NAME_MAX];
    char via[STORE_NAME_MAX];
    int64_t rule_id;
    char rule_name[STORE_TEXT_MAX];
    int64_t approved, declined;
};

/* n decisions took lo <= seconds < hi (over the days of the range). */
struct stats_latency {
    int64_t lo, hi, n;
};

/* Every bucket of the range: requests that came, decisions made, and the requests pending at
 * its end (requests came by then minus decisions made by then). */
struct stats_flow {
    int64_t t, arrived, approved, declined, backlog;
};

struct store_stats {
    struct stats_count *series; /* by bucket, then channel; buckets without requests left out */
    size_t n_series;
    struct stats_count *links; /* the busiest STATS_LINKS_MAX (chat_id, link) */
    size_t n_links;
    bool links_more; /* more links had requests */
    struct stats_decider *deciders;
    size_t n_deciders;
    bool deciders_more;
    struct stats_latency *latency; /* by lo */
    size_t n_latency;
    struct stats_flow *flow; /* one per bucket, in order */
    size_t n_flow;
    int64_t pending_now;
};

/* Reads everything for q in one snapshot. DM_EINVAL when the span is none of STATS_HOUR,
 * STATS_DAY and STATS_WEEK, to < from, the range holds more than STATS_BUCKETS_MAX buckets, or more
 * than STATS_SERIES_MAX (bucket, channel) pairs have requests. */
#define STATS_BUCKETS_MAX 4000
dm_err store_stats_read(struct store *st, const struct stats_query *q, struct store_stats *out,
                        struct dm_error *err);
void store_stats_release(struct store_stats *s);

/* The time (seconds) below which the fraction q (0..1) of the histogram's decisions fall,
 * interpolated linearly within its bucket; -1 when it is empty. */
double stats_quantile(const struct stats_latency *h, size_t n, double q);

#endif
