/*
 * bb_client.h — the Bytebase client core every flow shares: login with the service account (the bearer token in
 * memory only, one re-login on 401), one JSON call, paging through every page of a list, errors classified
 * transient/permanent with the server's message kept, the server's version read from GET /v1/actuator/info and
 * the release range it falls in. The run caches (targets, engines, environment order) are in bb_targets.c.
 */
#ifndef BBGITOPS_BB_CLIENT_H
#define BBGITOPS_BB_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "error.h"

/* gRPC code of FAILED_PRECONDITION in an error body. */
#define BB_CODE_FAILED_PRECONDITION 9

/*
 * The release ranges whose request bodies differ (bytebase-versions.md, docs/bytebase-ranges.md). Ordered: a
 * later range is a later release.
 */
enum bb_range {
	BB_RANGE_UNKNOWN = 0,
	BB_RANGE_2_15,             /* 2.15–2.16: steps; no sheet engine, no issue labels */
	BB_RANGE_2_17,             /* 2.17–3.5: steps; environments listed by GET /v1/environments */
	BB_RANGE_3_6,              /* 3.6: steps; environment order in the workspace setting */
	BB_RANGE_3_7,              /* 3.7–3.13: specs with targets + a release; projects/x/rollouts */
	BB_RANGE_3_14              /* 3.14+: typed release, filterable plans, labelled issue, {plan}/rollout */
};

/* A release number: 3.8.1 = { 3, 8, 1 }. */
struct bb_version {
	int major, minor, patch;
};

/* The newest release whose protos this client was written against. */
#define BB_NEWEST_KNOWN_MAJOR 3
#define BB_NEWEST_KNOWN_MINOR 21

struct bb;

/* Reads the service key (config_bytebase_key) and opens the HTTP handle. No request is made yet. */
int bb_open(const struct bytebase_config *cfg, struct bb **out, struct error *err);
void bb_close(struct bb *bb);                          /* NULL is fine; wipes the key and token */
void bb_set_deadline(struct bb *bb, double deadline);  /* see http_set_deadline */
void bb_stats(const struct bb *bb, long *requests, long *connections);
const struct bytebase_config *bb_config(const struct bb *bb);

/* Seconds from the last 429/503's Retry-After header, or -1. */
long bb_retry_after(const struct bb *bb);
/* gRPC code from the last error body, or 0. */
int bb_last_code(const struct bb *bb);

/*
 * Pure: parses "3.8.1", "v2.17.0", "3.8" into *v; "development" is the newest known release. Returns false for
 * anything else.
 */
bool bb_version_parse(const char *s, struct bb_version *v);
/* Pure: the range of V; BB_RANGE_UNKNOWN for releases older than 2.15. *newer: V is past the newest known. */
enum bb_range bb_range_of(const struct bb_version *v, bool *newer);
/* "2.15–2.16" etc., for messages and status. */
const char *bb_range_name(enum bb_range r);

/* What bb_detect settled: the range, the version it came from, how it was chosen. */
struct bb_server {
	enum bb_range range;
	struct bb_version version;  /* the detected or forced release (2.17.0 / 3.14.0 for api 2 / 3) */
	char *reported;             /* the server's version string (owned), or NULL when forced */
	bool newer;                 /* the server is newer than any release known here */
};

/*
 * Settles the range: forced by bytebase.api (2, 3 or a release), else read once from GET /v1/actuator/info. A
 * release older than 2.15 or an unreadable version is a permanent error naming it. Free with bb_server_clear.
 */
int bb_detect(struct bb *bb, struct bb_server *out, struct error *err);
void bb_server_clear(struct bb_server *s);
/* The range bb_detect settled (BB_RANGE_UNKNOWN before). */
enum bb_range bb_current_range(const struct bb *bb);
const struct bb_version *bb_current_version(const struct bb *bb);

/* Logs in now (calls do it lazily too). */
int bb_login(struct bb *bb, struct error *err);

/*
 * One call: logs in first when needed, re-logs in once on 401. BODY (may be NULL) is sent as JSON; the reply cap
 * is sized from the body's length, so a server that echoes a large statement is still read. *out (may be NULL)
 * gets the JSON object of a 2xx reply ({} for an empty body). Returns 0 or -1 with err set.
 */
int bb_call(struct bb *bb, const char *method, const char *path, const json_t *body, json_t **out,
	struct error *err);
/* POST that must answer with a name: *name (caller frees). BODY NULL = "cannot build the request" (permanent). */
int bb_create(struct bb *bb, const char *path, const json_t *body, char **name, struct error *err);
/* GET /v1/NAME. */
int bb_get(struct bb *bb, const char *name, json_t **out, struct error *err);

/*
 * Calls FN on each element of LIST_KEY in every page of GET BASE (a path that already holds its query, with
 * pageSize), following nextPageToken to the end. FN returns 0 to go on, 1 to stop (found), -1 to fail. Returns
 * what FN last returned (0 when the list ran out), or -1 when a call failed (err set, prefixed WHAT). A token
 * repeated by the server ends the walk with an error instead of looping.
 */
int bb_list(struct bb *bb, const char *base, const char *list_key, const char *what, size_t reply_cap,
	int (*fn)(const json_t *item, void *arg), void *arg, struct error *err);

/* "/v1/projects/<escaped project>/<what>". Caller frees. */
char *bb_project_path(const char *project, const char *what);

/* A string member of OBJ, or NULL when absent, null or not a string (Bytebase >= 3.4.1 omits empty fields). */
const char *bb_str(const json_t *obj, const char *key);
const char *bb_nonempty(const json_t *obj, const char *key);

/* Sets KEY of OBJ to VALUE (a new reference, stolen); a NULL VALUE or a failed set is a permanent error. */
int bb_set(json_t *obj, const char *key, json_t *value, struct error *err);
/* Appends VALUE (stolen) to ARR; NULL or failure is a permanent error. */
int bb_append(json_t *arr, json_t *value, struct error *err);
/* json_string that never fails on bad UTF-8 (str_utf8_clean). NULL s gives "". */
json_t *bb_jstring(const char *s);

/* A random (version 4) UUID. */
int bb_uuid4(struct bb *bb, char out[37], struct error *err);

/* Standard base64 of DATA. Caller frees. */
char *bb_base64(const void *data, size_t len);
/* Lowercase hex SHA-256 of DATA into out (65 bytes). */
void bb_sha256_hex(const void *data, size_t len, char out[65]);

#endif
