/* via.c: a job's accounts from its via (via.h). */
#include "core/common.h"
#include "jobs/via.h"

bool via_is_several(const char *via)
{
    return strcmp(via, VIA_ANY_SESSION) == 0 || strchr(via, ',') != NULL;
}

/* The sessions active now, by name (store_session_list's order), at most VIA_MAX. */
static dm_err active_sessions(struct store *st, struct via_names *out, struct dm_error *err)
{
    struct store_session *s = NULL;
    size_t n = 0;
    dm_err e = store_session_list(st, &s, &n, err);
    for (size_t i = 0; !e && i < n && out->n < VIA_MAX; i++)
        if (s[i].status == SESSION_ACTIVE)
            dm_strlcpy(out->name[out->n++], s[i].name, STORE_NAME_MAX);
    free(s);
    if (!e && out->n == 0)
        e = dm_fail(err, DM_ENOTFOUND,
                    "No session is active: check the sessions on the Sessions page");
    return e;
}

dm_err via_names(struct store *st, const char *via, struct via_names *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    if (strcmp(via, VIA_ANY_SESSION) == 0) return active_sessions(st, out, err);
    for (const char *p = via;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= STORE_NAME_MAX || out->n == VIA_MAX)
            return dm_fail(err, DM_EINVAL, "the job's accounts '%.100s' are damaged", via);
        memcpy(out->name[out->n], p, len);
        out->name[out->n++][len] = 0;
        if (!p[len]) return DM_OK;
        p += len + 1;
    }
}

dm_err via_join(const char *const *names, size_t n, char *out, size_t size, struct dm_error *err)
{
    if (n == 0 || n > VIA_MAX)
        return dm_fail(err, DM_EINVAL, "a job uses 1 to %d sessions", VIA_MAX);
    size_t w = 0;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return dm_fail(err, DM_EINVAL, "session '%s' is named twice", names[i]);
        int k = snprintf(out + w, size - w, "%s%s", i ? "," : "", names[i]);
        if (k < 0 || (size_t)k >= size - w) return dm_fail(err, DM_ETOOBIG, "too many sessions");
        w += (size_t)k;
    }
    return DM_OK;
}
