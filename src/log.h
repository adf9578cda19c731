/*
 * log.h — diagnostics on stderr, OpenBSD style: log_warn appends strerror(errno), log_warnx does not.
 * Every line starts with the prefix given to log_init ("bbgitops: "). Verbosity: -q hides info, -v shows debug.
 * Never pass a token, key or Authorization header to these functions.
 */
#ifndef BBGITOPS_LOG_H
#define BBGITOPS_LOG_H

enum log_level { LOG_LEVEL_QUIET = 0, LOG_LEVEL_NORMAL = 1, LOG_LEVEL_VERBOSE = 2 };

void log_init(const char *prefix, enum log_level level);
enum log_level log_get_level(void);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
