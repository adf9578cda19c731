/*
 * test-util.c — the small helpers everything leans on: sbuf, strlist, strset, the string predicates, and git-style
 * quoting of paths for messages (str_quote_path), checked against git's own output.
 */
#include <stdlib.h>
#include <string.h>

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

static void
test_quote(void)
{
	size_t i;

	for (i = 0; i < sizeof(quote_cases) / sizeof(quote_cases[0]); i++) {
		char *q = str_quote_path(quote_cases[i].path);

		is_str(q, quote_cases[i].quoted, "quote case %zu", i);
		free(q);
	}
}

static void
test_sbuf(void)
{
	struct sbuf sb = SBUF_INIT;
	char *s;
	int i;

	is_str(sbuf_str(&sb), "", "an empty sbuf reads as \"\", never NULL");
	sbuf_adds(&sb, "ab");
	sbuf_add(&sb, "cdef", 2);
	sbuf_addf(&sb, "-%d-%s", 42, "x");
	is_str(sbuf_str(&sb), "abcd-42-x", "add, adds and addf append");
	is_int(sb.len, 9, "len counts the bytes");
	for (i = 0; i < 1000; i++)
		sbuf_adds(&sb, "0123456789");
	is_int(sb.len, 10009, "the buffer grows");
	ok(sb.buf[sb.len] == '\0', "and stays NUL-terminated");
	s = sbuf_detach(&sb);
	ok(sb.buf == NULL && sb.len == 0, "detach resets the buffer");
	is_int(strlen(s), 10009, "detach hands over the string");
	free(s);
	sbuf_adds(&sb, "x");
	sbuf_reset(&sb);
	is_str(sbuf_str(&sb), "", "reset empties it");
	sbuf_release(&sb);
	ok(sb.buf == NULL, "release frees it");
	s = sbuf_detach(&sb);
	ok(s != NULL && s[0] == '\0', "detaching an empty buffer gives \"\"");
	free(s);
}

static void
test_strlist_strset(void)
{
	struct strlist l = STRLIST_INIT;
	struct strset set = STRSET_INIT;
	char key[16];
	int i, fresh = 0;

	for (i = 0; i < 20; i++)
		strlist_pushf(&l, "item %d", i);
	is_int(l.len, 20, "strlist keeps every item");
	is_str(l.items[19], "item 19", "in order");
	strlist_clear(&l);
	ok(l.items == NULL && l.len == 0, "clear empties it");

	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "k%d", i % 250);
		fresh += strset_add(&set, key);
	}
	is_int(fresh, 250, "strset_add is true once per distinct key");
	is_int(set.len, 250, "the set holds each key once");
	ok(strset_contains(&set, "k0") && strset_contains(&set, "k249"), "contains finds what was added");
	ok(!strset_contains(&set, "k250") && !strset_contains(&set, ""), "and nothing else");
	ok(!strset_add(&set, "k5"), "strset_add refuses a key already present");
	strset_clear(&set);
	ok(!strset_contains(&set, "k0"), "clear empties the set");
}

static void
test_predicates(void)
{
	ok(str_starts_with("refs/heads/main", "refs/heads/"), "str_starts_with: a prefix");
	ok(str_starts_with("abc", ""), "str_starts_with: the empty prefix");
	ok(!str_starts_with("ref", "refs/"), "str_starts_with: longer than the string");
	ok(str_is_hex_oid("0123456789abcdef0123456789abcdef01234567"), "str_is_hex_oid: 40 lowercase hex digits");
	ok(!str_is_hex_oid("0123456789ABCDEF0123456789abcdef01234567"), "str_is_hex_oid: uppercase is refused");
	ok(!str_is_hex_oid("0123456789abcdef0123456789abcdef0123456"), "str_is_hex_oid: 39 digits");
	ok(!str_is_hex_oid("0123456789abcdef0123456789abcdef012345678"), "str_is_hex_oid: 41 digits");
	ok(!str_is_hex_oid("0123456789abcdef0123456789abcdef0123456g"), "str_is_hex_oid: a non-hex digit");
	ok(str_is_zero_oid("0000000000000000000000000000000000000000"), "str_is_zero_oid: 40 zeros");
	ok(!str_is_zero_oid("0000000000000000000000000000000000000001"), "str_is_zero_oid: not all zeros");
	ok(!str_is_zero_oid("000"), "str_is_zero_oid: too short");
}

static void
test_alloc(void)
{
	char *s = xasprintf("%s-%05d", "v", 42);

	is_str(s, "v-00042", "xasprintf formats");
	free(s);
	ok(xstrdup(NULL) == NULL, "xstrdup(NULL) is NULL");
	s = xstrndup("abcdef", 3);
	is_str(s, "abc", "xstrndup stops at n");
	free(s);
	ok(time_monotonic() > 0 && time_now() > 1600000000, "the clocks read plausible values");
}

int
main(void)
{
	test_quote();
	test_sbuf();
	test_strlist_strset();
	test_predicates();
	test_alloc();
	return done_testing();
}
