/*
 * test-migration.c — the naming convention (design §2) and the ordering of files, table by table.
 */
#include <stdlib.h>

#include "migration.h"
#include "tap.h"

struct parse_case {
	const char *name;
	bool is_migration;
	const char *version;
	const char *type;
	const char *description;
};

static const struct parse_case parse_cases[] = {
	{ "202401010000_create_t.sql", true, "202401010000", "MIGRATE", "create_t" },
	{ "0002_dml_seed.sql", true, "0002", "DATA", "seed" },
	{ "0003ghost_add_col.sql", true, "0003", "MIGRATE_GHOST", "add_col" },
	{ "0004_ddl_add_index.sql", true, "0004", "MIGRATE", "add_index" },
	{ "0005__dml__twice.sql", true, "0005", "DATA", "twice" },
	{ "1.13.0_x.sql", true, "1", "MIGRATE", ".13.0_x" },
	{ "7.sql", true, "7", "MIGRATE", "" },
	{ "0001_init.up.sql", true, "0001", "MIGRATE", "init.up" },
	{ "0001_init.down.sql", true, "0001", "MIGRATE", "init.down" },
	{ "0008_dmlish.sql", true, "0008", "DATA", "ish" },
	{ "init.sql", false, NULL, NULL, NULL },
	{ "_0001_x.sql", false, NULL, NULL, NULL },
	{ "0006_x.SQL", false, NULL, NULL, NULL },
	{ "0007_x.txt", false, NULL, NULL, NULL },
	{ "0009_x.sql.bak", false, NULL, NULL, NULL },
	{ ".sql", false, NULL, NULL, NULL },
	{ "", false, NULL, NULL, NULL },
	{ "v1_x.sql", false, NULL, NULL, NULL },
};

static void
test_parse(void)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct migration_name m = { 0 };
		bool got = migration_parse(c->name, &m);

		if (!ok(got == c->is_migration, "'%s' is %sa migration", c->name, c->is_migration ? "" : "not "))
			continue;
		if (!got)
			continue;
		is_str(m.version, c->version, "'%s' has version %s", c->name, c->version);
		is_str(migration_type_name(m.type), c->type, "'%s' has type %s", c->name, c->type);
		is_str(m.description, c->description, "'%s' has description '%s'", c->name, c->description);
		migration_name_clear(&m);
	}
}

static void
test_versions(void)
{
	ok(migration_version_cmp("9", "10") < 0, "9 sorts before 10 (numeric, not string)");
	ok(migration_version_cmp("0001", "1") < 0, "0001 and 1 tie numerically, then compare as strings");
	ok(migration_version_cmp("1", "0001") > 0, "the string tie-break is antisymmetric");
	ok(migration_version_cmp("0002", "0002") == 0, "equal versions compare equal");
	ok(migration_version_cmp("99999999999999999999999", "100000000000000000000000") < 0,
		"versions longer than 64 bits compare by value");
	ok(migration_version_cmp("0", "00") < 0, "zero and zero-zero tie numerically");
	ok(migration_order_cmp("1", "b/1_x.sql", "1", "a/1_y.sql") > 0, "equal versions order by path");
	ok(migration_order_cmp("2", "a.sql", "10", "b.sql") < 0, "version wins over path");
}

static void
test_base(void)
{
	char *s;

	s = migration_normalize_base("/bytebase/");
	is_str(s, "bytebase", "leading and trailing slashes are ignored");
	free(s);
	s = migration_normalize_base("/");
	is_str(s, "", "'/' is the repository root");
	free(s);
	s = migration_normalize_base("");
	is_str(s, "", "'' is the repository root");
	free(s);
	s = migration_normalize_base("db//migrations");
	is_str(s, "db//migrations", "inner slashes are kept as written");
	free(s);
	s = migration_join_path("", "0001_x.sql");
	is_str(s, "0001_x.sql", "files at the root have no directory");
	free(s);
	s = migration_join_path("db/migrations", "0001_x.sql");
	is_str(s, "db/migrations/0001_x.sql", "paths join with one slash");
	free(s);
}

int
main(void)
{
	test_parse();
	test_versions();
	test_base();
	return done_testing();
}
