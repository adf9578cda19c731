/*
 * main.c — the bbgitops program: the git side (hooks, poll, backfill, issues, status, check-config,
 * install-hook). `deliver` hands over to bbgitops-deliver, which holds the network stack.
 */
#include "cli.h"

static const char usage_text[] =
	"usage: bbgitops [-c FILE] [-v] [-q] COMMAND [ARGS]\n"
	"\n"
	"  post-receive             hook: ref-update lines on stdin; the repository is $GIT_DIR or the cwd\n"
	"  pre-receive              hook: reject pushes that break the migration naming rules\n"
	"  poll [--daemon] [REPO...] catch up every configured repository, then deliver\n"
	"  backfill REPO [--branch B] [--from REV] [--to REV] [--dry-run] [--json]\n"
	"  deliver [--now] [--retry ID] [--skip ID]\n"
	"  issues [--repo R] [--status S] [--json]\n"
	"  status [--json | --prometheus]\n"
	"  check-config             print \"configuration OK\" or every error as FILE:LINE: message\n"
	"  install-hook GIT_DIR [--pre-receive]\n"
	"  --help, --version\n"
	"\n"
	"Configuration: -c FILE, else $BBGITOPS_CONFIG, else " SYSCONFDIR "/bbgitops.conf\n";

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
main(int argc, char **argv)
{
	return cli_main(argc, argv, commands, sizeof(commands) / sizeof(commands[0]), usage_text);
}
