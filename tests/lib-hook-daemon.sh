# lib-hook-daemon.sh — for tests of hooks that hand their pushes to a running `poll --daemon` (t0760, t0765):
# start and stop the daemon, count the pushes it served, push one migration. Sourced after test-lib.sh; the
# daemon's pid is in $TRASH/daemon.pid, its -v log in daemon.err.

SOCK=$STATE_DIR/hook.sock

# No daemon outlives the script, whatever failed (test_at_exit: a trap of its own would replace test-lib's, which
# also stops the PostgreSQL cluster of BBGITOPS_TEST_STATE=pg).
test_at_exit 'test ! -f "$TRASH/daemon.pid" || kill -KILL $(cat "$TRASH/daemon.pid") 2>/dev/null'

# served: how many pushes the daemon handed to a worker (its -v log).
served () {
	grep -c "handed to a worker" daemon.err || true
}

# wait_for_socket: until the daemon listens on $SOCK (5 s at most).
wait_for_socket () {
	for i in $(test_seq 100)
	do
		test -S "$SOCK" && return 0
		sleep 0.05
	done
	echo >&2 "no socket at $SOCK" && cat >&2 daemon.err && return 1
}

# start_daemon: poll --daemon in the background (-v log in daemon.err, pid in daemon.pid), serving hooks.
start_daemon () {
	: >daemon.err &&
	{ "$BBGITOPS" -v -c "$CONF" poll --daemon 2>daemon.err & echo $! >daemon.pid; } &&
	for i in $(test_seq 100)
	do
		grep -q "serving hooks on" daemon.err && return 0
		sleep 0.05
	done
	echo >&2 "the daemon does not serve hooks" && cat >&2 daemon.err && return 1
}

# stop_daemon: SIGTERM, and wait until it is gone (its socket removed).
stop_daemon () {
	kill -TERM $(cat daemon.pid) &&
	{ wait $(cat daemon.pid) 2>/dev/null || :; } &&
	for i in $(test_seq 100)
	do
		test ! -e "$SOCK" && return 0
		sleep 0.05
	done
	return 1
}

# push_migration N: commits bytebase/000N_t.sql on main of the clone hr and pushes it (output in push-N.out).
push_migration () {
	(
		cd hr &&
		{ git checkout -q main 2>/dev/null || :; } &&
		add_file bytebase/000$1_t.sql &&
		commit_all "Add $1" &&
		push_to ../push-$1.out origin main
	)
}
