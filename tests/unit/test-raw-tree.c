/*
 * test-raw-tree.c — repo_raw_tree_changes (repo.h): the lockstep walk over two raw trees in git's entry order,
 * where a subtree "x" sorts as "x/" (after "x.sql", before "x0.sql"). Trees are built with libgit2's treebuilder
 * in a scratch repository; each case lists the files reported new or changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repo.h"
#include "tap.h"
#include "util.h"

static git_repository *repo;
static git_odb *odb;

/* A tree from "name=content" (a blob) and "name/" (an empty-ish subtree) specs, NULL-terminated. */
static git_oid
tree_of(const char *const *specs)
{
	git_treebuilder *tb = NULL, *sub = NULL;
	git_oid id, sub_id, blob;
	size_t i;

	git_treebuilder_new(&tb, repo, NULL);
	git_treebuilder_new(&sub, repo, NULL);
	git_blob_create_from_buffer(&blob, repo, "x", 1);
	git_treebuilder_insert(NULL, sub, "inner.sql", &blob, GIT_FILEMODE_BLOB);
	git_treebuilder_write(&sub_id, sub);
	for (i = 0; specs[i] != NULL; i++) {
		const char *eq = strchr(specs[i], '=');
		size_t n = strlen(specs[i]);

		if (specs[i][n - 1] == '/') {
			char *name = xstrndup(specs[i], n - 1);

			git_treebuilder_insert(NULL, tb, name, &sub_id, GIT_FILEMODE_TREE);
			free(name);
		} else {
			char *name = xstrndup(specs[i], (size_t)(eq - specs[i]));

			git_blob_create_from_buffer(&blob, repo, eq + 1, strlen(eq + 1));
			git_treebuilder_insert(NULL, tb, name, &blob, GIT_FILEMODE_BLOB);
			free(name);
		}
	}
	git_treebuilder_write(&id, tb);
	git_treebuilder_free(sub);
	git_treebuilder_free(tb);
	return id;
}

struct tree_case {
	const char *what;
	const char *before[8];   /* NULL first element with no_before: compare against nothing */
	bool no_before;
	const char *now[8];
	const char *want;        /* the changed names, space-separated, in tree order */
};

static const struct tree_case cases[] = {
	{ "one added, one modified, one kept", { "a.sql=1", "b.sql=2", NULL }, false,
	  { "a.sql=1", "b.sql=22", "c.sql=3", NULL }, "b.sql c.sql" },
	{ "nothing before: every file", { NULL }, true, { "b.sql=2", "a.sql=1", "d/", NULL }, "a.sql b.sql" },
	{ "a subtree x sorts between x.sql and x0.sql", { "x.sql=1", "x/", "x0.sql=2", NULL }, false,
	  { "x.sql=11", "x/", "x0.sql=22", NULL }, "x.sql x0.sql" },
	{ "a new x0.sql after the subtree x", { "x.sql=1", "x/", NULL }, false,
	  { "x.sql=1", "x/", "x0.sql=2", NULL }, "x0.sql" },
	{ "a file x replaced by a subtree x (files only are reported)", { "x=1", "x.sql=1", NULL }, false,
	  { "x/", "x.sql=1", NULL }, "" },
	{ "a subtree x replaced by a file x", { "x/", "x.sql=1", NULL }, false, { "x=1", "x.sql=1", NULL }, "x" },
	{ "deleted files are not changes", { "a.sql=1", "b.sql=2", NULL }, false, { "b.sql=2", NULL }, "" },
	{ "a name that is a prefix of another", { "ab.sql=1", NULL }, false, { "a.sql=1", "ab.sql=1", NULL },
	  "a.sql" },
};

int
main(void)
{
	char dir[] = "/tmp/bbgitops-test-raw-tree.XXXXXX";
	struct error err = ERROR_INIT;
	size_t i, j;

	if (mkdtemp(dir) == NULL || git_libgit2_init() < 0 || git_repository_init(&repo, dir, true) < 0 ||
	    git_repository_odb(&odb, repo) < 0) {
		printf("Bail out! cannot create a scratch repository in %s\n", dir);
		return 1;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tree_case *c = &cases[i];
		git_oid before = tree_of(c->before), now = tree_of(c->now);
		struct repo_change *changes = NULL;
		struct sbuf got = SBUF_INIT;
		size_t n = 0;
		int rc = repo_raw_tree_changes(odb, NULL, &now, c->no_before ? NULL : &before, &changes, &n, &err);

		ok(rc == 0, "%s: no error%s%s", c->what, rc ? ": " : "", rc ? err.msg : "");
		for (j = 0; j < n; j++)
			sbuf_addf(&got, "%s%s", j ? " " : "", changes[j].name);
		is_str(sbuf_str(&got), c->want, "%s", c->what);
		sbuf_release(&got);
		repo_changes_free(changes, n);
	}
	git_odb_free(odb);
	git_repository_free(repo);
	git_libgit2_shutdown();
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
		free(cmd);
	}
	return done_testing();
}
