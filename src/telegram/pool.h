/* pool.h: the pool of live MTProto clients for doorman's Telegram sessions.
 *
 * Exactly one mt_client exists per auth key at any time (Telegram kills a key used from two
 * connections at once: AUTH_KEY_DUPLICATED). The pool maps a key name to that client:
 * - a session's name ([A-Za-z0-9_-]{1,64}): the client is built on first use from the
 *   session file <data>/sessions/<name>.session (session_file.h), the session's row (api_id)
 *   and the DC table and RSA keys of the configuration;
 * - a login's or an import's own name ("login:<id>", "new:<id>"; ':' is never in a session
 *   name): the client of a key that has no session yet (login.h). When the session is
 *   created, pool_rename() hands that same client to the session's name.
 * Every user acquires the client (a counted reference), makes its calls, and releases it.
 * A client nobody holds is closed when it has been idle for DOORMAN_SESSION_IDLE_MS
 * milliseconds (default 300000), and at once by pool_drop().
 *
 * Several doorman processes on one database: a session's client lives in one of them at a
 * time (the store lease "session:<name>", renewed while the client lives, released when it
 * closes). pool_acquire() of a session another process holds fails with DM_EUNAVAILABLE
 * ("Session '<name>' is in use by another doorman instance; try again in a few seconds").
 *
 * Hold an acquisition for a call or a short sequence of calls (pool_call() does one);
 * pool_drop() waits for the holders to let go.
 *
 * Threading: every function may be called from any thread. */
#ifndef DM_TELEGRAM_POOL_H
#define DM_TELEGRAM_POOL_H

#include "core/common.h"
#include "core/config.h"
#include "core/secret.h"
#include "mtproto/client.h"
#include "store/store.h"
#include "telegram/tg_error.h"

#include <jansson.h>

#define POOL_KEY_MAX 80 /* a pool key: a session name, or "login:" + a login id */
#define POOL_CALL_TIMEOUT_MS 20000

struct pool;
struct pool_conn; /* a pooled client; what pool_acquire() hands out, one counted reference */

/* Starts the pool: reads the DC table (cfg->mtproto_dcs, "ID=HOST:PORT,..."; empty keeps
 * Telegram's production DCs) and makes <data>/sessions (0700). DM_EINVAL for a bad DC table.
 * st and master are borrowed and must outlive the pool; owner (copied, under 33 bytes) names
 * the process as the holder of session leases. */
dm_err pool_start(const struct config *cfg, struct store *st, const struct secret_key *master,
                  const char *owner, struct pool **out, struct dm_error *err);
/* Closes every client. No acquisition may be held or start. NULL is allowed. */
void pool_stop(struct pool *a);

/* The session directory ("<data>/sessions") and a session's file path. */
const char *pool_dir(const struct pool *a);
dm_err pool_path(const struct pool *a, const char *name, char *out, size_t n, struct dm_error *err);
/* Borrowed: the store and the master key the pool was started with. */
struct store *pool_store(const struct pool *a);
const struct secret_key *pool_master(const struct pool *a);

/* The client configuration for DC dc_id (0: the DC a new login starts on, DC 2 when the table
 * has it) with api_id. DM_EINVAL when the DC is not in the table, or when `need_rsa` (a new
 * key is to be made), no RSA key file is configured and the DCs are not Telegram's. */
dm_err pool_mt_config(const struct pool *a, int dc_id, int32_t api_id, bool need_rsa,
                      struct mt_config *out, struct dm_error *err);

/* Acquires the client of session `name`, building it when there is none. DM_ENOTFOUND when
 * the session has no row, DM_EIO/DM_EINVAL when its file is missing or unreadable,
 * DM_EUNAVAILABLE when another process holds the session or the database is out of reach. */
dm_err pool_acquire(struct pool *a, const char *name, struct pool_conn **out, struct dm_error *err);
/* Acquires the client pooled under `key` (not a session name), building it from mc and auth
 * (NULL: the client makes a new key) when there is none. */
dm_err pool_acquire_key(struct pool *a, const char *key, const struct mt_config *mc,
                        const struct mt_auth *auth, struct pool_conn **out, struct dm_error *err);
struct mt_client *pool_client(struct pool_conn *h);
/* Lets go of an acquisition; h is invalid afterwards. NULL is allowed. */
void pool_release(struct pool *a, struct pool_conn *h);

/* Closes the client pooled under key (a session name or another key) once its holders let go,
 * and waits for that. Nothing pooled under key: nothing happens. */
void pool_drop(struct pool *a, const char *key);
/* Moves the client pooled under `from` to `to` (a session being created from a login's key).
 * DM_EEXISTS when `to` has a client; DM_ENOTFOUND when `from` has none. */
dm_err pool_rename(struct pool *a, const char *from, const char *to, struct dm_error *err);

/* How many clients are open now (for logs and tests). */
size_t pool_open_count(struct pool *a);

/* One call through session `name`'s client: acquire, mt_call, release, the outcome classified
 * into *te (tg_error_mtproto: the pool's own failures, e.g. no such session, are TG_LOCAL).
 * An answer saying the key is dead (TG_DEAD) also marks the session invalid in the store, with
 * Telegram's error as the reason. */
dm_err pool_call(struct pool *a, const char *name, const json_t *method, int timeout_ms,
                 json_t **result, struct tg_error *te);

/* The access hash of a channel (its MTProto id) that session `name` learned: saved in the store
 * with the session (store_peer_put, as Pyrogram keeps its peers table; it goes when the session
 * is deleted) and cached in memory (the last POOL_PEERS of all sessions), so a channel named by
 * id is found again, after a restart too, without paging the account's dialogs. A stale one
 * fails the call that uses it (CHANNEL_INVALID) and is learned anew. A hash that cannot be saved
 * is logged and still cached. */
bool pool_peer_get(struct pool *a, const char *name, int64_t channel_id, int64_t *hash);
void pool_peer_put(struct pool *a, const char *name, int64_t channel_id, int64_t hash);
/* Check Status: users.getUsers([inputUserSelf]) through the session, then records what it
 * tells in the row: the account (id, names, username, phone, bot, premium) and status active,
 * or status invalid with the reason when the key is dead, and in every case last_check_at and
 * last_error. *out (may be NULL) gets the row as saved. Returns DM_OK whenever the row was
 * updated with the result (an invalid session too); the call's error otherwise (a flood wait,
 * no answer), after recording it as last_error. */
dm_err pool_check(struct pool *a, const char *name, int64_t now, struct store_session *out,
                  struct tg_error *te);

#endif
