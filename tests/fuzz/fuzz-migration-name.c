/*
 * fuzz-migration-name.c — libFuzzer target for the naming convention (migration.c) and the path quoting of
 * messages (util.c): any file name, any base directory. Checks the parser's promises, not just its memory safety.
 */
#include <stdio.h>

#include "fuzz.h"
#include "migration.h"
#include "util.h"

static void
check(int cond, const char *what, const char *input)
{
	if (!cond) {
		fprintf(stderr, "fuzz-migration-name: broken promise: %s (input \"%s\")\n", what, input);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_string(data, size), *base, *joined, *quoted, *other;
	struct migration_name m = { 0 };
	size_t i, n = strlen(name);

	if (migration_parse(name, &m)) {
		check(n >= 4 && strcmp(name + n - 4, ".sql") == 0, "a migration ends in .sql", name);
		check(m.version[0] != '\0' && strspn(m.version, "0123456789") == strlen(m.version),
			"the version is a run of digits", name);
		check(strncmp(name, m.version, strlen(m.version)) == 0, "the version leads the name", name);
		check(migration_type_name(m.type) != NULL, "the type has a name", name);
		check(migration_version_cmp(m.version, m.version) == 0, "a version equals itself", name);
		migration_name_clear(&m);
	}
	/* the second half of the input, split at the first '/', as a base directory and another version */
	other = strchr(name, '/');
	base = migration_normalize_base(other != NULL ? other : name);
	check(base[0] != '/' && (base[0] == '\0' || base[strlen(base) - 1] != '/'), "the base is normalized", name);
	joined = migration_join_path(base, name);
	quoted = str_quote_path(joined);
	for (i = 0; quoted[i] != '\0'; i++)
		check((unsigned char)quoted[i] >= 0x20 && (unsigned char)quoted[i] < 0x7f,
			"a quoted path is printable ASCII", name);
	if (other != NULL && strspn(name, "0123456789") > 0 && strspn(other + 1, "0123456789") > 0) {
		char *a = xstrndup(name, strspn(name, "0123456789"));
		char *b = xstrndup(other + 1, strspn(other + 1, "0123456789"));
		int ab = migration_version_cmp(a, b), ba = migration_version_cmp(b, a);

		check((ab < 0 && ba > 0) || (ab > 0 && ba < 0) || (ab == 0 && ba == 0), "versions order both ways",
			name);
		free(a);
		free(b);
	}
	free(quoted);
	free(joined);
	free(base);
	free(name);
	return 0;
}
