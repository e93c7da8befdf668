/* search_bench: searching and filtering the Invite Requests list at scale, through doorman's
 * own API and HTTP server in process (bench_api.h), on SQLite and, given a URL, on PostgreSQL.
 *
 * Seeds ROWS requests the way doorman records them (store_request_add_many: folded names, the
 * search index kept by the database), with names drawn from a fixed mix of scripts so that some
 * names are common ("alex" is in about 1 row in 25) and one is rare ("zebulon": 1 row in
 * 100,000), 5 channels, 2 in 3 pending. Then, per backend:
 *   - an unfiltered first page, one request at a time (p50, p99);
 *   - a rare and a common search, one at a time: p50 and its ratio to the unfiltered page;
 *   - searches with 8 clients for SECONDS: searches/s, and the CPU a search of this process
 *     (doorman's API and store, the clients; SQLite's work too) and, on PostgreSQL, of the
 *     server processes serving doorman's connections (read from /proc: the server must run on
 *     this machine, as scripts/pg.sh's does; otherwise it is not printed);
 *   - every filter at once (channel + status + date range + search), page 2: p99 and its ratio
 *     to the unfiltered page's p99.
 * With a PostgreSQL URL (an empty database), the same on PostgreSQL and the ratio of its
 * searches/s to SQLite's.
 *
 * usage: search_bench [ROWS [SECONDS [POSTGRES_URL]]]   (defaults 1000000 10) */
#include "core/common.h"
#include "bench_api.h"
#include "core/buf.h"

#include <jansson.h>
#include <libpq-fe.h>

static const char *const firsts[] = {
    "Alexander", "Alexandra", "Alexei",  "Maria",    "Ivan",      "Olga",      "Dmitry", "Anna",
    "Sergey",    "Elena",     "Andrey",  "Natalia",  "John",      "Mary",      "James",  "Linda",
    "Robert",    "Patricia",  "Michael", "Jennifer", "William",   "Elizabeth", "David",  "Barbara",
    "Richard",   "Susan",     "Carlos",  "Lucía",    "José",      "Sofía",     "Pierre", "Sophie",
    "Hans",      "Greta",     "Giulia",  "Marco",    "Mohammed",  "Fatima",    "Ahmed",  "Aisha",
    "Ali",       "Zeynep",    "Mehmet",  "Raj",      "Priya",     "Arjun",     "Wei",    "Fang",
    "Hiroshi",   "Yuki",      "Min-jun", "Seo-yeon", "Александр", "Мария",     "Иван",   "Ольга",
    "Дмитрий",   "Анна",      "Сергей",  "Елена",    "محمد",      "فاطمة",     "أحمد",   "علي",
    "王伟",      "李娜",      "张敏",    "陈静",     "Ngozi",     "Chidi",     "Kwame",  "Amara",
    "Lars",      "Ingrid",    "Ole",     "Astrid"};
static const char *const syllables[] = {"mor", "van", "ber", "kin", "sol", "dra", "tel", "ros",
                                        "gan", "lin", "pet", "kov", "son", "ez",  "ski", "man",
                                        "ter", "ria", "lo",  "nov", "ich", "ova", "ard", "ell"};

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next_rand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static void seed_one(struct store_request *r, long i)
{
    *r = (struct store_request){.chat_id = -1001000000000 - (i % 5),
                                .user_id = 5000000000 + i,
                                .tg_date = 1700000000 + 2 * i,
                                .status = i % 3 == 2 ? (i % 6 == 2 ? 1 : 2) : 0,
                                .created_at = 1700000000 + 2 * i};
    /* names skewed towards the front of the list: the square of a uniform draw */
    uint64_t x = next_rand() % 1000;
    const char *first =
        i % 100000 == 77 ? "Zebulon" : firsts[x * x * DM_ARRAY_LEN(firsts) / 1000000];
    dm_strlcpy(r->first_name, first, sizeof r->first_name);
    size_t nsyl = DM_ARRAY_LEN(syllables);
    snprintf(r->last_name, sizeof r->last_name, "%c%s%s", "BDKLMPRST"[next_rand() % 9],
             syllables[next_rand() % nsyl], syllables[next_rand() % nsyl]);
    if (next_rand() % 5 < 3)
        snprintf(r->username, sizeof r->username, "%s_%s%u", syllables[next_rand() % nsyl],
                 syllables[next_rand() % nsyl], (unsigned)(next_rand() % 10000));
    dm_strlcpy(r->bio, "Here for the news", sizeof r->bio);
}

#define PAGE "/api/invite-requests?limit=50"

/* The all-filters query: a channel, pending, the middle half of the dates, a common name. */
static void all_filters(long rows, char *out, size_t size)
{
    snprintf(out, size, PAGE "&chat_id=%lld&status=pending&from=%lld&to=%lld&q=anna",
             (long long)(-1001000000000 - 3), (long long)(1700000000 + rows / 2),
             (long long)(1700000000 + 3 * rows / 2));
}

/* Page 2 of path: its first page's next_before. */
static void second_page(const struct bench_api *b, const char *path, char *out, size_t size)
{
    struct buf body;
    buf_init(&body, 16 << 20);
    if (bench_get(b, path, &body) != 200) {
        fprintf(stderr, "search_bench: GET %s failed\n", path);
        exit(1);
    }
    json_t *j = json_loadb(body.data, body.len, 0, NULL);
    json_int_t before = json_integer_value(json_object_get(j, "next_before"));
    if (!before) {
        fprintf(stderr, "search_bench: %s has no second page\n", path);
        exit(1);
    }
    snprintf(out, size, "%s&before=%lld", path, (long long)before);
    json_decref(j);
    buf_release(&body);
}

/* ANALYZE on PostgreSQL after the seeding, as autovacuum does by itself within about a minute
 * of a bulk load (autovacuum_naptime): until then the planner has no statistics of the search
 * column, guesses a common name rare, and sorts all its matches for a page (100k requests,
 * 'alex': 80 ms instead of 0.1 ms). The bench measures the steady state, not that minute. */
static void analyze(const char *url)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, "ANALYZE") : NULL;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "search_bench: ANALYZE: %s", PQerrorMessage(c));
        exit(1);
    }
    PQclear(r);
    PQfinish(c);
}

/* The CPU seconds used so far by the server processes of doorman's connections to url
 * (application_name 'doorman'), by pid into pids/cpu (up to max); returns how many, -1 when
 * they cannot be read (the server is not on this machine). */
static int backends_cpu(const char *url, int *pids, double *cpu, int max)
{
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQstatus(c) == CONNECTION_OK
                      ? PQexec(c, "SELECT pid FROM pg_stat_activity WHERE application_name = "
                                  "'doorman'")
                      : NULL;
    int n = 0;
    long tick = sysconf(_SC_CLK_TCK);
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r) && n < max; i++) {
        char path[64], line[1024];
        int pid = (int)strtol(PQgetvalue(r, i, 0), NULL, 10);
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = fopen(path, "r");
        char *after = f && fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
        if (f) fclose(f);
        unsigned long ut = 0, st = 0;
        /* after the name: state and 10 fields, then utime and stime (proc(5)) */
        if (!after ||
            sscanf(after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
            n = -1;
        else
            pids[n] = pid, cpu[n++] = (double)(ut + st) / (double)tick;
        if (n < 0) break;
    }
    PQclear(r);
    PQfinish(c);
    return n;
}

struct figures {
    double page_p50, page_p99, rare_p50, common_p50, rate, all_p99;
};

static struct figures run(const char *name, const char *url, long rows, double seconds)
{
    struct bench_api b;
    bench_api_start(&b, url, NULL);
    double cpu = bench_cpu();
    double took = bench_seed(&b, rows, 2000, seed_one);
    cpu = bench_cpu() - cpu;
    printf("%s: seeded %ld requests in %.1f s (%.0f a second; this process's CPU %.1f s, %.1f us a "
           "request)\n",
           name, rows, took, (double)rows / took, cpu, cpu * 1e6 / (double)rows);
    if (url) analyze(url);
    char all[512], all2[600];
    all_filters(rows, all, sizeof all);
    second_page(&b, all, all2, sizeof all2);

    enum { N = 300 };
    struct figures f = {0};
    f.page_p50 = bench_latency(&b, PAGE, N, 50);
    f.page_p99 = bench_latency(&b, PAGE, N, 99);
    f.rare_p50 = bench_latency(&b, PAGE "&q=zebulon", N, 50);
    f.common_p50 = bench_latency(&b, PAGE "&q=alex", N, 50);
    f.all_p99 = bench_latency(&b, all2, N, 99);
    const char *const mix[] = {PAGE "&q=zebulon", PAGE "&q=alex",  PAGE "&q=%D0%B5%D0%BB%D0%B5",
                               PAGE "&q=kov",     PAGE "&q=ngozi", PAGE "&q=5000000123"};
    long bad = 0;
    enum { BACKENDS = 64 };
    int pids0[BACKENDS], pids1[BACKENDS];
    double cpu0[BACKENDS], cpu1[BACKENDS];
    int n0 = url ? backends_cpu(url, pids0, cpu0, BACKENDS) : -1;
    double t0 = bench_now(), own = bench_cpu();
    f.rate = bench_load(&b, mix, (int)DM_ARRAY_LEN(mix), 8, seconds, &bad);
    double searches = f.rate * (bench_now() - t0);
    own = bench_cpu() - own;
    int n1 = n0 >= 0 ? backends_cpu(url, pids1, cpu1, BACKENDS) : -1;
    double server = 0; /* a backend that was not there before used all of its CPU in the load */
    for (int i = 0; i < n1; i++) {
        server += cpu1[i];
        for (int j = 0; j < n0; j++)
            if (pids0[j] == pids1[i]) server -= cpu0[j];
    }
    if (bad) {
        fprintf(stderr, "search_bench: %ld searches failed\n", bad);
        exit(1);
    }
    printf("  unfiltered page, one at a time   p50 %6.2f ms   p99 %6.2f ms\n", f.page_p50,
           f.page_p99);
    printf("  search 'zebulon' (rare)          p50 %6.2f ms   %5.1fx the page (target <= 5x)\n",
           f.rare_p50, f.rare_p50 / f.page_p50);
    printf("  search 'alex' (common)           p50 %6.2f ms   %5.1fx the page (target <= 5x)\n",
           f.common_p50, f.common_p50 / f.page_p50);
    printf("  8 clients, mixed searches        %6.0f searches/s (target >= 1000 on SQLite)\n",
           f.rate);
    printf("    CPU a search: this process %.0f us", own * 1e6 / searches);
    if (n1 >= 0) printf(", PostgreSQL's backends %.0f us", server * 1e6 / searches);
    printf("\n");
    printf("  every filter + search, page 2    p99 %6.2f ms   %5.1fx the page's p99 (target <= "
           "10x)\n",
           f.all_p99, f.all_p99 / f.page_p99);
    bench_api_stop(&b);
    return f;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    double seconds = argc > 2 ? strtod(argv[2], NULL) : 10;
    const char *pg = argc > 3 ? argv[3] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct figures lite = run("SQLite", NULL, rows, seconds);
    if (pg) {
        struct figures post = run("PostgreSQL", pg, rows, seconds);
        printf("PostgreSQL / SQLite searches/s = %.2f (target >= 0.5)\n", post.rate / lite.rate);
    }
    return 0;
}
