/* dc_rpc.c: the methods tgsim's data centres answer (see dc.h), on the shared world. */
#include "core/common.h"
#include "sim/dc.h"

#include "mtproto/crypto.h"
#include "sim/invites.h"
#include "sim/updates.h"
#include "mtproto/tl_codec.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>

#define CODE_TTL 300    /* seconds a login code stays valid */
#define RESEND_AFTER 60 /* the timeout auth.sentCode gives before the code may go by SMS */
#define CHANNEL_ID_BASE 1000000000000LL
#define IMPORTERS_MAX 100

json_t *dc_rpc_error(int code, const char *fmt, ...)
{
    char msg[128];
    va_list ap;
    va_start(ap, fmt);
    dm_vsnprintf_utf8(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_pack("{s:s,s:i,s:s}", "_", "rpc_error", "error_code", code, "error_message", msg);
}

static int64_t mt_channel_id(const struct sim_channel *ch)
{
    return -ch->id - CHANNEL_ID_BASE;
}

static json_t *user_json(struct world *w, const struct sim_user *u, int64_t self)
{
    json_t *o = json_pack("{s:s,s:I,s:I,s:s}", "_", "user", "id", (json_int_t)u->id, "access_hash",
                          (json_int_t)world_access_hash(w, self, WORLD_HASH_USER, u->id),
                          "first_name", u->first_name);
    if (u->last_name) json_object_set_new(o, "last_name", json_string(u->last_name));
    if (u->username) json_object_set_new(o, "username", json_string(u->username));
    if (u->is_premium) json_object_set_new(o, "premium", json_true());
    if (u->is_scam) json_object_set_new(o, "scam", json_true());
    if (u->is_fake) json_object_set_new(o, "fake", json_true());
    /* the has-photo trait: one photo, whose id is the user's */
    json_object_set_new(o, "photo",
                        u->has_photo ? json_pack("{s:s,s:I,s:i}", "_", "userProfilePhoto",
                                                 "photo_id", (json_int_t)u->id, "dc_id", 1)
                                     : json_pack("{s:s}", "_", "userProfilePhotoEmpty"));
    if (u->id == self) {
        json_object_set_new(o, "self", json_true());
        const struct sim_account *a = world_account(w, u->id);
        if (a) json_object_set_new(o, "phone", json_string(a->phone));
    }
    if (u->is_bot) {
        json_object_set_new(o, "bot", json_true());
        json_object_set_new(o, "bot_info_version", json_integer(1));
    }
    return o;
}

static json_t *admin_rights(const struct sim_admin *a)
{
    json_t *r = json_pack("{s:s}", "_", "chatAdminRights");
    if (a->can_invite_users) json_object_set_new(r, "invite_users", json_true());
    if (a->can_restrict_members) json_object_set_new(r, "ban_users", json_true());
    return r;
}

static json_t *channel_json(const struct world *w, const struct sim_channel *ch, int64_t self)
{
    json_t *o = json_pack("{s:s,s:b,s:I,s:I,s:s,s:{s:s},s:i}", "_", "channel", "broadcast", 1, "id",
                          (json_int_t)mt_channel_id(ch), "access_hash",
                          (json_int_t)world_access_hash(w, self, WORLD_HASH_CHANNEL, ch->id),
                          "title", ch->title, "photo", "_", "chatPhotoEmpty", "date", 0);
    if (ch->username) json_object_set_new(o, "username", json_string(ch->username));
    const struct sim_admin *a = world_channel_admin(ch, self);
    if (a) json_object_set_new(o, "admin_rights", admin_rights(a));
    if (!a && !world_is_member(ch, self)) json_object_set_new(o, "left", json_true());
    json_object_set_new(o, "participants_count", json_integer((json_int_t)world_member_count(ch)));
    return o;
}

/* ---- inputs ---- */

static const char *ctor(const json_t *o)
{
    const char *s = json_string_value(json_object_get(o, "_"));
    return s ? s : "";
}

static int64_t jlong(const json_t *o, const char *k)
{
    int64_t v = 0;
    return tl_get_long(o, k, &v, NULL) ? 0 : v;
}

/* An InputChannel or InputPeer naming a channel with the access hash this account was given;
 * NULL after setting *err (CHANNEL_INVALID, or PEER_ID_INVALID for an InputPeer, as the methods'
 * pages list them). A wrong or zero hash, another account's too, names no channel, except that a
 * bot may give 0 to channels.getChannels for a channel it is in (`zero_ok`), as Telegram allows. */
static struct sim_channel *input_channel_as(struct dc_call *c, const json_t *in, bool zero_ok,
                                            json_t **err)
{
    const char *n = ctor(in);
    struct sim_channel *ch = NULL;
    bool peer = !strcmp(n, "inputPeerChannel");
    if (peer || !strcmp(n, "inputChannel")) {
        int64_t id = jlong(in, "channel_id");
        ch = world_channel(c->w, -id - CHANNEL_ID_BASE);
        int64_t h = jlong(in, "access_hash");
        const struct sim_user *self = world_user(c->w, c->key->user_id);
        bool bot_in = zero_ok && ch && h == 0 && self && self->is_bot &&
                      (world_channel_admin(ch, self->id) || world_is_member(ch, self->id));
        if (ch && h != world_access_hash(c->w, c->key->user_id, WORLD_HASH_CHANNEL, ch->id) &&
            !bot_in)
            ch = NULL;
    }
    if (!ch) *err = dc_rpc_error(400, peer ? "PEER_ID_INVALID" : "CHANNEL_INVALID");
    return ch;
}

static struct sim_channel *input_channel(struct dc_call *c, const json_t *in, json_t **err)
{
    return input_channel_as(c, in, false, err);
}

/* An InputUser or InputPeer naming a user with the access hash this account was given; 0 after
 * setting *err (USER_ID_INVALID: another account's hash too). */
static int64_t input_user(struct dc_call *c, const json_t *in, json_t **err)
{
    const char *n = ctor(in);
    if (!strcmp(n, "inputUserSelf") || !strcmp(n, "inputPeerSelf")) return c->key->user_id;
    if (!strcmp(n, "inputUser") || !strcmp(n, "inputPeerUser")) {
        int64_t id = jlong(in, "user_id");
        if (world_user(c->w, id) &&
            jlong(in, "access_hash") ==
                world_access_hash(c->w, c->key->user_id, WORLD_HASH_USER, id))
            return id;
    }
    *err = dc_rpc_error(400, "USER_ID_INVALID");
    return 0;
}

/* ---- authorization and flood control ---- */

static json_t *flood_check(struct dc_call *c, struct sim_account *a)
{
    if (!a) return NULL;
    if (a->flood_inject_count) {
        a->flood_inject_count--;
        return dc_rpc_error(420, "FLOOD_WAIT_%d", a->flood_inject_seconds);
    }
    if (!a->flood_limit) return NULL;
    double now = world_mono(), window = a->flood_window ? a->flood_window : 60;
    if (now - a->flood_window_start >= window) {
        a->flood_window_start = now;
        a->flood_calls = 0;
    }
    if (++a->flood_calls <= a->flood_limit) return NULL;
    int wait = (int)(a->flood_window_start + window - now) + 1;
    (void)c;
    return dc_rpc_error(420, "FLOOD_WAIT_%d", wait < 1 ? 1 : wait);
}

/* NULL when the key is logged in (and not flooded), else the error to answer. */
static json_t *need_auth(struct dc_call *c)
{
    struct dc_key *k = c->key;
    if (k->duplicated) return dc_rpc_error(406, "AUTH_KEY_DUPLICATED");
    if (!k->user_id) return dc_rpc_error(401, "AUTH_KEY_UNREGISTERED");
    struct sim_account *a = world_account(c->w, k->user_id);
    if (a && k->epoch != a->auth_epoch) {
        k->user_id = 0;
        return dc_rpc_error(401, "%s",
                            a->revoke_error[0] ? a->revoke_error : "AUTH_KEY_UNREGISTERED");
    }
    return flood_check(c, a);
}

static json_t *authorization(struct dc_call *c, int64_t user_id)
{
    struct dc_key *k = c->key;
    struct sim_account *a = world_account(c->w, user_id);
    k->user_id = user_id;
    k->epoch = a ? a->auth_epoch : 0;
    k->pending_user = 0;
    k->srp_id = 0;
    return json_pack("{s:s,s:o}", "_", "auth.authorization", "user",
                     user_json(c->w, world_user(c->w, user_id), user_id));
}

/* Whether a number could be a phone number: 7..15 digits (E.164) not starting with 0 (no country
 * code does). Others are PHONE_NUMBER_INVALID. */
static bool phone_plausible(const char *phone)
{
    char norm[SIM_PHONE_MAX + 1];
    if (!phone || !world_phone_normalize(phone, norm)) return false;
    size_t n = strlen(norm);
    return n >= 7 && n <= 15 && norm[0] != '0';
}

/* Whom a login call is for: an account, or a number without one (a sign-up). */
struct login_target {
    struct sim_account *a;
    struct sim_signup *signup;
    struct sim_login_code *code; /* a's or signup's */
};

/* Fills *t (t->signup: with make_signup one is made) and answers NULL, else the error: an
 * implausible number without an account (PHONE_NUMBER_INVALID with invalid_code: the methods' pages
 * give 400 for sendCode and signIn, 406 for resendCode), a banned one, another DC, a flood wait, or
 * a number without an account that was sent no code. */
static json_t *login_target(struct dc_call *c, bool make_signup, int invalid_code,
                            struct login_target *t)
{
    const char *phone = json_string_value(json_object_get(c->q, "phone_number"));
    memset(t, 0, sizeof *t);
    t->a = phone ? world_account_by_phone(c->w, phone) : NULL;
    if (!t->a && !phone_plausible(phone)) /* an account's number is a number, whatever it is */
        return dc_rpc_error(invalid_code, "PHONE_NUMBER_INVALID");
    if (!t->a) {
        t->signup = world_signup(c->w, phone, make_signup);
        if (!t->signup) return dc_rpc_error(400, "PHONE_CODE_EXPIRED"); /* no code was sent */
        t->code = &t->signup->login;
        return NULL;
    }
    if (t->a->banned) return dc_rpc_error(400, "PHONE_NUMBER_BANNED");
    if (t->a->dc != c->dc) return dc_rpc_error(303, "PHONE_MIGRATE_%d", t->a->dc);
    t->code = &t->a->login;
    return flood_check(c, t->a);
}

/* A new code in *code (5 digits and its phone_code_hash). */
static void new_code(struct sim_login_code *code, bool sms)
{
    uint8_t r[16];
    dc_random(r, sizeof r);
    memset(code, 0, sizeof *code);
    snprintf(code->code, sizeof code->code, "%05u", (unsigned)(tl_read_u32(r) % 100000));
    for (int i = 0; i < 16; i++)
        snprintf(code->hash + 2 * i, 3, "%02x", r[i]);
    code->sent_at = world_now();
    code->sms = sms;
}

/* auth.sentCode for a code just sent: in the app (SMS next, after `timeout` seconds, which
 * tgsim does not enforce), or by SMS (nothing next). */
static json_t *sent_code(const struct sim_login_code *code)
{
    json_t *o = json_pack("{s:s,s:{s:s,s:i},s:s}", "_", "auth.sentCode", "type", "_",
                          code->sms ? "auth.sentCodeTypeSms" : "auth.sentCodeTypeApp", "length", 5,
                          "phone_code_hash", code->hash);
    if (!code->sms) {
        json_object_set_new(o, "next_type", json_pack("{s:s}", "_", "auth.codeTypeSms"));
        json_object_set_new(o, "timeout", json_integer(RESEND_AFTER));
    }
    return o;
}

static json_t *m_send_code(struct dc_call *c)
{
    struct login_target t;
    json_t *err = login_target(c, true, 400, &t);
    if (err) return err;
    if (t.a && t.a->email_required) {
        /* Telegram wants a login email set up first: no code is sent (core.telegram.org/api/auth,
           email verification) */
        new_code(t.code, false);
        t.code->code[0] = 0;
        return json_pack("{s:s,s:{s:s},s:s}", "_", "auth.sentCode", "type", "_",
                         "auth.sentCodeTypeSetUpEmailRequired", "phone_code_hash", t.code->hash);
    }
    new_code(t.code, t.signup != NULL); /* a number without an account gets an SMS */
    if (t.a) {
        /* as Telegram: the code arrives in the app, a message from the service account */
        char text[400];
        snprintf(text, sizeof text,
                 "Login code: %s. Do not give this code to anyone, even if they say they are from "
                 "Telegram!\n\nThis code can be used to log in to your Telegram account. We never "
                 "ask it for anything else.\n\nIf you didn't request this code by trying to log "
                 "in on another device, simply ignore this message.",
                 t.code->code);
        if (sim_upd_service_message(c->w, t.a, text, false) != DM_OK)
            return dc_rpc_error(500, "INTERNAL_SERVER_ERROR");
    }
    return sent_code(t.code);
}

/* The code of a sign-in or resend, checked against phone_code_hash: NULL when it is the one sent
 * and still valid, else the error. */
static json_t *code_check(const struct sim_login_code *code, const char *hash)
{
    if (!code->code[0] || strcmp(hash, code->hash))
        return dc_rpc_error(400, "PHONE_CODE_HASH_INVALID");
    if (code->used || world_now() - code->sent_at > CODE_TTL)
        return dc_rpc_error(400, "PHONE_CODE_EXPIRED");
    return NULL;
}

static json_t *m_resend_code(struct dc_call *c)
{
    const char *hash = json_string_value(json_object_get(c->q, "phone_code_hash"));
    if (!hash || !*hash) return dc_rpc_error(400, "PHONE_CODE_HASH_EMPTY");
    struct login_target t;
    json_t *err = login_target(c, false, 406, &t);
    if (!err) err = code_check(t.code, hash);
    if (err) return err;
    if (t.code->sms) return dc_rpc_error(406, "SEND_CODE_UNAVAILABLE");
    t.code->sms = true; /* the same code, now by SMS */
    return sent_code(t.code);
}

static json_t *m_sign_in(struct dc_call *c)
{
    struct login_target t;
    json_t *err = login_target(c, false, 400, &t);
    if (err) return err;
    const char *hash = json_string_value(json_object_get(c->q, "phone_code_hash"));
    const char *code = json_string_value(json_object_get(c->q, "phone_code"));
    if (!code || !*code) return dc_rpc_error(400, "PHONE_CODE_EMPTY");
    if ((err = code_check(t.code, hash ? hash : ""))) return err;
    if (strcmp(code, t.code->code)) return dc_rpc_error(400, "PHONE_CODE_INVALID");
    t.code->used = true;
    if (t.signup) /* the number is verified and has no account: the client should sign up */
        return json_pack("{s:s}", "_", "auth.authorizationSignUpRequired");
    if (t.a->password) {
        c->key->pending_user = t.a->user_id;
        return dc_rpc_error(401, "SESSION_PASSWORD_NEEDED");
    }
    return authorization(c, t.a->user_id);
}

/* ---- SRP, server side (core.telegram.org/api/srp) ---- */

static void sha256(uint8_t out[32], const void *a, size_t an, const void *b, size_t bn)
{
    crypto_sha256(out, (struct crypto_part[]){{a, an}, {b, bn}}, b ? 2 : 1);
}

static bool bn_out(const BIGNUM *v, uint8_t out[256])
{
    return BN_bn2binpad(v, out, 256) == 256;
}

/* v = g^x mod p for the account's password. */
static bool srp_verifier(const struct sim_account *a, BIGNUM *v, BN_CTX *ctx)
{
    uint8_t x[32];
    crypto_srp_password_hash(a->password, a->srp_salt1, sizeof a->srp_salt1, a->srp_salt2,
                             sizeof a->srp_salt2, x);
    BIGNUM *bx = BN_bin2bn(x, 32, NULL), *p = BN_bin2bn(crypto_dh_prime, 256, NULL), *g = BN_new();
    bool ok = bx && p && g && BN_set_word(g, DC_G) && BN_mod_exp(v, g, bx, p, ctx);
    OPENSSL_cleanse(x, sizeof x);
    BN_clear_free(bx);
    BN_free(p);
    BN_free(g);
    return ok;
}

static json_t *kdf_algo(const struct sim_account *a)
{
    return json_pack("{s:s,s:o,s:o,s:i,s:o}", "_",
                     "passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow", "salt1",
                     tl_hex(a->srp_salt1, sizeof a->srp_salt1), "salt2",
                     tl_hex(a->srp_salt2, sizeof a->srp_salt2), "g", DC_G, "p",
                     tl_hex(crypto_dh_prime, 256));
}

static json_t *m_get_password(struct dc_call *c)
{
    struct dc_key *k = c->key;
    int64_t who = k->user_id ? k->user_id : k->pending_user;
    if (!who) return dc_rpc_error(401, "AUTH_KEY_UNREGISTERED");
    struct sim_account *a = world_account(c->w, who);
    uint8_t secure_random[32];
    dc_random(secure_random, sizeof secure_random);
    json_t *o = json_pack("{s:s,s:o,s:{s:s,s:o},s:o}", "_", "account.password", "new_algo",
                          a ? kdf_algo(a) : json_pack("{s:s}", "_", "passwordKdfAlgoUnknown"),
                          "new_secure_algo", "_", "securePasswordKdfAlgoSHA512", "salt",
                          tl_hex(secure_random, 8), "secure_random",
                          tl_hex(secure_random, sizeof secure_random));
    if (!a || !a->password) return o;
    /* B = k v + g^b mod p, k = H(p | g) */
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *v = BN_new(), *p = BN_bin2bn(crypto_dh_prime, 256, NULL), *g = BN_new(), *b = BN_new(),
           *gb = BN_new(), *kk = NULL, *B = BN_new();
    uint8_t g256[256] = {0}, kh[32];
    g256[255] = DC_G;
    sha256(kh, crypto_dh_prime, 256, g256, 256);
    dc_random(k->srp_b, 256);
    bool ok = ctx && v && p && g && b && gb && B && srp_verifier(a, v, ctx) &&
              BN_set_word(g, DC_G) && BN_bin2bn(k->srp_b, 256, b) && BN_mod_exp(gb, g, b, p, ctx) &&
              (kk = BN_bin2bn(kh, 32, NULL)) && BN_mod_mul(B, kk, v, p, ctx) &&
              BN_mod_add(B, B, gb, p, ctx) && bn_out(B, k->srp_B);
    BN_CTX_free(ctx);
    BN_clear_free(v);
    BN_free(p);
    BN_free(g);
    BN_clear_free(b);
    BN_clear_free(gb);
    BN_free(kk);
    BN_free(B);
    if (!ok) {
        json_decref(o);
        return dc_rpc_error(500, "INTERNAL_SERVER_ERROR");
    }
    do
        dc_random(&k->srp_id, sizeof k->srp_id);
    while (!k->srp_id);
    json_object_set_new(o, "has_password", json_true());
    json_object_set_new(o, "current_algo", kdf_algo(a));
    json_object_set_new(o, "srp_B", tl_hex(k->srp_B, 256));
    json_object_set_new(o, "srp_id", json_integer(k->srp_id));
    return o;
}

static json_t *m_check_password(struct dc_call *c)
{
    struct dc_key *k = c->key;
    int64_t who = k->pending_user ? k->pending_user : k->user_id;
    struct sim_account *a = who ? world_account(c->w, who) : NULL;
    if (!a || !a->password) return dc_rpc_error(400, "PASSWORD_HASH_INVALID");
    const json_t *in = json_object_get(c->q, "password");
    uint8_t A[256] = {0}, M1[32], want[32];
    size_t al = 0, ml = 0;
    if (!tl_is(in, "inputCheckPasswordSRP") || !k->srp_id || jlong(in, "srp_id") != k->srp_id)
        return dc_rpc_error(400, "SRP_ID_INVALID");
    if (tl_get_bytes(in, "A", A, 256, &al, NULL) || al == 0 ||
        tl_get_bytes(in, "M1", M1, 32, &ml, NULL) || ml != 32)
        return dc_rpc_error(400, "SRP_PASSWORD_CHANGED");
    memmove(A + 256 - al, A, al);
    memset(A, 0, 256 - al);
    k->srp_id = 0; /* one try per getPassword, as Telegram */
    /* u = H(A | B); S = (A v^u)^b mod p; K = H(S); M1 = H(H(p) ^ H(g) | H(s1) | H(s2) | A | B | K)
     */
    uint8_t uh[32], S[256], K[32], hp[32], hg[32], hs1[32], hs2[32], g256[256] = {0};
    g256[255] = DC_G;
    sha256(uh, A, 256, k->srp_B, 256);
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *v = BN_new(), *p = BN_bin2bn(crypto_dh_prime, 256, NULL), *bA = BN_bin2bn(A, 256, NULL),
           *u = BN_bin2bn(uh, 32, NULL), *b = BN_bin2bn(k->srp_b, 256, NULL), *t = BN_new(),
           *s = BN_new();
    bool ok = ctx && v && p && bA && u && b && t && s && !BN_is_zero(bA) && BN_cmp(bA, p) < 0 &&
              srp_verifier(a, v, ctx) && BN_mod_exp(t, v, u, p, ctx) &&
              BN_mod_mul(t, bA, t, p, ctx) && BN_mod_exp(s, t, b, p, ctx) && bn_out(s, S);
    BN_CTX_free(ctx);
    BN_clear_free(v);
    BN_free(p);
    BN_free(bA);
    BN_free(u);
    BN_clear_free(b);
    BN_clear_free(t);
    BN_clear_free(s);
    if (!ok) return dc_rpc_error(400, "PASSWORD_HASH_INVALID");
    sha256(K, S, 256, NULL, 0);
    sha256(hp, crypto_dh_prime, 256, NULL, 0);
    sha256(hg, g256, 256, NULL, 0);
    for (int i = 0; i < 32; i++)
        hp[i] ^= hg[i];
    sha256(hs1, a->srp_salt1, sizeof a->srp_salt1, NULL, 0);
    sha256(hs2, a->srp_salt2, sizeof a->srp_salt2, NULL, 0);
    crypto_sha256(
        want,
        (struct crypto_part[]){{hp, 32}, {hs1, 32}, {hs2, 32}, {A, 256}, {k->srp_B, 256}, {K, 32}},
        6);
    OPENSSL_cleanse(S, sizeof S);
    OPENSSL_cleanse(K, sizeof K);
    if (CRYPTO_memcmp(want, M1, 32)) return dc_rpc_error(400, "PASSWORD_HASH_INVALID");
    return authorization(c, a->user_id);
}

static json_t *m_import_bot(struct dc_call *c)
{
    const char *token = json_string_value(json_object_get(c->q, "bot_auth_token"));
    struct sim_bot *b = token ? world_bot_by_token(c->w, token) : NULL;
    if (!b) return dc_rpc_error(400, "ACCESS_TOKEN_INVALID");
    b->mtproto = true; /* from now on it has an update state (sim/updates.h) */
    return authorization(c, b->id);
}

/* ---- methods for logged-in keys ---- */

static json_t *m_log_out(struct dc_call *c)
{
    c->key->user_id = 0;
    return json_pack("{s:s}", "_", "auth.loggedOut");
}

static json_t *m_get_users(struct dc_call *c)
{
    json_t *out = json_array(), *in = json_object_get(c->q, "id"), *v;
    size_t i;
    json_array_foreach(in, i, v)
    {
        json_t *err = NULL;
        int64_t id = input_user(c, v, &err);
        if (id) json_array_append_new(out, user_json(c->w, world_user(c->w, id), c->key->user_id));
        json_decref(err);
    }
    return out;
}

static const struct sim_user *user_by_username(struct world *w, const char *name)
{
    for (size_t i = 0; i < w->nusers; i++)
        if (w->users[i].username && !strcasecmp(w->users[i].username, name)) return &w->users[i];
    return NULL;
}

static json_t *m_resolve_username(struct dc_call *c)
{
    const char *name = json_string_value(json_object_get(c->q, "username"));
    if (name && *name == '@') name++;
    struct sim_channel *ch = name ? world_channel_by_username(c->w, name) : NULL;
    int64_t self = c->key->user_id;
    if (ch)
        return json_pack("{s:s,s:{s:s,s:I},s:[o],s:[]}", "_", "contacts.resolvedPeer", "peer", "_",
                         "peerChannel", "channel_id", (json_int_t)mt_channel_id(ch), "chats",
                         channel_json(c->w, ch, self), "users");
    const struct sim_user *u = name ? user_by_username(c->w, name) : NULL;
    if (u)
        return json_pack("{s:s,s:{s:s,s:I},s:[],s:[o]}", "_", "contacts.resolvedPeer", "peer", "_",
                         "peerUser", "user_id", (json_int_t)u->id, "chats", "users",
                         user_json(c->w, u, self));
    return dc_rpc_error(400, "USERNAME_NOT_OCCUPIED");
}

static json_t *m_get_channels(struct dc_call *c)
{
    json_t *chats = json_array(), *in = json_object_get(c->q, "id"), *v, *err = NULL;
    size_t i;
    json_array_foreach(in, i, v)
    {
        struct sim_channel *ch = input_channel_as(c, v, true, &err);
        if (!ch) {
            json_decref(chats);
            return err;
        }
        json_array_append_new(chats, channel_json(c->w, ch, c->key->user_id));
    }
    return json_pack("{s:s,s:o}", "_", "messages.chats", "chats", chats);
}

static size_t pending_count(struct dc_call *c, const struct sim_channel *ch);

#define DIALOGS_MAX 100 /* dialogs in one answer, as Telegram's limit */

/* messages.getDialogs: the channels the account is in (an admin or a member), newest first
 * (channels carry no messages here, so by when they were made), from after offset_peer, at most
 * `limit`; messages.dialogs when that is all of them, else messages.dialogsSlice with the count.
 * Bots may not list dialogs (BOT_METHOD_INVALID). Every channel comes with its access hash. */
static json_t *m_get_dialogs(struct dc_call *c)
{
    int64_t self = c->key->user_id;
    const struct sim_user *me = world_user(c->w, self);
    if (me && me->is_bot) return dc_rpc_error(400, "BOT_METHOD_INVALID");
    int64_t limit = jlong(c->q, "limit");
    if (limit <= 0 || limit > DIALOGS_MAX) limit = DIALOGS_MAX;
    const json_t *off = json_object_get(c->q, "offset_peer");
    int64_t after = !strcmp(ctor(off), "inputPeerChannel") ? jlong(off, "channel_id") : 0;
    json_t *dialogs = json_array(), *chats = json_array();
    size_t count = 0;
    bool started = after == 0;
    for (size_t i = c->w->nchannels; i-- > 0;) {
        const struct sim_channel *ch = c->w->channels[i];
        if (!world_channel_admin(ch, self) && !world_is_member(ch, self)) continue;
        count++;
        if (!started) {
            started = mt_channel_id(ch) == after;
            continue;
        }
        if ((int64_t)json_array_size(dialogs) == limit) continue;
        json_array_append_new(
            dialogs,
            json_pack("{s:s,s:{s:s,s:I},s:i,s:i,s:i,s:i,s:i,s:i,s:{s:s}}", "_", "dialog", "peer",
                      "_", "peerChannel", "channel_id", (json_int_t)mt_channel_id(ch),
                      "top_message", 0, "read_inbox_max_id", 0, "read_outbox_max_id", 0,
                      "unread_count", 0, "unread_mentions_count", 0, "unread_reactions_count", 0,
                      "notify_settings", "_", "peerNotifySettings"));
        json_array_append_new(chats, channel_json(c->w, ch, self));
    }
    bool all = after == 0 && json_array_size(dialogs) == count;
    json_t *res = json_pack("{s:s,s:o,s:[],s:o,s:[]}", "_",
                            all ? "messages.dialogs" : "messages.dialogsSlice", "dialogs", dialogs,
                            "messages", "chats", chats, "users");
    if (!all) json_object_set_new(res, "count", json_integer((json_int_t)count));
    return res;
}

static json_t *m_get_full_channel(struct dc_call *c)
{
    json_t *err = NULL;
    struct sim_channel *ch = input_channel(c, json_object_get(c->q, "channel"), &err);
    if (!ch) return err;
    int64_t self = c->key->user_id;
    json_t *full = json_pack("{s:s,s:I,s:s,s:i,s:i,s:{s:s,s:i},s:{s:s},s:[],s:i}", "_",
                             "channelFull", "id", (json_int_t)mt_channel_id(ch), "about", "",
                             "participants_count", (int)world_member_count(ch), "admins_count",
                             (int)ch->nadmins, "chat_photo", "_", "photoEmpty", "id", 0,
                             "notify_settings", "_", "peerNotifySettings", "bot_info", "pts", 1);
    const struct sim_admin *adm = world_channel_admin(ch, self);
    if (adm) {
        json_object_set_new(full, "can_view_participants", json_true());
        json_object_set_new(full, "requests_pending",
                            json_integer((json_int_t)pending_count(c, ch)));
        json_object_set_new(full, "recent_requesters", json_array());
    }
    return json_pack("{s:s,s:o,s:[o],s:[]}", "_", "messages.chatFull", "full_chat", full, "chats",
                     channel_json(c->w, ch, self), "users");
}

/* channelParticipantBanned for a user banned in ch (view_messages: banned from the channel). */
static json_t *banned_participant(struct world *w, const struct sim_channel *ch, int64_t uid)
{
    const struct sim_ban *b = world_ban_record(w, ch, uid);
    return json_pack("{s:s,s:b,s:{s:s,s:I},s:I,s:I,s:{s:s,s:b,s:I}}", "_",
                     "channelParticipantBanned", "left", 1, "peer", "_", "peerUser", "user_id",
                     (json_int_t)uid, "kicked_by", (json_int_t)b->banned_by, "date",
                     (json_int_t)b->banned_at, "banned_rights", "_", "chatBannedRights",
                     "view_messages", 1, "until_date", (json_int_t)b->until_date);
}

static json_t *m_get_participant(struct dc_call *c)
{
    json_t *err = NULL;
    struct sim_channel *ch = input_channel(c, json_object_get(c->q, "channel"), &err);
    if (!ch) return err;
    int64_t uid = input_user(c, json_object_get(c->q, "participant"), &err);
    if (!uid) return err;
    int64_t self = c->key->user_id;
    const struct sim_admin *adm = world_channel_admin(ch, uid);
    json_t *part;
    if (adm) {
        part = json_pack("{s:s,s:I,s:I,s:i,s:o}", "_", "channelParticipantAdmin", "user_id",
                         (json_int_t)uid, "promoted_by", (json_int_t)ch->admins[0].id, "date", 0,
                         "admin_rights", admin_rights(adm));
        if (uid == self) {
            json_object_set_new(part, "self", json_true());
            json_object_set_new(part, "inviter_id", json_integer(ch->admins[0].id));
            json_object_set_new(part, "can_edit", json_false());
        }
    } else if (world_is_member(ch, uid)) {
        part = json_pack("{s:s,s:I,s:i}", "_", "channelParticipant", "user_id", (json_int_t)uid,
                         "date", 0);
    } else if (world_is_banned(c->w, ch, uid)) {
        part = banned_participant(c->w, ch, uid);
    } else {
        return dc_rpc_error(400, "USER_NOT_PARTICIPANT");
    }
    return json_pack("{s:s,s:o,s:[o],s:[o]}", "_", "channels.channelParticipant", "participant",
                     part, "chats", channel_json(c->w, ch, self), "users",
                     user_json(c->w, world_user(c->w, uid), self));
}

/* The channel of a join-request method, checked for the caller's can_invite_users right. */
static struct sim_channel *jr_channel(struct dc_call *c, json_t **err)
{
    struct sim_channel *ch = input_channel(c, json_object_get(c->q, "peer"), err);
    if (!ch) return NULL;
    const struct sim_admin *a = world_channel_admin(ch, c->key->user_id);
    if (!a || !a->can_invite_users) {
        *err = dc_rpc_error(400, "CHAT_ADMIN_REQUIRED");
        return NULL;
    }
    return ch;
}

static bool link_matches(const struct sim_join_request *jr, const char *link)
{
    return !link || (jr->invite_link && !strcmp(jr->invite_link, link));
}

struct pos {
    int64_t date, user;
    size_t index; /* in w->jrs */
};

/* Newest first; equal dates by user id, highest first (the order Telegram pages in). */
static int pos_cmp(const void *a, const void *b)
{
    const struct pos *x = a, *y = b;
    if (x->date != y->date) return x->date < y->date ? 1 : -1;
    return x->user < y->user ? 1 : x->user > y->user ? -1 : 0;
}

/* The pending join requests of each channel in paging order, so that a page costs a binary search
 * and the page, not a scan of every request in the world: w->jrs[0..seen) have been looked at;
 * a list holds the channel's requests that were pending when last looked at (decided ones are
 * dropped as they are met; jrs only grows, and a decided request never becomes pending again). */
struct jr_list {
    struct pos *v;
    size_t n, sorted, cap; /* v[0..sorted) in pos_cmp order, v[sorted..n) new */
};

struct dc_jr_index {
    size_t seen;
    struct idmap chan; /* channel id -> index in lists */
    struct jr_list *lists;
    size_t nlists;
};

void dc_jr_index_free(struct dc_jr_index *x)
{
    if (!x) return;
    for (size_t i = 0; i < x->nlists; i++)
        free(x->lists[i].v);
    free(x->lists);
    idmap_release(&x->chan);
    free(x);
}

static struct jr_list *jr_list_of(struct dc_jr_index *x, int64_t chat_id, bool make)
{
    uint32_t i;
    if (idmap_get(&x->chan, chat_id, &i)) return &x->lists[i];
    if (!make || x->nlists >= SIM_MAX_CHANNELS) return NULL;
    struct jr_list *g = realloc(x->lists, (x->nlists + 1) * sizeof *g);
    if (!g) return NULL;
    x->lists = g;
    if (idmap_put(&x->chan, chat_id, (uint32_t)x->nlists) != DM_OK) return NULL;
    g[x->nlists] = (struct jr_list){0};
    return &g[x->nlists++];
}

/* Sorts the new tail of l and merges it into the sorted head. */
static bool jr_list_merge(struct jr_list *l)
{
    if (l->sorted == l->n) return true;
    qsort(l->v + l->sorted, l->n - l->sorted, sizeof *l->v, pos_cmp);
    struct pos *m = malloc(l->n * sizeof *m);
    if (!m) return false;
    size_t a = 0, b = l->sorted, o = 0;
    while (a < l->sorted || b < l->n)
        m[o++] = b == l->n || (a < l->sorted && pos_cmp(&l->v[a], &l->v[b]) <= 0) ? l->v[a++]
                                                                                  : l->v[b++];
    free(l->v);
    l->v = m;
    l->cap = l->sorted = l->n;
    return true;
}

/* Brings the index up to date with requests made since the last call (all channels at once). */
static bool jr_index_update(struct world *w, struct dc_jr_index *x)
{
    for (; x->seen < w->njrs; x->seen++) {
        const struct sim_join_request *jr = &w->jrs[x->seen];
        if (jr->status != JR_PENDING) continue;
        struct jr_list *l = jr_list_of(x, jr->chat_id, true);
        if (!l) return false;
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 64;
            struct pos *g = realloc(l->v, cap * sizeof *g);
            if (!g) return false;
            l->v = g;
            l->cap = cap;
        }
        l->v[l->n++] = (struct pos){jr->date, jr->user_id, x->seen};
    }
    for (size_t i = 0; i < x->nlists; i++)
        if (!jr_list_merge(&x->lists[i])) return false;
    return true;
}

/* The channel's pending requests in paging order (decided ones dropped), or NULL when out of
 * memory. */
static struct jr_list *jr_pending(struct dc_call *c, const struct sim_channel *ch)
{
    struct dc_jr_index **slot = dc_jr_index_slot(c->d);
    if (!*slot) {
        if (!(*slot = calloc(1, sizeof **slot))) return NULL;
        idmap_init(&(*slot)->chan);
    }
    static struct jr_list none;
    if (!jr_index_update(c->w, *slot)) return NULL;
    struct jr_list *l = jr_list_of(*slot, ch->id, false);
    if (!l) return &none;
    size_t o = 0;
    for (size_t i = 0; i < l->n; i++)
        if (c->w->jrs[l->v[i].index].status == JR_PENDING) l->v[o++] = l->v[i];
    l->n = l->sorted = o;
    return l;
}

static size_t pending_count(struct dc_call *c, const struct sim_channel *ch)
{
    struct jr_list *l = jr_pending(c, ch);
    return l ? l->n : 0;
}

static bool name_matches(const struct sim_user *u, const char *q)
{
    if (!q || !*q) return true;
    return (u->first_name && strcasestr(u->first_name, q)) ||
           (u->last_name && strcasestr(u->last_name, q)) ||
           (u->username && strcasestr(u->username, q));
}

static json_t *m_get_importers(struct dc_call *c)
{
    json_t *err = NULL;
    struct sim_channel *ch = jr_channel(c, &err);
    if (!ch) return err;
    const json_t *q = c->q;
    if (!json_is_true(json_object_get(q, "requested")))
        return json_pack("{s:s,s:i,s:[],s:[]}", "_", "messages.chatInviteImporters", "count", 0,
                         "importers", "users");
    const char *link = json_string_value(json_object_get(q, "link"));
    const char *search = json_string_value(json_object_get(q, "q"));
    if (search && !*search) search = NULL;
    int64_t limit = jlong(q, "limit"), off_date = jlong(q, "offset_date"), off_user = 0;
    if (limit <= 0 || limit > IMPORTERS_MAX) limit = limit <= 0 ? 0 : IMPORTERS_MAX;
    /* offset_user is inputUserEmpty (then the list goes on from before offset_date) or a user
     * with the access hash this account was given: a wrong one is USER_ID_INVALID */
    const json_t *ou = json_object_get(q, "offset_user");
    if (ou && !tl_is(ou, "inputUserEmpty") && !(off_user = input_user(c, ou, &err))) return err;
    struct jr_list *l = jr_pending(c, ch);
    if (!l) return dc_rpc_error(500, "INTERNAL_SERVER_ERROR");
    /* the first request after (offset_date, offset_user) in paging order */
    size_t lo = 0, hi = l->n;
    if (off_date || off_user) {
        struct pos key = {off_date, off_user, 0};
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (pos_cmp(&l->v[mid], &key) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    json_t *importers = json_array(), *users = json_array();
    size_t count = link || search ? 0 : l->n;
    for (size_t i = link || search ? 0 : lo; i < l->n; i++) {
        const struct sim_join_request *jr = &c->w->jrs[l->v[i].index];
        const struct sim_user *u = world_user(c->w, jr->user_id);
        if (!link_matches(jr, link) || !name_matches(u, search)) continue;
        if (link || search) count++; /* filtered: every match is counted */
        if (i < lo || (int64_t)json_array_size(importers) >= limit) {
            if (link || search) continue;
            break;
        }
        json_t *imp = json_pack("{s:s,s:b,s:I,s:I}", "_", "chatInviteImporter", "requested", 1,
                                "user_id", (json_int_t)jr->user_id, "date", (json_int_t)jr->date);
        if (u->bio) json_object_set_new(imp, "about", json_string(u->bio));
        json_array_append_new(importers, imp);
        json_array_append_new(users, user_json(c->w, u, c->key->user_id));
    }
    return json_pack("{s:s,s:I,s:o,s:o}", "_", "messages.chatInviteImporters", "count",
                     (json_int_t)count, "importers", importers, "users", users);
}

static json_t *updates(struct dc_call *c, const struct sim_channel *ch)
{
    return json_pack("{s:s,s:[],s:[],s:[o],s:I,s:i}", "_", "updates", "updates", "users", "chats",
                     channel_json(c->w, ch, c->key->user_id), "date", (json_int_t)world_now(),
                     "seq", 0);
}

static json_t *m_hide_request(struct dc_call *c)
{
    json_t *err = NULL;
    struct sim_channel *ch = input_channel(c, json_object_get(c->q, "peer"), &err);
    if (!ch) return err;
    int64_t uid = input_user(c, json_object_get(c->q, "user_id"), &err);
    if (!uid) return err;
    sim_err r = world_jr_decide(c->w, ch->id, uid, json_is_true(json_object_get(c->q, "approved")),
                                c->key->user_id);
    if (r != SIM_OK) return dc_rpc_error(400, "%s", sim_err_rpc(r));
    return updates(c, ch);
}

static json_t *m_hide_all(struct dc_call *c)
{
    json_t *err = NULL;
    struct sim_channel *ch = jr_channel(c, &err);
    if (!ch) return err;
    const char *link = json_string_value(json_object_get(c->q, "link"));
    bool approve = json_is_true(json_object_get(c->q, "approved"));
    struct jr_list *l = jr_pending(c, ch);
    if (!l) return dc_rpc_error(500, "INTERNAL_SERVER_ERROR");
    for (size_t i = 0; i < l->n; i++) {
        const struct sim_join_request *jr = &c->w->jrs[l->v[i].index];
        if (link_matches(jr, link))
            world_jr_decide(c->w, ch->id, jr->user_id, approve,
                            c->key->user_id); /* members stay pending */
    }
    return updates(c, ch);
}

/* ---- invite links and the admin log ---- */

/* messages.getExportedChatInvites(revoked?, peer, admin_id, offset_date?, offset_link?, limit):
 * the links admin_id made, revoked or not as asked, newest first, after offset_link. */
static json_t *m_get_invites(struct dc_call *c)
{
    json_t *err = NULL;
    struct sim_channel *ch = jr_channel(c, &err);
    if (!ch) return err;
    int64_t admin = input_user(c, json_object_get(c->q, "admin_id"), &err);
    if (!admin) return err;
    bool revoked = json_is_true(json_object_get(c->q, "revoked"));
    const char *after = json_string_value(json_object_get(c->q, "offset_link"));
    int64_t limit = jlong(c->q, "limit");
    if (limit <= 0 || limit > IMPORTERS_MAX) limit = IMPORTERS_MAX;
    bool started = !after || !*after;
    int64_t count = 0;
    json_t *invites = json_array();
    for (size_t i = ch->nlinks; i-- > 0;) {
        const struct sim_invite *l = &ch->links[i];
        if (l->creator_id != admin || l->revoked != revoked) continue;
        count++;
        if (!started) {
            started = strcmp(l->link, after) == 0;
            continue;
        }
        if ((int64_t)json_array_size(invites) < limit)
            json_array_append_new(invites, sim_invite_exported(c->w, ch, l));
    }
    const struct sim_user *u = world_user(c->w, admin);
    return json_pack("{s:s,s:I,s:o,s:[o]}", "_", "messages.exportedChatInvites", "count",
                     (json_int_t)count, "invites", invites, "users",
                     user_json(c->w, u, c->key->user_id));
}

/* messages.getAdminsWithInvites(peer): each admin that made links, with how many. */
static json_t *m_get_admins_with_invites(struct dc_call *c)
{
    json_t *err = NULL;
    struct sim_channel *ch = jr_channel(c, &err);
    if (!ch) return err;
    json_t *admins = json_array(), *users = json_array();
    for (size_t a = 0; a < ch->nadmins; a++) {
        int64_t id = ch->admins[a].id, made = 0, revoked = 0;
        for (size_t i = 0; i < ch->nlinks; i++)
            if (ch->links[i].creator_id == id) {
                made++;
                revoked += ch->links[i].revoked;
            }
        if (!made) continue;
        json_array_append_new(admins, json_pack("{s:s,s:I,s:I,s:I}", "_", "chatAdminWithInvites",
                                                "admin_id", (json_int_t)id, "invites_count",
                                                (json_int_t)(made - revoked),
                                                "revoked_invites_count", (json_int_t)revoked));
        json_array_append_new(users, user_json(c->w, world_user(c->w, id), c->key->user_id));
    }
    return json_pack("{s:s,s:o,s:o}", "_", "messages.chatAdminsWithInvites", "admins", admins,
                     "users", users);
}

#define ADMIN_LOG_MAX 100

static int log_cmp(const void *a, const void *b)
{
    const struct pos *x = a, *y = b;
    return x->date < y->date ? 1 : x->date > y->date ? -1 : 0;
}

/* channels.getAdminLog(channel, q, events_filter?, admins?, max_id, min_id, limit): the
 * channel's joins by request (channelAdminLogEventActionParticipantJoinByRequest with
 * approved_by), newest first, with ids increasing in the order of the approvals
 * (sim_join_request.log_id). Only those events are modelled: a filter without join or invites
 * gets none, and q and admins are not applied. Any admin may read it. */
static json_t *m_get_admin_log(struct dc_call *c)
{
    json_t *err = NULL;
    struct sim_channel *ch = input_channel(c, json_object_get(c->q, "channel"), &err);
    if (!ch) return err;
    if (!world_channel_admin(ch, c->key->user_id)) return dc_rpc_error(403, "CHAT_ADMIN_REQUIRED");
    const json_t *f = json_object_get(c->q, "events_filter");
    bool joins = !f || json_is_true(json_object_get(f, "join")) ||
                 json_is_true(json_object_get(f, "invites"));
    int64_t max_id = jlong(c->q, "max_id"), min_id = jlong(c->q, "min_id");
    int64_t limit = jlong(c->q, "limit");
    if (limit <= 0 || limit > ADMIN_LOG_MAX) limit = ADMIN_LOG_MAX;
    /* the events in range, newest first (pos.date holds the event id) */
    struct pos *v = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; joins && i < c->w->njrs; i++) {
        const struct sim_join_request *jr = &c->w->jrs[i];
        if (jr->chat_id != ch->id || !jr->log_id) continue;
        if ((max_id && jr->log_id >= max_id) || jr->log_id <= min_id) continue;
        if (n == cap) {
            struct pos *g = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof *g);
            if (!g) {
                free(v);
                return dc_rpc_error(500, "INTERNAL_SERVER_ERROR");
            }
            v = g;
        }
        v[n++] = (struct pos){jr->log_id, jr->user_id, i};
    }
    if (n) qsort(v, n, sizeof *v, log_cmp);
    json_t *events = json_array(), *users = json_array();
    struct idmap seen;
    idmap_init(&seen);
    for (size_t k = 0; k < n && (int64_t)k < limit; k++) {
        const struct sim_join_request *jr = &c->w->jrs[v[k].index];
        json_t *action = json_pack(
            "{s:s,s:o,s:I}", "_", "channelAdminLogEventActionParticipantJoinByRequest", "invite",
            sim_jr_invite(c->w, ch, jr), "approved_by", (json_int_t)jr->decided_by);
        json_array_append_new(events,
                              json_pack("{s:s,s:I,s:I,s:I,s:o}", "_", "channelAdminLogEvent", "id",
                                        (json_int_t)jr->log_id, "date", (json_int_t)jr->decided_at,
                                        "user_id", (json_int_t)jr->user_id, "action", action));
        int64_t people[2] = {jr->user_id, jr->decided_by};
        for (int p = 0; p < 2; p++) {
            uint32_t dummy;
            const struct sim_user *u = world_user(c->w, people[p]);
            if (!u || idmap_get(&seen, u->id, &dummy) || idmap_put(&seen, u->id, 1) != DM_OK)
                continue;
            json_array_append_new(users, user_json(c->w, u, c->key->user_id));
        }
    }
    idmap_release(&seen);
    free(v);
    return json_pack("{s:s,s:o,s:[o],s:o}", "_", "channels.adminLogResults", "events", events,
                     "chats", channel_json(c->w, ch, c->key->user_id), "users", users);
}

/* An rpc_error for a world outcome, with the code Telegram documents for the name. */
static json_t *world_error(sim_err r)
{
    int code = r == SIM_NO_BAN_RIGHT || r == SIM_ADMIN_REQUIRED ? 403 : 400;
    return dc_rpc_error(code, "%s", sim_err_rpc(r));
}

/* channels.editBanned(channel, participant, banned_rights): view_messages bans (until_date as
 * the Bot API's); rights without view_messages lift a ban (in a channel the other rights,
 * which restrict writing, mean nothing: there is nothing a subscriber may write). Errors as
 * Telegram documents them: CHAT_ADMIN_REQUIRED (403) without the ban_users right,
 * USER_ADMIN_INVALID for an admin, USER_ID_INVALID for a participant that is not a user. */
static json_t *m_edit_banned(struct dc_call *c)
{
    json_t *err = NULL;
    struct sim_channel *ch = input_channel(c, json_object_get(c->q, "channel"), &err);
    if (!ch) return err;
    int64_t uid = input_user(c, json_object_get(c->q, "participant"), &err);
    if (!uid) return err;
    const json_t *rights = json_object_get(c->q, "banned_rights");
    if (!tl_is(rights, "chatBannedRights")) return dc_rpc_error(400, "BANNED_RIGHTS_INVALID");
    sim_err r =
        json_is_true(json_object_get(rights, "view_messages"))
            ? world_ban(c->w, ch->id, uid, jlong(rights, "until_date"), true, c->key->user_id)
            : world_unban(c->w, ch->id, uid, true, c->key->user_id);
    if (r != SIM_OK) return world_error(r);
    return updates(c, ch);
}

/* channels.getParticipants with channelParticipantsKicked (q: a name filter): the banned users,
 * newest ban first, with the users vector (their access hashes). Other filters list nothing
 * here (doorman uses none). */
static json_t *m_get_participants(struct dc_call *c)
{
    json_t *err = NULL;
    struct sim_channel *ch = input_channel(c, json_object_get(c->q, "channel"), &err);
    if (!ch) return err;
    const struct sim_admin *adm = world_channel_admin(ch, c->key->user_id);
    if (!adm) return dc_rpc_error(403, "CHAT_ADMIN_REQUIRED");
    const json_t *filter = json_object_get(c->q, "filter");
    int64_t offset = jlong(c->q, "offset"), limit = jlong(c->q, "limit"), count = 0;
    if (limit <= 0 || limit > 200) limit = 200;
    const char *q = json_string_value(json_object_get(filter, "q"));
    json_t *parts = json_array(), *users = json_array();
    if (tl_is(filter, "channelParticipantsKicked")) {
        for (size_t i = c->w->nbans; i-- > 0;) {
            const struct sim_ban *b = &c->w->bans[i];
            if (b->chat_id != ch->id || !world_is_banned(c->w, ch, b->user_id)) continue;
            const struct sim_user *u = world_user(c->w, b->user_id);
            if (!u || !name_matches(u, q)) continue;
            if (count++ < offset || (int64_t)json_array_size(parts) >= limit) continue;
            json_array_append_new(parts, banned_participant(c->w, ch, b->user_id));
            json_array_append_new(users, user_json(c->w, u, c->key->user_id));
        }
    }
    return json_pack("{s:s,s:I,s:o,s:[o],s:o}", "_", "channels.channelParticipants", "count",
                     (json_int_t)count, "participants", parts, "chats",
                     channel_json(c->w, ch, c->key->user_id), "users", users);
}

/* photos.getUserPhotos(user_id, offset, max_id, limit): the user's one photo when it has the
 * photo trait, as photos.photos. */
static json_t *m_get_user_photos(struct dc_call *c)
{
    json_t *err = NULL;
    int64_t uid = input_user(c, json_object_get(c->q, "user_id"), &err);
    if (!uid) return err;
    const struct sim_user *u = world_user(c->w, uid);
    int64_t offset = jlong(c->q, "offset"), limit = jlong(c->q, "limit");
    if (offset < 0) return dc_rpc_error(400, "MAX_ID_INVALID");
    json_t *photos = json_array();
    if (u->has_photo && offset == 0 && limit > 0) {
        uint8_t ref[8];
        memcpy(ref, &u->id, sizeof ref);
        json_array_append_new(
            photos,
            json_pack("{s:s,s:I,s:I,s:o,s:i,s:[{s:s,s:s,s:i,s:i,s:i}],s:i}", "_", "photo", "id",
                      (json_int_t)u->id, "access_hash",
                      (json_int_t)world_access_hash(c->w, 0, WORLD_HASH_PHOTO, u->id),
                      "file_reference", tl_hex(ref, sizeof ref), "date", 0, "sizes", "_",
                      "photoSize", "type", "c", "w", 640, "h", 640, "size", 40960, "dc_id", 1));
    }
    if (u->has_photo && !json_array_size(photos)) /* paged past it: a slice says the count */
        return json_pack("{s:s,s:i,s:o,s:[o]}", "_", "photos.photosSlice", "count", 1, "photos",
                         photos, "users", user_json(c->w, u, c->key->user_id));
    return json_pack("{s:s,s:o,s:[o]}", "_", "photos.photos", "photos", photos, "users",
                     user_json(c->w, u, c->key->user_id));
}

static json_t *m_get_config(struct dc_call *c)
{
    int64_t now = world_now();
    json_t *opts = json_array();
    for (int i = 1; i <= dc_count(c->d); i++)
        json_array_append_new(opts, json_pack("{s:s,s:i,s:s,s:i}", "_", "dcOption", "id", i,
                                              "ip_address", "127.0.0.1", "port", dc_port(c->d, i)));
    return json_pack("{s:s,s:I,s:I,s:b,s:i,s:o,s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:s,s:i,s:i,s:i}", "_",
                     "config", "date", (json_int_t)now, "expires", (json_int_t)now + 3600,
                     "test_mode", 0, "this_dc", c->dc, "dc_options", opts, "dc_txt_domain_name", "",
                     "chat_size_max", 200, "megagroup_size_max", 200000, "forwarded_count_max", 100,
                     "online_update_period_ms", 210000, "offline_blur_timeout_ms", 5000,
                     "edit_time_limit", 172800, "me_url_prefix", "https://t.me/",
                     "caption_length_max", 1024, "message_length_max", 4096, "webfile_dc_id",
                     c->dc);
}

struct method {
    const char *name;
    bool auth; /* needs a logged-in key */
    json_t *(*fn)(struct dc_call *c);
};

static json_t *m_nearest_dc(struct dc_call *c)
{
    return json_pack("{s:s,s:s,s:i,s:i}", "_", "nearestDc", "country", "ZZ", "this_dc", c->dc,
                     "nearest_dc", c->dc);
}

/* ---- updates (sim/updates.h) ---- */

#define DIFF_SLICE 100      /* pts updates in one updates.difference(Slice) */
#define DIFF_TOO_LONG 10000 /* default pts gap answered with differenceTooLong */

static json_t *upd_state(const struct sim_upd_state *s, int32_t pts, int64_t date)
{
    return json_pack("{s:s,s:i,s:i,s:I,s:i,s:i}", "_", "updates.state", "pts", pts, "qts", s->qts,
                     "date", (json_int_t)date, "seq", s->seq, "unread_count", 0);
}

static json_t *m_get_state(struct dc_call *c)
{
    const struct sim_upd_state *s = sim_upd_state_of(c->w, c->key->user_id);
    static const struct sim_upd_state none;
    return upd_state(s ? s : &none, s ? s->pts : 0, world_now());
}

/* Adds the users and channels an update names to users and chats (once each). */
static void upd_peers(struct dc_call *c, const json_t *u, json_t *users, json_t *chats,
                      json_t *seen)
{
    char k[32];
    const json_t *peer = json_object_get(u, "peer"), *msg = json_object_get(u, "message");
    int64_t ch_id = tl_is(peer, "peerChannel") ? jlong(peer, "channel_id") : 0;
    if (ch_id) {
        snprintf(k, sizeof k, "c%" PRId64, ch_id);
        struct sim_channel *ch = world_channel(c->w, -ch_id - CHANNEL_ID_BASE);
        if (ch && !json_object_get(seen, k)) {
            json_object_set_new(seen, k, json_true());
            json_array_append_new(chats, channel_json(c->w, ch, c->key->user_id));
        }
    }
    json_t *ids = json_array();
    json_array_extend(ids, json_object_get(u, "recent_requesters"));
    const json_t *from = json_object_get(msg, "from_id");
    if (from) json_array_append_new(ids, json_integer(jlong(from, "user_id")));
    if (tl_is(u, "updateBotChatInviteRequester")) /* the requester, as Telegram sends it */
        json_array_append_new(ids, json_integer(jlong(u, "user_id")));
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        snprintf(k, sizeof k, "u%" JSON_INTEGER_FORMAT, json_integer_value(v));
        const struct sim_user *usr = world_user(c->w, json_integer_value(v));
        if (usr && !json_object_get(seen, k)) {
            json_object_set_new(seen, k, json_true());
            json_array_append_new(users, user_json(c->w, usr, c->key->user_id));
        }
    }
    json_decref(ids);
}

json_t *dc_rpc_push(struct dc_call *c, const struct sim_upd_entry *e)
{
    json_t *users = json_array(), *chats = json_array(), *seen = json_object();
    upd_peers(c, e->update, users, chats, seen);
    json_decref(seen);
    return json_pack("{s:s,s:[O],s:o,s:o,s:I,s:i}", "_", "updates", "updates", e->update, "users",
                     users, "chats", chats, "date", (json_int_t)e->date, "seq", e->seq);
}

/* updates.getDifference from (pts, date): the pts updates after pts (new_messages for
 * updateNewMessage, the others in other_updates), DIFF_SLICE at most (differenceSlice with the
 * intermediate state), and with the last part the seq-only updates made since `date` (the
 * newest of each channel: they tell a state, not an event) and the qts updates after the qts
 * asked (updateBotChatInviteRequester); differenceTooLong when the gap is
 * over the world's limit or older than the log; differenceEmpty when nothing is new. */
static json_t *m_get_difference(struct dc_call *c)
{
    struct sim_upd_state *s = sim_upd_state_of(c->w, c->key->user_id);
    int64_t pts = jlong(c->q, "pts"), date = jlong(c->q, "date"), qts = jlong(c->q, "qts");
    if (!s)
        return json_pack("{s:s,s:I,s:i}", "_", "updates.differenceEmpty", "date",
                         (json_int_t)world_now(), "seq", 0);
    s->difference_calls++;
    unsigned limit = c->w->diff_too_long ? c->w->diff_too_long : DIFF_TOO_LONG;
    int32_t oldest = s->n ? sim_upd_entry(s, 0)->pts - sim_upd_entry(s, 0)->pts_count : s->pts;
    if (pts < s->pts && (s->pts - pts > (int64_t)limit || pts < oldest)) {
        s->too_long++;
        return json_pack("{s:s,s:i}", "_", "updates.differenceTooLong", "pts", s->pts);
    }
    json_t *msgs = json_array(), *other = json_array(), *users = json_array(),
           *chats = json_array(), *seen = json_object(), *by_channel = json_object();
    size_t taken = 0;
    int32_t upto = s->pts;
    int64_t upto_date = s->date;
    for (size_t i = 0; i < s->n; i++) {
        const struct sim_upd_entry *e = sim_upd_entry(s, i);
        if (!e->pts_count || e->pts <= pts) continue;
        if (taken == DIFF_SLICE) {
            upto = sim_upd_entry(s, i - 1)->pts;
            upto_date = sim_upd_entry(s, i - 1)->date;
            break;
        }
        taken++;
        if (tl_is(e->update, "updateNewMessage"))
            json_array_append(msgs, json_object_get(e->update, "message"));
        else
            json_array_append(other, e->update);
        upd_peers(c, e->update, users, chats, seen);
    }
    bool last = upto == s->pts;
    for (size_t i = 0; last && i < s->n; i++) {
        const struct sim_upd_entry *e = sim_upd_entry(s, i);
        if (e->qts) { /* qts updates after the qts asked, each once */
            if (e->qts > qts) {
                json_array_append(other, e->update);
                upd_peers(c, e->update, users, chats, seen);
            }
            continue;
        }
        if (e->pts_count || e->date < date) continue;
        char k[32];
        snprintf(
            k, sizeof k, "%" JSON_INTEGER_FORMAT,
            json_integer_value(json_object_get(json_object_get(e->update, "peer"), "channel_id")));
        json_object_set(by_channel, k, e->update); /* the newest of each channel wins */
    }
    const char *k;
    json_t *v;
    json_object_foreach(by_channel, k, v)
    {
        json_array_append(other, v);
        upd_peers(c, v, users, chats, seen);
    }
    json_decref(seen);
    json_decref(by_channel);
    if (!json_array_size(msgs) && !json_array_size(other)) {
        json_decref(msgs);
        json_decref(other);
        json_decref(users);
        json_decref(chats);
        return json_pack("{s:s,s:I,s:i}", "_", "updates.differenceEmpty", "date",
                         (json_int_t)world_now(), "seq", s->seq);
    }
    return json_pack("{s:s,s:o,s:[],s:o,s:o,s:o,s:o}", "_",
                     last ? "updates.difference" : "updates.differenceSlice", "new_messages", msgs,
                     "new_encrypted_messages", "other_updates", other, "chats", chats, "users",
                     users, last ? "state" : "intermediate_state",
                     upd_state(s, upto, last ? world_now() : upto_date));
}

static const struct method methods[] = {
    {"help.getConfig", false, m_get_config},
    {"help.getNearestDc", false, m_nearest_dc},
    {"auth.sendCode", false, m_send_code},
    {"auth.resendCode", false, m_resend_code},
    {"auth.signIn", false, m_sign_in},
    {"account.getPassword", false, m_get_password},
    {"auth.checkPassword", false, m_check_password},
    {"auth.importBotAuthorization", false, m_import_bot},
    {"auth.logOut", true, m_log_out},
    {"users.getUsers", true, m_get_users},
    {"contacts.resolveUsername", true, m_resolve_username},
    {"channels.getChannels", true, m_get_channels},
    {"messages.getDialogs", true, m_get_dialogs},
    {"channels.getFullChannel", true, m_get_full_channel},
    {"channels.getParticipant", true, m_get_participant},
    {"channels.getParticipants", true, m_get_participants},
    {"channels.editBanned", true, m_edit_banned},
    {"photos.getUserPhotos", true, m_get_user_photos},
    {"messages.getChatInviteImporters", true, m_get_importers},
    {"messages.hideChatJoinRequest", true, m_hide_request},
    {"messages.hideAllChatJoinRequests", true, m_hide_all},
    {"messages.getExportedChatInvites", true, m_get_invites},
    {"messages.getAdminsWithInvites", true, m_get_admins_with_invites},
    {"channels.getAdminLog", true, m_get_admin_log},
    {"updates.getState", true, m_get_state},
    {"updates.getDifference", true, m_get_difference},
};

json_t *dc_rpc_call(struct dc_call *c)
{
    const char *name = ctor(c->q);
    for (size_t i = 0; i < DM_ARRAY_LEN(methods); i++) {
        if (strcmp(methods[i].name, name) != 0) continue;
        world_stat_call(c->w, methods[i].name); /* GET /control/stats counts MTProto calls too */
        json_t *err = methods[i].auth
                          ? need_auth(c)
                          : (c->key->duplicated ? dc_rpc_error(406, "AUTH_KEY_DUPLICATED") : NULL);
        return err ? err : methods[i].fn(c);
    }
    json_t *err = need_auth(c);
    return err ? err : dc_rpc_error(400, "INPUT_METHOD_INVALID");
}
