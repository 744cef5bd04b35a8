/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * bounce.c -- delivery status notifications (RFC 3464); see bounce.h.
 * Layer: above queue.c and envelope.c, below deliver.c (which calls it
 * when an entry fails); it knows nothing of SMTP sessions.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "buf.h"
#include "envelope.h"
#include "log.h"
#include "queue.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

/* A DSN quotes at most this much of the original header block. */
#define BOUNCE_HDR_MAX	(256 * 1024)
#define BOUNCE_MAX	(64 * 1024 * 1024)
/* Longest Diagnostic-Code text quoted (keeps lines under 998 bytes). */
#define DIAG_MAX	900
/*
 * A refused recipient whose reply is not known: its state was recorded
 * in place while the disk was too full for the envelope (queue_mark).
 */
#define NO_REPLY	"refused by the server (its reply could not be " \
			"recorded: the queue's disk was full)"

/*
 * The RFC 3463 status for a recipient: the enhanced code of its reply if
 * there is one ("550 5.1.1 ..."), else from the reply's class, else 5.0.0
 * for a refusal whose reply is not known, else 4.4.7 (delivery time
 * expired: it never got a final answer).
 */
static void
rcpt_status(const struct rcpt *r, char *dst, size_t size)
{
	const char *p = r->reply, *q;
	size_t n;

	if (p == NULL && r->state == RCPT_FAILED) {
		(void)snprintf(dst, size, "%s", "5.0.0");
		return;
	}
	if (p == NULL || strlen(p) < 3 || (p[0] != '4' && p[0] != '5')) {
		(void)snprintf(dst, size, "%s", "4.4.7");
		return;
	}
	q = p + 3;
	if (*q == ' ' || *q == '-')
		q++;
	n = strspn(q, "0123456789.");
	if (n >= 5 && n < size && q[0] == p[0] && q[1] == '.' &&
	    (q[n] == ' ' || q[n] == '\0')) {
		memcpy(dst, q, n);
		dst[n] = '\0';
		return;
	}
	(void)snprintf(dst, size, "%c.0.0", p[0]);
}

/* Appends s, cut to at most max bytes without splitting UTF-8. */
static int
add_capped(struct buf *b, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return buf_add(b, s, n);
}

/*
 * Reads the original header block (up to the first empty line) from fd,
 * at most BOUNCE_HDR_MAX bytes, cut at a line end.
 */
static int
read_headers(int fd, struct buf *out, struct err *err)
{
	char chunk[8192];
	const char *end;
	off_t off = 0;
	ssize_t r;

	for (;;) {
		r = pread(fd, chunk, sizeof(chunk), off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return err_set(err, ERR_IO, "reading the failed "
			    "message: %s", strerror(errno));
		if (r == 0)
			break;
		if (out->len + (size_t)r > BOUNCE_HDR_MAX)
			r = (ssize_t)(BOUNCE_HDR_MAX - out->len);
		if (buf_add(out, chunk, (size_t)r) == -1)
			return err_set(err, ERR_OS, "reading the failed "
			    "message: %s", strerror(errno));
		off += r;
		if (out->len >= BOUNCE_HDR_MAX ||
		    strstr(buf_str(out), "\n\n") != NULL)
			break;
	}
	if (out->len > 0 && buf_str(out)[0] == '\n') {
		buf_reset(out);
		return 0;
	}
	if ((end = strstr(buf_str(out), "\n\n")) != NULL)
		out->len = (size_t)(end - out->data) + 1;
	else if ((end = strrchr(buf_str(out), '\n')) != NULL)
		out->len = (size_t)(end - out->data) + 1;
	else
		out->len = 0;
	if (out->data != NULL)
		out->data[out->len] = '\0';
	return 0;
}

static int
build_dsn(struct buf *b, const struct envelope *f, const char *mta,
    const char *newid, const struct buf *hdrs, time_t now)
{
	const struct rcpt *r;
	char date[64], arrival[64], msgid[256], status[16];
	size_t i;
	int rc = 0;

	if (util_date(date, sizeof(date), now) == -1 ||
	    util_date(arrival, sizeof(arrival), f->created) == -1 ||
	    util_message_id(msgid, sizeof(msgid), mta) == -1)
		return -1;
	rc |= buf_addf(b, "From: \"Mail Delivery System\" <%s>\n"
	    "To: <%s>\n"
	    "Subject: Undelivered Mail Returned to Sender\n"
	    "Date: %s\n"
	    "Message-ID: %s\n"
	    "Auto-Submitted: auto-replied\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\n"
	    "\tboundary=\"%s/%s\"\n"
	    "\n"
	    "This is a MIME-encapsulated message.\n"
	    "\n", f->sender, f->sender, date, msgid, newid, mta);
	rc |= buf_addf(b, "--%s/%s\n"
	    "Content-Description: Notification\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "This is the mail system at host %s.\n"
	    "\n"
	    "Your message could not be delivered to one or more recipients.\n"
	    "The headers of your message are attached below.\n"
	    "\n", newid, mta, mta);
	for (i = 0; i < f->nrcpts; i++) {
		r = &f->rcpts[i];
		if (r->state == RCPT_SENT)
			continue;
		rc |= buf_addf(b, "<%s>: ", r->addr);
		if (r->reply != NULL)
			rc |= add_capped(b, r->reply, DIAG_MAX);
		else if (r->state == RCPT_FAILED)
			rc |= buf_adds(b, NO_REPLY);
		else if (f->last_error != NULL)
			rc |= add_capped(b, f->last_error, DIAG_MAX);
		else
			rc |= buf_adds(b, "delivery time expired");
		rc |= buf_addc(b, '\n');
	}
	rc |= buf_addf(b, "\n--%s/%s\n"
	    "Content-Description: Delivery report\n"
	    "Content-Type: message/delivery-status\n"
	    "\n"
	    "Reporting-MTA: dns; %s\n"
	    "X-Oauthmail-Queue-ID: %s\n"
	    "Arrival-Date: %s\n", newid, mta, mta, f->id, arrival);
	for (i = 0; i < f->nrcpts; i++) {
		r = &f->rcpts[i];
		if (r->state == RCPT_SENT)
			continue;
		rcpt_status(r, status, sizeof(status));
		rc |= buf_adds(b, "\n");
		if (r->orig != NULL && strchr(r->orig, '@') != NULL)
			rc |= buf_addf(b, "Original-Recipient: rfc822; %s\n",
			    r->orig);
		rc |= buf_addf(b, "Final-Recipient: rfc822; %s\n"
		    "Action: failed\n"
		    "Status: %s\n", r->addr, status);
		if (r->reply != NULL) {
			rc |= buf_adds(b, "Diagnostic-Code: smtp; ");
			rc |= add_capped(b, r->reply, DIAG_MAX);
			rc |= buf_addc(b, '\n');
		}
	}
	rc |= buf_addf(b, "\n--%s/%s\n"
	    "Content-Description: Undelivered Message Headers\n"
	    "Content-Type: text/rfc822-headers\n"
	    "\n", newid, mta);
	rc |= buf_add(b, buf_str(hdrs), hdrs->len);
	rc |= buf_addf(b, "\n--%s/%s--\n", newid, mta);
	return rc == 0 ? 0 : -1;
}

int
bounce_queue(struct queue *q, const struct envelope *failed,
    int failed_msg_fd, const char *reporting_mta,
    char idout[QUEUE_ID_LEN + 1], struct err *err)
{
	struct envelope env;
	struct buf hdrs, b;
	const char *p;
	time_t now = time(NULL);
	int fd;

	if (idout != NULL)
		idout[0] = '\0';
	/* Never bounce a bounce (RFC 3464 §2 / RFC 5321 §4.5.5). */
	if (failed->is_bounce || failed->sender == NULL ||
	    failed->sender[0] == '\0')
		return 0;
	if (reporting_mta == NULL)
		reporting_mta = util_hostname();
	buf_init(&hdrs, BOUNCE_HDR_MAX, 0);
	if (read_headers(failed_msg_fd, &hdrs, err) == -1) {
		buf_free(&hdrs);
		return -1;
	}
	envelope_init(&env);
	env.account = xstrdup(failed->account);
	env.sender = xstrdup("");
	env.created = env.next_try = now;
	env.is_bounce = 1;
	env.smtputf8 = !util_is_ascii(failed->sender, strlen(failed->sender));
	(void)envelope_add_rcpt(&env, failed->sender, NULL);
	if (queue_create(q, &env, &fd, err) == -1) {
		buf_free(&hdrs);
		envelope_free(&env);
		return -1;
	}
	buf_init(&b, BOUNCE_MAX, 0);
	if (build_dsn(&b, failed, reporting_mta, env.id, &hdrs, now) == -1) {
		buf_free(&hdrs);
		buf_free(&b);
		queue_abort(q, &env, fd);
		envelope_free(&env);
		return err_set(err, ERR_OS, "bounce for %s: too large",
		    failed->id);
	}
	buf_free(&hdrs);
	env.body8bit = !util_is_ascii(buf_str(&b), b.len);
	/* The size SMTP will see: every LF goes out as CRLF. */
	env.size = (off_t)b.len;
	for (p = buf_str(&b); (p = strchr(p, '\n')) != NULL; p++)
		env.size++;
	if (util_write_all(fd, buf_str(&b), b.len) == -1) {
		(void)err_set(err, ERR_IO, "bounce for %s: write: %s",
		    failed->id, strerror(errno));
		buf_free(&b);
		queue_abort(q, &env, fd);
		envelope_free(&env);
		return -1;
	}
	buf_free(&b);
	if (queue_commit(q, &env, fd, err) == -1) {
		envelope_free(&env);
		return -1;
	}
	log_info("%s: bounce %s queued for <%s>", failed->id, env.id,
	    failed->sender);
	if (idout != NULL)
		memcpy(idout, env.id, QUEUE_ID_LEN + 1);
	envelope_free(&env);
	return 0;
}
