/* client.c: the Bot API over libcurl.
 *
 * Easy handles are kept in a small pool so that each finished call leaves its keep-alive
 * connection ready for the next one; a call takes an idle handle (or makes one) and gives it
 * back. The URL holds the token, so no curl message that could echo the URL is ever passed on:
 * errors are built from curl_easy_strerror() and the method name only. */
#include "core/common.h"
#include "botapi/client.h"
#include "core/buf.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#define POOL_MAX 16                  /* idle handles kept; more may exist while busy */
#define REPLY_MAX (8u * 1024 * 1024) /* a getUpdates batch is far below this */
#define URL_MAX 1024
#define TOKEN_MAX 256

struct botapi_client {
    char url_prefix[URL_MAX]; /* "<base>/bot<token>/": secret, wiped on free */
    size_t prefix_len;
    const char *token; /* inside url_prefix, up to the last '/' */
    size_t token_len;
    struct curl_slist *headers; /* read-only once made: shared by all handles */
    pthread_mutex_t pool_mu;
    CURL *idle[POOL_MAX];
    size_t n_idle;
    atomic_int refs;
    atomic_int aborted;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool token_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > TOKEN_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = t[i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == ':' || ch == '_' || ch == '-';
        if (!ok) return false;
    }
    return true;
}

dm_err botapi_client_new(const char *base_url, const char *token, struct botapi_client **out)
{
    *out = NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) return DM_ENETWORK;
    if (!token_valid(token)) return DM_EINVAL;
    struct botapi_client *c = calloc(1, sizeof *c);
    if (!c) return DM_ENOMEM;
    int n = snprintf(c->url_prefix, sizeof c->url_prefix, "%s/bot%s/", base_url, token);
    if (n < 0 || (size_t)n + 64 >= sizeof c->url_prefix) { /* room for the method name */
        free(c);
        return DM_EINVAL;
    }
    c->prefix_len = (size_t)n;
    c->token = c->url_prefix + strlen(base_url) + 4;
    c->token_len = strlen(token);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h2 = h ? curl_slist_append(h, "Expect:") : NULL; /* no 100-continue wait */
    if (!h2) {
        curl_slist_free_all(h);
        free(c);
        return DM_ENOMEM;
    }
    c->headers = h2;
    pthread_mutex_init(&c->pool_mu, NULL);
    atomic_init(&c->refs, 1);
    atomic_init(&c->aborted, 0);
    *out = c;
    return DM_OK;
}

struct botapi_client *botapi_client_ref(struct botapi_client *c)
{
    atomic_fetch_add(&c->refs, 1);
    return c;
}

void botapi_client_free(struct botapi_client *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1) return;
    for (size_t i = 0; i < c->n_idle; i++)
        curl_easy_cleanup(c->idle[i]);
    curl_slist_free_all(c->headers);
    pthread_mutex_destroy(&c->pool_mu);
    memset(c->url_prefix, 0, sizeof c->url_prefix);
    free(c);
}

dm_err botapi_client_token(const struct botapi_client *c, char *out, size_t size)
{
    if (c->token_len >= size) return DM_ETOOBIG;
    memcpy(out, c->token, c->token_len);
    out[c->token_len] = 0;
    return DM_OK;
}

void botapi_client_abort(struct botapi_client *c)
{
    atomic_store(&c->aborted, 1);
}

void botapi_reply_release(struct botapi_reply *r)
{
    if (!r) return;
    json_decref(r->result);
    r->result = NULL;
}

dm_err botapi_reply_parse(long http_status, const char *body, size_t len, struct botapi_reply *out,
                          struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    out->http_status = http_status;
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!root)
        return dm_fail(err, DM_EPROTO, "the Bot API answered HTTP %ld with a body that is not JSON",
                       http_status);
    json_t *ok = json_object_get(root, "ok");
    if (!json_is_object(root) || !json_is_boolean(ok)) {
        json_decref(root);
        return dm_fail(err, DM_EPROTO,
                       "the Bot API answered HTTP %ld without a boolean \"ok\" field", http_status);
    }
    out->ok = json_is_true(ok);
    if (out->ok) {
        json_t *res = json_object_get(root, "result");
        out->result = res ? json_incref(res) : json_null();
    } else {
        json_t *code = json_object_get(root, "error_code");
        json_int_t ec = json_is_integer(code) ? json_integer_value(code) : http_status;
        out->error_code = ec > 0 && ec < 1000 ? (int)ec : 0;
        const char *desc = json_string_value(json_object_get(root, "description"));
        if (desc && *desc)
            dm_strlcpy(out->description, desc, sizeof out->description);
        else
            snprintf(out->description, sizeof out->description, "HTTP %ld", http_status);
        json_t *ra = json_object_get(json_object_get(root, "parameters"), "retry_after");
        if (json_is_integer(ra)) {
            json_int_t v = json_integer_value(ra);
            out->retry_after = v < 0 ? 0 : v > 86400 ? 86400 : (int)v;
        }
    }
    json_decref(root);
    return DM_OK;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;
    size_t n = size * nmemb;
    return buf_append(b, ptr, n) == DM_OK ? n : 0; /* 0 makes curl stop: reply too large */
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct botapi_client *c = ud;
    return atomic_load(&c->aborted) ? 1 : 0;
}

static CURL *handle_take(struct botapi_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->pool_mu);
    if (c->n_idle) h = c->idle[--c->n_idle];
    pthread_mutex_unlock(&c->pool_mu);
    if (h) return h;
    h = curl_easy_init();
    if (!h) return NULL;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "doorman");
    return h;
}

static void handle_give(struct botapi_client *c, CURL *h, bool reusable)
{
    if (reusable) {
        pthread_mutex_lock(&c->pool_mu);
        if (c->n_idle < POOL_MAX) {
            c->idle[c->n_idle++] = h;
            h = NULL;
        }
        pthread_mutex_unlock(&c->pool_mu);
    }
    if (h) curl_easy_cleanup(h);
}

static bool method_valid(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > 60) return false;
    for (size_t i = 0; i < n; i++)
        if (!((m[i] >= 'A' && m[i] <= 'Z') || (m[i] >= 'a' && m[i] <= 'z'))) return false;
    return true;
}

dm_err botapi_call(struct botapi_client *c, const char *method, json_t *params, long timeout_ms,
                   struct botapi_reply *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!method_valid(method)) return dm_fail(err, DM_EINVAL, "invalid Bot API method name");
    if (atomic_load(&c->aborted)) return dm_fail(err, DM_EUNAVAILABLE, "Bot API client stopped");

    char *body = params ? json_dumps(params, JSON_COMPACT) : strdup("{}");
    if (!body) return dm_fail(err, DM_ENOMEM, "out of memory");
    char url[URL_MAX];
    memcpy(url, c->url_prefix, c->prefix_len);
    dm_strlcpy(url + c->prefix_len, method, sizeof url - c->prefix_len);

    CURL *h = handle_take(c);
    if (!h) {
        free(body);
        memset(url, 0, sizeof url);
        return dm_fail(err, DM_ENOMEM, "out of memory");
    }
    struct buf reply;
    buf_init(&reply, REPLY_MAX);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 30000L);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    /* Drop the pointers into this frame before the handle goes back to the pool. */
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(h, CURLOPT_URL, "");
    memset(url, 0, sizeof url);
    free(body);
    handle_give(c, h, rc == CURLE_OK);

    dm_err e;
    if (rc == CURLE_OK) {
        e = botapi_reply_parse(status, reply.data ? reply.data : "", reply.len, out, err);
    } else {
        out->http_status = status;
        if (rc == CURLE_ABORTED_BY_CALLBACK)
            e = dm_fail(err, DM_EUNAVAILABLE, "Bot API client stopped");
        else if (rc == CURLE_OPERATION_TIMEDOUT)
            e = dm_fail(err, DM_ETIMEOUT, "the Bot API did not answer %s in time", method);
        else if (rc == CURLE_WRITE_ERROR)
            e = dm_fail(err, DM_EPROTO, "the Bot API's answer to %s was too large", method);
        else
            e = dm_fail(err, DM_ENETWORK, "could not reach the Bot API (%s): %s", method,
                        curl_easy_strerror(rc));
    }
    buf_release(&reply);
    return e;
}
