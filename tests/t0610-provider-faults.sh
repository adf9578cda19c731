#!/bin/sh
test_description='provider comments under faults: a reply lost after create never makes a second comment (all six
providers); GitLab "locked" and Bitbucket 202-while-indexing are retried, not answered with the commit fallback;
429 Retry-After and a 403 carrying rate-limit headers are waited out, a long one is left to the schedule'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"
. "$TEST_SRCDIR/lib-provider.sh"

# prepare FLAVOUR [SETTINGS]: fresh fakes and repository; one pushed migration commit, merged as pull request 7.
prepare () {
	prov_set "$1" &&
	fake_reset &&
	fp POST /__fake/reset "{}" >/dev/null &&
	fp_token &&
	write_provider_config "comment_wait = 0; ${2-}" &&
	setup_hr &&
	push_migrations 1 &&
	A=$(commit_sha) &&
	fp_pr 7 merged main "\"$A\"" "[\"$A\"]" ${3:+"$3"}
}

# ours_on WHERE: how many comments of ours the fake holds at WHERE ("pr:7", "commit:SHA"); all of ours: "*".
ours_on () {
	fp_comments comments.json &&
	json_query "len([c for c in d if c[\"user\"] == \"bbbot\" and (\"$1\" == \"*\" or c[\"where\"] == \"$1\")])" \
		comments.json
}

comment_field () {
	issues_json >issues.json &&
	json_query "d[0][\"comment\"][\"$1\"]" issues.json
}

test_expect_success 'setup: fake Bytebase and fake provider' '
	start_fake v2 &&
	start_fake_provider
'

# The create call of each provider, as a regex on the API path.
create_path () {
	case "$1" in
	github|ghes|gitea) echo "/issues/7/comments$" ;;
	gitlab) echo "/merge_requests/7/notes$" ;;
	bitbucket) echo "/pullrequests/7/comments$" ;;
	azure) echo "/pullRequests/7/threads$" ;;
	esac
}

for F in $FLAVOURS
do
	test_expect_success "$F: a reply lost after the comment was created: the retry finds it, no second one" '
		prepare '$F' &&
		fp POST /__fake/faults "{\"provider\": \"$P_KIND\", \"method\": \"POST\",
			\"path\": \"$(create_path '$F')\", \"lost\": true}" >/dev/null &&
		test_expect_code 1 bbgitops deliver --now >out 2>&1 &&
		echo 1 >expect &&
		ours_on pr:7 >n && test_cmp expect n &&
		comment_field status >status && echo pending >expect && test_cmp expect status &&
		bbgitops deliver --now >out 2>&1 &&
		comment_field status >status && echo done >expect && test_cmp expect status &&
		echo 1 >expect &&
		ours_on "*" >n && test_cmp expect n &&
		comment_field attempts >n && echo 2 >expect && test_cmp expect n
	'
done

test_expect_success 'gitlab: a merge request still "locked" is retried; the commit fallback is not used' '
	prepare gitlab &&
	fp_pr 7 locked main "\"$A\"" "[\"$A\"]" "\"locked_lookups\": 2" &&
	test_expect_code 1 bbgitops deliver --now >out 2>&1 &&
	comment_field last_error >err &&
	test_grep "still merging (locked)" err &&
	echo 0 >expect && ours_on "*" >n && test_cmp expect n &&
	test_expect_code 1 bbgitops deliver --now >out 2>&1 &&
	bbgitops deliver --now >out 2>&1 &&
	comment_field status >status && echo done >expect && test_cmp expect status &&
	echo 1 >expect && ours_on pr:7 >n && test_cmp expect n &&
	ours_on "*" >n && test_cmp expect n
'

test_expect_success 'github: a commit the provider does not know yet (422, a mirror behind) is retried, not failed' '
	prepare github &&
	fp POST /__fake/faults "{\"provider\": \"github\", \"method\": \"GET\", \"path\": \"/pulls$\",
		\"status\": 422, \"message\": \"No commit found for SHA: $A\"}" >/dev/null &&
	test_expect_code 1 bbgitops deliver --now >out 2>&1 &&
	comment_field last_error >err &&
	test_grep "not known to GitHub (yet)" err &&
	comment_field status >status && echo pending >expect && test_cmp expect status &&
	bbgitops deliver --now >out 2>&1 &&
	echo 1 >expect && ours_on pr:7 >n && test_cmp expect n
'

test_expect_success 'bitbucket: 202 while indexing is retried later (Retry-After-free), then the comment lands' '
	prepare bitbucket &&
	fp POST /__fake/faults "{\"provider\": \"bitbucket\", \"method\": \"GET\", \"path\": \"/pullrequests$\",
		\"status\": 202, \"times\": 2}" >/dev/null &&
	test_expect_code 1 bbgitops deliver --now >out 2>&1 &&
	comment_field last_error >err &&
	test_grep "still being indexed" err &&
	comment_field status >status && echo pending >expect && test_cmp expect status &&
	echo 0 >expect && ours_on "*" >n && test_cmp expect n &&
	test_expect_code 1 bbgitops deliver --now >out 2>&1 &&
	bbgitops deliver --now >out 2>&1 &&
	echo 1 >expect && ours_on pr:7 >n && test_cmp expect n &&
	ours_on "*" >n && test_cmp expect n
'

# gap_after_fault REQUESTS PROVIDER: seconds between the faulted request and the next one of that provider.
gap_after_fault () {
	python3 - "$1" "$2" <<-\EOF
	import json, sys
	reqs = [r for r in json.load(open(sys.argv[1])) if r["provider"] == sys.argv[2]]
	i = [n for n, r in enumerate(reqs) if r.get("fault")][0]
	print("%.1f" % (reqs[i + 1]["time"] - reqs[i]["time"]))
	EOF
}

test_expect_success 'github: 429 with Retry-After: 2 is waited out in place, the comment lands in the same run' '
	prepare github &&
	fp POST /__fake/faults "{\"provider\": \"github\", \"method\": \"POST\", \"path\": \"/issues/7/comments$\",
		\"status\": 429, \"retry_after\": 2}" >/dev/null &&
	bbgitops deliver --now >out 2>&1 &&
	comment_field status >status && echo done >expect && test_cmp expect status &&
	fp GET /__fake/requests >requests.json &&
	gap=$(gap_after_fault requests.json github) &&
	echo "retried after $gap s" &&
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 1.9 else 1)" "$gap" &&
	echo 1 >expect && ours_on "*" >n && test_cmp expect n
'

test_expect_success 'gitlab: 429 with Retry-After (plain-text body) is honoured too' '
	prepare gitlab &&
	fp POST /__fake/faults "{\"provider\": \"gitlab\", \"method\": \"GET\", \"path\": \"/notes$\",
		\"status\": 429, \"retry_after\": 1}" >/dev/null &&
	bbgitops deliver --now >out 2>&1 &&
	fp GET /__fake/requests >requests.json &&
	gap=$(gap_after_fault requests.json gitlab) &&
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.9 else 1)" "$gap" &&
	echo 1 >expect && ours_on pr:7 >n && test_cmp expect n
'

test_expect_success 'github: a 403 with X-RateLimit-Remaining: 0 waits until X-RateLimit-Reset' '
	prepare github &&
	fp POST /__fake/faults "{\"provider\": \"github\", \"method\": \"GET\", \"path\": \"/issues/7/comments$\",
		\"status\": 403, \"ratelimit_reset_in\": 2, \"message\": \"API rate limit exceeded\"}" >/dev/null &&
	bbgitops deliver --now >out 2>&1 &&
	fp GET /__fake/requests >requests.json &&
	gap=$(gap_after_fault requests.json github) &&
	echo "retried after $gap s" &&
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 1.0 else 1)" "$gap" &&
	echo 1 >expect && ours_on pr:7 >n && test_cmp expect n
'

test_expect_success 'github: a rate limit lifting in an hour is not waited for: the comment is scheduled past it' '
	prepare github &&
	fp POST /__fake/faults "{\"provider\": \"github\", \"method\": \"GET\", \"path\": \"/pulls$\",
		\"status\": 403, \"ratelimit_reset_in\": 3600, \"message\": \"API rate limit exceeded\"}" >/dev/null &&
	start=$(date +%s) &&
	test_expect_code 1 bbgitops deliver >out 2>&1 &&
	test $(($(date +%s) - start)) -lt 20 &&
	comment_field last_error >err &&
	test_grep "rate limited (HTTP 403)" err &&
	at=$(state_sql "SELECT next_attempt_at FROM comments") &&
	test $((at - $(date +%s))) -gt 3000 &&
	test_expect_code 1 bbgitops deliver >out 2>&1 &&
	fp GET /__fake/requests >requests.json &&
	json_query "len([r for r in d if r[\"path\"].endswith(\"/pulls\")])" requests.json >n &&
	echo 1 >expect && test_cmp expect n
'

test_done
