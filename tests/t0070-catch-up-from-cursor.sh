#!/bin/sh
test_description='post-receive: the hook catches up from its cursor, so a missed push is repaired by the next one (design §3)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

test_expect_success 'setup' '
	setup_server_repo hr &&
	write_repo_config hr &&
	install_hook "$TRASH/hr.git" &&
	(
		cd hr &&
		add_file bytebase/0001_a.sql && commit_all "Add a" &&
		push_to ../push0.out origin main
	) &&
	echo 1 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'a push while the hook is missing queues nothing' '
	mv hr.git/hooks/post-receive hook.saved &&
	(
		cd hr &&
		add_file bytebase/0002_missed.sql && commit_all "Missed" &&
		push_to ../push1.out origin main &&
		add_file bytebase/0003_missed_too.sql && commit_all "Missed too" &&
		push_to ../push2.out origin main
	) &&
	! grep "bbgitops:" push1.out push2.out &&
	echo 1 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'the next push reports the missed commits too, oldest first' '
	mv hook.saved hr.git/hooks/post-receive &&
	(
		cd hr &&
		add_file bytebase/0004_next.sql && commit_all "Next" &&
		push_to ../push3.out origin main &&
		git log --first-parent --reverse --format="%H %s" HEAD >../log
	) &&
	{
		sed -n 1p log && echo " bytebase/0001_a.sql" &&
		sed -n 2p log && echo " bytebase/0002_missed.sql" &&
		sed -n 3p log && echo " bytebase/0003_missed_too.sql" &&
		sed -n 4p log && echo " bytebase/0004_next.sql"
	} | paste -d "" - - >expect &&
	issue_lines commit title files >actual &&
	test_cmp expect actual
'

test_expect_success 'the hook line counts the missed migrations as well' '
	bbgitops_lines push3.out >lines &&
	test_line_count = 1 lines &&
	test_grep -E "^remote: bbgitops: main: 3 migrations queued as 3 rollout issues" lines
'

test_expect_success 'a hook that failed on an earlier push (unreadable state) is repaired by the next push' '
	state_break &&
	(
		cd hr &&
		add_file bytebase/0005_while_broken.sql && commit_all "While broken" &&
		push_to ../push4.out origin main
	) &&
	bbgitops_lines push4.out >lines &&
	test_line_count = 1 lines &&
	state_repair &&
	echo 4 >expect &&
	issue_count >actual &&
	test_cmp expect actual &&
	(
		cd hr &&
		add_file bytebase/0006_repaired.sql && commit_all "Repaired" &&
		push_to ../push5.out origin main
	) &&
	cat >expect <<-\EOF &&
	While broken bytebase/0005_while_broken.sql
	Repaired bytebase/0006_repaired.sql
	EOF
	issue_lines title files >all &&
	tail -n 2 all >actual &&
	test_cmp expect actual
'

test_expect_success 'a push without migrations still moves the cursor past the missed commits' '
	mv hr.git/hooks/post-receive hook.saved &&
	(
		cd hr &&
		add_file bytebase/0007_missed.sql && commit_all "Missed again" &&
		push_to ../push6.out origin main
	) &&
	mv hook.saved hr.git/hooks/post-receive &&
	(
		cd hr &&
		add_file docs/readme.md && commit_all "Docs" &&
		push_to ../push7.out origin main &&
		add_file docs/readme2.md && commit_all "Docs 2" &&
		push_to ../push8.out origin main
	) &&
	echo "Missed again" >expect &&
	issue_titles >all &&
	sed -n "7,\$p" all >actual &&
	test_cmp expect actual
'

test_done
