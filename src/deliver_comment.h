/*
 * deliver_comment.h — the deliverer's comment step (issue 12): for each created issue whose comment is due, tell
 * the developer on the Git provider where their migration went (provider.h), exactly once, with backoff.
 * Runs under the deliverer's lock, after the issues; a comment never holds back an issue.
 */
#ifndef BBGITOPS_DELIVER_COMMENT_H
#define BBGITOPS_DELIVER_COMMENT_H

#include <stdbool.h>

#include "config.h"
#include "error.h"
#include "state.h"

struct deliver_comment_run;

struct deliver_comment_run *deliver_comment_run_new(const struct config *cfg, bool now, double deadline);
/* Closes the run's HTTP handle and provider clients; adds the run's counts. NULL is fine. */
void deliver_comment_run_free(struct deliver_comment_run *run, int *failures, bool *waiting);

/* Works through the due comments once (each comment at most once per run). -1 only when the state fails. */
int deliver_comments(struct deliver_comment_run *run, struct state *st, struct error *err);

#endif
