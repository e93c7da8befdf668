/* dryrun.c: rules over the store (see dryrun.h). */
#include "core/common.h"
#include "rules/dryrun.h"

#include "rules/history.h"

#define SCAN_PAGE 1000
#define LIST_PAGE 1000

dm_err rules_store_list_loader(void *st, const char *name, struct rules_list *l,
                               struct dm_error *err)
{
    struct store_list meta;
    dm_err e = store_list_get(st, name, &meta, err);
    struct store_list_entry *page = e ? NULL : malloc(LIST_PAGE * sizeof *page);
    if (!e && !page) e = dm_fail(err, DM_ENOMEM, "out of memory reading list %s", name);
    char after[STORE_NAME_MAX] = "";
    for (int n = LIST_PAGE; !e && n == LIST_PAGE;) {
        e = store_list_entries(st, name, after, LIST_PAGE, page, &n, err);
        for (int i = 0; !e && i < n; i++)
            rules_list_add(l, page[i].entry);
        if (!e && n) dm_strlcpy(after, page[n - 1].entry, sizeof after);
    }
    free(page);
    return e;
}

dm_err rules_load_stored(struct store *st, int64_t chat_id, struct rules_set *s,
                         struct dm_error *err)
{
    struct store_rule *rules = NULL;
    size_t n = 0;
    dm_err e = store_rule_list(st, chat_id, &rules, &n, err);
    for (size_t i = 0; i < n && !e; i++) {
        if (!rules[i].enabled) continue;
        json_error_t jerr;
        json_t *spec = json_loads(rules[i].spec, 0, &jerr);
        char where[64];
        snprintf(where, sizeof where, "rule %" PRId64, rules[i].id);
        e = spec ? rules_set_add(s, rules[i].id, rules[i].name, spec, where,
                                 rules_store_list_loader, st, err)
                 : dm_fail(err, DM_EINVAL, "%s: its stored text is not JSON", where);
        json_decref(spec);
    }
    free(rules);
    return e;
}

struct rules_request rules_request_of(const struct store_request *r)
{
    return (struct rules_request){
        .id = r->id,
        .chat_id = r->chat_id,
        .user_id = r->user_id,
        .tg_date = r->tg_date,
        .first_name = r->first_name,
        .last_name = r->last_name,
        .username = r->username,
        .bio = r->bio,
        .invite_link = r->invite_link,
        .language_code = r->language_code,
        .is_premium = r->is_premium,
        .is_scam = r->is_scam,
        .is_fake = r->is_fake,
    };
}

/* The dry run's context: the history's answers, and the store's for member_elsewhere. It asks
 * neither Telegram nor the blocklist service: has_photo and on_blocklist stay unknown. */
struct dry_context {
    struct store *st;
    struct rules_context history;
};

static int64_t dry_wave_count(void *ctx, const struct rules_request *r, bool same_link,
                              int64_t seconds)
{
    const struct rules_context *h = &((struct dry_context *)ctx)->history;
    return h->wave_count(h->ctx, r, same_link, seconds);
}

static bool dry_declined_before(void *ctx, const struct rules_request *r)
{
    const struct rules_context *h = &((struct dry_context *)ctx)->history;
    return h->declined_before(h->ctx, r);
}

static int dry_member_elsewhere(void *ctx, const struct rules_request *r)
{
    struct dry_context *dc = ctx;
    bool yes = false;
    return store_user_member_elsewhere(dc->st, r->chat_id, r->user_id, &yes, NULL) ? -1 : yes;
}

static void example(struct rules_dryrun *out, int o, const struct store_request *r,
                    const struct rules_verdict *v)
{
    if (out->nexamples[o] == RULES_EXAMPLES_MAX) return;
    struct rules_example *x = &out->examples[o][out->nexamples[o]++];
    x->request_id = r->id;
    x->user_id = r->user_id;
    dm_strlcpy(x->first_name, r->first_name, sizeof x->first_name);
    dm_strlcpy(x->last_name, r->last_name, sizeof x->last_name);
    dm_strlcpy(x->username, r->username, sizeof x->username);
    x->rule_index = v->index;
    x->rule_id = v->rule_id;
    dm_strlcpy(x->rule_name, v->rule_name ? v->rule_name : "", sizeof x->rule_name);
}

dm_err rules_dryrun(struct store *st, const struct rules_set *s, int64_t chat_id,
                    struct rules_dryrun *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    struct store_request *page = malloc(SCAN_PAGE * sizeof *page);
    struct rules_history *h = rules_history_new();
    struct rules_scratch *x = rules_scratch_new();
    dm_err e = page && h && x ? DM_OK : dm_fail(err, DM_ENOMEM, "out of memory for a dry run");
    struct dry_context dc = {st, h ? rules_history_context(h) : (struct rules_context){0}};
    struct rules_context ctx = {.wave_count = dry_wave_count,
                                .declined_before = dry_declined_before,
                                .member_elsewhere = dry_member_elsewhere,
                                .ctx = &dc};
    int64_t after_date = INT64_MIN, after_id = 0;
    for (int n = SCAN_PAGE; !e && n == SCAN_PAGE;) {
        e = store_request_scan(st, chat_id, after_date, after_id, SCAN_PAGE, page, &n, err);
        for (int i = 0; !e && i < n; i++) {
            const struct store_request *r = &page[i];
            struct rules_request rr = rules_request_of(r);
            /* a request counts in its own wave: added before it is evaluated */
            if (rules_history_add(h, &rr, r->status == REQ_DECLINED))
                e = dm_fail(err, DM_ENOMEM, "out of memory for a dry run");
            if (e || r->status != REQ_PENDING) continue;
            struct rules_verdict v;
            if (rules_eval(s, &rr, &ctx, x, &v)) {
                e = dm_fail(err, DM_ENOMEM, "out of memory for a dry run");
                break;
            }
            int o = v.index < 0 ? RULE_ACTION_COUNT : v.action;
            out->pending++;
            out->counts[o]++;
            out->unknown += v.unknown > 0;
            example(out, o, r, &v);
        }
        if (!e && n) {
            after_date = page[n - 1].tg_date;
            after_id = page[n - 1].id;
        }
    }
    rules_scratch_free(x);
    rules_history_free(h);
    free(page);
    return e;
}
