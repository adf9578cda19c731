/*
 * state_internal.h — for the state layer's own files (state*.c) only: the SQLite handle and the statement helpers
 * they share. Nothing outside state*.c includes it, so SQLite stays behind state.h, where a second backend could
 * take its place.
 */
#ifndef BBGITOPS_STATE_INTERNAL_H
#define BBGITOPS_STATE_INTERNAL_H

#include <sqlite3.h>

#include "state.h"

sqlite3 *state_db(struct state *st);

/* Prepares SQL and binds the NULL-terminated text arguments to ?1, ?2, ... (they must outlive the statement). */
int state_prepare(struct state *st, sqlite3_stmt **stmt, struct error *err, const char *sql, ...);

/* Steps STMT once and finalizes it: a row or the end is fine; anything else fills err with WHAT. */
int state_step_done(struct state *st, sqlite3_stmt *stmt, struct error *err, const char *what);

/*
 * Runs one statement and finalizes it; SIG gives the parameters: 's' text (NULL binds NULL), 'i' long long.
 * *changes (when not NULL) receives the rows changed. Errors name WHAT.
 */
int state_exec(struct state *st, struct error *err, const char *what, int *changes, const char *sql,
	const char *sig, ...);

/* Column COL of the current row as a new string (NULL stays NULL). */
char *state_column_dup(sqlite3_stmt *stmt, int col);

#endif
