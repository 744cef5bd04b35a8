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

void	envelope_init(struct envelope *);
void	envelope_free(struct envelope *);
/* Adds a recipient (copied), skipping exact duplicates (case-insensitive). */
void	envelope_add_rcpt(struct envelope *, const char *addr,
	    const char *orig);
/* Serialises to the text form. */
int	envelope_dump(const struct envelope *, struct buf *out,
	    struct err *err);
/*
 * Parses the text form. Rejects unknown versions and malformed lines
 * (ERR_DATA); ignores unknown keys.
 */
int	envelope_load(struct envelope *, const char *text, size_t len,
	    struct err *err);
const char *envelope_rcpt_state_str(enum rcpt_state);
const char *envelope_state_str(enum env_state);

#endif
