/* Unit tests for src/jobs: the token bucket and how Bot API answers become verdicts. */
#include "core/common.h"
#include "../check.h"
#include "botapi/client.h"
#include "jobs/decider.h"
#include "jobs/ratelimit.h"

#include <math.h>

static bool near(double a, double b)
{
    return fabs(a - b) < 1e-9;
}

static void test_ratelimit(void)
{
    struct ratelimit rl;
    ratelimit_init(&rl, 10, 1, 100.0);
    /* burst 1: the first now, then one every 1/rate even when asked all at once */
    CHECK(near(ratelimit_reserve(&rl, 100.0), 0));
    CHECK(near(ratelimit_reserve(&rl, 100.0), 0.1));
    CHECK(near(ratelimit_reserve(&rl, 100.0), 0.2));
    CHECK(near(ratelimit_reserve(&rl, 100.0), 0.3));
    /* asking later (after some slots passed) gets the next free slot */
    CHECK(near(ratelimit_reserve(&rl, 100.35), 0.05));
    /* after a long idle time only `burst` tokens are saved up */
    CHECK(near(ratelimit_reserve(&rl, 200.0), 0));
    CHECK(near(ratelimit_reserve(&rl, 200.0), 0.1));

    /* over a long run the achieved rate is the configured one */
    ratelimit_init(&rl, 250, 1, 0);
    double t = 0;
    for (int i = 0; i < 5000; i++)
        t += ratelimit_reserve(&rl, t);
    CHECK(fabs(t - 4999 / 250.0) < 1e-6);

    /* a burst of 5 saved up, then the pace */
    ratelimit_init(&rl, 2, 5, 0);
    for (int i = 0; i < 5; i++)
        CHECK(near(ratelimit_reserve(&rl, 0), 0));
    CHECK(near(ratelimit_reserve(&rl, 0), 0.5));

    /* hold (429 retry_after): nothing before `until`, and nothing saved up from before */
    ratelimit_init(&rl, 10, 3, 0);
    ratelimit_hold(&rl, 5.0);
    CHECK(near(ratelimit_reserve(&rl, 1.0), 4.1));
    CHECK(near(ratelimit_reserve(&rl, 1.0), 4.2));
    CHECK(near(ratelimit_reserve(&rl, 6.0), 0)); /* the hold is over and tokens accrued */

    /* changing the rate applies to later slots */
    ratelimit_init(&rl, 1, 1, 0);
    CHECK(near(ratelimit_reserve(&rl, 0), 0));
    ratelimit_set_rate(&rl, 4, 0);
    CHECK(near(ratelimit_reserve(&rl, 0), 0.25));
    ratelimit_set_rate(&rl, 0, 0); /* ignored */
    CHECK(near(rl.rate, 4));
}

static void reply(struct botapi_reply *r, long http, const char *body)
{
    CHECK(botapi_reply_parse(http, body, strlen(body), r, NULL) == DM_OK);
}

static void test_classify(void)
{
    struct botapi_reply r;
    struct decision d;

    reply(&r, 200, "{\"ok\":true,\"result\":true}");
    decider_bot_classify(DM_OK, "", &r, &d);
    CHECK(d.verdict == V_DONE);
    botapi_reply_release(&r);

    reply(&r, 400,
          "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: "
          "HIDE_REQUESTER_MISSING\"}");
    decider_bot_classify(DM_OK, "", &r, &d);
    CHECK(d.verdict == V_ALREADY && strcmp(d.error, "Bad Request: HIDE_REQUESTER_MISSING") == 0);

    reply(&r, 400,
          "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: "
          "USER_ALREADY_PARTICIPANT\"}");
    decider_bot_classify(DM_OK, "", &r, &d);
    CHECK(d.verdict == V_ALREADY);

    reply(&r, 429,
          "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry "
          "after 7\",\"parameters\":{\"retry_after\":7}}");
    decider_bot_classify(DM_OK, "", &r, &d);
    CHECK(d.verdict == V_FLOOD && d.retry_after == 7);
    reply(&r, 429, "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests\"}");
    decider_bot_classify(DM_OK, "", &r, &d);
    CHECK(d.verdict == V_FLOOD && d.retry_after == 1); /* never a zero pause */

    reply(&r, 401, "{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}");
    decider_bot_classify(DM_OK, "", &r, &d);
    CHECK(d.verdict == V_ACCOUNT && strstr(d.error, "Settings"));

    reply(&r, 502, "{\"ok\":false,\"error_code\":502,\"description\":\"Bad Gateway\"}");
    decider_bot_classify(DM_OK, "", &r, &d);
    CHECK(d.verdict == V_RETRY && strcmp(d.error, "Bad Gateway") == 0);

    reply(&r, 400,
          "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: "
          "CHAT_ADMIN_REQUIRED\"}");
    decider_bot_classify(DM_OK, "", &r, &d);
    CHECK(d.verdict == V_FAILED && strcmp(d.error, "Bad Request: CHAT_ADMIN_REQUIRED") == 0);

    reply(&r, 403,
          "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot was "
          "kicked from the channel chat\"}");
    decider_bot_classify(DM_OK, "", &r, &d);
    CHECK(d.verdict == V_FAILED);

    decider_bot_classify(DM_ENETWORK, "could not reach the Bot API", NULL, &d);
    CHECK(d.verdict == V_RETRY && strcmp(d.error, "could not reach the Bot API") == 0);
    decider_bot_classify(DM_EPROTO, "", NULL, &d);
    CHECK(d.verdict == V_RETRY && strcmp(d.error, "protocol error") == 0);
}

int main(void)
{
    test_ratelimit();
    test_classify();
    return CHECK_DONE();
}
