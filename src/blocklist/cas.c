/* cas.c: the CAS client and its cache (cas.h). */
#include "core/common.h"
#include "blocklist/cas.h"

#include "core/buf.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>

/* ---- parsing ---- */

dm_err cas_parse(long http_status, const char *body, size_t len, bool *listed, struct dm_error *err)
{
    json_t *j = json_loadb(body, len, 0, NULL);
    json_t *ok = json_object_get(j, "ok");
    const char *desc = json_string_value(json_object_get(j, "description"));
    dm_err e = DM_OK;
    if (json_is_true(ok) && json_is_object(json_object_get(j, "result")) && http_status == 200)
        *listed = true;
    else if (json_is_false(ok) && desc && strcmp(desc, "Record not found.") == 0)
        *listed = false;
    else if (http_status >= 500 || http_status == 429) /* its trouble: worth a later try */
        e = dm_fail(err, DM_EUNAVAILABLE, "answered HTTP %ld: %.200s", http_status,
                    desc ? desc : "(no description)");
    else if (json_is_false(ok) && desc)
        e = dm_fail(err, DM_EPROTO, "answered HTTP %ld: %.200s", http_status, desc);
    else
        e = dm_fail(err, DM_EPROTO, "answered HTTP %ld with something that is not CAS's JSON",
                    http_status);
    json_decref(j);
    return e;
}

/* ---- the cache ---- */

static size_t slot_of(const struct cas_cache *c, int64_t user_id)
{
    uint64_t h = (uint64_t)user_id * 0x9e3779b97f4a7c15u;
    return (size_t)(h ^ (h >> 32)) & (c->n - 1);
}

dm_err cas_cache_init(struct cas_cache *c, size_t slots)
{
    size_t n = 1;
    while (n < slots)
        n *= 2;
    c->slots = calloc(n, sizeof *c->slots);
    c->n = c->slots ? n : 0;
    return c->slots ? DM_OK : DM_ENOMEM;
}

void cas_cache_release(struct cas_cache *c)
{
    free(c->slots);
    c->slots = NULL;
    c->n = 0;
}

bool cas_cache_get(const struct cas_cache *c, int64_t user_id, int64_t now, bool *listed)
{
    if (!c->n || !user_id) return false;
    const struct cas_cache_slot *s = &c->slots[slot_of(c, user_id)];
    if (s->user_id != user_id || s->expires <= now) return false;
    *listed = s->listed;
    return true;
}

void cas_cache_put(struct cas_cache *c, int64_t user_id, bool listed, int64_t now)
{
    if (!c->n || !user_id) return;
    c->slots[slot_of(c, user_id)] = (struct cas_cache_slot){
        .user_id = user_id, .expires = now + CAS_CACHE_TTL, .listed = listed};
}

void cas_cache_clear(struct cas_cache *c)
{
    if (c->n) memset(c->slots, 0, c->n * sizeof *c->slots);
}

/* ---- the lookup ---- */

static struct {
    pthread_mutex_t mu;
    struct cas_cache cache;
    char url[CAS_URL_MAX + 1]; /* the base_url the cache holds answers of */
    int64_t paused_until;      /* no calls before this (Unix seconds) */
    char why[sizeof((struct dm_error *)0)->msg];
} state = {.mu = PTHREAD_MUTEX_INITIALIZER};

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    size_t n = size * nmemb;
    return buf_append(ud, ptr, n) == DM_OK ? n : 0; /* 0 stops curl: the answer is too long */
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT); /* a failure shows as curl_easy_init's */
}

/* One GET of <base>/check?user_id=N; the outcome as cas_lookup's. */
static dm_err fetch(const char *base, int64_t user_id, bool *listed, struct dm_error *err)
{
    pthread_once(&curl_once, curl_start);
    char url[CAS_URL_MAX + 64];
    snprintf(url, sizeof url, "%s/check?user_id=%" PRId64, base, user_id);
    CURL *h = curl_easy_init();
    if (!h) return dm_fail(err, DM_ENOMEM, "out of memory");
    struct buf body;
    buf_init(&body, CAS_REPLY_MAX);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)CAS_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "doorman");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    dm_err e;
    if (rc == CURLE_OPERATION_TIMEDOUT)
        e = dm_fail(err, DM_ETIMEOUT, "did not answer within %d s", CAS_TIMEOUT_MS / 1000);
    else if (rc == CURLE_WRITE_ERROR)
        e = dm_fail(err, DM_EPROTO, "answered more than %u bytes", CAS_REPLY_MAX);
    else if (rc != CURLE_OK)
        e = dm_fail(err, DM_ENETWORK, "could not be reached: %s", curl_easy_strerror(rc));
    else
        e = cas_parse(status, body.data ? body.data : "", body.len, listed, err);
    buf_release(&body);
    return e;
}

/* Checks base_url and copies it without a trailing '/' into out. */
static bool url_ok(const char *base_url, char out[CAS_URL_MAX + 1])
{
    size_t n = base_url ? strlen(base_url) : 0;
    while (n && base_url[n - 1] == '/')
        n--;
    if (n == 0 || n > CAS_URL_MAX) return false;
    if (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)base_url[i] <= ' ' || base_url[i] == '?' || base_url[i] == '#')
            return false;
    memcpy(out, base_url, n);
    out[n] = 0;
    return true;
}

dm_err cas_lookup(const char *base_url, int64_t user_id, bool *listed, struct dm_error *err)
{
    char base[CAS_URL_MAX + 1];
    if (!url_ok(base_url, base))
        return dm_fail(err, DM_EINVAL,
                       "The blocklist service's address must be an http:// or https:// URL of at "
                       "most %d bytes, like " CAS_DEFAULT_URL,
                       CAS_URL_MAX);
    int64_t now = (int64_t)time(NULL);
    pthread_mutex_lock(&state.mu);
    if (strcmp(state.url, base) != 0) { /* another service: its answers are not these */
        cas_cache_clear(&state.cache);
        dm_strlcpy(state.url, base, sizeof state.url);
        state.paused_until = 0;
    }
    if (!state.cache.n) cas_cache_init(&state.cache, CAS_CACHE_SLOTS); /* none: no cache */
    bool hit = cas_cache_get(&state.cache, user_id, now, listed);
    bool paused = !hit && now < state.paused_until;
    char why[sizeof state.why];
    dm_strlcpy(why, state.why, sizeof why);
    pthread_mutex_unlock(&state.mu);
    if (hit) return DM_OK;
    if (paused)
        return dm_fail(err, DM_EUNAVAILABLE,
                       "The blocklist service at %s %s; doorman tries it again in at most %d s",
                       base, why, CAS_PAUSE);

    struct dm_error ferr = {0};
    dm_err e = fetch(base, user_id, listed, &ferr);
    pthread_mutex_lock(&state.mu);
    if (strcmp(state.url, base) == 0) {
        if (e) {
            state.paused_until = (int64_t)time(NULL) + CAS_PAUSE;
            dm_strlcpy(state.why, ferr.msg, sizeof state.why);
        } else {
            cas_cache_put(&state.cache, user_id, *listed, now);
        }
    }
    pthread_mutex_unlock(&state.mu);
    if (e) return dm_fail(err, e, "The blocklist service at %s %s", base, ferr.msg);
    return DM_OK;
}
