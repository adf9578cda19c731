#!/bin/sh
test_description='pre-receive: the strict mode rejects what the naming convention would silently ignore (design §2, §5)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

# push_rejected OUT ARGS...: git push ARGS must fail (the pre-receive hook declined); output in OUT.
push_rejected () {
	_out=$1
	shift
	if timeout 20 git push "$@" >"$_out" 2>&1
	then
		echo >&2 "git push $* was accepted:"
		cat >&2 "$_out"
		return 1
	fi
	grep -q "pre-receive hook declined" "$_out"
}

test_expect_success 'setup: both hooks installed, one migration delivered' '
	setup_server_repo hr &&
	write_repo_config hr &&
	install_hook "$TRASH/hr.git" &&
	"$BBGITOPS" -c "$CONF" install-hook --pre-receive "$TRASH/hr.git" &&
	test -x hr.git/hooks/pre-receive &&
	(
		cd hr &&
		add_file bytebase/0001_a.sql && add_file README.md && commit_all "Add a" &&
		push_to ../push0.out origin main
	) &&
	echo 1 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'a nested .sql file under the base directory is rejected, naming the file' '
	(
		cd hr &&
		add_file bytebase/sub/0002_nested.sql && commit_all "Nested" &&
		push_rejected ../out origin main &&
		git reset -q --hard origin/main
	) &&
	test_grep "rejected refs/heads/main: bytebase/sub/0002_nested.sql: nested" out &&
	echo 1 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'misnamed .sql files (no version, upper-case .SQL) are rejected, each named' '
	(
		cd hr &&
		add_file bytebase/init.sql && add_file bytebase/0003_upper.SQL && commit_all "Misnamed" &&
		push_rejected ../out origin main &&
		git reset -q --hard origin/main
	) &&
	test_grep "bytebase/init.sql: not a migration name" out &&
	test_grep "bytebase/0003_upper.SQL: not a migration name" out &&
	test_grep "push rejected: 2 problems" out
'

test_expect_success 'a version already in use is rejected, by value (1 is 0001)' '
	(
		cd hr &&
		add_file bytebase/1_again.sql && commit_all "Reuse" &&
		push_rejected ../out origin main &&
		git reset -q --hard origin/main
	) &&
	test_grep "bytebase/1_again.sql: version 1 is already used by bytebase/0001_a.sql" out
'

test_expect_success 'two new files with one version in one push are rejected' '
	(
		cd hr &&
		add_file bytebase/0005_x.sql && add_file bytebase/0005_y.sql && commit_all "Twice" &&
		push_rejected ../out origin main &&
		git reset -q --hard origin/main
	) &&
	test_grep "version 0005 is already used by bytebase/0005_x.sql" out
'

test_expect_success 'good migrations, other files under the base and files elsewhere pass' '
	(
		cd hr &&
		add_file bytebase/0002_b.sql && add_file bytebase/notes.txt && add_file other/init.sql &&
		commit_all "Good" &&
		push_to ../out origin main
	) &&
	! grep "rejected" out &&
	echo 2 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'a rewritten commit re-adding a queued migration at its own path passes' '
	(
		cd hr &&
		git commit -q --amend -m "Good, reworded" &&
		push_to ../out --force origin main
	) &&
	! grep "rejected" out
'

test_expect_success 'modifying or deleting a migration Bytebase already received is rejected' '
	state_sql "UPDATE issues SET status = '\''created'\'', issue_name = '\''projects/hr/issues/1'\'' WHERE id = 1" &&
	(
		cd hr &&
		echo "ALTER TABLE a ADD c int;" >bytebase/0001_a.sql && commit_all "Edit delivered" &&
		push_rejected ../out-modify origin main &&
		git reset -q --hard origin/main &&
		git rm -q bytebase/0001_a.sql && commit_all "Delete delivered" &&
		push_rejected ../out-delete origin main &&
		git reset -q --hard origin/main
	) &&
	test_grep "bytebase/0001_a.sql: already delivered to Bytebase" out-modify &&
	test_grep "bytebase/0001_a.sql: already delivered to Bytebase" out-delete
'

test_expect_success 'a migration not yet delivered may still be corrected' '
	(
		cd hr &&
		echo "SELECT 2;" >bytebase/0002_b.sql && commit_all "Fix b before delivery" &&
		push_to ../out origin main
	) &&
	! grep "rejected" out
'

test_expect_success 'unwatched branches are not checked' '
	(
		cd hr &&
		git checkout -q -b scratch &&
		add_file bytebase/init.sql && commit_all "Scratch" &&
		push_to ../out origin scratch &&
		git checkout -q main
	) &&
	! grep "bbgitops:" out
'

test_expect_success 'a broken configuration never blocks a push' '
	cp "$CONF" conf.good &&
	echo "repositories = (" >"$CONF" &&
	(
		cd hr &&
		add_file bytebase/0009_late.sql && commit_all "Late" &&
		push_to ../out origin main
	) &&
	cp conf.good "$CONF" &&
	test_grep "configuration error, push not checked" out
'

test_done
