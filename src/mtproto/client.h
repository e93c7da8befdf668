/* client.h: an MTProto client for one authorized key on one data centre, safe to use from any
 * number of threads at once.
 *
 * A client owns one TCP connection (intermediate transport by default, abridged selectable)
 * and one I/O thread that polls it. The thread connects (with a timeout), creates an auth key
 * when the client has none (handshake.h, with the RSA keys from cfg->rsa_pem_path, or
 * Telegram's own keys from tl/rsa_keys.h when that is empty), starts a
 * session (session.h), and sends invokeWithLayer(TL_LAYER, initConnection(api_id, ...,
 * help.getConfig)) as the first call of every connection; the callers' calls go out once that
 * answer is in.
 *
 * Perfect forward secrecy (core.telegram.org/api/pfs; on unless cfg->temp_key_s is 0): the
 * permanent key (the one a session file keeps) never encrypts a message. The session runs on a
 * temporary key made by its own handshake (p_q_inner_data_temp_dc), held in memory only, and
 * bound to the permanent key by auth.bindTempAuthKey (bind.h) before initConnection. A new
 * temporary key is made on the next connection once the old one has an eighth of its life left
 * (the connection is renewed for it), or when the server has forgotten it (transport error -404
 * on a temporary key is not fatal). Traffic recorded under a temporary key cannot be read with
 * the permanent key. It keeps the connection alive with ping_delay_disconnect, acknowledges what
 * the server sends, and when the connection breaks it reconnects with exponential backoff and sends
 * again every call whose answer had not arrived (new session, new msg_ids).
 *
 * mt_call() blocks the calling thread only, until the answer or its timeout; thousands of calls
 * may be in flight on the one connection. Never use one auth key in two clients at once
 * (Telegram answers AUTH_KEY_DUPLICATED): one client per key, shared.
 *
 * DC migration (login): an rpc_error PHONE_MIGRATE_X / USER_MIGRATE_X / NETWORK_MIGRATE_X means
 * "continue on DC X": copy the config, set dc_id = mt_rpc_error_migrate_dc(), and create a new
 * client with no auth (it makes its own key there); the old client can be freed.
 *
 * Auth keys are secrets: nothing here logs them or puts them in error messages. */
#ifndef DM_MTPROTO_CLIENT_H
#define DM_MTPROTO_CLIENT_H

#include "core/common.h"
#include "mtproto/crypto.h"
#include "mtproto/transport.h"

#include <jansson.h>

#define MT_MAX_DCS 16
#define MT_MAX_RSA_KEYS 8

struct mt_dc {
    int id;
    char host[256]; /* a name or an IPv4/IPv6 address */
    int port;
};

struct mt_config {
    int dc_id; /* the DC this client talks to: its address comes from dcs */
    struct mt_dc dcs[MT_MAX_DCS];
    size_t ndcs;
    char rsa_pem_path[1024]; /* PEM file with one or more server public keys; read only without an
                                auth key; empty: Telegram's keys (tl/rsa_keys.h) */
    bool test_mode;          /* test DCs: the handshake names DC id + 10000 */
    enum transport_kind transport; /* TRANSPORT_INTERMEDIATE or TRANSPORT_ABRIDGED */
    int32_t api_id;
    char device_model[64], system_version[64], app_version[64];
    char system_lang_code[16], lang_pack[16], lang_code[16];
    int connect_timeout_ms; /* TCP connect and handshake */
    int ping_interval_ms;   /* keepalive period; the server drops us after 1.5 periods of silence */
    int backoff_min_ms, backoff_max_ms; /* reconnect delays, doubling from min to max */
    int32_t temp_key_s; /* > 0: perfect forward secrecy with temporary keys living this long;
                           0: every message goes under the permanent key */
};

/* Defaults: Telegram's production DC addresses (1..5, port 443), intermediate transport,
 * device "doorman", 10 s connect timeout, 60 s pings, backoff 200 ms .. 30 s, temporary keys
 * of a day. api_id and rsa_pem_path stay empty. */
void mt_config_init(struct mt_config *cfg);
/* Adds or replaces the address of DC `id`. DM_ETOOBIG when the table is full, DM_EINVAL for a
 * bad id, host or port. */
dm_err mt_config_set_dc(struct mt_config *cfg, int id, const char *host, int port,
                        struct dm_error *e);

/* An auth key and the DC it belongs to (what a session file keeps). */
struct mt_auth {
    int dc_id;
    uint8_t key[CRYPTO_AUTH_KEY_SIZE];
};

struct mt_rpc_error {
    int32_t code;      /* 420, 303, 401, ... (informational: match on the name) */
    char message[128]; /* as sent: "FLOOD_WAIT_31" */
    char name[128];    /* without a trailing number: "FLOOD_WAIT" */
    int64_t value;     /* the trailing number (seconds, DC id), or -1 */
};

struct mt_client;

/* Creates a client for cfg->dc_id and starts its I/O thread (it connects in the background;
 * this call does not wait). `auth` (may be NULL) is an existing key for that DC, copied; without
 * one the client makes a key, readable later with mt_client_auth_key(). cfg is copied. On
 * success *out is owned by the caller: release it with mt_client_free(). */
dm_err mt_client_new(const struct mt_config *cfg, const struct mt_auth *auth,
                     struct mt_client **out, struct dm_error *e);

/* Stops the I/O thread, closes the connection and frees the client. No mt_call() or
 * mt_client_auth_key() may be running or start on it. */
void mt_client_free(struct mt_client *c);

/* Calls `method` (a TL object as a JSON tree, see tl_codec.h; borrowed) and waits up to
 * timeout_ms (> 0) for the answer. On success *result (if result is not NULL) gets the decoded
 * answer, a new reference the caller releases with json_decref.
 * Errors: DM_ETELEGRAM when the server answered rpc_error (*rpc, if not NULL, gets it and the
 * message names it); DM_ETIMEOUT when no answer came in time (the call may still run on the
 * server); DM_EINVAL when the method does not encode; DM_EAUTH when the server does not know the
 * auth key; DM_EPROTO when the answer does not decode or the server refused the message. */
dm_err mt_call(struct mt_client *c, const json_t *method, int timeout_ms, json_t **result,
               struct mt_rpc_error *rpc, struct dm_error *e);

/* Waits up to timeout_ms for the client to have an auth key (given, or made by the handshake)
 * and copies it to *out, to be kept as a secret. DM_ETIMEOUT when none came in time. */
dm_err mt_client_auth_key(struct mt_client *c, int timeout_ms, struct mt_auth *out,
                          struct dm_error *e);

/* Updates the server pushes (core.telegram.org/api/updates): kept in order from the first call
 * of mt_client_updates() on, up to MT_UPDATES_MAX. Waits up to timeout_ms for the next one and
 * gives it decoded (*out: an Updates object, the caller's reference), or DM_ETIMEOUT. When some
 * may have been lost (the first call, a new server session after a reconnection, a full queue)
 * the next one given is {"_":"updatesTooLong"}: the reader fills the gap with
 * updates.getDifference. One reader at a time. */
#define MT_UPDATES_MAX 10000
dm_err mt_client_updates(struct mt_client *c, int timeout_ms, json_t **out, struct dm_error *e);

/* Counters for logs and tests. */
struct mt_client_stats {
    uint64_t connections; /* connections that completed initConnection */
    uint64_t resent;      /* calls sent again after a reconnect or a server notice */
    bool ready;           /* connected and initialized now */
};
void mt_client_stats(struct mt_client *c, struct mt_client_stats *out);

/* Is the error `name` ("FLOOD_WAIT", "PHONE_MIGRATE", "SESSION_PASSWORD_NEEDED")? */
bool mt_rpc_error_is(const struct mt_rpc_error *r, const char *name);
/* The DC of a *_MIGRATE_X error, or 0 for any other error. */
int mt_rpc_error_migrate_dc(const struct mt_rpc_error *r);
/* Fills *r from an rpc_error object's code and message. */
void mt_rpc_error_parse(struct mt_rpc_error *r, int32_t code, const char *message);

#endif
