/*
 * remote_lock.c — one writer per mirror, and what a killed writer left behind. Every process that writes a mirror
 * (poll's fetch and cursor pins, backfill's refresh) holds an flock on STATE_DIR/mirrors/NAME.lock while it does.
 * A writer killed at the wrong moment (SIGKILL, OOM, power loss) leaves git's own lock files in the mirror —
 * refs/heads/main.lock, packed-refs.lock, config.lock — and libgit2 then refuses that ref for ever ("failed to lock
 * file"). The kernel drops the dead writer's flock, so whoever takes it next knows every such file is stale and
 * removes it, with libgit2's half-written temporary packs and a half-made mirror's temporary directory.
 */
#include "remote.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Files at the top of a git directory that git and libgit2 lock by writing NAME.lock beside them. */
static const char *const top_level_locks[] = {
	"HEAD.lock", "config.lock", "packed-refs.lock", "FETCH_HEAD.lock", "ORIG_HEAD.lock", "shallow.lock", NULL
};

static void
remove_stale(const char *path)
{
	if (unlink(path) == 0)
		log_info("removed %s, left by a bbgitops that was killed while writing the mirror", path);
	else if (errno != ENOENT)
		log_warn("cannot remove the stale %s", path);
}

static bool
is_lock_file(const char *path)
{
	size_t n = strlen(path);

	return n > 5 && strcmp(path + n - 5, ".lock") == 0;
}

static int
stale_ref_lock_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_F && is_lock_file(path))
		remove_stale(path);
	return 0;
}

/* Removes the files in DIR whose name contains INFIX (libgit2's temporary files are NAME_git2_XXXXXX). */
static void
remove_stale_in(const char *dir, const char *prefix, const char *infix)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (str_starts_with(de->d_name, prefix) && strstr(de->d_name, infix) != NULL) {
			char *path = xasprintf("%s/%s", dir, de->d_name);

			remove_stale(path);
			free(path);
		}
	}
	closedir(d);
}

/* The temporary directories of mirrors whose creation was cut short (MIRROR.tmp-PID). */
static void
remove_stale_creations(const char *mirror)
{
	char *dir = xstrdup(mirror), *slash = strrchr(dir, '/');
	char *prefix = xasprintf("%s.tmp-", slash + 1);
	DIR *d;
	struct dirent *de;

	*slash = '\0';
	d = opendir(dir);
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (str_starts_with(de->d_name, prefix)) {
			char *path = xasprintf("%s/%s", dir, de->d_name);

			if (remote_rmtree(path) == 0)
				log_info("removed %s, a mirror whose creation was cut short", path);
			free(path);
		}
	}
	if (d != NULL)
		closedir(d);
	free(prefix);
	free(dir);
}

static void
remove_stale_files(const char *mirror)
{
	char *path;

	for (size_t i = 0; top_level_locks[i] != NULL; i++) {
		path = xasprintf("%s/%s", mirror, top_level_locks[i]);
		if (access(path, F_OK) == 0)
			remove_stale(path);
		free(path);
	}
	path = xasprintf("%s/refs", mirror);
	nftw(path, stale_ref_lock_cb, 16, FTW_PHYS);
	free(path);
	path = xasprintf("%s/objects/pack", mirror);
	remove_stale_in(path, "", "_git2_");
	free(path);
	remove_stale_creations(mirror);
}

int
remote_lock_mirror(const char *state_dir, const struct repo_config *rc, long timeout, struct error *err)
{
	char *mirror = remote_mirror_path(state_dir, rc->name);
	char *dir = xasprintf("%s/mirrors", state_dir);
	char *path = xasprintf("%.*s.lock", (int)(strlen(mirror) - strlen(".git")), mirror);
	double deadline = time_monotonic() + (double)(timeout > 0 ? timeout : 30);
	bool said = false;
	int fd = -1;

	if ((mkdir(state_dir, 02770) < 0 && errno != EEXIST) || (mkdir(dir, 02770) < 0 && errno != EEXIST)) {
		error_set(err, false, "%s: cannot create %s: %s", rc->name, dir, strerror(errno));
		goto out;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (fd < 0) {
		error_set(err, false, "%s: cannot open %s: %s", rc->name, path, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			error_set(err, false, "%s: cannot lock %s: %s", rc->name, path, strerror(errno));
			goto fail;
		}
		if ((remote_stop_flag != NULL && *remote_stop_flag) || time_monotonic() >= deadline) {
			error_set(err, true, "%s: the mirror is busy (another bbgitops holds %s)", rc->name, path);
			goto fail;
		}
		if (!said)
			log_debug("%s: waiting for %s", rc->name, path);
		said = true;
		usleep(20000);
	}
	remove_stale_files(mirror);
	goto out;
fail:
	close(fd);
	fd = -1;
out:
	free(path);
	free(dir);
	free(mirror);
	return fd;
}

void
remote_unlock_mirror(int fd)
{
	if (fd >= 0)
		close(fd);   /* closing drops the flock */
}
