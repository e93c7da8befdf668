/* The client against tgsim's data centres: a server we did not write in the same breath.
 *
 * usage: unit_mtproto_tgsim [--api-id N] -- TGSIM-COMMAND ARGS...
 *
 * The driver picks free loopback ports for DCs 1..3 and a PEM path, substitutes them for
 * {port1} {port2} {port3} and {pem} in the command's arguments, starts it, waits until the PEM
 * file exists and DC 2 accepts connections, and checks: a handshake (new key), initConnection and
 * help.getConfig decoded as Config, an rpc_error path (users.getUsers on an unauthorized key),
 * pings keeping an idle connection, 1,000 calls in flight on one connection, a frozen server
 * (SIGSTOP: the silent connection is dropped, the client reconnects and sends the calls again
 * once it thaws), and a server killed (SIGKILL) and started again: tgsim keeps its world in
 * memory, so the restarted DC does not know the key and answers -404, which the client reports
 * as DM_EAUTH (as Telethon's AuthKeyNotFound), while a new client makes a key and works.
 * Without a command it exits 77 (skip). */
#include "core/common.h"

#include "mtproto/client.h"
#include "mtproto/tl_codec.h"
#include "testutil.h"

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
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &al)) abort();
    close(fd);
    return ntohs(a.sin_port);
}

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
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
static char *substitute(const char *arg, const char *pem, const int ports[4])
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
        } else {
            buf_append(&b, p++, 1);
        }
    }
    return buf_detach(&b, NULL);
}

static struct mt_client *client;
static atomic_int ok_calls;
static void *caller(void *arg);

static void report(const char *what, int failures_before)
{
    printf("%s: %s\n", what, t_failures == failures_before ? "ok" : "FAILED");
}

static void run_callers(pthread_t *t, int n, bool start)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256 << 10);
    for (int k = 0; k < n; k++) {
        if (start) pthread_create(&t[k], &at, caller, NULL);
        else pthread_join(t[k], NULL);
    }
    pthread_attr_destroy(&at);
}

static void *caller(void *arg)
{
    (void)arg;
    json_t *m = json_pack("{s:s}", "_", "help.getConfig"), *r = NULL;
    struct dm_error e = {0};
    if (mt_call(client, m, 60000, &r, NULL, &e) == DM_OK && tl_is(r, "config")) ok_calls++;
    else fprintf(stderr, "call failed: %s\n", e.msg);
    json_decref(r);
    json_decref(m);
    return NULL;
}

int main(int argc, char **argv)
{
    int32_t api_id = 1;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--api-id") == 0 && i + 1 < argc) api_id = (int32_t)strtol(argv[++i], NULL, 10);
    if (i + 1 >= argc) {
        printf("mtproto tgsim: no server command given, skipped\n");
        return 77;
    }
    char dir[] = "/tmp/mt_tgsim_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char pem[256];
    snprintf(pem, sizeof pem, "%s/dc.pem", dir);
    int ports[4] = {0, free_port(), free_port(), free_port()};
    server_argv = calloc((size_t)(argc - i), sizeof *server_argv);
    for (int k = i + 1; k < argc; k++) server_argv[k - i - 1] = substitute(argv[k], pem, ports);
    if (!server_start(pem, ports[2])) {
        fprintf(stderr, "the server did not start (or wrote no %s)\n", pem);
        return 1;
    }

    struct mt_config cfg;
    mt_config_init(&cfg);
    for (int d = 1; d <= 3; d++) mt_config_set_dc(&cfg, d, "127.0.0.1", ports[d], NULL);
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
    CHECK(mt_call(client, m, 20000, &r, NULL, &e) == DM_OK && tl_is(r, "config"), "help.getConfig: %s", e.msg);
    int32_t this_dc = 0;
    CHECK(r && tl_get_int(r, "this_dc", &this_dc, NULL) == DM_OK && this_dc == 2, "Config.this_dc is 2 (%d)", this_dc);
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
    CHECK(ok_calls == MANY && st2.connections == st.connections, "%d of %d calls answered on one connection",
          (int)ok_calls, MANY);
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
    CHECK(ok_calls == 50 && st2.connections > st.connections && st2.resent >= 50,
          "after a freeze: %d of 50 answered, %" PRIu64 " connections, %" PRIu64 " calls sent again", (int)ok_calls,
          st2.connections, st2.resent);
    report("dead connection detected, reconnect, calls sent again", f0);
    f0 = t_failures;

    /* kill the server and start it again: the client reconnects by itself and learns that the new
     * server does not know its key; a new client makes one */
    server_kill();
    CHECK(server_start(pem, ports[2]), "server restarted");
    r = NULL;
    dm_err rc = mt_call(client, m, 20000, &r, &rpc, &e);
    CHECK(rc == DM_EAUTH && strstr(e.msg, "-404"), "the old key after the restart: %s", e.msg);
    json_decref(r);
    mt_client_free(client);
    CHECK(mt_client_new(&cfg, NULL, &client, &e) == DM_OK, "a new client");
    r = NULL;
    CHECK(mt_call(client, m, 20000, &r, NULL, &e) == DM_OK && tl_is(r, "config"), "new key after the restart: %s",
          e.msg);
    json_decref(r);
    report("restarted server: the old key is reported unknown, a new key works", f0);

    mt_client_free(client);
    json_decref(m);
    json_decref(gu);
    server_kill();
    unlink(pem);
    rmdir(dir);
    free(t);
    return t_done("mtproto tgsim");
}
