/* updates.h: the MTProto updates tgsim's world makes for its accounts (core.telegram.org/api/
 * updates): each account's update state and log (struct sim_upd_state in world.h), filled when
 * something happens that Telegram would tell the account about, and read by the data centres,
 * which push each new update to the account's connections (dc_server.c) and answer
 * updates.getState and updates.getDifference from the log (dc_rpc.c).
 *
 * What is made:
 *   updatePendingJoinRequests  (seq only) to every account that is an admin of the channel with
 *                              can_invite_users, when a request arrives, is decided or dismissed
 *                              by a ban: the pending count and up to 5 recent requesters;
 *   updateBotChatInviteRequester (qts) to every bot that logged in over MTProto and is an admin
 *                              of the channel with can_invite_users, when a request arrives
 *                              (with query_id for the channel's guard bot);
 *   updateNewMessage           (pts_count 1) a service message from "Telegram" (777000) to the
 *                              account: login codes, and POST /control/accounts/{id}/updates
 *                              (updates unrelated to join requests, so that clients must cope).
 *
 * Every function needs the world lock. */
#ifndef DM_SIM_UPDATES_H
#define DM_SIM_UPDATES_H

#include "core/common.h"
#include "sim/world.h"

#include <jansson.h>

/* The MTProto id of a channel (peerChannel.channel_id) and back. */
#define SIM_CHANNEL_ID_BASE 1000000000000LL
int64_t sim_upd_channel_mt_id(int64_t chat_id);

/* The update state of user_id: an account's, or a bot's that logged in over MTProto; NULL for
 * anyone else. */
struct sim_upd_state *sim_upd_state_of(struct world *w, int64_t user_id);
/* Logs update (stolen) in user_id's state s: a pts_count > 0 advances the common pts and sets
 * the update's pts and pts_count; `qts` advances qts and sets the update's; every update gets
 * the next seq and the date now. Unless hidden, the world's upd_hook is told so user_id's
 * connections push it. Out of memory: the update is lost, as Telegram may lose one
 * (getDifference then has a gap too). */
void sim_upd_add(struct world *w, int64_t user_id, struct sim_upd_state *s, json_t *update,
                 int32_t pts_count, bool qts, bool hidden);
/* A request (jrs[index]) arrived: updateBotChatInviteRequester to the channel's MTProto bots. */
void sim_upd_bot_requester(struct world *w, struct sim_channel *ch, size_t index);
/* The channel's pending count or requesters changed: updatePendingJoinRequests to its admin
 * accounts. requester: a user who just asked (remembered as recent), 0 for none. */
void sim_upd_pending_changed(struct world *w, struct sim_channel *ch, int64_t requester);
/* A service message from "Telegram" to the account (world_account_notify, then its
 * updateNewMessage). */
dm_err sim_upd_service_message(struct world *w, struct sim_account *a, const char *text,
                               bool hidden);
/* The i-th entry of the log, oldest first (i < s->n). */
const struct sim_upd_entry *sim_upd_entry(const struct sim_upd_state *s, size_t i);
void sim_upd_release(struct sim_upd_state *s);

#endif
