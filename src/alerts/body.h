/* body.h: the JSON body of an event's deliveries (internal to src/alerts/; docs/api.md,
 * Webhooks, has each kind's fields). */
#ifndef DM_ALERTS_BODY_H
#define DM_ALERTS_BODY_H

#include "alerts/alerts.h"

/* The body of ev (reading the request or the job it names, when it still exists), malloc'd,
 * or NULL in *out when the settings drop it (a flood wait under their threshold). DM_ENOMEM,
 * or the store's error reading what it names. */
dm_err event_body(struct store *st, const struct store_event *ev, const struct alert_settings *s,
                  char **out, struct dm_error *err);

#endif
