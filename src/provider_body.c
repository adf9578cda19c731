/*
 * provider_body.c — pure: builds and merges the pull request comment (see provider_body.h).
 * Markdown only where every provider renders it alike: a paragraph, a table, code spans; '|' and '`' in paths
 * are neutralised so a file name cannot break the table.
 */
#include "provider_body.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define BODY_END "<!-- /bbgitops -->"

static char *
body_start_marker(const char *issue_name)
{
	return xasprintf("<!-- bbgitops:issue %s -->", issue_name);
}

static void
body_add_cell(struct sbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			sbuf_adds(sb, "\\|");
		else if (*s == '`')
			sbuf_adds(sb, "'");
		else if (*s == '\n' || *s == '\r')
			sbuf_adds(sb, " ");
		else
			sbuf_add(sb, s, 1);
	}
}

char *
provider_body_section(const struct provider_body_issue *issue)
{
	struct sbuf sb = SBUF_INIT;
	char *start = body_start_marker(issue->issue_name);
	size_t i;

	sbuf_addf(&sb, "%s\n", start);
	sbuf_addf(&sb, "This pull request has triggered a Bytebase rollout \xf0\x9f\x9a\x80. "
		"Check out the status at %s.\n\n", issue->issue_url);
	sbuf_adds(&sb, "| Version | Type | File |\n|---|---|---|\n");
	for (i = 0; i < issue->n_files; i++) {
		sbuf_adds(&sb, "| ");
		body_add_cell(&sb, issue->files[i].version);
		sbuf_adds(&sb, " | ");
		body_add_cell(&sb, issue->files[i].type);
		sbuf_adds(&sb, " | `");
		body_add_cell(&sb, issue->files[i].path);
		sbuf_adds(&sb, "` |\n");
	}
	sbuf_adds(&sb, "\nFrom commit `");
	sbuf_add(&sb, issue->commit, strlen(issue->commit) > 12 ? 12 : strlen(issue->commit));
	sbuf_adds(&sb, "` on `");
	body_add_cell(&sb, issue->branch);
	sbuf_adds(&sb, "` of ");
	body_add_cell(&sb, issue->repository);
	sbuf_adds(&sb, ".\n" BODY_END);
	free(start);
	return sbuf_detach(&sb);
}

bool
provider_body_is_ours(const char *body)
{
	if (body == NULL)
		return false;
	while (*body == ' ' || *body == '\n' || *body == '\r' || *body == '\t')
		body++;
	return str_starts_with(body, PROVIDER_BODY_PREFIX);
}

bool
provider_body_has_section(const char *body, const struct provider_body_issue *issue)
{
	char *section = provider_body_section(issue);
	bool has = body != NULL && strstr(body, section) != NULL;

	free(section);
	return has;
}

char *
provider_body_merge(const char *old, const struct provider_body_issue *issue)
{
	struct sbuf sb = SBUF_INIT;
	char *section = provider_body_section(issue), *start = body_start_marker(issue->issue_name);
	const char *at, *end;

	if (!provider_body_is_ours(old) || strstr(old, "<!-- bbgitops:issue ") == NULL) {
		sbuf_addf(&sb, "%s\n\n%s", PROVIDER_BODY_PREFIX, section);
	} else if ((at = strstr(old, start)) != NULL) {
		end = strstr(at, BODY_END);
		sbuf_add(&sb, old, (size_t)(at - old));
		sbuf_adds(&sb, section);
		if (end != NULL)
			sbuf_adds(&sb, end + strlen(BODY_END));
	} else {
		sbuf_adds(&sb, old);
		/* Providers may strip trailing blank lines; normalise to one blank line between sections. */
		while (sb.len > 0 && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == ' '))
			sb.len--;
		sbuf_addf(&sb, "\n\n%s", section);
	}
	free(section);
	free(start);
	return sbuf_detach(&sb);
}
