/*
 * branch_start.c — the start records of created branches (branch_start.h): one file per (entry, branch) under
 * GIT_DIR/bbgitops/starts/, named by the SHA-1 of "entry\nbranch", holding a format line, the entry and branch
 * (checked on reading), the tip and the starting point. Written to a temporary file and renamed into place.
 */
#include "branch_start.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define START_FORMAT "bbgitops-branch-start 1"

/* GIT_DIR/bbgitops/starts/<SHA-1 of "entry\nbranch">: the record's path (caller frees). */
static char *
record_path(git_repository *repo, const char *entry, const char *branch)
{
	char *key = xasprintf("%s\n%s", entry, branch);
	char hex[GIT_OID_HEXSZ + 1];
	git_oid id;
	char *path;

	if (git_odb_hash(&id, key, strlen(key), GIT_OBJECT_BLOB) < 0) {
		git_error_clear();
		memset(&id, 0, sizeof(id));
	}
	git_oid_tostr(hex, sizeof(hex), &id);
	path = xasprintf("%sbbgitops/starts/%s", git_repository_path(repo), hex);
	free(key);
	return path;
}

/* mkdir DIR, group-writable when the repository directory is (a repository shared by several pushers). */
static int
make_dir(const char *dir, mode_t like, struct error *err)
{
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
		return error_set(err, false, "cannot create %s: %s", dir, strerror(errno));
	if (like & S_IWGRP)
		chmod(dir, 02775);   /* harmless when someone else owns it: the one who created it did the same */
	return 0;
}

int
branch_start_write(git_repository *repo, const char *entry, const char *branch,
	const struct branch_start *start, struct error *err)
{
	char *path = record_path(repo, entry, branch), *tmp = NULL, *dir = NULL;
	char tip[GIT_OID_HEXSZ + 1], from[GIT_OID_HEXSZ + 1];
	struct stat gst;
	FILE *f = NULL;
	int fd, ret = -1;

	if (stat(git_repository_path(repo), &gst) != 0)
		gst.st_mode = 0;
	dir = xasprintf("%sbbgitops", git_repository_path(repo));
	if (make_dir(dir, gst.st_mode, err) != 0)
		goto out;
	free(dir);
	dir = xasprintf("%sbbgitops/starts", git_repository_path(repo));
	if (make_dir(dir, gst.st_mode, err) != 0)
		goto out;
	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (gst.st_mode & S_IWGRP) ? 0664 : 0644);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		error_set(err, false, "cannot write %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	git_oid_tostr(tip, sizeof(tip), &start->tip);
	git_oid_tostr(from, sizeof(from), &start->from);
	fprintf(f, "%s\n%s\n%s\n%s\n%s\n", START_FORMAT, entry, branch, tip, start->from_root ? "root" : from);
	if (fclose(f) != 0) {
		f = NULL;
		error_set(err, false, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0) {
		error_set(err, false, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ret != 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(dir);
	free(path);
	return ret;
}

/* Reads line N (0-based) of TEXT into OUT (at most CAP - 1 bytes); false when there is no such line. */
static bool
nth_line(const char *text, int n, char *out, size_t cap)
{
	const char *p = text, *nl;
	size_t len;

	for (; n > 0; n--) {
		if ((p = strchr(p, '\n')) == NULL)
			return false;
		p++;
	}
	if ((nl = strchr(p, '\n')) == NULL)
		return false;
	len = (size_t)(nl - p);
	if (len >= cap)
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

int
branch_start_read(git_repository *repo, const char *entry, const char *branch, struct branch_start *start,
	bool *found, struct error *err)
{
	char *path = record_path(repo, entry, branch);
	char buf[1024], line[512];
	size_t n;
	FILE *f;
	bool ok;

	*found = false;
	memset(start, 0, sizeof(*start));
	if ((f = fopen(path, "re")) == NULL) {
		int e = errno, ret = 0;

		if (e != ENOENT && e != ENOTDIR)
			ret = error_set(err, false, "cannot read %s: %s", path, strerror(e));
		free(path);
		return ret;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	ok = nth_line(buf, 0, line, sizeof(line)) && strcmp(line, START_FORMAT) == 0 &&
		nth_line(buf, 1, line, sizeof(line)) && strcmp(line, entry) == 0 &&
		nth_line(buf, 2, line, sizeof(line)) && strcmp(line, branch) == 0 &&
		nth_line(buf, 3, line, sizeof(line)) && git_oid_fromstr(&start->tip, line) == 0 &&
		nth_line(buf, 4, line, sizeof(line)) &&
		((start->from_root = strcmp(line, "root") == 0) || git_oid_fromstr(&start->from, line) == 0);
	if (!ok) {
		git_error_clear();
		unlink(path);   /* a torn or foreign file: worth nothing */
		memset(start, 0, sizeof(*start));
	}
	*found = ok;
	free(path);
	return 0;
}

void
branch_start_remove(git_repository *repo, const char *entry, const char *branch,
	const struct branch_start *only)
{
	struct branch_start now;
	struct error err = ERROR_INIT;
	bool found = false;
	char *path;

	if (only != NULL && (branch_start_read(repo, entry, branch, &now, &found, &err) != 0 || !found ||
	    !git_oid_equal(&now.tip, &only->tip)))
		return;
	path = record_path(repo, entry, branch);
	unlink(path);
	free(path);
}
