#include "core/common.h"
#include "http/server.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#define DEFAULT_WORKERS 8
#define DEFAULT_WORK_QUEUE 32
#define BUSY_RETRY_AFTER "5"     /* seconds, in a 503 busy */
#define STOP_SEND_MS 2000        /* at stop, how long the answers of finished work may take to go */
#define STREAM_BLOCK (16 * 1024) /* bytes a streamed body's producer is asked for at most */

struct conn_state;

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_server_config cfg;
    uint16_t port;
    /* deferred work: a FIFO of parked connections, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct conn_state *head, *tail;
    unsigned waiting; /* in the FIFO */
    unsigned parked;  /* connections parked and not yet answered or closed */
    bool stopping;
    pthread_t *workers;
    unsigned nworkers;
};

/* What we keep between the calls MHD makes for one request. The request and the response live
 * here (not on a pool thread's stack) so that deferred work can use them while the connection
 * is parked. */
struct conn_state {
    struct buf body;
    bool too_big;
    bool answered;      /* res was filled before the body: the body is dropped */
    bool parked;        /* work was handed over; its answer is in res */
    bool unparked;      /* that answer was sent, or the connection closed */
    int64_t started_us; /* when the headers arrived (clock_us) */
    struct MHD_Connection *conn;
    struct http_request req;
    struct http_response res;
    struct conn_state *next; /* in the server's FIFO */
};

const char *http_header(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_cookie(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

/* Frees a stream that was never handed to libmicrohttpd. */
static void res_clear_stream(struct http_response *res)
{
    if (res->stream.free) res->stream.free(res->stream.arg);
    memset(&res->stream, 0, sizeof res->stream);
}

static void res_clear_body(struct http_response *res)
{
    res_clear_stream(res);
    if (!res->body_static) free(res->body);
    res->body = NULL;
    res->len = 0;
    res->body_static = false;
}

void http_res_take(struct http_response *res, int status, const char *ctype, char *body, size_t len)
{
    res_clear_body(res);
    res->status = status;
    res->content_type = ctype;
    res->body = body;
    res->len = len;
}

/* What http_res_json answers when it cannot build the answer: never an empty {}. */
static const char json_failed[] = "{\"error\":{\"code\":\"internal\",\"message\":\"The answer "
                                  "could not be built (out of memory, or text that is not "
                                  "UTF-8); it was logged.\"}}";

void http_res_json(struct http_response *res, int status, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!s) {
        log_error("http", "could not build a %d answer as JSON (%s)", status,
                  j ? "json_dumps failed" : "the JSON value was not made");
        http_res_static(res, 500, "application/json; charset=utf-8", json_failed,
                        sizeof json_failed - 1);
        return;
    }
    http_res_take(res, status, "application/json; charset=utf-8", s, strlen(s));
}

void http_res_error(struct http_response *res, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    dm_vsnprintf_utf8(msg, sizeof msg, fmt, ap);
    va_end(ap);
    http_res_json(res, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

void http_res_static(struct http_response *res, int status, const char *ctype, const void *data,
                     size_t len)
{
    res_clear_body(res);
    res->status = status;
    res->content_type = ctype;
    res->body = (char *)data;
    res->len = len;
    res->body_static = true;
}

void http_res_stream(struct http_response *res, int status, const char *ctype,
                     http_stream_fn produce, void *arg, void (*free_fn)(void *arg))
{
    res_clear_body(res);
    res->status = status;
    res->content_type = ctype;
    res->stream.produce = produce;
    res->stream.free = free_fn;
    res->stream.arg = arg;
}

/* A stream as libmicrohttpd holds it: the response owns it, and frees it with stream_free. */
struct stream {
    http_stream_fn produce;
    void (*free)(void *arg);
    void *arg;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    size_t n = 0;
    dm_err e = s->produce(s->arg, buf, max, &n);
    if (e) {
        log_error("http", "a streamed answer was cut off after %" PRIu64 " bytes: %s", pos,
                  dm_strerror(e));
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    return n ? (ssize_t)DM_MIN(n, max) : MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    if (s->free) s->free(s->arg);
    free(s);
}

/* The response for res's stream, which it takes over; NULL (the stream freed) when out of
 * memory. */
static struct MHD_Response *stream_response(struct http_response *res)
{
    struct stream *s = malloc(sizeof *s);
    if (!s) {
        res_clear_stream(res);
        return NULL;
    }
    *s = (struct stream){res->stream.produce, res->stream.free, res->stream.arg};
    memset(&res->stream, 0, sizeof res->stream);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                               stream_read, s, stream_free);
    if (!r) stream_free(s);
    return r;
}

void http_res_defer(struct http_response *res, http_work_fn work, void *arg,
                    void (*drop)(void *arg))
{
    res->defer.work = work;
    res->defer.drop = drop;
    res->defer.arg = arg;
}

/* Calls the deferred work's drop, once. */
static void defer_drop(struct http_response *res)
{
    if (res->defer.drop) res->defer.drop(res->defer.arg);
    memset(&res->defer, 0, sizeof res->defer);
}

static void defer_run(struct conn_state *st)
{
    st->res.defer.work(st->res.defer.arg, &st->req, &st->res);
    defer_drop(&st->res);
}

static void answer_busy(struct http_response *res, const char *why)
{
    defer_drop(res);
    http_res_error(res, 503, "busy", "%s", why);
    http_res_header(res, "Retry-After", BUSY_RETRY_AFTER);
}

void http_res_header(struct http_response *res, const char *name, const char *value)
{
    if (res->nheaders >= HTTP_MAX_HEADERS) return;
    dm_strlcpy(res->headers[res->nheaders].name, name, sizeof res->headers[0].name);
    dm_strlcpy(res->headers[res->nheaders].value, value, sizeof res->headers[0].value);
    res->nheaders++;
}

/* The one place every answer is sent from: counted here (core/metrics.h). */
static enum MHD_Result send_response(struct MHD_Connection *conn, struct conn_state *st)
{
    struct http_response *res = &st->res;
    if (res->status == 0) http_res_error(res, 404, "not_found", "no such endpoint");
    metrics_http_answer(res->status, clock_us() - st->started_us);
    struct MHD_Response *r;
    if (res->stream.produce)
        r = stream_response(res);
    else if (res->body_static)
        r = MHD_create_response_from_buffer(res->len, res->body, MHD_RESPMEM_PERSISTENT);
    else {
        r = MHD_create_response_from_buffer(res->len, res->body ? res->body : (char *)"",
                                            res->body ? MHD_RESPMEM_MUST_FREE
                                                      : MHD_RESPMEM_PERSISTENT);
        res->body = NULL; /* MHD owns it now */
    }
    if (!r) return MHD_NO;
    if (res->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    for (int i = 0; i < res->nheaders; i++)
        MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The text of an IPv4 or IPv6 socket address (an IPv4-mapped IPv6 one as IPv4), and its port. */
static void addr_text(const struct sockaddr *sa, char *out, size_t n, uint16_t *port)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    out[0] = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)n);
        if (port) *port = ntohs(a->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
        const unsigned char *b = a->sin6_addr.s6_addr;
        if (memcmp(b, v4mapped, sizeof v4mapped) == 0)
            inet_ntop(AF_INET, b + 12, out, (socklen_t)n);
        else
            inet_ntop(AF_INET6, &a->sin6_addr, out, (socklen_t)n);
        if (port) *port = ntohs(a->sin6_port);
    }
}

static void conn_addresses(struct MHD_Connection *conn, struct http_request *req)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr)
        addr_text(ci->client_addr, req->client_ip, sizeof req->client_ip, NULL);
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (ci && getsockname(ci->connect_fd, (struct sockaddr *)&ss, &len) == 0)
        addr_text((struct sockaddr *)&ss, req->local_ip, sizeof req->local_ip, &req->local_port);
}

static enum MHD_Result count_host(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    (void)value;
    if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) ++*(int *)cls;
    return MHD_YES;
}

/* Whether the request has a body to read: a Content-Length above 0, or a transfer coding. */
static bool has_body(struct MHD_Connection *conn, unsigned long long *declared)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    *declared = cl ? strtoull(cl, NULL, 10) : 0;
    return *declared > 0 ||
           MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

static void request_fill(struct http_request *req, struct MHD_Connection *conn, const char *url,
                         const char *method)
{
    req->method = method;
    req->path = url;
    req->host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    req->conn = conn;
    conn_addresses(conn, req);
}

/* An answer made before the body is read: the body is read and dropped as it comes (an answer
 * sent while the client still sends would make the kernel reset the connection, and the client
 * would see that instead of the answer), then it is sent and the connection closed. */
static enum MHD_Result answer_early(struct conn_state *st)
{
    defer_drop(&st->res); /* admit cannot defer */
    http_res_header(&st->res, "Connection", "close");
    st->answered = true;
    return MHD_YES;
}

/* The first call, with the headers only: the body's limit, or an answer before reading it. */
static enum MHD_Result on_headers(struct http_server *s, struct conn_state *st,
                                  struct MHD_Connection *conn, const char *url, const char *method)
{
    unsigned long long declared = 0;
    if (!has_body(conn, &declared)) return MHD_YES;
    size_t limit = s->cfg.max_body;
    if (s->cfg.admit) {
        request_fill(&st->req, conn, url, method);
        limit = DM_MIN(limit, s->cfg.admit(s->cfg.ctx, &st->req, &st->res));
        if (st->res.status) return answer_early(st);
    }
    st->body.cap = limit;
    if (declared > limit) {
        http_res_error(&st->res, 413, "body_too_large", "request body is larger than %zu bytes",
                       limit);
        return answer_early(st);
    }
    return MHD_YES;
}

/* Parks the connection and queues its work, or answers 503 busy. */
static enum MHD_Result park(struct http_server *s, struct conn_state *st,
                            struct MHD_Connection *conn)
{
    pthread_mutex_lock(&s->mu);
    const char *refused = NULL;
    if (s->stopping)
        refused = "doorman is shutting down; try again when it is back.";
    else if (s->waiting >= s->cfg.work_queue)
        refused = "Too many slow requests (ones that wait on another service) are running at "
                  "once; try again in a few seconds.";
    if (refused) {
        pthread_mutex_unlock(&s->mu);
        log_warn("http", "%s %s answered 503: %s", st->req.method, st->req.path, refused);
        answer_busy(&st->res, refused);
        return send_response(conn, st);
    }
    st->conn = conn;
    st->parked = true;
    MHD_suspend_connection(conn); /* before a worker can resume it */
    st->next = NULL;
    if (s->tail)
        s->tail->next = st;
    else
        s->head = st;
    s->tail = st;
    s->waiting++;
    s->parked++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return MHD_YES;
}

/* Counts a parked connection as done (its answer sent, or it closed: MHD says when the request
 * is completed), once. */
static void unpark(struct http_server *s, struct conn_state *st)
{
    if (!st->parked || st->unparked) return;
    st->unparked = true;
    pthread_mutex_lock(&s->mu);
    s->parked--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *s = cls;
    struct conn_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st) return MHD_NO;
        buf_init(&st->body, s->cfg.max_body);
        st->started_us = clock_us();
        *con_cls = st;
        return on_headers(s, st, conn, url, method);
    }
    if (*upload_data_size) {
        if (!st->too_big && !st->answered &&
            buf_append(&st->body, upload_data, *upload_data_size) != DM_OK) {
            st->too_big = true;
            buf_release(&st->body); /* what comes after is dropped as it arrives */
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->parked || st->answered) /* resumed: the work has answered; or admit or 413 did */
        return send_response(conn, st);
    if (st->too_big) {
        http_res_error(&st->res, 413, "body_too_large", "request body is larger than %zu bytes",
                       st->body.cap);
        http_res_header(&st->res, "Connection", "close");
        return send_response(conn, st);
    }
    int hosts = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_host, &hosts);
    if (hosts > 1 || (hosts == 0 && strcmp(version, MHD_HTTP_VERSION_1_0) != 0)) {
        http_res_error(&st->res, 400, "bad_request", "A request must carry one Host header.");
        http_res_header(&st->res, "Connection", "close");
        return send_response(conn, st);
    }
    if (!st->body.data) buf_append(&st->body, "", 0);
    request_fill(&st->req, conn, url, method);
    st->req.body = st->body.data ? st->body.data : "";
    st->req.body_len = st->body.len;
    s->cfg.handler(s->cfg.ctx, &st->req, &st->res);
    if (st->res.defer.work) {
        if (s->nworkers) return park(s, st, conn);
        defer_run(st); /* a thread per connection: this one may wait */
    }
    return send_response(conn, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_state *st = *con_cls;
    if (!st) return;
    unpark(cls, st);
    defer_drop(&st->res);
    res_clear_body(&st->res);
    buf_release(&st->body);
    free(st);
    *con_cls = NULL;
}

static void *worker_run(void *arg)
{
    struct http_server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        struct conn_state *st = s->stopping ? NULL : s->head;
        if (st) {
            s->head = st->next;
            if (!s->head) s->tail = NULL;
            s->waiting--;
        }
        pthread_mutex_unlock(&s->mu);
        if (!st) return NULL;
        defer_run(st);
        MHD_resume_connection(st->conn);
    }
}

/* Starts the worker threads for deferred work; false when none could start. */
static bool workers_start(struct http_server *s)
{
    s->workers = calloc(s->cfg.workers, sizeof *s->workers);
    if (!s->workers) return false;
    for (unsigned i = 0; i < s->cfg.workers; i++) {
        if (pthread_create(&s->workers[i], NULL, worker_run, s) != 0) break;
        s->nworkers++;
    }
    return s->nworkers > 0;
}

/* Answers the work that has not started 503, lets running work end, and resumes every parked
 * connection; after it no connection is parked and none will be. */
static void workers_stop(struct http_server *s)
{
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    struct conn_state *queued = s->head;
    s->head = s->tail = NULL;
    s->waiting = 0;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    while (queued) {
        struct conn_state *st = queued;
        queued = st->next;
        answer_busy(&st->res, "doorman is shutting down; try again when it is back.");
        MHD_resume_connection(st->conn);
    }
    for (unsigned i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    free(s->workers);
    s->workers = NULL;
    s->nworkers = 0;
    /* every parked connection is resumed: give the pool a moment to send their answers */
    pthread_mutex_lock(&s->mu);
    struct timespec until = clock_after_ms(STOP_SEND_MS);
    while (s->parked && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0) {
    }
    pthread_mutex_unlock(&s->mu);
}

static void server_free(struct http_server *s)
{
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

dm_err http_server_start(const struct http_server_config *cfg, struct http_server **out,
                         struct dm_error *err)
{
    struct http_server *s = calloc(1, sizeof *s);
    if (!s) return dm_fail(err, DM_ENOMEM, "out of memory");
    s->cfg = *cfg;
    if (!s->cfg.workers) s->cfg.workers = DEFAULT_WORKERS;
    if (!s->cfg.work_queue) s->cfg.work_queue = DEFAULT_WORK_QUEUE;
    pthread_mutex_init(&s->mu, NULL);
    clock_cond_init(&s->cv);
    struct sockaddr_storage ss = {0};
    bool v6 = strchr(cfg->bind_addr, ':') != NULL;
    unsigned flags = MHD_USE_ERROR_LOG | MHD_USE_INTERNAL_POLLING_THREAD;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(cfg->port);
        if (inet_pton(AF_INET6, cfg->bind_addr, &a->sin6_addr) != 1) goto bad_addr;
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(cfg->port);
        if (inet_pton(AF_INET, cfg->bind_addr, &a->sin_addr) != 1) goto bad_addr;
    }
    unsigned timeout = cfg->conn_timeout_s ? cfg->conn_timeout_s : 60;
    if (cfg->threads == 0) {
        flags |= MHD_USE_THREAD_PER_CONNECTION;
        s->daemon = MHD_start_daemon(
            flags, cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
            MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip,
            MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, MHD_OPTION_END);
    } else {
        if (!workers_start(s)) goto no_workers;
        flags |= MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
        /* one thread is the polling thread alone (MHD warns about a pool of one) */
        struct MHD_OptionItem pool[] = {
            {cfg->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, cfg->threads, NULL},
            {MHD_OPTION_END, 0, NULL}};
        s->daemon = MHD_start_daemon(
            flags, cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
            MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_ARRAY, pool,
            MHD_OPTION_CONNECTION_LIMIT, HTTP_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            cfg->per_ip, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, MHD_OPTION_END);
    }
    if (!s->daemon) {
        workers_stop(s);
        server_free(s);
        return dm_fail(err, DM_EIO, "cannot listen on %s port %u (in use, or not allowed?)",
                       cfg->bind_addr, cfg->port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    *out = s;
    return DM_OK;
bad_addr:
    server_free(s);
    return dm_fail(err, DM_EINVAL, "not an IP address: %s", cfg->bind_addr);
no_workers:
    workers_stop(s);
    server_free(s);
    return dm_fail(err, DM_ENOMEM, "cannot start the HTTP server's worker threads");
}

uint16_t http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_stop(struct http_server *s)
{
    if (!s) return;
    workers_stop(s);
    MHD_stop_daemon(s->daemon);
    server_free(s);
}
