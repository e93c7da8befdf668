/* html_page.h: the small HTML pages tgsim shows to a person trying `doorman demo` (the login
 * codes an account received, what an applicant sees). Every text from the world is escaped, and
 * the pages run no script (Content-Security-Policy default-src 'none'). */
#ifndef DM_SIM_HTML_PAGE_H
#define DM_SIM_HTML_PAGE_H

#include "core/common.h"
#include "core/buf.h"
#include "http/server.h"

/* A page being written; the first failed append is kept in err (the page is then not sent). */
struct html_page {
    struct buf b;
    dm_err err;
};

/* Starts a page titled "tgsim: <title>" (title is trusted text) with the pages' style sheet. */
void html_page_begin(struct html_page *p, const char *title);
/* Appends trusted HTML. */
void html_put(struct html_page *p, const char *s);
/* Appends s with &, <, >, " and ' as character references. */
void html_put_escaped(struct html_page *p, const char *s);
/* Appends the UTC date of Unix seconds t, e.g. "2026-12-05 15:04:05 UTC". */
void html_put_date(struct html_page *p, int64_t t);
/* Ends the page and answers with it (status) and its headers, or 500 when writing failed;
 * releases the page either way. */
void html_page_send(struct html_page *p, struct http_response *res, int status);

#endif
