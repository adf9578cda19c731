#!/bin/sh
test_description='max_migration_size: pre-receive refuses a larger migration file; post-receive queues it as a failed issue naming the file, never loading or sending it (issue 9 item 3)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

# big_file PATH BYTES: a migration of exactly BYTES bytes.
big_file () {
	mkdir -p "$(dirname "$1")" &&
	"$PYTHON" -c 'import sys; sys.stdout.write("-- " + "x" * (int(sys.argv[1]) - 4) + "\n")' "$2" >"$1" &&
	git add -- "$1"
}

test_expect_success 'setup: max_migration_size = 4096' '
	setup_server_repo hr &&
	write_repo_config hr &&
	printf "max_migration_size = 4096;\n" >>"$CONF" &&
	bbgitops check-config >check.out 2>&1 &&
	install_hook "$TRASH/hr.git"
'

test_expect_success 'post-receive: the oversized file is named on one line and its issue is queued as failed' '
	(
		cd hr &&
		add_file bytebase/0001_small.sql && commit_all "Small" &&
		big_file bytebase/0002_big.sql 5000 && commit_all "Big" &&
		big_file bytebase/0003_limit.sql 4096 && commit_all "At the limit" &&
		push_to ../push1.out origin main
	) &&
	bbgitops_lines push1.out >lines &&
	test_grep "^remote: bbgitops: main: bytebase/0002_big.sql is over max_migration_size: queued as a failed issue" lines &&
	test_grep "main: 3 migrations queued as 3 rollout issues" lines &&
	issues_json >issues.json &&
	json_query "[\"%s %s\" % (i[\"files\"][0][\"path\"], i[\"status\"]) for i in d]" issues.json >actual &&
	cat >expect <<-\EOF &&
	bytebase/0001_small.sql local
	bytebase/0002_big.sql failed
	bytebase/0003_limit.sql local
	EOF
	test_cmp expect actual &&
	json_query "d[1][\"last_error\"]" issues.json >err &&
	test_grep "bytebase/0002_big.sql is 5000 bytes, over max_migration_size (4096 bytes)" err
'

test_expect_success 'the oversized content is never stored (the ledger keeps an empty body)' '
	state_sql "SELECT path || '\'' '\'' || length(content) FROM migrations ORDER BY path" >actual &&
	cat >expect <<-\EOF &&
	bytebase/0001_small.sql 34
	bytebase/0002_big.sql 0
	bytebase/0003_limit.sql 4096
	EOF
	test_cmp expect actual
'

test_expect_success 'pre-receive refuses a push carrying a larger migration, naming the file and the limit' '
	"$BBGITOPS" -c "$CONF" install-hook "$TRASH/hr.git" --pre-receive &&
	(
		cd hr &&
		big_file bytebase/0004_too_big.sql 4097 && commit_all "Too big" &&
		test_must_fail git push origin main >../push2.out 2>&1
	) &&
	test_grep "rejected refs/heads/main: bytebase/0004_too_big.sql: 4097 bytes, over max_migration_size (4096 bytes)" push2.out &&
	echo 3 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'check-config refuses a limit below 1 KiB, with its line' '
	cp "$CONF" good.conf &&
	test_when_finished "cp good.conf \"$CONF\"" &&
	sed -e "s/max_migration_size = 4096/max_migration_size = 10/" good.conf >"$CONF" &&
	test_must_fail bbgitops check-config >out 2>&1 &&
	test_grep "bbgitops.conf:[0-9]*:.*max_migration_size.*between 1024" out
'

test_done
