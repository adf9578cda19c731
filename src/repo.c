/*
 * repo.c — libgit2: hardened start-up, opening repositories, and reading what a commit changed directly under the
 * base directory. The base directory's subtree ids are compared first; when they differ only its immediate
 * entries are merged by name — never a whole-tree diff, never rename detection.
 */
#include "repo.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static bool library_ready;

int
repo_error(struct error *err, const char *fmt, ...)
{
	const git_error *e = git_error_last();
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return error_set(err, false, "%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
}

int
repo_library_init(struct error *err)
{
	static const git_config_level_t levels[] = { GIT_CONFIG_LEVEL_PROGRAMDATA, GIT_CONFIG_LEVEL_SYSTEM,
		GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL };
	size_t i;

	if (library_ready)
		return 0;
	if (git_libgit2_init() < 0)
		return repo_error(err, "cannot initialise libgit2");
	/* No user's or system's gitconfig may change what we see. */
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
	/* The poller may run as another user than the repository's owner (hook and poller share state). */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	/* A long-running poller must not accumulate open pack files. */
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_FILE_LIMIT, (size_t)128);
	/* Walks read each object once: a small cache keeps long backfills' memory below git's own. */
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)(16 * 1024 * 1024));
	library_ready = true;
	return 0;
}

void
repo_library_shutdown(void)
{
	if (library_ready)
		git_libgit2_shutdown();
	library_ready = false;
}

int
repo_open(const char *path, git_repository **out, struct error *err)
{
	if (git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return repo_error(err, "cannot open repository %s", path);
	return 0;
}

/* The tree of BASE in COMMIT, or NULL (with *exists false) when there is none. */
static int
base_tree(git_repository *repo, const git_commit *commit, const char *base, git_tree **out, struct error *err)
{
	git_tree *root = NULL;
	git_tree_entry *entry = NULL;
	int rc;

	*out = NULL;
	if (git_commit_tree(&root, commit) < 0)
		return repo_error(err, "cannot read tree of commit %s", git_oid_tostr_s(git_commit_id(commit)));
	if (base[0] == '\0') {
		*out = root;
		return 0;
	}
	rc = git_tree_entry_bypath(&entry, root, base);
	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		git_tree_free(root);
		return 0;
	}
	if (rc < 0) {
		git_tree_free(root);
		return repo_error(err, "cannot look up %s in commit %s", base, git_oid_tostr_s(git_commit_id(commit)));
	}
	if (git_tree_entry_type(entry) == GIT_OBJECT_TREE &&
	    git_tree_lookup(out, repo, git_tree_entry_id(entry)) < 0) {
		git_tree_entry_free(entry);
		git_tree_free(root);
		return repo_error(err, "cannot read tree %s", base);
	}
	git_tree_entry_free(entry);
	git_tree_free(root);
	return 0;
}

int
repo_base_tree_id(git_repository *repo, const git_commit *commit, const char *base, git_oid *out, bool *exists,
	struct error *err)
{
	git_tree *root = NULL;
	git_tree_entry *entry = NULL;
	int rc;

	(void)repo;
	*exists = false;
	if (base[0] == '\0') {
		git_oid_cpy(out, git_commit_tree_id(commit));
		*exists = true;
		return 0;
	}
	if (git_commit_tree(&root, commit) < 0)
		return repo_error(err, "cannot read tree of commit %s", git_oid_tostr_s(git_commit_id(commit)));
	rc = git_tree_entry_bypath(&entry, root, base);
	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		git_tree_free(root);
		return 0;
	}
	if (rc < 0) {
		git_tree_free(root);
		return repo_error(err, "cannot look up %s in commit %s", base, git_oid_tostr_s(git_commit_id(commit)));
	}
	if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
		git_oid_cpy(out, git_tree_entry_id(entry));
		*exists = true;
	}
	git_tree_entry_free(entry);
	git_tree_free(root);
	return 0;
}

static bool
is_file_entry(const git_tree_entry *e)
{
	git_filemode_t mode = git_tree_entry_filemode(e);

	return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

int
repo_base_changes(git_repository *repo, const git_commit *commit, const git_commit *parent, const char *base,
	struct repo_change **out, size_t *n, struct error *err)
{
	git_tree *now = NULL, *before = NULL;
	struct repo_change *changes = NULL;
	size_t len = 0, cap = 0, i, n_now;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (base_tree(repo, commit, base, &now, err) != 0)
		goto out;
	if (now == NULL) {
		rc = 0;   /* no base directory: nothing added */
		goto out;
	}
	if (parent != NULL && base_tree(repo, parent, base, &before, err) != 0)
		goto out;
	if (before != NULL && git_oid_equal(git_tree_id(now), git_tree_id(before))) {
		rc = 0;
		goto out;
	}
	n_now = git_tree_entrycount(now);
	/* Entries are matched by name (binary search in the parent's tree); only file entries count. */
	for (i = 0; i < n_now; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(now, i);
		const git_tree_entry *old = NULL;

		if (!is_file_entry(e))
			continue;
		old = before ? git_tree_entry_byname(before, git_tree_entry_name(e)) : NULL;
		if (old != NULL && is_file_entry(old) && git_oid_equal(git_tree_entry_id(old), git_tree_entry_id(e)))
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			changes = xrealloc(changes, cap * sizeof(*changes));
		}
		changes[len].name = xstrdup(git_tree_entry_name(e));
		git_oid_cpy(&changes[len].blob, git_tree_entry_id(e));
		len++;
	}
	*out = changes;
	*n = len;
	changes = NULL;
	rc = 0;
out:
	repo_changes_free(changes, len);
	git_tree_free(before);
	git_tree_free(now);
	return rc;
}

void
repo_changes_free(struct repo_change *changes, size_t n)
{
	size_t i;

	if (changes == NULL)
		return;
	for (i = 0; i < n; i++)
		free(changes[i].name);
	free(changes);
}

int
repo_read_blob(git_repository *repo, const git_oid *id, void **data, size_t *len, struct error *err)
{
	git_blob *blob = NULL;
	git_object_size_t size;

	if (git_blob_lookup(&blob, repo, id) < 0)
		return repo_error(err, "cannot read blob %s", git_oid_tostr_s(id));
	size = git_blob_rawsize(blob);
	*data = xmalloc((size_t)size + 1);
	memcpy(*data, git_blob_rawcontent(blob), (size_t)size);
	((char *)*data)[size] = '\0';
	*len = (size_t)size;
	git_blob_free(blob);
	return 0;
}

int
repo_peel_commit(git_repository *repo, const git_oid *id, git_oid *out, struct error *err)
{
	git_object *obj = NULL, *peeled = NULL;

	if (git_object_lookup(&obj, repo, id, GIT_OBJECT_ANY) < 0)
		return repo_error(err, "cannot read object %s", git_oid_tostr_s(id));
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		git_object_free(obj);
		return repo_error(err, "%s does not point at a commit", git_oid_tostr_s(id));
	}
	git_oid_cpy(out, git_object_id(peeled));
	git_object_free(peeled);
	git_object_free(obj);
	return 0;
}

bool
repo_has_object(git_repository *repo, const git_oid *id)
{
	git_odb *odb = NULL;
	bool has;

	if (git_repository_odb(&odb, repo) < 0) {
		git_error_clear();
		return false;
	}
	has = git_odb_exists(odb, id) != 0;
	git_odb_free(odb);
	return has;
}
