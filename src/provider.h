/*
 * provider.h — telling the developer where their migration went (issue 12): on the Git provider, find the pull
 * request that merged a commit into the watched branch and upsert our one comment on it, or, with no such pull
 * request, comment on the commit (GitHub, GitLab, Bitbucket) or set a commit status (Azure DevOps, Gitea).
 * Also the credential check of `doctor`. Lives in bbgitops-deliver (libcurl); knows neither state nor git.
 */
#ifndef BBGITOPS_PROVIDER_H
#define BBGITOPS_PROVIDER_H

#include <stdbool.h>

#include "config.h"
#include "error.h"
#include "provider_body.h"

struct http;
struct provider_client;

/*
 * Opens a client for repository entry RC (url, provider, api_url, token_file), sending through H (the run's one
 * libcurl handle; not owned). The token is read here (a private file, config_read_secret). 0, or -1 with err.
 */
int provider_open(const struct repo_config *rc, struct http *h, struct provider_client **out, struct error *err);
void provider_close(struct provider_client *pc);           /* NULL is fine; wipes the token */

/* What to post, and for which landing of which commit. */
struct provider_comment_request {
	const struct provider_body_issue *issue;
	const char *branch;       /* the watched branch the commit landed on */
	const char *commit;       /* 40 hex */
	bool fallback;            /* no merged pull request found: comment on the commit / set a status */
};

struct provider_comment_result {
	char *url;                /* web URL of the comment (or the status's target); caller frees */
	bool on_commit;           /* the commit fallback was used */
};

/*
 * Upserts the comment. Finds our earlier comment by marker (and author, where the token's identity resolves)
 * across every page before creating one, so a retry after a lost reply edits instead of duplicating.
 * Returns 0 with *res filled, or -1 with err: transient for network errors, 5xx, rate limits, a merge the
 * provider has not recorded yet (GitLab "locked", Bitbucket 202) and "no merged pull request" without
 * req->fallback; permanent otherwise.
 */
int provider_comment(struct provider_client *pc, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err);
void provider_comment_result_clear(struct provider_comment_result *res);

/* Seconds the provider asked us to wait after the last transient error (Retry-After, rate-limit reset), or -1. */
long provider_retry_after(const struct provider_client *pc);

/* doctor: what the token may do on the repository. */
enum provider_verdict { PROVIDER_YES, PROVIDER_NO, PROVIDER_CANNOT_TELL };

struct provider_check {
	enum provider_verdict read;
	enum provider_verdict comment;
	char detail[512];         /* why (never the token) */
};

/* Checks read access and the right to comment, from what the API says. -1 only when no answer came at all. */
int provider_check(struct provider_client *pc, struct provider_check *chk, struct error *err);

/* The repository at its provider ("acme/hr", "group/sub/proj"), and the provider's API name, for messages. */
const char *provider_display(const struct provider_client *pc);
const char *provider_name(const struct provider_client *pc);

#endif
