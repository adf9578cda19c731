#!/bin/sh
test_description='PostgreSQL: a fleet of three machines (three configurations, each its own state_dir and mirrors,
one shared database) runs three pollers and three deliverers at once over the same remote repositories while
migrations are pushed; one poller and one deliverer are SIGKILLed at random moments. Every migration is queued
once, every issue is created once in Bytebase, and in branch order'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-remote.sh"
. "$TEST_SRCDIR/lib-delivery.sh"
. "$TEST_SRCDIR/lib-pg.sh"
pg_need

PUSHES=${PUSHES:-24}
REPOS="hr payroll"
BRANCHES="main release"

# machine_config N: $TRASH/MN.conf: state_dir $TRASH/MN/state, the shared database, the fake Bytebase, a poller
# that cycles every second, repositories hr and payroll (every branch) from the git daemon.
machine_config () {
	mkdir -p "M$1" &&
	write_config "$TRASH/M$1.conf" <<-EOF
	state_dir = "$TRASH/M$1/state";
	$(pg_state_section)
	bytebase = {
	  url = "$FAKE_URL";
	  service_account = "$FAKE_ACCOUNT";
	  service_key_file = "$TRASH/service-key";
	  timeout = 5;
	};
	poll = { interval = 1; jitter = 0; timeout = 30; };
	repositories = (
	  { name = "hr"; url = "$DAEMON_URL/hr.git"; branch = "*"; base_directory = "bytebase"; project = "hr"; },
	  { name = "payroll"; url = "$DAEMON_URL/payroll.git"; branch = "*"; base_directory = "bytebase";
	    project = "hr"; }
	);
	EOF
}

# rand LOW HIGH: a random number of seconds between LOW and HIGH, three decimals.
rand () {
	"$PYTHON" -c 'import random, sys; print("%.3f" % random.uniform(float(sys.argv[1]), float(sys.argv[2])))' "$@"
}

# killer NAME LOW HIGH CMD...: until the file "stop" exists, runs CMD and SIGKILLs it after LOW..HIGH seconds;
# counts kills of a still running CMD in kills-NAME.
killer () {
	_name=$1 _low=$2 _high=$3
	shift 3
	: >"kills-$_name"
	while ! test -e stop
	do
		"$@" >>"$_name.log" 2>&1 &
		_pid=$!
		sleep "$(rand "$_low" "$_high")"
		if kill -9 "$_pid" 2>/dev/null
		then
			echo killed >>"kills-$_name"
		fi
		wait "$_pid" 2>/dev/null
	done
}

# looper NAME CMD...: until the file "stop" exists, runs CMD again and again.
looper () {
	_name=$1
	shift
	while ! test -e stop
	do
		"$@" >>"$_name.log" 2>&1
		sleep 0.1
	done
}

# push_random I: push I: one or two commits, each adding a migration, to a random branch of a random repository.
push_random () {
	_repo=$(rand 0 1) &&
	case "$_repo" in 0.[0-4]*) _repo=hr ;; *) _repo=payroll ;; esac &&
	_br=$(rand 0 1) &&
	case "$_br" in 0.[0-4]*) _br=main ;; *) _br=release ;; esac &&
	_n=$(rand 0 1) &&
	case "$_n" in 0.[0-6]*) _n=1 ;; *) _n=2 ;; esac &&
	(
		cd "work-$_repo" &&
		git checkout -q "$_br" &&
		for _k in $(test_seq "$_n")
		do
			_v=$(printf '%03d%d' "$1" "$_k") &&
			add_file "bytebase/${_v}_${_br}_t$_v.sql" "CREATE TABLE ${_br}_t$_v (id int);" &&
			git commit -q -m "$_repo $_br $_v" || return 1
		done &&
		git push -q origin "$_br" 2>/dev/null
	)
}

test_expect_success 'setup: two remote repositories with two branches, three machines, cursors at the tips' '
	start_fake v2 &&
	fake_fault "{\"delay\": 0.08}" &&
	write_key &&
	mkdir srv &&
	for r in $REPOS
	do
		git init -q --bare "srv/$r.git" &&
		git clone -q "srv/$r.git" "work-$r" 2>/dev/null &&
		(
			cd "work-$r" &&
			echo "$r" >README &&
			commit_all initial &&
			git push -q origin HEAD:main 2>/dev/null &&
			git branch release &&
			git push -q origin release 2>/dev/null
		) || return 1
	done &&
	start_git_daemon "$TRASH/srv" &&
	machine_config 1 &&
	machine_config 2 &&
	machine_config 3 &&
	CONF=$TRASH/M2.conf &&
	bbgitops poll >first-poll.out 2>&1 &&
	test "$(issue_count)" = 0
'

test_expect_success "the fleet at work: $PUSHES pushes while three pollers and three deliverers run, one of each killed again and again" '
	rm -f stop &&
	{ "$BBGITOPS" -c M2.conf -q poll --daemon >>poller-2.log 2>&1 & p2=$!; } &&
	{ "$BBGITOPS" -c M3.conf -q poll --daemon >>poller-3.log 2>&1 & p3=$!; } &&
	{ killer poller-1 0.05 1.5 "$BBGITOPS" -c M1.conf -q poll --daemon & k1=$!; } &&
	{ looper deliverer-2 "$BBGITOPS" -c M2.conf -q deliver --now & d2=$!; } &&
	{ looper deliverer-3 "$BBGITOPS" -c M3.conf -q deliver --now & d3=$!; } &&
	{ killer deliverer-1 0.05 0.6 "$BBGITOPS" -c M1.conf -q deliver --now & d1=$!; } &&
	for i in $(test_seq "$PUSHES")
	do
		push_random "$i" &&
		sleep "$(rand 0.05 0.4)" || break
	done &&
	sleep 3 &&
	touch stop &&
	kill -TERM $p2 $p3 &&
	wait $p2 $p3 $k1 $d1 $d2 $d3 &&
	test_diag "$(wc -l <kills-poller-1) pollers and $(wc -l <kills-deliverer-1) deliverers killed;" \
		"$(issue_count) issues queued, $(issue_count --status created) created meanwhile"
'

test_expect_success 'after one more poll and delivery: every migration queued once, in history order' '
	bbgitops poll >last-poll.out 2>&1 &&
	deliver_until_done &&
	issues_json >issues.json &&
	for r in $REPOS
	do
		for b in $BRANCHES
		do
			git -C "srv/$r.git" rev-list --reverse --first-parent "$b" -- bytebase >"expect-$r-$b" &&
			json_query "[i[\"commit\"] for i in d if i[\"repository\"] == \"$r\" and i[\"branch\"] == \"$b\"]" \
				issues.json >"actual-$r-$b" &&
			test_cmp "expect-$r-$b" "actual-$r-$b" || return 1
		done
	done &&
	test "$(json_query "len(d)" issues.json)" -ge "$PUSHES"
'

test_expect_success 'every issue created once in Bytebase, and each branch in its order' '
	check_exactly_once &&
	fake_objects objects.json &&
	"$PYTHON" - issues.json objects.json <<-\EOF
	import json, re, sys
	local = json.load(open(sys.argv[1]))
	objs = json.load(open(sys.argv[2]))
	want = {}
	for i in local:
	    want.setdefault((i["repository"], i["branch"]), []).append(i["commit"])
	got = {}
	for x in objs["issues"]:   # in creation order
	    m = re.search(r"bbgitops: ([^@\s]+)@(\S+) ([0-9a-f]{40})", x.get("description", ""))
	    got.setdefault((m.group(1), m.group(2)), []).append(m.group(3))
	bad = [k for k in want if got.get(k) != want[k]]
	for k in bad:
	    print("%s@%s created in the order %s, queued %s" % (k[0], k[1], got.get(k), want[k]))
	sys.exit(1 if bad else 0)
	EOF
'

test_expect_success 'the killed machine catches up too: its poll and delivery find nothing left to do' '
	"$BBGITOPS" -c M1.conf poll >m1-poll.out 2>&1 &&
	"$BBGITOPS" -c M1.conf deliver --now >m1-deliver.out 2>&1 &&
	issues_json >issues-after.json &&
	test_cmp issues.json issues-after.json
'

stop_fake
test_done
