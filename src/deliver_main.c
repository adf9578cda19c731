/*
 * deliver_main.c — the bbgitops-deliver program: drains the outbox into Bytebase. It is bbgitops's network half
 * (libcurl and its TLS, LDAP, Kerberos... stack), kept out of the binary every push runs. bbgitops starts it
 * (launch.c) for `deliver`, after a poll, and from the hook; it also runs by hand or from cron with the same options.
 * Whoever starts it, it ignores SIGPIPE itself (libcurl, with CURLOPT_NOSIGNAL, leaves that to the application;
 * a closed stderr pipe must not kill a delivery) and has fds 0-2 open (cli_main).
 */
#include <signal.h>

#include "commands.h"

static const char usage_text[] =
	"usage: bbgitops-deliver [-c FILE] [-v] [-q] deliver [--now] [--retry ID] [--skip ID] [--deadline SECONDS]\n"
	"       [--retry-comment ID] [--skip-comment ID]\n"
	"       bbgitops-deliver [-c FILE] [-v] [-q] doctor [REPO...] [--json]\n"
	"\n"
	"Delivers queued rollout issues to Bytebase. Usually started by bbgitops (hook, poll or `bbgitops deliver`).\n"
	"Configuration: -c FILE, else $BBGITOPS_CONFIG, else " SYSCONFDIR "/bbgitops.conf\n";

static const struct command commands[] = {
	{ "deliver", cmd_deliver },
	{ "doctor", cmd_doctor },
};

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return cli_main(argc, argv, commands, sizeof(commands) / sizeof(commands[0]), usage_text);
}
