/* challenge.c: checking a challenge and picking its texts (see challenge.h). */
#include "core/common.h"
#include "verify/challenge.h"

#include <ctype.h>
#include <stdarg.h>

static const char *const step_names[STEP_COUNT] = {"rules", "question", "captcha", "text"};

const char *challenge_step_name(int step)
{
    return step >= 0 && step < STEP_COUNT ? step_names[step] : "none";
}

/* Each text a language may give, its limit in bytes, and the step that needs it (-1: none). */
static const struct {
    const char *key;
    size_t max;
    int step;
} text_keys[] = {
    {"title", 200, -1},
    {"rules", 4000, STEP_RULES},
    {"accept", 200, STEP_RULES},
    {"question", 500, STEP_QUESTION},
    {"prompt", 500, STEP_TEXT},
    {"captcha", 200, -1},
    {"submit", 60, -1},
    {"passed", 500, -1},
    {"failed", 500, -1},
    {"message", 1000, -1},
    {"open", 60, -1},
    {"welcome", 2000, -1},
    {"decline", 2000, -1},
};

static dm_err bad(struct dm_error *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static dm_err bad(struct dm_error *err, const char *field, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return dm_fail(err, DM_EINVAL, "%s: %s", field, msg);
}

static int pick(const char *s, const char *const *names, int n)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* An integer field from lo to hi, or def when absent. */
static dm_err int_field(const json_t *o, const char *key, int64_t lo, int64_t hi, int64_t def,
                        int64_t *out, struct dm_error *err)
{
    const json_t *v = json_object_get(o, key);
    if (!v) return (*out = def), DM_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return bad(err, key, "must be an integer from %" PRId64 " to %" PRId64, lo, hi);
    *out = json_integer_value(v);
    return DM_OK;
}

/* "default", or a language tag: 2-3 letters, then "-" parts of 1-8 letters and digits. */
static bool lang_tag(const char *t)
{
    if (strcmp(t, "default") == 0) return true;
    size_t n = 0;
    while (islower((unsigned char)t[n]))
        n++;
    if (n < 2 || n > 3) return false;
    for (const char *p = t + n; *p;) {
        if (*p++ != '-') return false;
        size_t k = 0;
        while (isalnum((unsigned char)p[k]))
            k++;
        if (k < 1 || k > 8) return false;
        p += k;
    }
    return strlen(t) <= 35;
}

static dm_err check_choices(const json_t *v, const char *field, size_t want, struct dm_error *err)
{
    if (!json_is_array(v) || json_array_size(v) < 2 || json_array_size(v) > CHALLENGE_CHOICES_MAX)
        return bad(err, field, "must be a list of 2 to %d choices", CHALLENGE_CHOICES_MAX);
    if (want && json_array_size(v) != want)
        return bad(err, field, "must have as many choices as the default's (%zu)", want);
    size_t i;
    json_t *c;
    json_array_foreach(v, i, c)
    {
        const char *t = json_string_value(c);
        if (!t || !t[0] || strlen(t) > 100)
            return bad(err, field, "each choice must be text of 1 to 100 bytes");
    }
    return DM_OK;
}

/* One language's texts; with steps (the default's), every text those steps need. */
static dm_err check_texts(const json_t *t, const char *lang, const bool *steps, size_t nchoices,
                          struct dm_error *err)
{
    char field[96];
    snprintf(field, sizeof field, "texts.%s", lang);
    if (!json_is_object(t)) return bad(err, field, "must be an object of texts");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)t, k, v)
    {
        snprintf(field, sizeof field, "texts.%s.%.40s", lang, k);
        if (strcmp(k, "choices") == 0) {
            dm_err e = check_choices(v, field, nchoices, err);
            if (e) return e;
            continue;
        }
        size_t i = 0;
        while (i < DM_ARRAY_LEN(text_keys) && strcmp(k, text_keys[i].key) != 0)
            i++;
        if (i == DM_ARRAY_LEN(text_keys)) return bad(err, field, "unknown text");
        const char *s = json_string_value(v);
        if (!s || strlen(s) > text_keys[i].max)
            return bad(err, field, "must be text of at most %zu bytes", text_keys[i].max);
    }
    if (!steps) return DM_OK;
    for (size_t i = 0; i < DM_ARRAY_LEN(text_keys); i++) {
        int st = text_keys[i].step;
        const char *s = json_string_value(json_object_get(t, text_keys[i].key));
        if (st >= 0 && steps[st] && (!s || !s[0]))
            return bad(err, "texts.default", "the step \"%s\" needs the text \"%s\"",
                       step_names[st], text_keys[i].key);
    }
    if (steps[STEP_QUESTION] && !json_object_get(t, "choices"))
        return bad(err, "texts.default", "the step \"question\" needs \"choices\"");
    return DM_OK;
}

static const char *const outcome_names[] = {"approve", "queue", "decline", "decline_and_ban"};

/* Reads and checks spec into c (c->spec not set). */
static dm_err read_spec(const json_t *spec, struct challenge *c, struct dm_error *err)
{
    if (!json_is_object(spec)) return dm_fail(err, DM_EINVAL, ": must be an object");
    static const char *const keys[] = {
        "steps",      "time_limit_seconds", "on_pass",        "on_fail", "ban_after",
        "on_timeout", "captcha_attempts",   "correct_choice", "texts",   "delivery"};
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)spec, k, v)
    {
        if (pick(k, keys, (int)DM_ARRAY_LEN(keys)) < 0) return bad(err, k, "unknown field");
    }
    const json_t *steps = json_object_get(spec, "steps");
    if (!json_is_array(steps) || json_array_size(steps) < 1 || json_array_size(steps) > STEP_COUNT)
        return bad(err, "steps", "must be a list of 1 to 4 of rules, question, captcha, text");
    size_t i;
    json_array_foreach(steps, i, v)
    {
        int s = pick(json_string_value(v), step_names, STEP_COUNT);
        if (s < 0) return bad(err, "steps", "each must be one of rules, question, captcha, text");
        if (c->steps[s]) return bad(err, "steps", "\"%s\" is named twice", step_names[s]);
        c->steps[s] = true;
    }
    int64_t n = 0;
    dm_err e =
        int_field(spec, "time_limit_seconds", CHALLENGE_TIME_MIN, CHALLENGE_TIME_MAX, 600, &n, err);
    c->time_limit = n;
    if (!e) e = int_field(spec, "ban_after", 0, 100, 0, &n, err);
    c->ban_after = (int)n;
    if (!e) e = int_field(spec, "captcha_attempts", 1, 10, 3, &n, err);
    c->captcha_attempts = (int)n;
    if (e) return e;
    struct {
        const char *key, *def;
        int lo, hi, *out;
    } outs[] = {{"on_pass", "approve", OUTCOME_APPROVE, OUTCOME_QUEUE, &c->on_pass},
                {"on_fail", "decline", OUTCOME_DECLINE, OUTCOME_BAN, &c->on_fail},
                {"on_timeout", "decline", OUTCOME_APPROVE, OUTCOME_DECLINE, &c->on_timeout}};
    for (size_t j = 0; j < DM_ARRAY_LEN(outs); j++) {
        v = json_object_get(spec, outs[j].key);
        int o =
            v ? pick(json_string_value(v), outcome_names, 4) : pick(outs[j].def, outcome_names, 4);
        if (o < outs[j].lo || o > outs[j].hi) {
            char allowed[64] = "";
            for (int x = outs[j].lo; x <= outs[j].hi; x++)
                snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s",
                         x > outs[j].lo ? ", " : "", outcome_names[x]);
            return bad(err, outs[j].key, "must be one of %s", allowed);
        }
        *outs[j].out = o;
    }
    static const char *const deliveries[] = {"web_app", "buttons"};
    v = json_object_get(spec, "delivery");
    c->delivery = v ? pick(json_string_value(v), deliveries, 2) : DELIVERY_WEB_APP;
    if (c->delivery < 0) return bad(err, "delivery", "must be one of web_app, buttons");
    const json_t *texts = json_object_get(spec, "texts");
    const json_t *def = json_object_get(texts, "default");
    if (!json_is_object(texts) || !def)
        return bad(err, "texts", "must be an object with the \"default\" texts");
    if (json_object_size(texts) > CHALLENGE_LANGS_MAX + 1)
        return bad(err, "texts", "at most %d languages besides the default", CHALLENGE_LANGS_MAX);
    e = check_texts(def, "default", c->steps, 0, err);
    if (e) return e;
    size_t nchoices = json_array_size(json_object_get(def, "choices"));
    json_object_foreach((json_t *)texts, k, v)
    {
        if (strcmp(k, "default") == 0) continue;
        if (!lang_tag(k))
            return bad(err, "texts", "\"%.40s\" is not a language tag (e.g. en, pt-br)", k);
        e = check_texts(v, k, NULL, nchoices, err);
        if (e) return e;
    }
    /* kept while the question is not a step, so an editor may switch it off and on */
    e = int_field(spec, "correct_choice", 0, nchoices ? (int64_t)nchoices - 1 : 0, 0, &n, err);
    if (!e && c->steps[STEP_QUESTION] && !json_object_get(spec, "correct_choice"))
        e = bad(err, "correct_choice", "the question needs its right choice (from 0)");
    c->correct_choice = (int)n;
    return e;
}

dm_err challenge_check(const json_t *spec, struct dm_error *err)
{
    struct challenge c = {0};
    return read_spec(spec, &c, err);
}

dm_err challenge_parse(const char *text, struct challenge *c, struct dm_error *err)
{
    memset(c, 0, sizeof *c);
    json_error_t jerr;
    json_t *spec = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!spec) return dm_fail(err, DM_EINVAL, "the challenge is not JSON: %s", jerr.text);
    dm_err e = read_spec(spec, c, err);
    if (e) {
        json_decref(spec);
        return e;
    }
    c->spec = spec;
    return DM_OK;
}

void challenge_release(struct challenge *c)
{
    json_decref(c->spec);
    c->spec = NULL;
}

dm_err challenge_time_limit(const char *text, int64_t *seconds)
{
    struct challenge c;
    dm_err e = challenge_parse(text, &c, NULL);
    if (!e) *seconds = c.time_limit;
    challenge_release(&c);
    return e;
}

/* The texts lang may read, in order: its exact tag's, its primary language's, the default's
 * (a missing one is NULL). */
static void texts_for(const struct challenge *c, const char *lang, const json_t *out[3],
                      const char **tag)
{
    const json_t *texts = json_object_get(c->spec, "texts");
    char lower[36];
    size_t n = 0;
    for (; lang && lang[n] && n < sizeof lower - 1; n++)
        lower[n] = (char)tolower((unsigned char)lang[n]);
    lower[n] = 0;
    size_t p = strcspn(lower, "-_");
    out[0] = out[1] = NULL;
    out[2] = json_object_get(texts, "default");
    const char *exact = NULL, *primary = NULL, *k;
    json_t *v;
    json_object_foreach((json_t *)texts, k, v)
    {
        if (!n || strcmp(k, "default") == 0) continue;
        if (strcasecmp(k, lower) == 0) out[0] = v, exact = k;
        if (p < n && strlen(k) == p && strncasecmp(k, lower, p) == 0) out[1] = v, primary = k;
    }
    *tag = exact ? exact : primary ? primary : "default";
}

const char *challenge_language(const struct challenge *c, const char *lang)
{
    const json_t *t[3];
    const char *tag;
    texts_for(c, lang, t, &tag);
    return tag;
}

bool challenge_by_buttons(const struct challenge *c)
{
    return c->delivery == DELIVERY_BUTTONS && !c->steps[STEP_CAPTCHA] && !c->steps[STEP_TEXT];
}

const char *challenge_text(const struct challenge *c, const char *lang, const char *key)
{
    const json_t *t[3];
    const char *tag;
    texts_for(c, lang, t, &tag);
    for (int i = 0; i < 3; i++) {
        const char *s = json_string_value(json_object_get(t[i], key));
        if (s && s[0]) return s;
    }
    return "";
}

const json_t *challenge_choices(const struct challenge *c, const char *lang)
{
    const json_t *t[3];
    const char *tag;
    texts_for(c, lang, t, &tag);
    for (int i = 0; i < 3; i++)
        if (json_object_get(t[i], "choices")) return json_object_get(t[i], "choices");
    return NULL;
}
