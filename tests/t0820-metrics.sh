#!/bin/sh
test_description='status --prometheus and poll.metrics_file: parseable exposition format with the right counts after queued, delivered, failed and skipped issues'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

# The real parser (python3-prometheus-client): whichever python3 has it.
PROM_PYTHON=
for _py in "$PYTHON" /usr/bin/python3
do
	if "$_py" -c 'import prometheus_client.parser' 2>/dev/null
	then
		PROM_PYTHON=$_py
		break
	fi
done
if test -z "$PROM_PYTHON"
then
	if test "${CI:-}" = true
	then
		echo "Bail out! python3-prometheus-client is missing (quickstart.sh installs it)"
		exit 1
	fi
	echo "1..0 # SKIP python3-prometheus-client is not installed (apt-get install python3-prometheus-client)"
	exit 0
fi

METRICS=$TRASH_DIRECTORY/textfile/bbgitops.prom

# samples FILE: every sample of FILE, parsed by prometheus_client (tests/prom-samples.py).
samples () {
	"$PROM_PYTHON" "$TEST_SRCDIR/prom-samples.py" "$1"
}

# status_samples: the samples of `status --prometheus`, into status.samples.
status_samples () {
	bbgitops status --prometheus >status.prom &&
	samples status.prom >status.samples
}

# value NAME LABELS [FILE]: the value of one series (LABELS as printed: repository="hr",status="failed").
value () {
	sed -n "s/^$1{$2} //p" "${3:-status.samples}"
}

# expect_issues REPO LOCAL PENDING CREATED FAILED SKIPPED [FILE]
expect_issues () {
	_r=$1
	shift
	for _s in local pending created failed skipped
	do
		test "$(value bbgitops_issues "repository=\"$_r\",status=\"$_s\"" "${6:-status.samples}")" = "$1" || {
			echo >&2 "bbgitops_issues{repository=$_r,status=$_s}: want $1, got:"
			cat >&2 "${6:-status.samples}"
			return 1
		}
		shift
	done
}

# expect_value NAME LABELS WANT [FILE]
expect_value () {
	_got=$(value "$1" "$2" "${4:-status.samples}")
	test "$_got" = "$3" || { echo >&2 "$1{$2}: want $3, got '$_got'"; return 1; }
}

test_expect_success 'setup: hr (local, delivered to the fake Bytebase) and payroll (a remote nobody answers)' '
	start_fake v3 &&
	write_key &&
	mkdir textfile &&
	write_config <<-EOF &&
	bytebase = {
	  url = "$FAKE_URL";
	  service_account = "$FAKE_ACCOUNT";
	  service_key_file = "$TRASH_DIRECTORY/service-key";
	  timeout = 5;
	  api = "3";
	};
	hook = { deliver = "none"; };
	poll = { metrics_file = "$METRICS"; timeout = 5; };
	repositories = (
	  { name = "hr"; path = "$TRASH_DIRECTORY/hr.git"; branch = "main"; base_directory = "bytebase";
	    project = "hr"; database_group = "hr-all"; },
	  { name = "payroll"; url = "http://127.0.0.1:1/payroll.git"; branch = "main"; project = "payroll"; }
	);
	EOF
	setup_hr
'

test_expect_success 'before any state: every series exists with 0 and parses' '
	state_reset &&
	status_samples &&
	expect_issues hr 0 0 0 0 0 &&
	expect_issues payroll 0 0 0 0 0 &&
	if test "$BBGITOPS_TEST_STATE" = pg
	then
		test "$(value bbgitops_state_database_size_bytes "" status.samples)" -gt 0
	else
		expect_value bbgitops_state_database_size_bytes "" 0
	fi &&
	for r in hr payroll
	do
		for c in pending done failed skipped
		do
			expect_value bbgitops_comments "repository=\"$r\",status=\"$c\"" 0 || return 1
		done
	done &&
	test "$(wc -l <status.samples)" = $((2 * 15 + 1))
'

test_expect_success 'a poll writes the metrics file: last successful poll of hr, a fetch and a poll failure of payroll' '
	before=$(date +%s) &&
	test_expect_code 1 bbgitops poll 2>poll.err &&
	after=$(date +%s) &&
	test_grep "payroll" poll.err &&
	test -f "$METRICS" &&
	samples "$METRICS" >file.samples &&
	last=$(value bbgitops_last_successful_poll_timestamp_seconds "repository=\"hr\"" file.samples) &&
	test "$last" -ge "$before" && test "$last" -le "$after" &&
	expect_value bbgitops_last_successful_poll_timestamp_seconds "repository=\"payroll\"" 0 file.samples &&
	expect_value bbgitops_fetch_failures_total "repository=\"payroll\"" 1 file.samples &&
	expect_value bbgitops_poll_failures_total "repository=\"payroll\"" 1 file.samples &&
	expect_value bbgitops_fetch_failures_total "repository=\"hr\"" 0 file.samples &&
	expect_value bbgitops_poll_failures_total "repository=\"hr\"" 0 file.samples &&
	size=$(value bbgitops_state_database_size_bytes "" file.samples) &&
	if test "$BBGITOPS_TEST_STATE" = pg
	then
		test "$size" -gt 0
	else
		test "$size" -ge "$(stat -c %s "$STATE_DIR/state.db")"
	fi
'

test_expect_success 'the metrics file is world-readable, replaced atomically, and leaves no temporary file' '
	test "$(stat -c %a "$METRICS")" = 644 &&
	ino=$(stat -c %i "$METRICS") &&
	test_expect_code 1 bbgitops poll 2>/dev/null &&
	test "$(stat -c %i "$METRICS")" != "$ino" &&
	ls textfile >files &&
	echo bbgitops.prom >expect &&
	test_cmp expect files &&
	samples "$METRICS" >file.samples &&
	expect_value bbgitops_fetch_failures_total "repository=\"payroll\"" 2 file.samples
'

test_expect_success 'queued: three pushed migrations are three pending issues; the oldest one ages' '
	push_migrations 3 &&
	sleep 1.2 &&
	status_samples &&
	expect_issues hr 0 3 0 0 0 &&
	age=$(value bbgitops_oldest_pending_issue_age_seconds "repository=\"hr\"") &&
	test "$age" -ge 1 && test "$age" -lt 120 &&
	expect_value bbgitops_delivery_attempts_total "repository=\"hr\"" 0
'

test_expect_success 'failed: a permanent 400 fails the first issue (one attempt, one failure), the others wait' '
	fake_fault "{\"method\": \"POST\", \"path\": \"/v1/projects/hr/issues$\", \"status\": 400, \"message\": \"refused\", \"times\": 1}" &&
	test_expect_code 1 bbgitops deliver --now 2>/dev/null &&
	status_samples &&
	expect_issues hr 0 2 0 1 0 &&
	expect_value bbgitops_delivery_attempts_total "repository=\"hr\"" 1 &&
	expect_value bbgitops_delivery_failures_total "repository=\"hr\"" 1
'

test_expect_success 'a transient 503 on the retry counts as an attempt and a failure; then all three are delivered' '
	fake_fault "{\"method\": \"POST\", \"path\": \"/v1/projects/hr/issues$\", \"status\": 503, \"message\": \"busy\", \"times\": 1}" &&
	test_expect_code 1 bbgitops deliver --retry 1 2>/dev/null &&
	status_samples &&
	expect_issues hr 0 3 0 0 0 &&
	expect_value bbgitops_delivery_attempts_total "repository=\"hr\"" 2 &&
	expect_value bbgitops_delivery_failures_total "repository=\"hr\"" 2 &&
	bbgitops deliver --now &&
	status_samples &&
	expect_issues hr 0 0 3 0 0 &&
	expect_value bbgitops_delivery_attempts_total "repository=\"hr\"" 5 &&
	expect_value bbgitops_delivery_failures_total "repository=\"hr\"" 2 &&
	expect_value bbgitops_oldest_pending_issue_age_seconds "repository=\"hr\"" 0
'

test_expect_success 'skipped: a failed issue skipped lets the next one through' '
	push_migrations 2 &&
	fake_fault "{\"method\": \"POST\", \"path\": \"/v1/projects/hr/issues$\", \"status\": 400, \"message\": \"refused\", \"times\": 1}" &&
	test_expect_code 1 bbgitops deliver --now 2>/dev/null &&
	status_samples &&
	expect_issues hr 0 1 3 1 0 &&
	bbgitops deliver --skip 4 &&
	status_samples &&
	expect_issues hr 0 0 4 0 1 &&
	expect_value bbgitops_delivery_attempts_total "repository=\"hr\"" 7 &&
	expect_value bbgitops_delivery_failures_total "repository=\"hr\"" 3
'

test_expect_success 'one of each: a failed issue holding back a pending one, beside the created and the skipped' '
	push_migrations 1 &&
	fake_fault "{\"method\": \"POST\", \"path\": \"/v1/projects/hr/issues$\", \"status\": 400, \"message\": \"refused\", \"times\": 1}" &&
	test_expect_code 1 bbgitops deliver --now 2>/dev/null &&
	push_migrations 1 &&
	status_samples &&
	expect_issues hr 0 1 4 1 1 &&
	expect_value bbgitops_delivery_attempts_total "repository=\"hr\"" 8 &&
	expect_value bbgitops_delivery_failures_total "repository=\"hr\"" 4 &&
	expect_issues payroll 0 0 0 0 0 &&
	for s in local pending created failed skipped
	do
		test "$(issue_count --repo hr --status $s)" = \
			"$(value bbgitops_issues "repository=\"hr\",status=\"$s\"")" || return 1
	done
'

test_expect_success 'the next poll writes the same counts to the file as status --prometheus prints' '
	test_expect_code 1 bbgitops poll 2>/dev/null &&
	status_samples &&
	samples "$METRICS" >file.samples &&
	grep -v -e _age_seconds -e _size_bytes status.samples >expect &&
	grep -v -e _age_seconds -e _size_bytes file.samples >actual &&
	test_cmp expect actual &&
	expect_issues hr 0 1 4 1 1 file.samples &&
	expect_value bbgitops_delivery_attempts_total "repository=\"hr\"" 8 file.samples &&
	expect_value bbgitops_fetch_failures_total "repository=\"payroll\"" 3 file.samples &&
	expect_value bbgitops_poll_failures_total "repository=\"payroll\"" 3 file.samples
'

test_expect_success 'an unwritable metrics file fails the poll with a message naming it; the state is unharmed' '
	write_config <<-EOF &&
	poll = { metrics_file = "$TRASH_DIRECTORY/no-such-dir/bbgitops.prom"; };
	repositories = ( { name = "hr"; path = "$TRASH_DIRECTORY/hr.git"; base_directory = "bytebase"; } );
	EOF
	test_expect_code 1 bbgitops poll 2>err &&
	test_grep "no-such-dir/bbgitops.prom" err &&
	test "$(issue_count)" = 7
'

test_expect_success 'a relative metrics_file is a configuration error' '
	write_config <<-EOF &&
	poll = { metrics_file = "bbgitops.prom"; };
	repositories = ( { name = "hr"; path = "$TRASH_DIRECTORY/hr.git"; } );
	EOF
	test_expect_code 2 bbgitops check-config 2>err &&
	test_grep "metrics_file.* must be an absolute path" err
'

test_expect_success 'status rejects --json with --prometheus' '
	test_expect_code 2 bbgitops status --json --prometheus 2>err &&
	test_grep "usage" err
'

test_done
