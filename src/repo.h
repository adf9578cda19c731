/*
 * repo.h — libgit2 access: library start-up (hardened, once), opening a repository, the base directory's subtree
 * of a commit, the migration-file changes of a commit against its first parent (subtree ids compared first; only
 * the base directory's immediate entries are read — never a whole-tree diff), and blob contents.
 */
#ifndef BBGITOPS_REPO_H
#define BBGITOPS_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "error.h"

/*
 * git_libgit2_init once per process, then: no user/system/XDG gitconfig, owner validation off (the poller may run
 * as another user than the repository owner), a bounded number of open pack files. Costs ~5 ms (CA bundle):
 * call it only once git work is certain.
 */
int repo_library_init(struct error *err);
void repo_library_shutdown(void);

/* Fills err with the message and libgit2's last error; returns -1. */
int repo_error(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the repository at PATH exactly (bare or not; no discovery, no environment). */
int repo_open(const char *path, git_repository **out, struct error *err);

/* One added or modified entry directly under the base directory. */
struct repo_change {
	char *name;       /* file name, no directory */
	git_oid blob;
};

/*
 * The blobs directly under BASE (normalized, "" = root) in COMMIT that are new or changed against PARENT's
 * (NULL parent: everything counts as added). Only regular (and executable) files; deletions are ignored.
 * *out is an array of *n changes in name order (free with repo_changes_free).
 */
int repo_base_changes(git_repository *repo, const git_commit *commit, const git_commit *parent, const char *base,
	struct repo_change **out, size_t *n, struct error *err);
void repo_changes_free(struct repo_change *changes, size_t n);

/* The id of BASE's subtree in COMMIT; *exists false when the commit has no such directory. */
int repo_base_tree_id(git_repository *repo, const git_commit *commit, const char *base, git_oid *out,
	bool *exists, struct error *err);

/* Blob contents, copied into a new buffer (caller frees). */
int repo_read_blob(git_repository *repo, const git_oid *id, void **data, size_t *len, struct error *err);

/* Peels an object id (commit, or annotated tag) to a commit id. */
int repo_peel_commit(git_repository *repo, const git_oid *id, git_oid *out, struct error *err);

/* Does the object exist in the repository's object database? */
bool repo_has_object(git_repository *repo, const git_oid *id);

#endif
