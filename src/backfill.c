/*
 * backfill.c — `bbgitops backfill REPO [--branch B] [--from REV] [--to REV] [--dry-run] [--json]`: replays a range
 * of a branch's first-parent history through the engine (catchup_replay) and queues what the ledger never saw.
 * Never moves a cursor. A remote repository is replayed from its mirror, refreshed first when the network allows.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catchup.h"
#include "commands.h"
#include "config.h"
#include "issue_json.h"
#include "log.h"
#include "remote.h"
#include "repo.h"
#include "state.h"
#include "util.h"

struct backfill_options {
	const char *repo;
	const char *branch;
	const char *from;
	const char *to;
	bool dry_run;
	bool json;
};

/* The issues collected for --json (copies: the engine's views live only for the callback). */
struct backfill_issues {
	struct state_issue *items;
	size_t len;
	size_t cap;
};

/* Progress on a terminal: only once a run has lasted a second, at most twice a second. */
struct backfill_progress {
	double started;
	double last;
	bool shown;
};

static void
backfill_usage(void)
{
	fputs("usage: bbgitops backfill REPO [--branch B] [--from REV] [--to REV] [--dry-run] [--json]\n", stderr);
}

static void
backfill_progress_cb(size_t commits_done, void *arg)
{
	struct backfill_progress *p = arg;
	double now = time_monotonic();

	if (now - p->started < 1.0 || now - p->last < 0.5)
		return;
	p->last = now;
	p->shown = true;
	fprintf(stderr, "\rbbgitops: backfill: %zu commits scanned", commits_done);
	fflush(stderr);
}

/* Keeps each issue the replay reports: the record is ours, so its contents move into the list. */
static int
backfill_collect(struct state_issue *issue, void *arg)
{
	struct backfill_issues *list = arg;

	if (list->len == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 16;
		list->items = xrealloc(list->items, list->cap * sizeof(*list->items));
	}
	list->items[list->len++] = *issue;
	memset(issue, 0, sizeof(*issue));
	return 0;
}

/* REV → commit id, with libgit2's own revision syntax (tags and annotated tags peeled). */
static int
backfill_resolve(git_repository *repo, const char *what, const char *rev, git_oid *out, struct error *err)
{
	git_object *obj = NULL, *commit = NULL;
	int rv = -1;

	if (git_revparse_single(&obj, repo, rev) < 0) {
		repo_error(err, "%s %s: not a revision", what, rev);
		goto out;
	}
	if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
		repo_error(err, "%s %s: not a commit", what, rev);
		goto out;
	}
	git_oid_cpy(out, git_object_id(commit));
	rv = 0;
out:
	git_object_free(commit);
	git_object_free(obj);
	return rv;
}

/* Options with getopt_long (argv[0] is the command's name); returns 0, 1 after --help, -1 on a usage error. */
static int
backfill_parse(int argc, char **argv, struct backfill_options *o)
{
	static const struct option options[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "branch", required_argument, NULL, 'b' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			o->dry_run = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'b':
			o->branch = optarg;
			break;
		case 'f':
			o->from = optarg;
			break;
		case 't':
			o->to = optarg;
			break;
		case 'h':
			backfill_usage();
			return 1;
		case ':':
			log_warnx("backfill: %s needs a value", argv[optind - 1]);
			return -1;
		default:
			log_warnx("backfill: unknown option %s", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc)
		o->repo = argv[optind++];
	if (optind < argc) {
		log_warnx("backfill: one repository at a time (%s and %s)", o->repo, argv[optind]);
		return -1;
	}
	if (o->repo == NULL) {
		log_warnx("backfill: which repository?");
		return -1;
	}
	return 0;
}

/* The repository to read: the local path, or the mirror (refreshed if the remote answers, else as it is). */
static int
backfill_open(const struct config *cfg, const struct repo_config *rc, git_repository **out, struct error *err)
{
	struct remote_update_result ures;
	struct error e = ERROR_INIT;
	bool exists = false;
	int lock_fd, rv;

	if (rc->path != NULL)
		return repo_open(rc->path, out, err);
	lock_fd = remote_lock_mirror(cfg->state_dir, rc, cfg->poll_timeout, &e);
	rv = lock_fd < 0 ? -1 : remote_update(cfg->state_dir, rc, cfg->poll_timeout, out, &ures, &e);
	remote_unlock_mirror(lock_fd);
	if (rv == 0)
		return 0;
	if (remote_open_mirror(cfg->state_dir, rc, out, &exists, err) < 0)
		return -1;
	if (!exists)
		return error_set(err, e.transient, "%s", e.msg);
	log_warnx("%s; replaying the mirror as it is", e.msg);
	return 0;
}

int
cmd_backfill(const struct cli *cli, int argc, char **argv)
{
	struct backfill_options o = { 0 };
	struct backfill_issues issues = { NULL, 0, 0 };
	struct backfill_progress progress = { 0 };
	struct replay_request req = { 0 };
	struct catchup_result res;
	struct config *cfg = NULL;
	struct state *st = NULL;
	git_repository *repo = NULL;
	const struct repo_config *rc;
	struct error err = ERROR_INIT;
	git_oid from, to;
	char *to_rev = NULL;
	int r, rv = 2;

	memset(&res, 0, sizeof(res));
	r = backfill_parse(argc, argv, &o);
	if (r != 0) {
		if (r < 0)
			backfill_usage();
		rv = r > 0 ? 0 : 2;
		goto out;
	}
	if (cli_load_config(cli, &cfg) != 0)
		goto out;
	rc = config_find_repo(cfg, o.repo);
	if (rc == NULL) {
		log_warnx("backfill: no repository named %s in %s", o.repo, cfg->file);
		goto out;
	}
	if (o.branch == NULL) {
		if (config_branch_is_glob(rc)) {
			log_warnx("backfill: %s watches branches matching %s: name one with --branch", rc->name,
				rc->branch);
			goto out;
		}
		o.branch = rc->branch;
	} else if (!config_branch_matches(rc, o.branch)) {
		log_warnx("backfill: %s does not watch branch %s (branch = \"%s\")", rc->name, o.branch, rc->branch);
		goto out;
	}

	rv = 1;
	remote_clear_git_env();
	if (repo_library_init(&err) < 0 || backfill_open(cfg, rc, &repo, &err) < 0) {
		log_warnx("backfill: %s", err.msg);
		goto out;
	}
	to_rev = o.to != NULL ? xstrdup(o.to) : xasprintf("refs/heads/%s", o.branch);
	if (backfill_resolve(repo, "--to", to_rev, &to, &err) < 0 ||
		(o.from != NULL && backfill_resolve(repo, "--from", o.from, &from, &err) < 0)) {
		log_warnx("backfill: %s: %s", rc->name, err.msg);
		goto out;
	}
	if (state_open(cfg, &st, &err) < 0) {
		log_warnx("backfill: %s", err.msg);
		goto out;
	}
	req.repo = rc;
	req.branch = o.branch;
	req.from = o.from != NULL ? &from : NULL;
	req.to = &to;
	req.dry_run = o.dry_run;
	req.status = cfg->bytebase != NULL ? "pending" : "local";
	req.max_size = cfg->max_migration_size;
	if (isatty(STDERR_FILENO) && log_get_level() != LOG_LEVEL_QUIET) {
		progress.started = progress.last = time_monotonic();
		req.progress = backfill_progress_cb;
		req.progress_arg = &progress;
	}
	r = catchup_replay(st, repo, &req, o.json ? backfill_collect : NULL, &issues, &res, &err);
	if (progress.shown)
		fputs("\r\033[K", stderr);
	if (r != 0) {
		log_warnx("backfill: %s", err.msg);
		goto out;
	}
	if (o.json) {
		if (issue_json_print_array(stdout, issues.items, issues.len) < 0 || fflush(stdout) != 0 ||
			ferror(stdout)) {
			log_warn("backfill: writing the issues");
			goto out;
		}
	} else {
		printf("%s@%s: %zu commit%s scanned, %zu migration%s in %zu rollout issue%s %s\n", rc->name, o.branch,
			res.commits, res.commits == 1 ? "" : "s", res.migrations, res.migrations == 1 ? "" : "s",
			res.issues, res.issues == 1 ? "" : "s", o.dry_run ? "would be queued (dry run)" : "queued");
		if (fflush(stdout) != 0 || ferror(stdout)) {
			log_warn("backfill: writing the summary");
			goto out;
		}
	}
	if (!o.dry_run && res.issues > 0)
		state_event(st, "info", rc->name, "backfill of %s: %zu migrations queued as %zu rollout issues",
			o.branch, res.migrations, res.issues);
	rv = 0;
out:
	state_issues_free(issues.items, issues.len);
	state_close(st);
	git_repository_free(repo);
	free(to_rev);
	config_free(cfg);
	return rv;
}
