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

static size_t
http_header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct http_sink *s = arg;
	size_t n = size * nitems;
	static const char name[] = "retry-after:";
	char value[128];
	size_t i, vlen;
	time_t when;

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

int
http_request(struct http *h, const char *method, const char *path, const char *token, const char *body,
	size_t max_response, struct http_response *resp, struct error *err)
{
	struct http_body_reader reader = { body, body ? strlen(body) : 0, 0 };
	struct http_sink sink = { SBUF_INIT, max_response, false, -1 };
	struct curl_slist *headers = NULL;
	char *url = NULL, *auth = NULL;
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
	curl_slist_free_all(headers);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	sbuf_release(&sink.body);
	free(url);
	return ret;
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
