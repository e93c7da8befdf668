#include "core/common.h"

#include "mtproto/crypto.h"
#include "mtproto/tl_codec.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

dm_err crypto_random(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    if (n > INT_MAX || RAND_bytes(out, (int)n) != 1) return DM_ECRYPTO;
    return DM_OK;
}

/* ---- hashes ---- */

static void digest(const EVP_MD *md, uint8_t *out, const struct crypto_part *parts, size_t count)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c) abort(); /* allocation of a few bytes; nothing sensible to return */
    EVP_DigestInit_ex(c, md, NULL);
    for (size_t i = 0; i < count; i++)
        EVP_DigestUpdate(c, parts[i].p, parts[i].n);
    EVP_DigestFinal_ex(c, out, NULL);
    EVP_MD_CTX_free(c);
}

void crypto_sha1(uint8_t out[20], const struct crypto_part *parts, size_t count)
{
    digest(EVP_sha1(), out, parts, count);
}

void crypto_sha256(uint8_t out[32], const struct crypto_part *parts, size_t count)
{
    digest(EVP_sha256(), out, parts, count);
}

/* ---- AES-256-IGE on top of AES-256-ECB ---- */

dm_err crypto_aes_ige(bool encrypt, const uint8_t key[32], const uint8_t iv[32], const uint8_t *in,
                      uint8_t *out, size_t len)
{
    if (len % 16) return DM_EINVAL;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (!c) return DM_ENOMEM;
    dm_err rc = DM_OK;
    if (EVP_CipherInit_ex(c, EVP_aes_256_ecb(), NULL, key, NULL, encrypt ? 1 : 0) != 1 ||
        EVP_CIPHER_CTX_set_padding(c, 0) != 1) {
        EVP_CIPHER_CTX_free(c);
        return DM_ECRYPTO;
    }
    /* encrypt: c_i = E(p_i ^ c_{i-1}) ^ p_{i-1}, with c_0 = iv[0..16), p_0 = iv[16..32)
     * decrypt: p_i = D(c_i ^ p_{i-1}) ^ c_{i-1} */
    uint8_t prev_x[16], prev_y[16], blk[16], res[16], cur[16];
    memcpy(prev_x, encrypt ? iv : iv + 16, 16); /* xored into the input */
    memcpy(prev_y, encrypt ? iv + 16 : iv, 16); /* xored into the output */
    for (size_t off = 0; off < len; off += 16) {
        memcpy(cur, in + off, 16);
        for (int i = 0; i < 16; i++)
            blk[i] = cur[i] ^ prev_x[i];
        int outl = 0;
        if (EVP_CipherUpdate(c, res, &outl, blk, 16) != 1 || outl != 16) {
            rc = DM_ECRYPTO;
            break;
        }
        for (int i = 0; i < 16; i++)
            res[i] ^= prev_y[i];
        memcpy(out + off, res, 16);
        memcpy(prev_x, res, 16);
        memcpy(prev_y, cur, 16);
    }
    OPENSSL_cleanse(blk, sizeof blk);
    OPENSSL_cleanse(res, sizeof res);
    OPENSSL_cleanse(cur, sizeof cur);
    EVP_CIPHER_CTX_free(c);
    return rc;
}

/* ---- MTProto 2.0 message encryption ---- */

uint64_t crypto_auth_key_id(const uint8_t auth_key[256])
{
    uint8_t h[20];
    crypto_sha1(h, &(struct crypto_part){auth_key, 256}, 1);
    return tl_read_u64(h + 12);
}

void crypto_msg_kdf(const uint8_t auth_key[256], const uint8_t msg_key[16], int x, uint8_t key[32],
                    uint8_t iv[32])
{
    uint8_t a[32], b[32];
    crypto_sha256(a, (struct crypto_part[]){{msg_key, 16}, {auth_key + x, 36}}, 2);
    crypto_sha256(b, (struct crypto_part[]){{auth_key + 40 + x, 36}, {msg_key, 16}}, 2);
    memcpy(key, a, 8);
    memcpy(key + 8, b + 8, 16);
    memcpy(key + 24, a + 24, 8);
    memcpy(iv, b, 8);
    memcpy(iv + 8, a + 8, 16);
    memcpy(iv + 24, b + 24, 8);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
}

dm_err crypto_msg_encrypt(const uint8_t auth_key[256], int x, const uint8_t *plain, size_t len,
                          unsigned extra_pad_blocks, crypto_random_fn rnd, void *rnd_ctx,
                          struct buf *out, struct dm_error *e)
{
    if (len % 4 || len < 32)
        return dm_fail(e, DM_EINVAL, "MTProto: message of %zu bytes is malformed", len);
    size_t pad = 12 + (16 - (len + 12) % 16) % 16 + 16 * (size_t)extra_pad_blocks;
    if (pad > 1024) return dm_fail(e, DM_EINVAL, "MTProto: padding of %zu bytes is over 1024", pad);
    size_t total = len + pad;
    uint8_t *tmp = malloc(total);
    if (!tmp) return dm_fail(e, DM_ENOMEM, "MTProto: out of memory");
    memcpy(tmp, plain, len);
    dm_err rc = rnd(rnd_ctx, tmp + len, pad);
    if (rc) {
        free(tmp);
        return dm_fail(e, DM_ECRYPTO, "MTProto: no random bytes for padding");
    }
    uint8_t large[32], key[32], iv[32];
    crypto_sha256(large, (struct crypto_part[]){{auth_key + 88 + x, 32}, {tmp, total}}, 2);
    const uint8_t *msg_key = large + 8;
    crypto_msg_kdf(auth_key, msg_key, x, key, iv);
    size_t start = out->len;
    rc = tl_put_u64(out, crypto_auth_key_id(auth_key));
    if (!rc) rc = buf_append(out, msg_key, 16);
    if (!rc) rc = buf_append(out, tmp, total); /* room, then encrypt in place */
    if (!rc)
        rc = crypto_aes_ige(true, key, iv, tmp, (uint8_t *)out->data + out->len - total, total);
    if (rc) {
        out->len = start;
        dm_fail(e, rc, "MTProto: cannot encrypt a message of %zu bytes", len);
    }
    OPENSSL_cleanse(tmp, total);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(iv, sizeof iv);
    free(tmp);
    return rc;
}

dm_err crypto_msg_decrypt(const uint8_t auth_key[256], int x, const uint8_t *msg, size_t len,
                          struct buf *plain, size_t *msg_len, struct dm_error *e)
{
    if (len < 24 + 48 || (len - 24) % 16)
        return dm_fail(e, DM_ECRYPTO, "MTProto: encrypted message of %zu bytes is malformed", len);
    if (tl_read_u64(msg) != crypto_auth_key_id(auth_key))
        return dm_fail(e, DM_ECRYPTO, "MTProto: message for another auth key");
    const uint8_t *msg_key = msg + 8;
    size_t n = len - 24;
    uint8_t key[32], iv[32], large[32];
    crypto_msg_kdf(auth_key, msg_key, x, key, iv);
    buf_reset(plain);
    dm_err rc = buf_append(plain, msg + 24, n);
    if (rc) return dm_fail(e, rc, "MTProto: message of %zu bytes is too large", n);
    uint8_t *p = (uint8_t *)plain->data;
    rc = crypto_aes_ige(false, key, iv, p, p, n);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(iv, sizeof iv);
    if (rc) return dm_fail(e, rc, "MTProto: decryption failed");
    crypto_sha256(large, (struct crypto_part[]){{auth_key + 88 + x, 32}, {p, n}}, 2);
    if (CRYPTO_memcmp(large + 8, msg_key, 16) != 0)
        return dm_fail(e, DM_ECRYPTO, "MTProto: msg_key does not match the decrypted message");
    /* salt(8) session_id(8) msg_id(8) seqno(4) length(4) body(length) padding(12..1024) */
    uint32_t body = tl_read_u32(p + 28);
    if (body % 4 || body > n - 32 || n - 32 - body < 12 || n - 32 - body > 1024)
        return dm_fail(e, DM_ECRYPTO, "MTProto: inner length %" PRIu32 " does not fit %zu bytes",
                       body, n);
    *msg_len = 32 + (size_t)body;
    return DM_OK;
}

/* ---- MTProto 1.0 ---- */

/* The AES key and iv of MTProto 1.0 for msg_key (x = 0: from the client). */
static void v1_kdf(const uint8_t auth_key[256], const uint8_t msg_key[16], uint8_t key[32],
                   uint8_t iv[32])
{
    uint8_t a[20], b[20], c[20], d[20];
    crypto_sha1(a, (struct crypto_part[]){{msg_key, 16}, {auth_key, 32}}, 2);
    crypto_sha1(b, (struct crypto_part[]){{auth_key + 32, 16}, {msg_key, 16}, {auth_key + 48, 16}},
                3);
    crypto_sha1(c, (struct crypto_part[]){{auth_key + 64, 32}, {msg_key, 16}}, 2);
    crypto_sha1(d, (struct crypto_part[]){{msg_key, 16}, {auth_key + 96, 32}}, 2);
    memcpy(key, a, 8);
    memcpy(key + 8, b + 8, 12);
    memcpy(key + 20, c + 4, 12);
    memcpy(iv, a + 8, 12);
    memcpy(iv + 12, b, 8);
    memcpy(iv + 20, c + 16, 4);
    memcpy(iv + 24, d, 8);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    OPENSSL_cleanse(c, sizeof c);
    OPENSSL_cleanse(d, sizeof d);
}

dm_err crypto_v1_encrypt(const uint8_t auth_key[256], const uint8_t *plain, size_t len,
                         crypto_random_fn rnd, void *rnd_ctx, struct buf *out, struct dm_error *e)
{
    if (len % 4 || len < 32 || len > 4096)
        return dm_fail(e, DM_EINVAL, "MTProto 1.0: message of %zu bytes is malformed", len);
    size_t total = len + (16 - len % 16) % 16;
    uint8_t tmp[4096 + 16], sha[20], key[32], iv[32];
    memcpy(tmp, plain, len);
    if (rnd(rnd_ctx, tmp + len, total - len))
        return dm_fail(e, DM_ECRYPTO, "MTProto 1.0: no random bytes for padding");
    crypto_sha1(sha, &(struct crypto_part){plain, len}, 1);
    v1_kdf(auth_key, sha + 4, key, iv);
    size_t start = out->len;
    dm_err rc = tl_put_u64(out, crypto_auth_key_id(auth_key));
    if (!rc) rc = buf_append(out, sha + 4, 16);
    if (!rc) rc = buf_append(out, tmp, total);
    if (!rc)
        rc = crypto_aes_ige(true, key, iv, tmp, (uint8_t *)out->data + out->len - total, total);
    if (rc) {
        out->len = start;
        dm_fail(e, rc, "MTProto 1.0: cannot encrypt a message of %zu bytes", len);
    }
    OPENSSL_cleanse(tmp, total);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(iv, sizeof iv);
    return rc;
}

dm_err crypto_v1_decrypt(const uint8_t auth_key[256], const uint8_t *msg, size_t len,
                         struct buf *plain, struct dm_error *e)
{
    if (len < 24 + 32 || (len - 24) % 16)
        return dm_fail(e, DM_ECRYPTO, "MTProto 1.0: message of %zu bytes is malformed", len);
    if (tl_read_u64(msg) != crypto_auth_key_id(auth_key))
        return dm_fail(e, DM_ECRYPTO, "MTProto 1.0: message for another auth key");
    const uint8_t *msg_key = msg + 8;
    size_t n = len - 24;
    uint8_t key[32], iv[32], sha[20];
    v1_kdf(auth_key, msg_key, key, iv);
    buf_reset(plain);
    dm_err rc = buf_append(plain, msg + 24, n);
    uint8_t *p = (uint8_t *)plain->data;
    if (!rc) rc = crypto_aes_ige(false, key, iv, p, p, n);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(iv, sizeof iv);
    if (rc) return dm_fail(e, rc, "MTProto 1.0: decryption failed");
    uint32_t body = tl_read_u32(p + 28);
    if (body % 4 || body > n - 32 || n - 32 - body > 15)
        return dm_fail(e, DM_ECRYPTO,
                       "MTProto 1.0: inner length %" PRIu32 " does not fit %zu bytes", body, n);
    plain->len = 32 + (size_t)body;
    crypto_sha1(sha, &(struct crypto_part){p, plain->len}, 1);
    if (CRYPTO_memcmp(sha + 4, msg_key, 16) != 0)
        return dm_fail(e, DM_ECRYPTO, "MTProto 1.0: msg_key does not match the decrypted message");
    return DM_OK;
}

/* ---- big numbers ---- */

static BIGNUM *bn(const uint8_t *p, size_t n)
{
    return BN_bin2bn(p, (int)n, NULL);
}

static dm_err bn_out(const BIGNUM *v, uint8_t *out, size_t size)
{
    return BN_bn2binpad(v, out, (int)size) == (int)size ? DM_OK : DM_ECRYPTO;
}

dm_err crypto_mod_exp(const uint8_t *base, size_t base_len, const uint8_t *exp, size_t exp_len,
                      const uint8_t prime[256], uint8_t out[256], struct dm_error *e)
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *b = bn(base, base_len), *x = bn(exp, exp_len), *p = bn(prime, 256), *r = BN_new();
    dm_err rc = DM_ECRYPTO;
    if (ctx && b && x && p && r) {
        BN_set_flags(x, BN_FLG_CONSTTIME);
        if (BN_mod_exp(r, b, x, p, ctx) == 1) rc = bn_out(r, out, 256);
    }
    BN_clear_free(x);
    BN_free(b);
    BN_free(p);
    BN_clear_free(r);
    BN_CTX_free(ctx);
    return rc ? dm_fail(e, rc, "crypto: modular exponentiation failed") : DM_OK;
}

/* ---- RSA ---- */

int64_t crypto_rsa_fingerprint(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len)
{
    struct buf b;
    buf_init(&b, 1024);
    uint8_t h[20] = {0};
    if (tl_put_bytes(&b, n, n_len) == DM_OK && tl_put_bytes(&b, e, e_len) == DM_OK)
        crypto_sha1(h, &(struct crypto_part){b.data, b.len}, 1);
    buf_release(&b);
    return (int64_t)tl_read_u64(h + 12);
}

/* Fills key from n and e (OpenSSL numbers): 2048-bit moduli only. */
static dm_err rsa_key_set(const BIGNUM *n, const BIGNUM *ex, struct crypto_rsa_key *key,
                          struct dm_error *e)
{
    if (BN_num_bits(n) != 2048 || BN_is_zero(ex) || BN_num_bytes(ex) > (int)sizeof key->e)
        return dm_fail(e, DM_EINVAL, "RSA key: only 2048-bit keys are used by MTProto");
    bn_out(n, key->n, 256);
    key->e_len = (size_t)BN_num_bytes(ex);
    bn_out(ex, key->e, key->e_len);
    key->fingerprint = crypto_rsa_fingerprint(key->n, 256, key->e, key->e_len);
    return DM_OK;
}

dm_err crypto_rsa_key_from_pem(const char *pem, struct crypto_rsa_key *key, struct dm_error *e)
{
    EVP_PKEY *pk = NULL;
    OSSL_DECODER_CTX *dc =
        OSSL_DECODER_CTX_new_for_pkey(&pk, "PEM", NULL, "RSA", EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    const unsigned char *data = (const unsigned char *)pem;
    size_t len = strlen(pem);
    dm_err rc = DM_OK;
    if (!dc || OSSL_DECODER_from_data(dc, &data, &len) != 1 || !pk) {
        rc = dm_fail(e, DM_EINVAL, "RSA key: not a PEM RSA public key");
    } else {
        BIGNUM *n = NULL, *ex = NULL;
        if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
            EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &ex) != 1)
            rc = dm_fail(e, DM_EINVAL, "RSA key: not a PEM RSA public key");
        else
            rc = rsa_key_set(n, ex, key, e);
        BN_free(n);
        BN_free(ex);
    }
    EVP_PKEY_free(pk);
    OSSL_DECODER_CTX_free(dc);
    return rc;
}

dm_err crypto_rsa_key_from_raw(const uint8_t *n, size_t n_len, const uint8_t *ex, size_t e_len,
                               struct crypto_rsa_key *key, struct dm_error *e)
{
    if (n_len > 1024 || e_len > 1024)
        return dm_fail(e, DM_EINVAL, "RSA key: only 2048-bit keys are used by MTProto");
    BIGNUM *bn_n = bn(n, n_len), *bn_e = bn(ex, e_len);
    dm_err rc =
        bn_n && bn_e ? rsa_key_set(bn_n, bn_e, key, e) : dm_fail(e, DM_ENOMEM, "out of memory");
    BN_free(bn_n);
    BN_free(bn_e);
    return rc;
}

/* out = in^e mod n; DM_ECRYPTO when in >= n. */
static dm_err rsa_public_raw(const struct crypto_rsa_key *key, const uint8_t in[256],
                             uint8_t out[256])
{
    if (memcmp(in, key->n, 256) >= 0) return DM_ECRYPTO;
    return crypto_mod_exp(in, 256, key->e, key->e_len, key->n, out, NULL);
}

dm_err crypto_rsa_pad_encrypt(const struct crypto_rsa_key *key, const uint8_t *data, size_t len,
                              crypto_random_fn rnd, void *rnd_ctx, uint8_t out[256],
                              struct dm_error *e)
{
    if (len > 144) return dm_fail(e, DM_EINVAL, "RSA_PAD: %zu bytes of data, at most 144", len);
    uint8_t padded[192], block[256], temp_key[32], h[32];
    static const uint8_t zero_iv[32];
    memcpy(padded, data, len);
    if (rnd(rnd_ctx, padded + len, 192 - len))
        return dm_fail(e, DM_ECRYPTO, "RSA_PAD: no random bytes");
    dm_err rc = DM_ECRYPTO;
    for (int attempt = 0; attempt < 64; attempt++) {
        if (rnd(rnd_ctx, temp_key, 32)) break;
        uint8_t *with_hash =
            block + 32; /* data_pad_reversed + SHA256(temp_key + data_with_padding) */
        for (int i = 0; i < 192; i++)
            with_hash[i] = padded[191 - i];
        crypto_sha256(with_hash + 192, (struct crypto_part[]){{temp_key, 32}, {padded, 192}}, 2);
        if (crypto_aes_ige(true, temp_key, zero_iv, with_hash, with_hash, 224)) break;
        crypto_sha256(h, &(struct crypto_part){with_hash, 224}, 1);
        for (int i = 0; i < 32; i++)
            block[i] = temp_key[i] ^ h[i];
        if (memcmp(block, key->n, 256) >= 0) continue; /* must be below the modulus: new temp_key */
        rc = rsa_public_raw(key, block, out);
        break;
    }
    OPENSSL_cleanse(padded, sizeof padded);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(temp_key, sizeof temp_key);
    return rc ? dm_fail(e, DM_ECRYPTO, "RSA_PAD: encryption failed") : DM_OK;
}

dm_err crypto_rsa_legacy_encrypt(const struct crypto_rsa_key *key, const uint8_t *data, size_t len,
                                 crypto_random_fn rnd, void *rnd_ctx, uint8_t out[256],
                                 struct dm_error *e)
{
    if (len > 235) return dm_fail(e, DM_EINVAL, "RSA: %zu bytes of data, at most 235", len);
    uint8_t block[256];
    block[0] = 0; /* 255 bytes of SHA1 + data + padding, below any 2048-bit modulus */
    crypto_sha1(block + 1, &(struct crypto_part){data, len}, 1);
    memcpy(block + 21, data, len);
    dm_err rc = rnd(rnd_ctx, block + 21 + len, 235 - len);
    if (!rc) rc = rsa_public_raw(key, block, out);
    OPENSSL_cleanse(block, sizeof block);
    return rc ? dm_fail(e, DM_ECRYPTO, "RSA: encryption failed") : DM_OK;
}

dm_err crypto_rsa_private_raw(const char *private_pem, const uint8_t in[256], uint8_t out[256],
                              struct dm_error *e)
{
    BIO *bio = BIO_new_mem_buf(private_pem, -1);
    EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    EVP_PKEY_CTX *c = pk ? EVP_PKEY_CTX_new(pk, NULL) : NULL;
    size_t outlen = 256;
    dm_err rc = DM_OK;
    if (!c)
        rc = dm_fail(e, DM_EINVAL, "RSA: not a PEM private key");
    else if (EVP_PKEY_decrypt_init(c) != 1 ||
             EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING) != 1 ||
             EVP_PKEY_decrypt(c, out, &outlen, in, 256) != 1 || outlen != 256)
        rc = dm_fail(e, DM_ECRYPTO, "RSA: decryption failed");
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pk);
    BIO_free(bio);
    return rc;
}

dm_err crypto_rsa_pad_unwrap(const uint8_t raw[256], uint8_t data[192], struct dm_error *e)
{
    uint8_t h[32], temp_key[32], with_hash[224], check[32];
    static const uint8_t zero_iv[32];
    crypto_sha256(h, &(struct crypto_part){raw + 32, 224}, 1);
    for (int i = 0; i < 32; i++)
        temp_key[i] = raw[i] ^ h[i];
    dm_err rc = crypto_aes_ige(false, temp_key, zero_iv, raw + 32, with_hash, 224);
    for (int i = 0; i < 192; i++)
        data[i] = with_hash[191 - i];
    crypto_sha256(check, (struct crypto_part[]){{temp_key, 32}, {data, 192}}, 2);
    if (!rc && CRYPTO_memcmp(check, with_hash + 192, 32) != 0) rc = DM_ECRYPTO;
    OPENSSL_cleanse(temp_key, sizeof temp_key);
    OPENSSL_cleanse(with_hash, sizeof with_hash);
    return rc ? dm_fail(e, DM_ECRYPTO, "RSA_PAD: the hash inside encrypted_data does not check")
              : DM_OK;
}

/* ---- handshake math ---- */

static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m)
{
    return (uint64_t)((unsigned __int128)a * b % m);
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Brent's variant of Pollard's rho; returns a non-trivial factor or 0. */
static uint64_t brent(uint64_t n, uint64_t c, uint64_t y)
{
    uint64_t g = 1, r = 1, q = 1, x = 0, ys = 0;
    const uint64_t m = 128;
    while (g == 1) {
        x = y;
        for (uint64_t i = 0; i < r; i++)
            y = (mulmod(y, y, n) + c) % n;
        for (uint64_t k = 0; k < r && g == 1; k += m) {
            ys = y;
            for (uint64_t i = 0; i < m && i < r - k; i++) {
                y = (mulmod(y, y, n) + c) % n;
                q = mulmod(q, x > y ? x - y : y - x, n);
            }
            g = gcd64(q, n);
        }
        r *= 2;
        if (r > (1u << 26)) return 0;
    }
    if (g == n) {
        do {
            ys = (mulmod(ys, ys, n) + c) % n;
            g = gcd64(x > ys ? x - ys : ys - x, n);
        } while (g == 1);
    }
    return g == n ? 0 : g;
}

static uint64_t powmod(uint64_t b, uint64_t x, uint64_t m)
{
    uint64_t r = 1;
    for (b %= m; x; x >>= 1, b = mulmod(b, b, m))
        if (x & 1) r = mulmod(r, b, m);
    return r;
}

/* Deterministic Miller-Rabin for 64-bit n (these bases suffice below 2^64). */
static bool is_prime64(uint64_t n)
{
    static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
    if (n < 2) return false;
    for (size_t i = 0; i < DM_ARRAY_LEN(bases); i++)
        if (n % bases[i] == 0) return n == bases[i];
    uint64_t d = n - 1;
    int s = 0;
    while (!(d & 1))
        d >>= 1, s++;
    for (size_t i = 0; i < DM_ARRAY_LEN(bases); i++) {
        uint64_t x = powmod(bases[i], d, n);
        if (x == 1 || x == n - 1) continue;
        int r = 1;
        for (; r < s; r++)
            if ((x = mulmod(x, x, n)) == n - 1) break;
        if (r == s) return false;
    }
    return true;
}

dm_err crypto_factorize(uint64_t pq, uint32_t *p, uint32_t *q, struct dm_error *e)
{
    if (pq < 4 || is_prime64(pq))
        return dm_fail(e, DM_EPROTO, "handshake: pq %" PRIu64 " cannot be factored", pq);
    uint64_t f = 0;
    if (pq % 2 == 0) f = 2;
    for (uint64_t c = 1; !f && c < 64; c++)
        f = brent(pq, c, c * 7 + 2);
    if (!f) return dm_fail(e, DM_EPROTO, "handshake: cannot factor pq %" PRIu64, pq);
    uint64_t g = pq / f, a = DM_MIN(f, g), b = DM_MAX(f, g);
    if (b > UINT32_MAX)
        return dm_fail(e, DM_EPROTO, "handshake: pq %" PRIu64 " has a factor over 32 bits", pq);
    *p = (uint32_t)a;
    *q = (uint32_t)b;
    return DM_OK;
}

void crypto_tmp_aes(const uint8_t new_nonce[32], const uint8_t server_nonce[16], uint8_t key[32],
                    uint8_t iv[32])
{
    uint8_t ns[20], sn[20], nn[20];
    crypto_sha1(ns, (struct crypto_part[]){{new_nonce, 32}, {server_nonce, 16}}, 2);
    crypto_sha1(sn, (struct crypto_part[]){{server_nonce, 16}, {new_nonce, 32}}, 2);
    crypto_sha1(nn, (struct crypto_part[]){{new_nonce, 32}, {new_nonce, 32}}, 2);
    /* key = SHA1(new_nonce + server_nonce) + substr(SHA1(server_nonce + new_nonce), 0, 12)
     * iv = substr(SHA1(server_nonce + new_nonce), 12, 8) + SHA1(new_nonce + new_nonce) +
     * substr(new_nonce, 0, 4) */
    memcpy(key, ns, 20);
    memcpy(key + 20, sn, 12);
    memcpy(iv, sn + 12, 8);
    memcpy(iv + 8, nn, 20);
    memcpy(iv + 28, new_nonce, 4);
}

void crypto_new_nonce_hash(const uint8_t new_nonce[32], int number, const uint8_t auth_key[256],
                           uint8_t out[16])
{
    uint8_t kh[20], h[20], num = (uint8_t)number;
    crypto_sha1(kh, &(struct crypto_part){auth_key, 256}, 1);
    /* auth_key_aux_hash: the 64 higher-order bits of SHA1(auth_key) */
    crypto_sha1(h, (struct crypto_part[]){{new_nonce, 32}, {&num, 1}, {kh, 8}}, 3);
    memcpy(out, h + 4, 16);
}

/* The 2048-bit safe prime Telegram's servers use (auth_key docs, Telethon, tdlib). */
const uint8_t crypto_dh_prime[256] = {
    0xc7, 0x1c, 0xae, 0xb9, 0xc6, 0xb1, 0xc9, 0x04, 0x8e, 0x6c, 0x52, 0x2f, 0x70, 0xf1, 0x3f, 0x73,
    0x98, 0x0d, 0x40, 0x23, 0x8e, 0x3e, 0x21, 0xc1, 0x49, 0x34, 0xd0, 0x37, 0x56, 0x3d, 0x93, 0x0f,
    0x48, 0x19, 0x8a, 0x0a, 0xa7, 0xc1, 0x40, 0x58, 0x22, 0x94, 0x93, 0xd2, 0x25, 0x30, 0xf4, 0xdb,
    0xfa, 0x33, 0x6f, 0x6e, 0x0a, 0xc9, 0x25, 0x13, 0x95, 0x43, 0xae, 0xd4, 0x4c, 0xce, 0x7c, 0x37,
    0x20, 0xfd, 0x51, 0xf6, 0x94, 0x58, 0x70, 0x5a, 0xc6, 0x8c, 0xd4, 0xfe, 0x6b, 0x6b, 0x13, 0xab,
    0xdc, 0x97, 0x46, 0x51, 0x29, 0x69, 0x32, 0x84, 0x54, 0xf1, 0x8f, 0xaf, 0x8c, 0x59, 0x5f, 0x64,
    0x24, 0x77, 0xfe, 0x96, 0xbb, 0x2a, 0x94, 0x1d, 0x5b, 0xcd, 0x1d, 0x4a, 0xc8, 0xcc, 0x49, 0x88,
    0x07, 0x08, 0xfa, 0x9b, 0x37, 0x8e, 0x3c, 0x4f, 0x3a, 0x90, 0x60, 0xbe, 0xe6, 0x7c, 0xf9, 0xa4,
    0xa4, 0xa6, 0x95, 0x81, 0x10, 0x51, 0x90, 0x7e, 0x16, 0x27, 0x53, 0xb5, 0x6b, 0x0f, 0x6b, 0x41,
    0x0d, 0xba, 0x74, 0xd8, 0xa8, 0x4b, 0x2a, 0x14, 0xb3, 0x14, 0x4e, 0x0e, 0xf1, 0x28, 0x47, 0x54,
    0xfd, 0x17, 0xed, 0x95, 0x0d, 0x59, 0x65, 0xb4, 0xb9, 0xdd, 0x46, 0x58, 0x2d, 0xb1, 0x17, 0x8d,
    0x16, 0x9c, 0x6b, 0xc4, 0x65, 0xb0, 0xd6, 0xff, 0x9c, 0xa3, 0x92, 0x8f, 0xef, 0x5b, 0x9a, 0xe4,
    0xe4, 0x18, 0xfc, 0x15, 0xe8, 0x3e, 0xbe, 0xa0, 0xf8, 0x7f, 0xa9, 0xff, 0x5e, 0xed, 0x70, 0x05,
    0x0d, 0xed, 0x28, 0x49, 0xf4, 0x7b, 0xf9, 0x59, 0xd9, 0x56, 0x85, 0x0c, 0xe9, 0x29, 0x85, 0x1f,
    0x0d, 0x81, 0x15, 0xf6, 0x35, 0xb1, 0x05, 0xee, 0x2e, 0x4e, 0x15, 0xd0, 0x4b, 0x24, 0x54, 0xbf,
    0x6f, 0x4f, 0xad, 0xf0, 0x34, 0xb1, 0x04, 0x03, 0x11, 0x9c, 0xd8, 0xe3, 0xb9, 0x2f, 0xcc, 0x5b,
};

dm_err crypto_dh_check_prime(const uint8_t *prime, size_t len, int g, struct dm_error *e)
{
    if (len != 256 || !(prime[0] & 0x80))
        return dm_fail(e, DM_ECRYPTO, "DH: the prime is not 2048 bits");
    if (g < 2 || g > 7) return dm_fail(e, DM_ECRYPTO, "DH: generator %d is not in 2..7", g);
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = bn(prime, 256), *half = BN_new();
    dm_err rc = DM_OK;
    if (!ctx || !p || !half) {
        rc = dm_fail(e, DM_ENOMEM, "DH: out of memory");
        goto done;
    }
    if (memcmp(prime, crypto_dh_prime, 256) != 0) {
        if (!BN_rshift1(half, p) || BN_check_prime(p, ctx, NULL) != 1 ||
            BN_check_prime(half, ctx, NULL) != 1) {
            rc = dm_fail(e, DM_ECRYPTO, "DH: the prime is not a safe prime");
            goto done;
        }
    }
    /* g generates the subgroup of order (p-1)/2: a condition on p mod small numbers */
    BN_ULONG r;
    bool ok;
    switch (g) {
    case 2:
        ok = BN_mod_word(p, 8) == 7;
        break;
    case 3:
        ok = BN_mod_word(p, 3) == 2;
        break;
    case 4:
        ok = true;
        break;
    case 5:
        r = BN_mod_word(p, 5);
        ok = r == 1 || r == 4;
        break;
    case 6:
        r = BN_mod_word(p, 24);
        ok = r == 19 || r == 23;
        break;
    default:
        r = BN_mod_word(p, 7);
        ok = r == 3 || r == 5 || r == 6;
        break;
    }
    if (!ok) rc = dm_fail(e, DM_ECRYPTO, "DH: generator %d does not fit the prime", g);
done:
    BN_free(p);
    BN_free(half);
    BN_CTX_free(ctx);
    return rc;
}

dm_err crypto_dh_check_value(const uint8_t *v, size_t v_len, const uint8_t prime[256],
                             const char *what, struct dm_error *e)
{
    BIGNUM *x = bn(v, v_len), *p = bn(prime, 256), *lo = BN_new(), *hi = BN_new();
    dm_err rc = DM_OK;
    if (!x || !p || !lo || !hi || !BN_set_bit(lo, 2048 - 64) || !BN_sub(hi, p, lo)) {
        rc = dm_fail(e, DM_ENOMEM, "DH: out of memory");
    } else if (BN_cmp(x, lo) < 0 || BN_cmp(x, hi) > 0) {
        /* this range also gives 1 < x < p - 1 */
        rc = dm_fail(e, DM_ECRYPTO, "DH: %s is outside 2^1984 .. p - 2^1984", what);
    }
    BN_free(x);
    BN_free(p);
    BN_free(lo);
    BN_free(hi);
    return rc;
}

/* ---- SRP ---- */

/* SH(data, salt) = SHA256(salt + data + salt) */
static void srp_sh(uint8_t out[32], const uint8_t *data, size_t n, const uint8_t *salt,
                   size_t salt_len)
{
    crypto_sha256(out, (struct crypto_part[]){{salt, salt_len}, {data, n}, {salt, salt_len}}, 3);
}

void crypto_srp_password_hash(const char *password, const uint8_t *salt1, size_t salt1_len,
                              const uint8_t *salt2, size_t salt2_len, uint8_t x[32])
{
    uint8_t a[32], ph1[32], k[64];
    srp_sh(a, (const uint8_t *)password, strlen(password), salt1, salt1_len);
    srp_sh(ph1, a, 32, salt2, salt2_len);
    PKCS5_PBKDF2_HMAC((const char *)ph1, 32, salt1, (int)salt1_len, 100000, EVP_sha512(), 64, k);
    srp_sh(x, k, 64, salt2, salt2_len);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(ph1, sizeof ph1);
    OPENSSL_cleanse(k, sizeof k);
}

static void pad256(uint8_t out[256], const uint8_t *v, size_t n)
{
    memset(out, 0, 256);
    memcpy(out + 256 - n, v, n);
}

dm_err crypto_srp_check(const struct crypto_srp_input *in, const char *password,
                        crypto_random_fn rnd, void *rnd_ctx, uint8_t A[256], uint8_t M1[32],
                        struct dm_error *e)
{
    dm_err rc = crypto_dh_check_prime(in->p, 256, in->g, e);
    if (rc) return rc;
    if (in->srp_B_len == 0 || in->srp_B_len > 256)
        return dm_fail(e, DM_ECRYPTO, "SRP: srp_B has a bad size");
    uint8_t B[256], g256[256], x[32], kh[32], uh[32], a[256], S[256], K[32], hp[32], hg[32],
        hs1[32], hs2[32];
    pad256(B, in->srp_B, in->srp_B_len);
    if (memcmp(B, in->p, 256) >= 0 || crypto_dh_check_value(B, 256, in->p, "srp_B", NULL))
        return dm_fail(e, DM_ECRYPTO, "SRP: the server's srp_B is out of range");
    uint8_t gb = (uint8_t)in->g;
    pad256(g256, &gb, 1);
    crypto_srp_password_hash(password, in->salt1, in->salt1_len, in->salt2, in->salt2_len, x);
    crypto_sha256(kh, (struct crypto_part[]){{in->p, 256}, {g256, 256}}, 2);

    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = bn(in->p, 256), *g = bn(g256, 256), *bx = bn(x, 32), *k = bn(kh, 32),
           *bB = bn(B, 256);
    BIGNUM *v = BN_new(), *kv = BN_new(), *gb_ = BN_new(), *ba = BN_new(), *bA = BN_new(),
           *u = BN_new(), *ux = BN_new(), *aux = BN_new(), *s = BN_new();
    rc = DM_ECRYPTO;
    if (!ctx || !p || !g || !bx || !k || !bB || !v || !kv || !gb_ || !ba || !bA || !u || !ux ||
        !aux || !s)
        goto done;
    /* v = g^x; k v; g_b = (B - k v) mod p */
    if (!BN_mod_exp(v, g, bx, p, ctx) || !BN_mod_mul(kv, k, v, p, ctx) ||
        !BN_mod_sub(gb_, bB, kv, p, ctx))
        goto done;
    for (int attempt = 0;; attempt++) {
        if (attempt == 16 || rnd(rnd_ctx, a, 256)) goto done;
        if (!BN_bin2bn(a, 256, ba) || !BN_mod_exp(bA, g, ba, p, ctx) || bn_out(bA, A, 256))
            goto done;
        if (crypto_dh_check_value(A, 256, in->p, "A", NULL)) continue;
        crypto_sha256(uh, (struct crypto_part[]){{A, 256}, {B, 256}}, 2);
        if (!BN_bin2bn(uh, 32, u)) goto done;
        if (!BN_is_zero(u)) break;
    }
    {
        uint8_t gbb[256];
        if (bn_out(gb_, gbb, 256) || crypto_dh_check_value(gbb, 256, in->p, "g_b", NULL)) {
            rc = dm_fail(e, DM_ECRYPTO, "SRP: the server's srp_B gives a bad g_b");
            goto done_quiet;
        }
    }
    /* S = g_b^(a + u x) mod p; K = H(S); M1 = H(H(p) xor H(g) | H(salt1) | H(salt2) | A | B | K) */
    if (!BN_mul(ux, u, bx, ctx) || !BN_add(aux, ba, ux) || !BN_mod_exp(s, gb_, aux, p, ctx) ||
        bn_out(s, S, 256))
        goto done;
    crypto_sha256(K, &(struct crypto_part){S, 256}, 1);
    crypto_sha256(hp, &(struct crypto_part){in->p, 256}, 1);
    crypto_sha256(hg, &(struct crypto_part){g256, 256}, 1);
    for (int i = 0; i < 32; i++)
        hp[i] ^= hg[i];
    crypto_sha256(hs1, &(struct crypto_part){in->salt1, in->salt1_len}, 1);
    crypto_sha256(hs2, &(struct crypto_part){in->salt2, in->salt2_len}, 1);
    crypto_sha256(
        M1, (struct crypto_part[]){{hp, 32}, {hs1, 32}, {hs2, 32}, {A, 256}, {B, 256}, {K, 32}}, 6);
    rc = DM_OK;
done:
    if (rc) dm_fail(e, rc, "SRP: computation failed");
done_quiet:
    OPENSSL_cleanse(x, sizeof x);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(S, sizeof S);
    OPENSSL_cleanse(K, sizeof K);
    BN_CTX_free(ctx);
    BN_free(p);
    BN_free(g);
    BN_clear_free(bx);
    BN_free(k);
    BN_free(bB);
    BN_clear_free(v);
    BN_clear_free(kv);
    BN_free(gb_);
    BN_clear_free(ba);
    BN_free(bA);
    BN_free(u);
    BN_clear_free(ux);
    BN_clear_free(aux);
    BN_clear_free(s);
    return rc;
}
