/*
 * error.h — the error a module hands back to its caller.
 * Modules return -1 and fill a caller-owned struct error; only entry points print and exit.
 * The message always carries the failing library's own words (libgit2, SQLite, curl, ...).
 */
#ifndef BBGITOPS_ERROR_H
#define BBGITOPS_ERROR_H

#include <stdbool.h>

struct error {
	char msg[1024];
	bool transient;   /* worth retrying later (network, busy, 5xx) rather than a permanent failure */
	int http_status;  /* HTTP status behind the error, 0 when none */
};

#define ERROR_INIT { .msg = "", .transient = false, .http_status = 0 }

/* Formats the message into err (may be NULL) and returns -1, so `return error_set(...)` reports and propagates. */
int error_set(struct error *err, bool transient, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message: "what: <old message>". Returns -1. */
int error_prefix(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void error_clear(struct error *err);

#endif
