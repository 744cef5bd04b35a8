/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * loopback.c -- the loopback redirect listener and the waits of a
 * sign-in; see loopback.h. The requests that reach the listener are
 * hostile input: one at a time, bounded, parsed strictly, never echoed.
 */
#include "common.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

/*
 * --- Waiting, and Ctrl-C ------------------------------------------------
 */
static volatile sig_atomic_t lb_interrupted;

static void
on_sigint(int sig)
{
	(void)sig;
	lb_interrupted = 1;
}

void
loopback_sig_begin(struct loopback_sig *g)
{
	struct sigaction sa;
	sigset_t block;

	lb_interrupted = 0;
	memset(g, 0, sizeof(*g));
	(void)sigprocmask(SIG_SETMASK, NULL, &g->oldmask);
	g->waitmask = g->oldmask;
	if (sigaction(SIGINT, NULL, &g->old) == -1 ||
	    g->old.sa_handler == SIG_IGN)
		return;		/* e.g. nohup: keep ignoring it */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	(void)sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGINT);
	(void)sigprocmask(SIG_BLOCK, &block, NULL);
	if (sigaction(SIGINT, &sa, NULL) == -1) {
		(void)sigprocmask(SIG_SETMASK, &g->oldmask, NULL);
		return;
	}
	(void)sigdelset(&g->waitmask, SIGINT);
	g->active = 1;
}

void
loopback_sig_end(struct loopback_sig *g)
{
	if (!g->active)
		return;
	/* A pending SIGINT is delivered here, to on_sigint. */
	(void)sigprocmask(SIG_SETMASK, &g->oldmask, NULL);
	(void)sigaction(SIGINT, &g->old, NULL);
	g->active = 0;
}

int
loopback_interrupted(void)
{
	return lb_interrupted != 0;
}

long long
loopback_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
loopback_wait2(const struct loopback_sig *g, int fd1, int fd2, long long ms)
{
	struct pollfd pfd[2];
	struct timespec ts;
	long long end = loopback_now_ms() + ms, left;
	int r, n = 0, i;

	for (i = 0; i < 2; i++) {
		pfd[n].fd = i == 0 ? fd1 : fd2;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		if (pfd[n].fd >= 0)
			n++;
	}
	for (;;) {
		if (lb_interrupted) {
			errno = EINTR;
			return -1;
		}
		left = end - loopback_now_ms();
		if (left <= 0)
			return 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		r = ppoll(n > 0 ? pfd : NULL, (nfds_t)n, &ts, &g->waitmask);
		if (r > 0)
			break;
		if (r == 0)
			continue;	/* recheck the clock */
		if (errno != EINTR)
			return -1;
	}
	r = 0;
	for (i = 0; i < n; i++)
		if (pfd[i].revents != 0)
			r |= pfd[i].fd == fd1 ? 1 : 2;
	return r;
}

int
loopback_wait_fd(const struct loopback_sig *g, int fd, long long ms)
{
	int r = loopback_wait2(g, fd, -1, ms);

	return r > 0 ? 1 : r;
}

void
loopback_status_init(struct loopback_status *s, int on)
{
	memset(s, 0, sizeof(*s));
	s->on = on && isatty(STDERR_FILENO);
}

void
loopback_status_show(struct loopback_status *s, const char *what,
    long long left_ms)
{
	long long now = loopback_now_ms(), secs;

	if (!s->on || (s->shown && now - s->last < 1000))
		return;
	secs = left_ms > 0 ? (left_ms + 999) / 1000 : 0;
	fprintf(stderr, "\r%s: %lld:%02lld left\033[K", what, secs / 60,
	    secs % 60);
	(void)fflush(stderr);
	s->shown = 1;
	s->last = now;
}

long long
loopback_status_next(const struct loopback_status *s, long long left_ms)
{
	long long next;

	if (!s->on)
		return left_ms;
	next = 1000 - (loopback_now_ms() - s->last);
	if (next < 1)
		next = 1;
	return next < left_ms ? next : left_ms;
}

void
loopback_status_clear(struct loopback_status *s)
{
	if (!s->shown)
		return;
	fprintf(stderr, "\r\033[K");
	(void)fflush(stderr);
	s->shown = 0;
}

/*
 * --- The listener --------------------------------------------------------
 */

/* application/x-www-form-urlencoded value; NULL on a bad escape or NUL. */
static char *
form_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] != '%')
			out[o++] = s[i];
		else {
			if (i + 2 >= len)
				goto bad;
			hi = util_hexval((unsigned char)s[i + 1]);
			lo = util_hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		}
	}
	out[o] = '\0';
	return out;
bad:
	explicit_bzero(out, len + 1);
	free(out);
	return NULL;
}

void
loopback_redirect_free(struct loopback_redirect *r)
{
	xfree_secret(r->code);
	free(r->state);
	free(r->iss);
	free(r->error);
	free(r->error_description);
	memset(r, 0, sizeof(*r));
}

static int
is_tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* Sets *slot to the decoded value; -1 if given twice or undecodable. */
static int
query_set(char **slot, const char *v, size_t vlen)
{
	if (*slot != NULL)
		return -1;
	*slot = form_decode(v, vlen);
	return *slot == NULL ? -1 : 0;
}

/* Whether a decoded code has no control character, space or DEL. */
static int
code_ok(const char *code)
{
	const unsigned char *p;

	for (p = (const unsigned char *)code; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/*
 * Parses the query q[0..len) (no '?') into r: code, state, iss, error,
 * error_description; others are ignored. -1 when a parameter is given
 * twice or undecodable, or the code has a control character.
 */
static int
parse_query(const char *q, size_t len, struct loopback_redirect *r)
{
	const char *end = q + len, *amp, *eq;
	size_t nlen;
	char **slot;

	for (; q < end; q = amp + 1) {
		if ((amp = memchr(q, '&', (size_t)(end - q))) == NULL)
			amp = end;
		if ((eq = memchr(q, '=', (size_t)(amp - q))) == NULL)
			eq = amp;
		nlen = (size_t)(eq - q);
		slot = NULL;
		if (nlen == 4 && memcmp(q, "code", 4) == 0)
			slot = &r->code;
		else if (nlen == 5 && memcmp(q, "state", 5) == 0)
			slot = &r->state;
		else if (nlen == 3 && memcmp(q, "iss", 3) == 0)
			slot = &r->iss;
		else if (nlen == 5 && memcmp(q, "error", 5) == 0)
			slot = &r->error;
		else if (nlen == 17 && memcmp(q, "error_description", 17) == 0)
			slot = &r->error_description;
		if (slot != NULL && query_set(slot, eq < amp ? eq + 1 : amp,
		    eq < amp ? (size_t)(amp - eq - 1) : 0) == -1)
			return -1;
		if (amp == end)
			break;
	}
	/* A code that could never be a code: refuse before using it. */
	return r->code != NULL && !code_ok(r->code) ? -1 : 0;
}

int
loopback_parse_request(const char *req, size_t len,
    struct loopback_redirect *r)
{
	const char *eol, *sp1, *sp2, *p, *end;
	size_t linelen;

	memset(r, 0, sizeof(*r));
	if (len > LOOPBACK_REQ_MAX || memchr(req, '\0', len) != NULL)
		return -1;
	if ((eol = memchr(req, '\n', len)) == NULL)
		return -1;
	linelen = (size_t)(eol - req);
	if (linelen > 0 && req[linelen - 1] == '\r')
		linelen--;
	/* request-line = method SP request-target SP HTTP-version */
	if ((sp1 = memchr(req, ' ', linelen)) == NULL || sp1 == req)
		return -1;
	for (p = req; p < sp1; p++)
		if (!is_tchar((unsigned char)*p))
			return -1;
	end = req + linelen;
	if ((sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL ||
	    sp2 == sp1 + 1)
		return -1;
	if ((size_t)(end - sp2 - 1) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)sp2[8]))
		return -1;
	for (p = sp1 + 1; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return -1;
	if (sp1 - req != 3 || memcmp(req, "GET", 3) != 0)
		return LOOPBACK_REQ_OTHER;
	p = sp1 + 1;
	/* Only "/" carries the redirect (redirect_uri has path "/"). */
	if (p + 2 > sp2 || p[0] != '/' || p[1] != '?')
		return LOOPBACK_REQ_OTHER;
	if (parse_query(p + 2, (size_t)(sp2 - p - 2), r) == -1) {
		loopback_redirect_free(r);
		return -1;
	}
	if (r->code == NULL && r->error == NULL) {
		loopback_redirect_free(r);
		return LOOPBACK_REQ_OTHER;
	}
	return LOOPBACK_REQ_REDIRECT;
}

/* Skips a prefix of s[0..*len) that equals pfx (case-insensitively). */
static int
skip_prefix(const char **s, size_t *len, const char *pfx)
{
	size_t n = strlen(pfx);

	if (*len < n || strncasecmp(*s, pfx, n) != 0)
		return 0;
	*s += n;
	*len -= n;
	return 1;
}

/*
 * The pasted address without its scheme: "127.0.0.1:PORT/?QUERY" (the
 * redirect URI's host and port, path "/"). Sets the query (up to a
 * '#'); -1 when it names another place.
 */
static int
paste_url(const char *s, size_t len, const char *redirect_uri,
    const char **q, size_t *qlen)
{
	const char *ru = redirect_uri, *hash;
	size_t rulen = strlen(redirect_uri);

	(void)skip_prefix(&ru, &rulen, "http://");
	if (len < rulen + 1 || strncasecmp(s, ru, rulen) != 0 ||
	    s[rulen] != '?')
		return -1;
	*q = s + rulen + 1;
	*qlen = len - rulen - 1;
	if ((hash = memchr(*q, '#', *qlen)) != NULL)
		*qlen = (size_t)(hash - *q);
	return 0;
}

int
loopback_parse_paste(const char *text, size_t len, const char *redirect_uri,
    struct loopback_redirect *r)
{
	const char *s = text, *q;
	size_t i, qlen;

	memset(r, 0, sizeof(*r));
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0)
		return LOOPBACK_PASTE_EMPTY;
	if (len > LOOPBACK_REQ_MAX)
		return LOOPBACK_PASTE_BAD;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return LOOPBACK_PASTE_BAD;
	if (skip_prefix(&s, &len, "http://") ||
	    skip_prefix(&s, &len, "https://") ||
	    (len >= 9 && strncasecmp(s, "127.0.0.1", 9) == 0) ||
	    (len >= 9 && strncasecmp(s, "localhost", 9) == 0)) {
		if (paste_url(s, len, redirect_uri, &q, &qlen) == -1)
			return LOOPBACK_PASTE_ELSEWHERE;
	} else if (*s == '?' || memchr(s, '=', len) != NULL) {
		q = *s == '?' ? s + 1 : s;
		qlen = *s == '?' ? len - 1 : len;
	} else {
		/* Just the code (as it appears in the address bar). */
		r->code = form_decode(s, len);
		if (r->code == NULL || !code_ok(r->code)) {
			loopback_redirect_free(r);
			return LOOPBACK_PASTE_BAD;
		}
		return LOOPBACK_PASTE_CODE;
	}
	if (parse_query(q, qlen, r) == -1) {
		loopback_redirect_free(r);
		return LOOPBACK_PASTE_BAD;
	}
	if (r->code == NULL && r->error == NULL) {
		loopback_redirect_free(r);
		return LOOPBACK_PASTE_NOCODE;
	}
	return LOOPBACK_PASTE_URL;
}

static const char page_head[] = "<!DOCTYPE html>\n<html><head>"
    "<meta charset=\"utf-8\"><title>oauthmail</title></head>"
    "<body style=\"font-family:sans-serif;margin:3em\">";

void
loopback_reply(int fd, const char *status, const char *title,
    const char *text)
{
	char body[1024], head[512];
	int bl, hl;

	bl = snprintf(body, sizeof(body), "%s<h2>%s</h2><p>%s</p>"
	    "</body></html>\n", page_head, title, text);
	if (bl < 0 || (size_t)bl >= sizeof(body))
		return;
	hl = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %d\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n", status, bl);
	if (hl < 0 || (size_t)hl >= sizeof(head))
		return;
	(void)send(fd, head, (size_t)hl, MSG_NOSIGNAL);
	(void)send(fd, body, (size_t)bl, MSG_NOSIGNAL);
}

int
loopback_read(const struct loopback_sig *g, int fd, char *req, size_t size,
    size_t *lenp)
{
	long long end = loopback_now_ms() + LOOPBACK_CONN_SECS * 1000;
	size_t len = 0;
	ssize_t n;
	int r;

	*lenp = 0;
	for (;;) {
		r = loopback_wait_fd(g, fd, end - loopback_now_ms());
		if (r == -1)
			return lb_interrupted ? LOOPBACK_READ_INTR :
			    LOOPBACK_READ_DROP;
		if (r == 0)
			return LOOPBACK_READ_DROP;
		n = recv(fd, req + len, size - len, 0);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return LOOPBACK_READ_DROP;
		len += (size_t)n;
		*lenp = len;
		if (memmem(req, len, "\r\n\r\n", 4) != NULL ||
		    memmem(req, len, "\n\n", 2) != NULL)
			return LOOPBACK_READ_OK;
		if (len == size)
			return LOOPBACK_READ_TOOBIG;
	}
}

int
loopback_listen(int *portp, struct err *err)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return err_set(err, ERR_OS, "socket: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		(void)err_set(err, ERR_OS, "cannot listen on 127.0.0.1: %s",
		    strerror(errno));
		(void)close(fd);
		return -1;
	}
	*portp = ntohs(sin.sin_port);
	return fd;
}

