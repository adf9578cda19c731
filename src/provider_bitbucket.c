/*
 * provider_bitbucket.c — Bitbucket Cloud (api.bitbucket.org/2.0): commit → merged pull request (state MERGED into
 * the watched branch; 202 means the repository's pull requests are still being indexed: retried), comments as
 * {"content":{"raw":…}} on the pull request or, as the fallback, on the commit; pages by the "next" link.
 */
#include <stdlib.h>
#include <string.h>

#include "provider_impl.h"
#include "util.h"

static int
bb_identity(struct provider_client *pc, struct error *err)
{
	json_t *reply = NULL;
	int status = provider_call(pc, "GET", "/user", NULL, &reply, NULL, err);
	const char *uuid = pj_str(reply, "uuid", NULL);

	if (status == 200 && uuid != NULL)
		pc->me = xstrdup(uuid);
	else if (status >= 0)
		error_set(err, false, "GET /user: HTTP %d", status);
	json_decref(reply);
	return pc->me ? 0 : -1;
}

struct bb_pr_scan {
	const char *commit;
	const char *branch;
	struct provider_pr *pr;
	bool exact;
};

static int
bb_pr_one(json_t *item, void *arg)
{
	struct bb_pr_scan *sc = arg;
	const char *state = pj_str(item, "state", NULL);
	const char *target = pj_str(json_object_get(item, "destination"), "branch", "name");
	const char *mc = pj_str(item, "merge_commit", "hash");
	bool exact;

	if (state == NULL || strcmp(state, "MERGED") != 0 || target == NULL || strcmp(target, sc->branch) != 0)
		return 0;
	/* merge_commit.hash may be abbreviated: compare as a prefix. */
	exact = mc != NULL && *mc != '\0' && strncmp(sc->commit, mc, strlen(mc)) == 0;
	if (sc->pr->id != NULL && (sc->exact || !exact))
		return 0;
	free(sc->pr->id);
	free(sc->pr->url);
	sc->pr->id = pj_id(item, "id");
	sc->pr->url = xstrdup(pj_str(json_object_get(item, "links"), "html", "href"));
	sc->exact = exact;
	return 0;
}

static int
bb_find_pr(struct provider_client *pc, const char *commit, const char *branch, struct provider_pr *pr,
	struct error *err)
{
	struct bb_pr_scan sc = { commit, branch, pr, false };
	char *url = xasprintf("%s/commit/%s/pullrequests?pagelen=50", pc->repo.repo_path, commit);
	json_t *reply = NULL;
	int status, rv = -1;

	/* The first page alone, to tell 202 (indexing) and 404 (commit links not installed) from a list. */
	status = provider_call(pc, "GET", url, NULL, &reply, NULL, err);
	if (status < 0)
		goto out;
	if (status == 202) {
		pc->retry_after = 30;
		rv = error_set(err, true, "bitbucket %s: pull requests are still being indexed (HTTP 202)",
			pc->repo.display);
		goto out;
	}
	if (status == 404) {
		/* Either not indexed yet or the "Pull Request Commit Links" app is missing: no pull request known. */
		rv = 0;
		goto out;
	}
	if (status != 200) {
		rv = provider_status_error(pc, "pull requests of the commit", status, reply, err);
		goto out;
	}
	if (provider_list(pc, url, bb_pr_one, &sc, NULL, err) < 0)
		goto out;
	rv = pr->id != NULL ? 1 : 0;
out:
	json_decref(reply);
	free(url);
	return rv;
}

static bool
bb_extract(json_t *item, struct provider_found *f)
{
	if (json_is_true(json_object_get(item, "deleted")))
		return false;
	f->id = pj_id(item, "id");
	f->body = xstrdup(pj_str(item, "content", "raw"));
	f->author = xstrdup(pj_str(item, "user", "uuid"));
	f->url = xstrdup(pj_str(json_object_get(item, "links"), "html", "href"));
	return f->id != NULL && f->body != NULL;
}

static int
bb_reply_url(struct provider_client *pc, json_t *reply, char **url, struct error *err)
{
	const char *u = pj_str(json_object_get(reply, "links"), "html", "href");

	if (u == NULL)
		return error_set(err, false, "bitbucket %s: the reply names no links.html", pc->repo.display);
	*url = xstrdup(u);
	return 0;
}

static int
bb_update(struct provider_client *pc, void *ctx, const struct provider_found *f, const char *body, char **url,
	struct error *err)
{
	json_t *req = json_pack("{s:{s:s}}", "content", "raw", body), *reply = NULL;
	char *u = xasprintf("%s/%s", (const char *)ctx, f->id);
	int rv = provider_write(pc, "PUT", u, req, 0, "edit comment", &reply, err);

	if (rv == 0)
		rv = bb_reply_url(pc, reply, url, err);
	json_decref(req);
	json_decref(reply);
	free(u);
	return rv;
}

static int
bb_create(struct provider_client *pc, void *ctx, const char *body, char **url, struct error *err)
{
	json_t *req = json_pack("{s:{s:s}}", "content", "raw", body), *reply = NULL;
	int rv = provider_write(pc, "POST", (const char *)ctx, req, 201, "create comment", &reply, err);

	if (rv == 0)
		rv = bb_reply_url(pc, reply, url, err);
	json_decref(req);
	json_decref(reply);
	return rv;
}

static int
bb_upsert_at(struct provider_client *pc, char *comments, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err)
{
	char *list = xasprintf("%s?pagelen=100", comments);
	struct provider_upsert up = { list, comments, bb_extract, bb_update, bb_create };
	int rv = provider_upsert(pc, &up, req, res, err);

	free(list);
	free(comments);
	return rv;
}

static int
bb_upsert_pr(struct provider_client *pc, const struct provider_pr *pr, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err)
{
	return bb_upsert_at(pc, xasprintf("%s/pullrequests/%s/comments", pc->repo.repo_path, pr->id), req, res,
		err);
}

static int
bb_upsert_commit(struct provider_client *pc, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err)
{
	return bb_upsert_at(pc, xasprintf("%s/commit/%s/comments", pc->repo.repo_path, req->commit), req, res,
		err);
}

static int
bb_check(struct provider_client *pc, struct provider_check *chk, struct error *err)
{
	json_t *reply = NULL;
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
		snprintf(chk->detail, sizeof(chk->detail), "Bitbucket does not tell a token's pull request scopes");
	}
	json_decref(reply);
	return 0;
}

const struct provider_ops provider_bitbucket_ops = {
	"bitbucket", bb_identity, bb_find_pr, bb_upsert_pr, bb_upsert_commit, bb_check
};
