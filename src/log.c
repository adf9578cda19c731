/*
 * log.c — stderr logging with a fixed prefix and three verbosity levels; errno is preserved across calls.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *log_prefix = "bbgitops: ";
static enum log_level log_level = LOG_LEVEL_NORMAL;

void
log_init(const char *prefix, enum log_level level)
{
	log_prefix = prefix;
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

static void vlog(enum log_level level, bool with_errno, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* The one body: LEVEL at or below the configured verbosity prints "PREFIX message[: strerror(errno)]". */
static void
vlog(enum log_level level, bool with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	char line[4096];

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (with_errno)
		fprintf(stderr, "%s%s: %s\n", log_prefix, line, strerror(saved));
	else
		fprintf(stderr, "%s%s\n", log_prefix, line);
	fflush(stderr);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_QUIET, true, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_QUIET, false, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_NORMAL, false, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_VERBOSE, false, fmt, ap);
	va_end(ap);
}
