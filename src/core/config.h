/* config.h: doorman's settings from the command line and the environment.
 *
 * Precedence: command-line flag, then environment variable, then default.
 *   --data DIR        DOORMAN_DATA          ./data
 *   --listen H:P      DOORMAN_LISTEN        127.0.0.1:8080
 *   --db URL          DOORMAN_DATABASE_URL  sqlite:<data>/doorman.db
 *   --bot-api URL     DOORMAN_BOT_API_URL   https://api.telegram.org
 *   --public-url URL  DOORMAN_PUBLIC_URL    http://<listen>  (used in printed links, webhooks;
 *                                           with the listen address, the hosts HTTP answers)
 *   --log-level L     DOORMAN_LOG_LEVEL     info
 *   --mtproto-dcs L   DOORMAN_MTPROTO_DCS   "" (Telegram's production DCs): "1=HOST:PORT,..."
 *   --mtproto-rsa F   DOORMAN_MTPROTO_RSA   "" (Telegram's production keys): PEM of the DCs' keys
 * Tuning, environment only (docs/operations.md, Tuning):
 *   DOORMAN_HTTP_PER_IP           64  connections at once from one client address (0: no limit)
 *   DOORMAN_HTTP_WORKERS           8  requests waiting on Telegram served at once
 *   DOORMAN_HTTP_WORK_QUEUE       32  more such requests waiting for one of those (then 503 busy)
 *   DOORMAN_PREFLIGHT_DEADLINE_S  30  seconds a preflight checks channels before it answers
 *   DOORMAN_METRICS_ALLOW  127.0.0.1,::1  addresses that may read /metrics without its token
 *   DOORMAN_LOG_FORMAT     text           or json: one JSON object a line (core/log.h)
 *   DOORMAN_MTPROTO_TEMP_KEY_S  86400  seconds a session's temporary auth key lives (perfect
 *                                      forward secrecy, mtproto/client.h); 0: none, the
 *                                      permanent key encrypts everything
 *   DOORMAN_WEBHOOK_RETRY_S   10  seconds before a failed webhook delivery's first retry (then
 *                                 doubling, at most an hour apart; alerts/alerts.h)
 *   DOORMAN_WEBHOOK_ATTEMPTS   8  attempts at a delivery before it is marked failed
 *   DOORMAN_WEBHOOK_TIMEOUT_S 10  seconds a receiver has to answer
 * DOORMAN_SECRET_KEY is read by secret_load_master(), not here. */
#ifndef DM_CONFIG_H
#define DM_CONFIG_H

#include "core/common.h"

struct config {
    char data_dir[1024];
    char listen_host[128];
    uint16_t listen_port;
    char db_url[1200];
    char bot_api_url[512];
    char public_url[512];
    int log_level;
    int log_format; /* enum log_format; -1: DOORMAN_LOG_FORMAT was neither (config_finish fails) */
    unsigned http_threads;
    unsigned http_per_ip;          /* 0: no limit */
    unsigned http_workers;         /* http/server.h config.workers */
    unsigned http_work_queue;      /* http/server.h config.work_queue */
    unsigned preflight_deadline_s; /* api/invite_requests.c */
    unsigned tg_decisions_s;       /* jobs/telegram_decisions.h: the periodic check; 0 off */
    unsigned idle_s;               /* app.h app_idle: seconds between idle passes; 0 off */
    unsigned session_updates;      /* telegram/updates.h: sessions listen to updates; 0 off */
    char mtproto_dcs[1024];        /* "" or "ID=HOST:PORT,..." overriding the DC table */
    char mtproto_rsa_pem[1024];    /* "" or a PEM file with the DCs' public keys */
    char metrics_allow[512];       /* IP addresses, comma-separated (api/observability.c) */
    unsigned mtproto_temp_key_s;   /* 0: no temporary keys (telegram/pool.c) */
    unsigned webhook_retry_s;      /* alerts/alerts.h */
    unsigned webhook_attempts;
    unsigned webhook_timeout_s;
};

/* Fills defaults and environment values. */
void config_defaults(struct config *c);
/* Consumes the flags above from argv starting at *i (advancing *i past a flag and its value).
 * Returns DM_OK if argv[*i] was one of them, DM_ENOTFOUND if it is not a config flag, or
 * DM_EINVAL with a message for a bad value. */
dm_err config_parse_flag(struct config *c, int argc, char **argv, int *i, struct dm_error *err);
/* Derives what depends on other fields (db_url and public_url defaults) and creates data_dir
 * (0700). Call after the last config_parse_flag. */
dm_err config_finish(struct config *c, struct dm_error *err);
/* Parses "HOST:PORT", "[V6]:PORT" or "PORT". */
dm_err config_parse_listen(const char *s, char *host, size_t host_len, uint16_t *port);

#endif
