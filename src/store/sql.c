/* sql.c: the statement table (see sql.h). */
#include "core/common.h"
#include "store/sql.h"
#include "store/stat_sql.h"
#include "store/store.h"

struct sql_text {
    const char *all;    /* both dialects */
    const char *sqlite; /* or a text per dialect, where they differ */
    const char *pg;
    const char *what;
    enum db_plan plan; /* dialect.h; DB_PLAN_AUTO unless given */
};

/* What S_REQUEST_ADD writes of a request (the staged columns, then evaluated), and what it hands
 * back of each it recorded. */
#define REQUEST_STAGED_COLS                                                                        \
    "chat_id, user_id, first_name, last_name, username, bio, invite_link, tg_date, status, "       \
    "created_at, decided_at, decided_by, decided_via, last_error, is_premium, language_code, "     \
    "is_scam, is_fake, search"
#define REQUEST_ADD_COLS REQUEST_STAGED_COLS ", evaluated"
/* the spans of stat_arrivals and stat_decided, an hour, a day and a week (schema.c, 12) */
#define STAT_FOLD_SPANS "(SELECT 3600 AS span UNION ALL SELECT 86400 UNION ALL SELECT 604800) s"
#define REQUEST_ADD_RETURNING "RETURNING id, status, chat_id, user_id, tg_date, created_at"

/* Statements that lock rows on PostgreSQL: lock is its locking clause. */
/* $4: a JSON array of the vias to pass over */
#define JOB_CLAIM(skipped, lock)                                                                   \
    "UPDATE jobs SET state = 1, lease_owner = $1, lease_until = $3, updated_at = $2 "              \
    "WHERE id = (SELECT id FROM jobs WHERE state IN (0, 1) AND (state = 0 OR lease_until < $2) "   \
    "AND via NOT IN (" skipped ") "                                                                \
    "ORDER BY total - done - skipped - failed, id LIMIT 1" lock ") RETURNING " JOB_COLS
#define ITEMS_GET(items, where, lock)                                                              \
    "SELECT i.request_id, i.outcome, r.chat_id, r.user_id, r.status, r.verdict, "                  \
    "j.state, j.kind, j.admin, j.via FROM " items " "                                              \
    "JOIN invite_requests r ON r.id = i.request_id JOIN jobs j ON j.id = i.job_id " where          \
    " ORDER BY i.request_id" lock

/* The items of a load job's page from batch, a table of (chat_id, user_id, tg_date). A row's
 * request is the one of its (chat, user, date), else the user's pending one in the chat: the
 * only candidates, both unique keys, and when they differ the one of that date is decided, so
 * it comes first not being pending (SQLite refuses an outer column in ORDER BY). Each row
 * looks its user up through (chat_id, user_id): with a condition on the date alone, PostgreSQL
 * without statistics yet (a new database's first Load) walked a date's requests instead. Both
 * would look each row up twice (for the value, for IS NOT NULL) unless told to materialize. */
#define ITEMS_ADD_LOADED(batch)                                                                    \
    "WITH k AS MATERIALIZED (SELECT (SELECT r.id FROM invite_requests r "                          \
    "WHERE r.chat_id = b.chat_id AND r.user_id = b.user_id "                                       \
    "AND (r.tg_date = b.tg_date OR r.status = 0) ORDER BY r.status = 0 LIMIT 1) AS id "            \
    "FROM " batch " b) INSERT INTO job_items(job_id, request_id, outcome, via) "                   \
    "SELECT $1, id, 1, $2 FROM k WHERE id IS NOT NULL ON CONFLICT DO NOTHING"

#define ITEMS_ADD_PENDING(batch)                                                                   \
    "INSERT INTO job_items(job_id, request_id) SELECT $1, r.id FROM " batch " b, "                 \
    "invite_requests r WHERE r.chat_id = b.chat_id AND r.user_id = b.user_id AND r.status = 0 "    \
    "ON CONFLICT DO NOTHING"

#define VERDICTS_SET(with, from, where)                                                            \
    with "UPDATE invite_requests SET evaluated = 1, "                                              \
         "rule_id = CASE WHEN status = 0 THEN v.v_rule ELSE rule_id END, "                         \
         "verdict = CASE WHEN status = 0 THEN v.v_text ELSE verdict END "                          \
         "FROM " from " WHERE " where " RETURNING invite_requests.id, status, chat_id, user_id"

#define DUE_OF_MODE                                                                                \
    "(chat_id = $1 OR ($1 = 0 AND chat_id NOT IN (SELECT chat_id FROM channel_modes "              \
    "WHERE chat_id <> 0)))"
#define RULES_JOB_FIND(lock)                                                                       \
    "SELECT id FROM jobs WHERE state = 0 AND admin = '" STORE_RULES_ADMIN "' AND kind = $1 "       \
    "AND via = $2 AND params = $3 ORDER BY id DESC LIMIT 1" lock

/* a channel's rows, or every channel's for 0 (chat_id first: PostgreSQL takes the parameter's
 * type from it) */
/* Channel $c (0: every one) among the channels granted to scope $s ("": every one) */
#define STATS_CHAT(c, s)                                                                           \
    "((chat_id = $" #c " OR $" #c " = 0) AND ($" #s " = '' OR chat_id IN (SELECT g.chat_id "       \
    "FROM channel_grants g WHERE g.scope = $" #s ")))"
/* The rows of table over the range $2..$3 of span $1: whole weeks [w1, w2) from the weekly
 * rows, the rest from the span's (w1 = w2 past the range: none weekly) */
#define STATS_COVER(cols, table, chat, w1, w2)                                                     \
    "SELECT " cols " FROM " table " WHERE span = $1 AND bucket >= $2 AND bucket < " w1             \
    " AND " chat " UNION ALL SELECT " cols " FROM " table " WHERE span = $1 AND bucket >= " w2     \
    " AND bucket <= $3 AND " chat " UNION ALL SELECT " cols " FROM " table                         \
    " WHERE span = 604800 AND bucket >= " w1 " AND bucket < " w2 " AND " chat
#define STATS_LINK_ROWS                                                                            \
    STATS_COVER("chat_id, invite_link, pending, approved, declined", "stat_arrivals",              \
                STATS_CHAT(4, 8), "$6", "$7")
#define STATS_DECIDER_ROWS                                                                         \
    STATS_COVER("decided_by, decided_via, CASE WHEN decided_by = '" STORE_RULES_ADMIN              \
                "' THEN rule_id ELSE 0 END AS rule, approved, declined",                           \
                "stat_decided", STATS_CHAT(4, 8), "$6", "$7")
#define STATS_LATENCY_ROWS STATS_COVER("lo, n", "stat_latency", STATS_CHAT(4, 7), "$5", "$6")

static const struct sql_text texts[S_COUNT] = {
    /* SQLite: take the write lock at once, so a transaction never fails upgrading to it */
    [S_BEGIN] = {.sqlite = "BEGIN IMMEDIATE", .pg = "BEGIN", .what = "starting a transaction"},
    [S_COMMIT] = {"COMMIT", .what = "committing"},
    [S_ROLLBACK] = {"ROLLBACK", .what = "rolling back"},
    [S_ADMIN_CREATE] = {"INSERT INTO admins(name, pw_hash, created_at, role) "
                        "VALUES ($1, $2, $3, $4) RETURNING id",
                        .what = "creating an admin"},
    [S_ADMIN_GET] = {"SELECT " ADMIN_COLS " FROM admins WHERE name = $1",
                     .what = "reading an admin"},
    [S_ADMIN_COUNT] = {"SELECT count(*) FROM admins", .what = "counting admins"},
    [S_ADMIN_SET_PASSWORD] = {"UPDATE admins SET pw_hash = $2 WHERE id = $1",
                              .what = "setting a password"},
    [S_WS_PURGE] = {"DELETE FROM websessions WHERE expires_at <= $1",
                    .what = "removing expired sessions"},
    [S_WS_CREATE] = {"INSERT INTO websessions(token_hash, admin_id, csrf, created_at, expires_at) "
                     "VALUES ($1, $2, $3, $4, $5)",
                     .what = "creating a web session"},
    [S_WS_GET] = {"SELECT w.token_hash, w.admin_id, a.name, w.csrf, w.created_at, w.expires_at, "
                  "a.role "
                  "FROM websessions w JOIN admins a ON a.id = w.admin_id "
                  "WHERE w.token_hash = $1 AND w.expires_at > $2",
                  .what = "reading a web session", .plan = DB_PLAN_ANY},
    [S_WS_DELETE] = {"DELETE FROM websessions WHERE token_hash = $1",
                     .what = "deleting a web session"},
    /* admin $1's web sessions but the one with digest $2 ("": every one) */
    [S_WS_DELETE_OF] = {"DELETE FROM websessions WHERE admin_id = $1 AND token_hash <> $2",
                        .what = "ending an admin's web sessions"},
    [S_SETTING_GET] = {"SELECT value FROM settings WHERE key = $1", .what = "reading a setting"},
    /* never name the value: settings may hold secrets */
    [S_SETTING_SET] = {"INSERT INTO settings(key, value) VALUES ($1, $2) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       .what = "saving a setting"},
    [S_SETTING_DELETE] = {"DELETE FROM settings WHERE key = $1", .what = "deleting a setting"},
    [S_SETTING_TAKE] = {"DELETE FROM settings WHERE key = $1 RETURNING value",
                        .what = "taking a setting"},
    [S_CHAT_GET] = {"SELECT chat_id, title, username, fetched_at FROM chats WHERE chat_id = $1",
                    .what = "reading a chat"},
    [S_CHAT_PUT] = {"INSERT INTO chats(chat_id, title, username, fetched_at) "
                    "VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, "
                    "username = excluded.username, fetched_at = excluded.fetched_at",
                    .what = "saving a chat"},
    /* the chats with requests from the trigger-kept totals: O(chats), not O(requests) */
    [S_CHAT_LIST] = {"SELECT ids.chat_id, coalesce(c.title, ''), coalesce(c.username, ''), "
                     "coalesce(c.fetched_at, 0) FROM (SELECT chat_id FROM request_counts "
                     "GROUP BY chat_id HAVING sum(n) > 0) ids "
                     "LEFT JOIN chats c ON c.chat_id = ids.chat_id",
                     .what = "listing chats"},
    /* A batch of requests, recorded in one statement: SQLite opens one statement journal for it
     * (its triggers make every INSERT statement copy each page it changes first), PostgreSQL
     * takes one round trip. SQLite reads the batch from request_batch, where it was staged a
     * request a statement (S_REQUEST_STAGE): taking the columns out of JSON in SQL parsed each
     * request's array once for each of its 19 columns (staged: 42% fewer instructions a request
     * in SQLite, 210k to 122k at 10,000 requests). PostgreSQL reads $1, a JSON array of
     * requests, each an array of the staged columns (rows.h json_request), parsed once. On
     * PostgreSQL the rows recorded come back; SQLite's RETURNING keeps every row in a table of
     * its own until the statement ends (12% of a batch's CPU in SQLite, issue 12), so there
     * the store reads them as S_REQUEST_NEXT_ID and S_REQUEST_ADDED say. */
    [S_REQUEST_ADD] = {.sqlite = "INSERT INTO invite_requests(" REQUEST_ADD_COLS
                                 ") SELECT " REQUEST_STAGED_COLS
                                 ", CASE WHEN status = 0 THEN 0 ELSE 1 END "
                                 "FROM temp.request_batch WHERE true ORDER BY rowid "
                                 "ON CONFLICT DO NOTHING",
                       .pg = "INSERT INTO invite_requests(" REQUEST_ADD_COLS ") SELECT "
                             "(x->>0)::bigint, (x->>1)::bigint, x->>2, x->>3, x->>4, x->>5, "
                             "x->>6, (x->>7)::bigint, (x->>8)::int, (x->>9)::bigint, "
                             "(x->>10)::bigint, x->>11, x->>12, x->>13, (x->>14)::int, x->>15, "
                             "(x->>16)::int, (x->>17)::int, x->>18, "
                             "CASE WHEN (x->>8)::int = 0 THEN 0 ELSE 1 END "
                             "FROM jsonb_array_elements($1::jsonb) x "
                             "ON CONFLICT DO NOTHING " REQUEST_ADD_RETURNING,
                       .what = "recording join requests"},
    /* SQLite: the id S_REQUEST_ADD gives the first request it records. A new row gets the
     * highest id there is plus one, so one statement's requests have the ids from this one on,
     * one after another (as S_REQUEST_INDEX and the folds below read them). */
    [S_REQUEST_NEXT_ID] = {.sqlite = "SELECT coalesce(max(id), 0) + 1 FROM invite_requests",
                           .pg = "SELECT 1",
                           .what = "recording join requests"},
    /* SQLite: the pending requests recorded from id $1 on, as PostgreSQL's S_REQUEST_ADD
     * returns them, the first $2 (through invite_requests_status) */
    [S_REQUEST_ADDED] = {.sqlite = "SELECT id, status, chat_id, user_id, tg_date, created_at "
                                   "FROM invite_requests WHERE status = 0 AND id >= $1 "
                                   "ORDER BY id LIMIT $2",
                         .pg = "SELECT 1",
                         .what = "recording join requests"},
    /* SQLite (since migration 21): the requests recorded from id $1 on (as S_REQUEST_INDEX's)
     * counted into the per-status totals and the statistics' rollups, one statement a table,
     * in the transaction that recorded them (its insert triggers upserted each request's rows
     * one by one: 38.6k of 122k instructions a request, these 13k). Arrivals and decisions
     * are summed by hour first, the hours into days and weeks (a day and a week are whole
     * hours from the epoch), so each request is sorted once, not once a span. NOT INDEXED:
     * they read the batch by rowid (the totals' GROUP BY made SQLite scan the whole covering
     * index (chat_id, status, id) instead, every batch). PostgreSQL folds
     * them by a statement trigger over the statement's transition table (schema.c, 22). */
    [S_STAT_FOLD_COUNTS] = {.sqlite = "INSERT INTO request_counts SELECT chat_id, status, "
                                      "count(*) FROM invite_requests NOT INDEXED WHERE id >= $1 "
                                      "GROUP BY 1, 2 ORDER BY 1, 2 ON CONFLICT (chat_id, status) "
                                      "DO UPDATE SET n = request_counts.n + excluded.n",
                            .pg = "SELECT 1",
                            .what = "counting join requests"},
    [S_STAT_FOLD_ARRIVALS] =
        {.sqlite = "INSERT INTO stat_arrivals SELECT s.span, h.hour / s.span * s.span, "
                   "h.chat_id, h.invite_link, sum(h.p), sum(h.a), sum(h.d) FROM (SELECT "
                   "r.tg_date / 3600 * 3600 AS hour, r.chat_id, r.invite_link, "
                   "sum(r.status = 0) AS p, sum(r.status = 1) AS a, sum(r.status = 2) AS d "
                   "FROM invite_requests r NOT INDEXED WHERE r.id >= $1 GROUP BY 1, 2, 3) h "
                   "CROSS JOIN " STAT_FOLD_SPANS " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 "
                   "ON CONFLICT (span, bucket, chat_id, invite_link) DO UPDATE SET "
                   "pending = stat_arrivals.pending + excluded.pending, "
                   "approved = stat_arrivals.approved + excluded.approved, "
                   "declined = stat_arrivals.declined + excluded.declined",
         .pg = "SELECT 1",
         .what = "counting join requests for statistics"},
    [S_STAT_FOLD_DECIDED] =
        {.sqlite =
             "INSERT INTO stat_decided SELECT s.span, h.hour / s.span * s.span, "
             "h.chat_id, h.decided_by, h.decided_via, h.rule_id, sum(h.a), sum(h.d) "
             "FROM (SELECT " STAT_DECIDED_AT(
                 "r") " / 3600 * 3600 AS hour, r.chat_id, "
                      "r.decided_by, r.decided_via, r.rule_id, sum(r.status = 1) AS a, "
                      "sum(r.status = 2) AS d FROM invite_requests r NOT INDEXED WHERE r.id >= $1 "
                      "AND r.status <> 0 GROUP BY 1, 2, 3, 4, 5) h CROSS JOIN " STAT_FOLD_SPANS
                      " GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6 ON CONFLICT (span, "
                      "bucket, chat_id, decided_by, decided_via, rule_id) DO UPDATE SET "
                      "approved = stat_decided.approved + excluded.approved, "
                      "declined = stat_decided.declined + excluded.declined",
         .pg = "SELECT 1",
         .what = "counting decisions for statistics"},
    [S_STAT_FOLD_LATENCY] =
        {.sqlite =
             "INSERT INTO stat_latency SELECT s.span, l.decided_at / s.span * s.span, "
             "l.chat_id, l.lo, count(*) FROM (SELECT r.chat_id, r.decided_at, " STAT_LATENCY_LO(
                 "r") " AS lo FROM invite_requests r NOT INDEXED WHERE r.id >= $1 "
                      "AND r.status <> 0 AND r.decided_at > 0) l CROSS JOIN (SELECT 86400 AS "
                      "span UNION ALL SELECT 604800) s GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 "
                      "ON CONFLICT (span, bucket, chat_id, lo) DO UPDATE SET "
                      "n = stat_latency.n + excluded.n",
         .pg = "SELECT 1",
         .what = "counting decision times for statistics"},
    /* SQLite: the batch S_REQUEST_ADD records, on the writing connection only (a temporary
     * table), emptied before the transaction that staged it ends (S_REQUEST_UNSTAGE);
     * created once a connection: a change of the temporary schema makes SQLite prepare
     * every statement again. Not used on PostgreSQL. */
    [S_REQUEST_STAGE_TABLE] =
        {.sqlite = "CREATE TEMP TABLE IF NOT EXISTS request_batch(" REQUEST_STAGED_COLS ")",
         .pg = "SELECT 1",
         .what = "preparing to record join requests"},
    [S_REQUEST_STAGE] = {.sqlite = "INSERT INTO temp.request_batch(" REQUEST_STAGED_COLS ") "
                                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                                   "$13, $14, $15, $16, $17, $18, $19)",
                         .pg = "SELECT 1",
                         .what = "recording join requests"},
    [S_REQUEST_UNSTAGE] = {.sqlite = "DELETE FROM temp.request_batch",
                           .pg = "SELECT 1",
                           .what = "recording join requests"},
    /* pending requests of the batch (as S_REQUEST_ADD's) known already without their link (a
     * session's view, which is not told it) learn it: the bot's is kept. SQLite walks the
     * batch and finds each request through invite_requests_one_pending. */
    [S_REQUEST_LINK_FILL] =
        {.sqlite = "UPDATE invite_requests SET invite_link = b.invite_link "
                   "FROM temp.request_batch b WHERE invite_requests.chat_id = b.chat_id "
                   "AND invite_requests.user_id = b.user_id AND invite_requests.status = 0 "
                   "AND invite_requests.invite_link = '' AND b.status = 0 "
                   "AND b.invite_link <> ''",
         .pg = "UPDATE invite_requests r SET invite_link = x->>6 "
               "FROM jsonb_array_elements($1::jsonb) x WHERE r.chat_id = (x->>0)::bigint "
               "AND r.user_id = (x->>1)::bigint AND r.status = 0 AND r.invite_link = '' "
               "AND (x->>8)::int = 0 AND x->>6 <> ''",
         .what = "recording join requests' invite links"},
    [S_REQUEST_GET] = {"SELECT " REQUEST_COLS REQUEST_FROM " WHERE r.id = $1",
                       .what = "reading a join request"},
    /* the first id of the JSON array $1 that names no request */
    [S_REQUEST_MISSING] =
        {.sqlite = "SELECT value FROM json_each($1) WHERE NOT EXISTS "
                   "(SELECT 1 FROM invite_requests WHERE id = value) ORDER BY key LIMIT 1",
         .pg = "SELECT x FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS t(x, i) "
               "WHERE NOT EXISTS (SELECT 1 FROM invite_requests WHERE id = x::bigint) "
               "ORDER BY i LIMIT 1",
         .what = "checking the requests"},
    [S_REQUEST_DECIDE] = {"UPDATE invite_requests SET status = $2, decided_at = $3, "
                          "decided_by = $4, decided_via = $5, last_error = '' "
                          "WHERE id = $1 AND status = 0",
                          .what = "deciding a join request"},
    [S_REQUEST_SET_ERROR] = {"UPDATE invite_requests SET last_error = $2 WHERE id = $1",
                             .what = "recording a request's error"},
    [S_REQUEST_NAMES] = {"SELECT id, first_name, last_name, username FROM invite_requests "
                         "WHERE id > $1 ORDER BY id LIMIT $2",
                         .what = "reading names to fold"},
    [S_REQUEST_SET_SEARCH] = {"UPDATE invite_requests SET search = $2 WHERE id = $1",
                              .what = "folding names for search"},
    [S_FOLD_VERSION_GET] = {"SELECT version FROM search_fold",
                            .what = "reading the search folding"},
    [S_FOLD_VERSION_SET] = {"INSERT INTO search_fold(id, version) VALUES (1, $1) "
                            "ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                            .what = "recording the search folding"},
    [S_JOB_INSERT] = {"INSERT INTO jobs(kind, via, admin, description, created_at, updated_at, "
                      "params) VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
                      .what = "creating a job"},
    /* an item for each id of the JSON array $2; a repeated id adds nothing */
    [S_JOB_ITEMS_ADD_IDS] =
        {.sqlite = "INSERT INTO job_items(job_id, request_id) SELECT $1, value "
                   "FROM json_each($2) WHERE true ON CONFLICT DO NOTHING",
         .pg = "INSERT INTO job_items(job_id, request_id) SELECT $1, x::bigint "
               "FROM jsonb_array_elements_text($2::jsonb) AS t(x) ON CONFLICT DO NOTHING",
         .what = "adding a job's items"},
    [S_JOB_ADD_TOTAL] = {"UPDATE jobs SET total = total + $2 WHERE id = $1",
                         .what = "counting a job's items"},
    [S_JOB_GET] = {"SELECT " JOB_COLS " FROM jobs WHERE id = $1", .what = "reading a job"},
    [S_JOB_LIST] = {"SELECT " JOB_COLS " FROM jobs WHERE id < $1 ORDER BY id DESC LIMIT $2",
                    .what = "listing jobs"},
    [S_JOB_LIST_RULES] = {"SELECT " JOB_COLS
                          " FROM jobs WHERE id < $1 AND admin = '" STORE_RULES_ADMIN
                          "' ORDER BY id DESC LIMIT $2",
                          .what = "listing jobs"},
    [S_JOB_LIST_BY] = {"SELECT " JOB_COLS
                       " FROM jobs WHERE id < $1 AND admin = $3 ORDER BY id DESC LIMIT $2",
                       .what = "listing jobs"},
    [S_JOB_LIST_ADMINS] = {"SELECT " JOB_COLS
                           " FROM jobs WHERE id < $1 AND admin <> '" STORE_RULES_ADMIN
                           "' ORDER BY id DESC LIMIT $2",
                           .what = "listing jobs"},
    /* PostgreSQL: SKIP LOCKED, so two processes claiming at once take different jobs and
     * neither waits */
    /* PostgreSQL: SKIP LOCKED, so two processes claiming at once take different jobs and
     * neither waits */
    [S_JOB_CLAIM] = {.sqlite = JOB_CLAIM("SELECT value FROM json_each($4)", ""),
                     .pg = JOB_CLAIM("SELECT x FROM jsonb_array_elements_text($4::jsonb) AS t(x)",
                                     " FOR UPDATE SKIP LOCKED"),
                     .what = "claiming a job"},
    [S_JOB_RENEW] = {"UPDATE jobs SET lease_until = $3 WHERE id = $1 AND state = 1 "
                     "AND lease_owner = $2",
                     .what = "renewing a job lease"},
    [S_JOB_INFO] = {"SELECT state, kind, admin, via FROM jobs WHERE id = $1",
                    .what = "reading a job"},
    [S_JOB_COUNT_ITEM] = {"UPDATE jobs SET done = done + $2, skipped = skipped + $3, "
                          "failed = failed + $4, updated_at = $5 WHERE id = $1",
                          .what = "counting a job item"},
    [S_JOB_SET_WAIT] = {"UPDATE jobs SET wait_until = $2, error = $3 WHERE id = $1",
                        .what = "setting a job's wait"},
    [S_JOB_FINISH] = {"UPDATE jobs SET state = $2, error = $3, finished_at = $4, "
                      "updated_at = $4, wait_until = 0, lease_owner = '', lease_until = 0 "
                      "WHERE id = $1 AND state IN (0, 1)",
                      .what = "finishing a job"},
    [S_JOB_LOAD_PAGE] = {"UPDATE jobs SET cursor = $3, done = done + $5, "
                         "total = CASE WHEN done + $5 > $4 THEN done + $5 ELSE $4 END, "
                         "updated_at = $6 WHERE id = $1 AND state = 1 AND lease_owner = $2",
                         .what = "recording a page of a load job"},
    [S_JOB_SET_CURSOR] = {"UPDATE jobs SET cursor = $3, updated_at = $4 "
                          "WHERE id = $1 AND state = 1 AND lease_owner = $2",
                          .what = "saving a job's position"},
    [S_ITEMS] = {"SELECT " ITEM_COLS " FROM job_items i "
                 "JOIN invite_requests r ON r.id = i.request_id "
                 "WHERE i.job_id = $1 AND i.outcome = $2 AND i.request_id > $3 "
                 "ORDER BY i.request_id LIMIT $4",
                 .what = "listing job items"},
    /* the items of job $1 whose request ids are the JSON array $2, with their requests and
     * the job. PostgreSQL looks each one up by its key (a new job's items are not in the
     * statistics yet, so the planner would read all of the job's items for a few: OFFSET 0
     * keeps the lookups) and locks each item and its request, in request id order: another
     * process finishing the same item waits here and then sees it finished (SQLite's writer is
     * one at a time anyway) */
    [S_ITEMS_GET] = {.sqlite = ITEMS_GET("job_items i",
                                         "WHERE i.job_id = $1 AND i.request_id IN "
                                         "(SELECT value FROM json_each($2))",
                                         ""),
                     .pg = ITEMS_GET("(SELECT DISTINCT x::bigint AS id "
                                     "FROM jsonb_array_elements_text($2::jsonb) x ORDER BY 1) ids, "
                                     "LATERAL (SELECT * FROM job_items "
                                     "WHERE job_id = $1 AND request_id = ids.id OFFSET 0) i",
                                     "", " FOR UPDATE OF i, r"),
                     .what = "reading job items"},
    [S_ITEM_SET] = {"UPDATE job_items SET outcome = $3, error = $4, via = $5 "
                    "WHERE job_id = $1 AND request_id = $2 AND outcome = 0",
                    .what = "finishing a job item"},
    [S_JOB_ACCOUNTS] = {"SELECT via, SUM(CASE WHEN outcome = 1 THEN 1 ELSE 0 END), "
                        "SUM(CASE WHEN outcome = 2 THEN 1 ELSE 0 END), "
                        "SUM(CASE WHEN outcome = 3 THEN 1 ELSE 0 END) FROM job_items "
                        "WHERE job_id = $1 AND outcome <> 0 AND via <> '' "
                        "GROUP BY via ORDER BY via LIMIT $2",
                        .what = "counting a job's items by account"},
    /* a channel's page read from Telegram (store_job_add_page): for each row of the batch just
     * recorded (staged on SQLite, $2 on PostgreSQL) the user's pending request, an item of job
     * $1 */
    [S_ITEM_ADD_PAGE] = {.sqlite = ITEMS_ADD_PENDING("temp.request_batch"),
                         .pg = ITEMS_ADD_PENDING("(SELECT (x->>0)::bigint AS chat_id, "
                                                 "(x->>1)::bigint AS user_id "
                                                 "FROM jsonb_array_elements($2::jsonb) x)"),
                         .what = "adding a page's job items"},
    /* a load job's page in one statement: for each row of the batch just recorded (as
     * S_REQUEST_ADD read it: staged on SQLite, $3 on PostgreSQL) the request kept for it, the
     * same (chat, user, date) or else the chat's pending one for the user, an item of job $1
     * done by the account $2 that read it; a request noted before (or twice in the batch) is
     * noted once */
    [S_ITEM_ADD_LOADED] = {.sqlite = ITEMS_ADD_LOADED("temp.request_batch"),
                           .pg = ITEMS_ADD_LOADED("(SELECT (x->>0)::bigint AS chat_id, "
                                                  "(x->>1)::bigint AS user_id, (x->>7)::bigint "
                                                  "AS tg_date FROM jsonb_array_elements($3::jsonb) "
                                                  "x)"),
                           .what = "counting loaded requests"},
    [S_ITEM_ADD_CHAT] = {"INSERT INTO job_items(job_id, request_id) SELECT $1, id "
                         "FROM invite_requests WHERE chat_id = $2 AND status = 0 "
                         "ON CONFLICT DO NOTHING",
                         .what = "adding a channel's job items"},
    [S_ITEMS_OF_CHAT] = {"SELECT i.request_id FROM job_items i "
                         "JOIN invite_requests r ON r.id = i.request_id "
                         "WHERE i.job_id = $1 AND i.outcome = 0 AND r.chat_id = $2 "
                         "ORDER BY i.request_id LIMIT $3",
                         .what = "listing a channel's job items"},
    [S_SESSION_ADD] = {"INSERT INTO sessions(" SESSION_COLS ") VALUES ($1, $2, $3, $4, $5, $6, "
                       "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
                       .what = "saving a session"},
    [S_SESSION_GET] = {"SELECT " SESSION_COLS " FROM sessions WHERE name = $1",
                       .what = "reading a session"},
    [S_SESSION_LIST] = {"SELECT " SESSION_COLS " FROM sessions ORDER BY name",
                        .what = "listing sessions"},
    [S_SESSION_UPDATE] = {"UPDATE sessions SET is_bot = $2, api_id = $3, api_hash_sealed = $4, "
                          "phone = $5, dc_id = $6, account_id = $7, first_name = $8, "
                          "last_name = $9, username = $10, account_phone = $11, premium = $12, "
                          "status = $13, status_reason = $14, last_check_at = $15, "
                          "last_error = $16 WHERE name = $1",
                          .what = "saving a session"},
    [S_SESSION_DELETE] = {"DELETE FROM sessions WHERE name = $1", .what = "deleting a session"},
    [S_LOGIN_PURGE] = {"DELETE FROM logins WHERE expires_at <= $1",
                       .what = "removing expired logins"},
    [S_LOGIN_PUT] = {"INSERT INTO logins(" LOGIN_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                     "ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                     "phone = excluded.phone, state = excluded.state, hint = excluded.hint, "
                     "sealed = excluded.sealed, created_at = excluded.created_at, "
                     "expires_at = excluded.expires_at",
                     .what = "saving a login"},
    [S_LOGIN_GET] = {"SELECT " LOGIN_COLS " FROM logins WHERE id = $1 AND expires_at > $2",
                     .what = "reading a login"},
    [S_LOGIN_DELETE] = {"DELETE FROM logins WHERE id = $1", .what = "deleting a login"},
    [S_AUDIT_ADD] = {"INSERT INTO audit(at, admin, action, request_id, chat_id, user_id, job_id, "
                     "via, result, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                     .what = "writing the audit log"},
    [S_AUDIT_LIST] = {"SELECT " AUDIT_COLS " FROM audit WHERE id < $1 ORDER BY id DESC LIMIT $2",
                      .what = "reading the audit log"},
    /* one statement: the row lock of ON CONFLICT makes two processes taking the same free
     * lease at once agree on one holder */
    [S_LEASE_ACQUIRE] = {"INSERT INTO leases(name, owner, expires_at) VALUES ($1, $2, $4) "
                         "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
                         "expires_at = excluded.expires_at "
                         "WHERE leases.owner = excluded.owner OR leases.expires_at < $3",
                         .what = "taking a lease"},
    [S_LEASE_RELEASE] = {"DELETE FROM leases WHERE name = $1 AND owner = $2",
                         .what = "releasing a lease"},
    [S_LEASES_FORGET] = {"DELETE FROM leases WHERE owner = $1",
                         .what = "ending the leases of a process that stopped"},
    [S_JOB_LEASES_FORGET] = {"UPDATE jobs SET lease_until = 0 WHERE state = 1 AND lease_owner = $1",
                             .what = "ending the job leases of a process that stopped"},
    /* the index invite_requests_arrival; a row-value comparison both take */
    [S_REQUEST_SCAN] = {"SELECT " REQUEST_COLS REQUEST_FROM " "
                        "WHERE r.chat_id = $1 AND (r.tg_date, r.id) > ($2, $3) "
                        "ORDER BY r.tg_date, r.id LIMIT $4",
                        .what = "reading a channel's requests"},
    [S_RULE_LIST] = {"SELECT " RULE_COLS
                     " FROM rules WHERE chat_id = $1 ORDER BY position, id LIMIT $2",
                     .what = "listing rules"},
    [S_RULE_GET] = {"SELECT " RULE_COLS " FROM rules WHERE id = $1", .what = "reading a rule"},
    [S_RULE_ADD] = {"INSERT INTO rules(chat_id, position, enabled, name, spec, created_at, "
                    "updated_at) SELECT $1, count(*), $2, $3, $4, $5, $5 FROM rules "
                    "WHERE chat_id = $1 RETURNING id",
                    .what = "adding a rule"},
    [S_RULE_UPDATE] = {"UPDATE rules SET enabled = $2, name = $3, spec = $4, updated_at = $5 "
                       "WHERE id = $1",
                       .what = "saving a rule"},
    [S_RULE_DELETE] = {"DELETE FROM rules WHERE id = $1 RETURNING chat_id, position",
                       .what = "deleting a rule"},
    [S_RULE_CLOSE_GAP] = {"UPDATE rules SET position = position - 1 "
                          "WHERE chat_id = $1 AND position > $2",
                          .what = "renumbering rules"},
    [S_RULE_COUNT] = {"SELECT count(*) FROM rules WHERE chat_id = $1", .what = "counting rules"},
    [S_RULE_SET_POSITION] = {"UPDATE rules SET position = $3, updated_at = $4 "
                             "WHERE id = $1 AND chat_id = $2",
                             .what = "reordering rules"},
    [S_LIST_NAMES] = {"SELECT l.name, (SELECT count(*) FROM rule_list_entries e "
                      "WHERE e.list = l.name), l.created_at, l.updated_at FROM rule_lists l "
                      "ORDER BY l.name",
                      .what = "listing lists"},
    [S_LIST_GET] = {"SELECT l.name, (SELECT count(*) FROM rule_list_entries e "
                    "WHERE e.list = l.name), l.created_at, l.updated_at FROM rule_lists l "
                    "WHERE l.name = $1",
                    .what = "reading a list"},
    [S_LIST_PUT] = {"INSERT INTO rule_lists(name, created_at, updated_at) VALUES ($1, $2, $2) "
                    "ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at",
                    .what = "saving a list"},
    [S_LIST_CLEAR] = {"DELETE FROM rule_list_entries WHERE list = $1", .what = "emptying a list"},
    [S_LIST_ENTRY_ADD] = {"INSERT INTO rule_list_entries(list, entry) VALUES ($1, $2) "
                          "ON CONFLICT DO NOTHING",
                          .what = "adding to a list"},
    [S_LIST_ENTRIES] = {"SELECT entry FROM rule_list_entries WHERE list = $1 AND entry > $2 "
                        "ORDER BY entry LIMIT $3",
                        .what = "reading a list"},
    [S_LIST_COUNT] = {"SELECT count(*) FROM rule_list_entries WHERE list = $1",
                      .what = "counting a list"},
    [S_LIST_DELETE] = {"DELETE FROM rule_lists WHERE name = $1", .what = "deleting a list"},
    /* $1: the LIKE pattern of the list's condition in a spec's compact JSON */
    [S_LIST_USED] = {"SELECT id FROM rules WHERE spec LIKE $1 ESCAPE '\\' ORDER BY id LIMIT 1",
                     .what = "finding the rules that use a list"},
    [S_MODE_GET] = {"SELECT " MODE_COLS " FROM channel_modes WHERE chat_id = $1",
                    .what = "reading a channel's mode"},
    [S_MODE_SET] = {"INSERT INTO channel_modes(" MODE_COLS ") VALUES ($1, $2, $3, $4, $5, $6) "
                    "ON CONFLICT (chat_id) DO UPDATE SET mode = excluded.mode, "
                    "delay_seconds = excluded.delay_seconds, per_hour = excluded.per_hour, "
                    "updated_at = excluded.updated_at, via = excluded.via",
                    .what = "saving a channel's mode"},
    [S_MODE_DELETE] = {"DELETE FROM channel_modes WHERE chat_id = $1",
                       .what = "removing a channel's mode"},
    [S_MODE_LIST] = {"SELECT " MODE_COLS " FROM channel_modes ORDER BY chat_id = 0 DESC, chat_id",
                     .what = "listing channel modes"},
    /* ---- deciding by rules ---- */
    [S_UNEVALUATED] = {"SELECT " REQUEST_COLS REQUEST_FROM " WHERE r.evaluated = 0 AND r.id > $1 "
                       "ORDER BY r.id LIMIT $2",
                       .what = "reading the requests the rules have not seen"},
    [S_JUDGING_DUE] = {"SELECT " REQUEST_COLS REQUEST_FROM " JOIN decisions_due d "
                       "ON d.request_id = r.id WHERE d.action = $2 AND d.due_at <= $1 "
                       "ORDER BY d.due_at, r.id LIMIT $3",
                       .what = "reading the requests to judge again"},
    /* the verdicts $1, a JSON array of [request_id, rule_id, text], in one statement; a request
     * decided meanwhile keeps what it had. PostgreSQL locks the requests in id order first, as
     * the job runner does (S_ITEMS_GET), so that neither waits for the other in a circle */
    [S_VERDICTS_SET] = {.sqlite = VERDICTS_SET("",
                                               "(SELECT value->>0 AS v_id, value->>1 AS "
                                               "v_rule, value->>2 AS v_text FROM json_each($1)) v",
                                               "invite_requests.id = v.v_id"),
                        .pg =
                            VERDICTS_SET("WITH v AS MATERIALIZED (SELECT (x->>0)::bigint AS v_id, "
                                         "(x->>1)::bigint AS v_rule, x->>2 AS v_text FROM "
                                         "jsonb_array_elements($1::jsonb) x), l AS MATERIALIZED "
                                         "(SELECT id FROM invite_requests WHERE id IN (SELECT "
                                         "v_id FROM v) ORDER BY id FOR UPDATE) ",
                                         "v",
                                         "invite_requests.id = v.v_id AND "
                                         "invite_requests.id IN (SELECT id FROM l)"),
                        .what = "recording verdicts"},
    [S_DUE_PUT] = {"INSERT INTO decisions_due(request_id, chat_id, action, due_at) "
                   "VALUES ($1, $2, $3, $4) ON CONFLICT (request_id) DO UPDATE SET "
                   "action = excluded.action, due_at = excluded.due_at",
                   .what = "scheduling a decision"},
    [S_DUE_DELETE] = {"DELETE FROM decisions_due WHERE request_id = $1",
                      .what = "unscheduling a decision"},
    /* $1 a JSON array of request ids */
    [S_DUE_DELETE_MANY] = {.sqlite = "DELETE FROM decisions_due WHERE request_id IN "
                                     "(SELECT value FROM json_each($1))",
                           .pg = "DELETE FROM decisions_due WHERE request_id IN "
                                 "(SELECT x::bigint FROM jsonb_array_elements_text($1::jsonb) x)",
                           .what = "unscheduling decisions"},
    [S_PACE_GET] = {"SELECT next_at FROM pacing WHERE chat_id = $1",
                    .what = "reading a channel's pace"},
    [S_PACE_SET] = {"INSERT INTO pacing(chat_id, next_at) VALUES ($1, $2) "
                    "ON CONFLICT (chat_id) DO UPDATE SET next_at = excluded.next_at",
                    .what = "keeping a channel's pace"},
    /* the due decisions, taken: oldest due first */
    [S_DUE_TAKE] =
        {"DELETE FROM decisions_due WHERE request_id IN (SELECT request_id FROM "
         "decisions_due WHERE due_at <= $1 AND action IN (1, 2, 3) ORDER BY due_at, request_id "
         "LIMIT $2) RETURNING request_id, chat_id, action",
         .what = "taking the decisions that are due"},
    [S_DUE_NEXT] = {"SELECT coalesce(min(due_at), 0) FROM decisions_due",
                    .what = "reading when the next decision is due"},
    /* a queued job of the rules to add to: locked on PostgreSQL, so a claim skips it until
     * this transaction commits */
    [S_RULES_JOB_FIND] = {.sqlite = RULES_JOB_FIND(""),
                          .pg = RULES_JOB_FIND(" FOR UPDATE"),
                          .what = "finding the rules' queued job"},
    /* the channel's mode, else the default's; none: manual through the bot */
    [S_MODE_OF] = {"SELECT " MODE_COLS " FROM channel_modes WHERE chat_id IN ($1, 0) "
                   "ORDER BY chat_id = 0 LIMIT 1",
                   .what = "reading a channel's mode"},
    [S_ITEM_DONE] = {"UPDATE job_items SET outcome = 1 WHERE job_id = $1 AND request_id = $2 "
                     "AND outcome = 0",
                     .what = "finishing a job item"},
    [S_JOB_TOUCH] = {"UPDATE jobs SET updated_at = $3 WHERE id = $1 AND state = 1 "
                     "AND lease_owner = $2",
                     .what = "updating a job"},
    /* SQLite: the trigram index of the request just recorded on this connection (schema.c,
     * migration 8); PostgreSQL's index needs nothing */
    /* the trigrams of the requests recorded from id $1 on (SQLite gives a new row the
     * highest id there is; PostgreSQL's GIN index keeps itself), in one statement: FTS5 writes
     * the terms it holds whenever a statement with triggers begins */
    [S_REQUEST_INDEX] = {.sqlite = "INSERT INTO request_search(rowid, search) "
                                   "SELECT id, search FROM invite_requests WHERE id >= $1",
                         .pg = "SELECT 1",
                         .what = "indexing join requests for search"},
    [S_REQUEST_SET_BANNED] = {"UPDATE invite_requests SET banned = $2 WHERE id = $1",
                              .what = "recording a ban"},
    /* a held request back to the admins: untagged */
    [S_REQUEST_RELEASE] = {"UPDATE invite_requests SET rule_id = 0, verdict = $2 "
                           "WHERE id = $1 AND status = 0 AND rule_id <> 0",
                           .what = "releasing a held request"},
    /* a mode changed: the decisions it scheduled and not yet handed over are judged again under
     * the new one (chat $1; 0: the channels that follow the default) */
    [S_DUE_REJUDGE] = {"UPDATE invite_requests SET evaluated = 0 WHERE id IN (SELECT request_id "
                       "FROM decisions_due WHERE " DUE_OF_MODE ")",
                       .what = "judging scheduled decisions again"},
    [S_DUE_DROP] = {"DELETE FROM decisions_due WHERE " DUE_OF_MODE,
                    .what = "dropping scheduled decisions"},
    [S_WAVE_CHAT] = {"SELECT count(*) FROM invite_requests WHERE chat_id = $1 AND tg_date > $2 "
                     "AND tg_date <= $3",
                     .what = "counting a wave"},
    [S_WAVE_LINK] = {"SELECT count(*) FROM invite_requests WHERE chat_id = $1 "
                     "AND invite_link = $4 AND tg_date > $2 AND tg_date <= $3",
                     .what = "counting a wave"},
    [S_USER_DECLINED] = {"SELECT count(*) FROM (SELECT 1 FROM invite_requests WHERE user_id = $2 "
                         "AND chat_id = $1 AND status = 2 LIMIT 1) x",
                         .what = "looking for an earlier decline"},
    [S_USER_ELSEWHERE] = {"SELECT count(*) FROM (SELECT 1 FROM invite_requests WHERE "
                          "user_id = $2 AND chat_id <> $1 AND status = 1 LIMIT 1) x",
                          .what = "looking for the user in other channels"},
    [S_USER_KNOWN] = {"SELECT count(*) FROM invite_requests WHERE chat_id = $1 AND user_id = $2 "
                      "AND (status = 0 OR decided_at >= $3)",
                      .what = "looking for a pending request"},
    [S_PING] = {"SELECT 1", .what = "checking that the database answers"},
    [S_LEASE_HELD] = {"SELECT count(*) FROM leases WHERE name = $1 AND expires_at >= $2",
                      .what = "reading a lease"},
    [S_REQUEST_TOTALS] = {"SELECT chat_id, status, n FROM request_counts WHERE n > 0 "
                          "ORDER BY chat_id, status",
                          .what = "reading the totals of join requests"},
    [S_JOB_QUEUE] = {"SELECT coalesce(sum(CASE WHEN state = 0 THEN 1 ELSE 0 END), 0), "
                     "coalesce(sum(CASE WHEN state = 1 THEN 1 ELSE 0 END), 0) "
                     "FROM jobs WHERE state IN (0, 1)",
                     .what = "counting queued and running jobs"},
    /* ---- join-request queries (queries.c) ---- */
    [S_QUERY_ADD] =
        {"INSERT INTO join_queries(request_id, query_id, deadline_ms) SELECT id, $3, $4 "
         "FROM invite_requests WHERE chat_id = $1 AND user_id = $2 AND status = 0 "
         "ON CONFLICT DO NOTHING",
         .what = "recording a join-request query"},
    [S_QUERY_OPEN] = {"SELECT request_id FROM join_queries WHERE state = 0 "
                      "AND request_id >= $1 AND request_id <= $2 ORDER BY request_id LIMIT $3",
                      .what = "reading the open join-request queries"},
    [S_QUERY_CLAIM] = {"UPDATE join_queries SET state = 1 WHERE request_id = $1 AND state = 0 "
                       "AND deadline_ms > $2 RETURNING " QUERY_COLS,
                       .what = "claiming a join-request query"},
    [S_QUERY_LATE] = {"UPDATE join_queries SET state = 3, result = 'queue', error = $2 "
                      "WHERE request_id = $1 AND state = 0 RETURNING " QUERY_COLS,
                      .what = "recording a join-request query as late"},
    [S_QUERY_FINISH] = {"UPDATE join_queries SET state = $2, result = $3, answered_at_ms = $4, "
                        "error = $5 WHERE request_id = $1 AND state IN (1, 5)",
                        .what = "recording a join-request query's answer"},
    [S_QUERY_REJUDGE] = {"UPDATE invite_requests SET evaluated = 0 WHERE id = $1 AND status = 0",
                         .what = "having a request judged again"},
    [S_QUERY_SWEEP_REJUDGE] =
        {"UPDATE invite_requests SET evaluated = 0 WHERE status = 0 AND id IN "
         "(SELECT request_id FROM join_queries WHERE state = 1 "
         "AND deadline_ms < $1)",
         .what = "having requests judged again"},
    [S_QUERY_SWEEP] = {"UPDATE join_queries SET state = 4, error = $2 WHERE state = 1 "
                       "AND deadline_ms < $1",
                       .what = "closing join-request queries left claimed"},
    [S_QUERY_GET] = {"SELECT " QUERY_COLS " FROM join_queries WHERE request_id = $1",
                     .what = "reading a join-request query"},
    [S_ADMIN_LIST] = {"SELECT " ADMIN_COLS " FROM admins ORDER BY name", .what = "listing admins"},
    [S_ADMIN_SET_ROLE] = {"UPDATE admins SET role = $2 WHERE id = $1",
                          .what = "changing an admin's role"},
    [S_ADMIN_DELETE] = {"DELETE FROM admins WHERE id = $1", .what = "removing an admin"},
    [S_OWNERS_COUNT] = {"SELECT count(*) FROM admins WHERE role = 2", .what = "counting owners"},
    [S_ADMIN_TOTP_PENDING] = {"UPDATE admins SET totp_pending = $2 WHERE id = $1",
                              .what = "keeping a new TOTP secret"},
    [S_ADMIN_TOTP_SET] = {"UPDATE admins SET totp_secret = $2, totp_pending = '', totp_step = 0 "
                          "WHERE id = $1",
                          .what = "setting TOTP"},
    [S_ADMIN_TOTP_STEP] = {"UPDATE admins SET totp_step = $2 WHERE id = $1 AND totp_step < $2",
                           .what = "recording a TOTP code's use"},
    [S_RECOVERY_CLEAR] = {"DELETE FROM recovery_codes WHERE admin_id = $1",
                          .what = "removing recovery codes"},
    [S_RECOVERY_ADD] = {"INSERT INTO recovery_codes(admin_id, digest) VALUES ($1, $2)",
                        .what = "adding a recovery code"},
    [S_RECOVERY_USE] = {"DELETE FROM recovery_codes WHERE admin_id = $1 AND digest = $2",
                        .what = "using a recovery code"},
    [S_GRANTS_GET] = {"SELECT chat_id FROM channel_grants WHERE scope = $1 ORDER BY chat_id",
                      .what = "reading granted channels"},
    [S_GRANTS_CLEAR] = {"DELETE FROM channel_grants WHERE scope = $1",
                        .what = "removing granted channels"},
    [S_GRANT_ADD] = {"INSERT INTO channel_grants(scope, chat_id) VALUES ($1, $2) "
                     "ON CONFLICT DO NOTHING",
                     .what = "granting a channel"},
    /* the grants of every token of admin $1 */
    [S_GRANTS_CLEAR_TOKENS] = {"DELETE FROM channel_grants WHERE scope IN (SELECT 'token:' || "
                               "CAST(id AS TEXT) FROM api_tokens WHERE admin_id = $1)",
                               .what = "removing the channels of tokens"},
    /* the first id of the JSON array $1 whose request is in no channel of scope $2 */
    [S_REQUESTS_OUTSIDE] =
        {.sqlite = "SELECT r.id FROM json_each($1) j JOIN invite_requests r ON r.id = j.value "
                   "WHERE r.chat_id NOT IN (SELECT chat_id FROM channel_grants WHERE scope = $2) "
                   "ORDER BY j.key LIMIT 1",
         .pg = "SELECT r.id FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS t(x, i) "
               "JOIN invite_requests r ON r.id = x::bigint "
               "WHERE r.chat_id NOT IN (SELECT chat_id FROM channel_grants WHERE scope = $2) "
               "ORDER BY i LIMIT 1",
         .what = "checking the requests' channels"},
    [S_TOKEN_CREATE] = {"INSERT INTO api_tokens(admin_id, name, token_hash, role, created_at) "
                        "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                        .what = "creating an API token"},
    [S_TOKEN_LIST] = {"SELECT " TOKEN_COLS TOKEN_FROM " WHERE t.admin_id = $1 ORDER BY t.id",
                      .what = "listing API tokens"},
    [S_TOKEN_LIST_ALL] = {"SELECT " TOKEN_COLS TOKEN_FROM " ORDER BY t.id",
                          .what = "listing API tokens"},
    [S_TOKEN_FIND] = {"SELECT " TOKEN_COLS TOKEN_FROM " WHERE t.token_hash = $1",
                      .what = "reading an API token", .plan = DB_PLAN_ANY},
    [S_TOKEN_USED] = {"UPDATE api_tokens SET last_used_at = $2 WHERE id = $1",
                      .what = "recording an API token's use", .plan = DB_PLAN_ANY},
    [S_TOKEN_DELETE] = {"DELETE FROM api_tokens WHERE id = $1 AND ($2 = 0 OR admin_id = $2)",
                        .what = "revoking an API token"},
    [S_TOKENS_DELETE_OF] = {"DELETE FROM api_tokens WHERE admin_id = $1",
                            .what = "revoking an admin's API tokens"},
    [S_EVENT_ADD] = {"INSERT INTO events(kind, at, chat_id, request_id, user_id, job_id, amount, "
                     "subject, result, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                     .what = "recording an event"},
    /* a request just recorded, found by its unique (chat_id, user_id, tg_date) */
    [S_EVENT_ADD_REQUEST] = {"INSERT INTO events(kind, at, chat_id, request_id, user_id) "
                             "SELECT $1, $2, chat_id, id, user_id FROM invite_requests "
                             "WHERE chat_id = $3 AND user_id = $4 AND tg_date = $5",
                             .what = "recording a new request's event"},
    [S_EVENTS_NEXT] = {"SELECT " EVENT_COLS " FROM events ORDER BY id LIMIT $1",
                       .what = "reading events"},
    [S_EVENT_DELETE] = {"DELETE FROM events WHERE id = $1", .what = "removing a handed event"},
    [S_WEBHOOK_ADD] = {"INSERT INTO webhooks(url, secret_sealed, kinds, enabled, created_by, "
                       "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                       .what = "adding a webhook"},
    [S_WEBHOOK_GET] = {"SELECT " WEBHOOK_COLS " FROM webhooks w WHERE w.id = $1",
                       .what = "reading a webhook"},
    [S_WEBHOOK_LIST] = {"SELECT " WEBHOOK_COLS " FROM webhooks w ORDER BY w.id",
                        .what = "listing webhooks"},
    [S_WEBHOOK_UPDATE] = {"UPDATE webhooks SET url = $2, kinds = $3, enabled = $4, "
                          "secret_sealed = CASE WHEN $5 = '' THEN secret_sealed ELSE $5 END, "
                          "updated_at = $6 WHERE id = $1",
                          .what = "changing a webhook"},
    [S_WEBHOOK_DELETE] = {"DELETE FROM webhooks WHERE id = $1", .what = "removing a webhook"},
    [S_WEBHOOK_KINDS] = {"SELECT kinds FROM webhooks WHERE enabled <> 0",
                         .what = "reading the webhooks' event kinds"},
    [S_DELIVERIES_DELETE] = {"DELETE FROM webhook_deliveries WHERE webhook_id = $1",
                             .what = "removing a webhook's deliveries"},
    [S_DELIVERY_FANOUT] = {"INSERT INTO webhook_deliveries(webhook_id, event_id, kind, next_at, "
                           "created_at, updated_at, body) SELECT id, $1, $2, $3, $3, $3, $4 "
                           "FROM webhooks WHERE enabled <> 0 AND (kinds & $5) <> 0",
                           .what = "queueing an event's deliveries"},
    [S_DELIVERY_ADD] = {"INSERT INTO webhook_deliveries(webhook_id, event_id, kind, next_at, "
                        "created_at, updated_at, body) VALUES ($1, 0, $2, $3, $3, $3, $4) "
                        "RETURNING id",
                        .what = "queueing a delivery"},
    [S_DELIVERY_DUE] = {"SELECT " DELIVERY_COLS ", body FROM webhook_deliveries "
                        "WHERE state = 0 AND next_at <= $1 ORDER BY next_at, id LIMIT $2",
                        .what = "reading due deliveries"},
    [S_DELIVERY_RECORD] = {"UPDATE webhook_deliveries SET state = $2, attempts = $3, next_at = $4, "
                           "http_status = $5, error = $6, updated_at = $7 WHERE id = $1",
                           .what = "recording a delivery attempt"},
    [S_DELIVERY_POSTPONE] = {"UPDATE webhook_deliveries SET next_at = $2 WHERE webhook_id = $1 "
                             "AND state = 0 AND next_at < $2",
                             .what = "holding back a webhook's deliveries"},
    [S_DELIVERY_LIST] = {"SELECT " DELIVERY_COLS " FROM webhook_deliveries WHERE webhook_id = $3 "
                         "AND id < $1 ORDER BY id DESC LIMIT $2",
                         .what = "listing deliveries"},
    [S_DELIVERY_PRUNE] = {"DELETE FROM webhook_deliveries WHERE state <> 0 AND updated_at < $1",
                          .what = "removing old deliveries"},
    [S_DELIVERY_NEXT] = {"SELECT coalesce(min(next_at), 0) FROM webhook_deliveries "
                         "WHERE state = 0",
                         .what = "reading the next delivery's time"},
    /* once a day: a scan of the requests recorded or decided in the day */
    [S_SUMMARY] = {"SELECT coalesce(sum(CASE WHEN created_at >= $1 AND created_at < $2 "
                   "THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN status = 1 AND decided_at >= $1 "
                   "AND decided_at < $2 THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN status = 2 "
                   "AND decided_at >= $1 AND decided_at < $2 THEN 1 ELSE 0 END), 0), "
                   "(SELECT coalesce(sum(n), 0) FROM request_counts WHERE status = 0) "
                   "FROM invite_requests WHERE created_at >= $1 OR decided_at >= $1",
                   .what = "summing up the day"},
    /* ---- statistics (stats.c): the rollups of schema.c migration 10; $1 the span, $2 and
     * $3 the first and last bucket, $4 the channel (0: every one); the scope (roles: "" every
     * channel) is the last argument of each ---- */
    /* one snapshot for all of them: the backlog adds what changed since the range to now */
    [S_STATS_BEGIN] = {.sqlite = "BEGIN",
                       .pg = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                       .what = "starting to read the statistics"},
    [S_STATS_SERIES] = {"SELECT bucket, chat_id, sum(pending), sum(approved), sum(declined) "
                        "FROM stat_arrivals WHERE span = $1 AND bucket >= $2 AND bucket <= $3 "
                        "AND " STATS_CHAT(4,
                                          5) " GROUP BY bucket, chat_id ORDER BY bucket, chat_id",
                        .what = "reading requests by time"},
    /* the busiest links first; $5 at most this many, $6 and $7 the weeks */
    [S_STATS_LINKS] = {"SELECT chat_id, invite_link, sum(pending), sum(approved), sum(declined) "
                       "FROM (" STATS_LINK_ROWS ") x GROUP BY chat_id, invite_link "
                       "HAVING sum(pending + approved + declined) > 0 "
                       "ORDER BY sum(pending + approved + declined) DESC, chat_id, invite_link "
                       "LIMIT $5",
                       .what = "reading requests by invite link"},
    /* a rule only for what the rules decided (an admin may decide a request a rule held) */
    [S_STATS_DECIDERS] = {"SELECT d.decided_by, d.decided_via, d.rule, coalesce(max(r.name), ''), "
                          "sum(d.approved), sum(d.declined) FROM (" STATS_DECIDER_ROWS ") d "
                          "LEFT JOIN rules r ON r.id = d.rule GROUP BY d.decided_by, "
                          "d.decided_via, d.rule HAVING sum(d.approved + d.declined) > 0 "
                          "ORDER BY sum(d.approved + d.declined) DESC, d.decided_by, "
                          "d.decided_via, d.rule LIMIT $5",
                          .what = "reading who decided"},
    /* by day and week; $5 and $6 the weeks */
    [S_STATS_LATENCY] =
        {"SELECT x.lo, b.hi, x.n FROM (SELECT lo, sum(n) AS n FROM (" STATS_LATENCY_ROWS
         ") y GROUP BY lo) x "
         "JOIN stat_latency_buckets b ON b.lo = x.lo WHERE x.n > 0 ORDER BY x.lo",
         .what = "reading the time to decision"},
    /* after the range ($2 its last bucket), to now ($3 the channel) */
    [S_STATS_ARRIVED] = {"SELECT bucket, sum(pending + approved + declined) FROM stat_arrivals "
                         "WHERE span = $1 AND bucket > $2 AND " STATS_CHAT(
                             3, 4) " "
                                   "GROUP BY bucket ORDER BY bucket",
                         .what = "reading the backlog"},
    /* from the range's first bucket ($2) on */
    [S_STATS_DECISIONS] = {"SELECT bucket, sum(approved), sum(declined) FROM stat_decided "
                           "WHERE span = $1 AND bucket >= $2 AND " STATS_CHAT(
                               3, 4) " "
                                     "GROUP BY bucket ORDER BY bucket",
                           .what = "reading the backlog"},
    [S_STATS_PENDING] = {"SELECT coalesce(sum(n), 0) FROM request_counts WHERE status = 0 "
                         "AND " STATS_CHAT(1, 2),
                         .what = "reading the backlog"},
    /* invite links (links.c) */
    [S_LINK_PUT] = {"INSERT INTO invite_links(chat_id, link, name, creator_id, created_at, "
                    "expire_date, member_limit, creates_join_request, revoked, updated_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                    "ON CONFLICT (chat_id, link) DO UPDATE SET name = excluded.name, "
                    "creator_id = CASE WHEN excluded.creator_id = 0 THEN invite_links.creator_id "
                    "ELSE excluded.creator_id END, "
                    "created_at = CASE WHEN excluded.created_at = 0 THEN invite_links.created_at "
                    "ELSE excluded.created_at END, "
                    "expire_date = excluded.expire_date, member_limit = excluded.member_limit, "
                    "creates_join_request = excluded.creates_join_request, "
                    "revoked = excluded.revoked, updated_at = excluded.updated_at",
                    .what = "saving an invite link"},
    [S_LINK_LIST] = {"SELECT link, name, creator_id, created_at, expire_date, member_limit, "
                     "creates_join_request, revoked, updated_at FROM invite_links "
                     "WHERE chat_id = $1 ORDER BY created_at DESC, link LIMIT $2",
                     .what = "listing invite links"},
    [S_LINK_SEEN] = {"SELECT invite_link, sum(CASE WHEN status = 0 THEN 1 ELSE 0 END), count(*) "
                     "FROM invite_requests WHERE chat_id = $1 AND invite_link <> '' "
                     "GROUP BY invite_link ORDER BY invite_link LIMIT $2",
                     .what = "counting requests by invite link"},
    /* pending, or recorded decided in Telegram by nobody known (HIDE_REQUESTER_MISSING told
     * that much only): the admin log tells the rest */
    [S_REQUEST_PENDING_OF] = {"SELECT id FROM invite_requests WHERE chat_id = $1 AND user_id = $2 "
                              "AND (status = 0 OR (decided_via = '" STORE_VIA_TELEGRAM "' AND "
                              "decided_by = '')) ORDER BY id DESC LIMIT 1",
                              .what = "finding a pending request"},
    [S_PENDING_UNHELD] = {"SELECT r.id, r.user_id FROM invite_requests r WHERE r.chat_id = $1 "
                          "AND r.status = 0 AND r.id > $2 AND r.tg_date < $4 AND NOT EXISTS "
                          "(SELECT 1 FROM job_items i "
                          "JOIN jobs j ON j.id = i.job_id WHERE i.request_id = r.id "
                          "AND i.outcome = 0 AND j.state IN (0, 1)) ORDER BY r.id LIMIT $3",
                          .what = "listing a channel's pending requests outside jobs"},
    [S_REQUEST_TELEGRAM_DECIDE] =
        {"UPDATE invite_requests SET status = $2, decided_at = $3, "
         "decided_by = $4, decided_via = $5, last_error = '' "
         "WHERE id = $1 AND (status = 0 OR (decided_via = '" STORE_VIA_TELEGRAM
         "' AND decided_by = ''))",
         .what = "recording a decision made in Telegram"},
    [S_CHALLENGE_GET] = {"SELECT " CHALLENGE_COLS " FROM challenges WHERE chat_id = $1",
                         .what = "reading a channel's challenge"},
    [S_CHALLENGE_OF] = {"SELECT " CHALLENGE_COLS " FROM challenges WHERE chat_id IN ($1, 0) "
                        "ORDER BY chat_id = 0 LIMIT 1",
                        .what = "reading a channel's challenge"},
    [S_CHALLENGE_SET] = {"INSERT INTO challenges(" CHALLENGE_COLS ") VALUES ($1, $2, $3) "
                         "ON CONFLICT (chat_id) DO UPDATE SET spec = excluded.spec, "
                         "updated_at = excluded.updated_at",
                         .what = "saving a channel's challenge"},
    [S_CHALLENGE_DELETE] = {"DELETE FROM challenges WHERE chat_id = $1",
                            .what = "removing a channel's challenge"},
    [S_CHALLENGE_LIST] = {"SELECT " CHALLENGE_COLS " FROM challenges "
                          "ORDER BY chat_id = 0 DESC, chat_id",
                          .what = "listing challenges"},
    [S_VERIFICATION_ADD] = {"INSERT INTO verifications(request_id, chat_id, user_id, state, "
                            "deadline, attempts, answer, captcha, spec, lang, launch, created_at, "
                            "updated_at) VALUES ($1, $2, $3, "
                            "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
                            "ON CONFLICT (request_id) DO NOTHING",
                            .what = "beginning a verification"},
    [S_VERIFICATION_GET] = {"SELECT " VERIFICATION_COLS " FROM verifications "
                            "WHERE request_id = $1",
                            .what = "reading a verification"},
    /* $10: the states it may leave, one bit each */
    [S_VERIFICATION_STEP] = {"UPDATE verifications SET state = $2, deadline = $3, attempts = $4, "
                             "answer = $5, captcha = $6, lang = $7, launch = $8, updated_at = $9, "
                             "dm_message_id = $11, dm_key = $12 "
                             "WHERE request_id = $1 AND (CAST($10 AS BIGINT) >> state) & 1 = 1 "
                             "RETURNING chat_id",
                             .what = "recording a verification's step"},
    [S_VERIFICATION_EXPIRED] = {"SELECT " VERIFICATION_COLS " FROM verifications "
                                "WHERE state < 4 AND deadline <= $1 "
                                "ORDER BY deadline, request_id LIMIT $2",
                                .what = "reading verifications past their deadline"},
    [S_VERIFICATION_NEXT] = {"SELECT coalesce(min(deadline), 0) FROM verifications "
                             "WHERE state < 4",
                             .what = "reading the next verification deadline"},
    [S_VERIFICATION_FAILURES] = {"SELECT count(*) FROM verifications WHERE chat_id = $1 "
                                 "AND user_id = $2 AND state = 5",
                                 .what = "counting an applicant's failed verifications"},
    /* created, their request pending and asked since $1 (tg_date: Telegram's window counts from
     * the request) */
    [S_VERIFICATION_UNSENT] =
        {"SELECT v.request_id, v.chat_id, v.user_id, v.state, v.deadline, "
         "v.attempts, v.answer, v.captcha, v.spec, r.language_code, v.launch, "
         "v.created_at, v.updated_at, v.dm_message_id, v.dm_key, v.dm_shown "
         "FROM verifications v JOIN "
         "invite_requests r ON r.id = v.request_id WHERE v.state = 0 AND "
         "r.status = 0 AND r.tg_date >= $1 AND NOT EXISTS (SELECT 1 FROM join_queries q "
         "WHERE q.request_id = v.request_id AND q.state IN (0, 1, 2, 5)) "
         "ORDER BY v.request_id LIMIT $2",
         .what = "reading verifications to send"},
    [S_NONCE_PURGE] = {"DELETE FROM webapp_nonces WHERE expires_at <= $1",
                       .what = "forgetting stale Mini App launches"},
    [S_NONCE_ADD] = {"INSERT INTO webapp_nonces(hash, expires_at) VALUES ($1, $2) "
                     "ON CONFLICT (hash) DO NOTHING",
                     .what = "recording a Mini App launch"},
    /* access hashes sessions learned (peers.c) */
    [S_PEER_PUT] = {"INSERT INTO session_peers(session, channel_id, access_hash, updated_at) "
                    "SELECT name, CAST($2 AS BIGINT), CAST($3 AS BIGINT), CAST($4 AS BIGINT) "
                    "FROM sessions WHERE name = $1 ON CONFLICT (session, channel_id) DO UPDATE SET "
                    "access_hash = excluded.access_hash, updated_at = excluded.updated_at",
                    .what = "saving a channel's access hash"},
    [S_PEER_GET] = {"SELECT access_hash FROM session_peers WHERE session = $1 AND channel_id = $2",
                    .what = "reading a channel's access hash"},
    [S_PEER_LIST] = {"SELECT channel_id, access_hash FROM session_peers WHERE session = $1 "
                     "ORDER BY channel_id LIMIT $2",
                     .what = "listing a session's access hashes"},
    [S_VERIFICATION_SHOWN] = {"UPDATE verifications SET dm_shown = $2, dm_message_id = "
                              "CASE WHEN $3 <> 0 THEN $3 ELSE dm_message_id END "
                              "WHERE request_id = $1",
                              .what = "recording what a verification's message shows"},
    /* the partial index verifications_dm; answered is a passing state: its end follows */
    [S_VERIFICATION_DM_STALE] = {"SELECT " VERIFICATION_COLS " FROM verifications "
                                 "WHERE dm_key <> '' AND dm_shown <> state AND state <> 3 "
                                 "AND dm_message_id <> 0 AND updated_at >= $1 "
                                 "ORDER BY request_id LIMIT $2",
                                 .what = "reading verifications' messages to bring up to date"},
    [S_REQUEST_NOTIFY_CLAIM] = {"UPDATE invite_requests SET notified = 1 WHERE id = $1 "
                                "AND notified = 0",
                                .what = "claiming a decision's message"},
    [S_UPDATES_GET] =
        {"SELECT account_id, pts, qts, seq, date FROM session_updates WHERE name = $1",
         .what = "reading a session's update state"},
    [S_UPDATES_PUT] = {"INSERT INTO session_updates(name, account_id, pts, qts, seq, date, "
                       "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                       "ON CONFLICT (name) DO UPDATE SET account_id = excluded.account_id, "
                       "pts = excluded.pts, qts = excluded.qts, seq = excluded.seq, "
                       "date = excluded.date, updated_at = excluded.updated_at",
                       .what = "saving a session's update state"},
};

struct db_stmt sql_stmt(enum db_kind kind, enum sql_id id)
{
    const struct sql_text *t = &texts[id];
    const char *own = kind == DB_SQLITE ? t->sqlite : t->pg;
    return (struct db_stmt){
        .key = (int)id, .sql = own ? own : t->all, .what = t->what, .plan = t->plan};
}
