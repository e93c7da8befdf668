/* app.h: the running doorman process, the composition root: it starts every part and hands
 * each one what it uses (the bot a bot_config, the runner a job_runner_config, the API its
 * api_env); no layer below reaches back into it.
 *
 * The app owns the store, the master key, the session pool, the bot (update receiver and
 * Bot API client), the job runner and the HTTP server. Fields are set up by app_start() and
 * stay valid until app_stop(); they may be read from any thread. */
#ifndef DM_APP_H
#define DM_APP_H

#include "core/common.h"

#include <signal.h>
#include "api/api.h"
#include "core/config.h"
#include "core/secret.h"
#include "jobs/dm_challenge.h"
#include "store/store.h"
#include "telegram/account.h"

struct http_server;
struct bot;
struct job_runner;
struct pool;

struct app {
    struct config cfg;
    struct store *store;
    struct secret_key master;
    struct http_server *http;
    struct bot *bot;                /* telegram/bot.h */
    struct job_runner *jobs;        /* jobs/runner.h */
    struct autodecide *auto_decide; /* jobs/autodecide.h: deciding by rules */
    struct guard *guard;            /* jobs/guard.h: answering join-request queries */
    struct tg_watch *tg_watch;      /* jobs/telegram_decisions.h: decisions made in Telegram */
    struct tg_updates *updates;     /* telegram/updates.h: sessions listening to updates */
    struct pool *pool;              /* telegram/pool.h: MTProto sessions' connections */
    struct alerts *alerts;          /* alerts/alerts.h: events to webhooks */
    struct accounts accounts;       /* telegram/account.h: who decides (the bot, the sessions); its
                                       fields point at the store, the bot and the pool above */
    struct dm_challenge dm;         /* jobs/dm_challenge.h: the bot's button presses */
    struct api_env api;             /* what the API handler gets: the parts above */
    char instance_id[33];           /* this data directory's name as the holder of leases (app.c) */
    int instance_fd;                /* DATA/instance, locked while the process runs ... */
    bool instance_locked;           /* ... when this is true */
    volatile int stopping;
};

/* Starts everything (store, bot, jobs, HTTP) as configured in a->cfg. */
dm_err app_start(struct app *a, struct dm_error *err);
/* The idle pass: gives back memory kept for speed that a quiet process does not need (the
 * store's, store_release_idle, then the allocator's free pages). For the thread that waits for
 * the stop signal, every cfg.idle_s seconds while it waits (DOORMAN_IDLE_S; 0: never); harmless
 * while requests run. */
void app_idle(struct app *a);
/* Stops in reverse order; safe after a failed app_start. */
void app_stop(struct app *a);

#endif
