/* client.h: a Bot API client (libcurl) for one bot token.
 *
 * A client is safe to use from several threads at once; it reuses connections (keep-alive).
 * The token is secret: it appears in request URLs only, never in logs or error messages. */
#ifndef DM_BOTAPI_CLIENT_H
#define DM_BOTAPI_CLIENT_H

#include "core/common.h"

#include <jansson.h>

struct botapi_client;

/* What the server answered. */
struct botapi_reply {
    long http_status;      /* 0 when there was no HTTP answer */
    bool ok;               /* the body's "ok" */
    int error_code;        /* the body's "error_code" when !ok */
    char description[256]; /* the body's "description" when !ok, e.g.
                              "Bad Request: HIDE_REQUESTER_MISSING" */
    int retry_after;       /* parameters.retry_after (seconds) on 429, else 0 */
    json_t *result;        /* the body's "result" when ok; owned by the reply */
};

/* base_url like "https://api.telegram.org" (no trailing slash). The token is copied; it must
 * look like a token (1-256 of [A-Za-z0-9:_-]), else DM_EINVAL, since it becomes part of a URL.
 * The new client holds one reference. */
dm_err botapi_client_new(const char *base_url, const char *token, struct botapi_client **out);
/* Takes one more reference (returns c). Any thread. */
struct botapi_client *botapi_client_ref(struct botapi_client *c);
/* Drops one reference; the last one frees the client (no call may be in progress then).
 * NULL is allowed. */
void botapi_client_free(struct botapi_client *c);
/* Copies the token into out (secret: for checking what Telegram signed with it, e.g. a Mini
 * App's launch data; never logged). DM_ETOOBIG when out is too small (BOTAPI_TOKEN_MAX fits). */
#define BOTAPI_TOKEN_MAX 257
dm_err botapi_client_token(const struct botapi_client *c, char *out, size_t size);
/* Makes the calls in progress on c end within about a second, and every later call fail at
 * once, with DM_EUNAVAILABLE. For stopping a thread blocked in a long poll. */
void botapi_client_abort(struct botapi_client *c);

/* POSTs params (borrowed; NULL for none) as JSON to <base>/bot<token>/<method>.
 * Returns DM_ENETWORK or DM_ETIMEOUT (message in err) when no answer came, DM_EPROTO when the
 * answer is not a Bot API reply (not JSON, no "ok", too large: out->http_status is set),
 * DM_EUNAVAILABLE after botapi_client_abort(); otherwise DM_OK with *out filled: check out->ok.
 * *out is always initialised; release it with botapi_reply_release() in every case. */
dm_err botapi_call(struct botapi_client *c, const char *method, json_t *params, long timeout_ms,
                   struct botapi_reply *out, struct dm_error *err);
void botapi_reply_release(struct botapi_reply *r);

/* Parses one reply body (untrusted) as botapi_call does: DM_OK with *out filled, or DM_EPROTO
 * with a message. *out is always initialised. Exposed for tests. */
dm_err botapi_reply_parse(long http_status, const char *body, size_t len, struct botapi_reply *out,
                          struct dm_error *err);

#endif
