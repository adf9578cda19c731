/*
 * error.c — filling and prefixing struct error. Every message is bounded by the struct's buffer and always
 * NUL-terminated; a message too long is cut at its end.
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
	err->http_status = 0;
	return -1;
}

int
error_prefix(struct error *err, const char *fmt, ...)
{
	char prefix[sizeof(err->msg)], joined[sizeof(err->msg)];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* Too long a result is cut at its end, so the start survives: the prefix names where it happened. */
	if (snprintf(joined, sizeof(joined), "%s: %s", prefix, err->msg) < 0)
		joined[0] = '\0';
	memcpy(err->msg, joined, sizeof(err->msg));
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
