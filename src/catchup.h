/*
 * catchup.h — the one engine (design §3): catch a watched branch up to a tip, turning each first-parent commit that
 * adds or modifies migration files into a rollout issue, deduplicated by the ledger, cursor moved in the same
 * BEGIN IMMEDIATE transaction. Used by the post-receive hook and the poller; catchup_replay serves backfill.
 */
#ifndef BBGITOPS_CATCHUP_H
#define BBGITOPS_CATCHUP_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "config.h"
#include "error.h"
#include "repo.h"
#include "state.h"
#include "walk.h"

enum catchup_origin { CATCHUP_HOOK, CATCHUP_POLL };

struct catchup_request {
	const struct repo_config *repo;
	const char *branch;          /* short name: "main", "release/1.0" */
	const git_oid *tip;          /* new tip (already peeled to a commit); NULL: the branch was deleted */
	const git_oid *old;          /* hook: git's old id; NULL when unknown */
	bool created;                /* hook: git's old id was all zeros (branch created by this push) */
	const char *ref_name;        /* full ref name of the branch ("refs/heads/main"), to exclude on creation */
	const struct walk_pushed_ref *pushed;   /* hook: every ref of the push (may be NULL) */
	size_t n_pushed;
	enum catchup_origin origin;
	const char *status;          /* status of new issues: "local" (no Bytebase) or "pending" */
	long max_size;               /* max_migration_size: a larger file makes its issue "failed"; 0: no limit */
	struct repo_tree_cache *trees;   /* base trees read ahead (a hook server's worker), used and kept; NULL: none */
};

struct catchup_result {
	size_t commits;              /* first-parent commits examined */
	size_t migrations;           /* migration files queued */
	size_t issues;               /* rollout issues queued */
	bool rebaselined;            /* the cursor's commit was missing: cursor reset to the tip, warning recorded */
	bool baseline_only;          /* first poll with start = "tip": cursor set, nothing reported */
	bool deleted;                /* branch deleted: cursor dropped */
	bool cursor_set;             /* cursor holds `cursor` after the call */
	git_oid cursor;
	size_t oversized;            /* migration files over max_size: their issues were queued as "failed" */
	char oversized_path[256];    /* the first of them (truncated) */
};

/*
 * The hook, before any state work, for a branch the push created (req->created): records where its catch-up
 * begins — the newest first-parent commit the repository had before the push (branch_start.h) — unless
 * pre-receive already did for this tip. Reads the repository's refs once (linear in their number), outside any
 * state lock. Whoever later finds the branch without a cursor (this hook's catchup_branch, the next push, a poll)
 * catches up from there, so a hook killed or failing after this point loses nothing.
 */
int catchup_begin(git_repository *repo, const struct catchup_request *req, struct error *err);

/*
 * Catches (repo, branch) up to req->tip inside one BEGIN IMMEDIATE transaction: from the cursor; without one, from
 * the branch's start record; without that, a hook counts what the push brought and a poll watches from the tip.
 */
int catchup_branch(struct state *st, git_repository *repo, const struct catchup_request *req,
	struct catchup_result *res, struct error *err);

struct replay_request {
	const struct repo_config *repo;
	const char *branch;
	const git_oid *from;         /* exclusive; NULL: from the root */
	const git_oid *to;           /* inclusive tip */
	bool dry_run;                /* write nothing */
	const char *status;          /* status of new issues */
	long max_size;               /* as in catchup_request */
	void (*progress)(size_t commits_done, void *arg);   /* optional, called now and then while scanning */
	void *progress_arg;
};

/*
 * Replays the first-parent commits in (from, to]: issues for migrations the ledger has not seen. Never moves a
 * cursor. Calls on_issue (may be NULL) for each issue queued — or that would be, in a dry run (id 0, status NULL)
 * — oldest first, with a record it owns: it may keep the contents (moving them out and leaving the record zeroed);
 * what it leaves is freed after the call. A non-zero return from on_issue stops the replay with that value.
 */
int catchup_replay(struct state *st, git_repository *repo, const struct replay_request *req,
	int (*on_issue)(struct state_issue *issue, void *arg), void *arg, struct catchup_result *res,
	struct error *err);

/*
 * The commit below the first-parent commits a push brings to a branch (req: tip, old or created, ref_name,
 * pushed): what the branch's base directory looked like before the push. *has_boundary false: the push brings
 * the whole history (compare against nothing).
 */
int catchup_push_boundary(git_repository *repo, const struct catchup_request *req, git_oid *boundary,
	bool *has_boundary, struct error *err);

#endif
