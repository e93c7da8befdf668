#include "core/common.h"
#include "botapi/update.h"

/* The string at o[key], or "" when absent or not a string. */
static const char *text(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

dm_err update_parse_join_request(json_t *update, int64_t now, struct store_request *r,
                                 struct store_chat *chat, struct dm_error *err)
{
    json_t *jr = json_object_get(update, "chat_join_request");
    if (!json_is_object(jr)) return DM_ENOTFOUND;
    json_t *c = json_object_get(jr, "chat"), *from = json_object_get(jr, "from");
    json_t *chat_id = json_object_get(c, "id"), *user_id = json_object_get(from, "id");
    if (!json_is_integer(chat_id) || !json_is_integer(user_id))
        return dm_fail(err, DM_EINVAL, "a chat_join_request without chat.id or from.id");

    memset(r, 0, sizeof *r);
    r->chat_id = json_integer_value(chat_id);
    r->user_id = json_integer_value(user_id);
    dm_strlcpy(r->first_name, text(from, "first_name"), sizeof r->first_name);
    dm_strlcpy(r->last_name, text(from, "last_name"), sizeof r->last_name);
    dm_strlcpy(r->username, text(from, "username"), sizeof r->username);
    dm_strlcpy(r->bio, text(jr, "bio"), sizeof r->bio);
    dm_strlcpy(r->invite_link, text(json_object_get(jr, "invite_link"), "invite_link"),
               sizeof r->invite_link);
    json_t *date = json_object_get(jr, "date");
    r->tg_date = json_is_integer(date) && json_integer_value(date) > 0 ? json_integer_value(date)
                                                                       : now;
    r->status = REQ_PENDING;
    r->created_at = now;

    memset(chat, 0, sizeof *chat);
    chat->chat_id = r->chat_id;
    dm_strlcpy(chat->title, text(c, "title"), sizeof chat->title);
    dm_strlcpy(chat->username, text(c, "username"), sizeof chat->username);
    chat->fetched_at = now;
    return DM_OK;
}
