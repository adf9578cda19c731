/*
 * commands.h — one entry point per subcommand. Each returns the process exit status (design §5):
 * 0 success, 1 something failed (the rest still ran), 2 usage or configuration error.
 */
#ifndef BBGITOPS_COMMANDS_H
#define BBGITOPS_COMMANDS_H

#include "config.h"
#include "state.h"

struct cli {
	const char *config_path;   /* resolved: -c, $BBGITOPS_CONFIG or the default */
	bool config_from_flag;     /* -c was given */
	const char *self_exe;      /* absolute path of this binary (for install-hook) */
	const char *deliver_exe;   /* absolute path of bbgitops-deliver, beside it */
};

/* Loads the configuration, printing every error; returns 0, or 2 after printing. */
int cli_load_config(const struct cli *cli, struct config **out);

/* Opens the state database only when it exists (read-only commands must not create one); *out NULL otherwise. */
int cli_open_existing_state(const struct config *cfg, struct state **out, bool *exists, struct error *err);

int cmd_post_receive(const struct cli *cli, int argc, char **argv);
int cmd_pre_receive(const struct cli *cli, int argc, char **argv);
int cmd_poll(const struct cli *cli, int argc, char **argv);
int cmd_backfill(const struct cli *cli, int argc, char **argv);
int cmd_deliver(const struct cli *cli, int argc, char **argv);
int cmd_issues(const struct cli *cli, int argc, char **argv);
int cmd_status(const struct cli *cli, int argc, char **argv);
int cmd_check_config(const struct cli *cli, int argc, char **argv);
int cmd_install_hook(const struct cli *cli, int argc, char **argv);
int cmd_doctor(const struct cli *cli, int argc, char **argv);   /* bbgitops-deliver; bbgitops hands over */

#endif
