/* date.h: the dates admins type in filters: Unix seconds or an ISO day. */
#ifndef DM_DATE_H
#define DM_DATE_H

#include "core/common.h"

/* Parses s as Unix seconds (at most 12 digits) or "YYYY-MM-DD" (UTC; with end_of_day, 23:59:59
 * of that day). False for anything else, including days that do not exist (2026-02-31). */
bool date_parse(const char *s, bool end_of_day, int64_t *out);

#endif
