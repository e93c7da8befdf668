#include "core/common.h"
#include "jobs/ratelimit.h"

static void refill(struct ratelimit *rl, double now)
{
    if (now <= rl->last) return;
    rl->tokens = DM_MIN(rl->burst, rl->tokens + (now - rl->last) * rl->rate);
    rl->last = now;
}

void ratelimit_init(struct ratelimit *rl, double rate, double burst, double now)
{
    rl->rate = rate > 0 ? rate : 1;
    rl->burst = burst >= 1 ? burst : 1;
    rl->tokens = rl->burst;
    rl->last = now;
}

void ratelimit_set_rate(struct ratelimit *rl, double rate, double now)
{
    if (rate <= 0 || rate == rl->rate) return;
    refill(rl, now);
    rl->rate = rate;
}

double ratelimit_reserve(struct ratelimit *rl, double now)
{
    refill(rl, now);
    rl->tokens -= 1;
    double wait = rl->last > now ? rl->last - now : 0;
    if (rl->tokens < 0) wait += -rl->tokens / rl->rate;
    return wait;
}

void ratelimit_hold(struct ratelimit *rl, double until)
{
    if (until > rl->last) rl->last = until;
    if (rl->tokens > 0) rl->tokens = 0;
}
