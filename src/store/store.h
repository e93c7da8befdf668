/* store.h: everything doorman keeps, on SQLite or PostgreSQL.
 *
 * The rules (what finishing a job item means, filters, totals, folding for search) are
 * written once (store.c, requests.c, jobs.c) above a dialect (dialect.h: sqlite.c,
 * postgres.c) that only connects, runs statements from one table (sql.c) and classifies its
 * errors, so both backends answer every call alike.
 *
 * Threading: a struct store is safe to use from any number of threads at once.
 * Strings: records use fixed-size arrays; text longer than a field is cut at a UTF-8 boundary
 * when stored. All times are Unix seconds (UTC).
 * Errors: every function returns DM_OK or a dm_err; DM_ENOTFOUND where a lookup finds nothing;
 * DM_EUNAVAILABLE when a PostgreSQL server cannot be reached (the next call connects again);
 * DM_EDB (with the backend's message in *err when err is not NULL) for anything else. A failing
 * call changes nothing: each function is one transaction. */
#ifndef DM_STORE_H
#define DM_STORE_H

#include "core/common.h"

#define STORE_NAME_MAX 65  /* admin names, session names, "bot": 64 bytes + NUL */
#define STORE_VIA_MAX 600  /* a job's via: a name, or up to 8 session names (jobs/via.h) */
#define STORE_TEXT_MAX 513 /* Telegram names (64 characters), titles (128): 4 bytes a character */
#define STORE_BIO_MAX 561  /* Telegram bios: 140 characters (with Premium), 4 bytes each */
#define STORE_LINK_MAX 257
#define STORE_ERROR_MAX 257
#define STORE_HASH_MAX 129
#define STORE_LANG_MAX 36         /* an IETF language tag (BCP 47): 35 bytes is plenty */
#define STORE_RULE_SPEC_MAX 8192  /* a rule's JSON text (rules/rules.h) */
#define STORE_CHALLENGE_MAX 16384 /* a challenge's JSON text (verify/challenge.h) */
#define STORE_ANSWER_MAX 1025     /* an applicant's free-text answer: 1024 bytes */

/* who did something: an admin, or "token <name> of <admin>" */
#define STORE_ACTOR_MAX 112

struct store;

/* A trivial query: DM_OK when the database answers (GET /readyz). */
dm_err store_ping(struct store *st, struct dm_error *err);

/* ---- admins and web sessions ---- */

/* What an admin (or an API token) may do: viewers read, deciders also decide and load, both
 * in the channels granted to them; owners do everything everywhere. Ordered: a higher role
 * may do what a lower one may. */
enum admin_role { ROLE_VIEWER = 0, ROLE_DECIDER = 1, ROLE_OWNER = 2, ROLE_COUNT };
const char *admin_role_name(int role); /* "viewer", "decider", "owner" */
int admin_role_parse(const char *s);   /* -1 for anything else */

#define STORE_SEALED_MAX 160 /* a secret_seal() text of a TOTP secret */

struct store_admin {
    int64_t id;
    char name[STORE_NAME_MAX];
    char pw_hash[STORE_HASH_MAX]; /* argon2id string */
    int64_t created_at;
    int role;                            /* enum admin_role */
    char totp_secret[STORE_SEALED_MAX];  /* sealed base32 secret; "" when TOTP is off */
    char totp_pending[STORE_SEALED_MAX]; /* sealed secret shown but not yet confirmed, or "" */
    int64_t totp_step;                   /* the last 30 s step a code was accepted for */
};

/* A channel scope: the key of the channels granted to an admin ("admin:<id>") or to an API
 * token ("token:<id>"); "" means every channel (owners). store_scope_of writes one. */
#define STORE_SCOPE_MAX 32
void store_scope_of(const char *kind, int64_t id, char out[STORE_SCOPE_MAX]);

/* An API token (its value is never stored: token_hash is its digest). */
struct store_token {
    int64_t id;
    int64_t admin_id;
    char name[STORE_NAME_MAX];
    char token_hash[65];
    int role; /* enum admin_role: at most its admin's */
    int64_t created_at;
    int64_t last_used_at;            /* 0: never */
    char admin_name[STORE_NAME_MAX]; /* filled from the admins table */
    int admin_role;                  /* likewise */
};

struct store_websession {
    char token_hash[65]; /* digest of the cookie value; the cookie itself is never stored */
    int64_t admin_id;
    char admin_name[STORE_ACTOR_MAX]; /* filled by websession_get */
    char csrf[65];
    int64_t created_at;
    int64_t expires_at;
    int role; /* the admin's (enum admin_role), filled by websession_get */
};

/* ---- Telegram data ---- */

struct store_chat {
    int64_t chat_id;
    char title[STORE_TEXT_MAX];
    char username[STORE_NAME_MAX];
    int64_t fetched_at;
};

enum request_status { REQ_PENDING = 0, REQ_APPROVED = 1, REQ_DECLINED = 2, REQ_STATUS_COUNT };
/* "pending", "approved", "declined"; request_status_parse returns -1 for anything else. */
const char *request_status_name(int status);
int request_status_parse(const char *s);

struct store_request {
    int64_t id; /* ours, increasing in insertion order */
    int64_t chat_id;
    int64_t user_id;
    char first_name[STORE_TEXT_MAX];
    char last_name[STORE_TEXT_MAX];
    char username[STORE_NAME_MAX];
    char bio[STORE_BIO_MAX];
    char invite_link[STORE_LINK_MAX];
    int64_t tg_date;                  /* when the user asked, as Telegram says */
    int status;                       /* enum request_status */
    int64_t created_at;               /* when doorman recorded it */
    int64_t decided_at;               /* 0 while pending */
    char decided_by[STORE_ACTOR_MAX]; /* admin name */
    char decided_via[STORE_NAME_MAX]; /* "bot" or a session name */
    char last_error[STORE_ERROR_MAX]; /* last failed attempt, "" if none */
    /* what Telegram tells of the user with the request, for rules (rules/rules.h): the Bot
     * API's from.is_premium and from.language_code (IETF tag, "" when not sent); a load
     * through a session has the premium flag and Telegram's scam and fake marks, no language */
    bool is_premium;
    char language_code[STORE_LANG_MAX];
    bool is_scam;
    bool is_fake;
    /* what the rules said (jobs/autodecide.h): the rule that matched (0: none) and why, e.g.
     * "rule 2: casino names → decline and ban"; "" when no rule has spoken */
    int64_t rule_id;
    char verdict[STORE_TEXT_MAX];
    bool banned;                     /* the rules' decline banned the user too, until an unban */
    char chat_title[STORE_TEXT_MAX]; /* filled by list/get from the chats table, "" if unknown */
    /* its verification (verify/verification.h), filled by list/get: state -1 when it has none */
    int verify_state;
    int64_t verify_deadline;
    int64_t verify_attempts;
    char verify_answer[STORE_ANSWER_MAX];
};

/* All fields are optional: status -1, chat_id 0, dates 0, q "" mean "any". */
struct store_request_filter {
    int status;
    int64_t chat_id;
    int64_t date_from; /* tg_date >= date_from */
    int64_t date_to;   /* tg_date <= date_to */
    char q[129];       /* a substring of first/last name or username, compared folded
                          (core/fold.h: case and Unicode form), or an exact user id when q is
                          all digits (matching either) */
    int64_t rule_id;   /* requests the rule with this id spoke for; 0: any */
    /* only the channels granted to this scope (roles); "": every channel */
    char scope[STORE_SCOPE_MAX];
    char invite_link[STORE_LINK_MAX]; /* requests through this invite link; "": any */
};

/* ---- jobs ---- */

/* approve/decline jobs walk items (one per request); a load job walks Telegram's list of
 * pending requests of one channel through a session, page by page, with a cursor. */
/* An apply job evaluates the rules over its items (the pending requests of a channel) and
 * records their verdicts (jobs/autodecide.h). */
enum job_kind { JOB_APPROVE = 0, JOB_DECLINE = 1, JOB_LOAD = 2, JOB_APPLY = 3 };
enum job_state { JOB_QUEUED = 0, JOB_RUNNING = 1, JOB_DONE = 2, JOB_FAILED = 3, JOB_CANCELLED = 4 };
const char *job_kind_name(int kind);   /* "approve", "decline", "load", "apply" */
const char *job_state_name(int state); /* "queued", "running", "done", "failed", "cancelled" */

struct store_job {
    int64_t id;
    int kind;                         /* enum job_kind */
    int state;                        /* enum job_state */
    char via[STORE_VIA_MAX];          /* "bot", a session name, or several sessions (jobs/via.h) */
    char admin[STORE_ACTOR_MAX];      /* who started it */
    char description[STORE_TEXT_MAX]; /* e.g. "Approve all: status=pending chat=-100…" */
    int64_t total;                    /* items in the job */
    int64_t done;                     /* decided by this job */
    int64_t skipped; /* already decided elsewhere (not pending, or Telegram said so) */
    int64_t failed;  /* gave up on these; see job items */
    int64_t created_at, updated_at, finished_at;
    int64_t wait_until; /* >now while the job waits out a rate limit */
    char error[STORE_ERROR_MAX];
    char params[1024]; /* JSON the runner reads: load jobs (channel, limit, peer) and
                          decision jobs that decide whole channels (jobs/hide_all.h);
                          "" for other decision jobs */
    char cursor[256];  /* JSON where to go on after a restart; "" = start */
};

enum item_outcome {
    ITEM_PENDING = 0, /* not tried yet */
    ITEM_DONE = 1,    /* decided by this job */
    ITEM_SKIPPED = 2, /* was already decided: not pending here, or Telegram said already handled */
    ITEM_FAILED = 3,  /* gave up; error says why */
};

struct store_item {
    int64_t job_id;
    int64_t request_id;
    int64_t chat_id;    /* filled by job_next_items */
    int64_t user_id;    /* filled by job_next_items */
    int request_status; /* filled by job_next_items: the request's status now */
    int final_status;   /* for ITEM_SKIPPED: the status Telegram's answer tells the request has
                           (REQ_APPROVED, REQ_DECLINED), or REQ_PENDING to leave it as it is */
    int outcome;        /* enum item_outcome */
    char error[STORE_ERROR_MAX];
    char via[STORE_NAME_MAX]; /* the account that was asked (its audit entry and the request's
                                 decided_via name it); "" when none was: the job's via stands */
    bool banned; /* a decline job that bans (params "ban"): the user was banned too; recorded
                    on the request with an audit entry "ban" */
};

/* ---- Telegram sessions (MTProto accounts) ---- */

enum session_status { SESSION_UNCHECKED = 0, SESSION_ACTIVE = 1, SESSION_INVALID = 2 };
const char *session_status_name(int status); /* "unchecked", "active", "invalid" */

struct store_session {
    char name[STORE_NAME_MAX]; /* [A-Za-z0-9_-]{1,64}; the file is sessions/<name>.session */
    bool is_bot;
    int32_t api_id;
    char api_hash_sealed[256]; /* secret_seal() text of the API hash: never shown */
    char phone[33];            /* as the admin entered it ("" for bots) */
    int dc_id;
    int64_t account_id; /* from the last check; 0 = unknown */
    char first_name[STORE_TEXT_MAX];
    char last_name[STORE_TEXT_MAX];
    char username[STORE_NAME_MAX];
    char account_phone[33];
    bool premium;
    int status;                          /* enum session_status */
    char status_reason[STORE_ERROR_MAX]; /* why invalid, e.g. "AUTH_KEY_UNREGISTERED" */
    int64_t last_check_at;
    char last_error[STORE_ERROR_MAX];
    int64_t created_at;
};

/* A login that waits for its code or 2FA password. Everything secret (API hash,
 * phone_code_hash, the new auth key, its DC) is in one sealed text the login code owns. */
enum login_state { LOGIN_CODE_SENT = 0, LOGIN_PASSWORD_NEEDED = 1 };

struct store_login {
    char id[65];               /* random, unguessable */
    char name[STORE_NAME_MAX]; /* the session it will create */
    char phone[33];
    int state;                 /* enum login_state */
    char hint[STORE_TEXT_MAX]; /* 2FA password hint */
    char sealed[8192];         /* secret_seal() text */
    int64_t created_at;
    int64_t expires_at;
};

/* ---- audit ---- */

struct store_audit {
    int64_t id;
    int64_t at;
    char admin[STORE_ACTOR_MAX];
    char action[33];    /* "approve", "decline", "login", "logout", "settings", ... */
    int64_t request_id; /* 0 when not about a request */
    int64_t chat_id;
    int64_t user_id;
    int64_t job_id;
    char via[STORE_NAME_MAX]; /* "bot", a session name, or "" */
    char result[33];          /* "ok", "already_handled", "error" */
    char detail[STORE_ERROR_MAX];
};

/* ---- rules (what the rules mean is rules/rules.h's; the store keeps them) ---- */

/* A rule of a channel (chat_id != 0) or a global one (chat_id 0). Within one scope rules are
 * ordered by position (0, 1, 2 …, no gaps); spec is its conditions and action as JSON text. */
struct store_rule {
    int64_t id;
    int64_t chat_id;
    int position;
    bool enabled;
    char name[STORE_TEXT_MAX];
    char spec[STORE_RULE_SPEC_MAX];
    int64_t created_at, updated_at;
};
#define STORE_RULES_MAX 200 /* rules in one scope at most */

/* A named list of user ids ("123") and usernames ("@name", lowercase). */
struct store_list {
    char name[STORE_NAME_MAX]; /* [A-Za-z0-9_-]{1,64}, checked by the caller */
    int64_t entries;           /* filled by list_names */
    int64_t created_at, updated_at;
};
struct store_list_entry {
    char entry[STORE_NAME_MAX];
};
#define STORE_LIST_ENTRIES_MAX 1000000 /* entries in one list at most */

/* How a channel's requests are decided (chat_id 0: the default for channels without their
 * own). approve_all approves at once (delay 0, per_hour 0), after delay_seconds, or at most
 * per_hour an hour. */
enum channel_mode { MODE_MANUAL = 0, MODE_RULES = 1, MODE_APPROVE_ALL = 2, MODE_COUNT };
const char *channel_mode_name(int mode); /* "manual", "rules", "approve_all" */
int channel_mode_parse(const char *s);   /* -1 for anything else */

struct store_mode {
    int64_t chat_id;
    int mode; /* enum channel_mode */
    int64_t delay_seconds;
    int64_t per_hour;
    int64_t updated_at;
    char via[STORE_NAME_MAX]; /* the account that decides by itself: "" the bot, or a session */
};

/* ---- deciding by rules (jobs/autodecide.h) ---- */

#define STORE_RULES_ADMIN "(rules)" /* jobs and audit entries of decisions the rules made */

/* DUE_RECHECK: judge again when a delay is over (jobs/judge.h); DUE_RETRY: judge again, a
 * check of the rules having failed (the blocklist service or Telegram did not answer). */
enum due_action { DUE_NONE = 0, DUE_APPROVE, DUE_DECLINE, DUE_BAN, DUE_RECHECK, DUE_RETRY };

/* What the rules (or the mode) said of a pending request, to record. */
struct store_verdict {
    int64_t request_id;
    int64_t rule_id;           /* 0: no rule (the mode spoke, or nothing matched) */
    char text[STORE_TEXT_MAX]; /* shown with the request; "" for none */
    int action;                /* enum due_action; DUE_NONE: stays pending */
    int64_t due_at;            /* when to act; with per_hour, the earliest */
    int64_t per_hour;          /* > 0: approvals of the channel paced at most this many an hour */
    /* the rule said "verify": a verification of the request begins (when it has none yet) with
     * this challenge (borrowed JSON text) and deadline; NULL: none */
    const char *challenge;
    int64_t verify_deadline;
};

/* Admins (admins.c). admin_create adds one with its role and granted channels (chats, n; only
 * for viewers and deciders) in one transaction; DM_EEXISTS if the name is taken. admin_list:
 * every admin by name, *out malloc'd, caller frees. */
dm_err store_admin_create(struct store *st, const char *name, const char *pw_hash, int role,
                          const int64_t *chats, size_t n, int64_t now, int64_t *id,
                          struct dm_error *err);
dm_err store_admin_get(struct store *st, const char *name, struct store_admin *out,
                       struct dm_error *err);
dm_err store_admin_count(struct store *st, int64_t *n, struct dm_error *err);
dm_err store_admin_list(struct store *st, struct store_admin **out, size_t *n,
                        struct dm_error *err);
/* Sets the admin's password hash and ends the admin's web sessions but the one whose token
 * digest is keep ("": every one), in one transaction; DM_ENOTFOUND for no such id. */
dm_err store_admin_set_password(struct store *st, int64_t id, const char *pw_hash, const char *keep,
                                struct dm_error *err);
/* Sets the admin's role and granted channels (replacing the ones before), revokes the admin's
 * API tokens (they were made under the old role) and ends the admin's web sessions, in one
 * transaction. admin_delete
 * removes the admin with its web sessions, tokens, grants and recovery codes. Both are
 * DM_ECONFLICT, changing nothing, when no owner would be left; DM_ENOTFOUND for no such id. */
dm_err store_admin_set_role(struct store *st, int64_t id, int role, const int64_t *chats, size_t n,
                            struct dm_error *err);
dm_err store_admin_delete(struct store *st, int64_t id, struct dm_error *err);
/* TOTP. totp_pending keeps a sealed secret shown to the admin until confirmed. totp_set makes
 * `sealed` the admin's secret ("" turns TOTP off), clears the pending one and the last step,
 * and replaces the recovery codes with the n digests given, in one transaction. totp_step
 * records that a code of `step` was accepted: *fresh is false when one of that step or a later
 * one was accepted before (a code is good once). recovery_use deletes the digest's code; *used
 * tells whether it was there. */
dm_err store_admin_totp_pending(struct store *st, int64_t id, const char *sealed,
                                struct dm_error *err);
dm_err store_admin_totp_set(struct store *st, int64_t id, const char *sealed,
                            const char *const *digests, size_t n, struct dm_error *err);
dm_err store_admin_totp_step(struct store *st, int64_t id, int64_t step, bool *fresh,
                             struct dm_error *err);
dm_err store_recovery_use(struct store *st, int64_t admin_id, const char *digest, bool *used,
                          struct dm_error *err);
/* The channels granted to scope, ascending; *out malloc'd (NULL when none), caller frees. */
dm_err store_grants(struct store *st, const char *scope, int64_t **out, size_t *n,
                    struct dm_error *err);
/* The first of ids whose request is in no channel granted to scope (*found false when every
 * one is, or names no request: those are job_create_ids' to refuse). */
dm_err store_requests_outside(struct store *st, const int64_t *ids, size_t n, const char *scope,
                              int64_t *first, bool *found, struct dm_error *err);

/* API tokens (admins.c). token_create records t (admin_id, name, token_hash, role, created_at)
 * with its granted channels in one transaction; DM_EEXISTS when the admin has a token of that
 * name. token_list: the admin's tokens (admin_id 0: everyone's) by id, *out malloc'd.
 * token_find reads the token with that digest (DM_ENOTFOUND). token_used sets last_used_at.
 * token_delete removes the token (and its grants) when it is the admin's (admin_id 0: anyone's);
 * DM_ENOTFOUND otherwise. */
dm_err store_token_create(struct store *st, const struct store_token *t, const int64_t *chats,
                          size_t n, int64_t *id, struct dm_error *err);
dm_err store_token_list(struct store *st, int64_t admin_id, struct store_token **out, size_t *n,
                        struct dm_error *err);
dm_err store_token_find(struct store *st, const char *token_hash, struct store_token *out,
                        struct dm_error *err);
dm_err store_token_used(struct store *st, int64_t id, int64_t now, struct dm_error *err);
dm_err store_token_delete(struct store *st, int64_t id, int64_t admin_id, struct dm_error *err);

dm_err store_websession_create(struct store *st, const struct store_websession *ws,
                               struct dm_error *err);
/* DM_ENOTFOUND when absent or expires_at <= now. */
dm_err store_websession_get(struct store *st, const char *token_hash, int64_t now,
                            struct store_websession *out, struct dm_error *err);
dm_err store_websession_delete(struct store *st, const char *token_hash, struct dm_error *err);

/* Values are text; *value is malloc'd and owned by the caller. */
dm_err store_setting_get(struct store *st, const char *key, char **value, struct dm_error *err);
dm_err store_setting_set(struct store *st, const char *key, const char *value,
                         struct dm_error *err);
dm_err store_setting_delete(struct store *st, const char *key, struct dm_error *err);
/* Deletes the setting and gives its value, in one statement: of two callers taking the same key
 * at once, one gets it and the other DM_ENOTFOUND (a one-time token). */
dm_err store_setting_take(struct store *st, const char *key, char **value, struct dm_error *err);

dm_err store_chat_get(struct store *st, int64_t chat_id, struct store_chat *out,
                      struct dm_error *err);
dm_err store_chat_put(struct store *st, const struct store_chat *c, struct dm_error *err);
/* Chats that have at least one request, ordered by title; *out malloc'd, caller frees. */
dm_err store_chat_list(struct store *st, struct store_chat **out, size_t *n, struct dm_error *err);

/* Records a join request. A request for the same (chat_id, user_id, tg_date) that is already
 * stored, or a second pending one for the same (chat_id, user_id), changes nothing and
 * *inserted is false: redelivery is idempotent; except that a pending request stored without
 * an invite link (a session is not told it) takes r's link when r has one (the bot is).
 * r->status and r->created_at are honoured; r->id is ignored. */
dm_err store_request_add(struct store *st, const struct store_request *r, bool *inserted,
                         struct dm_error *err);
/* Records n requests as store_request_add does, in one transaction (all or none) and a few
 * statements for all of them (one per MiB of requests, not one per request: the way to record
 * many); *inserted (may be NULL) gets how many were new. */
dm_err store_request_add_many(struct store *st, const struct store_request *r, size_t n,
                              size_t *inserted, struct dm_error *err);
dm_err store_request_get(struct store *st, int64_t id, struct store_request *out,
                         struct dm_error *err);
/* Newest first (id descending). before_id 0 = first page; else only ids < before_id.
 * out must hold `limit` records; *n is how many were filled. */
dm_err store_request_list(struct store *st, const struct store_request_filter *f, int64_t before_id,
                          int limit, struct store_request *out, int *n, struct dm_error *err);
/* counts[s] = requests matching f (its status ignored) with status s. */
dm_err store_request_counts(struct store *st, const struct store_request_filter *f,
                            int64_t counts[REQ_STATUS_COUNT], struct dm_error *err);
/* The same, reading at most cap + 1 matching requests when it has to read them (a search or a
 * date range; no filter or a chat alone is answered from kept totals, exactly): when more than
 * cap match, *exact is false and each count is only a lower bound. */
dm_err store_request_counts_upto(struct store *st, const struct store_request_filter *f,
                                 int64_t cap, int64_t counts[REQ_STATUS_COUNT], bool *exact,
                                 struct dm_error *err);
/* A request of a page as it is read (store_request_page): r is the store's, valid during the
 * call only (one record serves every row, so a page needs no memory per row, and it is not
 * cleared between rows: each text field holds its text and terminator, the bytes after that
 * are unspecified); fn must not call the store (the page's read is still under way). */
typedef void (*store_request_fn)(void *ctx, const struct store_request *r);
/* store_request_list's page, each request handed to fn(ctx, r) in page order, and, when counts
 * is not NULL, store_request_counts_upto's counts (cap, *exact (may be NULL)) with it, read
 * together: on PostgreSQL in one round trip (a second one when a search's first statement
 * leaves the page, or the page and the counts, to be read on their own; requests.c). Each
 * statement reads at its own moment, as the two calls would; past the cap, which matches the
 * counts counted may differ from store_request_counts_upto's (each is a lower bound). *n gets
 * how many requests fn was given; on an error fn may have been given some already, which the
 * caller drops. */
dm_err store_request_page(struct store *st, const struct store_request_filter *f, int64_t before_id,
                          int limit, store_request_fn fn, void *ctx, int *n, int64_t cap,
                          int64_t counts[REQ_STATUS_COUNT], bool *exact, struct dm_error *err);

/* The kept totals (no request is read): requests per channel and status, those above 0,
 * ordered by channel and status, at most max rows (DM_ETOOBIG past it); *out is malloc'd and
 * the caller frees it. For GET /metrics. */
struct store_request_total {
    int64_t chat_id;
    int status; /* enum request_status */
    int64_t n;
};
dm_err store_request_totals(struct store *st, size_t max, struct store_request_total **out,
                            size_t *n, struct dm_error *err);

/* Creates a queued job over the given request ids (unknown ids are an error: DM_ENOTFOUND
 * naming the first), or over every request matching the filter at this moment. job->kind,
 * via, admin, description are read; *id receives the new job's id. */
dm_err store_job_create_ids(struct store *st, const struct store_job *job, const int64_t *ids,
                            size_t n, int64_t now, int64_t *id, struct dm_error *err);
dm_err store_job_create_filter(struct store *st, const struct store_job *job,
                               const struct store_request_filter *f, int64_t now, int64_t *id,
                               struct dm_error *err);
dm_err store_job_get(struct store *st, int64_t id, struct store_job *out, struct dm_error *err);
/* Newest first; before_id as in request_list. job_list_of: only the jobs of the rules
 * (STORE_RULES_ADMIN), or only the admins'. */
dm_err store_job_list(struct store *st, int64_t before_id, int limit, struct store_job *out, int *n,
                      struct dm_error *err);
enum jobs_whose { JOBS_ALL = 0, JOBS_RULES, JOBS_ADMINS };
dm_err store_job_list_of(struct store *st, int whose, int64_t before_id, int limit,
                         struct store_job *out, int *n, struct dm_error *err);
/* The jobs admin (a job's `admin`, as recorded) started, newest first, as store_job_list. */
dm_err store_job_list_by(struct store *st, const char *admin, int64_t before_id, int limit,
                         struct store_job *out, int *n, struct dm_error *err);
/* How many jobs are queued and how many running. */
dm_err store_job_queue(struct store *st, int64_t *queued, int64_t *running, struct dm_error *err);
/* Takes the job with the fewest items left (the oldest among equals) that is queued, or
 * running with a lease that ended before now, for `owner` until lease_until, and marks it
 * running. DM_ENOTFOUND when there is none. */
dm_err store_job_claim(struct store *st, const char *owner, int64_t now, int64_t lease_until,
                       struct store_job *out, struct dm_error *err);
/* The same, passing over the jobs whose via is one of skip[0..n_skip) (the runner's lanes run
 * one job per via at a time: jobs/runner.h). */
dm_err store_job_claim_except(struct store *st, const char *owner, int64_t now, int64_t lease_until,
                              const char *const *skip, size_t n_skip, struct store_job *out,
                              struct dm_error *err);
/* What each account did in a job: its finished items by account (store_item.via), ordered by
 * name; items no account was asked about are not counted. At most max rows. */
struct store_job_account {
    char via[STORE_NAME_MAX];
    int64_t done, skipped, failed;
};
dm_err store_job_accounts(struct store *st, int64_t job_id, struct store_job_account *out, int max,
                          int *n, struct dm_error *err);
/* Extends the lease; DM_ECONFLICT when another owner holds the job now. */
dm_err store_job_renew(struct store *st, int64_t id, const char *owner, int64_t lease_until,
                       struct dm_error *err);
/* Up to `limit` items still ITEM_PENDING, in request id order, with request_id > after. */
dm_err store_job_next_items(struct store *st, int64_t job_id, int64_t after, int limit,
                            struct store_item *out, int *n, struct dm_error *err);
/* Records the outcomes of n items (one or more, of any jobs) in one transaction: each item,
 * its request (for ITEM_DONE: status approved/declined per the job kind, decided_at/by/via; for
 * ITEM_FAILED: last_error) and an audit entry, and each job's counters once. ITEM_SKIPPED with a
 * final_status for a request still pending here (Telegram said it was already handled) records
 * that status. An item already finished is left as it was. All or nothing: when one item
 * cannot be recorded (DM_ENOTFOUND: not in its job; DM_EINVAL: no outcome) none is. On
 * PostgreSQL the items and their requests are locked in the order given (give them in
 * request id order). The caller keeps items. */
dm_err store_job_items_finish(struct store *st, const struct store_item *items, size_t n,
                              int64_t now, struct dm_error *err);
/* Items of a job with the given outcome, in request id order (for showing errors). */
dm_err store_job_items(struct store *st, int64_t job_id, int outcome, int64_t after, int limit,
                       struct store_item *out, int *n, struct dm_error *err);
/* Shows that the job waits until wait_until (0 = not waiting) and why, in its error field
 * ("" clears it): a rate limit, or an account that cannot be used yet. */
dm_err store_job_set_wait(struct store *st, int64_t id, int64_t wait_until, const char *why,
                          struct dm_error *err);
/* Sets the final state (done, failed or cancelled), finished_at and error. Cancelling a job
 * that is queued or running is allowed from any owner; the worker sees it at its next
 * job_renew (DM_ECONFLICT). */
dm_err store_job_finish(struct store *st, int64_t id, int state, const char *error, int64_t now,
                        struct dm_error *err);

/* Load jobs: creates a queued JOB_LOAD job (job->via, admin, description, params read). */
dm_err store_job_create_load(struct store *st, const struct store_job *job, int64_t now,
                             int64_t *id, struct dm_error *err);
/* Records one page of a load job, read through account `via`, in one transaction: request_add
 * for each row (existing ones change nothing), each row's request noted as an item done by via
 * (store_job_accounts counts them; a request the job noted before, a row read again, is not
 * noted twice), then the job's cursor, done += the requests noted now (so done counts each
 * request once) and total = the given total (Telegram's count, capped by the caller), or done
 * when that is more. *counted (may be NULL) gets how many requests were noted now, *added (may
 * be NULL) how many rows were new to the store. DM_ECONFLICT when `owner` no longer holds the
 * job (cancelled or taken over): then nothing is recorded. */
dm_err store_job_load_page(struct store *st, int64_t job_id, const char *owner, const char *via,
                           const struct store_request *rows, size_t n, const char *cursor,
                           int64_t total, int64_t now, int64_t *counted, int64_t *added,
                           struct dm_error *err);

/* Decision jobs that decide a whole channel in one Telegram call (jobs/hide_all.h).
 * job_add_page records a page of the channel's pending requests read from Telegram in one
 * transaction: request_add for each row, an item in the job for each of them that is pending
 * here (total grows by the items added), and the job's cursor. DM_ECONFLICT when `owner` no
 * longer holds the job (cancelled or taken over): then nothing is recorded. */
dm_err store_job_add_page(struct store *st, int64_t job_id, const char *owner,
                          const struct store_request *rows, size_t n, const char *cursor,
                          int64_t now, struct dm_error *err);
/* Finishes every pending item of the job whose request is in chat_id, each as
 * job_items_finish would (request, counters, audit entry), and sets the job's cursor, in one
 * transaction. With ITEM_DONE and whole_chat every request of the chat still pending here
 * first becomes an item (requests recorded meanwhile are decided too: the job decided the
 * whole channel); requests no longer pending are skipped. With ITEM_FAILED, error says why.
 * *finished (may be NULL) gets how many items finished. DM_ECONFLICT as job_add_page. */
dm_err store_job_finish_chat(struct store *st, int64_t job_id, const char *owner, int64_t chat_id,
                             bool whole_chat, int outcome, const char *error, const char *cursor,
                             int64_t now, int64_t *finished, struct dm_error *err);

/* Sessions. session_add: DM_EEXISTS when the name is taken. session_update writes every
 * field but name and created_at. session_list: *out malloc'd, caller frees, by name. */
dm_err store_session_add(struct store *st, const struct store_session *s, struct dm_error *err);
dm_err store_session_get(struct store *st, const char *name, struct store_session *out,
                         struct dm_error *err);
dm_err store_session_list(struct store *st, struct store_session **out, size_t *n,
                          struct dm_error *err);
dm_err store_session_update(struct store *st, const struct store_session *s, struct dm_error *err);
dm_err store_session_delete(struct store *st, const char *name, struct dm_error *err);

/* An MTProto session's update state (telegram/updates.h): Telegram's pts, qts, seq and date
 * as the session last applied them, and whose account they are. */
struct store_update_state {
    int64_t account_id;
    int64_t pts, qts, seq, date;
};
/* session_updates_get: DM_ENOTFOUND when the session has none saved. session_updates_put
 * replaces it. */
dm_err store_session_updates_get(struct store *st, const char *name, struct store_update_state *out,
                                 struct dm_error *err);
dm_err store_session_updates_put(struct store *st, const char *name,
                                 const struct store_update_state *s, int64_t now,
                                 struct dm_error *err);

/* Logins in progress. login_put inserts or replaces by id; login_get is DM_ENOTFOUND when
 * absent or expires_at <= now; login_delete of an absent id is DM_OK. Expired logins are
 * removed by login_put. */
dm_err store_login_put(struct store *st, const struct store_login *l, int64_t now,
                       struct dm_error *err);
dm_err store_login_get(struct store *st, const char *id, int64_t now, struct store_login *out,
                       struct dm_error *err);
dm_err store_login_delete(struct store *st, const char *id, struct dm_error *err);

dm_err store_audit_add(struct store *st, const struct store_audit *a, struct dm_error *err);
/* Newest first; before_id as in request_list. */
dm_err store_audit_list(struct store *st, int64_t before_id, int limit, struct store_audit *out,
                        int *n, struct dm_error *err);

/* Named leases, each held by at most one owner at a time (several doorman processes on one
 * database: "bot_poller", "session:<name>"). lease_acquire takes the lease `name` for
 * `owner` until `until` when nobody holds it, its holder's time ended before now, or owner
 * holds it already (a renewal); *held tells whether owner holds it afterwards. Names are
 * cut to STORE_TEXT_MAX - 1 bytes, owners to STORE_NAME_MAX - 1. lease_release ends the
 * lease when owner holds it; otherwise nothing changes. */
dm_err store_lease_acquire(struct store *st, const char *name, const char *owner, int64_t now,
                           int64_t until, bool *held, struct dm_error *err);
dm_err store_lease_release(struct store *st, const char *name, const char *owner,
                           struct dm_error *err);
/* Whether anybody holds the lease `name` at `now` (its time has not ended). */
dm_err store_lease_held(struct store *st, const char *name, int64_t now, bool *held,
                        struct dm_error *err);
/* Ends everything `owner` holds: its named leases, and the leases of the jobs it was running
 * (they stay running, claimable at once). For a process starting again under the owner name of
 * one that died (app.c: the same data directory, which only one process holds at a time), so
 * it takes its work back now instead of after the leases run out. */
dm_err store_owner_forget(struct store *st, const char *owner, struct dm_error *err);

/* Rules. rule_list: the scope's rules (chat_id 0: the global ones) by position, *out
 * malloc'd, caller frees. rule_add appends r (its name, enabled, spec, chat_id) at the end of
 * its scope; DM_ETOOBIG past STORE_RULES_MAX. rule_update writes name, enabled and spec.
 * rule_delete closes the gap it leaves. rule_reorder sets the scope's order to ids, which
 * must name each of its rules once (DM_EINVAL otherwise, nothing changed). */
dm_err store_rule_list(struct store *st, int64_t chat_id, struct store_rule **out, size_t *n,
                       struct dm_error *err);
dm_err store_rule_get(struct store *st, int64_t id, struct store_rule *out, struct dm_error *err);
dm_err store_rule_add(struct store *st, const struct store_rule *r, int64_t now, int64_t *id,
                      struct dm_error *err);
dm_err store_rule_update(struct store *st, const struct store_rule *r, int64_t now,
                         struct dm_error *err);
dm_err store_rule_delete(struct store *st, int64_t id, struct dm_error *err);
dm_err store_rule_reorder(struct store *st, int64_t chat_id, const int64_t *ids, size_t n,
                          int64_t now, struct dm_error *err);

/* Lists. list_names: every list with its number of entries, by name, *out malloc'd.
 * list_write creates the list when absent and adds the entries (replace: instead of what it
 * held), in one transaction; DM_ETOOBIG past STORE_LIST_ENTRIES_MAX. list_entries: up to
 * limit entries after `after` ("" = from the start) in byte order. list_delete removes the
 * list and its entries; DM_ENOTFOUND when absent, DM_ECONFLICT naming the first rule whose spec
 * names it ({"type":"in_list","list":name}, as rules/rules.h writes it) while one does. */
dm_err store_list_names(struct store *st, struct store_list **out, size_t *n, struct dm_error *err);
dm_err store_list_get(struct store *st, const char *name, struct store_list *out,
                      struct dm_error *err);
dm_err store_list_write(struct store *st, const char *name, const char *const *entries, size_t n,
                        bool replace, int64_t now, struct dm_error *err);
dm_err store_list_entries(struct store *st, const char *name, const char *after, int limit,
                          struct store_list_entry *out, int *n, struct dm_error *err);
dm_err store_list_delete(struct store *st, const char *name, struct dm_error *err);

/* Modes. mode_get: DM_ENOTFOUND when chat_id has none of its own. mode_list: every one, the
 * default (chat_id 0) first, *out malloc'd. mode_delete of an absent mode is DM_OK. Setting or
 * deleting a mode also has the decisions its channel's old mode scheduled and not yet handed to
 * a job (delayed, paced) judged again under the new one (the default's: of every channel that
 * follows it), in the same transaction. */
dm_err store_mode_get(struct store *st, int64_t chat_id, struct store_mode *out,
                      struct dm_error *err);
dm_err store_mode_set(struct store *st, const struct store_mode *m, struct dm_error *err);
dm_err store_mode_delete(struct store *st, int64_t chat_id, struct dm_error *err);
dm_err store_mode_list(struct store *st, struct store_mode **out, size_t *n, struct dm_error *err);

/* A channel's requests of every status in arrival order (tg_date, then id) after the request
 * (after_date, after_id), up to limit, through the index on (chat_id, tg_date, id): what the
 * rules' dry run reads (waves and earlier declines are in the same order). */
dm_err store_request_scan(struct store *st, int64_t chat_id, int64_t after_date, int64_t after_id,
                          int limit, struct store_request *out, int *n, struct dm_error *err);

/* Rules' work. A request recorded pending is "unevaluated" until a verdict is recorded for it
 * (requests recorded decided are not). unevaluated: up to limit of them after `after`, in id
 * order. judging_due: requests whose DUE_RECHECK or DUE_RETRY (`action`) came due by now, by
 * due time. */
dm_err store_unevaluated(struct store *st, int64_t after, int limit, struct store_request *out,
                         int *n, struct dm_error *err);
dm_err store_judging_due(struct store *st, int action, int64_t now, int limit,
                         struct store_request *out, int *n, struct dm_error *err);
/* Records n verdicts in one transaction: each request's rule_id and verdict (a request no
 * longer pending keeps no due action), its due action replacing any before (DUE_NONE: none);
 * approvals with per_hour are given the channel's next free time in its pace (oldest first:
 * the order of v). With job_id (an apply job that owner holds: DM_ECONFLICT otherwise) each
 * request's item is finished done. */
dm_err store_verdicts_record(struct store *st, const struct store_verdict *v, size_t n,
                             int64_t job_id, const char *owner, int64_t now, struct dm_error *err);
/* Hands the due actions (due_at <= now, but rechecks and retries) over to decision jobs in one
 * transaction, up to limit: each (channel, action) joins the queued job of the rules that has them,
 * or a new one, through the channel's mode's account (STORE_RULES_ADMIN as admin; params
 * {"mode":"rules","chat_id":n}, with "ban":true for decline and ban). *handed gets how many;
 * *next_due the earliest due time left (0: none). */
dm_err store_due_dispatch(struct store *st, int64_t now, int limit, int64_t *handed,
                          int64_t *next_due, struct dm_error *err);
/* Requests of chat_id (through invite_link only, "" meaning none, when link is not NULL) with
 * tg_date in (from, to]. */
dm_err store_wave_count(struct store *st, int64_t chat_id, const char *link, int64_t from,
                        int64_t to, int64_t *n, struct dm_error *err);
/* Whether user_id has a declined request in chat_id; an approved one in another channel. */
dm_err store_user_declined(struct store *st, int64_t chat_id, int64_t user_id, bool *out,
                           struct dm_error *err);
dm_err store_user_member_elsewhere(struct store *st, int64_t chat_id, int64_t user_id, bool *out,
                                   struct dm_error *err);
/* Whether user_id has a request in chat_id that is pending, or was decided at `since` (unix
 * seconds) or later: the updates listener's test of a requester Telegram names as pending at
 * about `since` (one doorman decided since is no news either). */
dm_err store_user_known(struct store *st, int64_t chat_id, int64_t user_id, int64_t since,
                        bool *out, struct dm_error *err);
/* An admin's change to one request, with its audit entry a, in one transaction:
 * request_set_banned records an unban (banned false) or a ban; request_release gives a request
 * the rules held back to the admins (its rule and verdict cleared, the verdict then `note`):
 * DM_ENOTFOUND when it is not pending with a rule's verdict. */
dm_err store_request_set_banned(struct store *st, int64_t id, bool banned,
                                const struct store_audit *a, struct dm_error *err);
dm_err store_request_release(struct store *st, int64_t id, const char *note,
                             const struct store_audit *a, struct dm_error *err);
/* Calls fn(ctx) after every commit that recorded a new request (any thread; fn must be quick:
 * wake someone). One hook per store; NULL removes it. Set before the store is shared. */
void store_on_request_added(struct store *st, void (*fn)(void *ctx), void *ctx);

/* ---- join-request queries (Bot API 10.1; jobs/guard.h answers them) ----
 *
 * A request that came to doorman's bot as the channel's assigned join-request bot carries a
 * query, to answer before its deadline. Its life: open (recorded) -> sending (claimed by the
 * one process that answers it) -> answered | late (never sent: the deadline was too close) |
 * failed (Telegram refused, or no answer came); web_app: its Mini App was shown, the final
 * answer still to give. A late or failed query leaves the request pending for the rules'
 * ordinary way (or the admins), as Telegram does ("queued"). */
enum query_state {
    QUERY_OPEN = 0,
    QUERY_SENDING = 1,
    QUERY_ANSWERED = 2,
    QUERY_LATE = 3,
    QUERY_FAILED = 4,
    QUERY_WEB_APP = 5
};
/* "open", "sending", "answered", "late", "failed", "web_app". */
const char *query_state_name(int state);

#define STORE_QUERY_ID_MAX 65
struct store_query {
    int64_t request_id;
    char query_id[STORE_QUERY_ID_MAX];
    int64_t deadline_ms;    /* Unix milliseconds */
    int state;              /* enum query_state */
    char result[16];        /* the answer given: "approve", "decline", "queue", "web_app"; "" */
    int64_t answered_at_ms; /* when it was given, 0 before */
    char error[STORE_ERROR_MAX];
};

/* Records r (as store_request_add) and, in the same transaction, the query of the user's pending
 * request in that chat, unless it has one already: a redelivery keeps the first deadline. */
dm_err store_request_add_query(struct store *st, const struct store_request *r,
                               const char *query_id, int64_t deadline_ms, bool *inserted,
                               struct dm_error *err);
/* Of the requests ids[0..n) (ascending), those with an open query, in one transaction: each is
 * claimed (QUERY_SENDING) when its deadline_ms is after until_ms, else recorded late
 * (QUERY_LATE, result "queue", error late_why). out (room for n) gets them in ids' order with
 * their new state; *nout how many. Claiming is exactly once: among processes, one gets it. */
dm_err store_queries_claim(struct store *st, const int64_t *ids, size_t n, int64_t until_ms,
                           const char *late_why, struct store_query *out, size_t *nout,
                           struct dm_error *err);
/* Finishes a claimed query (QUERY_SENDING or QUERY_WEB_APP) as q: state, result,
 * answered_at_ms, error. In the same transaction: with decide REQ_APPROVED or REQ_DECLINED the
 * request, if still pending, is decided by STORE_RULES_ADMIN through "bot" at now and loses its
 * due action; with rejudge the rules judge it again (its ordinary way decides it); au (may be
 * NULL) is added to the audit log. DM_ECONFLICT, nothing changed, when the query is not
 * claimed (another process finished it). */
dm_err store_query_finish(struct store *st, const struct store_query *q, int decide, bool rejudge,
                          const struct store_audit *au, int64_t now, struct dm_error *err);
/* Claimed queries whose deadline_ms is before before_ms (a process stopped while answering
 * them) become failed with why, their requests judged again; *n gets how many. */
dm_err store_queries_sweep(struct store *st, int64_t before_ms, const char *why, int64_t *n,
                           struct dm_error *err);
/* The query of a request; DM_ENOTFOUND when it came without one. */
dm_err store_query_get(struct store *st, int64_t request_id, struct store_query *out,
                       struct dm_error *err);

/* ---- events and outgoing webhooks (alerts/alerts.h) ----
 *
 * An event is recorded in an outbox (table events) in the same transaction as what caused it
 * (a request recorded, a decision, a job finished, a session found invalid), or alone by the
 * code that sees it (a flood wait, a wave, the backlog, the daily summary): none is lost to a
 * restart. The alerts thread hands each event to the webhooks subscribed to its kind as
 * deliveries (event_fanout: the events leave the outbox in that transaction) and delivers them.
 * Only the kinds set by store_events_want are recorded (none until it is called): a doorman
 * without webhooks writes no events. */
enum event_kind {
    EV_REQUEST_NEW = 0, /* a join request was recorded pending */
    EV_DECISION,        /* a request was approved or declined (by whom, through which account) */
    EV_JOB_FINISHED,    /* a job ended done or cancelled */
    EV_JOB_FAILED,
    EV_SESSION_INVALID, /* a session became invalid (its reason in detail) */
    EV_FLOOD_WAIT,      /* Telegram made an account wait (amount: seconds) */
    EV_WAVE,            /* the rules caught a wave (amount: requests in its window) */
    EV_BACKLOG,         /* pending requests went over the threshold (amount: pending) */
    EV_SUMMARY,         /* the daily summary (detail: its numbers as JSON) */
    EV_TEST,            /* an owner's test delivery to one webhook (store_delivery_add) */
    EV_COUNT
};
/* "request.new", "request.decided", "job.finished", "job.failed", "session.invalid",
 * "flood_wait", "wave.caught", "backlog.over", "summary.daily", "test"; parse: -1 otherwise. */
const char *event_kind_name(int kind);
int event_kind_parse(const char *s);
#define EV_ALL ((1u << EV_COUNT) - 1)

struct store_event {
    int64_t id;
    int kind; /* enum event_kind */
    int64_t at;
    int64_t chat_id, request_id, user_id, job_id; /* 0 when not about one */
    int64_t amount;                               /* seconds, requests: as the kind says */
    char subject[STORE_NAME_MAX];                 /* who: an admin, a session, an account */
    char result[33];                              /* "approved", "declined", a job's state */
    char detail[STORE_TEXT_MAX];                  /* a reason, the via, the summary's JSON */
};

/* The kinds to record from now on (a mask of 1 << kind); thread-safe. */
void store_events_want(struct store *st, uint32_t mask);
/* Records e (its id ignored) when its kind is wanted; nothing otherwise. */
dm_err store_event_add(struct store *st, const struct store_event *e, struct dm_error *err);
/* The oldest events still in the outbox, up to limit. */
dm_err store_events_next(struct store *st, int limit, struct store_event *out, int *n,
                         struct dm_error *err);
/* Calls fn(ctx) after every commit that recorded an event (any thread; fn must be quick). One
 * hook per store; NULL removes it. */
void store_on_event(struct store *st, void (*fn)(void *ctx), void *ctx);

#define STORE_URL_MAX 1025
#define STORE_BODY_MAX 8192 /* a delivery's JSON body */

struct store_webhook {
    int64_t id;
    char url[STORE_URL_MAX]; /* http:// or https:// (checked by the caller) */
    char secret_sealed[256]; /* secret_seal() text of the signing secret: never shown */
    int64_t kinds;           /* mask of 1 << enum event_kind */
    bool enabled;
    char created_by[STORE_NAME_MAX];
    int64_t created_at, updated_at;
    int64_t pending; /* filled by webhook_list/get: deliveries waiting */
};

enum delivery_state { DELIVERY_PENDING = 0, DELIVERY_OK = 1, DELIVERY_FAILED = 2 };
const char *delivery_state_name(int state); /* "pending", "delivered", "failed" */

struct store_delivery {
    int64_t id;
    int64_t webhook_id;
    int64_t event_id; /* the event's id: the same for every webhook it went to */
    int kind;         /* enum event_kind */
    int state;        /* enum delivery_state */
    int attempts;
    int64_t next_at; /* while pending: not before */
    int http_status; /* of the last attempt; 0: no answer */
    char error[STORE_ERROR_MAX];
    int64_t created_at, updated_at;
    char body[STORE_BODY_MAX]; /* filled by delivery_due only */
};

/* Webhooks. webhook_add sets *id; webhook_update writes url, kinds, enabled (and the secret when
 * secret_sealed is not ""); webhook_delete removes its deliveries too. list: by id, *out
 * malloc'd. kinds_wanted: the kinds any enabled webhook subscribes to. */
dm_err store_webhook_add(struct store *st, const struct store_webhook *w, int64_t *id,
                         struct dm_error *err);
dm_err store_webhook_get(struct store *st, int64_t id, struct store_webhook *out,
                         struct dm_error *err);
dm_err store_webhook_list(struct store *st, struct store_webhook **out, size_t *n,
                          struct dm_error *err);
dm_err store_webhook_update(struct store *st, const struct store_webhook *w, struct dm_error *err);
dm_err store_webhook_delete(struct store *st, int64_t id, struct dm_error *err);
dm_err store_webhook_kinds_wanted(struct store *st, uint32_t *mask, struct dm_error *err);
#define STORE_WEBHOOKS_MAX 50

/* Moves n events out of the outbox in one transaction: for each, a delivery with bodies[i] to
 * every enabled webhook subscribed to its kind (none when bodies[i] is NULL: dropped), at now. */
dm_err store_events_fanout(struct store *st, const struct store_event *ev,
                           const char *const *bodies, size_t n, int64_t now, struct dm_error *err);
/* A delivery of body to one webhook, not from the outbox (event_id 0: an owner's test). */
dm_err store_delivery_add(struct store *st, int64_t webhook_id, int kind, const char *body,
                          int64_t now, int64_t *id, struct dm_error *err);
/* Pending deliveries whose time came (next_at <= now), oldest first, with their bodies. */
dm_err store_delivery_due(struct store *st, int64_t now, int limit, struct store_delivery *out,
                          int *n, struct dm_error *err);
/* Records an attempt: state, attempts, next_at, http_status and error of d, at now. */
dm_err store_delivery_record(struct store *st, const struct store_delivery *d, int64_t now,
                             struct dm_error *err);
/* Holds back the webhook's other pending deliveries until `until` at least (its receiver failed:
 * they wait with the one that failed, in their order, without counting an attempt). */
dm_err store_delivery_postpone(struct store *st, int64_t webhook_id, int64_t until,
                               struct dm_error *err);
/* A webhook's deliveries, newest first (before_id as in request_list), without bodies. */
dm_err store_delivery_list(struct store *st, int64_t webhook_id, int64_t before_id, int limit,
                           struct store_delivery *out, int *n, struct dm_error *err);
/* Removes finished deliveries last changed before `before`. */
dm_err store_delivery_prune(struct store *st, int64_t before, struct dm_error *err);
/* The earliest next_at of a pending delivery (0: none). */
dm_err store_delivery_next(struct store *st, int64_t *next_at, struct dm_error *err);

/* For the daily summary: requests recorded, approved and declined in [from, to), and pending
 * now (the kept totals). */
struct store_summary {
    int64_t recorded, approved, declined, pending;
};
dm_err store_summary(struct store *st, int64_t from, int64_t to, struct store_summary *out,
                     struct dm_error *err);
/* ---- invite links (api/links.c) ---- */

/* A channel's invite link as doorman last saw it: made or edited through the bot, listed
 * through a session (messages.getExportedChatInvites), or only named by requests that came
 * through it (known false: nothing else is known of it). */
struct store_link {
    int64_t chat_id;
    char link[STORE_LINK_MAX];
    char name[STORE_TEXT_MAX]; /* "" when it has none */
    int64_t creator_id;        /* Telegram's id of the admin who made it; 0 unknown */
    int64_t created_at;        /* Telegram's date of it; 0 unknown */
    int64_t expire_date;       /* 0: never */
    int64_t member_limit;      /* 0: none */
    bool creates_join_request;
    bool revoked;
    bool known;         /* saved by link_put (else only seen on requests) */
    int64_t updated_at; /* when it was saved */
    /* filled by link_list from the requests doorman holds: */
    int64_t pending;
    int64_t requests;
};
#define STORE_LINKS_MAX 10000 /* links listed for one channel at most */
/* link_put inserts or replaces the link (chat_id, link). link_list: the channel's saved links,
 * then links named only by its requests, each with its requests' counts; saved ones by
 * created_at, newest first; *out malloc'd, caller frees. */
dm_err store_link_put(struct store *st, const struct store_link *l, int64_t now,
                      struct dm_error *err);
dm_err store_link_list(struct store *st, int64_t chat_id, struct store_link **out, size_t *n,
                       struct dm_error *err);

/* ---- access hashes a session learned (telegram/pool.h) ---- */

/* peer_put saves (or replaces) the access hash of channel_id (its MTProto id) as session learned
 * it; the session must exist (DM_ENOTFOUND otherwise), and its hashes go when it is deleted.
 * peer_get reads it into *hash; DM_ENOTFOUND when the session has none for that channel. */
dm_err store_peer_put(struct store *st, const char *session, int64_t channel_id, int64_t hash,
                      int64_t now, struct dm_error *err);
dm_err store_peer_get(struct store *st, const char *session, int64_t channel_id, int64_t *hash,
                      struct dm_error *err);
/* The session's hashes by channel id, at most STORE_PEERS_MAX (DM_ETOOBIG past it); *out
 * malloc'd (NULL when none), the caller frees. */
struct store_peer {
    int64_t channel_id;
    int64_t access_hash;
};
#define STORE_PEERS_MAX 100000
dm_err store_peer_list(struct store *st, const char *session, struct store_peer **out, size_t *n,
                       struct dm_error *err);

/* A decision made in Telegram by someone other than doorman (another admin in the app; noticed
 * from the admin log): the channel's request of user_id here that is pending, or that was
 * recorded decided in Telegram by nobody known (a job told "already handled", which says
 * neither who nor how: jobs.c records the job's kind as its status), becomes `status`, decided_at
 * `at`, decided_by `by` (who decided, as Telegram names them: "" when it did not say), decided_via
 * STORE_VIA_TELEGRAM, with an audit entry (action approve or decline, via STORE_VIA_TELEGRAM,
 * result "ok", detail "decided in Telegram[ by <by>]"), in one transaction. *request_id (may be
 * NULL) gets the request's id, 0 when none was pending (nothing changes then). */
#define STORE_VIA_TELEGRAM "(telegram)"
/* Up to limit pending requests of chat_id with ids above after and tg_date before `before`, in id
 * order, that no job still to finish (queued or running) holds as an item (id and user_id
 * filled): those a sweep may take for decided in Telegram when Telegram no longer lists them. */
dm_err store_pending_unheld(struct store *st, int64_t chat_id, int64_t after, int64_t before,
                            int limit, struct store_request *out, int *n, struct dm_error *err);
dm_err store_request_decided_in_telegram(struct store *st, int64_t chat_id, int64_t user_id,
                                         int status, const char *by, int64_t at,
                                         int64_t *request_id, struct dm_error *err);
/* ---- verification (verify/verification.h says what the steps mean) ---- */

/* A channel's challenge (chat_id 0: the default for channels without their own), its spec the
 * JSON text verify/challenge.h reads. challenge_get: DM_ENOTFOUND when chat_id has none of its
 * own; challenge_of: the channel's, else the default's (DM_ENOTFOUND when neither);
 * challenge_delete of an absent one is DM_OK. */
struct store_challenge {
    int64_t chat_id;
    char spec[STORE_CHALLENGE_MAX];
    int64_t updated_at;
};
dm_err store_challenge_get(struct store *st, int64_t chat_id, struct store_challenge *out,
                           struct dm_error *err);
dm_err store_challenge_of(struct store *st, int64_t chat_id, struct store_challenge *out,
                          struct dm_error *err);
dm_err store_challenge_set(struct store *st, const struct store_challenge *c, struct dm_error *err);
/* Request request_id (DM_ENOTFOUND when there is none) and challenge_of(chat_id) in *ch
 * (*has_ch false when there is none), read together: one round trip on PostgreSQL. */
dm_err store_request_challenge(struct store *st, int64_t request_id, int64_t chat_id,
                               struct store_request *r, struct store_challenge *ch, bool *has_ch,
                               struct dm_error *err);
dm_err store_challenge_delete(struct store *st, int64_t chat_id, struct dm_error *err);
/* Every challenge, the default first; *out malloc'd, owned by the caller. */
dm_err store_challenge_list(struct store *st, struct store_challenge **out, size_t *n,
                            struct dm_error *err);

/* A verification's states: created (the rules asked for it, nothing sent yet), sent (its Mini
 * App URL handed to Telegram), opened (the applicant's launch data checked), answered, and the
 * three ends. States below VERIFY_PASSED are open: their deadline counts. */
enum verify_state {
    VERIFY_CREATED = 0,
    VERIFY_SENT,
    VERIFY_OPENED,
    VERIFY_ANSWERED,
    VERIFY_PASSED,
    VERIFY_FAILED,
    VERIFY_TIMED_OUT,
    VERIFY_STATE_COUNT
};
/* "created", "sent", "opened", "answered", "passed", "failed", "timed_out" */
const char *verify_state_name(int state);

/* One per request: what the applicant was asked and has done. */
struct store_verification {
    int64_t request_id, chat_id, user_id;
    int state; /* enum verify_state */
    int64_t deadline;
    int attempts;                   /* wrong captcha answers so far */
    char answer[STORE_ANSWER_MAX];  /* the applicant's free text, "" none */
    char captcha[16];               /* the digits the current captcha shows, "" none */
    char spec[STORE_CHALLENGE_MAX]; /* the challenge as it stood when the verification began */
    char lang[STORE_LANG_MAX];      /* the applicant's language_code, from its launch data */
    char launch[65];                /* the hash of the launch data that opened it, "" none */
    int64_t created_at, updated_at;
    /* brought as a private message with inline buttons (jobs/dm_challenge.h): the message's id
     * (0: none sent), the key its buttons' callback data are signed with ("": the Mini App's
     * delivery), and the state the message shows (-1: none yet) */
    int64_t dm_message_id;
    char dm_key[65];
    int dm_shown;
};

/* verification_get: DM_ENOTFOUND when the request has none. */
dm_err store_verification_get(struct store *st, int64_t request_id, struct store_verification *out,
                              struct dm_error *err);
/* Writes v's state, deadline, attempts, answer, captcha, lang and launch (updated_at = now) when
 * its state is one of the bits of `from` (1 << state), in one transaction with the audit entry au
 * (may be NULL) and, when verdict is not NULL, the request's verdict and due action as
 * store_verdicts_record records them. DM_ECONFLICT when its state is not in `from` any more
 * (another step came first: nothing changed), DM_ENOTFOUND when there is none. */
dm_err store_verification_step(struct store *st, const struct store_verification *v, unsigned from,
                               int64_t now, const struct store_verdict *verdict,
                               const struct store_audit *au, struct dm_error *err);
/* Open verifications whose deadline is at or before now, earliest first, up to limit;
 * *next the earliest deadline of those left open after them (0: none). */
dm_err store_verifications_expired(struct store *st, int64_t now, int limit,
                                   struct store_verification *out, int *n, struct dm_error *err);
dm_err store_verification_next_deadline(struct store *st, int64_t *next, struct dm_error *err);
/* Verifications still created (nothing sent yet) whose request is pending and was asked at or
 * after since, oldest first, up to limit; lang holds the request's language_code (the Bot API's,
 * "" when unknown). */
dm_err store_verifications_unsent(struct store *st, int64_t since, int limit,
                                  struct store_verification *out, int *n, struct dm_error *err);
/* Records that the verification's message shows state (message_id: the message, when not 0). */
dm_err store_verification_shown(struct store *st, int64_t request_id, int state, int64_t message_id,
                                struct dm_error *err);
/* Verifications brought with inline buttons, updated at or after since, whose message does not
 * show their state (but answered, which ends at once), up to limit. */
dm_err store_verifications_dm_stale(struct store *st, int64_t since, int limit,
                                    struct store_verification *out, int *n, struct dm_error *err);
/* Claims the message that follows request_id's decision (jobs/notice.h): *claimed is true for
 * the first caller only. */
dm_err store_request_notify_claim(struct store *st, int64_t request_id, bool *claimed,
                                  struct dm_error *err);
/* How many verifications user_id failed in chat_id. */
dm_err store_verification_failures(struct store *st, int64_t chat_id, int64_t user_id, int64_t *n,
                                   struct dm_error *err);
/* Marks launch data (its hash, hex) used until expires_at, forgetting those expired by now:
 * DM_EEXISTS when it was used before (a replay). */
dm_err store_webapp_nonce_use(struct store *st, const char *hash, int64_t expires_at, int64_t now,
                              struct dm_error *err);

/* Opens the backend named by url: "sqlite:PATH" or a bare path (SQLite), or
 * "postgresql://…" / "postgres://…" (PostgreSQL).
 * Unknown schemes are DM_EINVAL with a message. */
dm_err store_open(const char *url, struct store **out, struct dm_error *err);
void store_close(struct store *st);

/* Gives back memory the store keeps for speed and does not need while quiet; for one thread
 * (the process's idle pass, app.c: every DOORMAN_IDLE_S seconds). On SQLite: the page caches
 * of the connections free at that moment, and the readers not taken since the previous call
 * are closed (the next read opens one again). A connection in use is left alone. Nothing
 * changes in what the store answers; PostgreSQL's pool is left as it is. Returns how many
 * connections it closed. */
int store_release_idle(struct store *st);

#endif
