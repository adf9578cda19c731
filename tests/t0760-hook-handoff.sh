#!/bin/sh
test_description='post-receive hands its work to a running poll --daemon over state_dir/hook.sock (issue 11): the
daemon'"'"'s worker queues exactly what the hook would and the pusher reads the same lines; with no daemon, a stale
socket, a stopped daemon, an edited configuration, or a branch creation, the hook does the work itself'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

SOCK=$STATE_DIR/hook.sock

# No daemon outlives the script, whatever failed.
trap 'test ! -f "$TRASH/daemon.pid" || kill -KILL $(cat "$TRASH/daemon.pid") 2>/dev/null; exit' EXIT

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

# push_migration N: commits bytebase/000N_t.sql on main and pushes it (output in push-N.out).
push_migration () {
	(
		cd hr &&
		{ git checkout -q main 2>/dev/null || :; } &&
		add_file bytebase/000$1_t.sql &&
		commit_all "Add $1" &&
		push_to ../push-$1.out origin main
	)
}

test_expect_success 'setup: a repository with the hook, its first push (a branch creation) done by the hook itself' '
	setup_server_repo hr &&
	write_repo_config hr "branch = \"*\";" &&
	printf "poll = { interval = 86400; jitter = 0; };\n" >>"$CONF" &&
	install_hook "$TRASH/hr.git" &&
	{ "$BBGITOPS" -v -c "$CONF" poll --daemon 2>daemon.err & echo $! >daemon.pid; } &&
	wait_for_socket &&
	push_migration 1 &&
	bbgitops_lines push-1.out >lines &&
	test_grep "main: 1 migration queued as 1 rollout issue" lines &&
	test "$(served)" = 0 &&
	test "$(issue_count)" = 1
'

test_expect_success 'the socket is not open to others (mode 660 in the state directory)' '
	test "$(stat -c %a "$SOCK")" = 660
'

test_expect_success 'a push to an existing branch is served by the daemon: same lines for the pusher, queued once' '
	push_migration 2 &&
	test "$(served)" = 1 &&
	bbgitops_lines push-2.out >lines &&
	echo "remote: bbgitops: main: 1 migration queued as 1 rollout issue" >expect &&
	test_cmp expect lines &&
	test "$(issue_count)" = 2 &&
	issues_json >issues.json &&
	json_query "[i[\"files\"][0][\"path\"] for i in d]" issues.json >actual &&
	printf "bytebase/0001_t.sql\nbytebase/0002_t.sql\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'eight concurrent pushes to eight branches, all served: each migration queued exactly once' '
	(
		cd hr &&
		for b in $(test_seq 8)
		do
			git checkout -q -b b$b main &&
			git push -q origin b$b 2>/dev/null &&
			add_file bytebase/01${b}0_b.sql &&
			commit_all "b$b" || return 1
		done
	) &&
	before=$(served) &&
	pids= &&
	for b in $(test_seq 8)
	do
		{ (cd hr && push_to ../pushb-$b.out origin b$b) & pids="$pids $!"; } || return 1
	done &&
	for p in $pids
	do
		wait $p || return 1
	done &&
	test "$(served)" = $((before + 8)) &&
	issues_json >issues.json &&
	json_query "sorted(i[\"files\"][0][\"path\"] for i in d if i[\"branch\"].startswith(\"b\"))" issues.json >actual &&
	test_seq 8 | sed "s|.*|bytebase/01&0_b.sql|" >expect &&
	test_cmp expect actual
'

test_expect_success 'a stopped daemon (SIGSTOP) is not waited for: the hook does the work within seconds' '
	kill -STOP $(cat daemon.pid) $(pgrep -P $(cat daemon.pid)) &&
	before=$(served) &&
	start=$(date +%s) &&
	push_migration 3 &&
	end=$(date +%s) &&
	kill -CONT $(pgrep -P $(cat daemon.pid)) $(cat daemon.pid) &&
	test $((end - start)) -lt 10 &&
	test_grep "main: 1 migration queued as 1 rollout issue" push-3.out &&
	test "$(issue_count)" = 11
'

test_expect_success 'an edited configuration: the daemon declines (it has the old one), the hook does the work' '
	before=$(served) &&
	touch -d "+1 minute" "$CONF" &&
	push_migration 4 &&
	test "$(served)" = "$before" &&
	test_grep "main: 1 migration queued as 1 rollout issue" push-4.out &&
	test "$(issue_count)" = 12
'

test_expect_success 'after SIGHUP the daemon serves again, with the configuration it reloaded' '
	kill -HUP $(cat daemon.pid) &&
	for i in $(test_seq 100)
	do
		test "$(grep -c "serving hooks on" daemon.err)" -ge 2 && break
		sleep 0.05
	done &&
	before=$(served) &&
	push_migration 5 &&
	test "$(served)" = $((before + 1)) &&
	test "$(issue_count)" = 13
'

test_expect_success 'a daemon killed with SIGKILL leaves a stale socket: the hook does the work at once' '
	server=$(pgrep -P $(cat daemon.pid)) &&
	kill -KILL $(cat daemon.pid) $server &&
	sleep 0.2 &&
	test -S "$SOCK" &&
	push_migration 6 &&
	test_grep "main: 1 migration queued as 1 rollout issue" push-6.out &&
	test "$(issue_count)" = 14
'

test_expect_success 'a new daemon replaces the stale socket and serves; SIGTERM removes its socket' '
	{ "$BBGITOPS" -v -c "$CONF" poll --daemon 2>daemon.err & echo $! >daemon.pid; } &&
	for i in $(test_seq 100)
	do
		grep -q "serving hooks on" daemon.err && break
		sleep 0.05
	done &&
	push_migration 7 &&
	test "$(served)" = 1 &&
	test "$(issue_count)" = 15 &&
	kill -TERM $(cat daemon.pid) &&
	{ wait $(cat daemon.pid) || :; } &&
	test ! -e "$SOCK"
'

test_expect_success 'no daemon at all: the hook does the work' '
	push_migration 8 &&
	test_grep "main: 1 migration queued as 1 rollout issue" push-8.out &&
	test "$(issue_count)" = 16
'

test_done
