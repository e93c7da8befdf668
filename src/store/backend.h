/* backend.h: the interface each storage backend implements (internal to store/). */
#ifndef DM_STORE_BACKEND_H
#define DM_STORE_BACKEND_H
#include "store/store.h"
struct store_ops {
    const char *name; /* "sqlite" */
    dm_err (*open)(const char *url, struct store **out, struct dm_error *err);
    void (*close)(struct store *st);

    dm_err (*admin_create)(struct store *st, const char *name, const char *pw_hash, int64_t now,
                           int64_t *id, struct dm_error *err); /* DM_EEXISTS if taken */
    dm_err (*admin_get)(struct store *st, const char *name, struct store_admin *out,
                        struct dm_error *err);
    dm_err (*admin_count)(struct store *st, int64_t *n, struct dm_error *err);
    dm_err (*admin_set_password)(struct store *st, int64_t id, const char *pw_hash,
                                 struct dm_error *err);

    dm_err (*websession_create)(struct store *st, const struct store_websession *ws,
                                struct dm_error *err);
    dm_err (*websession_get)(struct store *st, const char *token_hash, int64_t now,
                             struct store_websession *out, struct dm_error *err);
    dm_err (*websession_delete)(struct store *st, const char *token_hash, struct dm_error *err);

    dm_err (*setting_get)(struct store *st, const char *key, char **value, struct dm_error *err);
    dm_err (*setting_set)(struct store *st, const char *key, const char *value,
                          struct dm_error *err);
    dm_err (*setting_delete)(struct store *st, const char *key, struct dm_error *err);

    dm_err (*chat_get)(struct store *st, int64_t chat_id, struct store_chat *out,
                       struct dm_error *err);
    dm_err (*chat_put)(struct store *st, const struct store_chat *c, struct dm_error *err);
    dm_err (*chat_list)(struct store *st, struct store_chat **out, size_t *n, struct dm_error *err);

    dm_err (*request_add)(struct store *st, const struct store_request *r, bool *inserted,
                          struct dm_error *err);
    dm_err (*request_get)(struct store *st, int64_t id, struct store_request *out,
                          struct dm_error *err);
    dm_err (*request_list)(struct store *st, const struct store_request_filter *f, int64_t before_id,
                           int limit, struct store_request *out, int *n, struct dm_error *err);
    dm_err (*request_counts)(struct store *st, const struct store_request_filter *f,
                             int64_t counts[REQ_STATUS_COUNT], struct dm_error *err);

    dm_err (*job_create_ids)(struct store *st, const struct store_job *job, const int64_t *ids,
                             size_t n, int64_t now, int64_t *id, struct dm_error *err);
    dm_err (*job_create_filter)(struct store *st, const struct store_job *job,
                                const struct store_request_filter *f, int64_t now, int64_t *id,
                                struct dm_error *err);
    dm_err (*job_get)(struct store *st, int64_t id, struct store_job *out, struct dm_error *err);
    dm_err (*job_list)(struct store *st, int64_t before_id, int limit, struct store_job *out,
                       int *n, struct dm_error *err);
    dm_err (*job_claim)(struct store *st, const char *owner, int64_t now, int64_t lease_until,
                        struct store_job *out, struct dm_error *err);
    dm_err (*job_renew)(struct store *st, int64_t id, const char *owner, int64_t lease_until,
                        struct dm_error *err);
    dm_err (*job_next_items)(struct store *st, int64_t job_id, int64_t after, int limit,
                             struct store_item *out, int *n, struct dm_error *err);
    dm_err (*job_item_finish)(struct store *st, const struct store_item *it, int64_t now,
                              struct dm_error *err);
    dm_err (*job_items)(struct store *st, int64_t job_id, int outcome, int64_t after, int limit,
                        struct store_item *out, int *n, struct dm_error *err);
    dm_err (*job_set_wait)(struct store *st, int64_t id, int64_t wait_until, const char *why,
                           struct dm_error *err);
    dm_err (*job_finish)(struct store *st, int64_t id, int state, const char *error, int64_t now,
                         struct dm_error *err);

    dm_err (*job_create_load)(struct store *st, const struct store_job *job, int64_t now,
                              int64_t *id, struct dm_error *err);
    dm_err (*job_load_page)(struct store *st, int64_t job_id, const char *owner,
                            const struct store_request *rows, size_t n, const char *cursor,
                            int64_t total, int64_t now, int64_t *added, struct dm_error *err);

    dm_err (*job_add_page)(struct store *st, int64_t job_id, const char *owner,
                           const struct store_request *rows, size_t n, const char *cursor,
                           int64_t now, struct dm_error *err);
    dm_err (*job_finish_chat)(struct store *st, int64_t job_id, const char *owner, int64_t chat_id,
                              int outcome, const char *error, const char *cursor, int64_t now,
                              int64_t *finished, struct dm_error *err);

    dm_err (*session_add)(struct store *st, const struct store_session *s, struct dm_error *err);
    dm_err (*session_get)(struct store *st, const char *name, struct store_session *out,
                          struct dm_error *err);
    dm_err (*session_list)(struct store *st, struct store_session **out, size_t *n,
                           struct dm_error *err);
    dm_err (*session_update)(struct store *st, const struct store_session *s,
                             struct dm_error *err);
    dm_err (*session_delete)(struct store *st, const char *name, struct dm_error *err);

    dm_err (*login_put)(struct store *st, const struct store_login *l, int64_t now,
                        struct dm_error *err);
    dm_err (*login_get)(struct store *st, const char *id, int64_t now, struct store_login *out,
                        struct dm_error *err);
    dm_err (*login_delete)(struct store *st, const char *id, struct dm_error *err);

    dm_err (*audit_add)(struct store *st, const struct store_audit *a, struct dm_error *err);
    dm_err (*audit_list)(struct store *st, int64_t before_id, int limit, struct store_audit *out,
                         int *n, struct dm_error *err);

    dm_err (*lease_acquire)(struct store *st, const char *name, const char *owner, int64_t now,
                            int64_t until, bool *held, struct dm_error *err);
    dm_err (*lease_release)(struct store *st, const char *name, const char *owner,
                            struct dm_error *err);
};
struct store {
    const struct store_ops *ops;
};
extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_postgres_ops;
#endif
