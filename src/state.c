/*
 * state.c — the SQLite state database: opening (WAL, busy timeout, group-writable files), schema migrations by
 * PRAGMA user_version, cursors, the ledger, issue insertion and listing, and the event log.
 * Every statement binds its parameters; nothing from a repository is ever spliced into SQL.
 */
#include "state_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migration.h"
#include "util.h"

#define STATE_BUSY_TIMEOUT_MS 30000

struct state {
	sqlite3 *db;
	char *dir;
	sqlite3_stmt *ledger;   /* state_ledger_contains, prepared once: a backfill asks once per migration file */
	bool defer_sync;        /* state_defer_sync: the WAL is checkpointed at close only once it is large */
};

/* A WAL this large is checkpointed and emptied by a state_defer_sync connection as it closes. */
#define STATE_WAL_TRIM_BYTES (1024 * 1024)

/* Schema steps; step i brings user_version from i to i + 1. Append, never edit. */
static const char *const schema_steps[] = {
	"CREATE TABLE cursors ("
	"  repository TEXT NOT NULL,"
	"  branch TEXT NOT NULL,"
	"  commit_id TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (repository, branch)) STRICT;"
	"CREATE TABLE issues ("
	"  id INTEGER PRIMARY KEY,"
	"  repository TEXT NOT NULL,"
	"  branch TEXT NOT NULL,"
	"  commit_id TEXT NOT NULL,"
	"  key TEXT NOT NULL DEFAULT '',"
	"  title TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('local', 'pending', 'created', 'failed', 'skipped')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_at INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  release_name TEXT,"
	"  sheet_names TEXT,"
	"  plan_name TEXT,"
	"  issue_name TEXT,"
	"  rollout_name TEXT,"
	"  rollout_pending INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  UNIQUE (repository, branch, commit_id, key)) STRICT;"
	"CREATE INDEX issues_status ON issues (status, repository, branch, id);"
	"CREATE TABLE migrations ("
	"  id INTEGER PRIMARY KEY,"
	"  repository TEXT NOT NULL,"
	"  branch TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  blob TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  description TEXT NOT NULL,"
	"  commit_id TEXT NOT NULL,"
	"  issue_id INTEGER NOT NULL REFERENCES issues (id),"
	"  content BLOB NOT NULL,"
	"  UNIQUE (repository, branch, path, blob)) STRICT;"
	"CREATE INDEX migrations_issue ON migrations (issue_id);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  level TEXT NOT NULL,"
	"  repository TEXT,"
	"  message TEXT NOT NULL) STRICT;"
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT) STRICT;",
	/* 1 → 2: counters and timestamps for the metrics (state_metrics.c), per repository ('' for none). */
	"CREATE TABLE metrics ("
	"  name TEXT NOT NULL,"
	"  repository TEXT NOT NULL,"
	"  value INTEGER NOT NULL,"
	"  PRIMARY KEY (name, repository)) STRICT;",
	/* 2 → 3: a rollout waiting for approval is tried again by later runs, a bounded number of times. */
	"ALTER TABLE issues ADD COLUMN rollout_attempts INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE issues ADD COLUMN rollout_next_at INTEGER NOT NULL DEFAULT 0;",
	/* 3 → 4: the pull request comment of a created issue, an outbox step of its own (issue 12). */
	"CREATE TABLE comments ("
	"  issue_id INTEGER PRIMARY KEY REFERENCES issues (id),"
	"  status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed', 'skipped')),"
	"  url TEXT,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt_at INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  inflight INTEGER NOT NULL DEFAULT 0,"
	"  due_since INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL) STRICT;"
	"CREATE INDEX comments_status ON comments (status, next_attempt_at);",
};
#define SCHEMA_VERSION ((int)(sizeof(schema_steps) / sizeof(schema_steps[0])))

/*
 * SQLite's message, except that a write refused with ENOSPC (SQLITE_FULL, or "disk I/O error" when it was the WAL
 * index or a journal that could not grow) is named for what it is. BUF holds the result when it is rewritten.
 */
static const char *
state_reason(sqlite3 *db, const char *msg, char *buf, size_t size)
{
	int code = sqlite3_extended_errcode(db) & 0xff;

	if (code == SQLITE_FULL ||
	    ((code == SQLITE_IOERR || code == SQLITE_CANTOPEN) && sqlite3_system_errno(db) == ENOSPC)) {
		snprintf(buf, size, "no space left on device (%s)", msg);
		return buf;
	}
	return msg;
}

int
state_error(struct state *st, struct error *err, const char *what)
{
	int code = st && st->db ? sqlite3_extended_errcode(st->db) : SQLITE_ERROR;
	bool transient = (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED;
	char buf[512];

	return error_set(err, transient, "%s: %s", what,
		st && st->db ? state_reason(st->db, sqlite3_errmsg(st->db), buf, sizeof(buf)) : "no database");
}

static int
exec_sql(struct state *st, const char *sql, struct error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int code = sqlite3_extended_errcode(st->db) & 0xff;
		char buf[512];

		error_set(err, code == SQLITE_BUSY || code == SQLITE_LOCKED, "%s/state.db: %s", st->dir,
			state_reason(st->db, msg ? msg : sqlite3_errmsg(st->db), buf, sizeof(buf)));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
pragma_int(struct state *st, const char *sql, int *out, struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return state_error(st, err, "state database");
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		state_error(st, err, "state database");
		sqlite3_finalize(stmt);
		return -1;
	}
	*out = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return 0;
}

static int
migrate_schema(struct state *st, struct error *err)
{
	int version;

	if (pragma_int(st, "PRAGMA user_version", &version, err) != 0)
		return -1;
	if (version == SCHEMA_VERSION)
		return 0;
	if (state_begin_immediate(st, err) != 0)
		return -1;
	/* Another process may have migrated while we waited for the lock. */
	if (pragma_int(st, "PRAGMA user_version", &version, err) != 0)
		goto fail;
	if (version > SCHEMA_VERSION) {
		error_set(err, false, "state database %s/state.db has schema version %d, newer than this bbgitops "
			"understands (%d)", st->dir, version, SCHEMA_VERSION);
		goto fail;
	}
	for (; version < SCHEMA_VERSION; version++) {
		char pragma[64];

		if (exec_sql(st, schema_steps[version], err) != 0)
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if (exec_sql(st, pragma, err) != 0)
			goto fail;
	}
	return state_commit(st, err);
fail:
	state_rollback(st);
	return -1;
}

static int
make_dirs(const char *dir, struct error *err)
{
	char *copy = xstrdup(dir), *p;
	struct stat stbuf;

	if (stat(dir, &stbuf) == 0) {
		free(copy);
		if (!S_ISDIR(stbuf.st_mode))
			return error_set(err, false, "state_dir %s: not a directory", dir);
		return 0;
	}
	for (p = copy + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (mkdir(copy, saved == '\0' ? 02770 : 0755) != 0 && errno != EEXIST) {
				error_set(err, false, "state_dir %s: cannot create %s: %s", dir, copy, strerror(errno));
				free(copy);
				return -1;
			}
			/* mkdir ignores the setgid bit on Linux: set it so files inherit the shared group. */
			if (saved == '\0')
				chmod(copy, 02770);
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	free(copy);
	return 0;
}

/*
 * SQLite creates files 0644 minus the umask (007): 0640. The hook's and the poller's users share the state through
 * a group, so the database and its WAL files must be group-writable (design §6). SQLite gives -wal and -shm the
 * database file's mode. Only the owner can change it; others find it already done.
 */
static void
share_with_group(const char *db_path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *path = xasprintf("%s%s", db_path, suffixes[i]);

		if (stat(path, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 0777) != 0660)
			chmod(path, 0660);
		free(path);
	}
}

int
state_open(const char *dir, struct state **out, struct error *err)
{
	struct state *st = xcalloc(1, sizeof(*st));
	char *path = NULL;
	int rc;

	st->dir = xstrdup(dir);
	if (make_dirs(dir, err) != 0)
		goto fail;
	path = xasprintf("%s/state.db", dir);
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		error_set(err, false, "cannot open state database %s: %s", path,
			st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		goto fail;
	}
	share_with_group(path);
	sqlite3_busy_timeout(st->db, STATE_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(st->db, 1);
	/* WAL is persistent once set; only a new database needs the switch (which takes an exclusive lock). */
	{
		sqlite3_stmt *stmt = NULL;
		bool is_wal = false;

		if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode", -1, &stmt, NULL) == SQLITE_OK &&
		    sqlite3_step(stmt) == SQLITE_ROW)
			is_wal = strcmp((const char *)sqlite3_column_text(stmt, 0), "wal") == 0;
		else {
			char buf[512];

			error_set(err, false, "cannot read state database %s: %s", path,
				state_reason(st->db, sqlite3_errmsg(st->db), buf, sizeof(buf)));
			sqlite3_finalize(stmt);
			goto fail;
		}
		sqlite3_finalize(stmt);
		if (!is_wal && exec_sql(st, "PRAGMA journal_mode = WAL", err) != 0) {
			error_prefix(err, "%s", path);
			goto fail;
		}
	}
	if (exec_sql(st, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", err) != 0)
		goto fail;
	if (migrate_schema(st, err) != 0) {
		error_prefix(err, "%s", path);
		goto fail;
	}
	free(path);
	*out = st;
	return 0;
fail:
	free(path);
	state_close(st);
	return -1;
}

/* Checkpoints (synced) and empties a large WAL; a reader in the way: the next close tries again, nothing waits. */
static void
state_trim_wal(struct state *st)
{
	char *wal = xasprintf("%s/state.db-wal", st->dir);
	struct stat sb;

	if (stat(wal, &sb) == 0 && sb.st_size > STATE_WAL_TRIM_BYTES) {
		sqlite3_busy_timeout(st->db, 0);
		sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	}
	free(wal);
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->ledger);
	if (st->defer_sync)
		state_trim_wal(st);
	sqlite3_close_v2(st->db);
	free(st->dir);
	free(st);
}

sqlite3 *
state_db(struct state *st)
{
	return st->db;
}

const char *
state_dir(const struct state *st)
{
	return st->dir;
}

/*
 * Durability, in WAL mode with synchronous = NORMAL (every connection): a commit is written to the WAL but not
 * synced. A crash of the process loses nothing (the kernel has the pages); a power failure may lose the last
 * transactions, never part of one, and never corrupts the file (a checkpoint syncs the WAL before it copies pages
 * into the database and syncs the database before the WAL is reused). The hook's catch-up moves the cursor in the
 * same transaction as the issues and ledger rows it queues: a lost transaction takes its cursor with it, and the
 * next push or poll walks from the older cursor and finds the same commits again: nothing lost, nothing twice.
 * The rule that makes this safe: nothing reaches Bytebase that is not durable here first. The deliverer runs with
 * synchronous = FULL and commits before its first network call; that commit syncs the WAL, which holds every
 * earlier transaction (the WAL is appended to in commit order), so whatever it then sends is on disk.
 * Here the hook also leaves the WAL in place at close, uncheckpointed (the next connection rebuilds its index from
 * the WAL, a read of at most about STATE_WAL_TRIM_BYTES): otherwise every hook run pays four fdatasyncs, creating
 * the WAL (its header and the directory) and checkpointing it at close; inside a push each of them also
 * commits git's just-written objects through the file system's journal. A hook that finds the WAL over
 * STATE_WAL_TRIM_BYTES as it closes checkpoints it (synced) and empties it: a few fsyncs every ~35 pushes.
 */
void
state_defer_sync(struct state *st)
{
	int on = 1;

	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	/*
	 * No automatic checkpoint either: with no connection left open, the next opener rebuilds the WAL index and
	 * forgets what was checkpointed, so every later commit would copy the whole WAL again. state_close empties it
	 * instead once it is large (and the next commit then syncs the new WAL header once).
	 */
	sqlite3_wal_autocheckpoint(st->db, 0);
	st->defer_sync = true;
}

int
state_sync_full(struct state *st, struct error *err)
{
	/* FULL syncs the WAL at every commit; the WAL holds every earlier transaction, so this commit makes them durable. */
	if (exec_sql(st, "PRAGMA synchronous = FULL", err) != 0 ||
	    exec_sql(st, "INSERT INTO settings(key, value) VALUES('deliver.started_at', CAST(unixepoch() AS TEXT)) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value", err) != 0)
		return error_prefix(err, "making the state durable");
	return 0;
}

int
state_begin_read(struct state *st, struct error *err)
{
	return exec_sql(st, "BEGIN", err);
}

int
state_begin_immediate(struct state *st, struct error *err)
{
	return exec_sql(st, "BEGIN IMMEDIATE", err);
}

int
state_commit(struct state *st, struct error *err)
{
	return exec_sql(st, "COMMIT", err);
}

void
state_rollback(struct state *st)
{
	if (st != NULL && st->db != NULL && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Prepares SQL and binds the NULL-terminated text arguments to ?1, ?2, ... */
static int
prepare_texts_v(struct state *st, sqlite3_stmt **stmt, struct error *err, const char *sql, va_list ap)
{
	const char *arg;
	int i = 1;

	if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK)
		return state_error(st, err, "state database");
	while ((arg = va_arg(ap, const char *)) != NULL)
		sqlite3_bind_text(*stmt, i++, arg, -1, SQLITE_STATIC);   /* arguments outlive the statement */
	return 0;
}

int
state_prepare(struct state *st, sqlite3_stmt **stmt, struct error *err, const char *sql, ...)
{
	va_list ap;
	int rc;

	va_start(ap, sql);
	rc = prepare_texts_v(st, stmt, err, sql, ap);
	va_end(ap);
	return rc;
}

/* Runs a SELECT with NULL-terminated text arguments; *found tells whether it returned a row. */
static int
query_exists(struct state *st, bool *found, struct error *err, const char *what, const char *sql, ...)
{
	sqlite3_stmt *stmt = NULL;
	va_list ap;
	int rc;

	va_start(ap, sql);
	rc = prepare_texts_v(st, &stmt, err, sql, ap);
	va_end(ap);
	if (rc != 0)
		return -1;
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return state_error(st, err, what);
	*found = rc == SQLITE_ROW;
	return 0;
}

int
state_step_done(struct state *st, sqlite3_stmt *stmt, struct error *err, const char *what)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		state_error(st, err, what);
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

int
state_cursor_get(struct state *st, const char *repository, const char *branch, char out_hex[41], bool *found,
	struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (state_prepare(st, &stmt, err, "SELECT commit_id FROM cursors WHERE repository = ?1 AND branch = ?2",
	    repository, branch, (const char *)NULL) != 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(stmt, 0);

		snprintf(out_hex, 41, "%s", hex ? hex : "");
		*found = true;
	} else if (rc == SQLITE_DONE) {
		*found = false;
	} else {
		state_error(st, err, "reading cursor");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

int
state_cursor_set(struct state *st, const char *repository, const char *branch, const char *commit_hex,
	struct error *err)
{
	sqlite3_stmt *stmt = NULL;

	if (state_prepare(st, &stmt, err,
	    "INSERT INTO cursors (repository, branch, commit_id, updated_at) VALUES (?1, ?2, ?3, unixepoch()) "
	    "ON CONFLICT (repository, branch) DO UPDATE SET commit_id = excluded.commit_id, "
	    "updated_at = excluded.updated_at",
	    repository, branch, commit_hex, (const char *)NULL) != 0)
		return -1;
	return state_step_done(st, stmt, err, "writing cursor");
}

int
state_cursor_delete(struct state *st, const char *repository, const char *branch, struct error *err)
{
	sqlite3_stmt *stmt = NULL;

	if (state_prepare(st, &stmt, err, "DELETE FROM cursors WHERE repository = ?1 AND branch = ?2",
	    repository, branch, (const char *)NULL) != 0)
		return -1;
	return state_step_done(st, stmt, err, "dropping cursor");
}

int
state_ledger_contains(struct state *st, const char *repository, const char *branch, const char *path,
	const char *blob_hex, bool *found, struct error *err)
{
	const char *values[] = { repository, branch, path, blob_hex };
	int rc, i;

	if (st->ledger == NULL && sqlite3_prepare_v3(st->db,
	    "SELECT 1 FROM migrations WHERE repository = ?1 AND branch = ?2 AND path = ?3 AND blob = ?4", -1,
	    SQLITE_PREPARE_PERSISTENT, &st->ledger, NULL) != SQLITE_OK)
		return state_error(st, err, "reading ledger");
	for (i = 0; i < 4; i++)
		sqlite3_bind_text(st->ledger, i + 1, values[i], -1, SQLITE_STATIC);
	rc = sqlite3_step(st->ledger);
	sqlite3_reset(st->ledger);
	sqlite3_clear_bindings(st->ledger);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return state_error(st, err, "reading ledger");
	*found = rc == SQLITE_ROW;
	return 0;
}

int
state_issue_insert(struct state *st, const struct state_new_issue *is, long long *id, struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (state_prepare(st, &stmt, err,
	    "INSERT INTO issues (repository, branch, commit_id, key, title, body, status, last_error, created_at, "
	    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, unixepoch(), unixepoch()) "
	    "ON CONFLICT (repository, branch, commit_id, key) DO NOTHING RETURNING id",
	    is->repository, is->branch, is->commit, is->key, is->title, is->body, is->status,
	    (const char *)NULL) != 0)
		return -1;
	if (is->last_error != NULL)
		sqlite3_bind_text(stmt, 8, is->last_error, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(stmt, 0);
		rc = sqlite3_step(stmt);
	} else {
		*id = 0;
	}
	if (rc != SQLITE_DONE) {
		state_error(st, err, "queuing issue");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

int
state_issue_drop(struct state *st, long long id, struct error *err)
{
	sqlite3_stmt *stmt = NULL;

	if (state_prepare(st, &stmt, err, "DELETE FROM issues WHERE id = ?1", (const char *)NULL) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	return state_step_done(st, stmt, err, "dropping an empty issue");
}

int
state_cursors_list(struct state *st, const char *repository, struct state_cursor **out, size_t *n,
	struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	struct state_cursor *items = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (state_prepare(st, &stmt, err, "SELECT branch, commit_id, updated_at FROM cursors WHERE repository = ?1 "
	    "ORDER BY branch", repository, (const char *)NULL) != 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *commit = (const char *)sqlite3_column_text(stmt, 1);

		if (sqlite3_column_text(stmt, 0) == NULL || commit == NULL)
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			items = xrealloc(items, cap * sizeof(*items));
		}
		items[len].branch = state_column_dup(stmt, 0);
		snprintf(items[len].commit, sizeof(items[len].commit), "%s", commit);
		items[len].updated_at = sqlite3_column_int64(stmt, 2);
		len++;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		state_cursors_free(items, len);
		return state_error(st, err, "reading cursors");
	}
	*out = items;
	*n = len;
	return 0;
}

void
state_cursors_free(struct state_cursor *cursors, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(cursors[i].branch);
	free(cursors);
}

int
state_issue_counts(struct state *st, const char *repository,
	void (*fn)(const char *status, long long count, void *arg), void *arg, struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (state_prepare(st, &stmt, err, "SELECT status, count(*) FROM issues WHERE repository = ?1 GROUP BY status",
	    repository, (const char *)NULL) != 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(stmt, 0), sqlite3_column_int64(stmt, 1), arg);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : state_error(st, err, "counting issues");
}

int
state_events_recent(struct state *st, int limit,
	void (*fn)(long long time, const char *level, const char *repository, const char *message, void *arg),
	void *arg, struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (state_prepare(st, &stmt, err, "SELECT time, level, repository, message FROM "
	    "(SELECT * FROM events ORDER BY id DESC LIMIT ?1) ORDER BY id", (const char *)NULL) != 0)
		return -1;
	sqlite3_bind_int(stmt, 1, limit);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		fn(sqlite3_column_int64(stmt, 0), (const char *)sqlite3_column_text(stmt, 1),
			(const char *)sqlite3_column_text(stmt, 2), (const char *)sqlite3_column_text(stmt, 3), arg);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : state_error(st, err, "reading events");
}

int
state_setting_get(struct state *st, const char *key, char **value, struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	*value = NULL;
	if (state_prepare(st, &stmt, err, "SELECT value FROM settings WHERE key = ?1", key, (const char *)NULL) != 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*value = state_column_dup(stmt, 0);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : state_error(st, err, "reading a setting");
}

int
state_migration_insert(struct state *st, const struct state_new_migration *m, bool *inserted, struct error *err)
{
	sqlite3_stmt *stmt = NULL;

	if (state_prepare(st, &stmt, err,
	    "INSERT INTO migrations (repository, branch, path, blob, version, type, description, commit_id, "
	    "issue_id, content) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
	    "ON CONFLICT (repository, branch, path, blob) DO NOTHING",
	    m->repository, m->branch, m->path, m->blob, m->version, m->type, m->description, m->commit,
	    (const char *)NULL) != 0)
		return -1;
	sqlite3_bind_int64(stmt, 9, m->issue_id);
	sqlite3_bind_blob64(stmt, 10, m->content ? m->content : "", m->content_len, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		state_error(st, err, "recording migration");
		sqlite3_finalize(stmt);
		return -1;
	}
	*inserted = sqlite3_changes(st->db) > 0;
	sqlite3_finalize(stmt);
	return 0;
}

int
state_ledger_versions(struct state *st, const char *repository, const char *branch,
	void (*fn)(const char *version, const char *path, void *arg), void *arg, struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if (state_prepare(st, &stmt, err, "SELECT version, path FROM migrations WHERE repository = ?1 AND branch = ?2",
	    repository, branch, (const char *)NULL) != 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(stmt, 0), (const char *)sqlite3_column_text(stmt, 1), arg);
	if (rc != SQLITE_DONE) {
		state_error(st, err, "reading ledger");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

int
state_path_delivered(struct state *st, const char *repository, const char *branch, const char *path,
	bool *delivered, struct error *err)
{
	return query_exists(st, delivered, err, "reading ledger",
	    "SELECT 1 FROM migrations m JOIN issues i ON i.id = m.issue_id "
	    "WHERE m.repository = ?1 AND m.branch = ?2 AND m.path = ?3 AND i.status = 'created' LIMIT 1",
	    repository, branch, path, (const char *)NULL);
}

void
state_event(struct state *st, const char *level, const char *repository, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	sqlite3_stmt *stmt = NULL;
	va_list ap;

	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(st->db,
	    "INSERT INTO events (time, level, repository, message) VALUES (unixepoch(), ?1, ?2, ?3)", -1, &stmt,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, level, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 2, repository, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, sbuf_str(&sb), -1, SQLITE_STATIC);
		sqlite3_step(stmt);
	}
	sqlite3_finalize(stmt);
	sbuf_release(&sb);
}

char *
state_column_dup(sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);

	return t ? xstrdup((const char *)t) : NULL;
}

static int
compare_files(const void *a, const void *b)
{
	const struct state_issue_file *fa = a, *fb = b;

	return migration_order_cmp(fa->version, fa->path, fb->version, fb->path);
}

void
state_issue_sort_files(struct state_issue *issue)
{
	if (issue->n_files > 1)
		qsort(issue->files, issue->n_files, sizeof(*issue->files), compare_files);
}

static int
load_files(struct state *st, struct state_issue *issue, struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT path, version, type, blob, description FROM migrations "
	    "WHERE issue_id = ?1 ORDER BY id", -1, &stmt, NULL) != SQLITE_OK)
		return state_error(st, err, "listing issue files");
	sqlite3_bind_int64(stmt, 1, issue->id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct state_issue_file *f;

		if (issue->n_files == cap) {
			cap = cap ? cap * 2 : 4;
			issue->files = xrealloc(issue->files, cap * sizeof(*issue->files));
		}
		f = &issue->files[issue->n_files++];
		memset(f, 0, sizeof(*f));
		f->path = state_column_dup(stmt, 0);
		f->version = state_column_dup(stmt, 1);
		f->type = state_column_dup(stmt, 2);
		f->blob = state_column_dup(stmt, 3);
		f->description = state_column_dup(stmt, 4);
	}
	if (rc != SQLITE_DONE) {
		state_error(st, err, "listing issue files");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	state_issue_sort_files(issue);
	return 0;
}

int
state_issues_list(struct state *st, const struct state_issue_filter *filter, struct state_issue **out, size_t *n,
	struct error *err)
{
	static const struct state_issue_filter none = { NULL, NULL, NULL, 0 };
	struct state_issue *list = NULL;
	sqlite3_stmt *stmt = NULL;
	size_t len = 0, cap = 0, i;
	int rc;

	if (filter == NULL)
		filter = &none;
	if (sqlite3_prepare_v2(st->db,
	    "SELECT id, repository, branch, commit_id, key, title, body, issues.status, issues.attempts, "
	    "issues.next_attempt_at, issues.last_error, release_name, sheet_names, plan_name, issue_name, rollout_name, "
	    "rollout_pending, created_at, rollout_attempts, c.status, c.url, c.attempts, c.last_error "
	    "FROM issues LEFT JOIN comments c ON c.issue_id = issues.id "
	    "WHERE (?1 IS NULL OR repository = ?1) AND (?2 IS NULL OR branch = ?2) "
	    "AND (?3 IS NULL OR issues.status = ?3) AND (?4 = 0 OR id = ?4) ORDER BY id", -1, &stmt, NULL) != SQLITE_OK)
		return state_error(st, err, "listing issues");
	sqlite3_bind_text(stmt, 1, filter->repository, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, filter->branch, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, filter->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, filter->id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct state_issue *is;

		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			list = xrealloc(list, cap * sizeof(*list));
		}
		is = &list[len++];
		memset(is, 0, sizeof(*is));
		is->id = sqlite3_column_int64(stmt, 0);
		is->repository = state_column_dup(stmt, 1);
		is->branch = state_column_dup(stmt, 2);
		is->commit = state_column_dup(stmt, 3);
		is->key = state_column_dup(stmt, 4);
		is->title = state_column_dup(stmt, 5);
		is->body = state_column_dup(stmt, 6);
		is->status = state_column_dup(stmt, 7);
		is->attempts = (long)sqlite3_column_int64(stmt, 8);
		is->next_attempt_at = sqlite3_column_int64(stmt, 9);
		is->last_error = state_column_dup(stmt, 10);
		is->release_name = state_column_dup(stmt, 11);
		is->sheet_names = state_column_dup(stmt, 12);
		is->plan_name = state_column_dup(stmt, 13);
		is->bytebase_issue = state_column_dup(stmt, 14);
		is->rollout_name = state_column_dup(stmt, 15);
		is->rollout_pending = sqlite3_column_int(stmt, 16) != 0;
		is->created_at = sqlite3_column_int64(stmt, 17);
		is->rollout_attempts = (long)sqlite3_column_int64(stmt, 18);
		is->comment_status = state_column_dup(stmt, 19);
		is->comment_url = state_column_dup(stmt, 20);
		is->comment_attempts = (long)sqlite3_column_int64(stmt, 21);
		is->comment_error = state_column_dup(stmt, 22);
	}
	if (rc != SQLITE_DONE) {
		state_error(st, err, "listing issues");
		goto fail;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	for (i = 0; i < len; i++)
		if (load_files(st, &list[i], err) != 0)
			goto fail;
	*out = list;
	*n = len;
	return 0;
fail:
	sqlite3_finalize(stmt);
	state_issues_free(list, len);
	return -1;
}

int
state_issue_load_content(struct state *st, struct state_issue *issue, struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	size_t i;

	if (sqlite3_prepare_v2(st->db, "SELECT content FROM migrations WHERE issue_id = ?1 AND path = ?2 "
	    "AND blob = ?3", -1, &stmt, NULL) != SQLITE_OK)
		return state_error(st, err, "reading migration content");
	for (i = 0; i < issue->n_files; i++) {
		struct state_issue_file *f = &issue->files[i];
		const void *data;
		int len;

		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, issue->id);
		sqlite3_bind_text(stmt, 2, f->path, -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, f->blob, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) != SQLITE_ROW) {
			char *quoted = str_quote_path(f->path);

			state_error(st, err, "reading migration content");
			error_prefix(err, "%s", quoted);
			free(quoted);
			sqlite3_finalize(stmt);
			return -1;
		}
		data = sqlite3_column_blob(stmt, 0);
		len = sqlite3_column_bytes(stmt, 0);
		free(f->content);
		f->content = xmalloc((size_t)len + 1);
		if (len > 0)
			memcpy(f->content, data, (size_t)len);
		((char *)f->content)[len] = '\0';
		f->content_len = (size_t)len;
	}
	sqlite3_finalize(stmt);
	return 0;
}

void
state_issue_clear(struct state_issue *is)
{
	size_t i;

	if (is == NULL)
		return;
	for (i = 0; i < is->n_files; i++) {
		free(is->files[i].path);
		free(is->files[i].version);
		free(is->files[i].type);
		free(is->files[i].blob);
		free(is->files[i].description);
		free(is->files[i].content);
	}
	free(is->files);
	free(is->repository);
	free(is->branch);
	free(is->commit);
	free(is->key);
	free(is->title);
	free(is->body);
	free(is->status);
	free(is->last_error);
	free(is->comment_status);
	free(is->comment_url);
	free(is->comment_error);
	free(is->release_name);
	free(is->sheet_names);
	free(is->plan_name);
	free(is->bytebase_issue);
	free(is->rollout_name);
	memset(is, 0, sizeof(*is));
}

void
state_issues_free(struct state_issue *issues, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		state_issue_clear(&issues[i]);
	free(issues);
}
