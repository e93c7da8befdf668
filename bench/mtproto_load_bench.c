/* mtproto_load_bench: loading every pending join request of a channel over MTProto, from tgsim
 * with a fixed latency on every call, by our client and by Telethon in the same run.
 *
 * Starts `TGSIM --listen 127.0.0.1:0 --dc-ports 0 --rsa-pem DIR/dc.pem --dc-latency-ms LATENCY`,
 * makes through its control API two accounts (one per client), a channel they administer with
 * invite_users and N pending requests (in batches of 1,000 with distinct dates, so paging uses
 * both offset_date and offset_user). Our client (libdoorman's mt_client) logs in with the code
 * from the control API, resolves the channel and pages messages.getChatInviteImporters 100 at a
 * time by (offset_date, offset_user) until it holds `count` requests: that part is timed. Then
 * TELETHON_SCRIPT (bench/mtproto_load_telethon.py, run with /usr/bin/python3) does the same with
 * the other account. Prints both times, the floor (pages x latency: calls one after another, as
 * paging needs the last page's end), and the ratios.
 *
 * usage: mtproto_load_bench TGSIM TELETHON_SCRIPT [N [LATENCY_MS]]   (defaults 10000 50) */
#include "core/common.h"

#include "core/log.h"
#include "mtproto/client.h"
#include "mtproto/tl_codec.h"
#include "tgsim_control.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define API_HASH "0123456789abcdef0123456789abcdef"
#define PAGE 100

static int control_port;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mtproto_load_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* A control API call (POST with a JSON body, or GET when body is NULL); dies unless it answers 200.
 */
static json_t *control(const char *path, const char *body)
{
    char why[400];
    json_t *j = tgsim_control(control_port, path, body, why, sizeof why);
    if (!j) die("control %s: %s", path, why);
    return j;
}

/* Starts tgsim with its stderr in log; waits for the line of DC 1 and reads the ports. */
static pid_t tgsim_start(const char *bin, const char *pem, const char *log, int latency_ms,
                         int *dc_port)
{
    char lat[16];
    snprintf(lat, sizeof lat, "%d", latency_ms);
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(log, "w", stderr)) _exit(127);
        execl(bin, bin, "--listen", "127.0.0.1:0", "--dc-ports", "0", "--rsa-pem", pem,
              "--dc-latency-ms", lat, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000; i++) { /* up to 10 s */
        FILE *f = fopen(log, "r");
        char line[256];
        while (f && fgets(line, sizeof line, f)) {
            const char *p = strstr(line, "listening on http://127.0.0.1:");
            if (p) control_port = (int)strtol(p + 30, NULL, 10);
            if ((p = strstr(line, "dc 1 listening on 127.0.0.1:")))
                *dc_port = (int)strtol(p + 28, NULL, 10);
        }
        if (f) fclose(f);
        if (control_port && *dc_port) return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid) break;
        usleep(10000);
    }
    die("%s did not start (see %s)", bin, log);
}

static json_t *call(struct mt_client *c, json_t *method)
{
    json_t *r = NULL;
    struct dm_error e = {0};
    if (!method || mt_call(c, method, 60000, &r, NULL, &e) != DM_OK)
        die("%s: %s", json_string_value(json_object_get(method, "_")), e.msg);
    json_decref(method);
    return r;
}

/* Our client: log in, resolve the channel, then the timed paging. Returns the seconds. */
static double ours(const struct mt_config *cfg, const char *phone, const char *channel,
                   size_t *pages, size_t *loaded, size_t *distinct)
{
    struct mt_client *c = NULL;
    struct dm_error e = {0};
    if (mt_client_new(cfg, NULL, &c, &e) != DM_OK) die("client: %s", e.msg);
    json_t *sent = call(c, json_pack("{s:s,s:s,s:i,s:s,s:{s:s}}", "_", "auth.sendCode",
                                     "phone_number", phone, "api_id", cfg->api_id, "api_hash",
                                     API_HASH, "settings", "_", "codeSettings"));
    char q[64];
    snprintf(q, sizeof q, "login-code?phone=%s", phone);
    json_t *code = control(q, NULL);
    json_decref(call(c, json_pack("{s:s,s:s,s:O,s:O}", "_", "auth.signIn", "phone_number", phone,
                                  "phone_code_hash", json_object_get(sent, "phone_code_hash"),
                                  "phone_code", json_object_get(code, "code"))));
    json_decref(code);
    json_decref(sent);
    json_t *peer =
        call(c, json_pack("{s:s,s:s}", "_", "contacts.resolveUsername", "username", channel));
    const json_t *ch = json_array_get(json_object_get(peer, "chats"), 0);
    json_t *input =
        json_pack("{s:s,s:O,s:O}", "_", "inputPeerChannel", "channel_id", json_object_get(ch, "id"),
                  "access_hash", json_object_get(ch, "access_hash"));
    json_decref(peer);

    json_t *seen = json_object();
    json_int_t date = 0, count = -1;
    json_t *offset_user = json_pack("{s:s}", "_", "inputUserEmpty");
    double start = now_s();
    *pages = *loaded = 0;
    while (count < 0 || (json_int_t)*loaded < count) {
        json_t *r =
            call(c, json_pack("{s:s,s:b,s:O,s:I,s:o,s:i}", "_", "messages.getChatInviteImporters",
                              "requested", 1, "peer", input, "offset_date", date, "offset_user",
                              offset_user, "limit", PAGE));
        (*pages)++;
        count = json_integer_value(json_object_get(r, "count"));
        json_t *imp = json_object_get(r, "importers"), *users = json_object_get(r, "users");
        size_t n = json_array_size(imp);
        if (!n) {
            json_decref(r);
            break;
        }
        const json_t *last = json_array_get(imp, n - 1), *u, *v;
        size_t i;
        json_array_foreach(imp, i, v)
        {
            char k[32];
            snprintf(k, sizeof k, "%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(v, "user_id")));
            json_object_set_new(seen, k, json_true());
        }
        json_t *uid = json_object_get(last, "user_id");
        json_int_t hash = 0;
        json_array_foreach(users, i, u)
        {
            if (json_equal(json_object_get(u, "id"), uid))
                hash = json_integer_value(json_object_get(u, "access_hash"));
        }
        date = json_integer_value(json_object_get(last, "date"));
        offset_user =
            json_pack("{s:s,s:O,s:I}", "_", "inputUser", "user_id", uid, "access_hash", hash);
        *loaded += n;
        json_decref(r);
    }
    double took = now_s() - start;
    json_decref(offset_user);
    *distinct = json_object_size(seen);
    json_decref(seen);
    json_decref(input);
    mt_client_free(c);
    return took;
}

/* Runs the Telethon script; its last stdout line, parsed. */
static json_t *telethon(const char *script, int dc_port, const char *pem, const char *phone,
                        const char *channel)
{
    char cmd[2048], url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", control_port);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 '%s' --port %d --dc 1 --pem '%s' --phone %s --control %s "
             "--channel %s",
             script, dc_port, pem, phone, url, channel);
    FILE *p = popen(cmd, "r");
    char line[4096], last[4096] = "";
    while (p && fgets(line, sizeof line, p))
        dm_strlcpy(last, line, sizeof last);
    int st = p ? pclose(p) : -1;
    json_t *j = json_loads(last, 0, NULL);
    if (st != 0 || !j) {
        fprintf(stderr, "mtproto_load_bench: Telethon failed (status %d): %s\n", st, last);
        json_decref(j);
        return NULL;
    }
    return j;
}

int main(int argc, char **argv)
{
    if (argc < 3) die("usage: mtproto_load_bench TGSIM TELETHON_SCRIPT [N [LATENCY_MS]]");
    long n = argc > 3 ? strtol(argv[3], NULL, 10) : 10000;
    int latency = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 50;
    if (n < 1 || n > 1000000 || latency < 0 || latency > 10000) die("bad N or LATENCY_MS");
    log_set_level(LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char dir[] = "/tmp/mt_load_bench_XXXXXX", pem[256], log[256];
    if (!mkdtemp(dir)) die("mkdtemp: %s", strerror(errno));
    snprintf(pem, sizeof pem, "%s/dc.pem", dir);
    snprintf(log, sizeof log, "%s/tgsim.log", dir);
    int dc_port = 0;
    pid_t pid = tgsim_start(argv[1], pem, log, latency, &dc_port);

    json_t *a = control("accounts", "{\"phone\":\"15559001\",\"first_name\":\"Ours\"}");
    json_t *b = control("accounts", "{\"phone\":\"15559002\",\"first_name\":\"Telethon\"}");
    char body[512];
    snprintf(
        body, sizeof body,
        "{\"title\":\"Load\",\"username\":\"load_bench\",\"admins\":[{\"id\":%" JSON_INTEGER_FORMAT
        "},{\"id\":%" JSON_INTEGER_FORMAT "}]}",
        json_integer_value(json_object_get(a, "id")), json_integer_value(json_object_get(b, "id")));
    json_t *ch = control("channels", body);
    json_int_t chat = json_integer_value(json_object_get(ch, "id"));
    json_decref(a);
    json_decref(b);
    json_decref(ch);
    for (long made = 0; made < n;) {
        long k = DM_MIN(1000, n - made);
        snprintf(body, sizeof body,
                 "{\"chat_id\":%" JSON_INTEGER_FORMAT ",\"count\":%ld,\"date\":%ld,\"bio\":\"hi\"}",
                 chat, k, 1700000000L + made);
        json_decref(control("join-requests", body));
        made += k;
    }

    struct mt_config cfg;
    mt_config_init(&cfg);
    mt_config_set_dc(&cfg, 1, "127.0.0.1", dc_port, NULL);
    cfg.dc_id = 1;
    cfg.api_id = 12345;
    dm_strlcpy(cfg.rsa_pem_path, pem, sizeof cfg.rsa_pem_path);
    size_t pages = 0, loaded = 0, distinct = 0;
    double t_ours = ours(&cfg, "15559001", "load_bench", &pages, &loaded, &distinct);
    double floor_s = (double)pages * latency / 1000.0;
    printf("pending requests: %ld, latency %d ms per call, %d per page\n", n, latency, PAGE);
    printf("doorman (mt_client): %.3f s, %zu pages, %zu loaded (%zu distinct)\n", t_ours, pages,
           loaded, distinct);
    printf("floor (pages x latency): %.3f s; doorman / floor = %.3f\n", floor_s,
           floor_s > 0 ? t_ours / floor_s : 0);
    int status = loaded == (size_t)n && distinct == (size_t)n ? 0 : 1;
    if (status) fprintf(stderr, "mtproto_load_bench: doorman loaded %zu of %ld\n", distinct, n);

    json_t *t = telethon(argv[2], dc_port, pem, "15559002", "load_bench");
    if (t) {
        double secs = json_real_value(json_object_get(t, "seconds"));
        json_int_t tp = json_integer_value(json_object_get(t, "pages"));
        printf("Telethon (layer %" JSON_INTEGER_FORMAT "): %.3f s, %" JSON_INTEGER_FORMAT
               " pages, %" JSON_INTEGER_FORMAT " loaded (%" JSON_INTEGER_FORMAT " distinct)\n",
               json_integer_value(json_object_get(t, "layer")), secs, tp,
               json_integer_value(json_object_get(t, "loaded")),
               json_integer_value(json_object_get(t, "distinct")));
        printf("Telethon / floor = %.3f; doorman / Telethon = %.3f\n",
               floor_s > 0 ? secs / floor_s : 0, secs > 0 ? t_ours / secs : 0);
        json_decref(t);
    } else {
        status = 1;
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unlink(pem);
    unlink(log);
    rmdir(dir);
    curl_global_cleanup();
    return status;
}
