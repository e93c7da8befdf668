/* post.c: signed POSTs over libcurl (see post.h), the URL check and the signature. */
#include "core/common.h"
#include "alerts/post.h"
#include "alerts/text.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT); /* a failure shows as curl_easy_init's */
}

void webhook_sign(const char *secret, int64_t ts, const char *body, size_t len, char out[72])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char prefix[32];
    int n = snprintf(prefix, sizeof prefix, "%" PRId64 ".", ts);
    crypto_auth_hmacsha256_state h;
    crypto_auth_hmacsha256_init(&h, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&h, (const unsigned char *)prefix, (unsigned long long)n);
    crypto_auth_hmacsha256_update(&h, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&h, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, 65, mac, sizeof mac);
    sodium_memzero(&h, sizeof h);
}

bool alerts_url_ok(const char *url, char *why, size_t why_size)
{
    int64_t chat_id;
    if (!strncmp(url, "tg:", 3)) {
        if (alert_chat_url(url, &chat_id)) return true;
        snprintf(why, why_size, "a Telegram chat is tg: and its id, like tg:-1001234567890");
        return false;
    }
    size_t n = strlen(url);
    if (n == 0 || n >= STORE_URL_MAX) {
        snprintf(why, why_size, "url must be 1 to %d bytes", STORE_URL_MAX - 1);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f) {
            snprintf(why, why_size, "url must not contain spaces or control characters");
            return false;
        }
    pthread_once(&curl_once, curl_start);
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0];
    if (!ok)
        snprintf(why, why_size, "url is not a URL with a host, like https://example.com/hook");
    else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        ok = false, snprintf(why, why_size, "url must start with http:// or https://");
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

/* A receiver's answer is read and forgotten: only its status counts. */
static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * nmemb;
}

dm_err post_signed(const char *url, const char *secret, const struct store_delivery *d,
                   unsigned timeout_s, int *status, struct dm_error *err)
{
    *status = 0;
    pthread_once(&curl_once, curl_start);
    CURL *h = curl_easy_init();
    if (!h) return dm_fail(err, DM_ENOMEM, "out of memory");
    int64_t ts = (int64_t)time(NULL);
    size_t len = strlen(d->body);
    char sig[72], line[128];
    webhook_sign(secret, ts, d->body, len, sig);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(line, sizeof line, "X-Doorman-Signature: %s", sig);
    hd = curl_slist_append(hd, line);
    snprintf(line, sizeof line, "X-Doorman-Timestamp: %" PRId64, ts);
    hd = curl_slist_append(hd, line);
    snprintf(line, sizeof line, "X-Doorman-Event: %s", event_kind_name(d->kind));
    hd = curl_slist_append(hd, line);
    snprintf(line, sizeof line, "X-Doorman-Delivery: %" PRId64, d->id);
    hd = curl_slist_append(hd, line);
    hd = curl_slist_append(hd, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)timeout_s);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)DM_MIN(timeout_s, 10u));
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "doorman-webhook");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    *status = (int)code;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return dm_fail(err, DM_ETIMEOUT, "no answer within %u s", timeout_s);
    if (rc != CURLE_OK)
        return dm_fail(err, DM_ENETWORK, "could not be reached: %s", curl_easy_strerror(rc));
    if (code < 200 || code > 299)
        return dm_fail(err, DM_EPROTO, "answered HTTP %ld (a 2xx answer is needed)", code);
    return DM_OK;
}
