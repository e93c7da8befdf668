/* text.h: an alert as a Telegram message: the plain text a chat destination ("tg:<chat_id>",
 * alerts.h) is sent instead of the JSON body. */
#ifndef DM_ALERTS_TEXT_H
#define DM_ALERTS_TEXT_H

#include "core/common.h"

#define ALERT_TEXT_MAX 4096 /* a Telegram message's length limit (characters; bytes here) */

/* The text for a delivery's JSON body into out (size ALERT_TEXT_MAX): "doorman: <kind>", then one
 * line a field ("key: value"; an object's fields as "key.field: value"), cut at a whole line to
 * fit. Sent without parse_mode, so names from Telegram stay text. A body that is not a JSON
 * object gives its kind as "event". */
void alert_text(const char *body, char out[ALERT_TEXT_MAX]);

/* Whether url names a Telegram chat ("tg:" and a nonzero integer id); *chat_id gets it. */
bool alert_chat_url(const char *url, int64_t *chat_id);

#endif
