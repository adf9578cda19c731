#!/bin/sh
test_description='post-receive hands its work to a running poll --daemon over state_dir/hook.sock (issue 11): the
daemon'"'"'s worker queues exactly what the hook would and the pusher reads the same lines; with no daemon, a stale
socket, a stopped daemon, an edited configuration, or a branch creation, the hook does the work itself'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-hook-daemon.sh"

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
	server=$(pgrep -P $(cat daemon.pid)) &&
	waiting= &&
	for i in $(test_seq 100)
	do
		# the next waiting worker is forked 0.1 s after the last push is done (SERVER_SETTLE_SECONDS)
		waiting=$(pgrep -P $server) && break
		sleep 0.05
	done &&
	test -n "$waiting" &&
	kill -STOP $(cat daemon.pid) $server $waiting &&
	before=$(served) &&
	start=$(date +%s) &&
	push_migration 3 &&
	end=$(date +%s) &&
	kill -CONT $waiting $server $(cat daemon.pid) &&
	test "$(served)" = "$before" &&
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

test_expect_success 'install-hook puts bbgitops-hook first: a served push never starts the full bbgitops' '
	test_grep "^exec .*/bbgitops-hook'"'"' '"'"'$BBGITOPS'"'"' -c " hr.git/hooks/post-receive &&
	cat >full-bbgitops <<-EOF &&
	#!/bin/sh
	echo "\$*" >>"$TRASH/full-runs"
	exec "$BBGITOPS" "\$@"
	EOF
	chmod +x full-bbgitops &&
	sed "s|'"'"'$BBGITOPS'"'"'|'"'"'$TRASH/full-bbgitops'"'"'|" hr.git/hooks/post-receive >hook.new &&
	chmod +x hook.new &&
	mv hook.new hr.git/hooks/post-receive &&
	test_grep "full-bbgitops" hr.git/hooks/post-receive &&
	start_daemon &&
	push_migration 9 &&
	test "$(served)" = 1 &&
	test ! -e full-runs &&
	test "$(bbgitops_lines push-9.out)" = "remote: bbgitops: main: 1 migration queued as 1 rollout issue" &&
	test "$(issue_count)" = 17
'

test_expect_success 'bbgitops-hook runs the full bbgitops, once, for what the daemon cannot take: a branch creation' '
	(
		cd hr &&
		git checkout -q -b created main &&
		add_file bytebase/0200_created.sql &&
		commit_all created &&
		push_to ../push-created.out origin created
	) &&
	test "$(served)" = 1 &&
	test "$(wc -l <full-runs)" = 1 &&
	test_grep -- "-c $CONF post-receive" full-runs &&
	test "$(bbgitops_lines push-created.out)" = "remote: bbgitops: created: 1 migration queued as 1 rollout issue" &&
	test "$(issue_count)" = 18
'

test_expect_success 'no daemon: bbgitops-hook runs the full bbgitops with the same lines; malformed ones reported once' '
	stop_daemon &&
	push_migration 10 &&
	test "$(wc -l <full-runs)" = 2 &&
	test "$(bbgitops_lines push-10.out)" = "remote: bbgitops: main: 1 migration queued as 1 rollout issue" &&
	test "$(issue_count)" = 19 &&
	old=$(git -C hr.git rev-parse main) &&
	(cd hr && add_file bytebase/0011_t.sql && commit_all "Add 11" && git push -q origin HEAD:refs/tmp/side 2>/dev/null) &&
	new=$(git -C hr rev-parse HEAD) &&
	git -C hr.git update-ref refs/heads/main $new $old &&
	printf "not a ref line\n%s %s refs/heads/main\n" $old $new >stdin &&
	(cd hr.git && GIT_DIR=. ./hooks/post-receive <../stdin 2>../direct.err) &&
	test "$(grep -c "ignoring 1 malformed ref update line" direct.err)" = 1 &&
	test_grep "main: 1 migration queued as 1 rollout issue" direct.err &&
	test "$(issue_count)" = 20
'

if test "${BBGITOPS_TEST_STATE:-sqlite}" = pg
then
	test_expect_success 'the waiting worker'"'"'s PostgreSQL connection, ended by a server restart, is not used: queued' '
		start_daemon &&
		sleep 0.5 &&
		pg_halt &&
		pg_resume &&
		before=$(issue_count) &&
		push_migration 12 &&
		test "$(served)" = 1 &&
		test "$(bbgitops_lines push-12.out)" = "remote: bbgitops: main: 1 migration queued as 1 rollout issue" &&
		test "$(issue_count)" = $((before + 1)) &&
		stop_daemon
	'
else
	test_expect_success 'the waiting worker'"'"'s state follows a replaced database: the push is queued in the new one' '
		start_daemon &&
		sleep 0.5 &&
		rm -f "$STATE_DIR/state.db" "$STATE_DIR/state.db-wal" "$STATE_DIR/state.db-shm" &&
		push_migration 12 &&
		test "$(served)" = 1 &&
		test "$(bbgitops_lines push-12.out)" = "remote: bbgitops: main: 1 migration queued as 1 rollout issue" &&
		issues_json >issues.json &&
		json_query "[f[\"path\"] for i in d for f in i[\"files\"]]" issues.json >actual &&
		echo bytebase/00012_t.sql >expect &&
		test_cmp expect actual &&
		stop_daemon
	'
fi

# hook.handoff = "detach": the hook returns once the daemon has taken the push; the work runs after it.
test_expect_success 'hook.handoff = "detach" with deliver = "inline" is refused at its line' '
	cp "$CONF" inline.conf &&
	printf "hook = {\n  deliver = \"inline\";\n  handoff = \"detach\";\n};\n" >>inline.conf &&
	line=$(grep -n "handoff = \"detach\"" inline.conf | cut -d: -f1) &&
	test_expect_code 2 "$BBGITOPS" -c inline.conf check-config >check.out 2>&1 &&
	test_grep "inline.conf:$line: hook.handoff = \"detach\" returns before the work" check.out
'

test_expect_success 'detached: the push returns with no line, the daemon queues it once and logs what it queued' '
	printf "hook = { handoff = \"detach\"; };\n" >>"$CONF" &&
	"$BBGITOPS" -c "$CONF" check-config &&
	start_daemon &&
	runs_before=$(cat full-runs | wc -l) &&
	before=$(issue_count) &&
	push_migration 13 &&
	test -z "$(bbgitops_lines push-13.out)" &&
	for i in $(test_seq 200)
	do
		test "$(issue_count)" = $((before + 1)) && break
		sleep 0.05
	done &&
	test "$(issue_count)" = $((before + 1)) &&
	test "$(served)" = 1 &&
	test_grep "detached: the push has returned" daemon.err &&
	test_grep "hr@main: 1 migration queued as 1 rollout issue" daemon.err &&
	test "$(wc -l <full-runs)" = "$runs_before" &&
	issues_json >issues.json &&
	json_query "d[-1][\"files\"][0][\"path\"]" issues.json >actual &&
	echo bytebase/00013_t.sql >expect &&
	test_cmp expect actual
'

test_expect_success 'detached: the push returns while the state is locked; its worker killed there loses nothing' '
	before=$(issue_count) &&
	hold_state_lock &&
	test_when_finished "release_state_lock" &&
	push_migration 14 &&
	test -z "$(bbgitops_lines push-14.out)" &&
	for i in $(test_seq 100)
	do
		test "$(served)" = 2 && break
		sleep 0.05
	done &&
	worker=$(sed -n "s/.*handed to a worker (pid \([0-9]*\)).*/\1/p" daemon.err | tail -n 1) &&
	test -n "$worker" &&
	kill -0 "$worker" &&
	kill -KILL "$worker" &&
	release_state_lock &&
	sleep 0.2 &&
	test "$(issue_count)" = "$before" &&
	bbgitops poll >poll-14.out 2>&1 &&
	test "$(issue_count)" = $((before + 1)) &&
	bbgitops poll >poll-14b.out 2>&1 &&
	test "$(issue_count)" = $((before + 1)) &&
	issues_json >issues.json &&
	json_query "d[-1][\"files\"][0][\"path\"]" issues.json >actual &&
	echo bytebase/00014_t.sql >expect &&
	test_cmp expect actual &&
	stop_daemon
'

test_done
