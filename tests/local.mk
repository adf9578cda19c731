# Tests: C unit tests (TAP on stdout) and shell integration tests (tests/tNNNN-*.sh, TAP via tests/test-lib.sh),
# all run by automake's TAP driver. AM_TESTS_ENVIRONMENT hands the scripts the binary under test.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh .py
PY_LOG_DRIVER = $(LOG_DRIVER)
PY_LOG_COMPILER = python3
SH_LOG_DRIVER = $(LOG_DRIVER)
AM_TESTS_ENVIRONMENT = \
	BBGITOPS='$(abs_top_builddir)/bbgitops'; export BBGITOPS; \
	BBGITOPS_EXEC_PATH='$(abs_top_builddir)'; export BBGITOPS_EXEC_PATH; \
	BBGITOPS_LIBEXECDIR='$(pkglibexecdir)'; export BBGITOPS_LIBEXECDIR; \
	BBGITOPS_TOP_BUILDDIR='$(abs_top_builddir)'; export BBGITOPS_TOP_BUILDDIR; \
	BBGITOPS_TOP_SRCDIR='$(abs_top_srcdir)'; export BBGITOPS_TOP_SRCDIR; \
	TEST_SRCDIR='$(abs_top_srcdir)/tests'; export TEST_SRCDIR; \
	TEST_BUILDDIR='$(abs_top_builddir)/tests'; export TEST_BUILDDIR; \
	LSAN_OPTIONS="suppressions=$(abs_top_srcdir)/tests/lsan.supp:print_suppressions=0$${LSAN_OPTIONS:+:$$LSAN_OPTIONS}"; \
	export LSAN_OPTIONS; \
	BBGITOPS_SANITIZED='$(SANITIZER_CFLAGS)'; export BBGITOPS_SANITIZED;

unit_cflags = $(AM_CFLAGS) $(LIBGIT2_CFLAGS) $(LIBCURL_CFLAGS) $(LIBCONFIG_CFLAGS) $(SQLITE3_CFLAGS) \
	$(JANSSON_CFLAGS) -I$(top_srcdir)/src
unit_ldadd = $(LIBGIT2_LIBS) $(LIBCURL_LIBS) $(LIBCONFIG_LIBS) $(SQLITE3_LIBS) $(DL_LIBS) $(JANSSON_LIBS)

EXTRA_DIST += %D%/unit/tap.h %D%/test-lib.sh %D%/lsan.supp %D%/lib-pg.sh

# --- unit tests (pure logic) ---
check_PROGRAMS += %D%/unit/test-migration
%C%_unit_test_migration_SOURCES = %D%/unit/test-migration.c src/migration.c src/util.c
%C%_unit_test_migration_CFLAGS = $(unit_cflags)

check_PROGRAMS += %D%/unit/test-config
%C%_unit_test_config_SOURCES = %D%/unit/test-config.c src/config.c src/migration.c src/util.c src/error.c src/log.c
%C%_unit_test_config_CFLAGS = $(unit_cflags)
%C%_unit_test_config_LDADD = $(unit_ldadd)

# --- unit tests of the frame: errors, launcher argv, escaping (issue: seams) ---
check_PROGRAMS += %D%/unit/test-error
%C%_unit_test_error_SOURCES = %D%/unit/test-error.c src/error.c
%C%_unit_test_error_CFLAGS = $(unit_cflags)

check_PROGRAMS += %D%/unit/test-util
%C%_unit_test_util_SOURCES = %D%/unit/test-util.c src/util.c
%C%_unit_test_util_CFLAGS = $(unit_cflags)

check_PROGRAMS += %D%/unit/test-names
%C%_unit_test_names_SOURCES = %D%/unit/test-names.c src/http.c src/remote.c src/repo.c
%C%_unit_test_names_CFLAGS = $(unit_cflags)
%C%_unit_test_names_LDADD = libbbgitops-common.a $(unit_ldadd)

check_PROGRAMS += %D%/unit/test-remote-url
%C%_unit_test_remote_url_SOURCES = %D%/unit/test-remote-url.c src/remote.c src/config.c src/migration.c src/util.c \
	src/error.c src/log.c
%C%_unit_test_remote_url_CFLAGS = $(unit_cflags)
%C%_unit_test_remote_url_LDADD = $(unit_ldadd)

# the pure parts of the Bytebase client (issue 8)
check_PROGRAMS += %D%/unit/test-bb
%C%_unit_test_bb_SOURCES = %D%/unit/test-bb.c src/bb_client.c src/bb_flow.c src/bb_targets.c src/http.c \
	src/config.c src/migration.c src/util.c src/error.c src/log.c
%C%_unit_test_bb_SOURCES += src/bb_flow_steps.c src/bb_flow_specs.c src/bb_flow_release.c
%C%_unit_test_bb_CFLAGS = $(unit_cflags)
%C%_unit_test_bb_LDADD = $(unit_ldadd)

# --- unit tests: provider URLs and the comment body (issue: providers) ---
check_PROGRAMS += %D%/unit/test-provider
%C%_unit_test_provider_SOURCES = %D%/unit/test-provider.c src/provider_url.c src/provider_body.c src/config.c \
	src/migration.c src/util.c src/error.c src/log.c
%C%_unit_test_provider_CFLAGS = $(unit_cflags)
%C%_unit_test_provider_LDADD = $(unit_ldadd)

TESTS += $(check_PROGRAMS)

# --- integration tests: engine and post-receive hook (issue: engine) ---
ENGINE_TESTS =
ENGINE_TESTS += %D%/t0100-pre-receive.sh
ENGINE_TESTS += %D%/t0010-post-receive-basic.sh
ENGINE_TESTS += %D%/t0020-naming-rules.sh
ENGINE_TESTS += %D%/t0030-history-shapes.sh
ENGINE_TESTS += %D%/t0040-branches.sh
ENGINE_TESTS += %D%/t0050-rewrites-and-replays.sh
ENGINE_TESTS += %D%/t0060-concurrency.sh
ENGINE_TESTS += %D%/t0070-catch-up-from-cursor.sh
ENGINE_TESTS += %D%/t0080-hook-never-breaks-push.sh
ENGINE_TESTS += %D%/t0090-check-config.sh
TESTS += $(ENGINE_TESTS)
EXTRA_DIST += $(ENGINE_TESTS)

# --- integration tests: delivery to Bytebase (issue: delivery, v2 and v3) ---
DELIVERY_TESTS =
DELIVERY_TESTS += %D%/t0510-deliver-v2.sh
DELIVERY_TESTS += %D%/t0520-deliver-v3.sh
DELIVERY_TESTS += %D%/t0530-deliver-faults.sh
DELIVERY_TESTS += %D%/t0540-deliver-order.sh
DELIVERY_TESTS += %D%/t0550-deliver-sigkill.sh
DELIVERY_TESTS += %D%/t0560-deliver-secrets.sh
DELIVERY_TESTS += %D%/fake-bytebase-selftest.py
# --- delivery to every Bytebase release range (issue 8) ---
DELIVERY_TESTS += %D%/t0570-deliver-ranges.sh
DELIVERY_TESTS += %D%/t0575-deliver-large.sh
DELIVERY_TESTS += %D%/t0580-deliver-encoding.sh
EXTRA_DIST += docs/bytebase-ranges.md
EXTRA_DIST += %D%/fake-bytebase.py %D%/lib-delivery.sh
TESTS += $(DELIVERY_TESTS)
EXTRA_DIST += $(DELIVERY_TESTS)

# --- integration tests: Git provider comments and doctor (issue 12: providers) ---
PROVIDER_TESTS =
PROVIDER_TESTS += %D%/t0600-provider-comment.sh
PROVIDER_TESTS += %D%/t0610-provider-faults.sh
PROVIDER_TESTS += %D%/t0620-provider-sigkill.sh
PROVIDER_TESTS += %D%/t0630-provider-failed.sh
PROVIDER_TESTS += %D%/t0640-doctor.sh
PROVIDER_TESTS += %D%/t0650-provider-secrets.sh
PROVIDER_TESTS += %D%/fake-provider-selftest.py
EXTRA_DIST += %D%/fake-provider.py %D%/lib-provider.sh
TESTS += $(PROVIDER_TESTS)
EXTRA_DIST += $(PROVIDER_TESTS)

# --- integration tests: poller and backfill (issue: poller) ---
POLL_TESTS =
POLL_TESTS += %D%/t0710-poll-remote.sh
POLL_TESTS += %D%/t0720-backfill.sh
POLL_TESTS += %D%/t0730-poll-rewrites.sh
POLL_TESTS += %D%/t0740-poll-and-hook.sh
POLL_TESTS += %D%/t0750-poll-daemon.sh
POLL_TESTS += %D%/t0760-hook-handoff.sh
POLL_TESTS += %D%/t0765-hook-shims.sh
POLL_TESTS += %D%/t0768-hook-read-ahead.sh
EXTRA_DIST += %D%/lib-remote.sh %D%/lib-hook-daemon.sh %D%/git-http-server.py %D%/backfill-oracle.py
TESTS += $(POLL_TESTS)
EXTRA_DIST += $(POLL_TESTS)

# --- integration tests: shared state in PostgreSQL (issue 13); each starts its own cluster (lib-pg.sh) ---
PG_TESTS =
PG_TESTS += %D%/t0940-pg-harness.sh
PG_TESTS += %D%/t0950-pg-failover.sh
PG_TESTS += %D%/t0960-pg-fleet.sh
PG_TESTS += %D%/t0970-pg-down.sh
PG_TESTS += %D%/t0980-pg-migrate.sh
TESTS += $(PG_TESTS)
EXTRA_DIST += $(PG_TESTS)

# --- unit tests: the issue text (engine) ---
check_PROGRAMS += %D%/unit/test-issue-text
%C%_unit_test_issue_text_SOURCES = %D%/unit/test-issue-text.c src/issue_text.c src/util.c
%C%_unit_test_issue_text_CFLAGS = $(unit_cflags)
%C%_unit_test_issue_text_LDADD = $(unit_ldadd)

check_PROGRAMS += %D%/unit/test-raw-tree
%C%_unit_test_raw_tree_SOURCES = %D%/unit/test-raw-tree.c src/repo.c src/util.c src/error.c
%C%_unit_test_raw_tree_CFLAGS = $(unit_cflags)
%C%_unit_test_raw_tree_LDADD = $(unit_ldadd)

# --- git's commit-graph, read by the walk (issue 11; engine) ---
check_PROGRAMS += %D%/unit/test-commit-graph
%C%_unit_test_commit_graph_SOURCES = %D%/unit/test-commit-graph.c src/commit_graph.c src/util.c
%C%_unit_test_commit_graph_CFLAGS = $(unit_cflags)
%C%_unit_test_commit_graph_LDADD = $(unit_ldadd)
TESTS += %D%/t0170-commit-graph.sh
EXTRA_DIST += %D%/t0170-commit-graph.sh

# --- integration tests: nothing lost, whatever happens (issue 9; engine) ---
NOTHING_LOST_TESTS =
NOTHING_LOST_TESTS += %D%/t0110-branch-creation-failures.sh
NOTHING_LOST_TESTS += %D%/t0120-big-push.sh
NOTHING_LOST_TESTS += %D%/t0130-crash-loop.sh
NOTHING_LOST_TESTS += %D%/t0140-max-migration-size.sh
NOTHING_LOST_TESTS += %D%/t0150-existing-commit-new-branch.sh
NOTHING_LOST_TESTS += %D%/t0160-non-utf8-text.sh
TESTS += $(NOTHING_LOST_TESTS)
EXTRA_DIST += $(NOTHING_LOST_TESTS)

# --- integration tests: the frame, the launcher, the build (issue: seams) ---
SEAMS_TESTS =
SEAMS_TESTS += %D%/t0200-test-lib.sh
SEAMS_TESTS += %D%/t0210-launch.sh
SEAMS_TESTS += %D%/t0220-build.sh
# The objects linked into the programs, for t0220's duplicate-symbol check.
print-program-objects:
	@echo $(bbgitops_OBJECTS) $(bbgitops_deliver_OBJECTS) $(libbbgitops_common_a_OBJECTS)
.PHONY: print-program-objects
TESTS += $(SEAMS_TESTS)
EXTRA_DIST += $(SEAMS_TESTS)

# --- operator's kit: manual pages, metrics, completion, Debian package (issue 14: opkit) ---
OPKIT_TESTS =
OPKIT_TESTS += %D%/t0810-man-pages.sh
OPKIT_TESTS += %D%/t0820-metrics.sh
OPKIT_TESTS += %D%/t0830-completion.sh
EXTRA_DIST += %D%/check-man-pages.py %D%/prom-samples.py
# Installs a package system-wide: run once by quickstart.sh test (in build-deb/), not by make check.
EXTRA_DIST += %D%/t0890-debian-package.sh
TESTS += $(OPKIT_TESTS)
EXTRA_DIST += $(OPKIT_TESTS)

# --- integration tests: hardening (issue 9: config mistakes, includes, credentials, messages, fuzzing) ---
HARDENING_TESTS =
HARDENING_TESTS += %D%/t0300-config-mistakes.sh
HARDENING_TESTS += %D%/t0310-config-include.sh
HARDENING_TESTS += %D%/t0320-remote-url-credentials.sh
HARDENING_TESTS += %D%/t0330-hook-messages.sh
TESTS += $(HARDENING_TESTS)
EXTRA_DIST += $(HARDENING_TESTS)

# --- fuzzing (issue 9): one libFuzzer target per parser; ./configure --enable-fuzzing, then `make fuzz`
# (FUZZ_SECONDS per target, default 60) runs each on its seed corpus in tests/fuzz/<target>/ and fails on any finding.
# Provider JSON replies get a target of their own once the provider clients exist.
FUZZ_SOURCES_COMMON = src/util.c src/util.h src/log.c src/log.h src/error.c src/error.h %D%/fuzz/fuzz.h
fuzz_cflags = $(unit_cflags) $(FUZZ_CFLAGS) -I$(top_srcdir)/%D%/fuzz
FUZZ_TARGETS = %D%/fuzz/fuzz-migration-name %D%/fuzz/fuzz-hook-stdin %D%/fuzz/fuzz-config \
	%D%/fuzz/fuzz-bytebase-reply %D%/fuzz/fuzz-provider-reply
EXTRA_DIST += %D%/fuzz/run-fuzzers %D%/fuzz/lsan.supp %D%/fuzz/fuzz.h %D%/fuzz/http-replay.h \
	%D%/fuzz/migration-name %D%/fuzz/hook-stdin %D%/fuzz/config %D%/fuzz/bytebase-reply %D%/fuzz/provider-reply
if FUZZING
noinst_PROGRAMS = $(FUZZ_TARGETS)
%C%_fuzz_fuzz_migration_name_SOURCES = %D%/fuzz/fuzz-migration-name.c src/migration.c $(FUZZ_SOURCES_COMMON)
%C%_fuzz_fuzz_migration_name_CFLAGS = $(fuzz_cflags)
%C%_fuzz_fuzz_migration_name_LDFLAGS = $(FUZZ_CFLAGS)
%C%_fuzz_fuzz_hook_stdin_SOURCES = %D%/fuzz/fuzz-hook-stdin.c src/hook_input.c $(FUZZ_SOURCES_COMMON)
%C%_fuzz_fuzz_hook_stdin_CFLAGS = $(fuzz_cflags)
%C%_fuzz_fuzz_hook_stdin_LDFLAGS = $(FUZZ_CFLAGS)
%C%_fuzz_fuzz_config_SOURCES = %D%/fuzz/fuzz-config.c src/config.c src/migration.c $(FUZZ_SOURCES_COMMON)
%C%_fuzz_fuzz_config_CFLAGS = $(fuzz_cflags)
%C%_fuzz_fuzz_config_LDFLAGS = $(FUZZ_CFLAGS)
%C%_fuzz_fuzz_config_LDADD = $(LIBCONFIG_LIBS)
%C%_fuzz_fuzz_bytebase_reply_SOURCES = %D%/fuzz/fuzz-bytebase-reply.c %D%/fuzz/http-replay.c \
	%D%/fuzz/http-replay.h src/bb_client.c src/bb_targets.c src/bb_flow.c src/bb_flow_steps.c \
	src/bb_flow_specs.c src/bb_flow_release.c src/config.c src/migration.c $(FUZZ_SOURCES_COMMON)
%C%_fuzz_fuzz_bytebase_reply_CFLAGS = $(fuzz_cflags)
%C%_fuzz_fuzz_bytebase_reply_LDFLAGS = $(FUZZ_CFLAGS)
%C%_fuzz_fuzz_bytebase_reply_LDADD = $(LIBCONFIG_LIBS) $(JANSSON_LIBS)
# The provider replies (issue 12): the same replay of http.h, every provider's lookup, upsert and check.
%C%_fuzz_fuzz_provider_reply_SOURCES = %D%/fuzz/fuzz-provider-reply.c %D%/fuzz/http-replay.c \
	%D%/fuzz/http-replay.h src/provider.c src/provider_github.c src/provider_gitlab.c src/provider_bitbucket.c \
	src/provider_azure.c src/provider_gitea.c src/provider_url.c src/provider_body.c src/config.c src/migration.c \
	$(FUZZ_SOURCES_COMMON)
%C%_fuzz_fuzz_provider_reply_CFLAGS = $(fuzz_cflags)
%C%_fuzz_fuzz_provider_reply_LDFLAGS = $(FUZZ_CFLAGS)
%C%_fuzz_fuzz_provider_reply_LDADD = $(LIBCONFIG_LIBS) $(JANSSON_LIBS)

FUZZ_SECONDS = 60
fuzz: $(FUZZ_TARGETS)
	$(top_srcdir)/%D%/fuzz/run-fuzzers --seconds $(FUZZ_SECONDS) --bindir $(abs_top_builddir)/%D%/fuzz \
		--corpus $(abs_top_srcdir)/%D%/fuzz --out $(abs_top_builddir)/%D%/fuzz/runs
else
fuzz:
	@echo "make fuzz: configure with --enable-fuzzing (clang-14 with libFuzzer) first" >&2; exit 2
endif
.PHONY: fuzz

# --- performance: durability of the hook's unsynced commits (issue 11: perf) ---
PERF_TESTS =
PERF_TESTS += %D%/t0910-power-loss.sh
TESTS += $(PERF_TESTS)
EXTRA_DIST += $(PERF_TESTS)
