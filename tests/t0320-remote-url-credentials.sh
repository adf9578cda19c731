#!/bin/sh
test_description='a password in a remote url is used through the credential callback, never stored in the mirror and never printed (issue 9, item 4)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-remote.sh"

SECRET=pa55-w0rd-in-the-url

# no_secret FILE...: none of FILE holds the password, raw or percent-encoded.
no_secret () {
	! grep -l -e "$SECRET" -e "pa55%2D" -e "w0rd%2Din" "$@"
}

test_expect_success 'setup: a repository served over HTTP basic auth, url = "http://alice:PASSWORD@..."' '
	mkdir srv &&
	git init -q --bare srv/h.git &&
	git clone -q srv/h.git h 2>/dev/null &&
	push_migration h bytebase/0001_init.sql &&
	write_secret token "$SECRET" &&
	start_http_git "$TRASH/srv" "$TRASH/token" &&
	write_config <<-EOF
	poll = { interval = 60; jitter = 0; timeout = 5; };
	repositories = (
	  { name = "h";
	    url = "http://alice:$SECRET@127.0.0.1:$HTTP_PORT/h.git";
	    branch = "main"; base_directory = "bytebase"; project = "h"; start = "all"; }
	);
	EOF
'

test_expect_success 'poll fetches with the password, presented as user alice' '
	bbgitops poll >out 2>err &&
	issue_paths >actual &&
	echo "h bytebase/0001_init.sql" >expect &&
	test_cmp expect actual &&
	grep " 200 alice$" http.log
'

test_expect_success 'the mirror keeps no password: its config, refs and logs hold none' '
	git --git-dir=state/mirrors/h.git config remote.origin.url >url &&
	echo "http://alice@127.0.0.1:$HTTP_PORT/h.git" >expect &&
	test_cmp expect url &&
	no_secret $(find state/mirrors -type f)
'

test_expect_success 'status and status --json show the url without the password' '
	bbgitops status >status.out 2>&1 &&
	bbgitops status --json >status.json 2>&1 &&
	test_grep -F "http://127.0.0.1:$HTTP_PORT/h.git" status.out &&
	json_query "[r[\"url\"] for r in d[\"repositories\"]]" status.json >urls &&
	echo "http://127.0.0.1:$HTTP_PORT/h.git" >expect &&
	test_cmp expect urls &&
	no_secret status.out status.json out err
'

test_expect_success 'check-config warns that the password belongs in token_file, and says configuration OK' '
	bbgitops check-config >out 2>err &&
	echo "configuration OK" >expect &&
	test_cmp expect out &&
	test_grep -F "$CONF:5: warning: " err &&
	test_grep "token_file" err &&
	no_secret out err
'

test_expect_success 'a wrong password fails with the url redacted in the error, the event log and status' '
	push_migration h bytebase/0002_more.sql &&
	sed "s/$SECRET/wrong-$SECRET/" "$CONF" >conf.new && cat conf.new >"$CONF" &&
	test_must_fail bbgitops poll >out 2>err &&
	test_grep "authentication\|401\|credentials" err &&
	test_grep -F "http://127.0.0.1:$HTTP_PORT/h.git" err &&
	bbgitops status >status.out 2>&1 &&
	bbgitops status --json >status.json 2>&1 &&
	no_secret out err status.out status.json $(find state -type f)
'

test_expect_success 'a mirror made by an older version with the password in its config is cleaned on the next poll' '
	sed "s/wrong-$SECRET/$SECRET/" "$CONF" >conf.new && cat conf.new >"$CONF" &&
	git --git-dir=state/mirrors/h.git config remote.origin.url "http://alice:$SECRET@127.0.0.1:$HTTP_PORT/h.git" &&
	bbgitops poll 2>err &&
	git --git-dir=state/mirrors/h.git config remote.origin.url >url &&
	echo "http://alice@127.0.0.1:$HTTP_PORT/h.git" >expect &&
	test_cmp expect url &&
	no_secret state/mirrors/h.git/config err &&
	issue_paths >actual &&
	printf "h bytebase/0001_init.sql\nh bytebase/0002_more.sql\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a percent-encoded password is decoded before it is presented' '
	write_secret token "p@ss:w/rd" &&
	stop_servers &&
	start_http_git "$TRASH/srv" "$TRASH/token" &&
	write_config <<-EOF &&
	poll = { interval = 60; jitter = 0; timeout = 5; };
	repositories = (
	  { name = "h2"; url = "http://bob:p%40ss%3Aw%2Frd@127.0.0.1:$HTTP_PORT/h.git";
	    branch = "main"; base_directory = "bytebase"; project = "h"; start = "all"; }
	);
	EOF
	bbgitops poll 2>err &&
	grep " 200 bob$" http.log &&
	! grep "p%40ss\|p@ss" state/mirrors/h2.git/config
'

test_done
