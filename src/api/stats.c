/* stats.c: GET /api/stats: the statistics page's numbers in one answer (docs/api.md), from the
 * rollups the store keeps (store/stats.h); for viewers and deciders over their channels only. */
#include "core/common.h"
#include "api/api.h"

#include "store/stats.h"

#define STATS_DAYS_DEFAULT 30
#define STATS_HOURS_MAX 48

static json_t *count_json(const struct stats_count *x, bool link)
{
    json_t *j = json_pack("{s:I,s:I,s:I,s:I}", "chat_id", (json_int_t)x->chat_id, "pending",
                          (json_int_t)x->pending, "approved", (json_int_t)x->approved, "declined",
                          (json_int_t)x->declined);
    if (link)
        json_object_set_new(j, "link", api_text(x->link));
    else
        json_object_set_new(j, "t", json_integer(x->t));
    return j;
}

static json_t *rate_or_null(int64_t approved, int64_t declined)
{
    int64_t decided = approved + declined;
    return decided ? json_real((double)approved / (double)decided) : json_null();
}

static json_t *seconds_or_null(double s)
{
    return s < 0 ? json_null() : json_real(s);
}

/* The answer for q from s. */
static json_t *stats_json(const struct stats_query *q, const struct store_stats *s,
                          const struct store_chat *chats, size_t n_chats)
{
    int64_t totals[REQ_STATUS_COUNT] = {0};
    json_t *series = json_array();
    for (size_t i = 0; i < s->n_series; i++) {
        json_array_append_new(series, count_json(&s->series[i], false));
        totals[REQ_PENDING] += s->series[i].pending;
        totals[REQ_APPROVED] += s->series[i].approved;
        totals[REQ_DECLINED] += s->series[i].declined;
    }
    json_t *links = json_array();
    for (size_t i = 0; i < s->n_links; i++)
        json_array_append_new(links, count_json(&s->links[i], true));
    json_t *deciders = json_array();
    int64_t approved = 0, declined = 0;
    for (size_t i = 0; i < s->n_deciders; i++) {
        const struct stats_decider *d = &s->deciders[i];
        json_array_append_new(
            deciders,
            json_pack("{s:o,s:o,s:I,s:o,s:I,s:I}", "by", api_text(d->by), "via", api_text(d->via),
                      "rule_id", (json_int_t)d->rule_id, "rule_name", api_text(d->rule_name),
                      "approved", (json_int_t)d->approved, "declined", (json_int_t)d->declined));
    }
    json_t *histogram = json_array();
    for (size_t i = 0; i < s->n_latency; i++)
        json_array_append_new(
            histogram, json_pack("{s:I,s:I,s:I}", "from", (json_int_t)s->latency[i].lo, "to",
                                 (json_int_t)s->latency[i].hi, "n", (json_int_t)s->latency[i].n));
    int64_t timed = 0;
    for (size_t i = 0; i < s->n_latency; i++)
        timed += s->latency[i].n;
    json_t *flow = json_array();
    for (size_t i = 0; i < s->n_flow; i++) {
        const struct stats_flow *f = &s->flow[i];
        approved += f->approved;
        declined += f->declined;
        json_array_append_new(
            flow, json_pack("{s:I,s:I,s:I,s:I,s:I}", "t", (json_int_t)f->t, "arrived",
                            (json_int_t)f->arrived, "approved", (json_int_t)f->approved, "declined",
                            (json_int_t)f->declined, "backlog", (json_int_t)f->backlog));
    }
    json_t *jchats = json_array();
    for (size_t i = 0; i < n_chats; i++)
        json_array_append_new(jchats,
                              json_pack("{s:I,s:o}", "chat_id", (json_int_t)chats[i].chat_id,
                                        "title", api_text(chats[i].title)));
    return json_pack(
        "{s:I,s:I,s:s,s:I,s:o,"
        "s:{s:I,s:I,s:I,s:I,s:o},s:{s:I,s:I,s:o},s:I,"
        "s:o,s:o,s:b,s:o,s:b,s:{s:I,s:o,s:o,s:o},s:o}",
        "from", (json_int_t)q->from, "to", (json_int_t)q->to, "bucket",
        q->span == STATS_HOUR   ? "hour"
        : q->span == STATS_WEEK ? "week"
                                : "day",
        "chat_id", (json_int_t)q->chat_id, "chats", jchats, "requests", "total",
        (json_int_t)(totals[0] + totals[1] + totals[2]), "pending", (json_int_t)totals[REQ_PENDING],
        "approved", (json_int_t)totals[REQ_APPROVED], "declined", (json_int_t)totals[REQ_DECLINED],
        "approval_rate", rate_or_null(totals[REQ_APPROVED], totals[REQ_DECLINED]), "decisions",
        "approved", (json_int_t)approved, "declined", (json_int_t)declined, "approval_rate",
        rate_or_null(approved, declined), "pending_now", (json_int_t)s->pending_now, "series",
        series, "links", links, "links_more", s->links_more, "deciders", deciders, "deciders_more",
        s->deciders_more, "time_to_decision", "decided", (json_int_t)timed, "median_seconds",
        seconds_or_null(stats_quantile(s->latency, s->n_latency, 0.5)), "p90_seconds",
        seconds_or_null(stats_quantile(s->latency, s->n_latency, 0.9)), "histogram", histogram,
        "flow", flow);
}

/* ?bucket=, ?from=, ?to= and ?chat_id= into q; false after answering 400. */
static bool stats_query(struct api_ctx *c, struct stats_query *q)
{
    const char *bucket = http_query(c->req, "bucket");
    if (!bucket || !*bucket || strcmp(bucket, "day") == 0)
        q->span = STATS_DAY;
    else if (strcmp(bucket, "hour") == 0)
        q->span = STATS_HOUR;
    else if (strcmp(bucket, "week") == 0)
        q->span = STATS_WEEK;
    else
        return api_bad_request(c, "'bucket' must be hour, day or week.");
    int64_t now = time(NULL);
    q->to = now;
    q->from = -1;
    q->chat_id = 0;
    if (!api_query_time(c, "to", true, &q->to) || !api_query_time(c, "from", false, &q->from) ||
        !api_query_int(c, "chat_id", INT64_MIN, INT64_MAX, &q->chat_id))
        return false;
    if (q->chat_id && !api_channel_allowed(c, q->chat_id)) return false;
    dm_strlcpy(q->scope, c->scope, sizeof q->scope);
    if (q->from < 0)
        q->from = q->span == STATS_HOUR ? q->to - STATS_HOURS_MAX * STATS_HOUR + 1
                                        : q->to - STATS_DAYS_DEFAULT * STATS_DAY + 1;
    if (q->from < 0) q->from = 0;
    if (q->to < q->from) return api_bad_request(c, "'to' must not be before 'from'.");
    if (q->span == STATS_HOUR && q->to - q->from >= STATS_HOURS_MAX * STATS_HOUR)
        return api_bad_request(c, "bucket=hour covers at most %d hours; use bucket=day.",
                               STATS_HOURS_MAX);
    if ((q->to - q->from) / q->span >= STATS_BUCKETS_MAX)
        return api_bad_request(c, "The range holds more than %d %ss; choose a shorter one.",
                               STATS_BUCKETS_MAX, bucket && *bucket ? bucket : "day");
    return true;
}

void api_stats_get(struct api_ctx *c)
{
    struct stats_query q;
    if (!stats_query(c, &q)) return;
    struct store_stats s;
    struct dm_error err = {0};
    struct store_chat *chats = NULL;
    size_t n_chats = 0;
    dm_err e = store_stats_read(c->env->store, &q, &s, &err);
    if (!e) e = store_chat_list(c->env->store, &chats, &n_chats, &err);
    if (e == DM_EINVAL)
        api_bad_request(c, "%s.", err.msg);
    else if (e)
        api_store_failed(c, e, &err);
    else if (api_chats_in_scope(c, chats, &n_chats))
        http_res_json(c->res, 200, stats_json(&q, &s, chats, n_chats));
    free(chats);
    store_stats_release(&s);
}
