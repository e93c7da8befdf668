#include "core/common.h"
#include "store/backend.h"

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
dm_err store_admin_create(struct store *st, const char *name, const char *pw_hash, int64_t now,
                          int64_t *id, struct dm_error *err)
{
    return st->ops->admin_create(st, name, pw_hash, now, id, err);
}

dm_err store_admin_get(struct store *st, const char *name, struct store_admin *out,
                       struct dm_error *err)
{
    return st->ops->admin_get(st, name, out, err);
}

dm_err store_admin_count(struct store *st, int64_t *n, struct dm_error *err)
{
    return st->ops->admin_count(st, n, err);
}

dm_err store_admin_set_password(struct store *st, int64_t id, const char *pw_hash,
                                struct dm_error *err)
{
    return st->ops->admin_set_password(st, id, pw_hash, err);
}

dm_err store_websession_create(struct store *st, const struct store_websession *ws,
                               struct dm_error *err)
{
    return st->ops->websession_create(st, ws, err);
}

dm_err store_websession_get(struct store *st, const char *token_hash, int64_t now,
                            struct store_websession *out, struct dm_error *err)
{
    return st->ops->websession_get(st, token_hash, now, out, err);
}

dm_err store_websession_delete(struct store *st, const char *token_hash, struct dm_error *err)
{
    return st->ops->websession_delete(st, token_hash, err);
}

dm_err store_setting_get(struct store *st, const char *key, char **value, struct dm_error *err)
{
    return st->ops->setting_get(st, key, value, err);
}

dm_err store_setting_set(struct store *st, const char *key, const char *value, struct dm_error *err)
{
    return st->ops->setting_set(st, key, value, err);
}

dm_err store_setting_delete(struct store *st, const char *key, struct dm_error *err)
{
    return st->ops->setting_delete(st, key, err);
}

dm_err store_chat_get(struct store *st, int64_t chat_id, struct store_chat *out,
                      struct dm_error *err)
{
    return st->ops->chat_get(st, chat_id, out, err);
}

dm_err store_chat_put(struct store *st, const struct store_chat *c, struct dm_error *err)
{
    return st->ops->chat_put(st, c, err);
}

dm_err store_chat_list(struct store *st, struct store_chat **out, size_t *n, struct dm_error *err)
{
    return st->ops->chat_list(st, out, n, err);
}

dm_err store_request_add(struct store *st, const struct store_request *r, bool *inserted,
                         struct dm_error *err)
{
    return st->ops->request_add(st, r, inserted, err);
}

dm_err store_request_get(struct store *st, int64_t id, struct store_request *out,
                         struct dm_error *err)
{
    return st->ops->request_get(st, id, out, err);
}

dm_err store_request_list(struct store *st, const struct store_request_filter *f, int64_t before_id,
                          int limit, struct store_request *out, int *n, struct dm_error *err)
{
    return st->ops->request_list(st, f, before_id, limit, out, n, err);
}

dm_err store_request_counts(struct store *st, const struct store_request_filter *f,
                            int64_t counts[REQ_STATUS_COUNT], struct dm_error *err)
{
    return st->ops->request_counts(st, f, counts, err);
}

dm_err store_job_create_ids(struct store *st, const struct store_job *job, const int64_t *ids,
                            size_t n, int64_t now, int64_t *id, struct dm_error *err)
{
    return st->ops->job_create_ids(st, job, ids, n, now, id, err);
}

dm_err store_job_create_filter(struct store *st, const struct store_job *job,
                               const struct store_request_filter *f, int64_t now, int64_t *id,
                               struct dm_error *err)
{
    return st->ops->job_create_filter(st, job, f, now, id, err);
}

dm_err store_job_get(struct store *st, int64_t id, struct store_job *out, struct dm_error *err)
{
    return st->ops->job_get(st, id, out, err);
}

dm_err store_job_list(struct store *st, int64_t before_id, int limit, struct store_job *out, int *n,
                      struct dm_error *err)
{
    return st->ops->job_list(st, before_id, limit, out, n, err);
}

dm_err store_job_claim(struct store *st, const char *owner, int64_t now, int64_t lease_until,
                       struct store_job *out, struct dm_error *err)
{
    return st->ops->job_claim(st, owner, now, lease_until, out, err);
}

dm_err store_job_renew(struct store *st, int64_t id, const char *owner, int64_t lease_until,
                       struct dm_error *err)
{
    return st->ops->job_renew(st, id, owner, lease_until, err);
}

dm_err store_job_next_items(struct store *st, int64_t job_id, int64_t after, int limit,
                            struct store_item *out, int *n, struct dm_error *err)
{
    return st->ops->job_next_items(st, job_id, after, limit, out, n, err);
}

dm_err store_job_item_finish(struct store *st, const struct store_item *it, int64_t now,
                             struct dm_error *err)
{
    return st->ops->job_item_finish(st, it, now, err);
}

dm_err store_job_items(struct store *st, int64_t job_id, int outcome, int64_t after, int limit,
                       struct store_item *out, int *n, struct dm_error *err)
{
    return st->ops->job_items(st, job_id, outcome, after, limit, out, n, err);
}

dm_err store_job_set_wait(struct store *st, int64_t id, int64_t wait_until, const char *why,
                          struct dm_error *err)
{
    return st->ops->job_set_wait(st, id, wait_until, why, err);
}

dm_err store_job_finish(struct store *st, int64_t id, int state, const char *error, int64_t now,
                        struct dm_error *err)
{
    return st->ops->job_finish(st, id, state, error, now, err);
}

dm_err store_job_create_load(struct store *st, const struct store_job *job, int64_t now,
                             int64_t *id, struct dm_error *err)
{
    return st->ops->job_create_load(st, job, now, id, err);
}

dm_err store_job_load_page(struct store *st, int64_t job_id, const char *owner,
                           const struct store_request *rows, size_t n, const char *cursor,
                           int64_t total, int64_t now, int64_t *added, struct dm_error *err)
{
    return st->ops->job_load_page(st, job_id, owner, rows, n, cursor, total, now, added, err);
}

dm_err store_job_add_page(struct store *st, int64_t job_id, const char *owner,
                          const struct store_request *rows, size_t n, const char *cursor,
                          int64_t now, struct dm_error *err)
{
    return st->ops->job_add_page(st, job_id, owner, rows, n, cursor, now, err);
}

dm_err store_job_finish_chat(struct store *st, int64_t job_id, const char *owner, int64_t chat_id,
                             int outcome, const char *error, const char *cursor, int64_t now,
                             int64_t *finished, struct dm_error *err)
{
    return st->ops->job_finish_chat(st, job_id, owner, chat_id, outcome, error, cursor, now,
                                    finished, err);
}

dm_err store_session_add(struct store *st, const struct store_session *s, struct dm_error *err)
{
    return st->ops->session_add(st, s, err);
}

dm_err store_session_get(struct store *st, const char *name, struct store_session *out,
                         struct dm_error *err)
{
    return st->ops->session_get(st, name, out, err);
}

dm_err store_session_list(struct store *st, struct store_session **out, size_t *n,
                          struct dm_error *err)
{
    return st->ops->session_list(st, out, n, err);
}

dm_err store_session_update(struct store *st, const struct store_session *s, struct dm_error *err)
{
    return st->ops->session_update(st, s, err);
}

dm_err store_session_delete(struct store *st, const char *name, struct dm_error *err)
{
    return st->ops->session_delete(st, name, err);
}

dm_err store_login_put(struct store *st, const struct store_login *l, int64_t now,
                       struct dm_error *err)
{
    return st->ops->login_put(st, l, now, err);
}

dm_err store_login_get(struct store *st, const char *id, int64_t now, struct store_login *out,
                       struct dm_error *err)
{
    return st->ops->login_get(st, id, now, out, err);
}

dm_err store_login_delete(struct store *st, const char *id, struct dm_error *err)
{
    return st->ops->login_delete(st, id, err);
}

dm_err store_audit_add(struct store *st, const struct store_audit *a, struct dm_error *err)
{
    return st->ops->audit_add(st, a, err);
}

dm_err store_audit_list(struct store *st, int64_t before_id, int limit, struct store_audit *out,
                        int *n, struct dm_error *err)
{
    return st->ops->audit_list(st, before_id, limit, out, n, err);
}

dm_err store_lease_acquire(struct store *st, const char *name, const char *owner, int64_t now,
                           int64_t until, bool *held, struct dm_error *err)
{
    return st->ops->lease_acquire(st, name, owner, now, until, held, err);
}

dm_err store_lease_release(struct store *st, const char *name, const char *owner,
                           struct dm_error *err)
{
    return st->ops->lease_release(st, name, owner, err);
}
