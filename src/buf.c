/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* buf.c -- bounded growable buffer; see buf.h. */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "xmalloc.h"

void
buf_init(struct buf *b, size_t max, int flags)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->flags = flags;
}

static int
buf_grow(struct buf *b, size_t need)
{
	size_t ncap;
	char *p;

	if (need > b->max) {
		buf_free(b);
		errno = E2BIG;
		return -1;
	}
	if (need + 1 <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need + 1)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if (b->flags & BUF_SECRET) {
		p = malloc(ncap);
		if (p == NULL) {
			buf_free(b);
			errno = ENOMEM;
			return -1;
		}
		if (b->data != NULL) {
			memcpy(p, b->data, b->len + 1);
			freezero(b->data, b->cap);
		}
	} else {
		p = realloc(b->data, ncap);
		if (p == NULL) {
			buf_free(b);
			errno = ENOMEM;
			return -1;
		}
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n > b->max || b->len > b->max - n) {
		buf_free(b);
		errno = E2BIG;
		return -1;
	}
	if (buf_grow(b, b->len + n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addc(struct buf *b, int c)
{
	char ch = (char)c;

	return buf_add(b, &ch, 1);
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256], *big = NULL;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		buf_free(b);
		errno = EINVAL;
		return -1;
	}
	if ((size_t)n < sizeof(small)) {
		r = buf_add(b, small, (size_t)n);
		explicit_bzero(small, sizeof(small));
		return r;
	}
	big = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	(void)vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	r = buf_add(b, big, (size_t)n);
	freezero(big, (size_t)n + 1);
	return r;
}

const char *
buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

void
buf_reset(struct buf *b)
{
	if (b->data != NULL) {
		if (b->flags & BUF_SECRET)
			explicit_bzero(b->data, b->cap);
		b->data[0] = '\0';
	}
	b->len = 0;
}

char *
buf_detach(struct buf *b, size_t *lenp)
{
	char *p = b->data;

	if (p == NULL)
		p = xstrdup("");
	if (lenp != NULL)
		*lenp = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_free(struct buf *b)
{
	if (b->data != NULL) {
		if (b->flags & BUF_SECRET)
			freezero(b->data, b->cap);
		else
			free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

struct span
span_from(const char *s)
{
	struct span sp = { s, s != NULL ? strlen(s) : 0 };

	return sp;
}

int
span_eq(struct span s, const char *t)
{
	size_t n = strlen(t);

	/* n == 0: the span may be {NULL, 0}, which memcmp must not see. */
	return s.len == n && (n == 0 || memcmp(s.p, t, n) == 0);
}

int
span_ieq(struct span s, const char *t)
{
	size_t n = strlen(t);

	return s.len == n && (n == 0 || strncasecmp(s.p, t, n) == 0);
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct span
span_trim(struct span s)
{
	while (s.len > 0 && is_ws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && is_ws(s.p[s.len - 1]))
		s.len--;
	return s;
}

char *
span_dup(struct span s)
{
	return xstrndup(s.p, s.len);
}
