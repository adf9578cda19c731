/*
 * http-replay.c — http.h for the Bytebase reply fuzzer: no network; each request is answered with the next reply
 * the fuzz target queued (status and body), and fails as a dropped connection once they run out. This is what
 * lets the real reply handling of the Bytebase client (bb_client.c and the flows) run on arbitrary bytes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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
