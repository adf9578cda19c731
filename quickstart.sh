#!/usr/bin/env bash
# quickstart.sh — from a fresh Debian 12 checkout to a working bbgitops.
#   ./quickstart.sh demo   build, then push migrations into a throw-away bare repository and list the issues
#   ./quickstart.sh test   build and run the test suite, then again with AddressSanitizer/UBSan; one summary line
# Installs only the Debian packages that are missing (apt-get, through sudo when not root). Needs no TTY or stdin.
set -eu

cd "$(dirname "$0")"
top=$(pwd)

packages="build-essential autoconf automake pkg-config libgit2-dev libcurl4-openssl-dev libconfig-dev
	libsqlite3-dev libjansson-dev git python3 ca-certificates lighttpd sqlite3 procps psmisc
	python3-prometheus-client mandoc man-db bash-completion dpkg-dev debhelper lintian"

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

# build DIR [CONFIGURE-ARGS...]: out-of-tree build in DIR.
build() {
	local dir=$1
	shift
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		say "configuring $dir $*"
		(cd "$dir" && "$top/configure" -q "$@" </dev/null)
	fi
	say "building in $dir"
	make -C "$dir" -j2 </dev/null
}

# check DIR: make check in DIR; on failure shows the end of test-suite.log. Returns make's status.
check() {
	local dir=$1
	find "$dir" -name '*.trs' -type f -exec rm -f {} +
	say "make check in $dir"
	if make -C "$dir" -j2 check </dev/null; then
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

# failed_points DIR: how many test points under DIR did not pass (FAIL, XPASS, ERROR).
failed_points() {
	find "$1" -name '*.trs' -type f -exec cat {} + |
		awk '$1 == ":test-result:" && $2 != "PASS" && $2 != "XFAIL" && $2 != "SKIP" { n++ } END { print n + 0 }'
}

run_test() {
	# extra: runs whose make check failed without a failing test point (a build error), counted as one failure.
	local extra=0 leaks=0
	build build || true
	check build || [ "$(failed_points build)" -gt 0 ] || extra=$((extra + 1))
	lsan_works && leaks=1
	build build-asan --enable-sanitizers || true
	# tests/lsan.supp (applied by the test environment) suppresses one leak inside Debian's libgit2 1.5.1.
	say "sanitizer run with ASAN_OPTIONS=detect_leaks=$leaks"
	ASAN_OPTIONS="detect_leaks=$leaks" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
		check build-asan || [ "$(failed_points build-asan)" -gt 0 ] || extra=$((extra + 1))
	package_test
	exec build-aux/summarize-tests -e "$extra" build build-asan build-deb
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
