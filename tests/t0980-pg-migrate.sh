#!/bin/sh
test_description='PostgreSQL: `state migrate --to URL` moves a SQLite state of 1,000 issues in every status (local,
pending, created, failed, skipped; comments pending, done, failed, skipped; files and their contents) into
PostgreSQL: `issues --json` prints the same before and after, and cursors, ledger and delivery state carry on'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"
. "$TEST_SRCDIR/lib-provider.sh"
. "$TEST_SRCDIR/lib-pg.sh"
pg_need

# The SQLite state is built under $TRASH/sqlite-state whatever BBGITOPS_TEST_STATE says: it is what is migrated.
SQLITE_DIR=$TRASH/sqlite-state

# sqlite_config [SECTIONS...]: the configuration of repository hr (every branch) with its state in SQLite; each
# argument is a further section (bytebase, provider settings come from lib-provider).
sqlite_config () {
	write_key &&
	write_token &&
	WRITE_CONFIG_STATE=sqlite write_config <<-EOF
	state_dir = "$SQLITE_DIR";
	$*
	hook = { deliver = "none"; };
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git"; branch = "*"; base_directory = "bytebase"; project = "hr";
	    url = "$P_URL"; provider = "$P_PROVIDER"; token_file = "$TRASH/provider-token"; api_url = "$FP_URL$P_API";
	    comment_wait = 3600; }
	);
	EOF
}

bytebase_section () {
	cat <<-EOF
	bytebase = {
	  url = "$FAKE_URL";
	  service_account = "$FAKE_ACCOUNT";
	  service_key_file = "$TRASH/service-key";
	  timeout = 5;
	};
	EOF
}

# commits BRANCH FIRST N: N commits on BRANCH of the work clone (created from main when new), made by git
# fast-import: commit i adds bytebase/<i>_t<i>.sql ("Add <i>"); every fifth adds a second file, every seventh has a
# body, one a UTF-8 subject. Then pushed (the hook queues them).
commits () {
	(
		cd hr &&
		if git rev-parse -q --verify "refs/heads/$1" >/dev/null
		then
			from=$1
		else
			from=main
		fi &&
		awk -v br="$1" -v first="$2" -v n="$3" -v from="$(git rev-parse "$from")" '
		function data(s) { printf "data %d\n%s\n", length(s), s }
		BEGIN {
			for (i = first; i < first + n; i++) {
				v = sprintf("%05d", i)
				print "commit refs/heads/" br
				print "committer C O Mitter <committer@example.com> " (1700000000 + i) " +0000"
				msg = (i % 97 == 0 ? "Ajout de la table \303\251t\303\251 " v : "Add " v)
				if (i % 7 == 0)
					msg = msg "\n\nWhy: ticket " i ".\nSecond line of the body."
				data(msg)
				if (i == first)
					print "from " from
				printf "M 100644 inline bytebase/%s_t%s.sql\n", v, v
				data("CREATE TABLE t" v " (id int, note text DEFAULT '\''" br "'\'');")
				if (i % 5 == 0) {
					printf "M 100644 inline bytebase/%s_dml_seed%s.sql\n", v, v
					data("INSERT INTO t" v " VALUES (" i ");")
				}
			}
		}' | git fast-import --quiet &&
		git push -q origin "refs/heads/$1:refs/heads/$1" 2>/dev/null
	)
}

# shas BRANCH FROM TO: the JSON list of the commit ids of BRANCH's commits number FROM..TO (1 the oldest of
# the branch's own commits).
shas () {
	git -C hr rev-list --reverse --first-parent main.."$1" >all-shas &&
	sed -n "$2,$3p" all-shas | "$PYTHON" -c 'import json, sys; print(json.dumps(sys.stdin.read().split()))'
}

# counts FILE: "status N" lines of the issues, then "comment:status N" lines, sorted.
counts () {
	json_query '["%s %d" % (s, n) for s, n in sorted(__import__("collections").Counter(
		[i["status"] for i in d] + ["comment:%s" % (i["comment"]["status"] if i["comment"] else None) for i in d]).items())]' "$1"
}

test_expect_success 'setup: 250 local issues, queued before Bytebase was configured' '
	start_fake v2 &&
	start_fake_provider &&
	prov_set github &&
	fp_token &&
	sqlite_config &&
	setup_server_repo hr &&
	install_hook "$TRASH/hr.git" >/dev/null &&
	(
		cd hr &&
		echo hr >README &&
		commit_all initial &&
		git push -q origin HEAD:main 2>/dev/null
	) &&
	commits main 1 250 &&
	test "$(issue_count --status local)" = 250
'

test_expect_success 'setup: 750 more with Bytebase: created, failed, skipped, pending; comments in every status' '
	sqlite_config "$(bytebase_section)" &&
	commits blocked 251 550 &&
	commits skipped 801 50 &&
	commits ok 851 150 &&
	test "$(issue_count --status pending)" = 750 &&
	fake_fault "{\"method\": \"POST\", \"path\": \"/v1/projects/hr/issues$\", \"status\": 400, \"message\": \"broken on purpose\", \"times\": 2}" &&
	{ bbgitops deliver --now >deliver1.out 2>&1 || :; } &&
	fp_pr 1 merged ok null "$(shas ok 1 50)" &&
	{ bbgitops deliver --now >deliver2.out 2>&1 || :; } &&
	fp_token "[\"read\"]" &&
	fp_pr 2 merged ok null "$(shas ok 51 100)" &&
	{ bbgitops deliver --now >deliver3.out 2>&1 || :; } &&
	issues_json >mid.json &&
	failed_comment=$(json_query "[i[\"id\"] for i in d if i[\"comment\"] and i[\"comment\"][\"status\"] == \"failed\"][0]" mid.json) &&
	{ bbgitops deliver --skip-comment "$failed_comment" >skip-comment.out 2>&1 || :; } &&
	skip_issue=$(json_query "[i[\"id\"] for i in d if i[\"branch\"] == \"skipped\" and i[\"status\"] == \"failed\"][0]" mid.json) &&
	{ bbgitops deliver --skip "$skip_issue" >skip.out 2>&1 || :; } &&
	issues_json >before.json &&
	counts before.json >counts &&
	test_diag "$(tr "\n" " " <counts)" &&
	for s in local pending created failed skipped comment:pending comment:done comment:failed comment:skipped
	do
		test_grep "^$s [1-9]" counts || return 1
	done &&
	test "$(json_query "len(d)" before.json)" = 1000
'

test_expect_success 'state migrate --to moves it into PostgreSQL; issues --json prints the same' '
	pg_dropdb migrated >/dev/null &&
	url=$(pg_createdb migrated) &&
	bbgitops state migrate --to "$url" --password-file "$PG_PASSWORD_FILE" >migrate.out 2>&1 &&
	sqlite_config "$(bytebase_section)" "$(pg_state_section "$url")" &&
	issues_json >after.json &&
	test_cmp before.json after.json &&
	bbgitops issues >after.table &&
	sed -i "s/^state = {.*//" "$CONF" &&
	bbgitops issues >before.table &&
	test_cmp before.table after.table
'

test_expect_success 'after the move: cursors and ledger carried over (a push reports only what is new)' '
	sqlite_config "$(bytebase_section)" "$(pg_state_section "$url")" &&
	(
		cd hr &&
		git checkout -q ok &&
		git rm -q bytebase/00851_t00851.sql &&
		git commit -q -m "Drop 851" &&
		git checkout -q HEAD~1 -- bytebase/00851_t00851.sql &&
		git commit -q -m "Re-add 851 unchanged" &&
		add_file bytebase/01001_after.sql "CREATE TABLE after_move (id int);" &&
		git commit -q -m "After the move" &&
		git push -q origin ok 2>/dev/null
	) &&
	issues_json >later.json &&
	json_query "[i[\"title\"] for i in d[1000:]]" later.json >actual &&
	echo "After the move" >expect &&
	test_cmp expect actual
'

test_expect_success 'after the move: delivery resumes where SQLite left it, each issue created once, contents intact' '
	fp_token &&
	blocked=$(json_query "[i[\"id\"] for i in d if i[\"branch\"] == \"blocked\"][0]" before.json) &&
	{ bbgitops deliver --retry "$blocked" >deliver4.out 2>&1 || :; } &&
	test_grep "issue $blocked delivered as" deliver4.out &&
	{ bbgitops deliver --now >deliver5.out 2>&1 || :; } &&
	issues_json >final.json &&
	json_query "sorted(set(i[\"status\"] for i in d))" final.json >actual &&
	printf "created\nlocal\nskipped\n" >expect &&
	test_cmp expect actual &&
	fake_objects objects.json &&
	"$PYTHON" - final.json objects.json <<-\EOF
	import base64, json, subprocess, sys
	issues = json.load(open(sys.argv[1]))
	objs = json.load(open(sys.argv[2]))
	created = [i for i in issues if i["status"] == "created"]
	names = [i["bytebase_issue"] for i in created]
	assert len(names) == len(set(names)), "a Bytebase issue named twice"
	assert len(objs["issues"]) == len(names), (len(objs["issues"]), len(names))
	# every file of every created issue reached Bytebase once, as pushed (sheets hold the content in base64); so
	# did the file of the skipped issue, whose sheet was made before its issue was refused
	def blob(b):
	    return subprocess.run(["git", "-C", "hr.git", "cat-file", "blob", b], capture_output=True, check=True).stdout
	sent = created + [i for i in issues if i["status"] == "skipped"]
	want = sorted(blob(f["blob"]) for i in sent for f in i["files"])
	sheets = objs["sheets"]
	sheets = sheets.values() if isinstance(sheets, dict) else sheets
	got = sorted(base64.b64decode(s["content"]) for s in sheets)
	assert want == got, (len(want), len(got))
	EOF
'

stop_fake
stop_fake_provider
test_done
