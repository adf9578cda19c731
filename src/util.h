/*
 * util.h — allocation that aborts on exhaustion, a growable string buffer, and small string helpers.
 */
#ifndef BBGITOPS_UTIL_H
#define BBGITOPS_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);          /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A NUL-terminated growable buffer; STRBUF_INIT is empty; strbuf_release frees and resets. */
struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
};
#define STRBUF_INIT { NULL, 0, 0 }
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
const char *strbuf_str(const struct strbuf *sb);   /* "" for an empty buffer, never NULL */
char *strbuf_detach(struct strbuf *sb);            /* caller frees; buffer is reset */
void strbuf_reset(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);

/* A list of owned strings. */
struct strlist {
	char **items;
	size_t len;
	size_t cap;
};
#define STRLIST_INIT { NULL, 0, 0 }
void strlist_push(struct strlist *l, char *owned);
void strlist_pushf(struct strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strlist_clear(struct strlist *l);

bool str_starts_with(const char *s, const char *prefix);
bool str_is_hex_oid(const char *s);   /* 40 lowercase hex digits */
bool str_is_zero_oid(const char *s);  /* 40 zeros */

/* Monotonic and wall clock seconds. */
double time_monotonic(void);
long long time_now(void);

#endif
