/* jobs.c: decision jobs: list, one with its errors, cancel. */
#include "core/common.h"
#include "api/api.h"
#include "jobs/runner.h"
#include "jobs/via.h"

#define MAX_ERRORS_SHOWN 100

/* An admin limited to some channels sees only the jobs it started: the others' (the rules'
 * included) may be about channels it may not see, and name them. */
static bool sees_only_own(const struct api_ctx *c)
{
    return c->scope[0] != 0;
}

static dm_err list_of(const struct api_ctx *c, int whose, int64_t before, int limit, void *out,
                      int *n, struct dm_error *err)
{
    if (!sees_only_own(c))
        return store_job_list_of(c->env->store, whose, before, limit, out, n, err);
    *n = 0;
    if (whose == JOBS_RULES) return DM_OK;
    return store_job_list_by(c->env->store, c->session.admin_name, before, limit, out, n, err);
}

static dm_err job_rows(const struct api_ctx *c, int64_t before, int limit, void *out, int *n,
                       struct dm_error *err)
{
    return list_of(c, JOBS_ALL, before, limit, out, n, err);
}

static dm_err rules_job_rows(const struct api_ctx *c, int64_t before, int limit, void *out, int *n,
                             struct dm_error *err)
{
    return list_of(c, JOBS_RULES, before, limit, out, n, err);
}

static dm_err admin_job_rows(const struct api_ctx *c, int64_t before, int limit, void *out, int *n,
                             struct dm_error *err)
{
    return list_of(c, JOBS_ADMINS, before, limit, out, n, err);
}

static json_t *job_json(const void *row, int64_t *id)
{
    const struct store_job *j = row;
    *id = j->id;
    return api_job_json(j);
}

/* ?by=rules: the jobs the rules made (they gather decisions, one channel and action each);
 * ?by=admins: the others; absent: all. */
void api_jobs_list(struct api_ctx *c)
{
    const char *by = http_query(c->req, "by");
    api_rows_fn rows = job_rows;
    if (by && strcmp(by, "rules") == 0)
        rows = rules_job_rows;
    else if (by && strcmp(by, "admins") == 0)
        rows = admin_job_rows;
    else if (by && *by)
        return (void)api_bad_request(c, "'by' must be rules or admins (or left out for all).");
    api_list_page(c, sizeof(struct store_job), rows, job_json);
}

/* Reads the {id} of the path into *id; answers 404 when it is not a job id (digits only: "+1"
 * and " 1" are no other names of job 1). */
static bool path_job(struct api_ctx *c, struct store_job *job)
{
    char *end = NULL;
    errno = 0;
    long long id = strtoll(c->path_arg, &end, 10);
    if (errno || *end || id <= 0 || strspn(c->path_arg, "0123456789") != strlen(c->path_arg)) {
        http_res_error(c->res, 404, "not_found", "No job with id '%s'.", c->path_arg);
        return false;
    }
    struct dm_error err = {0};
    dm_err e = store_job_get(c->env->store, id, job, &err);
    if (e == DM_ENOTFOUND) {
        http_res_error(c->res, 404, "not_found", "No job with id %lld.", id);
        return false;
    }
    if (e) return api_store_failed(c, e, &err);
    return true;
}

/* What each account did in the job: [{via, done, skipped, failed}]; NULL after answering. */
static json_t *job_accounts_json(struct api_ctx *c, int64_t job_id)
{
    struct store_job_account rows[VIA_MAX];
    int n = 0;
    struct dm_error err = {0};
    dm_err e = store_job_accounts(c->env->store, job_id, rows, VIA_MAX, &n, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return NULL;
    }
    json_t *out = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(out, json_pack("{s:s,s:I,s:I,s:I}", "via", rows[i].via, "done",
                                             (json_int_t)rows[i].done, "skipped",
                                             (json_int_t)rows[i].skipped, "failed",
                                             (json_int_t)rows[i].failed));
    return out;
}

void api_jobs_get(struct api_ctx *c)
{
    struct store_job job;
    if (!path_job(c, &job)) return;
    if (sees_only_own(c) && strcmp(job.admin, c->session.admin_name) != 0) {
        http_res_error(c->res, 404, "not_found", "No job with id %" PRId64 " of yours.", job.id);
        return;
    }
    struct store_item *items = calloc(MAX_ERRORS_SHOWN, sizeof *items);
    if (!items) {
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    int n = 0;
    struct dm_error err = {0};
    dm_err e =
        store_job_items(c->env->store, job.id, ITEM_FAILED, 0, MAX_ERRORS_SHOWN, items, &n, &err);
    if (e) {
        free(items);
        api_store_failed(c, e, &err);
        return;
    }
    json_t *errors = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(errors, json_pack("{s:I,s:I,s:o}", "request_id",
                                                (json_int_t)items[i].request_id, "user_id",
                                                (json_int_t)items[i].user_id, "error",
                                                api_text(items[i].error)));
    free(items);
    json_t *accounts = job_accounts_json(c, job.id);
    if (!accounts) {
        json_decref(errors);
        return;
    }
    http_res_json(c->res, 200,
                  json_pack("{s:o,s:o,s:o}", "job", api_job_json(&job), "errors", errors,
                            "accounts", accounts));
}

void api_jobs_cancel(struct api_ctx *c)
{
    struct store_job job;
    if (!api_only_fields(c, c->body, NULL, NULL) || !path_job(c, &job)) return;
    if (c->role != ROLE_OWNER && strcmp(job.admin, c->session.admin_name) != 0) {
        http_res_error(c->res, 403, "forbidden",
                       "Cancelling job %" PRId64 " needs the owner role: you may cancel only the "
                       "jobs you started.",
                       job.id);
        return;
    }
    if (job.state != JOB_QUEUED && job.state != JOB_RUNNING) {
        http_res_error(c->res, 409, "conflict", "Job %" PRId64 " has already %s.", job.id,
                       job.state == JOB_CANCELLED ? "been cancelled" : "finished");
        return;
    }
    struct dm_error err = {0};
    dm_err e = store_job_finish(c->env->store, job.id, JOB_CANCELLED, "cancelled by an admin",
                                time(NULL), &err);
    if (!e) e = store_job_get(c->env->store, job.id, &job, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    job_runner_wake(c->env->jobs);
    http_res_json(c->res, 200, json_pack("{s:o}", "job", api_job_json(&job)));
}
