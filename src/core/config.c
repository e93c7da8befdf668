#include "core/common.h"
#include "core/config.h"
#include "core/log.h"

#include <sys/stat.h>

static void set_from_env(char *dst, size_t n, const char *env)
{
    const char *v = getenv(env);
    if (v && *v) dm_strlcpy(dst, v, n);
}

/* An unsigned number from the environment within lo..hi, or def (with a warning when set but
 * not such a number). */
static unsigned env_unsigned(const char *name, unsigned def, unsigned lo, unsigned hi)
{
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi || v[0] == '-') {
        log_warn("config", "%s must be a number from %u to %u; using %u", name, lo, hi, def);
        return def;
    }
    return (unsigned)n;
}

dm_err config_parse_listen(const char *s, char *host, size_t host_len, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    const char *p = s;
    if (colon) {
        size_t hl = (size_t)(colon - s);
        const char *h = s;
        if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
            h++;
            hl -= 2;
        }
        if (hl == 0 || hl >= host_len) return DM_EINVAL;
        memcpy(host, h, hl);
        host[hl] = 0;
        p = colon + 1;
    }
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(p, &end, 10);
    if (errno || end == p || *end || v > 65535) return DM_EINVAL;
    *port = (uint16_t)v;
    return DM_OK;
}

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    dm_strlcpy(c->data_dir, "data", sizeof c->data_dir);
    dm_strlcpy(c->listen_host, "127.0.0.1", sizeof c->listen_host);
    c->listen_port = 8080;
    dm_strlcpy(c->bot_api_url, "https://api.telegram.org", sizeof c->bot_api_url);
    c->log_level = LOG_INFO;
    c->http_threads = 4;
    c->http_per_ip = env_unsigned("DOORMAN_HTTP_PER_IP", 64, 0, 1000);
    c->http_workers = env_unsigned("DOORMAN_HTTP_WORKERS", 8, 1, 64);
    c->http_work_queue = env_unsigned("DOORMAN_HTTP_WORK_QUEUE", 32, 1, 1000);
    c->preflight_deadline_s = env_unsigned("DOORMAN_PREFLIGHT_DEADLINE_S", 30, 1, 600);
    c->mtproto_temp_key_s = env_unsigned("DOORMAN_MTPROTO_TEMP_KEY_S", 86400, 0, 604800);
    c->webhook_retry_s = env_unsigned("DOORMAN_WEBHOOK_RETRY_S", 10, 1, 3600);
    c->webhook_attempts = env_unsigned("DOORMAN_WEBHOOK_ATTEMPTS", 8, 1, 100);
    c->webhook_timeout_s = env_unsigned("DOORMAN_WEBHOOK_TIMEOUT_S", 10, 1, 300);
    c->tg_decisions_s = env_unsigned("DOORMAN_TELEGRAM_DECISIONS_S", 300, 0, 86400);
    c->idle_s = env_unsigned("DOORMAN_IDLE_S", 30, 0, 3600);
    c->session_updates = env_unsigned("DOORMAN_SESSION_UPDATES", 1, 0, 1);
    dm_strlcpy(c->metrics_allow, "127.0.0.1,::1", sizeof c->metrics_allow);
    const char *ma = getenv("DOORMAN_METRICS_ALLOW");
    if (ma) dm_strlcpy(c->metrics_allow, ma, sizeof c->metrics_allow); /* "" is allowed: none */
    set_from_env(c->data_dir, sizeof c->data_dir, "DOORMAN_DATA");
    set_from_env(c->db_url, sizeof c->db_url, "DOORMAN_DATABASE_URL");
    set_from_env(c->bot_api_url, sizeof c->bot_api_url, "DOORMAN_BOT_API_URL");
    set_from_env(c->public_url, sizeof c->public_url, "DOORMAN_PUBLIC_URL");
    set_from_env(c->mtproto_dcs, sizeof c->mtproto_dcs, "DOORMAN_MTPROTO_DCS");
    set_from_env(c->mtproto_rsa_pem, sizeof c->mtproto_rsa_pem, "DOORMAN_MTPROTO_RSA");
    const char *l = getenv("DOORMAN_LISTEN");
    if (l && *l) config_parse_listen(l, c->listen_host, sizeof c->listen_host, &c->listen_port);
    int lvl = log_parse_level(getenv("DOORMAN_LOG_LEVEL"));
    if (lvl >= 0) c->log_level = lvl;
    const char *lf = getenv("DOORMAN_LOG_FORMAT");
    c->log_format = lf && *lf ? log_parse_format(lf) : LOG_TEXT; /* -1: config_finish says so */
}

dm_err config_parse_flag(struct config *c, int argc, char **argv, int *i, struct dm_error *err)
{
    static const struct {
        const char *flag;
        size_t off, size;
    } text_flags[] = {
        {"--data", offsetof(struct config, data_dir), sizeof c->data_dir},
        {"--db", offsetof(struct config, db_url), sizeof c->db_url},
        {"--bot-api", offsetof(struct config, bot_api_url), sizeof c->bot_api_url},
        {"--public-url", offsetof(struct config, public_url), sizeof c->public_url},
        {"--mtproto-dcs", offsetof(struct config, mtproto_dcs), sizeof c->mtproto_dcs},
        {"--mtproto-rsa", offsetof(struct config, mtproto_rsa_pem), sizeof c->mtproto_rsa_pem},
    };
    const char *a = argv[*i];
    bool known = strcmp(a, "--listen") == 0 || strcmp(a, "--log-level") == 0;
    for (size_t k = 0; k < DM_ARRAY_LEN(text_flags) && !known; k++)
        known = strcmp(a, text_flags[k].flag) == 0;
    if (!known) return DM_ENOTFOUND;
    if (*i + 1 >= argc) return dm_fail(err, DM_EINVAL, "%s needs a value", a);
    const char *v = argv[++*i];
    (*i)++;
    if (strcmp(a, "--listen") == 0) {
        if (config_parse_listen(v, c->listen_host, sizeof c->listen_host, &c->listen_port))
            return dm_fail(err, DM_EINVAL, "--listen: expected HOST:PORT, got '%s'", v);
        return DM_OK;
    }
    if (strcmp(a, "--log-level") == 0) {
        int lvl = log_parse_level(v);
        if (lvl < 0)
            return dm_fail(err, DM_EINVAL, "--log-level: expected debug, info, warn or error");
        c->log_level = lvl;
        return DM_OK;
    }
    for (size_t k = 0; k < DM_ARRAY_LEN(text_flags); k++)
        if (strcmp(a, text_flags[k].flag) == 0) {
            if (dm_strlcpy((char *)c + text_flags[k].off, v, text_flags[k].size) >=
                text_flags[k].size)
                return dm_fail(err, DM_EINVAL, "%s: value too long", a);
        }
    return DM_OK;
}

dm_err config_finish(struct config *c, struct dm_error *err)
{
    if (c->log_format < 0)
        return dm_fail(err, DM_EINVAL, "DOORMAN_LOG_FORMAT must be \"text\" or \"json\"");
    if (mkdir(c->data_dir, 0700) != 0 && errno != EEXIST)
        return dm_fail(err, DM_EIO, "cannot create data directory %s: %s", c->data_dir,
                       strerror(errno));
    if (!c->db_url[0]) snprintf(c->db_url, sizeof c->db_url, "sqlite:%s/doorman.db", c->data_dir);
    if (!c->public_url[0]) {
        bool v6 = strchr(c->listen_host, ':') != NULL;
        snprintf(c->public_url, sizeof c->public_url, v6 ? "http://[%s]:%u" : "http://%s:%u",
                 c->listen_host, c->listen_port);
    }
    size_t n = strlen(c->bot_api_url);
    while (n > 0 && c->bot_api_url[n - 1] == '/')
        c->bot_api_url[--n] = 0;
    return DM_OK;
}
