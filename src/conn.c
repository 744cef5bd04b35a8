/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* conn.c -- one SMTP connection over plain TCP or TLS; see conn.h. */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conn.h"
#include "log.h"
#include "net.h"
#include "status.h"
#include "tls.h"
#include "xmalloc.h"

struct conn {
	int			 fd;
	char			*host;
	int			 port;
	int			 timeout_ms;
	int			 outgoing;	/* named for log_slow_host */
	struct xtls		*tls;
	conn_transcript_fn	*transcript;
	void			*transcript_arg;
	size_t			 rpos;		/* first unread byte */
	size_t			 rlen;		/* bytes in rbuf */
	char			 rbuf[CONN_RBUF + 1];
};

static void
default_transcript(void *arg, const char *dir, const char *line, size_t len)
{
	(void)arg;
	log_transcript(dir, line, len);
}

struct conn *
conn_from_fd(int fd, const char *host, int port)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	struct err tmp;

	c->fd = fd;
	c->host = xstrdup(host != NULL ? host : "");
	c->port = port;
	c->timeout_ms = 5 * 60 * 1000;
	c->transcript = default_transcript;
	(void)net_set_nonblock(fd, &tmp);
	return c;
}

struct conn *
conn_open(const char *host, int port, int timeout_ms, struct err *err)
{
	struct conn *c;
	int fd;

	log_slow_host(host);
	if (net_connect(host, port, timeout_ms, &fd, err) == -1) {
		log_slow_host(NULL);
		return NULL;
	}
	c = conn_from_fd(fd, host, port);
	c->outgoing = 1;
	conn_set_timeout(c, timeout_ms);
	return c;
}

void
conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->outgoing)
		log_slow_host(NULL);
	xtls_free(c->tls);
	if (c->fd != -1)
		(void)close(c->fd);
	free(c->host);
	explicit_bzero(c->rbuf, sizeof(c->rbuf));
	free(c);
}

void
conn_set_timeout(struct conn *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

void
conn_set_transcript(struct conn *c, conn_transcript_fn *fn, void *arg)
{
	c->transcript = fn;
	c->transcript_arg = arg;
}

static void
trace(struct conn *c, const char *dir, const char *line, size_t len)
{
	if (c->transcript != NULL)
		c->transcript(c->transcript_arg, dir, line, len);
}

int
conn_starttls(struct conn *c, const char *trust_file, struct err *err)
{
	if (c->tls != NULL)
		return err_set(err, ERR_PROTO, "TLS already active with %s",
		    c->host);
	/* RFC 3207 §6 / CVE-2011-0411 class: nothing may precede TLS. */
	if (c->rlen > c->rpos)
		return err_set(err, ERR_PROTO, "%s:%d sent %zu bytes of "
		    "plaintext after its STARTTLS reply; refusing to "
		    "continue (possible response injection)", c->host,
		    c->port, c->rlen - c->rpos);
	c->rpos = c->rlen = 0;
	c->tls = xtls_connect(c->fd, c->host, trust_file, c->timeout_ms, err);
	if (c->tls == NULL)
		return -1;
	return 0;
}

int
conn_is_tls(const struct conn *c)
{
	return c->tls != NULL;
}

const char *
conn_tls_version(const struct conn *c)
{
	return c->tls != NULL ? xtls_version(c->tls) : "";
}

int
conn_tls_peer(const struct conn *c, char *subject, size_t subjectsize,
    char *issuer, size_t issuersize, time_t *not_after)
{
	if (c->tls == NULL) {
		if (subject != NULL && subjectsize > 0)
			subject[0] = '\0';
		if (issuer != NULL && issuersize > 0)
			issuer[0] = '\0';
		if (not_after != NULL)
			*not_after = 0;
		return -1;
	}
	return xtls_peer(c->tls, subject, subjectsize, issuer, issuersize,
	    not_after);
}

int
conn_peer_is_local(const struct conn *c)
{
	return net_peer_is_local(c->fd);
}

void
conn_peer_addr(const struct conn *c, char *dst, size_t size)
{
	net_peer_addr(c->fd, dst, size);
}

const char *
conn_host(const struct conn *c)
{
	return c->host;
}

int
conn_port(const struct conn *c)
{
	return c->port;
}

int
conn_pending(const struct conn *c)
{
	return c->rlen > c->rpos || (c->tls != NULL && xtls_pending(c->tls));
}

static int
fill(struct conn *c, struct err *err)
{
	size_t n;
	int r;

	if (c->rpos > 0) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	if (c->rlen >= CONN_RBUF)
		return err_set(err, ERR_PROTO, "line from %s:%d too long",
		    c->host, c->port);
	if (c->tls != NULL)
		r = xtls_read(c->tls, c->rbuf + c->rlen, CONN_RBUF - c->rlen,
		    c->timeout_ms, &n, err);
	else
		r = net_read(c->fd, c->rbuf + c->rlen, CONN_RBUF - c->rlen,
		    c->timeout_ms, &n, err);
	if (r == -1)
		return err_prefix(err, "%s:%d", c->host, c->port);
	if (n == 0)
		return err_set(err, ERR_TEMP, "%s:%d closed the connection",
		    c->host, c->port);
	c->rlen += n;
	return 0;
}

int
conn_getline(struct conn *c, size_t max, const char **line, size_t *lenp,
    struct err *err)
{
	char *start, *nl;
	size_t len;

	if (max > CONN_RBUF - 2)
		max = CONN_RBUF - 2;
	for (;;) {
		start = c->rbuf + c->rpos;
		nl = memchr(start, '\n', c->rlen - c->rpos);
		if (nl != NULL)
			break;
		if (c->rlen - c->rpos > max + 1)
			return err_set(err, ERR_PROTO, "line from %s:%d longer "
			    "than %zu bytes", c->host, c->port, max);
		if (fill(c, err) == -1)
			return -1;
	}
	len = (size_t)(nl - start);
	c->rpos += len + 1;
	if (len > 0 && start[len - 1] == '\r')
		len--;
	start[len] = '\0';
	if (len > max)
		return err_set(err, ERR_PROTO, "line from %s:%d longer than "
		    "%zu bytes", c->host, c->port, max);
	if (memchr(start, '\0', len) != NULL)
		return err_set(err, ERR_PROTO, "NUL byte in a line from "
		    "%s:%d", c->host, c->port);
	trace(c, "<-", start, len);
	*line = start;
	*lenp = len;
	return 0;
}

int
conn_write(struct conn *c, const void *p, size_t len, struct err *err)
{
	int r;

	if (c->tls != NULL)
		r = xtls_write(c->tls, p, len, c->timeout_ms, err);
	else
		r = net_write(c->fd, p, len, c->timeout_ms, err);
	if (r == -1)
		return err_prefix(err, "%s:%d", c->host, c->port);
	return 0;
}

int
conn_write_cmd(struct conn *c, const char *p, size_t len, struct err *err)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(p + i, '\n', len - i);
		size_t e = nl != NULL ? (size_t)(nl - p) : len;

		trace(c, "->", p + i, e - i);
		i = e + 1;
	}
	return conn_write(c, p, len, err);
}

int
conn_write_secret(struct conn *c, const char *prefix, const void *secret,
    size_t secretlen, struct err *err)
{
	struct buf b;
	char shown[128];
	int r;

	buf_init(&b, strlen(prefix) + secretlen + 2, BUF_SECRET);
	if (buf_adds(&b, prefix) == -1 || buf_add(&b, secret, secretlen) == -1 ||
	    buf_add(&b, "\r\n", 2) == -1)
		return err_set(err, ERR_OS, "out of memory");
	(void)snprintf(shown, sizeof(shown), "%.64s[redacted, %zu bytes]",
	    prefix, secretlen);
	trace(c, "->", shown, strlen(shown));
	r = conn_write(c, b.data, b.len, err);
	buf_free(&b);
	return r;
}
