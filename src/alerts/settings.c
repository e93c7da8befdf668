/* settings.c: the alert settings, kept as JSON in the settings key "alerts" (see alerts.h). */
#include "core/common.h"
#include "alerts/alerts.h"

#define KEY "alerts"

static const struct {
    const char *name;
    size_t off;
    int64_t lo, hi;
    const char *takes;
} fields[] = {
    {"backlog_threshold", offsetof(struct alert_settings, backlog_threshold), 0, 100000000,
     "a number of pending requests from 0 (off) to 100000000"},
    {"flood_wait_minutes", offsetof(struct alert_settings, flood_wait_minutes), 0, 1440,
     "minutes from 0 (off) to 1440"},
    {"summary_hour", offsetof(struct alert_settings, summary_hour), -1, 23,
     "an hour of the day (UTC) from 0 to 23, or -1 (off)"},
};

/* Reads obj's members over s; false with a message naming the first bad one. */
static dm_err settings_read(const json_t *obj, struct alert_settings *s, struct dm_error *err)
{
    const char *key;
    json_t *v;
    struct alert_settings n = *s;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;
        while (i < DM_ARRAY_LEN(fields) && strcmp(fields[i].name, key) != 0)
            i++;
        if (i == DM_ARRAY_LEN(fields))
            return dm_fail(err, DM_EINVAL,
                           "unknown field '%.64s' (alert settings have backlog_threshold, "
                           "flood_wait_minutes, summary_hour)",
                           key);
        if (!json_is_integer(v) || json_integer_value(v) < fields[i].lo ||
            json_integer_value(v) > fields[i].hi)
            return dm_fail(err, DM_EINVAL, "%s must be %s", key, fields[i].takes);
        *(int64_t *)((char *)&n + fields[i].off) = json_integer_value(v);
    }
    *s = n;
    return DM_OK;
}

dm_err alert_settings_get(struct store *st, struct alert_settings *out, struct dm_error *err)
{
    *out = (struct alert_settings)ALERT_SETTINGS_DEFAULT;
    char *text = NULL;
    struct dm_error none = {0};
    dm_err e = store_setting_get(st, KEY, &text, &none);
    if (e == DM_ENOTFOUND) return DM_OK;
    if (e) return dm_fail(err, e, "%s", none.msg);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    if (json_is_object(j)) settings_read(j, out, &none); /* written by settings_set: valid */
    json_decref(j);
    return DM_OK;
}

dm_err alert_settings_set(struct store *st, const json_t *obj, struct alert_settings *s,
                          struct dm_error *err)
{
    struct alert_settings n = *s;
    dm_err e = settings_read(obj, &n, err);
    if (e) return e;
    json_t *j = alert_settings_json(&n);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) return dm_fail(err, DM_ENOMEM, "out of memory");
    e = store_setting_set(st, KEY, text, err);
    free(text);
    if (!e) *s = n;
    return e;
}

json_t *alert_settings_json(const struct alert_settings *s)
{
    return json_pack("{s:I,s:I,s:I}", "backlog_threshold", (json_int_t)s->backlog_threshold,
                     "flood_wait_minutes", (json_int_t)s->flood_wait_minutes, "summary_hour",
                     (json_int_t)s->summary_hour);
}
