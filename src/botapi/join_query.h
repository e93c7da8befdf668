/* join_query.h: Bot API 10.1 join-request queries (core.telegram.org/bots/api, June 2026).
 *
 * A chat may assign a bot to process its join requests (ChatFullInfo.guard_bot). That bot gets
 * ChatJoinRequest.query_id (botapi/update.h) and must, within BOTAPI_JOIN_QUERY_MS of the
 * request, call answerChatJoinRequestQuery (approve, decline, or queue: leave it to the other
 * administrators) or sendChatJoinRequestWebApp (show the applicant a Mini App first, then
 * answer). Past the deadline Telegram leaves the request pending for the admins ("queued") and
 * refuses a late answer. Protocol only, like client.h: what doorman answers is jobs/guard.h's. */
#ifndef DM_BOTAPI_JOIN_QUERY_H
#define DM_BOTAPI_JOIN_QUERY_H

#include "botapi/client.h"
#include "core/common.h"

#define BOTAPI_JOIN_QUERY_MS 10000 /* "within 10 seconds" of the request */
#define BOTAPI_QUERY_ID_MAX 64     /* bytes of a query id doorman accepts (Telegram's: ~20) */

enum botapi_join_answer { BOTAPI_JOIN_APPROVE, BOTAPI_JOIN_DECLINE, BOTAPI_JOIN_QUEUE };

/* "approve", "decline", "queue": the answer's result parameter. */
const char *botapi_join_answer_name(enum botapi_join_answer a);

/* Whether s can be a query id: 1..BOTAPI_QUERY_ID_MAX bytes of printable ASCII. */
bool botapi_query_id_valid(const char *s);

/* answerChatJoinRequestQuery(chat_join_request_query_id, result) and
 * sendChatJoinRequestWebApp(chat_join_request_query_id, web_app_url), as botapi_call (its
 * returns, *out always initialised and released by the caller). DM_EINVAL for a query id that
 * is not valid, or an empty web_app_url, before any call. */
dm_err botapi_answer_join_query(struct botapi_client *c, const char *query_id,
                                enum botapi_join_answer answer, long timeout_ms,
                                struct botapi_reply *out, struct dm_error *err);
dm_err botapi_send_join_web_app(struct botapi_client *c, const char *query_id,
                                const char *web_app_url, long timeout_ms, struct botapi_reply *out,
                                struct dm_error *err);

#endif
