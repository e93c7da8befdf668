/* login.c: user and bot logins, imports, exports and removal of sessions (see login.h). */
#include "core/common.h"
#include "telegram/login.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#include "core/log.h"
#include "mtproto/crypto.h"
#include "mtproto/tl_codec.h"
#include "telegram/session_file.h"
#include "telegram/session_string.h"

#define MIGRATIONS_MAX 3 /* *_MIGRATE_X answers followed in one operation */

/* Steps of logins (code, password) one at a time: two tabs sending the same code must not
 * both sign in. Logins are rare; nothing else waits on this. */
static pthread_mutex_t step_lock = PTHREAD_MUTEX_INITIALIZER;

/* Copies a dm_error into *te as a plain failure. */
static dm_err te_from(struct tg_error *te, dm_err code, const struct dm_error *err)
{
    return tg_error_local(te, code, "%s", err && err->msg[0] ? err->msg : dm_strerror(code));
}

static int64_t login_ttl(void)
{
    const char *s = getenv("DOORMAN_LOGIN_TTL_S");
    char *end = NULL;
    long long v = s && *s ? strtoll(s, &end, 10) : 0;
    return s && *s && !*end && v >= 1 && v <= 86400 ? v : LOGIN_TTL_S;
}

/* ---- input checks ---- */

dm_err login_check_name(const char *name, struct dm_error *err)
{
    static const char *const reserved[] = {"login", "list", "bot", "import"};
    if (!tg_session_name_valid(name))
        return dm_fail(err, DM_EINVAL,
                       "The session name must be 1 to 64 letters, digits, '_' or '-'.");
    for (size_t i = 0; i < DM_ARRAY_LEN(reserved); i++)
        if (strcmp(name, reserved[i]) == 0)
            return dm_fail(err, DM_EINVAL, "'%s' cannot be a session name: choose another.", name);
    return DM_OK;
}

/* The name is valid and no session, and no file, has it. */
static dm_err name_free(struct pool *a, const char *name, struct tg_error *te)
{
    struct dm_error err = {0};
    dm_err e = login_check_name(name, &err);
    if (e) return te_from(te, e, &err);
    struct store *st = pool_store(a);
    struct store_session row;
    e = store_session_get(st, name, &row, &err);
    if (e == DM_OK)
        return tg_error_local(te, DM_EEXISTS, "A session named '%s' already exists.", name);
    if (e != DM_ENOTFOUND) return te_from(te, e, &err);
    char path[1200];
    if ((e = pool_path(a, name, path, sizeof path, &err))) return te_from(te, e, &err);
    if (access(path, F_OK) == 0)
        return tg_error_local(te, DM_EEXISTS,
                              "The file sessions/%s.session exists but no session uses it: move it "
                              "away or choose another name.",
                              name);
    return DM_OK;
}

static dm_err check_api(int64_t api_id, const char *api_hash, struct tg_error *te)
{
    if (api_id < 1 || api_id > INT32_MAX)
        return tg_error_local(te, DM_EINVAL,
                              "The API ID is a positive number from my.telegram.org.");
    size_t n = api_hash ? strlen(api_hash) : 0;
    bool ok = n >= 1 && n <= LOGIN_API_HASH_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = api_hash[i] > ' ' && api_hash[i] < 0x7f;
    if (!ok)
        return tg_error_local(te, DM_EINVAL,
                              "The API hash is the 32-character code from my.telegram.org.");
    return DM_OK;
}

/* Keeps '+' and digits of a phone number written with spaces, dashes, dots or parentheses. */
static dm_err phone_clean(const char *in, char *out, size_t n, struct tg_error *te)
{
    size_t o = 0, digits = 0;
    bool ok = in && *in;
    for (const char *p = in; ok && *p; p++) {
        if (*p >= '0' && *p <= '9') {
            digits++;
            ok = o + 1 < n;
            if (ok) out[o++] = *p;
        } else if (*p == '+' && o == 0) {
            out[o++] = '+';
        } else {
            ok = strchr(" -().", *p) != NULL;
        }
    }
    if (!ok || digits < 5 || digits > 20)
        return tg_error_local(
            te, DM_EINVAL, "The phone number must be in international format, e.g. +1234567890.");
    out[o] = 0;
    return DM_OK;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* ---- sealed login state ---- */

struct login_secret {
    int32_t api_id;
    char api_hash[LOGIN_API_HASH_MAX + 1];
    char phone_code_hash[256];
    struct mt_auth auth;
    struct login_sent sent; /* not secret, but kept with what is */
};

static void secret_clear(struct login_secret *s)
{
    secret_wipe(s, sizeof *s);
}

static dm_err seal_login(struct pool *a, const struct login_secret *s, struct store_login *l,
                         struct tg_error *te)
{
    json_t *o =
        json_pack("{s:i,s:s,s:s,s:i,s:o,s:{s:s,s:s,s:i}}", "api_id", (int)s->api_id, "api_hash",
                  s->api_hash, "phone_code_hash", s->phone_code_hash, "dc", s->auth.dc_id, "key",
                  tl_hex(s->auth.key, sizeof s->auth.key), "sent", "type", s->sent.type,
                  "next_type", s->sent.next_type, "timeout", (int)s->sent.timeout);
    char *plain = o ? json_dumps(o, JSON_COMPACT) : NULL;
    char *sealed = NULL;
    dm_err e = plain ? secret_seal(pool_master(a), plain, strlen(plain), &sealed) : DM_ENOMEM;
    if (plain) secret_wipe(plain, strlen(plain));
    free(plain);
    json_decref(o); /* holds copies of the secrets: jansson frees them without wiping */
    if (!e && dm_strlcpy(l->sealed, sealed, sizeof l->sealed) >= sizeof l->sealed) e = DM_ETOOBIG;
    free(sealed);
    return e ? tg_error_local(te, e, "could not seal the login: %s", dm_strerror(e)) : DM_OK;
}

static dm_err open_login(struct pool *a, const struct store_login *l, struct login_secret *s,
                         struct tg_error *te)
{
    char *plain = NULL;
    size_t len = 0;
    memset(s, 0, sizeof *s);
    if (secret_open(pool_master(a), l->sealed, &plain, &len))
        return tg_error_local(te, DM_ECRYPTO,
                              "This login was sealed with another master key. Please start over.");
    json_t *o = json_loadb(plain, len, 0, NULL);
    secret_wipe(plain, len);
    free(plain);
    const char *hash = json_string_value(json_object_get(o, "api_hash"));
    const char *pch = json_string_value(json_object_get(o, "phone_code_hash"));
    size_t klen = 0;
    dm_err e = DM_OK;
    if (!o || !hash || !pch ||
        tl_get_bytes(o, "key", s->auth.key, sizeof s->auth.key, &klen, NULL) ||
        klen != sizeof s->auth.key) {
        e = tg_error_local(te, DM_ECRYPTO, "This login's state is damaged. Please start over.");
    } else {
        s->api_id = (int32_t)json_integer_value(json_object_get(o, "api_id"));
        s->auth.dc_id = (int)json_integer_value(json_object_get(o, "dc"));
        dm_strlcpy(s->api_hash, hash, sizeof s->api_hash);
        dm_strlcpy(s->phone_code_hash, pch, sizeof s->phone_code_hash);
        const json_t *sent = json_object_get(o, "sent"); /* none in logins of older doormans */
        dm_strlcpy(s->sent.type, sent ? jstr(sent, "type") : "app", sizeof s->sent.type);
        dm_strlcpy(s->sent.next_type, jstr(sent, "next_type"), sizeof s->sent.next_type);
        s->sent.timeout = (int32_t)json_integer_value(json_object_get(sent, "timeout"));
    }
    json_decref(o);
    return e;
}

static void pool_key(char out[POOL_KEY_MAX], const char *kind, const char *id)
{
    snprintf(out, POOL_KEY_MAX, "%s:%s", kind, id);
}

/* ---- calls ---- */

/* mt_call on a held client, classified into *te. */
static dm_err call(struct pool_conn *h, const json_t *m, json_t **res, struct mt_rpc_error *rpc,
                   struct tg_error *te)
{
    struct dm_error err = {0};
    struct mt_rpc_error local = {0};
    if (!rpc) rpc = &local;
    if (!m) return tg_error_local(te, DM_ENOMEM, "out of memory");
    dm_err e = mt_call(pool_client(h), m, POOL_CALL_TIMEOUT_MS, res, rpc, &err);
    return tg_error_mtproto(te, e, rpc, &err);
}

/* Calls m on a new key pooled under `key`, starting on DC dc (0: the default) and following
 * *_MIGRATE_X: the key is then made again on that DC. On success *h holds the client. */
static dm_err call_new_key(struct pool *a, const char *key, int32_t api_id, json_t *m, json_t **res,
                           struct pool_conn **h, struct tg_error *te)
{
    int dc = 0;
    for (int hop = 0;; hop++) {
        struct mt_config mc;
        struct dm_error err = {0};
        dm_err e = pool_mt_config(a, dc, api_id, true, &mc, &err);
        if (!e) e = pool_acquire_key(a, key, &mc, NULL, h, &err);
        if (e) return te_from(te, e, &err);
        struct mt_rpc_error rpc = {0};
        e = call(*h, m, res, &rpc, te);
        int to = e == DM_ETELEGRAM ? mt_rpc_error_migrate_dc(&rpc) : 0;
        if (!e || !to || hop == MIGRATIONS_MAX) {
            if (e) {
                pool_release(a, *h);
                pool_drop(a, key);
                *h = NULL;
            }
            return e;
        }
        log_info("login", "following %s to DC %d", rpc.message, to);
        pool_release(a, *h);
        pool_drop(a, key);
        *h = NULL;
        dc = to;
    }
}

/* The key of a held client (made by the handshake, or given). */
static dm_err client_key(struct pool_conn *h, struct mt_auth *out, struct tg_error *te)
{
    struct dm_error err = {0};
    dm_err e = mt_client_auth_key(pool_client(h), 5000, out, &err);
    return e ? te_from(te, e, &err) : DM_OK;
}

/* ---- making a session ---- */

struct new_session {
    const char *name;
    const char *key; /* the pool key of the connection to hand over */
    int32_t api_id;
    const char *api_hash;
    const char *phone;
    const struct mt_auth *auth;
    bool test_mode;
    const json_t *user; /* the account, as Telegram sent it */
};

/* Writes the file, hands the connection over and adds the row; undoes all of it on failure. */
static dm_err session_create(struct pool *a, const struct new_session *n, int64_t now,
                             struct store_session *out, struct tg_error *te)
{
    struct store *st = pool_store(a);
    struct dm_error err = {0};
    if (!tl_is(n->user, "user"))
        return tg_error_local(te, DM_EPROTO, "Telegram did not say which account logged in.");
    struct store_session row;
    memset(&row, 0, sizeof row);
    dm_strlcpy(row.name, n->name, sizeof row.name);
    row.is_bot = json_is_true(json_object_get(n->user, "bot"));
    row.api_id = n->api_id;
    dm_strlcpy(row.phone, n->phone ? n->phone : "", sizeof row.phone);
    row.dc_id = n->auth->dc_id;
    row.account_id = json_integer_value(json_object_get(n->user, "id"));
    dm_strlcpy(row.first_name, jstr(n->user, "first_name"), sizeof row.first_name);
    dm_strlcpy(row.last_name, jstr(n->user, "last_name"), sizeof row.last_name);
    dm_strlcpy(row.username, jstr(n->user, "username"), sizeof row.username);
    dm_strlcpy(row.account_phone, jstr(n->user, "phone"), sizeof row.account_phone);
    row.premium = json_is_true(json_object_get(n->user, "premium"));
    row.status = SESSION_ACTIVE;
    row.last_check_at = now;
    row.created_at = now;
    char *sealed = NULL;
    dm_err e = secret_seal(pool_master(a), n->api_hash, strlen(n->api_hash), &sealed);
    if (!e && dm_strlcpy(row.api_hash_sealed, sealed, sizeof row.api_hash_sealed) >=
                  sizeof row.api_hash_sealed)
        e = DM_ETOOBIG;
    free(sealed);
    if (e) return tg_error_local(te, e, "could not seal the API hash: %s", dm_strerror(e));

    struct tg_session s;
    memset(&s, 0, sizeof s);
    s.kind = TG_SESSION_PYROGRAM_FILE;
    s.dc_id = n->auth->dc_id;
    s.api_id = n->api_id;
    s.test_mode = n->test_mode;
    memcpy(s.auth_key, n->auth->key, sizeof s.auth_key);
    s.user_id = row.account_id;
    s.is_bot = row.is_bot;
    s.date = now;
    char path[1200];
    e = pool_path(a, n->name, path, sizeof path, &err);
    if (!e) e = tg_session_write_sealed(path, &s, pool_master(a), false, &err);
    tg_session_wipe(&s);
    if (e == DM_EEXISTS)
        return tg_error_local(te, DM_EEXISTS, "A session named '%s' already exists.", n->name);
    if (e) return te_from(te, e, &err);
    e = pool_rename(a, n->key, n->name, &err);
    if (!e) {
        e = store_session_add(st, &row, &err);
        if (e) pool_drop(a, n->name);
    }
    if (e) {
        unlink(path);
        return e == DM_EEXISTS
                   ? tg_error_local(te, e, "A session named '%s' already exists.", n->name)
                   : te_from(te, e, &err);
    }
    log_info("login", "session %s created (%s, account %" PRId64 ", DC %d)", row.name,
             row.is_bot ? "bot" : "user", row.account_id, row.dc_id);
    if (out) *out = row;
    return DM_OK;
}

/* ---- user login ---- */

/* A login Telegram refused with an answer rather than an error (TG_INPUT; te->name is the
 * answer's constructor, which the API maps to its own code). */
static dm_err refused_by_answer(struct tg_error *te, const char *constructor, const char *msg)
{
    tg_error_local(te, DM_EINVAL, "%s", msg);
    if (te) {
        te->kind = TG_INPUT;
        dm_strlcpy(te->name, constructor, sizeof te->name);
    }
    return DM_EINVAL;
}

/* The word for an auth.SentCodeType or auth.CodeType constructor ("" for none). */
static const char *code_type_word(const json_t *t)
{
    static const struct {
        const char *suffix, *word;
    } words[] = {{"App", "app"},
                 {"Sms", "sms"},
                 {"SmsWord", "sms"},
                 {"SmsPhrase", "sms"},
                 {"FirebaseSms", "sms"},
                 {"Call", "call"},
                 {"FlashCall", "flash_call"},
                 {"MissedCall", "missed_call"},
                 {"EmailCode", "email"},
                 {"FragmentSms", "fragment"}};
    const char *c = jstr(t, "_");
    const char *dot = strchr(c, '.');
    const char *tail = dot ? dot + 1 : c; /* sentCodeTypeSms, codeTypeSms */
    if (!*tail) return "";
    const char *suffix = strncmp(tail, "sentCodeType", 12) == 0 ? tail + 12
                         : strncmp(tail, "codeType", 8) == 0    ? tail + 8
                                                                : "";
    for (size_t i = 0; i < DM_ARRAY_LEN(words); i++)
        if (strcmp(suffix, words[i].suffix) == 0) return words[i].word;
    return "other";
}

/* Reads an auth.sentCode (from sendCode or resendCode) into s: its phone_code_hash and how the
 * code went. Telegram may send no code and ask for a login email first: that ends the login. */
static dm_err read_sent_code(const json_t *res, struct login_secret *s, struct tg_error *te)
{
    const json_t *type = json_object_get(res, "type");
    if (tl_is(res, "auth.sentCode") && tl_is(type, "auth.sentCodeTypeSetUpEmailRequired"))
        return refused_by_answer(
            te, "auth.sentCodeTypeSetUpEmailRequired",
            "Telegram asks this account to set up a login email before it signs in from other "
            "apps, and sent no code. Sign in once with the official Telegram app (it asks for "
            "the email there), then create the session here again.");
    const char *pch = jstr(res, "phone_code_hash");
    if (!tl_is(res, "auth.sentCode") || !*pch)
        return tg_error_local(
            te, DM_EPROTO,
            "Telegram did not send a login code (it answered %s). Please start over.",
            jstr(res, "_"));
    dm_strlcpy(s->phone_code_hash, pch, sizeof s->phone_code_hash);
    dm_strlcpy(s->sent.type, code_type_word(type), sizeof s->sent.type);
    dm_strlcpy(s->sent.next_type, code_type_word(json_object_get(res, "next_type")),
               sizeof s->sent.next_type);
    s->sent.timeout = (int32_t)json_integer_value(json_object_get(res, "timeout"));
    return DM_OK;
}

dm_err login_start(struct pool *a, const char *name, int64_t api_id, const char *api_hash,
                   const char *phone, int64_t now, struct store_login *out, struct login_sent *sent,
                   struct tg_error *te)
{
    char clean[33];
    dm_err e = name_free(a, name, te);
    if (!e) e = check_api(api_id, api_hash, te);
    if (!e) e = phone_clean(phone, clean, sizeof clean, te);
    if (e) return e;

    struct store_login l;
    memset(&l, 0, sizeof l);
    secret_random_hex(l.id, 16);
    char key[POOL_KEY_MAX];
    pool_key(key, "login", l.id);
    json_t *m =
        json_pack("{s:s,s:s,s:i,s:s,s:{s:s}}", "_", "auth.sendCode", "phone_number", clean,
                  "api_id", (int)api_id, "api_hash", api_hash, "settings", "_", "codeSettings");
    json_t *res = NULL;
    struct pool_conn *h = NULL;
    e = call_new_key(a, key, (int32_t)api_id, m, &res, &h, te);
    json_decref(m);
    if (e) return e;

    struct login_secret s;
    memset(&s, 0, sizeof s);
    e = read_sent_code(res, &s, te);
    if (!e) {
        s.api_id = (int32_t)api_id;
        dm_strlcpy(s.api_hash, api_hash, sizeof s.api_hash);
        e = client_key(h, &s.auth, te);
    }
    json_decref(res);
    pool_release(a, h);
    if (!e) {
        dm_strlcpy(l.name, name, sizeof l.name);
        dm_strlcpy(l.phone, clean, sizeof l.phone);
        l.state = LOGIN_CODE_SENT;
        l.created_at = now;
        l.expires_at = now + login_ttl();
        e = seal_login(a, &s, &l, te);
    }
    if (sent) *sent = s.sent;
    secret_clear(&s);
    struct store *st = pool_store(a);
    struct dm_error err = {0};
    if (!e && (e = store_login_put(st, &l, now, &err))) te_from(te, e, &err);
    if (e) {
        pool_drop(a, key);
        return e;
    }
    log_info("login", "login %.8s… for session %s: code sent (%s)", l.id, name,
             sent ? sent->type : "");
    *out = l;
    return DM_OK;
}

dm_err login_get(struct pool *a, const char *id, int64_t now, struct store_login *out,
                 struct tg_error *te)
{
    struct store *st = pool_store(a);
    struct dm_error err = {0};
    /* login ids are hex (secret_random_hex): anything else was never one, and must not reach
       the store (other bytes are no text to PostgreSQL) */
    size_t n = strlen(id);
    bool well_formed = n < sizeof out->id && strspn(id, "0123456789abcdef") == n;
    dm_err e = well_formed ? store_login_get(st, id, now, out, &err) : DM_ENOTFOUND;
    if (e == DM_ENOTFOUND) return tg_error_set(te, TG_LOGIN_GONE, 0);
    return e ? te_from(te, e, &err) : DM_OK;
}

/* Ends a login: its row and its connection. */
static void login_end(struct pool *a, const char *id)
{
    struct store *st = pool_store(a);
    struct dm_error err = {0};
    char key[POOL_KEY_MAX];
    pool_key(key, "login", id);
    pool_drop(a, key);
    if (store_login_delete(st, id, &err))
        log_warn("login", "could not remove a finished login: %s", err.msg);
}

/* The login, its secrets and its connection (made again from the sealed key after a
 * restart), under step_lock: on success the caller holds the lock and unlocks it when its step
 * is done; on failure it is already released. */
static dm_err login_resume(struct pool *a, const char *id, int64_t now, struct store_login *l,
                           struct login_secret *s, struct pool_conn **h, struct tg_error *te)
{
    pthread_mutex_lock(&step_lock);
    dm_err e = login_get(a, id, now, l, te);
    if (!e) e = open_login(a, l, s, te);
    if (e) {
        pthread_mutex_unlock(&step_lock);
        return e;
    }
    struct mt_config mc;
    struct dm_error err = {0};
    char key[POOL_KEY_MAX];
    pool_key(key, "login", id);
    e = pool_mt_config(a, s->auth.dc_id, s->api_id, false, &mc, &err);
    if (!e) e = pool_acquire_key(a, key, &mc, &s->auth, h, &err);
    if (e) {
        secret_clear(s);
        pthread_mutex_unlock(&step_lock);
        return te_from(te, e, &err);
    }
    return DM_OK;
}

/* The login succeeded with authorization `auth_res`: make the session, end the login. */
static dm_err login_finish(struct pool *a, const struct store_login *l,
                           const struct login_secret *s, const json_t *auth_res, int64_t now,
                           struct store_session *session, struct tg_error *te)
{
    if (tl_is(auth_res, "auth.authorizationSignUpRequired")) {
        login_end(a, l->id);
        return refused_by_answer(te, "auth.authorizationSignUpRequired", TG_SIGN_UP_FIRST_MSG);
    }
    char key[POOL_KEY_MAX];
    pool_key(key, "login", l->id);
    struct new_session n = {.name = l->name,
                            .key = key,
                            .api_id = s->api_id,
                            .api_hash = s->api_hash,
                            .phone = l->phone,
                            .auth = &s->auth,
                            .user = json_object_get(auth_res, "user")};
    dm_err e = session_create(a, &n, now, session, te);
    login_end(a, l->id); /* done, or cannot be done (the name was taken meanwhile) */
    return e;
}

/* account.getPassword: the SRP parameters and the hint. */
static dm_err get_password(struct pool_conn *h, json_t **pw, struct tg_error *te)
{
    json_t *m = json_pack("{s:s}", "_", "account.getPassword");
    dm_err e = call(h, m, pw, NULL, te);
    json_decref(m);
    if (!e && !tl_is(*pw, "account.password")) {
        json_decref(*pw);
        *pw = NULL;
        e = tg_error_local(te, DM_EPROTO, "Telegram did not describe the 2FA password.");
    }
    return e;
}

dm_err login_code(struct pool *a, const char *id, const char *code, int64_t now, bool *done,
                  struct store_login *out, struct store_session *session, struct tg_error *te)
{
    *done = false;
    if (!code || strlen(code) > 32) return tg_error_set(te, TG_BAD_CODE, 0);
    if (!code[strspn(code, " \t")]) { /* as Telegram answers it (PHONE_CODE_EMPTY) */
        tg_error_set(te, TG_BAD_CODE, 0);
        tg_error_say(te, "%s", TG_CODE_EMPTY_MSG);
        return DM_EINVAL;
    }
    struct store_login l;
    struct login_secret s;
    struct pool_conn *h = NULL;
    dm_err e = login_resume(a, id, now, &l, &s, &h, te);
    if (e) return e;
    json_t *m = json_pack("{s:s,s:s,s:s,s:s}", "_", "auth.signIn", "phone_number", l.phone,
                          "phone_code_hash", s.phone_code_hash, "phone_code", code);
    json_t *res = NULL;
    struct mt_rpc_error rpc = {0};
    e = call(h, m, &res, &rpc, te);
    json_decref(m);
    if (e == DM_ETELEGRAM && mt_rpc_error_is(&rpc, "SESSION_PASSWORD_NEEDED")) {
        json_t *pw = NULL;
        e = get_password(h, &pw, te);
        pool_release(a, h);
        if (!e) {
            l.state = LOGIN_PASSWORD_NEEDED;
            dm_strlcpy(l.hint, jstr(pw, "hint"), sizeof l.hint);
            struct store *st = pool_store(a);
            struct dm_error err = {0};
            if ((e = store_login_put(st, &l, now, &err))) te_from(te, e, &err);
        }
        json_decref(pw);
        if (!e) *out = l;
    } else {
        pool_release(a, h);
        if (!e) {
            e = login_finish(a, &l, &s, res, now, session, te);
            *done = e == DM_OK;
        } else if (te && te->kind == TG_CODE_EXPIRED) {
            login_end(a, id);
        }
    }
    json_decref(res);
    secret_clear(&s);
    pthread_mutex_unlock(&step_lock);
    return e;
}

dm_err login_sent_of(struct pool *a, const struct store_login *l, struct login_sent *out,
                     struct tg_error *te)
{
    struct login_secret s;
    dm_err e = open_login(a, l, &s, te);
    if (!e) *out = s.sent;
    secret_clear(&s);
    return e;
}

dm_err login_resend(struct pool *a, const char *id, int64_t now, struct store_login *out,
                    struct login_sent *sent, struct tg_error *te)
{
    struct store_login l;
    struct login_secret s;
    struct pool_conn *h = NULL;
    dm_err e = login_resume(a, id, now, &l, &s, &h, te);
    if (e) return e;
    json_t *res = NULL;
    if (l.state != LOGIN_CODE_SENT)
        e = tg_error_local(te, DM_EINVAL,
                           "This login waits for the 2FA password: the code was accepted.");
    if (!e) {
        json_t *m = json_pack("{s:s,s:s,s:s}", "_", "auth.resendCode", "phone_number", l.phone,
                              "phone_code_hash", s.phone_code_hash);
        e = call(h, m, &res, NULL, te);
        json_decref(m);
    }
    pool_release(a, h);
    if (!e) e = read_sent_code(res, &s, te);
    if (!e) e = seal_login(a, &s, &l, te);
    struct store *st = pool_store(a);
    struct dm_error err = {0};
    if (!e && (e = store_login_put(st, &l, now, &err))) te_from(te, e, &err);
    if (!e) {
        *out = l;
        *sent = s.sent;
        log_info("login", "login %.8s…: code sent again (%s)", l.id, s.sent.type);
    } else if (te && (te->kind == TG_CODE_EXPIRED ||
                      strcmp(te->name, "auth.sentCodeTypeSetUpEmailRequired") == 0)) {
        login_end(a, id);
    }
    json_decref(res);
    secret_clear(&s);
    pthread_mutex_unlock(&step_lock);
    return e;
}

/* inputCheckPasswordSRP for password from account.password pw. */
static dm_err srp_answer(const json_t *pw, const char *password, json_t **out, struct tg_error *te)
{
    const json_t *algo = json_object_get(pw, "current_algo");
    uint8_t salt1[256], salt2[256], p[256], B[256], A[256], M1[32];
    size_t l1 = 0, l2 = 0, lp = 0, lb = 0;
    int32_t g = 0;
    int64_t srp_id = 0;
    if (!json_is_true(json_object_get(pw, "has_password")) ||
        !tl_is(algo, "passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow") ||
        tl_get_bytes(algo, "salt1", salt1, sizeof salt1, &l1, NULL) ||
        tl_get_bytes(algo, "salt2", salt2, sizeof salt2, &l2, NULL) ||
        tl_get_bytes(algo, "p", p, sizeof p, &lp, NULL) || lp != 256 ||
        tl_get_int(algo, "g", &g, NULL) || tl_get_bytes(pw, "srp_B", B, sizeof B, &lb, NULL) ||
        tl_get_long(pw, "srp_id", &srp_id, NULL))
        return tg_error_local(te, DM_EPROTO,
                              "Telegram asked for a 2FA password in a way doorman does not know.");
    struct crypto_srp_input in = {.salt1 = salt1,
                                  .salt2 = salt2,
                                  .salt1_len = l1,
                                  .salt2_len = l2,
                                  .g = g,
                                  .p = p,
                                  .srp_B = B,
                                  .srp_B_len = lb};
    struct dm_error err = {0};
    dm_err e = crypto_srp_check(&in, password, crypto_random, NULL, A, M1, &err);
    if (e) return te_from(te, e, &err);
    *out = json_pack("{s:s,s:I,s:o,s:o}", "_", "inputCheckPasswordSRP", "srp_id",
                     (json_int_t)srp_id, "A", tl_hex(A, sizeof A), "M1", tl_hex(M1, sizeof M1));
    secret_wipe(A, sizeof A);
    secret_wipe(M1, sizeof M1);
    return *out ? DM_OK : tg_error_local(te, DM_ENOMEM, "out of memory");
}

dm_err login_password(struct pool *a, const char *id, const char *password, int64_t now,
                      struct store_session *session, struct tg_error *te)
{
    if (!password || !*password) return tg_error_set(te, TG_BAD_PASSWORD, 0);
    struct store_login l;
    struct login_secret s;
    struct pool_conn *h = NULL;
    dm_err e = login_resume(a, id, now, &l, &s, &h, te);
    if (e) return e;
    json_t *pw = NULL, *check = NULL, *res = NULL;
    if (l.state != LOGIN_PASSWORD_NEEDED)
        e = tg_error_local(te, DM_EINVAL,
                           "This login waits for the verification code, not a password.");
    if (!e) e = get_password(h, &pw, te);
    if (!e) e = srp_answer(pw, password, &check, te);
    if (!e) {
        json_t *m = json_pack("{s:s,s:O}", "_", "auth.checkPassword", "password", check);
        e = call(h, m, &res, NULL, te);
        json_decref(m);
    }
    pool_release(a, h);
    if (!e) e = login_finish(a, &l, &s, res, now, session, te);
    json_decref(pw);
    json_decref(check);
    json_decref(res);
    secret_clear(&s);
    pthread_mutex_unlock(&step_lock);
    return e;
}

/* ---- bot login ---- */

dm_err login_bot(struct pool *a, const char *name, int64_t api_id, const char *api_hash,
                 const char *bot_token, int64_t now, struct store_session *session,
                 struct tg_error *te)
{
    dm_err e = name_free(a, name, te);
    if (!e) e = check_api(api_id, api_hash, te);
    if (e) return e;
    const char *colon = bot_token ? strchr(bot_token, ':') : NULL;
    if (!colon || colon == bot_token || !colon[1] || strlen(bot_token) > 128)
        return tg_error_local(te, DM_EINVAL,
                              "The bot token looks like 123456:ABC-DEF… (from @BotFather).");
    char rnd[33], key[POOL_KEY_MAX];
    secret_random_hex(rnd, 16);
    pool_key(key, "new", rnd);
    json_t *m = json_pack("{s:s,s:i,s:i,s:s,s:s}", "_", "auth.importBotAuthorization", "flags", 0,
                          "api_id", (int)api_id, "api_hash", api_hash, "bot_auth_token", bot_token);
    json_t *res = NULL;
    struct pool_conn *h = NULL;
    e = call_new_key(a, key, (int32_t)api_id, m, &res, &h, te);
    json_decref(m);
    if (e) return e;
    struct mt_auth auth;
    e = client_key(h, &auth, te);
    pool_release(a, h);
    if (!e) {
        struct new_session n = {.name = name,
                                .key = key,
                                .api_id = (int32_t)api_id,
                                .api_hash = api_hash,
                                .phone = "",
                                .auth = &auth,
                                .user = json_object_get(res, "user")};
        e = session_create(a, &n, now, session, te);
    }
    if (e) pool_drop(a, key);
    secret_wipe(&auth, sizeof auth);
    json_decref(res);
    return e;
}

/* ---- import ---- */

/* DM_EEXISTS when another session already holds this auth key: two connections with one key
 * make Telegram kill it (AUTH_KEY_DUPLICATED), so the same session is imported once. */
static dm_err key_unused(struct pool *a, const struct mt_auth *auth, struct tg_error *te)
{
    struct store *st = pool_store(a);
    struct store_session *v = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    dm_err e = store_session_list(st, &v, &n, &err);
    if (e) return te_from(te, e, &err);
    for (size_t i = 0; i < n && !e; i++) {
        char path[1200];
        struct tg_session s;
        memset(&s, 0, sizeof s);
        if (!pool_path(a, v[i].name, path, sizeof path, NULL) &&
            !tg_session_read_stored(path, pool_master(a), &s, NULL, NULL, NULL, NULL) &&
            s.dc_id == auth->dc_id && memcmp(s.auth_key, auth->key, sizeof s.auth_key) == 0)
            e = tg_error_local(
                te, DM_EEXISTS,
                "This session is already imported as '%s': one session cannot be used "
                "twice (Telegram would end it).",
                v[i].name);
        tg_session_wipe(&s);
    }
    free(v);
    return e;
}

/* The channels an imported file knew, with their access hashes, kept with the new session
 * (pool_peer_put): a channel named by id is found without paging the account's dialogs. */
static void keep_peers(struct pool *a, const char *name, const void *data, size_t len)
{
    struct tg_peer *peers = NULL;
    size_t n = 0;
    if (tg_session_read_peers(data, len, &peers, &n, NULL) == DM_OK)
        for (size_t i = 0; i < n; i++)
            pool_peer_put(a, name, peers[i].channel_id, peers[i].access_hash);
    free(peers);
}

dm_err login_import(struct pool *a, const char *name, int64_t api_id, const char *api_hash,
                    const char *phone, const void *data, size_t len, const char *string,
                    int64_t now, struct store_session *session, struct tg_error *te)
{
    char clean[33] = "";
    dm_err e = name_free(a, name, te);
    if (!e) e = check_api(api_id, api_hash, te);
    if (!e && phone && *phone) e = phone_clean(phone, clean, sizeof clean, te);
    if (e) return e;

    struct tg_session s;
    memset(&s, 0, sizeof s);
    struct dm_error err = {0};
    e = data ? tg_session_read_bytes(data, len, &s, &err)
             : tg_session_parse_string(string ? string : "", &s, &err);
    if (e) {
        tg_session_wipe(&s);
        return te_from(te, e == DM_ETOOBIG ? e : DM_EINVAL, &err);
    }
    struct mt_auth auth = {.dc_id = s.dc_id};
    memcpy(auth.key, s.auth_key, sizeof auth.key);
    bool test_mode = s.test_mode;
    tg_session_wipe(&s);
    if ((e = key_unused(a, &auth, te))) {
        secret_wipe(&auth, sizeof auth);
        return e;
    }

    char rnd[33], key[POOL_KEY_MAX];
    secret_random_hex(rnd, 16);
    pool_key(key, "new", rnd);
    struct mt_config mc;
    struct pool_conn *h = NULL;
    e = pool_mt_config(a, auth.dc_id, (int32_t)api_id, false, &mc, &err);
    if (!e) {
        mc.test_mode = test_mode;
        e = pool_acquire_key(a, key, &mc, &auth, &h, &err);
    }
    if (e) {
        secret_wipe(&auth, sizeof auth);
        return te_from(te, e, &err);
    }
    json_t *m = json_pack("{s:s,s:[{s:s}]}", "_", "users.getUsers", "id", "_", "inputUserSelf");
    json_t *res = NULL;
    e = call(h, m, &res, NULL, te);
    json_decref(m);
    pool_release(a, h);
    if (!e) {
        struct new_session n = {.name = name,
                                .key = key,
                                .api_id = (int32_t)api_id,
                                .api_hash = api_hash,
                                .phone = clean,
                                .auth = &auth,
                                .test_mode = test_mode,
                                .user = json_array_get(res, 0)};
        e = session_create(a, &n, now, session, te);
    }
    if (e) pool_drop(a, key);
    secret_wipe(&auth, sizeof auth);
    json_decref(res);
    if (!e && data) keep_peers(a, name, data, len);
    return e;
}

/* ---- export and removal ---- */

/* The stored file's session with the access hashes the session keeps as its peers rows, in
 * *img (replaced; malloc'd). */
static dm_err with_peers(struct store *st, const char *name, unsigned char **img, size_t *len,
                         struct dm_error *err)
{
    struct store_peer *kept = NULL;
    size_t n = 0;
    dm_err e = store_peer_list(st, name, &kept, &n, err);
    if (e || !n) {
        free(kept);
        return e;
    }
    struct tg_peer *peers = calloc(n, sizeof *peers);
    struct tg_session s;
    memset(&s, 0, sizeof s);
    e = peers ? tg_session_read_bytes(*img, *len, &s, err)
              : dm_fail(err, DM_ENOMEM, "out of memory exporting a session");
    for (size_t i = 0; !e && i < n; i++)
        peers[i] = (struct tg_peer){kept[i].channel_id, kept[i].access_hash};
    unsigned char *out = NULL;
    size_t out_len = 0;
    if (!e) e = tg_session_pyrogram_bytes(&s, peers, n, &out, &out_len, err);
    tg_session_wipe(&s);
    free(peers);
    free(kept);
    if (e) return e;
    secret_wipe(*img, *len);
    free(*img);
    *img = out;
    *len = out_len;
    return DM_OK;
}

dm_err login_export(struct pool *a, const char *name, char **data, size_t *len, struct tg_error *te)
{
    struct store *st = pool_store(a);
    struct store_session row;
    struct dm_error err = {0};
    char path[1200];
    dm_err e = tg_session_name_valid(name) ? store_session_get(st, name, &row, &err) : DM_ENOTFOUND;
    if (e == DM_ENOTFOUND) return tg_error_local(te, e, "There is no session named '%.64s'.", name);
    if (!e) e = pool_path(a, name, path, sizeof path, &err);
    if (e) return te_from(te, e, &err);
    unsigned char *img = NULL;
    e = tg_session_read_stored(path, pool_master(a), NULL, &img, len, NULL, &err);
    if (e == DM_ECRYPTO) /* the message names no path */
        return tg_error_local(te, DM_EIO, "The file of session '%s' cannot be read: %s", name,
                              err.msg);
    if (e)
        return tg_error_local(te, e == DM_ENOMEM ? e : DM_EIO,
                              "The file of session '%s' cannot be read.", name);
    if ((e = with_peers(st, name, &img, len, &err))) {
        secret_wipe(img, *len);
        free(img);
        return te_from(te, e, &err);
    }
    *data = (char *)img;
    return DM_OK;
}

dm_err login_remove(struct pool *a, const char *name, bool logout, struct tg_error *te)
{
    struct store *st = pool_store(a);
    struct store_session row;
    struct dm_error err = {0};
    dm_err e = tg_session_name_valid(name) ? store_session_get(st, name, &row, &err) : DM_ENOTFOUND;
    if (e == DM_ENOTFOUND) return tg_error_local(te, e, "There is no session named '%.64s'.", name);
    if (e) return te_from(te, e, &err);
    if (logout) {
        json_t *m = json_pack("{s:s}", "_", "auth.logOut");
        struct tg_error out = {0};
        e = m ? pool_call(a, name, m, POOL_CALL_TIMEOUT_MS, NULL, &out)
              : tg_error_local(&out, DM_ENOMEM, "out of memory");
        json_decref(m);
        if (out.kind == TG_DEAD || e == DM_EIO)
            e = DM_OK; /* Telegram forgot the key already, or the file is gone: nothing to end */
        if (e) {
            if (te) *te = out;
            tg_error_say(te, "Could not log out on Telegram (%.180s); nothing was deleted.",
                         out.e.msg);
            return e;
        }
    }
    pool_drop(a, name);
    char path[1200];
    e = store_session_delete(st, name, &err);
    if (e) return te_from(te, e, &err);
    if (!pool_path(a, name, path, sizeof path, &err) && unlink(path) != 0 && errno != ENOENT)
        log_warn("login", "session %s: could not remove its file: %s", name, strerror(errno));
    log_info("login", "session %s deleted%s", name, logout ? " (logged out first)" : "");
    return DM_OK;
}
