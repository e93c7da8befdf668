/* applicant_page.h: GET /applicants, a small HTML page showing what applicants see in Telegram
 * of doorman's verification: each join request the channel's join-request bot answered with a
 * Mini App (sendChatJoinRequestWebApp), newest first, with a link that opens the Mini App as
 * that applicant would in Telegram (the URL with its launch fragment, initData signed with the
 * bot's token: sim/webapp.h). For a person trying `doorman demo`; built on sim/html_page.h (text
 * escaped, no script). */
#ifndef DM_SIM_APPLICANT_PAGE_H
#define DM_SIM_APPLICANT_PAGE_H

#include "core/common.h"
#include "http/server.h"
#include "sim/world.h"

#define APPLICANT_PAGE_MAX 50 /* requests shown at most */

/* Answers one request for "/applicants": 200 with the page; not GET/HEAD 405. Takes the world
 * lock itself. */
void applicant_page_handle(struct world *w, const struct http_request *req,
                           struct http_response *res);

#endif
