/*
 * test-config.c — configuration parsing: defaults, every validation error with its line, secrecy checks and
 * branch globs. Writes small config files to a temporary directory.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char dir[] = "/tmp/bbgitops-test-config-XXXXXX";

static char *
write_file(const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(path, "w");

	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
	return path;
}

static bool
has_error(const struct strlist *errors, const char *needle)
{
	size_t i;

	for (i = 0; i < errors->len; i++)
		if (strstr(errors->items[i], needle) != NULL)
			return true;
	printf("# no error contains '%s'; errors were:\n", needle);
	for (i = 0; i < errors->len; i++)
		printf("#   %s\n", errors->items[i]);
	return false;
}

static void
test_minimal_defaults(void)
{
	struct strlist errors = STRLIST_INIT;
	struct config *cfg = NULL;
	char *path = write_file("min.conf",
		"state_dir = \"/tmp/x\";\n"
		"repositories = ( { name = \"hr\"; path = \"/srv/git/hr.git\"; base_directory = \"/bytebase/\"; } );\n",
		0644);

	if (ok(config_load(path, &cfg, &errors) == 0, "a minimal config loads")) {
		is_str(cfg->repos[0].branch, "main", "branch defaults to main");
		is_str(cfg->repos[0].base_directory, "bytebase", "base_directory is normalized");
		ok(cfg->repos[0].group_by == GROUP_BY_COMMIT, "group_by defaults to commit");
		ok(cfg->repos[0].start == START_TIP, "start defaults to tip");
		ok(cfg->bytebase == NULL, "no bytebase section means the local store");
		ok(cfg->hook_deliver == HOOK_DELIVER_BACKGROUND, "hook.deliver defaults to background");
		is_int(cfg->poll_interval, 120, "poll.interval defaults to 120");
		is_str(cfg->repos[0].title_template, "{subject}", "the title is the commit subject by default");
	}
	config_free(cfg);
	strlist_clear(&errors);
	free(path);
}

static void
test_every_error_with_line(void)
{
	struct strlist errors = STRLIST_INIT;
	struct config *cfg = NULL;
	char *path = write_file("bad.conf",
		"state_dir = \"relative\";\n"                                   /* 1 */
		"hook = { deliver = \"later\"; };\n"                              /* 2 */
		"repositories = (\n"                                             /* 3 */
		"  { name = \"hr\"; path = \"/a\"; url = \"https://x/y.git\"; comment = \"yes\"; },\n" /* 4 */
		"  { path = \"/b\"; },\n"                                          /* 5 */
		"  { name = \"hr\"; path = \"/c\"; group_by = \"pr\"; },\n"          /* 6 */
		"  { name = \"ok\"; path = \"/d\"; colour = \"blue\"; }\n"           /* 7 */
		");\n", 0600);
	char *want;

	ok(config_load(path, &cfg, &errors) != 0, "a bad config is refused");
	ok(cfg == NULL, "nothing is returned for a bad config");
	want = xasprintf("%s:1: 'state_dir' must be an absolute path", path);
	ok(has_error(&errors, want), "relative state_dir is reported at line 1");
	free(want);
	want = xasprintf("%s:2: 'deliver' must be one of background | inline | none", path);
	ok(has_error(&errors, want), "a bad hook.deliver is reported at line 2");
	free(want);
	want = xasprintf("%s:4: 'comment' must be true or false", path);
	ok(has_error(&errors, want), "a comment setting that is no boolean is reported at line 4");
	free(want);
	want = xasprintf("%s:5: repository entry: missing 'name'", path);
	ok(has_error(&errors, want), "a missing name is reported at line 5");
	free(want);
	want = xasprintf("%s:6: duplicate repository name 'hr'", path);
	ok(has_error(&errors, want), "a duplicate name is reported at line 6");
	free(want);
	want = xasprintf("%s:6: 'group_by' must be one of commit | file", path);
	ok(has_error(&errors, want), "a bad group_by is reported at line 6");
	free(want);
	want = xasprintf("%s:7: unknown key 'colour'", path);
	ok(has_error(&errors, want), "an unknown key is reported at line 7");
	free(want);
	is_int(errors.len, 7, "exactly the seven problems are reported");
	strlist_clear(&errors);
	free(path);
}

static void
test_syntax_error(void)
{
	struct strlist errors = STRLIST_INIT;
	struct config *cfg = NULL;
	char *path = write_file("syntax.conf", "state_dir = \"/x\"\nrepositories = (;\n", 0600);
	char *want = xasprintf("%s:2:", path);

	ok(config_load(path, &cfg, &errors) != 0, "a syntax error is refused");
	ok(errors.len == 1 && strncmp(errors.items[0], want, strlen(want)) == 0,
		"a syntax error names file and line");
	free(want);
	strlist_clear(&errors);
	free(path);
}

static void
test_secrets(void)
{
	const char *text =
		"state_dir = \"/tmp/x\";\n"
		"bytebase = { url = \"https://bb.example.com/\"; service_account = \"a@service.bytebase.com\";\n"
		"  service_key = \"bbs_secret\"; };\n"
		"repositories = ( { name = \"hr\"; path = \"/srv/hr.git\"; project = \"hr\"; } );\n";
	struct strlist errors = STRLIST_INIT;
	struct config *cfg = NULL;
	struct error err = ERROR_INIT;
	char *path = write_file("secret.conf", text, 0644), *secret = NULL, *keyfile;

	ok(config_load(path, &cfg, &errors) != 0, "an inline key in a world-readable config is refused");
	ok(has_error(&errors, "group or others can read it"), "the refusal says why");
	strlist_clear(&errors);
	chmod(path, 0600);
	if (ok(config_load(path, &cfg, &errors) == 0, "the same config with mode 600 loads")) {
		is_str(cfg->bytebase->url, "https://bb.example.com", "the trailing slash of the url is dropped");
		config_free(cfg);
	}
	free(path);

	keyfile = write_file("key", "bbs_fromfile\n", 0640);
	ok(config_read_secret(keyfile, &secret, &err) != 0, "a group-readable secret file is refused");
	ok(strstr(err.msg, "readable by group or others") != NULL && strstr(err.msg, "bbs_") == NULL,
		"the refusal names the problem and never the secret");
	chmod(keyfile, 0600);
	if (ok(config_read_secret(keyfile, &secret, &err) == 0, "a private secret file is read"))
		is_str(secret, "bbs_fromfile", "the trailing newline is stripped");
	free(secret);
	free(keyfile);
	strlist_clear(&errors);
}

static void
test_branch_globs(void)
{
	char release[] = "release/*", main_branch[] = "main", hotfix[] = "hotfix-?";
	struct repo_config r = { 0 };

	r.branch = release;
	ok(config_branch_matches(&r, "release/1.0"), "release/* matches release/1.0");
	ok(!config_branch_matches(&r, "release/1/hotfix"), "release/* does not cross a slash");
	ok(!config_branch_matches(&r, "main"), "release/* does not match main");
	r.branch = main_branch;
	ok(config_branch_matches(&r, "main"), "an exact name matches itself");
	ok(!config_branch_matches(&r, "main2"), "an exact name matches nothing else");
	r.branch = hotfix;
	ok(config_branch_matches(&r, "hotfix-1"), "? matches one character");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 99;
	test_minimal_defaults();
	test_every_error_with_line();
	test_syntax_error();
	test_secrets();
	test_branch_globs();
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
		free(cmd);
	}
	return done_testing();
}
