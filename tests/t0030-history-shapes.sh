#!/bin/sh
test_description='post-receive: one issue per first-parent commit carrying migrations, oldest first (design §3)'

. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"

test_expect_success 'setup' '
	setup_server_repo hr &&
	write_repo_config hr &&
	install_hook "$TRASH/hr.git" &&
	(
		cd hr &&
		add_file README hello &&
		commit_all "Initial commit" &&
		push_to ../push0.out origin main
	) &&
	echo 0 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'a push of several commits queues one issue per commit with migrations, oldest first' '
	(
		cd hr &&
		add_file bytebase/0001_a.sql && commit_all "First" &&
		add_file docs/readme.md && commit_all "No migration here" &&
		add_file bytebase/0002_b.sql && add_file bytebase/0003_c.sql && commit_all "Second" &&
		add_file bytebase/0004_d.sql && commit_all "Third" &&
		git log --format="%H %s" --first-parent -4 --reverse | grep -v "No migration" >../expect &&
		push_to ../push1.out origin main
	) &&
	issues_json >issues.json &&
	json_query "[\"%s %s\" % (i[\"commit\"], i[\"title\"]) for i in d]" issues.json >actual &&
	test_cmp expect actual &&
	json_query "[i[\"id\"] for i in d] == sorted(set(i[\"id\"] for i in d))" issues.json >actual &&
	echo true >expect &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	bytebase/0001_a.sql
	bytebase/0002_b.sql,bytebase/0003_c.sql
	bytebase/0004_d.sql
	EOF
	json_query "[\",\".join(f[\"path\"] for f in i[\"files\"]) for i in d]" issues.json >actual &&
	test_cmp expect actual
'

test_expect_success 'the hook line counts migrations and issues of the whole push' '
	bbgitops_lines push1.out >lines &&
	test_line_count = 1 lines &&
	test_grep -E "^remote: bbgitops: main: 4 migrations queued as 3 rollout issues" lines
'

test_expect_success 'a --no-ff merge of a feature branch is one issue for the merge commit' '
	(
		cd hr &&
		git checkout -q -b feature &&
		add_file bytebase/0005_e.sql && commit_all "Feature part 1" &&
		add_file bytebase/0006_f.sql && commit_all "Feature part 2" &&
		git checkout -q main &&
		add_file docs/other.md && commit_all "Meanwhile on main" &&
		git merge -q --no-ff -m "Merge feature" feature &&
		push_to ../push2.out origin main
	) &&
	issues_json >issues.json &&
	echo 4 >expect &&
	json_query "len(d)" issues.json >actual &&
	test_cmp expect actual &&
	echo "$(git -C hr rev-parse HEAD) Merge feature bytebase/0005_e.sql,bytebase/0006_f.sql" >expect &&
	json_query "\"%s %s %s\" % (d[-1][\"commit\"], d[-1][\"title\"], \",\".join(f[\"path\"] for f in d[-1][\"files\"]))" \
		issues.json >actual &&
	test_cmp expect actual
'

test_expect_success 'the side commits of a merged branch get no issue of their own' '
	git -C hr rev-parse feature feature^ >side &&
	issue_lines commit >commits &&
	! grep -F -f side commits
'

test_expect_success 'a fast-forward merge of a feature branch gives one issue per landed commit' '
	(
		cd hr &&
		git checkout -q -b feature2 &&
		add_file bytebase/0007_g.sql && commit_all "FF part 1" &&
		add_file bytebase/0008_h.sql && commit_all "FF part 2" &&
		git checkout -q main &&
		git merge -q --ff-only feature2 &&
		push_to ../push3.out origin main
	) &&
	issues_json >issues.json &&
	cat >expect <<-\EOF &&
	FF part 1 bytebase/0007_g.sql
	FF part 2 bytebase/0008_h.sql
	EOF
	json_query "[\"%s %s\" % (i[\"title\"], \",\".join(f[\"path\"] for f in i[\"files\"])) for i in d[-2:]]" \
		issues.json >actual &&
	test_cmp expect actual
'

test_expect_success 'a merge whose first-parent diff has no migration creates no issue' '
	(
		cd hr &&
		git checkout -q -b feature3 &&
		add_file docs/feature3.md && commit_all "Docs only" &&
		git checkout -q main &&
		git merge -q --no-ff -m "Merge docs" feature3 &&
		push_to ../push4.out origin main
	) &&
	echo 6 >expect &&
	issue_count >actual &&
	test_cmp expect actual
'

test_expect_success 'a lower version landing after a higher one still gets its issue' '
	(
		cd hr &&
		add_file bytebase/0100_high.sql && commit_all "High" &&
		push_to ../push5.out origin main &&
		add_file bytebase/0050_low.sql && commit_all "Low" &&
		push_to ../push6.out origin main
	) &&
	cat >expect <<-\EOF &&
	High bytebase/0100_high.sql
	Low bytebase/0050_low.sql
	EOF
	issue_lines title files >all &&
	tail -n 2 all >actual &&
	test_cmp expect actual
'

test_expect_success 'a squash merge is one issue for the squashed commit' '
	(
		cd hr &&
		git checkout -q -b feature4 &&
		add_file bytebase/0101_s1.sql && commit_all "S1" &&
		add_file bytebase/0102_s2.sql && commit_all "S2" &&
		git checkout -q main &&
		git merge -q --squash feature4 &&
		git commit -q -m "Squashed feature4" &&
		push_to ../push7.out origin main
	) &&
	echo "Squashed feature4 bytebase/0101_s1.sql,bytebase/0102_s2.sql" >expect &&
	issue_lines title files >all &&
	tail -n 1 all >actual &&
	test_cmp expect actual
'

test_expect_success 'a merge commit modifying a migration on main through the side branch queues the new content' '
	(
		cd hr &&
		git checkout -q -b feature5 &&
		add_file bytebase/0001_a.sql "SELECT 42;" && commit_all "Fix a" &&
		git checkout -q main &&
		git merge -q --no-ff -m "Merge fix" feature5 &&
		push_to ../push8.out origin main
	) &&
	echo "Merge fix bytebase/0001_a.sql $(git -C hr rev-parse HEAD:bytebase/0001_a.sql)" >expect &&
	issue_files -1 path blob >files &&
	test_line_count = 1 files &&
	echo "$(issue_field -1 title) $(cat files)" >actual &&
	test_cmp expect actual
'

test_done
