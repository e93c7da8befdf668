/* export.c: the Invite Requests table (under the list's filter) and the audit log as CSV
 * (RFC 4180, core/csv.h) or JSON Lines, streamed (http_res_stream): the rows are read a page at
 * a time by key (newest first, ids below the last one sent, never OFFSET), each page written
 * out before the next is read, so a million rows go out with the memory of one page. The
 * columns are fields.c's; every export is audited ("export", with its format and filter). */
#include "core/common.h"
#include "api/api.h"
#include "api/fields.h"
#include "core/buf.h"
#include "core/csv.h"
#include "core/date.h"
#include "core/json_out.h"
#include "core/log.h"

/* Rows read at once (what the list's largest page reads), and a page of them written out at its
 * largest (every byte of every text escaped). */
#define EXPORT_PAGE 500
#define EXPORT_PAGE_MAX (32u << 20)

enum export_format { EXPORT_CSV, EXPORT_JSONL };

/* What is exported: a record type, its columns and how a page of it is read. */
struct export_source {
    const char *name; /* in the file name and the audit entry */
    const struct record_fields *fields;
    size_t size;      /* of one record */
    size_t id_offset; /* of its int64_t id, the key pages are read by */
    dm_err (*read)(struct store *st, const struct store_request_filter *f, int64_t before,
                   int limit, void *out, int *n, struct dm_error *err);
};

static dm_err requests_read(struct store *st, const struct store_request_filter *f, int64_t before,
                            int limit, void *out, int *n, struct dm_error *err)
{
    return store_request_list(st, f, before, limit, out, n, err);
}

static dm_err audit_read(struct store *st, const struct store_request_filter *f, int64_t before,
                         int limit, void *out, int *n, struct dm_error *err)
{
    (void)f; /* the audit log is exported whole, as its list has no filter */
    return store_audit_list(st, before, limit, out, n, err);
}

static const struct export_source requests_source = {
    "requests", &request_fields, sizeof(struct store_request), offsetof(struct store_request, id),
    requests_read};
static const struct export_source audit_source = {"audit", &audit_fields,
                                                  sizeof(struct store_audit),
                                                  offsetof(struct store_audit, id), audit_read};

/* One export under way; owned by the HTTP server from http_res_stream on (export_free). */
struct export_stream {
    struct store *store;
    const struct export_source *src;
    struct store_request_filter filter;
    enum export_format format;
    char what[STORE_ERROR_MAX]; /* the audit entry's detail, for the log */
    void *rows;                 /* EXPORT_PAGE records */
    int64_t before;             /* the next page has ids below this; 0 = the first page */
    bool last_read;             /* the page read last was the last one */
    bool streaming;             /* handed to the server: its end is logged */
    bool complete;              /* the end of the body was handed over */
    int64_t rows_out;
    struct buf out; /* the written page; out.data + sent is what the client has not had yet */
    size_t sent;
};

static void export_free(void *arg)
{
    struct export_stream *x = arg;
    if (x->streaming)
        log_info("api", "export of %s: %" PRId64 " rows%s", x->what, x->rows_out,
                 x->complete ? "" : " (cut off: the client went away or doorman stopped)");
    buf_release(&x->out);
    free(x->rows);
    free(x);
}

/* Reads the next page and writes it into x->out (emptied first). */
static dm_err page_next(struct export_stream *x, struct dm_error *err)
{
    int n = 0;
    dm_err e = x->src->read(x->store, &x->filter, x->before, EXPORT_PAGE, x->rows, &n, err);
    if (e) return e;
    buf_reset(&x->out);
    x->sent = 0;
    for (int i = 0; i < n && !e; i++) {
        const char *rec = (const char *)x->rows + (size_t)i * x->src->size;
        if (x->format == EXPORT_CSV) {
            e = fields_csv(&x->out, x->src->fields, rec);
            continue;
        }
        struct json_out o;
        json_out_init(&o, &x->out);
        json_out_object(&o);
        fields_json(&o, x->src->fields, rec, true);
        json_out_end(&o);
        e = json_out_finish(&o);
        if (!e) e = buf_append(&x->out, "\n", 1);
    }
    if (e) return dm_fail(err, e, "could not write a page of the export: %s", dm_strerror(e));
    if (n > 0)
        memcpy(&x->before,
               (const char *)x->rows + (size_t)(n - 1) * x->src->size + x->src->id_offset,
               sizeof x->before);
    x->rows_out += n;
    x->last_read = n < EXPORT_PAGE;
    return DM_OK;
}

/* http_stream_fn: what is left of the page written, then the next page, until the last. */
static dm_err export_produce(void *arg, char *buf, size_t max, size_t *n)
{
    struct export_stream *x = arg;
    while (x->sent == x->out.len) {
        if (x->last_read) {
            x->complete = true;
            *n = 0;
            return DM_OK;
        }
        struct dm_error err = {0};
        dm_err e = page_next(x, &err);
        if (e) {
            log_error("api", "export of %s cut off after %" PRId64 " rows: %s", x->what,
                      x->rows_out, err.msg[0] ? err.msg : dm_strerror(e));
            return e;
        }
    }
    *n = DM_MIN(max, x->out.len - x->sent);
    memcpy(buf, x->out.data + x->sent, *n);
    x->sent += *n;
    return DM_OK;
}

/* ?format= and ?bom=; false after answering 400. */
static bool query_format(struct api_ctx *c, enum export_format *format, bool *bom)
{
    const char *f = http_query(c->req, "format");
    const char *b = http_query(c->req, "bom");
    if (!f || !*f || strcmp(f, "csv") == 0)
        *format = EXPORT_CSV;
    else if (strcmp(f, "jsonl") == 0)
        *format = EXPORT_JSONL;
    else
        return api_bad_request(c, "'format' must be csv or jsonl.");
    *bom = b && strcmp(b, "1") == 0;
    if (b && *b && strcmp(b, "1") != 0 && strcmp(b, "0") != 0)
        return api_bad_request(c, "'bom' must be 1 (a UTF-8 byte order mark first) or 0.");
    if (*bom && *format != EXPORT_CSV)
        return api_bad_request(c, "'bom' is for CSV only (JSON Lines never has one).");
    return true;
}

/* The audit entry's detail: what was exported, its format and its filter. */
static void describe(struct export_stream *x, bool bom)
{
    const struct store_request_filter *f = &x->filter;
    char from[DATE_UTC_LEN], to[DATE_UTC_LEN];
    date_format_utc(f->date_from, from);
    date_format_utc(f->date_to, to);
    int w = dm_snprintf_utf8(x->what, sizeof x->what, "%s %s%s", x->src->name,
                             x->format == EXPORT_CSV ? "csv" : "jsonl", bom ? " bom" : "");
    if (x->src != &requests_source) return;
    char ids[64] = ""; /* " chat_id=… rule_id=…", those set */
    int iw = f->chat_id ? snprintf(ids, sizeof ids, " chat_id=%" PRId64, f->chat_id) : 0;
    if (f->rule_id) snprintf(ids + iw, sizeof ids - (size_t)iw, " rule_id=%" PRId64, f->rule_id);
    dm_snprintf_utf8(x->what + w, sizeof x->what - (size_t)w, " status=%s%s%s%s%s%s%s%s%s",
                     f->status >= 0 ? request_status_name(f->status) : "all", ids,
                     f->date_from ? " from=" : "", f->date_from ? from : "",
                     f->date_to ? " to=" : "", f->date_to ? to : "", f->q[0] ? " q=\"" : "", f->q,
                     f->q[0] ? "\"" : "");
}

static void export_start(struct api_ctx *c, const struct export_source *src,
                         const struct store_request_filter *filter)
{
    enum export_format format = EXPORT_CSV;
    bool bom = false;
    if (!query_format(c, &format, &bom)) return;
    struct export_stream *x = calloc(1, sizeof *x);
    if (x) x->rows = malloc(EXPORT_PAGE * src->size);
    if (!x || !x->rows) {
        free(x);
        api_store_failed(c, DM_ENOMEM, NULL);
        return;
    }
    x->store = c->env->store;
    x->src = src;
    x->filter = *filter;
    x->format = format;
    buf_init(&x->out, EXPORT_PAGE_MAX);
    describe(x, bom);

    /* the first page is read before anything is sent, so a database that fails is a JSON
     * error and changes nothing; then the export is audited */
    struct dm_error err = {0};
    dm_err e = page_next(x, &err);
    struct store_audit a = {.at = time(NULL)};
    dm_strlcpy(a.admin, c->session.admin_name, sizeof a.admin);
    dm_strlcpy(a.action, "export", sizeof a.action);
    dm_strlcpy(a.result, "ok", sizeof a.result);
    dm_strlcpy(a.detail, x->what, sizeof a.detail);
    struct buf head;
    buf_init(&head, EXPORT_PAGE_MAX);
    if (!e && bom) e = buf_puts(&head, CSV_BOM);
    if (!e && format == EXPORT_CSV) e = fields_csv_header(&head, src->fields);
    if (!e) e = buf_append(&head, x->out.data ? x->out.data : "", x->out.len);
    if (!e) e = store_audit_add(x->store, &a, &err);
    if (e) {
        buf_release(&head);
        export_free(x);
        api_store_failed(c, e, &err);
        return;
    }
    buf_release(&x->out);
    x->out = head; /* the head, then the first page */
    x->streaming = true;

    char stamp[DATE_UTC_LEN], disposition[128];
    date_format_utc(a.at, stamp); /* 2026-12-05T08:51:41Z → 20261205-085141 */
    snprintf(disposition, sizeof disposition,
             "attachment; filename=\"doorman-%s-%.4s%.2s%.2s-%.2s%.2s%.2s.%s\"", src->name, stamp,
             stamp + 5, stamp + 8, stamp + 11, stamp + 14, stamp + 17,
             format == EXPORT_CSV ? "csv" : "jsonl");
    http_res_header(c->res, "Content-Disposition", disposition);
    http_res_stream(c->res, 200,
                    format == EXPORT_CSV ? "text/csv; charset=utf-8; header=present"
                                         : "application/jsonl; charset=utf-8",
                    export_produce, x, export_free);
}

void api_requests_export(struct api_ctx *c)
{
    struct store_request_filter f;
    if (api_query_filter(c, &f)) export_start(c, &requests_source, &f);
}

void api_audit_export(struct api_ctx *c)
{
    struct store_request_filter none = {.status = -1};
    export_start(c, &audit_source, &none);
}
