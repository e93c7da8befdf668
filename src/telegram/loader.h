/* loader.h: a channel and its pending join requests over MTProto, as a session sees them: the
 * calls of the sessions' account implementation (session_account.c, behind account.h).
 *
 * A channel the admin named (account_ref) is resolved (loader_resolve), the session's role in
 * it read (loader_role), and messages.getChatInviteImporters(requested) paged newest first,
 * keyed by the last importer's date and user (loader_fetch_page), each importer becoming a
 * pending store_request (loader_page_from).
 *
 * Every Telegram call goes through the session's one live client (struct loader_via), and every
 * failure is classified into *te (tg_error.h; te must not be NULL): TG_FLOOD, TG_DEAD (the key
 * is revoked or expired), TG_NO_RIGHT, TG_NOT_FOUND (no such channel, or not one the account
 * can see), TG_UNREACHABLE (worth trying again later), and the rest. loader_chat_id and
 * loader_page_from are pure. */
#ifndef DM_TELEGRAM_LOADER_H
#define DM_TELEGRAM_LOADER_H

#include "core/common.h"
#include "telegram/account.h"

#include <jansson.h>

/* Whose account: a session of the pool (pool.h). Every call goes through pool_call, so it uses
 * the session's one live client, and a dead key marks the session invalid. Both borrowed. */
struct loader_via {
    struct pool *pool;
    const char *session;
};

/* The Bot API form of a channel id: -(1000000000000 + id), as the bot records requests. */
int64_t loader_chat_id(int64_t channel_id);
/* Its inverse: the MTProto id of a channel's Bot API id (0 or less for what is not a channel). */
int64_t loader_channel_id(int64_t chat_id);

/* Finds the channel with its access hash: contacts.resolveUsername for a username; for an id,
 * channels.getChannels with the hash the session learned before (pool_peer_get), then (none, or
 * Telegram refused it) with 0 (Telegram answers that to a bot in the channel), then the account's
 * dialogs (messages.getDialogs, up to 5,000). The hash found is kept (pool_peer_put). */
dm_err loader_resolve(const struct loader_via *via, const struct account_ref *ref,
                      struct account_channel *out, struct tg_error *te);

/* channels.getParticipant(channel, self): the creator, or an admin with invite_users, can
 * invite; CHAT_ADMIN_REQUIRED / USER_NOT_PARTICIPANT mean not an admin (no failure). */
dm_err loader_role(const struct loader_via *via, const struct account_channel *ch,
                   enum account_role *role, struct tg_error *te);

/* Fetches up to `limit` (1..ACCOUNT_PAGE_MAX) requests after `from`; now is their created_at.
 * The page's next names this session (by); from a cursor another session made, as
 * account_list_pending says. */
dm_err loader_fetch_page(const struct loader_via *via, const struct account_channel *ch,
                         const struct account_cursor *from, int limit, int64_t now,
                         struct account_page *out, struct tg_error *te);

/* The pure part of loader_fetch_page: a messages.chatInviteImporters answer into *out. Names
 * come from the answer's users vector (absent users get empty names); about becomes the bio.
 * DM_EPROTO when the answer is not what Telegram sends. */
dm_err loader_page_from(const json_t *answer, int64_t chat_id, int64_t now,
                        struct account_page *out, struct dm_error *err);

/* Fills r's names and flags (first and last name, username, premium, scam, fake) from the user
 * r->user_id in a users vector of an answer; returns that user's access hash (0 when the user is
 * not in it, r unchanged). Pure. */
int64_t loader_request_user(struct store_request *r, const json_t *users);

#endif
