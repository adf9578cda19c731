/*
 * http.c — one libcurl easy handle per delivery run: keep-alive, timeouts, TLS verification, capped responses.
 * Request bodies go through a read callback with no seek callback: if a reused connection dies after the request
 * was sent, libcurl cannot rewind and re-send it behind our back, so a create is never duplicated by the transport.
 */
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "log.h"
#include "util.h"

struct http {
	CURL *curl;
	char *base_url;
	long timeout;
	double deadline;
	char errbuf[CURL_ERROR_SIZE];
	long requests;
	long connections;
};

struct http_body_reader {
	const char *data;
	size_t len;
	size_t off;
};

struct http_sink {
	struct sbuf body;
	size_t max;
	bool too_large;
	long retry_after;
	struct http_meta *meta;   /* or NULL: only Retry-After is read */
};

static bool http_global_done;

int
http_open(const struct http_options *opts, struct http **out, struct error *err)
{
	struct http *h = NULL;
	CURLcode rc;

	if (!http_global_done) {
		rc = curl_global_init(CURL_GLOBAL_DEFAULT);
		if (rc != CURLE_OK)
			return error_set(err, false, "curl_global_init: %s", curl_easy_strerror(rc));
		http_global_done = true;
	}
	h = xcalloc(1, sizeof(*h));
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h);
		return error_set(err, false, "curl_easy_init failed");
	}
	h->base_url = xstrdup(opts->base_url);
	h->timeout = opts->timeout > 0 ? opts->timeout : 30;

	/* Everything that stays the same for the whole run is set here, once. */
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "bbgitops/" PACKAGE_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	if (opts->ca_file != NULL && *opts->ca_file != '\0') {
		rc = curl_easy_setopt(h->curl, CURLOPT_CAINFO, opts->ca_file);
		if (rc != CURLE_OK) {
			http_close(h);
			return error_set(err, false, "ca_file %s: %s", opts->ca_file, curl_easy_strerror(rc));
		}
	}
	*out = h;
	return 0;
}

void
http_close(struct http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	free(h->base_url);
	free(h);
}

void
http_set_deadline(struct http *h, double deadline)
{
	h->deadline = deadline;
}

void
http_stats(const struct http *h, long *requests, long *connections)
{
	*requests = h->requests;
	*connections = h->connections;
}

static size_t
http_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct http_body_reader *r = arg;
	size_t n = size * nitems;

	if (n > r->len - r->off)
		n = r->len - r->off;
	memcpy(buf, r->data + r->off, n);
	r->off += n;
	return n;
}

static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_sink *s = arg;
	size_t n = size * nmemb;

	if (s->body.len + n > s->max) {
		s->too_large = true;
		return 0;   /* makes libcurl fail with CURLE_WRITE_ERROR */
	}
	sbuf_add(&s->body, ptr, n);
	return n;
}

/* The value of header NAME ("name:") in the line BUF, trimmed, as a new string; NULL for another header. */
static char *
http_header_value(const char *buf, size_t n, const char *name)
{
	size_t i, vlen, nl = strlen(name);

	if (n <= nl || strncasecmp(buf, name, nl) != 0)
		return NULL;
	i = nl;
	while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	vlen = n - i;
	while (vlen > 0 && isspace((unsigned char)buf[i + vlen - 1]))
		vlen--;
	return xstrndup(buf + i, vlen);
}

/* The URL of rel="next" in a Link header value: <url>; rel="next", <url>; rel="last" */
static char *
http_link_next(const char *v)
{
	const char *lt, *gt, *end;

	while ((lt = strchr(v, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
		end = strchr(gt, ',');
		if (end == NULL)
			end = gt + strlen(gt);
		if (memmem(gt, (size_t)(end - gt), "rel=\"next\"", 10) != NULL ||
		    memmem(gt, (size_t)(end - gt), "rel=next", 8) != NULL)
			return xstrndup(lt + 1, (size_t)(gt - lt - 1));
		v = end;
	}
	return NULL;
}

/* The provider APIs' headers: pagination, rate limits, token scopes. */
static void
http_meta_header(struct http_meta *m, const char *buf, size_t n)
{
	char *v;

	if ((v = http_header_value(buf, n, "link:")) != NULL) {
		free(m->link_next);
		m->link_next = http_link_next(v);
	} else if ((v = http_header_value(buf, n, "x-next-page:")) != NULL) {
		free(m->next_page);
		m->next_page = *v ? xstrdup(v) : NULL;
	} else if ((v = http_header_value(buf, n, "x-ratelimit-remaining:")) != NULL ||
	    (v = http_header_value(buf, n, "ratelimit-remaining:")) != NULL) {
		m->ratelimit_remaining = isdigit((unsigned char)v[0]) ? strtol(v, NULL, 10) : -1;
	} else if ((v = http_header_value(buf, n, "x-ratelimit-reset:")) != NULL ||
	    (v = http_header_value(buf, n, "ratelimit-reset:")) != NULL) {
		m->ratelimit_reset = isdigit((unsigned char)v[0]) ? strtoll(v, NULL, 10) : -1;
	} else if ((v = http_header_value(buf, n, "x-oauth-scopes:")) != NULL) {
		free(m->oauth_scopes);
		m->oauth_scopes = xstrdup(v);
	}
	free(v);
}

static size_t
http_header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct http_sink *s = arg;
	size_t n = size * nitems;
	static const char name[] = "retry-after:";
	char value[128];
	size_t i, vlen;
	time_t when;

	if (s->meta != NULL)
		http_meta_header(s->meta, buf, n);
	if (n <= sizeof(name) - 1 || strncasecmp(buf, name, sizeof(name) - 1) != 0)
		return n;
	i = sizeof(name) - 1;
	while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	vlen = n - i;
	while (vlen > 0 && isspace((unsigned char)buf[i + vlen - 1]))
		vlen--;
	if (vlen == 0 || vlen >= sizeof(value))
		return n;
	memcpy(value, buf + i, vlen);
	value[vlen] = '\0';
	if (isdigit((unsigned char)value[0])) {
		s->retry_after = strtol(value, NULL, 10);
	} else {
		/* An HTTP date. */
		when = curl_getdate(value, NULL);
		if (when != (time_t)-1)
			s->retry_after = when > time(NULL) ? (long)(when - time(NULL)) : 0;
	}
	/* A server may ask for anything; an hour at most keeps one reply from parking an issue for days. */
	if (s->retry_after > HTTP_RETRY_AFTER_MAX)
		s->retry_after = HTTP_RETRY_AFTER_MAX;
	return n;
}

/*
 * Our words for the transport errors that mean "the server hung up": libcurl's own ("necessary data rewind wasn't
 * possible", "Empty reply from server") describe its internals, not what happened.
 */
static const char *
http_curl_message(CURLcode rc, const char *errbuf)
{
	switch (rc) {
	case CURLE_SEND_FAIL_REWIND:
	case CURLE_GOT_NOTHING:
		return "server closed the connection without a reply";
	default:
		return errbuf[0] ? errbuf : curl_easy_strerror(rc);
	}
}

/*
 * Sends one request to URL with HEADERS (owned by the caller) and fills *resp (and *meta); PATH names it in
 * messages and logs. See http_request.
 */
static int
http_perform(struct http *h, const char *method, const char *url, const char *path, struct curl_slist *headers,
	const char *body, size_t max_response, struct http_response *resp, struct http_meta *meta, struct error *err)
{
	struct http_body_reader reader = { body, body ? strlen(body) : 0, 0 };
	struct http_sink sink = { SBUF_INIT, max_response, false, -1, meta };
	long timeout_ms = h->timeout * 1000L, connects = 0, status = 0;
	double left;
	CURLcode rc;
	int ret = -1;

	if (h->deadline > 0) {
		left = h->deadline - time_monotonic();
		if (left <= 0) {
			error_set(err, true, "%s %s: delivery deadline reached", method, path);
			goto out;
		}
		if (left * 1000.0 < (double)timeout_ms)
			timeout_ms = (long)(left * 1000.0) + 1;
	}

	h->errbuf[0] = '\0';
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &sink);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, NULL);
	} else {
		curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)reader.len);
		curl_easy_setopt(h->curl, CURLOPT_READFUNCTION, http_read_cb);
		curl_easy_setopt(h->curl, CURLOPT_READDATA, &reader);
		curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") == 0 ? NULL : method);
	}

	h->requests++;
	rc = curl_easy_perform(h->curl);
	if (curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK)
		h->connections += connects;
	if (rc != CURLE_OK) {
		if (sink.too_large)
			error_set(err, true, "%s %s: response larger than %zu bytes", method, path, sink.max);
		else
			error_set(err, true, "%s %s: %s", method, path, http_curl_message(rc, h->errbuf));
		if (err != NULL)
			err->http_status = 0;
		log_debug("%s %s -> %s", method, path, h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	log_debug("%s %s -> %ld", method, path, status);
	resp->status = status;
	resp->len = sink.body.len;
	resp->body = sbuf_detach(&sink.body);
	resp->retry_after = sink.retry_after;
	ret = 0;
out:
	/* The handle must not keep pointers into this call's stack or the header list. */
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_READDATA, NULL);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, NULL);
	sbuf_release(&sink.body);
	return ret;
}

int
http_request(struct http *h, const char *method, const char *path, const char *token, const char *body,
	size_t max_response, struct http_response *resp, struct error *err)
{
	struct curl_slist *headers = NULL;
	char *url = NULL, *auth = NULL;
	int ret;

	url = xasprintf("%s%s", h->base_url, path);
	headers = curl_slist_append(headers, "Accept: application/json");
	/* No "Expect: 100-continue" round trip: Bytebase reads the whole body before it answers anyway. */
	headers = curl_slist_append(headers, "Expect:");
	if (body != NULL)
		headers = curl_slist_append(headers, "Content-Type: application/json");
	if (token != NULL) {
		auth = xasprintf("Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, auth);
	}
	ret = http_perform(h, method, url, path, headers, body, max_response, resp, NULL, err);
	curl_slist_free_all(headers);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(url);
	return ret;
}

int
http_send(struct http *h, const struct http_call *call, struct http_response *resp, struct http_meta *meta,
	struct error *err)
{
	struct curl_slist *headers = NULL, *l;
	const char *const *hp;
	char *logname;
	int ret;

	/* Messages and logs name the URL without its query. */
	logname = xstrndup(call->url, strcspn(call->url, "?"));
	headers = curl_slist_append(headers, "Expect:");
	if (call->body != NULL)
		headers = curl_slist_append(headers, "Content-Type: application/json");
	for (hp = call->headers; hp != NULL && *hp != NULL; hp++)
		headers = curl_slist_append(headers, *hp);
	ret = http_perform(h, call->method, call->url, logname, headers, call->body, HTTP_MAX_RESPONSE, resp, meta,
		err);
	/* curl_slist_append copied the lines: wipe the copies, one of them holds a credential. */
	for (l = headers; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(headers);
	free(logname);
	return ret;
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
	if (resp == NULL)
		return;
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
	char enc[3];

	for (p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			sbuf_add(&sb, p, 1);
		} else {
			enc[0] = '%';
			enc[1] = hex[*p >> 4];
			enc[2] = hex[*p & 15];
			sbuf_add(&sb, enc, 3);
		}
	}
	return sbuf_detach(&sb);
}
