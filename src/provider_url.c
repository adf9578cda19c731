/*
 * provider_url.c — pure: clone URL → provider, API base and the repository's path in that API.
 * The URL grammar follows the providers' documented remote forms (provider-comment-api.md §7); a configured
 * api_url wins over the derived base, and a sub-path it carries (a GitLab relative URL root) is cut from the path.
 */
#include "provider_url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

struct pu_parts {
	char *scheme;             /* "https" for ssh and scp-like forms: the API is always HTTPS there */
	char *host;               /* lowercased */
	char *authority;          /* host[:port] for http(s); host alone for ssh */
	struct strlist segs;      /* decoded path segments, ".git" dropped from the last */
};

static void
pu_parts_clear(struct pu_parts *p)
{
	free(p->scheme);
	free(p->host);
	free(p->authority);
	strlist_clear(&p->segs);
}

static int
pu_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static char *
pu_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1);
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && pu_hexval((unsigned char)s[i + 1]) >= 0 &&
		    pu_hexval((unsigned char)s[i + 2]) >= 0) {
			out[o++] = (char)(pu_hexval((unsigned char)s[i + 1]) * 16 + pu_hexval((unsigned char)s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* Percent-encodes one path segment: every byte outside [A-Za-z0-9-._~]. */
static void
pu_escape(struct sbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char enc[3];

	for (p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			sbuf_add(sb, p, 1);
		} else {
			enc[0] = '%';
			enc[1] = hex[*p >> 4];
			enc[2] = hex[*p & 15];
			sbuf_add(sb, enc, 3);
		}
	}
}

static void
pu_split_path(struct pu_parts *p, const char *path)
{
	const char *s = path, *e;
	size_t n;

	while (*s) {
		while (*s == '/')
			s++;
		if (*s == '\0')
			break;
		e = strchr(s, '/');
		n = e ? (size_t)(e - s) : strlen(s);
		strlist_push(&p->segs, pu_decode(s, n));
		s += n;
	}
	if (p->segs.len > 0) {
		char *last = p->segs.items[p->segs.len - 1];
		size_t len = strlen(last);

		if (len > 4 && strcmp(last + len - 4, ".git") == 0)
			last[len - 4] = '\0';
	}
}

static void
pu_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Splits URL into scheme, host, authority and path segments. */
static int
pu_split(const char *url, struct pu_parts *p, struct error *err)
{
	const char *sep = strstr(url, "://"), *auth, *slash, *at, *colon;
	char *hostport = NULL;
	bool ssh;

	if (sep != NULL) {
		p->scheme = xstrndup(url, (size_t)(sep - url));
		pu_lower(p->scheme);
		auth = sep + 3;
		slash = strchr(auth, '/');
		hostport = xstrndup(auth, slash ? (size_t)(slash - auth) : strlen(auth));
		ssh = strcmp(p->scheme, "ssh") == 0 || strcmp(p->scheme, "git+ssh") == 0 ||
			strcmp(p->scheme, "git") == 0;
		if (!ssh && strcmp(p->scheme, "https") != 0 && strcmp(p->scheme, "http") != 0) {
			free(hostport);
			return error_set(err, false, "url %s: scheme '%s' names no provider", url, p->scheme);
		}
		pu_split_path(p, slash ? slash : "");
	} else {
		/* scp-like: [user@]host:path, with no '/' before the ':' */
		colon = strchr(url, ':');
		slash = strchr(url, '/');
		if (colon == NULL || (slash != NULL && slash < colon))
			return error_set(err, false, "url %s: neither scheme://host/path nor host:path", url);
		hostport = xstrndup(url, (size_t)(colon - url));
		p->scheme = xstrdup("ssh");
		ssh = true;
		pu_split_path(p, colon + 1);
	}
	at = strrchr(hostport, '@');
	p->authority = xstrdup(at ? at + 1 : hostport);
	free(hostport);
	pu_lower(p->authority);
	colon = strchr(p->authority, ':');
	p->host = colon ? xstrndup(p->authority, (size_t)(colon - p->authority)) : xstrdup(p->authority);
	if (ssh) {
		/* The SSH port says nothing about HTTPS. */
		free(p->authority);
		p->authority = xstrdup(p->host);
		free(p->scheme);
		p->scheme = xstrdup("https");
	}
	if (p->host[0] == '\0')
		return error_set(err, false, "url %s: no host", url);
	return 0;
}

static bool
pu_host_ends(const char *host, const char *suffix)
{
	size_t h = strlen(host), s = strlen(suffix);

	return h > s && strcmp(host + h - s, suffix) == 0 && host[h - s - 1] == '.';
}

enum provider
provider_detect_host(const char *host)
{
	if (strcasecmp(host, "github.com") == 0 || pu_host_ends(host, "ghe.com"))
		return PROVIDER_GITHUB;
	if (strcasecmp(host, "gitlab.com") == 0)
		return PROVIDER_GITLAB;
	if (strcasecmp(host, "bitbucket.org") == 0)
		return PROVIDER_BITBUCKET;
	if (strcasecmp(host, "dev.azure.com") == 0 || strcasecmp(host, "ssh.dev.azure.com") == 0 ||
	    pu_host_ends(host, "visualstudio.com"))
		return PROVIDER_AZURE;
	if (strcasecmp(host, "codeberg.org") == 0 || strcasecmp(host, "gitea.com") == 0)
		return PROVIDER_GITEA;
	return PROVIDER_NONE;
}

/* Joins segments [from, to) with '/', each escaped (or all as one escaped segment when one_segment). */
static void
pu_join(struct sbuf *sb, const struct strlist *segs, size_t from, size_t to, bool one_segment)
{
	size_t i;

	for (i = from; i < to; i++) {
		if (i > from) {
			if (one_segment)
				sbuf_adds(sb, "%2F");
			else
				sbuf_adds(sb, "/");
		}
		pu_escape(sb, segs->items[i]);
	}
}

/*
 * When api_url carries a path before the API suffix ("https://h/gitlab/api/v4"), that is the instance's
 * sub-path: the number of leading URL segments it matches is returned (they are not part of the repository).
 */
static size_t
pu_api_prefix(const char *api_url, const char *suffix, const struct pu_parts *p)
{
	struct pu_parts a = { 0 };
	struct error e = ERROR_INIT;
	size_t n = 0, i, k;
	char *u;

	if (api_url == NULL)
		return 0;
	u = xstrdup(api_url);
	while (u[0] != '\0' && u[strlen(u) - 1] == '/')
		u[strlen(u) - 1] = '\0';
	if (strlen(u) >= strlen(suffix) && strcmp(u + strlen(u) - strlen(suffix), suffix) == 0)
		u[strlen(u) - strlen(suffix)] = '\0';
	if (pu_split(u, &a, &e) == 0) {
		k = a.segs.len;
		for (i = 0; i < k && i < p->segs.len; i++)
			if (strcmp(a.segs.items[i], p->segs.items[i]) != 0)
				break;
		if (i == k)
			n = k;
	}
	pu_parts_clear(&a);
	free(u);
	return n;
}

static char *
pu_base(const struct pu_parts *p, size_t nprefix, const char *suffix)
{
	struct sbuf sb = SBUF_INIT;

	sbuf_addf(&sb, "%s://%s", p->scheme, p->authority);
	if (nprefix > 0) {
		sbuf_adds(&sb, "/");
		pu_join(&sb, &p->segs, 0, nprefix, false);
	}
	sbuf_adds(&sb, suffix);
	return sbuf_detach(&sb);
}

/* GitHub and Gitea: OWNER/REPO are the last two segments; what comes before is the instance's sub-path. */
static int
pu_github_like(const struct pu_parts *p, enum provider kind, struct provider_repo *r, const char *url,
	struct error *err)
{
	const char *suffix = kind == PROVIDER_GITHUB ? "/api/v3" : "/api/v1";
	struct sbuf sb = SBUF_INIT;
	size_t n = p->segs.len;

	if (n < 2)
		return error_set(err, false, "url %s: expected OWNER/REPOSITORY in the path", url);
	if (kind == PROVIDER_GITHUB && strcmp(p->host, "github.com") == 0)
		r->api_base = xstrdup("https://api.github.com");
	else if (kind == PROVIDER_GITHUB && pu_host_ends(p->host, "ghe.com"))
		r->api_base = xasprintf("https://api.%s", p->host);
	else
		r->api_base = pu_base(p, n - 2, suffix);
	sbuf_adds(&sb, "/repos/");
	pu_join(&sb, &p->segs, n - 2, n, false);
	r->repo_path = sbuf_detach(&sb);
	r->display = xasprintf("%s/%s", p->segs.items[n - 2], p->segs.items[n - 1]);
	sbuf_addf(&sb, "%s://%s/", p->scheme, p->authority);
	pu_join(&sb, &p->segs, 0, n, false);
	r->web_base = sbuf_detach(&sb);
	return 0;
}

static int
pu_gitlab(const struct pu_parts *p, const char *api_url, struct provider_repo *r, const char *url,
	struct error *err)
{
	size_t skip = pu_api_prefix(api_url, "/api/v4", p), i;
	struct sbuf sb = SBUF_INIT;

	if (p->segs.len < skip + 2)
		return error_set(err, false, "url %s: expected GROUP[/SUBGROUP…]/PROJECT in the path", url);
	r->api_base = pu_base(p, skip, "/api/v4");
	sbuf_adds(&sb, "/projects/");
	pu_join(&sb, &p->segs, skip, p->segs.len, true);
	r->repo_path = sbuf_detach(&sb);
	for (i = skip; i < p->segs.len; i++)
		sbuf_addf(&sb, "%s%s", i > skip ? "/" : "", p->segs.items[i]);
	r->display = sbuf_detach(&sb);
	sbuf_addf(&sb, "%s://%s/", p->scheme, p->authority);
	pu_join(&sb, &p->segs, 0, p->segs.len, false);
	r->web_base = sbuf_detach(&sb);
	return 0;
}

static int
pu_bitbucket(const struct pu_parts *p, struct provider_repo *r, const char *url, struct error *err)
{
	struct sbuf sb = SBUF_INIT;

	if (p->segs.len != 2)
		return error_set(err, false, "url %s: expected WORKSPACE/REPOSITORY in the path", url);
	r->api_base = xstrdup("https://api.bitbucket.org/2.0");
	sbuf_adds(&sb, "/repositories/");
	pu_join(&sb, &p->segs, 0, 2, false);
	r->repo_path = sbuf_detach(&sb);
	r->display = xasprintf("%s/%s", p->segs.items[0], p->segs.items[1]);
	sbuf_adds(&sb, "https://bitbucket.org/");
	pu_join(&sb, &p->segs, 0, 2, false);
	r->web_base = sbuf_detach(&sb);
	return 0;
}

/*
 * Azure DevOps: https://dev.azure.com/ORG[/PROJECT]/_git/REPO, https://ORG.visualstudio.com[/DefaultCollection]
 * [/PROJECT]/_git/REPO, ssh.dev.azure.com:v3/ORG/PROJECT/REPO, vs-ssh.visualstudio.com:v3/ORG/PROJECT/REPO, and an
 * Azure DevOps Server https://HOST/COLLECTION[/PROJECT]/_git/REPO. Without PROJECT, the project is the repository.
 */
static int
pu_azure(const struct pu_parts *p, struct provider_repo *r, const char *url, struct error *err)
{
	const struct strlist *s = &p->segs;
	const char *org = NULL, *project = NULL, *repo = NULL;
	struct sbuf sb = SBUF_INIT;
	size_t g, first = 0;
	bool legacy = pu_host_ends(p->host, "visualstudio.com");

	if (s->len == 4 && strcmp(s->items[0], "v3") == 0) {
		org = s->items[1];
		project = s->items[2];
		repo = s->items[3];
		if (legacy)
			r->api_base = xasprintf("https://%s.visualstudio.com", org);
		else
			r->api_base = xasprintf("https://dev.azure.com/%s", org);
	} else {
		for (g = 0; g < s->len; g++)
			if (strcmp(s->items[g], "_git") == 0)
				break;
		if (g + 2 != s->len)
			return error_set(err, false, "url %s: expected …/[PROJECT/]_git/REPOSITORY", url);
		repo = s->items[g + 1];
		if (strcmp(p->host, "dev.azure.com") == 0) {
			if (g < 1 || g > 2)
				return error_set(err, false, "url %s: expected dev.azure.com/ORG/[PROJECT/]_git/REPO",
					url);
			org = s->items[0];
			project = g == 2 ? s->items[1] : repo;
			r->api_base = xasprintf("https://dev.azure.com/%s", org);
		} else {
			if (legacy && g > 0 && strcasecmp(s->items[0], "DefaultCollection") == 0)
				first = 1;
			if (legacy) {
				if (g - first > 1)
					return error_set(err, false, "url %s: expected ORG.visualstudio.com/"
						"[DefaultCollection/][PROJECT/]_git/REPO", url);
				project = g - first == 1 ? s->items[g - 1] : repo;
				r->api_base = pu_base(p, 0, "");
			} else {
				/* Azure DevOps Server: the collection is every segment before the project. */
				if (g < 1)
					return error_set(err, false, "url %s: expected COLLECTION/[PROJECT/]_git/REPO",
						url);
				project = g >= 2 ? s->items[g - 1] : repo;
				r->api_base = pu_base(p, g >= 2 ? g - 1 : g, "");
			}
			org = p->host;
		}
	}
	sbuf_adds(&sb, "/");
	pu_escape(&sb, project);
	sbuf_adds(&sb, "/_apis/git/repositories/");
	pu_escape(&sb, repo);
	r->repo_path = sbuf_detach(&sb);
	r->display = xasprintf("%s/%s/%s", org, project, repo);
	sbuf_adds(&sb, r->api_base);
	sbuf_adds(&sb, "/");
	pu_escape(&sb, project);
	sbuf_adds(&sb, "/_git/");
	pu_escape(&sb, repo);
	r->web_base = sbuf_detach(&sb);
	return 0;
}

int
provider_repo_parse(enum provider kind, const char *url, const char *api_url, struct provider_repo *out,
	struct error *err)
{
	struct provider_repo r = PROVIDER_REPO_INIT;
	struct pu_parts p = { 0 };
	int rv = -1;

	if (url == NULL || *url == '\0')
		return error_set(err, false, "no url names the repository at its provider");
	if (pu_split(url, &p, err) < 0)
		goto out;
	if (kind == PROVIDER_NONE || kind == PROVIDER_GENERIC)
		kind = provider_detect_host(p.host);
	if (kind == PROVIDER_NONE) {
		error_set(err, false, "url %s: host %s is not a known provider; set provider = "
			"\"github\" | \"gitlab\" | \"bitbucket\" | \"azure\" | \"gitea\"", url, p.host);
		goto out;
	}
	r.kind = kind;
	r.host = xstrdup(p.host);
	switch (kind) {
	case PROVIDER_GITHUB:
	case PROVIDER_GITEA:
		rv = pu_github_like(&p, kind, &r, url, err);
		break;
	case PROVIDER_GITLAB:
		rv = pu_gitlab(&p, api_url, &r, url, err);
		break;
	case PROVIDER_BITBUCKET:
		rv = pu_bitbucket(&p, &r, url, err);
		break;
	case PROVIDER_AZURE:
		rv = pu_azure(&p, &r, url, err);
		break;
	default:
		error_set(err, false, "url %s: provider %s does not comment", url, config_provider_name(kind));
		rv = -1;
	}
	if (rv < 0)
		goto out;
	if (api_url != NULL && *api_url != '\0') {
		free(r.api_base);
		r.api_base = xstrdup(api_url);
		while (r.api_base[0] && r.api_base[strlen(r.api_base) - 1] == '/')
			r.api_base[strlen(r.api_base) - 1] = '\0';
	}
	*out = r;
	memset(&r, 0, sizeof(r));
	rv = 0;
out:
	provider_repo_clear(&r);
	pu_parts_clear(&p);
	return rv;
}

void
provider_repo_clear(struct provider_repo *r)
{
	if (r == NULL)
		return;
	free(r->host);
	free(r->api_base);
	free(r->repo_path);
	free(r->display);
	free(r->web_base);
	memset(r, 0, sizeof(*r));
}
