#!/bin/sh
test_description='post-receive: only files following the naming convention under the base directory count (design §2)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

# push_hr MSG: commits everything in hr with MSG and pushes main; output in push.out.
push_hr () {
	(
		cd "$TRASH/hr" &&
		commit_all "$1" &&
		push_to ../push.out origin main
	)
}

# expect_issues N [ARGS]: issues --json ARGS lists exactly N issues.
expect_issues () {
	echo "$1" >expect.count &&
	shift &&
	issue_count "$@" >actual.count &&
	test_cmp expect.count actual.count
}

test_expect_success 'setup: repositories with base directories "bytebase", "", "/" and "/bytebase/"' '
	for r in hr root1 root2 slashy
	do
		setup_server_repo $r || return 1
	done &&
	write_config <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git"; branch = "main"; base_directory = "bytebase"; project = "hr"; },
	  { name = "root1"; path = "$TRASH/root1.git"; branch = "main"; base_directory = ""; project = "p"; },
	  { name = "root2"; path = "$TRASH/root2.git"; branch = "main"; base_directory = "/"; project = "p"; },
	  { name = "slashy"; path = "$TRASH/slashy.git"; branch = "main"; base_directory = "/bytebase/"; project = "p"; }
	);
	EOF
	for r in hr root1 root2 slashy
	do
		install_hook "$TRASH/$r.git" || return 1
	done &&
	(cd hr && add_file README hello) &&
	push_hr "Initial commit" &&
	expect_issues 0
'

test_expect_success 'a .sql file without a leading version (init.sql) is not a migration' '
	(cd hr && add_file bytebase/init.sql) &&
	push_hr "init" &&
	expect_issues 0
'

test_expect_success 'a file nested below the base directory is not a migration' '
	(cd hr && add_file bytebase/sub/0004_x.sql) &&
	push_hr "nested" &&
	expect_issues 0
'

test_expect_success 'a file not ending in .sql is not a migration' '
	(cd hr && add_file bytebase/0005_x.txt) &&
	push_hr "txt" &&
	expect_issues 0
'

test_expect_success 'the .sql suffix is case-sensitive (0006_x.SQL is not a migration)' '
	(cd hr && add_file bytebase/0006_x.SQL) &&
	push_hr "upper" &&
	expect_issues 0
'

test_expect_success 'files outside the base directory are not migrations' '
	(cd hr && add_file other/0007_x.sql && add_file 0008_x.sql && add_file other/bytebase/0009_x.sql) &&
	push_hr "outside" &&
	expect_issues 0
'

test_expect_success 'a directory differing from the base directory only in case does not count' '
	(cd hr && add_file Bytebase/0010_x.sql && add_file BYTEBASE/0011_x.sql) &&
	push_hr "case" &&
	expect_issues 0
'

test_expect_success 'a sibling directory sharing the prefix, and a directory named like a migration, do not count' '
	(cd hr && add_file bytebase2/0012_x.sql && add_file bytebase/0013_dir.sql/keep.sql) &&
	push_hr "prefix" &&
	expect_issues 0
'

test_expect_success 'a migration among ignored files is queued alone' '
	(cd hr && add_file bytebase/0020_real.sql "CREATE TABLE real (id int);" && add_file bytebase/notes.md &&
		add_file bytebase/deep/0021_x.sql) &&
	push_hr "real" &&
	expect_issues 1 &&
	echo bytebase/0020_real.sql >expect &&
	issue_files -1 path >actual &&
	test_cmp expect actual
'

test_expect_success 'deleting a migration file creates no issue' '
	(cd hr && git rm -q bytebase/0020_real.sql) &&
	push_hr "delete real" &&
	expect_issues 1
'

test_expect_success 're-adding a deleted migration with identical content creates nothing new' '
	(cd hr && add_file bytebase/0020_real.sql "CREATE TABLE real (id int);") &&
	push_hr "re-add real" &&
	expect_issues 1
'

test_expect_success 'modifying a migration with new content queues it again with the new blob' '
	(cd hr && add_file bytebase/0020_real.sql "CREATE TABLE real (id bigint);") &&
	push_hr "modify real" &&
	expect_issues 2 &&
	git -C hr rev-parse HEAD:bytebase/0020_real.sql >expect &&
	issue_files -1 blob >actual &&
	test_cmp expect actual &&
	git -C hr rev-parse HEAD >expect &&
	issue_field -1 commit >actual &&
	test_cmp expect actual
'

test_expect_success 'reverting to content already queued for that path creates nothing new' '
	(cd hr && git revert --no-edit HEAD >/dev/null && git push -q origin main 2>../push.out) &&
	expect_issues 2 &&
	(cd hr && git revert --no-edit HEAD >/dev/null && git push -q origin main 2>../push.out) &&
	expect_issues 2
'

test_expect_success 'a mode-only change of a migration creates nothing new' '
	(cd hr && chmod +x bytebase/0020_real.sql && git update-index --chmod=+x bytebase/0020_real.sql) &&
	push_hr "chmod" &&
	expect_issues 2
'

test_expect_success 'a rename that gives a file its .sql name counts' '
	(cd hr && git mv bytebase/0005_x.txt bytebase/0005_x.sql) &&
	push_hr "rename into a migration name" &&
	expect_issues 3 &&
	echo "bytebase/0005_x.sql 0005" >expect &&
	issue_files -1 path version >actual &&
	test_cmp expect actual
'

test_expect_success 'a rename moving a file into the base directory counts' '
	(cd hr && git mv other/0007_x.sql bytebase/0007_x.sql) &&
	push_hr "move into the base directory" &&
	expect_issues 4 &&
	echo "bytebase/0007_x.sql" >expect &&
	issue_files -1 path >actual &&
	test_cmp expect actual
'

test_expect_success 'a rename moving a migration out of the base directory creates nothing' '
	(cd hr && mkdir -p old && git mv bytebase/0007_x.sql old/0007_x.sql) &&
	push_hr "move out" &&
	expect_issues 4
'

for r in root1 root2
do
	test_expect_success "base_directory for $r means the repository root" '
		(
			cd $r &&
			add_file 0001_root.sql "CREATE TABLE root (id int);" &&
			add_file bytebase/0002_nested.sql &&
			add_file init.sql &&
			commit_all "root migrations" &&
			push_to ../push-$r.out origin main
		) &&
		expect_issues 1 --repo $r &&
		echo 0001_root.sql >expect &&
		issue_file_paths --repo $r >actual &&
		test_cmp expect actual
	'
done

test_expect_success 'leading and trailing "/" in base_directory are ignored' '
	(
		cd slashy &&
		add_file bytebase/0001_s.sql &&
		add_file 0002_root.sql &&
		commit_all "slashy" &&
		push_to ../push-slashy.out origin main
	) &&
	echo bytebase/0001_s.sql >expect &&
	issue_file_paths --repo slashy >actual &&
	test_cmp expect actual
'

test_done
