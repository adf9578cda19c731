# lib-pg.sh — a throw-away PostgreSQL 15 cluster for the tests (and bench/pg): initdb in a temp dir, listening only
# on a Unix socket in that dir, run as an unprivileged user when the tests run as root (CI), with a password
# (scram-sha-256) role and its mode-600 password file, so bbgitops's `state.password_file` is exercised.
# Sourced after test-lib.sh (test_at_exit stops the cluster), or by itself with PG_AT_EXIT=: (the caller stops it).
#
#   pg_available        are PostgreSQL's server binaries installed? (else the caller skips, saying why: $PG_MISSING)
#   pg_need             a cluster for this script (pg_start unless one runs), or the script skipped without PostgreSQL
#   pg_start            initdb + start; exports PG_BINDIR PG_DIR PG_SOCKDIR PG_USER PG_PASSWORD_FILE, and PG_URL
#                       (database "bbgitops", created); once per script
#   pg_stop             stops the cluster (fast shutdown) and removes its directory
#   pg_halt / pg_resume the server stops / starts again, the data kept (PostgreSQL "down" and back)
#   pg_createdb NAME    a further database owned by the test role; prints its URL
#   pg_dropdb NAME      drops it (and whoever is connected to it)
#   pg_psql [DB] ARGS   psql as the superuser over the socket (default database bbgitops), -X -q -v ON_ERROR_STOP=1
#   pg_state_section URL  the `state = { ... };` configuration section of URL with the password file
#
# The cluster lives under ${TMPDIR:-/tmp} (not in the trash directory): its socket path must stay under 108 bytes,
# and the server user must be able to reach it (a trash under /root is not reachable by nobody).

# Sourced once per script (test-lib.sh sources it under BBGITOPS_TEST_STATE=pg, a PostgreSQL test again).
if test -n "${LIB_PG_LOADED:-}"
then
	return 0
fi
LIB_PG_LOADED=t

PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
PG_DIR=
PG_SOCKDIR=
PG_USER=
PG_URL=
PG_PASSWORD_FILE=
PG_MISSING=

# pg_available: the server programs are there; otherwise PG_MISSING says what is missing.
pg_available () {
	for _p in initdb pg_ctl postgres psql
	do
		if ! test -x "$PG_BINDIR/$_p"
		then
			PG_MISSING="PostgreSQL 15 is not installed ($PG_BINDIR/$_p is missing; Debian: apt-get install postgresql)"
			return 1
		fi
	done
	return 0
}

# pg_as_server CMD...: runs CMD as the cluster's owner: as nobody when we are root (postgres refuses to run as
# root), else as ourselves.
pg_as_server () {
	if test "$(id -u)" = 0
	then
		if command -v setpriv >/dev/null 2>&1
		then
			setpriv --reuid=nobody --regid="$(id -gn nobody)" --clear-groups -- "$@"
		else
			runuser -u nobody -- "$@"
		fi
	else
		"$@"
	fi
}

# pg_start: a new cluster, started; the role (named after the OS user, so a URL needs no user name: libpq's
# default) has a random password, stored in PG_PASSWORD_FILE (mode 600).
pg_start () {
	pg_available || { echo >&2 "$PG_MISSING"; return 1; }
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bbgitops-pg.XXXXXX") || return 1
	PG_SOCKDIR=$PG_DIR
	PG_USER=$(id -un)
	# The server user must reach the socket directory; clients need no more than the socket (mode 777 by default).
	chmod 755 "$PG_DIR" &&
	mkdir "$PG_DIR/data" &&
	if test "$(id -u)" = 0
	then
		chown nobody "$PG_DIR" "$PG_DIR/data"
	fi &&
	pg_as_server "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U postgres -A trust -E SQL_ASCII --locale=C --no-sync \
		>"$PG_DIR/initdb.log" 2>&1 || { cat >&2 "$PG_DIR/initdb.log"; return 1; }
	# Only the Unix socket; the superuser (for the harness) without a password, everyone else by scram.
	cat >>"$PG_DIR/data/postgresql.conf" <<-EOF &&
	listen_addresses = ''
	unix_socket_directories = '$PG_SOCKDIR'
	fsync = off
	synchronous_commit = off
	full_page_writes = off
	max_connections = 200
	shared_buffers = 16MB
	password_encryption = 'scram-sha-256'
	log_min_messages = warning
	log_line_prefix = '%m [%p] '
	EOF
	printf '%s\n' 'local all postgres trust' 'local all all scram-sha-256' >"$PG_DIR/data/pg_hba.conf" &&
	pg_resume &&
	_pw=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n') &&
	(umask 077 && printf '%s\n' "$_pw" >"$PG_DIR/password") &&
	PG_PASSWORD_FILE=$PG_DIR/password &&
	pg_psql postgres -c "CREATE ROLE \"$PG_USER\" LOGIN PASSWORD '$_pw'" &&
	PG_URL=$(pg_createdb bbgitops) &&
	export PG_BINDIR PG_DIR PG_SOCKDIR PG_USER PG_URL PG_PASSWORD_FILE
}

# pg_resume: starts the server of an existing cluster and waits until it accepts connections.
pg_resume () {
	pg_as_server "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 -s start ||
	{ echo >&2 "PostgreSQL did not start:"; tail -n 20 >&2 "$PG_DIR/server.log"; return 1; }
}

# pg_halt: stops the server (fast: open sessions are ended), keeping its data.
pg_halt () {
	pg_as_server "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 -s stop
}

# pg_stop: stops the cluster and removes it; harmless when none runs.
pg_stop () {
	if test -n "$PG_DIR" && test -d "$PG_DIR"
	then
		if test -f "$PG_DIR/data/postmaster.pid"
		then
			_pid=$(sed -n 1p "$PG_DIR/data/postmaster.pid")
			pg_as_server "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 -s stop >/dev/null 2>&1
			# pg_ctl returns once the pid file is gone, a moment before the postmaster has exited
			_i=0
			while test -n "$_pid" && kill -0 "$_pid" 2>/dev/null && test $_i -lt 100
			do
				sleep 0.05
				_i=$((_i + 1))
			done
		fi
		rm -rf "$PG_DIR"
	fi
	PG_DIR=
	return 0
}

# pg_psql [DB] PSQL-ARGS...: psql as the superuser; DB defaults to bbgitops (a first argument starting with "-" is
# not a database name).
pg_psql () {
	_db=bbgitops
	case "${1:-}" in -*|'') ;; *) _db=$1; shift ;; esac
	PGOPTIONS='-c client_min_messages=warning' \
	"$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -U postgres -d "$_db" "$@"
}

# pg_url DB: the URL bbgitops is given for database DB (the socket directory as host; the user is libpq's default,
# the OS user, whose role pg_start created).
pg_url () {
	printf 'postgresql:///%s?host=%s\n' "$1" "$PG_SOCKDIR"
}

# pg_createdb NAME: a new database owned by the test role; prints its URL.
pg_createdb () {
	pg_psql postgres -c "CREATE DATABASE \"$1\" OWNER \"$PG_USER\"" &&
	pg_url "$1"
}

# pg_dropdb NAME: drops database NAME, ending its sessions first.
pg_dropdb () {
	pg_psql postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)"
}

# pg_state_section [URL]: the configuration section that puts bbgitops's state into URL (default $PG_URL).
pg_state_section () {
	printf 'state = { url = "%s"; password_file = "%s"; connect_timeout = 2; };\n' "${1:-$PG_URL}" \
		"$PG_PASSWORD_FILE"
}

# pg_need: for a test script about PostgreSQL itself (t09[5-8]0): the script's cluster (started here unless
# BBGITOPS_TEST_STATE=pg started it already), or the whole script skipped when PostgreSQL is not installed.
pg_need () {
	test -z "$PG_DIR" || return 0
	if ! pg_available
	then
		echo "1..0 # SKIP $PG_MISSING"
		exit 0
	fi
	pg_start >"$TRASH_DIRECTORY/.pg-start.log" 2>&1 ||
	{ echo "Bail out! cannot start PostgreSQL:"; sed -e 's/^/# /' "$TRASH_DIRECTORY/.pg-start.log"; exit 1; }
}

if command -v test_at_exit >/dev/null 2>&1
then
	test_at_exit pg_stop
fi
