#!/bin/sh
test_description='what the hooks tell the pusher: one line for garbage on stdin, names quoted as git quotes them, symlinks refused, a full disk named (issue 9, item 8)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

# push_rejected OUT ARGS...: git push ARGS must fail (the pre-receive hook declined); output in OUT.
push_rejected () {
	_out=$1
	shift
	if timeout 20 git push "$@" >"$_out" 2>&1
	then
		echo >&2 "git push $* was accepted:"
		cat >&2 "$_out"
		return 1
	fi
	grep -q "pre-receive hook declined" "$_out"
}

test_expect_success 'setup: both hooks installed' '
	setup_server_repo hr &&
	write_repo_config hr &&
	install_hook "$TRASH/hr.git" &&
	"$BBGITOPS" -c "$CONF" install-hook --pre-receive "$TRASH/hr.git" &&
	(
		cd hr &&
		add_file bytebase/0001_a.sql && commit_all "Add a" &&
		push_to ../push0.out origin main
	)
'

test_expect_success 'about 400 lines of garbage on post-receive'"'"'s stdin make one summary line' '
	python3 -c "import os, base64; print(base64.b64encode(os.urandom(15000)).decode())" | fold -w 50 >garbage &&
	test $(wc -l <garbage) -ge 400 &&
	(cd hr.git && GIT_DIR=. "$BBGITOPS" -c "$CONF" post-receive <../garbage) >out 2>err &&
	test_must_be_empty out &&
	test_line_count = 1 err &&
	test_grep "ignoring 40[0-9] malformed ref update lines on stdin (first: line 1)" err
'

test_expect_success 'pre-receive says the same in one line, counting lines with a NUL byte' '
	old=$(git --git-dir=hr.git rev-parse main) &&
	{ head -n 5 garbage; echo "$ZERO_OID $old refs/heads/other"; printf "x\0y\n"; } >mixed &&
	(cd hr.git && GIT_DIR=. "$BBGITOPS" -c "$CONF" pre-receive <../mixed) >out 2>err &&
	test_line_count = 1 err &&
	test_grep "ignoring 6 malformed ref update lines on stdin (first: line 1)" err
'

test_expect_success 'a symbolic link named like a migration is refused by pre-receive, naming it' '
	(
		cd hr &&
		ln -s ../README.md bytebase/0002_link.sql &&
		git add bytebase/0002_link.sql && commit_all "Link" &&
		push_rejected ../out origin main &&
		git reset -q --hard origin/main
	) &&
	test_grep "rejected refs/heads/main: bytebase/0002_link.sql: a symbolic link, not a file" out
'

test_expect_success 'a file replaced by a symbolic link is refused too' '
	(
		cd hr &&
		rm bytebase/0001_a.sql &&
		ln -s 0001_b.sql bytebase/0001_a.sql &&
		git add -A && commit_all "Type change" &&
		push_rejected ../out origin main &&
		git reset -q --hard origin/main
	) &&
	test_grep "bytebase/0001_a.sql: a symbolic link" out
'

test_expect_success 'a name with a newline and an escape sequence is printed quoted as git does, on one line' '
	(
		cd hr &&
		add_file "$(printf "bytebase/bad\\nname\\033[2J.sql")" && commit_all "Bad name" &&
		push_rejected ../out origin main &&
		git reset -q --hard origin/main
	) &&
	bbgitops_lines out >lines &&
	test_grep -F "remote: bbgitops: rejected refs/heads/main: \"bytebase/bad\\nname\\033[2J.sql\": not a migration name" lines &&
	! grep "$(printf "\\033")" out
'

test_expect_success 'issues prints migration names quoted as git does' '
	"$BBGITOPS" -c "$CONF" install-hook "$TRASH/hr.git" &&
	rm hr.git/hooks/pre-receive &&
	(
		cd hr &&
		add_file "$(printf "bytebase/0003_x\\033[31m.sql")" && commit_all "Odd name" &&
		push_to ../push.out origin main
	) &&
	bbgitops issues >out &&
	test_grep -F "\"bytebase/0003_x\\033[31m.sql\"  (version 0003, MIGRATE)" out &&
	! grep "$(printf "\\033")" out
'

if unshare -r -m true 2>/dev/null
then
	test_set_prereq TMPFS
fi

# SQLite says "disk I/O error" when the WAL index cannot grow; its message stays, in parentheses, after the cause.
test_expect_success TMPFS,SQLITE_STATE 'a full disk under state_dir is reported as "no space left on device"' '
	mkdir -p full &&
	git init -q --bare full.git &&
	git clone -q full.git fullwork 2>/dev/null &&
	write_config full.conf <<-EOF &&
	state_dir = "$TRASH/full/state";
	hook = { deliver = "none"; };
	repositories = (
	  { name = "full"; path = "$TRASH/full.git"; branch = "main"; base_directory = "bytebase"; }
	);
	EOF
	"$BBGITOPS" -c "$TRASH/full.conf" install-hook "$TRASH/full.git" &&
	cat >full.sh <<-EOF &&
	set -e
	mount -t tmpfs -o size=512k tmpfs "$TRASH/full"
	cd "$TRASH/fullwork"
	git config user.email t@example.com; git config user.name T
	mkdir -p bytebase
	echo "CREATE TABLE a (id int);" >bytebase/0001_a.sql
	git add -A; git commit -q -m a
	git push origin HEAD:main >"$TRASH/full-push1.out" 2>&1
	dd if=/dev/zero of="$TRASH/full/filler" bs=4k 2>/dev/null || true
	python3 -c "import sys; sys.stdout.write(\"x\" * 200000)" >bytebase/0002_big.sql
	git add -A; git commit -q -m big
	git push origin HEAD:main >"$TRASH/full-push2.out" 2>&1
	EOF
	unshare -r -m sh full.sh &&
	test_grep "main: 1 migration queued" full-push1.out &&
	bbgitops_lines full-push2.out >lines &&
	test_grep "state.db: no space left on device (" lines
'

test_done
