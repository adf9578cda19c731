/*
 * provider_gitea.c — Gitea and Forgejo (API v1): commit → the pull request whose merge commit it is
 * (GET /commits/{sha}/pull, 404 when none; merged, base and merge commit checked because 1.22.0–1.22.2 also
 * returned unmerged ones), comments through the issue API, a commit status as the fallback (no commit comments).
 */
#include <stdlib.h>
#include <string.h>

#include "provider_impl.h"
#include "util.h"

#define GT_STATUS_CONTEXT "bytebase/rollout"

static int
gt_identity(struct provider_client *pc, struct error *err)
{
	json_t *reply = NULL;
	int status = provider_call(pc, "GET", "/user", NULL, &reply, NULL, err);

	if (status == 200)
		pc->me = pj_id(reply, "id");
	else if (status >= 0)
		error_set(err, false, "GET /user: HTTP %d", status);
	json_decref(reply);
	return pc->me ? 0 : -1;
}

static int
gt_find_pr(struct provider_client *pc, const char *commit, const char *branch, struct provider_pr *pr,
	struct error *err)
{
	char *url = xasprintf("%s/commits/%s/pull", pc->repo.repo_path, commit);
	json_t *reply = NULL;
	const char *base, *mc;
	int status, rv = -1;

	status = provider_call(pc, "GET", url, NULL, &reply, NULL, err);
	if (status < 0)
		goto out;
	if (status == 404) {
		rv = 0;
		goto out;
	}
	if (status != 200) {
		provider_status_error(pc, "pull request of the commit", status, reply, err);
		goto out;
	}
	base = pj_str(reply, "base", "ref");
	mc = pj_str(reply, "merge_commit_sha", NULL);
	if (!json_is_true(json_object_get(reply, "merged")) || base == NULL || strcmp(base, branch) != 0 ||
	    mc == NULL || strcmp(mc, commit) != 0) {
		rv = 0;
		goto out;
	}
	pr->id = pj_id(reply, "number");
	pr->url = xstrdup(pj_str(reply, "html_url", NULL));
	rv = pr->id != NULL ? 1 : 0;
out:
	json_decref(reply);
	free(url);
	return rv;
}

static bool
gt_extract(json_t *item, struct provider_found *f)
{
	f->id = pj_id(item, "id");
	f->body = xstrdup(pj_str(item, "body", NULL));
	f->author = pj_id(json_object_get(item, "user"), "id");
	f->url = xstrdup(pj_str(item, "html_url", NULL));
	return f->id != NULL && f->body != NULL;
}

static int
gt_reply_url(struct provider_client *pc, json_t *reply, char **url, struct error *err)
{
	const char *u = pj_str(reply, "html_url", NULL);

	if (u == NULL)
		return error_set(err, false, "gitea %s: the reply names no html_url", pc->repo.display);
	*url = xstrdup(u);
	return 0;
}

static int
gt_update(struct provider_client *pc, void *ctx, const struct provider_found *f, const char *body, char **url,
	struct error *err)
{
	json_t *req = json_pack("{s:s}", "body", body), *reply = NULL;
	char *u = xasprintf("%s/issues/comments/%s", pc->repo.repo_path, f->id);
	int rv = provider_write(pc, "PATCH", u, req, 200, "edit comment", &reply, err);

	(void)ctx;
	if (rv == 0)
		rv = gt_reply_url(pc, reply, url, err);
	json_decref(req);
	json_decref(reply);
	free(u);
	return rv;
}

static int
gt_create(struct provider_client *pc, void *ctx, const char *body, char **url, struct error *err)
{
	json_t *req = json_pack("{s:s}", "body", body), *reply = NULL;
	int rv = provider_write(pc, "POST", (const char *)ctx, req, 201, "create comment", &reply, err);

	if (rv == 0)
		rv = gt_reply_url(pc, reply, url, err);
	json_decref(req);
	json_decref(reply);
	return rv;
}

static int
gt_upsert_pr(struct provider_client *pc, const struct provider_pr *pr, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err)
{
	char *list = xasprintf("%s/issues/%s/comments", pc->repo.repo_path, pr->id);
	struct provider_upsert up = { list, list, gt_extract, gt_update, gt_create };
	int rv = provider_upsert(pc, &up, req, res, err);

	free(list);
	return rv;
}

struct gt_status_scan {
	const char *target;
	bool found;
};

static int
gt_status_one(json_t *item, void *arg)
{
	struct gt_status_scan *sc = arg;
	const char *ctx = pj_str(item, "context", NULL), *target = pj_str(item, "target_url", NULL);

	if (ctx != NULL && strcmp(ctx, GT_STATUS_CONTEXT) == 0 && target != NULL && strcmp(target, sc->target) == 0)
		sc->found = true;
	return sc->found ? 1 : 0;
}

static int
gt_upsert_commit(struct provider_client *pc, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err)
{
	struct gt_status_scan sc = { req->issue->issue_url, false };
	char *list = xasprintf("%s/commits/%s/statuses?limit=50", pc->repo.repo_path, req->commit);
	char *post = xasprintf("%s/statuses/%s", pc->repo.repo_path, req->commit);
	json_t *body = NULL, *reply = NULL;
	int rv = -1;

	if (provider_list(pc, list, gt_status_one, &sc, NULL, err) < 0)
		goto out;
	if (!sc.found) {
		body = json_pack("{s:s,s:s,s:s,s:s}", "state", "success", "target_url", req->issue->issue_url,
			"description", "Bytebase rollout created", "context", GT_STATUS_CONTEXT);
		if (provider_write(pc, "POST", post, body, 201, "create commit status", &reply, err) < 0)
			goto out;
	}
	res->url = xstrdup(req->issue->issue_url);
	rv = 0;
out:
	json_decref(body);
	json_decref(reply);
	free(list);
	free(post);
	return rv;
}

static int
gt_check(struct provider_client *pc, struct provider_check *chk, struct error *err)
{
	json_t *reply = NULL, *perm;
	int status = provider_call(pc, "GET", pc->repo.repo_path, NULL, &reply, NULL, err);
	struct error e = ERROR_INIT;

	if (status < 0) {
		json_decref(reply);
		return -1;
	}
	if (status != 200) {
		chk->read = chk->comment = PROVIDER_NO;
		provider_status_error(pc, "read the repository", status, reply, &e);
		snprintf(chk->detail, sizeof(chk->detail), "%s", e.msg);
	} else {
		chk->read = PROVIDER_YES;
		perm = json_object_get(reply, "permissions");
		if (json_is_object(perm) && !json_is_true(json_object_get(perm, "pull"))) {
			chk->comment = PROVIDER_NO;
			snprintf(chk->detail, sizeof(chk->detail), "the repository's permissions deny pull");
		} else {
			snprintf(chk->detail, sizeof(chk->detail), "Gitea does not tell a token's scopes");
		}
	}
	json_decref(reply);
	return 0;
}

const struct provider_ops provider_gitea_ops = {
	"gitea", gt_identity, gt_find_pr, gt_upsert_pr, gt_upsert_commit, gt_check
};
