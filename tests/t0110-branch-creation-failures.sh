#!/bin/sh
test_description='a hook that fails during a push that creates a watched branch loses nothing: the next poll or push catches up from where the branch began (issue 9 item 1)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

# wrap_hook BARE: the real post-receive runs in the background with its pid in $TRASH/hook.pid, so a test can
# SIGKILL it; the wrapper waits for it (the push returns once it has died).
wrap_hook () {
	if ! test -e "$1/hooks/post-receive.real"
	then
		mv "$1/hooks/post-receive" "$1/hooks/post-receive.real"
	fi &&
	cat >"$1/hooks/post-receive" <<-EOF &&
	#!/bin/sh
	cat >"$TRASH/hook.stdin"
	"$1/hooks/post-receive.real" <"$TRASH/hook.stdin" &
	echo \$! >"$TRASH/hook.pid"
	wait
	EOF
	chmod +x "$1/hooks/post-receive"
}

unwrap_hook () {
	if test -e "$1/hooks/post-receive.real"
	then
		mv "$1/hooks/post-receive.real" "$1/hooks/post-receive"
	fi
}

# push_in_background BRANCH OUT: git push origin BRANCH from hr/, in the background (its pid in $TRASH/push.pid).
push_in_background () {
	(
		cd "$TRASH/hr" &&
		timeout 60 git push origin "$1" >"$TRASH/$2" 2>&1
	) &
	echo $! >"$TRASH/push.pid"
}


# wait_for_glob PATTERN: up to 20 s for a file matching PATTERN (a shell glob).
wait_for_glob () {
	_n=0
	while ! ls $1 >/dev/null 2>&1
	do
		_n=$((_n + 1))
		test $_n -le 400 || { echo >&2 "timed out waiting for $1"; return 1; }
		sleep 0.05
	done
}

# paths_on BRANCH: the files of the issues of BRANCH, one per line, in queue order.
paths_on () {
	issues_json | json_query "[f[\"path\"] for i in d if i[\"branch\"] == \"$1\" for f in i[\"files\"]]"
}

# count_on BRANCH: how many issues BRANCH has.
count_on () {
	issues_json | json_query "len([i for i in d if i[\"branch\"] == \"$1\"])"
}

test_expect_success 'setup: release/* watched, the state exists' '
	setup_server_repo hr &&
	write_repo_config hr "branch = \"release/*\";" &&
	install_hook "$TRASH/hr.git" &&
	(
		cd hr &&
		add_file bytebase/0001_base.sql && commit_all "Base" &&
		push_to ../push0.out origin main
	) &&
	bbgitops poll 2>poll0.out &&
	state_exists
'

test_expect_success 'a creation push whose hook is killed while it waits for the state lock' '
	wrap_hook "$TRASH/hr.git" &&
	test_when_finished "unwrap_hook \"$TRASH/hr.git\"" &&
	(
		cd hr &&
		git checkout -q -b release/1 &&
		add_file bytebase/0002_r1_a.sql && commit_all "R1 a" &&
		add_file bytebase/0003_r1_b.sql && commit_all "R1 b" &&
		add_file bytebase/0004_r1_c.sql && commit_all "R1 c"
	) &&
	hold_state_lock &&
	test_when_finished "release_state_lock" &&
	push_in_background release/1 push1.out &&
	wait_for_file "$TRASH/hook.pid" &&
	wait_for_glob "$TRASH/hr.git/bbgitops/starts/*" &&
	kill -9 "$(cat "$TRASH/hook.pid")" &&
	wait "$(cat push.pid)" &&
	rm -f "$TRASH/hook.pid" &&
	release_state_lock &&
	echo 0 >expect &&
	count_on release/1 >actual &&
	test_cmp expect actual
'

test_expect_success 'the next poll catches the killed push up, exactly once' '
	bbgitops poll >poll1.out 2>&1 &&
	! test_grep "first poll" poll1.out &&
	printf "%s\n" bytebase/0002_r1_a.sql bytebase/0003_r1_b.sql bytebase/0004_r1_c.sql >expect &&
	paths_on release/1 >actual &&
	test_cmp expect actual &&
	bbgitops poll >poll2.out 2>&1 &&
	paths_on release/1 >actual &&
	test_cmp expect actual &&
	test_must_fail ls hr.git/bbgitops/starts/* 2>/dev/null
'

test_expect_success 'a creation push while the state directory is unusable: the next push catches up' '
	state_break &&
	(
		cd hr &&
		git checkout -q -b release/2 main &&
		add_file bytebase/0005_r2_a.sql && commit_all "R2 a" &&
		add_file bytebase/0006_r2_b.sql && commit_all "R2 b" &&
		push_to ../push2.out origin release/2
	) &&
	bbgitops_lines push2.out >lines &&
	test_line_count = 1 lines &&
	state_repair &&
	(
		cd hr &&
		add_file bytebase/0007_r2_c.sql && commit_all "R2 c" &&
		push_to ../push3.out origin release/2
	) &&
	printf "%s\n" bytebase/0005_r2_a.sql bytebase/0006_r2_b.sql bytebase/0007_r2_c.sql >expect &&
	paths_on release/2 >actual &&
	test_cmp expect actual
'

test_expect_success 'a creation push whose hook is killed while it waits: the next push to the branch catches up' '
	wrap_hook "$TRASH/hr.git" &&
	test_when_finished "unwrap_hook \"$TRASH/hr.git\"" &&
	(
		cd hr &&
		git checkout -q -b release/3 main &&
		add_file bytebase/0008_r3_a.sql && commit_all "R3 a"
	) &&
	hold_state_lock &&
	test_when_finished "release_state_lock" &&
	push_in_background release/3 push4.out &&
	wait_for_file "$TRASH/hook.pid" &&
	wait_for_glob "$TRASH/hr.git/bbgitops/starts/*" &&
	kill -9 "$(cat "$TRASH/hook.pid")" &&
	wait "$(cat push.pid)" &&
	rm -f "$TRASH/hook.pid" &&
	release_state_lock &&
	unwrap_hook "$TRASH/hr.git" &&
	(
		cd hr &&
		add_file bytebase/0009_r3_b.sql && commit_all "R3 b" &&
		push_to ../push5.out origin release/3
	) &&
	printf "%s\n" bytebase/0008_r3_a.sql bytebase/0009_r3_b.sql >expect &&
	paths_on release/3 >actual &&
	test_cmp expect actual
'

test_expect_success 'a branch nobody began is still watched from its tip by the first poll' '
	(
		cd hr &&
		git checkout -q -b release/4 main &&
		add_file bytebase/0010_r4_old.sql && commit_all "R4 old"
	) &&
	mv hr.git/hooks/post-receive hook.saved &&
	test_when_finished "mv hook.saved hr.git/hooks/post-receive" &&
	(
		cd hr &&
		push_to ../push6.out origin release/4
	) &&
	bbgitops poll >poll3.out 2>&1 &&
	test_grep "release/4: first poll" poll3.out &&
	echo 0 >expect &&
	count_on release/4 >actual &&
	test_cmp expect actual
'

test_done
