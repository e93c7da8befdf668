/* session_string.c: Pyrogram, Telethon and GramJS string sessions. See session_string.h. */
#include "core/common.h"
#include "telegram/session_string.h"

#include "core/secret.h"

#include <arpa/inet.h>
#include <sodium.h>

#define NOT_STRING "This is not a Pyrogram, Telethon or GramJS string session"
#define DECODED_MAX 512 /* every format decodes to under 330 bytes */

/* Pyrogram's three layouts, by decoded length. */
#define PYRO_NEW 271   /* >BI?256sQ? */
#define PYRO_OLD32 263 /* >B?256sI? */
#define PYRO_OLD64 267 /* >B?256sQ? */
/* Telethon's: dc, packed IP, port, key. */
#define TELETHON_V4 263
#define TELETHON_V6 275
#define GRAMJS_FIXED 261 /* dc, address length, port, key: the address is the rest */

static uint64_t be_get(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static void be_put(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = n; i-- > 0; v >>= 8)
        p[i] = (unsigned char)v;
}

/* Decodes base64 text t (len chars, either alphabet, padding optional) into out. */
static bool b64_decode(const char *t, size_t len, unsigned char *out, size_t cap, size_t *n)
{
    while (len > 0 && t[len - 1] == '=')
        len--;
    bool url = memchr(t, '-', len) || memchr(t, '_', len);
    bool std = memchr(t, '+', len) || memchr(t, '/', len);
    if (url && std) return false;
    int variant =
        url ? sodium_base64_VARIANT_URLSAFE_NO_PADDING : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
    return sodium_base642bin(out, cap, t, len, NULL, n, NULL, variant) == 0;
}

static void pyrogram_unpack(const unsigned char *b, size_t n, struct tg_session *s)
{
    size_t at = 0;
    s->kind = TG_SESSION_PYROGRAM_STRING;
    s->dc_id = b[at++];
    if (n == PYRO_NEW) {
        uint64_t api = be_get(b + at, 4);
        s->api_id = api > INT_MAX ? -1 : (int)api; /* -1 fails tg_session_check */
        at += 4;
    }
    s->test_mode = b[at++] != 0;
    memcpy(s->auth_key, b + at, TG_AUTH_KEY_BYTES);
    at += TG_AUTH_KEY_BYTES;
    size_t idlen = n == PYRO_OLD32 ? 4 : 8;
    s->user_id = (int64_t)be_get(b + at, idlen); /* above 2^63 turns negative: refused */
    at += idlen;
    s->is_bot = b[at] != 0;
}

static bool host_char(unsigned char c)
{
    return ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || c == '.' ||
           c == ':' || c == '-';
}

/* GramJS when the length field matches the rest and the address reads as a host. */
static bool gramjs_unpack(const unsigned char *b, size_t n, struct tg_session *s)
{
    if (n <= GRAMJS_FIXED) return false;
    size_t alen = (size_t)be_get(b + 1, 2);
    if (alen == 0 || alen != n - GRAMJS_FIXED || alen >= sizeof s->server_address) return false;
    for (size_t i = 0; i < alen; i++)
        if (!host_char(b[3 + i])) return false;
    s->kind = TG_SESSION_GRAMJS_STRING;
    s->dc_id = b[0];
    memcpy(s->server_address, b + 3, alen);
    s->server_address[alen] = 0;
    s->port = (int)be_get(b + 3 + alen, 2);
    memcpy(s->auth_key, b + 5 + alen, TG_AUTH_KEY_BYTES);
    return true;
}

static bool telethon_unpack(const unsigned char *b, size_t n, struct tg_session *s)
{
    size_t iplen = n == TELETHON_V4 ? 4 : n == TELETHON_V6 ? 16 : 0;
    if (!iplen) return false;
    s->kind = TG_SESSION_TELETHON_STRING;
    s->dc_id = b[0];
    inet_ntop(iplen == 4 ? AF_INET : AF_INET6, b + 1, s->server_address, sizeof s->server_address);
    s->port = (int)be_get(b + 1 + iplen, 2);
    memcpy(s->auth_key, b + 3 + iplen, TG_AUTH_KEY_BYTES);
    return true;
}

dm_err tg_session_parse_string(const char *s, struct tg_session *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    char text[TG_SESSION_STRING_MAX + 1];
    size_t len = 0;
    for (const char *p = s; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') continue;
        if (len == TG_SESSION_STRING_MAX)
            return dm_fail(err, DM_EINVAL, NOT_STRING ": it is too long.");
        text[len++] = *p;
    }
    text[len] = 0;
    if (len == 0) return dm_fail(err, DM_EINVAL, "The session string is empty.");
    unsigned char bin[DECODED_MAX];
    size_t n = 0;
    bool found = false;
    /* Telethon and GramJS strings start with their version '1'; a Pyrogram string starts
     * with '1' only for a data centre id over 211, which is refused anyway. */
    bool tail = text[0] == '1' && b64_decode(text + 1, len - 1, bin, sizeof bin, &n);
    size_t tail_n = tail ? n : 0;
    if (tail) found = gramjs_unpack(bin, n, out) || telethon_unpack(bin, n, out);
    if (!found) {
        if (!b64_decode(text, len, bin, sizeof bin, &n)) {
            if (tail)
                dm_fail(err, DM_EINVAL,
                        NOT_STRING ": it decodes to %zu bytes, which no format has.", tail_n);
            else
                dm_fail(err, DM_EINVAL, NOT_STRING ": it is not base64 text.");
        } else if (n == PYRO_NEW || n == PYRO_OLD32 || n == PYRO_OLD64) {
            pyrogram_unpack(bin, n, out);
            found = true;
        } else {
            dm_fail(err, DM_EINVAL, NOT_STRING ": it decodes to %zu bytes, which no format has.",
                    n);
        }
    }
    secret_wipe(bin, sizeof bin);
    secret_wipe(text, sizeof text);
    if (!found) return DM_EINVAL;
    return tg_session_check(out, NOT_STRING, err);
}

dm_err tg_session_to_pyrogram_string(const struct tg_session *s, char *out, size_t n,
                                     struct dm_error *err)
{
    dm_err e = tg_session_check(s, "This session cannot be exported", err);
    if (e != DM_OK) return e;
    if (n < TG_PYROGRAM_STRING_SIZE)
        return dm_fail(err, DM_ETOOBIG, "the buffer for a session string is too small");
    unsigned char b[PYRO_NEW];
    size_t at = 0;
    b[at++] = (unsigned char)s->dc_id;
    be_put(b + at, (uint64_t)s->api_id, 4);
    at += 4;
    b[at++] = s->test_mode;
    memcpy(b + at, s->auth_key, TG_AUTH_KEY_BYTES);
    at += TG_AUTH_KEY_BYTES;
    be_put(b + at, (uint64_t)s->user_id, 8);
    at += 8;
    b[at] = s->is_bot;
    sodium_bin2base64(out, n, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    secret_wipe(b, sizeof b);
    return DM_OK;
}
