/* deliver.h: bringing a verification to its applicant by private message, for a bot that is not
 * the channel's join-request bot (no join-request query to answer): the bot may write to the
 * applicant (ChatJoinRequest.user_chat_id, the user's id) for 5 minutes after the request, until
 * it is processed. The message holds the challenge's "message" text (in the applicant's language)
 * and one inline keyboard button that opens the Mini App (a web_app button: Telegram opens it
 * with the launch data the Mini App checks, verify/verification.h); or, when the challenge's
 * delivery is "buttons" and its steps can be buttons (challenge_by_buttons), the steps themselves
 * as inline buttons (dm_challenge.h, claimed by verification_dm_start), whose messages each round
 * also brings up to date (dm_challenge_sync_round).
 *
 * The rules' thread (autodecide.h) calls deliver_round after each round. A verification is
 * claimed before its message is sent (verification_start: created -> sent, "verify_sent" in the
 * audit), so two instances, or the join-request query's delivery, never both send it; a message
 * that could not be sent (the window closed, the user blocked the bot, Telegram refused the URL:
 * web_app buttons need https) is in the audit as "verify_undelivered" with Telegram's words, and
 * the verification's deadline then decides. A crash between the claim and the send loses that
 * one message (at most once), the deadline deciding too. */
#ifndef DM_JOBS_DELIVER_H
#define DM_JOBS_DELIVER_H

#include "core/common.h"
#include "store/store.h"

#define DELIVER_WINDOW_S 300 /* the bot may write to an applicant this long after the request */

struct accounts;

/* Sends the messages of up to limit verifications waiting for theirs (through as->bot; none
 * when no bot is configured); *sent gets how many were sent. Only the store failing is an
 * error. */
dm_err deliver_round(struct store *st, const struct accounts *as, const char *public_url,
                     int64_t now, int limit, int *sent, struct dm_error *err);

#endif
