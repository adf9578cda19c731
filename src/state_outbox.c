/*
 * state_outbox.c — the deliverer's SQL (outbox.h) on the issues and settings tables: branch heads in queue order, names recorded
 * one by one as Bytebase creates them, in-flight flags (settings keys "outbox.inflight.<id>.<what>"), backoff,
 * retry and skip. Short transactions: a name is durable before the next Bytebase call starts.
 */
#include "outbox.h"
#include "state_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const outbox_columns[] = {
	[OUTBOX_RELEASE] = "release_name",
	[OUTBOX_PLAN] = "plan_name",
	[OUTBOX_ISSUE] = "issue_name",
	[OUTBOX_ROLLOUT] = "rollout_name",
};

static const char *const outbox_what[] = {
	[OUTBOX_RELEASE] = "release",
	[OUTBOX_PLAN] = "plan",
	[OUTBOX_ISSUE] = "issue",
	[OUTBOX_ROLLOUT] = "rollout",
};

int
outbox_heads(struct state *st, struct outbox_head **out, size_t *n, struct error *err)
{
	/* The first undelivered issue of each branch: later ones wait for it (migrations run in order). */
	static const char sql[] =
		"SELECT i.id, i.repository, i.branch, i.status, i.next_attempt_at FROM issues i "
		"WHERE i.status IN ('pending', 'failed') AND NOT EXISTS ("
		" SELECT 1 FROM issues j WHERE j.repository = i.repository AND j.branch = i.branch"
		" AND j.status IN ('pending', 'failed') AND j.id < i.id) "
		"ORDER BY i.id";
	struct state_stmt *s = NULL;
	struct outbox_head *heads = NULL;
	size_t len = 0, cap = 0;
	const char *status;
	int rc;

	if (state_stmt_prepare(st, &s, err, "listing the outbox", sql) != 0)
		return -1;
	while ((rc = state_step(s, err)) == 1) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			heads = xrealloc(heads, cap * sizeof(*heads));
		}
		heads[len].id = state_col_int(s, 0);
		heads[len].repository = state_column_dup(s, 1);
		heads[len].branch = state_column_dup(s, 2);
		status = state_col_text(s, 3);
		heads[len].failed = status != NULL && strcmp(status, "failed") == 0;
		heads[len].next_attempt_at = state_col_int(s, 4);
		len++;
	}
	state_stmt_free(s);
	if (rc < 0) {
		outbox_heads_free(heads, len);
		return -1;
	}
	*out = heads;
	*n = len;
	return 0;
}

int
outbox_head_reload(struct state *st, struct outbox_head *head, bool *still, struct error *err)
{
	struct state_stmt *s = NULL;
	int rc;

	*still = false;
	if (state_query(st, &s, err, "reading the outbox", "SELECT i.status, i.next_attempt_at FROM issues i "
	    "WHERE i.id = ?1 AND i.status IN ('pending', 'failed') AND NOT EXISTS ("
	    " SELECT 1 FROM issues j WHERE j.repository = i.repository AND j.branch = i.branch"
	    " AND j.status IN ('pending', 'failed') AND j.id < i.id)", "i", head->id) != 0)
		return -1;
	rc = state_step(s, err);
	if (rc == 1) {
		const char *status = state_col_text(s, 0);

		*still = true;
		head->failed = status != NULL && strcmp(status, "failed") == 0;
		head->next_attempt_at = state_col_int(s, 1);
	}
	state_stmt_free(s);
	return rc < 0 ? -1 : 0;
}

int
outbox_rollout_waiting(struct state *st, long long id, bool *waiting, struct error *err)
{
	return state_query_exists(st, waiting, err, "reading a rollout", "SELECT 1 FROM issues WHERE id = ?1 AND "
	    "status = 'created' AND rollout_pending = 1 AND rollout_name IS NULL", "i", id);
}

void
outbox_heads_free(struct outbox_head *heads, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(heads[i].repository);
		free(heads[i].branch);
	}
	free(heads);
}

static char *
outbox_flag_key(long long id, enum outbox_name what)
{
	return xasprintf("outbox.inflight.%lld.%s", id, outbox_what[what]);
}

int
outbox_record_name(struct state *st, long long id, enum outbox_name what, const char *name, struct error *err)
{
	char *sql = xasprintf("UPDATE issues SET %s = ?1, updated_at = ?2 WHERE id = ?3", outbox_columns[what]);
	char *key = outbox_flag_key(id, what);
	int ret = -1;

	if (state_begin_immediate(st, err) < 0)
		goto out;
	if (state_exec(st, err, "recording a Bytebase name", NULL, sql, "sii", name, time_now(), id) < 0 ||
	    state_exec(st, err, "clearing an in-flight flag", NULL, "DELETE FROM settings WHERE key = ?1", "s",
		key) < 0) {
		state_rollback(st);
		goto out;
	}
	if (state_commit(st, err) < 0) {
		state_rollback(st);
		goto out;
	}
	ret = 0;
out:
	free(sql);
	free(key);
	return ret;
}

int
outbox_record_sheets(struct state *st, long long id, const char *json_array, struct error *err)
{
	return state_exec(st, err, "recording sheet names", NULL,
		"UPDATE issues SET sheet_names = ?1, updated_at = ?2 WHERE id = ?3", "sii", json_array, time_now(), id);
}

int
outbox_inflight_set(struct state *st, long long id, enum outbox_name what, struct error *err)
{
	char *key = outbox_flag_key(id, what);
	int ret;

	ret = state_exec(st, err, "setting an in-flight flag", NULL,
		"INSERT INTO settings(key, value) VALUES(?1, '1') ON CONFLICT(key) DO UPDATE SET value = '1'", "s", key);
	free(key);
	return ret;
}

int
outbox_inflight_get(struct state *st, long long id, enum outbox_name what, bool *set, struct error *err)
{
	char *key = outbox_flag_key(id, what), *value = NULL;
	int ret;

	ret = outbox_setting_get(st, key, &value, err);
	if (ret == 0)
		*set = value != NULL;
	free(value);
	free(key);
	return ret;
}

static int
outbox_clear_flags(struct state *st, long long id, struct error *err)
{
	char *pattern = xasprintf("outbox.inflight.%lld.%%", id);
	int ret;

	ret = state_exec(st, err, "clearing in-flight flags", NULL, "DELETE FROM settings WHERE key LIKE ?1", "s",
		pattern);
	free(pattern);
	return ret;
}

int
outbox_mark_created(struct state *st, long long id, bool rollout_pending, bool comment_due, struct error *err)
{
	if (state_begin_immediate(st, err) < 0)
		return -1;
	if (state_exec(st, err, "marking an issue created", NULL,
		"UPDATE issues SET status = 'created', attempts = attempts + 1, next_attempt_at = 0, last_error = NULL,"
		" rollout_pending = ?1, updated_at = ?2 WHERE id = ?3", "iii", (long long)rollout_pending, time_now(),
		id) < 0 || outbox_clear_flags(st, id, err) < 0 ||
	    /* The comment becomes due in the same transaction: a crash cannot lose it. */
	    (comment_due && state_exec(st, err, "queueing the pull request comment", NULL,
		"INSERT INTO comments (issue_id, status, due_since, updated_at) VALUES (?1, 'pending', ?2, ?2)"
		" ON CONFLICT (issue_id) DO NOTHING", "ii", id, time_now()) < 0)) {
		state_rollback(st);
		return -1;
	}
	if (state_commit(st, err) < 0) {
		state_rollback(st);
		return -1;
	}
	return 0;
}

int
outbox_mark_transient(struct state *st, long long id, const char *msg, long delay, struct error *err)
{
	long long now = time_now();

	return state_exec(st, err, "recording a delivery failure", NULL,
		"UPDATE issues SET attempts = attempts + 1, next_attempt_at = ?1, last_error = ?2, updated_at = ?3"
		" WHERE id = ?4 AND status = 'pending'", "isii", now + delay, msg, now, id);
}

int
outbox_mark_failed(struct state *st, long long id, const char *msg, struct error *err)
{
	return state_exec(st, err, "recording a delivery failure", NULL,
		"UPDATE issues SET status = 'failed', attempts = attempts + 1, next_attempt_at = 0, last_error = ?1,"
		" updated_at = ?2 WHERE id = ?3 AND status = 'pending'", "sii", msg, time_now(), id);
}

int
outbox_rollouts_due(struct state *st, long max_attempts, bool all, long long **ids, size_t *n, struct error *err)
{
	struct state_stmt *s = NULL;
	long long *list = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (state_query(st, &s, err, "listing rollouts waiting for approval", "SELECT id FROM issues "
	    "WHERE status = 'created' AND rollout_pending = 1 AND rollout_name IS NULL AND rollout_attempts < ?1 "
	    "AND (?2 <> 0 OR rollout_next_at <= ?3) ORDER BY id", "iii", (long long)max_attempts, (long long)all,
	    time_now()) != 0)
		return -1;
	while ((rc = state_step(s, err)) == 1) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			list = xrealloc(list, cap * sizeof(*list));
		}
		list[len++] = state_col_int(s, 0);
	}
	state_stmt_free(s);
	if (rc < 0) {
		free(list);
		return -1;
	}
	*ids = list;
	*n = len;
	return 0;
}

int
outbox_mark_rollout(struct state *st, long long id, bool pending, long delay, const char *msg, struct error *err)
{
	long long now = time_now();

	return state_exec(st, err, "recording a rollout try", NULL,
		"UPDATE issues SET rollout_pending = ?1, rollout_attempts = rollout_attempts + 1, rollout_next_at = ?2,"
		" last_error = ?3, updated_at = ?4 WHERE id = ?5 AND status = 'created'", "iisii", (long long)pending,
		now + delay, msg, now, id);
}

/* Reads the status of issue ID inside the caller's transaction: *status NULL when there is no such issue. */
static int
outbox_status(struct state *st, long long id, char **status, struct error *err)
{
	struct state_stmt *s = NULL;
	int rc;

	*status = NULL;
	if (state_query(st, &s, err, "reading an issue", "SELECT status FROM issues WHERE id = ?1", "i", id) != 0)
		return -1;
	rc = state_step(s, err);
	if (rc == 1)
		*status = state_column_dup(s, 0);
	state_stmt_free(s);
	return rc < 0 ? -1 : 0;
}

static int
outbox_operator(struct state *st, long long id, bool retry, struct error *err)
{
	char *status = NULL;
	int ret = -1;

	if (state_begin_immediate(st, err) < 0)
		return -1;
	if (outbox_status(st, id, &status, err) < 0)
		goto out;
	if (status == NULL) {
		error_set(err, false, "no issue %lld", id);
		goto out;
	}
	if (strcmp(status, "failed") != 0 && strcmp(status, "pending") != 0 && strcmp(status, "local") != 0) {
		error_set(err, false, "issue %lld is %s: nothing to %s", id, status, retry ? "retry" : "skip");
		goto out;
	}
	if (retry) {
		if (state_exec(st, err, "retrying an issue", NULL,
			"UPDATE issues SET status = 'pending', attempts = 0, next_attempt_at = 0, last_error = NULL,"
			" updated_at = ?1 WHERE id = ?2", "ii", time_now(), id) < 0)
			goto out;
	} else {
		if (state_exec(st, err, "skipping an issue", NULL,
			"UPDATE issues SET status = 'skipped', next_attempt_at = 0, updated_at = ?1 WHERE id = ?2", "ii",
			time_now(), id) < 0 || outbox_clear_flags(st, id, err) < 0)
			goto out;
	}
	if (state_commit(st, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		state_rollback(st);
	free(status);
	return ret;
}

int
outbox_retry(struct state *st, long long id, struct error *err)
{
	return outbox_operator(st, id, true, err);
}

int
outbox_skip(struct state *st, long long id, struct error *err)
{
	return outbox_operator(st, id, false, err);
}

int
outbox_setting_set(struct state *st, const char *key, const char *value, struct error *err)
{
	if (value == NULL)
		return state_exec(st, err, "writing a setting", NULL, "DELETE FROM settings WHERE key = ?1", "s", key);
	return state_exec(st, err, "writing a setting", NULL,
		"INSERT INTO settings(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
		"ss", key, value);
}

int
outbox_setting_get(struct state *st, const char *key, char **value, struct error *err)
{
	return state_setting_get(st, key, value, err);
}
