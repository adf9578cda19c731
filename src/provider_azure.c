/*
 * provider_azure.c — Azure DevOps Services and Server (api-version 7.1): the repository's GUID first, then
 * commit → completed pull request into refs/heads/<branch> (pullrequestquery), the comment as the first comment of
 * a thread (edited with the documented PATCH of that comment), and a commit status as the fallback: Azure has no
 * commit comments.
 */
#include <stdlib.h>
#include <string.h>

#include "provider_impl.h"
#include "util.h"

#define AZ_V "api-version=7.1"
#define AZ_STATUS_CONTEXT "bytebase-rollout"
#define AZ_STATUS_GENRE "bytebase"

/* The repository's GUID and web URL; the name in the clone URL is not accepted everywhere. */
static int
az_resolve(struct provider_client *pc, struct error *err)
{
	json_t *reply = NULL;
	char *url, *id;
	const char *project, *web;
	int status, rv = -1;

	if (pc->azure_repo_path != NULL)
		return 0;
	url = xasprintf("%s?" AZ_V, pc->repo.repo_path);
	status = provider_call(pc, "GET", url, NULL, &reply, NULL, err);
	free(url);
	if (status < 0)
		goto out;
	if (status != 200) {
		provider_status_error(pc, "repository", status, reply, err);
		goto out;
	}
	id = pj_id(reply, "id");
	project = pj_str(reply, "project", "id");
	web = pj_str(reply, "webUrl", NULL);
	if (id == NULL || project == NULL || web == NULL) {
		free(id);
		error_set(err, false, "azure %s: the repository reply lacks id, project.id or webUrl", pc->repo.display);
		goto out;
	}
	pc->azure_repo_path = xasprintf("/%s/_apis/git/repositories/%s", project, id);
	pc->azure_web = xstrdup(web);
	free(id);
	rv = 0;
out:
	json_decref(reply);
	return rv;
}

static int
az_identity(struct provider_client *pc, struct error *err)
{
	json_t *reply = NULL;
	int status = provider_call(pc, "GET", "/_apis/connectionData?" AZ_V, NULL, &reply, NULL, err);
	const char *id = pj_str(reply, "authenticatedUser", "id");

	if (status == 200 && id != NULL)
		pc->me = xstrdup(id);
	else if (status >= 0)
		error_set(err, false, "GET /_apis/connectionData: HTTP %d", status);
	json_decref(reply);
	return pc->me ? 0 : -1;
}

static int
az_find_pr(struct provider_client *pc, const char *commit, const char *branch, struct provider_pr *pr,
	struct error *err)
{
	json_t *req = NULL, *reply = NULL, *results, *list, *item;
	char *url = NULL, *ref = xasprintf("refs/heads/%s", branch);
	const char *status_s, *target, *lmc;
	size_t q, i;
	bool exact = false, this_exact;
	int status, rv = -1;

	if (az_resolve(pc, err) < 0)
		goto out;
	url = xasprintf("%s/pullrequestquery?" AZ_V, pc->azure_repo_path);
	req = json_pack("{s:[{s:s,s:[s]},{s:s,s:[s]}]}", "queries", "type", "lastMergeCommit", "items", commit,
		"type", "commit", "items", commit);
	status = provider_call(pc, "POST", url, req, &reply, NULL, err);
	if (status < 0)
		goto out;
	if (status != 200) {
		provider_status_error(pc, "pull request query", status, reply, err);
		goto out;
	}
	results = json_object_get(reply, "results");
	for (q = 0; q < json_array_size(results); q++) {
		list = json_object_get(json_array_get(results, q), commit);
		json_array_foreach(list, i, item) {
			status_s = pj_str(item, "status", NULL);
			target = pj_str(item, "targetRefName", NULL);
			lmc = pj_str(item, "lastMergeCommit", "commitId");
			if (status_s == NULL || strcmp(status_s, "completed") != 0 || target == NULL ||
			    strcmp(target, ref) != 0)
				continue;
			this_exact = lmc != NULL && strcmp(lmc, commit) == 0;
			if (pr->id != NULL && (exact || !this_exact))
				continue;
			free(pr->id);
			free(pr->url);
			pr->id = pj_id(item, "pullRequestId");
			pr->url = xasprintf("%s/pullrequest/%s", pc->azure_web, pr->id ? pr->id : "?");
			exact = this_exact;
		}
	}
	rv = pr->id != NULL ? 1 : 0;
out:
	json_decref(req);
	json_decref(reply);
	free(url);
	free(ref);
	return rv;
}

/* A thread's first comment, unless the thread or comment is deleted or a system one. */
static bool
az_extract(json_t *thread, struct provider_found *f)
{
	json_t *c = json_array_get(json_object_get(thread, "comments"), 0);
	const char *type = pj_str(c, "commentType", NULL);

	if (c == NULL || json_is_true(json_object_get(thread, "isDeleted")) ||
	    json_is_true(json_object_get(c, "isDeleted")) || (type != NULL && strcmp(type, "system") == 0))
		return false;
	f->id = pj_id(thread, "id");
	f->extra = pj_id(c, "id");
	f->body = xstrdup(pj_str(c, "content", NULL));
	f->author = xstrdup(pj_str(c, "author", "id"));
	return f->id != NULL && f->extra != NULL && f->body != NULL;
}

struct az_ctx {
	const char *threads;      /* ".../pullRequests/N/threads" */
	const char *web;          /* the pull request's web page */
};

static int
az_update(struct provider_client *pc, void *ctx, const struct provider_found *f, const char *body, char **url,
	struct error *err)
{
	struct az_ctx *c = ctx;
	json_t *req = json_pack("{s:s}", "content", body), *reply = NULL;
	char *u = xasprintf("%s/%s/comments/%s?" AZ_V, c->threads, f->id, f->extra);
	int rv = provider_write(pc, "PATCH", u, req, 200, "edit comment", &reply, err);

	if (rv == 0)
		*url = xasprintf("%s?discussionId=%s", c->web, f->id);
	json_decref(req);
	json_decref(reply);
	free(u);
	return rv;
}

static int
az_create(struct provider_client *pc, void *ctx, const char *body, char **url, struct error *err)
{
	struct az_ctx *c = ctx;
	json_t *req = json_pack("{s:[{s:i,s:s,s:i}],s:i}", "comments", "parentCommentId", 0, "content", body,
		"commentType", 1, "status", 1), *reply = NULL;
	char *u = xasprintf("%s?" AZ_V, c->threads), *id = NULL;
	int rv = provider_write(pc, "POST", u, req, 200, "create thread", &reply, err);

	if (rv == 0) {
		id = pj_id(reply, "id");
		if (id == NULL)
			rv = error_set(err, false, "azure %s: the reply names no thread id", pc->repo.display);
		else
			*url = xasprintf("%s?discussionId=%s", c->web, id);
	}
	json_decref(req);
	json_decref(reply);
	free(u);
	free(id);
	return rv;
}

static int
az_upsert_pr(struct provider_client *pc, const struct provider_pr *pr, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err)
{
	char *threads = xasprintf("%s/pullRequests/%s/threads", pc->azure_repo_path, pr->id);
	char *list = xasprintf("%s?" AZ_V, threads);
	struct az_ctx c = { threads, pr->url };
	struct provider_upsert up = { list, &c, az_extract, az_update, az_create };
	int rv = provider_upsert(pc, &up, req, res, err);

	free(list);
	free(threads);
	return rv;
}

struct az_status_scan {
	const char *target;
	bool found;
};

static int
az_status_one(json_t *item, void *arg)
{
	struct az_status_scan *sc = arg;
	const char *name = pj_str(item, "context", "name"), *target = pj_str(item, "targetUrl", NULL);

	if (name != NULL && strcmp(name, AZ_STATUS_CONTEXT) == 0 && target != NULL && strcmp(target, sc->target) == 0)
		sc->found = true;
	return sc->found ? 1 : 0;
}

/* No commit comments on Azure: a commit status linking the issue, set once (looked up before posting). */
static int
az_upsert_commit(struct provider_client *pc, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err)
{
	struct az_status_scan sc = { req->issue->issue_url, false };
	json_t *body = NULL, *reply = NULL;
	char *statuses = NULL, *list = NULL, *post = NULL;
	int rv = -1;

	if (az_resolve(pc, err) < 0)
		goto out;
	statuses = xasprintf("%s/commits/%s/statuses", pc->azure_repo_path, req->commit);
	list = xasprintf("%s?" AZ_V, statuses);
	if (provider_list(pc, list, az_status_one, &sc, NULL, err) < 0)
		goto out;
	if (!sc.found) {
		post = xasprintf("%s?" AZ_V, statuses);
		body = json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "state", "succeeded", "description",
			"Bytebase rollout created", "targetUrl", req->issue->issue_url, "context", "name",
			AZ_STATUS_CONTEXT, "genre", AZ_STATUS_GENRE);
		if (provider_write(pc, "POST", post, body, 201, "create commit status", &reply, err) < 0)
			goto out;
	}
	res->url = xstrdup(req->issue->issue_url);
	rv = 0;
out:
	json_decref(body);
	json_decref(reply);
	free(statuses);
	free(list);
	free(post);
	return rv;
}

static int
az_check(struct provider_client *pc, struct provider_check *chk, struct error *err)
{
	struct error e = ERROR_INIT;

	if (az_resolve(pc, &e) < 0) {
		if (e.http_status == 0 && e.transient) {
			*err = e;
			return -1;
		}
		chk->read = chk->comment = PROVIDER_NO;
		snprintf(chk->detail, sizeof(chk->detail), "%s", e.msg);
		return 0;
	}
	chk->read = PROVIDER_YES;
	snprintf(chk->detail, sizeof(chk->detail), "Azure DevOps does not tell a token's scopes");
	return 0;
}

const struct provider_ops provider_azure_ops = {
	"azure", az_identity, az_find_pr, az_upsert_pr, az_upsert_commit, az_check
};
