/*
 * state_sqlite.c — the SQLite driver of the state layer (state_internal.h), the embedded default: STATE_DIR/state.db
 * in WAL mode with a busy timeout, group-writable files, schema migrations by PRAGMA user_version, BEGIN IMMEDIATE
 * for every writer (which serializes catch-ups too: leases are always granted, the callers' flocks do the rest).
 */
#include "state_internal.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define STATE_BUSY_TIMEOUT_MS 30000

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

static sqlite3 *
db_of(struct state *st)
{
	return st->conn;
}

/*
 * SQLite's message, except that a write refused with ENOSPC (SQLITE_FULL, or "disk I/O error" when it was the WAL
 * index or a journal that could not grow) is named for what it is. BUF holds the result when it is rewritten.
 */
static const char *
sqlite_reason(sqlite3 *db, const char *msg, char *buf, size_t size)
{
	int code = sqlite3_extended_errcode(db) & 0xff;

	if (code == SQLITE_FULL ||
	    ((code == SQLITE_IOERR || code == SQLITE_CANTOPEN) && sqlite3_system_errno(db) == ENOSPC)) {
		snprintf(buf, size, "no space left on device (%s)", msg);
		return buf;
	}
	return msg;
}

static bool
sqlite_transient(sqlite3 *db)
{
	int code = sqlite3_extended_errcode(db) & 0xff;

	return code == SQLITE_BUSY || code == SQLITE_LOCKED;
}

/* Fills err with WHAT and SQLite's message; SQLITE_BUSY/LOCKED are transient. Returns -1. */
static int
sqlite_error(struct state *st, struct error *err, const char *what)
{
	sqlite3 *db = db_of(st);
	char buf[512];

	if (db == NULL)
		return error_set(err, false, "%s: no database", what);
	return error_set(err, sqlite_transient(db), "%s: %s", what,
		sqlite_reason(db, sqlite3_errmsg(db), buf, sizeof(buf)));
}

static int
sqlite_exec(struct state *st, const char *sql, struct error *err)
{
	sqlite3 *db = db_of(st);
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		char buf[512];

		error_set(err, sqlite_transient(db), "%s: %s", st->where,
			sqlite_reason(db, msg ? msg : sqlite3_errmsg(db), buf, sizeof(buf)));
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

	if (sqlite3_prepare_v2(db_of(st), sql, -1, &stmt, NULL) != SQLITE_OK)
		return sqlite_error(st, err, "state database");
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		sqlite_error(st, err, "state database");
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
	if (sqlite_exec(st, "BEGIN IMMEDIATE", err) != 0)
		return -1;
	/* Another process may have migrated while we waited for the lock. */
	if (pragma_int(st, "PRAGMA user_version", &version, err) != 0)
		goto fail;
	if (version > SCHEMA_VERSION) {
		error_set(err, false, "state database %s has schema version %d, newer than this bbgitops "
			"understands (%d)", st->where, version, SCHEMA_VERSION);
		goto fail;
	}
	for (; version < SCHEMA_VERSION; version++) {
		char pragma[64];

		if (sqlite_exec(st, schema_steps[version], err) != 0)
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if (sqlite_exec(st, pragma, err) != 0)
			goto fail;
	}
	return sqlite_exec(st, "COMMIT", err);
fail:
	sqlite3_exec(db_of(st), "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
state_make_dir(const char *dir, struct error *err)
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
state_sqlite_open(struct state *st, struct error *err)
{
	sqlite3 *db = NULL;
	int rc;

	st->drv = &state_sqlite_driver;
	st->where = xasprintf("%s/state.db", st->dir);
	if (state_make_dir(st->dir, err) != 0)
		return -1;
	rc = sqlite3_open_v2(st->where, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	st->conn = db;
	if (rc != SQLITE_OK)
		return error_set(err, false, "cannot open state database %s: %s", st->where,
			db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	share_with_group(st->where);
	{
		struct stat sb;

		if (stat(st->where, &sb) == 0) {
			st->file_dev = (unsigned long long)sb.st_dev;
			st->file_ino = (unsigned long long)sb.st_ino;
		}
	}
	sqlite3_busy_timeout(db, STATE_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	/* WAL is persistent once set; only a new database needs the switch (which takes an exclusive lock). */
	{
		sqlite3_stmt *stmt = NULL;
		bool is_wal = false;

		if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL) == SQLITE_OK &&
		    sqlite3_step(stmt) == SQLITE_ROW)
			is_wal = strcmp((const char *)sqlite3_column_text(stmt, 0), "wal") == 0;
		else {
			char buf[512];

			error_set(err, false, "cannot read state database %s: %s", st->where,
				sqlite_reason(db, sqlite3_errmsg(db), buf, sizeof(buf)));
			sqlite3_finalize(stmt);
			return -1;
		}
		sqlite3_finalize(stmt);
		if (!is_wal && sqlite_exec(st, "PRAGMA journal_mode = WAL", err) != 0)
			return -1;
	}
	if (sqlite_exec(st, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", err) != 0)
		return -1;
	if (migrate_schema(st, err) != 0)
		return error_prefix(err, "%s", st->where);
	return 0;
}

/* Checkpoints (synced) and empties a large WAL; a reader in the way: the next close tries again, nothing waits. */
static void
trim_wal(struct state *st)
{
	char *wal = xasprintf("%s-wal", st->where);
	struct stat sb;

	if (stat(wal, &sb) == 0 && sb.st_size > STATE_WAL_TRIM_BYTES) {
		sqlite3_busy_timeout(db_of(st), 0);
		sqlite3_wal_checkpoint_v2(db_of(st), NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	}
	free(wal);
}

static void
sqlite_close(struct state *st)
{
	if (db_of(st) == NULL)
		return;
	if (st->defer_sync)
		trim_wal(st);
	sqlite3_close_v2(db_of(st));
	st->conn = NULL;
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
static void
sqlite_defer_sync(struct state *st)
{
	int on = 1;

	sqlite3_db_config(db_of(st), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_file_control(db_of(st), "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	/*
	 * No automatic checkpoint either: with no connection left open, the next opener rebuilds the WAL index and
	 * forgets what was checkpointed, so every later commit would copy the whole WAL again. Closing empties it
	 * instead once it is large (and the next commit then syncs the new WAL header once).
	 */
	sqlite3_wal_autocheckpoint(db_of(st), 0);
}

static int
sqlite_sync_full(struct state *st, struct error *err)
{
	/* FULL syncs the WAL at every commit; the WAL holds every earlier transaction, so a commit makes them durable. */
	return sqlite_exec(st, "PRAGMA synchronous = FULL", err);
}

static int
sqlite_begin(struct state *st, enum state_txn kind, const char *repository, const char *branch,
	struct error *err)
{
	(void)repository;
	(void)branch;
	/* BEGIN IMMEDIATE takes the one write lock: catch-ups of every branch are serialized by it. */
	return sqlite_exec(st, kind == STATE_TXN_READ ? "BEGIN" : "BEGIN IMMEDIATE", err);
}

static int
sqlite_commit(struct state *st, struct error *err)
{
	return sqlite_exec(st, "COMMIT", err);
}

static void
sqlite_rollback(struct state *st)
{
	if (db_of(st) != NULL && !sqlite3_get_autocommit(db_of(st)))
		sqlite3_exec(db_of(st), "ROLLBACK", NULL, NULL, NULL);
}

static int
sqlite_prepare(struct state_stmt *s, const char *sql, struct error *err)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v3(db_of(s->st), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
		return sqlite_error(s->st, err, s->what);
	s->driver = stmt;
	return 0;
}

static int
sqlite_bind(struct state_stmt *s)
{
	sqlite3_stmt *stmt = s->driver;
	int i, rc = SQLITE_OK;

	sqlite3_clear_bindings(stmt);
	for (i = 0; i < s->n_params && rc == SQLITE_OK; i++) {
		const struct state_param *p = &s->params[i];

		switch (p->type) {
		case STATE_PARAM_NULL:
			rc = sqlite3_bind_null(stmt, i + 1);
			break;
		case STATE_PARAM_TEXT:
			rc = sqlite3_bind_text(stmt, i + 1, p->text, -1, SQLITE_STATIC);
			break;
		case STATE_PARAM_INT:
			rc = sqlite3_bind_int64(stmt, i + 1, p->i);
			break;
		case STATE_PARAM_BLOB:
			rc = sqlite3_bind_blob64(stmt, i + 1, p->blob ? p->blob : "", p->len, SQLITE_STATIC);
			break;
		}
	}
	return rc;
}

static int
sqlite_step(struct state_stmt *s, struct error *err)
{
	sqlite3_stmt *stmt = s->driver;
	int rc;

	if (!s->started && sqlite_bind(s) != SQLITE_OK)
		return sqlite_error(s->st, err, s->what);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return sqlite_error(s->st, err, s->what);
}

static void
sqlite_reset(struct state_stmt *s)
{
	sqlite3_reset(s->driver);
}

static void
sqlite_finalize(struct state_stmt *s)
{
	sqlite3_finalize(s->driver);
	s->driver = NULL;
}

static const char *
sqlite_col_text(struct state_stmt *s, int col)
{
	return (const char *)sqlite3_column_text(s->driver, col);
}

static long long
sqlite_col_int(struct state_stmt *s, int col)
{
	return sqlite3_column_int64(s->driver, col);
}

static const void *
sqlite_col_blob(struct state_stmt *s, int col, size_t *len)
{
	const void *data = sqlite3_column_blob(s->driver, col);

	*len = (size_t)sqlite3_column_bytes(s->driver, col);
	return data;
}

static long long
sqlite_changes(struct state_stmt *s)
{
	return sqlite3_changes64(db_of(s->st));
}

static int
sqlite_lease_try(struct state *st, const char *kind, const char *a, const char *b, bool *got, struct error *err)
{
	(void)st;
	(void)kind;
	(void)a;
	(void)b;
	(void)err;
	*got = true;
	return 0;
}

static void
sqlite_lease_release(struct state *st, const char *kind, const char *a, const char *b)
{
	(void)st;
	(void)kind;
	(void)a;
	(void)b;
}

static int
sqlite_db_size(struct state *st, long long *bytes, struct error *err)
{
	static const char *const suffixes[] = { "", "-wal" };
	long long total = 0;
	size_t i;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char *path = xasprintf("%s%s", st->where, suffixes[i]);
		struct stat sb;

		if (stat(path, &sb) == 0) {
			total += (long long)sb.st_size;
		} else if (errno != ENOENT || i == 0) {
			error_set(err, false, "%s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		free(path);
	}
	*bytes = total;
	return 0;
}

static int
sqlite_ids_copied(struct state *st, struct error *err)
{
	(void)st;
	(void)err;
	return 0;    /* INTEGER PRIMARY KEY continues after the largest id by itself */
}

/* The file at the state's path is still the one this connection opened (not removed, replaced or migrated). */
static bool
sqlite_usable(struct state *st)
{
	struct stat sb;

	return db_of(st) != NULL && stat(st->where, &sb) == 0 && (unsigned long long)sb.st_dev == st->file_dev &&
		(unsigned long long)sb.st_ino == st->file_ino;
}

const struct state_driver state_sqlite_driver = {
	.name = "sqlite",
	.close = sqlite_close,
	.exec = sqlite_exec,
	.prepare = sqlite_prepare,
	.step = sqlite_step,
	.reset = sqlite_reset,
	.finalize = sqlite_finalize,
	.col_text = sqlite_col_text,
	.col_int = sqlite_col_int,
	.col_blob = sqlite_col_blob,
	.changes = sqlite_changes,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.defer_sync = sqlite_defer_sync,
	.sync_full = sqlite_sync_full,
	.lease_try = sqlite_lease_try,
	.lease_release = sqlite_lease_release,
	.db_size = sqlite_db_size,
	.ids_copied = sqlite_ids_copied,
	.usable = sqlite_usable,
};
