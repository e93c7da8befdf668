/* inbox_page.h: GET /messages?phone=..., a small HTML page showing what an account received
 * from "Telegram" (its login codes), so a person trying `doorman demo` can read the code the
 * way a Telegram user reads it in the app. Every text on the page is escaped, and the page runs
 * no script (Content-Security-Policy default-src 'none'). */
#ifndef DM_SIM_INBOX_PAGE_H
#define DM_SIM_INBOX_PAGE_H

#include "core/common.h"
#include "http/server.h"
#include "sim/world.h"

/* Answers one request for "/messages": without ?phone= a form asking for it; with the phone of
 * an account its messages, newest first (200); an unknown phone 404; not GET/HEAD 405. Takes the
 * world lock itself. */
void inbox_page_handle(struct world *w, const struct http_request *req, struct http_response *res);

#endif
