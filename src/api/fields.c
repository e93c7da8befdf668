/* fields.c: see fields.h. */
#include "core/common.h"
#include "api/fields.h"
#include "core/csv.h"
#include "core/date.h"
#include "store/store.h"

/* A field of record T: its name (a string literal), kind, member and whether exports alone
 * write it. */
#define FIELD_OF(T, name, kind, member, export_only)                                               \
    {                                                                                              \
        name, JSON_OUT_KEY(name), JSON_OUT_KEY_LEN(name), kind, offsetof(T, member), export_only   \
    }
#define REQ(name, kind, member) FIELD_OF(struct store_request, name, kind, member, false)
#define REQ_UTC(name, member) FIELD_OF(struct store_request, name, FIELD_UTC, member, true)

static const struct field request_v[] = {
    REQ("id", FIELD_INT, id),
    REQ("chat_id", FIELD_INT, chat_id),
    REQ("chat_title", FIELD_TEXT, chat_title),
    REQ("user_id", FIELD_INT, user_id),
    REQ("first_name", FIELD_TEXT, first_name),
    REQ("last_name", FIELD_TEXT, last_name),
    REQ("username", FIELD_TEXT, username),
    REQ("bio", FIELD_TEXT, bio),
    REQ("invite_link", FIELD_TEXT, invite_link),
    REQ("date", FIELD_INT, tg_date),
    REQ_UTC("date_utc", tg_date),
    REQ("status", FIELD_STATUS, status),
    REQ("created_at", FIELD_INT, created_at),
    REQ_UTC("created_at_utc", created_at),
    REQ("decided_at", FIELD_INT_OR_NULL, decided_at),
    REQ_UTC("decided_at_utc", decided_at),
    REQ("decided_by", FIELD_TEXT, decided_by),
    REQ("decided_via", FIELD_TEXT, decided_via),
    REQ("last_error", FIELD_TEXT, last_error),
    REQ("is_premium", FIELD_BOOL, is_premium),
    REQ("language_code", FIELD_TEXT, language_code),
    REQ("is_scam", FIELD_BOOL, is_scam),
    REQ("is_fake", FIELD_BOOL, is_fake),
    REQ("rule_id", FIELD_INT_OR_NULL, rule_id),
    REQ("verdict", FIELD_TEXT, verdict),
    REQ("banned", FIELD_BOOL, banned),
    REQ("verification", FIELD_VERIFY, verify_state),
    REQ("verification_deadline", FIELD_INT_OR_NULL, verify_deadline),
    REQ("verification_attempts", FIELD_INT, verify_attempts),
    REQ("verification_answer", FIELD_TEXT, verify_answer),
};
const struct record_fields request_fields = {request_v, DM_ARRAY_LEN(request_v)};

#define AUD(name, kind, member) FIELD_OF(struct store_audit, name, kind, member, false)

static const struct field audit_v[] = {
    AUD("id", FIELD_INT, id),
    AUD("at", FIELD_INT, at),
    FIELD_OF(struct store_audit, "at_utc", FIELD_UTC, at, true),
    AUD("admin", FIELD_TEXT, admin),
    AUD("action", FIELD_TEXT, action),
    AUD("request_id", FIELD_INT, request_id),
    AUD("chat_id", FIELD_INT, chat_id),
    AUD("user_id", FIELD_INT, user_id),
    AUD("job_id", FIELD_INT, job_id),
    AUD("via", FIELD_TEXT, via),
    AUD("result", FIELD_TEXT, result),
    AUD("detail", FIELD_TEXT, detail),
};
const struct record_fields audit_fields = {audit_v, DM_ARRAY_LEN(audit_v)};

static int64_t int_at(const void *rec, const struct field *f)
{
    int64_t v;
    memcpy(&v, (const char *)rec + f->offset, sizeof v);
    return v;
}

static const char *text_at(const void *rec, const struct field *f)
{
    return (const char *)rec + f->offset;
}

static bool bool_at(const void *rec, const struct field *f)
{
    bool v;
    memcpy(&v, (const char *)rec + f->offset, sizeof v);
    return v;
}

static int status_at(const void *rec, const struct field *f)
{
    int v;
    memcpy(&v, (const char *)rec + f->offset, sizeof v);
    return v;
}

void fields_json(struct json_out *o, const struct record_fields *fs, const void *rec, bool exported)
{
    for (size_t i = 0; i < fs->n; i++) {
        const struct field *f = &fs->v[i];
        if (f->export_only && !exported) continue;
        const char *k = f->key_json;
        size_t kn = f->key_len;
        int64_t t = f->kind == FIELD_INT_OR_NULL || f->kind == FIELD_UTC ? int_at(rec, f) : 0;
        char utc[DATE_UTC_LEN];
        switch (f->kind) {
        case FIELD_INT:
            json_out_member_int(o, k, kn, int_at(rec, f));
            break;
        case FIELD_INT_OR_NULL:
            if (t)
                json_out_member_int(o, k, kn, t);
            else
                json_out_member_raw(o, k, kn, "null", 4);
            break;
        case FIELD_UTC:
            if (t) {
                date_format_utc(t, utc);
                json_out_member_text(o, k, kn, utc);
            } else
                json_out_member_raw(o, k, kn, "null", 4);
            break;
        case FIELD_TEXT:
            json_out_member_text(o, k, kn, text_at(rec, f));
            break;
        case FIELD_BOOL:
            if (bool_at(rec, f))
                json_out_member_raw(o, k, kn, "true", 4);
            else
                json_out_member_raw(o, k, kn, "false", 5);
            break;
        case FIELD_STATUS:
            json_out_member_text(o, k, kn, request_status_name(status_at(rec, f)));
            break;
        case FIELD_VERIFY:
            if (status_at(rec, f) >= 0)
                json_out_member_text(o, k, kn, verify_state_name(status_at(rec, f)));
            else
                json_out_member_raw(o, k, kn, "null", 4);
            break;
        }
    }
}

dm_err fields_csv_header(struct buf *b, const struct record_fields *fs)
{
    dm_err e = DM_OK;
    for (size_t i = 0; i < fs->n && !e; i++)
        e = csv_raw(b, i == 0, fs->v[i].name);
    return e ? e : csv_end_record(b);
}

dm_err fields_csv(struct buf *b, const struct record_fields *fs, const void *rec)
{
    dm_err e = DM_OK;
    for (size_t i = 0; i < fs->n && !e; i++) {
        const struct field *f = &fs->v[i];
        bool first = i == 0;
        int64_t t = f->kind == FIELD_INT_OR_NULL || f->kind == FIELD_UTC ? int_at(rec, f) : 0;
        char utc[DATE_UTC_LEN] = "";
        switch (f->kind) {
        case FIELD_INT:
            e = csv_int(b, first, int_at(rec, f));
            break;
        case FIELD_INT_OR_NULL:
            e = t ? csv_int(b, first, t) : csv_raw(b, first, "");
            break;
        case FIELD_UTC:
            if (t) date_format_utc(t, utc);
            e = csv_raw(b, first, utc);
            break;
        case FIELD_TEXT:
            e = csv_text(b, first, text_at(rec, f));
            break;
        case FIELD_BOOL:
            e = csv_raw(b, first, bool_at(rec, f) ? "true" : "false");
            break;
        case FIELD_STATUS:
            e = csv_raw(b, first, request_status_name(status_at(rec, f)));
            break;
        case FIELD_VERIFY:
            e = csv_raw(b, first,
                        status_at(rec, f) >= 0 ? verify_state_name(status_at(rec, f)) : "");
            break;
        }
    }
    return e ? e : csv_end_record(b);
}
