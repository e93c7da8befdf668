#include "core/common.h"
#include "core/secret.h"

#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>

#define SEAL_PREFIX "v1:"
#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

dm_err secret_init(void)
{
    return sodium_init() < 0 ? DM_ECRYPTO : DM_OK;
}

static dm_err key_from_hex(const char *hex, struct secret_key *out)
{
    size_t bin_len = 0;
    const char *end = NULL;
    if (strlen(hex) != 2 * SECRET_KEY_BYTES) return DM_EINVAL;
    if (sodium_hex2bin(out->k, sizeof out->k, hex, strlen(hex), NULL, &bin_len, &end) != 0 ||
        bin_len != SECRET_KEY_BYTES)
        return DM_EINVAL;
    return DM_OK;
}

dm_err secret_load_master(const char *data_dir, struct secret_key *out, struct dm_error *err)
{
    const char *env = getenv("DOORMAN_SECRET_KEY");
    if (env && *env) {
        if (key_from_hex(env, out))
            return dm_fail(err, DM_EINVAL, "DOORMAN_SECRET_KEY must be 64 hex digits (32 bytes)");
        return DM_OK;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/secret.key", data_dir);
    char hex[2 * SECRET_KEY_BYTES + 2];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, hex, sizeof hex - 1);
        close(fd);
        if (n < 2 * SECRET_KEY_BYTES)
            return dm_fail(err, DM_EINVAL, "%s is damaged: expected 64 hex digits", path);
        hex[2 * SECRET_KEY_BYTES] = 0;
        if (key_from_hex(hex, out))
            return dm_fail(err, DM_EINVAL, "%s is damaged: expected 64 hex digits", path);
        return DM_OK;
    }
    if (errno != ENOENT) return dm_fail(err, DM_EIO, "cannot read %s: %s", path, strerror(errno));
    randombytes_buf(out->k, sizeof out->k);
    sodium_bin2hex(hex, sizeof hex, out->k, sizeof out->k);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return dm_fail(err, DM_EIO, "cannot create %s: %s", path, strerror(errno));
    hex[2 * SECRET_KEY_BYTES] = '\n';
    ssize_t w = write(fd, hex, 2 * SECRET_KEY_BYTES + 1);
    int sync_rc = fsync(fd);
    close(fd);
    secret_wipe(hex, sizeof hex);
    if (w != 2 * SECRET_KEY_BYTES + 1 || sync_rc != 0) {
        unlink(path);
        return dm_fail(err, DM_EIO, "cannot write %s", path);
    }
    return DM_OK;
}

dm_err secret_seal(const struct secret_key *key, const void *plain, size_t len, char **out)
{
    size_t raw_len = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + len +
                     crypto_aead_xchacha20poly1305_ietf_ABYTES;
    unsigned char *raw = malloc(raw_len);
    if (!raw) return DM_ENOMEM;
    randombytes_buf(raw, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(raw + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                               &clen, plain, len, NULL, 0, NULL, raw, key->k);
    size_t b64_len = sodium_base64_ENCODED_LEN(raw_len, B64_VARIANT);
    char *text = malloc(strlen(SEAL_PREFIX) + b64_len);
    if (!text) {
        free(raw);
        return DM_ENOMEM;
    }
    memcpy(text, SEAL_PREFIX, strlen(SEAL_PREFIX));
    sodium_bin2base64(text + strlen(SEAL_PREFIX), b64_len, raw, raw_len, B64_VARIANT);
    free(raw);
    *out = text;
    return DM_OK;
}

dm_err secret_open(const struct secret_key *key, const char *sealed, char **out, size_t *len)
{
    if (strncmp(sealed, SEAL_PREFIX, strlen(SEAL_PREFIX)) != 0) return DM_ECRYPTO;
    const char *b64 = sealed + strlen(SEAL_PREFIX);
    size_t b64_len = strlen(b64);
    unsigned char *raw = malloc(b64_len + 1);
    if (!raw) return DM_ENOMEM;
    size_t raw_len = 0;
    if (sodium_base642bin(raw, b64_len + 1, b64, b64_len, NULL, &raw_len, NULL, B64_VARIANT) != 0 ||
        raw_len < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                      crypto_aead_xchacha20poly1305_ietf_ABYTES) {
        free(raw);
        return DM_ECRYPTO;
    }
    size_t clen = raw_len - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    char *plain = malloc(clen + 1);
    if (!plain) {
        free(raw);
        return DM_ENOMEM;
    }
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            (unsigned char *)plain, &plen, NULL, raw + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
            clen, NULL, 0, raw, key->k) != 0) {
        free(raw);
        free(plain);
        return DM_ECRYPTO;
    }
    free(raw);
    plain[plen] = 0;
    *out = plain;
    if (len) *len = (size_t)plen;
    return DM_OK;
}

/* Each hash takes 64 MiB (crypto_pwhash_MEMLIMIT_INTERACTIVE) while it runs: one at a time, so
 * that a burst of logins costs 64 MiB, not 64 MiB a login; the others wait their turn. */
static pthread_mutex_t hashing = PTHREAD_MUTEX_INITIALIZER;

dm_err secret_hash_password(const char *password, char out[SECRET_HASH_MAX])
{
    pthread_mutex_lock(&hashing);
    int rc = crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    pthread_mutex_unlock(&hashing);
    return rc == 0 ? DM_OK : DM_ENOMEM;
}

bool secret_verify_password(const char *hash, const char *password)
{
    pthread_mutex_lock(&hashing);
    int rc = crypto_pwhash_str_verify(hash, password, strlen(password));
    pthread_mutex_unlock(&hashing);
    return rc == 0;
}

void secret_random_hex(char *out, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw) nbytes = sizeof raw;
    randombytes_buf(raw, nbytes);
    sodium_bin2hex(out, 2 * nbytes + 1, raw, nbytes);
}

void secret_digest_hex(const char *s, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)s, strlen(s), NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

bool secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb) return false;
    return sodium_memcmp(a, b, la) == 0;
}

void secret_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}
