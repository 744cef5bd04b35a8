/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * envelope.h -- the envelope of one queued message: sender, account,
 * recipients each with its own state, attempts, next try, last error; and
 * its versioned "key: value" text form (the spool's .env file).
 */
#ifndef ENVELOPE_H
#define ENVELOPE_H

#include <time.h>

#include "common.h"
#include "buf.h"
#include "status.h"

#define ENVELOPE_VERSION	1
#define QUEUE_ID_LEN		32	/* hex digits */

enum rcpt_state {
	RCPT_PENDING = 0,
	RCPT_SENT,
	RCPT_DEFERRED,		/* 4xx: tried, will retry */
	RCPT_FAILED		/* 5xx: given up */
};

enum env_state {
	ENV_QUEUED = 0,		/* new or deferred, waits for next_try */
	ENV_HELD,		/* held-auth: needs sign-in / tenant fix */
	ENV_FAILED,		/* permanent, in failed/ */
	ENV_SENT
};

struct rcpt {
	char		*addr;		/* the address sent in RCPT TO */
	char		*orig;		/* as given (before aliases), or NULL */
	enum rcpt_state	 state;
	char		*reply;		/* last server reply, sanitised, or NULL */
	int		 reported;	/* FAILED and told the sender in a DSN */
};

struct envelope {
	int		 version;
	char		 id[QUEUE_ID_LEN + 1];
	char		*account;	/* account name */
	char		*sender;	/* envelope sender ("" for <>) */
	time_t		 created;
	int		 attempts;
	time_t		 next_try;
	char		*last_error;	/* sanitised one line, or NULL */
	enum env_state	 state;
	struct rcpt	*rcpts;
	size_t		 nrcpts;
	off_t		 size;		/* message bytes with CRLF endings */
	int		 body8bit;	/* any byte >= 0x80 in the message */
	int		 smtputf8;	/* needs SMTPUTF8 (UTF-8 headers/addrs) */
	char		*dsn_notify;	/* RFC 3461 NOTIFY, or NULL */
	char		*dsn_ret;	/* FULL / HDRS, or NULL */
	char		*envid;		/* ENVID, or NULL */
	int		 is_bounce;	/* a DSN we generated: never bounce it */
};

/* Longest .env file envelope_load and queue_load accept. */
#define ENVELOPE_MAX		(16 * 1024 * 1024)
/* Longest line of the text form (an rcpt line with a long reply). */
#define ENVELOPE_LINE_MAX	(4 * LIM_ADDR + 2 * LIM_SMTP_REPLY + 64)

/*
 * The text form (the spool's .env file), one "key: value" line each,
 * every line ending in LF, no other control characters anywhere:
 *
 *   version: 1                      always first
 *   id: 0123...cdef                 32 lower-case hex digits
 *   account: "work"                 quoted string
 *   sender: <alice@example.com>     angle form; <> is the null sender
 *   created: 1767225600             seconds since the epoch
 *   attempts: 0
 *   next-try: 1767225600
 *   state: queued                   queued | held | failed | sent
 *   last-error: "451 4.3.0 later"   quoted string (optional)
 *   size: 1234                      message bytes
 *   body8bit: 0                     0 | 1
 *   smtputf8: 0                     0 | 1
 *   dsn-notify: "FAILURE"           quoted strings (optional)
 *   dsn-ret: "HDRS"
 *   envid: "abc"
 *   bounce: 0                       0 | 1 (a DSN we generated)
 *   rcpt: pending <bob@b.example> orig=<root> reply="451 4.3.0 later"
 *   progress: p                     one byte per rcpt line, last line
 *
 * rcpt: STATE SP <addr> [SP orig=<addr>] [SP reply="text"]; STATE is
 * pending | sent | deferred | failed. One rcpt line per recipient, at
 * least one, at most LIM_RCPTS, no duplicates (case-insensitive).
 *
 * progress: the recipients' states again, one byte each in rcpt order:
 * p pending, s sent, d deferred, f failed, b failed and reported in a
 * DSN. It comes after every rcpt line (envelope_dump writes it last) and
 * wins over their states. Being fixed-size and at the end of the file,
 * it can be overwritten in place (queue_mark) when the disk has no room
 * for a new envelope. Optional: envelopes written before it existed have
 * none.
 *
 * Quoted strings "..." escape only '\' and '"' with a backslash; the
 * angle form <...> escapes only '\' and '>'. Any other backslash
 * sequence is malformed. Bytes >= 0x80 pass through (UTF-8 addresses).
 *
 * Required: version, id, account, sender, created, attempts, next-try,
 * state, size and one rcpt. Unknown keys and unknown rcpt attributes
 * (name=<...> or name="...") are ignored; a repeated key is malformed.
 */

void	envelope_init(struct envelope *);
/* Frees every member and leaves the envelope as envelope_init does. */
void	envelope_free(struct envelope *);
/*
 * Adds a recipient (both strings copied; orig may be NULL), skipping a
 * duplicate of the whole address (ASCII case-insensitive). Returns 0 if
 * added, 1 if it was a duplicate, -1 (errno E2BIG) if LIM_RCPTS are
 * already there. Callers that ignore the result lose only the excess.
 */
int	envelope_add_rcpt(struct envelope *, const char *addr,
	    const char *orig);
/*
 * Serialises to the text form (appended to out). ERR_DATA if a value has
 * a control character or the envelope has no recipient; ERR_OS if out
 * overflows its limit.
 */
int	envelope_dump(const struct envelope *, struct buf *out,
	    struct err *err);
/*
 * Appends the progress line ("progress: " ... LF) of env to out: always
 * 11 + nrcpts bytes for the same recipients. -1 if out overflows.
 */
int	envelope_dump_progress(const struct envelope *, struct buf *out);
/*
 * Parses the text form into env (which it initialises; free it with
 * envelope_free even on failure). Rejects a missing or unknown version,
 * malformed or over-long lines, NUL and other control bytes, a missing
 * final LF (truncation), missing required keys, more than LIM_RCPTS or
 * duplicate recipients, a progress line that is not after every rcpt
 * line or not one known byte per recipient (ERR_DATA); ignores unknown
 * keys.
 */
int	envelope_load(struct envelope *, const char *text, size_t len,
	    struct err *err);
const char *envelope_rcpt_state_str(enum rcpt_state);
const char *envelope_state_str(enum env_state);
/* Number of recipients not yet sent (pending, deferred). */
size_t	envelope_rcpts_open(const struct envelope *);

#endif
