#include "core/common.h"
#include "api/api.h"
#include "telegram/bot.h"
#include "core/log.h"
#include "core/secret.h"
#include "http/assets.h"
#include "http/host.h"
#include "verify/verification.h"

enum route_flags {
    R_PUBLIC = 0,
    R_LOGIN = 1,   /* needs a valid session cookie or API token, and the route's `need` */
    R_BODY = 2,    /* POST with a JSON object body; with a session cookie also needs the CSRF
                      header (an API token needs none) */
    R_SLOW = 4,    /* waits (calls Telegram, or hashes a password: core/secret.h does one at a
                      time): runs on the server's workers (api.h, http_res_defer) */
    R_BROWSER = 8, /* a browser's session only: never with an API token (the admin's own
                      password, TOTP and tokens) */
};

/* What a logged-in route needs of its caller's role (docs/api.md, Roles). The default (a route
 * that names nothing) is the safe one: owners only. Routes for viewers and deciders limit what
 * they read and do to the caller's channels (c->scope: the request filters of api_query_filter
 * and the Approve All body, api_channel_allowed, api_requests_allowed). */
enum route_need {
    NEED_OWNER = 0, /* owners: admins, settings, sessions, rule and mode changes, the audit log */
    NEED_VIEW,      /* viewers and up: reads, limited to their channels */
    NEED_DECIDE,    /* deciders and up: decide and load, in their channels */
    NEED_SELF,      /* any admin, about themselves (me, logout, preferences, password) */
};

struct route {
    const char *method;
    const char *path;   /* a trailing "{}" segment matches one id: "/api/jobs/{}" */
    const char *suffix; /* after the id, e.g. "/cancel", or NULL */
    int flags;
    void (*fn)(struct api_ctx *c);
    enum route_need need; /* for R_LOGIN routes; left out: NEED_OWNER */
};

#define VIEW NEED_VIEW
#define DECIDE NEED_DECIDE
#define SELF NEED_SELF

/* A route that leaves `need` out is for owners only (its zero value): -Wextra would call that
 * a missing initializer, but it is the table's default. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct route routes[] = {
    {"GET", "/api/setup", NULL, R_PUBLIC, api_setup_get},
    {"POST", "/api/setup", NULL, R_BODY | R_SLOW, api_setup_post},
    {"POST", "/api/login", NULL, R_PUBLIC | R_SLOW, api_login}, /* reads its body after counting */
    {"POST", "/api/logout", NULL, R_LOGIN | R_BODY, api_logout, SELF},
    {"GET", "/api/me", NULL, R_LOGIN, api_me, SELF},
    {"GET", "/api/settings", NULL, R_LOGIN, api_settings_get},
    {"POST", "/api/settings", NULL, R_LOGIN | R_BODY | R_SLOW, api_settings_post},
    {"GET", "/api/invite-requests", NULL, R_LOGIN, api_requests_list, VIEW},
    /* streamed a page at a time on the pool thread (http_res_stream): never on the workers */
    {"GET", "/api/invite-requests/export", NULL, R_LOGIN, api_requests_export, VIEW},
    {"POST", "/api/invite-requests/approve", NULL, R_LOGIN | R_BODY, api_requests_approve, DECIDE},
    {"POST", "/api/invite-requests/deny", NULL, R_LOGIN | R_BODY, api_requests_deny, DECIDE},
    {"POST", "/api/invite-requests/approve-all", NULL, R_LOGIN | R_BODY, api_requests_approve_all,
     DECIDE},
    {"POST", "/api/invite-requests/deny-all", NULL, R_LOGIN | R_BODY, api_requests_deny_all,
     DECIDE},
    {"POST", "/api/invite-requests/release", NULL, R_LOGIN | R_BODY, api_requests_release, DECIDE},
    {"POST", "/api/invite-requests/unban", NULL, R_LOGIN | R_BODY | R_SLOW, api_requests_unban,
     DECIDE},
    {"POST", "/api/invite-requests/preflight", NULL, R_LOGIN | R_BODY | R_SLOW,
     api_requests_preflight, DECIDE},
    {"GET", "/api/me/preferences", NULL, R_LOGIN, api_preferences_get, SELF},
    {"POST", "/api/me/preferences", NULL, R_LOGIN | R_BODY, api_preferences_post, SELF},
    {"GET", "/api/chats", NULL, R_LOGIN, api_chats_list, VIEW}, /* defers itself when it must ask */
    {"GET", "/api/jobs", NULL, R_LOGIN, api_jobs_list, VIEW},
    {"GET", "/api/jobs/{}", NULL, R_LOGIN, api_jobs_get, VIEW},
    {"POST", "/api/jobs/{}", "/cancel", R_LOGIN | R_BODY, api_jobs_cancel, DECIDE},
    {"GET", "/api/audit", NULL, R_LOGIN, api_audit_list},
    {"GET", "/api/audit/export", NULL, R_LOGIN, api_audit_export},
    {"GET", "/api/logs", NULL, R_LOGIN, api_logs_list},
    {"GET", "/api/sessions", NULL, R_LOGIN, api_sessions_list},
    {"GET", "/api/sessions/list", NULL, R_LOGIN, api_sessions_active, VIEW},
    {"POST", "/api/sessions/login", NULL, R_LOGIN | R_BODY | R_SLOW, api_sessions_login_start},
    {"GET", "/api/sessions/login/{}", NULL, R_LOGIN, api_sessions_login_get},
    {"POST", "/api/sessions/login/code", NULL, R_LOGIN | R_BODY | R_SLOW, api_sessions_login_code},
    {"POST", "/api/sessions/login/resend", NULL, R_LOGIN | R_BODY | R_SLOW,
     api_sessions_login_resend},
    {"POST", "/api/sessions/login/password", NULL, R_LOGIN | R_BODY | R_SLOW,
     api_sessions_login_password},
    {"POST", "/api/sessions/bot", NULL, R_LOGIN | R_BODY | R_SLOW, api_sessions_bot},
    {"POST", "/api/sessions/import", NULL, R_LOGIN | R_BODY | R_SLOW, api_sessions_import},
    {"POST", "/api/sessions/{}", "/check", R_LOGIN | R_BODY | R_SLOW, api_sessions_check},
    {"GET", "/api/sessions/{}", "/export", R_LOGIN, api_sessions_export},
    {"POST", "/api/sessions/{}", "/delete", R_LOGIN | R_BODY | R_SLOW, api_sessions_delete},
    {"POST", "/api/sessions/{}", "/load", R_LOGIN | R_BODY | R_SLOW, api_sessions_load, DECIDE},
    {"POST", "/api/sessions/load", NULL, R_LOGIN | R_BODY | R_SLOW, api_sessions_load_several,
     DECIDE},
    {"GET", "/api/rules", NULL, R_LOGIN, api_rules_list, VIEW},
    {"POST", "/api/rules", NULL, R_LOGIN | R_BODY, api_rules_create},
    {"POST", "/api/rules/reorder", NULL, R_LOGIN | R_BODY, api_rules_reorder},
    /* reads every request of the channel: on the workers, off the pool */
    {"POST", "/api/rules/dry-run", NULL, R_LOGIN | R_BODY | R_SLOW, api_rules_dry_run},
    {"POST", "/api/rules/apply", NULL, R_LOGIN | R_BODY, api_rules_apply},
    {"POST", "/api/rules/{}", "/update", R_LOGIN | R_BODY, api_rules_update},
    {"POST", "/api/rules/{}", "/enable", R_LOGIN | R_BODY, api_rules_enable},
    {"POST", "/api/rules/{}", "/disable", R_LOGIN | R_BODY, api_rules_disable},
    {"POST", "/api/rules/{}", "/delete", R_LOGIN | R_BODY, api_rules_delete},
    {"GET", "/api/rule-lists", NULL, R_LOGIN, api_lists_list},
    {"GET", "/api/rule-lists/{}", NULL, R_LOGIN, api_lists_get},
    {"POST", "/api/rule-lists/{}", "/delete", R_LOGIN | R_BODY, api_lists_delete},
    {"POST", "/api/rule-lists/{}", NULL, R_LOGIN | R_BODY, api_lists_write},
    {"GET", "/api/modes", NULL, R_LOGIN, api_modes_list, VIEW},
    {"POST", "/api/modes", NULL, R_LOGIN | R_BODY, api_modes_set},
    {"GET", "/api/guard", NULL, R_LOGIN | R_SLOW, api_guard_status},
    {"GET", "/api/admins", NULL, R_LOGIN, api_admins_list},
    {"POST", "/api/admins/invite", NULL, R_LOGIN | R_BODY, api_admins_invite},
    {"POST", "/api/admins/{}", "/update", R_LOGIN | R_BODY, api_admins_update},
    {"POST", "/api/admins/{}", "/delete", R_LOGIN | R_BODY, api_admins_delete},
    {"GET", "/api/invite", NULL, R_PUBLIC, api_invite_get},
    {"POST", "/api/invite", NULL, R_BODY | R_SLOW, api_invite_accept},
    {"POST", "/api/me/password", NULL, R_LOGIN | R_BODY | R_SLOW | R_BROWSER, api_me_password,
     SELF},
    {"POST", "/api/me/totp/setup", NULL, R_LOGIN | R_BODY | R_BROWSER, api_me_totp_setup, SELF},
    {"POST", "/api/me/totp/enable", NULL, R_LOGIN | R_BODY | R_BROWSER, api_me_totp_enable, SELF},
    {"POST", "/api/me/totp/disable", NULL, R_LOGIN | R_BODY | R_SLOW | R_BROWSER,
     api_me_totp_disable, SELF},
    {"GET", "/api/tokens", NULL, R_LOGIN | R_BROWSER, api_tokens_list, SELF},
    {"POST", "/api/tokens", NULL, R_LOGIN | R_BODY | R_BROWSER, api_tokens_create, SELF},
    {"POST", "/api/tokens/{}", "/revoke", R_LOGIN | R_BODY | R_BROWSER, api_tokens_revoke, SELF},
    /* owner only (roles): where events go */
    {"GET", "/api/webhooks", NULL, R_LOGIN, api_webhooks_list},
    {"POST", "/api/webhooks", NULL, R_LOGIN | R_BODY, api_webhooks_create},
    {"POST", "/api/webhooks/{}", "/update", R_LOGIN | R_BODY, api_webhooks_update},
    {"POST", "/api/webhooks/{}", "/delete", R_LOGIN | R_BODY, api_webhooks_delete},
    {"POST", "/api/webhooks/{}", "/test", R_LOGIN | R_BODY, api_webhooks_test},
    {"GET", "/api/webhooks/{}", "/deliveries", R_LOGIN, api_webhooks_deliveries},
    {"GET", "/api/alerts", NULL, R_LOGIN, api_alerts_get},
    {"POST", "/api/alerts", NULL, R_LOGIN | R_BODY, api_alerts_set},
    {"GET", "/api/stats", NULL, R_LOGIN, api_stats_get, VIEW},
    {"GET", "/api/links", NULL, R_LOGIN, api_links_list, VIEW},
    {"POST", "/api/links", NULL, R_LOGIN | R_BODY | R_SLOW, api_links_create, DECIDE},
    {"POST", "/api/links/edit", NULL, R_LOGIN | R_BODY | R_SLOW, api_links_edit, DECIDE},
    {"POST", "/api/links/revoke", NULL, R_LOGIN | R_BODY | R_SLOW, api_links_revoke, DECIDE},
    {"POST", "/api/links/refresh", NULL, R_LOGIN | R_BODY | R_SLOW, api_links_refresh, DECIDE},
    {"POST", "/api/decisions/check", NULL, R_LOGIN | R_BODY | R_SLOW, api_decisions_check, DECIDE},
    {"GET", "/api/challenges", NULL, R_LOGIN, api_challenges_list, VIEW},
    {"POST", "/api/challenges", NULL, R_LOGIN | R_BODY, api_challenges_set},
    {"GET", "/api/verifications/{}", NULL, R_LOGIN, api_verifications_get},
    /* the applicant's, from the Mini App: Telegram's signed launch data instead of a login */
    {"POST", "/api/app/verify/open", NULL, R_BODY, api_app_verify_open},
    {"POST", "/api/app/verify/answer", NULL, R_BODY, api_app_verify_answer},
};
#pragma GCC diagnostic pop

/* Every answer's; HSTS only when admins reach doorman over https (the public URL says so):
 * doorman itself speaks plain HTTP behind the proxy that ends TLS and passes the header on.
 * The Mini App's page (VERIFY_PATH) may be framed by Telegram's web clients, which show Mini
 * Apps in a frame; nothing else may be framed. */
static void security_headers(const struct api_env *env, const char *path, struct http_response *res)
{
    bool app = strcmp(path, VERIFY_PATH) == 0;
    if (env->public_url && strncasecmp(env->public_url, "https://", 8) == 0)
        http_res_header(res, "Strict-Transport-Security", "max-age=31536000");
    http_res_header(res, "Content-Security-Policy",
                    app ? "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                          "base-uri 'none'; form-action 'none'; frame-ancestors "
                          "https://web.telegram.org https://webk.telegram.org "
                          "https://webz.telegram.org"
                        : "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                          "base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
    http_res_header(res, "X-Content-Type-Options", "nosniff");
    if (!app) http_res_header(res, "X-Frame-Options", "DENY");
    http_res_header(res, "Referrer-Policy", "no-referrer");
}

/* Matches path against a route; sets *arg to the id segment for "{}" routes. */
static bool route_match(const struct route *r, const char *path, const char **arg, size_t *arg_len)
{
    const char *brace = strstr(r->path, "{}");
    if (!brace) return strcmp(r->path, path) == 0;
    size_t prefix = (size_t)(brace - r->path);
    if (strncmp(r->path, path, prefix) != 0) return false;
    const char *id = path + prefix;
    size_t n = strcspn(id, "/");
    if (n == 0) return false;
    const char *rest = id + n;
    if (r->suffix ? strcmp(rest, r->suffix) != 0 : *rest != 0) return false;
    *arg = id;
    *arg_len = n;
    return true;
}

static bool check_csrf(struct api_ctx *c)
{
    const char *tok = http_header(c->req, "X-CSRF-Token");
    if (!tok || !secret_equal(tok, c->session.csrf)) {
        http_res_error(c->res, 403, "csrf",
                       "Missing or wrong X-CSRF-Token header. Reload the page and try again.");
        return false;
    }
    return true;
}

/* Whether c's role and kind of login may use route r; else answers 403 naming what is
 * missing. */
static bool check_need(struct api_ctx *c, const struct route *r)
{
    static const int least[] = {
        [NEED_OWNER] = ROLE_OWNER,
        [NEED_VIEW] = ROLE_VIEWER,
        [NEED_DECIDE] = ROLE_DECIDER,
        [NEED_SELF] = ROLE_VIEWER,
    };
    if ((r->flags & R_BROWSER) && c->token_id) {
        http_res_error(c->res, 403, "forbidden",
                       "%s %s needs a browser login: an API token cannot use it.", r->method,
                       r->path);
        return false;
    }
    int want = least[r->need];
    if (c->role >= want) return true;
    http_res_error(c->res, 403, "forbidden", "%s %s needs the %s role (%s %s).", r->method, r->path,
                   admin_role_name(want), c->token_id ? "this token has" : "you have",
                   admin_role_name(c->role));
    return false;
}

/* An audit entry for each request made with an API token (result "forbidden" when its role
 * may not use the route), and its last use. */
static void token_used(struct api_ctx *c, bool allowed)
{
    char what[STORE_ERROR_MAX];
    dm_snprintf_utf8(what, sizeof what, "%s %s", c->req->method, c->req->path);
    api_audit(c, "api_token", allowed ? "ok" : "forbidden", what);
    struct dm_error err = {0};
    if (store_token_used(c->env->store, c->token_id, time(NULL), &err))
        log_warn("auth", "could not record an API token's use: %s", err.msg);
}

bool api_parse_body(struct api_ctx *c)
{
    const char *ct = http_header(c->req, "Content-Type");
    if (c->req->body_len == 0) {
        c->body = json_object();
        return true;
    }
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] && !strchr("; \t", ct[16]))) {
        http_res_error(c->res, 415, "unsupported_media_type", "Send the body as application/json.");
        return false;
    }
    json_error_t jerr;
    c->body =
        json_loadb(c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!c->body) {
        char *near = strstr(jerr.text, " near "); /* jansson quotes the text there: a password */
        if (near) *near = 0;
        http_res_error(c->res, 400, "bad_json",
                       "The body is not valid JSON (line %d, column %d): %s", jerr.line,
                       jerr.column, jerr.text);
        return false;
    }
    if (!json_is_object(c->body)) {
        json_decref(c->body);
        c->body = NULL;
        http_res_error(c->res, 400, "bad_request", "The body must be a JSON object.");
        return false;
    }
    return true;
}

enum route_miss { PATH_UNKNOWN, PATH_OTHER_METHOD, PATH_ID_TOO_LONG };

/* The route for method and path, its id segment copied to id (ids, and session names of up to
 * 64 bytes); NULL when none, and *miss says why. */
static const struct route *route_find(const char *method, const char *path, char id[STORE_NAME_MAX],
                                      enum route_miss *miss)
{
    *miss = PATH_UNKNOWN;
    id[0] = 0;
    for (size_t i = 0; i < DM_ARRAY_LEN(routes); i++) {
        const struct route *r = &routes[i];
        const char *arg = NULL;
        size_t arg_len = 0;
        if (!route_match(r, path, &arg, &arg_len)) continue;
        *miss = PATH_OTHER_METHOD;
        if (strcmp(r->method, method) != 0) continue;
        if (arg && arg_len >= STORE_NAME_MAX) {
            *miss = PATH_ID_TOO_LONG;
            return NULL;
        }
        if (arg) {
            memcpy(id, arg, arg_len);
            id[arg_len] = 0;
        }
        return r;
    }
    return NULL;
}

/* A resource handler's call handed to a worker: copies of what it reads from the context. */
struct slow_call {
    struct api_ctx c; /* req and res are the worker's; body is owned here */
    void (*fn)(struct api_ctx *c);
    char id[STORE_NAME_MAX];
};

static void slow_run(void *arg, const struct http_request *req, struct http_response *res)
{
    struct slow_call *sc = arg;
    sc->c.req = req;
    sc->c.res = res;
    sc->c.path_arg = sc->id[0] ? sc->id : NULL;
    sc->fn(&sc->c);
}

static void slow_drop(void *arg)
{
    struct slow_call *sc = arg;
    json_decref(sc->c.body);
    free(sc);
}

/* Hands c's route to a worker (R_SLOW); takes c->body. */
static void defer_route(struct api_ctx *c, const struct route *r)
{
    struct slow_call *sc = calloc(1, sizeof *sc);
    if (!sc) {
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    sc->c = *c;
    sc->fn = r->fn;
    if (c->path_arg) dm_strlcpy(sc->id, c->path_arg, sizeof sc->id);
    c->body = NULL;
    http_res_defer(c->res, slow_run, sc, slow_drop);
}

static void serve_api(struct api_ctx *c)
{
    char id[STORE_NAME_MAX];
    enum route_miss miss;
    const struct route *r = route_find(c->req->method, c->req->path, id, &miss);
    if (!r) {
        if (miss == PATH_ID_TOO_LONG)
            http_res_error(c->res, 404, "not_found", "No such item.");
        else if (miss == PATH_OTHER_METHOD)
            http_res_error(c->res, 405, "method_not_allowed", "%s is not allowed on %s.",
                           c->req->method, c->req->path);
        else
            http_res_error(c->res, 404, "not_found", "No such endpoint: %s", c->req->path);
        return;
    }
    if (id[0]) c->path_arg = id;
    if ((r->flags & R_LOGIN) && !api_authenticate(c)) return;
    bool allowed = !(r->flags & R_LOGIN) || check_need(c, r);
    if (c->token_id) token_used(c, allowed);
    if (!allowed) return;
    if ((r->flags & R_BODY) && (r->flags & R_LOGIN) && !c->token_id && !check_csrf(c)) return;
    if ((r->flags & R_BODY) && !api_parse_body(c)) return;
    if (r->flags & R_SLOW)
        defer_route(c, r);
    else
        r->fn(c);
    json_decref(c->body);
    c->body = NULL;
}

static void serve_static(struct api_ctx *c)
{
    if (strcmp(c->req->method, "GET") != 0 && strcmp(c->req->method, "HEAD") != 0) {
        http_res_error(c->res, 405, "method_not_allowed", "Only GET is allowed here.");
        return;
    }
    /* the Mini App's page has a path of its own, the panel's index the rest */
    const struct web_asset *a =
        web_asset_find(strcmp(c->req->path, VERIFY_PATH) == 0 ? "/app/verify.html" : c->req->path);
    const char *last = strrchr(c->req->path, '/');
    /* the panel routes itself (/, /setup); a missing file (with an extension) is a 404 */
    if (!a && !(last && strchr(last, '.'))) a = web_asset_find("/index.html");
    if (!a) {
        http_res_error(c->res, 404, "not_found", "No such page.");
        return;
    }
    http_res_header(c->res, "ETag", a->etag);
    http_res_header(c->res, "Cache-Control", "no-cache");
    const char *inm = http_header(c->req, "If-None-Match");
    if (inm && strcmp(inm, a->etag) == 0) {
        http_res_static(c->res, 304, NULL, "", 0);
        return;
    }
    http_res_static(c->res, 200, a->content_type, a->data, a->len);
}

static void webhook_unauthorized(struct http_response *res)
{
    http_res_error(res, 401, "unauthorized",
                   "Wrong or missing X-Telegram-Bot-Api-Secret-Token (updates are taken here only "
                   "in webhook mode).");
}

static void serve_webhook(struct api_ctx *c)
{
    if (strcmp(c->req->method, "POST") != 0) {
        http_res_error(c->res, 405, "method_not_allowed", "Telegram POSTs updates here.");
        return;
    }
    int status = bot_webhook(c->env->bot, http_header(c->req, "X-Telegram-Bot-Api-Secret-Token"),
                             c->req->body, c->req->body_len);
    if (status == 200)
        http_res_json(c->res, 200, json_object());
    else if (status == 401)
        webhook_unauthorized(c->res);
    else if (status == 400)
        http_res_error(c->res, 400, "bad_request", "The body is not a Telegram update.");
    else
        http_res_error(c->res, 503, "unavailable",
                       "The update could not be stored; send it again.");
}

/* Whether the request's Host names doorman: the public URL's host and port, the address the
 * request came to (with the listen port), loopback names when that address is loopback, and for
 * the webhook path the webhook URL's host. A page on another name, even one that resolves to this
 * address (DNS rebinding), is not answered (docs/api.md, Hosts). */
static bool host_ours(struct api_ctx *c)
{
    const struct http_request *req = c->req;
    const char *h = req->host;
    if (!h) return true; /* HTTP/1.0 without Host: not a browser (1.1 without is a 400) */
    char name[256];
    uint16_t port = 0, def = 0;
    if (http_url_authority(c->env->public_url, name, sizeof name, &port, &def) &&
        http_host_is(h, name, port, def))
        return true;
    if (req->local_ip[0] && http_host_is(h, req->local_ip, req->local_port, 80)) return true;
    static const char *const loopback[] = {"localhost", "127.0.0.1", "::1"};
    if (http_ip_is_loopback(req->local_ip))
        for (size_t i = 0; i < DM_ARRAY_LEN(loopback); i++)
            if (http_host_is(h, loopback[i], req->local_port, 80)) return true;
    if (c->env->bot && strcmp(req->path, "/telegram/webhook") == 0) {
        struct bot_status st;
        bot_get_status(c->env->bot, &st);
        if (st.mode == BOT_WEBHOOK &&
            http_url_authority(st.webhook_url, name, sizeof name, &port, &def) &&
            http_host_is(h, name, port, def))
            return true;
    }
    return false;
}

static void misdirected(struct api_ctx *c)
{
    static int warned;
    if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED)) {
        char shown[80];
        size_t i = 0;
        for (const char *p = c->req->host; *p && i < sizeof shown - 1; p++)
            shown[i++] = *p >= 0x20 && *p < 0x7f ? *p : '?';
        shown[i] = 0;
        log_warn("http",
                 "refused a request for host '%s' (421; logged once): doorman answers for its "
                 "public URL (%s) and its listen address; set --public-url to the address "
                 "admins use",
                 shown, c->env->public_url);
    }
    http_res_error(c->res, 421, "misdirected_request",
                   "doorman does not answer for this host. Open it at its public URL, or set "
                   "--public-url to the address you use.");
}

size_t api_admit(void *env, const struct http_request *req, struct http_response *res)
{
    struct api_ctx c = {.env = env, .req = req, .res = res};
    if (!host_ours(&c)) return API_PUBLIC_BODY_MAX; /* answered 421 after */
    if (strcmp(req->path, "/telegram/webhook") == 0) {
        if (c.env->bot && strcmp(req->method, "POST") == 0 &&
            !bot_webhook_authorized(c.env->bot,
                                    http_header(req, "X-Telegram-Bot-Api-Secret-Token"))) {
            security_headers(env, req->path, res);
            webhook_unauthorized(res);
        }
        return API_WEBHOOK_BODY_MAX;
    }
    char id[STORE_NAME_MAX];
    enum route_miss miss;
    const struct route *r =
        strncmp(req->path, "/api/", 5) == 0 ? route_find(req->method, req->path, id, &miss) : NULL;
    if (!r || !(r->flags & R_LOGIN)) return API_PUBLIC_BODY_MAX;
    if (!api_authenticate(&c)) { /* answered (401) before a byte of the body is read */
        security_headers(env, req->path, res);
        http_res_header(res, "Cache-Control", "no-store");
        return 0;
    }
    return SIZE_MAX;
}

/* GET /healthz, /readyz, /metrics: true when path is one of them (answered). The two probes
 * answer any Host (docs/operations.md, Health and metrics: they say nothing secret, and
 * orchestrators probe by address or by names of their own); /metrics is for doorman's hosts. */
static bool serve_probe(struct api_ctx *c, bool ours)
{
    static const struct {
        const char *path;
        bool any_host;
        void (*fn)(struct api_ctx *c);
    } probes[] = {
        {"/healthz", true, api_healthz},
        {"/readyz", true, api_readyz},
        {"/metrics", false, api_metrics},
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(probes); i++) {
        if (strcmp(c->req->path, probes[i].path) != 0) continue;
        if (!ours && !probes[i].any_host) return false; /* answered 421 */
        http_res_header(c->res, "Cache-Control", "no-store");
        if (strcmp(c->req->method, "GET") != 0 && strcmp(c->req->method, "HEAD") != 0)
            http_res_error(c->res, 405, "method_not_allowed", "Only GET is allowed here.");
        else
            probes[i].fn(c);
        return true;
    }
    return false;
}

void api_handle(void *env, const struct http_request *req, struct http_response *res)
{
    struct api_ctx c = {.env = env, .req = req, .res = res};
    security_headers(env, req->path, res);
    bool ours = host_ours(&c);
    if (serve_probe(&c, ours)) return;
    if (!ours) {
        misdirected(&c);
    } else if (strcmp(req->path, "/api/health") == 0) {
        http_res_json(res, 200, json_pack("{s:b}", "ok", 1));
    } else if (strncmp(req->path, "/api/", 5) == 0) {
        http_res_header(res, "Cache-Control", "no-store");
        serve_api(&c);
    } else if (strcmp(req->path, "/telegram/webhook") == 0) {
        serve_webhook(&c);
    } else {
        serve_static(&c);
    }
}
