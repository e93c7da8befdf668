/* dc.h: tgsim's MTProto data centres (server side of MTProto 2.0 over TCP on loopback).
 *
 * dc_start() generates an RSA-2048 key pair, writes the public key (PEM) to a file, and listens
 * on one port per DC (1..n). Each connection gets a thread: transport detection (abridged,
 * intermediate, full), the handshake (req_pq / req_pq_multi, req_DH_params with RSA_PAD or the
 * legacy padding, set_client_DH_params), then encrypted messages: msg_key and auth_key_id checks,
 * salts, sessions, msg_id / seqno checks, containers, gzip, acks, pings, and RPC calls answered
 * by dc_rpc_call() in the layer the client announced with invokeWithLayer.
 *
 * Auth keys live in struct dcs and, like everything the calls touch, are guarded by the world
 * lock. Documented for users in docs/tgsim.md ("MTProto data centres"). */
#ifndef DM_SIM_DC_H
#define DM_SIM_DC_H

#include "core/common.h"
#include "sim/world.h"

#include <jansson.h>

#define DC_MAX 5
#define DC_MAX_KEYS 100000u
#define DC_MAX_SESSIONS 32 /* remembered per key for new_session_created */

struct dc_conn;

/* An auth key made by a handshake on a DC, and what it is authorized as. */
struct dc_key {
    uint8_t key[256];
    uint64_t id;
    int dc;
    int64_t salt;
    int64_t user_id;      /* 0 while not logged in */
    uint32_t epoch;       /* the account's auth_epoch when it was bound */
    bool duplicated;      /* used by two connections at once while authorized: dead */
    int64_t pending_user; /* signed in with a code, waiting for the 2FA password */
    int64_t srp_id;       /* the last account.getPassword's srp_id (0: none) */
    uint8_t srp_b[256], srp_B[256];
    struct dc_conn *owner; /* the connection using it now, NULL when none */
    /* perfect forward secrecy (core.telegram.org/api/pfs): a temporary key (made with
     * p_q_inner_data_temp_dc) ends at expires_at (unix time) and, once auth.bindTempAuthKey
     * bound it, acts for the permanent key `perm`, where the authorization lives; a permanent
     * key names the one temporary key bound to it (a new binding replaces it) */
    bool temp;
    int64_t expires_at, created_ms;
    struct dc_key *perm, *bound;
    int64_t sessions[DC_MAX_SESSIONS];
    unsigned nsessions;
};

struct dcs;

/* Starts n DCs (1..n) on 127.0.0.1 ports[i] (0 = a free port) and writes the public key to
 * pem_path. The DC table is put into w->dcs for the control API. */
dm_err dc_start(struct world *w, const char *pem_path, const uint16_t *ports, int n,
                struct dcs **out, struct dm_error *e);
uint16_t dc_port(const struct dcs *d, int dc);
/* Delays every RPC answer by ms milliseconds (0: none), each call on its own, so calls in flight
 * overlap as on a network with that latency. The handshake and service messages are not delayed. */
void dc_set_latency(struct dcs *d, int ms);
/* Closes every connection and frees everything. */
void dc_stop(struct dcs *d);

/* ---- between dc_server.c and dc_rpc.c ---- */

/* One RPC call (invokeWithLayer / initConnection already unwrapped), with the world lock held.
 * Returns the answer as a JSON tree: a result by constructor name, or an rpc_error. */
struct dc_call {
    struct world *w;
    struct dcs *d;
    struct dc_key *key;
    int dc;
    const json_t *q;
};
json_t *dc_rpc_call(struct dc_call *c);
/* The `updates` envelope that pushes log entry e to c->key's account (world lock held): the
 * update with the users and channels it names, its date and seq. */
struct sim_upd_entry;
json_t *dc_rpc_push(struct dc_call *c, const struct sim_upd_entry *e);
/* {"_":"rpc_error","error_code":code,"error_message":...} */
json_t *dc_rpc_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* g for the handshake and SRP, with the well-known prime crypto_dh_prime (mtproto/crypto.h). */
#define DC_G 3
/* Random bytes (OpenSSL). */
void dc_random(void *p, size_t n);
/* The DC table entry for dc (1-based) of the running set. */
int dc_count(const struct dcs *d);
/* dc_rpc.c's index of each channel's pending join requests (world lock), kept in struct dcs;
 * dc_stop() frees it with dc_jr_index_free(). */
struct dc_jr_index;
struct dc_jr_index **dc_jr_index_slot(struct dcs *d);
void dc_jr_index_free(struct dc_jr_index *x);

#endif
