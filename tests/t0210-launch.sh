#!/bin/sh
test_description='bbgitops starts bbgitops-deliver from its libexec directory ($BBGITOPS_EXEC_PATH overrides it) with
one argv, in three ways (exec, wait with a deadline, detached); the deliverer ignores SIGPIPE and has fds 0-2 open
whoever starts it'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

# A stand-in bbgitops-deliver in $TRASH/fakeexec that records how it was started: argv (one per line), its open
# descriptors above 2, what 0-2 point to, its session; then exits with $FAKE_EXIT (default 0).
test_expect_success 'setup: a recording stand-in for bbgitops-deliver' '
	mkdir fakeexec &&
	cat >fakeexec/bbgitops-deliver <<-EOF &&
	#!$PYTHON
	import os, sys
	# Probed with fstat before anything is opened: the descriptors the launcher left open.
	extra = []
	for fd in range(3, 1024):
	    try:
	        os.fstat(fd)
	        extra.append("%d -> %s" % (fd, os.readlink("/proc/self/fd/%d" % fd)))
	    except OSError:
	        pass
	std = [os.readlink("/proc/self/fd/%d" % fd) for fd in (0, 1, 2)]
	out = os.environ["FAKE_DELIVER_OUT"]
	open(out + ".fds", "w").write("".join(e + "\\n" for e in extra))
	open(out + ".std", "w").write("".join(e + "\\n" for e in std))
	open(out + ".sid", "w").write("%d\\n" % os.getsid(0))
	open(out + ".argv.tmp", "w").write("".join(a + "\\n" for a in sys.argv[1:]))
	os.rename(out + ".argv.tmp", out + ".argv")
	sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
	EOF
	chmod +x fakeexec/bbgitops-deliver &&
	start_fake v2 &&
	write_repo_config hr &&
	setup_server_repo hr &&
	install_hook "$TRASH/hr.git" >/dev/null
'

test_expect_success 'bbgitops deliver execs $BBGITOPS_EXEC_PATH/bbgitops-deliver with the configuration, verbosity and arguments' '
	FAKE_DELIVER_OUT=$TRASH/exec BBGITOPS_EXEC_PATH=$TRASH/fakeexec FAKE_EXIT=1 \
		test_expect_code 1 "$BBGITOPS" -c "$CONF" -v deliver --now --retry=3 extra &&
	cat >expect <<-EOF &&
	-c
	$CONF
	-v
	deliver
	--now
	--retry=3
	extra
	EOF
	test_cmp expect exec.argv
'

test_expect_success 'without BBGITOPS_EXEC_PATH, bbgitops looks in the configured libexec directory' '
	test -n "$BBGITOPS_LIBEXECDIR" &&
	if test -x "$BBGITOPS_LIBEXECDIR/bbgitops-deliver"
	then
		skip="installed"
	else
		(unset BBGITOPS_EXEC_PATH && test_expect_code 1 "$BBGITOPS" -c "$CONF" deliver 2>err) &&
		test_grep -F "bbgitops: cannot run $BBGITOPS_LIBEXECDIR/bbgitops-deliver: No such file or directory" err &&
		test_line_count = 1 err
	fi
'

test_expect_success 'an empty BBGITOPS_EXEC_PATH is no override' '
	if ! test -x "$BBGITOPS_LIBEXECDIR/bbgitops-deliver"
	then
		BBGITOPS_EXEC_PATH= test_expect_code 1 "$BBGITOPS" -c "$CONF" deliver 2>err &&
		test_grep -F "$BBGITOPS_LIBEXECDIR/bbgitops-deliver" err
	fi
'

test_expect_success 'background delivery: the helper runs in its own session, stdio on /dev/null, no other descriptor' '
	write_delivery_config 2 background "databases = [\"instances/test-pg/databases/hr\"];" &&
	(
		cd hr &&
		add_file bytebase/0001_a.sql && commit_all "A" &&
		FAKE_DELIVER_OUT=$TRASH/bg BBGITOPS_EXEC_PATH=$TRASH/fakeexec push_to ../push1.out origin HEAD:main
	) &&
	for i in $(test_seq 100); do test -f bg.argv && break; sleep 0.1; done &&
	printf "%s\n" -c "$CONF" -q deliver >expect &&
	test_cmp expect bg.argv &&
	printf "/dev/null\n/dev/null\n/dev/null\n" >expect &&
	test_cmp expect bg.std &&
	test_must_be_empty bg.fds &&
	test "$(cat bg.sid)" != "$(cut -d " " -f 6 /proc/$$/stat)"
'

test_expect_success 'background delivery with no helper to run: one line for the pusher, the push succeeds' '
	(
		cd hr &&
		add_file bytebase/0002_b.sql && commit_all "B" &&
		BBGITOPS_EXEC_PATH=$TRASH/nowhere push_to ../push2.out origin HEAD:main
	) &&
	bbgitops_lines push2.out >lines &&
	cat >expect <<-EOF &&
	remote: bbgitops: main: 1 migration queued as 1 rollout issue
	remote: bbgitops: cannot run $TRASH/nowhere/bbgitops-deliver: No such file or directory (is bbgitops installed? BBGITOPS_EXEC_PATH names the directory holding bbgitops-deliver); \`bbgitops poll\` or \`deliver\` will send the issues
	EOF
	test_cmp expect lines
'

test_expect_success 'inline delivery passes the time left as --deadline' '
	write_delivery_config 2 inline "databases = [\"instances/test-pg/databases/hr\"];" &&
	(
		cd hr &&
		add_file bytebase/0003_c.sql && commit_all "C" &&
		FAKE_DELIVER_OUT=$TRASH/inline BBGITOPS_EXEC_PATH=$TRASH/fakeexec push_to ../push3.out origin HEAD:main
	) &&
	sed -n "1,3p" inline.argv >head &&
	printf "%s\n" -c "$CONF" deliver >expect &&
	test_cmp expect head &&
	test "$(sed -n 4p inline.argv)" = --deadline &&
	test_line_count = 5 inline.argv &&
	left=$(sed -n 5p inline.argv) &&
	"$PYTHON" -c "import sys; v = float(sys.argv[1]); sys.exit(0 if 0 < v <= 2 else 1)" "$left"
'

test_expect_success 'inline delivery: the deliverer stops itself at the deadline and records why (it is not killed)' '
	write_delivery_config 2 inline "databases = [\"instances/test-pg/databases/hr\"];" &&
	setup_hr &&
	fake_fault "{\"delay\": 0.8}" &&
	push_migrations 1 &&
	bbgitops_lines "$TRASH/.push.out" >lines &&
	test_grep -v "did not finish in time" lines &&
	test_grep "issue 1: " lines &&
	test "$(issue_field 1 status)" = pending &&
	test "$(issue_field 1 attempts)" = 1 &&
	test "$(issue_field 1 last_error)" != null
'

test_expect_success 'poll: a helper that cannot run fails the poll with one line naming it' '
	wait_no_deliverer &&
	(
		BBGITOPS_EXEC_PATH=$TRASH/nowhere &&
		export BBGITOPS_EXEC_PATH &&
		test_expect_code 1 "$BBGITOPS" -c "$CONF" poll 2>err
	) &&
	grep "nowhere" err >lines &&
	test_line_count = 1 lines &&
	test_grep "^bbgitops: delivery: cannot run $TRASH/nowhere/bbgitops-deliver" lines
'

test_expect_success 'bbgitops-deliver ignores SIGPIPE itself: a closed stderr pipe does not kill a delivery' '
	fake_clear_faults &&
	write_delivery_config 2 none "databases = [\"instances/test-pg/databases/hr\"];" &&
	push_migrations 3 &&
	test "$(issue_count --status pending)" -ge 3 &&
	"$PYTHON" -c "
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
# restore_signals: the child starts with SIGPIPE at its default action, as from cron or a shell
p = subprocess.run(sys.argv[1:], stdout=w, stderr=w, restore_signals=True)
print(p.returncode)
" "$BBGITOPS_DELIVER" -c "$CONF" -v deliver --now >status &&
	echo 0 >expect &&
	test_cmp expect status &&
	test "$(issue_count --status pending)" = 0
'

test_expect_success 'bbgitops-deliver started with fds 0-2 closed puts /dev/null there before it opens anything' '
	push_migrations 1 &&
	test "$(issue_count --status pending)" -ge 1 &&
	fake_fault "{\"delay\": 1, \"times\": 1}" &&
	{ "$BBGITOPS_DELIVER" -c "$CONF" deliver --now <&- >&- 2>&- & pid=$!; } &&
	for i in $(test_seq 100); do ls -l /proc/$pid/fd 2>/dev/null | grep -q "socket:" && break; sleep 0.05; done &&
	readlink /proc/$pid/fd/0 /proc/$pid/fd/1 /proc/$pid/fd/2 >std &&
	printf "/dev/null\n/dev/null\n/dev/null\n" >expect &&
	test_cmp expect std &&
	{ wait $pid; echo $? >status; } &&
	fake_clear_faults &&
	echo 0 >expect &&
	test_cmp expect status
'

stop_fake
test_done
