/*
 * state_metrics.h — the state layer's part of the metrics: counters the poller and the deliverer bump (poll and
 * fetch failures, delivery attempts and failures, the last successful poll), and the reads that `status
 * --prometheus` and poll.metrics_file format (src/metrics.c). All SQL of the metrics lives in state_metrics.c.
 */
#ifndef BBGITOPS_STATE_METRICS_H
#define BBGITOPS_STATE_METRICS_H

#include "error.h"
#include "state.h"

/* Counter and timestamp names, per repository. */
#define STATE_METRIC_POLL_FAILURES "poll_failures"
#define STATE_METRIC_FETCH_FAILURES "fetch_failures"
#define STATE_METRIC_LAST_POLL "last_successful_poll"
#define STATE_METRIC_DELIVERY_ATTEMPTS "delivery_attempts"
#define STATE_METRIC_DELIVERY_FAILURES "delivery_failures"

/*
 * Adds DELTA to the counter NAME of REPOSITORY (created at 0). Best effort, like state_event: a metric must never
 * fail the poll or the delivery it counts; a failure is logged as a warning.
 */
void state_metric_add(struct state *st, const char *name, const char *repository, long long delta);
/* Sets NAME of REPOSITORY to VALUE (a timestamp). Best effort, as above. */
void state_metric_set(struct state *st, const char *name, const char *repository, long long value);
/* The same value of NAME for each of REPOSITORIES, in one transaction (a poll cycle's last-poll times). */
void state_metric_set_many(struct state *st, const char *name, const char *const *repositories, size_t n,
	long long value);

/* The values of one repository, as the state holds them. */
struct state_metrics_repo {
	long long issues_local, issues_pending, issues_created, issues_failed, issues_skipped;
	long long oldest_pending_created_at;   /* 0: nothing pending */
	long long poll_failures, fetch_failures, last_successful_poll;
	long long delivery_attempts, delivery_failures;
	long long comments_pending, comments_done, comments_failed, comments_skipped;   /* pull request comments */
};

/* Reads the values of REPOSITORY into *out (zeros for what the state has never seen). 0, or -1 with err set. */
int state_metrics_repo(struct state *st, const char *repository, struct state_metrics_repo *out, struct error *err);

/* The size in bytes of the state database's file and its write-ahead log. 0, or -1 with err set. */
int state_metrics_db_size(struct state *st, long long *bytes, struct error *err);

#endif
