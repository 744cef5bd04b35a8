/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * intake_write.c -- the spool form written (intake_impl.h): LF line
 * endings, the size counted as sent (CRLF endings) and held to the limit,
 * whether a byte >= 0x80 went out, lines broken or folded at the limit.
 *
 * Decisions: lines longer than 998 octets (RFC 5322 §2.1.1; RFC 5321
 * §4.5.3.1.6 allows 1000 with CRLF): a body line is broken into pieces of
 * 998 octets with LF (this changes the text, which is unavoidable: the
 * server would refuse or break it anyway). A header line is folded at the
 * last white space before the limit; when there is none it is broken with
 * LF + space (which inserts a space into the value).
 */
#include "common.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "intake_impl.h"
#include "status.h"

static int	 w_toobig(const struct writer *, struct err *);
static int	 w_add(struct writer *, const char *, size_t, struct err *);

int
intake_w_flush(struct writer *w, struct err *err)
{
	size_t off = 0;
	ssize_t n;

	while (off < w->len) {
		n = write(w->fd, w->buf + off, w->len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return err_set(err, ERR_IO, "writing the spool "
			    "file: %s", strerror(errno));
		}
		off += (size_t)n;
	}
	w->len = 0;
	return 0;
}

/* Stops the message at the size limit (opts->max_size), before exit 0. */
static int
w_toobig(const struct writer *w, struct err *err)
{
	if (w->max <= 0 || w->size <= w->max)
		return 0;
	if (w->cure != NULL)
		return err_set(err, ERR_DATA, "message larger than the limit "
		    "of %lld bytes; %s", (long long)w->max, w->cure);
	return err_set(err, ERR_DATA, "message larger than the limit of %lld "
	    "bytes; send a smaller one, or raise max_message_size in the "
	    "configuration (oauthmail.conf(5))", (long long)w->max);
}

/* Raw bytes; the caller accounts line endings in w->size. */
static int
w_add(struct writer *w, const char *p, size_t n, struct err *err)
{
	size_t i, k;

	for (i = 0; i < n && !w->high; i++)
		if ((unsigned char)p[i] >= 0x80)
			w->high = 1;
	w->size += n;
	if (w_toobig(w, err) == -1)
		return -1;
	while (n > 0) {
		if (w->len == sizeof(w->buf) && intake_w_flush(w, err) == -1)
			return -1;
		k = sizeof(w->buf) - w->len;
		if (k > n)
			k = n;
		memcpy(w->buf + w->len, p, k);
		w->len += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* p[0..n) and a line ending (two octets on the wire). */
int
intake_w_line(struct writer *w, const char *p, size_t n, struct err *err)
{
	if (w_add(w, p, n, err) == -1 || w_add(w, "\n", 1, err) == -1)
		return -1;
	w->size++;
	return w_toobig(w, err);
}

/* Body text: lines broken every INTAKE_MAX_LINE octets. */
int
intake_w_body(struct writer *w, const char *p, size_t n, int eol,
    struct err *err)
{
	size_t k;

	while (n > 0) {
		if (w->col == INTAKE_MAX_LINE) {
			if (intake_w_line(w, NULL, 0, err) == -1)
				return -1;
			w->col = 0;
		}
		k = INTAKE_MAX_LINE - (size_t)w->col;
		if (k > n)
			k = n;
		if (w_add(w, p, k, err) == -1)
			return -1;
		w->col += (int)k;
		p += k;
		n -= k;
	}
	if (eol) {
		if (intake_w_line(w, NULL, 0, err) == -1)
			return -1;
		w->col = 0;
	}
	return 0;
}

/* One header field (lines joined by LF), long lines folded. */
int
intake_w_header(struct writer *w, const char *raw, size_t len,
    struct err *err)
{
	const char *p = raw, *nl;
	size_t n, max, b, f;
	int lead;

	while (len > 0 || p == raw) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) : len;
		len -= nl != NULL ? n + 1 : n;
		for (lead = 0;;) {
			max = INTAKE_MAX_LINE - (size_t)lead;
			if (n <= max) {
				if ((lead && w_add(w, " ", 1, err) == -1) ||
				    intake_w_line(w, p, n, err) == -1)
					return -1;
				break;
			}
			/* last white space that leaves text before it */
			for (f = 0; f < n && (p[f] == ' ' || p[f] == '\t'); f++)
				;
			for (b = max; b > f && p[b] != ' ' && p[b] != '\t'; b--)
				;
			if (b <= f)
				b = max;	/* none: break with LF + SP */
			if ((lead && w_add(w, " ", 1, err) == -1) ||
			    intake_w_line(w, p, b, err) == -1)
				return -1;
			lead = b == max && p[b] != ' ' && p[b] != '\t';
			p += b;
			n -= b;
		}
		p += n + (nl != NULL);
		if (nl == NULL)
			break;
	}
	return 0;
}
