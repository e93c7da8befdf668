#include "core/common.h"

#include "core/clock.h"
#include "core/log.h"
#include "mtproto/bind.h"
#include "mtproto/client.h"
#include "mtproto/handshake.h"
#include "mtproto/session.h"
#include "mtproto/tl/rsa_keys.h"
#include "mtproto/tl_codec.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#define ID_rpc_error 0x2144ca19u
#define PING_REF 1u /* session refs: these two, or a struct call pointer */
#define INIT_REF 2u
#define BIND_REF 3u
#define BIND_TRIES 3 /* bindings sent again on one connection after the server's notices */
#define PERM_KEY_SETTLE_MS 60000 /* a new permanent key may not have reached every server yet */
#define READ_CHUNK (64u << 10)
#define OUT_HIGH (1u << 20) /* stop flushing the session while this much waits to be written */
#define OUT_CAP (MT_MESSAGE_MAX * 4u) /* the write buffer's hard cap */
#define ACK_DELAY_MS 200              /* acks wait this long for a packet to ride on */
#define ACK_BATCH 32                  /* ... or until this many are pending */
#define PEM_MAX (64u << 10)

/* ---- configuration ---- */

void mt_config_init(struct mt_config *cfg)
{
    static const struct {
        int id;
        const char *host;
    } prod[] = {{1, "149.154.175.53"},
                {2, "149.154.167.51"},
                {3, "149.154.175.100"},
                {4, "149.154.167.91"},
                {5, "91.108.56.130"}};
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < DM_ARRAY_LEN(prod); i++)
        mt_config_set_dc(cfg, prod[i].id, prod[i].host, 443, NULL);
    cfg->dc_id = 2;
    cfg->transport = TRANSPORT_INTERMEDIATE;
    dm_strlcpy(cfg->device_model, "doorman", sizeof cfg->device_model);
    dm_strlcpy(cfg->system_version, "Linux", sizeof cfg->system_version);
    dm_strlcpy(cfg->app_version, DOORMAN_VERSION, sizeof cfg->app_version);
    dm_strlcpy(cfg->system_lang_code, "en", sizeof cfg->system_lang_code);
    dm_strlcpy(cfg->lang_code, "en", sizeof cfg->lang_code);
    cfg->connect_timeout_ms = 10000;
    cfg->ping_interval_ms = 60000;
    cfg->backoff_min_ms = 200;
    cfg->backoff_max_ms = 30000;
    cfg->temp_key_s = 86400;
}

dm_err mt_config_set_dc(struct mt_config *cfg, int id, const char *host, int port,
                        struct dm_error *e)
{
    if (id <= 0 || id > 1000 || port <= 0 || port > 65535 || !host || !*host ||
        strlen(host) >= sizeof cfg->dcs[0].host)
        return dm_fail(e, DM_EINVAL, "mtproto: DC %d needs a host and a port between 1 and 65535",
                       id);
    size_t i = 0;
    while (i < cfg->ndcs && cfg->dcs[i].id != id)
        i++;
    if (i == MT_MAX_DCS)
        return dm_fail(e, DM_ETOOBIG, "mtproto: at most %d DC addresses", MT_MAX_DCS);
    if (i == cfg->ndcs) cfg->ndcs++;
    cfg->dcs[i].id = id;
    dm_strlcpy(cfg->dcs[i].host, host, sizeof cfg->dcs[i].host);
    cfg->dcs[i].port = port;
    return DM_OK;
}

/* ---- rpc errors ---- */

void mt_rpc_error_parse(struct mt_rpc_error *r, int32_t code, const char *message)
{
    r->code = code;
    dm_strlcpy(r->message, message, sizeof r->message);
    dm_strlcpy(r->name, message, sizeof r->name);
    r->value = -1;
    size_t n = strlen(r->name), d = n;
    while (d > 0 && r->name[d - 1] >= '0' && r->name[d - 1] <= '9')
        d--;
    if (d < n && d > 1 && r->name[d - 1] == '_' && n - d <= 18) {
        r->value = strtoll(r->name + d, NULL, 10);
        r->name[d - 1] = 0;
    }
}

bool mt_rpc_error_is(const struct mt_rpc_error *r, const char *name)
{
    return strcmp(r->name, name) == 0;
}

int mt_rpc_error_migrate_dc(const struct mt_rpc_error *r)
{
    size_t n = strlen(r->name);
    if (n < 8 || strcmp(r->name + n - 8, "_MIGRATE") != 0 || r->value <= 0 || r->value > 1000)
        return 0;
    return (int)r->value;
}

/* ---- the client ---- */

struct call {
    struct call *prev, *next;
    const uint8_t *body; /* the caller's encoding, valid while the call is listed */
    size_t len;
    bool in_session; /* queued or sent in the current session */
    bool was_sent;   /* went out on an earlier connection */
    bool done;
    uint8_t *answer; /* malloc'd by the I/O thread, freed by the caller */
    size_t answer_len;
    struct dm_error err; /* err.code != DM_OK: failed without an answer */
    pthread_cond_t cond;
};

struct upd_item {
    struct upd_item *next;
    size_t len;
    uint8_t body[];
};

struct mt_client {
    struct mt_config cfg;
    const struct mt_dc *dc;
    struct crypto_rsa_key keys[MT_MAX_RSA_KEYS];
    size_t nkeys;
    pthread_t thread;
    int wake[2]; /* a byte in wake[1] interrupts the I/O thread's poll */

    /* shared with callers, under mu */
    pthread_mutex_t mu;
    pthread_cond_t key_cond;
    bool stop, ready, have_key;
    struct mt_auth auth;
    bool have_session;   /* s is set up: on the temporary key with PFS, else on auth.key */
    struct mt_session s; /* valid once have_session */
    /* perfect forward secrecy (cfg.temp_key_s > 0) */
    bool bound;            /* the temporary key is bound: initConnection may go */
    int64_t temp_until;    /* server time the temporary key ends (0: make a new one) */
    int64_t perm_made_ms;  /* when this client made the permanent key, 0: it was given */
    bool renew;            /* the connection ends for a new temporary key (I/O thread) */
    int bind_tries;        /* bindings sent again on this connection */
    struct call calls;     /* list head of the calls waiting for answers */
    struct dm_error fatal; /* fatal.code != DM_OK: the client cannot work any more */
    struct mt_rpc_error fatal_rpc;
    uint64_t connections, resent;
    struct dm_error last_err; /* why the last connection attempt failed (named in call timeouts) */
    bool foreign; /* ... and it was another protocol's server: calls fail at once until one works */
    bool conn_failed; /* the session refused our init or ping: drop the connection */
    int64_t acks_since_ms;
    /* updates the server pushed, oldest first, kept once mt_client_updates() was called */
    struct upd_item *upd_head, *upd_tail;
    size_t nupd;
    bool upd_on, upd_gap; /* upd_gap: some were lost (a new session, a full queue) */
    pthread_cond_t upd_cond;

    /* the connection, used by the I/O thread only */
    int fd;
    struct transport tr;
    struct buf out, pkt;
    size_t out_off;
    uint8_t rbuf[READ_CHUNK];
    size_t rlen, roff;
    int64_t ping_id;
};

static void wake_io(struct mt_client *c)
{
    ssize_t n = write(c->wake[1], "x", 1);
    (void)n; /* a full pipe already wakes the thread */
}

/* Ends a call with an error (under mu). */
static void call_fail(struct call *k, const struct dm_error *err)
{
    k->err = *err;
    k->done = true;
    pthread_cond_signal(&k->cond);
}

/* The client cannot go on (unknown key, initConnection refused): every call fails (under mu). */
static void set_fatal(struct mt_client *c, const struct dm_error *err,
                      const struct mt_rpc_error *rpc)
{
    c->fatal = *err;
    if (rpc) c->fatal_rpc = *rpc;
    for (struct call *k = c->calls.next; k != &c->calls; k = k->next)
        if (!k->done) call_fail(k, err);
    log_error("mtproto", "DC %d: %s", c->cfg.dc_id, err->msg);
}

/* ---- session events (under mu, on the I/O thread) ---- */

static void on_init_result(struct mt_client *c, const uint8_t *body, size_t len)
{
    if (len >= 4 && tl_read_u32(body) == ID_rpc_error) {
        json_t *j = NULL;
        struct mt_rpc_error rpc = {0};
        const char *msg = "?";
        int32_t code = 0;
        if (tl_decode(body, len, NULL, &j, NULL, NULL) == DM_OK) {
            tl_get_int(j, "error_code", &code, NULL);
            tl_get_str(j, "error_message", &msg, NULL);
        }
        mt_rpc_error_parse(&rpc, code, msg);
        json_decref(j);
        struct dm_error err;
        dm_fail(&err, DM_ETELEGRAM, "Telegram refused initConnection: %s (%d); check api_id",
                rpc.message, rpc.code);
        set_fatal(c, &err, &rpc);
        return;
    }
    c->ready = true;
    c->connections++;
    c->foreign = false;
    c->last_err.code = DM_OK;
    struct dm_error e = {0};
    for (struct call *k = c->calls.next; k != &c->calls; k = k->next) {
        if (k->done || k->in_session) continue;
        if (mt_session_enqueue(&c->s, k->body, k->len, true, (uintptr_t)k, false, &e)) {
            call_fail(k, &e);
            continue;
        }
        k->in_session = true;
        if (k->was_sent) c->resent++;
    }
    log_info("mtproto", "DC %d: connected (%s:%d)", c->cfg.dc_id, c->dc->host, c->dc->port);
}

static dm_err queue_init(struct mt_client *c, struct dm_error *e);
static dm_err queue_bind(struct mt_client *c, struct dm_error *e);

/* The error_message of an rpc_error body into msg (cap bytes), or false for any other body. */
static bool rpc_error_message(const uint8_t *body, size_t len, char *msg, size_t cap)
{
    json_t *j = NULL;
    const char *m = NULL;
    bool is = len >= 4 && tl_read_u32(body) == ID_rpc_error &&
              !tl_decode(body, len, NULL, &j, NULL, NULL) &&
              !tl_get_str(j, "error_message", &m, NULL);
    if (is) dm_strlcpy(msg, m, cap);
    json_decref(j);
    return is;
}

/* The answer to auth.bindTempAuthKey: boolTrue lets initConnection go. A refusal of a
 * permanent key this client did not just make means Telegram does not know it (fatal, as -404
 * on it would be); anything else drops the connection and the next one makes a new temporary
 * key. */
static void on_bind_result(struct mt_client *c, const uint8_t *body, size_t len)
{
    struct dm_error err = {0};
    if (len >= 4 && tl_read_u32(body) == TL_ID_boolTrue) {
        c->bound = true;
        log_info("mtproto", "DC %d: bound a temporary auth key to the permanent one", c->cfg.dc_id);
        if (queue_init(c, &err)) c->conn_failed = true;
        return;
    }
    char msg[128] = "an answer that is not boolTrue";
    rpc_error_message(body, len, msg, sizeof msg);
    c->temp_until = 0;
    if (!strcmp(msg, "ENCRYPTED_MESSAGE_INVALID") &&
        !(c->perm_made_ms && clock_ms() - c->perm_made_ms < PERM_KEY_SETTLE_MS)) {
        dm_fail(&err, DM_EAUTH, "the server does not know this auth key (auth.bindTempAuthKey: %s)",
                msg);
        set_fatal(c, &err, NULL);
    } else {
        log_warn("mtproto", "DC %d: binding the temporary auth key failed (%s); trying a new one",
                 c->cfg.dc_id, msg);
        c->conn_failed = true;
    }
}

static void ev_result(void *ctx, uint64_t ref, const uint8_t *body, size_t len)
{
    struct mt_client *c = ctx;
    if (ref == PING_REF) return;
    if (ref == BIND_REF) {
        on_bind_result(c, body, len);
        return;
    }
    if (ref == INIT_REF) {
        on_init_result(c, body, len);
        return;
    }
    struct call *k = (struct call *)(uintptr_t)ref;
    char msg[32];
    if (c->cfg.temp_key_s > 0 && rpc_error_message(body, len, msg, sizeof msg) &&
        !strcmp(msg, "AUTH_KEY_PERM_EMPTY")) {
        /* the temporary key lost its binding (another one replaced it): the call goes again
         * on the next connection, under a new key bound anew */
        k->in_session = false;
        k->was_sent = true;
        c->temp_until = 0;
        c->conn_failed = true;
        return;
    }
    k->answer = malloc(len);
    if (!k->answer) {
        call_fail(k, &(struct dm_error){DM_ENOMEM, "mtproto: out of memory for an answer"});
        return;
    }
    memcpy(k->answer, body, len);
    k->answer_len = len;
    k->in_session = false;
    k->done = true;
    pthread_cond_signal(&k->cond);
}

static void ev_failed(void *ctx, uint64_t ref, int code)
{
    struct mt_client *c = ctx;
    /* the binding names its msg_id, so a notice that would send it again under another one (a
     * new salt, a corrected clock: the session has adopted it) gets a new binding instead */
    if (ref == BIND_REF && code == 0 && ++c->bind_tries <= BIND_TRIES &&
        queue_bind(c, NULL) == DM_OK)
        return;
    if (ref == PING_REF || ref == INIT_REF || ref == BIND_REF) {
        if (ref == BIND_REF) c->temp_until = 0;
        c->conn_failed = true;
        return;
    }
    struct dm_error err;
    dm_fail(&err, DM_EPROTO, "mtproto: the server refused the message (bad_msg_notification %d)",
            code);
    call_fail((struct call *)(uintptr_t)ref, &err);
}

/* Forgets the queued updates (under mu). */
static void upd_clear(struct mt_client *c)
{
    while (c->upd_head) {
        struct upd_item *u = c->upd_head;
        c->upd_head = u->next;
        free(u);
    }
    c->upd_tail = NULL;
    c->nupd = 0;
}

/* Updates were lost: the reader is told so (an updatesTooLong), the queue starts over. */
static void upd_lost(struct mt_client *c)
{
    upd_clear(c);
    c->upd_gap = true;
    pthread_cond_broadcast(&c->upd_cond);
}

static void ev_new_session(void *ctx)
{
    struct mt_client *c = ctx;
    log_debug("mtproto", "DC %d: the server started a new session (updates may have been missed)",
              c->cfg.dc_id);
    if (c->upd_on) upd_lost(c);
}

static void ev_update(void *ctx, const uint8_t *body, size_t len)
{
    struct mt_client *c = ctx;
    if (!c->upd_on) return;
    struct upd_item *u = c->nupd < MT_UPDATES_MAX ? malloc(sizeof *u + len) : NULL;
    if (!u) {
        upd_lost(c);
        return;
    }
    u->next = NULL;
    u->len = len;
    memcpy(u->body, body, len);
    if (c->upd_tail)
        c->upd_tail->next = u;
    else
        c->upd_head = u;
    c->upd_tail = u;
    c->nupd++;
    pthread_cond_broadcast(&c->upd_cond);
}

/* ---- socket I/O (the I/O thread) ---- */

/* Waits for `events` on the connection or a wake-up until deadline (monotonic ms). Returns 1
 * when the socket is ready, 0 on timeout or a wake-up, -1 when the client is stopping. */
static int wait_fd(struct mt_client *c, short events, int64_t deadline)
{
    struct pollfd p[2] = {{c->fd, events, 0}, {c->wake[0], POLLIN, 0}};
    int64_t left = deadline - clock_ms();
    int n = poll(p, 2, left < 0 ? 0 : (int)DM_MIN(left, INT32_MAX));
    if (n < 0 && errno != EINTR) return -1;
    if (p[1].revents) {
        char drain[64];
        while (read(c->wake[0], drain, sizeof drain) > 0) {
        }
        pthread_mutex_lock(&c->mu);
        bool stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop) return -1;
    }
    return p[0].revents ? 1 : 0;
}

/* wait_fd until the socket is ready or the deadline has passed, however often the client is
 * woken meanwhile (a call queued while it connects or makes a key is sent once it is ready):
 * 1 ready, 0 the deadline passed, -1 stopping. */
static int wait_fd_until(struct mt_client *c, short events, int64_t deadline)
{
    int w;
    while ((w = wait_fd(c, events, deadline)) == 0 && clock_ms() < deadline) {
    }
    return w;
}

static dm_err tcp_connect(struct mt_client *c, struct dm_error *e)
{
    char port[16];
    snprintf(port, sizeof port, "%d", c->dc->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV},
                    *res;
    int gai = getaddrinfo(c->dc->host, port, &hints, &res);
    if (gai)
        return dm_fail(e, DM_ENETWORK, "cannot resolve %s: %s", c->dc->host, gai_strerror(gai));
    int64_t deadline = clock_ms() + c->cfg.connect_timeout_ms;
    dm_err rc = DM_ENETWORK;
    int err = ECONNREFUSED;
    for (struct addrinfo *a = res; a && rc; a = a->ai_next) {
        c->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (c->fd < 0) {
            err = errno;
            continue;
        }
        if (connect(c->fd, a->ai_addr, a->ai_addrlen) == 0) {
            rc = DM_OK;
        } else if (errno == EINPROGRESS) {
            int w = wait_fd_until(c, POLLOUT, deadline);
            socklen_t sl = sizeof err;
            if (w < 0)
                err = ECANCELED;
            else if (w == 0)
                err = ETIMEDOUT;
            else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err == 0)
                rc = DM_OK;
        } else {
            err = errno;
        }
        if (rc) {
            close(c->fd);
            c->fd = -1;
        }
    }
    freeaddrinfo(res);
    if (rc)
        return dm_fail(e, DM_ENETWORK, "cannot connect to %s:%d: %s", c->dc->host, c->dc->port,
                       strerror(err));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return DM_OK;
}

/* Writes what it can of c->out; DM_ENETWORK when the connection is gone. */
static dm_err write_some(struct mt_client *c, struct dm_error *e)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return DM_OK;
        if (n < 0) return dm_fail(e, DM_ENETWORK, "cannot send: %s", strerror(errno));
        c->out_off += (size_t)n;
    }
    buf_reset(&c->out);
    c->out_off = 0;
    return DM_OK;
}

/* Reads what arrived into rbuf (which must be consumed). */
static dm_err read_some(struct mt_client *c, struct dm_error *e)
{
    ssize_t n = recv(c->fd, c->rbuf, sizeof c->rbuf, 0);
    if (n == 0) return dm_fail(e, DM_ENETWORK, "the server closed the connection");
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        n = 0;
    else if (n < 0)
        return dm_fail(e, DM_ENETWORK, "cannot receive: %s", strerror(errno));
    c->rlen = (size_t)n;
    c->roff = 0;
    return DM_OK;
}

/* The next complete packet from rbuf, if there is one (*pkt valid until the next call). A
 * transport error packet becomes an error. */
static dm_err next_packet(struct mt_client *c, const uint8_t **pkt, size_t *len, bool *ready,
                          struct dm_error *e)
{
    *ready = false;
    while (c->roff < c->rlen && !*ready) {
        size_t used = 0;
        dm_err rc =
            transport_read(&c->tr, c->rbuf + c->roff, c->rlen - c->roff, &used, pkt, len, ready, e);
        if (rc) return rc;
        c->roff += used;
    }
    int32_t code;
    if (*ready && transport_error_code(*pkt, *len, &code)) {
        if (code == -404 && c->cfg.temp_key_s > 0 && c->have_session) {
            c->temp_until = 0; /* servers keep temporary keys in memory only: make a new one */
            return dm_fail(e, DM_ENETWORK, "the server has forgotten the temporary auth key");
        }
        if (code == -404 && c->have_key)
            return dm_fail(e, DM_EAUTH,
                           "the server does not know this auth key (transport error -404)");
        return dm_fail(e, DM_ENETWORK, "the server sent transport error %" PRId32, code);
    }
    return DM_OK;
}

/* Sends one unencrypted handshake request and waits for the answer's body (copied to ans). */
static dm_err plain_exchange(struct mt_client *c, struct mt_session *clock, const struct buf *req,
                             int64_t deadline, struct buf *ans, struct dm_error *e)
{
    buf_reset(&c->pkt);
    int64_t msg_id = mt_session_msg_id(clock, mt_now_ns());
    dm_err rc = mt_plain_wrap(msg_id, (const uint8_t *)req->data, req->len, &c->pkt);
    if (!rc) rc = transport_frame(&c->tr, (const uint8_t *)c->pkt.data, c->pkt.len, &c->out, e);
    if (rc) return dm_fail(e, rc, "handshake: cannot frame a request");
    while (c->out.len) {
        int w = wait_fd_until(c, POLLOUT, deadline);
        if (w <= 0)
            return dm_fail(e, w < 0 ? DM_EUNAVAILABLE : DM_ETIMEOUT,
                           "handshake: cannot send in time");
        if ((rc = write_some(c, e)) != DM_OK) return rc;
    }
    for (;;) {
        const uint8_t *pkt, *body;
        size_t len, blen;
        bool ready;
        if ((rc = next_packet(c, &pkt, &len, &ready, e)) != DM_OK) return rc;
        if (ready) {
            if ((rc = mt_plain_unwrap(pkt, len, &msg_id, &body, &blen, e)) != DM_OK) return rc;
            buf_reset(ans);
            return buf_append(ans, body, blen)
                       ? dm_fail(e, DM_ETOOBIG, "handshake: answer too large")
                       : DM_OK;
        }
        int w = wait_fd_until(c, POLLIN, deadline);
        if (w <= 0)
            return dm_fail(e, w < 0 ? DM_EUNAVAILABLE : DM_ETIMEOUT,
                           "handshake: no answer in time");
        if ((rc = read_some(c, e)) != DM_OK) return rc;
    }
}

/* Creates an auth key on the open connection: the permanent one (kept in c->auth), or with
 * `temp` a temporary one for PFS. The session starts on the key that encrypts the messages: the
 * temporary one with PFS, else the permanent one. */
static dm_err make_key(struct mt_client *c, bool temp, struct dm_error *e)
{
    struct handshake h;
    handshake_init(&h, c->cfg.dc_id + (c->cfg.test_mode ? 10000 : 0), c->keys, c->nkeys,
                   crypto_random, NULL);
    h.temp_expires_in = temp ? c->cfg.temp_key_s : 0;
    struct buf req, ans;
    buf_init(&req, 4096);
    buf_init(&ans, 4096);
    int64_t deadline = clock_ms() + c->cfg.connect_timeout_ms;
    struct mt_session clock = {.last_msg_id = 0}; /* only its msg_id counter is used */
    dm_err rc = handshake_start(&h, &req, e);
    while (!rc && h.state != HS_DONE) {
        if ((rc = plain_exchange(c, &clock, &req, deadline, &ans, e)) != DM_OK) break;
        buf_reset(&req);
        rc = handshake_step(&h, (const uint8_t *)ans.data, ans.len, &req, e);
    }
    bool pfs = c->cfg.temp_key_s > 0;
    if (!rc) {
        pthread_mutex_lock(&c->mu);
        if (!temp) {
            memcpy(c->auth.key, h.auth_key, sizeof c->auth.key);
            c->have_key = true;
            c->perm_made_ms = clock_ms();
            pthread_cond_broadcast(&c->key_cond);
        }
        if (temp || !pfs) {
            if (c->have_session) c->resent += c->s.resent, mt_session_release(&c->s);
            c->have_session = false;
            rc = mt_session_init(&c->s, h.auth_key, h.server_salt, crypto_random, NULL, e);
            if (!rc) {
                mt_session_sync_time(&c->s, h.server_time, mt_now_ns());
                c->have_session = true;
                c->bound = false;
                c->temp_until = temp ? (int64_t)h.server_time + c->cfg.temp_key_s : 0;
            }
        }
        pthread_mutex_unlock(&c->mu);
        log_info("mtproto", "DC %d: created %s auth key", c->cfg.dc_id,
                 temp ? "a temporary" : "an");
    }
    handshake_release(&h);
    OPENSSL_cleanse(ans.data, ans.len);
    buf_release(&req);
    buf_release(&ans);
    return rc;
}

/* invokeWithLayer(TL_LAYER, initConnection(..., help.getConfig)), queued first (under mu). */
static dm_err queue_init(struct mt_client *c, struct dm_error *e)
{
    const struct mt_config *g = &c->cfg;
    json_t *call = json_pack("{s:s,s:i,s:{s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s}}}", "_",
                             "invokeWithLayer", "layer", TL_LAYER, "query", "_", "initConnection",
                             "api_id", (int)g->api_id, "device_model", g->device_model,
                             "system_version", g->system_version, "app_version", g->app_version,
                             "system_lang_code", g->system_lang_code, "lang_pack", g->lang_pack,
                             "lang_code", g->lang_code, "query", "_", "help.getConfig");
    if (!call) return dm_fail(e, DM_ENOMEM, "mtproto: out of memory");
    struct buf body;
    buf_init(&body, 4096);
    dm_err rc = tl_encode(&body, call, NULL, e);
    if (!rc)
        rc = mt_session_enqueue(&c->s, (const uint8_t *)body.data, body.len, true, INIT_REF, true,
                                e);
    json_decref(call);
    buf_release(&body);
    return rc;
}

static dm_err queue_ping(struct mt_client *c, struct dm_error *e)
{
    struct buf body;
    buf_init(&body, 64);
    dm_err rc = tl_put_u32(&body, TL_ID_ping_delay_disconnect);
    if (!rc) rc = tl_put_u64(&body, (uint64_t)++c->ping_id);
    if (!rc) rc = tl_put_u32(&body, (uint32_t)(c->cfg.ping_interval_ms * 3 / 2 / 1000 + 1));
    if (!rc)
        rc = mt_session_enqueue(&c->s, (const uint8_t *)body.data, body.len, true, PING_REF, false,
                                e);
    buf_release(&body);
    return rc;
}

/* The server's time now (seconds), by the session's clock offset. */
static int64_t server_now(const struct mt_client *c)
{
    return mt_now_ns() / 1000000000 + c->s.time_offset;
}

/* PFS: is a new temporary key due (none yet, forgotten, refused, or an eighth of its life left)? */
static bool temp_key_due(const struct mt_client *c)
{
    return !c->have_session || !c->temp_until ||
           server_now(c) >= c->temp_until - c->cfg.temp_key_s / 8;
}

/* auth.bindTempAuthKey for the session's temporary key, alone and first (under mu). */
static dm_err queue_bind(struct mt_client *c, struct dm_error *e)
{
    struct mt_bind b = {.temp_auth_key_id = c->s.auth_key_id,
                        .perm_auth_key_id = crypto_auth_key_id(c->auth.key),
                        .temp_session_id = c->s.session_id,
                        .expires_at = (int32_t)c->temp_until};
    if (crypto_random(NULL, (uint8_t *)&b.nonce, sizeof b.nonce))
        return dm_fail(e, DM_ECRYPTO, "mtproto: no random bytes");
    int64_t msg_id = mt_session_msg_id(&c->s, mt_now_ns());
    struct buf body;
    buf_init(&body, 256);
    dm_err rc = mt_bind_encode(c->auth.key, &b, msg_id, crypto_random, NULL, &body, e);
    if (!rc)
        rc =
            mt_session_enqueue_at(&c->s, (const uint8_t *)body.data, body.len, msg_id, BIND_REF, e);
    buf_release(&body);
    return rc;
}

/* Opens the connection: TCP, the transport's tag, a key if needed, a new session and its first
 * call (the binding of a new temporary key, else the init call). */
static dm_err conn_open(struct mt_client *c, struct dm_error *e)
{
    transport_release(&c->tr);
    transport_init(&c->tr, c->cfg.transport, false, TRANSPORT_DEFAULT_MAX);
    buf_reset(&c->out);
    c->out_off = c->rlen = c->roff = 0;
    dm_err rc = tcp_connect(c, e);
    if (!rc) rc = transport_start(&c->tr, &c->out);
    bool pfs = c->cfg.temp_key_s > 0;
    if (!rc && !c->have_key) rc = make_key(c, false, e);
    if (!rc && pfs && temp_key_due(c)) rc = make_key(c, true, e);
    if (rc) return rc;
    pthread_mutex_lock(&c->mu);
    c->conn_failed = false;
    c->bind_tries = 0;
    /* the session is new: from make_key, mt_client_new or conn_close */
    rc = pfs && !c->bound ? queue_bind(c, e) : queue_init(c, e);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* Closes the connection; calls whose answers did not come will be sent again. */
static void conn_close(struct mt_client *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    pthread_mutex_lock(&c->mu);
    c->ready = false;
    for (struct call *k = c->calls.next; k != &c->calls; k = k->next) {
        if (k->in_session) k->was_sent = true;
        k->in_session = false;
    }
    if (c->have_session) mt_session_reset(&c->s, NULL); /* drops what the old session held */
    pthread_mutex_unlock(&c->mu);
}

/* Handles the packets in rbuf (under mu). */
static dm_err conn_receive(struct mt_client *c, struct dm_error *e)
{
    struct mt_session_events ev = {c, ev_result, ev_failed, ev_new_session, ev_update};
    const uint8_t *pkt;
    size_t len;
    bool ready;
    dm_err rc;
    while ((rc = next_packet(c, &pkt, &len, &ready, e)) == DM_OK && ready) {
        size_t before = c->s.nacks;
        if ((rc = mt_session_receive(&c->s, pkt, len, mt_now_ns(), &ev, e)) != DM_OK) return rc;
        if (!before && c->s.nacks) c->acks_since_ms = clock_ms();
    }
    return rc;
}

/* Runs the open connection until it breaks or the client stops. */
static dm_err conn_run(struct mt_client *c, struct dm_error *e)
{
    int64_t now = clock_ms(), last_recv = now, next_ping = now + c->cfg.ping_interval_ms;
    int64_t silence = c->cfg.ping_interval_ms * 3 / 2;
    for (;;) {
        dm_err rc = DM_OK;
        pthread_mutex_lock(&c->mu);
        if (c->fatal.code)
            *e = c->fatal, rc = c->fatal.code;
        else if (c->conn_failed)
            rc = dm_fail(e, DM_EPROTO, "the server refused initConnection or ping");
        else if (c->bound && c->cfg.temp_key_s > 0 && temp_key_due(c))
            rc = dm_fail(e, DM_ENETWORK, "the temporary auth key is near its end"), c->renew = true;
        if (!rc && c->ready && now >= next_ping) {
            rc = queue_ping(c, e);
            next_ping = now + c->cfg.ping_interval_ms;
        }
        bool acks_due =
            c->s.nacks >= ACK_BATCH || (c->s.nacks && now - c->acks_since_ms >= ACK_DELAY_MS);
        /* future salts and destroy_session ride along with what goes out anyway */
        if (!rc && c->ready && mt_session_has_output(&c->s, acks_due))
            mt_session_service(&c->s, mt_now_ns());
        while (!rc && c->out.len - c->out_off < OUT_HIGH &&
               mt_session_has_output(&c->s, acks_due)) {
            size_t count;
            buf_reset(&c->pkt);
            rc = mt_session_flush(&c->s, mt_now_ns(), &c->pkt, &count, e);
            if (!rc && count)
                rc = transport_frame(&c->tr, (const uint8_t *)c->pkt.data, c->pkt.len, &c->out, e);
        }
        int64_t deadline = DM_MIN(next_ping, last_recv + silence);
        if (c->bound && c->cfg.temp_key_s > 0) /* wake up to renew the temporary key */
            deadline = DM_MIN(deadline,
                              now + 1000 * (c->temp_until - c->cfg.temp_key_s / 8 - server_now(c)));
        if (c->s.nacks) deadline = DM_MIN(deadline, c->acks_since_ms + ACK_DELAY_MS);
        pthread_mutex_unlock(&c->mu);
        if (rc) return rc;

        if (c->out.len && (rc = write_some(c, e)) != DM_OK) return rc;
        int w = wait_fd(c, (short)(POLLIN | (c->out.len ? POLLOUT : 0)), deadline);
        if (w < 0) return DM_EUNAVAILABLE;
        now = clock_ms();
        if (w > 0) {
            if ((rc = read_some(c, e)) != DM_OK) return rc;
            if (c->rlen) last_recv = now;
            pthread_mutex_lock(&c->mu);
            rc = conn_receive(c, e);
            if (rc == DM_EAUTH) set_fatal(c, e, NULL);
            pthread_mutex_unlock(&c->mu);
            if (rc) return rc;
        }
        if (now - last_recv > silence)
            return dm_fail(e, DM_ETIMEOUT, "no data from the server for %" PRId64 " ms", silence);
    }
}

/* The failure of a connection whose server speaks `proto` (transport_foreign), said so that
 * whoever set the address can fix it. */
static void foreign_error(const struct mt_client *c, const char *proto, struct dm_error *e)
{
    bool http = strcmp(proto, "HTTP") == 0;
    dm_fail(e, DM_ENETWORK,
            "DC %d at %s:%d answered with %s, not MTProto: %s, or the port is wrong", c->cfg.dc_id,
            c->dc->host, c->dc->port, proto,
            http ? "the address is a web server or an HTTP proxy"
                 : "the address is a TLS server (HTTPS) or a proxy");
}

static void *io_main(void *arg)
{
    struct mt_client *c = arg;
    int backoff = c->cfg.backoff_min_ms;
    for (bool first = true;; first = false) {
        pthread_mutex_lock(&c->mu);
        bool stop = c->stop, fatal = c->fatal.code != DM_OK;
        pthread_mutex_unlock(&c->mu);
        if (stop) break;
        if (!first || fatal) { /* wait out the backoff (or, after a fatal error, the end) */
            int64_t deadline = fatal ? INT64_MAX / 2 : clock_ms() + backoff;
            if (wait_fd_until(c, 0, deadline) < 0) break;
        }
        struct dm_error e = {0};
        pthread_mutex_lock(&c->mu);
        uint64_t before = c->connections;
        pthread_mutex_unlock(&c->mu);
        c->renew = false;
        dm_err rc = conn_open(c, &e);
        if (!rc) rc = conn_run(c, &e);
        conn_close(c);
        if (rc == DM_EUNAVAILABLE) break; /* stopping */
        const char *proto = rc ? transport_foreign(&c->tr) : NULL;
        if (proto) foreign_error(c, proto, &e);
        pthread_mutex_lock(&c->mu);
        bool worked = c->connections > before;
        c->last_err = e;
        c->foreign = proto != NULL;
        if (proto) /* waiting would not help: the address is not Telegram's */
            for (struct call *k = c->calls.next; k != &c->calls; k = k->next)
                if (!k->done) call_fail(k, &e);
        pthread_mutex_unlock(&c->mu);
        backoff = worked ? c->cfg.backoff_min_ms : DM_MIN(backoff * 2, c->cfg.backoff_max_ms);
        if (c->renew)
            log_info("mtproto", "DC %d: %s; reconnecting with a new one", c->cfg.dc_id, e.msg);
        else if (rc != DM_EAUTH && rc != DM_ETELEGRAM)
            log_warn("mtproto", "DC %d: %s; reconnecting in %d ms", c->cfg.dc_id, e.msg, backoff);
    }
    return NULL;
}

/* ---- the API ---- */

_Static_assert(TL_NRSA_KEYS <= MT_MAX_RSA_KEYS, "MT_MAX_RSA_KEYS holds the built-in keys");

/* Reads every public key in the PEM file, or takes Telegram's keys (tl/rsa_keys.h) without one. */
static dm_err load_keys(struct mt_client *c, struct dm_error *e)
{
    if (!c->cfg.rsa_pem_path[0]) {
        for (size_t i = 0; i < TL_NRSA_KEYS; i++) {
            const struct tl_rsa_key *k = &tl_rsa_keys[i];
            dm_err rc = crypto_rsa_key_from_raw(k->n, sizeof k->n, k->e, k->e_len, &c->keys[i], e);
            if (rc) return rc;
        }
        c->nkeys = TL_NRSA_KEYS;
        return DM_OK;
    }
    FILE *f = fopen(c->cfg.rsa_pem_path, "r");
    if (!f)
        return dm_fail(e, DM_EINVAL, "cannot read the RSA key file %s: %s", c->cfg.rsa_pem_path,
                       strerror(errno));
    char *text = malloc(PEM_MAX + 1);
    size_t n = text ? fread(text, 1, PEM_MAX + 1, f) : 0;
    fclose(f);
    if (!text) return dm_fail(e, DM_ENOMEM, "out of memory");
    dm_err rc = DM_OK;
    if (n > PEM_MAX)
        rc = dm_fail(e, DM_ETOOBIG, "the RSA key file %s is larger than %u bytes",
                     c->cfg.rsa_pem_path, PEM_MAX);
    text[DM_MIN(n, PEM_MAX)] = 0;
    for (char *p = strstr(text, "-----BEGIN"); !rc && p;) {
        char *next = strstr(p + 10, "-----BEGIN");
        if (next) next[0] = 0;
        if (c->nkeys == MT_MAX_RSA_KEYS)
            rc = dm_fail(e, DM_ETOOBIG, "at most %d RSA keys", MT_MAX_RSA_KEYS);
        else if ((rc = crypto_rsa_key_from_pem(p, &c->keys[c->nkeys], e)) == DM_OK)
            c->nkeys++;
        if (next) next[0] = '-';
        p = next;
    }
    if (!rc && !c->nkeys)
        rc = dm_fail(e, DM_EINVAL, "the RSA key file %s holds no public key", c->cfg.rsa_pem_path);
    free(text);
    return rc;
}

dm_err mt_client_new(const struct mt_config *cfg, const struct mt_auth *auth,
                     struct mt_client **out, struct dm_error *e)
{
    *out = NULL;
    if (cfg->transport != TRANSPORT_INTERMEDIATE && cfg->transport != TRANSPORT_ABRIDGED)
        return dm_fail(e, DM_EINVAL, "mtproto: the transport must be intermediate or abridged");
    if (cfg->connect_timeout_ms <= 0 || cfg->ping_interval_ms < 1000 || cfg->backoff_min_ms <= 0 ||
        cfg->backoff_max_ms < cfg->backoff_min_ms)
        return dm_fail(e, DM_EINVAL,
                       "mtproto: timeouts must be positive (pings at least 1 s apart)");
    if (auth && auth->dc_id != cfg->dc_id)
        return dm_fail(e, DM_EINVAL, "mtproto: the auth key belongs to DC %d, not DC %d",
                       auth->dc_id, cfg->dc_id);
    struct mt_client *c = calloc(1, sizeof *c);
    if (!c) return dm_fail(e, DM_ENOMEM, "out of memory");
    c->cfg = *cfg;
    c->fd = c->wake[0] = c->wake[1] = -1;
    c->calls.next = c->calls.prev = &c->calls;
    transport_init(&c->tr, cfg->transport, false, TRANSPORT_DEFAULT_MAX);
    buf_init(&c->out, OUT_CAP);
    buf_init(&c->pkt, MT_MESSAGE_MAX + (1u << 20));
    pthread_mutex_init(&c->mu, NULL);
    clock_cond_init(&c->key_cond);
    clock_cond_init(&c->upd_cond);
    dm_err rc = DM_OK;
    for (size_t i = 0; i < cfg->ndcs && !c->dc; i++)
        if (cfg->dcs[i].id == cfg->dc_id) c->dc = &c->cfg.dcs[i];
    if (!c->dc)
        rc =
            dm_fail(e, DM_EINVAL, "mtproto: no address for DC %d in the configuration", cfg->dc_id);
    bool pfs = cfg->temp_key_s > 0;
    if (cfg->temp_key_s < 0)
        rc = dm_fail(e, DM_EINVAL, "mtproto: temporary keys live 0 (off) or more seconds");
    /* without PFS a given key never needs a handshake */
    if (!rc && (!auth || pfs)) rc = load_keys(c, e);
    c->auth.dc_id = cfg->dc_id;
    if (!rc && auth) {
        memcpy(c->auth.key, auth->key, sizeof c->auth.key);
        c->have_key = true;
        if (!pfs) /* bad_server_salt brings the salt */
            rc = mt_session_init(&c->s, auth->key, 0, crypto_random, NULL, e);
        c->have_session = !pfs && !rc;
    }
    if (!rc && pipe2(c->wake, O_NONBLOCK | O_CLOEXEC))
        rc = dm_fail(e, DM_EIO, "mtproto: cannot create a pipe: %s", strerror(errno));
    if (!rc && pthread_create(&c->thread, NULL, io_main, c))
        rc = dm_fail(e, DM_ENOMEM, "mtproto: cannot start the I/O thread");
    if (rc) {
        if (c->wake[0] >= 0) close(c->wake[0]), close(c->wake[1]);
        c->wake[0] = -1;
        mt_client_free(c); /* no thread: wake[0] < 0 tells it */
        return rc;
    }
    *out = c;
    return DM_OK;
}

void mt_client_free(struct mt_client *c)
{
    if (!c) return;
    if (c->wake[0] >= 0) {
        pthread_mutex_lock(&c->mu);
        c->stop = true;
        pthread_mutex_unlock(&c->mu);
        wake_io(c);
        pthread_join(c->thread, NULL);
        close(c->wake[0]);
        close(c->wake[1]);
    }
    if (c->fd >= 0) close(c->fd);
    if (c->have_session) mt_session_release(&c->s);
    transport_release(&c->tr);
    buf_release(&c->out);
    OPENSSL_cleanse(c->pkt.data, c->pkt.len);
    buf_release(&c->pkt);
    upd_clear(c);
    pthread_cond_destroy(&c->upd_cond);
    pthread_cond_destroy(&c->key_cond);
    pthread_mutex_destroy(&c->mu);
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

/* Decodes an answer: the result in the call's shape, or an rpc_error. */
static dm_err decode_answer(const json_t *method, const uint8_t *p, size_t n, json_t **result,
                            struct mt_rpc_error *rpc, struct dm_error *e)
{
    const char *name = json_string_value(json_object_get(method, "_"));
    if (n >= 4 && tl_read_u32(p) == ID_rpc_error) {
        json_t *j = NULL;
        int32_t code = 0;
        const char *msg = NULL;
        if (tl_decode(p, n, NULL, &j, NULL, e) || tl_get_int(j, "error_code", &code, e) ||
            tl_get_str(j, "error_message", &msg, e)) {
            json_decref(j);
            return dm_fail(e, DM_EPROTO, "mtproto: a malformed rpc_error for %s", name);
        }
        struct mt_rpc_error r;
        mt_rpc_error_parse(&r, code, msg);
        json_decref(j);
        if (rpc) *rpc = r;
        return dm_fail(e, DM_ETELEGRAM, "Telegram answered %s with %s (%d)", name, r.message,
                       r.code);
    }
    json_t *v = NULL;
    size_t used = 0;
    struct dm_error de = {0};
    if (tl_decode(p, n, tl_call_result(method), result ? &v : NULL, &used, &de))
        return dm_fail(e, DM_EPROTO, "mtproto: the answer to %s does not decode: %s", name, de.msg);
    if (result) *result = v;
    return DM_OK;
}

dm_err mt_call(struct mt_client *c, const json_t *method, int timeout_ms, json_t **result,
               struct mt_rpc_error *rpc, struct dm_error *e)
{
    if (result) *result = NULL;
    if (timeout_ms <= 0) return dm_fail(e, DM_EINVAL, "mtproto: a call needs a timeout");
    if (!tl_call_result(method))
        return dm_fail(e, DM_EINVAL, "mtproto: the call is not a known method object");
    struct buf body;
    buf_init(&body, MT_MESSAGE_MAX);
    dm_err rc = tl_encode(&body, method, NULL, e);
    if (rc) {
        buf_release(&body);
        return rc;
    }
    struct call k = {.body = (const uint8_t *)body.data, .len = body.len};
    clock_cond_init(&k.cond);
    struct timespec until = clock_after_ms(timeout_ms);

    pthread_mutex_lock(&c->mu);
    if (c->fatal.code) {
        k.err = c->fatal;
        k.done = true;
        if (rpc && c->fatal.code == DM_ETELEGRAM) *rpc = c->fatal_rpc;
    } else if (c->foreign && !c->ready) {
        k.err = c->last_err;
        k.done = true;
    } else {
        k.prev = c->calls.prev, k.next = &c->calls;
        k.prev->next = &k, c->calls.prev = &k;
        if (c->ready) {
            if (mt_session_enqueue(&c->s, k.body, k.len, true, (uintptr_t)&k, false, &k.err))
                k.done = true;
            else
                k.in_session = true;
        }
        wake_io(c);
        while (!k.done && pthread_cond_timedwait(&k.cond, &c->mu, &until) != ETIMEDOUT) {
        }
        if (k.in_session)
            mt_session_forget(&c->s, (uintptr_t)&k); /* no answer may reach &k after this */
        if (!k.done) {
            const char *name = json_string_value(json_object_get(method, "_"));
            if (c->last_err.code && !c->ready)
                dm_fail(&k.err, DM_ETIMEOUT,
                        "mtproto: no answer to %s within %d ms (DC %d: %.150s)", name, timeout_ms,
                        c->cfg.dc_id, c->last_err.msg);
            else
                dm_fail(&k.err, DM_ETIMEOUT, "mtproto: no answer to %s within %d ms", name,
                        timeout_ms);
        }
        k.prev->next = k.next, k.next->prev = k.prev;
    }
    pthread_mutex_unlock(&c->mu);
    pthread_cond_destroy(&k.cond);
    OPENSSL_cleanse(body.data, body.len); /* it may hold a secret (a bot token, a code) */
    buf_release(&body);

    if (k.err.code) {
        if (e) *e = k.err;
        free(k.answer);
        return k.err.code;
    }
    rc = decode_answer(method, k.answer, k.answer_len, result, rpc, e);
    free(k.answer);
    return rc;
}

dm_err mt_client_auth_key(struct mt_client *c, int timeout_ms, struct mt_auth *out,
                          struct dm_error *e)
{
    struct timespec until = clock_after_ms(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&c->mu);
    while (!c->have_key && !c->fatal.code &&
           pthread_cond_timedwait(&c->key_cond, &c->mu, &until) != ETIMEDOUT) {
    }
    dm_err rc = DM_OK;
    if (c->have_key)
        *out = c->auth;
    else if (c->fatal.code)
        rc = e ? (*e = c->fatal).code : c->fatal.code;
    else if (c->last_err.code)
        rc = dm_fail(e, DM_ETIMEOUT, "mtproto: no auth key for DC %d yet (%.150s)", c->cfg.dc_id,
                     c->last_err.msg);
    else
        rc = dm_fail(e, DM_ETIMEOUT, "mtproto: no auth key for DC %d yet", c->cfg.dc_id);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void mt_client_stats(struct mt_client *c, struct mt_client_stats *out)
{
    pthread_mutex_lock(&c->mu);
    out->connections = c->connections;
    out->resent = c->resent + (c->have_session ? c->s.resent : 0);
    out->ready = c->ready;
    pthread_mutex_unlock(&c->mu);
}

dm_err mt_client_updates(struct mt_client *c, int timeout_ms, json_t **out, struct dm_error *e)
{
    struct timespec until = clock_after_ms(timeout_ms);
    pthread_mutex_lock(&c->mu);
    if (!c->upd_on) {
        c->upd_on = true;
        c->upd_gap = true; /* what came before is unknown to the reader */
    }
    while (!c->upd_head && !c->upd_gap && !c->stop &&
           pthread_cond_timedwait(&c->upd_cond, &c->mu, &until) != ETIMEDOUT) {
    }
    struct upd_item *u = NULL;
    bool gap = c->upd_gap;
    if (gap) {
        c->upd_gap = false;
    } else if ((u = c->upd_head)) {
        if (!(c->upd_head = u->next)) c->upd_tail = NULL;
        c->nupd--;
    }
    pthread_mutex_unlock(&c->mu);
    if (gap) {
        *out = json_pack("{s:s}", "_", "updatesTooLong");
        return *out ? DM_OK : dm_fail(e, DM_ENOMEM, "out of memory");
    }
    if (!u) return dm_fail(e, DM_ETIMEOUT, "no update within %d ms", timeout_ms);
    dm_err rc = tl_decode(u->body, u->len, NULL, out, NULL, e);
    free(u);
    return rc;
}
