/* libFuzzer target: API requests, logged in, through the router and every handler of a real
 * doorman (fuzz_doorman.h: app.c's composition with SQLite, an admin, a web session and a few
 * join requests; Telegram out of reach), over HTTP as a browser sends them.
 *
 * An input is [route][flags] then "<arg>\n<query>\n<body>" (missing parts are empty):
 *   route  picks an entry of `routes` below (modulo its size): docs/api.md's endpoints as the
 *          router lists them, then a few other paths; "{}" in its path is replaced by <arg>.
 *          Left out: the five session routes that connect to Telegram over MTProto (login,
 *          bot, import, check, load), which with Telegram out of reach wait out their call's
 *          timeout (about 20 s: issue 10 item 3) on every input that gets past validation;
 *          the integration tests drive them against tgsim
 *   flags  bit 0: no session cookie; bit 1: no X-CSRF-Token header; bit 2: Content-Type
 *          text/plain; bit 3: no Content-Type; bit 4: the other method (GET <-> POST);
 *          bit 5: Host evil.example (not doorman's: 421)
 *   arg, query: sent as they are, except that bytes a request line cannot hold (controls,
 *          space, '#', bytes >= 0x7f, and '?' in <arg>) are percent-encoded
 *   body   the request body (Content-Length), as it is
 * Every request carries Host 127.0.0.1:<port> and Connection: close. Checked for every answer
 * (fuzz_check_answer): a status in 200..599, the whole body, JSON (valid UTF-8) on /api/
 * routes but the exports (a path ending in /export), and error.code with error.message on every
 * error.
 * No leak check: libcrypto (under curl and libpq) keeps memory until the process exits.
 * fuzz-sources: tests/fuzz/fuzz_doorman.c src/app.c src/api/ src/jobs/ src/telegram/ src/botapi/
 * src/rules/ src/blocklist/ src/mtproto/ src/mtproto/tl/ src/store/ src/http/ src/core/
 * src/alerts/ src/verify/ build-fuzz/web_assets.c
 * fuzz-pkgs: libmicrohttpd jansson sqlite3 libpq libsodium libcurl libcrypto zlib libutf8proc
 * libpcre2-8
 * fuzz-flags: -detect_leaks=0 */
#include "core/common.h"

#include "core/buf.h"
#include "fuzz_doorman.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    const char *method, *path;
} routes[] = {
    {"GET", "/api/setup"},
    {"POST", "/api/setup"},
    {"POST", "/api/login"},
    {"POST", "/api/logout"},
    {"GET", "/api/me"},
    {"GET", "/api/settings"},
    {"POST", "/api/settings"},
    {"GET", "/api/invite-requests"},
    {"POST", "/api/invite-requests/approve"},
    {"POST", "/api/invite-requests/deny"},
    {"POST", "/api/invite-requests/approve-all"},
    {"POST", "/api/invite-requests/deny-all"},
    {"POST", "/api/invite-requests/preflight"},
    {"GET", "/api/me/preferences"},
    {"POST", "/api/me/preferences"},
    {"GET", "/api/chats"},
    {"GET", "/api/jobs"},
    {"GET", "/api/jobs/{}"},
    {"POST", "/api/jobs/{}/cancel"},
    {"GET", "/api/audit"},
    {"GET", "/api/sessions"},
    {"GET", "/api/sessions/list"},
    {"GET", "/api/sessions/login/{}"},
    {"POST", "/api/sessions/login/code"},
    {"POST", "/api/sessions/login/password"},
    {"GET", "/api/sessions/{}/export"},
    {"POST", "/api/sessions/{}/delete"},
    {"GET", "/api/health"},
    {"POST", "/telegram/webhook"},
    {"GET", "/api/{}"}, /* any other API path */
    {"GET", "/{}"},     /* the panel's files */
    /* added later, here so that the inputs kept before still name the same routes */
    {"GET", "/api/invite-requests/export"},
    {"GET", "/api/audit/export"},
    {"POST", "/api/sessions/login/resend"},
    {"GET", "/api/rules"},
    {"POST", "/api/rules"},
    {"POST", "/api/rules/reorder"},
    {"POST", "/api/rules/dry-run"},
    {"POST", "/api/rules/apply"},
    {"POST", "/api/rules/{}/update"},
    {"POST", "/api/rules/{}/enable"},
    {"POST", "/api/rules/{}/delete"},
    {"GET", "/api/rule-lists"},
    {"GET", "/api/rule-lists/{}"},
    {"POST", "/api/rule-lists/{}"},
    {"POST", "/api/rule-lists/{}/delete"},
    {"GET", "/api/modes"},
    {"POST", "/api/modes"},
    {"POST", "/api/invite-requests/release"},
    {"POST", "/api/invite-requests/unban"},
    {"GET", "/api/guard"},
    {"GET", "/api/admins"},
    {"POST", "/api/admins/invite"},
    {"POST", "/api/admins/{}/update"},
    {"POST", "/api/admins/{}/delete"},
    {"GET", "/api/invite"},
    {"POST", "/api/invite"},
    {"POST", "/api/me/password"},
    {"POST", "/api/me/totp/setup"},
    {"POST", "/api/me/totp/enable"},
    {"POST", "/api/me/totp/disable"},
    {"GET", "/api/tokens"},
    {"POST", "/api/tokens"},
    {"POST", "/api/tokens/{}/revoke"},
    {"GET", "/api/webhooks"},
    {"POST", "/api/webhooks"},
    {"POST", "/api/webhooks/{}/update"},
    {"POST", "/api/webhooks/{}/delete"},
    {"POST", "/api/webhooks/{}/test"},
    {"GET", "/api/webhooks/{}/deliveries"},
    {"GET", "/api/alerts"},
    {"POST", "/api/alerts"},
    {"GET", "/api/stats"},
    {"GET", "/api/links"},
    {"POST", "/api/links"},
    {"POST", "/api/links/edit"},
    {"POST", "/api/links/revoke"},
    {"POST", "/api/links/refresh"},
    {"POST", "/api/decisions/check"},
    {"GET", "/api/challenges"},
    {"POST", "/api/challenges"},
    {"GET", "/api/verifications/{}"},
    {"POST", "/api/app/verify/open"},
    {"POST", "/api/app/verify/answer"},
    {"POST", "/api/sessions/load"}, /* no session ever exists here: it never reaches MTProto */
};

/* Appends n bytes of s, percent-encoding what a request line cannot carry. */
static void put_encoded(struct buf *b, const uint8_t *s, size_t n, bool arg)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c <= ' ' || c >= 0x7f || c == '#' || (arg && c == '?'))
            buf_printf(b, "%%%02X", c);
        else
            buf_append(b, &s[i], 1);
    }
}

/* The next '\n'-ended part of [*p, end); the last part runs to end. */
static const uint8_t *part(const uint8_t **p, const uint8_t *end, size_t *len)
{
    const uint8_t *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
    *len = (size_t)((nl ? nl : end) - s);
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    const struct fuzz_doorman *d = fuzz_doorman_get();
    unsigned route = data[0] % DM_ARRAY_LEN(routes), flags = data[1];
    const uint8_t *p = data + 2, *end = data + size;
    size_t arg_len, query_len;
    const uint8_t *arg = part(&p, end, &arg_len);
    const uint8_t *query = p < end ? part(&p, end, &query_len) : (query_len = 0, p);
    const uint8_t *body = p;
    size_t body_len = (size_t)(end - p);

    const char *method = routes[route].method;
    if (flags & 16) method = strcmp(method, "GET") == 0 ? "POST" : "GET";
    const char *path = routes[route].path, *brace = strstr(path, "{}");
    struct buf req;
    buf_init(&req, 1 << 20);
    buf_printf(&req, "%s ", method);
    if (brace) {
        buf_append(&req, path, (size_t)(brace - path));
        put_encoded(&req, arg, arg_len, true);
        buf_printf(&req, "%s", brace + 2);
    } else {
        buf_printf(&req, "%s", path);
    }
    if (query_len) {
        buf_append(&req, "?", 1);
        put_encoded(&req, query, query_len, false);
    }
    buf_printf(&req, " HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n",
               flags & 32 ? "evil.example" : d->host);
    if (!(flags & 1)) buf_printf(&req, "Cookie: doorman_session=%s\r\n", d->cookie);
    if (!(flags & 2)) buf_printf(&req, "X-CSRF-Token: %s\r\n", d->csrf);
    if (!(flags & 8))
        buf_printf(&req, "Content-Type: %s\r\n", flags & 4 ? "text/plain" : "application/json");
    buf_printf(&req, "Content-Length: %zu\r\n\r\n", body_len);
    buf_append(&req, body, body_len);

    static char answer[1 << 20];
    size_t n = fuzz_http_exchange(d->port, req.data, req.len, answer, sizeof answer, 0);
    /* exports answer files (a session file, CSV, JSON Lines); JSON only for their errors */
    size_t sent_path = strcspn(req.data + strlen(method) + 1, "? ");
    bool api = strncmp(path, "/api/", 5) == 0 &&
               !(sent_path >= 7 &&
                 memcmp(req.data + strlen(method) + 1 + sent_path - 7, "/export", 7) == 0);
    fuzz_check_answer(answer, n, true, api);
    buf_release(&req);
    fuzz_doorman_after_input();
    return 0;
}
