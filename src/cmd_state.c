/*
 * cmd_state.c — `bbgitops state migrate [--to URL [--password-file FILE]]`: with --to, copies the SQLite state of
 * the configuration (state_dir/state.db) into the PostgreSQL database at URL, its schema created first, and prints
 * one line of counts; without, brings the configured backend's schema up to date.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "state.h"
#include "state_migrate.h"
#include "util.h"

#define STATE_MIGRATE_TIMEOUT 10L    /* seconds to connect, when the configuration names no other database */

static void
state_usage(void)
{
	fputs("usage: bbgitops state migrate [--to URL [--password-file FILE]]\n", stderr);
}

static int
state_migrate_to(const struct config *cfg, const char *url, const char *password_file)
{
	struct state_migrate_counts c;
	struct error err = ERROR_INIT;
	struct state *from = NULL, *to = NULL;
	char *path = xasprintf("%s/state.db", cfg->state_dir);
	struct stat sb;
	int rc = 1;

	if (stat(path, &sb) != 0) {
		log_warnx("state migrate: no SQLite state at %s: nothing to copy", path);
		goto out;
	}
	if (state_open_sqlite(cfg->state_dir, &from, &err) != 0 ||
	    state_open_url(cfg->state_dir, url, password_file, cfg->state != NULL ? cfg->state->connect_timeout :
	    STATE_MIGRATE_TIMEOUT, &to, &err) != 0 ||
	    state_migrate_copy(from, to, &c, &err) != 0) {
		log_warnx("state migrate: %s", err.msg);
		goto out;
	}
	printf("copied %s to %s: %lld cursors, %lld issues, %lld migration files, %lld comments, %lld events, "
		"%lld settings, %lld metrics\n", state_where(from), state_where(to), c.cursors, c.issues, c.migrations,
		c.comments, c.events, c.settings, c.metrics);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	state_close(from);
	state_close(to);
	free(path);
	return rc;
}

int
cmd_state(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "to", required_argument, NULL, 't' },
		{ "password-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *password_file = NULL;
	struct error err = ERROR_INIT;
	struct config *cfg = NULL;
	struct state *st = NULL;
	int opt, rc;

	if (argc < 2 || strcmp(argv[1], "migrate") != 0) {
		state_usage();
		return 2;
	}
	argc--;
	argv++;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 't':
			url = optarg;
			break;
		case 'p':
			password_file = optarg;
			break;
		default:
			state_usage();
			return 2;
		}
	}
	if (optind < argc || (password_file != NULL && url == NULL)) {
		state_usage();
		return 2;
	}
	if (url != NULL && !str_starts_with(url, "postgresql://") && !str_starts_with(url, "postgres://") &&
	    strchr(url, '=') == NULL) {
		log_warnx("state migrate: --to must be a PostgreSQL connection URI (postgresql://...) or key=value pairs");
		return 2;
	}
	if ((rc = cli_load_config(cli, &cfg)) != 0)
		return rc;
	if (url != NULL) {
		rc = state_migrate_to(cfg, url, password_file);
	} else if (state_open(cfg, &st, &err) != 0) {
		log_warnx("state migrate: %s", err.msg);
		rc = 1;
	} else {
		printf("%s: schema up to date\n", state_where(st));
		rc = 0;
	}
	state_close(st);
	config_free(cfg);
	return rc;
}
