/*
 * tap.h — a minimal TAP producer for C unit tests: ok(cond, fmt, ...), is_str, is_int, done_testing().
 */
#ifndef BBGITOPS_TAP_H
#define BBGITOPS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static int __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return cond;
}

#define is_str(got, want, ...) \
	(ok((got) != NULL && (want) != NULL ? strcmp((got), (want)) == 0 : (got) == (want), __VA_ARGS__) ? 1 : \
	 (printf("#   got: '%s'\n#  want: '%s'\n", (got) ? (got) : "(null)", (want) ? (want) : "(null)"), 0))
#define is_int(got, want, ...) \
	(ok((long long)(got) == (long long)(want), __VA_ARGS__) ? 1 : \
	 (printf("#   got: %lld\n#  want: %lld\n", (long long)(got), (long long)(want)), 0))

static int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
