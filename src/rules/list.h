/* list.h: a named allow or deny list as rules read it (see rules.h): user ids and usernames
 * (lowercase, without '@'), kept sorted for lookups. Entries are added with rules_list_add
 * (rules.h), then the list is sealed; a sealed list is read only. The list owns its copies. */
#ifndef DM_RULES_LIST_H
#define DM_RULES_LIST_H

#include "rules/rules.h"

struct rules_list *rules_list_new(const char *name); /* NULL when out of memory */
void rules_list_free(struct rules_list *l);
const char *rules_list_name(const struct rules_list *l);
/* Sorts what was added; entries that could not be kept (out of memory) were dropped. */
void rules_list_seal(struct rules_list *l);
/* Whether user_id or username (compared without case) is in the sealed list. */
bool rules_list_has(const struct rules_list *l, int64_t user_id, const char *username);
/* The canonical text of an entry ("123" or "@name" lowercase) into out (STORE-sized: 65 bytes);
 * false when it is neither a user id nor a username ([A-Za-z0-9_]{3,32}, '@' optional). */
bool rules_list_entry_canonical(const char *entry, char out[65]);

#endif
