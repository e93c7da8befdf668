#include "core/common.h"
#include "core/log.h"

#include <pthread.h>

static enum log_level min_level = LOG_INFO;
static enum log_format format = LOG_TEXT;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const format_names[] = {"text", "json"};

/* The kept warnings and errors: a ring under log_lock; `kept` counts every one ever kept. */
static struct log_entry recent[LOG_RECENT_MAX];
static uint64_t kept;

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

const char *log_level_name(int lvl)
{
    return lvl >= 0 && lvl < (int)DM_ARRAY_LEN(level_names) ? level_names[lvl] : "?";
}

void log_set_format(enum log_format f)
{
    format = f;
}

int log_parse_format(const char *s)
{
    for (size_t i = 0; i < DM_ARRAY_LEN(format_names); i++)
        if (s && strcmp(s, format_names[i]) == 0) return (int)i;
    return -1;
}

/* s as the inside of a JSON string (no control characters are left in it by then). */
static size_t json_escaped(char *dst, size_t n, const char *s)
{
    size_t o = 0;
    for (; *s && o + 2 < n; s++) {
        if (*s == '"' || *s == '\\') dst[o++] = '\\';
        dst[o++] = *s;
    }
    dst[o] = 0;
    return o;
}

static void keep(int64_t at_ms, enum log_level lvl, const char *component, const char *msg)
{
    struct log_entry *e = &recent[kept++ % LOG_RECENT_MAX];
    e->at_ms = at_ms;
    e->level = lvl;
    dm_utf8_copy(e->component, sizeof e->component, component);
    dm_strlcpy(e->msg, msg, sizeof e->msg);
}

void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
{
    if (lvl < min_level) return;
    char msg[LOG_MSG_MAX];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    va_list ap;
    va_start(ap, fmt);
    dm_vsnprintf_utf8(msg, sizeof msg, fmt, ap); /* cut at a character, bad bytes U+FFFD */
    va_end(ap);
    /* one line per message: control characters from outside text become '?' */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20) *p = '?';
    /* a line: the message escaped (at most twice as long) and what goes around it */
    char line[2 * LOG_MSG_MAX + 2 * LOG_COMPONENT_MAX + 128];
    if (format == LOG_JSON) {
        char m[2 * LOG_MSG_MAX], c[2 * LOG_COMPONENT_MAX];
        json_escaped(m, sizeof m, msg);
        json_escaped(c, sizeof c, component);
        snprintf(line, sizeof line,
                 "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"msg\":\"%s\"}", when,
                 level_names[lvl], c, m);
    } else {
        snprintf(line, sizeof line, "%s %-5s %s: %s", when, level_names[lvl], component, msg);
    }
    pthread_mutex_lock(&log_lock);
    if (lvl >= LOG_WARN)
        keep((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, lvl, component, msg);
    fputs(line, stderr);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

size_t log_recent(struct log_entry *out, size_t max)
{
    pthread_mutex_lock(&log_lock);
    size_t n = (size_t)DM_MIN(kept, (uint64_t)LOG_RECENT_MAX);
    n = DM_MIN(n, max);
    for (size_t i = 0; i < n; i++)
        out[i] = recent[(kept - 1 - i) % LOG_RECENT_MAX];
    pthread_mutex_unlock(&log_lock);
    return n;
}
