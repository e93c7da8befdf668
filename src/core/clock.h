/* clock.h: the monotonic clock (never goes back, not set by anyone) for timeouts, waits and
 * rates, and condition variables that wait on it. Wall-clock times (Unix seconds) stay time(). */
#ifndef DM_CLOCK_H
#define DM_CLOCK_H

#include "core/common.h"

#include <pthread.h>

int64_t clock_ms(void); /* milliseconds since an arbitrary start */
int64_t clock_us(void); /* microseconds since the same start */
double clock_s(void);   /* seconds since the same start, with the fraction */
/* Wall-clock Unix milliseconds, for deadlines kept in the store (they outlive a process). */
int64_t clock_unix_ms(void);
/* The absolute monotonic time `ms` milliseconds from now, for pthread_cond_timedwait on a
 * condition variable made by clock_cond_init. */
struct timespec clock_after_ms(int64_t ms);
/* Initialises *cv to time its waits on the monotonic clock. */
void clock_cond_init(pthread_cond_t *cv);

#endif
