#include "core/common.h"
#include "sim/webhook.h"

#include "sim/botapi.h"

#include <curl/curl.h>

#define BACKOFF_MIN_S 0.2
#define BACKOFF_MAX_S 10.0
#define POST_TIMEOUT_MS 10000L

bool webhook_check_url(const char *url, char *msg, size_t n)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = false;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0)) {
        ok = strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
             strncmp(host, "127.", 4) == 0;
        if (!ok)
            snprintf(msg, n,
                     "Bad Request: bad webhook: tgsim delivers only to loopback hosts "
                     "(localhost, 127.0.0.0/8, [::1])");
    } else {
        snprintf(msg, n,
                 "Bad Request: bad webhook: An HTTP or HTTPS URL must be provided for webhook");
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

struct hook {
    struct world *w;
    struct sim_bot *b;
};

static size_t discard(char *p, size_t size, size_t nmemb, void *ud)
{
    return size * nmemb;
}

/* Aborts a transfer when tgsim stops. */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct world *w = ud;
    return __atomic_load_n(&w->stopping, __ATOMIC_RELAXED) ? 1 : 0;
}

/* POSTs body; returns true on a 2xx answer, else describes the failure in msg. */
static bool post(CURL *curl, struct world *w, const char *url, const char *secret, const char *body,
                 char *msg, size_t n)
{
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    char line[300];
    if (secret) {
        snprintf(line, sizeof line, "X-Telegram-Bot-Api-Secret-Token: %s", secret);
        hdrs = curl_slist_append(hdrs, line);
    }
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, POST_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, w);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK) {
        snprintf(msg, n, "%s", curl_easy_strerror(rc));
        return false;
    }
    if (status < 200 || status > 299) {
        snprintf(msg, n, "Wrong response from the webhook: %ld", status);
        return false;
    }
    return true;
}

static struct timespec mono_after(double secs)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + secs;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    return ts;
}

static void *hook_main(void *arg)
{
    struct hook h = *(struct hook *)arg;
    free(arg);
    struct world *w = h.w;
    struct sim_bot *b = h.b;
    CURL *curl = curl_easy_init();
    double backoff = 0, retry_at = 0;
    world_lock(w);
    while (!w->stopping) {
        if (!b->webhook_url || world_bot_pending(b) == 0) {
            struct timespec later = mono_after(60);
            world_bot_wait(w, b, &later);
            continue;
        }
        if (world_mono() < retry_at) {
            struct timespec at = mono_after(retry_at - world_mono());
            world_bot_wait(w, b, &at);
            continue;
        }
        struct sim_update u = b->q[b->qhead];
        json_t *j = botapi_update_json(w, &u);
        char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        char *url = strdup(b->webhook_url);
        char *secret = b->webhook_secret ? strdup(b->webhook_secret) : NULL;
        bool ready = body && url && curl && (!b->webhook_secret || secret);
        world_unlock(w);
        char msg[256] = "out of memory";
        bool ok = ready && post(curl, w, url, secret, body, msg, sizeof msg);
        free(body);
        free(url);
        free(secret);
        world_lock(w);
        if (ok) {
            world_bot_confirm(b, u.id + 1);
            b->hook_delivered++;
            backoff = 0;
        } else if (!w->stopping) {
            b->hook_failed_attempts++;
            b->hook_last_error_date = world_now();
            dm_strlcpy(b->hook_last_error, msg, sizeof b->hook_last_error);
            backoff = backoff ? DM_MIN(backoff * 2, BACKOFF_MAX_S) : BACKOFF_MIN_S;
            retry_at = world_mono() + backoff;
        }
    }
    world_unlock(w);
    curl_easy_cleanup(curl);
    return NULL;
}

dm_err webhook_start(struct world *w, struct sim_bot *b)
{
    if (b->hook_thread_started) return DM_OK;
    struct hook *h = malloc(sizeof *h);
    if (!h) return DM_ENOMEM;
    h->w = w;
    h->b = b;
    if (pthread_create(&b->hook_thread, NULL, hook_main, h) != 0) {
        free(h);
        return DM_ENOMEM;
    }
    b->hook_thread_started = true;
    return DM_OK;
}

void webhook_join_all(struct world *w)
{
    for (size_t i = 0; i < w->nbots; i++)
        if (w->bots[i]->hook_thread_started) {
            pthread_join(w->bots[i]->hook_thread, NULL);
            w->bots[i]->hook_thread_started = false;
        }
}
