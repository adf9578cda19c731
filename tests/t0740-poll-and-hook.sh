#!/bin/sh
test_description='poll and the post-receive hook at the same time on the same repository queue each migration exactly
once; overlapping one-shot polls do not queue up (the second one does nothing and exits 0)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-remote.sh"

N=20

test_expect_success 'setup: a hooked repository also watched by the poller' '
	setup_server_repo hr &&
	write_repo_config hr "start = \"all\";" &&
	install_hook "$TRASH/hr.git" &&
	(cd hr && add_file README hello && commit_all "Initial commit" && push_to ../push-init.out origin main)
'

test_expect_success "$N pushes while polls loop: every migration queued once, one issue per commit" '
	{
		(
			# pushes-done holds the pusher'"'"'s status: the poll loop below ends even when a push fails.
			ret=0
			for i in $(test_seq $N)
			do
				push_migration hr bytebase/$((1000 + i))_m$i.sql || { ret=1; break; }
			done
			echo $ret >pushes-done.tmp &&
			mv pushes-done.tmp pushes-done
		) &
		pusher=$!
	} &&
	polls=0 &&
	while ! test -f pushes-done
	do
		bbgitops poll 2>>poll.err || { echo "poll failed" >&2; cat poll.err >&2; kill $pusher; return 1; }
		polls=$((polls + 1))
	done &&
	wait $pusher &&
	test "$(cat pushes-done)" = 0 &&
	bbgitops poll 2>>poll.err &&
	echo "polls: $polls" &&
	test "$polls" -gt 2 &&
	for i in $(test_seq $N)
	do
		echo "hr bytebase/$((1000 + i))_m$i.sql" || return 1
	done >expect &&
	issue_paths >actual &&
	test_cmp expect actual &&
	issues_json >issues.json &&
	json_query "len(set(i[\"commit\"] for i in d))" issues.json >commits &&
	echo $N >expect-commits &&
	test_cmp expect-commits commits &&
	git --git-dir=hr.git rev-list --count main~$N..main >expect-count &&
	test_cmp expect-commits expect-count
'

test_expect_success 'six overlapping one-shot polls all exit 0 and queue nothing twice (the lock itself: next test)' '
	for i in 1 2 3 4 5 6
	do
		bbgitops poll 2>overlap-$i.err &
	done &&
	fails=0 &&
	for job in $(jobs -p)
	do
		wait $job || fails=$((fails + 1))
	done &&
	test $fails = 0 &&
	issue_paths >actual &&
	test_cmp expect actual
'

test_expect_success 'a poll holding poll.lock makes the next one say so' '
	mkdir -p "$STATE_DIR" &&
	{ python3 -c "
import fcntl, sys, time
f = open(sys.argv[1], \"a\")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], \"w\").close()
time.sleep(5)
" "$STATE_DIR/poll.lock" locked & holder=$!; } &&
	for i in $(test_seq 50); do test -f locked && break; sleep 0.1; done &&
	bbgitops poll 2>err &&
	kill $holder &&
	test_grep "another poll is running" err
'

test_done
