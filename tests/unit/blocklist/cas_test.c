/* Unit tests of the CAS client (blocklist/cas.h): answers parsed as the service gives them,
 * the cache (expiry, slots, clearing), and cas_lookup's refusals and its pause after a
 * failure, against a closed port. */
#include "core/common.h"
#include "blocklist/cas.h"

#include "../check.h"

static dm_err parse(long status, const char *body, bool *listed, struct dm_error *err)
{
    return cas_parse(status, body, strlen(body), listed, err);
}

static void test_parse(void)
{
    struct dm_error err;
    bool listed = false;
    /* the shapes of cas.chat/api: a listed user, a user not listed */
    CHECK(parse(200,
                "{\"ok\":true,\"result\":{\"offenses\":2,\"messages\":[\"spam\"],"
                "\"time_added\":\"2020-03-11T17:40:41.000Z\"}}",
                &listed, &err) == DM_OK &&
          listed);
    CHECK(parse(200, "{\"ok\":false,\"description\":\"Record not found.\"}", &listed, &err) ==
              DM_OK &&
          !listed);
    /* anything else is the service failing, never "not listed" */
    listed = true;
    CHECK(parse(200, "{\"ok\":false,\"description\":\"Too many requests\"}", &listed, &err) ==
              DM_EPROTO &&
          strstr(err.msg, "Too many requests") && listed);
    CHECK(parse(502, "<html>Bad Gateway</html>", &listed, &err) == DM_EUNAVAILABLE &&
          strstr(err.msg, "HTTP 502"));
    CHECK(parse(500, "{\"ok\":true,\"result\":{}}", &listed, &err) == DM_EUNAVAILABLE);
    CHECK(parse(429, "{\"ok\":false,\"description\":\"Slow down\"}", &listed, &err) ==
              DM_EUNAVAILABLE &&
          strstr(err.msg, "Slow down"));
    CHECK(parse(404, "{\"ok\":false,\"description\":\"Not found.\"}", &listed, &err) == DM_EPROTO);
    CHECK(parse(200, "{\"ok\":true}", &listed, &err) == DM_EPROTO);
    CHECK(parse(200, "", &listed, &err) == DM_EPROTO);
    CHECK(parse(200, "[1,2]", &listed, &err) == DM_EPROTO);
    printf("parse: listed, not found, and eight kinds of failure\n");
}

static void test_cache(void)
{
    struct cas_cache c;
    CHECK(cas_cache_init(&c, 1000) == DM_OK && c.n == 1024);
    bool listed = false;
    CHECK(!cas_cache_get(&c, 42, 1000, &listed));
    cas_cache_put(&c, 42, true, 1000);
    cas_cache_put(&c, 43, false, 1000);
    CHECK(cas_cache_get(&c, 42, 1000, &listed) && listed);
    CHECK(cas_cache_get(&c, 43, 1000 + CAS_CACHE_TTL - 1, &listed) && !listed);
    CHECK(!cas_cache_get(&c, 43, 1000 + CAS_CACHE_TTL, &listed)); /* expired */
    /* bounded: 5,000 users in 1,024 slots; the newest of each slot is kept, none is wrong */
    for (int64_t u = 1; u <= 5000; u++)
        cas_cache_put(&c, u, u % 2 == 0, 2000);
    int hits = 0, wrong = 0;
    for (int64_t u = 1; u <= 5000; u++)
        if (cas_cache_get(&c, u, 2000, &listed)) {
            hits++;
            wrong += listed != (u % 2 == 0);
        }
    CHECK(hits > 0 && hits <= 1024 && wrong == 0);
    CHECK(cas_cache_get(&c, 5000, 2000, &listed) && listed); /* the last put is always there */
    cas_cache_clear(&c);
    CHECK(!cas_cache_get(&c, 5000, 2000, &listed));
    cas_cache_release(&c);
    CHECK(!cas_cache_get(&c, 5000, 2000, &listed)); /* released: empty, not a crash */
    printf("cache: expiry after %d s, %d of 5000 kept in 1024 slots, none wrong\n", CAS_CACHE_TTL,
           hits);
}

static void test_lookup(void)
{
    struct dm_error err;
    bool listed = false;
    CHECK(cas_lookup("ftp://example.org", 1, &listed, &err) == DM_EINVAL &&
          strstr(err.msg, "http://"));
    CHECK(cas_lookup("", 1, &listed, &err) == DM_EINVAL);
    CHECK(cas_lookup("http://a b", 1, &listed, &err) == DM_EINVAL);
    /* nothing listens on port 1: the service cannot be reached, then it is left alone */
    CHECK(cas_lookup("http://127.0.0.1:1/", 7, &listed, &err) == DM_ENETWORK &&
          strstr(err.msg, "http://127.0.0.1:1 could not be reached"));
    CHECK(cas_lookup("http://127.0.0.1:1", 8, &listed, &err) == DM_EUNAVAILABLE &&
          strstr(err.msg, "tries it again"));
    /* another address is another service: no pause carried over */
    CHECK(cas_lookup("http://127.0.0.2:1", 8, &listed, &err) == DM_ENETWORK);
    printf("lookup: bad addresses refused, an unreachable service paused: %s\n", err.msg);
}

int main(void)
{
    test_parse();
    test_cache();
    test_lookup();
    return CHECK_DONE();
}
