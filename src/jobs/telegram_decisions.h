/* telegram_decisions.h: noticing the decisions other admins made in the Telegram app.
 *
 * Through a session, a channel's admin log holds its joins by request with the admin who
 * approved each (channelAdminLogEventActionParticipantJoinByRequest, approved_by). A check
 * reads the events newer than the last one it saw (kept in the setting
 * "tg_decisions:<chat_id>"), newest first, page by page back to that one, and records each
 * join whose request is still pending here as approved in Telegram by that admin
 * (store_request_decided_in_telegram: decided_via STORE_VIA_TELEGRAM, with an audit entry).
 * Declines leave no event: those are found by tg_decisions_sweep (below) or when deciding
 * (Telegram's HIDE_REQUESTER_MISSING, jobs/runner.c).
 *
 * Idempotent: an event seen twice finds its request decided already and changes nothing. */
#ifndef DM_JOBS_TELEGRAM_DECISIONS_H
#define DM_JOBS_TELEGRAM_DECISIONS_H

#include "core/common.h"
#include "store/store.h"
#include "telegram/account.h"

#define TG_DECISIONS_PAGES 50 /* admin-log pages read at most in one check (5,000 events) */

struct tg_decisions_result {
    int64_t events;   /* joins by request read */
    int64_t recorded; /* requests recorded decided in Telegram */
};

/* Checks channel chat_id through `account` (one that account_lists_pending: a session).
 * Telegram's failures fill *te; the store's are TG_LOCAL ones. */
dm_err tg_decisions_check(struct store *st, struct account *account, int64_t chat_id,
                          struct tg_decisions_result *out, struct tg_error *te);

/* Everything decided in Telegram since the last look: the approvals from the admin log
 * (tg_decisions_check) and the declines, which leave no event. When Telegram lists fewer pending
 * requests of the channel than doorman holds pending, and at most TG_SWEEP_MAX, its whole
 * pending list is read through `account` first and the admin log after it, so that every
 * approval made before the list was read is recorded as one; a request still pending here that
 * the list does not hold, asked before the list was read and not held by a job still to finish
 * (whose decision may be under way), was then declined in Telegram. It is recorded declined in
 * Telegram by nobody known. out's counts are added to (the check's and the declines'). */
#define TG_SWEEP_MAX 5000
dm_err tg_decisions_sweep(struct store *st, struct account *account, int64_t chat_id,
                          struct tg_decisions_result *out, struct tg_error *te);

/* The periodic check: one thread per process; among processes on one database the one holding
 * the lease "tg_decisions" works. Every interval_s seconds each channel with pending requests is
 * checked through the first active user session that can read its admin log (sessions by name;
 * one refused, e.g. not an admin there, makes way for the next) with tg_decisions_sweep. store
 * and accounts are borrowed and must outlive it; owner is copied. interval_s 0: no thread
 * (tg_watch_start gives NULL). */
struct accounts;
struct tg_watch;
struct tg_watch_config {
    struct store *store;
    const struct accounts *accounts;
    const char *owner;
    unsigned interval_s;
};
dm_err tg_watch_start(const struct tg_watch_config *cfg, struct tg_watch **out,
                      struct dm_error *err);
/* Ends the check under way, then stops. NULL is allowed. */
void tg_watch_stop(struct tg_watch *w);

#endif
