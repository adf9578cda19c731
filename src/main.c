/*
 * main.c — argv to command: global options (-c, -v, -q), the hook modes chosen by the program's own name
 * (post-receive, pre-receive), --help and --version. Thin on purpose: every command lives in its own file.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "util.h"

static const char usage_text[] =
	"usage: bbgitops [-c FILE] [-v] [-q] COMMAND [ARGS]\n"
	"\n"
	"  post-receive             hook: ref-update lines on stdin; the repository is $GIT_DIR or the cwd\n"
	"  pre-receive              hook: reject pushes that break the migration naming rules\n"
	"  poll [--daemon] [REPO...] catch up every configured repository, then deliver\n"
	"  backfill REPO [--branch B] [--from REV] [--to REV] [--dry-run] [--json]\n"
	"  deliver [--now] [--retry ID] [--skip ID]\n"
	"  issues [--repo R] [--status S] [--json]\n"
	"  status [--json]\n"
	"  check-config             print \"configuration OK\" or every error as FILE:LINE: message\n"
	"  install-hook GIT_DIR [--pre-receive]\n"
	"  --help, --version\n"
	"\n"
	"Configuration: -c FILE, else $BBGITOPS_CONFIG, else " SYSCONFDIR "/bbgitops.conf\n";

struct command {
	const char *name;
	int (*run)(const struct cli *cli, int argc, char **argv);
};

static const struct command commands[] = {
	{ "post-receive", cmd_post_receive },
	{ "pre-receive", cmd_pre_receive },
	{ "poll", cmd_poll },
	{ "backfill", cmd_backfill },
	{ "deliver", cmd_deliver },
	{ "issues", cmd_issues },
	{ "status", cmd_status },
	{ "check-config", cmd_check_config },
	{ "install-hook", cmd_install_hook },
};

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

/* Absolute path of this executable, for install-hook and the detached deliverer. */
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
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const struct command *cmd = find_command(base);
	enum log_level level = LOG_LEVEL_NORMAL;
	const char *config_flag = NULL;
	struct cli cli = { 0 };
	char *config_path, *self;
	int opt, rc;

	self = self_executable(argv[0]);
	/* State files are shared by the hook's and the poller's users through a group; never world-readable. */
	umask(007);
	log_init("bbgitops: ", LOG_LEVEL_NORMAL);
	if (cmd == NULL || (strcmp(cmd->name, "post-receive") != 0 && strcmp(cmd->name, "pre-receive") != 0)) {
		cmd = NULL;
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
				fputs(usage_text, stdout);
				free(self);
				return 0;
			case 'V':
				printf("bbgitops %s\n", PACKAGE_VERSION);
				free(self);
				return 0;
			default:
				fputs(usage_text, stderr);
				free(self);
				return 2;
			}
		}
		if (optind >= argc) {
			fputs(usage_text, stderr);
			free(self);
			return 2;
		}
		cmd = find_command(argv[optind]);
		if (cmd == NULL) {
			fprintf(stderr, "bbgitops: unknown command '%s'\n%s", argv[optind], usage_text);
			free(self);
			return 2;
		}
		argc -= optind;
		argv += optind;
	}
	log_init("bbgitops: ", level);
	config_path = absolute_path(config_default_path(config_flag));
	cli.config_path = config_path;
	cli.config_from_flag = config_flag != NULL;
	cli.self_exe = self;
	optind = 1;
	rc = cmd->run(&cli, argc, argv);
	free(config_path);
	free(self);
	return rc;
}
