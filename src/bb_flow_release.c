/*
 * bb_flow_release.c — the release flow, Bytebase 3.14 and later: a typed release carrying each file's version and
 * statement, a plan titled with the marker targeting that release, the issue labelled with the marker, then
 * POST {plan}/rollout (400 FAILED_PRECONDITION = waits for approval). Also the pieces the specs flow (3.7–3.13)
 * shares: the release, found by content before it is created again, and the lookups of plan and issue, which
 * never trust a server-side filter. See docs/bytebase-ranges.md.
 */
#include "bb_flow.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http.h"
#include "log.h"
#include "util.h"

/* The change kind of a release file on 3.7–3.13: each sub-range names it differently. */
static int
release_file_kind(struct bb_run *run, const struct bb_file *f, json_t *jf, struct error *err)
{
	const struct bb_version *v = bb_current_version(run->bb);
	const char *kind = strcmp(f->type, "DATA") == 0 ? "DML" :
	    strcmp(f->type, "MIGRATE_GHOST") == 0 ? "DDL_GHOST" : "DDL";

	if (bb_current_range(run->bb) != BB_RANGE_3_7)
		return 0;   /* 3.14+: the server reads the statement; gh-ost is a directive in the SQL */
	if (bb_set(jf, "type", json_string("VERSIONED"), err) < 0)
		return -1;
	if (v->major == 3 && v->minor <= 10)
		return bb_set(jf, "changeType", json_string(kind), err);
	if (v->major == 3 && v->minor <= 12)
		return bb_set(jf, "migrationType", json_string(kind), err);
	/* 3.13: DDL and DML are told apart by the server at run time; only gh-ost is declared. */
	if (strcmp(f->type, "MIGRATE_GHOST") == 0)
		return bb_set(jf, "enableGhost", json_true(), err);
	return 0;
}

static int
release_create(struct bb_run *run, void *arg, char **name, struct error *err)
{
	struct bb_job *job = run->job;
	json_t *body = json_object(), *files = json_array(), *jf;
	char *path = bb_project_path(job->repo->project, "releases"), *content = NULL;
	size_t i;
	int ret = -1;

	(void)arg;
	if (bb_set(body, "files", files, err) < 0)
		goto out;
	if (bb_current_range(run->bb) == BB_RANGE_3_14) {
		if (bb_set(body, "type", json_string("VERSIONED"), err) < 0)
			goto out;
	} else if (bb_set(body, "title", bb_jstring(job->marker), err) < 0) {
		goto out;
	}
	for (i = 0; i < job->n_files; i++) {
		free(content);
		content = bb_base64(job->files[i].content, job->files[i].content_len);
		jf = json_object();
		if (bb_append(files, jf, err) < 0 || bb_set(jf, "path", bb_jstring(job->files[i].path), err) < 0 ||
		    bb_set(jf, "version", json_string(job->files[i].version), err) < 0 ||
		    release_file_kind(run, &job->files[i], jf, err) < 0 ||
		    bb_set(jf, "statement", json_string(content), err) < 0)
			goto out;
	}
	ret = bb_create(run->bb, path, body, name, err);
out:
	free(content);
	free(path);
	json_decref(body);
	return ret;
}

struct release_match {
	struct bb_job *job;
	char (*sha)[65];
	char *name;
};

/* Is R a release of exactly the job's files (path, version, content)? Whoever made it, it is the same release. */
static int
release_matches(const json_t *r, void *arg)
{
	struct release_match *m = arg;
	const json_t *files = json_object_get(r, "files"), *f;
	const char *name = bb_nonempty(r, "name"), *p, *v, *sha;
	size_t i, j;
	bool found;

	if (name == NULL || json_array_size(files) != m->job->n_files)
		return 0;
	if (bb_str(r, "state") != NULL && strcmp(bb_str(r, "state"), "DELETED") == 0)
		return 0;
	for (i = 0; i < m->job->n_files; i++) {
		found = false;
		json_array_foreach(files, j, f) {
			p = bb_str(f, "path");
			v = bb_str(f, "version");
			sha = bb_str(f, "sheetSha256");
			if (p != NULL && v != NULL && sha != NULL && strcmp(p, m->job->files[i].path) == 0 &&
			    strcmp(v, m->job->files[i].version) == 0 && strcmp(sha, m->sha[i]) == 0) {
				found = true;
				break;
			}
		}
		if (!found)
			return 0;
	}
	m->name = xstrdup(name);
	return 1;
}

/* Every release of the project, paged to the end, matched by content (ListReleases has no usable filter). */
static int
release_find(struct bb_run *run, void *arg, char **name, struct error *err)
{
	struct bb_job *job = run->job;
	struct release_match m = { job, NULL, NULL };
	size_t i, total = 0, page;
	char *base, *q;
	int rc;

	(void)arg;
	m.sha = xcalloc(job->n_files ? job->n_files : 1, sizeof(*m.sha));
	for (i = 0; i < job->n_files; i++) {
		bb_sha256_hex(job->files[i].content, job->files[i].content_len, m.sha[i]);
		total += 4 * (job->files[i].content_len / 3 + 1);
	}
	/* Up to 3.13 a listing echoes every statement: small pages, a reply cap sized from ours. */
	page = total > 1024 * 1024 ? 2 : 50;
	q = xasprintf("releases?pageSize=%zu", page);
	base = bb_project_path(job->repo->project, q);
	rc = bb_list(run->bb, base, "releases", "listing releases", HTTP_MAX_RESPONSE + 2 * total * page,
		release_matches, &m, err);
	free(base);
	free(q);
	free(m.sha);
	*name = m.name;
	return rc < 0 ? -1 : 0;
}

int
bb_flow_release_ensure(struct bb_run *run, struct error *err)
{
	/* A recorded plan already names its release. */
	if (run->job->names[BB_OBJ_PLAN] != NULL)
		return 0;
	return bb_ensure_once(run, BB_OBJ_RELEASE, release_find, release_create, NULL, err);
}

struct plan_match {
	const char *marker;
	char *name;
};

static int
plan_matches(const json_t *p, void *arg)
{
	struct plan_match *m = arg;
	const char *title = bb_str(p, "title"), *name = bb_nonempty(p, "name");

	if (title == NULL || name == NULL || strcmp(title, m->marker) != 0)
		return 0;
	m->name = xstrdup(name);
	return 1;
}

/* A CEL string literal: "..." with backslash and quote escaped. Caller frees. */
static char *
cel_quote(const char *s)
{
	struct sbuf sb = SBUF_INIT;

	sbuf_adds(&sb, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sbuf_adds(&sb, "\\");
		sbuf_add(&sb, s, 1);
	}
	sbuf_adds(&sb, "\"");
	return sbuf_detach(&sb);
}

int
bb_flow_find_plan(struct bb_run *run, void *arg, char **name, struct error *err)
{
	struct plan_match m = { run->job->marker, NULL };
	char *base, *filter = NULL, *esc = NULL, *q;
	int rc;

	(void)arg;
	if (bb_current_range(run->bb) == BB_RANGE_3_14) {
		/* ListPlans has filter from 3.14 on; the title is still checked, and every page read. */
		q = cel_quote(run->job->marker);
		filter = xasprintf("title == %s", q);
		free(q);
		esc = http_escape(filter);
		q = xasprintf("plans?filter=%s&pageSize=100", esc);
	} else {
		/* No filter before 3.14 (it would be ignored): page through every plan of the project. */
		q = xstrdup("plans?pageSize=1000");
	}
	base = bb_project_path(run->job->repo->project, q);
	rc = bb_list(run->bb, base, "plans", "listing plans", HTTP_MAX_RESPONSE, plan_matches, &m, err);
	free(base);
	free(q);
	free(esc);
	free(filter);
	*name = m.name;
	return rc < 0 ? -1 : 0;
}

int
bb_flow_find_plan_issue(struct bb_run *run, void *arg, char **name, struct error *err)
{
	json_t *plan = NULL, *issue = NULL;
	const char *iname, *desc;
	int ret = -1;

	(void)arg;
	*name = NULL;
	if (bb_get(run->bb, run->job->names[BB_OBJ_PLAN], &plan, err) < 0)
		goto out;
	iname = bb_nonempty(plan, "issue");
	if (iname == NULL) {
		ret = 0;
		goto out;
	}
	if (bb_get(run->bb, iname, &issue, err) < 0)
		goto out;
	/* Only an issue carrying our provenance line is ours. */
	desc = bb_str(issue, "description");
	if (desc != NULL && strstr(desc, run->job->provenance) != NULL)
		*name = xstrdup(iname);
	else
		log_warnx("issue %lld: %s of %s does not carry \"%s\": not ours", run->job->id, iname,
			run->job->names[BB_OBJ_PLAN], run->job->provenance);
	ret = 0;
out:
	json_decref(issue);
	json_decref(plan);
	return ret;
}

static int
release_create_plan(struct bb_run *run, void *arg, char **name, struct error *err)
{
	struct bb_job *job = run->job;
	const struct bb_targets *targets;
	json_t *body = json_object(), *specs = json_array(), *spec = json_object(), *cdc = json_object();
	json_t *tarr = json_array();
	char *path = bb_project_path(job->repo->project, "plans");
	char id[37];
	size_t s, t;
	int ret = -1;

	(void)arg;
	/* Each value is attached as soon as it exists: BODY owns everything, whatever fails. */
	if (bb_set(body, "specs", specs, err) < 0 || bb_append(specs, spec, err) < 0 ||
	    bb_set(spec, "changeDatabaseConfig", cdc, err) < 0 || bb_set(cdc, "targets", tarr, err) < 0)
		goto out;
	if (bb_targets(run->bb, job->repo, &targets, err) < 0 || bb_uuid4(run->bb, id, err) < 0)
		goto out;
	for (s = 0; s < targets->n_steps; s++)
		for (t = 0; t < targets->steps[s].n_targets; t++)
			if (bb_append(tarr, json_string(targets->steps[s].targets[t]), err) < 0)
				goto out;
	if (bb_set(cdc, "release", json_string(job->names[BB_OBJ_RELEASE]), err) < 0 ||
	    bb_set(spec, "id", json_string(id), err) < 0 ||
	    bb_set(body, "title", bb_jstring(job->marker), err) < 0 ||
	    bb_set(body, "description", bb_jstring(job->description), err) < 0)
		goto out;
	ret = bb_create(run->bb, path, body, name, err);
out:
	json_decref(body);
	free(path);
	return ret;
}

/* The plan, exactly once: found by its title, the marker (shared with the specs flow). */
int
bb_flow_release_plan(struct bb_run *run, struct error *err)
{
	if (run->job->names[BB_OBJ_PLAN] == NULL && run->job->names[BB_OBJ_RELEASE] == NULL)
		return error_set(err, false, "no release recorded for the plan");
	return bb_ensure_once(run, BB_OBJ_PLAN, bb_flow_find_plan, release_create_plan, NULL, err);
}

static int
release_create_issue(struct bb_run *run, void *arg, char **name, struct error *err)
{
	struct bb_job *job = run->job;
	json_t *body = json_object(), *labels = json_array();
	char *path = bb_project_path(job->repo->project, "issues");
	int ret = -1;

	(void)arg;
	if (bb_set(body, "labels", labels, err) < 0 || bb_append(labels, bb_jstring(job->marker), err) < 0 ||
	    bb_set(body, "title", bb_jstring(job->title), err) < 0 ||
	    bb_set(body, "description", bb_jstring(job->description), err) < 0 ||
	    bb_set(body, "type", json_string("DATABASE_CHANGE"), err) < 0 ||
	    bb_set(body, "plan", json_string(job->names[BB_OBJ_PLAN]), err) < 0)
		goto out;
	ret = bb_create(run->bb, path, body, name, err);
out:
	json_decref(body);
	free(path);
	return ret;
}

struct rollout_state {
	bool pending;
};

/* POST {plan}/rollout {}: safe to repeat; 400 FAILED_PRECONDITION = approval required (or a draft issue). */
static int
release_create_rollout(struct bb_run *run, void *arg, char **name, struct error *err)
{
	struct rollout_state *rs = arg;
	char *path = xasprintf("/v1/%s/rollout", run->job->names[BB_OBJ_PLAN]);
	json_t *body = json_object();
	int ret = -1;

	*name = NULL;
	if (bb_create(run->bb, path, body, name, err) < 0) {
		if (err != NULL && err->http_status == 400 && bb_last_code(run->bb) == BB_CODE_FAILED_PRECONDITION) {
			rs->pending = true;
			error_clear(err);
			ret = 0;
		}
		goto out;
	}
	ret = 0;
out:
	json_decref(body);
	free(path);
	return ret;
}

int
bb_flow_release_rollout(struct bb_run *run, bool *rollout_pending, struct error *err)
{
	struct rollout_state rs = { false };
	int rc;

	rc = bb_ensure_once(run, BB_OBJ_ROLLOUT, NULL, release_create_rollout, &rs, err);
	*rollout_pending = rc == 0 && rs.pending;
	return rc;
}

int
bb_flow_release_deliver(struct bb_run *run, bool *rollout_pending, struct error *err)
{
	*rollout_pending = false;
	if (bb_flow_release_ensure(run, err) < 0 || bb_flow_release_plan(run, err) < 0 ||
	    bb_ensure_once(run, BB_OBJ_ISSUE, bb_flow_find_plan_issue, release_create_issue, NULL, err) < 0)
		return -1;
	return bb_flow_release_rollout(run, rollout_pending, err);
}
