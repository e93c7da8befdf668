/* throttle.h: counts attempts per key (an address, a login name, a device) in a window, to slow
 * down password guessing. Process-wide and thread-safe.
 *
 * An attempt is counted before it is made: throttle_reserve() checks the limit and counts in one
 * step, so attempts running in parallel cannot all pass the check before any of them is counted.
 * An attempt that turns out not to be a failure is given back with throttle_release(). A key's
 * window starts with its first counted attempt and lasts window_s seconds; after it the count
 * starts again from zero.
 *
 * Keys live in a fixed table of `slots`. A slot is live while its key has a counted attempt in a
 * window that has not ended, and a live slot is never given to another key: when every slot is
 * live, a key without one is refused (THROTTLE_FULL) until the first window ends. The table fails
 * closed: flooding it with new keys locks new keys out, it never unlocks a locked one.
 *
 * Keys are compared on their first THROTTLE_KEY_MAX - 1 bytes. `now` is any clock in seconds
 * that does not go back (the caller's monotonic clock). */
#ifndef DM_HTTP_THROTTLE_H
#define DM_HTTP_THROTTLE_H

#include "core/common.h"

#define THROTTLE_KEY_MAX 96

struct throttle;

enum throttle_result {
    THROTTLE_OK,      /* counted: go ahead */
    THROTTLE_LIMITED, /* the key has had `max` attempts in its window */
    THROTTLE_FULL,    /* the key has no slot and every slot is live */
};

/* NULL when out of memory. */
struct throttle *throttle_new(size_t slots, int64_t window_s);
void throttle_free(struct throttle *t);
/* Counts one attempt for key and returns THROTTLE_OK, or counts nothing and returns why not; then
 * *retry_after (when not NULL) is the seconds until the key's window ends (LIMITED) or until the
 * first live slot's window ends (FULL), at least 1. */
enum throttle_result throttle_reserve(struct throttle *t, const char *key, int max, int64_t now,
                                      int64_t *retry_after);
/* Gives back one attempt that throttle_reserve() counted for key (nothing if it has none). */
void throttle_release(struct throttle *t, const char *key);
/* Forgets every attempt counted for key. */
void throttle_clear(struct throttle *t, const char *key);
/* Writes the throttle key of a client address (as http_request.client_ip has it) into out: "ip:"
 * and what one holder of addresses has, an IPv4 address or an IPv6 /64 (so a host with a /64
 * cannot make a new key from every address in it): "ip:192.0.2.1", "ip:2001:db8:1:2::/64". An
 * IPv4-mapped IPv6 address is its IPv4 address; text that is no address is kept as it is. */
void throttle_ip_key(const char *ip, char *out, size_t n);

#endif
