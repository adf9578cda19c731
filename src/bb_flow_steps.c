/*
 * bb_flow_steps.c — the steps flow, Bytebase 2.15 to 3.6: one sheet per file, a plan with one step per
 * environment whose specs carry the change type (MIGRATE / DATA / MIGRATE_GHOST) and the file's version
 * (schemaVersion), the issue, then POST projects/x/rollouts. 2.15–2.16 have no sheet engine; 3.6 keeps the
 * environment order in a workspace setting (bb_targets.c). See docs/bytebase-ranges.md.
 */
#include "bb_flow.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "util.h"

/* Sheets: one per file, each recorded as soon as it exists (an orphan from a crash is harmless). */
static int
steps_sheets(struct bb_run *run, struct error *err)
{
	struct bb_job *job = run->job;
	const char *engine = NULL;
	char *path = NULL, *content = NULL, *text = NULL, *name = NULL, *title = NULL;
	json_t *arr = NULL, *body = NULL;
	size_t i;
	int ret = -1;

	if (job->n_sheets >= job->n_files || job->names[BB_OBJ_PLAN] != NULL)
		return 0;
	/* The engine field arrived in 2.17 (required there); 2.15–2.16 take the database's engine. */
	if (bb_current_range(run->bb) >= BB_RANGE_2_17 && bb_engine(run->bb, job->repo, &engine, err) < 0)
		return -1;
	arr = json_array();
	for (i = 0; i < job->n_sheets; i++)
		if (bb_append(arr, bb_jstring(job->sheets[i]), err) < 0)
			goto out;
	path = bb_project_path(job->repo->project, "sheets");
	for (i = job->n_sheets; i < job->n_files; i++) {
		free(content);
		content = bb_base64(job->files[i].content, job->files[i].content_len);
		free(title);
		title = bb_cut_text(job->files[i].path, BB_TITLE_MAX);
		json_decref(body);
		body = json_object();
		if (bb_set(body, "title", bb_jstring(title), err) < 0 ||
		    bb_set(body, "content", json_string(content), err) < 0 ||
		    (engine != NULL && bb_set(body, "engine", json_string(engine), err) < 0))
			goto out;
		if (bb_create(run->bb, path, body, &name, err) < 0)
			goto out;
		job->sheets[job->n_sheets++] = name;
		if (bb_append(arr, json_string(name), err) < 0) {
			name = NULL;
			goto out;
		}
		name = NULL;
		free(text);
		text = json_dumps(arr, JSON_COMPACT);
		if (text == NULL) {
			error_set(err, false, "cannot encode the sheet names");
			goto out;
		}
		if (run->rec->record_sheets(run->rec->arg, text, err) < 0)
			goto out;
	}
	ret = 0;
out:
	json_decref(body);
	json_decref(arr);
	free(text);
	free(title);
	free(content);
	free(path);
	return ret;
}

static json_t *
steps_plan_body(struct bb_run *run, const struct bb_targets *targets, struct error *err)
{
	struct bb_job *job = run->job;
	json_t *body = json_object(), *steps = json_array(), *specs, *step, *spec, *cdc;
	char id[37];
	size_t s, t, f;

	if (bb_set(body, "title", bb_jstring(job->title), err) < 0 || bb_set(body, "steps", steps, err) < 0)
		goto fail;
	for (s = 0; s < targets->n_steps; s++) {
		step = json_object();
		if (bb_append(steps, step, err) < 0)
			goto fail;
		specs = json_array();
		if (bb_set(step, "specs", specs, err) < 0 ||
		    bb_set(step, "title", bb_jstring(targets->steps[s].title), err) < 0)
			goto fail;
		for (t = 0; t < targets->steps[s].n_targets; t++) {
			for (f = 0; f < job->n_files; f++) {
				if (bb_uuid4(run->bb, id, err) < 0)
					goto fail;
				spec = json_object();
				if (bb_append(specs, spec, err) < 0)
					goto fail;
				cdc = json_object();
				if (bb_set(spec, "changeDatabaseConfig", cdc, err) < 0 ||
				    bb_set(spec, "id", json_string(id), err) < 0 ||
				    bb_set(cdc, "target", json_string(targets->steps[s].targets[t]), err) < 0 ||
				    bb_set(cdc, "sheet", json_string(job->sheets[f]), err) < 0 ||
				    bb_set(cdc, "type", json_string(job->files[f].type), err) < 0 ||
				    bb_set(cdc, "schemaVersion", json_string(job->files[f].version), err) < 0)
					goto fail;
			}
		}
	}
	return body;
fail:
	json_decref(body);
	return NULL;
}

/* The plan: not exactly-once (its title is the issue's); an orphan from a crash has no issue and is harmless. */
static int
steps_plan(struct bb_run *run, struct error *err)
{
	struct bb_job *job = run->job;
	const struct bb_targets *targets;
	json_t *body = NULL;
	char *path = NULL, *name = NULL;
	int ret = -1;

	if (job->names[BB_OBJ_PLAN] != NULL)
		return 0;
	if (bb_targets(run->bb, job->repo, &targets, err) < 0)
		return -1;
	body = steps_plan_body(run, targets, err);
	if (body == NULL)
		goto out;
	path = bb_project_path(job->repo->project, "plans");
	if (bb_create(run->bb, path, body, &name, err) < 0)
		goto out;
	if (run->rec->record(run->rec->arg, BB_OBJ_PLAN, name, err) < 0)
		goto out;
	job->names[BB_OBJ_PLAN] = name;
	name = NULL;
	ret = 0;
out:
	free(name);
	free(path);
	json_decref(body);
	return ret;
}

static int
steps_create_issue(struct bb_run *run, void *arg, char **name, struct error *err)
{
	struct bb_job *job = run->job;
	json_t *body = json_object();
	char *path = bb_project_path(job->repo->project, "issues");
	int ret = -1;

	(void)arg;
	/* No labels: 2.15–2.16 do not have them, and the later step ranges need none. */
	if (bb_set(body, "title", bb_jstring(job->title), err) < 0 ||
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

/* The rollout back-linked from the recorded issue (Issue.rollout, up to 3.13), or NULL. */
static int
steps_find_rollout(struct bb_run *run, void *arg, char **name, struct error *err)
{
	json_t *issue = NULL;

	(void)arg;
	*name = NULL;
	if (bb_get(run->bb, run->job->names[BB_OBJ_ISSUE], &issue, err) < 0)
		return -1;
	*name = xstrdup(bb_nonempty(issue, "rollout"));
	json_decref(issue);
	return 0;
}

/* POST projects/x/rollouts {plan} (2.15–3.13): the issue must exist first; it back-links the rollout. */
static int
steps_create_rollout(struct bb_run *run, void *arg, char **name, struct error *err)
{
	json_t *body = json_object();
	char *path = bb_project_path(run->job->repo->project, "rollouts");
	int ret = -1;

	(void)arg;
	if (bb_set(body, "plan", json_string(run->job->names[BB_OBJ_PLAN]), err) < 0)
		goto out;
	ret = bb_create(run->bb, path, body, name, err);
out:
	json_decref(body);
	free(path);
	return ret;
}

int
bb_flow_steps_issue_and_rollout(struct bb_run *run, struct error *err)
{
	if (bb_ensure_once(run, BB_OBJ_ISSUE, bb_flow_find_plan_issue, steps_create_issue, NULL, err) < 0)
		return -1;
	return bb_ensure_once(run, BB_OBJ_ROLLOUT, steps_find_rollout, steps_create_rollout, NULL, err);
}

int
bb_flow_steps_deliver(struct bb_run *run, bool *rollout_pending, struct error *err)
{
	*rollout_pending = false;
	if (steps_sheets(run, err) < 0 || steps_plan(run, err) < 0)
		return -1;
	return bb_flow_steps_issue_and_rollout(run, err);
}
