/* notice.h: the private message that follows a decision: a welcome on approval, a reason on
 * decline, written per channel in its challenge's texts ("welcome", "decline", per language as
 * the other texts, verify/challenge.h; the channel's challenge, else the default's).
 *
 * Telegram lets the bot write to an applicant through ChatJoinRequest.user_chat_id for 5 minutes
 * after the request and only until it is processed, so the message goes just before the decision
 * is made on Telegram (the job runner calls notice_before for each decision it makes), and only
 * for a request asked within DELIVER_WINDOW_S (deliver.h). It goes once per request (claimed in
 * the store first: a decision tried again does not send it again), through the bot, whoever
 * decides. A template is Telegram HTML (parse_mode HTML: <b>, <i>, <a href="…">; "&lt;" for a
 * "<"); {first_name}, {last_name}, {username} and {channel} are replaced by the applicant's and
 * the channel's, HTML-escaped, so a name never becomes markup. A message that cannot be sent is
 * logged and in the audit ("notice_undelivered", with Telegram's words); it never holds the
 * decision back. Sent ones are in the audit as "notice_sent".
 *
 * Whole-channel decisions through a session (hide_all.h) and the join-request queries' answers
 * (guard.h) send none. */
#ifndef DM_JOBS_NOTICE_H
#define DM_JOBS_NOTICE_H

#include "core/common.h"

struct accounts;
struct account_request;

/* Sends request r's message for an approval (approve) or a decline, when its channel has one
 * and the applicant can still be written to. Any thread; failures are logged. */
void notice_before(const struct accounts *as, const struct account_request *r, bool approve);

/* Fills template tpl into out (owned by the caller): each {first_name}, {last_name},
 * {username} and {channel} replaced by the value given, HTML-escaped (& < > "); other text as
 * it is. NULL when out of memory. Exposed for tests. */
char *notice_render(const char *tpl, const char *first_name, const char *last_name,
                    const char *username, const char *channel);

#endif
