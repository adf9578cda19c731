#!/bin/sh
test_description='backfill: replaying 20,000 first-parent commits (merges, renames, re-adds, decoys) queues exactly
what git log and the naming rules say; --dry-run writes nothing; a second backfill queues nothing; cursors stay'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

GEN_HISTORY=$TEST_SRCDIR/../bench/gen-history
ORACLE=$TEST_SRCDIR/backfill-oracle.py

# state_digest: checksum of the state database files (the database's dump under PostgreSQL) and of the issue list.
state_digest () {
	if test "$BBGITOPS_TEST_STATE" = pg
	then
		state_dump | cksum
	else
		cat state/state.db state/state.db-wal 2>/dev/null | cksum
	fi &&
	issues_json >"$TRASH/.digest.json" &&
	cksum <"$TRASH/.digest.json"
}

# cursor_of REPO BRANCH: the stored cursor (read-only), or "none".
cursor_of () {
	_c=$(state_sql "SELECT commit_id FROM cursors WHERE repository = '$1' AND branch = '$2'") &&
	echo "${_c:-none}"
}

test_expect_success 'setup: a generated history of 20,000 first-parent commits, polled once (cursor at the tip)' '
	"$GEN_HISTORY" 20000 big.git &&
	test "$(git --git-dir=big.git rev-list --first-parent --count main)" = 20000 &&
	test "$(git --git-dir=big.git rev-list --merges --first-parent --count main)" -gt 500 &&
	write_config <<-EOF &&
	repositories = (
	  { name = "big"; path = "$TRASH/big.git"; branch = "main"; base_directory = "bytebase"; project = "b"; },
	  { name = "globbed"; path = "$TRASH/big.git"; branch = "ma*"; base_directory = "bytebase"; project = "g"; }
	);
	EOF
	bbgitops poll big &&
	git --git-dir=big.git rev-parse main >tip &&
	cursor_of big main >cursor &&
	test_cmp tip cursor &&
	test "$(issue_count)" = 0
'

test_expect_success 'backfill --dry-run --json lists exactly the issues computed from git log by the rules' '
	python3 "$ORACLE" big.git main bytebase >expect &&
	test "$(wc -l <expect)" -gt 1000 &&
	state_digest >digest-before &&
	bbgitops backfill big --dry-run --json >dry.json &&
	python3 "$ORACLE" - - --json dry.json >actual &&
	test_cmp expect actual &&
	json_query "sorted(set(str(i[\"id\"]) + str(i[\"status\"]) for i in d))" dry.json >ids &&
	echo NoneNone >expect-ids &&
	test_cmp expect-ids ids
'

test_expect_success '--dry-run changes nothing in the state database' '
	bbgitops backfill big --dry-run >summary &&
	test_grep "would be queued (dry run)" summary &&
	state_digest >digest-after &&
	test_cmp digest-before digest-after
'

test_expect_success '--from and --to limit the replay to that first-parent range' '
	bbgitops backfill big --dry-run --json --from main~400 --to main~200 >range.json &&
	git --git-dir=big.git rev-list --first-parent main~400..main~200 >in-range &&
	json_query "[i[\"commit\"] for i in d]" range.json >range-commits &&
	test -s range-commits &&
	! grep -v -x -F -f in-range range-commits
'

test_expect_success 'backfill queues the same issues, leaves the cursor alone, and says how many' '
	bbgitops backfill big >summary &&
	n=$(wc -l <expect) &&
	test_grep "big@main: 20000 commits scanned, .* in $n rollout issues queued" summary &&
	issues_json >queued.json &&
	python3 "$ORACLE" - - --json queued.json >actual &&
	test_cmp expect actual &&
	json_query "sorted(set(i[\"status\"] for i in d))" queued.json >statuses &&
	echo local >expect-statuses &&
	test_cmp expect-statuses statuses &&
	cursor_of big main >cursor &&
	test_cmp tip cursor
'

test_expect_success 'a second backfill queues nothing' '
	state_digest >digest-before &&
	bbgitops backfill big --json >again.json &&
	test "$(json_query "len(d)" again.json)" = 0 &&
	bbgitops backfill big >summary &&
	test_grep "0 migrations in 0 rollout issues queued" summary &&
	issues_json >after.json &&
	cksum <after.json >after &&
	sed -n 2p digest-before >before &&
	test_cmp before after
'

test_expect_success 'a glob branch needs --branch; an unwatched branch or unknown repository is a usage error' '
	test_expect_code 2 bbgitops backfill globbed --dry-run 2>err &&
	test_grep "name one with --branch" err &&
	bbgitops backfill globbed --branch main --dry-run >summary &&
	test_grep "globbed@main: 20000 commits scanned" summary &&
	test_expect_code 2 bbgitops backfill big --branch other --dry-run 2>err &&
	test_grep "does not watch branch other" err &&
	test_expect_code 2 bbgitops backfill nosuch 2>err &&
	test_expect_code 1 bbgitops backfill big --to no-such-rev --dry-run 2>err &&
	test_grep "no-such-rev" err
'

test_done
