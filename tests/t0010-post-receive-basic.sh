#!/bin/sh
test_description='post-receive: a push of migration files becomes one rollout issue per commit (design §2, §3, §5)

Real pushes into bare repositories carrying the hook installed by "bbgitops install-hook"; no Bytebase
configured, so issues stay in the local store with status "local".'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

test_expect_success 'setup: two server repositories with the hook installed' '
	setup_server_repo hr &&
	setup_server_repo crm &&
	write_config <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git"; branch = "main"; base_directory = "bytebase"; project = "hr"; },
	  { name = "crm"; path = "$TRASH/crm.git"; branch = "main"; base_directory = "db"; project = "crm";
	    group_by = "file"; }
	);
	EOF
	install_hook "$TRASH/hr.git" &&
	install_hook "$TRASH/crm.git" &&
	test -x hr.git/hooks/post-receive &&
	test -x crm.git/hooks/post-receive
'

test_expect_success 'a push with no migration creates no issue' '
	(
		cd hr &&
		add_file README "hello" &&
		commit_all "Initial commit" &&
		push_to ../push0.out origin main
	) &&
	issues_json >issues.json &&
	echo 0 >expect &&
	json_query "len(d)" issues.json >actual &&
	test_cmp expect actual
'

test_expect_success 'one commit adding two migrations is queued as exactly one rollout issue' '
	(
		cd hr &&
		add_file bytebase/0002_dml_seed.sql "INSERT INTO t VALUES (1);" &&
		add_file bytebase/0001_create_t.sql "CREATE TABLE t (id int);" &&
		git commit -q -m "Create table t and seed it" -m "The body of the commit." &&
		push_to ../push1.out origin main
	) &&
	issues_json >issues.json &&
	echo 1 >expect &&
	json_query "len(d)" issues.json >actual &&
	test_cmp expect actual
'

test_expect_success 'the pusher sees one "bbgitops:" line summing up the queued migrations' '
	bbgitops_lines push1.out >lines &&
	echo "remote: bbgitops: main: 2 migrations queued as 1 rollout issue" >expect &&
	test_cmp expect lines
'

test_expect_success 'the issue lists its files in version order with types, versions and blob ids' '
	(
		cd hr &&
		echo "bytebase/0001_create_t.sql 0001 MIGRATE $(git rev-parse HEAD:bytebase/0001_create_t.sql)" &&
		echo "bytebase/0002_dml_seed.sql 0002 DATA $(git rev-parse HEAD:bytebase/0002_dml_seed.sql)"
	) >expect &&
	json_query "[\"%s %s %s %s\" % (f[\"path\"], f[\"version\"], f[\"type\"], f[\"blob\"]) for f in d[0][\"files\"]]" \
		issues.json >actual &&
	test_cmp expect actual
'

test_expect_success 'the issue names the repository, branch, pushed commit, subject and status local' '
	(
		cd hr &&
		echo "repository=hr" &&
		echo "branch=main" &&
		echo "commit=$(git rev-parse HEAD)" &&
		echo "title=Create table t and seed it" &&
		echo "status=local" &&
		echo "bytebase_issue=null"
	) >expect &&
	json_query "[k + \"=\" + (d[0][k] if d[0][k] is not None else \"null\") for k in
		(\"repository\", \"branch\", \"commit\", \"title\", \"status\", \"bytebase_issue\")]" issues.json >actual &&
	test_cmp expect actual
'

test_expect_success 'the issue carries the documented keys (id, attempts, last_error, files)' '
	json_query "sorted(k for k in (\"id\", \"repository\", \"branch\", \"commit\", \"title\", \"status\", \"attempts\",
		\"last_error\", \"bytebase_issue\", \"files\") if k not in d[0])" issues.json >missing &&
	test_must_be_empty missing &&
	json_query "isinstance(d[0][\"id\"], int) and d[0][\"id\"] > 0" issues.json >actual &&
	echo true >expect &&
	test_cmp expect actual
'

test_expect_success 'ddl, dml and ghost prefixes give MIGRATE, DATA and MIGRATE_GHOST' '
	(
		cd hr &&
		add_file bytebase/0003ghost_add_col.sql "ALTER TABLE t ADD COLUMN c int;" &&
		add_file bytebase/0004_ddl_index.sql "CREATE INDEX i ON t (c);" &&
		add_file bytebase/0005dml_more.sql "INSERT INTO t VALUES (2);" &&
		add_file bytebase/0006_plain.sql "SELECT 1;" &&
		commit_all "Types" &&
		push_to ../push2.out origin main
	) &&
	issues_json >issues.json &&
	cat >expect <<-\EOF &&
	bytebase/0003ghost_add_col.sql MIGRATE_GHOST
	bytebase/0004_ddl_index.sql MIGRATE
	bytebase/0005dml_more.sql DATA
	bytebase/0006_plain.sql MIGRATE
	EOF
	json_query "[\"%s %s\" % (f[\"path\"], f[\"type\"]) for f in d[-1][\"files\"]]" issues.json >actual &&
	test_cmp expect actual
'

test_expect_success 'versions order numerically, then by path (9 before 10, duplicates by path)' '
	(
		cd hr &&
		add_file bytebase/10_x.sql &&
		add_file bytebase/9_x.sql &&
		add_file bytebase/202401010000_big.sql &&
		add_file bytebase/0100_b.sql &&
		add_file bytebase/0100_a.sql &&
		add_file bytebase/0050_pair.up.sql &&
		add_file bytebase/0050_pair.down.sql &&
		commit_all "Ordering" &&
		push_to ../push3.out origin main
	) &&
	issues_json >issues.json &&
	cat >expect <<-\EOF &&
	bytebase/9_x.sql 9
	bytebase/10_x.sql 10
	bytebase/0050_pair.down.sql 0050
	bytebase/0050_pair.up.sql 0050
	bytebase/0100_a.sql 0100
	bytebase/0100_b.sql 0100
	bytebase/202401010000_big.sql 202401010000
	EOF
	json_query "[\"%s %s\" % (f[\"path\"], f[\"version\"]) for f in d[-1][\"files\"]]" issues.json >actual &&
	test_cmp expect actual
'

test_expect_success 'a version is only the leading digits; versions longer than 64 bits still order numerically' '
	(
		cd hr &&
		add_file bytebase/1.13.0_semver.sql &&
		add_file bytebase/123456789012345678901234567890_huge.sql &&
		add_file bytebase/99999999999999999999_less.sql &&
		commit_all "Long versions" &&
		push_to ../push4.out origin main
	) &&
	issues_json >issues.json &&
	cat >expect <<-\EOF &&
	bytebase/1.13.0_semver.sql 1
	bytebase/99999999999999999999_less.sql 99999999999999999999
	bytebase/123456789012345678901234567890_huge.sql 123456789012345678901234567890
	EOF
	json_query "[\"%s %s\" % (f[\"path\"], f[\"version\"]) for f in d[-1][\"files\"]]" issues.json >actual &&
	test_cmp expect actual
'

test_expect_success 'group_by = "file" makes one issue per migration file, in version order' '
	(
		cd crm &&
		add_file db/0002_dml_seed.sql "INSERT INTO c VALUES (1);" &&
		add_file db/0001_create_c.sql "CREATE TABLE c (id int);" &&
		commit_all "Create c" &&
		push_to ../push5.out origin main
	) &&
	issues_json --repo crm >crm.json &&
	commit=$(git -C crm rev-parse HEAD) &&
	cat >expect <<-EOF &&
	crm main $commit db/0001_create_c.sql
	crm main $commit db/0002_dml_seed.sql
	EOF
	json_query "[\"%s %s %s %s\" % (i[\"repository\"], i[\"branch\"], i[\"commit\"],
		\",\".join(f[\"path\"] for f in i[\"files\"])) for i in d]" crm.json >actual &&
	test_cmp expect actual &&
	bbgitops_lines push5.out >lines &&
	test_line_count = 1 lines
'

test_expect_success 'issues --repo lists only that repository, oldest first' '
	issues_json --repo hr >hr.json &&
	json_query "sorted(set(i[\"repository\"] for i in d))" hr.json >actual &&
	echo hr >expect &&
	test_cmp expect actual &&
	json_query "len(d)" hr.json >actual &&
	echo 4 >expect &&
	test_cmp expect actual &&
	json_query "[i[\"id\"] for i in d] == sorted(i[\"id\"] for i in d)" hr.json >actual &&
	echo true >expect &&
	test_cmp expect actual &&
	json_query "len(d)" crm.json >actual &&
	echo 2 >expect &&
	test_cmp expect actual
'

test_expect_success 'issues --status filters on the status' '
	issues_json --status local >local.json &&
	json_query "len(d)" local.json >actual &&
	echo 6 >expect &&
	test_cmp expect actual &&
	issues_json --status pending >pending.json &&
	json_query "len(d)" pending.json >actual &&
	echo 0 >expect &&
	test_cmp expect actual &&
	issues_json --repo crm --status local >both.json &&
	json_query "len(d)" both.json >actual &&
	echo 2 >expect &&
	test_cmp expect actual
'

test_expect_success 'issues without --json prints a readable table, one row per issue' '
	bbgitops issues >table &&
	test_grep -v "^\[" table &&
	test_grep "Create table t and seed it" table &&
	test_grep "Create c" table &&
	test_grep "local" table &&
	for id in $(json_query "[i[\"id\"] for i in d]" local.json)
	do
		grep -E "(^|[^0-9])$id([^0-9]|$)" table >/dev/null || { echo "issue $id missing"; return 1; }
	done &&
	bbgitops issues --repo crm >crm-table &&
	test_grep -v "Create table t" crm-table
'

test_expect_success 'post-receive exits 0 and reads all of stdin even with nothing to do' '
	test_seq 5000 | sed "s/.*/$ZERO_OID $ZERO_OID refs\/heads\/none-&/" >stdin &&
	(
		cd hr.git &&
		{ cat ../stdin; echo $? >../writer.status; } | "$BBGITOPS" -c "$CONF" post-receive >../out 2>&1
	) &&
	echo 0 >expect &&
	test_cmp expect writer.status
'

test_expect_success 'state files are never world-accessible, even under umask 022' '
	umask &&
	find "$STATE_DIR" -perm /007 >world &&
	test_must_be_empty world
'

test_expect_success 'state files are group-writable, so a poller of the same group can share them (design §6)' '
	find "$STATE_DIR" -type f ! -perm -060 >not-group-rw &&
	test_must_be_empty not-group-rw &&
	find "$STATE_DIR" -type d ! -perm -070 >not-group-rwx &&
	test_must_be_empty not-group-rwx
'

test_done
