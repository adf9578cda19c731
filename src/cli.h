/*
 * cli.h — the command-line frame shared by the two executables: bbgitops (git side: hooks, poll, backfill,
 * issues, ...; no libcurl, so a push pays for as few shared libraries as possible) and bbgitops-deliver (the
 * Bytebase side: libcurl, no libgit2). Like git's git-remote-https, the network stack lives in its own program.
 */
#ifndef BBGITOPS_CLI_H
#define BBGITOPS_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "error.h"
#include "state.h"

/* What every command gets from the frame. Owned by cli_main. */
struct cli {
	char *config_path;         /* absolute: -c, $BBGITOPS_CONFIG or the default */
	bool config_from_flag;     /* -c was given */
	char *self_exe;            /* absolute path of this program (install-hook writes it), NULL if unknown */
};

/*
 * A command: RUN gets argc/argv with argv[0] the command's name (or the program's name in hook mode), so it
 * parses its options with getopt_long from argv[1] on, optind reset to 1 by the frame.
 */
struct command {
	const char *name;
	int (*run)(const struct cli *cli, int argc, char **argv);
};

/*
 * Makes sure fds 0-2 are open, parses the global options (-c FILE, -v, -q, --help, --version), picks the command
 * (or the hook mode named by the program's own file name), and runs it. Returns the exit status.
 */
int cli_main(int argc, char **argv, const struct command *commands, size_t n_commands, const char *usage);

/* Loads the configuration, printing every error; returns 0, or 2 after printing. */
int cli_load_config(const struct cli *cli, struct config **out);

#endif
