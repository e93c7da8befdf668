/* fields.h: the columns of the records the API lists and exports, one table per record, so
 * that the list's JSON, the JSON Lines export and the CSV export cannot disagree, and a new
 * column is one line in fields.c.
 *
 * A table names each field, how it is written and where it sits in the record (offsetof).
 * Fields marked export_only (the ISO 8601 twins of times, for people reading a spreadsheet) are
 * written by exports only; the others in table order by both, so the list's JSON of a record is
 * an export's JSON line of it without those. */
#ifndef DM_API_FIELDS_H
#define DM_API_FIELDS_H

#include "core/common.h"
#include "core/buf.h"
#include "core/json_out.h"

enum field_kind {
    FIELD_INT,         /* int64_t */
    FIELD_INT_OR_NULL, /* int64_t, 0 = none (a time not yet, no rule): null, an empty CSV cell */
    FIELD_UTC,         /* an int64_t time as ISO 8601 UTC text, 0 = none as above */
    FIELD_TEXT,        /* char[]: text from outside (neutralised in CSV: core/csv.h) */
    FIELD_BOOL,        /* bool: true or false */
    FIELD_STATUS,      /* int, an enum request_status: its name */
    FIELD_VERIFY,      /* int, an enum verify_state: its name; -1 (none): null, an empty cell */
};

struct field {
    const char *name;     /* the JSON key and the CSV header */
    const char *key_json; /* JSON_OUT_KEY(name): the key as json_out_key_json writes it */
    size_t key_len;
    enum field_kind kind;
    size_t offset; /* in the record */
    bool export_only;
};

struct record_fields {
    const struct field *v;
    size_t n;
};

extern const struct record_fields request_fields; /* struct store_request (docs/api.md) */
extern const struct record_fields audit_fields;   /* struct store_audit */

/* rec's fields as the members of a JSON object (the caller opens and ends it), without the
 * export_only ones unless `exported`. */
void fields_json(struct json_out *o, const struct record_fields *f, const void *rec, bool exported);
/* A CSV header record of every field's name, and rec as one CSV record (core/csv.h). */
dm_err fields_csv_header(struct buf *b, const struct record_fields *f);
dm_err fields_csv(struct buf *b, const struct record_fields *f, const void *rec);

#endif
