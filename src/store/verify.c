/* verify.c: what the store keeps for verification (store.h, "verification"): each channel's
 * challenge, each request's verification and its steps, and the Mini App launches used. */
#include "core/common.h"

#include "store/db.h"
#include "store/job_tx.h"
#include "store/rows.h"

#define CHALLENGES_MAX 100000

static const char *const state_names[VERIFY_STATE_COUNT] = {
    "created", "sent", "opened", "answered", "passed", "failed", "timed_out"};

const char *verify_state_name(int state)
{
    return state >= 0 && state < VERIFY_STATE_COUNT ? state_names[state] : "none";
}

/* ---- challenges ---- */

dm_err store_challenge_get(struct store *st, int64_t chat_id, struct store_challenge *out,
                           struct dm_error *err)
{
    return db_read_id(st, S_CHALLENGE_GET, chat_id, row_challenge, out, "challenge for the channel",
                      err);
}

dm_err store_challenge_of(struct store *st, int64_t chat_id, struct store_challenge *out,
                          struct dm_error *err)
{
    return db_read_id(st, S_CHALLENGE_OF, chat_id, row_challenge, out, "challenge for the channel",
                      err);
}

dm_err store_request_challenge(struct store *st, int64_t request_id, int64_t chat_id,
                               struct store_request *r, struct store_challenge *ch, bool *has_ch,
                               struct dm_error *err)
{
    struct db_args ra, ca;
    args_init(&ra);
    arg_int(&ra, request_id);
    args_init(&ca);
    arg_int(&ca, chat_id);
    struct db_stmt rs = db_stmt_of(st, S_REQUEST_GET), cs = db_stmt_of(st, S_CHALLENGE_OF);
    struct db_collect rc = {.fn = row_request, .out = (char *)r, .size = sizeof *r, .limit = 1};
    struct db_collect cc = {.fn = row_challenge, .out = (char *)ch, .size = sizeof *ch, .limit = 1};
    struct db_read reads[] = {{&rs, &ra, db_collect_row, &rc}, {&cs, &ca, db_collect_row, &cc}};
    dm_err e = db_read_many(st, reads, 2, err);
    *has_ch = !e && cc.n == 1;
    if (!e && rc.n == 0)
        e = dm_fail(err, DM_ENOTFOUND, "no join request with id %" PRId64, request_id);
    return e;
}

dm_err store_challenge_set(struct store *st, const struct store_challenge *c, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, c->chat_id);
    arg_ref(&a, c->spec); /* by reference: larger than the arguments' room for copies */
    arg_int(&a, c->updated_at);
    return db_exec(st, S_CHALLENGE_SET, &a, NULL, err);
}

dm_err store_challenge_delete(struct store *st, int64_t chat_id, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    return db_exec(st, S_CHALLENGE_DELETE, &a, NULL, err);
}

dm_err store_challenge_list(struct store *st, struct store_challenge **out, size_t *n,
                            struct dm_error *err)
{
    void *v = NULL;
    dm_err e = db_read_all(st, S_CHALLENGE_LIST, NULL, row_challenge, sizeof **out, CHALLENGES_MAX,
                           "challenges are stored", &v, n, err);
    if (!e) *out = v;
    return e;
}

/* ---- verifications ---- */

dm_err store_verification_get(struct store *st, int64_t request_id, struct store_verification *out,
                              struct dm_error *err)
{
    return db_read_id(st, S_VERIFICATION_GET, request_id, row_verification, out,
                      "verification of the join request", err);
}

dm_err store_verification_step(struct store *st, const struct store_verification *v, unsigned from,
                               int64_t now, const struct store_verdict *verdict,
                               const struct store_audit *au, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, v->request_id);
    arg_int(&a, v->state);
    arg_int(&a, v->deadline);
    arg_int(&a, v->attempts);
    arg_text(&a, v->answer, sizeof v->answer);
    arg_text(&a, v->captcha, sizeof v->captcha);
    arg_text(&a, v->lang, sizeof v->lang);
    arg_text(&a, v->launch, sizeof v->launch);
    arg_int(&a, now);
    arg_int(&a, (int64_t)from);
    arg_int(&a, v->dm_message_id);
    arg_text(&a, v->dm_key, sizeof v->dm_key);
    struct tx tx;
    int64_t chat_id = 0;
    bool found = false, pending = false;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_read_one(&tx, S_VERIFICATION_STEP, &a, row_int0, &chat_id, &found, err);
    if (!e && !found) {
        struct db_args k;
        args_init(&k);
        arg_int(&k, v->request_id);
        struct store_verification *now_v = malloc(sizeof *now_v);
        e = now_v ? tx_read_one(&tx, S_VERIFICATION_GET, &k, row_verification, now_v, &found, err)
                  : dm_fail(err, DM_ENOMEM, "out of memory");
        if (!e)
            e = found ? dm_fail(err, DM_ECONFLICT, "the verification is %s already",
                                verify_state_name(now_v->state))
                      : dm_fail(err, DM_ENOTFOUND, "no verification of join request %" PRId64,
                                v->request_id);
        free(now_v);
    }
    if (!e && verdict) e = verdicts_tx_record(&tx, verdict, 1, &pending, err);
    if (!e && au) e = tx_audit(&tx, au, err);
    return tx_close(&tx, e, err);
}

dm_err store_verifications_expired(struct store *st, int64_t now, int limit,
                                   struct store_verification *out, int *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, now);
    arg_int(&a, limit);
    struct db_stmt s = db_stmt_of(st, S_VERIFICATION_EXPIRED);
    return db_read(st, &s, &a, row_verification, out, sizeof *out, limit, n, err);
}

dm_err store_verifications_unsent(struct store *st, int64_t since, int limit,
                                  struct store_verification *out, int *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, since);
    arg_int(&a, limit);
    struct db_stmt s = db_stmt_of(st, S_VERIFICATION_UNSENT);
    return db_read(st, &s, &a, row_verification, out, sizeof *out, limit, n, err);
}

dm_err store_verification_shown(struct store *st, int64_t request_id, int state, int64_t message_id,
                                struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, request_id);
    arg_int(&a, state);
    arg_int(&a, message_id);
    return db_exec(st, S_VERIFICATION_SHOWN, &a, NULL, err);
}

dm_err store_verifications_dm_stale(struct store *st, int64_t since, int limit,
                                    struct store_verification *out, int *n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, since);
    arg_int(&a, limit);
    struct db_stmt s = db_stmt_of(st, S_VERIFICATION_DM_STALE);
    return db_read(st, &s, &a, row_verification, out, sizeof *out, limit, n, err);
}

dm_err store_request_notify_claim(struct store *st, int64_t request_id, bool *claimed,
                                  struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, request_id);
    int64_t changes = 0;
    dm_err e = db_exec(st, S_REQUEST_NOTIFY_CLAIM, &a, &changes, err);
    *claimed = !e && changes == 1;
    return e;
}

dm_err store_verification_next_deadline(struct store *st, int64_t *next, struct dm_error *err)
{
    *next = 0;
    return db_read_one(st, S_VERIFICATION_NEXT, NULL, row_int0, next, "a deadline", err);
}

dm_err store_verification_failures(struct store *st, int64_t chat_id, int64_t user_id, int64_t *n,
                                   struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, chat_id);
    arg_int(&a, user_id);
    *n = 0;
    return db_read_one(st, S_VERIFICATION_FAILURES, &a, row_int0, n, "a count", err);
}

dm_err store_webapp_nonce_use(struct store *st, const char *hash, int64_t expires_at, int64_t now,
                              struct dm_error *err)
{
    struct db_args p;
    args_init(&p);
    arg_int(&p, now);
    struct db_args a;
    args_init(&a);
    arg_text(&a, hash, 129);
    arg_int(&a, expires_at);
    int64_t changes = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_NONCE_PURGE, &p, NULL, NULL, NULL, err);
    if (!e) e = tx_run(&tx, S_NONCE_ADD, &a, NULL, NULL, &changes, err);
    if (!e && !changes) e = dm_fail(err, DM_EEXISTS, "this launch of the Mini App was used before");
    return tx_close(&tx, e, err);
}
