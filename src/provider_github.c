/*
 * provider_github.c — GitHub.com and GitHub Enterprise Server: commit → merged pull request
 * (GET /commits/{sha}/pulls, filtered on merged_at and base.ref), the comment through the issue-comments API,
 * commit comments as the fallback, and the token's rights from X-OAuth-Scopes or the repository's permissions.
 */
#include <stdlib.h>
#include <string.h>

#include "provider_impl.h"
#include "util.h"

static int
gh_identity(struct provider_client *pc, struct error *err)
{
	json_t *reply = NULL;
	int status = provider_call(pc, "GET", "/user", NULL, &reply, NULL, err);
	const char *login = pj_str(reply, "login", NULL);

	if (status == 200 && login != NULL)
		pc->me = xstrdup(login);
	else if (status >= 0)
		error_set(err, false, "GET /user: HTTP %d", status);
	json_decref(reply);
	return pc->me ? 0 : -1;
}

struct gh_pr_scan {
	const char *commit;
	const char *branch;
	struct provider_pr *pr;
	bool exact;               /* the kept candidate's merge_commit_sha is the commit */
};

static int
gh_pr_one(json_t *item, void *arg)
{
	struct gh_pr_scan *sc = arg;
	const char *base = pj_str(item, "base", "ref"), *mc = pj_str(item, "merge_commit_sha", NULL);
	bool exact;

	/* An open or closed-unmerged pull request that merely contains the commit is never ours to comment on. */
	if (json_is_null(json_object_get(item, "merged_at")) || json_object_get(item, "merged_at") == NULL)
		return 0;
	if (base == NULL || strcmp(base, sc->branch) != 0)
		return 0;
	exact = mc != NULL && strcmp(mc, sc->commit) == 0;
	if (sc->pr->id != NULL && (sc->exact || !exact))
		return 0;
	free(sc->pr->id);
	free(sc->pr->url);
	sc->pr->id = pj_id(item, "number");
	sc->pr->url = xstrdup(pj_str(item, "html_url", NULL));
	sc->exact = exact;
	return 0;
}

static int
gh_find_pr(struct provider_client *pc, const char *commit, const char *branch, struct provider_pr *pr,
	struct error *err)
{
	struct gh_pr_scan sc = { commit, branch, pr, false };
	char *url = xasprintf("%s/commits/%s/pulls?per_page=100", pc->repo.repo_path, commit);
	bool missing;
	int rv;

	rv = provider_list(pc, url, gh_pr_one, &sc, &missing, err);
	free(url);
	if (rv < 0)
		return -1;
	if (missing)    /* a mirror that has not pushed yet: try again later */
		return error_set(err, true, "github %s: commit %.12s is not known to GitHub (yet)", pc->repo.display,
			commit);
	return pr->id != NULL ? 1 : 0;
}

static bool
gh_extract(json_t *item, struct provider_found *f)
{
	f->id = pj_id(item, "id");
	f->body = xstrdup(pj_str(item, "body", NULL));
	f->author = xstrdup(pj_str(item, "user", "login"));
	f->url = xstrdup(pj_str(item, "html_url", NULL));
	return f->id != NULL && f->body != NULL;
}

/* ctx: the "repos/o/r/comments" (commit) or "repos/o/r/issues/comments" (PR) edit prefix + the create URL. */
struct gh_ctx {
	const char *edit_prefix;
	const char *create_url;
};

static int
gh_reply_url(json_t *reply, char **url, struct error *err, struct provider_client *pc)
{
	const char *u = pj_str(reply, "html_url", NULL);

	if (u == NULL)
		return error_set(err, false, "github %s: the reply names no html_url", pc->repo.display);
	*url = xstrdup(u);
	return 0;
}

static int
gh_update(struct provider_client *pc, void *ctx, const struct provider_found *f, const char *body, char **url,
	struct error *err)
{
	struct gh_ctx *c = ctx;
	json_t *req = json_pack("{s:s}", "body", body), *reply = NULL;
	char *u = xasprintf("%s/%s", c->edit_prefix, f->id);
	int rv = provider_write(pc, "PATCH", u, req, 200, "edit comment", &reply, err);

	if (rv == 0)
		rv = gh_reply_url(reply, url, err, pc);
	json_decref(req);
	json_decref(reply);
	free(u);
	return rv;
}

static int
gh_create(struct provider_client *pc, void *ctx, const char *body, char **url, struct error *err)
{
	struct gh_ctx *c = ctx;
	json_t *req = json_pack("{s:s}", "body", body), *reply = NULL;
	int rv = provider_write(pc, "POST", c->create_url, req, 201, "create comment", &reply, err);

	if (rv == 0)
		rv = gh_reply_url(reply, url, err, pc);
	json_decref(req);
	json_decref(reply);
	return rv;
}

static int
gh_upsert_pr(struct provider_client *pc, const struct provider_pr *pr, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err)
{
	char *list = xasprintf("%s/issues/%s/comments?per_page=100", pc->repo.repo_path, pr->id);
	char *create = xasprintf("%s/issues/%s/comments", pc->repo.repo_path, pr->id);
	char *edit = xasprintf("%s/issues/comments", pc->repo.repo_path);
	struct gh_ctx c = { edit, create };
	struct provider_upsert up = { list, &c, gh_extract, gh_update, gh_create };
	int rv = provider_upsert(pc, &up, req, res, err);

	free(list);
	free(create);
	free(edit);
	return rv;
}

static int
gh_upsert_commit(struct provider_client *pc, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err)
{
	char *list = xasprintf("%s/commits/%s/comments?per_page=100", pc->repo.repo_path, req->commit);
	char *create = xasprintf("%s/commits/%s/comments", pc->repo.repo_path, req->commit);
	char *edit = xasprintf("%s/comments", pc->repo.repo_path);
	struct gh_ctx c = { edit, create };
	struct provider_upsert up = { list, &c, gh_extract, gh_update, gh_create };
	int rv = provider_upsert(pc, &up, req, res, err);

	free(list);
	free(create);
	free(edit);
	return rv;
}

/* Does the comma-separated scope list hold SCOPE? */
static bool
gh_has_scope(const char *scopes, const char *scope)
{
	size_t n = strlen(scope);
	const char *p = scopes;

	while ((p = strstr(p, scope)) != NULL) {
		if ((p == scopes || p[-1] == ' ' || p[-1] == ',') && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

static int
gh_check(struct provider_client *pc, struct provider_check *chk, struct error *err)
{
	json_t *reply = NULL, *perm;
	int status = provider_call(pc, "GET", pc->repo.repo_path, NULL, &reply, NULL, err);
	struct error e = ERROR_INIT;
	bool private_repo;
	int rv = -1;

	if (status < 0)
		goto out;
	if (status != 200) {
		chk->read = PROVIDER_NO;
		chk->comment = PROVIDER_NO;
		provider_status_error(pc, "read the repository", status, reply, &e);
		snprintf(chk->detail, sizeof(chk->detail), "%s", e.msg);
		rv = 0;
		goto out;
	}
	chk->read = PROVIDER_YES;
	private_repo = json_is_true(json_object_get(reply, "private"));
	perm = json_object_get(reply, "permissions");
	if (pc->oauth_scopes != NULL) {
		/* A classic token: its scopes decide (X-OAuth-Scopes). */
		if (gh_has_scope(pc->oauth_scopes, "repo") ||
		    (!private_repo && gh_has_scope(pc->oauth_scopes, "public_repo"))) {
			chk->comment = PROVIDER_YES;
		} else {
			chk->comment = PROVIDER_NO;
			snprintf(chk->detail, sizeof(chk->detail), "token scopes \"%s\" lack \"repo\"%s",
				pc->oauth_scopes, private_repo ? "" : " or \"public_repo\"");
		}
	} else if (json_is_object(perm)) {
		if (json_is_true(json_object_get(perm, "push")) || json_is_true(json_object_get(perm, "triage")) ||
		    json_is_true(json_object_get(perm, "maintain")) || json_is_true(json_object_get(perm, "admin"))) {
			chk->comment = PROVIDER_YES;
		} else {
			chk->comment = PROVIDER_NO;
			snprintf(chk->detail, sizeof(chk->detail), "the repository's permissions grant read only");
		}
	} else {
		snprintf(chk->detail, sizeof(chk->detail), "GitHub tells neither scopes nor permissions");
	}
	rv = 0;
out:
	json_decref(reply);
	return rv;
}

const struct provider_ops provider_github_ops = {
	"github", gh_identity, gh_find_pr, gh_upsert_pr, gh_upsert_commit, gh_check
};
