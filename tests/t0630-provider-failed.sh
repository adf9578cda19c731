#!/bin/sh
test_description='a comment that fails permanently is "failed" and holds nothing back: later migrations of the
branch are still delivered; the comment is shown in issues, and can be retried or skipped like an issue'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"
. "$TEST_SRCDIR/lib-provider.sh"

test_expect_success 'setup: a token that may read but not comment' '
	start_fake v2 &&
	start_fake_provider &&
	prov_set github &&
	fp_token "[\"read\"]" &&
	write_provider_config "comment_wait = 0;" &&
	setup_hr &&
	push_migrations 1 &&
	A=$(commit_sha) &&
	fp_pr 7 merged main "\"$A\"" "[\"$A\"]" &&
	echo "$A" >A
'

test_expect_success 'the provider refuses for good: the comment is failed with its words, the issue created' '
	test_expect_code 1 bbgitops deliver --now >out 2>&1 &&
	issues_json >issues.json &&
	json_query "[d[0][\"status\"], d[0][\"comment\"][\"status\"], d[0][\"comment\"][\"attempts\"]]" issues.json >got &&
	printf "created\nfailed\n1\n" >expect &&
	test_cmp expect got &&
	json_query "d[0][\"comment\"][\"last_error\"]" issues.json >err &&
	test_grep "HTTP 403" err &&
	test_grep "Resource not accessible by personal access token" err
'

test_expect_success 'later migrations of the branch are still delivered' '
	push_migrations 2 &&
	B=$(commit_sha) &&
	fp_pr 8 merged main "\"$B\"" "[\"$(commit_sha HEAD^)\", \"$B\"]" &&
	test_expect_code 1 bbgitops deliver --now >out 2>&1 &&
	issue_count --status created >n &&
	echo 3 >expect &&
	test_cmp expect n
'

test_expect_success 'the table of issues shows the failed comment' '
	bbgitops issues >table &&
	test_grep "comment: failed (1 attempt): .*HTTP 403" table
'

test_expect_success 'a failed comment is retried on demand once the token may comment: then done' '
	fp_token &&
	bbgitops deliver --retry-comment 1 >out 2>&1 &&
	issues_json >issues.json &&
	json_query "d[0][\"comment\"][\"status\"]" issues.json >got &&
	echo done >expect &&
	test_cmp expect got &&
	json_query "[i[\"comment\"][\"status\"] for i in d[1:]]" issues.json >others &&
	printf "failed\nfailed\n" >expect &&
	test_cmp expect others &&
	fp_comments comments.json &&
	json_query "[c[\"where\"] for c in d]" comments.json >where &&
	echo pr:7 >expect &&
	test_cmp expect where &&
	bbgitops deliver --retry-comment 3 >out 2>&1 &&
	fp_comments comments.json &&
	json_query "[c[\"where\"] for c in d]" comments.json >where &&
	printf "pr:7\npr:8\n" >expect &&
	test_cmp expect where
'

test_expect_success 'skip gives a comment up; retry and skip refuse what does not fit, naming why' '
	fp_token "[\"read\"]" &&
	push_migrations 1 &&
	test_expect_code 1 bbgitops deliver --now >out 2>&1 &&
	id=$(issues_json | json_query "d[-1][\"id\"]") &&
	bbgitops deliver --skip-comment "$id" >out 2>&1 &&
	issues_json | json_query "d[-1][\"comment\"][\"status\"]" >got &&
	echo skipped >expect &&
	test_cmp expect got &&
	test_expect_code 1 bbgitops deliver --skip-comment 1 >out 2>&1 &&
	test_grep "is done: nothing to skip" out &&
	write_provider_config "comment = false;" &&
	test_expect_code 1 bbgitops deliver --retry-comment 999 >out 2>&1 &&
	test_grep "issue 999 has no pull request comment" out
'

test_expect_success 'a queued comment whose repository turns comment = false is skipped, not sent' '
	write_provider_config "comment_wait = 3600;" &&
	fp_token &&
	push_migrations 1 &&
	test_expect_code 1 bbgitops deliver --now >out 2>&1 &&
	issues_json | json_query "d[-1][\"comment\"][\"status\"]" >got &&
	echo pending >expect &&
	test_cmp expect got &&
	fp GET /__fake/requests >before.json &&
	write_provider_config "comment = false;" &&
	bbgitops deliver --now >out 2>&1 &&
	issues_json | json_query "d[-1][\"comment\"][\"status\"]" >got &&
	echo skipped >expect &&
	test_cmp expect got &&
	fp GET /__fake/requests >after.json &&
	json_query "len(d)" before.json >n1 &&
	json_query "len(d)" after.json >n2 &&
	test_cmp n1 n2
'

test_expect_success 'status --prometheus counts the comments by status, as issues --json shows them' '
	bbgitops status --prometheus >status.prom &&
	prom_python= &&
	for py in "$PYTHON" /usr/bin/python3
	do
		if "$py" -c "import prometheus_client.parser" 2>/dev/null
		then
			prom_python=$py && break
		fi
	done &&
	if test -n "$prom_python"
	then
		"$prom_python" "$TEST_SRCDIR/prom-samples.py" status.prom >samples
	else
		grep "^bbgitops_" status.prom >samples
	fi &&
	sed -n "s/^bbgitops_comments{\(.*\)} \([0-9]*\)$/\1 \2/p" samples | sort >actual &&
	issues_json >issues.json &&
	"$PYTHON" - issues.json <<-\EOF | sort >expect &&
	import json, sys
	counts = {}
	for i in json.load(open(sys.argv[1])):
	    st = i["comment"]["status"] if i["comment"] else None
	    counts.setdefault(i["repository"], {"pending": 0, "done": 0, "failed": 0, "skipped": 0})
	    if st:
	        counts[i["repository"]][st] += 1
	for r, c in counts.items():
	    for st, n in c.items():
	        print("repository=\"%s\",status=\"%s\" %d" % (r, st, n))
	EOF
	test_cmp expect actual &&
	test "$(grep -c -v " 0$" actual)" -ge 2
'

test_done
