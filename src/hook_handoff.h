/*
 * hook_handoff.h — the post-receive hook handing its work to a running `poll --daemon`, over the Unix socket
 * <state_dir>/hook.sock. A hook process spends most of its time starting libgit2 (which parses the whole CA
 * bundle) and SQLite; the daemon's hook server has both started and forks a worker per push that runs the very
 * same code (hook_post_receive), its stderr being the socket. The hook relays what the worker printed. Anything
 * but a finished answer (no daemon, a stale socket, a stopped or busy daemon, another configuration, a worker that
 * died) and the hook does the work itself: catching up twice is harmless (the ledger and cursors see to it).
 *
 * The protocol, one text line each: the hook sends "bbgitops-hook 1", "config PATH", "git_dir PATH", one
 * "OLD NEW REF" per ref update and "."; the server answers "ok" (then the worker's output and the line
 * HOOK_HANDOFF_DONE) or "declined REASON".
 *
 * With hook.handoff = "detach" (both sides read it from the one configuration the server checked) the hook
 * returns at "ok" and the worker closes the socket: the push does not wait for the work, and what the worker
 * would have told the pusher goes to the daemon's log instead. Nothing is lost if the worker then dies: the
 * branch's cursor moves only in the transaction that queues the issues, and the daemon's next cycle catches the
 * branch up from it.
 */
#ifndef BBGITOPS_HOOK_HANDOFF_H
#define BBGITOPS_HOOK_HANDOFF_H

#include <stddef.h>

#include "config.h"
#include "hook_front.h"

#define HOOK_HANDOFF_SOCKET "hook.sock"
#define HOOK_HANDOFF_HELLO "bbgitops-hook 1"
#define HOOK_HANDOFF_DONE "\001bbgitops-hook-done"
#define HOOK_HANDOFF_MAX_REQUEST (4 * 1024 * 1024)

/* <state_dir>/hook.sock as a new string, or NULL when it would not fit in a socket address. */
char *hook_handoff_socket_path(const char *state_dir);

/*
 * Offers the push to the daemon serving <state_dir>/hook.sock. Returns 0 when the daemon did the work (its
 * output is on our stderr) or, detached, took it; -1 when the caller must do it.
 */
int hook_hand_off(const struct config *cfg, const char *git_dir, const struct ref_update *updates, size_t n);

#endif
