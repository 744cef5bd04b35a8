/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * submit.h -- one path for every submission: the command line (argv and
 * stdin), each DATA of a -bs session, and in system mode the maildrop.
 * Each source reads its message its own way; what becomes of the message
 * is decided here, once: the intake options, the envelope fields taken
 * from the invocation (sender by conf_pick_sender, SMTPUTF8, 8BITMIME, DSN
 * NOTIFY/RET/ENVID, times, state), the delivery mode, the background
 * delivery, the queue run after a send, and the exit status.
 *
 * A -bs message is described by an invocation too (submit_bs_invocation):
 * the session's options with the transaction's sender, recipients and
 * MAIL parameters, so that it is spooled exactly as "sendmail -i -f SENDER
 * RCPT..." would spool it.
 *
 * System mode: the submitter writes a drop file (sysq.h) and exits; the
 * daemon picks it up. The spool group is needed only to create the file.
 * A one-message submission takes it back around the creation and drops it
 * for good right after (main.c). A -bs session reads untrusted input for as
 * long as the client likes, so it gives the group up for good at once and
 * asks a helper process, which keeps it and does nothing else, for one
 * drop file per message (struct submit_dropper). The helper's first answer
 * is the maildrop's record of advertised sizes (sizecache.h), which only
 * the group may read: the session's size limit.
 */
#ifndef SUBMIT_H
#define SUBMIT_H

#include <sys/types.h>
#include <stdio.h>

#include "common.h"
#include "aliases.h"
#include "args.h"
#include "conf.h"
#include "deliver.h"
#include "envelope.h"
#include "intake.h"
#include "queue.h"
#include "sizecache.h"
#include "status.h"
#include "sysq.h"

/*
 * The invocation of one -bs message: inv's options with sender (MAIL FROM;
 * NULL keeps inv's -f, so does "" when -f was given; "" without -f is the
 * null sender), the recipients, BODY=8BITMIME and SMTPUTF8
 * added to inv's; -i (the data is dot-unstuffed already), never -t. out
 * points into inv and rcpts: keep them while out is used.
 */
void	submit_bs_invocation(struct invocation *out,
	    const struct invocation *inv, const char *sender, char **rcpts,
	    size_t nrcpts, int body8bit, int smtputf8);

/*
 * The size limit of a submission through acct (sizecache_limit): with the
 * system mode's record sys (read while the spool group was held), or with
 * NULL the user's, read from acct's queue directory.
 */
void	submit_size_limit(const struct account *, const struct sizecache *sys,
	    struct size_limit *);

/*
 * The same for whoever can read the record: in system mode the maildrop's
 * (the daemon's user), else the user's.
 */
void	submit_size_limit_of(const struct config *, const struct account *,
	    struct size_limit *);

/*
 * The intake options of a message submitted by inv through acct, with the
 * size limit lim (which must outlive the options).
 */
void	submit_intake_opts(struct intake_opts *, const struct invocation *,
	    const struct account *, const struct aliases *,
	    const struct size_limit *lim);

/*
 * Fills the envelope fields the invocation decides (intake filled the
 * recipients, size and the message's own 8-bit / UTF-8 flags): account,
 * sender, SMTPUTF8 (also for a non-ASCII sender), 8BITMIME, the DSN
 * parameters, created = next try = now, state queued.
 */
void	submit_envelope(struct envelope *, const struct invocation *,
	    const struct account *);

/*
 * Spools the message read from in into q as a committed entry; *idp gets
 * its id (xmalloc'd). On failure nothing is left in q; the error is
 * intake's (ERR_USAGE, ERR_ADDR, ERR_DATA, ERR_IO) or the queue's.
 */
int	submit_spool(struct queue *, const struct invocation *,
	    const struct account *, const struct aliases *, FILE *in,
	    char **idp, struct err *);

/* -od? if given, else the account's "delivery". Never DELIV_DEFAULT. */
enum inv_delivery submit_delivery_mode(const struct invocation *,
	    const struct account *);

enum submit_done {
	SUBMIT_QUEUED = 0,	/* left for a queue run (-odq, or no fork) */
	SUBMIT_BACKGROUND,	/* a child process delivers it */
	SUBMIT_TRIED		/* delivered now: see the outcome */
};

/*
 * Delivers the committed entry id of q as mode says. DELIV_BACKGROUND
 * flushes stdout and forks; the child leaves stdin, stdout and stderr for
 * /dev/null, delivers (bouncing what is refused) and exits. In the
 * foreground a refusal of the whole message is left to the caller (no
 * bounce; *outp DOUT_FAILED, *why the server's reason); when the server
 * took the message, whatever else waits in q is flushed too.
 */
enum submit_done submit_deliver(const struct config *, const struct account *,
	    struct queue *, const char *id, enum inv_delivery mode,
	    enum deliver_outcome *outp, struct err *why);

/*
 * The exit status of a message delivered in the foreground: 0 when it was
 * sent or waits in the queue (partial, deferred, held), else
 * err_refusal_exitcode(why).
 */
int	submit_exitcode(enum deliver_outcome, const struct err *why);

/*
 * System mode: creates a drop file (sysq_drop_create), taking the spool
 * group back as the effective gid first when spool_gid is not (gid_t)-1.
 * The caller gives the group up again right after, whatever this returns.
 */
int	submit_drop_create(const struct config *, gid_t spool_gid,
	    struct sysq_drop *, struct err *);

/*
 * Creates drop files for a -bs session in system mode. With a spool group
 * to keep, submit_dropper_start forks a helper that keeps it and answers
 * each request over a socket with a new drop file's descriptors; the caller
 * drops the group for good right after. Without one (root, or the daemon's
 * user) the files are created in-process.
 */
struct submit_dropper {
	const struct config	*cf;
	pid_t			 pid;	/* the helper, or 0 */
	int			 sock;	/* to the helper, or -1 */
	struct sizecache	 sizes;	/* the maildrop's record (sizecache.h) */
};

int	submit_dropper_start(struct submit_dropper *, const struct config *,
	    gid_t spool_gid, struct err *);
/*
 * A new drop file in d (as sysq_drop_create; d->sizes is the record read
 * when the helper started).
 */
int	submit_dropper_create(struct submit_dropper *, struct sysq_drop *,
	    struct err *);
/* Ends the helper. */
void	submit_dropper_stop(struct submit_dropper *);

#endif
