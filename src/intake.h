/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * intake.h -- stdin to spool: line endings, -i / dot handling, mbox From_
 * line, header block parsing, -t recipient extraction (To/Cc/Bcc or only
 * Resent-*), Bcc removal, missing Date / Message-ID / From added, local
 * From/Sender rewritten to the account's address, local recipients mapped
 * through aliases in the envelope and in To/Cc. Memory does not grow with
 * the message size: only the header block is held (bounded by
 * LIM_HDR_BLOCK); the body is streamed.
 *
 * Decisions (details at the top of intake_read.c, intake_fields.c and
 * intake_write.c): every CR is removed (CRLF becomes LF, a bare CR is
 * dropped); body lines over 998 octets are broken every 998 octets;
 * header lines over 998 are folded at white space, else broken with LF +
 * space; missing From, Date, Message-ID are added in that order at the
 * end of the header block; with -t the command-line recipients are added
 * to the extracted ones (Postfix).
 */
#ifndef INTAKE_H
#define INTAKE_H

#include <stdio.h>

#include "common.h"
#include "aliases.h"
#include "envelope.h"
#include "status.h"

struct intake_opts {
	int		 ignore_dots;	/* -i: '.' lines are data */
	int		 extract;	/* -t */
	const char	*fullname;	/* -F, for an added From: */
	const char	*from_addr;	/* the account's address */
	const char	*domain;	/* for Message-ID, default: from's domain */
	const struct aliases *aliases;	/* may be NULL */
	char		**rcpts;	/* command-line recipients */
	size_t		 nrcpts;
	off_t		 max_size;	/* > 0: refuse a larger message */
	const char	*size_cure;	/* what to do then, if not the default */
	int		 verify;	/* re-check the spool form (below) */
};

/*
 * Reads the message from in and writes the spool form (LF line endings,
 * headers rewritten) to out_fd. Fills env: recipients (after aliases,
 * deduplicated), size (with CRLF endings, as sent), body8bit, smtputf8.
 * Errors: ERR_USAGE "No recipient addresses found in message header" (-t)
 * or "Recipient addresses must be specified on the command line or via
 * the -t option"; ERR_ADDR for an invalid address (named); ERR_DATA for an
 * unusable message (NUL bytes, header block over the limit, larger than
 * max_size as sent, the error naming the limit and max_message_size);
 * ERR_IO.
 *
 * With verify set, in is the spool form this function wrote before (the
 * system-mode maildrop read back by the daemon): rcpts must be complete
 * addresses (no aliases are applied), the message is copied as it is
 * (no dot, From_, header or line-length handling) and refused (ERR_DATA)
 * unless it is a spool form: NUL bytes, a line longer than 998 octets.
 * Whatever the normal mode wrote passes, whatever its header count or
 * field length; env's size, body8bit and smtputf8 come out the same.
 */
int	intake_read(FILE *in, int out_fd, const struct intake_opts *opts,
	    struct envelope *env, struct err *err);

#endif
