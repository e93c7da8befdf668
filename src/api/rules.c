/* rules.c: rules per channel and global, named lists, channel modes, and the dry run
 * (docs/api.md, Rules). What a rule means is rules/rules.h's: a rule is saved only when it
 * compiles, so a bad one is a 400 naming its field and nothing is saved. */
#include "core/common.h"
#include "api/api.h"

#include "core/clock.h"
#include "rules/dryrun.h"
#include "telegram/account.h"
#include "rules/list.h"

#define LIST_TEXT_MAX (512 * 1024) /* an imported text or CSV file */
#define LIST_PAGE_MAX 1000
#define PACED_MAX 100000 /* approvals per hour at most */

/* ---- rules ---- */

/* The spec of a rule as saved: the body's conditions, action and delay_seconds. */
static json_t *spec_of(const json_t *body)
{
    json_t *spec = json_object();
    static const char *const keys[] = {"conditions", "action", "delay_seconds"};
    for (size_t i = 0; i < DM_ARRAY_LEN(keys); i++) {
        json_t *v = json_object_get(body, keys[i]);
        if (v) json_object_set(spec, keys[i], v);
    }
    return spec;
}

/* Checks that spec compiles (lists read from the store); false after answering. */
static bool spec_ok(struct api_ctx *c, const json_t *spec, const char *where)
{
    struct rules_set *s = rules_set_new();
    if (!s) return api_store_failed(c, DM_ENOMEM, NULL);
    struct dm_error err = {0};
    dm_err e = rules_set_add(s, 0, "", spec, where, rules_store_list_loader, c->env->store, &err);
    rules_set_free(s);
    if (e == DM_EINVAL) return api_bad_request(c, "%s", err.msg);
    if (e) return api_store_failed(c, e, &err);
    return true;
}

static json_t *rule_json(const struct store_rule *r)
{
    json_t *spec = json_loads(r->spec, 0, NULL);
    json_t *o = json_pack("{s:I,s:I,s:i,s:b,s:o,s:I,s:I}", "id", (json_int_t)r->id, "chat_id",
                          (json_int_t)r->chat_id, "position", r->position, "enabled", r->enabled,
                          "name", api_text(r->name), "created_at", (json_int_t)r->created_at,
                          "updated_at", (json_int_t)r->updated_at);
    if (json_is_object(spec)) json_object_update(o, spec);
    json_decref(spec);
    return o;
}

/* Reads {id} of the path into *r; 404 when there is no such rule. */
static bool path_rule(struct api_ctx *c, struct store_rule *r)
{
    char *end = NULL;
    errno = 0;
    long long id = strtoll(c->path_arg, &end, 10);
    if (errno || *end || id <= 0 || strspn(c->path_arg, "0123456789") != strlen(c->path_arg)) {
        http_res_error(c->res, 404, "not_found", "No rule with id '%s'.", c->path_arg);
        return false;
    }
    struct dm_error err = {0};
    dm_err e = store_rule_get(c->env->store, id, r, &err);
    if (e == DM_ENOTFOUND) {
        http_res_error(c->res, 404, "not_found", "No rule with id %lld.", id);
        return false;
    }
    return e ? api_store_failed(c, e, &err) : true;
}

static void answer_rule(struct api_ctx *c, int64_t id)
{
    struct store_rule r;
    struct dm_error err = {0};
    dm_err e = store_rule_get(c->env->store, id, &r, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    http_res_json(c->res, 200, json_pack("{s:o}", "rule", rule_json(&r)));
}

/* Answers the scope's rules in their order. */
static void answer_rules(struct api_ctx *c, int64_t chat_id)
{
    struct store_rule *rules = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    dm_err e = store_rule_list(c->env->store, chat_id, &rules, &n, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, rule_json(&rules[i]));
    free(rules);
    http_res_json(c->res, 200,
                  json_pack("{s:I,s:o}", "chat_id", (json_int_t)chat_id, "rules", items));
}

void api_rules_list(struct api_ctx *c)
{
    int64_t chat_id = 0;
    /* the global rules (0) judge every channel, a viewer's too: theirs to read */
    if (api_query_int(c, "chat_id", INT64_MIN + 1, INT64_MAX, &chat_id) &&
        (!chat_id || api_channel_allowed(c, chat_id)))
        answer_rules(c, chat_id);
}

/* The rule the body describes into *r (spec text, name, enabled); false after answering. */
static bool rule_from_body(struct api_ctx *c, struct store_rule *r)
{
    const char *name = NULL;
    json_t *en = json_object_get(c->body, "enabled");
    if (!api_only_fields(c, c->body, NULL, "chat_id", "name", "enabled", "conditions", "action",
                         "delay_seconds", NULL) ||
        !api_field_string(c, "name", false, STORE_TEXT_MAX - 1, &name))
        return false;
    if (en && !json_is_boolean(en)) return api_bad_request(c, "'enabled' must be true or false.");
    if (name) dm_strlcpy(r->name, name, sizeof r->name);
    if (en) r->enabled = json_is_true(en);
    json_t *spec = spec_of(c->body);
    bool ok = spec_ok(c, spec, "rule");
    char *text = ok ? json_dumps(spec, JSON_COMPACT) : NULL;
    json_decref(spec);
    if (!ok) return false;
    if (!text || strlen(text) >= sizeof r->spec) {
        free(text);
        return api_bad_request(c, "The rule is too long (at most %d bytes of JSON).",
                               STORE_RULE_SPEC_MAX - 1);
    }
    dm_strlcpy(r->spec, text, sizeof r->spec);
    free(text);
    return true;
}

void api_rules_create(struct api_ctx *c)
{
    struct store_rule r = {.enabled = true};
    if (!api_field_int(c, "chat_id", false, &r.chat_id) || !rule_from_body(c, &r)) return;
    int64_t id = 0;
    struct dm_error err = {0};
    dm_err e = store_rule_add(c->env->store, &r, time(NULL), &id, &err);
    if (e == DM_ETOOBIG) {
        api_bad_request(c, "%s.", err.msg);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    answer_rule(c, id);
}

void api_rules_update(struct api_ctx *c)
{
    struct store_rule r;
    if (!path_rule(c, &r)) return;
    if (json_object_get(c->body, "chat_id")) {
        api_bad_request(c, "'chat_id' cannot change: delete the rule and create it elsewhere.");
        return;
    }
    if (!rule_from_body(c, &r)) return;
    struct dm_error err = {0};
    dm_err e = store_rule_update(c->env->store, &r, time(NULL), &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    answer_rule(c, r.id);
}

static void set_enabled(struct api_ctx *c, bool enabled)
{
    struct store_rule r;
    if (!api_only_fields(c, c->body, NULL, NULL) || !path_rule(c, &r)) return;
    r.enabled = enabled;
    struct dm_error err = {0};
    dm_err e = store_rule_update(c->env->store, &r, time(NULL), &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    answer_rule(c, r.id);
}

void api_rules_enable(struct api_ctx *c)
{
    set_enabled(c, true);
}

void api_rules_disable(struct api_ctx *c)
{
    set_enabled(c, false);
}

void api_rules_delete(struct api_ctx *c)
{
    struct store_rule r;
    if (!api_only_fields(c, c->body, NULL, NULL) || !path_rule(c, &r)) return;
    struct dm_error err = {0};
    dm_err e = store_rule_delete(c->env->store, r.id, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    http_res_json(c->res, 200, json_pack("{s:I}", "deleted", (json_int_t)r.id));
}

void api_rules_reorder(struct api_ctx *c)
{
    int64_t chat_id = 0;
    json_t *ids = json_object_get(c->body, "ids");
    if (!api_only_fields(c, c->body, NULL, "chat_id", "ids", NULL) ||
        !api_field_int(c, "chat_id", false, &chat_id))
        return;
    if (!json_is_array(ids) || json_array_size(ids) > STORE_RULES_MAX) {
        api_bad_request(c, "'ids' must be the scope's rule ids in their new order.");
        return;
    }
    int64_t v[STORE_RULES_MAX];
    size_t n = json_array_size(ids);
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(ids, i);
        if (!json_is_integer(x)) {
            api_bad_request(c, "'ids[%zu]' must be a rule id.", i);
            return;
        }
        v[i] = json_integer_value(x);
    }
    struct dm_error err = {0};
    dm_err e = store_rule_reorder(c->env->store, chat_id, v, n, time(NULL), &err);
    if (e == DM_EINVAL) {
        api_bad_request(c, "'ids': %s.", err.msg);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    answer_rules(c, chat_id);
}

/* ---- the dry run ---- */

/* Appends the specs of `key` in the body to s, or the stored enabled rules of chat_id when
 * the body has none; false after answering. */
static bool add_rules(struct api_ctx *c, struct rules_set *s, const char *key, int64_t chat_id)
{
    json_t *specs = json_object_get(c->body, key);
    struct dm_error err = {0};
    dm_err e = DM_OK;
    if (!specs) {
        e = rules_load_stored(c->env->store, chat_id, s, &err);
    } else if (!json_is_array(specs) || json_array_size(specs) > STORE_RULES_MAX) {
        return api_bad_request(c, "'%s' must be a list of at most %d rules.", key, STORE_RULES_MAX);
    } else {
        size_t i;
        json_t *spec;
        json_array_foreach(specs, i, spec)
        {
            char where[48];
            snprintf(where, sizeof where, "%s[%zu]", key, i);
            json_t *en = json_is_object(spec) ? json_object_get(spec, "enabled") : NULL;
            if (en && !json_is_boolean(en))
                return api_bad_request(c, "%s.enabled: must be true or false", where);
            const char *name = json_string_value(json_object_get(spec, "name"));
            if (json_is_object(spec) && json_object_get(spec, "name") && !name)
                return api_bad_request(c, "%s.name: must be text", where);
            if (en && !json_is_true(en)) { /* checked, not evaluated */
                struct rules_set *t = rules_set_new();
                e = t ? rules_set_add(t, 0, "", spec, where, rules_store_list_loader, c->env->store,
                                      &err)
                      : DM_ENOMEM;
                rules_set_free(t);
            } else {
                e = rules_set_add(s, (int64_t)i + 1, name ? name : "", spec, where,
                                  rules_store_list_loader, c->env->store, &err);
            }
            if (e) break;
        }
    }
    if (e == DM_EINVAL) return api_bad_request(c, "%s", err.msg);
    return e ? api_store_failed(c, e, &err) : true;
}

static json_t *example_json(const struct rules_example *x)
{
    return json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "request_id", (json_int_t)x->request_id,
                     "user_id", (json_int_t)x->user_id, "first_name", api_text(x->first_name),
                     "last_name", api_text(x->last_name), "username", api_text(x->username),
                     "rule_index", x->rule_index < 0 ? json_null() : json_integer(x->rule_index),
                     "rule_id", x->rule_index < 0 ? json_null() : json_integer(x->rule_id),
                     "rule_name", x->rule_index < 0 ? json_null() : api_text(x->rule_name));
}

void api_rules_dry_run(struct api_ctx *c)
{
    int64_t chat_id = 0;
    if (!api_only_fields(c, c->body, NULL, "chat_id", "rules", "global_rules", NULL) ||
        !api_field_int(c, "chat_id", true, &chat_id))
        return;
    if (chat_id == 0) {
        api_bad_request(c, "'chat_id' must name a channel.");
        return;
    }
    struct rules_set *s = rules_set_new();
    struct rules_dryrun *out = malloc(sizeof *out);
    if (!s || !out) {
        rules_set_free(s);
        free(out);
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    struct dm_error err = {0};
    int64_t started = clock_ms();
    if (add_rules(c, s, "rules", chat_id) && add_rules(c, s, "global_rules", 0)) {
        dm_err e = rules_dryrun(c->env->store, s, chat_id, out, &err);
        if (e) {
            api_store_failed(c, e, &err);
        } else {
            json_t *counts = json_object(), *examples = json_object();
            for (int o = 0; o < RULES_OUTCOMES; o++) {
                const char *k = o == RULE_ACTION_COUNT ? "no_match" : rule_action_name(o);
                json_object_set_new(counts, k, json_integer(out->counts[o]));
                json_t *list = json_array();
                for (int i = 0; i < out->nexamples[o]; i++)
                    json_array_append_new(list, example_json(&out->examples[o][i]));
                json_object_set_new(examples, k, list);
            }
            http_res_json(c->res, 200,
                          json_pack("{s:I,s:I,s:I,s:I,s:o,s:o}", "chat_id", (json_int_t)chat_id,
                                    "pending", (json_int_t)out->pending, "unknown",
                                    (json_int_t)out->unknown, "took_ms",
                                    (json_int_t)(clock_ms() - started), "counts", counts,
                                    "examples", examples));
        }
    }
    rules_set_free(s);
    free(out);
}

/* ---- lists ---- */

/* The list name of the path; false after answering 404. */
static bool path_list(struct api_ctx *c, const char **name)
{
    size_t n = strlen(c->path_arg);
    if (n == 0 || n > 64 ||
        strspn(c->path_arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                            "0123456789_-") != n) {
        http_res_error(c->res, 404, "not_found",
                       "No list called that: list names are 1 to 64 of A-Z a-z 0-9 _ -.");
        return false;
    }
    *name = c->path_arg;
    return true;
}

static json_t *list_json(const struct store_list *l)
{
    return json_pack("{s:s,s:I,s:I,s:I}", "name", l->name, "entries", (json_int_t)l->entries,
                     "created_at", (json_int_t)l->created_at, "updated_at",
                     (json_int_t)l->updated_at);
}

void api_lists_list(struct api_ctx *c)
{
    struct store_list *lists = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    dm_err e = store_list_names(c->env->store, &lists, &n, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, list_json(&lists[i]));
    free(lists);
    http_res_json(c->res, 200, json_pack("{s:o}", "lists", items));
}

void api_lists_get(struct api_ctx *c)
{
    const char *name = NULL;
    int64_t limit = LIST_PAGE_MAX;
    const char *after = http_query(c->req, "after");
    if (!path_list(c, &name) || !api_query_int(c, "limit", 1, LIST_PAGE_MAX, &limit)) return;
    struct store_list meta;
    struct dm_error err = {0};
    dm_err e = store_list_get(c->env->store, name, &meta, &err);
    struct store_list_entry *v = e ? NULL : malloc((size_t)limit * sizeof *v);
    int n = 0;
    if (!e && !v) e = DM_ENOMEM;
    if (!e)
        e = store_list_entries(c->env->store, name, after ? after : "", (int)limit, v, &n, &err);
    if (e) {
        free(v);
        api_store_failed(c, e, &err);
        return;
    }
    json_t *entries = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(entries, json_string(v[i].entry));
    json_t *o = list_json(&meta);
    json_object_set_new(o, "items", entries);
    json_object_set_new(o, "next_after", n == limit ? json_string(v[n - 1].entry) : json_null());
    free(v);
    http_res_json(c->res, 200, o);
}

/* The entries of a text or CSV file: the first cell of each line (cells end at , ; or a tab;
 * quotes around one are dropped), blank lines skipped; a first line whose first cell is
 * neither a user id nor an @username is a header (elsewhere a bare name is a username). *out holds
 * canonical entries ("123", "@name"); false after answering 400 naming the line. */
static bool text_entries(struct api_ctx *c, const char *text, char (**out)[65], size_t *n)
{
    size_t lines = 1;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    *out = calloc(lines, sizeof **out);
    *n = 0;
    if (!*out) return api_store_failed(c, DM_ENOMEM, NULL);
    size_t line = 0;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n");
        size_t cell = strcspn(p, ",;\t\n");
        line++;
        char buf[128] = "";
        if (cell >= sizeof buf) {
            free(*out);
            *out = NULL;
            return api_bad_request(c,
                                   "'text' line %zu: a cell of %zu bytes is neither a user id "
                                   "nor a @username.",
                                   line, cell);
        }
        memcpy(buf, p, cell);
        buf[cell] = 0;
        char *b = buf;
        size_t bl = strlen(b);
        while (bl && (b[bl - 1] == '\r' || b[bl - 1] == ' '))
            b[--bl] = 0;
        while (*b == ' ')
            b++, bl--;
        if (bl >= 2 && b[0] == '"' && b[bl - 1] == '"') b[bl - 1] = 0, b++;
        /* a header: the first line's first cell is neither a user id nor an @username */
        bool header = line == 1 && b[0] != '@' && strspn(b, "0123456789") != strlen(b);
        if (*b && !header && !rules_list_entry_canonical(b, (*out)[*n])) {
            {
                free(*out);
                *out = NULL;
                return api_bad_request(c,
                                       "'text' line %zu: \"%.40s\" is neither a user id nor "
                                       "a @username.",
                                       line, b);
            }
        } else if (*b && !header) {
            (*n)++;
        }
        p += len + (p[len] == '\n');
    }
    return true;
}

void api_lists_write(struct api_ctx *c)
{
    const char *name = NULL, *text = NULL;
    json_t *entries = json_object_get(c->body, "entries"),
           *rep = json_object_get(c->body, "replace");
    if (!path_list(c, &name) ||
        !api_only_fields(c, c->body, NULL, "entries", "text", "replace", NULL) ||
        !api_field_string(c, "text", false, LIST_TEXT_MAX, &text))
        return;
    if (rep && !json_is_boolean(rep)) {
        api_bad_request(c, "'replace' must be true or false.");
        return;
    }
    if (entries && !json_is_array(entries)) {
        api_bad_request(c, "'entries' must be a list of user ids and @usernames.");
        return;
    }
    char(*v)[65] = NULL;
    size_t n = 0;
    if (text && !text_entries(c, text, &v, &n)) return;
    size_t ne = json_array_size(entries);
    char(*all)[65] = realloc(v, (n + ne + 1) * sizeof *all);
    if (!all) {
        free(v);
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    for (size_t i = 0; i < ne; i++) {
        json_t *x = json_array_get(entries, i);
        char num[24];
        const char *t = json_string_value(x);
        if (json_is_integer(x)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(x));
            t = num;
        }
        if (!t || !rules_list_entry_canonical(t, all[n])) {
            free(all);
            api_bad_request(c, "'entries[%zu]' is neither a user id nor a @username.", i);
            return;
        }
        n++;
    }
    const char **ptrs = calloc(n + 1, sizeof *ptrs);
    for (size_t i = 0; ptrs && i < n; i++)
        ptrs[i] = all[i];
    struct dm_error err = {0};
    dm_err e =
        ptrs ? store_list_write(c->env->store, name, ptrs, n, json_is_true(rep), time(NULL), &err)
             : DM_ENOMEM;
    free(ptrs);
    free(all);
    struct store_list meta;
    if (!e) e = store_list_get(c->env->store, name, &meta, &err);
    if (e == DM_ETOOBIG) {
        api_bad_request(c, "%s.", err.msg);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    http_res_json(c->res, 200, json_pack("{s:o}", "list", list_json(&meta)));
}

void api_lists_delete(struct api_ctx *c)
{
    const char *name = NULL;
    if (!path_list(c, &name) || !api_only_fields(c, c->body, NULL, NULL)) return;
    struct dm_error err = {0};
    dm_err e = store_list_delete(c->env->store, name, &err);
    if (e == DM_ENOTFOUND) {
        http_res_error(c->res, 404, "not_found", "No list called %s.", name);
        return;
    }
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    http_res_json(c->res, 200, json_pack("{s:s}", "deleted", name));
}

/* ---- modes ---- */

static json_t *mode_json(const struct store_mode *m)
{
    return json_pack("{s:I,s:s,s:I,s:I,s:I,s:o}", "chat_id", (json_int_t)m->chat_id, "mode",
                     channel_mode_name(m->mode), "delay_seconds", (json_int_t)m->delay_seconds,
                     "per_hour", (json_int_t)m->per_hour, "updated_at", (json_int_t)m->updated_at,
                     "session_name", m->via[0] ? api_text(m->via) : json_null());
}

void api_modes_list(struct api_ctx *c)
{
    struct store_mode *modes = NULL;
    size_t n = 0;
    struct dm_error err = {0};
    struct api_scope sc;
    dm_err e = store_mode_list(c->env->store, &modes, &n, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    if (!api_scope_read(c, &sc)) {
        free(modes);
        return;
    }
    /* without a stored default, manual: today's behaviour */
    struct store_mode def = {.mode = MODE_MANUAL};
    json_t *channels = json_array();
    for (size_t i = 0; i < n; i++) {
        if (modes[i].chat_id == 0)
            def = modes[i];
        else if (api_scope_has(&sc, modes[i].chat_id))
            json_array_append_new(channels, mode_json(&modes[i]));
    }
    api_scope_release(&sc);
    free(modes);
    http_res_json(c->res, 200,
                  json_pack("{s:o,s:o}", "default", mode_json(&def), "channels", channels));
}

void api_modes_set(struct api_ctx *c)
{
    struct store_mode m = {.updated_at = time(NULL)};
    const char *mode = NULL;
    json_t *jm = json_object_get(c->body, "mode");
    if (!api_only_fields(c, c->body, NULL, "chat_id", "mode", "delay_seconds", "per_hour",
                         "session_name", NULL) ||
        !api_field_int(c, "chat_id", true, &m.chat_id) ||
        !api_field_int(c, "delay_seconds", false, &m.delay_seconds) ||
        !api_field_int(c, "per_hour", false, &m.per_hour))
        return;
    struct dm_error err = {0};
    if (json_is_null(jm) && m.chat_id) { /* back to the default */
        dm_err e = store_mode_delete(c->env->store, m.chat_id, &err);
        if (e)
            api_store_failed(c, e, &err);
        else
            http_res_json(c->res, 200,
                          json_pack("{s:I,s:n}", "chat_id", (json_int_t)m.chat_id, "mode"));
        return;
    }
    if (!api_field_string(c, "mode", true, 32, &mode)) return;
    if ((m.mode = channel_mode_parse(mode)) < 0) {
        api_bad_request(c, "'mode' must be manual, rules or approve_all (or null for a channel "
                           "to follow the default).");
        return;
    }
    if (m.mode != MODE_APPROVE_ALL && (m.delay_seconds || m.per_hour)) {
        api_bad_request(c, "'delay_seconds' and 'per_hour' belong to approve_all.");
        return;
    }
    if (m.delay_seconds &&
        (m.delay_seconds < RULES_DELAY_MIN || m.delay_seconds > RULES_DELAY_MAX)) {
        api_bad_request(c, "'delay_seconds' must be 0 (at once) or %d to %d.", RULES_DELAY_MIN,
                        RULES_DELAY_MAX);
        return;
    }
    if (m.per_hour < 0 || m.per_hour > PACED_MAX || (m.per_hour && m.delay_seconds)) {
        api_bad_request(c, "'per_hour' must be 0 (not paced) or 1 to %d, and not with a delay.",
                        PACED_MAX);
        return;
    }
    /* who decides by itself: the bot, or a session that exists (it may be inactive now) */
    struct account *a = api_body_account(c, false);
    if (!a) return;
    if (strcmp(account_name(a), ACCOUNT_BOT) != 0) dm_strlcpy(m.via, account_name(a), sizeof m.via);
    account_close(a);
    dm_err e = store_mode_set(c->env->store, &m, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    http_res_json(c->res, 200, json_pack("{s:o}", "mode", mode_json(&m)));
}

void api_rules_apply(struct api_ctx *c)
{
    int64_t chat_id = 0;
    if (!api_only_fields(c, c->body, NULL, "chat_id", NULL) ||
        !api_field_int(c, "chat_id", true, &chat_id))
        return;
    if (chat_id == 0) {
        api_bad_request(c, "'chat_id' must name a channel.");
        return;
    }
    struct store *st = c->env->store;
    struct store_chat chat = {0};
    struct store_job job = {.kind = JOB_APPLY};
    dm_strlcpy(job.via, ACCOUNT_BOT, sizeof job.via);
    dm_strlcpy(job.admin, c->session.admin_name, sizeof job.admin);
    struct dm_error err = {0};
    dm_err e = store_chat_get(st, chat_id, &chat, &err);
    if (e && e != DM_ENOTFOUND) {
        api_store_failed(c, e, &err);
        return;
    }
    if (chat.title[0])
        dm_snprintf_utf8(job.description, sizeof job.description,
                         "Apply the rules to the pending requests of %s", chat.title);
    else
        snprintf(job.description, sizeof job.description,
                 "Apply the rules to the pending requests of channel %" PRId64, chat_id);
    struct store_request_filter f = {.status = REQ_PENDING, .chat_id = chat_id};
    int64_t id = 0;
    e = store_job_create_filter(st, &job, &f, time(NULL), &id, &err);
    if (e) {
        api_store_failed(c, e, &err);
        return;
    }
    api_job_started(c, id);
}
