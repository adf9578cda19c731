#!/bin/sh
test_description='git'"'"'s commit-graph is only a cache: with none, a full one, one that misses the newest commits, a
split chain, or a damaged one, backfill lists exactly the issues git log and the naming rules give (issue 11)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

GEN_HISTORY=$TEST_SRCDIR/../bench/gen-history
ORACLE=$TEST_SRCDIR/backfill-oracle.py

# replay_matches_oracle: backfill --dry-run --json of the whole history is what the oracle computed.
replay_matches_oracle () {
	bbgitops backfill big --dry-run --json >dry.json &&
	python3 "$ORACLE" - - --json dry.json >actual &&
	test_cmp expect actual
}

test_expect_success 'setup: a generated history of 3,000 first-parent commits with merges, no commit-graph' '
	"$GEN_HISTORY" 3000 big.git &&
	rm -rf big.git/objects/info/commit-graph big.git/objects/info/commit-graphs &&
	write_config <<-EOF &&
	repositories = (
	  { name = "big"; path = "$TRASH/big.git"; branch = "main"; base_directory = "bytebase"; project = "b"; }
	);
	EOF
	python3 "$ORACLE" big.git main bytebase >expect &&
	test "$(wc -l <expect)" -gt 100 &&
	replay_matches_oracle
'

test_expect_success 'a commit-graph of the whole history: the same issues' '
	git --git-dir=big.git commit-graph write --reachable &&
	test -s big.git/objects/info/commit-graph &&
	replay_matches_oracle
'

test_expect_success 'a commit-graph that ends 700 commits before the tip: the same issues' '
	rm big.git/objects/info/commit-graph &&
	git --git-dir=big.git rev-parse main~700 | git --git-dir=big.git commit-graph write --stdin-commits &&
	git --git-dir=big.git rev-parse main >tip &&
	replay_matches_oracle
'

test_expect_success 'a split commit-graph (a chain of two layers): the same issues' '
	rm big.git/objects/info/commit-graph &&
	git --git-dir=big.git rev-parse main~1500 | git --git-dir=big.git commit-graph write --split --stdin-commits &&
	git --git-dir=big.git commit-graph write --split=no-merge --reachable &&
	test_line_count = 2 big.git/objects/info/commit-graphs/commit-graph-chain &&
	replay_matches_oracle
'

test_expect_success 'a chain naming a missing layer: ignored, the same issues' '
	echo 0123456789abcdef0123456789abcdef01234567 >>big.git/objects/info/commit-graphs/commit-graph-chain &&
	replay_matches_oracle &&
	rm -rf big.git/objects/info/commit-graphs
'

test_expect_success 'a truncated commit-graph: ignored, the same issues' '
	git --git-dir=big.git commit-graph write --reachable &&
	size=$(wc -c <big.git/objects/info/commit-graph) &&
	head -c $((size / 2)) big.git/objects/info/commit-graph >half &&
	chmod u+w big.git/objects/info/commit-graph &&
	cp half big.git/objects/info/commit-graph &&
	replay_matches_oracle
'

test_expect_success 'a commit-graph with a wrong signature or hash version: ignored, the same issues' '
	git --git-dir=big.git commit-graph write --reachable &&
	chmod u+w big.git/objects/info/commit-graph &&
	printf XGPH | dd of=big.git/objects/info/commit-graph bs=1 count=4 conv=notrunc 2>/dev/null &&
	replay_matches_oracle &&
	printf "CGPH\001\002" | dd of=big.git/objects/info/commit-graph bs=1 count=6 conv=notrunc 2>/dev/null &&
	replay_matches_oracle
'

test_done
