/*
 * http-replay.c — http.h for the Bytebase and provider reply fuzzers: no network; each request is answered with the next reply
 * the fuzz target queued (status and body), and fails as a dropped connection once they run out. This is what
 * lets the real reply handling of the Bytebase client (bb_client.c and the flows) run on arbitrary bytes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http-replay.h"
#include "util.h"

struct http {
	int unused;
};

static const struct replay_reply *replay_replies;
static size_t replay_n, replay_next;

void
replay_set(const struct replay_reply *replies, size_t n)
{
	replay_replies = replies;
	replay_n = n;
	replay_next = 0;
}

int
http_open(const struct http_options *opts, struct http **out, struct error *err)
{
	(void)opts;
	(void)err;
	*out = xcalloc(1, sizeof(**out));
	return 0;
}

void
http_close(struct http *h)
{
	free(h);
}

void
http_set_deadline(struct http *h, double deadline)
{
	(void)h;
	(void)deadline;
}

int
http_request(struct http *h, const char *method, const char *path, const char *token, const char *body,
	size_t max_response, struct http_response *resp, struct error *err)
{
	const struct replay_reply *r;

	(void)h;
	(void)token;
	(void)body;
	if (replay_next >= replay_n)
		return error_set(err, true, "%s %s: server closed the connection without a reply", method, path);
	r = &replay_replies[replay_next++];
	if (r->len > max_response)
		return error_set(err, true, "%s %s: response larger than %zu bytes", method, path, max_response);
	resp->status = r->status;
	resp->body = xmalloc(r->len + 1);
	memcpy(resp->body, r->body, r->len);
	resp->body[r->len] = '\0';
	resp->len = r->len;
	resp->retry_after = r->retry_after;
	return 0;
}

/*
 * The provider APIs' calls: the same replies; a reply may begin with lines "next URL" (a Link rel="next"),
 * "remaining N", "reset N" and "scopes S" for the reply's headers.
 */
int
http_send(struct http *h, const struct http_call *call, struct http_response *resp, struct http_meta *meta,
	struct error *err)
{
	const struct replay_reply *r;
	const char *p, *end, *nl;
	char *line;
	size_t n;

	(void)h;
	if (replay_next >= replay_n)
		return error_set(err, true, "%s %s: server closed the connection without a reply", call->method,
			call->url);
	r = &replay_replies[replay_next++];
	p = r->body;
	end = r->body + r->len;
	while (meta != NULL && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n = (size_t)(nl - p);
		/* The fuzzer's input is not NUL-terminated: strtol (which skips "\r\n") must read a copy of the line. */
		line = xstrndup(p, n);
		if (n > 5 && strncmp(p, "next ", 5) == 0) {
			free(meta->link_next);
			meta->link_next = xstrndup(p + 5, n - 5);
		} else if (n > 10 && strncmp(p, "remaining ", 10) == 0) {
			meta->ratelimit_remaining = strtol(line + 10, NULL, 10);
		} else if (n > 6 && strncmp(p, "reset ", 6) == 0) {
			/* Always an hour away: a fuzzed reset must never make the target sleep in place. */
			meta->ratelimit_reset = (long long)time(NULL) + 3600 + (strtoll(line + 6, NULL, 10) & 0xffff);
		} else if (n > 7 && strncmp(p, "scopes ", 7) == 0) {
			free(meta->oauth_scopes);
			meta->oauth_scopes = xstrndup(p + 7, n - 7);
		} else {
			free(line);
			break;
		}
		free(line);
		p = nl + 1;
	}
	resp->status = r->status;
	resp->len = (size_t)(end - p);
	resp->body = xmalloc(resp->len + 1);
	memcpy(resp->body, p, resp->len);
	resp->body[resp->len] = '\0';
	/* A fuzzed Retry-After must not make the target sleep: waits above the inline bound are never slept. */
	resp->retry_after = r->retry_after >= 0 ? 3600 : -1;
	return 0;
}

void
http_meta_clear(struct http_meta *meta)
{
	if (meta == NULL)
		return;
	free(meta->link_next);
	free(meta->next_page);
	free(meta->oauth_scopes);
	meta->link_next = meta->next_page = meta->oauth_scopes = NULL;
	meta->ratelimit_remaining = -1;
	meta->ratelimit_reset = -1;
}

void
http_response_clear(struct http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
	resp->status = 0;
	resp->retry_after = -1;
}

char *
http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct sbuf sb = SBUF_INIT;
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			sbuf_add(&sb, p, 1);
		} else {
			char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			sbuf_add(&sb, enc, 3);
		}
	}
	return sbuf_detach(&sb);
}

void
http_stats(const struct http *h, long *requests, long *connections)
{
	(void)h;
	*requests = (long)replay_next;
	*connections = 1;
}
