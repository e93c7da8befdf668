/* The client against tgsim's data centres: a server we did not write in the same breath.
 *
 * usage: unit_mtproto_tgsim [--api-id N] -- TGSIM-COMMAND ARGS...
 *
 * The driver picks free loopback ports for DCs 1..3, the control API and a PEM path, substitutes
 * them for {port1} {port2} {port3} {control} and {pem} in the command's arguments, starts it, waits
 * until the PEM file exists and DC 2 accepts connections, and checks: a handshake (new key),
 * initConnection and help.getConfig decoded as Config, an rpc_error path (users.getUsers on an
 * unauthorized key), pings keeping an idle connection, 1,000 calls in flight on one connection, a
 * frozen server (SIGSTOP: the silent connection is dropped, the client reconnects and sends the
 * calls again once it thaws), and a server killed (SIGKILL) and started again: tgsim keeps its
 * world in memory, so the restarted DC does not know the key and answers -404, which the client
 * reports as DM_EAUTH (as Telethon's AuthKeyNotFound), while a new client makes a key and works.
 * Then a login that migrates: an account homed on DC 3 with a 2FA password (made through the
 * control API on {control}), auth.sendCode on DC 2 answers PHONE_MIGRATE_3, a client for DC 3 gets
 * the code (read from the control API), auth.signIn answers SESSION_PASSWORD_NEEDED,
 * account.getPassword + SRP + auth.checkPassword log in, and users.getUsers(inputUserSelf) returns
 * the account.
 * Last, every method and error path of the product on a world made through the control API (a
 * channel with 252 pending requests, an admin with and one without invite_users, a bot, a member
 * with a pending request): signIn's PHONE_CODE_INVALID / _HASH_INVALID / _EMPTY / _EXPIRED (aged
 * through the control API, and used), PASSWORD_HASH_INVALID, importBotAuthorization (and
 * ACCESS_TOKEN_INVALID), getUsers, resolveUsername, getChannels, getFullChannel, getParticipant,
 * getChatInviteImporters paged by offset_date/offset_user (each request once, count right),
 * hideChatJoinRequest (approve, decline, HIDE_REQUESTER_MISSING, USER_ALREADY_PARTICIPANT; tgsim's
 * record: decided_by and decisions == 1), hideAllChatJoinRequests, CHAT_ADMIN_REQUIRED, FLOOD_WAIT
 * injected and from the limit, logOut, revocation (AUTH_KEY_UNREGISTERED, SESSION_REVOKED), and
 * AUTH_KEY_DUPLICATED: refused for two live connections with one key, not for a client that
 * reconnects (at once, while tgsim is busy, after a freeze). Without a command it exits 77. */
#include "core/common.h"

#include "mtproto/client.h"
#include "mtproto/tl_codec.h"
#include "testutil.h"
#include "tgsim_control.h"

#include <curl/curl.h>

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MANY 1000

static char **server_argv;
static pid_t server_pid;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &al))
        abort();
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static bool server_start(const char *pem, int port)
{
    server_pid = fork();
    if (server_pid == 0) {
        execvp(server_argv[0], server_argv);
        perror(server_argv[0]);
        _exit(127);
    }
    struct stat st;
    for (int i = 0; i < 1000; i++) { /* up to 10 s */
        if (stat(pem, &st) == 0 && st.st_size > 0 && port_open(port)) return true;
        if (waitpid(server_pid, NULL, WNOHANG) == server_pid) return false;
        usleep(10000);
    }
    return false;
}

static void server_kill(void)
{
    kill(server_pid, SIGKILL);
    waitpid(server_pid, NULL, 0);
}

/* Replaces {pem} and {portN} in a copy of arg. */
static char *substitute(const char *arg, const char *pem, const int ports[5])
{
    struct buf b;
    buf_init(&b, 4096);
    for (const char *p = arg; *p;) {
        if (strncmp(p, "{pem}", 5) == 0) {
            buf_puts(&b, pem);
            p += 5;
        } else if (strncmp(p, "{port", 5) == 0 && p[5] >= '1' && p[5] <= '3' && p[6] == '}') {
            buf_printf(&b, "%d", ports[p[5] - '0']);
            p += 7;
        } else if (strncmp(p, "{control}", 9) == 0) {
            buf_printf(&b, "%d", ports[4]);
            p += 9;
        } else {
            buf_append(&b, p++, 1);
        }
    }
    return buf_detach(&b, NULL);
}

static struct mt_client *client;
static atomic_int ok_calls;
static void *caller(void *arg);
static int control_port;

static void report(const char *what, int failures_before)
{
    printf("%s: %s\n", what, t_failures == failures_before ? "ok" : "FAILED");
}

/* A control API call (body: JSON for a POST, NULL for a GET); the answer as JSON, or NULL. */
static json_t *control(const char *path, const char *body)
{
    char why[4096];
    json_t *j = tgsim_control(control_port, path, body, why, sizeof why);
    if (!j) fprintf(stderr, "control %s: %s\n", path, why);
    return j;
}

/* mt_call with a method built by json_pack (consumed); *rc receives the result code. */
static json_t *callj(struct mt_client *c, json_t *method, dm_err *rc, struct mt_rpc_error *rpc,
                     struct dm_error *e)
{
    json_t *r = NULL;
    *rc = method ? mt_call(c, method, 20000, &r, rpc, e) : DM_ENOMEM;
    json_decref(method);
    return r;
}

/* account.getPassword, the SRP proof for `password`, auth.checkPassword: its answer. */
static json_t *check_password(struct mt_client *c, const char *password, dm_err *rc,
                              struct mt_rpc_error *rpc, struct dm_error *e)
{
    json_t *pw = callj(c, json_pack("{s:s}", "_", "account.getPassword"), rc, rpc, e);
    const json_t *algo = NULL;
    uint8_t salt1[512], salt2[512], p[256], B[256], A[256], M1[32];
    size_t l1 = 0, l2 = 0, lp = 0, lb = 0;
    int32_t g = 0;
    int64_t srp_id = 0;
    bool got = *rc == DM_OK && tl_get_obj(pw, "current_algo", &algo, NULL) == DM_OK &&
               tl_get_bytes(algo, "salt1", salt1, sizeof salt1, &l1, NULL) == DM_OK &&
               tl_get_bytes(algo, "salt2", salt2, sizeof salt2, &l2, NULL) == DM_OK &&
               tl_get_int(algo, "g", &g, NULL) == DM_OK &&
               tl_get_bytes(algo, "p", p, 256, &lp, NULL) == DM_OK &&
               tl_get_bytes(pw, "srp_B", B, 256, &lb, NULL) == DM_OK &&
               tl_get_long(pw, "srp_id", &srp_id, NULL) == DM_OK;
    CHECK(got, "account.getPassword: %s", e->msg);
    json_decref(pw);
    struct crypto_srp_input in = {salt1, salt2, l1, l2, g, p, B, lb};
    bool proof =
        got && lp == 256 && crypto_srp_check(&in, password, crypto_random, NULL, A, M1, e) == DM_OK;
    CHECK(proof, "SRP: %s", e->msg);
    if (!proof) {
        *rc = DM_EPROTO;
        return NULL;
    }
    return callj(c,
                 json_pack("{s:s,s:{s:s,s:I,s:o,s:o}}", "_", "auth.checkPassword", "password", "_",
                           "inputCheckPasswordSRP", "srp_id", (json_int_t)srp_id, "A",
                           tl_hex(A, 256), "M1", tl_hex(M1, 32)),
                 rc, rpc, e);
}

/* Logs in to an account homed on DC 3 with a password, starting on DC 2. */
static void test_login(const struct mt_config *cfg2)
{
    int f0 = t_failures;
    const char *phone = "15550003";
    json_t *acc = control("accounts", "{\"phone\":\"15550003\",\"first_name\":\"Mig\",\"dc\":3,"
                                      "\"password\":\"correct horse\"}");
    json_int_t user_id = json_integer_value(json_object_get(acc, "id"));
    CHECK(user_id > 0, "account made through the control API");
    json_decref(acc);
    struct dm_error e = {0};
    struct mt_rpc_error rpc = {0};
    dm_err rc;
#define SEND_CODE                                                                                  \
    json_pack("{s:s,s:s,s:i,s:s,s:{s:s}}", "_", "auth.sendCode", "phone_number", phone, "api_id",  \
              cfg2->api_id, "api_hash", "0123456789abcdef0123456789abcdef", "settings", "_",       \
              "codeSettings")
    json_decref(callj(client, SEND_CODE, &rc, &rpc, &e));
    int dc = mt_rpc_error_migrate_dc(&rpc);
    CHECK(rc == DM_ETELEGRAM && mt_rpc_error_is(&rpc, "PHONE_MIGRATE") && dc == 3,
          "sendCode on DC 2: %s", e.msg);
    struct mt_config cfg3 = *cfg2;
    cfg3.dc_id = dc;
    struct mt_client *c3 = NULL;
    CHECK(mt_client_new(&cfg3, NULL, &c3, &e) == DM_OK, "client for DC %d: %s", dc, e.msg);
    json_t *sent = callj(c3, SEND_CODE, &rc, &rpc, &e);
#undef SEND_CODE
    const char *hash = NULL;
    CHECK(rc == DM_OK && tl_is(sent, "auth.sentCode") &&
              tl_get_str(sent, "phone_code_hash", &hash, NULL) == DM_OK,
          "sendCode on DC 3: %s", e.msg);
    char q[64];
    snprintf(q, sizeof q, "login-code?phone=%s", phone);
    json_t *code = control(q, NULL);
    json_decref(callj(c3,
                      json_pack("{s:s,s:s,s:s,s:s}", "_", "auth.signIn", "phone_number", phone,
                                "phone_code_hash", hash ? hash : "", "phone_code",
                                json_string_value(json_object_get(code, "code")) ?: ""),
                      &rc, &rpc, &e));
    CHECK(rc == DM_ETELEGRAM && mt_rpc_error_is(&rpc, "SESSION_PASSWORD_NEEDED"), "signIn: %s",
          e.msg);
    json_decref(code);
    json_decref(sent);

    json_t *auth = check_password(c3, "correct horse", &rc, &rpc, &e);
    CHECK(rc == DM_OK && tl_is(auth, "auth.authorization"), "checkPassword: %s", e.msg);
    json_decref(auth);
    json_t *users =
        callj(c3, json_pack("{s:s,s:[{s:s}]}", "_", "users.getUsers", "id", "_", "inputUserSelf"),
              &rc, &rpc, &e);
    int64_t id = 0;
    CHECK(rc == DM_OK && json_array_size(users) == 1 &&
              tl_get_long(json_array_get(users, 0), "id", &id, NULL) == DM_OK && id == user_id,
          "users.getUsers(inputUserSelf) is the account (%" PRId64 "): %s", id, e.msg);
    json_decref(users);
    mt_client_free(c3);
    report("login: PHONE_MIGRATE_3, code, SESSION_PASSWORD_NEEDED, SRP, getUsers on DC 3", f0);
}

/* ---- every method and error path of issue 3, against tgsim's world ---- */

#define API_HASH "0123456789abcdef0123456789abcdef"

static int32_t api_id_g;

/* Expects `method` (consumed) to answer rpc_error `name`; *rpc (may be NULL) gets it. */
static bool rpc_fails(struct mt_client *c, json_t *method, const char *name,
                      struct mt_rpc_error *rpc)
{
    dm_err rc;
    struct dm_error e = {0};
    struct mt_rpc_error r = {0};
    json_decref(callj(c, method, &rc, &r, &e));
    if (rpc) *rpc = r;
    bool ok = rc == DM_ETELEGRAM && mt_rpc_error_is(&r, name);
    if (!ok) fprintf(stderr, "expected %s, got %s (%s)\n", name, r.message, e.msg);
    return ok;
}

/* Expects `method` (consumed) to succeed with an object of constructor `want` (NULL: any); the
 * answer. */
static json_t *rpc_ok(struct mt_client *c, json_t *method, const char *want)
{
    dm_err rc;
    struct dm_error e = {0};
    const char *name = json_string_value(json_object_get(method, "_"));
    char what[96];
    snprintf(what, sizeof what, "%s", name ? name : "?");
    json_t *r = callj(c, method, &rc, NULL, &e);
    if (rc != DM_OK || (want && !tl_is(r, want))) {
        fprintf(stderr, "%s: %s\n", what, rc ? e.msg : "another constructor");
        json_decref(r);
        return NULL;
    }
    return r;
}

static json_t *send_code(const char *phone)
{
    return json_pack("{s:s,s:s,s:i,s:s,s:{s:s}}", "_", "auth.sendCode", "phone_number", phone,
                     "api_id", api_id_g, "api_hash", API_HASH, "settings", "_", "codeSettings");
}

static json_t *sign_in(const char *phone, const char *hash, const char *code)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "_", "auth.signIn", "phone_number", phone,
                     "phone_code_hash", hash, "phone_code", code);
}

/* The code tgsim sent to phone (control API), copied into out. */
static void login_code(const char *phone, char out[16])
{
    char q[64];
    snprintf(q, sizeof q, "login-code?phone=%s", phone);
    json_t *j = control(q, NULL);
    snprintf(out, 16, "%s", json_string_value(json_object_get(j, "code")) ?: "");
    json_decref(j);
}

/* auth.sendCode; the phone_code_hash copied into hash. */
static bool code_sent(struct mt_client *c, const char *phone, char hash[64])
{
    json_t *sent = rpc_ok(c, send_code(phone), "auth.sentCode");
    const char *h = NULL;
    bool ok = sent && tl_get_str(sent, "phone_code_hash", &h, NULL) == DM_OK;
    snprintf(hash, 64, "%s", ok ? h : "");
    json_decref(sent);
    return ok;
}

/* A full login on c (code, then the password when there is one). */
static bool log_in(struct mt_client *c, const char *phone, const char *password)
{
    char hash[64], code[16];
    if (!code_sent(c, phone, hash)) return false;
    login_code(phone, code);
    if (!password) {
        json_t *a = rpc_ok(c, sign_in(phone, hash, code), "auth.authorization");
        json_decref(a);
        return a != NULL;
    }
    if (!rpc_fails(c, sign_in(phone, hash, code), "SESSION_PASSWORD_NEEDED", NULL)) return false;
    dm_err rc;
    struct dm_error e = {0};
    json_t *a = check_password(c, password, &rc, NULL, &e);
    bool ok = rc == DM_OK && tl_is(a, "auth.authorization");
    json_decref(a);
    return ok;
}

static struct mt_client *new_client(const struct mt_config *cfg, const struct mt_auth *auth)
{
    struct mt_client *c = NULL;
    struct dm_error e = {0};
    if (mt_client_new(cfg, auth, &c, &e) != DM_OK) {
        fprintf(stderr, "client: %s\n", e.msg);
        abort();
    }
    return c;
}

static json_int_t jint(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static json_t *get_self(void)
{
    return json_pack("{s:s,s:[{s:s}]}", "_", "users.getUsers", "id", "_", "inputUserSelf");
}

/* The id of users.getUsers(inputUserSelf), or 0. */
static int64_t self_id(struct mt_client *c)
{
    json_t *u = rpc_ok(c, get_self(), NULL);
    int64_t id = 0;
    if (json_array_size(u) != 1 || tl_get_long(json_array_get(u, 0), "id", &id, NULL)) id = 0;
    json_decref(u);
    return id;
}

/* The world of these tests, made through the control API. */
struct mworld {
    json_int_t admin, noinv, bot_id, member, ann, chat; /* chat: the Bot API id (-100...) */
    json_int_t first_bulk;                              /* the first of the 250 made in bulk */
    char bot_token[160];
    int64_t channel_id, access_hash; /* as MTProto sees the channel */
};

static json_t *input_channel(const struct mworld *w, const char *kind)
{
    return json_pack("{s:s,s:I,s:I}", "_", kind, "channel_id", (json_int_t)w->channel_id,
                     "access_hash", (json_int_t)w->access_hash);
}

/* messages.getChatInviteImporters(requested) after (date, user); user 0 = from the start. */
static json_t *importers(const struct mworld *w, int64_t date, int64_t user, int64_t user_hash,
                         int limit)
{
    json_t *ou = user ? json_pack("{s:s,s:I,s:I}", "_", "inputUser", "user_id", (json_int_t)user,
                                  "access_hash", (json_int_t)user_hash)
                      : json_pack("{s:s}", "_", "inputUserEmpty");
    return json_pack("{s:s,s:b,s:o,s:I,s:o,s:i}", "_", "messages.getChatInviteImporters",
                     "requested", 1, "peer", input_channel(w, "inputPeerChannel"), "offset_date",
                     (json_int_t)date, "offset_user", ou, "limit", limit);
}

static json_t *hide(const struct mworld *w, int64_t user, int64_t hash, bool approve)
{
    return json_pack("{s:s,s:b,s:o,s:{s:s,s:I,s:I}}", "_", "messages.hideChatJoinRequest",
                     "approved", approve, "peer", input_channel(w, "inputPeerChannel"), "user_id",
                     "_", "inputUser", "user_id", (json_int_t)user, "access_hash",
                     (json_int_t)hash);
}

/* tgsim's record of user's latest request in the channel (control API), or NULL. */
static json_t *jr_record(const struct mworld *w, json_int_t user)
{
    char q[128];
    snprintf(q, sizeof q,
             "join-requests?chat_id=%" JSON_INTEGER_FORMAT "&user_id=%" JSON_INTEGER_FORMAT,
             w->chat, user);
    json_t *j = control(q, NULL), *items = json_object_get(j, "items");
    json_t *r = json_array_size(items)
                    ? json_incref(json_array_get(items, json_array_size(items) - 1))
                    : NULL;
    json_decref(j);
    return r;
}

static bool decided(const struct mworld *w, json_int_t user, const char *status, json_int_t by)
{
    json_t *r = jr_record(w, user);
    bool ok = r && !strcmp(json_string_value(json_object_get(r, "status")) ?: "", status) &&
              jint(r, "decided_by") == by && jint(r, "decisions") == 1;
    if (!ok) {
        char *s = r ? json_dumps(r, 0) : NULL;
        fprintf(stderr, "record of %" JSON_INTEGER_FORMAT ": %s\n", user, s ? s : "none");
        free(s);
    }
    json_decref(r);
    return ok;
}

#define BULK 250

static void make_world(struct mworld *w)
{
    json_t *j = control("accounts",
                        "{\"phone\":\"15550010\",\"first_name\":\"Adm\",\"username\":\"mt_admin\","
                        "\"dc\":2,\"password\":\"pw-adm\"}");
    w->admin = jint(j, "id");
    json_decref(j);
    j = control("accounts", "{\"phone\":\"15550011\",\"first_name\":\"NoInv\",\"dc\":2}");
    w->noinv = jint(j, "id");
    json_decref(j);
    j = control("bots", "{\"username\":\"mt_doorbot\"}");
    w->bot_id = jint(j, "id");
    snprintf(w->bot_token, sizeof w->bot_token, "%s",
             json_string_value(json_object_get(j, "token")) ?: "");
    json_decref(j);
    j = control("users", "{\"first_name\":\"Ann\",\"username\":\"mt_ann\",\"bio\":\"hi\"}");
    w->ann = jint(j, "id");
    json_decref(j);
    j = control("users", "{\"first_name\":\"Mem\"}");
    w->member = jint(j, "id");
    json_decref(j);
    char body[512];
    snprintf(body, sizeof body,
             "{\"title\":\"MT\",\"username\":\"mt_chan\",\"admins\":[{\"id\":%" JSON_INTEGER_FORMAT
             ",\"can_invite_users\":true},{\"id\":%" JSON_INTEGER_FORMAT
             ",\"can_invite_users\":false},{\"id\":%" JSON_INTEGER_FORMAT
             ",\"can_invite_users\":true}]}",
             w->admin, w->noinv, w->bot_id);
    j = control("channels", body);
    w->chat = jint(j, "id");
    json_decref(j);
    CHECK(w->admin && w->noinv && w->bot_id && w->ann && w->member && w->chat && w->bot_token[0],
          "the world made through the control API");
    /* 250 requests in three batches: equal dates, so paging needs offset_user as well */
    static const int batch[3][2] = {{100, 1700000000}, {100, 1700000100}, {50, 1700000050}};
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof body,
                 "{\"chat_id\":%" JSON_INTEGER_FORMAT ",\"count\":%d,\"date\":%d,\"bio\":\"bulk\"}",
                 w->chat, batch[i][0], batch[i][1]);
        j = control("join-requests", body);
        if (i == 0) w->first_bulk = jint(j, "first_user_id");
        json_decref(j);
    }
    snprintf(body, sizeof body,
             "{\"chat_id\":%" JSON_INTEGER_FORMAT ",\"user_id\":%" JSON_INTEGER_FORMAT
             ",\"invite_link\":\"https://t.me/+mt\",\"date\":1700000200}",
             w->chat, w->ann);
    json_decref(control("join-requests", body));
    snprintf(body, sizeof body,
             "{\"chat_id\":%" JSON_INTEGER_FORMAT ",\"user_id\":%" JSON_INTEGER_FORMAT "}", w->chat,
             w->member);
    json_decref(control("join-requests", body));
    char path[128];
    snprintf(path, sizeof path, "channels/%" JSON_INTEGER_FORMAT "/members", w->chat);
    snprintf(body, sizeof body, "{\"user_id\":%" JSON_INTEGER_FORMAT "}", w->member);
    json_decref(control(path, body)); /* a member with a pending request */
}

/* sendCode / signIn errors, then a login with the 2FA password after a wrong one. */
static void test_login_errors(struct mt_client *c)
{
    int f0 = t_failures;
    const char *phone = "15550010";
    char hash[64], code[16], wrong[16];
    CHECK(code_sent(c, phone, hash), "sendCode");
    login_code(phone, code);
    snprintf(wrong, sizeof wrong, "%s", code);
    wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
    CHECK(rpc_fails(c, sign_in(phone, hash, wrong), "PHONE_CODE_INVALID", NULL), "a wrong code");
    CHECK(rpc_fails(c, sign_in(phone, "not-the-hash", code), "PHONE_CODE_HASH_INVALID", NULL),
          "a wrong hash");
    CHECK(rpc_fails(c, sign_in(phone, hash, ""), "PHONE_CODE_EMPTY", NULL), "an empty code");
    CHECK(rpc_fails(c, send_code("0555009999"), "PHONE_NUMBER_INVALID", NULL),
          "a number no country code starts");
    json_decref(control("login-code/expire", "{\"phone\":\"15550010\"}"));
    CHECK(rpc_fails(c, sign_in(phone, hash, code), "PHONE_CODE_EXPIRED", NULL),
          "a code past its lifetime");
    /* a new code works once */
    CHECK(code_sent(c, phone, hash), "sendCode again");
    login_code(phone, code);
    CHECK(rpc_fails(c, sign_in(phone, hash, code), "SESSION_PASSWORD_NEEDED", NULL), "signIn: 2FA");
    CHECK(rpc_fails(c, sign_in(phone, hash, code), "PHONE_CODE_EXPIRED", NULL), "a used code");
    CHECK(rpc_fails(c, get_self(), "AUTH_KEY_UNREGISTERED", NULL),
          "not logged in before the password");
    dm_err rc;
    struct dm_error e = {0};
    struct mt_rpc_error rpc = {0};
    json_t *a = check_password(c, "pw-wrong", &rc, &rpc, &e);
    CHECK(rc == DM_ETELEGRAM && mt_rpc_error_is(&rpc, "PASSWORD_HASH_INVALID"),
          "a wrong password: %s", e.msg);
    json_decref(a);
    a = check_password(c, "pw-adm", &rc, &rpc, &e);
    CHECK(rc == DM_OK && tl_is(a, "auth.authorization"), "the right password: %s", e.msg);
    json_decref(a);
    report("login errors: PHONE_CODE_INVALID, _HASH_INVALID, _EMPTY, _EXPIRED (aged, used), "
           "PASSWORD_HASH_INVALID",
           f0);
}

/* users.getUsers, contacts.resolveUsername, channels.getChannels / getFullChannel / getParticipant
 */
static void test_lookups(struct mt_client *c, struct mworld *w)
{
    int f0 = t_failures;
    json_t *u = rpc_ok(c, get_self(), NULL);
    const json_t *me = json_array_get(u, 0);
    int64_t id = 0;
    const char *phone = NULL;
    CHECK(json_array_size(u) == 1 && tl_is(me, "user") &&
              tl_get_long(me, "id", &id, NULL) == DM_OK && id == w->admin &&
              json_is_true(json_object_get(me, "self")) &&
              tl_get_str(me, "phone", &phone, NULL) == DM_OK && !strcmp(phone, "15550010"),
          "users.getUsers(inputUserSelf) is the admin, self, with its phone");
    json_decref(u);

    json_t *r =
        rpc_ok(c, json_pack("{s:s,s:s}", "_", "contacts.resolveUsername", "username", "mt_chan"),
               "contacts.resolvedPeer");
    const json_t *ch = json_array_get(json_object_get(r, "chats"), 0);
    int64_t peer_id = 0;
    CHECK(r && tl_is(json_object_get(r, "peer"), "peerChannel") &&
              tl_get_long(json_object_get(r, "peer"), "channel_id", &peer_id, NULL) == DM_OK &&
              tl_get_long(ch, "id", &w->channel_id, NULL) == DM_OK && peer_id == w->channel_id &&
              tl_get_long(ch, "access_hash", &w->access_hash, NULL) == DM_OK &&
              w->channel_id == -w->chat - 1000000000000LL,
          "contacts.resolveUsername(mt_chan): the channel, id %" PRId64, w->channel_id);
    json_decref(r);
    r = rpc_ok(c, json_pack("{s:s,s:s}", "_", "contacts.resolveUsername", "username", "mt_ann"),
               "contacts.resolvedPeer");
    int64_t uid = 0;
    CHECK(r && tl_is(json_object_get(r, "peer"), "peerUser") &&
              tl_get_long(json_object_get(r, "peer"), "user_id", &uid, NULL) == DM_OK &&
              uid == w->ann,
          "contacts.resolveUsername(mt_ann): the user");
    json_decref(r);
    CHECK(rpc_fails(
              c, json_pack("{s:s,s:s}", "_", "contacts.resolveUsername", "username", "mt_nobody"),
              "USERNAME_NOT_OCCUPIED", NULL),
          "an unknown username");

    r = rpc_ok(c,
               json_pack("{s:s,s:[o]}", "_", "channels.getChannels", "id",
                         input_channel(w, "inputChannel")),
               "messages.chats");
    ch = json_array_get(json_object_get(r, "chats"), 0);
    const char *title = NULL;
    const json_t *rights = NULL;
    CHECK(json_array_size(json_object_get(r, "chats")) == 1 &&
              tl_get_str(ch, "title", &title, NULL) == DM_OK && !strcmp(title, "MT") &&
              tl_get_obj(ch, "admin_rights", &rights, NULL) == DM_OK &&
              json_is_true(json_object_get(rights, "invite_users")),
          "channels.getChannels: the channel, with our admin rights");
    json_decref(r);
    struct mworld bad = *w;
    bad.access_hash ^= 1;
    CHECK(rpc_fails(c,
                    json_pack("{s:s,s:[o]}", "_", "channels.getChannels", "id",
                              input_channel(&bad, "inputChannel")),
                    "CHANNEL_INVALID", NULL),
          "a wrong access_hash");

    r = rpc_ok(c,
               json_pack("{s:s,s:o}", "_", "channels.getFullChannel", "channel",
                         input_channel(w, "inputChannel")),
               "messages.chatFull");
    const json_t *full = json_object_get(r, "full_chat");
    int32_t pend = -1;
    CHECK(tl_is(full, "channelFull") &&
              tl_get_int(full, "requests_pending", &pend, NULL) == DM_OK && pend == BULK + 2,
          "channels.getFullChannel: requests_pending %d", pend);
    json_decref(r);

    r = rpc_ok(c,
               json_pack("{s:s,s:o,s:{s:s}}", "_", "channels.getParticipant", "channel",
                         input_channel(w, "inputChannel"), "participant", "_", "inputPeerSelf"),
               "channels.channelParticipant");
    const json_t *part = json_object_get(r, "participant");
    CHECK(tl_is(part, "channelParticipantAdmin") &&
              tl_get_obj(part, "admin_rights", &rights, NULL) == DM_OK &&
              json_is_true(json_object_get(rights, "invite_users")) &&
              json_is_true(json_object_get(part, "self")),
          "channels.getParticipant(self): admin with invite_users");
    json_decref(r);
    report("users.getUsers, contacts.resolveUsername, "
           "channels.getChannels/getFullChannel/getParticipant",
           f0);
}

/* Pages through every pending request, 100 at a time, by (offset_date, offset_user): each user
 * once, newest first, and count right. *hashes gets user id -> access_hash. */
static void test_paging(struct mt_client *c, const struct mworld *w, json_t *hashes)
{
    int f0 = t_failures;
    int64_t date = 0, user = 0, hash = 0, last_date = INT64_MAX, last_user = INT64_MAX;
    size_t seen = 0, pages = 0;
    bool ordered = true, counts = true;
    json_t *ids = json_object();
    for (;;) {
        json_t *r = rpc_ok(c, importers(w, date, user, hash, 100), "messages.chatInviteImporters");
        json_t *imp = json_object_get(r, "importers"), *users = json_object_get(r, "users"), *v;
        size_t i;
        int32_t count = -1;
        counts &= tl_get_int(r, "count", &count, NULL) == DM_OK && count == BULK + 2;
        json_array_foreach(users, i, v)
        {
            char k[32];
            snprintf(k, sizeof k, "%" JSON_INTEGER_FORMAT, jint(v, "id"));
            json_object_set_new(hashes, k, json_integer(jint(v, "access_hash")));
        }
        json_array_foreach(imp, i, v)
        {
            date = jint(v, "date");
            user = jint(v, "user_id");
            ordered &= date < last_date || (date == last_date && user < last_user);
            last_date = date, last_user = user;
            char k[32];
            snprintf(k, sizeof k, "%" PRId64, user);
            if (json_object_get(ids, k)) ordered = false; /* seen twice */
            json_object_set_new(ids, k, json_true());
            hash = json_integer_value(json_object_get(hashes, k));
            seen++;
        }
        pages++;
        bool last = !r || json_array_size(imp) == 0;
        json_decref(r);
        if (last || pages > 10) break;
    }
    char k[32];
    snprintf(k, sizeof k, "%" JSON_INTEGER_FORMAT, w->ann);
    CHECK(seen == BULK + 2 && json_object_size(ids) == BULK + 2 && json_object_get(ids, k),
          "every request seen once (%zu, %zu distinct)", seen, json_object_size(ids));
    CHECK(ordered, "newest first, ties by user id, no repeats");
    CHECK(counts, "count is %d on every page", BULK + 2);
    CHECK(pages == 4, "3 full pages and an empty one (%zu)", pages);
    json_decref(ids);
    report("getChatInviteImporters: 252 requests paged by offset_date/offset_user", f0);
}

static int64_t hash_of(json_t *hashes, json_int_t user)
{
    char k[32];
    snprintf(k, sizeof k, "%" JSON_INTEGER_FORMAT, user);
    return json_integer_value(json_object_get(hashes, k));
}

/* hideChatJoinRequest: approve, decline, again, a member; as the user and as a bot session
 * (bot_view: the channel with the bot's access hash), which must name the user with its own. */
static void test_hide(struct mt_client *c, struct mt_client *bot, const struct mworld *w,
                      const struct mworld *bot_view, json_t *hashes)
{
    int f0 = t_failures;
    json_int_t first_bulk = w->first_bulk;
    json_decref(rpc_ok(c, hide(w, w->ann, hash_of(hashes, w->ann), true), "updates"));
    CHECK(decided(w, w->ann, "approved", w->admin), "approved by the admin, once");
    CHECK(rpc_fails(c, hide(w, w->ann, hash_of(hashes, w->ann), true), "HIDE_REQUESTER_MISSING",
                    NULL),
          "approving again: HIDE_REQUESTER_MISSING");
    json_decref(rpc_ok(c, hide(w, first_bulk, hash_of(hashes, first_bulk), false), "updates"));
    CHECK(decided(w, first_bulk, "declined", w->admin), "declined by the admin, once");
    CHECK(rpc_fails(c, hide(w, first_bulk, hash_of(hashes, first_bulk), false),
                    "HIDE_REQUESTER_MISSING", NULL),
          "declining again: HIDE_REQUESTER_MISSING");
    CHECK(rpc_fails(c, hide(w, w->member, hash_of(hashes, w->member), true),
                    "USER_ALREADY_PARTICIPANT", NULL),
          "a member's request: USER_ALREADY_PARTICIPANT");
    json_t *rec = jr_record(w, w->member);
    CHECK(rec && !strcmp(json_string_value(json_object_get(rec, "status")) ?: "", "pending"),
          "the member's request stays pending");
    json_decref(rec);
    /* the bot's session decides one as the bot, with the user's hash as the bot was given it */
    json_int_t u = first_bulk + 1;
    CHECK(rpc_fails(bot, hide(bot_view, u, hash_of(hashes, u), true), "USER_ID_INVALID", NULL),
          "the admin's hash of the user sent by the bot: USER_ID_INVALID");
    json_t *bot_hashes = json_object();
    json_t *r = rpc_ok(bot, importers(bot_view, 1700000001, 0, 0, 100), /* the first batch */
                       "messages.chatInviteImporters");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(r, "users"), i, v)
    {
        char k[32];
        snprintf(k, sizeof k, "%" JSON_INTEGER_FORMAT, jint(v, "id"));
        json_object_set_new(bot_hashes, k, json_integer(jint(v, "access_hash")));
    }
    json_decref(r);
    CHECK(hash_of(bot_hashes, u) && hash_of(bot_hashes, u) != hash_of(hashes, u),
          "the bot was given its own hash of the user");
    json_decref(rpc_ok(bot, hide(bot_view, u, hash_of(bot_hashes, u), true), "updates"));
    json_decref(bot_hashes);
    CHECK(decided(w, first_bulk + 1, "approved", w->bot_id), "approved by the bot session, once");
    report("hideChatJoinRequest: approve, decline, HIDE_REQUESTER_MISSING, "
           "USER_ALREADY_PARTICIPANT, bot",
           f0);
}

/* An admin without invite_users: CHAT_ADMIN_REQUIRED everywhere it matters. It names the channel
 * and a requester (Ann, still pending) by the hashes it finds by their usernames. */
static void test_no_invite(struct mt_client *c, const struct mworld *mine)
{
    int f0 = t_failures;
    struct mworld own = *mine, *w = &own;
    int64_t ann_hash = 0;
    json_t *r = rpc_ok(
        c, json_pack("{s:s,s:s}", "_", "contacts.resolveUsername", "username", "mt_chan"), NULL);
    w->access_hash = jint(json_array_get(json_object_get(r, "chats"), 0), "access_hash");
    json_decref(r);
    r = rpc_ok(c, json_pack("{s:s,s:s}", "_", "contacts.resolveUsername", "username", "mt_ann"),
               NULL);
    ann_hash = jint(json_array_get(json_object_get(r, "users"), 0), "access_hash");
    json_decref(r);
    CHECK(w->access_hash != mine->access_hash, "its own hash of the channel");
    r = rpc_ok(c,
               json_pack("{s:s,s:o,s:{s:s}}", "_", "channels.getParticipant", "channel",
                         input_channel(w, "inputChannel"), "participant", "_", "inputPeerSelf"),
               "channels.channelParticipant");
    const json_t *part = json_object_get(r, "participant"), *rights = NULL;
    CHECK(tl_is(part, "channelParticipantAdmin") &&
              tl_get_obj(part, "admin_rights", &rights, NULL) == DM_OK &&
              !json_is_true(json_object_get(rights, "invite_users")),
          "channels.getParticipant(self): admin without invite_users");
    json_decref(r);
    CHECK(rpc_fails(c, importers(w, 0, 0, 0, 100), "CHAT_ADMIN_REQUIRED", NULL),
          "getChatInviteImporters");
    json_int_t u = w->ann;
    CHECK(rpc_fails(c, hide(w, u, ann_hash, true), "CHAT_ADMIN_REQUIRED", NULL),
          "hideChatJoinRequest");
    CHECK(rpc_fails(c,
                    json_pack("{s:s,s:b,s:o}", "_", "messages.hideAllChatJoinRequests", "approved",
                              1, "peer", input_channel(w, "inputPeerChannel")),
                    "CHAT_ADMIN_REQUIRED", NULL),
          "hideAllChatJoinRequests");
    json_t *rec = jr_record(w, u);
    CHECK(rec && !strcmp(json_string_value(json_object_get(rec, "status")) ?: "", "pending"),
          "nothing decided");
    json_decref(rec);
    report("admin without invite_users: CHAT_ADMIN_REQUIRED", f0);
}

/* hideAllChatJoinRequests approves every pending request but the member's. */
static void test_hide_all(struct mt_client *c, const struct mworld *w)
{
    int f0 = t_failures;
    json_decref(rpc_ok(c,
                       json_pack("{s:s,s:b,s:o}", "_", "messages.hideAllChatJoinRequests",
                                 "approved", 1, "peer", input_channel(w, "inputPeerChannel")),
                       "updates"));
    char q[128];
    snprintf(q, sizeof q, "join-requests?chat_id=%" JSON_INTEGER_FORMAT, w->chat);
    json_t *j = control(q, NULL), *counts = json_object_get(j, "counts"), *v;
    CHECK(jint(counts, "pending") == 1 && jint(counts, "approved") == BULK &&
              jint(counts, "declined") == 1 && jint(counts, "decided_more_than_once") == 0,
          "counts after hideAll: %" JSON_INTEGER_FORMAT " pending, %" JSON_INTEGER_FORMAT
          " approved",
          jint(counts, "pending"), jint(counts, "approved"));
    size_t i, by_admin = 0;
    json_array_foreach(json_object_get(j, "items"), i, v) by_admin +=
        !strcmp(json_string_value(json_object_get(v, "status")) ?: "", "approved") &&
        jint(v, "decided_by") == w->admin;
    CHECK(by_admin == BULK - 1, "%zu approved by the admin (all but the bot's)", by_admin);
    json_decref(j);
    json_t *r = rpc_ok(c, importers(w, 0, 0, 0, 100), "messages.chatInviteImporters");
    CHECK(jint(r, "count") == 1 && json_array_size(json_object_get(r, "importers")) == 1,
          "one request left: the member's");
    json_decref(r);
    report("hideAllChatJoinRequests: all approved but a member's", f0);
}

/* FLOOD_WAIT_X on demand and from the configured limit. */
static void test_flood(struct mt_client *c, const struct mworld *w)
{
    int f0 = t_failures;
    char path[96];
    snprintf(path, sizeof path, "accounts/%" JSON_INTEGER_FORMAT "/flood", w->admin);
    json_decref(control(path, "{\"wait\":17,\"count\":2}"));
    struct mt_rpc_error rpc = {0};
    for (int i = 0; i < 2; i++)
        CHECK(rpc_fails(c, get_self(), "FLOOD_WAIT", &rpc) && rpc.value == 17 && rpc.code == 420,
              "injected FLOOD_WAIT_17 (%s)", rpc.message);
    CHECK(self_id(c) == w->admin, "the third call goes through");
    json_decref(control(path, "{\"flood_limit\":5}"));
    int ok = 0;
    for (int i = 0; i < 5; i++)
        ok += self_id(c) == w->admin;
    CHECK(ok == 5, "5 calls within the limit of 5 a minute (%d)", ok);
    CHECK(rpc_fails(c, get_self(), "FLOOD_WAIT", &rpc) && rpc.value >= 1 && rpc.value <= 61,
          "the 6th: FLOOD_WAIT_%" PRId64, rpc.value);
    json_decref(control(path, "{\"flood_limit\":0}"));
    CHECK(self_id(c) == w->admin, "no limit again");
    report("FLOOD_WAIT_X: injected, and from the configured limit", f0);
}

/* auth.logOut; revocation through the control API with both errors. */
static void test_logout_revoke(struct mt_client *adm, struct mt_client *noinv,
                               const struct mworld *w)
{
    int f0 = t_failures;
    json_decref(rpc_ok(noinv, json_pack("{s:s}", "_", "auth.logOut"), "auth.loggedOut"));
    CHECK(rpc_fails(noinv, get_self(), "AUTH_KEY_UNREGISTERED", NULL), "after auth.logOut");
    CHECK(log_in(noinv, "15550011", NULL) && self_id(noinv) == w->noinv,
          "logged in again on the same key");
    char path[96];
    snprintf(path, sizeof path, "accounts/%" JSON_INTEGER_FORMAT "/revoke", w->noinv);
    json_decref(control(path, "{}"));
    CHECK(rpc_fails(noinv, get_self(), "AUTH_KEY_UNREGISTERED", NULL), "revoked (default error)");
    CHECK(rpc_fails(noinv, get_self(), "AUTH_KEY_UNREGISTERED", NULL), "and logged out");
    snprintf(path, sizeof path, "accounts/%" JSON_INTEGER_FORMAT "/revoke", w->admin);
    json_decref(control(path, "{\"error\":\"SESSION_REVOKED\"}"));
    CHECK(rpc_fails(adm, get_self(), "SESSION_REVOKED", NULL), "revoked with SESSION_REVOKED");
    CHECK(rpc_fails(adm, get_self(), "AUTH_KEY_UNREGISTERED", NULL), "then AUTH_KEY_UNREGISTERED");
    report("auth.logOut, revocation: AUTH_KEY_UNREGISTERED, SESSION_REVOKED", f0);
}

static void *busy_main(void *body)
{
    json_decref(control("join-requests", body));
    return NULL;
}

/* One authorized key: a client that reconnects (its old socket closed a moment before) keeps it;
 * two live connections at once get AUTH_KEY_DUPLICATED, both of them, for good. */
static void test_duplicated(const struct mt_config *cfg, struct mt_client **bot,
                            const struct mworld *w)
{
    int f0 = t_failures;
    struct mt_auth auth;
    struct dm_error e = {0};
    CHECK(mt_client_auth_key(*bot, 1000, &auth, &e) == DM_OK, "the bot's key");
    int fine = 0;
    for (int i = 0; i < 20;
         i++) { /* closed and reconnected at once, before tgsim's thread notices */
        mt_client_free(*bot);
        *bot = new_client(cfg, &auth);
        fine += self_id(*bot) == w->bot_id;
    }
    CHECK(fine == 20, "20 reconnects with the key, none punished (%d)", fine);
    /* the same while tgsim holds its world lock for a big control request: the old connection's
     * thread (which saw the close) and the new one's wait for the lock together, in either order */
    json_t *busy = control("channels", "{\"title\":\"busy\"}");
    char body[128];
    snprintf(body, sizeof body, "{\"chat_id\":%" JSON_INTEGER_FORMAT ",\"count\":100000}",
             jint(busy, "id"));
    json_decref(busy);
    fine = 0;
    for (int i = 0; i < 5; i++) {
        pthread_t th;
        pthread_create(&th, NULL, busy_main, body);
        usleep(20 * 1000); /* let it take the lock (the check below holds either way) */
        mt_client_free(*bot);
        *bot = new_client(cfg, &auth);
        fine += self_id(*bot) == w->bot_id;
        pthread_join(th, NULL);
    }
    CHECK(fine == 5, "5 reconnects while tgsim is busy, none punished (%d)", fine);
    /* the freeze case: tgsim stopped, the client drops the silent connection and dials again;
     * when tgsim thaws it sees the new connection while the old one is not read yet */
    struct mt_config quick = *cfg;
    quick.ping_interval_ms = 1000;
    mt_client_free(*bot);
    *bot = new_client(&quick, &auth);
    CHECK(self_id(*bot) == w->bot_id, "a client with 1 s pings");
    struct mt_client_stats st, st2;
    mt_client_stats(*bot, &st);
    kill(server_pid, SIGSTOP);
    usleep(2500 * 1000);
    kill(server_pid, SIGCONT);
    CHECK(self_id(*bot) == w->bot_id, "after a freeze the reconnected client is not punished");
    mt_client_stats(*bot, &st2);
    CHECK(st2.connections > st.connections, "it did reconnect (%" PRIu64 " connections)",
          st2.connections);

    struct mt_client *twin = new_client(cfg, &auth);
    dm_err rc;
    struct mt_rpc_error rpc = {0};
    json_t *r = callj(twin, get_self(), &rc, &rpc, &e);
    json_decref(r);
    CHECK(rc == DM_ETELEGRAM && (mt_rpc_error_is(&rpc, "AUTH_KEY_DUPLICATED") ||
                                 strstr(e.msg, "AUTH_KEY_DUPLICATED")),
          "the second connection: %s", e.msg);
    CHECK(rpc_fails(*bot, get_self(), "AUTH_KEY_DUPLICATED", &rpc) && rpc.code == 406,
          "the first connection too: %s", rpc.message);
    mt_client_free(twin);
    mt_client_free(*bot);
    *bot = new_client(cfg, &auth);
    json_decref(callj(*bot, get_self(), &rc, &rpc, &e));
    CHECK(rc == DM_ETELEGRAM && (mt_rpc_error_is(&rpc, "AUTH_KEY_DUPLICATED") ||
                                 strstr(e.msg, "AUTH_KEY_DUPLICATED")),
          "the key is dead for good: %s", e.msg);
    report("AUTH_KEY_DUPLICATED: reconnects tolerated, two live connections refused", f0);
}

/* The access hash in the first chat of a messages.chats answer to channels.getChannels. */
static int64_t channels_hash(struct mt_client *c, const struct mworld *w)
{
    json_t *r = rpc_ok(c,
                       json_pack("{s:s,s:[o]}", "_", "channels.getChannels", "id",
                                 input_channel(w, "inputChannel")),
                       "messages.chats");
    int64_t h = jint(json_array_get(json_object_get(r, "chats"), 0), "access_hash");
    json_decref(r);
    return h;
}

/* Access hashes as Telegram checks them: a wrong or zero one names no channel (CHANNEL_INVALID,
 * PEER_ID_INVALID for an InputPeer), except 0 from a bot in the channel to channels.getChannels;
 * an account finds a channel's hash among its dialogs; a bot may not list dialogs. Each account
 * has its own hashes: another account's is refused as a wrong one, while every auth key of one
 * account gets the same. *bot_view is w as the bot sees the channel (its own access hash). */
static void test_access_hashes(const struct mt_config *cfg, struct mt_client *adm,
                               struct mt_client *bot, const struct mworld *w,
                               struct mworld *bot_view)
{
    int f0 = t_failures;
    struct mworld zero = *w;
    zero.access_hash = 0;
    CHECK(rpc_fails(adm,
                    json_pack("{s:s,s:[o]}", "_", "channels.getChannels", "id",
                              input_channel(&zero, "inputChannel")),
                    "CHANNEL_INVALID", NULL),
          "access hash 0 from a user account");
    CHECK(rpc_fails(adm, importers(&zero, 0, 0, 0, 10), "PEER_ID_INVALID", NULL),
          "an InputPeer with access hash 0");
    json_t *r = rpc_ok(adm,
                       json_pack("{s:s,s:i,s:i,s:{s:s},s:i,s:I}", "_", "messages.getDialogs",
                                 "offset_date", 0, "offset_id", 0, "offset_peer", "_",
                                 "inputPeerEmpty", "limit", 100, "hash", (json_int_t)0),
                       NULL);
    const json_t *chats = json_object_get(r, "chats"), *v, *ch = NULL;
    size_t i;
    json_array_foreach(chats, i, v) if (jint(v, "id") == w->channel_id) ch = v;
    CHECK(ch && jint(ch, "access_hash") == w->access_hash &&
              json_array_size(json_object_get(r, "dialogs")) == json_array_size(chats),
          "messages.getDialogs: the channel with its access hash, one dialog a chat");
    json_decref(r);
    *bot_view = *w;
    bot_view->access_hash = channels_hash(bot, &zero);
    CHECK(bot_view->access_hash && bot_view->access_hash != w->access_hash,
          "a bot in the channel: access hash 0 to channels.getChannels gives the bot's own");
    CHECK(channels_hash(bot, bot_view) == bot_view->access_hash, "which the bot may use");
    CHECK(rpc_fails(bot, importers(&zero, 0, 0, 0, 10), "PEER_ID_INVALID", NULL),
          "but 0 nowhere else");
    CHECK(rpc_fails(bot,
                    json_pack("{s:s,s:i,s:i,s:{s:s},s:i,s:I}", "_", "messages.getDialogs",
                              "offset_date", 0, "offset_id", 0, "offset_peer", "_",
                              "inputPeerEmpty", "limit", 100, "hash", (json_int_t)0),
                    "BOT_METHOD_INVALID", NULL),
          "a bot lists no dialogs");
    CHECK(rpc_fails(bot,
                    json_pack("{s:s,s:[o]}", "_", "channels.getChannels", "id",
                              input_channel(w, "inputChannel")),
                    "CHANNEL_INVALID", NULL) &&
              rpc_fails(bot, importers(w, 0, 0, 0, 10), "PEER_ID_INVALID", NULL),
          "the admin's hash sent by the bot: CHANNEL_INVALID, PEER_ID_INVALID");
    CHECK(rpc_fails(adm, importers(bot_view, 0, 0, 0, 10), "PEER_ID_INVALID", NULL),
          "the bot's hash sent by the admin: PEER_ID_INVALID");
    /* the same account on a second auth key: the same hashes */
    struct mt_client *again = new_client(cfg, NULL);
    CHECK(log_in(again, "15550010", "pw-adm"), "the admin logs in on a second key");
    CHECK(channels_hash(again, w) == w->access_hash, "the second key is given the same hash");
    mt_client_free(again);
    report("access hashes: wrong, 0 or another account's refused, the same on every key of an "
           "account, found among dialogs, 0 from a bot to getChannels",
           f0);
}

static void test_methods(const struct mt_config *cfg)
{
    api_id_g = cfg->api_id;
    struct mworld w = {0};
    make_world(&w);
    struct mt_client *adm = new_client(cfg, NULL), *noinv = new_client(cfg, NULL),
                     *bot = new_client(cfg, NULL);
    test_login_errors(adm);
    test_lookups(adm, &w);

    int f0 = t_failures;
    CHECK(rpc_fails(bot,
                    json_pack("{s:s,s:i,s:i,s:s,s:s}", "_", "auth.importBotAuthorization", "flags",
                              0, "api_id", cfg->api_id, "api_hash", API_HASH, "bot_auth_token",
                              "123:not-a-token"),
                    "ACCESS_TOKEN_INVALID", NULL),
          "an unknown bot token");
    json_t *a = rpc_ok(bot,
                       json_pack("{s:s,s:i,s:i,s:s,s:s}", "_", "auth.importBotAuthorization",
                                 "flags", 0, "api_id", cfg->api_id, "api_hash", API_HASH,
                                 "bot_auth_token", w.bot_token),
                       "auth.authorization");
    const json_t *bu = json_object_get(a, "user");
    CHECK(bu && jint(bu, "id") == w.bot_id && json_is_true(json_object_get(bu, "bot")),
          "auth.importBotAuthorization: the bot's user");
    json_decref(a);
    CHECK(self_id(bot) == w.bot_id, "users.getUsers(inputUserSelf) on the bot session");
    report("auth.importBotAuthorization: a bot session from a Bot API token", f0);

    json_t *hashes = json_object();
    struct mworld bot_view;
    test_paging(adm, &w, hashes);
    test_access_hashes(cfg, adm, bot, &w, &bot_view);
    CHECK(log_in(noinv, "15550011", NULL), "the admin without invite_users logs in");
    test_no_invite(noinv, &w);
    test_hide(adm, bot, &w, &bot_view, hashes);
    test_hide_all(adm, &w);
    test_flood(adm, &w);
    test_logout_revoke(adm, noinv, &w);
    /* one key on two live connections: the permanent key's own traffic (with temporary keys
     * each connection has its own, and a second binding replaces the first) */
    struct mt_config plain = *cfg;
    plain.temp_key_s = 0;
    test_duplicated(&plain, &bot, &w);
    json_decref(hashes);
    mt_client_free(adm);
    mt_client_free(noinv);
    mt_client_free(bot);
}

static void run_callers(pthread_t *t, int n, bool start)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256 << 10);
    for (int k = 0; k < n; k++) {
        if (start)
            pthread_create(&t[k], &at, caller, NULL);
        else
            pthread_join(t[k], NULL);
    }
    pthread_attr_destroy(&at);
}

static void *caller(void *arg)
{
    (void)arg;
    json_t *m = json_pack("{s:s}", "_", "help.getConfig"), *r = NULL;
    struct dm_error e = {0};
    if (mt_call(client, m, 60000, &r, NULL, &e) == DM_OK && tl_is(r, "config"))
        ok_calls++;
    else
        fprintf(stderr, "call failed: %s\n", e.msg);
    json_decref(r);
    json_decref(m);
    return NULL;
}

int main(int argc, char **argv)
{
    int32_t api_id = 1;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--api-id") == 0 && i + 1 < argc)
            api_id = (int32_t)strtol(argv[++i], NULL, 10);
    if (i + 1 >= argc) {
        printf("mtproto tgsim: no server command given, skipped\n");
        return 77;
    }
    char dir[] = "/tmp/mt_tgsim_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char pem[256];
    snprintf(pem, sizeof pem, "%s/dc.pem", dir);
    int ports[5] = {0, free_port(), free_port(), free_port(), free_port()};
    server_argv = calloc((size_t)(argc - i), sizeof *server_argv);
    for (int k = i + 1; k < argc; k++)
        server_argv[k - i - 1] = substitute(argv[k], pem, ports);
    control_port = ports[4];
    if (!server_start(pem, ports[2])) {
        fprintf(stderr, "the server did not start (or wrote no %s)\n", pem);
        return 1;
    }

    struct mt_config cfg;
    mt_config_init(&cfg);
    for (int d = 1; d <= 3; d++)
        mt_config_set_dc(&cfg, d, "127.0.0.1", ports[d], NULL);
    cfg.dc_id = 2;
    cfg.api_id = api_id;
    dm_strlcpy(cfg.rsa_pem_path, pem, sizeof cfg.rsa_pem_path);
    cfg.ping_interval_ms = 1000;
    cfg.backoff_min_ms = 50;
    cfg.backoff_max_ms = 500;
    struct dm_error e = {0};

    int f0 = t_failures;
    /* handshake, initConnection, help.getConfig */
    CHECK(mt_client_new(&cfg, NULL, &client, &e) == DM_OK, "client: %s", e.msg);
    json_t *m = json_pack("{s:s}", "_", "help.getConfig"), *r = NULL;
    CHECK(mt_call(client, m, 20000, &r, NULL, &e) == DM_OK && tl_is(r, "config"),
          "help.getConfig: %s", e.msg);
    int32_t this_dc = 0;
    CHECK(r && tl_get_int(r, "this_dc", &this_dc, NULL) == DM_OK && this_dc == 2,
          "Config.this_dc is 2 (%d)", this_dc);
    json_decref(r);
    struct mt_auth auth;
    CHECK(mt_client_auth_key(client, 1000, &auth, &e) == DM_OK, "a key was made");
    report("handshake, initConnection, help.getConfig", f0);

    /* an rpc_error: users.getUsers(inputUserSelf) before any login */
    json_t *gu = json_pack("{s:s,s:[{s:s}]}", "_", "users.getUsers", "id", "_", "inputUserSelf");
    struct mt_rpc_error rpc = {0};
    CHECK(mt_call(client, gu, 20000, NULL, &rpc, &e) == DM_ETELEGRAM && rpc.code == 401,
          "users.getUsers unauthorized: %s", e.msg);
    printf("rpc_error: %s (%d), name %s\n", rpc.message, rpc.code, rpc.name);
    f0 = t_failures;

    /* pings keep an idle connection: 3 ping periods pass without a reconnect */
    struct mt_client_stats st, st2;
    mt_client_stats(client, &st);
    usleep(3 * 1000 * 1000);
    mt_client_stats(client, &st2);
    CHECK(st2.ready && st2.connections == st.connections, "idle connection kept by pings");
    report("pings keep an idle connection", f0);
    f0 = t_failures;

    /* 1,000 calls in flight */
    pthread_t *t = calloc(MANY, sizeof *t);
    run_callers(t, MANY, true);
    run_callers(t, MANY, false);
    mt_client_stats(client, &st2);
    CHECK(ok_calls == MANY && st2.connections == st.connections,
          "%d of %d calls answered on one connection", (int)ok_calls, MANY);
    report("1,000 calls in flight on one connection", f0);
    f0 = t_failures;

    /* a frozen server: calls wait, the silent connection is dropped, and once the server thaws the
     * client is connected again and the calls are sent again and answered */
    kill(server_pid, SIGSTOP);
    ok_calls = 0;
    run_callers(t, 50, true);
    /* the client notices the silence (1.5 ping periods) and drops the connection: waited for,
     * not slept on, so a loaded machine only makes it later */
    bool dropped = false;
    for (int tick = 0; tick < 300 && !dropped; tick++) {
        usleep(100 * 1000);
        mt_client_stats(client, &st2);
        dropped = !st2.ready;
    }
    CHECK(dropped, "the silent connection was dropped within 30 s");
    kill(server_pid, SIGCONT);
    run_callers(t, 50, false);
    mt_client_stats(client, &st2);
    CHECK(ok_calls == 50 && st2.connections > st.connections && st2.resent > 0,
          "after a freeze: %d of 50 answered, %" PRIu64 " connections, %" PRIu64
          " calls sent again",
          (int)ok_calls, st2.connections, st2.resent);
    report("dead connection detected, reconnect, calls sent again", f0);
    f0 = t_failures;

    /* kill the server and start it again: clients with the old key learn that the new server
     * does not know it (without temporary keys: -404 on it; with them: the binding refused); a
     * new client makes one */
    struct mt_auth old;
    CHECK(mt_client_auth_key(client, 1000, &old, &e) == DM_OK, "the key: %s", e.msg);
    mt_client_free(client);
    server_kill();
    CHECK(server_start(pem, ports[2]), "server restarted");
    /* the keepalive checks are done: from here on the default ping period, so that a slow SRP
     * in a debug build of tgsim does not look like a dead connection */
    cfg.ping_interval_ms = 60000;
    struct mt_config plain = cfg;
    plain.temp_key_s = 0;
    const struct {
        const struct mt_config *cfg;
        const char *says;
    } olds[] = {{&plain, "-404"}, {&cfg, "auth.bindTempAuthKey: ENCRYPTED_MESSAGE_INVALID"}};
    for (size_t k = 0; k < DM_ARRAY_LEN(olds); k++) {
        CHECK(mt_client_new(olds[k].cfg, &old, &client, &e) == DM_OK, "a client with the old key");
        r = NULL;
        dm_err rc = mt_call(client, m, 20000, &r, &rpc, &e);
        CHECK(rc == DM_EAUTH && strstr(e.msg, olds[k].says), "the old key after the restart: %s",
              e.msg);
        json_decref(r);
        mt_client_free(client);
    }
    CHECK(mt_client_new(&cfg, NULL, &client, &e) == DM_OK, "a new client");
    r = NULL;
    CHECK(mt_call(client, m, 20000, &r, NULL, &e) == DM_OK && tl_is(r, "config"),
          "new key after the restart: %s", e.msg);
    json_decref(r);
    report("restarted server: the old key is reported unknown, a new key works", f0);
    f0 = t_failures;

    /* two clients on one key with temporary keys: the second binding replaces the first, so the
     * first client's next call meets AUTH_KEY_PERM_EMPTY; it binds a new key and the call goes
     * again (not logged in: AUTH_KEY_UNREGISTERED, which needs a bound key to be said) */
    struct mt_auth mine;
    CHECK(mt_client_auth_key(client, 1000, &mine, &e) == DM_OK, "the new key");
    struct mt_rpc_error rpc2;
    CHECK(rpc_fails(client, get_self(), "AUTH_KEY_UNREGISTERED", NULL), "the first client, bound");
    json_t *st0 = control("stats", NULL);
    struct mt_client *twin = new_client(&cfg, &mine);
    CHECK(rpc_fails(twin, get_self(), "AUTH_KEY_UNREGISTERED", &rpc2), "the second one binds");
    CHECK(rpc_fails(client, get_self(), "AUTH_KEY_UNREGISTERED", &rpc2),
          "the first one again: bound anew, not AUTH_KEY_PERM_EMPTY (%s)", rpc2.message);
    json_t *st1 = control("stats", NULL);
    json_t *m0 = json_object_get(st0, "mtproto"), *m1 = json_object_get(st1, "mtproto");
    CHECK(jint(m1, "perm_empty") == jint(m0, "perm_empty") + 1 &&
              jint(m1, "temp_binds") == jint(m0, "temp_binds") + 2,
          "one call refused on the replaced key, two bindings");
    json_decref(st0);
    json_decref(st1);
    mt_client_free(twin);
    report("a replaced binding: the client binds a new temporary key and sends the call again", f0);

    test_login(&cfg);
    test_methods(&cfg);

    mt_client_free(client);
    json_decref(m);
    json_decref(gu);
    /* SIGTERM: tgsim closes every connection and frees everything; exit status 0 (under ASan this
     * includes the leak check) */
    int status = -1;
    kill(server_pid, SIGTERM);
    waitpid(server_pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tgsim stopped cleanly (status %d)",
          status);
    unlink(pem);
    rmdir(dir);
    free(t);
    return t_done("mtproto tgsim");
}
