/*
 * bb_targets.h — where a repository's migrations go, resolved once per delivery run: its databases, its database
 * group, or every database of its project in environment order (GET /v1/environments up to 3.5; the workspace
 * setting bb.workspace.environment from 3.6 on), and the sheet engine the step flows need.
 */
#ifndef BBGITOPS_BB_TARGETS_H
#define BBGITOPS_BB_TARGETS_H

#include <stddef.h>

#include "bb_client.h"
#include "config.h"
#include "error.h"

/* One plan step (steps flows) or, for the specs and release flows, all targets as one list. */
struct bb_step {
	char *title;
	char **targets;            /* database or database group resource names */
	size_t n_targets;
};

struct bb_targets {
	struct bb_step *steps;
	size_t n_steps;
};

/*
 * The targets of REPO (bytebase-api.md): databases -> one step per database in listed order; database_group -> one
 * step with the group; neither -> every database of the project, one step per environment in environment order
 * (one step holding them all on 3.7+, where the server builds the stages). Owned by bb; each entry is allocated
 * once and never moves, so *out stays valid until bb_close.
 */
int bb_targets(struct bb *bb, const struct repo_config *repo, const struct bb_targets **out, struct error *err);

/* The sheet engine for REPO: its engine setting, else the engine of its first target database (cached). */
int bb_engine(struct bb *bb, const struct repo_config *repo, const char **out, struct error *err);

#endif
