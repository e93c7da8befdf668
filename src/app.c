/* app.c: starting and stopping the parts of a doorman process in order. */
#include "core/common.h"
#include "app.h"
#include "api/api.h"
#include "alerts/alerts.h"
#include "botapi/client.h"
#include "telegram/bot.h"
#include "core/log.h"
#include "http/host.h"
#include "http/server.h"
#include "jobs/autodecide.h"
#include "jobs/guard.h"
#include "jobs/runner.h"
#include "jobs/telegram_decisions.h"
#include "telegram/pool.h"
#include "telegram/updates.h"

#define MAX_BODY (1024 * 1024)

#include <fcntl.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <sys/file.h>

/* glibc's allocator, set before the first thread starts. doorman runs some 70 threads (the job
 * runner's lanes and workers, the HTTP pool and workers, sessions), most of them idle; left to
 * itself glibc gives threads up to 8 arenas a core, each keeping freed memory of its own, and
 * after a large block is freed it serves blocks up to that size from the heap, where they stay
 * resident once freed (the verification sweep's and the guard's arrays are megabytes). Two
 * arenas, and blocks from MALLOC_MMAP_BYTES up always mapped and given back when freed: idle RSS
 * 18.9 instead of 19.5 MB, after 200 list pages 19.1 instead of 19.8 MB (login_memory_bench,
 * docs/operations.md, Performance). A list page's rows (100 in the panel: 454 KB) stay under the
 * bound, so serving one does not map and fault fresh pages each time. */
#define MALLOC_ARENAS 2
#define MALLOC_MMAP_BYTES (512 * 1024)
static void malloc_tune(void)
{
    mallopt(M_ARENA_MAX, MALLOC_ARENAS);
    mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_BYTES);
}

/* OpenSSL without its error strings, unless PostgreSQL is the database. libcurl's start
 * (OPENSSL_init_ssl, when the bot or a webhook first sends) loads thousands of them into a table,
 * touching 0.6-0.8 MB of libcrypto's pages that stay resident. Nothing doorman shows reads them:
 * its libcurl calls report curl_easy_strerror() alone (no error buffer, no verbose log) and its
 * MTProto code its own messages. libpq does (why a TLS connection to PostgreSQL failed), so with
 * PostgreSQL they are loaded as before. Set before anything starts OpenSSL; OpenSSL keeps the
 * first choice for the process (docs/operations.md, Performance: Idle RSS). */
static void openssl_tune(const char *db_url)
{
    bool postgres =
        strncmp(db_url, "postgresql://", 13) == 0 || strncmp(db_url, "postgres://", 11) == 0;
    if (!postgres) OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL);
}

/* This data directory's instance: DATA/instance holds a name made once (the owner name of the
 * process's job and session leases) and the machine it was made on, and the process keeps an
 * exclusive lock on the file while it runs. So a doorman started again after it died (kill -9,
 * a crash, a power cut) has the name of the one before and takes its leases back at once, and
 * a second doorman on the same data directory is refused. Several processes on one PostgreSQL
 * database each have a data directory of their own; a copy (to another machine, or another
 * folder) gets a new name where it is started (the host or the folder differs), so two
 * processes never share one. */
static dm_err instance_claim(struct app *a, struct dm_error *err)
{
    char path[sizeof a->cfg.data_dir + 16], where[PATH_MAX + 300] = "", have[sizeof where + 40];
    snprintf(path, sizeof path, "%s/instance", a->cfg.data_dir);
    char host[256] = "", dir[PATH_MAX] = "";
    gethostname(host, sizeof host - 1);
    if (!realpath(a->cfg.data_dir, dir)) dm_strlcpy(dir, a->cfg.data_dir, sizeof dir);
    snprintf(where, sizeof where, "%s %s", host, dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return dm_fail(err, DM_EIO, "cannot open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return dm_fail(err, DM_EEXISTS,
                       "another doorman is running with the data directory %s (it holds %s); "
                       "stop it first, or give this one a data directory of its own",
                       a->cfg.data_dir, path);
    }
    ssize_t n = pread(fd, have, sizeof have - 1, 0);
    have[n > 0 ? n : 0] = 0;
    have[strcspn(have, "\n")] = 0; /* "<32 hex digits> <host> <data directory>" */
    const size_t idn = sizeof a->instance_id - 1;
    bool ok = strlen(have) > idn + 1 && have[idn] == ' ' &&
              strspn(have, "0123456789abcdef") == idn && strcmp(have + idn + 1, where) == 0;
    if (ok) {
        memcpy(a->instance_id, have, idn);
    } else { /* new, made elsewhere, or not ours: a fresh name */
        secret_random_hex(a->instance_id, 16);
        char line[sizeof where + 40];
        int len = snprintf(line, sizeof line, "%s %s\n", a->instance_id, where);
        if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != len || fsync(fd) != 0) {
            dm_err e = dm_fail(err, DM_EIO, "cannot write %s: %s", path, strerror(errno));
            close(fd);
            return e;
        }
    }
    a->instance_id[idn] = 0;
    a->instance_fd = fd;
    a->instance_locked = true;
    return DM_OK;
}

/* An alert to a Telegram chat (alerts.h, Destinations): sendMessage through the bot, as plain
 * text. The bot starts after the alerts: until then (and without a token) it is not sent. */
static dm_err alert_send(void *ctx, int64_t chat_id, const char *text, struct dm_error *why)
{
    struct app *a = ctx;
    struct bot *b = a->bot;
    struct botapi_client *c = b ? bot_client_acquire(b) : NULL;
    if (!c) return dm_fail(why, DM_EUNAVAILABLE, "no bot token configured: set it in Settings");
    json_t *p = json_pack("{s:I,s:s}", "chat_id", (json_int_t)chat_id, "text", text);
    struct botapi_reply rep;
    struct dm_error err = {0};
    dm_err e = p ? botapi_call(c, "sendMessage", p, 10000, &rep, &err) : DM_ENOMEM;
    if (e)
        dm_fail(why, e, "%s", err.msg[0] ? err.msg : dm_strerror(e));
    else if (!rep.ok)
        e = dm_fail(why, DM_ETELEGRAM, "Telegram refused the message: %s", rep.description);
    if (p) botapi_reply_release(&rep); /* initialised by every call */
    json_decref(p);
    bot_client_release(b, c);
    return e;
}

dm_err app_start(struct app *a, struct dm_error *err)
{
    dm_err e;
    malloc_tune();
    log_set_level(a->cfg.log_level);
    if ((e = secret_init())) return dm_fail(err, e, "libsodium failed to initialise");
    bool derived_url = !a->cfg.public_url[0];
    if ((e = config_finish(&a->cfg, err))) return e;
    openssl_tune(a->cfg.db_url);
    log_set_format(a->cfg.log_format);
    char bad[64];
    if (!http_ip_list_valid(a->cfg.metrics_allow, bad, sizeof bad))
        return dm_fail(err, DM_EINVAL,
                       "DOORMAN_METRICS_ALLOW: '%s' is not an IP address (a list of IPv4 and IPv6 "
                       "addresses, comma-separated, e.g. 127.0.0.1,::1)",
                       bad);
    if ((e = secret_load_master(a->cfg.data_dir, &a->master, err))) return e;
    if ((e = instance_claim(a, err))) return e;
    if ((e = store_open(a->cfg.db_url, &a->store, err))) return e;
    if ((e = store_owner_forget(a->store, a->instance_id, err))) return e;
    /* first: what happens from here on is recorded for the webhooks */
    struct alerts_config alc = {.store = a->store,
                                .master = &a->master,
                                .owner = a->instance_id,
                                .retry_s = a->cfg.webhook_retry_s,
                                .attempts = a->cfg.webhook_attempts,
                                .timeout_s = a->cfg.webhook_timeout_s,
                                .send_text = alert_send,
                                .send_ctx = a};
    if ((e = alerts_start(&alc, &a->alerts, err))) return e;
    if ((e = pool_start(&a->cfg, a->store, &a->master, a->instance_id, &a->pool, err))) return e;
    struct bot_config bc = {.store = a->store,
                            .master = &a->master,
                            .bot_api_url = a->cfg.bot_api_url,
                            .owner = a->instance_id};
    if ((e = bot_start(&bc, &a->bot, err))) return e;
    a->accounts = (struct accounts){.store = a->store, .bot = a->bot, .pool = a->pool};
    a->dm = (struct dm_challenge){.store = a->store, .accounts = &a->accounts};
    bot_set_update_handler(a->bot, dm_challenge_update, &a->dm);
    struct job_runner_config jc = {
        .store = a->store, .accounts = &a->accounts, .owner = a->instance_id};
    if ((e = job_runner_start(&jc, &a->jobs, err))) return e;
    struct guard_config gc = {
        .store = a->store, .accounts = &a->accounts, .public_url = a->cfg.public_url};
    if ((e = guard_start(&gc, &a->guard, err))) return e;
    struct autodecide_config ac = {.store = a->store,
                                   .accounts = &a->accounts,
                                   .runner = a->jobs,
                                   .guard = a->guard,
                                   .owner = a->instance_id,
                                   .public_url = a->cfg.public_url};
    if ((e = autodecide_start(&ac, &a->auto_decide, err))) return e;
    struct tg_watch_config wc = {.store = a->store,
                                 .accounts = &a->accounts,
                                 .owner = a->instance_id,
                                 .interval_s = a->cfg.tg_decisions_s};
    if ((e = tg_watch_start(&wc, &a->tg_watch, err))) return e;
    struct tg_updates_config uc = {.store = a->store, .pool = a->pool};
    if (a->cfg.session_updates && (e = tg_updates_start(&uc, &a->updates, err))) return e;
    a->api = (struct api_env){.store = a->store,
                              .bot = a->bot,
                              .pool = a->pool,
                              .accounts = &a->accounts,
                              .jobs = a->jobs,
                              .public_url = a->cfg.public_url,
                              .preflight_deadline_ms = (int64_t)a->cfg.preflight_deadline_s * 1000,
                              .metrics_allow = a->cfg.metrics_allow,
                              .master = &a->master,
                              .alerts = a->alerts};
    struct http_server_config hc = {
        .bind_addr = a->cfg.listen_host,
        .port = a->cfg.listen_port,
        .max_body = MAX_BODY,
        .threads = a->cfg.http_threads,
        .per_ip = a->cfg.http_per_ip,
        .workers = a->cfg.http_workers,
        .work_queue = a->cfg.http_work_queue,
        .handler = api_handle,
        .admit = api_admit,
        .ctx = &a->api,
    };
    if ((e = http_server_start(&hc, &a->http, err))) return e;
    if (a->cfg.listen_port == 0) { /* the real port, for links and for whoever started us */
        a->cfg.listen_port = http_server_port(a->http);
    }
    if (derived_url) {
        bool v6 = strchr(a->cfg.listen_host, ':') != NULL;
        snprintf(a->cfg.public_url, sizeof a->cfg.public_url,
                 v6 ? "http://[%s]:%u" : "http://%s:%u", a->cfg.listen_host, a->cfg.listen_port);
    }
    log_info("http", "listening on http://%s%s%s:%u", strchr(a->cfg.listen_host, ':') ? "[" : "",
             a->cfg.listen_host, strchr(a->cfg.listen_host, ':') ? "]" : "", a->cfg.listen_port);
    return api_setup_announce(&a->api, err);
}

/* glibc keeps freed heap memory for the next malloc and gives back only the top of the main heap;
 * malloc_trim hands every free page of every arena back to the kernel (the SQLite caches just
 * released, what a burst of requests or a Load left behind). Idle RSS in login_memory_bench's
 * setup: docs/operations.md, Performance. */
void app_idle(struct app *a)
{
    int closed = store_release_idle(a->store);
    malloc_trim(0);
    log_debug("app", "idle pass: %d database connections closed, memory given back", closed);
}

void app_stop(struct app *a)
{
    a->stopping = 1;
    http_server_stop(a->http);
    a->http = NULL;
    tg_updates_stop(a->updates);
    a->updates = NULL;
    tg_watch_stop(a->tg_watch);
    a->tg_watch = NULL;
    autodecide_stop(a->auto_decide);
    a->auto_decide = NULL;
    guard_stop(a->guard);
    a->guard = NULL;
    job_runner_stop(a->jobs);
    a->jobs = NULL;
    bot_stop(a->bot);
    a->bot = NULL;
    pool_stop(a->pool);
    a->pool = NULL;
    alerts_stop(a->alerts);
    a->alerts = NULL;
    store_close(a->store);
    a->store = NULL;
    if (a->instance_locked) close(a->instance_fd); /* the lock with it */
    a->instance_locked = false;
    secret_wipe(&a->master, sizeof a->master);
}
