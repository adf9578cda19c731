#!/bin/sh
test_description='deliver: every Bytebase release range from 2.15 gets exactly what it declares: one issue whose plan carries each file with its version and type, and a rollout'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

# push_ddl_dml: one commit adding a DDL and a DML file.
push_ddl_dml () {
	(
		cd "$TRASH_DIRECTORY/hr" &&
		mkdir -p bytebase &&
		printf "CREATE TABLE t (id int);\n" >bytebase/0002_create_t.sql &&
		printf "INSERT INTO t VALUES (1);\n" >bytebase/0010_dml_seed_t.sql &&
		git add bytebase &&
		git commit -q -m "Create t and seed it" &&
		git push -q origin HEAD:main 2>/dev/null
	)
}

# check_range RANGE VERSION OBJECTS REQUESTS: one issue; its plan carries both files with version and type as the
# release declares them; the rollout exists and its tasks carry the versions; one login, one version probe.
check_range () {
	python3 - "$@" "$TRASH_DIRECTORY/hr" <<-\EOF
	import base64, json, subprocess, sys
	rng, version, objs, reqs, work = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3])), \
	    json.load(open(sys.argv[4])), sys.argv[5]
	vt = tuple(int(x) for x in version.split("."))
	commit = subprocess.check_output(["git", "-C", work, "rev-parse", "HEAD"]).decode().strip()
	want = {"0002": ("bytebase/0002_create_t.sql", "DDL"), "0010": ("bytebase/0010_dml_seed_t.sql", "DML")}
	content = {p: open(work + "/" + p, "rb").read() for p, _ in want.values()}
	assert len(objs["issues"]) == 1, objs["issues"]
	issue = objs["issues"][0]
	plan = [p for p in objs["plans"] if p["name"] == issue["plan"]][0]
	assert len(objs["plans"]) == 1 and len(objs["rollouts"]) == 1, objs
	assert objs["rollouts"][0]["plan"] == plan["name"]
	assert ("bbgitops: hr@main " + commit) in issue["description"]
	tasks = [t for s in objs["rollouts"][0]["stages"] for t in s["tasks"]]
	assert tasks, objs["rollouts"]
	if rng == "steps":
	    assert objs["releases"] == [] and len(objs["sheets"]) == 2, objs
	    sheets = {s["name"]: s for s in objs["sheets"]}
	    if vt < (2, 17):
	        assert all("engine" not in s for s in objs["sheets"]), objs["sheets"]
	    else:
	        assert all(s["engine"] == "POSTGRES" for s in objs["sheets"]), objs["sheets"]
	    specs = [sp["changeDatabaseConfig"] for st in plan["steps"] for sp in st["specs"]]
	    seen = {}
	    for c in specs:
	        sh = sheets[c["sheet"]]
	        seen[c["schemaVersion"]] = (sh["title"], c["type"])
	        assert base64.b64decode(sh["content"]) == content[sh["title"]]
	    assert seen == {"0002": (want["0002"][0], "MIGRATE"), "0010": (want["0010"][0], "DATA")}, seen
	    assert sorted({t["schemaVersion"] for t in tasks}) == ["0002", "0010"], tasks
	    assert sorted({t["type"] for t in tasks}) == ["DATABASE_DATA_UPDATE", "DATABASE_SCHEMA_UPDATE"], tasks
	    assert "labels" not in issue or issue["labels"] == [], issue
	else:
	    assert objs["sheets"] == [] and len(objs["releases"]) == 1, objs
	    rel = objs["releases"][0]
	    marker = "bbgitops:hr@main:" + commit[:12]
	    assert plan["title"] == marker, plan["title"]
	    (spec,) = plan["specs"]
	    assert spec["changeDatabaseConfig"]["release"] == rel["name"], spec
	    files = {f["version"]: f for f in rel["files"]}
	    assert sorted(files) == ["0002", "0010"], files
	    for v, (path, kind) in want.items():
	        f = files[v]
	        assert f["path"] == path and base64.b64decode(f["statement"]) == content[path], f
	        if vt < (3, 11):
	            assert f["changeType"] == kind and f["type"] == "VERSIONED", f
	        elif vt < (3, 13):
	            assert f["migrationType"] == kind and f["type"] == "VERSIONED", f
	        elif vt < (3, 14):
	            # 3.13: the server tells DDL from DML by the statement; only gh-ost would be declared
	            assert "enableGhost" not in f and "changeType" not in f and f["type"] == "VERSIONED", f
	        else:
	            assert set(f) <= {"path", "version", "statement", "sheetSha256"}, f
	    if vt >= (3, 14):
	        assert rel["type"] == "VERSIONED" and "title" not in rel, rel
	        assert issue["labels"] == [marker], issue
	    else:
	        assert rel["title"] == marker and "labels" not in issue or issue["labels"] == [], (rel, issue)
	        assert sorted({t["schemaVersion"] for t in tasks}) == ["0002", "0010"], tasks
	        if vt < (3, 13):
	            assert sorted({t["type"] for t in tasks}) == ["DATABASE_DATA_UPDATE", "DATABASE_SCHEMA_UPDATE"]
	posts = [r["path"] for r in reqs if r["method"] == "POST"]
	assert posts.count("/v1/auth/login") == 1, posts
	assert [r["path"] for r in reqs].count("/v1/actuator/info") == 1, reqs
	assert all(r["status"] == 200 for r in reqs), [(r["path"], r["status"]) for r in reqs if r["status"] != 200]
	print("%s: %d requests for 1 issue of 2 files" % (version, len(reqs)))
	EOF
}

for version in 2.15.0 $DELIVERY_VERSIONS
do
	version_setup $version

	test_expect_success "$version: a DDL and a DML file become one issue with its plan and rollout" '
		start_fake --version $version &&
		write_delivery_config auto none "$target" &&
		setup_hr &&
		push_ddl_dml &&
		bbgitops deliver --now &&
		fake_no_drops &&
		fake_objects objects.json &&
		fake_requests requests.json &&
		check_range $range $version objects.json requests.json &&
		check_exactly_once
	'

	test_expect_success "$version: status names the version and the flow" '
		bbgitops status --json >status.json &&
		test "$(json_query "d[\"bytebase\"][\"version\"]" status.json)" = $version &&
		json_query "d[\"bytebase\"][\"flow\"]" status.json >flow &&
		case $range in
		steps) test_grep "^2.1[57]\|^3.6" flow ;;
		specs) test_grep "^3.7-3.13" flow ;;
		release) test_grep "^3.14+" flow ;;
		esac &&
		bbgitops status >status.txt &&
		test_grep "server $version" status.txt &&
		test_grep "flow $(cat flow)" status.txt
	'

	test_expect_success "$version: a 300-character title and a 20,000-character description are cut, not refused" '
		long=$(python3 -c "print(\"T\" * 299 + \"\\u00e9\")") &&
		(
			cd hr &&
			printf "INSERT INTO t VALUES (2);\n" >bytebase/0011_more_dml.sql &&
			git add bytebase &&
			python3 -c "import sys; sys.stdout.write(sys.argv[1] + \"\\n\\n\" + (\"lorem ipsum \" * 1700) + \"\\n\")" \
				"$long" >msg &&
			git commit -q -F msg &&
			git push -q origin HEAD:main 2>/dev/null
		) &&
		bbgitops deliver --now &&
		test "$(issue_count --status created)" = 2 &&
		fake_objects objects.json &&
		python3 - objects.json $(git -C hr rev-parse HEAD) <<-\EOF
		import json, sys
		objs = json.load(open(sys.argv[1]))
		issue = objs["issues"][-1]
		# the engine may cut first (at 200 bytes); delivery cuts what is left to 200 characters
		assert len(issue["title"]) <= 200 and issue["title"].startswith("T" * 199), issue["title"]
		d = issue["description"]
		assert len(d) <= 10000 and "\u2026" in d, len(d)
		assert d.endswith("bbgitops: hr@main " + sys.argv[2]), d[-80:]
		EOF
	'
done

test_expect_success 'api = "3.8" forces the 3.7-3.13 flow on a server that hides its version' '
	start_fake --version 3.8.0 --hide-version &&
	write_delivery_config "3.8" none "database_group = \"hr-all\";" &&
	setup_hr &&
	push_ddl_dml &&
	bbgitops deliver --now &&
	fake_requests requests.json &&
	test "$(json_query "len([r for r in d if r[\"path\"] == \"/v1/actuator/info\"])" requests.json)" = 0 &&
	check_exactly_once &&
	test "$(fake_count releases)" = 1 &&
	test "$(fake_count sheets)" = 0 &&
	bbgitops status --json >status.json &&
	test "$(json_query "d[\"bytebase\"][\"api\"]" status.json)" = 3.8 &&
	test "$(json_query "d[\"bytebase\"][\"flow\"]" status.json)" = 3.7-3.13
'

test_expect_success 'auto on a server that hides its version: a clear error naming the setting' '
	write_delivery_config auto none "database_group = \"hr-all\";" &&
	push_migrations 1 &&
	test_expect_code 1 bbgitops deliver --now 2>err &&
	test_grep "bytebase.api" err &&
	test "$(issue_count --status pending)" = 1
'

test_expect_success 'a release newer than any known takes the newest flow and status says so once' '
	start_fake --version 3.40.2 &&
	write_delivery_config auto none "database_group = \"hr-all\";" &&
	setup_hr &&
	push_ddl_dml &&
	bbgitops deliver --now &&
	check_exactly_once &&
	bbgitops status --json >status.json &&
	test "$(json_query "d[\"bytebase\"][\"flow\"]" status.json)" = "3.14+" &&
	test "$(json_query "d[\"bytebase\"][\"newer\"]" status.json)" = true &&
	bbgitops status >status.txt &&
	test "$(grep -c "newer than" status.txt)" = 1
'

test_expect_success 'a release older than 2.15 is refused with a clear error, nothing created' '
	start_fake --version 2.14.3 &&
	write_delivery_config auto none "databases = [\"instances/test-pg/databases/hr\"];" &&
	setup_hr &&
	push_ddl_dml &&
	test_expect_code 1 bbgitops deliver --now 2>err &&
	test_grep "Bytebase 2.14.3 is older than 2.15" err &&
	test "$(fake_count plans)" = 0 &&
	write_delivery_config "2.14" none "databases = [\"instances/test-pg/databases/hr\"];" &&
	test_expect_code 2 bbgitops check-config 2>err &&
	test_grep "older than 2.15" err
'

for version in 2.16.0 3.8.0
do
	version_setup $version
	test_expect_success "$version (ListPlans ignores filter): nothing attaches to plans or issues bbgitops did not create" '
		start_fake --version $version &&
		write_delivery_config auto none "$target" &&
		setup_hr &&
		push_ddl_dml &&
		commit=$(git -C hr rev-parse HEAD) &&
		c12=$(echo $commit | cut -c1-12) &&
		fake POST /__fake/seed "{\"plans\": [
			{\"title\": \"bbgitops:hr@main:$c12:other\", \"issue\": true,
			 \"description\": \"bbgitops: hr@main $commit (a copy)\"},
			{\"title\": \"Create t and seed it\", \"issue\": true, \"description\": \"bbgitops: hr@main\"},
			{\"title\": \"bbgitops:hr@main:$c12 \", \"issue\": false},
			{\"title\": \"Create t and seed it\", \"issue\": false}]}" >seeded.json &&
		fake_fault "{\"method\": \"POST\", \"path\": \"/v1/projects/hr/(plans|issues)$\", \"drop\": \"after\", \"times\": 2}" &&
		test_expect_code 1 bbgitops deliver --now &&
		deliver_until_done &&
		fake_no_drops &&
		fake_objects objects.json &&
		python3 - objects.json seeded.json <<-\EOF
		import json, sys
		objs, seeded = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
		ours = [i for i in objs["issues"] if i["creator"] != "users/someone@example.com"]
		assert len(ours) == 1, ours
		assert ours[0]["plan"] not in seeded, ours
		for r in objs["rollouts"]:
		    assert r["plan"] not in seeded, r
		for p in objs["plans"]:
		    if p["name"] in seeded:
		        mine = [i for i in ours if i["plan"] == p["name"]]
		        assert not mine, (p, mine)
		EOF
	'
done

test_expect_success 'a rollout waiting for approval is created by a later run once allowed' '
	start_fake --version 3.21.1 &&
	write_delivery_config auto none "database_group = \"hr-all\";" &&
	setup_hr &&
	fake_set "{\"approval_required\": true}" &&
	push_ddl_dml &&
	bbgitops deliver --now &&
	issues_json >issues.json &&
	test "$(json_query "d[0][\"rollout_pending\"]" issues.json)" = true &&
	test "$(json_query "d[0][\"rollout_attempts\"]" issues.json)" = 0 &&
	bbgitops deliver --now &&
	issues_json >issues.json &&
	test "$(json_query "d[0][\"rollout_pending\"]" issues.json)" = true &&
	test "$(json_query "d[0][\"rollout_attempts\"]" issues.json)" = 1 &&
	bbgitops issues >issues.txt &&
	test_grep "rollout: waits for approval (1 tries so far)" issues.txt &&
	test "$(fake_count rollouts)" = 0 &&
	bbgitops deliver &&
	issues_json >issues.json &&
	test "$(json_query "d[0][\"rollout_attempts\"]" issues.json)" = 1 &&
	fake_set "{\"approval_required\": false}" &&
	bbgitops deliver --now &&
	issues_json >issues.json &&
	test "$(json_query "d[0][\"rollout_pending\"]" issues.json)" = false &&
	test "$(json_query "d[0][\"rollout\"]" issues.json)" = projects/hr/plans/1/rollout &&
	test "$(fake_count rollouts)" = 1 &&
	check_exactly_once
'

stop_fake
test_done
