/* bench_api.h: doorman's API served in process for the HTTP benchmarks (list_bench,
 * search_bench): a store opened at a URL (a throwaway SQLite file when none is given), an admin
 * logged in, the HTTP server with api_handle, and libcurl clients that time requests.
 *
 * Ownership: bench_api_start fills a struct bench_api that bench_api_stop releases, removing
 * the throwaway data directory (and so a SQLite database in it; a PostgreSQL database named by
 * URL is the caller's), also when the bench exits on a failure; with BENCH_KEEP set in the
 * environment the directory stays, to look at the database's query plans afterwards. */
#ifndef DM_BENCH_API_H
#define DM_BENCH_API_H

#include "core/common.h"
#include "core/buf.h"
#include "http/server.h"
#include "store/store.h"

struct bench_api {
    struct store *store;
    struct http_server *http;
    char dir[64];     /* the throwaway data directory (with the SQLite database when no URL) */
    char base[64];    /* http://127.0.0.1:PORT */
    char cookie[128]; /* doorman_session=... */
};

/* db_url NULL: SQLite in a new directory under /tmp. extra (may be NULL) answers a path before
 * the API does when it fills res (status != 0). Exits with a message on failure. */
void bench_api_start(struct bench_api *b, const char *db_url, http_handler_fn extra);
void bench_api_stop(struct bench_api *b);

double bench_now(void); /* seconds, monotonic */
/* CPU seconds this process has used, every thread (SQLite's work; not a PostgreSQL server's):
 * what a run on a loaded machine still measures fairly. */
double bench_cpu(void);

/* Records rows requests the way doorman does (store_request_add_many, batch at a time), fill(r,
 * i) making request i from a cleared record; returns the seconds it took. Exits with a message
 * on a store error. */
double bench_seed(struct bench_api *b, long rows, size_t batch,
                  void (*fill)(struct store_request *r, long i));

/* GET base+path once; the body into *body (may be NULL) and the status returned (0: no answer). */
long bench_get(const struct bench_api *b, const char *path, struct buf *body);
/* Keeps conc GETs in flight for `seconds`, cycling through paths[0..npaths); returns completed
 * requests per second; *bad counts answers that were not 200. */
double bench_load(const struct bench_api *b, const char *const *paths, int npaths, int conc,
                  double seconds, long *bad);
/* Times n GETs of path one at a time; returns the p-th percentile (0..100) in milliseconds. */
double bench_latency(const struct bench_api *b, const char *path, int n, double p);

#endif
