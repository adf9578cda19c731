#!/bin/sh
test_description='post-receive never breaks or hangs a push; install-hook and the post-receive name (design §5)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

test_expect_success 'setup' '
	setup_server_repo hr &&
	setup_server_repo other &&
	write_repo_config hr &&
	cp "$CONF" good.conf &&
	install_hook "$TRASH/hr.git" &&
	cp hr.git/hooks/post-receive other.git/hooks/post-receive &&
	(
		cd hr &&
		add_file bytebase/0001_a.sql && commit_all "Add a" &&
		push_to ../push0.out origin main
	) &&
	echo 1 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'the installed hook is executable and carries the configuration path' '
	test -x hr.git/hooks/post-receive &&
	test_grep -F "$CONF" hr.git/hooks/post-receive &&
	test_grep "post-receive" hr.git/hooks/post-receive
'

test_expect_success 'a configuration syntax error: the push succeeds with exactly one bbgitops line' '
	test_when_finished "cp \"$TRASH/good.conf\" \"$CONF\"" &&
	printf "state_dir = \"%s\"\nrepositories = ( { name = \"hr\"; \n" "$STATE_DIR" >"$CONF" &&
	(
		cd hr &&
		add_file bytebase/0002_b.sql && commit_all "Add b" &&
		push_to ../push1.out origin main
	) &&
	git -C hr rev-parse HEAD >expect &&
	git -C hr.git rev-parse main >actual &&
	test_cmp expect actual &&
	grep "bbgitops: " push1.out >lines &&
	test_line_count = 1 lines &&
	test_grep "^remote: bbgitops: " lines
'

test_expect_success 'a missing configuration file: the push succeeds with exactly one bbgitops line' '
	test_when_finished "cp \"$TRASH/good.conf\" \"$CONF\"" &&
	rm "$CONF" &&
	(
		cd hr &&
		add_file bytebase/0003_c.sql && commit_all "Add c" &&
		push_to ../push2.out origin main
	) &&
	grep "bbgitops: " push2.out >lines &&
	test_line_count = 1 lines
'

test_expect_success 'the next push with a good configuration catches up what the broken ones missed' '
	(
		cd hr &&
		add_file docs/x.md && commit_all "Docs" &&
		push_to ../push3.out origin main
	) &&
	cat >expect <<-\EOF &&
	Add a
	Add b
	Add c
	EOF
	issue_titles >actual &&
	test_cmp expect actual
'

test_expect_success 'an unwritable state directory: the push succeeds with exactly one bbgitops line' '
	test_when_finished "cp \"$TRASH/good.conf\" \"$CONF\"" &&
	echo "a regular file" >blocker &&
	sed "s|^state_dir = .*|state_dir = \"$TRASH/blocker/state\";|" good.conf >"$CONF" &&
	(
		cd hr &&
		add_file bytebase/0004_d.sql && commit_all "Add d" &&
		push_to ../push4.out origin main
	) &&
	git -C hr rev-parse HEAD >expect &&
	git -C hr.git rev-parse main >actual &&
	test_cmp expect actual &&
	grep "bbgitops: " push4.out >lines &&
	test_line_count = 1 lines
'

test_expect_success 'a repository no configuration entry names: the push prints nothing from bbgitops' '
	(
		cd other &&
		add_file bytebase/0001_x.sql && commit_all "Other" &&
		push_to ../push5.out origin main
	) &&
	! grep "bbgitops:" push5.out &&
	issue_lines repository >all &&
	{ grep -v "^hr\$" all >actual || :; } &&
	test_must_be_empty actual
'

test_expect_success 'in a repository no entry names, the hook still reads all of stdin (hook chains)' '
	test_seq 5000 | sed "s/.*/$ZERO_OID $ZERO_OID refs\/heads\/b-&/" >stdin &&
	(
		cd other.git &&
		{ cat ../stdin; echo $? >../writer.status; } | GIT_DIR=. "$BBGITOPS" -c "$CONF" post-receive >../out 2>&1
	) &&
	echo 0 >expect &&
	test_cmp expect writer.status &&
	test_must_be_empty out
'

test_expect_success 'a push returns promptly (the hook does not hold the pusher)' '
	(
		cd hr &&
		add_file bytebase/0005_e.sql && commit_all "Add e" &&
		start=$(date +%s) &&
		push_to ../push6.out origin main &&
		end=$(date +%s) &&
		test $((end - start)) -le 10
	)
'

test_expect_success 'with a Bytebase that never answers, background delivery does not hold the push' '
	{ "$PYTHON" -c "
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"127.0.0.1\", 0))
s.listen(64)
open(sys.argv[1] + \".tmp\", \"w\").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + \".tmp\", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
" "$TRASH/silent.port" >/dev/null 2>&1 & silent_pid=$!; } &&
	test_when_finished "kill $silent_pid; cp \"$TRASH/good.conf\" \"$CONF\"" &&
	for i in $(test_seq 100); do test -s silent.port && break; sleep 0.1; done &&
	port=$(cat silent.port) &&
	cp good.conf "$CONF" &&
	cat >>"$CONF" <<-EOF &&
	bytebase = {
	  url = "http://127.0.0.1:$port";
	  service_account = "bbgitops@service.bytebase.com";
	  service_key = "bbs_not_a_real_key";
	  timeout = 30;
	};
	hook = { deliver = "background"; };
	EOF
	(
		cd hr &&
		add_file bytebase/0006_silent.sql && commit_all "Silent" &&
		start=$(date +%s) &&
		push_to ../push6b.out origin main &&
		end=$(date +%s) &&
		test $((end - start)) -le 10
	) &&
	bbgitops_lines push6b.out >lines &&
	test_line_count = 1 lines &&
	echo "Silent" >expect &&
	issue_field -1 title >actual &&
	test_cmp expect actual
'

test_expect_success 'the repository is found through a symlinked path' '
	ln -s hr.git hr-link.git &&
	sed "s|$TRASH/hr.git|$TRASH/hr-link.git|" good.conf >"$CONF" &&
	test_when_finished "cp \"$TRASH/good.conf\" \"$CONF\"" &&
	(
		cd hr &&
		add_file bytebase/0007_f.sql && commit_all "Add f" &&
		push_to ../push7.out origin main
	) &&
	echo "Add f" >expect &&
	issue_field -1 title >actual &&
	test_cmp expect actual
'

test_expect_success 'install-hook refuses to overwrite a foreign hook' '
	printf "#!/bin/sh\necho foreign\n" >other.git/hooks/post-receive &&
	chmod +x other.git/hooks/post-receive &&
	cp other.git/hooks/post-receive foreign.expect &&
	test_expect_code 1 "$BBGITOPS" -c "$CONF" install-hook "$TRASH/other.git" >out 2>&1 &&
	test -s out &&
	test_cmp foreign.expect other.git/hooks/post-receive
'

test_expect_success 'install-hook replaces its own hook' '
	install_hook "$TRASH/hr.git" &&
	test -x hr.git/hooks/post-receive &&
	test_grep -F "$CONF" hr.git/hooks/post-receive
'

test_expect_success 'install-hook on a path that is not a git repository fails' '
	mkdir notrepo &&
	test_must_fail "$BBGITOPS" -c "$CONF" install-hook "$TRASH/notrepo" >out 2>&1 &&
	test ! -e notrepo/hooks/post-receive
'

test_expect_success 'the binary invoked as "post-receive" (a symlink) runs the hook' '
	setup_server_repo linked &&
	write_config <<-EOF &&
	repositories = (
	  { name = "linked"; path = "$TRASH/linked.git"; branch = "main"; base_directory = "bytebase"; project = "l"; }
	);
	EOF
	test_when_finished "cp \"$TRASH/good.conf\" \"$CONF\"" &&
	ln -s "$BBGITOPS" linked.git/hooks/post-receive &&
	(
		cd linked &&
		add_file bytebase/0001_l.sql && commit_all "Linked" &&
		BBGITOPS_CONFIG="$CONF" &&
		export BBGITOPS_CONFIG &&
		push_to ../push8.out origin main
	) &&
	test_grep "^remote: bbgitops: main: " push8.out &&
	echo "linked Linked" >expect &&
	issue_lines --repo linked repository title >actual &&
	test_cmp expect actual
'

test_expect_success 'a binary named post-receive run by hand reads $BBGITOPS_CONFIG and stdin' '
	mkdir -p bin &&
	ln -s "$BBGITOPS" bin/post-receive &&
	(
		cd hr &&
		git checkout -q -b side &&
		add_file bytebase/0008_g.sql && commit_all "Add g" &&
		git push -q origin side 2>/dev/null
	) &&
	old=$(git -C hr rev-parse main) &&
	new=$(git -C hr rev-parse side) &&
	git -C hr.git update-ref refs/heads/main $new $old &&
	(
		cd hr.git &&
		echo "$old $new refs/heads/main" | GIT_DIR=. BBGITOPS_CONFIG="$CONF" "$TRASH/bin/post-receive"
	) >out 2>&1 &&
	echo "Add g" >expect &&
	issue_field -1 title >actual &&
	test_cmp expect actual
'

test_expect_success 'post-receive exits 0 even on nonsense input and a broken configuration' '
	(
		cd hr.git &&
		echo "garbage line" | "$BBGITOPS" -c "$CONF" post-receive &&
		echo "$ZERO_OID 1234 refs/heads/main" | "$BBGITOPS" -c "$CONF" post-receive &&
		echo "garbage" | "$BBGITOPS" -c "$TRASH/does-not-exist.conf" post-receive
	) >out 2>&1
'

test_done
