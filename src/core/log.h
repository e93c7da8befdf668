/* log.h: line-oriented logging to stderr, safe from any thread.
 *
 * Each message is one line: text ("2026-01-02T03:04:05.678Z warn  bot: message") or, with
 * LOG_JSON, one JSON object ({"ts":…,"level":…,"component":…,"msg":…}). Control characters
 * in a message become '?', so a line is always one line. The last LOG_RECENT_MAX warnings and
 * errors are also kept in memory for the panel's Logs page (log_recent).
 *
 * Never pass secrets (tokens, passwords, API hashes, keys, cookies) to these functions;
 * log a name or an id instead. */
#ifndef DM_LOG_H
#define DM_LOG_H

#include "core/common.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

#define LOG_RECENT_MAX 500 /* warnings and errors kept for log_recent */
#define LOG_COMPONENT_MAX 32
#define LOG_MSG_MAX 1024

void log_set_level(enum log_level lvl);
/* "debug", "info", "warn" or "error"; returns -1 for anything else. */
int log_parse_level(const char *s);
void log_set_format(enum log_format f);
/* "text" or "json"; returns -1 for anything else. */
int log_parse_format(const char *s);
void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A kept warning or error. */
struct log_entry {
    int64_t at_ms; /* Unix time in milliseconds */
    int level;     /* LOG_WARN or LOG_ERROR */
    char component[LOG_COMPONENT_MAX];
    char msg[LOG_MSG_MAX]; /* valid UTF-8, no control characters */
};
/* Copies the kept warnings and errors, newest first, into out[0..max); returns how many. */
size_t log_recent(struct log_entry *out, size_t max);
/* "debug", "info", "warn", "error". */
const char *log_level_name(int lvl);

#define log_debug(c, ...) log_msg(LOG_DEBUG, c, __VA_ARGS__)
#define log_info(c, ...) log_msg(LOG_INFO, c, __VA_ARGS__)
#define log_warn(c, ...) log_msg(LOG_WARN, c, __VA_ARGS__)
#define log_error(c, ...) log_msg(LOG_ERROR, c, __VA_ARGS__)

#endif
