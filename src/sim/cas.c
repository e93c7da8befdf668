/* cas.c: tgsim's CAS-style blocklist service (cas.h). */
#include "core/common.h"
#include "sim/cas.h"

static void reply(struct http_response *res, int status, json_t *body)
{
    http_res_json(res, status, body);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* CAS's time format: UTC, milliseconds, "Z". */
static void iso_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

void cas_handle(struct world *w, const struct http_request *req, struct http_response *res)
{
    if (strcmp(req->path, "/cas/check") != 0 || strcmp(req->method, "GET") != 0) {
        reply(res, 404, json_pack("{s:b,s:s}", "ok", 0, "description", "Not found."));
        return;
    }
    const char *q = http_query(req, "user_id");
    char *end = NULL;
    errno = 0;
    long long id = q ? strtoll(q, &end, 10) : 0;
    bool valid = q && *q && !errno && !*end;

    world_lock(w);
    world_stat_call(w, CAS_METHOD);
    struct sim_fault f;
    bool faulted = world_fault_take(w, CAS_METHOD, &f);
    json_t *body = NULL;
    int status = 200;
    if (faulted && f.error_code) {
        status = f.error_code;
        body = json_pack("{s:b,s:s}", "ok", 0, "description", f.description);
    } else if (!valid) {
        status = 400;
        body = json_pack("{s:b,s:s}", "ok", 0, "description", "user_id must be an integer");
    } else {
        const struct sim_cas_entry *e = world_cas_get(w, (int64_t)id);
        if (e) {
            char at[32];
            iso_time(e->time_added, at);
            json_t *msgs = json_array();
            if (e->message) json_array_append_new(msgs, json_string(e->message));
            body = json_pack("{s:b,s:{s:i,s:o,s:s}}", "ok", 1, "result", "offenses", e->offenses,
                             "messages", msgs, "time_added", at);
        } else {
            body = json_pack("{s:b,s:s}", "ok", 0, "description", "Record not found.");
        }
    }
    world_unlock(w);
    if (faulted && f.delay_ms) sleep_ms(f.delay_ms);
    reply(res, status, body);
}
