#!/bin/sh
test_description='provider comments survive SIGKILL: the deliverer killed at random moments while it comments
leaves, once it is let finish, exactly one comment per pull request and one per commit without one'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"
. "$TEST_SRCDIR/lib-provider.sh"

test_expect_success 'setup: fake Bytebase and fake provider' '
	start_fake v2 &&
	start_fake_provider
'

# round FLAVOUR SEED: three issues from pull request 7 (group_by file) and one commit without a pull request;
# the provider answers every request 0.1 s late; eight deliverers are killed with SIGKILL after random delays,
# then deliveries run to the end: exactly one comment on pull request 7 and one note on the commit.
round () {
	prov_set "$1" &&
	fake_reset &&
	fp POST /__fake/reset "{}" >/dev/null &&
	fp POST /__fake/settings "{\"page_size\": 2}" >/dev/null &&
	fp_token &&
	write_provider_config "group_by = \"file\"; comment_wait = 0;" &&
	setup_hr &&
	(
		cd hr &&
		mkdir -p bytebase &&
		for v in 0001 0002 0003
		do
			echo "CREATE TABLE t$v (id int);" >bytebase/${v}_t$v.sql || return 1
		done &&
		git add bytebase &&
		git commit -q -m "pull request 7" &&
		echo "CREATE TABLE t4 (id int);" >bytebase/0004_t4.sql &&
		git add bytebase &&
		git commit -q -m "straight to main" &&
		git push -q origin HEAD:main 2>/dev/null
	) &&
	A=$(commit_sha HEAD^) &&
	B=$(commit_sha) &&
	fp_pr 7 merged main "\"$A\"" "[\"$A\"]" &&
	fp POST /__fake/noise "{\"provider\": \"$P_KIND\", \"repo\": \"$P_REPO\", \"pr\": 7, \"count\": 5}" >/dev/null &&
	fp POST /__fake/faults "{\"provider\": \"$P_KIND\", \"delay\": 0.1, \"times\": 1000000}" >/dev/null &&
	kills=0 &&
	n=0 &&
	while test $n -lt 8
	do
		n=$((n + 1)) &&
		{ "$BBGITOPS" -c "$CONF" -q deliver --now >/dev/null 2>&1 & } &&
		pid=$! &&
		sleep $(python3 -c "import random; random.seed($2 * 100 + $n); print(random.uniform(0.05, 2.5))") &&
		if kill -9 $pid 2>/dev/null
		then
			kills=$((kills + 1))
		fi
		wait $pid 2>/dev/null
	done &&
	n=0 &&
	until test $n -ge 3
	do
		n=$((n + 1)) &&
		"$BBGITOPS" -c "$CONF" -q deliver --now >/dev/null 2>&1
		issues_json >issues.json &&
		left=$(json_query "len([i for i in d if i[\"status\"] != \"created\" or i[\"comment\"][\"status\"] != \"done\"])" \
			issues.json) &&
		test "$left" = 0 && break
	done &&
	echo "$1 seed $2: $kills of 8 deliverers killed" &&
	test "$left" = 0 &&
	# A comment tried more than once was interrupted by a kill while the deliverer was commenting.
	json_query "max(i[\"comment\"][\"attempts\"] for i in d)" issues.json >>"$TRASH_DIRECTORY/max-attempts" &&
	fp_comments comments.json &&
	python3 - comments.json "$B" "$1" <<-\EOF
	import json, sys
	cs = [c for c in json.load(open(sys.argv[1])) if c["user"] == "bbbot"]
	on_pr = [c for c in cs if c["where"] == "pr:7"]
	assert len(on_pr) == 1, [(c["where"], c["id"]) for c in cs]
	for v in ("0001", "0002", "0003"):
	    assert "| %s |" % v in on_pr[0]["body"], on_pr[0]["body"]
	on_commit = [c for c in cs if c["where"] == "commit:" + sys.argv[2]]
	if sys.argv[3] not in ("azure", "gitea"):
	    assert len(on_commit) == 1, [(c["where"], c["id"]) for c in cs]
	assert len(cs) == len(on_pr) + len(on_commit), cs
	EOF
	if test "$1" = azure || test "$1" = gitea
	then
		fp GET /__fake/statuses >statuses.json &&
		json_query "len([s for s in d if s[\"sha\"] == \"$B\"])" statuses.json >n &&
		echo 1 >expect &&
		test_cmp expect n
	fi
}

for seed in 1 2 3
do
	for F in github gitlab bitbucket azure gitea
	do
		test_expect_success "$F, seed $seed: SIGKILL at random moments still leaves one comment per pull request" "
			round $F $seed
		"
	done
done

test_expect_success 'the kills landed while comments were being made (a comment tried again) in most rounds' '
	awk "\$1 > 1" max-attempts >interrupted &&
	cat max-attempts &&
	test $(wc -l <interrupted) -ge 8
'

test_done
