/*
 * log.c — stderr logging with a fixed prefix and three verbosity levels; errno is preserved across calls.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

static void log_vwrite(const char *fmt, va_list ap, const char *suffix) __attribute__((format(printf, 1, 0)));

static void
log_vwrite(const char *fmt, va_list ap, const char *suffix)
{
	char line[4096];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (suffix != NULL)
		fprintf(stderr, "%s%s: %s\n", log_prefix, line, suffix);
	else
		fprintf(stderr, "%s%s\n", log_prefix, line);
	fflush(stderr);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(fmt, ap, NULL);
	va_end(ap);
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (log_level < LOG_LEVEL_NORMAL)
		return;
	va_start(ap, fmt);
	log_vwrite(fmt, ap, NULL);
	va_end(ap);
	errno = saved;
}

void
log_debug(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (log_level < LOG_LEVEL_VERBOSE)
		return;
	va_start(ap, fmt);
	log_vwrite(fmt, ap, NULL);
	va_end(ap);
	errno = saved;
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
