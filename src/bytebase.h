/*
 * bytebase.h — the Bytebase REST calls bbgitops makes (bytebase-api.md), in both dialects: v2 (sheets, plan with
 * steps, issue, rollout) and v3 (release, plan with targets, labelled issue, plan rollout). JSON in and out with
 * jansson; login with the service account, the bearer token kept in memory only, one re-login on 401.
 * Errors: transient = no response, timeouts, 5xx, 429 (bb_retry_after), permanent = other 4xx with Bytebase's
 * message; err->http_status carries the status. Lookups (engines, project databases, environments) are cached for
 * the life of the handle, i.e. one delivery run.
 */
#ifndef BBGITOPS_BYTEBASE_H
#define BBGITOPS_BYTEBASE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error.h"

enum bb_dialect { BB_DIALECT_UNKNOWN = 0, BB_DIALECT_V2 = 2, BB_DIALECT_V3 = 3 };

/* gRPC code of FAILED_PRECONDITION in an error body. */
#define BB_CODE_FAILED_PRECONDITION 9

struct bb;

/* Reads the service key (config_bytebase_key) and opens the HTTP handle. No request is made yet. */
int bb_open(const struct bytebase_config *cfg, struct bb **out, struct error *err);
void bb_close(struct bb *bb);                          /* NULL is fine; wipes the key and token */
void bb_set_deadline(struct bb *bb, double deadline);  /* see http_set_deadline */
void bb_stats(const struct bb *bb, long *requests, long *connections);

/* Seconds from the last 429/503's Retry-After header, or -1. */
long bb_retry_after(const struct bb *bb);
/* gRPC code from the last error body, or 0. */
int bb_last_code(const struct bb *bb);

/* Pure: "2.17.0" -> v2, "3.21.1" / "development" -> v3, anything else -> unknown. */
enum bb_dialect bb_dialect_for_version(const char *version);
/*
 * The dialect to speak: forced by cfg api, else read once from GET /v1/actuator/info. *version (may be NULL) gets
 * the server's version string when it was read (caller frees), or NULL.
 */
int bb_dialect(struct bb *bb, enum bb_dialect *out, char **version, struct error *err);

/* doctor: does the resource NAME ("projects/hr", "instances/i/databases/d", …) exist? 0 with *exists, or -1. */
int bb_exists(struct bb *bb, const char *name, bool *exists, struct error *err);

/* Logs in now (calls do it lazily too). */
int bb_login(struct bb *bb, struct error *err);

/* One plan step (v2) or the target list (v3: all steps' targets together). */
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
 * The targets of REPO (bytebase-api.md): databases -> one step per database in listed order; database_group ->
 * one step with the group; neither -> every database of the project, one step per environment in environment
 * order. The result is owned by bb (cached per repository entry).
 */
int bb_targets(struct bb *bb, const struct repo_config *repo, const struct bb_targets **out, struct error *err);

/* The sheet engine for REPO: its engine setting, else the engine of its first target database (cached). */
int bb_engine(struct bb *bb, const struct repo_config *repo, const char **out, struct error *err);

struct bb_file {
	const char *path;
	const char *version;
	const char *type;          /* MIGRATE | DATA | MIGRATE_GHOST */
	const void *content;
	size_t content_len;
};

/* --- v2 --- */
int bb_create_sheet(struct bb *bb, const char *project, const struct bb_file *file, const char *engine,
	char **name, struct error *err);
/* Plan with one spec per (step database, file); sheets[i] belongs to files[i]. */
int bb_create_plan_v2(struct bb *bb, const char *project, const char *title, const struct bb_targets *targets,
	const struct bb_file *files, char *const *sheets, size_t n_files, char **name, struct error *err);
int bb_create_rollout_v2(struct bb *bb, const char *project, const char *plan, char **name, struct error *err);
/* Finds an issue of PLAN whose description holds PROVENANCE; *name NULL when none. */
int bb_find_issue_v2(struct bb *bb, const char *project, const char *provenance, const char *plan, char **name,
	struct error *err);
/* The rollout back-linked from ISSUE, or *name NULL. */
int bb_issue_rollout(struct bb *bb, const char *issue, char **name, struct error *err);

/* --- both: LABEL is NULL in v2 --- */
int bb_create_issue(struct bb *bb, const char *project, const char *title, const char *description,
	const char *plan, const char *label, char **name, struct error *err);

/* --- v3 --- */
int bb_create_release(struct bb *bb, const char *project, const struct bb_file *files, size_t n_files,
	char **name, struct error *err);
int bb_create_plan_v3(struct bb *bb, const char *project, const char *marker, const char *description,
	const struct bb_targets *targets, const char *release, char **name, struct error *err);
/* Finds the plan titled exactly MARKER: *plan (NULL when none) and its *issue (NULL when none). */
int bb_find_plan_v3(struct bb *bb, const char *project, const char *marker, char **plan, char **issue,
	struct error *err);
/* The issue of PLAN (GET /v1/<plan> -> issue), or *issue NULL. */
int bb_plan_issue(struct bb *bb, const char *plan, char **issue, struct error *err);
/* POST /v1/<plan>/rollout: *name, or *pending true (and *name NULL) when Bytebase waits for approval. */
int bb_create_rollout_v3(struct bb *bb, const char *plan, char **name, bool *pending, struct error *err);

/* Standard base64 of DATA. Caller frees. */
char *bb_base64(const void *data, size_t len);

#endif
