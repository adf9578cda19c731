#!/bin/sh
test_description='provider tokens stay secret: no token (nor its base64 form) in any output, log, the state
database or ps, also with -v, on every provider, through comments, failures and doctor'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"
. "$TEST_SRCDIR/lib-provider.sh"

# secrets_absent FILE...: neither the token, nor its base64 forms (Basic auth), nor the service key in FILEs.
secrets_absent () {
	for s in "$P_TOKEN" "$(printf %s "$P_TOKEN" | base64 -w0)" "$(printf :%s "$P_TOKEN" | base64 -w0)" "$FAKE_KEY"
	do
		for f
		do
			if grep -a -F -e "$s" "$f" >/dev/null
			then
				echo >&2 "secret found in $f"
				return 1
			fi
		done
	done
}

test_expect_success 'setup: fake Bytebase and fake provider' '
	start_fake v2 &&
	start_fake_provider
'

for F in $FLAVOURS
do
	test_expect_success "$F: no token in outputs, logs, the state database or ps (with -v)" '
		prov_set '$F' &&
		fake_reset &&
		fp POST /__fake/reset "{}" >/dev/null &&
		fp_token &&
		write_provider_config "comment_wait = 0;" &&
		setup_hr &&
		push_migrations 1 &&
		A=$(commit_sha) &&
		fp_pr 7 merged main "\"$A\"" "[\"$A\"]" &&
		fp POST /__fake/faults "{\"provider\": \"$P_KIND\", \"delay\": 0.3, \"times\": 1000000}" >/dev/null &&
		: >ps.out &&
		{ "$BBGITOPS" -c "$CONF" -v deliver --now >deliver.out 2>&1 & } &&
		pid=$! &&
		while kill -0 $pid 2>/dev/null
		do
			ps -eo args >>ps.out
			sleep 0.1
		done &&
		wait $pid &&
		fp DELETE /__fake/faults >/dev/null &&
		test_grep "bbgitops-deliver -c" ps.out &&
		issues_json >issues.json &&
		json_query "d[0][\"comment\"][\"status\"]" issues.json >status &&
		echo done >expect &&
		test_cmp expect status &&
		fp_token "[\"read\"]" &&
		push_migrations 1 &&
		test_expect_code 1 bbgitops -v deliver --now >>deliver.out 2>&1 &&
		bbgitops -v issues >>deliver.out 2>&1 &&
		bbgitops -v status --json >>deliver.out 2>&1 &&
		{ bbgitops -v doctor >>deliver.out 2>&1 || :; } &&
		echo "wrong-token" >"$TRASH_DIRECTORY/provider-token" &&
		test_expect_code 1 bbgitops -v doctor >>deliver.out 2>&1 &&
		write_token &&
		cat deliver.out issues.json >all.out &&
		test_grep "comment failed" deliver.out &&
		secrets_absent all.out ps.out "$STATE_DIR"/state.db* .push.out &&
		state_dump >dump.sql &&
		secrets_absent dump.sql
	'
done

test_done
