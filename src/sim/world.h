/* world.h: tgsim's one model of Telegram, shared by every front end (the Bot API server, the
 * control API, webhook delivery, and the MTProto data centres).
 *
 * The world holds users (bots are users with is_bot set, in the same id space), bots (a token,
 * an update queue, webhook settings, a rate-limit bucket, the messages they sent), channels
 * (admins with rights, members) and join requests, plus the simulator's knobs (rate limit,
 * latency, injected faults, call statistics).
 *
 * Locking: one mutex guards everything. Every function below except world_new(), world_free(),
 * world_lock(), world_unlock() and world_stop() must be called with the lock held. Pointers the
 * world hands out (users, channels, bots, join requests) stay valid only while the lock is held:
 * adding a user or a request may move the arrays. Bots and channels themselves never move.
 *
 * Join requests are a state machine: pending -> approved | declined, decided exactly once.
 * A user has at most one pending request per channel; after a decision they may ask again,
 * which makes a new record. Every new request puts a chat_join_request update into the queue
 * of each bot that is an admin of the channel with can_invite_users (as Telegram requires),
 * unless it is added "unannounced": a request only Telegram knows of, as one made while the bot
 * was down for longer than Telegram keeps updates (24 hours). */
#ifndef DM_SIM_WORLD_H
#define DM_SIM_WORLD_H

#include "core/common.h"
#include "sim/idmap.h"

#include <jansson.h>
#include <pthread.h>

/* Outcomes of Telegram operations, with their Bot API description (after "Bad Request: ")
 * and their MTProto rpc_error name. */
#define SIM_ERR_MAP(X)                                                                             \
    X(OK, "", "")                                                                                  \
    X(CHAT_NOT_FOUND, "chat not found", "CHANNEL_INVALID")                                         \
    X(ADMIN_REQUIRED, "CHAT_ADMIN_REQUIRED", "CHAT_ADMIN_REQUIRED")                                \
    X(REQUESTER_MISSING, "HIDE_REQUESTER_MISSING", "HIDE_REQUESTER_MISSING")                       \
    X(ALREADY_PARTICIPANT, "USER_ALREADY_PARTICIPANT", "USER_ALREADY_PARTICIPANT")                 \
    X(USER_NOT_FOUND, "user not found", "USER_ID_INVALID")                                         \
    X(NO_BAN_RIGHT, "not enough rights to restrict/unrestrict chat member", "CHAT_ADMIN_REQUIRED") \
    X(TARGET_ADMIN, "user is an administrator of the chat", "USER_ADMIN_INVALID")                  \
    /* join-request queries (Bot API 10.1): the text is assumed, as Telegram documents none; it    \
       is the one Telegram gives for a callback or inline query answered late or unknown */        \
    X(QUERY_INVALID, "query is too old and response timeout expired or query ID is invalid",       \
      "QUERY_ID_INVALID")                                                                          \
    X(LINK_BAD, "invalid invite link parameters", "INVITE_LINK_INVALID")                           \
    X(LINK_MISSING, "INVITE_HASH_EXPIRED", "INVITE_HASH_EXPIRED")

typedef enum {
#define SIM_ERR_ENUM(name, botapi, rpc) SIM_##name,
    SIM_ERR_MAP(SIM_ERR_ENUM)
#undef SIM_ERR_ENUM
} sim_err;

/* "chat not found", "HIDE_REQUESTER_MISSING", ...; never NULL. */
const char *sim_err_botapi(sim_err e);
/* "CHANNEL_INVALID", "HIDE_REQUESTER_MISSING", ... (the MTProto rpc_error name); never NULL. */
const char *sim_err_rpc(sim_err e);

/* Hard caps: control requests past them fail with DM_ETOOBIG. */
#define SIM_MAX_USERS 20000000u
#define SIM_MAX_JOIN_REQUESTS 20000000u
#define SIM_MAX_BOTS 1000u
#define SIM_MAX_CHANNELS 10000u
#define SIM_MAX_ADMINS 200u
#define SIM_MAX_QUEUE 2000000u  /* per bot; the oldest update is forgotten past it */
#define SIM_MAX_MESSAGES 10000u /* per bot; the oldest half is forgotten past it */
#define SIM_MAX_FAULTS 64u
#define SIM_MAX_STATS 64u
#define SIM_TOKEN_MAX 128
#define SIM_RECENT_MAX 5 /* recent_requesters of updatePendingJoinRequests */

struct sim_user {
    int64_t id;
    bool is_bot;
    char *first_name; /* never NULL */
    char *last_name;  /* NULL when absent, as are username and bio */
    char *username;
    char *bio;
    /* what Telegram tells of a user beside the names: Bot API User.is_premium and
     * language_code (NULL when absent), MTProto user flags premium, scam and fake */
    bool is_premium;
    char *language_code;
    bool is_scam, is_fake;
    /* has a profile photo (one, as far as the world goes): getUserProfilePhotos,
     * photos.getUserPhotos and the MTProto user's photo field show it */
    bool has_photo;
};

struct sim_admin {
    int64_t id; /* a user or a bot */
    bool can_invite_users;
    bool can_restrict_members; /* may ban and unban (Bot API can_restrict_members, MTProto
                                  ban_users) */
};

struct sim_channel {
    int64_t id;     /* -100xxxxxxxxxx, like Telegram's Bot API ids of channels */
    char *title;    /* never NULL */
    char *username; /* NULL for a private channel */
    struct sim_admin *admins;
    size_t nadmins;
    struct idmap members;  /* user id -> 1 while a member, 0 after leaving (no removal) */
    size_t nleft;          /* entries of members that are 0 */
    struct idmap requests; /* user id -> index in world.jrs of that user's latest request */
    struct idmap bans;     /* user id -> index in world.bans of that user's ban record */
    /* The bot assigned to process the channel's join requests (Bot API 10.1 ChatFullInfo
     * .guard_bot; MTProto channels.toggleJoinRequest guard_bot), 0 when none: a new request
     * then comes to it with a query (struct sim_join_request, "Join-request queries"). */
    int64_t guard_bot;
    struct sim_invite *links; /* its additional invite links, oldest first (sim/invites.h) */
    size_t nlinks;
    /* pending requests now, and the last requesters (a ring, newest at recent[(nrecent-1)%5]):
     * updatePendingJoinRequests' requests_pending and recent_requesters */
    size_t npending;
    int64_t recent[SIM_RECENT_MAX];
    size_t nrecent;
};

/* What banChatMember / unbanChatMember (or channels.editBanned) did to one user in one channel:
 * one record per (channel, user), made by the first such call by an admin with the right and
 * kept after an unban, so the calls stay counted. */
struct sim_ban {
    int64_t chat_id;
    int64_t user_id;
    bool active;         /* banned now, unless until_date has passed */
    int64_t until_date;  /* Unix seconds; 0 = for ever */
    int64_t banned_by;   /* the last ban's admin */
    int64_t banned_at;   /* Unix seconds of the last ban */
    int64_t unbanned_by; /* the last unban's admin, 0 when none */
    int64_t unbanned_at;
    bool revoke_messages; /* as the last ban asked (channels have no messages in the world) */
    uint32_t ban_calls;   /* every ban / unban call by an admin with the right, whatever it did */
    uint32_t unban_calls;
};

enum jr_status { JR_PENDING, JR_APPROVED, JR_DECLINED };

/* "pending", "approved", "declined"; jr_status_parse returns -1 for anything else. */
const char *jr_status_name(enum jr_status s);
int jr_status_parse(const char *s);

struct sim_join_request {
    int64_t chat_id;
    int64_t user_id;
    int64_t date;      /* Unix seconds */
    char *invite_link; /* NULL when the request came without a link */
    enum jr_status status;
    int64_t decided_by;           /* the bot's or user account's id, or the admin who decided
                                     it in the app (POST /control/join-requests/decide); 0 while
                                     pending */
    int64_t decided_at;           /* Unix seconds; 0 while pending */
    int64_t asked_ms, decided_ms; /* when tgsim made it and decided it, Unix milliseconds (for
                                     timing doorman: bench/rules_latency_bench.mjs) */
    uint32_t decisions;           /* successful decisions; exactly 1 once decided */
    /* Every approve / decline call that named this request while it was the user's latest in
     * the channel, whatever the answer (a call after the decision gets HIDE_REQUESTER_MISSING
     * and still counts): Telegram's side of "asked twice", whatever the asker believed. */
    uint32_t approve_calls;
    uint32_t decline_calls;
    bool by_ban; /* declined because the user was banned while pending (decided_by: the admin) */
    /* Join-request queries: a request made while the channel has a guard bot comes to that bot
     * with query_id (0: none). See world_jr_query_answer. */
    uint8_t query_state;         /* enum jq_state */
    uint16_t query_answer_calls; /* every answer or Web App call naming the query */
    uint64_t query_id;
    int64_t query_deadline_ms; /* Unix milliseconds: SIM_QUERY_DEADLINE_MS after asked_ms */
    int64_t query_answered_ms; /* when it was answered (or the Web App sent), 0 before */
    char *web_app_url;         /* owned: what sendChatJoinRequestWebApp gave, NULL before */
    int64_t log_id; /* an approval's event in the channel's admin log (increasing in the order
                       of decisions, from 1); 0 otherwise */
};

/* A join-request query's life: open until answered or SIM_QUERY_DEADLINE_MS after the
 * request; then it is expired (reported so; stored still as JQ_OPEN) and the request stays
 * pending for the admins ("queued", as Telegram treats it). */
enum jq_state { JQ_NONE, JQ_OPEN, JQ_WEB_APP, JQ_APPROVED, JQ_DECLINED, JQ_QUEUED };
#define SIM_QUERY_DEADLINE_MS 10000 /* "within 10 seconds" (Bot API ChatJoinRequest.query_id) */
/* "open", "expired", "web_app", "approve", "decline", "queue" (the answer given). */
const char *jq_state_name(const struct sim_join_request *jr, int64_t now_ms);

/* Kinds of updates the world produces; each is a bit in sim_bot.allowed_mask. */
enum upd_kind { UPD_CHAT_JOIN_REQUEST, UPD_CALLBACK_QUERY, UPD_MESSAGE, UPD_KIND_COUNT };
/* Telegram's default without allowed_updates: every kind tgsim makes (the ones left out by
 * default, chat_member and reactions, tgsim does not make) */
#define UPD_DEFAULT_MASK ((1u << UPD_KIND_COUNT) - 1)

struct sim_update {
    int64_t id;      /* update_id, increasing per bot */
    json_t *payload; /* owned: the CallbackQuery or Message object; NULL for a join request */
    uint32_t ref;    /* for UPD_CHAT_JOIN_REQUEST: index in world.jrs */
    uint8_t kind;    /* enum upd_kind */
    uint8_t query;   /* UPD_CHAT_JOIN_REQUEST to the channel's guard bot: carries query_id */
};

/* A callback query: a user pressed an inline button of one of the bot's messages. The bot
 * answers it once with answerCallbackQuery within SIM_CALLBACK_ANSWER_MS. */
#define SIM_CALLBACK_ANSWER_MS 15000
struct sim_callback {
    uint64_t id;
    int64_t user_id;
    int64_t message_id;
    int64_t created_ms;
    bool answered;
    char *answer_text; /* owned: what answerCallbackQuery showed, NULL for none */
};

struct sim_message {
    int64_t message_id;
    int64_t chat_id;
    int64_t date;
    json_t *params; /* owned: the sendMessage parameters as received; an edit replaces their
                       text, parse_mode and reply_markup */
    uint32_t edits; /* editMessageText / editMessageReplyMarkup calls that changed it */
};

struct sim_bucket {
    double tokens;
    double last; /* monotonic seconds of the last refill */
};

/* An account's (or an MTProto bot's) update state (core.telegram.org/api/updates), kept by
 * sim/updates.h: the common pts (advanced by updates that carry one, e.g. updateNewMessage), qts
 * (no secret chats: stays 0), seq (one per update pushed, each in its own `updates` envelope) and
 * date, and the log of the last SIM_UPD_LOG updates for updates.getDifference (a ring; the oldest
 * forgotten). */
#define SIM_UPD_LOG 20000u
struct sim_upd_entry {
    json_t *update;    /* owned: the Update (pts and pts_count set when it carries them) */
    int32_t pts;       /* the common pts after it */
    int32_t pts_count; /* 0: a seq-only update (updatePendingJoinRequests) or a qts one */
    int32_t qts;       /* > 0: a qts update (updateBotChatInviteRequester), the qts after it */
    int32_t seq;
    int64_t date;
    bool hidden; /* logged but never pushed: a gap the client must fill with getDifference */
};
struct sim_upd_state {
    int32_t pts, qts, seq;
    int64_t date;
    struct sim_upd_entry *log;           /* a ring of cap entries (grown up to SIM_UPD_LOG) */
    size_t cap, head, n;                 /* the oldest entry is log[head], n entries */
    uint64_t difference_calls, too_long; /* updates.getDifference answered, differenceTooLong */
};

struct sim_bot {
    int64_t id; /* its user's id */
    char token[SIM_TOKEN_MAX + 1];
    pthread_cond_t
        cond; /* broadcast when the queue, the webhook, the poller or `stopping` change */

    /* Pending updates: q[qhead..qend) in id order. */
    struct sim_update *q;
    size_t qhead, qend, qalloc;
    int64_t next_update_id;
    unsigned allowed_mask;   /* kinds queued for this bot */
    json_t *allowed_updates; /* owned; as last set, NULL = the default */
    uint64_t poll_gen;       /* bumped by every getUpdates: an older waiting poll has lost */

    /* Webhook: url NULL when none is set. The delivery thread is started on first use. */
    char *webhook_url;
    char *webhook_secret; /* NULL when none */
    int64_t hook_last_error_date;
    char hook_last_error[256];
    uint64_t hook_delivered, hook_failed_attempts;
    bool hook_thread_started;
    pthread_t hook_thread;

    struct sim_bucket bucket;

    struct sim_message *msgs;
    size_t nmsgs, msgs_alloc;
    int64_t next_message_id;

    struct sim_callback *callbacks; /* the last SIM_MAX_MESSAGES at most, oldest first */
    size_t ncallbacks, callbacks_alloc;
    struct idmap started; /* user id -> 1: the user wrote to the bot, which may write back */

    bool supports_join_request_queries; /* getMe's User.supports_join_request_queries */
    /* logged in over MTProto (auth.importBotAuthorization): from then on it has an update
     * state (sim/updates.h) and is pushed updateBotChatInviteRequester */
    bool mtproto;
    struct sim_upd_state upd;
};

struct sim_fault {
    char method[64];
    unsigned count; /* calls left to fail */
    int error_code;
    char description[200];
    int retry_after;   /* > 0 adds parameters.retry_after */
    unsigned delay_ms; /* answer this much later; with error_code 0, correctly */
};

/* A user listed on the simulated CAS service: what its /check answers. */
#define SIM_MAX_CAS 1000000u
struct sim_cas_entry {
    int64_t user_id;
    int offenses;
    int64_t time_added; /* Unix seconds */
    char *message;      /* one message, NULL when none */
};

struct sim_stat {
    char method[64];
    uint64_t calls;
};

/* A user account that logs in over MTProto (tgsim's data centres): a user with a phone. */
#define SIM_MAX_ACCOUNTS 100000u
#define SIM_PHONE_MAX 20

/* A login code sent to a phone (auth.sendCode): in the app, as a message from "Telegram", or by
 * SMS (auth.resendCode; numbers without an account get theirs by SMS at once). code[0] == 0 when
 * none was sent. */
struct sim_login_code {
    char code[8];
    char hash[33]; /* phone_code_hash */
    int64_t sent_at;
    bool used;
    bool sms; /* sent by SMS: nothing left to resend it by (SEND_CODE_UNAVAILABLE) */
};

/* Numbers without an account that asked for a code (sign-ups): the last SIM_MAX_SIGNUPS. */
#define SIM_MAX_SIGNUPS 64u
struct sim_signup {
    char phone[SIM_PHONE_MAX + 1];
    struct sim_login_code login;
};

/* Telegram's service notifications come from this user ("Telegram"); login codes among them. */
#define SIM_SERVICE_USER_ID 777000
#define SIM_SERVICE_USER_NAME "Telegram"
#define SIM_MAX_INBOX 100u /* per account; the oldest is forgotten past it */

/* A message the account received (only Telegram's service notifications are modelled). */
struct sim_inbox_message {
    int64_t id; /* increasing per account, from 1 */
    int64_t date;
    int64_t from_id; /* SIM_SERVICE_USER_ID */
    char *text;      /* owned */
};
struct sim_account {
    int64_t user_id;
    char phone[SIM_PHONE_MAX + 1]; /* digits only, unique */
    int dc;                        /* home DC: sendCode elsewhere answers PHONE_MIGRATE_<dc> */
    char *password;                /* the 2FA password, NULL when none; never logged */
    uint8_t srp_salt1[40], srp_salt2[16];
    struct sim_login_code login; /* the last login code sent */
    /* how Telegram treats a login (POST /control/accounts/{id}/flags): sendCode asks for a login
       email first (auth.sentCodeTypeSetUpEmailRequired, no code sent), or answers
       PHONE_NUMBER_BANNED */
    bool email_required, banned;
    /* flood control: at most flood_limit calls per window of flood_window seconds (0 = no limit;
     * the window is 60 s unless a test shortens it), and injected waits */
    unsigned flood_limit, flood_window;
    double flood_window_start;
    unsigned flood_calls;
    unsigned flood_inject_count;
    int flood_inject_seconds;
    /* revocation: keys bound under an older epoch answer revoke_error once, then are unbound */
    uint32_t auth_epoch;
    char revoke_error[32];
    /* messages received, oldest first: inbox[0..ninbox) */
    struct sim_inbox_message *inbox;
    size_t ninbox;
    int64_t next_inbox_id;
    /* service messages (POST /control/accounts/{id}/service): what the DCs are to send the
       account's connection next ("" when nothing), and the answers recorded (a JSON array, owned,
       NULL while empty) */
    char service_ask[24];
    json_t *service_answers;
    struct sim_upd_state upd; /* sim/updates.h */
};

struct world {
    pthread_mutex_t lock;
    bool stopping;
    uint64_t rng;
    uint8_t hash_key[16]; /* world_access_hash()'s key: a function of the seed alone */

    double rate_limit; /* requests per second per bot; 0 = unlimited */
    unsigned latency_ms;
    unsigned salt_lifetime; /* seconds each MTProto server salt is valid; 0 = salts never change */
    /* bad_server_salt sent; and those sent on a connection that had already been refused for its
       salt or been given future salts (a client that needs a round trip after the first) */
    uint64_t bad_server_salt, bad_server_salt_repeated;
    /* temporary auth keys made, bound (auth.bindTempAuthKey), and calls refused on an unbound
     * one (AUTH_KEY_PERM_EMPTY); temporary keys made before temp_keys_before_ms (unix ms) are
     * gone, as when Telegram's servers forget them (POST /control/temp-keys/expire) */
    uint64_t temp_keys, temp_binds, perm_empty;
    int64_t temp_keys_before_ms;

    struct sim_user *users;
    size_t nusers, users_alloc;
    struct idmap user_index; /* id -> index in users */
    int64_t next_user_id;

    struct sim_bot **bots;
    size_t nbots;

    struct sim_channel **channels;
    size_t nchannels;
    int64_t next_channel_seq;

    struct sim_join_request *jrs;
    size_t njrs, jrs_alloc;
    struct idmap queries; /* join-request query id -> index in jrs */

    struct sim_ban *bans;
    size_t nbans, bans_alloc;
    int64_t next_log_id; /* the last admin-log event id given (sim_join_request.log_id) */

    /* the CAS-style blocklist (GET /cas/check): user id -> index in cas */
    struct sim_cas_entry *cas;
    size_t ncas, cas_alloc;
    struct idmap cas_index;

    struct sim_account **accounts;
    size_t naccounts;
    struct sim_signup signups[SIM_MAX_SIGNUPS]; /* a ring: next_signup is the slot reused next */
    size_t nsignups, next_signup;
    json_t *dcs; /* owned: the data centres' table for GET /control/dcs, NULL when none run */

    /* MTProto updates (sim/updates.h): called, world lock held, when user_id's update state
     * has something new to push (the data centres wake that account's connections); and the pts
     * gap over which updates.getDifference answers differenceTooLong */
    void (*upd_hook)(void *ctx, int64_t user_id);
    void *upd_ctx;
    unsigned diff_too_long;

    struct sim_fault faults[SIM_MAX_FAULTS];
    size_t nfaults;
    struct sim_stat stats[SIM_MAX_STATS];
    size_t nstats;
    uint64_t rate_limited;
};

/* Lifecycle (no lock needed). The seed makes ids and tokens reproducible. */
dm_err world_new(uint64_t seed, struct world **out);
/* Frees everything; webhook threads must have been joined (webhook_join_all()). */
void world_free(struct world *w);
void world_lock(struct world *w);
void world_unlock(struct world *w);
/* Sets `stopping` and wakes every waiter (long polls return, delivery threads exit). */
void world_stop(struct world *w);

/* Unix seconds, and monotonic seconds for rate limits. */
int64_t world_now(void);
int64_t world_now_ms(void); /* Unix milliseconds */
double world_mono(void);
/* A uniformly random 64-bit number from the seeded generator. */
uint64_t world_rand(struct world *w);

/* The access_hash the MTProto account `account` (a user or bot id; its every auth key alike) is
 * given for the peer `id` of `kind` (WORLD_HASH_USER, WORLD_HASH_CHANNEL: tgsim's own ids), as
 * Telegram gives each account its own: a keyed hash (SipHash-2-4, key from the seed) of the
 * three, so it is the same across restarts with the same seed and differs between accounts. A
 * photo's hash, which does not depend on who asks, is WORLD_HASH_PHOTO with account 0. */
enum world_hash_kind { WORLD_HASH_USER = 'u', WORLD_HASH_CHANNEL = 'c', WORLD_HASH_PHOTO = 'p' };
int64_t world_access_hash(const struct world *w, int64_t account, enum world_hash_kind kind,
                          int64_t id);

/* Telegram's limits, in characters (code points), not bytes: a channel title 128, a first or
 * last name 64, a bio 140 (70 without Premium; a requester may have Premium). */
#define SIM_TITLE_MAX 128
#define SIM_NAME_MAX 64
#define SIM_BIO_MAX 140

/* Whether s is UTF-8 without control characters (a newline allowed) of min..max characters (a
 * NULL s: when min is 0). */
bool world_text_ok(const char *s, size_t min, size_t max);

/* Users. Strings are copied; first_name is required (1..SIM_NAME_MAX characters of UTF-8),
 * last_name up to SIM_NAME_MAX, username [A-Za-z0-9_]{1,32} unique across users, bots and
 * channels, bio up to SIM_BIO_MAX. */
dm_err world_user_add(struct world *w, const char *first_name, const char *last_name,
                      const char *username, const char *bio, int64_t *id_out, struct dm_error *err);
struct sim_user *world_user(struct world *w, int64_t id);
/* Sets the traits of user id beside the names (struct sim_user). language_code NULL means none,
 * else an IETF tag: 2..35 of [A-Za-z0-9-] (world_language_code_ok: false with the message in
 * err otherwise; NULL is fine). DM_EINVAL naming the field otherwise. */
bool world_language_code_ok(const char *language_code, struct dm_error *err);
dm_err world_user_set_traits(struct world *w, int64_t id, bool is_premium,
                             const char *language_code, bool is_scam, bool is_fake, bool has_photo,
                             struct dm_error *err);

/* Bots: a user with is_bot and a token. token NULL generates "<id>:<35 chars>"; a given token
 * must be 1..128 characters of [A-Za-z0-9:_-] and unused; when it starts with "<digits>:" and
 * that id is free, the bot gets that id. */
dm_err world_bot_add(struct world *w, const char *username, const char *first_name,
                     const char *token, struct sim_bot **out, struct dm_error *err);
struct sim_bot *world_bot_by_token(struct world *w, const char *token);
struct sim_bot *world_bot_by_id(struct world *w, int64_t id);

/* Channels. title 1..SIM_TITLE_MAX characters of UTF-8; username as for users, or NULL. */
dm_err world_channel_add(struct world *w, const char *title, const char *username,
                         struct sim_channel **out, struct dm_error *err);
struct sim_channel *world_channel(struct world *w, int64_t id);
/* Case-insensitive; name without the '@'. */
struct sim_channel *world_channel_by_username(struct world *w, const char *name);
/* Makes id (an existing user or bot) an admin, or changes its rights. */
dm_err world_channel_set_admin(struct world *w, struct sim_channel *ch, int64_t id,
                               bool can_invite_users, bool can_restrict_members,
                               struct dm_error *err);
const struct sim_admin *world_channel_admin(const struct sim_channel *ch, int64_t id);
dm_err world_channel_add_member(struct world *w, struct sim_channel *ch, int64_t user_id,
                                struct dm_error *err);
bool world_is_member(const struct sim_channel *ch, int64_t user_id);
/* Members now (those who left or were banned are not counted). */
size_t world_member_count(const struct sim_channel *ch);

/* Bans (Bot API banChatMember / unbanChatMember, MTProto channels.editBanned), acting as
 * actor_id, which must be an admin with can_restrict_members (else SIM_NO_BAN_RIGHT, nothing
 * counted). An unknown user is SIM_USER_NOT_FOUND; an admin of the channel (the actor itself
 * too) cannot be banned: SIM_TARGET_ADMIN.
 *
 * world_ban: until_date less than 30 s or more than 366 days ahead (or 0) means for ever, as
 * Telegram says. The user stops being a member. A pending join request of the user is dismissed:
 * declined by the banning admin, with by_ban set. Telegram does not document this; tgsim models
 * it so because a banned user cannot join by any link, so the request can never be approved,
 * and a decline after the ban gets HIDE_REQUESTER_MISSING like any handled request (decline
 * first, then ban, to have the decline recorded as the decision). A banned user cannot ask to
 * join again (world_jr_add refuses) until unbanned or the ban expires.
 *
 * world_unban: lifts the ban. Without only_if_banned it also guarantees the user is not a member
 * (a member is removed, as the Bot API documents); with it, a user who is not banned is left
 * alone (SIM_OK). An admin target is SIM_TARGET_ADMIN unless only_if_banned. */
sim_err world_ban(struct world *w, int64_t chat_id, int64_t user_id, int64_t until_date,
                  bool revoke_messages, int64_t actor_id);
sim_err world_unban(struct world *w, int64_t chat_id, int64_t user_id, bool only_if_banned,
                    int64_t actor_id);
/* Whether the user is banned in the channel now (an expired temporary ban is not). */
bool world_is_banned(struct world *w, const struct sim_channel *ch, int64_t user_id);
/* The (channel, user) ban record, or NULL when no ban call was ever made for them. */
struct sim_ban *world_ban_record(struct world *w, const struct sim_channel *ch, int64_t user_id);

/* The CAS-style blocklist. world_cas_put lists the user (or replaces the entry; message NULL:
 * none, else at most 200 characters of UTF-8); world_cas_get is NULL when not listed. */
dm_err world_cas_put(struct world *w, int64_t user_id, int offenses, const char *message,
                     struct dm_error *err);
const struct sim_cas_entry *world_cas_get(struct world *w, int64_t user_id);

/* Join requests. One request from an existing user who is neither a member, nor banned, nor
 * already pending; date 0 means now; invite_link may be NULL. announce false queues no update for
 * the bots (a request only Telegram knows of). */
dm_err world_jr_add(struct world *w, struct sim_channel *ch, int64_t user_id, int64_t date,
                    const char *invite_link, bool announce, struct dm_error *err);
/* count new users (first_name, optional bio; consecutive ids starting at *first_id) and a
 * pending request from each through invite_link (NULL: none), dated `date` (0 = now), or with
 * spread_seconds > 0 spread evenly over the spread_seconds before it (the first at
 * date - spread_seconds, the last at date), in that order; announce as for world_jr_add. */
dm_err world_jr_add_many(struct world *w, struct sim_channel *ch, size_t count,
                         const char *first_name, const char *bio, const char *invite_link,
                         int64_t date, int64_t spread_seconds, bool announce, int64_t *first_id,
                         struct dm_error *err);
/* The user's latest request in the channel, or NULL. */
/* Whether bot b may write to user_id in private: the user wrote to the bot (world_user_to_bot),
 * or Bot API ChatJoinRequest.user_chat_id, for SIM_USER_CHAT_WINDOW seconds after a request of
 * the user to a channel b administers, until it is processed. */
#define SIM_USER_CHAT_WINDOW 300
bool world_bot_may_write(struct world *w, const struct sim_bot *b, int64_t user_id);
struct sim_join_request *world_jr_latest(struct world *w, const struct sim_channel *ch,
                                         int64_t user_id);
/* Approves or declines user_id's pending request in chat_id, acting as actor_id (a bot or a
 * user account, which must be an admin with can_invite_users). Approving makes the user a
 * member. No pending request: SIM_REQUESTER_MISSING; pending but already a member when
 * approving: SIM_ALREADY_PARTICIPANT (the request stays pending). A call by an admin with the
 * right counts in the user's latest request's approve_calls / decline_calls, whatever the
 * answer. */
sim_err world_jr_decide(struct world *w, int64_t chat_id, int64_t user_id, bool approve,
                        int64_t actor_id);

/* Join-request queries (Bot API 10.1). world_guard_set assigns bot_id (0: none) as the
 * channel's guard bot: it must be a bot that supports join-request queries and an admin with
 * can_invite_users (DM_EINVAL naming what is missing). world_bot_set_queries turns a bot's
 * support on or off (off also unassigns it from every channel: tgsim's assumption).
 *
 * world_jr_query_answer: the query's bot answers "approve", "decline" or "queue". Only the
 * channel's guard bot, while the query is open (not past its deadline) or showing its Web App (no
 * deadline then: the bot answers after the applicant used it, tgsim's assumption), and while
 * the request is pending; otherwise SIM_QUERY_INVALID, as an unknown id. approve and decline
 * decide the request as world_jr_decide does (its errors); queue leaves it pending for the
 * admins. world_jr_query_web_app records url (copied) and keeps the request pending; the bot
 * then answers the query, or decides by approveChatJoinRequest / declineChatJoinRequest. Every
 * call naming a known query counts in its query_answer_calls. */
dm_err world_guard_set(struct world *w, struct sim_channel *ch, int64_t bot_id,
                       struct dm_error *err);
void world_bot_set_queries(struct world *w, struct sim_bot *b, bool on);
sim_err world_jr_query_answer(struct world *w, const struct sim_bot *b, uint64_t query_id,
                              const char *result);
sim_err world_jr_query_web_app(struct world *w, const struct sim_bot *b, uint64_t query_id,
                               const char *url);

/* Accounts. phone: 5..20 digits (a leading '+' is dropped), unique; dc 1..5; password NULL for
 * none (1..256 bytes). Creates the user (as world_user_add) unless user_id names an existing user
 * without an account. */
dm_err world_account_add(struct world *w, int64_t user_id, const char *first_name,
                         const char *last_name, const char *username, const char *phone, int dc,
                         const char *password, struct sim_account **out, struct dm_error *err);
/* By phone ('+' and spaces ignored) or by user id; NULL when none. */
struct sim_account *world_account_by_phone(struct world *w, const char *phone);
struct sim_account *world_account(struct world *w, int64_t user_id);
/* The sign-up slot of a number without an account (normalized digits), or NULL; with `make`, a
 * slot is taken (the oldest is reused past SIM_MAX_SIGNUPS). */
struct sim_signup *world_signup(struct world *w, const char *phone, bool make);
/* Normalizes a phone number into out (digits only); false when it is not 5..20 digits. */
bool world_phone_normalize(const char *phone, char out[SIM_PHONE_MAX + 1]);
/* Delivers a service notification from "Telegram" (SIM_SERVICE_USER_ID) to the account, as
 * Telegram delivers login codes; text is copied. Past SIM_MAX_INBOX the oldest is forgotten. */
dm_err world_account_notify(struct sim_account *a, const char *text);

/* Update queues. Drops the bot's updates with id < offset; a negative offset keeps only the
 * last -offset updates; 0 drops nothing. */
void world_bot_confirm(struct sim_bot *b, int64_t offset);
size_t world_bot_pending(const struct sim_bot *b);
void world_bot_drop_pending(struct sim_bot *b);
/* Waits on the bot's condition (releasing the lock meanwhile) until woken or until the
 * CLOCK_MONOTONIC deadline; spurious wake-ups happen, so callers re-check their condition. */
void world_bot_wait(struct world *w, struct sim_bot *b, const struct timespec *deadline);
/* Replaces allowed_updates (borrowed JSON array of names; NULL or [] = the default set). */
void world_bot_set_allowed(struct sim_bot *b, json_t *allowed);

/* Records a sent message (params are copied); returns its message_id. */
int64_t world_bot_record_message(struct world *w, struct sim_bot *b, int64_t chat_id,
                                 json_t *params);
/* The bot's recorded message message_id in chat_id, or NULL. */
struct sim_message *world_bot_message(struct sim_bot *b, int64_t chat_id, int64_t message_id);

/* The user presses the inline button with callback data `data` (copied) under the bot's message
 * m: a callback query is recorded (*id) and a callback_query update queued. */
dm_err world_callback_press(struct world *w, struct sim_bot *b, const struct sim_message *m,
                            const struct sim_user *u, const char *data, uint64_t *id);
/* The bot answers callback query id (text NULL: none): SIM_QUERY_INVALID when it is not the
 * bot's, was answered before, or is older than SIM_CALLBACK_ANSWER_MS. */
sim_err world_callback_answer(struct sim_bot *b, uint64_t id, const char *text);
/* The user writes text to the bot in private: a message update is queued, and the bot may write
 * to the user from then on. *message_id gets the message's id. */
dm_err world_user_to_bot(struct sim_bot *b, const struct sim_user *u, const char *text,
                         int64_t *message_id);

/* Limits. Takes one request from the bot's bucket: 0 when allowed, else the seconds to wait
 * (counted in rate_limited). Changing the rate refills every bucket. */
int world_ratelimit_take(struct world *w, struct sim_bot *b);
void world_set_rate_limit(struct world *w, double rate);
/* Arms (or replaces) the fault for f->method; a count of 0 disarms it. */
dm_err world_fault_add(struct world *w, const struct sim_fault *f, struct dm_error *err);
/* When a fault is armed for method, copies it to *out, uses up one count and returns true. */
bool world_fault_take(struct world *w, const char *method, struct sim_fault *out);
void world_stat_call(struct world *w, const char *method);

#endif
