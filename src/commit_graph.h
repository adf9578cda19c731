/*
 * commit_graph.h — read-only access to git's commit-graph files (objects/info/commit-graph, or the split chain in
 * objects/info/commit-graphs/), which git gc writes by default: each commit's root tree and parents without
 * inflating the commit. libgit2 1.5 uses them for its revwalk but exposes no lookup, and a long first-parent walk
 * spends most of its time inflating commits. The graph is only a cache of immutable facts (a commit id names its
 * tree and parents for ever): a missing, unreadable or malformed graph is never an error, the walk reads the
 * commit itself. Format: gitformat-commit-graph(5).
 */
#ifndef BBGITOPS_COMMIT_GRAPH_H
#define BBGITOPS_COMMIT_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <git2.h>

struct commit_graph;

/* The graph of the object directory OBJECTS_DIR, or NULL when it has none that this reader can use. */
struct commit_graph *commit_graph_open(const char *objects_dir);
/* The graph of REPO's object directory, or NULL. */
struct commit_graph *commit_graph_open_repository(git_repository *repo);
void commit_graph_free(struct commit_graph *graph);     /* NULL is fine */

/* Parses one graph file's bytes (for the unit test and commit_graph_open): NULL when malformed. */
struct commit_graph *commit_graph_from_buffer(const unsigned char *data, size_t len);

/* How many commits the graph holds. */
uint32_t commit_graph_count(const struct commit_graph *graph);

/* Is COMMIT in the graph? *pos gets its position. */
bool commit_graph_find(const struct commit_graph *graph, const git_oid *commit, uint32_t *pos);

/*
 * The commit at POS: its root tree, and its first parent's id and position (*has_parent false for a root commit).
 * False when POS or the parent's position is out of range (a damaged graph): read the commit instead.
 */
bool commit_graph_commit(const struct commit_graph *graph, uint32_t pos, git_oid *tree, git_oid *parent,
	uint32_t *parent_pos, bool *has_parent);

#endif
