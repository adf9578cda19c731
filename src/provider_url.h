/*
 * provider_url.h — pure: from a repository's clone URL (https, ssh://, or scp-like user@host:path) to the Git
 * provider's REST API base and the repository's path in that API (design §6 url/provider/api_url). No I/O.
 * GitHub.com and Enterprise (/api/v3), GitLab with subgroups (the project path URL-encoded as one segment),
 * Bitbucket Cloud, Azure DevOps (dev.azure.com and {org}.visualstudio.com, ssh v3 forms), Gitea/Forgejo (/api/v1).
 */
#ifndef BBGITOPS_PROVIDER_URL_H
#define BBGITOPS_PROVIDER_URL_H

#include "config.h"
#include "error.h"

struct provider_repo {
	enum provider kind;       /* never PROVIDER_NONE or PROVIDER_GENERIC after a successful parse */
	char *host;               /* as in the URL, lowercased */
	char *api_base;           /* "https://api.github.com", no trailing '/' (api_url when given) */
	char *repo_path;          /* appended to api_base: "/repos/o/r", "/projects/g%2Fs%2Fp",
	                             "/repositories/ws/slug", "/PROJECT/_apis/git/repositories/REPO", "/repos/o/r" */
	char *display;            /* "o/r", "g/s/p", "ws/slug", "org/project/repo": for messages */
	char *web_base;           /* the repository's web page, "https://github.com/o/r" (derived, for links) */
};

#define PROVIDER_REPO_INIT { PROVIDER_NONE, NULL, NULL, NULL, NULL, NULL }

/*
 * Parses URL for provider KIND (PROVIDER_NONE or PROVIDER_GENERIC: detected from well-known hosts; any other
 * host then needs an explicit provider). API_URL, when not NULL, replaces the derived API base (trailing '/'
 * dropped). Returns 0 with *out filled (free with provider_repo_clear), or -1 with err set naming the URL.
 */
int provider_repo_parse(enum provider kind, const char *url, const char *api_url, struct provider_repo *out,
	struct error *err);
void provider_repo_clear(struct provider_repo *r);

/* The provider of a well-known host ("github.com", "gitlab.com", ...), PROVIDER_NONE for any other. */
enum provider provider_detect_host(const char *host);

#endif
