/*
 * cli.c — the shared command-line frame: global options, the command table, the hook modes chosen by the
 * program's name, the config path made absolute, and the helpers every command uses to load configuration and
 * state.
 */
#include "cli.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

int
cli_load_config(const struct cli *cli, struct config **out)
{
	struct strlist errors = STRLIST_INIT;
	size_t i;

	if (config_load(cli->config_path, out, &errors) == 0)
		return 0;
	for (i = 0; i < errors.len; i++)
		fprintf(stderr, "%s\n", errors.items[i]);
	strlist_clear(&errors);
	return 2;
}

int
cli_open_existing_state(const struct config *cfg, struct state **out, bool *exists, struct error *err)
{
	char *path = xasprintf("%s/state.db", cfg->state_dir);
	struct stat st;

	*exists = stat(path, &st) == 0;
	free(path);
	*out = NULL;
	if (!*exists)
		return 0;
	return state_open(cfg->state_dir, out, err);
}

/* Absolute path of this executable. */
static char *
self_executable(const char *argv0)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n > 0) {
		buf[n] = '\0';
		return xstrdup(buf);
	}
	if (realpath(argv0, buf) != NULL)
		return xstrdup(buf);
	return xstrdup(argv0);
}

char *
cli_deliver_executable(void)
{
	char *self = self_executable("bbgitops"), *slash = strrchr(self, '/'), *path;

	if (slash == NULL) {
		free(self);
		return xstrdup("bbgitops-deliver");
	}
	*slash = '\0';
	path = xasprintf("%s/bbgitops-deliver", self);
	free(self);
	return path;
}

/* The config path made absolute: hooks and the detached deliverer run from other directories. */
static char *
absolute_path(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	return xasprintf("%s/%s", cwd, path);
}

static const struct command *
find_command(const struct command *commands, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static bool
is_hook_mode(const struct command *cmd)
{
	return cmd != NULL && (strcmp(cmd->name, "post-receive") == 0 || strcmp(cmd->name, "pre-receive") == 0);
}

int
cli_main(int argc, char **argv, const struct command *commands, size_t n_commands, const char *usage)
{
	static const struct option long_options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const struct command *cmd = find_command(commands, n_commands, base);
	enum log_level level = LOG_LEVEL_NORMAL;
	const char *config_flag = NULL;
	struct cli cli = { 0 };
	int opt, rc = 2;

	/* State files are shared by the hook's and the poller's users through a group; never world-readable. */
	umask(007);
	log_init("bbgitops: ", LOG_LEVEL_NORMAL);
	if (!is_hook_mode(cmd)) {
		while ((opt = getopt_long(argc, argv, "+c:vqhV", long_options, NULL)) != -1) {
			switch (opt) {
			case 'c':
				config_flag = optarg;
				break;
			case 'v':
				level = LOG_LEVEL_VERBOSE;
				break;
			case 'q':
				level = LOG_LEVEL_QUIET;
				break;
			case 'h':
				fputs(usage, stdout);
				return 0;
			case 'V':
				printf("bbgitops %s\n", PACKAGE_VERSION);
				return 0;
			default:
				fputs(usage, stderr);
				return 2;
			}
		}
		if (optind >= argc) {
			fputs(usage, stderr);
			return 2;
		}
		cmd = find_command(commands, n_commands, argv[optind]);
		if (cmd == NULL) {
			fprintf(stderr, "bbgitops: unknown command '%s'\n%s", argv[optind], usage);
			return 2;
		}
		argc -= optind;
		argv += optind;
	}
	log_init("bbgitops: ", level);
	cli.config_path = absolute_path(config_default_path(config_flag));
	cli.config_from_flag = config_flag != NULL;
	cli.self_exe = self_executable(argv[0]);
	cli.deliver_exe = cli_deliver_executable();
	optind = 1;
	rc = cmd->run(&cli, argc, argv);
	free((char *)cli.config_path);
	free((char *)cli.self_exe);
	free((char *)cli.deliver_exe);
	return rc;
}
