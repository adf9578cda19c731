/*
 * state_metrics.c — the metrics' SQL: the counters table (schema step 2 in state.c) and the per-repository reads of
 * issue counts, the oldest pending issue and the counters. Formatting is metrics.c's job; nothing here knows
 * Prometheus. Every statement binds its parameters.
 */
#include "state_metrics.h"
#include "state_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

static void
metric_write(struct state *st, const char *sql, const char *name, const char *repository, long long value)
{
	struct error err = ERROR_INIT;

	if (st == NULL)
		return;
	if (state_exec(st, &err, "recording metric", NULL, sql, "ssi", name, repository ? repository : "", value) < 0)
		log_warnx("%s %s: %s", name, repository ? repository : "", err.msg);
}

void
state_metric_add(struct state *st, const char *name, const char *repository, long long delta)
{
	metric_write(st, "INSERT INTO metrics (name, repository, value) VALUES (?1, ?2, ?3) "
		"ON CONFLICT (name, repository) DO UPDATE SET value = metrics.value + excluded.value", name, repository, delta);
}

void
state_metric_set(struct state *st, const char *name, const char *repository, long long value)
{
	metric_write(st, "INSERT INTO metrics (name, repository, value) VALUES (?1, ?2, ?3) "
		"ON CONFLICT (name, repository) DO UPDATE SET value = excluded.value", name, repository, value);
}

/* Rows of one upsert statement in state_metric_set_many: three parameters each, within STATE_MAX_PARAMS. */
#define METRIC_ROWS_PER_STATEMENT (STATE_MAX_PARAMS / 3)

void
state_metric_set_many(struct state *st, const char *name, const char *const *repositories, size_t n,
	long long value)
{
	struct error err = ERROR_INIT;
	size_t done = 0;

	if (st == NULL || n == 0)
		return;
	/* Many rows per statement: on a shared database each statement is a round trip. */
	if (state_begin_immediate(st, &err) != 0)
		goto fail;
	while (done < n) {
		size_t rows = n - done < METRIC_ROWS_PER_STATEMENT ? n - done : METRIC_ROWS_PER_STATEMENT;
		struct sbuf sql = SBUF_INIT;
		struct state_stmt *stmt = NULL;
		int rc = -1;

		sbuf_adds(&sql, "INSERT INTO metrics (name, repository, value) VALUES ");
		for (size_t i = 0; i < rows; i++)
			sbuf_addf(&sql, "%s(?%zu, ?%zu, ?%zu)", i ? ", " : "", 3 * i + 1, 3 * i + 2, 3 * i + 3);
		sbuf_adds(&sql, " ON CONFLICT (name, repository) DO UPDATE SET value = excluded.value");
		if (state_stmt_prepare(st, &stmt, &err, "recording metrics", sbuf_str(&sql)) == 0) {
			for (size_t i = 0; i < rows; i++) {
				state_bind_text(stmt, (int)(3 * i + 1), name);
				state_bind_text(stmt, (int)(3 * i + 2), repositories[done + i]);
				state_bind_int(stmt, (int)(3 * i + 3), value);
			}
			rc = state_step(stmt, &err) < 0 ? -1 : 0;
		}
		state_stmt_free(stmt);
		sbuf_release(&sql);
		if (rc != 0)
			goto fail;
		done += rows;
	}
	if (state_commit(st, &err) == 0)
		return;
fail:
	log_warnx("%s: %s", name, err.msg);
	state_rollback(st);
}

/* Where each status's count and each counter goes in struct state_metrics_repo. */
static long long *
issue_slot(struct state_metrics_repo *m, const char *status)
{
	if (strcmp(status, "local") == 0)
		return &m->issues_local;
	if (strcmp(status, "pending") == 0)
		return &m->issues_pending;
	if (strcmp(status, "created") == 0)
		return &m->issues_created;
	if (strcmp(status, "failed") == 0)
		return &m->issues_failed;
	if (strcmp(status, "skipped") == 0)
		return &m->issues_skipped;
	return NULL;
}

static long long *
comment_slot(struct state_metrics_repo *m, const char *status)
{
	if (strcmp(status, "pending") == 0)
		return &m->comments_pending;
	if (strcmp(status, "done") == 0)
		return &m->comments_done;
	if (strcmp(status, "failed") == 0)
		return &m->comments_failed;
	if (strcmp(status, "skipped") == 0)
		return &m->comments_skipped;
	return NULL;
}

static long long *
counter_slot(struct state_metrics_repo *m, const char *name)
{
	if (strcmp(name, STATE_METRIC_POLL_FAILURES) == 0)
		return &m->poll_failures;
	if (strcmp(name, STATE_METRIC_FETCH_FAILURES) == 0)
		return &m->fetch_failures;
	if (strcmp(name, STATE_METRIC_LAST_POLL) == 0)
		return &m->last_successful_poll;
	if (strcmp(name, STATE_METRIC_DELIVERY_ATTEMPTS) == 0)
		return &m->delivery_attempts;
	if (strcmp(name, STATE_METRIC_DELIVERY_FAILURES) == 0)
		return &m->delivery_failures;
	return NULL;
}

int
state_metrics_repo(struct state *st, const char *repository, struct state_metrics_repo *out, struct error *err)
{
	static const char *const queries[] = {
		"SELECT status, count(*) FROM issues WHERE repository = ?1 GROUP BY status",
		"SELECT 'oldest', min(created_at) FROM issues WHERE repository = ?1 AND status = 'pending'",
		"SELECT name, value FROM metrics WHERE repository = ?1",
		("SELECT c.status, count(*) FROM comments c JOIN issues i ON i.id = c.issue_id WHERE i.repository = ?1 "
		 "GROUP BY c.status"),
	};
	struct state_metrics_repo m;
	struct state_stmt *s = NULL;
	size_t q;
	int rc = -1;

	memset(&m, 0, sizeof(m));
	/* One read transaction: the counts and the counters are one snapshot. */
	if (state_begin_read(st, err) != 0)
		return -1;
	for (q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
		int step;

		if (state_query(st, &s, err, "reading metrics", queries[q], "s", repository) != 0)
			goto out;
		while ((step = state_step(s, err)) == 1) {
			const char *key = state_col_text(s, 0);
			long long *slot;

			if (key == NULL)
				continue;
			if (q == 0)
				slot = issue_slot(&m, key);
			else if (q == 1)
				slot = &m.oldest_pending_created_at;
			else if (q == 2)
				slot = counter_slot(&m, key);
			else
				slot = comment_slot(&m, key);
			if (slot != NULL && state_col_text(s, 1) != NULL)
				*slot = state_col_int(s, 1);
		}
		state_stmt_free(s);
		s = NULL;
		if (step < 0)
			goto out;
	}
	*out = m;
	rc = 0;
out:
	state_rollback(st);
	return rc;
}

int
state_metrics_db_size(struct state *st, long long *bytes, struct error *err)
{
	return st->drv->db_size(st, bytes, err);
}
