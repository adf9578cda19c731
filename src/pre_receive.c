/*
 * pre_receive.c — the strict mode (design §2, §5): rejects a push to a watched branch that would leave the
 * convention silently ignoring something — a misnamed or nested .sql file under the base directory, a version
 * already in use — or that modifies or deletes a migration Bytebase has already received. The pushed objects are
 * still in quarantine, so the repository is opened from git's environment. Only the base directory's subtrees
 * before and after the push are compared. Problems of bbgitops itself (bad config, unreadable state) never block
 * a push: they are reported and the push is accepted.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "branch_start.h"
#include "catchup.h"
#include "commands.h"
#include "hook.h"
#include "log.h"
#include "migration.h"
#include "repo.h"
#include "state.h"
#include "util.h"

struct version_use {
	struct strset versions;   /* numeric-normalised version -> in use */
	struct strlist uses;
};

/* Versions compare by value ("0001" and "1" are the same version for Bytebase). */
static char *
version_key(const char *version)
{
	while (*version == '0' && version[1] != '\0')
		version++;
	return xstrdup(version);
}

static void
note_version(const char *version, const char *path, void *arg)
{
	struct version_use *use = arg;
	char *key = version_key(version);

	if (strset_add(&use->versions, key))
		strlist_pushf(&use->uses, "%s\n%s", key, path);
	free(key);
}

static const char *
version_owner(const struct version_use *use, const char *version)
{
	char *key = version_key(version);
	size_t i, n = strlen(key);
	const char *owner = "an earlier migration";

	for (i = 0; i < use->uses.len; i++)
		if (strncmp(use->uses.items[i], key, n) == 0 && use->uses.items[i][n] == '\n')
			owner = use->uses.items[i] + n + 1;
	free(key);
	return owner;
}

static bool
is_sql_name(const char *path)
{
	size_t n = strlen(path);

	return n >= 4 && strcasecmp(path + n - 4, ".sql") == 0;
}

struct check {
	git_repository *git;
	long max_size;             /* max_migration_size */
	const struct repo_config *repo;
	const char *branch;
	const char *ref;
	struct state *st;          /* NULL when there is no state yet */
	struct version_use use;
	size_t problems;
};

static void problem(struct check *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
problem(struct check *c, const char *path, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	char *quoted = str_quote_path(path);   /* a name may hold newlines or escape sequences */
	va_list ap;

	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	log_warnx("rejected %s: %s: %s", c->ref, quoted, sbuf_str(&sb));
	sbuf_release(&sb);
	free(quoted);
	c->problems++;
}

static int
check_delta(struct check *c, const git_diff_delta *d, struct error *err)
{
	const char *rel = d->status == GIT_DELTA_DELETED ? d->old_file.path : d->new_file.path;
	char *path = migration_join_path(c->repo->base_directory, rel);
	struct migration_name m = { 0 };
	bool delivered = false;
	size_t size = 0;
	int rc = 0;

	if (!is_sql_name(rel))
		goto out;
	if (d->status == GIT_DELTA_DELETED || d->status == GIT_DELTA_MODIFIED || d->status == GIT_DELTA_TYPECHANGE) {
		const char *old_path = migration_join_path(c->repo->base_directory, d->old_file.path);

		if (c->st != NULL && state_path_delivered(c->st, c->repo->name, c->branch, old_path, &delivered,
		    err) != 0)
			rc = -1;
		else if (delivered)
			problem(c, old_path, "already delivered to Bytebase; %s it and add a new migration instead",
				d->status == GIT_DELTA_DELETED ? "keep" : "revert the change to");
		free((char *)old_path);
		if (rc != 0 || d->status == GIT_DELTA_DELETED)
			goto out;
	}
	if (strchr(rel, '/') != NULL) {
		problem(c, path, "nested under %s/: migration files must sit directly in the base directory",
			c->repo->base_directory[0] ? c->repo->base_directory : "the repository root");
		goto out;
	}
	if (d->new_file.mode == GIT_FILEMODE_LINK || d->new_file.mode == GIT_FILEMODE_COMMIT) {
		problem(c, path, "a %s, not a file: it would never be delivered; commit the SQL itself",
			d->new_file.mode == GIT_FILEMODE_LINK ? "symbolic link" : "submodule");
		goto out;
	}
	if (!migration_parse(rel, &m)) {
		problem(c, path, "not a migration name: expected <version>_<description>.sql (digits first, "
			"lower-case .sql)");
		goto out;
	}
	if (repo_blob_size(c->git, &d->new_file.id, &size, err) != 0) {
		rc = -1;
		goto out;
	}
	if (size > (size_t)c->max_size)
		problem(c, path, "%zu bytes, over max_migration_size (%ld bytes): split it, or raise the limit",
			size, c->max_size);
	if (d->status == GIT_DELTA_ADDED) {
		char *key = version_key(m.version);

		/* The same path holding the version is the same migration (re-added, or a rewritten commit). */
		if (!strset_contains(&c->use.versions, key)) {
			note_version(m.version, path, &c->use);
		} else if (strcmp(version_owner(&c->use, m.version), path) != 0) {
			char *owner = str_quote_path(version_owner(&c->use, m.version));

			problem(c, path, "version %s is already used by %s", m.version, owner);
			free(owner);
		}
		free(key);
	}
out:
	migration_name_clear(&m);
	free(path);
	return rc;
}

static void
note_tree_versions(git_tree *tree, const char *base, struct version_use *use)
{
	size_t i, n = tree ? git_tree_entrycount(tree) : 0;

	for (i = 0; i < n; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		struct migration_name m = { 0 };

		if (git_tree_entry_type(e) == GIT_OBJECT_BLOB && migration_parse(git_tree_entry_name(e), &m)) {
			char *path = migration_join_path(base, git_tree_entry_name(e));

			note_version(m.version, path, use);
			free(path);
			migration_name_clear(&m);
		}
	}
}

static int
lookup_base_tree(git_repository *git, const git_oid *commit_id, const char *base, git_tree **out,
	struct error *err)
{
	git_commit *commit = NULL;
	git_oid tree_id;
	bool exists = false;
	int rc = 0;

	*out = NULL;
	if (git_commit_lookup(&commit, git, commit_id) < 0)
		return repo_error(err, "cannot read commit %s", git_oid_tostr_s(commit_id));
	if (repo_base_tree_id(commit, base, &tree_id, &exists, err) != 0)
		rc = -1;
	else if (exists && git_tree_lookup(out, git, &tree_id) < 0)
		rc = repo_error(err, "cannot read tree %s", git_oid_tostr_s(&tree_id));
	git_commit_free(commit);
	return rc;
}

/*
 * A branch this push creates: where its catch-up begins, written before the refs move, so that post-receive
 * dying at any moment loses nothing (catchup_begin; post-receive skips the work when this record is there).
 */
static void
record_start(git_repository *git, const struct repo_config *repo, const char *branch, const git_oid *tip,
	const git_oid *boundary)
{
	struct branch_start start;
	struct error err = ERROR_INIT;

	memset(&start, 0, sizeof(start));
	git_oid_cpy(&start.tip, tip);
	start.from_root = boundary == NULL;
	if (boundary != NULL)
		git_oid_cpy(&start.from, boundary);
	if (branch_start_write(git, repo->name, branch, &start, &err) != 0)
		log_warnx("%s: %s (post-receive will try again)", branch, err.msg);
}

/* Checks one watched branch update; returns the number of problems, or -1 when the check itself failed. */
static int
check_update(git_repository *git, struct state *st, long max_size, const struct repo_config *repo,
	const struct ref_update *u, const struct walk_pushed_ref *pushed, size_t n_pushed, struct error *err)
{
	struct check c = { git, max_size, repo, u->ref + strlen("refs/heads/"), u->ref, st, { STRSET_INIT, STRLIST_INIT }, 0 };
	git_tree *before = NULL, *after = NULL;
	git_diff *diff = NULL;
	git_oid tip, old, boundary;
	bool has_boundary = false;
	struct catchup_request req = { .repo = repo, .branch = c.branch, .ref_name = u->ref, .pushed = pushed,
		.n_pushed = n_pushed, .origin = CATCHUP_HOOK };
	size_t i;
	int rc = -1;

	if (git_oid_fromstr(&tip, u->new_hex) < 0 || repo_peel_commit(git, &tip, &tip, err) != 0)
		goto out;
	req.tip = &tip;
	if (str_is_zero_oid(u->old_hex))
		req.created = true;
	else if (git_oid_fromstr(&old, u->old_hex) == 0)
		req.old = &old;
	if (catchup_push_boundary(git, &req, &boundary, &has_boundary, err) != 0)
		goto out;
	if (has_boundary && lookup_base_tree(git, &boundary, repo->base_directory, &before, err) != 0)
		goto out;
	if (lookup_base_tree(git, &tip, repo->base_directory, &after, err) != 0)
		goto out;
	note_tree_versions(before, repo->base_directory, &c.use);
	if (st != NULL && state_ledger_versions(st, repo->name, c.branch, note_version, &c.use, err) != 0)
		goto out;
	if (git_diff_tree_to_tree(&diff, git, before, after, NULL) < 0) {
		repo_error(err, "cannot compare %s/ before and after the push", repo->base_directory);
		goto out;
	}
	for (i = 0; i < git_diff_num_deltas(diff); i++)
		if (check_delta(&c, git_diff_get_delta(diff, i), err) != 0)
			goto out;
	if (c.problems == 0 && req.created)
		record_start(git, repo, c.branch, &tip, has_boundary ? &boundary : NULL);
	rc = (int)c.problems;
out:
	git_diff_free(diff);
	git_tree_free(after);
	git_tree_free(before);
	strset_clear(&c.use.versions);
	strlist_clear(&c.use.uses);
	return rc;
}

/* The quarantined repository git is receiving into: GIT_DIR plus the quarantine object directories. */
static int
open_quarantined(git_repository **out, struct error *err)
{
	/* GIT_REPOSITORY_OPEN_FROM_ENV refuses these; a hook of a bare repository never needs them. */
	unsetenv("GIT_WORK_TREE");
	unsetenv("GIT_COMMON_DIR");
	if (git_repository_open_ext(out, NULL, GIT_REPOSITORY_OPEN_FROM_ENV, NULL) < 0)
		return repo_error(err, "cannot open the repository being pushed to");
	return 0;
}

int
cmd_pre_receive(const struct cli *cli, int argc, char **argv)
{
	struct strlist errors = STRLIST_INIT;
	struct ref_update *updates = NULL;
	struct walk_pushed_ref *pushed = NULL;
	struct error err = ERROR_INIT;
	struct config *cfg = NULL;
	struct state *st = NULL;
	git_repository *git = NULL;
	bool *entry_here = NULL, state_exists;
	size_t n_updates, i, j, problems = 0;
	int n_entries;

	(void)argc;
	(void)argv;
	n_updates = hook_read_updates(stdin, &updates);
	if (config_load(cli->config_path, &cfg, &errors) != 0) {
		log_warnx("configuration error, push not checked: %s", errors.len ? errors.items[0] : "unknown");
		goto out;
	}
	entry_here = xcalloc(cfg->n_repos + 1, sizeof(*entry_here));
	n_entries = hook_find_entries(cfg, hook_git_dir(), entry_here);
	if (n_entries <= 0)
		goto out;
	pushed = hook_pushed_refs(updates, n_updates);
	for (i = 0; i < n_updates; i++) {
		if (!str_starts_with(updates[i].ref, "refs/heads/") || str_is_zero_oid(updates[i].new_hex))
			continue;
		for (j = 0; j < cfg->n_repos; j++) {
			int found;

			if (!entry_here[j] ||
			    !config_branch_matches(&cfg->repos[j], updates[i].ref + strlen("refs/heads/")))
				continue;
			if (git == NULL && (repo_library_init(&err) != 0 || open_quarantined(&git, &err) != 0)) {
				log_warnx("%s; push not checked", err.msg);
				goto out;
			}
			if (st == NULL && state_open_existing(cfg, &st, &state_exists, &err) != 0) {
				log_warnx("%s; checking without the ledger", err.msg);
				st = NULL;
			}
			found = check_update(git, st, cfg->max_migration_size, &cfg->repos[j], &updates[i], pushed, n_updates, &err);
			if (found < 0)
				log_warnx("%s: %s; not checked", updates[i].ref, err.msg);
			else
				problems += (size_t)found;
		}
	}
	if (problems > 0)
		log_warnx("push rejected: %zu problem%s with migration files (see above)", problems,
			problems == 1 ? "" : "s");
out:
	git_repository_free(git);
	state_close(st);
	free(pushed);
	free(entry_here);
	hook_updates_free(updates, n_updates);
	config_free(cfg);
	strlist_clear(&errors);
	repo_library_shutdown();
	return problems > 0 ? 1 : 0;
}
