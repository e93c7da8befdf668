/* admins.c: the store's rules for admins, their roles and granted channels, TOTP and recovery
 * codes, and API tokens, written once above the dialects (see store.h). */
#include "core/common.h"

#include "core/buf.h"
#include "store/db.h"
#include "store/rows.h"

#define ADMIN_LIST_MAX 10000 /* admins returned by admin_list at most */
#define TOKEN_LIST_MAX 10000 /* tokens returned by token_list at most */
#define GRANTS_MAX 100000    /* channels of one scope at most */

static const char *const role_names[ROLE_COUNT] = {"viewer", "decider", "owner"};

const char *admin_role_name(int role)
{
    return role >= 0 && role < ROLE_COUNT ? role_names[role] : "unknown";
}

int admin_role_parse(const char *s)
{
    for (int i = 0; i < ROLE_COUNT; i++)
        if (s && strcmp(s, role_names[i]) == 0) return i;
    return -1;
}

void store_scope_of(const char *kind, int64_t id, char out[STORE_SCOPE_MAX])
{
    snprintf(out, STORE_SCOPE_MAX, "%s:%" PRId64, kind, id);
}

/* Replaces the channels of scope with chats (n of them) inside tx. */
static dm_err grants_put(struct tx *tx, const char *scope, const int64_t *chats, size_t n,
                         struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_ref(&a, scope);
    dm_err e = tx_run(tx, S_GRANTS_CLEAR, &a, NULL, NULL, NULL, err);
    for (size_t i = 0; i < n && !e; i++) {
        struct db_args g;
        args_init(&g);
        arg_ref(&g, scope);
        arg_int(&g, chats[i]);
        e = tx_run(tx, S_GRANT_ADD, &g, NULL, NULL, NULL, err);
    }
    return e;
}

dm_err store_admin_create(struct store *st, const char *name, const char *pw_hash, int role,
                          const int64_t *chats, size_t n, int64_t now, int64_t *id,
                          struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, name, STORE_NAME_MAX);
    arg_text(&a, pw_hash, STORE_HASH_MAX);
    arg_int(&a, now);
    arg_int(&a, role);
    struct tx tx;
    int64_t new_id = 0;
    bool found = false;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_read_one(&tx, S_ADMIN_CREATE, &a, row_int0, &new_id, &found, err);
    char scope[STORE_SCOPE_MAX];
    store_scope_of("admin", new_id, scope);
    if (!e && role != ROLE_OWNER) e = grants_put(&tx, scope, chats, n, err);
    e = tx_close(&tx, e, err);
    if (e == DM_EEXISTS) return dm_fail(err, e, "an admin named '%s' already exists", name);
    if (!e && id) *id = new_id;
    return e;
}

dm_err store_admin_get(struct store *st, const char *name, struct store_admin *out,
                       struct dm_error *err)
{
    char missing[sizeof err->msg];
    dm_snprintf_utf8(missing, sizeof missing, "no admin named '%s'", name);
    struct db_args a;
    args_init(&a);
    arg_text(&a, name, STORE_NAME_MAX);
    return db_read_one(st, S_ADMIN_GET, &a, row_admin, out, missing, err);
}

dm_err store_admin_count(struct store *st, int64_t *n, struct dm_error *err)
{
    *n = 0;
    return db_read_one(st, S_ADMIN_COUNT, NULL, row_int0, n, "no count", err);
}

dm_err store_admin_list(struct store *st, struct store_admin **out, size_t *n, struct dm_error *err)
{
    return db_read_all(st, S_ADMIN_LIST, NULL, row_admin, sizeof **out, ADMIN_LIST_MAX, "admins",
                       (void **)out, n, err);
}

/* Runs a one-statement change of admin id with arguments (id, a2 when given); DM_ENOTFOUND when
 * it changed no row. */
static dm_err admin_exec(struct store *st, enum sql_id sid, int64_t id, const char *text,
                         struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    if (text) arg_ref(&a, text);
    int64_t changes = 0;
    dm_err e = db_exec(st, sid, &a, &changes, err);
    return !e && changes == 0 ? dm_fail(err, DM_ENOTFOUND, "no admin with id %" PRId64, id) : e;
}

/* Inside tx: ends admin id's web sessions but the one with digest keep ("": every one). */
static dm_err websessions_end(struct tx *tx, int64_t id, const char *keep, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    arg_ref(&a, keep);
    return tx_run(tx, S_WS_DELETE_OF, &a, NULL, NULL, NULL, err);
}

dm_err store_admin_set_password(struct store *st, int64_t id, const char *pw_hash, const char *keep,
                                struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    arg_ref(&a, pw_hash);
    int64_t changes = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_ADMIN_SET_PASSWORD, &a, NULL, NULL, &changes, err);
    if (!e && changes == 0) e = dm_fail(err, DM_ENOTFOUND, "no admin with id %" PRId64, id);
    if (!e) e = websessions_end(&tx, id, keep, err);
    e = tx_close(&tx, e, err);
    db_sessions_changed(st);
    return e;
}

/* Inside tx: DM_ECONFLICT when no owner is left. */
static dm_err owner_left(struct tx *tx, struct dm_error *err)
{
    int64_t owners = 0;
    bool found = false;
    dm_err e = tx_read_one(tx, S_OWNERS_COUNT, NULL, row_int0, &owners, &found, err);
    if (!e && owners == 0)
        e = dm_fail(err, DM_ECONFLICT,
                    "doorman needs at least one owner: make another admin an "
                    "owner first");
    return e;
}

/* Inside tx: revokes every token of the admin, with their grants. */
static dm_err tokens_drop(struct tx *tx, int64_t admin_id, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, admin_id);
    dm_err e = tx_run(tx, S_GRANTS_CLEAR_TOKENS, &a, NULL, NULL, NULL, err);
    if (!e) e = tx_run(tx, S_TOKENS_DELETE_OF, &a, NULL, NULL, NULL, err);
    return e;
}

dm_err store_admin_set_role(struct store *st, int64_t id, int role, const int64_t *chats, size_t n,
                            struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    arg_int(&a, role);
    char scope[STORE_SCOPE_MAX];
    store_scope_of("admin", id, scope);
    int64_t changes = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_ADMIN_SET_ROLE, &a, NULL, NULL, &changes, err);
    if (!e && changes == 0) e = dm_fail(err, DM_ENOTFOUND, "no admin with id %" PRId64, id);
    if (!e) e = grants_put(&tx, scope, chats, role == ROLE_OWNER ? 0 : n, err);
    if (!e) e = tokens_drop(&tx, id, err);
    if (!e) e = websessions_end(&tx, id, "", err);
    if (!e) e = owner_left(&tx, err);
    e = tx_close(&tx, e, err);
    db_sessions_changed(st); /* the role and the sessions read with it */
    return e;
}

dm_err store_admin_delete(struct store *st, int64_t id, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    char scope[STORE_SCOPE_MAX];
    store_scope_of("admin", id, scope);
    int64_t changes = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = grants_put(&tx, scope, NULL, 0, err);
    if (!e) e = tokens_drop(&tx, id, err);
    if (!e) e = tx_run(&tx, S_RECOVERY_CLEAR, &a, NULL, NULL, NULL, err);
    if (!e) e = tx_run(&tx, S_ADMIN_DELETE, &a, NULL, NULL, &changes, err);
    if (!e && changes == 0) e = dm_fail(err, DM_ENOTFOUND, "no admin with id %" PRId64, id);
    if (!e) e = owner_left(&tx, err);
    e = tx_close(&tx, e, err);
    db_sessions_changed(st); /* its sessions went with it */
    return e;
}

dm_err store_admin_totp_pending(struct store *st, int64_t id, const char *sealed,
                                struct dm_error *err)
{
    return admin_exec(st, S_ADMIN_TOTP_PENDING, id, sealed, err);
}

dm_err store_admin_totp_set(struct store *st, int64_t id, const char *sealed,
                            const char *const *digests, size_t n, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    arg_ref(&a, sealed);
    int64_t changes = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_ADMIN_TOTP_SET, &a, NULL, NULL, &changes, err);
    if (!e && changes == 0) e = dm_fail(err, DM_ENOTFOUND, "no admin with id %" PRId64, id);
    struct db_args k;
    args_init(&k);
    arg_int(&k, id);
    if (!e) e = tx_run(&tx, S_RECOVERY_CLEAR, &k, NULL, NULL, NULL, err);
    for (size_t i = 0; i < n && !e; i++) {
        struct db_args r;
        args_init(&r);
        arg_int(&r, id);
        arg_ref(&r, digests[i]);
        e = tx_run(&tx, S_RECOVERY_ADD, &r, NULL, NULL, NULL, err);
    }
    return tx_close(&tx, e, err);
}

/* A one-statement change of (id, n or text) whose *changed tells whether a row changed. */
static dm_err changed_one(struct store *st, enum sql_id sid, int64_t id, int64_t n,
                          const char *text, bool *changed, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    if (text)
        arg_ref(&a, text);
    else
        arg_int(&a, n);
    int64_t changes = 0;
    dm_err e = db_exec(st, sid, &a, &changes, err);
    *changed = !e && changes > 0;
    return e;
}

dm_err store_admin_totp_step(struct store *st, int64_t id, int64_t step, bool *fresh,
                             struct dm_error *err)
{
    return changed_one(st, S_ADMIN_TOTP_STEP, id, step, NULL, fresh, err);
}

dm_err store_recovery_use(struct store *st, int64_t admin_id, const char *digest, bool *used,
                          struct dm_error *err)
{
    return changed_one(st, S_RECOVERY_USE, admin_id, 0, digest, used, err);
}

dm_err store_grants(struct store *st, const char *scope, int64_t **out, size_t *n,
                    struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_ref(&a, scope);
    *out = NULL;
    *n = 0;
    return db_read_all(st, S_GRANTS_GET, &a, row_int0, sizeof **out, GRANTS_MAX, "granted channels",
                       (void **)out, n, err);
}

dm_err store_requests_outside(struct store *st, const int64_t *ids, size_t n, const char *scope,
                              int64_t *first, bool *found, struct dm_error *err)
{
    *found = false;
    struct buf b;
    buf_init(&b, n * 21 + 3);
    dm_err e = buf_puts(&b, "[");
    for (size_t i = 0; i < n && !e; i++)
        e = buf_printf(&b, "%s%" PRId64, i ? "," : "", ids[i]);
    if (!e) e = buf_puts(&b, "]");
    if (e) {
        buf_release(&b);
        return dm_fail(err, e, "out of memory checking the requests' channels");
    }
    struct db_args a;
    args_init(&a);
    arg_ref(&a, b.data);
    arg_ref(&a, scope);
    int got = 0;
    struct db_stmt s = db_stmt_of(st, S_REQUESTS_OUTSIDE);
    e = db_read(st, &s, &a, row_int0, first, sizeof *first, 1, &got, err);
    buf_release(&b);
    *found = !e && got == 1;
    return e;
}

dm_err store_token_create(struct store *st, const struct store_token *t, const int64_t *chats,
                          size_t n, int64_t *id, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, t->admin_id);
    arg_text(&a, t->name, sizeof t->name);
    arg_text(&a, t->token_hash, sizeof t->token_hash);
    arg_int(&a, t->role);
    arg_int(&a, t->created_at);
    struct tx tx;
    int64_t new_id = 0;
    bool found = false;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_read_one(&tx, S_TOKEN_CREATE, &a, row_int0, &new_id, &found, err);
    char scope[STORE_SCOPE_MAX];
    store_scope_of("token", new_id, scope);
    if (!e && t->role != ROLE_OWNER) e = grants_put(&tx, scope, chats, n, err);
    e = tx_close(&tx, e, err);
    if (e == DM_EEXISTS) return dm_fail(err, e, "you already have a token named '%s'", t->name);
    if (!e) *id = new_id;
    return e;
}

dm_err store_token_list(struct store *st, int64_t admin_id, struct store_token **out, size_t *n,
                        struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    if (admin_id) arg_int(&a, admin_id);
    return db_read_all(st, admin_id ? S_TOKEN_LIST : S_TOKEN_LIST_ALL, &a, row_token, sizeof **out,
                       TOKEN_LIST_MAX, "API tokens", (void **)out, n, err);
}

dm_err store_token_find(struct store *st, const char *token_hash, struct store_token *out,
                        struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_text(&a, token_hash, sizeof out->token_hash);
    return db_read_one(st, S_TOKEN_FIND, &a, row_token, out, "no such API token", err);
}

dm_err store_token_used(struct store *st, int64_t id, int64_t now, struct dm_error *err)
{
    bool changed;
    return changed_one(st, S_TOKEN_USED, id, now, NULL, &changed, err);
}

dm_err store_token_delete(struct store *st, int64_t id, int64_t admin_id, struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, id);
    arg_int(&a, admin_id);
    char scope[STORE_SCOPE_MAX];
    store_scope_of("token", id, scope);
    int64_t changes = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = tx_run(&tx, S_TOKEN_DELETE, &a, NULL, NULL, &changes, err);
    if (!e && changes == 0) e = dm_fail(err, DM_ENOTFOUND, "no API token with id %" PRId64, id);
    if (!e) e = grants_put(&tx, scope, NULL, 0, err);
    return tx_close(&tx, e, err);
}
