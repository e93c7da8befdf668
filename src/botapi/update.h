/* update.h: reading a Bot API `chat_join_request` update (untrusted JSON from the network).
 * Pure: no I/O and no allocation. What doorman records from it is the caller's business
 * (telegram/bot.c). */
#ifndef DM_BOTAPI_UPDATE_H
#define DM_BOTAPI_UPDATE_H

#include "core/common.h"

#include <jansson.h>

/* A join request as the update carries it. The strings are borrowed from the update (valid
 * while the caller holds it), never NULL: "" when the update has no such field or it is not a
 * string. Their length is whatever the sender made it; cutting them to fit is the caller's. */
struct botapi_join_request {
    int64_t chat_id;
    int64_t user_id;
    int64_t date; /* when the user asked, as Telegram says; 0 when absent or not positive */
    const char *chat_title, *chat_username;
    const char *first_name, *last_name, *username;
    const char *bio;
    const char *invite_link;   /* the link's own invite_link field */
    bool is_premium;           /* from.is_premium is true */
    const char *language_code; /* from.language_code */
    /* Bot API 10.1: the join-request query, for the chat's assigned join-request bot only
     * (botapi/join_query.h); "" when the update has none */
    const char *query_id;
};

/* Fills *out. DM_ENOTFOUND when the update is not a chat_join_request; DM_EINVAL (message in
 * err) when it is one without integer chat.id and from.id. */
dm_err botapi_join_request_parse(const json_t *update, struct botapi_join_request *out,
                                 struct dm_error *err);

#endif
