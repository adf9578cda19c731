/*
 * bb_targets.c — the run caches of the Bytebase client: targets per repository entry, engines per database, the
 * databases of a project, the environment order. Entries are allocated one by one on lists, so a pointer handed
 * out stays valid while later lookups add entries (they used to live in realloc'd arrays).
 */
#include "bb_targets.h"
#include "bb_internal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "util.h"

struct bb_cached_targets {
	struct bb_cached_targets *next;
	const struct repo_config *repo;
	struct bb_targets targets;
};

struct bb_engine_entry {
	struct bb_engine_entry *next;
	char *database;
	char *engine;
};

struct bb_project_db {
	char *name;
	char *environment;
	char *engine;              /* from instanceResource, or NULL */
};

struct bb_project_cache {
	struct bb_project_cache *next;
	char *project;
	struct bb_project_db *dbs;
	size_t n_dbs, cap;
};

struct bb_cache {
	struct bb_cached_targets *targets;
	struct bb_engine_entry *engines;
	struct bb_project_cache *projects;
	json_t *environments;      /* [{name, order}], read once */
};

static struct bb_cache *
bb_cache(struct bb *bb)
{
	if (bb->cache == NULL)
		bb->cache = xcalloc(1, sizeof(*bb->cache));
	return bb->cache;
}

static void
bb_targets_clear(struct bb_targets *t)
{
	size_t i, j;

	for (i = 0; i < t->n_steps; i++) {
		free(t->steps[i].title);
		for (j = 0; j < t->steps[i].n_targets; j++)
			free(t->steps[i].targets[j]);
		free(t->steps[i].targets);
	}
	free(t->steps);
	t->steps = NULL;
	t->n_steps = 0;
}

static void
bb_project_cache_free(struct bb_project_cache *pc)
{
	size_t i;

	for (i = 0; i < pc->n_dbs; i++) {
		free(pc->dbs[i].name);
		free(pc->dbs[i].environment);
		free(pc->dbs[i].engine);
	}
	free(pc->dbs);
	free(pc->project);
	free(pc);
}

void
bb_caches_clear(struct bb *bb)
{
	struct bb_cache *c = bb->cache;
	struct bb_cached_targets *t;
	struct bb_engine_entry *e;
	struct bb_project_cache *p;

	if (c == NULL)
		return;
	while ((t = c->targets) != NULL) {
		c->targets = t->next;
		bb_targets_clear(&t->targets);
		free(t);
	}
	while ((e = c->engines) != NULL) {
		c->engines = e->next;
		free(e->database);
		free(e->engine);
		free(e);
	}
	while ((p = c->projects) != NULL) {
		c->projects = p->next;
		bb_project_cache_free(p);
	}
	json_decref(c->environments);
	free(c);
	bb->cache = NULL;
}

static int
collect_database(const json_t *db, void *arg)
{
	struct bb_project_cache *pc = arg;
	const char *name = bb_nonempty(db, "name"), *env, *engine;

	if (name == NULL)
		return 0;
	env = bb_nonempty(db, "effectiveEnvironment");
	if (env == NULL)
		env = bb_nonempty(db, "environment");
	engine = bb_nonempty(json_object_get(db, "instanceResource"), "engine");
	if (pc->n_dbs == pc->cap) {
		pc->cap = pc->cap ? pc->cap * 2 : 16;
		pc->dbs = xrealloc(pc->dbs, pc->cap * sizeof(*pc->dbs));
	}
	pc->dbs[pc->n_dbs].name = xstrdup(name);
	pc->dbs[pc->n_dbs].environment = xstrdup(env ? env : "");
	pc->dbs[pc->n_dbs].engine = xstrdup(engine);
	pc->n_dbs++;
	return 0;
}

static int
bb_project_databases(struct bb *bb, const char *project, const struct bb_project_cache **out,
	struct error *err)
{
	struct bb_cache *c = bb_cache(bb);
	struct bb_project_cache *pc;
	char *base;
	int rc;

	for (pc = c->projects; pc != NULL; pc = pc->next) {
		if (strcmp(pc->project, project) == 0) {
			*out = pc;
			return 0;
		}
	}
	pc = xcalloc(1, sizeof(*pc));
	base = bb_project_path(project, "databases?pageSize=1000");
	rc = bb_list(bb, base, "databases", NULL, HTTP_MAX_RESPONSE, collect_database, pc, err);
	free(base);
	if (rc < 0) {
		bb_project_cache_free(pc);
		return -1;
	}
	pc->project = xstrdup(project);
	pc->next = c->projects;
	c->projects = pc;
	*out = pc;
	return 0;
}

/*
 * The environments in order, as [{name, order}]: GET /v1/environments up to 3.5; from 3.6 the list is gone and
 * the order is the position in the workspace setting bb.workspace.environment.
 */
static int
bb_environments(struct bb *bb, json_t **out, struct error *err)
{
	struct bb_cache *c = bb_cache(bb);
	json_t *resp = NULL, *list = NULL, *e;
	const char *name;
	size_t i;
	int ret = -1;

	if (c->environments != NULL) {
		*out = c->environments;
		return 0;
	}
	if (bb->range >= BB_RANGE_3_6) {
		if (bb_call(bb, "GET", "/v1/settings/bb.workspace.environment", NULL, &resp, err) < 0) {
			error_prefix(err, "reading the environment order (setting bb.workspace.environment)");
			goto out;
		}
		list = json_array();
		json_array_foreach(json_object_get(json_object_get(json_object_get(resp, "value"),
			"environmentSetting"), "environments"), i, e) {
			name = bb_nonempty(e, "name");
			if (name == NULL && bb_nonempty(e, "id") != NULL) {
				char *n = xasprintf("environments/%s", bb_nonempty(e, "id"));

				if (bb_append(list, json_pack("{s:s, s:I}", "name", n, "order", (json_int_t)i),
					err) < 0) {
					free(n);
					goto out;
				}
				free(n);
			} else if (name != NULL && bb_append(list, json_pack("{s:s, s:I}", "name", name, "order",
				(json_int_t)i), err) < 0) {
				goto out;
			}
		}
	} else {
		if (bb_call(bb, "GET", "/v1/environments", NULL, &resp, err) < 0) {
			error_prefix(err, "listing environments");
			goto out;
		}
		list = json_array();
		json_array_foreach(json_object_get(resp, "environments"), i, e) {
			json_t *o = json_object_get(e, "order");
			json_int_t order = json_is_integer(o) ? json_integer_value(o) :
			    json_is_string(o) ? strtoll(json_string_value(o), NULL, 10) : 0;

			name = bb_nonempty(e, "name");
			if (name != NULL && bb_append(list, json_pack("{s:s, s:I}", "name", name, "order", order),
				err) < 0)
				goto out;
		}
	}
	c->environments = list;
	list = NULL;
	*out = c->environments;
	ret = 0;
out:
	json_decref(list);
	json_decref(resp);
	return ret;
}

/* Order of ENV; unknown environments sort last. */
static long long
bb_environment_order(const json_t *envs, const char *env)
{
	const json_t *e;
	size_t i;

	json_array_foreach(envs, i, e) {
		const char *name = bb_str(e, "name");

		if (name != NULL && strcmp(name, env) == 0)
			return json_integer_value(json_object_get(e, "order"));
	}
	return 1LL << 40;
}

static void
bb_step_add_target(struct bb_step *s, const char *target)
{
	s->targets = xrealloc(s->targets, (s->n_targets + 1) * sizeof(*s->targets));
	s->targets[s->n_targets++] = xstrdup(target);
}

static struct bb_step *
bb_targets_add_step(struct bb_targets *t, const char *title)
{
	struct bb_step *s;

	t->steps = xrealloc(t->steps, (t->n_steps + 1) * sizeof(*t->steps));
	s = &t->steps[t->n_steps++];
	memset(s, 0, sizeof(*s));
	s->title = xstrdup(title);
	return s;
}

/* The resource name of a configured database: "instances/i/databases/d" (a leading "/" tolerated). */
static const char *
bb_db_name(const char *configured)
{
	while (*configured == '/')
		configured++;
	return configured;
}

/* Every database of PC into T: one step per environment in environment order (steps flows) or one list. */
static int
bb_targets_project(struct bb *bb, const struct bb_project_cache *pc, struct bb_targets *t, struct error *err)
{
	json_t *envs;
	long long *orders = NULL, best;
	bool *done = NULL;
	struct bb_step *s;
	size_t i, j, k, left;
	int ret = -1;

	if (bb->range >= BB_RANGE_3_7) {
		/* Plans take a target list; Bytebase builds the stages from the environments itself. */
		s = bb_targets_add_step(t, pc->project);
		for (i = 0; i < pc->n_dbs; i++)
			bb_step_add_target(s, pc->dbs[i].name);
		return 0;
	}
	if (bb_environments(bb, &envs, err) < 0)
		return -1;
	orders = xcalloc(pc->n_dbs, sizeof(*orders));
	done = xcalloc(pc->n_dbs, sizeof(*done));
	for (i = 0; i < pc->n_dbs; i++)
		orders[i] = bb_environment_order(envs, pc->dbs[i].environment);
	left = pc->n_dbs;
	while (left > 0) {
		/* The lowest remaining order; ties by first appearance (stable). */
		best = 0;
		k = pc->n_dbs;
		for (i = 0; i < pc->n_dbs; i++)
			if (!done[i] && (k == pc->n_dbs || orders[i] < best)) {
				best = orders[i];
				k = i;
			}
		s = bb_targets_add_step(t, *pc->dbs[k].environment ? pc->dbs[k].environment : "default");
		for (j = k; j < pc->n_dbs; j++) {
			if (!done[j] && strcmp(pc->dbs[j].environment, pc->dbs[k].environment) == 0) {
				bb_step_add_target(s, pc->dbs[j].name);
				done[j] = true;
				left--;
			}
		}
	}
	ret = 0;
	free(orders);
	free(done);
	return ret;
}

int
bb_targets(struct bb *bb, const struct repo_config *repo, const struct bb_targets **out, struct error *err)
{
	struct bb_cache *c = bb_cache(bb);
	struct bb_cached_targets *ct;
	struct bb_targets t = { NULL, 0 };
	const struct bb_project_cache *pc;
	struct bb_step *s;
	char *group = NULL;
	size_t i;
	int ret = -1;

	for (ct = c->targets; ct != NULL; ct = ct->next) {
		if (ct->repo == repo) {
			*out = &ct->targets;
			return 0;
		}
	}
	if (repo->databases != NULL && repo->n_databases > 0) {
		for (i = 0; i < repo->n_databases; i++) {
			s = bb_targets_add_step(&t, bb_db_name(repo->databases[i]));
			bb_step_add_target(s, bb_db_name(repo->databases[i]));
		}
	} else if (repo->database_group != NULL) {
		if (strchr(repo->database_group, '/') != NULL)
			group = xstrdup(repo->database_group);
		else
			group = xasprintf("projects/%s/databaseGroups/%s", repo->project, repo->database_group);
		s = bb_targets_add_step(&t, repo->database_group);
		bb_step_add_target(s, group);
	} else {
		if (bb_project_databases(bb, repo->project, &pc, err) < 0) {
			error_prefix(err, "listing the databases of project %s", repo->project);
			goto out;
		}
		if (pc->n_dbs == 0) {
			error_set(err, false, "project %s has no databases to deploy to", repo->project);
			goto out;
		}
		if (bb_targets_project(bb, pc, &t, err) < 0)
			goto out;
	}
	ct = xcalloc(1, sizeof(*ct));
	ct->repo = repo;
	ct->targets = t;
	ct->next = c->targets;
	c->targets = ct;
	*out = &ct->targets;
	t.steps = NULL;
	t.n_steps = 0;
	ret = 0;
out:
	bb_targets_clear(&t);
	free(group);
	return ret;
}

static int
bb_database_engine(struct bb *bb, const char *database, const char **out, struct error *err)
{
	struct bb_cache *c = bb_cache(bb);
	struct bb_engine_entry *e;
	json_t *resp = NULL;
	const char *engine;
	int ret = -1;

	for (e = c->engines; e != NULL; e = e->next) {
		if (strcmp(e->database, database) == 0) {
			*out = e->engine;
			return 0;
		}
	}
	if (bb_get(bb, database, &resp, err) < 0) {
		error_prefix(err, "reading the engine of %s", database);
		goto out;
	}
	engine = bb_nonempty(json_object_get(resp, "instanceResource"), "engine");
	if (engine == NULL) {
		error_set(err, false, "database %s: no instanceResource.engine in the response "
			"(set engine in the repository entry)", database);
		goto out;
	}
	e = xcalloc(1, sizeof(*e));
	e->database = xstrdup(database);
	e->engine = xstrdup(engine);
	e->next = c->engines;
	c->engines = e;
	*out = e->engine;
	ret = 0;
out:
	json_decref(resp);
	return ret;
}

int
bb_engine(struct bb *bb, const struct repo_config *repo, const char **out, struct error *err)
{
	const struct bb_project_cache *pc;
	size_t i;

	if (repo->engine != NULL && *repo->engine != '\0') {
		*out = repo->engine;
		return 0;
	}
	if (repo->databases != NULL && repo->n_databases > 0)
		return bb_database_engine(bb, bb_db_name(repo->databases[0]), out, err);
	/* A group or the whole project: the project's databases share an engine in practice. */
	if (bb_project_databases(bb, repo->project, &pc, err) < 0)
		return error_prefix(err, "listing the databases of project %s", repo->project);
	for (i = 0; i < pc->n_dbs; i++) {
		if (pc->dbs[i].engine != NULL) {
			*out = pc->dbs[i].engine;
			return 0;
		}
	}
	if (pc->n_dbs == 0)
		return error_set(err, false, "project %s has no databases: set engine in the repository entry",
			repo->project);
	return bb_database_engine(bb, pc->dbs[0].name, out, err);
}
