/* metrics.h: the counters doorman keeps in its process for GET /metrics (docs/operations.md,
 * Metrics), and the writer of Prometheus' text exposition format (version 0.0.4).
 *
 * Counting is lock-free and safe from any thread at any time, also before anything is started:
 * the counters are process-wide atomics that start at 0 and only grow. A layer counts what it
 * sees where it sees it (http/server.c every answer, store/db.c every failed statement,
 * jobs/runner.c every finished job item and flood pause); the API writes them out, together
 * with the families it reads from the store when asked (api/metrics.c), using the helpers
 * below for the format. */
#ifndef DM_CORE_METRICS_H
#define DM_CORE_METRICS_H

#include "core/buf.h"
#include "core/common.h"

/* The most distinct series of doorman_decisions_total (account, action, result) and of
 * doorman_mtproto_calls_total (session, outcome); once all but 16 are taken, a new series is
 * counted under account (session) "(other)". */
#define METRICS_DECISION_SERIES 256
#define METRICS_ACCOUNT_MAX 65 /* an account name: 64 bytes + NUL */

enum metrics_store_error { METRICS_STORE_DATABASE, METRICS_STORE_UNAVAILABLE, METRICS_STORE_KINDS };

/* One answer sent: its status and how long it took from its headers' arrival, in microseconds. */
void metrics_http_answer(int status, int64_t micros);
/* One failed store statement or transaction (DM_EDB: database; DM_EUNAVAILABLE: unavailable,
 * i.e. busy, locked or out of reach). */
void metrics_store_error(enum metrics_store_error kind);
/* One pause of a job's decisions for a flood wait Telegram asked for. */
void metrics_ratelimit_pause(void);
/* One job item finished. account is the job's account ("bot" or a session name; copied, cut
 * at 64 bytes); action and result are string literals ("approve", "done"), kept by pointer. */
void metrics_decision(const char *account, const char *action, const char *result);

/* One MTProto call through session `session` (copied, cut at 64 bytes; series as decisions'),
 * with its outcome: a string literal ("OK", or the kind of failure: tg_error.h's names). */
void metrics_mtproto_call(const char *session, const char *outcome);

/* Appends every family kept here, each with its HELP and TYPE lines. */
dm_err metrics_write(struct buf *out);

/* Format helpers for families computed elsewhere. metrics_family writes the HELP and TYPE
 * lines (type "counter" or "gauge"); metrics_label appends `name="value"` with the value
 * escaped as the format asks (backslash, double quote, newline). */
dm_err metrics_family(struct buf *out, const char *name, const char *type, const char *help);
dm_err metrics_label(struct buf *out, const char *name, const char *value);

#endif
