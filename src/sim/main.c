/* tgsim: a stateful Telegram simulator (Bot API + control API) for doorman's tests and demo. */
#include "core/common.h"

#include "core/log.h"
#include "core/signals.h"
#include "http/server.h"
#include "sim/botapi.h"
#include "sim/cas.h"
#include "sim/control.h"
#include "sim/dc.h"
#include "sim/applicant_page.h"
#include "sim/inbox_page.h"
#include "sim/webhook.h"
#include "sim/world.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>

#define MAX_BODY (1024u * 1024u)

static const char usage[] =
    "usage: tgsim [--listen HOST:PORT] [--rate-limit N] [--latency-ms MS] [--seed N]\n"
    "             [--dc-ports P1,P2,... --rsa-pem PATH [--dc-latency-ms MS]]\n"
    "\n"
    "A stateful Telegram simulator: the Bot API on /bot<token>/<method>, a control API on\n"
    "/control/, an account's messages from \"Telegram\" (its login codes) as a page on\n"
    "/messages?phone=N and a CAS-style blocklist on /cas/check?user_id=N (see\n"
    "docs/tgsim.md), all on one HTTP port.\n"
    "\n"
    "  --listen HOST:PORT  address to listen on (default 127.0.0.1:8081); PORT 0 picks a free\n"
    "                      port; IPv6 as [::1]:PORT\n"
    "  --rate-limit N      Bot API requests per second allowed per bot (token bucket, burst N;\n"
    "                      getUpdates is exempt); 0 = unlimited (default)\n"
    "  --latency-ms MS     delay added to every Bot API call, not to getUpdates' wait (default 0)\n"
    "  --seed N            seed for generated ids and tokens (default 1)\n"
    "  --dc-ports P1,P2,.. start MTProto data centres 1..N on 127.0.0.1 at these ports (0 = a\n"
    "                      free port each; at most 5); default: none\n"
    "  --rsa-pem PATH      where to write the DCs' RSA public key (PEM); required with --dc-ports\n"
    "  --dc-latency-ms MS  delay added to every MTProto RPC answer (default 0)\n"
    "  --help              show this help\n"
    "\n"
    "On start tgsim prints one line to stderr: \"tgsim: listening on http://HOST:PORT\",\n"
    "then one per data centre: \"tgsim: dc N listening on 127.0.0.1:PORT\".\n"
    "SIGINT or SIGTERM stops it.\n";

struct options {
    char host[64];
    uint16_t port;
    double rate_limit;
    unsigned latency_ms, dc_latency_ms;
    uint64_t seed;
    uint16_t dc_ports[DC_MAX];
    int ndcs;
    const char *rsa_pem;
};

static bool parse_ports(const char *s, struct options *o)
{
    o->ndcs = 0;
    for (const char *p = s;; p++) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || v < 0 || v > 65535 || o->ndcs == DC_MAX) return false;
        o->dc_ports[o->ndcs++] = (uint16_t)v;
        if (*end == 0) return true;
        if (*end != ',') return false;
        p = end;
    }
}

static bool parse_listen(const char *s, struct options *o)
{
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') return false;
        size_t n = (size_t)(close - s - 1);
        if (n == 0 || n >= sizeof o->host) return false;
        memcpy(o->host, s + 1, n);
        o->host[n] = 0;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) return false;
        size_t n = (size_t)(colon - s);
        if (n == 0 || n >= sizeof o->host) return false;
        memcpy(o->host, s, n);
        o->host[n] = 0;
    }
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port < 0 || port > 65535) return false;
    o->port = (uint16_t)port;
    return true;
}

static bool parse_number(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= min && v <= max)) return false;
    *out = v;
    return true;
}

/* 0 to continue, else the exit status. */
static int parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return -1;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        bool ok;
        if (strcmp(a, "--listen") == 0) {
            ok = v && parse_listen(v, o);
        } else if (strcmp(a, "--rate-limit") == 0) {
            ok = v && parse_number(v, 0, 1e6, &d);
            if (ok) o->rate_limit = d;
        } else if (strcmp(a, "--latency-ms") == 0) {
            ok = v && parse_number(v, 0, 60000, &d) && d == (double)(unsigned)d;
            if (ok) o->latency_ms = (unsigned)d;
        } else if (strcmp(a, "--dc-latency-ms") == 0) {
            ok = v && parse_number(v, 0, 60000, &d) && d == (double)(unsigned)d;
            if (ok) o->dc_latency_ms = (unsigned)d;
        } else if (strcmp(a, "--dc-ports") == 0) {
            ok = v && parse_ports(v, o);
        } else if (strcmp(a, "--rsa-pem") == 0) {
            ok = v && *v;
            o->rsa_pem = v;
        } else if (strcmp(a, "--seed") == 0) {
            char *end;
            errno = 0;
            unsigned long long s = v ? strtoull(v, &end, 10) : 0;
            ok = v && !errno && end != v && !*end;
            if (ok) o->seed = s;
        } else {
            fprintf(stderr, "tgsim: unknown option %s (try --help)\n", a);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "tgsim: %s needs a valid value (try --help)\n", a);
            return 2;
        }
        i++;
    }
    if (o->ndcs && !o->rsa_pem) {
        fprintf(stderr, "tgsim: --dc-ports needs --rsa-pem PATH (try --help)\n");
        return 2;
    }
    return 0;
}

static void route(void *ctx, const struct http_request *req, struct http_response *res)
{
    struct world *w = ctx;
    if (strncmp(req->path, "/bot", 4) == 0) {
        const char *tok = req->path + 4;
        const char *slash = strchr(tok, '/');
        char token[SIM_TOKEN_MAX + 1];
        size_t n = slash ? (size_t)(slash - tok) : 0;
        if (!slash || n == 0 || n >= sizeof token || !slash[1]) {
            botapi_not_found(res);
            return;
        }
        memcpy(token, tok, n);
        token[n] = 0;
        botapi_handle(w, token, slash + 1, req, res);
    } else if (strncmp(req->path, "/control/", 9) == 0) {
        control_handle(w, req, res);
    } else if (strncmp(req->path, "/cas/", 5) == 0) {
        cas_handle(w, req, res);
    } else if (strcmp(req->path, "/messages") == 0) {
        inbox_page_handle(w, req, res);
    } else if (strcmp(req->path, "/applicants") == 0) {
        applicant_page_handle(w, req, res);
    } else {
        botapi_not_found(res);
    }
}

int main(int argc, char **argv)
{
    struct options o = {.host = "127.0.0.1", .port = 8081, .seed = 1};
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    log_set_level(LOG_WARN);

    /* Signals are taken by sigwait() below: block them before any thread starts. */
    sigset_t stop_set = signals_block_stop();

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "tgsim: cannot initialise libcurl\n");
        return 1;
    }
    struct world *w;
    if (world_new(o.seed, &w) != DM_OK) {
        fprintf(stderr, "tgsim: out of memory\n");
        return 1;
    }
    world_lock(w);
    world_set_rate_limit(w, o.rate_limit);
    w->latency_ms = o.latency_ms;
    world_unlock(w);

    struct http_server_config cfg = {
        .bind_addr = o.host,
        .port = o.port,
        .max_body = MAX_BODY,
        .threads = 0, /* a thread per connection: long polls block */
        .conn_timeout_s = 2 * 60 + 30,
        .handler = route,
        .ctx = w,
    };
    struct http_server *srv;
    struct dm_error err = {0};
    if (http_server_start(&cfg, &srv, &err) != DM_OK) {
        fprintf(stderr, "tgsim: %s\n", err.msg);
        world_free(w);
        return 1;
    }
    bool v6 = strchr(o.host, ':') != NULL;
    fprintf(stderr, "tgsim: listening on http://%s%s%s:%u\n", v6 ? "[" : "", o.host, v6 ? "]" : "",
            http_server_port(srv));
    struct dcs *dcs = NULL;
    if (o.ndcs) {
        if (dc_start(w, o.rsa_pem, o.dc_ports, o.ndcs, &dcs, &err) != DM_OK) {
            fprintf(stderr, "tgsim: %s\n", err.msg);
            http_server_stop(srv);
            world_free(w);
            return 1;
        }
        dc_set_latency(dcs, (int)o.dc_latency_ms);
        for (int i = 1; i <= o.ndcs; i++)
            fprintf(stderr, "tgsim: dc %d listening on 127.0.0.1:%u\n", i, dc_port(dcs, i));
    }
    fflush(stderr);

    int sig;
    while (sigwait(&stop_set, &sig) != 0) {
    }
    world_stop(w);         /* long polls answer, delivery threads finish */
    dc_stop(dcs);          /* closes MTProto connections */
    http_server_stop(srv); /* waits for running handlers */
    webhook_join_all(w);
    world_free(w);
    curl_global_cleanup();
    return 0;
}
