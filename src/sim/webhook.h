/* webhook.h: delivery of a bot's updates to its webhook (libcurl), one thread per bot.
 *
 * Each update is POSTed as JSON to the bot's url with X-Telegram-Bot-Api-Secret-Token when a
 * secret is set; a 2xx answer confirms it, anything else is retried (in order) with a backoff
 * from 0.2 s doubling to 10 s, and recorded as the webhook's last error. */
#ifndef DM_SIM_WEBHOOK_H
#define DM_SIM_WEBHOOK_H

#include "core/common.h"
#include "sim/world.h"

/* Checks a webhook URL: http or https, to a loopback host only (tgsim reaches nothing else).
 * On failure writes the Bot API description ("Bad Request: bad webhook: ...") into msg. */
bool webhook_check_url(const char *url, char *msg, size_t n);

/* Starts b's delivery thread unless it runs already. Called with the world lock held. */
dm_err webhook_start(struct world *w, struct sim_bot *b);

/* Joins every delivery thread; call after world_stop(), without the lock, once nothing else can
 * add bots (the HTTP server is stopped). */
void webhook_join_all(struct world *w);

#endif
