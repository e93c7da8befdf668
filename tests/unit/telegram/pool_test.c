/* pool_test: the pure parts of the Session Manager (session names, the DC table) and the pool's
 * bookkeeping: one client per key, hand-over by rename, drop waiting for holders, idle clients
 * closed. The pool's clients point at a closed loopback port: mt_client_new does not wait for a
 * connection, and nothing here needs an answer (the flows against tgsim are in
 * tests/integration/sessions_*.test.mjs). */
#include "core/common.h"

#include <pthread.h>

#include "../check.h"
#include "core/secret.h"
#include "telegram/pool.h"
#include "telegram/login.h"

static void test_names(void)
{
    struct dm_error err;
    CHECK(login_check_name("my_session-1", &err) == DM_OK);
    char longest[65];
    memset(longest, 'a', 64);
    longest[64] = 0;
    CHECK(login_check_name(longest, &err) == DM_OK);
    static const char *const bad[] = {"",    "login", "list", "bot", "import", "../../etc/x",
                                      "a b", "a.b",   "é",    "x/y"};
    for (size_t i = 0; i < DM_ARRAY_LEN(bad); i++)
        CHECK(login_check_name(bad[i], &err) == DM_EINVAL && err.msg[0]);
    char toolong[66];
    memset(toolong, 'a', 65);
    toolong[65] = 0;
    CHECK(login_check_name(toolong, &err) == DM_EINVAL);
    printf("ok names: [A-Za-z0-9_-]{1,64}, reserved words refused\n");
}

struct drop_arg {
    struct pool *a;
    volatile int done;
};

static void *drop_run(void *p)
{
    struct drop_arg *d = p;
    pool_drop(d->a, "sess_a");
    d->done = 1;
    return NULL;
}

static bool wait_for(bool (*cond)(void *), void *arg, int ms)
{
    for (int i = 0; i < ms / 5; i++) {
        if (cond(arg)) return true;
        usleep(5000);
    }
    return cond(arg);
}

static bool none_open(void *a)
{
    return pool_open_count(a) == 0;
}

static bool drop_done(void *d)
{
    return ((struct drop_arg *)d)->done;
}

static void test_pool(const char *dir)
{
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    dm_strlcpy(cfg.data_dir, dir, sizeof cfg.data_dir);
    struct store *st = NULL;
    struct secret_key key = {{0}};
    struct dm_error err = {0};
    char db[256];
    snprintf(db, sizeof db, "%s/t.db", dir);
    CHECK(store_open(db, &st, &err) == DM_OK);
    struct pool *a = NULL;

    dm_strlcpy(cfg.mtproto_dcs, "1=127.0.0.1:1,2=x", sizeof cfg.mtproto_dcs);
    CHECK(pool_start(&cfg, st, &key, "pool-test", &a, &err) == DM_EINVAL && !a);
    CHECK(strstr(err.msg, "--mtproto-dcs") != NULL);
    dm_strlcpy(cfg.mtproto_dcs, "1=127.0.0.1:1,3=[::1]:1", sizeof cfg.mtproto_dcs);
    setenv("DOORMAN_SESSION_IDLE_MS", "100", 1);
    CHECK(pool_start(&cfg, st, &key, "pool-test", &a, &err) == DM_OK && a);
    if (!a) return;

    struct mt_config mc;
    CHECK(pool_mt_config(a, 0, 7, false, &mc, &err) == DM_OK && mc.dc_id == 1 && mc.api_id == 7 &&
          mc.ndcs == 2);
    CHECK(pool_mt_config(a, 2, 7, false, &mc, &err) == DM_EINVAL);
    CHECK(pool_mt_config(a, 3, 7, true, &mc, &err) == DM_EINVAL &&
          strstr(err.msg, "--mtproto-rsa") != NULL);
    CHECK(pool_mt_config(a, 3, 7, false, &mc, &err) == DM_OK);

    /* one client per key, shared */
    struct mt_auth auth = {.dc_id = 3};
    memset(auth.key, 0x5a, sizeof auth.key);
    struct pool_conn *h1 = NULL, *h2 = NULL, *h3 = NULL;
    CHECK(pool_acquire_key(a, "new:1", &mc, &auth, &h1, &err) == DM_OK);
    CHECK(pool_acquire_key(a, "new:1", &mc, &auth, &h2, &err) == DM_OK);
    CHECK(h1 && h2 && pool_client(h1) == pool_client(h2));
    CHECK(pool_open_count(a) == 1);

    /* handed over to a session name: the same client, under the new name */
    CHECK(pool_rename(a, "new:1", "sess_a", &err) == DM_OK);
    CHECK(pool_rename(a, "new:1", "sess_b", &err) == DM_ENOTFOUND);
    CHECK(pool_acquire(a, "sess_a", &h3, &err) == DM_OK && h3 &&
          pool_client(h3) == pool_client(h1));
    pool_release(a, h3);
    struct pool_conn *h4 = NULL;
    CHECK(pool_acquire(a, "no_such", &h4, &err) == DM_ENOTFOUND && !h4);
    CHECK(pool_acquire(a, "../x", &h4, &err) == DM_ENOTFOUND && !h4);

    /* drop waits for the holders */
    struct drop_arg d = {a, 0};
    pthread_t t;
    pthread_create(&t, NULL, drop_run, &d);
    usleep(50000);
    CHECK(!d.done);
    pool_release(a, h1);
    pool_release(a, h2);
    CHECK(wait_for(drop_done, &d, 5000));
    pthread_join(t, NULL);
    CHECK(pool_open_count(a) == 0);
    printf("ok pool: one client per key, rename hands it over, drop waits for holders\n");

    /* idle clients are closed */
    CHECK(pool_acquire_key(a, "new:2", &mc, &auth, &h1, &err) == DM_OK);
    usleep(300000);
    CHECK(pool_open_count(a) == 1); /* held: stays */
    pool_release(a, h1);
    CHECK(wait_for(none_open, a, 5000));
    printf("ok pool: an idle client is closed after DOORMAN_SESSION_IDLE_MS\n");

    pool_stop(a);
    store_close(st);
    char p[300];
    snprintf(p, sizeof p, "%s/sessions", dir);
    rmdir(p);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < DM_ARRAY_LEN(suffixes); i++) {
        snprintf(p, sizeof p, "%s%s", db, suffixes[i]);
        unlink(p);
    }
}

int main(void)
{
    char dir[] = "/tmp/pool_test.XXXXXX";
    if (!mkdtemp(dir)) return 1;
    test_names();
    test_pool(dir);
    rmdir(dir);
    return CHECK_DONE();
}
