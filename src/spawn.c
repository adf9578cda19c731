/*
 * spawn.c — starting `bbgitops -c CONFIG -q deliver` fully detached from the hook: double fork so it is reparented
 * at once, setsid so no terminal or process group ties it to git, stdin/stdout/stderr on /dev/null and every other
 * descriptor closed, so the pusher (which waits for every holder of the hook's stdout/stderr) returns at once.
 * No SQLite or libgit2 handle is used between fork and exec: the child only closes descriptors and execs.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

/* Closes every descriptor from 3 up: close_range when the kernel has it, else one by one. */
static void
spawn_close_from_3(void)
{
	long max, fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1048576)
		max = 1048576;
	for (fd = 3; fd < max; fd++)
		close((int)fd);
}

/* In the grandchild: only async-signal-safe calls until exec. */
static void
spawn_exec(const char *self_exe, const char *config_path)
{
	char *const argv[] = { (char *)self_exe, (char *)"-c", (char *)config_path, (char *)"-q", (char *)"deliver",
		NULL };
	int fd;

	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		_exit(127);
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(127);
	spawn_close_from_3();
	execv(self_exe, argv);
	_exit(127);
}

int
spawn_detached_deliver(const char *self_exe, const char *config_path)
{
	struct sigaction sa_dfl;
	sigset_t all, old;
	pid_t pid, w;
	int status;

	if (self_exe == NULL || config_path == NULL) {
		log_warnx("cannot start the deliverer: %s unknown", self_exe == NULL ? "own path" : "config path");
		return -1;
	}
	/* No signal handler of ours may run in the children before exec. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		log_warn("cannot start the deliverer: fork");
		return -1;
	}
	if (pid == 0) {
		memset(&sa_dfl, 0, sizeof(sa_dfl));
		sa_dfl.sa_handler = SIG_DFL;
		sigaction(SIGPIPE, &sa_dfl, NULL);
		sigaction(SIGHUP, &sa_dfl, NULL);
		sigaction(SIGCHLD, &sa_dfl, NULL);
		if (setsid() < 0)
			_exit(1);
		pid = fork();
		if (pid < 0)
			_exit(1);
		if (pid > 0)
			_exit(0);
		/* The grandchild: no session leader, so it can never reacquire a controlling terminal. */
		sigprocmask(SIG_SETMASK, &old, NULL);
		spawn_exec(self_exe, config_path);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	do {
		w = waitpid(pid, &status, 0);
	} while (w < 0 && errno == EINTR);
	if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_warnx("cannot start the deliverer");
		return -1;
	}
	return 0;
}
