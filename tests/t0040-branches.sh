#!/bin/sh
test_description='post-receive: watched branches by glob, branch creation and deletion, unwatched refs (design §1, §3)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

test_expect_success 'setup: main and release/* watched in one configuration' '
	setup_server_repo hr &&
	write_config <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git"; branch = "main"; base_directory = "bytebase"; project = "hr"; },
	  { name = "hr-release"; path = "$TRASH/hr.git"; branch = "release/*"; base_directory = "bytebase";
	    project = "hr"; }
	);
	EOF
	install_hook "$TRASH/hr.git" &&
	(
		cd hr &&
		add_file bytebase/0001_a.sql && commit_all "A on main" &&
		add_file bytebase/0002_b.sql && commit_all "B on main" &&
		push_to ../push0.out origin main
	) &&
	cat >expect <<-\EOF &&
	main A on main bytebase/0001_a.sql
	main B on main bytebase/0002_b.sql
	EOF
	issue_lines branch title files >actual &&
	test_cmp expect actual
'

test_expect_success 'creating a watched branch from existing history reports only the commits the push introduced' '
	(
		cd hr &&
		git checkout -q -b release/1.0 &&
		add_file bytebase/0003_rel.sql && commit_all "Release fix" &&
		push_to ../push1.out origin release/1.0
	) &&
	cat >expect <<-\EOF &&
	main A on main bytebase/0001_a.sql
	main B on main bytebase/0002_b.sql
	release/1.0 Release fix bytebase/0003_rel.sql
	EOF
	issue_lines branch title files >actual &&
	test_cmp expect actual &&
	test_grep "^remote: bbgitops: .*release/1.0: 1 migration" push1.out
'

test_expect_success 'the issue of a glob-matched branch names the entry and the branch' '
	echo "hr-release release/1.0" >expect &&
	issue_lines --repo hr-release repository branch >actual &&
	test_cmp expect actual
'

test_expect_success 'creating a watched branch at an existing commit reports nothing' '
	(
		cd hr &&
		git push -q origin main:refs/heads/release/2.0 2>../push2.out
	) &&
	echo 3 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'a push to a branch created from existing history then advanced reports the new commits' '
	(
		cd hr &&
		git checkout -q -b release/2.0 origin/release/2.0 &&
		add_file bytebase/0004_two.sql && commit_all "Two" &&
		push_to ../push3.out origin release/2.0
	) &&
	echo "release/2.0 Two bytebase/0004_two.sql" >expect &&
	issue_lines branch title files >all &&
	tail -n 1 all >actual &&
	test_cmp expect actual
'

test_expect_success 'a glob does not match across "/" (release/1/hotfix is not watched)' '
	(
		cd hr &&
		git checkout -q -b release/1/hotfix main &&
		add_file bytebase/0005_hot.sql && commit_all "Hotfix" &&
		push_to ../push4.out origin release/1/hotfix
	) &&
	echo 4 >expect &&
	issue_count >actual &&
	test_cmp expect actual &&
	! grep "bbgitops:" push4.out
'

test_expect_success 'pushes to unwatched branches do nothing and print nothing' '
	(
		cd hr &&
		git checkout -q -b topic main &&
		add_file bytebase/0006_topic.sql && commit_all "Topic" &&
		push_to ../push5.out origin topic &&
		add_file bytebase/0007_topic.sql && commit_all "Topic 2" &&
		push_to ../push6.out origin topic &&
		push_to ../push7.out origin :topic
	) &&
	echo 4 >expect &&
	issue_count >actual &&
	test_cmp expect actual &&
	! grep "bbgitops:" push5.out push6.out push7.out
'

test_expect_success 'pushing tags (lightweight and annotated) does nothing and prints nothing' '
	(
		cd hr &&
		git tag v1 topic &&
		git tag -a -m "annotated" v2 topic &&
		git tag release/9.9 topic &&
		push_to ../push8.out origin v1 v2 refs/tags/release/9.9
	) &&
	echo 4 >expect &&
	issue_count >actual &&
	test_cmp expect actual &&
	! grep "bbgitops:" push8.out
'

test_expect_success 'merging an already-pushed unwatched branch into main reports its migrations once on main' '
	(
		cd hr &&
		git checkout -q main &&
		git merge -q --no-ff -m "Merge topic" topic &&
		push_to ../push9.out origin main
	) &&
	echo "main Merge topic bytebase/0006_topic.sql,bytebase/0007_topic.sql" >expect &&
	issue_lines branch title files >all &&
	tail -n 1 all >actual &&
	test_cmp expect actual
'

test_expect_success 'a push updating several watched branches at once reports each' '
	(
		cd hr &&
		git checkout -q release/1.0 &&
		add_file bytebase/0010_r1.sql && commit_all "R1 fix" &&
		git checkout -q release/2.0 &&
		add_file bytebase/0011_r2.sql && commit_all "R2 fix" &&
		push_to ../push10.out origin release/1.0 release/2.0
	) &&
	cat >expect <<-\EOF &&
	release/1.0 R1 fix bytebase/0010_r1.sql
	release/2.0 R2 fix bytebase/0011_r2.sql
	EOF
	issue_lines branch title files >all &&
	tail -n 2 all | sort >actual &&
	test_cmp expect actual &&
	bbgitops_lines push10.out >lines &&
	test_line_count = 2 lines
'

test_expect_success 'deleting a watched branch drops its cursor and queues nothing' '
	(
		cd hr &&
		push_to ../push11.out origin :release/1.0
	) &&
	echo 7 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 're-creating a deleted branch behaves as a creation, not as a catch-up from the old cursor' '
	(
		cd hr &&
		git checkout -q main &&
		add_file bytebase/0012_main.sql && commit_all "Main later" &&
		push_to ../push12.out origin main &&
		git checkout -q -B release/1.0 main &&
		add_file bytebase/0013_again.sql && commit_all "Again" &&
		push_to ../push13.out origin release/1.0
	) &&
	cat >expect <<-\EOF &&
	main Main later bytebase/0012_main.sql
	release/1.0 Again bytebase/0013_again.sql
	EOF
	issue_lines branch title files >all &&
	tail -n 2 all >actual &&
	test_cmp expect actual &&
	echo 9 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

# A ref updated by the same push counts with its value from before the push: the new commit was introduced by this
# push for both branches, so each gets its issue (otherwise two branches created together would hide each other).
test_expect_success 'a branch created in the same push as main, at main'"'"'s new commit, reports it on both' '
	issue_count >before &&
	(
		cd hr &&
		git checkout -q main &&
		add_file bytebase/0020_both.sql && commit_all "Both" &&
		push_to ../push16.out origin main main:refs/heads/release/4.0
	) &&
	cat >expect <<-\EOF &&
	main Both bytebase/0020_both.sql
	release/4.0 Both bytebase/0020_both.sql
	EOF
	issue_lines branch title files >all &&
	tail -n 2 all | sort >actual &&
	test_cmp expect actual &&
	echo $(($(cat before) + 2)) >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'status --json shows the cursor of a watched branch, and drops it when the branch is deleted' '
	(
		cd hr &&
		git checkout -q release/2.0 &&
		add_file docs/notes.md && commit_all "No migration" &&
		push_to ../push14.out origin release/2.0
	) &&
	tip=$(git -C hr rev-parse release/2.0) &&
	bbgitops status --json >status-before.json &&
	json_query "True" status-before.json >/dev/null &&
	test_grep "$tip" status-before.json &&
	(cd hr && push_to ../push15.out origin :release/2.0) &&
	bbgitops status --json >status-after.json &&
	json_query "True" status-after.json >/dev/null &&
	test_grep -v "$tip" status-after.json
'

test_done
