/*
 * commands.h — one entry point per subcommand, called by cli_main with argv[0] the command's name (getopt_long
 * style: options start at argv[1]). Each returns the process exit status (design §5): 0 success, 1 something
 * failed (the rest still ran), 2 usage or configuration error.
 */
#ifndef BBGITOPS_COMMANDS_H
#define BBGITOPS_COMMANDS_H

#include "cli.h"

int cmd_post_receive(const struct cli *cli, int argc, char **argv);
int cmd_pre_receive(const struct cli *cli, int argc, char **argv);
int cmd_poll(const struct cli *cli, int argc, char **argv);
int cmd_backfill(const struct cli *cli, int argc, char **argv);
int cmd_deliver(const struct cli *cli, int argc, char **argv);
int cmd_issues(const struct cli *cli, int argc, char **argv);
int cmd_status(const struct cli *cli, int argc, char **argv);
int cmd_check_config(const struct cli *cli, int argc, char **argv);
int cmd_install_hook(const struct cli *cli, int argc, char **argv);
int cmd_state(const struct cli *cli, int argc, char **argv);
int cmd_doctor(const struct cli *cli, int argc, char **argv);   /* bbgitops-deliver; bbgitops hands over */

#endif
