/*
 * provider_impl.h — shared by provider.c and the provider_*.c files: the client, one API call with the
 * provider's auth header and rate-limit handling, and full pagination (Link headers, GitLab's X-Next-Page,
 * Bitbucket's "next" in the body). Not for use outside the provider files.
 */
#ifndef BBGITOPS_PROVIDER_IMPL_H
#define BBGITOPS_PROVIDER_IMPL_H

#include <jansson.h>

#include "http.h"
#include "provider.h"
#include "provider_url.h"

struct provider_ops;

struct provider_client {
	const struct provider_ops *ops;
	struct provider_repo repo;
	struct http *http;
	char *auth_header;        /* the whole "Authorization: …" / "PRIVATE-TOKEN: …" line; wiped on close */
	char *oauth_scopes;       /* GitHub X-OAuth-Scopes of the last reply, or NULL */
	char *me;                 /* the token's own user id/login (author match), NULL when unknown */
	bool me_resolved;
	long retry_after;         /* hint after the last transient failure, -1 none */
	char *azure_repo_path;    /* Azure: repo_path with the repository GUID, once resolved */
	char *azure_web;          /* Azure: the repository's webUrl */
};

struct provider_pr {
	char *id;                 /* number / iid / id as text, used in paths */
	char *url;                /* web URL */
};

struct provider_ops {
	const char *name;
	/* The token's own identity for the author match (pc->me), NULL when the API does not tell. */
	int (*identity)(struct provider_client *pc, struct error *err);
	/* The merged pull request of COMMIT into BRANCH: 1 found, 0 none, -1 err (transient while merging). */
	int (*find_pr)(struct provider_client *pc, const char *commit, const char *branch, struct provider_pr *pr,
		struct error *err);
	int (*upsert_pr)(struct provider_client *pc, const struct provider_pr *pr,
		const struct provider_comment_request *req, struct provider_comment_result *res, struct error *err);
	int (*upsert_commit)(struct provider_client *pc, const struct provider_comment_request *req,
		struct provider_comment_result *res, struct error *err);
	int (*check)(struct provider_client *pc, struct provider_check *chk, struct error *err);
};

extern const struct provider_ops provider_github_ops;
extern const struct provider_ops provider_gitlab_ops;
extern const struct provider_ops provider_bitbucket_ops;
extern const struct provider_ops provider_azure_ops;
extern const struct provider_ops provider_gitea_ops;

/*
 * One call: METHOD to URL (absolute) or, starting with '/', api_base + URL, with BODY (a JSON object, not
 * stolen; NULL for none). Rate limits (429, a 403 carrying rate-limit headers) are waited out in place when
 * short, else returned as a transient error with pc->retry_after set; 5xx and no reply are transient.
 * Returns the HTTP status (>= 200) with *reply set to the parsed JSON body (NULL when empty or not wanted),
 * or -1 with err set. Statuses >= 400 are returned, not turned into errors: the caller knows what they mean.
 */
int provider_call(struct provider_client *pc, const char *method, const char *url, json_t *body, json_t **reply,
	struct http_meta *meta, struct error *err);

/* A status the caller did not expect, as a permanent (or, for 5xx, transient) error with the server's words. */
int provider_status_error(struct provider_client *pc, const char *what, long status, json_t *reply,
	struct error *err);

/*
 * Visits every item of a paginated list at URL: FN returns 1 to stop, 0 to go on, -1 to fail. The items are the
 * reply array, or its "values" (Bitbucket) or "value" (Azure) member. Returns 0, or -1 with err set.
 * A 404 (or GitHub's 422 for an unknown commit) is reported through *not_found when not NULL (the list is then
 * empty), else it is an error.
 */
int provider_list(struct provider_client *pc, const char *url, int (*fn)(json_t *item, void *arg), void *arg,
	bool *not_found, struct error *err);

/* Is this comment ours: our prefix and, when pc->me is known, the author AUTHOR (may be NULL)? */
bool provider_is_ours(const struct provider_client *pc, const char *body, const char *author);

/* The identity once per client; failures leave it unknown (prefix-only matching). */
void provider_resolve_identity(struct provider_client *pc);

/* JSON helpers: a string member along a path ("base", "ref"), NULL when absent; an integer member as text. */
const char *pj_str(json_t *obj, const char *a, const char *b);
char *pj_id(json_t *obj, const char *key);

/* One comment as read from a list. */
struct provider_found {
	char *id;
	char *body;
	char *author;             /* the author's id/login/uuid as pc->me holds it, or NULL */
	char *url;                /* web URL, or NULL */
	char *extra;              /* provider-specific (GitLab discussion id, Azure comment id) */
};
void provider_found_clear(struct provider_found *f);

/* The upsert of one comment thread: where the list is and how to read, edit and create. */
struct provider_upsert {
	const char *list_url;
	void *ctx;
	bool (*extract)(json_t *item, struct provider_found *f);    /* false: skip (system, deleted) */
	int (*update)(struct provider_client *pc, void *ctx, const struct provider_found *f, const char *body,
		char **url, struct error *err);
	int (*create)(struct provider_client *pc, void *ctx, const char *body, char **url, struct error *err);
};

/*
 * Our earlier comment (marker + author) anywhere in the list: left alone when it already holds the issue's
 * section, else edited with it merged in; no comment of ours: one is created.
 */
int provider_upsert(struct provider_client *pc, const struct provider_upsert *up,
	const struct provider_comment_request *req, struct provider_comment_result *res, struct error *err);

/* A write expecting status WANT (0: any 2xx); the reply in *reply (caller decrefs). */
int provider_write(struct provider_client *pc, const char *method, const char *url, json_t *body, long want,
	const char *what, json_t **reply, struct error *err);

/* Appends "?k=v" or "&k=v". Caller frees. */
char *provider_url_param(const char *url, const char *param);

#endif
