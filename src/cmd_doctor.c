/*
 * cmd_doctor.c — `bbgitops doctor [REPO…] [--json]` (run inside bbgitops-deliver: it needs libcurl): verifies every
 * configured credential once, live. Bytebase: login, version and API flow, each repository's project and its
 * databases or group. Each provider token: can it read the repository, may it comment (from what the API tells;
 * "cannot tell" where it tells nothing). One line per check; exit 1 on any problem. No secret is ever printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bb_client.h"
#include "commands.h"
#include "http.h"
#include "log.h"
#include "provider.h"
#include "util.h"

enum doctor_status { DOCTOR_OK, DOCTOR_PROBLEM, DOCTOR_CANNOT_TELL, DOCTOR_NOT_CHECKED, DOCTOR_OFF };

static const char *const doctor_status_names[] = { "ok", "problem", "cannot tell", "not checked", "off" };

struct doctor {
	json_t *checks;           /* [{check, status, detail}] in order */
	int problems;
	bool json;
};

static void __attribute__((format(printf, 4, 5)))
doctor_add(struct doctor *d, const char *check, enum doctor_status status, const char *fmt, ...)
{
	char detail[1024] = "";
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	if (status == DOCTOR_PROBLEM)
		d->problems++;
	json_array_append_new(d->checks, json_pack("{s:s, s:s, s:s}", "check", check, "status",
		doctor_status_names[status], "detail", detail));
}

/* Does the Bytebase resource NAME exist? 0 with *exists (a 404 is "no"), or -1 with err. */
static int
doctor_bb_exists(struct bb *bb, const char *name, bool *exists, struct error *err)
{
	json_t *obj = NULL;
	int ret = bb_get(bb, name, &obj, err);

	json_decref(obj);
	*exists = ret == 0;
	if (ret < 0 && err->http_status == 404) {
		error_clear(err);
		ret = 0;
	}
	return ret;
}

/* Bytebase: login (with version and flow), then each distinct project and each configured target. */
static void
doctor_bytebase(struct doctor *d, const struct config *cfg, const struct repo_config *const *repos, size_t n)
{
	struct bb *bb = NULL;
	struct bb_server server = { 0 };
	struct error err = ERROR_INIT;
	struct strset seen = STRSET_INIT;
	char *name = NULL, *check = NULL;
	bool exists;
	size_t i, j;

	if (cfg->bytebase == NULL) {
		doctor_add(d, "bytebase", DOCTOR_OFF, "no bytebase section: issues stay in the local store");
		return;
	}
	if (bb_open(cfg->bytebase, &bb, &err) < 0 || bb_detect(bb, &server, &err) < 0 || bb_login(bb, &err) < 0) {
		doctor_add(d, "bytebase login", DOCTOR_PROBLEM, "%s as %s: %s", cfg->bytebase->url,
			cfg->bytebase->service_account, err.msg);
		doctor_add(d, "bytebase projects and databases", DOCTOR_NOT_CHECKED, "no login");
		goto out;
	}
	doctor_add(d, "bytebase login", DOCTOR_OK, "%s as %s: version %s, flow for %s%s", cfg->bytebase->url,
		cfg->bytebase->service_account, server.reported ? server.reported : "(forced by api)",
		bb_range_name(server.range), server.newer ? " (newer than any known release)" : "");
	for (i = 0; i < n; i++) {
		const struct repo_config *r = repos[i];

		if (r->project == NULL)
			continue;
		name = xasprintf("projects/%s", r->project);
		check = xasprintf("bytebase project %s", r->project);
		if (strset_add(&seen, name)) {
			if (doctor_bb_exists(bb, name, &exists, &err) < 0)
				doctor_add(d, check, DOCTOR_PROBLEM, "%s", err.msg);
			else if (!exists)
				doctor_add(d, check, DOCTOR_PROBLEM, "%s does not exist (or the service account cannot see "
					"it), needed by repository %s", name, r->name);
			else
				doctor_add(d, check, DOCTOR_OK, NULL);
		}
		free(name);
		free(check);
		name = check = NULL;
		for (j = 0; j < r->n_databases + (r->database_group != NULL ? 1 : 0); j++) {
			bool group = j == r->n_databases;
			const char *what = group ? r->database_group : r->databases[j];

			if (group)
				name = strchr(what, '/') ? xstrdup(what) :
					xasprintf("projects/%s/databaseGroups/%s", r->project, what);
			else
				name = xstrdup(what[0] == '/' ? what + 1 : what);
			check = xasprintf("bytebase %s %s", group ? "database group" : "database", name);
			if (strset_add(&seen, name)) {
				if (doctor_bb_exists(bb, name, &exists, &err) < 0)
					doctor_add(d, check, DOCTOR_PROBLEM, "%s", err.msg);
				else if (!exists)
					doctor_add(d, check, DOCTOR_PROBLEM, "%s does not exist (repository %s)", name,
						r->name);
				else
					doctor_add(d, check, DOCTOR_OK, NULL);
			}
			free(name);
			free(check);
			name = check = NULL;
		}
	}
out:
	strset_clear(&seen);
	bb_server_clear(&server);
	bb_close(bb);
}

static enum doctor_status
doctor_verdict(enum provider_verdict v)
{
	return v == PROVIDER_YES ? DOCTOR_OK : v == PROVIDER_NO ? DOCTOR_PROBLEM : DOCTOR_CANNOT_TELL;
}

/* One repository's provider token: read, then comment. */
static void
doctor_provider(struct doctor *d, struct http *h, const struct repo_config *r)
{
	struct provider_client *pc = NULL;
	struct provider_check chk;
	struct error err = ERROR_INIT;
	char *check_read = xasprintf("%s: token reads the repository", r->name);
	char *check_comment = xasprintf("%s: token may comment", r->name);

	if (provider_open(r, h, &pc, &err) < 0) {
		doctor_add(d, check_read, DOCTOR_PROBLEM, "%s", err.msg);
		goto out;
	}
	if (provider_check(pc, &chk, &err) < 0) {
		doctor_add(d, check_read, DOCTOR_PROBLEM, "%s", err.msg);
		goto out;
	}
	doctor_add(d, check_read, doctor_verdict(chk.read), "%s %s%s%s", provider_name(pc), provider_display(pc),
		chk.read != PROVIDER_YES ? ": " : "", chk.read != PROVIDER_YES ? chk.detail : "");
	if (chk.read != PROVIDER_YES)
		doctor_add(d, check_comment, DOCTOR_NOT_CHECKED, "the repository cannot be read");
	else if (!r->comment)
		doctor_add(d, check_comment, DOCTOR_OFF, "comment = false");
	else
		doctor_add(d, check_comment, doctor_verdict(chk.comment), "%s", chk.detail);
out:
	provider_close(pc);
	free(check_read);
	free(check_comment);
}

static void
doctor_print(const struct doctor *d)
{
	json_t *c;
	size_t i;

	if (d->json) {
		json_t *out = json_pack("{s:b, s:i, s:O}", "ok", d->problems == 0, "problems", d->problems, "checks",
			d->checks);

		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(out);
		return;
	}
	json_array_foreach(d->checks, i, c) {
		const char *detail = json_string_value(json_object_get(c, "detail"));

		printf("%-11s %s%s%s\n", json_string_value(json_object_get(c, "status")),
			json_string_value(json_object_get(c, "check")), detail[0] ? ": " : "", detail);
	}
	if (d->problems == 0)
		printf("no problems found\n");
	else
		printf("%d problem%s found\n", d->problems, d->problems == 1 ? "" : "s");
}

int
cmd_doctor(const struct cli *cli, int argc, char **argv)
{
	struct doctor d = { json_array(), 0, false };
	struct http_options hopts = { "", 0, NULL };
	const struct repo_config **repos = NULL;
	struct config *cfg = NULL;
	struct http *h = NULL;
	struct error err = ERROR_INIT;
	size_t n = 0, i;
	int a, ret = 2;

	if (cli_load_config(cli, &cfg) != 0)
		goto out;
	repos = xcalloc(cfg->n_repos + 1, sizeof(*repos));
	for (a = argc > 0 && strcmp(argv[0], "doctor") == 0 ? 1 : 0; a < argc; a++) {
		if (strcmp(argv[a], "--json") == 0) {
			d.json = true;
		} else if (argv[a][0] == '-') {
			fprintf(stderr, "usage: bbgitops doctor [REPO...] [--json]\n");
			goto out;
		} else if (config_find_repo(cfg, argv[a]) == NULL) {
			fprintf(stderr, "bbgitops: doctor: no repository named '%s' in %s\n", argv[a], cfg->file);
			goto out;
		} else {
			repos[n++] = config_find_repo(cfg, argv[a]);
		}
	}
	if (n == 0)
		for (i = 0; i < cfg->n_repos; i++)
			repos[n++] = &cfg->repos[i];
	doctor_bytebase(&d, cfg, repos, n);
	for (i = 0; i < n; i++) {
		if (repos[i]->url == NULL || repos[i]->token_file == NULL || repos[i]->provider == PROVIDER_GENERIC)
			continue;
		if (h == NULL) {
			hopts.timeout = cfg->bytebase != NULL ? cfg->bytebase->timeout : 30;
			if (http_open(&hopts, &h, &err) < 0) {
				fprintf(stderr, "bbgitops: doctor: %s\n", err.msg);
				ret = 1;
				goto out;
			}
		}
		doctor_provider(&d, h, repos[i]);
	}
	doctor_print(&d);
	ret = d.problems > 0 ? 1 : 0;
out:
	http_close(h);
	free(repos);
	json_decref(d.checks);
	config_free(cfg);
	return ret;
}
