#!/bin/sh
test_description='manual pages: lint clean, render without warnings, document every command, option and config key'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

TOP_SRCDIR=$(cd "$TEST_SRCDIR/.." && pwd)
DOC=$TOP_SRCDIR/doc
PAGES="bbgitops.1 bbgitops.conf.5 bbgitops-hooks.7"

command -v mandoc >/dev/null 2>&1 && test_set_prereq MANDOC
command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1 && test_set_prereq MAN
command -v make >/dev/null 2>&1 && test -f "$TEST_BUILDDIR/../Makefile" && test_set_prereq MAKE

# check_pages HELP CONFIG_C: the completeness check (tests/check-man-pages.py) against these sources.
check_pages () {
	"$PYTHON" "$TEST_SRCDIR/check-man-pages.py" "$1" "$2" "$DOC/bbgitops.1" "$DOC/bbgitops.conf.5"
}

test_expect_success MANDOC 'mandoc -Tlint finds no warning or error in any page' '
	for p in $PAGES
	do
		mandoc -Tlint -W warning "$DOC/$p" >>lint.out 2>&1 || { cat lint.out; return 1; }
	done &&
	test_must_be_empty lint.out
'

test_expect_success MAN 'man -l renders every page without a warning (80 columns)' '
	for p in $PAGES
	do
		MANWIDTH=80 man --warnings -l "$DOC/$p" >"$p.txt" 2>>render.err &&
		test -s "$p.txt" || return 1
	done &&
	test_must_be_empty render.err &&
	test_grep "bbgitops-deliver" bbgitops.1.txt &&
	test_grep "custom_hooks" bbgitops-hooks.7.txt
'

test_expect_success 'every command and option of --help and every key of src/config.c is documented' '
	"$BBGITOPS" --help >help.txt &&
	check_pages help.txt "$TOP_SRCDIR/src/config.c" 2>checked.txt &&
	cat checked.txt &&
	test_grep "checked [1-9][0-9]* commands, [1-9][0-9]* keys" checked.txt
'

test_expect_success 'a configuration key added to the parser without documentation fails the check' '
	sed -e "s/\(static const char \*const poll_keys\[\] = {\)/\1 \"undocumented_key\",/" \
		"$TOP_SRCDIR/src/config.c" >config-mutated.c &&
	! cmp -s "$TOP_SRCDIR/src/config.c" config-mutated.c &&
	test_must_fail check_pages help.txt config-mutated.c >out 2>&1 &&
	test_grep "undocumented_key" out
'

test_expect_success 'an enum value added to the parser without documentation fails the check' '
	sed -e "s/\"commit\", \"file\", NULL/\"commit\", \"file\", \"tree\", NULL/" \
		"$TOP_SRCDIR/src/config.c" >config-mutated.c &&
	! cmp -s "$TOP_SRCDIR/src/config.c" config-mutated.c &&
	test_must_fail check_pages help.txt config-mutated.c >out 2>&1 &&
	test_grep "value \"tree\" of .group_by." out
'

test_expect_success 'a command or option added to --help without documentation fails the check' '
	sed -e "s/^  status /  status [--frobnicate] /" help.txt >help-option.txt &&
	! cmp -s help.txt help-option.txt &&
	test_must_fail check_pages help-option.txt "$TOP_SRCDIR/src/config.c" >out 2>&1 &&
	test_grep "option --frobnicate of .status." out &&
	{ cat help.txt && echo "  frobnicate               does things"; } >help-command.txt &&
	test_must_fail check_pages help-command.txt "$TOP_SRCDIR/src/config.c" >out 2>&1 &&
	test_grep "command .frobnicate." out
'

test_expect_success MAKE 'make install-man installs the three pages in their sections' '
	{
		make -s -C "$TEST_BUILDDIR/.." install-man DESTDIR="$TRASH_DIRECTORY/root" >make.out 2>&1 ||
		{ cat make.out; return 1; }
	} &&
	find root -type f | sed -e "s|.*/man/||" | sort >actual &&
	cat >expect <<-\EOF &&
	man1/bbgitops.1
	man5/bbgitops.conf.5
	man7/bbgitops-hooks.7
	EOF
	test_cmp expect actual
'

test_done
