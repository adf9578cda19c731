#!/bin/sh
test_description='deliver: no token, service key or Authorization header in any output, log or state, also with -v'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

# no_secrets FILE...: none of the files holds the service key, a bearer token or an Authorization header.
no_secrets () {
	for f
	do
		if grep -a -n -i -e "$FAKE_KEY" -e "bbs_wrong" -e "bearer" -e "authorization" -e "fake-[A-Za-z0-9_-]\{20,\}" \
			"$f"
		then
			echo >&2 "secret found in $f"
			return 1
		fi
	done
}

test_expect_success 'the secret detector itself finds a key, a token and a header' '
	echo "password=$FAKE_KEY" >probe.1 &&
	echo "Authorization: Bearer abc" >probe.2 &&
	echo "token fake-0123456789abcdefghijABCDEF" >probe.3 &&
	test_must_fail no_secrets probe.1 &&
	test_must_fail no_secrets probe.2 &&
	test_must_fail no_secrets probe.3
'

for version in ${VERSIONS:-$DELIVERY_VERSIONS}
do
	version_setup $version

	test_expect_success "$version: a verbose delivery with re-logins, faults and failures logs no secret" '
		start_fake --version $version &&
		write_delivery_config $api none "$target" &&
		setup_hr &&
		push_migrations 3 &&
		fake_set "{\"token_ttl\": 0.3}" &&
		fake_fault "{\"method\": \"POST\", \"path\": \"/plans$\", \"delay\": 0.4, \"times\": 1}" &&
		fake_fault "{\"method\": \"POST\", \"path\": \"/issues$\", \"status\": 500, \"times\": 1}" &&
		{ bbgitops -v deliver --now >out.1 2>&1 || :; } &&
		fake_set "{\"token_ttl\": 3600}" &&
		{ bbgitops -v deliver --now >out.2 2>&1 || :; } &&
		deliver_until_done &&
		test_grep "POST /v1/auth/login -> 200" out.1 &&
		test_grep "POST /v1/projects/hr/plans -> 401" out.1 &&
		test "$(issue_count --status created)" = 3 &&
		bbgitops -v issues --json >out.3 2>&1 &&
		bbgitops -v status >out.4 2>&1 &&
		bbgitops -v status --json >out.5 2>&1 &&
		state_dump >dump.sql &&
		no_secrets out.1 out.2 out.3 out.4 out.5 dump.sql fake.log
	'

	test_expect_success "$version: a rejected key is reported without the key" '
		write_key bbs_wrongkey_0123456789 &&
		push_migrations 1 &&
		test_expect_code 1 bbgitops -v deliver --now >out 2>&1 &&
		test_grep "login as $FAKE_ACCOUNT" out &&
		test_grep "HTTP 401" out &&
		bbgitops status >status.out 2>&1 &&
		no_secrets out status.out &&
		write_key
	'

	test_expect_success "$version: an inline service_key never shows either" '
		write_config <<-EOF &&
		bytebase = { url = "$FAKE_URL"; service_account = "$FAKE_ACCOUNT"; service_key = "$FAKE_KEY"; timeout = 2; api = "$api"; };
		hook = { deliver = "inline"; };
		repositories = ( { name = "hr"; path = "$TRASH_DIRECTORY/hr.git"; branch = "main"; base_directory = "bytebase"; project = "hr"; $target } );
		EOF
		push_migrations 1 &&
		cat .push.out >push.out &&
		bbgitops -v deliver --now >out 2>&1 &&
		test "$(issue_count --status pending)" = 0 &&
		fake_requests requests.json &&
		no_secrets out push.out fake.log requests.json
	'

	test_expect_success "$version: the detached deliverer command line carries no secret" '
		write_delivery_config $api background "$target" &&
		fake_fault "{\"delay\": 1, \"times\": 1}" &&
		push_migrations 1 &&
		sleep 0.3 &&
		ps -eo args >ps.out &&
		test_grep -- "-q deliver" ps.out &&
		no_secrets ps.out &&
		wait_created $(issue_count) 20
	'
done

stop_fake
test_done
