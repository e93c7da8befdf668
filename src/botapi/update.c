#include "core/common.h"
#include "botapi/update.h"

/* The string at o[key], or "" when absent or not a string. */
static const char *text(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

dm_err botapi_join_request_parse(const json_t *update, struct botapi_join_request *out,
                                 struct dm_error *err)
{
    const json_t *jr = json_object_get(update, "chat_join_request");
    if (!json_is_object(jr)) return DM_ENOTFOUND;
    const json_t *c = json_object_get(jr, "chat"), *from = json_object_get(jr, "from");
    const json_t *chat_id = json_object_get(c, "id"), *user_id = json_object_get(from, "id");
    if (!json_is_integer(chat_id) || !json_is_integer(user_id))
        return dm_fail(err, DM_EINVAL, "a chat_join_request without chat.id or from.id");
    const json_t *date = json_object_get(jr, "date");
    *out = (struct botapi_join_request){
        .chat_id = json_integer_value(chat_id),
        .user_id = json_integer_value(user_id),
        .date =
            json_is_integer(date) && json_integer_value(date) > 0 ? json_integer_value(date) : 0,
        .chat_title = text(c, "title"),
        .chat_username = text(c, "username"),
        .first_name = text(from, "first_name"),
        .last_name = text(from, "last_name"),
        .username = text(from, "username"),
        .bio = text(jr, "bio"),
        .invite_link = text(json_object_get(jr, "invite_link"), "invite_link"),
        .is_premium = json_is_true(json_object_get(from, "is_premium")),
        .language_code = text(from, "language_code"),
        .query_id = text(jr, "query_id"),
    };
    return DM_OK;
}
