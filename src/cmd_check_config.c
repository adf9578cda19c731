/*
 * cmd_check_config.c — `bbgitops check-config`: parse and validate everything, secrets' permissions included,
 * then print "configuration OK" or every problem as FILE:LINE: message (exit 2).
 */
#include <stdio.h>

#include "commands.h"
#include "util.h"

int
cmd_check_config(const struct cli *cli, int argc, char **argv)
{
	struct strlist errors = STRLIST_INIT;
	struct config *cfg = NULL;
	size_t i;
	int rc = 0;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: bbgitops [-c FILE] check-config\n");
		return 2;
	}
	if (config_load(cli->config_path, &cfg, &errors) == 0) {
		config_check_secrets(cfg, &errors);
		for (i = 0; i < cfg->warnings.len; i++)
			fprintf(stderr, "%s\n", cfg->warnings.items[i]);
	}
	if (errors.len > 0) {
		for (i = 0; i < errors.len; i++)
			fprintf(stderr, "%s\n", errors.items[i]);
		rc = 2;
	} else {
		printf("configuration OK\n");
	}
	strlist_clear(&errors);
	config_free(cfg);
	return rc;
}
