/*
 * util.c — allocation, string buffers and string lists shared by every module, and git's quoting of paths for
 * messages.
 */
#include "util.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
oom(void)
{
	fputs("bbgitops: out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom();
	return q;
}

char *
xstrdup(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		oom();
	return d;
}

char *
xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (d == NULL)
		oom();
	return d;
}

char *
xasprintf(const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (sb.buf == NULL)
		return xstrdup("");
	return sbuf_detach(&sb);
}

static void
sbuf_grow(struct sbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;

	if (need <= sb->cap)
		return;
	if (sb->cap * 2 > need)
		need = sb->cap * 2;
	if (need < 64)
		need = 64;
	sb->buf = xrealloc(sb->buf, need);
	sb->cap = need;
}

void
sbuf_add(struct sbuf *sb, const void *data, size_t len)
{
	sbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void
sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void
sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	sbuf_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void
sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

const char *
sbuf_str(const struct sbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

char *
sbuf_detach(struct sbuf *sb)
{
	char *s = sb->buf ? sb->buf : xstrdup("");

	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void
sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void
sbuf_release(struct sbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

void
strlist_push(struct strlist *l, char *owned)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->len++] = owned;
}

void
strlist_pushf(struct strlist *l, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strlist_push(l, sbuf_detach(&sb));
}

void
strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->len = l->cap = 0;
}

bool
str_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

void
sbuf_add_quoted_path(struct sbuf *sb, const char *path)
{
	static const char escapes[] = "\a\b\t\n\v\f\r";
	static const char letters[] = "abtnvfr";
	const unsigned char *c;
	bool plain = true;

	for (c = (const unsigned char *)path; *c != '\0' && plain; c++)
		plain = *c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\';
	if (plain) {
		sbuf_adds(sb, path);
		return;
	}
	sbuf_add(sb, "\"", 1);
	for (c = (const unsigned char *)path; *c != '\0'; c++) {
		const char *e = *c != '\0' ? strchr(escapes, *c) : NULL;

		if (*c == '"' || *c == '\\')
			sbuf_addf(sb, "\\%c", *c);
		else if (e != NULL)
			sbuf_addf(sb, "\\%c", letters[e - escapes]);
		else if (*c < 0x20 || *c >= 0x7f)
			sbuf_addf(sb, "\\%03o", *c);
		else
			sbuf_add(sb, c, 1);
	}
	sbuf_add(sb, "\"", 1);
}

char *
str_quote_path(const char *path)
{
	struct sbuf sb = SBUF_INIT;

	sbuf_add_quoted_path(&sb, path);
	return sbuf_detach(&sb);
}

bool
str_is_hex_oid(const char *s)
{
	size_t i;

	for (i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[40] == '\0';
}

bool
str_is_zero_oid(const char *s)
{
	size_t i;

	for (i = 0; i < 40; i++)
		if (s[i] != '0')
			return false;
	return s[40] == '\0';
}

double
time_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long long
time_now(void)
{
	return (long long)time(NULL);
}

static size_t
strset_hash(const char *key)
{
	size_t h = (size_t)14695981039346656037ULL;

	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= (size_t)1099511628211ULL;
	}
	return h;
}

static size_t
strset_slot(char *const *slots, size_t cap, const char *key)
{
	size_t i = strset_hash(key) & (cap - 1);

	while (slots[i] != NULL && strcmp(slots[i], key) != 0)
		i = (i + 1) & (cap - 1);
	return i;
}

bool
strset_contains(const struct strset *set, const char *key)
{
	if (set->cap == 0)
		return false;
	return set->slots[strset_slot(set->slots, set->cap, key)] != NULL;
}

bool
strset_add(struct strset *set, const char *key)
{
	size_t i;

	if ((set->len + 1) * 2 > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64, j;
		char **slots = xcalloc(cap, sizeof(*slots));

		for (j = 0; j < set->cap; j++)
			if (set->slots[j] != NULL)
				slots[strset_slot(slots, cap, set->slots[j])] = set->slots[j];
		free(set->slots);
		set->slots = slots;
		set->cap = cap;
	}
	i = strset_slot(set->slots, set->cap, key);
	if (set->slots[i] != NULL)
		return false;
	set->slots[i] = xstrdup(key);
	set->len++;
	return true;
}

void
strset_clear(struct strset *set)
{
	size_t i;

	for (i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	set->slots = NULL;
	set->cap = set->len = 0;
}

/* Length of the valid UTF-8 sequence at S (1-4), or 0 when it is not one. */
static size_t
utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

char *
str_utf8_clean(const char *s)
{
	struct sbuf sb = SBUF_INIT;
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n;

	while (*p) {
		n = utf8_seq(p);
		if (n == 0) {
			sbuf_adds(&sb, "\xEF\xBF\xBD");
			p++;
		} else {
			sbuf_add(&sb, p, n);
			p += n;
		}
	}
	return sbuf_detach(&sb);
}
