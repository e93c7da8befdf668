/* ratelimit.h: a token bucket that hands out future slots (reservations).
 *
 * `rate` tokens a second accrue up to `burst`; ratelimit_reserve() takes one token and says how
 * long the caller must wait before using it, so concurrent callers get evenly spaced slots
 * instead of a burst. Times are seconds on any monotonic clock. Not thread-safe: the owner
 * locks around it. */
#ifndef DM_JOBS_RATELIMIT_H
#define DM_JOBS_RATELIMIT_H

#include "core/common.h"

struct ratelimit {
    double rate;   /* tokens per second, > 0 */
    double burst;  /* most tokens saved up, >= 1 */
    double tokens; /* may go negative: slots already promised */
    double last;   /* when tokens was last brought up to date; may be in the future (hold) */
};

void ratelimit_init(struct ratelimit *rl, double rate, double burst, double now);
/* Changes the rate from now on (slots already handed out stay as they are). */
void ratelimit_set_rate(struct ratelimit *rl, double rate, double now);
/* Takes one token; returns the seconds to wait (0 when it may be used at once). */
double ratelimit_reserve(struct ratelimit *rl, double now);
/* No token accrues before `until`, and none saved up remains (after a 429 retry_after). */
void ratelimit_hold(struct ratelimit *rl, double until);

#endif
