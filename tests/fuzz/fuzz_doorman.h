/* fuzz_doorman.h: a real doorman inside a fuzzer's process, for the targets that go through
 * HTTP (api_fuzz.c, http_fuzz.c), and the socket exchange they drive it with.
 *
 * It is app.c's composition as `doorman serve` runs it (store, session pool, bot, job runner,
 * HTTP server with api_handle), started by app_start() on 127.0.0.1 with a free port, a data
 * dir in /tmp and SQLite, then given an admin ("fuzz", made as `doorman admin add` makes one),
 * a web session of that admin written to the store as a login writes it, and a few recorded
 * join requests in two channels (one without a title). Telegram is out of reach on purpose: the
 * Bot API URL and every MTProto DC are 127.0.0.1:1, where nothing listens, so a handler that
 * calls Telegram gets "connection refused" at once; no bot token is set.
 *
 * State stays bounded: after every input a web session ended by a logout is written back, and
 * every FUZZ_RESET_EVERY inputs (default 20000) the process starts over with a fresh data dir,
 * so jobs, audit entries and sessions made by inputs cannot pile up until the fuzzer slows.
 * An input's answer can thus depend on the inputs before it since the last start-over. */
#ifndef DM_FUZZ_DOORMAN_H
#define DM_FUZZ_DOORMAN_H

#include "core/common.h"

struct fuzz_doorman {
    uint16_t port;
    char host[32];   /* "127.0.0.1:<port>": a Host header doorman answers */
    char cookie[65]; /* the admin's doorman_session cookie */
    char csrf[65];   /* its X-CSRF-Token */
};

/* The running doorman: started on the first call (aborts with a message when it cannot);
 * valid until the next fuzz_doorman_after_input(). */
const struct fuzz_doorman *fuzz_doorman_get(void);
/* Call after every input: keeps the web session and the state bounded as said above. */
void fuzz_doorman_after_input(void);

/* Sends len bytes over a new TCP connection to 127.0.0.1:port, half-closes it and reads until
 * the server closes it, keeping the first cap - 1 bytes of the answer in out (NUL-terminated);
 * returns how many it kept. With quiet_ms > 0 it also stops once the request is sent and nothing
 * has arrived for quiet_ms: libmicrohttpd (0.9.75) does not notice a client's FIN, so a request
 * that is not complete, or a keep-alive one, holds its connection open until the server's idle
 * timeout (60 s). The connection is then reset (no TIME_WAIT left). Aborts when the server
 * neither closes nor goes quiet within 10 s: a server that hangs on some input is a finding like
 * a crash. */
size_t fuzz_http_exchange(uint16_t port, const void *req, size_t len, char *out, size_t cap,
                          int quiet_ms);

/* Checks the first answer in what fuzz_http_exchange read (n bytes, NUL-terminated): an
 * HTTP/1.x status line with a status in 200..599 and a header block; when its Content-Type is
 * application/json and its Content-Length bytes were read, a body of valid UTF-8 JSON that, for
 * a status of 400 and up, is {"error":{"code":"…","message":"…"}}. With `whole` (a request the
 * target built itself) the answer must be there and complete; with `json` it must be JSON (an
 * /api/ route). Aborts, printing the answer, when a check fails. Returns the status, or 0 when
 * the server closed without answering (allowed without `whole`). */
int fuzz_check_answer(const char *ans, size_t n, bool whole, bool json);

#endif
