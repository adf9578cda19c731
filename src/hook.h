/*
 * hook.h — the post-receive hook's work with libgit2 and the state, and what pre-receive shares with it (the
 * pushed refs for the engine). Reading the push and choosing what is watched is hook_front.h.
 */
#ifndef BBGITOPS_HOOK_H
#define BBGITOPS_HOOK_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

#include <git2.h>

#include "catchup.h"
#include "cli.h"
#include "config.h"
#include "hook_front.h"
#include "repo.h"
#include "state.h"

/* Every ref of the push with its value before it, for the engine (new array, caller frees; refs borrowed). */
struct walk_pushed_ref *hook_pushed_refs(const struct ref_update *updates, size_t n);

/*
 * The post-receive hook's work for UPDATES into the repository at GIT_DIR: catch up every watched branch that
 * moved, tell the pusher on stderr. MAY_HAND_OFF: first offer the work to a running `poll --daemon`
 * (hook_offer). Returns -1 when GIT_DIR cannot be read, else 0 (problems are reported, never fatal).
 */
int hook_post_receive(const struct cli *cli, const struct config *cfg, const char *git_dir,
	const struct ref_update *updates, size_t n_updates, bool may_hand_off);

/* What a hook server's worker (hook_server.c) had ready before the push arrived. */
struct hook_prepared {
	git_repository *git;              /* the push's repository, open (borrowed) */
	struct state *st;                 /* the state, open, or NULL (opened by the work); see below */
	struct repo_tree_cache *trees;    /* base trees read ahead (hook_warm.h), or NULL */
	bool detached;                    /* no pusher reads the output (the daemon's log does): name every entry */
};

/*
 * The same work, for a hook server's worker, with what it prepared. Never hands off. The state is left open in
 * PREP->st (NULL when it could not be opened or was closed for a delivery's fork), for the worker to close once it
 * has answered.
 */
int hook_post_receive_prepared(const struct cli *cli, const struct config *cfg, const char *git_dir,
	struct hook_prepared *prep, const struct ref_update *updates, size_t n_updates);

#endif
