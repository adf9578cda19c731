/*
 * hook_input.c — the ref-update lines git writes on a hook's stdin ("OLD NEW REF"), parsed strictly. Whatever else
 * arrives there (garbage, binary, a misused hook) is counted and reported in one line, never echoed line by line
 * to the pusher.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook_front.h"
#include "log.h"
#include "util.h"

/* "OLD NEW REF": two 40-hex ids and a ref name without spaces or control bytes. */
static bool
hook_parse_line(const char *line, size_t n, struct ref_update *u)
{
	const char *ref = line + 2 * HOOK_OID_HEXSZ + 2;
	size_t i;

	if (n <= 2 * HOOK_OID_HEXSZ + 2 || line[HOOK_OID_HEXSZ] != ' ' || line[2 * HOOK_OID_HEXSZ + 1] != ' ')
		return false;
	memcpy(u->old_hex, line, HOOK_OID_HEXSZ);
	u->old_hex[HOOK_OID_HEXSZ] = '\0';
	memcpy(u->new_hex, line + HOOK_OID_HEXSZ + 1, HOOK_OID_HEXSZ);
	u->new_hex[HOOK_OID_HEXSZ] = '\0';
	if (!str_is_hex_oid(u->old_hex) || !str_is_hex_oid(u->new_hex))
		return false;
	for (i = 0; ref + i < line + n; i++)
		if ((unsigned char)ref[i] <= ' ' || ref[i] == 0x7f)
			return false;
	return true;
}

size_t
hook_read_updates(FILE *in, struct ref_update **out)
{
	struct ref_update *updates = NULL;
	size_t len = 0, cap = 0, lineno = 0, bad = 0, first_bad = 0;
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t n;

	while ((n = getline(&line, &line_cap, in)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			updates = xrealloc(updates, cap * sizeof(*updates));
		}
		/* a NUL inside the line shortens it: strlen, not n, is what the ref can be */
		if (strlen(line) != (size_t)n || !hook_parse_line(line, (size_t)n, &updates[len])) {
			if (bad++ == 0)
				first_bad = lineno;
			continue;
		}
		updates[len].ref = xstrdup(line + 2 * HOOK_OID_HEXSZ + 2);
		len++;
	}
	free(line);
	if (bad > 0)
		log_warnx("ignoring %zu malformed ref update line%s on stdin (first: line %zu); expected "
			"\"OLD-ID NEW-ID REF\" as git writes it", bad, bad == 1 ? "" : "s", first_bad);
	*out = updates;
	return len;
}

void
hook_updates_free(struct ref_update *updates, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(updates[i].ref);
	free(updates);
}
