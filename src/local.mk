# The two programs: bbgitops (bindir) and its network half bbgitops-deliver (pkglibexecdir, found by launch.c
# through LIBEXECDIR or $BBGITOPS_EXEC_PATH). Modules both link are compiled once, into libbbgitops-common.a.
bin_PROGRAMS += bbgitops

# Modules the programs share: errors, logging, utilities, configuration, naming rules, state, and the hook's front
# (reading the push, choosing what is watched, the hand-off to poll --daemon: no libgit2 there).
bbgitops_common_sources = \
	%D%/cli.c %D%/cli.h \
	%D%/error.c %D%/error.h \
	%D%/log.c %D%/log.h \
	%D%/util.c %D%/util.h \
	%D%/config.c %D%/config.h \
	%D%/migration.c %D%/migration.h \
	%D%/state.c %D%/state.h %D%/state_internal.h \
	%D%/state_sqlite.c %D%/state_pg.c \
	%D%/state_metrics.c %D%/state_metrics.h \
	%D%/hook_input.c %D%/hook_front.c %D%/hook_front.h \
	%D%/hook_handoff.c %D%/hook_handoff.h

noinst_LIBRARIES += libbbgitops-common.a
libbbgitops_common_a_SOURCES = $(bbgitops_common_sources)
libbbgitops_common_a_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS) $(SQLITE3_CFLAGS) $(LIBPQ_CFLAGS) $(JANSSON_CFLAGS)
bbgitops_common_lib = libbbgitops-common.a $(LIBCONFIG_LIBS) $(SQLITE3_LIBS) $(DL_LIBS) $(JANSSON_LIBS)

# The git side: repository access and the engine.
bbgitops_git_sources = \
	%D%/repo.c %D%/repo.h \
	%D%/catchup.c %D%/catchup.h \
	%D%/branch_start.c %D%/branch_start.h \
	%D%/walk.c %D%/walk.h \
	%D%/commit_graph.c %D%/commit_graph.h \
	%D%/issue_text.c %D%/issue_text.h \
	%D%/issue_json.c %D%/issue_json.h

# Delivery to Bytebase (http, API dialects, outbox, the deliver command).
bbgitops_delivery_sources = \
	%D%/http.c %D%/http.h \
	%D%/bb_client.c %D%/bb_client.h %D%/bb_internal.h \
	%D%/bb_targets.c %D%/bb_targets.h \
	%D%/bb_flow.c %D%/bb_flow.h \
	%D%/bb_flow_steps.c %D%/bb_flow_specs.c %D%/bb_flow_release.c \
	%D%/state_outbox.c %D%/outbox.h \
	%D%/deliver.c %D%/deliver.h \
	%D%/cmd_deliver.c %D%/commands.h \
	$(bbgitops_provider_sources)

# Git provider APIs (issue 12): the merged pull request's comment, doctor's token checks. libcurl side only.
bbgitops_provider_sources = \
	%D%/provider_url.c %D%/provider_url.h \
	%D%/provider_body.c %D%/provider_body.h \
	%D%/provider.c %D%/provider.h %D%/provider_impl.h \
	%D%/provider_github.c %D%/provider_gitlab.c %D%/provider_bitbucket.c \
	%D%/provider_azure.c %D%/provider_gitea.c \
	%D%/state_outbox_comment.c %D%/outbox_comment.h \
	%D%/deliver_comment.c %D%/deliver_comment.h \
	%D%/cmd_doctor.c

# Remote mirrors, poller and backfill.
bbgitops_poll_sources = \
	%D%/remote.c %D%/remote.h %D%/remote_lock.c \
	%D%/poll.c \
	%D%/backfill.c

# bbgitops: the git side. No libcurl here: every push runs this program, and libcurl's TLS/LDAP/Kerberos
# dependencies would double its start-up time (the same reason git keeps curl in git-remote-https).
bbgitops_SOURCES = \
	%D%/main.c %D%/commands.h \
	%D%/launch.c %D%/launch.h %D%/deliver.h \
	%D%/hook.c %D%/hook.h \
	%D%/hook_server.c %D%/hook_server.h \
	%D%/hook_warm.c %D%/hook_warm.h \
	%D%/prefault.c %D%/prefault.h \
	%D%/pre_receive.c \
	%D%/cmd_issues.c \
	%D%/cmd_status.c \
	%D%/metrics.c %D%/metrics.h \
	%D%/cmd_check_config.c \
	%D%/cmd_install_hook.c \
	%D%/cmd_state.c %D%/state_migrate.c %D%/state_migrate.h \
	$(bbgitops_git_sources) \
	$(bbgitops_poll_sources)

bbgitops_LDADD = $(bbgitops_common_lib) $(LIBGIT2_LIBS)
bbgitops_CFLAGS = $(AM_CFLAGS) $(LIBGIT2_CFLAGS) $(LIBCONFIG_CFLAGS) $(SQLITE3_CFLAGS) $(JANSSON_CFLAGS)

# bbgitops-deliver: the Bytebase side (libcurl), no libgit2. Not for users' PATH: bbgitops runs it.
pkglibexec_PROGRAMS = bbgitops-deliver bbgitops-hook
bbgitops_deliver_SOURCES = \
	%D%/deliver_main.c \
	$(bbgitops_delivery_sources)
bbgitops_deliver_LDADD = $(bbgitops_common_lib) $(LIBCURL_LIBS)
bbgitops_deliver_CFLAGS = $(AM_CFLAGS) $(LIBCURL_CFLAGS) $(LIBCONFIG_CFLAGS) $(SQLITE3_CFLAGS) $(JANSSON_CFLAGS)

# bbgitops-hook: the post-receive hook install-hook installs. libconfig only (no libgit2, no SQLite): a push the
# running poll --daemon takes does not pay for loading them; anything else and it becomes bbgitops.
bbgitops_hook_SOURCES = %D%/hook_main.c
bbgitops_hook_LDADD = libbbgitops-common.a $(LIBCONFIG_LIBS)
bbgitops_hook_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS)
