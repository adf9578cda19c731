#!/bin/sh
test_description='the test library itself: the chain-lint rejects a broken &&-chain, test_diag reports without
asserting, and wait_no_deliverer really waits for a running deliverer'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

# run_sub NAME <<BODY: a test script NAME.sh made of BODY between test-lib.sh and test_done, run in its own build
# directory; its TAP output in NAME.out, its exit status in NAME.status.
run_sub () {
	mkdir -p "sub-$1" &&
	{
		printf '%s\n' "test_description='sub-test $1'" ". \"\$TEST_SRCDIR/test-lib.sh\"" &&
		cat &&
		printf '%s\n' "test_done"
	} >"sub-$1/$1.sh" &&
	(
		cd "sub-$1" &&
		TEST_BUILDDIR=$TRASH/sub-$1 sh "./$1.sh" >"$TRASH/$1.out" 2>&1
		echo $? >"$TRASH/$1.status"
	)
}

test_expect_success 'a body whose &&-chain is broken is a bug in the script, reported before it runs' '
	run_sub broken <<-\EOF &&
	test_expect_success "two lines without &&" "
		echo first >ran
		echo second >>ran
	"
	EOF
	test "$(cat broken.status)" != 0 &&
	test_grep "^Bail out! bug in the test script: broken &&-chain in test 1 (two lines without &&)" broken.out
'

test_expect_success 'a sound &&-chain, with a background job written { cmd & pid=$!; }, passes the lint' '
	run_sub sound <<-\EOF &&
	test_expect_success "chained" "
		{ sleep 0 & pid=\$!; } &&
		wait \$pid &&
		echo one >ran &&
		echo two >>ran
	"
	EOF
	test "$(cat sound.status)" = 0 &&
	test_grep "^ok 1 - chained" sound.out
'

test_expect_success 'TEST_CHAIN_LINT=0 turns the lint off' '
	TEST_CHAIN_LINT=0 run_sub unlinted <<-\EOF &&
	test_expect_success "broken but unlinted" "
		false
		true
	"
	EOF
	test "$(cat unlinted.status)" = 0
'

test_expect_success 'test_diag prints a "# " line after the result, on success and on failure' '
	run_sub diag <<-\EOF &&
	test_expect_success "passes" "test_diag 42 kills"
	test_expect_success "fails" "test_diag 7 kills && false"
	EOF
	test "$(cat diag.status)" = 1 &&
	sed -n -e "/^ok 1/{n;p;}" -e "/^not ok 2/{n;p;}" diag.out >actual &&
	printf "# 42 kills\n# 7 kills\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'wait_no_deliverer returns only once the detached deliverer has finished' '
	start_fake v2 &&
	write_delivery_config 2 background "databases = [\"instances/test-pg/databases/hr\"];" &&
	setup_hr &&
	fake_fault "{\"delay\": 0.3}" &&
	push_migrations 1 &&
	wait_no_deliverer &&
	ps -eo args >ps.out &&
	test_grep -v -F "bbgitops-deliver -c $CONF " ps.out &&
	test "$(issue_count --status created)" = 1
'

test_expect_success 'deliverer_running sees a process holding the deliverer lock' '
	{ flock "$STATE_DIR/deliver.lock" sleep 30 & holder=$!; } &&
	test_when_finished "kill $holder" &&
	for i in $(test_seq 50); do ! flock -n "$STATE_DIR/deliver.lock" true && break; sleep 0.1; done &&
	deliverer_running &&
	test_must_fail wait_no_deliverer 1
'

stop_fake
test_done
