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

/*
 * A NUL-terminated growable buffer. Named sbuf, not strbuf: libconfig exports strbuf_release/strbuf_append
 * and a strbuf_* of ours would interpose on them and corrupt its parser.
 * SBUF_INIT is empty; sbuf_release frees and resets.
 */
struct sbuf {
	char *buf;
	size_t len;
	size_t cap;
};
#define SBUF_INIT { NULL, 0, 0 }
void sbuf_add(struct sbuf *sb, const void *data, size_t len);
void sbuf_adds(struct sbuf *sb, const char *s);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
const char *sbuf_str(const struct sbuf *sb);   /* "" for an empty buffer, never NULL */
char *sbuf_detach(struct sbuf *sb);            /* caller frees; buffer is reset */
void sbuf_reset(struct sbuf *sb);
void sbuf_release(struct sbuf *sb);

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

/* A set of strings (open addressing, FNV-1a); strset_add copies the key and returns false when present. */
struct strset {
	char **slots;
	size_t cap;
	size_t len;
};
#define STRSET_INIT { NULL, 0, 0 }
bool strset_add(struct strset *set, const char *key);
bool strset_contains(const struct strset *set, const char *key);
void strset_clear(struct strset *set);

/*
 * A path as git prints it (quote_c_style, core.quotePath = true): unchanged when every byte is printable ASCII
 * other than '"' and '\\'; otherwise in double quotes, with \a \b \t \n \v \f \r \" \\ and every other byte
 * below 0x20 or from 0x7f up as three octal digits. Every path printed for a person goes through this.
 */
void sbuf_add_quoted_path(struct sbuf *sb, const char *path);
char *str_quote_path(const char *path);   /* caller frees */

bool str_starts_with(const char *s, const char *prefix);
/* S as valid UTF-8: each byte that does not start a valid sequence becomes U+FFFD. NULL gives "". Caller frees. */
char *str_utf8_clean(const char *s);
bool str_is_hex_oid(const char *s);   /* 40 lowercase hex digits */
bool str_is_zero_oid(const char *s);  /* 40 zeros */

/* Monotonic and wall clock seconds. */
double time_monotonic(void);
long long time_now(void);

#endif
