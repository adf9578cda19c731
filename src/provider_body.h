/*
 * provider_body.h — pure: the text of our pull request comment. It starts with Bytebase's own prefix
 * "**[Bytebase Bot]**" (so a comment Bytebase itself posted is updated, not duplicated) and holds one section per
 * rollout issue, each between hidden markers, so a second issue of the same pull request adds its section and a
 * repeated delivery of the same issue rewrites its own section: merging is idempotent.
 */
#ifndef BBGITOPS_PROVIDER_BODY_H
#define BBGITOPS_PROVIDER_BODY_H

#include <stdbool.h>
#include <stddef.h>

#define PROVIDER_BODY_PREFIX "**[Bytebase Bot]**"

struct provider_body_file {
	const char *path;
	const char *version;
	const char *type;
};

struct provider_body_issue {
	const char *issue_name;   /* "projects/hr/issues/12": the section key */
	const char *issue_url;    /* "https://bytebase.example.com/projects/hr/issues/12" */
	const char *repository;
	const char *branch;
	const char *commit;       /* 40 hex digits */
	const struct provider_body_file *files;
	size_t n_files;
};

/* The section of one issue, markers included. Caller frees. */
char *provider_body_section(const struct provider_body_issue *issue);

/*
 * The comment after delivering ISSUE: OLD (our earlier comment, or NULL) with the issue's section replaced or
 * appended; an OLD without our sections (Bytebase's own) is replaced. Caller frees.
 */
char *provider_body_merge(const char *old, const struct provider_body_issue *issue);

/* Is BODY ours (starts with the prefix, leading blanks ignored)? */
bool provider_body_is_ours(const char *body);

/* Does BODY already hold exactly the section of ISSUE? (Then nothing needs editing.) */
bool provider_body_has_section(const char *body, const struct provider_body_issue *issue);

#endif
