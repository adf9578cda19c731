/*
 * fuzz-provider-reply.c — libFuzzer target for the Git provider APIs' JSON replies: the first input byte picks the
 * provider (GitHub, GitLab, Bitbucket, Azure DevOps, Gitea) and whether the commit fallback is allowed; the rest
 * are the replies, in order (as in fuzz-bytebase-reply: separated by a line "--", optional status line, and the
 * header lines http-replay.c knows). provider_comment (lookup, pagination, upsert) then provider_check run on them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "http-replay.h"
#include "log.h"
#include "provider.h"

#define FUZZ_MAX_REPLIES 64

static char token_path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	log_init("fuzz: ", LOG_LEVEL_QUIET);
	snprintf(token_path, sizeof(token_path), "/tmp/fuzz-provider-token.XXXXXX");
	fd = mkstemp(token_path);    /* mode 600 */
	if (fd < 0 || write(fd, "fuzz-token\n", 11) != 11)
		abort();
	close(fd);
	return 0;
}

static size_t
split_replies(const uint8_t *data, size_t size, struct replay_reply *out)
{
	const char *p = (const char *)data, *end = p + size;
	size_t n = 0;

	while (p <= end && n < FUZZ_MAX_REPLIES) {
		const char *sep = memmem(p, (size_t)(end - p), "\n--\n", 4);
		const char *stop = sep != NULL ? sep : end;
		struct replay_reply *r = &out[n++];

		r->status = 200;
		r->retry_after = -1;
		if (stop - p >= 4 && isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) &&
		    isdigit((unsigned char)p[2]) && p[3] == '\n') {
			r->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
			if (r->status == 429)
				r->retry_after = 1;
			p += 4;
		}
		r->body = p;
		r->len = (size_t)(stop - p);
		if (sep == NULL)
			break;
		p = sep + 4;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		enum provider kind;
		const char *url;
		const char *api;
	} targets[] = {
		{ PROVIDER_GITHUB, "https://github.com/acme/hr.git", "http://provider.invalid/github" },
		{ PROVIDER_GITLAB, "https://gitlab.com/group/sub/hr.git", "http://provider.invalid/gitlab/api/v4" },
		{ PROVIDER_BITBUCKET, "git@bitbucket.org:ws/hr.git", "http://provider.invalid/2.0" },
		{ PROVIDER_AZURE, "https://dev.azure.com/acme/Data%20Team/_git/hr", "http://provider.invalid/acme" },
		{ PROVIDER_GITEA, "https://gitea.example.com/acme/hr.git", "http://provider.invalid/api/v1" },
	};
	static const struct provider_body_file files[] = { { "bytebase/0001_init.sql", "0001", "MIGRATE" } };
	struct provider_body_issue issue = { "projects/hr/issues/1", "http://bytebase.invalid/projects/hr/issues/1",
		"hr", "main", "0123456789abcdef0123456789abcdef01234567", files, 1 };
	struct replay_reply replies[FUZZ_MAX_REPLIES];
	struct repo_config rc = { 0 };
	struct provider_comment_request req = { &issue, "main", issue.commit, false };
	struct provider_comment_result res = { NULL, false };
	struct provider_check chk;
	struct provider_client *pc = NULL;
	struct http_options hopts = { "", 5, NULL };
	struct http *h = NULL;
	struct error err = ERROR_INIT;
	size_t n, t;

	if (size < 1)
		return 0;
	t = (size_t)(data[0] % 5);
	req.fallback = (data[0] & 0x80) != 0;
	n = split_replies(data + 1, size - 1, replies);
	rc.name = (char *)"hr";
	rc.url = (char *)targets[t].url;
	rc.api_url = (char *)targets[t].api;
	rc.provider = targets[t].kind;
	rc.token_file = token_path;
	rc.comment = true;
	replay_set(replies, n);
	if (http_open(&hopts, &h, &err) != 0 || provider_open(&rc, h, &pc, &err) != 0)
		abort();
	if (provider_comment(pc, &req, &res, &err) == 0 && res.url == NULL)
		abort();    /* success always names where the comment is */
	provider_comment_result_clear(&res);
	(void)provider_retry_after(pc);
	(void)provider_check(pc, &chk, &err);
	provider_close(pc);
	http_close(h);
	replay_set(NULL, 0);
	return 0;
}
