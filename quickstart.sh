#!/usr/bin/env bash
# quickstart.sh — from a fresh Debian 12 checkout to a working bbgitops.
#   ./quickstart.sh demo   build, then push migrations into a throw-away bare repository and list the issues
#   ./quickstart.sh test   what CI runs (.ci/run): the suite on a -Werror build, again with the state in PostgreSQL
#                          (BBGITOPS_TEST_STATE=pg), again under AddressSanitizer/UBSan,
#                          the timing-sensitive tests 5 more times, make distcheck, the Debian package test, each
#                          fuzz target for FUZZ_SECONDS (60) s; one summary line of every test point of every run
# Installs only the Debian packages that are missing (apt-get, through sudo when not root). Needs no TTY or stdin.
set -eu

cd "$(dirname "$0")"
top=$(pwd)

packages="build-essential autoconf automake pkg-config libgit2-dev libcurl4-openssl-dev libconfig-dev
	libsqlite3-dev libjansson-dev libpq-dev postgresql git python3 ca-certificates lighttpd sqlite3 procps psmisc
	python3-prometheus-client mandoc man-db bash-completion dpkg-dev debhelper lintian
	clang-14 libclang-rt-14-dev"

say() { printf '==> %s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

install_packages() {
	local missing="" p status
	for p in $packages; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || status=""
		case $status in
		*" installed") ;;
		*) missing="$missing $p" ;;
		esac
	done
	[ -n "$missing" ] || return 0
	say "installing missing packages:$missing"
	local sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || die "not root and no sudo: install$missing"
		sudo="sudo"
	fi
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing </dev/null
}

# Regenerates configure when it is missing or older than its inputs.
bootstrap() {
	local f stale=""
	[ -x configure ] || stale=1
	for f in configure.ac Makefile.am src/local.mk tests/local.mk; do
		[ -n "$stale" ] || [ ! "$f" -nt configure ] || stale=1
	done
	if [ -n "$stale" ]; then
		say "autoreconf -fi"
		autoreconf -fi </dev/null
	fi
}

# build DIR [CONFIGURE-ARGS...]: out-of-tree build in DIR, configured with exactly CONFIGURE-ARGS (a DIR configured
# otherwise is configured again).
build() {
	local dir=$1 want have=""
	shift
	want=$(printf "'%s' " -q "$@")
	[ ! -x "$dir/config.status" ] || have=$("$dir/config.status" --config)
	if [ ! -f "$dir/Makefile" ] || [ "$have " != "$want" ]; then
		# From scratch: objects compiled with other flags would not be rebuilt (make knows files, not flags).
		say "configuring $dir $*"
		rm -rf "$dir"
		mkdir -p "$dir"
		(cd "$dir" && "$top/configure" -q "$@" </dev/null)
	fi
	say "building in $dir"
	make -C "$dir" -j2 </dev/null
}

# check DIR [TESTS]: make check in DIR (only TESTS when given); on failure shows the end of test-suite.log.
# Returns make's status.
check() {
	local dir=$1
	find "$dir" -name '*.trs' -type f -exec rm -f {} +
	say "make check in $dir${2:+ TESTS='$2'}"
	if make -C "$dir" -j2 check ${2:+TESTS="$2"} </dev/null; then
		return 0
	fi
	if [ -f "$dir/test-suite.log" ]; then
		printf '\n--- %s/test-suite.log (last 100 lines) ---\n' "$dir"
		tail -n 100 "$dir/test-suite.log"
		printf -- '--- end of %s/test-suite.log ---\n\n' "$dir"
	fi
	return 1
}

# Does LeakSanitizer work here? It cannot run under ptrace or in some containers.
lsan_works() {
	local t rc=1
	t=$(mktemp -d)
	printf 'int main(void) { return 0; }\n' >"$t/probe.c"
	if cc -fsanitize=address -o "$t/probe" "$t/probe.c" 2>/dev/null; then
		ASAN_OPTIONS=detect_leaks=1 "$t/probe" >/dev/null 2>&1 && rc=0
	fi
	rm -rf "$t"
	return $rc
}

# keep_results FROM TO: copies the test results (*.trs) under FROM into TO, for the summary, with the log of each
# test that did not pass (summarize-tests names its failing points).
keep_results() {
	mkdir -p "$2"
	(cd "$1" && find . -name '*.trs' -type f) | while read -r f; do
		mkdir -p "$2/$(dirname "$f")"
		cp "$1/$f" "$2/$f"
		if grep -q -E '^:test-result: (FAIL|XPASS|ERROR)' "$1/$f" && [ -f "$1/${f%.trs}.log" ]; then
			cp "$1/${f%.trs}.log" "$2/${f%.trs}.log"
		fi
	done
}

# The CI steps. Each leaves its test results under $results/STEP (automake .trs files) or in $results/STEP.log
# (make output with automake's "PASS: ..."/"FAIL: ..." lines), and fails only when it broke without recording a
# failing test (a build error): the summary then counts one failure for it. To add a step: write step_NAME and
# add NAME to ci_steps.
ci_steps="plain pg asan repeat distcheck package fuzz"

# plain: a -Werror build and the whole suite.
step_plain() {
	local rc=0
	build build --enable-werror || return 1
	check build || rc=1
	keep_results build "$results/plain"
	[ $rc = 0 ] || [ "$(failed_points "$results/plain")" -gt 0 ]
}

# pg: the whole suite again on the plain build, every state in PostgreSQL (BBGITOPS_TEST_STATE=pg: each test script
# starts its own throw-away PostgreSQL 15 cluster, tests/lib-pg.sh).
step_pg() {
	local rc=0
	build build --enable-werror || return 1
	BBGITOPS_TEST_STATE=pg check build || rc=1
	keep_results build "$results/pg"
	[ $rc = 0 ] || [ "$(failed_points "$results/pg")" -gt 0 ]
}

# asan: AddressSanitizer and UBSan build and the whole suite.
step_asan() {
	local rc=0 leaks=0
	lsan_works && leaks=1
	build build-asan --enable-sanitizers || return 1
	# tests/lsan.supp (applied by the test environment) suppresses one leak inside Debian's libgit2 1.5.1.
	say "sanitizer run with ASAN_OPTIONS=detect_leaks=$leaks"
	ASAN_OPTIONS="detect_leaks=$leaks" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
		check build-asan || rc=1
	keep_results build-asan "$results/asan"
	[ $rc = 0 ] || [ "$(failed_points "$results/asan")" -gt 0 ]
}

# repeat: the tests with kills, races and timing, 5 more times each (a test that fails one run in N is a defect).
repeat_tests="tests/t0550-deliver-sigkill.sh tests/t0060-concurrency.sh tests/t0750-poll-daemon.sh"
repeat_tests="$repeat_tests tests/t0960-pg-fleet.sh tests/t0970-pg-down.sh tests/t0710-poll-remote.sh tests/t0760-hook-handoff.sh"
step_repeat() {
	local i rc=0
	for i in 1 2 3 4 5; do
		check build "$repeat_tests" || rc=1
		keep_results build "$results/repeat-$i"
	done
	[ $rc = 0 ] || [ "$(failed_points "$results"/repeat-*)" -gt 0 ]
}

# distcheck: the release tarball builds, passes the suite in a read-only source tree, installs, and the installed
# programs pass installcheck.
step_distcheck() {
	say "make distcheck"
	if make -C build -j2 distcheck </dev/null >"$results/distcheck.log" 2>&1; then
		tail -n 4 "$results/distcheck.log"
		return 0
	fi
	tail -n 60 "$results/distcheck.log"
	[ "$(grep -c -E '^(FAIL|XPASS|ERROR): ' "$results/distcheck.log")" -gt 0 ]
}

# package: the Debian package test (package_test below); SKIP unless it may install packages.
step_package() {
	package_test
	keep_results build-deb "$results/package"
}

# fuzz: every libFuzzer target for FUZZ_SECONDS (fuzz above), one result each.
step_fuzz() {
	local leaks=0 rc=0
	lsan_works && leaks=1
	fuzz build-fuzz "$leaks" || rc=1
	keep_results build-fuzz "$results/fuzz"
	return $rc
}

# failed_points DIR...: how many test points under DIR did not pass (FAIL, XPASS, ERROR).
failed_points() {
	find "$@" -name '*.trs' -type f -exec cat {} + |
		awk '$1 == ":test-result:" && $2 != "PASS" && $2 != "XFAIL" && $2 != "SKIP" { n++ } END { print n + 0 }'
}

# fuzz DIR LEAKS: the libFuzzer targets (tests/fuzz) built in DIR with clang, each run FUZZ_SECONDS (default 60) s
# on its seed corpus, leak detection on when LEAKS is 1; each target leaves one test result (a .trs) for
# summarize-tests. Fails only when no target could run (a build error).
fuzz() {
	local dir=$1 leaks=$2
	find "$dir" -name '*.trs' -type f -exec rm -f {} + 2>/dev/null || true
	build "$dir" --enable-fuzzing CC=clang-14 || return 1
	say "fuzzing: each target for ${FUZZ_SECONDS:-60} s, ASAN_OPTIONS=detect_leaks=$leaks"
	ASAN_OPTIONS="detect_leaks=$leaks" make -C "$dir" fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" </dev/null ||
		[ "$(failed_points "$dir")" -gt 0 ]
}

run_test() {
	# extra: steps that broke without a failing test point (a build error), counted as one failure each.
	local extra=0 step t0 t1 start
	results=$top/ci-results
	rm -rf "$results"
	mkdir -p "$results"
	start=$(date +%s)
	for step in $ci_steps; do
		t0=$(date +%s)
		"step_$step" || { extra=$((extra + 1)); say "step $step broke without a failing test"; }
		t1=$(date +%s)
		say "step $step took $((t1 - t0)) s"
	done
	say "all steps took $(($(date +%s) - start)) s"
	logs=$(find "$results" -maxdepth 1 -name '*.log' -type f)
	# shellcheck disable=SC2086
	exec build-aux/summarize-tests -e "$extra" ${logs:+$(printf -- '-l %s ' $logs)} "$results"
}

# The Debian package (tests/t0890-debian-package.sh), once, in build-deb/: it builds the .deb, installs it with
# dpkg -i, pushes through its hook, removes and purges it. It runs only as root with CI=true (a throw-away
# machine) or BBGITOPS_TEST_DEB=1, and reports SKIP otherwise.
package_test() {
	mkdir -p build-deb
	find build-deb -maxdepth 1 -name '*.trs' -type f -exec rm -f {} +
	say "Debian package test (tests/t0890-debian-package.sh)"
	env AM_TAP_AWK=awk TEST_SRCDIR="$top/tests" TEST_BUILDDIR="$top/build-deb" BBGITOPS="$top/build/bbgitops" \
		build-aux/tap-driver.sh --test-name tests/t0890-debian-package.sh \
		--log-file build-deb/t0890-debian-package.log --trs-file build-deb/t0890-debian-package.trs \
		--color-tests no --enable-hard-errors yes --expect-failure no -- \
		sh tests/t0890-debian-package.sh </dev/null || true
	grep -e '^not ok' -e '^# SKIP' -e '^1\.\.0' build-deb/t0890-debian-package.log || true
}

run_demo() {
	build build
	local bin="$top/build/bbgitops"
	local tmp
	# The build tree's bbgitops finds its helpers (bbgitops-hook, bbgitops-deliver) beside it, not in libexec.
	export BBGITOPS_EXEC_PATH="$top/build"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/bbgitops-demo.XXXXXX")
	export GIT_CONFIG_NOSYSTEM=1 HOME="$tmp/home"
	mkdir -p "$HOME"
	git config --global user.name "Demo User"
	git config --global user.email "demo@example.com"
	git config --global init.defaultBranch main
	git config --global advice.detachedHead false

	say "creating a bare repository $tmp/hr.git (the 'Git server')"
	git init -q --bare "$tmp/hr.git"

	say "writing $tmp/bbgitops.conf (no bytebase section: issues stay in the local store)"
	cat >"$tmp/bbgitops.conf" <<-EOF
		state_dir = "$tmp/state";
		repositories = (
		  { name = "hr";
		    path = "$tmp/hr.git";
		    branch = "main";
		    base_directory = "bytebase";
		    project = "hr";
		  }
		);
	EOF
	"$bin" -c "$tmp/bbgitops.conf" check-config

	say "installing the post-receive hook: bbgitops install-hook $tmp/hr.git"
	"$bin" -c "$tmp/bbgitops.conf" install-hook "$tmp/hr.git"

	say "cloning and committing two migration files"
	git clone -q "$tmp/hr.git" "$tmp/work" 2>/dev/null
	cd "$tmp/work"
	git symbolic-ref HEAD refs/heads/main
	mkdir bytebase
	printf 'CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);\n' \
		>bytebase/202401010000_create_users.sql
	printf "INSERT INTO users (id, name) VALUES (1, 'alice'), (2, 'bob');\n" \
		>bytebase/202401010001_dml_seed_users.sql
	git add bytebase
	git commit -q -m "Create and seed the users table"

	say "git push (the hook queues the rollout issue)"
	local out
	out=$(git push origin main 2>&1) || { printf '%s\n' "$out"; die "git push failed"; }
	printf '%s\n' "$out"
	case $out in
	*"remote: bbgitops: main: 2 migrations queued as 1 rollout issue"*) ;;
	*) die "expected 'remote: bbgitops: main: 2 migrations queued as 1 rollout issue' in the push output" ;;
	esac

	say "a second commit and push"
	printf 'ALTER TABLE users ADD COLUMN email text;\n' >bytebase/202401020000_add_email.sql
	git add bytebase
	git commit -q -m "Add users.email"
	git push origin main 2>&1

	say "bbgitops issues"
	"$bin" -c "$tmp/bbgitops.conf" issues
	say "bbgitops issues --json"
	out=$("$bin" -c "$tmp/bbgitops.conf" issues --json)
	printf '%s\n' "$out" | python3 -m json.tool 2>/dev/null || printf '%s\n' "$out"
	cd "$top"
	say "done; the demo files are in $tmp (try: $bin -c $tmp/bbgitops.conf status)"
}

case ${1:-} in
demo | test) ;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
install_packages
bootstrap
case $1 in
demo) run_demo ;;
test) run_test ;;
esac
