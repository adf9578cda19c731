#!/bin/sh
test_description='provider comments: each delivered issue ends as one comment on the merged pull request into the
watched branch, on all six provider APIs (GitHub, GitHub Enterprise, GitLab with subgroups, Bitbucket, Azure DevOps,
Gitea); a second issue of the pull request edits it, found on page 3; no pull request: a commit comment or status;
an open or unmerged pull request is never commented on'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"
. "$TEST_SRCDIR/lib-provider.sh"

# check_pr_comment COMMENTS ISSUES FLAVOUR: exactly one comment by bbbot, on pull request 7, edited once, holding
# both issues' links and files; the noise untouched; nothing of ours anywhere else; both issues' comments done.
check_pr_comment () {
	python3 - "$@" "$FAKE_URL" <<-\EOF
	import json, sys
	comments = json.load(open(sys.argv[1])); issues = json.load(open(sys.argv[2])); fl = sys.argv[3]
	bb = sys.argv[4]
	ours = [c for c in comments if c["user"] == "bbbot"]
	assert len(ours) == 1, (fl, [(c["where"], c["id"]) for c in ours])
	c = ours[0]
	assert c["where"] == "pr:7", (fl, c["where"])
	assert c.get("edits", 0) == 1, (fl, "edits", c.get("edits"))
	assert c["body"].startswith("**[Bytebase Bot]**"), c["body"]
	assert len(issues) == 2, issues
	for i in issues:
	    assert i["status"] == "created", i
	    assert "%s/%s" % (bb, i["bytebase_issue"]) in c["body"], (fl, i["bytebase_issue"], c["body"])
	    for f in i["files"]:
	        assert "| %s | %s | `%s` |" % (f["version"], f["type"], f["path"]) in c["body"], (f, c["body"])
	    assert i["comment"]["status"] == "done", (fl, i["comment"])
	    assert i["comment"]["url"], i["comment"]
	    assert i["comment"]["last_error"] is None, i["comment"]
	noise = [x for x in comments if x["user"] == "alice"]
	assert len(noise) == 10 and not any(x.get("edits") for x in noise), noise
	print(fl, "ok:", c["where"], "id", c["id"], "after", len(noise), "other comments")
	EOF
}

# check_commit_note COMMENTS STATUSES ISSUES FLAVOUR COMMIT: the commit fallback: one commit comment (GitHub,
# GitLab, Bitbucket) or one commit status linking the issue (Azure, Gitea); nothing on any pull request.
check_commit_note () {
	python3 - "$@" "$FAKE_URL" <<-\EOF
	import json, sys
	comments = json.load(open(sys.argv[1])); statuses = json.load(open(sys.argv[2]))
	issues = json.load(open(sys.argv[3])); fl, sha, bb = sys.argv[4], sys.argv[5], sys.argv[6]
	issue = [i for i in issues if i["commit"] == sha]
	assert len(issue) == 1, issue
	issue = issue[0]
	link = "%s/%s" % (bb, issue["bytebase_issue"])
	ours = [c for c in comments if c["user"] == "bbbot" and c["where"] != "pr:7"]
	mine = [s for s in statuses if s["sha"] == sha]
	if fl in ("azure", "gitea"):
	    assert ours == [], ours
	    assert len(mine) == 1, mine
	    st = mine[0]["status"]
	    assert (st.get("targetUrl") or st.get("target_url")) == link, st
	else:
	    assert mine == [], mine
	    assert len(ours) == 1, ours
	    assert ours[0]["where"] == "commit:" + sha, ours[0]["where"]
	    assert link in ours[0]["body"], ours[0]["body"]
	assert issue["comment"]["status"] == "done", issue["comment"]
	print(fl, "ok:", "status" if mine else "commit comment")
	EOF
}

test_expect_success 'setup: fake Bytebase and fake provider' '
	start_fake v2 &&
	start_fake_provider
'

for F in $FLAVOURS
do
	test_expect_success "$F: one comment on the merged pull request, edited by its second issue (page 3)" '
		prov_set '$F' &&
		fake_reset &&
		fp POST /__fake/reset "{}" >/dev/null &&
		fp POST /__fake/settings "{\"page_size\": 4}" >/dev/null &&
		fp_token &&
		write_provider_config "group_by = \"file\"; comment_wait = 0;" &&
		setup_hr &&
		(
			cd hr &&
			mkdir -p bytebase &&
			echo "CREATE TABLE a (id int);" >bytebase/0001_create_a.sql &&
			echo "INSERT INTO a VALUES (1);" >bytebase/0002_dml_seed_a.sql &&
			git add bytebase &&
			git commit -q -m "Merge pull request #7: table a" &&
			git push -q origin HEAD:main 2>/dev/null
		) &&
		A=$(commit_sha) &&
		fp_pr 7 merged main "\"$A\"" "[\"$A\"]" &&
		fp_pr 8 open main null "[\"$A\"]" &&
		fp_pr 9 merged develop "\"$A\"" "[\"$A\"]" &&
		fp_pr 10 closed main null "[\"$A\"]" &&
		fp POST /__fake/noise "{\"provider\": \"$P_KIND\", \"repo\": \"$P_REPO\", \"pr\": 7, \"count\": 10}" \
			>/dev/null &&
		bbgitops deliver --now >out 2>&1 &&
		issues_json >issues.json &&
		fp_comments comments.json &&
		check_pr_comment comments.json issues.json '$F'
	'

	test_expect_success "$F: a commit pushed without a pull request gets a commit comment or status, once" '
		(
			cd hr &&
			echo "CREATE TABLE b (id int);" >bytebase/0003_create_b.sql &&
			git add bytebase &&
			git commit -q -m "b, pushed straight to main" &&
			git push -q origin HEAD:main 2>/dev/null
		) &&
		B=$(commit_sha) &&
		bbgitops deliver --now >out 2>&1 &&
		issues_json >issues.json &&
		id=$(json_query "[i[\"id\"] for i in d if i[\"commit\"] == \"$B\"][0]" issues.json) &&
		bbgitops deliver --retry-comment "$id" >out 2>&1 &&
		issues_json >issues.json &&
		fp_comments comments.json &&
		fp GET /__fake/statuses >statuses.json &&
		check_commit_note comments.json statuses.json issues.json '$F' "$B"
	'

	test_expect_success "$F: an open or unmerged pull request holding the commit is never commented on" '
		(
			cd hr &&
			echo "CREATE TABLE c (id int);" >bytebase/0004_create_c.sql &&
			git add bytebase &&
			git commit -q -m "c" &&
			git push -q origin HEAD:main 2>/dev/null
		) &&
		C=$(commit_sha) &&
		fp_pr 11 open main "\"$C\"" "[\"$C\"]" &&
		fp_pr 12 closed main "\"$C\"" "[\"$C\"]" &&
		bbgitops deliver --now >out 2>&1 &&
		fp_comments comments.json &&
		issues_json >issues.json &&
		json_query "[c[\"where\"] for c in d if c[\"user\"] == \"bbbot\" and c[\"where\"] in (\"pr:11\", \"pr:12\")]" \
			comments.json >on_open &&
		test_must_be_empty on_open &&
		json_query "[i[\"comment\"][\"status\"] for i in d if i[\"commit\"] == \"$C\"][0]" issues.json >status &&
		echo done >expect &&
		test_cmp expect status
	'
done

test_expect_success 'every request carried the provider'"'"'s auth header and a User-Agent' '
	fp GET /__fake/requests >requests.json &&
	json_query "[r for r in d if r[\"status\"] in (401, 403) or not r[\"ua\"].startswith(\"bbgitops/\")]" \
		requests.json >bad &&
	test_must_be_empty bad
'

test_expect_success 'without comment = false nothing is due; with it, issues show comment null' '
	prov_set github &&
	fp POST /__fake/reset "{}" >/dev/null &&
	fp_token &&
	write_provider_config "comment = false;" &&
	setup_hr &&
	push_migrations 1 &&
	bbgitops deliver --now >out 2>&1 &&
	issues_json >issues.json &&
	json_query "[i[\"comment\"] for i in d]" issues.json >comment &&
	echo null >expect &&
	test_cmp expect comment &&
	fp GET /__fake/requests >requests.json &&
	json_query "len(d)" requests.json >n &&
	echo 0 >expect &&
	test_cmp expect n
'

test_done
