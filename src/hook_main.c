/*
 * hook_main.c — bbgitops-hook, what `bbgitops install-hook` makes the post-receive hook run:
 *
 *     bbgitops-hook BBGITOPS [-c FILE] [-v|-q] post-receive
 *
 * It links neither libgit2 nor SQLite, so it starts in about a millisecond where bbgitops takes ten (libgit2's
 * dependencies and its parse of the CA bundle). It reads the push, finds what this repository's entries watch and
 * hands that to a running `poll --daemon` (hook_handoff.h). Whenever it cannot — no daemon, a declined or failed
 * hand-off, a push that creates a watched branch — it becomes BBGITOPS with the same arguments, git's ref lines
 * on its stdin again: the full hook, exactly as if git had run it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "hook_front.h"
#include "log.h"
#include "util.h"

/* The full program and its argv (BBGITOPS and everything after it), for exec. */
static char **full_argv;

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Becomes bbgitops with UPDATES (the lines it parsed: malformed ones were reported already) on its stdin. Returns
 * only when that failed; then the push is left to the next push or poll, as every hook failure is.
 */
static void
run_full_hook(const struct ref_update *updates, size_t n_updates)
{
	struct sbuf lines = SBUF_INIT;
	int fd = memfd_create("bbgitops-hook-stdin", MFD_CLOEXEC);
	size_t i;

	for (i = 0; i < n_updates; i++)
		sbuf_addf(&lines, "%s %s %s\n", updates[i].old_hex, updates[i].new_hex, updates[i].ref);
	if (fd < 0 || write_all(fd, lines.buf, lines.len) != 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    dup2(fd, STDIN_FILENO) < 0) {
		log_warn("cannot hand the push to %s (nothing queued; the next push or poll catches up)", full_argv[0]);
		goto out;
	}
	fflush(NULL);
	execv(full_argv[0], full_argv);
	log_warn("cannot run %s (nothing queued; the next push or poll catches up)", full_argv[0]);
out:
	if (fd >= 0)
		close(fd);
	sbuf_release(&lines);
}

static int
cmd_hook_post_receive(const struct cli *cli, int argc, char **argv)
{
	struct ref_update *updates = NULL;
	struct config *cfg = NULL;
	struct hook_work work = { 0 };
	size_t n_updates;

	(void)argc;
	(void)argv;
	n_updates = hook_read_updates(stdin, &updates);
	if (hook_load_config(cli, &cfg) != 0)
		goto out;
	/* An unreadable repository is reported by hook_select, as bbgitops would; nothing watched moved: done. */
	if (hook_select(cfg, hook_git_dir(), updates, n_updates, &work) != 0 || work.n_items == 0)
		goto out;
	if (hook_offer(cfg, hook_git_dir(), updates, n_updates, &work) == 0)
		goto out;
	if (!work.creates_branch)
		setenv(HOOK_OFFERED_ENV, "1", 1);
	run_full_hook(updates, n_updates);
out:
	hook_work_free(&work);
	hook_updates_free(updates, n_updates);
	config_free(cfg);
	return 0;
}

static const char usage_text[] =
	"usage: bbgitops-hook BBGITOPS [-c FILE] [-v] [-q] post-receive\n"
	"  The post-receive hook that `bbgitops install-hook` installs: hands the push to a running\n"
	"  `bbgitops poll --daemon`, else runs BBGITOPS (the full program) with the same arguments.\n";

int
main(int argc, char **argv)
{
	static const struct command commands[] = {
		{ "post-receive", cmd_hook_post_receive },
	};

	if (argc < 2 || argv[1][0] != '/') {
		fputs(usage_text, stderr);
		return 2;
	}
	full_argv = argv + 1;
	/* cli_main sees "BBGITOPS [-c FILE] [-v|-q] post-receive", as bbgitops itself would. */
	return cli_main(argc - 1, argv + 1, commands, sizeof(commands) / sizeof(commands[0]), usage_text);
}
