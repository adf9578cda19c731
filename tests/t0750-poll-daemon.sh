#!/bin/sh
test_description='poll --daemon: SIGTERM ends it within one second (asleep, between repositories, or in a stalled
fetch) leaving no half-written state; SIGHUP reloads the configuration'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-remote.sh"

GEN_HISTORY=$TEST_SRCDIR/../bench/gen-history
NREPOS=300

# write_many_config [EXTRA ENTRY]: $NREPOS copies of the template history, start = "all".
write_many_config () {
	{
		echo "poll = { interval = 3600; jitter = 0; timeout = 30; };"
		echo "repositories = ("
		test -z "$1" || echo "$1,"
		for i in $(test_seq $NREPOS)
		do
			test $i = 1 || echo ","
			echo "{ name = \"r$i\"; path = \"$TRASH/repos/r$i.git\"; base_directory = \"bytebase\";"
			echo "  project = \"p\"; start = \"all\"; }"
		done
		echo ");"
	} | write_config
}

# stop_daemon PID: SIGTERM, then how long (ms) until it exited, into $stop_ms; its exit status into $stop_status.
stop_daemon () {
	_t0=$(date +%s%N) &&
	kill -TERM "$1" &&
	{ wait "$1"; stop_status=$?; } &&
	_t1=$(date +%s%N) &&
	stop_ms=$(((_t1 - _t0) / 1000000)) &&
	test_diag "stopped in $stop_ms ms with status $stop_status"
}

# consistency: for every repository, the cursor is set exactly when its issues are queued, and then all of them.
consistency () {
	state_sql "SELECT repository FROM cursors" >"$TRASH/.cursors" &&
	state_sql "SELECT repository, count(*) FROM issues GROUP BY repository" >"$TRASH/.counts" &&
	python3 - "$TRASH/.cursors" "$TRASH/.counts" "$1" <<-'EOF'
	import sys
	want = int(sys.argv[3])
	cursors = set(open(sys.argv[1]).read().split())
	counts = {r: int(n) for r, n in (line.split("|") for line in open(sys.argv[2]).read().split())}
	bad = [r for r in set(cursors) | set(counts) if (r in cursors) != (counts.get(r, 0) == want)]
	print("%d repositories caught up, %d issues" % (len(cursors), sum(counts.values())))
	if bad:
	    sys.exit("inconsistent: %s" % sorted(bad)[:10])
	print(len(cursors))
	EOF
}

test_expect_success 'setup: a small history copied into many repositories' '
	"$GEN_HISTORY" 300 tmpl.git &&
	mkdir repos &&
	for i in $(test_seq $NREPOS)
	do
		cp -r tmpl.git repos/r$i.git || return 1
	done &&
	write_many_config &&
	python3 "$TEST_SRCDIR/backfill-oracle.py" tmpl.git main bytebase >oracle &&
	wc -l <oracle >per-repo &&
	test "$(cat per-repo)" -gt 5
'

test_expect_success 'SIGTERM in the middle of a cycle stops between repositories within one second' '
	{ "$BBGITOPS" -c "$CONF" poll --daemon 2>daemon.err & pid=$!; } &&
	for i in $(test_seq 300)
	do
		test "$(grep -c "rollout issue" daemon.err)" -ge 10 && break
		sleep 0.05
	done &&
	stop_daemon $pid &&
	test $stop_status = 0 &&
	test $stop_ms -lt 1000 &&
	test_grep "poll daemon stopped" daemon.err &&
	consistency "$(cat per-repo)" >caught-up &&
	cat caught-up &&
	test "$(tail -n 1 caught-up)" -ge 10 &&
	test "$(tail -n 1 caught-up)" -lt $NREPOS
'

test_expect_success 'no half-written state: the next poll completes every repository exactly once' '
	bbgitops poll 2>poll.err &&
	consistency "$(cat per-repo)" >caught-up &&
	test "$(tail -n 1 caught-up)" = $NREPOS &&
	test "$(issue_count)" = $(($(cat per-repo) * NREPOS))
'

test_expect_success 'SIGTERM while the daemon sleeps stops it within one second' '
	{ "$BBGITOPS" -c "$CONF" poll --daemon 2>daemon2.err & pid=$!; } &&
	sleep 2 &&
	kill -0 $pid &&
	stop_daemon $pid &&
	test $stop_status = 0 &&
	test $stop_ms -lt 1000
'

test_expect_success 'SIGTERM during a stalled fetch abandons it at once' '
	start_stalling_http &&
	write_many_config "{ name = \"stalled\"; url = \"$STALL_URL/s.git\"; base_directory = \"bytebase\"; project = \"s\"; }" &&
	{ "$BBGITOPS" -c "$CONF" poll --daemon 2>daemon3.err & pid=$!; } &&
	for i in $(test_seq 100)
	do
		test -s stall.log && break
		sleep 0.05
	done &&
	test -s stall.log &&
	stop_daemon $pid &&
	test $stop_status = 0 &&
	test $stop_ms -lt 1000
'

test_expect_success 'SIGHUP reloads the configuration: a new repository is polled' '
	write_many_config &&
	{ "$BBGITOPS" -c "$CONF" poll --daemon 2>daemon4.err & pid=$!; } &&
	for i in $(test_seq 100)
	do
		grep -q "poll daemon started" daemon4.err 2>/dev/null && break
		sleep 0.05
	done &&
	sleep 1 &&
	cp -r tmpl.git repos/extra.git &&
	write_many_config "{ name = \"extra\"; path = \"$TRASH/repos/extra.git\"; base_directory = \"bytebase\"; project = \"e\"; start = \"all\"; }" &&
	kill -HUP $pid &&
	for i in $(test_seq 100)
	do
		grep -q "^bbgitops: extra@main:" daemon4.err && break
		sleep 0.1
	done &&
	stop_daemon $pid &&
	test_grep "configuration reloaded" daemon4.err &&
	test_grep "^bbgitops: extra@main: .* queued as $(cat per-repo) rollout issues" daemon4.err
'

test_done
