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
 * Last, a login that migrates: an account homed on DC 3 with a 2FA password (made through the
 * control API on {control}), auth.sendCode on DC 2 answers PHONE_MIGRATE_3, a client for DC 3 gets
 * the code (read from the control API), auth.signIn answers SESSION_PASSWORD_NEEDED,
 * account.getPassword + SRP + auth.checkPassword log in, and users.getUsers(inputUserSelf) returns
 * the account. Without a command it exits 77 (skip). */
#include "core/common.h"

#include "mtproto/client.h"
#include "mtproto/tl_codec.h"
#include "testutil.h"

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

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    return buf_append(ctx, p, size * n) ? 0 : size * n;
}

/* A control API call (body: JSON for a POST, NULL for a GET); the answer as JSON, or NULL. */
static json_t *control(const char *path, const char *body)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/control/%s", control_port, path);
    CURL *h = curl_easy_init();
    struct buf out;
    buf_init(&out, 1 << 20);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    if (body) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    long status = 0;
    json_t *j = NULL;
    if (curl_easy_perform(h) == CURLE_OK &&
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200)
        j = json_loadb(out.data ? out.data : "", out.len, 0, NULL);
    else
        fprintf(stderr, "control %s: HTTP %ld %s\n", path, status, out.data ? out.data : "");
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    buf_release(&out);
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

    json_t *pw = callj(c3, json_pack("{s:s}", "_", "account.getPassword"), &rc, &rpc, &e);
    const json_t *algo = NULL;
    uint8_t salt1[512], salt2[512], p[256], B[256], A[256], M1[32];
    size_t l1 = 0, l2 = 0, lp = 0, lb = 0;
    int32_t g = 0;
    int64_t srp_id = 0;
    CHECK(rc == DM_OK && tl_get_obj(pw, "current_algo", &algo, NULL) == DM_OK &&
              tl_get_bytes(algo, "salt1", salt1, sizeof salt1, &l1, NULL) == DM_OK &&
              tl_get_bytes(algo, "salt2", salt2, sizeof salt2, &l2, NULL) == DM_OK &&
              tl_get_int(algo, "g", &g, NULL) == DM_OK &&
              tl_get_bytes(algo, "p", p, 256, &lp, NULL) == DM_OK &&
              tl_get_bytes(pw, "srp_B", B, 256, &lb, NULL) == DM_OK &&
              tl_get_long(pw, "srp_id", &srp_id, NULL) == DM_OK,
          "account.getPassword: %s", e.msg);
    struct crypto_srp_input in = {salt1, salt2, l1, l2, g, p, B, lb};
    CHECK(lp == 256 &&
              crypto_srp_check(&in, "correct horse", crypto_random, NULL, A, M1, &e) == DM_OK,
          "SRP: %s", e.msg);
    json_decref(pw);
    json_t *auth = callj(c3,
                         json_pack("{s:s,s:{s:s,s:I,s:o,s:o}}", "_", "auth.checkPassword",
                                   "password", "_", "inputCheckPasswordSRP", "srp_id",
                                   (json_int_t)srp_id, "A", tl_hex(A, 256), "M1", tl_hex(M1, 32)),
                         &rc, &rpc, &e);
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
    usleep(4 * 1000 * 1000); /* more than 1.5 ping periods of silence, twice */
    kill(server_pid, SIGCONT);
    run_callers(t, 50, false);
    mt_client_stats(client, &st2);
    CHECK(ok_calls == 50 && st2.connections > st.connections && st2.resent > 0,
          "after a freeze: %d of 50 answered, %" PRIu64 " connections, %" PRIu64
          " calls sent again",
          (int)ok_calls, st2.connections, st2.resent);
    report("dead connection detected, reconnect, calls sent again", f0);
    f0 = t_failures;

    /* kill the server and start it again: the client reconnects by itself and learns that the new
     * server does not know its key; a new client makes one */
    server_kill();
    CHECK(server_start(pem, ports[2]), "server restarted");
    /* the keepalive checks are done: from here on the default ping period, so that a slow SRP
     * in a debug build of tgsim does not look like a dead connection */
    cfg.ping_interval_ms = 60000;
    r = NULL;
    dm_err rc = mt_call(client, m, 20000, &r, &rpc, &e);
    CHECK(rc == DM_EAUTH && strstr(e.msg, "-404"), "the old key after the restart: %s", e.msg);
    json_decref(r);
    mt_client_free(client);
    CHECK(mt_client_new(&cfg, NULL, &client, &e) == DM_OK, "a new client");
    r = NULL;
    CHECK(mt_call(client, m, 20000, &r, NULL, &e) == DM_OK && tl_is(r, "config"),
          "new key after the restart: %s", e.msg);
    json_decref(r);
    report("restarted server: the old key is reported unknown, a new key works", f0);

    test_login(&cfg);

    mt_client_free(client);
    json_decref(m);
    json_decref(gu);
    server_kill();
    unlink(pem);
    rmdir(dir);
    free(t);
    return t_done("mtproto tgsim");
}
