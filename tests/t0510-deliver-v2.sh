#!/bin/sh
test_description='deliver: a push becomes sheets, a plan, an issue and a rollout in Bytebase 2.x, per target mode'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

# check_v2_calls OBJECTS REQUESTS: exactly login, 2 sheets (content and engine right), 1 plan, 1 issue, 1 rollout.
check_v2_calls () {
	python3 - "$1" "$2" "$TRASH_DIRECTORY/hr" <<-\EOF
	import base64, json, os, sys
	objs = json.load(open(sys.argv[1]))
	reqs = json.load(open(sys.argv[2]))
	work = sys.argv[3]
	creates = [(r["method"], r["path"]) for r in reqs if r["method"] == "POST"]
	want = [("POST", "/v1/auth/login"), ("POST", "/v1/projects/hr/sheets"), ("POST", "/v1/projects/hr/sheets"),
	        ("POST", "/v1/projects/hr/plans"), ("POST", "/v1/projects/hr/issues"),
	        ("POST", "/v1/projects/hr/rollouts")]
	assert creates == want, creates
	assert [len(objs[k]) for k in ("sheets", "plans", "issues", "rollouts")] == [1 * 2, 1, 1, 1], objs
	paths = ["bytebase/0001_create_t.sql", "bytebase/0002_dml_seed.sql"]
	for sh, p in zip(objs["sheets"], paths):
	    assert sh["title"] == p, sh["title"]
	    assert base64.b64decode(sh["content"]) == open(os.path.join(work, p), "rb").read(), p
	    assert sh["engine"] == "POSTGRES", sh["engine"]
	login = [r for r in reqs if r["path"] == "/v1/auth/login"][0]
	assert set(login["body"]) == {"email", "password"}, login["body"]
	print(json.dumps(objs["plans"][0]["steps"]))
	EOF
}

# step_shape STEPS_JSON: one line per step: "title: target/type/version target/type/version ...".
step_shape () {
	python3 -c '
import json, sys
steps = json.loads(sys.stdin.read())
sheets = {}
for st in steps:
    print(st["title"] + ": " + " ".join("%s/%s/%s" % (s["changeDatabaseConfig"]["target"].split("/")[-3] + "/" +
          s["changeDatabaseConfig"]["target"].split("/")[-1], s["changeDatabaseConfig"]["type"],
          s["changeDatabaseConfig"]["schemaVersion"]) for s in st["specs"]))
	'
}

test_expect_success 'setup: fake Bytebase 2.17.0 and a hooked repository' '
	start_fake v2 &&
	setup_hr
'

push_two () {
	(
		cd "$TRASH_DIRECTORY/hr" &&
		mkdir -p bytebase &&
		printf "CREATE TABLE t (id int);\n" >bytebase/0001_create_t.sql &&
		printf "INSERT INTO t VALUES (1);\n" >bytebase/0002_dml_seed.sql &&
		git add bytebase &&
		git commit -q -m "Create t and seed it" &&
		git push -q origin HEAD:main 2>/dev/null
	)
}

test_expect_success 'databases: one step per listed database, one spec per file in version order' '
	fake_reset &&
	write_delivery_config 2 none \
		"databases = [\"instances/prod-pg/databases/hr\", \"instances/test-pg/databases/hr\"];" &&
	setup_hr &&
	push_two &&
	test "$(issue_count --status pending)" = 1 &&
	bbgitops deliver --now &&
	fake_objects objects.json &&
	fake_requests requests.json &&
	check_v2_calls objects.json requests.json >steps.json &&
	step_shape <steps.json >actual &&
	cat >expect <<-\EOF &&
	instances/prod-pg/databases/hr: prod-pg/hr/MIGRATE/0001 prod-pg/hr/DATA/0002
	instances/test-pg/databases/hr: test-pg/hr/MIGRATE/0001 test-pg/hr/DATA/0002
	EOF
	test_cmp expect actual &&
	issues_json >issues.json &&
	test "$(json_query "d[0][\"status\"]" issues.json)" = created &&
	test "$(json_query "d[0][\"bytebase_issue\"]" issues.json)" = projects/hr/issues/1 &&
	test "$(json_query "d[0][\"last_error\"]" issues.json)" = null
'

test_expect_success 'the Bytebase issue carries title, DATABASE_CHANGE, the plan and the provenance line' '
	commit=$(git -C hr rev-parse HEAD) &&
	json_query "d[\"issues\"][0][\"title\"]" objects.json >actual &&
	echo "Create t and seed it" >expect &&
	test_cmp expect actual &&
	test "$(json_query "d[\"issues\"][0][\"type\"]" objects.json)" = DATABASE_CHANGE &&
	test "$(json_query "d[\"issues\"][0][\"plan\"]" objects.json)" = projects/hr/plans/1 &&
	json_query "d[\"issues\"][0][\"description\"]" objects.json >desc &&
	test_grep "^bbgitops: hr@main $commit\$" desc &&
	test "$(json_query "d[\"rollouts\"][0][\"plan\"]" objects.json)" = projects/hr/plans/1
'

test_expect_success 'database_group: one step whose specs target the group (Bytebase 2.23: several group specs)' '
	start_fake v2 --version 2.23.0 &&
	write_delivery_config 2 none "database_group = \"hr-all\";" &&
	setup_hr &&
	push_two &&
	bbgitops deliver --now &&
	fake_objects objects.json &&
	fake_requests requests.json &&
	check_v2_calls objects.json requests.json >steps.json &&
	python3 -c "
import json, sys
steps = json.load(open(\"steps.json\"))
assert len(steps) == 1, steps
t = [s[\"changeDatabaseConfig\"][\"target\"] for s in steps[0][\"specs\"]]
assert t == [\"projects/hr/databaseGroups/hr-all\"] * 2, t
v = [s[\"changeDatabaseConfig\"][\"schemaVersion\"] for s in steps[0][\"specs\"]]
assert v == [\"0001\", \"0002\"], v
" &&
	test "$(issue_count --status created)" = 1
'

test_expect_success 'database_group on 2.17 with group_by file: one group spec per plan' '
	start_fake v2 &&
	write_delivery_config 2 none "database_group = \"hr-all\"; group_by = \"file\";" &&
	setup_hr &&
	push_two &&
	bbgitops deliver --now &&
	test "$(issue_count --status created)" = 2 &&
	fake_objects objects.json &&
	json_query "[[s[\"changeDatabaseConfig\"][\"target\"] + \" \" + s[\"changeDatabaseConfig\"][\"schemaVersion\"] for st in p[\"steps\"] for s in st[\"specs\"]] for p in d[\"plans\"]]" objects.json >actual &&
	cat >expect <<-\EOF &&
	["projects/hr/databaseGroups/hr-all 0001"]
	["projects/hr/databaseGroups/hr-all 0002"]
	EOF
	test_cmp expect actual &&
	check_exactly_once
'

test_expect_success 'no targets: every project database, one step per environment in environment order' '
	fake_reset &&
	write_delivery_config 2 none &&
	setup_hr &&
	push_two &&
	bbgitops deliver --now &&
	fake_objects objects.json &&
	fake_requests requests.json &&
	check_v2_calls objects.json requests.json >steps.json &&
	step_shape <steps.json >actual &&
	cat >expect <<-\EOF &&
	environments/test: test-pg/hr/MIGRATE/0001 test-pg/hr/DATA/0002
	environments/prod: prod-pg/hr/MIGRATE/0001 prod-pg/hr/DATA/0002 prod-pg/hr_archive/MIGRATE/0001 prod-pg/hr_archive/DATA/0002
	EOF
	test_cmp expect actual
'

test_expect_success 'the engine setting replaces the database lookup' '
	fake_reset &&
	write_delivery_config 2 none "engine = \"MYSQL\"; databases = [\"instances/test-pg/databases/hr\"];" &&
	setup_hr &&
	push_two &&
	bbgitops deliver --now &&
	fake_requests requests.json &&
	test "$(json_query "[r for r in d if r[\"path\"].startswith(\"/v1/instances/\")]" requests.json)" = "" &&
	fake_objects o.json &&
	test "$(json_query "sorted(set(s[\"engine\"] for s in d[\"sheets\"]))" o.json)" = MYSQL
'

test_expect_success 'group_by file: one issue per file, each delivered in order' '
	fake_reset &&
	write_delivery_config 2 none "group_by = \"file\"; databases = [\"instances/test-pg/databases/hr\"];" &&
	setup_hr &&
	push_two &&
	bbgitops deliver --now &&
	test "$(issue_count --status created)" = 2 &&
	test "$(fake_count issues)" = 2 &&
	check_exactly_once
'

test_expect_success 'a second deliver has nothing to do and makes no request' '
	fake_requests before.json &&
	bbgitops deliver --now &&
	fake_requests after.json &&
	test "$(json_query "len(d)" before.json)" = "$(json_query "len(d)" after.json)"
'

test_expect_success 'background: the hook starts the deliverer detached and the issue gets created' '
	fake_reset &&
	write_delivery_config 2 background "databases = [\"instances/test-pg/databases/hr\"];" &&
	setup_hr &&
	push_two &&
	wait_created 1 30 &&
	check_exactly_once
'

# push_one_timed: commits one more migration, pushes it, prints the seconds the push took.
push_one_timed () {
	(
		cd "$TRASH_DIRECTORY/hr" &&
		mkdir -p bytebase &&
		n=$(($(ls bytebase | wc -l) + 1)) &&
		printf "CREATE TABLE t%d (id int);\n" $n >bytebase/000${n}_t.sql &&
		git add bytebase &&
		git commit -q -m "migration $n" &&
		start=$(date +%s.%N) &&
		git push -q origin HEAD:main 2>/dev/null &&
		end=$(date +%s.%N) &&
		python3 -c "print(\"%.3f\" % ($end - $start))"
	)
}

test_expect_success 'a slow server (10 s per reply) does not slow the push; the issue is created later' '
	fake_reset &&
	DELIVERY_TIMEOUT=15 write_delivery_config 2 background "databases = [\"instances/test-pg/databases/hr\"];" &&
	setup_hr &&
	fake_fault "{\"delay\": 10}" &&
	test_when_finished "fake_clear_faults" &&
	push_one_timed >times &&
	push_one_timed >>times &&
	push_one_timed >>times &&
	cat times &&
	# Under 1 s (the acceptance figure); a sanitizer build on a loaded CI machine gets 3 s, still far below the
	# 10 s the server takes per reply, so a push that waited for delivery would fail either way.
	limit=1.0 &&
	if test -n "$BBGITOPS_SANITIZED"; then limit=3.0; fi &&
	python3 -c "import sys; t = [float(x) for x in open(\"times\")]; sys.exit(0 if min(t) < $limit and max(t) < 5 else 1)" &&
	test "$(issue_count --status pending)" = 3 &&
	sleep 1 &&
	test "$(issue_count --status pending)" = 3 &&
	fake_clear_faults &&
	wait_created 3 40 &&
	check_exactly_once
'

test_expect_success 'background: issues queued while a deliverer runs are taken by that deliverer' '
	fake_reset &&
	write_delivery_config 2 background "databases = [\"instances/test-pg/databases/hr\"];" &&
	setup_hr &&
	fake_fault "{\"delay\": 0.3}" &&
	push_migrations 1 &&
	sleep 0.2 &&
	push_migrations 1 &&
	push_migrations 1 &&
	wait_created 3 30 &&
	fake_clear_faults &&
	check_exactly_once &&
	test "$(fake GET /__fake/stats | json_query "d[\"logins\"]")" -le 3
'

test_expect_success 'hook deliver = inline delivers before the push returns' '
	fake_reset &&
	write_delivery_config 2 inline "databases = [\"instances/test-pg/databases/hr\"];" &&
	setup_hr &&
	push_two &&
	test "$(issue_count --status created)" = 1 &&
	check_exactly_once
'

test_expect_success 'deliver without a bytebase section does nothing and succeeds' '
	write_config <<-EOF &&
	repositories = ( { name = "hr"; path = "$TRASH_DIRECTORY/hr.git"; branch = "main"; base_directory = "bytebase"; project = "hr"; } );
	EOF
	bbgitops deliver --now 2>err &&
	test_must_fail bbgitops deliver --retry 1
'

test_expect_success 'usage errors exit 2' '
	write_delivery_config 2 none &&
	test_expect_code 2 bbgitops deliver --bogus &&
	test_expect_code 2 bbgitops deliver --retry abc &&
	test_expect_code 2 bbgitops deliver --skip
'

stop_fake
test_done
