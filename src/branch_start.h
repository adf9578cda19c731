/*
 * branch_start.h — where the catch-up of a branch a push created begins (design §3, "branch created"), written
 * down before any state work: in the repository directory, so neither the state lock, an unusable state_dir nor
 * a killed hook can lose it. Whoever later finds the branch without a cursor (the next hook, a poll) starts there.
 */
#ifndef BBGITOPS_BRANCH_START_H
#define BBGITOPS_BRANCH_START_H

#include <stdbool.h>

#include <git2.h>

#include "error.h"

struct branch_start {
	git_oid tip;          /* the tip the push created the branch at */
	bool from_root;       /* the push brought the whole history */
	git_oid from;         /* otherwise: the newest first-parent commit the repository had before the push */
};

/*
 * Records START for (entry, branch) of REPO: a small file under GIT_DIR/bbgitops/starts/, replaced atomically
 * (rename). No fsync: it guards against a dying hook, not a dying machine.
 */
int branch_start_write(git_repository *repo, const char *entry, const char *branch,
	const struct branch_start *start, struct error *err);

/* The record of (entry, branch); *found false when there is none (or it is unreadable: then it is removed). */
int branch_start_read(git_repository *repo, const char *entry, const char *branch, struct branch_start *start,
	bool *found, struct error *err);

/*
 * Removes the record of (entry, branch), if any; with ONLY non-NULL, only when it still holds ONLY's tip (a newer
 * push may have replaced it meanwhile).
 */
void branch_start_remove(git_repository *repo, const char *entry, const char *branch,
	const struct branch_start *only);

#endif
