/* Unit tests for the pure parts of loading join requests: channel references and list cursors
 * (telegram/account.h), importer pages into requests (telegram/loader.h), and the load job's
 * params (jobs/load.h). How Telegram's errors are told apart is in
 * tests/unit/telegram/tg_error_test.c. */
#include "core/common.h"
#include "../check.h"
#include "jobs/load.h"
#include "telegram/loader.h"

static bool ref_is(const char *s, const char *username, int64_t id)
{
    struct account_ref r;
    struct dm_error err = {0};
    if (account_ref_parse(s, &r, &err) != DM_OK) {
        fprintf(stderr, "  %s: %s\n", s, err.msg);
        return false;
    }
    return strcmp(r.username, username) == 0 && r.channel_id == id;
}

/* Refused, with a message containing `part`. */
static bool ref_refused(const char *s, const char *part)
{
    struct account_ref r;
    struct dm_error err = {0};
    if (account_ref_parse(s, &r, &err) != DM_EINVAL) return false;
    if (!strstr(err.msg, part)) fprintf(stderr, "  %s: %s\n", s, err.msg);
    return strstr(err.msg, part) != NULL;
}

static void test_refs(void)
{
    CHECK(ref_is("@news", "news", 0));
    CHECK(ref_is("  @News_2024  ", "News_2024", 0));
    CHECK(ref_is("news", "news", 0));
    CHECK(ref_is("t.me/news", "news", 0));
    CHECK(ref_is("https://t.me/news", "news", 0));
    CHECK(ref_is("http://t.me/news/", "news", 0));
    CHECK(ref_is("HTTPS://WWW.T.ME/news", "news", 0));
    CHECK(ref_is("https://telegram.me/news", "news", 0));
    CHECK(ref_is("https://t.me/news/123", "news", 0)); /* a post link */
    CHECK(ref_is("https://t.me/news?start=x", "news", 0));
    CHECK(ref_is("https://t.me/s/news", "news", 0)); /* the web preview */
    CHECK(ref_is("-1001000001000", "", 1000001000));
    CHECK(ref_is("-1001234567890", "", 1234567890));
    CHECK(ref_is("-1000000000001", "", 1));
    CHECK(ref_is("-2099511627776", "", 1099511627776LL)); /* ids past 10^12 */

    CHECK(ref_refused("https://t.me/+AbCdEf123", "invite link"));
    CHECK(ref_refused("t.me/joinchat/AAAAAEk", "invite link"));
    CHECK(ref_refused("", "Enter the channel"));
    CHECK(ref_refused("   ", "Enter the channel"));
    CHECK(ref_refused("@", "not a channel address"));
    CHECK(ref_refused("@bad name", "not a channel address"));
    CHECK(ref_refused("@a/b", "not a channel address"));
    CHECK(ref_refused("@thisnameiswaytoolongforatelegramusername", "not a channel address"));
    CHECK(ref_refused("https://example.com/news", "not a channel address"));
    CHECK(ref_refused("https://t.me/", "not a channel"));
    CHECK(ref_refused("https://t.me/na-me", "not a channel link"));
    CHECK(ref_refused("-12345", "start with -100"));
    CHECK(ref_refused("1001234567890", "start with -100"));
    CHECK(ref_refused("-1000000000000", "start with -100"));
    CHECK(ref_refused("-100abc", "not a channel id"));
    CHECK(ref_refused("-99999999999999999999999", "not a channel id"));

    char longer[400];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    CHECK(ref_refused(longer, "too long"));

    CHECK(loader_chat_id(1000001000) == -1001000001000LL);
    CHECK(loader_chat_id(1234567890) == -1001234567890LL);
}

static json_t *page_json(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j) fprintf(stderr, "bad test JSON: %s\n", je.text);
    return j;
}

static void test_pages(void)
{
    json_t *ans = page_json(
        "{\"_\":\"messages.chatInviteImporters\",\"count\":2500,"
        "\"importers\":["
        "{\"_\":\"chatInviteImporter\",\"requested\":true,\"user_id\":7,\"date\":1700000100,"
        "\"about\":\"I like <b>it</b>\"},"
        "{\"_\":\"chatInviteImporter\",\"requested\":true,\"user_id\":8,\"date\":1700000050}],"
        "\"users\":["
        "{\"_\":\"user\",\"id\":8,\"access_hash\":-5,\"first_name\":\"Bo\"},"
        "{\"_\":\"user\",\"id\":7,\"access_hash\":42,\"first_name\":\"Ann\",\"last_name\":\"Lee\","
        "\"username\":\"ann\"}]}");
    struct account_page p;
    struct dm_error err = {0};
    CHECK(loader_page_from(ans, -1001000001000LL, 1800000000, &p, &err) == DM_OK);
    CHECK(p.count == 2500);
    CHECK(p.n == 2);
    if (p.n == 2) {
        const struct store_request *a = &p.rows[0], *b = &p.rows[1];
        CHECK(a->chat_id == -1001000001000LL && a->user_id == 7 && a->tg_date == 1700000100);
        CHECK(!strcmp(a->first_name, "Ann") && !strcmp(a->last_name, "Lee") &&
              !strcmp(a->username, "ann"));
        CHECK(!strcmp(a->bio, "I like <b>it</b>"));
        CHECK(a->status == REQ_PENDING && a->created_at == 1800000000 && a->decided_at == 0);
        CHECK(b->user_id == 8 && !strcmp(b->first_name, "Bo") && !b->last_name[0] &&
              !b->username[0] && !b->bio[0]);
        /* the next page starts after the last importer, with the access hash Telegram gave */
        CHECK(p.next.date == 1700000050 && p.next.user_id == 8 && p.next.user_hash == -5);
    }
    account_page_release(&p);
    json_decref(ans);

    /* an importer whose user is missing from the users vector keeps its id and date */
    ans = page_json("{\"_\":\"messages.chatInviteImporters\",\"count\":1,\"importers\":["
                    "{\"_\":\"chatInviteImporter\",\"user_id\":9,\"date\":5}],\"users\":[]}");
    CHECK(loader_page_from(ans, -1001, 1, &p, &err) == DM_OK && p.n == 1 &&
          p.rows[0].user_id == 9 && !p.rows[0].first_name[0] && p.next.user_id == 9 &&
          p.next.user_hash == 0);
    account_page_release(&p);
    json_decref(ans);

    /* an empty page */
    ans = page_json(
        "{\"_\":\"messages.chatInviteImporters\",\"count\":0,\"importers\":[],\"users\":[]}");
    CHECK(loader_page_from(ans, -1001, 1, &p, &err) == DM_OK && p.n == 0 && p.count == 0);
    account_page_release(&p);
    json_decref(ans);

    /* names longer than a field are cut, not overflowed */
    char big[2000];
    int w = snprintf(
        big, sizeof big,
        "{\"_\":\"messages.chatInviteImporters\",\"count\":1,\"importers\":["
        "{\"_\":\"chatInviteImporter\",\"user_id\":9,\"date\":5}],\"users\":[{\"_\":\"user\","
        "\"id\":9,\"first_name\":\"");
    for (int i = 0; i < 600; i++)
        big[w++] = 'x';
    snprintf(big + w, sizeof big - (size_t)w, "\"}]}");
    ans = page_json(big);
    CHECK(loader_page_from(ans, -1001, 1, &p, &err) == DM_OK && p.n == 1 &&
          strlen(p.rows[0].first_name) == STORE_TEXT_MAX - 1);
    account_page_release(&p);
    json_decref(ans);

    /* malformed answers are protocol errors and leave nothing allocated */
    static const char *const bad[] = {
        "{\"_\":\"messages.chats\",\"chats\":[]}",
        "{\"_\":\"messages.chatInviteImporters\",\"importers\":[],\"users\":[]}",
        "{\"_\":\"messages.chatInviteImporters\",\"count\":-1,\"importers\":[],\"users\":[]}",
        "{\"_\":\"messages.chatInviteImporters\",\"count\":1,\"importers\":{},\"users\":[]}",
        "{\"_\":\"messages.chatInviteImporters\",\"count\":1,\"importers\":[{\"_\":"
        "\"chatInviteImporter\",\"date\":5}],"
        "\"users\":[]}",
        "{\"_\":\"messages.chatInviteImporters\",\"count\":1,\"importers\":[{\"_\":\"user\",\"user_"
        "id\":1,\"date\":5}],"
        "\"users\":[]}",
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(bad); i++) {
        ans = page_json(bad[i]);
        CHECK(loader_page_from(ans, -1001, 1, &p, &err) == DM_EPROTO && p.rows == NULL && p.n == 0);
        json_decref(ans);
    }

    /* more than a page is refused */
    json_t *many = page_json(
        "{\"_\":\"messages.chatInviteImporters\",\"count\":101,\"importers\":[],\"users\":[]}");
    for (int i = 0; i < ACCOUNT_PAGE_MAX + 1; i++)
        json_array_append_new(
            json_object_get(many, "importers"),
            json_pack("{s:s,s:i,s:i}", "_", "chatInviteImporter", "user_id", i + 1, "date", 5));
    CHECK(loader_page_from(many, -1001, 1, &p, &err) == DM_EPROTO);
    json_decref(many);
}

static void test_cursor(void)
{
    struct account_cursor c = {.date = 1700000050,
                               .user_id = 8,
                               .user_hash = -6917529027641081856LL},
                          back;
    char text[256];
    struct dm_error err = {0};
    CHECK(account_cursor_format(&c, text, sizeof text) == DM_OK);
    CHECK(account_cursor_parse(text, &back, &err) == DM_OK);
    CHECK(back.date == c.date && back.user_id == c.user_id && back.user_hash == c.user_hash);
    CHECK(account_cursor_parse("", &back, &err) == DM_OK && back.date == 0 && back.user_id == 0);
    CHECK(account_cursor_parse("{\"date\":1}", &back, &err) == DM_EINVAL);
    CHECK(account_cursor_parse("not json", &back, &err) == DM_EINVAL);
    CHECK(account_cursor_format(&c, text, 10) == DM_ETOOBIG);
    /* the session whose access hash it is: kept when set; cursors made before have none */
    CHECK(strstr(text, "\"by\"") == NULL && back.by[0] == 0);
    dm_strlcpy(c.by, "night_shift", sizeof c.by);
    CHECK(account_cursor_format(&c, text, sizeof text) == DM_OK);
    CHECK(account_cursor_parse(text, &back, &err) == DM_OK && !strcmp(back.by, "night_shift"));
    CHECK(back.date == c.date && back.user_id == c.user_id && back.user_hash == c.user_hash);
    CHECK(account_cursor_parse("{\"date\":1,\"user\":2,\"hash\":3,\"by\":4}", &back, &err) ==
          DM_EINVAL);
}

static void test_params(void)
{
    struct load_params p = {.channel = {.id = 1428519000,
                                        .access_hash = -2565178978969462435LL,
                                        .title = "News \"quoted\" <b>",
                                        .username = "news"},
                            .limit = 1000},
                       back;
    char text[sizeof((struct store_job *)0)->params];
    struct dm_error err = {0};
    CHECK(load_params_format(&p, text, sizeof text, &err) == DM_OK);
    CHECK(load_params_parse(text, &back, &err) == DM_OK);
    CHECK(back.channel.id == p.channel.id && back.channel.access_hash == p.channel.access_hash);
    CHECK(!strcmp(back.channel.title, p.channel.title) && !strcmp(back.channel.username, "news"));
    CHECK(back.limit == 1000);
    p.limit = 0; /* all */
    CHECK(load_params_format(&p, text, sizeof text, &err) == DM_OK &&
          load_params_parse(text, &back, &err) == DM_OK && back.limit == 0);
    CHECK(load_params_format(&p, text, 20, &err) == DM_ETOOBIG);
    CHECK(load_params_parse("", &back, &err) == DM_EINVAL);
    CHECK(load_params_parse(
              "{\"channel_id\":0,\"access_hash\":1,\"title\":\"\",\"username\":\"\",\"limit\":1}",
              &back, &err) == DM_EINVAL);
    CHECK(load_params_parse(
              "{\"channel_id\":5,\"access_hash\":1,\"title\":\"\",\"username\":\"\",\"limit\":-1}",
              &back, &err) == DM_EINVAL);
    CHECK(load_params_parse(
              "{\"channel_id\":5,\"access_hash\":1,\"title\":\"t\",\"username\":\"\",\"limit\":0}",
              &back, &err) == DM_OK &&
          back.channel.id == 5 && back.channel.chat_id == 0 && back.by[0] == 0);
    /* a job of several sessions keeps the channel's Bot API id and whose access hash it holds */
    p.channel.chat_id = -1001428519000LL;
    dm_strlcpy(p.by, "day_shift", sizeof p.by);
    CHECK(load_params_format(&p, text, sizeof text, &err) == DM_OK &&
          load_params_parse(text, &back, &err) == DM_OK);
    CHECK(back.channel.chat_id == p.channel.chat_id && !strcmp(back.by, "day_shift"));
}

int main(void)
{
    test_refs();
    test_pages();
    test_cursor();
    test_params();
    printf("load: channel references, importer pages, cursors, job params\n");
    return CHECK_DONE();
}
