/* fuzz_doorman.c: see fuzz_doorman.h. */
#include "core/common.h"

#include "fuzz_doorman.h"

#include "api/api.h"
#include "app.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/secret.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#define ADMIN "fuzz"
#define NOWHERE "127.0.0.1:1" /* nothing listens there: connection refused at once */
#define RESET_EVERY 20000
#define ANSWER_SECONDS 10

static struct app app;
static struct fuzz_doorman fd;
static bool started;
static unsigned long inputs;
static struct store_websession websession;

static void die(const char *what, const struct dm_error *err)
{
    fprintf(stderr, "fuzz_doorman: %s: %s\n", what, err ? err->msg : strerror(errno));
    abort();
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Join requests in two channels, one known by title and one only by id. */
static void record_requests(struct store *st)
{
    struct dm_error err = {0};
    struct store_chat chat = {.chat_id = -1001000000001, .fetched_at = time(NULL)};
    dm_strlcpy(chat.title, "Fuzz channel", sizeof chat.title);
    dm_strlcpy(chat.username, "fuzzchan", sizeof chat.username);
    if (store_chat_put(st, &chat, &err)) die("store_chat_put", &err);
    static const char *const names[] = {"Ann", "Bø", "频道", "carol"};
    for (size_t i = 0; i < 2 * DM_ARRAY_LEN(names); i++) {
        struct store_request r = {
            .chat_id = i % 2 ? -1001000000002 : chat.chat_id,
            .user_id = 500 + (int64_t)i,
            .tg_date = 1700000000 + 3600 * (int64_t)i,
            .status = i == 6 ? REQ_APPROVED : REQ_PENDING,
            .created_at = time(NULL),
        };
        dm_strlcpy(r.first_name, names[i % DM_ARRAY_LEN(names)], sizeof r.first_name);
        snprintf(r.username, sizeof r.username, "user%zu", i);
        dm_strlcpy(r.invite_link, "https://t.me/+fuzz", sizeof r.invite_link);
        bool inserted;
        if (store_request_add(st, &r, &inserted, &err)) die("store_request_add", &err);
    }
}

/* Writes the admin's web session to the store, as a login does (api/auth.c start_session). */
static void write_websession(void)
{
    struct dm_error err = {0};
    if (store_websession_create(app.store, &websession, &err)) die("store_websession_create", &err);
}

static void start(void)
{
    char dir[] = "/tmp/doorman-fuzz.XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp", NULL);
    memset(&app, 0, sizeof app);
    config_defaults(&app.cfg);
    dm_strlcpy(app.cfg.data_dir, dir, sizeof app.cfg.data_dir);
    app.cfg.db_url[0] = 0;     /* SQLite in the data dir */
    app.cfg.public_url[0] = 0; /* http://127.0.0.1:<port> */
    dm_strlcpy(app.cfg.listen_host, "127.0.0.1", sizeof app.cfg.listen_host);
    app.cfg.listen_port = 0;
    dm_strlcpy(app.cfg.bot_api_url, "http://" NOWHERE, sizeof app.cfg.bot_api_url);
    dm_strlcpy(app.cfg.mtproto_dcs,
               "1=" NOWHERE ",2=" NOWHERE ",3=" NOWHERE ",4=" NOWHERE ",5=" NOWHERE,
               sizeof app.cfg.mtproto_dcs);
    app.cfg.mtproto_rsa_pem[0] = 0;
    if (!getenv("DOORMAN_LOG_LEVEL")) app.cfg.log_level = LOG_ERROR;
    struct dm_error err = {0};
    if (app_start(&app, &err)) die("app_start", &err);
    dm_err e = auth_admin_add(app.store, ADMIN, "fuzz-password-not-in-any-seed", ROLE_OWNER, NULL,
                              0, &err);
    if (e) die("auth_admin_add", &err);
    struct store_admin admin;
    if (store_admin_get(app.store, ADMIN, &admin, &err)) die("store_admin_get", &err);
    record_requests(app.store);

    websession = (struct store_websession){.admin_id = admin.id, .created_at = time(NULL)};
    websession.expires_at = websession.created_at + 365 * 24 * 3600;
    secret_random_hex(fd.cookie, 32);
    secret_digest_hex(fd.cookie, websession.token_hash);
    secret_random_hex(fd.csrf, 32);
    dm_strlcpy(websession.csrf, fd.csrf, sizeof websession.csrf);
    write_websession();

    fd.port = app.cfg.listen_port;
    snprintf(fd.host, sizeof fd.host, "127.0.0.1:%u", fd.port);
    started = true;
}

static void stop(void)
{
    app_stop(&app);
    if (nftw(app.cfg.data_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        die("removing the data dir", NULL);
    started = false;
}

const struct fuzz_doorman *fuzz_doorman_get(void)
{
    if (!started) {
        start();
        atexit(stop);
    }
    return &fd;
}

void fuzz_doorman_after_input(void)
{
    if (!started) return;
    const char *every = getenv("FUZZ_RESET_EVERY");
    unsigned long reset_every = every && *every ? strtoul(every, NULL, 10) : RESET_EVERY;
    if (reset_every && ++inputs % reset_every == 0) {
        stop();
        start();
        return;
    }
    struct store_websession now;
    dm_err e = store_websession_get(app.store, websession.token_hash, time(NULL), &now, NULL);
    if (e == DM_ENOTFOUND) write_websession(); /* an input logged out */
}

size_t fuzz_http_exchange(uint16_t port, const void *req, size_t len, char *out, size_t cap,
                          int quiet_ms)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket", NULL);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)
        die("connect", NULL);
    const char *p = req;
    size_t sent = 0, kept = 0;
    bool writing = true;
    uint64_t deadline = clock_ms() + ANSWER_SECONDS * 1000, quiet_until = UINT64_MAX;
    for (;;) {
        if (writing && sent == len) {
            shutdown(s, SHUT_WR); /* the whole request: the server sees its end */
            writing = false;
        }
        struct pollfd pfd = {.fd = s, .events = POLLIN | (writing ? POLLOUT : 0)};
        uint64_t now = clock_ms();
        if (!writing && quiet_ms > 0 && quiet_until == UINT64_MAX) quiet_until = now + quiet_ms;
        if (now >= quiet_until) break;
        if (now >= deadline) {
            fprintf(stderr,
                    "fuzz_doorman: no answer and no close within %d s (%zu of %zu bytes "
                    "sent, %zu read)\n",
                    ANSWER_SECONDS, sent, len, kept);
            abort();
        }
        uint64_t until = quiet_until < deadline ? quiet_until : deadline;
        if (poll(&pfd, 1, (int)(until - now)) < 0 && errno != EINTR) die("poll", NULL);
        if (writing && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = send(s, p + sent, len - sent, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                writing = false; /* the server closed early (e.g. 413): read its answer */
        }
        if (pfd.revents & (POLLIN | POLLERR | POLLHUP)) {
            char buf[16384];
            ssize_t r = recv(s, buf, sizeof buf, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) break;
            if (r > 0 && quiet_until != UINT64_MAX) quiet_until = clock_ms() + (uint64_t)quiet_ms;
            if (r > 0 && kept + 1 < cap) {
                size_t take = (size_t)r < cap - 1 - kept ? (size_t)r : cap - 1 - kept;
                memcpy(out + kept, buf, take);
                kept += take;
            }
        }
    }
    /* a reset instead of a FIN: no TIME_WAIT left behind, so ports do not run out */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(s);
    if (cap) out[kept] = 0;
    return kept;
}

static void bad_answer(const char *why, const char *ans, size_t n)
{
    fprintf(stderr, "fuzz_doorman: %s in this answer (%zu bytes):\n%.*s\n", why, n,
            (int)(n < 4096 ? n : 4096), ans);
    abort();
}

/* The value of header `name` in the header block [h, end), or NULL; *len its length. */
static const char *header(const char *h, const char *end, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *line = h; line < end;) {
        const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (!eol) eol = end;
        if ((size_t)(eol - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (v < eol && *v == ' ')
                v++;
            *len = (size_t)(eol - v);
            return v;
        }
        line = eol + 2;
    }
    return NULL;
}

int fuzz_check_answer(const char *ans, size_t n, bool whole, bool json)
{
    if (n == 0) {
        if (whole) bad_answer("no answer", ans, n);
        return 0;
    }
    const char *final = ans; /* after any 1xx interim answers (100 Continue) */
    for (;;) {
        const char *eoh = memmem(final, n - (size_t)(final - ans), "\r\n\r\n", 4);
        if (!eoh || strncmp(final, "HTTP/1.1 1", 10) != 0) break;
        final = eoh + 4;
    }
    if (final == ans + n && !whole) return 0;
    n -= (size_t)(final - ans);
    ans = final;
    int status = 0;
    char sp = 0;
    if (n < 13 || strncmp(ans, "HTTP/1.", 7) != 0 || sscanf(ans + 9, "%3d%c", &status, &sp) != 2 ||
        sp != ' ')
        bad_answer("no status line", ans, n);
    if (status < 200 || status > 599) bad_answer("a status out of 200..599", ans, n);
    const char *end = memmem(ans, n, "\r\n\r\n", 4);
    if (!end) {
        if (whole) bad_answer("no end of the headers", ans, n);
        return status;
    }
    const char *body = end + 4;
    size_t avail = n - (size_t)(body - ans), ctlen = 0, cllen = 0;
    const char *ct = header(ans, end + 2, "Content-Type", &ctlen);
    const char *cl = header(ans, end + 2, "Content-Length", &cllen);
    size_t blen = cl ? strtoul(cl, NULL, 10) : avail;
    bool is_json = ct && ctlen >= 16 && strncasecmp(ct, "application/json", 16) == 0 &&
                   (ctlen == 16 || ct[16] == ';' || ct[16] == ' '); /* not application/jsonl */
    if (whole && (blen != avail))
        bad_answer("a body of another length than Content-Length", ans, n);
    if ((json || status >= 400) && whole && !is_json) bad_answer("no JSON", ans, n);
    if (!is_json || blen > avail) return status;
    json_error_t jerr;
    json_t *j = json_loadb(body, blen, 0, &jerr);
    if (!j) bad_answer(jerr.text, ans, n);
    if (status >= 400) {
        json_t *e = json_object_get(j, "error");
        const char *code = json_string_value(json_object_get(e, "code"));
        if (!code || !*code || !json_is_string(json_object_get(e, "message")))
            bad_answer("an error without error.code and error.message", ans, n);
    }
    json_decref(j);
    return status;
}
