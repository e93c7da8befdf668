/* demo.c: starts tgsim with its MTProto data centres, builds a small world in it (a bot, two
 * channels, a few hundred pending requests, more arriving over time, a Telegram account that
 * administers the channels, and requests only Telegram knows of), then runs doorman against it
 * with a fresh data directory and a generated admin login. Demo Chat is guarded: doorman's bot is
 * its join-request bot and its rules decline some requests and ask others to pass a challenge in
 * the verification Mini App, which tgsim's /applicants page opens as the applicant would. */
#include "core/common.h"
#include "demo.h"
#include "app.h"
#include "api/api.h"
#include "telegram/bot.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/signals.h"
#include "rules/dryrun.h"
#include "rules/rules.h"
#include "store/store.h"
#include "verify/challenge.h"

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

/* The running tgsim: its HTTP URL (Bot API, control API, /messages) and its data centres. */
struct sim {
    pid_t pid;
    char url[256];
    char dcs[256]; /* doorman's --mtproto-dcs: "1=127.0.0.1:P1,..." */
};

#define DEMO_DCS 3

/* Starts tgsim on a free loopback port with DEMO_DCS data centres, their RSA key written to
 * pem; fills *sim once every listening line is out. */
static bool start_tgsim(const char *argv0, const char *pem, struct sim *sim)
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
    sim->pid = fork();
    if (sim->pid < 0) return false;
    if (sim->pid == 0) {
        sigset_t none; /* the child starts with the signal handling of a fresh process */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        setpgid(0, 0); /* Ctrl-C reaches doorman only; it stops tgsim after itself */
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        /* DEMO_DCS data centres, each on a free port */
        execlp(path, path, "--listen", "127.0.0.1:0", "--dc-ports", "0,0,0", "--rsa-pem", pem,
               (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[512];
    int ndcs = 0;
    size_t dcs_len = 0;
    sim->url[0] = sim->dcs[0] = 0;
    while ((!sim->url[0] || ndcs < DEMO_DCS) && fgets(line, sizeof line, f)) {
        char *p = strstr(line, "tgsim: listening on ");
        int dc;
        unsigned port;
        if (p) {
            p += strlen("tgsim: listening on ");
            p[strcspn(p, " \r\n")] = 0;
            dm_strlcpy(sim->url, p, sizeof sim->url);
        } else if (sscanf(line, "tgsim: dc %d listening on 127.0.0.1:%u", &dc, &port) == 2) {
            dcs_len += (size_t)snprintf(sim->dcs + dcs_len, sizeof sim->dcs - dcs_len,
                                        "%s%d=127.0.0.1:%u", ndcs ? "," : "", dc, port);
            ndcs++;
        } else {
            fputs(line, stderr);
        }
    }
    bool found = sim->url[0] && ndcs == DEMO_DCS;
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
        json_t *user = json_pack("{s:s,s:s,s:s}", "first_name", name, "last_name", "Newcomer",
                                 "bio", bios[i % DM_ARRAY_LEN(bios)]);
        if (i % 3) { /* the others have none: Demo Chat's rules ask them to verify */
            char uname[48];
            snprintf(uname, sizeof uname, "newcomer_%u_%ld", i, (long)getpid());
            json_object_set_new(user, "username", json_string(uname));
        }
        json_t *u = control(t->url, "/control/users", user);
        if (!u) continue;
        json_t *r = control(t->url, "/control/join-requests",
                            json_pack("{s:I,s:O}", "chat_id", (json_int_t)t->chats[i % 2],
                                      "user_id", json_object_get(u, "id")));
        json_decref(u);
        json_decref(r);
    }
    return NULL;
}

/* The demo's Telegram account, for trying the Session Manager: its phone is in the range
 * Telegram keeps for tests, 99966XYYYY (X: the home DC; 2 here, so the login follows tgsim's
 * PHONE_MIGRATE_2 from DC 1). */
#define DEMO_PHONE "+9996621234"
#define DEMO_PHONE_DIGITS "9996621234"
/* Any API ID and 32-character hash do for tgsim; these are printed for the Create Session form. */
#define DEMO_API_ID "123456"
#define DEMO_API_HASH "0123456789abcdef0123456789abcdef"
#define DEMO_REQUESTS 240 /* pending requests the bot has seen */
#define DEMO_UNSEEN 24    /* pending requests only Telegram knows of */

struct demo_world {
    char *token; /* the bot's (malloc'd) */
    int64_t chats[2];
    char password[17]; /* the account's 2FA password */
};

/* A new person asking to join chat (the i-th of the demo, for a name, username and bio) at
 * date; bot_updates false makes a request the bot never hears of. */
static bool add_requester(const char *url, int64_t chat, int i, json_int_t date, bool bot_updates)
{
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
    if (!u) return false;
    json_t *r =
        control(url, "/control/join-requests",
                json_pack("{s:I,s:O,s:I,s:b}", "chat_id", (json_int_t)chat, "user_id",
                          json_object_get(u, "id"), "date", date, "bot_updates", bot_updates));
    json_decref(u);
    json_decref(r);
    return r != NULL;
}

/* Creates the bot, the account, the channels (both administer them with the invite-users
 * right) and the first requests: DEMO_REQUESTS over the last two days, and DEMO_UNSEEN from
 * three to four days ago that reached Telegram while "the bot was down" (no bot update). */
static bool build_world(const char *url, struct demo_world *dw)
{
    json_t *bot = control(
        url, "/control/bots",
        json_pack("{s:s,s:s}", "username", "doorman_demo_bot", "first_name", "Doorman Demo"));
    if (!bot) return false;
    json_int_t bot_id = json_integer_value(json_object_get(bot, "id"));
    dw->token = strdup(json_string_value(json_object_get(bot, "token")));
    json_decref(bot);
    char path[128];
    snprintf(path, sizeof path, "/control/bots/%" PRId64 "/settings", (int64_t)bot_id);
    json_t *set = control(url, path, json_pack("{s:b}", "supports_join_request_queries", 1));
    if (!set) return false;
    json_decref(set);
    secret_random_hex(dw->password, 4);
    json_t *acc = control(url, "/control/accounts",
                          json_pack("{s:s,s:s,s:s,s:s,s:s,s:i}", "phone", DEMO_PHONE, "first_name",
                                    "Dana", "last_name", "Admin", "username", "dana_admin",
                                    "password", dw->password, "dc", 2));
    if (!acc || !dw->token) {
        json_decref(acc);
        return false;
    }
    json_int_t acc_id = json_integer_value(json_object_get(acc, "id"));
    json_decref(acc);
    const char *titles[2] = {"Demo News", "Demo Chat"};
    const char *usernames[2] = {"demo_news", "demo_chat"};
    for (int c = 0; c < 2; c++) {
        json_t *ch = control(url, "/control/channels",
                             json_pack("{s:s,s:s,s:[{s:I,s:b},{s:I,s:b}]}", "title", titles[c],
                                       "username", usernames[c], "admins", "id", bot_id,
                                       "can_invite_users", 1, "id", acc_id, "can_invite_users", 1));
        if (!ch) return false;
        dw->chats[c] = json_integer_value(json_object_get(ch, "id"));
        json_decref(ch);
    }
    json_int_t now = (json_int_t)time(NULL);
    for (int i = 0; i < DEMO_UNSEEN; i++) /* oldest first, an hour apart */
        if (!add_requester(url, dw->chats[i % 3 == 0], DEMO_REQUESTS + i,
                           now - 4 * 86400 + i * 3600, false))
            return false;
    for (int i = 0; i < DEMO_REQUESTS; i++) /* spread over the last two days, oldest first */
        if (!add_requester(url, dw->chats[i % 3 == 0], i, now - (DEMO_REQUESTS - i) * 720, true))
            return false;
    /* From now on Demo Chat's requests come to doorman's bot as join-request queries. */
    snprintf(path, sizeof path, "/control/channels/%" PRId64 "/guard-bot", dw->chats[1]);
    json_t *guard = control(url, path, json_pack("{s:I}", "bot_id", bot_id));
    json_decref(guard);
    return guard != NULL;
}

/* Demo Chat's rules, in their order (docs/api.md, Rules): the rest wait for the admins. */
static const struct {
    const char *name, *spec;
} demo_rules[] = {
    {"Crypto or casino in the bio",
     "{\"conditions\":[{\"type\":\"bio_matches\",\"words\":[\"crypto\",\"casino\"]}],"
     "\"action\":\"decline\"}"},
    {"No username: verify first",
     "{\"conditions\":[{\"type\":\"has_username\",\"negate\":true}],\"action\":\"verify\"}"},
};

/* Demo Chat's challenge (docs/verification.md), in English and German. */
static const char demo_challenge[] =
    "{\"steps\":[\"rules\",\"question\",\"captcha\"],\"time_limit_seconds\":600,"
    "\"on_pass\":\"approve\",\"on_fail\":\"decline\",\"on_timeout\":\"queue\","
    "\"captcha_attempts\":3,\"correct_choice\":1,\"texts\":{"
    "\"default\":{\"title\":\"Welcome to Demo Chat\",\"rules\":\"Be kind. No ads, no spam.\","
    "\"accept\":\"I accept the rules\",\"question\":\"What is this chat about?\","
    "\"choices\":[\"Cooking\",\"Trying doorman\",\"Football\"],"
    "\"passed\":\"Welcome aboard!\",\"failed\":\"Sorry, not this time.\"},"
    "\"de\":{\"title\":\"Willkommen im Demo Chat\",\"rules\":\"Sei freundlich. Keine Werbung, "
    "kein Spam.\",\"accept\":\"Ich akzeptiere die Regeln\",\"question\":\"Worum geht es hier?\","
    "\"choices\":[\"Kochen\",\"doorman ausprobieren\",\"Fu\u00dfball\"],"
    "\"passed\":\"Willkommen!\",\"failed\":\"Diesmal leider nicht.\"}}}";

/* Puts Demo Chat in rules mode with demo_rules and demo_challenge, each checked as the API
 * checks what an admin sends. */
static dm_err guard_demo_chat(struct store *st, int64_t chat, struct dm_error *err)
{
    int64_t now = time(NULL);
    for (size_t i = 0; i < DM_ARRAY_LEN(demo_rules); i++) {
        json_t *spec = json_loads(demo_rules[i].spec, 0, NULL);
        struct rules_set *s = rules_set_new();
        dm_err e = spec && s
                       ? rules_set_add(s, 0, "", spec, "rule", rules_store_list_loader, st, err)
                       : dm_fail(err, DM_ENOMEM, "out of memory");
        rules_set_free(s);
        json_decref(spec);
        if (e) return e;
        struct store_rule r = {.chat_id = chat, .enabled = true};
        dm_strlcpy(r.name, demo_rules[i].name, sizeof r.name);
        dm_strlcpy(r.spec, demo_rules[i].spec, sizeof r.spec);
        int64_t id;
        if ((e = store_rule_add(st, &r, now, &id, err))) return e;
    }
    json_t *spec = json_loads(demo_challenge, 0, NULL);
    dm_err e =
        spec ? challenge_check(spec, err) : dm_fail(err, DM_EINVAL, "demo challenge: bad JSON");
    json_decref(spec);
    if (e) return e;
    struct store_challenge *c = calloc(1, sizeof *c);
    if (!c) return dm_fail(err, DM_ENOMEM, "out of memory");
    *c = (struct store_challenge){.chat_id = chat, .updated_at = now};
    dm_strlcpy(c->spec, demo_challenge, sizeof c->spec);
    e = store_challenge_set(st, c, err);
    free(c);
    if (e) return e;
    struct store_mode m = {.chat_id = chat, .mode = MODE_RULES, .updated_at = now};
    return store_mode_set(st, &m, err);
}

int demo_run(struct config *cfg, const char *argv0)
{
    sigset_t stop = signals_block_stop();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    secret_init();
    /* a fresh data directory inside the configured one, so the demo never touches real data */
    struct app a = {.cfg = *cfg};
    char demo_dir[1100], pem[1200];
    snprintf(demo_dir, sizeof demo_dir, "%s/demo", cfg->data_dir);
    mkdir(cfg->data_dir, 0700);
    mkdir(demo_dir, 0700);
    snprintf(pem, sizeof pem, "%s/tgsim-dc-%ld.pem", demo_dir, (long)getpid());
    struct sim sim = {.pid = -1};
    struct demo_world dw = {0};
    int status = 1;
    if (!start_tgsim(argv0, pem, &sim)) {
        fprintf(stderr, "doorman demo: could not start tgsim (build it with `make`)\n");
        goto out;
    }
    if (!build_world(sim.url, &dw)) {
        fprintf(stderr, "doorman demo: could not set up the demo world in tgsim\n");
        goto out;
    }
    snprintf(a.cfg.db_url, sizeof a.cfg.db_url, "sqlite:%s/demo-%ld.db", demo_dir, (long)getpid());
    dm_strlcpy(a.cfg.data_dir, demo_dir, sizeof a.cfg.data_dir);
    dm_strlcpy(a.cfg.bot_api_url, sim.url, sizeof a.cfg.bot_api_url);
    dm_strlcpy(a.cfg.mtproto_dcs, sim.dcs, sizeof a.cfg.mtproto_dcs);
    dm_strlcpy(a.cfg.mtproto_rsa_pem, pem, sizeof a.cfg.mtproto_rsa_pem);
    struct dm_error err = {0};
    char password[33];
    secret_random_hex(password, 8);
    struct store *st = NULL;
    /* the admin exists before app_start, so no setup link is printed (app_start finishes cfg) */
    if (store_open(a.cfg.db_url, &st, &err) ||
        auth_admin_add(st, "demo", password, ROLE_OWNER, NULL, 0, &err) ||
        guard_demo_chat(st, dw.chats[1], &err)) {
        fprintf(stderr, "doorman demo: %s\n", err.msg);
        store_close(st);
        goto out;
    }
    store_close(st);
    if (app_start(&a, &err) || bot_configure(a.bot, dw.token, BOT_POLLING, "", 0, &err)) {
        fprintf(stderr, "doorman demo: %s\n", err.msg);
        app_stop(&a);
        goto out;
    }
    struct trickle t = {.chats = {dw.chats[0], dw.chats[1]}};
    dm_strlcpy(t.url, sim.url, sizeof t.url);
    pthread_t th;
    pthread_create(&th, NULL, trickle_main, &t);
    printf("\n  doorman demo is running.\n"
           "    panel:  %s\n"
           "    login:  demo / %s\n"
           "    tgsim:  %s (bot @doorman_demo_bot, channels Demo News and Demo Chat)\n"
           "\n"
           "  Session Manager (a Telegram account on tgsim's data centres, all on this machine):\n"
           "    phone:     " DEMO_PHONE " (Dana Admin, an admin of both channels)\n"
           "    API ID:    " DEMO_API_ID "  API hash: " DEMO_API_HASH " (tgsim takes any)\n"
           "    code:      %s/messages?phone=" DEMO_PHONE_DIGITS
           " (sent as a message from \"Telegram\")\n"
           "    password:  %s (the account's two-step verification)\n"
           "  %d requests reached Telegram while the bot was down: Load Requests with the\n"
           "  session brings them in. New join requests arrive every few seconds.\n"
           "\n"
           "  Rules and verification: Demo Chat is guarded (Rules page). doorman's bot is its\n"
           "  join-request bot; bios with crypto or casino are declined, applicants without a\n"
           "  username get a challenge in the verification Mini App, the rest wait for you.\n"
           "    what applicants see: %s/applicants (open the Mini App as the applicant)\n"
           "  Ctrl-C stops the demo.\n\n",
           a.cfg.public_url, password, sim.url, sim.url, dw.password, DEMO_UNSEEN, sim.url);
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    __atomic_store_n(&demo_stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(th, NULL);
    app_stop(&a);
    status = 0;
out:
    free(dw.token);
    if (sim.pid > 0) {
        kill(sim.pid, SIGTERM);
        waitpid(sim.pid, NULL, 0);
    }
    unlink(pem);
    return status;
}
