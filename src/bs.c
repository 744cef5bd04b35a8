/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * bs.c -- sendmail -bs: the SMTP session on standard input and output
 * (replies, MAIL, RCPT, DATA spooled and delivered); see bs.h. What the
 * client sends is read and parsed by bs_parse.c.
 *
 * Decisions:
 *  - HELO or EHLO is required before MAIL (503 otherwise); PIPELINING is
 *    not advertised, but input that arrives pipelined is answered in
 *    order (replies are flushed only before the reader would block).
 *  - The envelope sender is MAIL FROM, put through the same policy as -f
 *    (conf_pick_sender): an address the account may not send as is
 *    replaced by the account's address. The account is chosen per message
 *    by -a, else by MAIL FROM, else the default (conf_select).
 *  - RCPT: local names ("root") must map through the account's aliases
 *    (550 5.1.1 otherwise); the message itself is then spooled through
 *    intake exactly as "sendmail -i rcpt..." would spool it.
 *  - DATA is read line by line (at most LIM_SMTP_LINE octets each),
 *    dot-unstuffed (bs_data_read) and streamed through a stdio cookie
 *    into intake_read with -i semantics; nothing holds the whole message
 *    in memory.
 *  - The reply to the final dot reflects what happened: 250 for sent,
 *    partially sent (the refused recipients get a DSN), deferred or held
 *    (the queue retries); 5xx with the server's reply when it refused the
 *    message; 451 when it could not be spooled.
 */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "api.h"
#include "bs.h"
#include "bs_parse.h"
#include "deliver.h"
#include "log.h"
#include "queue.h"
#include "status.h"
#include "submit.h"
#include "util.h"
#include "xmalloc.h"

#define CMD_MAX		LIM_SMTP_CMD	/* with CRLF */
#define TEXT_MAX	LIM_SMTP_LINE	/* octets of one text line */
#define MAX_ERRORS	20		/* bad commands before we hang up */
#define BARE_DOT_MSG	"a '.' line ends DATA only as <CR><LF>.<CR><LF>; " \
			"this one came with a bare <LF> (send CR LF line " \
			"endings)"

/* ------------------------------------------------------------ session -- */

struct sess {
	const struct invocation	*inv;
	const struct config	*cf;
	struct bs_in		 in;
	FILE			*out;
	const struct account	*acct;		/* of the current message */
	const struct account	*al_acct;	/* whose aliases al holds */
	struct aliases		*al;
	int			 greeted;
	int			 in_mail;
	char			 sender[LIM_ADDR + 1];
	int			 body8bit;
	int			 smtputf8;
	char			**rcpts;
	size_t			 nrcpts;
	int			 failed_io;	/* stdout is gone */
	struct submit_dropper	*dropper;	/* system mode, else NULL */
	int			 bare_dot_eof;	/* input ended in such a DATA */
};

static void OM_PRINTF(2, 3)
reply(struct sess *s, const char *fmt, ...)
{
	char line[CMD_MAX + 64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (log_verbosity() > 1)
		log_transcript("->", line, strlen(line));
	if (fprintf(s->out, "%s\r\n", line) < 0)
		s->failed_io = 1;
}

/* A reply whose text comes from elsewhere: made one printable line. */
static void
reply_text(struct sess *s, int code, const char *esc, const char *text)
{
	char clean[400];

	util_sanitize(clean, sizeof(clean), text, strlen(text));
	reply(s, "%d %s %s", code, esc, clean);
}

static void
reset_txn(struct sess *s)
{
	size_t i;

	for (i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	free(s->rcpts);
	s->rcpts = NULL;
	s->nrcpts = 0;
	s->in_mail = 0;
	s->sender[0] = '\0';
	s->body8bit = s->smtputf8 = 0;
}

/* Loads the aliases of acct unless they are loaded already. */
static int
load_aliases(struct sess *s, struct err *err)
{
	if (s->al_acct == s->acct)
		return 0;
	if (s->al != NULL)
		aliases_free(s->al);
	s->al = NULL;
	s->al_acct = NULL;
	if (s->acct->aliases != NULL &&
	    aliases_load(s->acct->aliases, &s->al, err) == -1)
		return -1;
	s->al_acct = s->acct;
	return 0;
}

/* The size limit of a message through acct (sizecache.h). */
static long long
size_limit(const struct sess *s, const struct account *acct)
{
	struct size_limit lim;

	submit_size_limit(acct, s->dropper != NULL ? &s->dropper->sizes :
	    NULL, &lim);
	return lim.bytes;
}

static void
cmd_mail(struct sess *s, const char *arg)
{
	struct bs_path p;
	struct addr a;
	struct err err;
	char r[256];
	long long max;

	if (!s->greeted) {
		reply(s, "503 5.5.1 Send HELO or EHLO first");
		return;
	}
	if (s->in_mail) {
		reply(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (bs_parse_path(arg, "FROM", 1, &p, r, sizeof(r)) != 0) {
		reply(s, "%s", r);
		return;
	}
	err_clear(&err);
	if (p.addr[0] != '\0' && addr_parse_one(p.addr, &a, &err) == -1) {
		reply_text(s, 501, "5.1.7", err.msg);
		return;
	}
	if (p.addr[0] != '\0') {
		(void)strlcpy(s->sender, a.spec, sizeof(s->sender));
		addr_clear(&a);
	} else
		s->sender[0] = '\0';
	s->acct = conf_select(s->cf, s->inv->account,
	    s->sender[0] != '\0' ? s->sender : s->inv->sender, &err);
	if (s->acct == NULL || load_aliases(s, &err) == -1) {
		log_warnx("%s", err.msg);
		reply_text(s, 451, "4.3.5", err.msg);
		return;
	}
	/* RFC 1870 §6.3: a declared size over the limit is refused now. */
	if (p.size > 0 && p.size > (max = size_limit(s, s->acct))) {
		reply(s, "552 5.3.4 Message size exceeds the limit of %lld "
		    "bytes", max);
		return;
	}
	s->body8bit = p.body8bit;
	s->smtputf8 = p.smtputf8;
	s->in_mail = 1;
	reply(s, "250 2.1.0 Ok");
}

static void
cmd_rcpt(struct sess *s, const char *arg)
{
	struct bs_path p;
	struct addr a;
	struct err err;
	char r[256], **v = NULL;
	size_t n = 0, i, max;

	if (!s->in_mail) {
		reply(s, "503 5.5.1 Need MAIL before RCPT");
		return;
	}
	if (bs_parse_path(arg, "TO", 0, &p, r, sizeof(r)) != 0) {
		reply(s, "%s", r);
		return;
	}
	err_clear(&err);
	if (addr_parse_one(p.addr, &a, &err) == -1) {
		reply_text(s, 501, "5.1.3", err.msg);
		return;
	}
	if (a.flags & ADDR_NULL) {
		addr_clear(&a);
		reply(s, "501 5.1.3 Empty recipient");
		return;
	}
	if ((a.flags & ADDR_NODOMAIN) || aliases_is_local(a.spec)) {
		if (s->al == NULL) {
			reply_text(s, 550, "5.1.1", "local recipient and no "
			    "aliases file is configured for this account");
			addr_clear(&a);
			return;
		}
		if (aliases_expand(s->al, a.spec, &v, &n, &err) == -1) {
			reply_text(s, 550, "5.1.1", err.msg);
			addr_clear(&a);
			return;
		}
		for (i = 0; i < n; i++)
			free(v[i]);
		free(v);
	}
	if (s->nrcpts >= LIM_RCPTS) {
		addr_clear(&a);
		reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	/* An API-only account: the rest goes in the next transaction. */
	if ((max = api_max_rcpts(s->acct->transport)) > 0 &&
	    s->nrcpts >= max) {
		addr_clear(&a);
		reply(s, "452 4.5.3 Too many recipients: %s takes at most %zu "
		    "per message", api_name(s->acct->transport), max);
		return;
	}
	s->rcpts = xreallocarray(s->rcpts, s->nrcpts + 1, sizeof(*s->rcpts));
	s->rcpts[s->nrcpts++] = xstrdup(a.spec);
	addr_clear(&a);
	reply(s, "250 2.1.5 Ok");
}

/* ------------------------------------------------------------ DATA ----- */

static ssize_t
data_read(void *cookie, char *buf, size_t size)
{
	return bs_data_read(cookie, buf, size);
}

/* Spools the message; 0 with *idp set, or -1 with err (data drained). */
static int
spool(struct sess *s, struct queue *q, const struct invocation *minv,
    struct bs_data *d, char **idp, struct err *err)
{
	static const cookie_io_functions_t fns = { data_read, NULL, NULL,
	    NULL };
	FILE *f;
	int rc;

	*idp = NULL;
	if ((f = fopencookie(d, "r", fns)) == NULL) {
		bs_data_drain(d);
		return err_set(err, ERR_OS, "fopencookie: %s",
		    strerror(errno));
	}
	rc = submit_spool(q, minv, s->acct, s->al, f, idp, err);
	bs_data_drain(d);
	(void)fclose(f);
	/* data_read failed the stream, so intake failed and nothing is left. */
	if (d->eof)
		return err_set(err, d->ioerr ? ERR_IO : ERR_DATA,
		    "the input ended inside DATA");
	if (d->toolong)
		return err_set(err, ERR_DATA, "a line is longer than %d "
		    "octets", TEXT_MAX);
	if (d->bare_dot)
		return err_set(err, ERR_DATA, BARE_DOT_MSG);
	return rc;
}

/*
 * The enhanced status code of the server's reply quoted in msg ("... said:
 * 554 5.6.0 text"): the first "5.d.d" token after a 5xx code.
 */
static void
find_esc(const char *msg, char *esc, size_t size)
{
	const char *p;
	size_t n;

	for (p = msg; *p != '\0'; p++) {
		if (p[0] != '5' || !isdigit((unsigned char)p[1]) ||
		    !isdigit((unsigned char)p[2]) || p[3] != ' ' ||
		    p[4] != '5' || p[5] != '.' || (p > msg &&
		    isdigit((unsigned char)p[-1])))
			continue;
		n = strspn(p + 4, "0123456789.");
		if (n >= 5 && n < size) {
			memcpy(esc, p + 4, n);
			esc[n] = '\0';
		}
		return;
	}
}

/* Delivers a committed entry as the delivery mode says; replies. */
static void
deliver_now(struct sess *s, const struct invocation *minv, struct queue *q,
    const char *id)
{
	enum deliver_outcome out;
	struct err e1;
	int code;

	switch (submit_deliver(s->cf, s->acct, q, id,
	    submit_delivery_mode(minv, s->acct), &out, &e1)) {
	case SUBMIT_QUEUED:
	case SUBMIT_BACKGROUND:
		reply(s, "250 2.0.0 Ok: queued as %s", id);
		return;
	case SUBMIT_TRIED:
		break;
	}
	switch (out) {
	case DOUT_SENT:
	case DOUT_PARTIAL:
		reply(s, "250 2.0.0 Ok: sent as %s", id);
		break;
	case DOUT_DEFERRED:
	case DOUT_SKIPPED:
	case DOUT_HELD:
		reply(s, "250 2.0.0 Ok: queued as %s (%s)", id,
		    out == DOUT_HELD ? "held, will retry once fixed" :
		    "will retry");
		break;
	case DOUT_FAILED:
		code = e1.smtp_code >= 500 && e1.smtp_code <= 599 ?
		    e1.smtp_code : 554;
		if (e1.class == ERR_ADDR && e1.smtp_code == 0)
			code = 550;
		if (e1.esc[0] != '5')
			find_esc(e1.msg, e1.esc, sizeof(e1.esc));
		reply_text(s, code, e1.esc[0] == '5' ? e1.esc :
		    (code == 550 ? "5.1.1" : "5.0.0"), e1.msg);
		break;
	}
}

/* The reply to a DATA that could not be spooled. */
static void
reply_refused(struct sess *s, const struct bs_data *d, const struct err *err)
{
	if (d->bare_dot) {
		/* After the end of input too: a client that sends LF only. */
		reply(s, "550 5.5.2 Message refused: " BARE_DOT_MSG);
		if (d->eof) {
			fprintf(stderr, "%s: a message was refused: "
			    BARE_DOT_MSG "\n", OM_PROGNAME);
			s->bare_dot_eof = 1;
		}
	} else if (d->eof) {
		s->failed_io = 1;	/* nobody to answer */
	} else if (d->toolong) {
		reply(s, "552 5.3.4 Message refused: a line is longer than %d "
		    "octets", TEXT_MAX);
	} else if (err->class == ERR_DATA || err->class == ERR_ADDR ||
	    err->class == ERR_USAGE) {
		reply_text(s, 554, err->class == ERR_ADDR ? "5.1.3" : "5.6.0",
		    err->msg);
	} else {
		log_warnx("%s", err->msg);
		reply_text(s, 451, "4.3.0", err->msg);
	}
}

/* Spools the message into the account's queue and delivers it. */
static void
data_to_queue(struct sess *s, const struct invocation *minv,
    struct bs_data *d)
{
	struct queue q;
	struct err err;
	char *id;

	err_clear(&err);
	if (queue_open(&q, s->acct->queue_dir, &err) == -1) {
		bs_data_drain(d);
		log_warnx("%s", err.msg);
		reply_text(s, 451, "4.3.0", err.msg);
		return;
	}
	if (spool(s, &q, minv, d, &id, &err) == -1)
		reply_refused(s, d, &err);
	else {
		deliver_now(s, minv, &q, id);
		free(id);
	}
	queue_close(&q);
}

/*
 * System mode: the message becomes one drop file for the delivery daemon;
 * 250 once the file is complete, on disk and marked ready.
 */
static void
data_to_drop(struct sess *s, const struct invocation *minv,
    struct bs_data *d)
{
	static const cookie_io_functions_t fns = { data_read, NULL, NULL,
	    NULL };
	struct sysq_drop drop;
	struct err err;
	FILE *f;

	err_clear(&err);
	if (submit_dropper_create(s->dropper, &drop, &err) == -1) {
		bs_data_drain(d);
		log_warnx("%s", err.msg);
		reply_text(s, 451, "4.3.0", err.msg);
		return;
	}
	if ((f = fopencookie(d, "r", fns)) == NULL) {
		sysq_drop_abort(&drop);
		bs_data_drain(d);
		reply(s, "451 4.3.0 fopencookie: %s", strerror(errno));
		return;
	}
	if (sysq_drop_write(&drop, minv, s->acct, s->al, f, &err) == -1) {
		sysq_drop_abort(&drop);
		bs_data_drain(d);
		reply_refused(s, d, &err);
	} else {
		log_info("%s: dropped for the delivery daemon (uid %lu)",
		    drop.name, (unsigned long)getuid());
		reply(s, "250 2.0.0 Ok: queued as %s", drop.name);
	}
	(void)fclose(f);
}

static void
cmd_data(struct sess *s, const char *arg)
{
	struct invocation minv;
	struct bs_data *d;

	if (*arg != '\0') {
		reply(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	if (!s->in_mail) {
		reply(s, "503 5.5.1 Need MAIL command");
		return;
	}
	if (s->nrcpts == 0) {
		reply(s, "503 5.5.1 Need RCPT command");
		return;
	}
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
	d = xmalloc(sizeof(*d));
	bs_data_init(d, &s->in);
	submit_bs_invocation(&minv, s->inv, s->sender, s->rcpts, s->nrcpts,
	    s->body8bit, s->smtputf8);
	if (s->dropper != NULL)
		data_to_drop(s, &minv, d);
	else
		data_to_queue(s, &minv, d);
	free(d);
	reset_txn(s);
}

int
bs_run(const struct invocation *inv, const struct config *cf,
    struct submit_dropper *dropper)
{
	struct sess s;
	struct err err;
	const struct account *acct;
	char line[CMD_MAX];
	const char *arg;
	size_t len;
	int rc, nerr = 0, quit = 0;

	err_clear(&err);
	/* Fail before the greeting when there is no usable account. */
	acct = conf_select(cf, inv->account, inv->sender, &err);
	if (acct == NULL) {
		fprintf(stderr, "%s: %s\n", OM_PROGNAME, err.msg);
		return err_exitcode(&err);
	}
	log_init(inv->verbose, acct->syslog, OM_PROGNAME);
	if (acct->logfile != NULL && log_set_file(acct->logfile) == -1)
		log_warn("cannot open log file %s", acct->logfile);

	memset(&s, 0, sizeof(s));
	s.inv = inv;
	s.cf = cf;
	s.out = stdout;
	s.acct = acct;
	s.dropper = dropper;
	bs_in_init(&s.in, STDIN_FILENO, BS_TIMEOUT);
	reply(&s, "220 %s ESMTP %s", util_hostname(), OM_PROGNAME);
	while (!quit && !s.failed_io) {
		rc = bs_getline(&s.in, line, CMD_MAX - 1, &len);
		if (rc == BS_EOF)
			break;
		if (rc == BS_ERR) {
			if (errno == ETIMEDOUT)
				reply(&s, "421 4.4.2 %s Error: timeout "
				    "exceeded", util_hostname());
			break;
		}
		if (log_verbosity() > 1)
			log_transcript("<-", line, len);
		if (rc == BS_LONG || memchr(line, '\0', len) != NULL) {
			reply(&s, "500 5.5.2 %s", rc == BS_LONG ?
			    "Line too long" : "Bad command line");
			goto bad;
		}
		switch (bs_parse_verb(line, &arg)) {
		case BSV_HELO:
		case BSV_EHLO:
			if (*arg == '\0') {
				reply(&s, "501 5.5.4 Syntax: %.4s hostname",
				    line);
				goto bad;
			}
			reset_txn(&s);
			s.greeted = 1;
			if (toupper((unsigned char)line[0]) == 'H')
				reply(&s, "250 %s", util_hostname());
			else {
				reply(&s, "250-%s", util_hostname());
				reply(&s, "250-8BITMIME");
				reply(&s, "250-SIZE %lld", size_limit(&s,
				    acct));
				reply(&s, "250 ENHANCEDSTATUSCODES");
			}
			break;
		case BSV_MAIL:
			cmd_mail(&s, arg);
			break;
		case BSV_RCPT:
			cmd_rcpt(&s, arg);
			break;
		case BSV_DATA:
			cmd_data(&s, arg);
			break;
		case BSV_RSET:
			reset_txn(&s);
			reply(&s, "250 2.0.0 Ok");
			break;
		case BSV_NOOP:
			reply(&s, "250 2.0.0 Ok");
			break;
		case BSV_VRFY:
			reply(&s, "252 2.0.0 Cannot VRFY; send some mail and "
			    "see");
			break;
		case BSV_EXPN:
			reply(&s, "502 5.5.1 EXPN not available");
			break;
		case BSV_HELP:
			reply(&s, "214 2.0.0 HELO EHLO MAIL RCPT DATA RSET "
			    "NOOP VRFY QUIT");
			break;
		case BSV_QUIT:
			reply(&s, "221 2.0.0 Bye");
			quit = 1;
			break;
		case BSV_NOTIMPL:
			reply(&s, "502 5.5.1 Command not implemented");
			break;
		case BSV_UNKNOWN:
			reply(&s, "500 5.5.2 Command unrecognized");
			goto bad;
		}
		continue;
bad:
		if (++nerr >= MAX_ERRORS) {
			reply(&s, "421 4.7.0 Too many errors");
			break;
		}
	}
	reset_txn(&s);
	if (s.al != NULL)
		aliases_free(s.al);
	if (fflush(stdout) != 0)
		s.failed_io = 1;
	/* A client that ends DATA with LF . LF learns it from the status. */
	return s.bare_dot_eof ? EX_DATAERR : EX_OK;
}
