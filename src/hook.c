/*
 * hook.c — the post-receive hook: reads every ref update from stdin, finds the configured entries for this
 * repository, and catches up each watched branch that moved. Cheap until proven necessary: no SQLite and no
 * libgit2 (whose start-up parses the CA bundle) unless a watched branch moved. Never fails the push: problems
 * become one "bbgitops: " line for the pusher and an event for `status`; the exit status is always 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catchup.h"
#include "commands.h"
#include "hook.h"
#include "hook_handoff.h"
#include "launch.h"
#include "log.h"
#include "repo.h"
#include "state.h"
#include "util.h"

struct walk_pushed_ref *
hook_pushed_refs(const struct ref_update *updates, size_t n)
{
	struct walk_pushed_ref *pushed = xcalloc(n + 1, sizeof(*pushed));
	size_t i;

	for (i = 0; i < n; i++) {
		pushed[i].ref_name = updates[i].ref;
		pushed[i].old_is_zero = str_is_zero_oid(updates[i].old_hex) ||
			git_oid_fromstr(&pushed[i].old, updates[i].old_hex) < 0;
	}
	return pushed;
}

static const char *
plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void
report_result(const struct hook_item *w, bool name_entry, const struct catchup_result *res)
{
	char label[512];

	/* The branch alone, unless several entries watch this same branch (or no pusher reads it): entry@branch. */
	if (name_entry)
		snprintf(label, sizeof(label), "%s@%s", w->repo->name, w->branch);
	else
		snprintf(label, sizeof(label), "%s", w->branch);
	if (res->oversized > 0)
		log_warnx("%s: %s is over max_migration_size: queued as a failed issue, not sent to Bytebase%s", label,
			res->oversized_path, res->oversized > 1 ? " (and more: see bbgitops issues --status failed)" : "");
	if (res->rebaselined)
		log_warnx("%s: the cursor's commit is gone (history rewritten and pruned); re-baselined at %.12s",
			label, git_oid_tostr_s(&res->cursor));
	else if (res->issues > 0)
		log_warnx("%s: %zu %s queued as %zu rollout %s", label, res->migrations,
			plural(res->migrations, "migration", "migrations"), res->issues,
			plural(res->issues, "issue", "issues"));
}

/* The catch-up request of work item W (its tip peeled to a commit into *tip). */
static int
item_request(git_repository *git, const struct config *cfg, const struct hook_item *w,
	const struct walk_pushed_ref *pushed, size_t n_pushed, struct catchup_request *req, git_oid *tip,
	git_oid *old_id, struct error *err)
{
	git_oid new_id;

	*req = (struct catchup_request){
		.repo = w->repo,
		.branch = w->branch,
		.ref_name = w->update->ref,
		.pushed = pushed,
		.n_pushed = n_pushed,
		.origin = CATCHUP_HOOK,
		.status = cfg->bytebase ? "pending" : "local",
		.max_size = cfg->max_migration_size,
	};
	if (!str_is_zero_oid(w->update->new_hex)) {
		if (git_oid_fromstr(&new_id, w->update->new_hex) < 0 || repo_peel_commit(git, &new_id, tip, err) != 0)
			return error_prefix(err, "%s", w->update->ref);
		req->tip = tip;
	}
	if (str_is_zero_oid(w->update->old_hex))
		req->created = true;
	else if (git_oid_fromstr(old_id, w->update->old_hex) == 0)
		req->old = old_id;
	return 0;
}

static void
start_delivery(const struct cli *cli, const struct config *cfg)
{
	struct deliver_options opts = { 0 };
	struct error err = ERROR_INIT;

	switch (cfg->hook_deliver) {
	case HOOK_DELIVER_BACKGROUND:
		if (launch_deliver_detached(cli->config_path, &err) != 0)
			log_warnx("%s; `bbgitops poll` or `deliver` will send the issues", err.msg);
		break;
	case HOOK_DELIVER_INLINE:
		opts.deadline = time_monotonic() + (double)cfg->bytebase->timeout;
		if (launch_deliver_wait(cfg, &opts, &err) < 0)
			log_warnx("delivery: %s", err.msg);
		break;
	case HOOK_DELIVER_NONE:
	default:
		break;
	}
}

/* Does another work item watch the same ref through another entry? */
static bool
shared_ref(const struct hook_item *items, size_t n_items, size_t i)
{
	size_t j;

	for (j = 0; j < n_items; j++)
		if (j != i && items[j].update == items[i].update)
			return true;
	return false;
}

/*
 * The work itself. PREP: what a hook server's worker prepared (hook_post_receive_prepared; its state is handed
 * back open), or NULL: everything opened, and closed, here.
 */
static void
run_items(const struct cli *cli, const struct config *cfg, const char *git_dir, struct hook_prepared *prep,
	struct hook_item *items, size_t n_items, const struct ref_update *updates, size_t n_updates)
{
	git_repository *git = prep != NULL ? prep->git : NULL;
	struct state *st = prep != NULL ? prep->st : NULL;
	struct walk_pushed_ref *pushed = hook_pushed_refs(updates, n_updates);
	struct item_req {
		struct catchup_request req;
		git_oid tip, old;
	} *reqs = NULL;
	bool *ok = NULL;
	struct strlist failed = STRLIST_INIT;   /* "repository\terror" of items that failed before the state opened */
	struct error err = ERROR_INIT;
	git_repository *own_git = NULL;
	size_t i, queued = 0;

	if (git == NULL) {
		if (repo_library_init(&err) != 0 || repo_open(git_dir, &own_git, &err) != 0) {
			log_warnx("%s", err.msg);
			goto out;
		}
		git = own_git;
	}
	reqs = xcalloc(n_items, sizeof(*reqs));
	ok = xcalloc(n_items, sizeof(*ok));
	/* First, before the state is touched: where each branch this push created begins (catchup_begin). */
	for (i = 0; i < n_items; i++) {
		error_clear(&err);
		if (item_request(git, cfg, &items[i], pushed, n_updates, &reqs[i].req, &reqs[i].tip, &reqs[i].old,
		    &err) != 0) {
			log_warnx("%s (the next push or poll catches up)", err.msg);
			strlist_pushf(&failed, "%s\t%s", items[i].repo->name, err.msg);
			continue;
		}
		ok[i] = true;
		reqs[i].req.trees = prep != NULL ? prep->trees : NULL;
		if (catchup_begin(git, &reqs[i].req, &err) != 0)
			log_warnx("%s: cannot record where the new branch begins: %s", items[i].branch, err.msg);
	}
	if (st == NULL && state_open(cfg, &st, &err) != 0) {
		log_warnx("%s (nothing queued; the next push or poll catches up)", err.msg);
		goto out;
	}
	state_defer_sync(st);
	for (i = 0; i < failed.len; i++) {
		char *tab = strchr(failed.items[i], '\t');

		*tab = '\0';
		state_event(st, "error", failed.items[i], "post-receive: %s", tab + 1);
	}
	for (i = 0; i < n_items; i++) {
		struct catchup_result res;

		if (!ok[i])
			continue;
		error_clear(&err);
		if (catchup_branch(st, git, &reqs[i].req, &res, &err) != 0) {
			log_warnx("%s (the next push or poll catches up)", err.msg);
			state_event(st, "error", items[i].repo->name, "post-receive: %s", err.msg);
			continue;
		}
		report_result(&items[i], (prep != NULL && prep->detached) || shared_ref(items, n_items, i), &res);
		queued += res.issues;
	}
	if (queued > 0 && cfg->bytebase != NULL) {
		state_close(st);    /* no SQLite handle may cross the fork of the detached deliverer */
		st = NULL;
		start_delivery(cli, cfg);
	}
out:
	git_repository_free(own_git);
	if (prep != NULL)
		prep->st = st;
	else
		state_close(st);
	free(reqs);
	free(ok);
	strlist_clear(&failed);
	free(pushed);
}

int
hook_post_receive(const struct cli *cli, const struct config *cfg, const char *git_dir,
	const struct ref_update *updates, size_t n_updates, bool may_hand_off)
{
	struct hook_work work;

	if (hook_select(cfg, git_dir, updates, n_updates, &work) != 0)
		return -1;
	/* A running `poll --daemon` has libgit2 started already: it does the same work for us when it answers. */
	if (work.n_items > 0 && !(may_hand_off && hook_offer(cfg, git_dir, updates, n_updates, &work) == 0))
		run_items(cli, cfg, git_dir, NULL, work.items, work.n_items, updates, n_updates);
	hook_work_free(&work);
	return 0;
}

int
hook_post_receive_prepared(const struct cli *cli, const struct config *cfg, const char *git_dir,
	struct hook_prepared *prep, const struct ref_update *updates, size_t n_updates)
{
	struct hook_work work;

	if (hook_select(cfg, git_dir, updates, n_updates, &work) != 0)
		return -1;
	if (work.n_items > 0)
		run_items(cli, cfg, git_dir, prep, work.items, work.n_items, updates, n_updates);
	hook_work_free(&work);
	return 0;
}

int
cmd_post_receive(const struct cli *cli, int argc, char **argv)
{
	struct ref_update *updates = NULL;
	struct config *cfg = NULL;
	size_t n_updates;
	/* bbgitops-hook offered this push to the daemon already, which declined. */
	bool offered = getenv(HOOK_OFFERED_ENV) != NULL;

	(void)argc;
	(void)argv;
	unsetenv(HOOK_OFFERED_ENV);
	n_updates = hook_read_updates(stdin, &updates);
	if (hook_load_config(cli, &cfg) == 0)
		(void)hook_post_receive(cli, cfg, hook_git_dir(), updates, n_updates, !offered);
	hook_updates_free(updates, n_updates);
	config_free(cfg);
	repo_library_shutdown();
	return 0;
}
