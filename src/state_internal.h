/*
 * state_internal.h — for the state layer's own files (state*.c) only: the driver seam under state.h. One set of
 * queries (state.c, state_outbox*.c, state_metrics.c, state_migrate.c) runs on either backend, SQLite
 * (state_sqlite.c) or PostgreSQL (state_pg.c), through the statement API below. SQL is written in the dialect both
 * accept, with ?N placeholders (the PostgreSQL driver turns them into $N) and no engine functions (times are
 * bound parameters). Nothing outside state*.c includes this file.
 */
#ifndef BBGITOPS_STATE_INTERNAL_H
#define BBGITOPS_STATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

/* A bound parameter, kept by the generic layer until the driver runs the statement. */
enum state_param_type {
	STATE_PARAM_NULL,
	STATE_PARAM_TEXT,
	STATE_PARAM_INT,
	STATE_PARAM_BLOB
};

struct state_param {
	enum state_param_type type;
	char *text;             /* STATE_PARAM_TEXT: a copy; STATE_PARAM_INT: its decimal form */
	long long i;
	const void *blob;       /* STATE_PARAM_BLOB: not copied, must outlive the step */
	size_t len;
};

#define STATE_MAX_PARAMS 24

struct state_stmt {
	struct state *st;
	const char *what;       /* names the statement in errors */
	struct state_param params[STATE_MAX_PARAMS];
	int n_params;           /* highest index bound */
	bool started;           /* stepped since the last reset */
	void *driver;           /* the driver's own statement state */
};

/* Which transaction to begin. */
enum state_txn {
	STATE_TXN_READ,         /* one snapshot for many reads */
	STATE_TXN_WRITE,        /* read-then-write, serialized against every other writer */
	STATE_TXN_BRANCH        /* the catch-up of one (repository, branch) */
};

/* What a backend implements. Statement functions get the generic statement; errors fill err naming s->what. */
struct state_driver {
	const char *name;
	void (*close)(struct state *st);
	int (*exec)(struct state *st, const char *sql, struct error *err);    /* no parameters, maybe several */
	int (*prepare)(struct state_stmt *s, const char *sql, struct error *err);
	int (*step)(struct state_stmt *s, struct error *err);                 /* 1 row, 0 done, -1 error */
	void (*reset)(struct state_stmt *s);
	void (*finalize)(struct state_stmt *s);
	const char *(*col_text)(struct state_stmt *s, int col);
	long long (*col_int)(struct state_stmt *s, int col);
	const void *(*col_blob)(struct state_stmt *s, int col, size_t *len);
	long long (*changes)(struct state_stmt *s);
	int (*begin)(struct state *st, enum state_txn kind, const char *repository, const char *branch,
		struct error *err);
	int (*commit)(struct state *st, struct error *err);
	void (*rollback)(struct state *st);
	void (*defer_sync)(struct state *st);
	int (*sync_full)(struct state *st, struct error *err);
	/* A lease held by this connection until released or the process ends; SQLite: always granted. */
	int (*lease_try)(struct state *st, const char *kind, const char *a, const char *b, bool *got,
		struct error *err);
	void (*lease_release)(struct state *st, const char *kind, const char *a, const char *b);
	int (*db_size)(struct state *st, long long *bytes, struct error *err);
	/* Is this connection, opened a while ago, still one to the state (state_still_usable)? */
	bool (*usable)(struct state *st);
	/* After rows with explicit ids were copied in (state_migrate.c): new ids continue after them. */
	int (*ids_copied)(struct state *st, struct error *err);
};

struct state {
	const struct state_driver *drv;
	void *conn;                 /* sqlite3 * or PGconn * */
	char *dir;                  /* state_dir (locks, mirrors), even on PostgreSQL */
	char *where;                /* names the database in errors: DIR/state.db, or the URL without password */
	struct state_stmt *ledger;  /* state_ledger_contains, prepared once: a backfill asks once per file */
	bool defer_sync;            /* state_defer_sync was called */
	unsigned long long file_dev, file_ino;   /* SQLite: the database file that was opened */
};

extern const struct state_driver state_sqlite_driver;
extern const struct state_driver state_pg_driver;

/* Opens the backends (filling st->drv and st->conn; st->dir is set by the caller). */
int state_sqlite_open(struct state *st, struct error *err);
int state_pg_open(struct state *st, const char *url, const char *password, long connect_timeout,
	struct error *err);

/* Creates DIR (mode 2770, setgid: files inherit the shared group) and its parents when missing. */
int state_make_dir(const char *dir, struct error *err);

/* The statement API. Prepare names the statement WHAT in its errors. */
int state_stmt_prepare(struct state *st, struct state_stmt **out, struct error *err, const char *what,
	const char *sql);
void state_bind_text(struct state_stmt *s, int i, const char *v);     /* NULL binds NULL; copied */
void state_bind_int(struct state_stmt *s, int i, long long v);
void state_bind_blob(struct state_stmt *s, int i, const void *v, size_t len);
int state_step(struct state_stmt *s, struct error *err);               /* 1 row, 0 done, -1 error */
void state_stmt_reset(struct state_stmt *s);                          /* keeps the bindings */
void state_stmt_free(struct state_stmt *s);                           /* NULL is fine */
const char *state_col_text(struct state_stmt *s, int col);            /* NULL for NULL */
long long state_col_int(struct state_stmt *s, int col);
const void *state_col_blob(struct state_stmt *s, int col, size_t *len);
long long state_changes(struct state_stmt *s);

/* Column COL of the current row as a new string (NULL stays NULL). */
char *state_column_dup(struct state_stmt *s, int col);

/*
 * Runs one statement; SIG gives the parameters: 's' text (NULL binds NULL), 'i' long long. *changes (when not
 * NULL) receives the rows changed. Errors name WHAT.
 */
int state_exec(struct state *st, struct error *err, const char *what, int *changes, const char *sql,
	const char *sig, ...);

/* Prepares SQL, binds the parameters as state_exec does, and leaves the statement to step. */
int state_query(struct state *st, struct state_stmt **out, struct error *err, const char *what, const char *sql,
	const char *sig, ...);

/* Runs a query with parameters as state_exec does: *found tells whether it returned a row. */
int state_query_exists(struct state *st, bool *found, struct error *err, const char *what, const char *sql,
	const char *sig, ...);

/* Runs a script (no parameters) on the backend. */
int state_exec_script(struct state *st, const char *sql, struct error *err);

#endif
