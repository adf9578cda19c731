/*
 * state_pg.c — the PostgreSQL driver of the state layer (state_internal.h): shared state for a fleet of Git servers,
 * pollers and deliverers. libpq is loaded when a configuration names PostgreSQL (dlopen of libpq.so.5), so that the
 * SQLite default's hook does not pay for loading libpq and its TLS, Kerberos and LDAP libraries at every push.
 * Statements run with PQexecParams (one round trip; ?N placeholders rewritten to $N once per statement; text and
 * integers as text parameters, blobs as binary bytea), results fetched whole. Serialization across machines:
 * writers take a transaction-scoped advisory lock, a branch's catch-up a shared one plus one keyed on (repository,
 * branch) and the cursor row FOR UPDATE; leases are session advisory locks, which a dead process's session
 * releases. Schema migrations are versioned in the table bbgitops_schema.
 */
#include "state_internal.h"

#include <ctype.h>
#include <dlfcn.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The libpq functions used here, resolved from libpq.so.5 at first use. */
#define PQ_FUNCTIONS(X) \
	X(PQconnectdbParams) X(PQstatus) X(PQerrorMessage) X(PQfinish) X(PQexec) X(PQexecParams) \
	X(PQresultStatus) X(PQresultErrorMessage) X(PQresultErrorField) X(PQclear) X(PQntuples) X(PQgetvalue) \
	X(PQgetlength) X(PQgetisnull) X(PQcmdTuples) X(PQunescapeBytea) X(PQfreemem) X(PQsetNoticeProcessor) \
	X(PQtransactionStatus) X(PQsocket)

static struct {
#define PQ_POINTER(f) __typeof__(f) *f;
	PQ_FUNCTIONS(PQ_POINTER)
#undef PQ_POINTER
} pq;
static bool pq_loaded;

#define TEXTOID 25
#define INT8OID 20
#define BYTEAOID 17

/* Advisory lock classes (the first key of the two-key form). */
#define LOCK_WRITERS 0x62620001      /* every writer; a catch-up holds it shared */
#define LOCK_BRANCH 0x62620002       /* the catch-up of one (repository, branch) */
#define LOCK_SCHEMA 0x62620003       /* schema migrations */

static int
pq_load(struct error *err)
{
	void *lib;

	if (pq_loaded)
		return 0;
	lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL)
		return error_set(err, false, "the state is in PostgreSQL but libpq cannot be loaded: %s", dlerror());
#define PQ_RESOLVE(f) \
	if ((*(void **)&pq.f = dlsym(lib, #f)) == NULL) \
		return error_set(err, false, "libpq.so.5 has no %s: %s", #f, dlerror());
	PQ_FUNCTIONS(PQ_RESOLVE)
#undef PQ_RESOLVE
	pq_loaded = true;
	return 0;
}

static PGconn *
conn_of(struct state *st)
{
	return st->conn;
}

/* libpq's messages end with a newline and may span lines (a hint on the next): one line, for logs and the hook. */
static void
one_line(const char *msg, char *buf, size_t size)
{
	size_t n = 0;
	bool space = false;

	for (; *msg != '\0' && n + 1 < size; msg++) {
		if (*msg == '\n' || *msg == '\r' || *msg == '\t') {
			space = n > 0;
			continue;
		}
		if (space) {
			if (n + 2 >= size)
				break;
			buf[n++] = ' ';
			space = false;
		}
		buf[n++] = *msg;
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
}

/* Connection failures, serialization failures, deadlocks, lock timeouts and shutdowns are worth another try. */
static bool
pg_transient(struct state *st, const PGresult *res)
{
	const char *code = res != NULL ? pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (pq.PQstatus(conn_of(st)) != CONNECTION_OK)
		return true;
	if (code == NULL)
		return false;
	return strncmp(code, "08", 2) == 0 || strcmp(code, "40001") == 0 || strcmp(code, "40P01") == 0 ||
		strcmp(code, "55P03") == 0 || strncmp(code, "57P", 3) == 0;
}

/* Fills err with WHAT and PostgreSQL's message (the result's, else the connection's). Returns -1. */
static int
pg_error(struct state *st, const PGresult *res, struct error *err, const char *what)
{
	const char *msg = res != NULL ? pq.PQresultErrorMessage(res) : "";
	char buf[1024];

	if (msg == NULL || *msg == '\0')
		msg = pq.PQerrorMessage(conn_of(st));
	one_line(msg, buf, sizeof(buf));
	return error_set(err, pg_transient(st, res), "%s: %s", what, buf);
}

static int
pg_exec(struct state *st, const char *sql, struct error *err)
{
	PGresult *res = pq.PQexec(conn_of(st), sql);
	ExecStatusType status = pq.PQresultStatus(res);
	int ret = 0;

	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		ret = pg_error(st, res, err, st->where);
	pq.PQclear(res);
	return ret;
}

/* Runs SQL with text parameters; returns the result (caller clears) or NULL with err set. */
static PGresult *
pg_query(struct state *st, struct error *err, const char *what, const char *sql, int n, const char *const *values)
{
	Oid types[4] = { TEXTOID, TEXTOID, TEXTOID, TEXTOID };
	PGresult *res = pq.PQexecParams(conn_of(st), sql, n, types, values, NULL, NULL, 0);
	ExecStatusType status = pq.PQresultStatus(res);

	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
		pg_error(st, res, err, what);
		pq.PQclear(res);
		return NULL;
	}
	return res;
}

static int
pg_run(struct state *st, struct error *err, const char *what, const char *sql, int n, const char *const *values)
{
	PGresult *res = pg_query(st, err, what, sql, n, values);

	if (res == NULL)
		return -1;
	pq.PQclear(res);
	return 0;
}

/* Schema steps; step i brings bbgitops_schema.version from i to i + 1. Append, never edit. */
static const char *const schema_steps[] = {
	/* 0 → 1: what SQLite's schema is at its version 4, with bytea content and identity ids. */
	"CREATE TABLE cursors ("
	"  repository TEXT NOT NULL,"
	"  branch TEXT NOT NULL,"
	"  commit_id TEXT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  PRIMARY KEY (repository, branch));"
	"CREATE TABLE issues ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  repository TEXT NOT NULL,"
	"  branch TEXT NOT NULL,"
	"  commit_id TEXT NOT NULL,"
	"  key TEXT NOT NULL DEFAULT '',"
	"  title TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('local', 'pending', 'created', 'failed', 'skipped')),"
	"  attempts BIGINT NOT NULL DEFAULT 0,"
	"  next_attempt_at BIGINT NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  release_name TEXT,"
	"  sheet_names TEXT,"
	"  plan_name TEXT,"
	"  issue_name TEXT,"
	"  rollout_name TEXT,"
	"  rollout_pending BIGINT NOT NULL DEFAULT 0,"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  rollout_attempts BIGINT NOT NULL DEFAULT 0,"
	"  rollout_next_at BIGINT NOT NULL DEFAULT 0,"
	"  UNIQUE (repository, branch, commit_id, key));"
	"CREATE INDEX issues_status ON issues (status, repository, branch, id);"
	"CREATE TABLE migrations ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  repository TEXT NOT NULL,"
	"  branch TEXT NOT NULL,"
	"  path TEXT NOT NULL,"
	"  blob TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  description TEXT NOT NULL,"
	"  commit_id TEXT NOT NULL,"
	"  issue_id BIGINT NOT NULL REFERENCES issues (id),"
	"  content BYTEA NOT NULL,"
	"  UNIQUE (repository, branch, path, blob));"
	"CREATE INDEX migrations_issue ON migrations (issue_id);"
	"CREATE TABLE events ("
	"  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	"  time BIGINT NOT NULL,"
	"  level TEXT NOT NULL,"
	"  repository TEXT,"
	"  message TEXT NOT NULL);"
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT);"
	"CREATE TABLE metrics ("
	"  name TEXT NOT NULL,"
	"  repository TEXT NOT NULL,"
	"  value BIGINT NOT NULL,"
	"  PRIMARY KEY (name, repository));"
	"CREATE TABLE comments ("
	"  issue_id BIGINT PRIMARY KEY REFERENCES issues (id),"
	"  status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed', 'skipped')),"
	"  url TEXT,"
	"  attempts BIGINT NOT NULL DEFAULT 0,"
	"  next_attempt_at BIGINT NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  inflight BIGINT NOT NULL DEFAULT 0,"
	"  due_since BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL);"
	"CREATE INDEX comments_status ON comments (status, next_attempt_at);",
};
#define SCHEMA_VERSION ((int)(sizeof(schema_steps) / sizeof(schema_steps[0])))

/* The schema's version: 0 when bbgitops_schema does not exist yet. */
static int
schema_version(struct state *st, int *version, struct error *err)
{
	PGresult *res = pq.PQexec(conn_of(st), "SELECT max(version) FROM bbgitops_schema");
	const char *code;

	*version = 0;
	if (pq.PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (pq.PQntuples(res) == 1 && !pq.PQgetisnull(res, 0, 0))
			*version = atoi(pq.PQgetvalue(res, 0, 0));
		pq.PQclear(res);
		return 0;
	}
	code = pq.PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (code != NULL && strcmp(code, "42P01") == 0) {    /* undefined_table: a new database */
		pq.PQclear(res);
		return 0;
	}
	pg_error(st, res, err, "reading the schema version");
	pq.PQclear(res);
	return -1;
}

static int
migrate_schema(struct state *st, struct error *err)
{
	char sql[128];
	int version;

	if (schema_version(st, &version, err) != 0)
		return -1;
	if (version == SCHEMA_VERSION)
		return 0;
	if (version > SCHEMA_VERSION)
		return error_set(err, false, "state database %s has schema version %d, newer than this bbgitops "
			"understands (%d)", st->where, version, SCHEMA_VERSION);
	snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%d, 0); "
		"CREATE TABLE IF NOT EXISTS bbgitops_schema (version INTEGER NOT NULL)", LOCK_SCHEMA);
	if (pg_exec(st, sql, err) != 0)
		goto fail;
	/* Another process may have migrated while we waited for the lock. */
	if (schema_version(st, &version, err) != 0)
		goto fail;
	for (; version < SCHEMA_VERSION; version++) {
		if (pg_exec(st, schema_steps[version], err) != 0)
			goto fail;
		snprintf(sql, sizeof(sql), "DELETE FROM bbgitops_schema; INSERT INTO bbgitops_schema VALUES (%d)",
			version + 1);
		if (pg_exec(st, sql, err) != 0)
			goto fail;
	}
	return pg_exec(st, "COMMIT", err);
fail:
	pq.PQclear(pq.PQexec(conn_of(st), "ROLLBACK"));
	return -1;
}

/* Notices (CREATE ... IF NOT EXISTS and the like) are not for the user: the hook prints one line at most. */
static void
ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* The URL without a password (in its user information, or a password=... pair), to name the database in messages. */
static char *
redact_url(const char *url)
{
	const char *scheme = strstr(url, "://"), *at, *colon, *slash, *pw;

	if (scheme == NULL) {
		/* key=value pairs: the value of password (quoted or not) is left out. */
		pw = strstr(url, "password");
		if (pw == NULL)
			return xstrdup(url);
		return xasprintf("%.*spassword=***", (int)(pw - url), url);
	}
	pw = strstr(url, "password=");
	if (pw != NULL)
		return xasprintf("%.*spassword=***", (int)(pw - url), url);
	scheme += 3;
	slash = strpbrk(scheme, "/?");
	at = strchr(scheme, '@');
	if (at == NULL || (slash != NULL && at > slash))
		return xstrdup(url);
	colon = memchr(scheme, ':', (size_t)(at - scheme));
	if (colon == NULL)
		return xstrdup(url);
	return xasprintf("%.*s:***%s", (int)(colon - url), url, at);
}

int
state_pg_open(struct state *st, const char *url, const char *password, long connect_timeout, struct error *err)
{
	const char *keys[6], *values[6];
	char timeout[32];
	int n = 0;

	st->drv = &state_pg_driver;
	st->where = redact_url(url);
	if (pq_load(err) != 0)
		return -1;
	snprintf(timeout, sizeof(timeout), "%ld", connect_timeout);
	keys[n] = "dbname";
	values[n++] = url;
	keys[n] = "connect_timeout";
	values[n++] = timeout;
	keys[n] = "fallback_application_name";
	values[n++] = "bbgitops";
	if (password != NULL) {
		keys[n] = "password";
		values[n++] = password;
	}
	keys[n] = NULL;
	values[n] = NULL;
	st->conn = pq.PQconnectdbParams(keys, values, 1);
	if (st->conn == NULL)
		return error_set(err, true, "cannot connect to the state database %s: out of memory", st->where);
	if (pq.PQstatus(conn_of(st)) != CONNECTION_OK) {
		char buf[1024];

		one_line(pq.PQerrorMessage(conn_of(st)), buf, sizeof(buf));
		return error_set(err, true, "cannot connect to the state database %s: %s", st->where, buf);
	}
	pq.PQsetNoticeProcessor(conn_of(st), ignore_notice, NULL);
	if (migrate_schema(st, err) != 0)
		return error_prefix(err, "%s", st->where);
	return 0;
}

static void
pg_close(struct state *st)
{
	if (conn_of(st) != NULL)
		pq.PQfinish(conn_of(st));
	st->conn = NULL;
}

/* The statement: SQL with $N, the current result and row, a decoded bytea column. */
struct pg_stmt {
	char *sql;
	PGresult *res;
	int row;
	unsigned char *blob;
};

/* ?N becomes $N outside quoted strings and identifiers. */
static char *
rewrite_placeholders(const char *sql)
{
	char *out = xstrdup(sql), *p;
	char quote = 0;

	for (p = out; *p != '\0'; p++) {
		if (quote != 0) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '?' && isdigit((unsigned char)p[1])) {
			*p = '$';
		}
	}
	return out;
}

static int
pg_prepare(struct state_stmt *s, const char *sql, struct error *err)
{
	struct pg_stmt *ps = xcalloc(1, sizeof(*ps));

	(void)err;
	ps->sql = rewrite_placeholders(sql);
	s->driver = ps;
	return 0;
}

static void
pg_clear_result(struct pg_stmt *ps)
{
	if (ps->blob != NULL)
		pq.PQfreemem(ps->blob);
	ps->blob = NULL;
	if (ps->res != NULL)
		pq.PQclear(ps->res);
	ps->res = NULL;
	ps->row = -1;
}

static int
pg_step(struct state_stmt *s, struct error *err)
{
	struct pg_stmt *ps = s->driver;

	if (ps->blob != NULL)
		pq.PQfreemem(ps->blob);
	ps->blob = NULL;
	if (!s->started) {
		Oid types[STATE_MAX_PARAMS];
		const char *values[STATE_MAX_PARAMS];
		int lengths[STATE_MAX_PARAMS], formats[STATE_MAX_PARAMS], i;
		ExecStatusType status;

		for (i = 0; i < s->n_params; i++) {
			const struct state_param *p = &s->params[i];

			types[i] = p->type == STATE_PARAM_INT ? INT8OID : p->type == STATE_PARAM_BLOB ? BYTEAOID : TEXTOID;
			values[i] = p->type == STATE_PARAM_BLOB ? (p->blob != NULL ? p->blob : "") : p->text;
			lengths[i] = p->type == STATE_PARAM_BLOB ? (int)p->len : 0;
			formats[i] = p->type == STATE_PARAM_BLOB ? 1 : 0;
		}
		pg_clear_result(ps);
		ps->res = pq.PQexecParams(conn_of(s->st), ps->sql, s->n_params, types, values, lengths, formats, 0);
		status = pq.PQresultStatus(ps->res);
		if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
			pg_error(s->st, ps->res, err, s->what);
			pg_clear_result(ps);
			return -1;
		}
		ps->row = -1;
	}
	if (ps->res == NULL)
		return 0;
	ps->row++;
	return ps->row < pq.PQntuples(ps->res) ? 1 : 0;
}

static void
pg_reset(struct state_stmt *s)
{
	pg_clear_result(s->driver);
}

static void
pg_finalize(struct state_stmt *s)
{
	struct pg_stmt *ps = s->driver;

	if (ps == NULL)
		return;
	pg_clear_result(ps);
	free(ps->sql);
	free(ps);
	s->driver = NULL;
}

static const char *
pg_col_text(struct state_stmt *s, int col)
{
	struct pg_stmt *ps = s->driver;

	if (ps->res == NULL || ps->row < 0 || pq.PQgetisnull(ps->res, ps->row, col))
		return NULL;
	return pq.PQgetvalue(ps->res, ps->row, col);
}

static long long
pg_col_int(struct state_stmt *s, int col)
{
	const char *v = pg_col_text(s, col);

	return v != NULL ? strtoll(v, NULL, 10) : 0;
}

static const void *
pg_col_blob(struct state_stmt *s, int col, size_t *len)
{
	struct pg_stmt *ps = s->driver;
	const char *v = pg_col_text(s, col);

	*len = 0;
	if (v == NULL)
		return NULL;
	if (ps->blob != NULL)
		pq.PQfreemem(ps->blob);
	ps->blob = pq.PQunescapeBytea((const unsigned char *)v, len);
	return ps->blob;
}

static long long
pg_changes(struct state_stmt *s)
{
	struct pg_stmt *ps = s->driver;
	const char *n = ps->res != NULL ? pq.PQcmdTuples(ps->res) : "";

	return *n != '\0' ? strtoll(n, NULL, 10) : 0;
}

static void pg_rollback(struct state *st);

/* The second key of a branch's lock: FNV-1a of "repository\0branch", as a signed 32-bit number. */
static int
branch_key(const char *repository, const char *branch)
{
	unsigned int h = 2166136261u;
	const char *p;

	for (p = repository; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ 0u) * 16777619u;
	for (p = branch; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return (int)(h & 0x7fffffff);
}

/*
 * As with SQLite (see its defer_sync): the hook's commits need not wait for the WAL flush, because a lost
 * transaction takes its cursor with it. The deliverer commits synchronously before its first network call, and
 * that flush covers every earlier commit (the WAL is written in order). Set per transaction, in its BEGIN's round
 * trip.
 */
static const char *
sync_clause(const struct state *st)
{
	return st->defer_sync ? "SET LOCAL synchronous_commit = off; " : "";
}

static int
pg_begin(struct state *st, enum state_txn kind, const char *repository, const char *branch, struct error *err)
{
	const char *values[2] = { repository, branch };
	char sql[256];

	switch (kind) {
	case STATE_TXN_READ:
		return pg_exec(st, "BEGIN ISOLATION LEVEL REPEATABLE READ", err);
	case STATE_TXN_WRITE:
		snprintf(sql, sizeof(sql), "BEGIN; %sSELECT pg_advisory_xact_lock(%d, 0)", sync_clause(st),
			LOCK_WRITERS);
		return pg_exec(st, sql, err);
	case STATE_TXN_BRANCH:
		break;
	}
	/*
	 * A catch-up: writers of other kinds wait for it (the writers' lock, shared); catch-ups of the same branch, on
	 * any machine, one after the other (the branch's lock, keyed on a hash computed here: a number, so BEGIN and
	 * both locks go in one round trip); the cursor row is locked too, where it exists.
	 */
	snprintf(sql, sizeof(sql), "BEGIN; %sSELECT pg_advisory_xact_lock_shared(%d, 0), pg_advisory_xact_lock(%d, %d)",
		sync_clause(st), LOCK_WRITERS, LOCK_BRANCH, branch_key(repository, branch));
	if (pg_exec(st, sql, err) != 0 ||
	    pg_run(st, err, "locking the cursor", "SELECT commit_id FROM cursors WHERE repository = $1 AND branch = $2 "
	    "FOR UPDATE", 2, values) != 0) {
		pg_rollback(st);
		return -1;
	}
	return 0;
}

static int
pg_commit(struct state *st, struct error *err)
{
	return pg_exec(st, "COMMIT", err);
}

static void
pg_rollback(struct state *st)
{
	if (conn_of(st) != NULL && pq.PQtransactionStatus(conn_of(st)) != PQTRANS_IDLE)
		pq.PQclear(pq.PQexec(conn_of(st), "ROLLBACK"));
}

static void
pg_defer_sync(struct state *st)
{
	(void)st;    /* st->defer_sync, read by sync_clause */
}

static int
pg_sync_full(struct state *st, struct error *err)
{
	return pg_exec(st, "SET synchronous_commit = on", err);
}

static int
pg_lease_try(struct state *st, const char *kind, const char *a, const char *b, bool *got, struct error *err)
{
	const char *values[3] = { kind, a, b != NULL ? b : "" };
	PGresult *res;

	*got = false;
	res = pg_query(st, err, "taking a lease",
		"SELECT pg_try_advisory_lock(hashtext($1), hashtext($2 || chr(1) || $3))::int", 3, values);
	if (res == NULL)
		return -1;
	*got = pq.PQntuples(res) == 1 && strcmp(pq.PQgetvalue(res, 0, 0), "1") == 0;
	pq.PQclear(res);
	return 0;
}

static void
pg_lease_release(struct state *st, const char *kind, const char *a, const char *b)
{
	const char *values[3] = { kind, a, b != NULL ? b : "" };
	struct error err = ERROR_INIT;

	/* A failure leaves the lease to the end of the session, which is near. */
	pg_run(st, &err, "releasing a lease", "SELECT pg_advisory_unlock(hashtext($1), hashtext($2 || chr(1) || $3))",
		3, values);
}

static int
pg_db_size(struct state *st, long long *bytes, struct error *err)
{
	PGresult *res = pg_query(st, err, "reading the database size", "SELECT pg_database_size(current_database())",
		0, NULL);

	if (res == NULL)
		return -1;
	*bytes = pq.PQntuples(res) == 1 ? strtoll(pq.PQgetvalue(res, 0, 0), NULL, 10) : 0;
	pq.PQclear(res);
	return 0;
}

static int
pg_ids_copied(struct state *st, struct error *err)
{
	static const char sql[] =
		"SELECT setval(pg_get_serial_sequence('issues', 'id'), coalesce(max(id), 0) + 1, false) FROM issues;"
		"SELECT setval(pg_get_serial_sequence('migrations', 'id'), coalesce(max(id), 0) + 1, false) "
		"FROM migrations;"
		"SELECT setval(pg_get_serial_sequence('events', 'id'), coalesce(max(id), 0) + 1, false) FROM events";

	return pg_exec(st, sql, err);
}

/*
 * An idle connection has nothing to read: anything there (the server's "terminating connection" on a restart or a
 * terminated backend, then its end) means it is not to be used. A connection gone without a word is not detected.
 */
static bool
pg_usable(struct state *st)
{
	struct pollfd p;

	if (conn_of(st) == NULL || pq.PQstatus(conn_of(st)) != CONNECTION_OK ||
	    pq.PQtransactionStatus(conn_of(st)) != PQTRANS_IDLE)
		return false;
	p.fd = pq.PQsocket(conn_of(st));
	p.events = POLLIN;
	p.revents = 0;
	return p.fd >= 0 && poll(&p, 1, 0) == 0;
}

const struct state_driver state_pg_driver = {
	.name = "postgresql",
	.close = pg_close,
	.exec = pg_exec,
	.prepare = pg_prepare,
	.step = pg_step,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.col_text = pg_col_text,
	.col_int = pg_col_int,
	.col_blob = pg_col_blob,
	.changes = pg_changes,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.defer_sync = pg_defer_sync,
	.sync_full = pg_sync_full,
	.usable = pg_usable,
	.lease_try = pg_lease_try,
	.lease_release = pg_lease_release,
	.db_size = pg_db_size,
	.ids_copied = pg_ids_copied,
};
