/* spawn.c — placeholder, being written. */
#include "spawn.h"

int
spawn_detached_deliver(const char *self_exe, const char *config_path)
{
	(void)self_exe;
	(void)config_path;
	return 0;
}
