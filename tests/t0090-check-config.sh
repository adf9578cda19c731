#!/bin/sh
test_description='check-config: "configuration OK", or every problem as FILE:LINE: message and exit 2 (design §5, §6)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

test_expect_success 'setup' '
	git init -q --bare hr.git &&
	git init -q --bare crm.git
'

test_expect_success 'a good configuration prints "configuration OK" and exits 0' '
	write_config <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git"; branch = "main"; base_directory = "bytebase"; project = "hr"; },
	  { name = "crm"; path = "$TRASH/crm.git"; branch = "release/*"; base_directory = ""; project = "crm";
	    group_by = "file"; start = "all"; }
	);
	hook = { deliver = "none"; };
	EOF
	bbgitops check-config >out 2>&1 &&
	echo "configuration OK" >expect &&
	test_cmp expect out
'

test_expect_success 'the configuration is also found through $BBGITOPS_CONFIG' '
	BBGITOPS_CONFIG="$CONF" "$BBGITOPS" check-config >out 2>&1 &&
	echo "configuration OK" >expect &&
	test_cmp expect out
'

test_expect_success 'a syntax error is reported as FILE:LINE: message, exit 2' '
	cat >syntax.conf <<-EOF &&
	state_dir = "$STATE_DIR";
	repositories = (
	  { name = "hr"; path = ; }
	);
	EOF
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/syntax.conf" check-config >out 2>&1 &&
	test_grep -F "$TRASH/syntax.conf:3: " out
'

test_expect_success 'several problems are all reported, one FILE:LINE: message each, exit 2' '
	cat >bad.conf <<-EOF &&
	state_dir = "$STATE_DIR";
	hook = { deliver = "sometimes"; };
	repositories = (
	  { name = "a"; path = "$TRASH/hr.git"; branch = "main"; base_directory = "bytebase"; project = "a"; group_by = "never"; },
	  { path = "$TRASH/hr.git"; branch = "main"; base_directory = "bytebase"; project = "b"; },
	  { name = "c"; path = "$TRASH/hr.git"; url = "https://git.example.com/c.git"; comment = true; branch = "main"; project = "c"; },
	  { name = "a"; path = "$TRASH/crm.git"; branch = "main"; base_directory = "db"; project = "d"; }
	);
	EOF
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/bad.conf" check-config >out 2>&1 &&
	for line in 2 4 5 6 7
	do
		grep -F "$TRASH/bad.conf:$line: " out >/dev/null || { echo "no problem reported on line $line:"; cat out; return 1; }
	done &&
	test_grep -v "configuration OK" out
'

test_expect_success 'each problem is reported once, on its own line' '
	grep -c -F "$TRASH/bad.conf:" out >count &&
	echo 5 >expect &&
	test_cmp expect count
'

test_expect_success 'the messages name what is wrong' '
	test_grep -i "sometimes\|deliver" out &&
	test_grep -i "never\|group_by" out &&
	test_grep -i "name" out &&
	test_grep -i "url" out &&
	test_grep -i "duplicate\|already" out
'

test_expect_success 'commands other than check-config refuse a bad configuration with exit 2' '
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/bad.conf" issues --json >out 2>&1 &&
	test_grep -F "$TRASH/bad.conf:" out
'

test_expect_success 'a missing configuration file is a configuration error (exit 2)' '
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/nope.conf" check-config >out 2>&1 &&
	test_grep -F "nope.conf" out
'

test_expect_success 'an inline service_key in a group/other-readable file is refused, exit 2' '
	write_config secret.conf <<-EOF &&
	bytebase = {
	  url = "http://127.0.0.1:9";
	  service_account = "bbgitops@service.bytebase.com";
	  service_key = "bbs_not_a_real_key";
	};
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git"; branch = "main"; base_directory = "bytebase"; project = "hr"; }
	);
	EOF
	chmod 644 secret.conf &&
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/secret.conf" check-config >out 2>&1 &&
	test_grep -i "permission\|mode\|readable\|can read\|private\|0644\|644" out &&
	test_grep -v "bbs_not_a_real_key" out
'

test_expect_success 'the same file readable by its group only is refused too' '
	chmod 640 secret.conf &&
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/secret.conf" check-config >out 2>&1
'

test_expect_success 'the same file with mode 0600 is accepted' '
	chmod 600 secret.conf &&
	"$BBGITOPS" -c "$TRASH/secret.conf" check-config >out 2>&1 &&
	echo "configuration OK" >expect &&
	test_cmp expect out
'

test_expect_success 'a world-readable configuration without secrets is fine' '
	chmod 644 "$CONF" &&
	bbgitops check-config >out 2>&1 &&
	echo "configuration OK" >expect &&
	test_cmp expect out
'

test_expect_success 'a group/other-readable service_key_file is reported by check-config' '
	echo bbs_not_a_real_key >key &&
	chmod 644 key &&
	write_config keyfile.conf <<-EOF &&
	bytebase = {
	  url = "http://127.0.0.1:9";
	  service_account = "bbgitops@service.bytebase.com";
	  service_key_file = "$TRASH/key";
	};
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git"; branch = "main"; base_directory = "bytebase"; project = "hr"; }
	);
	EOF
	test_must_fail "$BBGITOPS" -c "$TRASH/keyfile.conf" check-config >out 2>&1 &&
	test_grep -F "$TRASH/key" out &&
	test_grep -v "bbs_not_a_real_key" out &&
	chmod 600 key &&
	"$BBGITOPS" -c "$TRASH/keyfile.conf" check-config >out 2>&1 &&
	echo "configuration OK" >expect &&
	test_cmp expect out
'

test_done
