/*
 * cmd_install_hook.c — `bbgitops install-hook GIT_DIR [--pre-receive]`: writes a hook that execs this binary with
 * the configuration it was given, so pushes over SSH or HTTP (whose environment we do not control) use the right
 * one. Replaces only a hook it wrote itself (recognised by its marker line); written atomically (temp + rename).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "launch.h"
#include "log.h"
#include "util.h"

#define HOOK_MARKER "# installed by bbgitops install-hook"

/* POSIX shell single-quoting: ' becomes '\'' */
static void
add_quoted(struct sbuf *sb, const char *s)
{
	sbuf_adds(sb, "'");
	for (; *s; s++) {
		if (*s == '\'')
			sbuf_adds(sb, "'\\''");
		else
			sbuf_add(sb, s, 1);
	}
	sbuf_adds(sb, "'");
}

/* A bare repository (HEAD and objects/) or a work tree with a .git directory. */
static bool
is_git_dir(const char *path)
{
	char *dotgit = xasprintf("%s/.git", path), *head = xasprintf("%s/HEAD", path);
	char *objects = xasprintf("%s/objects", path);
	struct stat st;
	bool yes = (stat(dotgit, &st) == 0 && S_ISDIR(st.st_mode)) ||
		(stat(head, &st) == 0 && S_ISREG(st.st_mode) && stat(objects, &st) == 0 && S_ISDIR(st.st_mode));

	free(dotgit);
	free(head);
	free(objects);
	return yes;
}

/* The hooks directory of a bare repository or of a work tree's .git. */
static char *
hooks_dir(const char *git_dir)
{
	char *dotgit = xasprintf("%s/.git", git_dir), *dir;
	struct stat st;

	if (stat(dotgit, &st) == 0 && S_ISDIR(st.st_mode))
		dir = xasprintf("%s/hooks", dotgit);
	else
		dir = xasprintf("%s/hooks", git_dir);
	free(dotgit);
	return dir;
}

static bool
is_ours(const char *path)
{
	char buf[4096];
	size_t n;
	FILE *fp = fopen(path, "re");

	if (fp == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strstr(buf, HOOK_MARKER) != NULL;
}

/* Writes DIR/MODE atomically (temp file, fsync, rename); never over a hook bbgitops did not write. */
static int
write_hook(const char *dir, const char *mode, const char *content)
{
	char *path = xasprintf("%s/%s", dir, mode);
	char *tmp = xasprintf("%s/.%s.bbgitops-tmp", dir, mode);
	struct stat st;
	size_t len = strlen(content);
	int fd = -1, rc = 1;

	if (lstat(path, &st) == 0 && !is_ours(path)) {
		log_warnx("%s exists and was not installed by bbgitops; not overwriting it.", path);
		log_warnx("chain it instead: call `bbgitops -c CONFIG %s` from your hook, passing stdin through.",
			mode);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (fd < 0) {
		log_warn("cannot write %s", tmp);
		goto out;
	}
	if (write(fd, content, len) != (ssize_t)len || fchmod(fd, 0755) != 0 || fsync(fd) != 0) {
		log_warn("cannot write %s", tmp);
		unlink(tmp);
		goto out;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		fd = -1;
		log_warn("cannot install %s", path);
		unlink(tmp);
		goto out;
	}
	fd = -1;
	printf("installed %s\n", path);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	free(tmp);
	return rc;
}

/*
 * bbgitops-hook, the post-receive front that needs no libgit2 (hook_main.c), as an absolute path; NULL when it is
 * not installed beside this program (the hook then runs bbgitops directly, which can hand off too, only slower).
 */
static char *
hook_front_path(void)
{
	char *path = launch_helper_path(LAUNCH_HOOK_NAME), *real = NULL;

	if (access(path, X_OK) == 0)
		real = realpath(path, NULL);
	if (real == NULL)
		log_warnx("%s is missing: the hook runs bbgitops itself (a running poll --daemon still takes its work)",
			path);
	free(path);
	return real;
}

static int
cmd_install_hook_usage(void)
{
	fputs("usage: bbgitops [-c FILE] install-hook GIT_DIR [--pre-receive]\n", stderr);
	return 2;
}

int
cmd_install_hook(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "pre-receive", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct sbuf content = SBUF_INIT;
	const char *git_dir, *mode = "post-receive";
	struct stat st;
	char *dir = NULL, *front = NULL;
	int opt, rc = 2;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt != 'p')
			return cmd_install_hook_usage();
		mode = "pre-receive";
	}
	if (argc - optind != 1)
		return cmd_install_hook_usage();
	git_dir = argv[optind];
	if (cli->self_exe == NULL) {
		log_warnx("cannot tell where this program is; run it by its full path");
		return 2;
	}
	if (stat(git_dir, &st) != 0 || !S_ISDIR(st.st_mode) || !is_git_dir(git_dir)) {
		log_warnx("%s is not a git directory", git_dir);
		return 2;
	}
	if (access(cli->config_path, R_OK) != 0)
		log_warnx("warning: %s is not readable now; the hook will use it anyway", cli->config_path);
	dir = hooks_dir(git_dir);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		log_warn("cannot create %s", dir);
		rc = 1;
		goto out;
	}
	sbuf_addf(&content, "#!/bin/sh\n%s (%s)\n# Runs bbgitops with a fixed configuration: pushes over SSH or "
		"HTTP do not carry our environment.\n", HOOK_MARKER, mode);
	front = strcmp(mode, "post-receive") == 0 ? hook_front_path() : NULL;
	if (front != NULL) {
		sbuf_adds(&content, "# bbgitops-hook hands the push to a running `bbgitops poll --daemon`, else runs "
			"bbgitops.\nexec ");
		add_quoted(&content, front);
		sbuf_adds(&content, " ");
	} else {
		sbuf_adds(&content, "exec ");
	}
	add_quoted(&content, cli->self_exe);
	sbuf_adds(&content, " -c ");
	add_quoted(&content, cli->config_path);
	sbuf_addf(&content, " %s\n", mode);
	rc = write_hook(dir, mode, sbuf_str(&content));
out:
	free(dir);
	free(front);
	sbuf_release(&content);
	return rc;
}
