/* list_bench: GET /api/invite-requests over 1,000,000 stored requests, next to a static body of
 * the same size served by the same HTTP server in the same run.
 *
 * The server is doorman's own (src/http/server.c with api_handle and a real SQLite store); a
 * handler in front answers GET /bench/static with a buffer as large as the first list page. A
 * libcurl multi client keeps CONC keep-alive connections busy for SECONDS per endpoint.
 * Prints requests/second for both and their ratio.
 *
 * usage: list_bench [ROWS [SECONDS [CONC]]]   (defaults 1000000 10 8) */
#include "core/common.h"
#include "api/api.h"
#include "app.h"
#include "core/buf.h"
#include "core/secret.h"
#include "http/server.h"

#include <curl/curl.h>
#include <sys/time.h>

static char *static_body;
static size_t static_len;

static void handler(void *ctx, const struct http_request *req, struct http_response *res)
{
    if (strcmp(req->path, "/bench/static") == 0)
        http_res_static(res, 200, "application/json", static_body, static_len);
    else
        api_handle(ctx, req, res);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;
    if (b) buf_append(b, p, size * n);
    return size * n;
}

/* Keeps conc requests in flight for `seconds`; returns completed requests per second. */
static double load(const char *url, const char *cookie, int conc, double seconds, long *bad)
{
    CURLM *m = curl_multi_init();
    CURL **h = calloc((size_t)conc, sizeof *h);
    for (int i = 0; i < conc; i++) {
        h[i] = curl_easy_init();
        curl_easy_setopt(h[i], CURLOPT_URL, url);
        curl_easy_setopt(h[i], CURLOPT_COOKIE, cookie);
        curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(h[i], CURLOPT_WRITEDATA, NULL);
        curl_multi_add_handle(m, h[i]);
    }
    long done = 0;
    double start = now_s(), end = start + seconds;
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
            if (now_s() < end) {
                curl_multi_add_handle(m, msg->easy_handle);
                running++;
            }
        }
        if (running) curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double took = now_s() - start;
    for (int i = 0; i < conc; i++)
        curl_easy_cleanup(h[i]);
    free(h);
    curl_multi_cleanup(m);
    return (double)done / took;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    double seconds = argc > 2 ? strtod(argv[2], NULL) : 10;
    int conc = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 8;
    struct dm_error err = {0};
    char dir[] = "/tmp/dm-list-bench-XXXXXX";
    if (!mkdtemp(dir) || secret_init()) return 1;
    struct app a = {0};
    config_defaults(&a.cfg);
    dm_strlcpy(a.cfg.data_dir, dir, sizeof a.cfg.data_dir);
    if (config_finish(&a.cfg, &err) || store_open(a.cfg.db_url, &a.store, &err)) {
        fprintf(stderr, "list_bench: %s\n", err.msg);
        return 1;
    }
    struct store *st = a.store;
    double t0 = now_s();
    for (long i = 0; i < rows; i++) {
        struct store_request r = {.chat_id = -1000000000000 - (i % 5),
                                  .user_id = 100000 + i,
                                  .tg_date = 1700000000 + i,
                                  .status = (int)(i % 7 == 0),
                                  .created_at = 1700000000 + i};
        snprintf(r.first_name, sizeof r.first_name, "User%ld", i);
        dm_strlcpy(r.last_name, "Benchmark", sizeof r.last_name);
        snprintf(r.username, sizeof r.username, "user_%ld", i);
        dm_strlcpy(r.bio, "Here for the news", sizeof r.bio);
        bool inserted;
        if (store_request_add(st, &r, &inserted, &err)) {
            fprintf(stderr, "list_bench: seeding: %s\n", err.msg);
            return 1;
        }
    }
    printf("seeded %ld requests in %.1f s\n", rows, now_s() - t0);

    struct store_websession ws = {.admin_id = 0, .created_at = time(NULL)};
    char token[65];
    int64_t admin_id = 0;
    char hash[SECRET_HASH_MAX];
    secret_hash_password("benchmark-password", hash);
    store_admin_create(st, "bench", hash, time(NULL), &admin_id, &err);
    ws.admin_id = admin_id;
    ws.expires_at = ws.created_at + 3600;
    secret_random_hex(token, 32);
    secret_digest_hex(token, ws.token_hash);
    secret_random_hex(ws.csrf, 32);
    if (store_websession_create(st, &ws, &err)) {
        fprintf(stderr, "list_bench: %s\n", err.msg);
        return 1;
    }
    struct api_env env = {.store = st, .public_url = a.cfg.public_url};
    struct http_server_config hc = {.bind_addr = "127.0.0.1",
                                    .max_body = 1 << 20,
                                    .threads = a.cfg.http_threads,
                                    .handler = handler,
                                    .ctx = &env};
    if (http_server_start(&hc, &a.http, &err)) {
        fprintf(stderr, "list_bench: %s\n", err.msg);
        return 1;
    }
    char list_url[256], static_url[256], cookie[128];
    snprintf(list_url, sizeof list_url, "http://127.0.0.1:%u/api/invite-requests?limit=50",
             http_server_port(a.http));
    snprintf(static_url, sizeof static_url, "http://127.0.0.1:%u/bench/static",
             http_server_port(a.http));
    snprintf(cookie, sizeof cookie, "doorman_session=%s", token);

    /* one list page tells the static body's size */
    struct buf page;
    buf_init(&page, 64 << 20);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, list_url);
    curl_easy_setopt(h, CURLOPT_COOKIE, cookie);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &page);
    long code = 0;
    if (curl_easy_perform(h) != CURLE_OK ||
        (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), code != 200)) {
        fprintf(stderr, "list_bench: the list endpoint answered %ld: %s\n", code,
                page.data ? page.data : "");
        return 1;
    }
    curl_easy_cleanup(h);
    static_len = page.len;
    static_body = malloc(static_len);
    memset(static_body, 'x', static_len);

    long bad_list = 0, bad_static = 0;
    double list_rps = load(list_url, cookie, conc, seconds, &bad_list);
    double static_rps = load(static_url, cookie, conc, seconds, &bad_static);
    printf("GET /api/invite-requests (50 rows, %zu bytes, %ld rows stored): %.0f req/s\n",
           static_len, rows, list_rps);
    printf("static body of the same size, same server:                  %.0f req/s\n", static_rps);
    printf("list / static = %.2f   (errors: list %ld, static %ld)\n", list_rps / static_rps,
           bad_list, bad_static);
    http_server_stop(a.http);
    store_close(st);
    free(static_body);
    buf_release(&page);
    return bad_list || bad_static ? 1 : 0;
}
