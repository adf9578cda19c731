/*
 * test-issue-text.c — the issue's title and description (issue_text.h), table by table: placeholders, the 200-byte
 * cut on a UTF-8 boundary, the UTF-8 check and repair, and commit messages decoded from their encoding.
 */
#include <stdlib.h>
#include <string.h>

#include "issue_text.h"
#include "tap.h"

#define HEX "0123456789abcdef0123456789abcdef01234567"

struct title_case {
	const char *tmpl;
	const char *subject;
	bool with_file;
	const char *want;
};

static const struct title_case title_cases[] = {
	{ "{subject}", "Add users", false, "Add users" },
	{ "[{repository}@{branch}] {subject}", "Add users", false, "[hr@main] Add users" },
	{ "{short}: {subject}", "x", false, "0123456789ab: x" },
	{ "{commit}", "x", false, HEX },
	{ "{path} v{version}", "x", true, "bytebase/0002_b.sql v0002" },
	{ "{path}|{version}|", "x", false, "||" },
	{ "{unknown} {subject", "s", false, "{unknown} {subject" },
	{ "{}{subject}{", "s", false, "{}s{" },
	{ "{subject}", "", false, HEX },                       /* nothing left: the commit id */
	{ "", "ignored", false, HEX },
	{ "{subject}", "Caf\xe9", false, "Caf\xef\xbf\xbd" },   /* invalid UTF-8 made valid */
	{ "{path}", "x", true, "bytebase/0002_b.sql" },
};

struct utf8_case {
	const char *s;
	bool valid;
	const char *repaired;
};

static const struct utf8_case utf8_cases[] = {
	{ "plain ascii", true, "plain ascii" },
	{ "Caf\xc3\xa9", true, "Caf\xc3\xa9" },
	{ "\xe2\x82\xac 10", true, "\xe2\x82\xac 10" },                    /* EURO SIGN */
	{ "\xf0\x9f\x98\x80", true, "\xf0\x9f\x98\x80" },                  /* 4 bytes */
	{ "Caf\xe9", false, "Caf\xef\xbf\xbd" },                           /* Latin-1 byte */
	{ "\xc0\xaf", false, "\xef\xbf\xbd\xef\xbf\xbd" },                 /* overlong */
	{ "\xed\xa0\x80", false, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* a surrogate */
	{ "\xf4\x90\x80\x80", false, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > U+10FFFF */
	{ "ab\xe2\x82", false, "ab\xef\xbf\xbd\xef\xbf\xbd" },             /* truncated sequence */
	{ "", true, "" },
};

static void
test_titles(void)
{
	const struct issue_text_file file = { "bytebase/0002_b.sql", "0002", "MIGRATE" };
	size_t i;

	for (i = 0; i < sizeof(title_cases) / sizeof(title_cases[0]); i++) {
		const struct title_case *c = &title_cases[i];
		char *got = issue_text_title(c->tmpl, c->subject, "hr", "main", HEX, c->with_file ? &file : NULL);

		is_str(got, c->want, "title of template '%s'", c->tmpl);
		free(got);
	}
}

static void
test_title_cut(void)
{
	char subject[400], *got;
	size_t i;

	/* 199 ASCII bytes, then a 2-byte character across the 200-byte mark: cut before it. */
	memset(subject, 'a', 199);
	strcpy(subject + 199, "\xc3\xa9tail");
	got = issue_text_title("{subject}", subject, "hr", "main", HEX, NULL);
	is_int(strlen(got), 199, "a character across byte 200 is dropped whole");
	ok(issue_text_is_utf8(got, strlen(got)), "the cut title is valid UTF-8");
	free(got);

	/* 100 two-byte characters: exactly 200 bytes, kept. */
	for (i = 0; i < 100; i++)
		memcpy(subject + 2 * i, "\xc3\xa9", 2);
	strcpy(subject + 200, "more");
	got = issue_text_title("{subject}", subject, "hr", "main", HEX, NULL);
	is_int(strlen(got), 200, "200 bytes of whole characters are kept");
	ok(issue_text_is_utf8(got, strlen(got)), "and are valid UTF-8");
	free(got);

	/* 3-byte characters: 66 of them are 198 bytes, the 67th would end at 201. */
	for (i = 0; i < 100; i++)
		memcpy(subject + 3 * i, "\xe2\x82\xac", 3);
	subject[300] = '\0';
	got = issue_text_title("{subject}", subject, "hr", "main", HEX, NULL);
	is_int(strlen(got), 198, "a 3-byte character across byte 200 is dropped whole");
	free(got);
}

static void
test_utf8(void)
{
	size_t i;

	for (i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		const struct utf8_case *c = &utf8_cases[i];
		char *got = issue_text_utf8(c->s);

		is_int(issue_text_is_utf8(c->s, strlen(c->s)), c->valid, "utf8 case %zu is %svalid", i,
			c->valid ? "" : "in");
		is_str(got, c->repaired, "utf8 case %zu repaired", i);
		free(got);
	}
	ok(issue_text_utf8(NULL) == NULL, "NULL stays NULL");
}

static void
test_decode(void)
{
	char *got;

	got = issue_text_decode("Caf\xe9 table", "ISO-8859-1");
	is_str(got, "Caf\xc3\xa9 table", "Latin-1 decoded");
	free(got);
	got = issue_text_decode("Caf\xc3\xa9", NULL);
	is_str(got, "Caf\xc3\xa9", "no header: UTF-8 kept");
	free(got);
	got = issue_text_decode("Caf\xc3\xa9", "utf-8");
	is_str(got, "Caf\xc3\xa9", "utf-8 in any case");
	free(got);
	got = issue_text_decode("Caf\xe9", NULL);
	is_str(got, "Caf\xef\xbf\xbd", "no header, invalid: U+FFFD");
	free(got);
	got = issue_text_decode("Caf\xe9", "no-such-charset");
	is_str(got, "Caf\xef\xbf\xbd", "an unknown encoding: U+FFFD");
	free(got);
	got = issue_text_decode("\x82\xa0", "SHIFT_JIS");
	is_str(got, "\xe3\x81\x82", "Shift-JIS decoded (HIRAGANA A)");
	free(got);
	got = issue_text_decode("bad \x81", "SHIFT_JIS");
	ok(got != NULL && issue_text_is_utf8(got, strlen(got)), "an invalid Shift-JIS sequence still gives UTF-8");
	free(got);
}

static void
test_body(void)
{
	const struct issue_text_file files[] = {
		{ "bytebase/0001_a.sql", "0001", "MIGRATE" },
		{ "bytebase/0002_caf\xe9.sql", "0002", "DATA" },
	};
	char *got;

	got = issue_text_body("Why.\n\n", "hr", "main", HEX, files, 2);
	is_str(got, "Why.\n\nMigration files:\n- bytebase/0001_a.sql (version 0001, MIGRATE)\n"
		"- bytebase/0002_caf\xef\xbf\xbd.sql (version 0002, DATA)\n\nbbgitops: hr@main " HEX,
		"body: message, files (shown as UTF-8), provenance");
	free(got);
	got = issue_text_body(NULL, "hr", "main", HEX, files, 1);
	is_str(got, "Migration files:\n- bytebase/0001_a.sql (version 0001, MIGRATE)\n\nbbgitops: hr@main " HEX,
		"body without a message");
	free(got);
}

int
main(void)
{
	test_titles();
	test_title_cut();
	test_utf8();
	test_decode();
	test_body();
	return done_testing();
}
