/*
 * bb_client.c — the Bytebase client core: login, one call, paging, errors, and the server's release range.
 * Request bodies carry exactly what each flow file builds; replies are read with absent keys as defaults. The token
 * lives only in this struct and is wiped on close; nothing here logs it.
 */
#include "bb_client.h"
#include "bb_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "log.h"
#include "util.h"

static void
bb_wipe(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int
bb_open(const struct bytebase_config *cfg, struct bb **out, struct error *err)
{
	struct http_options hopts = { cfg->url, cfg->timeout, cfg->ca_file };
	struct bb *bb = xcalloc(1, sizeof(*bb));

	bb->cfg = cfg;
	bb->retry_after = -1;
	bb->urandom = -1;
	if (config_bytebase_key(cfg, &bb->key, err) < 0) {
		error_prefix(err, "bytebase service key");
		goto fail;
	}
	if (http_open(&hopts, &bb->http, err) < 0)
		goto fail;
	*out = bb;
	return 0;
fail:
	bb_close(bb);
	return -1;
}

void
bb_close(struct bb *bb)
{
	if (bb == NULL)
		return;
	http_close(bb->http);
	bb_wipe(bb->key);
	bb_wipe(bb->token);
	bb_caches_clear(bb);
	if (bb->urandom >= 0)
		close(bb->urandom);
	free(bb);
}

void
bb_set_deadline(struct bb *bb, double deadline)
{
	http_set_deadline(bb->http, deadline);
}

void
bb_stats(const struct bb *bb, long *requests, long *connections)
{
	http_stats(bb->http, requests, connections);
}

const struct bytebase_config *
bb_config(const struct bb *bb)
{
	return bb->cfg;
}

long
bb_retry_after(const struct bb *bb)
{
	return bb->retry_after;
}

int
bb_last_code(const struct bb *bb)
{
	return bb->last_code;
}

/* --- JSON helpers --- */

const char *
bb_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *
bb_nonempty(const json_t *obj, const char *key)
{
	const char *s = bb_str(obj, key);

	return s != NULL && *s != '\0' ? s : NULL;
}

int
bb_set(json_t *obj, const char *key, json_t *value, struct error *err)
{
	if (value == NULL || json_object_set_new(obj, key, value) != 0)
		return error_set(err, false, "cannot build the request: field \"%s\"", key);
	return 0;
}

int
bb_append(json_t *arr, json_t *value, struct error *err)
{
	if (value == NULL || json_array_append_new(arr, value) != 0)
		return error_set(err, false, "cannot build the request: a list element");
	return 0;
}

json_t *
bb_jstring(const char *s)
{
	json_t *v;
	char *clean;

	v = json_string(s ? s : "");
	if (v != NULL)
		return v;
	/* Not UTF-8 (the engine decodes commit text, but stay safe): each bad byte becomes U+FFFD. */
	clean = str_utf8_clean(s);
	v = json_string(clean);
	free(clean);
	return v;
}

char *
bb_base64(const void *data, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *out = xmalloc(4 * ((len + 2) / 3) + 1), *o = out;
	size_t i;
	unsigned v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = tab[v >> 6 & 63];
		*o++ = tab[v & 63];
	}
	if (i < len) {
		v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < len ? tab[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* SHA-256 (FIPS 180-4): Bytebase names a release file's content by it (sheetSha256). */
static const uint32_t bb_sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define BB_ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
bb_sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		    p[4 * i + 3];
	for (i = 16; i < 64; i++)
		w[i] = w[i - 16] + (BB_ROR(w[i - 15], 7) ^ BB_ROR(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 7] +
		    (BB_ROR(w[i - 2], 17) ^ BB_ROR(w[i - 2], 19) ^ (w[i - 2] >> 10));
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (BB_ROR(e, 6) ^ BB_ROR(e, 11) ^ BB_ROR(e, 25)) + ((e & f) ^ (~e & g)) + bb_sha256_k[i] + w[i];
		t2 = (BB_ROR(a, 2) ^ BB_ROR(a, 13) ^ BB_ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void
bb_sha256_hex(const void *data, size_t len, char out[65])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
		0x5be0cd19 };
	const unsigned char *p = data;
	unsigned char tail[128];
	uint64_t bits = (uint64_t)len * 8;
	size_t i, rest, n;

	for (i = 0; i + 64 <= len; i += 64)
		bb_sha256_block(h, p + i);
	rest = len - i;
	memset(tail, 0, sizeof(tail));
	if (rest > 0)
		memcpy(tail, p + i, rest);
	tail[rest] = 0x80;
	n = rest + 1 + 8 <= 64 ? 64 : 128;
	for (i = 0; i < 8; i++)
		tail[n - 1 - i] = (unsigned char)(bits >> (8 * i));
	bb_sha256_block(h, tail);
	if (n == 128)
		bb_sha256_block(h, tail + 64);
	for (i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", (unsigned)h[i]);
}

int
bb_uuid4(struct bb *bb, char out[37], struct error *err)
{
	unsigned char b[16];
	size_t got = 0;
	ssize_t n;

	if (bb->urandom < 0) {
		bb->urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (bb->urandom < 0)
			return error_set(err, false, "/dev/urandom: %s", strerror(errno));
	}
	while (got < sizeof(b)) {
		n = read(bb->urandom, b + got, sizeof(b) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error_set(err, false, "/dev/urandom: %s", n < 0 ? strerror(errno) : "end of file");
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

char *
bb_project_path(const char *project, const char *what)
{
	char *esc = http_escape(project), *path;

	path = xasprintf("/v1/projects/%s/%s", esc, what);
	free(esc);
	return path;
}

/* --- errors and calls --- */

/* The error of a non-2xx response: Bytebase's message, an unknown-field rejection named as such. */
static int
bb_http_error(struct bb *bb, const char *method, const char *path, const struct http_response *resp,
	struct error *err)
{
	json_t *root = NULL;
	const char *msg = NULL, *uf;
	char field[128];
	size_t n;
	/* 401 here came right after a fresh login: a server-side hiccup, not the fault. */
	bool transient = resp->status >= 500 || resp->status == 429 || resp->status == 408 || resp->status == 401;

	bb->last_code = 0;
	bb->retry_after = resp->retry_after;
	root = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
	if (json_is_object(root)) {
		msg = bb_str(root, "message");
		if (json_is_integer(json_object_get(root, "code")))
			bb->last_code = (int)json_integer_value(json_object_get(root, "code"));
	}
	if (msg == NULL || *msg == '\0')
		msg = resp->status == 404 ? "not found" : "no message";
	if (resp->status == 400 && (uf = strstr(msg, "unknown field \"")) != NULL) {
		uf += strlen("unknown field \"");
		n = strcspn(uf, "\"");
		if (n >= sizeof(field))
			n = sizeof(field) - 1;
		memcpy(field, uf, n);
		field[n] = '\0';
		error_set(err, false, "incompatible Bytebase API: %s %s: the server rejects the field \"%s\" "
			"(set bytebase.api to the server's release, e.g. \"3.8\"): %s", method, path, field, msg);
	} else {
		error_set(err, transient, "%s %s: HTTP %ld: %s", method, path, resp->status, msg);
	}
	if (err != NULL)
		err->http_status = (int)resp->status;
	json_decref(root);
	return -1;
}

static void
bb_wipe_member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
}

int
bb_login(struct bb *bb, struct error *err)
{
	json_t *body = NULL, *resp = NULL;
	const char *token;
	int ret = -1;

	bb_wipe(bb->token);
	bb->token = NULL;
	/* No "web" field: a service account logging in as web gets 403 on >= 3.9.1. */
	body = json_pack("{s:s, s:s}", "email", bb->cfg->service_account, "password", bb->key);
	if (body == NULL) {
		error_set(err, false, "login: cannot build the request");
		goto out;
	}
	if (bb_call(bb, "POST", "/v1/auth/login", body, &resp, err) < 0) {
		error_prefix(err, "login as %s", bb->cfg->service_account);
		goto out;
	}
	token = bb_nonempty(resp, "token");
	if (token == NULL) {
		error_set(err, false, "login as %s: no token in the response", bb->cfg->service_account);
		goto out;
	}
	bb->token = xstrdup(token);
	bb->logins++;
	ret = 0;
out:
	/* The key was copied into the JSON value, the token into the reply: wipe those copies too. */
	bb_wipe_member(body, "password");
	json_decref(body);
	bb_wipe_member(resp, "token");
	json_decref(resp);
	return ret;
}

/* The reply cap of a call that sent LEN bytes: a server may echo the body (statements) back, twice over. */
static size_t
bb_reply_cap(size_t len)
{
	return HTTP_MAX_RESPONSE + 2 * len;
}

static int
bb_call_capped(struct bb *bb, const char *method, const char *path, const json_t *body, size_t cap, json_t **out,
	struct error *err)
{
	struct http_response resp = HTTP_RESPONSE_INIT;
	bool anonymous = strcmp(path, "/v1/auth/login") == 0 || strcmp(path, "/v1/actuator/info") == 0;
	char *text = NULL;
	json_t *root = NULL;
	json_error_t jerr;
	int attempt, ret = -1;

	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL) {
			error_set(err, false, "%s %s: cannot encode the request", method, path);
			goto out;
		}
	}
	if (text != NULL && bb_reply_cap(strlen(text)) > cap)
		cap = bb_reply_cap(strlen(text));
	for (attempt = 0; attempt < 2; attempt++) {
		if (!anonymous && bb->token == NULL && bb_login(bb, err) < 0)
			goto out;
		http_response_clear(&resp);
		if (http_request(bb->http, method, path, anonymous ? NULL : bb->token, text, cap, &resp, err) < 0) {
			bb->retry_after = -1;
			bb->last_code = 0;
			goto out;
		}
		if (resp.status == 401 && !anonymous && attempt == 0) {
			/* Service-account tokens last an hour: log in again once and repeat the call. */
			log_debug("token rejected; logging in again");
			bb_wipe(bb->token);
			bb->token = NULL;
			continue;
		}
		break;
	}
	if (resp.status < 200 || resp.status > 299) {
		bb_http_error(bb, method, path, &resp, err);
		goto out;
	}
	bb->retry_after = -1;
	bb->last_code = 0;
	if (out != NULL) {
		if (resp.len == 0) {
			root = json_object();
		} else {
			root = json_loadb(resp.body, resp.len, 0, &jerr);
			if (root == NULL) {
				error_set(err, true, "%s %s: HTTP %ld with an unreadable body: %s", method, path,
					resp.status, jerr.text);
				goto out;
			}
			if (!json_is_object(root)) {
				error_set(err, true, "%s %s: HTTP %ld: the body is not a JSON object", method, path,
					resp.status);
				goto out;
			}
		}
		*out = root;
		root = NULL;
	}
	ret = 0;
out:
	json_decref(root);
	http_response_clear(&resp);
	if (text != NULL) {
		/* The login body holds the service key. */
		explicit_bzero(text, strlen(text));
		free(text);
	}
	return ret;
}

int
bb_call(struct bb *bb, const char *method, const char *path, const json_t *body, json_t **out, struct error *err)
{
	return bb_call_capped(bb, method, path, body, HTTP_MAX_RESPONSE, out, err);
}

int
bb_create(struct bb *bb, const char *path, const json_t *body, char **name, struct error *err)
{
	json_t *resp = NULL;
	const char *n;
	int ret = -1;

	if (body == NULL) {
		error_set(err, false, "POST %s: cannot build the request", path);
		goto out;
	}
	if (bb_call(bb, "POST", path, body, &resp, err) < 0)
		goto out;
	n = bb_nonempty(resp, "name");
	if (n == NULL) {
		error_set(err, false, "POST %s: no name in the response", path);
		goto out;
	}
	*name = xstrdup(n);
	ret = 0;
out:
	json_decref(resp);
	return ret;
}

int
bb_get(struct bb *bb, const char *name, json_t **out, struct error *err)
{
	char *path = xasprintf("/v1/%s", name);
	int ret;

	ret = bb_call(bb, "GET", path, NULL, out, err);
	free(path);
	return ret;
}

int
bb_list(struct bb *bb, const char *base, const char *list_key, const char *what, size_t reply_cap,
	int (*fn)(const json_t *item, void *arg), void *arg, struct error *err)
{
	struct sbuf path = SBUF_INIT;
	struct strset seen = STRSET_INIT;
	json_t *resp = NULL, *item;
	char *token = NULL, *esc;
	int rc = 0;
	size_t i;

	do {
		sbuf_reset(&path);
		sbuf_adds(&path, base);
		if (token != NULL) {
			esc = http_escape(token);
			sbuf_addf(&path, "&pageToken=%s", esc);
			free(esc);
		}
		json_decref(resp);
		resp = NULL;
		if (bb_call_capped(bb, "GET", sbuf_str(&path), NULL, reply_cap, &resp, err) < 0) {
			if (what != NULL)
				error_prefix(err, "%s", what);
			rc = -1;
			break;
		}
		json_array_foreach(json_object_get(resp, list_key), i, item) {
			rc = fn(item, arg);
			if (rc != 0)
				goto out;
		}
		free(token);
		token = xstrdup(bb_nonempty(resp, "nextPageToken"));
		if (token != NULL && !strset_add(&seen, token)) {
			/* A server handing the same token back would page for ever. */
			rc = error_set(err, true, "%s: the server repeats page token \"%s\"", what ? what : base, token);
			break;
		}
	} while (token != NULL);
out:
	strset_clear(&seen);
	free(token);
	json_decref(resp);
	sbuf_release(&path);
	return rc;
}

/* --- versions and ranges --- */

bool
bb_version_parse(const char *s, struct bb_version *v)
{
	int n = 0, m = 0;

	if (s == NULL)
		return false;
	if (strcmp(s, "development") == 0) {
		v->major = BB_NEWEST_KNOWN_MAJOR;
		v->minor = BB_NEWEST_KNOWN_MINOR;
		v->patch = 0;
		return true;
	}
	if (*s == 'v' || *s == 'V')
		s++;
	v->major = v->minor = v->patch = 0;
	if (sscanf(s, "%9d%n", &v->major, &n) != 1 || v->major < 0)
		return false;
	if (s[n] == '\0')
		return true;
	if (sscanf(s + n, ".%9d%n", &v->minor, &m) != 1 || v->minor < 0)
		return false;
	n += m;
	if (s[n] == '.' && sscanf(s + n, ".%9d%n", &v->patch, &m) == 1)
		n += m;
	/* "3.8.1-rc1", "3.21.1+git": the numbers decide. */
	return s[n] == '\0' || s[n] == '-' || s[n] == '+';
}

static int
bb_version_cmp(const struct bb_version *v, int major, int minor)
{
	if (v->major != major)
		return v->major < major ? -1 : 1;
	if (v->minor != minor)
		return v->minor < minor ? -1 : 1;
	return 0;
}

enum bb_range
bb_range_of(const struct bb_version *v, bool *newer)
{
	if (newer != NULL)
		*newer = bb_version_cmp(v, BB_NEWEST_KNOWN_MAJOR, BB_NEWEST_KNOWN_MINOR) > 0;
	if (bb_version_cmp(v, 2, 15) < 0)
		return BB_RANGE_UNKNOWN;
	if (bb_version_cmp(v, 2, 17) < 0)
		return BB_RANGE_2_15;
	if (bb_version_cmp(v, 3, 6) < 0)
		return BB_RANGE_2_17;
	if (bb_version_cmp(v, 3, 7) < 0)
		return BB_RANGE_3_6;
	if (bb_version_cmp(v, 3, 14) < 0)
		return BB_RANGE_3_7;
	return BB_RANGE_3_14;
}

const char *
bb_range_name(enum bb_range r)
{
	switch (r) {
	case BB_RANGE_2_15:
		return "2.15-2.16";
	case BB_RANGE_2_17:
		return "2.17-3.5";
	case BB_RANGE_3_6:
		return "3.6";
	case BB_RANGE_3_7:
		return "3.7-3.13";
	case BB_RANGE_3_14:
		return "3.14+";
	case BB_RANGE_UNKNOWN:
		break;
	}
	return "unknown";
}

void
bb_server_clear(struct bb_server *s)
{
	free(s->reported);
	memset(s, 0, sizeof(*s));
}

enum bb_range
bb_current_range(const struct bb *bb)
{
	return bb->range;
}

const struct bb_version *
bb_current_version(const struct bb *bb)
{
	return &bb->version;
}

int
bb_detect(struct bb *bb, struct bb_server *out, struct error *err)
{
	json_t *resp = NULL;
	const char *v;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	switch (bb->cfg->api) {
	case BYTEBASE_API_2:
		out->version = (struct bb_version){ 2, 17, 0 };
		break;
	case BYTEBASE_API_3:
		out->version = (struct bb_version){ 3, 14, 0 };
		break;
	case BYTEBASE_API_RELEASE:
		if (!bb_version_parse(bb->cfg->api_release, &out->version))
			return error_set(err, false, "bytebase.api \"%s\" is not a release number",
				bb->cfg->api_release ? bb->cfg->api_release : "");
		break;
	case BYTEBASE_API_AUTO:
		if (bb_call(bb, "GET", "/v1/actuator/info", NULL, &resp, err) < 0) {
			error_prefix(err, "reading the Bytebase version");
			goto out;
		}
		v = bb_str(resp, "version");
		if (!bb_version_parse(v, &out->version)) {
			error_set(err, false, "unreadable Bytebase version \"%s\" in /v1/actuator/info "
				"(set bytebase.api to the server's release, e.g. \"3.8\")", v ? v : "");
			goto out;
		}
		out->reported = xstrdup(v);
		break;
	}
	out->range = bb_range_of(&out->version, &out->newer);
	if (out->range == BB_RANGE_UNKNOWN) {
		error_set(err, false, "Bytebase %d.%d.%d is older than 2.15, the oldest release bbgitops supports",
			out->version.major, out->version.minor, out->version.patch);
		goto out;
	}
	bb->range = out->range;
	bb->version = out->version;
	ret = 0;
out:
	if (ret < 0)
		bb_server_clear(out);
	json_decref(resp);
	return ret;
}
