/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * rfc5322.h -- an I/O-free, bounded RFC 5322 header scanner, shaped like
 * OpenSMTPD's rfc5322.c: the caller pushes one line at a time (without its
 * line ending) and pulls events until RFC5322_NONE.
 *
 * Events:
 *   RFC5322_HDR_START    a header field begins: name (without the colon or
 *                        white space before it) and value (everything
 *                        after the colon, leading white space included)
 *   RFC5322_HDR_CONT     a continuation (folded) line: value is the whole
 *                        line, its leading white space included
 *   RFC5322_HDR_END      the current header field is complete
 *   RFC5322_END_OF_HDRS  the header block is over; inserted is 1 when the
 *                        input had no empty line there (the first line that
 *                        is neither a header field nor a continuation ends
 *                        the headers and is returned as the first body
 *                        line; the caller inserts the blank line)
 *   RFC5322_BODY         a body line, in value
 *
 * A message that starts with a line that is not a header field has no
 * header at all: END_OF_HDRS (inserted = 1) then BODY for that line. A
 * first line that is empty gives END_OF_HDRS (inserted = 0).
 *
 * The spans of an event point into the line last pushed: pull all events
 * before pushing the next line. Nothing is allocated.
 *
 * Limits: a header name over LIM_HDR_NAME, a field (name and all its
 * lines) over LIM_HDR_VALUE or more than LIM_HDR_COUNT fields make
 * rfc5322_push() return -1 with errno E2BIG; the parser then stays in the
 * error state. Pushing while events are pending is EINVAL.
 */
#ifndef RFC5322_H
#define RFC5322_H

#include "common.h"
#include "buf.h"

enum rfc5322_event {
	RFC5322_NONE = 0,
	RFC5322_HDR_START,
	RFC5322_HDR_CONT,
	RFC5322_HDR_END,
	RFC5322_END_OF_HDRS,
	RFC5322_BODY
};

struct rfc5322_result {
	enum rfc5322_event	 ev;
	struct span		 name;		/* HDR_START */
	struct span		 value;		/* HDR_START, HDR_CONT, BODY */
	int			 inserted;	/* END_OF_HDRS */
};

#define RFC5322_MAXEV	4

struct rfc5322_parser {
	int			 state;		/* private */
	size_t			 nfields;	/* header fields seen */
	size_t			 fieldlen;	/* bytes in the current field */
	struct rfc5322_result	 q[RFC5322_MAXEV];
	size_t			 qhead, qlen;
};

void	rfc5322_init(struct rfc5322_parser *);
/*
 * Pushes one line (no CR/LF) of len bytes. Returns 0, or -1 with errno
 * E2BIG (a limit) or EINVAL (events still pending, or after an error).
 */
int	rfc5322_push(struct rfc5322_parser *, const char *line, size_t len);
/* The input ended: completes an open header field and the header block. */
int	rfc5322_push_eof(struct rfc5322_parser *);
/* Pulls the next event into *res; returns its type, RFC5322_NONE if none. */
enum rfc5322_event rfc5322_next(struct rfc5322_parser *,
	    struct rfc5322_result *res);
/* 1 if line[0..len) starts a header field; *namelen gets the name length. */
int	rfc5322_is_field(const char *line, size_t len, size_t *namelen);
/* 1 if the parser has seen the end of the header block. */
int	rfc5322_in_body(const struct rfc5322_parser *);
const char *rfc5322_event_str(enum rfc5322_event);

#endif
