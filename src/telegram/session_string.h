/* session_string.h: string sessions (a session pasted as one line of text).
 *
 * Accepted (see DESIGN.md "Session files"), told apart by their first character and decoded
 * length:
 * - Pyrogram: URL-safe base64 without padding of big-endian ">BI?256sQ?" (dc_id, api_id,
 *   test_mode, auth_key, user_id, is_bot; 271 bytes), or the older ">B?256sI?" (263 bytes)
 *   and ">B?256sQ?" (267 bytes), which carry no api_id;
 * - Telethon StringSession: '1' + URL-safe base64 of ">B4sH256s" (IPv4) or ">B16sH256s" (IPv6);
 * - GramJS StringSession: '1' + base64 of dc (u8), address length (i16 BE), address, port
 *   (i16 BE), auth key (256).
 * Whitespace anywhere is ignored (pasted strings get wrapped) and padding is optional. The
 * parsed session holds a secret; see session_file.h about wiping it. */
#ifndef DM_TELEGRAM_SESSION_STRING_H
#define DM_TELEGRAM_SESSION_STRING_H

#include "telegram/session_file.h"

#define TG_SESSION_STRING_MAX 1024  /* longer input is refused; every format is under 400 */
#define TG_PYROGRAM_STRING_SIZE 363 /* 362 characters of a Pyrogram string and the NUL */

/* Parses s into *out. DM_EINVAL with a sentence ("This is not a Pyrogram, Telethon or GramJS
 * string session: ...") when it is none of the formats above. */
dm_err tg_session_parse_string(const char *s, struct tg_session *out, struct dm_error *err);

/* Writes *s as a Pyrogram string session (the current ">BI?256sQ?" format) into out, which
 * needs TG_PYROGRAM_STRING_SIZE bytes. The result is a secret: the caller wipes it. */
dm_err tg_session_to_pyrogram_string(const struct tg_session *s, char *out, size_t n,
                                     struct dm_error *err);

#endif
