/*
 * deliver.c — draining the outbox into Bytebase (design §4), whatever the server's release: one deliverer at a
 * time per machine (flock on <state_dir>/deliver.lock) and per branch across machines sharing the state (a lease on
 * the branch, state_lease_try); per (repository, branch) the oldest undelivered issue only, so
 * migrations stay in order; the flow for the server's release range (bb_flow.h) records every created name here
 * before its next call; transient failures back off (a bounded number of times) and end the run; permanent ones
 * fail the issue and hold its branch back; rollouts that waited for approval are tried again by later runs.
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

#include "bb_client.h"
#include "bb_flow.h"
#include "deliver_comment.h"
#include "log.h"
#include "outbox.h"
#include "outbox_comment.h"
#include "state.h"
#include "state_metrics.h"
#include "util.h"

#define DELIVER_BACKOFF_BASE 10L       /* seconds before the first retry */
#define DELIVER_BACKOFF_CAP 1800L      /* at most half an hour between retries */
#define DELIVER_MARKER_MAX 200         /* Bytebase's plan title limit */
#define DELIVER_MAX_ATTEMPTS 20        /* transient failures of one issue before it fails (hours of backoff) */
#define DELIVER_ROLLOUT_ATTEMPTS 50    /* tries of a rollout waiting for approval (a day of backoff) */

struct deliver_ctx {
	const struct config *cfg;
	const struct deliver_options *opts;
	struct state *st;
	struct bb *bb;
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

/* The recorder: each created name is committed in the outbox before the next Bytebase call. */
struct deliver_rec {
	struct state *st;
	long long id;
};

static const enum outbox_name deliver_outbox_names[] = {
	[BB_OBJ_RELEASE] = OUTBOX_RELEASE,
	[BB_OBJ_PLAN] = OUTBOX_PLAN,
	[BB_OBJ_ISSUE] = OUTBOX_ISSUE,
	[BB_OBJ_ROLLOUT] = OUTBOX_ROLLOUT,
};

static int
deliver_record(void *arg, enum bb_object what, const char *name, struct error *err)
{
	struct deliver_rec *r = arg;

	return outbox_record_name(r->st, r->id, deliver_outbox_names[what], name, err);
}

static int
deliver_record_sheets(void *arg, const char *json_array, struct error *err)
{
	struct deliver_rec *r = arg;

	return outbox_record_sheets(r->st, r->id, json_array, err);
}

static int
deliver_inflight_set(void *arg, enum bb_object what, struct error *err)
{
	struct deliver_rec *r = arg;

	return outbox_inflight_set(r->st, r->id, deliver_outbox_names[what], err);
}

static int
deliver_inflight_get(void *arg, enum bb_object what, bool *set, struct error *err)
{
	struct deliver_rec *r = arg;

	return outbox_inflight_get(r->st, r->id, deliver_outbox_names[what], set, err);
}

/* What the flows need of ISSUE, its texts cut to Bytebase's limits. */
struct deliver_job {
	struct bb_job job;
	struct bb_file *files;
	char **paths;                  /* the files' paths as valid UTF-8 */
	char *title, *description, *marker, *provenance;
};

/* Replaces OLD by CUT. */
static char *
deliver_cut(char *old, char *cut)
{
	free(old);
	return cut;
}

/* S as valid UTF-8 (commit text and paths are bytes in git), replacing the original. */
static char *
deliver_clean(char *s)
{
	char *c = str_utf8_clean(s);

	free(s);
	return c;
}

static int
deliver_job_init(struct deliver_job *dj, const struct repo_config *repo, const struct state_issue *issue,
	struct error *err)
{
	struct bb_job *job = &dj->job;
	json_t *arr = NULL, *v;
	size_t i;
	int ret = -1;

	memset(dj, 0, sizeof(*dj));
	/*
	 * Everything sent and later looked up is valid UTF-8 from here on, so what a lookup compares is what was
	 * sent: the engine should already have decoded it, but a byte that slips through must not break delivery.
	 */
	dj->files = xcalloc(issue->n_files ? issue->n_files : 1, sizeof(*dj->files));
	dj->paths = xcalloc(issue->n_files ? issue->n_files : 1, sizeof(*dj->paths));
	for (i = 0; i < issue->n_files; i++) {
		dj->paths[i] = str_utf8_clean(issue->files[i].path);
		dj->files[i].path = dj->paths[i];
		dj->files[i].version = issue->files[i].version;
		dj->files[i].type = issue->files[i].type;
		dj->files[i].content = issue->files[i].content;
		dj->files[i].content_len = issue->files[i].content_len;
	}
	if (issue->title == NULL || issue->title[0] == '\0')
		/* Bytebase requires a title; a commit may have an empty subject. */
		dj->title = xasprintf("bbgitops %s@%s %.12s", issue->repository, issue->branch, issue->commit);
	else
		dj->title = str_utf8_clean(issue->title);
	dj->title = deliver_cut(dj->title, bb_cut_text(dj->title, BB_TITLE_MAX));
	dj->description = str_utf8_clean(issue->body);
	dj->description = deliver_cut(dj->description, bb_cut_description(dj->description, BB_DESCRIPTION_MAX));
	dj->marker = deliver_clean(deliver_marker(issue));
	dj->provenance = deliver_clean(deliver_provenance(issue));
	job->id = issue->id;
	job->repo = repo;
	job->title = dj->title;
	job->description = dj->description;
	job->marker = dj->marker;
	job->provenance = dj->provenance;
	job->files = dj->files;
	job->n_files = issue->n_files;
	job->names[BB_OBJ_RELEASE] = xstrdup(issue->release_name);
	job->names[BB_OBJ_PLAN] = xstrdup(issue->plan_name);
	job->names[BB_OBJ_ISSUE] = xstrdup(issue->bytebase_issue);
	job->names[BB_OBJ_ROLLOUT] = xstrdup(issue->rollout_name);
	job->sheets = xcalloc(issue->n_files + 1, sizeof(*job->sheets));
	if (issue->sheet_names != NULL) {
		arr = json_loads(issue->sheet_names, 0, NULL);
		if (!json_is_array(arr)) {
			error_set(err, false, "issue %lld: unreadable sheet names in the state database", issue->id);
			goto out;
		}
		json_array_foreach(arr, i, v) {
			if (i >= issue->n_files || !json_is_string(v))
				break;
			job->sheets[job->n_sheets++] = xstrdup(json_string_value(v));
		}
	}
	ret = 0;
out:
	json_decref(arr);
	return ret;
}

static void
deliver_job_clear(struct deliver_job *dj)
{
	size_t i;

	for (i = 0; i < 4; i++)
		free(dj->job.names[i]);
	for (i = 0; i < dj->job.n_sheets; i++)
		free(dj->job.sheets[i]);
	free(dj->job.sheets);
	for (i = 0; i < dj->job.n_files; i++)
		free(dj->paths[i]);
	free(dj->paths);
	free(dj->files);
	free(dj->title);
	free(dj->description);
	free(dj->marker);
	free(dj->provenance);
}

/* Opens the Bytebase handle, settles the release range and logs in: once per run, before the first issue. */
static int
deliver_connect(struct deliver_ctx *ctx, struct error *err)
{
	struct bb_server srv;
	char version[64];
	int ret = -1;

	if (ctx->bb != NULL)
		return 0;
	if (bb_open(ctx->cfg->bytebase, &ctx->bb, err) < 0)
		return -1;
	if (ctx->opts->deadline > 0)
		bb_set_deadline(ctx->bb, ctx->opts->deadline);
	if (bb_detect(ctx->bb, &srv, err) < 0)
		goto out;
	snprintf(version, sizeof(version), "%d.%d.%d", srv.version.major, srv.version.minor, srv.version.patch);
	/* status shows these: the version, the flow, and (once, there) that the server is newer than we know. */
	if (outbox_setting_set(ctx->st, "bytebase.dialect", srv.range >= BB_RANGE_3_7 ? "v3" : "v2", err) < 0 ||
	    outbox_setting_set(ctx->st, "bytebase.version", srv.reported ? srv.reported : version, err) < 0 ||
	    outbox_setting_set(ctx->st, "bytebase.flow", bb_range_name(srv.range), err) < 0 ||
	    outbox_setting_set(ctx->st, "bytebase.newer", srv.newer ? "1" : NULL, err) < 0)
		goto out;
	log_debug("Bytebase %s: the %s flow", srv.reported ? srv.reported : version, bb_range_name(srv.range));
	if (bb_login(ctx->bb, err) < 0)
		goto out;
	ret = 0;
out:
	bb_server_clear(&srv);
	if (ret < 0) {
		bb_close(ctx->bb);
		ctx->bb = NULL;
	}
	return ret;
}

/* Loads issue ID with its file contents. */
static int
deliver_load(struct deliver_ctx *ctx, long long id, struct state_issue **issues, size_t *n, struct error *err)
{
	struct state_issue_filter filter = { NULL, NULL, NULL, id };

	if (state_issues_list(ctx->st, &filter, issues, n, err) < 0)
		return -1;
	if (*n != 1)
		return error_set(err, false, "issue %lld vanished", id);
	return state_issue_load_content(ctx->st, &(*issues)[0], err);
}

/* Delivers one issue (the head of its branch) and records the outcome. */
static void
deliver_one(struct deliver_ctx *ctx, const struct outbox_head *head)
{
	struct state_issue *issues = NULL;
	const struct repo_config *repo;
	struct deliver_job dj;
	struct deliver_rec dr = { ctx->st, head->id };
	const struct bb_recorder rec = { &dr, deliver_record, deliver_record_sheets, deliver_inflight_set,
		deliver_inflight_get };
	struct error err = ERROR_INIT, err2 = ERROR_INIT;
	size_t n = 0;
	bool pending = false, have_job = false;
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
	if (deliver_load(ctx, head->id, &issues, &n, &err) < 0) {
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
	have_job = true;
	rc = deliver_job_init(&dj, repo, &issues[0], &err);
	if (rc == 0)
		rc = bb_flow_deliver(ctx->bb, &dj.job, &rec, &pending, &err);
	state_metric_add(ctx->st, STATE_METRIC_DELIVERY_ATTEMPTS, head->repository, 1);
	if (rc == 0 && outbox_mark_created(ctx->st, head->id, pending, repo->comment, &err) == 0) {
		ctx->delivered++;
		log_info("%s: issue %lld delivered as %s%s", head->repository, head->id, dj.job.names[BB_OBJ_ISSUE],
			pending ? " (rollout waits for approval)" : "");
		goto out;
	}
	ctx->failures++;
	state_metric_add(ctx->st, STATE_METRIC_DELIVERY_FAILURES, head->repository, 1);
	if (err.transient && issues[0].attempts + 1 < DELIVER_MAX_ATTEMPTS) {
		delay = bb_retry_after(ctx->bb) >= 0 ? bb_retry_after(ctx->bb) : deliver_backoff(issues[0].attempts);
		if (outbox_mark_transient(ctx->st, head->id, err.msg, delay, &err2) < 0)
			log_warnx("issue %lld: %s", head->id, err2.msg);
		log_warnx("%s: issue %lld: %s (retry in %lds)", head->repository, head->id, err.msg, delay);
		state_event(ctx->st, "warning", head->repository, "issue %lld: %s", head->id, err.msg);
		/* The server is unwell: leave the other issues for the next run rather than hammer it. */
		ctx->stop = true;
	} else {
		if (err.transient)
			error_prefix(&err, "gave up after %d attempts (bbgitops deliver --retry %lld tries again)",
				DELIVER_MAX_ATTEMPTS, head->id);
		if (outbox_mark_failed(ctx->st, head->id, err.msg, &err2) < 0)
			log_warnx("issue %lld: %s", head->id, err2.msg);
		log_warnx("%s: issue %lld failed: %s", head->repository, head->id, err.msg);
		state_event(ctx->st, "error", head->repository, "issue %lld failed: %s", head->id, err.msg);
	}
out:
	if (have_job)
		deliver_job_clear(&dj);
	state_issues_free(issues, n);
}

/* Tries again the rollout of one created issue that waited for approval. */
static void
deliver_rollout(struct deliver_ctx *ctx, long long id)
{
	struct state_issue *issues = NULL;
	const struct repo_config *repo;
	struct deliver_job dj;
	struct deliver_rec dr = { ctx->st, id };
	const struct bb_recorder rec = { &dr, deliver_record, deliver_record_sheets, deliver_inflight_set,
		deliver_inflight_get };
	struct error err = ERROR_INIT, err2 = ERROR_INIT;
	size_t n = 0;
	bool pending = false, have_job = false;
	long delay;

	if (deliver_load(ctx, id, &issues, &n, &err) < 0 ||
	    (repo = config_find_repo(ctx->cfg, issues[0].repository)) == NULL || repo->project == NULL) {
		log_warnx("issue %lld: rollout: %s", id, err.msg[0] ? err.msg : "repository not configured");
		goto out;
	}
	if (deliver_connect(ctx, &err) < 0) {
		log_warnx("bytebase: %s", err.msg);
		ctx->stop = true;
		goto out;
	}
	have_job = true;
	if (deliver_job_init(&dj, repo, &issues[0], &err) == 0 &&
	    bb_flow_rollout(ctx->bb, &dj.job, &rec, &pending, &err) == 0) {
		delay = deliver_backoff(issues[0].rollout_attempts + 2);
		if (outbox_mark_rollout(ctx->st, id, pending, delay, NULL, &err2) < 0)
			log_warnx("issue %lld: %s", id, err2.msg);
		if (pending)
			log_info("%s: issue %lld: the rollout still waits for approval", issues[0].repository, id);
		else
			log_info("%s: issue %lld: rollout %s created after approval", issues[0].repository, id,
				dj.job.names[BB_OBJ_ROLLOUT]);
		goto out;
	}
	/* Still pending, with the error shown in `issues`; the tries are bounded by DELIVER_ROLLOUT_ATTEMPTS. */
	delay = bb_retry_after(ctx->bb) >= 0 ? bb_retry_after(ctx->bb) : deliver_backoff(issues[0].rollout_attempts + 2);
	if (outbox_mark_rollout(ctx->st, id, true, delay, err.msg, &err2) < 0)
		log_warnx("issue %lld: %s", id, err2.msg);
	log_warnx("%s: issue %lld: rollout: %s", issues[0].repository, id, err.msg);
	ctx->failures++;
	if (err.transient)
		ctx->stop = true;
out:
	if (have_job)
		deliver_job_clear(&dj);
	state_issues_free(issues, n);
}

/* Rollouts that waited for approval and are due: each tried once per run, a bounded number of times in all. */
static int
deliver_rollouts(struct deliver_ctx *ctx, struct error *err)
{
	long long *ids = NULL;
	size_t i, n = 0;
	int ret = 0;

	if (outbox_rollouts_due(ctx->st, DELIVER_ROLLOUT_ATTEMPTS, ctx->opts->now, &ids, &n, err) < 0)
		return -1;
	for (i = 0; i < n && !ctx->stop && !deliver_past_deadline(ctx); i++) {
		char key[32];
		bool got, waiting;

		/* With shared state, another machine's deliverer may be on it: its lease, then a second look. */
		snprintf(key, sizeof(key), "%lld", ids[i]);
		if (state_lease_try(ctx->st, "rollout", key, NULL, &got, err) < 0) {
			ret = -1;
			break;
		}
		if (!got)
			continue;
		if (outbox_rollout_waiting(ctx->st, ids[i], &waiting, err) == 0 && waiting)
			deliver_rollout(ctx, ids[i]);
		state_lease_release(ctx->st, "rollout", key, NULL);
	}
	free(ids);
	return ret;
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
			bool got, still;

			if (!deliver_is_due(ctx, &heads[i]))
				continue;
			if (deliver_past_deadline(ctx)) {
				ctx->stop = true;
				break;
			}
			/*
			 * The branch's lease: with shared state, deliverers on other machines drain other branches at the
			 * same time, and one that dies releases its branches at once. Held elsewhere: that deliverer has
			 * it (and looks again before it stops). Taken: the head is read again, it may have moved.
			 */
			if (state_lease_try(ctx->st, "deliver", heads[i].repository, heads[i].branch, &got, err) < 0) {
				outbox_heads_free(heads, n);
				return -1;
			}
			if (!got) {
				deliver_mark_attempted(ctx, heads[i].id);
				continue;
			}
			if (outbox_head_reload(ctx->st, &heads[i], &still, err) < 0) {
				state_lease_release(ctx->st, "deliver", heads[i].repository, heads[i].branch);
				outbox_heads_free(heads, n);
				return -1;
			}
			if (still && deliver_is_due(ctx, &heads[i])) {
				deliver_one(ctx, &heads[i]);
				any = true;
			} else if (!still) {
				any = true;    /* the branch moved on: look at its new head */
			}
			state_lease_release(ctx->st, "deliver", heads[i].repository, heads[i].branch);
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
	struct deliver_comment_run *comments = NULL;
	char *lock_path = NULL;
	int fd = -1, ret = -1;
	bool got, waiting = false, due;

	if (cfg->bytebase == NULL && opts->retry_id > 0)
		return error_set(err, false, "no bytebase section in %s: issues stay in the local store",
			cfg->file ? cfg->file : "the configuration");
	if (cfg->bytebase == NULL && opts->skip_id == 0 && opts->skip_comment_id == 0)
		return 0;
	srandom((unsigned)(time_now() ^ getpid()));
	if (state_open(cfg, &ctx.st, err) < 0)
		goto out;
	/* Nothing may reach Bytebase that is not durable here first (see state_defer_sync in state.c). */
	if (state_sync_full(ctx.st, err) < 0)
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
	if (opts->skip_comment_id > 0) {
		if (outbox_comment_skip(ctx.st, opts->skip_comment_id, err) < 0)
			goto out;
		log_info("comment of issue %lld skipped", opts->skip_comment_id);
		state_event(ctx.st, "warning", NULL, "comment of issue %lld skipped by an operator",
			opts->skip_comment_id);
	}
	if (opts->retry_comment_id > 0) {
		if (outbox_comment_retry(ctx.st, opts->retry_comment_id, err) < 0)
			goto out;
		log_info("comment of issue %lld queued again", opts->retry_comment_id);
		state_event(ctx.st, "info", NULL, "comment of issue %lld retried by an operator",
			opts->retry_comment_id);
	}
	if (cfg->bytebase == NULL) {
		ret = 0;
		goto out;
	}
	if (deliver_rollouts(&ctx, err) < 0)
		goto out;
	comments = deliver_comment_run_new(cfg, opts->now, opts->deadline);
	for (;;) {
		if (deliver_drain(&ctx, &waiting, err) < 0)
			goto out;
		/* The comments of the issues just created, after them and apart from them: never in their way. */
		if (deliver_comments(comments, ctx.st, err) < 0)
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
	deliver_comment_run_free(comments, &ctx.failures, &waiting);
	comments = NULL;
	ret = ctx.failures > 0 || waiting ? 1 : 0;
out:
	deliver_comment_run_free(comments, NULL, NULL);
	if (fd >= 0)
		close(fd);
	bb_close(ctx.bb);
	state_close(ctx.st);
	free(ctx.attempted);
	free(lock_path);
	return ret;
}
