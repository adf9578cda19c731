#!/bin/sh
test_description='deliver: a migration of several MB is delivered once, even to a server that echoes statements, and a failing issue stops retrying after a bounded number of attempts'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

# push_big MB: one commit adding a migration of about MB megabytes (distinct INSERTs, so nothing compresses it away).
push_big () {
	(
		cd "$TRASH_DIRECTORY/hr" &&
		mkdir -p bytebase &&
		n=$(ls bytebase | wc -l) &&
		v=$(printf '%04d' $((n + 1))) &&
		python3 -c "
import sys
mb = float(sys.argv[1])
line = 0
out = []
size = 0
while size < mb * 1024 * 1024:
    s = \"INSERT INTO big VALUES (%d, 'row %d of a big data migration');\n\" % (line, line)
    out.append(s)
    size += len(s)
    line += 1
sys.stdout.write(''.join(out))
" "$1" >"bytebase/${v}_big_dml.sql" &&
		git add bytebase &&
		git commit -q -m "a big data migration $v" &&
		git push -q origin HEAD:main 2>/dev/null
	)
}

for version in 3.8.0 3.21.1
do
	test_expect_success "$version: a 7 MB migration is delivered once (the reply cap follows what was sent)" '
		start_fake --version $version &&
		DELIVERY_TIMEOUT=30 write_delivery_config auto none "database_group = \"hr-all\";" &&
		setup_hr &&
		push_big 7 &&
		bbgitops deliver --now &&
		check_exactly_once &&
		test "$(fake_count releases)" = 1 &&
		fake_objects objects.json &&
		python3 - objects.json hr <<-\EOF
		import base64, glob, json, sys
		objs = json.load(open(sys.argv[1]))
		(f,) = objs["releases"][0]["files"]
		data = base64.b64decode(f["statement"])
		assert len(data) > 7 * 1024 * 1024, len(data)
		assert data == open(glob.glob(sys.argv[2] + "/bytebase/*_big_dml.sql")[0], "rb").read()
		EOF
	'

	test_expect_success "$version: reply lost after the release was created: found by content, not created again" '
		push_big 6 &&
		fake_fault "{\"method\": \"POST\", \"path\": \"/releases$\", \"drop\": \"after\", \"times\": 1}" &&
		DELIVERY_TIMEOUT=30 write_delivery_config auto none "database_group = \"hr-all\";" &&
		test_expect_code 1 bbgitops deliver --now &&
		deliver_until_done &&
		check_exactly_once &&
		test "$(fake_count releases)" = 2
	'
done

test_expect_success 'an issue that keeps failing transiently gives up after 20 attempts, naming the retry command' '
	start_fake --version 3.21.1 &&
	write_delivery_config auto none "database_group = \"hr-all\";" &&
	setup_hr &&
	push_migrations 1 &&
	fake_fault "{\"method\": \"POST\", \"path\": \"/releases$\", \"status\": 503}" &&
	for i in $(seq 19)
	do
		test_expect_code 1 bbgitops -q deliver --now 2>/dev/null || return 1
	done &&
	issues_json >issues.json &&
	test "$(json_query "d[0][\"attempts\"]" issues.json)" = 19 &&
	test "$(issue_count --status pending)" = 1 &&
	test_expect_code 1 bbgitops deliver --now 2>err &&
	test "$(issue_count --status failed)" = 1 &&
	test_grep "gave up after 20 attempts" err &&
	test_grep "deliver --retry" err &&
	fake_requests before.json &&
	test_expect_code 1 bbgitops deliver --now &&
	fake_requests after.json &&
	test "$(json_query "len(d)" before.json)" = "$(json_query "len(d)" after.json)" &&
	test "$(fake_count releases)" = 0
'

stop_fake
test_done
