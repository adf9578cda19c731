/*
 * provider_gitlab.c — GitLab.com and self-managed GitLab (API v4, subgroups as the URL-encoded project path):
 * commit → merged merge request (state "merged" into the watched branch; "locked" is a merge in progress, so
 * retried), the comment as an MR note, commit discussions (editable, unlike commit comments) as the fallback,
 * and the token's scopes from its self-inspection endpoint.
 */
#include <stdlib.h>
#include <string.h>

#include "provider_impl.h"
#include "util.h"

static int
gl_identity(struct provider_client *pc, struct error *err)
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

struct gl_mr_scan {
	const char *commit;
	const char *branch;
	struct provider_pr *pr;
	bool exact;
	char *locked;             /* iid of a merge request still merging into the branch */
};

static bool
gl_is_merge_of(json_t *item, const char *commit)
{
	static const char *const keys[] = { "merge_commit_sha", "squash_commit_sha", "merged_commit_sha" };
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = pj_str(item, keys[i], NULL)) != NULL && strcmp(v, commit) == 0)
			return true;
	return false;
}

static int
gl_mr_one(json_t *item, void *arg)
{
	struct gl_mr_scan *sc = arg;
	const char *state = pj_str(item, "state", NULL), *target = pj_str(item, "target_branch", NULL);
	bool exact;

	if (state == NULL || target == NULL || strcmp(target, sc->branch) != 0)
		return 0;
	if (strcmp(state, "locked") == 0) {
		if (sc->locked == NULL)
			sc->locked = pj_id(item, "iid");
		return 0;
	}
	if (strcmp(state, "merged") != 0)
		return 0;
	exact = gl_is_merge_of(item, sc->commit);
	if (sc->pr->id != NULL && (sc->exact || !exact))
		return 0;
	free(sc->pr->id);
	free(sc->pr->url);
	sc->pr->id = pj_id(item, "iid");
	sc->pr->url = xstrdup(pj_str(item, "web_url", NULL));
	sc->exact = exact;
	return 0;
}

static int
gl_find_pr(struct provider_client *pc, const char *commit, const char *branch, struct provider_pr *pr,
	struct error *err)
{
	struct gl_mr_scan sc = { commit, branch, pr, false, NULL };
	char *url = xasprintf("%s/repository/commits/%s/merge_requests?per_page=100", pc->repo.repo_path, commit);
	bool missing;
	int rv;

	rv = provider_list(pc, url, gl_mr_one, &sc, &missing, err);
	free(url);
	if (rv < 0)
		goto out;
	if (pr->id == NULL && sc.locked != NULL) {
		rv = error_set(err, true, "gitlab %s: merge request !%s into %s is still merging (locked)",
			pc->repo.display, sc.locked, branch);
		goto out;
	}
	if (missing) {
		/* A mirror that has not pushed yet: try again later. */
		rv = error_set(err, true, "gitlab %s: commit %.12s is not known to GitLab (yet)", pc->repo.display,
			commit);
		goto out;
	}
	rv = pr->id != NULL ? 1 : 0;
out:
	free(sc.locked);
	return rv;
}

static bool
gl_extract_note(json_t *note, struct provider_found *f)
{
	if (json_is_true(json_object_get(note, "system")))
		return false;
	f->id = pj_id(note, "id");
	f->body = xstrdup(pj_str(note, "body", NULL));
	f->author = pj_id(json_object_get(note, "author"), "id");
	return f->id != NULL && f->body != NULL;
}

/* Commit discussions: the first note of each discussion is the comment. */
static bool
gl_extract_discussion(json_t *d, struct provider_found *f)
{
	json_t *note = json_array_get(json_object_get(d, "notes"), 0);

	if (note == NULL || !gl_extract_note(note, f))
		return false;
	f->extra = pj_id(d, "id");
	return f->extra != NULL;
}

struct gl_ctx {
	const char *base;         /* ".../merge_requests/IID" or ".../repository/commits/SHA" */
	const char *web;          /* web URL the note anchors are added to */
	bool discussion;
};

static int
gl_note_url(struct provider_client *pc, struct gl_ctx *c, json_t *note, char **url, struct error *err)
{
	char *id = pj_id(note, "id");

	if (id == NULL)
		return error_set(err, false, "gitlab %s: the reply names no note id", pc->repo.display);
	*url = xasprintf("%s#note_%s", c->web, id);
	free(id);
	return 0;
}

static int
gl_update(struct provider_client *pc, void *ctx, const struct provider_found *f, const char *body, char **url,
	struct error *err)
{
	struct gl_ctx *c = ctx;
	json_t *req = json_pack("{s:s}", "body", body), *reply = NULL;
	char *u = c->discussion ? xasprintf("%s/discussions/%s/notes/%s", c->base, f->extra, f->id) :
		xasprintf("%s/notes/%s", c->base, f->id);
	int rv = provider_write(pc, "PUT", u, req, 200, "edit note", &reply, err);

	if (rv == 0)
		rv = gl_note_url(pc, c, reply, url, err);
	json_decref(req);
	json_decref(reply);
	free(u);
	return rv;
}

static int
gl_create(struct provider_client *pc, void *ctx, const char *body, char **url, struct error *err)
{
	struct gl_ctx *c = ctx;
	json_t *req = json_pack("{s:s}", "body", body), *reply = NULL;
	char *u = xasprintf("%s/%s", c->base, c->discussion ? "discussions" : "notes");
	int rv = provider_write(pc, "POST", u, req, 201, "create note", &reply, err);

	if (rv == 0)
		rv = gl_note_url(pc, c, c->discussion ? json_array_get(json_object_get(reply, "notes"), 0) : reply,
			url, err);
	json_decref(req);
	json_decref(reply);
	free(u);
	return rv;
}

static int
gl_upsert_pr(struct provider_client *pc, const struct provider_pr *pr, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err)
{
	char *base = xasprintf("%s/merge_requests/%s", pc->repo.repo_path, pr->id);
	/* Oldest first (the default is newest first), so our first comment is the one kept. */
	char *list = xasprintf("%s/notes?sort=asc&order_by=created_at&per_page=100", base);
	struct gl_ctx c = { base, pr->url, false };
	struct provider_upsert up = { list, &c, gl_extract_note, gl_update, gl_create };
	int rv = provider_upsert(pc, &up, req, res, err);

	free(list);
	free(base);
	return rv;
}

static int
gl_upsert_commit(struct provider_client *pc, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err)
{
	char *base = xasprintf("%s/repository/commits/%s", pc->repo.repo_path, req->commit);
	char *list = xasprintf("%s/discussions?per_page=100", base);
	char *web = xasprintf("%s/-/commit/%s", pc->repo.web_base, req->commit);
	struct gl_ctx c = { base, web, true };
	struct provider_upsert up = { list, &c, gl_extract_discussion, gl_update, gl_create };
	int rv = provider_upsert(pc, &up, req, res, err);

	free(list);
	free(base);
	free(web);
	return rv;
}

static int
gl_check(struct provider_client *pc, struct provider_check *chk, struct error *err)
{
	json_t *reply = NULL, *scopes, *v;
	int status = provider_call(pc, "GET", pc->repo.repo_path, NULL, &reply, NULL, err);
	struct error e = ERROR_INIT;
	bool api = false;
	size_t i;
	int rv = -1;

	if (status < 0)
		goto out;
	if (status != 200) {
		chk->read = chk->comment = PROVIDER_NO;
		provider_status_error(pc, "read the project", status, reply, &e);
		snprintf(chk->detail, sizeof(chk->detail), "%s", e.msg);
		rv = 0;
		goto out;
	}
	chk->read = PROVIDER_YES;
	json_decref(reply);
	reply = NULL;
	/* Token self-inspection (GitLab 16.0+); older servers and OAuth tokens answer 404/401: cannot tell. */
	status = provider_call(pc, "GET", "/personal_access_tokens/self", NULL, &reply, NULL, err);
	if (status < 0)
		goto out;
	scopes = json_object_get(reply, "scopes");
	if (status == 200 && json_is_array(scopes)) {
		json_array_foreach(scopes, i, v)
			if (json_is_string(v) && strcmp(json_string_value(v), "api") == 0)
				api = true;
		chk->comment = api ? PROVIDER_YES : PROVIDER_NO;
		if (!api)
			snprintf(chk->detail, sizeof(chk->detail), "the token's scopes lack \"api\" (notes need it)");
	} else {
		snprintf(chk->detail, sizeof(chk->detail), "token self-inspection unavailable (HTTP %d)", status);
	}
	rv = 0;
out:
	json_decref(reply);
	return rv;
}

const struct provider_ops provider_gitlab_ops = {
	"gitlab", gl_identity, gl_find_pr, gl_upsert_pr, gl_upsert_commit, gl_check
};
