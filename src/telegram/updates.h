/* updates.h: doorman's MTProto sessions listening to Telegram's updates
 * (core.telegram.org/api/updates), so a session learns of a join request as it arrives.
 *
 * Every active session (checked; a user's or a bot's) gets a listener thread in the process that
 * holds the session (pool.h: the session's lease), which keeps the session's client connected
 * and reads what Telegram pushes (mt_client_updates):
 * - updatePendingJoinRequests for a channel whose recent requesters (those of the latest such
 *   update) name one the store has neither pending nor decided since the update's date (doorman
 *   deciding it while the update was on its way): the channel's newest pending
 *   requests are read (messages.getChatInviteImporters, requested, newest first, 100 a page) and
 *   recorded with store_request_add_many, as the bot's updates are, until a page holds one
 *   already known; the rules then judge them as any recorded request (jobs/autodecide.h). So a
 *   channel where the bot is not an admin is covered as requests arrive. Every decision is
 *   such an update too (a new pending count): its requesters are all known, so it reads
 *   nothing and spends none of the account's flood limit.
 * - updateBotChatInviteRequester (a bot session, in the channels it administers): the request
 *   itself, recorded at once with its user's names, bio and invite link, in its place in the
 *   bot's qts sequence (a gap fills from getDifference). A bot cannot list a channel's requests,
 *   so after differenceTooLong it only says so.
 * - every other update is only checked for its place in the sequence: Telegram's common pts
 *   (pts_count) and seq must follow the state applied; a gap, a lost connection or a new server
 *   session is filled with updates.getDifference (its slices followed), whose join-request
 *   updates are handled as above. updates.differenceTooLong: every channel doorman has requests
 *   of that the session can reach is read again the same way.
 * - the state (pts, qts, seq, date) is saved in the store (store_session_updates_put) after each
 *   batch, so a restart resumes with updates.getDifference from where it stopped; a session
 *   without a saved state (or saved for another account) starts from updates.getState. An
 *   update pushed while that call was under way is within the state it gives, which tells no
 *   news: its join requests are looked at as above all the same. "session NAME: listening to
 *   its updates" is logged once the listener is in step: a request arriving after it is
 *   recorded.
 * Channel updates (their own pts) are not followed: doorman has no use for channel messages.
 *
 * DOORMAN_SESSION_UPDATES=0 turns the listeners off (sessions then connect only to work, and
 * requests are found by the bot, a Load, or the periodic checks).
 *
 * Threading: tg_updates_start() starts a supervisor thread, which every 2 s lists the sessions
 * and starts or stops listeners; tg_updates_stop() stops and joins them all. */
#ifndef DM_TELEGRAM_UPDATES_H
#define DM_TELEGRAM_UPDATES_H

#include "core/common.h"
#include "store/store.h"

struct pool;
struct tg_updates;

/* store and pool are borrowed and must outlive the listeners. */
struct tg_updates_config {
    struct store *store;
    struct pool *pool;
};

dm_err tg_updates_start(const struct tg_updates_config *cfg, struct tg_updates **out,
                        struct dm_error *err);
/* Stops every listener and waits for them. NULL is allowed. */
void tg_updates_stop(struct tg_updates *u);

#endif
