/* login.h: making, importing, exporting and removing doorman's Telegram sessions.
 *
 * A session is a Pyrogram v3 file <data>/sessions/<name>.session (0600, directory 0700; sealed
 * with the master key, session_file.h) plus its store row (store_session: api_id, the sealed
 * API hash, the account). Every way of making
 * one ends the same: the file is written, the pool's connection is handed to the session's
 * name (pool_rename), the row is added. Any failure on the way leaves nothing behind: no
 * file, no row, no connection.
 *
 * A user login takes several requests (phone, code, maybe the 2FA password), so it is kept in
 * the store (store_login) between them: its id is random and unguessable; what is secret (the
 * API hash, phone_code_hash, the DC and the new auth key) is sealed with the master key. A
 * restart or a second browser tab goes on with the same id until it expires (LOGIN_TTL_S
 * seconds after the code was sent; DOORMAN_LOGIN_TTL_S overrides it). Its connection is pooled
 * under "login:<id>" and becomes the session's at the end. Steps of logins run one at a time.
 *
 * Errors: every function fills *te (tg_error.h): the guide's messages for the situations
 * it names (a wrong or expired code, a wrong password, a flood wait, an unknown login id),
 * DM_EINVAL for bad input (a sentence saying what to fix), DM_EEXISTS when the name is taken,
 * DM_ENOTFOUND for an unknown session. API hashes, codes, passwords, bot tokens and auth keys
 * never appear in messages or logs. */
#ifndef DM_TELEGRAM_LOGIN_H
#define DM_TELEGRAM_LOGIN_H

#include "core/common.h"
#include "store/store.h"
#include "telegram/pool.h"

#define LOGIN_TTL_S 600
#define LOGIN_API_HASH_MAX 64

/* DM_OK when name is a usable new session name: [A-Za-z0-9_-]{1,64}, not a word the API's
 * paths use (login, list, bot, import). DM_EINVAL with a sentence otherwise. */
dm_err login_check_name(const char *name, struct dm_error *err);

/* How Telegram sent a login code (auth.sentCode's type and next_type), as words: "app", "sms",
 * "call", "flash_call", "missed_call", "email", "fragment" or "other"; next_type "" when there is
 * no other way to send it again; timeout: seconds before asking again is allowed (0: none said). */
struct login_sent {
    char type[16];
    char next_type[16];
    int32_t timeout;
};

/* Sends the login code (auth.sendCode, following PHONE_MIGRATE_X) and stores the login.
 * *out gets it (its sealed part is not for showing), *sent how the code went (sent may be NULL).
 * Failures leave nothing: an unknown, banned or implausible number is Telegram's error (TG_INPUT,
 * te->name PHONE_NUMBER_*), a flood wait TG_FLOOD; an account Telegram asks to set up a login
 * email first gets no code: TG_INPUT with te->name "auth.sentCodeTypeSetUpEmailRequired" and a
 * sentence saying to sign in once with the official app (doorman does not set up login emails). */
dm_err login_start(struct pool *a, const char *name, int64_t api_id, const char *api_hash,
                   const char *phone, int64_t now, struct store_login *out, struct login_sent *sent,
                   struct tg_error *te);
/* How the code of login l went (opened from its sealed part). */
dm_err login_sent_of(struct pool *a, const struct store_login *l, struct login_sent *out,
                     struct tg_error *te);
/* auth.resendCode: the code again by its next_type (an SMS after the app). The login keeps its
 * id; *out and *sent are updated. SEND_CODE_UNAVAILABLE (no other way left) keeps the login; an
 * expired code ends it. */
dm_err login_resend(struct pool *a, const char *id, int64_t now, struct store_login *out,
                    struct login_sent *sent, struct tg_error *te);
/* The login with this id (TG_LOGIN_GONE when unknown or expired). */
dm_err login_get(struct pool *a, const char *id, int64_t now, struct store_login *out,
                 struct tg_error *te);
/* auth.signIn with the code. Either the session is made (*done true, *session filled) or the
 * account has a 2FA password (*done false, *out is the login now waiting for it, with the
 * password hint). A wrong or empty code keeps the login; an expired one ends it, and so does a
 * number without an account (auth.authorizationSignUpRequired: TG_INPUT with that te->name;
 * doorman does not sign up new accounts). */
dm_err login_code(struct pool *a, const char *id, const char *code, int64_t now, bool *done,
                  struct store_login *out, struct store_session *session, struct tg_error *te);
/* account.getPassword + SRP + auth.checkPassword; a wrong password keeps the login. */
dm_err login_password(struct pool *a, const char *id, const char *password, int64_t now,
                      struct store_session *session, struct tg_error *te);

/* A bot session: auth.importBotAuthorization with the bot token. */
dm_err login_bot(struct pool *a, const char *name, int64_t api_id, const char *api_hash,
                 const char *bot_token, int64_t now, struct store_session *session,
                 struct tg_error *te);

/* Imports a session file (data, len) or, when data is NULL, a string session (session_file.h,
 * session_string.h), after proving it works: users.getUsers(self) through it. */
dm_err login_import(struct pool *a, const char *name, int64_t api_id, const char *api_hash,
                    const char *phone, const void *data, size_t len, const char *string,
                    int64_t now, struct store_session *session, struct tg_error *te);

/* The session's file as a plain Pyrogram v3 file's bytes (opened with the master key; a plain
 * file from an older doorman as it is): *data is malloc'd, owned by the caller, who should
 * wipe it (it holds the auth key). */
dm_err login_export(struct pool *a, const char *name, char **data, size_t *len,
                    struct tg_error *te);

/* Removes a session: with `logout`, auth.logOut first (a key Telegram already forgot is not
 * an error; anything else is, and then nothing is removed); then the connection, the row and
 * the file. */
dm_err login_remove(struct pool *a, const char *name, bool logout, struct tg_error *te);

#endif
