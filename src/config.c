/*
 * config.c — reads the libconfig file into struct config and validates it completely: every problem is collected
 * as "FILE:LINE: message" so an operator fixes them all at once. Unknown keys are errors (a typo must not silently
 * change behaviour). Secrets are never read here except to check the config file's own permissions.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "migration.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

struct parser {
	const char *file;
	const char *read_as;      /* the name libconfig knows the top file by ("/proc/self/fd/N"), or NULL */
	char *dir;                /* the top file's directory: relative @include paths resolve from it */
	struct strlist *errors;
	struct strlist *warnings;
	struct strlist names;     /* file names built by parser_file, freed with the parser */
	bool file_private;    /* the config file itself is not readable by group/others */
};

/* The file S was read from: the top file, or an @included one (relative names resolved from the top's dir). */
static const char *
parser_file(struct parser *p, const config_setting_t *s)
{
	const char *f = s ? config_setting_source_file(s) : NULL;

	if (f == NULL || (p->read_as != NULL && strcmp(f, p->read_as) == 0) || strcmp(f, p->file) == 0)
		return p->file;
	if (f[0] == '/' || p->dir == NULL)
		return f;
	strlist_pushf(&p->names, "%s/%s", strcmp(p->dir, "/") == 0 ? "" : p->dir, f);
	return p->names.items[p->names.len - 1];
}

static void parser_error(struct parser *p, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void parser_warning(struct parser *p, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void parser_vreport(struct parser *p, struct strlist *to, const char *kind, const config_setting_t *s,
	const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void
parser_vreport(struct parser *p, struct strlist *to, const char *kind, const config_setting_t *s,
	const char *fmt, va_list ap)
{
	struct sbuf sb = SBUF_INIT;
	int line = s ? config_setting_source_line(s) : 0;

	if (line > 0)
		sbuf_addf(&sb, "%s:%d: %s", parser_file(p, s), line, kind);
	else
		sbuf_addf(&sb, "%s: %s", parser_file(p, s), kind);
	sbuf_vaddf(&sb, fmt, ap);
	strlist_push(to, sbuf_detach(&sb));
}

static void
parser_error(struct parser *p, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	parser_vreport(p, p->errors, "", s, fmt, ap);
	va_end(ap);
}

static void
parser_warning(struct parser *p, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	parser_vreport(p, p->warnings, "warning: ", s, fmt, ap);
	va_end(ap);
}

/*
 * Is the file that setting S was read from private (not readable by group or others)? The top file was checked on
 * its open descriptor; an @included one is opened and checked the same way.
 */
static bool
parser_file_private(struct parser *p, const config_setting_t *s)
{
	const char *file = parser_file(p, s);
	struct stat st;
	bool private = false;
	int fd;

	if (file == p->file)
		return p->file_private;
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0)
		private = (st.st_mode & (S_IRGRP | S_IROTH)) == 0;
	close(fd);
	return private;
}

const char *
config_default_path(const char *from_command_line)
{
	const char *env;

	if (from_command_line != NULL)
		return from_command_line;
	env = getenv("BBGITOPS_CONFIG");
	if (env != NULL && env[0] != '\0')
		return env;
	return SYSCONFDIR "/bbgitops.conf";
}

/* Checks that every member of GROUP is one of the NULL-terminated KNOWN names. */
static void
check_known_keys(struct parser *p, const config_setting_t *group, const char *where, const char *const *known)
{
	int i, n = config_setting_length(group);

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(m);
		const char *const *k;
		bool ok = false;

		if (name == NULL)
			continue;
		for (k = known; *k != NULL; k++)
			if (strcmp(*k, name) == 0)
				ok = true;
		if (!ok)
			parser_error(p, m, "unknown key '%s'%s%s", name, where[0] ? " in " : "", where);
	}
}

/* A string member: NULL when absent; an error when present but not a string. */
static char *
get_string(struct parser *p, const config_setting_t *group, const char *key, bool required, const char *where)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	const char *v;

	if (s == NULL) {
		if (required)
			parser_error(p, group, "%s: missing '%s'", where, key);
		return NULL;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		parser_error(p, s, "'%s' must be a string", key);
		return NULL;
	}
	v = config_setting_get_string(s);
	if (required && v[0] == '\0') {
		parser_error(p, s, "'%s' must not be empty", key);
		return NULL;
	}
	return xstrdup(v);
}

static long
get_long(struct parser *p, const config_setting_t *group, const char *key, long dflt, long min, long max)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	long long v;

	if (s == NULL)
		return dflt;
	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
		parser_error(p, s, "'%s' must be an integer", key);
		return dflt;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		parser_error(p, s, "'%s' must be between %ld and %ld", key, min, max);
		return dflt;
	}
	return (long)v;
}

/* Maps a string member onto one of NAMES (index = enum value); returns DFLT when absent or invalid. */
static int
get_enum(struct parser *p, const config_setting_t *group, const char *key, const char *const *names, int dflt)
{
	const config_setting_t *s = config_setting_get_member(group, key);
	struct sbuf allowed = SBUF_INIT;
	const char *v;
	int i;

	if (s == NULL)
		return dflt;
	if (config_setting_type(s) == CONFIG_TYPE_INT) {
		char num[32];

		snprintf(num, sizeof(num), "%d", config_setting_get_int(s));
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(names[i], num) == 0)
				return i;
		v = NULL;
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(names[i], v) == 0)
				return i;
	} else {
		v = NULL;
	}
	for (i = 0; names[i] != NULL; i++)
		sbuf_addf(&allowed, "%s%s", i ? " | " : "", names[i]);
	if (v != NULL)
		parser_error(p, s, "'%s' must be one of %s, not \"%s\"", key, sbuf_str(&allowed), v);
	else
		parser_error(p, s, "'%s' must be one of %s", key, sbuf_str(&allowed));
	sbuf_release(&allowed);
	return dflt;
}

static bool
valid_repo_name(const char *name)
{
	const char *c;

	if (name[0] == '\0' || name[0] == '.' || strlen(name) > 100)
		return false;
	for (c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    *c == '-' || *c == '_' || *c == '.'))
			return false;
	return true;
}

static const char *const bytebase_keys[] = { "url", "service_account", "service_key", "service_key_file",
	"timeout", "api", "ca_file", NULL };

/*
 * api = "3.8" (or 3.8 unquoted, or "3.8.1"): the flow of that release, for servers that hide their version.
 * Returns false when api is not a release number (auto, 2, 3 and mistakes go to get_enum).
 */
static bool
parse_bytebase_release(struct parser *p, const config_setting_t *g, struct bytebase_config *bb)
{
	const config_setting_t *s = config_setting_get_member(g, "api");
	char buf[32];
	const char *v;
	int major = 0, minor = 0, patch = 0, n = 0, dots = 0;

	if (s == NULL)
		return false;
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT) {
		snprintf(buf, sizeof(buf), "%g", config_setting_get_float(s));
		v = buf;
	} else if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
	} else {
		return false;
	}
	if (strchr(v, '.') == NULL)
		return false;
	if (sscanf(v, "%9d.%9d%n", &major, &minor, &n) != 2 || (v[n] != '\0' &&
	    (sscanf(v + n, ".%9d%n", &patch, &dots) != 1 || v[n + dots] != '\0')) || strchr(v, '-') || strchr(v, '+')) {
		parser_error(p, s, "'api' must be auto | 2 | 3 | a Bytebase release such as \"3.8\", not \"%s\"", v);
		return true;
	}
	if (major < 2 || (major == 2 && minor < 15)) {
		parser_error(p, s, "'api' names Bytebase %s, older than 2.15, the oldest release bbgitops supports", v);
		return true;
	}
	bb->api = BYTEBASE_API_RELEASE;
	bb->api_release = xstrdup(v);
	return true;
}

static const char *const state_keys[] = { "url", "password_file", "connect_timeout", NULL };

static struct state_config *
parse_state(struct parser *p, const config_setting_t *g)
{
	struct state_config *sc;

	if (!config_setting_is_group(g)) {
		parser_error(p, g, "'state' must be a group { url = \"postgresql://...\"; ... }");
		return NULL;
	}
	sc = xcalloc(1, sizeof(*sc));
	check_known_keys(p, g, "state", state_keys);
	sc->url = get_string(p, g, "url", true, "state");
	if (sc->url != NULL && !str_starts_with(sc->url, "postgresql://") && !str_starts_with(sc->url, "postgres://") &&
	    strchr(sc->url, '=') == NULL)
		parser_error(p, config_setting_get_member(g, "url"),
			"'url' must be a PostgreSQL connection URI (postgresql://...) or libpq's key=value pairs");
	sc->password_file = get_string(p, g, "password_file", false, "state");
	if (sc->password_file != NULL && sc->password_file[0] != '/')
		parser_error(p, config_setting_get_member(g, "password_file"), "'password_file' must be an absolute path");
	sc->connect_timeout = get_long(p, g, "connect_timeout", 2, 1, 3600);
	return sc;
}

static struct bytebase_config *
parse_bytebase(struct parser *p, const config_setting_t *g)
{
	static const char *const apis[] = { "auto", "2", "3", NULL };
	struct bytebase_config *bb = xcalloc(1, sizeof(*bb));
	const config_setting_t *s;

	if (!config_setting_is_group(g)) {
		parser_error(p, g, "'bytebase' must be a group { ... }");
		free(bb);
		return NULL;
	}
	check_known_keys(p, g, "bytebase", bytebase_keys);
	bb->url = get_string(p, g, "url", true, "bytebase");
	if (bb->url != NULL) {
		size_t len = strlen(bb->url);

		if (!str_starts_with(bb->url, "https://") && !str_starts_with(bb->url, "http://"))
			parser_error(p, config_setting_get_member(g, "url"),
				"'url' must start with https:// or http://");
		while (len > 0 && bb->url[len - 1] == '/')
			bb->url[--len] = '\0';
	}
	bb->service_account = get_string(p, g, "service_account", true, "bytebase");
	bb->service_key = get_string(p, g, "service_key", false, "bytebase");
	bb->service_key_file = get_string(p, g, "service_key_file", false, "bytebase");
	if (bb->service_key == NULL && bb->service_key_file == NULL)
		parser_error(p, g, "bytebase: one of 'service_key' or 'service_key_file' is required");
	if (bb->service_key != NULL && bb->service_key_file != NULL)
		parser_error(p, config_setting_get_member(g, "service_key"),
			"'service_key' and 'service_key_file' are exclusive");
	s = config_setting_get_member(g, "service_key");
	if (bb->service_key != NULL && !parser_file_private(p, s))
		parser_error(p, s, "the file holds 'service_key' but group or others can read it; chmod 600 %s",
			parser_file(p, s));
	bb->timeout = get_long(p, g, "timeout", 30, 1, 3600);
	if (!parse_bytebase_release(p, g, bb))
		bb->api = (enum bytebase_api)get_enum(p, g, "api", apis, BYTEBASE_API_AUTO);
	bb->ca_file = get_string(p, g, "ca_file", false, "bytebase");
	s = config_setting_get_member(g, "ca_file");
	if (bb->ca_file != NULL && bb->ca_file[0] != '/')
		parser_error(p, s, "'ca_file' must be an absolute path");
	return bb;
}

/* Transports libgit2 may be handed for `url`: never a transport helper (ext::, fd::) or an option-like "-...". */
static const char *const url_schemes[] = { "https", "http", "ssh", "git", "file", NULL };

static bool
has_control_or_space(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return true;
	return false;
}

static void
check_url(struct parser *p, const config_setting_t *s, const char *url)
{
	const char *sep = strstr(url, "://"), *colon = strchr(url, ':'), *slash = strchr(url, '/'), *at;
	const char *const *k;
	bool known = false;

	if (colon != NULL && colon[1] == ':' && (slash == NULL || colon < slash)) {
		parser_error(p, s, "'url' names a transport helper (\"%.*s::\"); allowed: https://, http://, ssh://, "
			"git://, file:// or user@host:path", (int)(colon - url), url);
		return;
	}
	if (url[0] == '-' || has_control_or_space(url)) {
		parser_error(p, s, "'url' must not start with '-' or hold spaces or control characters");
		return;
	}
	if (sep == NULL) {
		/* scp-like [user@]host:path; a colon after the first '/' makes it a local path (git's rule). */
		if (colon == NULL || colon == url || (slash != NULL && slash < colon))
			parser_error(p, s, "'url' must be https://, http://, ssh://, git://, file:// or user@host:path "
				"(a local repository goes in 'path')");
		return;
	}
	for (k = url_schemes; *k != NULL; k++)
		if ((size_t)(sep - url) == strlen(*k) && strncmp(url, *k, strlen(*k)) == 0)
			known = true;
	if (!known) {
		parser_error(p, s, "'url' uses the transport \"%.*s\"; allowed: https://, http://, ssh://, git://, "
			"file:// or user@host:path", (int)(sep - url), url);
		return;
	}
	sep += 3;
	colon = strchr(sep, ':');
	slash = strchr(sep, '/');
	at = strchr(sep, '@');
	if (at != NULL && slash != NULL && at > slash)
		at = NULL;
	if ((at != NULL ? at + 1 : sep)[0] == '-') {
		parser_error(p, s, "'url' names a host starting with '-'");
		return;
	}
	if (at != NULL && colon != NULL && colon < at)
		parser_warning(p, s, "'url' holds a password: bbgitops keeps it out of the mirror and every "
			"output, but it belongs in 'token_file' (a private file)");
}

/*
 * `branch` is a short name or glob ("main", "release/x*"). A full "refs/heads/main" is unambiguous and normalized
 * (cursors are keyed by the short name); any other "refs/..." could never match a branch and is refused, as is
 * what git refuses in a branch name.
 */
static void
check_branch(struct parser *p, const config_setting_t *s, char *branch)
{
	size_t n;

	if (str_starts_with(branch, "refs/heads/"))
		memmove(branch, branch + strlen("refs/heads/"), strlen(branch) - strlen("refs/heads/") + 1);
	else if (str_starts_with(branch, "refs/")) {
		parser_error(p, s, "'branch' must name branches (\"main\", \"release/*\"), not \"%s\"", branch);
		return;
	}
	n = strlen(branch);
	if (n == 0 || branch[0] == '/' || branch[0] == '-' || branch[n - 1] == '/' || branch[n - 1] == '.' ||
	    strstr(branch, "//") != NULL || strstr(branch, "..") != NULL || strstr(branch, "@{") != NULL ||
	    strpbrk(branch, "~^:\\") != NULL || has_control_or_space(branch) ||
	    (n >= 5 && strcmp(branch + n - 5, ".lock") == 0))
		parser_error(p, s, "'branch' is not a valid branch name or glob (git check-ref-format)");
}

/* base_directory must stay inside the repository: no "." or ".." component, no empty one ("a//b"). */
static void
check_base_directory(struct parser *p, const config_setting_t *s, const char *normalized)
{
	const char *c = normalized;

	while (*c != '\0') {
		size_t len = strcspn(c, "/");

		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.')) {
			parser_error(p, s, "'base_directory' must be a directory inside the repository, without "
				"'.', '..' or empty components");
			return;
		}
		c += len;
		if (*c == '/')
			c++;
	}
}

/* An issue title is cut at 200 bytes (catchup.c): a longer template could never show. */
#define CONFIG_TITLE_TEMPLATE_MAX 200

/* Every {word} of title_template must be a placeholder that expands; {path} and {version} only per file. */
static void
check_title_template(struct parser *p, const config_setting_t *s, const char *tmpl, enum group_by group_by)
{
	static const char *const names[] = { "subject", "repository", "branch", "commit", "short", "path", "version",
		NULL };
	const char *c, *close;
	size_t i, n;

	if (strlen(tmpl) > CONFIG_TITLE_TEMPLATE_MAX) {
		parser_error(p, s, "'title_template' is %zu bytes long; at most %d (an issue title is cut at %d bytes)",
			strlen(tmpl), CONFIG_TITLE_TEMPLATE_MAX, CONFIG_TITLE_TEMPLATE_MAX);
		return;
	}
	for (c = tmpl; (c = strchr(c, '{')) != NULL; c = close) {
		close = c + 1 + strspn(c + 1, "abcdefghijklmnopqrstuvwxyz_");
		if (*close != '}' || close == c + 1)
			continue;    /* not a placeholder: kept as written */
		n = (size_t)(close - c - 1);
		for (i = 0; names[i] != NULL; i++)
			if (strlen(names[i]) == n && strncmp(names[i], c + 1, n) == 0)
				break;
		if (names[i] == NULL)
			parser_error(p, s, "'title_template': unknown placeholder %.*s (known: {subject} {repository} "
				"{branch} {commit} {short} {path} {version})", (int)(n + 2), c);
		else if (i >= 5 && group_by != GROUP_BY_FILE)
			parser_error(p, s, "'title_template': {%s} needs group_by = \"file\"", names[i]);
	}
}

static const char *const repo_keys[] = { "name", "path", "url", "provider", "token_file", "username", "ssh_key",
	"api_url", "comment", "comment_wait",
	"ssh_passphrase_file", "branch", "base_directory", "project", "database_group", "databases", "engine",
	"group_by", "start", "title_template", NULL };

static void
parse_databases(struct parser *p, const config_setting_t *g, struct repo_config *r)
{
	const config_setting_t *s = config_setting_get_member(g, "databases");
	int i, n;

	if (s == NULL)
		return;
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s)) {
		parser_error(p, s, "'databases' must be a list of strings [\"instances/I/databases/D\", ...]");
		return;
	}
	n = config_setting_length(s);
	if (n == 0) {
		parser_error(p, s, "'databases' must not be empty (omit it to target every database of the project)");
		return;
	}
	r->databases = xcalloc((size_t)n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_type(e) == CONFIG_TYPE_STRING ? config_setting_get_string(e) : NULL;

		if (v == NULL || !str_starts_with(v, "instances/") || strstr(v, "/databases/") == NULL) {
			parser_error(p, e, "'databases' entries must look like \"instances/INSTANCE/databases/DB\"");
			continue;
		}
		r->databases[r->n_databases++] = xstrdup(v);
	}
}

static bool
is_absolute_path_setting(struct parser *p, const config_setting_t *g, const char *key, const char *value)
{
	if (value != NULL && value[0] != '/') {
		parser_error(p, config_setting_get_member(g, key), "'%s' must be an absolute path", key);
		return false;
	}
	return true;
}

/* The pull request comment (design §6): api_url, comment (default: on where a token is set), comment_wait. */
static void
parse_comment(struct parser *p, const config_setting_t *g, struct repo_config *r)
{
	const config_setting_t *s;
	int b;

	r->api_url = get_string(p, g, "api_url", false, "repository");
	if (r->api_url != NULL && !str_starts_with(r->api_url, "https://") && !str_starts_with(r->api_url, "http://"))
		parser_error(p, config_setting_get_member(g, "api_url"), "'api_url' must start with https://");
	r->comment = r->url != NULL && r->token_file != NULL && r->provider != PROVIDER_GENERIC;
	s = config_setting_get_member(g, "comment");
	if (s != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			parser_error(p, s, "'comment' must be true or false");
		} else {
			b = config_setting_get_bool(s);
			if (b && (r->url == NULL || r->token_file == NULL))
				parser_error(p, s, "'comment = true' needs 'url' (naming the repository at its provider) "
					"and 'token_file'");
			if (b && r->provider == PROVIDER_GENERIC)
				parser_error(p, s, "'comment = true' needs a provider other than \"generic\"");
			r->comment = b;
		}
	}
	r->comment_wait = 600;
	s = config_setting_get_member(g, "comment_wait");
	if (s != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_INT || config_setting_get_int(s) < 0)
			parser_error(p, s, "'comment_wait' must be a number of seconds >= 0");
		else
			r->comment_wait = config_setting_get_int(s);
	}
}

static void
parse_repo(struct parser *p, const config_setting_t *g, struct repo_config *r, bool have_bytebase)
{
	static const char *const providers[] = { "none", "github", "gitlab", "bitbucket", "azure", "generic", "gitea",
		NULL };
	static const char *const group_bys[] = { "commit", "file", NULL };
	static const char *const starts[] = { "tip", "all", NULL };
	char *base;

	r->line = config_setting_source_line(g);
	check_known_keys(p, g, "repository entry", repo_keys);
	r->name = get_string(p, g, "name", true, "repository entry");
	if (r->name != NULL && !valid_repo_name(r->name))
		parser_error(p, config_setting_get_member(g, "name"),
			"'name' may only hold letters, digits, '-', '_' and '.' (not first), at most 100");
	r->path = get_string(p, g, "path", false, "repository");
	r->url = get_string(p, g, "url", false, "repository");
	if (r->path == NULL && r->url == NULL)
		parser_error(p, g, "repository '%s': one of 'path' or 'url' is required", r->name ? r->name : "?");
	if (r->url != NULL)
		check_url(p, config_setting_get_member(g, "url"), r->url);
	is_absolute_path_setting(p, g, "path", r->path);
	r->provider = (enum provider)get_enum(p, g, "provider", providers, PROVIDER_NONE);
	r->token_file = get_string(p, g, "token_file", false, "repository");
	r->username = get_string(p, g, "username", false, "repository");
	r->ssh_key = get_string(p, g, "ssh_key", false, "repository");
	r->ssh_passphrase_file = get_string(p, g, "ssh_passphrase_file", false, "repository");
	is_absolute_path_setting(p, g, "token_file", r->token_file);
	is_absolute_path_setting(p, g, "ssh_key", r->ssh_key);
	is_absolute_path_setting(p, g, "ssh_passphrase_file", r->ssh_passphrase_file);
	if (r->url == NULL && (r->token_file || r->ssh_key || r->provider != PROVIDER_NONE || r->username))
		parser_error(p, g, "repository '%s': 'provider', 'token_file', 'username' and 'ssh_key' need 'url'",
			r->name ? r->name : "?");
	if (r->url != NULL && r->token_file && r->ssh_key)
		parser_error(p, config_setting_get_member(g, "ssh_key"), "'token_file' and 'ssh_key' are exclusive");
	if (r->url != NULL && r->token_file && r->provider == PROVIDER_NONE)
		parser_error(p, config_setting_get_member(g, "token_file"),
			"'token_file' needs 'provider' (github | gitlab | bitbucket | azure | gitea | generic)");
	parse_comment(p, g, r);
	if (r->provider == PROVIDER_GENERIC && r->token_file && r->username == NULL)
		parser_error(p, g, "repository '%s': provider \"generic\" needs 'username'", r->name ? r->name : "?");
	if (r->ssh_passphrase_file && r->ssh_key == NULL)
		parser_error(p, config_setting_get_member(g, "ssh_passphrase_file"),
			"'ssh_passphrase_file' needs 'ssh_key'");

	r->branch = get_string(p, g, "branch", false, "repository");
	if (r->branch == NULL && config_setting_get_member(g, "branch") == NULL)
		r->branch = xstrdup("main");
	else if (r->branch != NULL && r->branch[0] == '\0')
		parser_error(p, config_setting_get_member(g, "branch"), "'branch' must not be empty");
	else if (r->branch != NULL && config_setting_get_member(g, "branch") != NULL)
		check_branch(p, config_setting_get_member(g, "branch"), r->branch);
	base = get_string(p, g, "base_directory", false, "repository");
	r->base_directory = migration_normalize_base(base);
	free(base);
	check_base_directory(p, config_setting_get_member(g, "base_directory"), r->base_directory);
	r->project = get_string(p, g, "project", false, "repository");
	if (r->project == NULL && have_bytebase && config_setting_get_member(g, "project") == NULL)
		parser_error(p, g, "repository '%s': 'project' is required when 'bytebase' is configured",
			r->name ? r->name : "?");
	r->database_group = get_string(p, g, "database_group", false, "repository");
	parse_databases(p, g, r);
	if (r->database_group != NULL && r->databases != NULL)
		parser_error(p, config_setting_get_member(g, "database_group"),
			"'database_group' and 'databases' are exclusive");
	r->engine = get_string(p, g, "engine", false, "repository");
	r->group_by = (enum group_by)get_enum(p, g, "group_by", group_bys, GROUP_BY_COMMIT);
	r->start = (enum start_mode)get_enum(p, g, "start", starts, START_TIP);
	r->title_template = get_string(p, g, "title_template", false, "repository");
	if (r->title_template != NULL)
		check_title_template(p, config_setting_get_member(g, "title_template"), r->title_template,
			r->group_by);
	if (r->title_template == NULL)
		r->title_template = xstrdup("{subject}");
}

static int
repo_index_cmp(const void *a, const void *b)
{
	const struct repo_config *ra = *(struct repo_config *const *)a, *rb = *(struct repo_config *const *)b;
	int c = strcmp(ra->name, rb->name);

	return c != 0 ? c : (ra < rb ? -1 : ra > rb);
}

/* Every repeated name is reported at its line, naming the first; sorted, so a huge list stays fast. */
static void
check_duplicate_names(struct parser *p, struct config *cfg, const config_setting_t **settings)
{
	struct repo_config **sorted = xcalloc(cfg->n_repos + 1, sizeof(*sorted));
	const struct repo_config **first = xcalloc(cfg->n_repos + 1, sizeof(*first));
	size_t i, n = 0;

	for (i = 0; i < cfg->n_repos; i++)
		if (cfg->repos[i].name != NULL)
			sorted[n++] = &cfg->repos[i];
	if (n > 1)
		qsort(sorted, n, sizeof(*sorted), repo_index_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i]->name, sorted[i - 1]->name) == 0)
			first[sorted[i] - cfg->repos] = first[sorted[i - 1] - cfg->repos] != NULL ?
				first[sorted[i - 1] - cfg->repos] : sorted[i - 1];
	for (i = 0; i < cfg->n_repos; i++)
		if (first[i] != NULL)
			parser_error(p, config_setting_get_member(settings[i], "name"),
				"duplicate repository name '%s' (first at line %d)", cfg->repos[i].name,
				first[i]->line);
	free(first);
	free(sorted);
}

static const char *const top_keys[] = { "state_dir", "state", "bytebase", "hook", "poll", "repositories",
	"max_migration_size", NULL };
static const char *const hook_keys[] = { "deliver", "handoff", NULL };
static const char *const poll_keys[] = { "interval", "jitter", "timeout", "metrics_file", NULL };

static void
parse_root(struct parser *p, config_t *lc, struct config *cfg)
{
	static const char *const delivers[] = { "background", "inline", "none", NULL };
	static const char *const handoffs[] = { "wait", "detach", NULL };
	const config_setting_t *root = config_root_setting(lc), *s, *repos;
	const config_setting_t **settings;
	int i, n;

	check_known_keys(p, root, "", top_keys);
	cfg->state_dir = get_string(p, root, "state_dir", false, "top level");
	if (cfg->state_dir == NULL && config_setting_get_member(root, "state_dir") == NULL)
		cfg->state_dir = xstrdup(LOCALSTATEDIR "/lib/bbgitops");
	if (cfg->state_dir != NULL && cfg->state_dir[0] != '/')
		parser_error(p, config_setting_get_member(root, "state_dir"), "'state_dir' must be an absolute path");

	s = config_setting_get_member(root, "state");
	if (s != NULL)
		cfg->state = parse_state(p, s);
	s = config_setting_get_member(root, "bytebase");
	if (s != NULL)
		cfg->bytebase = parse_bytebase(p, s);
	cfg->max_migration_size = get_long(p, root, "max_migration_size", CONFIG_MAX_MIGRATION_SIZE, 1024,
		64L * 1024 * 1024);

	cfg->hook_deliver = HOOK_DELIVER_BACKGROUND;
	s = config_setting_get_member(root, "hook");
	if (s != NULL && !config_setting_is_group(s)) {
		parser_error(p, s, "'hook' must be a group { ... }");
	} else if (s != NULL) {
		check_known_keys(p, s, "hook", hook_keys);
		cfg->hook_deliver = (enum hook_deliver)get_enum(p, s, "deliver", delivers, HOOK_DELIVER_BACKGROUND);
		cfg->hook_handoff = (enum hook_handoff)get_enum(p, s, "handoff", handoffs, HOOK_HANDOFF_WAIT);
		/* inline promises the delivery before the push returns; a detached hand-off returns before the work. */
		if (cfg->hook_deliver == HOOK_DELIVER_INLINE && cfg->hook_handoff == HOOK_HANDOFF_DETACH)
			parser_error(p, config_setting_get_member(s, "handoff"),
				"hook.handoff = \"detach\" returns before the work: it cannot go with deliver = \"inline\"");
	}

	cfg->poll_interval = 120;
	cfg->poll_jitter = 30;
	cfg->poll_timeout = 300;
	s = config_setting_get_member(root, "poll");
	if (s != NULL && !config_setting_is_group(s)) {
		parser_error(p, s, "'poll' must be a group { ... }");
	} else if (s != NULL) {
		check_known_keys(p, s, "poll", poll_keys);
		cfg->poll_interval = get_long(p, s, "interval", 120, 1, 86400 * 7);
		cfg->poll_jitter = get_long(p, s, "jitter", 30, 0, 86400);
		cfg->poll_timeout = get_long(p, s, "timeout", 300, 1, 86400);
		cfg->poll_metrics_file = get_string(p, s, "metrics_file", false, "poll");
		if (cfg->poll_metrics_file != NULL && cfg->poll_metrics_file[0] != '/')
			parser_error(p, config_setting_get_member(s, "metrics_file"),
				"'metrics_file' must be an absolute path");
	}

	repos = config_setting_get_member(root, "repositories");
	if (repos == NULL) {
		parser_error(p, NULL, "no 'repositories' list: nothing to watch");
		return;
	}
	if (!config_setting_is_list(repos) && !config_setting_is_array(repos)) {
		parser_error(p, repos, "'repositories' must be a list ( { ... }, { ... } )");
		return;
	}
	n = config_setting_length(repos);
	if (n == 0) {
		parser_error(p, repos, "'repositories' is empty: nothing to watch");
		return;
	}
	cfg->repos = xcalloc((size_t)n + 1, sizeof(*cfg->repos));
	settings = xcalloc((size_t)n + 1, sizeof(*settings));
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(repos, (unsigned)i);
		struct repo_config *r = &cfg->repos[cfg->n_repos];

		if (!config_setting_is_group(g)) {
			parser_error(p, g, "each repository must be a group { name = ...; ... }");
			continue;
		}
		parse_repo(p, g, r, cfg->bytebase != NULL);
		settings[cfg->n_repos++] = g;
	}
	check_duplicate_names(p, cfg, settings);
	free(settings);
}

/*
 * libconfig 1.5 prefixes every @include path with the include directory, absolute ones too ("/etc//abs/x.conf"),
 * and crashes on @include without one when reading a FILE *. So the file is read by name, with no include
 * directory, from inside its own directory: relative includes resolve from there, absolute ones stay absolute.
 * It is read through /proc/self/fd so that what is parsed is the file whose mode was checked on its descriptor.
 */
static int
config_read_in_dir(config_t *lc, struct parser *p, int fd)
{
	char fdpath[64];
	int cwd, rv;

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	p->read_as = access(fdpath, R_OK) == 0 ? xstrdup(fdpath) : NULL;
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(p->dir) != 0) {
		/* cannot come back or cannot go there: includes resolve from the include directory instead */
		config_set_include_dir(lc, p->dir);
		rv = config_read_file(lc, p->read_as ? p->read_as : p->file);
	} else {
		rv = config_read_file(lc, p->read_as ? p->read_as : p->file);
		if (fchdir(cwd) != 0)
			log_warn("cannot return to the working directory after reading %s", p->file);
	}
	if (cwd >= 0)
		close(cwd);
	return rv;
}

int
config_load(const char *file, struct config **out, struct strlist *errors)
{
	struct strlist warnings = STRLIST_INIT;
	struct parser p = { .file = file, .errors = errors, .warnings = &warnings, .names = STRLIST_INIT,
		.file_private = false };
	struct config *cfg = NULL;
	size_t errors_before = errors->len;
	char *abs = NULL, *slash;
	struct stat st;
	config_t lc;
	int fd, rv = -1;

	config_init(&lc);
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		strlist_pushf(errors, "%s: cannot open: %s", file, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == 0)
		p.file_private = (st.st_mode & (S_IRGRP | S_IROTH)) == 0;
	if (file[0] != '/') {
		char *cwd = getcwd(NULL, 0);

		abs = cwd != NULL ? xasprintf("%s/%s", cwd, file) : xstrdup(file);
		free(cwd);
	} else {
		abs = xstrdup(file);
	}
	slash = strrchr(abs, '/');
	if (slash == NULL)
		p.dir = xstrdup(".");
	else
		p.dir = slash == abs ? xstrdup("/") : xstrndup(abs, (size_t)(slash - abs));
	if (config_read_in_dir(&lc, &p, fd) != CONFIG_TRUE) {
		const char *where = config_error_file(&lc);

		if (where == NULL || (p.read_as != NULL && strcmp(where, p.read_as) == 0))
			where = file;
		if (where[0] != '/' && where != file)
			strlist_pushf(errors, "%s/%s:%d: %s", p.dir, where, config_error_line(&lc),
				config_error_text(&lc));
		else
			strlist_pushf(errors, "%s:%d: %s", where, config_error_line(&lc), config_error_text(&lc));
		goto out;
	}
	cfg = xcalloc(1, sizeof(*cfg));
	cfg->file = xstrdup(file);
	parse_root(&p, &lc, cfg);
	if (errors->len != errors_before)
		goto out;
	cfg->warnings = warnings;
	warnings = (struct strlist)STRLIST_INIT;
	*out = cfg;
	cfg = NULL;
	rv = 0;
out:
	config_free(cfg);
	config_destroy(&lc);
	if (fd >= 0)
		close(fd);
	strlist_clear(&warnings);
	strlist_clear(&p.names);
	free((char *)p.read_as);
	free(p.dir);
	free(abs);
	return rv;
}

static void
repo_config_clear(struct repo_config *r)
{
	size_t i;

	free(r->name);
	free(r->path);
	free(r->url);
	free(r->token_file);
	free(r->username);
	free(r->api_url);
	free(r->ssh_key);
	free(r->ssh_passphrase_file);
	free(r->branch);
	free(r->base_directory);
	free(r->project);
	free(r->database_group);
	for (i = 0; i < r->n_databases; i++)
		free(r->databases[i]);
	free(r->databases);
	free(r->engine);
	free(r->title_template);
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_repos; i++)
		repo_config_clear(&cfg->repos[i]);
	free(cfg->repos);
	if (cfg->bytebase != NULL) {
		free(cfg->bytebase->url);
		free(cfg->bytebase->service_account);
		if (cfg->bytebase->service_key != NULL)
			explicit_bzero(cfg->bytebase->service_key, strlen(cfg->bytebase->service_key));
		free(cfg->bytebase->service_key);
		free(cfg->bytebase->service_key_file);
		free(cfg->bytebase->ca_file);
		free(cfg->bytebase->api_release);
		free(cfg->bytebase);
	}
	if (cfg->state != NULL) {
		free(cfg->state->url);
		free(cfg->state->password_file);
		free(cfg->state);
	}
	free(cfg->state_dir);
	free(cfg->poll_metrics_file);
	free(cfg->file);
	strlist_clear(&cfg->warnings);
	free(cfg);
}

int
config_read_secret(const char *path, char **out, struct error *err)
{
	struct sbuf sb = SBUF_INIT;
	struct stat st;
	char buf[4096];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return error_set(err, false, "%s: cannot open secret file: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		error_set(err, false, "%s: cannot stat secret file: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		error_set(err, false, "%s: secret file is not a regular file", path);
		goto fail;
	}
	if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		error_set(err, false, "%s: secret file is readable by group or others (mode %04o); chmod 600 it",
			path, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		sbuf_add(&sb, buf, (size_t)n);
		if (sb.len > 65536) {
			error_set(err, false, "%s: secret file is larger than 64 KiB", path);
			goto fail;
		}
	}
	if (n < 0) {
		error_set(err, false, "%s: cannot read secret file: %s", path, strerror(errno));
		goto fail;
	}
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	while (sb.len > 0 && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == '\r'))
		sb.buf[--sb.len] = '\0';
	if (sb.len == 0) {
		sbuf_release(&sb);
		return error_set(err, false, "%s: secret file is empty", path);
	}
	*out = sbuf_detach(&sb);
	return 0;
fail:
	if (sb.buf != NULL)
		explicit_bzero(sb.buf, sb.len);
	sbuf_release(&sb);
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return -1;
}

int
config_bytebase_key(const struct bytebase_config *bb, char **out, struct error *err)
{
	if (bb->service_key != NULL) {
		*out = xstrdup(bb->service_key);
		return 0;
	}
	return config_read_secret(bb->service_key_file, out, err);
}

static void
check_secret_file(const struct config *cfg, const char *what, const char *path, struct strlist *errors)
{
	struct error err = ERROR_INIT;
	char *secret = NULL;

	if (path == NULL)
		return;
	if (config_read_secret(path, &secret, &err) != 0) {
		strlist_pushf(errors, "%s: %s: %s", cfg->file, what, err.msg);
		return;
	}
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

int
config_check_secrets(const struct config *cfg, struct strlist *errors)
{
	size_t before = errors->len, i;

	if (cfg->state != NULL)
		check_secret_file(cfg, "state.password_file", cfg->state->password_file, errors);
	if (cfg->bytebase != NULL)
		check_secret_file(cfg, "bytebase.service_key_file", cfg->bytebase->service_key_file, errors);
	for (i = 0; i < cfg->n_repos; i++) {
		const struct repo_config *r = &cfg->repos[i];

		check_secret_file(cfg, "token_file", r->token_file, errors);
		check_secret_file(cfg, "ssh_passphrase_file", r->ssh_passphrase_file, errors);
		if (r->ssh_key != NULL && access(r->ssh_key, R_OK) != 0)
			strlist_pushf(errors, "%s:%d: ssh_key %s: %s", cfg->file, r->line, r->ssh_key,
				strerror(errno));
	}
	return errors->len == before ? 0 : -1;
}

bool
config_branch_is_glob(const struct repo_config *repo)
{
	return strpbrk(repo->branch, "*?[") != NULL;
}

bool
config_branch_matches(const struct repo_config *repo, const char *branch)
{
	if (!config_branch_is_glob(repo))
		return strcmp(repo->branch, branch) == 0;
	return fnmatch(repo->branch, branch, FNM_PATHNAME) == 0;
}

const struct repo_config *
config_find_repo(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_repos; i++)
		if (strcmp(cfg->repos[i].name, name) == 0)
			return &cfg->repos[i];
	return NULL;
}

const char *
config_provider_name(enum provider p)
{
	switch (p) {
	case PROVIDER_GITHUB:
		return "github";
	case PROVIDER_GITLAB:
		return "gitlab";
	case PROVIDER_BITBUCKET:
		return "bitbucket";
	case PROVIDER_AZURE:
		return "azure";
	case PROVIDER_GENERIC:
		return "generic";
	case PROVIDER_GITEA:
		return "gitea";
	case PROVIDER_NONE:
	default:
		return "none";
	}
}
