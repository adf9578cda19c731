/*
 * walk.h — the commit walks of the engine, in the git layer (libgit2 only, no state): the first-parent commits a
 * tip brings over some stops (a cursor, a push's starting point) or over the repository's other refs as they were
 * before a push, newest first, each with the id of its base directory's subtree.
 */
#ifndef BBGITOPS_WALK_H
#define BBGITOPS_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "error.h"

/* A ref updated by a push, with its value before the push (so "other refs" mean the repository before it). */
struct walk_pushed_ref {
	const char *ref_name;
	git_oid old;
	bool old_is_zero;
};

/* Every ref of the repository but one, as it was before a push: the pushed ones count with their old value. */
struct walk_other_refs {
	const char *except;                       /* full name of the branch itself */
	const struct walk_pushed_ref *pushed;     /* may be NULL */
	size_t n_pushed;
};

/* One first-parent commit and the id of its base directory's subtree. */
struct walk_commit {
	git_oid id;
	git_oid base;
	bool has_base;
};

/* First-parent commits, newest first, and what lies just below the oldest one. */
struct walk_list {
	struct walk_commit *items;
	size_t len;
	size_t cap;
	bool has_boundary;      /* the walk stopped at a boundary commit (not at the root) */
	git_oid boundary_id;
	git_oid boundary_base;  /* that commit's base subtree id */
	bool boundary_has_base;
};

struct walk_request {
	const git_oid *tip;
	const char *base;                          /* the base directory ("" = the root) */
	const git_oid *stops[2];                   /* commits whose history is not counted (NULL entries ignored) */
	size_t n_stops;
	const struct walk_other_refs *other_refs;  /* non-NULL: hide every other ref instead of the stops */
	void (*progress)(size_t commits_done, void *arg);   /* optional, called every 1000 commits */
	void *progress_arg;
};

/*
 * The first-parent commits of req->tip not reachable from the stops (or from the other refs). Fast path: walk
 * first parents until a stop (a fast-forward). When the walk reaches the root without meeting one (a forced
 * update, a merge that moved the stop off the first-parent line) — and always with other_refs, read once,
 * linearly — compute the exact set with a revwalk and walk again within it. Free *out with walk_list_free.
 */
int walk_first_parent_commits(git_repository *repo, const struct walk_request *req, struct walk_list *out,
	struct error *err);
void walk_list_free(struct walk_list *l);

#endif
