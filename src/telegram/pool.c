/* pool.c: the pool of MTProto clients, one per auth key (see pool.h).
 *
 * The pool is a list of entries under one mutex. An entry is `building` while its client is
 * being made (outside the lock; others wanting the same key wait), and `dropping` once it is
 * to be closed: nobody new may take it, and whoever marked it frees the client once no one
 * holds it, then unlinks it. Others wanting that key wait until it is gone, so two clients
 * for one key never exist at once. A reaper thread drops what has been idle too long.
 *
 * Several doorman processes on one database: a session's client exists in one process at a
 * time. Building it takes the store lease "session:<name>" (SESSION_LEASE_S long) for this
 * pool's owner id; the reaper renews it every RENEW_S while the client lives, and closing the
 * client releases it. A lease that could not be renewed before it ended closes the client. */
#include "core/common.h"
#include "telegram/pool.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "mtproto/tl_codec.h"
#include "telegram/session_file.h"

#define IDLE_DEFAULT_MS 300000
#define SESSION_LEASE_S 30
#define RENEW_S 10
#define TICK_MAX_MS 5000 /* the reaper's longest sleep: renewals come within RENEW_S + 5 s */

struct pool_conn {
    char key[POOL_KEY_MAX];
    struct mt_client *client; /* NULL while building */
    int refs;
    bool building, dropping;
    int64_t idle_since_ms; /* when refs last fell to 0 */
    int64_t lease_until;   /* a session's client: when its store lease ends (Unix s); else 0 */
    int64_t renew_at;      /* when the reaper renews that lease next */
    struct pool_conn *next;
};

/* A channel's access hash as a session learned it (pool_peer_get). */
struct peer {
    char session[TG_SESSION_NAME_MAX + 1]; /* "" while the slot is free */
    int64_t channel_id, hash;
};
#define POOL_PEERS 1024

struct pool {
    struct store *st;
    char owner[33]; /* the process's name as the holder of session leases (app.c) */
    const struct secret_key *master;
    struct mt_config base; /* the DC table and RSA keys; dc_id and api_id set per client */
    char dir[1100];
    int64_t idle_ms;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* an entry was built, released, or unlinked; or stop */
    struct pool_conn *list;
    bool stop;
    pthread_t reaper;
    bool reaper_started;
    struct peer peers[POOL_PEERS]; /* under lock; the oldest is replaced first */
    size_t next_peer;
};

/* ---- configuration ---- */

/* Reads "ID=HOST:PORT,..." (HOST may be [IPv6]) into the DC table of mc, replacing it. */
static dm_err parse_dcs(const char *spec, struct mt_config *mc, struct dm_error *err)
{
    mc->ndcs = 0;
    const char *p = spec;
    while (*p) {
        size_t n = strcspn(p, ",");
        char item[300];
        if (n == 0 || n >= sizeof item)
            return dm_fail(err, DM_EINVAL,
                           "--mtproto-dcs: '%.40s' is not ID=HOST:PORT (e.g. 2=127.0.0.1:4430)", p);
        memcpy(item, p, n);
        item[n] = 0;
        char *eq = strchr(item, '='), *colon = strrchr(item, ':'), *end = NULL;
        long id = eq ? strtol(item, &end, 10) : 0;
        if (!eq || end != eq || !colon || colon < eq)
            return dm_fail(err, DM_EINVAL,
                           "--mtproto-dcs: '%s' is not ID=HOST:PORT (e.g. 2=127.0.0.1:4430)", item);
        *colon = 0;
        char *host = eq + 1;
        size_t hl = strlen(host);
        if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
            host[hl - 1] = 0;
            host++;
        }
        long port = strtol(colon + 1, &end, 10);
        if (*end || colon[1] == 0 || port < 1 || port > 65535 || id < 1 || id > 1000)
            return dm_fail(err, DM_EINVAL, "--mtproto-dcs: '%.*s' has a bad DC id or port", (int)n,
                           p);
        struct dm_error e2 = {0};
        if (mt_config_set_dc(mc, (int)id, host, (int)port, &e2))
            return dm_fail(err, DM_EINVAL, "--mtproto-dcs: %s", e2.msg);
        p += n;
        if (*p == ',') p++;
    }
    if (mc->ndcs == 0) return dm_fail(err, DM_EINVAL, "--mtproto-dcs lists no data centre");
    return DM_OK;
}

static bool dc_known(const struct mt_config *mc, int id)
{
    for (size_t i = 0; i < mc->ndcs; i++)
        if (mc->dcs[i].id == id) return true;
    return false;
}

/* True when the DC table is Telegram's (mt_config_init's), which the built-in RSA keys fit. */
static bool telegram_dcs(const struct mt_config *mc)
{
    struct mt_config tg;
    mt_config_init(&tg);
    if (mc->ndcs != tg.ndcs) return false;
    for (size_t i = 0; i < tg.ndcs; i++)
        if (mc->dcs[i].id != tg.dcs[i].id || mc->dcs[i].port != tg.dcs[i].port ||
            strcmp(mc->dcs[i].host, tg.dcs[i].host) != 0)
            return false;
    return true;
}

dm_err pool_mt_config(const struct pool *a, int dc_id, int32_t api_id, bool need_rsa,
                      struct mt_config *out, struct dm_error *err)
{
    *out = a->base;
    if (dc_id == 0) dc_id = dc_known(&a->base, 2) ? 2 : a->base.dcs[0].id;
    if (!dc_known(&a->base, dc_id))
        return dm_fail(err, DM_EINVAL,
                       "Telegram data centre %d is not configured: add it to --mtproto-dcs", dc_id);
    if (need_rsa && !a->base.rsa_pem_path[0] && !telegram_dcs(&a->base))
        return dm_fail(err, DM_EINVAL,
                       "doorman's built-in RSA keys are Telegram's, and --mtproto-dcs names other "
                       "data centres: start it with --mtproto-rsa FILE (their public keys, PEM)");
    out->dc_id = dc_id;
    out->api_id = api_id;
    return DM_OK;
}

/* ---- the pool ---- */

static struct pool_conn *find(struct pool *a, const char *key)
{
    for (struct pool_conn *e = a->list; e; e = e->next)
        if (strcmp(e->key, key) == 0) return e;
    return NULL;
}

static void unlink_entry(struct pool *a, struct pool_conn *e)
{
    for (struct pool_conn **pp = &a->list; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }
    free(e);
    pthread_cond_broadcast(&a->changed);
}

static void lease_name(const char *session, char *out, size_t n)
{
    snprintf(out, n, "session:%s", session);
}

/* Takes or renews the lease of session `name` for this pool. DM_EUNAVAILABLE when another
 * process holds it (or the database cannot be reached). */
static dm_err lease_take(struct pool *a, const char *name, struct dm_error *err)
{
    char lease[POOL_KEY_MAX + 16];
    lease_name(name, lease, sizeof lease);
    bool held = false;
    int64_t now = (int64_t)time(NULL);
    dm_err e = store_lease_acquire(a->st, lease, a->owner, now, now + SESSION_LEASE_S, &held, err);
    if (!e && !held)
        e = dm_fail(err, DM_EUNAVAILABLE,
                    "Session '%s' is in use by another doorman instance; try again in a few "
                    "seconds",
                    name);
    return e;
}

static void lease_drop(struct pool *a, const char *name)
{
    char lease[POOL_KEY_MAX + 16];
    lease_name(name, lease, sizeof lease);
    struct dm_error err = {0};
    if (store_lease_release(a->st, lease, a->owner, &err))
        log_warn("pool", "the lease of session %s stays until it ends: %s", name, err.msg);
}

/* Frees e's client once nobody holds it, then unlinks it. Called with the lock held, by
 * whoever set e->dropping; returns with it held. */
static void finish_drop(struct pool *a, struct pool_conn *e)
{
    while (e->refs > 0)
        pthread_cond_wait(&a->changed, &a->lock);
    struct mt_client *c = e->client;
    pthread_mutex_unlock(&a->lock);
    mt_client_free(c);                         /* joins its I/O thread: not under the lock */
    if (e->lease_until) lease_drop(a, e->key); /* e stays linked: nobody else touches it */
    pthread_mutex_lock(&a->lock);
    log_debug("pool", "closed the connection of %s", e->key);
    unlink_entry(a, e);
}

typedef dm_err (*build_fn)(struct pool *a, const char *key, void *ctx, struct mt_client **out,
                           struct dm_error *err);
static dm_err build_session(struct pool *a, const char *name, void *ctx, struct mt_client **out,
                            struct dm_error *err);

static dm_err acquire(struct pool *a, const char *key, build_fn build, void *ctx,
                      struct pool_conn **out, struct dm_error *err)
{
    if (strlen(key) >= POOL_KEY_MAX) return dm_fail(err, DM_EINVAL, "pool key too long");
    pthread_mutex_lock(&a->lock);
    struct pool_conn *e;
    while ((e = find(a, key)) && (e->dropping || e->building))
        pthread_cond_wait(&a->changed, &a->lock);
    if (e) {
        e->refs++;
        pthread_mutex_unlock(&a->lock);
        *out = e;
        return DM_OK;
    }
    e = calloc(1, sizeof *e);
    if (!e) {
        pthread_mutex_unlock(&a->lock);
        return dm_fail(err, DM_ENOMEM, "out of memory");
    }
    dm_strlcpy(e->key, key, sizeof e->key);
    e->building = true;
    e->refs = 1;
    e->next = a->list;
    a->list = e;
    pthread_mutex_unlock(&a->lock);

    struct mt_client *c = NULL;
    dm_err rc = build(a, key, ctx, &c, err);

    pthread_mutex_lock(&a->lock);
    if (rc) {
        unlink_entry(a, e);
        e = NULL;
    } else {
        e->client = c;
        e->building = false;
        if (build == build_session) { /* it took the session's lease */
            int64_t now = (int64_t)time(NULL);
            e->lease_until = now + SESSION_LEASE_S;
            e->renew_at = now + RENEW_S;
        }
        pthread_cond_broadcast(&a->changed);
    }
    pthread_mutex_unlock(&a->lock);
    *out = e;
    return rc;
}

struct key_ctx {
    const struct mt_config *mc;
    const struct mt_auth *auth;
};

static dm_err build_key(struct pool *a, const char *key, void *ctx, struct mt_client **out,
                        struct dm_error *err)
{
    (void)a;
    (void)key;
    struct key_ctx *k = ctx;
    return mt_client_new(k->mc, k->auth, out, err);
}

static dm_err build_session(struct pool *a, const char *name, void *ctx, struct mt_client **out,
                            struct dm_error *err)
{
    (void)ctx;
    struct store_session row;
    dm_err e = store_session_get(a->st, name, &row, err);
    if (e == DM_ENOTFOUND) return dm_fail(err, e, "There is no session named '%s'.", name);
    if (!e) e = lease_take(a, name, err);
    if (e) return e;
    char path[1200];
    if ((e = pool_path(a, name, path, sizeof path, err))) return e;
    struct tg_session s;
    memset(&s, 0, sizeof s);
    struct dm_error ferr = {0};
    e = tg_session_read_stored(path, a->master, &s, NULL, NULL, NULL, &ferr);
    struct mt_config mc;
    struct mt_auth auth = {0};
    if (e == DM_ECRYPTO) {
        e = dm_fail(err, DM_EIO,
                    "The file of session '%s' cannot be read (%s): start doorman with the master "
                    "key that sealed it, or delete the session and import or create it again.",
                    name, ferr.msg);
    } else if (e) {
        dm_fail(err, e == DM_ENOTFOUND ? DM_EIO : e,
                "The file of session '%s' cannot be read (%s): delete the session and import or "
                "create it again.",
                name, ferr.msg);
        e = err ? err->code : e;
    } else if (!(e = pool_mt_config(a, s.dc_id, row.api_id, false, &mc, err))) {
        mc.test_mode = s.test_mode;
        auth.dc_id = s.dc_id;
        memcpy(auth.key, s.auth_key, sizeof auth.key);
        e = mt_client_new(&mc, &auth, out, err);
    }
    tg_session_wipe(&s);
    secret_wipe(&auth, sizeof auth);
    if (e) lease_drop(a, name);
    return e;
}

dm_err pool_acquire(struct pool *a, const char *name, struct pool_conn **out, struct dm_error *err)
{
    if (!tg_session_name_valid(name))
        return dm_fail(err, DM_ENOTFOUND, "There is no session named '%.64s'.", name);
    return acquire(a, name, build_session, NULL, out, err);
}

dm_err pool_acquire_key(struct pool *a, const char *key, const struct mt_config *mc,
                        const struct mt_auth *auth, struct pool_conn **out, struct dm_error *err)
{
    struct key_ctx k = {mc, auth};
    return acquire(a, key, build_key, &k, out, err);
}

struct mt_client *pool_client(struct pool_conn *h)
{
    return h->client;
}

void pool_release(struct pool *a, struct pool_conn *h)
{
    if (!h) return;
    pthread_mutex_lock(&a->lock);
    if (--h->refs == 0) {
        h->idle_since_ms = clock_ms();
        pthread_cond_broadcast(&a->changed);
    }
    pthread_mutex_unlock(&a->lock);
}

void pool_drop(struct pool *a, const char *key)
{
    pthread_mutex_lock(&a->lock);
    struct pool_conn *e = find(a, key);
    while (e && e->building) { /* let the builder finish: it holds a reference after that */
        pthread_cond_wait(&a->changed, &a->lock);
        e = find(a, key);
    }
    if (e && !e->dropping) {
        e->dropping = true;
        finish_drop(a, e);
    } else {
        while ((e = find(a, key)) && e->dropping) /* someone else is closing it */
            pthread_cond_wait(&a->changed, &a->lock);
    }
    pthread_mutex_unlock(&a->lock);
}

dm_err pool_rename(struct pool *a, const char *from, const char *to, struct dm_error *err)
{
    if (strlen(to) >= POOL_KEY_MAX) return dm_fail(err, DM_EINVAL, "pool key too long");
    pthread_mutex_lock(&a->lock);
    struct pool_conn *e = find(a, from), *other = find(a, to);
    dm_err rc = DM_OK;
    if (!e || e->dropping || e->building)
        rc = dm_fail(err, DM_ENOTFOUND, "no connection to hand over");
    else if (other)
        rc = dm_fail(err, DM_EEXISTS, "session '%s' already has a connection", to);
    else
        dm_strlcpy(e->key, to, sizeof e->key);
    pthread_mutex_unlock(&a->lock);
    if (rc || !tg_session_name_valid(to)) return rc;
    /* the key is new: no other process can hold its session yet */
    struct dm_error lerr = {0};
    if (lease_take(a, to, &lerr)) log_warn("pool", "session %s: %s", to, lerr.msg);
    pthread_mutex_lock(&a->lock);
    if ((e = find(a, to)) && e->client) {
        int64_t now = (int64_t)time(NULL);
        e->lease_until = now + SESSION_LEASE_S;
        e->renew_at = now + RENEW_S;
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}

size_t pool_open_count(struct pool *a)
{
    size_t n = 0;
    pthread_mutex_lock(&a->lock);
    for (struct pool_conn *e = a->list; e; e = e->next)
        n += e->client != NULL;
    pthread_mutex_unlock(&a->lock);
    return n;
}

/* ---- the reaper ---- */

/* Renews the session leases that are due. Called with the lock held; returns with it held.
 * A lease that ended without a renewal (the database was out of reach meanwhile; another
 * process may hold it now) closes its client. */
static void leases_renew(struct pool *a)
{
    for (;;) {
        int64_t now = (int64_t)time(NULL);
        struct pool_conn *e;
        for (e = a->list; e; e = e->next)
            if (e->lease_until && e->client && !e->dropping && e->renew_at <= now) break;
        if (!e) return;
        char name[POOL_KEY_MAX];
        dm_strlcpy(name, e->key, sizeof name);
        e->renew_at = now + 1; /* retried next tick when this fails */
        pthread_mutex_unlock(&a->lock);
        struct dm_error err = {0};
        dm_err rc = lease_take(a, name, &err);
        pthread_mutex_lock(&a->lock);
        if (!(e = find(a, name)) || e->dropping || !e->client) continue;
        if (!rc) {
            e->lease_until = now + SESSION_LEASE_S;
            e->renew_at = now + RENEW_S;
        } else if ((int64_t)time(NULL) + 2 >= e->lease_until) {
            log_warn("pool", "closing the connection of session %s: its lease ended (%s)", name,
                     err.msg);
            e->lease_until = 0; /* not ours any more: not released */
            e->dropping = true;
            finish_drop(a, e);
        }
    }
}

static void *reaper_run(void *arg)
{
    struct pool *a = arg;
    int64_t tick = DM_MIN(DM_MAX(a->idle_ms / 4, 50), TICK_MAX_MS);
    pthread_mutex_lock(&a->lock);
    while (!a->stop) {
        struct timespec ts = clock_after_ms(tick);
        pthread_cond_timedwait(&a->changed, &a->lock, &ts);
        if (a->stop) break;
        leases_renew(a);
        if (a->stop) break;
        for (bool again = true; again && !a->stop;) {
            again = false;
            int64_t now = clock_ms();
            for (struct pool_conn *e = a->list; e; e = e->next) {
                if (e->refs == 0 && !e->building && !e->dropping &&
                    now - e->idle_since_ms >= a->idle_ms) {
                    e->dropping = true;
                    finish_drop(a, e); /* unlinks e: start over from the head */
                    again = true;
                    break;
                }
            }
        }
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

/* ---- start and stop ---- */

static dm_err make_dir(const char *dir, struct dm_error *err)
{
    struct stat sb;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return dm_fail(err, DM_EIO, "cannot create %s: %s", dir, strerror(errno));
    if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return dm_fail(err, DM_EIO, "%s must be a directory (not a link or a file)", dir);
    if ((sb.st_mode & 0777) != 0700 && chmod(dir, 0700) != 0)
        return dm_fail(err, DM_EIO, "cannot make %s private (mode 0700): %s", dir, strerror(errno));
    return DM_OK;
}

/* Seals the plain session files an older doorman left in dir (tg_session_seal_file), once:
 * a sealed file is left alone, so the next start finds nothing to do. A file that cannot be
 * sealed stays as it is, named in the log; nothing is ever deleted. */
static void seal_plain_files(const char *dir, const struct secret_key *master)
{
    DIR *d = opendir(dir);
    if (!d) {
        log_warn("pool", "cannot list %s to seal plain session files: %s", dir, strerror(errno));
        return;
    }
    int sealed = 0, left = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name), suffix = strlen(".session");
        if (n <= suffix || strcmp(de->d_name + n - suffix, ".session") != 0) continue;
        char path[1400];
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path) continue;
        struct stat sb;
        struct dm_error e = {0};
        bool converted = false;
        if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            dm_fail(&e, DM_EINVAL, "it is not a regular file");
        else
            tg_session_seal_file(path, master, &converted, &e);
        if (e.code) {
            left++;
            log_warn("pool", "sessions/%s is not sealed and cannot be (%s): left as it is",
                     de->d_name, e.msg);
        } else if (converted) {
            sealed++;
        }
    }
    closedir(d);
    if (sealed)
        log_info("pool",
                 "sealed %d plain session file%s in %s with the master key (written by an older "
                 "doorman; done once)",
                 sealed, sealed == 1 ? "" : "s", dir);
    if (left)
        log_warn("pool", "%d file%s in %s could not be sealed (see above)", left,
                 left == 1 ? "" : "s", dir);
}

dm_err pool_start(const struct config *cfg, struct store *st, const struct secret_key *master,
                  const char *owner, struct pool **out, struct dm_error *err)
{
    *out = NULL;
    if (strlen(owner) >= sizeof((struct pool *)0)->owner)
        return dm_fail(err, DM_EINVAL, "the pool's owner name is too long");
    struct pool *a = calloc(1, sizeof *a);
    if (!a) return dm_fail(err, DM_ENOMEM, "out of memory");
    a->st = st;
    dm_strlcpy(a->owner, owner, sizeof a->owner);
    a->master = master;
    mt_config_init(&a->base);
    dm_err e = DM_OK;
    if (cfg->mtproto_dcs[0]) e = parse_dcs(cfg->mtproto_dcs, &a->base, err);
    dm_strlcpy(a->base.rsa_pem_path, cfg->mtproto_rsa_pem, sizeof a->base.rsa_pem_path);
    a->base.temp_key_s = (int32_t)cfg->mtproto_temp_key_s;
    if (!e && snprintf(a->dir, sizeof a->dir, "%s/sessions", cfg->data_dir) >= (int)sizeof a->dir)
        e = dm_fail(err, DM_EINVAL, "the data directory path is too long");
    if (!e) e = make_dir(a->dir, err);
    if (!e) seal_plain_files(a->dir, master);
    a->idle_ms = IDLE_DEFAULT_MS;
    const char *idle = getenv("DOORMAN_SESSION_IDLE_MS");
    if (idle && *idle) {
        char *end = NULL;
        long long v = strtoll(idle, &end, 10);
        if (*end || v < 10 || v > 86400000)
            e = e ? e
                  : dm_fail(err, DM_EINVAL,
                            "DOORMAN_SESSION_IDLE_MS must be milliseconds from 10 to 86400000");
        a->idle_ms = v;
    }
    if (e) {
        free(a);
        return e;
    }
    pthread_mutex_init(&a->lock, NULL);
    clock_cond_init(&a->changed);
    if (pthread_create(&a->reaper, NULL, reaper_run, a) != 0) {
        pool_stop(a);
        return dm_fail(err, DM_ENOMEM, "cannot start the session pool's thread");
    }
    a->reaper_started = true;
    *out = a;
    return DM_OK;
}

void pool_stop(struct pool *a)
{
    if (!a) return;
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->lock);
    if (a->reaper_started) pthread_join(a->reaper, NULL);
    while (a->list) {
        struct pool_conn *e = a->list;
        a->list = e->next;
        mt_client_free(e->client);
        if (e->lease_until) lease_drop(a, e->key);
        free(e);
    }
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->changed);
    free(a);
}

const char *pool_dir(const struct pool *a)
{
    return a->dir;
}

dm_err pool_path(const struct pool *a, const char *name, char *out, size_t n, struct dm_error *err)
{
    return tg_session_path(a->dir, name, out, n, err);
}

struct store *pool_store(const struct pool *a)
{
    return a->st;
}

const struct secret_key *pool_master(const struct pool *a)
{
    return a->master;
}

/* ---- calls ---- */

static dm_err call_once(struct pool *a, const char *name, const json_t *method, int timeout_ms,
                        json_t **result, struct tg_error *te)
{
    struct pool_conn *h = NULL;
    struct dm_error err = {0};
    struct mt_rpc_error rpc = {0};
    dm_err e = pool_acquire(a, name, &h, &err);
    bool called = !e;
    if (called) {
        e = mt_call(h->client, method, timeout_ms, result, &rpc, &err);
        pool_release(a, h);
    }
    e = tg_error_mtproto(te, e, &rpc, &err);
    if (called) metrics_mtproto_call(name, tg_kind_name(te->kind));
    return e;
}

/* Writes into the row that the key is dead (te: the call that said so). */
static void say_invalid(struct store_session *row, const struct tg_error *te)
{
    row->status = SESSION_INVALID;
    dm_strlcpy(row->status_reason, te->name[0] ? te->name : "AUTH_KEY_UNKNOWN",
               sizeof row->status_reason);
    dm_strlcpy(row->last_error, te->e.msg, sizeof row->last_error);
}

/* Records in the row that the key is dead. */
static void mark_invalid(struct pool *a, const char *name, const struct tg_error *te)
{
    struct store_session row;
    struct dm_error err = {0};
    if (store_session_get(a->st, name, &row, &err)) return;
    say_invalid(&row, te);
    if (store_session_update(a->st, &row, &err))
        log_warn("pool", "session %s: could not record that it is invalid: %s", name, err.msg);
    else
        log_info("pool", "session %s is invalid (%s)", name, row.status_reason);
}

dm_err pool_call(struct pool *a, const char *name, const json_t *method, int timeout_ms,
                 json_t **result, struct tg_error *te)
{
    struct tg_error local;
    if (!te) te = &local;
    dm_err e = call_once(a, name, method, timeout_ms, result, te);
    if (te->kind == TG_DEAD) mark_invalid(a, name, te);
    return e;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

dm_err pool_check(struct pool *a, const char *name, int64_t now, struct store_session *out,
                  struct tg_error *te)
{
    struct tg_error local;
    if (!te) te = &local;
    json_t *m = json_pack("{s:s,s:[{s:s}]}", "_", "users.getUsers", "id", "_", "inputUserSelf");
    json_t *res = NULL;
    dm_err e = m ? call_once(a, name, m, POOL_CALL_TIMEOUT_MS, &res, te)
                 : tg_error_local(te, DM_ENOMEM, "out of memory");
    json_decref(m);
    const json_t *user = json_array_get(res, 0);
    if (!e && !tl_is(user, "user"))
        e = tg_error_local(te, DM_EPROTO, "Telegram did not return the session's account");
    if (te->kind == TG_LOCAL && e == DM_ENOTFOUND) { /* no session: nothing to record */
        json_decref(res);
        return e;
    }
    struct store_session row;
    struct dm_error serr = {0};
    dm_err se = store_session_get(a->st, name, &row, &serr);
    if (!se) {
        row.last_check_at = now;
        if (!e) {
            row.status = SESSION_ACTIVE;
            row.status_reason[0] = 0;
            row.last_error[0] = 0;
            json_int_t id = json_integer_value(json_object_get(user, "id"));
            row.account_id = id;
            dm_strlcpy(row.first_name, jstr(user, "first_name"), sizeof row.first_name);
            dm_strlcpy(row.last_name, jstr(user, "last_name"), sizeof row.last_name);
            dm_strlcpy(row.username, jstr(user, "username"), sizeof row.username);
            dm_strlcpy(row.account_phone, jstr(user, "phone"), sizeof row.account_phone);
            row.is_bot = json_is_true(json_object_get(user, "bot"));
            row.premium = json_is_true(json_object_get(user, "premium"));
        } else if (te->kind == TG_DEAD) {
            say_invalid(&row, te);
        } else {
            dm_strlcpy(row.last_error, te->e.msg, sizeof row.last_error);
        }
        se = store_session_update(a->st, &row, &serr);
        if (!se && out) *out = row;
    }
    json_decref(res);
    if (se) return tg_error_local(te, se, "%s", serr.msg);
    if (!e || te->kind == TG_DEAD) return tg_error_set(te, TG_OK, 0); /* the row tells */
    return e;
}

/* ---- access hashes learned ---- */

static struct peer *peer_find(struct pool *a, const char *session, int64_t channel_id)
{
    for (size_t i = 0; i < POOL_PEERS; i++)
        if (a->peers[i].channel_id == channel_id && !strcmp(a->peers[i].session, session))
            return &a->peers[i];
    return NULL;
}

/* Puts the hash in the cache; false when it was there already with that value. Under lock. */
static bool peer_cache(struct pool *a, const char *session, int64_t channel_id, int64_t hash)
{
    struct peer *p = peer_find(a, session, channel_id);
    if (p && p->hash == hash) return false;
    if (!p) {
        p = &a->peers[a->next_peer];
        a->next_peer = (a->next_peer + 1) % POOL_PEERS;
        dm_strlcpy(p->session, session, sizeof p->session);
        p->channel_id = channel_id;
    }
    p->hash = hash;
    return true;
}

bool pool_peer_get(struct pool *a, const char *session, int64_t channel_id, int64_t *hash)
{
    if (strlen(session) > TG_SESSION_NAME_MAX) return false;
    pthread_mutex_lock(&a->lock);
    const struct peer *p = peer_find(a, session, channel_id);
    if (p) *hash = p->hash;
    pthread_mutex_unlock(&a->lock);
    if (p) return true;
    if (store_peer_get(a->st, session, channel_id, hash, NULL) != DM_OK) return false;
    pthread_mutex_lock(&a->lock);
    peer_cache(a, session, channel_id, *hash);
    pthread_mutex_unlock(&a->lock);
    return true;
}

void pool_peer_put(struct pool *a, const char *session, int64_t channel_id, int64_t hash)
{
    if (strlen(session) > TG_SESSION_NAME_MAX) return;
    pthread_mutex_lock(&a->lock);
    bool changed = peer_cache(a, session, channel_id, hash);
    pthread_mutex_unlock(&a->lock);
    struct dm_error err = {0};
    if (changed && store_peer_put(a->st, session, channel_id, hash, time(NULL), &err))
        log_warn("pool", "session '%s': the access hash of channel %" PRId64 " was not saved: %s",
                 session, channel_id, err.msg);
}
