/*
 * test-remote-url.c — what remote.c does with credentials in a configured url: redaction for messages, the url
 * the mirror stores (no password), and the user and password handed to the credential callback (percent-decoded).
 */
#include <stdlib.h>

#include "remote.h"
#include "tap.h"

struct url_case {
	const char *url;
	const char *redacted;
	const char *stored;
	const char *user;       /* NULL: no credentials in the url */
	const char *password;
};

static const struct url_case cases[] = {
	{ "https://alice:s3cret@git.example.com/db/hr.git", "https://git.example.com/db/hr.git",
	  "https://alice@git.example.com/db/hr.git", "alice", "s3cret" },
	{ "http://bob:p%40ss%3Aw%2Frd@127.0.0.1:8080/h.git", "http://127.0.0.1:8080/h.git",
	  "http://bob@127.0.0.1:8080/h.git", "bob", "p@ss:w/rd" },
	{ "https://token:@host/x.git", "https://host/x.git", "https://token@host/x.git", "token", "" },
	{ "https://:only-password@host/x.git", "https://host/x.git", "https://@host/x.git", "", "only-password" },
	{ "https://alice@host/x.git", "https://host/x.git", "https://alice@host/x.git", NULL, NULL },
	{ "https://host/x.git", "https://host/x.git", "https://host/x.git", NULL, NULL },
	{ "https://host/path@with-at/x.git", "https://host/path@with-at/x.git", "https://host/path@with-at/x.git",
	  NULL, NULL },
	{ "ssh://git@host/x.git", "ssh://host/x.git", "ssh://git@host/x.git", NULL, NULL },
	{ "git@host.example.com:db/hr.git", "git@host.example.com:db/hr.git", "git@host.example.com:db/hr.git",
	  NULL, NULL },
	{ "https://a:b%zz@host", "https://host", "https://a@host", "a", "b%zz" },
};

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct url_case *c = &cases[i];
		char *redacted = remote_redact_url(c->url), *stored = remote_url_without_password(c->url);
		char *user = NULL, *password = NULL;
		int has = remote_url_credentials(c->url, &user, &password);

		is_str(redacted, c->redacted, "%s: redacted for messages", c->url);
		is_str(stored, c->stored, "%s: stored in the mirror without the password", c->url);
		is_int(has, c->user != NULL, "%s: credentials found or not", c->url);
		if (c->user != NULL) {
			is_str(user, c->user, "%s: user", c->url);
			is_str(password, c->password, "%s: password, percent-decoded", c->url);
		} else {
			ok(user == NULL && password == NULL, "%s: no user or password", c->url);
		}
		free(redacted);
		free(stored);
		free(user);
		free(password);
	}
	return done_testing();
}
