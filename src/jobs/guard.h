/* guard.h: guard mode: answering the join-request queries (Bot API 10.1, botapi/join_query.h)
 * that come to doorman's bot when a channel made it its join-request bot.
 *
 * The rules' thread (autodecide.h) judges a request with a query the moment it is recorded, as
 * any other, and before recording the verdicts hands the batch to guard_take, which claims each
 * open query in the store (exactly once among processes: store_queries_claim) and picks its
 * answer:
 *   approve, decline, decline and ban, due at once  -> the same through the query (the verdict's
 *                                                      due action is dropped: the query decides)
 *   verify (a verification begun)                   -> its Mini App through the query
 *                                                      (sendChatJoinRequestWebApp, with
 *                                                      verification_start's URL); queue without one
 *   anything else (hold, approve after a delay,     -> queue: the request stays pending for the
 *   paced, a check to retry, no rule, manual mode)     rules' later decision or the admins
 * guard_go then gives the claimed answers to the guard's workers, which answer in parallel (up to
 * GUARD_WORKERS, started as answers come: a doorman that answers none keeps none).
 *
 * A late answer is never sent: a query whose deadline is less than GUARD_MARGIN_MS away when it
 * is claimed or about to be sent is recorded late (queued, as Telegram then treats it). When an
 * answer cannot be given (late, Telegram refused it, no answer came), the request is judged
 * again, so a decision the query did not make is made the ordinary way (a decision job through
 * the channel's account; Telegram answers "already handled" if it had taken the answer after
 * all). Each answer and each late or failed one is in the audit log, by STORE_RULES_ADMIN through
 * "bot", its detail starting "join-request query". A query claimed by a process that stopped
 * before finishing it is closed by guard_sweep once its deadline is GUARD_SWEEP_MS past, and its
 * request judged again: it is never answered twice.
 *
 * Ownership: a guard borrows the store and the accounts (their bot answers), which must outlive
 * it. guard_take, guard_go and guard_sweep are for one thread (the rules' thread); the four
 * answers are for any thread. */
#ifndef DM_JOBS_GUARD_H
#define DM_JOBS_GUARD_H

#include "core/common.h"
#include "store/store.h"

struct accounts;
struct guard;

#define GUARD_MARGIN_MS 1500 /* an answer is sent only this long before the deadline, or more */
#define GUARD_SWEEP_MS 5000  /* a claimed query this long past its deadline was abandoned */
#define GUARD_WORKERS 16     /* answers in flight at once */
#define GUARD_QUEUE_MAX 4096 /* claimed answers waiting for a worker */

struct guard_config {
    struct store *store;
    const struct accounts *accounts;
    const char *public_url; /* borrowed: the verification Mini App's base (verify/verification.h) */
};
dm_err guard_start(const struct guard_config *cfg, struct guard **out, struct dm_error *err);
/* Lets the answers in flight end (each within its query's deadline), drops those waiting (the
 * sweep of a later run closes them), then frees g. NULL is allowed. */
void guard_stop(struct guard *g);

/* A claimed query and the request it is about. */
struct guard_query {
    struct store_query q; /* q.state QUERY_SENDING (or QUERY_WEB_APP for a final answer) */
    int64_t chat_id;
    int64_t user_id;
    char verdict[STORE_TEXT_MAX]; /* the rules' verdict, for the audit entry; "" for none */
};

/* Of the judged rows[0..n) with verdicts v, claims the open queries (see above) and keeps their
 * answers for guard_go; v[i].action becomes DUE_NONE where the query will decide. Call before
 * recording v. Queries found late are recorded so here. A store failure claims nothing. */
dm_err guard_take(struct guard *g, const struct store_request *rows, struct store_verdict *v, int n,
                  struct dm_error *err);
/* Hands what guard_take kept to the workers (after the verdicts were recorded). */
void guard_go(struct guard *g);
/* Closes the queries claimed and abandoned (see above). */
dm_err guard_sweep(struct guard *g, struct dm_error *err);

/* The answers, one function per kind, each for a claimed query: it checks the deadline (a late
 * answer is recorded, not sent), calls Telegram through the bot and records the outcome with its
 * audit entry (store_query_finish). guard_decline with ban bans the user after the decline, as
 * the rules' "decline and ban" does (through the bot). guard_web_app shows the applicant the Mini
 * App at url (sendChatJoinRequestWebApp): the query then waits for guard_approve, guard_decline
 * or guard_queue, with no deadline of its own (tgsim's assumption: Telegram documents none).
 * DM_OK when Telegram took the answer; otherwise the error (the outcome is recorded anyway). */
dm_err guard_approve(struct guard *g, const struct guard_query *gq);
dm_err guard_decline(struct guard *g, const struct guard_query *gq, bool ban);
dm_err guard_queue(struct guard *g, const struct guard_query *gq);
dm_err guard_web_app(struct guard *g, const struct guard_query *gq, const char *url);

#endif
