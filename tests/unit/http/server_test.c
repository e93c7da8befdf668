/* Unit tests for src/http/server.c over loopback sockets: deferred work (http_res_defer) leaves
 * the pool free, its capacity answers 503 busy, a stop answers what waits and lets what runs
 * finish; bodies are limited by admit before they are read; streamed bodies (http_res_stream)
 * arrive whole, are cut off on an error, hold no thread while the client does not read, and are
 * freed once whatever ends them. */
#include "core/common.h"
#include "../check.h"
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define POOL_THREADS 2

/* The deferred work waits at this gate until the test opens it. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;
static int started, dropped, deferred;

static void gate(bool open)
{
    pthread_mutex_lock(&mu);
    gate_open = open;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static int counter(const int *c)
{
    pthread_mutex_lock(&mu);
    int v = *c;
    pthread_mutex_unlock(&mu);
    return v;
}

static void slow_work(void *arg, const struct http_request *req, struct http_response *res)
{
    pthread_mutex_lock(&mu);
    started++;
    while (!gate_open)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    /* the request is still readable here */
    http_res_json(res, 200, json_pack("{s:s,s:s}", "path", req->path, "arg", (char *)arg));
}

static void slow_drop(void *arg)
{
    free(arg);
    pthread_mutex_lock(&mu);
    dropped++;
    pthread_mutex_unlock(&mu);
}

/* A streamed body: `lines` lines "line <i>\n", one a call, failing at line fail_at (0: never). */
struct lines {
    int next, lines, fail_at;
};
static int streams_freed;

static dm_err lines_produce(void *arg, char *buf, size_t max, size_t *n)
{
    struct lines *l = arg;
    if (l->fail_at && l->next == l->fail_at) return DM_EIO;
    if (l->next == l->lines) {
        *n = 0;
        return DM_OK;
    }
    int w = snprintf(buf, max, "line %d\n", l->next++);
    *n = DM_MIN((size_t)w, max);
    return DM_OK;
}

static void lines_free(void *arg)
{
    free(arg);
    pthread_mutex_lock(&mu);
    streams_freed++;
    pthread_mutex_unlock(&mu);
}

static bool stream_answer(const struct http_request *req, struct http_response *res)
{
    static const struct {
        const char *path;
        struct lines l;
    } kinds[] = {{"/stream", {0, 1000, 0}},
                 {"/stream-endless", {0, INT_MAX, 0}},
                 {"/stream-fail", {0, 1000, 500}},
                 {"/stream-replaced", {0, 1000, 0}}};
    for (size_t i = 0; i < DM_ARRAY_LEN(kinds); i++) {
        if (strcmp(req->path, kinds[i].path) != 0) continue;
        struct lines *l = malloc(sizeof *l);
        *l = kinds[i].l;
        http_res_header(res, "X-Stream", "yes");
        http_res_stream(res, 200, "text/plain", lines_produce, l, lines_free);
        if (strcmp(req->path, "/stream-replaced") == 0) /* frees the stream */
            http_res_error(res, 500, "internal", "replaced");
        return true;
    }
    return false;
}

static void handler(void *ctx, const struct http_request *req, struct http_response *res)
{
    (void)ctx;
    if (stream_answer(req, res)) return;
    if (strcmp(req->path, "/slow") == 0) {
        pthread_mutex_lock(&mu);
        deferred++;
        pthread_mutex_unlock(&mu);
        http_res_header(res, "X-Handler", "set before the work");
        http_res_defer(res, slow_work, strdup("copied"), slow_drop);
        return;
    }
    http_res_json(res, 200,
                  json_pack("{s:s,s:I}", "path", req->path, "len", (json_int_t)req->body_len));
}

static size_t admit(void *ctx, const struct http_request *req, struct http_response *res)
{
    (void)ctx;
    if (strcmp(req->path, "/deny") == 0) http_res_error(res, 401, "unauthorized", "Please log in.");
    return strcmp(req->path, "/small") == 0 ? 16 : SIZE_MAX;
}

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct timeval tv = {.tv_sec = 20};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends a request with Connection: close (and body_len bytes of body). */
static int send_req(uint16_t port, const char *method, const char *path, size_t body_len)
{
    int fd = connect_to(port);
    if (fd < 0) return -1;
    char head[256];
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     method, path, body_len);
    if (write(fd, head, (size_t)n) != n) return close(fd), -1;
    char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    for (size_t sent = 0; sent < body_len;) {
        ssize_t w = write(fd, chunk, DM_MIN(sizeof chunk, body_len - sent));
        if (w <= 0) break;
        sent += (size_t)w;
    }
    return fd;
}

/* Reads the answer to the end; returns its status (0 when none came) and keeps its text. */
static int read_answer(int fd, char *out, size_t n)
{
    size_t len = 0;
    ssize_t r;
    while (len + 1 < n && (r = read(fd, out + len, n - 1 - len)) > 0)
        len += (size_t)r;
    out[len] = 0;
    close(fd);
    int status = 0;
    return sscanf(out, "HTTP/1.1 %d", &status) == 1 ? status : 0;
}

static int request(uint16_t port, const char *method, const char *path, size_t body_len, char *out,
                   size_t n)
{
    return read_answer(send_req(port, method, path, body_len), out, n);
}

static bool wait_started(int want)
{
    for (int i = 0; i < 2000; i++) {
        if (counter(&started) >= want) return true;
        usleep(5000);
    }
    return false;
}

static struct http_server *start_timeout(unsigned threads, unsigned workers, unsigned queue,
                                         unsigned timeout_s)
{
    struct http_server_config cfg = {.bind_addr = "127.0.0.1",
                                     .conn_timeout_s = timeout_s,
                                     .max_body = 1024,
                                     .threads = threads,
                                     .workers = workers,
                                     .work_queue = queue,
                                     .handler = handler,
                                     .admit = admit};
    struct http_server *s = NULL;
    struct dm_error err = {0};
    CHECK(http_server_start(&cfg, &s, &err) == DM_OK);
    return s;
}

static struct http_server *start(unsigned threads, unsigned workers, unsigned queue)
{
    return start_timeout(threads, workers, queue, 0);
}

/* While more works wait than the pool has threads, other requests are answered; then the works
 * answer. */
static void test_defer_frees_the_pool(void)
{
    gate(false);
    started = dropped = deferred = 0;
    struct http_server *s = start(POOL_THREADS, POOL_THREADS + 1, 4);
    uint16_t port = http_server_port(s);
    char ans[4096];
    int fds[POOL_THREADS + 1];
    for (int i = 0; i < POOL_THREADS + 1; i++)
        fds[i] = send_req(port, "GET", "/slow", 0);
    CHECK(wait_started(POOL_THREADS + 1));
    for (int i = 0; i < 3; i++) {
        CHECK(request(port, "GET", "/fast", 0, ans, sizeof ans) == 200);
        CHECK(strstr(ans, "\"path\":\"/fast\"") != NULL);
    }
    gate(true);
    for (int i = 0; i < POOL_THREADS + 1; i++) {
        CHECK(read_answer(fds[i], ans, sizeof ans) == 200);
        CHECK(strstr(ans, "{\"path\":\"/slow\",\"arg\":\"copied\"}") != NULL);
        CHECK(strstr(ans, "X-Handler: set before the work") != NULL);
    }
    http_server_stop(s);
    CHECK(counter(&dropped) == POOL_THREADS + 1 && counter(&deferred) == POOL_THREADS + 1);
}

/* A parked connection is not idle: work that outlasts the idle timeout still answers. */
static void test_parked_outlasts_the_idle_timeout(void)
{
    gate(false);
    started = 0;
    struct http_server *s = start_timeout(1, 1, 1, 1);
    char ans[4096];
    int fd = send_req(http_server_port(s), "GET", "/slow", 0);
    CHECK(wait_started(1));
    usleep(2500 * 1000); /* the work takes longer than the 1 s timeout */
    gate(true);
    CHECK(read_answer(fd, ans, sizeof ans) == 200);
    http_server_stop(s);
}

struct stopper {
    struct http_server *s;
};

static void *stop_run(void *arg)
{
    http_server_stop(((struct stopper *)arg)->s);
    return NULL;
}

/* One worker and a queue of one: the third is 503 busy; a stop answers the queued one 503 and
 * waits for the running one, which answers. One pool thread, so that the second is parked
 * before the third is read. */
static void test_capacity_and_stop(void)
{
    gate(false);
    started = dropped = deferred = 0;
    struct http_server *s = start(1, 1, 1);
    uint16_t port = http_server_port(s);
    char ans[4096];
    int running = send_req(port, "GET", "/slow", 0);
    CHECK(wait_started(1));
    int queued = send_req(port, "GET", "/slow", 0);
    for (int i = 0; i < 2000 && counter(&deferred) < 2; i++)
        usleep(5000);
    CHECK(request(port, "GET", "/slow", 0, ans, sizeof ans) == 503);
    CHECK(strstr(ans, "\"code\":\"busy\"") && strstr(ans, "Retry-After: 5"));
    CHECK(counter(&dropped) == 1); /* the refused one's arg, without running */
    struct stopper st = {s};
    pthread_t t;
    pthread_create(&t, NULL, stop_run, &st);
    CHECK(read_answer(queued, ans, sizeof ans) == 503);
    CHECK(strstr(ans, "shutting down") != NULL);
    gate(true);
    CHECK(read_answer(running, ans, sizeof ans) == 200);
    pthread_join(t, NULL);
    CHECK(counter(&started) == 1 && counter(&dropped) == 3);
}

/* admit decides before the body: its answer, or 413 past its limit, whatever the body. */
static void test_admit(void)
{
    struct http_server *s = start(POOL_THREADS, 1, 1);
    uint16_t port = http_server_port(s);
    char ans[4096];
    CHECK(request(port, "POST", "/small", 16, ans, sizeof ans) == 200);
    CHECK(strstr(ans, "\"len\":16") != NULL);
    CHECK(request(port, "POST", "/small", 17, ans, sizeof ans) == 413);
    CHECK(strstr(ans, "larger than 16 bytes") != NULL);
    CHECK(request(port, "POST", "/deny", 200000, ans, sizeof ans) == 401); /* read, dropped */
    CHECK(request(port, "POST", "/other", 1024, ans, sizeof ans) == 200);  /* max_body */
    CHECK(request(port, "POST", "/other", 1025, ans, sizeof ans) == 413);
    CHECK(request(port, "GET", "/deny", 0, ans, sizeof ans) == 200); /* no body: not asked */
    http_server_stop(s);
}

/* The body of a chunked answer (text after the headers), de-chunked into out; false when it is
 * not whole (no last chunk). */
static bool dechunk(const char *ans, char *out, size_t n)
{
    const char *p = strstr(ans, "\r\n\r\n");
    if (!p || !strstr(ans, "Transfer-Encoding: chunked")) return false;
    p += 4;
    size_t len = 0;
    for (;;) {
        char *end;
        unsigned long size = strtoul(p, &end, 16);
        if (end == p || strncmp(end, "\r\n", 2) != 0) return false;
        p = end + 2;
        if (size == 0) break;
        if (strlen(p) < size + 2 || len + size >= n) return false;
        memcpy(out + len, p, size);
        len += size;
        p += size + 2;
    }
    out[len] = 0;
    return true;
}

static bool wait_freed(int want)
{
    for (int i = 0; i < 2000; i++) {
        if (counter(&streams_freed) >= want) return true;
        usleep(5000);
    }
    return false;
}

static void test_stream(void)
{
    streams_freed = 0;
    struct http_server *s = start(POOL_THREADS, 1, 1);
    uint16_t port = http_server_port(s);
    static char ans[64 * 1024], body[64 * 1024];
    CHECK(request(port, "GET", "/stream", 0, ans, sizeof ans) == 200);
    CHECK(strstr(ans, "X-Stream: yes") && strstr(ans, "Content-Type: text/plain"));
    CHECK(dechunk(ans, body, sizeof body));
    CHECK(strncmp(body, "line 0\nline 1\n", 14) == 0);
    CHECK(strlen(body) == 8890 && strstr(body, "\nline 999\n")); /* 1000 lines, all there */
    CHECK(wait_freed(1));

    /* an error cuts the body off: no last chunk, the connection closed */
    CHECK(request(port, "GET", "/stream-fail", 0, ans, sizeof ans) == 200);
    CHECK(!dechunk(ans, body, sizeof body) && strstr(ans, "line 499\n"));
    CHECK(!strstr(ans, "line 500\n"));
    CHECK(wait_freed(2));

    /* replaced before it was sent: freed, the other answer sent */
    CHECK(request(port, "GET", "/stream-replaced", 0, ans, sizeof ans) == 500);
    CHECK(strstr(ans, "replaced") != NULL);
    CHECK(counter(&streams_freed) == 3);

    /* endless streams nobody reads, more than the pool has threads: the others are answered;
     * a client that goes away frees its stream; a stop frees the rest */
    int fds[POOL_THREADS + 2];
    for (int i = 0; i < POOL_THREADS + 2; i++) {
        fds[i] = send_req(port, "GET", "/stream-endless", 0);
        CHECK(read(fds[i], ans, 100) == 100);
    }
    for (int i = 0; i < 3; i++)
        CHECK(request(port, "GET", "/fast", 0, ans, 4096) == 200);
    close(fds[0]);
    CHECK(wait_freed(4));
    http_server_stop(s);
    CHECK(counter(&streams_freed) == 3 + POOL_THREADS + 2);
    for (int i = 1; i < POOL_THREADS + 2; i++)
        close(fds[i]);
}

int main(void)
{
    test_stream();
    test_defer_frees_the_pool();
    test_capacity_and_stop();
    test_parked_outlasts_the_idle_timeout();
    test_admit();
    return CHECK_DONE();
}
