#include "core/common.h"
#include "sim/applicant_page.h"

#include "sim/html_page.h"
#include "sim/webapp.h"

/* A link opening jr's Mini App as its applicant, launched now; nothing when it cannot be made. */
static void put_open_link(struct html_page *pg, struct world *w, const struct sim_join_request *jr,
                          const struct sim_user *u)
{
    const struct sim_channel *ch = world_channel(w, jr->chat_id);
    const struct sim_bot *bot = ch && ch->guard_bot ? world_bot_by_id(w, ch->guard_bot) : NULL;
    if (!bot) {
        html_put(pg, "<div class=\"note\">The channel has no join-request bot now.</div>");
        return;
    }
    struct sim_webapp_launch l = {bot, u, jr->web_app_url, world_now(), "android", "{}", NULL};
    struct buf data, url;
    buf_init(&data, 16384);
    buf_init(&url, 65536);
    if (sim_webapp_open(&l, &data, &url) == DM_OK) {
        html_put(pg, "<a class=\"open\" href=\"");
        html_put_escaped(pg, url.data);
        html_put(pg, "\">Open the Mini App as ");
        html_put_escaped(pg, u->first_name);
        html_put(pg, "</a>");
    }
    buf_release(&data);
    buf_release(&url);
}

static void put_request(struct html_page *pg, struct world *w, const struct sim_join_request *jr)
{
    const struct sim_user *u = world_user(w, jr->user_id);
    const struct sim_channel *ch = world_channel(w, jr->chat_id);
    if (!u || !ch) return;
    html_put(pg, "<div class=\"msg\"><span class=\"from\">");
    html_put_escaped(pg, u->first_name);
    if (u->last_name) {
        html_put(pg, " ");
        html_put_escaped(pg, u->last_name);
    }
    html_put(pg, "</span>");
    if (u->username) {
        html_put(pg, " @");
        html_put_escaped(pg, u->username);
    }
    html_put(pg, "<span class=\"date\">");
    html_put_date(pg, jr->date);
    html_put(pg, "</span><div class=\"text\">asked to join ");
    html_put_escaped(pg, ch->title);
    html_put(pg, "; the request is ");
    html_put(pg, jr_status_name(jr->status));
    html_put(pg, ".</div>");
    if (jr->status == JR_PENDING) put_open_link(pg, w, jr, u);
    html_put(pg, "</div>\n");
}

void applicant_page_handle(struct world *w, const struct http_request *req,
                           struct http_response *res)
{
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        http_res_json(res, 405, json_pack("{s:s}", "error", "use GET on /applicants"));
        return;
    }
    struct html_page pg;
    html_page_begin(&pg, "what applicants see");
    html_put(&pg, "<h1>What applicants see</h1>\n<p class=\"note\">Join requests the channel's "
                  "join-request bot answered with a Mini App, newest first: in Telegram the "
                  "applicant sees the Mini App at once. Open one as that applicant would; reload "
                  "the page for new ones.</p>\n");
    size_t shown = 0;
    world_lock(w);
    for (size_t i = w->njrs; i-- > 0 && shown < APPLICANT_PAGE_MAX;) {
        if (!w->jrs[i].web_app_url) continue;
        put_request(&pg, w, &w->jrs[i]);
        shown++;
    }
    world_unlock(w);
    if (!shown) html_put(&pg, "<p>No applicant has been shown a Mini App yet.</p>\n");
    html_page_send(&pg, res, 200);
}
