/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * rfc5322.c -- bounded push/pull header scanner; see rfc5322.h.
 *
 * RFC 5322 §2.2: a header field is a name of printable US-ASCII
 * characters other than ':' (33-126), a colon and a body; a line starting
 * with white space continues the previous field (§2.2.3 folding). The
 * obsolete syntax (§4.5) allows white space between the name and the
 * colon; it is accepted and left out of the name.
 */
#include "common.h"

#include <errno.h>
#include <string.h>

#include "rfc5322.h"

enum {
	S_START = 0,	/* no line seen yet */
	S_FIELD,	/* inside a header field */
	S_BODY,		/* after the header block */
	S_ERROR
};

static void	ev_push(struct rfc5322_parser *, enum rfc5322_event,
		    const char *, size_t, const char *, size_t, int);
static int	start_line(struct rfc5322_parser *, const char *, size_t);

void
rfc5322_init(struct rfc5322_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = S_START;
}

int
rfc5322_is_field(const char *line, size_t len, size_t *namelen)
{
	size_t i, n;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c == ':' || c <= 32 || c >= 127)
			break;
	}
	n = i;
	if (n == 0)
		return 0;
	/* obs-optional: WSP between the name and the colon */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= len || line[i] != ':')
		return 0;
	if (namelen != NULL)
		*namelen = n;
	return 1;
}

static void
ev_push(struct rfc5322_parser *p, enum rfc5322_event ev, const char *name,
    size_t namelen, const char *value, size_t valuelen, int inserted)
{
	struct rfc5322_result *r;

	/* At most three events per line; the queue holds four. */
	r = &p->q[(p->qhead + p->qlen) % RFC5322_MAXEV];
	p->qlen++;
	r->ev = ev;
	r->name.p = name;
	r->name.len = namelen;
	r->value.p = value;
	r->value.len = valuelen;
	r->inserted = inserted;
}

/* A line that is not a continuation, at the start or after a field. */
static int
start_line(struct rfc5322_parser *p, const char *line, size_t len)
{
	size_t namelen, i;

	if (len == 0) {
		ev_push(p, RFC5322_END_OF_HDRS, NULL, 0, NULL, 0, 0);
		p->state = S_BODY;
		return 0;
	}
	if (!rfc5322_is_field(line, len, &namelen)) {
		ev_push(p, RFC5322_END_OF_HDRS, NULL, 0, NULL, 0, 1);
		ev_push(p, RFC5322_BODY, NULL, 0, line, len, 0);
		p->state = S_BODY;
		return 0;
	}
	if (namelen > LIM_HDR_NAME || len > LIM_HDR_VALUE ||
	    p->nfields >= LIM_HDR_COUNT) {
		p->qlen = 0;
		p->state = S_ERROR;
		errno = E2BIG;
		return -1;
	}
	i = namelen;
	while (line[i] != ':')
		i++;
	i++;
	p->nfields++;
	p->fieldlen = len;
	ev_push(p, RFC5322_HDR_START, line, namelen, line + i, len - i, 0);
	p->state = S_FIELD;
	return 0;
}

int
rfc5322_push(struct rfc5322_parser *p, const char *line, size_t len)
{
	if (p->qlen != 0 || p->state == S_ERROR) {
		errno = EINVAL;
		return -1;
	}
	switch (p->state) {
	case S_START:
		return start_line(p, line, len);
	case S_FIELD:
		if (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
			/* +1: the line break that folding keeps */
			if (len + 1 > LIM_HDR_VALUE - p->fieldlen) {
				p->state = S_ERROR;
				errno = E2BIG;
				return -1;
			}
			p->fieldlen += len + 1;
			ev_push(p, RFC5322_HDR_CONT, NULL, 0, line, len, 0);
			return 0;
		}
		ev_push(p, RFC5322_HDR_END, NULL, 0, NULL, 0, 0);
		return start_line(p, line, len);
	case S_BODY:
		ev_push(p, RFC5322_BODY, NULL, 0, line, len, 0);
		return 0;
	}
	errno = EINVAL;
	return -1;
}

int
rfc5322_push_eof(struct rfc5322_parser *p)
{
	if (p->qlen != 0 || p->state == S_ERROR) {
		errno = EINVAL;
		return -1;
	}
	switch (p->state) {
	case S_FIELD:
		ev_push(p, RFC5322_HDR_END, NULL, 0, NULL, 0, 0);
		/* FALLTHROUGH */
	case S_START:
		ev_push(p, RFC5322_END_OF_HDRS, NULL, 0, NULL, 0, 1);
		p->state = S_BODY;
		break;
	default:
		break;
	}
	return 0;
}

enum rfc5322_event
rfc5322_next(struct rfc5322_parser *p, struct rfc5322_result *res)
{
	if (p->qlen == 0) {
		memset(res, 0, sizeof(*res));
		return RFC5322_NONE;
	}
	*res = p->q[p->qhead];
	p->qhead = (p->qhead + 1) % RFC5322_MAXEV;
	p->qlen--;
	return res->ev;
}

int
rfc5322_in_body(const struct rfc5322_parser *p)
{
	return p->state == S_BODY;
}

const char *
rfc5322_event_str(enum rfc5322_event ev)
{
	static const char *names[] = {
		"none", "header-start", "header-cont", "header-end",
		"end-of-headers", "body"
	};

	if ((size_t)ev >= nitems(names))
		return "?";
	return names[ev];
}
