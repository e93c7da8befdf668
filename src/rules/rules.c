/* rules.c: compiling rule specs and evaluating them (see rules.h). */
#include "core/common.h"
#include "rules/rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdarg.h>

#include "core/fold.h"
#include "rules/list.h"

#define WORDS_MAX 100
#define LANGS_MAX 50
#define CONDS_MAX 20
#define REGEX_MAX 1024   /* bytes of one pattern */
#define REGEX_DEPTH 1000 /* PCRE2 depth limit */

static const char *const action_names[RULE_ACTION_COUNT] = {
    "approve", "decline", "decline_and_ban", "hold", "approve_after", "verify"};

const char *rule_action_name(int action)
{
    return action >= 0 && action < RULE_ACTION_COUNT ? action_names[action] : "none";
}

enum cond_type {
    C_HAS_USERNAME,
    C_IS_PREMIUM,
    C_IS_SCAM,
    C_IS_FAKE,
    C_LANGUAGE,
    C_NAME_MATCHES,
    C_BIO_MATCHES,
    C_NAME_SCRIPT,
    C_BIO_HAS_LINK,
    C_BIO_HAS_MENTION,
    C_USER_ID_ABOVE,
    C_INVITE_LINK,
    C_IN_LIST,
    C_DECLINED_BEFORE,
    C_WAVE,
    C_MEMBER_ELSEWHERE,
    C_HAS_PHOTO,   /* costly: a Telegram call */
    C_BLOCKLISTED, /* costly: a call to the blocklist service */
    C_COUNT
};

static const char *const cond_names[C_COUNT] = {
    "has_username",     "is_premium",  "is_scam",     "is_fake",         "language_code",
    "name_matches",     "bio_matches", "name_script", "bio_has_link",    "bio_has_mention",
    "user_id_above",    "invite_link", "in_list",     "declined_before", "wave",
    "member_elsewhere", "has_photo",   "on_blocklist"};

/* The fields each type takes beside "type" and "negate". */
static const char *const cond_fields[C_COUNT][4] = {[C_LANGUAGE] = {"in"},
                                                    [C_NAME_MATCHES] = {"words", "regex"},
                                                    [C_BIO_MATCHES] = {"words", "regex"},
                                                    [C_NAME_SCRIPT] = {"script"},
                                                    [C_USER_ID_ABOVE] = {"value"},
                                                    [C_INVITE_LINK] = {"link"},
                                                    [C_IN_LIST] = {"list"},
                                                    [C_WAVE] = {"count", "minutes", "per"}};

/* bio_has_link and bio_has_mention: what Telegram itself makes a link of */
static const char LINK_RE[] =
    "(?:https?://|www\\.|\\bt\\.me/|\\btelegram\\.(?:me|dog)/|"
    "\\b[\\p{L}\\p{N}-]+\\.(?:com|net|org|ru|io|me|info|biz|xyz|top|site|online|ly|gg|cc|co|ua|"
    "uk|de|shop|app|link|club|pro|live|store)\\b)";
static const char MENTION_RE[] = "(?<![\\p{L}\\p{N}_])@[A-Za-z][A-Za-z0-9_]{3,31}";

struct cond {
    enum cond_type type;
    bool negate;
    pcre2_code *re; /* regex, script, link, mention */
    char **words;   /* folded */
    size_t nwords;
    int64_t value;   /* user_id_above; wave: count */
    int64_t seconds; /* wave */
    bool same_link;  /* wave */
    char *text;      /* invite_link ("" = none) */
    struct rules_list *list;
};

struct rule {
    int64_t id;
    char *name;
    int action;
    int64_t delay;
    struct cond *conds;
    size_t nconds;
};

struct rules_set {
    struct rule *rules;
    size_t n, alloc;
    struct rules_list **lists; /* loaded once per name */
    size_t nlists;
    pcre2_match_context *mctx;
};

struct rules_scratch {
    pcre2_match_data *md;
    char *name, *bio; /* "first last" and the bio, folded; NULL until a condition needs them */
    char *name_raw;   /* "first last" as sent */
    size_t name_len;  /* of name_raw */
    size_t bio_len;   /* of the request's bio; SIZE_MAX until measured */
};

/* ---- compiling ---- */

static void cond_release(struct cond *c)
{
    pcre2_code_free(c->re);
    for (size_t i = 0; i < c->nwords; i++)
        free(c->words[i]);
    free(c->words);
    free(c->text);
}

static void rule_release(struct rule *r)
{
    for (size_t i = 0; i < r->nconds; i++)
        cond_release(&r->conds[i]);
    free(r->conds);
    free(r->name);
}

struct rules_set *rules_set_new(void)
{
    struct rules_set *s = calloc(1, sizeof *s);
    if (s && !(s->mctx = pcre2_match_context_create(NULL))) {
        free(s);
        return NULL;
    }
    if (s) {
        pcre2_set_match_limit(s->mctx, RULES_REGEX_MATCH_LIMIT);
        pcre2_set_depth_limit(s->mctx, REGEX_DEPTH);
    }
    return s;
}

void rules_set_free(struct rules_set *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++)
        rule_release(&s->rules[i]);
    free(s->rules);
    for (size_t i = 0; i < s->nlists; i++)
        rules_list_free(s->lists[i]);
    free(s->lists);
    pcre2_match_context_free(s->mctx);
    free(s);
}

size_t rules_set_size(const struct rules_set *s)
{
    return s->n;
}

static dm_err bad(struct dm_error *err, const char *where, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static dm_err bad(struct dm_error *err, const char *where, const char *field, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return dm_fail(err, DM_EINVAL, "%s%s%s: %s", where, field[0] ? "." : "", field, msg);
}

static dm_err compile_re(const char *pattern, size_t len, pcre2_code **out, const char *where,
                         const char *field, struct dm_error *err)
{
    int code = 0;
    PCRE2_SIZE off = 0;
    *out = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &code,
                         &off, NULL);
    if (!*out) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        return bad(err, where, field, "not a valid regular expression (%s, at character %zu)",
                   (const char *)msg, (size_t)off);
    }
    pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE); /* faster when available; the limits still hold */
    return DM_OK;
}

/* Only the keys named (NULL-ended) besides "type" and "negate". */
static dm_err only_keys(const json_t *o, const char *const *keys, size_t nkeys, const char *where,
                        struct dm_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        bool ok = false;
        for (size_t i = 0; i < nkeys && !ok; i++)
            ok = keys[i] && strcmp(k, keys[i]) == 0;
        if (!ok) return bad(err, where, k, "unknown field");
    }
    return DM_OK;
}

static dm_err fold_word(const char *w, char **out)
{
    size_t len = 0;
    return fold_text(w, strlen(w), out, &len);
}

/* The texts of words (the field `field`), folded, into c->words. */
static dm_err cond_words(struct cond *c, const json_t *words, const char *where, const char *field,
                         struct dm_error *err)
{
    if (!json_is_array(words) || json_array_size(words) == 0 || json_array_size(words) > WORDS_MAX)
        return bad(err, where, field, "must be a list of 1 to %d texts", WORDS_MAX);
    if (!(c->words = calloc(json_array_size(words), sizeof *c->words)))
        return dm_fail(err, DM_ENOMEM, "out of memory");
    size_t i;
    json_t *w;
    json_array_foreach(words, i, w)
    {
        const char *t = json_string_value(w);
        if (!t || !t[0] || strlen(t) > 256)
            return bad(err, where, field, "each must be text of 1 to 256 bytes");
        if (fold_word(t, &c->words[c->nwords])) return dm_fail(err, DM_ENOMEM, "out of memory");
        c->nwords++;
    }
    return DM_OK;
}

static dm_err list_of(struct rules_set *s, const char *name, rules_list_loader load, void *ctx,
                      struct rules_list **out, struct dm_error *err)
{
    for (size_t i = 0; i < s->nlists; i++)
        if (strcmp(rules_list_name(s->lists[i]), name) == 0) return (*out = s->lists[i]), DM_OK;
    struct rules_list *l = rules_list_new(name);
    struct rules_list **nl = realloc(s->lists, (s->nlists + 1) * sizeof *nl);
    if (!l || !nl) {
        rules_list_free(l);
        if (nl) s->lists = nl;
        return dm_fail(err, DM_ENOMEM, "out of memory");
    }
    s->lists = nl;
    dm_err e =
        load ? load(ctx, name, l, err) : dm_fail(err, DM_ENOTFOUND, "no list called %s", name);
    if (e) {
        rules_list_free(l);
        return e;
    }
    rules_list_seal(l);
    s->lists[s->nlists++] = l;
    *out = l;
    return DM_OK;
}

static dm_err cond_compile(struct rules_set *s, struct cond *c, const json_t *o, const char *where,
                           rules_list_loader load, void *load_ctx, struct dm_error *err)
{
    if (!json_is_object(o)) return bad(err, where, "", "must be an object");
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type) return bad(err, where, "type", "is required: the kind of condition");
    int t = -1;
    for (int i = 0; i < C_COUNT; i++)
        if (strcmp(type, cond_names[i]) == 0) t = i;
    if (t < 0) return bad(err, where, "type", "unknown condition \"%.40s\"", type);
    c->type = (enum cond_type)t;
    const char *keys[6] = {
        "type",           "negate", cond_fields[t][0], cond_fields[t][1], cond_fields[t][2],
        cond_fields[t][3]};
    dm_err e = only_keys(o, keys, 6, where, err);
    if (e) return e;
    const json_t *neg = json_object_get(o, "negate");
    if (neg && !json_is_boolean(neg)) return bad(err, where, "negate", "must be true or false");
    c->negate = json_is_true(neg);
    const json_t *v;
    switch (c->type) {
    case C_LANGUAGE:
        v = json_object_get(o, "in");
        if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > LANGS_MAX)
            return bad(err, where, "in", "must be a list of 1 to %d language codes", LANGS_MAX);
        return cond_words(c, v, where, "in", err);
    case C_NAME_MATCHES:
    case C_BIO_MATCHES: {
        const json_t *words = json_object_get(o, "words"), *re = json_object_get(o, "regex");
        if (!words == !re) return bad(err, where, "words", "give either words or regex");
        if (words) return cond_words(c, words, where, "words", err);
        const char *p = json_string_value(re);
        if (!p || !p[0] || strlen(p) > REGEX_MAX)
            return bad(err, where, "regex", "must be text of 1 to %d bytes", REGEX_MAX);
        return compile_re(p, strlen(p), &c->re, where, "regex", err);
    }
    case C_NAME_SCRIPT: {
        const char *sc = json_string_value(json_object_get(o, "script"));
        bool ok = sc && sc[0] && strlen(sc) <= 40;
        for (const char *p = sc; ok && *p; p++)
            ok = isalpha((unsigned char)*p) || *p == '_';
        if (!ok) return bad(err, where, "script", "must be a Unicode script name, e.g. Han");
        char pat[64];
        int n = snprintf(pat, sizeof pat, "\\p{%s}", sc);
        if (compile_re(pat, (size_t)n, &c->re, where, "script", err))
            return bad(err, where, "script", "unknown Unicode script \"%s\"", sc);
        return DM_OK;
    }
    case C_BIO_HAS_LINK:
        return compile_re(LINK_RE, sizeof LINK_RE - 1, &c->re, where, "", err);
    case C_BIO_HAS_MENTION:
        return compile_re(MENTION_RE, sizeof MENTION_RE - 1, &c->re, where, "", err);
    case C_USER_ID_ABOVE:
        v = json_object_get(o, "value");
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return bad(err, where, "value", "must be a user id (an integer ≥ 0)");
        c->value = json_integer_value(v);
        return DM_OK;
    case C_INVITE_LINK: {
        v = json_object_get(o, "link");
        if (!v || !(json_is_null(v) || json_is_string(v)))
            return bad(err, where, "link", "must be an invite link, or null for none");
        const char *l = json_is_null(v) ? "" : json_string_value(v);
        if (json_is_string(v) && (!l[0] || strlen(l) > 256))
            return bad(err, where, "link", "must be 1 to 256 bytes, or null for none");
        if (!(c->text = strdup(l))) return dm_fail(err, DM_ENOMEM, "out of memory");
        return DM_OK;
    }
    case C_IN_LIST: {
        const char *name = json_string_value(json_object_get(o, "list"));
        if (!name || !name[0] || strlen(name) > 64)
            return bad(err, where, "list", "must name a list");
        e = list_of(s, name, load, load_ctx, &c->list, err);
        if (e == DM_ENOTFOUND) return bad(err, where, "list", "no list called %s", name);
        return e;
    }
    case C_WAVE: {
        const json_t *k = json_object_get(o, "count"), *m = json_object_get(o, "minutes");
        const char *per = json_string_value(json_object_get(o, "per"));
        if (!json_is_integer(k) || json_integer_value(k) < 1 || json_integer_value(k) > 1000000)
            return bad(err, where, "count", "must be an integer from 1 to 1000000");
        if (!json_is_integer(m) || json_integer_value(m) < 1 || json_integer_value(m) > 10080)
            return bad(err, where, "minutes", "must be an integer from 1 to 10080 (a week)");
        if (!per || (strcmp(per, "link") != 0 && strcmp(per, "channel") != 0))
            return bad(err, where, "per", "must be \"link\" or \"channel\"");
        c->value = json_integer_value(k);
        c->seconds = json_integer_value(m) * 60;
        c->same_link = strcmp(per, "link") == 0;
        return DM_OK;
    }
    default:
        return DM_OK;
    }
}

dm_err rules_set_add(struct rules_set *s, int64_t id, const char *name, const json_t *spec,
                     const char *where, rules_list_loader load, void *load_ctx,
                     struct dm_error *err)
{
    if (!json_is_object(spec)) return bad(err, where, "", "must be an object");
    static const char *const keys[] = {"conditions", "action", "delay_seconds", "name", "enabled"};
    dm_err e = only_keys(spec, keys, DM_ARRAY_LEN(keys), where, err);
    if (e) return e;
    struct rule r = {.id = id, .action = -1};
    const char *act = json_string_value(json_object_get(spec, "action"));
    for (int i = 0; act && i < RULE_ACTION_COUNT; i++)
        if (strcmp(act, action_names[i]) == 0) r.action = i;
    if (r.action < 0)
        return bad(err, where, "action",
                   "must be one of approve, decline, decline_and_ban, "
                   "hold, approve_after, verify");
    const json_t *d = json_object_get(spec, "delay_seconds");
    if (r.action == RULE_APPROVE_AFTER) {
        if (!json_is_integer(d) || json_integer_value(d) < RULES_DELAY_MIN ||
            json_integer_value(d) > RULES_DELAY_MAX)
            return bad(err, where, "delay_seconds", "must be an integer from %d to %d",
                       RULES_DELAY_MIN, RULES_DELAY_MAX);
        r.delay = json_integer_value(d);
    } else if (d) {
        return bad(err, where, "delay_seconds", "only approve_after takes a delay");
    }
    const json_t *conds = json_object_get(spec, "conditions");
    if (conds && (!json_is_array(conds) || json_array_size(conds) > CONDS_MAX))
        return bad(err, where, "conditions", "must be a list of at most %d conditions", CONDS_MAX);
    size_t n = json_array_size(conds);
    if (n && !(r.conds = calloc(n, sizeof *r.conds)))
        return dm_fail(err, DM_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !e; i++) {
        char w[96];
        snprintf(w, sizeof w, "%s.conditions[%zu]", where, i);
        e = cond_compile(s, &r.conds[i], json_array_get(conds, i), w, load, load_ctx, err);
        r.nconds = i + 1;
    }
    if (!e && !(r.name = strdup(name ? name : ""))) e = dm_fail(err, DM_ENOMEM, "out of memory");
    if (!e && s->n == s->alloc) {
        size_t na = s->alloc ? s->alloc * 2 : 16;
        struct rule *nr = realloc(s->rules, na * sizeof *nr);
        if (!nr)
            e = dm_fail(err, DM_ENOMEM, "out of memory");
        else {
            s->rules = nr;
            s->alloc = na;
        }
    }
    if (e) {
        rule_release(&r);
        return e;
    }
    s->rules[s->n++] = r;
    return DM_OK;
}

/* ---- evaluating ---- */

struct rules_scratch *rules_scratch_new(void)
{
    struct rules_scratch *x = calloc(1, sizeof *x);
    if (x && !(x->md = pcre2_match_data_create(1, NULL))) {
        free(x);
        return NULL;
    }
    return x;
}

static void scratch_reset(struct rules_scratch *x)
{
    free(x->name);
    free(x->bio);
    free(x->name_raw);
    x->name = x->bio = x->name_raw = NULL;
    x->bio_len = SIZE_MAX;
}

void rules_scratch_free(struct rules_scratch *x)
{
    if (!x) return;
    scratch_reset(x);
    pcre2_match_data_free(x->md);
    free(x);
}

/* The request's text a condition reads; NULL when out of memory. */
static const char *name_raw(struct rules_scratch *x, const struct rules_request *r)
{
    if (x->name_raw) return x->name_raw;
    size_t a = strlen(r->first_name), b = strlen(r->last_name);
    if (!(x->name_raw = malloc(a + b + 2))) return NULL;
    memcpy(x->name_raw, r->first_name, a);
    x->name_raw[a] = ' ';
    memcpy(x->name_raw + a + 1, r->last_name, b + 1);
    x->name_len = a + b + 1;
    return x->name_raw;
}

static size_t bio_len(struct rules_scratch *x, const struct rules_request *r)
{
    if (x->bio_len == SIZE_MAX) x->bio_len = strlen(r->bio);
    return x->bio_len;
}

static const char *folded(struct rules_scratch *x, const struct rules_request *r, bool bio)
{
    char **slot = bio ? &x->bio : &x->name;
    if (*slot) return *slot;
    const char *raw = bio ? r->bio : name_raw(x, r);
    if (!raw || fold_text(raw, bio ? bio_len(x, r) : x->name_len, slot, NULL)) *slot = NULL;
    return *slot;
}

static bool re_match(const struct rules_set *s, struct rules_scratch *x, const pcre2_code *re,
                     const char *text, size_t len)
{
    /* a pattern that runs out of its limits (or any error) is no match */
    return pcre2_match(re, (PCRE2_SPTR)text, len, 0, 0, x->md, s->mctx) >= 0;
}

static bool any_word(const struct cond *c, const char *text)
{
    for (size_t i = 0; i < c->nwords; i++)
        if (strstr(text, c->words[i])) return true;
    return false;
}

/* Language tags are ASCII: compared without case, "en" taking "en" and "en-US". */
static bool lang_in(const struct cond *c, const char *lang)
{
    for (size_t i = 0; lang[0] && i < c->nwords; i++) {
        size_t n = strlen(c->words[i]);
        if (strncasecmp(lang, c->words[i], n) == 0 && (lang[n] == 0 || lang[n] == '-')) return true;
    }
    return false;
}

/* Whether c holds before negation; *oom on running out of memory. */
static bool cond_holds(const struct rules_set *s, const struct cond *c,
                       const struct rules_request *r, const struct rules_context *ctx,
                       struct rules_scratch *x, bool *oom)
{
    const char *t;
    switch (c->type) {
    case C_HAS_USERNAME:
        return r->username[0] != 0;
    case C_IS_PREMIUM:
        return r->is_premium;
    case C_IS_SCAM:
        return r->is_scam;
    case C_IS_FAKE:
        return r->is_fake;
    case C_LANGUAGE:
        return lang_in(c, r->language_code);
    case C_NAME_MATCHES:
    case C_BIO_MATCHES: {
        bool bio = c->type == C_BIO_MATCHES;
        if (c->re) {
            t = bio ? r->bio : name_raw(x, r);
            if (!t) return *oom = true, false;
            return re_match(s, x, c->re, t, bio ? bio_len(x, r) : x->name_len);
        }
        t = folded(x, r, bio);
        if (!t) return *oom = true, false;
        return any_word(c, t);
    }
    case C_NAME_SCRIPT:
        t = name_raw(x, r);
        if (!t) return *oom = true, false;
        return re_match(s, x, c->re, t, x->name_len);
    case C_BIO_HAS_LINK: /* every link has a dot */
        return strchr(r->bio, '.') && re_match(s, x, c->re, r->bio, bio_len(x, r));
    case C_BIO_HAS_MENTION:
        return strchr(r->bio, '@') && re_match(s, x, c->re, r->bio, bio_len(x, r));
    case C_USER_ID_ABOVE:
        return r->user_id > c->value;
    case C_INVITE_LINK:
        return strcmp(r->invite_link, c->text) == 0;
    case C_IN_LIST:
        return rules_list_has(c->list, r->user_id, r->username);
    case C_DECLINED_BEFORE:
        return ctx && ctx->declined_before && ctx->declined_before(ctx->ctx, r);
    case C_WAVE:
        return ctx && ctx->wave_count &&
               ctx->wave_count(ctx->ctx, r, c->same_link, c->seconds) > c->value;
    default:
        return false;
    }
}

static bool costly(const struct cond *c)
{
    return c->type == C_HAS_PHOTO || c->type == C_BLOCKLISTED;
}

/* What the context answers for a condition it has to ask: 1 holds, 0 does not, RULES_UNKNOWN
 * or RULES_LATER (rules.h). */
static int asked(const struct cond *c, const struct rules_request *r,
                 const struct rules_context *ctx)
{
    int (*ask)(void *, const struct rules_request *) = NULL;
    if (ctx)
        ask = c->type == C_MEMBER_ELSEWHERE ? ctx->member_elsewhere
              : c->type == C_HAS_PHOTO      ? ctx->has_photo
                                            : ctx->blocklisted;
    return ask ? ask(ctx->ctx, r) : RULES_UNKNOWN;
}

/* Whether every condition of rule holds: the cheap ones first, then those that cost a call,
 * so a rule that fails on a name never asks Telegram. A condition the context cannot answer
 * makes the rule not hold (negated or not) and sets *unknown, or *later when asking failed. */
static bool rule_holds(const struct rules_set *s, const struct rule *rule,
                       const struct rules_request *r, const struct rules_context *ctx,
                       struct rules_scratch *x, bool *oom, bool *unknown, bool *later)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t j = 0; j < rule->nconds; j++) {
            const struct cond *c = &rule->conds[j];
            if (costly(c) != (pass == 1)) continue;
            bool holds;
            if (c->type == C_MEMBER_ELSEWHERE || costly(c)) {
                int a = asked(c, r, ctx);
                if (a == RULES_LATER) return *later = true, false;
                if (a < 0) return *unknown = true, false;
                holds = a == 1;
            } else {
                holds = cond_holds(s, c, r, ctx, x, oom);
                if (*oom) return false;
            }
            if (holds == c->negate) return false;
        }
    return true;
}

dm_err rules_eval(const struct rules_set *s, const struct rules_request *r,
                  const struct rules_context *ctx, struct rules_scratch *x,
                  struct rules_verdict *out)
{
    *out = (struct rules_verdict){.index = -1, .action = -1, .later = -1};
    scratch_reset(x);
    bool oom = false;
    for (size_t i = 0; i < s->n; i++) {
        const struct rule *rule = &s->rules[i];
        bool unknown = false, later = false;
        bool all = rule_holds(s, rule, r, ctx, x, &oom, &unknown, &later);
        if (oom) return DM_ENOMEM;
        out->unknown += unknown;
        if (later) {
            out->later = (int)i;
            out->rule_id = rule->id;
            out->rule_name = rule->name;
            return DM_OK;
        }
        if (all) {
            *out = (struct rules_verdict){(int)i,      rule->id,     rule->name, rule->action,
                                          rule->delay, out->unknown, .later = -1};
            for (size_t j = 0; j < rule->nconds; j++)
                out->wave |= rule->conds[j].type == C_WAVE && !rule->conds[j].negate;
            return DM_OK;
        }
    }
    return DM_OK;
}
