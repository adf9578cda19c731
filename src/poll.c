/*
 * poll.c — `bbgitops poll [--daemon] [REPO…]`: catch up every watched branch of the configured repositories (local
 * ones read in place, remote ones through their mirrors), then deliver. --daemon repeats every interval ± jitter,
 * reloads on SIGHUP and stops between repositories on SIGTERM/SIGINT. One cycle at a time: flock on poll.lock;
 * across machines sharing the state, one poller per repository at a time (a lease, state_lease_try).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catchup.h"
#include "commands.h"
#include "config.h"
#include "launch.h"
#include "hook_server.h"
#include "log.h"
#include "metrics.h"
#include "remote.h"
#include "repo.h"
#include "state.h"
#include "state_metrics.h"
#include "util.h"

static volatile int poll_stop;           /* SIGTERM/SIGINT: stop between repositories */
static volatile sig_atomic_t poll_reload;  /* SIGHUP: reload the configuration before the next cycle */

/* A cursor of the repository as stored, and whether this cycle saw its branch. */
struct poll_cursor {
	char *branch;
	git_oid commit;
	bool seen;
};

struct poll_cursors {
	struct poll_cursor *items;
	size_t len;
};

static void
poll_on_signal(int sig)
{
	if (sig == SIGHUP) {
		poll_reload = 1;
		return;
	}
	/* A second request abandons the current transaction at once: SQLite rolls it back. */
	if (poll_stop)
		_exit(1);
	poll_stop = 1;
}

/* Without SA_RESTART, so that a blocking network read inside libgit2 returns EINTR and the fetch is abandoned. */
static void
poll_signals_install(bool daemon)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = poll_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (daemon)
		sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	remote_stop_flag = &poll_stop;
}

/* Sleeps SECONDS unless a signal arrives; no lost wake-up between the flag test and the sleep. */
static void
poll_sleep(double seconds)
{
	sigset_t block, old;
	struct timespec ts;
	double until = time_monotonic() + seconds;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	for (;;) {
		double left = until - time_monotonic();

		sigprocmask(SIG_BLOCK, &block, &old);
		if (poll_stop || poll_reload || left <= 0) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			return;
		}
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		ppoll(NULL, 0, &ts, &old);
		sigprocmask(SIG_SETMASK, &old, NULL);
	}
}

static void
poll_cursors_clear(struct poll_cursors *c)
{
	for (size_t i = 0; i < c->len; i++)
		free(c->items[i].branch);
	free(c->items);
	c->items = NULL;
	c->len = 0;
}

/* Every cursor of REPOSITORY in one query (cheaper than one lookup per branch over a thousand repositories). */
static int
poll_cursors_load(struct state *st, const char *repository, struct poll_cursors *out, struct error *err)
{
	struct state_cursor *rows = NULL;
	size_t n = 0, i;

	if (state_cursors_list(st, repository, &rows, &n, err) != 0)
		return -1;
	out->items = xcalloc(n + 1, sizeof(*out->items));
	for (i = 0; i < n; i++) {
		struct poll_cursor *pc = &out->items[out->len];

		if (git_oid_fromstr(&pc->commit, rows[i].commit) < 0)
			continue;
		pc->branch = rows[i].branch;
		rows[i].branch = NULL;
		pc->seen = false;
		out->len++;
	}
	state_cursors_free(rows, n);
	return 0;
}

static struct poll_cursor *
poll_cursor_find(struct poll_cursors *c, const char *branch)
{
	for (size_t i = 0; i < c->len; i++)
		if (strcmp(c->items[i].branch, branch) == 0)
			return &c->items[i];
	return NULL;
}

/* What the poll did to one branch, as one line (design §5 style). */
static void
poll_report(const struct repo_config *rc, const char *branch, const struct catchup_result *res)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), &res->cursor);
	if (res->deleted)
		log_info("%s@%s: branch deleted; cursor dropped", rc->name, branch);
	else if (res->rebaselined)
		log_warnx("%s@%s: the cursor's commit is gone (history rewritten); re-baselined at %.12s", rc->name,
			branch, hex);
	else if (res->baseline_only)
		log_info("%s@%s: first poll; watching from %.12s", rc->name, branch, hex);
	if (res->oversized > 0)
		log_warnx("%s@%s: %s is over max_migration_size: queued as a failed issue, not sent to Bytebase%s",
			rc->name, branch, res->oversized_path,
			res->oversized > 1 ? " (and more: see bbgitops issues --status failed)" : "");
	if (res->issues > 0)
		log_info("%s@%s: %zu migration%s queued as %zu rollout issue%s", rc->name, branch, res->migrations,
			res->migrations == 1 ? "" : "s", res->issues, res->issues == 1 ? "" : "s");
}

/* Catches BRANCH up to TIP (NULL: deleted) and keeps the mirror's pin (MIRROR non-NULL) on the cursor. */
static int
poll_branch(struct state *st, git_repository *repo, bool mirror, const struct repo_config *rc, const char *branch,
	const git_oid *tip, const char *status, long max_size, struct error *err)
{
	struct catchup_request req = { 0 };
	struct catchup_result res;
	char *ref_name = xasprintf("refs/heads/%s", branch);
	int rv = -1;

	memset(&res, 0, sizeof(res));
	req.repo = rc;
	req.branch = branch;
	req.tip = tip;
	req.old = NULL;
	req.created = false;
	req.ref_name = ref_name;
	req.origin = CATCHUP_POLL;
	req.status = status;
	req.max_size = max_size;
	if (catchup_branch(st, repo, &req, &res, err) < 0) {
		error_prefix(err, "%s@%s", rc->name, branch);
		goto out;
	}
	poll_report(rc, branch, &res);
	if (mirror && remote_pin_cursor(repo, branch, res.cursor_set ? &res.cursor : NULL, err) < 0) {
		error_prefix(err, "%s", rc->name);
		goto out;
	}
	rv = 0;
out:
	free(ref_name);
	return rv;
}

/* A mirror's pin must follow the cursor even when nothing moved (e.g. a mirror recreated after a loss). */
static int
poll_check_pin(git_repository *repo, const struct repo_config *rc, const char *branch, const git_oid *cursor,
	struct error *err)
{
	char *name = xasprintf(REMOTE_CURSOR_REFS "%s", branch);
	git_oid pinned;
	int rv = 0;

	if (git_reference_name_to_id(&pinned, repo, name) < 0 || !git_oid_equal(&pinned, cursor)) {
		rv = remote_pin_cursor(repo, branch, cursor, err);
		if (rv < 0)
			error_prefix(err, "%s", rc->name);
	}
	free(name);
	return rv;
}

/*
 * One repository: read (or refresh the mirror), compare each watched branch with its cursor, catch up the ones
 * that moved, drop the cursors of watched branches that are gone. Returns 0, or -1 with the first error in err
 * (the other branches are still processed; further errors are logged).
 */
static int
poll_repo(const struct config *cfg, struct state *st, const struct repo_config *rc, const char *status,
	struct error *err)
{
	struct poll_cursors cursors = { NULL, 0 };
	struct remote_update_result ures;
	git_repository *repo = NULL;
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	struct error e = ERROR_INIT;
	bool mirror = rc->path == NULL;
	size_t failed = 0;
	int rv = -1, lock_fd = -1;

	if (!mirror) {
		if (repo_open(rc->path, &repo, err) < 0) {
			error_prefix(err, "%s", rc->name);
			goto out;
		}
	} else {
		lock_fd = remote_lock_mirror(cfg->state_dir, rc, cfg->poll_timeout, err);
		if (lock_fd < 0)
			goto out;
		if (remote_update(cfg->state_dir, rc, cfg->poll_timeout, &repo, &ures, err) < 0) {
			state_metric_add(st, STATE_METRIC_FETCH_FAILURES, rc->name, 1);
			goto out;
		}
		if (ures.fetched)
			log_debug("%s: fetched (%zu watched branch%s moved)", rc->name, ures.moved,
				ures.moved == 1 ? "" : "es");
	}
	if (poll_cursors_load(st, rc->name, &cursors, err) < 0) {
		error_prefix(err, "%s", rc->name);
		goto out;
	}
	if (git_reference_iterator_glob_new(&it, repo, "refs/heads/*") < 0) {
		repo_error(err, "%s: cannot list branches", rc->name);
		goto out;
	}
	for (;;) {
		const char *branch;
		struct poll_cursor *pc;
		git_oid tip;
		int r = git_reference_next(&ref, it);

		if (r == GIT_ITEROVER)
			break;
		if (r < 0) {
			repo_error(err, "%s: cannot list branches", rc->name);
			goto out;
		}
		if (poll_stop)
			break;
		branch = git_reference_name(ref) + strlen("refs/heads/");
		if (!config_branch_matches(rc, branch))
			goto next;
		pc = poll_cursor_find(&cursors, branch);
		if (pc != NULL)
			pc->seen = true;
		if (git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC) {
			git_reference *resolved = NULL;

			if (git_reference_resolve(&resolved, ref) < 0)
				goto next;   /* dangling symbolic ref: not a branch of its own */
			git_oid_cpy(&tip, git_reference_target(resolved));
			git_reference_free(resolved);
		} else {
			git_oid_cpy(&tip, git_reference_target(ref));
		}
		if (pc != NULL && git_oid_equal(&pc->commit, &tip)) {
			if (mirror && poll_check_pin(repo, rc, branch, &tip, &e) < 0)
				goto failed;
			goto next;
		}
		if (repo_peel_commit(repo, &tip, &tip, &e) < 0) {
			error_prefix(&e, "%s@%s", rc->name, branch);
			goto failed;
		}
		if (poll_branch(st, repo, mirror, rc, branch, &tip, status, cfg->max_migration_size, &e) < 0)
			goto failed;
		goto next;
failed:
		if (failed++ == 0)
			*err = e;
		else
			log_warnx("%s", e.msg);
		error_clear(&e);
next:
		git_reference_free(ref);
		ref = NULL;
	}
	for (size_t i = 0; i < cursors.len && !poll_stop; i++) {
		struct poll_cursor *pc = &cursors.items[i];

		if (pc->seen || !config_branch_matches(rc, pc->branch))
			continue;
		if (poll_branch(st, repo, mirror, rc, pc->branch, NULL, status, cfg->max_migration_size, &e) < 0) {
			if (failed++ == 0)
				*err = e;
			else
				log_warnx("%s", e.msg);
			error_clear(&e);
		}
	}
	rv = failed ? -1 : 0;
out:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	git_repository_free(repo);
	remote_unlock_mirror(lock_fd);
	poll_cursors_clear(&cursors);
	return rv;
}

/*
 * A local repository whose watched branches all sit on their cursors, with no cursor left for a watched branch that
 * is gone: nothing to do, not even the lease, which costs a shared database a round trip per repository. CURSORS
 * are every repository's, read once per cycle. Any doubt (a symbolic ref, an unreadable repository): false, and
 * poll_repo looks properly.
 */
static bool
poll_local_unchanged(const struct repo_config *rc, const struct state_cursor *cursors, size_t n)
{
	git_repository *repo = NULL;
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	struct error err = ERROR_INIT;
	size_t watched = 0, matched = 0, i;
	bool same = false;
	int r;

	if (rc->path == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(cursors[i].repository, rc->name) == 0 && config_branch_matches(rc, cursors[i].branch))
			watched++;
	if (repo_open(rc->path, &repo, &err) != 0 || git_reference_iterator_glob_new(&it, repo, "refs/heads/*") < 0)
		goto out;
	while ((r = git_reference_next(&ref, it)) == 0) {
		const char *branch = git_reference_name(ref) + strlen("refs/heads/");
		const struct state_cursor *c = NULL;
		git_oid at;

		if (config_branch_matches(rc, branch)) {
			for (i = 0; i < n && c == NULL; i++)
				if (strcmp(cursors[i].branch, branch) == 0 && strcmp(cursors[i].repository, rc->name) == 0)
					c = &cursors[i];
			if (c == NULL || git_reference_type(ref) != GIT_REFERENCE_DIRECT ||
			    git_oid_fromstr(&at, c->commit) < 0 || !git_oid_equal(&at, git_reference_target(ref)))
				goto out;
			matched++;
		}
		git_reference_free(ref);
		ref = NULL;
	}
	same = r == GIT_ITEROVER && matched == watched;
out:
	git_reference_free(ref);
	git_reference_iterator_free(it);
	git_repository_free(repo);
	return same;
}

/*
 * Takes STATE_DIR/poll.lock. One-shot: when another poller holds it, *busy is set and nothing is done (what cron
 * users expect: an overrunning cycle makes the next one a no-op, not a queue). Daemon: waits, stoppable.
 */
static int
poll_lock(const char *dir, bool wait, bool *busy, struct error *err)
{
	char *path = xasprintf("%s/poll.lock", dir);
	int fd;

	*busy = false;
	if (mkdir(dir, 02770) < 0 && errno != EEXIST) {
		error_set(err, false, "cannot create %s: %s", dir, strerror(errno));
		free(path);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (fd < 0) {
		error_set(err, false, "cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			error_set(err, false, "cannot lock %s: %s", path, strerror(errno));
			close(fd);
			free(path);
			return -1;
		}
		if (!wait || poll_stop) {
			*busy = true;
			close(fd);
			free(path);
			return -1;
		}
		usleep(100000);   /* a signal cuts it short; poll_stop is tested again above */
	}
	free(path);
	return fd;
}

/* Is the repository among the names given on the command line (all when none)? */
static bool
poll_selected(const struct repo_config *rc, char **names, size_t n_names)
{
	if (n_names == 0)
		return true;
	for (size_t i = 0; i < n_names; i++)
		if (strcmp(names[i], rc->name) == 0)
			return true;
	return false;
}

/* One cycle. Returns 0 when everything went well, 1 when a repository or the delivery failed. */
static int
poll_cycle(const struct config *cfg, char **names, size_t n_names, bool daemon)
{
	struct state *st = NULL;
	struct error err = ERROR_INIT;
	const char *status = cfg->bytebase != NULL ? "pending" : "local";
	struct state_cursor *cursors = NULL;
	const char **polled = NULL;       /* the repositories polled, for their last-poll time */
	size_t failed = 0, done = 0, n_cursors = 0, n_polled = 0;
	bool busy = false, cursors_read = true;
	int lock_fd, rv = 1;

	lock_fd = poll_lock(cfg->state_dir, daemon, &busy, &err);
	if (lock_fd < 0) {
		if (busy) {
			if (!poll_stop)
				log_info("another poll is running (%s/poll.lock); nothing to do", cfg->state_dir);
			return 0;
		}
		log_warnx("%s", err.msg);
		return 1;
	}
	if (state_open(cfg, &st, &err) < 0) {
		log_warnx("%s", err.msg);
		goto out;
	}
	/* Every cursor, once: most repositories of a cycle have not moved, and that is decided without a query. */
	if (state_cursors_list(st, NULL, &cursors, &n_cursors, &err) != 0) {
		log_debug("%s; each repository is looked at in full", err.msg);
		cursors_read = false;
	}
	polled = xcalloc(cfg->n_repos + 1, sizeof(*polled));
	for (size_t i = 0; i < cfg->n_repos && !poll_stop; i++) {
		const struct repo_config *rc = &cfg->repos[i];
		bool leased;
		int rv_repo;

		if (!poll_selected(rc, names, n_names))
			continue;
		if (repo_library_init(&err) < 0) {
			log_warnx("%s", err.msg);
			goto out;
		}
		error_clear(&err);
		if (cursors_read && poll_local_unchanged(rc, cursors, n_cursors)) {
			polled[n_polled++] = rc->name;
			done++;
			continue;
		}
		/*
		 * Pollers on other machines sharing the state may run the same cycle: a repository one of them is
		 * fetching now is skipped (its lease), not fetched twice. With SQLite, poll.lock already did this.
		 */
		if (state_lease_try(st, "poll", rc->name, NULL, &leased, &err) < 0) {
			log_warnx("%s: %s", rc->name, err.msg);
			failed++;
			continue;
		}
		if (!leased) {
			log_info("%s: another poller is on it; skipped", rc->name);
			continue;
		}
		rv_repo = poll_repo(cfg, st, rc, status, &err);
		state_lease_release(st, "poll", rc->name, NULL);
		if (rv_repo < 0) {
			log_warnx("%s", err.msg);
			state_event(st, "error", rc->name, "poll: %s", err.msg);
			state_metric_add(st, STATE_METRIC_POLL_FAILURES, rc->name, 1);
			failed++;
		} else if (!poll_stop) {
			polled[n_polled++] = rc->name;
		}
		done++;
	}
	state_metric_set_many(st, STATE_METRIC_LAST_POLL, polled, n_polled, time_now());
	state_close(st);
	st = NULL;
	close(lock_fd);
	lock_fd = -1;
	if (cfg->bytebase != NULL && !poll_stop) {
		struct deliver_options opts = { 0 };
		int d;

		opts.wait_for_lock = false;
		error_clear(&err);
		d = launch_deliver_wait(cfg, &opts, &err);
		if (d < 0) {
			log_warnx("delivery: %s", err.msg);
			failed++;
		} else if (d > 0) {
			log_warnx("delivery: some issues failed or wait for a retry (see `bbgitops issues`)");
			failed++;
		}
	}
	if (cfg->poll_metrics_file != NULL) {
		error_clear(&err);
		if (metrics_update_file(cfg, &err) < 0) {
			log_warnx("%s", err.msg);
			failed++;
		}
	}
	log_debug("poll: %zu repositor%s, %zu failed", done, done == 1 ? "y" : "ies", failed);
	rv = failed ? 1 : 0;
out:
	state_cursors_free(cursors, n_cursors);
	free(polled);
	state_close(st);
	if (lock_fd >= 0)
		close(lock_fd);
	return rv;
}

static void
poll_usage(void)
{
	fputs("usage: bbgitops poll [--daemon] [REPO...]\n", stderr);
}

/* Interval ± jitter, at least one second. */
static double
poll_next_delay(const struct config *cfg)
{
	double d = (double)cfg->poll_interval;

	if (cfg->poll_jitter > 0)
		d += ((double)random() / (double)RAND_MAX * 2.0 - 1.0) * (double)cfg->poll_jitter;
	return d < 1.0 ? 1.0 : d;
}

int
cmd_poll(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "daemon", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config *cfg = NULL;
	struct strlist names = STRLIST_INIT;
	bool daemon = false;
	pid_t hook_server = -1;
	int opt, rv = 2;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			daemon = true;
			break;
		case 'h':
			poll_usage();
			rv = 0;
			goto out;
		default:
			log_warnx("poll: unknown option %s", argv[optind - 1]);
			poll_usage();
			goto out;
		}
	}
	for (; optind < argc; optind++)
		strlist_push(&names, xstrdup(argv[optind]));
	if (cli_load_config(cli, &cfg) != 0)
		goto out;
	for (size_t k = 0; k < names.len; k++) {
		if (config_find_repo(cfg, names.items[k]) == NULL) {
			log_warnx("poll: no repository named %s in %s", names.items[k], cfg->file);
			goto out;
		}
	}
	remote_clear_git_env();
	poll_signals_install(daemon);
	if (!daemon) {
		rv = poll_cycle(cfg, names.items, names.len, false);
		goto out;
	}
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	log_info("poll daemon started: every %ld s ± %ld s", cfg->poll_interval, cfg->poll_jitter);
	/* Hooks hand their pushes to it (hook_handoff.h): it has libgit2 started, they need not. */
	hook_server = hook_server_start(cli, cfg);
	while (!poll_stop) {
		if (poll_reload) {
			struct config *fresh = NULL;

			poll_reload = 0;
			if (cli_load_config(cli, &fresh) == 0) {
				config_free(cfg);
				cfg = fresh;
				log_info("configuration reloaded");
				hook_server_stop(hook_server);
				hook_server = hook_server_start(cli, cfg);
			} else {
				log_warnx("configuration not reloaded: keeping the previous one");
			}
		}
		if (hook_server_exited(hook_server)) {
			log_warnx("the hook server stopped; starting it again");
			hook_server = hook_server_start(cli, cfg);
		}
		(void)poll_cycle(cfg, names.items, names.len, true);
		if (!poll_stop)
			poll_sleep(poll_next_delay(cfg));
	}
	hook_server_stop(hook_server);
	log_info("poll daemon stopped");
	rv = 0;
out:
	config_free(cfg);
	strlist_clear(&names);
	return rv;
}
