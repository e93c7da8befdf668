/* preferences.c: GET/POST /api/me/preferences: what each admin chose last in the panel
 * (docs/api.md). Kept in the settings table under "pref:<admin>:approve_via". */
#include "core/common.h"
#include "api/api.h"

/* "pref:" + an admin name (or "token <name> of <admin>") + ":approve_via" */
static void pref_key(const struct api_ctx *c, char *out, size_t n)
{
    snprintf(out, n, "pref:%s:approve_via", c->session.admin_name);
}

static void answer(struct api_ctx *c, const char *via)
{
    http_res_json(c->res, 200,
                  json_pack("{s:o}", "approve_via", via && *via ? json_string(via) : json_null()));
}

void api_preferences_get(struct api_ctx *c)
{
    char key[STORE_ACTOR_MAX + 32];
    pref_key(c, key, sizeof key);
    char *v = NULL;
    struct dm_error err = {0};
    dm_err e = store_setting_get(c->env->store, key, &v, &err);
    if (e && e != DM_ENOTFOUND) {
        api_store_failed(c, e, &err);
        return;
    }
    answer(c, e ? NULL : v);
    free(v);
}

void api_preferences_post(struct api_ctx *c)
{
    if (!api_only_fields(c, c->body, NULL, "approve_via", NULL)) return;
    json_t *v = json_object_get(c->body, "approve_via");
    if (!v || (!json_is_null(v) && (!json_is_string(v) || json_string_length(v) == 0 ||
                                    json_string_length(v) >= STORE_NAME_MAX))) {
        api_bad_request(c, "'approve_via' must be null (the bot) or a session's name.");
        return;
    }
    /* a name is remembered as given: the session may be renamed or deleted later, and the
       panel then falls back to the bot */
    const char *via = json_is_null(v) ? NULL : json_string_value(v);
    char key[STORE_ACTOR_MAX + 32];
    pref_key(c, key, sizeof key);
    struct store *st = c->env->store;
    struct dm_error err = {0};
    dm_err e = via ? store_setting_set(st, key, via, &err) : store_setting_delete(st, key, &err);
    if (e && !(e == DM_ENOTFOUND && !via)) {
        api_store_failed(c, e, &err);
        return;
    }
    answer(c, via);
}
