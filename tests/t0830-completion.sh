#!/bin/sh
test_description='bash completion: commands and options of --help, repository names from the configuration, issue ids for deliver --retry/--skip'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

COMPLETION=$(cd "$TEST_SRCDIR/.." && pwd)/completion/bbgitops

if ! command -v bash >/dev/null 2>&1
then
	echo "1..0 # SKIP bash is not installed"
	exit 0
fi
command -v make >/dev/null 2>&1 && test -f "$TEST_BUILDDIR/../Makefile" && test_set_prereq MAKE

# complete LINE: what the completion offers for LINE (words split on spaces; a trailing space starts an empty
# word), sorted, one per line. The first word is the binary under test.
complete () {
	bash -c '
		. "$1" || exit 1
		shift
		line=$1
		read -r -a COMP_WORDS <<<"$line"
		case $line in *" ") COMP_WORDS+=("") ;; esac
		COMP_WORDS[0]=$BBGITOPS
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$line
		COMP_POINT=${#line}
		_bbgitops bbgitops "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" || exit 1
		printf "%s\n" "${COMPREPLY[@]}" | sed -e "/^\$/d" | sort
	' complete "$COMPLETION" "$1"
}

test_expect_success 'setup: two repositories, three local issues of hr, one of them skipped' '
	write_config <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH_DIRECTORY/hr.git"; branch = "main"; base_directory = "bytebase"; },
	  { name = "payroll-eu"; path = "$TRASH_DIRECTORY/payroll.git"; branch = "main"; }
	);
	EOF
	setup_server_repo hr &&
	install_hook hr.git >/dev/null &&
	(
		cd hr &&
		for v in 0001 0002 0003
		do
			add_file bytebase/${v}_t.sql &&
			git commit -q -m "migration $v" &&
			git push -q origin HEAD:main 2>/dev/null || return 1
		done
	) &&
	test "$(issue_count --status local)" = 3 &&
	bbgitops deliver --skip 2 &&
	test "$(issue_count --status skipped)" = 1
'

test_expect_success 'the script loads in bash and registers _bbgitops for bbgitops' '
	bash -c ". \"$COMPLETION\" && complete -p bbgitops" >out &&
	test_grep "_bbgitops bbgitops" out
'

test_expect_success 'an empty word after the program offers exactly the commands of --help' '
	"$BBGITOPS" --help | sed -n "s/^  \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\1/p" | sort >expect &&
	test_line_count -ge 9 expect &&
	complete "bbgitops " >actual &&
	test_cmp expect actual
'

test_expect_success 'a prefix completes the command; a dash the global options' '
	echo status >expect &&
	complete "bbgitops statu" >actual &&
	test_cmp expect actual &&
	printf "%s\n" state status >expect &&
	complete "bbgitops sta" >actual &&
	test_cmp expect actual &&
	complete "bbgitops --" >actual &&
	printf "%s\n" --config --help --version >expect &&
	test_cmp expect actual
'

test_expect_success 'every option --help shows for a command is completed for it' '
	"$BBGITOPS" --help >help &&
	for cmd in $(sed -n "s/^  \([a-z][a-z-]*\) .*/\1/p" help)
	do
		# a command whose usage starts with a lower-case word has subcommands (state migrate): complete after it
		subcmd=$(sed -n "s/^  $cmd \([a-z][a-z-]*\)\( .*\)\{0,1\}\$/\1/p" help | head -n 1) &&
		for opt in $(sed -n "s/^  $cmd \(.*\)/\1/p" help | sed -e "s/  .*//" | grep -o -e "--[a-z][a-z-]*")
		do
			complete "bbgitops $cmd ${subcmd:+$subcmd }--" >offered &&
			grep -x -e "$opt" offered >/dev/null ||
			{ echo "bbgitops $cmd: $opt not offered"; cat offered; return 1; }
		done || return 1
	done
'

test_expect_success 'repository names come from the configuration given with -c' '
	printf "%s\n" hr payroll-eu >expect &&
	complete "bbgitops -c $CONF poll " >actual &&
	test_cmp expect actual &&
	echo payroll-eu >expect &&
	complete "bbgitops -c $CONF issues --repo pay" >actual &&
	test_cmp expect actual &&
	echo hr >expect &&
	complete "bbgitops --config=$CONF backfill h" >actual &&
	test_cmp expect actual
'

test_expect_success 'without -c, the configuration named by BBGITOPS_CONFIG' '
	printf "%s\n" hr payroll-eu >expect &&
	BBGITOPS_CONFIG=$CONF complete "bbgitops poll " >actual &&
	test_cmp expect actual
'

test_expect_success 'backfill: the repository only as the first argument; no guesses for --from; options after it' '
	complete "bbgitops -c $CONF backfill hr " >actual &&
	test_must_be_empty actual &&
	complete "bbgitops -c $CONF backfill hr --from " >actual &&
	test_must_be_empty actual &&
	echo --dry-run >expect &&
	complete "bbgitops -c $CONF backfill hr --dr" >actual &&
	test_cmp expect actual
'

test_expect_success 'deliver --retry and --skip complete the ids of the issues they accept (not the skipped one)' '
	printf "%s\n" 1 3 >expect &&
	complete "bbgitops -c $CONF deliver --retry " >actual &&
	test_cmp expect actual &&
	complete "bbgitops -c $CONF deliver --skip " >actual &&
	test_cmp expect actual &&
	bbgitops deliver --skip 3 &&
	echo 1 >expect &&
	complete "bbgitops -c $CONF deliver --now --retry " >actual &&
	test_cmp expect actual
'

test_expect_success 'issues --status completes the statuses; status its two formats' '
	echo failed >expect &&
	complete "bbgitops issues --status f" >actual &&
	test_cmp expect actual &&
	printf "%s\n" --json --prometheus >expect &&
	complete "bbgitops status --" >actual &&
	test_cmp expect actual
'

test_expect_success 'a broken configuration completes nothing and prints nothing' '
	echo "repositories = (" >broken.conf &&
	complete "bbgitops -c $TRASH_DIRECTORY/broken.conf poll " >actual 2>err &&
	test_must_be_empty actual &&
	test_must_be_empty err
'

test_expect_success MAKE 'make installs it as bbgitops in the bash-completion directory under the prefix' '
	{
		make -s -C "$TEST_BUILDDIR/.." install-dist_bashcompletionDATA DESTDIR="$TRASH_DIRECTORY/root" \
			>make.out 2>&1 || { cat make.out; return 1; }
	} &&
	find root -type f >actual &&
	test_line_count = 1 actual &&
	test_grep "/bash-completion/completions/bbgitops$" actual &&
	cmp "$COMPLETION" "$(cat actual)"
'

test_done
