/* Unit tests for deciding through a session (issue 5): the hide_all job's params and cursor,
 * which filters may use hideAll, whether an account may be used (telegram/account.h), and the
 * store's two whole-channel records (job_add_page, job_finish_chat) on a real SQLite file. How
 * hideChatJoinRequest's answers are classified is in tests/unit/telegram/tg_error_test.c. */
#include "core/common.h"
#include "../check.h"
#include "jobs/hide_all.h"
#include "telegram/account.h"

#include <unistd.h>

static void test_params(void)
{
    char s[256], link[STORE_LINK_MAX];
    int64_t chat = 1;
    CHECK(hide_params_format(-1001234, NULL, s, sizeof s, NULL) == DM_OK);
    CHECK(hide_params_parse(s, &chat, link, NULL) == DM_OK && chat == -1001234 && !link[0]);
    CHECK(hide_params_format(0, "", s, sizeof s, NULL) == DM_OK);
    CHECK(hide_params_parse(s, &chat, link, NULL) == DM_OK && chat == 0);
    CHECK(hide_params_format(0, NULL, s, 8, NULL) == DM_ETOOBIG);
    CHECK(hide_params_format(-100, "https://t.me/+abc\"", s, sizeof s, NULL) == DM_OK);
    CHECK(hide_params_parse(s, &chat, link, NULL) == DM_OK && chat == -100 &&
          strcmp(link, "https://t.me/+abc\"") == 0);
    CHECK(hide_params_parse("{\"mode\":\"hide_all\",\"chat_id\":1,\"link\":5}", &chat, link,
                            NULL) == DM_EINVAL);
    CHECK(hide_params_parse("", &chat, link, NULL) == DM_ENOTFOUND); /* an item job */
    CHECK(hide_params_parse("{\"channel_id\":5}", &chat, link, NULL) == DM_EINVAL);
    CHECK(hide_params_parse("{\"mode\":\"other\"}", &chat, link, NULL) == DM_ENOTFOUND);
    CHECK(hide_params_parse("{\"mode\":\"hide_all\"}", &chat, link, NULL) == DM_EINVAL);
    CHECK(hide_params_parse("{", &chat, link, NULL) == DM_EINVAL);

    struct hide_cursor c = {-1001,
                            HIDE_LOAD,
                            {.date = 1700000000, .user_id = 42, .user_hash = -99}},
                       back;
    CHECK(hide_cursor_format(&c, s, sizeof s, NULL) == DM_OK);
    CHECK(hide_cursor_parse(s, &back, NULL) == DM_OK);
    CHECK(back.chat_id == -1001 && back.phase == HIDE_LOAD && back.at.date == 1700000000 &&
          back.at.user_id == 42 && back.at.user_hash == -99);
    c.phase = HIDE_DONE;
    CHECK(hide_cursor_format(&c, s, sizeof s, NULL) == DM_OK);
    CHECK(hide_cursor_parse(s, &back, NULL) == DM_OK && back.phase == HIDE_DONE);
    CHECK(hide_cursor_parse("", &back, NULL) == DM_OK && back.chat_id == 0);
    CHECK(hide_cursor_parse("{\"chat\":1,\"phase\":\"later\",\"date\":0,\"user\":0,\"hash\":0}",
                            &back, NULL) == DM_EINVAL);
    CHECK(hide_cursor_parse("[]", &back, NULL) == DM_EINVAL);

    struct store_request_filter f = {.status = REQ_PENDING};
    CHECK(hide_all_fits(&f));
    f.chat_id = -1001;
    CHECK(hide_all_fits(&f));
    f.date_from = 1;
    CHECK(!hide_all_fits(&f));
    f.date_from = 0;
    f.date_to = 1;
    CHECK(!hide_all_fits(&f));
    f.date_to = 0;
    dm_strlcpy(f.q, "ann", sizeof f.q);
    CHECK(!hide_all_fits(&f));
    f.q[0] = 0;
    dm_strlcpy(f.invite_link, "https://t.me/+x", sizeof f.invite_link);
    CHECK(hide_all_fits(&f)); /* one link of one channel */
    f.chat_id = 0;
    CHECK(!hide_all_fits(&f)); /* a link without its channel */
}

static int64_t add_request(struct store *st, int64_t chat, int64_t user, int status)
{
    struct store_request r = {.chat_id = chat,
                              .user_id = user,
                              .tg_date = 1000 + user,
                              .status = status,
                              .created_at = 5};
    snprintf(r.first_name, sizeof r.first_name, "U%" PRId64, user);
    bool inserted = false;
    CHECK(store_request_add(st, &r, &inserted, NULL) == DM_OK && inserted);
    struct store_request_filter f = {.status = -1, .chat_id = chat};
    snprintf(f.q, sizeof f.q, "%" PRId64, user);
    struct store_request out;
    int n = 0;
    CHECK(store_request_list(st, &f, 0, 1, &out, &n, NULL) == DM_OK && n == 1);
    return n ? out.id : 0;
}

static void test_store(struct store *st)
{
    const int64_t A = -1001000000001, B = -1001000000002;
    add_request(st, A, 1, REQ_PENDING);
    add_request(st, A, 2, REQ_PENDING);
    int64_t decided = add_request(st, A, 3, REQ_APPROVED);
    add_request(st, B, 4, REQ_PENDING);

    struct store_session sess = {.api_id = 1, .status = SESSION_ACTIVE, .created_at = 1};
    dm_strlcpy(sess.name, "ann", sizeof sess.name);
    CHECK(store_session_add(st, &sess, NULL) == DM_OK);
    struct dm_error err = {0};
    struct accounts as = {.store = st};
    struct account *ann = NULL, *nobody = NULL, *bot = NULL;
    CHECK(account_open(&as, "ann", &ann, &err) == DM_OK &&
          account_open(&as, "nobody", &nobody, &err) == DM_OK &&
          account_open(&as, ACCOUNT_BOT, &bot, &err) == DM_OK);
    CHECK(account_usable(ann, &err) == DM_OK);
    CHECK(account_usable(nobody, &err) == DM_ENOTFOUND &&
          strstr(err.msg, "'nobody' does not exist"));
    sess.status = SESSION_INVALID;
    dm_strlcpy(sess.status_reason, "AUTH_KEY_UNREGISTERED", sizeof sess.status_reason);
    CHECK(store_session_update(st, &sess, NULL) == DM_OK);
    CHECK(account_usable(ann, &err) == DM_EAUTH);
    CHECK(strcmp(err.msg, "Session 'ann' is not active (invalid: AUTH_KEY_UNREGISTERED): check "
                          "it on the Sessions page") == 0);
    /* the bot without a token may work later; only sessions list pending requests */
    CHECK(account_usable(bot, &err) == DM_EUNAVAILABLE && strstr(err.msg, "Settings"));
    CHECK(account_lists_pending(ann) && !account_lists_pending(bot));
    CHECK(strcmp(account_name(bot), "bot") == 0 && strcmp(account_name(ann), "ann") == 0);
    struct account *chosen = NULL;
    CHECK(account_open_chosen(&as, "bot", &chosen, &err) == DM_OK &&
          account_usable(chosen, &err) == DM_ENOTFOUND); /* no session is called "bot" */
    account_close(chosen);
    account_close(bot);
    account_close(nobody);
    account_close(ann);

    /* Approve all in A through "ann": items for A's two pending requests */
    struct store_job job = {.kind = JOB_APPROVE};
    dm_strlcpy(job.via, "ann", sizeof job.via);
    dm_strlcpy(job.admin, "root", sizeof job.admin);
    CHECK(hide_params_format(A, NULL, job.params, sizeof job.params, NULL) == DM_OK);
    struct store_request_filter f = {.status = REQ_PENDING, .chat_id = A};
    int64_t id = 0;
    CHECK(store_job_create_filter(st, &job, &f, 10, &id, NULL) == DM_OK);
    struct store_job got, claimed;
    CHECK(store_job_claim(st, "me", 11, 100, &claimed, NULL) == DM_OK && claimed.id == id);
    CHECK(strcmp(claimed.params, job.params) == 0); /* params kept for decision jobs too */
    CHECK(claimed.total == 2);

    /* a page from Telegram: user 2 (known), user 5 (new), user 3 (approved here: no item) */
    struct store_request rows[3] = {
        {.chat_id = A, .user_id = 2, .tg_date = 1002, .created_at = 20},
        {.chat_id = A, .user_id = 5, .tg_date = 1005, .created_at = 20},
        {.chat_id = A, .user_id = 3, .tg_date = 1003, .created_at = 20},
    };
    CHECK(store_job_add_page(st, id, "me", rows, 3, "{\"pos\":1}", 20, NULL) == DM_OK);
    CHECK(store_job_get(st, id, &got, NULL) == DM_OK && got.total == 3 &&
          strcmp(got.cursor, "{\"pos\":1}") == 0);
    CHECK(store_job_add_page(st, id, "other", rows, 1, "x", 21, &err) == DM_ECONFLICT);

    /* a request of A recorded meanwhile (by the bot) is decided too; B is untouched */
    add_request(st, A, 6, REQ_PENDING);
    int64_t n = 0;
    CHECK(store_job_finish_chat(st, id, "other", A, true, ITEM_DONE, "", "", 30, &n, &err) ==
          DM_ECONFLICT);
    CHECK(store_job_finish_chat(st, id, "me", A, true, ITEM_DONE, "", "{\"done\":1}", 30, &n,
                                NULL) == DM_OK);
    CHECK(n == 4);
    CHECK(store_job_get(st, id, &got, NULL) == DM_OK && got.total == 4 && got.done == 4 &&
          got.skipped == 0 && got.failed == 0 && strcmp(got.cursor, "{\"done\":1}") == 0);
    int64_t counts[REQ_STATUS_COUNT] = {0};
    struct store_request_filter fa = {.status = -1, .chat_id = A};
    CHECK(store_request_counts(st, &fa, counts, NULL) == DM_OK);
    CHECK(counts[REQ_PENDING] == 0 && counts[REQ_APPROVED] == 5);
    struct store_request r;
    CHECK(store_request_get(st, decided, &r, NULL) == DM_OK && r.decided_via[0] == 0);
    struct store_request_filter fb = {.status = REQ_PENDING, .chat_id = B};
    CHECK(store_request_counts(st, &fb, counts, NULL) == DM_OK && counts[REQ_PENDING] == 1);
    struct store_audit au[8];
    int na = 0;
    CHECK(store_audit_list(st, 0, 8, au, &na, NULL) == DM_OK && na == 4);
    bool all_via = na == 4;
    for (int i = 0; i < na; i++)
        all_via &= strcmp(au[i].via, "ann") == 0 && strcmp(au[i].action, "approve") == 0 &&
                   strcmp(au[i].result, "ok") == 0 && au[i].job_id == id;
    CHECK(all_via);

    /* a channel refused: its items fail with why, nothing decided */
    struct store_job dj = job;
    dj.kind = JOB_DECLINE;
    CHECK(hide_params_format(0, NULL, dj.params, sizeof dj.params, NULL) == DM_OK);
    struct store_request_filter all = {.status = REQ_PENDING};
    int64_t id2 = 0;
    CHECK(store_job_create_filter(st, &dj, &all, 40, &id2, NULL) == DM_OK);
    CHECK(store_job_finish(st, id, JOB_DONE, "", 41, NULL) == DM_OK);
    CHECK(store_job_claim(st, "me", 42, 100, &claimed, NULL) == DM_OK && claimed.id == id2);
    CHECK(store_job_finish_chat(st, id2, "me", B, true, ITEM_FAILED, "no right in B", "", 43, &n,
                                NULL) == DM_OK &&
          n == 1);
    CHECK(store_job_get(st, id2, &got, NULL) == DM_OK && got.failed == 1 && got.total == 1);
    CHECK(store_request_counts(st, &fb, counts, NULL) == DM_OK && counts[REQ_PENDING] == 1);
    CHECK(store_job_finish_chat(st, id2, "me", B, true, ITEM_SKIPPED, "", "", 44, NULL, &err) ==
          DM_EINVAL);
}

int main(void)
{
    test_params();
    char dir[] = "/tmp/via_test.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/db.sqlite", dir);
    struct store *st = NULL;
    struct dm_error err = {0};
    if (store_open(path, &st, &err) != DM_OK) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        return 1;
    }
    test_store(st);
    store_close(st);
    char f[160];
    static const char *const files[] = {"db.sqlite", "db.sqlite-wal", "db.sqlite-shm"};
    for (size_t i = 0; i < DM_ARRAY_LEN(files); i++) {
        snprintf(f, sizeof f, "%s/%s", dir, files[i]);
        unlink(f);
    }
    rmdir(dir);
    return CHECK_DONE();
}
