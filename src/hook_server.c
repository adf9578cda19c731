/*
 * hook_server.c — the hook server of `poll --daemon` (hook_server.h). One process, single-threaded (so forking is
 * safe): it starts libgit2 once, binds <state_dir>/hook.sock (mode 660) and, for each hook that connects,
 * checks the request and forks a worker that runs hook_post_receive with the socket as stderr. It serves only
 * hooks with the configuration file it loaded (same path, unchanged since) and repositories its user can open:
 * for anything else it declines and the hook does its work itself. It never opens the state: the workers do.
 */
#include "hook_server.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hook.h"
#include "hook_handoff.h"
#include "log.h"
#include "repo.h"
#include "util.h"

/* At most this many pushes are worked on at once; more are declined (their hooks do the work). */
#define SERVER_MAX_WORKERS 32
/* How long a connected hook may take to send its request. */
#define SERVER_REQUEST_SECONDS 5.0

static volatile sig_atomic_t server_stop;

static void
server_on_signal(int sig)
{
	(void)sig;
	server_stop = 1;
}

/* The configuration file as the server loaded it: a hook with another file, or after an edit, is declined. */
struct config_identity {
	char path[PATH_MAX];
	struct stat st;
};

static bool
config_unchanged(const struct config_identity *id, const char *path)
{
	struct stat st;

	return strcmp(id->path, path) == 0 && stat(path, &st) == 0 && st.st_dev == id->st.st_dev &&
		st.st_ino == id->st.st_ino && st.st_size == id->st.st_size &&
		st.st_mtim.tv_sec == id->st.st_mtim.tv_sec && st.st_mtim.tv_nsec == id->st.st_mtim.tv_nsec;
}

/* Reads the request (up to its "." line) before DEADLINE into SB: 0, or -1. */
static int
read_request(int fd, struct sbuf *sb, double deadline)
{
	char buf[4096];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = deadline - time_monotonic();
		ssize_t r;

		if (sb->len >= 2 && (strcmp(sbuf_str(sb), ".\n") == 0 ||
		    (sb->len >= 3 && strcmp(sb->buf + sb->len - 3, "\n.\n") == 0)))
			return 0;
		if (left <= 0 || poll(&p, 1, (int)(left * 1000.0) + 1) <= 0)
			return -1;
		r = recv(fd, buf, sizeof(buf), 0);
		if (r <= 0 || sb->len + (size_t)r > HOOK_HANDOFF_MAX_REQUEST)
			return -1;
		sbuf_add(sb, buf, (size_t)r);
	}
}

struct request {
	char *config;
	char *git_dir;
	struct ref_update *updates;
	size_t n;
};

static void
request_free(struct request *rq)
{
	free(rq->config);
	free(rq->git_dir);
	hook_updates_free(rq->updates, rq->n);
	memset(rq, 0, sizeof(*rq));
}

/*
 * Parses TEXT (the request, "."-terminated): 0, or -1 when it is not one. The ref-update lines are the hook's own
 * stdin, read by the hook's own reader.
 */
static int
parse_request(char *text, struct request *rq)
{
	char *config, *git_dir, *refs, *end;
	FILE *in;

	memset(rq, 0, sizeof(*rq));
	if (strncmp(text, HOOK_HANDOFF_HELLO "\n", strlen(HOOK_HANDOFF_HELLO) + 1) != 0)
		return -1;
	config = text + strlen(HOOK_HANDOFF_HELLO) + 1;
	if (strncmp(config, "config /", 8) != 0 || (git_dir = strchr(config, '\n')) == NULL)
		return -1;
	*git_dir++ = '\0';
	if (strncmp(git_dir, "git_dir /", 9) != 0 || (refs = strchr(git_dir, '\n')) == NULL)
		return -1;
	*refs++ = '\0';
	end = strcmp(refs, ".\n") == 0 ? refs : strstr(refs, "\n.\n");
	if (end == NULL)
		return -1;
	if (end != refs)
		end++;      /* keep the last ref line's newline */
	rq->config = xstrdup(config + 7);
	rq->git_dir = xstrdup(git_dir + 8);
	if (end == refs)
		return 0;
	in = fmemopen(refs, (size_t)(end - refs), "r");
	if (in == NULL)
		return -1;
	rq->n = hook_read_updates(in, &rq->updates);
	fclose(in);
	return 0;
}

static bool
say(int fd, const char *line)
{
	return send(fd, line, strlen(line), MSG_NOSIGNAL) == (ssize_t)strlen(line);
}

/* The worker: the hook's own code, its stderr the hook's socket. Never returns. */
static void
run_worker(const struct cli *cli, const struct config *cfg, int conn, struct request *rq)
{
	struct error err = ERROR_INIT;
	git_repository *git = NULL;
	char *line;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* The daemon's user may not be the hook's: if it cannot read the repository, the hook must do the work. */
	if (repo_open(rq->git_dir, &git, &err) != 0) {
		line = xasprintf("declined the daemon cannot open the repository: %s", err.msg);
		line[strcspn(line, "\n")] = '\0';    /* one line */
		(void)(say(conn, line) && say(conn, "\n"));
		_exit(0);
	}
	git_repository_free(git);
	/* A hook that gave up waiting (a stopped daemon) has done the work itself and closed the socket. */
	if (!say(conn, "ok\n"))
		_exit(0);
	if (dup2(conn, STDERR_FILENO) < 0)
		_exit(1);
	if (hook_post_receive(cli, cfg, rq->git_dir, rq->updates, rq->n, false) == 0) {
		fflush(stderr);
		say(conn, HOOK_HANDOFF_DONE "\n");
	}
	fflush(stderr);
	_exit(0);
}

/* One connection: check it, then fork its worker (or decline). */
static void
serve(const struct cli *cli, const struct config *cfg, const struct config_identity *id, int listen_fd, int conn,
	size_t *workers)
{
	struct sbuf text = SBUF_INIT;
	struct request rq = { 0 };
	pid_t pid;

	/*
	 * Who may connect is the socket's mode (660, in the state directory hooks and pollers share): whoever can
	 * already write the state database. A request can only name a repository; the worker finds its entries.
	 */
	if (read_request(conn, &text, time_monotonic() + SERVER_REQUEST_SECONDS) != 0 ||
	    parse_request(text.buf, &rq) != 0) {
		(void)say(conn, "declined not a hook request\n");
		goto out;
	}
	if (!config_unchanged(id, rq.config)) {
		(void)say(conn, "declined the daemon runs with another configuration, or an older version of it\n");
		goto out;
	}
	if (*workers >= SERVER_MAX_WORKERS) {
		(void)say(conn, "declined busy\n");
		goto out;
	}
	log_debug("hook of %s: %zu ref update%s, handed to a worker", rq.git_dir, rq.n, rq.n == 1 ? "" : "s");
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		close(listen_fd);
		run_worker(cli, cfg, conn, &rq);
	}
	if (pid < 0)
		(void)say(conn, "declined cannot fork\n");
	else
		(*workers)++;
out:
	request_free(&rq);
	sbuf_release(&text);
}

/* Binds PATH, unless another daemon serves it already. Returns the listening socket, or -1. */
static int
bind_socket(const char *path, ino_t *ino)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old_mask;
	int fd, probe;

	memcpy(sun.sun_path, path, strlen(path) + 1);
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(probe);
		log_info("hooks are served by another daemon on %s", path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	if (unlink(path) != 0 && errno != ENOENT) {
		log_warn("cannot remove the stale socket %s", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		log_warn("cannot create a socket for %s", path);
		return -1;
	}
	old_mask = umask(0117);    /* srw-rw----: the group shares the state directory */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 || listen(fd, 64) != 0 || stat(path, &st) != 0) {
		umask(old_mask);
		log_warn("cannot listen on %s", path);
		close(fd);
		return -1;
	}
	umask(old_mask);
	*ino = st.st_ino;
	return fd;
}

static void
reap(size_t *workers)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		if (*workers > 0)
			(*workers)--;
}

/* The server process's life. Never returns. */
static void
server_main(const struct cli *cli, const struct config *cfg, pid_t parent)
{
	struct config_identity id;
	struct sigaction sa;
	struct error err = ERROR_INIT;
	struct stat st;
	size_t workers = 0;
	char *path;
	ino_t ino = 0;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = server_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	path = hook_handoff_socket_path(cfg->state_dir);
	if (path == NULL) {
		log_warnx("%s/%s is too long for a socket: hooks do their work themselves", cfg->state_dir,
			HOOK_HANDOFF_SOCKET);
		_exit(0);
	}
	if (realpath(cfg->file, id.path) == NULL || stat(id.path, &id.st) != 0) {
		log_warn("hook server: cannot read %s", cfg->file);
		_exit(1);
	}
	if (repo_library_init(&err) != 0) {
		log_warnx("hook server: %s", err.msg);
		_exit(1);
	}
	fd = bind_socket(path, &ino);
	if (fd < 0)
		_exit(0);
	log_debug("serving hooks on %s", path);
	while (!server_stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int conn;

		reap(&workers);
		if (poll(&p, 1, 1000) <= 0)
			continue;
		conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue;
		serve(cli, cfg, &id, fd, conn, &workers);
		close(conn);
	}
	/* The socket is removed only if it is still ours (a newer daemon may have taken the path). */
	if (stat(path, &st) == 0 && st.st_ino == ino)
		unlink(path);
	close(fd);
	_exit(0);
}

pid_t
hook_server_start(const struct cli *cli, const struct config *cfg)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		server_main(cli, cfg, parent);
	if (pid < 0)
		log_warn("cannot start the hook server (hooks do their work themselves)");
	return pid;
}

void
hook_server_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

bool
hook_server_exited(pid_t pid)
{
	return pid > 0 && waitpid(pid, NULL, WNOHANG) == pid;
}
