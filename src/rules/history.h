/* history.h: what the requests before one tell about it, for the context of rules.h (waves,
 * earlier declines), kept in memory from a channel's requests fed in arrival order (tg_date,
 * then id), as store_request_scan reads them. Pure: no I/O. A history owns what it keeps; it
 * is for one thread. */
#ifndef DM_RULES_HISTORY_H
#define DM_RULES_HISTORY_H

#include "rules/rules.h"

struct rules_history;
struct rules_history *rules_history_new(void); /* NULL when out of memory */
void rules_history_free(struct rules_history *h);
/* Records r (of status declined or not) after the requests fed before it; r->tg_date must not
 * be before theirs. DM_ENOMEM only. */
dm_err rules_history_add(struct rules_history *h, const struct rules_request *r, bool declined);
/* The context that answers from h (for requests already added). */
struct rules_context rules_history_context(struct rules_history *h);

#endif
