/*
 * walk.c — the engine's commit walks (walk.h), read raw from the object database: a first-parent walk that
 * records each commit's base subtree id, stopping at a stop or at the root; and, when a fast-forward walk meets no
 * stop, the exact set of commits reachable from the tip and from none of the stops (or other refs), walked again.
 */
#include "walk.h"

#include <stdlib.h>
#include <string.h>

#include "commit_graph.h"
#include "repo.h"
#include "util.h"

typedef bool (*boundary_fn)(const git_oid *id, void *arg);

/* Sorted commit ids, for "reachable from" tests. */
struct oidset {
	git_oid *ids;
	size_t len;
	size_t cap;
};

void
walk_list_free(struct walk_list *l)
{
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static int
oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

static bool
oidset_contains(const struct oidset *s, const git_oid *id)
{
	return s->len > 0 && bsearch(id, s->ids, s->len, sizeof(*s->ids), oid_cmp) != NULL;
}

static bool
boundary_outside_set(const git_oid *id, void *arg)
{
	return !oidset_contains(arg, id);
}

struct walk_stops {
	const git_oid *ids[2];
	size_t n;
};

static bool
boundary_in_stops(const git_oid *id, void *arg)
{
	const struct walk_stops *stops = arg;
	size_t i;

	for (i = 0; i < stops->n; i++)
		if (git_oid_equal(stops->ids[i], id))
			return true;
	return false;
}

/*
 * Walks first parents from TIP, stopping before a commit for which is_boundary is true, or at the root. Commits
 * and trees are read raw from the object database (git_commit_parent's parsing and the revwalk are several times
 * slower over long histories); each commit's base subtree id is recorded for plan_commits to compare.
 */
static int
walk_first_parents(git_repository *repo, const git_oid *tip, const char *base, boundary_fn is_boundary, void *arg,
	struct walk_list *out, const struct walk_request *progress, struct error *err)
{
	git_odb *odb = NULL;
	struct commit_graph *graph;
	git_oid id, tree, parent;
	uint32_t pos = 0, parent_pos = 0;
	bool has_parent, in_graph;

	memset(out, 0, sizeof(*out));
	if (git_repository_odb(&odb, repo) < 0)
		return repo_error(err, "cannot open the object database");
	/* The commit-graph, when git wrote one, gives each commit's tree and parent without inflating the commit. */
	graph = commit_graph_open_repository(repo);
	git_oid_cpy(&id, tip);
	in_graph = graph != NULL && commit_graph_find(graph, &id, &pos);
	for (;;) {
		struct walk_commit *fc;
		bool boundary = is_boundary != NULL && is_boundary(&id, arg);

		if (in_graph)
			in_graph = commit_graph_commit(graph, pos, &tree, &parent, &parent_pos, &has_parent);
		if (!in_graph && repo_raw_commit(odb, &id, &tree, &parent, &has_parent, err) != 0)
			goto fail;
		if (boundary) {
			out->has_boundary = true;
			git_oid_cpy(&out->boundary_id, &id);
			if (repo_raw_subtree(odb, &tree, base, &out->boundary_base, &out->boundary_has_base, err) != 0)
				goto fail;
			break;
		}
		if (out->len == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 64;
			out->items = xrealloc(out->items, out->cap * sizeof(*out->items));
		}
		fc = &out->items[out->len++];
		git_oid_cpy(&fc->id, &id);
		if (repo_raw_subtree(odb, &tree, base, &fc->base, &fc->has_base, err) != 0)
			goto fail;
		if (progress != NULL && progress->progress != NULL && out->len % 1000 == 0)
			progress->progress(out->len, progress->progress_arg);
		if (!has_parent)
			break;
		git_oid_cpy(&id, &parent);
		/* A graph holds every parent of its commits: the parent is at parent_pos, no search needed. */
		if (in_graph)
			pos = parent_pos;
		else
			in_graph = graph != NULL && commit_graph_find(graph, &id, &pos);
	}
	commit_graph_free(graph);
	git_odb_free(odb);
	return 0;
fail:
	commit_graph_free(graph);
	git_odb_free(odb);
	walk_list_free(out);
	return -1;
}

/* The refs of a push sorted by name, so each of the repository's refs is looked up in log time. */
struct hide_refs_ctx {
	git_revwalk *walk;
	const char *ref_name;                          /* the branch itself: never hidden */
	const struct walk_pushed_ref **pushed;      /* sorted by ref_name */
	size_t n_pushed;
};

static int
pushed_ref_cmp(const void *a, const void *b)
{
	const struct walk_pushed_ref *const *pa = a, *const *pb = b;

	return strcmp((*pa)->ref_name, (*pb)->ref_name);
}

static int
pushed_name_cmp(const void *key, const void *elem)
{
	const struct walk_pushed_ref *const *p = elem;

	return strcmp(key, (*p)->ref_name);
}

static int
hide_ref_cb(const char *name, void *payload)
{
	struct hide_refs_ctx *ctx = payload;
	const struct walk_pushed_ref *const *p = NULL;
	int r = 0;

	if (strcmp(name, ctx->ref_name) == 0)
		return 0;
	if (ctx->n_pushed > 0)
		p = bsearch(name, ctx->pushed, ctx->n_pushed, sizeof(*ctx->pushed), pushed_name_cmp);
	/* A ref this same push updated counts with its value from before the push (none when it created it). */
	if (p != NULL) {
		if (!(*p)->old_is_zero)
			r = git_revwalk_hide(ctx->walk, &(*p)->old);
	} else {
		r = git_revwalk_hide_ref(ctx->walk, name);
	}
	if (r < 0)
		git_error_clear();   /* refs to non-commits (trees, blobs) simply hide nothing */
	return 0;
}

/* The commits reachable from TIP but not from the stops (or, when hide_other_refs, from any other ref). */
static int
unreachable_set(git_repository *repo, const git_oid *tip, const struct walk_stops *stops,
	const struct walk_other_refs *hide_other_refs, struct oidset *out, struct error *err)
{
	git_revwalk *walk = NULL;
	git_oid id;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (git_revwalk_new(&walk, repo) < 0)
		return repo_error(err, "cannot start history walk");
	git_revwalk_sorting(walk, GIT_SORT_NONE);
	if (git_revwalk_push(walk, tip) < 0) {
		repo_error(err, "cannot walk from %s", git_oid_tostr_s(tip));
		goto fail;
	}
	for (i = 0; stops != NULL && i < stops->n; i++)
		if (git_revwalk_hide(walk, stops->ids[i]) < 0)
			git_error_clear();
	if (hide_other_refs != NULL) {
		struct hide_refs_ctx ctx = { walk, hide_other_refs->except, NULL, hide_other_refs->n_pushed };

		ctx.pushed = xcalloc(ctx.n_pushed + 1, sizeof(*ctx.pushed));
		for (i = 0; i < ctx.n_pushed; i++)
			ctx.pushed[i] = &hide_other_refs->pushed[i];
		qsort(ctx.pushed, ctx.n_pushed, sizeof(*ctx.pushed), pushed_ref_cmp);
		rc = repo_ref_names(repo, hide_ref_cb, &ctx, err);
		free(ctx.pushed);
		if (rc != 0)
			goto fail;
	}
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		if (out->len == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 64;
			out->ids = xrealloc(out->ids, out->cap * sizeof(*out->ids));
		}
		git_oid_cpy(&out->ids[out->len++], &id);
	}
	if (rc != GIT_ITEROVER) {
		repo_error(err, "history walk from %s failed", git_oid_tostr_s(tip));
		goto fail;
	}
	git_error_clear();
	if (out->len > 1)
		qsort(out->ids, out->len, sizeof(*out->ids), oid_cmp);   /* never qsort(NULL, 0, ...) */
	git_revwalk_free(walk);
	return 0;
fail:
	git_revwalk_free(walk);
	free(out->ids);
	memset(out, 0, sizeof(*out));
	return -1;
}

int
walk_first_parent_commits(git_repository *repo, const struct walk_request *req, struct walk_list *out,
	struct error *err)
{
	struct walk_stops stops = { { NULL, NULL }, 0 };
	struct oidset set;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < req->n_stops && i < 2; i++)
		if (req->stops[i] != NULL)
			stops.ids[stops.n++] = req->stops[i];
	if (req->other_refs == NULL) {
		if (walk_first_parents(repo, req->tip, req->base, stops.n ? boundary_in_stops : NULL, &stops, out, req,
		    err) != 0)
			return -1;
		if (stops.n == 0 || out->has_boundary)
			return 0;
		walk_list_free(out);
	}
	if (unreachable_set(repo, req->tip, &stops, req->other_refs, &set, err) != 0)
		return -1;
	rc = walk_first_parents(repo, req->tip, req->base, boundary_outside_set, &set, out, req, err);
	free(set.ids);
	return rc;
}
