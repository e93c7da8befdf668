/* crypto.h: the cryptography of MTProto 2.0 (OpenSSL libcrypto).
 *
 * Byte strings are big-endian numbers where the protocol says so (RSA, DH, SRP values are
 * 256-byte big-endian); everything else is raw bytes. Functions that need randomness take a
 * crypto_random_fn so tests can replay the random bytes another implementation used;
 * crypto_random (OpenSSL RAND_bytes) is the one to use in production. No function logs or
 * puts key material into error messages. */
#ifndef DM_MTPROTO_CRYPTO_H
#define DM_MTPROTO_CRYPTO_H

#include "core/common.h"
#include "core/buf.h"

/* Fills out[0..n) with random bytes; returns DM_OK or DM_ECRYPTO. */
typedef dm_err (*crypto_random_fn)(void *ctx, uint8_t *out, size_t n);
dm_err crypto_random(void *ctx, uint8_t *out, size_t n);

/* ---- hashes (parts are concatenated) ---- */
struct crypto_part {
    const void *p;
    size_t n;
};
void crypto_sha1(uint8_t out[20], const struct crypto_part *parts, size_t count);
void crypto_sha256(uint8_t out[32], const struct crypto_part *parts, size_t count);

/* ---- AES-256-IGE: len must be a multiple of 16; in and out may be the same buffer ---- */
dm_err crypto_aes_ige(bool encrypt, const uint8_t key[32], const uint8_t iv[32], const uint8_t *in,
                      uint8_t *out, size_t len);

/* ---- MTProto 2.0 messages ---- */
#define CRYPTO_AUTH_KEY_SIZE 256
/* x = 0 for messages from the client, 8 for messages from the server. */
enum { CRYPTO_FROM_CLIENT = 0, CRYPTO_FROM_SERVER = 8 };

/* auth_key_id: the low 64 bits of SHA1(auth_key) (bytes 12..20, little-endian). */
uint64_t crypto_auth_key_id(const uint8_t auth_key[256]);
/* The AES key and iv for msg_key (core.telegram.org/mtproto/description). */
void crypto_msg_kdf(const uint8_t auth_key[256], const uint8_t msg_key[16], int x, uint8_t key[32],
                    uint8_t iv[32]);

/* Encrypts plaintext (salt, session_id, msg_id, seqno, length, body; a multiple of 4 bytes) and
 * appends auth_key_id + msg_key + ciphertext to out. Padding is 12..1024 random bytes bringing
 * the length to a multiple of 16; `extra_pad_blocks` adds that many more 16-byte blocks (0 in
 * production unless length hiding is wanted; the total stays within 1024). */
dm_err crypto_msg_encrypt(const uint8_t auth_key[256], int x, const uint8_t *plain, size_t len,
                          unsigned extra_pad_blocks, crypto_random_fn rnd, void *rnd_ctx,
                          struct buf *out, struct dm_error *e);
/* Decrypts an encrypted message (auth_key_id + msg_key + ciphertext) into plain (which gets the
 * whole decrypted text, padding included; *msg_len the length of salt..body, checked against
 * the inner length field). Fails with DM_ECRYPTO when the key id, msg_key or lengths do not check.
 */
dm_err crypto_msg_decrypt(const uint8_t auth_key[256], int x, const uint8_t *msg, size_t len,
                          struct buf *plain, size_t *msg_len, struct dm_error *e);

/* ---- MTProto 1.0 (SHA-1), kept only for auth.bindTempAuthKey's encrypted_message ---- */

/* Encrypts plain (random:int128, msg_id, seqno, length, body; a multiple of 4 bytes) with
 * auth_key as MTProto 1.0 did (x = 0): msg_key = SHA1(plain)[4..20], the AES key and iv from
 * SHA1s of msg_key and auth_key, 0..15 random padding bytes to a multiple of 16. Appends
 * auth_key_id + msg_key + ciphertext to out. */
dm_err crypto_v1_encrypt(const uint8_t auth_key[256], const uint8_t *plain, size_t len,
                         crypto_random_fn rnd, void *rnd_ctx, struct buf *out, struct dm_error *e);
/* Decrypts what crypto_v1_encrypt() made into plain (the text without its padding: 32 bytes of
 * header and the body its length field names). DM_ECRYPTO when the key id, msg_key or lengths
 * do not check. */
dm_err crypto_v1_decrypt(const uint8_t auth_key[256], const uint8_t *msg, size_t len,
                         struct buf *plain, struct dm_error *e);

/* ---- RSA ---- */
struct crypto_rsa_key {
    uint8_t n[256]; /* modulus, big-endian; 2048-bit keys only */
    uint8_t e[8];   /* exponent, big-endian, without leading zeros */
    size_t e_len;
    int64_t fingerprint;
};
/* Reads a PEM public key ("BEGIN RSA PUBLIC KEY" or "BEGIN PUBLIC KEY"). */
dm_err crypto_rsa_key_from_pem(const char *pem, struct crypto_rsa_key *key, struct dm_error *e);
/* A public key from its modulus and exponent (big-endian bytes, leading zeros allowed). */
dm_err crypto_rsa_key_from_raw(const uint8_t *n, size_t n_len, const uint8_t *ex, size_t e_len,
                               struct crypto_rsa_key *key, struct dm_error *e);
/* SHA1 of TL rsa_public_key n:bytes e:bytes, last 8 bytes read as little-endian int64. */
int64_t crypto_rsa_fingerprint(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len);
/* RSA_PAD (core.telegram.org/mtproto/auth_key §4.1): data is at most 144 bytes. */
dm_err crypto_rsa_pad_encrypt(const struct crypto_rsa_key *key, const uint8_t *data, size_t len,
                              crypto_random_fn rnd, void *rnd_ctx, uint8_t out[256],
                              struct dm_error *e);
/* The legacy padding: SHA1(data) + data + random, to 255 bytes (data at most 235 bytes). */
dm_err crypto_rsa_legacy_encrypt(const struct crypto_rsa_key *key, const uint8_t *data, size_t len,
                                 crypto_random_fn rnd, void *rnd_ctx, uint8_t out[256],
                                 struct dm_error *e);
/* Raw RSA: out = in^d mod n with a private key in PEM (the server side, tgsim). */
dm_err crypto_rsa_private_raw(const char *private_pem, const uint8_t in[256], uint8_t out[256],
                              struct dm_error *e);
/* Undoes RSA_PAD on the raw decryption of encrypted_data: data gets the 192 bytes of data and
 * random padding (TL decoding of p_q_inner_data stops where the data ends). DM_ECRYPTO when the
 * hash does not check. */
dm_err crypto_rsa_pad_unwrap(const uint8_t raw[256], uint8_t data[192], struct dm_error *e);

/* ---- handshake math ---- */
/* Splits pq (a product of two primes) into p < q (Pollard-Brent rho). */
dm_err crypto_factorize(uint64_t pq, uint32_t *p, uint32_t *q, struct dm_error *e);
/* tmp_aes_key / tmp_aes_iv from new_nonce and server_nonce (auth_key §6). */
void crypto_tmp_aes(const uint8_t new_nonce[32], const uint8_t server_nonce[16], uint8_t key[32],
                    uint8_t iv[32]);
/* new_nonce_hash1/2/3: the low 128 bits of SHA1(new_nonce + number + auth_key_aux_hash). */
void crypto_new_nonce_hash(const uint8_t new_nonce[32], int number, const uint8_t auth_key[256],
                           uint8_t out[16]);
/* The 2048-bit safe prime Telegram's servers use (with g = 3); tgsim serves it too. */
extern const uint8_t crypto_dh_prime[256];
/* dh_prime must be a 2048-bit safe prime (the well-known one, or one that passes primality
 * tests for p and (p-1)/2) for which g (2..7) generates the subgroup of order (p-1)/2. */
dm_err crypto_dh_check_prime(const uint8_t *prime, size_t len, int g, struct dm_error *e);
/* 1 < v < p - 1 and 2^(2048-64) <= v <= p - 2^(2048-64). */
dm_err crypto_dh_check_value(const uint8_t *v, size_t v_len, const uint8_t prime[256],
                             const char *what, struct dm_error *e);
/* out (256 bytes, big-endian, left-padded) = base^exp mod prime. */
dm_err crypto_mod_exp(const uint8_t *base, size_t base_len, const uint8_t *exp, size_t exp_len,
                      const uint8_t prime[256], uint8_t out[256], struct dm_error *e);

/* ---- SRP for 2FA (core.telegram.org/api/srp) ---- */
struct crypto_srp_input {
    const uint8_t *salt1,
        *salt2; /* from passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow */
    size_t salt1_len, salt2_len;
    int g;
    const uint8_t *p; /* 256 bytes */
    const uint8_t *srp_B;
    size_t srp_B_len;
};
/* The password hash x = PH2(password, salt1, salt2) (32 bytes). */
void crypto_srp_password_hash(const char *password, const uint8_t *salt1, size_t salt1_len,
                              const uint8_t *salt2, size_t salt2_len, uint8_t x[32]);
/* Computes A and M1 for inputCheckPasswordSRP; a is 256 random bytes from rnd. */
dm_err crypto_srp_check(const struct crypto_srp_input *in, const char *password,
                        crypto_random_fn rnd, void *rnd_ctx, uint8_t A[256], uint8_t M1[32],
                        struct dm_error *e);

#endif
