/* account.h: whoever decides join requests: the bot, or a named MTProto session.
 *
 * One interface with two implementations, as git's ref_storage_be and curl's vtls backends:
 * bot_account.c (the Bot API, through the bot of telegram/bot.h) and session_account.c (MTProto,
 * through the session's one pooled client, telegram/pool.h and loader.h). The API, the job
 * runner and the preflight use only this header: they never ask which one they hold. What
 * one of them cannot do (the Bot API can neither list a channel's pending requests nor decide
 * a whole channel) is asked with account_lists_pending().
 *
 * Names: an account is named as jobs and audit entries name it: ACCOUNT_BOT ("bot", never a
 * session's name) is the bot; any other name is the session of that name.
 *
 * Ownership: account_open() makes a handle that the caller owns and frees with
 * account_close(). It borrows the struct accounts it was opened from, which must outlive it.
 * A handle keeps what it learns while it lives (the channels it resolved, a session's view of
 * its users' access hashes), so the runner opens one per job; opening looks nothing up.
 *
 * Threading: one handle may be used from several threads at once (the runner's workers).
 *
 * Errors: Telegram operations fill a struct tg_error (tg_error.h, never NULL here) and return
 * its e.code. */
#ifndef DM_TELEGRAM_ACCOUNT_H
#define DM_TELEGRAM_ACCOUNT_H

#include "core/common.h"
#include "store/store.h"
#include "telegram/tg_error.h"

#define ACCOUNT_BOT "bot"
#define ACCOUNT_USERNAME_MAX 33
#define ACCOUNT_PAGE_MAX 100 /* pending requests per list_pending page (Telegram's cap) */

struct bot;
struct pool;
struct account;

/* What accounts are opened from. Everything is borrowed from the composition root, which
 * starts it before and stops it after every account it opens. */
struct accounts {
    struct store *store; /* sessions' rows, requests' dates, the chats table (channel cache) */
    struct bot *bot;     /* telegram/bot.h; NULL: the bot is never configured */
    struct pool *pool;   /* telegram/pool.h: the sessions' clients */
};

/* A channel as the account sees it. */
struct account_channel {
    int64_t chat_id;     /* the Bot API's id (-100…): what doorman records requests under */
    int64_t id;          /* MTProto's channel id (positive); 0 for the bot */
    int64_t access_hash; /* the session's own, for MTProto; 0 for the bot */
    char title[STORE_TEXT_MAX];
    char username[ACCOUNT_USERNAME_MAX];
};

/* What the account is in a channel. */
enum account_role {
    ACCOUNT_NOT_ADMIN = 0,   /* a member, or not in the channel */
    ACCOUNT_ADMIN_NO_INVITE, /* an admin without the invite-users right */
    ACCOUNT_CAN_INVITE,      /* the creator, or an admin with it: may decide */
};

/* A fresh check of the account, as the preflight shows it (docs/api.md). */
struct account_check {
    bool ok;
    char status[32]; /* the bot: ok, not_configured or error; a session: its status after
                        Check Status (active, invalid, unchecked), or error */
    char error[STORE_ERROR_MAX]; /* why it is not ok; "" when it is */
};

/* Where a list of pending requests goes on: after the request (date, user); all zero = from
 * the newest. user_hash is the user's access hash as the session `by` got it with the request
 * (list_pending names itself there; "" in cursors made before: the listing account's own). An
 * access hash is the session's own, so another account cannot go on from it exactly: it lists
 * from the cursor's date on, with the requests of that second again (account_list_pending). */
struct account_cursor {
    int64_t date;
    int64_t user_id;
    int64_t user_hash;
    char by[STORE_NAME_MAX];
};
/* JSON text for store_job.cursor ({"date":…,"user":…,"hash":…,"by":…}; "by" only when set),
 * and back ("" = the start). account_cursor_format fails with DM_ETOOBIG when n is too small. */
dm_err account_cursor_format(const struct account_cursor *c, char *out, size_t n);
dm_err account_cursor_parse(const char *s, struct account_cursor *out, struct dm_error *err);

/* One page of a channel's pending requests, newest first. The page owns rows and user_hashes
 * (account_page_release frees them). */
struct account_page {
    int64_t count;              /* how many requests Telegram says are pending in all */
    struct store_request *rows; /* pending, chat_id set, created_at = the `now` asked with */
    int64_t *user_hashes;       /* each row's user's access hash for this account (0: none) */
    size_t n;
    struct account_cursor next; /* after the last row */
};
void account_page_release(struct account_page *p);

/* A channel as the admin typed it: "@name", "name", "t.me/name", "https://t.me/name" (also
 * telegram.me, a trailing "/123" post or "?…"), or a "-100…" id. Invite links (t.me/+hash,
 * t.me/joinchat/hash) are not channel addresses and are refused with a sentence saying so. */
struct account_ref {
    char username[ACCOUNT_USERNAME_MAX]; /* "" when the reference is an id */
    int64_t channel_id;                  /* MTProto channel id (positive), 0 for a username */
};
/* DM_EINVAL with a sentence for the admin when s is not a channel reference. Pure. */
dm_err account_ref_parse(const char *s, struct account_ref *out, struct dm_error *err);

/* Makes the handle of the account a job names (job.via: ACCOUNT_BOT or a session's name).
 * DM_ENOMEM, or DM_EINVAL for a name longer than any account's. */
dm_err account_open(const struct accounts *as, const char *via, struct account **out,
                    struct dm_error *err);
/* The same for the account an admin chose (docs/api.md "session_name"): NULL is the bot, any
 * name the session of that name; no session is called "bot", so that one does not exist. */
dm_err account_open_chosen(const struct accounts *as, const char *session, struct account **out,
                           struct dm_error *err);
/* NULL is allowed. */
void account_close(struct account *a);
/* The name it was opened with. */
const char *account_name(const struct account *a);

/* Whether it can work now, from what doorman knows (no call to Telegram): DM_OK; the bot
 * without a token: DM_EUNAVAILABLE "No bot token configured: set it in Settings" (it may
 * work later); a session that does not exist: DM_ENOTFOUND "Session 'x' does not exist: …";
 * one that is not active: DM_EAUTH "Session 'x' is not active (invalid: AUTH_KEY_UNREGISTERED):
 * check it on the Sessions page"; DM_EDB when the store fails. */
dm_err account_usable(struct account *a, struct dm_error *err);
/* Checks the account afresh through Telegram (the bot: getMe; a session: Check Status,
 * pool_check(), which records what it finds in the session's row). */
void account_check(struct account *a, struct account_check *out);
/* Decisions per second it allows itself (the bot: the bot_rate setting; a session:
 * ACCOUNT_SESSION_RATE); read again while a job runs. */
double account_rate(struct account *a);
#define ACCOUNT_SESSION_RATE                                                                       \
    20.0 /* MTProto has no fixed limit like the Bot API's; FLOOD_WAIT_X pauses the account as a    \
            429 does */

/* The channel with Bot API id chat_id as the account sees it (a session resolves it once per
 * handle: by the @username the chats table knows, else by id; title and username are then
 * saved in that table). TG_NOT_FOUND for an id that is not a channel's. */
dm_err account_channel(struct account *a, int64_t chat_id, struct account_channel *out,
                       struct tg_error *te);
/* The channel the admin named (a session: contacts.resolveUsername or channels.getChannels,
 * saved in the chats table). The bot cannot: TG_REFUSED. */
dm_err account_find(struct account *a, const struct account_ref *ref, struct account_channel *out,
                    struct tg_error *te);
/* Its role in the channel, read afresh (the bot: getChatMember of itself; a session:
 * channels.getParticipant of itself). Not being in the channel is ACCOUNT_NOT_ADMIN. */
dm_err account_role(struct account *a, const struct account_channel *ch, enum account_role *out,
                    struct tg_error *te);
/* Makes *te TG_NO_RIGHT with the sentence for an account without the invite-users right in
 * the channel titled `title` (NULL or "": "this channel"), told apart by role
 * (ACCOUNT_NOT_ADMIN, ACCOUNT_ADMIN_NO_INVITE: the two fixes differ), or -1 when Telegram
 * only said the right is missing. */
void account_no_right(int role, const char *title, struct tg_error *te);

/* One join request to decide: doorman's id for it and Telegram's. */
struct account_request {
    int64_t request_id;
    int64_t chat_id;
    int64_t user_id;
};
/* Approves or declines it. TG_ALREADY when Telegram says it was handled already; a session
 * also when the channel's pending list, as it sees it, does not hold the request. A session
 * without the right fails with "This account is not an admin with the invite-users right in
 * <channel>". */
void account_decide(struct account *a, bool approve, const struct account_request *r,
                    struct tg_error *te);

/* Bans and photos. The three below fill *te like the calls above and return te->e.code; an
 * account without the right to ban gets TG_NO_RIGHT "This account cannot ban users in
 * <channel>: make it an admin with the right to ban users" (the bot: an admin with
 * can_restrict_members; a session: with ban_users); a flood wait is TG_FLOOD with retry_after.
 *
 * account_ban: bans r's user from r's channel for ever (the bot: banChatMember; a session:
 * channels.editBanned with view_messages). Telegram keeps a banned user from asking to join
 * again. A ban also dismisses the user's pending request on Telegram (tgsim models it so; a
 * decline after it answers HIDE_REQUESTER_MISSING), so "decline and ban" should decline first
 * and then ban. Banning an admin of the channel is refused by Telegram (TG_REFUSED, "user is an
 * administrator of the chat" / USER_ADMIN_INVALID). Banning twice is harmless.
 *
 * account_unban: lifts the ban and does nothing else (the bot: unbanChatMember with
 * only_if_banned, so a member is never removed; a session: channels.editBanned with no rights).
 * A user who is not banned: TG_OK, nothing done.
 *
 * account_has_photo: whether r's user has a profile photo, in *out (the bot:
 * getUserProfilePhotos with limit 1; a session: photos.getUserPhotos with limit 1). One call to
 * Telegram each time: the caller keeps the answer if it asks often.
 *
 * A session needs the user's access hash as it sees it. It finds it as account_decide does
 * (the channel's pending list around the request's date, kept in the handle), so these work for
 * a request that is pending, or that this handle decided or banned before (decline, then ban,
 * through one handle); account_unban looks in the channel's banned list instead
 * (channels.getParticipants, channelParticipantsKicked: up to ACCOUNT_BANNED_SCAN users; a user
 * not there is not banned: TG_OK). A user the session cannot reach that way gets TG_REFUSED "This
 * session cannot reach user N any more: use the bot" (a session keeps no access hashes across
 * handles: doorman does not store them). */
#define ACCOUNT_BANNED_SCAN 10000
dm_err account_ban(struct account *a, const struct account_request *r, struct tg_error *te);
dm_err account_unban(struct account *a, const struct account_request *r, struct tg_error *te);
dm_err account_has_photo(struct account *a, const struct account_request *r, bool *out,
                         struct tg_error *te);
/* Makes *te TG_NO_RIGHT with the sentence above, for the channel titled `title` (NULL or "":
 * "this channel"). */
void account_no_ban_right(const char *title, struct tg_error *te);

/* Whether it can list a channel's pending requests and decide a whole channel at once (a
 * session; the Bot API can do neither). The two calls below refuse (TG_REFUSED) otherwise. */
bool account_lists_pending(const struct account *a);
/* Up to `limit` (1..ACCOUNT_PAGE_MAX) pending requests after `from`; now is their created_at.
 * The page's next names this account (by). From a cursor another account made (its by is
 * another name) the list goes on from the cursor's date, so the requests of that very second
 * come again (recording them is idempotent) and none is left out. */
dm_err account_list_pending(struct account *a, const struct account_channel *ch,
                            const struct account_cursor *from, int limit, int64_t now,
                            struct account_page *out, struct tg_error *te);
/* Approves or declines every pending request of the channel in one call; with link (not NULL),
 * only those that came through that invite link. */
dm_err account_decide_channel(struct account *a, const struct account_channel *ch, bool approve,
                              const char *link, struct tg_error *te);

/* ---- invite links and decisions made in Telegram ---- */

/* What a link is made or edited with (the Bot API's fields; name NULL or "" for none, 0 for no
 * expiry or member limit). */
struct account_link_spec {
    const char *name;
    int64_t expire_date;
    int64_t member_limit;
    bool creates_join_request;
};
enum account_link_op { ACCOUNT_LINK_CREATE, ACCOUNT_LINK_EDIT, ACCOUNT_LINK_REVOKE };
/* Makes, edits or revokes a link of the channel (the bot: createChatInviteLink,
 * editChatInviteLink, revokeChatInviteLink; a session cannot: TG_REFUSED). link names the link
 * to edit or revoke (ignored for create), spec the fields (ignored for revoke). *out gets the
 * link as Telegram answers it (chat_id set, pending: Telegram's count of its pending requests). */
dm_err account_link_write(struct account *a, const struct account_channel *ch,
                          enum account_link_op op, const char *link,
                          const struct account_link_spec *spec, struct store_link *out,
                          struct tg_error *te);
/* Every link of the channel, revoked ones too, with Telegram's pending count (a session:
 * messages.getAdminsWithInvites, then messages.getExportedChatInvites for each admin; the bot
 * cannot: TG_REFUSED). At most STORE_LINKS_MAX; *out malloc'd, caller frees. */
dm_err account_links(struct account *a, const struct account_channel *ch, struct store_link **out,
                     size_t *n, struct tg_error *te);

/* A join by request in the channel's admin log: user_id joined, approved by approver. */
struct account_join {
    int64_t event_id; /* the log's id, increasing */
    int64_t date;
    int64_t user_id;
    int64_t approved_by;
    char approver[STORE_NAME_MAX]; /* "@username", or first name and id, as Telegram tells */
};
#define ACCOUNT_JOINS_PAGE 100 /* events per account_joins call (Telegram's cap) */
/* The newest joins by request with event ids above after_event (a session:
 * channels.getAdminLog with the join filter; the bot cannot: TG_REFUSED), newest first, at
 * most ACCOUNT_JOINS_PAGE, older than before_event when it is not 0 (paging back). *out
 * malloc'd, caller frees. */
dm_err account_joins(struct account *a, const struct account_channel *ch, int64_t after_event,
                     int64_t before_event, struct account_join **out, size_t *n,
                     struct tg_error *te);

#endif
