#include "core/common.h"
#include "sim/idmap.h"

void idmap_init(struct idmap *m)
{
    memset(m, 0, sizeof *m);
}

void idmap_release(struct idmap *m)
{
    free(m->keys);
    free(m->vals);
    idmap_init(m);
}

static size_t slot_of(int64_t key, size_t cap)
{
    uint64_t z = (uint64_t)key + 0x9e3779b97f4a7c15ull; /* splitmix64 finalizer */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (size_t)z & (cap - 1);
}

/* Inserts without growing; the caller made sure there is room. */
static void raw_put(int64_t *keys, uint32_t *vals, size_t cap, int64_t key, uint32_t val,
                    bool *added)
{
    size_t i = slot_of(key, cap);
    while (vals[i] != IDMAP_EMPTY && keys[i] != key)
        i = (i + 1) & (cap - 1);
    *added = vals[i] == IDMAP_EMPTY;
    keys[i] = key;
    vals[i] = val;
}

static dm_err grow(struct idmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    int64_t *keys = malloc(ncap * sizeof *keys);
    uint32_t *vals = malloc(ncap * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return DM_ENOMEM;
    }
    memset(vals, 0xff, ncap * sizeof *vals);
    bool added;
    for (size_t i = 0; i < m->cap; i++)
        if (m->vals[i] != IDMAP_EMPTY) raw_put(keys, vals, ncap, m->keys[i], m->vals[i], &added);
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = ncap;
    return DM_OK;
}

dm_err idmap_put(struct idmap *m, int64_t key, uint32_t val)
{
    if ((m->len + 1) * 4 > m->cap * 3) { /* keep the load under 3/4 */
        dm_err e = grow(m);
        if (e) return e;
    }
    bool added;
    raw_put(m->keys, m->vals, m->cap, key, val, &added);
    if (added) m->len++;
    return DM_OK;
}

bool idmap_get(const struct idmap *m, int64_t key, uint32_t *val)
{
    if (!m->cap) return false;
    for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->vals[i] == IDMAP_EMPTY) return false;
        if (m->keys[i] == key) {
            if (val) *val = m->vals[i];
            return true;
        }
    }
}
