/* server.h: a small HTTP/1.1 server over libmicrohttpd, shared by doorman and tgsim.
 *
 * Bodies. When a request has a body (a Content-Length above 0, or chunked), the server first
 * asks config.admit, with the headers only, how many bytes the handler takes for it (at most
 * max_body; no admit: max_body). A body longer than that (declared, or chunked and growing
 * past it) is answered 413 body_too_large. admit may instead answer the request itself (e.g.
 * 401 for a route that needs a login and has no valid cookie). Either way the body is dropped
 * as it arrives, never kept (answering while the client still sends would reset the connection
 * under it), and the answer is sent when it has ended, with Connection: close. Otherwise the
 * server keeps the whole body, then
 * calls the handler once per request on a server thread. The handler fills a struct
 * http_response; the server sends it and frees what the response owns. Handlers may run
 * concurrently on several threads.
 *
 * A request must carry one Host header, as RFC 9112 section 3.2 asks: an HTTP/1.1 request
 * without one, or any request with two, is answered 400 before the handler runs. HTTP/1.0 may
 * leave it out (then http_request.host is NULL). Which hosts to answer is the handler's choice.
 *
 * With threads == 0 every connection gets its own thread, so a handler may block (tgsim's
 * long polling does); otherwise a pool of `threads` threads serves all connections and
 * handlers must not block: work that waits (on Telegram, on another server) is handed to
 * http_res_defer(), which runs it on a separate, bounded set of worker threads while the
 * connection is parked (suspended), so the pool keeps answering everyone else.
 *
 * A body too large to hold (an export of a million rows) is streamed: http_res_stream() gives the
 * server a producer it calls for the next piece whenever the client has taken what came before.
 * The producer runs on the thread that sends that connection (a pool thread; with threads == 0
 * the connection's own), between the other connections that thread serves: each call does one
 * bounded piece of work (a page of rows read by key, about what one list request costs) and
 * returns, and nothing is held between calls — no pool thread, no worker, no database
 * transaction — so a slow reader costs only its connection and the producer's own memory, and a
 * long stream never takes a worker from the slow routes. Work that waits on another service has
 * no place in a producer; that is http_res_defer's.
 *
 * Every answer is counted as it is sent (core/metrics.h: its status class, and the time since
 * its headers arrived).
 *
 * Connections: at most HTTP_MAX_CONNECTIONS at once, at most per_ip from one address (past it
 * a new connection is closed at once, unanswered), each closed after conn_timeout_s idle
 * (a parked connection is not idle: it waits for its work). */
#ifndef DM_HTTP_SERVER_H
#define DM_HTTP_SERVER_H

#include "core/common.h"

#include <jansson.h>

struct MHD_Connection;
struct http_server;
struct http_response;

struct http_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* the URL path without the query string */
    const char *body;   /* NUL-terminated copy of the body (which may itself hold NULs) */
    size_t body_len;
    const char *host;   /* the Host header as sent, or NULL (HTTP/1.0 only) */
    char client_ip[64]; /* the peer's address; an IPv4-mapped IPv6 address as IPv4 */
    char local_ip[64];  /* the address the request came to (of this machine), the same way */
    uint16_t local_port;
    struct MHD_Connection *conn; /* for the lookups below only */
};

/* Lookups return NULL when absent; the strings live as long as the request. */
const char *http_header(const struct http_request *r, const char *name);
const char *http_query(const struct http_request *r, const char *name);
const char *http_cookie(const struct http_request *r, const char *name);

#define HTTP_MAX_HEADERS 12
#define HTTP_MAX_CONNECTIONS 1000u

/* Work handed over by http_res_defer(): runs on a worker thread with the request and the
 * response the handler left (its headers stay), and fills that response as a handler would. */
typedef void (*http_work_fn)(void *arg, const struct http_request *req, struct http_response *res);

/* A streamed body's producer (http_res_stream): writes the next bytes of the body into
 * buf[0..max) and sets *n to how many, at least 1; *n = 0 says the body is complete. An error
 * cuts the body off: the connection is closed before its end (a chunked answer then lacks its
 * last chunk, so the client can tell); the server logs that it did, the producer why. */
typedef dm_err (*http_stream_fn)(void *arg, char *buf, size_t max, size_t *n);

struct http_response {
    int status;               /* 0 means the handler did not answer: 404 is sent */
    const char *content_type; /* a string literal */
    char *body;               /* owned unless body_static */
    size_t len;
    bool body_static;
    int nheaders;
    struct {
        char name[48];
        char value[480];
    } headers[HTTP_MAX_HEADERS];
    struct { /* set by http_res_stream() only */
        http_stream_fn produce;
        void (*free)(void *arg);
        void *arg;
    } stream;
    struct { /* set by http_res_defer() only */
        http_work_fn work;
        void (*drop)(void *arg);
        void *arg;
    } defer;
};

/* Sets status and a JSON body; takes ownership of j. NULL (a json_pack that failed, e.g. on text
 * that is not UTF-8) or a value json_dumps cannot write answers 500 with an error message, and
 * is logged: an answer is never silently an empty object. */
void http_res_json(struct http_response *res, int status, json_t *j);
/* {"error":{"code":code,"message":...}} with the given status. */
void http_res_error(struct http_response *res, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A body that outlives the server (embedded assets): not copied, not freed. */
void http_res_static(struct http_response *res, int status, const char *ctype, const void *data,
                     size_t len);
/* Takes ownership of the malloc'd body. */
void http_res_take(struct http_response *res, int status, const char *ctype, char *body,
                   size_t len);
/* Answers status with a body made while it is sent (see the top of this file: which thread
 * runs produce, and why it must not wait). The length is not known beforehand: HTTP/1.1 gets
 * chunked transfer coding, HTTP/1.0 the end of the connection. Headers set with
 * http_res_header go out as with any answer; once the status line is sent, an error can only
 * cut the body off (http_stream_fn), so a handler checks what it can (parameters, a first read
 * of the data) before it calls this, and answers a JSON error instead.
 *
 * Ownership: arg belongs to the server from this call on. produce(arg, …) is called only after
 * the handler (or deferred work) has returned, from one thread at a time, until it ends the
 * body or fails; then free_fn(arg) (when not NULL) is called exactly once: after the last
 * produce, or when the client goes away, the connection times out (conn_timeout_s without the
 * client taking a byte), the server stops (http_server_stop cuts running streams off), or the
 * answer is replaced before it is sent (http_res_json, _error, _static, _take or _stream on res
 * free it). Whatever produce reads (a store) must outlive the server. */
void http_res_stream(struct http_response *res, int status, const char *ctype,
                     http_stream_fn produce, void *arg, void (*free_fn)(void *arg));
/* Adds a header (silently ignored past HTTP_MAX_HEADERS; values are truncated to fit). */
void http_res_header(struct http_response *res, const char *name, const char *value);

/* Hands the rest of the answer to `work`, for a handler that would otherwise wait (a call to
 * Telegram). After the handler returns, the server parks the connection (no pool thread is held
 * while it waits), queues the work for one of config.workers worker threads, and when work
 * returns resumes the connection and sends what work put in res.
 *
 * A handler calls it at most once per request. Ownership: arg belongs to the server from this
 * call on. The server calls work(arg, req, res) at most once and then drop(arg) (when drop is
 * not NULL) exactly once, also when the work never runs: when config.work_queue works already wait
 * for a worker, or the server is stopping, the answer is 503 busy (with Retry-After) and only drop
 * is called. The request passed to work (its strings, body, and the
 * http_header/http_query/http_cookie lookups) stays valid until work returns; nothing else of the
 * handler's (its stack) does, so arg must hold copies of what work needs. work may take as long as
 * it needs, but http_server_stop() waits for running work, so it must end by itself (every call it
 * makes has a deadline).
 *
 * With threads == 0 the work runs at once on the connection's own thread, after the handler. */
void http_res_defer(struct http_response *res, http_work_fn work, void *arg,
                    void (*drop)(void *arg));

typedef void (*http_handler_fn)(void *ctx, const struct http_request *req,
                                struct http_response *res);
/* See "Bodies" above: the most body bytes the handler takes for this request (headers only:
 * req->body is NULL), or an answer in res (res->status set; the return value is then unused). */
typedef size_t (*http_admit_fn)(void *ctx, const struct http_request *req,
                                struct http_response *res);

struct http_server_config {
    const char *bind_addr;   /* IPv4 or IPv6 literal, e.g. "127.0.0.1" */
    uint16_t port;           /* 0 picks a free port: see http_server_port() */
    size_t max_body;         /* the most any request's body may have */
    unsigned threads;        /* 0 = a thread per connection */
    unsigned conn_timeout_s; /* idle connections are closed after this; 0 = 60 s */
    unsigned per_ip;         /* connections at once from one client address; 0 = no limit */
    unsigned workers;        /* threads running deferred work at once; 0 = 8 (threads > 0) */
    unsigned work_queue;     /* deferred work waiting for a worker at most; 0 = 32 */
    http_handler_fn handler;
    http_admit_fn admit; /* NULL: every request may send max_body bytes */
    void *ctx;           /* passed to handler and admit */
};

dm_err http_server_start(const struct http_server_config *cfg, struct http_server **out,
                         struct dm_error *err);
uint16_t http_server_port(const struct http_server *s);
/* Stops accepting; answers deferred work that has not started 503 busy; waits for running
 * work and handlers; resumes every parked connection before libmicrohttpd stops; cuts streams
 * off (their free_fn runs); frees the server. NULL is allowed. */
void http_server_stop(struct http_server *s);

#endif
