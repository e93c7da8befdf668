/* judge.h: the verdicts of a channel's mode and rules over requests as they stand in the store
 * (rules/rules.h evaluated with a live context: waves and earlier declines counted in the
 * store), ready to record with store_verdicts_record. The arrival path (autodecide.h) and the
 * apply job (a channel's backlog) both judge through here.
 *
 * What each mode says of a pending request:
 *   manual       nothing (no verdict, stays pending), unless the judge applies the rules anyway
 *                (an apply job: the admin asked for them)
 *   rules        the first rule that holds: approve, decline, decline and ban at once; hold
 *                (stays pending, tagged); approve_after: checked again when its delay is over
 *                (counted from when doorman recorded it), when requests that came after it count in
 * its waves too, so the first requests of a wave are caught with the rest; no rule: stays pending
 * for the admins approve_all  approve at once, after the mode's delay, or paced per_hour (oldest
 * first)
 *
 * verify (rules): stays pending while a verification with the channel's challenge (its own, else
 * the default) runs (verify/verification.h), begun when the verdict is recorded; without a
 * challenge, or for a request too old for its applicant to be reached (jobs/deliver.h), it stays
 * pending for the admins, the verdict saying why.
 *
 * has_photo asks Telegram through the mode's account (the bot unless the mode names a session),
 * on_blocklist the blocklist service when it is set (JUDGE_BLOCKLIST_SETTING; when it is not, the
 * condition is unknown and its rule does not hold: rules.h). When the asking fails (the service
 * or Telegram does not answer, a flood wait), no later rule decides: the request stays pending
 * with a verdict saying so and is judged again JUDGE_RETRY_S later (DUE_RETRY), until the check
 * can be made — a failed check never lets a request through to a later "approve".
 *
 * Ownership: a judge borrows the store and accounts, which must outlive it; it owns the rule
 * sets and accounts it opened and the settings it read (again at judge_reset, so edits count
 * from the next batch). One thread at a time. */
#ifndef DM_JOBS_JUDGE_H
#define DM_JOBS_JUDGE_H

#include "core/common.h"
#include "store/store.h"

struct judge;

/* The setting naming the blocklist service (CAS's interface, blocklist/cas.h) that on_blocklist
 * asks; absent or "": off, and on_blocklist is unknown. */
#define JUDGE_BLOCKLIST_SETTING "blocklist_url"
#define JUDGE_RETRY_S 60 /* seconds before judging again after a check failed */

/* as: the accounts has_photo asks Telegram through (the channel's mode's). rules_always: judge
 * channels in manual mode by their rules (an apply job). */
struct accounts;
dm_err judge_new(struct store *st, const struct accounts *as, bool rules_always, struct judge **out,
                 struct dm_error *err);
void judge_free(struct judge *j);
/* Forgets the loaded modes and rule sets (call between batches). */
void judge_reset(struct judge *j);
/* The verdict of r at `now` into *out. recheck: r's delayed approval came due (see above).
 * DM_ENOMEM, or the store's error reading the channel's mode or rules (a stored rule that no
 * longer compiles names itself). */
dm_err judge_request(struct judge *j, const struct store_request *r, bool recheck, int64_t now,
                     struct store_verdict *out, struct dm_error *err);

#endif
