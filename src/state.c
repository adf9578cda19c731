/*
 * state.c — the state layer's generic half: opening the configured backend, the statement API both drivers serve
 * (state_internal.h), transactions and leases, and the queries on cursors, the ledger, issues and the event log,
 * in SQL that SQLite and PostgreSQL both accept. Every statement binds its parameters; nothing from a repository
 * is ever spliced into SQL.
 */
#include "state_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "migration.h"
#include "util.h"

static struct state *
state_new(const char *dir)
{
	struct state *st = xcalloc(1, sizeof(*st));

	st->dir = xstrdup(dir != NULL ? dir : "");
	return st;
}

int
state_open_sqlite(const char *dir, struct state **out, struct error *err)
{
	struct state *st = state_new(dir);

	if (state_sqlite_open(st, err) != 0) {
		state_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

int
state_open_url(const char *dir, const char *url, const char *password_file, long connect_timeout,
	struct state **out, struct error *err)
{
	struct state *st = state_new(dir);
	struct error ignored = ERROR_INIT;
	char *password = NULL;
	int rc;

	/*
	 * state_dir still holds this machine's locks and mirrors. Best effort: the hook needs none of it, and whoever
	 * does (the deliverer's lock, the poller's mirrors) names the directory when it cannot use it.
	 */
	if (dir != NULL && *dir != '\0')
		state_make_dir(dir, &ignored);

	if (password_file != NULL && config_read_secret(password_file, &password, err) != 0)
		return error_prefix(err, "state.password_file");
	if (password != NULL) {
		/* The password is the file's content, trimmed. */
		char *p = password, *e;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		e = p + strlen(p);
		while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
			*--e = '\0';
		memmove(password, p, strlen(p) + 1);
	}
	rc = state_pg_open(st, url, password, connect_timeout, err);
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (rc != 0) {
		state_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

int
state_open(const struct config *cfg, struct state **out, struct error *err)
{
	if (cfg->state != NULL)
		return state_open_url(cfg->state_dir, cfg->state->url, cfg->state->password_file,
			cfg->state->connect_timeout, out, err);
	return state_open_sqlite(cfg->state_dir, out, err);
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	state_stmt_free(st->ledger);
	if (st->drv != NULL)
		st->drv->close(st);
	free(st->dir);
	free(st->where);
	free(st);
}

const char *
state_dir(const struct state *st)
{
	return st->dir;
}

const char *
state_where(const struct state *st)
{
	return st->where;
}

const char *
state_backend(const struct state *st)
{
	return st->drv->name;
}

bool
state_still_usable(struct state *st)
{
	return st != NULL && st->drv != NULL && st->drv->usable(st);
}

void
state_defer_sync(struct state *st)
{
	st->defer_sync = true;
	st->drv->defer_sync(st);
}

int
state_sync_full(struct state *st, struct error *err)
{
	char now[32];

	snprintf(now, sizeof(now), "%lld", time_now());
	if (st->drv->sync_full(st, err) != 0 ||
	    state_exec(st, err, "making the state durable", NULL, "INSERT INTO settings(key, value) VALUES"
	    "('deliver.started_at', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value", "s", now) != 0)
		return error_prefix(err, "making the state durable");
	return 0;
}

int
state_begin_read(struct state *st, struct error *err)
{
	return st->drv->begin(st, STATE_TXN_READ, NULL, NULL, err);
}

int
state_begin_immediate(struct state *st, struct error *err)
{
	return st->drv->begin(st, STATE_TXN_WRITE, NULL, NULL, err);
}

int
state_begin_branch(struct state *st, const char *repository, const char *branch, struct error *err)
{
	return st->drv->begin(st, STATE_TXN_BRANCH, repository, branch, err);
}

int
state_commit(struct state *st, struct error *err)
{
	return st->drv->commit(st, err);
}

void
state_rollback(struct state *st)
{
	if (st != NULL && st->drv != NULL)
		st->drv->rollback(st);
}

int
state_lease_try(struct state *st, const char *kind, const char *a, const char *b, bool *got, struct error *err)
{
	return st->drv->lease_try(st, kind, a, b, got, err);
}

void
state_lease_release(struct state *st, const char *kind, const char *a, const char *b)
{
	st->drv->lease_release(st, kind, a, b);
}

int
state_exec_script(struct state *st, const char *sql, struct error *err)
{
	return st->drv->exec(st, sql, err);
}

/* The statement API (state_internal.h). */

int
state_stmt_prepare(struct state *st, struct state_stmt **out, struct error *err, const char *what,
	const char *sql)
{
	struct state_stmt *s = xcalloc(1, sizeof(*s));

	s->st = st;
	s->what = what;
	if (st->drv->prepare(s, sql, err) != 0) {
		free(s);
		*out = NULL;
		return -1;
	}
	*out = s;
	return 0;
}

static struct state_param *
param_slot(struct state_stmt *s, int i)
{
	struct state_param *p;

	if (i < 1 || i > STATE_MAX_PARAMS)
		abort();
	p = &s->params[i - 1];
	free(p->text);
	memset(p, 0, sizeof(*p));
	if (i > s->n_params)
		s->n_params = i;
	s->started = false;
	return p;
}

void
state_bind_text(struct state_stmt *s, int i, const char *v)
{
	struct state_param *p = param_slot(s, i);

	p->type = STATE_PARAM_TEXT;
	p->text = v != NULL ? xstrdup(v) : NULL;
}

void
state_bind_int(struct state_stmt *s, int i, long long v)
{
	struct state_param *p = param_slot(s, i);

	p->type = STATE_PARAM_INT;
	p->i = v;
	p->text = xasprintf("%lld", v);
}

void
state_bind_blob(struct state_stmt *s, int i, const void *v, size_t len)
{
	struct state_param *p = param_slot(s, i);

	p->type = STATE_PARAM_BLOB;
	p->blob = v;
	p->len = len;
}

int
state_step(struct state_stmt *s, struct error *err)
{
	int rc = s->st->drv->step(s, err);

	s->started = true;
	return rc;
}

void
state_stmt_reset(struct state_stmt *s)
{
	s->st->drv->reset(s);
	s->started = false;
}

void
state_stmt_free(struct state_stmt *s)
{
	int i;

	if (s == NULL)
		return;
	s->st->drv->finalize(s);
	for (i = 0; i < s->n_params; i++)
		free(s->params[i].text);
	free(s);
}

const char *
state_col_text(struct state_stmt *s, int col)
{
	return s->st->drv->col_text(s, col);
}

long long
state_col_int(struct state_stmt *s, int col)
{
	return s->st->drv->col_int(s, col);
}

const void *
state_col_blob(struct state_stmt *s, int col, size_t *len)
{
	return s->st->drv->col_blob(s, col, len);
}

long long
state_changes(struct state_stmt *s)
{
	return s->st->drv->changes(s);
}

char *
state_column_dup(struct state_stmt *s, int col)
{
	const char *t = state_col_text(s, col);

	return t ? xstrdup(t) : NULL;
}

static void
bind_sig(struct state_stmt *s, const char *sig, va_list ap)
{
	int i;

	for (i = 0; sig[i]; i++) {
		if (sig[i] == 'i')
			state_bind_int(s, i + 1, va_arg(ap, long long));
		else
			state_bind_text(s, i + 1, va_arg(ap, const char *));
	}
}

int
state_query(struct state *st, struct state_stmt **out, struct error *err, const char *what, const char *sql,
	const char *sig, ...)
{
	va_list ap;

	if (state_stmt_prepare(st, out, err, what, sql) != 0)
		return -1;
	va_start(ap, sig);
	bind_sig(*out, sig, ap);
	va_end(ap);
	return 0;
}

int
state_exec(struct state *st, struct error *err, const char *what, int *changes, const char *sql,
	const char *sig, ...)
{
	struct state_stmt *s = NULL;
	va_list ap;
	int rc;

	if (state_stmt_prepare(st, &s, err, what, sql) != 0)
		return -1;
	va_start(ap, sig);
	bind_sig(s, sig, ap);
	va_end(ap);
	rc = state_step(s, err);
	if (rc >= 0 && changes != NULL)
		*changes = (int)state_changes(s);
	state_stmt_free(s);
	return rc < 0 ? -1 : 0;
}

int
state_query_exists(struct state *st, bool *found, struct error *err, const char *what, const char *sql,
	const char *sig, ...)
{
	struct state_stmt *s = NULL;
	va_list ap;
	int rc;

	if (state_stmt_prepare(st, &s, err, what, sql) != 0)
		return -1;
	va_start(ap, sig);
	bind_sig(s, sig, ap);
	va_end(ap);
	rc = state_step(s, err);
	state_stmt_free(s);
	if (rc < 0)
		return -1;
	*found = rc == 1;
	return 0;
}

int
state_cursor_get(struct state *st, const char *repository, const char *branch, char out_hex[41], bool *found,
	struct error *err)
{
	struct state_stmt *s = NULL;
	int rc;

	if (state_query(st, &s, err, "reading cursor", "SELECT commit_id FROM cursors WHERE repository = ?1 AND "
	    "branch = ?2", "ss", repository, branch) != 0)
		return -1;
	rc = state_step(s, err);
	if (rc == 1) {
		const char *hex = state_col_text(s, 0);

		snprintf(out_hex, 41, "%s", hex ? hex : "");
	}
	state_stmt_free(s);
	if (rc < 0)
		return -1;
	*found = rc == 1;
	return 0;
}

int
state_cursors_recent(struct state *st, int limit, void (*fn)(const char *repository, const char *commit_hex,
	void *arg), void *arg, struct error *err)
{
	struct state_stmt *s = NULL;
	int rc;

	if (state_query(st, &s, err, "reading cursors", "SELECT repository, commit_id FROM cursors "
	    "ORDER BY updated_at DESC, repository, branch LIMIT ?1", "i", (long long)limit) != 0)
		return -1;
	while ((rc = state_step(s, err)) == 1)
		fn(state_col_text(s, 0), state_col_text(s, 1), arg);
	state_stmt_free(s);
	return rc < 0 ? -1 : 0;
}

int
state_cursor_set(struct state *st, const char *repository, const char *branch, const char *commit_hex,
	struct error *err)
{
	return state_exec(st, err, "writing cursor", NULL,
	    "INSERT INTO cursors (repository, branch, commit_id, updated_at) VALUES (?1, ?2, ?3, ?4) "
	    "ON CONFLICT (repository, branch) DO UPDATE SET commit_id = excluded.commit_id, "
	    "updated_at = excluded.updated_at", "sssi", repository, branch, commit_hex, time_now());
}

int
state_cursor_delete(struct state *st, const char *repository, const char *branch, struct error *err)
{
	return state_exec(st, err, "dropping cursor", NULL, "DELETE FROM cursors WHERE repository = ?1 AND branch = ?2",
		"ss", repository, branch);
}

int
state_ledger_contains(struct state *st, const char *repository, const char *branch, const char *path,
	const char *blob_hex, bool *found, struct error *err)
{
	int rc;

	if (st->ledger == NULL && state_stmt_prepare(st, &st->ledger, err, "reading ledger",
	    "SELECT 1 FROM migrations WHERE repository = ?1 AND branch = ?2 AND path = ?3 AND blob = ?4") != 0)
		return -1;
	state_stmt_reset(st->ledger);
	state_bind_text(st->ledger, 1, repository);
	state_bind_text(st->ledger, 2, branch);
	state_bind_text(st->ledger, 3, path);
	state_bind_text(st->ledger, 4, blob_hex);
	rc = state_step(st->ledger, err);
	state_stmt_reset(st->ledger);
	if (rc < 0)
		return -1;
	*found = rc == 1;
	return 0;
}

int
state_issue_insert(struct state *st, const struct state_new_issue *is, long long *id, struct error *err)
{
	struct state_stmt *s = NULL;
	long long now = time_now();
	int rc;

	if (state_query(st, &s, err, "queuing issue",
	    "INSERT INTO issues (repository, branch, commit_id, key, title, body, status, last_error, created_at, "
	    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) "
	    "ON CONFLICT (repository, branch, commit_id, key) DO NOTHING RETURNING id", "ssssssssi",
	    is->repository, is->branch, is->commit, is->key, is->title, is->body, is->status, is->last_error, now) != 0)
		return -1;
	*id = 0;
	rc = state_step(s, err);
	if (rc == 1) {
		*id = state_col_int(s, 0);
		rc = state_step(s, err);
	}
	state_stmt_free(s);
	return rc < 0 ? -1 : 0;
}

int
state_issue_drop(struct state *st, long long id, struct error *err)
{
	return state_exec(st, err, "dropping an empty issue", NULL, "DELETE FROM issues WHERE id = ?1", "i", id);
}

int
state_cursors_list(struct state *st, const char *repository, struct state_cursor **out, size_t *n,
	struct error *err)
{
	struct state_stmt *s = NULL;
	struct state_cursor *items = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (repository != NULL ? state_query(st, &s, err, "reading cursors", "SELECT branch, commit_id, updated_at, "
	    "repository FROM cursors WHERE repository = ?1 ORDER BY branch", "s", repository) :
	    state_query(st, &s, err, "reading cursors", "SELECT branch, commit_id, updated_at, repository FROM cursors "
	    "ORDER BY repository, branch", "") != 0)
		return -1;
	while ((rc = state_step(s, err)) == 1) {
		const char *commit = state_col_text(s, 1);

		if (state_col_text(s, 0) == NULL || commit == NULL || state_col_text(s, 3) == NULL)
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			items = xrealloc(items, cap * sizeof(*items));
		}
		items[len].branch = state_column_dup(s, 0);
		items[len].repository = state_column_dup(s, 3);
		snprintf(items[len].commit, sizeof(items[len].commit), "%s", commit);
		items[len].updated_at = state_col_int(s, 2);
		len++;
	}
	state_stmt_free(s);
	if (rc < 0) {
		state_cursors_free(items, len);
		return -1;
	}
	*out = items;
	*n = len;
	return 0;
}

void
state_cursors_free(struct state_cursor *cursors, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(cursors[i].repository);
		free(cursors[i].branch);
	}
	free(cursors);
}

int
state_issue_counts(struct state *st, const char *repository,
	void (*fn)(const char *status, long long count, void *arg), void *arg, struct error *err)
{
	struct state_stmt *s = NULL;
	int rc;

	if (state_query(st, &s, err, "counting issues", "SELECT status, count(*) FROM issues WHERE repository = ?1 "
	    "GROUP BY status ORDER BY status", "s", repository) != 0)
		return -1;
	while ((rc = state_step(s, err)) == 1)
		fn(state_col_text(s, 0), state_col_int(s, 1), arg);
	state_stmt_free(s);
	return rc < 0 ? -1 : 0;
}

int
state_events_recent(struct state *st, int limit,
	void (*fn)(long long time, const char *level, const char *repository, const char *message, void *arg),
	void *arg, struct error *err)
{
	struct state_stmt *s = NULL;
	int rc;

	if (state_query(st, &s, err, "reading events", "SELECT time, level, repository, message FROM "
	    "(SELECT * FROM events ORDER BY id DESC LIMIT ?1) AS recent ORDER BY id", "i", (long long)limit) != 0)
		return -1;
	while ((rc = state_step(s, err)) == 1)
		fn(state_col_int(s, 0), state_col_text(s, 1), state_col_text(s, 2), state_col_text(s, 3), arg);
	state_stmt_free(s);
	return rc < 0 ? -1 : 0;
}

int
state_setting_get(struct state *st, const char *key, char **value, struct error *err)
{
	struct state_stmt *s = NULL;
	int rc;

	*value = NULL;
	if (state_query(st, &s, err, "reading a setting", "SELECT value FROM settings WHERE key = ?1", "s", key) != 0)
		return -1;
	rc = state_step(s, err);
	if (rc == 1)
		*value = state_column_dup(s, 0);
	state_stmt_free(s);
	return rc < 0 ? -1 : 0;
}

int
state_migration_insert(struct state *st, const struct state_new_migration *m, bool *inserted, struct error *err)
{
	struct state_stmt *s = NULL;
	int rc;

	if (state_query(st, &s, err, "recording migration",
	    "INSERT INTO migrations (repository, branch, path, blob, version, type, description, commit_id, "
	    "issue_id, content) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
	    "ON CONFLICT (repository, branch, path, blob) DO NOTHING", "ssssssssi",
	    m->repository, m->branch, m->path, m->blob, m->version, m->type, m->description, m->commit,
	    m->issue_id) != 0)
		return -1;
	state_bind_blob(s, 10, m->content, m->content_len);
	rc = state_step(s, err);
	if (rc >= 0)
		*inserted = state_changes(s) > 0;
	state_stmt_free(s);
	return rc < 0 ? -1 : 0;
}

int
state_ledger_versions(struct state *st, const char *repository, const char *branch,
	void (*fn)(const char *version, const char *path, void *arg), void *arg, struct error *err)
{
	struct state_stmt *s = NULL;
	int rc;

	if (state_query(st, &s, err, "reading ledger", "SELECT version, path FROM migrations WHERE repository = ?1 "
	    "AND branch = ?2", "ss", repository, branch) != 0)
		return -1;
	while ((rc = state_step(s, err)) == 1)
		fn(state_col_text(s, 0), state_col_text(s, 1), arg);
	state_stmt_free(s);
	return rc < 0 ? -1 : 0;
}

int
state_path_delivered(struct state *st, const char *repository, const char *branch, const char *path,
	bool *delivered, struct error *err)
{
	return state_query_exists(st, delivered, err, "reading ledger",
	    "SELECT 1 FROM migrations m JOIN issues i ON i.id = m.issue_id "
	    "WHERE m.repository = ?1 AND m.branch = ?2 AND m.path = ?3 AND i.status = 'created' LIMIT 1",
	    "sss", repository, branch, path);
}

void
state_event(struct state *st, const char *level, const char *repository, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	struct error err = ERROR_INIT;
	va_list ap;

	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	/* Best effort: a failure to log is not worth failing for. */
	state_exec(st, &err, "recording an event", NULL, "INSERT INTO events (time, level, repository, message) "
		"VALUES (?1, ?2, ?3, ?4)", "isss", time_now(), level, repository, sbuf_str(&sb));
	sbuf_release(&sb);
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
	struct state_stmt *s = NULL;
	size_t cap = 0;
	int rc;

	if (state_query(st, &s, err, "listing issue files", "SELECT path, version, type, blob, description "
	    "FROM migrations WHERE issue_id = ?1 ORDER BY id", "i", issue->id) != 0)
		return -1;
	while ((rc = state_step(s, err)) == 1) {
		struct state_issue_file *f;

		if (issue->n_files == cap) {
			cap = cap ? cap * 2 : 4;
			issue->files = xrealloc(issue->files, cap * sizeof(*issue->files));
		}
		f = &issue->files[issue->n_files++];
		memset(f, 0, sizeof(*f));
		f->path = state_column_dup(s, 0);
		f->version = state_column_dup(s, 1);
		f->type = state_column_dup(s, 2);
		f->blob = state_column_dup(s, 3);
		f->description = state_column_dup(s, 4);
	}
	state_stmt_free(s);
	if (rc < 0)
		return -1;
	state_issue_sort_files(issue);
	return 0;
}

int
state_issues_list(struct state *st, const struct state_issue_filter *filter, struct state_issue **out, size_t *n,
	struct error *err)
{
	static const struct state_issue_filter none = { NULL, NULL, NULL, 0 };
	struct state_issue *list = NULL;
	struct state_stmt *s = NULL;
	size_t len = 0, cap = 0, i;
	int rc;

	if (filter == NULL)
		filter = &none;
	if (state_query(st, &s, err, "listing issues",
	    "SELECT id, repository, branch, commit_id, key, title, body, issues.status, issues.attempts, "
	    "issues.next_attempt_at, issues.last_error, release_name, sheet_names, plan_name, issue_name, rollout_name, "
	    "rollout_pending, created_at, rollout_attempts, c.status, c.url, c.attempts, c.last_error "
	    "FROM issues LEFT JOIN comments c ON c.issue_id = issues.id "
	    "WHERE (?1 IS NULL OR repository = ?1) AND (?2 IS NULL OR branch = ?2) "
	    "AND (?3 IS NULL OR issues.status = ?3) AND (?4 = 0 OR id = ?4) ORDER BY id", "sssi",
	    filter->repository, filter->branch, filter->status, filter->id) != 0)
		return -1;
	while ((rc = state_step(s, err)) == 1) {
		struct state_issue *is;

		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			list = xrealloc(list, cap * sizeof(*list));
		}
		is = &list[len++];
		memset(is, 0, sizeof(*is));
		is->id = state_col_int(s, 0);
		is->repository = state_column_dup(s, 1);
		is->branch = state_column_dup(s, 2);
		is->commit = state_column_dup(s, 3);
		is->key = state_column_dup(s, 4);
		is->title = state_column_dup(s, 5);
		is->body = state_column_dup(s, 6);
		is->status = state_column_dup(s, 7);
		is->attempts = (long)state_col_int(s, 8);
		is->next_attempt_at = state_col_int(s, 9);
		is->last_error = state_column_dup(s, 10);
		is->release_name = state_column_dup(s, 11);
		is->sheet_names = state_column_dup(s, 12);
		is->plan_name = state_column_dup(s, 13);
		is->bytebase_issue = state_column_dup(s, 14);
		is->rollout_name = state_column_dup(s, 15);
		is->rollout_pending = state_col_int(s, 16) != 0;
		is->created_at = state_col_int(s, 17);
		is->rollout_attempts = (long)state_col_int(s, 18);
		is->comment_status = state_column_dup(s, 19);
		is->comment_url = state_column_dup(s, 20);
		is->comment_attempts = (long)state_col_int(s, 21);
		is->comment_error = state_column_dup(s, 22);
	}
	state_stmt_free(s);
	if (rc < 0)
		goto fail;
	for (i = 0; i < len; i++)
		if (load_files(st, &list[i], err) != 0)
			goto fail;
	*out = list;
	*n = len;
	return 0;
fail:
	state_issues_free(list, len);
	return -1;
}

int
state_issue_load_content(struct state *st, struct state_issue *issue, struct error *err)
{
	struct state_stmt *s = NULL;
	size_t i;

	if (state_stmt_prepare(st, &s, err, "reading migration content", "SELECT content FROM migrations "
	    "WHERE issue_id = ?1 AND path = ?2 AND blob = ?3") != 0)
		return -1;
	for (i = 0; i < issue->n_files; i++) {
		struct state_issue_file *f = &issue->files[i];
		const void *data;
		size_t len;
		int rc;

		state_stmt_reset(s);
		state_bind_int(s, 1, issue->id);
		state_bind_text(s, 2, f->path);
		state_bind_text(s, 3, f->blob);
		rc = state_step(s, err);
		if (rc != 1) {
			char *quoted = str_quote_path(f->path);

			if (rc == 0)
				error_set(err, false, "reading migration content: no such file in the ledger");
			error_prefix(err, "%s", quoted);
			free(quoted);
			state_stmt_free(s);
			return -1;
		}
		data = state_col_blob(s, 0, &len);
		free(f->content);
		f->content = xmalloc(len + 1);
		if (len > 0)
			memcpy(f->content, data, len);
		((char *)f->content)[len] = '\0';
		f->content_len = len;
	}
	state_stmt_free(s);
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

int
state_open_existing(const struct config *cfg, struct state **out, bool *exists, struct error *err)
{
	char *path = xasprintf("%s/state.db", cfg->state_dir);
	struct stat st;

	/* A shared database always exists (its schema is created when missing); a local one is a file. */
	*exists = cfg->state != NULL || stat(path, &st) == 0;
	free(path);
	*out = NULL;
	if (!*exists)
		return 0;
	return state_open(cfg, out, err);
}
