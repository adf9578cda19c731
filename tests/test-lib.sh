# test-lib.sh — the shell test library of bbgitops, in the style of git's t/test-lib.sh: TAP on stdout.
# Sourced by every tests/tNNNN-topic.sh after it sets test_description. Each script runs in a fresh trash directory
# $TEST_BUILDDIR/trash.<script> (HOME inside it, git environment isolated), removed when every test passed.
#
# Environment: BBGITOPS (binary under test), BBGITOPS_EXEC_PATH (where it finds bbgitops-deliver; default: beside
# it), TEST_SRCDIR (this directory), TEST_BUILDDIR (where trash goes).
# Options: -v/--verbose shows every test's output; -i/--immediate stops at the first failure; -d/--debug keeps trash.
#
# Harness: test_expect_success [PREREQ] TITLE BODY, test_expect_failure, test_when_finished, test_set_prereq, test_done,
#          test_diag (a "# " line after the test's result: a figure worth seeing, not a claim).
#          Every body is chain-linted first, as git does: `(exit 117) && BODY` must exit 117, so a command whose
#          failure would go unnoticed (a missing && between two lines) is a bug in the script (TEST_CHAIN_LINT=0: off).
# Checks:  test_cmp, test_must_fail, test_expect_code, test_line_count, test_must_be_empty, test_grep, test_seq.
# bbgitops/git: $CONF, $STATE_DIR, $TRASH, $PYTHON, $ZERO_OID; bbgitops, write_config, write_repo_config,
#          setup_server_repo, install_hook, add_file, commit_all, push_to, bbgitops_lines, issues_json, issue_count,
#          issue_field, issue_titles, issue_lines, issue_files (the issue list, captured to a file, then queried),
#          json_query (python3 expression over the parsed JSON `d`; jq is not assumed).

# ---------------------------------------------------------------------------------------------------------------
# Options and locations

verbose=
immediate=
debug=
for arg
do
	case "$arg" in
	-v|--verbose) verbose=t ;;
	-i|--immediate) immediate=t ;;
	-d|--debug) debug=t ;;
	-h|--help) printf '%s\n' "$test_description"; exit 0 ;;
	*) echo "Bail out! unknown option $arg"; exit 1 ;;
	esac
done

: "${TEST_SRCDIR:=$(cd "$(dirname "$0")" && pwd)}"
: "${TEST_BUILDDIR:=$(pwd)}"
: "${BBGITOPS:=$TEST_BUILDDIR/../bbgitops}"
case "$BBGITOPS" in /*) ;; *) BBGITOPS=$(pwd)/$BBGITOPS ;; esac
# Where bbgitops finds bbgitops-deliver: in the build tree it sits beside bbgitops ($BBGITOPS_EXEC_PATH says so);
# an installed bbgitops (BBGITOPS_INSTALLED=1, tests/installcheck.sh) must find it in pkglibexecdir by itself.
if test -n "${BBGITOPS_INSTALLED:-}"
then
	unset BBGITOPS_EXEC_PATH
	BBGITOPS_DELIVER=$BBGITOPS_INSTALLED_LIBEXECDIR/bbgitops-deliver
else
	: "${BBGITOPS_EXEC_PATH:=$(dirname "$BBGITOPS")}"
	BBGITOPS_DELIVER=$BBGITOPS_EXEC_PATH/bbgitops-deliver
	export BBGITOPS_EXEC_PATH
fi
case "$TEST_SRCDIR" in /*) ;; *) TEST_SRCDIR=$(cd "$TEST_SRCDIR" && pwd) ;; esac
case "$TEST_BUILDDIR" in /*) ;; *) TEST_BUILDDIR=$(cd "$TEST_BUILDDIR" && pwd) ;; esac
export BBGITOPS BBGITOPS_DELIVER TEST_SRCDIR TEST_BUILDDIR

TEST_NAME=$(basename "$0" .sh)
TRASH_DIRECTORY=$TEST_BUILDDIR/trash.$TEST_NAME
TRASH=$TRASH_DIRECTORY

if ! test -x "$BBGITOPS"
then
	echo "1..0 # SKIP bbgitops binary not found at $BBGITOPS"
	exit 0
fi

# ---------------------------------------------------------------------------------------------------------------
# An environment no caller setting leaks into

unset GIT_DIR GIT_WORK_TREE GIT_COMMON_DIR GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES \
	GIT_QUARANTINE_PATH GIT_NAMESPACE GIT_CEILING_DIRECTORIES GIT_CONFIG GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT \
	GIT_CONFIG_GLOBAL GIT_CONFIG_SYSTEM GIT_PREFIX GIT_EDITOR GIT_SEQUENCE_EDITOR GIT_PAGER GIT_EXEC_PATH \
	GIT_TEMPLATE_DIR GIT_SSH GIT_SSH_COMMAND GIT_ASKPASS GIT_TRACE GIT_TRACE_PACKET GIT_TRACE_PERFORMANCE \
	GIT_REFLOG_ACTION GIT_PUSH_OPTION_COUNT GIT_PROTOCOL GIT_TERMINAL_PROMPT GIT_DEFAULT_HASH \
	GIT_AUTHOR_DATE GIT_COMMITTER_DATE XDG_CONFIG_HOME BBGITOPS_CONFIG
GIT_CONFIG_NOSYSTEM=1
GIT_AUTHOR_NAME='A U Thor'
GIT_AUTHOR_EMAIL='author@example.com'
GIT_COMMITTER_NAME='C O Mitter'
GIT_COMMITTER_EMAIL='committer@example.com'
GIT_MERGE_AUTOEDIT=no
GIT_TERMINAL_PROMPT=0
EDITOR=:
PAGER=cat
LC_ALL=C
LANG=C
TZ=UTC
export GIT_CONFIG_NOSYSTEM GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL \
	GIT_MERGE_AUTOEDIT GIT_TERMINAL_PROMPT EDITOR PAGER LC_ALL LANG TZ

rm -rf "$TRASH_DIRECTORY" || { echo "Bail out! cannot remove $TRASH_DIRECTORY"; exit 1; }
mkdir -p "$TRASH_DIRECTORY" || { echo "Bail out! cannot create $TRASH_DIRECTORY"; exit 1; }
TRASH_DIRECTORY=$(cd "$TRASH_DIRECTORY" && pwd -P)
TRASH=$TRASH_DIRECTORY
HOME=$TRASH_DIRECTORY
export HOME TRASH_DIRECTORY
cd "$TRASH_DIRECTORY" || exit 1

git config --global init.defaultBranch main &&
git config --global protocol.file.allow always &&
git config --global user.name "$GIT_AUTHOR_NAME" &&
git config --global user.email "$GIT_AUTHOR_EMAIL" &&
git config --global advice.detachedHead false &&
git config --global pull.rebase false &&
git config --global core.autocrlf false ||
{ echo "Bail out! cannot write the global git configuration"; exit 1; }

# The real python3 interpreter, resolved once: a version manager's shim (pyenv) costs a shell and a second start per
# call, which is most of the run time of a JSON-heavy script on a loaded machine.
PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && test -x "$PYTHON" || PYTHON=python3
export PYTHON

# The configuration file tests write and pass with -c.
CONF=$TRASH_DIRECTORY/bbgitops.conf
STATE_DIR=$TRASH_DIRECTORY/state
export CONF STATE_DIR

# test_at_exit CMD: runs CMD when the script exits (after the ones added before it, in reverse order), whatever
# else is registered: the libraries' servers (lib-remote, lib-delivery, lib-provider, lib-pg) each add theirs.
test_at_exit_cmds=:
test_at_exit () {
	test_at_exit_cmds="$*; $test_at_exit_cmds"
	# shellcheck disable=SC2064
	trap "$test_at_exit_cmds" EXIT
}

# The state backend the suite runs on: BBGITOPS_TEST_STATE=sqlite (default) or pg. With pg, one throw-away
# PostgreSQL cluster serves the script (tests/lib-pg.sh) and write_config puts every configuration's state into its
# database "bbgitops"; the prerequisite PG_STATE is set, else SQLITE_STATE (points that are about the SQLite file
# itself: they open state.db, or fill the disk under state_dir).
case "${BBGITOPS_TEST_STATE:-sqlite}" in
sqlite)
	TEST_STATE_PREREQ=SQLITE_STATE
	;;
pg)
	. "$TEST_SRCDIR/lib-pg.sh"
	pg_need
	TEST_STATE_PREREQ=PG_STATE
	;;
*)
	echo "Bail out! BBGITOPS_TEST_STATE must be sqlite or pg, not ${BBGITOPS_TEST_STATE}"
	exit 1
	;;
esac
export BBGITOPS_TEST_STATE

# ---------------------------------------------------------------------------------------------------------------
# The test harness

test_count=0
test_success=0
test_failure=0
test_fixed=0
test_broken=0
test_skipped=0
test_cleanup=:
test_prereqs=" $TEST_STATE_PREREQ "

say_diag () {
	sed -e 's/^/# /'
}

# test_set_prereq NAME: later tests that name NAME as first argument run.
test_set_prereq () {
	test_prereqs="$test_prereqs$1 "
}

test_have_prereq () {
	_prereq_list=$(printf '%s' "$1" | tr ',' ' ')
	for _p in $_prereq_list
	do
		case "$_p" in
		!*) case "$test_prereqs" in *" ${_p#!} "*) return 1 ;; esac ;;
		*) case "$test_prereqs" in *" $_p "*) ;; *) return 1 ;; esac ;;
		esac
	done
	return 0
}

# test_when_finished CMD: run CMD after the current test, whatever its outcome; a failing CMD fails the test.
test_when_finished () {
	test_cleanup="{ $*
		} && (exit \"\$eval_ret\"); eval_ret=\$?; $test_cleanup"
}

# test_diag MSG...: prints "# MSG" after the current test's result line, whether it passed or not.
test_diag () {
	printf '%s\n' "$*" >>"$TRASH_DIRECTORY/.test-diag"
}

test_show_diag_ () {
	if test -s "$TRASH_DIRECTORY/.test-diag"
	then
		say_diag <"$TRASH_DIRECTORY/.test-diag"
	fi
	rm -f "$TRASH_DIRECTORY/.test-diag"
}

# test_chain_lint_ TITLE BODY: a body whose &&-chain is broken runs part of itself even after (exit 117); its exit
# status then is not 117. Runs in a subshell, so a broken body cannot change the script's own variables.
test_chain_lint_ () {
	test "${TEST_CHAIN_LINT:-1}" != 0 || return 0
	(test_eval_ "(exit 117) && $2") >/dev/null 2>&1 </dev/null
	if test $? != 117
	then
		echo "Bail out! bug in the test script: broken &&-chain in test $test_count ($1):"
		printf '%s\n' "$2" | say_diag
		exit 1
	fi
}

# Runs the body in the current shell (as git does), output to a file; returns its exit status.
test_run_ () {
	test_cleanup=:
	eval_ret=0
	rm -f "$TRASH_DIRECTORY/.test-diag"
	test_eval_ "$1" >"$TRASH_DIRECTORY/.test-output" 2>&1 </dev/null
	eval_ret=$?
	cd "$TRASH_DIRECTORY" || eval_ret=1
	test_eval_ "$test_cleanup" >>"$TRASH_DIRECTORY/.test-output" 2>&1 </dev/null
	cd "$TRASH_DIRECTORY"
	return $eval_ret
}

test_eval_ () {
	eval "$1"
}

test_show_output_ () {
	if test -s "$TRASH_DIRECTORY/.test-output"
	then
		say_diag <"$TRASH_DIRECTORY/.test-output"
	fi
}

# test_expect_success [PREREQ] 'title as a claim' 'body'
test_expect_success () {
	_prereq=
	if test $# = 3
	then
		_prereq=$1
		shift
	fi
	test $# = 2 || { echo "Bail out! bug in the test script: test_expect_success needs 2 or 3 arguments"; exit 1; }
	test_count=$((test_count + 1))
	if test -n "$_prereq" && ! test_have_prereq "$_prereq"
	then
		test_skipped=$((test_skipped + 1))
		echo "ok $test_count # skip $1 (missing $_prereq)"
		return 0
	fi
	test_chain_lint_ "$1" "$2"
	if test_run_ "$2"
	then
		test_success=$((test_success + 1))
		echo "ok $test_count - $1"
		test_show_diag_
		test -z "$verbose" || test_show_output_
	else
		test_failure=$((test_failure + 1))
		echo "not ok $test_count - $1"
		test_show_diag_
		printf '%s\n' "$2" | say_diag
		echo "# --- output:"
		test_show_output_
		if test -n "$immediate"
		then
			echo "# stopped at the first failure (-i); trash kept in $TRASH_DIRECTORY"
			echo "1..$test_count"
			exit 1
		fi
	fi
	return 0
}

# test_expect_failure [PREREQ] 'title' 'body': a known breakage (TAP TODO); passing is reported as fixed.
test_expect_failure () {
	_prereq=
	if test $# = 3
	then
		_prereq=$1
		shift
	fi
	test $# = 2 || { echo "Bail out! bug in the test script: test_expect_failure needs 2 or 3 arguments"; exit 1; }
	test_count=$((test_count + 1))
	if test -n "$_prereq" && ! test_have_prereq "$_prereq"
	then
		test_skipped=$((test_skipped + 1))
		echo "ok $test_count # skip $1 (missing $_prereq)"
		return 0
	fi
	test_chain_lint_ "$1" "$2"
	if test_run_ "$2"
	then
		test_fixed=$((test_fixed + 1))
		echo "ok $test_count - $1 # TODO known breakage vanished"
	else
		test_broken=$((test_broken + 1))
		echo "not ok $test_count - $1 # TODO known breakage"
		test -z "$verbose" || test_show_output_
	fi
	return 0
}

# test_skip_all REASON: the whole script is skipped (TAP "1..0 # SKIP REASON"), its trash removed.
test_skip_all () {
	echo "1..0 # SKIP $*"
	cd "$TEST_BUILDDIR" && rm -rf "$TRASH_DIRECTORY"
	exit 0
}

test_done () {
	echo "1..$test_count"
	if test "$test_fixed" != 0
	then
		echo "# $test_fixed known breakage(s) vanished; please update the test(s)"
	fi
	if test "$test_broken" != 0
	then
		echo "# still have $test_broken known breakage(s)"
	fi
	if test "$test_failure" = 0
	then
		echo "# passed all $((test_count - test_broken - test_skipped)) test(s)"
		cd "$TEST_BUILDDIR" && test -n "$debug" || rm -rf "$TRASH_DIRECTORY"
		exit 0
	fi
	echo "# failed $test_failure among $test_count test(s); trash kept in $TRASH_DIRECTORY"
	exit 1
}

# ---------------------------------------------------------------------------------------------------------------
# Assertions

# test_cmp EXPECTED ACTUAL
test_cmp () {
	diff -u "$1" "$2"
}

# test_must_fail CMD...: CMD must exit non-zero, but not by a signal nor "command not found".
test_must_fail () {
	"$@"
	_exit=$?
	if test $_exit = 0
	then
		echo >&2 "test_must_fail: command succeeded: $*"
		return 1
	elif test $_exit -gt 128 && test $_exit -le 192
	then
		echo >&2 "test_must_fail: died by signal $((_exit - 128)): $*"
		return 1
	elif test $_exit = 127
	then
		echo >&2 "test_must_fail: command not found: $*"
		return 1
	fi
	return 0
}

# test_expect_code CODE CMD...: CMD must exit with exactly CODE.
test_expect_code () {
	_want=$1
	shift
	"$@"
	_exit=$?
	if test $_exit = "$_want"
	then
		return 0
	fi
	echo >&2 "test_expect_code: command exited with $_exit, expected $_want: $*"
	return 1
}

# test_line_count OP N FILE: e.g. test_line_count = 1 out
test_line_count () {
	_lines=$(wc -l <"$3" | tr -d ' ')
	if ! test "$_lines" "$1" "$2"
	then
		echo >&2 "test_line_count: $3 has $_lines lines, expected $1 $2:"
		cat >&2 "$3"
		return 1
	fi
}

# test_must_be_empty FILE
test_must_be_empty () {
	if test -s "$1"
	then
		echo >&2 "'$1' is not empty:"
		cat >&2 "$1"
		return 1
	fi
}

# test_grep [-v] [grep options] PATTERN FILE: like grep, but shows the file when it does not hold.
test_grep () {
	_negate=
	if test "$1" = "-v"
	then
		_negate=t
		shift
	fi
	_file=
	for _file; do :; done
	if test -z "$_negate"
	then
		grep "$@" >/dev/null && return 0
		echo >&2 "test_grep: no match for $* in:"
	else
		grep "$@" >/dev/null || return 0
		echo >&2 "test_grep: unexpected match for $* in:"
	fi
	cat >&2 "$_file"
	return 1
}

# test_seq [FIRST] LAST
test_seq () {
	case $# in
	1) set 1 "$@" ;;
	2) ;;
	*) echo >&2 "test_seq: 1 or 2 arguments"; return 1 ;;
	esac
	_i=$1
	while test "$_i" -le "$2"
	do
		echo "$_i"
		_i=$((_i + 1))
	done
}

# ---------------------------------------------------------------------------------------------------------------
# JSON queries (python3; jq is not assumed)

# json_query EXPR [FILE]: evaluates the Python expression EXPR with d = the parsed JSON (from FILE or stdin).
# A list prints one element per line, a string prints raw, None prints "null", anything else as JSON.
json_query () {
	"$PYTHON" -c '
import json, sys
expr = sys.argv[1]
src = open(sys.argv[2]) if len(sys.argv) > 2 else sys.stdin
d = json.load(src)
r = eval(expr, {"json": json, "d": d})
def show(v):
    if v is None:
        print("null")
    elif isinstance(v, str):
        print(v)
    elif isinstance(v, bool):
        print("true" if v else "false")
    elif isinstance(v, (int, float)):
        print(v)
    else:
        print(json.dumps(v, sort_keys=True))
if isinstance(r, list):
    for v in r:
        show(v)
else:
    show(r)
' "$@"
}

# ---------------------------------------------------------------------------------------------------------------
# bbgitops and git helpers

# bbgitops ARGS...: the binary under test with the test configuration.
bbgitops () {
	"$BBGITOPS" -c "$CONF" "$@"
}

# write_config [FILE] <<EOF ... EOF: writes a bbgitops configuration (mode 600). Unless the text sets
# state_dir itself, it starts with state_dir = "$STATE_DIR". FILE defaults to $CONF. Under
# BBGITOPS_TEST_STATE=pg, unless the text has a state section of its own (or WRITE_CONFIG_STATE=sqlite: the test
# wants SQLite in state_dir), the section that puts the state into the script's PostgreSQL database is appended
# (state_section). A test that writes a configuration otherwise passes its text through here too.
write_config () {
	_file=${1:-$CONF}
	_text=$(cat)
	(
		umask 077
		{
			case "$_text" in
			*state_dir*) ;;
			*) printf 'state_dir = "%s";\n' "$STATE_DIR" ;;
			esac
			printf '%s\n' "$_text"
			case "$_text" in
			*"state = {"*|*"state={"*|*"state ={"*) ;;
			*) test "${WRITE_CONFIG_STATE:-}" = sqlite || state_section ;;
			esac
		} >"$_file"
	) &&
	chmod 600 "$_file"
}

# state_section: the configuration section of the state backend under test: nothing for SQLite (state_dir holds
# it), the PostgreSQL database's `state = { ... };` under BBGITOPS_TEST_STATE=pg.
state_section () {
	if test "$BBGITOPS_TEST_STATE" = pg
	then
		pg_state_section
	fi
}

# state_sql SQL: runs SQL on the script's state (sqlite3 on $STATE_DIR/state.db, or psql on the PostgreSQL database
# under BBGITOPS_TEST_STATE=pg); rows one per line, columns separated by "|", no header, as sqlite3 prints them.
# The schemas are the same; keep SQL to what both understand (no strftime, no now()).
state_sql () {
	if test "$BBGITOPS_TEST_STATE" = pg
	then
		pg_psql -A -t -F '|' -c "$1"
	else
		sqlite3 "$STATE_DIR/state.db" "$1"
	fi
}

# wait_for_file FILE: up to 20 s.
wait_for_file () {
	_n=0
	while ! test -e "$1"
	do
		_n=$((_n + 1))
		test $_n -le 400 || { echo >&2 "timed out waiting for $1"; return 1; }
		sleep 0.05
	done
}

# hold_state_lock: a process holding the state database's write lock (BEGIN IMMEDIATE; under PostgreSQL, the
# state's tables locked in a transaction) until $TRASH/lock.stop exists; returns once the lock is held. Its pid is
# in $TRASH/lock.pid.
hold_state_lock () {
	rm -f "$TRASH/lock.held" "$TRASH/lock.stop" || return 1
	if test "$BBGITOPS_TEST_STATE" = pg
	then
		{
			echo "BEGIN; LOCK TABLE cursors, issues, migrations IN ACCESS EXCLUSIVE MODE;"
			echo "\\! touch $TRASH/lock.held"
			_i=0
			while ! test -e "$TRASH/lock.stop" && test $_i -lt 6000   # never outlive a failed test for long
			do
				sleep 0.02
				_i=$((_i + 1))
			done
			echo "ROLLBACK;"
		} | pg_psql &
		echo $! >"$TRASH/lock.pid" &&
		wait_for_file "$TRASH/lock.held"
		return
	fi
	"$PYTHON" -c '
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
deadline = time.time() + 120   # never outlive a failed test for long
while not os.path.exists(sys.argv[3]) and time.time() < deadline:
    time.sleep(0.02)
c.execute("ROLLBACK")
' "$STATE_DIR/state.db" "$TRASH/lock.held" "$TRASH/lock.stop" &
	echo $! >"$TRASH/lock.pid" &&
	wait_for_file "$TRASH/lock.held"
}

# release_state_lock: ends the process (harmless when it has already ended).
release_state_lock () {
	touch "$TRASH/lock.stop" &&
	if test -f "$TRASH/lock.pid"
	then
		wait "$(cat "$TRASH/lock.pid")"
		rm -f "$TRASH/lock.pid"
	fi
}

# state_dump: every byte of the state as text (sqlite3 .dump, or pg_dump of the database without the random key
# of its \restrict lines), for "no secret in the state" and "nothing changed" checks.
state_dump () {
	if test "$BBGITOPS_TEST_STATE" = pg
	then
		"$PG_BINDIR/pg_dump" -h "$PG_SOCKDIR" -U postgres --no-owner bbgitops >"$TRASH_DIRECTORY/.pg_dump" &&
		grep -v '^\\\(un\)\{0,1\}restrict ' "$TRASH_DIRECTORY/.pg_dump"
	else
		sqlite3 "$STATE_DIR/state.db" .dump
	fi
}

# state_exists: the state was created (state.db, or the schema in the database).
state_exists () {
	if test "$BBGITOPS_TEST_STATE" = pg
	then
		pg_psql -c "SELECT 1 FROM cursors LIMIT 0" >/dev/null 2>&1
	else
		test -f "$STATE_DIR/state.db"
	fi
}

# state_break: the state becomes unusable (state_dir replaced by a file; under pg, the server stopped as well);
# state_repair puts it back as it was.
state_break () {
	mv "$STATE_DIR" "$STATE_DIR.away" &&
	echo "not a directory" >"$STATE_DIR" &&
	if test "$BBGITOPS_TEST_STATE" = pg
	then
		pg_halt
	fi
}

state_repair () {
	rm "$STATE_DIR" &&
	mv "$STATE_DIR.away" "$STATE_DIR" &&
	if test "$BBGITOPS_TEST_STATE" = pg
	then
		pg_resume
	fi
}

# state_reset: forgets every state of the script (as rm -rf "$STATE_DIR" does under SQLite, which it also does):
# under pg, the database is dropped and created again.
state_reset () {
	rm -rf "$STATE_DIR" &&
	if test "$BBGITOPS_TEST_STATE" = pg
	then
		pg_dropdb bbgitops >/dev/null &&
		pg_createdb bbgitops >/dev/null
	fi
}

# write_repo_config NAME [SETTINGS...]: a configuration with one repository NAME at $TRASH/NAME.git, branch main,
# base_directory "bytebase", project NAME; each SETTING (e.g. 'group_by = "file";') overrides or adds a key.
write_repo_config () {
	_name=$1
	shift
	_branch='branch = "main";'
	_base='base_directory = "bytebase";'
	_extra=
	for _s
	do
		case "$_s" in
		branch*) _branch=$_s ;;
		base_directory*) _base=$_s ;;
		*) _extra="$_extra $_s" ;;
		esac
	done
	write_config <<-EOF
	repositories = (
	  { name = "$_name"; path = "$TRASH_DIRECTORY/$_name.git"; $_branch $_base project = "$_name";$_extra }
	);
	EOF
}

# setup_server_repo NAME: a bare repository $TRASH/NAME.git and a clone $TRASH/NAME of it to work in.
setup_server_repo () {
	git init -q --bare "$TRASH_DIRECTORY/$1.git" &&
	git clone -q "$TRASH_DIRECTORY/$1.git" "$TRASH_DIRECTORY/$1" 2>/dev/null
}

# install_hook BARE: installs bbgitops as BARE's post-receive hook, configured with $CONF.
install_hook () {
	"$BBGITOPS" -c "$CONF" install-hook "$1"
}

# add_file PATH [CONTENT]: writes CONTENT (default: a statement naming PATH) to PATH in the cwd and stages it.
add_file () {
	mkdir -p "$(dirname "$1")" &&
	printf '%s\n' "${2-SELECT '$1';}" >"$1" &&
	git add -- "$1"
}

# commit_all MSG: commits every change of the work tree.
commit_all () {
	git add -A &&
	git commit -q -m "$1"
}

# issues_json [ARGS...]: the issue list as JSON.
issues_json () {
	"$BBGITOPS" -c "$CONF" issues --json "$@"
}

# The issue list, read the way an assertion wants it. Each captures `issues --json` to a file first (the program
# under test is never piped: its failure would show as a JSON traceback), then queries the file. N is an index into
# the list, 1 the first, -1 the last; "all" means every issue.

# issues_file [ARGS...]: `issues --json ARGS` into $TRASH/.issues.json.
issues_file () {
	issues_json "$@" >"$TRASH_DIRECTORY/.issues.json"
}

# issue_index_ N: the Python index of N (1-based or negative).
issue_index_ () {
	case "$1" in
	-*) echo "$1" ;;
	*) echo $(($1 - 1)) ;;
	esac
}

# issue_field N KEY [ARGS...]: KEY of the Nth issue of `issues --json ARGS` (null when it is null).
issue_field () {
	_n=$(issue_index_ "$1") &&
	_key=$2 &&
	shift 2 &&
	issues_file "$@" &&
	json_query "d[$_n][\"$_key\"]" "$TRASH_DIRECTORY/.issues.json"
}

# issue_titles [ARGS...]: the titles, one per line, in list order.
issue_titles () {
	issues_file "$@" &&
	json_query "[i[\"title\"] for i in d]" "$TRASH_DIRECTORY/.issues.json"
}

# issue_lines [--repo R] [--status S] FIELD... : one line per issue, its FIELDs separated by spaces; the field
# "files" is the comma-separated list of its file paths.
issue_lines () {
	_args=
	while test $# -gt 1 && case "$1" in --*) true ;; *) false ;; esac
	do
		_args="$_args $1 $2"
		shift 2
	done
	# shellcheck disable=SC2086
	issues_file $_args &&
	"$PYTHON" -c '
import json, sys
fields = sys.argv[2:]
for i in json.load(open(sys.argv[1])):
    print(" ".join(",".join(f["path"] for f in i["files"]) if k == "files" else str(i[k]) for k in fields))
' "$TRASH_DIRECTORY/.issues.json" "$@"
}

# issue_files N|all [FIELD...]: one line per file of the Nth issue (or of every issue, in order), its FIELDs
# (path, version, type, blob; default path) separated by spaces.
issue_files () {
	_which=$1 &&
	shift &&
	issues_file &&
	"$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
which = sys.argv[2]
fields = sys.argv[3:] or ["path"]
issues = d if which == "all" else [d[int(which) - 1 if int(which) > 0 else int(which)]]
for i in issues:
    for f in i["files"]:
        print(" ".join(str(f[k]) for k in fields))
' "$TRASH_DIRECTORY/.issues.json" "$_which" "$@"
}

# issue_file_paths [ARGS...]: the path of every file of every issue of `issues --json ARGS`, in order.
issue_file_paths () {
	issues_file "$@" &&
	json_query "[f[\"path\"] for i in d for f in i[\"files\"]]" "$TRASH_DIRECTORY/.issues.json"
}

# issue_count [ARGS...]: how many issues `issues --json ARGS` lists.
issue_count () {
	issues_json "$@" >"$TRASH_DIRECTORY/.issues.json" &&
	json_query 'len(d)' "$TRASH_DIRECTORY/.issues.json"
}

# bbgitops_lines FILE: the lines of a push's output the hook printed (remote: bbgitops: ...), without the padding
# git adds after remote lines.
bbgitops_lines () {
	grep '^remote: bbgitops: ' "$1" | sed -e 's/[[:space:]]*$//'
}

# push_to OUT ARGS...: git push ARGS (from the cwd) with its output in OUT; fails when the push fails or takes longer
# than 20 seconds (the hook must never hang a push).
push_to () {
	_out=$1
	shift
	timeout 20 git push "$@" >"$_out" 2>&1
	_exit=$?
	if test $_exit != 0
	then
		echo >&2 "git push $* exited with $_exit:"
		cat >&2 "$_out"
		return 1
	fi
}

# test_zero_oid: the all-zeros object id.
ZERO_OID=0000000000000000000000000000000000000000
