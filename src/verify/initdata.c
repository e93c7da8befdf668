/* initdata.c: checking a Mini App's launch data (see initdata.h). */
#include "core/common.h"
#include "verify/initdata.h"

#include <ctype.h>
#include <jansson.h>
#include <sodium.h>

#define FIELDS_MAX 32

struct field {
    char *key, *value; /* decoded, NUL-ended, inside one buffer */
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* URL-decodes s[0..n) in place ('+' is a space, as a form's encoding has it); its new length, or
 * -1 for a bad escape. */
static long url_decode(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n + 0 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) return -1;
            s[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            s[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    s[o] = 0;
    return (long)o;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct field *)a)->key, ((const struct field *)b)->key);
}

static void hmac(const unsigned char *key, size_t klen, const char *msg, size_t mlen,
                 unsigned char out[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, mlen);
    crypto_auth_hmacsha256_final(&st, out);
}

/* The user object's fields into out. */
static dm_err read_user(const char *json, struct initdata *out, struct dm_error *err)
{
    json_t *u = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    json_t *id = json_object_get(u, "id");
    if (!json_is_integer(id) || json_integer_value(id) <= 0) {
        json_decref(u);
        return dm_fail(err, DM_EINVAL, "The launch data names no Telegram user.");
    }
    out->user_id = json_integer_value(id);
    struct {
        const char *key;
        char *dst;
        size_t size;
    } texts[] = {{"first_name", out->first_name, sizeof out->first_name},
                 {"last_name", out->last_name, sizeof out->last_name},
                 {"username", out->username, sizeof out->username},
                 {"language_code", out->language_code, sizeof out->language_code}};
    for (size_t i = 0; i < DM_ARRAY_LEN(texts); i++) {
        const char *t = json_string_value(json_object_get(u, texts[i].key));
        dm_snprintf_utf8(texts[i].dst, texts[i].size, "%s", t ? t : "");
    }
    json_decref(u);
    return DM_OK;
}

dm_err initdata_check(const char *data, size_t len, const char *bot_token, int64_t now,
                      int64_t max_age, struct initdata *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    if (len == 0) return dm_fail(err, DM_EINVAL, "No launch data: open this page from Telegram.");
    if (len > INITDATA_MAX)
        return dm_fail(err, DM_EINVAL, "The launch data is too long (%d bytes at most).",
                       INITDATA_MAX);
    char *buf = malloc(len + 1), *check = malloc(len + 1);
    if (!buf || !check) {
        free(buf);
        free(check);
        return dm_fail(err, DM_ENOMEM, "out of memory");
    }
    memcpy(buf, data, len);
    buf[len] = 0;
    struct field f[FIELDS_MAX];
    size_t n = 0;
    const char *hash = NULL, *user = NULL, *auth = NULL;
    dm_err e = DM_OK;
    for (char *p = buf; *p && !e;) {
        char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq || n == FIELDS_MAX) {
            e = dm_fail(err, DM_EINVAL, "The launch data is malformed.");
            break;
        }
        *eq = 0;
        if (amp) *amp = 0;
        if (url_decode(p, (size_t)(eq - p)) < 0 || url_decode(eq + 1, (size_t)(end - eq - 1)) < 0)
            e = dm_fail(err, DM_EINVAL, "The launch data is malformed (a bad %% escape).");
        for (size_t i = 0; !e && i < n; i++)
            if (strcmp(f[i].key, p) == 0)
                e = dm_fail(err, DM_EINVAL, "The launch data names a field twice.");
        if (!e && strcmp(p, "hash") == 0)
            hash = eq + 1;
        else if (!e)
            f[n++] = (struct field){p, eq + 1};
        if (!e && strcmp(p, "user") == 0) user = eq + 1;
        if (!e && strcmp(p, "auth_date") == 0) auth = eq + 1;
        p = amp ? amp + 1 : end;
    }
    if (!e && (!hash || strlen(hash) != 64))
        e = dm_fail(err, DM_EINVAL, "The launch data is not signed (no hash).");
    if (!e) { /* the data-check string: the fields sorted, "\n" between */
        qsort(f, n, sizeof *f, by_key);
        size_t o = 0;
        for (size_t i = 0; i < n; i++)
            o += (size_t)snprintf(check + o, len + 1 - o, "%s%s=%s", i ? "\n" : "", f[i].key,
                                  f[i].value);
        unsigned char secret[crypto_auth_hmacsha256_BYTES], want[crypto_auth_hmacsha256_BYTES];
        hmac((const unsigned char *)"WebAppData", 10, bot_token, strlen(bot_token), secret);
        hmac(secret, sizeof secret, check, o, want);
        char hex[65];
        sodium_bin2hex(hex, sizeof hex, want, sizeof want);
        char got[65];
        for (int i = 0; i < 65; i++)
            got[i] = (char)tolower((unsigned char)hash[i]);
        if (sodium_memcmp(hex, got, 64) != 0)
            e = dm_fail(err, DM_EAUTH,
                        "The launch data is not signed by this bot: open the page "
                        "again from Telegram.");
        else
            memcpy(out->hash, got, 65);
    }
    if (!e) {
        char *endp = NULL;
        long long at = auth ? strtoll(auth, &endp, 10) : 0;
        if (!auth || !*auth || *endp || at <= 0)
            e = dm_fail(err, DM_EINVAL, "The launch data has no auth_date.");
        else if (now - at > max_age || at - now > 60)
            e = dm_fail(err, DM_ETIMEOUT,
                        "The launch data is too old: close this page and open it again from "
                        "Telegram.");
        out->auth_date = at;
    }
    if (!e)
        e = user ? read_user(user, out, err)
                 : dm_fail(err, DM_EINVAL, "The launch data names no Telegram user.");
    free(buf);
    free(check);
    return e;
}
