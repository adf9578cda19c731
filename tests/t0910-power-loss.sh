#!/bin/sh
test_description='the hook does not sync its commits (synchronous = NORMAL, the WAL left in place): a power failure
that loses its last transactions loses nothing for good, and duplicates nothing (issue 11)

A power failure is simulated the way the disk can be left by one: the WAL, which SQLite only ever appends to between
checkpoints, cut back to the length it had after an earlier push (later commits never reached the disk), or cut in
the middle of a transaction. The cursor goes back with the issues it was committed with, so the next push, or the
next poll, walks from the older cursor and queues the lost commits again, each exactly once.'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

test_have_prereq SQLITE_STATE ||
test_skip_all "SQLite's WAL after a power failure: the state is in PostgreSQL (BBGITOPS_TEST_STATE=pg)"

WAL=$STATE_DIR/state.db-wal

# push_m FILE: commits and pushes one migration bytebase/FILE from the hr clone.
push_m () {
	(cd hr && add_file "bytebase/$1" && commit_all "Add $1" && push_to "../push-$1.out" origin main)
}

# queued: "commit path" of every queued file, sorted, one line each.
queued () {
	issues_json >queued.json &&
	json_query '["%s %s" % (i["commit"], f["path"]) for i in d for f in i["files"]]' queued.json | sort
}

# power_loss SIZE: what the disk holds after a power failure when nothing written to the WAL after it had SIZE
# bytes was synced: the WAL cut back, the shared-memory index gone with the machine (no process holds it).
power_loss () {
	truncate -s "$1" "$WAL" &&
	rm -f "$STATE_DIR/state.db-shm"
}

# expect_files F...: "commit path" of the commits that added bytebase/F.sql, sorted (what git says must be queued).
expect_files () {
	(cd hr && for f
		do
			echo "$(git log -1 --format=%H -- "bytebase/$f.sql") bytebase/$f.sql"
		done) | sort
}

cursor () {
	sqlite3 "$STATE_DIR/state.db" "SELECT commit_id FROM cursors WHERE repository = 'hr' AND branch = 'main'"
}

# No command reads the state between the pushes and the simulated failure: the last connection to close
# checkpoints the WAL (synced) and removes it, after which there is nothing left to lose.
test_expect_success 'setup: a repository with the hook, also watched by the poller' '
	setup_server_repo hr &&
	write_repo_config hr "start = \"all\";" &&
	install_hook "$TRASH/hr.git" &&
	push_m 0001_a.sql
'

test_expect_success 'the hook leaves its commits in the WAL, unsynced and uncheckpointed' '
	test -s "$WAL" &&
	wc -c <"$WAL" >size.1 &&
	push_m 0002_b.sql &&
	test "$(wc -c <"$WAL")" -gt "$(cat size.1)"
'

test_expect_success 'a power failure losing the last two pushes: their issues and the cursor go back together' '
	wc -c <"$WAL" >size.2 &&
	(cd hr && git rev-parse HEAD) >cursor.2 &&
	push_m 0003_c.sql &&
	push_m 0004_d.sql &&
	test "$(wc -c <"$WAL")" -gt "$(cat size.2)" &&
	power_loss "$(cat size.2)" &&
	expect_files 0001_a 0002_b >expect &&
	queued >actual &&
	test_cmp expect actual &&
	cursor >actual &&
	test_cmp cursor.2 actual
'

test_expect_success 'the next push catches up: every lost migration queued again, once, on its own commit' '
	push_m 0005_e.sql &&
	expect_files 0001_a 0002_b 0003_c 0004_d 0005_e >expect &&
	queued >actual &&
	test_cmp expect actual &&
	test "$(issue_count)" = 5
'

test_expect_success 'a failure in the middle of a transaction loses it whole; the poller catches up' '
	push_m 0006_f.sql &&
	wc -c <"$WAL" >size.6 &&
	push_m 0007_g.sql &&
	power_loss "$(( ($(cat size.6) + $(wc -c <"$WAL")) / 2 ))" &&
	expect_files 0001_a 0002_b 0003_c 0004_d 0005_e 0006_f >expect &&
	queued >actual &&
	test_cmp expect actual &&
	bbgitops poll &&
	expect_files 0001_a 0002_b 0003_c 0004_d 0005_e 0006_f 0007_g >expect &&
	queued >actual &&
	test_cmp expect actual &&
	test "$(issue_count)" = 7 &&
	bbgitops poll &&
	queued >again &&
	test_cmp expect again
'

test_expect_success 'the state database is intact' '
	sqlite3 "$STATE_DIR/state.db" "PRAGMA integrity_check" >actual &&
	echo ok >expect &&
	test_cmp expect actual
'

test_done
