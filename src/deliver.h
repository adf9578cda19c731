/*
 * deliver.h — draining the outbox into Bytebase (design §4): one deliverer at a time (lock file in the state
 * directory), per (repository, branch) in queue order, a permanently failed issue holding back the later ones.
 */
#ifndef BBGITOPS_DELIVER_H
#define BBGITOPS_DELIVER_H

#include <stdbool.h>

#include "config.h"
#include "error.h"

struct deliver_options {
	bool now;                  /* ignore backoff schedules */
	long long retry_id;        /* 0, or an issue to put back to pending (also a "local" one) */
	long long skip_id;         /* 0, or a failed/pending issue to mark skipped */
	long long retry_comment_id; /* 0, or an issue whose failed/skipped pull request comment is due again */
	long long skip_comment_id;  /* 0, or an issue whose pending/failed comment is given up */
	double deadline;           /* 0, or a time_monotonic() past which no new call starts (hook.deliver inline) */
	bool wait_for_lock;        /* false: another deliverer running means there is nothing to do */
};

/*
 * Delivers pending issues. Returns 0 when everything due was delivered (or nothing was due), 1 when some issue
 * failed or is waiting for a retry, -1 with err set when delivery could not run at all.
 */
int deliver_run(const struct config *cfg, const struct deliver_options *opts, struct error *err);

#endif
