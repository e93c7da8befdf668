/* secret.h: secrets at rest and in memory (libsodium).
 *
 * - The master key (32 bytes) comes from DOORMAN_SECRET_KEY (64 hex digits) or from
 *   <data>/secret.key, created with mode 0600 on first start.
 * - secret_seal() encrypts with XChaCha20-Poly1305 under the master key; the result is text:
 *   "v1:" + base64url(nonce || ciphertext || tag). secret_open() reverses it and fails with
 *   DM_ECRYPTO when the text was altered or another key sealed it.
 * - Passwords are hashed with argon2id (libsodium's crypto_pwhash_str, interactive limits: 64 MiB
 *   a hash), one hash at a time in the process: callers of secret_hash_password and
 *   secret_verify_password wait for the one running.
 * Call secret_init() once before anything else here. */
#ifndef DM_SECRET_H
#define DM_SECRET_H

#include "core/common.h"

#define SECRET_KEY_BYTES 32
#define SECRET_HASH_MAX 128 /* crypto_pwhash_STRBYTES */

struct secret_key {
    unsigned char k[SECRET_KEY_BYTES];
};

dm_err secret_init(void);
/* Loads the master key as described above; data_dir must exist. */
dm_err secret_load_master(const char *data_dir, struct secret_key *out, struct dm_error *err);

/* *out is malloc'd text owned by the caller. */
dm_err secret_seal(const struct secret_key *key, const void *plain, size_t len, char **out);
/* *out is malloc'd (NUL-terminated, len excludes the NUL) and owned by the caller, who should
 * wipe it with secret_wipe() before freeing. */
dm_err secret_open(const struct secret_key *key, const char *sealed, char **out, size_t *len);

dm_err secret_hash_password(const char *password, char out[SECRET_HASH_MAX]);
bool secret_verify_password(const char *hash, const char *password);

/* Writes 2*nbytes lowercase hex digits of fresh randomness plus a NUL into out. */
void secret_random_hex(char *out, size_t nbytes);
/* out receives 64 hex digits + NUL: BLAKE2b-256 of s (for storing bearer tokens). */
void secret_digest_hex(const char *s, char out[65]);
/* Constant-time comparison of two NUL-terminated strings. */
bool secret_equal(const char *a, const char *b);
void secret_wipe(void *p, size_t n);

#endif
