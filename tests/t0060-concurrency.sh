#!/bin/sh
test_description='post-receive: concurrent pushes serialize on the state database; every migration is queued once (design §3)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

test_expect_success 'setup: one repository, every branch watched, ten clones' '
	setup_server_repo hr &&
	write_repo_config hr "branch = \"*\";" &&
	install_hook "$TRASH/hr.git" &&
	(
		cd hr &&
		add_file README hello && commit_all "Initial commit" &&
		push_to ../push-init.out origin main &&
		push_to ../push-shared.out origin main:shared
	) &&
	for n in $(test_seq 10)
	do
		git clone -q hr.git c$n 2>/dev/null || return 1
	done &&
	echo 0 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

# Clones 1-6 each create their own branch topic-N; clones 7-9 race on the branch "shared" (fetch, rebase, push
# until accepted); clone 10 pushes three commits to main one after another. Every clone adds its own files.
worker () {
	n=$1
	cd "$TRASH/c$n" || return 1
	case $n in
	[1-6])
		git checkout -q -b topic-$n &&
		add_file bytebase/10${n}_topic_$n.sql "CREATE TABLE t$n (id int);" &&
		add_file bytebase/20${n}_dml_topic_$n.sql "INSERT INTO t$n VALUES ($n);" &&
		commit_all "Topic $n" &&
		timeout 60 git push origin topic-$n >"$TRASH/push-$n.out" 2>&1
		echo $? >"$TRASH/exit-$n"
		;;
	[7-9])
		git checkout -q -b shared origin/shared &&
		add_file bytebase/30${n}_shared_$n.sql "CREATE TABLE s$n (id int);" &&
		commit_all "Shared $n" &&
		tries=0 &&
		while :
		do
			tries=$((tries + 1))
			timeout 60 git push origin shared >"$TRASH/push-$n.out" 2>&1 && { echo 0 >"$TRASH/exit-$n"; break; }
			cat "$TRASH/push-$n.out" >>"$TRASH/push-$n.rejected"
			if test $tries -ge 30
			then
				echo "gave up" >"$TRASH/exit-$n"
				break
			fi
			git pull -q --rebase origin shared >/dev/null 2>&1 || { echo "rebase failed" >"$TRASH/exit-$n"; break; }
		done
		;;
	10)
		: >"$TRASH/exit-10"
		for k in 1 2 3
		do
			add_file bytebase/40${k}_main_$k.sql "CREATE TABLE m$k (id int);" &&
			commit_all "Main $k" &&
			timeout 60 git push origin main >"$TRASH/push-10-$k.out" 2>&1
			echo $? >>"$TRASH/exit-10"
		done
		;;
	esac
}

test_expect_success 'ten concurrent pushes all succeed' '
	for n in $(test_seq 10)
	do
		( worker $n ) &
	done &&
	wait &&
	cat >expect <<-\EOF &&
	exit-1: 0
	exit-10: 0
	exit-10: 0
	exit-10: 0
	exit-2: 0
	exit-3: 0
	exit-4: 0
	exit-5: 0
	exit-6: 0
	exit-7: 0
	exit-8: 0
	exit-9: 0
	EOF
	for f in exit-*; do sed "s/^/$f: /" "$f"; done >actual &&
	test_cmp expect actual
'

test_expect_success 'every migration is queued exactly once' '
	{
		for n in 1 2 3 4 5 6
		do
			echo bytebase/10${n}_topic_$n.sql &&
			echo bytebase/20${n}_dml_topic_$n.sql
		done &&
		for n in 7 8 9
		do
			echo bytebase/30${n}_shared_$n.sql
		done &&
		for k in 1 2 3
		do
			echo bytebase/40${k}_main_$k.sql
		done
	} | sort >expect &&
	issues_json >issues.json &&
	json_query "[f[\"path\"] for i in d for f in i[\"files\"]]" issues.json | sort >actual &&
	test_cmp expect actual
'

test_expect_success 'each issue sits on the branch its commit was pushed to' '
	json_query "sorted(set(\"%s %s\" % (i[\"branch\"], [w for w in (\"topic\", \"shared\", \"main\") if w in f[\"path\"]][0])
		for i in d for f in i[\"files\"]))" \
		issues.json >actual &&
	cat >expect <<-\EOF &&
	main main
	shared shared
	topic-1 topic
	topic-2 topic
	topic-3 topic
	topic-4 topic
	topic-5 topic
	topic-6 topic
	EOF
	test_cmp expect actual &&
	json_query "len(d)" issues.json >actual &&
	echo 12 >expect &&
	test_cmp expect actual
'

test_expect_success 'no push saw "database is locked" or any hook error' '
	! grep -i "database is locked" push-*.out &&
	! grep -i "locked" push-*.out &&
	for f in push-[0-9]*.out
	do
		lines=$(grep -c "^remote: bbgitops: " "$f")
		test "$lines" -le 1 || { echo "$f: $lines bbgitops lines"; cat "$f"; return 1; }
	done
'

test_expect_success 'the issues of one branch are in push order (main 1, 2, 3)' '
	cat >expect <<-\EOF &&
	Main 1
	Main 2
	Main 3
	EOF
	json_query "[i[\"title\"] for i in d if i[\"branch\"] == \"main\"]" issues.json >actual &&
	test_cmp expect actual
'

test_expect_success 'state survives: a later push after the storm still queues normally' '
	(
		cd c10 &&
		add_file bytebase/0500_after.sql && commit_all "After" &&
		push_to ../push-after.out origin main
	) &&
	echo 13 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_done
