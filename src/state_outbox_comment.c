/*
 * state_outbox_comment.c — the comments table (see outbox_comment.h). Every value is a bound parameter; operator
 * actions read then write inside BEGIN IMMEDIATE.
 */
#include "outbox_comment.h"
#include "state_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

int
outbox_comments_pending(struct state *st, bool all, struct outbox_comment **out, size_t *n, struct error *err)
{
	struct outbox_comment *list = NULL;
	sqlite3_stmt *stmt = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (sqlite3_prepare_v2(state_db(st), "SELECT issue_id, attempts, next_attempt_at, due_since, inflight "
	    "FROM comments WHERE status = 'pending' AND (?1 OR next_attempt_at <= ?2) ORDER BY issue_id", -1,
	    &stmt, NULL) != SQLITE_OK)
		return state_error(st, err, "listing pending comments");
	sqlite3_bind_int(stmt, 1, all);
	sqlite3_bind_int64(stmt, 2, time_now());
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? 2 * cap : 8;
			list = xrealloc(list, cap * sizeof(*list));
		}
		list[len].issue_id = sqlite3_column_int64(stmt, 0);
		list[len].attempts = (long)sqlite3_column_int64(stmt, 1);
		list[len].next_attempt_at = sqlite3_column_int64(stmt, 2);
		list[len].due_since = sqlite3_column_int64(stmt, 3);
		list[len].inflight = sqlite3_column_int(stmt, 4) != 0;
		len++;
	}
	if (rc != SQLITE_DONE) {
		state_error(st, err, "listing pending comments");
		sqlite3_finalize(stmt);
		free(list);
		return -1;
	}
	sqlite3_finalize(stmt);
	*out = list;
	*n = len;
	return 0;
}

int
outbox_comment_begin(struct state *st, long long issue_id, struct error *err)
{
	return state_exec(st, err, "recording a comment attempt", NULL,
		"UPDATE comments SET attempts = attempts + 1, inflight = 1, updated_at = ?1"
		" WHERE issue_id = ?2 AND status = 'pending'", "ii", time_now(), issue_id);
}

int
outbox_comment_done(struct state *st, long long issue_id, const char *url, struct error *err)
{
	return state_exec(st, err, "recording a comment", NULL,
		"UPDATE comments SET status = 'done', url = ?1, inflight = 0, last_error = NULL, next_attempt_at = 0,"
		" updated_at = ?2 WHERE issue_id = ?3 AND status = 'pending'", "sii", url, time_now(), issue_id);
}

int
outbox_comment_transient(struct state *st, long long issue_id, const char *msg, long delay, struct error *err)
{
	long long now = time_now();

	return state_exec(st, err, "recording a comment failure", NULL,
		"UPDATE comments SET next_attempt_at = ?1, last_error = ?2, updated_at = ?3"
		" WHERE issue_id = ?4 AND status = 'pending'", "isii", now + delay, msg, now, issue_id);
}

int
outbox_comment_failed(struct state *st, long long issue_id, const char *msg, struct error *err)
{
	return state_exec(st, err, "recording a comment failure", NULL,
		"UPDATE comments SET status = 'failed', last_error = ?1, next_attempt_at = 0, updated_at = ?2"
		" WHERE issue_id = ?3 AND status = 'pending'", "sii", msg, time_now(), issue_id);
}

/* Moves the comment of ISSUE_ID from one of FROM (SQL list) to TO, in one transaction, naming its status if not. */
static int
oc_operator(struct state *st, long long issue_id, const char *update_sql, const char *allowed, const char *verb,
	struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	char *status = NULL;
	int changes = 0, ret = -1;

	if (state_begin_immediate(st, err) < 0)
		return -1;
	if (sqlite3_prepare_v2(state_db(st), "SELECT status FROM comments WHERE issue_id = ?1", -1, &stmt,
	    NULL) != SQLITE_OK) {
		state_error(st, err, "reading a comment");
		goto out;
	}
	sqlite3_bind_int64(stmt, 1, issue_id);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		status = xstrdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	if (status == NULL) {
		error_set(err, false, "issue %lld has no pull request comment", issue_id);
		goto out;
	}
	if (strstr(allowed, status) == NULL) {
		error_set(err, false, "the comment of issue %lld is %s: nothing to %s", issue_id, status, verb);
		goto out;
	}
	if (state_exec(st, err, "changing a comment", &changes, update_sql, "ii", time_now(), issue_id) < 0)
		goto out;
	ret = state_commit(st, err);
out:
	if (ret < 0)
		state_rollback(st);
	free(status);
	return ret;
}

int
outbox_comment_retry(struct state *st, long long issue_id, struct error *err)
{
	return oc_operator(st, issue_id, "UPDATE comments SET status = 'pending', attempts = 0, next_attempt_at = 0,"
		" last_error = NULL, updated_at = ?1 WHERE issue_id = ?2", "pending failed skipped done", "retry", err);
}

int
outbox_comment_skip(struct state *st, long long issue_id, struct error *err)
{
	return oc_operator(st, issue_id, "UPDATE comments SET status = 'skipped', next_attempt_at = 0,"
		" updated_at = ?1 WHERE issue_id = ?2", "pending failed", "skip", err);
}
