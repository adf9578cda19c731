/*
 * repo.c — libgit2: hardened start-up, opening repositories, and reading what a commit changed directly under the
 * base directory. The base directory's subtree ids are compared first; when they differ only its immediate
 * entries are merged by name — never a whole-tree diff, never rename detection.
 */
#include "repo.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

static bool library_ready;

int
repo_error(struct error *err, const char *fmt, ...)
{
	const git_error *e = git_error_last();
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return error_set(err, false, "%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
}

int
repo_library_init(struct error *err)
{
	static const git_config_level_t levels[] = { GIT_CONFIG_LEVEL_PROGRAMDATA, GIT_CONFIG_LEVEL_SYSTEM,
		GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL };
	size_t i;

	if (library_ready)
		return 0;
	if (git_libgit2_init() < 0)
		return repo_error(err, "cannot initialise libgit2");
	/* No user's or system's gitconfig may change what we see. */
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
	/* The poller may run as another user than the repository's owner (hook and poller share state). */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	/* A long-running poller must not accumulate open pack files. */
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_FILE_LIMIT, (size_t)128);
	/*
	 * Walks read each commit once and keep the trees they compare themselves (repo_tree_cache): libgit2's object
	 * cache of commits and trees only cost memory (5-20 MB on the bench histories) and its locking.
	 */
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)(16 * 1024 * 1024));
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_COMMIT, (size_t)0);
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE, (size_t)0);
	/*
	 * libgit2 hashes every object it reads again (SHA-1 with collision detection) to check its id: half of a
	 * long walk's instructions. git does not (only fsck does); zlib's checksum still catches a damaged object.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/*
	 * libgit2 maps packs in 1 GB windows and keeps up to 8 GB mapped: every page a walk touches stays resident. A
	 * walk reads each object once, so 1 MB windows and 4 MB mapped (least recently used windows are unmapped) cost
	 * no time and keep a long walk's peak RSS below git's (bench/backfill: 57.9 -> 49.4 MB on the monorepo shape,
	 * git 52.3 MB). It is a soft limit: a window in use is never unmapped.
	 */
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)(1024 * 1024));
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT, (size_t)(4 * 1024 * 1024));
	library_ready = true;
	return 0;
}

void
repo_library_shutdown(void)
{
	if (library_ready)
		git_libgit2_shutdown();
	library_ready = false;
}

int
repo_open(const char *path, git_repository **out, struct error *err)
{
	if (git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return repo_error(err, "cannot open repository %s", path);
	return 0;
}

int
repo_base_tree_id(const git_commit *commit, const char *base, git_oid *out, bool *exists,
	struct error *err)
{
	git_tree *root = NULL;
	git_tree_entry *entry = NULL;
	int rc;

	*exists = false;
	if (base[0] == '\0') {
		git_oid_cpy(out, git_commit_tree_id(commit));
		*exists = true;
		return 0;
	}
	if (git_commit_tree(&root, commit) < 0)
		return repo_error(err, "cannot read tree of commit %s", git_oid_tostr_s(git_commit_id(commit)));
	rc = git_tree_entry_bypath(&entry, root, base);
	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		git_tree_free(root);
		return 0;
	}
	if (rc < 0) {
		git_tree_free(root);
		return repo_error(err, "cannot look up %s in commit %s", base, git_oid_tostr_s(git_commit_id(commit)));
	}
	if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
		git_oid_cpy(out, git_tree_entry_id(entry));
		*exists = true;
	}
	git_tree_entry_free(entry);
	git_tree_free(root);
	return 0;
}

void
repo_changes_free(struct repo_change *changes, size_t n)
{
	size_t i;

	if (changes == NULL)
		return;
	for (i = 0; i < n; i++)
		free(changes[i].name);
	free(changes);
}

/* One entry of a raw tree: "<octal mode> <name>\0<20-byte id>". */
struct raw_entry {
	unsigned mode;
	const char *name;
	size_t name_len;
	const unsigned char *id;
};

/* Parses the entry at *pos of a tree of LEN bytes; false at the end or on a malformed entry. */
static bool
raw_tree_next(const unsigned char *data, size_t len, size_t *pos, struct raw_entry *e)
{
	size_t p = *pos;
	unsigned mode = 0;
	const unsigned char *nul;

	if (p >= len)
		return false;
	while (p < len && data[p] >= '0' && data[p] <= '7')
		mode = mode * 8 + (unsigned)(data[p++] - '0');
	if (p >= len || data[p] != ' ')
		return false;
	p++;
	nul = memchr(data + p, '\0', len - p);
	if (nul == NULL || (size_t)(nul - data) + 1 + GIT_OID_RAWSZ > len)
		return false;
	e->mode = mode;
	e->name = (const char *)data + p;
	e->name_len = (size_t)(nul - (data + p));
	e->id = nul + 1;
	*pos = (size_t)(nul - data) + 1 + GIT_OID_RAWSZ;
	return true;
}

static bool
raw_is_tree(const struct raw_entry *e)
{
	return (e->mode & 0170000) == 0040000;
}

static bool
raw_is_file(const struct raw_entry *e)
{
	return (e->mode & 0170000) == 0100000;
}

/* git's tree order: names compare bytewise, a directory as if its name ended in '/'. */
static int
raw_entry_cmp(const struct raw_entry *a, const struct raw_entry *b)
{
	size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c = memcmp(a->name, b->name, n);
	unsigned char ca, cb;

	if (c != 0)
		return c;
	ca = a->name_len > n ? (unsigned char)a->name[n] : raw_is_tree(a) ? '/' : '\0';
	cb = b->name_len > n ? (unsigned char)b->name[n] : raw_is_tree(b) ? '/' : '\0';
	return (int)ca - (int)cb;
}

static int
raw_read(git_odb *odb, const git_oid *id, git_object_t want, git_odb_object **out, struct error *err)
{
	if (git_odb_read(out, odb, id) < 0)
		return repo_error(err, "cannot read object %s", git_oid_tostr_s(id));
	if (git_odb_object_type(*out) != want) {
		git_odb_object_free(*out);
		*out = NULL;
		return error_set(err, false, "object %s is not a %s", git_oid_tostr_s(id), git_object_type2string(want));
	}
	return 0;
}

int
repo_raw_commit(git_odb *odb, const git_oid *commit, git_oid *tree, git_oid *parent, bool *has_parent,
	struct error *err)
{
	git_odb_object *obj = NULL;
	const char *data;
	size_t len;

	if (raw_read(odb, commit, GIT_OBJECT_COMMIT, &obj, err) != 0)
		return -1;
	data = git_odb_object_data(obj);
	len = git_odb_object_size(obj);
	/* "tree <hex>\n" then zero or more "parent <hex>\n": the first parent is the first of those. */
	if (len < 46 || memcmp(data, "tree ", 5) != 0 || data[45] != '\n' || git_oid_fromstrn(tree, data + 5, 40) < 0) {
		git_odb_object_free(obj);
		return error_set(err, false, "commit %s: malformed header", git_oid_tostr_s(commit));
	}
	*has_parent = len >= 46 + 48 && memcmp(data + 46, "parent ", 7) == 0 && data[46 + 47] == '\n' &&
		git_oid_fromstrn(parent, data + 46 + 7, 40) == 0;
	git_odb_object_free(obj);
	return 0;
}

#define REPO_SUBTREE_MEMO_DEPTH 16

int
repo_raw_subtree(git_odb *odb, const git_oid *tree, const char *base, git_oid *out, bool *exists,
	struct error *err)
{
	/*
	 * The last lookup's subtree ids below the root, and its answer. Trees are named by their content: one whose id
	 * was met at the same depth of the same path leads to the same answer, so a walk reads only each commit's root
	 * tree while the first directory of BASE does not change (most commits of a monorepo). One walk at a time.
	 */
	static struct {
		char *base;
		git_oid ids[REPO_SUBTREE_MEMO_DEPTH];
		size_t n;
		git_oid out;
		bool exists;
	} memo;
	git_oid current, seen[REPO_SUBTREE_MEMO_DEPTH];
	const char *component = base;
	size_t depth = 0, i;
	bool same_base = memo.base != NULL && strcmp(memo.base, base) == 0;

	git_oid_cpy(&current, tree);
	*exists = false;
	while (*component != '\0') {
		const char *slash = strchr(component, '/');
		size_t clen = slash ? (size_t)(slash - component) : strlen(component);
		git_odb_object *obj = NULL;
		struct raw_entry e;
		size_t pos = 0;
		bool found = false;

		if (clen == 0) {   /* "a//b": git paths have no empty components */
			component++;
			continue;
		}
		if (depth > 0 && same_base && depth <= memo.n && git_oid_equal(&current, &memo.ids[depth - 1])) {
			*exists = memo.exists;
			if (memo.exists)
				git_oid_cpy(out, &memo.out);
			return 0;
		}
		if (depth > 0 && depth <= REPO_SUBTREE_MEMO_DEPTH)
			git_oid_cpy(&seen[depth - 1], &current);
		if (raw_read(odb, &current, GIT_OBJECT_TREE, &obj, err) != 0)
			return -1;
		while (raw_tree_next(git_odb_object_data(obj), git_odb_object_size(obj), &pos, &e)) {
			if (e.name_len == clen && memcmp(e.name, component, clen) == 0 && raw_is_tree(&e)) {
				git_oid_fromraw(&current, e.id);
				found = true;
				break;
			}
		}
		git_odb_object_free(obj);
		depth++;
		if (!found)
			break;
		component += clen;
		if (*component == '/')
			component++;
	}
	if (*component == '\0') {
		git_oid_cpy(out, &current);
		*exists = true;
	}
	/* Remember the ids read below the root (the root's own id changes with every commit). */
	if (!same_base) {
		free(memo.base);
		memo.base = xstrdup(base);
	}
	memo.n = depth > 1 ? depth - 1 : 0;
	if (memo.n > REPO_SUBTREE_MEMO_DEPTH)
		memo.n = REPO_SUBTREE_MEMO_DEPTH;
	for (i = 0; i < memo.n; i++)
		git_oid_cpy(&memo.ids[i], &seen[i]);
	memo.exists = *exists;
	if (*exists)
		git_oid_cpy(&memo.out, out);
	return 0;
}

static void
changes_push(struct repo_change **changes, size_t *len, size_t *cap, const struct raw_entry *e)
{
	if (*len == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*changes = xrealloc(*changes, *cap * sizeof(**changes));
	}
	(*changes)[*len].name = xstrndup(e->name, e->name_len);
	git_oid_fromraw(&(*changes)[*len].blob, e->id);
	(*len)++;
}

void
repo_tree_cache_clear(struct repo_tree_cache *cache)
{
	git_odb_object_free(cache->obj[0]);
	git_odb_object_free(cache->obj[1]);
	memset(cache, 0, sizeof(*cache));
}

/*
 * A tree through the cache: the returned object belongs to the cache (or, without one, to the caller). KEEP, an
 * object the caller still holds from this cache, is never the one evicted.
 */
static int
cached_tree(git_odb *odb, struct repo_tree_cache *cache, const git_oid *id, const git_odb_object *keep,
	git_odb_object **out, struct error *err)
{
	unsigned i;

	if (cache == NULL)
		return raw_read(odb, id, GIT_OBJECT_TREE, out, err);
	for (i = 0; i < 2; i++)
		if (cache->obj[i] != NULL && git_oid_equal(&cache->id[i], id)) {
			*out = cache->obj[i];
			return 0;
		}
	if (raw_read(odb, id, GIT_OBJECT_TREE, out, err) != 0)
		return -1;
	i = cache->next;
	if (keep != NULL && cache->obj[i] == keep)
		i = 1 - i;
	git_odb_object_free(cache->obj[i]);
	cache->obj[i] = *out;
	git_oid_cpy(&cache->id[i], id);
	cache->next = 1 - i;
	return 0;
}

int
repo_tree_cache_load(git_odb *odb, struct repo_tree_cache *cache, const git_oid *id, struct error *err)
{
	git_odb_object *obj;

	return cached_tree(odb, cache, id, NULL, &obj, err);
}

/*
 * The length of the longest run of whole entries both raw trees start with (the same bytes from offset 0: the same
 * entries). Stepping over an entry needs only its name's NUL: the mode and name hold none.
 */
static size_t
raw_common_head(const unsigned char *a, size_t la, const unsigned char *b, size_t lb)
{
	size_t n = la < lb ? la : lb, m = 0, p = 0;
	const unsigned char *nul;

	while (m + sizeof(uint64_t) <= n && memcmp(a + m, b + m, sizeof(uint64_t)) == 0)
		m += sizeof(uint64_t);
	while (m < n && a[m] == b[m])
		m++;
	while (p < m && (nul = memchr(a + p, '\0', m - p)) != NULL && (size_t)(nul - a) + 1 + GIT_OID_RAWSZ <= m)
		p = (size_t)(nul - a) + 1 + GIT_OID_RAWSZ;
	return p;
}

/* The number of bytes both raw trees end with. */
static size_t
raw_common_tail(const unsigned char *a, size_t la, const unsigned char *b, size_t lb)
{
	size_t n = la < lb ? la : lb, m = 0;

	while (m + sizeof(uint64_t) <= n &&
	    memcmp(a + la - m - sizeof(uint64_t), b + lb - m - sizeof(uint64_t), sizeof(uint64_t)) == 0)
		m += sizeof(uint64_t);
	while (m < n && a[la - m - 1] == b[lb - m - 1])
		m++;
	return m;
}

int
repo_raw_tree_changes(git_odb *odb, struct repo_tree_cache *cache, const git_oid *now, const git_oid *before,
	struct repo_change **out, size_t *n, struct error *err)
{
	git_odb_object *a = NULL, *b = NULL;
	struct repo_change *changes = NULL;
	size_t len = 0, cap = 0, pa = 0, pb = 0, sa, sb, la, lb = 0, tail = 0;
	const unsigned char *da, *db = NULL;
	struct raw_entry ea, eb;
	bool has_a, has_b;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (before != NULL && git_oid_equal(now, before))
		return 0;
	/* The parent's tree first: walking oldest to newest, it is the previous commit's tree, still cached. */
	if (before != NULL && cached_tree(odb, cache, before, NULL, &b, err) != 0)
		return -1;
	if (cached_tree(odb, cache, now, b, &a, err) != 0)
		goto out;
	da = git_odb_object_data(a);
	la = git_odb_object_size(a);
	if (b != NULL) {
		db = git_odb_object_data(b);
		lb = git_odb_object_size(b);
	}
	if (db != NULL) {
		/* Most of two successive base trees is the same bytes: skip the common head and stop at the tail. */
		pa = pb = raw_common_head(da, la, db, lb);
		tail = raw_common_tail(da, la, db, lb);
	}
	sa = pa;
	has_a = raw_tree_next(da, la, &pa, &ea);
	sb = pb;
	has_b = db != NULL && raw_tree_next(db, lb, &pb, &eb);
	while (has_a) {
		int c;

		/* From entry starts on, the same bytes to the end are the same entries: nothing more changed. */
		if (has_b && la - sa == lb - sb && la - sa <= tail)
			break;
		c = has_b ? raw_entry_cmp(&ea, &eb) : -1;
		if (c > 0) {            /* only in BEFORE: deleted, never counts */
			sb = pb;
			has_b = raw_tree_next(db, lb, &pb, &eb);
			continue;
		}
		if (raw_is_file(&ea) && (c < 0 || !raw_is_file(&eb) ||
		    memcmp(ea.id, eb.id, GIT_OID_RAWSZ) != 0))
			changes_push(&changes, &len, &cap, &ea);
		sa = pa;
		has_a = raw_tree_next(da, la, &pa, &ea);
		if (c == 0) {
			sb = pb;
			has_b = raw_tree_next(db, lb, &pb, &eb);
		}
	}
	*out = changes;
	*n = len;
	rc = 0;
out:
	if (cache == NULL) {
		git_odb_object_free(b);
		git_odb_object_free(a);
	}
	return rc;
}

int
repo_blob_size(git_repository *repo, const git_oid *id, size_t *size, struct error *err)
{
	git_odb *odb = NULL;
	git_object_t type;
	int ret = 0;

	if (git_repository_odb(&odb, repo) < 0)
		return repo_error(err, "cannot open the object database");
	if (git_odb_read_header(size, &type, odb, id) < 0)
		ret = repo_error(err, "cannot read blob %s", git_oid_tostr_s(id));
	git_odb_free(odb);
	return ret;
}

int
repo_read_blob(git_repository *repo, const git_oid *id, void **data, size_t *len, struct error *err)
{
	git_blob *blob = NULL;
	git_object_size_t size;

	if (git_blob_lookup(&blob, repo, id) < 0)
		return repo_error(err, "cannot read blob %s", git_oid_tostr_s(id));
	size = git_blob_rawsize(blob);
	*data = xmalloc((size_t)size + 1);
	memcpy(*data, git_blob_rawcontent(blob), (size_t)size);
	((char *)*data)[size] = '\0';
	*len = (size_t)size;
	git_blob_free(blob);
	return 0;
}

int
repo_peel_commit(git_repository *repo, const git_oid *id, git_oid *out, struct error *err)
{
	git_object *obj = NULL, *peeled = NULL;

	if (git_object_lookup(&obj, repo, id, GIT_OBJECT_ANY) < 0)
		return repo_error(err, "cannot read object %s", git_oid_tostr_s(id));
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		git_object_free(obj);
		return repo_error(err, "%s does not point at a commit", git_oid_tostr_s(id));
	}
	git_oid_cpy(out, git_object_id(peeled));
	git_object_free(peeled);
	git_object_free(obj);
	return 0;
}

bool
repo_has_object(git_repository *repo, const git_oid *id)
{
	git_odb *odb = NULL;
	bool has;

	if (git_repository_odb(&odb, repo) < 0) {
		git_error_clear();
		return false;
	}
	has = git_odb_exists(odb, id) != 0;
	git_odb_free(odb);
	return has;
}

static bool
is_lock_file(const char *name)
{
	size_t n = strlen(name);

	return n >= 5 && strcmp(name + n - 5, ".lock") == 0;
}

/* Loose ref names under PATH (the common directory's "refs", growing as it descends); NAME_OFF: where names start. */
static int
loose_ref_names(struct sbuf *path, size_t name_off, struct strset *seen, int (*fn)(const char *name, void *arg),
	void *arg, struct error *err)
{
	struct dirent *de;
	DIR *dir = opendir(path->buf);
	size_t len = path->len;
	int ret = 0;

	if (dir == NULL)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
			error_set(err, false, "cannot list %s: %s", path->buf, strerror(errno));
	while (ret == 0 && (errno = 0, de = readdir(dir)) != NULL) {
		unsigned char type = de->d_type;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		sbuf_addf(path, "/%s", de->d_name);
		if (type == DT_UNKNOWN || type == DT_LNK)
			type = stat(path->buf, &st) != 0 ? DT_UNKNOWN : S_ISDIR(st.st_mode) ? DT_DIR :
				S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		if (type == DT_DIR)
			ret = loose_ref_names(path, name_off, seen, fn, arg, err);
		else if (type == DT_REG && !is_lock_file(de->d_name) && strset_add(seen, path->buf + name_off))
			ret = fn(path->buf + name_off, arg);
		path->len = len;
		path->buf[len] = '\0';
	}
	if (ret == 0 && errno != 0)
		ret = error_set(err, false, "cannot list %s: %s", path->buf, strerror(errno));
	closedir(dir);
	return ret;
}

int
repo_ref_names(git_repository *repo, int (*fn)(const char *name, void *arg), void *arg, struct error *err)
{
	const char *common = git_repository_commondir(repo);
	struct strset seen = STRSET_INIT;
	struct sbuf path = SBUF_INIT;
	char *line = NULL, *packed = xasprintf("%spacked-refs", common);
	size_t cap = 0;
	ssize_t n;
	FILE *f = NULL;
	int ret;

	sbuf_addf(&path, "%srefs", common);
	ret = loose_ref_names(&path, strlen(common), &seen, fn, arg, err);
	if (ret == 0 && (f = fopen(packed, "re")) == NULL && errno != ENOENT)
		ret = error_set(err, false, "cannot read %s: %s", packed, strerror(errno));
	while (ret == 0 && f != NULL && (n = getline(&line, &cap, f)) > 0) {
		char *name;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		/* "<id> <name>"; "#" starts the header, "^" a peeled id of the line before */
		if (line[0] == '#' || line[0] == '^' || (name = strchr(line, ' ')) == NULL)
			continue;
		name++;
		if (strset_add(&seen, name))   /* a loose ref of the same name wins: libgit2 reads it */
			ret = fn(name, arg);
	}
	if (f != NULL)
		fclose(f);
	free(line);
	free(packed);
	sbuf_release(&path);
	strset_clear(&seen);
	return ret;
}
