/*
 * issue_text.c — title and description of a rollout issue (issue_text.h), and the UTF-8 they are held to: a
 * validator after RFC 3629, a replacer that turns each invalid byte into U+FFFD, and iconv for commit messages
 * whose encoding header names another charset. Every string that leaves is valid UTF-8.
 */
#include "issue_text.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define REPLACEMENT "\xEF\xBF\xBD"   /* U+FFFD */

/* Length of the valid UTF-8 sequence at S (at most N bytes), or 0 when invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

bool
issue_text_is_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

char *
issue_text_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct sbuf sb = SBUF_INIT;
	size_t len, i = 0, n;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	if (issue_text_is_utf8(s, len))
		return xstrdup(s);
	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0) {
			sbuf_adds(&sb, REPLACEMENT);
			i++;
		} else {
			sbuf_add(&sb, p + i, n);
			i += n;
		}
	}
	return sbuf_detach(&sb);
}

static bool
is_utf8_name(const char *encoding)
{
	return encoding == NULL || strcasecmp(encoding, "UTF-8") == 0 || strcasecmp(encoding, "UTF8") == 0;
}

char *
issue_text_decode(const char *s, const char *encoding)
{
	struct sbuf sb = SBUF_INIT;
	char buf[1024], *in, *out;
	size_t in_left, out_left;
	iconv_t cd;
	char *decoded;
	bool ok = true;

	if (s == NULL)
		return NULL;
	if (is_utf8_name(encoding) || (cd = iconv_open("UTF-8", encoding)) == (iconv_t)-1)
		return issue_text_utf8(s);   /* unknown encodings too: keep what is valid */
	in = (char *)s;   /* iconv's prototype; it does not write through it */
	in_left = strlen(s);
	while (ok && in_left > 0) {
		out = buf;
		out_left = sizeof(buf);
		if (iconv(cd, &in, &in_left, &out, &out_left) == (size_t)-1 && errno != E2BIG)
			ok = false;
		sbuf_add(&sb, buf, sizeof(buf) - out_left);
	}
	out = buf;
	out_left = sizeof(buf);
	if (ok && iconv(cd, NULL, NULL, &out, &out_left) != (size_t)-1)
		sbuf_add(&sb, buf, sizeof(buf) - out_left);
	iconv_close(cd);
	if (!ok) {
		sbuf_release(&sb);
		return issue_text_utf8(s);   /* not really in that encoding */
	}
	decoded = issue_text_utf8(sbuf_str(&sb));
	sbuf_release(&sb);
	return decoded;
}

/* Appends VALUE, made valid UTF-8. */
static void
add_utf8(struct sbuf *sb, const char *value)
{
	char *v = issue_text_utf8(value);

	sbuf_adds(sb, v);
	free(v);
}

char *
issue_text_title(const char *tmpl, const char *subject, const char *repository, const char *branch,
	const char *commit_hex, const struct issue_text_file *file)
{
	static const struct {
		const char *name;
		size_t len;
	} keys[] = {
		{ "subject", 7 }, { "repository", 10 }, { "branch", 6 }, { "commit", 6 }, { "path", 4 },
		{ "version", 7 }, { "short", 5 },
	};
	struct sbuf sb = SBUF_INIT;
	const char *p = tmpl;
	char *title;

	while (*p) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		size_t n = close ? (size_t)(close - p - 1) : 0, k;
		const char *values[] = { subject, repository, branch, commit_hex, file ? file->path : "",
			file ? file->version : "", NULL };

		for (k = 0; close != NULL && k < sizeof(keys) / sizeof(keys[0]); k++)
			if (n == keys[k].len && strncmp(p + 1, keys[k].name, n) == 0)
				break;
		if (close == NULL || k == sizeof(keys) / sizeof(keys[0])) {
			sbuf_add(&sb, p, 1);
			p++;
			continue;
		}
		if (values[k] != NULL)
			add_utf8(&sb, values[k]);
		else
			sbuf_add(&sb, commit_hex, strnlen(commit_hex, 12));   /* {short} */
		p = close + 1;
	}
	/* The template itself may hold invalid bytes: the whole title is made valid, then cut on a boundary. */
	title = issue_text_utf8(sbuf_str(&sb));
	sbuf_release(&sb);
	if (strlen(title) > ISSUE_TEXT_TITLE_MAX) {
		size_t cut = ISSUE_TEXT_TITLE_MAX;

		while (cut > 0 && ((unsigned char)title[cut] & 0xC0) == 0x80)
			cut--;   /* do not split a UTF-8 sequence */
		title[cut] = '\0';
	}
	if (title[0] == '\0') {
		free(title);
		title = issue_text_utf8(commit_hex);
	}
	return title;
}

char *
issue_text_body(const char *commit_body, const char *repository, const char *branch, const char *commit_hex,
	const struct issue_text_file *files, size_t n_files)
{
	struct sbuf sb = SBUF_INIT;
	char *body;
	size_t i;

	if (commit_body != NULL && commit_body[0] != '\0') {
		sbuf_adds(&sb, commit_body);
		while (sb.len > 0 && sb.buf[sb.len - 1] == '\n')
			sb.buf[--sb.len] = '\0';
		sbuf_adds(&sb, "\n\n");
	}
	sbuf_adds(&sb, "Migration files:\n");
	for (i = 0; i < n_files; i++)
		sbuf_addf(&sb, "- %s (version %s, %s)\n", files[i].path, files[i].version, files[i].type);
	sbuf_addf(&sb, "\nbbgitops: %s@%s %s", repository, branch, commit_hex);
	body = issue_text_utf8(sbuf_str(&sb));
	sbuf_release(&sb);
	return body;
}
