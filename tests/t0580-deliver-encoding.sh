#!/bin/sh
test_description='deliver: a Latin-1 commit subject and a file path that is not UTF-8 are delivered on every release range, and issues --json shows them'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

# push_latin1: one commit in ISO-8859-1 whose subject is "Café table" in Latin-1 bytes, adding a migration whose
# file name holds the byte 0xE9 (not UTF-8).
push_latin1 () {
	(
		cd "$TRASH_DIRECTORY/hr" &&
		mkdir -p bytebase &&
		n=$(ls bytebase | wc -l) &&
		v=$(printf '%04d' $((n + 1))) &&
		f=$(printf "bytebase/${v}_caf\351.sql") &&
		printf "CREATE TABLE caf (id int);\n" >"$f" &&
		git add bytebase &&
		printf "Caf\351 table\n" >msg &&
		git -c i18n.commitEncoding=ISO-8859-1 commit -q -F msg &&
		git push -q origin HEAD:main 2>/dev/null
	)
}

for version in 2.15.0 $DELIVERY_VERSIONS
do
	version_setup $version

	test_expect_success "$version: a Latin-1 subject and a non-UTF-8 path are delivered and shown" '
		start_fake --version $version &&
		write_delivery_config auto none "$target" &&
		setup_hr &&
		push_latin1 &&
		bbgitops deliver --now &&
		check_exactly_once &&
		issues_json >issues.json &&
		fake_objects objects.json &&
		python3 - issues.json objects.json $range <<-\EOF
		import json, re, sys
		local, objs, rng = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
		(i,) = local
		# decoded from the commit encoding (Café) or, at worst, replaced (Caf\ufffd): never dropped
		assert re.fullmatch("Caf[\u00e9\ufffd] table", i["title"]), i
		(f,) = i["files"]
		assert re.fullmatch("bytebase/0001_caf[\u00e9\ufffd].sql", f["path"]), f
		(issue,) = objs["issues"]
		assert re.fullmatch("Caf[\u00e9\ufffd] table", issue["title"]), issue
		if rng == "steps":
		    paths = [s["title"] for s in objs["sheets"]]
		else:
		    paths = [x["path"] for r in objs["releases"] for x in r["files"]]
		assert len(paths) == 1 and re.fullmatch("bytebase/0001_caf[\u00e9\ufffd].sql", paths[0]), paths
		EOF
	'
done

test_expect_success 'the release and plan of a non-UTF-8 file are found again after lost replies (no orphans)' '
	start_fake --version 3.21.1 &&
	write_delivery_config auto none "database_group = \"hr-all\"; group_by = \"file\";" &&
	setup_hr &&
	push_latin1 &&
	fake_fault "{\"method\": \"POST\", \"path\": \"/v1/projects/hr/(releases|plans|issues)$\", \"drop\": \"after\", \"times\": 3}" &&
	deliver_until_done &&
	check_exactly_once &&
	test "$(fake_count releases)" = 1 &&
	test "$(fake_count plans)" = 1
'

stop_fake
test_done
