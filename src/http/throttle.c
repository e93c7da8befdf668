#include "core/common.h"
#include "http/throttle.h"

#include <arpa/inet.h>
#include <pthread.h>

struct slot {
    uint64_t hash; /* of key, to skip most strcmp calls */
    int count;     /* attempts counted in the window */
    int64_t window_start;
    char key[THROTTLE_KEY_MAX]; /* "" when never used */
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

/* FNV-1a over the part of key that is kept. */
static uint64_t key_hash(const char *key)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; key[i] && i < THROTTLE_KEY_MAX - 1; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ull;
    }
    return h;
}

static bool slot_is(const struct slot *s, uint64_t h, const char *key)
{
    return s->key[0] && s->hash == h && strncmp(s->key, key, THROTTLE_KEY_MAX - 1) == 0;
}

static bool slot_live(const struct throttle *t, const struct slot *s, int64_t now)
{
    return s->key[0] && s->count > 0 && now - s->window_start < t->window;
}

/* The slot of key, or NULL. Caller holds the lock. */
static struct slot *find(struct throttle *t, const char *key)
{
    uint64_t h = key_hash(key);
    for (size_t i = 0; i < t->n; i++)
        if (slot_is(&t->slots[i], h, key)) return &t->slots[i];
    return NULL;
}

enum throttle_result throttle_reserve(struct throttle *t, const char *key, int max, int64_t now,
                                      int64_t *retry_after)
{
    uint64_t h = key_hash(key);
    enum throttle_result r = THROTTLE_OK;
    int64_t wait = 0;
    pthread_mutex_lock(&t->lock);
    struct slot *s = NULL, *free_slot = NULL;
    int64_t first_end = INT64_MAX;
    for (size_t i = 0; i < t->n && !s; i++) {
        struct slot *x = &t->slots[i];
        if (slot_is(x, h, key))
            s = x;
        else if (!slot_live(t, x, now)) {
            if (!free_slot) free_slot = x;
        } else
            first_end = DM_MIN(first_end, x->window_start + t->window);
    }
    if (!s && free_slot) { /* a slot whose window ended, or that never had a count */
        s = free_slot;
        dm_strlcpy(s->key, key, sizeof s->key);
        s->hash = h;
        s->count = 0;
    }
    if (s && !slot_live(t, s, now)) { /* a new window */
        s->count = 0;
        s->window_start = now;
    }
    if (!s) {
        r = THROTTLE_FULL;
        wait = first_end - now;
    } else if (s->count >= max) {
        r = THROTTLE_LIMITED;
        wait = s->window_start + t->window - now;
    } else {
        s->count++;
    }
    pthread_mutex_unlock(&t->lock);
    if (r != THROTTLE_OK && retry_after) *retry_after = DM_MAX(1, wait);
    return r;
}

void throttle_release(struct throttle *t, const char *key)
{
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, key);
    if (s && s->count > 0) s->count--;
    pthread_mutex_unlock(&t->lock);
}

void throttle_clear(struct throttle *t, const char *key)
{
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, key);
    if (s) s->count = 0;
    pthread_mutex_unlock(&t->lock);
}

void throttle_ip_key(const char *ip, char *out, size_t n)
{
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];
    if (inet_pton(AF_INET, ip, a) == 1) {
        inet_ntop(AF_INET, a, text, sizeof text);
        snprintf(out, n, "ip:%s", text);
    } else if (inet_pton(AF_INET6, ip, a) == 1) {
        static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, v4mapped, sizeof v4mapped) == 0) {
            inet_ntop(AF_INET, a + 12, text, sizeof text);
            snprintf(out, n, "ip:%s", text);
            return;
        }
        memset(a + 8, 0, 8);
        inet_ntop(AF_INET6, a, text, sizeof text);
        snprintf(out, n, "ip:%s/64", text);
    } else {
        snprintf(out, n, "ip:%s", ip);
    }
}
