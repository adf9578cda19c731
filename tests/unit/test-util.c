/*
 * test-util.c — git-style quoting of paths for messages (str_quote_path), checked against git's own output, and
 * the string set.
 */
#include <stdlib.h>

#include "tap.h"
#include "util.h"

struct quote_case {
	const char *path;
	const char *quoted;
};

/* Expected values are what `git -c core.quotePath=true ls-files` prints for the same names. */
static const struct quote_case quote_cases[] = {
	{ "bytebase/0001_init.sql", "bytebase/0001_init.sql" },
	{ "with space.sql", "with space.sql" },
	{ "", "" },
	{ "a\nb.sql", "\"a\\nb.sql\"" },
	{ "tab\there", "\"tab\\there\"" },
	{ "bell\a\b\v\f\r", "\"bell\\a\\b\\v\\f\\r\"" },
	{ "esc\x1b[31mred", "\"esc\\033[31mred\"" },
	{ "del\x7f", "\"del\\177\"" },
	{ "quote\"d", "\"quote\\\"d\"" },
	{ "back\\slash", "\"back\\\\slash\"" },
	{ "caf\xc3\xa9.sql", "\"caf\\303\\251.sql\"" },
	{ "\x01", "\"\\001\"" },
};

int
main(void)
{
	struct strset set = STRSET_INIT;
	size_t i;
	char key[32];

	for (i = 0; i < sizeof(quote_cases) / sizeof(quote_cases[0]); i++) {
		char *q = str_quote_path(quote_cases[i].path);

		is_str(q, quote_cases[i].quoted, "quote case %zu", i);
		free(q);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		strset_add(&set, key);
	}
	ok(set.len == 1000 && strset_contains(&set, "k999") && !strset_contains(&set, "k1000"),
		"strset holds 1000 keys");
	ok(!strset_add(&set, "k5"), "strset_add refuses a key already present");
	strset_clear(&set);
	return done_testing();
}
