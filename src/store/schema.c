/* schema.c: the versioned migrations of each dialect and the one runner that applies them
 * (see schema.h). The tables are the same on both; their DDL differs in types, in how a
 * trigger is written and in how SQLite changes a CHECK (by rebuilding the table). */
#include "core/common.h"
#include "store/schema.h"
#include "store/stat_sql.h"

/* The DDL both dialects share, written with their types: a table's own id (ID), a 64-bit
 * integer (BIG) and SQLite's clustered tables (NOROWID; nothing on PostgreSQL). */
#define SQ_ID "INTEGER PRIMARY KEY"
#define SQ_BIG "INTEGER"
#define SQ_NOROWID " WITHOUT ROWID"
#define PG_ID "BIGSERIAL PRIMARY KEY"
#define PG_BIG "BIGINT"
#define PG_NOROWID ""

/* 1: initial schema */
#define M1(ID, BIG, NOROWID)                                                                       \
    "CREATE TABLE admins ("                                                                        \
    "  id " ID ","                                                                                 \
    "  name TEXT NOT NULL UNIQUE,"                                                                 \
    "  pw_hash TEXT NOT NULL,"                                                                     \
    "  created_at " BIG " NOT NULL);"                                                              \
    "CREATE TABLE websessions ("                                                                   \
    "  token_hash TEXT PRIMARY KEY,"                                                               \
    "  admin_id " BIG " NOT NULL REFERENCES admins(id) ON DELETE CASCADE,"                         \
    "  csrf TEXT NOT NULL,"                                                                        \
    "  created_at " BIG " NOT NULL,"                                                               \
    "  expires_at " BIG " NOT NULL)" NOROWID ";"                                                   \
    "CREATE INDEX websessions_expires ON websessions(expires_at);"                                 \
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)" NOROWID ";"                \
    "CREATE TABLE chats ("                                                                         \
    "  chat_id " BIG " PRIMARY KEY,"                                                               \
    "  title TEXT NOT NULL DEFAULT '',"                                                            \
    "  username TEXT NOT NULL DEFAULT '',"                                                         \
    "  fetched_at " BIG " NOT NULL DEFAULT 0);"                                                    \
    "CREATE TABLE invite_requests ("                                                               \
    "  id " ID ","                                                                                 \
    "  chat_id " BIG " NOT NULL,"                                                                  \
    "  user_id " BIG " NOT NULL,"                                                                  \
    "  first_name TEXT NOT NULL DEFAULT '',"                                                       \
    "  last_name TEXT NOT NULL DEFAULT '',"                                                        \
    "  username TEXT NOT NULL DEFAULT '',"                                                         \
    "  bio TEXT NOT NULL DEFAULT '',"                                                              \
    "  invite_link TEXT NOT NULL DEFAULT '',"                                                      \
    "  tg_date " BIG " NOT NULL,"                                                                  \
    "  status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),"                             \
    "  created_at " BIG " NOT NULL,"                                                               \
    "  decided_at " BIG " NOT NULL DEFAULT 0,"                                                     \
    "  decided_by TEXT NOT NULL DEFAULT '',"                                                       \
    "  decided_via TEXT NOT NULL DEFAULT '',"                                                      \
    "  last_error TEXT NOT NULL DEFAULT ''," /* first_name, last_name, username, one a line,       \
                                                folded (core/fold.h): what q searches */           \
    "  search TEXT NOT NULL DEFAULT '',"                                                           \
    "  UNIQUE (chat_id, user_id, tg_date));" /* at most one pending request per user and chat:     \
                                                makes request_add idempotent */                    \
    "CREATE UNIQUE INDEX invite_requests_one_pending ON invite_requests(chat_id, user_id)"         \
    "  WHERE status = 0;" /* newest-first pages (keyset on id) by status, chat, or both; covering  \
                             counts by status */                                                   \
    "CREATE INDEX invite_requests_status ON invite_requests(status, id);"                          \
    "CREATE INDEX invite_requests_chat ON invite_requests(chat_id, id);"                           \
    "CREATE INDEX invite_requests_chat_status ON invite_requests(chat_id, status, id);" /* counts  \
                                                                                           over a  \
                                                                                           date    \
                                                                                           range   \
                                                                                         */        \
    "CREATE INDEX invite_requests_date ON invite_requests(tg_date, status);" JOBS_TABLE(           \
        "jobs", ID, BIG, "(0, 1)",                                                                 \
        "") "CREATE INDEX jobs_active ON jobs(id) WHERE state IN (0, 1);"                          \
            "CREATE TABLE job_items ("                                                             \
            "  job_id " BIG " NOT NULL REFERENCES jobs(id),"                                       \
            "  request_id " BIG " NOT NULL REFERENCES invite_requests(id),"                        \
            "  outcome INTEGER NOT NULL DEFAULT 0,"                                                \
            "  error TEXT NOT NULL DEFAULT '',"                                                    \
            "  PRIMARY KEY (job_id, request_id))" NOROWID ";"                                      \
            "CREATE INDEX job_items_outcome ON job_items(job_id, outcome, request_id);"            \
            "CREATE TABLE audit ("                                                                 \
            "  id " ID ","                                                                         \
            "  at " BIG " NOT NULL,"                                                               \
            "  admin TEXT NOT NULL DEFAULT '',"                                                    \
            "  action TEXT NOT NULL,"                                                              \
            "  request_id " BIG " NOT NULL DEFAULT 0,"                                             \
            "  chat_id " BIG " NOT NULL DEFAULT 0,"                                                \
            "  user_id " BIG " NOT NULL DEFAULT 0,"                                                \
            "  job_id " BIG " NOT NULL DEFAULT 0,"                                                 \
            "  via TEXT NOT NULL DEFAULT '',"                                                      \
            "  result TEXT NOT NULL DEFAULT '',"                                                   \
            "  detail TEXT NOT NULL DEFAULT '');"

/* The jobs table; kinds: the CHECK's list; more: columns added later (SQLite rebuilds it). */
#define JOBS_TABLE(name, ID, BIG, kinds, more)                                                     \
    "CREATE TABLE " name " ("                                                                      \
    "  id " ID ","                                                                                 \
    "  kind INTEGER NOT NULL CONSTRAINT jobs_kind_check CHECK (kind IN " kinds "),"                \
    "  state INTEGER NOT NULL DEFAULT 0,"                                                          \
    "  via TEXT NOT NULL,"                                                                         \
    "  admin TEXT NOT NULL,"                                                                       \
    "  description TEXT NOT NULL DEFAULT '',"                                                      \
    "  total " BIG " NOT NULL DEFAULT 0,"                                                          \
    "  done " BIG " NOT NULL DEFAULT 0,"                                                           \
    "  skipped " BIG " NOT NULL DEFAULT 0,"                                                        \
    "  failed " BIG " NOT NULL DEFAULT 0,"                                                         \
    "  created_at " BIG " NOT NULL,"                                                               \
    "  updated_at " BIG " NOT NULL,"                                                               \
    "  finished_at " BIG " NOT NULL DEFAULT 0,"                                                    \
    "  wait_until " BIG " NOT NULL DEFAULT 0,"                                                     \
    "  error TEXT NOT NULL DEFAULT '',"                                                            \
    "  lease_owner TEXT NOT NULL DEFAULT '',"                                                      \
    "  lease_until " BIG " NOT NULL DEFAULT 0" more ");"

/* 2: requests per (chat, status), kept by triggers, so the page's totals are O(chats) */
#define M2_TABLE(BIG, NOROWID)                                                                     \
    "CREATE TABLE request_counts ("                                                                \
    "  chat_id " BIG " NOT NULL,"                                                                  \
    "  status INTEGER NOT NULL,"                                                                   \
    "  n " BIG " NOT NULL,"                                                                        \
    "  PRIMARY KEY (chat_id, status))" NOROWID ";"                                                 \
    "INSERT INTO request_counts SELECT chat_id, status, count(*) FROM invite_requests"             \
    "  GROUP BY chat_id, status;"

/* 3: Telegram sessions, logins in progress; load jobs (kind 2, params and cursor) are the
 * dialects' own */
#define M3_TABLES(BIG, NOROWID)                                                                    \
    "CREATE TABLE sessions ("                                                                      \
    "  name TEXT PRIMARY KEY,"                                                                     \
    "  is_bot INTEGER NOT NULL DEFAULT 0,"                                                         \
    "  api_id INTEGER NOT NULL,"                                                                   \
    "  api_hash_sealed TEXT NOT NULL,"                                                             \
    "  phone TEXT NOT NULL DEFAULT '',"                                                            \
    "  dc_id INTEGER NOT NULL DEFAULT 0,"                                                          \
    "  account_id " BIG " NOT NULL DEFAULT 0,"                                                     \
    "  first_name TEXT NOT NULL DEFAULT '',"                                                       \
    "  last_name TEXT NOT NULL DEFAULT '',"                                                        \
    "  username TEXT NOT NULL DEFAULT '',"                                                         \
    "  account_phone TEXT NOT NULL DEFAULT '',"                                                    \
    "  premium INTEGER NOT NULL DEFAULT 0,"                                                        \
    "  status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),"                             \
    "  status_reason TEXT NOT NULL DEFAULT '',"                                                    \
    "  last_check_at " BIG " NOT NULL DEFAULT 0,"                                                  \
    "  last_error TEXT NOT NULL DEFAULT '',"                                                       \
    "  created_at " BIG " NOT NULL)" NOROWID ";"                                                   \
    "CREATE TABLE logins ("                                                                        \
    "  id TEXT PRIMARY KEY,"                                                                       \
    "  name TEXT NOT NULL,"                                                                        \
    "  phone TEXT NOT NULL DEFAULT '',"                                                            \
    "  state INTEGER NOT NULL DEFAULT 0,"                                                          \
    "  hint TEXT NOT NULL DEFAULT '',"                                                             \
    "  sealed TEXT NOT NULL,"                                                                      \
    "  created_at " BIG " NOT NULL,"                                                               \
    "  expires_at " BIG " NOT NULL)" NOROWID ";"                                                   \
    "CREATE INDEX logins_expires ON logins(expires_at);"

/* 4: named leases (store.h lease_acquire) */
#define M4(BIG, NOROWID)                                                                           \
    "CREATE TABLE leases ("                                                                        \
    "  name TEXT PRIMARY KEY,"                                                                     \
    "  owner TEXT NOT NULL,"                                                                       \
    "  expires_at " BIG " NOT NULL)" NOROWID ";"

/* 5: the folding (core/fold.h) the search column was written with, so a store opened by a
 * doorman that folds another way folds it again (requests.c) */
#define M5                                                                                         \
    "CREATE TABLE search_fold (id INTEGER PRIMARY KEY CHECK (id = 1), version TEXT NOT NULL);"

/* Search through an index: user ids, and the folded names by substring. SQLite keeps an FTS5
 * trigram index over the search column (content stays in invite_requests; triggers keep the
 * index in step), PostgreSQL a pg_trgm GIN index that LIKE uses, written at once
 * (fastupdate off: a pending list would make every search read it through, up to 4 MB). */
#define SQ_M6                                                                                      \
    "CREATE INDEX invite_requests_user ON invite_requests(user_id);"                               \
    "CREATE VIRTUAL TABLE request_search USING fts5(search, content='invite_requests',"            \
    "  content_rowid='id', tokenize='trigram case_sensitive 1');"                                  \
    "INSERT INTO request_search(request_search) VALUES ('rebuild');"                               \
    "CREATE TRIGGER request_search_insert AFTER INSERT ON invite_requests BEGIN"                   \
    "  INSERT INTO request_search(rowid, search) VALUES (NEW.id, NEW.search);"                     \
    "END;"                                                                                         \
    "CREATE TRIGGER request_search_update AFTER UPDATE OF search ON invite_requests BEGIN"         \
    "  INSERT INTO request_search(request_search, rowid, search)"                                  \
    "    VALUES ('delete', OLD.id, OLD.search);"                                                   \
    "  INSERT INTO request_search(rowid, search) VALUES (NEW.id, NEW.search);"                     \
    "END;"                                                                                         \
    "CREATE TRIGGER request_search_delete AFTER DELETE ON invite_requests BEGIN"                   \
    "  INSERT INTO request_search(request_search, rowid, search)"                                  \
    "    VALUES ('delete', OLD.id, OLD.search);"                                                   \
    "END;"
#define PG_M6                                                                                      \
    "CREATE EXTENSION IF NOT EXISTS pg_trgm;"                                                      \
    "CREATE INDEX invite_requests_user ON invite_requests(user_id);"                               \
    "CREATE INDEX invite_requests_search ON invite_requests USING gin (search gin_trgm_ops)"       \
    "  WITH (fastupdate = off);"

/* 7: rules (src/rules/). What a rule looks at that the requests did not keep (Telegram's
 * premium flag and language code; a session's load adds the scam and fake marks); the
 * arrival-order scan of a channel the dry run reads (waves, "declined here before"); rules per
 * channel (chat_id 0: global) in their order, with their conditions and action as the JSON
 * text rules/rules.h reads; named lists of user ids and @usernames; each channel's mode
 * (chat_id 0: the default). */
#define M7(ID, BIG, NOROWID)                                                                       \
    "ALTER TABLE invite_requests ADD COLUMN is_premium INTEGER NOT NULL DEFAULT 0;"                \
    "ALTER TABLE invite_requests ADD COLUMN language_code TEXT NOT NULL DEFAULT '';"               \
    "ALTER TABLE invite_requests ADD COLUMN is_scam INTEGER NOT NULL DEFAULT 0;"                   \
    "ALTER TABLE invite_requests ADD COLUMN is_fake INTEGER NOT NULL DEFAULT 0;"                   \
    "CREATE INDEX invite_requests_arrival ON invite_requests(chat_id, tg_date, id);"               \
    "CREATE TABLE rules ("                                                                         \
    "  id " ID ","                                                                                 \
    "  chat_id " BIG " NOT NULL DEFAULT 0,"                                                        \
    "  position INTEGER NOT NULL,"                                                                 \
    "  enabled INTEGER NOT NULL DEFAULT 1,"                                                        \
    "  name TEXT NOT NULL DEFAULT '',"                                                             \
    "  spec TEXT NOT NULL,"                                                                        \
    "  created_at " BIG " NOT NULL,"                                                               \
    "  updated_at " BIG " NOT NULL);"                                                              \
    "CREATE INDEX rules_scope ON rules(chat_id, position);"                                        \
    "CREATE TABLE rule_lists ("                                                                    \
    "  name TEXT PRIMARY KEY,"                                                                     \
    "  created_at " BIG " NOT NULL,"                                                               \
    "  updated_at " BIG " NOT NULL)" NOROWID ";"                                                   \
    "CREATE TABLE rule_list_entries ("                                                             \
    "  list TEXT NOT NULL REFERENCES rule_lists(name),"                                            \
    "  entry TEXT NOT NULL,"                                                                       \
    "  PRIMARY KEY (list, entry))" NOROWID ";"                                                     \
    "CREATE TABLE channel_modes ("                                                                 \
    "  chat_id " BIG " PRIMARY KEY,"                                                               \
    "  mode INTEGER NOT NULL CHECK (mode IN (0, 1, 2)),"                                           \
    "  delay_seconds " BIG " NOT NULL DEFAULT 0,"                                                  \
    "  per_hour " BIG " NOT NULL DEFAULT 0,"                                                       \
    "  updated_at " BIG " NOT NULL);"

#define SQ_COUNT_TRIGGERS                                                                          \
    "CREATE TRIGGER request_counts_insert AFTER INSERT ON invite_requests BEGIN"                   \
    "  INSERT INTO request_counts VALUES (NEW.chat_id, NEW.status, 1)"                             \
    "    ON CONFLICT (chat_id, status) DO UPDATE SET n = n + 1;"                                   \
    "END;"                                                                                         \
    "CREATE TRIGGER request_counts_update AFTER UPDATE OF chat_id, status ON invite_requests"      \
    "  WHEN OLD.chat_id IS NOT NEW.chat_id OR OLD.status IS NOT NEW.status BEGIN"                  \
    "  UPDATE request_counts SET n = n - 1 WHERE chat_id = OLD.chat_id AND status = OLD.status;"   \
    "  INSERT INTO request_counts VALUES (NEW.chat_id, NEW.status, 1)"                             \
    "    ON CONFLICT (chat_id, status) DO UPDATE SET n = n + 1;"                                   \
    "END;"                                                                                         \
    "CREATE TRIGGER request_counts_delete AFTER DELETE ON invite_requests BEGIN"                   \
    "  UPDATE request_counts SET n = n - 1 WHERE chat_id = OLD.chat_id AND status = OLD.status;"   \
    "END;"
#define PG_COUNT_TRIGGERS                                                                          \
    "CREATE FUNCTION request_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"           \
    "  IF TG_OP <> 'INSERT' THEN"                                                                  \
    "    UPDATE request_counts SET n = n - 1 WHERE chat_id = OLD.chat_id AND status = OLD.status;" \
    "  END IF;"                                                                                    \
    "  IF TG_OP <> 'DELETE' THEN"                                                                  \
    "    INSERT INTO request_counts VALUES (NEW.chat_id, NEW.status, 1)"                           \
    "      ON CONFLICT (chat_id, status) DO UPDATE SET n = request_counts.n + 1;"                  \
    "  END IF;"                                                                                    \
    "  RETURN NULL;"                                                                               \
    "END $$;"                                                                                      \
    "CREATE TRIGGER request_counts_insert AFTER INSERT OR DELETE ON invite_requests"               \
    "  FOR EACH ROW EXECUTE FUNCTION request_counts_keep();"                                       \
    "CREATE TRIGGER request_counts_update AFTER UPDATE OF chat_id, status ON invite_requests"      \
    "  FOR EACH ROW WHEN (OLD.chat_id IS DISTINCT FROM NEW.chat_id"                                \
    "    OR OLD.status IS DISTINCT FROM NEW.status)"                                               \
    "  EXECUTE FUNCTION request_counts_keep();"

/* Load jobs (kind 2, params and cursor). SQLite cannot change a CHECK: the jobs table is
 * rebuilt (schema_migrate() turns foreign keys off around the migrations and checks them
 * before committing). */
#define SQ_JOBS_V3                                                                                 \
    JOBS_TABLE("jobs_new", SQ_ID, SQ_BIG, "(0, 1, 2)",                                             \
               ", params TEXT NOT NULL DEFAULT '', cursor TEXT NOT NULL DEFAULT ''")               \
    "INSERT INTO jobs_new(id, kind, state, via, admin, description, total, done, skipped, failed," \
    "  created_at, updated_at, finished_at, wait_until, error, lease_owner, lease_until)"          \
    "  SELECT id, kind, state, via, admin, description, total, done, skipped, failed,"             \
    "  created_at, updated_at, finished_at, wait_until, error, lease_owner, lease_until FROM "     \
    "jobs;"                                                                                        \
    "DROP TABLE jobs;"                                                                             \
    "ALTER TABLE jobs_new RENAME TO jobs;"                                                         \
    "CREATE INDEX jobs_active ON jobs(id) WHERE state IN (0, 1);"
#define PG_JOBS_V3                                                                                 \
    "ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check,"                                            \
    "  ADD CONSTRAINT jobs_kind_check CHECK (kind IN (0, 1, 2)),"                                  \
    "  ADD COLUMN params TEXT NOT NULL DEFAULT '',"                                                \
    "  ADD COLUMN cursor TEXT NOT NULL DEFAULT '';"

/* 8: deciding by rules (jobs/autodecide.h). A request recorded pending is unevaluated
 * (evaluated 0, found through a partial index) until its verdict (rule_id, verdict) is
 * recorded; rows from before this version count as evaluated; banned: the rules' decline
 * banned the user too (until an unban). decisions_due holds what the
 * rules decided and when it is due, until it is handed to a job; pacing the next free time of
 * a channel's paced approvals; a mode names the account that decides by itself; per-link wave
 * counts read (chat_id, invite_link, tg_date); apply jobs are kind 3. */
#define M8(ID, BIG, NOROWID)                                                                       \
    "ALTER TABLE invite_requests ADD COLUMN evaluated INTEGER NOT NULL DEFAULT 1;"                 \
    "ALTER TABLE invite_requests ADD COLUMN rule_id " BIG " NOT NULL DEFAULT 0;"                   \
    "ALTER TABLE invite_requests ADD COLUMN verdict TEXT NOT NULL DEFAULT '';"                     \
    "ALTER TABLE invite_requests ADD COLUMN banned INTEGER NOT NULL DEFAULT 0;"                    \
    "CREATE INDEX invite_requests_unevaluated ON invite_requests(id) WHERE evaluated = 0;"         \
    "CREATE INDEX invite_requests_link ON invite_requests(chat_id, invite_link, tg_date);"         \
    "CREATE INDEX invite_requests_rule ON invite_requests(rule_id) WHERE rule_id <> 0;"            \
    "CREATE TABLE decisions_due ("                                                                 \
    "  request_id " BIG " PRIMARY KEY REFERENCES invite_requests(id),"                             \
    "  chat_id " BIG " NOT NULL,"                                                                  \
    "  action INTEGER NOT NULL CHECK (action IN (1, 2, 3, 4, 5)),"                                 \
    "  due_at " BIG " NOT NULL)" NOROWID ";"                                                       \
    "CREATE INDEX decisions_due_at ON decisions_due(due_at);"                                      \
    "CREATE TABLE pacing ("                                                                        \
    "  chat_id " BIG " PRIMARY KEY,"                                                               \
    "  next_at " BIG " NOT NULL)" NOROWID ";"                                                      \
    "ALTER TABLE channel_modes ADD COLUMN via TEXT NOT NULL DEFAULT '';"
#define SQ_JOBS_V8                                                                                 \
    JOBS_TABLE("jobs_new", SQ_ID, SQ_BIG, "(0, 1, 2, 3)",                                          \
               ", params TEXT NOT NULL DEFAULT '', cursor TEXT NOT NULL DEFAULT ''")               \
    "INSERT INTO jobs_new SELECT * FROM jobs;"                                                     \
    "DROP TABLE jobs;"                                                                             \
    "ALTER TABLE jobs_new RENAME TO jobs;"                                                         \
    "CREATE INDEX jobs_active ON jobs(id) WHERE state IN (0, 1);"
/* SQLite: a new request's trigrams are written by the store itself (requests.c), not by a
 * trigger: an FTS5 table written from a trigger flushes its pending terms at every statement of
 * a transaction (the trigger's statement savepoint), which made recording 4 to 5 times slower. */
#define SQ_SEARCH_V8 "DROP TRIGGER request_search_insert;"
#define PG_JOBS_V8                                                                                 \
    "ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check,"                                            \
    "  ADD CONSTRAINT jobs_kind_check CHECK (kind IN (0, 1, 2, 3));"

/* 9: guard mode (jobs/guard.h): a join request's Bot API 10.1 query, when
 * it came with one: its id, when its deadline ends (Unix ms), and what became of it (state:
 * 0 open, 1 being answered, 2 answered, 3 late: not answered, 4 failed, 5 its Web App shown;
 * result: the answer given). Open and claimed ones are found through partial indexes. */
#define M_GUARD(BIG, NOROWID)                                                                      \
    "CREATE TABLE join_queries ("                                                                  \
    "  request_id " BIG " PRIMARY KEY REFERENCES invite_requests(id),"                             \
    "  query_id TEXT NOT NULL,"                                                                    \
    "  deadline_ms " BIG " NOT NULL,"                                                              \
    "  state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2, 3, 4, 5)),"                      \
    "  result TEXT NOT NULL DEFAULT '',"                                                           \
    "  answered_at_ms " BIG " NOT NULL DEFAULT 0,"                                                 \
    "  error TEXT NOT NULL DEFAULT '')" NOROWID ";"                                                \
    "CREATE INDEX join_queries_open ON join_queries(request_id) WHERE state = 0;"                  \
    "CREATE INDEX join_queries_claimed ON join_queries(deadline_ms) WHERE state = 1;"
/* 10: roles and API tokens. Admins get a role (0 viewer, 1 decider, 2 owner: every admin from
 * before is an owner) and TOTP; channel_grants holds the channels of a scope (store.h:
 * "admin:<id>" or "token:<id>"); recovery_codes the digests of unused recovery codes. */
#define M_ROLES(ID, BIG, NOROWID)                                                                  \
    "ALTER TABLE admins ADD COLUMN role INTEGER NOT NULL DEFAULT 2 CHECK (role IN (0, 1, 2));"     \
    "ALTER TABLE admins ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';"                          \
    "ALTER TABLE admins ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';"                         \
    "ALTER TABLE admins ADD COLUMN totp_step " BIG " NOT NULL DEFAULT 0;"                          \
    "CREATE TABLE channel_grants ("                                                                \
    "  scope TEXT NOT NULL,"                                                                       \
    "  chat_id " BIG " NOT NULL,"                                                                  \
    "  PRIMARY KEY (scope, chat_id))" NOROWID ";"                                                  \
    "CREATE TABLE recovery_codes ("                                                                \
    "  admin_id " BIG " NOT NULL REFERENCES admins(id) ON DELETE CASCADE,"                         \
    "  digest TEXT NOT NULL,"                                                                      \
    "  PRIMARY KEY (admin_id, digest))" NOROWID ";"                                                \
    "CREATE TABLE api_tokens ("                                                                    \
    "  id " ID ","                                                                                 \
    "  admin_id " BIG " NOT NULL REFERENCES admins(id) ON DELETE CASCADE,"                         \
    "  name TEXT NOT NULL,"                                                                        \
    "  token_hash TEXT NOT NULL UNIQUE,"                                                           \
    "  role INTEGER NOT NULL CHECK (role IN (0, 1, 2)),"                                           \
    "  created_at " BIG " NOT NULL,"                                                               \
    "  last_used_at " BIG " NOT NULL DEFAULT 0,"                                                   \
    "  UNIQUE (admin_id, name));"
/* 11: events and outgoing webhooks (alerts/alerts.h). events is the outbox, written in the
 * transaction that caused each event and emptied by the alerts thread into deliveries, one per
 * subscribed webhook, kept (with their attempts and last error) as the delivery log. An event's
 * id is never used again (SQLite: AUTOINCREMENT; the outbox is often empty): receivers tell
 * events apart by it. */
#define M_EVENTS(ID, EVENT_ID, BIG, NOROWID)                                                       \
    "CREATE TABLE events ("                                                                        \
    "  id " EVENT_ID ","                                                                           \
    "  kind INTEGER NOT NULL,"                                                                     \
    "  at " BIG " NOT NULL,"                                                                       \
    "  chat_id " BIG " NOT NULL DEFAULT 0,"                                                        \
    "  request_id " BIG " NOT NULL DEFAULT 0,"                                                     \
    "  user_id " BIG " NOT NULL DEFAULT 0,"                                                        \
    "  job_id " BIG " NOT NULL DEFAULT 0,"                                                         \
    "  amount " BIG " NOT NULL DEFAULT 0,"                                                         \
    "  subject TEXT NOT NULL DEFAULT '',"                                                          \
    "  result TEXT NOT NULL DEFAULT '',"                                                           \
    "  detail TEXT NOT NULL DEFAULT '');"                                                          \
    "CREATE TABLE webhooks ("                                                                      \
    "  id " ID ","                                                                                 \
    "  url TEXT NOT NULL,"                                                                         \
    "  secret_sealed TEXT NOT NULL,"                                                               \
    "  kinds " BIG " NOT NULL,"                                                                    \
    "  enabled INTEGER NOT NULL DEFAULT 1,"                                                        \
    "  created_by TEXT NOT NULL DEFAULT '',"                                                       \
    "  created_at " BIG " NOT NULL,"                                                               \
    "  updated_at " BIG " NOT NULL);"                                                              \
    "CREATE TABLE webhook_deliveries ("                                                            \
    "  id " ID ","                                                                                 \
    "  webhook_id " BIG " NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,"                     \
    "  event_id " BIG " NOT NULL,"                                                                 \
    "  kind INTEGER NOT NULL,"                                                                     \
    "  state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),"                               \
    "  attempts INTEGER NOT NULL DEFAULT 0,"                                                       \
    "  next_at " BIG " NOT NULL,"                                                                  \
    "  http_status INTEGER NOT NULL DEFAULT 0,"                                                    \
    "  error TEXT NOT NULL DEFAULT '',"                                                            \
    "  created_at " BIG " NOT NULL,"                                                               \
    "  updated_at " BIG " NOT NULL,"                                                               \
    "  body TEXT NOT NULL);"                                                                       \
    "CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at) WHERE state = 0;"          \
    "CREATE INDEX webhook_deliveries_log ON webhook_deliveries(webhook_id, id);"                   \
    "CREATE INDEX webhook_deliveries_done ON webhook_deliveries(updated_at) WHERE state <> 0;"
/* 12: statistics (store/stats.h): rollups kept exact by triggers in the transaction that
 * records, decides or removes a request, so the statistics page reads buckets, never requests.
 * Spans, in seconds (UTC): an hour, a day and a week (weeks start on a Thursday, as the epoch
 * did: long ranges read whole weeks and the days at their edges). stat_arrivals: requests by the
 * bucket of their tg_date, channel and invite link, counted by their status now. stat_decided:
 * decisions by the bucket of decided_at (tg_date for a request recorded decided without one),
 * channel, who (decided_by), through what (decided_via) and the rule (rule_id). stat_latency:
 * decisions by the day and week of decided_at, channel and the bucket of decided_at - tg_date
 * (seconds) they fall in: stat_latency_buckets [lo, hi), 1 s wide up to 10 s, then each 6/5 as
 * wide as the one before, up to 1e9 s. A trigger takes the old row's part away and adds the new
 * row's, so whatever statement changes a request the rollups stay exact; the migration counts
 * the rows there are. Each trigger statement writes one row (on PostgreSQL an upsert of one row
 * from VALUES costs half what one over a table of spans did), and a decision, which keeps its
 * request's arrival bucket, moves the count within that row instead of taking it out and
 * putting it back. */
// clang-format off
/* 1 (or N) for a row R whose status is s, else 0 (a boolean is no integer on PostgreSQL) */
#define STAT_IS(R, s, N) "(CASE WHEN " R ".status = " s " THEN " N " ELSE 0 END)"
#define STAT_SUM_IS(R, s) "sum" STAT_IS(R, s, "1")
/* One span's row of each rollup for the request R, with its counts; TAIL ends the statement
 * (a trigger's WHERE and ON CONFLICT, or the migration's FROM and GROUP BY). */
#define STAT_ARRIVALS(SPAN, R, P, A, D, TAIL) \
    "INSERT INTO stat_arrivals SELECT " SPAN ", " R ".tg_date / " SPAN " * " SPAN ", " R \
    ".chat_id, " R ".invite_link, " P ", " A ", " D TAIL ";"
#define STAT_DECIDED(SPAN, R, A, D, TAIL) \
    "INSERT INTO stat_decided SELECT " SPAN ", " STAT_DECIDED_AT(R) " / " SPAN " * " SPAN ", " R \
    ".chat_id, " R ".decided_by, " R ".decided_via, " R ".rule_id, " A ", " D TAIL ";"
#define STAT_LATENCY(SPAN, R, N, TAIL) \
    "INSERT INTO stat_latency SELECT " SPAN ", " R ".decided_at / " SPAN " * " SPAN ", " R \
    ".chat_id, " STAT_LATENCY_LO(R) ", " N TAIL ";"
#define STAT_UPSERT_ARRIVALS \
    " WHERE true ON CONFLICT (span, bucket, chat_id, invite_link) DO UPDATE SET" \
    " pending = stat_arrivals.pending + excluded.pending," \
    " approved = stat_arrivals.approved + excluded.approved," \
    " declined = stat_arrivals.declined + excluded.declined"
#define STAT_UPSERT_DECIDED(R) \
    " WHERE " R ".status <> 0" \
    " ON CONFLICT (span, bucket, chat_id, decided_by, decided_via, rule_id) DO UPDATE" \
    " SET approved = stat_decided.approved + excluded.approved," \
    " declined = stat_decided.declined + excluded.declined"
#define STAT_UPSERT_LATENCY(R) \
    " WHERE " R ".status <> 0 AND " R ".decided_at > 0" \
    " ON CONFLICT (span, bucket, chat_id, lo) DO UPDATE SET n = stat_latency.n + excluded.n"
/* M(span, …) for the spans kept: every one, and the day and week (the time to decision) */
#define STAT_SPANS(M, ...) M("3600", __VA_ARGS__) M("86400", __VA_ARGS__) M("604800", __VA_ARGS__)
#define STAT_DAYS(M, ...) M("86400", __VA_ARGS__) M("604800", __VA_ARGS__)
/* A trigger's parts: the request R counted N times (1 or -1) in arrivals; its decision; a
 * status change of a request whose arrival bucket stays (OLD out, NEW in, in one row). */
#define STAT_ARR_ONE(SPAN, R, N) \
    STAT_ARRIVALS(SPAN, R, STAT_IS(R, "0", N), STAT_IS(R, "1", N), STAT_IS(R, "2", N), \
                  STAT_UPSERT_ARRIVALS)
#define STAT_DEC_ONE(SPAN, R, N) \
    STAT_DECIDED(SPAN, R, STAT_IS(R, "1", N), STAT_IS(R, "2", N), STAT_UPSERT_DECIDED(R))
#define STAT_LAT_ONE(SPAN, R, N) STAT_LATENCY(SPAN, R, N, STAT_UPSERT_LATENCY(R))
#define STAT_MOVED(s) STAT_IS("NEW", s, "1") " - " STAT_IS("OLD", s, "1")
#define STAT_ARR_MOVE(SPAN, _) \
    STAT_ARRIVALS(SPAN, "NEW", STAT_MOVED("0"), STAT_MOVED("1"), STAT_MOVED("2"), \
                  STAT_UPSERT_ARRIVALS)
#define STAT_ADD_ARRIVAL(R, N) STAT_SPANS(STAT_ARR_ONE, R, N)
#define STAT_ADD_DECISION(R, N) STAT_SPANS(STAT_DEC_ONE, R, N) STAT_DAYS(STAT_LAT_ONE, R, N)
#define STAT_MOVE_ARRIVAL STAT_SPANS(STAT_ARR_MOVE, 0)
/* the migration's: every request there is, per span */
#define STAT_FILL_ARR(SPAN, _) \
    STAT_ARRIVALS(SPAN, "r", STAT_SUM_IS("r", "0"), STAT_SUM_IS("r", "1"), \
                  STAT_SUM_IS("r", "2"), " FROM invite_requests r GROUP BY 1, 2, 3, 4")
#define STAT_FILL_DEC(SPAN, _) \
    STAT_DECIDED(SPAN, "r", STAT_SUM_IS("r", "1"), STAT_SUM_IS("r", "2"), \
                 " FROM invite_requests r WHERE r.status <> 0 GROUP BY 1, 2, 3, 4, 5, 6")
#define STAT_FILL_LAT(SPAN, _) \
    STAT_LATENCY(SPAN, "r", "count(*)", \
                 " FROM invite_requests r WHERE r.status <> 0 AND r.decided_at > 0" \
                 " GROUP BY 1, 2, 3, 4")
/* what an UPDATE must change for the rollups to change (NE: the dialect's null-safe <>) */
#define STAT_CHANGED(NE) \
    "OLD.status " NE " NEW.status OR OLD.chat_id " NE " NEW.chat_id OR OLD.invite_link " NE \
    " NEW.invite_link OR OLD.tg_date " NE " NEW.tg_date OR ((OLD.status <> 0 OR NEW.status <> 0)" \
    " AND (OLD.decided_at " NE " NEW.decided_at OR OLD.decided_by " NE " NEW.decided_by" \
    " OR OLD.decided_via " NE " NEW.decided_via OR OLD.rule_id " NE " NEW.rule_id))"
/* the request keeps its arrival bucket (columns NOT NULL) */
#define STAT_SAME_ARRIVAL \
    "OLD.chat_id = NEW.chat_id AND OLD.invite_link = NEW.invite_link AND OLD.tg_date = NEW.tg_date"
#define STAT_COLUMNS \
    "status, chat_id, invite_link, tg_date, decided_at, decided_by, decided_via, rule_id"
#define M_STATS(BIG, NOROWID) \
    "CREATE TABLE stat_latency_buckets (lo " BIG " PRIMARY KEY, hi " BIG " NOT NULL)" NOROWID ";" \
    "WITH RECURSIVE b(lo, hi) AS (SELECT CAST(0 AS BIGINT), CAST(1 AS BIGINT) UNION ALL" \
    "  SELECT hi, CASE WHEN hi < 10 THEN hi + 1 ELSE hi * 6 / 5 END FROM b" \
    "  WHERE hi < 1000000000)" \
    "  INSERT INTO stat_latency_buckets SELECT lo, hi FROM b;" \
    "CREATE TABLE stat_arrivals (" \
    "  span INTEGER NOT NULL," \
    "  bucket " BIG " NOT NULL," \
    "  chat_id " BIG " NOT NULL," \
    "  invite_link TEXT NOT NULL," \
    "  pending " BIG " NOT NULL," \
    "  approved " BIG " NOT NULL," \
    "  declined " BIG " NOT NULL," \
    "  PRIMARY KEY (span, bucket, chat_id, invite_link))" NOROWID ";" \
    "CREATE TABLE stat_decided (" \
    "  span INTEGER NOT NULL," \
    "  bucket " BIG " NOT NULL," \
    "  chat_id " BIG " NOT NULL," \
    "  decided_by TEXT NOT NULL," \
    "  decided_via TEXT NOT NULL," \
    "  rule_id " BIG " NOT NULL," \
    "  approved " BIG " NOT NULL," \
    "  declined " BIG " NOT NULL," \
    "  PRIMARY KEY (span, bucket, chat_id, decided_by, decided_via, rule_id))" NOROWID ";" \
    "CREATE TABLE stat_latency (" \
    "  span INTEGER NOT NULL," \
    "  bucket " BIG " NOT NULL," \
    "  chat_id " BIG " NOT NULL," \
    "  lo " BIG " NOT NULL," \
    "  n " BIG " NOT NULL," \
    "  PRIMARY KEY (span, bucket, chat_id, lo))" NOROWID ";" \
    STAT_SPANS(STAT_FILL_ARR, 0) STAT_SPANS(STAT_FILL_DEC, 0) STAT_DAYS(STAT_FILL_LAT, 0)
/* SQLite: a trigger per case, its WHEN saying which */
#define SQ_STAT_TRIGGER(name, event, when, body) \
    "CREATE TRIGGER " name " AFTER " event " ON invite_requests" when " BEGIN " body " END;"
#define SQ_STAT_TRIGGERS \
    SQ_STAT_TRIGGER("stat_insert", "INSERT", "", \
                    STAT_ADD_ARRIVAL("NEW", "1") STAT_ADD_DECISION("NEW", "1")) \
    SQ_STAT_TRIGGER("stat_delete", "DELETE", "", \
                    STAT_ADD_ARRIVAL("OLD", "-1") STAT_ADD_DECISION("OLD", "-1")) \
    SQ_STAT_TRIGGER("stat_decide", "UPDATE OF " STAT_COLUMNS, \
                    " WHEN (" STAT_CHANGED("IS NOT") ") AND " STAT_SAME_ARRIVAL, \
                    STAT_MOVE_ARRIVAL STAT_ADD_DECISION("OLD", "-1") \
                    STAT_ADD_DECISION("NEW", "1")) \
    SQ_STAT_TRIGGER("stat_move", "UPDATE OF " STAT_COLUMNS, \
                    " WHEN (" STAT_CHANGED("IS NOT") ") AND NOT (" STAT_SAME_ARRIVAL ")", \
                    STAT_ADD_ARRIVAL("OLD", "-1") STAT_ADD_DECISION("OLD", "-1") \
                    STAT_ADD_ARRIVAL("NEW", "1") STAT_ADD_DECISION("NEW", "1"))
/* PostgreSQL: one function; statements that would add nothing are not run */
#define PG_STAT_TRIGGERS \
    "CREATE FUNCTION stat_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN" \
    "  IF TG_OP = 'UPDATE' THEN" \
    "    IF " STAT_SAME_ARRIVAL " THEN" \
    "      IF OLD.status <> NEW.status THEN " STAT_MOVE_ARRIVAL " END IF;" \
    "    ELSE " STAT_ADD_ARRIVAL("OLD", "-1") STAT_ADD_ARRIVAL("NEW", "1") \
    "    END IF;" \
    "  ELSIF TG_OP = 'INSERT' THEN " STAT_ADD_ARRIVAL("NEW", "1") \
    "  ELSE " STAT_ADD_ARRIVAL("OLD", "-1") \
    "  END IF;" \
    "  IF TG_OP <> 'INSERT' THEN" \
    "    IF OLD.status <> 0 THEN " STAT_ADD_DECISION("OLD", "-1") " END IF;" \
    "  END IF;" \
    "  IF TG_OP <> 'DELETE' THEN" \
    "    IF NEW.status <> 0 THEN " STAT_ADD_DECISION("NEW", "1") " END IF;" \
    "  END IF;" \
    "  RETURN NULL;" \
    "END $$;" \
    "CREATE TRIGGER stat_insert AFTER INSERT OR DELETE ON invite_requests" \
    "  FOR EACH ROW EXECUTE FUNCTION stat_keep();" \
    "CREATE TRIGGER stat_update AFTER UPDATE OF " STAT_COLUMNS " ON invite_requests" \
    "  FOR EACH ROW WHEN (" STAT_CHANGED("IS DISTINCT FROM") ") EXECUTE FUNCTION stat_keep();"
// clang-format on
/* 13: a channel's invite links as doorman last saw them (store_link_put). */
#define M_LINKS(BIG, NOROWID)                                                                      \
    "CREATE TABLE invite_links ("                                                                  \
    "  chat_id " BIG " NOT NULL,"                                                                  \
    "  link TEXT NOT NULL,"                                                                        \
    "  name TEXT NOT NULL DEFAULT '',"                                                             \
    "  creator_id " BIG " NOT NULL DEFAULT 0,"                                                     \
    "  created_at " BIG " NOT NULL DEFAULT 0,"                                                     \
    "  expire_date " BIG " NOT NULL DEFAULT 0,"                                                    \
    "  member_limit " BIG " NOT NULL DEFAULT 0,"                                                   \
    "  creates_join_request INTEGER NOT NULL DEFAULT 0,"                                           \
    "  revoked INTEGER NOT NULL DEFAULT 0,"                                                        \
    "  updated_at " BIG " NOT NULL,"                                                               \
    "  PRIMARY KEY (chat_id, link))" NOROWID ";"
/* 14: verification (verify/verification.h). challenges: each
 * channel's challenge (chat_id 0: the default) as JSON (verify/challenge.h); verifications: one
 * per request the rules sent to be verified, its state, deadline (found through a partial index
 * while open), attempts, the applicant's answer, the captcha's digits and the challenge as it
 * stood when it began, the launch that opened it; webapp_nonces: the Mini App launch data already
 * used (a replay is refused), until they would be stale anyway. */
#define M_VERIFY(BIG, NOROWID)                                                                     \
    "CREATE TABLE challenges ("                                                                    \
    "  chat_id " BIG " PRIMARY KEY,"                                                               \
    "  spec TEXT NOT NULL,"                                                                        \
    "  updated_at " BIG " NOT NULL)" NOROWID ";"                                                   \
    "CREATE TABLE verifications ("                                                                 \
    "  request_id " BIG " PRIMARY KEY REFERENCES invite_requests(id),"                             \
    "  chat_id " BIG " NOT NULL,"                                                                  \
    "  user_id " BIG " NOT NULL,"                                                                  \
    "  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 6),"                                      \
    "  deadline " BIG " NOT NULL,"                                                                 \
    "  attempts INTEGER NOT NULL DEFAULT 0,"                                                       \
    "  answer TEXT NOT NULL DEFAULT '',"                                                           \
    "  captcha TEXT NOT NULL DEFAULT '',"                                                          \
    "  spec TEXT NOT NULL,"                                                                        \
    "  lang TEXT NOT NULL DEFAULT '',"                                                             \
    "  launch TEXT NOT NULL DEFAULT '',"                                                           \
    "  created_at " BIG " NOT NULL,"                                                               \
    "  updated_at " BIG " NOT NULL)" NOROWID ";"                                                   \
    "CREATE INDEX verifications_open ON verifications(deadline) WHERE state < 4;"                  \
    "CREATE INDEX verifications_user ON verifications(chat_id, user_id);"                          \
    "CREATE TABLE webapp_nonces ("                                                                 \
    "  hash TEXT PRIMARY KEY,"                                                                     \
    "  expires_at " BIG " NOT NULL)" NOROWID ";"

/* 15: the access hashes of channels each session learned (pool_peer_put), kept as Pyrogram
 * keeps its peers table, so a channel named by id is found again after a restart without paging
 * the account's dialogs; they go with their session. */
#define M_PEERS(BIG, NOROWID)                                                                      \
    "CREATE TABLE session_peers ("                                                                 \
    "  session TEXT NOT NULL REFERENCES sessions(name) ON DELETE CASCADE,"                         \
    "  channel_id " BIG " NOT NULL,"                                                               \
    "  access_hash " BIG " NOT NULL,"                                                              \
    "  updated_at " BIG " NOT NULL,"                                                               \
    "  PRIMARY KEY (session, channel_id))" NOROWID ";"

/* 16: DM challenges and decision messages (jobs/dm_challenge.h, jobs/notice.h). A verification
 * brought as a private message with inline buttons keeps the message's id, the key its buttons'
 * callback data are signed with ('' for the Mini App's delivery) and the state the message shows
 * (-1: none yet); the partial index finds the messages to bring up to date. A request remembers
 * that its decision's message was sent (or tried), so it goes once. */
#define M_DM(BIG)                                                                                  \
    "ALTER TABLE verifications ADD COLUMN dm_message_id " BIG " NOT NULL DEFAULT 0;"               \
    "ALTER TABLE verifications ADD COLUMN dm_key TEXT NOT NULL DEFAULT '';"                        \
    "ALTER TABLE verifications ADD COLUMN dm_shown INTEGER NOT NULL DEFAULT -1;"                   \
    "CREATE INDEX verifications_dm ON verifications(request_id) "                                  \
    "WHERE dm_key <> '' AND dm_shown <> state;"                                                    \
    "ALTER TABLE invite_requests ADD COLUMN notified INTEGER NOT NULL DEFAULT 0;"

/* 17: each MTProto session's update state (telegram/updates.h): where its updates stopped, so a
 * restart resumes with updates.getDifference; account_id: whose state it is (a session name
 * reused for another account starts afresh). */
#define M_UPDATES(BIG, NOROWID)                                                                    \
    "CREATE TABLE session_updates ("                                                               \
    "  name TEXT PRIMARY KEY,"                                                                     \
    "  account_id " BIG " NOT NULL,"                                                               \
    "  pts " BIG " NOT NULL,"                                                                      \
    "  qts " BIG " NOT NULL,"                                                                      \
    "  seq " BIG " NOT NULL,"                                                                      \
    "  date " BIG " NOT NULL,"                                                                     \
    "  updated_at " BIG " NOT NULL)" NOROWID ";"

/* 18: the account that decided each job item (a job may use several: jobs/via.h). */
#define M_ITEM_VIA "ALTER TABLE job_items ADD COLUMN via TEXT NOT NULL DEFAULT '';"
/* 19 (PostgreSQL only): the per-status totals and the statistics' rollups folded once per
 * transaction. The row triggers of 2 and 12 upserted the same few rollup rows for every request a
 * transaction changed, and PostgreSQL walks every version a transaction made of a row to find
 * it again: 8,000 decisions of one channel in one transaction took 41 s. Now a changed request
 * notes its old row (-1) and its new one (+1) in stat_delta, which only grows within its
 * transaction (other transactions never see its rows), and a deferred constraint trigger folds
 * the notes into request_counts and the rollups at COMMIT, one statement per table, in key order
 * (two transactions folding into the same rows lock them in the same order), then deletes them;
 * the transaction's later firings find it folded (a transaction-local setting) and return.
 * SQLite updates the rollup rows in place and keeps the triggers of 2 and 12. */
// clang-format off
#define PG_DELTA_ROW(R) \
    R ".status, " R ".chat_id, " R ".invite_link, " R ".tg_date, " R ".decided_at, " R \
    ".decided_by, " R ".decided_via, " R ".rule_id"
#define PG_FOLD_SPANS(...) " CROSS JOIN (VALUES " __VA_ARGS__ ") s(span)"
#define PG_FOLD_SUM_IS(s) "sum(CASE WHEN d.status = " s " THEN d.n ELSE 0 END)"
/* The fold of notes D (a source named d: n, then PG_DELTA_ROW) into request_counts and
 * stat_arrivals, and into the decisions' rollups, one statement a table, in key order. */
#define PG_FOLD_ARRIVALS(D) \
    "  INSERT INTO request_counts SELECT d.chat_id, d.status, sum(d.n) FROM " D \
    "    GROUP BY 1, 2 HAVING sum(d.n) <> 0 ORDER BY 1, 2" \
    "    ON CONFLICT (chat_id, status) DO UPDATE SET n = request_counts.n + excluded.n;" \
    "  INSERT INTO stat_arrivals SELECT s.span, d.tg_date / s.span * s.span, d.chat_id," \
    "    d.invite_link, " PG_FOLD_SUM_IS("0") ", " PG_FOLD_SUM_IS("1") ", " PG_FOLD_SUM_IS("2") \
    "    FROM " D PG_FOLD_SPANS("(3600), (86400), (604800)") \
    "    GROUP BY 1, 2, 3, 4 HAVING " PG_FOLD_SUM_IS("0") " <> 0 OR " PG_FOLD_SUM_IS("1") \
    "    <> 0 OR " PG_FOLD_SUM_IS("2") " <> 0 ORDER BY 1, 2, 3, 4" \
    "    ON CONFLICT (span, bucket, chat_id, invite_link) DO UPDATE SET" \
    "    pending = stat_arrivals.pending + excluded.pending," \
    "    approved = stat_arrivals.approved + excluded.approved," \
    "    declined = stat_arrivals.declined + excluded.declined;"
#define PG_FOLD_DECISIONS(D) \
    "  INSERT INTO stat_decided SELECT s.span, " STAT_DECIDED_AT("d") " / s.span * s.span," \
    "    d.chat_id, d.decided_by, d.decided_via, d.rule_id, " PG_FOLD_SUM_IS("1") ", " \
    PG_FOLD_SUM_IS("2") " FROM " D PG_FOLD_SPANS("(3600), (86400), (604800)") \
    "    WHERE d.status <> 0 GROUP BY 1, 2, 3, 4, 5, 6" \
    "    HAVING " PG_FOLD_SUM_IS("1") " <> 0 OR " PG_FOLD_SUM_IS("2") " <> 0" \
    "    ORDER BY 1, 2, 3, 4, 5, 6" \
    "    ON CONFLICT (span, bucket, chat_id, decided_by, decided_via, rule_id) DO UPDATE" \
    "    SET approved = stat_decided.approved + excluded.approved," \
    "    declined = stat_decided.declined + excluded.declined;" \
    "  INSERT INTO stat_latency SELECT s.span, d.decided_at / s.span * s.span, d.chat_id, d.lo," \
    "    sum(d.n) FROM (SELECT d.n, d.chat_id, d.decided_at, " STAT_LATENCY_LO("d") " AS lo" \
    "    FROM " D " WHERE d.status <> 0 AND d.decided_at > 0) d" \
    PG_FOLD_SPANS("(86400), (604800)") " GROUP BY 1, 2, 3, 4 HAVING sum(d.n) <> 0" \
    "    ORDER BY 1, 2, 3, 4" \
    "    ON CONFLICT (span, bucket, chat_id, lo) DO UPDATE SET n = stat_latency.n + excluded.n;"
#define PG_STAT_FOLD \
    "DROP TRIGGER request_counts_insert ON invite_requests;" \
    "DROP TRIGGER request_counts_update ON invite_requests;" \
    "DROP TRIGGER stat_insert ON invite_requests;" \
    "DROP TRIGGER stat_update ON invite_requests;" \
    "DROP FUNCTION request_counts_keep();" \
    "DROP FUNCTION stat_keep();" \
    "CREATE TABLE stat_delta (" \
    "  n INTEGER NOT NULL," \
    "  status INTEGER NOT NULL," \
    "  chat_id BIGINT NOT NULL," \
    "  invite_link TEXT NOT NULL," \
    "  tg_date BIGINT NOT NULL," \
    "  decided_at BIGINT NOT NULL," \
    "  decided_by TEXT NOT NULL," \
    "  decided_via TEXT NOT NULL," \
    "  rule_id BIGINT NOT NULL);" \
    "CREATE FUNCTION stat_note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN" \
    "  IF TG_OP <> 'INSERT' THEN" \
    "    INSERT INTO stat_delta VALUES (-1, " PG_DELTA_ROW("OLD") ");" \
    "  END IF;" \
    "  IF TG_OP <> 'DELETE' THEN" \
    "    INSERT INTO stat_delta VALUES (1, " PG_DELTA_ROW("NEW") ");" \
    "  END IF;" \
    "  RETURN NULL;" \
    "END $$;" \
    "CREATE TRIGGER stat_note AFTER INSERT OR DELETE ON invite_requests" \
    "  FOR EACH ROW EXECUTE FUNCTION stat_note();" \
    "CREATE TRIGGER stat_note_update AFTER UPDATE OF " STAT_COLUMNS " ON invite_requests" \
    "  FOR EACH ROW WHEN (" STAT_CHANGED("IS DISTINCT FROM") ") EXECUTE FUNCTION stat_note();" \
    "CREATE FUNCTION stat_fold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN" \
    "  IF current_setting('doorman.stat_folded', true) = '1' THEN RETURN NULL; END IF;" \
    "  PERFORM set_config('doorman.stat_folded', '1', true);" \
    PG_FOLD_ARRIVALS("stat_delta d") PG_FOLD_DECISIONS("stat_delta d") \
    "  DELETE FROM stat_delta;" \
    "  RETURN NULL;" \
    "END $$;" \
    "CREATE CONSTRAINT TRIGGER stat_fold AFTER INSERT ON stat_delta" \
    "  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stat_fold();"
// clang-format on

/* 20 (PostgreSQL only): a statement that records or removes requests notes them in stat_delta
 * with one INSERT ... SELECT over its transition table instead of a plpgsql call and an insert
 * per row (31 us of 345 a request when seeding 2,000 at a time, load 8); a changed request is
 * still noted per row (a trigger on some columns takes no transition table). */
// clang-format off
#define PG_STAT_NOTE_SETS \
    "DROP TRIGGER stat_note ON invite_requests;" \
    "CREATE FUNCTION stat_note_set() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN" \
    "  IF TG_OP = 'INSERT' THEN" \
    "    INSERT INTO stat_delta SELECT 1, " PG_DELTA_ROW("r") " FROM stat_new r;" \
    "  ELSE" \
    "    INSERT INTO stat_delta SELECT -1, " PG_DELTA_ROW("r") " FROM stat_old r;" \
    "  END IF;" \
    "  RETURN NULL;" \
    "END $$;" \
    "CREATE TRIGGER stat_note_insert AFTER INSERT ON invite_requests" \
    "  REFERENCING NEW TABLE AS stat_new FOR EACH STATEMENT EXECUTE FUNCTION stat_note_set();" \
    "CREATE TRIGGER stat_note_delete AFTER DELETE ON invite_requests" \
    "  REFERENCING OLD TABLE AS stat_old FOR EACH STATEMENT EXECUTE FUNCTION stat_note_set();"
// clang-format on

/* 21 (SQLite only): a request recorded is counted into the totals and rollups by the store's
 * statements over the batch it recorded (sql.c S_STAT_FOLD_*, 13k instructions a request),
 * not by these row triggers (38.6k); a change or removal still by the triggers of 2 and 12.
 * PostgreSQL folded recorded requests at COMMIT (19, 20), by the statement since 22. */
#define SQ_STAT_FOLD_BATCH                                                                         \
    "DROP TRIGGER IF EXISTS request_counts_insert; DROP TRIGGER IF EXISTS stat_insert;"

/* 22 (PostgreSQL only): a statement that records or removes requests folds them into the totals
 * and rollups itself, from its transition table (n +1 or -1), instead of noting them in
 * stat_delta for the fold at COMMIT. Recording through the bot is a transaction of one request:
 * each paid for a note, a deferred trigger, the fold's five statements over stat_delta and
 * deleting the note, and the deleted notes stayed in stat_delta until a vacuum, read by every
 * fold after them (15,000 dead rows, 1.3 MB, in a 10,000-request run). A statement folds each
 * rollup row once, in key order as the fold at COMMIT does; the decisions' rollups only when it
 * holds a decided request. A changed request is still noted by stat_note_update and folded at
 * COMMIT (19): many changes of one transaction would rewrite the same rows. */
// clang-format off
#define PG_FOLD_SET_ROWS \
    "(SELECT CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END AS n, " PG_DELTA_ROW("r") \
    " FROM stat_rows r) d"
#define PG_STAT_FOLD_SETS \
    "DROP TRIGGER stat_note_insert ON invite_requests;" \
    "DROP TRIGGER stat_note_delete ON invite_requests;" \
    "DROP FUNCTION stat_note_set();" \
    "CREATE FUNCTION stat_fold_set() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN" \
    PG_FOLD_ARRIVALS(PG_FOLD_SET_ROWS) \
    "  IF EXISTS (SELECT 1 FROM stat_rows WHERE status <> 0) THEN" \
    PG_FOLD_DECISIONS(PG_FOLD_SET_ROWS) \
    "  END IF;" \
    "  RETURN NULL;" \
    "END $$;" \
    "CREATE TRIGGER stat_fold_insert AFTER INSERT ON invite_requests" \
    "  REFERENCING NEW TABLE AS stat_rows FOR EACH STATEMENT EXECUTE FUNCTION stat_fold_set();" \
    "CREATE TRIGGER stat_fold_delete AFTER DELETE ON invite_requests" \
    "  REFERENCING OLD TABLE AS stat_rows FOR EACH STATEMENT EXECUTE FUNCTION stat_fold_set();"
// clang-format on

/* 23 (PostgreSQL only): the fold at COMMIT (19) reads and deletes only its own transaction's
 * notes, through an index on the transaction that wrote them, instead of reading stat_delta
 * whole. The notes deleted by earlier folds stay in the table as dead rows until a vacuum
 * (autovacuum looks once a minute at most), and every fold read them all: after an Approve All
 * of 10,000 (one fold per group of about 3.7 decisions), 17,486 dead notes in 108 pages, read by
 * each of the fold's five statements. Other transactions' notes are invisible to a fold anyway
 * (a transaction's own, and those of transactions that committed folded), so it folds the same
 * rows; a note gets the transaction's id by default (pg_current_xact_id: the top-level
 * transaction's, also inside a subtransaction), so stat_note is unchanged. */
// clang-format off
#define PG_OWN_NOTES "(SELECT * FROM stat_delta WHERE tx = pg_current_xact_id()) d"
#define PG_STAT_FOLD_OWN \
    "ALTER TABLE stat_delta ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();" \
    "CREATE INDEX stat_delta_tx ON stat_delta(tx);" \
    "CREATE OR REPLACE FUNCTION stat_fold() RETURNS trigger LANGUAGE plpgsql" \
    "  SET enable_seqscan = off AS $$ BEGIN" \
    "  IF current_setting('doorman.stat_folded', true) = '1' THEN RETURN NULL; END IF;" \
    "  PERFORM set_config('doorman.stat_folded', '1', true);" \
    PG_FOLD_ARRIVALS(PG_OWN_NOTES) PG_FOLD_DECISIONS(PG_OWN_NOTES) \
    "  DELETE FROM stat_delta WHERE tx = pg_current_xact_id();" \
    "  RETURN NULL;" \
    "END $$;"
// clang-format on

/* Migration v is migrations[v - 1], in each dialect's text. */
static const struct {
    const char *sqlite, *pg;
} migrations[] = {
    {M1(SQ_ID, SQ_BIG, SQ_NOROWID), M1(PG_ID, PG_BIG, PG_NOROWID)},
    {M2_TABLE(SQ_BIG, SQ_NOROWID) SQ_COUNT_TRIGGERS,
     M2_TABLE(PG_BIG, PG_NOROWID) PG_COUNT_TRIGGERS},
    {M3_TABLES(SQ_BIG, SQ_NOROWID) SQ_JOBS_V3, M3_TABLES(PG_BIG, PG_NOROWID) PG_JOBS_V3},
    {M4(SQ_BIG, SQ_NOROWID), M4(PG_BIG, PG_NOROWID)},
    {M5, M5},
    {SQ_M6, PG_M6},
    {M7(SQ_ID, SQ_BIG, SQ_NOROWID), M7(PG_ID, PG_BIG, PG_NOROWID)},
    {M8(SQ_ID, SQ_BIG, SQ_NOROWID) SQ_JOBS_V8 SQ_SEARCH_V8,
     M8(PG_ID, PG_BIG, PG_NOROWID) PG_JOBS_V8},
    {M_GUARD(SQ_BIG, SQ_NOROWID), M_GUARD(PG_BIG, PG_NOROWID)},
    {M_ROLES(SQ_ID, SQ_BIG, SQ_NOROWID), M_ROLES(PG_ID, PG_BIG, PG_NOROWID)},
    {M_EVENTS(SQ_ID, SQ_ID " AUTOINCREMENT", SQ_BIG, SQ_NOROWID),
     M_EVENTS(PG_ID, PG_ID, PG_BIG, PG_NOROWID)},
    {M_STATS(SQ_BIG, SQ_NOROWID) SQ_STAT_TRIGGERS, M_STATS(PG_BIG, PG_NOROWID) PG_STAT_TRIGGERS},
    {M_LINKS(SQ_BIG, SQ_NOROWID), M_LINKS(PG_BIG, PG_NOROWID)},
    {M_VERIFY(SQ_BIG, SQ_NOROWID), M_VERIFY(PG_BIG, PG_NOROWID)},
    {M_PEERS(SQ_BIG, SQ_NOROWID), M_PEERS(PG_BIG, PG_NOROWID)},
    {M_DM(SQ_BIG), M_DM(PG_BIG)},
    {M_UPDATES(SQ_BIG, SQ_NOROWID), M_UPDATES(PG_BIG, PG_NOROWID)},
    {M_ITEM_VIA, M_ITEM_VIA},
    {"" /* SQLite keeps its triggers */, PG_STAT_FOLD},
    {"" /* nor statement journals for them */, PG_STAT_NOTE_SETS},
    {SQ_STAT_FOLD_BATCH, "SELECT 1" /* folds at COMMIT since 19 */},
    {"" /* folds a batch by statements since 21 */, PG_STAT_FOLD_SETS},
    {"" /* no stat_delta */, PG_STAT_FOLD_OWN},
};

const int schema_latest = (int)DM_ARRAY_LEN(migrations);

const struct schema_table schema_kept[] = {
    {"admins", "id", "id"},
    {"settings", "key", "key COLLATE \"C\""},
    {"chats", "chat_id", "chat_id"},
    {"invite_requests", "id", "id"},
    {"jobs", "id", "id"},
    {"job_items", "job_id, request_id", "job_id, request_id"},
    {"audit", "id", "id"},
    {"sessions", "name", "name COLLATE \"C\""},
    {"rules", "id", "id"},
    {"rule_lists", "name", "name COLLATE \"C\""},
    {"rule_list_entries", "list, entry", "list COLLATE \"C\", entry COLLATE \"C\""},
    {"channel_modes", "chat_id", "chat_id"},
    {"decisions_due", "request_id", "request_id"},
    {"pacing", "chat_id", "chat_id"},
    {"join_queries", "request_id", "request_id"},
    {"channel_grants", "scope, chat_id", "scope COLLATE \"C\", chat_id"},
    {"recovery_codes", "admin_id, digest", "admin_id, digest COLLATE \"C\""},
    {"api_tokens", "id", "id"},
    {"events", "id", "id"},
    {"webhooks", "id", "id"},
    {"webhook_deliveries", "id", "id"},
    {"invite_links", "chat_id, link", "chat_id, link COLLATE \"C\""},
    {"challenges", "chat_id", "chat_id"},
    {"verifications", "request_id", "request_id"},
    {"session_peers", "session, channel_id", "session COLLATE \"C\", channel_id"},
    {"session_updates", "name", "name COLLATE \"C\""},
};
const size_t schema_kept_n = DM_ARRAY_LEN(schema_kept);
const char *const schema_serial[] = {"admins", "invite_requests", "jobs",
                                     "audit",  "rules",           "api_tokens",
                                     "events", "webhooks",        "webhook_deliveries"};
const size_t schema_serial_n = DM_ARRAY_LEN(schema_serial);

#define MIGRATE_LOCK "7236823516" /* pg_advisory_xact_lock key: "doorman" migrations */

static const struct schema {
    const char *begin; /* opens the migration's transaction */
    const char *check; /* a query that returns a row naming a broken table, or NULL */
    const char *after; /* run after the transaction ended, or NULL */
} schemas[] = {
    /* a migration may rebuild a table that others reference: foreign keys are off while the
     * migrations run (the pragma is a no-op inside a transaction) and checked before COMMIT */
    [DB_SQLITE] = {"PRAGMA foreign_keys = OFF; BEGIN IMMEDIATE", "PRAGMA foreign_key_check",
                   "PRAGMA foreign_keys = ON"},
    /* processes starting at once take turns; the lock ends with the transaction */
    [DB_POSTGRES] = {"BEGIN; SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", NULL, NULL},
};

static dm_err first_int(void *ctx, const struct db_row *r)
{
    *(int64_t *)ctx = r->d->col_int(r, 0);
    return DM_OK;
}

static dm_err first_text(void *ctx, const struct db_row *r)
{
    const char *t = r->d->col_text(r, 0);
    dm_strlcpy(ctx, t ? t : "?", 64);
    return DM_OK;
}

/* Applies the migrations after the schema's version, each recorded with `now`. */
static dm_err migrate_from(const struct dialect *d, const struct schema *s, struct db_conn *c,
                           int64_t now, struct dm_error *err)
{
    const struct db_stmt create = {-1,
                                   "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER "
                                   "PRIMARY KEY, applied_at BIGINT NOT NULL)",
                                   "reading the schema version", DB_PLAN_AUTO};
    const struct db_stmt read = {-1, "SELECT coalesce(max(version), 0) FROM schema_version",
                                 "reading the schema version", DB_PLAN_AUTO};
    const struct db_stmt record = {-1,
                                   "INSERT INTO schema_version(version, applied_at) "
                                   "VALUES ($1, $2)",
                                   "recording the schema version", DB_PLAN_AUTO};
    int64_t have = 0;
    dm_err e = d->run(c, &create, NULL, NULL, NULL, NULL, err);
    if (!e) e = d->run(c, &read, NULL, first_int, &have, NULL, err);
    const int latest = schema_latest;
    if (!e && have > latest)
        e = dm_fail(err, DM_EDB,
                    "the database has schema version %" PRId64 " but this doorman knows only up "
                    "to %d: use a newer doorman or restore a backup",
                    have, latest);
    for (int v = (int)have + 1; v <= latest && !e; v++) {
        e = d->script(c, d->kind == DB_SQLITE ? migrations[v - 1].sqlite : migrations[v - 1].pg,
                      "migrating the schema", err);
        struct db_args a;
        args_init(&a);
        arg_int(&a, v);
        arg_int(&a, now);
        if (!e) e = d->run(c, &record, &a, NULL, NULL, NULL, err);
    }
    if (!e && s->check) {
        char broken[64] = "";
        const struct db_stmt check = {-1, s->check, "checking references after the migration",
                                      DB_PLAN_AUTO};
        e = d->run(c, &check, NULL, first_text, broken, NULL, err);
        if (!e && broken[0])
            e = dm_fail(err, DM_EDB, "the schema migration broke a reference from table %s",
                        broken);
    }
    return e;
}

dm_err schema_migrate(const struct dialect *d, struct db_conn *c, struct dm_error *err)
{
    const struct schema *s = &schemas[d->kind];
    dm_err e = d->script(c, s->begin, "starting the schema migration", err);
    if (e) return e;
    e = migrate_from(d, s, c, (int64_t)time(NULL), err);
    e = dialect_tx_end(d, c, e, err);
    if (s->after) {
        dm_err a = d->script(c, s->after, "ending the schema migration", e ? NULL : err);
        if (!e) e = a;
    }
    return e;
}
