/* cmd_deliver.c — placeholder, being written. */
#include "commands.h"
#include "log.h"

int
cmd_deliver(const struct cli *cli, int argc, char **argv)
{
	(void)cli; (void)argc; (void)argv;
	log_warnx("deliver: not built yet");
	return 1;
}
