/*
 * state.h — the state shared by hook, poller, backfill and deliverer: cursors, the ledger of queued migration files,
 * the issue outbox and the event log. Two backends behind this one interface: SQLite in state_dir (the embedded
 * default: WAL, a busy timeout on every connection, BEGIN IMMEDIATE for read-then-write, schema versioned with
 * PRAGMA user_version) or PostgreSQL named by the configuration's `state` section (shared by a fleet; advisory
 * locks; schema versioned in a table). All SQL uses bound parameters.
 * A connection never crosses fork(): open it in the process that uses it.
 */
#ifndef BBGITOPS_STATE_H
#define BBGITOPS_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct state;
struct config;

/*
 * Opens the configured state and brings its schema up to date: PostgreSQL when CFG has a `state` section (its
 * password file read here, connect_timeout applied), else STATE_DIR/state.db (STATE_DIR created, mode 2770, when
 * missing). Connection failures are transient errors.
 */
int state_open(const struct config *cfg, struct state **out, struct error *err);
/* The backends by name: SQLite in STATE_DIR; PostgreSQL at URL (PASSWORD_FILE may be NULL). */
int state_open_sqlite(const char *state_dir, struct state **out, struct error *err);
int state_open_url(const char *state_dir, const char *url, const char *password_file, long connect_timeout,
	struct state **out, struct error *err);
void state_close(struct state *st);                 /* NULL is fine */
const char *state_dir(const struct state *st);
const char *state_where(const struct state *st);    /* the database file, or the URL without its password */
const char *state_backend(const struct state *st);  /* "sqlite" or "postgresql" */

/*
 * For the hook: its commits are not synced (see the argument in state_sqlite.c), so a push pays no fsync.
 * Call right after state_open.
 */
void state_defer_sync(struct state *st);

/*
 * For a connection kept open while idle (the hook server's waiting worker): is it still one to the state? SQLite:
 * the database file at its path is the one it opened; PostgreSQL: the server has not closed it.
 */
bool state_still_usable(struct state *st);

/*
 * For the deliverer, before its first network call: every later commit is synced, and one is made now (the run's
 * start time in settings) so that what the hook and the poller committed unsynced is durable before any of it is
 * sent.
 */
int state_sync_full(struct state *st, struct error *err);

/* A read transaction (deferred): one snapshot and one lock for many queries. End with state_commit. */
int state_begin_read(struct state *st, struct error *err);
/* A read-then-write transaction, serialized against every other writer. */
int state_begin_immediate(struct state *st, struct error *err);
/*
 * The transaction of one (repository, branch)'s catch-up: serialized against every other catch-up of that branch,
 * on every machine sharing the state, and against other writers; its cursor row is locked.
 */
int state_begin_branch(struct state *st, const char *repository, const char *branch, struct error *err);
int state_commit(struct state *st, struct error *err);
void state_rollback(struct state *st);              /* harmless outside a transaction */

/*
 * A lease on (KIND, A, B) held by this connection until released, or until the process ends (then at once): one
 * deliverer per branch, one poller per repository across machines. *got false when another process holds it.
 * With SQLite, always granted: the callers' flocks in state_dir already make one machine's processes take turns.
 */
int state_lease_try(struct state *st, const char *kind, const char *a, const char *b, bool *got, struct error *err);
void state_lease_release(struct state *st, const char *kind, const char *a, const char *b);

/* Cursor of (repository, branch): *found false when none. out_hex gets 40 hex digits. */
int state_cursor_get(struct state *st, const char *repository, const char *branch, char out_hex[41], bool *found,
	struct error *err);
int state_cursor_set(struct state *st, const char *repository, const char *branch, const char *commit_hex,
	struct error *err);
int state_cursor_delete(struct state *st, const char *repository, const char *branch, struct error *err);
/* The LIMIT cursors moved last, newest first: fn(repository, commit_hex, arg) for each. */
int state_cursors_recent(struct state *st, int limit, void (*fn)(const char *repository, const char *commit_hex,
	void *arg), void *arg, struct error *err);

/* The cursors of REPOSITORY, by branch name. Free with state_cursors_free. */
struct state_cursor {
	char *repository;
	char *branch;
	char commit[41];
	long long updated_at;     /* unix seconds */
};
/* The cursors of REPOSITORY (NULL: of every repository), by repository and branch. */
int state_cursors_list(struct state *st, const char *repository, struct state_cursor **out, size_t *n,
	struct error *err);
void state_cursors_free(struct state_cursor *cursors, size_t n);

/* How many issues of REPOSITORY have each status: fn(status, count, arg) per status present. */
int state_issue_counts(struct state *st, const char *repository,
	void (*fn)(const char *status, long long count, void *arg), void *arg, struct error *err);

/* The last LIMIT events, oldest first: fn(time, level, repository (may be NULL), message, arg). */
int state_events_recent(struct state *st, int limit,
	void (*fn)(long long time, const char *level, const char *repository, const char *message, void *arg),
	void *arg, struct error *err);

/* The settings table: *value NULL when KEY is absent (caller frees). */
int state_setting_get(struct state *st, const char *key, char **value, struct error *err);

/* Is (repository, branch, path, blob) in the ledger? */
int state_ledger_contains(struct state *st, const char *repository, const char *branch, const char *path,
	const char *blob_hex, bool *found, struct error *err);

struct state_new_issue {
	const char *repository;
	const char *branch;
	const char *commit;
	const char *key;      /* "" with group_by commit, the path with group_by file */
	const char *title;
	const char *body;
	const char *status;   /* "local", "pending", or "failed" (with last_error) */
	const char *last_error;   /* NULL unless failed from the start */
};
/* Inserts the issue unless (repository, branch, commit, key) exists: *id is the new id, or 0 when it existed. */
int state_issue_insert(struct state *st, const struct state_new_issue *issue, long long *id, struct error *err);
/* Deletes issue ID, which has no migration rows (all its files were queued by someone else meanwhile). */
int state_issue_drop(struct state *st, long long id, struct error *err);

struct state_new_migration {
	const char *repository;
	const char *branch;
	const char *path;
	const char *blob;
	const char *version;
	const char *type;
	const char *description;
	const char *commit;
	long long issue_id;
	const void *content;
	size_t content_len;
};
/* Records a queued migration file in the ledger; *inserted false when the same (repo, branch, path, blob) existed. */
int state_migration_insert(struct state *st, const struct state_new_migration *m, bool *inserted, struct error *err);

/* The versions the ledger holds for (repository, branch): calls fn(version, path, arg) for each file. */
int state_ledger_versions(struct state *st, const char *repository, const char *branch,
	void (*fn)(const char *version, const char *path, void *arg), void *arg, struct error *err);

/* Has a file at PATH on (repository, branch) been delivered (its issue is "created")? */
int state_path_delivered(struct state *st, const char *repository, const char *branch, const char *path,
	bool *delivered, struct error *err);

/* Appends to the event log shown by `status`; level is "info", "warning" or "error". Best effort: never fails. */
void state_event(struct state *st, const char *level, const char *repository, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Issues as listed by `issues`. */
struct state_issue_file {
	char *path;
	char *version;
	char *type;
	char *blob;
	char *description;
	void *content;        /* loaded only when asked (state_issue_load_content) */
	size_t content_len;
};

struct state_issue {
	long long id;         /* <= 0 in a dry run: printed as null */
	char *repository;
	char *branch;
	char *commit;
	char *key;
	char *title;
	char *body;
	char *status;         /* NULL in a dry run */
	long attempts;
	long long next_attempt_at;
	char *last_error;
	char *release_name;
	char *sheet_names;    /* JSON array text, or NULL */
	char *plan_name;
	char *bytebase_issue;
	char *rollout_name;
	bool rollout_pending;
	long rollout_attempts;  /* tries of a rollout that waited for approval */
	long long created_at;
	char *comment_status;     /* the pull request comment: NULL when none is due, else pending|done|failed|skipped */
	char *comment_url;
	long comment_attempts;
	char *comment_error;
	struct state_issue_file *files;
	size_t n_files;
};

struct state_issue_filter {
	const char *repository;   /* NULL: all */
	const char *branch;       /* NULL: all */
	const char *status;       /* NULL: all */
	long long id;             /* 0: all */
};

/* Issues matching filter, oldest first (by id), with their files in version order. */
int state_issues_list(struct state *st, const struct state_issue_filter *filter, struct state_issue **out,
	size_t *n, struct error *err);
/* Loads content of every file of the issue. */
int state_issue_load_content(struct state *st, struct state_issue *issue, struct error *err);
void state_issue_clear(struct state_issue *issue);
void state_issues_free(struct state_issue *issues, size_t n);

/* Sorts files by version, then path (design §2.6). */
void state_issue_sort_files(struct state_issue *issue);

/* Opens the state database only when it exists (read-only commands must not create one); *out NULL otherwise. */
int state_open_existing(const struct config *cfg, struct state **out, bool *exists, struct error *err);

#endif
