#!/bin/sh
test_description='poll: first runs (start = tip | all), force-pushes on a remote (the mirror pins the cursor), and a
cursor whose commit was pruned from a local repository (re-baselined with a warning, never wedged)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-remote.sh"

test_expect_success 'setup: a remote (git daemon) with two migrations, a local repository with two' '
	mkdir srv &&
	git init -q --bare srv/r.git &&
	git clone -q srv/r.git r 2>/dev/null &&
	push_migration r bytebase/0001_init.sql &&
	push_migration r bytebase/0002_second.sql &&
	git init -q --bare loc.git &&
	git clone -q loc.git loc 2>/dev/null &&
	push_migration loc bytebase/0001_init.sql &&
	push_migration loc bytebase/0002_second.sql &&
	start_git_daemon "$TRASH/srv" &&
	write_config <<-EOF
	poll = { interval = 60; jitter = 0; timeout = 10; };
	repositories = (
	  { name = "tipstart"; url = "$DAEMON_URL/r.git"; branch = "main"; base_directory = "bytebase";
	    project = "r"; start = "tip"; },
	  { name = "allstart"; url = "$DAEMON_URL/r.git"; branch = "main"; base_directory = "bytebase";
	    project = "r"; start = "all"; },
	  { name = "loc"; path = "$TRASH/loc.git"; branch = "main"; base_directory = "bytebase"; project = "l";
	    start = "all"; }
	);
	EOF
'

test_expect_success 'first poll: start = "tip" reports nothing, start = "all" the whole first-parent history' '
	bbgitops poll 2>err &&
	test_grep "tipstart@main: first poll" err &&
	cat >expect <<-EOF &&
	allstart bytebase/0001_init.sql
	allstart bytebase/0002_second.sql
	loc bytebase/0001_init.sql
	loc bytebase/0002_second.sql
	EOF
	issue_paths >actual &&
	test_cmp expect actual
'

test_expect_success 'force-push on the remote: the pinned cursor survives the pruning fetch; only new files count' '
	git --git-dir=srv/r.git rev-parse main >old-tip &&
	(
		cd r &&
		git reset -q --hard HEAD~1 &&
		add_file bytebase/0002_second.sql "CREATE TABLE t_0002_second (id int);" &&
		add_file bytebase/0003_third.sql &&
		git commit -q -m "Second and third, rewritten" &&
		git push -q -f origin HEAD:main 2>/dev/null
	) &&
	bbgitops poll &&
	git --git-dir=srv/r.git rev-parse main >new-tip &&
	! test_cmp old-tip new-tip &&
	git --git-dir=state/mirrors/allstart.git rev-parse main refs/bbgitops/cursors/main >pins &&
	cat new-tip new-tip >expect &&
	test_cmp expect pins &&
	issue_paths --repo allstart >actual &&
	cat >expect <<-EOF &&
	allstart bytebase/0001_init.sql
	allstart bytebase/0002_second.sql
	allstart bytebase/0003_third.sql
	EOF
	test_cmp expect actual &&
	issue_paths --repo tipstart >actual &&
	test_grep "^tipstart bytebase/0003_third.sql$" actual
'

test_expect_success 'a cursor whose commit was pruned is re-baselined with a warning in status' '
	git --git-dir=loc.git rev-parse main >old-cursor &&
	(
		cd loc &&
		git reset -q --hard HEAD~1 &&
		add_file bytebase/0005_rewritten.sql &&
		git commit -q -m "Rewritten history" &&
		git push -q -f origin HEAD:main 2>/dev/null
	) &&
	git --git-dir=loc.git reflog expire --expire=now --all &&
	git --git-dir=loc.git gc -q --prune=now &&
	test_must_fail git --git-dir=loc.git cat-file -e "$(cat old-cursor)" &&
	bbgitops poll 2>err &&
	test_grep "loc@main: .*re-baselined" err &&
	bbgitops status --json >status.json &&
	json_query "[e[\"level\"] for e in d[\"events\"] if e[\"repository\"] == \"loc\"]" status.json >levels &&
	test_grep "^warning$" levels &&
	issue_paths --repo loc >actual &&
	test_grep -v 0005_rewritten actual
'

test_expect_success 'after the re-baseline the branch is followed again (no wedge)' '
	push_migration loc bytebase/0006_after.sql &&
	bbgitops poll 2>err &&
	test_grep -v "re-baselined" err &&
	issue_paths --repo loc >actual &&
	test_grep "^loc bytebase/0006_after.sql$" actual &&
	git --git-dir=loc.git rev-parse main >expect &&
	bbgitops status --json >status.json &&
	test_grep "$(cat expect)" status.json
'

test_expect_success 'a deleted watched branch drops its cursor and its pin' '
	(cd r && git push -q origin HEAD:refs/heads/main2 2>/dev/null) &&
	write_config <<-EOF &&
	repositories = (
	  { name = "allstart"; url = "$DAEMON_URL/r.git"; branch = "main*"; base_directory = "bytebase";
	    project = "r"; start = "all"; }
	);
	EOF
	bbgitops poll &&
	git --git-dir=state/mirrors/allstart.git rev-parse --verify -q refs/bbgitops/cursors/main2 &&
	git --git-dir=srv/r.git branch -q -D main2 &&
	bbgitops poll 2>err &&
	test_grep "allstart@main2: branch deleted" err &&
	test_must_fail git --git-dir=state/mirrors/allstart.git rev-parse --verify -q refs/bbgitops/cursors/main2 &&
	test_must_fail git --git-dir=state/mirrors/allstart.git rev-parse --verify -q refs/heads/main2
'

test_done
