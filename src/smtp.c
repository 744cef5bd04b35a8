/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * smtp.c -- the SMTP submission client; see smtp.h.
 *
 * The protocol is two switches over named states (doc/design.md §6,
 * after OpenSMTPD's smtp_client.c): smtp_enter() sends the command of a
 * state and returns the state whose reply is awaited; smtp_response()
 * maps that reply to the next state. smtp_run() drives them and traces
 * every transition. SMTP_S_READY ends a phase successfully, SMTP_S_FAIL
 * with err set.
 *
 * Policy: TLS (implicit or STARTTLS) whenever the account says tls on,
 * STARTTLS mandatory then; capabilities re-read after TLS (RFC 3207 §4.2);
 * no credentials over plaintext unless the peer is local; no HELO
 * fallback unless the account uses neither TLS nor AUTH; RSET instead of
 * content when no recipient was accepted (RFC 2920 §3.1).
 *
 * 8-bit bodies are sent with BODY=8BITMIME when offered, and as they are
 * otherwise (RFC 6152 would have us convert; practically every submission
 * server accepts 8-bit data, and converting is a MIME rewrite we do not
 * do). Bare CR in the message is sent as CRLF, never alone.
 */
#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "conn.h"
#include "envelope.h"
#include "log.h"
#include "sasl.h"
#include "sizecache.h"
#include "smtp.h"
#include "smtpreply.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

#if SMTP_CAP_STARTTLS != SMTPREPLY_CAP_STARTTLS || \
    SMTP_CAP_PIPELINING != SMTPREPLY_CAP_PIPELINING || \
    SMTP_CAP_SIZE != SMTPREPLY_CAP_SIZE || \
    SMTP_CAP_8BITMIME != SMTPREPLY_CAP_8BITMIME || \
    SMTP_CAP_SMTPUTF8 != SMTPREPLY_CAP_SMTPUTF8 || \
    SMTP_CAP_DSN != SMTPREPLY_CAP_DSN || \
    SMTP_CAP_ENHANCED != SMTPREPLY_CAP_ENHANCED || \
    SMTP_CAP_AUTH != SMTPREPLY_CAP_AUTH
#error "SMTP_CAP_* and SMTPREPLY_CAP_* differ"
#endif

#define MIN_MS		(60 * 1000)
#define QUIT_MS		(10 * 1000)
#define BODY_CHUNK	(16 * 1024)
#define PIPELINE_MAX	100	/* recipients sent in one pipelined write */

enum smtp_state {
	SMTP_S_INIT = 0,
	SMTP_S_GREETING,
	SMTP_S_EHLO,
	SMTP_S_HELO,
	SMTP_S_STARTTLS,
	SMTP_S_AUTH,
	SMTP_S_AUTH_RESP,
	SMTP_S_AUTH_LOGIN_USER,
	SMTP_S_AUTH_LOGIN_PASS,
	SMTP_S_AUTH_ABORT,
	SMTP_S_RSET,
	SMTP_S_MAIL,
	SMTP_S_RCPT,
	SMTP_S_DATA,
	SMTP_S_BODY,
	SMTP_S_READY,
	SMTP_S_FAIL
};

static const char *const smtp_strstate[] = {
	[SMTP_S_INIT] = "INIT",
	[SMTP_S_GREETING] = "GREETING",
	[SMTP_S_EHLO] = "EHLO",
	[SMTP_S_HELO] = "HELO",
	[SMTP_S_STARTTLS] = "STARTTLS",
	[SMTP_S_AUTH] = "AUTH",
	[SMTP_S_AUTH_RESP] = "AUTH_RESP",
	[SMTP_S_AUTH_LOGIN_USER] = "AUTH_LOGIN_USER",
	[SMTP_S_AUTH_LOGIN_PASS] = "AUTH_LOGIN_PASS",
	[SMTP_S_AUTH_ABORT] = "AUTH_ABORT",
	[SMTP_S_RSET] = "RSET",
	[SMTP_S_MAIL] = "MAIL",
	[SMTP_S_RCPT] = "RCPT",
	[SMTP_S_DATA] = "DATA",
	[SMTP_S_BODY] = "BODY",
	[SMTP_S_READY] = "READY",
	[SMTP_S_FAIL] = "FAIL",
};

struct smtp_session {
	struct conn		*conn;
	char			*host;
	int			 port;
	int			 tls;		/* account wants TLS */
	int			 starttls;	/* ... by STARTTLS */
	int			 allow_helo;
	char			*trust_file;
	char			*helo_name;
	int			 timeout_ms;	/* 0: RFC 5321 defaults */
	int			 broken;	/* no further command possible */
	int			 failed;	/* err set, still draining */
	int			 authed;
	int			 in_txn;
	struct smtpreply	 reply;
	struct smtpreply_caps	 caps;
	char			 last[512];
	/* AUTH exchange */
	enum conf_auth		 mech;
	int			 auth_inline;
	struct buf		 resp;		/* secret */
	const char		*user;
	const char		*secret;
	size_t			 secretlen;
	char			 challenge[256];
	/* Transaction */
	struct envelope		*env;
	int			 msg_fd;
	size_t			*ridx;		/* recipients tried */
	char			*acc;		/* accepted at RCPT */
	size_t			 nridx;
	size_t			 rcur;
	size_t			 accepted;
	int			 any_temp;
	enum err_class		 any_class;	/* of a 5xx kept for later */
	int			 content_sent;	/* DATA content went out */
	int			 pipelined;
	int			 mail_failed;
	int			 rset_then_mail;
};

static enum smtp_state smtp_enter(struct smtp_session *, enum smtp_state,
	    struct err *);
static enum smtp_state smtp_response(struct smtp_session *, enum smtp_state,
	    struct err *);

static const char *
strstate(enum smtp_state st)
{
	if ((size_t)st < nitems(smtp_strstate) && smtp_strstate[st] != NULL)
		return smtp_strstate[st];
	return "?";
}

const char *
smtp_mech_name(enum conf_auth m)
{
	switch (m) {
	case AUTH_XOAUTH2:
		return "XOAUTH2";
	case AUTH_OAUTHBEARER:
		return "OAUTHBEARER";
	case AUTH_PLAIN:
		return "PLAIN";
	case AUTH_LOGIN:
		return "LOGIN";
	case AUTH_NONE:
		return "none";
	case AUTH_AUTO:
	default:
		return "auto";
	}
}

/* RFC 5321 §4.5.3.2 client timeouts, unless the account sets one. */
static int
step_timeout(struct smtp_session *s, enum smtp_state st)
{
	if (s->timeout_ms > 0)
		return s->timeout_ms;
	switch (st) {
	case SMTP_S_DATA:
		return 2 * MIN_MS;
	case SMTP_S_BODY:
		return 10 * MIN_MS;	/* final dot; blocks use 3 min */
	default:
		return 5 * MIN_MS;
	}
}

/*
 * Sets err from the current reply: 4xx temporary, 5xx permanent, except
 * what smtpreply_class knows better (a sending limit is temporary, a
 * mailbox that may not send is held).
 */
static int
reply_fail(struct smtp_session *s, struct err *err, const char *what)
{
	int code = s->reply.code;
	enum err_class c = smtpreply_class(code, s->last);

	return err_set_smtp(err, c, code, s->reply.esc, "%s: %s:%d said: %s",
	    what, s->host, s->port, s->last);
}

static int
read_reply(struct smtp_session *s, struct err *err)
{
	const char *line;
	size_t len;

	smtpreply_reset(&s->reply);
	s->last[0] = '\0';
	do {
		if (conn_getline(s->conn, CONN_RBUF - 2, &line, &len,
		    err) == -1) {
			s->broken = 1;
			return -1;
		}
		if (smtpreply_add_line(&s->reply, line, len, err) == -1) {
			s->broken = 1;
			return err_prefix(err, "%s:%d", s->host, s->port);
		}
	} while (!s->reply.done);
	smtpreply_oneline(&s->reply, s->last, sizeof(s->last));
	/* RFC 5321 §3.8: 421 means the server is closing. */
	if (s->reply.code == 421)
		s->broken = 1;
	return 0;
}

static int
send_cmd(struct smtp_session *s, struct err *err, const char *fmt, ...)
    OM_PRINTF(3, 4);

static int
send_cmd(struct smtp_session *s, struct err *err, const char *fmt, ...)
{
	char line[LIM_SMTP_CMD + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return err_set(err, ERR_DATA, "SMTP command longer than %d "
		    "octets", LIM_SMTP_CMD);
	if (conn_write_cmd(s->conn, line, (size_t)n, err) == -1) {
		s->broken = 1;
		return -1;
	}
	return 0;
}

static enum smtp_state
smtp_run(struct smtp_session *s, enum smtp_state st, struct err *err)
{
	enum smtp_state next;
	struct err tmp;

	s->failed = 0;
	while (st != SMTP_S_READY && st != SMTP_S_FAIL) {
		next = smtp_enter(s, st, err);
		if (next != st)
			log_debug("smtp: %s -> %s", strstate(st),
			    strstate(next));
		st = next;
		if (st == SMTP_S_READY || st == SMTP_S_FAIL)
			break;
		if (read_reply(s, s->failed ? &tmp : err) == -1) {
			st = SMTP_S_FAIL;
			break;
		}
		next = smtp_response(s, st, err);
		log_debug("smtp: %s [%d] -> %s", strstate(st),
		    s->reply.code, strstate(next));
		st = next;
	}
	if (s->failed)
		st = SMTP_S_FAIL;
	return st;
}

/* ---- transaction helpers ---- */

static int
addr_ok(const char *a)
{
	const unsigned char *p;

	for (p = (const unsigned char *)a; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>')
			return 0;
	return strlen(a) <= LIM_ADDR;
}

/* RFC 3461 §4: xtext. */
static int
add_xtext(struct buf *b, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 33 || *p > 126 || *p == '+' || *p == '=') {
			if (buf_addf(b, "+%02X", *p) == -1)
				return -1;
		} else if (buf_addc(b, *p) == -1)
			return -1;
	}
	return 0;
}

static int
build_mail(struct smtp_session *s, struct buf *b)
{
	struct envelope *env = s->env;

	if (buf_addf(b, "MAIL FROM:<%s>", env->sender) == -1)
		return -1;
	if ((s->caps.flags & SMTP_CAP_SIZE) && env->size > 0 &&
	    buf_addf(b, " SIZE=%lld", (long long)env->size) == -1)
		return -1;
	if ((env->body8bit || env->smtputf8) &&
	    (s->caps.flags & SMTP_CAP_8BITMIME) &&
	    buf_adds(b, " BODY=8BITMIME") == -1)
		return -1;
	if (env->smtputf8 && (s->caps.flags & SMTP_CAP_SMTPUTF8) &&
	    buf_adds(b, " SMTPUTF8") == -1)
		return -1;
	if (s->caps.flags & SMTP_CAP_DSN) {
		if (env->dsn_ret != NULL && *env->dsn_ret != '\0' &&
		    buf_addf(b, " RET=%s", strcasecmp(env->dsn_ret, "full")
		    == 0 ? "FULL" : "HDRS") == -1)
			return -1;
		if (env->envid != NULL && *env->envid != '\0' &&
		    (buf_adds(b, " ENVID=") == -1 ||
		    add_xtext(b, env->envid) == -1))
			return -1;
	}
	return buf_adds(b, "\r\n");
}

static int
build_rcpt(struct smtp_session *s, struct buf *b, size_t i)
{
	const char *notify = s->env->dsn_notify, *p;

	if (buf_addf(b, "RCPT TO:<%s>", s->env->rcpts[i].addr) == -1)
		return -1;
	if ((s->caps.flags & SMTP_CAP_DSN) && notify != NULL &&
	    *notify != '\0') {
		if (buf_adds(b, " NOTIFY=") == -1)
			return -1;
		for (p = notify; *p != '\0'; p++) {
			char c = *p;

			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if ((c >= 'A' && c <= 'Z') || c == ',')
				if (buf_addc(b, c) == -1)
					return -1;
		}
	}
	return buf_adds(b, "\r\n");
}

static void
set_rcpt_reply(struct rcpt *r, const char *reply)
{
	free(r->reply);
	r->reply = xstrdup(reply);
}

/*
 * A failure for the whole message: a 5xx marks the recipients still in
 * play FAILED; a 4xx leaves their state. Sets s->failed.
 */
static void
txn_fail(struct smtp_session *s, struct err *err, const char *what)
{
	size_t k;
	int perm;

	(void)reply_fail(s, err, what);
	perm = err->class == ERR_PERM;
	s->failed = 1;
	for (k = 0; k < s->nridx; k++) {
		struct rcpt *r = &s->env->rcpts[s->ridx[k]];

		if (!s->mail_failed && !s->acc[k])
			continue;
		set_rcpt_reply(r, s->last);
		if (perm)
			r->state = RCPT_FAILED;
	}
}

static void
rcpt_result(struct smtp_session *s)
{
	struct rcpt *r = &s->env->rcpts[s->ridx[s->rcur]];

	set_rcpt_reply(r, s->last);
	if (s->reply.code >= 200 && s->reply.code < 300) {
		s->acc[s->rcur] = 1;
		s->accepted++;
	} else if (smtpreply_class(s->reply.code, s->last) != ERR_PERM) {
		/* 4xx, or a sending limit / permission the mail can wait for */
		r->state = RCPT_DEFERRED;
		s->any_temp = 1;
		if (s->reply.code >= 500 && s->any_class == ERR_NONE)
			s->any_class = smtpreply_class(s->reply.code, s->last);
	} else {
		r->state = RCPT_FAILED;
		if (s->reply.code < 400)
			s->any_temp = 1;	/* 3xx here: odd, retry */
	}
}

static int
no_rcpt_error(struct smtp_session *s, struct err *err)
{
	const struct rcpt *r = &s->env->rcpts[s->ridx[0]];
	enum err_class c = ERR_PERM;

	s->failed = 1;
	if (s->any_temp)
		c = s->any_class == ERR_AUTH ? ERR_AUTH : ERR_TEMP;
	/* Report what the server said to the recipient, not to DATA. */
	return err_set_smtp(err, c,
	    s->reply.code, s->reply.esc, "%s:%d refused <%s>%s: %s", s->host,
	    s->port, r->addr, s->nridx > 1 ? " and every other recipient" : "",
	    r->reply != NULL ? r->reply : s->last);
}

/*
 * Streams msg_fd: LF -> CRLF (CRLF stays), a bare CR becomes CRLF,
 * dot-stuffing (RFC 5321 §4.5.2), then the final ".\r\n" after making
 * sure the last line ended. Memory is bounded by BODY_CHUNK.
 */
static int
send_body(struct smtp_session *s, struct err *err)
{
	char in[BODY_CHUNK];
	struct buf out;
	int bol = 1, pending_cr = 0;
	ssize_t n;
	size_t i;

	buf_init(&out, 3 * BODY_CHUNK + 8, 0);
	if (lseek(s->msg_fd, 0, SEEK_SET) == -1 && errno != ESPIPE)
		return err_set(err, ERR_IO, "message file: %s",
		    strerror(errno));
	for (;;) {
		n = read(s->msg_fd, in, sizeof(in));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			buf_free(&out);
			s->broken = 1;	/* cannot end DATA cleanly */
			return err_set(err, ERR_IO, "reading the message: %s",
			    strerror(errno));
		}
		if (n == 0)
			break;
		for (i = 0; i < (size_t)n; i++) {
			char c = in[i];
			int r = 0;

			if (pending_cr) {
				pending_cr = 0;
				r = buf_add(&out, "\r\n", 2);
				bol = 1;
				if (c == '\n')
					continue;
			}
			if (c == '\r') {
				pending_cr = 1;
				continue;
			}
			if (c == '\n') {
				r = r == -1 ? -1 : buf_add(&out, "\r\n", 2);
				bol = 1;
			} else {
				if (bol && c == '.')
					r = r == -1 ? -1 : buf_addc(&out, '.');
				r = r == -1 ? -1 : buf_addc(&out, c);
				bol = 0;
			}
			if (r == -1)
				return err_set(err, ERR_OS, "out of memory");
		}
		if (out.len >= 2 * BODY_CHUNK) {
			if (conn_write(s->conn, out.data, out.len, err) == -1) {
				buf_free(&out);
				s->broken = 1;
				return -1;
			}
			buf_reset(&out);
		}
	}
	if ((pending_cr || !bol) && buf_add(&out, "\r\n", 2) == -1)
		return err_set(err, ERR_OS, "out of memory");
	if (buf_add(&out, ".\r\n", 3) == -1)
		return err_set(err, ERR_OS, "out of memory");
	if (conn_write(s->conn, out.data, out.len, err) == -1) {
		buf_free(&out);
		s->broken = 1;
		return -1;
	}
	buf_free(&out);
	return 0;
}

/* ---- AUTH helpers ---- */

static int
auth_fail(struct smtp_session *s, struct err *err)
{
	int code = s->reply.code;
	enum err_class c;

	if ((code >= 400 && code < 500) ||
	    smtpreply_class(code, s->last) == ERR_TEMP)
		c = ERR_TEMP;		/* 454 4.7.0 and friends, limits */
	else if (code == 535 || code == 534 || code == 530 || code == 538 ||
	    strncmp(s->reply.esc, "5.7.", 4) == 0)
		c = ERR_AUTH;
	else if (code >= 500)
		c = ERR_PERM;
	else
		c = ERR_PROTO;
	s->failed = 1;
	if (s->challenge[0] != '\0')
		return err_set_smtp(err, c, code, s->reply.esc, "AUTH %s "
		    "refused by %s:%d: %s (%s)", smtp_mech_name(s->mech),
		    s->host, s->port, s->last, s->challenge);
	return err_set_smtp(err, c, code, s->reply.esc, "AUTH %s refused "
	    "by %s:%d: %s", smtp_mech_name(s->mech), s->host, s->port,
	    s->last);
}

/* A 334 after the client response: an error challenge (RFC 7628 §3.2.2). */
static enum smtp_state
auth_challenge(struct smtp_session *s)
{
	const char *t = buf_str(&s->reply.text);

	sasl_describe_challenge(t, s->reply.text.len, s->challenge,
	    sizeof(s->challenge));
	log_debug("smtp: AUTH %s error challenge: %s",
	    smtp_mech_name(s->mech), s->challenge);
	return SMTP_S_AUTH_ABORT;
}

/* ---- the two switches ---- */

static enum smtp_state
smtp_enter(struct smtp_session *s, enum smtp_state st, struct err *err)
{
	struct buf b;
	size_t k;
	int r;

	conn_set_timeout(s->conn, step_timeout(s, st));
	switch (st) {
	case SMTP_S_GREETING:
		return st;
	case SMTP_S_EHLO:
		memset(&s->caps, 0, sizeof(s->caps));
		if (send_cmd(s, err, "EHLO %s\r\n", s->helo_name) == -1)
			return SMTP_S_FAIL;
		return st;
	case SMTP_S_HELO:
		if (send_cmd(s, err, "HELO %s\r\n", s->helo_name) == -1)
			return SMTP_S_FAIL;
		return st;
	case SMTP_S_STARTTLS:
		if (send_cmd(s, err, "STARTTLS\r\n") == -1)
			return SMTP_S_FAIL;
		return st;
	case SMTP_S_AUTH:
		if (s->mech == AUTH_LOGIN) {
			r = send_cmd(s, err, "AUTH LOGIN\r\n");
		} else if (sasl_inline_ok(smtp_mech_name(s->mech),
		    s->resp.len)) {
			char prefix[32];

			s->auth_inline = 1;
			(void)snprintf(prefix, sizeof(prefix), "AUTH %s ",
			    smtp_mech_name(s->mech));
			r = conn_write_secret(s->conn, prefix, s->resp.data,
			    s->resp.len, err);
		} else
			r = send_cmd(s, err, "AUTH %s\r\n",
			    smtp_mech_name(s->mech));
		if (r == -1) {
			s->broken = 1;
			return SMTP_S_FAIL;
		}
		return st;
	case SMTP_S_AUTH_RESP:
		if (conn_write_secret(s->conn, "", s->resp.data, s->resp.len,
		    err) == -1) {
			s->broken = 1;
			return SMTP_S_FAIL;
		}
		return st;
	case SMTP_S_AUTH_LOGIN_USER:
	case SMTP_S_AUTH_LOGIN_PASS:
		if (st == SMTP_S_AUTH_LOGIN_USER)
			r = sasl_login_piece(&b, s->user, strlen(s->user),
			    err);
		else
			r = sasl_login_piece(&b, s->secret, s->secretlen, err);
		if (r == 0)
			r = conn_write_secret(s->conn, "", b.data, b.len, err);
		buf_free(&b);
		if (r == -1) {
			s->broken = 1;
			return SMTP_S_FAIL;
		}
		return st;
	case SMTP_S_AUTH_ABORT:
		/* XOAUTH2: empty line; OAUTHBEARER: %x01 (RFC 7628 §3.2.3). */
		if (s->mech == AUTH_XOAUTH2)
			r = send_cmd(s, err, "\r\n");
		else if (s->mech == AUTH_OAUTHBEARER)
			r = send_cmd(s, err, "AQ==\r\n");
		else
			r = send_cmd(s, err, "*\r\n");
		return r == -1 ? SMTP_S_FAIL : st;
	case SMTP_S_RSET:
		if (send_cmd(s, err, "RSET\r\n") == -1)
			return SMTP_S_FAIL;
		return st;
	case SMTP_S_MAIL:
		buf_init(&b, LIM_SMTP_CMD * (PIPELINE_MAX + 3), 0);
		if (build_mail(s, &b) == -1 || b.len > LIM_SMTP_CMD) {
			buf_free(&b);
			(void)err_set(err, ERR_DATA, "MAIL command too long");
			return SMTP_S_FAIL;
		}
		s->pipelined = (s->caps.flags & SMTP_CAP_PIPELINING) &&
		    s->nridx <= PIPELINE_MAX;
		if (s->pipelined) {
			/* RFC 2920 §3.1: MAIL, RCPT... and DATA in one go. */
			for (k = 0; k < s->nridx; k++)
				if (build_rcpt(s, &b, s->ridx[k]) == -1)
					break;
			if (k < s->nridx || buf_adds(&b, "DATA\r\n") == -1) {
				(void)err_set(err, ERR_DATA, "RCPT command "
				    "too long");
				return SMTP_S_FAIL;
			}
		}
		s->in_txn = 1;
		r = conn_write_cmd(s->conn, b.data, b.len, err);
		buf_free(&b);
		if (r == -1) {
			s->broken = 1;
			return SMTP_S_FAIL;
		}
		return st;
	case SMTP_S_RCPT:
		if (s->pipelined)
			return st;
		buf_init(&b, LIM_SMTP_CMD, 0);
		if (build_rcpt(s, &b, s->ridx[s->rcur]) == -1) {
			(void)err_set(err, ERR_DATA, "RCPT command too long");
			return SMTP_S_FAIL;
		}
		r = conn_write_cmd(s->conn, b.data, b.len, err);
		buf_free(&b);
		if (r == -1) {
			s->broken = 1;
			return SMTP_S_FAIL;
		}
		return st;
	case SMTP_S_DATA:
		if (!s->pipelined && send_cmd(s, err, "DATA\r\n") == -1)
			return SMTP_S_FAIL;
		return st;
	case SMTP_S_BODY:
		conn_set_timeout(s->conn, s->timeout_ms > 0 ? s->timeout_ms :
		    3 * MIN_MS);
		s->content_sent = 1;
		if (send_body(s, err) == -1)
			return SMTP_S_FAIL;
		conn_set_timeout(s->conn, step_timeout(s, st));
		return st;
	case SMTP_S_INIT:
	case SMTP_S_READY:
	case SMTP_S_FAIL:
	default:
		return st;
	}
}

static enum smtp_state
smtp_response(struct smtp_session *s, enum smtp_state st, struct err *err)
{
	int code = s->reply.code;

	switch (st) {
	case SMTP_S_GREETING:
		if (code == 220)
			return SMTP_S_EHLO;
		if (code >= 400) {
			(void)reply_fail(s, err, "greeting");
			return SMTP_S_FAIL;
		}
		(void)err_set_smtp(err, ERR_PROTO, code, s->reply.esc,
		    "unexpected greeting from %s:%d: %s", s->host, s->port,
		    s->last);
		return SMTP_S_FAIL;
	case SMTP_S_EHLO:
		if (code == 250) {
			smtpreply_caps(&s->reply, &s->caps);
			if (s->tls && s->starttls && !conn_is_tls(s->conn)) {
				if (s->caps.flags & SMTP_CAP_STARTTLS)
					return SMTP_S_STARTTLS;
				(void)err_set(err, ERR_PERM, "%s:%d: server "
				    "does not offer STARTTLS, which this "
				    "account requires", s->host, s->port);
				return SMTP_S_FAIL;
			}
			return SMTP_S_READY;
		}
		if (code >= 500 && s->allow_helo && !s->tls)
			return SMTP_S_HELO;
		(void)reply_fail(s, err, "EHLO");
		return SMTP_S_FAIL;
	case SMTP_S_HELO:
		if (code == 250)
			return SMTP_S_READY;
		(void)reply_fail(s, err, "HELO");
		return SMTP_S_FAIL;
	case SMTP_S_STARTTLS:
		if (code == 220) {
			if (conn_starttls(s->conn, s->trust_file, err) == -1) {
				s->broken = 1;
				return SMTP_S_FAIL;
			}
			/* RFC 3207 §4.2: forget everything, EHLO again. */
			memset(&s->caps, 0, sizeof(s->caps));
			return SMTP_S_EHLO;
		}
		(void)reply_fail(s, err, "STARTTLS");
		return SMTP_S_FAIL;
	case SMTP_S_AUTH:
		if (code == 235)
			return SMTP_S_READY;
		if (code == 334) {
			if (s->mech == AUTH_LOGIN)
				return SMTP_S_AUTH_LOGIN_USER;
			if (!s->auth_inline)
				return SMTP_S_AUTH_RESP;
			return auth_challenge(s);
		}
		(void)auth_fail(s, err);
		return SMTP_S_FAIL;
	case SMTP_S_AUTH_RESP:
		if (code == 235)
			return SMTP_S_READY;
		if (code == 334)
			return auth_challenge(s);
		(void)auth_fail(s, err);
		return SMTP_S_FAIL;
	case SMTP_S_AUTH_LOGIN_USER:
		if (code == 334)
			return SMTP_S_AUTH_LOGIN_PASS;
		(void)auth_fail(s, err);
		return SMTP_S_FAIL;
	case SMTP_S_AUTH_LOGIN_PASS:
		if (code == 235)
			return SMTP_S_READY;
		(void)auth_fail(s, err);
		return SMTP_S_FAIL;
	case SMTP_S_AUTH_ABORT:
		if (code == 235)	/* odd, but the server says yes */
			return SMTP_S_READY;
		(void)auth_fail(s, err);
		return SMTP_S_FAIL;
	case SMTP_S_RSET:
		if (code == 250) {
			s->in_txn = 0;
			if (s->rset_then_mail) {
				s->rset_then_mail = 0;
				return SMTP_S_MAIL;
			}
			return SMTP_S_FAIL;	/* err set before the RSET */
		}
		s->broken = 1;
		if (!s->failed) {
			(void)reply_fail(s, err, "RSET");
			s->failed = 1;
		}
		return SMTP_S_FAIL;
	case SMTP_S_MAIL:
		s->rcur = 0;
		if (code >= 200 && code < 300)
			return SMTP_S_RCPT;
		s->mail_failed = 1;
		txn_fail(s, err, "MAIL FROM");
		s->in_txn = 0;
		if (s->pipelined && !s->broken)
			return SMTP_S_RCPT;	/* drain the replies */
		return SMTP_S_FAIL;
	case SMTP_S_RCPT:
		if (!s->mail_failed)
			rcpt_result(s);
		if (++s->rcur < s->nridx)
			return SMTP_S_RCPT;
		if (s->pipelined)
			return SMTP_S_DATA;
		if (s->accepted > 0)
			return SMTP_S_DATA;
		(void)no_rcpt_error(s, err);
		return SMTP_S_RSET;
	case SMTP_S_DATA:
		if (code == 354 && !s->mail_failed && s->accepted > 0)
			return SMTP_S_BODY;
		if (code == 354) {
			/* Content would go nowhere; the session is unusable. */
			s->broken = 1;
			s->failed = 1;
			if (!s->mail_failed)
				(void)err_set(err, ERR_PROTO, "%s:%d accepted "
				    "DATA without recipients", s->host,
				    s->port);
			return SMTP_S_FAIL;
		}
		if (s->mail_failed)
			return SMTP_S_FAIL;	/* no transaction to reset */
		if (s->accepted == 0)
			(void)no_rcpt_error(s, err);
		else
			txn_fail(s, err, "DATA");
		return s->broken ? SMTP_S_FAIL : SMTP_S_RSET;
	case SMTP_S_BODY: {
		size_t k;

		s->in_txn = 0;
		if (code >= 200 && code < 300) {
			for (k = 0; k < s->nridx; k++) {
				struct rcpt *r = &s->env->rcpts[s->ridx[k]];

				if (!s->acc[k])
					continue;
				r->state = RCPT_SENT;
				set_rcpt_reply(r, s->last);
			}
			return SMTP_S_READY;
		}
		txn_fail(s, err, "end of DATA");
		return SMTP_S_FAIL;
	}
	case SMTP_S_INIT:
	case SMTP_S_READY:
	case SMTP_S_FAIL:
	default:
		(void)err_set(err, ERR_INTERNAL, "smtp: reply in state %s",
		    strstate(st));
		return SMTP_S_FAIL;
	}
}

/* ---- public API ---- */

static void
session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	conn_close(s->conn);
	smtpreply_free(&s->reply);
	buf_free(&s->resp);
	free(s->host);
	free(s->trust_file);
	free(s->helo_name);
	free(s->ridx);
	free(s->acc);
	free(s);
}

int
smtp_connect_conn(struct conn *c, const struct account *acct,
    struct smtp_session **sp, struct err *err)
{
	struct smtp_session *s;
	const char *name;

	*sp = NULL;
	s = xcalloc(1, sizeof(*s));
	s->conn = c;
	s->host = xstrdup(acct->host != NULL ? acct->host : conn_host(c));
	s->port = conn_port(c);
	s->tls = acct->tls;
	s->starttls = acct->tls_starttls;
	s->allow_helo = !acct->tls && acct->auth == AUTH_NONE;
	s->trust_file = acct->tls_trust_file != NULL ?
	    xstrdup(acct->tls_trust_file) : NULL;
	name = acct->domain != NULL && *acct->domain != '\0' ?
	    acct->domain : util_hostname();
	s->helo_name = xstrdup(name != NULL && *name != '\0' &&
	    addr_ok(name) ? name : "localhost");
	s->timeout_ms = acct->timeout > 0 ? acct->timeout * 1000 : 0;
	s->msg_fd = -1;
	smtpreply_init(&s->reply);
	buf_init(&s->resp, SASL_MAX_RESPONSE, BUF_SECRET);

	if (s->tls && !s->starttls) {
		/* RFC 8314 implicit TLS: handshake before the greeting. */
		conn_set_timeout(c, step_timeout(s, SMTP_S_GREETING));
		if (conn_starttls(c, s->trust_file, err) == -1) {
			session_free(s);
			return -1;
		}
	}
	if (smtp_run(s, SMTP_S_GREETING, err) != SMTP_S_READY) {
		smtp_close(s);
		return -1;
	}
	if (conn_is_tls(c))
		log_debug("smtp: %s:%d %s", s->host, s->port,
		    conn_tls_version(c));
	/* What the server advertises is the submissions' limit. */
	sizecache_note(acct, s->host, s->port, (s->caps.flags &
	    SMTP_CAP_SIZE) ? s->caps.size_max : 0);
	*sp = s;
	return 0;
}

int
smtp_connect(const struct account *acct, struct smtp_session **sp,
    struct err *err)
{
	struct conn *c;
	int port = conf_port(acct);
	int tmo = acct->timeout > 0 ? acct->timeout * 1000 : 5 * MIN_MS;

	*sp = NULL;
	if ((c = conn_open(acct->host, port, tmo, err)) == NULL)
		return -1;
	return smtp_connect_conn(c, acct, sp, err);
}

enum conf_auth
smtp_pick_mech(struct smtp_session *s, const struct account *acct)
{
	const char *m = s->caps.auth;

	if (acct->auth != AUTH_AUTO)
		return acct->auth;
	if (conf_is_oauth(acct)) {
		if (acct->provider != PROVIDER_MICROSOFT &&
		    !smtpreply_has_mech(m, "XOAUTH2") &&
		    smtpreply_has_mech(m, "OAUTHBEARER"))
			return AUTH_OAUTHBEARER;
		return AUTH_XOAUTH2;
	}
	if (!(s->caps.flags & SMTP_CAP_AUTH))
		return AUTH_NONE;
	if (smtpreply_has_mech(m, "PLAIN"))
		return AUTH_PLAIN;
	if (smtpreply_has_mech(m, "LOGIN"))
		return AUTH_LOGIN;
	return AUTH_PLAIN;
}

int
smtp_auth(struct smtp_session *s, enum conf_auth mech, const char *user,
    const char *secret, size_t secretlen, struct err *err)
{
	const char *name;
	enum smtp_state st;
	int r = 0;

	if (mech == AUTH_NONE)
		return 0;
	if (s->broken)
		return err_set(err, ERR_TEMP, "%s:%d: connection lost",
		    s->host, s->port);
	if (mech == AUTH_AUTO)
		mech = AUTH_XOAUTH2;
	name = smtp_mech_name(mech);
	if (s->authed)
		return err_set(err, ERR_INTERNAL, "smtp: already "
		    "authenticated");
	if (!conn_is_tls(s->conn) && !conn_peer_is_local(s->conn))
		return err_set(err, ERR_CONFIG, "refusing AUTH %s to %s:%d "
		    "without TLS; turn tls on for this account", name,
		    s->host, s->port);
	if (!(s->caps.flags & SMTP_CAP_AUTH))
		return err_set(err, ERR_PERM, "%s:%d does not offer AUTH "
		    "(no AUTH in its EHLO reply)", s->host, s->port);
	if (!smtpreply_has_mech(s->caps.auth, name))
		return err_set(err, ERR_PERM, "%s:%d does not offer AUTH %s; "
		    "it offers: %s", s->host, s->port, name, s->caps.auth);
	if (user == NULL)
		user = "";
	buf_free(&s->resp);
	switch (mech) {
	case AUTH_XOAUTH2:
		r = sasl_xoauth2(&s->resp, user, secret, secretlen, err);
		break;
	case AUTH_OAUTHBEARER:
		r = sasl_oauthbearer(&s->resp, user, s->host, s->port, secret,
		    secretlen, err);
		break;
	case AUTH_PLAIN:
		r = sasl_plain(&s->resp, user, secret, secretlen, err);
		break;
	case AUTH_LOGIN:
	default:
		buf_init(&s->resp, SASL_MAX_RESPONSE, BUF_SECRET);
		break;
	}
	if (r == -1) {
		buf_free(&s->resp);
		return -1;
	}
	s->mech = mech;
	s->auth_inline = 0;
	s->challenge[0] = '\0';
	s->user = user;
	s->secret = secret;
	s->secretlen = secretlen;
	st = smtp_run(s, SMTP_S_AUTH, err);
	buf_free(&s->resp);		/* wipes */
	buf_init(&s->resp, SASL_MAX_RESPONSE, BUF_SECRET);
	s->user = NULL;
	s->secret = NULL;
	s->secretlen = 0;
	if (st != SMTP_S_READY)
		return -1;
	s->authed = 1;
	return 0;
}

/* The address that needs SMTPUTF8: the first non-ASCII one, or the sender. */
static const char *
utf8_addr(const struct envelope *env)
{
	size_t i;

	if (!util_is_ascii(env->sender, strlen(env->sender)))
		return env->sender;
	for (i = 0; i < env->nrcpts; i++)
		if (!util_is_ascii(env->rcpts[i].addr,
		    strlen(env->rcpts[i].addr)))
			return env->rcpts[i].addr;
	return *env->sender != '\0' ? env->sender : "<>";
}

int
smtp_send(struct smtp_session *s, struct envelope *env, int msg_fd,
    struct err *err)
{
	enum smtp_state st;
	size_t i;

	if (s->broken)
		return err_set(err, ERR_TEMP, "%s:%d: connection lost",
		    s->host, s->port);
	if (env->sender == NULL || !addr_smtp_ok(env->sender))
		return err_set(err, ERR_DATA, "invalid envelope sender");
	free(s->ridx);
	free(s->acc);
	s->ridx = xcalloc(env->nrcpts + 1, sizeof(*s->ridx));
	s->acc = xcalloc(env->nrcpts + 1, 1);
	s->nridx = 0;
	for (i = 0; i < env->nrcpts; i++) {
		struct rcpt *r = &env->rcpts[i];

		if (r->state != RCPT_PENDING && r->state != RCPT_DEFERRED)
			continue;
		if (r->addr == NULL || *r->addr == '\0' ||
		    !addr_smtp_ok(r->addr))
			return err_set(err, ERR_DATA, "invalid recipient "
			    "address");
		s->ridx[s->nridx++] = i;
	}
	if (s->nridx == 0)
		return err_set(err, ERR_DATA, "no recipient left to send to");
	if ((s->caps.flags & SMTP_CAP_SIZE) && s->caps.size_max > 0 &&
	    env->size > s->caps.size_max)
		return err_set(err, ERR_PERM, "message size %lld bytes "
		    "exceeds the limit of %lld bytes of %s:%d",
		    (long long)env->size, s->caps.size_max, s->host, s->port);
	if (env->smtputf8 && !(s->caps.flags & SMTP_CAP_SMTPUTF8))
		return err_set(err, ERR_PERM, "server %s:%d does not support "
		    "SMTPUTF8, needed for %s", s->host, s->port,
		    utf8_addr(env));
	s->env = env;
	s->msg_fd = msg_fd;
	s->accepted = 0;
	s->any_temp = 0;
	s->any_class = ERR_NONE;
	s->content_sent = 0;
	s->mail_failed = 0;
	s->pipelined = 0;
	s->rcur = 0;
	if (s->in_txn) {
		s->rset_then_mail = 1;
		st = smtp_run(s, SMTP_S_RSET, err);
	} else
		st = smtp_run(s, SMTP_S_MAIL, err);
	s->env = NULL;
	s->msg_fd = -1;
	return st == SMTP_S_READY ? 0 : -1;
}

void
smtp_close(struct smtp_session *s)
{
	const char *line;
	size_t len;
	struct err tmp;

	if (s == NULL)
		return;
	if (!s->broken && s->conn != NULL) {
		conn_set_timeout(s->conn, QUIT_MS);
		if (send_cmd(s, &tmp, "QUIT\r\n") == 0)
			(void)conn_getline(s->conn, CONN_RBUF - 2, &line,
			    &len, &tmp);
	}
	session_free(s);
}

unsigned
smtp_caps(const struct smtp_session *s)
{
	return s->caps.flags;
}

const char *
smtp_auth_offered(const struct smtp_session *s)
{
	return s->caps.auth;
}

const char *
smtp_tls_version(const struct smtp_session *s)
{
	return conn_tls_version(s->conn);
}

void
smtp_peer_addr(const struct smtp_session *s, char *dst, size_t size)
{
	conn_peer_addr(s->conn, dst, size);
}

int
smtp_tls_peer(const struct smtp_session *s, char *subject,
    size_t subjectsize, char *issuer, size_t issuersize, time_t *not_after)
{
	return conn_tls_peer(s->conn, subject, subjectsize, issuer,
	    issuersize, not_after);
}

const char *
smtp_last_reply(const struct smtp_session *s)
{
	return s->last;
}

long long
smtp_size_max(const struct smtp_session *s)
{
	return s->caps.size_max;
}

int
smtp_content_sent(const struct smtp_session *s)
{
	return s->content_sent;
}
