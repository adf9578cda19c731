/*
 * cmd_issues.c — `bbgitops issues [--repo R] [--status S] [--json]`: the queued rollout issues, oldest first, as
 * a table or as the JSON array of design §5. Reading never creates the state database.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "log.h"
#include "issue_json.h"
#include "log.h"
#include "state.h"
#include "util.h"

static bool
valid_status(const char *s)
{
	static const char *const statuses[] = { "local", "pending", "created", "failed", "skipped" };
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(s, statuses[i]) == 0)
			return true;
	return false;
}

static void
print_table(FILE *fp, const struct state_issue *issues, size_t n)
{
	size_t i, j;

	if (n == 0) {
		fprintf(fp, "no rollout issues\n");
		return;
	}
	fprintf(fp, "%-6s %-8s %-20s %-20s %-12s %-24s %s\n", "ID", "STATUS", "REPOSITORY", "BRANCH", "COMMIT",
		"BYTEBASE ISSUE", "TITLE");
	for (i = 0; i < n; i++) {
		const struct state_issue *is = &issues[i];

		fprintf(fp, "%-6lld %-8s %-20s %-20s %-12.12s %-24s %s\n", is->id, is->status, is->repository,
			is->branch, is->commit, is->bytebase_issue ? is->bytebase_issue : "-", is->title);
		for (j = 0; j < is->n_files; j++) {
			char *path = str_quote_path(is->files[j].path);   /* as git prints names */

			fprintf(fp, "       %s  (version %s, %s)\n", path, is->files[j].version, is->files[j].type);
			free(path);
		}
		if (is->rollout_pending)
			fprintf(fp, "       rollout: waits for approval (%ld tries so far)\n", is->rollout_attempts);
		if (is->last_error != NULL && (strcmp(is->status, "created") != 0 || is->rollout_pending))
			fprintf(fp, "       last error: %s\n", is->last_error);
		if (is->comment_status != NULL)
			fprintf(fp, "       comment: %s%s%s (%ld attempt%s)%s%s\n", is->comment_status,
				is->comment_url ? " " : "", is->comment_url ? is->comment_url : "", is->comment_attempts,
				is->comment_attempts == 1 ? "" : "s",
				is->comment_error && strcmp(is->comment_status, "done") != 0 ? ": " : "",
				is->comment_error && strcmp(is->comment_status, "done") != 0 ? is->comment_error : "");
	}
}

int
cmd_issues(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "status", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct state_issue_filter filter = { NULL, NULL, NULL, 0 };
	struct state_issue *issues = NULL;
	struct error err = ERROR_INIT;
	struct config *cfg = NULL;
	struct state *st = NULL;
	size_t n = 0;
	bool json = false, exists;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			filter.repository = optarg;
			break;
		case 's':
			if (!valid_status(optarg)) {
				log_warnx("issues: --status must be local, pending, created, failed or skipped");
				return 2;
			}
			filter.status = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			fprintf(stderr, "usage: bbgitops issues [--repo R] [--status S] [--json]\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "usage: bbgitops issues [--repo R] [--status S] [--json]\n");
		return 2;
	}
	if ((rc = cli_load_config(cli, &cfg)) != 0)
		return rc;
	if (filter.repository != NULL && config_find_repo(cfg, filter.repository) == NULL)
		log_warnx("note: no repository named '%s' in %s", filter.repository, cfg->file);
	rc = 1;
	if (state_open_existing(cfg, &st, &exists, &err) != 0 ||
	    (st != NULL && state_issues_list(st, &filter, &issues, &n, &err) != 0)) {
		log_warnx("%s", err.msg);
		goto out;
	}
	if (json) {
		if (issue_json_print_array(stdout, issues, n) != 0) {
			log_warnx("cannot write to standard output");
			goto out;
		}
	} else {
		print_table(stdout, issues, n);
		if (fflush(stdout) != 0 || ferror(stdout))
			goto out;
	}
	rc = 0;
out:
	state_issues_free(issues, n);
	state_close(st);
	config_free(cfg);
	return rc;
}
