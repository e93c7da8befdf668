/* demo.c: starts tgsim, builds a small world in it (a bot, two channels, a few hundred pending
 * requests, more arriving over time), then runs doorman against it with a fresh data directory
 * and a generated admin login. */
#include "core/common.h"
#include "demo.h"
#include "app.h"
#include "api/api.h"
#include "telegram/bot.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/signals.h"

#include <curl/curl.h>
#include <jansson.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

static volatile int demo_stop; /* set by demo_run when a stop signal arrives */

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    return buf_append(ud, p, size * n) == DM_OK ? size * n : 0;
}

/* POSTs body to tgsim's control API; returns the parsed answer (caller decrefs) or NULL. */
static json_t *control(const char *base, const char *path, json_t *body)
{
    char url[600];
    snprintf(url, sizeof url, "%s%s", base, path);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct buf out;
    buf_init(&out, 1 << 20);
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    free(text);
    json_t *j = NULL;
    if (rc == CURLE_OK && status == 200 && out.data) j = json_loads(out.data, 0, NULL);
    if (!j)
        log_error("demo", "tgsim %s failed (HTTP %ld): %s", path, status,
                  out.data ? out.data : curl_easy_strerror(rc));
    buf_release(&out);
    return j;
}

/* Starts tgsim on a free loopback port; fills url and pid. */
static bool start_tgsim(const char *argv0, char *url, size_t url_len, pid_t *pid)
{
    char self[4096], path[4200];
    dm_strlcpy(self, argv0, sizeof self);
    const char *dir = dirname(self);
    const char *candidates[] = {"/sim/tgsim", "/tgsim"};
    path[0] = 0;
    for (size_t i = 0; i < DM_ARRAY_LEN(candidates); i++) {
        snprintf(path, sizeof path, "%s%s", dir, candidates[i]);
        if (access(path, X_OK) == 0) break;
        path[0] = 0;
    }
    if (!path[0]) dm_strlcpy(path, "tgsim", sizeof path);
    int fds[2];
    if (pipe(fds) != 0) return false;
    *pid = fork();
    if (*pid < 0) return false;
    if (*pid == 0) {
        sigset_t none; /* the child starts with the signal handling of a fresh process */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        setpgid(0, 0); /* Ctrl-C reaches doorman only; it stops tgsim after itself */
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        execlp(path, path, "--listen", "127.0.0.1:0", (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char *p = strstr(line, "listening on ");
        if (p) {
            p += strlen("listening on ");
            p[strcspn(p, " \r\n")] = 0;
            dm_strlcpy(url, p, url_len);
            found = true;
        } else {
            fputs(line, stderr);
        }
    }
    /* tgsim keeps writing to the pipe: drain it in the background so it never blocks */
    if (found && fork() == 0) {
        while (fgets(line, sizeof line, f)) {
        }
        _exit(0);
    }
    fclose(f);
    return found;
}

static const char *const first_names[] = {"Anna",   "Boris",   "Chen", "Dmitri", "Elena", "Fatima",
                                          "George", "Hana",    "Ivan", "Julia",  "Kenji", "Lena",
                                          "Maria",  "Nikolai", "Olga", "Pavel",  "Rosa",  "Sergei",
                                          "Tanya",  "Umar",    "Vera", "Wei",    "Yusuf", "Zoe"};
static const char *const last_names[] = {"Ivanova", "Smith",  "Wang",   "Müller",   "Rossi",
                                         "Okafor",  "Tanaka", "García", "Kowalski", "Haddad"};
static const char *const bios[] = {"",
                                   "",
                                   "Crypto enthusiast",
                                   "Designer from Berlin",
                                   "Here for the news",
                                   "Student",
                                   "Photographer 📷",
                                   ""};

struct trickle {
    char url[256];
    int64_t chats[2];
};

/* One new request every few seconds, so the page shows life. */
static void *trickle_main(void *p)
{
    struct trickle *t = p;
    for (unsigned i = 0; !demo_stop; i++) {
        for (int s = 0; s < 40 && !demo_stop; s++)
            usleep(100 * 1000);
        if (demo_stop) break;
        const char *name = first_names[(i * 7) % DM_ARRAY_LEN(first_names)];
        json_t *u = control(t->url, "/control/users",
                            json_pack("{s:s,s:s,s:s}", "first_name", name, "last_name", "Newcomer",
                                      "bio", bios[i % DM_ARRAY_LEN(bios)]));
        if (!u) continue;
        json_t *r = control(t->url, "/control/join-requests",
                            json_pack("{s:I,s:O}", "chat_id", (json_int_t)t->chats[i % 2],
                                      "user_id", json_object_get(u, "id")));
        json_decref(u);
        json_decref(r);
    }
    return NULL;
}

/* Creates the bot, the channels and the first requests; returns the bot token (malloc'd). */
static char *build_world(const char *url, int64_t chats[2])
{
    json_t *bot = control(
        url, "/control/bots",
        json_pack("{s:s,s:s}", "username", "doorman_demo_bot", "first_name", "Doorman Demo"));
    if (!bot) return NULL;
    json_int_t bot_id = json_integer_value(json_object_get(bot, "id"));
    char *token = strdup(json_string_value(json_object_get(bot, "token")));
    json_decref(bot);
    const char *titles[2] = {"Demo News", "Demo Chat"};
    const char *usernames[2] = {"demo_news", "demo_chat"};
    for (int c = 0; c < 2; c++) {
        json_t *ch =
            control(url, "/control/channels",
                    json_pack("{s:s,s:s,s:[{s:I,s:b}]}", "title", titles[c], "username",
                              usernames[c], "admins", "id", bot_id, "can_invite_users", 1));
        if (!ch) goto fail;
        chats[c] = json_integer_value(json_object_get(ch, "id"));
        json_decref(ch);
    }
    for (int i = 0; i < 240; i++) {
        const char *first = first_names[i % DM_ARRAY_LEN(first_names)];
        json_t *user = json_pack("{s:s,s:s,s:s}", "first_name", first, "last_name",
                                 last_names[(i / 3) % DM_ARRAY_LEN(last_names)], "bio",
                                 bios[i % DM_ARRAY_LEN(bios)]);
        if (i % 4) { /* most people have a username */
            char uname[40];
            snprintf(uname, sizeof uname, "%s_%d", first, 100 + i);
            for (char *p = uname; *p; p++)
                *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
            json_object_set_new(user, "username", json_string(uname));
        }
        json_t *u = control(url, "/control/users", user);
        if (!u) goto fail;
        /* spread over the last two days, oldest first */
        json_int_t date = (json_int_t)time(NULL) - (240 - i) * 720;
        json_t *r = control(url, "/control/join-requests",
                            json_pack("{s:I,s:O,s:I}", "chat_id", (json_int_t)chats[i % 3 == 0],
                                      "user_id", json_object_get(u, "id"), "date", date));
        json_decref(u);
        if (!r) goto fail;
        json_decref(r);
    }
    return token;
fail:
    free(token);
    return NULL;
}

int demo_run(struct config *cfg, const char *argv0)
{
    sigset_t stop = signals_block_stop();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct trickle t = {0};
    pid_t sim = -1;
    if (!start_tgsim(argv0, t.url, sizeof t.url, &sim)) {
        fprintf(stderr, "doorman demo: could not start tgsim (build it with `make`)\n");
        return 1;
    }
    char *token = build_world(t.url, t.chats);
    if (!token) {
        kill(sim, SIGTERM);
        fprintf(stderr, "doorman demo: could not set up the demo world in tgsim\n");
        return 1;
    }
    /* a fresh data directory inside the configured one, so the demo never touches real data */
    struct app a = {.cfg = *cfg};
    char demo_dir[1100];
    snprintf(demo_dir, sizeof demo_dir, "%s/demo", cfg->data_dir);
    mkdir(cfg->data_dir, 0700);
    mkdir(demo_dir, 0700);
    snprintf(a.cfg.db_url, sizeof a.cfg.db_url, "sqlite:%s/demo-%ld.db", demo_dir, (long)getpid());
    dm_strlcpy(a.cfg.data_dir, demo_dir, sizeof a.cfg.data_dir);
    dm_strlcpy(a.cfg.bot_api_url, t.url, sizeof a.cfg.bot_api_url);
    struct dm_error err = {0};
    char password[33];
    secret_init();
    secret_random_hex(password, 8);
    int status = 1;
    struct store *st = NULL;
    /* the admin exists before app_start, so no setup link is printed (app_start finishes cfg) */
    if (store_open(a.cfg.db_url, &st, &err) || auth_admin_add(st, "demo", password, &err)) {
        fprintf(stderr, "doorman demo: %s\n", err.msg);
        store_close(st);
        goto out;
    }
    store_close(st);
    if (app_start(&a, &err) || bot_configure(a.bot, token, BOT_POLLING, "", 0, &err)) {
        fprintf(stderr, "doorman demo: %s\n", err.msg);
        app_stop(&a);
        goto out;
    }
    pthread_t th;
    pthread_create(&th, NULL, trickle_main, &t);
    printf("\n  doorman demo is running.\n"
           "    panel:  %s\n"
           "    login:  demo / %s\n"
           "    tgsim:  %s (bot @doorman_demo_bot, channels Demo News and Demo Chat)\n"
           "  New join requests arrive every few seconds. Ctrl-C stops the demo.\n\n",
           a.cfg.public_url, password, t.url);
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    __atomic_store_n(&demo_stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(th, NULL);
    app_stop(&a);
    status = 0;
out:
    free(token);
    kill(sim, SIGTERM);
    waitpid(sim, NULL, 0);
    return status;
}
