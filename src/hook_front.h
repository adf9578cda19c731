/*
 * hook_front.h — the part of the post-receive hook that needs neither libgit2 nor SQLite: git's ref-update lines,
 * the configured entries that name this repository, the watched branches the push moved, and the offer of that
 * work to a running `poll --daemon` (hook_handoff.h). Both programs run it: bbgitops, and bbgitops-hook, the small
 * program the installed hook runs first so that a push handed to the daemon never pays for loading libgit2.
 */
#ifndef BBGITOPS_HOOK_FRONT_H
#define BBGITOPS_HOOK_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"
#include "config.h"

/* Hex digits of a SHA-1 object id, as git writes them on a hook's stdin. */
#define HOOK_OID_HEXSZ 40

/* Set by bbgitops-hook when it runs bbgitops after the daemon declined: bbgitops does not offer the push again. */
#define HOOK_OFFERED_ENV "BBGITOPS_HOOK_OFFERED"

struct ref_update {
	char old_hex[HOOK_OID_HEXSZ + 1];
	char new_hex[HOOK_OID_HEXSZ + 1];
	char *ref;
};

/*
 * Reads all of IN (a hook must, even with nothing to do). Lines that are not "OLD NEW REF" are skipped and
 * reported together in one warning (hook_input.c).
 */
size_t hook_read_updates(FILE *in, struct ref_update **out);
void hook_updates_free(struct ref_update *updates, size_t n);

/* $GIT_DIR, or "." (git runs hooks inside the repository). */
const char *hook_git_dir(void);

/*
 * Marks in entry_here[] (cfg->n_repos booleans) the entries whose path is the repository at GIT_DIR (same
 * device and inode: symlinks and spellings do not matter). Returns how many, or -1 when GIT_DIR cannot be read.
 */
int hook_find_entries(const struct config *cfg, const char *git_dir, bool *entry_here);

/* One watched branch of one entry that the push moved. */
struct hook_item {
	const struct repo_config *repo;
	const struct ref_update *update;
	const char *branch;
};

/* What a push asks of this repository's entries. */
struct hook_work {
	struct hook_item *items;
	size_t n_items;
	bool creates_branch;     /* some item is a branch this push created */
};

/*
 * The items of UPDATES into the repository at GIT_DIR: every (entry naming it, branch it watches) pair the push
 * moved. Returns 0 (n_items may be 0: nothing to do), or -1 when GIT_DIR cannot be read (reported).
 */
int hook_select(const struct config *cfg, const char *git_dir, const struct ref_update *updates, size_t n_updates,
	struct hook_work *work);
void hook_work_free(struct hook_work *work);

/*
 * Offers WORK to a running `poll --daemon`, unless that cannot help: a push that creates a watched branch records
 * where it begins inside the repository (branch_start.h), which the daemon's user may not be allowed to write.
 * Returns 0 when the daemon did the work, -1 when the caller must.
 */
int hook_offer(const struct config *cfg, const char *git_dir, const struct ref_update *updates, size_t n_updates,
	const struct hook_work *work);

/* Loads the hook's configuration; on an error tells the pusher in one line and returns -1 (nothing queued). */
int hook_load_config(const struct cli *cli, struct config **out);

#endif
