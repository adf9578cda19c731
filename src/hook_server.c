/*
 * hook_server.c — the hook server of `poll --daemon` (hook_server.h). One process, single-threaded (so forking is
 * safe): it starts libgit2 once, binds <state_dir>/hook.sock (mode 660) and keeps one worker waiting, forked
 * ahead with its own connection to the state open, so a push pays for neither. The waiting worker accepts the
 * next hook, tells the server (which forks the next one), checks the request and runs hook_post_receive's own
 * code with the socket as its stderr. It serves only hooks with the configuration file the server loaded (same
 * path, unchanged since) and repositories its user can open: for anything else it declines and the hook does its
 * work itself. While it waits, the worker reads ahead what the next push is likeliest to need (hook_warm.h) and
 * takes the page faults the push would take (prefault.h). The server itself never opens the state (no SQLite
 * handle may cross a fork); with SERVER_MAX_WORKERS pushes in progress it waits no worker and declines the next
 * hooks itself.
 */
#include "hook_server.h"

#include <errno.h>
#include <fcntl.h>
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
#include "hook_warm.h"
#include "log.h"
#include "prefault.h"
#include "repo.h"
#include "state.h"
#include "util.h"

/* At most this many pushes are worked on at once; more are declined (their hooks do the work). */
#define SERVER_MAX_WORKERS 32
/* How long a connected hook may take to send its request. */
#define SERVER_REQUEST_SECONDS 5.0
/*
 * How long after the last push's worker ends the next waiting worker is forked (at once if a hook waits): the
 * pushing git's own end runs meanwhile, not next to the new worker's read-ahead and prefaulting (~12 ms of CPU).
 */
#define SERVER_SETTLE_SECONDS 0.1
/* Heap a waiting worker faults in ahead (prefault.h): a push's trees, pages of SQLite and libgit2's buffers. */
#define WORKER_HEAP_RESERVE (4 * 1024 * 1024)

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
static void __attribute__((noreturn))
run_worker(const struct cli *cli, const struct config *cfg, const struct config_identity *id, int conn,
	struct state *st, struct hook_warm *warm)
{
	struct error err = ERROR_INIT;
	struct sbuf text = SBUF_INIT;
	struct request rq = { 0 };
	struct hook_prepared prep;
	git_repository *git = NULL;
	bool detached;
	char *line;

	/*
	 * Who may connect is the socket's mode (660, in the state directory hooks and pollers share): whoever can
	 * already write the state database. A request can only name a repository; the worker finds its entries.
	 */
	if (read_request(conn, &text, time_monotonic() + SERVER_REQUEST_SECONDS) != 0 ||
	    parse_request(text.buf, &rq) != 0) {
		(void)say(conn, "declined not a hook request\n");
		_exit(0);
	}
	if (!config_unchanged(id, rq.config)) {
		(void)say(conn, "declined the daemon runs with another configuration, or an older version of it\n");
		_exit(0);
	}
	/* The daemon's user may not be the hook's: if it cannot read the repository, the hook must do the work. */
	git = hook_warm_take_repo(warm, rq.git_dir);
	if (git != NULL)
		log_debug("hook of %s: the repository was opened ahead", rq.git_dir);
	else if (repo_open(rq.git_dir, &git, &err) != 0) {
		line = xasprintf("declined the daemon cannot open the repository: %s", err.msg);
		line[strcspn(line, "\n")] = '\0';    /* one line */
		(void)(say(conn, line) && say(conn, "\n"));
		_exit(0);
	}
	/* A hook that gave up waiting (a stopped daemon) has done the work itself and closed the socket. */
	if (!say(conn, "ok\n"))
		_exit(0);
	detached = cfg->hook_handoff == HOOK_HANDOFF_DETACH;
	log_debug("hook of %s: %zu ref update%s, handed to a worker (pid %ld)%s", rq.git_dir, rq.n,
		rq.n == 1 ? "" : "s", (long)getpid(), detached ? ", detached: the push has returned" : "");
	fflush(stderr);
	/* The state opened ahead may be gone since (a database replaced, a server restarted): then a new one. */
	if (st != NULL && !state_still_usable(st)) {
		state_close(st);
		st = NULL;
	}
	prep = (struct hook_prepared){ .git = git, .st = st, .trees = &warm->trees, .detached = detached };
	if (detached)
		shutdown(conn, SHUT_RDWR);    /* the hook has returned: what the work reports goes to the daemon's log */
	else if (dup2(conn, STDERR_FILENO) < 0)
		_exit(1);
	if (hook_post_receive_prepared(cli, cfg, rq.git_dir, &prep, rq.updates, rq.n) == 0 && !detached) {
		fflush(stderr);
		say(conn, HOOK_HANDOFF_DONE "\n");
	}
	fflush(stderr);
	/*
	 * The hook reads until the end: it comes now, not once this process has closed the state (the work is
	 * committed) and finished tearing itself down.
	 */
	shutdown(conn, SHUT_RDWR);
	state_close(prep.st);
	_exit(0);
}

/* Is a hook waiting to be accepted on LISTEN_FD? */
static bool
hook_pending(int listen_fd)
{
	struct pollfd p = { .fd = listen_fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/*
 * The waiting worker: opens the state while no push waits, accepts one hook, tells the server through TAKEN_FD
 * (the server then forks the next waiting worker) and becomes that hook's worker. Never returns.
 */
static void __attribute__((noreturn))
wait_for_hook(const struct cli *cli, const struct config *cfg, const struct config_identity *id, int listen_fd,
	int taken_fd, pid_t server)
{
	struct hook_warm warm = HOOK_WARM_INIT;
	struct error err = ERROR_INIT;
	struct state *st = NULL;
	int conn = -1;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != server)
		_exit(0);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* A state that cannot be opened now is left to the work, which opens it again and reports why. */
	if (state_open(cfg, &st, &err) == 0)
		state_defer_sync(st);
	else
		log_debug("hook worker: %s", err.msg);
	/*
	 * While no push waits (unless one already does): the likeliest repositories and base trees read ahead, then
	 * the page faults of the coming work taken.
	 */
	if (!hook_pending(listen_fd)) {
		hook_warm_prepare(&warm, cfg, st);
		prefault_process(WORKER_HEAP_RESERVE);
	}
	while (conn < 0) {
		struct pollfd p = { .fd = listen_fd, .events = POLLIN };

		if (poll(&p, 1, -1) > 0)
			conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	}
	close(listen_fd);
	prctl(PR_SET_PDEATHSIG, 0);    /* a push being worked on is finished, even if the server stops now */
	if (write(taken_fd, "w", 1) != 1)
		log_debug("hook worker: cannot tell the server: %s", strerror(errno));
	close(taken_fd);
	run_worker(cli, cfg, id, conn, st, &warm);
}

/* Forks the waiting worker: its pid, or -1 (logged). */
static pid_t
start_waiting_worker(const struct cli *cli, const struct config *cfg, const struct config_identity *id,
	int listen_fd, int taken[2])
{
	pid_t server = getpid(), pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(taken[0]);
		wait_for_hook(cli, cfg, id, listen_fd, taken[1], server);
	}
	if (pid < 0)
		log_warn("hook server: cannot fork a worker");
	return pid;
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

/* Reaps exited children: workers, or the waiting worker (killed, or failed): then *spare becomes 0. */
static void
reap(size_t *workers, pid_t *spare)
{
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
		if (pid == *spare)
			*spare = 0;
		else if (*workers > 0)
			(*workers)--;
	}
}

/* Every byte on the TAKEN pipe: the waiting worker took a hook and is now a worker. */
static void
drain_taken(int fd, size_t *workers, pid_t *spare)
{
	char buf[64];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		*workers += (size_t)n;
		*spare = 0;
	}
}

/* With SERVER_MAX_WORKERS at work and none waiting, the server answers the next hook itself. */
static void
decline_busy(int listen_fd)
{
	int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (conn >= 0) {
		(void)say(conn, "declined busy\n");
		close(conn);
	}
}

/* The server process's life. Never returns. */
static void __attribute__((noreturn))
server_main(const struct cli *cli, const struct config *cfg, pid_t parent)
{
	struct config_identity id;
	struct sigaction sa;
	struct error err = ERROR_INIT;
	struct stat st;
	size_t workers = 0, workers_before;
	double settled = 0;    /* when the next waiting worker may be forked (time_monotonic) */
	pid_t spare = 0;
	char *path;
	ino_t ino = 0;
	int fd, taken[2];

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
	if (pipe2(taken, O_CLOEXEC | O_NONBLOCK) != 0) {
		log_warn("hook server: cannot create a pipe");
		_exit(1);
	}
	fd = bind_socket(path, &ino);
	if (fd < 0)
		_exit(0);
	log_debug("serving hooks on %s", path);
	while (!server_stop) {
		struct pollfd p[2] = { { .fd = taken[0], .events = POLLIN }, { .fd = fd, .events = POLLIN } };
		bool full;

		drain_taken(taken[0], &workers, &spare);
		workers_before = workers;
		reap(&workers, &spare);
		if (workers < workers_before && workers == 0)
			settled = time_monotonic() + SERVER_SETTLE_SECONDS;
		full = workers >= SERVER_MAX_WORKERS;
		if (spare == 0) {
			struct pollfd l = { .fd = fd, .events = POLLIN };
			bool hook_waits = poll(&l, 1, 0) > 0;

			if (hook_waits && full) {
				decline_busy(fd);
				continue;
			}
			/*
			 * The next waiting worker is forked once the pushes at work are done and have settled, or at once
			 * when another hook waits: on a small machine its start would otherwise compete with the pushes.
			 */
			if (!full && ((workers == 0 && time_monotonic() >= settled) || hook_waits) &&
			    (spare = start_waiting_worker(cli, cfg, &id, fd, taken)) < 0) {
				spare = 0;
				usleep(100000);   /* cannot fork now: not again at once */
			}
		}
		/* The listening socket is the waiting worker's; the server looks at it only when there is none. */
		(void)poll(p, spare == 0 ? 2 : 1, spare == 0 ? 5 : 1000);
	}
	if (spare > 0)
		kill(spare, SIGTERM);
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
