#!/bin/sh
test_description='post-receive: forced updates and replayed hook input never duplicate an issue (design §3)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

# run_hook OLD NEW [REF]: runs the post-receive hook by hand in hr.git, as git would.
run_hook () {
	(
		cd "$TRASH/hr.git" &&
		echo "$1 $2 ${3:-refs/heads/main}" | GIT_DIR=. "$BBGITOPS" -c "$CONF" post-receive
	)
}

test_expect_success 'setup' '
	setup_server_repo hr &&
	write_repo_config hr &&
	install_hook "$TRASH/hr.git" &&
	(
		cd hr &&
		add_file README hello && commit_all "Initial commit" &&
		add_file bytebase/0001_a.sql "CREATE TABLE a (id int);" && commit_all "Add a" &&
		push_to ../push0.out origin main
	) &&
	issue_lines commit title files >before &&
	test_line_count = 1 before
'

test_expect_success 'amending a queued commit (new message) and force-pushing creates no duplicate' '
	(
		cd hr &&
		git commit -q --amend -m "Add a (reworded)" &&
		push_to ../push1.out -f origin main
	) &&
	issue_lines commit title files >actual &&
	test_cmp before actual
'

test_expect_success 'a forced update adding a new file next to a queued one queues only the new file' '
	(
		cd hr &&
		add_file bytebase/0002_b.sql "CREATE TABLE b (id int);" &&
		git commit -q --amend -m "Add a and b" &&
		push_to ../push2.out -f origin main
	) &&
	cp before expect &&
	echo "$(git -C hr rev-parse HEAD) Add a and b bytebase/0002_b.sql" >>expect &&
	issue_lines commit title files >actual &&
	test_cmp expect actual
'

test_expect_success 'rebasing (reordering) queued commits and force-pushing creates no duplicate' '
	(
		cd hr &&
		add_file bytebase/0003_c.sql && commit_all "Add c" &&
		add_file bytebase/0004_d.sql && commit_all "Add d" &&
		push_to ../push3.out origin main
	) &&
	issue_lines commit title files >before &&
	test_line_count = 4 before &&
	(
		cd hr &&
		git reset -q --hard HEAD~2 &&
		git cherry-pick ORIG_HEAD >/dev/null &&
		git cherry-pick ORIG_HEAD~1 >/dev/null &&
		git log --oneline -3 &&
		push_to ../push4.out -f origin main
	) &&
	issue_lines commit title files >actual &&
	test_cmp before actual
'

test_expect_success 'a forced update to an older commit, then forward again, creates no duplicate' '
	(
		cd hr &&
		push_to ../push5.out -f origin HEAD~3:main &&
		push_to ../push6.out -f origin main
	) &&
	issue_lines commit title files >actual &&
	test_cmp before actual
'

test_expect_success 'a forced update replacing a file content with new content queues the new content' '
	(
		cd hr &&
		add_file bytebase/0004_d.sql "CREATE TABLE d (id bigint);" &&
		git commit -q --amend -m "Add d, fixed" &&
		push_to ../push7.out -f origin main
	) &&
	cp before expect &&
	echo "$(git -C hr rev-parse HEAD) Add d, fixed bytebase/0004_d.sql" >>expect &&
	issue_lines commit title files >actual &&
	test_cmp expect actual
'

test_expect_success 'running the hook again on the same input creates nothing new' '
	issue_lines commit title files >before &&
	old=$(git -C hr rev-parse HEAD~1) &&
	new=$(git -C hr rev-parse HEAD) &&
	run_hook $old $new >out1 2>&1 &&
	run_hook $old $new >out2 2>&1 &&
	issue_lines commit title files >actual &&
	test_cmp before actual
'

test_expect_success 'replaying the whole history as a branch creation creates nothing new' '
	new=$(git -C hr rev-parse HEAD) &&
	run_hook $ZERO_OID $new >out 2>&1 &&
	issue_lines commit title files >actual &&
	test_cmp before actual
'

test_expect_success 'the hook run by hand in the repository directory without GIT_DIR catches up the same' '
	mv hr.git/hooks/post-receive hook.saved &&
	test_when_finished "test ! -f \"$TRASH/hook.saved\" || mv \"$TRASH/hook.saved\" \"$TRASH/hr.git/hooks/post-receive\"" &&
	(
		cd hr &&
		add_file bytebase/0005_e.sql && commit_all "Add e" &&
		push_to ../push8.out origin main &&
		add_file bytebase/0006_f.sql && commit_all "Add f" &&
		push_to ../push9.out origin main
	) &&
	issue_lines commit title files >same &&
	test_cmp before same &&
	old=$(git -C hr rev-parse HEAD~1) &&
	new=$(git -C hr rev-parse HEAD) &&
	(
		cd hr.git &&
		echo "$old $new refs/heads/main" | "$BBGITOPS" -c "$CONF" post-receive
	) >out 2>&1 &&
	cp before expect &&
	echo "$(git -C hr rev-parse HEAD~1) Add e bytebase/0005_e.sql" >>expect &&
	echo "$(git -C hr rev-parse HEAD) Add f bytebase/0006_f.sql" >>expect &&
	issue_lines commit title files >actual &&
	test_cmp expect actual &&
	(
		cd hr.git &&
		echo "$old $new refs/heads/main" | "$BBGITOPS" -c "$CONF" post-receive
	) >out 2>&1 &&
	issue_lines commit title files >again &&
	test_cmp expect again
'

test_expect_success 'a stale old id on stdin does not re-report what the cursor already covers' '
	issue_lines commit title files >before &&
	old=$(git -C hr rev-parse HEAD~4) &&
	new=$(git -C hr rev-parse HEAD) &&
	run_hook $old $new >out 2>&1 &&
	issue_lines commit title files >actual &&
	test_cmp before actual
'

test_expect_success 'a forced update to an unrelated history queues its migrations, content-deduped' '
	(
		cd hr &&
		git checkout -q --orphan fresh &&
		git rm -q -r --cached . &&
		git clean -q -fdx &&
		add_file bytebase/0001_a.sql "CREATE TABLE a (id int);" &&
		add_file bytebase/0100_new.sql &&
		commit_all "Fresh start" &&
		push_to ../push10.out -f origin fresh:main
	) &&
	cp before expect &&
	echo "$(git -C hr rev-parse fresh) Fresh start bytebase/0100_new.sql" >>expect &&
	issue_lines commit title files >actual &&
	test_cmp expect actual
'

test_expect_success 'a cursor whose commit was pruned is re-baselined, with a warning in status, and never wedges' '
	issue_lines commit title files >before &&
	mv hr.git/hooks/post-receive hook.saved &&
	test_when_finished "test ! -f \"$TRASH/hook.saved\" || mv \"$TRASH/hook.saved\" \"$TRASH/hr.git/hooks/post-receive\"" &&
	(
		cd hr &&
		git checkout -q --orphan pruned &&
		git rm -q -r --cached . &&
		git clean -q -fdx &&
		add_file README "pruned history" &&
		commit_all "Unrelated root" &&
		push_to ../push11.out -f origin pruned:main
	) &&
	git -C hr.git gc -q --prune=now &&
	test_must_fail git -C hr.git cat-file -e "$(git -C hr rev-parse fresh)" &&
	mv hook.saved hr.git/hooks/post-receive &&
	(
		cd hr &&
		add_file bytebase/0200_after_prune.sql && commit_all "After prune" &&
		push_to ../push12.out origin pruned:main &&
		add_file bytebase/0201_next.sql && commit_all "Next after prune" &&
		push_to ../push13.out origin pruned:main
	) &&
	echo "Next after prune" >expect &&
	issue_field -1 title >actual &&
	test_cmp expect actual &&
	bbgitops status --json >status.json &&
	test_grep -i -E "warn|baseline|missing" status.json
'

test_expect_success 'the re-baseline reaches the pusher as one bbgitops line (at most one line per event)' '
	bbgitops_lines push12.out >lines &&
	test_line_count = 1 lines
'

test_done
