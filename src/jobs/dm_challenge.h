/* dm_challenge.h: a challenge brought as a private message with inline buttons, for a bot that
 * is not the channel's join-request bot (verify/verification.h, "brought as a private message
 * with inline buttons", has the steps and the buttons' signed callback data).
 *
 * deliver_round (deliver.h) sends the first step (dm_challenge_send) to the applicant through
 * ChatJoinRequest.user_chat_id inside its 5 minutes, and brings up to date every message whose
 * verification moved on without it (dm_challenge_sync_round: a crash after a step, a timeout).
 * The bot hands each callback_query and message update to dm_challenge_update
 * (bot_set_update_handler): a press is one store transaction (the step, its audit entry, at the
 * end the verdict the rules' decision jobs carry out, as in the Mini App); only then is the
 * update confirmed to Telegram. After the commit the press is answered (answerCallbackQuery)
 * and the message edited to show the next step or the end; those two are best effort: a message
 * left behind is brought up to date by the next round, and a press of a button that is no longer
 * valid (a replay, a step taken) is answered so and changes nothing. A private message from a
 * user changes nothing (it opens the chat on Telegram's side: the bot may answer later).
 *
 * Ownership: a struct dm_challenge borrows the store and the accounts (their bot), which must
 * outlive it; it is used from the receiver and HTTP threads at once (it keeps no state). */
#ifndef DM_JOBS_DM_CHALLENGE_H
#define DM_JOBS_DM_CHALLENGE_H

#include "core/common.h"
#include "store/store.h"

#include <jansson.h>

struct accounts;
struct botapi_client;

struct dm_challenge {
    struct store *store;
    const struct accounts *accounts;
};

/* The bot's update handler (telegram/bot.h bot_update_fn; ctx a struct dm_challenge). */
dm_err dm_challenge_update(void *ctx, const json_t *update, struct dm_error *err);

/* Sends v's first step (v claimed by verification_dm_start) and records the message; false with
 * why (Telegram's words) when it was not sent. Only the store failing is an error. */
dm_err dm_challenge_send(struct store *st, struct botapi_client *bc,
                         const struct store_verification *v, bool *sent, char *why, size_t why_size,
                         struct dm_error *err);

/* Edits up to limit messages that do not show their verification's state (updated within the
 * last `window` seconds). Only the store failing is an error. */
dm_err dm_challenge_sync_round(struct store *st, struct botapi_client *bc, int64_t now,
                               int64_t window, int limit, struct dm_error *err);

/* One Bot API call that sends or edits a message, params consumed: true when Telegram took it
 * (*message_id, when not NULL, the message's id), else false with why (Telegram's words). */
bool dm_bot_call(struct botapi_client *bc, const char *method, json_t *params, int64_t *message_id,
                 char *why, size_t why_size);

#endif
