/* body.c: each event kind's JSON body (see body.h). */
#include "core/common.h"
#include "alerts/body.h"

/* A JSON string of stored text (valid UTF-8 as the store cuts it; anything else is dropped). */
static json_t *text(const char *s)
{
    json_t *j = json_string(s);
    return j ? j : json_string("");
}

static json_t *request_json(struct store *st, const struct store_event *ev, struct dm_error *err,
                            dm_err *e)
{
    struct store_request *r = malloc(sizeof *r);
    if (!r) {
        *e = dm_fail(err, DM_ENOMEM, "out of memory");
        return NULL;
    }
    struct dm_error gone = {0};
    *e = store_request_get(st, ev->request_id, r, &gone);
    json_t *j;
    if (*e == DM_ENOTFOUND) { /* removed since: what the event knows */
        *e = DM_OK;
        j = json_pack("{s:I,s:I,s:I}", "id", (json_int_t)ev->request_id, "chat_id",
                      (json_int_t)ev->chat_id, "user_id", (json_int_t)ev->user_id);
    } else if (*e) {
        dm_fail(err, *e, "%s", gone.msg);
        j = NULL;
    } else {
        j = json_pack("{s:I,s:I,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:I,s:s}", "id", (json_int_t)r->id,
                      "chat_id", (json_int_t)r->chat_id, "chat_title", text(r->chat_title),
                      "user_id", (json_int_t)r->user_id, "first_name", text(r->first_name),
                      "last_name", text(r->last_name), "username", text(r->username), "bio",
                      text(r->bio), "invite_link", text(r->invite_link), "date",
                      (json_int_t)r->tg_date, "status", request_status_name(r->status));
    }
    free(r);
    return j;
}

static json_t *job_json(struct store *st, const struct store_event *ev, struct dm_error *err,
                        dm_err *e)
{
    struct store_job *j = malloc(sizeof *j);
    if (!j) {
        *e = dm_fail(err, DM_ENOMEM, "out of memory");
        return NULL;
    }
    struct dm_error gone = {0};
    *e = store_job_get(st, ev->job_id, j, &gone);
    json_t *o = NULL;
    if (*e == DM_ENOTFOUND) { /* what the event knows */
        *e = DM_OK;
        o = json_pack("{s:I,s:o}", "id", (json_int_t)ev->job_id, "state", text(ev->result));
    } else if (*e) {
        dm_fail(err, *e, "%s", gone.msg);
    } else {
        o = json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:o}", "id", (json_int_t)j->id,
                      "kind", job_kind_name(j->kind), "state", job_state_name(j->state), "via",
                      text(j->via), "admin", text(j->admin), "description", text(j->description),
                      "total", (json_int_t)j->total, "done", (json_int_t)j->done, "skipped",
                      (json_int_t)j->skipped, "failed", (json_int_t)j->failed, "error",
                      text(j->error));
    }
    free(j);
    return o;
}

/* The members of ev's kind, set into o. */
static dm_err kind_fields(struct store *st, const struct store_event *ev,
                          const struct alert_settings *s, json_t *o, struct dm_error *err)
{
    dm_err e = DM_OK;
    json_t *sub = NULL;
    switch (ev->kind) {
    case EV_REQUEST_NEW:
        if ((sub = request_json(st, ev, err, &e))) json_object_set_new(o, "request", sub);
        break;
    case EV_DECISION:
        if ((sub = request_json(st, ev, err, &e))) json_object_set_new(o, "request", sub);
        json_object_set_new(o, "result", text(ev->result));
        json_object_set_new(o, "by", text(ev->subject));
        json_object_set_new(o, "via", text(ev->detail));
        json_object_set_new(o, "job_id", json_integer(ev->job_id));
        break;
    case EV_JOB_FINISHED:
    case EV_JOB_FAILED:
        if ((sub = job_json(st, ev, err, &e))) json_object_set_new(o, "job", sub);
        break;
    case EV_SESSION_INVALID:
        json_object_set_new(o, "session", text(ev->subject));
        json_object_set_new(o, "reason", text(ev->detail));
        break;
    case EV_FLOOD_WAIT:
        json_object_set_new(o, "account", text(ev->subject));
        json_object_set_new(o, "seconds", json_integer(ev->amount));
        json_object_set_new(o, "job_id", json_integer(ev->job_id));
        break;
    case EV_WAVE:
        json_object_set_new(o, "chat_id", json_integer(ev->chat_id));
        json_object_set_new(o, "rule", text(ev->detail));
        json_object_set_new(o, "action", text(ev->result));
        json_object_set_new(o, "requests", json_integer(ev->amount));
        json_object_set_new(o, "request_id", json_integer(ev->request_id));
        break;
    case EV_BACKLOG:
        json_object_set_new(o, "pending", json_integer(ev->amount));
        json_object_set_new(o, "threshold", json_integer(s->backlog_threshold));
        break;
    case EV_SUMMARY: {
        json_t *sum = json_loads(ev->detail, 0, NULL);
        if (json_is_object(sum)) json_object_update(o, sum);
        json_decref(sum);
        break;
    }
    default:
        json_object_set_new(o, "message", text(ev->detail));
    }
    return e;
}

/* The body as text; *out NULL when it would not fit a delivery. */
static dm_err dump(json_t *o, char **out, struct dm_error *err)
{
    *out = json_dumps(o, JSON_COMPACT);
    if (!*out) return dm_fail(err, DM_ENOMEM, "out of memory");
    if (strlen(*out) < STORE_BODY_MAX) return DM_OK;
    free(*out);
    *out = NULL;
    return DM_OK;
}

dm_err event_body(struct store *st, const struct store_event *ev, const struct alert_settings *s,
                  char **out, struct dm_error *err)
{
    *out = NULL;
    if (ev->kind == EV_FLOOD_WAIT &&
        (s->flood_wait_minutes <= 0 || ev->amount < s->flood_wait_minutes * 60))
        return DM_OK;
    json_t *o = json_pack("{s:I,s:s,s:I}", "id", (json_int_t)ev->id, "kind",
                          event_kind_name(ev->kind), "at", (json_int_t)ev->at);
    if (!o) return dm_fail(err, DM_ENOMEM, "out of memory");
    dm_err e = kind_fields(st, ev, s, o, err);
    if (!e) e = dump(o, out, err);
    if (!e && !*out) {
        /* names full of characters JSON escapes in 6 bytes each: the request's ids only */
        json_object_set_new(o, "request",
                            json_pack("{s:I,s:I,s:I}", "id", (json_int_t)ev->request_id, "chat_id",
                                      (json_int_t)ev->chat_id, "user_id", (json_int_t)ev->user_id));
        json_object_set_new(o, "cut", json_true());
        e = dump(o, out, err);
        if (!e && !*out)
            e = dm_fail(err, DM_ETOOBIG, "event %" PRId64 "'s body is too long", ev->id);
    }
    json_decref(o);
    return e;
}
