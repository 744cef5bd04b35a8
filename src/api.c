/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * api.c -- a queued message over Microsoft Graph or the Gmail API; see
 * api.h. HTTP goes through http.c (http_api_post), tokens
 * through token_get_api.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "advice.h"
#include "api.h"
#include "buf.h"
#include "conf.h"
#include "envelope.h"
#include "json.h"
#include "log.h"
#include "http.h"
#include "oauth.h"
#include "status.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "xmalloc.h"

#define API_CHUNK	(48 * 1024)	/* raw bytes per base64 piece */

long long
api_max_message(enum conf_transport t)
{
	switch (t) {
	case TRANSPORT_GRAPH:	return API_GRAPH_MAX;
	case TRANSPORT_GMAIL:	return API_GMAIL_MAX;
	default:		return 0;
	}
}

const char *
api_name(enum conf_transport t)
{
	return t == TRANSPORT_GMAIL ? "the Gmail API" : "Microsoft Graph";
}

/*
 * --- Recipients -----------------------------------------------------------
 */

struct hdr_addrs {
	char	**v;
	size_t	  n;
};

static void
hdr_addrs_free(struct hdr_addrs *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		free(h->v[i]);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static int
in_list(char **v, size_t n, const char *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v[i], a) == 0)
			return 1;
	return 0;
}

/* Adds the mailboxes of one To/Cc/Bcc value. */
static int
add_field(struct hdr_addrs *h, const char *val, size_t len, struct err *err)
{
	struct addr_list l;
	size_t i;

	if (addr_parse_list(val, len, &l, err) == -1) {
		addr_list_free(&l);
		err->class = ERR_AUTH;
		return err_prefix(err, "a recipient header cannot be read, so "
		    "who the API would deliver to is unknown");
	}
	for (i = 0; i < l.n; i++) {
		if (l.v[i].spec == NULL || l.v[i].spec[0] == '\0' ||
		    in_list(h->v, h->n, l.v[i].spec))
			continue;
		h->v = xreallocarray(h->v, h->n + 1, sizeof(char *));
		h->v[h->n++] = xstrdup(l.v[i].spec);
	}
	addr_list_free(&l);
	return 0;
}

static int
is_rcpt_field(const char *p, size_t n)
{
	return (n == 2 && strncasecmp(p, "To", 2) == 0) ||
	    (n == 2 && strncasecmp(p, "Cc", 2) == 0) ||
	    (n == 3 && strncasecmp(p, "Bcc", 3) == 0);
}

/* The addresses of To, Cc and Bcc in the header block hdr. */
static int
header_addrs(const char *hdr, size_t len, struct hdr_addrs *h,
    struct err *err)
{
	const char *p = hdr, *end = hdr + len, *nl, *colon, *fend;
	size_t n;

	memset(h, 0, sizeof(*h));
	while (p < end && *p != '\n' && *p != '\r') {
		/* One field: up to a line that does not start with WSP. */
		fend = p;
		do {
			nl = memchr(fend, '\n', (size_t)(end - fend));
			fend = nl != NULL ? nl + 1 : end;
		} while (fend < end && (*fend == ' ' || *fend == '\t'));
		colon = memchr(p, ':', (size_t)(fend - p));
		if (colon != NULL) {
			n = (size_t)(colon - p);
			while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
				n--;
			if (is_rcpt_field(p, n) && add_field(h, colon + 1,
			    (size_t)(fend - colon - 1), err) == -1) {
				hdr_addrs_free(h);
				return -1;
			}
		}
		p = fend;
	}
	return 0;
}

size_t
api_max_rcpts(enum conf_transport t)
{
	switch (t) {
	case TRANSPORT_GRAPH:	return API_GRAPH_MAX_RCPTS;
	case TRANSPORT_GMAIL:	return API_GMAIL_MAX_RCPTS;
	default:		return 0;
	}
}

int
api_rcpts_check(const struct account *acct, size_t n, struct err *err)
{
	size_t max = api_max_rcpts(acct->transport);

	if (max == 0 || n <= max)
		return 0;
	return err_set(err, ERR_DATA, "%zu recipients: %s takes at most %zu "
	    "per message (To, Cc and Bcc together), and account %s sends "
	    "only over it; send to fewer at a time, or use 'transport smtp' "
	    "or 'transport auto'", n, api_name(acct->transport), max,
	    acct->name);
}

/* api_recipients, and how many the API would deliver to (*np). */
static int
recipients(const struct envelope *env, const char *hdr, size_t len,
    struct buf *bcc, size_t *np, struct err *err)
{
	struct hdr_addrs h;
	struct buf extra;
	size_t i, nbcc = 0;
	int rc = -1;

	if (header_addrs(hdr, len, &h, err) == -1)
		return -1;
	buf_init(&extra, 1024, 0);
	for (i = 0; i < h.n; i++) {
		size_t j;

		for (j = 0; j < env->nrcpts; j++)
			if (strcasecmp(env->rcpts[j].addr, h.v[i]) == 0)
				break;
		if (j == env->nrcpts)
			(void)buf_addf(&extra, "%s<%s>", extra.len ? ", " :
			    "", h.v[i]);
	}
	if (extra.len > 0) {
		err_set(err, ERR_AUTH, "held: the message's header names "
		    "recipients that are " API_HELD_MISMATCH " (%s)",
		    buf_str(&extra));
		goto out;
	}
	if (bcc != NULL)
		buf_reset(bcc);
	for (i = 0; bcc != NULL && i < env->nrcpts; i++) {
		const struct rcpt *r = &env->rcpts[i];

		if (r->state == RCPT_SENT || r->state == RCPT_FAILED ||
		    in_list(h.v, h.n, r->addr))
			continue;
		if (buf_addf(bcc, "%s<%s>", nbcc++ ? ",\n " : "Bcc: ",
		    r->addr) == -1) {
			err_set(err, ERR_DATA, "too many recipients for one "
			    "API request");
			goto out;
		}
	}
	if (nbcc > 0 && buf_adds(bcc, "\n") == -1) {
		err_set(err, ERR_DATA, "too many recipients for one API "
		    "request");
		goto out;
	}
	if (np != NULL)
		*np = h.n + nbcc;
	rc = 0;
 out:
	buf_free(&extra);
	hdr_addrs_free(&h);
	return rc;
}

int
api_recipients(const struct envelope *env, const char *hdr, size_t len,
    struct buf *bcc, struct err *err)
{
	return recipients(env, hdr, len, bcc, NULL, err);
}

/* Reads the header block of the spool file (up to the empty line). */
static int
read_header(int fd, struct buf *hdr, struct err *err)
{
	char chunk[8192];
	ssize_t n;
	off_t off = 0;
	const char *s;

	buf_reset(hdr);
	for (;;) {
		n = pread(fd, chunk, sizeof(chunk), off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return err_set(err, ERR_IO, "read the queued message: "
			    "%s", strerror(errno));
		if (n == 0)
			return 0;
		if (buf_add(hdr, chunk, (size_t)n) == -1)
			return err_set(err, ERR_AUTH, "held: the message's "
			    "header is larger than %d bytes; send it over "
			    "SMTP", API_HEADER_MAX);
		off += n;
		s = buf_str(hdr);
		if (s[0] == '\n' || strstr(s, "\n\n") != NULL ||
		    strstr(s, "\n\r\n") != NULL)
			return 0;
	}
}

/*
 * --- The request body -----------------------------------------------------
 */

struct body {
	int		 fd;
	const char	*pre;		/* the Bcc field, sent first */
	size_t		 prelen;
	long long	 off;		/* position in pre, then the file */
	long long	 rawlen;	/* prelen + the file's size */
	int		 b64;
	struct buf	 enc;
	char		 raw[API_CHUNK];
};

/* Up to n raw bytes from the prefix and the file; -1 on error. */
static long long
raw_read(struct body *b, char *dst, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n && b->off < b->rawlen) {
		if ((size_t)b->off < b->prelen) {
			size_t k = b->prelen - (size_t)b->off;

			if (k > n - got)
				k = n - got;
			memcpy(dst + got, b->pre + b->off, k);
			got += k;
			b->off += (long long)k;
			continue;
		}
		r = pread(b->fd, dst + got, n - got,
		    (off_t)(b->off - (long long)b->prelen));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;	/* the file shrank or failed */
		got += (size_t)r;
		b->off += r;
	}
	return (long long)got;
}

static size_t
body_read(char *dst, size_t n, void *arg)
{
	struct body *b = arg;
	long long got;
	size_t want;

	if (!b->b64) {
		got = raw_read(b, dst, n);
		return got < 0 ? HTTP_READ_ABORT : (size_t)got;
	}
	want = n / 4 * 3;
	if (want > sizeof(b->raw))
		want = sizeof(b->raw);
	if (want == 0)
		return HTTP_READ_ABORT;	/* libcurl's buffer is larger */
	if ((got = raw_read(b, b->raw, want)) < 0)
		return HTTP_READ_ABORT;
	if (got == 0)
		return 0;
	buf_reset(&b->enc);
	if (util_b64_encode(&b->enc, b->raw, (size_t)got) == -1 ||
	    b->enc.len > n)
		return HTTP_READ_ABORT;
	memcpy(dst, b->enc.data, b->enc.len);
	return b->enc.len;
}

/*
 * --- Requests and replies -------------------------------------------------
 */

/* dst := graph_endpoint/users/<user, percent-encoded>/sendMail. */
static void
graph_url(struct buf *dst, const struct account *acct)
{
	const char *e = acct->graph_endpoint, *u = acct->user;
	size_t n = strlen(e);

	while (n > 0 && e[n - 1] == '/')
		n--;
	(void)buf_add(dst, e, n);
	(void)buf_adds(dst, "/users/");
	for (; *u != '\0'; u++) {
		unsigned char c = (unsigned char)*u;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			(void)buf_addc(dst, c);
		else
			(void)buf_addf(dst, "%%%02X", c);
	}
	(void)buf_adds(dst, "/sendMail");
}

static void
gmail_url(struct buf *dst, const struct account *acct)
{
	const char *e = acct->gmail_endpoint;
	size_t n = strlen(e);

	while (n > 0 && e[n - 1] == '/')
		n--;
	(void)buf_add(dst, e, n);
	(void)buf_adds(dst, "/upload/gmail/v1/users/me/messages/send"
	    "?uploadType=media");
}

/* The status line of a refusal: "HTTP 403 ErrorAccessDenied: text". */
static void
describe(char *dst, size_t size, long status, const struct json_api_reply *j)
{
	(void)snprintf(dst, size, "HTTP %ld%s%s%s%s%s%s", status,
	    j->code[0] ? " " : "", j->code, j->reason[0] ? " " : "",
	    j->reason, j->message[0] ? ": " : "", j->message);
}

static int
is_rate_reason(const char *r)
{
	return strcmp(r, "userRateLimitExceeded") == 0 ||
	    strcmp(r, "rateLimitExceeded") == 0 ||
	    strcmp(r, "dailyLimitExceeded") == 0;
}

/*
 * Seconds until the time in Google's "... Retry after
 * 2026-01-02T03:04:05.678Z ..." (UTC), or 0 when the text names none
 * or it has passed.
 */
static long long
text_retry_after(const char *msg, time_t now)
{
	const char *p = strstr(msg, "Retry after ");
	struct tm tm;
	time_t at;
	int n = 0;

	if (p == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(p + 12, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	    &n) != 6 || n != 19 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	if ((at = timegm(&tm)) == (time_t)-1 || at <= now)
		return 0;
	return (long long)(at - now);
}

/* What a reply means (the 401 retry is the caller's). */
static int
classify(const char *account, enum conf_transport t,
    const struct api_result *r, const struct json_api_reply *j,
    struct err *err)
{
	const struct advice *a;
	const char *api = api_name(t);
	char what[640];
	long s = r->status;

	describe(what, sizeof(what), s, j);
	if (t == TRANSPORT_GRAPH && s == 202)
		return 0;
	if (t == TRANSPORT_GMAIL && s == 200 && j->id[0] != '\0')
		return 0;
	if (s >= 200 && s < 300)
		return err_set(err, ERR_TEMP, "%s answered %s instead of %s; "
		    "not counted as sent, tried again later", api, what,
		    t == TRANSPORT_GRAPH ? "202" : "200 with the message id");
	if (s == 401)
		return err_set(err, ERR_AUTH, "%s refused the access token "
		    "(%s); run 'oauthmail login %s'", api, what, account);
	if (s == 413 || strcmp(j->code, "ErrorMessageSizeExceeded") == 0)
		return err_set(err, ERR_PERM, "552 5.3.4 %s refused the "
		    "message as too large (%s)", api, what);
	if ((s == 429 || s == 403) && (a = advice_find(what)) != NULL &&
	    a->react == ADV_LIMIT)
		return err_set(err, ERR_TEMP, "%s: sending limit reached (%s)",
		    api, what);
	if (s == 429 || s == 503 || s == 504 || s >= 500 ||
	    (s == 403 && is_rate_reason(j->reason)))
		return err_set(err, ERR_TEMP, "%s is busy or throttling (%s)",
		    api, what);
	if (s == 400 && strcmp(j->code,
	    "ErrorMimeContentInvalidBase64String") == 0) {
		log_warnx("BUG: %s found the request malformed (%s); the "
		    "message is held: please report this", api, what);
		return err_set(err, ERR_AUTH, "held: %s found the request "
		    "malformed (%s); a bug in oauthmail, please report it",
		    api, what);
	}
	if (s == 400 && strcmp(j->code, "FAILED_PRECONDITION") != 0 &&
	    strcmp(j->reason, "failedPrecondition") != 0)
		return err_set(err, ERR_PERM, "554 5.6.0 %s refused the "
		    "message (%s)", api, what);
	/* 403, 404 and the rest: a permission or a setting to fix. */
	return err_set(err, ERR_AUTH, "held: %s refused to send (%s)", api,
	    what);
}

/* One request with the token in tok. */
static int
post(const struct account *acct, enum conf_transport t, struct body *b,
    const char *tok, struct api_result *r, struct err *err)
{
	struct http_api_req req;
	struct json_api_reply j;
	struct buf url, reply;
	long long ra;
	int rc;

	buf_init(&url, 4096, 0);
	buf_init(&reply, LIM_HTTP_BODY, 0);
	if (t == TRANSPORT_GRAPH)
		graph_url(&url, acct);
	else
		gmail_url(&url, acct);
	memset(&req, 0, sizeof(req));
	req.url = buf_str(&url);
	req.content_type = t == TRANSPORT_GRAPH ? "text/plain" :
	    "message/rfc822";
	req.bearer = tok;
	req.read = body_read;
	req.arg = b;
	req.body_len = b->b64 ? (b->rawlen + 2) / 3 * 4 : b->rawlen;
	req.timeout = API_TIMEOUT;
	req.reply = &reply;
	b->off = 0;
	rc = http_api_post(acct, &req, err);
	r->status = req.status;
	r->retry_after = req.retry_after;
	(void)strlcpy(r->request_id, req.request_id, sizeof(r->request_id));
	if (rc == 0) {
		(void)json_api_reply_parse(buf_str(&reply), reply.len, &j);
		(void)strlcpy(r->message_id, j.id, sizeof(r->message_id));
		ra = text_retry_after(j.message, time(NULL));
		if (ra > r->retry_after)
			r->retry_after = ra;
		rc = classify(acct->name, t, r, &j, err);
	} else if (req.sent)
		err_prefix(err, "%s: no reply after the whole message was "
		    "sent (it may have gone out; tried again later)",
		    api_name(t));
	buf_free(&url);
	buf_free(&reply);
	return rc;
}

static int
send_body(const struct account *acct, struct store *st,
    enum conf_transport t, struct body *b, struct api_result *r,
    struct err *err)
{
	struct buf tok;
	int rc;

	buf_init(&tok, LIM_TOKEN, BUF_SECRET);
	rc = token_get_api(acct, st, 0, &tok, err);
	if (rc == 0)
		rc = post(acct, t, b, buf_str(&tok), r, err);
	if (rc == -1 && r->status == 401) {
		log_info("%s: %s refused the access token; refreshing it and "
		    "trying once more", acct->name, api_name(t));
		rc = token_get_api(acct, st, 1, &tok, err);
		if (rc == 0)
			rc = post(acct, t, b, buf_str(&tok), r, err);
	}
	buf_free(&tok);
	return rc;
}

int
api_send(const struct account *acct, struct store *st,
    enum conf_transport t, const struct envelope *env, int msgfd,
    struct api_result *r, struct err *err)
{
	struct body *b;
	struct buf hdr, bcc;
	struct stat sb;
	size_t n = 0;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (fstat(msgfd, &sb) == -1)
		return err_set(err, ERR_IO, "stat the queued message: %s",
		    strerror(errno));
	buf_init(&hdr, API_HEADER_MAX, 0);
	buf_init(&bcc, LIM_RCPTS * (LIM_ADDR + 5) + 16, 0);
	b = xcalloc(1, sizeof(*b));
	buf_init(&b->enc, API_CHUNK / 3 * 4 + 8, 0);
	if (read_header(msgfd, &hdr, err) == -1 ||
	    recipients(env, buf_str(&hdr), hdr.len, &bcc, &n, err) == -1)
		goto out;
	if (n > api_max_rcpts(t)) {
		err_set(err, ERR_PERM, "550 5.5.3 too many recipients for %s "
		    "(%zu; it takes at most %zu per message, To, Cc and Bcc "
		    "together): send it over SMTP (transport smtp) or to fewer "
		    "at a time", api_name(t), n, api_max_rcpts(t));
		goto out;
	}
	b->fd = msgfd;
	b->pre = buf_str(&bcc);
	b->prelen = bcc.len;
	b->rawlen = (long long)bcc.len + (long long)sb.st_size;
	b->b64 = t == TRANSPORT_GRAPH;
	if (b->rawlen > api_max_message(t)) {
		err_set(err, ERR_PERM, "552 5.3.4 message too large for %s "
		    "(%lld bytes; it takes at most %lld): send it over SMTP "
		    "(transport smtp) or make it smaller", api_name(t),
		    b->rawlen, api_max_message(t));
		goto out;
	}
	rc = send_body(acct, st, t, b, r, err);
 out:
	buf_free(&b->enc);
	free(b);
	buf_free(&hdr);
	buf_free(&bcc);
	return rc;
}
