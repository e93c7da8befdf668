/* log.h: line-oriented logging to stderr, safe from any thread.
 *
 * Never pass secrets (tokens, passwords, API hashes, keys, cookies) to these functions;
 * log a name or an id instead. */
#ifndef DM_LOG_H
#define DM_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
/* "debug", "info", "warn" or "error"; returns -1 for anything else. */
int log_parse_level(const char *s);
void log_msg(enum log_level lvl, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(c, ...) log_msg(LOG_DEBUG, c, __VA_ARGS__)
#define log_info(c, ...) log_msg(LOG_INFO, c, __VA_ARGS__)
#define log_warn(c, ...) log_msg(LOG_WARN, c, __VA_ARGS__)
#define log_error(c, ...) log_msg(LOG_ERROR, c, __VA_ARGS__)

#endif
