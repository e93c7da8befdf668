/* webapp.c: a Mini App's launch as Telegram makes it (see webapp.h). */
#include "core/common.h"
#include "sim/webapp.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sodium.h>

/* Appends s percent-encoded (everything but unreserved characters), as URLSearchParams and
 * Telegram's clients encode launch parameters. */
static dm_err put_encoded(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    dm_err e = DM_OK;
    for (const unsigned char *p = (const unsigned char *)s; *p && !e; p++) {
        if (isalnum(*p) || strchr("-_.~", *p)) {
            e = buf_append(b, (const char *)p, 1);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            e = buf_append(b, esc, 3);
        }
    }
    return e;
}

static json_t *user_json(const struct sim_user *u)
{
    json_t *o = json_pack("{s:I,s:s}", "id", (json_int_t)u->id, "first_name", u->first_name);
    if (u->last_name) json_object_set_new(o, "last_name", json_string(u->last_name));
    if (u->username) json_object_set_new(o, "username", json_string(u->username));
    if (u->language_code) json_object_set_new(o, "language_code", json_string(u->language_code));
    if (u->is_premium) json_object_set_new(o, "is_premium", json_true());
    json_object_set_new(o, "allows_write_to_pm", json_true());
    return o;
}

dm_err sim_webapp_open(const struct sim_webapp_launch *l, struct buf *data, struct buf *url)
{
    if (sodium_init() < 0) return DM_ECRYPTO;
    json_t *u = user_json(l->user);
    char *user = json_dumps(u, JSON_COMPACT);
    json_decref(u);
    if (!user) return DM_ENOMEM;
    unsigned char qid[12];
    RAND_bytes(qid, sizeof qid);
    char query_id[32] = "AAH";
    for (size_t i = 0; i < sizeof qid; i++)
        snprintf(query_id + 3 + 2 * i, 3, "%02x", qid[i]);
    char auth[24];
    snprintf(auth, sizeof auth, "%" PRId64, l->auth_date);
    /* signature: Ed25519 over "<bot_id>:WebAppData\n" and the fields but hash and signature
     * (core.telegram.org/bots/webapps, "Validating data for third-party use"), with a key of
     * tgsim's own made per launch (nobody here checks it against Telegram's public key); it is
     * itself one of the fields the hash covers */
    struct buf check;
    buf_init(&check, 8192);
    dm_err e = buf_printf(&check, "%" PRId64 ":WebAppData\nauth_date=%s\nquery_id=%s\nuser=%s",
                          l->bot->id, auth, query_id, user);
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char sig[crypto_sign_BYTES];
    char signature[sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
                                             sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    crypto_sign_keypair(pk, sk);
    if (!e) crypto_sign_detached(sig, NULL, (const unsigned char *)check.data, check.len, sk);
    sodium_memzero(sk, sizeof sk);
    sodium_bin2base64(signature, sizeof signature, sig, sizeof sig,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    /* the hash's data-check string: every field but hash, sorted by key ("signature" too) */
    buf_reset(&check);
    if (!e)
        e = buf_printf(&check, "auth_date=%s\nquery_id=%s\nsignature=%s\nuser=%s", auth, query_id,
                       signature, user);
    unsigned char secret[32], mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), "WebAppData", 10, (const unsigned char *)l->bot->token,
         strlen(l->bot->token), secret, &n);
    if (!e)
        HMAC(EVP_sha256(), secret, sizeof secret, (const unsigned char *)check.data, check.len, mac,
             &n);
    char hash[65];
    for (size_t i = 0; i < sizeof mac; i++)
        snprintf(hash + 2 * i, 3, "%02x", mac[i]);
    buf_release(&check);
    buf_reset(data);
    buf_reset(url);
    if (!e) e = buf_printf(data, "query_id=%s&user=", query_id);
    if (!e) e = put_encoded(data, user);
    if (!e)
        e = buf_printf(data, "&auth_date=%s&signature=%s&hash=%s", auth, signature,
                       l->hash ? l->hash : hash);
    if (!e) e = buf_printf(url, "%s#tgWebAppData=", l->url);
    if (!e) e = put_encoded(url, data->data);
    if (!e) e = buf_printf(url, "&tgWebAppVersion=" SIM_WEBAPP_VERSION "&tgWebAppPlatform=");
    if (!e) e = put_encoded(url, l->platform);
    if (!e) e = buf_puts(url, "&tgWebAppThemeParams=");
    if (!e) e = put_encoded(url, l->theme);
    free(user);
    return e;
}
