/*
 * error.c — filling and prefixing struct error.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
error_set(struct error *err, bool transient, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->transient = transient;
	return -1;
}

int
error_prefix(struct error *err, const char *fmt, ...)
{
	char prefix[512], old[sizeof(err->msg)];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return -1;
}

void
error_clear(struct error *err)
{
	if (err == NULL)
		return;
	err->msg[0] = '\0';
	err->transient = false;
	err->http_status = 0;
}
