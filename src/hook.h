/*
 * hook.h — what the post-receive and pre-receive hooks share: the ref-update lines git writes on stdin, and
 * finding the configured entries that name this repository.
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

struct ref_update {
	char old_hex[GIT_OID_HEXSZ + 1];
	char new_hex[GIT_OID_HEXSZ + 1];
	char *ref;
};

/*
 * Reads all of IN (a hook must, even with nothing to do). Lines that are not "OLD NEW REF" are skipped and
 * reported together in one warning (hook_input.c).
 */
size_t hook_read_updates(FILE *in, struct ref_update **out);
void hook_updates_free(struct ref_update *updates, size_t n);

/* Every ref of the push with its value before it, for the engine (new array, caller frees; refs borrowed). */
struct walk_pushed_ref *hook_pushed_refs(const struct ref_update *updates, size_t n);

/* $GIT_DIR, or "." (git runs hooks inside the repository). */
const char *hook_git_dir(void);

/*
 * Marks in entry_here[] (cfg->n_repos booleans) the entries whose path is the repository at GIT_DIR (same
 * device and inode: symlinks and spellings do not matter). Returns how many, or -1 when GIT_DIR cannot be read.
 */
int hook_find_entries(const struct config *cfg, const char *git_dir, bool *entry_here);

/*
 * The post-receive hook's work for UPDATES into the repository at GIT_DIR: catch up every watched branch that
 * moved, tell the pusher on stderr. MAY_HAND_OFF: first offer the work to a running `poll --daemon`
 * (hook_handoff.h). Returns -1 when GIT_DIR cannot be read, else 0 (problems are reported, never fatal).
 */
int hook_post_receive(const struct cli *cli, const struct config *cfg, const char *git_dir,
	const struct ref_update *updates, size_t n_updates, bool may_hand_off);

#endif
