/*
 * cmd_deliver.c — `bbgitops-deliver deliver [--now] [--retry ID] [--skip ID] [--deadline SECONDS] [--retry-comment ID]
 * [--skip-comment ID]`: the command line over deliver_run (`bbgitops deliver` execs this, launch.h); the -comment
 * forms act on an issue's pull request comment. Exit status (design §5): 0 all due issues delivered, 1 some failed
 * or wait for a retry, 2 usage or configuration.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "deliver.h"
#include "log.h"
#include "util.h"

static const char cmd_deliver_usage_text[] =
	"usage: bbgitops deliver [--now] [--retry ID] [--skip ID] [--deadline SECONDS]\n"
	"                        [--retry-comment ID] [--skip-comment ID]\n";

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

/* SECONDS from now, as a time_monotonic() deadline: no new call starts after it, and calls in flight end by it. */
static int
cmd_deliver_deadline(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0)
		return -1;
	*out = time_monotonic() + v;
	return 0;
}

int
cmd_deliver(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "now", no_argument, NULL, 'n' },
		{ "retry", required_argument, NULL, 'r' },
		{ "skip", required_argument, NULL, 's' },
		{ "deadline", required_argument, NULL, 'd' },
		{ "retry-comment", required_argument, NULL, 'R' },
		{ "skip-comment", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct deliver_options opts = { .now = false, .retry_id = 0, .skip_id = 0, .deadline = 0,
		.wait_for_lock = false };
	struct config *cfg = NULL;
	struct error err = ERROR_INIT;
	int opt, rc, ret = 2;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			opts.now = true;
			break;
		case 'r':
		case 's':
		case 'R':
		case 'S':
			if (cmd_deliver_id(optarg, opt == 'r' ? &opts.retry_id : opt == 's' ? &opts.skip_id :
			    opt == 'R' ? &opts.retry_comment_id : &opts.skip_comment_id) < 0) {
				log_warnx("deliver: %s: not an issue id", optarg);
				return cmd_deliver_usage();
			}
			break;
		case 'd':
			if (cmd_deliver_deadline(optarg, &opts.deadline) < 0) {
				log_warnx("deliver: %s: not a positive number of seconds", optarg);
				return cmd_deliver_usage();
			}
			break;
		case 'h':
			fputs(cmd_deliver_usage_text, stdout);
			return 0;
		default:
			return cmd_deliver_usage();
		}
	}
	if (optind < argc) {
		log_warnx("deliver: unknown argument %s", argv[optind]);
		return cmd_deliver_usage();
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
