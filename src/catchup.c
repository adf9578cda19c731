/*
 * catchup.c — the engine (design §3). Decides where a branch's catch-up starts (its cursor; without one, the start
 * record of a push that created it; the push's old id; or nothing), has walk.c find the first-parent commits
 * since, reads what each changed directly under the base directory, turns new migration files into rollout issues
 * (text from issue_text.c) deduplicated by the ledger, and moves the cursor — in one BEGIN IMMEDIATE transaction,
 * so concurrent hooks and pollers serialize and each sees the cursor the other left.
 */
#include "catchup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "branch_start.h"
#include "issue_text.h"
#include "migration.h"
#include "repo.h"
#include "walk.h"
#include "util.h"

struct planned_file {
	char *path;
	char blob[GIT_OID_HEXSZ + 1];
	struct migration_name name;
	void *content;
	size_t content_len;
	size_t oversize;        /* > 0: the file's size, over max_migration_size (its content is not read) */
};

struct planned_issue {
	git_oid commit;
	char *key;
	char *title;
	char *body;
	char *error;            /* non-NULL: queued as failed with this error (a file over max_migration_size) */
	struct planned_file *files;
	size_t n_files;
};

struct plan {
	long max_size;          /* max_migration_size; 0: no limit */
	struct planned_issue *issues;
	size_t len;
	size_t cap;
	struct strset seen;     /* "path\nblob" queued earlier in this run (the ledger sees them only once written) */
	bool no_content;        /* a dry run: file contents are never stored, so never read */
};

static void
planned_file_clear(struct planned_file *f)
{
	free(f->path);
	migration_name_clear(&f->name);
	free(f->content);
	memset(f, 0, sizeof(*f));
}

static void
plan_free(struct plan *plan)
{
	size_t i, j;

	for (i = 0; i < plan->len; i++) {
		struct planned_issue *pi = &plan->issues[i];

		for (j = 0; j < pi->n_files; j++)
			planned_file_clear(&pi->files[j]);
		free(pi->files);
		free(pi->key);
		free(pi->title);
		free(pi->body);
		free(pi->error);
	}
	free(plan->issues);
	strset_clear(&plan->seen);
	memset(plan, 0, sizeof(*plan));
}

static int
planned_file_cmp(const void *a, const void *b)
{
	const struct planned_file *fa = a, *fb = b;

	return migration_order_cmp(fa->name.version, fa->path, fb->name.version, fb->path);
}

static void
plan_add_issue(struct plan *plan, git_commit *commit, const struct repo_config *repo, const char *branch,
	struct planned_file *files, size_t n_files, const char *key)
{
	struct planned_issue *pi;
	struct issue_text_file *shown;
	char hex[GIT_OID_HEXSZ + 1], *subject, *body;
	size_t i;

	if (plan->len == plan->cap) {
		plan->cap = plan->cap ? plan->cap * 2 : 8;
		plan->issues = xrealloc(plan->issues, plan->cap * sizeof(*plan->issues));
	}
	pi = &plan->issues[plan->len++];
	memset(pi, 0, sizeof(*pi));
	git_oid_tostr(hex, sizeof(hex), git_commit_id(commit));
	git_oid_cpy(&pi->commit, git_commit_id(commit));
	pi->files = files;
	pi->n_files = n_files;
	pi->key = xstrdup(key);
	subject = issue_text_decode(git_commit_summary(commit), git_commit_message_encoding(commit));
	body = issue_text_decode(git_commit_body(commit), git_commit_message_encoding(commit));
	shown = xcalloc(n_files + 1, sizeof(*shown));
	for (i = 0; i < n_files; i++)
		shown[i] = (struct issue_text_file){ files[i].path, files[i].name.version,
			migration_type_name(files[i].name.type) };
	pi->title = issue_text_title(repo->title_template, subject ? subject : "", repo->name, branch, hex,
		n_files == 1 && key[0] ? &shown[0] : NULL);
	pi->body = issue_text_body(body, repo->name, branch, hex, shown, n_files);
	free(shown);
	free(subject);
	free(body);
	for (i = 0; i < n_files && pi->error == NULL; i++)
		if (files[i].oversize > 0)
			pi->error = xasprintf("%s is %zu bytes, over max_migration_size (%ld bytes): not sent to "
				"Bytebase; split it, or raise max_migration_size and re-queue it", files[i].path,
				files[i].oversize, plan->max_size);
}

/* error_prefix with PATH quoted as git quotes file names (control bytes escaped); returns -1. */
static int
error_prefix_path(struct error *err, const char *path)
{
	char *quoted = str_quote_path(path);

	error_prefix(err, "%s", quoted);
	free(quoted);
	return -1;
}

/*
 * Fills F (its name already parsed) for CHANGE. Returns 1 when the file is new to the ledger and to this run (its
 * content read), 0 when it was seen before, -1 on error.
 */
static int
plan_file(struct state *st, git_repository *repo, const struct repo_config *cfg, const char *branch,
	const struct repo_change *change, struct planned_file *f, struct plan *plan, struct error *err)
{
	char *seen_key;
	bool in_ledger = false;
	size_t size = 0;
	int kept = 1;

	f->path = migration_join_path(cfg->base_directory, change->name);
	git_oid_tostr(f->blob, sizeof(f->blob), &change->blob);
	seen_key = xasprintf("%s\n%s", f->path, f->blob);
	if (strset_contains(&plan->seen, seen_key)) {
		kept = 0;
	} else if (st != NULL && state_ledger_contains(st, cfg->name, branch, f->path, f->blob, &in_ledger, err) != 0) {
		kept = -1;
	} else if (in_ledger) {
		kept = 0;
	} else if (plan->max_size > 0 && repo_blob_size(repo, &change->blob, &size, err) != 0) {
		kept = error_prefix_path(err, f->path);
	} else if (plan->max_size > 0 && size > (size_t)plan->max_size) {
		f->oversize = size;   /* queued, failed; its content is never loaded */
	} else if (!plan->no_content &&
	    repo_read_blob(repo, &change->blob, &f->content, &f->content_len, err) != 0) {
		kept = error_prefix_path(err, f->path);
	}
	if (kept == 1)
		strset_add(&plan->seen, seen_key);
	free(seen_key);
	return kept;
}

/*
 * The migration files commit FC adds or modifies (its base subtree against PARENT_BASE, NULL when the parent had
 * no base directory) that the ledger (and this run) has not seen, planned as issues. The commit itself is parsed
 * only when it carries some.
 */
static int
plan_commit(struct state *st, git_repository *repo, git_odb *odb, struct repo_tree_cache *trees,
	const struct repo_config *cfg, const char *branch, const struct walk_commit *fc, const git_oid *parent_base,
	struct plan *plan, struct error *err)
{
	git_commit *commit = NULL;
	struct repo_change *changes = NULL;
	struct planned_file *files = NULL;
	size_t n_changes = 0, n_files = 0, i;
	int ret = -1;

	if (repo_raw_tree_changes(odb, trees, &fc->base, parent_base, &changes, &n_changes, err) != 0) {
		error_prefix(err, "commit %s", git_oid_tostr_s(&fc->id));
		goto out;
	}
	files = xcalloc(n_changes ? n_changes : 1, sizeof(*files));
	for (i = 0; i < n_changes; i++) {
		struct planned_file *f = &files[n_files];
		int kept;

		if (!migration_parse(changes[i].name, &f->name))
			continue;
		kept = plan_file(st, repo, cfg, branch, &changes[i], f, plan, err);
		if (kept <= 0)
			planned_file_clear(f);
		if (kept < 0)
			goto out;
		n_files += (size_t)kept;
	}
	if (n_files > 0) {
		if (git_commit_lookup(&commit, repo, &fc->id) < 0) {
			repo_error(err, "cannot read commit %s", git_oid_tostr_s(&fc->id));
			goto out;
		}
		qsort(files, n_files, sizeof(*files), planned_file_cmp);
		if (cfg->group_by == GROUP_BY_FILE) {
			for (i = 0; i < n_files; i++) {
				struct planned_file *one = xmalloc(sizeof(*one));

				*one = files[i];
				plan_add_issue(plan, commit, cfg, branch, one, 1, one->path);
			}
			free(files);
		} else {
			plan_add_issue(plan, commit, cfg, branch, files, n_files, "");
		}
		files = NULL;
		n_files = 0;
	}
	ret = 0;
out:
	for (i = 0; files != NULL && i < n_files; i++)
		planned_file_clear(&files[i]);
	free(files);
	repo_changes_free(changes, n_changes);
	git_commit_free(commit);
	return ret;
}

/*
 * Plans every commit of LIST whose base subtree differs from its first parent's, oldest first. READ_AHEAD: trees
 * read before (the caller's, kept), or NULL.
 */
static int
plan_commits(struct state *st, git_repository *repo, const struct repo_config *cfg, const char *branch,
	const struct walk_list *list, struct repo_tree_cache *read_ahead, struct plan *plan, struct error *err)
{
	struct repo_tree_cache own = REPO_TREE_CACHE_INIT, *trees = read_ahead != NULL ? read_ahead : &own;
	git_odb *odb = NULL;
	size_t i;
	int ret = 0;

	if (git_repository_odb(&odb, repo) < 0)
		return repo_error(err, "cannot open the object database");
	for (i = list->len; i-- > 0;) {
		const struct walk_commit *fc = &list->items[i];
		bool parent_has;
		const git_oid *parent_base;

		if (i + 1 < list->len) {
			parent_has = list->items[i + 1].has_base;
			parent_base = &list->items[i + 1].base;
		} else {
			parent_has = list->has_boundary && list->boundary_has_base;
			parent_base = &list->boundary_base;
		}
		if (!fc->has_base || (parent_has && git_oid_equal(&fc->base, parent_base)))
			continue;
		if (plan_commit(st, repo, odb, trees, cfg, branch, fc, parent_has ? parent_base : NULL, plan,
		    err) != 0) {
			ret = -1;
			break;
		}
	}
	repo_tree_cache_clear(&own);
	git_odb_free(odb);
	return ret;
}

/* Writes the planned issues and their ledger rows; files the ledger gained meanwhile are dropped. */
static int
write_plan(struct state *st, const struct repo_config *cfg, const char *branch, const char *status,
	struct plan *plan, long long *ids, struct catchup_result *res, struct error *err)
{
	size_t i, j;

	for (i = 0; i < plan->len; i++) {
		struct planned_issue *pi = &plan->issues[i];
		char hex[GIT_OID_HEXSZ + 1];
		struct state_new_issue ni;
		long long id = 0;
		size_t queued = 0;

		ids[i] = 0;
		git_oid_tostr(hex, sizeof(hex), &pi->commit);
		ni = (struct state_new_issue){ cfg->name, branch, hex, pi->key, pi->title, pi->body,
			pi->error ? "failed" : status, pi->error };
		if (state_issue_insert(st, &ni, &id, err) != 0)
			return -1;
		if (id == 0)
			continue;   /* the same commit's issue exists already: finding it twice never creates it twice */
		for (j = 0; j < pi->n_files; j++) {
			struct planned_file *f = &pi->files[j];
			struct state_new_migration m = { cfg->name, branch, f->path, f->blob, f->name.version,
				migration_type_name(f->name.type), f->name.description, hex, id, f->content,
				f->content_len };
			bool inserted = false;

			if (state_migration_insert(st, &m, &inserted, err) != 0)
				return -1;
			queued += inserted;
			if (inserted && f->oversize > 0 && res->oversized++ == 0)
				snprintf(res->oversized_path, sizeof(res->oversized_path), "%s", f->path);
		}
		if (queued == 0) {
			/* Every file was queued by someone else meanwhile: drop the empty issue. */
			if (state_issue_drop(st, id, err) != 0)
				return -1;
			continue;
		}
		ids[i] = id;
		res->issues++;
		res->migrations += queued;
	}
	return 0;
}

static int
oid_from_hex(git_oid *out, const char *hex, struct error *err)
{
	if (git_oid_fromstr(out, hex) < 0)
		return repo_error(err, "bad commit id '%s' in state", hex);
	return 0;
}

/*
 * The start record of a branch without a cursor, if it is usable: the push it describes landed (its tip is in the
 * repository: pre-receive may have written it for a push that was then refused) and its starting point still
 * exists. A later push may have moved or rewound the branch since: the start then serves as a cursor would.
 */
static int
read_start(git_repository *repo, const struct catchup_request *req, struct branch_start *start, bool *found,
	struct error *err)
{
	if (branch_start_read(repo, req->repo->name, req->branch, start, found, err) != 0)
		return -1;
	if (*found && (!repo_has_object(repo, &start->tip) ||
	    (!start->from_root && !repo_has_object(repo, &start->from)))) {
		branch_start_remove(repo, req->repo->name, req->branch, start);
		*found = false;
	}
	return 0;
}

int
catchup_begin(git_repository *repo, const struct catchup_request *req, struct error *err)
{
	struct branch_start start;
	git_oid boundary;
	bool found = false, has_boundary = false;

	if (req->tip == NULL || !req->created)
		return 0;
	if (branch_start_read(repo, req->repo->name, req->branch, &start, &found, err) != 0)
		return -1;
	if (found && git_oid_equal(&start.tip, req->tip))
		return 0;   /* pre-receive recorded it */
	if (catchup_push_boundary(repo, req, &boundary, &has_boundary, err) != 0)
		return -1;
	memset(&start, 0, sizeof(start));
	git_oid_cpy(&start.tip, req->tip);
	start.from_root = !has_boundary;
	if (has_boundary)
		git_oid_cpy(&start.from, &boundary);
	return branch_start_write(repo, req->repo->name, req->branch, &start, err);
}

/* The cursor stays where it is (it is at the tip, or past it). */
static int
keep_cursor(struct catchup_result *res, const git_oid *cursor, bool *move)
{
	git_oid_cpy(&res->cursor, cursor);
	res->cursor_set = true;
	*move = false;
	return 0;
}

/*
 * Inside the transaction: decides where the catch-up starts (the cursor; without one, the branch's start record,
 * which serves as a cursor; the push's old id; or nothing), collects the first-parent commits, plans and writes
 * their issues. *move: the cursor is to be set to the tip.
 */
static int
catch_up_locked(struct state *st, git_repository *repo, const struct catchup_request *req,
	struct catchup_result *res, struct branch_start *start, bool *have_start, bool *move, struct error *err)
{
	const struct repo_config *cfg = req->repo;
	struct walk_list list = { 0 };
	struct plan plan = { 0 };
	struct walk_request walk = { .tip = req->tip, .base = req->repo->base_directory };
	struct walk_other_refs other_refs = { req->ref_name, req->pushed, req->n_pushed };
	long long *ids = NULL;
	char cursor_hex[GIT_OID_HEXSZ + 1], tip_hex[GIT_OID_HEXSZ + 1];
	git_oid cursor;
	bool have_cursor = false, cursor_row = false;
	int passed, ret = -1;

	*move = true;
	plan.max_size = req->max_size;
	if (state_cursor_get(st, cfg->name, req->branch, cursor_hex, &cursor_row, err) != 0)
		return -1;
	if (req->tip == NULL) {
		res->deleted = true;
		*move = false;
		branch_start_remove(repo, cfg->name, req->branch, NULL);
		return cursor_row ? state_cursor_delete(st, cfg->name, req->branch, err) : 0;
	}
	git_oid_tostr(tip_hex, sizeof(tip_hex), req->tip);
	if (cursor_row) {
		if (oid_from_hex(&cursor, cursor_hex, err) != 0)
			return -1;
		have_cursor = true;
	} else if (read_start(repo, req, start, have_start, err) != 0) {
		return -1;
	} else if (*have_start && !start->from_root) {
		/* A push created the branch (this one, or one whose hook died): catch up from where it began. */
		git_oid_cpy(&cursor, &start->from);
		git_oid_tostr(cursor_hex, sizeof(cursor_hex), &cursor);
		have_cursor = true;
	}
	if (have_cursor) {
		if (git_oid_equal(&cursor, req->tip))
			return cursor_row ? keep_cursor(res, &cursor, move) : 0;
		if (!repo_has_object(repo, &cursor)) {
			state_event(st, "warning", cfg->name, "%s: cursor commit %s is missing (history rewritten and "
				"pruned); re-baselined at %s without reporting", req->branch, cursor_hex, tip_hex);
			res->rebaselined = true;
			return 0;
		}
		/*
		 * A forced update counts the commits not reachable from the cursor. Not the old tip git reports: when
		 * it differs from the cursor, the hook of the push that brought it died, and its commits were never
		 * counted (a rewind now must not hide them); when it was counted, the cursor is past it anyway.
		 */
		walk.stops[walk.n_stops++] = &cursor;
	} else if (*have_start) {
		;   /* the push that created the branch brought its whole history: from the root */
	} else if (req->origin == CATCHUP_HOOK && req->created) {
		walk.other_refs = &other_refs;   /* no start record could be written: the other refs, in the lock */
	} else if (req->origin == CATCHUP_HOOK && req->old != NULL && repo_has_object(repo, req->old)) {
		walk.stops[walk.n_stops++] = req->old;
	} else if (req->origin == CATCHUP_POLL && cfg->start == START_TIP) {
		res->baseline_only = true;   /* a branch nobody has seen, and no push began it: watch from its tip */
		return 0;
	}

	if (walk_first_parent_commits(repo, &walk, &list, err) != 0)
		goto out;
	res->commits = list.len;
	if (list.len == 0 && cursor_row) {
		passed = git_graph_descendant_of(repo, &cursor, req->tip);
		if (passed < 0) {
			repo_error(err, "cannot compare %s with the cursor", tip_hex);
			goto out;
		}
		if (passed == 1) {
			ret = keep_cursor(res, &cursor, move);   /* a late hook for a tip the cursor has passed */
			goto out;
		}
	}
	if (plan_commits(st, repo, cfg, req->branch, &list, req->trees, &plan, err) != 0)
		goto out;
	ids = xcalloc(plan.len ? plan.len : 1, sizeof(*ids));
	if (write_plan(st, cfg, req->branch, req->status, &plan, ids, res, err) != 0)
		goto out;
	ret = 0;
out:
	free(ids);
	plan_free(&plan);
	walk_list_free(&list);
	return ret;
}

int
catchup_branch(struct state *st, git_repository *repo, const struct catchup_request *req,
	struct catchup_result *res, struct error *err)
{
	char tip_hex[GIT_OID_HEXSZ + 1];
	struct branch_start start;
	bool have_start = false, move = false;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	if (state_begin_branch(st, req->repo->name, req->branch, err) != 0)
		goto out;
	if (catch_up_locked(st, repo, req, res, &start, &have_start, &move, err) != 0)
		goto out;
	if (move) {
		git_oid_tostr(tip_hex, sizeof(tip_hex), req->tip);
		if (state_cursor_set(st, req->repo->name, req->branch, tip_hex, err) != 0)
			goto out;
		git_oid_cpy(&res->cursor, req->tip);
		res->cursor_set = true;
	}
	if (state_commit(st, err) != 0)
		goto out;
	/* The cursor now says where the branch is: a start record for this tip has done its job. */
	if (!have_start && req->created && req->tip != NULL) {
		memset(&start, 0, sizeof(start));
		git_oid_cpy(&start.tip, req->tip);
		have_start = true;
	}
	if (have_start)
		branch_start_remove(repo, req->repo->name, req->branch, &start);
	ret = 0;
out:
	if (ret != 0) {
		state_rollback(st);
		memset(res, 0, sizeof(*res));
		error_prefix(err, "%s: %s", req->repo->name, req->branch);
	}
	return ret;
}

/* The issue record of planned issue I, for on_issue callbacks: owned (state_issue_clear), like a listed one. */
static void
issue_record(const struct plan *plan, size_t i, long long id, const char *status, const char *repository,
	const char *branch, struct state_issue *out)
{
	const struct planned_issue *pi = &plan->issues[i];
	char hex[GIT_OID_HEXSZ + 1];
	size_t j;

	memset(out, 0, sizeof(*out));
	git_oid_tostr(hex, sizeof(hex), &pi->commit);
	out->id = id;
	out->repository = xstrdup(repository);
	out->branch = xstrdup(branch);
	out->commit = xstrdup(hex);
	out->key = xstrdup(pi->key);
	out->title = xstrdup(pi->title);
	out->body = xstrdup(pi->body);
	out->status = xstrdup(pi->error != NULL && status != NULL ? "failed" : status);
	out->last_error = xstrdup(status != NULL ? pi->error : NULL);
	out->files = xcalloc(pi->n_files ? pi->n_files : 1, sizeof(*out->files));
	out->n_files = pi->n_files;
	for (j = 0; j < pi->n_files; j++) {
		out->files[j].path = xstrdup(pi->files[j].path);
		out->files[j].version = xstrdup(pi->files[j].name.version);
		out->files[j].type = xstrdup(migration_type_name(pi->files[j].name.type));
		out->files[j].blob = xstrdup(pi->files[j].blob);
		out->files[j].description = xstrdup(pi->files[j].name.description);
	}
}

int
catchup_replay(struct state *st, git_repository *repo, const struct replay_request *req,
	int (*on_issue)(struct state_issue *issue, void *arg), void *arg, struct catchup_result *res,
	struct error *err)
{
	const struct repo_config *cfg = req->repo;
	struct walk_request walk = { .tip = req->to, .base = req->repo->base_directory, .stops = { req->from },
		.n_stops = req->from ? 1 : 0, .progress = req->progress, .progress_arg = req->progress_arg };
	struct walk_list list = { 0 };
	struct plan plan = { 0 };
	long long *ids = NULL;
	size_t i;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	plan.max_size = req->max_size;
	/* Scanning reads git only (and the ledger, read-only): no write lock is held while it runs. */
	if (walk_first_parent_commits(repo, &walk, &list, err) != 0)
		goto out;
	res->commits = list.len;
	plan.no_content = req->dry_run;
	/* One read transaction for the ledger's many lookups (one lock, one snapshot, not one per file). */
	if (st != NULL && state_begin_read(st, err) != 0)
		goto out;
	if (plan_commits(st, repo, cfg, req->branch, &list, NULL, &plan, err) != 0) {
		if (st != NULL)
			state_rollback(st);
		goto out;
	}
	if (st != NULL && state_commit(st, err) != 0)
		goto out;
	ids = xcalloc(plan.len ? plan.len : 1, sizeof(*ids));
	if (req->dry_run) {
		for (i = 0; i < plan.len; i++)
			res->migrations += plan.issues[i].n_files;
		res->issues = plan.len;
	} else {
		if (state_begin_immediate(st, err) != 0)
			goto out;
		if (write_plan(st, cfg, req->branch, req->status, &plan, ids, res, err) != 0 ||
		    state_commit(st, err) != 0) {
			state_rollback(st);
			goto out;
		}
	}
	for (i = 0; on_issue != NULL && i < plan.len; i++) {
		struct state_issue record;
		int stop;

		if (!req->dry_run && ids[i] == 0)
			continue;
		issue_record(&plan, i, req->dry_run ? 0 : ids[i], req->dry_run ? NULL : req->status, cfg->name,
			req->branch, &record);
		stop = on_issue(&record, arg);
		state_issue_clear(&record);
		if (stop != 0) {
			ret = stop;
			goto out;
		}
	}
	ret = 0;
out:
	if (ret < 0)
		error_prefix(err, "%s: %s", cfg->name, req->branch);
	free(ids);
	plan_free(&plan);
	walk_list_free(&list);
	return ret;
}

int
catchup_push_boundary(git_repository *repo, const struct catchup_request *req, git_oid *boundary,
	bool *has_boundary, struct error *err)
{
	struct walk_other_refs other_refs = { req->ref_name, req->pushed, req->n_pushed };
	struct walk_request walk = { .tip = req->tip, .base = req->repo->base_directory, .stops = { req->old },
		.n_stops = req->old != NULL ? 1 : 0, .other_refs = req->created ? &other_refs : NULL };
	struct walk_list list = { 0 };

	if (walk_first_parent_commits(repo, &walk, &list, err) != 0)
		return -1;
	*has_boundary = list.has_boundary;
	if (list.has_boundary)
		git_oid_cpy(boundary, &list.boundary_id);
	walk_list_free(&list);
	return 0;
}
