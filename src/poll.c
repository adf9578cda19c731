/* poll.c — placeholder, being written. */
#include "commands.h"
#include "log.h"

int
cmd_poll(const struct cli *cli, int argc, char **argv)
{
	(void)cli; (void)argc; (void)argv;
	log_warnx("poll: not built yet");
	return 1;
}
