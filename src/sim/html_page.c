#include "core/common.h"
#include "sim/html_page.h"

#include <time.h>

static const char style[] =
    "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:40rem;padding:0 1rem;"
    "color:#1f2933}h1{font-size:1.3rem}.msg{border:1px solid #d9e2ec;border-radius:.6rem;"
    "padding:.7rem 1rem;margin:.8rem 0;background:#f5f9ff}.from{font-weight:600;color:#2481cc}"
    ".date{color:#7b8794;font-size:.85rem;margin-left:.5rem}.text{white-space:pre-wrap;"
    "margin-top:.3rem}.note{color:#52606d}input{font:inherit;padding:.3rem}"
    "a.open{display:inline-block;margin-top:.4rem;padding:.35rem .8rem;border-radius:.4rem;"
    "background:#2481cc;color:#fff;text-decoration:none}";

void html_put(struct html_page *p, const char *s)
{
    if (!p->err) p->err = buf_puts(&p->b, s);
}

void html_page_begin(struct html_page *p, const char *title)
{
    p->err = DM_OK;
    buf_init(&p->b, 1 << 20);
    html_put(
        p,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>tgsim: ");
    html_put(p, title);
    html_put(p, "</title><style>");
    html_put(p, style);
    html_put(p, "</style></head><body>\n");
}

void html_put_escaped(struct html_page *p, const char *s)
{
    for (; *s && !p->err; s++) {
        switch (*s) {
        case '&':
            html_put(p, "&amp;");
            break;
        case '<':
            html_put(p, "&lt;");
            break;
        case '>':
            html_put(p, "&gt;");
            break;
        case '"':
            html_put(p, "&quot;");
            break;
        case '\'':
            html_put(p, "&#39;");
            break;
        default:
            p->err = buf_append(&p->b, s, 1);
        }
    }
}

void html_put_date(struct html_page *p, int64_t t)
{
    char date[40];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tm);
    html_put(p, date);
}

void html_page_send(struct html_page *p, struct http_response *res, int status)
{
    html_put(p, "</body></html>\n");
    if (p->err) {
        buf_release(&p->b);
        http_res_json(res, 500, json_pack("{s:s}", "error", dm_strerror(p->err)));
        return;
    }
    size_t len;
    char *body = buf_detach(&p->b, &len);
    http_res_take(res, status, "text/html; charset=utf-8", body, len);
    http_res_header(res, "Content-Security-Policy",
                    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    http_res_header(res, "X-Content-Type-Options", "nosniff");
    http_res_header(res, "Cache-Control", "no-store");
}
