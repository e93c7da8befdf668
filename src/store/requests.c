/* requests.c: the rules for join requests, written once above the dialects: recording them
 * with their names folded for search (core/fold.h), reading, listing and counting them under
 * a filter, and folding the stored names again when the folding changes. */
#include "core/common.h"
#include "store/requests.h"

#include "core/fold.h"
#include "core/json_out.h"
#include "store/job_tx.h"
#include "store/rows.h"

#define SQL_FILTER_MAX 4096
#define REFOLD_BATCH 2000

enum {
    F_CHAT = 2,
    F_FROM = 4,
    F_TO = 8,
    F_TEXT = 16,
    F_USER = 32,
    F_INDEX = 64,
    F_RULE = 128,
    F_SCOPE = 256,
    F_LINK = 512
};

/* The names a query searches, one a line, folded; malloc'd. */
static dm_err names_folded(const char *first, const char *last, const char *username, char **out)
{
    char names[3 * STORE_TEXT_MAX];
    int n = snprintf(names, sizeof names, "%s\n%s\n%s", first, last, username);
    return fold_text(names, (size_t)DM_MIN(n, (int)sizeof names - 1), out, NULL);
}

/* A batch reaches S_REQUEST_ADD as SQLite and PostgreSQL each read it fastest (sql.c): on
 * SQLite staged in request_batch, a statement a request; on PostgreSQL as JSON, a statement's
 * ending with the request that takes it past RECORD_CHUNK bytes (about 3,000 requests of the
 * usual size); one request writes at most some 50 KiB, so RECORD_JSON_MAX is never reached by a
 * request that can be stored. */
#define RECORD_CHUNK (1 << 20)
#define RECORD_JSON_MAX (2 << 20)

/* A pending request recorded whose event is wanted: what S_EVENT_ADD_REQUEST finds it by. */
struct event_key {
    int64_t chat_id, user_id, tg_date, created_at;
};

/* What S_REQUEST_ADD recorded of one statement's requests, as PostgreSQL's hands it back and
 * record_sqlite reads it on SQLite. ev (NULL when no event is wanted) has room for every
 * request of the statement. */
struct recorded {
    size_t n;         /* requests recorded */
    int64_t first_id; /* the lowest id among them */
    bool pending;     /* one of them is pending */
    struct event_key *ev;
    size_t nev;
};

static dm_err recorded_row(void *ctx, const struct db_row *row)
{
    struct recorded *x = ctx;
    int64_t id = row_int(row, 0);
    if (x->n++ == 0 || id < x->first_id) x->first_id = id;
    if (row_int(row, 1) != REQ_PENDING) return DM_OK;
    x->pending = true;
    if (x->ev)
        x->ev[x->nev++] = (struct event_key){.chat_id = row_int(row, 2),
                                             .user_id = row_int(row, 3),
                                             .tg_date = row_int(row, 4),
                                             .created_at = row_int(row, 5)};
    return DM_OK;
}

/* SQLite: records the staged batch (S_REQUEST_ADD, which returns nothing there) and reads
 * into x what PostgreSQL's returns: how many were recorded, the first id, and their pending
 * ones, every one when x->ev wants their events, else the first. */
static dm_err record_sqlite(struct tx *tx, size_t n, struct recorded *x, struct dm_error *err)
{
    int64_t next = 0, added = 0;
    bool found = false;
    dm_err e = tx_read_one(tx, S_REQUEST_NEXT_ID, NULL, row_int0, &next, &found, err);
    if (!e) e = tx_run(tx, S_REQUEST_ADD, NULL, NULL, NULL, &added, err);
    if (e || added == 0) return e;
    struct db_args a;
    args_init(&a);
    arg_int(&a, next);
    arg_int(&a, x->ev ? (int64_t)n : 1);
    e = tx_run(tx, S_REQUEST_ADDED, &a, recorded_row, x, NULL, err);
    x->n = (size_t)added;
    x->first_id = next;
    return e;
}

/* One statement of a recording, inside tx or alone. */
static dm_err record_run(struct store *st, struct tx *tx, enum sql_id id, const struct db_args *a,
                         db_row_fn fn, void *ctx, struct dm_error *err)
{
    return tx ? tx_run(tx, id, a, fn, ctx, NULL, err) : db_exec_rows(st, id, a, fn, ctx, err);
}

/* Records n requests, given to S_REQUEST_ADD and S_REQUEST_LINK_FILL as the JSON array batch
 * (on SQLite staged already: batch is NULL), inside tx, or alone when tx is NULL (PostgreSQL
 * without events only: SQLite writes the trigrams too, S_REQUEST_INDEX, so it always has one;
 * so does a request whose event is wanted, recorded with it). links: one of them is pending and
 * came with an invite link. Then runs then (may be NULL; with tx only) over the batch. Adds the
 * requests recorded to *inserted. */
static dm_err record_chunk(struct store *st, struct tx *tx, size_t n, const char *batch, bool links,
                           const struct request_then *then, size_t *inserted, struct dm_error *err)
{
    struct recorded x = {0};
    if (tx && store_event_wanted(st, EV_REQUEST_NEW) && !(x.ev = calloc(n, sizeof *x.ev)))
        return dm_fail(err, DM_ENOMEM, "out of memory recording join requests");
    struct db_args a;
    args_init(&a);
    if (batch) arg_ref(&a, batch);
    dm_err e = st->d->kind == DB_SQLITE
                   ? record_sqlite(tx, n, &x, err)
                   : record_run(st, tx, S_REQUEST_ADD, &a, recorded_row, &x, err);
    /* SQLite: their trigrams, totals and rollups, by statements over the ids just recorded */
    static const enum sql_id after_add[] = {S_REQUEST_INDEX, S_STAT_FOLD_COUNTS,
                                            S_STAT_FOLD_ARRIVALS, S_STAT_FOLD_DECIDED,
                                            S_STAT_FOLD_LATENCY};
    for (size_t i = 0; !e && x.n && tx && st->d->kind == DB_SQLITE && i < DM_ARRAY_LEN(after_add);
         i++) {
        struct db_args s;
        args_init(&s);
        arg_int(&s, x.first_id);
        e = tx_run(tx, after_add[i], &s, NULL, NULL, NULL, err);
    }
    /* some were known already, perhaps from a session, which is not told the link */
    if (!e && x.n < n && links) e = record_run(st, tx, S_REQUEST_LINK_FILL, &a, NULL, NULL, err);
    for (size_t i = 0; i < x.nev && !e; i++) {
        struct db_args v;
        args_init(&v);
        arg_int(&v, EV_REQUEST_NEW);
        arg_int(&v, x.ev[i].created_at);
        arg_int(&v, x.ev[i].chat_id);
        arg_int(&v, x.ev[i].user_id);
        arg_int(&v, x.ev[i].tg_date);
        e = tx_run(tx, S_EVENT_ADD_REQUEST, &v, NULL, NULL, NULL, err);
        tx->evented = true;
    }
    free(x.ev);
    if (!e && tx && then) e = then->fn(then->ctx, tx, batch, err);
    if (e) return e;
    *inserted += x.n;
    if (x.pending) {
        if (tx)
            tx->added = true; /* the hook runs once it is committed */
        else
            db_request_added(st);
    }
    return DM_OK;
}

/* Whether r is pending and came with an invite link (S_REQUEST_LINK_FILL). */
static bool request_linked(const struct store_request *r)
{
    return r->status == REQ_PENDING && r->invite_link[0];
}

/* SQLite: records rows[0..n) inside tx through request_batch (sql.c), emptied again after
 * then (may be NULL) ran over it. */
static dm_err record_staged(struct store *st, struct tx *tx, const struct store_request *r,
                            size_t n, const struct request_then *then, size_t *inserted,
                            struct dm_error *err)
{
    dm_err e = tx_run(tx, S_REQUEST_STAGE_TABLE, NULL, NULL, NULL, NULL, err);
    bool links = false;
    for (size_t i = 0; i < n && !e; i++) {
        char *search = NULL;
        if (names_folded(r[i].first_name, r[i].last_name, r[i].username, &search))
            return dm_fail(err, DM_ENOMEM, "out of memory recording a join request");
        struct db_args a;
        args_init(&a);
        args_request(&a, &r[i]);
        arg_ref(&a, search);
        e = tx_run(tx, S_REQUEST_STAGE, &a, NULL, NULL, NULL, err);
        free(search);
        links |= request_linked(&r[i]);
    }
    if (!e) e = record_chunk(st, tx, n, NULL, links, then, inserted, err);
    if (!e) e = tx_run(tx, S_REQUEST_UNSTAGE, NULL, NULL, NULL, NULL, err);
    return e;
}

/* Records rows[0..n) inside tx, or alone when tx is NULL (record_chunk; then n is 1), then
 * (may be NULL) run over each batch; *inserted gets how many were new. PostgreSQL: a statement
 * for each RECORD_CHUNK of them. */
static dm_err record_many(struct store *st, struct tx *tx, const struct store_request *r, size_t n,
                          const struct request_then *then, size_t *inserted, struct dm_error *err)
{
    *inserted = 0;
    if (n == 0) return DM_OK;
    if (st->d->kind == DB_SQLITE) return record_staged(st, tx, r, n, then, inserted, err);
    struct buf b;
    buf_init(&b, RECORD_JSON_MAX);
    dm_err e = DM_OK;
    for (size_t i = 0; i < n && !e;) {
        buf_reset(&b);
        struct json_out o;
        json_out_init(&o, &b);
        json_out_array(&o);
        size_t first = i;
        bool links = false;
        for (; i < n && b.len < RECORD_CHUNK && !e; i++) {
            char *search = NULL;
            if (names_folded(r[i].first_name, r[i].last_name, r[i].username, &search)) {
                e = dm_fail(err, DM_ENOMEM, "out of memory recording a join request");
                break;
            }
            json_request(&o, &r[i]);
            json_out_text(&o, search);
            json_out_end(&o);
            free(search);
            links |= request_linked(&r[i]);
        }
        json_out_end(&o);
        if (!e && json_out_finish(&o))
            e = dm_fail(err, DM_ETOOBIG, "a join request is too large to record");
        if (!e) e = record_chunk(st, tx, i - first, b.data, links, then, inserted, err);
    }
    buf_release(&b);
    return e;
}

dm_err request_insert(struct tx *tx, const struct store_request *r, size_t n, size_t *inserted,
                      struct dm_error *err)
{
    return record_many(tx->st, tx, r, n, NULL, inserted, err);
}

dm_err request_insert_then(struct tx *tx, const struct store_request *r, size_t n,
                           const struct request_then *then, size_t *inserted, struct dm_error *err)
{
    return record_many(tx->st, tx, r, n, then, inserted, err);
}

dm_err store_request_add(struct store *st, const struct store_request *r, bool *inserted,
                         struct dm_error *err)
{
    size_t n = 0;
    dm_err e = st->d->kind != DB_SQLITE && !store_event_wanted(st, EV_REQUEST_NEW)
                   ? record_many(st, NULL, r, 1, NULL, &n, err)
                   : store_request_add_many(st, r, 1, &n, err);
    if (inserted) *inserted = !e && n == 1;
    return e;
}

dm_err store_request_add_many(struct store *st, const struct store_request *r, size_t n,
                              size_t *inserted, struct dm_error *err)
{
    size_t k = 0;
    struct tx tx;
    dm_err e = tx_open(st, &tx, err);
    if (!e) e = record_many(st, &tx, r, n, NULL, &k, err);
    e = tx_close(&tx, e, err);
    if (inserted) *inserted = e ? 0 : k;
    return e;
}

dm_err store_request_get(struct store *st, int64_t id, struct store_request *out,
                         struct dm_error *err)
{
    return db_read_id(st, S_REQUEST_GET, id, row_request, out, "join request", err);
}

/* ---- filters ---- */

/* SQLite's trigram index (request_search) finds substrings of 3 characters or more. */
#define TRIGRAM_MIN 3

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* q folded as the pattern its dialect matches with: a LIKE pattern "%q%" with % _ \ escaped,
 * or for the trigram index an FTS5 phrase "q" with " doubled. malloc'd into f->pattern. */
static dm_err filter_pattern(struct filter *f, const char *q, size_t len)
{
    bool phrase = f->shape & F_INDEX;
    if (!(f->pattern = malloc(2 * len + 3))) return DM_ENOMEM;
    size_t o = 0;
    f->pattern[o++] = phrase ? '"' : '%';
    for (size_t i = 0; i < len; i++) {
        if (phrase ? q[i] == '"' : (q[i] == '%' || q[i] == '_' || q[i] == '\\'))
            f->pattern[o++] = phrase ? '"' : '\\';
        f->pattern[o++] = q[i];
    }
    f->pattern[o++] = phrase ? '"' : '%';
    f->pattern[o] = 0;
    return DM_OK;
}

dm_err filter_init(struct filter *f, const struct store_request_filter *rf, enum db_kind kind,
                   struct dm_error *err)
{
    memset(f, 0, sizeof *f);
    f->status = -1;
    if (!rf) return DM_OK;
    f->status = rf->status;
    f->chat_id = rf->chat_id;
    f->date_from = rf->date_from;
    f->date_to = rf->date_to;
    f->rule_id = rf->rule_id;
    dm_strlcpy(f->scope, rf->scope, sizeof f->scope);
    f->link = rf->invite_link;
    f->shape = (rf->status >= 0 ? F_STATUS : 0) | (rf->chat_id ? F_CHAT : 0) |
               (rf->date_from ? F_FROM : 0) | (rf->date_to ? F_TO : 0) |
               (rf->rule_id ? F_RULE : 0) | (rf->scope[0] ? F_SCOPE : 0) |
               (rf->invite_link[0] ? F_LINK : 0);
    size_t qlen = strnlen(rf->q, sizeof rf->q - 1);
    if (qlen == 0) return DM_OK;

    f->shape |= F_TEXT;
    char *q = NULL;
    size_t flen = 0;
    dm_err e = fold_text(rf->q, qlen, &q, &flen);
    if (!e && kind == DB_SQLITE && utf8_chars(q, flen) >= TRIGRAM_MIN) f->shape |= F_INDEX;
    if (!e) f->words = fold_has_word(q, flen, TRIGRAM_MIN);
    if (!e) e = filter_pattern(f, q, flen);
    free(q);
    if (e) return dm_fail(err, DM_ENOMEM, "out of memory reading the search text");

    bool digits = true;
    for (size_t i = 0; i < qlen && digits; i++)
        digits = rf->q[i] >= '0' && rf->q[i] <= '9';
    if (digits) {
        errno = 0;
        f->user_id = strtoll(rf->q, NULL, 10);
        if (errno == 0) f->shape |= F_USER;
    }
    return DM_OK;
}

void filter_release(struct filter *f)
{
    free(f->pattern);
    f->pattern = NULL;
}

/* The requests a filtered statement reads, and the id it pages by. A search by name that the
 * trigram index serves walks that index newest first and looks each match up (a CROSS JOIN
 * keeps SQLite from turning it around: asking the index about every row that another filter
 * lets through is far slower). */
static const char *filter_source(unsigned shape, const char **id)
{
    bool walk_index = (shape & F_INDEX) && !(shape & F_USER);
    *id = walk_index ? "s.rowid" : "r.id";
    return walk_index ? "request_search s CROSS JOIN invite_requests r ON r.id = s.rowid"
                      : "invite_requests r";
}

/* The search condition: the trigram index walked (above), asked for a set of ids (a search
 * that may also be a user id), or the search column compared with LIKE. */
static dm_err filter_text(struct buf *b, struct db_args *a, const struct filter *f, unsigned shape)
{
    arg_ref(a, f->pattern);
    int q = a->n;
    if (shape & F_INDEX) {
        if (!(shape & F_USER)) return buf_printf(b, " AND request_search MATCH $%d", q);
        arg_int(a, f->user_id);
        return buf_printf(b,
                          " AND r.id IN (SELECT rowid FROM request_search WHERE request_search "
                          "MATCH $%d UNION SELECT id FROM invite_requests WHERE user_id = $%d)",
                          q, a->n);
    }
    dm_err e = buf_printf(b, " AND (r.search LIKE $%d ESCAPE '\\'", q);
    if (!e && (shape & F_USER)) {
        arg_int(a, f->user_id);
        e = buf_printf(b, " OR r.user_id = $%d", a->n);
    }
    return e ? e : buf_puts(b, ")");
}

/* A list pages by id, so it must not pick the date index over the id order: `+` keeps the
 * date terms off indexes there. */
static dm_err filter_sql(struct buf *b, struct db_args *a, const struct filter *f, unsigned shape,
                         bool list)
{
    /* in the order of the shape's bits F_STATUS, F_CHAT, F_FROM, F_TO */
    static const char *const terms[] = {
        "r.status = ", "r.chat_id = ", "r.tg_date >= ", "r.tg_date <= "};
    const int64_t values[] = {f->status, f->chat_id, f->date_from, f->date_to};
    dm_err e = DM_OK;
    for (unsigned i = 0; i < DM_ARRAY_LEN(terms) && !e; i++) {
        if (!(shape & (1u << i))) continue;
        arg_int(a, values[i]);
        e = buf_printf(b, " AND %s%s$%d", list && (1u << i) >= F_FROM ? "+" : "", terms[i], a->n);
    }
    if (!e && (shape & F_RULE)) {
        arg_int(a, f->rule_id);
        e = buf_printf(b, " AND r.rule_id = $%d", a->n);
    }
    if (!e && (shape & F_SCOPE)) {
        arg_ref(a, f->scope);
        e = buf_printf(
            b, " AND r.chat_id IN (SELECT chat_id FROM channel_grants WHERE scope = $%d)", a->n);
    }
    if (!e && (shape & F_LINK)) {
        arg_ref(a, f->link);
        e = buf_printf(b, " AND r.invite_link = $%d", a->n);
    }
    if (!e && (shape & F_TEXT)) e = filter_text(b, a, f, shape);
    return e;
}

/* Each kind's statement: select FROM <source> join WHERE where <conditions> tail, where "@id"
 * in `where` and `tail` stands for the id the source pages by. The kept totals have their own
 * source and no search. */
static const struct {
    const char *select, *from, *join, *where, *tail, *what;
} filter_kinds[] = {
    [FS_LIST] = {"SELECT " REQUEST_COLS, NULL, REQUEST_JOINS, "@id < $1",
                 " ORDER BY @id DESC LIMIT $2", "listing join requests"},
    [FS_COUNT] = {"SELECT status, count(*) FROM (SELECT r.status AS status", NULL, "", "true",
                  " LIMIT $1) x GROUP BY status", "counting join requests"},
    [FS_COUNT_KEPT] = {"SELECT r.status, sum(r.n)", "request_counts r", "", "true",
                       " GROUP BY r.status", "counting join requests"},
    [FS_JOB_ITEMS] = {"INSERT INTO job_items(job_id, request_id) SELECT $1, r.id", NULL, "",
                      "r.status = 0", "", "adding a job's items"},
};

/* s with every "@id" replaced by id. */
static dm_err put_with_id(struct buf *b, const char *s, const char *id)
{
    dm_err e = DM_OK;
    for (const char *at; !e && (at = strstr(s, "@id")); s = at + 3) {
        e = buf_append(b, s, (size_t)(at - s));
        if (!e) e = buf_puts(b, id);
    }
    return e ? e : buf_puts(b, s);
}

/* A search's plan must fit its text (dialect.h, DB_PLAN_EACH). A list page unfiltered, by
 * channel or by channel and status walks one index in id order whatever the values (the ids,
 * (chat_id, id), (chat_id, status, id)), so one plan serves them all (DB_PLAN_ONCE). Other pages
 * keep the plan cache's choice: by status alone a generic plan walks all ids for a rare status
 * (1 request in 100 approved, 10k requests: 27 ms instead of 1.5 ms through (status, id)), and
 * a scope, date, rule or link may be served better by another index for some values. The kept
 * totals are a few rows a channel, read whole whatever the plan (DB_PLAN_ANY: read with a page
 * they leave its setting as it is). */
static enum db_plan filter_plan(enum filter_stmt kind, unsigned shape)
{
    if (kind == FS_COUNT_KEPT) return DB_PLAN_ANY;
    if (shape & F_TEXT) return DB_PLAN_EACH;
    if (kind == FS_LIST && (shape == 0 || shape == F_CHAT || shape == (F_CHAT | F_STATUS)))
        return DB_PLAN_ONCE;
    return DB_PLAN_AUTO;
}

dm_err filter_stmt(enum filter_stmt kind, const struct filter *f, bool with_status, struct buf *b,
                   struct db_args *a, struct db_stmt *s, struct dm_error *err)
{
    unsigned shape = with_status ? f->shape : f->shape & ~F_STATUS;
    const char *id = "r.id";
    const char *from = filter_kinds[kind].from;
    if (!from) from = filter_source(shape, &id);
    buf_init(b, SQL_FILTER_MAX);
    /* put piece by piece: a list request builds its statement's text each time (the backend
     * prepares it once, by key), and printf's "%s" of the column list cost more than the rest */
    const char *const head[] = {filter_kinds[kind].select, " FROM ", from, filter_kinds[kind].join,
                                " WHERE "};
    dm_err e = buf_reserve(b, 1024);
    for (size_t i = 0; i < DM_ARRAY_LEN(head) && !e; i++)
        e = buf_puts(b, head[i]);
    if (!e) e = put_with_id(b, filter_kinds[kind].where, id);
    if (!e) e = filter_sql(b, a, f, shape, kind == FS_LIST);
    if (!e) e = put_with_id(b, filter_kinds[kind].tail, id);
    if (e) return dm_fail(err, e, "could not build a request query: %s", dm_strerror(e));
    *s = (struct db_stmt){.key = S_COUNT + (int)kind * SQL_FILTER_SHAPES + (int)shape,
                          .sql = b->data,
                          .what = filter_kinds[kind].what,
                          .plan = filter_plan(kind, shape)};
    return DM_OK;
}

static dm_err count_row(void *ctx, const struct db_row *r)
{
    int64_t *counts = ctx;
    int64_t status = row_int(r, 0);
    if (status >= 0 && status < REQ_STATUS_COUNT) counts[status] = row_int(r, 1);
    return DM_OK;
}

/* The counting statement of f (cap as store_request_counts_upto's) into b, a, s; *kept: it
 * reads the trigger-kept totals (no filter, or only a chat or a scope), exactly. */
static dm_err counts_stmt(const struct filter *f, int64_t cap, struct buf *b, struct db_args *a,
                          struct db_stmt *s, bool *kept, struct dm_error *err)
{
    *kept = (f->shape & ~(F_STATUS | F_CHAT | F_SCOPE)) == 0;
    args_init(a);
    if (!*kept) arg_int(a, cap > 0 ? cap + 1 : INT64_MAX);
    return filter_stmt(*kept ? FS_COUNT_KEPT : FS_COUNT, f, false, b, a, s, err);
}

/* ---- PostgreSQL: a search's first page with its counts ----
 *
 * A search's page and its capped counts, as two statements planned for their text
 * (DB_PLAN_EACH), cost PostgreSQL 0.3-0.4 ms of CPU a search planning them, and a name with a
 * few hundred matches often got a page plan that walks the ids newest first through thousands
 * of rows, while the trigram index lists its matches at once. This statement is planned once
 * (DB_PLAN_ONCE) and reads through the trigram index, unless the matches are dense:
 *   n, d  it counts the matches among the newest 256 requests (f = hits / 256) and leaves the
 *         search to the two statements planned for its text (which walk the rows, stopping at
 *         the cap) when walking reads the cap + 1 matches sooner than the index finds them:
 *         (cap + 1) / f rows at 0.2 us against (cap + 1) lookups at 1.3 us and f x N index
 *         entries at 0.04 us (N the highest id; CPU measured on this project's machine, written
 *         in whole numbers below);
 *   m     else the first cap + 1 matches through the index, their ids and statuses: the counts;
 *   c     whether m holds every match (fewer than cap + 1): then the page is its newest.
 * Each row ends with its kind: 0 a request of the page (REQUEST_COLS), 1 a count (status,
 * count), 2 the page is still to be read (m was cut at the cap), 3 the page and the counts are
 * (the matches are dense). A text without 3 letters or digits in a row gives the index no
 * trigram to look up (it would read the whole index): such a search, and one with other filters
 * than its status, keeps the two statements. $1 before, $2 the page's size, $3 cap + 1, then
 * the text's values, then the status's. */
#define SEARCH_KIND_COL 27
#define SEARCH_FIRST_SQL                                                                           \
    "WITH n AS MATERIALIZED (SELECT count(*) AS hits FROM (SELECT r.search, r.user_id FROM "       \
    "invite_requests r ORDER BY r.id DESC LIMIT 256) r WHERE true%s), "                            \
    "d AS MATERIALIZED (SELECT $3::bigint * 1310720 < n.hits * ($3::bigint * 33280 + n.hits * "    \
    "coalesce((SELECT max(id) FROM invite_requests), 0) * 4) AS walk FROM n), "                    \
    "m AS MATERIALIZED (SELECT r.id, r.status FROM invite_requests r WHERE NOT (SELECT walk FROM " \
    "d)%s LIMIT $3), "                                                                             \
    "c AS MATERIALIZED (SELECT count(*) < $3 AS few FROM m) "                                      \
    "(SELECT " REQUEST_COLS ", 0 FROM (SELECT m.id FROM m WHERE (SELECT few FROM c) AND "          \
    "m.id < $1%s ORDER BY m.id DESC LIMIT $2) p JOIN invite_requests r ON r.id = "                 \
    "p.id" REQUEST_JOINS " ORDER BY r.id DESC) "                                                   \
    "UNION ALL SELECT status, count(*)" SEARCH_NULLS25 ", 1 FROM m GROUP BY status "               \
    "UNION ALL SELECT NULL, NULL" SEARCH_NULLS25 ", CASE WHEN (SELECT walk FROM d) THEN 3 ELSE 2 " \
    "END WHERE NOT (SELECT few FROM c) OR (SELECT walk FROM d)"
#define SEARCH_NULLS5 ", NULL, NULL, NULL, NULL, NULL"
#define SEARCH_NULLS25 SEARCH_NULLS5 SEARCH_NULLS5 SEARCH_NULLS5 SEARCH_NULLS5 SEARCH_NULLS5

/* Whether the first page of f with counts up to cap is read by SEARCH_FIRST_SQL (above). */
static bool search_first_fits(const struct store *st, const struct filter *f, int limit,
                              int64_t cap, bool counts)
{
    return st->d->kind == DB_POSTGRES && counts && cap > 0 && limit > 0 && f->words &&
           (f->shape & F_TEXT) && !(f->shape & ~(F_TEXT | F_USER | F_STATUS));
}

static dm_err search_first_stmt(const struct filter *f, int64_t before_id, int limit, int64_t cap,
                                struct buf *b, struct db_args *a, struct db_stmt *s,
                                struct dm_error *err)
{
    args_init(a);
    arg_int(a, before_id > 0 ? before_id : INT64_MAX);
    arg_int(a, limit);
    arg_int(a, cap + 1);
    struct buf t;
    buf_init(&t, SQL_FILTER_MAX);
    dm_err e = filter_text(&t, a, f, f->shape);
    char in_m[32] = "";
    if (f->shape & F_STATUS) {
        arg_int(a, f->status);
        snprintf(in_m, sizeof in_m, " AND m.status = $%d", a->n);
    }
    buf_init(b, SQL_FILTER_MAX);
    if (!e) e = buf_printf(b, SEARCH_FIRST_SQL, t.data, t.data, in_m);
    buf_release(&t);
    if (e) return dm_fail(err, e, "could not build a request query: %s", dm_strerror(e));
    *s = (struct db_stmt){.key = S_COUNT + FS_SEARCH_FIRST * SQL_FILTER_SHAPES + (int)f->shape,
                          .sql = b->data,
                          .what = "searching join requests",
                          .plan = DB_PLAN_ONCE};
    return DM_OK;
}

/* SEARCH_FIRST_SQL's rows, each to where its kind says. */
struct search_sink {
    db_row_fn page_fn;
    void *page_ctx;
    int64_t *counts;
    bool page_left, counts_left; /* still to be read */
};

static dm_err count_row(void *ctx, const struct db_row *r);

static dm_err search_row(void *ctx, const struct db_row *r)
{
    struct search_sink *k = ctx;
    int64_t kind = row_int(r, SEARCH_KIND_COL);
    if (kind == 0) return k->page_fn(k->page_ctx, r);
    if (kind == 1) return count_row(k->counts, r);
    k->page_left = true;
    k->counts_left = kind == 3;
    return DM_OK;
}

/* The page (its rows to page_fn with page_ctx) and the counts, read together. */
static dm_err page_read(struct store *st, const struct store_request_filter *rf, int64_t before_id,
                        int limit, db_row_fn page_fn, void *page_ctx, int64_t cap,
                        int64_t counts[REQ_STATUS_COUNT], bool *exact, struct dm_error *err)
{
    for (int i = 0; counts && i < REQ_STATUS_COUNT; i++)
        counts[i] = 0;
    if (exact) *exact = true;
    if (limit <= 0 && !counts) return DM_OK;
    struct filter f;
    dm_err e = filter_init(&f, rf, st->d->kind, err);
    if (e) return e;
    struct db_read reads[2];
    int nreads = 0;
    struct db_args la, ca;
    struct buf lb = {0}, cb = {0};
    struct db_stmt ls, cs;
    bool kept = true, count_apart = counts != NULL;
    struct search_sink k = {page_fn, page_ctx, counts, false, false};
    if (search_first_fits(st, &f, limit, cap, counts)) {
        /* one statement; the page, or it and the counts, afterwards when that one asks */
        kept = false;
        e = search_first_stmt(&f, before_id, limit, cap, &cb, &ca, &cs, err);
        reads[nreads++] = (struct db_read){&cs, &ca, search_row, &k};
        if (!e) e = db_read_many(st, reads, nreads, err);
        nreads = 0;
        buf_release(&cb);
        if (!e && !k.page_left) limit = 0;
        count_apart = k.counts_left;
    }
    if (!e && limit > 0) {
        args_init(&la);
        arg_int(&la, before_id > 0 ? before_id : INT64_MAX);
        arg_int(&la, limit);
        e = filter_stmt(FS_LIST, &f, true, &lb, &la, &ls, err);
        reads[nreads++] = (struct db_read){&ls, &la, page_fn, page_ctx};
    }
    if (!e && count_apart) {
        e = counts_stmt(&f, cap, &cb, &ca, &cs, &kept, err);
        reads[nreads++] = (struct db_read){&cs, &ca, count_row, counts};
    }
    /* the page and its counts in one round trip where the dialect can */
    if (!e && nreads) e = db_read_many(st, reads, nreads, err);
    buf_release(&lb);
    buf_release(&cb);
    filter_release(&f);
    int64_t total = 0;
    for (int i = 0; counts && i < REQ_STATUS_COUNT; i++)
        total += counts[i];
    if (!e && !kept && cap > 0 && total > cap && exact) *exact = false;
    return e;
}

/* store_request_page's rows: each read into one record, handed to the caller's fn. */
struct page_sink {
    store_request_fn fn;
    void *ctx;
    int n, limit;
    struct store_request r;
};

static dm_err page_row(void *ctx, const struct db_row *row)
{
    struct page_sink *p = ctx;
    if (p->n >= p->limit) return DM_OK;
    row_request_over(row, &p->r); /* cleared once: a row's fields are all written anyway */
    p->n++;
    p->fn(p->ctx, &p->r);
    return DM_OK;
}

dm_err store_request_page(struct store *st, const struct store_request_filter *rf,
                          int64_t before_id, int limit, store_request_fn fn, void *ctx, int *n,
                          int64_t cap, int64_t counts[REQ_STATUS_COUNT], bool *exact,
                          struct dm_error *err)
{
    struct page_sink *p =
        calloc(1, sizeof *p); /* a record is 4.5 KB: not on a pool thread's stack */
    if (!p) return dm_fail(err, DM_ENOMEM, "out of memory reading a page of requests");
    p->fn = fn;
    p->ctx = ctx;
    p->limit = limit;
    dm_err e = page_read(st, rf, before_id, limit, page_row, p, cap, counts, exact, err);
    *n = p->n;
    free(p);
    return e;
}

dm_err store_request_list(struct store *st, const struct store_request_filter *rf,
                          int64_t before_id, int limit, struct store_request *out, int *n,
                          struct dm_error *err)
{
    struct db_collect rows = {
        .fn = row_request, .out = (char *)out, .size = sizeof *out, .limit = limit};
    dm_err e = page_read(st, rf, before_id, limit, db_collect_row, &rows, 0, NULL, NULL, err);
    *n = e ? 0 : rows.n;
    return e;
}

dm_err store_request_counts_upto(struct store *st, const struct store_request_filter *rf,
                                 int64_t cap, int64_t counts[REQ_STATUS_COUNT], bool *exact,
                                 struct dm_error *err)
{
    return page_read(st, rf, 0, 0, NULL, NULL, cap, counts, exact, err);
}

dm_err store_request_counts(struct store *st, const struct store_request_filter *rf,
                            int64_t counts[REQ_STATUS_COUNT], struct dm_error *err)
{
    return store_request_counts_upto(st, rf, 0, counts, NULL, err);
}

static void row_total(const struct db_row *r, void *out)
{
    struct store_request_total *t = out;
    t->chat_id = row_int(r, 0);
    t->status = (int)row_int(r, 1);
    t->n = row_int(r, 2);
}

dm_err store_request_totals(struct store *st, size_t max, struct store_request_total **out,
                            size_t *n, struct dm_error *err)
{
    return db_read_all(st, S_REQUEST_TOTALS, NULL, row_total, sizeof **out, max, "channel totals",
                       (void **)out, n, err);
}

/* ---- folding again ---- */

struct names {
    int64_t id;
    char first[STORE_TEXT_MAX], last[STORE_TEXT_MAX], username[STORE_NAME_MAX];
};

static void row_names(const struct db_row *r, void *out)
{
    struct names *x = out;
    x->id = row_int(r, 0);
    ROW_TEXT(r, 1, x->first);
    ROW_TEXT(r, 2, x->last);
    ROW_TEXT(r, 3, x->username);
}

static void row_version(const struct db_row *r, void *out)
{
    row_text(r, 0, out, 64);
}

/* Folds one batch of rows after *after again inside tx; *n gets how many there were. */
static dm_err refold_batch(struct store *st, int64_t *after, int *n, struct names *rows,
                           struct dm_error *err)
{
    struct db_args a;
    args_init(&a);
    arg_int(&a, *after);
    arg_int(&a, REFOLD_BATCH);
    struct db_stmt s = db_stmt_of(st, S_REQUEST_NAMES);
    dm_err e = db_read(st, &s, &a, row_names, rows, sizeof *rows, REFOLD_BATCH, n, err);
    struct tx tx;
    if (!e && *n) e = tx_open(st, &tx, err);
    for (int i = 0; i < *n && !e; i++) {
        char *search = NULL;
        if (names_folded(rows[i].first, rows[i].last, rows[i].username, &search)) {
            e = dm_fail(err, DM_ENOMEM, "out of memory folding names for search");
            break;
        }
        struct db_args u;
        args_init(&u);
        arg_int(&u, rows[i].id);
        arg_ref(&u, search);
        e = tx_run(&tx, S_REQUEST_SET_SEARCH, &u, NULL, NULL, NULL, err);
        free(search);
        *after = rows[i].id;
    }
    return *n ? tx_close(&tx, e, err) : e;
}

dm_err requests_refold(struct store *st, struct dm_error *err)
{
    char have[64] = "";
    dm_err e = db_read_one(st, S_FOLD_VERSION_GET, NULL, row_version, have, "", err);
    if (e == DM_ENOTFOUND) e = DM_OK;
    if (e || strcmp(have, fold_version()) == 0) return e;
    struct names *rows = malloc(REFOLD_BATCH * sizeof *rows);
    if (!rows) return dm_fail(err, DM_ENOMEM, "out of memory folding names for search");
    int64_t after = 0;
    for (int n = REFOLD_BATCH; !e && n == REFOLD_BATCH;)
        e = refold_batch(st, &after, &n, rows, err);
    free(rows);
    if (e) return e;
    struct db_args a;
    args_init(&a);
    arg_ref(&a, fold_version());
    return db_exec(st, S_FOLD_VERSION_SET, &a, NULL, err);
}
