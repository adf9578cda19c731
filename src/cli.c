/*
 * cli.c — the shared command-line frame: global options, the command table, the hook modes chosen by the
 * program's name, the config path made absolute, and the helpers every command uses to load configuration and
 * state.
 */
#include "cli.h"

#include <fcntl.h>
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

/*
 * Absolute path of this program, for install-hook: the kernel's answer, else ARGV0 (the program's own argv[0],
 * before any shift) when it is a path. NULL when unknown: a bare name says nothing about where the program is.
 */
static char *
cli_self_exe(const char *argv0)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n > 0) {
		buf[n] = '\0';
		return xstrdup(buf);
	}
	if (strchr(argv0, '/') != NULL && realpath(argv0, buf) != NULL)
		return xstrdup(buf);
	return NULL;
}

/* Descriptors 0-2 open, whoever started us (hooks and cron may close them): else the first file we open would
 * become stdout or stderr and receive our messages (curl's main_checkfds does the same). */
static void
cli_check_fds(void)
{
	int fd;

	while (fcntl(STDIN_FILENO, F_GETFD) < 0 || fcntl(STDOUT_FILENO, F_GETFD) < 0 ||
	    fcntl(STDERR_FILENO, F_GETFD) < 0) {
		fd = open("/dev/null", O_RDWR);
		if (fd < 0)
			return;
		if (fd > STDERR_FILENO) {
			close(fd);
			return;
		}
	}
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
	const char *config_flag = NULL, *argv0 = argv[0];
	struct cli cli = { 0 };
	int opt, rc = 2;

	cli_check_fds();
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
			log_warnx("unknown command '%s'", argv[optind]);
			fputs(usage, stderr);
			return 2;
		}
		argc -= optind;
		argv += optind;
	}
	log_init("bbgitops: ", level);
	cli.config_path = absolute_path(config_default_path(config_flag));
	cli.config_from_flag = config_flag != NULL;
	cli.self_exe = cli_self_exe(argv0);
	/*
	 * The command parses its own options from argv[1] ("+" above left them alone). optind = 0, not 1: glibc then
	 * starts afresh, so the command's getopt_long permutes (options after operands) instead of keeping our "+".
	 */
	optind = 0;
	rc = cmd->run(&cli, argc, argv);
	free(cli.config_path);
	free(cli.self_exe);
	return rc;
}
