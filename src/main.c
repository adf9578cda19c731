/*
 * main.c — the bbgitops program: the git side (hooks, poll, backfill, issues, status, check-config,
 * install-hook). `deliver` and `doctor` hand over to bbgitops-deliver, which holds the network stack: this process becomes it
 * (launch.h), with the same configuration, verbosity and arguments.
 */
#include "commands.h"
#include "launch.h"
#include "log.h"

static const char usage_text[] =
	"usage: bbgitops [-c FILE] [-v] [-q] COMMAND [ARGS]\n"
	"\n"
	"  post-receive             hook: ref-update lines on stdin; the repository is $GIT_DIR or the cwd\n"
	"  pre-receive              hook: reject pushes that break the migration naming rules\n"
	"  poll [--daemon] [REPO...] catch up every configured repository, then deliver\n"
	"  backfill REPO [--branch B] [--from REV] [--to REV] [--dry-run] [--json]\n"
	"  deliver [--now] [--retry ID] [--skip ID] [--deadline SECONDS]\n"
	"          [--retry-comment ID] [--skip-comment ID]\n"
	"  issues [--repo R] [--status S] [--json]\n"
	"  status [--json | --prometheus]\n"
	"  check-config             print \"configuration OK\" or every error as FILE:LINE: message\n"
	"  install-hook GIT_DIR [--pre-receive]\n"
	"  state migrate [--to URL [--password-file FILE]]\n"
	"                           copy the SQLite state into PostgreSQL; without --to: update the schema\n"
	"  doctor [REPO...] [--json] verify every credential live: Bytebase login, project, databases; tokens\n"
	"  --help, --version\n"
	"\n"
	"Configuration: -c FILE, else $BBGITOPS_CONFIG, else " SYSCONFDIR "/bbgitops.conf\n";

/* `bbgitops deliver ARGS...` is `bbgitops-deliver -c CONFIG [-v|-q] deliver ARGS...`. */
static int
main_deliver(const struct cli *cli, int argc, char **argv)
{
	struct error err = ERROR_INIT;

	launch_deliver_exec(cli->config_path, argv + 1, argc > 0 ? (size_t)argc - 1 : 0, &err);
	log_warnx("%s", err.msg);
	return 1;
}

/* `bbgitops doctor ARGS...` checks credentials live, so it also runs in bbgitops-deliver. */
static int
main_doctor(const struct cli *cli, int argc, char **argv)
{
	struct error err = ERROR_INIT;

	launch_helper_exec(cli->config_path, "doctor", argv + 1, argc > 0 ? (size_t)argc - 1 : 0, &err);
	log_warnx("%s", err.msg);
	return 1;
}

static const struct command commands[] = {
	{ "post-receive", cmd_post_receive },
	{ "pre-receive", cmd_pre_receive },
	{ "poll", cmd_poll },
	{ "backfill", cmd_backfill },
	{ "deliver", main_deliver },
	{ "issues", cmd_issues },
	{ "status", cmd_status },
	{ "check-config", cmd_check_config },
	{ "install-hook", cmd_install_hook },
	{ "state", cmd_state },
	{ "doctor", main_doctor },
};

int
main(int argc, char **argv)
{
	return cli_main(argc, argv, commands, sizeof(commands) / sizeof(commands[0]), usage_text);
}
