/*
 * commit_graph.c — git's commit-graph files, read in place (mmap): a single objects/info/commit-graph, or the
 * layers named by objects/info/commit-graphs/commit-graph-chain, base first. Positions run across the layers (a
 * layer's commits come after all of its base layers'). Every offset and position is checked against the file's
 * size before use; anything unexpected makes the graph (or a lookup) unusable, never an error.
 */
#include "commit_graph.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define GRAPH_SIGNATURE "CGPH"
#define GRAPH_VERSION 1
#define GRAPH_HASH_SHA1 1
#define GRAPH_OID_LEN 20
#define GRAPH_DATA_LEN (GRAPH_OID_LEN + 16)     /* tree, parent 1, parent 2, generation and time */
#define GRAPH_PARENT_NONE 0x70000000u
#define GRAPH_MAX_LAYERS 64
#define GRAPH_MAX_FILE ((size_t)1 << 34)

#define CHUNK_OID_FANOUT 0x4f494446u      /* "OIDF" */
#define CHUNK_OID_LOOKUP 0x4f49444cu      /* "OIDL" */
#define CHUNK_COMMIT_DATA 0x43444154u     /* "CDAT" */

struct graph_layer {
	void *map;                 /* our mmap of the file, or NULL (a caller's buffer) */
	size_t map_len;
	const unsigned char *fanout;    /* 256 big-endian counts */
	const unsigned char *oids;      /* count ids, sorted */
	const unsigned char *data;      /* count commit data records */
	uint32_t count;
	uint32_t first;                 /* position of this layer's first commit */
};

struct commit_graph {
	struct graph_layer layers[GRAPH_MAX_LAYERS];
	size_t n_layers;
	uint32_t total;
};

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Parses the header, chunk table and the three chunks we read; BASES is how many layers come before this one. */
static bool
layer_parse(struct graph_layer *l, const unsigned char *d, size_t len, unsigned bases)
{
	const unsigned char *table;
	uint64_t off, next, oidl_len = 0, cdat_len = 0;
	unsigned chunks, i;
	uint32_t prev = 0;

	if (len < 8 + 12 || memcmp(d, GRAPH_SIGNATURE, 4) != 0 || d[4] != GRAPH_VERSION || d[5] != GRAPH_HASH_SHA1 ||
	    d[7] != bases)
		return false;
	chunks = d[6];
	table = d + 8;
	if ((size_t)(chunks + 1) * 12 > len - 8)
		return false;
	l->fanout = l->oids = l->data = NULL;
	for (i = 0; i < chunks; i++) {
		off = be64(table + 12 * i + 4);
		next = be64(table + 12 * (i + 1) + 4);
		if (off < 8 + (uint64_t)(chunks + 1) * 12 || next < off || next > len)
			return false;
		switch (be32(table + 12 * i)) {
		case CHUNK_OID_FANOUT:
			if (next - off != 256 * 4)
				return false;
			l->fanout = d + off;
			break;
		case CHUNK_OID_LOOKUP:
			l->oids = d + off;
			oidl_len = next - off;
			break;
		case CHUNK_COMMIT_DATA:
			l->data = d + off;
			cdat_len = next - off;
			break;
		default:
			break;      /* generation data, extra edges, bloom filters, base list: not needed here */
		}
	}
	if (l->fanout == NULL || l->oids == NULL || l->data == NULL)
		return false;
	for (i = 0; i < 256; i++) {
		uint32_t n = be32(l->fanout + 4 * i);

		if (n < prev)
			return false;
		prev = n;
	}
	l->count = prev;
	return l->count < GRAPH_PARENT_NONE && oidl_len >= (uint64_t)l->count * GRAPH_OID_LEN &&
		cdat_len >= (uint64_t)l->count * GRAPH_DATA_LEN;
}

/* Adds the layer in D..LEN (MAP, when not NULL, is ours to unmap) on top of the graph's layers. */
static bool
graph_add_layer(struct commit_graph *g, const unsigned char *d, size_t len, void *map)
{
	struct graph_layer *l;

	if (g->n_layers == GRAPH_MAX_LAYERS)
		return false;
	l = &g->layers[g->n_layers];
	if (!layer_parse(l, d, len, (unsigned)g->n_layers) || l->count >= GRAPH_PARENT_NONE - g->total)
		return false;
	l->map = map;
	l->map_len = len;
	l->first = g->total;
	g->total += l->count;
	g->n_layers++;
	return true;
}

/* Maps the file at PATH and adds it as a layer. */
static bool
graph_add_file(struct commit_graph *g, const char *path)
{
	struct stat sb;
	void *map;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 || (size_t)sb.st_size > GRAPH_MAX_FILE) {
		close(fd);
		return false;
	}
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	if (!graph_add_layer(g, map, (size_t)sb.st_size, map)) {
		munmap(map, (size_t)sb.st_size);
		return false;
	}
	return true;
}

/* The layers named by a commit-graph-chain file, base first. */
static bool
graph_add_chain(struct commit_graph *g, const char *objects_dir)
{
	char *chain = xasprintf("%s/info/commit-graphs/commit-graph-chain", objects_dir);
	char line[128], *path;
	bool ok = true;
	size_t n;
	FILE *f;

	f = fopen(chain, "re");
	free(chain);
	if (f == NULL)
		return false;
	while (ok && fgets(line, sizeof(line), f) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (n != 2 * GRAPH_OID_LEN || strspn(line, "0123456789abcdef") != n) {
			ok = false;
			break;
		}
		path = xasprintf("%s/info/commit-graphs/graph-%s.graph", objects_dir, line);
		ok = graph_add_file(g, path);
		free(path);
	}
	fclose(f);
	return ok && g->n_layers > 0;
}

struct commit_graph *
commit_graph_open(const char *objects_dir)
{
	struct commit_graph *g = xcalloc(1, sizeof(*g));
	char *single = xasprintf("%s/info/commit-graph", objects_dir);
	bool ok;

	/* As git does: the single file when there is one, else the chain. */
	ok = access(single, F_OK) == 0 ? graph_add_file(g, single) : graph_add_chain(g, objects_dir);
	free(single);
	if (!ok) {
		commit_graph_free(g);
		return NULL;
	}
	return g;
}

struct commit_graph *
commit_graph_open_repository(git_repository *repo)
{
	git_buf objects = { 0 };
	struct commit_graph *g;

	if (git_repository_item_path(&objects, repo, GIT_REPOSITORY_ITEM_OBJECTS) < 0)
		return NULL;
	g = commit_graph_open(objects.ptr);
	git_buf_dispose(&objects);
	return g;
}

struct commit_graph *
commit_graph_from_buffer(const unsigned char *data, size_t len)
{
	struct commit_graph *g = xcalloc(1, sizeof(*g));

	if (!graph_add_layer(g, data, len, NULL)) {
		free(g);
		return NULL;
	}
	return g;
}

void
commit_graph_free(struct commit_graph *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n_layers; i++)
		if (g->layers[i].map != NULL)
			munmap(g->layers[i].map, g->layers[i].map_len);
	free(g);
}

uint32_t
commit_graph_count(const struct commit_graph *g)
{
	return g->total;
}

bool
commit_graph_find(const struct commit_graph *g, const git_oid *commit, uint32_t *pos)
{
	const unsigned char *id = commit->id;
	size_t i;

	for (i = 0; i < g->n_layers; i++) {
		const struct graph_layer *l = &g->layers[i];
		uint32_t lo = id[0] == 0 ? 0 : be32(l->fanout + 4 * (id[0] - 1));
		uint32_t hi = be32(l->fanout + 4 * id[0]);

		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			int c = memcmp(l->oids + (size_t)mid * GRAPH_OID_LEN, id, GRAPH_OID_LEN);

			if (c == 0) {
				*pos = l->first + mid;
				return true;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return false;
}

/* The layer holding position POS, or NULL. */
static const struct graph_layer *
graph_layer_of(const struct commit_graph *g, uint32_t pos)
{
	size_t i;

	for (i = g->n_layers; i-- > 0;)
		if (pos >= g->layers[i].first && pos - g->layers[i].first < g->layers[i].count)
			return &g->layers[i];
	return NULL;
}

bool
commit_graph_commit(const struct commit_graph *g, uint32_t pos, git_oid *tree, git_oid *parent,
	uint32_t *parent_pos, bool *has_parent)
{
	const struct graph_layer *l = graph_layer_of(g, pos), *pl;
	const unsigned char *rec;
	uint32_t p;

	if (l == NULL)
		return false;
	rec = l->data + (size_t)(pos - l->first) * GRAPH_DATA_LEN;
	p = be32(rec + GRAPH_OID_LEN);
	*has_parent = p != GRAPH_PARENT_NONE;
	if (*has_parent) {
		if ((pl = graph_layer_of(g, p)) == NULL)
			return false;
		git_oid_fromraw(parent, pl->oids + (size_t)(p - pl->first) * GRAPH_OID_LEN);
		*parent_pos = p;
	}
	git_oid_fromraw(tree, rec);
	return true;
}
