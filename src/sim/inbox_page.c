#include "core/common.h"
#include "sim/inbox_page.h"

#include "sim/html_page.h"

static void put_form(struct html_page *pg, const char *phone)
{
    html_put(pg, "<form method=\"get\" action=\"/messages\"><label>Phone number "
                 "<input name=\"phone\" type=\"tel\" value=\"");
    html_put_escaped(pg, phone ? phone : "");
    html_put(pg, "\"></label> <button>Show messages</button></form>\n");
}

static void put_messages(struct html_page *pg, const struct sim_account *a)
{
    html_put(pg, "<h1>Messages to +");
    html_put_escaped(pg, a->phone);
    html_put(pg, "</h1>\n<p class=\"note\">What this account received in Telegram, newest first. "
                 "Reload the page after asking for a login code.</p>\n");
    if (!a->ninbox) html_put(pg, "<p>No messages yet.</p>\n");
    for (size_t i = a->ninbox; i-- > 0;) {
        const struct sim_inbox_message *m = &a->inbox[i];
        html_put(pg, "<div class=\"msg\"><span class=\"from\">" SIM_SERVICE_USER_NAME
                     "</span><span class=\"date\">");
        html_put_date(pg, m->date);
        html_put(pg, "</span><div class=\"text\">");
        html_put_escaped(pg, m->text);
        html_put(pg, "</div></div>\n");
    }
}

void inbox_page_handle(struct world *w, const struct http_request *req, struct http_response *res)
{
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        http_res_json(res, 405, json_pack("{s:s}", "error", "use GET on /messages"));
        return;
    }
    const char *phone = http_query(req, "phone");
    if (phone && !*phone) phone = NULL;
    struct html_page pg;
    html_page_begin(&pg, "Telegram messages");
    int status = 200;
    world_lock(w);
    const struct sim_account *a = phone ? world_account_by_phone(w, phone) : NULL;
    if (a) {
        put_messages(&pg, a);
    } else {
        html_put(&pg, "<h1>Telegram messages</h1>\n");
        if (phone) {
            status = 404;
            html_put(&pg, "<p>No account has the phone number ");
            html_put_escaped(&pg, phone);
            html_put(&pg, ".</p>\n");
        }
        put_form(&pg, phone);
    }
    world_unlock(w);
    html_page_send(&pg, res, status);
}
