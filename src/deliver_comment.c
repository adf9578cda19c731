/*
 * deliver_comment.c — drains the comments table: for each due comment, load its issue, open (once per run and
 * repository) a provider client on the run's single HTTP handle, and upsert the comment. The attempt is recorded
 * (in flight) before the call; whatever happened at the provider, the next attempt finds our comment by its
 * marker before it creates one, so a SIGKILL or a lost reply never makes a second comment.
 */
#include "deliver_comment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "outbox_comment.h"
#include "provider.h"
#include "util.h"

#define COMMENT_BACKOFF_BASE 10L
#define COMMENT_BACKOFF_CAP 1800L
#define COMMENT_MAX_ATTEMPTS 15       /* transient failures before the comment is given up as failed */

struct comment_client {
	const struct repo_config *repo;
	struct provider_client *pc;
	bool paused;              /* rate limited or unreachable: its other comments wait for the next run */
	char *open_error;         /* provider_open failed: every comment of the repository fails with it */
};

struct deliver_comment_run {
	const struct config *cfg;
	bool now;
	double deadline;
	struct http *http;
	struct comment_client *clients;
	size_t n_clients;
	long long *attempted;
	size_t n_attempted;
	int failures;
	bool waiting;
};

struct deliver_comment_run *
deliver_comment_run_new(const struct config *cfg, bool now, double deadline)
{
	struct deliver_comment_run *run = xcalloc(1, sizeof(*run));

	run->cfg = cfg;
	run->now = now;
	run->deadline = deadline;
	return run;
}

void
deliver_comment_run_free(struct deliver_comment_run *run, int *failures, bool *waiting)
{
	size_t i;

	if (run == NULL)
		return;
	if (failures != NULL)
		*failures += run->failures;
	if (waiting != NULL && run->waiting)
		*waiting = true;
	for (i = 0; i < run->n_clients; i++) {
		provider_close(run->clients[i].pc);
		free(run->clients[i].open_error);
	}
	free(run->clients);
	http_close(run->http);
	free(run->attempted);
	free(run);
}

static long
comment_backoff(long attempts)
{
	long delay = COMMENT_BACKOFF_BASE, i;

	for (i = 1; i < attempts && delay < COMMENT_BACKOFF_CAP; i++)
		delay *= 2;
	if (delay > COMMENT_BACKOFF_CAP)
		delay = COMMENT_BACKOFF_CAP;
	return delay / 2 + random() % (delay / 2 + 1);
}

static bool
comment_was_attempted(const struct deliver_comment_run *run, long long id)
{
	size_t i;

	for (i = 0; i < run->n_attempted; i++)
		if (run->attempted[i] == id)
			return true;
	return false;
}

static struct comment_client *
comment_client(struct deliver_comment_run *run, const struct repo_config *repo, struct error *err)
{
	struct http_options hopts = { "", 0, NULL };
	struct comment_client *c;
	struct error e = ERROR_INIT;
	size_t i;

	for (i = 0; i < run->n_clients; i++)
		if (run->clients[i].repo == repo)
			return &run->clients[i];
	if (run->http == NULL) {
		hopts.timeout = run->cfg->bytebase != NULL ? run->cfg->bytebase->timeout : 30;
		if (http_open(&hopts, &run->http, err) < 0)
			return NULL;
		if (run->deadline > 0)
			http_set_deadline(run->http, run->deadline);
	}
	run->clients = xrealloc(run->clients, (run->n_clients + 1) * sizeof(*run->clients));
	c = &run->clients[run->n_clients++];
	memset(c, 0, sizeof(*c));
	c->repo = repo;
	if (provider_open(repo, run->http, &c->pc, &e) < 0)
		c->open_error = xstrdup(e.msg);
	return c;
}

/* The body's view of the issue; the strings stay owned by ISSUE and ISSUE_URL. */
static struct provider_body_file *
comment_files(const struct state_issue *issue)
{
	struct provider_body_file *files = xcalloc(issue->n_files + 1, sizeof(*files));
	size_t i;

	for (i = 0; i < issue->n_files; i++) {
		files[i].path = issue->files[i].path;
		files[i].version = issue->files[i].version;
		files[i].type = issue->files[i].type;
	}
	return files;
}

static void
comment_record_failure(struct deliver_comment_run *run, struct state *st, const struct outbox_comment *oc,
	const struct state_issue *issue, const struct error *e, long retry_after, long wait_left)
{
	struct error err2 = ERROR_INIT;
	long delay;

	if (e->transient && oc->attempts + 1 < COMMENT_MAX_ATTEMPTS) {
		delay = retry_after >= 0 ? retry_after : comment_backoff(oc->attempts + 1);
		/* Look again when the wait for the pull request is over, so the fallback is not late. */
		if (wait_left > 0 && delay > wait_left)
			delay = wait_left;
		if (outbox_comment_transient(st, oc->issue_id, e->msg, delay, &err2) < 0)
			log_warnx("issue %lld: comment: %s", oc->issue_id, err2.msg);
		log_info("%s: issue %lld: comment: %s (retry in %lds)", issue->repository, oc->issue_id, e->msg, delay);
		run->waiting = true;
		return;
	}
	if (outbox_comment_failed(st, oc->issue_id, e->msg, &err2) < 0)
		log_warnx("issue %lld: comment: %s", oc->issue_id, err2.msg);
	log_warnx("%s: issue %lld: comment failed: %s", issue->repository, oc->issue_id, e->msg);
	state_event(st, "error", issue->repository, "issue %lld: comment failed: %s", oc->issue_id, e->msg);
	run->failures++;
}

static void
comment_one(struct deliver_comment_run *run, struct state *st, const struct outbox_comment *oc)
{
	struct state_issue_filter filter = { NULL, NULL, NULL, oc->issue_id };
	struct state_issue *issues = NULL;
	struct provider_body_file *files = NULL;
	struct provider_comment_result res = { NULL, false };
	const struct repo_config *repo;
	struct comment_client *client;
	struct error e = ERROR_INIT;
	char *issue_url = NULL;
	long long now = time_now();
	long wait_left;
	size_t n = 0;

	if (state_issues_list(st, &filter, &issues, &n, &e) < 0 || n != 1) {
		log_warnx("issue %lld: comment: %s", oc->issue_id, n != 1 ? "the issue vanished" : e.msg);
		run->failures++;
		goto out;
	}
	repo = config_find_repo(run->cfg, issues[0].repository);
	if (repo == NULL || !repo->comment) {
		if (outbox_comment_skip(st, oc->issue_id, &e) < 0)
			log_warnx("issue %lld: comment: %s", oc->issue_id, e.msg);
		else
			log_info("%s: issue %lld: comment skipped (%s)", issues[0].repository, oc->issue_id,
				repo == NULL ? "repository no longer configured" : "comment = false");
		goto out;
	}
	client = comment_client(run, repo, &e);
	if (client == NULL) {
		log_warnx("issue %lld: comment: %s", oc->issue_id, e.msg);
		run->failures++;
		goto out;
	}
	if (client->paused) {
		run->waiting = true;
		goto out;
	}
	if (client->open_error != NULL) {
		error_set(&e, false, "%s", client->open_error);
		comment_record_failure(run, st, oc, &issues[0], &e, -1, 0);
		goto out;
	}
	if (issues[0].bytebase_issue == NULL) {
		error_set(&e, false, "the issue has no Bytebase issue name");
		comment_record_failure(run, st, oc, &issues[0], &e, -1, 0);
		goto out;
	}
	if (outbox_comment_begin(st, oc->issue_id, &e) < 0) {
		log_warnx("issue %lld: comment: %s", oc->issue_id, e.msg);
		run->failures++;
		goto out;
	}
	issue_url = xasprintf("%s/%s", run->cfg->bytebase->url, issues[0].bytebase_issue);
	files = comment_files(&issues[0]);
	{
		struct provider_body_issue bi = { issues[0].bytebase_issue, issue_url, issues[0].repository,
			issues[0].branch, issues[0].commit, files, issues[0].n_files };
		struct provider_comment_request req = { &bi, issues[0].branch, issues[0].commit,
			now - oc->due_since >= repo->comment_wait };

		wait_left = (long)(oc->due_since + repo->comment_wait - now);
		if (provider_comment(client->pc, &req, &res, &e) < 0) {
			/* Rate limited, down or unreachable: spare the provider the repository's other comments. */
			if (e.transient && (provider_retry_after(client->pc) > 0 || e.http_status == 0 ||
			    e.http_status >= 500))
				client->paused = true;
			comment_record_failure(run, st, oc, &issues[0], &e, provider_retry_after(client->pc),
				wait_left);
			goto out;
		}
	}
	if (outbox_comment_done(st, oc->issue_id, res.url, &e) < 0) {
		log_warnx("issue %lld: comment: %s", oc->issue_id, e.msg);
		run->failures++;
		goto out;
	}
	log_info("%s: issue %lld: %s %s", issues[0].repository, oc->issue_id,
		res.on_commit ? "noted on the commit at" : "commented at", res.url ? res.url : "?");
out:
	provider_comment_result_clear(&res);
	free(files);
	free(issue_url);
	state_issues_free(issues, n);
}

/*
 * Posts comment C under its lease (with shared state another machine's deliverer may be on it: then it is left to
 * that one), once it is read again and still pending.
 */
static int
comment_leased(struct deliver_comment_run *run, struct state *st, const struct outbox_comment *c, struct error *err)
{
	char key[32];
	bool got, pending;
	int ret;

	snprintf(key, sizeof(key), "%lld", c->issue_id);
	if (state_lease_try(st, "comment", key, NULL, &got, err) < 0)
		return -1;
	if (!got)
		return 0;
	ret = outbox_comment_is_pending(st, c->issue_id, &pending, err);
	if (ret == 0 && pending)
		comment_one(run, st, c);
	state_lease_release(st, "comment", key, NULL);
	return ret;
}

int
deliver_comments(struct deliver_comment_run *run, struct state *st, struct error *err)
{
	struct outbox_comment *due = NULL;
	size_t i, n = 0;

	if (outbox_comments_pending(st, run->now, &due, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (comment_was_attempted(run, due[i].issue_id))
			continue;
		if (run->deadline > 0 && time_monotonic() >= run->deadline) {
			run->waiting = true;
			break;
		}
		run->attempted = xrealloc(run->attempted, (run->n_attempted + 1) * sizeof(*run->attempted));
		run->attempted[run->n_attempted++] = due[i].issue_id;
		if (comment_leased(run, st, &due[i], err) < 0) {
			free(due);
			return -1;
		}
	}
	free(due);
	/* Comments still pending are waiting (the exit status says so, as for issues). */
	if (outbox_comments_pending(st, true, &due, &n, err) < 0)
		return -1;
	if (n > 0)
		run->waiting = true;
	free(due);
	return 0;
}
