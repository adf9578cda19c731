#!/bin/sh
test_description='the post-receive hook SIGKILLed at random moments during branch creations, ordinary pushes and forced updates: after the next poll nothing is lost and nothing duplicated, checked against git log (issue 9)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

# BBGITOPS_TEST_CRASH_TRIALS: number of killed pushes (200 by default); BBGITOPS_TEST_CRASH_SEED: the random seed.
TRIALS=${BBGITOPS_TEST_CRASH_TRIALS:-200}
SEED=${BBGITOPS_TEST_CRASH_SEED:-$$}

# The wrapper runs the real hook in the background and SIGKILLs it after $TRASH/delay seconds (if still running),
# appending "killed" or "finished" to $TRASH/outcomes.
kill_hook () {
	mv "$1/hooks/post-receive" "$1/hooks/post-receive.real" &&
	cat >"$1/hooks/post-receive" <<-EOF &&
	#!/bin/sh
	cat >"$TRASH/hook.stdin"
	"$1/hooks/post-receive.real" <"$TRASH/hook.stdin" &
	pid=\$!
	sleep "\$(cat "$TRASH/delay")"
	if kill -9 \$pid 2>/dev/null
	then
		echo killed >>"$TRASH/outcomes"
	else
		echo finished >>"$TRASH/outcomes"
	fi
	wait
	EOF
	chmod +x "$1/hooks/post-receive"
}

# commit_migration BRANCH: one commit on the checked-out branch adding one new migration; "commit branch path"
# goes to $TRASH/owned (the branch that made the commit owns its file).
commit_migration () {
	version=$(($(cat "$TRASH/version") + 1)) &&
	echo "$version" >"$TRASH/version" &&
	_path=bytebase/$(printf %06d "$version")_m.sql &&
	add_file "$_path" "SELECT $version;" &&
	git commit -q -m "m$version on $1" &&
	echo "$(git rev-parse HEAD) $1 $_path" >>"$TRASH/owned"
}

test_expect_success 'setup: every branch watched, pre-receive and post-receive installed, the post-receive killable' '
	setup_server_repo hr &&
	write_repo_config hr "branch = \"*\";" &&
	install_hook "$TRASH/hr.git" &&
	"$BBGITOPS" -c "$CONF" install-hook "$TRASH/hr.git" --pre-receive &&
	echo 0 >version &&
	: >owned &&
	: >outcomes &&
	echo 5 >delay &&
	(
		cd hr &&
		commit_migration main &&
		push_to ../push0.out origin main
	) &&
	kill_hook "$TRASH/hr.git" &&
	awk -v n="$TRIALS" -v seed="$SEED" "BEGIN { srand(seed)
		for (i = 0; i < n; i++) printf \"%d %.3f %d %d\\n\", int(rand() * 3), rand() * 0.12, int(rand() * 1000), 1 + int(rand() * 3) }" \
		</dev/null >plan
'

test_expect_success "$TRIALS pushes (creations, fast-forwards, forced updates) with the hook killed at random moments" '
	(
		cd hr &&
		n=0 &&
		while read -r op delay pick count
		do
			n=$((n + 1)) &&
			echo "$delay" >../delay &&
			git for-each-ref --format="%(refname:short)" refs/heads >../branches &&
			nb=$(wc -l <../branches) &&
			branch=$(sed -n "$((pick % nb + 1))p" ../branches) &&
			case $op in
			0)
				# a branch creation from the tip of an existing branch, with new commits
				new=b$n &&
				git checkout -q -b "$new" "$branch" &&
				for _c in $(test_seq "$count"); do commit_migration "$new" || exit 1; done &&
				git push -q origin "$new" >>../push.out 2>&1
				;;
			1)
				# an ordinary push: new commits on an existing branch
				git checkout -q "$branch" &&
				for _c in $(test_seq "$count"); do commit_migration "$branch" || exit 1; done &&
				git push -q origin "$branch" >>../push.out 2>&1
				;;
			2)
				# a forced update: the branch rewound by one commit (when it has a parent), then new commits
				git checkout -q "$branch" &&
				if git rev-parse -q --verify HEAD~1 >/dev/null
				then
					git reset -q --hard HEAD~1
				fi &&
				for _c in $(test_seq "$count"); do commit_migration "$branch" || exit 1; done &&
				git push -q -f origin "$branch" >>../push.out 2>&1
				;;
			esac || { echo "trial $n ($op on $branch) failed" >&2; exit 1; }
		done <../plan
	) &&
	test_line_count = "$TRIALS" outcomes
'

test_expect_success 'after one poll, every migration of every branch is queued exactly once on its branch' '
	bbgitops poll 2>poll.err &&
	issues_json >issues.json &&
	git -C hr.git for-each-ref --format="%(refname:short)" refs/heads >branches &&
	while read -r b
	do
		echo "branch $b" &&
		git -C hr.git log --first-parent --format=%H "$b" || return 1
	done <branches >logs &&
	"$PYTHON" - owned logs issues.json >report <<-\EOF &&
	import collections, json, sys
	owned = {}
	for line in open(sys.argv[1]):
	    commit, branch, path = line.split()
	    owned[commit] = (branch, path)
	expected = collections.defaultdict(set)
	branch = None
	for line in open(sys.argv[2]):
	    line = line.strip()
	    if line.startswith("branch "):
	        branch = line[7:]
	    elif line in owned and owned[line][0] == branch:
	        expected[branch].add(owned[line][1])
	queued = collections.defaultdict(collections.Counter)
	for issue in json.load(open(sys.argv[3])):
	    for f in issue["files"]:
	        queued[issue["branch"]][f["path"]] += 1
	lost = [(b, p) for b in expected for p in sorted(expected[b]) if queued[b][p] == 0]
	dup = [(b, p, n) for b in queued for p, n in queued[b].items() if n > 1]
	foreign = [(b, p) for b in queued for p in queued[b]
	           if any(o[1] == p and o[0] != b for o in owned.values())]
	print("expected %d, lost %d, duplicated %d, foreign %d" % (sum(map(len, expected.values())), len(lost),
	      len(dup), len(foreign)))
	for x in lost[:20]: print("lost", *x)
	for x in dup[:20]: print("duplicated", *x)
	for x in foreign[:20]: print("foreign", *x)
	sys.exit(1 if lost or dup or foreign else 0)
	EOF
	cat report >&2
'

# The figures, as TAP diagnostics.
{
	echo "seed $SEED: $TRIALS pushes, $(grep -c killed outcomes) hooks killed, $(grep -c finished outcomes) finished first"
	cat report
} 2>/dev/null | say_diag

test_done
