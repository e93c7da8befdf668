/* list.c: allow and deny lists (see list.h). */
#include "core/common.h"
#include "rules/list.h"

#include <ctype.h>

struct rules_list {
    char *name;
    int64_t *ids;
    size_t nids, aids;
    char **names;
    size_t nnames, anames;
};

struct rules_list *rules_list_new(const char *name)
{
    struct rules_list *l = calloc(1, sizeof *l);
    if (l && !(l->name = strdup(name))) {
        free(l);
        return NULL;
    }
    return l;
}

void rules_list_free(struct rules_list *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->nnames; i++)
        free(l->names[i]);
    free(l->names);
    free(l->ids);
    free(l->name);
    free(l);
}

const char *rules_list_name(const struct rules_list *l)
{
    return l->name;
}

bool rules_list_entry_canonical(const char *entry, char out[65])
{
    while (isspace((unsigned char)*entry))
        entry++;
    size_t len = strlen(entry);
    while (len && isspace((unsigned char)entry[len - 1]))
        len--;
    bool at = len && entry[0] == '@';
    const char *p = entry + at;
    size_t n = len - at;
    bool digits = n > 0 && n <= 19, word = n >= 3 && n <= 32;
    for (size_t i = 0; i < n; i++) {
        digits = digits && isdigit((unsigned char)p[i]);
        word = word && (isalnum((unsigned char)p[i]) || p[i] == '_');
    }
    if (digits && !at) {
        snprintf(out, 65, "%.*s", (int)n, p);
        return strtoll(out, NULL, 10) > 0;
    }
    if (!word || (isdigit((unsigned char)p[0]) && !at)) return false;
    out[0] = '@';
    for (size_t i = 0; i < n; i++)
        out[i + 1] = (char)tolower((unsigned char)p[i]);
    out[n + 1] = 0;
    return true;
}

void rules_list_add(struct rules_list *l, const char *entry)
{
    char c[65];
    if (!rules_list_entry_canonical(entry, c)) return;
    if (c[0] != '@') {
        if (l->nids == l->aids) {
            size_t na = l->aids ? l->aids * 2 : 64;
            int64_t *v = realloc(l->ids, na * sizeof *v);
            if (!v) return;
            l->ids = v;
            l->aids = na;
        }
        l->ids[l->nids++] = strtoll(c, NULL, 10);
        return;
    }
    if (l->nnames == l->anames) {
        size_t na = l->anames ? l->anames * 2 : 64;
        char **v = realloc(l->names, na * sizeof *v);
        if (!v) return;
        l->names = v;
        l->anames = na;
    }
    if ((l->names[l->nnames] = strdup(c + 1))) l->nnames++;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void rules_list_seal(struct rules_list *l)
{
    if (l->nids) qsort(l->ids, l->nids, sizeof *l->ids, cmp_id);
    if (l->nnames) qsort(l->names, l->nnames, sizeof *l->names, cmp_name);
}

bool rules_list_has(const struct rules_list *l, int64_t user_id, const char *username)
{
    if (l->nids && bsearch(&user_id, l->ids, l->nids, sizeof *l->ids, cmp_id)) return true;
    if (!username[0] || !l->nnames) return false;
    char low[65];
    size_t i = 0;
    for (; username[i] && i < sizeof low - 1; i++)
        low[i] = (char)tolower((unsigned char)username[i]);
    low[i] = 0;
    const char *key = low;
    return bsearch(&key, l->names, l->nnames, sizeof *l->names, cmp_name) != NULL;
}
