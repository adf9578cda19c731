/*
 * fuzz-bytebase-reply.c — libFuzzer target for Bytebase's JSON replies: version detection, login, and the whole
 * delivery flow of the range the replies pick (steps, specs or release, with every "look up, else create" lookup
 * and the paging behind it), run against replies cut from the input, in order, through http-replay.c. Input:
 * replies separated by a line "--"; a reply that starts with three digits and a newline has that status (else
 * 200). The first reply answers GET /v1/actuator/info, so the input chooses the release range itself.
 */
#include <ctype.h>
#include <stdio.h>

#include "bb_client.h"
#include "bb_flow.h"
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

/* A recorder that keeps nothing and claims every create may have happened, so every lookup runs too. */
static int
rec_record(void *arg, enum bb_object what, const char *name, struct error *err)
{
	(void)arg;
	(void)what;
	(void)err;
	return name != NULL && *name != '\0' ? 0 : -1;
}

static int
rec_sheets(void *arg, const char *json_array, struct error *err)
{
	(void)arg;
	(void)json_array;
	(void)err;
	return 0;
}

static int
rec_set(void *arg, enum bb_object what, struct error *err)
{
	(void)arg;
	(void)what;
	(void)err;
	return 0;
}

static int
rec_get(void *arg, enum bb_object what, bool *set, struct error *err)
{
	(void)arg;
	(void)what;
	(void)err;
	*set = true;
	return 0;
}

static void
job_clear(struct bb_job *job)
{
	size_t i;

	for (i = 0; i < 4; i++) {
		free(job->names[i]);
		job->names[i] = NULL;
	}
	for (i = 0; i < job->n_sheets; i++)
		free(job->sheets[i]);
	job->n_sheets = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char ddl[] = "CREATE TABLE t (id int);\n", dml[] = "INSERT INTO t VALUES (1);\n";
	struct replay_reply replies[FUZZ_MAX_REPLIES];
	char key[] = "bbs_fuzz_key", url[] = "http://bytebase.invalid", account[] = "fuzz@service.bytebase.com";
	char branch[] = "main", base[] = "bytebase", name[] = "hr", project[] = "hr";
	struct bytebase_config cfg = { .url = url, .service_account = account, .service_key = key, .timeout = 5,
		.api = BYTEBASE_API_AUTO };
	/* no databases, no group: targets list the project's databases and their environment order */
	struct repo_config repo = { .name = name, .branch = branch, .base_directory = base, .project = project };
	const struct bb_file files[2] = {
		{ "bytebase/0001_init.sql", "0001", "MIGRATE", ddl, sizeof(ddl) - 1 },
		{ "bytebase/0002_dml_seed.sql", "0002", "DATA", dml, sizeof(dml) - 1 },
	};
	char *sheets[3] = { NULL, NULL, NULL };
	struct bb_job job = { .id = 1, .repo = &repo, .title = "title", .description = "body\n\nbbgitops: hr@main c",
		.marker = "bbgitops:hr@main:0123456789ab", .provenance = "bbgitops: hr@main c", .files = files,
		.n_files = 2, .sheets = sheets };
	const struct bb_recorder rec = { NULL, rec_record, rec_sheets, rec_set, rec_get };
	struct bb_server srv;
	struct error err = ERROR_INIT;
	struct bb *bb = NULL;
	bool pending = false;
	size_t n = split_replies(data, size, replies);

	replay_set(replies, n);
	if (bb_open(&cfg, &bb, &err) != 0)
		abort();
	if (bb_detect(bb, &srv, &err) == 0) {
		bb_server_clear(&srv);
		(void)bb_login(bb, &err);
		(void)bb_flow_deliver(bb, &job, &rec, &pending, &err);
		job_clear(&job);
		job.names[BB_OBJ_PLAN] = strdup("projects/hr/plans/1");
		job.names[BB_OBJ_ISSUE] = strdup("projects/hr/issues/1");
		(void)bb_flow_rollout(bb, &job, &rec, &pending, &err);
		job_clear(&job);
	}
	(void)bb_retry_after(bb);
	(void)bb_last_code(bb);
	bb_close(bb);
	replay_set(NULL, 0);
	return 0;
}
