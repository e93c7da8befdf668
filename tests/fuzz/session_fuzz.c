/* libFuzzer target: session uploads and pasted string sessions, which come from whoever uses
 * the panel. The bytes are read as a .session file (SQLite image) and, as text, as a string
 * session; whatever is accepted must pass tg_session_check and export again; the channels a
 * file knows are read too.
 * fuzz-sources: src/telegram/session_file.c src/telegram/session_string.c src/core/err.c
 * src/core/secret.c fuzz-pkgs: sqlite3 libsodium */
#include "core/common.h"

#include "telegram/session_file.h"
#include "telegram/session_string.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void accepted(const struct tg_session *s)
{
    char str[TG_PYROGRAM_STRING_SIZE];
    struct tg_session back;
    if (tg_session_check(s, "fuzz", NULL) != DM_OK) abort();
    if (tg_session_to_pyrogram_string(s, str, sizeof str, NULL) != DM_OK) abort();
    if (tg_session_parse_string(str, &back, NULL) != DM_OK) abort();
    if (back.dc_id != s->dc_id || memcmp(back.auth_key, s->auth_key, TG_AUTH_KEY_BYTES) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tg_session s;
    struct dm_error e;
    dm_err rc = tg_session_read_bytes(data, size, &s, &e);
    if (rc == DM_OK)
        accepted(&s);
    else if (rc != DM_EINVAL && rc != DM_ETOOBIG)
        abort();
    /* the channels the file knows: ids of channels only, never more than the cap */
    struct tg_peer *peers = NULL;
    size_t npeers = 0;
    rc = tg_session_read_peers(data, size, &peers, &npeers, &e);
    if (rc != DM_OK && rc != DM_EINVAL && rc != DM_ETOOBIG) abort();
    if (npeers > TG_SESSION_PEERS_MAX || (npeers && !peers)) abort();
    for (size_t i = 0; i < npeers; i++)
        if (peers[i].channel_id <= 0) abort();
    free(peers);
    if (size <= TG_SESSION_STRING_MAX + 16) {
        char text[TG_SESSION_STRING_MAX + 17];
        memcpy(text, data, size);
        text[size] = 0;
        rc = tg_session_parse_string(text, &s, &e);
        if (rc == DM_OK)
            accepted(&s);
        else if (rc != DM_EINVAL)
            abort();
    }
    return 0;
}
