/*
 * outbox.h — the delivery progress of queued issues, in the state database: which issue of each branch is next,
 * each created Bytebase name recorded (committed) before the next call, "creation in flight" flags for the objects
 * that must exist exactly once, backoff after transient failures, and the operator's retry and skip.
 * Every read-then-write runs in BEGIN IMMEDIATE; every value is a bound parameter.
 */
#ifndef BBGITOPS_OUTBOX_H
#define BBGITOPS_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "state.h"

/* The oldest undelivered (pending or failed) issue of one (repository, branch). */
struct outbox_head {
	long long id;
	char *repository;
	char *branch;
	bool failed;               /* status failed: the branch is held back */
	long long next_attempt_at; /* unix seconds */
};

/* Heads of every branch with undelivered issues, by issue id. Free with outbox_heads_free. */
int outbox_heads(struct state *st, struct outbox_head **out, size_t *n, struct error *err);
void outbox_heads_free(struct outbox_head *heads, size_t n);
/*
 * Reads HEAD's issue again (after its branch's lease was taken: another deliverer may have moved it meanwhile):
 * *still false when it is no longer the undelivered head of its branch; else failed and next_attempt_at updated.
 */
int outbox_head_reload(struct state *st, struct outbox_head *head, bool *still, struct error *err);
/* Is the rollout of issue ID still waiting (created, rollout pending, no rollout name)? */
int outbox_rollout_waiting(struct state *st, long long id, bool *waiting, struct error *err);

/* Which name column to record. */
enum outbox_name {
	OUTBOX_RELEASE,
	OUTBOX_PLAN,
	OUTBOX_ISSUE,
	OUTBOX_ROLLOUT
};

/* Records NAME in the column and clears the in-flight flag of that object, in one transaction. */
int outbox_record_name(struct state *st, long long id, enum outbox_name what, const char *name,
	struct error *err);
/* Records the sheet names (a JSON array text, aligned with the issue's files). */
int outbox_record_sheets(struct state *st, long long id, const char *json_array, struct error *err);

/* "Creation of WHAT may have happened unrecorded": set before the call, cleared by outbox_record_name. */
int outbox_inflight_set(struct state *st, long long id, enum outbox_name what, struct error *err);
int outbox_inflight_get(struct state *st, long long id, enum outbox_name what, bool *set, struct error *err);

/*
 * Delivered: status created, attempts counted, last_error cleared; rollout_pending as given; with COMMENT_DUE the
 * pull request comment is queued (outbox_comment.h) in the same transaction.
 */
int outbox_mark_created(struct state *st, long long id, bool rollout_pending, bool comment_due,
	struct error *err);
/* Transient failure: attempts + 1, next attempt DELAY seconds from now, last_error = MSG; stays pending. */
int outbox_mark_transient(struct state *st, long long id, const char *msg, long delay, struct error *err);
/* Permanent failure: status failed, attempts + 1, last_error = MSG. */
int outbox_mark_failed(struct state *st, long long id, const char *msg, struct error *err);

/*
 * Created issues whose rollout waited for approval, tried fewer than MAX_ATTEMPTS times and due (all of them when
 * ALL), by id. Caller frees *ids.
 */
int outbox_rollouts_due(struct state *st, long max_attempts, bool all, long long **ids, size_t *n,
	struct error *err);
/*
 * The outcome of one more rollout try: still PENDING (next try DELAY seconds from now) or not; MSG (may be NULL)
 * becomes last_error. Counts the try.
 */
int outbox_mark_rollout(struct state *st, long long id, bool pending, long delay, const char *msg,
	struct error *err);

/*
 * Operator actions. retry: a failed, pending or local issue back to pending with attempts and schedule reset;
 * skip: a failed, pending or local issue to skipped. Anything else fails with a message naming the status.
 */
int outbox_retry(struct state *st, long long id, struct error *err);
int outbox_skip(struct state *st, long long id, struct error *err);

/* The settings table: VALUE NULL deletes. get: *value NULL when absent (caller frees). */
int outbox_setting_set(struct state *st, const char *key, const char *value, struct error *err);
int outbox_setting_get(struct state *st, const char *key, char **value, struct error *err);

#endif
