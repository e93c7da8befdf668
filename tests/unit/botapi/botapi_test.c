/* Unit tests for src/botapi/client.c: reply parsing, token checks, and real calls over loopback
 * against a tiny scripted HTTP server (keep-alive reuse, garbage answers, timeouts, abort, and
 * that the token never shows in an error); src/botapi/update.c: what a join request's user
 * carries. */
#include "core/common.h"
#include "../check.h"
#include "botapi/client.h"
#include "botapi/join_query.h"
#include "botapi/update.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#define TOKEN "123456:SECRET-token_xyz"

static void test_parse(void)
{
    struct botapi_reply r;
    const char *ok = "{\"ok\":true,\"result\":{\"id\":42,\"username\":\"doorbot\"}}";
    CHECK(botapi_reply_parse(200, ok, strlen(ok), &r, NULL) == DM_OK);
    CHECK(r.ok && r.http_status == 200 && json_is_object(r.result));
    CHECK(json_integer_value(json_object_get(r.result, "id")) == 42);
    botapi_reply_release(&r);
    CHECK(r.result == NULL);

    const char *e429 = "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: "
                       "retry after 3\",\"parameters\":{\"retry_after\":3}}";
    CHECK(botapi_reply_parse(429, e429, strlen(e429), &r, NULL) == DM_OK);
    CHECK(!r.ok && r.error_code == 429 && r.retry_after == 3 && r.result == NULL);
    CHECK(strcmp(r.description, "Too Many Requests: retry after 3") == 0);

    const char *bare = "{\"ok\":false}"; /* no code, no description: the HTTP status stands in */
    CHECK(botapi_reply_parse(404, bare, strlen(bare), &r, NULL) == DM_OK);
    CHECK(!r.ok && r.error_code == 404 && strcmp(r.description, "HTTP 404") == 0);

    const char *huge = "{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":"
                       "99999999999}}";
    CHECK(botapi_reply_parse(429, huge, strlen(huge), &r, NULL) == DM_OK && r.retry_after == 86400);

    const char *okres = "{\"ok\":true}"; /* result absent: null, not a crash */
    CHECK(botapi_reply_parse(200, okres, strlen(okres), &r, NULL) == DM_OK &&
          json_is_null(r.result));
    botapi_reply_release(&r);

    const char *bad[] = {"<html>502 Bad Gateway</html>",
                         "",
                         "[1,2]",
                         "{\"ok\":\"yes\"}",
                         "{\"result\":1}",
                         "{\"ok\":true",
                         "null"};
    for (size_t i = 0; i < DM_ARRAY_LEN(bad); i++) {
        struct dm_error err = {0};
        CHECK(botapi_reply_parse(502, bad[i], strlen(bad[i]), &r, &err) == DM_EPROTO);
        CHECK(err.code == DM_EPROTO && strstr(err.msg, "502") && r.result == NULL);
    }
}

static void test_tokens(void)
{
    struct botapi_client *c = NULL;
    const char *bad[] = {"", "12/34", "a b", "x?y=1", "t#", "..", "tok\n"};
    for (size_t i = 0; i < DM_ARRAY_LEN(bad); i++) {
        CHECK(botapi_client_new("http://127.0.0.1:1", bad[i], &c) == DM_EINVAL);
        CHECK(c == NULL);
    }
    CHECK(botapi_client_new("http://127.0.0.1:1", TOKEN, &c) == DM_OK && c);
    /* references: the client lives until the last one is dropped */
    CHECK(botapi_client_ref(c) == c);
    botapi_client_free(c);
    botapi_client_free(c);
}

/* ---- a scripted HTTP/1.1 server on loopback ---- */

struct server {
    int fd;
    uint16_t port;
    pthread_t thread;
    pthread_mutex_t mu;
    int connections; /* accepted so far */
    int requests;
    char last_line[512]; /* the last request line */
    char last_body[512];
    bool last_json_type; /* Content-Type: application/json was sent */
    const char *answer;  /* full HTTP response to send; NULL = never answer */
    volatile int quit;
};

static ssize_t read_request(int fd, char *buf, size_t n)
{
    size_t len = 0;
    for (;;) {
        if (len + 1 >= n) return -1;
        ssize_t k = recv(fd, buf + len, n - 1 - len, 0);
        if (k <= 0) return -1;
        len += (size_t)k;
        buf[len] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        const char *cl = strcasestr(buf, "Content-Length:");
        long body = cl ? strtol(cl + 15, NULL, 10) : 0;
        size_t head = (size_t)(end + 4 - buf);
        while (len < head + (size_t)body) {
            k = recv(fd, buf + len, n - 1 - len, 0);
            if (k <= 0) return -1;
            len += (size_t)k;
            buf[len] = 0;
        }
        return (ssize_t)len;
    }
}

static void *server_main(void *arg)
{
    struct server *s = arg;
    while (!s->quit) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) continue;
        pthread_mutex_lock(&s->mu);
        s->connections++;
        pthread_mutex_unlock(&s->mu);
        char req[8192];
        while (!s->quit && read_request(c, req, sizeof req) > 0) {
            pthread_mutex_lock(&s->mu);
            s->requests++;
            char *eol = strstr(req, "\r\n");
            size_t l = (size_t)(eol - req);
            snprintf(s->last_line, sizeof s->last_line, "%.*s", (int)DM_MIN(l, 500), req);
            char *body = strstr(req, "\r\n\r\n") + 4;
            snprintf(s->last_body, sizeof s->last_body, "%s", body);
            s->last_json_type = strcasestr(req, "Content-Type: application/json") != NULL;
            const char *answer = s->answer;
            pthread_mutex_unlock(&s->mu);
            if (!answer) { /* hold the request unanswered until the client gives up */
                while (!s->quit && recv(c, req, sizeof req, 0) > 0) {
                }
                break;
            }
            if (send(c, answer, strlen(answer), MSG_NOSIGNAL) < 0) break;
        }
        close(c);
    }
    return NULL;
}

static void server_start(struct server *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(s->fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t al = sizeof a;
    getsockname(s->fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    CHECK(listen(s->fd, 8) == 0);
    pthread_create(&s->thread, NULL, server_main, s);
}

static void server_stop(struct server *s)
{
    s->quit = 1;
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    /* wake accept() or a held connection: connect once more */
    pthread_join(s->thread, NULL);
}

static void set_answer(struct server *s, const char *a)
{
    pthread_mutex_lock(&s->mu);
    s->answer = a;
    pthread_mutex_unlock(&s->mu);
}

/* A full HTTP/1.1 response with the right Content-Length. */
static const char *answer(char *out, size_t n, const char *status, const char *type,
                          const char *body)
{
    snprintf(out, n, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s", status,
             type, strlen(body), body);
    return out;
}

static char ANSWER_ME[256], ANSWER_HTML[256], ANSWER_400[256];

static void answers_init(void)
{
    answer(ANSWER_ME, sizeof ANSWER_ME, "200 OK", "application/json",
           "{\"ok\":true,\"result\":{\"id\":7,\"is_bot\":true}}\n");
    answer(ANSWER_HTML, sizeof ANSWER_HTML, "502 Bad Gateway", "text/html", "<html>oops</html>");
    answer(ANSWER_400, sizeof ANSWER_400, "400 Bad Request", "application/json",
           "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: "
           "HIDE_REQUESTER_MISSING\"}");
}

struct abort_arg {
    struct botapi_client *c;
    struct server *s;
};

static void *abort_later(void *p)
{
    struct abort_arg *a = p;
    /* wait until the server holds the request, then abort */
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&a->s->mu);
        int n = a->s->requests;
        pthread_mutex_unlock(&a->s->mu);
        if (n >= 8) break; /* the getUpdates below is the 8th */
        usleep(10000);
    }
    botapi_client_abort(a->c);
    return NULL;
}

static void test_calls(void)
{
    struct server s;
    answers_init();
    server_start(&s);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", s.port);
    struct botapi_client *c = NULL;
    CHECK(botapi_client_new(base, TOKEN, &c) == DM_OK);

    /* three calls in a row: one connection (keep-alive), JSON bodies, the right path */
    set_answer(&s, ANSWER_ME);
    for (int i = 0; i < 3; i++) {
        struct botapi_reply r;
        struct dm_error err = {0};
        json_t *p = json_pack("{s:I, s:I}", "chat_id", (json_int_t)-1001234567890, "user_id",
                              (json_int_t)42);
        CHECK(botapi_call(c, "approveChatJoinRequest", p, 5000, &r, &err) == DM_OK);
        json_decref(p);
        CHECK(r.ok && r.http_status == 200);
        CHECK(json_integer_value(json_object_get(r.result, "id")) == 7);
        botapi_reply_release(&r);
    }
    CHECK(s.connections == 1 && s.requests == 3);
    CHECK(strcmp(s.last_line, "POST /bot" TOKEN "/approveChatJoinRequest HTTP/1.1") == 0);
    CHECK(s.last_json_type);
    json_t *sent = json_loads(s.last_body, 0, NULL);
    CHECK(json_integer_value(json_object_get(sent, "chat_id")) == -1001234567890);
    json_decref(sent);

    /* no params: "{}" */
    struct botapi_reply r;
    struct dm_error err = {0};
    CHECK(botapi_call(c, "getMe", NULL, 5000, &r, &err) == DM_OK && r.ok);
    CHECK(strcmp(s.last_body, "{}") == 0);
    botapi_reply_release(&r);

    /* an error answer is a reply, not a failure */
    set_answer(&s, ANSWER_400);
    CHECK(botapi_call(c, "declineChatJoinRequest", NULL, 5000, &r, &err) == DM_OK);
    CHECK(!r.ok && r.http_status == 400 && r.error_code == 400 &&
          strcmp(r.description, "Bad Request: HIDE_REQUESTER_MISSING") == 0);
    botapi_reply_release(&r);

    /* garbage from a proxy: DM_EPROTO with the status, never the token */
    set_answer(&s, ANSWER_HTML);
    CHECK(botapi_call(c, "getMe", NULL, 5000, &r, &err) == DM_EPROTO);
    CHECK(r.http_status == 502 && strstr(err.msg, "502") && !strstr(err.msg, "SECRET"));
    botapi_reply_release(&r);

    /* a bad method name never reaches the URL */
    CHECK(botapi_call(c, "get/../Me", NULL, 5000, &r, &err) == DM_EINVAL);

    /* no answer: timeout */
    set_answer(&s, NULL);
    CHECK(botapi_call(c, "getMe", NULL, 300, &r, &err) == DM_ETIMEOUT);
    CHECK(!strstr(err.msg, "SECRET"));
    botapi_reply_release(&r);

    /* abort ends a call in progress (a long poll) and every later one */
    struct abort_arg aa = {c, &s};
    pthread_t t;
    pthread_create(&t, NULL, abort_later, &aa);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(botapi_call(c, "getUpdates", NULL, 60000, &r, &err) == DM_EUNAVAILABLE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(t1.tv_sec - t0.tv_sec < 10);
    pthread_join(t, NULL);
    CHECK(botapi_call(c, "getMe", NULL, 5000, &r, &err) == DM_EUNAVAILABLE);
    botapi_client_free(c);
    server_stop(&s);

    /* nobody listening: a network error that names the method, not the URL */
    CHECK(botapi_client_new(base, TOKEN, &c) == DM_OK);
    CHECK(botapi_call(c, "getMe", NULL, 5000, &r, &err) == DM_ENETWORK);
    CHECK(strstr(err.msg, "getMe") && !strstr(err.msg, "SECRET") && !strstr(err.msg, TOKEN));
    botapi_reply_release(&r);
    botapi_client_free(c);
}

/* answerChatJoinRequestQuery and sendChatJoinRequestWebApp: the method, the parameters as
 * Telegram names them, and nothing sent for a query id that cannot be one. */
static void test_join_queries(void)
{
    struct server s;
    answers_init();
    server_start(&s);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", s.port);
    struct botapi_client *c = NULL;
    CHECK(botapi_client_new(base, TOKEN, &c) == DM_OK);
    set_answer(&s, ANSWER_ME);
    struct botapi_reply r;
    struct dm_error err = {0};
    static const enum botapi_join_answer answers[] = {BOTAPI_JOIN_APPROVE, BOTAPI_JOIN_DECLINE,
                                                      BOTAPI_JOIN_QUEUE};
    static const char *const names[] = {"approve", "decline", "queue"};
    for (size_t i = 0; i < DM_ARRAY_LEN(answers); i++) {
        CHECK(botapi_answer_join_query(c, "77", answers[i], 5000, &r, &err) == DM_OK && r.ok);
        botapi_reply_release(&r);
        CHECK(strcmp(s.last_line, "POST /bot" TOKEN "/answerChatJoinRequestQuery HTTP/1.1") == 0);
        json_t *sent = json_loads(s.last_body, 0, NULL);
        CHECK(strcmp(json_string_value(json_object_get(sent, "chat_join_request_query_id")),
                     "77") == 0);
        CHECK(strcmp(json_string_value(json_object_get(sent, "result")), names[i]) == 0);
        json_decref(sent);
    }
    CHECK(botapi_send_join_web_app(c, "78", "https://example.org/app?x=1", 5000, &r, &err) ==
              DM_OK &&
          r.ok);
    botapi_reply_release(&r);
    CHECK(strcmp(s.last_line, "POST /bot" TOKEN "/sendChatJoinRequestWebApp HTTP/1.1") == 0);
    json_t *sent = json_loads(s.last_body, 0, NULL);
    CHECK(strcmp(json_string_value(json_object_get(sent, "web_app_url")),
                 "https://example.org/app?x=1") == 0);
    json_decref(sent);
    int before = s.requests;
    CHECK(botapi_answer_join_query(c, "", BOTAPI_JOIN_QUEUE, 5000, &r, &err) == DM_EINVAL);
    CHECK(botapi_answer_join_query(c, "a b", BOTAPI_JOIN_QUEUE, 5000, &r, &err) == DM_EINVAL);
    CHECK(botapi_send_join_web_app(c, "78", "", 5000, &r, &err) == DM_EINVAL);
    CHECK(s.requests == before);
    botapi_client_free(c);
    server_stop(&s);
}

/* A chat_join_request's from.is_premium and from.language_code (what rules look at). */
static void test_join_request(void)
{
    static const char *const updates[] = {
        "{\"chat_join_request\":{\"chat\":{\"id\":-1001},\"from\":{\"id\":5,\"first_name\":"
        "\"A\",\"is_premium\":true,\"language_code\":\"pt-br\"},\"date\":7,\"bio\":\"b\"}}",
        "{\"chat_join_request\":{\"chat\":{\"id\":-1001},\"from\":{\"id\":5},\"date\":7}}",
        "{\"chat_join_request\":{\"chat\":{\"id\":-1001},\"from\":{\"id\":5,\"is_premium\":1,"
        "\"language_code\":7}}}",
        /* Bot API 10.1: a query for the chat's join-request bot; a number is not a query id */
        "{\"chat_join_request\":{\"chat\":{\"id\":-1001},\"from\":{\"id\":5},\"date\":7,"
        "\"query_id\":\"4419227016301384\"}}",
        "{\"chat_join_request\":{\"chat\":{\"id\":-1001},\"from\":{\"id\":5},\"date\":7,"
        "\"query_id\":4419227016301384}}",
    };
    static const struct {
        bool premium;
        const char *lang, *query;
    } want[] = {{true, "pt-br", ""},
                {false, "", ""},
                {false, "", ""},
                {false, "", "4419227016301384"},
                {false, "", ""}};
    for (size_t i = 0; i < DM_ARRAY_LEN(updates); i++) {
        json_t *u = json_loads(updates[i], 0, NULL);
        struct botapi_join_request jr;
        CHECK(u && botapi_join_request_parse(u, &jr, NULL) == DM_OK);
        CHECK(jr.is_premium == want[i].premium);
        CHECK(strcmp(jr.language_code, want[i].lang) == 0);
        CHECK(strcmp(jr.query_id, want[i].query) == 0);
        json_decref(u);
    }
}

int main(void)
{
    test_parse();
    test_join_request();
    test_tokens();
    test_calls();
    test_join_queries();
    return CHECK_DONE();
}
