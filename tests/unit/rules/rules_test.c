/* rules_test: the rule engine (src/rules/): each condition and action, negation, first match
 * wins, scripts, folding, lists, waves and earlier declines from the arrival-order history,
 * a hostile regular expression bounded, bad specs refused naming the field. */
#include "core/common.h"
#include "rules/history.h"
#include "rules/list.h"
#include "rules/rules.h"

#include "../check.h"

static struct rules_scratch *X;

static struct rules_request person(const char *first, const char *last)
{
    return (struct rules_request){.id = 1,
                                  .chat_id = -1001,
                                  .user_id = 5000,
                                  .tg_date = 1000,
                                  .first_name = first,
                                  .last_name = last,
                                  .username = "",
                                  .bio = "",
                                  .invite_link = "",
                                  .language_code = ""};
}

static dm_err lists(void *ctx, const char *name, struct rules_list *l, struct dm_error *err)
{
    (void)ctx;
    if (strcmp(name, "vip") != 0) return dm_fail(err, DM_ENOTFOUND, "no list called %s", name);
    rules_list_add(l, "42");
    rules_list_add(l, "@Ann_Lee");
    rules_list_add(l, " bob_smith ");
    rules_list_add(l, "not valid!");
    return DM_OK;
}

/* A set of one rule from JSON text; NULL (with the message printed) when it does not compile. */
static struct rules_set *one(const char *json)
{
    json_error_t je;
    json_t *spec = json_loads(json, 0, &je);
    struct rules_set *s = rules_set_new();
    struct dm_error err = {0};
    if (!spec || rules_set_add(s, 7, "r", spec, "rule", lists, NULL, &err)) {
        fprintf(stderr, "  %s: %s%s\n", json, spec ? "" : je.text, err.msg);
        rules_set_free(s);
        s = NULL;
    }
    json_decref(spec);
    return s;
}

/* The action r gets from the rule (-1: no match), or -2 when the rule does not compile. */
static int verdict_ctx(const char *json, const struct rules_request *r,
                       const struct rules_context *ctx)
{
    struct rules_set *s = one(json);
    if (!s) return -2;
    struct rules_verdict v;
    int a = rules_eval(s, r, ctx, X, &v) ? -3 : v.action;
    rules_set_free(s);
    return a;
}

static int verdict(const char *json, const struct rules_request *r)
{
    return verdict_ctx(json, r, NULL);
}

/* The message of a spec that must not compile ("" when it compiled). */
static const char *refusal(const char *json)
{
    static struct dm_error err;
    memset(&err, 0, sizeof err);
    json_t *spec = json_loads(json, 0, NULL);
    struct rules_set *s = rules_set_new();
    dm_err e = rules_set_add(s, 1, "", spec, "rules[3]", lists, NULL, &err);
    rules_set_free(s);
    json_decref(spec);
    return e == DM_EINVAL ? err.msg : "";
}

#define COND(c, action) "{\"conditions\":[" c "],\"action\":\"" action "\"}"

static void test_actions(void)
{
    struct rules_request r = person("Ann", "");
    CHECK(verdict(COND("", "approve"), &r) == RULE_APPROVE);
    CHECK(verdict(COND("", "decline"), &r) == RULE_DECLINE);
    CHECK(verdict(COND("", "decline_and_ban"), &r) == RULE_DECLINE_AND_BAN);
    CHECK(verdict(COND("", "hold"), &r) == RULE_HOLD);
    CHECK(verdict("{\"action\":\"approve_after\",\"delay_seconds\":60}", &r) == RULE_APPROVE_AFTER);
    struct rules_set *s = one("{\"action\":\"approve_after\",\"delay_seconds\":3600}");
    struct rules_verdict v;
    CHECK(s && !rules_eval(s, &r, NULL, X, &v) && v.delay_seconds == 3600 && v.rule_id == 7 &&
          strcmp(v.rule_name, "r") == 0 && v.index == 0);
    rules_set_free(s);
    CHECK(strcmp(rule_action_name(RULE_DECLINE_AND_BAN), "decline_and_ban") == 0);
}

static void test_flags(void)
{
    struct rules_request r = person("Ann", "");
    CHECK(verdict(COND("{\"type\":\"has_username\"}", "approve"), &r) == -1);
    CHECK(verdict(COND("{\"type\":\"has_username\",\"negate\":true}", "approve"), &r) == 0);
    r.username = "ann";
    CHECK(verdict(COND("{\"type\":\"has_username\"}", "approve"), &r) == 0);
    CHECK(verdict(COND("{\"type\":\"is_premium\"}", "hold"), &r) == -1);
    r.is_premium = true;
    CHECK(verdict(COND("{\"type\":\"is_premium\"}", "hold"), &r) == RULE_HOLD);
    CHECK(verdict(COND("{\"type\":\"is_scam\"}", "decline"), &r) == -1);
    r.is_scam = true;
    CHECK(verdict(COND("{\"type\":\"is_scam\"}", "decline"), &r) == RULE_DECLINE);
    r.is_fake = true;
    CHECK(verdict(COND("{\"type\":\"is_fake\"}", "decline"), &r) == RULE_DECLINE);
    /* all conditions must hold */
    CHECK(verdict(
              COND("{\"type\":\"is_premium\"},{\"type\":\"has_username\",\"negate\":true}", "hold"),
              &r) == -1);
}

static void test_language(void)
{
    struct rules_request r = person("Ann", "");
    const char *rule = COND("{\"type\":\"language_code\",\"in\":[\"RU\",\"uk\"]}", "hold");
    CHECK(verdict(rule, &r) == -1); /* none sent */
    r.language_code = "ru";
    CHECK(verdict(rule, &r) == RULE_HOLD);
    r.language_code = "uk-UA";
    CHECK(verdict(rule, &r) == RULE_HOLD);
    r.language_code = "ukr";
    CHECK(verdict(rule, &r) == -1);
    r.language_code = "en";
    CHECK(verdict(rule, &r) == -1);
    CHECK(verdict(COND("{\"type\":\"language_code\",\"in\":[\"ru\"],\"negate\":true}", "hold"),
                  &r) == RULE_HOLD);
}

static void test_words_and_regex(void)
{
    struct rules_request r = person("FREE Ｃａｓｉｎｏ", "STRASSE");
    CHECK(verdict(COND("{\"type\":\"name_matches\",\"words\":[\"casino\"]}", "decline"), &r) ==
          RULE_DECLINE); /* fullwidth and case folded */
    CHECK(verdict(COND("{\"type\":\"name_matches\",\"words\":[\"straße\"]}", "decline"), &r) ==
          RULE_DECLINE);
    CHECK(verdict(COND("{\"type\":\"name_matches\",\"words\":[\"poker\"]}", "decline"), &r) == -1);
    CHECK(verdict(COND("{\"type\":\"bio_matches\",\"words\":[\"casino\"]}", "decline"), &r) == -1);
    r.bio = "ΣΟΦΟΣ ставки здесь";
    CHECK(verdict(COND("{\"type\":\"bio_matches\",\"words\":[\"СТАВКИ\"]}", "decline"), &r) ==
          RULE_DECLINE);
    CHECK(verdict(COND("{\"type\":\"bio_matches\",\"words\":[\"σοφος\"]}", "decline"), &r) ==
          RULE_DECLINE);
    /* regular expressions: caseless, Unicode-aware, over first + " " + last */
    CHECK(verdict(COND("{\"type\":\"name_matches\",\"regex\":\"^free\\\\s\"}", "decline"), &r) ==
          RULE_DECLINE);
    CHECK(verdict(COND("{\"type\":\"name_matches\",\"regex\":\"casino strasse$\"}", "decline"),
                  &r) == -1); /* fullwidth letters are not folded for a regex */
    CHECK(
        verdict(COND("{\"type\":\"name_matches\",\"regex\":\"ｃａｓｉｎｏ STRASSE$\"}", "decline"),
                &r) == RULE_DECLINE);
    CHECK(verdict(COND("{\"type\":\"bio_matches\",\"regex\":\"\\\\bСТАВКИ\\\\b\"}", "decline"),
                  &r) == RULE_DECLINE);
    CHECK(
        verdict(COND("{\"type\":\"bio_matches\",\"regex\":\"\\\\w+\",\"negate\":true}", "decline"),
                &r) == -1);
}

static void test_hostile_regex(void)
{
    /* catastrophic backtracking on a 64-character name: the match limit ends it as no match */
    char name[65];
    memset(name, 'a', 63);
    name[63] = '!';
    name[64] = 0;
    struct rules_request r = person(name, "");
    CHECK(verdict(COND("{\"type\":\"name_matches\",\"regex\":\"^(a+)+$\"}", "decline"), &r) == -1);
    CHECK(verdict(COND("{\"type\":\"name_matches\",\"regex\":\"^(\\\\w+\\\\s?)*$\"}", "decline"),
                  &r) == -1);
    CHECK(verdict(COND("{\"type\":\"name_matches\",\"regex\":\"(a|aa)+$\"}", "decline"), &r) == -1);
    /* and a rule after it still decides */
    json_t *a =
        json_loads(COND("{\"type\":\"name_matches\",\"regex\":\"^(a+)+$\"}", "decline"), 0, NULL);
    json_t *b = json_loads(COND("", "hold"), 0, NULL);
    struct rules_set *s = rules_set_new();
    struct dm_error err = {0};
    CHECK(!rules_set_add(s, 1, "a", a, "a", NULL, NULL, &err));
    CHECK(!rules_set_add(s, 2, "b", b, "b", NULL, NULL, &err));
    struct rules_verdict v;
    CHECK(!rules_eval(s, &r, NULL, X, &v) && v.action == RULE_HOLD && v.rule_id == 2);
    rules_set_free(s);
    json_decref(a);
    json_decref(b);
}

static void test_scripts(void)
{
    static const struct {
        const char *script, *name;
    } cases[] = {
        {"Han", "张伟"},    {"Arabic", "محمد"},     {"Cyrillic", "Иван"},   {"Latin", "Jean"},
        {"Greek", "Σοφία"}, {"Hebrew", "דוד"},      {"Devanagari", "राज"},  {"Thai", "สมชาย"},
        {"Hangul", "민준"}, {"Hiragana", "さくら"}, {"Katakana", "サクラ"},
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(cases); i++) {
        for (size_t j = 0; j < DM_ARRAY_LEN(cases); j++) {
            char rule[128];
            snprintf(rule, sizeof rule,
                     COND("{\"type\":\"name_script\",\"script\":\"%s\"}", "decline"),
                     cases[i].script);
            struct rules_request r = person("", cases[j].name);
            int v = verdict(rule, &r);
            if ((v == RULE_DECLINE) != (i == j))
                fprintf(stderr, "  script %s, name %s: %d\n", cases[i].script, cases[j].name, v);
            CHECK((v == RULE_DECLINE) == (i == j));
        }
    }
    struct rules_request mixed = person("Ivan Иван", "");
    CHECK(verdict(COND("{\"type\":\"name_script\",\"script\":\"Latin\"}", "decline"), &mixed) ==
          RULE_DECLINE);
    CHECK(verdict(COND("{\"type\":\"name_script\",\"script\":\"Cyrillic\"}", "decline"), &mixed) ==
          RULE_DECLINE);
}

static void test_bio_links_mentions(void)
{
    static const struct {
        const char *bio;
        bool link, mention;
    } cases[] = {
        {"", false, false},
        {"just a person", false, false},
        {"see https://example.org/x", true, false},
        {"see http://x.y", true, false},
        {"join t.me/joinchat/abc", true, false},
        {"WWW.Casino.example", true, false},
        {"shop at spam.ru today", true, false},
        {"my email is ann@example", false, false},
        {"write @spam_bot", false, true},
        {"(@Ann_Lee)", false, true},
        {"version 1.2 of life", false, false},
        {"@ab", false, false},
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(cases); i++) {
        struct rules_request r = person("A", "");
        r.bio = cases[i].bio;
        bool link = verdict(COND("{\"type\":\"bio_has_link\"}", "decline"), &r) == RULE_DECLINE;
        bool mention =
            verdict(COND("{\"type\":\"bio_has_mention\"}", "decline"), &r) == RULE_DECLINE;
        if (link != cases[i].link || mention != cases[i].mention)
            fprintf(stderr, "  bio \"%s\": link %d mention %d\n", cases[i].bio, link, mention);
        CHECK(link == cases[i].link);
        CHECK(mention == cases[i].mention);
    }
}

static void test_id_link_list(void)
{
    struct rules_request r = person("A", "");
    r.user_id = 7000000001;
    CHECK(verdict(COND("{\"type\":\"user_id_above\",\"value\":7000000000}", "hold"), &r) ==
          RULE_HOLD);
    r.user_id = 7000000000;
    CHECK(verdict(COND("{\"type\":\"user_id_above\",\"value\":7000000000}", "hold"), &r) == -1);
    CHECK(verdict(COND("{\"type\":\"invite_link\",\"link\":null}", "hold"), &r) == RULE_HOLD);
    CHECK(verdict(COND("{\"type\":\"invite_link\",\"link\":\"https://t.me/+a\"}", "hold"), &r) ==
          -1);
    r.invite_link = "https://t.me/+a";
    CHECK(verdict(COND("{\"type\":\"invite_link\",\"link\":\"https://t.me/+a\"}", "hold"), &r) ==
          RULE_HOLD);
    CHECK(verdict(COND("{\"type\":\"invite_link\",\"link\":null}", "hold"), &r) == -1);
    const char *vip = COND("{\"type\":\"in_list\",\"list\":\"vip\"}", "approve");
    CHECK(verdict(vip, &r) == -1);
    r.user_id = 42;
    CHECK(verdict(vip, &r) == RULE_APPROVE);
    r.user_id = 43;
    r.username = "ANN_lee";
    CHECK(verdict(vip, &r) == RULE_APPROVE);
    r.username = "Bob_Smith";
    CHECK(verdict(vip, &r) == RULE_APPROVE);
    r.username = "bob";
    CHECK(verdict(vip, &r) == -1);
    char c[65];
    CHECK(rules_list_entry_canonical("@Ann", c) && strcmp(c, "@ann") == 0);
    CHECK(rules_list_entry_canonical(" 123 ", c) && strcmp(c, "123") == 0);
    CHECK(!rules_list_entry_canonical("0", c));
    CHECK(!rules_list_entry_canonical("a b", c));
    CHECK(!rules_list_entry_canonical("@", c));
    CHECK(!rules_list_entry_canonical("1abc", c));
}

static void test_first_match(void)
{
    static const char *const specs[] = {
        COND("{\"type\":\"is_premium\"}", "approve"),
        COND("{\"type\":\"has_username\",\"negate\":true}", "decline"),
        COND("{\"type\":\"has_username\"}", "hold"),
        COND("", "decline_and_ban"),
    };
    struct rules_set *s = rules_set_new();
    struct dm_error err = {0};
    for (size_t i = 0; i < DM_ARRAY_LEN(specs); i++) {
        json_t *j = json_loads(specs[i], 0, NULL);
        CHECK(!rules_set_add(s, (int64_t)i + 10, "", j, "x", NULL, NULL, &err));
        json_decref(j);
    }
    CHECK(rules_set_size(s) == 4);
    struct rules_request r = person("A", "");
    struct rules_verdict v;
    r.is_premium = true;
    CHECK(!rules_eval(s, &r, NULL, X, &v) && v.index == 0 && v.action == RULE_APPROVE);
    r.is_premium = false;
    CHECK(!rules_eval(s, &r, NULL, X, &v) && v.index == 1 && v.rule_id == 11);
    r.username = "x";
    CHECK(!rules_eval(s, &r, NULL, X, &v) && v.index == 2 && v.action == RULE_HOLD);
    rules_set_free(s);
}

static void test_history(void)
{
    struct rules_history *h = rules_history_new();
    struct rules_context ctx = rules_history_context(h);
    const char *wave_link =
        COND("{\"type\":\"wave\",\"count\":3,\"minutes\":1,\"per\":\"link\"}", "decline_and_ban");
    const char *wave_chan =
        COND("{\"type\":\"wave\",\"count\":4,\"minutes\":2,\"per\":\"channel\"}", "decline");
    const char *declined = COND("{\"type\":\"declined_before\"}", "decline");
    /* t=0,10,20,30 through link A; 40 through B; 95 through A */
    static const struct {
        int64_t t;
        const char *link;
        int by_link, by_chan;
    } feed[] = {
        {0, "A", -1, -1}, {10, "A", -1, -1}, {20, "A", -1, -1}, {30, "A", 0, -1},
        {40, "B", -1, 0}, {95, "A", -1, 0},  {125, "", -1, 0},  {250, "", -1, -1},
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(feed); i++) {
        struct rules_request r = person("A", "");
        r.user_id = 100 + (int64_t)i;
        r.tg_date = 1000 + feed[i].t;
        r.invite_link = feed[i].link;
        CHECK(!rules_history_add(h, &r, i == 1));
        int a = verdict_ctx(wave_link, &r, &ctx), b = verdict_ctx(wave_chan, &r, &ctx);
        if ((a < 0 ? -1 : 0) != feed[i].by_link || (b < 0 ? -1 : 0) != feed[i].by_chan)
            fprintf(stderr, "  wave at %" PRId64 ": link %d channel %d\n", feed[i].t, a, b);
        CHECK((a < 0 ? -1 : 0) == feed[i].by_link);
        CHECK((b < 0 ? -1 : 0) == feed[i].by_chan);
    }
    struct rules_request again = person("A", "");
    again.user_id = 101;
    again.tg_date = 2000;
    CHECK(verdict_ctx(declined, &again, &ctx) == RULE_DECLINE);
    again.user_id = 102;
    CHECK(verdict_ctx(declined, &again, &ctx) == -1);
    CHECK(verdict(declined, &again) == -1); /* no context: nothing known */
    rules_history_free(h);
}

static void test_refusals(void)
{
    static const struct {
        const char *spec, *message;
    } cases[] = {
        {"[]", "rules[3]: must be an object"},
        {"{\"action\":\"maybe\"}", "rules[3].action:"},
        {"{}", "rules[3].action:"},
        {"{\"action\":\"approve\",\"when\":1}", "rules[3].when: unknown field"},
        {"{\"action\":\"approve_after\"}", "rules[3].delay_seconds:"},
        {"{\"action\":\"approve_after\",\"delay_seconds\":5}", "rules[3].delay_seconds:"},
        {"{\"action\":\"hold\",\"delay_seconds\":60}", "rules[3].delay_seconds:"},
        {"{\"action\":\"hold\",\"conditions\":{}}", "rules[3].conditions:"},
        {COND("1", "hold"), "rules[3].conditions[0]: must be an object"},
        {COND("{}", "hold"), "rules[3].conditions[0].type: is required"},
        {COND("{\"type\":\"telepathy\"}", "hold"), "rules[3].conditions[0].type: unknown"},
        {COND("{\"type\":\"is_premium\",\"x\":1}", "hold"), "rules[3].conditions[0].x: unknown"},
        {COND("{\"type\":\"is_premium\",\"negate\":1}", "hold"), "conditions[0].negate:"},
        {COND("{\"type\":\"name_matches\"}", "hold"), "conditions[0].words: give either"},
        {COND("{\"type\":\"name_matches\",\"words\":[]}", "hold"), "conditions[0].words:"},
        {COND("{\"type\":\"name_matches\",\"words\":[1]}", "hold"), "conditions[0].words:"},
        {COND("{\"type\":\"bio_matches\",\"regex\":\"a(\"}", "hold"),
         "conditions[0].regex: not a valid regular expression"},
        {COND("{\"type\":\"bio_matches\",\"regex\":\"a\",\"words\":[\"a\"]}", "hold"),
         "conditions[0].words: give either"},
        {COND("{\"type\":\"name_script\",\"script\":\"Elvish\"}", "hold"),
         "conditions[0].script: unknown Unicode script"},
        {COND("{\"type\":\"name_script\",\"script\":\"}]\"}", "hold"), "conditions[0].script:"},
        {COND("{\"type\":\"user_id_above\",\"value\":\"1\"}", "hold"), "conditions[0].value:"},
        {COND("{\"type\":\"invite_link\"}", "hold"), "conditions[0].link:"},
        {COND("{\"type\":\"invite_link\",\"link\":\"\"}", "hold"), "conditions[0].link:"},
        {COND("{\"type\":\"in_list\",\"list\":\"nope\"}", "hold"), "conditions[0].list: no list"},
        {COND("{\"type\":\"language_code\",\"in\":\"ru\"}", "hold"), "conditions[0].in:"},
        {COND("{\"type\":\"language_code\",\"in\":[5]}", "hold"), "conditions[0].in: each"},
        {COND("{\"type\":\"wave\",\"count\":0,\"minutes\":1,\"per\":\"link\"}", "hold"),
         "conditions[0].count:"},
        {COND("{\"type\":\"wave\",\"count\":5,\"minutes\":1.5,\"per\":\"link\"}", "hold"),
         "conditions[0].minutes:"},
        {COND("{\"type\":\"wave\",\"count\":5,\"minutes\":1,\"per\":\"planet\"}", "hold"),
         "conditions[0].per:"},
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(cases); i++) {
        const char *m = refusal(cases[i].spec);
        if (!strstr(m, cases[i].message))
            fprintf(stderr, "  %s: got \"%s\", want \"%s\"\n", cases[i].spec, m, cases[i].message);
        CHECK(strstr(m, cases[i].message) != NULL);
    }
}

int main(void)
{
    X = rules_scratch_new();
    test_actions();
    test_flags();
    test_language();
    test_words_and_regex();
    test_hostile_regex();
    test_scripts();
    test_bio_links_mentions();
    test_id_link_list();
    test_first_match();
    test_history();
    test_refusals();
    rules_scratch_free(X);
    return CHECK_DONE();
}
