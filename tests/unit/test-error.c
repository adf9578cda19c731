/*
 * test-error.c — struct error: error_set formats and resets every field, error_prefix joins "what: old message"
 * and truncates at the buffer's end, keeping the start (the prefix names where it happened). Run under ASan, the
 * long-prefix cases prove no byte is written past the buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tap.h"

static void
fill(char *buf, size_t len, char c)
{
	memset(buf, c, len);
	buf[len] = '\0';
}

static void
test_set(void)
{
	struct error err = ERROR_INIT;

	is_int(error_set(&err, true, "cannot open %s: %s", "state.db", "locked"), -1, "error_set returns -1");
	is_str(err.msg, "cannot open state.db: locked", "error_set formats the message");
	ok(err.transient, "error_set sets transient");
	err.http_status = 503;
	error_set(&err, false, "unrelated");
	is_int(err.http_status, 0, "error_set resets a stale http_status");
	ok(!err.transient, "error_set clears transient");
	is_int(error_set(NULL, false, "x"), -1, "error_set accepts a NULL error");
	err.http_status = 404;
	error_clear(&err);
	ok(err.msg[0] == '\0' && !err.transient && err.http_status == 0, "error_clear resets every field");
}

static void
test_prefix(void)
{
	struct error err = ERROR_INIT;
	char *big = malloc(4096), *want = malloc(4096);

	error_set(&err, true, "database is locked");
	is_int(error_prefix(&err, "%s", "refs/heads/main"), -1, "error_prefix returns -1");
	is_str(err.msg, "refs/heads/main: database is locked", "error_prefix joins prefix and message");
	ok(err.transient, "error_prefix keeps transient");
	error_prefix(&err, "hr@%s", "main");
	is_str(err.msg, "hr@main: refs/heads/main: database is locked", "prefixes nest outermost first");

	/* A message filling the buffer and a prefix longer than the buffer: the result is the truncated prefix. */
	fill(big, 1999, 'p');
	fill(err.msg, sizeof(err.msg) - 1, 'm');
	error_prefix(&err, "%s", big);
	fill(want, sizeof(err.msg) - 1, 'p');
	is_str(err.msg, want, "a prefix longer than the buffer keeps its start, NUL-terminated");

	/* A prefix just short of the buffer: prefix, ": ", then as much of the message as fits. */
	fill(big, sizeof(err.msg) - 10, 'p');
	fill(err.msg, sizeof(err.msg) - 1, 'm');
	error_prefix(&err, "%s", big);
	fill(want, sizeof(err.msg) - 10, 'p');
	strcat(want, ": mmmmmmm");
	is_int(strlen(err.msg), sizeof(err.msg) - 1, "the joined message fills the buffer exactly");
	is_str(err.msg, want, "the message is cut at the end of the buffer");

	/* The message itself may be used by the prefix (callers pass err.msg-derived strings). */
	error_set(&err, false, "inner");
	error_prefix(&err, "outer");
	is_str(err.msg, "outer: inner", "a plain prefix with no arguments");
	is_int(error_prefix(NULL, "x"), -1, "error_prefix accepts a NULL error");
	free(big);
	free(want);
}

int
main(void)
{
	test_set();
	test_prefix();
	return done_testing();
}
