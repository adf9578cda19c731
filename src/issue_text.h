/*
 * issue_text.h — the text of a rollout issue (design §3): its title from the template and its description, and the
 * UTF-8 they must be in. Pure functions: no git, no state. Commit messages arrive in their own encoding and file
 * names are bytes; what leaves here is always valid UTF-8 (invalid sequences become U+FFFD).
 */
#ifndef BBGITOPS_ISSUE_TEXT_H
#define BBGITOPS_ISSUE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* The longest title, in bytes (cut on a UTF-8 character boundary). */
#define ISSUE_TEXT_TITLE_MAX 200

/* Is S (LEN bytes) valid UTF-8 (no overlong forms, surrogates or code points over U+10FFFF)? */
bool issue_text_is_utf8(const char *s, size_t len);

/* A valid UTF-8 copy of S: each invalid byte becomes U+FFFD. NULL stays NULL. Caller frees. */
char *issue_text_utf8(const char *s);

/*
 * Commit message text S in ENCODING (the commit's encoding header; NULL or "UTF-8" for none) as valid UTF-8:
 * converted with iconv when it names another encoding, and made valid (U+FFFD) when it is not. NULL stays NULL.
 */
char *issue_text_decode(const char *s, const char *encoding);

/* One migration file as the issue text shows it. */
struct issue_text_file {
	const char *path;
	const char *version;
	const char *type;      /* "MIGRATE", "DATA", "GHOST" */
};

/*
 * The title: TMPL with {subject} {repository} {branch} {commit} {short} {path} {version} expanded (FILE NULL: path
 * and version empty), at most ISSUE_TEXT_TITLE_MAX bytes; the commit id when that leaves nothing.
 */
char *issue_text_title(const char *tmpl, const char *subject, const char *repository, const char *branch,
	const char *commit_hex, const struct issue_text_file *file);

/* The description: the commit body, the files with version and type, and the provenance line. */
char *issue_text_body(const char *commit_body, const char *repository, const char *branch, const char *commit_hex,
	const struct issue_text_file *files, size_t n_files);

#endif
