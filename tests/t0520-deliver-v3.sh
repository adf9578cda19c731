#!/bin/sh
test_description='deliver: Bytebase 3.x gets a release, a plan titled with the marker, a labelled issue and a rollout'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

push_two () {
	(
		cd "$TRASH_DIRECTORY/hr" &&
		mkdir -p bytebase &&
		printf "CREATE TABLE t (id int);\n" >bytebase/0002_create_t.sql &&
		printf "INSERT INTO t VALUES (1);\n" >bytebase/0010_dml_seed.sql &&
		git add bytebase &&
		git commit -q -m "Create t and seed it" &&
		git push -q origin HEAD:main 2>/dev/null
	)
}

# check_v3 OBJECTS REQUESTS TARGETS...: login, release (both files, version order, base64 content), plan with the
# marker title, the release and exactly TARGETS, issue labelled with the marker, rollout; no sheet.
check_v3 () {
	python3 - "$@" "$TRASH_DIRECTORY/hr" <<-\EOF
	import base64, json, os, subprocess, sys
	objs = json.load(open(sys.argv[1]))
	reqs = json.load(open(sys.argv[2]))
	targets = sys.argv[3:-1]
	work = sys.argv[-1]
	commit = subprocess.check_output(["git", "-C", work, "rev-parse", "HEAD"]).decode().strip()
	marker = "bbgitops:hr@main:" + commit[:12]
	posts = [r["path"] for r in reqs if r["method"] == "POST"]
	assert posts == ["/v1/auth/login", "/v1/projects/hr/releases", "/v1/projects/hr/plans",
	                 "/v1/projects/hr/issues", "/v1/%s/rollout" % objs["plans"][0]["name"]], posts
	assert [len(objs[k]) for k in ("sheets", "releases", "plans", "issues", "rollouts")] == [0, 1, 1, 1, 1], objs
	rel = objs["releases"][0]
	assert [(f["path"], f["version"]) for f in rel["files"]] == [
	    ("bytebase/0002_create_t.sql", "0002"), ("bytebase/0010_dml_seed.sql", "0010")], rel["files"]
	for f in rel["files"]:
	    assert base64.b64decode(f["statement"]) == open(os.path.join(work, f["path"]), "rb").read(), f["path"]
	plan = objs["plans"][0]
	assert plan["title"] == marker, plan["title"]
	assert len(plan["specs"]) == 1, plan["specs"]
	cdc = plan["specs"][0]["changeDatabaseConfig"]
	assert cdc["release"] == rel["name"], cdc
	assert cdc["targets"] == targets, cdc["targets"]
	issue = objs["issues"][0]
	assert issue["labels"] == [marker], issue
	assert issue["plan"] == plan["name"], issue
	assert issue["title"] == "Create t and seed it", issue
	assert ("bbgitops: hr@main " + commit) in issue["description"], issue["description"]
	assert objs["rollouts"][0]["plan"] == plan["name"]
	EOF
}

test_expect_success 'setup: fake Bytebase 3.21.1 and a hooked repository' '
	start_fake v3 &&
	setup_hr
'

test_expect_success 'databases: release, plan with the listed targets, labelled issue, rollout' '
	write_delivery_config 3 none \
		"databases = [\"instances/prod-pg/databases/hr\", \"instances/test-pg/databases/hr\"];" &&
	setup_hr &&
	push_two &&
	bbgitops deliver --now &&
	fake_objects objects.json &&
	fake_requests requests.json &&
	check_v3 objects.json requests.json instances/prod-pg/databases/hr instances/test-pg/databases/hr &&
	issues_json >issues.json &&
	test "$(json_query "d[0][\"status\"]" issues.json)" = created &&
	test "$(json_query "d[0][\"bytebase_issue\"]" issues.json)" = projects/hr/issues/1 &&
	test "$(json_query "d[0][\"rollout_pending\"]" issues.json)" = false &&
	test "$(json_query "d[0][\"rollout\"]" issues.json)" = projects/hr/plans/1/rollout
'

test_expect_success 'database_group: the plan targets the group alone' '
	fake_reset &&
	write_delivery_config 3 none "database_group = \"hr-all\";" &&
	setup_hr &&
	push_two &&
	bbgitops deliver --now &&
	fake_objects objects.json &&
	fake_requests requests.json &&
	check_v3 objects.json requests.json projects/hr/databaseGroups/hr-all
'

test_expect_success 'no targets: every database of the project, listed from Bytebase' '
	fake_reset &&
	write_delivery_config 3 none &&
	setup_hr &&
	push_two &&
	bbgitops deliver --now &&
	fake_objects objects.json &&
	fake_requests requests.json &&
	check_v3 objects.json requests.json instances/test-pg/databases/hr instances/prod-pg/databases/hr \
		instances/prod-pg/databases/hr_archive
'

test_expect_success 'group_by file: the marker carries the path; one release, plan and issue per file' '
	fake_reset &&
	write_delivery_config 3 none "group_by = \"file\"; database_group = \"hr-all\";" &&
	setup_hr &&
	push_two &&
	bbgitops deliver --now &&
	test "$(issue_count --status created)" = 2 &&
	fake_objects objects.json &&
	commit=$(git -C hr rev-parse HEAD | cut -c1-12) &&
	json_query "[p[\"title\"] for p in d[\"plans\"]]" objects.json >actual &&
	cat >expect <<-EOF &&
	bbgitops:hr@main:$commit:bytebase/0002_create_t.sql
	bbgitops:hr@main:$commit:bytebase/0010_dml_seed.sql
	EOF
	test_cmp expect actual &&
	check_exactly_once
'

for v in 2.17.0 3.21.1 development
do
	case $v in 2.*) want=v2 kind=sheets ;; *) want=v3 kind=releases ;; esac
	test_expect_success "api auto: version $v speaks $want (status shows it)" '
		start_fake ${want} --version $v &&
		write_delivery_config auto none "database_group = \"hr-all\"; group_by = \"file\";" &&
		setup_hr &&
		push_two &&
		bbgitops deliver --now &&
		test "$(issue_count --status created)" = 2 &&
		test "$(fake_count $kind)" = 2 &&
		fake_requests requests.json &&
		test "$(json_query "len([r for r in d if r[\"path\"] == \"/v1/actuator/info\"])" requests.json)" = 1 &&
		bbgitops status --json >status.json &&
		grep "\"$want\"" status.json
	'
done

test_expect_success 'a 400 naming an unknown field fails as a compatibility error and is not retried' '
	start_fake v3 &&
	write_delivery_config 3 none "database_group = \"hr-all\";" &&
	setup_hr &&
	push_two &&
	fake_fault "{\"method\": \"POST\", \"path\": \"/issues$\", \"status\": 400, \"message\": \"proto: (line 1:2): unknown field \\\"labels\\\"\"}" &&
	test_expect_code 1 bbgitops deliver --now 2>err &&
	issues_json >issues.json &&
	test "$(json_query "d[0][\"status\"]" issues.json)" = failed &&
	json_query "d[0][\"last_error\"]" issues.json >last_error &&
	test_grep "incompatible Bytebase API" last_error &&
	test_grep "field \"labels\"" last_error &&
	test_grep "field \"labels\"" err &&
	fake_requests before.json &&
	test_expect_code 1 bbgitops deliver --now &&
	fake_requests after.json &&
	test "$(json_query "len(d)" before.json)" = "$(json_query "len(d)" after.json)" &&
	test "$(fake_count issues)" = 0
'

test_expect_success 'approval required: the issue is created, its rollout pending' '
	fake_clear_faults &&
	fake_reset &&
	fake_set "{\"approval_required\": true}" &&
	write_delivery_config 3 none "database_group = \"hr-all\";" &&
	setup_hr &&
	push_two &&
	bbgitops deliver --now &&
	issues_json >issues.json &&
	test "$(json_query "d[0][\"status\"]" issues.json)" = created &&
	test "$(json_query "d[0][\"rollout_pending\"]" issues.json)" = true &&
	test "$(json_query "d[0][\"rollout\"]" issues.json)" = null &&
	test "$(fake_count issues)" = 1 &&
	test "$(fake_count rollouts)" = 0
'

stop_fake
test_done
