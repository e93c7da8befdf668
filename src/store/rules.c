/* rules.c: what the store keeps for rules (store.h): rules in their order per scope, named
 * lists, channel modes, and the arrival-order scan of a channel's requests. What a rule means
 * is rules/rules.h's; here a rule's spec is text. */
#include "core/common.h"

#include "store/db.h"
#include "store/rows.h"

#define LISTS_MAX 100000 /* lists and modes read at once at most */

static const char *const mode_names[MODE_COUNT] = {"manual", "rules", "approve_all"};

const char *channel_mode_name(int mode)
{
    return mode >= 0 && mode < MODE_COUNT ? mode_names[mode] : "unknown";
}

int channel_mode_parse(const char *s)
{
    for (int i = 0; i < MODE_COUNT; i++)
        if (s && strcmp(s, mode_names[i]) == 0) return i;
    return -1;
}

/* ---- rules ---- */

dm_err store_rule_list(struct store *st, int64_t chat_id, struct store_rule **out, size_t *n,
                       struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    arg_int(&a, STORE_RULES_MAX + 1);
    void *v = NULL;
    dm_err e = db_read_all(st, S_RULE_LIST, &a, row_rule, sizeof **out, STORE_RULES_MAX,
                           "rules in one scope", &v, n, err);
    if (!e) *out = v;
    return e;
}

dm_err store_rule_get(struct store *st, int64_t id, struct store_rule *out, struct dm_error *err)
{
    return db_read_id(st, S_RULE_GET, id, row_rule, out, "rule", err);
}

static dm_err rule_count(struct tx *tx, int64_t chat_id, int64_t *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    bool found = false;
    return tx_read_one(tx, S_RULE_COUNT, &a, row_int0, n, &found, err);
}

dm_err store_rule_add(struct store *st, const struct store_rule *r, int64_t now, int64_t *id,
                      struct dm_error *err)
{
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    int64_t have = 0;
    if (!e) e = rule_count(&tx, r->chat_id, &have, err);
    if (!e && have >= STORE_RULES_MAX)
        e = dm_fail(err, DM_ETOOBIG, "a channel holds at most %d rules (global rules too)",
                    STORE_RULES_MAX);
    struct db_args a;
    args_init(&a);
    arg_int(&a, r->chat_id);
    arg_int(&a, r->enabled);
    arg_text(&a, r->name, sizeof r->name);
    arg_text(&a, r->spec, sizeof r->spec);
    arg_int(&a, now);
    bool found = false;
    if (!e) e = tx_read_one(&tx, S_RULE_ADD, &a, row_int0, id, &found, err);
    return tx_close(&tx, e, err);
}

dm_err store_rule_update(struct store *st, const struct store_rule *r, int64_t now,
                         struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, r->id);
    arg_int(&a, r->enabled);
    arg_text(&a, r->name, sizeof r->name);
    arg_text(&a, r->spec, sizeof r->spec);
    arg_int(&a, now);
    int64_t changes = 0;
    dm_err e = db_exec(st, S_RULE_UPDATE, &a, &changes, err);
    if (!e && changes == 0) e = dm_fail(err, DM_ENOTFOUND, "no rule with id %" PRId64, r->id);
    return e;
}

struct gap {
    int64_t chat_id, position;
    bool found;
};

static dm_err read_gap(void *ctx, const struct db_row *r)
{
    struct gap *g = ctx;
    *g = (struct gap){row_int(r, 0), row_int(r, 1), true};
    return DM_OK;
}

dm_err store_rule_delete(struct store *st, int64_t id, struct dm_error *err)
{
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    struct gap g = {0};
    if (!e) e = tx_run(&tx, S_RULE_DELETE, &a, read_gap, &g, NULL, err);
    if (!e && !g.found) e = dm_fail(err, DM_ENOTFOUND, "no rule with id %" PRId64, id);
    args_init(&a);
    arg_int(&a, g.chat_id);
    arg_int(&a, g.position);
    if (!e) e = tx_run(&tx, S_RULE_CLOSE_GAP, &a, NULL, NULL, NULL, err);
    return tx_close(&tx, e, err);
}

dm_err store_rule_reorder(struct store *st, int64_t chat_id, const int64_t *ids, size_t n,
                          int64_t now, struct dm_error *err)
{
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    int64_t have = 0;
    if (!e) e = rule_count(&tx, chat_id, &have, err);
    if (!e && (int64_t)n != have)
        e = dm_fail(err, DM_EINVAL,
                    "ids must name each of the %" PRId64 " rules of the scope once (%zu given)",
                    have, n);
    for (size_t i = 0; i < n && !e; i++) {
        for (size_t j = 0; j < i && !e; j++)
            if (ids[j] == ids[i])
                e = dm_fail(err, DM_EINVAL, "ids names rule %" PRId64 " twice", ids[i]);
        struct db_args a;
        args_init(&a);
        arg_int(&a, ids[i]);
        arg_int(&a, chat_id);
        arg_int(&a, (int64_t)i);
        arg_int(&a, now);
        int64_t changes = 0;
        if (!e) e = tx_run(&tx, S_RULE_SET_POSITION, &a, NULL, NULL, &changes, err);
        if (!e && changes == 0)
            e = dm_fail(err, DM_EINVAL, "rule %" PRId64 " is not one of the scope's rules", ids[i]);
    }
    return tx_close(&tx, e, err);
}

/* ---- lists ---- */

dm_err store_list_names(struct store *st, struct store_list **out, size_t *n, struct dm_error *err)
{
    void *v = NULL;
    dm_err e = db_read_all(st, S_LIST_NAMES, NULL, row_list, sizeof **out, LISTS_MAX,
                           "lists are stored", &v, n, err);
    if (!e) *out = v;
    return e;
}

dm_err store_list_get(struct store *st, const char *name, struct store_list *out,
                      struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, name, STORE_NAME_MAX);
    char missing[STORE_NAME_MAX + 32];
    snprintf(missing, sizeof missing, "no list called %s", name);
    return db_read_one(st, S_LIST_GET, &a, row_list, out, missing, err);
}

dm_err store_list_write(struct store *st, const char *name, const char *const *entries, size_t n,
                        bool replace, int64_t now, struct dm_error *err)
{
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    struct db_args a;
    args_init(&a);
    arg_text(&a, name, STORE_NAME_MAX);
    arg_int(&a, now);
    if (!e) e = tx_run(&tx, S_LIST_PUT, &a, NULL, NULL, NULL, err);
    args_init(&a);
    arg_text(&a, name, STORE_NAME_MAX);
    if (!e && replace) e = tx_run(&tx, S_LIST_CLEAR, &a, NULL, NULL, NULL, err);
    for (size_t i = 0; i < n && !e; i++) {
        args_init(&a);
        arg_text(&a, name, STORE_NAME_MAX);
        arg_text(&a, entries[i], STORE_NAME_MAX);
        e = tx_run(&tx, S_LIST_ENTRY_ADD, &a, NULL, NULL, NULL, err);
    }
    int64_t count = 0;
    bool found = false;
    args_init(&a);
    arg_text(&a, name, STORE_NAME_MAX);
    if (!e) e = tx_read_one(&tx, S_LIST_COUNT, &a, row_int0, &count, &found, err);
    if (!e && count > STORE_LIST_ENTRIES_MAX)
        e = dm_fail(err, DM_ETOOBIG, "a list holds at most %d entries", STORE_LIST_ENTRIES_MAX);
    return tx_close(&tx, e, err);
}

dm_err store_list_entries(struct store *st, const char *name, const char *after, int limit,
                          struct store_list_entry *out, int *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, name, STORE_NAME_MAX);
    arg_text(&a, after, STORE_NAME_MAX);
    arg_int(&a, limit);
    struct db_stmt s = db_stmt_of(st, S_LIST_ENTRIES);
    return db_read(st, &s, &a, row_list_entry, out, sizeof *out, limit, n, err);
}

dm_err store_list_delete(struct store *st, const char *name, struct dm_error *err)
{
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    struct db_args a;
    args_init(&a);
    arg_text(&a, name, STORE_NAME_MAX);
    /* names are [A-Za-z0-9_-]: only _ needs escaping in the pattern */
    char pattern[2 * STORE_NAME_MAX + 16] = "%\"list\":\"";
    size_t o = strlen(pattern);
    for (const char *p = name; *p && o < sizeof pattern - 4; p++) {
        if (*p == '_' || *p == '%' || *p == '\\') pattern[o++] = '\\';
        pattern[o++] = *p;
    }
    memcpy(pattern + o, "\"%", 3);
    struct db_args u;
    args_init(&u);
    arg_text(&u, pattern, sizeof pattern);
    int64_t user = 0;
    bool used = false;
    if (!e) e = tx_read_one(&tx, S_LIST_USED, &u, row_int0, &user, &used, err);
    if (!e && used)
        e = dm_fail(err, DM_ECONFLICT, "rule %" PRId64 " uses list %s: change or delete it first",
                    user, name);
    int64_t changes = 0;
    if (!e) e = tx_run(&tx, S_LIST_CLEAR, &a, NULL, NULL, NULL, err);
    if (!e) e = tx_run(&tx, S_LIST_DELETE, &a, NULL, NULL, &changes, err);
    if (!e && changes == 0) e = dm_fail(err, DM_ENOTFOUND, "no list called %s", name);
    return tx_close(&tx, e, err);
}

/* ---- modes ---- */

dm_err store_mode_get(struct store *st, int64_t chat_id, struct store_mode *out,
                      struct dm_error *err)
{
    return db_read_id(st, S_MODE_GET, chat_id, row_mode, out, "mode for the channel", err);
}

/* Runs the mode change `id` (with a), then has the decisions the channel's (or the default's)
 * old mode scheduled judged again: both in one transaction. */
static dm_err mode_change(struct store *st, enum sql_id id, const struct db_args *a,
                          int64_t chat_id, struct dm_error *err)
{
    struct db_args c;
    args_init(&c);
    arg_int(&c, chat_id);
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, id, a, NULL, NULL, NULL, err);
    if (!e) e = tx_run(&tx, S_DUE_REJUDGE, &c, NULL, NULL, NULL, err);
    if (!e) e = tx_run(&tx, S_DUE_DROP, &c, NULL, NULL, NULL, err);
    return tx_close(&tx, e, err);
}

dm_err store_mode_set(struct store *st, const struct store_mode *m, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    args_mode(&a, m);
    return mode_change(st, S_MODE_SET, &a, m->chat_id, err);
}

dm_err store_mode_delete(struct store *st, int64_t chat_id, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    return mode_change(st, S_MODE_DELETE, &a, chat_id, err);
}

dm_err store_mode_list(struct store *st, struct store_mode **out, size_t *n, struct dm_error *err)
{
    void *v = NULL;
    dm_err e = db_read_all(st, S_MODE_LIST, NULL, row_mode, sizeof **out, LISTS_MAX,
                           "channel modes are stored", &v, n, err);
    if (!e) *out = v;
    return e;
}

/* ---- the arrival-order scan ---- */

dm_err store_request_scan(struct store *st, int64_t chat_id, int64_t after_date, int64_t after_id,
                          int limit, struct store_request *out, int *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    arg_int(&a, after_date);
    arg_int(&a, after_id);
    arg_int(&a, limit);
    struct db_stmt s = db_stmt_of(st, S_REQUEST_SCAN);
    return db_read(st, &s, &a, row_request, out, sizeof *out, limit, n, err);
}
