/*
 * issue_json.h — the JSON shape of an issue (design §5), shared by `issues --json` and `backfill --json`.
 */
#ifndef BBGITOPS_ISSUE_JSON_H
#define BBGITOPS_ISSUE_JSON_H

#include <jansson.h>
#include <stdio.h>

#include "state.h"

/*
 * A new JSON object for the issue (NULL when jansson fails); id <= 0 and status NULL are printed as null, text
 * that is not valid UTF-8 with U+FFFD.
 */
json_t *issue_json(const struct state_issue *issue);

/* Writes a JSON array of the issues to fp, followed by a newline. Returns 0, or -1 on a write error. */
int issue_json_print_array(FILE *fp, const struct state_issue *issues, size_t n);

#endif
