/* postgres.c: the PostgreSQL dialect of the store (dialect.h), for several doorman processes
 * on one database.
 *
 * Connections: a pool of POOL libpq connections (each used by one thread at a time, handed out
 * under pool_lock), for reading and writing alike. Every call is one statement in autocommit
 * or one BEGIN … COMMIT transaction at READ COMMITTED; rows that a transaction reads to change
 * (a job item and its request, a claimed job) are locked by their statements (sql.c), so two
 * processes never decide the same item twice. A connection that broke (server restarted,
 * network gone) makes the call fail with DM_EUNAVAILABLE and is opened again by the next call
 * that takes it. Arguments go as text (libpq's text format).
 *
 * Statements with a key (sql.h: the table's and those built from a request filter, one key per
 * filter shape) are prepared on each connection the first time it runs them and executed by
 * name from then on, so PostgreSQL parses and plans them once a connection instead of on every
 * call (planning a list page took 3 times as long as running it). PostgreSQL's plan cache
 * still plans a statement again for each run's values while it estimates that cheaper (it
 * does for every LIMIT $n: it guesses a tenth of the rows); a statement whose one plan serves
 * every value (DB_PLAN_ONCE, dialect.h) is run with plan_cache_mode = force_generic_plan. The
 * setting stays on the connection until a statement that wants another (DB_PLAN_AUTO and every
 * transaction: the plan cache's own choice; DB_PLAN_EACH, below) runs there: its setting then
 * goes first, in the same pipeline. So a run of list pages sends no setting at all, where setting
 * and resetting around each page cost two statements a page; a statement that plans the same either
 * way (DB_PLAN_ANY: the web session's lookup) leaves the setting as it is. A statement whose plan
 * must fit its values (DB_PLAN_EACH: a search text) is prepared too and run with
 * plan_cache_mode = force_custom_plan, planned for its values on every run as an unnamed
 * statement is but not parsed again each time; inside a transaction, where no setting is sent,
 * it goes unnamed with its values. (Behind a pooler such as PgBouncer this needs session
 * pooling, as named prepared statements do.)
 *
 * Round trips: inside a transaction, a statement whose rows and count the caller does not ask
 * for (a write: deciding a request, an item, an audit entry …) is sent in libpq's pipeline mode
 * without waiting for its answer, and so is the BEGIN that opens a transaction; the next
 * statement whose answer is wanted (or the COMMIT) goes in the same pipeline and its answer is
 * read with theirs, in one round trip. The job runner's transaction finishing a group of items
 * (BEGIN, one read of the items, 3 writes an item and an event when webhooks want one, the
 * job's counts, COMMIT) takes 2 round trips whatever the group's size. A pipelined
 * statement that fails fails the statement read after it (the transaction then rolls back) with its
 * own message.
 *
 * Messages never show the URL: only host, port and database name (its password stays out). */
#include "core/common.h"

#include <libpq-fe.h>

#include "store/schema.h"
#include "store/sql.h"

#define POOL 4
#define CONNECT_TIMEOUT_S "5"
#define PIPE_MAX 32 /* statements sent before their answers are read */

/* A statement sent in the pipeline: what it does (for messages), and the key a PQsendPrepare
 * prepares, or PIPED_EXEC for an execution, PIPED_SETTING for a setting around one (its answer
 * is only checked). */
struct piped {
    const char *what;
    int prepares;
};
#define PIPED_EXEC (-1)
#define PIPED_SETTING (-2)

/* The plan_cache_mode of a connection's session: PostgreSQL's default, force_generic_plan, or
 * not known (a setting sent in a pipeline or transaction that failed or rolled back may have
 * been undone with it: the next statement sends its own). */
enum plan_mode { MODE_AUTO = 0, MODE_GENERIC, MODE_CUSTOM, MODE_UNKNOWN };

struct db_conn {
    PGconn *pg; /* NULL until connected, and after it broke */
    struct db *db;
    bool prepared[SQL_KEYS]; /* on this connection (cleared when it is opened again) */
    int sent;                /* statements in the pipeline whose answers are not read yet */
    struct piped pipe[PIPE_MAX];
    enum plan_mode mode; /* as of the statements sent (MODE_AUTO when opened) */
};

struct db {
    char *url;       /* as given: holds the password; never printed */
    char where[192]; /* "host:port/database", for messages */
    struct slots pool;
    struct db_conn conns[POOL];
};

static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void conn_drop(struct db_conn *c)
{
    if (c->pg) PQfinish(c->pg);
    c->pg = NULL;
    memset(c->prepared, 0, sizeof c->prepared);
    c->sent = 0;
    c->mode = MODE_AUTO;
}

static dm_err conn_connect(struct db_conn *c, struct dm_error *err)
{
    conn_drop(c);
    /* the URL's own options come after the defaults, so they win */
    const char *const keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                                NULL};
    const char *const vals[] = {CONNECT_TIMEOUT_S, "doorman", "UTF8", c->db->url, NULL};
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (!c->pg) return dm_fail(err, DM_ENOMEM, "out of memory connecting to PostgreSQL");
    if (PQstatus(c->pg) != CONNECTION_OK) {
        char msg[200];
        dm_strlcpy(msg, PQerrorMessage(c->pg), sizeof msg);
        msg[strcspn(msg, "\n")] = 0;
        conn_drop(c);
        return dm_fail(err, DM_EUNAVAILABLE, "cannot connect to PostgreSQL at %s: %s", c->db->where,
                       msg);
    }
    PQsetNoticeProcessor(c->pg, quiet_notices, NULL);
    return DM_OK;
}

/* Takes a free connection, opening it again when it broke; DM_EUNAVAILABLE (and no
 * connection held) when the server cannot be reached. */
static dm_err pg_conn_get(struct db *db, bool write, struct db_conn **out, struct dm_error *err)
{
    (void)write;
    int i = slots_take(&db->pool);
    struct db_conn *c = &db->conns[i];
    /* reading what waits on an idle connection notices a server that closed it */
    dm_err e = DM_OK;
    if (!c->pg || !PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK)
        e = conn_connect(c, err);
    if (e) {
        slots_give(&db->pool, i);
        return e;
    }
    *out = c;
    return DM_OK;
}

static void pg_conn_put(struct db *db, struct db_conn *c)
{
    /* a connection left inside a transaction (its ROLLBACK failed) or a pipeline is not reused */
    if (c->pg && (PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) != PQTRANS_IDLE ||
                  PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF))
        conn_drop(c);
    slots_give(&db->pool, (int)(c - db->conns));
}

/* Fills err from a failed result. A broken unique constraint is DM_EEXISTS; trouble that may go
 * away by itself (a lost connection, a server shutting down or out of resources, a
 * serialization failure or deadlock, a lock not available, a cancelled statement)
 * DM_EUNAVAILABLE; everything else (the statement or its data is wrong, e.g. 22021 invalid byte
 * sequence: it fails the same way every time) DM_EDB. Only the
 * primary message is shown: PostgreSQL's DETAIL lines quote values (settings may be secret). */
static dm_err db_fail(struct db_conn *c, const PGresult *r, const char *what, struct dm_error *err)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char msg[200];
    dm_strlcpy(msg, primary ? primary : PQerrorMessage(c->pg), sizeof msg);
    msg[strcspn(msg, "\n")] = 0;
    if (PQstatus(c->pg) != CONNECTION_OK ||
        (state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
                   strncmp(state, "53", 2) == 0 || strncmp(state, "40", 2) == 0 ||
                   strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)))
        return dm_fail(err, DM_EUNAVAILABLE,
                       "the database at %s is unavailable (while %s: %s); try again shortly",
                       c->db->where, what, msg);
    dm_err code = state && strcmp(state, "23505") == 0 ? DM_EEXISTS : DM_EDB;
    return dm_fail(err, code, "database error while %s: %s", what, msg);
}

static bool result_ok(const PGresult *r)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Whether s is prepared once on a connection and run by name (above): a statement with a key,
 * but not one planned for its values inside a transaction, where no setting is sent: that one
 * goes unnamed, which PostgreSQL plans for its values. `outside`: no transaction is open. */
static bool stmt_named(const struct db_stmt *s, bool outside)
{
    return s->key >= 0 && s->key < SQL_KEYS && (s->plan != DB_PLAN_EACH || outside);
}

/* Whether n more statements fit in the pipeline, entering pipeline mode first. */
static bool pipe_room(struct db_conn *c, int n)
{
    if (c->sent + n > PIPE_MAX) return false;
    return c->sent || PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF || PQenterPipelineMode(c->pg);
}

/* Sends a setting (sql: no arguments, no rows) into the pipeline for the statement that does
 * `what`; false when libpq refused. */
static bool pipe_setting(struct db_conn *c, const char *sql, const char *what)
{
    if (!pipe_room(c, 1) || !PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0))
        return false;
    c->pipe[c->sent++] = (struct piped){what, PIPED_SETTING};
    return true;
}

/* Sends the setting s needs outside a transaction (above) into the pipeline, if any; false when
 * libpq refused. */
static bool pipe_mode(struct db_conn *c, const struct db_stmt *s)
{
    if (s->plan == DB_PLAN_ANY) return true;
    static const char *const sets[] = {[MODE_AUTO] = "RESET plan_cache_mode",
                                       [MODE_GENERIC] = "SET plan_cache_mode = force_generic_plan",
                                       [MODE_CUSTOM] = "SET plan_cache_mode = force_custom_plan"};
    enum plan_mode want = s->plan == DB_PLAN_EACH                          ? MODE_CUSTOM
                          : s->plan == DB_PLAN_ONCE && stmt_named(s, true) ? MODE_GENERIC
                                                                           : MODE_AUTO;
    if (c->mode == want) return true;
    c->mode = want;
    return pipe_setting(c, sets[want], s->what);
}

/* Sends s into the pipeline (entering pipeline mode first), preparing it first when this
 * connection has not; false when libpq refused (the connection broke). */
static bool pipe_send(struct db_conn *c, const struct db_stmt *s, bool outside, int n,
                      const char *const *values)
{
    if (!pipe_room(c, 2)) return false;
    if (!stmt_named(s, outside)) {
        if (!PQsendQueryParams(c->pg, s->sql, n, NULL, values, NULL, NULL, 0)) return false;
    } else {
        char name[16];
        snprintf(name, sizeof name, "s%d", s->key);
        if (!c->prepared[s->key]) {
            if (!PQsendPrepare(c->pg, name, s->sql, n, NULL)) return false;
            c->pipe[c->sent++] = (struct piped){s->what, s->key};
            c->prepared[s->key] = true; /* for the statements after it; undone if it failed */
        }
        if (!PQsendQueryPrepared(c->pg, name, n, values, NULL, NULL, 0)) return false;
    }
    c->pipe[c->sent++] = (struct piped){s->what, PIPED_EXEC};
    return true;
}

/* Ends the pipeline: reads the answers of every statement sent, then leaves pipeline mode. The
 * first failure is the error (the statements after it were not run). The results of the last
 * nkeep executions go to keep[0..nkeep-1] (the caller clears them) if nothing failed; on a
 * failure they are all NULL. */
static dm_err pipe_finish(struct db_conn *c, PGresult **keep, int nkeep, struct dm_error *err)
{
    dm_err e = DM_OK;
    int sent = c->sent, execs = 0, x = 0;
    c->sent = 0;
    for (int i = 0; i < sent; i++)
        execs += c->pipe[i].prepares == PIPED_EXEC;
    for (int k = 0; k < nkeep; k++)
        keep[k] = NULL;
    if (!PQpipelineSync(c->pg)) return db_fail(c, NULL, c->pipe[0].what, err);
    bool broken = false;
    for (int i = 0; i < sent; i++) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) { /* the connection broke */
            if (!e) e = db_fail(c, NULL, c->pipe[i].what, err);
            broken = true;
            break;
        }
        bool aborted = PQresultStatus(r) == PGRES_PIPELINE_ABORTED;
        if (!result_ok(r)) {
            if (c->pipe[i].prepares >= 0) c->prepared[c->pipe[i].prepares] = false;
            if (!e && !aborted) e = db_fail(c, r, c->pipe[i].what, err);
        }
        int k = c->pipe[i].prepares == PIPED_EXEC ? nkeep - (execs - x++) : -1;
        if (k >= 0 && !e)
            keep[k] = r;
        else
            PQclear(r);
        while ((r = PQgetResult(c->pg))) /* the NULL that ends this statement's answer */
            PQclear(r);
    }
    if (!broken) {
        PGresult *sync = PQgetResult(c->pg);
        bool synced = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
        PQclear(sync);
        if ((!synced || !PQexitPipelineMode(c->pg)) && !e)
            e = db_fail(c, NULL, c->pipe[sent - 1].what, err);
    }
    for (int k = 0; e && k < nkeep; k++)
        PQclear(keep[k]), keep[k] = NULL;
    if (e) c->mode = MODE_UNKNOWN; /* a setting sent with them was rolled back with them */
    return e;
}

/* a's values as libpq's text parameters, into values (numbers written into nums). */
static void args_values(const struct db_args *a, const char **values, char (*nums)[24])
{
    for (int i = 0; a && i < a->n; i++) {
        if (a->v[i].is_text) {
            values[i] = a->v[i].s;
        } else {
            snprintf(nums[i], sizeof nums[i], "%" PRId64, a->v[i].i);
            values[i] = nums[i];
        }
    }
}

/* Hands r's rows to fn; its error stops them and is returned. */
static dm_err rows_feed(PGresult *r, db_row_fn fn, void *ctx)
{
    struct db_row row = {.d = &dialect_postgres, .impl = r};
    dm_err e = DM_OK;
    for (int i = 0; !e && fn && i < PQntuples(r); i++) {
        row.index = i;
        e = fn(ctx, &row);
    }
    return e;
}

static dm_err pg_run_reads(struct db_conn *c, const struct db_read *reads, int n,
                           struct dm_error *err)
{
    if (n > DB_READS_MAX)
        return dm_fail(err, DM_ETOOBIG, "too many reads at once while %s", reads[0].s->what);
    for (int i = 0; i < n; i++) {
        if (reads[i].a && reads[i].a->overflow)
            return dm_fail(err, DM_ETOOBIG, "too many query arguments while %s", reads[i].s->what);
    }
    /* all sent in one pipeline, read in one round trip (libpq copies the values as it sends);
     * each planned as it says when they are read outside a transaction */
    bool outside = !c->sent && PQtransactionStatus(c->pg) == PQTRANS_IDLE;
    for (int i = 0; i < n; i++) {
        const char *values[DB_ARGS_MAX];
        char nums[DB_ARGS_MAX][24];
        args_values(reads[i].a, values, nums);
        const struct db_stmt *s = reads[i].s;
        if ((outside && !pipe_mode(c, s)) ||
            !pipe_send(c, s, outside, reads[i].a ? reads[i].a->n : 0, values))
            return db_fail(c, NULL, s->what, err); /* conn_put drops the connection */
    }
    PGresult *res[DB_READS_MAX];
    dm_err e = pipe_finish(c, res, n, err);
    for (int i = 0; i < n && !e; i++)
        e = rows_feed(res[i], reads[i].fn, reads[i].ctx);
    for (int i = 0; i < n; i++)
        PQclear(res[i]);
    return e;
}

static dm_err run_one(struct db_conn *c, const struct db_stmt *s, const struct db_args *a,
                      db_row_fn fn, void *ctx, int64_t *changes, struct dm_error *err)
{
    if (a && a->overflow)
        return dm_fail(err, DM_ETOOBIG, "too many query arguments while %s", s->what);
    const char *values[DB_ARGS_MAX];
    char nums[DB_ARGS_MAX][24];
    int n = a ? a->n : 0;
    args_values(a, values, nums);
    PGresult *r = NULL;
    dm_err e = DM_OK;
    bool idle = !c->sent && PQtransactionStatus(c->pg) == PQTRANS_IDLE;
    if (s->plan == DB_PLAN_ONCE && !changes && idle) {
        const struct db_read one = {s, a, fn, ctx};
        return pg_run_reads(c, &one, 1, err);
    }
    /* a write inside a transaction, or the BEGIN of one (after the setting the transaction's
     * statements want): its answer is read later */
    bool quiet = !fn && !changes && s->key != S_COMMIT && s->key != S_ROLLBACK;
    if (quiet && c->sent + 4 <= PIPE_MAX && /* room for it and the one that ends it */
        (s->key == S_BEGIN ? idle : c->sent || PQtransactionStatus(c->pg) == PQTRANS_INTRANS)) {
        return (s->key != S_BEGIN || pipe_mode(c, s)) && pipe_send(c, s, idle, n, values)
                   ? DM_OK
                   : db_fail(c, NULL, s->what, err);
    }
    /* outside a transaction: the setting it wants goes first, in one pipeline with it */
    if (idle && !pipe_mode(c, s)) return db_fail(c, NULL, s->what, err);
    if (c->sent && s->key == S_ROLLBACK) {
        pipe_finish(c, NULL, 0, NULL); /* whatever failed there is rolled back now */
    } else if (c->sent) {
        /* this statement goes with the ones waiting, its answer read with theirs */
        if (!pipe_send(c, s, idle, n, values)) return db_fail(c, NULL, s->what, err);
        e = pipe_finish(c, &r, 1, err);
        if (e) return e;
    }
    if (r) {
        /* answered through the pipeline */
    } else if (stmt_named(s, idle)) {
        char name[16];
        snprintf(name, sizeof name, "s%d", s->key);
        if (!c->prepared[s->key]) {
            r = PQprepare(c->pg, name, s->sql, n, NULL);
            if (!result_ok(r)) {
                e = db_fail(c, r, s->what, err);
                PQclear(r);
                return e;
            }
            PQclear(r);
            c->prepared[s->key] = true;
        }
        r = PQexecPrepared(c->pg, name, n, values, NULL, NULL, 0);
    } else {
        r = PQexecParams(c->pg, s->sql, n, NULL, values, NULL, NULL, 0);
    }
    e = result_ok(r) ? DM_OK : db_fail(c, r, s->what, err);
    if (!e) e = rows_feed(r, fn, ctx);
    if (!e && changes) *changes = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return e;
}

static dm_err pg_run(struct db_conn *c, const struct db_stmt *s, const struct db_args *a,
                     db_row_fn fn, void *ctx, int64_t *changes, struct dm_error *err)
{
    if (changes) *changes = 0;
    dm_err e = run_one(c, s, a, fn, ctx, changes, err);
    /* a failed statement, or a rollback, may undo a setting sent before it (plan_mode) */
    if (e || s->key == S_ROLLBACK) c->mode = MODE_UNKNOWN;
    return e;
}

static dm_err pg_script(struct db_conn *c, const char *sql, const char *what, struct dm_error *err)
{
    /* several statements: the simple query protocol, which a pipeline cannot carry */
    if (c->sent) {
        dm_err e = pipe_finish(c, NULL, 0, err);
        if (e) return e;
    }
    PGresult *r = PQexec(c->pg, sql);
    dm_err e = result_ok(r) ? DM_OK : db_fail(c, r, what, err);
    PQclear(r);
    return e;
}

static bool pg_in_tx(struct db_conn *c)
{
    return c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE;
}

static int64_t pg_col_int(const struct db_row *r, int col)
{
    return strtoll(PQgetvalue(r->impl, r->index, col), NULL, 10);
}

static const char *pg_col_text(const struct db_row *r, int col)
{
    return PQgetisnull(r->impl, r->index, col) ? NULL : PQgetvalue(r->impl, r->index, col);
}

/* ---- open and close ---- */

static void pg_close(struct db *db)
{
    if (!db) return;
    for (int i = 0; i < POOL; i++)
        conn_drop(&db->conns[i]);
    slots_release(&db->pool);
    if (db->url) explicit_bzero(db->url, strlen(db->url));
    free(db->url);
    free(db);
}

/* Describes the server of a URL without its password: "host:port/database". */
static dm_err describe_url(const char *url, char *out, size_t size, struct dm_error *err)
{
    char *msg = NULL;
    PQconninfoOption *o = PQconninfoParse(url, &msg);
    PQfreemem(msg); /* may quote the URL: not shown */
    if (!o)
        return dm_fail(err, DM_EINVAL,
                       "the PostgreSQL URL cannot be read: write it as "
                       "postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
    const char *host = NULL, *port = NULL, *name = NULL;
    for (PQconninfoOption *i = o; i->keyword; i++) {
        if (strcmp(i->keyword, "host") == 0) host = i->val;
        if (strcmp(i->keyword, "port") == 0) port = i->val;
        if (strcmp(i->keyword, "dbname") == 0) name = i->val;
    }
    snprintf(out, size, "%s:%s/%s", host && *host ? host : "localhost",
             port && *port ? port : "5432", name && *name ? name : "(default database)");
    PQconninfoFree(o);
    return DM_OK;
}

static dm_err pg_open(const char *url, struct db **out, struct dm_error *err)
{
    *out = NULL;
    if (!PQisthreadsafe())
        return dm_fail(err, DM_EDB, "this libpq was built without thread support");
    struct db *db = calloc(1, sizeof *db);
    if (!db) return dm_fail(err, DM_ENOMEM, "out of memory opening the database");
    slots_init(&db->pool, POOL);
    for (int i = 0; i < POOL; i++)
        db->conns[i].db = db;
    dm_err e = describe_url(url, db->where, sizeof db->where, err);
    if (!e && !(db->url = strdup(url)))
        e = dm_fail(err, DM_ENOMEM, "out of memory opening the database");
    struct db_conn *c = NULL;
    if (!e) e = pg_conn_get(db, true, &c, err);
    if (!e) {
        e = schema_migrate(&dialect_postgres, c, err);
        pg_conn_put(db, c);
    }
    if (e) {
        pg_close(db);
        return e;
    }
    *out = db;
    return DM_OK;
}

const struct dialect dialect_postgres = {
    .kind = DB_POSTGRES, DIALECT_OPS(pg), .run_reads = pg_run_reads};
