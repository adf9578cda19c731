#!/bin/sh
test_description='poll: remote repositories over git:// (git daemon) and HTTP basic auth (git http-backend) are
mirrored, fetched only when a watched branch moved, and a failing remote fails alone with its name'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-remote.sh"

# write_remote_config [EXTRA ENTRIES]: viagit (git daemon) and viahttp (HTTP, GitHub-style token), start = "all".
write_remote_config () {
	write_config <<-EOF
	poll = { interval = 60; jitter = 0; timeout = 3; };
	repositories = (
	  $1
	  { name = "viagit"; url = "$DAEMON_URL/d.git"; branch = "main"; base_directory = "bytebase";
	    project = "d"; start = "all"; },
	  { name = "viahttp"; url = "$HTTP_URL/h.git"; provider = "github"; token_file = "$TRASH/token";
	    branch = "main"; base_directory = "bytebase"; project = "h"; start = "all"; }
	);
	EOF
}

test_expect_success 'setup: two served repositories with one migration each, git daemon and http-backend up' '
	mkdir srv &&
	for r in d h
	do
		git init -q --bare srv/$r.git &&
		git clone -q srv/$r.git $r 2>/dev/null &&
		push_migration $r bytebase/0001_init.sql || return 1
	done &&
	write_secret token s3cr3t-token-value &&
	write_secret bad-token not-the-token &&
	start_git_daemon "$TRASH/srv" &&
	start_http_git "$TRASH/srv" "$TRASH/token" &&
	write_remote_config
'

test_expect_success 'poll mirrors both remotes (full bare mirrors) and queues their migrations' '
	bbgitops poll 2>err &&
	cat >expect <<-EOF &&
	viagit bytebase/0001_init.sql
	viahttp bytebase/0001_init.sql
	EOF
	issue_paths >actual &&
	test_cmp expect actual &&
	test "$(git --git-dir=state/mirrors/viagit.git rev-parse --is-bare-repository)" = true &&
	test "$(git --git-dir=state/mirrors/viagit.git rev-parse main)" = "$(git --git-dir=srv/d.git rev-parse main)" &&
	test "$(git --git-dir=state/mirrors/viahttp.git rev-parse main)" = "$(git --git-dir=srv/h.git rev-parse main)" &&
	test ! -f state/mirrors/viagit.git/shallow &&
	git --git-dir=state/mirrors/viahttp.git rev-parse refs/bbgitops/cursors/main >pinned &&
	git --git-dir=srv/h.git rev-parse main >expect &&
	test_cmp expect pinned
'

test_expect_success 'the token is presented as GitHub expects (user x-access-token) and never printed' '
	grep " 200 x-access-token$" http.log &&
	! grep -v " 200 x-access-token$" http.log | grep " 200 " &&
	! grep s3cr3t err
'

test_expect_success 'an unchanged remote is listed but not fetched (no upload-pack POST, no want line)' '
	cp http.log http-before.log &&
	grep -c "want " daemon-packet.log >wants-before &&
	bbgitops poll 2>err &&
	test_must_be_empty err &&
	sed -n "$(($(wc -l <http-before.log) + 1)),\$p" http.log >new-requests &&
	test_grep "^GET /h.git/info/refs?service=git-upload-pack 200" new-requests &&
	test_grep -v "^POST" new-requests &&
	grep -c "want " daemon-packet.log >wants-after &&
	test_cmp wants-before wants-after
'

test_expect_success 'a moved branch is fetched over both protocols and its new migration queued once' '
	cp http.log http-before.log &&
	push_migration d bytebase/0002_more.sql &&
	push_migration h bytebase/0002_more.sql &&
	bbgitops poll &&
	sed -n "$(($(wc -l <http-before.log) + 1)),\$p" http.log >new-requests &&
	test_grep "^POST /h.git/git-upload-pack 200" new-requests &&
	grep -c "want " daemon-packet.log >wants-after &&
	! test_cmp wants-before wants-after &&
	cat >expect <<-EOF &&
	viagit bytebase/0001_init.sql
	viahttp bytebase/0001_init.sql
	viagit bytebase/0002_more.sql
	viahttp bytebase/0002_more.sql
	EOF
	issue_paths >actual &&
	test_cmp expect actual &&
	bbgitops poll &&
	issue_paths >actual &&
	test_cmp expect actual
'

test_expect_success 'a wrong token fails that repository by name after one attempt; the others still run; exit 1' '
	write_remote_config "{ name = \"wrongtoken\"; url = \"$HTTP_URL/h.git\"; provider = \"gitlab\";
	    token_file = \"$TRASH/bad-token\"; branch = \"main\"; base_directory = \"bytebase\"; project = \"w\"; }," &&
	push_migration d bytebase/0003_third.sql &&
	push_migration h bytebase/0003_third.sql &&
	cp http.log http-before.log &&
	test_expect_code 1 timeout 20 "$BBGITOPS" -c "$CONF" poll 2>err &&
	test_grep "wrongtoken: listing $HTTP_URL/h.git: authentication failed" err &&
	! grep -e not-the-token -e s3cr3t err &&
	sed -n "$(($(wc -l <http-before.log) + 1)),\$p" http.log >new-requests &&
	test "$(grep -c " 401 oauth2$" new-requests)" = 1 &&
	issue_paths >actual &&
	test_grep "^viagit bytebase/0003_third.sql$" actual &&
	test_grep "^viahttp bytebase/0003_third.sql$" actual &&
	test_grep -v "^wrongtoken" actual
'

test_expect_success 'a server that never answers is abandoned after poll.timeout, naming the repository' '
	start_stalling_http &&
	write_remote_config "{ name = \"stalled\"; url = \"$STALL_URL/s.git\"; branch = \"main\";
	    base_directory = \"bytebase\"; project = \"s\"; }," &&
	push_migration h bytebase/0004_fourth.sql &&
	start=$(date +%s) &&
	test_expect_code 1 timeout 20 "$BBGITOPS" -c "$CONF" poll 2>err &&
	end=$(date +%s) &&
	test $((end - start)) -le 8 &&
	test_grep "stalled: listing $STALL_URL/s.git: timed out after 3 s" err &&
	issue_paths >actual &&
	test_grep "^viahttp bytebase/0004_fourth.sql$" actual
'

test_expect_success 'the failures are recorded for status' '
	bbgitops status --json >status.json &&
	test_grep "stalled" status.json &&
	test_grep "wrongtoken" status.json
'

test_expect_success 'a poller killed while writing a mirror left git'"'"'s lock files: the next poll removes them, catches up' '
	write_remote_config &&
	m=state/mirrors/viagit.git &&
	: >$m/refs/heads/main.lock &&
	: >$m/packed-refs.lock &&
	: >$m/config.lock &&
	mkdir -p $m/refs/bbgitops/cursors &&
	: >$m/refs/bbgitops/cursors/main.lock &&
	echo half-a-pack >$m/objects/pack/pack_git2_Zx81Qa &&
	mkdir state/mirrors/viagit.git.tmp-4242 &&
	: >state/mirrors/viagit.git.tmp-4242/HEAD &&
	push_migration d bytebase/0005_after_kill.sql &&
	bbgitops poll 2>err &&
	test_grep "removed .*/viagit.git/refs/heads/main.lock, left by a bbgitops that was killed" err &&
	for f in refs/heads/main.lock packed-refs.lock config.lock refs/bbgitops/cursors/main.lock \
		objects/pack/pack_git2_Zx81Qa
	do
		test ! -e $m/$f || return 1
	done &&
	test ! -e state/mirrors/viagit.git.tmp-4242 &&
	test "$(git --git-dir=$m rev-parse main)" = "$(git --git-dir=srv/d.git rev-parse main)" &&
	test "$(git --git-dir=$m rev-parse refs/bbgitops/cursors/main)" = "$(git --git-dir=srv/d.git rev-parse main)" &&
	issue_paths >actual &&
	test "$(grep -c "^viagit bytebase/0005_after_kill.sql$" actual)" = 1
'

test_expect_success 'a mirror another bbgitops is writing is waited for; past poll.timeout it fails alone, its locks kept' '
	m=state/mirrors/viagit.git &&
	push_migration d bytebase/0006_while_busy.sql &&
	rm -f held &&
	{ flock -n state/mirrors/viagit.lock sh -c ": >held; sleep 1" & holder=$!; } &&
	while ! test -e held; do sleep 0.05; done &&
	bbgitops -v poll 2>err &&
	wait $holder &&
	test_grep "viagit: waiting for .*/mirrors/viagit.lock" err &&
	issue_paths >actual &&
	test "$(grep -c "^viagit bytebase/0006_while_busy.sql$" actual)" = 1 &&

	push_migration d bytebase/0007_long_busy.sql &&
	push_migration h bytebase/0007_long_busy.sql &&
	rm -f held &&
	{ flock -n state/mirrors/viagit.lock sh -c ": >$m/refs/heads/main.lock; : >held; sleep 6" & holder=$!; } &&
	while ! test -e held; do sleep 0.05; done &&
	test_expect_code 1 bbgitops poll 2>err &&
	test_grep "viagit: the mirror is busy (another bbgitops holds .*/mirrors/viagit.lock)" err &&
	test -e $m/refs/heads/main.lock &&
	issue_paths >actual &&
	test_grep -v "^viagit bytebase/0007_long_busy.sql$" actual &&
	test_grep "^viahttp bytebase/0007_long_busy.sql$" actual &&
	wait $holder &&
	bbgitops poll 2>err &&
	issue_paths >actual &&
	test "$(grep -c "^viagit bytebase/0007_long_busy.sql$" actual)" = 1
'

test_expect_success 'a poller SIGKILLed at 30 random moments of its fetches: the next poll runs clean, each migration once' '
	write_remote_config &&
	for i in $(test_seq 30)
	do
		(
			cd d &&
			add_file "bytebase/01$(printf %02d $i)_k.sql" "CREATE TABLE k$i (id int);" &&
			git commit -q -m "k$i" &&
			git push -q origin HEAD:main HEAD:refs/heads/k$i 2>/dev/null
		) &&
		{ "$BBGITOPS" -c "$CONF" -q poll >/dev/null 2>&1 & p=$!; } &&
		sleep "0.0$(($(od -An -N1 -tu1 /dev/urandom) % 8))" &&
		{ kill -9 $p 2>/dev/null; wait $p 2>/dev/null; true; } || return 1
	done &&
	find state/mirrors -name "*.lock" -path "*.git/*" >left-behind &&
	test_diag "git lock files left by the kills: $(wc -l <left-behind)" &&
	bbgitops poll 2>err &&
	test "$(git --git-dir=state/mirrors/viagit.git rev-parse main)" = "$(git --git-dir=srv/d.git rev-parse main)" &&
	issue_paths >actual &&
	for i in $(test_seq 30)
	do
		test "$(grep -c "^viagit bytebase/01$(printf %02d $i)_k.sql$" actual)" = 1 || return 1
	done
'

test_done
