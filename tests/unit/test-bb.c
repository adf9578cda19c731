/*
 * test-bb.c — the pure parts of the Bytebase client, table by table: release numbers and their ranges, the cuts
 * to Bytebase's title and description limits, UTF-8 cleaning, base64 and SHA-256.
 */
#include <stdlib.h>
#include <string.h>

#include "bb_client.h"
#include "bb_flow.h"
#include "tap.h"
#include "util.h"

struct version_case {
	const char *text;
	bool ok;
	int major, minor, patch;
	enum bb_range range;
	bool newer;
};

static const struct version_case version_cases[] = {
	{ "2.14.3", true, 2, 14, 3, BB_RANGE_UNKNOWN, false },
	{ "2.15.0", true, 2, 15, 0, BB_RANGE_2_15, false },
	{ "2.16.1", true, 2, 16, 1, BB_RANGE_2_15, false },
	{ "2.17.0", true, 2, 17, 0, BB_RANGE_2_17, false },
	{ "v2.23.1", true, 2, 23, 1, BB_RANGE_2_17, false },
	{ "3.5.2", true, 3, 5, 2, BB_RANGE_2_17, false },
	{ "3.6.0", true, 3, 6, 0, BB_RANGE_3_6, false },
	{ "3.7.0", true, 3, 7, 0, BB_RANGE_3_7, false },
	{ "3.8", true, 3, 8, 0, BB_RANGE_3_7, false },
	{ "3.13.1", true, 3, 13, 1, BB_RANGE_3_7, false },
	{ "3.14.0", true, 3, 14, 0, BB_RANGE_3_14, false },
	{ "3.21.1", true, 3, 21, 1, BB_RANGE_3_14, false },
	{ "3.22.0-rc1", true, 3, 22, 0, BB_RANGE_3_14, true },
	{ "4.0.0", true, 4, 0, 0, BB_RANGE_3_14, true },
	{ "development", true, BB_NEWEST_KNOWN_MAJOR, BB_NEWEST_KNOWN_MINOR, 0, BB_RANGE_3_14, false },
	{ "", false, 0, 0, 0, BB_RANGE_UNKNOWN, false },
	{ "latest", false, 0, 0, 0, BB_RANGE_UNKNOWN, false },
	{ "3.x", false, 0, 0, 0, BB_RANGE_UNKNOWN, false },
	{ "3.8.1 beta", false, 0, 0, 0, BB_RANGE_UNKNOWN, false },
};

struct cut_case {
	const char *in;
	size_t max;
	const char *want;
};

static const struct cut_case cut_cases[] = {
	{ "short", 10, "short" },
	{ "exactly10!", 10, "exactly10!" },
	{ "eleven char", 10, "eleven ch\xE2\x80\xA6" },
	{ "caf\xC3\xA9 caf\xC3\xA9", 5, "caf\xC3\xA9\xE2\x80\xA6" },
	{ "\xC3\xA9\xC3\xA9\xC3\xA9", 2, "\xC3\xA9\xE2\x80\xA6" },
	{ "", 3, "" },
};

static void
test_versions(void)
{
	const struct version_case *c;
	struct bb_version v;
	bool newer;
	size_t i;

	for (i = 0; i < sizeof(version_cases) / sizeof(version_cases[0]); i++) {
		c = &version_cases[i];
		memset(&v, 0, sizeof(v));
		if (!ok(bb_version_parse(c->text, &v) == c->ok, "version \"%s\" %s", c->text,
			c->ok ? "parses" : "is refused") || !c->ok)
			continue;
		ok(v.major == c->major && v.minor == c->minor && v.patch == c->patch, "version \"%s\" is %d.%d.%d",
			c->text, c->major, c->minor, c->patch);
		is_int(bb_range_of(&v, &newer), c->range, "version \"%s\" falls in range %s", c->text,
			bb_range_name(c->range));
		ok(newer == c->newer, "version \"%s\" is %snewer than any known", c->text, c->newer ? "" : "not ");
	}
}

static void
test_cuts(void)
{
	const char *prov;
	char *got, *body, *head;
	size_t i, n;

	for (i = 0; i < sizeof(cut_cases) / sizeof(cut_cases[0]); i++) {
		got = bb_cut_text(cut_cases[i].in, cut_cases[i].max);
		is_str(got, cut_cases[i].want, "cut \"%s\" to %zu characters", cut_cases[i].in, cut_cases[i].max);
		free(got);
	}
	/* A 20,000-character body keeps its provenance line whole and fits 10,000 characters. */
	head = xmalloc(20001);
	memset(head, 'x', 20000);
	head[20000] = '\0';
	prov = "bbgitops: hr@main 0123456789abcdef0123456789abcdef01234567";
	body = xasprintf("%s\n\n%s", head, prov);
	got = bb_cut_description(body, BB_DESCRIPTION_MAX);
	n = 0;
	for (i = 0; got[i]; i++)
		n += ((unsigned char)got[i] & 0xC0) != 0x80;
	is_int(n, BB_DESCRIPTION_MAX, "a 20,000-character description is cut to 10,000 characters");
	ok(strlen(got) > strlen(prov) && strcmp(got + strlen(got) - strlen(prov), prov) == 0,
		"the cut description still ends with the provenance line");
	ok(strstr(got, "\xE2\x80\xA6\n\nbbgitops: ") != NULL, "an ellipsis marks the cut");
	free(got);
	free(body);
	got = bb_cut_description("short body\n\nbbgitops: x", BB_DESCRIPTION_MAX);
	is_str(got, "short body\n\nbbgitops: x", "a short description is kept as it is");
	free(got);
	free(head);
}

static void
test_bytes(void)
{
	char sha[65], *s;
	const char *hex = sha;   /* is_str compares pointers to NULL */

	s = str_utf8_clean("Caf\xE9 \xC3\xA9 \xED\xA0\x80 ok");
	is_str(s, "Caf\xEF\xBF\xBD \xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD ok",
		"bytes that are not UTF-8 (Latin-1, a surrogate) become U+FFFD; valid text is kept");
	free(s);
	s = bb_base64("any carnal pleas", 16);
	is_str(s, "YW55IGNhcm5hbCBwbGVhcw==", "base64 with padding");
	free(s);
	bb_sha256_hex("", 0, sha);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256 of nothing");
	bb_sha256_hex("abc", 3, sha);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 of abc");
	bb_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, sha);
	is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		"sha256 of 56 bytes (the padding spills into a second block)");
}

int
main(void)
{
	test_versions();
	test_cuts();
	test_bytes();
	return done_testing();
}
