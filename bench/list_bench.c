/* list_bench: GET /api/invite-requests over 1,000,000 stored requests, next to a static body of
 * the same size served by the same HTTP server in the same run.
 *
 * The server is doorman's own (src/http/server.c with api_handle and a real SQLite store, in a
 * throwaway directory removed at the end); a handler in front answers GET /bench/static with a
 * buffer as large as the first list page. A libcurl multi client keeps CONC keep-alive
 * connections busy for SECONDS per endpoint. Prints requests/second for both and their ratio,
 * and the process's CPU time per request for both (client and server, user and system): on a
 * machine shared with other work the rates follow the CPU this process is given, the CPU per
 * request much less. It also prints the server's part of that CPU alone (the process's less the
 * client's thread, which runs the libcurl client and nothing else): the client's CPU a request
 * is not the same for both endpoints (it wakes more often per answer when answers come slower),
 * so the server's figure is the one that compares the two endpoints' work.
 *
 * usage: list_bench [ROWS [SECONDS [CONC]]]   (defaults 1000000 10 8) */
#include "core/common.h"
#include "bench_api.h"
#include "core/buf.h"

#include <sys/resource.h>

static char *static_body;
static size_t static_len;

static void static_page(void *ctx, const struct http_request *req, struct http_response *res)
{
    (void)ctx;
    if (strcmp(req->path, "/bench/static") == 0)
        http_res_static(res, 200, "application/json", static_body, static_len);
}

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* CPU seconds of the calling thread: the client's (bench_load runs on it). */
static double client_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* bench_load, and the process's CPU microseconds per request in *cpu_us, the server's (the
 * process's less the client thread's) in *server_us. */
static double load(const struct bench_api *b, const char *path, int conc, double seconds, long *bad,
                   double *cpu_us, double *server_us)
{
    double cpu0 = cpu_seconds(), client0 = client_cpu_seconds(), t0 = bench_now();
    double rps = bench_load(b, &path, 1, conc, seconds, bad);
    double n = rps * (bench_now() - t0), cpu = cpu_seconds() - cpu0;
    *cpu_us = cpu * 1e6 / n;
    *server_us = (cpu - (client_cpu_seconds() - client0)) * 1e6 / n;
    return rps;
}

/* Request i of the seeded table. */
static void seed_one(struct store_request *r, long i)
{
    *r = (struct store_request){.chat_id = -1000000000000 - (i % 5),
                                .user_id = 100000 + i,
                                .tg_date = 1700000000 + i,
                                .status = (int)(i % 7 == 0),
                                .created_at = 1700000000 + i};
    snprintf(r->first_name, sizeof r->first_name, "User%ld", i);
    dm_strlcpy(r->last_name, "Benchmark", sizeof r->last_name);
    snprintf(r->username, sizeof r->username, "user_%ld", i);
    dm_strlcpy(r->bio, "Here for the news", sizeof r->bio);
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    double seconds = argc > 2 ? strtod(argv[2], NULL) : 10;
    int conc = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 8;
    struct bench_api b;
    bench_api_start(&b, NULL, static_page);

    double seeded = bench_seed(&b, rows, 1000, seed_one);
    printf("seeded %ld requests in %.1f s\n", rows, seeded);

    /* one list page tells the static body's size */
    const char *list = "/api/invite-requests?limit=50";
    struct buf page;
    buf_init(&page, 64 << 20);
    long code = bench_get(&b, list, &page);
    if (code != 200) {
        fprintf(stderr, "list_bench: the list endpoint answered %ld: %s\n", code,
                page.data ? page.data : "");
        return 1;
    }
    static_len = page.len;
    static_body = malloc(static_len);
    memset(static_body, 'x', static_len);

    long bad_list = 0, bad_static = 0;
    double list_cpu, static_cpu, list_server, static_server;
    double list_rps = load(&b, list, conc, seconds, &bad_list, &list_cpu, &list_server);
    double static_rps =
        load(&b, "/bench/static", conc, seconds, &bad_static, &static_cpu, &static_server);
    printf("GET /api/invite-requests (50 rows, %zu bytes, %ld rows stored): %.0f req/s, %.0f us "
           "CPU a request\n",
           static_len, rows, list_rps, list_cpu);
    printf("static body of the same size, same server:                  %.0f req/s, %.0f us CPU "
           "a request\n",
           static_rps, static_cpu);
    printf("list / static = %.2f (by CPU a request %.2f)   (errors: list %ld, static %ld)\n",
           list_rps / static_rps, static_cpu / list_cpu, bad_list, bad_static);
    printf("the server's part of the CPU a request: list %.0f us, static %.0f us, static / list "
           "%.2f\n",
           list_server, static_server, static_server / list_server);
    bench_api_stop(&b);
    free(static_body);
    buf_release(&page);
    return bad_list || bad_static ? 1 : 0;
}
