/*
 * hook_server.h — the daemon's side of the hook hand-off (hook_handoff.h): a child process of `poll --daemon`
 * that has libgit2 started, listens on <state_dir>/hook.sock and forks one worker per push, which runs the
 * post-receive hook's own code with the socket as its stderr.
 */
#ifndef BBGITOPS_HOOK_SERVER_H
#define BBGITOPS_HOOK_SERVER_H

#include <sys/types.h>

#include "cli.h"
#include "config.h"

/*
 * Forks the hook server for CFG (loaded from cli->config_path). Returns its pid, or -1 (logged: the hooks then
 * do their work themselves). Call with no SQLite connection open: none may cross the fork.
 */
pid_t hook_server_start(const struct cli *cli, const struct config *cfg);

/* Stops the server PID (-1 is fine) and waits for it; it removes its socket. */
void hook_server_stop(pid_t pid);

/* Has the server PID exited (reaped now)? */
bool hook_server_exited(pid_t pid);

#endif
