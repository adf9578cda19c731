#!/bin/sh
test_description='the PostgreSQL test harness (lib-pg.sh): a throw-away cluster on a Unix socket only, run by an
unprivileged user, whose test role needs its password; it stops and starts keeping its data, and leaves nothing
behind; under BBGITOPS_TEST_STATE=pg every written configuration names it'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-pg.sh"
pg_need

# as_role SQL: runs SQL as the test role over the socket, with the password of PG_PASSWORD_FILE.
as_role () {
	PGPASSWORD=$(cat "$PG_PASSWORD_FILE") "$PG_BINDIR/psql" -X -q -A -t -w -d "$PG_URL" -c "$1"
}

test_expect_success 'the server runs as an unprivileged user, listening on its Unix socket only' '
	pid=$(sed -n 1p "$PG_DIR/data/postmaster.pid") &&
	user=$(ps -o user= -p "$pid") &&
	if test "$(id -u)" = 0
	then
		test "$user" = nobody
	else
		test "$user" = "$(id -un)"
	fi &&
	test -S "$PG_SOCKDIR/.s.PGSQL.5432" &&
	pg_psql -A -t -c "SHOW listen_addresses" >listen &&
	echo >expect &&
	test_cmp expect listen
'

test_expect_success 'the test role needs its password (scram-sha-256), kept in a mode-600 file' '
	test "$(stat -c %a "$PG_PASSWORD_FILE")" = 600 &&
	test_must_fail "$PG_BINDIR/psql" -X -w -d "$PG_URL" -c "SELECT 1" 2>err &&
	test_grep "password" err &&
	as_role "SELECT current_user, current_database()" >who &&
	echo "$(id -un)|bbgitops" >expect &&
	test_cmp expect who &&
	pg_psql -A -t -c "SELECT left(rolpassword, 13) FROM pg_authid WHERE rolcanlogin AND NOT rolsuper" >scram &&
	echo SCRAM-SHA-256 >expect &&
	test_cmp expect scram
'

test_expect_success 'halted, the server is gone (its socket too); resumed, it has kept its data' '
	as_role "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)" &&
	pg_halt &&
	test ! -S "$PG_SOCKDIR/.s.PGSQL.5432" &&
	test_must_fail as_role "SELECT 1" 2>err &&
	pg_resume &&
	as_role "SELECT x FROM kept" >got &&
	echo 42 >expect &&
	test_cmp expect got
'

test_expect_success 'more databases on the same cluster; dropping one ends its sessions' '
	url=$(pg_createdb other) &&
	test "$url" = "postgresql:///other?host=$PG_SOCKDIR" &&
	pg_psql other -c "SELECT 1" &&
	pg_dropdb other &&
	test_must_fail pg_psql other -c "SELECT 1" 2>err
'

test_expect_success 'under BBGITOPS_TEST_STATE=pg, write_config appends the state section, unless the text has one' '
	(
		BBGITOPS_TEST_STATE=pg &&
		echo "repositories = ();" | write_config a.conf &&
		printf "%s\n" "state = { url = \"postgresql:///x\"; };" "repositories = ();" | write_config b.conf &&
		echo "repositories = ();" | WRITE_CONFIG_STATE=sqlite write_config c.conf
	) &&
	test_grep -F "state = { url = \"$PG_URL\"; password_file = \"$PG_PASSWORD_FILE\"; connect_timeout = 2; };" a.conf &&
	grep -c "state = {" b.conf >n &&
	echo 1 >expect &&
	test_cmp expect n &&
	test_grep -v "state = {" c.conf &&
	test "$(stat -c %a a.conf)" = 600
'

test_expect_success 'pg_stop stops the server and removes the cluster' '
	dir=$PG_DIR &&
	pid=$(sed -n 1p "$dir/data/postmaster.pid") &&
	pg_stop &&
	test ! -e "$dir" &&
	test_must_fail kill -0 "$pid" 2>/dev/null
'

test_done
