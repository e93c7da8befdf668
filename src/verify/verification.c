/* verification.c: a verification's steps (see verification.h). */
#include "core/common.h"
#include "verify/verification.h"

#include <sodium.h>

#include "core/buf.h"

#include "verify/captcha.h"
#include "verify/challenge.h"
#include "verify/initdata.h"

#define BIT(s) (1u << (s))
#define OPEN_STATES (BIT(VERIFY_CREATED) | BIT(VERIFY_SENT) | BIT(VERIFY_OPENED))

static void audit_of(const struct store_verification *v, const char *action, const char *detail,
                     int64_t now, struct store_audit *au)
{
    *au = (struct store_audit){
        .at = now, .request_id = v->request_id, .chat_id = v->chat_id, .user_id = v->user_id};
    dm_strlcpy(au->admin, STORE_RULES_ADMIN, sizeof au->admin);
    dm_strlcpy(au->action, action, sizeof au->action);
    dm_strlcpy(au->result, "ok", sizeof au->result);
    dm_snprintf_utf8(au->detail, sizeof au->detail, "%s", detail);
}

/* Reads request_id's verification into a malloc'd *out. */
static dm_err read_one(struct store *st, int64_t request_id, struct store_verification **out,
                       struct dm_error *err)
{
    if (!(*out = malloc(sizeof **out))) return dm_fail(err, DM_ENOMEM, "out of memory");
    dm_err e = store_verification_get(st, request_id, *out, err);
    if (e) {
        free(*out);
        *out = NULL;
    }
    return e;
}

dm_err verification_url(const char *public_url, int64_t request_id, char *url, size_t size)
{
    size_t base = strlen(public_url);
    while (base && public_url[base - 1] == '/')
        base--;
    int n =
        snprintf(url, size, "%.*s" VERIFY_PATH "?r=%" PRId64, (int)base, public_url, request_id);
    return n < 0 || (size_t)n >= size ? DM_ETOOBIG : DM_OK;
}

dm_err verification_start(struct store *st, const char *public_url, int64_t request_id, int64_t now,
                          char *url, size_t size, bool *first, struct dm_error *err)
{
    if (first) *first = false;
    struct store_verification *v = NULL;
    dm_err e = read_one(st, request_id, &v, err);
    if (e) return e;
    if (verification_url(public_url, request_id, url, size))
        e = dm_fail(err, DM_ETOOBIG, "the Mini App's URL is too long");
    if (!e && !(BIT(v->state) & OPEN_STATES))
        e = dm_fail(err, DM_ECONFLICT, "the verification is %s already",
                    verify_state_name(v->state));
    if (!e && v->state == VERIFY_CREATED) {
        struct store_audit au;
        audit_of(v, "verify_sent", "the Mini App's link was handed to Telegram", now, &au);
        v->state = VERIFY_SENT;
        e = store_verification_step(st, v, BIT(VERIFY_CREATED), now, NULL, &au, err);
        if (!e && first) *first = true;
        if (e == DM_ECONFLICT) e = DM_OK; /* sent or opened meanwhile: the URL is the same */
    }
    free(v);
    return e;
}

/* The launch's data checked, its verification read and its applicant compared. */
static dm_err launch_check(struct store *st, const struct verify_launch *l, struct initdata *id,
                           struct store_verification **v, struct dm_error *err)
{
    *v = NULL;
    dm_err e =
        initdata_check(l->data, l->len, l->bot_token, l->now, VERIFY_LAUNCH_MAX_AGE, id, err);
    if (!e) e = read_one(st, l->request_id, v, err);
    if (e == DM_ENOTFOUND)
        return dm_fail(err, e, "There is no verification for this join request.");
    if (!e && (*v)->user_id != id->user_id)
        e = dm_fail(err, DM_EFORBIDDEN, "This verification is for another Telegram user.");
    if (!e && !(BIT((*v)->state) & OPEN_STATES))
        e = dm_fail(err, DM_ECONFLICT, "This verification is over (%s).",
                    verify_state_name((*v)->state));
    if (!e && (*v)->deadline <= l->now)
        e = dm_fail(err, DM_ECONFLICT, "The time for this verification is over.");
    if (e) {
        free(*v);
        *v = NULL;
    }
    return e;
}

static dm_err captcha_image(const char *digits, json_t *o, const char *key)
{
    unsigned char *png = NULL;
    size_t len = 0;
    if (captcha_png(digits, &png, &len)) return DM_ENOMEM;
    size_t b64 = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(22 + b64);
    if (!s) {
        free(png);
        return DM_ENOMEM;
    }
    memcpy(s, "data:image/png;base64,", 22);
    sodium_bin2base64(s + 22, b64, png, len, sodium_base64_VARIANT_ORIGINAL);
    free(png);
    json_object_set_new(o, key, json_string(s));
    free(s);
    return DM_OK;
}

static const char * or (const char *s, const char *def)
{
    return s && s[0] ? s : def;
}

/* What the page shows, in the applicant's language. */
static dm_err view_of(const struct challenge *c, const struct store_verification *v,
                      const struct initdata *id, json_t **out)
{
    const char *lang = v->lang;
    json_t *steps = json_array(), *o = json_object();
    dm_err e = DM_OK;
    for (int s = 0; s < STEP_COUNT && !e; s++) {
        if (!c->steps[s]) continue;
        json_t *st = json_pack("{s:s}", "kind", challenge_step_name(s));
        switch (s) {
        case STEP_RULES:
            json_object_set_new(st, "text", json_string(challenge_text(c, lang, "rules")));
            json_object_set_new(st, "accept", json_string(challenge_text(c, lang, "accept")));
            break;
        case STEP_QUESTION:
            json_object_set_new(st, "question", json_string(challenge_text(c, lang, "question")));
            json_object_set_new(st, "choices", json_deep_copy(challenge_choices(c, lang)));
            break;
        case STEP_CAPTCHA:
            json_object_set_new(st, "prompt",
                                json_string(or (challenge_text(c, lang, "captcha"),
                                                "Type the digits in the picture")));
            e = captcha_image(v->captcha, st, "image");
            break;
        default:
            json_object_set_new(st, "prompt", json_string(challenge_text(c, lang, "prompt")));
        }
        json_array_append_new(steps, st);
    }
    json_object_set_new(o, "request_id", json_integer(v->request_id));
    json_object_set_new(o, "language", json_string(challenge_language(c, lang)));
    json_object_set_new(o, "name", json_string(id->first_name));
    json_object_set_new(o, "title",
                        json_string(or (challenge_text(c, lang, "title"), "Before you join")));
    json_object_set_new(o, "submit", json_string(or (challenge_text(c, lang, "submit"), "Send")));
    json_object_set_new(o, "passed",
                        json_string(or (challenge_text(c, lang, "passed"),
                                        "Thank you: your request will be handled shortly.")));
    json_object_set_new(
        o, "failed",
        json_string(or (challenge_text(c, lang, "failed"), "Sorry, that was not right.")));
    json_object_set_new(o, "deadline", json_integer(v->deadline));
    json_object_set_new(o, "steps", steps);
    if (e) {
        json_decref(o);
        return e;
    }
    *out = o;
    return DM_OK;
}

dm_err verification_open(struct store *st, const struct verify_launch *l, json_t **view,
                         struct dm_error *err)
{
    *view = NULL;
    struct initdata id;
    struct store_verification *v = NULL;
    dm_err e = launch_check(st, l, &id, &v, err);
    if (e) return e;
    struct challenge c;
    e = challenge_parse(v->spec, &c, err);
    if (!e)
        e = store_webapp_nonce_use(st, id.hash, id.auth_date + VERIFY_LAUNCH_MAX_AGE, l->now, err);
    if (e == DM_EEXISTS)
        dm_fail(err, e,
                "This launch was used before: close the page and open it again from "
                "Telegram.");
    if (!e) {
        unsigned from = BIT(v->state);
        v->state = VERIFY_OPENED;
        dm_strlcpy(v->lang, id.language_code, sizeof v->lang);
        dm_strlcpy(v->launch, id.hash, sizeof v->launch);
        if (c.steps[STEP_CAPTCHA]) captcha_digits(v->captcha);
        struct store_audit au;
        char detail[96];
        snprintf(detail, sizeof detail, "opened in Telegram (language %s)",
                 challenge_language(&c, v->lang));
        audit_of(v, "verify_opened", detail, l->now, &au);
        e = store_verification_step(st, v, from, l->now, NULL, &au, err);
    }
    if (!e) e = view_of(&c, v, &id, view);
    if (e == DM_ENOMEM) dm_fail(err, e, "out of memory");
    challenge_release(&c);
    free(v);
    return e;
}

/* The verdict an end gives: outcome as the rules' due actions. */
static void verdict_of(const struct store_verification *v, int outcome, const char *why,
                       struct store_verdict *out, int64_t now)
{
    static const char *const words[] = {"approve", "for the admins", "decline", "decline and ban"};
    static const int due[] = {DUE_APPROVE, DUE_NONE, DUE_DECLINE, DUE_BAN};
    *out =
        (struct store_verdict){.request_id = v->request_id, .action = due[outcome], .due_at = now};
    dm_snprintf_utf8(out->text, sizeof out->text, "verification %s → %s", why, words[outcome]);
}

/* Ends v (state passed, failed or timed_out) with its outcome. */
static dm_err finish(struct store *st, struct store_verification *v, unsigned from, int state,
                     int outcome, const char *detail, int64_t now, struct dm_error *err)
{
    static const char *const why[] = {
        [VERIFY_PASSED] = "passed", [VERIFY_FAILED] = "failed", [VERIFY_TIMED_OUT] = "timed out"};
    v->state = state;
    v->captcha[0] = 0;
    struct store_verdict verdict;
    verdict_of(v, outcome, why[state], &verdict, now);
    struct store_request *r = malloc(sizeof *r);
    if (!r) return dm_fail(err, DM_ENOMEM, "out of memory");
    dm_err e = store_request_get(st, v->request_id, r, err);
    if (!e) verdict.rule_id = r->rule_id; /* the rule that asked for it still speaks */
    free(r);
    struct store_audit au;
    char action[32];
    snprintf(action, sizeof action, "verify_%s", verify_state_name(state));
    audit_of(v, action, detail, now, &au);
    return e ? e : store_verification_step(st, v, from, now, &verdict, &au, err);
}

/* The outcome of a failure: the challenge's, or decline and ban at the ban_after-th. */
static dm_err fail_outcome(struct store *st, const struct challenge *c,
                           const struct store_verification *v, int *outcome, struct dm_error *err)
{
    *outcome = c->on_fail;
    if (c->on_fail != OUTCOME_DECLINE || c->ban_after == 0) return DM_OK;
    int64_t n = 0;
    dm_err e = store_verification_failures(st, v->chat_id, v->user_id, &n, err);
    if (!e && n + 1 >= c->ban_after) *outcome = OUTCOME_BAN;
    return e;
}

/* Copies the free text, cut at a character, without control characters but newlines. */
static void keep_text(const char *in, char *out, size_t size)
{
    dm_snprintf_utf8(out, size, "%s", in ? in : "");
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n') *p = ' ';
}

dm_err verification_answer(struct store *st, const struct verify_launch *l,
                           const struct verify_answer *a, json_t **result, struct dm_error *err)
{
    *result = NULL;
    struct initdata id;
    struct store_verification *v = NULL;
    dm_err e = launch_check(st, l, &id, &v, err);
    if (e) return e;
    if (v->state != VERIFY_OPENED || strcmp(v->launch, id.hash) != 0) {
        e = v->state == VERIFY_OPENED ? DM_EFORBIDDEN : DM_ECONFLICT;
        free(v);
        return dm_fail(err, e, "Answers must come from the launch that opened this verification.");
    }
    struct challenge c;
    e = challenge_parse(v->spec, &c, err);
    if (e) {
        free(v);
        return e;
    }
    const char *failed = NULL;
    bool retry = false;
    if (c.steps[STEP_RULES] && !a->accepted) failed = "the rules were not accepted";
    if (!failed && c.steps[STEP_QUESTION] && a->choice != c.correct_choice)
        failed = "a wrong choice";
    if (!failed && c.steps[STEP_CAPTCHA] &&
        (!a->captcha || strlen(a->captcha) != strlen(v->captcha) ||
         sodium_memcmp(a->captcha, v->captcha, strlen(v->captcha)) != 0)) {
        v->attempts++;
        if (v->attempts >= c.captcha_attempts)
            failed = "the captcha was answered wrong too often";
        else
            retry = true;
    }
    if (!failed && c.steps[STEP_TEXT] && (!a->text || !a->text[0]))
        failed = "no answer was written";
    if (c.steps[STEP_TEXT]) keep_text(a->text, v->answer, sizeof v->answer);
    if (retry) { /* a new picture, the attempt counted */
        captcha_digits(v->captcha);
        e = store_verification_step(st, v, BIT(VERIFY_OPENED), l->now, NULL, NULL, err);
        if (!e) {
            *result = json_pack("{s:s,s:s,s:i}", "state", "opened", "retry", "captcha",
                                "attempts_left", c.captcha_attempts - v->attempts);
            if (captcha_image(v->captcha, *result, "image")) e = DM_ENOMEM;
        }
    } else {
        struct store_audit au;
        v->state = VERIFY_ANSWERED;
        audit_of(v, "verify_answered", v->answer[0] ? v->answer : "answered", l->now, &au);
        e = store_verification_step(st, v, BIT(VERIFY_OPENED), l->now, NULL, &au, err);
        int outcome = c.on_pass;
        if (!e && failed) e = fail_outcome(st, &c, v, &outcome, err);
        if (!e)
            e = finish(st, v, BIT(VERIFY_ANSWERED), failed ? VERIFY_FAILED : VERIFY_PASSED, outcome,
                       failed ? failed : "all steps passed", l->now, err);
        if (!e) *result = json_pack("{s:s}", "state", failed ? "failed" : "passed");
    }
    if (e == DM_ENOMEM) dm_fail(err, e, "out of memory");
    challenge_release(&c);
    free(v);
    return e;
}

/* ---- private message with buttons ---- */

#define DM_TAG_HEX 16

/* The tag of button k of v in state `state` (DM_TAG_HEX hex digits and a NUL). */
static void dm_tag(const struct store_verification *v, int state, int k, char out[DM_TAG_HEX + 1])
{
    char msg[64];
    int n = snprintf(msg, sizeof msg, "%" PRId64 ":%d:%d", v->request_id, state, k);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state s;
    crypto_auth_hmacsha256_init(&s, (const unsigned char *)v->dm_key, strlen(v->dm_key));
    crypto_auth_hmacsha256_update(&s, (const unsigned char *)msg, (size_t)n);
    crypto_auth_hmacsha256_final(&s, mac);
    sodium_bin2hex(out, DM_TAG_HEX + 1, mac, DM_TAG_HEX / 2);
}

/* The step v's message shows now: STEP_RULES, STEP_QUESTION, or -1 at the end. */
static int dm_step(const struct challenge *c, const struct store_verification *v)
{
    if (v->state == VERIFY_SENT && c->steps[STEP_RULES]) return STEP_RULES;
    if (v->state == VERIFY_SENT || v->state == VERIFY_OPENED) return STEP_QUESTION;
    return -1;
}

dm_err verification_dm_start(struct store *st, int64_t request_id, const char *lang, int64_t now,
                             bool *first, struct dm_error *err)
{
    *first = false;
    struct store_verification *v = NULL;
    dm_err e = read_one(st, request_id, &v, err);
    if (e) return e;
    if (v->state != VERIFY_CREATED) {
        e = dm_fail(err, DM_ECONFLICT, "the verification is %s already",
                    verify_state_name(v->state));
    } else {
        unsigned char key[16];
        randombytes_buf(key, sizeof key);
        sodium_bin2hex(v->dm_key, sizeof v->dm_key, key, sizeof key);
        dm_strlcpy(v->lang, lang, sizeof v->lang);
        struct store_audit au;
        audit_of(v, "verify_sent", "sent as a private message with buttons", now, &au);
        v->state = VERIFY_SENT;
        e = store_verification_step(st, v, BIT(VERIFY_CREATED), now, NULL, &au, err);
        if (!e) *first = true;
    }
    free(v);
    return e;
}

static json_t *dm_button(const char *text, const struct store_verification *v, int k)
{
    char tag[DM_TAG_HEX + 1], data[64];
    dm_tag(v, v->state, k, tag);
    snprintf(data, sizeof data, "v%" PRId64 ":%s", v->request_id, tag);
    return json_pack("[{s:s,s:s}]", "text", text, "callback_data", data);
}

dm_err verification_dm_message(const struct store_verification *v, char **text, json_t **keyboard)
{
    *text = NULL;
    *keyboard = NULL;
    struct challenge c;
    dm_err e = challenge_parse(v->spec, &c, NULL);
    if (e) return e;
    const char *lang = v->lang;
    const char *title = or (challenge_text(&c, lang, "title"), "Before you join");
    int step = dm_step(&c, v);
    struct buf b;
    buf_init(&b, 4096);
    json_t *kb = step >= 0 ? json_array() : NULL;
    if (step == STEP_RULES) {
        e = buf_printf(&b, "%s\n\n%s", title, challenge_text(&c, lang, "rules"));
        json_array_append_new(kb, dm_button(challenge_text(&c, lang, "accept"), v, 0));
    } else if (step == STEP_QUESTION) {
        e = buf_printf(&b, "%s\n\n%s", title, challenge_text(&c, lang, "question"));
        size_t i;
        json_t *ch;
        json_array_foreach(challenge_choices(&c, lang), i, ch)
            json_array_append_new(kb, dm_button(json_string_value(ch), v, (int)i));
    } else if (v->state == VERIFY_PASSED) {
        e = buf_puts(&b, or (challenge_text(&c, lang, "passed"),
                             "Thank you: your request will be handled shortly."));
    } else if (v->state == VERIFY_FAILED) {
        e = buf_puts(&b, or (challenge_text(&c, lang, "failed"), "Sorry, that was not right."));
    } else {
        e = buf_puts(&b, "The time for this check is over.");
    }
    challenge_release(&c);
    if (!e && !(*text = strdup(b.data))) e = DM_ENOMEM;
    buf_release(&b);
    if (e) {
        json_decref(kb);
        return e;
    }
    *keyboard = kb;
    return DM_OK;
}

dm_err verification_dm_press(struct store *st, const char *data, int64_t user_id, int64_t now,
                             int64_t *request_id, char *note, size_t note_size,
                             struct dm_error *err)
{
    note[0] = 0;
    char tag[DM_TAG_HEX + 2] = "";
    int used = 0;
    *request_id = 0;
    if (sscanf(data, "v%" SCNd64 ":%17[0-9a-f]%n", request_id, tag, &used) != 2 || data[used] ||
        strlen(tag) != DM_TAG_HEX)
        return dm_fail(err, DM_EINVAL, "not a button of doorman's");
    struct store_verification *v = NULL;
    dm_err e = read_one(st, *request_id, &v, err);
    if (e) return e;
    struct challenge c;
    bool parsed = challenge_parse(v->spec, &c, NULL) == DM_OK;
    int step = parsed ? dm_step(&c, v) : -1, k = -1;
    int buttons = step == STEP_RULES      ? 1
                  : step == STEP_QUESTION ? (int)json_array_size(challenge_choices(&c, v->lang))
                                          : 0;
    for (int i = 0; i < buttons && k < 0 && v->dm_key[0]; i++) {
        char want[DM_TAG_HEX + 1];
        dm_tag(v, v->state, i, want);
        if (sodium_memcmp(want, tag, DM_TAG_HEX) == 0) k = i;
    }
    if (v->user_id != user_id)
        e = dm_fail(err, DM_EFORBIDDEN, "This check is for another Telegram user.");
    else if (k < 0)
        e = dm_fail(err, DM_ECONFLICT, "This button is no longer valid.");
    else if (v->deadline <= now)
        e = dm_fail(err, DM_ECONFLICT, "The time for this check is over.");
    else if (step == STEP_RULES) {
        struct store_audit au;
        audit_of(v, "verify_opened", "the rules accepted in the private message", now, &au);
        v->state = VERIFY_OPENED;
        e = store_verification_step(st, v, BIT(VERIFY_SENT), now, NULL, &au, err);
        if (!e && c.steps[STEP_QUESTION]) {
            dm_snprintf_utf8(note, note_size, "%s", "Thank you.");
        } else if (!e) { /* the rules were the whole check */
            v->state = VERIFY_ANSWERED;
            audit_of(v, "verify_answered", "answered", now, &au);
            e = store_verification_step(st, v, BIT(VERIFY_OPENED), now, NULL, &au, err);
            if (!e)
                e = finish(st, v, BIT(VERIFY_ANSWERED), VERIFY_PASSED, c.on_pass,
                           "all steps passed", now, err);
        }
    } else {
        bool right = k == c.correct_choice;
        struct store_audit au;
        unsigned from = BIT(v->state);
        v->state = VERIFY_ANSWERED;
        audit_of(v, "verify_answered", "answered in the private message", now, &au);
        e = store_verification_step(st, v, from, now, NULL, &au, err);
        int outcome = c.on_pass;
        if (!e && !right) e = fail_outcome(st, &c, v, &outcome, err);
        if (!e)
            e = finish(st, v, BIT(VERIFY_ANSWERED), right ? VERIFY_PASSED : VERIFY_FAILED, outcome,
                       right ? "all steps passed" : "a wrong choice", now, err);
    }
    if (!e && !note[0] && v->state >= VERIFY_PASSED)
        dm_snprintf_utf8(note, note_size, "%s",
                         v->state == VERIFY_PASSED ? "Passed." : "Not passed.");
    if (e == DM_ECONFLICT || e == DM_EFORBIDDEN) dm_snprintf_utf8(note, note_size, "%s", err->msg);
    if (parsed) challenge_release(&c);
    free(v);
    return e;
}

dm_err verification_timeouts(struct store *st, int64_t now, int limit, int *ended,
                             struct dm_error *err)
{
    *ended = 0;
    struct store_verification *v = malloc((size_t)limit * sizeof *v);
    if (!v) return dm_fail(err, DM_ENOMEM, "out of memory");
    int n = 0;
    dm_err e = store_verifications_expired(st, now, limit, v, &n, err);
    for (int i = 0; i < n && !e; i++) {
        struct challenge c;
        int outcome = OUTCOME_QUEUE; /* a challenge that no longer reads: the admins decide */
        if (challenge_parse(v[i].spec, &c, NULL) == DM_OK) outcome = c.on_timeout;
        challenge_release(&c);
        e = finish(st, &v[i], BIT(v[i].state), VERIFY_TIMED_OUT, outcome, "no answer in time", now,
                   err);
        if (e == DM_ECONFLICT) e = DM_OK; /* answered meanwhile */
        if (!e) ++*ended;
    }
    free(v);
    return e;
}
