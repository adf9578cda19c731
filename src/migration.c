/*
 * migration.c — the Bytebase 2.15+ VCS naming convention for migration files, and their ordering.
 */
#include "migration.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *
skip_underscores(const char *s)
{
	while (*s == '_')
		s++;
	return s;
}

bool
migration_parse(const char *filename, struct migration_name *out)
{
	size_t len = strlen(filename), digits = 0;
	const char *rest, *end;

	if (len < 4 || strcmp(filename + len - 4, ".sql") != 0)
		return false;
	end = filename + len - 4;
	while (filename + digits < end && filename[digits] >= '0' && filename[digits] <= '9')
		digits++;
	if (digits == 0)
		return false;

	out->type = MIGRATION_MIGRATE;
	rest = skip_underscores(filename + digits);
	if (rest > end)
		rest = end;
	if ((size_t)(end - rest) >= 3 && strncmp(rest, "ddl", 3) == 0) {
		rest += 3;
	} else if ((size_t)(end - rest) >= 3 && strncmp(rest, "dml", 3) == 0) {
		out->type = MIGRATION_DATA;
		rest += 3;
	} else if ((size_t)(end - rest) >= 5 && strncmp(rest, "ghost", 5) == 0) {
		out->type = MIGRATION_GHOST;
		rest += 5;
	}
	rest = skip_underscores(rest);
	if (rest > end)
		rest = end;
	out->version = xstrndup(filename, digits);
	out->description = xstrndup(rest, (size_t)(end - rest));
	return true;
}

void
migration_name_clear(struct migration_name *m)
{
	if (m == NULL)
		return;
	free(m->version);
	free(m->description);
	m->version = m->description = NULL;
}

const char *
migration_type_name(enum migration_type t)
{
	switch (t) {
	case MIGRATION_DATA:
		return "DATA";
	case MIGRATION_GHOST:
		return "MIGRATE_GHOST";
	case MIGRATION_MIGRATE:
	default:
		return "MIGRATE";
	}
}

int
migration_version_cmp(const char *a, const char *b)
{
	const char *na = a, *nb = b;
	size_t la, lb;
	int c;

	while (*na == '0' && na[1] != '\0')
		na++;
	while (*nb == '0' && nb[1] != '\0')
		nb++;
	la = strlen(na);
	lb = strlen(nb);
	if (la != lb)
		return la < lb ? -1 : 1;
	c = strcmp(na, nb);
	if (c != 0)
		return c < 0 ? -1 : 1;
	c = strcmp(a, b);
	return c < 0 ? -1 : c > 0;
}

int
migration_order_cmp(const char *version_a, const char *path_a, const char *version_b, const char *path_b)
{
	int c = migration_version_cmp(version_a, version_b);

	if (c != 0)
		return c;
	c = strcmp(path_a, path_b);
	return c < 0 ? -1 : c > 0;
}

char *
migration_normalize_base(const char *base)
{
	const char *start = base, *end;

	if (base == NULL)
		return xstrdup("");
	while (*start == '/')
		start++;
	end = start + strlen(start);
	while (end > start && end[-1] == '/')
		end--;
	return xstrndup(start, (size_t)(end - start));
}

char *
migration_join_path(const char *base, const char *name)
{
	if (base[0] == '\0')
		return xstrdup(name);
	return xasprintf("%s/%s", base, name);
}
