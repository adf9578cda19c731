/*
 * deliver_exec.c — delivery as seen from the bbgitops program, which links no libcurl: `deliver` becomes
 * bbgitops-deliver (exec), and deliver_run() runs bbgitops-deliver as a child with the same configuration and
 * verbosity, waiting for it (until opts->deadline, if one is set; then it is stopped — the deliverer is crash-safe
 * by design, and the next run resumes what it was doing).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "deliver.h"
#include "log.h"
#include "util.h"

/* argv for bbgitops-deliver: EXE -c CONFIG [-v|-q] COMMAND ARGS... (the strings are not copied). */
static char **
deliver_argv(const char *exe, const char *config, const char *command, const char *const *args, size_t n_args)
{
	char **argv = xcalloc(n_args + 6, sizeof(*argv));
	size_t i = 0, j;

	argv[i++] = (char *)exe;
	argv[i++] = (char *)"-c";
	argv[i++] = (char *)config;
	if (log_get_level() == LOG_LEVEL_VERBOSE)
		argv[i++] = (char *)"-v";
	else if (log_get_level() == LOG_LEVEL_QUIET)
		argv[i++] = (char *)"-q";
	argv[i++] = (char *)command;
	for (j = 0; j < n_args; j++)
		argv[i++] = (char *)args[j];
	argv[i] = NULL;
	return argv;
}

/* `deliver` and `doctor` need libcurl: bbgitops becomes bbgitops-deliver with the same arguments. */
static int
deliver_exec(const struct cli *cli, const char *command, int argc, char **argv)
{
	char **args = deliver_argv(cli->deliver_exe, cli->config_path, command, (const char *const *)argv + 1,
		argc > 0 ? (size_t)argc - 1 : 0);

	execv(cli->deliver_exe, args);
	fprintf(stderr, "bbgitops: cannot run %s: %s\n", cli->deliver_exe, strerror(errno));
	free(args);
	return 1;
}

int
cmd_deliver(const struct cli *cli, int argc, char **argv)
{
	return deliver_exec(cli, "deliver", argc, argv);
}

int
cmd_doctor(const struct cli *cli, int argc, char **argv)
{
	return deliver_exec(cli, "doctor", argc, argv);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Waits for PID; past DEADLINE (0: none) stops it, politely first. Returns the wait status or -1. */
static int
wait_child(pid_t pid, double deadline, bool *timed_out)
{
	int status;
	pid_t w;

	*timed_out = false;
	for (;;) {
		w = waitpid(pid, &status, deadline > 0 ? WNOHANG : 0);
		if (w == pid)
			return status;
		if (w < 0 && errno != EINTR)
			return -1;
		if (deadline > 0 && time_monotonic() >= deadline)
			break;
		if (deadline > 0)
			sleep_ms(10);
	}
	*timed_out = true;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	return waitpid(pid, &status, 0) == pid ? status : -1;
}

int
deliver_run(const struct config *cfg, const struct deliver_options *opts, struct error *err)
{
	char *exe = cli_deliver_executable(), **argv, retry[32], skip[32];
	const char *args[5];
	size_t n = 0;
	bool timed_out;
	pid_t pid;
	int status, rc;

	if (opts->now)
		args[n++] = "--now";
	if (opts->retry_id > 0) {
		snprintf(retry, sizeof(retry), "%lld", opts->retry_id);
		args[n++] = "--retry";
		args[n++] = retry;
	}
	if (opts->skip_id > 0) {
		snprintf(skip, sizeof(skip), "%lld", opts->skip_id);
		args[n++] = "--skip";
		args[n++] = skip;
	}
	argv = deliver_argv(exe, cfg->file, "deliver", args, n);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = error_set(err, true, "cannot start %s: %s", exe, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		execv(exe, argv);
		fprintf(stderr, "bbgitops: cannot run %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	status = wait_child(pid, opts->deadline, &timed_out);
	if (timed_out) {
		rc = error_set(err, true, "delivery did not finish in time; it resumes on the next poll or push");
	} else if (status >= 0 && WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 1)) {
		rc = WEXITSTATUS(status);
	} else if (status >= 0 && WIFEXITED(status)) {
		rc = error_set(err, false, "%s exited with status %d", exe, WEXITSTATUS(status));
	} else {
		rc = error_set(err, true, "%s was killed by signal %d", exe, status >= 0 && WIFSIGNALED(status) ?
			WTERMSIG(status) : 0);
	}
out:
	free(argv);
	free(exe);
	return rc;
}
