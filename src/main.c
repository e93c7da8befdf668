/* main.c: the doorman command line. */
#include "core/common.h"
#include "api/api.h"
#include "app.h"
#include "backup.h"
#include "core/log.h"
#include "core/signals.h"
#include "demo.h"
#include "store/migrate.h"

#include <signal.h>
#include <termios.h>

static const char usage[] =
    "usage: doorman COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  serve                 run the panel, the bot and the job runner (what `make run` does)\n"
    "  admin add NAME        create an admin (an owner); asks for the password (or\n"
    "                        --password-stdin)\n"
    "  demo                  start tgsim (Bot API and MTProto data centres) and doorman wired\n"
    "                        together with a demo bot, two channels, pending requests arriving\n"
    "                        over time and a Telegram account for the Session Manager; prints\n"
    "                        the URL, the login, the account's phone and 2FA password, and\n"
    "                        where its login code appears\n"
    "  migrate --from sqlite:PATH --to postgresql://...\n"
    "                        copy an SQLite installation into an empty PostgreSQL database,\n"
    "                        verified by row counts and checksums (docs/operations.md)\n"
    "  backup DIR            copy what a restore needs into DIR (new or empty, made 0700)\n"
    "                        while doorman serves: the SQLite database as one consistent\n"
    "                        snapshot (on PostgreSQL: says to use pg_dump, exits 1), secret.key\n"
    "                        and the session files (docs/operations.md, Backup and restore)\n"
    "  version               print the version\n"
    "\n"
    "Options (each also read from the environment variable shown):\n"
    "  --data DIR            data directory, created 0700            DOORMAN_DATA (./data)\n"
    "  --listen HOST:PORT    where the panel listens                DOORMAN_LISTEN "
    "(127.0.0.1:8080)\n"
    "  --db URL              sqlite:PATH or postgresql://...        DOORMAN_DATABASE_URL\n"
    "                                                               (sqlite:DIR/doorman.db)\n"
    "  --bot-api URL         Bot API server                         DOORMAN_BOT_API_URL\n"
    "                                                               (https://api.telegram.org)\n"
    "  --public-url URL      how admins and Telegram reach doorman  DOORMAN_PUBLIC_URL\n"
    "                        (http://HOST:PORT of --listen); requests naming another host\n"
    "                        than it or the listen address get 421 (docs/api.md, Hosts)\n"
    "  --log-level LEVEL     debug, info, warn or error             DOORMAN_LOG_LEVEL (info)\n"
    "  --mtproto-dcs LIST    MTProto data centres, \"1=HOST:PORT,...\"   DOORMAN_MTPROTO_DCS\n"
    "                                                               (Telegram's)\n"
    "  --mtproto-rsa FILE    PEM with the data centres' RSA keys    DOORMAN_MTPROTO_RSA\n"
    "                                                               (Telegram's, built in)\n"
    "  --password-stdin      (admin add) read the password from standard input\n"
    "\n"
    "The master key that encrypts secrets at rest is DOORMAN_SECRET_KEY (64 hex digits) or\n"
    "DIR/secret.key, created on first start. Keep a copy: without it the bot token, the\n"
    "API hashes and the session files (DIR/sessions) cannot be decrypted.\n"
    "\n"
    "One doorman runs on a data directory at a time (it locks DIR/instance); started again after\n"
    "a crash, it takes its jobs and sessions back at once. Limits and timings (connections per\n"
    "address, HTTP workers, leases, the preflight deadline, webhook retries), DOORMAN_LOG_FORMAT\n"
    "(text or json)\n"
    "and DOORMAN_METRICS_ALLOW (who reads /metrics without its token) are environment variables\n"
    "listed in docs/operations.md.\n";

/* Parses config flags from argv[first..]; other words go to rest (NULL-terminated). */
static int parse_args(struct config *cfg, int argc, char **argv, int first, char **rest,
                      int rest_max, bool *password_stdin)
{
    int nrest = 0;
    for (int i = first; i < argc;) {
        struct dm_error err = {0};
        dm_err e = config_parse_flag(cfg, argc, argv, &i, &err);
        if (e == DM_OK) continue;
        if (e != DM_ENOTFOUND) {
            fprintf(stderr, "doorman: %s\n", err.msg);
            return -1;
        }
        if (password_stdin && strcmp(argv[i], "--password-stdin") == 0) {
            *password_stdin = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "doorman: unknown option '%s' (see doorman --help)\n", argv[i]);
            return -1;
        } else if (nrest < rest_max) {
            rest[nrest++] = argv[i];
        } else {
            fprintf(stderr, "doorman: unexpected argument '%s'\n", argv[i]);
            return -1;
        }
        i++;
    }
    rest[nrest] = NULL;
    return nrest;
}

static int cmd_serve(struct config *cfg)
{
    struct app a = {.cfg = *cfg};
    struct dm_error err = {0};
    sigset_t stop = signals_block_stop();
    if (app_start(&a, &err)) {
        fprintf(stderr, "doorman: %s\n", err.msg);
        app_stop(&a);
        return 1;
    }
    const struct timespec idle = {.tv_sec = a.cfg.idle_s};
    int sig = 0;
    if (!a.cfg.idle_s) sigwait(&stop, &sig);
    while (a.cfg.idle_s && (sig = sigtimedwait(&stop, NULL, &idle)) < 0) /* EAGAIN: a pass */
        app_idle(&a);
    log_info("main", "stopping (signal %d)", sig);
    app_stop(&a);
    return 0;
}

/* Reads one line into buf without echo when stdin is a terminal. */
static bool read_password(const char *prompt, char *buf, size_t n, bool from_stdin)
{
    struct termios old, quiet;
    bool tty = !from_stdin && isatty(STDIN_FILENO);
    if (!from_stdin && !tty) return false;
    if (tty) {
        fputs(prompt, stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = fgets(buf, (int)n, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (ok) buf[strcspn(buf, "\r\n")] = 0;
    return ok;
}

static int cmd_admin_add(struct config *cfg, const char *name, bool from_stdin)
{
    struct dm_error err = {0};
    char pw[1100], again[1100];
    if (!read_password("Password: ", pw, sizeof pw, from_stdin)) {
        fprintf(stderr, "doorman: no terminal to ask for the password: use --password-stdin\n");
        return 1;
    }
    if (!from_stdin &&
        (!read_password("Again: ", again, sizeof again, false) || strcmp(pw, again))) {
        fprintf(stderr, "doorman: the passwords differ\n");
        return 1;
    }
    struct store *st = NULL;
    dm_err e = secret_init();
    if (!e) e = config_finish(cfg, &err);
    if (!e) e = store_open(cfg->db_url, &st, &err);
    if (!e) e = auth_admin_add(st, name, pw, ROLE_OWNER, NULL, 0, &err);
    secret_wipe(pw, sizeof pw);
    secret_wipe(again, sizeof again);
    store_close(st);
    if (e) {
        fprintf(stderr, "doorman: %s\n", err.msg[0] ? err.msg : dm_strerror(e));
        return 1;
    }
    printf("admin '%s' created\n", name);
    return 0;
}

static int cmd_migrate(int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else
            from = to = NULL, i = argc;
    }
    if (!from || !to) {
        fprintf(stderr, "usage: doorman migrate --from sqlite:PATH --to postgresql://...\n");
        return 2;
    }
    struct dm_error err = {0};
    dm_err e = store_migrate(from, to, stdout, &err);
    if (e) {
        fprintf(stderr, "doorman: migrate: %s\n", err.msg[0] ? err.msg : dm_strerror(e));
        return 1;
    }
    printf("migrated: every table verified; point DOORMAN_DATABASE_URL at the new database\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    struct config cfg;
    config_defaults(&cfg);
    char *rest[4];
    bool password_stdin = false;
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("doorman %s\n", DOORMAN_VERSION);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0) {
        if (parse_args(&cfg, argc, argv, 2, rest, 0, NULL) < 0) return 2;
        return cmd_serve(&cfg);
    }
    if (strcmp(cmd, "admin") == 0) {
        int n = parse_args(&cfg, argc, argv, 2, rest, 3, &password_stdin);
        if (n != 2 || strcmp(rest[0], "add") != 0) {
            fprintf(stderr, "usage: doorman admin add NAME [--password-stdin] [--data DIR]\n");
            return 2;
        }
        return cmd_admin_add(&cfg, rest[1], password_stdin);
    }
    if (strcmp(cmd, "backup") == 0) {
        if (parse_args(&cfg, argc, argv, 2, rest, 1, NULL) != 1) {
            fprintf(stderr, "usage: doorman backup DIR [--data DIR] [--db URL]\n");
            return 2;
        }
        return backup_run(&cfg, rest[0]);
    }
    if (strcmp(cmd, "migrate") == 0) return cmd_migrate(argc, argv);
    if (strcmp(cmd, "demo") == 0) {
        if (parse_args(&cfg, argc, argv, 2, rest, 0, NULL) < 0) return 2;
        return demo_run(&cfg, argv[0]);
    }
    fprintf(stderr, "doorman: unknown command '%s' (see doorman --help)\n", cmd);
    return 2;
}
