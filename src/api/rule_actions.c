/* rule_actions.c: an admin undoing what the rules did to requests: releasing the requests a
 * rule held (back to the admins, untagged). docs/api.md, Rules. */
#include "core/common.h"
#include "api/api.h"

#define RELEASE_MAX 1000

void api_requests_release(struct api_ctx *c)
{
    int64_t *ids = NULL;
    size_t n = 0;
    if (!api_only_fields(c, c->body, NULL, "request_ids", NULL) ||
        !api_body_ids(c, RELEASE_MAX, &ids, &n))
        return;
    json_t *released = json_array(), *skipped = json_array();
    char note[STORE_TEXT_MAX];
    dm_snprintf_utf8(note, sizeof note, "released by %s", c->session.admin_name);
    for (size_t i = 0; i < n; i++) {
        struct store_request r = {0};
        struct dm_error err = {0};
        dm_err e = store_request_get(c->env->store, ids[i], &r, &err);
        struct store_audit a = {
            .at = time(NULL), .request_id = ids[i], .chat_id = r.chat_id, .user_id = r.user_id};
        dm_strlcpy(a.admin, c->session.admin_name, sizeof a.admin);
        dm_strlcpy(a.action, "release", sizeof a.action);
        dm_strlcpy(a.result, "ok", sizeof a.result);
        dm_strlcpy(a.detail, r.verdict, sizeof a.detail);
        if (!e) e = store_request_release(c->env->store, ids[i], note, &a, &err);
        if (e && e != DM_ENOTFOUND) {
            json_decref(released);
            json_decref(skipped);
            free(ids);
            api_store_failed(c, e, &err);
            return;
        }
        json_array_append_new(e ? skipped : released, json_integer(ids[i]));
    }
    free(ids);
    http_res_json(c->res, 200, json_pack("{s:o,s:o}", "released", released, "skipped", skipped));
}
