/*
 * provider.c — the common part of the Git provider clients: opening (URL → API, token → auth header), one call
 * with rate-limit handling, full pagination, our-comment matching, and the comment flow (merged pull request →
 * upsert; none → the commit fallback). Each provider's endpoints live in provider_<name>.c.
 */
#include "provider_impl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Waits up to this long in place for a rate limit to lift; longer waits go back to the outbox's schedule. */
#define PROVIDER_INLINE_WAIT 30
#define PROVIDER_INLINE_TRIES 3
/* Pages followed at most, against a server that links a page to itself. */
#define PROVIDER_MAX_PAGES 1000

static char *
provider_base64(const char *s)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i, o = 0;
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	unsigned v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = tbl[v >> 6 & 63];
		out[o++] = tbl[v & 63];
	}
	if (i < n) {
		v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
		out[o++] = tbl[v >> 18 & 63];
		out[o++] = tbl[v >> 12 & 63];
		out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

static void
provider_wipe(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

/* The header line each provider expects (provider-comment-api.md §4). */
static char *
provider_auth_header(enum provider kind, const char *token)
{
	char *tmp, *b64, *line;

	switch (kind) {
	case PROVIDER_GITHUB:
		return xasprintf("Authorization: Bearer %s", token);
	case PROVIDER_GITLAB:
		return xasprintf("PRIVATE-TOKEN: %s", token);
	case PROVIDER_BITBUCKET:
		/* "user:app-password" or "email:api-token" go as Basic; an access token as Bearer. */
		if (strchr(token, ':') == NULL)
			return xasprintf("Authorization: Bearer %s", token);
		b64 = provider_base64(token);
		line = xasprintf("Authorization: Basic %s", b64);
		provider_wipe(b64);
		return line;
	case PROVIDER_AZURE:
		tmp = xasprintf(":%s", token);
		b64 = provider_base64(tmp);
		line = xasprintf("Authorization: Basic %s", b64);
		provider_wipe(tmp);
		provider_wipe(b64);
		return line;
	case PROVIDER_GITEA:
		return xasprintf("Authorization: token %s", token);
	default:
		return NULL;
	}
}

int
provider_open(const struct repo_config *rc, struct http *h, struct provider_client **out, struct error *err)
{
	struct provider_client *pc = xcalloc(1, sizeof(*pc));
	char *token = NULL;
	int rv = -1;

	pc->http = h;
	pc->retry_after = -1;
	if (provider_repo_parse(rc->provider, rc->url, rc->api_url, &pc->repo, err) < 0)
		goto out;
	switch (pc->repo.kind) {
	case PROVIDER_GITHUB:
		pc->ops = &provider_github_ops;
		break;
	case PROVIDER_GITLAB:
		pc->ops = &provider_gitlab_ops;
		break;
	case PROVIDER_BITBUCKET:
		pc->ops = &provider_bitbucket_ops;
		break;
	case PROVIDER_AZURE:
		pc->ops = &provider_azure_ops;
		break;
	case PROVIDER_GITEA:
		pc->ops = &provider_gitea_ops;
		break;
	default:
		error_set(err, false, "%s: provider %s cannot comment", rc->name, config_provider_name(pc->repo.kind));
		goto out;
	}
	if (rc->token_file == NULL) {
		error_set(err, false, "%s: no token_file for the %s API", rc->name, pc->ops->name);
		goto out;
	}
	if (config_read_secret(rc->token_file, &token, err) < 0) {
		error_prefix(err, "%s: token_file", rc->name);
		goto out;
	}
	if (token[0] == '\0') {
		error_set(err, false, "%s: token_file %s is empty", rc->name, rc->token_file);
		goto out;
	}
	pc->auth_header = provider_auth_header(pc->repo.kind, token);
	*out = pc;
	pc = NULL;
	rv = 0;
out:
	provider_wipe(token);
	provider_close(pc);
	return rv;
}

void
provider_close(struct provider_client *pc)
{
	if (pc == NULL)
		return;
	provider_wipe(pc->auth_header);
	provider_repo_clear(&pc->repo);
	free(pc->oauth_scopes);
	free(pc->me);
	free(pc->azure_repo_path);
	free(pc->azure_web);
	free(pc);
}

const char *
provider_display(const struct provider_client *pc)
{
	return pc->repo.display;
}

const char *
provider_name(const struct provider_client *pc)
{
	return pc->ops->name;
}

long
provider_retry_after(const struct provider_client *pc)
{
	return pc->retry_after;
}

const char *
pj_str(json_t *obj, const char *a, const char *b)
{
	json_t *v = json_object_get(obj, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_string_value(v);
}

char *
pj_id(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	return NULL;
}

char *
provider_url_param(const char *url, const char *param)
{
	return xasprintf("%s%c%s", url, strchr(url, '?') ? '&' : '?', param);
}

/* The server's own words from an error reply, whatever the provider's shape. */
static const char *
provider_reply_message(json_t *reply)
{
	const char *m;

	if ((m = pj_str(reply, "message", NULL)) != NULL)
		return m;
	if ((m = pj_str(reply, "error", "message")) != NULL)
		return m;
	if ((m = pj_str(reply, "error", NULL)) != NULL)
		return m;
	if ((m = pj_str(reply, "error_description", NULL)) != NULL)
		return m;
	return "";
}

int
provider_status_error(struct provider_client *pc, const char *what, long status, json_t *reply,
	struct error *err)
{
	const char *m = provider_reply_message(reply);
	const char *hint = "";

	if (status == 401)
		hint = " (the token was rejected)";
	else if (status == 403)
		hint = " (the token lacks a permission)";
	else if (status == 404)
		hint = " (not found, or the token cannot see it)";
	error_set(err, status >= 500, "%s %s: %s: HTTP %ld%s%s%s", pc->ops->name, pc->repo.display, what, status, hint,
		*m ? ": " : "", m);
	if (err != NULL)
		err->http_status = (int)status;
	return -1;
}

/* Does URL stay on the API's origin? A next-page link elsewhere would carry our token away. */
static bool
provider_same_origin(const struct provider_client *pc, const char *url)
{
	const char *base = pc->repo.api_base, *p = strstr(base, "://");
	size_t n;

	if (p == NULL)
		return false;
	p = strchr(p + 3, '/');
	n = p ? (size_t)(p - base) : strlen(base);
	return strncmp(url, base, n) == 0 && (url[n] == '/' || url[n] == '?' || url[n] == '\0');
}

/* Seconds to wait for a rate limit this reply announces, or -1 when it is no rate limit. */
static long
provider_rate_wait(long status, const struct http_response *resp, const struct http_meta *meta)
{
	long long now = time_now();

	if (status != 429 && status != 403)
		return -1;
	if (resp->retry_after >= 0)
		return resp->retry_after;
	if (meta->ratelimit_remaining == 0 && meta->ratelimit_reset > 0)
		return meta->ratelimit_reset > now ? (long)(meta->ratelimit_reset - now) + 1 : 1;
	if (status == 429)
		return 60;    /* GitHub: "wait for at least one minute"; Bitbucket sends no Retry-After */
	return -1;        /* a 403 without rate-limit signals is a permission problem */
}

int
provider_call(struct provider_client *pc, const char *method, const char *url, json_t *body, json_t **reply,
	struct http_meta *meta, struct error *err)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct http_meta own = HTTP_META_INIT, *m = meta ? meta : &own;
	const char *headers[4];
	char *full = NULL, *text = NULL;
	json_error_t jerr;
	long wait;
	int tries, rv = -1;
	size_t nh = 0;

	if (reply != NULL)
		*reply = NULL;
	full = url[0] == '/' ? xasprintf("%s%s", pc->repo.api_base, url) : xstrdup(url);
	if (!provider_same_origin(pc, full)) {
		error_set(err, false, "%s: refusing to send the token to %s (not under %s)", pc->ops->name, full,
			pc->repo.api_base);
		goto out;
	}
	headers[nh++] = pc->auth_header;
	if (pc->repo.kind == PROVIDER_GITHUB) {
		headers[nh++] = "Accept: application/vnd.github+json";
		headers[nh++] = "X-GitHub-Api-Version: 2022-11-28";
	} else {
		headers[nh++] = "Accept: application/json";
	}
	headers[nh] = NULL;
	if (body != NULL)
		text = json_dumps(body, JSON_COMPACT);
	for (tries = 0;; tries++) {
		struct http_call call = { method, full, headers, text };

		http_response_clear(&resp);
		http_meta_clear(m);
		if (http_send(pc->http, &call, &resp, m, err) < 0) {
			pc->retry_after = -1;
			goto out;
		}
		if (m->oauth_scopes != NULL) {
			free(pc->oauth_scopes);
			pc->oauth_scopes = xstrdup(m->oauth_scopes);
		}
		wait = provider_rate_wait(resp.status, &resp, m);
		if (wait < 0)
			break;
		if (wait > PROVIDER_INLINE_WAIT || tries + 1 >= PROVIDER_INLINE_TRIES) {
			pc->retry_after = wait;
			error_set(err, true, "%s %s: rate limited (HTTP %ld), retry in %ld s", pc->ops->name,
				pc->repo.display, resp.status, wait);
			err->http_status = (int)resp.status;
			goto out;
		}
		log_info("%s %s: rate limited (HTTP %ld), waiting %ld s", pc->ops->name, pc->repo.display,
			resp.status, wait);
		sleep((unsigned)(wait > 0 ? wait : 1));
	}
	if (resp.status >= 500) {
		pc->retry_after = resp.retry_after;
		if (reply != NULL && resp.len > 0)
			*reply = json_loadb(resp.body, resp.len, 0, NULL);
		rv = provider_status_error(pc, method, resp.status, reply ? *reply : NULL, err);
		if (reply != NULL) {
			json_decref(*reply);
			*reply = NULL;
		}
		goto out;
	}
	if (reply != NULL && resp.len > 0) {
		*reply = json_loadb(resp.body, resp.len, 0, &jerr);
		if (*reply == NULL && resp.status < 300) {
			error_set(err, true, "%s %s: %s: reply is not JSON: %s", pc->ops->name, pc->repo.display,
				method, jerr.text);
			goto out;
		}
	}
	rv = (int)resp.status;
out:
	http_response_clear(&resp);
	http_meta_clear(&own);
	if (text != NULL)
		free(text);
	free(full);
	return rv;
}

int
provider_list(struct provider_client *pc, const char *url, int (*fn)(json_t *item, void *arg), void *arg,
	bool *not_found, struct error *err)
{
	struct http_meta meta = HTTP_META_INIT;
	json_t *reply = NULL, *items, *item;
	char *next = xstrdup(url);
	const char *bnext;
	size_t i, pages = 0;
	int status, r, rv = -1;

	if (not_found != NULL)
		*not_found = false;
	while (next != NULL) {
		if (++pages > PROVIDER_MAX_PAGES) {
			error_set(err, false, "%s %s: more than %d pages", pc->ops->name, pc->repo.display,
				PROVIDER_MAX_PAGES);
			goto out;
		}
		json_decref(reply);
		reply = NULL;
		status = provider_call(pc, "GET", next, NULL, &reply, &meta, err);
		if (status < 0)
			goto out;
		/* GitHub answers 422 "No commit found for SHA" where the others say 404. */
		if ((status == 404 || status == 422) && not_found != NULL) {
			*not_found = true;
			break;
		}
		if (status != 200) {
			provider_status_error(pc, "list", status, reply, err);
			goto out;
		}
		items = json_is_array(reply) ? reply : json_object_get(reply, "values");
		if (items == NULL)
			items = json_object_get(reply, "value");
		if (!json_is_array(items)) {
			error_set(err, false, "%s %s: a list reply holds no array", pc->ops->name, pc->repo.display);
			goto out;
		}
		json_array_foreach(items, i, item) {
			r = fn(item, arg);
			if (r < 0)
				goto out;
			if (r > 0) {
				free(next);
				next = NULL;
				rv = 0;
				goto out;
			}
		}
		free(next);
		next = NULL;
		bnext = json_is_object(reply) ? pj_str(reply, "next", NULL) : NULL;
		if (meta.link_next != NULL) {
			next = xstrdup(meta.link_next);
		} else if (bnext != NULL) {
			next = xstrdup(bnext);
		} else if (meta.next_page != NULL) {
			/* GitLab without Link (some proxies strip it): rebuild the URL with page=N. */
			next = xasprintf("%s%cpage=%s", url, strchr(url, '?') ? '&' : '?', meta.next_page);
		}
		if (next != NULL && next[0] != '/' && !provider_same_origin(pc, next)) {
			error_set(err, false, "%s %s: next page %s is not under %s", pc->ops->name,
				pc->repo.display, next, pc->repo.api_base);
			goto out;
		}
	}
	rv = 0;
out:
	free(next);
	json_decref(reply);
	http_meta_clear(&meta);
	return rv;
}

bool
provider_is_ours(const struct provider_client *pc, const char *body, const char *author)
{
	if (!provider_body_is_ours(body))
		return false;
	if (pc->me == NULL || author == NULL)
		return true;
	return strcmp(pc->me, author) == 0;
}

void
provider_resolve_identity(struct provider_client *pc)
{
	struct error e = ERROR_INIT;

	if (pc->me_resolved)
		return;
	if (pc->ops->identity(pc, &e) < 0)
		log_debug("%s %s: token identity unknown (%s); matching our comment by its prefix only",
			pc->ops->name, pc->repo.display, e.msg);
	pc->me_resolved = true;
}

struct provider_scan {
	struct provider_client *pc;
	const struct provider_upsert *up;
	struct provider_found found;
	bool have;
};

static int
provider_scan_one(json_t *item, void *arg)
{
	struct provider_scan *sc = arg;
	struct provider_found f = { NULL, NULL, NULL, NULL, NULL };

	if (!sc->up->extract(item, &f)) {
		/* An item we cannot read (or a system one) is skipped, with whatever was read of it. */
		provider_found_clear(&f);
		return 0;
	}
	if (!provider_is_ours(sc->pc, f.body, f.author)) {
		provider_found_clear(&f);
		return 0;
	}
	sc->found = f;
	sc->have = true;
	return 1;      /* the first of ours (the list is oldest first) */
}

void
provider_found_clear(struct provider_found *f)
{
	free(f->id);
	free(f->body);
	free(f->author);
	free(f->url);
	free(f->extra);
	memset(f, 0, sizeof(*f));
}

int
provider_upsert(struct provider_client *pc, const struct provider_upsert *up,
	const struct provider_comment_request *req, struct provider_comment_result *res, struct error *err)
{
	struct provider_scan sc = { pc, up, { NULL, NULL, NULL, NULL, NULL }, false };
	char *body = NULL;
	int rv = -1;

	if (provider_list(pc, up->list_url, provider_scan_one, &sc, NULL, err) < 0)
		goto out;
	if (sc.have && provider_body_has_section(sc.found.body, req->issue)) {
		/* Already there: an earlier attempt's reply was lost after the provider stored it. */
		res->url = sc.found.url;
		sc.found.url = NULL;
		rv = 0;
		goto out;
	}
	body = provider_body_merge(sc.have ? sc.found.body : NULL, req->issue);
	if (sc.have)
		rv = up->update(pc, up->ctx, &sc.found, body, &res->url, err);
	else
		rv = up->create(pc, up->ctx, body, &res->url, err);
out:
	provider_found_clear(&sc.found);
	free(body);
	return rv;
}

/* POST/PUT/PATCH BODY_JSON to URL expecting WANT (or any 2xx when 0); *reply kept for the caller. */
int
provider_write(struct provider_client *pc, const char *method, const char *url, json_t *body, long want,
	const char *what, json_t **reply, struct error *err)
{
	int status = provider_call(pc, method, url, body, reply, NULL, err);

	if (status < 0)
		return -1;
	if (want ? status != want : (status < 200 || status > 299)) {
		provider_status_error(pc, what, status, *reply, err);
		json_decref(*reply);
		*reply = NULL;
		return -1;
	}
	return 0;
}

int
provider_comment(struct provider_client *pc, const struct provider_comment_request *req,
	struct provider_comment_result *res, struct error *err)
{
	struct provider_pr pr = { NULL, NULL };
	int found, rv = -1;

	memset(res, 0, sizeof(*res));
	pc->retry_after = -1;
	provider_resolve_identity(pc);
	found = pc->ops->find_pr(pc, req->commit, req->branch, &pr, err);
	if (found < 0)
		goto out;
	if (found > 0) {
		rv = pc->ops->upsert_pr(pc, &pr, req, res, err);
		goto out;
	}
	if (!req->fallback) {
		error_set(err, true, "%s %s: no merged pull request into %s holds commit %.12s yet", pc->ops->name,
			pc->repo.display, req->branch, req->commit);
		goto out;
	}
	res->on_commit = true;
	rv = pc->ops->upsert_commit(pc, req, res, err);
out:
	free(pr.id);
	free(pr.url);
	return rv;
}

void
provider_comment_result_clear(struct provider_comment_result *res)
{
	if (res == NULL)
		return;
	free(res->url);
	res->url = NULL;
}

int
provider_check(struct provider_client *pc, struct provider_check *chk, struct error *err)
{
	memset(chk, 0, sizeof(*chk));
	chk->read = PROVIDER_CANNOT_TELL;
	chk->comment = PROVIDER_CANNOT_TELL;
	return pc->ops->check(pc, chk, err);
}
