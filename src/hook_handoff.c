/*
 * hook_handoff.c — the hook's side of the hand-off to a running `poll --daemon` (protocol in hook_handoff.h):
 * connect without blocking, send the push, wait briefly for "ok", then for the worker's whole answer, and relay
 * it to the pusher (with hook.handoff = "detach", return at "ok"). Every failure is silent and means "do it
 * yourself"; only --verbose says why.
 */
#include "hook_handoff.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* How long the daemon has to say "ok": it only has to fork. A stopped or swamped daemon is not waited for. */
#define HANDOFF_GREETING_SECONDS 2.0
/* How long the worker may take: as long as the hook itself could (lock waits, an inline delivery). */
#define HANDOFF_ANSWER_SECONDS 900.0
/* The most of the worker's output kept for the pusher. */
#define HANDOFF_MAX_ANSWER (1024 * 1024)

char *
hook_handoff_socket_path(const char *state_dir)
{
	struct sockaddr_un sun;
	char *path = xasprintf("%s/%s", state_dir, HOOK_HANDOFF_SOCKET);

	if (strlen(path) >= sizeof(sun.sun_path)) {
		free(path);
		return NULL;
	}
	return path;
}

/* Waits until FD is ready for EVENTS or DEADLINE (time_monotonic) passes: 0 ready, -1 not. */
static int
wait_fd(int fd, short events, double deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		double left = deadline - time_monotonic();
		int rc;

		if (left <= 0)
			return -1;
		rc = poll(&p, 1, (int)(left * 1000.0) + 1);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

static int
send_all(int fd, const char *buf, size_t len, double deadline)
{
	while (len > 0) {
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

		if (w > 0) {
			buf += w;
			len -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) != 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/*
 * Reads into SB until a newline (UNTIL_LINE) or the end of the stream, before DEADLINE; SB keeps at most
 * HANDOFF_MAX_ANSWER bytes. 0 when that was reached, -1 on a timeout or an error.
 */
static int
receive(int fd, struct sbuf *sb, bool until_line, double deadline)
{
	char buf[4096];

	for (;;) {
		ssize_t r;

		if (until_line && memchr(sbuf_str(sb), '\n', sb->len) != NULL)
			return 0;
		r = recv(fd, buf, sizeof(buf), 0);
		if (r == 0)
			return until_line ? -1 : 0;
		if (r > 0) {
			if (sb->len + (size_t)r <= HANDOFF_MAX_ANSWER)
				sbuf_add(sb, buf, (size_t)r);
		} else if (errno == EAGAIN || errno == EINTR) {
			if (wait_fd(fd, POLLIN, deadline) != 0)
				return -1;
		} else {
			return -1;
		}
	}
}

/* Connects to the daemon's socket without waiting: -1 when nobody listens there. */
static int
connect_daemon(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool
has_newline(const char *s)
{
	return strchr(s, '\n') != NULL;
}

int
hook_hand_off(const struct config *cfg, const char *git_dir, const struct ref_update *updates, size_t n)
{
	char config_real[PATH_MAX], git_dir_real[PATH_MAX];
	struct sbuf request = SBUF_INIT, answer = SBUF_INIT;
	size_t done_len = strlen(HOOK_HANDOFF_DONE "\n"), i;
	char *path, *nl;
	double start;
	int fd = -1, rv = -1;

	path = hook_handoff_socket_path(cfg->state_dir);
	if (path == NULL || access(path, F_OK) != 0)
		goto out;
	if (realpath(cfg->file, config_real) == NULL || realpath(git_dir, git_dir_real) == NULL ||
	    has_newline(config_real) || has_newline(git_dir_real))
		goto out;
	fd = connect_daemon(path);
	if (fd < 0) {
		log_debug("hand-off: no daemon answers on %s: %s", path, strerror(errno));
		goto out;
	}
	sbuf_addf(&request, "%s\nconfig %s\ngit_dir %s\n", HOOK_HANDOFF_HELLO, config_real, git_dir_real);
	for (i = 0; i < n; i++)
		sbuf_addf(&request, "%s %s %s\n", updates[i].old_hex, updates[i].new_hex, updates[i].ref);
	sbuf_adds(&request, ".\n");
	start = time_monotonic();
	if (request.len > HOOK_HANDOFF_MAX_REQUEST ||
	    send_all(fd, request.buf, request.len, start + HANDOFF_GREETING_SECONDS) != 0 ||
	    receive(fd, &answer, true, start + HANDOFF_GREETING_SECONDS) != 0) {
		log_debug("hand-off: the daemon on %s did not answer", path);
		goto out;
	}
	nl = memchr(answer.buf, '\n', answer.len);
	if (nl - answer.buf != 2 || memcmp(answer.buf, "ok", 2) != 0) {
		log_debug("hand-off: %.*s", (int)(nl - answer.buf), answer.buf);
		goto out;
	}
	/* Detached: the worker has the push; what it queues or reports goes to the daemon's log and to status. */
	if (cfg->hook_handoff == HOOK_HANDOFF_DETACH) {
		rv = 0;
		goto out;
	}
	/* The greeting's line is dropped; the rest is the worker's output, then its last line. */
	memmove(answer.buf, nl + 1, answer.len - 3);
	answer.len -= 3;
	answer.buf[answer.len] = '\0';
	if (receive(fd, &answer, false, start + HANDOFF_ANSWER_SECONDS) == 0 && answer.len >= done_len &&
	    memcmp(answer.buf + answer.len - done_len, HOOK_HANDOFF_DONE "\n", done_len) == 0) {
		answer.len -= done_len;
		rv = 0;
	} else {
		log_debug("hand-off: the daemon's worker ended without finishing; doing the work here");
	}
	if (answer.len > 0) {
		fwrite(answer.buf, 1, answer.len, stderr);
		fflush(stderr);
	}
out:
	if (fd >= 0)
		close(fd);
	free(path);
	sbuf_release(&request);
	sbuf_release(&answer);
	return rv;
}
