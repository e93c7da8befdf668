/* judge.c: a mode's and its rules' verdicts over stored requests (see judge.h). */
#include "core/common.h"
#include "jobs/judge.h"

#include "jobs/deliver.h"

#include "blocklist/cas.h"
#include "core/log.h"
#include "rules/dryrun.h"
#include "telegram/account.h"
#include "verify/challenge.h"

#define CHATS_MAX 64 /* channels kept loaded between resets */

static const char *const C = "rules";

struct loaded {
    int64_t chat_id;
    struct store_mode mode;
    struct rules_set *set; /* NULL when its rules could not be read: why in error */
    size_t nchan;          /* the channel's own rules come first in set */
    char error[STORE_ERROR_MAX];
    struct account *account;           /* the mode's, opened when a rule first asks Telegram */
    struct store_challenge *challenge; /* read when a rule first says verify; NULL: none set */
    bool challenge_read;
};

#define WAVES_KEPT 32
#define WAVE_QUIET_S 600

struct judge {
    struct store *st;
    const struct accounts *as;
    bool rules_always;
    char blocklist[STORE_TEXT_MAX]; /* the blocklist service's URL; "" when off */
    struct rules_scratch *x;
    struct loaded chats[CHATS_MAX];
    size_t n;
    /* the request being judged, for the context */
    bool recheck;
    struct loaded *cur; /* its channel */
    bool failed;        /* the store failed a question of the context: the verdict cannot stand */
    struct dm_error why;
    char later_why[STORE_ERROR_MAX]; /* why a costly check failed now (RULES_LATER) */
    int64_t wave_seen;               /* the largest wave count asked for the request */
    /* the waves told of (EV_WAVE): once per channel and rule until WAVE_QUIET_S pass */
    struct {
        int64_t chat_id, rule_id, at;
    } waves[WAVES_KEPT];
};

dm_err judge_new(struct store *st, const struct accounts *as, bool rules_always, struct judge **out,
                 struct dm_error *err)
{
    struct judge *j = calloc(1, sizeof *j);
    if (j) j->x = rules_scratch_new();
    if (!j || !j->x) {
        judge_free(j);
        return dm_fail(err, DM_ENOMEM, "out of memory for the rules");
    }
    j->st = st;
    j->as = as;
    j->rules_always = rules_always;
    judge_reset(j);
    *out = j;
    return DM_OK;
}

void judge_reset(struct judge *j)
{
    for (size_t i = 0; i < j->n; i++) {
        rules_set_free(j->chats[i].set);
        account_close(j->chats[i].account);
        free(j->chats[i].challenge);
    }
    j->n = 0;
    char *url = NULL;
    j->blocklist[0] = 0;
    if (store_setting_get(j->st, JUDGE_BLOCKLIST_SETTING, &url, NULL) == DM_OK)
        dm_strlcpy(j->blocklist, url, sizeof j->blocklist);
    free(url);
}

void judge_free(struct judge *j)
{
    if (!j) return;
    judge_reset(j);
    rules_scratch_free(j->x);
    free(j);
}

/* The channel's mode (its own, else the default's, else manual) and, when it decides by rules,
 * its rule set. Only the store failing is an error; rules that do not compile are kept as
 * l->error. */
static dm_err load(struct judge *j, int64_t chat_id, struct loaded **out, struct dm_error *err)
{
    for (size_t i = 0; i < j->n; i++)
        if (j->chats[i].chat_id == chat_id) return *out = &j->chats[i], DM_OK;
    if (j->n == CHATS_MAX) judge_reset(j); /* j->cur is set again by the caller */
    struct loaded *l = &j->chats[j->n];
    memset(l, 0, sizeof *l);
    l->chat_id = chat_id;
    dm_err e = store_mode_get(j->st, chat_id, &l->mode, err);
    if (e == DM_ENOTFOUND) e = store_mode_get(j->st, 0, &l->mode, err);
    if (e == DM_ENOTFOUND) {
        l->mode = (struct store_mode){.mode = MODE_MANUAL};
        e = DM_OK;
    }
    if (e) return e;
    if (l->mode.mode == MODE_MANUAL && j->rules_always) l->mode.mode = MODE_RULES;
    if (l->mode.mode == MODE_RULES) {
        if (!(l->set = rules_set_new())) return dm_fail(err, DM_ENOMEM, "out of memory");
        struct dm_error rerr = {0};
        e = rules_load_stored(j->st, chat_id, l->set, &rerr);
        l->nchan = rules_set_size(l->set);
        if (!e) e = rules_load_stored(j->st, 0, l->set, &rerr);
        if (e == DM_EDB || e == DM_EUNAVAILABLE || e == DM_ENOMEM) {
            rules_set_free(l->set);
            return dm_fail(err, e, "%s", rerr.msg);
        }
        if (e) {
            log_warn(C, "the rules of channel %" PRId64 " cannot be used: %s", chat_id, rerr.msg);
            dm_snprintf_utf8(l->error, sizeof l->error, "rules not applied: %s", rerr.msg);
            rules_set_free(l->set);
            l->set = NULL;
        }
    }
    j->n++;
    *out = l;
    return DM_OK;
}

/* ---- the live context: what the store knows around a request ---- */

static int64_t wave_count(void *ctx, const struct rules_request *r, bool same_link, int64_t seconds)
{
    struct judge *j = ctx;
    int64_t n = 0;
    int64_t to = j->recheck ? r->tg_date + seconds : r->tg_date;
    if (store_wave_count(j->st, r->chat_id, same_link ? r->invite_link : NULL, r->tg_date - seconds,
                         to, &n, &j->why))
        j->failed = true;
    j->wave_seen = DM_MAX(j->wave_seen, n);
    return n;
}

static bool declined_before(void *ctx, const struct rules_request *r)
{
    struct judge *j = ctx;
    bool yes = false;
    if (store_user_declined(j->st, r->chat_id, r->user_id, &yes, &j->why)) j->failed = true;
    return yes;
}

static int member_elsewhere(void *ctx, const struct rules_request *r)
{
    struct judge *j = ctx;
    bool yes = false;
    if (store_user_member_elsewhere(j->st, r->chat_id, r->user_id, &yes, &j->why)) j->failed = true;
    return yes;
}

/* Asked of Telegram through the channel's mode's account: RULES_LATER when it cannot answer
 * now. */
static int has_photo(void *ctx, const struct rules_request *r)
{
    struct judge *j = ctx;
    struct loaded *l = j->cur;
    struct dm_error err = {0};
    if (!l->account &&
        account_open(j->as, l->mode.via[0] ? l->mode.via : ACCOUNT_BOT, &l->account, &err)) {
        dm_strlcpy(j->later_why, err.msg, sizeof j->later_why);
        return RULES_LATER;
    }
    struct account_request req = {r->id, r->chat_id, r->user_id};
    struct tg_error te;
    bool yes = false;
    if (account_has_photo(l->account, &req, &yes, &te)) {
        log_warn(C, "has_photo of user %" PRId64 " not known now: %s", r->user_id, te.e.msg);
        dm_strlcpy(j->later_why, te.e.msg, sizeof j->later_why);
        return RULES_LATER;
    }
    return yes;
}

static int blocklisted(void *ctx, const struct rules_request *r)
{
    struct judge *j = ctx;
    if (!j->blocklist[0]) return RULES_UNKNOWN; /* off */
    bool listed = false;
    struct dm_error err = {0};
    if (cas_lookup(j->blocklist, r->user_id, &listed, &err)) {
        log_warn(C, "on_blocklist of user %" PRId64 " not known now: %s", r->user_id, err.msg);
        dm_strlcpy(j->later_why, err.msg, sizeof j->later_why);
        return RULES_LATER;
    }
    return listed;
}

/* ---- verdicts ---- */

static const char *action_words(int action, int64_t delay, char *buf, size_t n)
{
    switch (action) {
    case RULE_APPROVE:
        return "approve";
    case RULE_DECLINE:
        return "decline";
    case RULE_DECLINE_AND_BAN:
        return "decline and ban";
    case RULE_HOLD:
        return "hold for review";
    case RULE_VERIFY:
        return "verify";
    default:
        snprintf(buf, n, "approve after %" PRId64 " s", delay);
        return buf;
    }
}

/* When a delay starts: when doorman recorded the request (Telegram's date when that is later,
 * a clock ahead). Not Telegram's date alone: requests loaded late, or a wave delivered in a
 * burst, would have their delays over on arrival, before the rest of a wave is recorded. */
static int64_t recorded(const struct store_request *r)
{
    return DM_MAX(r->created_at, r->tg_date);
}

/* The verdict of the rules for r: the action a rule took, as a due action. */
static void rules_verdict(const struct loaded *l, const struct store_request *r,
                          const struct rules_verdict *v, bool recheck, int64_t now,
                          struct store_verdict *out)
{
    char words[48];
    bool global = (size_t)v->index >= l->nchan;
    int number = global ? v->index - (int)l->nchan + 1 : v->index + 1;
    const char *name = v->rule_name ? v->rule_name : "";
    dm_snprintf_utf8(out->text, sizeof out->text, "%srule %d%s%s → %s", global ? "global " : "",
                     number, name[0] ? ": " : "", name,
                     action_words(v->action, v->delay_seconds, words, sizeof words));
    out->rule_id = v->rule_id;
    out->due_at = now;
    switch (v->action) {
    case RULE_APPROVE:
        out->action = DUE_APPROVE;
        break;
    case RULE_DECLINE:
        out->action = DUE_DECLINE;
        break;
    case RULE_DECLINE_AND_BAN:
        out->action = DUE_BAN;
        break;
    case RULE_HOLD:
    case RULE_VERIFY: /* stays pending: its verification decides (judge_request) */
        out->action = DUE_NONE;
        break;
    default: /* approve_after: checked again when due; once due, approved */
        out->action = recheck ? DUE_APPROVE : DUE_RECHECK;
        if (!recheck) out->due_at = DM_MAX(now, recorded(r) + v->delay_seconds);
    }
}

/* The channel's challenge (its own, else the default), read once per batch; NULL when there is
 * none. */
static dm_err challenge_of(struct judge *j, struct loaded *l, const struct store_challenge **out,
                           struct dm_error *err)
{
    if (!l->challenge_read) {
        if (!(l->challenge = malloc(sizeof *l->challenge)))
            return dm_fail(err, DM_ENOMEM, "out of memory");
        dm_err e = store_challenge_of(j->st, l->chat_id, l->challenge, err);
        if (e == DM_ENOTFOUND) {
            free(l->challenge);
            l->challenge = NULL;
        } else if (e) {
            free(l->challenge);
            l->challenge = NULL;
            return e;
        }
        l->challenge_read = true;
    }
    *out = l->challenge;
    return DM_OK;
}

/* A verify verdict: the verification begins with the channel's challenge and its time limit.
 * The request is held for the admins instead, the verdict saying why, without a challenge, and
 * when it is too old for the applicant to be reached (Telegram lets the bot write to them for
 * DELIVER_WINDOW_S after the request; a backlog judged by Apply, requests loaded late): its
 * verification would only time out. */
static dm_err verify_verdict(struct judge *j, struct loaded *l, const struct store_request *r,
                             int64_t now, struct store_verdict *out, struct dm_error *err)
{
    size_t n = strlen(out->text);
    if (r->tg_date < now - DELIVER_WINDOW_S) {
        dm_snprintf_utf8(out->text + n, sizeof out->text - n,
                         " (too late to reach the applicant: held for the admins)");
        return DM_OK;
    }
    const struct store_challenge *c = NULL;
    dm_err e = challenge_of(j, l, &c, err);
    if (e) return e;
    int64_t limit = 0;
    if (c && challenge_time_limit(c->spec, &limit) == DM_OK) {
        out->challenge = c->spec;
        out->verify_deadline = now + limit;
        return DM_OK;
    }
    dm_snprintf_utf8(out->text + n, sizeof out->text - n,
                     c ? " (the channel's challenge cannot be read: held for the admins)"
                       : " (no challenge is set: held for the admins)");
    return DM_OK;
}

/* A rule that could not be checked now: nothing after it decides; judged again in a minute. */
static void later_verdict(const struct loaded *l, const struct rules_verdict *v, const char *why,
                          int64_t now, struct store_verdict *out)
{
    bool global = (size_t)v->later >= l->nchan;
    int number = global ? v->later - (int)l->nchan + 1 : v->later + 1;
    const char *name = v->rule_name ? v->rule_name : "";
    dm_snprintf_utf8(out->text, sizeof out->text,
                     "%srule %d%s%s could not be checked now (%s); trying again in %d s",
                     global ? "global " : "", number, name[0] ? ": " : "", name, why,
                     JUDGE_RETRY_S);
    out->rule_id = v->rule_id;
    out->action = DUE_RETRY;
    out->due_at = now + JUDGE_RETRY_S;
}

/* Tells of a wave the rule of v caught (EV_WAVE), unless it was told of for this channel and
 * rule in the last WAVE_QUIET_S: a wave of a thousand requests is one alert. */
static void wave_caught(struct judge *j, const struct store_request *r,
                        const struct rules_verdict *v, int64_t now)
{
    size_t slot = 0;
    for (size_t i = 0; i < WAVES_KEPT; i++) {
        if (j->waves[i].chat_id == r->chat_id && j->waves[i].rule_id == v->rule_id) {
            if (now - j->waves[i].at < WAVE_QUIET_S) return;
            slot = i;
            break;
        }
        if (j->waves[i].at < j->waves[slot].at) slot = i;
    }
    j->waves[slot].chat_id = r->chat_id;
    j->waves[slot].rule_id = v->rule_id;
    j->waves[slot].at = now;
    struct store_event ev = {.kind = EV_WAVE,
                             .at = now,
                             .chat_id = r->chat_id,
                             .request_id = r->id,
                             .user_id = r->user_id,
                             .amount = j->wave_seen};
    dm_strlcpy(ev.result, rule_action_name(v->action), sizeof ev.result);
    dm_snprintf_utf8(ev.detail, sizeof ev.detail, "%s", v->rule_name ? v->rule_name : "");
    snprintf(ev.subject, sizeof ev.subject, "rule %" PRId64, v->rule_id);
    struct dm_error err = {0};
    if (store_event_add(j->st, &ev, &err))
        log_warn(C, "could not record a wave's event: %s", err.msg);
}

dm_err judge_request(struct judge *j, const struct store_request *r, bool recheck, int64_t now,
                     struct store_verdict *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    out->request_id = r->id;
    out->action = DUE_NONE;
    struct loaded *l = NULL;
    dm_err e = load(j, r->chat_id, &l, err);
    if (e) return e;
    const struct store_mode *m = &l->mode;
    if (m->mode == MODE_APPROVE_ALL) {
        out->action = DUE_APPROVE;
        out->due_at = now;
        if (m->per_hour > 0) {
            out->per_hour = m->per_hour;
            snprintf(out->text, sizeof out->text, "approve all, %" PRId64 " an hour", m->per_hour);
        } else if (m->delay_seconds > 0) {
            out->due_at = DM_MAX(now, recorded(r) + m->delay_seconds);
            snprintf(out->text, sizeof out->text, "approve all after %" PRId64 " s",
                     m->delay_seconds);
        } else {
            snprintf(out->text, sizeof out->text, "approve all");
        }
        return DM_OK;
    }
    if (m->mode != MODE_RULES) return DM_OK;
    if (!l->set) {
        dm_strlcpy(out->text, l->error, sizeof out->text);
        return DM_OK;
    }
    j->recheck = recheck;
    j->cur = l;
    j->failed = false;
    j->wave_seen = 0;
    struct rules_context ctx = {.wave_count = wave_count,
                                .declined_before = declined_before,
                                .member_elsewhere = member_elsewhere,
                                .has_photo = has_photo,
                                .blocklisted = blocklisted,
                                .ctx = j};
    struct rules_request rr = rules_request_of(r);
    struct rules_verdict v;
    if (rules_eval(l->set, &rr, &ctx, j->x, &v))
        return dm_fail(err, DM_ENOMEM, "out of memory evaluating rules");
    if (j->failed) return dm_fail(err, DM_EUNAVAILABLE, "%s", j->why.msg);
    if (v.index >= 0 && v.wave) wave_caught(j, r, &v, now);
    if (v.later >= 0)
        later_verdict(l, &v, j->later_why, now, out);
    else if (v.index >= 0)
        rules_verdict(l, r, &v, recheck, now, out);
    if (v.later < 0 && v.index >= 0 && v.action == RULE_VERIFY)
        return verify_verdict(j, l, r, now, out, err);
    return DM_OK;
}
