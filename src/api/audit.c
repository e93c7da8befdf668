/* audit.c: the audit log, newest first. */
#include "core/common.h"
#include "api/api.h"

static dm_err audit_rows(const struct api_ctx *c, int64_t before, int limit, void *out, int *n,
                         struct dm_error *err)
{
    return store_audit_list(c->env->store, before, limit, out, n, err);
}

static json_t *audit_json(const void *row, int64_t *id)
{
    const struct store_audit *a = row;
    *id = a->id;
    return json_pack("{s:I,s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:s,s:s}", "id", (json_int_t)a->id, "at",
                     (json_int_t)a->at, "admin", a->admin, "action", a->action, "request_id",
                     (json_int_t)a->request_id, "chat_id", (json_int_t)a->chat_id, "user_id",
                     (json_int_t)a->user_id, "job_id", (json_int_t)a->job_id, "via", a->via,
                     "result", a->result, "detail", a->detail);
}

void api_audit_list(struct api_ctx *c)
{
    api_list_page(c, sizeof(struct store_audit), audit_rows, audit_json);
}
