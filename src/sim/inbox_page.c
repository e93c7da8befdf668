#include "core/common.h"
#include "sim/inbox_page.h"

#include "core/buf.h"

#include <time.h>

static const char head[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>tgsim: Telegram messages</title><style>"
    "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:40rem;padding:0 1rem;"
    "color:#1f2933}h1{font-size:1.3rem}.msg{border:1px solid #d9e2ec;border-radius:.6rem;"
    "padding:.7rem 1rem;margin:.8rem 0;background:#f5f9ff}.from{font-weight:600;color:#2481cc}"
    ".date{color:#7b8794;font-size:.85rem;margin-left:.5rem}.text{white-space:pre-wrap;"
    "margin-top:.3rem}.note{color:#52606d}input{font:inherit;padding:.3rem}"
    "</style></head><body>\n";

/* The page being written; the first failed append is kept in err (the page is then not sent). */
struct page {
    struct buf b;
    dm_err err;
};

static void put(struct page *p, const char *s)
{
    if (!p->err) p->err = buf_puts(&p->b, s);
}

/* Appends s with &, <, >, " and ' as character references. */
static void put_escaped(struct page *p, const char *s)
{
    for (; *s && !p->err; s++) {
        switch (*s) {
        case '&':
            put(p, "&amp;");
            break;
        case '<':
            put(p, "&lt;");
            break;
        case '>':
            put(p, "&gt;");
            break;
        case '"':
            put(p, "&quot;");
            break;
        case '\'':
            put(p, "&#39;");
            break;
        default:
            p->err = buf_append(&p->b, s, 1);
        }
    }
}

static void put_form(struct page *pg, const char *phone)
{
    put(pg, "<form method=\"get\" action=\"/messages\"><label>Phone number "
            "<input name=\"phone\" type=\"tel\" value=\"");
    put_escaped(pg, phone ? phone : "");
    put(pg, "\"></label> <button>Show messages</button></form>\n");
}

static void put_messages(struct page *pg, const struct sim_account *a)
{
    put(pg, "<h1>Messages to +");
    put_escaped(pg, a->phone);
    put(pg, "</h1>\n<p class=\"note\">What this account received in Telegram, newest first. "
            "Reload the page after asking for a login code.</p>\n");
    if (!a->ninbox) put(pg, "<p>No messages yet.</p>\n");
    for (size_t i = a->ninbox; i-- > 0;) {
        const struct sim_inbox_message *m = &a->inbox[i];
        char date[40];
        time_t t = (time_t)m->date;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tm);
        put(pg, "<div class=\"msg\"><span class=\"from\">" SIM_SERVICE_USER_NAME
                "</span><span class=\"date\">");
        put(pg, date);
        put(pg, "</span><div class=\"text\">");
        put_escaped(pg, m->text);
        put(pg, "</div></div>\n");
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
    struct page pg = {.err = DM_OK};
    buf_init(&pg.b, 1 << 20);
    put(&pg, head);
    int status = 200;
    world_lock(w);
    const struct sim_account *a = phone ? world_account_by_phone(w, phone) : NULL;
    if (a) {
        put_messages(&pg, a);
    } else {
        put(&pg, "<h1>Telegram messages</h1>\n");
        if (phone) {
            status = 404;
            put(&pg, "<p>No account has the phone number ");
            put_escaped(&pg, phone);
            put(&pg, ".</p>\n");
        }
        put_form(&pg, phone);
    }
    world_unlock(w);
    put(&pg, "</body></html>\n");
    if (pg.err) {
        buf_release(&pg.b);
        http_res_json(res, 500, json_pack("{s:s}", "error", dm_strerror(pg.err)));
        return;
    }
    size_t len;
    char *body = buf_detach(&pg.b, &len);
    http_res_take(res, status, "text/html; charset=utf-8", body, len);
    http_res_header(res, "Content-Security-Policy",
                    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    http_res_header(res, "X-Content-Type-Options", "nosniff");
    http_res_header(res, "Cache-Control", "no-store");
}
