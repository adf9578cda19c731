/*
 * cmd_status.c — `bbgitops status [--json | --prometheus]`: per repository its watched branches' cursors and its
 * issues by status, the Bytebase dialect in use, and the recent warnings and errors from the event log; or the
 * metrics in the Prometheus text format (metrics.c).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "log.h"
#include "metrics.h"
#include "remote.h"
#include "state.h"
#include "util.h"

#define STATUS_EVENTS 20

static const char *const statuses[] = { "local", "pending", "created", "failed", "skipped" };

static void
add_count(const char *status, long long count, void *arg)
{
	if (status != NULL)
		json_object_set_new(arg, status, json_integer(count));
}

static json_t *
repo_status(struct state *st, const struct repo_config *r, struct error *err)
{
	json_t *obj = json_object(), *branches = json_array(), *counts = json_object();
	struct state_cursor *cursors = NULL;
	size_t i, n = 0;

	json_object_set_new(obj, "name", json_string(r->name));
	if (r->path != NULL) {
		json_object_set_new(obj, "path", json_string(r->path));
	} else {
		char *url = remote_redact_url(r->url);   /* a password in the URL is never shown */

		json_object_set_new(obj, "url", json_string(url));
		free(url);
	}
	json_object_set_new(obj, "branch", json_string(r->branch));
	json_object_set_new(obj, "base_directory", json_string(r->base_directory));
	json_object_set_new(obj, "branches", branches);
	json_object_set_new(obj, "issues", counts);
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		json_object_set_new(counts, statuses[i], json_integer(0));
	if (st == NULL)
		return obj;
	if (state_cursors_list(st, r->name, &cursors, &n, err) != 0 ||
	    state_issue_counts(st, r->name, add_count, counts, err) != 0) {
		state_cursors_free(cursors, n);
		json_decref(obj);
		return NULL;
	}
	for (i = 0; i < n; i++)
		json_array_append_new(branches, json_pack("{s:s, s:s, s:I}", "branch", cursors[i].branch,
			"cursor", cursors[i].commit, "updated_at", (json_int_t)cursors[i].updated_at));
	state_cursors_free(cursors, n);
	return obj;
}

static void
add_event(long long time, const char *level, const char *repository, const char *message, void *arg)
{
	json_array_append_new(arg, json_pack("{s:I, s:s?, s:s?, s:s?}", "time", (json_int_t)time, "level", level,
		"repository", repository, "message", message));
}

static json_t *
recent_events(struct state *st, struct error *err)
{
	json_t *events = json_array();

	if (st != NULL && state_events_recent(st, STATUS_EVENTS, add_event, events, err) != 0) {
		json_decref(events);
		return NULL;
	}
	return events;
}

static char *
setting(struct state *st, const char *key)
{
	struct error err = ERROR_INIT;
	char *value = NULL;

	if (st != NULL && state_setting_get(st, key, &value, &err) != 0)
		log_warnx("%s", err.msg);
	return value;
}

static void
print_text(const json_t *status)
{
	const json_t *repos = json_object_get(status, "repositories"), *repo, *events, *ev, *bb;
	size_t i, j;

	bb = json_object_get(status, "bytebase");
	if (json_is_object(bb))
	{
		printf("bytebase: %s (api %s, %s%s%s%s)\n", json_string_value(json_object_get(bb, "url")),
			json_string_value(json_object_get(bb, "api")),
			json_is_string(json_object_get(bb, "version")) ? "server " : "version not detected yet",
			json_is_string(json_object_get(bb, "version")) ?
			json_string_value(json_object_get(bb, "version")) : "",
			json_is_string(json_object_get(bb, "flow")) ? ", flow " : "",
			json_is_string(json_object_get(bb, "flow")) ? json_string_value(json_object_get(bb, "flow")) : "");
		if (json_is_true(json_object_get(bb, "newer")))
			printf("bytebase: server %s is newer than any release bbgitops knows: using the %s flow\n",
				json_string_value(json_object_get(bb, "version")),
				json_string_value(json_object_get(bb, "flow")));
	} else
		printf("bytebase: not configured (issues stay in the local store)\n");
	if (json_is_string(json_object_get(status, "state_database")))
		printf("state: %s (PostgreSQL; locks and mirrors in %s)\n",
			json_string_value(json_object_get(status, "state_database")),
			json_string_value(json_object_get(status, "state_dir")));
	else
		printf("state: %s\n", json_string_value(json_object_get(status, "state_dir")));
	json_array_foreach(repos, i, repo) {
		const json_t *counts = json_object_get(repo, "issues"), *br;

		printf("\n%s  %s  branch %s  base %s/\n", json_string_value(json_object_get(repo, "name")),
			json_is_string(json_object_get(repo, "path")) ?
			json_string_value(json_object_get(repo, "path")) :
			json_string_value(json_object_get(repo, "url")),
			json_string_value(json_object_get(repo, "branch")),
			json_string_value(json_object_get(repo, "base_directory")));
		printf("  issues: local %lld, pending %lld, created %lld, failed %lld, skipped %lld\n",
			json_integer_value(json_object_get(counts, "local")),
			json_integer_value(json_object_get(counts, "pending")),
			json_integer_value(json_object_get(counts, "created")),
			json_integer_value(json_object_get(counts, "failed")),
			json_integer_value(json_object_get(counts, "skipped")));
		json_array_foreach(json_object_get(repo, "branches"), j, br)
			printf("  %s at %.12s\n", json_string_value(json_object_get(br, "branch")),
				json_string_value(json_object_get(br, "cursor")));
	}
	events = json_object_get(status, "events");
	if (json_array_size(events) > 0)
		printf("\nrecent events:\n");
	json_array_foreach(events, i, ev) {
		char when[32];
		time_t t = (time_t)json_integer_value(json_object_get(ev, "time"));

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
		printf("  %s %-7s %s: %s\n", when, json_string_value(json_object_get(ev, "level")),
			json_is_string(json_object_get(ev, "repository")) ?
			json_string_value(json_object_get(ev, "repository")) : "-",
			json_string_value(json_object_get(ev, "message")));
	}
}

int
cmd_status(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *status = NULL, *repos, *events;
	struct sbuf metrics = SBUF_INIT;
	struct error err = ERROR_INIT;
	struct config *cfg = NULL;
	struct state *st = NULL;
	bool json = false, prometheus = false, exists;
	char *dialect, *version, *flow, *newer;
	size_t i;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if ((opt != 'j' && opt != 'p') || (opt == 'j' ? prometheus : json)) {
			fprintf(stderr, "usage: bbgitops status [--json | --prometheus]\n");
			return 2;
		}
		json = json || opt == 'j';
		prometheus = prometheus || opt == 'p';
	}
	if ((rc = cli_load_config(cli, &cfg)) != 0)
		return rc;
	rc = 1;
	if (state_open_existing(cfg, &st, &exists, &err) != 0) {
		log_warnx("%s", err.msg);
		goto out;
	}
	if (prometheus) {
		if (metrics_format(cfg, st, time_now(), &metrics, &err) < 0) {
			log_warnx("%s", err.msg);
			goto out;
		}
		fputs(sbuf_str(&metrics), stdout);
		if (fflush(stdout) == 0 && !ferror(stdout))
			rc = 0;
		goto out;
	}
	status = json_object();
	json_object_set_new(status, "config", json_string(cfg->file));
	json_object_set_new(status, "state_dir", json_string(cfg->state_dir));
	if (st != NULL && strcmp(state_backend(st), "sqlite") != 0)
		json_object_set_new(status, "state_database", json_string(state_where(st)));
	if (cfg->bytebase != NULL) {
		dialect = setting(st, "bytebase.dialect");
		version = setting(st, "bytebase.version");
		flow = setting(st, "bytebase.flow");
		newer = setting(st, "bytebase.newer");
		json_object_set_new(status, "bytebase", json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:b}", "url",
			cfg->bytebase->url, "api", cfg->bytebase->api == BYTEBASE_API_AUTO ? "auto" :
			cfg->bytebase->api == BYTEBASE_API_2 ? "2" : cfg->bytebase->api == BYTEBASE_API_3 ? "3" :
			cfg->bytebase->api_release, "dialect", dialect, "version", version, "flow", flow, "newer",
			newer != NULL));
		free(dialect);
		free(version);
		free(flow);
		free(newer);
	} else {
		json_object_set_new(status, "bytebase", json_null());
	}
	repos = json_array();
	json_object_set_new(status, "repositories", repos);
	for (i = 0; i < cfg->n_repos; i++) {
		json_t *r = repo_status(st, &cfg->repos[i], &err);

		if (r == NULL) {
			log_warnx("%s", err.msg);
			goto out;
		}
		json_array_append_new(repos, r);
	}
	events = recent_events(st, &err);
	if (events == NULL) {
		log_warnx("%s", err.msg);
		goto out;
	}
	json_object_set_new(status, "events", events);
	if (json) {
		if (json_dumpf(status, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
			goto out;
		putchar('\n');
	} else {
		print_text(status);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		goto out;
	rc = 0;
out:
	sbuf_release(&metrics);
	json_decref(status);
	state_close(st);
	config_free(cfg);
	return rc;
}
