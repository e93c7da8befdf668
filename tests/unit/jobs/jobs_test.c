/* Unit tests for src/jobs: the token bucket; a decision message's template filled in, the
 * names HTML-escaped. */
#include "core/common.h"
#include "../check.h"
#include "jobs/notice.h"
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

static void test_notice_render(void)
{
    char *s = notice_render("<b>Hi</b> {first_name} {last_name} (@{username}), welcome to "
                            "{channel}! {unknown} {first_name",
                            "<a href=\"x\">Eve</a>", "& co", "eve", "Cats > Dogs");
    CHECK(s && strcmp(s, "<b>Hi</b> &lt;a href=&quot;x&quot;&gt;Eve&lt;/a&gt; &amp; co (@eve), "
                         "welcome to Cats &gt; Dogs! {unknown} {first_name") == 0);
    free(s);
    s = notice_render("", "a", "b", "c", "d");
    CHECK(s && strcmp(s, "") == 0);
    free(s);
}

int main(void)
{
    test_ratelimit();
    test_notice_render();
    return CHECK_DONE();
}
