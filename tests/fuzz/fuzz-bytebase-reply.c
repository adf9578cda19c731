/*
 * fuzz-bytebase-reply.c — libFuzzer target for Bytebase's JSON replies: every call of bytebase.h (login, version,
 * targets, engines, sheets, plans, issues, releases, rollouts, lookups with paging) runs against replies cut from
 * the input, in order, through http-replay.c. Input: replies separated by a line "--"; a reply that starts with
 * three digits and a newline has that status (else 200).
 */
#include <ctype.h>
#include <stdio.h>

#include "bytebase.h"
#include "fuzz.h"
#include "http-replay.h"
#include "log.h"

#define FUZZ_MAX_REPLIES 64

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz: ", LOG_LEVEL_QUIET);
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

static void
run_calls(struct bb *bb, const struct repo_config *repo)
{
	static const char content[] = "CREATE TABLE t (id int);\n";
	struct bb_file file = { "bytebase/0001_init.sql", "0001", "MIGRATE", content, sizeof(content) - 1 };
	struct error err = ERROR_INIT;
	const struct bb_targets *targets = NULL;
	const char *engine = NULL;
	enum bb_dialect dialect;
	char *s = NULL, *s2 = NULL, *version = NULL;
	char *sheets[1] = { NULL };
	bool pending = false;

	(void)bb_login(bb, &err);
	if (bb_dialect(bb, &dialect, &version, &err) == 0)
		free(version);
	if (bb_targets(bb, repo, &targets, &err) != 0)
		targets = NULL;
	(void)bb_engine(bb, repo, &engine, &err);
	if (bb_create_sheet(bb, "hr", &file, "POSTGRES", &sheets[0], &err) == 0 && targets != NULL) {
		if (bb_create_plan_v2(bb, "hr", "title", targets, &file, sheets, 1, &s, &err) == 0) {
			if (bb_create_rollout_v2(bb, "hr", s, &s2, &err) == 0)
				free(s2);
			s2 = NULL;
			if (bb_find_issue_v2(bb, "hr", "bbgitops: hr@main abc", s, &s2, &err) == 0)
				free(s2);
			free(s);
		}
	}
	free(sheets[0]);
	s = s2 = NULL;
	if (bb_issue_rollout(bb, "projects/hr/issues/1", &s, &err) == 0)
		free(s);
	s = NULL;
	if (bb_create_issue(bb, "hr", "title", "description", "projects/hr/plans/1", "bbgitops", &s, &err) == 0)
		free(s);
	s = NULL;
	if (bb_create_release(bb, "hr", &file, 1, &s, &err) == 0) {
		if (targets != NULL && bb_create_plan_v3(bb, "hr", "marker", "description", targets, s, &s2, &err) == 0)
			free(s2);
		free(s);
	}
	s = s2 = NULL;
	if (bb_find_plan_v3(bb, "hr", "marker", &s, &s2, &err) == 0) {
		free(s);
		free(s2);
	}
	s = NULL;
	if (bb_plan_issue(bb, "projects/hr/plans/1", &s, &err) == 0)
		free(s);
	s = NULL;
	if (bb_create_rollout_v3(bb, "projects/hr/plans/1", &s, &pending, &err) == 0)
		free(s);
	(void)bb_retry_after(bb);
	(void)bb_last_code(bb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct replay_reply replies[FUZZ_MAX_REPLIES];
	char key[] = "bbs_fuzz_key", url[] = "http://bytebase.invalid", account[] = "fuzz@service.bytebase.com";
	char branch[] = "main", base[] = "bytebase", name[] = "hr", project[] = "hr";
	struct bytebase_config cfg = { .url = url, .service_account = account, .service_key = key, .timeout = 5,
		.api = BYTEBASE_API_AUTO };
	/* no databases, no group: bb_targets lists the project's databases and their environments */
	struct repo_config repo = { .name = name, .branch = branch, .base_directory = base, .project = project };
	struct error err = ERROR_INIT;
	struct bb *bb = NULL;
	size_t n = split_replies(data, size, replies);

	replay_set(replies, n);
	if (bb_open(&cfg, &bb, &err) != 0)
		abort();
	run_calls(bb, &repo);
	bb_close(bb);
	replay_set(NULL, 0);
	return 0;
}
