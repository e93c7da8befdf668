/* date.h: the dates admins type in filters (Unix seconds or an ISO day), and times written for
 * people (ISO 8601, UTC). */
#ifndef DM_DATE_H
#define DM_DATE_H

#include "core/common.h"

/* Parses s as Unix seconds (at most 12 digits) or "YYYY-MM-DD" (UTC; with end_of_day, 23:59:59
 * of that day). False for anything else, including days that do not exist (2026-02-31). */
bool date_parse(const char *s, bool end_of_day, int64_t *out);

/* Writes t as ISO 8601 in UTC, "2026-01-31T23:59:59Z", into out; a time outside the years
 * 1000..9999 (no date Telegram sends) as "0000-00-00T00:00:00Z". */
#define DATE_UTC_LEN 21 /* the text and its NUL */
void date_format_utc(int64_t t, char out[DATE_UTC_LEN]);

#endif
