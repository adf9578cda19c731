#!/bin/sh
test_description='configuration mistakes that would silently watch nothing are refused with FILE:LINE (issue 9, items 6 and 8)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

# check_refused LINE PATTERN (write_config puts state_dir on line 1): check-config exits 2 and names $TRASH/bad.conf:LINE with a message matching PATTERN;
# the hook's configuration loading refuses the same file.
check_refused () {
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/bad.conf" check-config >out 2>&1 &&
	test_grep -F "$TRASH/bad.conf:$1: " out &&
	test_grep -i "$2" out &&
	test_expect_code 2 "$BBGITOPS" -c "$TRASH/bad.conf" status >out 2>&1 &&
	test_grep -F "$TRASH/bad.conf:$1: " out
}

test_expect_success 'setup' '
	setup_server_repo hr
'

test_expect_success 'base_directory "../x" is refused at its line' '
	write_config bad.conf <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git";
	    base_directory = "../x"; }
	);
	EOF
	check_refused 4 "base_directory"
'

test_expect_success 'a ".", ".." or empty component anywhere in base_directory is refused' '
	for base in "db/../x" "/../x" "./db" "db/." "a//b"
	do
		write_config bad.conf <<-EOF &&
		repositories = (
		  { name = "hr"; path = "$TRASH/hr.git"; base_directory = "$base"; }
		);
		EOF
		check_refused 3 "base_directory" || { echo "accepted: $base"; return 1; }
	done
'

test_expect_success 'a leading or trailing "/" in base_directory is still accepted (design §2)' '
	write_config ok.conf <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git"; base_directory = "/db/"; }
	);
	EOF
	"$BBGITOPS" -c "$TRASH/ok.conf" check-config >out 2>&1 &&
	echo "configuration OK" >expect &&
	test_cmp expect out
'

test_expect_success 'an empty repositories list is refused at its line' '
	write_config bad.conf <<-EOF &&
	hook = { deliver = "none"; };
	repositories = ();
	EOF
	check_refused 3 "empty\|nothing to watch"
'

test_expect_success 'url = "ext::..." is refused at its line' '
	write_config bad.conf <<-EOF &&
	repositories = (
	  { name = "hr";
	    url = "ext::sh -c touch% $TRASH/pwned"; }
	);
	EOF
	check_refused 4 "transport" &&
	! test -e pwned
'

test_expect_success 'a url starting with "-" is refused at its line' '
	write_config bad.conf <<-EOF &&
	repositories = (
	  { name = "hr"; url = "--upload-pack=touch $TRASH/pwned"; }
	);
	EOF
	check_refused 3 "url"
'

test_expect_success 'other transports (fd::, foo://), bare local paths and option-like hosts are refused as url' '
	for url in "fd::3" "foo://host/x.git" "transport::https://host/x" "/srv/git/x.git" "x.git" \
		"ssh://-oProxyCommand=touch%20pwned/x.git" "ssh://git@-oProxyCommand=x/x.git"
	do
		write_config bad.conf <<-EOF &&
		repositories = (
		  { name = "hr"; url = "$url"; }
		);
		EOF
		check_refused 3 "url" || { echo "accepted: $url"; return 1; }
	done
'

test_expect_success 'https, http, ssh, git, file and scp-like urls are accepted' '
	for url in "https://git.example.com/db/hr.git" "http://127.0.0.1:8080/hr.git" "ssh://git@host/hr.git" \
		"git://host/hr.git" "file:///srv/git/hr.git" "git@host.example.com:db/hr.git"
	do
		write_config ok.conf <<-EOF &&
		repositories = (
		  { name = "hr"; url = "$url"; }
		);
		EOF
		"$BBGITOPS" -c "$TRASH/ok.conf" check-config >out 2>&1 || { echo "refused: $url"; cat out; return 1; }
	done
'

test_expect_success 'branch = "refs/tags/v1" (never a branch) is refused at its line' '
	write_config bad.conf <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git";
	    branch = "refs/tags/v1"; }
	);
	EOF
	check_refused 4 "branch"
'

test_expect_success 'branch names git refuses are refused' '
	for b in "main..x" "main.lock" "-main" "ma in" "/main" "main/"
	do
		write_config bad.conf <<-EOF &&
		repositories = (
		  { name = "hr"; path = "$TRASH/hr.git"; branch = "$b"; }
		);
		EOF
		check_refused 3 "branch" || { echo "accepted: $b"; return 1; }
	done
'

test_expect_success 'branch = "refs/heads/main" is the branch main: a push to main is caught up' '
	write_repo_config hr "branch = \"refs/heads/main\";" &&
	bbgitops check-config >out 2>&1 &&
	echo "configuration OK" >expect &&
	test_cmp expect out &&
	install_hook hr.git &&
	(
		cd hr &&
		add_file bytebase/0001_init.sql "CREATE TABLE t (id int);" &&
		git commit -q -m "Add t" &&
		git push origin HEAD:main 2>../push.err
	) &&
	test_grep "main: 1 migration queued as 1 rollout issue" push.err &&
	issues_json >issues.json &&
	json_query "[i[\"branch\"] for i in d]" issues.json >branches &&
	echo main >expect &&
	test_cmp expect branches
'

test_expect_success 'a title_template longer than 200 bytes (the title'"'"'s limit) is refused at its line' '
	long=$(python3 -c "print(\"x\" * 201)") &&
	write_config bad.conf <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git";
	    title_template = "$long"; }
	);
	EOF
	check_refused 4 "title_template.*201 bytes.*at most 200" &&
	short=$(python3 -c "print(\"x\" * 200)") &&
	write_config ok.conf <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git"; title_template = "$short"; }
	);
	EOF
	"$BBGITOPS" -c "$TRASH/ok.conf" check-config
'

test_expect_success 'a title_template placeholder that would never expand is refused' '
	write_config bad.conf <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git";
	    title_template = "[{repo}] {subject}"; }
	);
	EOF
	check_refused 4 "unknown placeholder {repo}" &&
	write_config bad.conf <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git";
	    title_template = "{version}: {subject}"; }
	);
	EOF
	check_refused 4 "{version} needs group_by" &&
	write_config ok.conf <<-EOF &&
	repositories = (
	  { name = "hr"; path = "$TRASH/hr.git"; group_by = "file";
	    title_template = "{version} {path} {subject} {repository} {branch} {commit} {short} {x-y} {}"; }
	);
	EOF
	"$BBGITOPS" -c "$TRASH/ok.conf" check-config
'

# 0d3259d took 217 s on this file (a quadratic duplicate-name check); linear, it takes under a second when idle. The
# bound is 10 s, 30 s under the sanitizers (libconfig's many small allocations cost ten times more there): far from
# quadratic, and not a timing test on a loaded machine (3.28 s was seen against an earlier 3 s bound, with two test
# suites running on two CPUs).
test_expect_success 'a 7 MB configuration of 100,000 entries is checked in linear time (duplicate names included)' '
	python3 - "$TRASH" >big.conf <<-EOF &&
	import sys
	t = sys.argv[1]
	print("state_dir = \"%s/state\";" % t)
	print("repositories = (")
	n = 100000
	print(",\n".join("{ name = \"r%d\"; path = \"%s/hr.git\"; base_directory = \"bytebase/x\"; }" % (i if i != n - 1 else 0, t) for i in range(n)))
	print(");")
	EOF
	test $(wc -c <big.conf) -gt 7000000 &&
	limit=10 &&
	if test -n "$BBGITOPS_SANITIZED"; then limit=30; fi &&
	start=$(date +%s.%N) &&
	test_expect_code 2 timeout 120 "$BBGITOPS" -c "$TRASH/big.conf" check-config >out 2>&1 &&
	end=$(date +%s.%N) &&
	test_grep "duplicate repository name .r0. (first at line 3)" out &&
	test_line_count = 1 out &&
	python3 -c "import sys; t = float(sys.argv[2]) - float(sys.argv[1]); print(\"%.2f s (limit %s s)\" % (t, sys.argv[3])); sys.exit(t > float(sys.argv[3]))" "$start" "$end" "$limit"
'

test_done
