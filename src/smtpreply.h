/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * smtpreply.h -- pure parsing of SMTP replies (RFC 5321 §4.2): reply-line
 * checks, multi-line joining with caps, enhanced status codes (RFC 3463)
 * EHLO capabilities, and what a refusal means (with advice.h's
 * catalogue). No I/O, no logging.
 *
 * Error class used: ERR_PROTO (malformed or oversized reply).
 */
#ifndef SMTPREPLY_H
#define SMTPREPLY_H

#include "common.h"
#include "advice.h"
#include "buf.h"
#include "status.h"

/* One parsed reply line; text points into the caller's line. */
struct smtpreply_line {
	int		 code;		/* 200..599 */
	int		 last;		/* 1: "ddd " or "ddd"; 0: "ddd-" */
	struct span	 text;		/* after the separator, may be empty */
};

/*
 * Parses one line (without CRLF): three digits 2xx..5xx with the second
 * digit 0..5, then '-', ' ' or the end of the line, then text made of
 * printable bytes, HTAB or bytes >= 0x80 (a control character or DEL is
 * refused). Errors: ERR_PROTO.
 */
int	smtpreply_parse_line(const char *line, size_t len,
	    struct smtpreply_line *out, struct err *err);

/* A whole, possibly multi-line, reply. */
struct smtpreply {
	int		 code;		/* 0 until the first line */
	char		 esc[16];	/* "5.7.8" from the first line, or "" */
	struct buf	 text;		/* line texts joined by '\n' */
	size_t		 nlines;
	int		 done;		/* the last line has been added */
};

void	smtpreply_init(struct smtpreply *);
/* Empties the reply for reuse (keeps the memory). */
void	smtpreply_reset(struct smtpreply *);
void	smtpreply_free(struct smtpreply *);
/*
 * Adds one line. Sets r->done on the last line. Refuses (ERR_PROTO) a bad
 * line, a code that differs from the first line's, more than
 * LIM_SMTP_REPLY_LINES lines or more than LIM_SMTP_REPLY bytes of text,
 * and a line after the last. On error the reply is reset.
 */
int	smtpreply_add_line(struct smtpreply *, const char *line, size_t len,
	    struct err *err);
/*
 * RFC 3463 enhanced status code at the start of text: class 2/4/5, then
 * ".subject.detail" with 1-3 digits each, followed by SP or the end.
 * Copies it into esc (at least 16 bytes) and returns its length, or 0
 * (esc = "") when there is none.
 */
size_t	smtpreply_esc(const char *text, size_t len, char *esc, size_t escsize);
/*
 * The reply as one sanitised line ("250 a / b / c"), truncated to fit.
 */
void	smtpreply_oneline(const struct smtpreply *, char *dst, size_t size);
/* Text of the reply without "code " or the enhanced code, sanitised. */
void	smtpreply_text(const struct smtpreply *, char *dst, size_t size);

/*
 * What delivery does about a reply: the advice catalogue's reaction when
 * it knows the text (oneline is smtpreply_oneline's form, "550 5.4.5
 * ..."), ADV_INFO otherwise.
 */
enum advice_react smtpreply_react(const char *oneline);
/*
 * The error class of a refusal outside AUTH: ERR_AUTH when only a new
 * token or an administrator can help (the mail is held), ERR_TEMP for a
 * 4xx and for a 5xx that is a throttle or a sending limit (deferred,
 * never bounced), ERR_PERM for any other 5xx, ERR_PROTO below 400.
 */
enum err_class smtpreply_class(int code, const char *oneline);

/* Capabilities (values equal SMTP_CAP_* in smtp.h). */
#define SMTPREPLY_CAP_STARTTLS		0x0001
#define SMTPREPLY_CAP_PIPELINING	0x0002
#define SMTPREPLY_CAP_SIZE		0x0004
#define SMTPREPLY_CAP_8BITMIME		0x0008
#define SMTPREPLY_CAP_SMTPUTF8		0x0010
#define SMTPREPLY_CAP_DSN		0x0020
#define SMTPREPLY_CAP_ENHANCED		0x0040
#define SMTPREPLY_CAP_AUTH		0x0080

struct smtpreply_caps {
	unsigned	 flags;
	long long	 size_max;	/* SIZE n; 0 = no fixed limit */
	char		 auth[256];	/* mechanisms, upper case, one space apart */
};

/*
 * Reads the EHLO reply's capability lines (every line after the first):
 * STARTTLS, PIPELINING, SIZE [n], 8BITMIME, SMTPUTF8, DSN,
 * ENHANCEDSTATUSCODES, AUTH mech... and the obsolete AUTH=mech... form
 * (mechanisms merged without duplicates). Unknown keywords are ignored.
 */
void	smtpreply_caps(const struct smtpreply *, struct smtpreply_caps *);
/* 1 if mech is in the space-separated list (ASCII case-insensitive). */
int	smtpreply_has_mech(const char *list, const char *mech);

#endif
