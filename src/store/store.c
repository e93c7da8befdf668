#include "core/common.h"
#include "store/store.h"

static const char *const status_names[REQ_STATUS_COUNT] = {"pending", "approved", "declined"};
static const char *const kind_names[] = {"approve", "decline", "load"};
static const char *const session_status_names[] = {"unchecked", "active", "invalid"};
static const char *const state_names[] = {"queued", "running", "done", "failed", "cancelled"};

const char *request_status_name(int status)
{
    return status >= 0 && status < REQ_STATUS_COUNT ? status_names[status] : "unknown";
}

int request_status_parse(const char *s)
{
    for (int i = 0; i < REQ_STATUS_COUNT; i++)
        if (s && strcmp(s, status_names[i]) == 0) return i;
    return -1;
}

const char *job_kind_name(int kind)
{
    return kind >= 0 && kind < (int)DM_ARRAY_LEN(kind_names) ? kind_names[kind] : "unknown";
}

const char *job_state_name(int state)
{
    return state >= 0 && state < (int)DM_ARRAY_LEN(state_names) ? state_names[state] : "unknown";
}

const char *session_status_name(int status)
{
    return status >= 0 && status < (int)DM_ARRAY_LEN(session_status_names)
               ? session_status_names[status]
               : "unknown";
}

dm_err store_open(const char *url, struct store **out, struct dm_error *err)
{
    if (strncmp(url, "sqlite:", 7) == 0) return store_sqlite_ops.open(url + 7, out, err);
    if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
        return store_postgres_ops.open(url, out, err); /* libpq reads the whole URL */
    const char *scheme_end = strstr(url, "://");
    if (scheme_end) /* print the scheme only: the rest may hold a password */
        return dm_fail(
            err, DM_EINVAL,
            "unsupported database URL scheme '%.*s': use sqlite:PATH, a file path or postgresql://",
            (int)DM_MIN(scheme_end - url, 20), url);
    return store_sqlite_ops.open(url, out, err);
}

void store_close(struct store *st)
{
    if (st) st->ops->close(st);
}
