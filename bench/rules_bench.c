/* rules_bench: the rule engine in process (issue 13).
 *
 *   rules_bench [REQUESTS] [PENDING] [PG_URL]
 *
 * 1. Evaluation rate: REQUESTS (default 200,000) synthetic requests through a set of 50 rules
 *    (words, regular expressions, scripts, links, lists, waves, flags) that most requests fall
 *    through to the end, the worst case; against the reference of folding each request's name
 *    and bio alone (the least a rule set over names does), measured in the same run. Aim:
 *    100,000 requests/s or more.
 * 2. Dry run: PENDING (default 100,000) pending requests of one channel in a fresh SQLite
 *    store (and PostgreSQL with PG_URL, a database its user may fill), the same 50 rules over
 *    them as POST /api/rules/dry-run does (rules_dryrun), against reading the same rows alone
 *    (store_request_scan in pages). Aim: under a second. */
#include "core/common.h"
#include "core/clock.h"
#include "core/fold.h"
#include "rules/dryrun.h"
#include "rules/history.h"

#define RULES 50
#define CHAT -1001234567890LL

static const char *const FIRST[] = {"Ann",      "Иван",  "张伟",  "Maria", "محمد",
                                    "Jean-Luc", "Σοφία", "Kenji", "Olga",  "Pedro"};
static const char *const BIO[] = {"",     "just a person", "love cats and dogs", "Moscow, Russia",
                                  "学生", "runner, reader"};
static const char *const LANG[] = {"en", "ru", "zh-hans", "es", "ar", ""};

static dm_err bench_lists(void *ctx, const char *name, struct rules_list *l, struct dm_error *err)
{
    (void)ctx;
    (void)name;
    (void)err;
    char e[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(e, sizeof e, "%d", 900000000 + i * 7);
        rules_list_add(l, e);
    }
    rules_list_add(l, "@somebody_vip");
    return DM_OK;
}

/* 50 rules that an ordinary request does not match, but the last. */
static struct rules_set *bench_set(void)
{
    static const char *const kinds[] = {
        "{\"type\":\"name_matches\",\"words\":[\"casino#\",\"bonus#\",\"crypto\"]}",
        "{\"type\":\"bio_matches\",\"regex\":\"(?:earn|profit)\\\\s*\\\\$?#\"}",
        "{\"type\":\"bio_has_link\"},{\"type\":\"user_id_above\",\"value\":#}",
        "{\"type\":\"name_script\",\"script\":\"Hangul\"},{\"type\":\"is_premium\",\"negate\":"
        "true}",
        "{\"type\":\"in_list\",\"list\":\"deny#\"}",
        "{\"type\":\"wave\",\"count\":#000,\"minutes\":5,\"per\":\"link\"}",
        "{\"type\":\"language_code\",\"in\":[\"xx#\"]}",
        "{\"type\":\"bio_has_mention\"},{\"type\":\"has_username\",\"negate\":true}",
        "{\"type\":\"invite_link\",\"link\":\"https://t.me/+spam#\"}",
        "{\"type\":\"name_matches\",\"regex\":\"^[\\\\p{Lu}\\\\d]{12,}$|bot#$\"}",
    };
    struct rules_set *s = rules_set_new();
    struct dm_error err = {0};
    for (int i = 0; i < RULES; i++) {
        char cond[256], spec[512];
        size_t o = 0;
        for (const char *p = kinds[i % DM_ARRAY_LEN(kinds)]; *p && o < sizeof cond - 8; p++)
            o += *p == '#' ? (size_t)snprintf(cond + o, 8, "%d", i + 1) : (cond[o] = *p, 1);
        cond[o] = 0;
        snprintf(spec, sizeof spec, "{\"conditions\":[%s],\"action\":\"%s\"}",
                 i == RULES - 1 ? "" : cond, i == RULES - 1 ? "hold" : "decline");
        json_t *j = json_loads(spec, 0, NULL);
        if (!j || rules_set_add(s, i + 1, "bench", j, "bench", bench_lists, NULL, &err)) {
            fprintf(stderr, "rule %d: %s %s\n", i, spec, err.msg);
            exit(1);
        }
        json_decref(j);
    }
    return s;
}

static void fill(struct store_request *r, int i, int64_t t0)
{
    memset(r, 0, sizeof *r);
    r->chat_id = CHAT;
    r->user_id = 100000 + i;
    r->tg_date = t0 + i / 20;
    r->created_at = t0;
    snprintf(r->first_name, sizeof r->first_name, "%s", FIRST[i % 10]);
    snprintf(r->last_name, sizeof r->last_name, "Person%d", i);
    if (i % 3) snprintf(r->username, sizeof r->username, "user_%d", i);
    snprintf(r->bio, sizeof r->bio, "%s", BIO[i % 6]);
    snprintf(r->language_code, sizeof r->language_code, "%s", LANG[i % 6]);
    snprintf(r->invite_link, sizeof r->invite_link, "https://t.me/+link%d", i % 7);
    r->is_premium = i % 11 == 0;
}

static void rate(int n)
{
    struct rules_set *s = bench_set();
    struct rules_scratch *x = rules_scratch_new();
    struct rules_history *h = rules_history_new();
    struct rules_context ctx = rules_history_context(h);
    struct store_request *rows = malloc((size_t)n * sizeof *rows);
    for (int i = 0; i < n; i++)
        fill(&rows[i], i, 1700000000);
    /* the reference: fold name and bio */
    double t = clock_s();
    size_t sink = 0;
    for (int i = 0; i < n; i++) {
        char *a = NULL, *b = NULL, name[2 * STORE_TEXT_MAX];
        snprintf(name, sizeof name, "%s %s", rows[i].first_name, rows[i].last_name);
        fold_text(name, strlen(name), &a, NULL);
        fold_text(rows[i].bio, strlen(rows[i].bio), &b, NULL);
        sink += strlen(a) + strlen(b);
        free(a);
        free(b);
    }
    double ref = clock_s() - t;
    int64_t held = 0;
    t = clock_s();
    for (int i = 0; i < n; i++) {
        struct rules_request r = rules_request_of(&rows[i]);
        rules_history_add(h, &r, false);
        struct rules_verdict v;
        rules_eval(s, &r, &ctx, x, &v);
        held += v.action == RULE_HOLD;
    }
    double took = clock_s() - t;
    printf("evaluation: %d requests through %d rules in %.3f s = %.0f requests/s (aim >= 100000: "
           "%.2fx); %" PRId64 " reached the last rule\n",
           n, RULES, took, n / took, n / took / 100000, held);
    printf("  reference, folding name and bio alone: %.0f requests/s; the rules cost %.1fx that "
           "(%zu)\n",
           n / ref, took / ref, sink % 10);
    free(rows);
    rules_history_free(h);
    rules_scratch_free(x);
    rules_set_free(s);
}

static void dry(const char *url, const char *label, int n)
{
    struct store *st = NULL;
    struct dm_error err = {0};
    if (store_open(url, &st, &err)) {
        fprintf(stderr, "%s: %s\n", url, err.msg);
        exit(1);
    }
    struct store_request *rows = malloc(1000 * sizeof *rows);
    double t = clock_s();
    for (int i = 0; i < n; i += 1000) {
        int m = DM_MIN(1000, n - i);
        for (int j = 0; j < m; j++)
            fill(&rows[j], i + j, 1700000000);
        if (store_request_add_many(st, rows, (size_t)m, NULL, &err)) {
            fprintf(stderr, "recording: %s\n", err.msg);
            exit(1);
        }
    }
    printf("%s: %d pending recorded in %.1f s\n", label, n, clock_s() - t);
    t = clock_s();
    int64_t read = 0, after_date = INT64_MIN, after_id = 0;
    for (int got = 1000; got == 1000;) {
        store_request_scan(st, CHAT, after_date, after_id, 1000, rows, &got, &err);
        read += got;
        if (got) after_date = rows[got - 1].tg_date, after_id = rows[got - 1].id;
    }
    double scan = clock_s() - t;
    struct rules_set *s = bench_set();
    struct rules_dryrun *out = malloc(sizeof *out);
    t = clock_s();
    dm_err e = rules_dryrun(st, s, CHAT, out, &err);
    double took = clock_s() - t;
    if (e) {
        fprintf(stderr, "dry run: %s\n", err.msg);
        exit(1);
    }
    printf("%s: dry run of %" PRId64 " pending through %d rules in %.3f s (aim < 1 s); reading "
           "the %" PRId64 " rows alone %.3f s (%.1fx)\n",
           label, out->pending, RULES, took, read, scan, took / scan);
    printf("  counts: decline %" PRId64 ", hold %" PRId64 "\n", out->counts[RULE_DECLINE],
           out->counts[RULE_HOLD]);
    free(out);
    rules_set_free(s);
    free(rows);
    store_close(st);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 200000;
    int pending = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 100000;
    rate(n);
    char dir[] = "/tmp/rules_bench.XXXXXX", path[64];
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "sqlite:%s/db", dir);
    dry(path, "SQLite", pending);
    if (argc > 3) dry(argv[3], "PostgreSQL", pending);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
