/*
 * state_migrate.h — copying a whole state from one backend into another (`bbgitops state migrate --to URL`).
 */
#ifndef BBGITOPS_STATE_MIGRATE_H
#define BBGITOPS_STATE_MIGRATE_H

#include "error.h"
#include "state.h"

struct state_migrate_counts {
	long long cursors, issues, migrations, comments, events, settings, metrics;
};

/*
 * Copies everything FROM holds into TO, in one transaction on TO. Refused (nothing copied) when TO already holds
 * state for one of FROM's repositories. Ids are kept when TO has no issue yet, else renumbered in the same order.
 */
int state_migrate_copy(struct state *from, struct state *to, struct state_migrate_counts *counts,
	struct error *err);

#endif
