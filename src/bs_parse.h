/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * bs_parse.h -- the input of a sendmail -bs session (bs.h), read and
 * parsed: command lines from a buffered reader, the command verb, the
 * argument of MAIL FROM / RCPT TO, and DATA as a dot-unstuffed stream.
 * What comes in is untrusted; the replies are the session's.
 */
#ifndef BS_PARSE_H
#define BS_PARSE_H

#include <sys/types.h>

#include <stddef.h>

#include "common.h"

/* A buffered reader of lines from a file descriptor. */
struct bs_in {
	int	 fd;
	int	 timeout;	/* seconds; <= 0: wait for ever */
	int	 eof;
	int	 crlf;		/* the last line ended in CR LF, not LF */
	size_t	 pos, len;
	char	 buf[8192];
};

/* bs_getline results */
#define BS_ERR		(-1)	/* read error or timeout (errno set) */
#define BS_EOF		0	/* nothing more (a last line without LF is
				   returned as a line first) */
#define BS_LINE		1	/* a line, without its CRLF / LF */
#define BS_LONG		2	/* longer than cap - 1 octets: the rest of it
				   was read and discarded; line holds the
				   first cap - 1 */

void	bs_in_init(struct bs_in *, int fd, int timeout);
/*
 * Reads one line into line (NUL-terminated, at most cap - 1 octets, CR LF
 * or LF removed; a bare CR inside stays) and its length into *lenp.
 */
int	bs_getline(struct bs_in *, char *line, size_t cap, size_t *lenp);
/* Whether more input is buffered (the client pipelined). */
int	bs_pending(const struct bs_in *);

enum bs_verb {
	BSV_UNKNOWN = 0,
	BSV_HELO,
	BSV_EHLO,
	BSV_MAIL,
	BSV_RCPT,
	BSV_DATA,
	BSV_RSET,
	BSV_NOOP,
	BSV_VRFY,
	BSV_EXPN,
	BSV_HELP,
	BSV_QUIT,
	BSV_NOTIMPL		/* STARTTLS, AUTH, BDAT, ETRN, TURN */
};

/*
 * Splits a command line: the verb (case-insensitive) and *argp pointing
 * at the argument after the separating spaces ("" if none).
 */
enum bs_verb bs_parse_verb(const char *line, const char **argp);

/* A parsed MAIL FROM / RCPT TO argument. */
struct bs_path {
	char	 addr[LIM_ADDR + 1];	/* without <>; "" for <> */
	int	 body8bit;		/* BODY=8BITMIME */
	int	 smtputf8;		/* SMTPUTF8 */
	long long size;			/* SIZE=, or -1 */
};

/*
 * Parses "FROM:<addr> params" (kw "FROM") or "TO:<addr> params" (kw "TO"):
 * a space after the colon and a missing <> are tolerated. Parameters:
 * MAIL takes SIZE=n, BODY=7BIT|8BITMIME, SMTPUTF8, RET=, ENVID= (ignored);
 * RCPT takes NOTIFY=, ORCPT= (ignored). Returns 0, or the reply code for
 * the problem with a reply (code, enhanced status and text) in reply:
 * 501 (syntax), 555 (unknown parameter).
 */
int	bs_parse_path(const char *arg, const char *kw, int is_mail,
	    struct bs_path *out, char *reply, size_t replysize);

/*
 * DATA, read line by line from a bs_in as a stream: dot-unstuffed, LF line
 * endings, up to the end-of-data line.
 *
 * Only <CR><LF>.<CR><LF> ends DATA: a "." line that ends in a bare LF, or
 * that follows a line ending in a bare LF (<LF>.<LF>, <CR><LF>.<LF>,
 * <LF>.<CR><LF>), does not end it. Such a line is the SMTP smuggling
 * pattern (a client or a program in between may take it for the end and
 * the lines after it for new commands), so it is not taken as data either:
 * the message is refused with 550 5.5.2 when DATA really ends, and what
 * came between is never read as commands (as Postfix does with
 * smtpd_forbid_bare_newline = reject, for the end-of-data sequence only).
 * Other lines may end in a bare LF as before. If the input ends inside
 * such a DATA (a client that sends LF only), the session ends with exit
 * status 65 and a line on stderr.
 */
struct bs_data {
	struct bs_in	*in;
	int		 done;		/* the end of DATA, or of input */
	int		 eof;		/* input ended before the end of DATA */
	int		 ioerr;		/* ... by a read error or timeout */
	int		 toolong;	/* a line over LIM_SMTP_LINE octets */
	int		 bare_dot;	/* a "." line not in CR LF . CR LF */
	int		 prev_crlf;	/* the previous line ended in CR LF */
	size_t		 off, n;
	char		 line[LIM_SMTP_LINE + 2];
};

void	bs_data_init(struct bs_data *, struct bs_in *);
/*
 * Reads up to size octets of the message. Returns 0 at the end of DATA,
 * or -1 (errno EIO) there instead when the message must be refused
 * (eof, toolong or bare_dot set): a stdio stream over it then fails.
 */
ssize_t	bs_data_read(struct bs_data *, char *buf, size_t size);
/* Reads and discards the rest of DATA. */
void	bs_data_drain(struct bs_data *);

#endif
