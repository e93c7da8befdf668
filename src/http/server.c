#include "core/common.h"
#include "http/server.h"
#include "core/buf.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_server_config cfg;
    uint16_t port;
};

/* What we keep between the calls MHD makes for one request. */
struct conn_state {
    struct buf body;
    bool too_big;
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

static void res_clear_body(struct http_response *res)
{
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

void http_res_header(struct http_response *res, const char *name, const char *value)
{
    if (res->nheaders >= HTTP_MAX_HEADERS) return;
    dm_strlcpy(res->headers[res->nheaders].name, name, sizeof res->headers[0].name);
    dm_strlcpy(res->headers[res->nheaders].value, value, sizeof res->headers[0].value);
    res->nheaders++;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_response *res)
{
    if (res->status == 0) http_res_error(res, 404, "not_found", "no such endpoint");
    struct MHD_Response *r;
    if (res->body_static)
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
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body) st->too_big = true;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!st->too_big && buf_append(&st->body, upload_data, *upload_data_size) != DM_OK)
            st->too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct http_response res = {0};
    if (st->too_big) {
        http_res_error(&res, 413, "body_too_large", "request body is larger than %zu bytes",
                       s->cfg.max_body);
        http_res_header(&res, "Connection", "close");
        return send_response(conn, &res);
    }
    int hosts = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_host, &hosts);
    if (hosts > 1 || (hosts == 0 && strcmp(version, MHD_HTTP_VERSION_1_0) != 0)) {
        http_res_error(&res, 400, "bad_request", "A request must carry one Host header.");
        http_res_header(&res, "Connection", "close");
        return send_response(conn, &res);
    }
    if (!st->body.data) buf_append(&st->body, "", 0);
    struct http_request req = {
        .method = method,
        .path = url,
        .body = st->body.data ? st->body.data : "",
        .body_len = st->body.len,
        .host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
        .conn = conn,
    };
    conn_addresses(conn, &req);
    s->cfg.handler(s->cfg.ctx, &req, &res);
    enum MHD_Result ret = send_response(conn, &res);
    res_clear_body(&res);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_state *st = *con_cls;
    if (!st) return;
    buf_release(&st->body);
    free(st);
    *con_cls = NULL;
}

dm_err http_server_start(const struct http_server_config *cfg, struct http_server **out,
                         struct dm_error *err)
{
    struct http_server *s = calloc(1, sizeof *s);
    if (!s) return dm_fail(err, DM_ENOMEM, "out of memory");
    s->cfg = *cfg;
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
        s->daemon =
            MHD_start_daemon(flags, cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                             (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                             MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_LISTEN_BACKLOG_SIZE,
                             1024, MHD_OPTION_END);
    } else {
        flags |= MHD_USE_EPOLL_INTERNAL_THREAD;
        s->daemon =
            MHD_start_daemon(flags, cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                             (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                             MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_THREAD_POOL_SIZE,
                             cfg->threads, MHD_OPTION_CONNECTION_LIMIT, 1000u,
                             MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, MHD_OPTION_END);
    }
    if (!s->daemon) {
        free(s);
        return dm_fail(err, DM_EIO, "cannot listen on %s port %u (in use, or not allowed?)",
                       cfg->bind_addr, cfg->port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    *out = s;
    return DM_OK;
bad_addr:
    free(s);
    return dm_fail(err, DM_EINVAL, "not an IP address: %s", cfg->bind_addr);
}

uint16_t http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_stop(struct http_server *s)
{
    if (!s) return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
