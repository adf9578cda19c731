/*
 * launch.h — how bbgitops starts bbgitops-deliver, its network half (libcurl lives only there): one argv builder
 * and three ways to run it. The helper is found in LIBEXECDIR (configure's $(pkglibexecdir)), or in
 * $BBGITOPS_EXEC_PATH when that is set (tests and the in-tree build), the way git finds git-remote-https.
 */
#ifndef BBGITOPS_LAUNCH_H
#define BBGITOPS_LAUNCH_H

#include <stddef.h>

#include "config.h"
#include "deliver.h"
#include "error.h"
#include "log.h"
#include "util.h"

#define LAUNCH_DELIVER_NAME "bbgitops-deliver"
#define LAUNCH_HOOK_NAME "bbgitops-hook"

/* The helper program NAME: $BBGITOPS_EXEC_PATH/NAME if the variable is set and not empty, else LIBEXECDIR/NAME.
 * Caller frees. */
char *launch_helper_path(const char *name);

/* The helper's path: $BBGITOPS_EXEC_PATH/bbgitops-deliver if the variable is set and not empty, else
 * LIBEXECDIR/bbgitops-deliver. Caller frees. */
char *launch_deliver_path(void);

/*
 * The one argv builder (pure): EXE -c CONFIG [-v|-q] deliver [--now] [--retry ID] [--skip ID]
 * [--deadline SECONDS] into argv (owned strings, NULL-terminated: argv->items[argv->len - 1] is NULL).
 * LEVEL is the caller's verbosity; opts->deadline (a time_monotonic() value, 0: none) becomes the seconds left
 * after NOW, at least 0.001. opts->wait_for_lock is not passed: the child derives it from --now/--retry/--skip.
 */
void launch_deliver_argv(struct strlist *argv, const char *exe, const char *config, enum log_level level,
	const struct deliver_options *opts, double now);

/* `bbgitops deliver ARGS...`: replaces this process by the helper with ARGS passed through unchanged. Returns
 * -1 with err set only when the exec failed. */
int launch_deliver_exec(const char *config, char *const *args, size_t n_args, struct error *err);

/* The same for any command of the helper (`bbgitops doctor ARGS...` needs libcurl too). */
int launch_helper_exec(const char *config, const char *command, char *const *args, size_t n_args,
	struct error *err);

/*
 * Runs the helper and waits for it (hook.deliver inline, and after a poll). The helper stops starting calls at
 * opts->deadline itself; past the deadline plus a short grace it is stopped (SIGTERM, then SIGKILL: delivery is
 * crash-safe and the next run resumes). Returns the helper's status as deliver_run does (0 everything due was
 * delivered, 1 some issue failed or waits), or -1 with err set.
 */
int launch_deliver_wait(const struct config *cfg, const struct deliver_options *opts, struct error *err);

/*
 * Starts the helper fully detached (hook.deliver background): double fork, setsid, stdio on /dev/null, every other
 * descriptor closed, so the pusher (git waits for every holder of the hook's stdout/stderr) returns at once.
 * Returns 0 once the helper was exec'd, -1 with err set (the helper could not be run, or fork failed).
 */
int launch_deliver_detached(const char *config, struct error *err);

#endif
