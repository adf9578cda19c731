/*
 * hook_warm.c — the waiting worker's read-ahead (hook_warm.h): the last moved cursors, their repositories opened
 * and the base trees at those cursors read into a tree cache that the push's catch-up then compares against.
 */
#include "hook_warm.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

struct recent {
	char *repository[HOOK_WARM_CURSORS];
	char *commit[HOOK_WARM_CURSORS];
	size_t n;
};

static void
add_recent(const char *repository, const char *commit_hex, void *arg)
{
	struct recent *r = arg;

	if (r->n < HOOK_WARM_CURSORS && repository != NULL && commit_hex != NULL) {
		r->repository[r->n] = xstrdup(repository);
		r->commit[r->n] = xstrdup(commit_hex);
		r->n++;
	}
}

/*
 * The repository at the real path of ENTRY's path, opened ahead or opened now; NULL when it cannot be. There is
 * room for it: one repository at most per cursor read.
 */
static git_repository *
warm_repo(struct hook_warm *warm, const struct repo_config *entry)
{
	struct error err = ERROR_INIT;
	char real[PATH_MAX];
	git_repository *git;
	struct stat sb;
	size_t i;

	if (entry->path == NULL || realpath(entry->path, real) == NULL || stat(real, &sb) != 0)
		return NULL;
	for (i = 0; i < warm->n_repos; i++)
		if (strcmp(warm->repos[i].git_dir, real) == 0)
			return warm->repos[i].git;
	if (repo_open(real, &git, &err) != 0) {
		log_debug("hook worker: not reading ahead in %s: %s", entry->name, err.msg);
		return NULL;
	}
	warm->repos[warm->n_repos].git_dir = xstrdup(real);
	warm->repos[warm->n_repos].dev = sb.st_dev;
	warm->repos[warm->n_repos].ino = sb.st_ino;
	warm->repos[warm->n_repos].git = git;
	warm->n_repos++;
	return git;
}

/* Reads the base tree of ENTRY at COMMIT_HEX into the cache. */
static void
warm_tree(struct hook_warm *warm, git_repository *git, const struct repo_config *entry, const char *commit_hex)
{
	struct error err = ERROR_INIT;
	git_oid commit, tree, parent, base;
	bool has_parent, exists;
	git_odb *odb = NULL;

	if (git_oid_fromstr(&commit, commit_hex) < 0 || git_repository_odb(&odb, git) < 0)
		return;
	if (repo_raw_commit(odb, &commit, &tree, &parent, &has_parent, &err) == 0 &&
	    repo_raw_subtree(odb, &tree, entry->base_directory, &base, &exists, &err) == 0 && exists)
		(void)repo_tree_cache_load(odb, &warm->trees, &base, &err);
	if (err.msg[0])
		log_debug("hook worker: not reading ahead in %s: %s", entry->name, err.msg);
	git_odb_free(odb);
}

void
hook_warm_prepare(struct hook_warm *warm, const struct config *cfg, struct state *st)
{
	struct error err = ERROR_INIT;
	struct recent recent = { .n = 0 };
	size_t i;

	if (st == NULL || state_cursors_recent(st, HOOK_WARM_CURSORS, add_recent, &recent, &err) != 0) {
		if (err.msg[0])
			log_debug("hook worker: not reading ahead: %s", err.msg);
		goto out;
	}
	for (i = 0; i < recent.n; i++) {
		const struct repo_config *entry = config_find_repo(cfg, recent.repository[i]);
		git_repository *git = entry != NULL ? warm_repo(warm, entry) : NULL;

		if (git != NULL)
			warm_tree(warm, git, entry, recent.commit[i]);
	}
	if (warm->n_repos > 0)
		log_debug("hook worker: read ahead in %zu repositor%s", warm->n_repos, warm->n_repos == 1 ? "y" : "ies");
out:
	for (i = 0; i < recent.n; i++) {
		free(recent.repository[i]);
		free(recent.commit[i]);
	}
}

git_repository *
hook_warm_take_repo(struct hook_warm *warm, const char *git_dir)
{
	git_repository *git;
	struct stat sb;
	size_t i;

	for (i = 0; i < warm->n_repos; i++) {
		if (warm->repos[i].git == NULL || strcmp(warm->repos[i].git_dir, git_dir) != 0)
			continue;
		if (stat(git_dir, &sb) != 0 || sb.st_dev != warm->repos[i].dev || sb.st_ino != warm->repos[i].ino) {
			log_debug("hook worker: %s was replaced since it was opened ahead", git_dir);
			return NULL;
		}
		git = warm->repos[i].git;
		warm->repos[i].git = NULL;
		return git;
	}
	return NULL;
}
