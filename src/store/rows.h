/* rows.h: each record read from a row of its column list in sql.h, and the records written
 * as statement arguments, once for every dialect (internal to src/store/). */
#ifndef DM_STORE_ROWS_H
#define DM_STORE_ROWS_H

#include "store/db.h"

#include "core/json_out.h"

void row_admin(const struct db_row *r, void *out);        /* ADMIN_COLS */
void row_token(const struct db_row *r, void *out);        /* TOKEN_COLS */
void row_websession(const struct db_row *r, void *out);   /* struct store_websession */
void row_chat(const struct db_row *r, void *out);         /* struct store_chat */
void row_request(const struct db_row *r, void *out);      /* REQUEST_COLS */
void row_job(const struct db_row *r, void *out);          /* JOB_COLS */
void row_item(const struct db_row *r, void *out);         /* ITEM_COLS */
void row_session(const struct db_row *r, void *out);      /* SESSION_COLS */
void row_login(const struct db_row *r, void *out);        /* LOGIN_COLS */
void row_audit(const struct db_row *r, void *out);        /* AUDIT_COLS */
void row_rule(const struct db_row *r, void *out);         /* RULE_COLS */
void row_list(const struct db_row *r, void *out);         /* LIST_COLS */
void row_list_entry(const struct db_row *r, void *out);   /* entry */
void row_mode(const struct db_row *r, void *out);         /* MODE_COLS */
void row_challenge(const struct db_row *r, void *out);    /* CHALLENGE_COLS */
void row_verification(const struct db_row *r, void *out); /* VERIFICATION_COLS */
/* REQUEST_COLS over a record read before (a page's one record, reused for each row): every
 * field is written, text with its terminator; the bytes after a terminator stay as they were,
 * so records read this way are compared field by field, never with memcmp. */
void row_request_over(const struct db_row *r, void *out);

void row_event(const struct db_row *r, void *out);   /* EVENT_COLS */
void row_webhook(const struct db_row *r, void *out); /* WEBHOOK_COLS */
/* DELIVERY_COLS; row_delivery_body: then the body */
void row_delivery(const struct db_row *r, void *out);
void row_delivery_body(const struct db_row *r, void *out);

/* A request as S_REQUEST_ADD records it: a JSON array begun of its REQUEST_ADDED_FIELDS fields
 * after the id (chat_id … is_fake, in REQUEST_COLS order; booleans as 0 or 1), left open for the
 * caller to append the folded names and end. */
#define REQUEST_ADDED_FIELDS 18
void json_request(struct json_out *o, const struct store_request *r);
/* The same fields as arguments $1..$18, for S_REQUEST_STAGE (text copied into a). */
void args_request(struct db_args *a, const struct store_request *r);
/* Every column of SESSION_COLS but created_at ($17), in order. */
void args_session(struct db_args *a, const struct store_session *x);
/* The arguments of S_MODE_SET (every column of MODE_COLS). */
void args_mode(struct db_args *a, const struct store_mode *x);
/* The arguments of S_EVENT_ADD. */
void args_event(struct db_args *a, const struct store_event *x);
/* The arguments of S_AUDIT_ADD. */
void args_audit(struct db_args *a, const struct store_audit *x);

#endif
