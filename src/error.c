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
	char joined[sizeof(err->msg) * 2];
	size_t n;
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(joined, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(joined);
	memcpy(joined + n, ": ", 3);
	memcpy(joined + n + 2, err->msg, strnlen(err->msg, sizeof(err->msg) - 1) + 1);
	joined[sizeof(err->msg) - 1] = '\0';   /* keep the start: the prefix names where it happened */
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
