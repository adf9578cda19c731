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
	struct state_stmt *s = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (state_query(st, &s, err, "listing pending comments", "SELECT issue_id, attempts, next_attempt_at, "
	    "due_since, inflight FROM comments WHERE status = 'pending' AND (?1 <> 0 OR next_attempt_at <= ?2) "
	    "ORDER BY issue_id", "ii", (long long)all, time_now()) != 0)
		return -1;
	while ((rc = state_step(s, err)) == 1) {
		if (len == cap) {
			cap = cap ? 2 * cap : 8;
			list = xrealloc(list, cap * sizeof(*list));
		}
		list[len].issue_id = state_col_int(s, 0);
		list[len].attempts = (long)state_col_int(s, 1);
		list[len].next_attempt_at = state_col_int(s, 2);
		list[len].due_since = state_col_int(s, 3);
		list[len].inflight = state_col_int(s, 4) != 0;
		len++;
	}
	state_stmt_free(s);
	if (rc < 0) {
		free(list);
		return -1;
	}
	*out = list;
	*n = len;
	return 0;
}

int
outbox_comment_is_pending(struct state *st, long long issue_id, bool *pending, struct error *err)
{
	return state_query_exists(st, pending, err, "reading a comment", "SELECT 1 FROM comments WHERE "
	    "issue_id = ?1 AND status = 'pending'", "i", issue_id);
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
	struct state_stmt *s = NULL;
	char *status = NULL;
	int changes = 0, ret = -1, rc;

	if (state_begin_immediate(st, err) < 0)
		return -1;
	if (state_query(st, &s, err, "reading a comment", "SELECT status FROM comments WHERE issue_id = ?1", "i",
	    issue_id) != 0)
		goto out;
	rc = state_step(s, err);
	if (rc == 1)
		status = state_column_dup(s, 0);
	state_stmt_free(s);
	if (rc < 0)
		goto out;
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
