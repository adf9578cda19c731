/*
 * bb_flow.c — what every flow shares: the exactly-once step (look up, else create, record the name), the flow
 * chosen by release range, and the cutting of titles and descriptions to Bytebase's limits.
 */
#include "bb_flow.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static const char *const bb_object_names[] = {
	[BB_OBJ_RELEASE] = "release",
	[BB_OBJ_PLAN] = "plan",
	[BB_OBJ_ISSUE] = "issue",
	[BB_OBJ_ROLLOUT] = "rollout",
};

int
bb_ensure_once(struct bb_run *run, enum bb_object what, bb_step_fn find, bb_step_fn create, void *arg,
	struct error *err)
{
	char **slot = &run->job->names[what];
	char *name = NULL;
	bool inflight = false;

	if (*slot != NULL)
		return 0;
	if (run->rec->inflight_get(run->rec->arg, what, &inflight, err) < 0)
		return -1;
	if (inflight && find != NULL) {
		if (find(run, arg, &name, err) < 0)
			return error_prefix(err, "looking up an earlier %s", bb_object_names[what]);
		if (name != NULL)
			log_info("issue %lld: found %s %s created by an interrupted run", run->job->id,
				bb_object_names[what], name);
	}
	if (name == NULL) {
		if (run->rec->inflight_set(run->rec->arg, what, err) < 0)
			return -1;
		if (create(run, arg, &name, err) < 0) {
			/* 409: it exists (an earlier reply was lost); find it. */
			if (err->http_status != 409 || find == NULL)
				return -1;
			error_clear(err);
			if (find(run, arg, &name, err) < 0)
				return error_prefix(err, "looking up the existing %s", bb_object_names[what]);
			if (name == NULL)
				return error_set(err, true, "Bytebase says the %s exists, but the lookup does not find it",
					bb_object_names[what]);
		}
		if (name == NULL)
			return 0;   /* not created now (a rollout waiting for approval) */
	}
	if (run->rec->record(run->rec->arg, what, name, err) < 0) {
		free(name);
		return -1;
	}
	*slot = name;
	return 0;
}

int
bb_flow_deliver(struct bb *bb, struct bb_job *job, const struct bb_recorder *rec, bool *rollout_pending,
	struct error *err)
{
	struct bb_run run = { bb, job, rec };

	*rollout_pending = false;
	switch (bb_current_range(bb)) {
	case BB_RANGE_2_15:
	case BB_RANGE_2_17:
	case BB_RANGE_3_6:
		return bb_flow_steps_deliver(&run, rollout_pending, err);
	case BB_RANGE_3_7:
		return bb_flow_specs_deliver(&run, rollout_pending, err);
	case BB_RANGE_3_14:
		return bb_flow_release_deliver(&run, rollout_pending, err);
	case BB_RANGE_UNKNOWN:
		break;
	}
	return error_set(err, false, "the Bytebase release range is not settled");
}

int
bb_flow_rollout(struct bb *bb, struct bb_job *job, const struct bb_recorder *rec, bool *rollout_pending,
	struct error *err)
{
	struct bb_run run = { bb, job, rec };

	*rollout_pending = false;
	if (job->names[BB_OBJ_PLAN] == NULL)
		return error_set(err, false, "no plan recorded: nothing to roll out");
	/* Only the 3.14+ flow waits for approval before the rollout exists; the others create it at once. */
	if (bb_current_range(bb) == BB_RANGE_3_14)
		return bb_flow_release_rollout(&run, rollout_pending, err);
	return bb_flow_deliver(bb, job, rec, rollout_pending, err);
}

/* Bytes of the first MAX code points of S (all of it when shorter); *cut: S is longer. */
static size_t
bb_prefix_chars(const char *s, size_t max, bool *cut)
{
	size_t i = 0, chars = 0;

	while (s[i] != '\0') {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (chars == max)
				break;
			chars++;
		}
		i++;
	}
	*cut = s[i] != '\0';
	return i;
}

static size_t
bb_count_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

char *
bb_cut_text(const char *s, size_t max)
{
	size_t n;
	bool cut;
	char *out;

	if (s == NULL)
		return xstrdup("");
	bb_prefix_chars(s, max, &cut);
	if (!cut || max == 0)
		return xstrdup(s);
	n = bb_prefix_chars(s, max - 1, &cut);
	out = xmalloc(n + 4);
	memcpy(out, s, n);
	memcpy(out + n, "\xE2\x80\xA6", 4);   /* U+2026 and the NUL */
	return out;
}

char *
bb_cut_description(const char *body, size_t max)
{
	const char *last;
	size_t last_chars, head_bytes;
	char *head, *cut, *out;

	if (body == NULL)
		return xstrdup("");
	if (bb_count_chars(body) <= max)
		return xstrdup(body);
	last = strrchr(body, '\n');
	last = last != NULL ? last + 1 : body;
	last_chars = bb_count_chars(last);
	if (last == body || last_chars + 2 >= max)
		return bb_cut_text(body, max);
	/* The head, cut, then a blank line and the provenance line, whole: lookups search for it. */
	head_bytes = (size_t)(last - body);
	head = xstrndup(body, head_bytes);
	cut = bb_cut_text(head, max - last_chars - 2);
	out = xasprintf("%s\n\n%s", cut, last);
	free(cut);
	free(head);
	return out;
}
