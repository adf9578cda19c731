/*
 * http.h — the one libcurl easy handle of a delivery run: keep-alive to the Bytebase server, connect and total
 * timeouts, TLS verification always on (optional CA file), a capped response body, no redirects, the status code
 * read by the caller. Request bodies are fed through a read callback without a seek callback, so libcurl can never
 * silently re-send a POST on a reused connection that died: the caller sees the error and looks its object up.
 * Only "METHOD /path -> status" is ever logged (debug level): never headers, bodies or the bearer token.
 */
#ifndef BBGITOPS_HTTP_H
#define BBGITOPS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* The reply cap of a request whose body is small; callers size larger caps from what they send. */
#define HTTP_MAX_RESPONSE ((size_t)8 * 1024 * 1024)
/* The longest wait a Retry-After header can impose, in seconds. */
#define HTTP_RETRY_AFTER_MAX 3600L

struct http;

struct http_options {
	const char *base_url;     /* "https://bytebase.example.com", without trailing '/' */
	long timeout;             /* seconds per request (connect and total); <= 0: 30 */
	const char *ca_file;      /* or NULL: the system CAs */
};

struct http_response {
	long status;              /* HTTP status code */
	char *body;               /* NUL-terminated, owned; "" when empty */
	size_t len;
	long retry_after;         /* seconds from a Retry-After header (at most HTTP_RETRY_AFTER_MAX), -1 when absent */
};

#define HTTP_RESPONSE_INIT { 0, NULL, 0, -1 }

/* Initializes libcurl once per process and creates the handle. Returns 0, or -1 with err set. */
int http_open(const struct http_options *opts, struct http **out, struct error *err);
void http_close(struct http *h);                        /* NULL is fine */

/* No request starts after DEADLINE (a time_monotonic() value; 0 = none); each is cut to the time left. */
void http_set_deadline(struct http *h, double deadline);

/*
 * Sends METHOD (GET or POST) to base_url + PATH (path and query, already escaped) with an optional bearer TOKEN
 * and an optional JSON BODY; a reply body longer than MAX_RESPONSE bytes is refused. Returns 0 with *resp filled
 * whatever the status (caller frees with http_response_clear), or -1 with err set when no response arrived
 * (connect error, timeout, a connection closed without a reply, oversized body): such errors are transient.
 */
int http_request(struct http *h, const char *method, const char *path, const char *token, const char *body,
	size_t max_response, struct http_response *resp, struct error *err);
void http_response_clear(struct http_response *resp);

/* A request to any URL with caller-made headers (the Git provider APIs: each has its own auth header). */
struct http_call {
	const char *method;         /* GET, POST, PUT, PATCH */
	const char *url;            /* absolute, already escaped */
	const char *const *headers; /* NULL-terminated extra header lines, or NULL; never logged */
	const char *body;           /* JSON, or NULL */
};

/* What the reply's headers said beyond the status (all optional). */
struct http_meta {
	char *link_next;            /* Link: <URL>; rel="next", or NULL */
	char *next_page;            /* GitLab's X-Next-Page, or NULL */
	long ratelimit_remaining;   /* X-RateLimit-Remaining / RateLimit-Remaining, -1 when absent */
	long long ratelimit_reset;  /* X-RateLimit-Reset / RateLimit-Reset (unix seconds), -1 when absent */
	char *oauth_scopes;         /* GitHub's X-OAuth-Scopes, or NULL when absent */
};

#define HTTP_META_INIT { NULL, NULL, -1, -1, NULL }

/*
 * Sends CALL on the run's handle (base_url is not used), the reply capped at HTTP_MAX_RESPONSE. Like
 * http_request: 0 with *resp (and *meta when not NULL) filled whatever the status, -1 with a transient err when
 * no response arrived. The copies libcurl made of the header lines are wiped; the caller wipes its own.
 */
int http_send(struct http *h, const struct http_call *call, struct http_response *resp, struct http_meta *meta,
	struct error *err);
void http_meta_clear(struct http_meta *meta);

/* Percent-encodes S for a query string (every byte outside [A-Za-z0-9-._~]). Caller frees. */
char *http_escape(const char *s);

/* Requests sent and connections opened by this handle so far (for logs and the benchmark). */
void http_stats(const struct http *h, long *requests, long *connections);

#endif
