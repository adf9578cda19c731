/*
 * state_migrate.c — copying a whole state into another backend (`bbgitops state migrate`): cursors, the ledger with
 * file contents, issues in every status with their delivery state, pull request comments, events, settings and
 * metrics, in one transaction on the target. Refused when the target already holds state for one of the source's
 * repositories. Into an empty target the ids are kept (what `issues` prints stays the same); into one that holds
 * other repositories' state, new ids are given in the same order and every reference (ledger, comments, in-flight
 * flags) follows.
 */
#include "state_migrate.h"
#include "state_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Old issue id → new one, in increasing old id order (issues are copied by id). */
struct id_map {
	long long *from;
	long long *to;
	size_t len;
	bool keep;      /* ids kept as they are */
};

static void
id_map_add(struct id_map *m, long long from, long long to)
{
	m->from = xrealloc(m->from, (m->len + 1) * sizeof(*m->from));
	m->to = xrealloc(m->to, (m->len + 1) * sizeof(*m->to));
	m->from[m->len] = from;
	m->to[m->len] = to;
	m->len++;
}

/* The new id of FROM, or 0 when the source had no such issue. */
static long long
id_map_get(const struct id_map *m, long long from)
{
	size_t lo = 0, hi = m->len;

	if (m->keep)
		return from;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->from[mid] == from)
			return m->to[mid];
		if (m->from[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* A table to copy: its columns and their types ('s' text, 'i' integer, 'b' blob), in the order of the SELECT. */
struct table {
	const char *name;
	const char *columns;
	const char *types;
	const char *conflict;    /* appended to the INSERT: what to do with a row the target has already */
};

static const struct table cursors_table = { "cursors", "repository, branch, commit_id, updated_at", "sssi", "" };
static const struct table issues_table = { "issues",
	"id, repository, branch, commit_id, key, title, body, status, attempts, next_attempt_at, last_error, "
	"release_name, sheet_names, plan_name, issue_name, rollout_name, rollout_pending, created_at, updated_at, "
	"rollout_attempts, rollout_next_at", "isssssssiissssssiiiii", "" };
static const struct table migrations_table = { "migrations",
	"id, repository, branch, path, blob, version, type, description, commit_id, issue_id, content",
	"issssssssib", "" };
static const struct table comments_table = { "comments",
	"issue_id, status, url, attempts, next_attempt_at, last_error, inflight, due_since, updated_at", "issiisiii",
	"" };
static const struct table events_table = { "events", "id, time, level, repository, message", "iisss", "" };
static const struct table settings_table = { "settings", "key, value", "ss", " ON CONFLICT (key) DO NOTHING" };
static const struct table metrics_table = { "metrics", "name, repository, value", "ssi",
	" ON CONFLICT (name, repository) DO NOTHING" };

/* The INSERT for TABLE, leaving out its first column (the id) when SKIP_ID; with RETURNING id when RETURNING. */
static char *
insert_sql(const struct table *t, bool skip_id, bool returning)
{
	struct sbuf sb = SBUF_INIT;
	const char *columns = t->columns;
	size_t i, n = strlen(t->types), first = skip_id ? 1 : 0;

	if (skip_id)
		columns = strchr(columns, ',') + 2;
	sbuf_addf(&sb, "INSERT INTO %s (%s) VALUES (", t->name, columns);
	for (i = first; i < n; i++)
		sbuf_addf(&sb, "%s?%zu", i > first ? ", " : "", i - first + 1);
	sbuf_addf(&sb, ")%s%s", t->conflict, returning ? " RETURNING id" : "");
	return sbuf_detach(&sb);
}

/* Binds column I of the source row to parameter P of the insert, as its type says. */
static void
bind_column(struct state_stmt *ins, int p, struct state_stmt *sel, int i, char type)
{
	const void *blob;
	size_t len;

	switch (type) {
	case 'i':
		state_bind_int(ins, p, state_col_int(sel, i));
		break;
	case 'b':
		blob = state_col_blob(sel, i, &len);
		state_bind_blob(ins, p, blob, len);
		break;
	default:
		state_bind_text(ins, p, state_col_text(sel, i));
		break;
	}
}

/*
 * Copies TABLE's rows. ID_COLUMN: the index of a column holding an issue id to translate through MAP (-1: none).
 * ISSUES: the issues table itself, whose new ids are recorded in MAP. *n counts the rows copied.
 */
static int
copy_table(struct state *from, struct state *to, const struct table *t, struct id_map *map, int id_column,
	bool issues, long long *n, struct error *err)
{
	struct state_stmt *sel = NULL, *ins = NULL;
	bool has_id = strncmp(t->columns, "id,", 3) == 0;
	bool skip_id = has_id && !map->keep;
	char *sql = xasprintf("SELECT %s FROM %s%s", t->columns, t->name, has_id ? " ORDER BY id" : "");
	char *isql = insert_sql(t, skip_id, skip_id && issues);
	size_t ncol = strlen(t->types), first = skip_id ? 1 : 0, i;
	int rc, ret = -1;

	*n = 0;
	if (state_stmt_prepare(from, &sel, err, "reading the source state", sql) != 0 ||
	    state_stmt_prepare(to, &ins, err, "writing the target state", isql) != 0)
		goto out;
	while ((rc = state_step(sel, err)) == 1) {
		state_stmt_reset(ins);
		for (i = first; i < ncol; i++) {
			int p = (int)(i - first + 1);

			if ((int)i == id_column) {
				long long id = id_map_get(map, state_col_int(sel, (int)i));

				if (id == 0)
					break;      /* a row for an issue the source does not have: nothing to refer to */
				state_bind_int(ins, p, id);
			} else if (t == &settings_table && i == 0 && !map->keep) {
				const char *key = state_col_text(sel, 0);
				long long old;
				char what[32];

				/* In-flight flags name their issue: outbox.inflight.<id>.<what>. */
				if (key != NULL && sscanf(key, "outbox.inflight.%lld.%31s", &old, what) == 2) {
					char *renamed = xasprintf("outbox.inflight.%lld.%s", id_map_get(map, old), what);

					state_bind_text(ins, p, renamed);
					free(renamed);
				} else {
					state_bind_text(ins, p, key);
				}
			} else {
				bind_column(ins, p, sel, (int)i, t->types[i]);
			}
		}
		if (i < ncol)
			continue;
		rc = state_step(ins, err);
		if (rc < 0)
			goto out;
		if (issues && skip_id)
			id_map_add(map, state_col_int(sel, 0), state_col_int(ins, 0));
		*n += state_changes(ins) > 0 || (issues && skip_id) ? 1 : 0;
	}
	if (rc < 0)
		goto out;
	ret = 0;
out:
	if (ret != 0)
		error_prefix(err, "%s", t->name);
	state_stmt_free(sel);
	state_stmt_free(ins);
	free(sql);
	free(isql);
	return ret;
}

/* Does TO hold any state of a repository FROM has? *clash gets its name, *empty whether TO has no issue at all. */
static int
check_target(struct state *from, struct state *to, char **clash, bool *empty, struct error *err)
{
	struct state_stmt *names = NULL, *probe = NULL;
	int rc;

	*clash = NULL;
	*empty = false;
	if (state_query(to, &probe, err, "reading the target state", "SELECT count(*) FROM issues", "") != 0)
		return -1;
	rc = state_step(probe, err);
	if (rc == 1)
		*empty = state_col_int(probe, 0) == 0;
	state_stmt_free(probe);
	probe = NULL;
	if (rc < 0)
		return -1;
	if (state_stmt_prepare(from, &names, err, "reading the source state", "SELECT repository FROM cursors "
	    "UNION SELECT repository FROM issues UNION SELECT repository FROM migrations") != 0 ||
	    state_stmt_prepare(to, &probe, err, "reading the target state", "SELECT 1 FROM cursors WHERE repository = ?1 "
	    "UNION ALL SELECT 1 FROM issues WHERE repository = ?1 UNION ALL SELECT 1 FROM migrations "
	    "WHERE repository = ?1 LIMIT 1") != 0)
		goto fail;
	while ((rc = state_step(names, err)) == 1) {
		const char *name = state_col_text(names, 0);
		int found;

		state_stmt_reset(probe);
		state_bind_text(probe, 1, name);
		if ((found = state_step(probe, err)) < 0)
			goto fail;
		if (found == 1) {
			*clash = xstrdup(name);
			break;
		}
	}
	if (rc < 0)
		goto fail;
	state_stmt_free(names);
	state_stmt_free(probe);
	return 0;
fail:
	state_stmt_free(names);
	state_stmt_free(probe);
	return -1;
}

int
state_migrate_copy(struct state *from, struct state *to, struct state_migrate_counts *counts, struct error *err)
{
	struct id_map map = { NULL, NULL, 0, false };
	char *clash = NULL;
	bool empty;
	int ret = -1;

	memset(counts, 0, sizeof(*counts));
	if (state_begin_read(from, err) != 0)
		return -1;
	if (state_begin_immediate(to, err) != 0)
		goto out;
	if (check_target(from, to, &clash, &empty, err) != 0)
		goto out;
	if (clash != NULL) {
		error_set(err, false, "%s already holds state for repository '%s': nothing copied (migrate into a "
			"database without it)", state_where(to), clash);
		goto out;
	}
	map.keep = empty;
	if (copy_table(from, to, &cursors_table, &map, -1, false, &counts->cursors, err) != 0 ||
	    copy_table(from, to, &issues_table, &map, -1, true, &counts->issues, err) != 0 ||
	    copy_table(from, to, &migrations_table, &map, 9, false, &counts->migrations, err) != 0 ||
	    copy_table(from, to, &comments_table, &map, 0, false, &counts->comments, err) != 0 ||
	    copy_table(from, to, &events_table, &map, -1, false, &counts->events, err) != 0 ||
	    copy_table(from, to, &settings_table, &map, -1, false, &counts->settings, err) != 0 ||
	    copy_table(from, to, &metrics_table, &map, -1, false, &counts->metrics, err) != 0)
		goto out;
	if (map.keep && to->drv->ids_copied(to, err) != 0)
		goto out;
	if (state_commit(to, err) != 0)
		goto out;
	ret = 0;
out:
	if (ret != 0)
		state_rollback(to);
	state_rollback(from);
	free(clash);
	free(map.from);
	free(map.to);
	return ret;
}
