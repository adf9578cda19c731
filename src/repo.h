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

/* Frees what repo_raw_tree_changes returned. */
void repo_changes_free(struct repo_change *changes, size_t n);

/* The id of BASE's subtree in COMMIT; *exists false when the commit has no such directory. */
int repo_base_tree_id(const git_commit *commit, const char *base, git_oid *out,
	bool *exists, struct error *err);

/*
 * The raw readers below go to the object database directly, as git's own walkers do: no parsed commit or tree
 * objects, no per-entry allocations. They serve the long walks (backfill, catch-up) where libgit2's object parsing
 * dominated the time.
 */

/* The tree and first parent of COMMIT; *has_parent false for a root commit. */
int repo_raw_commit(git_odb *odb, const git_oid *commit, git_oid *tree, git_oid *parent, bool *has_parent,
	struct error *err);

/* The id of the subtree at BASE ("" = TREE itself, "a/b" descends); *exists false when there is none. */
int repo_raw_subtree(git_odb *odb, const git_oid *tree, const char *base, git_oid *out, bool *exists,
	struct error *err);

/*
 * The last two raw trees read, so a walk comparing each commit's base tree with its parent's reads every tree once
 * (libgit2 caches no tree over 4 KiB, and a large base directory's tree is then re-inflated from its delta chain).
 * REPO_TREE_CACHE_INIT is empty; repo_tree_cache_clear releases it.
 */
struct repo_tree_cache {
	git_oid id[2];
	git_odb_object *obj[2];
	unsigned next;
};
#define REPO_TREE_CACHE_INIT { .next = 0 }
void repo_tree_cache_clear(struct repo_tree_cache *cache);
/* Reads tree ID into CACHE ahead of a walk that will compare it (the older of the two cached trees makes room). */
int repo_tree_cache_load(git_odb *odb, struct repo_tree_cache *cache, const git_oid *id, struct error *err);

/*
 * The regular files of tree NOW that are new or changed against tree BEFORE (NULL: everything is new), walking
 * both trees' entries in lockstep. Only NOW's immediate entries count. CACHE may be NULL.
 * *out is an array of *n changes in tree order (free with repo_changes_free).
 */
int repo_raw_tree_changes(git_odb *odb, struct repo_tree_cache *cache, const git_oid *now, const git_oid *before,
	struct repo_change **out, size_t *n, struct error *err);

/* The size of blob ID, from its header (the content is not read). */
int repo_blob_size(git_repository *repo, const git_oid *id, size_t *size, struct error *err);

/* Blob contents, copied into a new buffer (caller frees). */
int repo_read_blob(git_repository *repo, const git_oid *id, void **data, size_t *len, struct error *err);

/* Peels an object id (commit, or annotated tag) to a commit id. */
int repo_peel_commit(git_repository *repo, const git_oid *id, git_oid *out, struct error *err);

/* Does the object exist in the repository's object database? */
bool repo_has_object(git_repository *repo, const git_oid *id);

/*
 * Calls fn(name, arg) once for every ref name of the repository ("refs/..."; loose, then packed; HEAD is not a ref
 * here), stopping at the first non-zero return, which it returns. Only the names are listed: git's own files
 * (readdir and packed-refs) give them without opening each loose ref, so a caller that needs the values of a few
 * refs among 100,000 pays for those few (git_revwalk_hide_ref, git_reference_name_to_id read them).
 */
int repo_ref_names(git_repository *repo, int (*fn)(const char *name, void *arg), void *arg, struct error *err);

#endif
