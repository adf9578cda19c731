/*
 * bb_flow_specs.c — the specs flow, Bytebase 3.7 to 3.13: plans lost their steps and schemaVersion in 3.7, so a
 * file's version travels in a release (files typed VERSIONED, the change kind named changeType, migrationType or
 * enableGhost depending on the sub-range: bb_flow_release.c), the plan (title = marker, one spec with targets and
 * the release) is found by paging every plan (ListPlans has no filter before 3.14), then the issue and
 * POST projects/x/rollouts {plan} as in the steps flow. See docs/bytebase-ranges.md.
 */
#include "bb_flow.h"

int
bb_flow_specs_deliver(struct bb_run *run, bool *rollout_pending, struct error *err)
{
	*rollout_pending = false;
	if (bb_flow_release_ensure(run, err) < 0 || bb_flow_release_plan(run, err) < 0)
		return -1;
	return bb_flow_steps_issue_and_rollout(run, err);
}
