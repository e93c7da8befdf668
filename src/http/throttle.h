/* throttle.h: counts failed attempts per key (an IP, a login name) in a sliding window, to slow
 * down password guessing. Process-wide and thread-safe. Keys are kept in a fixed table; when it
 * is full the entry whose window started longest ago is reused. */
#ifndef DM_HTTP_THROTTLE_H
#define DM_HTTP_THROTTLE_H

#include "core/common.h"

struct throttle;

struct throttle *throttle_new(size_t slots, int64_t window_s);
void throttle_free(struct throttle *t);
/* False when key has had `max` or more failures in the current window; then *retry_after says
 * when the window ends (seconds from now). */
bool throttle_allowed(struct throttle *t, const char *key, int max, int64_t now,
                      int64_t *retry_after);
void throttle_fail(struct throttle *t, const char *key, int64_t now);
void throttle_clear(struct throttle *t, const char *key);
/* Writes the throttle key of a client address (as http_request.client_ip has it) into out:
 * "ip:" and the address. */
void throttle_ip_key(const char *ip, char *out, size_t n);

#endif
