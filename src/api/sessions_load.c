/* sessions_load.c: POST /api/sessions/{name}/load and POST /api/sessions/load: start loading a
 * channel's pending join requests through one session, or through several (docs/api.md
 * "Sessions"; the job itself is jobs/load.h).
 *
 * Before the job is created the channel is found and the account's right to see join
 * requests is checked (telegram/account.h), synchronously, so the admin hears "You don't have
 * permission to view join requests" (or a flood wait, or an invalid session) at once rather than
 * from a job. With several sessions they are asked in the job's order until one has the right
 * (the job reads through that one first; the others are asked by the job when it needs them). A
 * decider loads only the channels assigned to them (roles), through any of the sessions (owners
 * make and remove those): another channel is a 403 before its rights are asked. */
#include "core/common.h"
#include "api/api.h"
#include "core/log.h"
#include "jobs/load.h"
#include "jobs/via.h"
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

/* Asks session `name` about the channel: DM_OK with its view of it in *ch when it may load
 * there, else why not in *te. *allowed false after answering 403: the channel is not the
 * caller's. */
static dm_err ask_session(struct api_ctx *c, const char *name, const struct account_ref *ref,
                          struct account_channel *ch, bool *allowed, struct tg_error *te)
{
    struct account *a = NULL;
    struct dm_error err = {0};
    *allowed = true;
    dm_err e = account_open_chosen(c->env->accounts, name, &a, &err);
    if (e) return tg_error_local(te, e, "%s", err.msg);
    enum account_role role = ACCOUNT_NOT_ADMIN;
    e = account_find(a, ref, ch, te);
    /* a channel outside the caller's is refused before Telegram is asked about the session's
     * rights there (which would tell a decider about channels not theirs) */
    *allowed = e || api_channel_allowed(c, ch->chat_id);
    if (!e && *allowed) e = account_role(a, ch, &role, te);
    account_close(a);
    if (!e && role != ACCOUNT_CAN_INVITE) e = tg_error_set(te, TG_NO_RIGHT, 0);
    if (e && *allowed) log_info("api", "load via %s refused: %s", name, te->e.msg);
    return e;
}

/* Finds the first of the sessions v names that may load from the channel: its view of the
 * channel and its name into p. false after answering: the first session's refusal (with
 * several, naming it, as none could). */
static bool first_that_can(struct api_ctx *c, const struct via_names *v,
                           const struct account_ref *ref, struct load_params *p)
{
    struct tg_error first = {0};
    for (size_t k = 0; k < v->n; k++) {
        struct tg_error te = {0};
        bool allowed = true;
        dm_err e = ask_session(c, v->name[k], ref, &p->channel, &allowed, &te);
        if (!allowed) return false;
        if (!e) {
            dm_strlcpy(p->by, v->name[k], sizeof p->by);
            return true;
        }
        if (te.kind == TG_LOCAL && te.e.code != DM_EUNAVAILABLE)
            return api_store_failed(c, te.e.code, &te.e);
        if (k == 0) first = te;
    }
    if (v->n > 1)
        tg_error_say(&first, "None of the sessions can load from this channel (%s: %.300s)",
                     v->name[0], first.e.msg);
    return api_tg_failed(c, &first);
}

/* Checks the channel through the sessions `via` names (jobs/via.h) and starts the load job. */
static void start_load(struct api_ctx *c, const char *via)
{
    struct account_ref ref;
    struct load_params p = {0};
    if (!read_body(c, &ref, &p.limit)) return;
    struct via_names v;
    struct dm_error err = {0};
    dm_err e = via_names(c->env->store, via, &v, &err);
    if (e == DM_ENOTFOUND) {
        api_bad_request(c, "%s.", err.msg);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    if (!first_that_can(c, &v, &ref, &p)) return;

    struct store_job job = {.kind = JOB_LOAD};
    dm_strlcpy(job.via, via, sizeof job.via);
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
    if (!e) e = store_job_create_load(c->env->store, &job, (int64_t)time(NULL), &id, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    api_job_started(c, id);
}

void api_sessions_load(struct api_ctx *c)
{
    if (!api_only_fields(c, c->body, NULL, "channel", "limit", NULL)) return;
    const char *name = c->path_arg;
    struct store_session s;
    struct dm_error err = {0};
    dm_err e = tg_session_name_valid(name) ? store_session_get(c->env->store, name, &s, &err)
                                           : DM_ENOTFOUND;
    if (e == DM_ENOTFOUND) {
        http_res_error(c->res, 404, "not_found", "No session named '%s'.", name);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    start_load(c, name);
}

void api_sessions_load_several(struct api_ctx *c)
{
    if (!api_only_fields(c, c->body, NULL, "session_name", "channel", "limit", NULL)) return;
    const json_t *named = json_object_get(c->body, "session_name");
    if (!named || json_is_null(named)) {
        api_bad_request(c,
                        "'session_name' must name the sessions to load through: a name, a "
                        "list of names, or \"%s\".",
                        VIA_ANY_SESSION);
        return;
    }
    char via[STORE_VIA_MAX];
    struct account *one = NULL; /* a name is a session's here: null was refused above */
    if (!api_body_via(c, via, sizeof via, &one)) return;
    account_close(one);
    start_load(c, via);
}
