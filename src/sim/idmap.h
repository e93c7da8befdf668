/* idmap.h: an open-addressing hash map from int64 ids to uint32 values (tgsim's indexes).
 *
 * A map owns its arrays; idmap_release() frees them and leaves an empty, reusable map.
 * Keys are any int64; a put for an existing key replaces its value. There is no removal:
 * tgsim's world only ever adds ids. Not thread-safe: the world lock guards every map. */
#ifndef DM_SIM_IDMAP_H
#define DM_SIM_IDMAP_H

#include "core/common.h"

struct idmap {
    int64_t *keys;
    uint32_t *vals; /* IDMAP_EMPTY marks a free slot */
    size_t cap;     /* a power of two, or 0 */
    size_t len;
};

#define IDMAP_EMPTY UINT32_MAX

void idmap_init(struct idmap *m);
void idmap_release(struct idmap *m);
/* val must not be IDMAP_EMPTY. DM_ENOMEM leaves the map as it was. */
dm_err idmap_put(struct idmap *m, int64_t key, uint32_t val);
bool idmap_get(const struct idmap *m, int64_t key, uint32_t *val);

#endif
