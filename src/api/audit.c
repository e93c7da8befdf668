/* audit.c: the audit log, newest first. */
#include "core/common.h"
#include "api/api.h"
#include "app.h"

void api_audit_list(struct api_ctx *c)
{
    int limit;
    int64_t before;
    if (!api_query_page(c, &limit, &before)) return;
    struct store_audit *rows = calloc((size_t)limit, sizeof *rows);
    if (!rows) {
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    int n = 0;
    struct dm_error err = {0};
    dm_err e = c->app->store->ops->audit_list(c->app->store, before, limit, rows, &n, &err);
    if (e) {
        free(rows);
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array();
    for (int i = 0; i < n; i++) {
        const struct store_audit *a = &rows[i];
        json_array_append_new(
            items, json_pack("{s:I,s:I,s:s,s:s,s:I,s:I,s:I,s:I,s:s,s:s,s:s}", "id", (json_int_t)a->id,
                             "at", (json_int_t)a->at, "admin", a->admin, "action", a->action,
                             "request_id", (json_int_t)a->request_id, "chat_id",
                             (json_int_t)a->chat_id, "user_id", (json_int_t)a->user_id, "job_id",
                             (json_int_t)a->job_id, "via", a->via, "result", a->result, "detail",
                             a->detail));
    }
    json_t *next = n == limit ? json_integer(rows[n - 1].id) : json_null();
    free(rows);
    http_res_json(c->res, 200, json_pack("{s:o,s:o}", "items", items, "next_before", next));
}
