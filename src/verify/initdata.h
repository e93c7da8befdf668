/* initdata.h: checking a Telegram Mini App's launch data (Telegram.WebApp.initData, or
 * tgWebAppData in the URL fragment) as Telegram documents it: secret key = HMAC-SHA-256 of the
 * bot token keyed with "WebAppData"; the hash = hex HMAC-SHA-256, keyed with the secret, of
 * every received field but `hash` as "key=value" lines (values URL-decoded), sorted by key and
 * joined by "\n". `signature` (Telegram's Ed25519 signature for third parties, sent since Bot API
 * 8.0) is one of those fields: core.telegram.org/bots/webapps leaves out only `hash` for the
 * bot-token check ("a chain of all received fields"), and `hash` and `signature` only for the
 * third-party check, which doorman does not need (it has the token). Pure: the caller gives the
 * time and remembers used hashes (a replay).
 *
 * Errors are DM_EINVAL (malformed, or a field missing), DM_EAUTH (a wrong hash: not signed with
 * this bot's token) and DM_ETIMEOUT (auth_date older than max_age seconds, or ahead of now by
 * more than a minute), with a message fit for the applicant. */
#ifndef DM_VERIFY_INITDATA_H
#define DM_VERIFY_INITDATA_H

#include "core/common.h"

#define INITDATA_MAX 4096 /* bytes of launch data accepted */

struct initdata {
    int64_t user_id;
    int64_t auth_date;
    char first_name[256], last_name[256], username[64];
    char language_code[36];
    char hash[65]; /* hex, as received (lowercase): what a replay repeats */
};

dm_err initdata_check(const char *data, size_t len, const char *bot_token, int64_t now,
                      int64_t max_age, struct initdata *out, struct dm_error *err);

#endif
