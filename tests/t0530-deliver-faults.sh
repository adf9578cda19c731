#!/bin/sh
test_description='deliver: every transient fault ends, after recovery, with exactly one Bytebase issue per queued issue'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

# next_attempt_in ID: seconds from now to the issue's next attempt.
next_attempt_in () {
	_at=$(state_sql "SELECT next_attempt_at FROM issues WHERE id = $1") &&
	echo $((_at - $(date +%s)))
}

# last_id: id of the newest issue.
last_id () {
	issues_json >"$TRASH_DIRECTORY/.ids.json" &&
	json_query "d[-1][\"id\"]" "$TRASH_DIRECTORY/.ids.json"
}

for version in ${VERSIONS:-$DELIVERY_VERSIONS}
do
	version_setup $version
	# The slower faults run on the oldest and the newest release; the duplicate traps on every one.
	case " ${FULL_VERSIONS:-2.16.0 3.21.1} " in *" $version "*) full=yes ;; *) full=no ;; esac
	issue_path='/v1/projects/hr/issues$' plan_path='/v1/projects/hr/plans$' release_path='/v1/projects/hr/releases$'

	test_expect_success "$version: setup" '
		start_fake --version $version &&
		write_delivery_config $api none "$target" &&
		setup_hr
	'

	test_expect_success "$version: 500 on the plan: pending with the error, then created once" '
		push_migrations 1 &&
		fake_fault "{\"method\": \"POST\", \"path\": \"$plan_path\", \"status\": 500, \"times\": 1}" &&
		test_expect_code 1 bbgitops deliver --now 2>err &&
		test_grep "HTTP 500" err &&
		issues_json >issues.json &&
		test "$(json_query "d[-1][\"status\"]" issues.json)" = pending &&
		test "$(json_query "d[-1][\"attempts\"]" issues.json)" = 1 &&
		json_query "d[-1][\"last_error\"]" issues.json >last_error &&
		test_grep "HTTP 500" last_error &&
		deliver_until_done &&
		check_exactly_once
	'

	test_expect_success "$version: 503 on the issue, twice: created once" '
		push_migrations 1 &&
		fake_fault "{\"method\": \"POST\", \"path\": \"$issue_path\", \"status\": 503, \"times\": 2}" &&
		deliver_until_done &&
		check_exactly_once
	'

	test "$full" = no ||
	test_expect_success "$version: 429 with Retry-After schedules the next attempt that far" '
		push_migrations 1 &&
		fake_fault "{\"method\": \"POST\", \"path\": \"$issue_path\", \"status\": 429, \"retry_after\": 120, \"times\": 1}" &&
		test_expect_code 1 bbgitops deliver &&
		id=$(last_id) &&
		in=$(next_attempt_in $id) &&
		test "$in" -ge 110 && test "$in" -le 120 &&
		fake_requests before.json &&
		test_expect_code 1 bbgitops deliver &&
		fake_requests after.json &&
		test "$(json_query "len(d)" before.json)" = "$(json_query "len(d)" after.json)" &&
		deliver_until_done &&
		check_exactly_once
	'

	test_expect_success "$version: a reply slower than the timeout (the server created the issue)" '
		push_migrations 1 &&
		fake_fault "{\"method\": \"POST\", \"path\": \"$issue_path\", \"delay_reply\": 3, \"times\": 1}" &&
		test_expect_code 1 bbgitops deliver --now 2>err &&
		test_grep -i "timeout\|timed out" err &&
		deliver_until_done &&
		check_exactly_once
	'

	test_expect_success "$version: connection dropped after the server created the release or the sheet" '
		push_migrations 1 &&
		case $range in
		steps) fake_fault "{\"method\": \"POST\", \"path\": \"/sheets$\", \"drop\": \"after\", \"times\": 1}" ;;
		*) fake_fault "{\"method\": \"POST\", \"path\": \"$release_path\", \"drop\": \"after\", \"times\": 1}" ;;
		esac &&
		test_expect_code 1 bbgitops deliver --now 2>err &&
		test_grep "server closed the connection without a reply" err &&
		deliver_until_done &&
		check_exactly_once &&
		fake_objects objects.json &&
		if test $range != steps
		then
			# found by content on the retry, not created twice
			test "$(json_query "len(d[\"releases\"])" objects.json)" = "$(issue_count --status created)"
		fi
	'

	test_expect_success "$version: connection dropped after the server created the issue" '
		push_migrations 1 &&
		fake_fault "{\"method\": \"POST\", \"path\": \"$issue_path\", \"drop\": \"after\", \"times\": 1}" &&
		test_expect_code 1 bbgitops deliver --now &&
		test "$(issue_count --status pending)" = 1 &&
		deliver_until_done &&
		check_exactly_once
	'

	test_expect_success "$version: connection dropped after the server created the plan" '
		push_migrations 1 &&
		fake_fault "{\"method\": \"POST\", \"path\": \"$plan_path\", \"drop\": \"after\", \"times\": 1}" &&
		test_expect_code 1 bbgitops deliver --now &&
		deliver_until_done &&
		check_exactly_once
	'

	test_expect_success "$version: connection dropped after the server created the rollout" '
		push_migrations 1 &&
		fake_fault "{\"method\": \"POST\", \"path\": \"$rollout_path\", \"drop\": \"after\", \"times\": 1}" &&
		test_expect_code 1 bbgitops deliver --now &&
		deliver_until_done &&
		check_exactly_once &&
		issues_json >issues.json &&
		test "$(json_query "d[-1][\"rollout\"]" issues.json)" != null
	'

	test "$full" = no ||
	test_expect_success "$version: connection dropped before the server saw the request" '
		push_migrations 1 &&
		fake_fault "{\"method\": \"POST\", \"path\": \"$issue_path\", \"drop\": \"before\", \"times\": 1}" &&
		deliver_until_done &&
		check_exactly_once
	'

	test_expect_success "$version: the token expires between calls: one new login, the call repeated" '
		push_migrations 2 &&
		fake GET /__fake/stats >stats-before.json &&
		fake_set "{\"token_ttl\": 0.4}" &&
		fake_fault "{\"method\": \"POST\", \"path\": \"$plan_path\", \"delay\": 0.6, \"times\": 1}" &&
		bbgitops deliver --now &&
		fake_clear_faults &&
		fake_set "{\"token_ttl\": 3600}" &&
		fake GET /__fake/stats >stats-after.json &&
		test $(($(json_query "d[\"logins\"]" stats-after.json) - $(json_query "d[\"logins\"]" stats-before.json))) -ge 2 &&
		fake_requests requests.json &&
		test "$(json_query "len([r for r in d if r[\"status\"] == 401])" requests.json)" -ge 1 &&
		check_exactly_once
	'

	test "$full" = no ||
	test_expect_success "$version: tokens revoked before the next call: re-login once and go on" '
		push_migrations 1 &&
		fake_fault "{\"method\": \"POST\", \"path\": \"$plan_path\", \"delay\": 0.5, \"times\": 1}" &&
		{ bbgitops deliver --now & pid=$!; } &&
		sleep 0.25 &&
		fake POST /__fake/expire-tokens "{}" &&
		wait $pid &&
		check_exactly_once
	'

	test "$full" = no ||
	test_expect_success "$version: server down for a while: pending, then delivered once" '
		push_migrations 2 &&
		fake_set "{\"down\": true}" &&
		test_expect_code 1 bbgitops deliver --now &&
		test_expect_code 1 bbgitops deliver --now &&
		test "$(issue_count --status pending)" = 2 &&
		fake_set "{\"down\": false}" &&
		deliver_until_done &&
		check_exactly_once
	'

	test "$full" = no ||
	test_expect_success "$version: server not listening at all: transient, then delivered once" '
		push_migrations 1 &&
		port=$FAKE_PORT &&
		write_delivery_config $api none "$target" &&
		sed -i "s|127.0.0.1:$port|127.0.0.1:1|" "$CONF" &&
		test_expect_code 1 bbgitops deliver --now 2>err &&
		test_grep -i "connect" err &&
		test "$(issue_count --status pending)" = 1 &&
		write_delivery_config $api none "$target" &&
		deliver_until_done &&
		check_exactly_once
	'

	test_expect_success "$version: one connection for a whole run (keep-alive)" '
		push_migrations 3 &&
		fake GET /__fake/stats >before.json &&
		bbgitops deliver --now &&
		fake GET /__fake/stats >after.json &&
		test $(($(json_query "d[\"connections\"]" after.json) - $(json_query "d[\"connections\"]" before.json))) = 1
	'
done

stop_fake
test_done
