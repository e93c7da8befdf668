/* tg_error.h: what a failed Telegram operation means, as one value.
 *
 * A struct tg_error says what kind of failure it is (what doorman does about it), Telegram's
 * error name, the seconds to wait and the sentence for the admin. It is made here, in one
 * place, from whichever protocol answered:
 * - MTProto (tg_error_mtproto): the rpc_error's name, looked up in doorman's table of the names
 *   it gives a meaning to (the join request already handled, a dead key, no right, no such
 *   channel, the Session Manager guide's login errors, input to fix); any other name by the code
 *   the generated error table (mtproto/tl/errors.c, through tl_error_find) gives it, or else the
 *   code the server sent: 420 is a wait of the name's number of seconds, 500 and above
 *   Telegram's own trouble; anything else a refusal.
 * - the Bot API (tg_error_botapi): the same names when the description carries one ("Bad
 *   Request: HIDE_REQUESTER_MISSING"), or the words of a missing right ("Bad Request: not enough
 *   rights to restrict/unrestrict chat member" is TG_NO_RIGHT), else error_code: 429 a wait of
 * parameters.retry_after, 401 a rejected token, 500 and above Telegram's trouble, anything else a
 * refusal. The API answers with it (docs/api.md's tables) and the job runner acts on it; neither
 * looks at rpc_errors or Bot API replies itself.
 *
 * Messages: MTProto's errors get the guide's sentences ("Flood wait: please wait X seconds",
 * "Session is invalid", ...) or "Telegram answered <NAME>"; the Bot API's keep its own
 * description ("Bad Request: CHAT_ADMIN_REQUIRED"), but for a rejected token; failures that are
 * not Telegram's answer keep the message they came with. Messages never hold a secret. */
#ifndef DM_TELEGRAM_TG_ERROR_H
#define DM_TELEGRAM_TG_ERROR_H

#include "core/common.h"

struct botapi_reply;
struct mt_rpc_error;

/* X(kind, the dm_err it returns as, its fixed sentence, or "" when the message names Telegram's
 * numbers or error, or comes with the failure) */
#define TG_KIND_MAP(X)                                                                             \
    /* no failure */                                                                               \
    X(OK, DM_OK, "")                                                                               \
    /* wait retry_after seconds; then the same call may work (FLOOD_WAIT_X, a 429) */              \
    X(FLOOD, DM_ERATELIMIT, "") /* "Flood wait: please wait X seconds" */                          \
    /* the join request was handled already (HIDE_REQUESTER_MISSING, USER_ALREADY_PARTICIPANT):    \
       final, and not a failure of the job */                                                      \
    X(ALREADY, DM_ETELEGRAM, "")                                                                   \
    /* the account cannot work: the session's key is dead, or the bot token was rejected */        \
    X(DEAD, DM_EAUTH, "Session is invalid")                                                        \
    /* not an admin with the invite-users right (or not in the channel at all) */                  \
    X(NO_RIGHT, DM_EFORBIDDEN, "You don't have permission to view join requests")                  \
    /* no such channel, or not one the account can see */                                          \
    X(NOT_FOUND, DM_ENOTFOUND, "Channel not found: use its @username or t.me link")                \
    /* the Session Manager guide's login errors */                                                 \
    X(LOGIN_GONE, DM_ENOTFOUND, "Session not found. Please start over.")                           \
    X(BAD_CODE, DM_EINVAL, "Invalid verification code")                                            \
    X(CODE_EXPIRED, DM_EINVAL, "Verification code expired. Please start over.")                    \
    X(BAD_PASSWORD, DM_EINVAL, "Invalid 2FA password")                                             \
    /* what the admin gave is wrong (a phone, an API ID, a token): the message says what to fix */ \
    X(INPUT, DM_EINVAL, "")                                                                        \
    /* no answer in time, no connection, or Telegram's own trouble: worth trying again later.      \
       e.code says which (DM_ETIMEOUT, DM_ENETWORK, DM_EUNAVAILABLE; DM_ETELEGRAM for a 5xx) */    \
    X(UNREACHABLE, DM_EUNAVAILABLE, "")                                                            \
    /* any other refusal by Telegram: final */                                                     \
    X(REFUSED, DM_ETELEGRAM, "") /* "Telegram answered <NAME>" */                                  \
    /* not Telegram's answer: the store, a file, memory, an answer that does not decode; e.code    \
       says which */                                                                               \
    X(LOCAL, DM_EIO, "")

/* The sentence for an empty login code (PHONE_CODE_EMPTY, or none given). */
#define TG_CODE_EMPTY_MSG "Enter the verification code Telegram sent."
/* The sentence for a number without a Telegram account (PHONE_NUMBER_UNOCCUPIED, or
 * auth.authorizationSignUpRequired after the code). */
#define TG_SIGN_UP_FIRST_MSG                                                                       \
    "No Telegram account has this phone number. doorman does not create accounts: sign up with "   \
    "this number in a Telegram app first, then create the session here."

enum tg_kind {
#define TG_KIND_ENUM(kind, code, msg) TG_##kind,
    TG_KIND_MAP(TG_KIND_ENUM)
#undef TG_KIND_ENUM
        TG_KIND_COUNT
};

/* The kind's name ("FLOOD", "NO_RIGHT"), for logs and tests. */
const char *tg_kind_name(enum tg_kind kind);

struct tg_error {
    enum tg_kind kind;
    char name[128];      /* Telegram's error as sent ("FLOOD_WAIT_31", "HIDE_REQUESTER_MISSING");
                            for a login Telegram refused by its answer rather than an error, that
                            answer's constructor ("auth.authorizationSignUpRequired"); "" when
                            Telegram named none */
    int64_t retry_after; /* seconds to wait, >= 1, for TG_FLOOD; else 0 */
    struct dm_error e;   /* the code the failing function returns, and the sentence for people */
};

/* Each function fills *te (when not NULL) and returns te's e.code: DM_OK for no failure. */

/* From mt_call()'s result: e, the rpc_error it got (read when e is DM_ETELEGRAM) and its
 * message. DM_EAUTH (the server does not know the key) is TG_DEAD; DM_ETIMEOUT, DM_ENETWORK and
 * DM_EUNAVAILABLE are TG_UNREACHABLE; any other failure TG_LOCAL, with err's message. */
dm_err tg_error_mtproto(struct tg_error *te, dm_err e, const struct mt_rpc_error *rpc,
                        const struct dm_error *err);
/* From botapi_call()'s result: e and err when no reply came (DM_EPROTO, a page that is not the
 * Bot API's, is TG_UNREACHABLE like DM_ETIMEOUT, DM_ENETWORK and DM_EUNAVAILABLE); otherwise the
 * reply (rep->ok is no failure). */
dm_err tg_error_botapi(struct tg_error *te, dm_err e, const struct botapi_reply *rep,
                       const struct dm_error *err);
/* A kind with its dm_err and fixed sentence (for TG_FLOOD the one with retry_after; none for
 * TG_REFUSED, whose sentence names Telegram's error). */
dm_err tg_error_set(struct tg_error *te, enum tg_kind kind, int64_t retry_after);
/* A failure that is not Telegram's answer: TG_LOCAL with code and the formatted message. */
dm_err tg_error_local(struct tg_error *te, dm_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For TG_ALREADY: whether Telegram's answer says the user is a member now
 * (USER_ALREADY_PARTICIPANT), rather than that the request is gone (HIDE_REQUESTER_MISSING:
 * decided, either way). */
bool tg_error_joined(const struct tg_error *te);
/* Sets the message (cut to fit), keeping the rest. */
void tg_error_say(struct tg_error *te, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
