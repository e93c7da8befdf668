/* tg_error.c: Telegram's errors classified, in one place (tg_error.h). */
#include "core/common.h"
#include "telegram/tg_error.h"

#include "botapi/client.h"
#include "mtproto/client.h"
#include "mtproto/tl_codec.h"

static const struct {
    const char *name;
    dm_err code;
    const char *msg;
} kinds[] = {
#define TG_KIND_ROW(kind, c, m) [TG_##kind] = {#kind, c, m},
    TG_KIND_MAP(TG_KIND_ROW)
#undef TG_KIND_ROW
};

const char *tg_kind_name(enum tg_kind kind)
{
    return (unsigned)kind < TG_KIND_COUNT ? kinds[kind].name : "?";
}

/* The names of Telegram's errors doorman gives a meaning to, matched without a trailing number
 * (mt_rpc_error.name). msg: a sentence saying what to do, instead of the kind's. */
static const struct {
    const char *name;
    enum tg_kind kind;
    const char *msg;
} meanings[] = {
    {"FLOOD_WAIT", TG_FLOOD, NULL},
    {"FLOOD_PREMIUM_WAIT", TG_FLOOD, NULL},
    {"HIDE_REQUESTER_MISSING", TG_ALREADY, NULL},
    {"USER_ALREADY_PARTICIPANT", TG_ALREADY, NULL},
    {"AUTH_KEY_UNREGISTERED", TG_DEAD, NULL},
    {"AUTH_KEY_INVALID", TG_DEAD, NULL},
    {"AUTH_KEY_PERM_EMPTY", TG_DEAD, NULL},
    {"AUTH_KEY_DUPLICATED", TG_DEAD, NULL},
    {"SESSION_REVOKED", TG_DEAD, NULL},
    {"SESSION_EXPIRED", TG_DEAD, NULL},
    {"USER_DEACTIVATED", TG_DEAD, NULL},
    {"USER_DEACTIVATED_BAN", TG_DEAD, NULL},
    {"CHAT_ADMIN_REQUIRED", TG_NO_RIGHT, NULL},
    {"CHANNEL_PRIVATE", TG_NO_RIGHT, NULL},
    {"RIGHT_FORBIDDEN", TG_NO_RIGHT, NULL},
    {"USER_NOT_PARTICIPANT", TG_NO_RIGHT, NULL},
    {"CHANNEL_INVALID", TG_NOT_FOUND, NULL},
    {"CHAT_ID_INVALID", TG_NOT_FOUND, NULL},
    {"PEER_ID_INVALID", TG_NOT_FOUND, NULL},
    {"USERNAME_NOT_OCCUPIED", TG_NOT_FOUND, NULL},
    {"USERNAME_INVALID", TG_NOT_FOUND, NULL},
    {"CHANNEL_PUBLIC_GROUP_NA", TG_NOT_FOUND, NULL},
    {"PHONE_CODE_INVALID", TG_BAD_CODE, NULL},
    {"PHONE_CODE_EMPTY", TG_BAD_CODE, TG_CODE_EMPTY_MSG},
    {"PHONE_CODE_EXPIRED", TG_CODE_EXPIRED, NULL},
    {"PHONE_CODE_HASH_INVALID", TG_CODE_EXPIRED, NULL},
    {"PASSWORD_HASH_INVALID", TG_BAD_PASSWORD, NULL},
    {"SRP_PASSWORD_CHANGED", TG_BAD_PASSWORD, NULL},
    {"PHONE_NUMBER_INVALID", TG_INPUT,
     "Telegram says the phone number is invalid: give it with the country code, e.g. "
     "+1234567890"},
    {"PHONE_NUMBER_BANNED", TG_INPUT,
     "Telegram has banned this phone number: it cannot sign in, here or in any app. Use another "
     "account (the owner can appeal in the Telegram app)."},
    {"PHONE_NUMBER_UNOCCUPIED", TG_INPUT, TG_SIGN_UP_FIRST_MSG},
    {"SEND_CODE_UNAVAILABLE", TG_INPUT,
     "Telegram has no other way left to send the code to this number: use the code already "
     "sent, or start over later."},
    {"API_ID_INVALID", TG_INPUT,
     "Telegram rejected the API ID and API hash: copy them again from my.telegram.org"},
    {"API_ID_PUBLISHED_FLOOD", TG_INPUT,
     "Telegram rejected the API ID and API hash: copy them again from my.telegram.org"},
    {"ACCESS_TOKEN_INVALID", TG_INPUT,
     "Telegram rejected the bot token: copy it again from @BotFather"},
    {"ACCESS_TOKEN_EXPIRED", TG_INPUT,
     "Telegram rejected the bot token: copy it again from @BotFather"},
    {"BOT_METHOD_INVALID", TG_REFUSED,
     "A bot session cannot list join requests: use a user session."},
};

/* Bot API descriptions that say in words what an error name says elsewhere (matched after
 * "Bad Request: "). */
static const struct {
    const char *words;
    enum tg_kind kind;
} worded[] = {
    {"not enough rights to restrict/unrestrict chat member", TG_NO_RIGHT},
};

#define BOT_TOKEN_REJECTED "Telegram rejected the bot token: set it again in Settings"

dm_err tg_error_set(struct tg_error *te, enum tg_kind kind, int64_t retry_after)
{
    dm_err code = kinds[kind].code;
    if (!te) return code;
    memset(te, 0, sizeof *te);
    te->kind = kind;
    te->e.code = code;
    dm_strlcpy(te->e.msg, kinds[kind].msg, sizeof te->e.msg);
    if (kind == TG_FLOOD) {
        te->retry_after = DM_MAX(retry_after, 1);
        snprintf(te->e.msg, sizeof te->e.msg, "Flood wait: please wait %lld seconds",
                 (long long)te->retry_after);
    }
    return code;
}

void tg_error_say(struct tg_error *te, const char *fmt, ...)
{
    if (!te) return;
    va_list ap;
    va_start(ap, fmt);
    char msg[sizeof te->e.msg + 64];
    dm_vsnprintf_utf8(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dm_strlcpy(te->e.msg, msg, sizeof te->e.msg); /* cut at a character */
}

dm_err tg_error_local(struct tg_error *te, dm_err code, const char *fmt, ...)
{
    if (!te) return code;
    memset(te, 0, sizeof *te);
    te->kind = TG_LOCAL;
    te->e.code = code;
    va_list ap;
    va_start(ap, fmt);
    dm_vsnprintf_utf8(te->e.msg, sizeof te->e.msg, fmt, ap);
    va_end(ap);
    return code;
}

/* A failure without an answer from Telegram. */
static dm_err no_answer(struct tg_error *te, dm_err e, bool reachable_if_garbled,
                        const struct dm_error *err)
{
    bool later = e == DM_ETIMEOUT || e == DM_ENETWORK || e == DM_EUNAVAILABLE ||
                 (reachable_if_garbled && e == DM_EPROTO);
    tg_error_local(te, e, "%s", err && err->msg[0] ? err->msg : dm_strerror(e));
    if (te && later) te->kind = TG_UNREACHABLE;
    return e;
}

/* The kind of the rpc_error `rpc` (the same names for MTProto and the Bot API); *msg gets the
 * sentence of the meanings table, or NULL. */
static enum tg_kind classify(const struct mt_rpc_error *rpc, const char **msg)
{
    *msg = NULL;
    for (size_t i = 0; i < DM_ARRAY_LEN(meanings); i++)
        if (mt_rpc_error_is(rpc, meanings[i].name)) {
            *msg = meanings[i].msg;
            return meanings[i].kind;
        }
    const struct tl_error_def *def = tl_error_find(rpc->message);
    int code = def ? def->code : rpc->code;
    if (code == 420) return TG_FLOOD;
    if (code >= 500 || code == -503) return TG_UNREACHABLE;
    return TG_REFUSED;
}

dm_err tg_error_mtproto(struct tg_error *te, dm_err e, const struct mt_rpc_error *rpc,
                        const struct dm_error *err)
{
    if (!e) return tg_error_set(te, TG_OK, 0);
    if (e == DM_EAUTH) return tg_error_set(te, TG_DEAD, 0);
    if (e != DM_ETELEGRAM || !rpc) return no_answer(te, e, false, err);
    const char *msg;
    enum tg_kind kind = classify(rpc, &msg);
    dm_err code = tg_error_set(te, kind, rpc->value);
    if (kind == TG_UNREACHABLE) code = DM_ETELEGRAM; /* an answer, if not the one wanted */
    if (!te) return code;
    te->e.code = code;
    dm_strlcpy(te->name, rpc->message, sizeof te->name);
    if (msg)
        dm_strlcpy(te->e.msg, msg, sizeof te->e.msg);
    else if (kind == TG_ALREADY)
        dm_strlcpy(te->e.msg, rpc->message, sizeof te->e.msg);
    else if (kind == TG_REFUSED || kind == TG_UNREACHABLE)
        tg_error_say(te, "Telegram answered %s", rpc->message);
    return code;
}

bool tg_error_joined(const struct tg_error *te)
{
    return te->kind == TG_ALREADY && strcmp(te->name, "USER_ALREADY_PARTICIPANT") == 0;
}

/* The error name a Bot API description ends with ("Bad Request: USER_ALREADY_PARTICIPANT"), or
 * "" when it ends with words. */
static void description_name(const char *description, char *out, size_t n)
{
    const char *colon = strrchr(description, ':');
    const char *s = colon ? colon + 1 : description;
    while (*s == ' ')
        s++;
    size_t len = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    if (len < 3 || s[len] || len >= n) len = 0;
    memcpy(out, s, len);
    out[len] = 0;
}

dm_err tg_error_botapi(struct tg_error *te, dm_err e, const struct botapi_reply *rep,
                       const struct dm_error *err)
{
    if (e) return no_answer(te, e, true, err);
    if (rep->ok) return tg_error_set(te, TG_OK, 0);
    int status = rep->error_code ? rep->error_code : (int)rep->http_status;
    struct mt_rpc_error rpc;
    char name[sizeof rpc.message];
    description_name(rep->description, name, sizeof name);
    mt_rpc_error_parse(&rpc, status, name);
    const char *msg;
    enum tg_kind kind = name[0] ? classify(&rpc, &msg) : TG_REFUSED;
    const char *words = strstr(rep->description, ": ");
    for (size_t i = 0; !name[0] && words && i < DM_ARRAY_LEN(worded); i++)
        if (strcmp(words + 2, worded[i].words) == 0) kind = worded[i].kind;
    if (kind == TG_REFUSED) /* the status says more than an unknown name */
        kind = status == 429                   ? TG_FLOOD
               : status == 401                 ? TG_DEAD
               : status >= 500 || status < 400 ? TG_UNREACHABLE
                                               : TG_REFUSED;
    dm_err code = tg_error_set(te, kind, rep->retry_after);
    if (!te) return code;
    dm_strlcpy(te->name, name, sizeof te->name);
    dm_strlcpy(te->e.msg, kind == TG_DEAD ? BOT_TOKEN_REJECTED : rep->description,
               sizeof te->e.msg);
    return code;
}
