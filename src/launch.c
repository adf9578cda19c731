/*
 * launch.c — bbgitops → bbgitops-deliver: where the helper lives, its argv (built in one place), and the three ways
 * to start it: exec (`bbgitops deliver`), run and wait with a deadline (inline hook delivery, poll), and detached
 * (background hook delivery). A failed exec reaches the parent through a close-on-exec pipe, so every problem is
 * one error for the caller to print, never a line from a child.
 */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef LIBEXECDIR
#error "LIBEXECDIR (where bbgitops-deliver is installed) must be defined by the build"
#endif

/* Past the deadline the helper finishes its call in flight (cut to the deadline itself); then it is stopped. */
#define LAUNCH_GRACE_SECONDS 1.0

char *
launch_helper_path(const char *name)
{
	const char *dir = getenv("BBGITOPS_EXEC_PATH");

	if (dir != NULL && dir[0] != '\0')
		return xasprintf("%s/%s", dir, name);
	return xasprintf("%s/%s", LIBEXECDIR, name);
}

char *
launch_deliver_path(void)
{
	return launch_helper_path(LAUNCH_DELIVER_NAME);
}

/* The common head: EXE -c CONFIG [-v|-q] COMMAND (deliver, or doctor). */
static void
launch_argv_head(struct strlist *argv, const char *exe, const char *config, enum log_level level,
	const char *command)
{
	strlist_push(argv, xstrdup(exe));
	strlist_push(argv, xstrdup("-c"));
	strlist_push(argv, xstrdup(config));
	if (level == LOG_LEVEL_VERBOSE)
		strlist_push(argv, xstrdup("-v"));
	else if (level == LOG_LEVEL_QUIET)
		strlist_push(argv, xstrdup("-q"));
	strlist_push(argv, xstrdup(command));
}

void
launch_deliver_argv(struct strlist *argv, const char *exe, const char *config, enum log_level level,
	const struct deliver_options *opts, double now)
{
	double left;

	launch_argv_head(argv, exe, config, level, "deliver");
	if (opts->now)
		strlist_push(argv, xstrdup("--now"));
	if (opts->retry_id > 0) {
		strlist_push(argv, xstrdup("--retry"));
		strlist_pushf(argv, "%lld", opts->retry_id);
	}
	if (opts->skip_id > 0) {
		strlist_push(argv, xstrdup("--skip"));
		strlist_pushf(argv, "%lld", opts->skip_id);
	}
	if (opts->deadline > 0) {
		left = opts->deadline - now;
		strlist_push(argv, xstrdup("--deadline"));
		strlist_pushf(argv, "%.3f", left > 0.001 ? left : 0.001);
	}
	strlist_push(argv, NULL);
}

/* The "cannot run" message, with a hint when the helper is simply not where it should be. */
static int
launch_exec_error(struct error *err, const char *exe, int errnum)
{
	if (errnum == ENOENT)
		return error_set(err, false, "cannot run %s: %s (is bbgitops installed? BBGITOPS_EXEC_PATH names the "
			"directory holding %s)", exe, strerror(errnum), LAUNCH_DELIVER_NAME);
	return error_set(err, false, "cannot run %s: %s", exe, strerror(errnum));
}

int
launch_deliver_exec(const char *config, char *const *args, size_t n_args, struct error *err)
{
	return launch_helper_exec(config, "deliver", args, n_args, err);
}

int
launch_helper_exec(const char *config, const char *command, char *const *args, size_t n_args, struct error *err)
{
	struct strlist argv = STRLIST_INIT;
	char *exe = launch_deliver_path();
	size_t i;

	launch_argv_head(&argv, exe, config, log_get_level(), command);
	for (i = 0; i < n_args; i++)
		strlist_push(&argv, xstrdup(args[i]));
	strlist_push(&argv, NULL);
	fflush(NULL);
	execv(exe, argv.items);
	launch_exec_error(err, exe, errno);
	strlist_clear(&argv);
	free(exe);
	return -1;
}

/* Closes every descriptor from 3 up except KEEP: close_range when the kernel has it, else one by one. */
static void
launch_close_from_3(int keep)
{
	long max, fd;

#ifdef SYS_close_range
	if (keep < 0 && syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
	if (keep == 3 && syscall(SYS_close_range, 4U, ~0U, 0U) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1048576)
		max = 1048576;
	for (fd = 3; fd < max; fd++)
		if (fd != keep)
			close((int)fd);
}

/* In a child: only async-signal-safe calls. Execs ARGV; on failure writes errno to REPORT_FD and exits 127. */
static void __attribute__((noreturn))
launch_child_exec(char *const *argv, int report_fd)
{
	int e;

	execv(argv[0], argv);
	e = errno;
	if (write(report_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* Reads the exec report of a child: 0 when it exec'd (EOF), else its errno. */
static int
launch_read_report(int fd)
{
	int e = 0;
	ssize_t n;

	do {
		n = read(fd, &e, sizeof(e));
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(e) ? e : 0;
}

static void
launch_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Waits for PID; past HARD_STOP (0: none) stops it, politely first. Returns the wait status or -1. */
static int
launch_wait_child(pid_t pid, double hard_stop, bool *timed_out)
{
	int status, i;
	pid_t w;

	*timed_out = false;
	for (;;) {
		w = waitpid(pid, &status, hard_stop > 0 ? WNOHANG : 0);
		if (w == pid)
			return status;
		if (w < 0 && errno != EINTR)
			return -1;
		if (hard_stop > 0 && time_monotonic() >= hard_stop)
			break;
		if (hard_stop > 0)
			launch_sleep_ms(10);
	}
	*timed_out = true;
	kill(pid, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		launch_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	return waitpid(pid, &status, 0) == pid ? status : -1;
}

int
launch_deliver_wait(const struct config *cfg, const struct deliver_options *opts, struct error *err)
{
	struct strlist argv = STRLIST_INIT;
	char *exe = launch_deliver_path();
	int report[2] = { -1, -1 }, status, ret = -1, e;
	bool timed_out;
	pid_t pid;

	launch_deliver_argv(&argv, exe, cfg->file, log_get_level(), opts, time_monotonic());
	if (pipe2(report, O_CLOEXEC) < 0) {
		error_set(err, true, "cannot start %s: pipe: %s", exe, strerror(errno));
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		error_set(err, true, "cannot start %s: fork: %s", exe, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(report[0]);
		launch_child_exec(argv.items, report[1]);
	}
	close(report[1]);
	report[1] = -1;
	e = launch_read_report(report[0]);
	status = launch_wait_child(pid, opts->deadline > 0 ? opts->deadline + LAUNCH_GRACE_SECONDS : 0,
		&timed_out);
	if (e != 0)
		launch_exec_error(err, exe, e);
	else if (timed_out)
		error_set(err, true, "delivery did not finish in time; it resumes on the next poll or push");
	else if (status >= 0 && WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1))
		ret = WEXITSTATUS(status);
	else if (status >= 0 && WIFEXITED(status))
		error_set(err, false, "%s exited with status %d", exe, WEXITSTATUS(status));
	else
		error_set(err, true, "%s was killed by signal %d", exe,
			status >= 0 && WIFSIGNALED(status) ? WTERMSIG(status) : 0);
out:
	if (report[0] >= 0)
		close(report[0]);
	if (report[1] >= 0)
		close(report[1]);
	strlist_clear(&argv);
	free(exe);
	return ret;
}

/* In the grandchild: stdio on /dev/null, every other descriptor but the report pipe closed, then exec. */
static void __attribute__((noreturn))
launch_detached_exec(char *const *argv, int report_fd)
{
	int fd, e;

	fd = open("/dev/null", O_RDWR);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
		e = errno;
		if (write(report_fd, &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	if (report_fd != 3 && dup3(report_fd, 3, O_CLOEXEC) < 0)
		_exit(127);
	launch_close_from_3(3);
	launch_child_exec(argv, 3);
}

int
launch_deliver_detached(const char *config, struct error *err)
{
	struct strlist argv = STRLIST_INIT;
	struct deliver_options opts = { 0 };
	struct sigaction sa_dfl;
	char *exe = launch_deliver_path();
	int report[2] = { -1, -1 }, status, ret = -1, e;
	sigset_t all, old;
	pid_t pid, w;

	/* Detached runs are always quiet: nobody reads their stderr. */
	launch_deliver_argv(&argv, exe, config, LOG_LEVEL_QUIET, &opts, 0);
	if (pipe2(report, O_CLOEXEC) < 0) {
		error_set(err, true, "cannot start %s: pipe: %s", exe, strerror(errno));
		goto out;
	}
	/* No signal handler of ours may run in the children before exec. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		error_set(err, true, "cannot start %s: fork: %s", exe, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(report[0]);
		memset(&sa_dfl, 0, sizeof(sa_dfl));
		sa_dfl.sa_handler = SIG_DFL;
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
		launch_detached_exec(argv.items, report[1]);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(report[1]);
	report[1] = -1;
	do {
		w = waitpid(pid, &status, 0);
	} while (w < 0 && errno == EINTR);
	if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		error_set(err, true, "cannot start %s: its first child failed", exe);
		goto out;
	}
	/* EOF once the grandchild exec'd (the pipe is close-on-exec), or its errno. */
	e = launch_read_report(report[0]);
	if (e != 0) {
		launch_exec_error(err, exe, e);
		goto out;
	}
	ret = 0;
out:
	if (report[0] >= 0)
		close(report[0]);
	if (report[1] >= 0)
		close(report[1]);
	strlist_clear(&argv);
	free(exe);
	return ret;
}
