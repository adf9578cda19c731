#!/bin/sh
test_description='text that is not UTF-8 (a Latin-1 commit subject, a file name with invalid bytes) becomes valid UTF-8 at the engine boundary: issues --json shows every field (review 6.1, issue 8 acceptance 4)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

test_expect_success 'setup' '
	setup_server_repo hr &&
	write_repo_config hr &&
	install_hook "$TRASH/hr.git"
'

test_expect_success 'a Latin-1 commit (encoding header ISO-8859-1) and a file name with a byte that is not UTF-8' '
	(
		cd hr &&
		add_file bytebase/0001_a.sql &&
		printf "Caf\351 table\n\nCr\351\351 par l\047\351quipe\n" >msg &&
		git -c i18n.commitEncoding=ISO-8859-1 commit -q -F msg &&
		git cat-file commit HEAD >../raw &&
		add_file "$(printf "bytebase/0002_caf\351.sql")" &&
		printf "Add a bad name\n" >msg &&
		git commit -q -F msg &&
		push_to ../push.out origin main
	) &&
	test_grep "^encoding ISO-8859-1" raw &&
	issues_json >issues.json &&
	"$PYTHON" -c "import json, sys; json.load(open(sys.argv[1], encoding=\"utf-8\", errors=\"strict\"))" issues.json
'

test_expect_success 'the subject and body are decoded from the commit'"'"'s encoding' '
	json_query "[i[\"title\"] for i in d]" issues.json >actual &&
	printf "Caf\303\251 table\nAdd a bad name\n" >expect &&
	test_cmp expect actual &&
	bbgitops issues >table &&
	test_grep "$(printf "Caf\303\251 table")" table
'

test_expect_success 'the file name shows with U+FFFD in JSON' '
	json_query "d[1][\"files\"][0][\"path\"]" issues.json >actual &&
	printf "bytebase/0002_caf\357\277\275.sql\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the ledger keeps its real bytes: a name differing only in that byte, same content, is new' '
	(
		cd hr &&
		cp "$(printf "bytebase/0002_caf\351.sql")" "$(printf "bytebase/0002_caf\352.sql")" &&
		git add bytebase &&
		printf "Same content, another name\n" >msg &&
		git commit -q -F msg &&
		push_to ../push2.out origin main
	) &&
	issues_json >issues2.json &&
	json_query "[i[\"title\"] for i in d]" issues2.json >actual &&
	printf "Caf\303\251 table\nAdd a bad name\nSame content, another name\n" >expect &&
	test_cmp expect actual
'

test_expect_success SQLITE_STATE 'state.db holds the bytes of the name as git has them' '
	"$PYTHON" -c "
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.text_factory = bytes
for (p,) in c.execute(\"SELECT path FROM migrations ORDER BY id\"):
    sys.stdout.buffer.write(p + b\"\\n\")
" "$STATE_DIR/state.db" >actual &&
	printf "bytebase/0001_a.sql\nbytebase/0002_caf\351.sql\nbytebase/0002_caf\352.sql\n" >expect &&
	test_cmp expect actual
'

test_done
