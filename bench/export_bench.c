/* export_bench: GET /api/invite-requests/export (CSV and JSON Lines) of ROWS stored requests:
 * its rate, the memory it takes, and what it does to the other requests while it runs.
 *
 * The server is doorman's own (src/http/server.c with api_handle and a real SQLite store, in a
 * throwaway directory removed at the end), in this process; the client (libcurl, in a thread of
 * the same process) counts the bytes and lines it receives and keeps none of them, so this
 * process's memory is the server's. Printed, each against a reference measured in the same run:
 *   - rows/s of the export of the whole table, and of its newest tenth next to reading that tenth
 *     through the list endpoint a page of 500 at a time (what a client without the export would
 *     do);
 *   - peak RSS (VmHWM of /proc/self/status, reset through /proc/self/clear_refs before each
 *     export) above the RSS before it, for the whole table and for its tenth: flat memory means
 *     ten times the rows take no more;
 *   - the list endpoint's latency (GET ?limit=50, p50 and p99) while the export runs, next to the
 *     same when idle.
 *
 * With CHECKER (bench/export_check.py), a CSV export of every row is then saved and read back by
 * Python's csv module, each row compared with the table in the SQLite file.
 *
 * usage: export_bench [ROWS [CHECKER]]   (default 1000000, no check) */
#include "core/common.h"
#include "bench_api.h"

#include <curl/curl.h>
#include <pthread.h>

#define LIST_PAGE 500

static int64_t status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int64_t v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') v = strtoll(line + n + 1, NULL, 10);
    if (f) fclose(f);
    return v;
}

/* Resets VmHWM to the RSS of now; false when the kernel does not allow it. */
static bool peak_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return false;
    bool ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

struct counted {
    uint64_t bytes, lines;
};

static size_t count_sink(char *p, size_t size, size_t n, void *ud)
{
    struct counted *c = ud;
    c->bytes += size * n;
    for (size_t i = 0; i < size * n; i++)
        c->lines += p[i] == '\n';
    return size * n;
}

struct export_run {
    const struct bench_api *b;
    const char *path;
    struct counted got;
    long code;
    double seconds;
    volatile bool done;
};

static void *export_thread(void *arg)
{
    struct export_run *r = arg;
    char url[512];
    snprintf(url, sizeof url, "%s%s", r->b->base, r->path);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_COOKIE, r->b->cookie);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->got);
    double t0 = bench_now();
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->code);
    r->seconds = bench_now() - t0;
    curl_easy_cleanup(h);
    __atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times GET path one at a time: n of them, or (until set) as many as fit until *until is true.
 * Fills p50 and p99 in ms; returns how many were timed. */
static int latencies(const struct bench_api *b, const char *path, int n, volatile bool *until,
                     double *p50, double *p99)
{
    enum { MAX = 200000 };
    double *ms = calloc(MAX, sizeof *ms);
    char url[512];
    snprintf(url, sizeof url, "%s%s", b->base, path);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_COOKIE, b->cookie);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_sink);
    struct counted sink = {0};
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    int k = 0;
    while (k < MAX && (until ? !__atomic_load_n(until, __ATOMIC_ACQUIRE) : k < n)) {
        double t0 = bench_now();
        long code = 0;
        if (curl_easy_perform(h) != CURLE_OK ||
            (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), code != 200)) {
            fprintf(stderr, "export_bench: GET %s answered %ld\n", path, code);
            exit(1);
        }
        ms[k++] = (bench_now() - t0) * 1000;
    }
    curl_easy_cleanup(h);
    qsort(ms, (size_t)k, sizeof *ms, cmp_double);
    *p50 = k ? ms[(int)(0.50 * (k - 1) + 0.5)] : 0;
    *p99 = k ? ms[(int)(0.99 * (k - 1) + 0.5)] : 0;
    free(ms);
    return k;
}

struct measured {
    double seconds;
    uint64_t bytes, rows;
    int64_t rss_before_kib, peak_kib;
    double p50, p99; /* the list's latency while it ran */
    int timed;
};

/* One export of path, with the list timed while it runs; exits unless every row arrived. */
static struct measured export_measure(const struct bench_api *b, const char *path, uint64_t want,
                                      bool header)
{
    struct measured m = {0};
    peak_reset();
    m.rss_before_kib = status_kib("VmRSS");
    struct export_run r = {.b = b, .path = path};
    pthread_t t;
    pthread_create(&t, NULL, export_thread, &r);
    m.timed = latencies(b, "/api/invite-requests?limit=50", 0, &r.done, &m.p50, &m.p99);
    pthread_join(t, NULL);
    m.peak_kib = status_kib("VmHWM");
    m.seconds = r.seconds;
    m.bytes = r.got.bytes;
    m.rows = r.got.lines - (header ? 1 : 0);
    if (r.code != 200 || m.rows != want) {
        fprintf(stderr,
                "export_bench: GET %s answered %ld with %" PRIu64 " rows, want %" PRIu64 "\n", path,
                r.code, m.rows, want);
        exit(1);
    }
    return m;
}

static void print_measured(const char *what, const struct measured *m)
{
    printf("%-40s %9" PRIu64 " rows %7.2f s %9.0f rows/s %6.1f MB/s   RSS %6.1f MB, peak +%5.1f MB"
           "   list p50 %.2f ms p99 %.2f ms (%d timed)\n",
           what, m->rows, m->seconds, (double)m->rows / m->seconds,
           (double)m->bytes / m->seconds / 1e6, (double)m->rss_before_kib / 1024,
           (double)(m->peak_kib - m->rss_before_kib) / 1024, m->p50, m->p99, m->timed);
}

/* Reads the requests with tg_date >= from through the list endpoint, LIST_PAGE a page; returns
 * rows/s. */
static double list_walk(const struct bench_api *b, int64_t from, uint64_t want)
{
    struct buf page;
    buf_init(&page, 64 << 20);
    uint64_t rows = 0;
    int64_t before = 0;
    double t0 = bench_now();
    for (;;) {
        char path[256];
        int w = snprintf(path, sizeof path, "/api/invite-requests?from=%" PRId64 "&limit=%d", from,
                         LIST_PAGE);
        if (before) snprintf(path + w, sizeof path - (size_t)w, "&before=%" PRId64, before);
        buf_reset(&page);
        if (bench_get(b, path, &page) != 200) {
            fprintf(stderr, "export_bench: GET %s failed\n", path);
            exit(1);
        }
        const char *next = strstr(page.data, "\"next_before\":");
        int64_t n = 0;
        for (const char *p = page.data; (p = strstr(p, "{\"id\":")); p++)
            n++;
        rows += (uint64_t)n;
        if (!next || strncmp(next + 14, "null", 4) == 0) break;
        before = strtoll(next + 14, NULL, 10);
    }
    double took = bench_now() - t0;
    buf_release(&page);
    if (rows != want) {
        fprintf(stderr, "export_bench: the list walk read %" PRIu64 " rows, want %" PRIu64 "\n",
                rows, want);
        exit(1);
    }
    return (double)rows / took;
}

/* Saves a CSV export of every row into the data directory and has checker compare it with the
 * table; returns its exit status. */
static int check(const struct bench_api *b, const char *checker)
{
    char file[128], url[256], cmd[512];
    snprintf(file, sizeof file, "%s/export.csv", b->dir);
    snprintf(url, sizeof url, "%s/api/invite-requests/export?format=csv&bom=1", b->base);
    FILE *f = fopen(file, "w");
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_COOKIE, b->cookie);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
    long code = 0;
    if (curl_easy_perform(h) == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    if (!f || fclose(f) != 0 || code != 200) {
        fprintf(stderr, "export_bench: could not save the export (%ld)\n", code);
        return 1;
    }
    fflush(stdout); /* the check prints after what came before */
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s/doorman.db' '%s'", checker, b->dir, file);
    return system(cmd) == 0 ? 0 : 1;
}

/* Request i of the seeded table. */
static void seed_one(struct store_request *r, long i)
{
    *r = (struct store_request){.chat_id = -1000000000000 - (i % 5),
                                .user_id = 100000 + i,
                                .tg_date = 1700000000 + i,
                                .status = (int)(i % 7 == 0),
                                .created_at = 1700000000 + i,
                                .decided_at = i % 7 == 0 ? 1700000100 + i : 0,
                                .is_premium = i % 3 == 0};
    snprintf(r->first_name, sizeof r->first_name, "User, \"%ld\"", i);
    dm_strlcpy(r->last_name, i % 11 == 0 ? "=1+1" : "Benchmark", sizeof r->last_name);
    snprintf(r->username, sizeof r->username, "user_%ld", i);
    dm_strlcpy(r->bio, "Here for the news, and the occasional meme", sizeof r->bio);
    dm_strlcpy(r->invite_link, "https://t.me/+AbCdEfGhIjK", sizeof r->invite_link);
    if (r->decided_at) dm_strlcpy(r->decided_by, "bench", sizeof r->decided_by);
    if (r->decided_at) dm_strlcpy(r->decided_via, "bot", sizeof r->decided_via);
    dm_strlcpy(r->language_code, "en", sizeof r->language_code);
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    if (rows < 10) rows = 10;
    struct bench_api b;
    bench_api_start(&b, NULL, NULL);

    double seeded = bench_seed(&b, rows, 1000, seed_one);
    printf("seeded %ld requests in %.1f s%s\n", rows, seeded,
           peak_reset() ? "" : " (VmHWM cannot be reset here: peaks include seeding)");

    double idle50, idle99;
    latencies(&b, "/api/invite-requests?limit=50", 200, NULL, &idle50, &idle99);
    printf("list endpoint idle (?limit=50): p50 %.2f ms, p99 %.2f ms\n", idle50, idle99);

    long tenth = rows / 10;
    int64_t from = 1700000000 + (rows - tenth); /* the newest tenth */
    char path[128];
    snprintf(path, sizeof path, "/api/invite-requests/export?format=csv&from=%" PRId64, from);
    double walk = list_walk(&b, from, (uint64_t)tenth); /* first: the tenth is then cached */
    struct measured small = export_measure(&b, path, (uint64_t)tenth, true);
    struct measured csv =
        export_measure(&b, "/api/invite-requests/export?format=csv&bom=1", (uint64_t)rows, true);
    struct measured jsonl =
        export_measure(&b, "/api/invite-requests/export?format=jsonl", (uint64_t)rows, false);

    print_measured("export csv, the newest tenth", &small);
    print_measured("export csv (with BOM), every row", &csv);
    print_measured("export jsonl, every row", &jsonl);
    printf("list endpoint walked page by page (limit=%d), the newest tenth: %.0f rows/s\n",
           LIST_PAGE, walk);
    printf("export csv / list walk, the newest tenth (rows/s) = %.2f\n",
           (double)small.rows / small.seconds / walk);
    printf("peak RSS growth, every row / the tenth = %.2f   (%.1f MB / %.1f MB: at most about 1 "
           "when memory stays flat with ten times the rows)\n",
           (double)(csv.peak_kib - csv.rss_before_kib) /
               (double)DM_MAX(1, small.peak_kib - small.rss_before_kib),
           (double)(csv.peak_kib - csv.rss_before_kib) / 1024,
           (double)(small.peak_kib - small.rss_before_kib) / 1024);
    printf("peak RSS during the whole export / RSS before = %.3f\n",
           (double)csv.peak_kib / (double)csv.rss_before_kib);
    printf("list p99 during the export / idle        = %.2f   (%.2f ms / %.2f ms)\n",
           csv.p99 / idle99, csv.p99, idle99);
    int rc = 0;
    if (argc > 2) rc = check(&b, argv[2]);
    bench_api_stop(&b);
    return rc;
}
