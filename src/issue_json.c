/*
 * issue_json.c — the JSON object of one issue (design §5), shared by `issues --json` and `backfill --json`.
 * Strings that are not valid UTF-8 (file names are bytes) are shown with U+FFFD; every jansson result is checked.
 */
#include "issue_json.h"

#include <stdlib.h>

#include "issue_text.h"

static json_t *
string_or_null(const char *s)
{
	char *valid;
	json_t *j;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	valid = issue_text_utf8(s);   /* json_string refuses invalid UTF-8 */
	j = json_string(valid);
	free(valid);
	return j;
}

/* json_object_set_new that remembers a failure (NULL value, out of memory) in *ok. */
static void
set(bool *ok, json_t *obj, const char *key, json_t *value)
{
	if (obj == NULL || value == NULL || json_object_set_new(obj, key, value) != 0)
		*ok = false;
}

json_t *
issue_json(const struct state_issue *is)
{
	json_t *obj = json_object(), *files = json_array();
	bool ok = obj != NULL && files != NULL;
	size_t i;

	set(&ok, obj, "id", is->id > 0 ? json_integer(is->id) : json_null());
	set(&ok, obj, "repository", string_or_null(is->repository));
	set(&ok, obj, "branch", string_or_null(is->branch));
	set(&ok, obj, "commit", string_or_null(is->commit));
	set(&ok, obj, "title", string_or_null(is->title));
	set(&ok, obj, "status", string_or_null(is->status));
	set(&ok, obj, "attempts", json_integer(is->attempts));
	set(&ok, obj, "last_error", string_or_null(is->last_error));
	set(&ok, obj, "bytebase_issue", string_or_null(is->bytebase_issue));
	set(&ok, obj, "plan", string_or_null(is->plan_name));
	set(&ok, obj, "release", string_or_null(is->release_name));
	set(&ok, obj, "rollout", string_or_null(is->rollout_name));
	set(&ok, obj, "rollout_pending", json_boolean(is->rollout_pending));
	set(&ok, obj, "rollout_attempts", json_integer(is->rollout_attempts));
	set(&ok, obj, "created_at", is->created_at > 0 ? json_integer(is->created_at) : json_null());
	for (i = 0; i < is->n_files; i++) {
		const struct state_issue_file *f = &is->files[i];

		json_t *jf = json_object();

		set(&ok, jf, "path", string_or_null(f->path));
		set(&ok, jf, "version", string_or_null(f->version));
		set(&ok, jf, "type", string_or_null(f->type));
		set(&ok, jf, "blob", string_or_null(f->blob));
		if (jf == NULL || json_array_append_new(files, jf) != 0)
			ok = false;
	}
	set(&ok, obj, "files", files);
	if (is->comment_status == NULL)
		set(&ok, obj, "comment", json_null());
	else
		set(&ok, obj, "comment", json_pack("{s:s, s:o, s:I, s:o}", "status", is->comment_status,
			"url", string_or_null(is->comment_url), "attempts", (json_int_t)is->comment_attempts,
			"last_error", string_or_null(is->comment_error)));
	if (!ok) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

int
issue_json_print_array(FILE *fp, const struct state_issue *issues, size_t n)
{
	json_t *array = json_array();
	size_t i;
	int rc;

	if (array == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		json_t *one = issue_json(&issues[i]);

		if (one == NULL || json_array_append_new(array, one) != 0) {
			json_decref(array);
			return -1;
		}
	}
	rc = json_dumpf(array, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(array);
	if (rc != 0 || fputc('\n', fp) == EOF || fflush(fp) != 0 || ferror(fp))
		return -1;
	return 0;
}
