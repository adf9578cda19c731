#!/bin/sh
test_description='PostgreSQL: a repository fails over between three nodes (three configurations, each with its own
copy of the bare repository, its own hook and state_dir, one shared database): every migration is queued exactly
once, nothing from before a move is re-reported, nothing pushed just before a move (hook killed, hook failing) is
missed'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-pg.sh"
pg_need

# node_config NODE [URL]: $TRASH/NODE.conf, repository "hr" at $TRASH/NODE/hr.git (the same name on every node, a
# different path), state_dir $TRASH/NODE/state, the shared database (or URL).
node_config () {
	mkdir -p "$TRASH/$1" &&
	write_config "$TRASH/$1.conf" <<-EOF
	state_dir = "$TRASH/$1/state";
	$(pg_state_section "${2:-$PG_URL}")
	repositories = (
	  { name = "hr"; path = "$TRASH/$1/hr.git"; branch = "main"; base_directory = "bytebase"; project = "hr"; }
	);
	EOF
}

# push_node NODE VERSION: a commit "Add VERSION" adding bytebase/VERSION_tVERSION.sql, pushed from the work clone
# to NODE's repository; the push's output in push-VERSION.out.
push_node () {
	(
		cd work &&
		add_file "bytebase/$2_t$2.sql" "CREATE TABLE t$2 (id int);" &&
		git commit -q -m "Add $2" &&
		push_to "../push-$2.out" "$TRASH/$1/hr.git" HEAD:main
	)
}

# killed_hook NODE DELAY: NODE's post-receive becomes bbgitops's hook SIGKILLed DELAY seconds after it started
# (whatever it had done by then).
killed_hook () {
	cat >"$1/hr.git/hooks/post-receive" <<-EOF &&
	#!/bin/sh
	exec 3<&0
	"$BBGITOPS" -c "$TRASH/$1.conf" post-receive <&3 &
	pid=\$!
	sleep $2
	kill -9 \$pid 2>/dev/null
	wait \$pid
	exit 0
	EOF
	chmod +x "$1/hr.git/hooks/post-receive"
}

# fail_over FROM TO: the repository moves: FROM's directory copied to TO (objects, refs, hooks: all of it), then
# TO's hook installed with TO's configuration.
fail_over () {
	rm -rf "$2/hr.git" &&
	cp -a "$1/hr.git" "$2/hr.git" &&
	rm -f "$2/hr.git/hooks/post-receive" &&
	"$BBGITOPS" -c "$TRASH/$2.conf" install-hook "$TRASH/$2/hr.git" >/dev/null
}

# expect_titles NODE FIRST LAST: the issue list read through NODE's configuration is exactly "Add FIRST" ..
# "Add LAST", each once, in order, each with its one file.
expect_titles () {
	"$BBGITOPS" -c "$TRASH/$1.conf" issues --json >"issues-$1.json" &&
	json_query '["%s %s %s %s" % (i["repository"], i["branch"], i["title"], ",".join(f["path"] for f in i["files"]))
		for i in d]' "issues-$1.json" >actual &&
	for v in $(test_seq "$2" "$3")
	do
		v=$(printf %04d "$v") &&
		echo "hr main Add $v bytebase/${v}_t$v.sql" || return 1
	done >expect &&
	test_cmp expect actual
}

test_expect_success 'setup: node A serves hr, pushes there queue issues' '
	node_config A &&
	node_config B &&
	node_config C &&
	git init -q --bare A/hr.git &&
	"$BBGITOPS" -c "$TRASH/A.conf" install-hook "$TRASH/A/hr.git" >/dev/null &&
	git clone -q A/hr.git work 2>/dev/null &&
	(
		cd work &&
		echo hr >README &&
		commit_all initial &&
		push_to ../push-initial.out "$TRASH/A/hr.git" HEAD:main
	) &&
	push_node A 0001 &&
	push_node A 0002 &&
	bbgitops_lines push-0002.out >lines &&
	test_line_count = 1 lines &&
	test_grep "main: 1 migration" lines &&
	expect_titles A 1 2
'

test_expect_success 'on A, a push whose hook is killed and one whose hook cannot reach the database; then A fails over to B' '
	killed_hook A "0.0$(awk "BEGIN { srand(); printf \"%d\", 1 + rand() * 9 }")" &&
	push_node A 0003 &&
	node_config A "postgresql:///bbgitops?host=$TRASH/nowhere" &&
	rm A/hr.git/hooks/post-receive &&
	"$BBGITOPS" -c "$TRASH/A.conf" install-hook "$TRASH/A/hr.git" >/dev/null &&
	push_node A 0004 &&
	bbgitops_lines push-0004.out >lines &&
	test_line_count = 1 lines &&
	git -C work rev-parse HEAD >expect &&
	git -C A/hr.git rev-parse main >actual &&
	test_cmp expect actual &&
	fail_over A B
'

test_expect_success 'the first push to B queues what A missed and its own migration, nothing of before again' '
	push_node B 0005 &&
	bbgitops_lines push-0005.out >lines &&
	test_line_count = 1 lines &&
	expect_titles B 1 5
'

test_expect_success 'more pushes on B; the last one before the move to C has its hook killed at once' '
	push_node B 0006 &&
	push_node B 0007 &&
	killed_hook B 0 &&
	push_node B 0008 &&
	fail_over B C
'

test_expect_success 'pushes on C: every migration of A, B and C queued exactly once, seen alike from every node' '
	push_node C 0009 &&
	push_node C 0010 &&
	expect_titles C 1 10 &&
	node_config A &&
	expect_titles A 1 10 &&
	expect_titles B 1 10
'

test_expect_success 'the repository moves back to A (its stale copy replaced): nothing is queued twice' '
	fail_over C A &&
	push_node A 0011 &&
	expect_titles A 1 11
'

test_done
