#!/bin/sh
test_description='the build says what it is: no symbol defined in two objects (the link line never picks between two
bodies), and configure refuses the library versions the code cannot run on'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

TOP_BUILDDIR=${BBGITOPS_TOP_BUILDDIR:-$TEST_BUILDDIR/..}
TOP_SRCDIR=${BBGITOPS_TOP_SRCDIR:-$TEST_SRCDIR/..}
MAKE=${MAKE:-make}

test_expect_success 'setup: the objects of both programs and their common library' '
	(
		# A make of its own, not a child of the make running the tests: no jobserver, no "Entering directory".
		unset MAKEFLAGS MFLAGS MAKELEVEL &&
		cd "$TOP_BUILDDIR" &&
		$MAKE --no-print-directory -s print-program-objects
	) >list &&
	for o in $(cat list); do case "$o" in *.o) echo "$TOP_BUILDDIR/$o" ;; esac; done >objects &&
	for o in $(cat objects); do test -f "$o" || return 1; done &&
	test_grep "bbgitops-main.o" objects &&
	test_grep "bbgitops_deliver-deliver_main.o" objects &&
	test -f "$TOP_BUILDDIR/libbbgitops-common.a"
'

test_expect_success 'nm: no global symbol is defined in two objects (main aside: one per program)' '
	nm -A -g --defined-only $(cat objects) >symbols &&
	test -s symbols &&
	awk "\$(NF - 1) ~ /^[TDRBCG]\$/ && \$NF != \"main\" && \$NF !~ /^__/ { print \$NF }" symbols |
		sort | uniq -d >duplicates &&
	test_must_be_empty duplicates
'

test_expect_success 'nm: bbgitops links no libcurl symbol and bbgitops-deliver no libgit2 symbol' '
	nm -u "$TOP_BUILDDIR/bbgitops" >git-side &&
	! grep -E " (curl_|Curl_)" git-side &&
	nm -u "$TOP_BUILDDIR/bbgitops-deliver" >deliver-side &&
	! grep -E " git_" deliver-side
'

# fake_pc NAME VERSION: NAME.pc in pc/, the installed one with its Version replaced (found first through
# PKG_CONFIG_PATH; everything it requires is still the system'"'"'s).
fake_pc () {
	mkdir -p pc &&
	sed -e "s/^Version:.*/Version: $2/" "$(pkg-config --variable=pcfiledir "$1")/$1.pc" >"pc/$1.pc"
}

# try_configure NAME: runs configure in NAME/ with pc/ first on the pkg-config path; its output in NAME.out.
try_configure () {
	mkdir "$1" &&
	(cd "$1" && PKG_CONFIG_PATH=$TRASH/pc "$TOP_SRCDIR/configure" -q >"../$1.out" 2>&1)
}

test_expect_success 'configure refuses libgit2 1.4.2 (no GIT_OPT_SET_OWNER_VALIDATION)' '
	rm -rf pc &&
	fake_pc libgit2 1.4.2 &&
	test_must_fail try_configure git142 &&
	test_grep "libgit2 >= 1.4.3" git142.out
'

test_expect_success 'configure refuses SQLite 3.37.2 (no unixepoch())' '
	rm -rf pc &&
	fake_pc sqlite3 3.37.2 &&
	test_must_fail try_configure sqlite3372 &&
	test_grep "sqlite3 >= 3.38" sqlite3372.out
'

test_expect_success 'configure accepts exactly libgit2 1.4.3 and SQLite 3.38.0' '
	rm -rf pc &&
	fake_pc libgit2 1.4.3 &&
	fake_pc sqlite3 3.38.0 &&
	try_configure minimum
'

test_done
