#include "core/common.h"
#include "core/log.h"

#include <pthread.h>

static enum log_level min_level = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level lvl)
{
    min_level = lvl;
}

int log_parse_level(const char *s)
{
    for (size_t i = 0; i < DM_ARRAY_LEN(level_names); i++)
        if (s && strcmp(s, level_names[i]) == 0) return (int)i;
    return -1;
}

void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
{
    if (lvl < min_level) return;
    char line[1024];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_names[lvl], component);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line) /* cut at a character, bad bytes U+FFFD */
        dm_vsnprintf_utf8(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* one line per message: control characters from outside text become '?' */
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20) *p = '?';
    pthread_mutex_lock(&log_lock);
    fputs(line, stderr);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}
