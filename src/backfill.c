/* backfill.c — placeholder, being written. */
#include "commands.h"
#include "log.h"

int
cmd_backfill(const struct cli *cli, int argc, char **argv)
{
	(void)cli; (void)argc; (void)argv;
	log_warnx("backfill: not built yet");
	return 1;
}
