#!/bin/sh
test_description='@include: the file that holds an inline secret is the one that must be private; absolute includes work (issue 9, item 5)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

# main_config FILE INCLUDE [BYTEBASE]: a configuration FILE that @includes INCLUDE and holds BYTEBASE (or nothing).
main_config () {
	cat >"$1" <<-EOF
	state_dir = "$STATE_DIR";
	@include "$2"
	$3
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git"; branch = "main"; base_directory = "bytebase"; project = "hr"; }
	);
	EOF
}

BYTEBASE_KEY='bytebase = {
	  url = "http://127.0.0.1:9";
	  service_account = "bbgitops@service.bytebase.com";
	  service_key = "bbs_not_a_real_key";
	};'

test_expect_success 'setup' '
	git init -q --bare hr.git &&
	mkdir -p etc/conf.d &&
	echo "hook = { deliver = \"none\"; };" >etc/conf.d/hook.conf
'

test_expect_success 'an inline service_key in a world-readable included file is refused, naming that file and line' '
	printf "%s\n" "# the secret" "$BYTEBASE_KEY" >etc/conf.d/bytebase.conf &&
	chmod 644 etc/conf.d/bytebase.conf &&
	main_config etc/main.conf "conf.d/bytebase.conf" &&
	chmod 600 etc/main.conf &&
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/etc/main.conf" check-config >out 2>&1 &&
	test_grep -F "$TRASH/etc/conf.d/bytebase.conf:5: " out &&
	test_grep -F "chmod 600 $TRASH/etc/conf.d/bytebase.conf" out &&
	test_grep -v "bbs_not_a_real_key" out
'

test_expect_success 'the hook refuses it too (configuration error)' '
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/etc/main.conf" status >out 2>&1 &&
	test_grep -F "$TRASH/etc/conf.d/bytebase.conf:" out
'

test_expect_success 'the same included file made private is accepted, the main file world-readable' '
	chmod 600 etc/conf.d/bytebase.conf &&
	chmod 644 etc/main.conf &&
	"$BBGITOPS" -c "$TRASH/etc/main.conf" check-config >out 2>&1 &&
	echo "configuration OK" >expect &&
	test_cmp expect out
'

test_expect_success 'a secret in a world-readable main file is refused naming the main file, even with a private include' '
	main_config etc/main.conf "conf.d/hook.conf" "$BYTEBASE_KEY" &&
	chmod 644 etc/main.conf &&
	chmod 600 etc/conf.d/hook.conf &&
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/etc/main.conf" check-config >out 2>&1 &&
	test_grep -F "$TRASH/etc/main.conf:6: " out &&
	test_grep -F "chmod 600 $TRASH/etc/main.conf" out &&
	chmod 600 etc/main.conf &&
	"$BBGITOPS" -c "$TRASH/etc/main.conf" check-config
'

test_expect_success 'an @include with an absolute path works' '
	main_config etc/main.conf "$TRASH/etc/conf.d/hook.conf" &&
	"$BBGITOPS" -c "$TRASH/etc/main.conf" check-config >out 2>&1 &&
	echo "configuration OK" >expect &&
	test_cmp expect out
'

test_expect_success 'a relative @include resolves from the configuration file'"'"'s directory, whatever the cwd' '
	main_config etc/main.conf "conf.d/hook.conf" &&
	(cd / && "$BBGITOPS" -c "$TRASH/etc/main.conf" check-config) >out 2>&1 &&
	test_cmp expect out &&
	(cd etc && "$BBGITOPS" -c main.conf check-config) >out 2>&1 &&
	test_cmp expect out
'

test_expect_success 'a problem inside an included file is reported at that file and line' '
	printf "%s\n" "# hook" "hook = { deliver = \"sometimes\"; };" >etc/conf.d/bad.conf &&
	main_config etc/main.conf "conf.d/bad.conf" &&
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/etc/main.conf" check-config >out 2>&1 &&
	test_grep -F "$TRASH/etc/conf.d/bad.conf:2: " out
'

test_expect_success 'a missing include is reported, naming the main file' '
	main_config etc/main.conf "conf.d/nope.conf" &&
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/etc/main.conf" check-config >out 2>&1 &&
	test_grep -F "$TRASH/etc/main.conf:2: " out &&
	test_grep "include" out
'

test_done
