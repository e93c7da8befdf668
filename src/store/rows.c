/* rows.c: row readers and record arguments (see rows.h), from one description of each
 * record: its fields in the order of its column list. */
#include "core/common.h"
#include "store/rows.h"

#include <stddef.h>

enum field_type { FT_I64, FT_INT, FT_BOOL, FT_TEXT };

struct field {
    enum field_type type;
    size_t off, size;
};

/* A field of record T, its type told by the member's C type. */
#define FIELD(T, m)                                                                                    \
    {                                                                                                  \
        _Generic(((T *)0)->m, int64_t: FT_I64, int: FT_INT, bool: FT_BOOL, char *: FT_TEXT),         \
     offsetof(T, m), sizeof(((T *)0)->m) \
    }

/* Writes each of the n fields of out from the row's columns: text with its terminator, the bytes
 * after it left as they were. */
static void row_fill(const struct field *f, size_t n, const struct db_row *r, void *out)
{
    for (size_t i = 0; i < n; i++) {
        char *p = (char *)out + f[i].off;
        switch (f[i].type) {
        case FT_I64:
            *(int64_t *)p = row_int(r, (int)i);
            break;
        case FT_INT:
            *(int *)p = (int)row_int(r, (int)i);
            break;
        case FT_BOOL:
            *(bool *)p = row_int(r, (int)i) != 0;
            break;
        case FT_TEXT:
            row_text(r, (int)i, p, f[i].size);
            break;
        }
    }
}

static void row_read(const struct field *f, size_t n, const struct db_row *r, void *out,
                     size_t size)
{
    memset(out, 0, size);
    row_fill(f, n, r, out);
}

/* Where a record's fields go when it is written out: numbers (booleans as 0 or 1) to num,
 * text (its member's size, terminator included) to text. */
struct field_sink {
    void (*num)(void *to, int64_t v);
    void (*text)(void *to, const char *s, size_t size);
};

/* Each of the n fields of `in`, in order, to the sink (the one walk over a record's fields for
 * both statement arguments and the JSON a batch is recorded from). */
static void fields_write(const struct field *f, size_t n, const void *in,
                         const struct field_sink *k, void *to)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = (const char *)in + f[i].off;
        switch (f[i].type) {
        case FT_I64:
            k->num(to, *(const int64_t *)p);
            break;
        case FT_INT:
            k->num(to, *(const int *)p);
            break;
        case FT_BOOL:
            k->num(to, *(const bool *)p);
            break;
        case FT_TEXT:
            k->text(to, p, f[i].size);
            break;
        }
    }
}

static void arg_num(void *to, int64_t v)
{
    arg_int(to, v);
}

static void arg_text_sized(void *to, const char *s, size_t size)
{
    arg_text(to, s, size);
}

static const struct field_sink args_sink = {arg_num, arg_text_sized};

static void args_write(const struct field *f, size_t n, struct db_args *a, const void *in)
{
    fields_write(f, n, in, &args_sink, a);
}

static void json_num(void *to, int64_t v)
{
    json_out_int(to, v);
}

static void json_text(void *to, const char *s, size_t size)
{
    (void)size;
    json_out_text(to, s);
}

static const struct field_sink json_sink = {json_num, json_text};

/* Each record's fields, in the order of its column list: F(T, member) for each (clang-format
 * does not settle on one layout for these lists, so it leaves them alone). */
// clang-format off
#define ADMIN(T, F) \
    F(T, id) F(T, name) F(T, pw_hash) F(T, created_at) F(T, role) F(T, totp_secret) \
    F(T, totp_pending) F(T, totp_step)
#define TOKEN(T, F) \
    F(T, id) F(T, admin_id) F(T, name) F(T, token_hash) F(T, role) F(T, created_at) \
    F(T, last_used_at) F(T, admin_name) F(T, admin_role)
#define WEBSESSION(T, F) \
    F(T, token_hash) F(T, admin_id) F(T, admin_name) F(T, csrf) F(T, created_at) F(T, expires_at) \
    F(T, role)
#define CHAT(T, F) F(T, chat_id) F(T, title) F(T, username) F(T, fetched_at)
/* REQUEST_COLS; what S_REQUEST_ADD records of each request is fields 1 to 18 */
#define REQUEST(T, F) \
    F(T, id) F(T, chat_id) F(T, user_id) F(T, first_name) F(T, last_name) F(T, username) \
    F(T, bio) F(T, invite_link) F(T, tg_date) F(T, status) F(T, created_at) F(T, decided_at) \
    F(T, decided_by) F(T, decided_via) F(T, last_error) F(T, is_premium) F(T, language_code) \
    F(T, is_scam) F(T, is_fake) F(T, rule_id) F(T, verdict) F(T, banned) \
    F(T, chat_title) F(T, verify_state) F(T, verify_deadline) F(T, verify_attempts) \
    F(T, verify_answer)
#define CHALLENGE(T, F) F(T, chat_id) F(T, spec) F(T, updated_at)
#define VERIFICATION(T, F) \
    F(T, request_id) F(T, chat_id) F(T, user_id) F(T, state) F(T, deadline) F(T, attempts) \
    F(T, answer) F(T, captcha) F(T, spec) F(T, lang) F(T, launch) F(T, created_at) \
    F(T, updated_at) F(T, dm_message_id) F(T, dm_key) F(T, dm_shown)
#define RULE(T, F) \
    F(T, id) F(T, chat_id) F(T, position) F(T, enabled) F(T, name) F(T, spec) F(T, created_at) \
    F(T, updated_at)
#define LIST(T, F) F(T, name) F(T, entries) F(T, created_at) F(T, updated_at)
#define LIST_ENTRY(T, F) F(T, entry)
#define MODE(T, F) \
    F(T, chat_id) F(T, mode) F(T, delay_seconds) F(T, per_hour) F(T, updated_at) F(T, via)
#define JOB(T, F) \
    F(T, id) F(T, kind) F(T, state) F(T, via) F(T, admin) F(T, description) F(T, total) \
    F(T, done) F(T, skipped) F(T, failed) F(T, created_at) F(T, updated_at) F(T, finished_at) \
    F(T, wait_until) F(T, error) F(T, params) F(T, cursor)
#define ITEM(T, F) \
    F(T, job_id) F(T, request_id) F(T, chat_id) F(T, user_id) F(T, request_status) \
    F(T, outcome) F(T, error) F(T, via)
/* SESSION_COLS; created_at last */
#define SESSION(T, F) \
    F(T, name) F(T, is_bot) F(T, api_id) F(T, api_hash_sealed) F(T, phone) F(T, dc_id) \
    F(T, account_id) F(T, first_name) F(T, last_name) F(T, username) F(T, account_phone) \
    F(T, premium) F(T, status) F(T, status_reason) F(T, last_check_at) F(T, last_error) \
    F(T, created_at)
#define LOGIN(T, F) \
    F(T, id) F(T, name) F(T, phone) F(T, state) F(T, hint) F(T, sealed) F(T, created_at) \
    F(T, expires_at)
/* AUDIT_COLS; the arguments of S_AUDIT_ADD are all but the id */
#define AUDIT(T, F) \
    F(T, id) F(T, at) F(T, admin) F(T, action) F(T, request_id) F(T, chat_id) F(T, user_id) \
    F(T, job_id) F(T, via) F(T, result) F(T, detail)
/* EVENT_COLS; the arguments of S_EVENT_ADD are all but the id */
#define EVENT(T, F) \
    F(T, id) F(T, kind) F(T, at) F(T, chat_id) F(T, request_id) F(T, user_id) F(T, job_id) \
    F(T, amount) F(T, subject) F(T, result) F(T, detail)
#define WEBHOOK(T, F) \
    F(T, id) F(T, url) F(T, secret_sealed) F(T, kinds) F(T, enabled) F(T, created_by) \
    F(T, created_at) F(T, updated_at) F(T, pending)
/* DELIVERY_COLS, then the body where a statement reads it */
#define DELIVERY(T, F) \
    F(T, id) F(T, webhook_id) F(T, event_id) F(T, kind) F(T, state) F(T, attempts) F(T, next_at) \
    F(T, http_status) F(T, error) F(T, created_at) F(T, updated_at) F(T, body)
// clang-format on

#define FIELD_ITEM(T, m) FIELD(T, m),
static const struct field admin_fields[] = {ADMIN(struct store_admin, FIELD_ITEM)};
static const struct field token_fields[] = {TOKEN(struct store_token, FIELD_ITEM)};
static const struct field websession_fields[] = {WEBSESSION(struct store_websession, FIELD_ITEM)};
static const struct field chat_fields[] = {CHAT(struct store_chat, FIELD_ITEM)};
static const struct field request_fields[] = {REQUEST(struct store_request, FIELD_ITEM)};
static const struct field job_fields[] = {JOB(struct store_job, FIELD_ITEM)};
static const struct field item_fields[] = {ITEM(struct store_item, FIELD_ITEM)};
static const struct field session_fields[] = {SESSION(struct store_session, FIELD_ITEM)};
static const struct field login_fields[] = {LOGIN(struct store_login, FIELD_ITEM)};
static const struct field audit_fields[] = {AUDIT(struct store_audit, FIELD_ITEM)};
static const struct field rule_fields[] = {RULE(struct store_rule, FIELD_ITEM)};
static const struct field list_fields[] = {LIST(struct store_list, FIELD_ITEM)};
static const struct field list_entry_fields[] = {LIST_ENTRY(struct store_list_entry, FIELD_ITEM)};
static const struct field mode_fields[] = {MODE(struct store_mode, FIELD_ITEM)};
static const struct field event_fields[] = {EVENT(struct store_event, FIELD_ITEM)};
static const struct field webhook_fields[] = {WEBHOOK(struct store_webhook, FIELD_ITEM)};
static const struct field delivery_fields[] = {DELIVERY(struct store_delivery, FIELD_ITEM)};
static const struct field challenge_fields[] = {CHALLENGE(struct store_challenge, FIELD_ITEM)};
static const struct field verification_fields[] = {
    VERIFICATION(struct store_verification, FIELD_ITEM)};

#define READER(name, fields, T)                                                                    \
    void name(const struct db_row *r, void *out)                                                   \
    {                                                                                              \
        row_read(fields, DM_ARRAY_LEN(fields), r, out, sizeof(T));                                 \
    }

READER(row_admin, admin_fields, struct store_admin)
READER(row_token, token_fields, struct store_token)
READER(row_websession, websession_fields, struct store_websession)
READER(row_chat, chat_fields, struct store_chat)
READER(row_request, request_fields, struct store_request)

void row_request_over(const struct db_row *r, void *out)
{
    row_fill(request_fields, DM_ARRAY_LEN(request_fields), r, out);
}
READER(row_job, job_fields, struct store_job)
READER(row_item, item_fields, struct store_item)
READER(row_session, session_fields, struct store_session)
READER(row_login, login_fields, struct store_login)
READER(row_audit, audit_fields, struct store_audit)
READER(row_rule, rule_fields, struct store_rule)
READER(row_list, list_fields, struct store_list)
READER(row_list_entry, list_entry_fields, struct store_list_entry)
READER(row_mode, mode_fields, struct store_mode)
READER(row_event, event_fields, struct store_event)
READER(row_webhook, webhook_fields, struct store_webhook)
READER(row_delivery_body, delivery_fields, struct store_delivery)

void row_delivery(const struct db_row *r, void *out)
{
    row_read(delivery_fields, DM_ARRAY_LEN(delivery_fields) - 1, r, out,
             sizeof(struct store_delivery));
}

void args_event(struct db_args *a, const struct store_event *x)
{
    args_write(event_fields + 1, DM_ARRAY_LEN(event_fields) - 1, a, x);
}
READER(row_challenge, challenge_fields, struct store_challenge)
READER(row_verification, verification_fields, struct store_verification)

void json_request(struct json_out *o, const struct store_request *r)
{
    json_out_array(o);
    fields_write(request_fields + 1, REQUEST_ADDED_FIELDS, r, &json_sink, o);
}

void args_request(struct db_args *a, const struct store_request *r)
{
    args_write(request_fields + 1, REQUEST_ADDED_FIELDS, a, r);
}

void args_session(struct db_args *a, const struct store_session *x)
{
    args_write(session_fields, DM_ARRAY_LEN(session_fields) - 1, a, x);
}

void args_audit(struct db_args *a, const struct store_audit *x)
{
    args_write(audit_fields + 1, DM_ARRAY_LEN(audit_fields) - 1, a, x);
}

void args_mode(struct db_args *a, const struct store_mode *x)
{
    args_write(mode_fields, DM_ARRAY_LEN(mode_fields), a, x);
}
