/* auth.c: first-run setup, login, logout and the current admin.
 *
 * Login throttling (docs/api.md): every attempt is counted before its password is checked, per
 * client address (an IPv6 /64 counts as one) and per name; a body that is not a login counts
 * against the address. A name locked by someone else's failures must not lock its admin out: a
 * browser where that admin logged in before carries a device cookie, and with it may still try,
 * on the device's own count (and the address's). A device cookie is a random token; the settings
 * table keeps its digest under "login_device:<digest>" as "<expires_at> <name> [<name>…]", and
 * every login through it replaces it with a new one. */
#include "core/common.h"
#include "api/api.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/secret.h"
#include "http/throttle.h"

#include <ctype.h>
#include <pthread.h>

#define SESSION_TTL (7 * 24 * 3600)
#define THROTTLE_WINDOW (15 * 60)
#define MAX_FAILS_PER_NAME 5
#define MAX_FAILS_PER_DEVICE 5
#define MAX_FAILS_PER_IP 20
#define DEVICE_COOKIE "doorman_device"
#define DEVICE_TTL (180 * 24 * 3600)
#define DEVICE_KEY "login_device:"
#define DEVICE_MAX_NAMES 8 /* admins remembered per browser */
#define SETUP_TOKEN_KEY "setup_token_hash"
#define THROTTLE_SLOTS 4096 /* DOORMAN_LOGIN_THROTTLE_SLOTS: 16 to 65536 */

static struct throttle *login_throttle;
static char dummy_hash[SECRET_HASH_MAX]; /* verified for unknown names: same time as a real one */
static pthread_once_t login_once = PTHREAD_ONCE_INIT;

static size_t throttle_slots(void)
{
    const char *s = getenv("DOORMAN_LOGIN_THROTTLE_SLOTS");
    if (!s || !*s) return THROTTLE_SLOTS;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 16 || v > 65536) {
        log_warn("auth", "DOORMAN_LOGIN_THROTTLE_SLOTS must be 16 to 65536; using %d",
                 THROTTLE_SLOTS);
        return THROTTLE_SLOTS;
    }
    return (size_t)v;
}

static void login_init(void)
{
    login_throttle = throttle_new(throttle_slots(), THROTTLE_WINDOW);
    char pw[33];
    secret_random_hex(pw, 16);
    if (secret_hash_password(pw, dummy_hash)) dummy_hash[0] = 0;
}

static void audit(const struct api_env *env, const char *admin, const char *action,
                  const char *result, const char *detail)
{
    struct store_audit e = {.at = time(NULL)};
    dm_strlcpy(e.admin, admin, sizeof e.admin);
    dm_strlcpy(e.action, action, sizeof e.action);
    dm_strlcpy(e.result, result, sizeof e.result);
    dm_strlcpy(e.detail, detail, sizeof e.detail);
    struct dm_error err = {0};
    if (store_audit_add(env->store, &e, &err))
        log_warn("auth", "could not write the audit log: %s", err.msg);
}

void api_audit(struct api_ctx *c, const char *action, const char *result, const char *detail)
{
    audit(c->env, c->session.admin_name, action, result, detail);
}

dm_err auth_password_hash(const char *password, char hash[STORE_HASH_MAX], struct dm_error *err)
{
    size_t pl = strlen(password);
    if (pl < 10) return dm_fail(err, DM_EINVAL, "The password must be at least 10 characters.");
    if (pl > 1024) return dm_fail(err, DM_EINVAL, "The password must be at most 1024 bytes.");
    if (secret_hash_password(password, hash))
        return dm_fail(err, DM_ENOMEM, "Not enough memory to hash the password.");
    return DM_OK;
}

dm_err auth_admin_add(struct store *st, const char *name, const char *password, int role,
                      const int64_t *chats, size_t n, struct dm_error *err)
{
    size_t len = strlen(name);
    if (len < 1 || len > 64) return dm_fail(err, DM_EINVAL, "The name must be 1 to 64 characters.");
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
            return dm_fail(err, DM_EINVAL,
                           "The name may contain only letters, digits, '_', '.' and '-'.");
    char hash[STORE_HASH_MAX];
    dm_err e = auth_password_hash(password, hash, err);
    if (e) return e;
    int64_t id = 0;
    e = store_admin_create(st, name, hash, role, chats, n, time(NULL), &id, err);
    if (e == DM_EEXISTS)
        return dm_fail(err, DM_EEXISTS, "An admin named '%s' already exists.", name);
    return e;
}

/* The settings key of the device record the request's cookie names, or false when the request
 * has no well-formed device cookie. */
static bool device_setting_key(struct api_ctx *c, char out[sizeof DEVICE_KEY + 64])
{
    const char *tok = http_cookie(c->req, DEVICE_COOKIE);
    if (!tok || strlen(tok) != 64 || strspn(tok, "0123456789abcdef") != 64) return false;
    char digest[65];
    secret_digest_hex(tok, digest);
    snprintf(out, sizeof DEVICE_KEY + 64, DEVICE_KEY "%s", digest);
    return true;
}

/* Reads the device record of the request's cookie into names (space-separated; "" for none).
 * Returns false without a usable record; an expired one is deleted. */
static bool device_names(struct api_ctx *c, const char *key, char *names, size_t n)
{
    char *v = NULL;
    names[0] = 0;
    if (store_setting_get(c->env->store, key, &v, NULL)) return false;
    char *end = NULL;
    long long expires = strtoll(v, &end, 10);
    bool ok = end != v && *end == ' ' && expires > time(NULL);
    if (ok) dm_strlcpy(names, end + 1, n);
    free(v);
    if (!ok) store_setting_delete(c->env->store, key, NULL);
    return ok;
}

static bool names_have(const char *names, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = names; *p;) {
        size_t w = strcspn(p, " ");
        if (w == len && strncasecmp(p, name, len) == 0) return true;
        p += w;
        p += strspn(p, " ");
    }
    return false;
}

/* Whether the request comes from a browser where `name` logged in before; then dev_key is the
 * device's throttle key. */
static bool device_knows(struct api_ctx *c, const char *name, char dev_key[THROTTLE_KEY_MAX])
{
    char key[sizeof DEVICE_KEY + 64], names[DEVICE_MAX_NAMES * 66];
    if (!device_setting_key(c, key) || !device_names(c, key, names, sizeof names) ||
        !names_have(names, name))
        return false;
    snprintf(dev_key, THROTTLE_KEY_MAX, "dev:%.32s", key + strlen(DEVICE_KEY));
    return true;
}

/* After a login as `name`: a new device cookie for this browser, remembering the names its old
 * one (if any) had, newest first; the old record is deleted. Best effort: a store error leaves
 * the browser without a new cookie. */
static void device_remember(struct api_ctx *c, const char *name)
{
    struct store *st = c->env->store;
    char old_key[sizeof DEVICE_KEY + 64], old_names[DEVICE_MAX_NAMES * 66] = "";
    bool had = device_setting_key(c, old_key);
    if (had) device_names(c, old_key, old_names, sizeof old_names);
    char value[32 + DEVICE_MAX_NAMES * 66];
    int len = snprintf(value, sizeof value, "%lld %s", (long long)time(NULL) + DEVICE_TTL, name);
    int kept = 1;
    for (const char *p = old_names; *p && kept < DEVICE_MAX_NAMES;) {
        size_t w = strcspn(p, " ");
        bool same = w == strlen(name) && strncasecmp(p, name, w) == 0;
        if (!same && len + 1 + (int)w < (int)sizeof value) {
            len += snprintf(value + len, sizeof value - (size_t)len, " %.*s", (int)w, p);
            kept++;
        }
        p += w;
        p += strspn(p, " ");
    }
    char token[65], digest[65], key[sizeof DEVICE_KEY + 64];
    secret_random_hex(token, 32);
    secret_digest_hex(token, digest);
    snprintf(key, sizeof key, DEVICE_KEY "%s", digest);
    struct dm_error err = {0};
    if (store_setting_set(st, key, value, &err)) {
        log_warn("auth", "could not remember the browser's device: %s", err.msg);
        secret_wipe(token, sizeof token);
        return;
    }
    if (had) store_setting_delete(st, old_key, NULL);
    char cookie[256];
    bool https = strncmp(c->env->public_url, "https:", 6) == 0;
    snprintf(cookie, sizeof cookie,
             DEVICE_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/api/login; Max-Age=%d%s", token,
             DEVICE_TTL, https ? "; Secure" : "");
    secret_wipe(token, sizeof token);
    http_res_header(c->res, "Set-Cookie", cookie);
}

void api_session_start(struct api_ctx *c, int64_t admin_id, const char *name)
{
    char token[65];
    struct store_websession ws = {.admin_id = admin_id, .created_at = time(NULL)};
    ws.expires_at = ws.created_at + SESSION_TTL;
    secret_random_hex(token, 32);
    secret_digest_hex(token, ws.token_hash);
    secret_random_hex(ws.csrf, 32);
    struct dm_error err = {0};
    dm_err e = store_websession_create(c->env->store, &ws, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    char cookie[256];
    bool https = strncmp(c->env->public_url, "https:", 6) == 0;
    snprintf(cookie, sizeof cookie,
             "doorman_session=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d%s", token,
             SESSION_TTL, https ? "; Secure" : "");
    secret_wipe(token, sizeof token);
    http_res_header(c->res, "Set-Cookie", cookie);
    device_remember(c, name);
    http_res_json(c->res, 200, json_pack("{s:s,s:s}", "admin", name, "csrf_token", ws.csrf));
}

static bool needs_setup(struct api_ctx *c, bool *out)
{
    int64_t n = 0;
    struct dm_error err = {0};
    dm_err e = store_admin_count(c->env->store, &n, &err);
    if (e) return api_store_failed(c, e, &err);
    *out = n == 0;
    return true;
}

void api_setup_get(struct api_ctx *c)
{
    bool needs = false;
    if (!needs_setup(c, &needs)) return;
    http_res_json(c->res, 200, json_pack("{s:b}", "needs_setup", needs));
}

void api_setup_post(struct api_ctx *c)
{
    const char *token = NULL, *name = NULL, *password = NULL;
    bool needs = false;
    if (!api_only_fields(c, c->body, NULL, "token", "name", "password", NULL) ||
        !api_field_string(c, "token", true, 128, &token) ||
        !api_field_string(c, "name", true, 64, &name) ||
        !api_field_string(c, "password", true, 1024, &password) || !needs_setup(c, &needs))
        return;
    if (!needs) {
        http_res_error(c->res, 409, "conflict", "doorman is already set up: log in instead.");
        return;
    }
    struct store *st = c->env->store;
    char *want = NULL;
    struct dm_error err = {0};
    dm_err e = store_setting_get(st, SETUP_TOKEN_KEY, &want, &err);
    if (e && e != DM_ENOTFOUND) {
        api_store_failed(c, e, &err);
        return;
    }
    char digest[65];
    secret_digest_hex(token, digest);
    bool ok = want && secret_equal(digest, want);
    free(want);
    if (!ok) {
        http_res_error(c->res, 403, "forbidden",
                       "This setup link is not valid. Use the link doorman printed at start.");
        return;
    }
    e = auth_admin_add(st, name, password, ROLE_OWNER, NULL, 0, &err);
    if (e == DM_EINVAL) {
        api_bad_request(c, "%s", err.msg);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    store_setting_delete(st, SETUP_TOKEN_KEY, NULL);
    struct store_admin admin;
    if ((e = store_admin_get(st, name, &admin, &err))) {
        api_store_failed(c, e, &err);
        return;
    }
    audit(c->env, name, "setup", "ok", "first admin created");
    log_info("auth", "first admin '%s' created through the setup link", name);
    api_session_start(c, admin.id, name);
}

static void too_many(struct api_ctx *c, int64_t wait)
{
    char ra[32];
    snprintf(ra, sizeof ra, "%" PRId64, wait);
    http_res_header(c->res, "Retry-After", ra);
    http_res_error(c->res, 429, "too_many_attempts",
                   "Too many failed logins. Try again in %" PRId64 " minutes.", (wait + 59) / 60);
}

void api_login(struct api_ctx *c)
{
    pthread_once(&login_once, login_init);
    if (!login_throttle) {
        http_res_error(c->res, 503, "unavailable", "Not enough memory to check logins.");
        return;
    }
    struct throttle *t = login_throttle;
    int64_t now = clock_ms() / 1000, wait = 0, dev_wait = 0;
    char ip_key[THROTTLE_KEY_MAX], name_key[THROTTLE_KEY_MAX], dev_key[THROTTLE_KEY_MAX] = "";
    /* The address's attempt is counted before the body is read, and stays counted when the body
     * is not a login (bad JSON, another content type, missing or mistyped fields). */
    throttle_ip_key(c->req->client_ip, ip_key, sizeof ip_key);
    if (throttle_reserve(t, ip_key, MAX_FAILS_PER_IP, now, &wait) != THROTTLE_OK) {
        too_many(c, wait);
        return;
    }
    const char *name = NULL, *password = NULL, *code = NULL;
    if (!api_parse_body(c) ||
        !api_only_fields(c, c->body, NULL, "name", "password", "code", NULL) ||
        !api_field_string(c, "name", true, 256, &name) ||
        !api_field_string(c, "password", true, 1024, &password) ||
        !api_field_string(c, "code", false, 64, &code))
        return;
    snprintf(name_key, sizeof name_key, "name:%s", name);
    for (char *p = name_key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (throttle_reserve(t, name_key, MAX_FAILS_PER_NAME, now, &wait) != THROTTLE_OK) {
        /* Locked (or no room to count it): only a browser this admin logged in from may try. */
        if (!device_knows(c, name, dev_key) ||
            throttle_reserve(t, dev_key, MAX_FAILS_PER_DEVICE, now, &dev_wait) != THROTTLE_OK) {
            throttle_release(t, ip_key); /* no password was checked */
            too_many(c, DM_MAX(wait, dev_wait));
            return;
        }
    }
    struct store_admin admin = {0};
    struct dm_error err = {0};
    dm_err e = store_admin_get(c->env->store, name, &admin, &err);
    if (e && e != DM_ENOTFOUND) {
        throttle_release(t, ip_key);
        throttle_release(t, dev_key[0] ? dev_key : name_key);
        api_store_failed(c, e, &err);
        return;
    }
    /* Verify against a real hash even for unknown names, so timing does not tell names apart. */
    bool ok = secret_verify_password(e ? dummy_hash : admin.pw_hash, password) && !e;
    if (!ok) { /* the attempts stay counted */
        audit(c->env, name, "login_failed", "error", c->req->client_ip);
        http_res_error(c->res, 401, "unauthorized", "Wrong name or password.");
        return;
    }
    if (admin.totp_secret[0] && (!code || !*code)) { /* no code checked: nothing counted */
        throttle_release(t, ip_key);
        throttle_release(t, dev_key[0] ? dev_key : name_key);
        http_res_error(c->res, 401, "totp_required",
                       "Enter the 6-digit code of your authenticator app, or a recovery code.");
        return;
    }
    if (admin.totp_secret[0]) {
        if ((e = auth_second_factor(c->env, &admin, code, &ok, &err))) {
            throttle_release(t, ip_key);
            throttle_release(t, dev_key[0] ? dev_key : name_key);
            api_store_failed(c, e, &err);
            return;
        }
        if (!ok) { /* a wrong code counts as a failed login */
            audit(c->env, name, "login_failed", "error", "wrong two-factor code");
            http_res_error(c->res, 401, "wrong_code",
                           "Wrong or already used code. Codes change every 30 seconds; a "
                           "recovery code works once.");
            return;
        }
    }
    throttle_release(t, ip_key);
    if (dev_key[0]) /* the name's lock is someone else's doing: it stays */
        throttle_release(t, dev_key);
    else
        throttle_clear(t, name_key);
    audit(c->env, admin.name, "login", "ok", c->req->client_ip);
    api_session_start(c, admin.id, admin.name);
}

void api_logout(struct api_ctx *c)
{
    if (!api_only_fields(c, c->body, NULL, NULL)) return;
    struct dm_error err = {0};
    dm_err e = store_websession_delete(c->env->store, c->session.token_hash, &err);
    if (e && e != DM_ENOTFOUND) {
        api_store_failed(c, e, &err);
        return;
    }
    audit(c->env, c->session.admin_name, "logout", "ok", "");
    http_res_header(c->res, "Set-Cookie",
                    "doorman_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    http_res_json(c->res, 200, json_object());
}

void api_me(struct api_ctx *c)
{
    json_t *channels = api_scope_json(c, c->scope);
    if (!channels) return;
    bool totp = false;
    if (!c->token_id) {
        struct store_admin admin;
        struct dm_error err = {0};
        dm_err e = store_admin_get(c->env->store, c->session.admin_name, &admin, &err);
        if (e) {
            json_decref(channels);
            api_store_failed(c, e, &err);
            return;
        }
        totp = admin.totp_secret[0] != 0;
    }
    json_t *me = json_pack("{s:s,s:s,s:o,s:b,s:b}", "admin", c->session.admin_name, "role",
                           admin_role_name(c->role), "channels", channels, "totp", totp, "token",
                           c->token_id != 0);
    if (!c->token_id) json_object_set_new(me, "csrf_token", json_string(c->session.csrf));
    http_res_json(c->res, 200, me);
}

/* The API token of the request's "Authorization: Bearer" header: fills c from it, or answers
 * 401. */
static bool token_login(struct api_ctx *c, const char *auth)
{
    if (strlen(auth + 7) > 128 || !auth[7]) {
        http_res_error(c->res, 401, "unauthorized",
                       "Send an API token as 'Authorization: Bearer <token>'.");
        return false;
    }
    char digest[65];
    secret_digest_hex(auth + 7, digest);
    struct store_token t;
    struct dm_error err = {0};
    dm_err e = store_token_find(c->env->store, digest, &t, &err);
    if (e == DM_ENOTFOUND) {
        http_res_error(c->res, 401, "unauthorized",
                       "This API token is not valid (revoked, or never made).");
        return false;
    }
    if (e) return api_store_failed(c, e, &err);
    memset(&c->session, 0, sizeof c->session);
    c->session.admin_id = t.admin_id;
    dm_snprintf_utf8(c->session.admin_name, sizeof c->session.admin_name, "token %s of %s", t.name,
                     t.admin_name);
    c->token_id = t.id;
    c->role = DM_MIN(t.role, t.admin_role);
    if (t.role == ROLE_OWNER && c->role == ROLE_OWNER)
        c->scope[0] = 0;
    else
        store_scope_of("token", t.id, c->scope);
    return true;
}

bool api_authenticate(struct api_ctx *c)
{
    /* other schemes (a proxy's Basic login passed on) leave the cookie to decide */
    const char *auth = http_header(c->req, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) return token_login(c, auth);
    const char *cookie = http_cookie(c->req, "doorman_session");
    if (!cookie || !*cookie || strlen(cookie) > 128) {
        http_res_error(c->res, 401, "unauthorized", "Please log in.");
        return false;
    }
    char digest[65];
    secret_digest_hex(cookie, digest);
    struct dm_error err = {0};
    dm_err e = store_websession_get(c->env->store, digest, time(NULL), &c->session, &err);
    if (e == DM_ENOTFOUND) {
        http_res_error(c->res, 401, "unauthorized",
                       "Your session has expired. Please log in again.");
        return false;
    }
    if (e) return api_store_failed(c, e, &err);
    c->token_id = 0;
    c->role = c->session.role;
    if (c->role == ROLE_OWNER)
        c->scope[0] = 0;
    else
        store_scope_of("admin", c->session.admin_id, c->scope);
    return true;
}

dm_err api_setup_announce(const struct api_env *env, struct dm_error *err)
{
    int64_t n = 0;
    dm_err e = store_admin_count(env->store, &n, err);
    if (e || n > 0) return e;
    char token[33], digest[65];
    secret_random_hex(token, 16);
    secret_digest_hex(token, digest);
    if ((e = store_setting_set(env->store, SETUP_TOKEN_KEY, digest, err))) return e;
    /* The console is where the operator is: this one-time link is meant to be seen there. */
    fprintf(stderr,
            "\n  doorman has no admin yet. Open this one-time link to create one:\n"
            "    %s/setup#token=%s\n"
            "  (or run: doorman admin add NAME)\n\n",
            env->public_url, token);
    fflush(stderr);
    return DM_OK;
}
