/*
 * deliver.c — draining the outbox into Bytebase (design §4). One deliverer at a time (flock on
 * <state_dir>/deliver.lock); per (repository, branch) the oldest undelivered issue only, so migrations stay in
 * order; every created name is committed before the next call; creations that must happen exactly once (the v2
 * issue, the v3 plan and issue) are flagged in flight first and looked up on resume. Transient failures back off
 * and end the run; permanent ones fail the issue and hold its branch back.
 */
#include "deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "bytebase.h"
#include "log.h"
#include "outbox.h"
#include "state.h"
#include "state_metrics.h"
#include "util.h"

#define DELIVER_BACKOFF_BASE 10L       /* seconds before the first retry */
#define DELIVER_BACKOFF_CAP 1800L      /* at most half an hour between retries */
#define DELIVER_MARKER_MAX 200         /* Bytebase's plan title limit */

struct deliver_ctx {
	const struct config *cfg;
	const struct deliver_options *opts;
	struct state *st;
	struct bb *bb;
	enum bb_dialect dialect;
	long long *attempted;          /* issues tried in this run: each at most once */
	size_t n_attempted;
	int failures;                  /* issues that failed (either way) in this run */
	int delivered;
	bool stop;                     /* the server is unwell (transient failure) or the deadline passed */
};

static bool
deliver_was_attempted(const struct deliver_ctx *ctx, long long id)
{
	size_t i;

	for (i = 0; i < ctx->n_attempted; i++)
		if (ctx->attempted[i] == id)
			return true;
	return false;
}

static void
deliver_mark_attempted(struct deliver_ctx *ctx, long long id)
{
	ctx->attempted = xrealloc(ctx->attempted, (ctx->n_attempted + 1) * sizeof(*ctx->attempted));
	ctx->attempted[ctx->n_attempted++] = id;
}

static bool
deliver_past_deadline(const struct deliver_ctx *ctx)
{
	return ctx->opts->deadline > 0 && time_monotonic() >= ctx->opts->deadline;
}

/* Backoff before retry ATTEMPTS + 1: base * 2^attempts capped, with jitter in [half, full]. */
static long
deliver_backoff(long attempts)
{
	long delay = DELIVER_BACKOFF_BASE;
	long i;

	for (i = 0; i < attempts && delay < DELIVER_BACKOFF_CAP; i++)
		delay *= 2;
	if (delay > DELIVER_BACKOFF_CAP)
		delay = DELIVER_BACKOFF_CAP;
	return delay / 2 + random() % (delay / 2 + 1);
}

/* The provenance line of the issue body ("bbgitops: <repo>@<branch> <commit>"). Caller frees. */
static char *
deliver_provenance(const struct state_issue *issue)
{
	const char *p = issue->body, *line;
	size_t n;

	while (p != NULL && *p) {
		line = p;
		n = strcspn(line, "\n");
		if (str_starts_with(line, "bbgitops: ") && n > strlen("bbgitops: "))
			return xstrndup(line, n);
		p = line[n] ? line + n + 1 : line + n;
	}
	return xasprintf("bbgitops: %s@%s %s", issue->repository, issue->branch, issue->commit);
}

/* The v3 marker: bbgitops:<repository>@<branch>:<commit 12 hex>[:<path>], at most 200 bytes, whole characters. */
static char *
deliver_marker(const struct state_issue *issue)
{
	char *m;
	size_t n;

	if (issue->key != NULL && *issue->key != '\0')
		m = xasprintf("bbgitops:%s@%s:%.12s:%s", issue->repository, issue->branch, issue->commit, issue->key);
	else
		m = xasprintf("bbgitops:%s@%s:%.12s", issue->repository, issue->branch, issue->commit);
	n = strlen(m);
	if (n > DELIVER_MARKER_MAX) {
		n = DELIVER_MARKER_MAX;
		while (n > 0 && ((unsigned char)m[n] & 0xC0) == 0x80)
			n--;
		m[n] = '\0';
	}
	return m;
}

static struct bb_file *
deliver_files(const struct state_issue *issue)
{
	struct bb_file *files = xcalloc(issue->n_files, sizeof(*files));
	size_t i;

	for (i = 0; i < issue->n_files; i++) {
		files[i].path = issue->files[i].path;
		files[i].version = issue->files[i].version;
		files[i].type = issue->files[i].type;
		files[i].content = issue->files[i].content;
		files[i].content_len = issue->files[i].content_len;
	}
	return files;
}

/* v2: sheets, plan, issue (exactly once), rollout. */
static int
deliver_v2(struct deliver_ctx *ctx, const struct repo_config *repo, struct state_issue *issue,
	const struct bb_file *files, bool *rollout_pending, struct error *err)
{
	const struct bb_targets *targets;
	const char *engine = NULL;
	char **sheets = xcalloc(issue->n_files + 1, sizeof(*sheets));
	char *name = NULL, *provenance = NULL, *text = NULL;
	json_t *arr = NULL, *v;
	size_t i, have = 0;
	bool inflight;
	int ret = -1;

	*rollout_pending = false;
	/* 1. One sheet per file, each recorded as soon as it exists. */
	if (issue->sheet_names != NULL) {
		arr = json_loads(issue->sheet_names, 0, NULL);
		json_array_foreach(arr, i, v) {
			if (i < issue->n_files && json_is_string(v))
				sheets[have++] = xstrdup(json_string_value(v));
			else
				break;
		}
	}
	json_decref(arr);
	arr = json_array();
	for (i = 0; i < have; i++)
		json_array_append_new(arr, json_string(sheets[i]));
	if (have < issue->n_files && issue->plan_name == NULL) {
		if (bb_engine(ctx->bb, repo, &engine, err) < 0)
			goto out;
		for (i = have; i < issue->n_files; i++) {
			if (bb_create_sheet(ctx->bb, repo->project, &files[i], engine, &sheets[i], err) < 0)
				goto out;
			json_array_append_new(arr, json_string(sheets[i]));
			free(text);
			text = json_dumps(arr, JSON_COMPACT);
			if (outbox_record_sheets(ctx->st, issue->id, text, err) < 0)
				goto out;
		}
	}
	/* 2. The plan. An orphan from a crash before its record is harmless. */
	if (issue->plan_name == NULL) {
		if (bb_targets(ctx->bb, repo, &targets, err) < 0)
			goto out;
		if (bb_create_plan_v2(ctx->bb, repo->project, issue->title, targets, files, sheets, issue->n_files,
			&name, err) < 0)
			goto out;
		if (outbox_record_name(ctx->st, issue->id, OUTBOX_PLAN, name, err) < 0)
			goto out;
		issue->plan_name = name;
		name = NULL;
	}
	/* 3. The issue, exactly once: after an unrecorded attempt, search by provenance line and plan first. */
	if (issue->bytebase_issue == NULL) {
		provenance = deliver_provenance(issue);
		if (outbox_inflight_get(ctx->st, issue->id, OUTBOX_ISSUE, &inflight, err) < 0)
			goto out;
		if (inflight && bb_find_issue_v2(ctx->bb, repo->project, provenance, issue->plan_name, &name, err) < 0)
			goto out;
		if (name == NULL) {
			if (outbox_inflight_set(ctx->st, issue->id, OUTBOX_ISSUE, err) < 0)
				goto out;
			if (bb_create_issue(ctx->bb, repo->project, issue->title, issue->body ? issue->body : "",
				issue->plan_name, NULL, &name, err) < 0) {
				/* 409: the plan has its issue already (an earlier reply was lost): find it. */
				if (err->http_status != 409)
					goto out;
				error_clear(err);
				if (bb_find_issue_v2(ctx->bb, repo->project, provenance, issue->plan_name, &name,
					err) < 0)
					goto out;
				if (name == NULL) {
					error_set(err, true, "%s already has an issue, but the search does not find it",
						issue->plan_name);
					goto out;
				}
			}
		} else {
			log_info("issue %lld: found %s created by an interrupted run", issue->id, name);
		}
		if (outbox_record_name(ctx->st, issue->id, OUTBOX_ISSUE, name, err) < 0)
			goto out;
		issue->bytebase_issue = name;
		name = NULL;
	}
	/* 4. The rollout: after an unrecorded attempt, read it from the issue first. */
	if (issue->rollout_name == NULL) {
		if (outbox_inflight_get(ctx->st, issue->id, OUTBOX_ROLLOUT, &inflight, err) < 0)
			goto out;
		if (inflight && bb_issue_rollout(ctx->bb, issue->bytebase_issue, &name, err) < 0)
			goto out;
		if (name == NULL) {
			if (outbox_inflight_set(ctx->st, issue->id, OUTBOX_ROLLOUT, err) < 0)
				goto out;
			if (bb_create_rollout_v2(ctx->bb, repo->project, issue->plan_name, &name, err) < 0) {
				if (err->http_status != 409)
					goto out;
				/* Already there: the earlier attempt did create it. */
				error_clear(err);
				if (bb_issue_rollout(ctx->bb, issue->bytebase_issue, &name, err) < 0)
					goto out;
			}
		}
		if (name != NULL && outbox_record_name(ctx->st, issue->id, OUTBOX_ROLLOUT, name, err) < 0)
			goto out;
	}
	ret = 0;
out:
	for (i = 0; i < issue->n_files; i++)
		free(sheets[i]);
	free(sheets);
	json_decref(arr);
	free(text);
	free(name);
	free(provenance);
	return ret;
}

/* v3: release, plan (exactly once, by marker), issue (409 -> the plan's issue), rollout or pending approval. */
static int
deliver_v3(struct deliver_ctx *ctx, const struct repo_config *repo, struct state_issue *issue,
	const struct bb_file *files, bool *rollout_pending, struct error *err)
{
	const struct bb_targets *targets;
	char *marker = deliver_marker(issue), *name = NULL, *found_issue = NULL;
	bool inflight;
	int ret = -1;

	*rollout_pending = false;
	/* 1. The release; an orphan from a crash is harmless. */
	if (issue->release_name == NULL && issue->plan_name == NULL) {
		if (bb_create_release(ctx->bb, repo->project, files, issue->n_files, &name, err) < 0)
			goto out;
		if (outbox_record_name(ctx->st, issue->id, OUTBOX_RELEASE, name, err) < 0)
			goto out;
		issue->release_name = name;
		name = NULL;
	}
	/* 2. The plan, exactly once: after an unrecorded attempt, look it up by its title (the marker). */
	if (issue->plan_name == NULL) {
		if (outbox_inflight_get(ctx->st, issue->id, OUTBOX_PLAN, &inflight, err) < 0)
			goto out;
		if (inflight && bb_find_plan_v3(ctx->bb, repo->project, marker, &name, &found_issue, err) < 0)
			goto out;
		if (name == NULL) {
			if (bb_targets(ctx->bb, repo, &targets, err) < 0)
				goto out;
			if (outbox_inflight_set(ctx->st, issue->id, OUTBOX_PLAN, err) < 0)
				goto out;
			if (bb_create_plan_v3(ctx->bb, repo->project, marker, issue->body ? issue->body : "", targets,
				issue->release_name, &name, err) < 0)
				goto out;
		} else {
			log_info("issue %lld: found %s created by an interrupted run", issue->id, name);
		}
		if (outbox_record_name(ctx->st, issue->id, OUTBOX_PLAN, name, err) < 0)
			goto out;
		issue->plan_name = name;
		name = NULL;
		if (found_issue != NULL) {
			if (outbox_record_name(ctx->st, issue->id, OUTBOX_ISSUE, found_issue, err) < 0)
				goto out;
			issue->bytebase_issue = found_issue;
			found_issue = NULL;
		}
	}
	/* 3. The issue: Bytebase allows one per plan and answers 409 to a second; then read the plan's. */
	if (issue->bytebase_issue == NULL) {
		if (outbox_inflight_get(ctx->st, issue->id, OUTBOX_ISSUE, &inflight, err) < 0)
			goto out;
		if (inflight && bb_plan_issue(ctx->bb, issue->plan_name, &name, err) < 0)
			goto out;
		if (name == NULL) {
			if (outbox_inflight_set(ctx->st, issue->id, OUTBOX_ISSUE, err) < 0)
				goto out;
			if (bb_create_issue(ctx->bb, repo->project, issue->title, issue->body ? issue->body : "",
				issue->plan_name, marker, &name, err) < 0) {
				if (err->http_status != 409)
					goto out;
				error_clear(err);
				if (bb_plan_issue(ctx->bb, issue->plan_name, &name, err) < 0)
					goto out;
				if (name == NULL) {
					error_set(err, true, "%s already has an issue, but does not name it",
						issue->plan_name);
					goto out;
				}
			}
		}
		if (outbox_record_name(ctx->st, issue->id, OUTBOX_ISSUE, name, err) < 0)
			goto out;
		issue->bytebase_issue = name;
		name = NULL;
	}
	/* 4. The rollout; repeating the call is safe. Approval required means "pending", not failed. */
	if (issue->rollout_name == NULL) {
		if (bb_create_rollout_v3(ctx->bb, issue->plan_name, &name, rollout_pending, err) < 0)
			goto out;
		if (name != NULL && outbox_record_name(ctx->st, issue->id, OUTBOX_ROLLOUT, name, err) < 0)
			goto out;
	}
	ret = 0;
out:
	free(marker);
	free(name);
	free(found_issue);
	return ret;
}

/* Opens the Bytebase handle, settles the dialect and logs in: once per run, before the first issue. */
static int
deliver_connect(struct deliver_ctx *ctx, struct error *err)
{
	char *version = NULL;
	int ret = -1;

	if (ctx->bb != NULL)
		return 0;
	if (bb_open(ctx->cfg->bytebase, &ctx->bb, err) < 0)
		return -1;
	if (ctx->opts->deadline > 0)
		bb_set_deadline(ctx->bb, ctx->opts->deadline);
	if (bb_dialect(ctx->bb, &ctx->dialect, &version, err) < 0)
		goto out;
	if (outbox_setting_set(ctx->st, "bytebase.dialect", ctx->dialect == BB_DIALECT_V2 ? "v2" : "v3", err) < 0)
		goto out;
	if (version != NULL && outbox_setting_set(ctx->st, "bytebase.version", version, err) < 0)
		goto out;
	log_debug("speaking the Bytebase %s dialect%s%s", ctx->dialect == BB_DIALECT_V2 ? "v2" : "v3",
		version ? " to version " : "", version ? version : "");
	if (bb_login(ctx->bb, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		bb_close(ctx->bb);
		ctx->bb = NULL;
	}
	free(version);
	return ret;
}

/* Delivers one issue (the head of its branch) and records the outcome. */
static void
deliver_one(struct deliver_ctx *ctx, const struct outbox_head *head)
{
	struct state_issue_filter filter = { NULL, NULL, NULL, head->id };
	struct state_issue *issues = NULL;
	const struct repo_config *repo;
	struct bb_file *files = NULL;
	struct error err = ERROR_INIT, err2 = ERROR_INIT;
	size_t n = 0;
	bool pending = false;
	long delay;
	int rc;

	deliver_mark_attempted(ctx, head->id);
	repo = config_find_repo(ctx->cfg, head->repository);
	if (repo == NULL || repo->project == NULL) {
		log_warnx("issue %lld: repository %s is not configured (or has no project): left pending", head->id,
			head->repository);
		ctx->failures++;
		return;
	}
	if (state_issues_list(ctx->st, &filter, &issues, &n, &err) < 0 || n != 1 ||
	    state_issue_load_content(ctx->st, &issues[0], &err) < 0) {
		if (n != 1 && err.msg[0] == '\0')
			error_set(&err, false, "issue %lld vanished", head->id);
		log_warnx("issue %lld: %s", head->id, err.msg);
		ctx->failures++;
		ctx->stop = true;
		goto out;
	}
	if (deliver_connect(ctx, &err) < 0) {
		/* Not this issue's fault: the server or the configuration. Nothing is recorded on the issue. */
		state_metric_add(ctx->st, STATE_METRIC_DELIVERY_ATTEMPTS, head->repository, 1);
		state_metric_add(ctx->st, STATE_METRIC_DELIVERY_FAILURES, head->repository, 1);
		log_warnx("bytebase: %s", err.msg);
		state_event(ctx->st, "error", head->repository, "bytebase: %s", err.msg);
		ctx->failures++;
		ctx->stop = true;
		goto out;
	}
	if (issues[0].title == NULL || issues[0].title[0] == '\0') {
		/* Bytebase requires a title; a commit may have an empty subject. */
		free(issues[0].title);
		issues[0].title = xasprintf("bbgitops %s@%s %.12s", issues[0].repository, issues[0].branch,
			issues[0].commit);
	}
	files = deliver_files(&issues[0]);
	if (ctx->dialect == BB_DIALECT_V2)
		rc = deliver_v2(ctx, repo, &issues[0], files, &pending, &err);
	else
		rc = deliver_v3(ctx, repo, &issues[0], files, &pending, &err);
	state_metric_add(ctx->st, STATE_METRIC_DELIVERY_ATTEMPTS, head->repository, 1);
	if (rc == 0 && outbox_mark_created(ctx->st, head->id, pending, &err) == 0) {
		ctx->delivered++;
		log_info("%s: issue %lld delivered as %s%s", head->repository, head->id, issues[0].bytebase_issue,
			pending ? " (rollout waits for approval)" : "");
		goto out;
	}
	ctx->failures++;
	state_metric_add(ctx->st, STATE_METRIC_DELIVERY_FAILURES, head->repository, 1);
	if (err.transient) {
		delay = bb_retry_after(ctx->bb) >= 0 ? bb_retry_after(ctx->bb) : deliver_backoff(issues[0].attempts);
		if (outbox_mark_transient(ctx->st, head->id, err.msg, delay, &err2) < 0)
			log_warnx("issue %lld: %s", head->id, err2.msg);
		log_warnx("%s: issue %lld: %s (retry in %lds)", head->repository, head->id, err.msg, delay);
		state_event(ctx->st, "warning", head->repository, "issue %lld: %s", head->id, err.msg);
		/* The server is unwell: leave the other issues for the next run rather than hammer it. */
		ctx->stop = true;
	} else {
		if (outbox_mark_failed(ctx->st, head->id, err.msg, &err2) < 0)
			log_warnx("issue %lld: %s", head->id, err2.msg);
		log_warnx("%s: issue %lld failed: %s", head->repository, head->id, err.msg);
		state_event(ctx->st, "error", head->repository, "issue %lld failed: %s", head->id, err.msg);
	}
out:
	free(files);
	state_issues_free(issues, n);
}

/* Is HEAD due in this run? */
static bool
deliver_is_due(const struct deliver_ctx *ctx, const struct outbox_head *head)
{
	if (head->failed || deliver_was_attempted(ctx, head->id))
		return false;
	return ctx->opts->now || head->next_attempt_at <= time_now();
}

/* Delivers due heads until none is left (new issues queued meanwhile included). *waiting: some head not done. */
static int
deliver_drain(struct deliver_ctx *ctx, bool *waiting, struct error *err)
{
	struct outbox_head *heads = NULL;
	size_t i, n = 0;
	bool any;

	for (;;) {
		if (outbox_heads(ctx->st, &heads, &n, err) < 0)
			return -1;
		any = false;
		for (i = 0; i < n && !ctx->stop; i++) {
			if (!deliver_is_due(ctx, &heads[i]))
				continue;
			if (deliver_past_deadline(ctx)) {
				ctx->stop = true;
				break;
			}
			deliver_one(ctx, &heads[i]);
			any = true;
		}
		*waiting = false;
		for (i = 0; i < n; i++)
			if (heads[i].failed || !deliver_was_attempted(ctx, heads[i].id) ||
			    heads[i].next_attempt_at > time_now())
				*waiting = true;
		outbox_heads_free(heads, n);
		heads = NULL;
		if (!any || ctx->stop)
			return 0;
	}
}

/* Any head due now that this run has not tried? */
static int
deliver_anything_due(struct deliver_ctx *ctx, bool *due, struct error *err)
{
	struct outbox_head *heads = NULL;
	size_t i, n = 0;

	*due = false;
	if (outbox_heads(ctx->st, &heads, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (deliver_is_due(ctx, &heads[i]))
			*due = true;
	outbox_heads_free(heads, n);
	return 0;
}

static int
deliver_lock(int fd, bool wait, bool *got)
{
	*got = false;
	for (;;) {
		if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) {
			*got = true;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
}

int
deliver_run(const struct config *cfg, const struct deliver_options *opts, struct error *err)
{
	struct deliver_ctx ctx = { .cfg = cfg, .opts = opts };
	char *lock_path = NULL;
	int fd = -1, ret = -1;
	bool got, waiting = false, due;

	if (cfg->bytebase == NULL && opts->retry_id > 0)
		return error_set(err, false, "no bytebase section in %s: issues stay in the local store",
			cfg->file ? cfg->file : "the configuration");
	if (cfg->bytebase == NULL && opts->skip_id == 0)
		return 0;
	srandom((unsigned)(time_now() ^ getpid()));
	if (state_open(cfg->state_dir, &ctx.st, err) < 0)
		goto out;
	lock_path = xasprintf("%s/deliver.lock", cfg->state_dir);
	fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (fd < 0) {
		error_set(err, false, "%s: %s", lock_path, strerror(errno));
		goto out;
	}
	if (deliver_lock(fd, opts->wait_for_lock, &got) < 0) {
		error_set(err, false, "%s: %s", lock_path, strerror(errno));
		goto out;
	}
	if (!got) {
		/* Another deliverer runs; it re-checks the outbox before it stops, so it will take ours too. */
		log_debug("another deliverer is running");
		ret = 0;
		goto out;
	}
	if (opts->skip_id > 0) {
		if (outbox_skip(ctx.st, opts->skip_id, err) < 0)
			goto out;
		log_info("issue %lld skipped", opts->skip_id);
		state_event(ctx.st, "warning", NULL, "issue %lld skipped by an operator", opts->skip_id);
	}
	if (opts->retry_id > 0) {
		if (outbox_retry(ctx.st, opts->retry_id, err) < 0)
			goto out;
		log_info("issue %lld queued for delivery again", opts->retry_id);
		state_event(ctx.st, "info", NULL, "issue %lld retried by an operator", opts->retry_id);
	}
	if (cfg->bytebase == NULL) {
		ret = 0;
		goto out;
	}
	for (;;) {
		if (deliver_drain(&ctx, &waiting, err) < 0)
			goto out;
		flock(fd, LOCK_UN);
		/* An issue queued while we finished found the lock taken and left it to us: look once more. */
		if (ctx.stop)
			break;
		if (deliver_anything_due(&ctx, &due, err) < 0)
			goto out;
		if (!due)
			break;
		if (deliver_lock(fd, false, &got) < 0 || !got)
			break;
	}
	if (ctx.bb != NULL) {
		long requests, connections;

		bb_stats(ctx.bb, &requests, &connections);
		log_debug("%d delivered, %d failed, %ld requests, %ld connections", ctx.delivered, ctx.failures,
			requests, connections);
	}
	ret = ctx.failures > 0 || waiting ? 1 : 0;
out:
	if (fd >= 0)
		close(fd);
	bb_close(ctx.bb);
	state_close(ctx.st);
	free(ctx.attempted);
	free(lock_path);
	return ret;
}
