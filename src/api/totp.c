/* totp.c: see totp.h. HMAC-SHA-1 is OpenSSL's. */
#include "core/common.h"
#include "api/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void totp_base32(const unsigned char *key, size_t n, char out[TOTP_BASE32_MAX])
{
    size_t o = 0;
    unsigned bits = 0, acc = 0;
    for (size_t i = 0; i < n && i < 32; i++) {
        acc = (acc << 8) | key[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = alphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) out[o++] = alphabet[(acc << (5 - bits)) & 31];
    out[o] = 0;
}

/* The bytes of base32 text s (case-insensitive, no padding) into out (up to max); -1 when s
 * holds anything else. */
static int base32_decode(const char *s, unsigned char *out, size_t max)
{
    size_t n = 0;
    unsigned bits = 0, acc = 0;
    for (; *s; s++) {
        char ch = (char)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s);
        const char *at = strchr(alphabet, ch);
        if (!ch || !at) return -1;
        acc = (acc << 5) | (unsigned)(at - alphabet);
        bits += 5;
        if (bits >= 8) {
            if (n == max) return -1;
            out[n++] = (unsigned char)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    return (int)n;
}

int totp_code(const char *secret, int64_t step)
{
    unsigned char key[40];
    int n = base32_decode(secret, key, sizeof key);
    if (n <= 0) return -1;
    unsigned char msg[8];
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(step & 0xff);
        step >>= 8;
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha1(), key, n, msg, sizeof msg, mac, &len) || len < 20) return -1;
    int off = mac[len - 1] & 0x0f; /* RFC 4226, dynamic truncation */
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
    return (int)(bin % 1000000);
}

bool totp_check(const char *secret, const char *code, int64_t now, int64_t *step)
{
    if (strlen(code) != 6 || strspn(code, "0123456789") != 6) return false;
    int want = (int)strtol(code, NULL, 10);
    int64_t at = now / TOTP_STEP;
    for (int64_t d = -1; d <= 1; d++) {
        int got = totp_code(secret, at + d);
        if (got >= 0 && got == want) {
            *step = at + d;
            return true;
        }
    }
    return false;
}
