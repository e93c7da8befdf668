#include "core/common.h"
#include "http/throttle.h"

#include <pthread.h>

struct slot {
    char key[96];
    int failures;
    int64_t window_start;
};

struct throttle {
    pthread_mutex_t lock;
    int64_t window;
    size_t n;
    struct slot slots[];
};

struct throttle *throttle_new(size_t slots, int64_t window_s)
{
    struct throttle *t = calloc(1, sizeof *t + slots * sizeof(struct slot));
    if (!t) return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->window = window_s;
    t->n = slots;
    return t;
}

void throttle_free(struct throttle *t)
{
    if (!t) return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* The slot for key, or NULL. Caller holds the lock. */
static struct slot *find(struct throttle *t, const char *key, int64_t now)
{
    for (size_t i = 0; i < t->n; i++) {
        struct slot *s = &t->slots[i];
        if (s->key[0] && strcmp(s->key, key) == 0) {
            if (now - s->window_start >= t->window) { /* window over: forget */
                s->failures = 0;
                s->window_start = now;
            }
            return s;
        }
    }
    return NULL;
}

bool throttle_allowed(struct throttle *t, const char *key, int max, int64_t now,
                      int64_t *retry_after)
{
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, key, now);
    bool ok = !s || s->failures < max;
    if (!ok && retry_after) *retry_after = DM_MAX(1, s->window_start + t->window - now);
    pthread_mutex_unlock(&t->lock);
    return ok;
}

void throttle_fail(struct throttle *t, const char *key, int64_t now)
{
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, key, now);
    if (!s) {
        s = &t->slots[0];
        for (size_t i = 0; i < t->n; i++) {
            if (!t->slots[i].key[0]) {
                s = &t->slots[i];
                break;
            }
            if (t->slots[i].window_start < s->window_start) s = &t->slots[i];
        }
        dm_strlcpy(s->key, key, sizeof s->key);
        s->failures = 0;
        s->window_start = now;
    }
    s->failures++;
    pthread_mutex_unlock(&t->lock);
}

void throttle_clear(struct throttle *t, const char *key)
{
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, key, 0);
    if (s) s->key[0] = 0;
    pthread_mutex_unlock(&t->lock);
}

void throttle_ip_key(const char *ip, char *out, size_t n)
{
    snprintf(out, n, "ip:%s", ip);
}
