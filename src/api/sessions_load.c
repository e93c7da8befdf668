/* sessions_load.c: POST /api/sessions/{name}/load: start loading a channel's pending join
 * requests through a session (docs/api.md "Sessions"; the job itself is jobs/load.h).
 *
 * Before the job is created the channel is found and the account's right to see join
 * requests is checked (telegram/account.h), synchronously, so the admin hears "You don't have
 * permission to view join requests" (or a flood wait, or an invalid session) at once rather than
 * from a job. A decider loads only the channels assigned to them (roles), through any of the
 * sessions (owners make and remove those): another channel is a 403 before its rights are
 * asked. */
#include "core/common.h"
#include "api/api.h"
#include "core/log.h"
#include "jobs/load.h"
#include "telegram/account.h"
#include "telegram/session_file.h"

#define CHANNEL_INPUT_MAX 512
#define LOAD_LIMIT_MAX 100000000 /* more than any channel has pending */

/* Reads {"channel":s,"limit":n|"all"}; limit 0 means all. */
static bool read_body(struct api_ctx *c, struct account_ref *ref, int64_t *limit)
{
    const char *channel = NULL;
    if (!api_field_string(c, "channel", true, CHANNEL_INPUT_MAX, &channel)) return false;
    struct dm_error err = {0};
    if (account_ref_parse(channel, ref, &err)) return api_bad_request(c, "%s", err.msg);
    const json_t *l = json_object_get(c->body, "limit");
    *limit = LOAD_DEFAULT_LIMIT;
    if (!l || json_is_null(l)) return true;
    if (json_is_string(l) && strcmp(json_string_value(l), "all") == 0) {
        *limit = 0;
        return true;
    }
    if (!json_is_integer(l) || json_integer_value(l) < 1 || json_integer_value(l) > LOAD_LIMIT_MAX)
        return api_bad_request(c, "\"limit\" must be a whole number from 1 to %d, or \"all\".",
                               LOAD_LIMIT_MAX);
    *limit = json_integer_value(l);
    return true;
}

void api_sessions_load(struct api_ctx *c)
{
    if (!api_only_fields(c, c->body, NULL, "channel", "limit", NULL)) return;
    struct store *st = c->env->store;
    const char *name = c->path_arg;
    struct store_session s;
    struct dm_error err = {0};
    dm_err e = tg_session_name_valid(name) ? store_session_get(st, name, &s, &err) : DM_ENOTFOUND;
    if (e == DM_ENOTFOUND) {
        http_res_error(c->res, 404, "not_found", "No session named '%s'.", name);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    struct account_ref ref;
    struct load_params p = {0};
    if (!read_body(c, &ref, &p.limit)) return;

    struct account *a = NULL;
    struct tg_error te = {0};
    enum account_role role = ACCOUNT_NOT_ADMIN;
    e = account_open_chosen(c->env->accounts, name, &a, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    e = account_find(a, &ref, &p.channel, &te);
    /* a channel outside the caller's is refused before Telegram is asked about the session's
     * rights there (which would tell a decider about channels not theirs) */
    bool allowed = e || api_channel_allowed(c, p.channel.chat_id);
    if (!e && allowed) e = account_role(a, &p.channel, &role, &te);
    account_close(a);
    if (!allowed) return;
    if (!e && role != ACCOUNT_CAN_INVITE) e = tg_error_set(&te, TG_NO_RIGHT, 0);
    if (e) {
        log_info("api", "load via %s refused: %s", name, te.e.msg);
        api_tg_failed(c, &te);
        return;
    }

    struct store_job job = {.kind = JOB_LOAD};
    dm_strlcpy(job.via, name, sizeof job.via);
    dm_strlcpy(job.admin, c->session.admin_name, sizeof job.admin);
    char limit_text[48] = "all";
    if (p.limit) snprintf(limit_text, sizeof limit_text, "up to %" PRId64, p.limit);
    char description[sizeof job.description + sizeof p.channel + 64];
    snprintf(description, sizeof description, "Load %s pending requests from %s%s%s%s", limit_text,
             p.channel.title, p.channel.username[0] ? " (@" : "", p.channel.username,
             p.channel.username[0] ? ")" : "");
    dm_strlcpy(job.description, description, sizeof job.description); /* cut at a character */
    int64_t id = 0;
    e = load_params_format(&p, job.params, sizeof job.params, &err);
    if (!e) e = store_job_create_load(st, &job, (int64_t)time(NULL), &id, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    api_job_started(c, id);
}
