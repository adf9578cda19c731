/*
 * test-provider.c — the pure provider pieces: clone URL → API base and repository path for each provider and
 * remote form, api_url overrides; the comment body, its marker and its idempotent merge.
 */
#include <stdlib.h>
#include <string.h>

#include "provider_body.h"
#include "provider_url.h"
#include "tap.h"

struct url_case {
	enum provider kind;
	const char *url;
	const char *api_url;
	enum provider want_kind;      /* PROVIDER_NONE: must fail */
	const char *api_base;
	const char *repo_path;
	const char *web_base;
};

static const struct url_case url_cases[] = {
	/* GitHub.com: https, scp-like, ssh:// with port, userinfo */
	{ PROVIDER_NONE, "https://github.com/acme/hr.git", NULL, PROVIDER_GITHUB, "https://api.github.com",
	  "/repos/acme/hr", "https://github.com/acme/hr" },
	{ PROVIDER_NONE, "git@github.com:acme/hr.git", NULL, PROVIDER_GITHUB, "https://api.github.com",
	  "/repos/acme/hr", "https://github.com/acme/hr" },
	{ PROVIDER_GITHUB, "ssh://git@github.com:22/acme/hr.git/", NULL, PROVIDER_GITHUB, "https://api.github.com",
	  "/repos/acme/hr", "https://github.com/acme/hr" },
	{ PROVIDER_NONE, "https://x-access-token:secret@GitHub.com/acme/hr", NULL, PROVIDER_GITHUB,
	  "https://api.github.com", "/repos/acme/hr", "https://github.com/acme/hr" },
	/* GitHub Enterprise Server and GHE.com */
	{ PROVIDER_GITHUB, "https://ghe.example.com/acme/hr.git", NULL, PROVIDER_GITHUB,
	  "https://ghe.example.com/api/v3", "/repos/acme/hr", "https://ghe.example.com/acme/hr" },
	{ PROVIDER_GITHUB, "git@ghe.example.com:acme/hr.git", NULL, PROVIDER_GITHUB,
	  "https://ghe.example.com/api/v3", "/repos/acme/hr", "https://ghe.example.com/acme/hr" },
	{ PROVIDER_GITHUB, "https://ghe.example.com:8443/acme/hr.git", NULL, PROVIDER_GITHUB,
	  "https://ghe.example.com:8443/api/v3", "/repos/acme/hr", "https://ghe.example.com:8443/acme/hr" },
	{ PROVIDER_NONE, "https://octo.ghe.com/acme/hr.git", NULL, PROVIDER_GITHUB, "https://api.octo.ghe.com",
	  "/repos/acme/hr", "https://octo.ghe.com/acme/hr" },
	/* GitLab.com and self-managed with subgroups; special characters re-encoded */
	{ PROVIDER_NONE, "https://gitlab.com/group/sub/proj.git", NULL, PROVIDER_GITLAB, "https://gitlab.com/api/v4",
	  "/projects/group%2Fsub%2Fproj", "https://gitlab.com/group/sub/proj" },
	{ PROVIDER_NONE, "git@gitlab.com:group/sub/deeper/proj.git", NULL, PROVIDER_GITLAB,
	  "https://gitlab.com/api/v4", "/projects/group%2Fsub%2Fdeeper%2Fproj",
	  "https://gitlab.com/group/sub/deeper/proj" },
	{ PROVIDER_GITLAB, "https://git.corp.example/db/hr%20data.git", NULL, PROVIDER_GITLAB,
	  "https://git.corp.example/api/v4", "/projects/db%2Fhr%20data", "https://git.corp.example/db/hr%20data" },
	/* GitLab under a relative URL root, named by api_url */
	{ PROVIDER_GITLAB, "https://corp.example/gitlab/db/hr.git", "https://corp.example/gitlab/api/v4/",
	  PROVIDER_GITLAB, "https://corp.example/gitlab/api/v4", "/projects/db%2Fhr",
	  "https://corp.example/gitlab/db/hr" },
	/* Bitbucket Cloud */
	{ PROVIDER_NONE, "https://alice@bitbucket.org/ws/repo.git", NULL, PROVIDER_BITBUCKET,
	  "https://api.bitbucket.org/2.0", "/repositories/ws/repo", "https://bitbucket.org/ws/repo" },
	{ PROVIDER_NONE, "git@bitbucket.org:ws/repo.git", NULL, PROVIDER_BITBUCKET,
	  "https://api.bitbucket.org/2.0", "/repositories/ws/repo", "https://bitbucket.org/ws/repo" },
	/* Azure DevOps: new and old hosts, shorthand, DefaultCollection, ssh v3, encoded names */
	{ PROVIDER_NONE, "https://org@dev.azure.com/org/My%20Project/_git/hr", NULL, PROVIDER_AZURE,
	  "https://dev.azure.com/org", "/My%20Project/_apis/git/repositories/hr",
	  "https://dev.azure.com/org/My%20Project/_git/hr" },
	{ PROVIDER_NONE, "https://dev.azure.com/org/_git/hr", NULL, PROVIDER_AZURE, "https://dev.azure.com/org",
	  "/hr/_apis/git/repositories/hr", "https://dev.azure.com/org/hr/_git/hr" },
	{ PROVIDER_NONE, "https://org.visualstudio.com/proj/_git/hr", NULL, PROVIDER_AZURE,
	  "https://org.visualstudio.com", "/proj/_apis/git/repositories/hr",
	  "https://org.visualstudio.com/proj/_git/hr" },
	{ PROVIDER_NONE, "https://org.visualstudio.com/DefaultCollection/proj/_git/hr", NULL, PROVIDER_AZURE,
	  "https://org.visualstudio.com", "/proj/_apis/git/repositories/hr",
	  "https://org.visualstudio.com/proj/_git/hr" },
	{ PROVIDER_NONE, "https://org.visualstudio.com/_git/hr", NULL, PROVIDER_AZURE,
	  "https://org.visualstudio.com", "/hr/_apis/git/repositories/hr", "https://org.visualstudio.com/hr/_git/hr" },
	{ PROVIDER_NONE, "git@ssh.dev.azure.com:v3/org/proj/hr", NULL, PROVIDER_AZURE, "https://dev.azure.com/org",
	  "/proj/_apis/git/repositories/hr", "https://dev.azure.com/org/proj/_git/hr" },
	{ PROVIDER_NONE, "org@vs-ssh.visualstudio.com:v3/org/proj/hr", NULL, PROVIDER_AZURE,
	  "https://org.visualstudio.com", "/proj/_apis/git/repositories/hr",
	  "https://org.visualstudio.com/proj/_git/hr" },
	{ PROVIDER_AZURE, "https://tfs.corp.example/tfs/Coll/proj/_git/hr", NULL, PROVIDER_AZURE,
	  "https://tfs.corp.example/tfs/Coll", "/proj/_apis/git/repositories/hr",
	  "https://tfs.corp.example/tfs/Coll/proj/_git/hr" },
	/* Gitea / Forgejo, with a sub-path and over ssh */
	{ PROVIDER_GITEA, "https://gitea.example.com/owner/repo.git", NULL, PROVIDER_GITEA,
	  "https://gitea.example.com/api/v1", "/repos/owner/repo", "https://gitea.example.com/owner/repo" },
	{ PROVIDER_GITEA, "https://example.com/git/owner/repo.git", NULL, PROVIDER_GITEA,
	  "https://example.com/git/api/v1", "/repos/owner/repo", "https://example.com/git/owner/repo" },
	{ PROVIDER_GITEA, "ssh://git@gitea.example.com:2222/owner/repo.git", NULL, PROVIDER_GITEA,
	  "https://gitea.example.com/api/v1", "/repos/owner/repo", "https://gitea.example.com/owner/repo" },
	{ PROVIDER_NONE, "https://codeberg.org/owner/repo", NULL, PROVIDER_GITEA, "https://codeberg.org/api/v1",
	  "/repos/owner/repo", "https://codeberg.org/owner/repo" },
	/* api_url overrides the derived base */
	{ PROVIDER_GITHUB, "https://github.com/acme/hr.git", "http://127.0.0.1:8080/github/", PROVIDER_GITHUB,
	  "http://127.0.0.1:8080/github", "/repos/acme/hr", "https://github.com/acme/hr" },
	/* refused */
	{ PROVIDER_NONE, "https://git.example.com/acme/hr.git", NULL, PROVIDER_NONE, NULL, NULL, NULL },
	{ PROVIDER_GITHUB, "https://github.com/acme", NULL, PROVIDER_NONE, NULL, NULL, NULL },
	{ PROVIDER_BITBUCKET, "https://bitbucket.org/ws/a/b", NULL, PROVIDER_NONE, NULL, NULL, NULL },
	{ PROVIDER_AZURE, "https://dev.azure.com/org/proj/hr", NULL, PROVIDER_NONE, NULL, NULL, NULL },
	{ PROVIDER_NONE, "ftp://github.com/a/b", NULL, PROVIDER_NONE, NULL, NULL, NULL },
	{ PROVIDER_NONE, "/srv/git/hr.git", NULL, PROVIDER_NONE, NULL, NULL, NULL },
};

static void
test_urls(void)
{
	size_t i;

	for (i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		const struct url_case *c = &url_cases[i];
		struct provider_repo r = PROVIDER_REPO_INIT;
		struct error err = ERROR_INIT;
		int rc = provider_repo_parse(c->kind, c->url, c->api_url, &r, &err);

		if (c->want_kind == PROVIDER_NONE) {
			ok(rc < 0 && strstr(err.msg, c->url) != NULL, "%s is refused with a message naming it", c->url);
			continue;
		}
		if (!ok(rc == 0, "%s parses", c->url)) {
			printf("#   error: %s\n", err.msg);
			continue;
		}
		is_int(r.kind, c->want_kind, "%s: provider", c->url);
		is_str(r.api_base, c->api_base, "%s: API base", c->url);
		is_str(r.repo_path, c->repo_path, "%s: repository path", c->url);
		is_str(r.web_base, c->web_base, "%s: web page", c->url);
		ok(strstr(r.api_base, "secret") == NULL && strstr(r.web_base, "secret") == NULL,
			"%s: no userinfo kept", c->url);
		provider_repo_clear(&r);
	}
}

static const struct provider_body_file files1[] = {
	{ "bytebase/0001_init.sql", "0001", "MIGRATE" },
	{ "bytebase/0002_dml_a|b.sql", "0002", "DATA" },
};
static const struct provider_body_file files2[] = {
	{ "bytebase/0003_x.sql", "0003", "MIGRATE" },
};

static void
test_body(void)
{
	struct provider_body_issue a = { "projects/hr/issues/12", "https://bb.example.com/projects/hr/issues/12",
		"hr", "main", "0123456789abcdef0123456789abcdef01234567", files1, 2 };
	struct provider_body_issue b = { "projects/hr/issues/13", "https://bb.example.com/projects/hr/issues/13",
		"hr", "main", "1123456789abcdef0123456789abcdef01234567", files2, 1 };
	char *one, *again, *two, *two_again, *bb_own;

	one = provider_body_merge(NULL, &a);
	ok(str_starts_with(one, "**[Bytebase Bot]**\n\n"), "the comment starts with Bytebase's prefix");
	ok(provider_body_is_ours(one), "and is recognised as ours");
	ok(strstr(one, "https://bb.example.com/projects/hr/issues/12") != NULL, "it links the issue");
	ok(strstr(one, "| 0001 | MIGRATE | `bytebase/0001_init.sql` |") != NULL, "it lists a file with its version");
	ok(strstr(one, "| 0002 | DATA | `bytebase/0002_dml_a\\|b.sql` |") != NULL, "a '|' in a path cannot break the table");
	ok(strstr(one, "<!-- bbgitops:issue projects/hr/issues/12 -->") != NULL, "it carries a hidden marker");
	ok(provider_body_has_section(one, &a), "the issue's section is found again");
	ok(!provider_body_has_section(one, &b), "another issue's section is not");
	again = provider_body_merge(one, &a);
	is_str(again, one, "delivering the same issue again changes nothing");
	two = provider_body_merge(one, &b);
	ok(strstr(two, "issues/12") && strstr(two, "issues/13") && strstr(two, "0003_x.sql"),
		"a second issue of the same pull request adds its section");
	ok(strstr(two, "issues/13") > strstr(two, "issues/12"), "after the first one");
	two_again = provider_body_merge(two, &a);
	is_str(two_again, two, "re-delivering the first issue keeps both sections as they were");
	bb_own = provider_body_merge("**[Bytebase Bot]**\n\nThis pull request has triggered a Bytebase rollout.", &a);
	is_str(bb_own, one, "a comment Bytebase itself posted is taken over");
	ok(!provider_body_is_ours("LGTM **[Bytebase Bot]**"), "a comment merely quoting the prefix is not ours");
	ok(provider_body_is_ours("\n**[Bytebase Bot]**"), "leading blank lines are ignored");
	free(one);
	free(again);
	free(two);
	free(two_again);
	free(bb_own);
}

int
main(void)
{
	test_urls();
	test_body();
	return done_testing();
}
