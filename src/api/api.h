/* api.h: the JSON API behind the panel (docs/api.md), one file per resource.
 *
 * api_handle() is the HTTP server's handler for the whole doorman process: it routes /api/…
 * to the resource handlers, /telegram/webhook to the bot, and everything else to the embedded
 * panel. The helpers below are shared by the resource files; each one that answers with an
 * error fills c->res and returns false, so a handler just returns when a helper says no. */
#ifndef DM_API_H
#define DM_API_H

#include "core/common.h"
#include "http/server.h"
#include "store/store.h"

#include <jansson.h>

struct accounts;
struct alerts;
struct bot;
struct job_runner;
struct pool;
struct secret_key;
struct tg_error;

/* What the API works with. Everything is borrowed from the composition root (app.c), which
 * starts it before the HTTP server and stops it after; the API frees none of it. */
struct api_env {
    struct store *store;
    struct bot *bot;                 /* telegram/bot.h: settings, webhook deliveries, titles */
    struct pool *pool;               /* telegram/pool.h: the Session Manager's logins, checks */
    const struct accounts *accounts; /* telegram/account.h: who decides */
    struct job_runner *jobs;         /* jobs/runner.h: woken when a job is made or cancelled */
    const char *public_url;          /* where the panel is reached: setup link, secure cookies */
    int64_t preflight_deadline_ms;   /* a preflight stops checking channels after this */
    const char *metrics_allow;       /* addresses reading /metrics without its token (host.h) */
    const struct secret_key *master; /* core/secret.h: seals TOTP secrets */
    struct alerts *alerts;           /* alerts/alerts.h: told when webhooks or settings change */
};

struct api_ctx {
    const struct api_env *env;
    const struct http_request *req;
    struct http_response *res;
    struct store_websession session; /* filled for routes that need a login; with an API token
                                        admin_id is its admin's and admin_name "token <name> of
                                        <admin>" (who the audit log names) */
    int role;                        /* enum admin_role of the session's admin or the token */
    char scope[STORE_SCOPE_MAX];     /* the channels it may see and decide in; "" every one */
    int64_t token_id;                /* the API token the request came with; 0: a browser */
    json_t *body;                    /* parsed body for POST routes; owned by the router */
    const char *path_arg;            /* the {id} part of routes that have one */
};

/* Bodies before login (docs/api.md, Limits): what a request may send before doorman knows who
 * sent it. Logged-in routes with a valid session cookie or API token take the server's
 * max_body (1 MiB). */
#define API_PUBLIC_BODY_MAX (8 * 1024)   /* login, setup, unknown paths, routes without a body */
#define API_WEBHOOK_BODY_MAX (64 * 1024) /* a Bot API update (a chat_join_request is < 8 KiB) */

/* env: the struct api_env the server was started with.
 *
 * Routes that call Telegram (the route table's R_SLOW) are answered from the server's workers
 * (http_res_defer), never on a pool thread: api_handle checks the login, the CSRF token and
 * the body on the pool thread, then hands the resource handler over with copies of what it
 * reads (the session, the parsed body, the path's id). A handler that calls Telegram only
 * sometimes (GET /api/chats, for titles it does not know) defers that part itself. */
void api_handle(void *env, const struct http_request *req, struct http_response *res);
/* The server's admit callback (http/server.h, Bodies): API_WEBHOOK_BODY_MAX for the webhook
 * (401 at once without its secret token), a 401 at once for a logged-in route without a valid
 * session cookie or API token, SIZE_MAX for one with it, else API_PUBLIC_BODY_MAX. */
size_t api_admit(void *env, const struct http_request *req, struct http_response *res);
/* Parses the request body into c->body as the router does for routes with a body before their
 * handler runs (an empty body is {}; else application/json holding an object), or answers 415
 * unsupported_media_type or 400 bad_json / bad_request. For a handler that must do something
 * before reading its body (login counts the attempt first). */
bool api_parse_body(struct api_ctx *c);

/* Resource handlers (api/<resource>.c). */
void api_setup_get(struct api_ctx *c);
void api_setup_post(struct api_ctx *c);
void api_login(struct api_ctx *c);
void api_logout(struct api_ctx *c);
void api_me(struct api_ctx *c);
void api_settings_get(struct api_ctx *c);
void api_settings_post(struct api_ctx *c);
void api_requests_list(struct api_ctx *c);
void api_chats_list(struct api_ctx *c);
void api_requests_approve(struct api_ctx *c);
void api_requests_deny(struct api_ctx *c);
void api_requests_approve_all(struct api_ctx *c);
void api_requests_deny_all(struct api_ctx *c);
void api_jobs_list(struct api_ctx *c);
void api_jobs_get(struct api_ctx *c);
void api_jobs_cancel(struct api_ctx *c);
void api_audit_list(struct api_ctx *c);
void api_requests_export(struct api_ctx *c); /* export.c */
void api_audit_export(struct api_ctx *c);
void api_sessions_list(struct api_ctx *c); /* sessions.c */
void api_sessions_active(struct api_ctx *c);
void api_sessions_login_start(struct api_ctx *c);
void api_sessions_login_resend(struct api_ctx *c);
void api_sessions_login_get(struct api_ctx *c);
void api_sessions_login_code(struct api_ctx *c);
void api_sessions_login_password(struct api_ctx *c);
void api_sessions_bot(struct api_ctx *c);
void api_sessions_import(struct api_ctx *c);
void api_sessions_check(struct api_ctx *c);
void api_sessions_export(struct api_ctx *c);
void api_sessions_delete(struct api_ctx *c);
void api_sessions_load_several(struct api_ctx *c);
void api_sessions_load(struct api_ctx *c);      /* sessions_load.c */
void api_requests_preflight(struct api_ctx *c); /* invite_requests.c */
void api_preferences_get(struct api_ctx *c);    /* preferences.c */
void api_preferences_post(struct api_ctx *c);
void api_rules_list(struct api_ctx *c); /* rules.c */
void api_rules_create(struct api_ctx *c);
void api_rules_update(struct api_ctx *c);
void api_rules_enable(struct api_ctx *c);
void api_rules_disable(struct api_ctx *c);
void api_rules_delete(struct api_ctx *c);
void api_rules_reorder(struct api_ctx *c);
void api_rules_dry_run(struct api_ctx *c);
void api_rules_apply(struct api_ctx *c);
void api_requests_release(struct api_ctx *c);
void api_requests_unban(struct api_ctx *c);
void api_lists_list(struct api_ctx *c);
void api_lists_get(struct api_ctx *c);
void api_lists_write(struct api_ctx *c);
void api_lists_delete(struct api_ctx *c);
void api_modes_list(struct api_ctx *c);
void api_modes_set(struct api_ctx *c);
void api_guard_status(struct api_ctx *c); /* guard.c */
void api_admins_list(struct api_ctx *c);  /* admins.c */
void api_admins_invite(struct api_ctx *c);
void api_admins_update(struct api_ctx *c);
void api_admins_delete(struct api_ctx *c);
void api_invite_get(struct api_ctx *c);
void api_invite_accept(struct api_ctx *c);
void api_me_password(struct api_ctx *c); /* account.c */
void api_me_totp_setup(struct api_ctx *c);
void api_me_totp_enable(struct api_ctx *c);
void api_me_totp_disable(struct api_ctx *c);
void api_tokens_list(struct api_ctx *c); /* tokens.c */
void api_tokens_create(struct api_ctx *c);
void api_tokens_revoke(struct api_ctx *c);
void api_webhooks_list(struct api_ctx *c); /* webhooks.c */
void api_webhooks_create(struct api_ctx *c);
void api_webhooks_update(struct api_ctx *c);
void api_webhooks_delete(struct api_ctx *c);
void api_webhooks_test(struct api_ctx *c);
void api_webhooks_deliveries(struct api_ctx *c);
void api_alerts_get(struct api_ctx *c);
void api_alerts_set(struct api_ctx *c);
void api_stats_get(struct api_ctx *c);  /* stats.c: GET /api/stats */
void api_links_list(struct api_ctx *c); /* links.c */
void api_links_create(struct api_ctx *c);
void api_links_edit(struct api_ctx *c);
void api_links_revoke(struct api_ctx *c);
void api_links_refresh(struct api_ctx *c);
void api_decisions_check(struct api_ctx *c);
void api_challenges_list(struct api_ctx *c); /* verify.c */
void api_challenges_set(struct api_ctx *c);
void api_verifications_get(struct api_ctx *c);
void api_app_verify_open(struct api_ctx *c); /* the Mini App's: launch data, no login */
void api_app_verify_answer(struct api_ctx *c);

/* GET /healthz, /readyz, /metrics (observability.c; routed by api_handle, not the table). */
void api_healthz(struct api_ctx *c);
void api_readyz(struct api_ctx *c);
void api_metrics(struct api_ctx *c);
void api_logs_list(struct api_ctx *c); /* GET /api/logs: the last warnings and errors (log.h) */
/* The metrics token: kept as its digest, never shown again; "" removes it. */
dm_err api_metrics_token_set(struct store *st, const char *token, struct dm_error *err);
bool api_metrics_token_is_set(struct store *st);

/* Starts a web session for the admin and answers 200 as a successful login does (auth.c). */
void api_session_start(struct api_ctx *c, int64_t admin_id, const char *name);
/* Writes an audit entry of action with result and detail, its admin c's (auth.c; a failure
 * to write it is logged). */
void api_audit(struct api_ctx *c, const char *action, const char *result, const char *detail);
/* Reads the API token of "Authorization: Bearer …" (when the request has that header; another
 * scheme is ignored) or the session cookie, and fills c->session, c->role, c->scope and
 * c->token_id; false after answering 401 (or 500). A token is never read from a cookie (auth.c). */
bool api_authenticate(struct api_ctx *c);

/* Whether code is admin's TOTP code now (each one accepted once) or one of its unused
 * recovery codes (used up by this); store errors are DM_E* in *err (account.c). */
dm_err auth_second_factor(const struct api_env *env, const struct store_admin *admin,
                          const char *code, bool *ok, struct dm_error *err);

/* Prints the one-time setup link when no admin exists yet (auth.c). */
dm_err api_setup_announce(const struct api_env *env, struct dm_error *err);
/* Creates an admin after checking the name ([A-Za-z0-9_.-]{1,64}) and password (10..1024
 * bytes): DM_EINVAL or DM_EEXISTS with a message for people (auth.c). */
dm_err auth_admin_add(struct store *st, const char *name, const char *password, int role,
                      const int64_t *chats, size_t n, struct dm_error *err);
/* Checks a new password (10..1024 bytes) and hashes it: DM_EINVAL with a message for people,
 * DM_ENOMEM. */
dm_err auth_password_hash(const char *password, char hash[STORE_HASH_MAX], struct dm_error *err);

/* ---- helpers (api/helpers.c) ---- */

/* A 400 bad_request naming the problem. Always returns false. */
bool api_bad_request(struct api_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Answers for a failed store call: DM_ENOTFOUND 404, DM_EEXISTS/DM_ECONFLICT 409,
 * DM_EUNAVAILABLE 503, else 500 (logged, with a generic message). Always returns false. */
bool api_store_failed(struct api_ctx *c, dm_err e, const struct dm_error *err);

/* Answers 400 bad_request naming the first member of obj that is not one of the names given (a
 * NULL-terminated list; none at all for a body that takes no fields). obj is c->body, or the
 * object the body holds at `where` (e.g. "filter"), NULL for the body itself. A misspelt field is
 * refused, never ignored: Approve All with a misspelt filter field would approve every channel. */
bool api_only_fields(struct api_ctx *c, const json_t *obj, const char *where, ...)
    __attribute__((sentinel));
/* Field readers for c->body. A missing optional field leaves *out unchanged and returns true. */
bool api_field_string(struct api_ctx *c, const char *key, bool required, size_t max_len,
                      const char **out);
bool api_field_int(struct api_ctx *c, const char *key, bool required, int64_t *out);
/* Accepts Unix seconds or "YYYY-MM-DD" (end_of_day: 23:59:59 UTC of that day). */
bool api_field_time(struct api_ctx *c, json_t *obj, const char *key, bool end_of_day, int64_t *out);
/* Query parameter readers, same rules. */
bool api_query_int(struct api_ctx *c, const char *key, int64_t min, int64_t max, int64_t *out);
bool api_query_time(struct api_ctx *c, const char *key, bool end_of_day, int64_t *out);
/* The Invite Requests filter from the query string: status, chat_id, invite_link, from, to, q
 * (docs/api.md;
 * invite_requests.c). */
bool api_query_filter(struct api_ctx *c, struct store_request_filter *f);
/* ?limit= (1..500, default 50) and ?before= (> 0). */
bool api_query_page(struct api_ctx *c, int *limit, int64_t *before);
/* A list resource's keyset page (newest first): reads ?limit and ?before, has `rows` read up
 * to limit records of `size` bytes from the store, answers {"items": [json(row), …],
 * "next_before": the last row's id (json sets *id) when the page is full, else null}, or the
 * store's error. */
typedef dm_err (*api_rows_fn)(const struct api_ctx *c, int64_t before, int limit, void *out, int *n,
                              struct dm_error *err);
typedef json_t *(*api_row_json_fn)(const void *row, int64_t *id);
void api_list_page(struct api_ctx *c, size_t size, api_rows_fn rows, api_row_json_fn json);

/* Answers a failed Telegram operation (tg_error.h) with docs/api.md's Sessions error table
 * (sessions.c): its kind picks the documented code (flood_wait with Retry-After and
 * retry_after, no_permission, session_invalid, the login's), and otherwise its e.code the status
 * (400 bad_request, 404, 409, 503 unavailable, 502 telegram, 500). te->e.msg is the message.
 * Returns false. */
bool api_tg_failed(struct api_ctx *c, const struct tg_error *te);

/* Opens the account the body's "session_name" names: null or absent is the bot; a name must be
 * a session, an active one when `active`. NULL after answering (400 naming it and why); the
 * caller closes the account (telegram/account.h). */
struct account *api_body_account(struct api_ctx *c, bool active);

/* Reads the body's "session_name" as the via of a decision job (jobs/via.h) into via (size
 * bytes): null, absent or a name as api_body_account (the account in *one, which the caller
 * closes); an array of 1 to VIA_MAX active sessions' names, tried in that order; or
 * "sessions:any" (any active session with the right in each request's channel). *one is NULL
 * for the last two (an array of one name is that name). false after answering 400. */
bool api_body_via(struct api_ctx *c, char *via, size_t size, struct account **one);

/* Reads the body's "request_ids" (1 to max positive integers) into a malloc'd *out (the
 * caller frees it). false after answering 400. */
bool api_body_ids(struct api_ctx *c, size_t max, int64_t **out, size_t *n);

/* Channel scope (roles): whether c may act in chat_id (its scope has it, or is every
 * channel), and whether every request of ids lies in such a channel; false after answering
 * 403 forbidden naming what is missing. */
bool api_channel_allowed(struct api_ctx *c, int64_t chat_id);
bool api_requests_allowed(struct api_ctx *c, const int64_t *ids, size_t n);
/* Keeps the first *n of chats that c's scope has, in order (*n becomes their number); false
 * after answering when the store failed. */
bool api_chats_in_scope(struct api_ctx *c, struct store_chat *chats, size_t *n);
/* c's channels, read once to filter a list: scope_read fills sc (false after answering when
 * the store failed), scope_has tells whether it has chat_id (every one for an owner's), and
 * scope_release frees what it holds. */
struct api_scope {
    bool all;       /* every channel (an owner, or a token of one) */
    int64_t *chats; /* else these, ascending; malloc'd */
    size_t n;
};
bool api_scope_read(struct api_ctx *c, struct api_scope *sc);
bool api_scope_has(const struct api_scope *sc, int64_t chat_id);
void api_scope_release(struct api_scope *sc);
/* Reads the body's "channels" for a role: a list of channel ids (at most max) for a viewer or
 * decider, each one c may act in; ignored (n 0) for an owner. false after answering 400/403;
 * *out is malloc'd (NULL when none), the caller frees it. */
bool api_body_channels(struct api_ctx *c, int role, size_t max, int64_t **out, size_t *n);
/* The channels of scope as a JSON array (null for "": every channel); NULL after answering. */
json_t *api_scope_json(struct api_ctx *c, const char *scope);

/* Answers 202 {"job":…} for the job just created (read back from the store) and wakes the job
 * runner. */
void api_job_started(struct api_ctx *c, int64_t id);

/* JSON for records shared between resources. */
json_t *api_job_json(const struct store_job *j);
/* null for 0 */
json_t *api_time_or_null(int64_t t);
/* A JSON string of text from Telegram or the store: bytes that are not UTF-8 (rows written
 * before text was cut at character boundaries) are dropped or become U+FFFD as dm_utf8_copy
 * says, so one bad row never empties an answer. NULL only when out of memory. */
json_t *api_text(const char *s);

#endif
