/*
 * remote.h — remote repositories for the poller and backfill: a full bare mirror per `url` entry under
 * STATE_DIR/mirrors/NAME.git, a cheap listing (connect + ls) before any fetch, credentials per provider, a
 * deadline on every network operation (libgit2 1.5 has none), and cursor pins that keep gc from pruning cursors.
 */
#ifndef BBGITOPS_REMOTE_H
#define BBGITOPS_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include <git2.h>

#include "config.h"
#include "error.h"

/* Private namespace of the mirror holding one ref per cursor ("refs/bbgitops/cursors/main"). */
#define REMOTE_CURSOR_REFS "refs/bbgitops/cursors/"

/*
 * Set by the caller's signal handler when the process must stop: every network operation in progress is then
 * cancelled from its progress callbacks (and by EINTR in blocking socket calls). May be NULL.
 */
extern volatile int *remote_stop_flag;

/* Unsets GIT_DIR and the other variables through which git's environment could redirect libgit2. */
void remote_clear_git_env(void);

/* STATE_DIR/mirrors/NAME.git (NAME escaped so that it is one path component). Caller frees. */
char *remote_mirror_path(const char *state_dir, const char *name);

/* What remote_update did. */
struct remote_update_result {
	bool created;        /* the mirror did not exist and was created */
	bool fetched;        /* a watched branch had moved (or was new or gone): the mirror was fetched */
	size_t moved;        /* watched branches that differed between the remote and the mirror */
};

/*
 * Under remote_lock_mirror: opens (creating when missing) the mirror of RC (rc->url must be set) under STATE_DIR, lists the remote's branches
 * and fetches (all branches, pruning deleted ones) only when a watched branch differs from the mirror. Every
 * network step is cancelled after TIMEOUT seconds (0: none). On success *out is the opened mirror (caller frees).
 * Errors name the repository and carry libgit2's message; a rejected credential fails after one attempt.
 */
int remote_update(const char *state_dir, const struct repo_config *rc, long timeout, git_repository **out,
	struct remote_update_result *res, struct error *err);

/* Opens the existing mirror of RC without touching the network; *exists false (and *out NULL) when absent. */
int remote_open_mirror(const char *state_dir, const struct repo_config *rc, git_repository **out, bool *exists,
	struct error *err);

/*
 * Takes the mirror of RC for writing: an flock on STATE_DIR/mirrors/NAME.lock, waited for up to TIMEOUT seconds
 * (0: 30), then removes what a writer killed while holding it left in the mirror (git's lock files, libgit2's
 * temporary packs, a half-made mirror). Every write of a mirror (remote_update, remote_pin_cursor) happens under
 * it. Returns the lock's descriptor for remote_unlock_mirror, or -1 with err set (transient when busy).
 */
int remote_lock_mirror(const char *state_dir, const struct repo_config *rc, long timeout, struct error *err);
void remote_unlock_mirror(int fd);

/* Points REMOTE_CURSOR_REFS<branch> at ID (NULL: deletes the pin). */
int remote_pin_cursor(git_repository *mirror, const char *branch, const git_oid *id, struct error *err);

/* Removes the directory tree PATH (symbolic links are not followed): 0, or -1. */
int remote_rmtree(const char *path);

/* URL with any user:password@ part removed, for messages and status. Caller frees. */
char *remote_redact_url(const char *url);

/* URL with the ":password" of its user:password@ part removed (the user stays), as stored in the mirror. */
char *remote_url_without_password(const char *url);

/*
 * The percent-decoded user and password of a scheme://user:password@host/ URL, handed to libgit2 through the
 * credential callback only. Returns 1 and two new strings (caller wipes and frees), or 0 and NULLs when none.
 */
int remote_url_credentials(const char *url, char **user, char **password);

#endif
