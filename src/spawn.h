/*
 * spawn.h — starting the deliverer detached from the hook: double fork, setsid, stdio on /dev/null, every other
 * descriptor closed, so that the pusher never waits for it (platform notes: git waits for every holder of the
 * hook's stdout/stderr).
 */
#ifndef BBGITOPS_SPAWN_H
#define BBGITOPS_SPAWN_H

/* Runs `SELF_EXE -c CONFIG_PATH -q deliver` detached. Returns 0 once the intermediate child has exited. */
int spawn_detached_deliver(const char *self_exe, const char *config_path);

#endif
