/* account.c: what every admin does about their own login (docs/api.md, Your account): change
 * the password, and turn TOTP two-factor login on (a secret shown once, confirmed with a code,
 * then recovery codes shown once and kept as digests) or off. And the second factor's check at
 * login (auth.c). TOTP secrets are kept sealed with the master key (core/secret.h). */
#include "core/common.h"
#include "api/api.h"

#include "api/totp.h"
#include "core/log.h"
#include "core/secret.h"

#include <ctype.h>

#define RECOVERY_CODES 10
#define RECOVERY_LEN 14 /* "xxxx-xxxx-xxxx": 48 random bits */

/* The logged-in admin's record; false after answering. */
static bool me(struct api_ctx *c, struct store_admin *a)
{
    struct dm_error err = {0};
    dm_err e = store_admin_get(c->env->store, c->session.admin_name, a, &err);
    return e ? api_store_failed(c, e, &err) : true;
}

/* Reads the body's `field` and checks it is the admin's password; false after answering. */
static bool password_ok(struct api_ctx *c, const struct store_admin *a, const char *field)
{
    const char *pw = NULL;
    if (!api_field_string(c, field, true, 1024, &pw)) return false;
    if (secret_verify_password(a->pw_hash, pw)) return true;
    http_res_error(c->res, 403, "wrong_password", "'%s' is not your password.", field);
    return false;
}

void api_me_password(struct api_ctx *c)
{
    struct store_admin a;
    const char *next = NULL;
    if (!api_only_fields(c, c->body, NULL, "current_password", "new_password", NULL) ||
        !api_field_string(c, "new_password", true, 1024, &next) || !me(c, &a) ||
        !password_ok(c, &a, "current_password"))
        return;
    char hash[STORE_HASH_MAX];
    struct dm_error err = {0};
    dm_err e = auth_password_hash(next, hash, &err);
    if (e == DM_EINVAL) {
        api_bad_request(c, "%s", err.msg);
        return;
    }
    /* the admin's other browsers are logged out: whoever knew the old password is out */
    if (!e) e = store_admin_set_password(c->env->store, a.id, hash, c->session.token_hash, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    api_audit(c, "password", "ok", "changed their password (their other sessions ended)");
    http_res_json(c->res, 200, json_object());
}

/* The base32 secret sealed in `sealed`, into out; false when it cannot be opened. */
static bool secret_of(const struct api_env *env, const char *sealed, char out[TOTP_BASE32_MAX])
{
    char *plain = NULL;
    size_t len = 0;
    if (secret_open(env->master, sealed, &plain, &len)) return false;
    bool ok = len < TOTP_BASE32_MAX;
    if (ok) memcpy(out, plain, len + 1);
    secret_wipe(plain, len);
    free(plain);
    return ok;
}

void api_me_totp_setup(struct api_ctx *c)
{
    struct store_admin a;
    if (!api_only_fields(c, c->body, NULL, NULL) || !me(c, &a)) return;
    if (a.totp_secret[0]) {
        http_res_error(c->res, 409, "conflict",
                       "Two-factor login is already on; turn it off first to get a new secret.");
        return;
    }
    char hex[2 * TOTP_SECRET_BYTES + 1], b32[TOTP_BASE32_MAX];
    unsigned char key[TOTP_SECRET_BYTES];
    secret_random_hex(hex, TOTP_SECRET_BYTES);
    for (size_t i = 0; i < TOTP_SECRET_BYTES; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        key[i] = (unsigned char)v;
    }
    totp_base32(key, sizeof key, b32);
    secret_wipe(key, sizeof key);
    secret_wipe(hex, sizeof hex);
    char *sealed = NULL;
    struct dm_error err = {0};
    dm_err e = secret_seal(c->env->master, b32, strlen(b32), &sealed);
    if (!e) e = store_admin_totp_pending(c->env->store, a.id, sealed, &err);
    free(sealed);
    if (e) {
        secret_wipe(b32, sizeof b32);
        api_store_failed(c, e, &err);
        return;
    }
    char uri[256];
    snprintf(uri, sizeof uri,
             "otpauth://totp/doorman:%s?secret=%s&issuer=doorman&algorithm=SHA1&digits=6&period=%d",
             a.name, b32, TOTP_STEP);
    http_res_json(c->res, 200, json_pack("{s:s,s:s}", "secret", b32, "uri", uri));
    secret_wipe(b32, sizeof b32);
    secret_wipe(uri, sizeof uri);
}

/* A new recovery code into code, and its digest. */
static void recovery_new(char code[RECOVERY_LEN + 1], char digest[65])
{
    char hex[13];
    secret_random_hex(hex, 6);
    snprintf(code, RECOVERY_LEN + 1, "%.4s-%.4s-%.4s", hex, hex + 4, hex + 8);
    secret_digest_hex(code, digest);
    secret_wipe(hex, sizeof hex);
}

void api_me_totp_enable(struct api_ctx *c)
{
    struct store_admin a;
    const char *code = NULL;
    if (!api_only_fields(c, c->body, NULL, "code", NULL) ||
        !api_field_string(c, "code", true, 16, &code) || !me(c, &a))
        return;
    char b32[TOTP_BASE32_MAX];
    int64_t step = 0;
    if (a.totp_secret[0] || !a.totp_pending[0] || !secret_of(c->env, a.totp_pending, b32)) {
        http_res_error(c->res, 409, "conflict",
                       a.totp_secret[0] ? "Two-factor login is already on."
                                        : "Ask for a secret first (POST /api/me/totp/setup).");
        return;
    }
    bool ok = totp_check(b32, code, time(NULL), &step);
    secret_wipe(b32, sizeof b32);
    if (!ok) {
        http_res_error(c->res, 400, "wrong_code",
                       "That is not the code your authenticator app shows now; check the "
                       "phone's clock and try the next code.");
        return;
    }
    char codes[RECOVERY_CODES][RECOVERY_LEN + 1], digests[RECOVERY_CODES][65];
    const char *dv[RECOVERY_CODES];
    for (int i = 0; i < RECOVERY_CODES; i++) {
        recovery_new(codes[i], digests[i]);
        dv[i] = digests[i];
    }
    struct dm_error err = {0};
    bool fresh = false;
    dm_err e = store_admin_totp_set(c->env->store, a.id, a.totp_pending, dv, RECOVERY_CODES, &err);
    if (!e) e = store_admin_totp_step(c->env->store, a.id, step, &fresh, &err);
    if (e) {
        secret_wipe(codes, sizeof codes);
        api_store_failed(c, e, &err);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < RECOVERY_CODES; i++)
        json_array_append_new(list, json_string(codes[i]));
    secret_wipe(codes, sizeof codes);
    api_audit(c, "totp_on", "ok", "turned two-factor login on");
    http_res_json(c->res, 200, json_pack("{s:o}", "recovery_codes", list));
}

void api_me_totp_disable(struct api_ctx *c)
{
    struct store_admin a;
    if (!api_only_fields(c, c->body, NULL, "password", NULL) || !me(c, &a) ||
        !password_ok(c, &a, "password"))
        return;
    struct dm_error err = {0};
    dm_err e = store_admin_totp_set(c->env->store, a.id, "", NULL, 0, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    api_audit(c, "totp_off", "ok", "turned two-factor login off");
    http_res_json(c->res, 200, json_object());
}

dm_err auth_second_factor(const struct api_env *env, const struct store_admin *admin,
                          const char *code, bool *ok, struct dm_error *err)
{
    *ok = false;
    if (strlen(code) == 6) {
        char b32[TOTP_BASE32_MAX];
        int64_t step = 0;
        if (!secret_of(env, admin->totp_secret, b32)) {
            log_warn("auth", "the TOTP secret of '%s' cannot be opened (another master key?)",
                     admin->name);
            return DM_OK;
        }
        bool match = totp_check(b32, code, time(NULL), &step);
        secret_wipe(b32, sizeof b32);
        return match ? store_admin_totp_step(env->store, admin->id, step, ok, err) : DM_OK;
    }
    if (strlen(code) != RECOVERY_LEN) return DM_OK;
    char lower[RECOVERY_LEN + 1], digest[65];
    for (size_t i = 0; i <= RECOVERY_LEN; i++)
        lower[i] = (char)tolower((unsigned char)code[i]);
    secret_digest_hex(lower, digest);
    return store_recovery_use(env->store, admin->id, digest, ok, err);
}
