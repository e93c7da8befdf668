#include "core/common.h"
#include "alerts/text.h"

#include "core/buf.h"

#include <jansson.h>

bool alert_chat_url(const char *url, int64_t *chat_id)
{
    if (strncmp(url, "tg:", 3) != 0) return false;
    const char *p = url + 3;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno || end == p || *end || v == 0 || (*p != '-' && (*p < '0' || *p > '9'))) return false;
    *chat_id = v;
    return true;
}

/* Appends "prefix: value" for a scalar; false when out is full. */
static bool line(struct buf *b, const char *prefix, const json_t *v)
{
    size_t at = b->len;
    dm_err e;
    if (json_is_string(v))
        e = buf_printf(b, "\n%s: %s", prefix, json_string_value(v));
    else if (json_is_integer(v))
        e = buf_printf(b, "\n%s: %" JSON_INTEGER_FORMAT, prefix, json_integer_value(v));
    else if (json_is_real(v))
        e = buf_printf(b, "\n%s: %g", prefix, json_real_value(v));
    else if (json_is_boolean(v))
        e = buf_printf(b, "\n%s: %s", prefix, json_is_true(v) ? "yes" : "no");
    else
        return true; /* null, arrays: left out */
    if (e) b->len = at, b->data[at] = 0;
    return !e;
}

void alert_text(const char *body, char out[ALERT_TEXT_MAX])
{
    json_t *j = json_loads(body, 0, NULL);
    struct buf b;
    buf_init(&b, ALERT_TEXT_MAX - 1);
    const char *kind = json_string_value(json_object_get(j, "kind"));
    bool room = buf_printf(&b, "doorman: %s", kind ? kind : "event") == DM_OK;
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (!room || !strcmp(k, "kind")) continue;
        if (!json_is_object(v)) {
            room = line(&b, k, v);
            continue;
        }
        const char *k2;
        json_t *v2;
        json_object_foreach(v, k2, v2)
        {
            char prefix[128];
            snprintf(prefix, sizeof prefix, "%s.%s", k, k2);
            if (room) room = line(&b, prefix, v2);
        }
    }
    dm_strlcpy(out, b.data ? b.data : "doorman: event", ALERT_TEXT_MAX);
    buf_release(&b);
    json_decref(j);
}
