/*
 * test-names.c — text that leaves the process: http_escape (a path segment or query value for Bytebase's API),
 * remote_redact_url (a URL as logged: never its credentials), remote_mirror_path (a configured name as a file name
 * under state_dir: no separator, no dot-file, reversible).
 */
#include <stdlib.h>

#include "http.h"
#include "remote.h"
#include "tap.h"

struct pair {
	const char *in;
	const char *want;
};

static const struct pair escape_cases[] = {
	{ "", "" },
	{ "hr", "hr" },
	{ "AZaz09-._~", "AZaz09-._~" },
	{ "a b", "a%20b" },
	{ "title == \"x\"", "title%20%3D%3D%20%22x%22" },
	{ "a/b?c&d=e#f", "a%2Fb%3Fc%26d%3De%23f" },
	{ "100%", "100%25" },
	{ "caf\xc3\xa9", "caf%C3%A9" },
	{ "\x01\x7f\xff", "%01%7F%FF" },
};

static const struct pair redact_cases[] = {
	{ "https://oauth2:s3cr3t@gitlab.example.com/g/r.git", "https://gitlab.example.com/g/r.git" },
	{ "https://user@host/r.git", "https://host/r.git" },
	{ "https://host/r.git", "https://host/r.git" },
	{ "https://host/path@with-at/r.git", "https://host/path@with-at/r.git" },
	{ "ssh://git@host:2222/r.git", "ssh://host:2222/r.git" },
	{ "git@host:group/r.git", "git@host:group/r.git" },
	{ "https://a:b@host", "https://host" },
	{ "", "" },
};

static const struct pair mirror_cases[] = {
	{ "hr", "/s/mirrors/hr.git" },
	{ "team-a_db.v2", "/s/mirrors/team-a_db.v2.git" },
	{ ".hidden", "/s/mirrors/%2Ehidden.git" },
	{ "a/b", "/s/mirrors/a%2Fb.git" },
	{ "../up", "/s/mirrors/%2E.%2Fup.git" },
	{ "sp ace", "/s/mirrors/sp%20ace.git" },
	{ "%41", "/s/mirrors/%2541.git" },
};

int
main(void)
{
	size_t i;
	char *got;

	for (i = 0; i < sizeof(escape_cases) / sizeof(escape_cases[0]); i++) {
		got = http_escape(escape_cases[i].in);
		/* By number: some inputs are control bytes, not fit for a TAP line. */
		is_str(got, escape_cases[i].want, "http_escape case %zu (%s)", i, escape_cases[i].want);
		free(got);
	}
	for (i = 0; i < sizeof(redact_cases) / sizeof(redact_cases[0]); i++) {
		got = remote_redact_url(redact_cases[i].in);
		is_str(got, redact_cases[i].want, "remote_redact_url(\"%s\")", redact_cases[i].in);
		free(got);
	}
	got = remote_redact_url(NULL);
	is_str(got, "", "remote_redact_url(NULL) is \"\"");
	free(got);
	for (i = 0; i < sizeof(mirror_cases) / sizeof(mirror_cases[0]); i++) {
		got = remote_mirror_path("/s", mirror_cases[i].in);
		is_str(got, mirror_cases[i].want, "remote_mirror_path(\"/s\", \"%s\")", mirror_cases[i].in);
		free(got);
	}
	return done_testing();
}
