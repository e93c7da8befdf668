/* update.h: reading a Bot API `chat_join_request` update (untrusted JSON from the network) into
 * doorman's records. Pure: no I/O, no allocation beyond what the caller passes. */
#ifndef DM_BOTAPI_UPDATE_H
#define DM_BOTAPI_UPDATE_H

#include "core/common.h"
#include "store/store.h"

#include <jansson.h>

/* Fills *r (status pending, created_at = now, tg_date from the update or now; text fields cut at
 * a UTF-8 boundary to fit) and *chat (chat_id; title and username, "" when the update has none;
 * fetched_at = now). DM_ENOTFOUND when the update is not a chat_join_request; DM_EINVAL (message
 * in err) when it is one without integer chat.id and from.id. */
dm_err update_parse_join_request(json_t *update, int64_t now, struct store_request *r,
                                 struct store_chat *chat, struct dm_error *err);

#endif
