/*
 * cmd_deliver.c — `bbgitops deliver [--now] [--retry ID] [--skip ID] [--retry-comment ID] [--skip-comment ID]`:
 * the command line over deliver_run (the -comment forms act on an issue's pull request comment).
 * Exit status (design §5): 0 all due issues delivered, 1 some failed or wait for a retry, 2 usage or configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "deliver.h"
#include "log.h"
#include "util.h"

static const char cmd_deliver_usage_text[] =
	"usage: bbgitops deliver [--now] [--retry ID] [--skip ID] [--retry-comment ID] [--skip-comment ID]\n";

static int
cmd_deliver_usage(void)
{
	fputs(cmd_deliver_usage_text, stderr);
	return 2;
}

static int
cmd_deliver_id(const char *s, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0)
		return -1;
	*out = v;
	return 0;
}

/* Where the ID of --retry, --skip, --retry-comment, --skip-comment (also as --opt=ID) goes; NULL for others. */
static long long *
cmd_deliver_id_option(const char *arg, struct deliver_options *opts)
{
	static const char *const names[] = { "--retry", "--skip", "--retry-comment", "--skip-comment" };
	long long *dests[] = { &opts->retry_id, &opts->skip_id, &opts->retry_comment_id, &opts->skip_comment_id };
	size_t i, n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i]);
		if (strncmp(arg, names[i], n) == 0 && (arg[n] == '\0' || arg[n] == '='))
			return dests[i];
	}
	return NULL;
}

int
cmd_deliver(const struct cli *cli, int argc, char **argv)
{
	struct deliver_options opts = { .now = false, .retry_id = 0, .skip_id = 0, .deadline = 0,
		.wait_for_lock = false };
	struct config *cfg = NULL;
	struct error err = ERROR_INIT;
	const char *arg, *val;
	long long *dest;
	int i, rc, ret = 2;

	/* argv[0] is the command name when the dispatcher passes it. */
	for (i = argc > 0 && strcmp(argv[0], "deliver") == 0 ? 1 : 0; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--now") == 0) {
			opts.now = true;
		} else if ((dest = cmd_deliver_id_option(arg, &opts)) != NULL) {
			val = strchr(arg, '=');
			if (val != NULL)
				val++;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return cmd_deliver_usage();
			if (cmd_deliver_id(val, dest) < 0) {
				log_warnx("deliver: %s: not an issue id", val);
				return cmd_deliver_usage();
			}
		} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			fputs(cmd_deliver_usage_text, stdout);
			return 0;
		} else {
			log_warnx("deliver: unknown argument %s", arg);
			return cmd_deliver_usage();
		}
	}
	/*
	 * Plain `deliver` (cron, or detached from the hook) leaves the work to a deliverer already running: it takes
	 * new issues before it stops. An operator's --now, --retry or --skip waits for its turn instead.
	 */
	opts.wait_for_lock = opts.now || opts.retry_id > 0 || opts.skip_id > 0 || opts.retry_comment_id > 0 ||
		opts.skip_comment_id > 0;
	if (cli_load_config(cli, &cfg) != 0)
		return 2;
	if (cfg->bytebase == NULL && opts.retry_id > 0) {
		log_warnx("deliver: no bytebase section in %s: issue %lld stays local", cfg->file, opts.retry_id);
		goto out;
	}
	if (cfg->bytebase == NULL && opts.skip_id == 0 && opts.skip_comment_id == 0) {
		log_info("no bytebase section: nothing to deliver");
		ret = 0;
		goto out;
	}
	rc = deliver_run(cfg, &opts, &err);
	if (rc < 0) {
		log_warnx("deliver: %s", err.msg);
		ret = 1;
	} else {
		ret = rc;
	}
out:
	config_free(cfg);
	return ret;
}
