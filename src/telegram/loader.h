/* loader.h: reading a channel's pending join requests as a Telegram account (MTProto).
 *
 * The Session Manager's "Load Requests": the admin names a channel (loader_parse_ref), the
 * account resolves it (loader_resolve), its right to see join requests is checked
 * (loader_check_rights), then messages.getChatInviteImporters(requested) is paged newest
 * first, keyed by the last importer's date and user (loader_fetch_page), each importer becoming
 * a pending store_request (loader_request_from). The load job (jobs/load.c) drives the paging.
 *
 * Every Telegram call goes through the session's one live client (struct loader_via).
 * Failures come back as one of these codes, with the sentence in *err:
 *   DM_ERATELIMIT  FLOOD_WAIT_X: "Flood wait: please wait X seconds", *retry_after = X
 *   DM_EAUTH       the key is revoked or expired: "Session is invalid"
 *   DM_EFORBIDDEN  no invite-users right: "You don't have permission to view join requests"
 *   DM_ENOTFOUND   no such channel (or not one the account can see)
 *   DM_ETIMEOUT, DM_ENETWORK   no answer: worth trying again later
 *   DM_ETELEGRAM, DM_EPROTO, DM_EINVAL   anything else, named
 * The parsing and conversion functions are pure. */
#ifndef DM_TELEGRAM_LOADER_H
#define DM_TELEGRAM_LOADER_H

#include "core/common.h"
#include "store/store.h"

#include <jansson.h>

struct pool;
struct mt_rpc_error;

/* Whose account: a session of the account pool (pool.h). Every call goes through
 * pool_call, so it uses the session's one live client, and a dead key marks the session
 * invalid. Both are borrowed. */
struct loader_via {
    struct pool *pool;
    const char *session;
};

#define LOADER_PAGE_MAX 100 /* importers per getChatInviteImporters call (Telegram's cap) */
#define LOADER_USERNAME_MAX 33
#define LOADER_NO_PERMISSION "You don't have permission to view join requests"
#define LOADER_SESSION_INVALID "Session is invalid"

/* What the admin typed: "@name", "name", "t.me/name", "https://t.me/name" (also
 * telegram.me, a trailing "/123" post or "?…"), or a "-100…" id. Invite links (t.me/+hash,
 * t.me/joinchat/hash) are not channel addresses and are refused with a sentence saying so. */
struct loader_ref {
    char username[LOADER_USERNAME_MAX]; /* "" when the reference is an id */
    int64_t channel_id;                 /* MTProto channel id (positive), 0 for a username */
};
/* DM_EINVAL with a sentence for the admin when s is not a channel reference. */
dm_err loader_parse_ref(const char *s, struct loader_ref *out, struct dm_error *err);

/* A channel as the account sees it. */
struct loader_channel {
    int64_t id;          /* MTProto channel id (positive) */
    int64_t access_hash; /* this account's */
    char title[STORE_TEXT_MAX];
    char username[LOADER_USERNAME_MAX];
};

/* The Bot API form of a channel id: -(1000000000000 + id), as the bot records requests. */
int64_t loader_chat_id(int64_t channel_id);

/* Finds the channel: contacts.resolveUsername for a username, channels.getChannels with
 * access hash 0 for an id (Telegram answers that for channels the account has met). */
dm_err loader_resolve(const struct loader_via *via, const struct loader_ref *ref,
                      struct loader_channel *out, int *retry_after, struct dm_error *err);

/* channels.getParticipant(channel, self): the creator, or an admin with invite_users, may
 * load; anyone else gets DM_EFORBIDDEN (so does CHAT_ADMIN_REQUIRED / USER_NOT_PARTICIPANT). */
dm_err loader_check_rights(const struct loader_via *via, const struct loader_channel *ch,
                           int *retry_after, struct dm_error *err);

/* What the account is in the channel, as loader_check_rights reads it (which calls this). */
enum loader_role {
    LOADER_NOT_ADMIN = 0,   /* a member, or not in the channel (USER_NOT_PARTICIPANT) */
    LOADER_ADMIN_NO_INVITE, /* an admin without the invite-users right */
    LOADER_CAN_INVITE,      /* the creator, or an admin with it */
};
dm_err loader_role(const struct loader_via *via, const struct loader_channel *ch,
                   enum loader_role *role, int *retry_after, struct dm_error *err);

/* Where the next page starts: after the importer (date, user); all zero = the newest. The
 * user's access hash is the one the account got with it (offset_user is an InputUser). */
struct loader_cursor {
    int64_t date;
    int64_t user_id;
    int64_t user_hash;
};
/* JSON text for store_job.cursor ({"date":…,"user":…,"hash":…}), and back ("" = the start).
 * loader_cursor_format fails with DM_ETOOBIG when n is too small. */
dm_err loader_cursor_format(const struct loader_cursor *c, char *out, size_t n);
dm_err loader_cursor_parse(const char *s, struct loader_cursor *out, struct dm_error *err);

/* One page of pending requests. rows are malloc'd (caller frees); count is how many requests
 * Telegram says are pending in all; next is the cursor after the last row. */
struct loader_page {
    int64_t count;
    struct store_request *rows;
    int64_t *user_hashes; /* malloc'd, n: each row's user's access hash for this account (0 when
                             Telegram sent none); sessions need it to decide (decide_session.c) */
    size_t n;
    struct loader_cursor next;
};
void loader_page_release(struct loader_page *p);

/* Fetches up to `limit` (1..LOADER_PAGE_MAX) requests after `from`; now is their created_at. */
dm_err loader_fetch_page(const struct loader_via *via, const struct loader_channel *ch,
                         const struct loader_cursor *from, int limit, int64_t now,
                         struct loader_page *out, int *retry_after, struct dm_error *err);

/* The pure part of loader_fetch_page: a messages.chatInviteImporters answer into *out. Names
 * come from the answer's users vector (absent users get empty names); about becomes the bio.
 * DM_EPROTO when the answer is not what Telegram sends. */
dm_err loader_page_from(const json_t *answer, int64_t chat_id, int64_t now, struct loader_page *out,
                        struct dm_error *err);

/* The pure part of every call's failure: maps mt_call's error (and the rpc_error it got) to
 * the codes above. `what` names the call for the generic sentence ("loading join requests"). */
dm_err loader_fail(dm_err e, const struct mt_rpc_error *rpc, const char *what, int *retry_after,
                   struct dm_error *err);

#endif
