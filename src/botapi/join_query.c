/* join_query.c: the two calls of Bot API 10.1 join-request queries (join_query.h). */
#include "core/common.h"
#include "botapi/join_query.h"

const char *botapi_join_answer_name(enum botapi_join_answer a)
{
    switch (a) {
    case BOTAPI_JOIN_APPROVE:
        return "approve";
    case BOTAPI_JOIN_DECLINE:
        return "decline";
    case BOTAPI_JOIN_QUEUE:
        return "queue";
    }
    return "queue";
}

bool botapi_query_id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > BOTAPI_QUERY_ID_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~') return false;
    return true;
}

/* Calls method with the query id and one more string parameter. */
static dm_err query_call(struct botapi_client *c, const char *method, const char *query_id,
                         const char *key, const char *value, long timeout_ms,
                         struct botapi_reply *out, struct dm_error *err)
{
    memset(out, 0, sizeof *out);
    if (!botapi_query_id_valid(query_id))
        return dm_fail(err, DM_EINVAL, "not a join-request query id");
    if (!*value) return dm_fail(err, DM_EINVAL, "%s is empty", key);
    json_t *p = json_pack("{s:s, s:s}", "chat_join_request_query_id", query_id, key, value);
    if (!p) return dm_fail(err, DM_ENOMEM, "out of memory");
    dm_err e = botapi_call(c, method, p, timeout_ms, out, err);
    json_decref(p);
    return e;
}

dm_err botapi_answer_join_query(struct botapi_client *c, const char *query_id,
                                enum botapi_join_answer answer, long timeout_ms,
                                struct botapi_reply *out, struct dm_error *err)
{
    return query_call(c, "answerChatJoinRequestQuery", query_id, "result",
                      botapi_join_answer_name(answer), timeout_ms, out, err);
}

dm_err botapi_send_join_web_app(struct botapi_client *c, const char *query_id,
                                const char *web_app_url, long timeout_ms, struct botapi_reply *out,
                                struct dm_error *err)
{
    return query_call(c, "sendChatJoinRequestWebApp", query_id, "web_app_url", web_app_url,
                      timeout_ms, out, err);
}
