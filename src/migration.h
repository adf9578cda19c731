/*
 * migration.h — the naming convention (design §2), pure: a file name to (version, type, description), and the
 * order of files inside an issue. No I/O, no libraries: unit-tested table by table.
 */
#ifndef BBGITOPS_MIGRATION_H
#define BBGITOPS_MIGRATION_H

#include <stdbool.h>

enum migration_type { MIGRATION_MIGRATE, MIGRATION_DATA, MIGRATION_GHOST };

struct migration_name {
	char *version;        /* leading ASCII digits, as written ("0001") */
	enum migration_type type;
	char *description;
};

/*
 * Parses a bare file name (no directory). Returns true and fills *out (free with migration_name_clear) when the
 * name follows the convention: ends in ".sql", starts with at least one digit.
 */
bool migration_parse(const char *filename, struct migration_name *out);
void migration_name_clear(struct migration_name *m);

/* "MIGRATE", "DATA", "MIGRATE_GHOST". */
const char *migration_type_name(enum migration_type t);

/* Versions compare by numeric value (any length), then as strings ("0001" < "1"). */
int migration_version_cmp(const char *a, const char *b);
/* Full ordering inside an issue: version, then path. */
int migration_order_cmp(const char *version_a, const char *path_a, const char *version_b, const char *path_b);

/*
 * Normalizes a configured base directory: strips leading and trailing '/', "/" and "" both become "".
 * Returns a new string.
 */
char *migration_normalize_base(const char *base);

/* The repository-relative path of NAME under normalized BASE ("" = root). Returns a new string. */
char *migration_join_path(const char *base, const char *name);

#endif
