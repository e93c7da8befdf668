/* server.h: a small HTTP/1.1 server over libmicrohttpd, shared by doorman and tgsim.
 *
 * The server reads the whole request body (up to max_body bytes; larger bodies are answered
 * 413 with a JSON error before the handler runs), then calls one handler per request on a
 * server thread. The handler fills a struct http_response; the server sends it and frees
 * what the response owns. Handlers may run concurrently on several threads.
 *
 * A request must carry one Host header, as RFC 9112 section 3.2 asks: an HTTP/1.1 request
 * without one, or any request with two, is answered 400 before the handler runs. HTTP/1.0 may
 * leave it out (then http_request.host is NULL). Which hosts to answer is the handler's choice.
 *
 * With threads == 0 every connection gets its own thread, so a handler may block (tgsim's
 * long polling does); otherwise a pool of `threads` threads serves all connections and
 * handlers must not block for long. */
#ifndef DM_HTTP_SERVER_H
#define DM_HTTP_SERVER_H

#include "core/common.h"

#include <jansson.h>

struct MHD_Connection;
struct http_server;

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
/* Adds a header (silently ignored past HTTP_MAX_HEADERS; values are truncated to fit). */
void http_res_header(struct http_response *res, const char *name, const char *value);

typedef void (*http_handler_fn)(void *ctx, const struct http_request *req,
                                struct http_response *res);

struct http_server_config {
    const char *bind_addr; /* IPv4 or IPv6 literal, e.g. "127.0.0.1" */
    uint16_t port;         /* 0 picks a free port: see http_server_port() */
    size_t max_body;
    unsigned threads;        /* 0 = a thread per connection */
    unsigned conn_timeout_s; /* idle connections are closed after this; 0 = 60 s */
    http_handler_fn handler;
    void *ctx;
};

dm_err http_server_start(const struct http_server_config *cfg, struct http_server **out,
                         struct dm_error *err);
uint16_t http_server_port(const struct http_server *s);
/* Stops accepting, waits for running handlers, frees the server. NULL is allowed. */
void http_server_stop(struct http_server *s);

#endif
