/* bot.h: the bot doorman runs as: its settings and token (sealed in the settings table), the
 * receiver of chat_join_request updates (long polling or webhook), and the chat title cache.
 * What doorman does with the Bot API lives here; botapi/ is the protocol only.
 *
 * Polling: getUpdates with allowed_updates=["chat_join_request","callback_query","message"];
 * each update is committed to the store before its offset is confirmed, so a crash loses nothing
 * and redelivery is idempotent (store request_add; the update handler's own rule for the other
 * two kinds, bot_set_update_handler). The webhook is set with the same allowed_updates and answers
 * 503 (Telegram delivers it again) until an update is committed. Webhook: setWebhook with a random
 * secret_token; requests to POST /telegram/webhook must carry it in
 * X-Telegram-Bot-Api-Secret-Token. */
#ifndef DM_TELEGRAM_BOT_H
#define DM_TELEGRAM_BOT_H

#include "core/common.h"
#include "core/secret.h"
#include "store/store.h"

#include <jansson.h>

struct bot;
struct botapi_client;
struct tg_error;

enum bot_mode { BOT_POLLING = 0, BOT_WEBHOOK = 1 };

/* The store lease (store.h) held by the one process that polls for updates. */
#define BOT_POLLER_LEASE "bot_poller"

struct bot_status {
    bool configured;
    int64_t id;
    char username[65];
    int mode; /* enum bot_mode */
    char webhook_url[512];
    double rate;                        /* decisions per second the job runner allows itself */
    bool receiving;                     /* the last poll or webhook setup succeeded */
    int64_t last_update_at;             /* when the last update was recorded, 0 = never */
    char last_error[256];               /* "" when fine */
    bool supports_join_request_queries; /* getMe's User.supports_join_request_queries (Bot API
                                           10.1): it may be a channel's join-request bot */
};

/* What the bot is started with. store and master are borrowed and must outlive the bot; the
 * strings are copied. */
struct bot_config {
    struct store *store;             /* settings, join requests, chat titles, the poller lease */
    const struct secret_key *master; /* seals the token and the webhook secret */
    const char *bot_api_url;         /* "https://api.telegram.org" */
    const char *owner;               /* this process's name as the holder of the poller's lease */
};

/* Reads the settings and starts receiving if a token is configured. */
dm_err bot_start(const struct bot_config *cfg, struct bot **out, struct dm_error *err);
void bot_stop(struct bot *b);

/* Changes the configuration. token NULL keeps the current one; otherwise it is checked with getMe
 * first (DM_EAUTH with the server's description when rejected, nothing changed). mode and
 * webhook_url as in bot_status (webhook_url required for BOT_WEBHOOK); mode < 0, webhook_url NULL
 * and rate <= 0 keep the current values. On success the settings are stored and the receiver
 * restarted if the token, mode or URL changed. */
dm_err bot_configure(struct bot *b, const char *token, int mode, const char *webhook_url,
                     double rate, struct dm_error *err);
void bot_get_status(struct bot *b, struct bot_status *out);

/* What the bot does with callback_query and message updates (the update, untrusted JSON,
 * borrowed): DM_OK once what it causes is committed (the update is then confirmed to Telegram),
 * DM_EINVAL to skip a malformed one, any other error to have it delivered again. Called from the
 * receiver thread, or from HTTP threads in webhook mode (so possibly at once). */
typedef dm_err (*bot_update_fn)(void *ctx, const json_t *update, struct dm_error *err);
/* Sets the handler (ctx borrowed; fn NULL unsets it, before ctx is freed). Until one is set,
 * such updates wait (polling: the batch is taken again; webhook: 503). */
void bot_set_update_handler(struct bot *b, bot_update_fn fn, void *ctx);

/* Handles one webhook delivery; returns the HTTP status to answer (200, 401 for a wrong secret,
 * 400 for a malformed update, 503 when it could not be stored, so Telegram retries). */
int bot_webhook(struct bot *b, const char *secret_header, const char *body, size_t len);
/* Whether a delivery with this X-Telegram-Bot-Api-Secret-Token header (NULL: none) would be
 * taken: the bot is in webhook mode and the header is its secret. bot_webhook() checks it too;
 * this lets the HTTP layer refuse a stranger's delivery before reading its body. */
bool bot_webhook_authorized(struct bot *b, const char *secret_header);

/* The chat's title through the cache (the store's chats table; getChat when missing or older
 * than an hour). out gets "" when unknown. */
dm_err bot_chat_title(struct bot *b, int64_t chat_id, char *out, size_t n);

/* Join-request queries (Bot API 10.1, botapi/join_query.h). bot_query_support: whether the bot
 * may be a channel's join-request bot (getMe's supports_join_request_queries; also kept in the
 * status). bot_channel_guard: the bot the channel assigned to process its join requests
 * (getChat's guard_bot, which Telegram shows to the channel's admins only): id 0 when none.
 * Both ask Telegram now and fill *te like the account calls (telegram/account.h). */
struct bot_guard {
    int64_t id;
    char username[65];
    char title[STORE_TEXT_MAX]; /* the channel's, as getChat gave it */
};
dm_err bot_query_support(struct bot *b, bool *out, struct tg_error *te);
dm_err bot_channel_guard(struct bot *b, int64_t chat_id, struct bot_guard *out,
                         struct tg_error *te);

/* A reference to the current client, or NULL when no token is configured. The client stays
 * valid until released, even if the token changes meanwhile. */
struct botapi_client *bot_client_acquire(struct bot *b);
void bot_client_release(struct bot *b, struct botapi_client *c);

#endif
