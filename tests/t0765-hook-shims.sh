#!/bin/sh
test_description='the hook shims of hooks/ (for GitLab custom_hooks and gitolite, set up by hand): post-receive
starts bbgitops-hook, so a push a running poll --daemon serves never starts the full bbgitops, and runs bbgitops
itself when the daemon cannot serve or bbgitops-hook is missing; bbgitops is found by BBGITOPS_BIN or on PATH;
pre-receive rejects what bbgitops pre-receive rejects'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

SHIMS=$BBGITOPS_TOP_BUILDDIR/hooks
SRC_SHIMS=$BBGITOPS_TOP_SRCDIR/hooks

. "$TEST_SRCDIR/lib-hook-daemon.sh"

test_expect_success 'the built post-receive shim names bbgitops-hook where this build installs it' '
	test -x "$SHIMS/post-receive" &&
	test_grep "^helper=\${BBGITOPS_EXEC_PATH:-$BBGITOPS_LIBEXECDIR}/bbgitops-hook$" "$SHIMS/post-receive" &&
	! grep "@pkglibexecdir@" "$SHIMS/post-receive"
'

# The wrapper records every full run in full-runs, and in full-runs-how whether bbgitops-hook ran first (it sets
# BBGITOPS_HOOK_OFFERED when it becomes bbgitops after a hand-off nobody took).
test_expect_success 'setup: the shims as the hooks, BBGITOPS_BIN a wrapper that records every full run' '
	setup_server_repo hr &&
	write_repo_config hr "branch = \"*\";" &&
	printf "poll = { interval = 86400; jitter = 0; };\n" >>"$CONF" &&
	cp "$SHIMS/post-receive" "$SRC_SHIMS/pre-receive" hr.git/hooks/ &&
	cat >full-bbgitops <<-EOF &&
	#!/bin/sh
	echo "\$*" >>"$TRASH/full-runs"
	echo "\$* \${BBGITOPS_HOOK_OFFERED:+after bbgitops-hook}" >>"$TRASH/full-runs-how"
	exec "$BBGITOPS" "\$@"
	EOF
	chmod +x full-bbgitops &&
	BBGITOPS_BIN=$TRASH/full-bbgitops &&
	BBGITOPS_CONFIG=$CONF &&
	export BBGITOPS_BIN BBGITOPS_CONFIG
'

test_expect_success 'a branch creation: the shims run bbgitops (pre-receive, then post-receive) and it queues' '
	push_migration 1 &&
	test_grep "main: 1 migration queued as 1 rollout issue" push-1.out &&
	test "$(issue_count)" = 1 &&
	printf "%s\n" "-c $CONF pre-receive" "-c $CONF post-receive" >expect &&
	test_cmp expect full-runs
'

test_expect_success 'no daemon: bbgitops-hook runs bbgitops with the same lines' '
	rm -f full-runs full-runs-how &&
	push_migration 2 &&
	test_grep "main: 1 migration queued as 1 rollout issue" push-2.out &&
	test "$(issue_count)" = 2 &&
	test "$(grep -c "post-receive" full-runs)" = 1 &&
	test_grep "^-c $CONF post-receive after bbgitops-hook$" full-runs-how
'

test_expect_success 'with poll --daemon running, a push it serves never starts the full bbgitops' '
	start_daemon &&
	rm -f full-runs &&
	push_migration 3 &&
	test "$(served)" = 1 &&
	test "$(bbgitops_lines push-3.out)" = "remote: bbgitops: main: 1 migration queued as 1 rollout issue" &&
	test "$(issue_count)" = 3 &&
	test "$(grep -c "post-receive" full-runs)" = 0
'

test_expect_success 'without bbgitops-hook the shim runs bbgitops, which still hands the push to the daemon' '
	rm -f full-runs full-runs-how &&
	mkdir -p no-helper &&
	(
		BBGITOPS_EXEC_PATH=$TRASH/no-helper &&
		export BBGITOPS_EXEC_PATH &&
		push_migration 4
	) &&
	test "$(grep -c "post-receive" full-runs)" = 1 &&
	test_grep "^-c $CONF post-receive $" full-runs-how &&
	test "$(served)" = 2 &&
	test "$(bbgitops_lines push-4.out)" = "remote: bbgitops: main: 1 migration queued as 1 rollout issue" &&
	test "$(issue_count)" = 4
'

test_expect_success 'with BBGITOPS_BIN unset, bbgitops is found on PATH (and run by bbgitops-hook when needed)' '
	stop_daemon &&
	rm -f full-runs full-runs-how &&
	mkdir -p bin &&
	cp full-bbgitops bin/bbgitops &&
	(
		unset BBGITOPS_BIN &&
		PATH=$TRASH/bin:$PATH &&
		push_migration 5
	) &&
	test "$(grep -c "post-receive" full-runs)" = 1 &&
	test_grep "^-c $CONF post-receive after bbgitops-hook$" full-runs-how &&
	test "$(issue_count)" = 5
'

test_expect_success 'the pre-receive shim rejects a misnamed migration, and nothing is queued' '
	(
		cd hr &&
		add_file bytebase/not_a_migration.sql &&
		commit_all "Misnamed" &&
		test_must_fail git push origin main >../push-bad.out 2>&1
	) &&
	test_grep "not_a_migration.sql" push-bad.out &&
	test "$(issue_count)" = 5
'

test_done
