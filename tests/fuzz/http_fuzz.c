/* libFuzzer target: the HTTP request path, from raw bytes on a socket: libmicrohttpd as
 * src/http/server.c drives it (the request line, headers, Host counting, body buffering and its
 * limit, the answer), then the router's Host check (http/host.c), path, query and cookie lookups
 * and whatever handler the request reaches, in a real doorman (fuzz_doorman.h: app.c's
 * composition, SQLite, an admin with a web session; Telegram out of reach).
 *
 * An input is sent as it is over a new connection to 127.0.0.1:<port>, which is then
 * half-closed, except that "@HOST@" is replaced by doorman's host:port, "@COOKIE@" by the
 * admin's session cookie and "@CSRF@" by its CSRF token, so that inputs can pass the Host and
 * login checks. What comes back until the server closes the connection or goes quiet for 25 ms
 * (libmicrohttpd keeps an unfinished or keep-alive request's connection open after the client's
 * FIN: fuzz_doorman.h) is checked: the first answer has a status in 200..599, and a JSON answer
 * is valid UTF-8 JSON, with error.code on errors; no answer at all is allowed (a request that is
 * not complete). Every 64 inputs the server must still answer GET /api/health and close.
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

#define QUIET_MS 25 /* the answer is over when nothing more comes for this long */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Copies [data, data + size) into b with the placeholders replaced. */
static void expand(struct buf *b, const struct fuzz_doorman *d, const uint8_t *data, size_t size)
{
    const struct {
        const char *name, *value;
    } subst[] = {{"@HOST@", d->host}, {"@COOKIE@", d->cookie}, {"@CSRF@", d->csrf}};
    for (size_t i = 0; i < size;) {
        size_t k = 0;
        for (; k < DM_ARRAY_LEN(subst); k++) {
            size_t n = strlen(subst[k].name);
            if (size - i >= n && memcmp(data + i, subst[k].name, n) == 0) {
                buf_puts(b, subst[k].value);
                i += n;
                break;
            }
        }
        if (k == DM_ARRAY_LEN(subst)) buf_append(b, &data[i++], 1);
    }
}

static char answer[1 << 20];

static void still_alive(const struct fuzz_doorman *d)
{
    char req[128];
    int n = snprintf(req, sizeof req,
                     "GET /api/health HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", d->host);
    size_t got = fuzz_http_exchange(d->port, req, (size_t)n, answer, sizeof answer, 0);
    if (fuzz_check_answer(answer, got, true, true) != 200) {
        fprintf(stderr, "http_fuzz: the server no longer answers GET /api/health\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned long runs;
    const struct fuzz_doorman *d = fuzz_doorman_get();
    struct buf req;
    buf_init(&req, 1 << 21);
    expand(&req, d, data, size);
    size_t n = fuzz_http_exchange(d->port, req.data ? req.data : "", req.len, answer, sizeof answer,
                                  QUIET_MS);
    fuzz_check_answer(answer, n, false, false);
    buf_release(&req);
    if (++runs % 64 == 0) still_alive(d);
    fuzz_doorman_after_input();
    return 0;
}
