/* history.c: waves and earlier declines from requests in arrival order (see history.h).
 * Times are appended in order, so a window's count is a binary search: waves cost
 * O(log n) each, whatever K and M. */
#include "core/common.h"
#include "rules/history.h"

struct times {
    int64_t *v;
    size_t n, alloc;
};

struct link_slot {
    char *link; /* NULL: free */
    struct times t;
};

struct rules_history {
    struct times all;
    struct link_slot *links; /* open addressing, size a power of two */
    size_t nlinks, alinks;
    int64_t *declined; /* open addressing user ids; 0: free */
    size_t ndeclined, adeclined;
};

static uint64_t hash_text(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static uint64_t hash_id(int64_t id)
{
    uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
}

static dm_err times_push(struct times *t, int64_t at)
{
    if (t->n == t->alloc) {
        size_t na = t->alloc ? t->alloc * 2 : 16;
        int64_t *v = realloc(t->v, na * sizeof *v);
        if (!v) return DM_ENOMEM;
        t->v = v;
        t->alloc = na;
    }
    t->v[t->n++] = at;
    return DM_OK;
}

/* Entries with time > since. */
static int64_t times_after(const struct times *t, int64_t since)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->v[mid] > since)
            hi = mid;
        else
            lo = mid + 1;
    }
    return (int64_t)(t->n - lo);
}

struct rules_history *rules_history_new(void)
{
    return calloc(1, sizeof(struct rules_history));
}

void rules_history_free(struct rules_history *h)
{
    if (!h) return;
    free(h->all.v);
    for (size_t i = 0; i < h->alinks; i++) {
        free(h->links[i].link);
        free(h->links[i].t.v);
    }
    free(h->links);
    free(h->declined);
    free(h);
}

static struct link_slot *link_find(struct link_slot *v, size_t size, const char *link)
{
    for (size_t i = hash_text(link) & (size - 1);; i = (i + 1) & (size - 1))
        if (!v[i].link || strcmp(v[i].link, link) == 0) return &v[i];
}

static dm_err links_grow(struct rules_history *h)
{
    size_t na = h->alinks ? h->alinks * 2 : 64;
    struct link_slot *v = calloc(na, sizeof *v);
    if (!v) return DM_ENOMEM;
    for (size_t i = 0; i < h->alinks; i++)
        if (h->links[i].link) *link_find(v, na, h->links[i].link) = h->links[i];
    free(h->links);
    h->links = v;
    h->alinks = na;
    return DM_OK;
}

static int64_t *declined_find(int64_t *v, size_t size, int64_t user)
{
    for (size_t i = hash_id(user) & (size - 1);; i = (i + 1) & (size - 1))
        if (!v[i] || v[i] == user) return &v[i];
}

static dm_err declined_add(struct rules_history *h, int64_t user)
{
    if (2 * (h->ndeclined + 1) > h->adeclined) {
        size_t na = h->adeclined ? h->adeclined * 2 : 64;
        int64_t *v = calloc(na, sizeof *v);
        if (!v) return DM_ENOMEM;
        for (size_t i = 0; i < h->adeclined; i++)
            if (h->declined[i]) *declined_find(v, na, h->declined[i]) = h->declined[i];
        free(h->declined);
        h->declined = v;
        h->adeclined = na;
    }
    int64_t *slot = declined_find(h->declined, h->adeclined, user);
    if (!*slot) {
        *slot = user;
        h->ndeclined++;
    }
    return DM_OK;
}

dm_err rules_history_add(struct rules_history *h, const struct rules_request *r, bool declined)
{
    if (times_push(&h->all, r->tg_date)) return DM_ENOMEM;
    if (2 * (h->nlinks + 1) > h->alinks && links_grow(h)) return DM_ENOMEM;
    struct link_slot *s = link_find(h->links, h->alinks, r->invite_link);
    if (!s->link) {
        if (!(s->link = strdup(r->invite_link))) return DM_ENOMEM;
        h->nlinks++;
    }
    if (times_push(&s->t, r->tg_date)) return DM_ENOMEM;
    return declined && r->user_id > 0 ? declined_add(h, r->user_id) : DM_OK;
}

static int64_t wave_count(void *ctx, const struct rules_request *r, bool same_link, int64_t seconds)
{
    struct rules_history *h = ctx;
    const struct times *t = &h->all;
    if (same_link) {
        if (!h->alinks) return 0;
        const struct link_slot *s = link_find(h->links, h->alinks, r->invite_link);
        if (!s->link) return 0;
        t = &s->t;
    }
    return times_after(t, r->tg_date - seconds);
}

static bool declined_before(void *ctx, const struct rules_request *r)
{
    struct rules_history *h = ctx;
    return h->adeclined && *declined_find(h->declined, h->adeclined, r->user_id) != 0;
}

struct rules_context rules_history_context(struct rules_history *h)
{
    return (struct rules_context){
        .wave_count = wave_count, .declined_before = declined_before, .ctx = h};
}
