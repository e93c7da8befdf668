/* store_test: every store function of the SQLite backend against a temporary file, the
 * request filters against a model computed here, concurrent use from several threads, and a
 * timing printout (not an assertion) of a panel page over 200,000 requests.
 *
 * With DOORMAN_TEST_PG_URL set (a PostgreSQL server where the URL's user may create databases,
 * e.g. from scripts/pg.sh start), the same checks run against the PostgreSQL backend in a
 * fresh database, plus its own: concurrent first opens, and reconnecting after the server
 * dropped the connections. */
#include "core/common.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "store/schema.h"
#include "store/stats.h"
#include "store/store.h"

static int checks, failures;
static struct dm_error E; /* for single-threaded calls */

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks++;                                                                                  \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* Expects `call` (which reports into E) to return `want`. */
#define EXPECT(want, call)                                                                         \
    do {                                                                                           \
        memset(&E, 0, sizeof E);                                                                   \
        dm_err got_ = (call);                                                                      \
        checks++;                                                                                  \
        if (got_ != (want)) {                                                                      \
            failures++;                                                                            \
            fprintf(stderr, "%s:%d: %s returned %s (%s), wanted %s\n", __FILE__, __LINE__, #call,  \
                    dm_errname(got_), E.msg, dm_strerror(want));                                   \
        }                                                                                          \
    } while (0)
#define OK(call) EXPECT(DM_OK, call)

static char dir[64];

static void db_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void db_remove(const char *name)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < DM_ARRAY_LEN(suffixes); i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s%s", dir, name, suffixes[i]);
        unlink(p);
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct store_request make_req(int64_t chat, int64_t user, int64_t date, int status,
                                     const char *first, const char *last, const char *username)
{
    struct store_request r;
    memset(&r, 0, sizeof r);
    r.chat_id = chat;
    r.user_id = user;
    r.tg_date = date;
    r.status = status;
    r.created_at = date + 1;
    dm_strlcpy(r.first_name, first, sizeof r.first_name);
    dm_strlcpy(r.last_name, last, sizeof r.last_name);
    dm_strlcpy(r.username, username, sizeof r.username);
    dm_strlcpy(r.bio, "bio", sizeof r.bio);
    dm_strlcpy(r.invite_link, "https://t.me/+abc", sizeof r.invite_link);
    return r;
}

/* ---- admins, web sessions, settings ---- */

static void test_admins(struct store *st)
{
    int64_t n = -1, id = 0, id2 = 0;
    struct store_admin a;
    OK(store_admin_count(st, &n, &E));
    CHECK(n == 0);
    OK(store_admin_create(st, "alice", "$argon2id$v=19$hash1", ROLE_OWNER, NULL, 0, 100, &id, &E));
    CHECK(id > 0);
    EXPECT(DM_EEXISTS,
           store_admin_create(st, "alice", "$argon2id$other", ROLE_OWNER, NULL, 0, 101, &id2, &E));
    CHECK(strstr(E.msg, "alice") != NULL);
    OK(store_admin_get(st, "alice", &a, &E));
    CHECK(a.id == id && strcmp(a.pw_hash, "$argon2id$v=19$hash1") == 0 && a.created_at == 100);
    EXPECT(DM_ENOTFOUND, store_admin_get(st, "bob", &a, &E));
    OK(store_admin_set_password(st, id, "$argon2id$v=19$hash2", "", &E));
    OK(store_admin_get(st, "alice", &a, &E));
    CHECK(strcmp(a.pw_hash, "$argon2id$v=19$hash2") == 0);
    EXPECT(DM_ENOTFOUND, store_admin_set_password(st, id + 100, "x", "", &E));

    /* a name longer than the field is cut at a UTF-8 boundary: 35 two-byte letters */
    char longname[128] = "";
    for (int i = 0; i < 35; i++)
        memcpy(longname + 2 * i, "\xc3\xa9", 3);
    OK(store_admin_create(st, longname, "h", ROLE_OWNER, NULL, 0, 100, &id2, &E));
    OK(store_admin_get(st, longname, &a, &E));
    CHECK(strlen(a.name) == 64 && strncmp(a.name, longname, 64) == 0);
    OK(store_admin_count(st, &n, &E));
    CHECK(n == 2);
    printf("ok admins: create, duplicate -> eexists, get, set_password, count, UTF-8 cut\n");

    /* roles: a viewer's channels scope what it reads; the last owner stays */
    const int64_t chans[] = {-1001, -1002};
    int64_t vid = 0, *got = NULL;
    size_t ng = 0;
    char scope[STORE_SCOPE_MAX];
    OK(store_admin_create(st, "viewer1", "h", ROLE_VIEWER, chans, 2, 100, &vid, &E));
    store_scope_of("admin", vid, scope);
    OK(store_grants(st, scope, &got, &ng, &E));
    CHECK(ng == 2 && got[0] == -1002 && got[1] == -1001);
    free(got);
    OK(store_admin_set_role(st, vid, ROLE_DECIDER, chans, 1, &E));
    OK(store_admin_get(st, "viewer1", &a, &E));
    CHECK(a.role == ROLE_DECIDER);
    OK(store_grants(st, scope, &got, &ng, &E));
    CHECK(ng == 1 && got[0] == -1001);
    free(got);
    OK(store_admin_set_role(st, id2, ROLE_VIEWER, NULL, 0, &E));
    EXPECT(DM_ECONFLICT, store_admin_set_role(st, id, ROLE_VIEWER, NULL, 0, &E));
    EXPECT(DM_ECONFLICT, store_admin_delete(st, id, &E));
    OK(store_admin_get(st, "alice", &a, &E));
    CHECK(a.role == ROLE_OWNER);
    OK(store_admin_set_role(st, id2, ROLE_OWNER, NULL, 0, &E));

    /* tokens: found by digest, revoked with their admin's role change */
    struct store_token t = {.admin_id = vid, .role = ROLE_VIEWER, .created_at = 5}, tf;
    dm_strlcpy(t.name, "ci", sizeof t.name);
    dm_strlcpy(t.token_hash, "d1", sizeof t.token_hash);
    int64_t tid = 0;
    OK(store_token_create(st, &t, chans, 1, &tid, &E));
    EXPECT(DM_EEXISTS, store_token_create(st, &t, chans, 1, &tid, &E));
    OK(store_token_find(st, "d1", &tf, &E));
    CHECK(tf.id == tid && tf.admin_role == ROLE_DECIDER && strcmp(tf.admin_name, "viewer1") == 0);
    OK(store_token_used(st, tid, 77, &E));
    struct store_token *tl = NULL;
    OK(store_token_list(st, vid, &tl, &ng, &E));
    CHECK(ng == 1 && tl[0].last_used_at == 77);
    free(tl);
    EXPECT(DM_ENOTFOUND, store_token_delete(st, tid, id, &E));
    OK(store_admin_set_role(st, vid, ROLE_VIEWER, chans, 2, &E));
    EXPECT(DM_ENOTFOUND, store_token_find(st, "d1", &tf, &E));

    /* TOTP: a step once; a recovery code once */
    const char *digests[] = {"r1", "r2"};
    bool fresh = false;
    OK(store_admin_totp_set(st, vid, "sealed", digests, 2, &E));
    OK(store_admin_totp_step(st, vid, 10, &fresh, &E));
    CHECK(fresh);
    OK(store_admin_totp_step(st, vid, 10, &fresh, &E));
    CHECK(!fresh);
    OK(store_recovery_use(st, vid, "r2", &fresh, &E));
    CHECK(fresh);
    OK(store_recovery_use(st, vid, "r2", &fresh, &E));
    CHECK(!fresh);
    OK(store_admin_delete(st, vid, &E));
    OK(store_grants(st, scope, &got, &ng, &E));
    CHECK(ng == 0);
    free(got);
    printf("ok admins: roles and grants, last owner kept, tokens, TOTP steps, recovery codes\n");
}

static void test_websessions(struct store *st)
{
    struct store_admin a;
    OK(store_admin_get(st, "alice", &a, &E));
    struct store_websession ws = {.admin_id = a.id, .created_at = 1000, .expires_at = 2000};
    dm_strlcpy(ws.token_hash, "aaaa", sizeof ws.token_hash);
    dm_strlcpy(ws.csrf, "csrf1", sizeof ws.csrf);
    OK(store_websession_create(st, &ws, &E));

    struct store_websession got;
    OK(store_websession_get(st, "aaaa", 1500, &got, &E));
    CHECK(got.admin_id == a.id && strcmp(got.admin_name, "alice") == 0);
    CHECK(strcmp(got.csrf, "csrf1") == 0 && got.expires_at == 2000 && got.created_at == 1000);
    EXPECT(DM_ENOTFOUND, store_websession_get(st, "aaaa", 2000, &got, &E)); /* expired */
    EXPECT(DM_ENOTFOUND, store_websession_get(st, "nope", 1500, &got, &E));

    /* creating a session drops the ones that have ended */
    struct store_websession ws2 = ws;
    dm_strlcpy(ws2.token_hash, "bbbb", sizeof ws2.token_hash);
    ws2.created_at = 2500;
    ws2.expires_at = 3000;
    OK(store_websession_create(st, &ws2, &E));
    EXPECT(DM_ENOTFOUND, store_websession_get(st, "aaaa", 0, &got, &E));
    OK(store_websession_get(st, "bbbb", 2600, &got, &E));
    OK(store_websession_delete(st, "bbbb", &E));
    EXPECT(DM_ENOTFOUND, store_websession_get(st, "bbbb", 2600, &got, &E));
    OK(store_websession_delete(st, "bbbb", &E)); /* deleting twice is fine */

    /* a new password ends the admin's other sessions, and keeps the one named */
    dm_strlcpy(ws2.token_hash, "dddd", sizeof ws2.token_hash);
    OK(store_websession_create(st, &ws2, &E));
    dm_strlcpy(ws2.token_hash, "eeee", sizeof ws2.token_hash);
    OK(store_websession_create(st, &ws2, &E));
    OK(store_admin_set_password(st, a.id, "$argon2id$v=19$hash3", "eeee", &E));
    EXPECT(DM_ENOTFOUND, store_websession_get(st, "dddd", 2600, &got, &E));
    OK(store_websession_get(st, "eeee", 2600, &got, &E));
    OK(store_websession_delete(st, "eeee", &E));

    ws2.admin_id = 999999; /* no such admin */
    dm_strlcpy(ws2.token_hash, "cccc", sizeof ws2.token_hash);
    CHECK(store_websession_create(st, &ws2, &E) != DM_OK);
    printf("ok websessions: create, get, expiry, purge of ended sessions, delete, a new password "
           "ends the others\n");
}

static void test_settings(struct store *st)
{
    char *v = NULL;
    EXPECT(DM_ENOTFOUND, store_setting_get(st, "bot_token", &v, &E));
    CHECK(v == NULL);
    CHECK(strstr(E.msg, "bot_token") != NULL);
    OK(store_setting_set(st, "bot_token", "123:SECRET", &E));
    OK(store_setting_get(st, "bot_token", &v, &E));
    CHECK(v && strcmp(v, "123:SECRET") == 0);
    free(v);
    OK(store_setting_set(st, "bot_token", "456:OTHER", &E));
    OK(store_setting_get(st, "bot_token", &v, &E));
    CHECK(v && strcmp(v, "456:OTHER") == 0);
    free(v);
    OK(store_setting_set(st, "empty", "", &E));
    OK(store_setting_get(st, "empty", &v, &E));
    CHECK(v && v[0] == 0);
    free(v);
    OK(store_setting_delete(st, "bot_token", &E));
    v = NULL;
    EXPECT(DM_ENOTFOUND, store_setting_get(st, "bot_token", &v, &E));
    OK(store_setting_delete(st, "bot_token", &E));
    OK(store_setting_take(st, "empty", &v, &E)); /* once: a one-time token */
    CHECK(v && v[0] == 0);
    free(v);
    EXPECT(DM_ENOTFOUND, store_setting_take(st, "empty", &v, &E));
    CHECK(v == NULL);
    printf("ok settings: get/set/overwrite/delete/take\n");
}

/* ---- requests against a model ---- */

#define CHAT_A (-1001000000001LL)
#define CHAT_B (-1001000000002LL)
#define CHAT_C (-1001000000003LL) /* has a chats row but no requests */
#define MODEL_MAX 64

static struct store_request model[MODEL_MAX];
static int model_n;

static void add_model(struct store *st, struct store_request r)
{
    bool inserted = false;
    OK(store_request_add(st, &r, &inserted, &E));
    CHECK(inserted);
    /* ids grow in insertion order: the new one is the highest */
    struct store_request page[1];
    int n = 0;
    OK(store_request_list(st, NULL, 0, 1, page, &n, &E));
    CHECK(n == 1);
    r.id = page[0].id;
    CHECK(model_n == 0 || r.id > model[model_n - 1].id);
    model[model_n++] = r;
}

static bool icontains(const char *hay, const char *needle)
{
    return strcasestr(hay, needle) != NULL;
}

static bool model_match(const struct store_request *r, const struct store_request_filter *f,
                        bool use_status)
{
    if (use_status && f->status >= 0 && r->status != f->status) return false;
    if (f->chat_id && r->chat_id != f->chat_id) return false;
    if (f->date_from && r->tg_date < f->date_from) return false;
    if (f->date_to && r->tg_date > f->date_to) return false;
    if (!f->q[0]) return true;
    if (icontains(r->first_name, f->q) || icontains(r->last_name, f->q) ||
        icontains(r->username, f->q))
        return true;
    bool digits = true;
    for (const char *p = f->q; *p; p++)
        digits = digits && *p >= '0' && *p <= '9';
    return digits && r->user_id == strtoll(f->q, NULL, 10);
}

static struct store_request_filter filter(int status, int64_t chat, int64_t from, int64_t to,
                                          const char *q)
{
    struct store_request_filter f = {
        .status = status, .chat_id = chat, .date_from = from, .date_to = to};
    dm_strlcpy(f.q, q, sizeof f.q);
    return f;
}

/* store_request_page's requests as it hands them over, kept (the record is the store's). */
struct page_got {
    struct store_request r[4];
    int n;
};

static void page_keep(void *ctx, const struct store_request *r)
{
    struct page_got *g = ctx;
    if (g->n < 4) g->r[g->n++] = *r;
}

/* Whether a and b hold the same request: field by field, as a page's records leave the bytes
 * after a text's terminator unspecified (store_request_fn). */
static bool request_same(const struct store_request *a, const struct store_request *b)
{
#define SAME_INT(m) (a->m == b->m)
#define SAME_TEXT(m) (strcmp(a->m, b->m) == 0)
    return SAME_INT(id) && SAME_INT(chat_id) && SAME_INT(user_id) && SAME_TEXT(first_name) &&
           SAME_TEXT(last_name) && SAME_TEXT(username) && SAME_TEXT(bio) &&
           SAME_TEXT(invite_link) && SAME_INT(tg_date) && SAME_INT(status) &&
           SAME_INT(created_at) && SAME_INT(decided_at) && SAME_TEXT(decided_by) &&
           SAME_TEXT(decided_via) && SAME_TEXT(last_error) && SAME_INT(is_premium) &&
           SAME_TEXT(language_code) && SAME_INT(is_scam) && SAME_INT(is_fake) &&
           SAME_INT(rule_id) && SAME_TEXT(verdict) && SAME_INT(banned) && SAME_TEXT(chat_title) &&
           SAME_INT(verify_state) && SAME_INT(verify_deadline) && SAME_INT(verify_attempts) &&
           SAME_TEXT(verify_answer);
#undef SAME_INT
#undef SAME_TEXT
}

/* Pages through request_list with a small limit and compares with the model, then counts. */
static void check_filter(struct store *st, const struct store_request_filter *f)
{
    int64_t want[MODEL_MAX];
    int nwant = 0;
    for (int i = model_n - 1; i >= 0; i--)
        if (model_match(&model[i], f, true)) want[nwant++] = model[i].id;

    int got = 0;
    bool same = true;
    int64_t before = 0;
    for (int pages = 0; pages < MODEL_MAX; pages++) {
        struct store_request page[4];
        int n = 0;
        OK(store_request_list(st, f, before, 4, page, &n, &E));
        for (int i = 0; i < n; i++) {
            same = same && got < nwant && page[i].id == want[got];
            got++;
        }
        if (n < 4) break;
        before = page[n - 1].id;
    }
    CHECK(same && got == nwant);
    if (!same || got != nwant)
        fprintf(stderr,
                "  filter status=%d chat=%" PRId64 " from=%" PRId64 " to=%" PRId64
                " q='%s': got %d rows, wanted %d\n",
                f->status, f->chat_id, f->date_from, f->date_to, f->q, got, nwant);

    int64_t counts[REQ_STATUS_COUNT], wc[REQ_STATUS_COUNT] = {0};
    for (int i = 0; i < model_n; i++)
        if (model_match(&model[i], f, false)) wc[model[i].status]++;
    OK(store_request_counts(st, f, counts, &E));
    CHECK(counts[0] == wc[0] && counts[1] == wc[1] && counts[2] == wc[2]);

    /* the first page with its counts, read together (one round trip on PostgreSQL), each
     * request handed over as read: the same records as store_request_list's */
    struct page_got first = {.n = 0};
    struct store_request listed[4];
    int n = -1, nlisted = -1;
    bool exact = false;
    memset(counts, 0xff, sizeof counts);
    OK(store_request_page(st, f, 0, 4, page_keep, &first, &n, 0, counts, &exact, &E));
    CHECK(n == DM_MIN(nwant, 4) && n == first.n && exact);
    OK(store_request_list(st, f, 0, 4, listed, &nlisted, &E));
    CHECK(nlisted == n);
    for (int i = 0; i < n && i < nwant; i++)
        CHECK(first.r[i].id == want[i] && request_same(&first.r[i], &listed[i]));
    CHECK(counts[0] == wc[0] && counts[1] == wc[1] && counts[2] == wc[2]);
}

static void test_requests(struct store *st)
{
    struct store_chat ch = {.chat_id = CHAT_A, .fetched_at = 5};
    dm_strlcpy(ch.title, "Zeta channel", sizeof ch.title);
    dm_strlcpy(ch.username, "zeta", sizeof ch.username);
    OK(store_chat_put(st, &ch, &E));
    dm_strlcpy(ch.title, "Alpha channel", sizeof ch.title); /* put again: updates */
    OK(store_chat_put(st, &ch, &E));
    struct store_chat c2 = {.chat_id = CHAT_C};
    dm_strlcpy(c2.title, "Empty", sizeof c2.title);
    OK(store_chat_put(st, &c2, &E));
    struct store_chat got;
    OK(store_chat_get(st, CHAT_A, &got, &E));
    CHECK(strcmp(got.title, "Alpha channel") == 0 && strcmp(got.username, "zeta") == 0 &&
          got.fetched_at == 5);
    EXPECT(DM_ENOTFOUND, store_chat_get(st, CHAT_B, &got, &E));

    /* idempotent recording */
    struct store_request r = make_req(CHAT_A, 11, 1000, REQ_PENDING, "Alice", "Smith", "alice_s");
    add_model(st, r);
    bool inserted = true;
    OK(store_request_add(st, &r, &inserted, &E));
    CHECK(!inserted); /* the same (chat, user, date) */
    struct store_request again = r;
    again.tg_date = 1200;
    OK(store_request_add(st, &again, &inserted, &E));
    CHECK(!inserted); /* a second pending request of the same user in the same chat */
    printf("ok request_add: same triple and second pending are no-ops\n");

    add_model(st, make_req(CHAT_A, 11, 500, REQ_DECLINED, "Alice", "Smith", "alice_s"));
    add_model(st, make_req(CHAT_A, 12, 1010, REQ_PENDING, "Bob", "100% real", "bob_b"));
    add_model(st, make_req(CHAT_B, 12, 1020, REQ_APPROVED, "Bob", "", "bob_b"));
    add_model(st, make_req(CHAT_B, 13, 1030, REQ_PENDING, "Ca_rl", "", ""));
    add_model(st, make_req(CHAT_B, 14, 1040, REQ_PENDING, "Carl", "", "x100y"));
    add_model(st, make_req(CHAT_A, 100, 1050, REQ_APPROVED, "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd",
                           "back\\slash", "ivan"));
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "user%d", i);
        add_model(st, make_req(i % 2 ? CHAT_A : CHAT_B, 1000 + i, 2000 + i * 10, i % 3, name,
                               i % 4 ? "" : "ALICE", name));
    }

    struct store_request one;
    OK(store_request_get(st, model[0].id, &one, &E));
    CHECK(one.chat_id == CHAT_A && one.user_id == 11 && strcmp(one.first_name, "Alice") == 0 &&
          strcmp(one.chat_title, "Alpha channel") == 0 && strcmp(one.bio, "bio") == 0 &&
          one.created_at == 1001 && one.status == REQ_PENDING);
    OK(store_request_get(st, model[3].id, &one, &E));
    CHECK(one.chat_title[0] == 0); /* chat B has no chats row */
    EXPECT(DM_ENOTFOUND, store_request_get(st, 999999, &one, &E));

    struct store_request_filter fs[] = {
        filter(-1, 0, 0, 0, ""),
        filter(REQ_PENDING, 0, 0, 0, ""),
        filter(REQ_APPROVED, 0, 0, 0, ""),
        filter(-1, CHAT_A, 0, 0, ""),
        filter(REQ_DECLINED, CHAT_B, 0, 0, ""),
        filter(-1, 0, 1020, 0, ""),
        filter(-1, 0, 0, 2050, ""),
        filter(REQ_PENDING, CHAT_A, 1000, 2100, ""),
        filter(-1, 0, 0, 0, "ALICE"),
        filter(-1, 0, 0, 0, "alice"),
        filter(-1, 0, 0, 0, "%"),
        filter(-1, 0, 0, 0, "100%"),
        filter(-1, 0, 0, 0, "_"),
        filter(-1, 0, 0, 0, "a_r"),
        filter(-1, 0, 0, 0, "C_rl"),
        filter(-1, 0, 0, 0, "\\"),
        filter(-1, 0, 0, 0, "12"),  /* user id 12, and "user12" */
        filter(-1, 0, 0, 0, "100"), /* user id 100 and "100% real" and "x100y" */
        filter(-1, 0, 0, 0, "user1"),
        filter(-1, CHAT_B, 0, 0, "user"),
        filter(-1, 0, 0, 0, "99999999999999999999999"), /* digits beyond int64 */
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(fs); i++)
        check_filter(st, &fs[i]);
    /* LIKE metacharacters are literal: "C_rl" is not "Carl" */
    struct store_request page[8];
    int n = -1;
    struct store_request_filter f = filter(-1, 0, 0, 0, "C_rl");
    OK(store_request_list(st, &f, 0, 8, page, &n, &E));
    CHECK(n == 0);
    f = filter(-1, 0, 0, 0, "100");
    OK(store_request_list(st, &f, 0, 8, page, &n, &E));
    CHECK(n == 3);
    OK(store_request_list(st, NULL, 0, 0, page, &n, &E));
    CHECK(n == 0);
    /* case folding beyond ASCII: Cyrillic, Latin-1, Greek */
    add_model(st, make_req(CHAT_B, 300, 3000, REQ_PENDING, "\xc3\x89LODIE",
                           "\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91", ""));
    static const struct {
        const char *q;
        int64_t user_id;
    } folds[] = {
        {"\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd", 100}, /* "иван" finds "Иван" */
        {"\xd0\x98\xd0\x92", 100},                 /* "ИВ" */
        {"\xc3\xa9lodie", 300},                    /* "élodie" finds "ÉLODIE" */
        {"\xcf\x83\xce\xbf\xcf\x86", 300},         /* "σοφ" finds "ΣΟΦΙΑ" */
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(folds); i++) {
        f = filter(-1, 0, 0, 0, folds[i].q);
        OK(store_request_list(st, &f, 0, 8, page, &n, &E));
        CHECK(n == 1 && page[0].user_id == folds[i].user_id);
    }
    printf("ok request_list/request_counts/request_page: %zu filters paged by 4 match the "
           "model, the first page read with its counts too; q folds Cyrillic, Latin-1 and Greek "
           "case\n",
           DM_ARRAY_LEN(fs));

    struct store_chat *chats = NULL;
    size_t nchats = 0;
    OK(store_chat_list(st, &chats, &nchats, &E));
    CHECK(nchats == 2);
    if (nchats == 2) {
        CHECK(chats[0].chat_id == CHAT_B && chats[0].title[0] == 0); /* unknown title first */
        CHECK(chats[1].chat_id == CHAT_A && strcmp(chats[1].title, "Alpha channel") == 0);
    }
    free(chats);
    printf("ok chats: put/update/get, list has only chats with requests, by title\n");
}

/* ---- jobs ---- */

static struct store_job job_spec(int kind, const char *admin, const char *desc)
{
    struct store_job j;
    memset(&j, 0, sizeof j);
    j.kind = kind;
    dm_strlcpy(j.via, "bot", sizeof j.via);
    dm_strlcpy(j.admin, admin, sizeof j.admin);
    dm_strlcpy(j.description, desc, sizeof j.description);
    return j;
}

static int count_jobs(struct store *st)
{
    struct store_job jobs[16];
    int n = 0;
    OK(store_job_list(st, 0, 16, jobs, &n, &E));
    return n;
}

static int64_t pending_in(int64_t chat)
{
    int64_t n = 0;
    for (int i = 0; i < model_n; i++)
        n += model[i].status == REQ_PENDING && (!chat || model[i].chat_id == chat);
    return n;
}

static void test_jobs(struct store *st)
{
    struct store_job spec = job_spec(JOB_APPROVE, "alice", "Approve 4");
    int64_t j1 = 0, j2 = 0, j3 = 0;

    /* an unknown id: an error naming it, and no job */
    int64_t bad[] = {model[0].id, 777777, 888888};
    EXPECT(DM_ENOTFOUND, store_job_create_ids(st, &spec, bad, 3, 3000, &j1, &E));
    CHECK(strstr(E.msg, "777777") != NULL);
    CHECK(count_jobs(st) == 0);
    EXPECT(DM_EINVAL, store_job_create_ids(st, &spec, bad, 0, 3000, &j1, &E));

    /* model[0] pending A, [2] pending A, [4] pending B, [5] pending B, [1] declined */
    int64_t ids[] = {model[4].id, model[0].id, model[2].id, model[0].id, model[5].id, model[1].id};
    OK(store_job_create_ids(st, &spec, ids, DM_ARRAY_LEN(ids), 3000, &j1, &E));
    struct store_job job;
    OK(store_job_get(st, j1, &job, &E));
    CHECK(job.total == 5 && job.state == JOB_QUEUED && job.kind == JOB_APPROVE);
    CHECK(strcmp(job.admin, "alice") == 0 && strcmp(job.via, "bot") == 0 &&
          strcmp(job.description, "Approve 4") == 0 && job.created_at == 3000);
    printf("ok job_create_ids: unknown id -> enotfound naming it and no job; duplicates removed\n");

    struct store_job spec2 = job_spec(JOB_DECLINE, "carol", "Decline all in A");
    struct store_request_filter fa = filter(-1, CHAT_A, 0, 0, "");
    OK(store_job_create_filter(st, &spec2, &fa, 3001, &j2, &E));
    OK(store_job_get(st, j2, &job, &E));
    CHECK(job.total == pending_in(CHAT_A) && job.total > 0);
    struct store_request_filter fbad = filter(REQ_APPROVED, 0, 0, 0, "");
    EXPECT(DM_EINVAL, store_job_create_filter(st, &spec2, &fbad, 3001, &j3, &E));
    /* a request that arrives later is not part of the snapshot */
    add_model(st, make_req(CHAT_A, 5000, 5000, REQ_PENDING, "Late", "", "late"));
    OK(store_job_get(st, j2, &job, &E));
    CHECK(job.total == pending_in(CHAT_A) - 1);
    struct store_item items[64];
    int n = 0;
    OK(store_job_next_items(st, j2, 0, 64, items, &n, &E));
    CHECK(n == job.total);
    for (int i = 0; i < n; i++)
        CHECK(items[i].request_id != model[model_n - 1].id && items[i].chat_id == CHAT_A &&
              items[i].request_status == REQ_PENDING &&
              (i == 0 || items[i].request_id > items[i - 1].request_id));
    printf("ok job_create_filter: snapshot of %" PRId64 " pending requests\n", job.total);

    /* claims and leases */
    struct store_job claimed;
    const char *const busy[] = {"s1,s2", "bot"}; /* another lane runs the bot's jobs */
    EXPECT(DM_ENOTFOUND, store_job_claim_except(st, "w0", 4000, 4060, busy, 2, &claimed, &E));
    OK(store_job_claim(st, "w1", 4000, 4060, &claimed, &E));
    CHECK(claimed.id == j1 && claimed.state == JOB_RUNNING);
    OK(store_job_renew(st, j1, "w1", 4090, &E));
    EXPECT(DM_ECONFLICT, store_job_renew(st, j1, "w2", 4090, &E));
    OK(store_job_claim(st, "w2", 4001, 4061, &claimed, &E));
    CHECK(claimed.id == j2);
    EXPECT(DM_ENOTFOUND, store_job_claim(st, "w3", 4010, 4070, &claimed, &E));
    OK(store_job_claim(st, "w3", 4091, 4200, &claimed, &E)); /* w1's lease ended at 4090 */
    CHECK(claimed.id == j1);
    EXPECT(DM_ECONFLICT, store_job_renew(st, j1, "w1", 4300, &E));
    OK(store_job_renew(st, j1, "w3", 4300, &E));
    EXPECT(DM_ENOTFOUND, store_job_renew(st, 999, "w3", 4300, &E));
    OK(store_job_finish(st, j2, JOB_CANCELLED, "cancelled by carol", 4100, &E));
    EXPECT(DM_ECONFLICT, store_job_renew(st, j2, "w2", 4300, &E));
    CHECK(strstr(E.msg, "cancelled") != NULL);
    EXPECT(DM_ECONFLICT, store_job_finish(st, j2, JOB_CANCELLED, "", 4101, &E));
    EXPECT(DM_EINVAL, store_job_finish(st, j2, JOB_RUNNING, "", 4101, &E));
    EXPECT(DM_ENOTFOUND, store_job_finish(st, 999, JOB_DONE, "", 4101, &E));
    OK(store_job_get(st, j2, &job, &E));
    CHECK(job.state == JOB_CANCELLED && job.finished_at == 4100 &&
          strcmp(job.error, "cancelled by carol") == 0);
    EXPECT(DM_ENOTFOUND, store_job_claim(st, "w4", 4250, 4500, &claimed, &E)); /* j1 leased */
    OK(store_job_set_wait(st, j1, 4150, "waiting", &E));
    OK(store_job_get(st, j1, &job, &E));
    CHECK(job.wait_until == 4150);
    EXPECT(DM_ENOTFOUND, store_job_set_wait(st, 999, 1, "", &E));
    printf("ok job_claim/renew/finish: leases, expiry, cancel -> econflict\n");

    /* items of j1: model[0], [1] (declined), [2], [4], [5] in id order */
    OK(store_job_next_items(st, j1, 0, 64, items, &n, &E));
    CHECK(n == 5);
    if (n != 5) return;
    CHECK(items[0].request_id == model[0].id && items[0].user_id == 11 &&
          items[0].chat_id == CHAT_A && items[1].request_status == REQ_DECLINED);
    OK(store_job_next_items(st, j1, items[2].request_id, 64, items + 5, &n, &E));
    CHECK(n == 2 && items[5].request_id == model[4].id);

    /* 1: done -> the request is approved by the job's admin */
    struct store_item it = {.job_id = j1, .request_id = model[0].id, .outcome = ITEM_DONE};
    OK(store_job_items_finish(st, &it, 1, 5000, &E));
    struct store_request rq;
    OK(store_request_get(st, model[0].id, &rq, &E));
    CHECK(rq.status == REQ_APPROVED && rq.decided_at == 5000 &&
          strcmp(rq.decided_by, "alice") == 0 && strcmp(rq.decided_via, "bot") == 0);
    /* again, even with another outcome: nothing changes */
    it.outcome = ITEM_FAILED;
    dm_strlcpy(it.error, "should not stick", sizeof it.error);
    OK(store_job_items_finish(st, &it, 1, 5001, &E));
    OK(store_request_get(st, model[0].id, &rq, &E));
    CHECK(rq.status == REQ_APPROVED && rq.last_error[0] == 0 && rq.decided_at == 5000);

    /* 2: done, but the request was declined already -> skipped */
    it = (struct store_item){.job_id = j1, .request_id = model[1].id, .outcome = ITEM_DONE};
    OK(store_job_items_finish(st, &it, 1, 5002, &E));
    OK(store_request_get(st, model[1].id, &rq, &E));
    CHECK(rq.status == REQ_DECLINED && rq.decided_at == 0);

    /* 3: failed -> last_error on the request, which stays pending; asked through s2 */
    it = (struct store_item){.job_id = j1, .request_id = model[2].id, .outcome = ITEM_FAILED};
    dm_strlcpy(it.error, "CHAT_ADMIN_REQUIRED", sizeof it.error);
    dm_strlcpy(it.via, "s2", sizeof it.via);
    OK(store_job_items_finish(st, &it, 1, 5003, &E));
    OK(store_request_get(st, model[2].id, &rq, &E));
    CHECK(rq.status == REQ_PENDING && strcmp(rq.last_error, "CHAT_ADMIN_REQUIRED") == 0);

    /* 4: decided by another job in between -> skipped here */
    int64_t one_id = model[4].id;
    struct store_job spec3 = job_spec(JOB_DECLINE, "dave", "Decline 1");
    OK(store_job_create_ids(st, &spec3, &one_id, 1, 5004, &j3, &E));
    it = (struct store_item){.job_id = j3, .request_id = one_id, .outcome = ITEM_DONE};
    OK(store_job_items_finish(st, &it, 1, 5005, &E));
    it.job_id = j1;
    OK(store_job_items_finish(st, &it, 1, 5006, &E));
    OK(store_request_get(st, one_id, &rq, &E));
    CHECK(rq.status == REQ_DECLINED && strcmp(rq.decided_by, "dave") == 0 && rq.decided_at == 5005);

    /* 5: Telegram said already handled, to s1 */
    it = (struct store_item){.job_id = j1, .request_id = model[5].id, .outcome = ITEM_SKIPPED};
    dm_strlcpy(it.error, "HIDE_REQUESTER_MISSING", sizeof it.error);
    dm_strlcpy(it.via, "s1", sizeof it.via);
    OK(store_job_items_finish(st, &it, 1, 5007, &E));
    /* what each account did: the items no account was named for are in none */
    struct store_job_account acc[4];
    OK(store_job_accounts(st, j1, acc, 4, &n, &E));
    CHECK(n == 2);
    if (n == 2)
        CHECK(strcmp(acc[0].via, "s1") == 0 && acc[0].done == 0 && acc[0].skipped == 1 &&
              acc[0].failed == 0 && strcmp(acc[1].via, "s2") == 0 && acc[1].done == 0 &&
              acc[1].skipped == 0 && acc[1].failed == 1);
    printf("ok job_accounts: items counted by the account asked\n");

    it = (struct store_item){.job_id = j1, .request_id = model[3].id, .outcome = ITEM_DONE};
    EXPECT(DM_ENOTFOUND, store_job_items_finish(st, &it, 1, 5008, &E)); /* not in the job */
    it.outcome = ITEM_PENDING;
    EXPECT(DM_EINVAL, store_job_items_finish(st, &it, 1, 5008, &E));

    OK(store_job_get(st, j1, &job, &E));
    CHECK(job.done == 1 && job.skipped == 3 && job.failed == 1 && job.total == 5 &&
          job.updated_at == 5007);
    OK(store_job_next_items(st, j1, 0, 64, items, &n, &E));
    CHECK(n == 0);
    OK(store_job_items(st, j1, ITEM_FAILED, 0, 64, items, &n, &E));
    CHECK(n == 1 && items[0].request_id == model[2].id && items[0].user_id == 12 &&
          strcmp(items[0].error, "CHAT_ADMIN_REQUIRED") == 0);
    OK(store_job_items(st, j1, ITEM_SKIPPED, 0, 64, items, &n, &E));
    CHECK(n == 3);
    OK(store_job_items(st, j1, ITEM_DONE, 0, 64, items, &n, &E));
    CHECK(n == 1 && items[0].request_id == model[0].id);

    /* audit: one row per finished item, newest first */
    struct store_audit au[16];
    OK(store_audit_list(st, 0, 16, au, &n, &E));
    CHECK(n == 6);
    if (n == 6) {
        static const char *const want_result[] = {"already_handled", "already_handled", "ok",
                                                  "error",           "already_handled", "ok"};
        for (int i = 0; i < 6; i++)
            CHECK(strcmp(au[i].result, want_result[i]) == 0);
        CHECK(strcmp(au[0].detail, "HIDE_REQUESTER_MISSING") == 0 && au[0].job_id == j1 &&
              strcmp(au[0].via, "s1") == 0);
        CHECK(strcmp(au[2].action, "decline") == 0 && strcmp(au[2].admin, "dave") == 0);
        CHECK(strcmp(au[3].action, "approve") == 0 &&
              strcmp(au[3].detail, "CHAT_ADMIN_REQUIRED") == 0);
        CHECK(au[5].request_id == model[0].id && au[5].chat_id == CHAT_A && au[5].user_id == 11 &&
              strcmp(au[5].via, "bot") == 0 && strcmp(au[5].admin, "alice") == 0 &&
              au[5].at == 5000);
        CHECK(au[0].id > au[1].id);
    }
    OK(store_job_finish(st, j1, JOB_DONE, "", 5100, &E));
    OK(store_job_get(st, j1, &job, &E));
    CHECK(job.state == JOB_DONE && job.finished_at == 5100 && job.wait_until == 0);

    struct store_job jobs[2];
    OK(store_job_list(st, 0, 2, jobs, &n, &E));
    CHECK(n == 2 && jobs[0].id == j3 && jobs[1].id == j2);
    OK(store_job_list(st, jobs[1].id, 2, jobs, &n, &E));
    CHECK(n == 1 && jobs[0].id == j1);
    printf("ok job items: next_items, finish counters, request status, skipped when decided "
           "elsewhere, finish twice is a no-op, audit rows\n");

    struct store_audit a = {.at = 6000, .request_id = 0};
    dm_strlcpy(a.admin, "alice", sizeof a.admin);
    dm_strlcpy(a.action, "login", sizeof a.action);
    dm_strlcpy(a.result, "ok", sizeof a.result);
    OK(store_audit_add(st, &a, &E));
    OK(store_audit_list(st, 0, 1, au, &n, &E));
    CHECK(n == 1 && strcmp(au[0].action, "login") == 0 && au[0].at == 6000);
    OK(store_audit_list(st, au[0].id, 100, au, &n, &E));
    CHECK(n == 6);
    printf("ok audit: add and pages newest first\n");
}

/* ---- threads ---- */

#define THREAD_ROUNDS 300

struct worker {
    struct store *st;
    int index;
    bool writer;
    int errors;
    char first_error[320];
};

static void worker_fail(struct worker *w, const char *what, const struct dm_error *e)
{
    if (w->errors++ == 0) snprintf(w->first_error, sizeof w->first_error, "%s: %s", what, e->msg);
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct dm_error e = {0};
    for (int i = 0; i < THREAD_ROUNDS; i++) {
        if (w->writer) {
            struct store_request r =
                make_req(-200 - w->index, i, 10000 + i, REQ_PENDING, "Thread", "Writer", "tw");
            bool ins = false;
            if (store_request_add(w->st, &r, &ins, &e) || !ins) worker_fail(w, "request_add", &e);
            char key[32];
            snprintf(key, sizeof key, "k%d", w->index);
            if (store_setting_set(w->st, key, "v", &e)) worker_fail(w, "setting_set", &e);
            if (i % 50 == 0) {
                struct store_job spec = job_spec(JOB_APPROVE, "alice", "t");
                struct store_request_filter f = filter(-1, -200 - w->index, 0, 0, "");
                int64_t id;
                if (store_job_create_filter(w->st, &spec, &f, 7000, &id, &e))
                    worker_fail(w, "job_create_filter", &e);
            }
        } else {
            struct store_request page[50];
            int n;
            int64_t counts[REQ_STATUS_COUNT];
            struct store_request_filter f = filter(i % 2 ? REQ_PENDING : -1, 0, 0, 0, "");
            if (store_request_list(w->st, &f, 0, 50, page, &n, &e) || n == 0)
                worker_fail(w, "request_list", &e);
            if (store_request_counts(w->st, &f, counts, &e)) worker_fail(w, "request_counts", &e);
            char *v = NULL;
            dm_err rc = store_setting_get(w->st, "k0", &v, &e);
            if (rc != DM_OK && rc != DM_ENOTFOUND) worker_fail(w, "setting_get", &e);
            free(v);
        }
    }
    return NULL;
}

struct idler {
    struct store *st;
    atomic_bool stop;
    int passes;
};

/* The process's idle pass (store_release_idle) over and over while the workers run. */
static void *idler_run(void *arg)
{
    struct idler *d = arg;
    while (!atomic_load(&d->stop)) {
        store_release_idle(d->st);
        d->passes++;
        sched_yield();
    }
    return NULL;
}

static void test_threads(struct store *st, struct store *other)
{
    /* four threads on one store, and a fifth writer on a second store over the same file, as
     * a second process would be: waits go through busy_timeout, never SQLITE_BUSY; meanwhile
     * a sixth gives back the store's idle memory (closing readers not taken lately) */
    struct worker w[5];
    pthread_t t[5], idle_t;
    struct idler idler = {.st = st};
    pthread_create(&idle_t, NULL, idler_run, &idler);
    for (int i = 0; i < 5; i++) {
        w[i] = (struct worker){.st = i == 4 ? other : st, .index = i, .writer = i % 2 == 0};
        pthread_create(&t[i], NULL, worker_run, &w[i]);
    }
    int errors = 0;
    for (int i = 0; i < 5; i++) {
        pthread_join(t[i], NULL);
        if (w[i].errors)
            fprintf(stderr, "  thread %d: %d errors, first: %s\n", i, w[i].errors,
                    w[i].first_error);
        errors += w[i].errors;
    }
    atomic_store(&idler.stop, true);
    pthread_join(idle_t, NULL);
    CHECK(errors == 0 && idler.passes > 0);
    for (int i = 0; i < 5; i += 2) {
        struct store_request_filter f = filter(-1, -200 - i, 0, 0, "");
        int64_t counts[REQ_STATUS_COUNT];
        OK(store_request_counts(st, &f, counts, &E));
        CHECK(counts[REQ_PENDING] == THREAD_ROUNDS);
    }
    /* two idle passes close every reader (none taken in between); the next read opens one */
    store_release_idle(st);
    store_release_idle(st);
    for (int i = 0; i < 5; i += 2) {
        struct store_request_filter f = filter(-1, -200 - i, 0, 0, "");
        struct store_request page[5];
        int n = 0;
        OK(store_request_list(st, &f, 0, 5, page, &n, &E));
        CHECK(n == 5);
    }
    printf("ok threads: 3 writers (one on a second connection) and 2 readers, %d rounds each, "
           "%d idle passes beside them, no errors; reads after the readers were closed\n",
           THREAD_ROUNDS, idler.passes);
}

/* ---- timing ---- */

#define BIG 200000

static void timing(void)
{
    char path[128];
    db_path(path, sizeof path, "big.db");
    struct store *st = NULL;
    OK(store_open(path, &st, &E));
    if (!st) return;
    store_close(st);

    /* fill it fast with one transaction straight into SQLite: this measures reads, not adds */
    double t0 = now_ms();
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    int rc = sqlite3_exec(
        db,
        "BEGIN;"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
        "INSERT INTO invite_requests(chat_id, user_id, first_name, last_name, username, tg_date, "
        "status, created_at, search) SELECT -1000 - (i % 10), i, 'First' || i, 'Last', "
        "'user' || i, 1700000000 + i, CASE WHEN i % 10 < 6 THEN 0 ELSE 1 + i % 2 END, "
        "1700000000 + i, 'first' || i || char(10) || 'last' || char(10) || 'user' || i FROM n;"
        /* the totals the store keeps when it records (requests.c) */
        "INSERT INTO request_counts SELECT chat_id, status, count(*) FROM invite_requests "
        "GROUP BY 1, 2;"
        "COMMIT;",
        NULL, NULL, NULL);
    CHECK(rc == SQLITE_OK);
    if (rc != SQLITE_OK) fprintf(stderr, "  fill: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    double t1 = now_ms();

    OK(store_open(path, &st, &E));
    if (!st) return;
    printf("timing over %d requests (filled in %.0f ms):\n", BIG, t1 - t0);
    struct {
        const char *name;
        struct store_request_filter f;
    } cases[] = {
        {"no filter", filter(-1, 0, 0, 0, "")},
        {"status=pending", filter(REQ_PENDING, 0, 0, 0, "")},
        {"chat", filter(-1, -1003, 0, 0, "")},
        {"chat+status=approved", filter(REQ_APPROVED, -1006, 0, 0, "")},
        {"dates", filter(-1, 0, 1700100000, 1700150000, "")},
        {"q=user1999", filter(-1, 0, 0, 0, "user1999")},
        {"q=123456 (digits)", filter(-1, 0, 0, 0, "123456")},
    };
    static struct store_request page[50];
    for (size_t i = 0; i < DM_ARRAY_LEN(cases); i++) {
        int n = 0;
        int64_t counts[REQ_STATUS_COUNT];
        double a = now_ms();
        OK(store_request_list(st, &cases[i].f, 0, 50, page, &n, &E));
        double b = now_ms();
        int64_t before = n ? page[n - 1].id : 0;
        OK(store_request_list(st, &cases[i].f, before, 50, page, &n, &E));
        double c = now_ms();
        OK(store_request_counts(st, &cases[i].f, counts, &E));
        double d = now_ms();
        printf("  %-22s first page %6.2f ms, second page %6.2f ms, counts %7.2f ms "
               "(pending %" PRId64 ")\n",
               cases[i].name, b - a, c - b, d - c, counts[0]);
    }
    struct store_job spec = job_spec(JOB_APPROVE, "alice", "all");
    int64_t id = 0;
    double a = now_ms();
    OK(store_job_create_filter(st, &spec, NULL, 1, &id, &E));
    double b = now_ms();
    struct store_job job;
    OK(store_job_get(st, id, &job, &E));
    CHECK(job.total == BIG * 6 / 10);
    printf("  job_create_filter over every pending request (%" PRId64 " items) %.0f ms\n",
           job.total, b - a);
    store_close(st);
    db_remove("big.db");
}

/* ---- load jobs ---- */

static void test_load_jobs(struct store *st)
{
    struct store_job spec = job_spec(JOB_LOAD, "alice", "Load @chan");
    dm_strlcpy(spec.via, "acct_1", sizeof spec.via);
    dm_strlcpy(spec.params, "{\"channel\":\"@chan\",\"limit\":1000}", sizeof spec.params);
    int64_t id = 0, other = 0, added = -1;
    struct store_job approve = job_spec(JOB_LOAD, "alice", "wrong");
    EXPECT(DM_EINVAL, store_job_create_ids(st, &approve, &model[0].id, 1, 100, &other, &E));
    EXPECT(DM_EINVAL, store_job_create_filter(st, &approve, NULL, 100, &other, &E));
    approve.kind = JOB_APPROVE;
    EXPECT(DM_EINVAL, store_job_create_load(st, &approve, 100, &other, &E));
    OK(store_job_create_load(st, &spec, 100, &id, &E));
    struct store_job j;
    OK(store_job_get(st, id, &j, &E));
    CHECK(j.kind == JOB_LOAD && j.state == JOB_QUEUED && j.total == 0 && j.done == 0);
    CHECK(strcmp(j.params, spec.params) == 0 && j.cursor[0] == 0);
    CHECK(strcmp(j.via, "acct_1") == 0 && strcmp(job_kind_name(j.kind), "load") == 0);

    /* a page before the job is claimed: not this owner's, nothing recorded */
    struct store_request rows[3];
    for (int i = 0; i < 3; i++)
        rows[i] = make_req(-100777, 9000 + i, 5000 + i, REQ_PENDING, "Load", "Er", "");
    EXPECT(DM_ECONFLICT,
           store_job_load_page(st, id, "w1", "acct_1", rows, 3, "{}", 3, 101, NULL, &added, &E));
    CHECK(added == 0);

    /* claim it (jobs test_jobs left queued come first, being smaller: hold them too) */
    struct store_job claimed = {0};
    for (int i = 0; i < 50 && claimed.id != id; i++)
        OK(store_job_claim(st, "w1", 102, 200, &claimed, &E));
    CHECK(claimed.id == id && strcmp(claimed.params, spec.params) == 0);
    int64_t counted = -1;
    OK(store_job_load_page(st, id, "w1", "acct_1", rows, 2, "{\"offset_user\":9001}", 3, 103,
                           &counted, &added, &E));
    CHECK(added == 2 && counted == 2);
    /* the same rows again (another session going on from the first one's position reads them
     * again) and one new: one is new, and done counts each request once, for whom read it first */
    OK(store_job_load_page(st, id, "w1", "acct_2", rows, 3, "{\"offset_user\":9002}", 2, 104,
                           &counted, &added, &E));
    CHECK(added == 1 && counted == 1);
    OK(store_job_get(st, id, &j, &E));
    CHECK(j.total == 3 && j.done == 3 && strcmp(j.cursor, "{\"offset_user\":9002}") == 0);
    CHECK(j.updated_at == 104);
    struct store_job_account by[4];
    int n_by = 0;
    OK(store_job_accounts(st, id, by, 4, &n_by, &E));
    CHECK(n_by == 2 && !strcmp(by[0].via, "acct_1") && by[0].done == 2 && by[0].failed == 0);
    CHECK(!strcmp(by[1].via, "acct_2") && by[1].done == 1 && by[1].skipped == 0);
    struct store_request_filter f = filter(REQ_PENDING, -100777, 0, 0, "");
    int64_t counts[REQ_STATUS_COUNT];
    OK(store_request_counts(st, &f, counts, &E));
    CHECK(counts[REQ_PENDING] == 3);

    /* a page noted in one statement finds each row's request as one row at a time did: a row
     * noted before is not counted; a row twice in the page counts once; a row of a user whose
     * pending request has another date notes that one; a row of the same date as a decided
     * request notes the decided one, not the user's pending one */
    struct store_request known[] = {
        make_req(-100777, 9003, 5003, REQ_PENDING, "Known", "", ""),
        make_req(-100777, 9006, 4006, REQ_DECLINED, "Decided", "", ""),
        make_req(-100777, 9006, 5006, REQ_PENDING, "Again", "", ""),
    };
    size_t kept = 0;
    OK(store_request_add_many(st, known, 3, &kept, &E));
    CHECK(kept == 3);
    struct store_request page[] = {
        rows[0],
        make_req(-100777, 9004, 5004, REQ_PENDING, "Twice", "", ""),
        make_req(-100777, 9004, 5004, REQ_PENDING, "Twice", "", ""),
        make_req(-100777, 9003, 7003, REQ_PENDING, "Known", "", ""),
        make_req(-100777, 9006, 4006, REQ_PENDING, "Decided", "", ""),
    };
    OK(store_job_load_page(st, id, "w1", "acct_3", page, 5, "{\"offset_user\":9006}", 4, 105,
                           &counted, &added, &E));
    CHECK(added == 1 && counted == 3);
    OK(store_job_get(st, id, &j, &E));
    CHECK(j.total == 6 && j.done == 6);
    struct store_item items[8];
    int n_items = 0;
    OK(store_job_items(st, id, ITEM_DONE, 0, 8, items, &n_items, &E));
    CHECK(n_items == 6);
    for (int i = 0; i < n_items; i++) {
        struct store_request r;
        OK(store_request_get(st, items[i].request_id, &r, &E));
        bool mine = !strcmp(items[i].via, "acct_3");
        CHECK(mine == (r.user_id >= 9003));
        if (r.user_id == 9003) CHECK(r.tg_date == 5003 && r.status == REQ_PENDING);
        if (r.user_id == 9006) CHECK(r.tg_date == 4006 && r.status == REQ_DECLINED);
    }
    OK(store_job_accounts(st, id, by, 4, &n_by, &E));
    CHECK(n_by == 3 && !strcmp(by[2].via, "acct_3") && by[2].done == 3);
    OK(store_request_counts(st, &f, counts, &E));
    CHECK(counts[REQ_PENDING] == 6);

    /* another owner, or a cancelled job: refused, nothing recorded */
    struct store_request extra = make_req(-100777, 9100, 6000, REQ_PENDING, "X", "", "");
    EXPECT(DM_ECONFLICT,
           store_job_load_page(st, id, "w2", "acct_1", &extra, 1, "", 4, 106, NULL, &added, &E));
    OK(store_job_finish(st, id, JOB_CANCELLED, "", 106, &E));
    EXPECT(DM_ECONFLICT,
           store_job_load_page(st, id, "w1", "acct_1", &extra, 1, "", 4, 107, NULL, &added, &E));
    CHECK(strstr(E.msg, "cancelled") != NULL);
    OK(store_request_counts(st, &f, counts, &E));
    CHECK(counts[REQ_PENDING] == 6);
    EXPECT(DM_ENOTFOUND,
           store_job_load_page(st, 999999, "w1", "acct_1", NULL, 0, "", 0, 108, NULL, NULL, &E));
    printf("ok load jobs: params and cursor kept, pages idempotent and counted per account, only "
           "for the lease owner\n");
}

/* Several items finished in one transaction: each request, item and audit entry, the job's
 * counts once; all or nothing when one of them is not the job's. */
static void test_items_batch(struct store *st)
{
    enum { CHAT = -100888 };
    struct store_request rs[3];
    for (int i = 0; i < 3; i++)
        rs[i] = make_req(CHAT, 9500 + i, 7000 + i, REQ_PENDING, "Batch", "", "");
    OK(store_request_add_many(st, rs, 3, NULL, &E));
    struct store_request_filter f = filter(REQ_PENDING, CHAT, 0, 0, "");
    struct store_request got[3];
    int n = 0;
    OK(store_request_list(st, &f, 0, 3, got, &n, &E));
    CHECK(n == 3);
    if (n != 3) return;
    int64_t ids[3] = {got[2].id, got[1].id, got[0].id}; /* in id order */
    struct store_job spec = job_spec(JOB_APPROVE, "alice", "Approve 3");
    int64_t job_id = 0;
    OK(store_job_create_ids(st, &spec, ids, 3, 7100, &job_id, &E));

    struct store_item it[4];
    for (int i = 0; i < 3; i++)
        it[i] = (struct store_item){.job_id = job_id, .request_id = ids[i], .outcome = ITEM_DONE};
    it[2].request_id = model[0].id; /* not in this job: nothing of the batch is recorded */
    EXPECT(DM_ENOTFOUND, store_job_items_finish(st, it, 3, 7200, &E));
    struct store_job j;
    OK(store_job_get(st, job_id, &j, &E));
    CHECK(j.done == 0 && j.failed == 0 && j.updated_at == 7100);
    int64_t counts[REQ_STATUS_COUNT];
    OK(store_request_counts(st, &f, counts, &E));
    CHECK(counts[REQ_PENDING] == 3);

    it[2].request_id = ids[2];
    it[2].outcome = ITEM_FAILED;
    dm_strlcpy(it[2].error, "USER_CHANNELS_TOO_MUCH", sizeof it[2].error);
    it[3] = it[0]; /* given twice: finished once */
    OK(store_job_items_finish(st, it, 4, 7201, &E));
    OK(store_job_get(st, job_id, &j, &E));
    CHECK(j.done == 2 && j.skipped == 0 && j.failed == 1 && j.updated_at == 7201);
    OK(store_request_counts(st, &f, counts, &E));
    CHECK(counts[REQ_PENDING] == 1);
    struct store_request rq;
    OK(store_request_get(st, ids[1], &rq, &E));
    CHECK(rq.status == REQ_APPROVED && rq.decided_at == 7201 && !strcmp(rq.decided_by, "alice"));
    OK(store_request_get(st, ids[2], &rq, &E));
    CHECK(rq.status == REQ_PENDING && !strcmp(rq.last_error, "USER_CHANNELS_TOO_MUCH"));
    struct store_audit au[3];
    OK(store_audit_list(st, 0, 3, au, &n, &E));
    CHECK(n == 3 && au[0].request_id == ids[2] && !strcmp(au[0].result, "error") &&
          au[1].request_id == ids[1] && au[2].request_id == ids[0] && !strcmp(au[2].result, "ok"));
    /* again: finished items are left as they were, the counts too */
    OK(store_job_items_finish(st, it, 3, 7202, &E));
    OK(store_job_get(st, job_id, &j, &E));
    CHECK(j.done == 2 && j.failed == 1 && j.updated_at == 7201);
    OK(store_job_finish(st, job_id, JOB_DONE, "", 7300, &E));
    printf("ok items finished together: counts once, all or nothing\n");
}

/* ---- sessions and logins ---- */

static struct store_session session_spec(const char *name)
{
    struct store_session x;
    memset(&x, 0, sizeof x);
    dm_strlcpy(x.name, name, sizeof x.name);
    x.api_id = 12345;
    memset(x.api_hash_sealed, 'h', sizeof x.api_hash_sealed - 1); /* kept whole */
    dm_strlcpy(x.phone, "+15550001", sizeof x.phone);
    x.dc_id = 2;
    x.created_at = 500;
    return x;
}

/* Migration 7: what rules look at kept with a request, the arrival-order scan paging through
 * equal dates, rules in order per scope, lists, modes. */
static void test_rules_store(struct store *st)
{
    const int64_t chat = -1009900;
    struct store_request rs[5];
    for (int i = 0; i < 5; i++) {
        rs[i] = make_req(chat, 9900 + i, i < 4 ? 500 : 400, i == 1 ? REQ_DECLINED : REQ_PENDING,
                         "Scan", "", "");
        rs[i].is_premium = i == 0;
        rs[i].is_scam = rs[i].is_fake = i == 2;
        dm_strlcpy(rs[i].language_code, i == 0 ? "pt-BR" : "", sizeof rs[i].language_code);
    }
    OK(store_request_add_many(st, rs, 5, NULL, &E));
    struct store_request page[2];
    int64_t order[5], after_date = INT64_MIN, after_id = 0;
    int n = 2, seen = 0;
    while (n == 2) {
        OK(store_request_scan(st, chat, after_date, after_id, 2, page, &n, &E));
        for (int i = 0; i < n && seen < 5; i++) {
            order[seen++] = page[i].user_id;
            if (page[i].user_id == 9900)
                CHECK(page[i].is_premium && strcmp(page[i].language_code, "pt-BR") == 0 &&
                      !page[i].is_scam);
            if (page[i].user_id == 9902) CHECK(page[i].is_scam && page[i].is_fake);
        }
        if (n) after_date = page[n - 1].tg_date, after_id = page[n - 1].id;
    }
    CHECK(seen == 5 && order[0] == 9904 && order[1] == 9900 && order[2] == 9901 &&
          order[3] == 9902 && order[4] == 9903);

    struct store_rule r = {.chat_id = chat, .enabled = true};
    int64_t ids[3];
    for (int i = 0; i < 3; i++) {
        snprintf(r.name, sizeof r.name, "r%d", i);
        snprintf(r.spec, sizeof r.spec, "{\"action\":\"hold\",\"n\":%d}", i);
        OK(store_rule_add(st, &r, 100, &ids[i], &E));
    }
    struct store_rule g = {.chat_id = 0, .enabled = false};
    dm_strlcpy(g.spec, "{}", sizeof g.spec);
    int64_t gid = 0;
    OK(store_rule_add(st, &g, 100, &gid, &E));
    int64_t bad[] = {ids[2], gid, ids[0]}, dup[] = {ids[2], ids[2], ids[0]};
    EXPECT(DM_EINVAL, store_rule_reorder(st, chat, bad, 3, 101, &E));
    EXPECT(DM_EINVAL, store_rule_reorder(st, chat, dup, 3, 101, &E));
    EXPECT(DM_EINVAL, store_rule_reorder(st, chat, ids, 2, 101, &E));
    int64_t want[] = {ids[2], ids[0], ids[1]};
    OK(store_rule_reorder(st, chat, want, 3, 101, &E));
    OK(store_rule_delete(st, ids[0], &E));
    EXPECT(DM_ENOTFOUND, store_rule_delete(st, ids[0], &E));
    struct store_rule *list = NULL;
    size_t nr = 0;
    OK(store_rule_list(st, chat, &list, &nr, &E));
    CHECK(nr == 2 && list[0].id == ids[2] && list[0].position == 0 && list[1].id == ids[1] &&
          list[1].position == 1 && strcmp(list[1].spec, "{\"action\":\"hold\",\"n\":1}") == 0);
    free(list);
    OK(store_rule_list(st, 0, &list, &nr, &E));
    CHECK(nr == 1 && list[0].id == gid && !list[0].enabled);
    free(list);

    const char *entries[] = {"123", "@ann", "123"};
    OK(store_list_write(st, "allow_1", entries, 3, false, 100, &E));
    struct store_list meta;
    OK(store_list_get(st, "allow_1", &meta, &E));
    CHECK(meta.entries == 2);
    struct store_list_entry e[4];
    OK(store_list_entries(st, "allow_1", "123", 4, e, &n, &E));
    CHECK(n == 1 && strcmp(e[0].entry, "@ann") == 0);
    /* a rule that names the list keeps it */
    dm_strlcpy(r.spec, "{\"conditions\":[{\"type\":\"in_list\",\"list\":\"allow_1\"}]}",
               sizeof r.spec);
    int64_t user = 0;
    OK(store_rule_add(st, &r, 100, &user, &E));
    EXPECT(DM_ECONFLICT, store_list_delete(st, "allow_1", &E));
    OK(store_list_write(st, "allow_11", entries, 1, true, 100, &E));
    OK(store_list_delete(st, "allow_11", &E)); /* "allow_1" in a rule is not "allow_11" */
    OK(store_rule_delete(st, user, &E));
    OK(store_list_delete(st, "allow_1", &E));
    EXPECT(DM_ENOTFOUND, store_list_delete(st, "allow_1", &E));

    struct store_mode m = {
        .chat_id = chat, .mode = MODE_APPROVE_ALL, .per_hour = 60, .updated_at = 5};
    OK(store_mode_set(st, &m, &E));
    m.per_hour = 90;
    OK(store_mode_set(st, &m, &E));
    struct store_mode got;
    OK(store_mode_get(st, chat, &got, &E));
    CHECK(got.mode == MODE_APPROVE_ALL && got.per_hour == 90);
    OK(store_mode_delete(st, chat, &E));
    EXPECT(DM_ENOTFOUND, store_mode_get(st, chat, &got, &E));
    CHECK(channel_mode_parse("rules") == MODE_RULES && channel_mode_parse("x") == -1);
    printf("ok rules: request traits, arrival-order scan, rules in order, lists, modes\n");
}

static void test_sessions(struct store *st)
{
    struct store_session a = session_spec("zeta"), b = session_spec("alpha"), got;
    b.is_bot = true;
    b.phone[0] = 0;
    OK(store_session_add(st, &a, &E));
    OK(store_session_add(st, &b, &E));
    EXPECT(DM_EEXISTS, store_session_add(st, &a, &E));
    CHECK(strstr(E.msg, "zeta") != NULL);
    OK(store_session_get(st, "zeta", &got, &E));
    CHECK(memcmp(&got, &a, sizeof got) == 0);
    EXPECT(DM_ENOTFOUND, store_session_get(st, "nope", &got, &E));

    a.account_id = 777;
    dm_strlcpy(a.first_name, "Ünïcode", sizeof a.first_name);
    dm_strlcpy(a.username, "zed", sizeof a.username);
    dm_strlcpy(a.account_phone, "15550001", sizeof a.account_phone);
    a.premium = true;
    a.status = SESSION_INVALID;
    dm_strlcpy(a.status_reason, "AUTH_KEY_UNREGISTERED", sizeof a.status_reason);
    a.last_check_at = 600;
    dm_strlcpy(a.last_error, "Session is invalid", sizeof a.last_error);
    a.created_at = 1; /* not written by update */
    OK(store_session_update(st, &a, &E));
    OK(store_session_get(st, "zeta", &got, &E));
    a.created_at = 500;
    CHECK(memcmp(&got, &a, sizeof got) == 0);
    CHECK(strcmp(session_status_name(got.status), "invalid") == 0);
    struct store_session bad = session_spec("ghost");
    EXPECT(DM_ENOTFOUND, store_session_update(st, &bad, &E));
    bad.status = 9;
    EXPECT(DM_EINVAL, store_session_add(st, &bad, &E));

    struct store_session *list = NULL;
    size_t n = 0;
    OK(store_session_list(st, &list, &n, &E));
    CHECK(n == 2 && list && strcmp(list[0].name, "alpha") == 0 && list[0].is_bot &&
          strcmp(list[1].name, "zeta") == 0 && list[1].premium);
    free(list);

    /* the access hashes a session learned: replaced, kept apart per session, gone with it */
    int64_t hash = 0;
    OK(store_peer_put(st, "alpha", 1234567890, -42, 100, &E));
    OK(store_peer_put(st, "alpha", 1234567890, 77, 101, &E));
    OK(store_peer_put(st, "zeta", 1234567890, 5, 101, &E));
    OK(store_peer_get(st, "alpha", 1234567890, &hash, &E));
    CHECK(hash == 77);
    OK(store_peer_get(st, "zeta", 1234567890, &hash, &E));
    CHECK(hash == 5);
    EXPECT(DM_ENOTFOUND, store_peer_get(st, "alpha", 99, &hash, &E));
    EXPECT(DM_ENOTFOUND, store_peer_put(st, "ghost", 1, 1, 100, &E));

    OK(store_session_delete(st, "alpha", &E));
    EXPECT(DM_ENOTFOUND, store_session_delete(st, "alpha", &E));
    EXPECT(DM_ENOTFOUND, store_peer_get(st, "alpha", 1234567890, &hash, &E));
    OK(store_session_list(st, &list, &n, &E));
    CHECK(n == 1);
    free(list);
    OK(store_session_delete(st, "zeta", &E));
    printf("ok sessions: add (unique names), get, update, list by name, delete; their peers\n");

    struct store_login l, lg;
    memset(&l, 0, sizeof l);
    dm_strlcpy(l.id, "0123456789abcdef", sizeof l.id);
    dm_strlcpy(l.name, "newone", sizeof l.name);
    dm_strlcpy(l.phone, "+1555", sizeof l.phone);
    memset(l.sealed, 's', sizeof l.sealed - 1); /* 8191 bytes kept whole */
    l.created_at = 1000;
    l.expires_at = 1600;
    OK(store_login_put(st, &l, 1000, &E));
    OK(store_login_get(st, l.id, 1599, &lg, &E));
    CHECK(memcmp(&lg, &l, sizeof lg) == 0);
    EXPECT(DM_ENOTFOUND, store_login_get(st, l.id, 1600, &lg, &E));
    l.state = LOGIN_PASSWORD_NEEDED;
    dm_strlcpy(l.hint, "my pet", sizeof l.hint);
    OK(store_login_put(st, &l, 1001, &E)); /* replaces */
    OK(store_login_get(st, l.id, 1002, &lg, &E));
    CHECK(lg.state == LOGIN_PASSWORD_NEEDED && strcmp(lg.hint, "my pet") == 0);
    l.state = 7;
    EXPECT(DM_EINVAL, store_login_put(st, &l, 1001, &E));

    /* a later put removes expired logins */
    struct store_login l2 = l;
    l2.state = LOGIN_CODE_SENT;
    dm_strlcpy(l2.id, "fedcba9876543210", sizeof l2.id);
    l2.expires_at = 3000;
    OK(store_login_put(st, &l2, 2000, &E));
    OK(store_login_get(st, l2.id, 2001, &lg, &E));
    EXPECT(DM_ENOTFOUND, store_login_get(st, l.id, 0, &lg, &E)); /* purged, not just expired */
    OK(store_login_delete(st, l2.id, &E));
    OK(store_login_delete(st, l2.id, &E));
    EXPECT(DM_ENOTFOUND, store_login_get(st, l2.id, 2001, &lg, &E));
    printf("ok logins: put replaces, get honours expiry, expired ones purged, delete\n");
}

/* Quantiles of a time-to-decision histogram: exact in 1 s buckets, interpolated in wider ones. */
static void test_stats_quantile(void)
{
    CHECK(stats_quantile(NULL, 0, 0.5) == -1);
    const struct stats_latency h[] = {{3, 4, 2}, {5, 6, 1}, {100, 120, 1}};
    CHECK(stats_quantile(h, 3, 0.5) == 3); /* the 2nd of 4 */
    CHECK(stats_quantile(h, 3, 0.75) == 5);
    double p90 = stats_quantile(h, 3, 0.9);
    CHECK(p90 > 100 && p90 < 120);
    printf("ok stats: quantiles of a histogram\n");
}

/* A database at schema version 2 with an admin, a job and its item migrates to the latest
 * version keeping them (the admin an owner): the jobs table is rebuilt (for the new CHECK) under
 * job_items' reference, and the names an older doorman folded its own way are folded again
 * (core/fold.h). */
static void test_migrate_v2(void)
{
    char path[128];
    db_path(path, sizeof path, "v2.db");
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    const char *v2 =
        "PRAGMA foreign_keys = ON;"
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);"
        "INSERT INTO schema_version VALUES (1, 1), (2, 2);"
        "CREATE TABLE admins (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
        "  pw_hash TEXT NOT NULL, created_at INTEGER NOT NULL);"
        "INSERT INTO admins VALUES (3, 'carol', 'h', 1);"
        "CREATE TABLE invite_requests (id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL,"
        "  user_id INTEGER NOT NULL, status INTEGER NOT NULL DEFAULT 0,"
        "  first_name TEXT NOT NULL DEFAULT '', last_name TEXT NOT NULL DEFAULT '',"
        "  username TEXT NOT NULL DEFAULT '', bio TEXT NOT NULL DEFAULT '',"
        "  invite_link TEXT NOT NULL DEFAULT '', tg_date INTEGER NOT NULL DEFAULT 0,"
        "  decided_at INTEGER NOT NULL DEFAULT 0, decided_by TEXT NOT NULL DEFAULT '',"
        "  decided_via TEXT NOT NULL DEFAULT '', search TEXT NOT NULL DEFAULT '');"
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL CHECK (kind IN (0, 1)),"
        "  state INTEGER NOT NULL DEFAULT 0, via TEXT NOT NULL, admin TEXT NOT NULL,"
        "  description TEXT NOT NULL DEFAULT '', total INTEGER NOT NULL DEFAULT 0,"
        "  done INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,"
        "  failed INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
        "  updated_at INTEGER NOT NULL, finished_at INTEGER NOT NULL DEFAULT 0,"
        "  wait_until INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',"
        "  lease_owner TEXT NOT NULL DEFAULT '', lease_until INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX jobs_active ON jobs(id) WHERE state IN (0, 1);"
        "CREATE TABLE job_items (job_id INTEGER NOT NULL REFERENCES jobs(id),"
        "  request_id INTEGER NOT NULL REFERENCES invite_requests(id),"
        "  outcome INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',"
        "  PRIMARY KEY (job_id, request_id)) WITHOUT ROWID;"
        "INSERT INTO invite_requests(id, chat_id, user_id, status, first_name, search)"
        "  VALUES (1, -1001, 42, 0, 'Straße', 'straße');"
        "INSERT INTO jobs(id, kind, via, admin, description, total, created_at, updated_at)"
        "  VALUES (7, 1, 'bot', 'bob', 'Decline 1', 1, 10, 10);"
        "INSERT INTO job_items VALUES (7, 1, 0, '');"
        "CREATE TABLE request_counts (chat_id INTEGER NOT NULL, status INTEGER NOT NULL,"
        "  n INTEGER NOT NULL, PRIMARY KEY (chat_id, status)) WITHOUT ROWID;"
        "INSERT INTO request_counts VALUES (-1001, 0, 1);";
    CHECK(sqlite3_exec(db, v2, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);

    struct store *st = NULL;
    OK(store_open(path, &st, &E));
    if (!st) return;
    struct store_admin carol;
    OK(store_admin_get(st, "carol", &carol, &E));
    CHECK(carol.role == ROLE_OWNER); /* admins from before roles are owners */
    struct store_job j;
    OK(store_job_get(st, 7, &j, &E));
    CHECK(j.kind == JOB_DECLINE && j.total == 1 && strcmp(j.admin, "bob") == 0 &&
          j.params[0] == 0 && j.cursor[0] == 0);
    struct store_item items[2];
    int n = 0;
    OK(store_job_next_items(st, 7, 0, 2, items, &n, &E));
    CHECK(n == 1 && items[0].user_id == 42);
    struct store_request_filter sf = {.status = -1};
    dm_strlcpy(sf.q, "STRASSE", sizeof sf.q);
    int64_t found[REQ_STATUS_COUNT];
    OK(store_request_counts(st, &sf, found, &E));
    CHECK(found[REQ_PENDING] == 1);
    struct store_job load = job_spec(JOB_LOAD, "bob", "Load");
    int64_t id = 0;
    OK(store_job_create_load(st, &load, 20, &id, &E));
    CHECK(id == 8);
    struct store_session x = session_spec("after_migration");
    OK(store_session_add(st, &x, &E));
    /* the statistics' rollups were built from the request there was (tg_date 0: day 0) */
    struct store_stats stats;
    struct stats_query sq = {.from = 0, .to = 86399, .span = STATS_DAY};
    OK(store_stats_read(st, &sq, &stats, &E));
    CHECK(stats.n_series == 1 && stats.series[0].chat_id == -1001 && stats.series[0].pending == 1 &&
          stats.n_flow == 1 && stats.flow[0].arrived == 1 && stats.flow[0].backlog == 1 &&
          stats.pending_now == 1);
    store_stats_release(&stats);
    store_close(st);

    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_stmt *q = NULL;
    CHECK(sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &q, NULL) ==
          SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == schema_latest);
    sqlite3_finalize(q);
    CHECK(sqlite3_prepare_v2(db,
                             "SELECT count(*) FROM pragma_foreign_key_list('job_items') "
                             "WHERE \"table\" = 'jobs'",
                             -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1);
    sqlite3_finalize(q);
    sqlite3_close(db);
    db_remove("v2.db");
    printf("ok migration 2 -> 4: jobs rebuilt with their items, load jobs and sessions work\n");
}

/* Leases between two stores on one database, as two processes would hold them. */
static void test_leases(struct store *a, struct store *b)
{
    bool held = false;
    OK(store_lease_acquire(a, "bot_poller", "one", 100, 110, &held, &E));
    CHECK(held);
    OK(store_lease_acquire(b, "bot_poller", "two", 105, 115, &held, &E));
    CHECK(!held); /* held by "one" until 110 */
    OK(store_lease_acquire(a, "bot_poller", "one", 108, 118, &held, &E));
    CHECK(held); /* renewed */
    OK(store_lease_acquire(b, "bot_poller", "two", 115, 125, &held, &E));
    CHECK(!held);
    OK(store_lease_acquire(b, "bot_poller", "two", 119, 129, &held, &E));
    CHECK(held); /* "one" let it end: taken over */
    OK(store_lease_acquire(a, "bot_poller", "one", 120, 130, &held, &E));
    CHECK(!held);
    OK(store_lease_release(a, "bot_poller", "one", &E)); /* not its own: nothing changes */
    OK(store_lease_acquire(a, "bot_poller", "one", 121, 131, &held, &E));
    CHECK(!held);
    OK(store_lease_release(b, "bot_poller", "two", &E));
    OK(store_lease_acquire(a, "bot_poller", "one", 122, 132, &held, &E));
    CHECK(held); /* released: free at once */
    OK(store_lease_acquire(b, "session:alice", "two", 122, 132, &held, &E));
    CHECK(held); /* another name is another lease */
    OK(store_lease_release(a, "bot_poller", "one", &E));
    OK(store_lease_release(b, "session:alice", "two", &E));
    printf("ok leases: one holder at a time, renewal, takeover after expiry, release\n");
}

/* Every check that holds for any backend, on two stores (a second one as another process
 * would open it) over one fresh database: `url` to open, `url2` to reopen it. */
/* ---- one search semantics on every backend ---- */

#define SEARCH_CHAT -1009999000001
/* Names from scripts whose folding a byte-wise or locale-wise lower() gets wrong: Turkish
 * dotted and dotless i, German sharp s, Greek final sigma, Cyrillic, Arabic, CJK, emoji,
 * fullwidth letters and a letter with its accent as a separate code point (NFD). */
static const struct {
    const char *first, *last, *username;
} search_names[] = {
    {"İstanbul", "Yılmaz", ""},     /* 1 */
    {"istanbul", "YILMAZ", ""},     /* 2 */
    {"Straße", "Müller", ""},       /* 3 */
    {"STRASSE", "MUELLER", ""},     /* 4 */
    {"ΟΔΥΣΣΕΥΣ", "", ""},           /* 5 */
    {"οδυσσευς", "", ""},           /* 6 */
    {"Дмитрий", "Иванов", ""},      /* 7 */
    {"ДМИТРИЙ", "", ""},            /* 8 */
    {"محمد", "علي", ""},            /* 9 */
    {"王小明", "", ""},             /* 10 */
    {"🦊 Fox", "", "fox_emoji"},  /* 11 */
    {"ＡＢＣ", "", ""},             /* 12 */
    {"Café", "", ""},               /* 13: é as one code point */
    {"Cafe\xcc\x81", "", ""},       /* 14: e + U+0301 */
    {"Say \"Hi\"", "", ""},         /* 15: a double quote (the trigram index's phrase quote) */
    {"Agent", "007", "agent_1234"}, /* 16: digits, which may also be a user id */
};

/* Each query and the users (1-based bits) it must find, on every backend. */
static const struct {
    const char *q;
    unsigned want;
} search_queries[] = {
    {"stanbul", 1u << 1 | 1u << 2},
    {"İstanbul", 1u << 1},
    {"istanbul", 1u << 2},
    {"yilmaz", 1u << 2},
    {"YıLMAZ", 1u << 1},
    {"strasse", 1u << 3 | 1u << 4},
    {"ß", 1u << 3 | 1u << 4},
    {"MÜLLER", 1u << 3},
    {"ΟΔΥΣΣΕΥΣ", 1u << 5 | 1u << 6},
    {"οδυσσευς", 1u << 5 | 1u << 6},
    {"дмитрий", 1u << 7 | 1u << 8},
    {"ИВАНОВ", 1u << 7},
    {"محمد", 1u << 9},
    {"小明", 1u << 10},
    {"🦊", 1u << 11},
    {"FOX", 1u << 11},
    {"abc", 1u << 12},
    {"CAFÉ", 1u << 13 | 1u << 14},
    {"cafe\xcc\x81", 1u << 13 | 1u << 14},
    {"11", 1u << 11},
    {"_emoji", 1u << 11},
    {"%", 0},
    {"\"hi\"", 1u << 15},
    {"y \"h", 1u << 15},
    {"1234", 1u << 16},
    {"007", 1u << 16 | 1u << 7}, /* the name, and user 7 by id */
    {"t_12", 1u << 16},
    {"a_1", 0},
};
static unsigned search_found[2][DM_ARRAY_LEN(search_queries)]; /* [backend][query] */
static int backend;                                            /* 0 SQLite, 1 PostgreSQL */

/* store_request_page's ids as it hands them over. */
struct page_ids {
    int64_t id[64];
    int n;
};

static void page_id(void *ctx, const struct store_request *r)
{
    struct page_ids *g = ctx;
    if (g->n < 64) g->id[g->n++] = r->id;
}

/* A search's first page with its counts is what the page and the counts read apart say (on
 * PostgreSQL one statement that finds the matches its own way, requests.c): over the batch of
 * 3,000 below, a name every request has (the ids walked newest first), a name some old ones
 * have past the cap (the page read on its own), a few, digits that are also a user id, with
 * and without a status. */
static void search_first_pages(struct store *st)
{
    static const char *const qs[] = {"bulk", "bulk1", "bulk29", "lastofbatch", "100", "nobody"};
    for (size_t i = 0; i < DM_ARRAY_LEN(qs); i++) {
        for (int status = -1; status <= REQ_APPROVED; status += 1 + REQ_APPROVED) {
            struct store_request_filter f = filter(status, 0, 0, 0, qs[i]);
            struct page_ids got = {0};
            int64_t counts[REQ_STATUS_COUNT], apart[REQ_STATUS_COUNT];
            bool exact = false, apart_exact = false;
            int n = 0;
            OK(store_request_page(st, &f, 0, 40, page_id, &got, &n, 1000, counts, &exact, &E));
            struct store_request want[40];
            int nwant = 0;
            OK(store_request_list(st, &f, 0, 40, want, &nwant, &E));
            CHECK(n == nwant && got.n == nwant);
            for (int k = 0; k < nwant && k < got.n; k++)
                CHECK(got.id[k] == want[k].id);
            OK(store_request_counts_upto(st, &f, 1000, apart, &apart_exact, &E));
            int64_t total = 0;
            for (int k = 0; k < REQ_STATUS_COUNT; k++)
                total += counts[k];
            CHECK(exact == apart_exact);
            /* past the cap each count is a lower bound of 1,001 matches counted */
            for (int k = 0; exact && k < REQ_STATUS_COUNT; k++)
                CHECK(counts[k] == apart[k]);
            CHECK(exact ? total <= 1000 : total == 1001);
        }
    }
}

static void test_search(struct store *st)
{
    for (size_t i = 0; i < DM_ARRAY_LEN(search_names); i++) {
        struct store_request r =
            make_req(SEARCH_CHAT, (int64_t)i + 1, 500 + (int64_t)i, REQ_PENDING,
                     search_names[i].first, search_names[i].last, search_names[i].username);
        bool inserted = false;
        OK(store_request_add(st, &r, &inserted, &E));
    }
    for (size_t i = 0; i < DM_ARRAY_LEN(search_queries); i++) {
        struct store_request_filter f = {.status = -1, .chat_id = SEARCH_CHAT};
        dm_strlcpy(f.q, search_queries[i].q, sizeof f.q);
        struct store_request page[32];
        int n = 0;
        OK(store_request_list(st, &f, 0, 32, page, &n, &E));
        unsigned found = 0;
        for (int k = 0; k < n; k++)
            found |= 1u << page[k].user_id;
        int64_t counts[REQ_STATUS_COUNT];
        OK(store_request_counts(st, &f, counts, &E));
        CHECK(counts[REQ_PENDING] == n);
        search_found[backend][i] = found;
        if (found != search_queries[i].want)
            fprintf(stderr, "search '%s': found users %#x, wanted %#x\n", search_queries[i].q,
                    found, search_queries[i].want);
        CHECK(found == search_queries[i].want);
    }
    /* counting up to a cap: the search "a" matches more than 3 here */
    struct store_request_filter f = {.status = -1, .chat_id = SEARCH_CHAT, .q = "a"};
    int64_t counts[REQ_STATUS_COUNT], all[REQ_STATUS_COUNT];
    bool exact = true;
    OK(store_request_counts(st, &f, all, &E));
    CHECK(all[REQ_PENDING] > 3);
    OK(store_request_counts_upto(st, &f, 3, counts, &exact, &E));
    CHECK(!exact && counts[REQ_PENDING] == 4);
    OK(store_request_counts_upto(st, &f, all[REQ_PENDING], counts, &exact, &E));
    CHECK(exact && counts[REQ_PENDING] == all[REQ_PENDING]);
    f.q[0] = 0; /* a chat alone: the kept totals, exact at any cap */
    OK(store_request_counts_upto(st, &f, 3, counts, &exact, &E));
    CHECK(exact && counts[REQ_PENDING] == (int64_t)DM_ARRAY_LEN(search_names));
    /* many at once: the new ones counted, found through the index; a bad one undoes all */
    const int64_t batch_chat = SEARCH_CHAT - 1;
    struct store_request many[3] = {
        make_req(batch_chat, 1, 700, REQ_PENDING, "Quentin", "Batchley", ""),
        make_req(batch_chat, 2, 701, REQ_PENDING, "Rosalind", "Batchley", ""),
        make_req(batch_chat, 1, 700, REQ_PENDING, "Quentin", "Batchley", ""), /* again */
    };
    size_t added = 9;
    OK(store_request_add_many(st, many, 3, &added, &E));
    CHECK(added == 2);
    struct store_request_filter bf = {.status = -1, .q = "batchley"};
    OK(store_request_counts(st, &bf, counts, &E));
    CHECK(counts[REQ_PENDING] == 2);
    many[0] = make_req(batch_chat, 3, 702, REQ_PENDING, "Sigmund", "Batchley", "");
    many[1] = make_req(batch_chat, 4, 703, 7, "Tabitha", "Batchley", ""); /* no such status */
    EXPECT(DM_EDB, store_request_add_many(st, many, 2, &added, &E));
    OK(store_request_counts(st, &bf, counts, &E));
    CHECK(added == 0 && counts[REQ_PENDING] == 2);
    /* a batch larger than one statement takes (requests.c RECORD_CHUNK: 1 MiB of JSON): each
     * statement's requests counted and found, the last one's too */
    enum { BATCH_ROWS = 3000 };
    const int64_t big_chat = SEARCH_CHAT - 2;
    struct store_request *big = calloc(BATCH_ROWS, sizeof *big);
    for (int i = 0; i < BATCH_ROWS; i++) {
        char first[32];
        snprintf(first, sizeof first, "Bulk%d", i);
        big[i] = make_req(big_chat, 10 + i, 800 + i, i % 3 ? REQ_PENDING : REQ_APPROVED, first,
                          i == BATCH_ROWS - 1 ? "Lastofbatch" : "Bulkley", "");
        memset(big[i].bio, 'b', 500); /* 3,000 of these make about 1.7 MiB of JSON */
    }
    OK(store_request_add_many(st, big, BATCH_ROWS, &added, &E));
    CHECK(added == BATCH_ROWS);
    struct store_request_filter cf = {.status = -1, .chat_id = big_chat};
    OK(store_request_counts(st, &cf, counts, &E));
    CHECK(counts[REQ_PENDING] == 2 * BATCH_ROWS / 3 && counts[REQ_APPROVED] == BATCH_ROWS / 3);
    cf.q[0] = 'b', cf.q[1] = 'u', cf.q[2] = 'l', cf.q[3] = 'k';
    OK(store_request_counts(st, &cf, counts, &E));
    CHECK(counts[REQ_PENDING] + counts[REQ_APPROVED] == BATCH_ROWS);
    struct store_request_filter lf = {.status = -1, .q = "lastofbatch"};
    OK(store_request_counts(st, &lf, counts, &E));
    CHECK(counts[REQ_PENDING] == 1);
    search_first_pages(st);
    free(big);
    printf("ok search: %zu queries over names in 8 scripts find what folding says; counts up "
           "to a cap; batches of several statements\n",
           DM_ARRAY_LEN(search_queries));
}

/* The table of the closing note: each query's rows on SQLite and on PostgreSQL. */
static void search_parity(void)
{
    printf("search parity (query: rows on SQLite / rows on PostgreSQL)\n");
    for (size_t i = 0; i < DM_ARRAY_LEN(search_queries); i++) {
        printf("  %-14s %d / %d\n", search_queries[i].q, __builtin_popcount(search_found[0][i]),
               __builtin_popcount(search_found[1][i]));
        CHECK(search_found[0][i] == search_found[1][i]);
    }
}

/* Join-request queries: recorded with their request (a redelivery keeps the first deadline),
 * claimed once or recorded late, finished once with the decision or the rules' judging again,
 * and swept when a claim was abandoned. */
static bool unevaluated_has(struct store *st, int64_t id)
{
    struct store_request rows[50];
    int n = 0;
    OK(store_unevaluated(st, id - 1, 50, rows, &n, &E));
    return n > 0 && rows[0].id == id;
}

static void test_queries(struct store *st)
{
    const int64_t chat = -1009800, far = 4000000000000;
    const int64_t deadlines[] = {far, far, 1000, 2000};
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        struct store_request r = make_req(chat, 9800 + i, 600, REQ_PENDING, "Q", "", "");
        char qid[16];
        snprintf(qid, sizeof qid, "77%d", i);
        bool inserted = false;
        if (i < 4)
            OK(store_request_add_query(st, &r, qid, deadlines[i], &inserted, &E));
        else
            OK(store_request_add(st, &r, &inserted, &E));
        CHECK(inserted);
        if (i == 0) { /* a redelivery: nothing new, the first deadline kept */
            OK(store_request_add_query(st, &r, qid, 5, &inserted, &E));
            CHECK(!inserted);
        }
        struct store_request_filter f = {.status = -1, .chat_id = chat};
        struct store_request got[1];
        int n = 0;
        OK(store_request_list(st, &f, 0, 1, got, &n, &E));
        ids[i] = got[0].id;
    }
    struct store_verdict v[5];
    for (int i = 0; i < 5; i++)
        v[i] = (struct store_verdict){.request_id = ids[i], .action = DUE_NONE};
    OK(store_verdicts_record(st, v, 5, 0, "", 700, &E));
    struct store_query q;
    OK(store_query_get(st, ids[0], &q, &E));
    CHECK(q.deadline_ms == far && q.state == QUERY_OPEN && strcmp(q.query_id, "770") == 0);
    CHECK(store_query_get(st, ids[4], &q, NULL) == DM_ENOTFOUND);

    /* claim: two in time, one late; then none of them is open */
    struct store_query out[5];
    size_t nout = 9;
    OK(store_queries_claim(st, ids, 3, 1500, "late", out, &nout, &E));
    CHECK(nout == 3 && out[0].state == QUERY_SENDING && out[1].state == QUERY_SENDING &&
          out[2].state == QUERY_LATE && out[2].request_id == ids[2] &&
          strcmp(out[2].result, "queue") == 0 && strcmp(out[2].error, "late") == 0);
    OK(store_queries_claim(st, ids, 3, 1500, "late", out + 3, &nout, &E));
    CHECK(nout == 0);
    OK(store_query_get(st, ids[3], &q, &E));
    CHECK(q.state == QUERY_OPEN); /* not asked for */
    OK(store_queries_claim(st, ids + 4, 1, 1500, "late", out + 3, &nout, &E));
    CHECK(nout == 0); /* no query */

    /* finish: approved through the query, with its audit entry; a second finish conflicts */
    struct store_query a = out[0];
    a.state = QUERY_ANSWERED;
    dm_strlcpy(a.result, "approve", sizeof a.result);
    a.answered_at_ms = 800000;
    struct store_audit au = {.at = 800, .request_id = ids[0], .chat_id = chat, .user_id = 9800};
    dm_strlcpy(au.admin, STORE_RULES_ADMIN, sizeof au.admin);
    dm_strlcpy(au.action, "approve", sizeof au.action);
    dm_strlcpy(au.detail, "join-request query: test", sizeof au.detail);
    OK(store_query_finish(st, &a, REQ_APPROVED, false, &au, 800, &E));
    CHECK(store_query_finish(st, &a, REQ_APPROVED, false, &au, 800, NULL) == DM_ECONFLICT);
    struct store_request r;
    OK(store_request_get(st, ids[0], &r, &E));
    CHECK(r.status == REQ_APPROVED && r.decided_at == 800 &&
          strcmp(r.decided_by, STORE_RULES_ADMIN) == 0 && strcmp(r.decided_via, "bot") == 0);
    OK(store_query_get(st, ids[0], &q, &E));
    CHECK(q.state == QUERY_ANSWERED && strcmp(q.result, "approve") == 0 &&
          q.answered_at_ms == 800000);
    struct store_audit log[3];
    int n = 0;
    OK(store_audit_list(st, 0, 3, log, &n, &E));
    CHECK(n >= 1 && log[0].request_id == ids[0] && strcmp(log[0].action, "approve") == 0);

    /* failed: the request stays pending and is judged again */
    struct store_query f = out[1];
    f.state = QUERY_FAILED;
    dm_strlcpy(f.error, "Bad Request: query is too old", sizeof f.error);
    CHECK(!unevaluated_has(st, ids[1]));
    OK(store_query_finish(st, &f, -1, true, NULL, 810, &E));
    OK(store_request_get(st, ids[1], &r, &E));
    CHECK(r.status == REQ_PENDING && unevaluated_has(st, ids[1]));

    /* sweep: a claim left behind past its deadline fails and its request is judged again */
    OK(store_queries_claim(st, ids + 3, 1, 1500, "late", out, &nout, &E));
    CHECK(nout == 1 && out[0].state == QUERY_SENDING);
    int64_t swept = 0;
    OK(store_queries_sweep(st, 1999, "gone", &swept, &E));
    CHECK(swept == 0);
    OK(store_queries_sweep(st, 2001, "gone", &swept, &E));
    CHECK(swept == 1 && unevaluated_has(st, ids[3]));
    OK(store_query_get(st, ids[3], &q, &E));
    CHECK(q.state == QUERY_FAILED && strcmp(q.error, "gone") == 0);
    printf("ok queries: recorded with their request, claimed once or late, finished once, swept\n");
}

/* A pending request recorded first without its link (a session is not told it) takes the link
 * the bot brings later; a link it has is kept. */
static void test_link_fill(struct store *st)
{
    const int64_t chat = -100950;
    struct store_request r = make_req(chat, 9501, 6000, REQ_PENDING, "Link", "Less", "");
    r.invite_link[0] = 0;
    bool ins = false;
    OK(store_request_add(st, &r, &ins, &E));
    CHECK(ins);
    dm_strlcpy(r.invite_link, "https://t.me/+Later", sizeof r.invite_link);
    OK(store_request_add(st, &r, &ins, &E));
    CHECK(!ins);
    dm_strlcpy(r.invite_link, "https://t.me/+Other", sizeof r.invite_link);
    OK(store_request_add(st, &r, &ins, &E));
    CHECK(!ins);
    struct store_request_filter f = {.status = -1, .chat_id = chat};
    struct store_request got[2];
    int n = 0;
    OK(store_request_list(st, &f, 0, 2, got, &n, &E));
    CHECK(n == 1 && strcmp(got[0].invite_link, "https://t.me/+Later") == 0);
    printf("ok request_add: a request known without its link takes the bot's, keeps one it has\n");
}

/* ---- what the updates listener asks ---- */

static void test_user_known(struct store *st)
{
    const int64_t chat = -100960;
    bool ins = false, known = false;
    struct store_request r = make_req(chat, 9601, 7000, REQ_PENDING, "Known", "", "");
    OK(store_request_add(st, &r, &ins, &E));
    r = make_req(chat, 9602, 7000, REQ_DECLINED, "Decided", "", "");
    r.decided_at = 8000;
    OK(store_request_add(st, &r, &ins, &E));
    OK(store_user_known(st, chat, 9601, 9000, &known, &E));
    CHECK(known); /* pending */
    OK(store_user_known(st, chat, 9602, 8000, &known, &E));
    CHECK(known); /* decided since */
    OK(store_user_known(st, chat, 9602, 8001, &known, &E));
    CHECK(!known); /* decided before: a request of theirs now is a new one */
    OK(store_user_known(st, chat, 9603, 0, &known, &E));
    CHECK(!known);
    OK(store_user_known(st, chat - 1, 9601, 0, &known, &E));
    CHECK(!known); /* another channel */
    printf("ok user_known: pending, or decided since the given time, in that channel\n");
}

/* ---- events and webhooks ---- */

static void test_events(struct store *st)
{
    struct store_event ev[8];
    int n = -1;
    /* nothing wanted: nothing recorded */
    store_events_want(st, 0);
    struct store_request r = make_req(-100900, 9001, 5000, REQ_PENDING, "Ev", "One", "ev_one");
    bool ins = false;
    OK(store_request_add(st, &r, &ins, &E));
    OK(store_events_next(st, 8, ev, &n, &E));
    CHECK(ins && n == 0);

    store_events_want(st, EV_ALL);
    r = make_req(-100900, 9002, 5001, REQ_PENDING, "Ev", "Two", "ev_two");
    OK(store_request_add(st, &r, &ins, &E));
    OK(store_request_add(st, &r, &ins, &E)); /* again: not new, no event */
    struct store_session x = session_spec("ev_session");
    OK(store_session_add(st, &x, &E));
    x.status = SESSION_INVALID;
    dm_strlcpy(x.status_reason, "AUTH_KEY_UNREGISTERED", sizeof x.status_reason);
    OK(store_session_update(st, &x, &E));
    OK(store_session_update(st, &x, &E)); /* still invalid: not again */
    struct store_event fl = {.kind = EV_FLOOD_WAIT, .at = 5002, .amount = 600};
    OK(store_event_add(st, &fl, &E));
    OK(store_events_next(st, 8, ev, &n, &E));
    CHECK(n == 3);
    CHECK(ev[0].kind == EV_REQUEST_NEW && ev[0].user_id == 9002 && ev[0].chat_id == -100900 &&
          ev[0].request_id > 0);
    CHECK(ev[1].kind == EV_SESSION_INVALID && strcmp(ev[1].subject, "ev_session") == 0 &&
          strcmp(ev[1].detail, "AUTH_KEY_UNREGISTERED") == 0);
    CHECK(ev[2].kind == EV_FLOOD_WAIT && ev[2].amount == 600 && ev[2].id > ev[1].id);
    CHECK(strcmp(event_kind_name(EV_DECISION), "request.decided") == 0 &&
          event_kind_parse("wave.caught") == EV_WAVE && event_kind_parse("nope") == -1);

    /* webhooks: the enabled ones' kinds are wanted; deliveries only for the subscribed */
    struct store_webhook w = {.kinds = 1 << EV_REQUEST_NEW, .enabled = true, .created_at = 5};
    dm_strlcpy(w.url, "https://example.com/a", sizeof w.url);
    dm_strlcpy(w.secret_sealed, "v1:sealed", sizeof w.secret_sealed);
    int64_t a = 0, b = 0;
    OK(store_webhook_add(st, &w, &a, &E));
    w.kinds = EV_ALL;
    w.enabled = false;
    OK(store_webhook_add(st, &w, &b, &E));
    uint32_t mask = 0;
    OK(store_webhook_kinds_wanted(st, &mask, &E));
    CHECK(a > 0 && b > a && mask == 1u << EV_REQUEST_NEW);
    const char *bodies[3] = {"{\"n\":0}", "{\"n\":1}", NULL};
    OK(store_events_fanout(st, ev, bodies, 3, 6000, &E));
    int m = -1;
    OK(store_events_next(st, 8, ev + 3, &m, &E));
    CHECK(m == 0); /* the outbox is empty */
    struct store_delivery *d = calloc(4, sizeof *d);
    OK(store_delivery_due(st, 6000, 4, d, &m, &E));
    CHECK(m == 1 && d[0].webhook_id == a && d[0].event_id == ev[0].id &&
          d[0].kind == EV_REQUEST_NEW && strcmp(d[0].body, "{\"n\":0}") == 0 &&
          d[0].state == DELIVERY_PENDING && d[0].attempts == 0);
    struct store_webhook got;
    OK(store_webhook_get(st, a, &got, &E));
    CHECK(got.pending == 1 && strcmp(got.url, "https://example.com/a") == 0);

    /* a failed attempt waits; the log shows it; delivered at last */
    d[0].attempts = 1;
    d[0].next_at = 6010;
    d[0].http_status = 500;
    dm_strlcpy(d[0].error, "answered HTTP 500", sizeof d[0].error);
    OK(store_delivery_record(st, &d[0], 6000, &E));
    OK(store_delivery_postpone(st, a, 6020, &E)); /* later, never earlier */
    OK(store_delivery_postpone(st, a, 6015, &E));
    int64_t next = 0;
    OK(store_delivery_next(st, &next, &E));
    OK(store_delivery_due(st, 6010, 4, d + 1, &m, &E));
    CHECK(next == 6020 && m == 0);
    d[0].attempts = 2;
    d[0].state = DELIVERY_OK;
    d[0].http_status = 200;
    d[0].error[0] = 0;
    OK(store_delivery_record(st, &d[0], 6010, &E));
    OK(store_delivery_list(st, a, 0, 4, d + 1, &m, &E));
    CHECK(m == 1 && d[1].state == DELIVERY_OK && d[1].attempts == 2 && d[1].http_status == 200 &&
          d[1].updated_at == 6010 && d[1].body[0] == 0);
    OK(store_delivery_prune(st, 6010, &E)); /* not before its time */
    OK(store_delivery_list(st, a, 0, 4, d + 1, &m, &E));
    CHECK(m == 1);
    OK(store_delivery_prune(st, 6011, &E));
    OK(store_delivery_list(st, a, 0, 4, d + 1, &m, &E));
    CHECK(m == 0);
    int64_t test_id = 0;
    OK(store_delivery_add(st, a, EV_TEST, "{}", 6020, &test_id, &E)); /* a test: not an event */
    OK(store_delivery_due(st, 6020, 4, d, &m, &E));
    CHECK(m == 1 && d[0].id == test_id && d[0].event_id == 0 && d[0].kind == EV_TEST);
    free(d);

    /* changing and removing */
    got.enabled = false;
    got.secret_sealed[0] = 0; /* keeps the secret */
    OK(store_webhook_update(st, &got, &E));
    OK(store_webhook_get(st, a, &got, &E));
    OK(store_webhook_kinds_wanted(st, &mask, &E));
    CHECK(!got.enabled && strcmp(got.secret_sealed, "v1:sealed") == 0 && mask == 0);
    OK(store_webhook_delete(st, a, &E));
    EXPECT(DM_ENOTFOUND, store_webhook_delete(st, a, &E));
    OK(store_webhook_delete(st, b, &E));
    struct store_webhook *all = NULL;
    size_t k = 1;
    OK(store_webhook_list(st, &all, &k, &E));
    CHECK(k == 0);
    free(all);
    store_events_want(st, 0);
    printf("ok events: recorded when wanted, handed to subscribed webhooks, attempts kept\n");
}

/* Invite links (saved, listed with the requests' counts, links seen only on requests), the
 * filter by link, and decisions made in Telegram. A channel of its own. */
static void test_links(struct store *st)
{
    const int64_t chat = -1009000000077;
    const char *a = "https://t.me/+linkA", *b = "https://t.me/+linkB";
    for (int i = 0; i < 5; i++) {
        struct store_request r = make_req(chat, 7700 + i, 5000 + i, REQ_PENDING, "L", "", "");
        dm_strlcpy(r.invite_link, i < 3 ? a : b, sizeof r.invite_link);
        OK(store_request_add(st, &r, NULL, &E));
    }
    struct store_link l = {.chat_id = chat,
                           .creator_id = 42,
                           .created_at = 100,
                           .member_limit = 0,
                           .creates_join_request = true};
    dm_strlcpy(l.link, a, sizeof l.link);
    dm_strlcpy(l.name, "<b>ads</b>", sizeof l.name);
    OK(store_link_put(st, &l, 200, &E));
    l.creator_id = 0; /* an edit that does not say who made it or when keeps both */
    l.created_at = 0;
    l.revoked = true;
    OK(store_link_put(st, &l, 300, &E));
    struct store_link *v = NULL;
    size_t n = 0;
    OK(store_link_list(st, chat, &v, &n, &E));
    CHECK(n == 2);
    if (n == 2) {
        CHECK(strcmp(v[0].link, a) == 0 && v[0].known && v[0].revoked && v[0].creator_id == 42 &&
              v[0].created_at == 100 && v[0].updated_at == 300 && v[0].pending == 3 &&
              v[0].requests == 3 && strcmp(v[0].name, "<b>ads</b>") == 0);
        CHECK(strcmp(v[1].link, b) == 0 && !v[1].known && v[1].pending == 2 &&
              v[1].chat_id == chat);
    }
    free(v);

    struct store_request_filter f = {.status = REQ_PENDING, .chat_id = chat};
    dm_strlcpy(f.invite_link, b, sizeof f.invite_link);
    struct store_request rows[8];
    int got = 0;
    OK(store_request_list(st, &f, 0, 8, rows, &got, &E));
    CHECK(got == 2 && strcmp(rows[0].invite_link, b) == 0 && strcmp(rows[1].invite_link, b) == 0);
    int64_t counts[REQ_STATUS_COUNT];
    OK(store_request_counts(st, &f, counts, &E));
    CHECK(counts[REQ_PENDING] == 2);

    /* decided in Telegram: a pending one, and nothing for a user without a request */
    int64_t id = -1;
    OK(store_request_decided_in_telegram(st, chat, 7700, REQ_APPROVED, "@olga", 6000, &id, &E));
    CHECK(id > 0);
    struct store_request r;
    OK(store_request_get(st, id, &r, &E));
    CHECK(r.status == REQ_APPROVED && r.decided_at == 6000 && strcmp(r.decided_by, "@olga") == 0 &&
          strcmp(r.decided_via, STORE_VIA_TELEGRAM) == 0);
    OK(store_request_decided_in_telegram(st, chat, 7700, REQ_DECLINED, "@x", 6001, &id, &E));
    CHECK(id == 0); /* decided by someone known: left as it is */
    OK(store_request_decided_in_telegram(st, chat, 1, REQ_APPROVED, "@olga", 6000, &id, &E));
    CHECK(id == 0);
    EXPECT(DM_EINVAL,
           store_request_decided_in_telegram(st, chat, 7701, REQ_PENDING, "", 1, &id, &E));
    struct store_audit au[1];
    int na = 0;
    OK(store_audit_list(st, 0, 1, au, &na, &E));
    CHECK(na == 1 && strcmp(au[0].action, "approve") == 0 && au[0].user_id == 7700 &&
          strcmp(au[0].via, STORE_VIA_TELEGRAM) == 0 && strcmp(au[0].admin, "@olga") == 0 &&
          strcmp(au[0].detail, "decided in Telegram by @olga") == 0);

    /* pending, asked before a time, held by no job to finish: what a sweep may take */
    OK(store_pending_unheld(st, chat, 0, 6000, 8, rows, &got, &E));
    CHECK(got == 4 && rows[0].user_id == 7701 && rows[3].user_id == 7704);
    OK(store_pending_unheld(st, chat, rows[0].id, 5003, 8, rows, &got, &E));
    CHECK(got == 1 && rows[0].user_id == 7702); /* after 7701, asked before 5003 */
    struct store_job job = {.kind = JOB_DECLINE};
    dm_strlcpy(job.via, "bot", sizeof job.via);
    dm_strlcpy(job.admin, "admin", sizeof job.admin);
    int64_t held = rows[0].id, jid = 0;
    OK(store_job_create_ids(st, &job, &held, 1, 6000, &jid, &E));
    OK(store_pending_unheld(st, chat, 0, 6000, 8, rows, &got, &E));
    CHECK(got == 3 && rows[0].user_id == 7701 && rows[1].user_id == 7703);
    OK(store_job_finish(st, jid, JOB_CANCELLED, "", 6001, &E));
    OK(store_pending_unheld(st, chat, 0, 6000, 8, rows, &got, &E));
    CHECK(got == 4); /* a cancelled job holds nothing */
    printf("ok links and decisions made in Telegram\n");
}

/* The totals and rollups of requests recorded in one statement (a batch with decided ones, a
 * batch of pending ones only) and alone, as the statistics read them. */
static void test_recorded_rollups(struct store *st)
{
    const int64_t chat = -777, day = 200 * 86400;
    struct store_request b[5] = {
        make_req(chat, 1, day + 10, REQ_PENDING, "P", "One", "p1"),
        make_req(chat, 2, day + 3700, REQ_PENDING, "P", "Two", "p2"),
        make_req(chat, 3, day + 20, REQ_APPROVED, "A", "One", "a1"),
        make_req(chat, 4, day + 30, REQ_APPROVED, "A", "Two", "a2"),
        make_req(chat, 5, day + 40, REQ_DECLINED, "D", "One", "d1"),
    };
    const int64_t took[] = {0, 0, 5, 60, 5};
    for (int i = 2; i < 5; i++) {
        b[i].decided_at = b[i].tg_date + took[i];
        dm_strlcpy(b[i].decided_by, "alice", sizeof b[i].decided_by);
        dm_strlcpy(b[i].decided_via, "bot", sizeof b[i].decided_via);
    }
    size_t n = 0;
    OK(store_request_add_many(st, b, 5, &n, &E));
    CHECK(n == 5);
    struct store_request pending[2] = {make_req(chat, 6, day + 50, REQ_PENDING, "Q", "One", "q1"),
                                       make_req(chat, 7, day + 60, REQ_PENDING, "Q", "Two", "q2")};
    OK(store_request_add_many(st, pending, 2, &n, &E));
    CHECK(n == 2);
    struct store_request one = make_req(chat, 8, day + 70, REQ_PENDING, "S", "One", "s1");
    bool added = false;
    OK(store_request_add(st, &one, &added, &E));
    CHECK(added);
    OK(store_request_add(st, &one, &added, &E)); /* recorded already: counted once */
    CHECK(!added);

    int64_t counts[REQ_STATUS_COUNT];
    struct store_request_filter f = filter(-1, chat, 0, 0, "");
    OK(store_request_counts(st, &f, counts, &E));
    CHECK(counts[REQ_PENDING] == 5 && counts[REQ_APPROVED] == 2 && counts[REQ_DECLINED] == 1);
    struct store_stats s;
    struct stats_query q = {.from = day, .to = day + 86399, .chat_id = chat, .span = STATS_DAY};
    OK(store_stats_read(st, &q, &s, &E));
    CHECK(s.n_series == 1 && s.series[0].pending == 5 && s.series[0].approved == 2 &&
          s.series[0].declined == 1);
    CHECK(s.n_deciders == 1 && strcmp(s.deciders[0].by, "alice") == 0 &&
          s.deciders[0].approved == 2 && s.deciders[0].declined == 1);
    int64_t timed = 0;
    for (size_t i = 0; i < s.n_latency; i++)
        timed += s.latency[i].n;
    CHECK(timed == 3);
    store_stats_release(&s);
    q.span = STATS_HOUR;
    OK(store_stats_read(st, &q, &s, &E));
    CHECK(s.n_series == 2 && s.series[0].pending == 4 && s.series[1].pending == 1);
    store_stats_release(&s);
    printf("ok recorded rollups: a batch with decided requests, one of pending ones and a single "
           "request counted once each\n");
}

static void test_backend(const char *url, const char *url2)
{
    model_n = 0;
    struct store *st = NULL;
    OK(store_open(url, &st, &E));
    if (!st) return;
    test_admins(st);
    test_websessions(st);
    test_settings(st);
    test_requests(st);
    test_recorded_rollups(st);
    test_search(st);

    /* reopening keeps everything and runs no migration twice */
    store_close(st);
    OK(store_open(url2, &st, &E));
    if (!st) return;
    int64_t n = 0;
    OK(store_admin_count(st, &n, &E));
    CHECK(n == 2);
    printf("ok reopen: data kept\n");

    test_jobs(st);
    test_load_jobs(st);
    test_items_batch(st);
    test_sessions(st);
    test_rules_store(st);
    test_queries(st);
    test_link_fill(st);
    test_user_known(st);
    test_events(st);

    struct store *other = NULL;
    OK(store_open(url2, &other, &E));
    if (other) {
        test_leases(st, other);
        test_threads(st, other);
        store_close(other);
    }
    test_links(st);
    store_close(st);
}

/* ---- PostgreSQL ---- */

/* Runs one statement on the server of DOORMAN_TEST_PG_URL; *value (may be NULL) gets the first
 * column of the first row as an integer. */
static bool pg_admin(const char *base, const char *sql, int64_t *value)
{
    PGconn *db = PQconnectdb(base);
    bool ok = PQstatus(db) == CONNECTION_OK;
    if (ok) {
        PGresult *r = PQexec(db, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok) fprintf(stderr, "  %s: %s", sql, PQresultErrorMessage(r));
        if (ok && value) *value = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
        PQclear(r);
    } else {
        fprintf(stderr, "  cannot connect to DOORMAN_TEST_PG_URL: %s", PQerrorMessage(db));
    }
    PQfinish(db);
    return ok;
}

/* base with its database name replaced by db: "postgresql://u@h:p/x?o" -> ".../db?o". */
static void pg_url(char *out, size_t n, const char *base, const char *db)
{
    const char *host = strstr(base, "://");
    host = host ? host + 3 : base;
    size_t head = strcspn(host, "/?") + (size_t)(host - base);
    const char *query = strchr(base + head, '?');
    snprintf(out, n, "%.*s/%s%s", (int)head, base, db, query ? query : "");
}

struct racer {
    const char *url;
    dm_err e;
    char msg[256];
};

static void *race_open(void *arg)
{
    struct racer *r = arg;
    struct dm_error e = {0};
    struct store *st = NULL;
    r->e = store_open(r->url, &st, &e);
    memcpy(r->msg, e.msg, sizeof r->msg);
    store_close(st);
    return NULL;
}

static void test_postgres(const char *base)
{
    char db[64], url[512], sql[256];
    snprintf(db, sizeof db, "doorman_store_test_%d", (int)getpid());
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    CHECK(pg_admin(base, sql, NULL));
    pg_url(url, sizeof url, base, db);

    /* four processes starting at once on an empty database: one migrates, the others wait */
    struct racer r[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct racer){.url = url};
        pthread_create(&t[i], NULL, race_open, &r[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(r[i].e == DM_OK);
        if (r[i].e) fprintf(stderr, "  open %d: %s\n", i, r[i].msg);
    }
    int64_t version = 0, rows = 0;
    CHECK(pg_admin(url, "SELECT max(version) FROM schema_version", &version) &&
          version == schema_latest);
    CHECK(pg_admin(url, "SELECT count(*) FROM schema_version", &rows) && rows == schema_latest);
    printf("ok postgresql open: 4 opens at once, every migration applied once\n");

    test_backend(url, url);

    /* writes inside a transaction are pipelined (postgres.c): a failing one fails the
     * transaction at its COMMIT with its own message and leaves nothing behind; more writes
     * than the pipeline holds go through */
    struct store *ps = NULL;
    OK(store_open(url, &ps, &E));
    if (ps) {
        CHECK(pg_admin(url,
                       "CREATE FUNCTION refuse_666() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                       "IF NEW.chat_id = -666 THEN RAISE EXCEPTION 'no channel -666'; END IF; "
                       "RETURN NEW; END $$; CREATE TRIGGER refuse_666 BEFORE INSERT ON "
                       "channel_grants FOR EACH ROW EXECUTE FUNCTION refuse_666()",
                       NULL));
        int64_t before = 0, after = 0, id = 0;
        OK(store_admin_count(ps, &before, &E));
        const int64_t bad[] = {-1, -2, -666, -3};
        EXPECT(DM_EDB, store_admin_create(ps, "piped", "h", ROLE_VIEWER, bad, 4, 1, &id, &E));
        CHECK(strstr(E.msg, "granting a channel") && strstr(E.msg, "no channel -666"));
        OK(store_admin_count(ps, &after, &E));
        CHECK(after == before);
        int64_t many[100];
        for (int i = 0; i < 100; i++)
            many[i] = -1000 - i;
        OK(store_admin_create(ps, "piped", "h", ROLE_VIEWER, many, 100, 1, &id, &E));
        char scope[STORE_SCOPE_MAX];
        store_scope_of("admin", id, scope);
        int64_t *got = NULL;
        size_t n_got = 0;
        OK(store_grants(ps, scope, &got, &n_got, &E));
        CHECK(n_got == 100 && got && got[0] == -1099 && got[99] == -1000);
        free(got);
        OK(store_admin_delete(ps, id, &E));
        CHECK(pg_admin(url, "DROP TRIGGER refuse_666 ON channel_grants", NULL));
        store_close(ps);
    }
    printf("ok postgresql pipeline: a failed write fails its transaction with its message; 100 "
           "writes in one go\n");

    /* the server drops every connection of the store: the next calls connect again */
    struct store *st = NULL;
    OK(store_open(url, &st, &E));
    if (st) {
        int64_t n = 0;
        OK(store_admin_count(st, &n, &E));
        snprintf(sql, sizeof sql,
                 "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                 "WHERE datname = '%s' AND pid <> pg_backend_pid()",
                 db);
        int64_t killed = 0;
        CHECK(pg_admin(base, sql, &killed) && killed >= 1);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'", db);
        int64_t left = 1;
        for (int i = 0; i < 500 && left > 0; i++) {
            pg_admin(base, sql, &left);
            if (left) usleep(10000);
        }
        CHECK(left == 0);
        dm_err e = store_admin_count(st, &n, &E);
        CHECK(e == DM_OK || e == DM_EUNAVAILABLE);
        OK(store_admin_count(st, &n, &E));
        CHECK(n == 2);
        store_close(st);
    }
    printf("ok postgresql reconnect: a dropped connection is opened again by the next call\n");

    snprintf(sql, sizeof sql, "DROP DATABASE %s", db);
    CHECK(pg_admin(base, sql, NULL));
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/store_test.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[128];
    db_path(path, sizeof path, "doorman.db");
    struct store *st = NULL;
    OK(store_open(path, &st, &E));
    if (!st) return 1;
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    store_close(st);
    struct store *none = NULL;
    EXPECT(DM_EINVAL, store_open("mysql://user:pw@host/db", &none, &E));
    CHECK(strstr(E.msg, "pw") == NULL);
    /* nothing listens on port 1: unavailable, and the message keeps the password out */
    EXPECT(DM_EUNAVAILABLE, store_open("postgresql://user:s3cr3t@127.0.0.1:1/db", &none, &E));
    CHECK(strstr(E.msg, "s3cr3t") == NULL && strstr(E.msg, "127.0.0.1:1/db") != NULL);
    EXPECT(DM_EUNAVAILABLE, store_open("postgres://user:s3cr3t@127.0.0.1:1/db", &none, &E));
    printf("ok open: file mode 0600, migrations applied; other schemes refused, an unreachable "
           "PostgreSQL is unavailable, no password in messages\n");

    char url[160];
    snprintf(url, sizeof url, "sqlite:%s", path);
    test_backend(path, url); /* a bare path, then the sqlite: form */
    db_remove("doorman.db");
    test_migrate_v2();
    test_stats_quantile();
    timing();
    rmdir(dir);

    const char *pg = getenv("DOORMAN_TEST_PG_URL");
    if (pg && *pg) {
        printf("-- the same against PostgreSQL\n");
        backend = 1;
        test_postgres(pg);
        search_parity();
    } else {
        printf("skipped PostgreSQL: DOORMAN_TEST_PG_URL is not set\n");
    }

    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
