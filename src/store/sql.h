/* sql.h: every statement of the store, in one table (internal to src/store/).
 *
 * Texts are written once, in the SQL both databases take (parameters $1..$n, upserts with
 * ON CONFLICT, RETURNING); a dialect has its own text only where the two truly differ (row
 * locks, reading an array of ids). Column lists are written once too, in the order of the
 * row readers of rows.h. */
#ifndef DM_STORE_SQL_H
#define DM_STORE_SQL_H

#include "store/dialect.h"

#define REQUEST_COLS                                                                               \
    "r.id, r.chat_id, r.user_id, r.first_name, r.last_name, r.username, r.bio, r.invite_link, "    \
    "r.tg_date, r.status, r.created_at, r.decided_at, r.decided_by, r.decided_via, r.last_error, " \
    "r.is_premium, r.language_code, r.is_scam, r.is_fake, r.rule_id, r.verdict, r.banned, "        \
    "coalesce(c.title, ''), " REQUEST_VERIFY_COLS
/* a request's verification, none: state -1 */
#define REQUEST_VERIFY_COLS                                                                        \
    "coalesce(v.state, -1), coalesce(v.deadline, 0), coalesce(v.attempts, 0), "                    \
    "coalesce(v.answer, '')"
#define REQUEST_JOINS                                                                              \
    " LEFT JOIN chats c ON c.chat_id = r.chat_id"                                                  \
    " LEFT JOIN verifications v ON v.request_id = r.id"
#define REQUEST_FROM " FROM invite_requests r" REQUEST_JOINS
#define CHALLENGE_COLS "chat_id, spec, updated_at"
#define VERIFICATION_COLS                                                                          \
    "request_id, chat_id, user_id, state, deadline, attempts, answer, captcha, spec, lang, "       \
    "launch, created_at, updated_at, dm_message_id, dm_key, dm_shown"
#define JOB_COLS                                                                                   \
    "id, kind, state, via, admin, description, total, done, skipped, failed, created_at, "         \
    "updated_at, finished_at, wait_until, error, params, cursor"
#define SESSION_COLS                                                                               \
    "name, is_bot, api_id, api_hash_sealed, phone, dc_id, account_id, first_name, last_name, "     \
    "username, account_phone, premium, status, status_reason, last_check_at, last_error, "         \
    "created_at"
#define LOGIN_COLS "id, name, phone, state, hint, sealed, created_at, expires_at"
#define AUDIT_COLS                                                                                 \
    "id, at, admin, action, request_id, chat_id, user_id, job_id, via, result, detail"
#define RULE_COLS "id, chat_id, position, enabled, name, spec, created_at, updated_at"
#define MODE_COLS "chat_id, mode, delay_seconds, per_hour, updated_at, via"
#define QUERY_COLS "request_id, query_id, deadline_ms, state, result, answered_at_ms, error"
#define ADMIN_COLS "id, name, pw_hash, created_at, role, totp_secret, totp_pending, totp_step"
#define TOKEN_COLS                                                                                 \
    "t.id, t.admin_id, t.name, t.token_hash, t.role, t.created_at, t.last_used_at, a.name, a.role"
#define TOKEN_FROM " FROM api_tokens t JOIN admins a ON a.id = t.admin_id"
#define EVENT_COLS                                                                                 \
    "id, kind, at, chat_id, request_id, user_id, job_id, amount, subject, result, detail"
#define WEBHOOK_COLS                                                                               \
    "w.id, w.url, w.secret_sealed, w.kinds, w.enabled, w.created_by, w.created_at, w.updated_at, " \
    "(SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 0)"
#define DELIVERY_COLS                                                                              \
    "id, webhook_id, event_id, kind, state, attempts, next_at, http_status, error, created_at, "   \
    "updated_at"
#define ITEM_COLS                                                                                  \
    "i.job_id, i.request_id, r.chat_id, r.user_id, r.status, i.outcome, i.error, i.via"

enum sql_id {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_ADMIN_CREATE,
    S_ADMIN_GET,
    S_ADMIN_COUNT,
    S_ADMIN_SET_PASSWORD,
    S_WS_PURGE,
    S_WS_CREATE,
    S_WS_GET,
    S_WS_DELETE,
    S_WS_DELETE_OF,
    S_SETTING_GET,
    S_SETTING_SET,
    S_SETTING_DELETE,
    S_SETTING_TAKE,
    S_CHAT_GET,
    S_CHAT_PUT,
    S_CHAT_LIST,
    S_REQUEST_ADD,
    S_REQUEST_NEXT_ID,
    S_REQUEST_ADDED,
    S_STAT_FOLD_COUNTS,
    S_STAT_FOLD_ARRIVALS,
    S_STAT_FOLD_DECIDED,
    S_STAT_FOLD_LATENCY,
    S_REQUEST_STAGE_TABLE,
    S_REQUEST_STAGE,
    S_REQUEST_UNSTAGE,
    S_REQUEST_LINK_FILL,
    S_REQUEST_GET,
    S_REQUEST_MISSING,
    S_REQUEST_DECIDE,
    S_REQUEST_SET_ERROR,
    S_REQUEST_NAMES,
    S_REQUEST_SET_SEARCH,
    S_FOLD_VERSION_GET,
    S_FOLD_VERSION_SET,
    S_JOB_INSERT,
    S_JOB_ITEMS_ADD_IDS,
    S_JOB_ADD_TOTAL,
    S_JOB_GET,
    S_JOB_LIST,
    S_JOB_LIST_RULES,
    S_JOB_LIST_ADMINS,
    S_JOB_LIST_BY,
    S_JOB_CLAIM,
    S_JOB_RENEW,
    S_JOB_INFO,
    S_JOB_COUNT_ITEM,
    S_JOB_SET_WAIT,
    S_JOB_FINISH,
    S_JOB_LOAD_PAGE,
    S_JOB_SET_CURSOR,
    S_ITEMS,
    S_ITEMS_GET,
    S_ITEM_SET,
    S_JOB_ACCOUNTS,
    S_ITEM_ADD_PAGE,
    S_ITEM_ADD_LOADED,
    S_ITEM_ADD_CHAT,
    S_ITEMS_OF_CHAT,
    S_SESSION_ADD,
    S_SESSION_GET,
    S_SESSION_LIST,
    S_SESSION_UPDATE,
    S_SESSION_DELETE,
    S_LOGIN_PURGE,
    S_LOGIN_PUT,
    S_LOGIN_GET,
    S_LOGIN_DELETE,
    S_AUDIT_ADD,
    S_AUDIT_LIST,
    S_LEASE_ACQUIRE,
    S_LEASE_RELEASE,
    S_LEASES_FORGET,
    S_JOB_LEASES_FORGET,
    S_REQUEST_SCAN,
    S_RULE_LIST,
    S_RULE_GET,
    S_RULE_ADD,
    S_RULE_UPDATE,
    S_RULE_DELETE,
    S_RULE_CLOSE_GAP,
    S_RULE_COUNT,
    S_RULE_SET_POSITION,
    S_LIST_NAMES,
    S_LIST_GET,
    S_LIST_PUT,
    S_LIST_CLEAR,
    S_LIST_ENTRY_ADD,
    S_LIST_ENTRIES,
    S_LIST_COUNT,
    S_LIST_DELETE,
    S_LIST_USED,
    S_MODE_GET,
    S_MODE_SET,
    S_MODE_DELETE,
    S_MODE_LIST,
    S_UNEVALUATED,
    S_JUDGING_DUE,
    S_VERDICTS_SET,
    S_DUE_PUT,
    S_DUE_DELETE,
    S_DUE_DELETE_MANY,
    S_PACE_GET,
    S_PACE_SET,
    S_DUE_TAKE,
    S_DUE_NEXT,
    S_RULES_JOB_FIND,
    S_MODE_OF,
    S_ITEM_DONE,
    S_JOB_TOUCH,
    S_REQUEST_SET_BANNED,
    S_REQUEST_INDEX,
    S_REQUEST_RELEASE,
    S_DUE_REJUDGE,
    S_DUE_DROP,
    S_WAVE_CHAT,
    S_WAVE_LINK,
    S_USER_DECLINED,
    S_USER_ELSEWHERE,
    S_USER_KNOWN,
    S_PING,
    S_LEASE_HELD,
    S_REQUEST_TOTALS,
    S_JOB_QUEUE,
    S_QUERY_ADD,
    S_QUERY_OPEN,
    S_QUERY_CLAIM,
    S_QUERY_LATE,
    S_QUERY_FINISH,
    S_QUERY_REJUDGE,
    S_QUERY_SWEEP_REJUDGE,
    S_QUERY_SWEEP,
    S_QUERY_GET,
    S_ADMIN_LIST,
    S_ADMIN_SET_ROLE,
    S_ADMIN_DELETE,
    S_OWNERS_COUNT,
    S_ADMIN_TOTP_PENDING,
    S_ADMIN_TOTP_SET,
    S_ADMIN_TOTP_STEP,
    S_RECOVERY_CLEAR,
    S_RECOVERY_ADD,
    S_RECOVERY_USE,
    S_GRANTS_GET,
    S_GRANTS_CLEAR,
    S_GRANT_ADD,
    S_GRANTS_CLEAR_TOKENS,
    S_REQUESTS_OUTSIDE,
    S_TOKEN_CREATE,
    S_TOKEN_LIST,
    S_TOKEN_LIST_ALL,
    S_TOKEN_FIND,
    S_TOKEN_USED,
    S_TOKEN_DELETE,
    S_TOKENS_DELETE_OF,
    S_EVENT_ADD,
    S_EVENT_ADD_REQUEST,
    S_EVENTS_NEXT,
    S_EVENT_DELETE,
    S_WEBHOOK_ADD,
    S_WEBHOOK_GET,
    S_WEBHOOK_LIST,
    S_WEBHOOK_UPDATE,
    S_WEBHOOK_DELETE,
    S_WEBHOOK_KINDS,
    S_DELIVERIES_DELETE,
    S_DELIVERY_FANOUT,
    S_DELIVERY_ADD,
    S_DELIVERY_DUE,
    S_DELIVERY_RECORD,
    S_DELIVERY_POSTPONE,
    S_DELIVERY_LIST,
    S_DELIVERY_PRUNE,
    S_DELIVERY_NEXT,
    S_SUMMARY,
    S_STATS_BEGIN,
    S_STATS_SERIES,
    S_STATS_LINKS,
    S_STATS_DECIDERS,
    S_STATS_LATENCY,
    S_STATS_ARRIVED,
    S_STATS_DECISIONS,
    S_STATS_PENDING,
    S_LINK_PUT,
    S_LINK_LIST,
    S_LINK_SEEN,
    S_REQUEST_PENDING_OF,
    S_REQUEST_TELEGRAM_DECIDE,
    S_PENDING_UNHELD,
    S_CHALLENGE_GET,
    S_CHALLENGE_OF,
    S_CHALLENGE_SET,
    S_CHALLENGE_DELETE,
    S_CHALLENGE_LIST,
    S_VERIFICATION_ADD,
    S_VERIFICATION_GET,
    S_VERIFICATION_STEP,
    S_VERIFICATION_EXPIRED,
    S_VERIFICATION_NEXT,
    S_VERIFICATION_FAILURES,
    S_VERIFICATION_UNSENT,
    S_NONCE_PURGE,
    S_NONCE_ADD,
    S_PEER_PUT,
    S_PEER_GET,
    S_PEER_LIST,
    S_VERIFICATION_SHOWN,
    S_VERIFICATION_DM_STALE,
    S_REQUEST_NOTIFY_CLAIM,
    S_UPDATES_GET,
    S_UPDATES_PUT,
    S_COUNT
};

/* Statements built from a request filter (requests.c) have keys from S_COUNT on: one per
 * kind of statement and filter shape, below SQL_KEYS. */
#define SQL_FILTER_SHAPES 1024
#define SQL_KEYS (S_COUNT + 5 * SQL_FILTER_SHAPES)

/* Statement id's text for the dialect, with what it does. */
struct db_stmt sql_stmt(enum db_kind kind, enum sql_id id);

#endif
