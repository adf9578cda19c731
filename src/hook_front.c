/*
 * hook_front.c — what post-receive decides before it needs libgit2 or SQLite (hook_front.h): which entries name
 * this repository, which of their watched branches the push moved, and whether a running `poll --daemon` can do
 * the work. Shared by bbgitops and bbgitops-hook.
 */
#include "hook_front.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hook_handoff.h"
#include "log.h"
#include "util.h"

const char *
hook_git_dir(void)
{
	const char *git_dir = getenv("GIT_DIR");

	return git_dir != NULL && git_dir[0] != '\0' ? git_dir : ".";
}

int
hook_find_entries(const struct config *cfg, const char *git_dir, bool *entry_here)
{
	struct stat here, st;
	size_t j;
	int n = 0;

	if (stat(git_dir, &here) != 0)
		return -1;
	for (j = 0; j < cfg->n_repos; j++) {
		const char *path = cfg->repos[j].path;

		entry_here[j] = path != NULL && stat(path, &st) == 0 && st.st_dev == here.st_dev &&
			st.st_ino == here.st_ino;
		n += entry_here[j];
	}
	return n;
}

int
hook_select(const struct config *cfg, const char *git_dir, const struct ref_update *updates, size_t n_updates,
	struct hook_work *work)
{
	bool *entry_here = xcalloc(cfg->n_repos + 1, sizeof(*entry_here));
	int n_entries = hook_find_entries(cfg, git_dir, entry_here);
	size_t i, j;

	memset(work, 0, sizeof(*work));
	if (n_entries < 0) {
		log_warn("cannot find the repository at %s", git_dir);
		free(entry_here);
		return -1;
	}
	if (n_entries > 0)
		work->items = xcalloc(n_updates * (size_t)n_entries + 1, sizeof(*work->items));
	for (i = 0; i < n_updates && n_entries > 0; i++) {
		const char *branch;

		if (!str_starts_with(updates[i].ref, "refs/heads/"))
			continue;   /* tags and other refs never carry rollouts */
		branch = updates[i].ref + strlen("refs/heads/");
		for (j = 0; j < cfg->n_repos; j++) {
			if (!entry_here[j] || !config_branch_matches(&cfg->repos[j], branch))
				continue;
			work->items[work->n_items++] = (struct hook_item){ &cfg->repos[j], &updates[i], branch };
			if (str_is_zero_oid(updates[i].old_hex))
				work->creates_branch = true;
		}
	}
	free(entry_here);
	return 0;
}

void
hook_work_free(struct hook_work *work)
{
	free(work->items);
	memset(work, 0, sizeof(*work));
}

int
hook_offer(const struct config *cfg, const char *git_dir, const struct ref_update *updates, size_t n_updates,
	const struct hook_work *work)
{
	if (work->n_items == 0 || work->creates_branch)
		return -1;
	return hook_hand_off(cfg, git_dir, updates, n_updates);
}

int
hook_load_config(const struct cli *cli, struct config **out)
{
	struct strlist errors = STRLIST_INIT;
	int rv = 0;

	if (config_load(cli->config_path, out, &errors) != 0) {
		log_warnx("configuration error, nothing queued: %s%s", errors.len ? errors.items[0] : "unknown",
			errors.len > 1 ? " (and more: run bbgitops check-config)" : "");
		rv = -1;
	}
	strlist_clear(&errors);
	return rv;
}
