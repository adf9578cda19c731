# lib-delivery.sh — helpers for the delivery tests (t05NN): the fake Bytebase server (tests/fake-bytebase.py) and
# its control API, a configuration with a bytebase section, and pushes that queue issues.
# Sourced after test-lib.sh.

FAKE_KEY=bbs_testkey0123456789
FAKE_ACCOUNT=bbgitops@service.bytebase.com
FAKE_PID=
FAKE_PORT=
FAKE_URL=

# The releases the delivery suites play: one per release range (2.15–2.16, 2.17–3.5, 3.6, 3.7–3.13 twice because
# its enums change inside, 3.14+). BB_TEST_VERSIONS overrides the list.
DELIVERY_VERSIONS=${BB_TEST_VERSIONS:-"2.16.0 3.5.2 3.6.2 3.8.0 3.13.0 3.21.1"}

# version_setup VERSION: sets $range (steps | specs | release), $api (auto: the version is detected), $target (the
# repository's targets) and $rollout_path (the route that creates a rollout) for VERSION.
version_setup () {
	case $1 in
	2.*|3.[0-6].*) range=steps rollout_path='/rollouts$'
	    target='databases = ["instances/test-pg/databases/hr", "instances/prod-pg/databases/hr"];' ;;
	3.[7-9].*|3.1[0-3].*) range=specs rollout_path='/rollouts$' target='database_group = "hr-all";' ;;
	*) range=release rollout_path='/rollout$' target='database_group = "hr-all";' ;;
	esac
	api=auto
}

# start_fake v2|v3|--version VERSION [fake-bytebase.py options...]: starts the fake server (stops a running one
# first); v2 and v3 stand for 2.17.0 and 3.21.1.
start_fake () {
	stop_fake
	case $1 in v2|v3) set -- --dialect "$@" ;; esac
	rm -f "$TRASH_DIRECTORY/fake.port"
	python3 "$TEST_SRCDIR/fake-bytebase.py" "$@" --port-file "$TRASH_DIRECTORY/fake.port" \
		--log "$TRASH_DIRECTORY/fake.log" >>"$TRASH_DIRECTORY/fake.stderr" 2>&1 &
	FAKE_PID=$!
	_i=0
	while ! test -s "$TRASH_DIRECTORY/fake.port"
	do
		_i=$((_i + 1))
		if test $_i -gt 200
		then
			echo >&2 "fake-bytebase did not start"
			cat >&2 "$TRASH_DIRECTORY/fake.stderr"
			return 1
		fi
		sleep 0.05
	done
	FAKE_PORT=$(cat "$TRASH_DIRECTORY/fake.port")
	FAKE_URL=http://127.0.0.1:$FAKE_PORT
}

stop_fake () {
	if test -n "$FAKE_PID"
	then
		kill "$FAKE_PID" 2>/dev/null
		wait "$FAKE_PID" 2>/dev/null
		FAKE_PID=
	fi
	return 0
}

test_at_exit stop_fake

# fake METHOD PATH [JSON]: a control call (/__fake/...), the reply on stdout.
fake () {
	curl -sS -f -X "$1" -H 'Content-Type: application/json' ${3+--data "$3"} "$FAKE_URL$2"
}

# fake_fault JSON: adds a fault (see fake-bytebase.py: method, path, times, status, retry_after, message, delay,
# drop).
fake_fault () {
	fake POST /__fake/faults "$1" >/dev/null
}

fake_clear_faults () {
	fake DELETE /__fake/faults >/dev/null
}

fake_reset () {
	fake POST /__fake/reset '{}' >/dev/null
}

fake_set () {
	fake POST /__fake/settings "$1" >/dev/null
}

# fake_objects FILE: every object the fake server holds, as JSON, into FILE.
fake_objects () {
	fake GET /__fake/objects >"$1"
}

# fake_count KIND: how many objects of KIND (sheets, plans, issues, rollouts, releases) the server holds.
fake_count () {
	fake GET /__fake/objects | json_query "len(d['$1'])"
}

# fake_no_drops: the fake's release dropped nothing we sent (no unknown field, enum value, query parameter or
# route); prints what it dropped otherwise.
fake_no_drops () {
	fake GET /__fake/drops >"$TRASH_DIRECTORY/.drops.json" &&
	if test "$(json_query "len(d)" "$TRASH_DIRECTORY/.drops.json")" != 0
	then
		echo >&2 "the fake's release dropped what it does not declare:"
		cat >&2 "$TRASH_DIRECTORY/.drops.json"
		return 1
	fi
}

# fake_requests FILE: the request log (method, path, query, status, body, has_auth, connection).
fake_requests () {
	fake GET /__fake/requests >"$1"
}

# write_key: the service key file (mode 600).
write_key () {
	(umask 077 && printf '%s\n' "${1-$FAKE_KEY}" >"$TRASH_DIRECTORY/service-key")
}

# write_delivery_config API DELIVER [REPO SETTINGS...]: configuration for repository "hr" (project hr) at
# $TRASH/hr.git with a bytebase section pointing at the fake server (timeout 2 unless $DELIVERY_TIMEOUT),
# bytebase.api = API, hook.deliver = DELIVER; each further argument is added to the repository entry.
write_delivery_config () {
	_api=$1
	_deliver=$2
	shift 2
	write_key &&
	write_config <<-EOF
	bytebase = {
	  url = "$FAKE_URL";
	  service_account = "$FAKE_ACCOUNT";
	  service_key_file = "$TRASH_DIRECTORY/service-key";
	  timeout = ${DELIVERY_TIMEOUT:-2};
	  api = "$_api";
	};
	hook = { deliver = "$_deliver"; };
	repositories = (
	  { name = "hr"; path = "$TRASH_DIRECTORY/hr.git"; branch = "${DELIVERY_BRANCH:-main}";
	    base_directory = "bytebase"; project = "hr"; $* }
	);
	EOF
}

# deliverer_running: does a deliverer of this test's configuration run? Either a bbgitops-deliver process started
# with -c $CONF (whoever started it: the hook, poll, `bbgitops deliver`), a hook of this configuration (whose
# detached child is a copy of it until it execs the deliverer), or any process holding the deliverer's lock on
# $STATE_DIR/deliver.lock (flock -n fails while it is held).
deliverer_running () {
	ps -eo args >"$TRASH_DIRECTORY/.ps.out" &&
	if grep -F -e "bbgitops-deliver -c $CONF " -e "bbgitops -c $CONF post-receive" "$TRASH_DIRECTORY/.ps.out" \
		>/dev/null
	then
		return 0
	fi &&
	test -e "$STATE_DIR/deliver.lock" &&
	! flock -n "$STATE_DIR/deliver.lock" true
}

# wait_no_deliverer [SECONDS]: waits until no deliverer of this test's configuration runs (default 30 s).
wait_no_deliverer () {
	_i=0
	while deliverer_running
	do
		_i=$((_i + 1))
		if test $_i -gt $((${1:-30} * 10))
		then
			echo >&2 "a deliverer still runs:"
			grep -F -e "bbgitops-deliver" "$TRASH_DIRECTORY/.ps.out" >&2
			return 1
		fi
		sleep 0.1
	done
}

# setup_hr: the bare repository hr.git (hook installed) and its clone hr, with an initial commit pushed.
# Waits for detached deliverers of an earlier test first: they must not see their state vanish.
setup_hr () {
	wait_no_deliverer &&
	rm -rf "$TRASH_DIRECTORY/hr.git" "$TRASH_DIRECTORY/hr" &&
	state_reset &&
	setup_server_repo hr &&
	install_hook "$TRASH_DIRECTORY/hr.git" >/dev/null &&
	(
		cd "$TRASH_DIRECTORY/hr" &&
		echo "hr" >README &&
		git add README &&
		git commit -q -m "initial" &&
		git push -q origin HEAD:main 2>/dev/null
	)
}

# push_migrations N [FIRST] [BRANCH]: N commits, each adding one migration (versions FIRST.., default the next
# free), pushed together to BRANCH (default main). Prints nothing.
push_migrations () {
	_n=$1
	_first=${2:-}
	_br=${3:-main}
	(
		cd "$TRASH_DIRECTORY/hr" &&
		mkdir -p bytebase &&
		if test -z "$_first"
		then
			_first=$(($(ls bytebase | wc -l) + 1))
		fi &&
		_i=0 &&
		while test $_i -lt "$_n"
		do
			_v=$(printf '%04d' $((_first + _i))) &&
			printf 'CREATE TABLE t%s (id int);\n' "$_v" >"bytebase/${_v}_create_t$_v.sql" &&
			git add "bytebase/${_v}_create_t$_v.sql" &&
			git commit -q -m "migration $_v" || return 1
			_i=$((_i + 1))
		done &&
		git push -q origin "HEAD:$_br" >"$TRASH_DIRECTORY/.push.out" 2>&1
	)
}

# deliver_until_done [MAX]: `deliver --now` until no issue is pending (at most MAX runs, default 20).
deliver_until_done () {
	_max=${1:-20}
	_i=0
	while test $_i -lt "$_max"
	do
		bbgitops -q deliver --now >>"$TRASH_DIRECTORY/.deliver.out" 2>&1
		if test "$(issue_count --status pending)" = 0
		then
			return 0
		fi
		_i=$((_i + 1))
	done
	echo >&2 "issues still pending after $_max deliveries:"
	issues_json >&2
	return 1
}

# wait_created N [SECONDS]: waits until N issues are created (default 30 s).
wait_created () {
	_want=$1
	_secs=${2:-30}
	_i=0
	while test $_i -lt $((_secs * 10))
	do
		if test "$(issue_count --status created)" = "$_want"
		then
			return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	echo >&2 "not $_want created issues after $_secs s:"
	issues_json >&2
	return 1
}

# check_exactly_once: every queued issue exists exactly once on the server: as many Bytebase issues as queued
# issues, each local issue names a distinct Bytebase issue whose description holds its provenance line.
check_exactly_once () {
	fake_no_drops &&
	issues_json >"$TRASH_DIRECTORY/.local.json" &&
	fake_objects "$TRASH_DIRECTORY/.objects.json" &&
	python3 - "$TRASH_DIRECTORY/.local.json" "$TRASH_DIRECTORY/.objects.json" <<-\EOF
	import json, sys
	local = json.load(open(sys.argv[1]))
	objs = json.load(open(sys.argv[2]))
	remote = {i["name"]: i for i in objs["issues"]}
	bad = []
	names = [i["bytebase_issue"] for i in local]
	if len(remote) != len(local):
	    bad.append("%d Bytebase issues for %d queued issues" % (len(remote), len(local)))
	if len(set(names)) != len(names):
	    bad.append("duplicate Bytebase issue names: %r" % names)
	for i in local:
	    if i["status"] != "created":
	        bad.append("issue %s is %s: %s" % (i["id"], i["status"], i["last_error"]))
	        continue
	    r = remote.get(i["bytebase_issue"])
	    prov = "bbgitops: %s@%s %s" % (i["repository"], i["branch"], i["commit"])
	    if r is None:
	        bad.append("issue %s: %s not on the server" % (i["id"], i["bytebase_issue"]))
	    elif prov not in r.get("description", ""):
	        bad.append("issue %s: %s lacks %s" % (i["id"], i["bytebase_issue"], prov))
	    n = sum(1 for x in remote.values() if prov in x.get("description", ""))
	    want = sum(1 for j in local if (j["repository"], j["branch"], j["commit"]) ==
	               (i["repository"], i["branch"], i["commit"]))
	    if n != want:
	        bad.append("issue %s: %d Bytebase issues carry %s, want %d" % (i["id"], n, prov, want))
	# v3: one plan per marker
	titles = [p.get("title", "") for p in objs["plans"] if p.get("title", "").startswith("bbgitops:")]
	if len(set(titles)) != len(titles):
	    bad.append("duplicate v3 plans: %r" % sorted(titles))
	# one rollout per plan
	rplans = [r.get("plan") for r in objs["rollouts"]]
	if len(set(rplans)) != len(rplans):
	    bad.append("duplicate rollouts: %r" % sorted(rplans))
	for b in bad:
	    print(b)
	sys.exit(1 if bad else 0)
	EOF
}
