/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * bs_parse.c -- what a -bs client sends, read and parsed; see bs_parse.h.
 * The buffered line reader, the command verb, the MAIL FROM / RCPT TO
 * argument and the DATA stream (dot-unstuffing and the end-of-data rules).
 * All of it is untrusted input: lengths are bounded by the caller's
 * buffers, and nothing here replies or spools (bs.c does).
 */
#include "common.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bs_parse.h"
#include "util.h"

#define TEXT_MAX	LIM_SMTP_LINE	/* octets of one text line */

/* ------------------------------------------------------------ reader --- */

void
bs_in_init(struct bs_in *in, int fd, int timeout)
{
	memset(in, 0, sizeof(*in));
	in->fd = fd;
	in->timeout = timeout;
}

int
bs_pending(const struct bs_in *in)
{
	return in->pos < in->len;
}

/* Refills the buffer; 1 data, 0 end of input, -1 error or timeout. */
static int
fill(struct bs_in *in)
{
	struct pollfd pfd;
	ssize_t n;
	int rc;

	if (in->eof)
		return 0;
	/* The client may be waiting for our replies before it sends more. */
	(void)fflush(stdout);
	for (;;) {
		if (in->timeout > 0) {
			pfd.fd = in->fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			rc = poll(&pfd, 1, in->timeout * 1000);
			if (rc == -1 && errno == EINTR)
				continue;
			if (rc == -1)
				return -1;
			if (rc == 0) {
				errno = ETIMEDOUT;
				return -1;
			}
		}
		n = read(in->fd, in->buf, sizeof(in->buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		break;
	}
	if (n == 0) {
		in->eof = 1;
		return 0;
	}
	in->pos = 0;
	in->len = (size_t)n;
	return 1;
}

int
bs_getline(struct bs_in *in, char *line, size_t cap, size_t *lenp)
{
	size_t len = 0;
	int rc, toolong = 0, any = 0, cr = 0;
	char c;

	*lenp = 0;
	in->crlf = 0;
	if (cap == 0)
		return BS_ERR;
	line[0] = '\0';
	for (;;) {
		if (in->pos >= in->len) {
			rc = fill(in);
			if (rc == -1)
				return BS_ERR;
			if (rc == 0) {
				if (!any)
					return BS_EOF;
				break;	/* a last line without LF */
			}
		}
		c = in->buf[in->pos++];
		any = 1;
		if (c == '\n') {
			in->crlf = cr;
			cr = 0;		/* CR LF: the CR is no data */
			break;
		}
		/* a CR is data only when something other than LF follows */
		if (cr) {
			if (len < cap - 1)
				line[len++] = '\r';
			else
				toolong = 1;
		}
		cr = c == '\r';
		if (cr)
			continue;
		if (len < cap - 1)
			line[len++] = c;
		else
			toolong = 1;
	}
	if (cr) {
		if (len < cap - 1)
			line[len++] = '\r';
		else
			toolong = 1;
	}
	line[len] = '\0';
	*lenp = len;
	return toolong ? BS_LONG : BS_LINE;
}

/* ------------------------------------------------------------ parsing -- */

static const struct {
	const char	*name;
	enum bs_verb	 verb;
} verbs[] = {
	{ "HELO", BSV_HELO }, { "EHLO", BSV_EHLO }, { "MAIL", BSV_MAIL },
	{ "RCPT", BSV_RCPT }, { "DATA", BSV_DATA }, { "RSET", BSV_RSET },
	{ "NOOP", BSV_NOOP }, { "VRFY", BSV_VRFY }, { "EXPN", BSV_EXPN },
	{ "HELP", BSV_HELP }, { "QUIT", BSV_QUIT },
	{ "STARTTLS", BSV_NOTIMPL }, { "AUTH", BSV_NOTIMPL },
	{ "BDAT", BSV_NOTIMPL }, { "ETRN", BSV_NOTIMPL },
	{ "TURN", BSV_NOTIMPL }, { "XCLIENT", BSV_NOTIMPL },
};

enum bs_verb
bs_parse_verb(const char *line, const char **argp)
{
	size_t n, i;
	const char *p;

	n = strcspn(line, " \t");
	p = line + n;
	while (*p == ' ' || *p == '\t')
		p++;
	*argp = p;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].name) == n &&
		    strncasecmp(line, verbs[i].name, n) == 0)
			return verbs[i].verb;
	return BSV_UNKNOWN;
}

/* The reply "text" followed by detail (sanitised); returns code. */
static int
path_err(char *reply, size_t size, int code, const char *text,
    const char *detail)
{
	char clean[128];

	util_sanitize(clean, sizeof(clean), detail, strlen(detail));
	(void)snprintf(reply, size, "%s%s", text, clean);
	return code;
}

int
bs_parse_path(const char *arg, const char *kw, int is_mail,
    struct bs_path *out, char *reply, size_t replysize)
{
	const char *p = arg, *end, *param, *errstr;
	size_t kwlen = strlen(kw), n, plen;
	long long v;

	memset(out, 0, sizeof(*out));
	out->size = -1;
	if (strncasecmp(p, kw, kwlen) != 0 || p[kwlen] != ':')
		return path_err(reply, replysize, 501, "501 5.5.4 Syntax: ",
		    is_mail ? "MAIL FROM:<address>" : "RCPT TO:<address>");
	p += kwlen + 1;
	while (*p == ' ')
		p++;
	if (*p == '<') {
		/* up to the closing '>' outside a quoted local part */
		int q = 0;

		for (end = p + 1; *end != '\0'; end++) {
			if (q && *end == '\\' && end[1] != '\0')
				end++;
			else if (*end == '"')
				q = !q;
			else if (!q && *end == '>')
				break;
		}
		if (*end != '>')
			return path_err(reply, replysize, 501,
			    "501 5.1.7 Missing '>' in ", arg);
		p++;
		n = (size_t)(end - p);
		end++;
	} else {
		n = strcspn(p, " ");
		end = p + n;
		if (n == 0)
			return path_err(reply, replysize, 501,
			    "501 5.5.4 Syntax: ", is_mail ?
			    "MAIL FROM:<address>" : "RCPT TO:<address>");
	}
	if (n > LIM_ADDR)
		return path_err(reply, replysize, 501,
		    "501 5.1.3 Address too long", "");
	memcpy(out->addr, p, n);
	out->addr[n] = '\0';
	if (memchr(out->addr, '\0', n) != NULL || strpbrk(out->addr, "\r\n"))
		return path_err(reply, replysize, 501,
		    "501 5.1.3 Bad address syntax", "");
	if (!is_mail && n == 0)
		return path_err(reply, replysize, 501,
		    "501 5.1.3 Empty recipient", "");
	if (*end != '\0' && *end != ' ')
		return path_err(reply, replysize, 501,
		    "501 5.5.4 Garbage after the address: ", end);
	/* parameters */
	for (p = end; *p != '\0'; p += plen) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		plen = strcspn(p, " ");
		param = p;
		if (is_mail && plen > 5 && strncasecmp(p, "SIZE=", 5) == 0) {
			char num[24];

			if (plen - 5 >= sizeof(num))
				goto badval;
			memcpy(num, p + 5, plen - 5);
			num[plen - 5] = '\0';
			if (util_parse_ll(num, 0, 1LL << 53, &v, &errstr) == -1)
				goto badval;
			out->size = v;
		} else if (is_mail && plen == 13 &&
		    strncasecmp(p, "BODY=8BITMIME", 13) == 0) {
			out->body8bit = 1;
		} else if (is_mail && plen == 9 &&
		    strncasecmp(p, "BODY=7BIT", 9) == 0) {
			;
		} else if (is_mail && plen == 8 &&
		    strncasecmp(p, "SMTPUTF8", 8) == 0) {
			out->smtputf8 = 1;
		} else if (is_mail && plen > 4 &&
		    (strncasecmp(p, "RET=", 4) == 0 ||
		    (plen > 6 && strncasecmp(p, "ENVID=", 6) == 0))) {
			;
		} else if (!is_mail && plen > 7 &&
		    (strncasecmp(p, "NOTIFY=", 7) == 0 ||
		    strncasecmp(p, "ORCPT=", 6) == 0)) {
			;
		} else {
			char what[64];

			n = plen < sizeof(what) - 1 ? plen : sizeof(what) - 1;
			memcpy(what, param, n);
			what[n] = '\0';
			return path_err(reply, replysize, 555,
			    "555 5.5.4 Unsupported parameter ", what);
		}
	}
	return 0;
badval:
	return path_err(reply, replysize, 501,
	    "501 5.5.4 Bad SIZE value", "");
}

/* ------------------------------------------------------------ DATA ----- */

void
bs_data_init(struct bs_data *d, struct bs_in *in)
{
	memset(d, 0, sizeof(*d));
	d->in = in;
	d->prev_crlf = 1;	/* the DATA command's line */
}

/* Reads the next line of DATA into d->line; 0, or -1 at its end. */
static int
data_next(struct bs_data *d)
{
	size_t len;
	int rc, crlf_before = d->prev_crlf;
	char *p;

	rc = bs_getline(d->in, d->line, TEXT_MAX + 1, &len);
	if (rc == BS_EOF || rc == BS_ERR) {
		d->done = d->eof = 1;
		d->ioerr = rc == BS_ERR;
		return -1;
	}
	d->prev_crlf = d->in->crlf;
	if (rc == BS_LONG) {
		d->toolong = 1;
		return 0;
	}
	if (len == 1 && d->line[0] == '.') {
		if (crlf_before && d->in->crlf) {
			d->done = 1;	/* CR LF . CR LF */
			return -1;
		}
		/* Not the end, not data: the smuggling pattern. */
		d->bare_dot = 1;
		return 0;
	}
	if (d->toolong || d->bare_dot)
		return 0;	/* the message is refused anyway */
	p = d->line;
	if (p[0] == '.') {
		memmove(p, p + 1, len);
		len--;
	}
	p[len] = '\n';
	d->n = len + 1;
	return 0;
}

ssize_t
bs_data_read(struct bs_data *d, char *buf, size_t size)
{
	size_t got = 0, k;

	while (got < size) {
		if (d->off < d->n) {
			k = d->n - d->off;
			if (k > size - got)
				k = size - got;
			memcpy(buf + got, d->line + d->off, k);
			d->off += k;
			got += k;
			continue;
		}
		if (d->done)
			break;
		d->off = d->n = 0;
		if (data_next(d) == -1)
			break;
	}
	/*
	 * A message that must not be spooled (the input ended inside it, a
	 * line was too long, a bare-LF dot line) is a read error at its end:
	 * intake then fails and nothing of it is committed.
	 */
	if (got == 0 && d->done && (d->eof || d->toolong || d->bare_dot)) {
		errno = EIO;
		return -1;
	}
	return (ssize_t)got;
}

void
bs_data_drain(struct bs_data *d)
{
	char buf[4096];

	while (!d->done)
		(void)bs_data_read(d, buf, sizeof(buf));
}
