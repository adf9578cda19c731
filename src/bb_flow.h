/*
 * bb_flow.h — delivering one queued issue to Bytebase, whatever the release: the job (what to create), the
 * recorder (how the deliverer makes each created name durable; the client never touches the state database), the
 * one "look up, else create, record the name" step every create goes through, and the flow chosen by range:
 *   bb_flow_steps.c    2.15–2.16, 2.17–3.5, 3.6   sheets, plan with steps, issue, projects/x/rollouts
 *   bb_flow_specs.c    3.7–3.13                   release (typed files), plan with specs, issue, projects/x/rollouts
 *   bb_flow_release.c  3.14+                      release (typed), plan, labelled issue, {plan}/rollout
 * docs/bytebase-ranges.md says why each body looks the way it does.
 */
#ifndef BBGITOPS_BB_FLOW_H
#define BBGITOPS_BB_FLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "bb_client.h"
#include "bb_targets.h"
#include "config.h"
#include "error.h"

/* Server limits (enforced from 3.12, respected on every range): cut with an ellipsis, never refused. */
#define BB_TITLE_MAX 200
#define BB_DESCRIPTION_MAX 10000

enum bb_object {
	BB_OBJ_RELEASE,
	BB_OBJ_PLAN,
	BB_OBJ_ISSUE,
	BB_OBJ_ROLLOUT
};

struct bb_file {
	const char *path;
	const char *version;
	const char *type;          /* MIGRATE | DATA | MIGRATE_GHOST (bbgitops' names, mapped per range) */
	const void *content;
	size_t content_len;
};

/* One queued issue. The names are what is recorded so far (NULL: not yet); the flows fill them in. */
struct bb_job {
	long long id;                   /* for logs */
	const struct repo_config *repo;
	const char *title;              /* cut to BB_TITLE_MAX characters */
	const char *description;        /* cut to BB_DESCRIPTION_MAX characters, provenance line kept */
	const char *marker;             /* bbgitops:<repo>@<branch>:<commit 12>[:<path>], <= 200 characters */
	const char *provenance;         /* "bbgitops: <repo>@<branch> <commit>", the description's last line */
	const struct bb_file *files;
	size_t n_files;
	char *names[4];                 /* by enum bb_object; owned */
	char **sheets;                  /* steps flows: recorded sheet names, n_files slots; owned */
	size_t n_sheets;
};

/* How created names become durable (the deliverer's outbox). Each returns 0 or -1 with err set. */
struct bb_recorder {
	void *arg;
	/* Records NAME for WHAT and clears WHAT's in-flight flag, durably, before the next call. */
	int (*record)(void *arg, enum bb_object what, const char *name, struct error *err);
	/* Records the sheet names so far (a JSON array text). */
	int (*record_sheets)(void *arg, const char *json_array, struct error *err);
	/* "A create of WHAT may have happened unrecorded": set before the call, read on resume. */
	int (*inflight_set)(void *arg, enum bb_object what, struct error *err);
	int (*inflight_get)(void *arg, enum bb_object what, bool *set, struct error *err);
};

struct bb_run {
	struct bb *bb;
	struct bb_job *job;
	const struct bb_recorder *rec;
};

/*
 * Look up, else create, record the name — the exactly-once step. When WHAT is already recorded, nothing happens.
 * When an earlier attempt may have created it unrecorded (in-flight flag), FIND looks first. Else the flag is set
 * and CREATE called; a 409 from CREATE means an earlier reply was lost: FIND again. FIND and CREATE return 0 with
 * *name set (or NULL: not found / not created now, e.g. a rollout waiting for approval) or -1 with err set.
 */
typedef int (*bb_step_fn)(struct bb_run *run, void *arg, char **name, struct error *err);
int bb_ensure_once(struct bb_run *run, enum bb_object what, bb_step_fn find, bb_step_fn create, void *arg,
	struct error *err);

/* Delivers JOB with the flow of the range bb_detect settled. *rollout_pending: Bytebase waits for approval. */
int bb_flow_deliver(struct bb *bb, struct bb_job *job, const struct bb_recorder *rec, bool *rollout_pending,
	struct error *err);
/* Only the rollout step of a delivered JOB whose rollout waited for approval. */
int bb_flow_rollout(struct bb *bb, struct bb_job *job, const struct bb_recorder *rec, bool *rollout_pending,
	struct error *err);

/* Pure: S cut to at most MAX characters (code points), the last one an ellipsis when cut. Caller frees. */
char *bb_cut_text(const char *s, size_t max);
/* Pure: BODY cut to MAX characters keeping its last line (the provenance) whole. Caller frees. */
char *bb_cut_description(const char *body, size_t max);

/* The flow families (one file each). */
int bb_flow_steps_deliver(struct bb_run *run, bool *rollout_pending, struct error *err);
int bb_flow_specs_deliver(struct bb_run *run, bool *rollout_pending, struct error *err);
int bb_flow_release_deliver(struct bb_run *run, bool *rollout_pending, struct error *err);
int bb_flow_release_rollout(struct bb_run *run, bool *rollout_pending, struct error *err);

/* bb_flow_steps.c: the issue and the projects/x/rollouts rollout, exactly once each (up to 3.13). */
int bb_flow_steps_issue_and_rollout(struct bb_run *run, struct error *err);
/* bb_flow_release.c: the release of the job's files, found by content or created (3.7+). */
int bb_flow_release_ensure(struct bb_run *run, struct error *err);
/* bb_flow_release.c: the plan titled with the marker, exactly once (3.7+). */
int bb_flow_release_plan(struct bb_run *run, struct error *err);
/* bb_flow_release.c: the plan titled with the marker, found by paging every plan (no trusted filter). */
int bb_flow_find_plan(struct bb_run *run, void *arg, char **name, struct error *err);
/* bb_flow_release.c: the issue of the recorded plan whose description holds the provenance. */
int bb_flow_find_plan_issue(struct bb_run *run, void *arg, char **name, struct error *err);

#endif
