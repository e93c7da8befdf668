/* session_file.h: Telegram session files made by other tools, read and written without a network.
 *
 * A struct tg_session is what a session needs to talk to Telegram again: the data centre, the
 * 256-byte authorization key, and what the tool knew about the account. It is a plain value
 * that holds a secret: the auth key never goes into a log or an error message, and whoever
 * holds a struct tg_session calls tg_session_wipe() on it when done (also after a failed read,
 * which may have filled part of it).
 *
 * Reading accepts (see DESIGN.md "Session files"):
 * - Pyrogram .session files of every schema version 1–7, columns read by name (v1–2 have no
 *   api_id, files migrated from them carry it as the last column, v7 adds server_address/port);
 * - Telethon .session files (sessions(dc_id, server_address, port, auth_key, takeout_id)).
 * Uploads are hostile until proven otherwise. The file is read into memory (at most
 * TG_SESSION_FILE_MAX bytes, the size checked before reading), its SQLite header checked, and
 * the image opened read-only from memory (sqlite3_deserialize): no journal, WAL or lock file
 * is ever made next to it. Triggers and views are switched off on that connection, the schema
 * is untrusted (trusted_schema off, defensive mode), and a schema holding a view, a virtual
 * table, a computed column or any trigger besides Pyrogram's own trg_peers_last_update_on on
 * peers (which could not fire anyway) is refused. Every refusal is a DM_EINVAL (DM_ETOOBIG for
 * size) with a sentence the uploader can act on, starting "This file is not a Pyrogram or
 * Telethon session: ".
 *
 * Writing produces exactly what Pyrogram 2.x writes (schema version 3: tables sessions, peers,
 * version; its indexes and trigger; one sessions row), so the file can be taken to Pyrogram
 * and back.
 *
 * doorman's own files (<data>/sessions/<name>.session) are sealed: an auth key is the whole
 * account, so the Pyrogram v3 bytes are kept encrypted with the master key (secret.h), like the
 * API hash in the database row. A sealed file is text: the line TG_SESSION_SEALED_MAGIC, then
 * secret_seal()'s "v1:" + base64url(nonce || ciphertext || tag) of the Pyrogram bytes, then a
 * newline. Plain files (what doorman wrote before) are still read; tg_session_seal_file()
 * converts one in place. */
#ifndef DM_TELEGRAM_SESSION_FILE_H
#define DM_TELEGRAM_SESSION_FILE_H

#include "core/common.h"

#define TG_AUTH_KEY_BYTES 256
#define TG_SESSION_FILE_MAX (16u << 20) /* larger uploads are refused before being read */
#define TG_SESSION_NAME_MAX 64
#define TG_SESSION_SEALED_MAGIC "doorman sealed session 1\n"
/* The longest sealed file: the magic, "v1:", base64 of nonce + TG_SESSION_FILE_MAX + tag, "\n" */
#define TG_SESSION_SEALED_MAX                                                                      \
    (sizeof TG_SESSION_SEALED_MAGIC + 3 + 4 * ((24 + TG_SESSION_FILE_MAX + 16 + 2) / 3) + 1)

struct secret_key;

/* Where a session came from. */
enum tg_session_kind {
    TG_SESSION_PYROGRAM_FILE,
    TG_SESSION_TELETHON_FILE,
    TG_SESSION_PYROGRAM_STRING,
    TG_SESSION_TELETHON_STRING,
    TG_SESSION_GRAMJS_STRING,
};

struct tg_session {
    enum tg_session_kind kind;
    int schema_version; /* the file's version table (Pyrogram 1–7, Telethon 7); 0 for strings */
    int dc_id;          /* 1..255 */
    int api_id;         /* 0 when the source does not record it (Pyrogram v1–2, Telethon) */
    bool test_mode;     /* Telegram's test DCs (Pyrogram only; false when unknown) */
    unsigned char auth_key[TG_AUTH_KEY_BYTES]; /* secret */
    int64_t user_id;         /* the account's id; 0 when unknown (Telethon, GramJS) */
    bool is_bot;             /* false when unknown */
    char server_address[64]; /* IP or host name ([0-9A-Za-z.:-]); "" when the source has none */
    int port;                /* 0 when server_address is "" */
    int64_t date;            /* Pyrogram's last save (Unix seconds); 0 when unknown */
};

/* The kind's name for people ("Pyrogram file", "GramJS string", ...); never NULL. */
const char *tg_session_kind_name(enum tg_session_kind kind);

/* Overwrites *s with zeros (the auth key included) in a way the compiler keeps. */
void tg_session_wipe(struct tg_session *s);

/* DM_OK when *s is usable: dc_id 1..255, an auth key that is not all zeros, a server address
 * of [0-9A-Za-z.:-] with a port 1..65535 (or no address), api_id >= 0, user_id >= 0.
 * Otherwise DM_EINVAL and a sentence naming what is wrong (prefixed by `what`, e.g. "This file
 * is not a Pyrogram or Telethon session"). Every reader and writer here calls it. */
dm_err tg_session_check(const struct tg_session *s, const char *what, struct dm_error *err);

/* Reads a Pyrogram or Telethon .session file into *out. The file is never modified and
 * nothing is created next to it. DM_ENOTFOUND/DM_EIO when it cannot be read, DM_ETOOBIG over
 * TG_SESSION_FILE_MAX, DM_EINVAL when it is not a usable session. */
dm_err tg_session_read_file(const char *path, struct tg_session *out, struct dm_error *err);

/* The same for a file's bytes already in memory (an upload); data is not modified. */
dm_err tg_session_read_bytes(const void *data, size_t len, struct tg_session *out,
                             struct dm_error *err);

/* Writes *s as a Pyrogram schema-v3 file at path: built in memory, written to a temporary
 * file (mode 0600) in the same directory, fsync'd and moved into place, so path either does
 * not change or holds the whole new file. The directory must exist with no group or other
 * access (0700; the caller makes it). An existing path is replaced only when `overwrite`;
 * otherwise DM_EEXISTS. On failure no file is left behind. api_id and user_id 0 are written as
 * NULL, date 0 as the current time. */
dm_err tg_session_write_pyrogram(const char *path, const struct tg_session *s, bool overwrite,
                                 struct dm_error *err);

/* A channel a session file knows, with its access hash: Pyrogram's peers rows of type "channel"
 * or "supergroup", Telethon's entities rows, both keyed by the marked id -100…; channel_id is
 * the bare (MTProto) id. */
struct tg_peer {
    int64_t channel_id;
    int64_t access_hash;
};
#define TG_SESSION_PEERS_MAX 10000 /* read from one file at most; the rest are left */

/* Reads the channels a Pyrogram or Telethon file's bytes know (as tg_session_read_bytes takes
 * them, with the same checks and refusals) into *out (malloc'd, NULL when none; the caller
 * frees), *n of them. A file without such a table has none. */
dm_err tg_session_read_peers(const void *data, size_t len, struct tg_peer **out, size_t *n,
                             struct dm_error *err);

/* s's Pyrogram v3 file in memory, as tg_session_write_pyrogram writes it, with peers (may be
 * NULL) as its peers rows: *out malloc'd (*len bytes; it holds the auth key: the caller wipes
 * and frees it). */
dm_err tg_session_pyrogram_bytes(const struct tg_session *s, const struct tg_peer *peers,
                                 size_t npeers, unsigned char **out, size_t *len,
                                 struct dm_error *err);

/* True when data starts as a sealed session file (TG_SESSION_SEALED_MAGIC). */
bool tg_session_is_sealed(const void *data, size_t len);

/* tg_session_write_pyrogram's file, sealed with master: the same checks, the same atomic
 * write (a temporary file, mode 0600, fsync'd, moved into place). */
dm_err tg_session_write_sealed(const char *path, const struct tg_session *s,
                               const struct secret_key *master, bool overwrite,
                               struct dm_error *err);

/* Reads doorman's stored session file at path (not followed when a symbolic link), sealed
 * (opened with master) or plain (an older doorman's), and checks it is a usable session as
 * tg_session_read_bytes does. out (may be NULL) receives the session; image (may be NULL)
 * the session file's bytes, the Pyrogram file for Export (*image malloc'd, the caller wipes
 * and frees it; *len its size); sealed (may be NULL) whether the file was sealed.
 * DM_ENOTFOUND/DM_EIO when it cannot be read, DM_ECRYPTO when it is sealed but master does
 * not open it (another master key, or altered), DM_EINVAL/DM_ETOOBIG as for reading. */
dm_err tg_session_read_stored(const char *path, const struct secret_key *master,
                              struct tg_session *out, unsigned char **image, size_t *len,
                              bool *sealed, struct dm_error *err);

/* Seals a plain stored session file in place, its bytes as they are: read, checked to be a
 * usable session, sealed with master and written over it atomically (mode 0600), so path
 * holds the whole plain file or the whole sealed one, and nothing plain is left beside it.
 * *converted tells whether it was plain; a sealed file is left alone (DM_OK). On failure the
 * file is not changed (DM_EINVAL when it is not a usable session, as for reading). */
dm_err tg_session_seal_file(const char *path, const struct secret_key *master, bool *converted,
                            struct dm_error *err);

/* True when name is 1..64 characters of [A-Za-z0-9_-] (so it is safe in a path). */
bool tg_session_name_valid(const char *name);

/* Builds "<dir>/<name>.session" into out (size n), only for a valid name. DM_EINVAL for an
 * invalid name, DM_ETOOBIG when out is too small. */
dm_err tg_session_path(const char *dir, const char *name, char *out, size_t n,
                       struct dm_error *err);

#endif
