/* tg_error_test: Telegram's errors, from MTProto and from the Bot API, classified into one
 * value (telegram/tg_error.h): the kind the API and the runner act on, the name, the wait and
 * the sentence for the admin. */
#include "core/common.h"

#include "../check.h"
#include "botapi/client.h"
#include "mtproto/client.h"
#include "telegram/account.h"
#include "telegram/tg_error.h"

static struct tg_error rpc(const char *message, int32_t code)
{
    struct mt_rpc_error r;
    mt_rpc_error_parse(&r, code, message);
    struct tg_error te;
    dm_err e = tg_error_mtproto(&te, DM_ETELEGRAM, &r, NULL);
    CHECK(e == te.e.code && strcmp(te.name, message) == 0 && te.e.msg[0]);
    return te;
}

static struct tg_error bot(long http, const char *body)
{
    struct botapi_reply r;
    CHECK(botapi_reply_parse(http, body, strlen(body), &r, NULL) == DM_OK);
    struct tg_error te;
    dm_err e = tg_error_botapi(&te, DM_OK, &r, NULL);
    CHECK(e == te.e.code);
    botapi_reply_release(&r);
    return te;
}

/* The Session Manager guide's situations and messages (docs/api.md "Sessions"). */
static void test_mtproto(void)
{
    static const struct {
        const char *rpc;
        enum tg_kind kind;
        dm_err code;
        const char *msg;
    } cases[] = {
        {"FLOOD_WAIT_31", TG_FLOOD, DM_ERATELIMIT, "Flood wait: please wait 31 seconds"},
        {"FLOOD_PREMIUM_WAIT_5", TG_FLOOD, DM_ERATELIMIT, "Flood wait: please wait 5 seconds"},
        {"PHONE_CODE_INVALID", TG_BAD_CODE, DM_EINVAL, "Invalid verification code"},
        {"PHONE_CODE_EMPTY", TG_BAD_CODE, DM_EINVAL, TG_CODE_EMPTY_MSG},
        {"PHONE_CODE_EXPIRED", TG_CODE_EXPIRED, DM_EINVAL,
         "Verification code expired. Please start over."},
        {"PASSWORD_HASH_INVALID", TG_BAD_PASSWORD, DM_EINVAL, "Invalid 2FA password"},
        {"AUTH_KEY_UNREGISTERED", TG_DEAD, DM_EAUTH, "Session is invalid"},
        {"SESSION_REVOKED", TG_DEAD, DM_EAUTH, "Session is invalid"},
        {"USER_DEACTIVATED_BAN", TG_DEAD, DM_EAUTH, "Session is invalid"},
        {"AUTH_KEY_DUPLICATED", TG_DEAD, DM_EAUTH, "Session is invalid"},
        {"CHAT_ADMIN_REQUIRED", TG_NO_RIGHT, DM_EFORBIDDEN,
         "You don't have permission to view join requests"},
        {"USER_NOT_PARTICIPANT", TG_NO_RIGHT, DM_EFORBIDDEN,
         "You don't have permission to view join requests"},
        {"CHANNEL_PRIVATE", TG_NO_RIGHT, DM_EFORBIDDEN,
         "You don't have permission to view join requests"},
        {"CHANNEL_INVALID", TG_NOT_FOUND, DM_ENOTFOUND,
         "Channel not found: use its @username or t.me link"},
        {"PHONE_NUMBER_INVALID", TG_INPUT, DM_EINVAL, NULL},
        {"PHONE_NUMBER_BANNED", TG_INPUT, DM_EINVAL, NULL},
        {"PHONE_NUMBER_UNOCCUPIED", TG_INPUT, DM_EINVAL, TG_SIGN_UP_FIRST_MSG},
        {"SEND_CODE_UNAVAILABLE", TG_INPUT, DM_EINVAL, NULL},
        {"API_ID_INVALID", TG_INPUT, DM_EINVAL, NULL},
        {"HIDE_REQUESTER_MISSING", TG_ALREADY, DM_ETELEGRAM, "HIDE_REQUESTER_MISSING"},
        {"USER_ALREADY_PARTICIPANT", TG_ALREADY, DM_ETELEGRAM, "USER_ALREADY_PARTICIPANT"},
        {"USER_ID_INVALID", TG_REFUSED, DM_ETELEGRAM, "Telegram answered USER_ID_INVALID"},
        {"SOMETHING_NEW", TG_REFUSED, DM_ETELEGRAM, "Telegram answered SOMETHING_NEW"},
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(cases); i++) {
        struct tg_error te = rpc(cases[i].rpc, 400);
        bool ok = te.kind == cases[i].kind && te.e.code == cases[i].code &&
                  (!cases[i].msg || strcmp(te.e.msg, cases[i].msg) == 0);
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  %s -> %s %s \"%s\"\n", cases[i].rpc, tg_kind_name(te.kind),
                    dm_errname(te.e.code), te.e.msg);
    }
    struct tg_error te = rpc("FLOOD_WAIT_17", 420);
    CHECK(te.retry_after == 17);
    CHECK(rpc("FLOOD_PREMIUM_WAIT_3", 420).retry_after == 3);
    CHECK(rpc("FLOOD_WAIT_0", 420).retry_after == 1); /* never a zero pause */
    CHECK(strstr(rpc("BOT_METHOD_INVALID", 400).e.msg, "user session"));

    /* names doorman gives no meaning to: the generated error table's code, else the server's */
    te = rpc("SLOWMODE_WAIT_5", 400);
    CHECK(te.kind == TG_FLOOD && te.retry_after == 5); /* 420 in the table */
    te = rpc("RPC_CALL_FAIL", 400);                    /* 500 in the table */
    CHECK(te.kind == TG_UNREACHABLE && te.e.code == DM_ETELEGRAM);
    te = rpc("INTERNAL_SERVER_ERROR", 500); /* not in the table: the code sent */
    CHECK(te.kind == TG_UNREACHABLE &&
          strcmp(te.e.msg, "Telegram answered INTERNAL_SERVER_ERROR") == 0);

    /* no answer, or a key the server does not know */
    struct dm_error err;
    dm_fail(&err, DM_ETIMEOUT, "no answer from DC 2 in 20 s");
    CHECK(tg_error_mtproto(&te, DM_ETIMEOUT, NULL, &err) == DM_ETIMEOUT &&
          te.kind == TG_UNREACHABLE && strcmp(te.e.msg, err.msg) == 0 && !te.name[0]);
    CHECK(tg_error_mtproto(&te, DM_EAUTH, NULL, NULL) == DM_EAUTH && te.kind == TG_DEAD &&
          strcmp(te.e.msg, "Session is invalid") == 0);
    dm_fail(&err, DM_EIO, "The file of session 'x' cannot be read");
    CHECK(tg_error_mtproto(&te, DM_EIO, NULL, &err) == DM_EIO && te.kind == TG_LOCAL &&
          strcmp(te.e.msg, err.msg) == 0);
    CHECK(tg_error_mtproto(&te, DM_OK, NULL, NULL) == DM_OK && te.kind == TG_OK);

    /* the guide's own situations */
    CHECK(tg_error_set(&te, TG_LOGIN_GONE, 0) == DM_ENOTFOUND &&
          strcmp(te.e.msg, "Session not found. Please start over.") == 0);
    CHECK(tg_error_set(&te, TG_FLOOD, 0) == DM_ERATELIMIT && te.retry_after == 1);
    printf("ok mtproto: Telegram's errors become the guide's kinds and messages\n");
}

static void test_botapi(void)
{
    struct tg_error te = bot(200, "{\"ok\":true,\"result\":true}");
    CHECK(te.kind == TG_OK);

    te = bot(400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: "
                  "HIDE_REQUESTER_MISSING\"}");
    CHECK(te.kind == TG_ALREADY && !tg_error_joined(&te) &&
          strcmp(te.e.msg, "Bad Request: HIDE_REQUESTER_MISSING") == 0 &&
          strcmp(te.name, "HIDE_REQUESTER_MISSING") == 0);
    te = bot(400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: "
                  "USER_ALREADY_PARTICIPANT\"}");
    CHECK(te.kind == TG_ALREADY && tg_error_joined(&te));

    te = bot(429, "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry "
                  "after 7\",\"parameters\":{\"retry_after\":7}}");
    CHECK(te.kind == TG_FLOOD && te.retry_after == 7);
    te = bot(429, "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests\"}");
    CHECK(te.kind == TG_FLOOD && te.retry_after == 1); /* never a zero pause */

    te = bot(401, "{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}");
    CHECK(te.kind == TG_DEAD && strstr(te.e.msg, "Settings"));

    te = bot(502, "{\"ok\":false,\"error_code\":502,\"description\":\"Bad Gateway\"}");
    CHECK(te.kind == TG_UNREACHABLE && strcmp(te.e.msg, "Bad Gateway") == 0);

    te = bot(400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: "
                  "CHAT_ADMIN_REQUIRED\"}");
    CHECK(te.kind == TG_NO_RIGHT && strcmp(te.e.msg, "Bad Request: CHAT_ADMIN_REQUIRED") == 0);
    te = bot(403, "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot was "
                  "kicked from the channel chat\"}");
    CHECK(te.kind == TG_REFUSED && !te.name[0]);
    /* the ban methods say a missing right in words */
    te = bot(400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: not enough "
                  "rights to restrict/unrestrict chat member\"}");
    CHECK(te.kind == TG_NO_RIGHT && !te.name[0] && strstr(te.e.msg, "not enough rights"));
    te = bot(400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: user is an "
                  "administrator of the chat\"}");
    CHECK(te.kind == TG_REFUSED);
    te = bot(400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not "
                  "found\"}");
    CHECK(te.kind == TG_REFUSED && !te.name[0]);

    struct dm_error err;
    dm_fail(&err, DM_ENETWORK, "could not reach the Bot API");
    CHECK(tg_error_botapi(&te, DM_ENETWORK, NULL, &err) == DM_ENETWORK &&
          te.kind == TG_UNREACHABLE && strcmp(te.e.msg, "could not reach the Bot API") == 0);
    CHECK(tg_error_botapi(&te, DM_EPROTO, NULL, NULL) == DM_EPROTO && te.kind == TG_UNREACHABLE &&
          strcmp(te.e.msg, "protocol error") == 0); /* a proxy's page, not the Bot API's */
    printf("ok botapi: the Bot API's answers become the same kinds\n");
}

static void test_no_right(void)
{
    struct tg_error te = rpc("CHAT_ADMIN_REQUIRED", 400);
    account_no_right(-1, "News", &te);
    CHECK(te.kind == TG_NO_RIGHT &&
          strcmp(te.e.msg, "This account is not an admin with the invite-users right in News") ==
              0);
    struct tg_error a = {0}, b = {0};
    account_no_right(ACCOUNT_NOT_ADMIN, "News", &a);
    account_no_right(ACCOUNT_ADMIN_NO_INVITE, "News", &b);
    CHECK(strstr(a.e.msg, "not an admin of News") &&
          strstr(b.e.msg, "without the invite-users right") && strcmp(a.e.msg, b.e.msg) != 0);
    account_no_right(-1, "", &te);
    CHECK(strstr(te.e.msg, "in this channel"));
}

int main(void)
{
    test_mtproto();
    test_botapi();
    test_no_right();
    return CHECK_DONE();
}
