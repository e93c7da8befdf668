#include "core/common.h"
#include "core/date.h"

#include <ctype.h>

bool date_parse(const char *s, bool end_of_day, int64_t *out)
{
    if (!s || !*s) return false;
    bool digits = true;
    for (const char *p = s; *p; p++)
        digits = digits && isdigit((unsigned char)*p);
    if (digits) {
        if (strlen(s) > 12) return false;
        *out = strtoll(s, NULL, 10);
        return true;
    }
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) return false;
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31) return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    if (tm.tm_mday != d) return false; /* 2026-02-31 */
    *out = (int64_t)t + (end_of_day ? 86399 : 0);
    return true;
}

void date_format_utc(int64_t t, char out[DATE_UTC_LEN])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999) {
        dm_strlcpy(out, "0000-00-00T00:00:00Z", DATE_UTC_LEN);
        return;
    }
    if (strftime(out, DATE_UTC_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) out[0] = 0;
}
