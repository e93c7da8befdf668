/* dryrun.h: rules over what the store holds: a rule set built from stored rules or from specs
 * being edited (lists loaded from the store), and the dry run, which tells what a set would do
 * with a channel's pending requests without deciding any. */
#ifndef DM_RULES_DRYRUN_H
#define DM_RULES_DRYRUN_H

#include "rules/rules.h"
#include "store/store.h"

#define RULES_EXAMPLES_MAX 20
#define RULES_OUTCOMES (RULE_ACTION_COUNT + 1) /* each action, then "no rule matched" */

/* The store as a rules_list_loader (ctx: the struct store). */
dm_err rules_store_list_loader(void *st, const char *name, struct rules_list *l,
                               struct dm_error *err);

/* Appends the enabled stored rules of chat_id (0: the global ones) to s, in their order. A
 * stored rule that no longer compiles (a list deleted since) is DM_EINVAL naming it. */
dm_err rules_load_stored(struct store *st, int64_t chat_id, struct rules_set *s,
                         struct dm_error *err);

struct rules_example {
    int64_t request_id, user_id;
    char first_name[STORE_TEXT_MAX], last_name[STORE_TEXT_MAX], username[STORE_NAME_MAX];
    int rule_index; /* in the set; -1 when no rule matched */
    int64_t rule_id;
    char rule_name[STORE_TEXT_MAX];
};

/* counts[a] and examples[a] per outcome a (RULE_* or RULE_ACTION_COUNT: no rule matched). */
struct rules_dryrun {
    int64_t pending; /* requests evaluated */
    int64_t unknown; /* of them, those for which a rule was passed over because it has a
                        condition the dry run does not ask (has_photo, on_blocklist) */
    int64_t counts[RULES_OUTCOMES];
    int nexamples[RULES_OUTCOMES];
    struct rules_example examples[RULES_OUTCOMES][RULES_EXAMPLES_MAX];
};

/* Evaluates s over every pending request of chat_id as it stands, reading the channel's
 * requests in arrival order a page at a time (earlier requests feed waves and earlier
 * declines: rules/history.h). Decides nothing. *out is the caller's (it is large: allocate). */
dm_err rules_dryrun(struct store *st, const struct rules_set *s, int64_t chat_id,
                    struct rules_dryrun *out, struct dm_error *err);

/* The request as rules read it (strings borrowed from r). */
struct rules_request rules_request_of(const struct store_request *r);

#endif
