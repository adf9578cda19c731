/*
 * hook_warm.h — what a hook server's waiting worker reads ahead for the push it expects: the branches whose
 * cursors moved last are the likeliest to be pushed to next, and their next push compares its commits with the
 * base tree at the cursor. So, while no push waits, the worker opens those branches' repositories and reads those
 * base trees (a base directory of 3,000 migrations is a 185 KB tree to inflate). A guess that misses costs the
 * push nothing: a repository it did not open is opened then, a tree it did not read is read then.
 */
#ifndef BBGITOPS_HOOK_WARM_H
#define BBGITOPS_HOOK_WARM_H

#include <sys/types.h>

#include <git2.h>

#include "config.h"
#include "repo.h"
#include "state.h"

/* How many of the last moved cursors are read ahead: as many base trees as a repo_tree_cache holds. */
#define HOOK_WARM_CURSORS 2

struct hook_warm {
	struct {
		char *git_dir;               /* the repository's real path, as a hook names it */
		dev_t dev;                   /* and its directory's identity then: a repository replaced since is */
		ino_t ino;                   /* not the one opened */
		git_repository *git;
	} repos[HOOK_WARM_CURSORS];
	size_t n_repos;
	struct repo_tree_cache trees;
};
#define HOOK_WARM_INIT { .n_repos = 0, .trees = REPO_TREE_CACHE_INIT }

/*
 * Reads ahead for the cursors of ST that moved last (best effort: what fails is left to the push). What it holds
 * lives as long as the worker, which ends with _exit.
 */
void hook_warm_prepare(struct hook_warm *warm, const struct config *cfg, struct state *st);

/*
 * The repository at GIT_DIR (a real path) if it was opened ahead and is still the directory there: the caller
 * takes it; else NULL.
 */
git_repository *hook_warm_take_repo(struct hook_warm *warm, const char *git_dir);

#endif
