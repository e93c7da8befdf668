/* alerts.h: telling people what happens in doorman. Events are recorded by the store where they
 * happen (store.h, "events and outgoing webhooks"); this layer
 *   1. keeps the store recording the kinds somebody subscribed to (store_events_want);
 *   2. hands each event in the outbox to the webhooks subscribed to its kind, as a delivery with
 *      its JSON body (docs/api.md, Webhooks), dropping what the alert settings filter out
 *      (flood waits shorter than their threshold);
 *   3. delivers: POST of the body, signed (webhook_sign below) in X-Doorman-Signature with the
 *      time in X-Doorman-Timestamp; a 2xx answer is delivered, anything else is tried again
 *      after retry_s, 2 × retry_s, 4 × … (at most an hour apart) until `attempts` attempts,
 *      then failed. The delivery and its attempts live in the store, so a restart goes on
 *      where the last process stopped;
 *   4. raises the events nobody else sees: the pending backlog over its threshold (once per
 *      crossing: again only after it fell to 90 % of it), and the daily summary at its hour (UTC).
 * One thread per process; among processes on one database the one holding the lease "alerts"
 * does 2 to 4 (every process does 1).
 *
 * Destinations: a delivery goes to its webhook's URL, the one place being deliver_one (alerts.c):
 * an http(s) URL gets the signed POST (post_signed, post.h); "tg:<chat_id>" a Telegram chat,
 * sent the delivery as text (alert_text, text.h) through the bot's sendMessage (send_text in
 * alerts_config, wired by app.c). Retries, the log and the lease are the same for both.
 *
 * Secrets: a webhook's signing secret is sealed with the master key in the store, opened only to
 * sign, never logged; nor are webhook URLs (they may carry tokens): logs name the webhook id. */
#ifndef DM_ALERTS_H
#define DM_ALERTS_H

#include "core/common.h"
#include "core/secret.h"
#include "store/store.h"

#include <jansson.h>

struct alerts;

/* store and master are borrowed and must outlive it; owner (this process's lease name) is
 * copied. retry_s, attempts and timeout_s as said above (DOORMAN_WEBHOOK_RETRY_S,
 * DOORMAN_WEBHOOK_ATTEMPTS, DOORMAN_WEBHOOK_TIMEOUT_S). */
struct alerts_config {
    struct store *store;
    const struct secret_key *master;
    const char *owner;
    unsigned retry_s, attempts, timeout_s;
    /* Sends text to Telegram chat chat_id through the bot (any thread); DM_OK when Telegram took
     * it, else the error with Telegram's words in why. NULL: chat destinations fail. */
    dm_err (*send_text)(void *ctx, int64_t chat_id, const char *text, struct dm_error *why);
    void *send_ctx;
};
/* Sets the store's wanted kinds before it returns, so nothing after it is missed. */
dm_err alerts_start(const struct alerts_config *cfg, struct alerts **out, struct dm_error *err);
/* Finishes the delivery in hand, then stops. NULL is allowed. */
void alerts_stop(struct alerts *a);
/* Webhooks or alert settings changed: the wanted kinds are read again now. */
void alerts_changed(struct alerts *a);

/* Queues a test delivery to webhook w ({"id":0,"kind":"test","at":…,"message":…}, message
 * naming `by`); *id gets the delivery's id. */
dm_err alerts_test(struct alerts *a, const struct store_webhook *w, const char *by, int64_t *id,
                   struct dm_error *err);

/* A new signing secret: 64 hex digits into plain, its sealed text (malloc'd) into *sealed. */
dm_err alerts_secret_new(struct alerts *a, char plain[65], char **sealed, struct dm_error *err);

/* Checks a webhook's URL: http:// or https://, a host, at most STORE_URL_MAX - 1 bytes, no
 * spaces or control characters; or "tg:<chat_id>", a Telegram chat the bot writes to. false
 * with a message for people in why. */
bool alerts_url_ok(const char *url, char *why, size_t why_size);

/* The signature header's value for body sent at timestamp ts: "sha256=" + hex of
 * HMAC-SHA-256(key secret, message "<ts>.<body>"). out holds 72 bytes. */
void webhook_sign(const char *secret, int64_t ts, const char *body, size_t len, char out[72]);

/* The alert settings (settings key "alerts"): backlog_threshold N (0: off), flood_wait_minutes M
 * (0: off), summary_hour 0..23 UTC (-1: off). */
struct alert_settings {
    int64_t backlog_threshold;
    int64_t flood_wait_minutes;
    int64_t summary_hour;
};
#define ALERT_SETTINGS_DEFAULT                                                                     \
    {                                                                                              \
        .backlog_threshold = 0, .flood_wait_minutes = 5, .summary_hour = -1                        \
    }
dm_err alert_settings_get(struct store *st, struct alert_settings *out, struct dm_error *err);
/* Reads the members of obj over *s (unknown or bad ones: DM_EINVAL with a message naming the
 * field and what it takes; *s unchanged then), then stores them. */
dm_err alert_settings_set(struct store *st, const json_t *obj, struct alert_settings *s,
                          struct dm_error *err);
json_t *alert_settings_json(const struct alert_settings *s);

#endif
