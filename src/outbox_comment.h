/*
 * outbox_comment.h — the pull request comments in the state database (table comments, one row per created issue
 * whose repository comments): due, in flight, done with its URL, backoff after transient failures, failed, and the
 * operator's retry and skip. An outbox step of its own: it never holds back the issues of its branch.
 */
#ifndef BBGITOPS_OUTBOX_COMMENT_H
#define BBGITOPS_OUTBOX_COMMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "state.h"

struct outbox_comment {
	long long issue_id;
	long attempts;
	long long next_attempt_at;
	long long due_since;      /* when the issue was created: the merged pull request is looked for from then */
	bool inflight;            /* an earlier attempt may have written to the provider unrecorded */
};

/* Pending comments, by issue id (with ALL, also those whose backoff has not run out). Free with free(). */
int outbox_comments_pending(struct state *st, bool all, struct outbox_comment **out, size_t *n, struct error *err);
/* Is the comment of ISSUE_ID still pending (read again once its lease is held)? */
int outbox_comment_is_pending(struct state *st, long long issue_id, bool *pending, struct error *err);

/* Before a call that may create or edit the comment: attempts + 1, in flight. */
int outbox_comment_begin(struct state *st, long long issue_id, struct error *err);
/* Done: status done, URL recorded, in-flight cleared. */
int outbox_comment_done(struct state *st, long long issue_id, const char *url, struct error *err);
/* Transient failure: next attempt DELAY seconds from now, last_error = MSG; stays pending. */
int outbox_comment_transient(struct state *st, long long issue_id, const char *msg, long delay,
	struct error *err);
/* Permanent failure: status failed, last_error = MSG. */
int outbox_comment_failed(struct state *st, long long issue_id, const char *msg, struct error *err);

/*
 * Operator actions (deliver --retry-comment ID, --skip-comment ID). retry: any comment (a done one is checked
 * again: found by its marker, never duplicated) back to pending now, attempts reset; skip: a pending or failed
 * comment to skipped. An issue without a comment
 * fails with a message saying so.
 */
int outbox_comment_retry(struct state *st, long long issue_id, struct error *err);
int outbox_comment_skip(struct state *st, long long issue_id, struct error *err);

#endif
