#!/bin/sh
test_description='the Debian package: builds, passes lintian, installs with dpkg -i, runs, removes leaving no process, purges the user but never the state'

# Not part of `make check`: it installs a package system-wide. quickstart.sh test runs it once as its own step.
# It runs only as root and either in CI (CI=true, a throw-away machine) or when BBGITOPS_TEST_DEB=1 says so.

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

TOP_SRCDIR=$(cd "$TEST_SRCDIR/.." && pwd)

if test "$(id -u)" != 0 || { test "${CI:-}" != true && test "${BBGITOPS_TEST_DEB:-}" != 1; }
then
	echo "1..0 # SKIP installs a package system-wide: runs only as root with CI=true or BBGITOPS_TEST_DEB=1"
	exit 0
fi
for tool in dpkg-buildpackage dpkg dh
do
	if ! command -v $tool >/dev/null 2>&1
	then
		echo "1..0 # SKIP $tool is missing (apt-get install dpkg-dev debhelper)"
		exit 0
	fi
done
if test "$(dpkg-query -W -f='${Status}' bbgitops 2>/dev/null)" = "install ok installed"
then
	echo "Bail out! a bbgitops package is already installed here: this test would replace and purge it"
	exit 1
fi
command -v lintian >/dev/null 2>&1 && test_set_prereq LINTIAN

VERSION=$(sed -n 's/^AC_INIT(\[bbgitops\], \[\([^]]*\)\].*/\1/p' "$TOP_SRCDIR/configure.ac")
ARCH=$(dpkg --print-architecture)
DEB=$TRASH_DIRECTORY/bbgitops_${VERSION}_$ARCH.deb
STATE=/var/lib/bbgitops
state_existed=
test -e $STATE && state_existed=t

# Whatever happens, leave no package behind; and no state directory unless there was one before.
cleanup () {
	dpkg -P bbgitops >/dev/null 2>&1
	test -n "$state_existed" || rm -rf $STATE
}
test_at_exit cleanup

# bbgitops_processes: the processes running an installed bbgitops program, one per line (none: empty, status 0).
bbgitops_processes () {
	ps -eo pid=,args= >"$TRASH_DIRECTORY/.ps" &&
	{ grep -e '/usr/bin/bbgitops' -e '/bbgitops/bbgitops-deliver' -e '^ *[0-9]* bbgitops ' \
		"$TRASH_DIRECTORY/.ps" || :; }
}

# run_logged LOG CMD...: CMD with its output in LOG, shown when it fails.
run_logged () {
	_log=$1
	shift
	"$@" >"$_log" 2>&1 || { cat "$_log"; return 1; }
}

test_expect_success 'the changelog version is the configure version' '
	test -n "$VERSION" &&
	(cd "$TOP_SRCDIR" && dpkg-parsechangelog -S Version) >actual &&
	echo "$VERSION" >expect &&
	test_cmp expect actual
'

test_expect_success 'dpkg-buildpackage -us -uc -b builds bbgitops_VERSION_ARCH.deb from a clean copy of the source' '
	mkdir src &&
	if git -C "$TOP_SRCDIR" rev-parse --is-inside-work-tree >/dev/null 2>&1
	then
		(cd "$TOP_SRCDIR" && git ls-files -z --cached --others --exclude-standard) |
			(cd "$TOP_SRCDIR" && tar --null -T - -cf -) | tar -C src -xf -
	else
		(cd "$TOP_SRCDIR" && tar --exclude=./_build --exclude=./_inst --exclude="./build*" -cf - .) |
			tar -C src -xf -
	fi &&
	start=$(date +%s) &&
	if ! (cd src && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b -Pnocheck) \
		>build.log 2>&1
	then
		tail -40 build.log
		false
	fi &&
	test -f "$DEB" &&
	test_diag "built in $(($(date +%s) - start)) s: $(basename "$DEB"), $(stat -c %s "$DEB") bytes"
'

test_expect_success 'the package holds both programs, the pages, the conffile, the units, completion, sysusers and tmpfiles' '
	dpkg-deb -c "$DEB" | awk "{ print \$6 }" | sed -e "s|^\./|/|" >contents &&
	deliver=$(grep -e "/bbgitops-deliver\$" contents) &&
	test -n "$deliver" &&
	for f in /usr/bin/bbgitops /usr/share/man/man1/bbgitops.1.gz /usr/share/man/man5/bbgitops.conf.5.gz \
		/usr/share/man/man7/bbgitops-hooks.7.gz /etc/bbgitops.conf /lib/systemd/system/bbgitops-poll.service \
		/lib/systemd/system/bbgitops-poll.timer /lib/systemd/system/bbgitops-poll-daemon.service \
		/usr/share/bash-completion/completions/bbgitops /usr/lib/sysusers.d/bbgitops.conf \
		/usr/lib/tmpfiles.d/bbgitops.conf /usr/share/bbgitops/hooks/post-receive
	do
		grep -x -e "$f" contents >/dev/null || { echo "missing: $f"; return 1; }
	done &&
	dpkg-deb -e "$DEB" control &&
	echo /etc/bbgitops.conf >expect &&
	test_cmp expect control/conffiles
'

test_expect_success LINTIAN 'lintian reports no error or warning that is not overridden with a reason' '
	{ lintian --pedantic --display-info "$DEB" >lintian.out 2>&1 || :; } &&
	while read -r line
	do
		test_diag "lintian: $line"
	done <lintian.out &&
	! grep -e "^[EW]: " lintian.out
'

test_expect_success 'dpkg -i installs it: the user, the group and the setgid state directory exist' '
	run_logged install.log dpkg -i "$DEB" &&
	getent passwd bbgitops >passwd &&
	getent group bbgitops &&
	test "$(cut -d: -f6 passwd)" = $STATE &&
	test "$(stat -c "%a %U %G" $STATE)" = "2770 bbgitops bbgitops"
'

test_expect_success 'the installed bbgitops runs: --version, and check-config on the installed /etc/bbgitops.conf' '
	/usr/bin/bbgitops --version >actual &&
	echo "bbgitops $VERSION" >expect &&
	test_cmp expect actual &&
	(unset BBGITOPS_CONFIG; /usr/bin/bbgitops check-config) >actual &&
	echo "configuration OK" >expect &&
	test_cmp expect actual &&
	test "$(sed -n "s/^ExecStart=\([^ ]*\) .*/\1/p" /lib/systemd/system/bbgitops-poll.service)" = /usr/bin/bbgitops &&
	man -w bbgitops bbgitops.conf bbgitops-hooks >/dev/null
'

test_expect_success 'a push through the installed hook shim (naming the packaged bbgitops-hook) queues an issue' '
	sed -e "s|\"/srv/git/hr.git\"|\"$TRASH_DIRECTORY/hr.git\"|" /etc/bbgitops.conf >pkg.conf &&
	grep -e "$TRASH_DIRECTORY/hr.git" pkg.conf &&
	/usr/bin/bbgitops -c pkg.conf check-config &&
	setup_server_repo hr &&
	test -x "$(dirname "$deliver")/bbgitops-hook" &&
	test_grep "^helper=\${BBGITOPS_EXEC_PATH:-$(dirname "$deliver")}/bbgitops-hook\$" \
		/usr/share/bbgitops/hooks/post-receive &&
	cp /usr/share/bbgitops/hooks/post-receive hr.git/hooks/post-receive &&
	(
		cd hr &&
		add_file bytebase/0001_create_t.sql "CREATE TABLE t (id int);" &&
		git commit -q -m "create t" &&
		unset BBGITOPS_EXEC_PATH &&
		PATH=/usr/bin:/bin BBGITOPS_CONFIG=$TRASH_DIRECTORY/pkg.conf git push origin HEAD:main >../push.out 2>&1
	) &&
	bbgitops_lines push.out >lines &&
	test_grep "bbgitops: main: 1 migration.* queued" lines &&
	/usr/bin/bbgitops -c pkg.conf issues --json >issues.json &&
	test "$(json_query "len(d)" issues.json)" = 1 &&
	test "$(json_query "d[0][\"status\"]" issues.json)" = local &&
	test "$(stat -c %G $STATE/state.db)" = bbgitops
'

test_expect_success 'dpkg -r removes the programs, keeps the conffile, and leaves no bbgitops process' '
	run_logged remove.log dpkg -r bbgitops &&
	test ! -e /usr/bin/bbgitops &&
	test -f /etc/bbgitops.conf &&
	bbgitops_processes >procs &&
	test_must_be_empty procs
'

test_expect_success 'dpkg -P removes the user, the group and the conffile, never the state' '
	run_logged purge.log dpkg -P bbgitops &&
	test ! -e /etc/bbgitops.conf &&
	! getent passwd bbgitops &&
	! getent group bbgitops &&
	test -d $STATE &&
	test -s $STATE/state.db &&
	bbgitops_processes >procs &&
	test_must_be_empty procs
'

test_done
