#!/bin/sh
test_description='the waiting worker of poll --daemon reads ahead for the branches whose cursors moved last: their
repositories opened, their base trees at the cursors read; pushes to two repositories in turn are each queued once,
and a repository replaced at its path since the worker opened it is opened anew'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-hook-daemon.sh"

# push_to_repo REPO N: commits bytebase/00N_REPO.sql on main of the clone REPO and pushes it (output in REPO-N.out).
push_to_repo () {
	(
		cd "$TRASH/$1" &&
		add_file bytebase/00$2_$1.sql &&
		commit_all "Add $1 $2" &&
		push_to "../$1-$2.out" origin main
	)
}

# wait_read_ahead: until the daemon's waiting worker has read ahead after every push it served (its -v log), so the
# next push finds one that has, not one forked at once because the push came within SERVER_SETTLE_SECONDS.
wait_read_ahead () {
	for i in $(test_seq 200)
	do
		test "$(grep -c "read ahead in" daemon.err)" -ge "$(served)" && return 0
		sleep 0.05
	done
	echo >&2 "no worker read ahead after push $(served)" && return 1
}

# paths_of REPO: the migration paths queued for REPO, oldest first.
paths_of () {
	issues_json --repo "$1" >"$TRASH/paths.json" &&
	json_query "[f[\"path\"] for i in d for f in i[\"files\"]]" "$TRASH/paths.json"
}

test_expect_success 'setup: two repositories with the hook, one daemon; their first pushes done by the hooks' '
	for r in hr ops
	do
		setup_server_repo $r || return 1
	done &&
	write_config <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git"; branch = "main"; base_directory = "bytebase"; project = "hr"; },
	  { name = "ops"; path = "$TRASH/ops.git"; branch = "main"; base_directory = "bytebase"; project = "ops"; }
	);
	poll = { interval = 86400; jitter = 0; };
	EOF
	install_hook "$TRASH/hr.git" &&
	install_hook "$TRASH/ops.git" &&
	start_daemon &&
	push_to_repo hr 1 &&
	push_to_repo ops 1 &&
	test "$(served)" = 0 &&
	test "$(issue_count)" = 2
'

test_expect_success 'pushes to the two repositories in turn: served from what was read ahead, each queued once' '
	for n in 2 3 4
	do
		wait_read_ahead &&
		push_to_repo hr $n &&
		wait_read_ahead &&
		push_to_repo ops $n || return 1
	done &&
	test "$(served)" = 6 &&
	# all but the first: the worker that took it had read ahead before the branches had cursors
	test "$(grep -c "the repository was opened ahead" daemon.err)" = 5 &&
	for r in hr ops
	do
		printf "bytebase/00%s_$r.sql\n" 1 2 3 4 >expect &&
		paths_of $r >actual &&
		test_cmp expect actual || return 1
	done &&
	test "$(bbgitops_lines ops-4.out)" = "remote: bbgitops: main: 1 migration queued as 1 rollout issue"
'

test_expect_success 'a repository replaced at its path after the worker opened it: opened anew, queued once' '
	mv ops.git ops-old.git &&
	git clone -q --bare ops-old.git ops.git &&
	install_hook "$TRASH/ops.git" &&
	before=$(served) &&
	wait_read_ahead &&
	push_to_repo ops 5 &&
	test "$(served)" = $((before + 1)) &&
	test_grep "ops.git was replaced since it was opened ahead" daemon.err &&
	printf "bytebase/00%s_ops.sql\n" 1 2 3 4 5 >expect &&
	paths_of ops >actual &&
	test_cmp expect actual &&
	push_to_repo ops 6 &&
	printf "bytebase/00%s_ops.sql\n" 1 2 3 4 5 6 >expect &&
	paths_of ops >actual &&
	test_cmp expect actual &&
	stop_daemon
'

test_done
