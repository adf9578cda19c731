#!/bin/sh
test_description='the installed layout works: bbgitops in bindir finds bbgitops-deliver in pkglibexecdir by its
compiled-in path (no BBGITOPS_EXEC_PATH), for `deliver` and for a hook that delivers inline. Run by
`make installcheck` (and so by `make distcheck`) against the installed programs.'

# BBGITOPS (the installed bbgitops) and BBGITOPS_INSTALLED_LIBEXECDIR come from installcheck-local (Makefile.am).
BBGITOPS_INSTALLED=1
. "${TEST_SRCDIR:-$(dirname "$0")}/test-lib.sh"
. "$TEST_SRCDIR/lib-delivery.sh"

test_expect_success 'bbgitops-deliver and bbgitops-hook are installed in pkglibexecdir, not beside bbgitops' '
	test -x "$BBGITOPS" &&
	test -x "$BBGITOPS_INSTALLED_LIBEXECDIR/bbgitops-deliver" &&
	test -x "$BBGITOPS_INSTALLED_LIBEXECDIR/bbgitops-hook" &&
	test ! -e "$(dirname "$BBGITOPS")/bbgitops-deliver" &&
	test ! -e "$(dirname "$BBGITOPS")/bbgitops-hook" &&
	test -z "${BBGITOPS_EXEC_PATH+set}"
'

test_expect_success 'installed bbgitops deliver runs the installed helper' '
	write_repo_config hr &&
	bbgitops deliver 2>err &&
	test_grep "^bbgitops: no bytebase section: nothing to deliver$" err
'

test_expect_success 'a hook installed by the installed bbgitops delivers inline through the installed helper' '
	start_fake v2 &&
	write_delivery_config 2 inline "databases = [\"instances/test-pg/databases/hr\"];" &&
	setup_hr &&
	push_migrations 1 &&
	test "$(issue_field 1 status)" = created &&
	test "$(fake_count issues)" = 1
'

test_expect_success 'the hook the installed bbgitops writes starts with the installed bbgitops-hook' '
	test_grep "^exec .*$BBGITOPS_INSTALLED_LIBEXECDIR/bbgitops-hook'"'"' '"'"'$BBGITOPS'"'"' -c " \
		"$TRASH/hr.git/hooks/post-receive"
'

test_expect_success 'the installed post-receive shim runs the installed bbgitops-hook, which queues the push' '
	test -x "$BBGITOPS_INSTALLED_HOOKDIR/post-receive" &&
	test_grep "^helper=.*:-$BBGITOPS_INSTALLED_LIBEXECDIR}/bbgitops-hook$" "$BBGITOPS_INSTALLED_HOOKDIR/post-receive" &&
	cp "$BBGITOPS_INSTALLED_HOOKDIR/post-receive" "$TRASH/hr.git/hooks/post-receive" &&
	cat >"$TRASH/installed-bbgitops" <<-EOF &&
	#!/bin/sh
	echo "\${BBGITOPS_HOOK_OFFERED:-not after bbgitops-hook}" >>"$TRASH/how"
	exec "$BBGITOPS" "\$@"
	EOF
	chmod +x "$TRASH/installed-bbgitops" &&
	before=$(issue_count) &&
	(
		BBGITOPS_BIN=$TRASH/installed-bbgitops BBGITOPS_CONFIG=$CONF &&
		export BBGITOPS_BIN BBGITOPS_CONFIG &&
		push_migrations 1
	) &&
	test "$(issue_count)" = $((before + 1)) &&
	test "$(cat "$TRASH/how")" = 1
'

stop_fake
test_done
