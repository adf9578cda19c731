/*
 * bytebase.c — Bytebase REST calls in the v2 and v3 dialects (bytebase-api.md): request bodies with exactly the
 * documented fields, responses read with absent keys as defaults, errors classified transient/permanent with the
 * server's message kept. The token lives only in this struct and is wiped on close; nothing here logs it.
 */
#include "bytebase.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "http.h"
#include "log.h"
#include "util.h"

struct bb_cached_targets {
	const struct repo_config *repo;
	struct bb_targets targets;
};

struct bb_engine_entry {
	char *database;
	char *engine;
};

struct bb_project_db {
	char *name;
	char *environment;
	char *engine;              /* from instanceResource, or NULL */
};

struct bb_project_cache {
	char *project;
	struct bb_project_db *dbs;
	size_t n_dbs;
};

struct bb {
	const struct bytebase_config *cfg;
	struct http *http;
	char *key;
	char *token;
	long retry_after;
	int last_code;
	struct bb_cached_targets *targets;
	size_t n_targets;
	struct bb_engine_entry *engines;
	size_t n_engines;
	struct bb_project_cache *projects;
	size_t n_projects;
	json_t *environments;      /* GET /v1/environments, once */
	enum bb_dialect dialect;   /* once bb_dialect settled it */
	int urandom;
};

static void
bb_wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int
bb_open(const struct bytebase_config *cfg, struct bb **out, struct error *err)
{
	struct http_options hopts = { cfg->url, cfg->timeout, cfg->ca_file };
	struct bb *bb = xcalloc(1, sizeof(*bb));

	bb->cfg = cfg;
	bb->retry_after = -1;
	bb->urandom = -1;
	if (config_bytebase_key(cfg, &bb->key, err) < 0) {
		error_prefix(err, "bytebase service key");
		goto fail;
	}
	if (http_open(&hopts, &bb->http, err) < 0)
		goto fail;
	*out = bb;
	return 0;
fail:
	bb_close(bb);
	return -1;
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

static void bb_project_cache_clear(struct bb_project_cache *pc);

void
bb_close(struct bb *bb)
{
	size_t i;

	if (bb == NULL)
		return;
	http_close(bb->http);
	bb_wipe(bb->key);
	bb_wipe(bb->token);
	for (i = 0; i < bb->n_targets; i++)
		bb_targets_clear(&bb->targets[i].targets);
	free(bb->targets);
	for (i = 0; i < bb->n_engines; i++) {
		free(bb->engines[i].database);
		free(bb->engines[i].engine);
	}
	free(bb->engines);
	for (i = 0; i < bb->n_projects; i++)
		bb_project_cache_clear(&bb->projects[i]);
	free(bb->projects);
	json_decref(bb->environments);
	if (bb->urandom >= 0)
		close(bb->urandom);
	free(bb);
}

void
bb_set_deadline(struct bb *bb, double deadline)
{
	http_set_deadline(bb->http, deadline);
}

void
bb_stats(const struct bb *bb, long *requests, long *connections)
{
	http_stats(bb->http, requests, connections);
}

long
bb_retry_after(const struct bb *bb)
{
	return bb->retry_after;
}

int
bb_last_code(const struct bb *bb)
{
	return bb->last_code;
}

char *
bb_base64(const void *data, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *out = xmalloc(4 * ((len + 2) / 3) + 1), *o = out;
	size_t i;
	unsigned v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = tab[v >> 6 & 63];
		*o++ = tab[v & 63];
	}
	if (i < len) {
		v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < len ? tab[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* A string member of OBJ, or NULL when absent, null or not a string (Bytebase >= 3.4.1 omits empty fields). */
static const char *
bb_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *
bb_nonempty(const json_t *obj, const char *key)
{
	const char *s = bb_str(obj, key);

	return s != NULL && *s != '\0' ? s : NULL;
}

/* The error of a non-2xx response: Bytebase's message, an unknown-field rejection named as such. */
static int
bb_http_error(struct bb *bb, const char *method, const char *path, const struct http_response *resp,
	struct error *err)
{
	json_t *root = NULL;
	const char *msg = NULL, *uf;
	char field[128];
	size_t n;
	/* 401 here came right after a fresh login: a server-side hiccup, not the issue's fault. */
	bool transient = resp->status >= 500 || resp->status == 429 || resp->status == 408 || resp->status == 401;

	bb->last_code = 0;
	bb->retry_after = resp->retry_after;
	root = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
	if (json_is_object(root)) {
		msg = bb_str(root, "message");
		if (json_is_integer(json_object_get(root, "code")))
			bb->last_code = (int)json_integer_value(json_object_get(root, "code"));
	}
	if (msg == NULL || *msg == '\0')
		msg = resp->status == 404 ? "not found" : "no message";
	if (resp->status == 400 && (uf = strstr(msg, "unknown field \"")) != NULL) {
		uf += strlen("unknown field \"");
		n = strcspn(uf, "\"");
		if (n >= sizeof(field))
			n = sizeof(field) - 1;
		memcpy(field, uf, n);
		field[n] = '\0';
		error_set(err, false, "incompatible Bytebase API: %s %s: the server rejects the field \"%s\" "
			"(set bytebase.api to the server's major version): %s", method, path, field, msg);
	} else {
		error_set(err, transient, "%s %s: HTTP %ld: %s", method, path, resp->status, msg);
	}
	if (err != NULL)
		err->http_status = (int)resp->status;
	json_decref(root);
	return -1;
}

static int bb_call(struct bb *bb, const char *method, const char *path, json_t *body, json_t **out,
	struct error *err);

int
bb_login(struct bb *bb, struct error *err)
{
	json_t *body = NULL, *resp = NULL;
	const char *token;
	int ret = -1;

	bb_wipe(bb->token);
	bb->token = NULL;
	/* No "web" field: a service account logging in as web gets 403 on >= 3.9.1. */
	body = json_pack("{s:s, s:s}", "email", bb->cfg->service_account, "password", bb->key);
	if (body == NULL) {
		error_set(err, false, "login: cannot build the request");
		goto out;
	}
	if (bb_call(bb, "POST", "/v1/auth/login", body, &resp, err) < 0) {
		error_prefix(err, "login as %s", bb->cfg->service_account);
		goto out;
	}
	token = bb_nonempty(resp, "token");
	if (token == NULL) {
		error_set(err, false, "login as %s: no token in the response", bb->cfg->service_account);
		goto out;
	}
	bb->token = xstrdup(token);
	ret = 0;
out:
	if (body != NULL) {
		/* The key was copied into the JSON value: wipe that copy too. */
		json_t *pw = json_object_get(body, "password");
		if (json_is_string(pw))
			explicit_bzero((char *)json_string_value(pw), json_string_length(pw));
	}
	json_decref(body);
	if (resp != NULL) {
		json_t *tk = json_object_get(resp, "token");
		if (json_is_string(tk))
			explicit_bzero((char *)json_string_value(tk), json_string_length(tk));
	}
	json_decref(resp);
	return ret;
}

/*
 * One call: logs in first when needed (except for login and actuator/info), re-logs in once on 401 and repeats.
 * *out (may be NULL) gets the parsed JSON object of a 2xx response ({} for an empty body).
 */
static int
bb_call(struct bb *bb, const char *method, const char *path, json_t *body, json_t **out, struct error *err)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	bool anonymous = strcmp(path, "/v1/auth/login") == 0 || strcmp(path, "/v1/actuator/info") == 0;
	char *text = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	int attempt, ret = -1;

	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL) {
			error_set(err, false, "%s %s: cannot encode the request", method, path);
			goto out;
		}
	}
	for (attempt = 0; attempt < 2; attempt++) {
		if (!anonymous && bb->token == NULL && bb_login(bb, err) < 0)
			goto out;
		http_response_clear(&resp);
		if (http_request(bb->http, method, path, anonymous ? NULL : bb->token, text, &resp, err) < 0) {
			bb->retry_after = -1;
			bb->last_code = 0;
			goto out;
		}
		if (resp.status == 401 && !anonymous && attempt == 0) {
			/* Service-account tokens last an hour: log in again once and repeat the call. */
			log_debug("token rejected; logging in again");
			bb_wipe(bb->token);
			bb->token = NULL;
			continue;
		}
		break;
	}
	if (resp.status < 200 || resp.status > 299) {
		bb_http_error(bb, method, path, &resp, err);
		goto out;
	}
	bb->retry_after = -1;
	bb->last_code = 0;
	if (out != NULL) {
		if (resp.len == 0) {
			root = json_object();
		} else {
			root = json_loadb(resp.body, resp.len, 0, &jerr);
			if (root == NULL) {
				error_set(err, true, "%s %s: HTTP %ld with an unreadable body: %s", method, path,
					resp.status, jerr.text);
				goto out;
			}
			if (!json_is_object(root)) {
				error_set(err, true, "%s %s: HTTP %ld: the body is not a JSON object", method, path,
					resp.status);
				goto out;
			}
		}
		*out = root;
		root = NULL;
	}
	ret = 0;
out:
	json_decref(root);
	http_response_clear(&resp);
	if (text != NULL) {
		/* The login body holds the service key. */
		explicit_bzero(text, strlen(text));
		free(text);
	}
	return ret;
}

/* POST that must answer with a name. */
static int
bb_create(struct bb *bb, const char *path, json_t *body, char **name, struct error *err)
{
	json_t *resp = NULL;
	const char *n;
	int ret = -1;

	if (body == NULL) {
		error_set(err, false, "POST %s: cannot build the request", path);
		goto out;
	}
	if (bb_call(bb, "POST", path, body, &resp, err) < 0)
		goto out;
	n = bb_nonempty(resp, "name");
	if (n == NULL) {
		error_set(err, false, "POST %s: no name in the response", path);
		goto out;
	}
	*name = xstrdup(n);
	ret = 0;
out:
	json_decref(resp);
	return ret;
}

enum bb_dialect
bb_dialect_for_version(const char *version)
{
	const char *v = version;

	if (v == NULL)
		return BB_DIALECT_UNKNOWN;
	if (strcmp(v, "development") == 0)
		return BB_DIALECT_V3;
	if (*v == 'v' || *v == 'V')
		v++;
	if (v[0] == '2' && (v[1] == '.' || v[1] == '\0'))
		return BB_DIALECT_V2;
	if (v[0] == '3' && (v[1] == '.' || v[1] == '\0'))
		return BB_DIALECT_V3;
	return BB_DIALECT_UNKNOWN;
}

int
bb_dialect(struct bb *bb, enum bb_dialect *out, char **version, struct error *err)
{
	json_t *resp = NULL;
	const char *v;
	enum bb_dialect d;
	int ret = -1;

	if (version != NULL)
		*version = NULL;
	if (bb->cfg->api == BYTEBASE_API_2 || bb->cfg->api == BYTEBASE_API_3) {
		*out = bb->cfg->api == BYTEBASE_API_2 ? BB_DIALECT_V2 : BB_DIALECT_V3;
		bb->dialect = *out;
		return 0;
	}
	if (bb_call(bb, "GET", "/v1/actuator/info", NULL, &resp, err) < 0) {
		error_prefix(err, "reading the Bytebase version");
		goto out;
	}
	v = bb_str(resp, "version");
	d = bb_dialect_for_version(v);
	if (d == BB_DIALECT_UNKNOWN) {
		error_set(err, false, "unsupported Bytebase version \"%s\" (set bytebase.api to 2 or 3)",
			v ? v : "");
		goto out;
	}
	*out = d;
	bb->dialect = d;
	if (version != NULL)
		*version = xstrdup(v);
	ret = 0;
out:
	json_decref(resp);
	return ret;
}

/* --- lookups, cached for the run --- */

/*
 * Calls FN on each element of LIST_KEY in every page of GET BASE (a path that already holds its query and
 * pageSize), following nextPageToken for at most MAX_PAGES pages. FN returns 0 to go on, 1 to stop (found), -1 to
 * fail. Returns what FN last returned (0 when the list ran out), or -1 when a call failed (err set, prefixed WHAT).
 */
static int
bb_list(struct bb *bb, const char *base, const char *list_key, int max_pages, const char *what,
	int (*fn)(const json_t *item, void *arg), void *arg, struct error *err)
{
	struct sbuf path = SBUF_INIT;
	json_t *resp = NULL, *item;
	char *token = NULL, *esc;
	int rc = 0, pages = 0;
	size_t i;

	do {
		sbuf_reset(&path);
		sbuf_adds(&path, base);
		if (token != NULL) {
			esc = http_escape(token);
			sbuf_addf(&path, "&pageToken=%s", esc);
			free(esc);
		}
		json_decref(resp);
		resp = NULL;
		if (bb_call(bb, "GET", sbuf_str(&path), NULL, &resp, err) < 0) {
			if (what != NULL)
				error_prefix(err, "%s", what);
			rc = -1;
			break;
		}
		json_array_foreach(json_object_get(resp, list_key), i, item) {
			rc = fn(item, arg);
			if (rc != 0)
				goto out;
		}
		free(token);
		token = xstrdup(bb_nonempty(resp, "nextPageToken"));
	} while (token != NULL && ++pages < max_pages);
out:
	free(token);
	json_decref(resp);
	sbuf_release(&path);
	return rc;
}

static void
bb_project_cache_clear(struct bb_project_cache *pc)
{
	size_t i;

	for (i = 0; i < pc->n_dbs; i++) {
		free(pc->dbs[i].name);
		free(pc->dbs[i].environment);
		free(pc->dbs[i].engine);
	}
	free(pc->dbs);
	free(pc->project);
	memset(pc, 0, sizeof(*pc));
}

struct project_databases_ctx {
	struct bb_project_cache *pc;
	size_t cap;
};

static int
collect_database(const json_t *db, void *arg)
{
	struct project_databases_ctx *ctx = arg;
	struct bb_project_cache *pc = ctx->pc;
	const char *name = bb_nonempty(db, "name"), *env, *engine;

	if (name == NULL)
		return 0;
	env = bb_nonempty(db, "effectiveEnvironment");
	if (env == NULL)
		env = bb_nonempty(db, "environment");
	engine = bb_nonempty(json_object_get(db, "instanceResource"), "engine");
	if (pc->n_dbs == ctx->cap) {
		ctx->cap = ctx->cap ? ctx->cap * 2 : 16;
		pc->dbs = xrealloc(pc->dbs, ctx->cap * sizeof(*pc->dbs));
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
	struct bb_project_cache pc = { NULL, NULL, 0 };
	struct project_databases_ctx ctx = { &pc, 0 };
	char *esc_project, *base;
	size_t i;
	int rc;

	for (i = 0; i < bb->n_projects; i++) {
		if (strcmp(bb->projects[i].project, project) == 0) {
			*out = &bb->projects[i];
			return 0;
		}
	}
	esc_project = http_escape(project);
	base = xasprintf("/v1/projects/%s/databases?pageSize=1000", esc_project);
	rc = bb_list(bb, base, "databases", 1000, NULL, collect_database, &ctx, err);
	free(base);
	free(esc_project);
	if (rc < 0) {
		bb_project_cache_clear(&pc);
		return -1;
	}
	pc.project = xstrdup(project);
	bb->projects = xrealloc(bb->projects, (bb->n_projects + 1) * sizeof(*bb->projects));
	bb->projects[bb->n_projects] = pc;
	*out = &bb->projects[bb->n_projects++];
	return 0;
}

/* Order of ENV among the environments (GET /v1/environments, read once); unknown environments sort last. */
static int
bb_environment_order(struct bb *bb, const char *env, long long *order, struct error *err)
{
	json_t *e;
	size_t i;

	if (bb->environments == NULL && bb_call(bb, "GET", "/v1/environments", NULL, &bb->environments, err) < 0)
		return error_prefix(err, "listing environments");
	json_array_foreach(json_object_get(bb->environments, "environments"), i, e) {
		const char *name = bb_str(e, "name");
		if (name != NULL && strcmp(name, env) == 0) {
			json_t *o = json_object_get(e, "order");
			*order = json_is_integer(o) ? json_integer_value(o) :
				json_is_string(o) ? strtoll(json_string_value(o), NULL, 10) : 0;
			return 0;
		}
	}
	*order = 1LL << 40;
	return 0;
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

int
bb_targets(struct bb *bb, const struct repo_config *repo, const struct bb_targets **out, struct error *err)
{
	struct bb_targets t = { NULL, 0 };
	const struct bb_project_cache *pc;
	struct bb_step *s;
	char *group = NULL;
	long long *orders = NULL, best;
	bool *done = NULL;
	size_t i, j, k, left;
	int ret = -1;

	for (i = 0; i < bb->n_targets; i++) {
		if (bb->targets[i].repo == repo) {
			*out = &bb->targets[i].targets;
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
		/* Every database of the project, one step per environment in environment order. */
		if (bb_project_databases(bb, repo->project, &pc, err) < 0) {
			error_prefix(err, "listing the databases of project %s", repo->project);
			goto out;
		}
		if (pc->n_dbs == 0) {
			error_set(err, false, "project %s has no databases to deploy to", repo->project);
			goto out;
		}
		if (bb->dialect == BB_DIALECT_V3) {
			/* v3 plans take a target list; Bytebase builds the stages from the environments itself. */
			s = bb_targets_add_step(&t, repo->project);
			for (i = 0; i < pc->n_dbs; i++)
				bb_step_add_target(s, pc->dbs[i].name);
			goto done;
		}
		orders = xcalloc(pc->n_dbs, sizeof(*orders));
		done = xcalloc(pc->n_dbs, sizeof(*done));
		for (i = 0; i < pc->n_dbs; i++)
			if (bb_environment_order(bb, pc->dbs[i].environment, &orders[i], err) < 0)
				goto out;
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
			s = bb_targets_add_step(&t, *pc->dbs[k].environment ? pc->dbs[k].environment : "default");
			for (j = k; j < pc->n_dbs; j++) {
				if (!done[j] && strcmp(pc->dbs[j].environment, pc->dbs[k].environment) == 0) {
					bb_step_add_target(s, pc->dbs[j].name);
					done[j] = true;
					left--;
				}
			}
		}
	}
done:
	bb->targets = xrealloc(bb->targets, (bb->n_targets + 1) * sizeof(*bb->targets));
	bb->targets[bb->n_targets].repo = repo;
	bb->targets[bb->n_targets].targets = t;
	*out = &bb->targets[bb->n_targets++].targets;
	t.steps = NULL;
	t.n_steps = 0;
	ret = 0;
out:
	bb_targets_clear(&t);
	free(orders);
	free(done);
	free(group);
	return ret;
}

static int
bb_database_engine(struct bb *bb, const char *database, const char **out, struct error *err)
{
	json_t *resp = NULL;
	const char *engine;
	char *path = NULL;
	size_t i;
	int ret = -1;

	for (i = 0; i < bb->n_engines; i++) {
		if (strcmp(bb->engines[i].database, database) == 0) {
			*out = bb->engines[i].engine;
			return 0;
		}
	}
	path = xasprintf("/v1/%s", database);
	if (bb_call(bb, "GET", path, NULL, &resp, err) < 0) {
		error_prefix(err, "reading the engine of %s", database);
		goto out;
	}
	engine = bb_nonempty(json_object_get(resp, "instanceResource"), "engine");
	if (engine == NULL) {
		error_set(err, false, "database %s: no instanceResource.engine in the response "
			"(set engine in the repository entry)", database);
		goto out;
	}
	bb->engines = xrealloc(bb->engines, (bb->n_engines + 1) * sizeof(*bb->engines));
	bb->engines[bb->n_engines].database = xstrdup(database);
	bb->engines[bb->n_engines].engine = xstrdup(engine);
	*out = bb->engines[bb->n_engines++].engine;
	ret = 0;
out:
	free(path);
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

/* A random (version 4) UUID from /dev/urandom. */
static int
bb_uuid4(struct bb *bb, char out[37], struct error *err)
{
	unsigned char b[16];
	size_t got = 0;
	ssize_t n;

	if (bb->urandom < 0) {
		bb->urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (bb->urandom < 0)
			return error_set(err, false, "/dev/urandom: %s", strerror(errno));
	}
	while (got < sizeof(b)) {
		n = read(bb->urandom, b + got, sizeof(b) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error_set(err, false, "/dev/urandom: %s", n < 0 ? strerror(errno) : "end of file");
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/* --- v2 --- */

static char *
bb_project_path(const char *project, const char *what)
{
	char *esc = http_escape(project), *path;

	path = xasprintf("/v1/projects/%s/%s", esc, what);
	free(esc);
	return path;
}

int
bb_create_sheet(struct bb *bb, const char *project, const struct bb_file *file, const char *engine, char **name,
	struct error *err)
{
	char *content = bb_base64(file->content, file->content_len), *path = bb_project_path(project, "sheets");
	json_t *body;
	int ret;

	body = json_pack("{s:s, s:s, s:s}", "title", file->path, "content", content, "engine", engine);
	ret = bb_create(bb, path, body, name, err);
	json_decref(body);
	free(content);
	free(path);
	return ret;
}

int
bb_create_plan_v2(struct bb *bb, const char *project, const char *title, const struct bb_targets *targets,
	const struct bb_file *files, char *const *sheets, size_t n_files, char **name, struct error *err)
{
	char *path = bb_project_path(project, "plans");
	json_t *body = NULL, *steps, *step, *specs, *spec;
	char id[37];
	size_t s, t, f;
	int ret = -1;

	steps = json_array();
	for (s = 0; s < targets->n_steps; s++) {
		specs = json_array();
		for (t = 0; t < targets->steps[s].n_targets; t++) {
			for (f = 0; f < n_files; f++) {
				if (bb_uuid4(bb, id, err) < 0) {
					json_decref(specs);
					json_decref(steps);
					goto out;
				}
				spec = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "id", id,
					"changeDatabaseConfig",
					"target", targets->steps[s].targets[t],
					"sheet", sheets[f],
					"type", files[f].type,
					"schemaVersion", files[f].version);
				json_array_append_new(specs, spec);
			}
		}
		step = json_pack("{s:s, s:o}", "title", targets->steps[s].title, "specs", specs);
		json_array_append_new(steps, step);
	}
	body = json_pack("{s:s, s:o}", "title", title, "steps", steps);
	ret = bb_create(bb, path, body, name, err);
out:
	json_decref(body);
	free(path);
	return ret;
}

int
bb_create_rollout_v2(struct bb *bb, const char *project, const char *plan, char **name, struct error *err)
{
	char *path = bb_project_path(project, "rollouts");
	json_t *body = json_pack("{s:s}", "plan", plan);
	int ret;

	ret = bb_create(bb, path, body, name, err);
	json_decref(body);
	free(path);
	return ret;
}

struct find_issue_ctx {
	const char *provenance;
	const char *plan;
	char *name;
};

static int
match_issue(const json_t *issue, void *arg)
{
	struct find_issue_ctx *ctx = arg;
	const char *desc = bb_str(issue, "description"), *iplan = bb_str(issue, "plan");
	const char *iname = bb_nonempty(issue, "name");

	/* Full-text search is fuzzy: check the provenance line and the plan ourselves. */
	if (iname == NULL || desc == NULL || strstr(desc, ctx->provenance) == NULL)
		return 0;
	if (ctx->plan != NULL && (iplan == NULL || strcmp(iplan, ctx->plan) != 0))
		return 0;
	ctx->name = xstrdup(iname);
	return 1;
}

int
bb_find_issue_v2(struct bb *bb, const char *project, const char *provenance, const char *plan, char **name,
	struct error *err)
{
	struct find_issue_ctx ctx = { provenance, plan, NULL };
	char *esc_project = http_escape(project), *esc_query = http_escape(provenance), *base;
	int rc;

	base = xasprintf("/v1/projects/%s/issues?query=%s&pageSize=100", esc_project, esc_query);
	rc = bb_list(bb, base, "issues", 100, "looking up an earlier issue", match_issue, &ctx, err);
	free(base);
	free(esc_query);
	free(esc_project);
	*name = ctx.name;
	return rc < 0 ? -1 : 0;
}

int
bb_issue_rollout(struct bb *bb, const char *issue, char **name, struct error *err)
{
	char *path = xasprintf("/v1/%s", issue);
	json_t *resp = NULL;
	const char *r;
	int ret = -1;

	*name = NULL;
	if (bb_call(bb, "GET", path, NULL, &resp, err) < 0)
		goto out;
	r = bb_nonempty(resp, "rollout");
	*name = xstrdup(r);
	ret = 0;
out:
	json_decref(resp);
	free(path);
	return ret;
}

/* --- both --- */

int
bb_create_issue(struct bb *bb, const char *project, const char *title, const char *description, const char *plan,
	const char *label, char **name, struct error *err)
{
	char *path = bb_project_path(project, "issues");
	json_t *body;
	int ret;

	body = json_pack("{s:s, s:s, s:s, s:s}", "title", title, "description", description,
		"type", "DATABASE_CHANGE", "plan", plan);
	if (body != NULL && label != NULL)
		json_object_set_new(body, "labels", json_pack("[s]", label));
	ret = bb_create(bb, path, body, name, err);
	json_decref(body);
	free(path);
	return ret;
}

/* --- v3 --- */

int
bb_create_release(struct bb *bb, const char *project, const struct bb_file *files, size_t n_files, char **name,
	struct error *err)
{
	char *path = bb_project_path(project, "releases"), *content;
	json_t *body, *arr = json_array();
	size_t i;
	int ret;

	for (i = 0; i < n_files; i++) {
		content = bb_base64(files[i].content, files[i].content_len);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "path", files[i].path,
			"version", files[i].version, "statement", content));
		free(content);
	}
	body = json_pack("{s:s, s:o}", "type", "VERSIONED", "files", arr);
	ret = bb_create(bb, path, body, name, err);
	json_decref(body);
	free(path);
	return ret;
}

int
bb_create_plan_v3(struct bb *bb, const char *project, const char *marker, const char *description,
	const struct bb_targets *targets, const char *release, char **name, struct error *err)
{
	char *path = bb_project_path(project, "plans"), *desc = NULL;
	json_t *body = NULL, *tarr = json_array();
	char id[37];
	size_t s, t;
	int ret = -1;

	for (s = 0; s < targets->n_steps; s++)
		for (t = 0; t < targets->steps[s].n_targets; t++)
			json_array_append_new(tarr, json_string(targets->steps[s].targets[t]));
	if (bb_uuid4(bb, id, err) < 0) {
		json_decref(tarr);
		goto out;
	}
	/* Bytebase caps a plan description at 10000 characters: cut at a character boundary. */
	desc = xstrndup(description, 10000);
	if (strlen(description) > 10000) {
		size_t n = 10000;

		while (n > 0 && ((unsigned char)description[n] & 0xC0) == 0x80)
			n--;
		desc[n] = '\0';
	}
	body = json_pack("{s:s, s:s, s:[{s:s, s:{s:o, s:s}}]}", "title", marker, "description", desc,
		"specs", "id", id, "changeDatabaseConfig", "targets", tarr, "release", release);
	ret = bb_create(bb, path, body, name, err);
out:
	json_decref(body);
	free(desc);
	free(path);
	return ret;
}

struct find_plan_ctx {
	const char *marker;
	char *plan;
	char *issue;
};

static int
match_plan(const json_t *p, void *arg)
{
	struct find_plan_ctx *ctx = arg;
	const char *title = bb_str(p, "title"), *pname = bb_nonempty(p, "name");

	if (title == NULL || pname == NULL || strcmp(title, ctx->marker) != 0)
		return 0;
	ctx->plan = xstrdup(pname);
	ctx->issue = xstrdup(bb_nonempty(p, "issue"));
	return 1;
}

int
bb_find_plan_v3(struct bb *bb, const char *project, const char *marker, char **plan, char **issue,
	struct error *err)
{
	struct find_plan_ctx ctx = { marker, NULL, NULL };
	char *esc_project = http_escape(project), *filter = xasprintf("title == \"%s\"", marker);
	char *esc_filter = http_escape(filter), *base;
	int rc;

	base = xasprintf("/v1/projects/%s/plans?filter=%s&pageSize=100", esc_project, esc_filter);
	rc = bb_list(bb, base, "plans", 100, "looking up an earlier plan", match_plan, &ctx, err);
	free(base);
	free(esc_filter);
	free(filter);
	free(esc_project);
	*plan = ctx.plan;
	*issue = ctx.issue;
	return rc < 0 ? -1 : 0;
}

int
bb_plan_issue(struct bb *bb, const char *plan, char **issue, struct error *err)
{
	char *path = xasprintf("/v1/%s", plan);
	json_t *resp = NULL;
	int ret = -1;

	*issue = NULL;
	if (bb_call(bb, "GET", path, NULL, &resp, err) < 0)
		goto out;
	*issue = xstrdup(bb_nonempty(resp, "issue"));
	ret = 0;
out:
	json_decref(resp);
	free(path);
	return ret;
}

int
bb_create_rollout_v3(struct bb *bb, const char *plan, char **name, bool *pending, struct error *err)
{
	char *path = xasprintf("/v1/%s/rollout", plan);
	json_t *body = json_object();
	int ret = -1;

	*pending = false;
	*name = NULL;
	if (bb_create(bb, path, body, name, err) < 0) {
		if (err != NULL && err->http_status == 400 && bb->last_code == BB_CODE_FAILED_PRECONDITION) {
			/* Approval required (or a draft issue): Bytebase creates the rollout itself later. */
			*pending = true;
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
bb_exists(struct bb *bb, const char *name, bool *exists, struct error *err)
{
	char *path = xasprintf("/v1/%s", name);
	int ret = bb_call(bb, "GET", path, NULL, NULL, err);

	*exists = ret == 0;
	if (ret < 0 && err != NULL && err->http_status == 404) {
		error_clear(err);
		ret = 0;
	}
	free(path);
	return ret;
}
