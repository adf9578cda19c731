/*
 * issue_json.c — the JSON object of one issue (design §5), shared by `issues --json` and `backfill --json`.
 */
#include "issue_json.h"

#include <stdlib.h>

#include "util.h"

/* Commit text and paths are bytes in git: text that is not UTF-8 is shown with U+FFFD rather than dropped. */
static json_t *
string_or_null(const char *s)
{
	json_t *v;
	char *clean;

	if (s == NULL)
		return json_null();
	if ((v = json_string(s)) != NULL)
		return v;
	clean = str_utf8_clean(s);
	v = json_string(clean);
	free(clean);
	return v;
}

json_t *
issue_json(const struct state_issue *is)
{
	json_t *obj = json_object(), *files = json_array();
	size_t i;

	json_object_set_new(obj, "id", is->id > 0 ? json_integer(is->id) : json_null());
	json_object_set_new(obj, "repository", string_or_null(is->repository));
	json_object_set_new(obj, "branch", string_or_null(is->branch));
	json_object_set_new(obj, "commit", string_or_null(is->commit));
	json_object_set_new(obj, "title", string_or_null(is->title));
	json_object_set_new(obj, "status", string_or_null(is->status));
	json_object_set_new(obj, "attempts", json_integer(is->attempts));
	json_object_set_new(obj, "last_error", string_or_null(is->last_error));
	json_object_set_new(obj, "bytebase_issue", string_or_null(is->bytebase_issue));
	json_object_set_new(obj, "plan", string_or_null(is->plan_name));
	json_object_set_new(obj, "release", string_or_null(is->release_name));
	json_object_set_new(obj, "rollout", string_or_null(is->rollout_name));
	json_object_set_new(obj, "rollout_pending", json_boolean(is->rollout_pending));
	json_object_set_new(obj, "rollout_attempts", json_integer(is->rollout_attempts));
	json_object_set_new(obj, "created_at", is->created_at > 0 ? json_integer(is->created_at) : json_null());
	for (i = 0; i < is->n_files; i++) {
		const struct state_issue_file *f = &is->files[i];

		json_array_append_new(files, json_pack("{s:o, s:o, s:o, s:o}", "path", string_or_null(f->path),
			"version", string_or_null(f->version), "type", string_or_null(f->type), "blob",
			string_or_null(f->blob)));
	}
	json_object_set_new(obj, "files", files);
	if (is->comment_status == NULL)
		json_object_set_new(obj, "comment", json_null());
	else
		json_object_set_new(obj, "comment", json_pack("{s:s, s:o, s:I, s:o}", "status", is->comment_status,
			"url", string_or_null(is->comment_url), "attempts", (json_int_t)is->comment_attempts,
			"last_error", string_or_null(is->comment_error)));
	return obj;
}

int
issue_json_print_array(FILE *fp, const struct state_issue *issues, size_t n)
{
	json_t *array = json_array();
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		json_array_append_new(array, issue_json(&issues[i]));
	rc = json_dumpf(array, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(array);
	if (rc != 0 || fputc('\n', fp) == EOF || fflush(fp) != 0 || ferror(fp))
		return -1;
	return 0;
}
