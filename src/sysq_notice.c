/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * sysq_notice.c -- the notices for a drop file the pickup refuses: a
 * notice to its submitter (through the aliases, like any local
 * recipient) quoting the message's headers, and a warning to the account's
 * admin; see sysq_impl.h.
 */
#include "common.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "intake.h"
#include "log.h"
#include "sysq.h"
#include "sysq_impl.h"
#include "util.h"
#include "xmalloc.h"

/* A refused file's notices: headers quoted, whole message. */
#define NOTICE_HDR_MAX	(32 * 1024)
#define NOTICE_MAX	(128 * 1024)

/* The largest drop file any account's limit allows. */
off_t
sysq_drop_max(const struct config *cf, const struct sizecache *sizes)
{
	struct size_limit lim;
	long long m = SIZECACHE_DEFAULT;
	size_t i;

	for (i = 0; i < cf->naccounts; i++) {
		sizecache_limit(cf->accounts[i], sizes, &lim);
		if (lim.bytes > m)
			m = lim.bytes;
	}
	return (off_t)m + (off_t)DROP_HDR_LEN + ENVELOPE_MAX;
}

/*
 * Where a local user's mail goes: the account's aliases for the user's
 * name, else the account's admin address, else its own address.
 */
static char *
user_address(const struct account *a, const char *user)
{
	struct aliases *al = NULL;
	struct err e;
	char **v = NULL, *r = NULL;
	size_t i, n = 0;

	if (user != NULL && a->aliases != NULL &&
	    aliases_load(a->aliases, &al, &e) == 0 &&
	    aliases_expand(al, user, &v, &n, &e) == 0 && n > 0 &&
	    strchr(v[0], '@') != NULL)
		r = xstrdup(v[0]);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	if (al != NULL)
		aliases_free(al);
	if (r == NULL)
		r = xstrdup(a->admin != NULL ? a->admin : a->from);
	return r;
}

/*
 * Appends the header block of the refused message, cut at a line, with
 * what could upset SMTP (CR, NUL, lines over 998 octets) left out.
 */
static void
add_msg_headers(struct buf *b, int fd, off_t end)
{
	char chunk[8192];
	size_t i, col = 0, total = 0;
	off_t off = DROP_HDR_LEN;
	ssize_t r;
	int nl = 1;

	while (off < end && total < NOTICE_HDR_MAX) {
		r = pread(fd, chunk, sizeof(chunk), off);
		if (r <= 0)
			break;
		if (r > end - off)
			r = (ssize_t)(end - off);
		for (i = 0; i < (size_t)r; i++, total++) {
			if (chunk[i] == '\n' && nl)
				return;		/* the empty line */
			if (chunk[i] == '\r' || chunk[i] == '\0')
				continue;
			nl = chunk[i] == '\n';
			col = nl ? 0 : col + 1;
			if (col < 990)
				(void)buf_addc(b, chunk[i]);
		}
		off += r;
	}
	if (!nl)
		(void)buf_addc(b, '\n');
}

/* Queues text (LF endings) from sender to rcpt through account a. */
static int
queue_notice(struct queue *q, const struct account *a, const char *sender,
    const char *rcpt, const struct buf *text, int bounce, struct err *e)
{
	struct envelope env;
	const char *p;
	int fd, rc = -1;

	envelope_init(&env);
	if (queue_create(q, &env, &fd, e) == -1)
		goto out;
	if (util_write_all(fd, buf_str(text), text->len) == -1) {
		(void)err_set(e, ERR_IO, "write: %s", strerror(errno));
		queue_abort(q, &env, fd);
		goto out;
	}
	env.account = xstrdup(a->name);
	env.sender = xstrdup(sender);
	env.created = env.next_try = time(NULL);
	env.is_bounce = bounce;
	env.body8bit = !util_is_ascii(buf_str(text), text->len);
	env.smtputf8 = !util_is_ascii(rcpt, strlen(rcpt));
	env.size = (off_t)text->len;
	for (p = buf_str(text); (p = strchr(p, '\n')) != NULL; p++)
		env.size++;
	if (envelope_add_rcpt(&env, rcpt, NULL) == -1) {
		(void)err_set(e, ERR_ADDR, "invalid address <%s>", rcpt);
		queue_abort(q, &env, fd);
		goto out;
	}
	rc = queue_commit(q, &env, fd, e);
out:
	if (rc == 0)
		log_info("%s: notice queued for <%s>", env.id, rcpt);
	envelope_free(&env);
	return rc;
}

/*
 * A drop file was refused after its submitter exited 0: a delivery status
 * notification (RFC 3464) to the submitting user (the file's owner, mapped
 * like any local recipient) and a warning to the account's admin address.
 */
void
sysq_tell_refused(const struct config *cf, struct queue *q, int fd,
    const struct stat *st, const char *name, const struct pick *pk)
{
	const struct account *a = pk->acct;
	struct passwd *pw;
	struct buf b;
	struct err e;
	char safe[1024], date[64], mid[320], user[64], *to = NULL;
	const char *mta = util_hostname(), *status, *dom;
	size_t i;

	if (a == NULL && (a = conf_select(cf, NULL, NULL, &e)) == NULL &&
	    cf->naccounts > 0)
		a = cf->accounts[0];
	if (a == NULL || a->from == NULL) {
		log_warnx("maildrop: %s: no account to send a notice through",
		    name);
		return;
	}
	pw = getpwuid(st->st_uid);
	(void)snprintf(user, sizeof(user), "%s", pw != NULL ? pw->pw_name :
	    "?");
	util_sanitize(safe, sizeof(safe), pk->why, strlen(pk->why));
	status = pk->toobig ? "5.3.4" : "5.6.0";
	to = user_address(a, pw != NULL ? user : NULL);
	dom = strrchr(a->from, '@') != NULL ? strrchr(a->from, '@') + 1 : mta;
	if (util_date(date, sizeof(date), time(NULL)) == -1 ||
	    util_message_id(mid, sizeof(mid), dom) == -1)
		goto out;
	buf_init(&b, NOTICE_MAX, 0);
	(void)buf_addf(&b, "From: \"Mail Delivery System\" <%s>\n"
	    "To: <%s>\nSubject: Undelivered Mail Returned to Sender\n"
	    "Date: %s\nMessage-ID: %s\nAuto-Submitted: auto-replied\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/%s;\n\tboundary=\"%s/%s\"\n\n"
	    "This is a MIME-encapsulated message.\n\n"
	    "--%s/%s\nContent-Description: Notification\n"
	    "Content-Type: text/plain; charset=us-ascii\n\n"
	    "This is the mail system at host %s.\n\n"
	    "A message that user %s (uid %lu) submitted with sendmail, which\n"
	    "accepted it, could not be queued for delivery and was not sent:\n"
	    "\n    %s\n\nThe queue keeps it in corrupt/ as\n    maildrop-%s\n%s"
	    "\n", a->from, to, date, mid,
	    pk->parsed ? "report; report-type=delivery-status" : "mixed",
	    name, mta, name, mta, mta, user, (unsigned long)st->st_uid, safe,
	    name, a->admin != NULL && strcasecmp(a->admin, to) != 0 ?
	    "and the administrator has been told.\n" : "");
	if (pk->parsed && pk->denv.nrcpts > 0) {
		(void)buf_addf(&b, "--%s/%s\nContent-Description: Delivery "
		    "report\nContent-Type: message/delivery-status\n\n"
		    "Reporting-MTA: dns; %s\nX-Oauthmail-Queue-ID: %s\n",
		    name, mta, mta, name);
		for (i = 0; i < pk->denv.nrcpts && i < 100; i++) {
			util_sanitize(date, sizeof(date),
			    pk->denv.rcpts[i].addr,
			    strlen(pk->denv.rcpts[i].addr));
			(void)buf_addf(&b, "\nFinal-Recipient: rfc822; %s\n"
			    "Action: failed\nStatus: %s\n", date, status);
		}
		(void)buf_addc(&b, '\n');
	}
	if (pk->msgend > (off_t)DROP_HDR_LEN) {
		(void)buf_addf(&b, "--%s/%s\nContent-Description: Undelivered "
		    "Message Headers\nContent-Type: text/rfc822-headers\n\n",
		    name, mta);
		add_msg_headers(&b, fd, pk->msgend);
		(void)buf_addc(&b, '\n');
	}
	(void)buf_addf(&b, "--%s/%s--\n", name, mta);
	err_clear(&e);
	if (b.data == NULL || queue_notice(q, a, "", to, &b, 1, &e) == -1)
		log_warnx("maildrop: %s: cannot queue the bounce for <%s>: %s",
		    name, to, b.data == NULL ? "too large" : e.msg);
	buf_free(&b);
	if (a->admin == NULL || strcasecmp(a->admin, to) == 0)
		goto out;
	if (util_message_id(mid, sizeof(mid), dom) == -1)
		goto out;
	buf_init(&b, NOTICE_MAX, 0);
	(void)buf_addf(&b, "From: oauthmail <%s>\nTo: <%s>\n"
	    "Subject: oauthmail: a message from %s was refused\n"
	    "Date: %s\nMessage-ID: %s\nAuto-Submitted: auto-generated\n"
	    "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n"
	    "\nThe delivery daemon on %s refused maildrop file %s from user %s "
	    "(uid %lu)\nafter sendmail had accepted it:\n\n    %s\n\n"
	    "It is kept as corrupt/maildrop-%s in the queue; a bounce went "
	    "to <%s>.\n", a->from, a->admin, user, date, mid, mta, name,
	    user, (unsigned long)st->st_uid, safe, name, to);
	err_clear(&e);
	if (b.data == NULL || queue_notice(q, a, a->from, a->admin, &b, 0,
	    &e) == -1)
		log_warnx("maildrop: %s: cannot queue the warning for <%s>: "
		    "%s", name, a->admin, b.data == NULL ? "too large" : e.msg);
	buf_free(&b);
out:
	free(to);
}
