/* bench_api.c: see bench_api.h. */
#include "bench_api.h"

#include "api/api.h"
#include "app.h"
#include "core/buf.h"
#include "core/secret.h"

#include <curl/curl.h>
#include <ftw.h>

static struct api_env env;
static http_handler_fn extra_handler;

static void handler(void *ctx, const struct http_request *req, struct http_response *res)
{
    if (extra_handler) extra_handler(ctx, req, res);
    if (!res->status) api_handle(&env, req, res);
}

/* The throwaway directory, removed by bench_api_stop or, when a bench exits on a failure, at
 * exit (BENCH_KEEP keeps it). */
static char throwaway[64];

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void throwaway_remove(void)
{
    if (throwaway[0] && !getenv("BENCH_KEEP")) nftw(throwaway, remove_one, 8, FTW_DEPTH | FTW_PHYS);
    throwaway[0] = 0;
}

static _Noreturn void die(const char *what, const struct dm_error *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

void bench_api_start(struct bench_api *b, const char *db_url, http_handler_fn extra)
{
    memset(b, 0, sizeof *b);
    struct dm_error err = {0};
    if (secret_init()) die("libsodium", NULL);
    struct config cfg;
    config_defaults(&cfg);
    dm_strlcpy(b->dir, "/tmp/dm-bench-XXXXXX", sizeof b->dir);
    if (!mkdtemp(b->dir)) die("mkdtemp", NULL);
    static bool at_exit;
    if (!at_exit) at_exit = atexit(throwaway_remove) == 0;
    dm_strlcpy(throwaway, b->dir, sizeof throwaway);
    dm_strlcpy(cfg.data_dir, b->dir, sizeof cfg.data_dir);
    if (db_url) dm_strlcpy(cfg.db_url, db_url, sizeof cfg.db_url);
    if (config_finish(&cfg, &err) || store_open(cfg.db_url, &b->store, &err))
        die("opening the store", &err);

    char hash[SECRET_HASH_MAX], token[65];
    secret_hash_password("benchmark-password", hash);
    struct store_websession ws = {.created_at = time(NULL)};
    ws.expires_at = ws.created_at + 24 * 3600;
    if (store_admin_create(b->store, "bench", hash, ROLE_OWNER, NULL, 0, time(NULL), &ws.admin_id,
                           &err))
        die("creating the admin", &err);
    secret_random_hex(token, 32);
    secret_digest_hex(token, ws.token_hash);
    secret_random_hex(ws.csrf, 32);
    if (store_websession_create(b->store, &ws, &err)) die("logging in", &err);
    snprintf(b->cookie, sizeof b->cookie, "doorman_session=%s", token);

    env = (struct api_env){.store = b->store, .public_url = cfg.public_url};
    extra_handler = extra;
    struct http_server_config hc = {.bind_addr = "127.0.0.1",
                                    .max_body = 1 << 20,
                                    .threads = cfg.http_threads,
                                    .handler = handler,
                                    .ctx = &env};
    if (http_server_start(&hc, &b->http, &err)) die("starting the HTTP server", &err);
    snprintf(b->base, sizeof b->base, "http://127.0.0.1:%u", http_server_port(b->http));
}

void bench_api_stop(struct bench_api *b)
{
    http_server_stop(b->http);
    store_close(b->store);
    throwaway_remove();
}

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_now(void)
{
    return clock_seconds(CLOCK_MONOTONIC);
}

double bench_cpu(void)
{
    return clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    struct buf *body = ud;
    if (body) buf_append(body, p, size * n);
    return size * n;
}

static CURL *easy(const struct bench_api *b, const char *path, struct buf *body)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", b->base, path);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_COOKIE, b->cookie);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    /* no SIGPIPE handler set and restored around every transfer (two system calls each time
     * the client wakes, which are the client's cost, not the server's it measures) */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    return h;
}

long bench_get(const struct bench_api *b, const char *path, struct buf *body)
{
    CURL *h = easy(b, path, body);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    return code;
}

double bench_load(const struct bench_api *b, const char *const *paths, int npaths, int conc,
                  double seconds, long *bad)
{
    CURLM *m = curl_multi_init();
    CURL **h = calloc((size_t)conc, sizeof *h);
    for (int i = 0; i < conc; i++) {
        h[i] = easy(b, paths[i % npaths], NULL);
        curl_multi_add_handle(m, h[i]);
    }
    long done = 0;
    double start = bench_now(), end = start + seconds;
    int running = conc;
    while (running > 0) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result != CURLE_OK || code != 200) (*bad)++;
            done++;
            curl_multi_remove_handle(m, msg->easy_handle);
            if (bench_now() < end) {
                char url[1024];
                snprintf(url, sizeof url, "%s%s", b->base, paths[done % npaths]);
                curl_easy_setopt(msg->easy_handle, CURLOPT_URL, url);
                curl_multi_add_handle(m, msg->easy_handle);
                running++;
            }
        }
        if (running) curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double took = bench_now() - start;
    for (int i = 0; i < conc; i++)
        curl_easy_cleanup(h[i]);
    free(h);
    curl_multi_cleanup(m);
    return (double)done / took;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_latency(const struct bench_api *b, const char *path, int n, double p)
{
    CURL *h = easy(b, path, NULL);
    double *ms = calloc((size_t)n, sizeof *ms);
    curl_easy_perform(h); /* connects; not counted */
    for (int i = 0; i < n; i++) {
        double t0 = bench_now();
        long code = 0;
        if (curl_easy_perform(h) != CURLE_OK ||
            (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), code != 200)) {
            fprintf(stderr, "bench: GET %s answered %ld\n", path, code);
            exit(1);
        }
        ms[i] = (bench_now() - t0) * 1000;
    }
    curl_easy_cleanup(h);
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    int k = (int)(p / 100 * (n - 1) + 0.5);
    double v = ms[k];
    free(ms);
    return v;
}

double bench_seed(struct bench_api *b, long rows, size_t batch,
                  void (*fill)(struct store_request *r, long i))
{
    struct store_request *v = calloc(batch, sizeof *v);
    if (!v) {
        fprintf(stderr, "bench: out of memory seeding\n");
        exit(1);
    }
    struct dm_error err = {0};
    double t0 = bench_now();
    for (long i = 0; i < rows;) {
        size_t n = 0;
        for (; n < batch && i < rows; n++, i++) {
            memset(&v[n], 0, sizeof v[n]);
            fill(&v[n], i);
        }
        if (store_request_add_many(b->store, v, n, NULL, &err)) {
            fprintf(stderr, "bench: seeding: %s\n", err.msg);
            exit(1);
        }
    }
    free(v);
    return bench_now() - t0;
}
