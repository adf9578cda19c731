#!/bin/sh
test_description='deliver: SIGKILL at random moments, 50 times and more, still yields every issue exactly once'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

KILLS=${KILLS:-50}

# kill_loop: runs `deliver --now` and SIGKILLs it after a random 5..250 ms, until $KILLS runs were killed while
# still running (at most 4 x $KILLS tries); pushes a new migration every 8 tries so there is always work in flight.
# How many runs the harness managed to kill depends on the machine's speed: it is reported (# diag), not asserted.
# The claim is the next test's: after all this, every issue exists exactly once.
kill_loop () {
	python3 -c 'import random; print(" ".join("%.3f" % random.uniform(0.005, 0.25) for _ in range(400)))' \
		>delays &&
	killed=0 &&
	tries=0 &&
	for d in $(cat delays)
	do
		test $killed -lt "$KILLS" || break
		test $tries -lt $((KILLS * 4)) || break
		tries=$((tries + 1))
		if test $((tries % 8)) = 0
		then
			push_migrations 1 || return 1
		fi
		"$BBGITOPS" -c "$CONF" -q deliver --now >/dev/null 2>&1 &
		pid=$!
		sleep "$d"
		if kill -9 "$pid" 2>/dev/null
		then
			killed=$((killed + 1))
		fi
		wait "$pid" 2>/dev/null
	done
	created=$(issue_count --status created) &&
	test_diag "$killed deliverers killed in $tries tries; $created issues created meanwhile"
}

for version in ${VERSIONS:-2.16.0 3.5.2 3.6.2 3.13.0 3.21.1}   # one per range: the flows, not the enums, matter here
do
	version_setup $version

	test_expect_success "$version: setup: 15 queued issues, a server that takes 20 ms per reply" '
		start_fake --version $version &&
		write_delivery_config $api none "$target" &&
		setup_hr &&
		push_migrations 15 &&
		test "$(issue_count --status pending)" = 15 &&
		fake_fault "{\"delay\": 0.02}"
	'

	test_expect_success "$version: SIGKILL the deliverer at random moments (up to $KILLS times)" '
		kill_loop
	'

	test_expect_success "$version: after recovery every queued issue exists exactly once in Bytebase" '
		fake_clear_faults &&
		deliver_until_done &&
		check_exactly_once &&
		fake_objects objects.json &&
		test_diag "$(json_query "len(d[\"issues\"])" objects.json) issues, $(json_query "len(d[\"plans\"])" objects.json) plans"
	'
done

stop_fake
test_done
