#!/bin/sh
test_description='doctor verifies every credential live and reports each problem as one clear line: a wrong
Bytebase key, a missing project, a missing database, a token without read access, a token that can read but not
comment; it exits 0 when all is well, 1 on any problem, and says "cannot tell" where a provider does not tell'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"
. "$TEST_SRCDIR/lib-provider.sh"

# token NAME SECRET: a private token file $TRASH/NAME.token.
token () {
	(umask 077 && printf '%s\n' "$2" >"$TRASH_DIRECTORY/$1.token")
}

# doctor_config KEY PROJECT DATABASE: Bytebase (service key KEY) and three repositories: hr on GitHub (project
# PROJECT, database DATABASE), crm on GitLab (a database group), ops on Azure DevOps.
doctor_config () {
	write_key "$1" &&
	write_config <<-EOF
	bytebase = {
	  url = "$FAKE_URL";
	  service_account = "$FAKE_ACCOUNT";
	  service_key_file = "$TRASH_DIRECTORY/service-key";
	  timeout = 5;
	};
	repositories = (
	  { name = "hr"; path = "$TRASH_DIRECTORY/hr.git"; project = "$2"; databases = [ "$3" ];
	    url = "https://github.com/acme/hr.git"; provider = "github"; api_url = "$FP_URL/github";
	    token_file = "$TRASH_DIRECTORY/github.token"; },
	  { name = "crm"; path = "$TRASH_DIRECTORY/crm.git"; project = "hr"; database_group = "hr-all";
	    url = "git@gitlab.example.com:group/sub/crm.git"; provider = "gitlab"; api_url = "$FP_URL/gitlab/api/v4";
	    token_file = "$TRASH_DIRECTORY/gitlab.token"; },
	  { name = "ops"; path = "$TRASH_DIRECTORY/ops.git"; project = "hr";
	    url = "https://dev.azure.com/acme/Ops/_git/ops"; api_url = "$FP_URL/azure/acme";
	    provider = "azure"; token_file = "$TRASH_DIRECTORY/azure.token"; }
	);
	EOF
}

GH=ghp_DoctorT0ken0123456789
GL=glpat-DoctorT0ken0123456789
AZ=azpatDoctorT0ken0123456789

test_expect_success 'setup: fakes, repositories and tokens' '
	start_fake v2 &&
	start_fake_provider &&
	fp POST /__fake/repos "{\"provider\": \"github\", \"repo\": \"acme/hr\"}" >/dev/null &&
	fp POST /__fake/repos "{\"provider\": \"gitlab\", \"repo\": \"group/sub/crm\"}" >/dev/null &&
	fp POST /__fake/repos "{\"provider\": \"azure\", \"repo\": \"acme/Ops/ops\"}" >/dev/null &&
	fp POST /__fake/tokens "{\"provider\": \"github\", \"token\": \"$GH\", \"user\": \"bbbot\",
		\"scopes\": \"repo, read:org\"}" >/dev/null &&
	fp POST /__fake/tokens "{\"provider\": \"gitlab\", \"token\": \"$GL\", \"user\": \"bbbot\"}" >/dev/null &&
	fp POST /__fake/tokens "{\"provider\": \"azure\", \"token\": \"$AZ\", \"user\": \"bbbot\"}" >/dev/null &&
	token github "$GH" && token gitlab "$GL" && token azure "$AZ" &&
	doctor_config "$FAKE_KEY" hr instances/test-pg/databases/hr
'

test_expect_success 'all well: exit 0, every check ok, Azure "cannot tell" (it does not say)' '
	bbgitops doctor >out 2>&1 &&
	cat out &&
	test_grep "^ok  *bytebase login: .* version 2.17.0, flow for 2.17-3.5$" out &&
	test_grep "^ok  *bytebase project hr$" out &&
	test_grep "^ok  *bytebase database instances/test-pg/databases/hr$" out &&
	test_grep "^ok  *bytebase database group projects/hr/databaseGroups/hr-all$" out &&
	test_grep "^ok  *hr: token reads the repository: github acme/hr$" out &&
	test_grep "^ok  *hr: token may comment" out &&
	test_grep "^ok  *crm: token reads the repository: gitlab group/sub/crm$" out &&
	test_grep "^ok  *crm: token may comment" out &&
	test_grep "^ok  *ops: token reads the repository: azure" out &&
	test_grep "^cannot tell ops: token may comment: Azure DevOps does not tell" out &&
	test_grep "^no problems found$" out
'

# one_problem OUT PATTERN: exit status was 1, exactly one problem line, and it matches PATTERN.
one_problem () {
	grep "^problem " "$1" >problems &&
	test_line_count = 1 problems &&
	test_grep "$2" problems &&
	test_grep "^1 problem found$" "$1"
}

test_expect_success 'a wrong Bytebase key: one line naming the login' '
	doctor_config bbs_wrongkey hr instances/test-pg/databases/hr &&
	test_expect_code 1 bbgitops doctor >out 2>&1 &&
	cat out &&
	one_problem out "^problem *bytebase login: $FAKE_URL as $FAKE_ACCOUNT: .*" &&
	test_grep "^not checked bytebase projects and databases" out
'

test_expect_success 'a missing project: one line naming it' '
	doctor_config "$FAKE_KEY" nope instances/test-pg/databases/hr &&
	test_expect_code 1 bbgitops doctor >out 2>&1 &&
	cat out &&
	one_problem out "^problem *bytebase project nope: projects/nope does not exist"
'

test_expect_success 'a missing database: one line naming it' '
	doctor_config "$FAKE_KEY" hr instances/test-pg/databases/nope &&
	test_expect_code 1 bbgitops doctor >out 2>&1 &&
	cat out &&
	one_problem out "^problem *bytebase database instances/test-pg/databases/nope: .* does not exist (repository hr)"
'

test_expect_success 'a token without read access: one line naming the repository' '
	doctor_config "$FAKE_KEY" hr instances/test-pg/databases/hr &&
	fp POST /__fake/tokens "{\"provider\": \"github\", \"token\": \"$GH\", \"user\": \"bbbot\", \"rights\": []}" \
		>/dev/null &&
	test_expect_code 1 bbgitops doctor hr >out 2>&1 &&
	cat out &&
	one_problem out "^problem *hr: token reads the repository: github acme/hr: .*HTTP 404" &&
	test_grep "^not checked hr: token may comment" out
'

test_expect_success 'a GitHub token that can read but not comment (scopes): one line saying why' '
	fp POST /__fake/tokens "{\"provider\": \"github\", \"token\": \"$GH\", \"user\": \"bbbot\",
		\"rights\": [\"read\"], \"scopes\": \"read:org\"}" >/dev/null &&
	test_expect_code 1 bbgitops doctor hr >out 2>&1 &&
	cat out &&
	one_problem out "^problem *hr: token may comment: token scopes \"read:org\" lack \"repo\""
'

test_expect_success 'a fine-grained GitHub token with read-only permissions: one line saying why' '
	fp POST /__fake/tokens "{\"provider\": \"github\", \"token\": \"$GH\", \"user\": \"bbbot\",
		\"rights\": [\"read\"]}" >/dev/null &&
	test_expect_code 1 bbgitops doctor hr >out 2>&1 &&
	one_problem out "^problem *hr: token may comment: the repository.s permissions grant read only"
'

test_expect_success 'a GitLab token with read_api only: one line from its self-inspection' '
	fp POST /__fake/tokens "{\"provider\": \"gitlab\", \"token\": \"$GL\", \"user\": \"bbbot\",
		\"rights\": [\"read\"]}" >/dev/null &&
	test_expect_code 1 bbgitops doctor crm >out 2>&1 &&
	cat out &&
	one_problem out "^problem *crm: token may comment: the token.s scopes lack \"api\""
'

test_expect_success 'doctor --json: the same checks as JSON, ok false and the problem count' '
	test_expect_code 1 bbgitops doctor --json crm >out.json &&
	json_query "[d[\"ok\"], d[\"problems\"], [c[\"status\"] for c in d[\"checks\"]].count(\"problem\")]" out.json >got &&
	printf "false\n1\n1\n" >expect &&
	test_cmp expect got
'

test_expect_success 'a token file others may read is a problem line, and its content is not shown' '
	chmod 644 "$TRASH_DIRECTORY/gitlab.token" &&
	test_expect_code 1 bbgitops doctor crm >out 2>&1 &&
	cat out &&
	one_problem out "^problem *crm: token reads the repository: .*token_file" &&
	test_grep -v -e "$GL" out &&
	chmod 600 "$TRASH_DIRECTORY/gitlab.token"
'

test_expect_success 'no secret in any doctor output, also with -v' '
	fp POST /__fake/tokens "{\"provider\": \"gitlab\", \"token\": \"$GL\", \"user\": \"bbbot\"}" >/dev/null &&
	fp POST /__fake/tokens "{\"provider\": \"github\", \"token\": \"$GH\", \"user\": \"bbbot\"}" >/dev/null &&
	bbgitops -v doctor >out 2>&1 &&
	bbgitops -v doctor --json >>out 2>&1 &&
	doctor_config bbs_wrongkey hr instances/test-pg/databases/hr &&
	test_expect_code 1 bbgitops -v doctor >>out 2>&1 &&
	for s in "$GH" "$GL" "$AZ" "$FAKE_KEY" bbs_wrongkey
	do
		test_grep -v -e "$s" out || return 1
	done
'

test_expect_success 'doctor REPO refuses a repository the configuration does not name' '
	test_expect_code 2 bbgitops doctor nosuch >out 2>&1 &&
	test_grep "no repository named .nosuch." out
'

test_done
