/*
 * cli.h — the command-line frame shared by the two executables: bbgitops (git side: hooks, poll, backfill,
 * issues, ...; no libcurl, so a push pays for as few shared libraries as possible) and bbgitops-deliver (the
 * Bytebase side: libcurl, no libgit2). Like git's git-remote-https, the network stack lives in its own program.
 */
#ifndef BBGITOPS_CLI_H
#define BBGITOPS_CLI_H

#include "commands.h"

struct command {
	const char *name;
	int (*run)(const struct cli *cli, int argc, char **argv);
};

/*
 * Parses the global options (-c FILE, -v, -q, --help, --version), picks the command (or the hook mode named by
 * the program's own file name), and runs it. Returns the exit status.
 */
int cli_main(int argc, char **argv, const struct command *commands, size_t n_commands, const char *usage);

/* Path of the bbgitops-deliver program beside this executable (caller frees). */
char *cli_deliver_executable(void);

#endif
