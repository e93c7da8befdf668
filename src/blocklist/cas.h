/* cas.h: asks a blocklist service with CAS's HTTP interface (https://cas.chat/api) whether a
 * Telegram user is listed.
 *
 * The service answers GET <base>/check?user_id=N with JSON: {"ok":true,"result":{"offenses":n,
 * "messages":[…],"time_added":"…"}} when the user is listed, {"ok":false,"description":"Record
 * not found."} when not. Any other answer (another description, not JSON, an HTTP error) is a
 * failure of the service, never "not listed".
 *
 * cas_lookup() keeps every answer in a process-wide cache of CAS_CACHE_SLOTS entries (a slot
 * per user id hash; a newer user takes a slot from an older one) for CAS_CACHE_TTL seconds, so a
 * wave of requests costs the service one call per user at most. Each call waits at most
 * CAS_TIMEOUT_MS; after a failure the service is left alone for CAS_PAUSE seconds, during which
 * lookups of users not in the cache fail at once with the same sentence (so a wave does not
 * wait 2 s per request on a dead service). Changing base_url empties the cache.
 *
 * Threading: cas_lookup() may be called from any thread (one mutex guards the cache; the HTTP
 * call is made without it); it initialises libcurl once itself. The pure parts (cas_parse, struct
 * cas_cache) are exposed for tests. */
#ifndef DM_BLOCKLIST_CAS_H
#define DM_BLOCKLIST_CAS_H

#include "core/common.h"

#define CAS_DEFAULT_URL "https://api.cas.chat"
#define CAS_TIMEOUT_MS 2000
#define CAS_CACHE_TTL 600 /* seconds an answer is kept */
#define CAS_PAUSE 30      /* seconds without calls after a failure */
#define CAS_CACHE_SLOTS 65536u
#define CAS_URL_MAX 512
#define CAS_REPLY_MAX (64u * 1024u) /* an answer is a few hundred bytes */

/* Whether user_id is listed by the service at base_url ("https://api.cas.chat"; a trailing '/'
 * is ignored; http or https only). DM_OK with *listed, or: DM_EINVAL for a base_url that is not
 * an http(s) URL of at most CAS_URL_MAX bytes; DM_ETIMEOUT when no answer came within
 * CAS_TIMEOUT_MS; DM_ENETWORK when it could not be reached; DM_EUNAVAILABLE when it answered
 * HTTP 5xx or 429, and during the pause after any failure; DM_EPROTO when the answer is not
 * CAS's. err's sentence names the service's
 * address and what happened, for the admin. */
dm_err cas_lookup(const char *base_url, int64_t user_id, bool *listed, struct dm_error *err);

/* Reads one answer (untrusted): DM_OK with *listed, DM_EUNAVAILABLE for HTTP 5xx or 429, or
 * DM_EPROTO, with a sentence. Pure. */
dm_err cas_parse(long http_status, const char *body, size_t len, bool *listed,
                 struct dm_error *err);

/* The cache: a slot per user id hash, an entry valid until its expiry. The caller owns and
 * locks it; cas_cache_init allocates slots (DM_ENOMEM) and cas_cache_release frees them. Pure
 * (time is given). */
struct cas_cache_slot {
    int64_t user_id; /* 0: empty */
    int64_t expires; /* Unix seconds */
    bool listed;
};
struct cas_cache {
    struct cas_cache_slot *slots;
    size_t n; /* a power of two */
};
dm_err cas_cache_init(struct cas_cache *c, size_t slots);
void cas_cache_release(struct cas_cache *c);
/* true with *listed when user_id has an entry that has not expired at now. */
bool cas_cache_get(const struct cas_cache *c, int64_t user_id, int64_t now, bool *listed);
void cas_cache_put(struct cas_cache *c, int64_t user_id, bool listed, int64_t now);
void cas_cache_clear(struct cas_cache *c);

#endif
