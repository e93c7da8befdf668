/* csv.h: CSV text (RFC 4180) that spreadsheet programs open as data, never as formulas.
 *
 * Fields are separated by commas and records end with CRLF. A text field is always quoted
 * ("…", a " inside doubled), so commas, quotes and line breaks in it stay inside the field, and
 * it is written as valid UTF-8 as dm_utf8_copy makes text. A text that starts with a character
 * a spreadsheet takes as the start of a formula or a command (= + - @, tab, carriage return) is
 * neutralised as OWASP's "CSV Injection" page recommends: a single quote ' is put before it, so
 * "=HYPERLINK(…)" arrives as the text '=HYPERLINK(…) (spreadsheets show the text; other readers
 * see the quote). Numbers are written as they are: they come from doorman, not from outside.
 *
 * Every function appends to b (the caller's) and returns buf_append's error (DM_ETOOBIG past
 * its cap, DM_ENOMEM); b may then hold part of the field. */
#ifndef DM_CSV_H
#define DM_CSV_H

#include "core/common.h"
#include "core/buf.h"

/* The UTF-8 byte order mark, which makes Excel read a CSV file as UTF-8. */
#define CSV_BOM "\xEF\xBB\xBF"

/* Whether text starting with s would be neutralised (its first byte is one of = + - @ \t \r). */
bool csv_is_formula(const char *s);
/* A separator before every field but a record's first: first says which this is. */
dm_err csv_text(struct buf *b, bool first, const char *s);
dm_err csv_int(struct buf *b, bool first, int64_t v);
/* A field as it is (ASCII that needs no quoting: "true", a date); "" for an empty field. */
dm_err csv_raw(struct buf *b, bool first, const char *s);
dm_err csv_end_record(struct buf *b); /* CRLF */

#endif
