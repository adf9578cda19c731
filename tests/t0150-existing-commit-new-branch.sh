#!/bin/sh
test_description='pushing an existing commit as a new branch under branch = "*": nothing new to report, no undefined behaviour (qsort of an empty set), pre-receive accepts (issue 9 item 7)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

test_expect_success 'setup: every branch watched, both hooks installed, one issue on main' '
	setup_server_repo hr &&
	write_repo_config hr "branch = \"*\";" &&
	install_hook "$TRASH/hr.git" &&
	"$BBGITOPS" -c "$CONF" install-hook "$TRASH/hr.git" --pre-receive &&
	(
		cd hr &&
		add_file bytebase/0001_a.sql && commit_all "Add a" &&
		push_to ../push0.out origin main
	) &&
	echo 1 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'main'"'"'s tip pushed as a new branch: accepted, no runtime error, nothing queued twice' '
	(
		cd hr &&
		push_to ../push1.out origin main:refs/heads/copy
	) &&
	! grep -i "runtime error\|sanitizer\|rejected" push1.out &&
	git -C hr.git rev-parse main >expect &&
	git -C hr.git rev-parse copy >actual &&
	test_cmp expect actual &&
	echo 1 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'the new branch has its cursor: its next push reports only what it brings' '
	(
		cd hr &&
		git checkout -q -b copy &&
		add_file bytebase/0002_b.sql && commit_all "Add b" &&
		push_to ../push2.out origin copy
	) &&
	issues_json >issues.json &&
	json_query "[\"%s %s\" % (i[\"branch\"], i[\"files\"][0][\"path\"]) for i in d]" issues.json >actual &&
	cat >expect <<-\EOF &&
	main bytebase/0001_a.sql
	copy bytebase/0002_b.sql
	EOF
	test_cmp expect actual
'

test_done
