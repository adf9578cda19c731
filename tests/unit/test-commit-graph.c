/*
 * test-commit-graph.c — commit_graph_from_buffer, _find and _commit (commit_graph.h) on graph files built here
 * byte by byte as gitformat-commit-graph(5) lays them out: lookups, first parents, root commits, and every
 * malformed input refused (bad signature, version or hash, chunk offsets outside the file, a fanout that goes down,
 * chunks too short for the count, a parent position out of range).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit_graph.h"
#include "tap.h"

#define N_COMMITS 3
#define GRAPH_LEN (8 + 4 * 12 + 1024 + N_COMMITS * 20 + N_COMMITS * 36 + 20)

static unsigned char graph[GRAPH_LEN];

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* Commit i has id byte 0x10*(i+1) repeated, tree 0xa0+i repeated; commit 0 is the root, i's parent is i-1. */
static void
build(void)
{
	size_t fanout = 8 + 4 * 12, oidl = fanout + 1024, cdat = oidl + N_COMMITS * 20, end = cdat + N_COMMITS * 36;
	unsigned i, b, n;

	memset(graph, 0, sizeof(graph));
	memcpy(graph, "CGPH\001\001\003\000", 8);
	memcpy(graph + 8, "OIDF", 4);
	put64(graph + 12, fanout);
	memcpy(graph + 20, "OIDL", 4);
	put64(graph + 24, oidl);
	memcpy(graph + 32, "CDAT", 4);
	put64(graph + 36, cdat);
	put64(graph + 48, end);
	for (b = 0; b < 256; b++) {
		for (n = 0, i = 0; i < N_COMMITS; i++)
			n += 0x10 * (i + 1) <= b;
		put32(graph + fanout + 4 * b, n);
	}
	for (i = 0; i < N_COMMITS; i++) {
		memset(graph + oidl + 20 * i, 0x10 * (i + 1), 20);
		memset(graph + cdat + 36 * i, 0xa0 + i, 20);
		put32(graph + cdat + 36 * i + 20, i == 0 ? 0x70000000u : i - 1);
		put32(graph + cdat + 36 * i + 24, 0x70000000u);
	}
}

static git_oid
oid_of(unsigned char byte)
{
	unsigned char raw[20];
	git_oid id;

	memset(raw, byte, sizeof(raw));
	git_oid_fromraw(&id, raw);
	return id;
}

static bool
refused(void)
{
	struct commit_graph *g = commit_graph_from_buffer(graph, sizeof(graph));

	commit_graph_free(g);
	return g == NULL;
}

int
main(void)
{
	struct commit_graph *g;
	git_oid id, tree, parent, want;
	uint32_t pos = 99, parent_pos = 99;
	bool has_parent = true;

	build();
	g = commit_graph_from_buffer(graph, sizeof(graph));
	ok(g != NULL, "a well-formed graph of three commits is read");
	if (g == NULL)
		return done_testing();
	is_int(commit_graph_count(g), 3, "it holds three commits");
	id = oid_of(0x30);
	ok(commit_graph_find(g, &id, &pos) && pos == 2, "the newest commit is found at position 2");
	ok(commit_graph_commit(g, pos, &tree, &parent, &parent_pos, &has_parent), "its entry is read");
	want = oid_of(0xa2);
	ok(git_oid_equal(&tree, &want), "its tree is the recorded one");
	want = oid_of(0x20);
	ok(has_parent && parent_pos == 1 && git_oid_equal(&parent, &want), "its first parent is commit 1, by id and position");
	id = oid_of(0x10);
	ok(commit_graph_find(g, &id, &pos) && pos == 0, "the root commit is found at position 0");
	ok(commit_graph_commit(g, pos, &tree, &parent, &parent_pos, &has_parent) && !has_parent,
		"the root commit has no parent");
	id = oid_of(0x18);
	ok(!commit_graph_find(g, &id, &pos), "a commit not in the graph is not found");
	id = oid_of(0xff);
	ok(!commit_graph_find(g, &id, &pos), "an id above every fanout bucket is not found");
	ok(!commit_graph_commit(g, 3, &tree, &parent, &parent_pos, &has_parent), "a position past the end is refused");
	commit_graph_free(g);

	build();
	put32(graph + 8 + 4 * 12 + 1024 + 3 * 20 + 36 * 2 + 20, 7);
	g = commit_graph_from_buffer(graph, sizeof(graph));
	ok(g != NULL && !commit_graph_commit(g, 2, &tree, &parent, &parent_pos, &has_parent),
		"a parent position out of range makes that entry unusable");
	commit_graph_free(g);

	build();
	graph[0] = 'X';
	ok(refused(), "a wrong signature is refused");
	build();
	graph[4] = 2;
	ok(refused(), "an unknown version is refused");
	build();
	graph[5] = 2;
	ok(refused(), "a SHA-256 graph is refused (libgit2 1.5 reads SHA-1 repositories)");
	build();
	graph[7] = 1;
	ok(refused(), "a layer that claims a base graph, read alone, is refused");
	build();
	put64(graph + 24, GRAPH_LEN + 100);
	ok(refused(), "a chunk offset beyond the file is refused");
	build();
	put64(graph + 24, 4);
	ok(refused(), "a chunk offset inside the header is refused");
	build();
	put32(graph + 8 + 4 * 12 + 4 * 0x25, 0);
	ok(refused(), "a fanout that goes down is refused");
	build();
	put32(graph + 8 + 4 * 12 + 4 * 255, 4);
	ok(refused(), "a count larger than the chunks hold is refused");
	build();
	memcpy(graph + 32, "XDAT", 4);
	ok(refused(), "a graph without commit data is refused");
	ok(commit_graph_from_buffer(graph, 10) == NULL, "a file shorter than its chunk table is refused");
	return done_testing();
}
