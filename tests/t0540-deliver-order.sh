#!/bin/sh
test_description='deliver: a permanent failure holds back its branch until deliver --retry or --skip; order is kept'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

# statuses: "id:status" of every issue, one per line.
statuses () {
	issues_json >"$TRASH_DIRECTORY/.st.json" &&
	json_query "[\"%s:%s\" % (i[\"id\"], i[\"status\"]) for i in d]" "$TRASH_DIRECTORY/.st.json"
}

for version in ${VERSIONS:-$DELIVERY_VERSIONS}
do
	version_setup $version

	test_expect_success "$version: setup: three issues on main, one on hotfix" '
		start_fake --version $version &&
		DELIVERY_BRANCH="*" write_delivery_config $api none "$target" &&
		setup_hr &&
		push_migrations 3 &&
		(
			cd hr &&
			git checkout -q -b hotfix &&
			mkdir -p bytebase &&
			echo "CREATE TABLE hot (id int);" >bytebase/0010_hot.sql &&
			git add bytebase &&
			git commit -q -m "migration 0010" &&
			git push -q origin hotfix 2>/dev/null &&
			git checkout -q main
		) &&
		test "$(issue_count --status pending)" = 4
	'

	test_expect_success "$version: a permanent 400 fails the issue with Bytebase message, holds back its branch only" '
		fake_fault "{\"method\": \"POST\", \"path\": \"/v1/projects/hr/issues$\", \"status\": 400, \"message\": \"the plan is broken in a special way\", \"times\": 1}" &&
		test_expect_code 1 bbgitops deliver --now 2>err &&
		test_grep "the plan is broken in a special way" err &&
		statuses >actual &&
		cat >expect <<-\EOF &&
		1:failed
		2:pending
		3:pending
		4:created
		EOF
		test_cmp expect actual &&
		issues_json >issues.json &&
		json_query "d[0][\"last_error\"]" issues.json >last_error &&
		test_grep "HTTP 400: the plan is broken in a special way" last_error &&
		test "$(json_query "d[0][\"attempts\"]" issues.json)" = 1 &&
		bbgitops status >status.out &&
		test_grep "broken in a special way" status.out
	'

	test_expect_success "$version: later deliveries leave the failed issue and the ones after it alone" '
		fake_requests before.json &&
		test_expect_code 1 bbgitops deliver --now &&
		fake_requests after.json &&
		test "$(json_query "len(d)" before.json)" = "$(json_query "len(d)" after.json)" &&
		statuses >actual &&
		test_cmp expect actual
	'

	test_expect_success "$version: --retry ID sends it again (resuming), then the ones after it, in order" '
		bbgitops deliver --retry 1 &&
		statuses >actual &&
		cat >expect <<-\EOF &&
		1:created
		2:created
		3:created
		4:created
		EOF
		test_cmp expect actual &&
		fake_objects objects.json &&
		json_query "[i[\"title\"] for i in d[\"issues\"]]" objects.json >actual &&
		cat >expect <<-\EOF &&
		migration 0010
		migration 0001
		migration 0002
		migration 0003
		EOF
		test_cmp expect actual &&
		check_exactly_once
	'

	test_expect_success "$version: --skip ID marks a failed issue skipped and releases the branch" '
		push_migrations 2 &&
		fake_fault "{\"method\": \"POST\", \"path\": \"/v1/projects/hr/issues$\", \"status\": 403, \"message\": \"permission denied for the special test\", \"times\": 1}" &&
		test_expect_code 1 bbgitops deliver --now &&
		test "$(issue_count --status failed)" = 1 &&
		test "$(issue_count --status pending)" = 1 &&
		bbgitops deliver --skip 5 &&
		test "$(issue_count --status skipped)" = 1 &&
		test "$(issue_count --status created)" = 5 &&
		test "$(issue_count --status pending)" = 0
	'

	test_expect_success "$version: --retry and --skip refuse a created issue or an unknown id" '
		test_expect_code 1 bbgitops deliver --retry 1 2>err &&
		test_grep "created" err &&
		test_expect_code 1 bbgitops deliver --skip 999 2>err &&
		test_grep "no issue 999" err
	'

	test_expect_success "$version: --retry sends a local issue queued before Bytebase was configured" '
		write_config <<-EOF &&
		repositories = ( { name = "hr"; path = "$TRASH_DIRECTORY/hr.git"; branch = "*"; base_directory = "bytebase"; project = "hr"; } );
		EOF
		push_migrations 1 &&
		test "$(issue_count --status local)" = 1 &&
		DELIVERY_BRANCH="*" write_delivery_config $api none "$target" &&
		bbgitops deliver --now &&
		test "$(issue_count --status local)" = 1 &&
		id=$(issue_count) &&
		bbgitops deliver --retry $id &&
		test "$(issue_count --status local)" = 0 &&
		issues_json >issues.json &&
		test "$(json_query "d[-1][\"status\"]" issues.json)" = created
	'
done

stop_fake
test_done
