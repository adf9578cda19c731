/*
 * metrics.c — formats bbgitops' metrics in the Prometheus text exposition format (0.0.4) and writes the textfile
 * collector's file atomically. Names follow Prometheus conventions: a bbgitops_ prefix, base units (_seconds,
 * _bytes), _total for counters. The values are read through the state layer (state_metrics.c).
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state_metrics.h"

/* A label value with \, " and newline escaped as the format requires. */
static void
metrics_label(struct sbuf *out, const char *value)
{
	const char *c;

	for (c = value; *c; c++) {
		if (*c == '\\')
			sbuf_adds(out, "\\\\");
		else if (*c == '"')
			sbuf_adds(out, "\\\"");
		else if (*c == '\n')
			sbuf_adds(out, "\\n");
		else
			sbuf_add(out, c, 1);
	}
}

static void
metrics_header(struct sbuf *out, const char *name, const char *type, const char *help)
{
	sbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{repository="R"[,status="S"]} value */
static void
metrics_sample(struct sbuf *out, const char *name, const char *repository, const char *status, long long value)
{
	sbuf_addf(out, "%s{repository=\"", name);
	metrics_label(out, repository);
	sbuf_adds(out, "\"");
	if (status != NULL)
		sbuf_addf(out, ",status=\"%s\"", status);
	sbuf_addf(out, "} %lld\n", value);
}

/* One family: the header, then one sample per repository taken from the field at OFFSET of each one's values. */
static void
metrics_family(struct sbuf *out, const struct config *cfg, const struct state_metrics_repo *values,
	const char *name, const char *type, const char *help, size_t offset)
{
	size_t i;

	metrics_header(out, name, type, help);
	for (i = 0; i < cfg->n_repos; i++)
		metrics_sample(out, name, cfg->repos[i].name, NULL,
			*(const long long *)(const void *)((const char *)&values[i] + offset));
}

int
metrics_format(const struct config *cfg, struct state *st, long long now, struct sbuf *out, struct error *err)
{
	struct state_metrics_repo *values = xcalloc(cfg->n_repos + 1, sizeof(*values));
	long long size = 0;
	size_t i;
	int rc = -1;

	for (i = 0; st != NULL && i < cfg->n_repos; i++)
		if (state_metrics_repo(st, cfg->repos[i].name, &values[i], err) < 0)
			goto out;
	if (st != NULL && state_metrics_db_size(st, &size, err) < 0)
		goto out;

	metrics_header(out, "bbgitops_issues", "gauge", "Rollout issues by status.");
	for (i = 0; i < cfg->n_repos; i++) {
		const struct state_metrics_repo *v = &values[i];
		const char *r = cfg->repos[i].name;

		metrics_sample(out, "bbgitops_issues", r, "local", v->issues_local);
		metrics_sample(out, "bbgitops_issues", r, "pending", v->issues_pending);
		metrics_sample(out, "bbgitops_issues", r, "created", v->issues_created);
		metrics_sample(out, "bbgitops_issues", r, "failed", v->issues_failed);
		metrics_sample(out, "bbgitops_issues", r, "skipped", v->issues_skipped);
	}
	metrics_header(out, "bbgitops_comments", "gauge",
		"Pull request comments (or commit comments and statuses) by delivery status.");
	for (i = 0; i < cfg->n_repos; i++) {
		const struct state_metrics_repo *v = &values[i];
		const char *r = cfg->repos[i].name;

		metrics_sample(out, "bbgitops_comments", r, "pending", v->comments_pending);
		metrics_sample(out, "bbgitops_comments", r, "done", v->comments_done);
		metrics_sample(out, "bbgitops_comments", r, "failed", v->comments_failed);
		metrics_sample(out, "bbgitops_comments", r, "skipped", v->comments_skipped);
	}
	metrics_header(out, "bbgitops_oldest_pending_issue_age_seconds", "gauge",
		"Age of the oldest issue waiting for delivery (0: none).");
	for (i = 0; i < cfg->n_repos; i++) {
		long long t = values[i].oldest_pending_created_at;

		metrics_sample(out, "bbgitops_oldest_pending_issue_age_seconds", cfg->repos[i].name, NULL,
			t > 0 && now > t ? now - t : 0);
	}
	metrics_family(out, cfg, values, "bbgitops_last_successful_poll_timestamp_seconds", "gauge",
		"When a poll of the repository last succeeded, in seconds since the epoch (0: never).",
		offsetof(struct state_metrics_repo, last_successful_poll));
	metrics_family(out, cfg, values, "bbgitops_poll_failures_total", "counter",
		"Poll cycles in which the repository failed.", offsetof(struct state_metrics_repo, poll_failures));
	metrics_family(out, cfg, values, "bbgitops_fetch_failures_total", "counter",
		"Failed fetches of a remote repository.", offsetof(struct state_metrics_repo, fetch_failures));
	metrics_family(out, cfg, values, "bbgitops_delivery_attempts_total", "counter",
		"Attempts to deliver an issue to Bytebase.", offsetof(struct state_metrics_repo, delivery_attempts));
	metrics_family(out, cfg, values, "bbgitops_delivery_failures_total", "counter",
		"Delivery attempts that failed, transiently or permanently.",
		offsetof(struct state_metrics_repo, delivery_failures));
	metrics_header(out, "bbgitops_state_database_size_bytes", "gauge",
		"Size of the state database and its write-ahead log.");
	sbuf_addf(out, "bbgitops_state_database_size_bytes %lld\n", size);
	rc = 0;
out:
	free(values);
	return rc;
}

static int
metrics_write_all(int fd, const char *text, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int
metrics_write_file(const char *path, const char *text, struct error *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, rc = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		error_set(err, false, "metrics file: cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* fchmod: the umask (007) would hide the file from node_exporter's user; metrics hold no secret. */
	if (fchmod(fd, 0644) < 0 || metrics_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		error_set(err, false, "metrics file: cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		error_set(err, false, "metrics file: cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

int
metrics_update_file(const struct config *cfg, struct error *err)
{
	struct sbuf text = SBUF_INIT;
	struct state *st = NULL;
	int rc = -1;

	if (state_open(cfg, &st, err) < 0)
		goto out;
	if (metrics_format(cfg, st, time_now(), &text, err) < 0)
		goto out;
	state_close(st);
	st = NULL;
	rc = metrics_write_file(cfg->poll_metrics_file, sbuf_str(&text), err);
out:
	state_close(st);
	sbuf_release(&text);
	return rc;
}
