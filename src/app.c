/* app.c: starting and stopping the parts of a doorman process in order. */
#include "core/common.h"
#include "app.h"
#include "api/api.h"
#include "telegram/bot.h"
#include "core/log.h"
#include "http/server.h"
#include "jobs/runner.h"
#include "telegram/pool.h"

#define MAX_BODY (1024 * 1024)

dm_err app_start(struct app *a, struct dm_error *err)
{
    dm_err e;
    log_set_level(a->cfg.log_level);
    if ((e = secret_init())) return dm_fail(err, e, "libsodium failed to initialise");
    bool derived_url = !a->cfg.public_url[0];
    if ((e = config_finish(&a->cfg, err))) return e;
    if ((e = secret_load_master(a->cfg.data_dir, &a->master, err))) return e;
    if ((e = store_open(a->cfg.db_url, &a->store, err))) return e;
    secret_random_hex(a->instance_id, 16);
    if ((e = pool_start(&a->cfg, a->store, &a->master, &a->pool, err))) return e;
    struct bot_config bc = {.store = a->store,
                            .master = &a->master,
                            .bot_api_url = a->cfg.bot_api_url,
                            .owner = a->instance_id};
    if ((e = bot_start(&bc, &a->bot, err))) return e;
    a->accounts = (struct accounts){.store = a->store, .bot = a->bot, .pool = a->pool};
    struct job_runner_config jc = {
        .store = a->store, .accounts = &a->accounts, .owner = a->instance_id};
    if ((e = job_runner_start(&jc, &a->jobs, err))) return e;
    a->api = (struct api_env){.store = a->store,
                              .bot = a->bot,
                              .pool = a->pool,
                              .accounts = &a->accounts,
                              .jobs = a->jobs,
                              .public_url = a->cfg.public_url,
                              .preflight_deadline_ms = (int64_t)a->cfg.preflight_deadline_s * 1000};
    struct http_server_config hc = {
        .bind_addr = a->cfg.listen_host,
        .port = a->cfg.listen_port,
        .max_body = MAX_BODY,
        .threads = a->cfg.http_threads,
        .per_ip = a->cfg.http_per_ip,
        .workers = a->cfg.http_workers,
        .work_queue = a->cfg.http_work_queue,
        .handler = api_handle,
        .admit = api_admit,
        .ctx = &a->api,
    };
    if ((e = http_server_start(&hc, &a->http, err))) return e;
    if (a->cfg.listen_port == 0) { /* the real port, for links and for whoever started us */
        a->cfg.listen_port = http_server_port(a->http);
    }
    if (derived_url) {
        bool v6 = strchr(a->cfg.listen_host, ':') != NULL;
        snprintf(a->cfg.public_url, sizeof a->cfg.public_url,
                 v6 ? "http://[%s]:%u" : "http://%s:%u", a->cfg.listen_host, a->cfg.listen_port);
    }
    log_info("http", "listening on http://%s%s%s:%u", strchr(a->cfg.listen_host, ':') ? "[" : "",
             a->cfg.listen_host, strchr(a->cfg.listen_host, ':') ? "]" : "", a->cfg.listen_port);
    return api_setup_announce(&a->api, err);
}

void app_stop(struct app *a)
{
    a->stopping = 1;
    http_server_stop(a->http);
    a->http = NULL;
    job_runner_stop(a->jobs);
    a->jobs = NULL;
    bot_stop(a->bot);
    a->bot = NULL;
    pool_stop(a->pool);
    a->pool = NULL;
    store_close(a->store);
    a->store = NULL;
    secret_wipe(&a->master, sizeof a->master);
}
