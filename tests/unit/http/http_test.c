/* Unit tests for src/http: the login throttle. */
#include "core/common.h"
#include "../check.h"
#include "http/throttle.h"

static void test_throttle(void)
{
    struct throttle *t = throttle_new(2, 60);
    int64_t wait = 0;
    for (int i = 0; i < 3; i++)
        throttle_fail(t, "name:a", 1000);
    CHECK(!throttle_allowed(t, "name:a", 3, 1010, &wait) && wait == 50);
    CHECK(throttle_allowed(t, "name:a", 4, 1010, &wait));
    CHECK(throttle_allowed(t, "name:a", 3, 1060, &wait)); /* the window ended */
    throttle_fail(t, "name:b", 1000);
    throttle_fail(t, "name:c", 1001); /* table full: the oldest window is reused */
    CHECK(throttle_allowed(t, "name:b", 1, 1002, &wait) ||
          throttle_allowed(t, "name:a", 1, 1002, &wait));
    throttle_clear(t, "name:c");
    CHECK(throttle_allowed(t, "name:c", 1, 1002, &wait));
    throttle_free(t);
}

int main(void)
{
    test_throttle();
    return CHECK_DONE();
}
