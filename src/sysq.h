/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * sysq.h -- system mode (doc/design.md §5): the maildrop between any local
 * user's sendmail and the delivery daemon running as the oauthmail user.
 *
 * Layout under the spool root (config "spool_dir", default
 * LOCALSTATEDIR/spool/oauthmail):
 *   maildrop/   mode 1730, owner oauthmail, group oauthmail: the set-gid
 *               sendmail may create files, nobody but the daemon may list
 *               or read them, the sticky bit keeps submitters from
 *               removing each other's files (Postfix's maildrop)
 *   maildrop/.usage  mode 0660, owner oauthmail, group oauthmail: the
 *               usage ledger (below)
 *   queue/      mode 0700 oauthmail: the daemon's queue (queue.h)
 *
 * Bounds per local user (maildrop_max_files, maildrop_max_bytes), so that
 * one user cannot fill the spool while the daemon is slow or down. A
 * submitter cannot list the maildrop (1730), so the daemon keeps a ledger
 * of what each uid has waiting, "uid files bytes" lines, in a file of its
 * own that only the spool group may write (i.e. only this program, in the
 * moment it holds the group: a user cannot forge it, and cannot read it).
 * The submitter, holding the group, locks the ledger, refuses (ERR_TEMP,
 * exit 75, the reason named) when its uid is at a bound, creates its drop
 * file and adds one to its count before unlocking. The daemon rewrites the
 * ledger from the directory after every pickup, under the same lock
 * (files and bytes by owner, whatever is still there: files being written
 * included), so the counts never drift for long and the bytes of
 * unfinished or waiting files are known. Between two pickups the bytes are
 * the last recount's; the file count bounds the rest (each file is at most
 * max_message_size). Until the daemon has run once there is no ledger and
 * no bound. The group-writable file is safer than a per-uid file (which
 * its owner could rewrite) and needs no help from the daemon at submission
 * time. Files in queue/corrupt/ are removed after corrupt_max_age (default
 * SYSQ_CORRUPT_MAX_AGE) with a log line each.
 *
 * A drop file (name: 32 lower-case hex digits) is created by the submitter
 * with mode 0000 while it holds the spool group; the submitter takes
 * flock(LOCK_EX) on it, then makes it 0040 (group-readable, so that the
 * daemon can open it to test the lock) and writes it after the group is
 * dropped. When complete it is fsync'ed, fchmod'ed to 0440 ("ready") and
 * unlocked; an abandoned one is truncated and set to 0400. The pickup goes
 * by the lock, never by age: a locked file is being written (skipped,
 * however old); an unlocked file that is not ready is the debris of a
 * writer that died before exit 0 (set aside at once). Every queue runner
 * takes the lock before it touches a file and checks that the name still
 * refers to the file it locked, so that exactly one runner takes each one
 * (two runs at once, e.g. the daemon and "oauthmail flush"). Its content:
 *
 *   oauthmail-drop 1 a=0 f=1 msg=00000000000000001234\n   (fixed length)
 *   <msg bytes: the message as intake wrote it>
 *   <the envelope text form (envelope.h), to the end of the file>
 *
 * a=1: the submitter asked for the envelope's account (-a); f=1: it gave
 * the envelope's sender (-f). Everything in the file is untrusted: the
 * daemon re-validates the envelope, runs the message through intake again
 * in verify mode (intake.h: it checks and copies, adds and folds nothing,
 * so whatever the submitter's intake wrote passes: the rule is that what
 * the submitter acknowledged with exit 0 the pickup accepts), chooses the
 * account and the sender by the configuration's rules, takes the
 * submitting uid from the file's owner, and moves anything malformed to
 * queue/corrupt/ (never delivered; removed after corrupt_max_age).
 *
 * One size limit (sizecache.h: max_message_size, else what the account's
 * server advertises, else 256 MiB) applies to the message as sent; the
 * submitter enforces it before exit 0 (exit 65) and the pickup checks the
 * same number. What servers advertise is recorded by the daemon's user in
 * maildrop/.size-limits (mode 0640, the spool group), which the submitter
 * reads while it holds the group, as it does the ledger. A file the pickup still refuses
 * (tampered with, or the configuration changed in between) gets a bounce
 * (RFC 3464) to its submitter: the owner's user name through the
 * account's aliases, else the account's admin address, else the account's
 * own address; and a warning to the admin address.
 */
#ifndef SYSQ_H
#define SYSQ_H

#include <sys/types.h>
#include <stdio.h>

#include "common.h"
#include "aliases.h"
#include "args.h"
#include "conf.h"
#include "envelope.h"
#include "queue.h"
#include "sizecache.h"
#include "status.h"

/* The length of a drop file's first line (below). */
#define SYSQ_HDR_LEN		50

/* Bounds per local user in the maildrop, and corrupt/'s keeping time. */
#define SYSQ_MAX_FILES		1000
#define SYSQ_MAX_BYTES		(1024LL * 1024 * 1024)
#define SYSQ_CORRUPT_MAX_AGE	(30LL * 86400)

struct sysq_drop {
	int			 dirfd;
	int			 fd;
	char			 name[QUEUE_ID_LEN + 1];
	struct sizecache	 sizes;	/* the maildrop's size record */
};

/*
 * Creates a drop file in <spool root>/maildrop (O_CREAT|O_EXCL|O_NOFOLLOW,
 * mode 0000). Call it while holding the spool group, and drop the group
 * right after, whatever it returns. The maildrop directory must be a real
 * directory (not a symlink), not writable by others, and, when spool_gid is
 * not (gid_t)-1, of group spool_gid. ERR_CONFIG for a missing or unsafe
 * directory, ERR_TEMP when the file cannot be created. Reads the size
 * record into d->sizes (freed by sysq_drop_write or sysq_drop_abort).
 */
int	sysq_drop_create(const struct config *, gid_t spool_gid,
	    struct sysq_drop *, struct err *);
/*
 * Reads the message from in through intake (options from inv, the
 * account's address and the aliases as do_send uses them) into the drop
 * file, appends the envelope, fsyncs and marks the file ready. Errors are
 * intake's (ERR_USAGE, ERR_ADDR, ERR_DATA) or ERR_IO / ERR_TEMP; the
 * caller then calls sysq_drop_abort. Closes the file on success.
 */
int	sysq_drop_write(struct sysq_drop *, const struct invocation *,
	    const struct account *, const struct aliases *, FILE *in,
	    struct err *);
/* Truncates an unfinished drop file and marks it abandoned (0400). */
void	sysq_drop_abort(struct sysq_drop *);
/*
 * The maildrop's record of advertised sizes (sizecache.h) into c, empty
 * when there is none or it is not the maildrop owner's. A submitter calls
 * it while it holds the spool group.
 */
void	sysq_sizes_load(const struct config *, struct sizecache *c);

/*
 * Moves every ready drop file into q as a committed queue entry (the
 * daemon side; called at the start of every queue run in system mode),
 * each under its lock (see above). Malformed, oversized, non-regular or
 * unfinished files go to corrupt/ under a "maildrop-" name; abandoned
 * ones are removed. A missing maildrop
 * directory is not an error. Returns the number of entries picked up, or
 * -1 (ERR_CONFIG / ERR_IO) when the directory cannot be read.
 */
int	sysq_pickup(const struct config *, struct queue *, struct err *);

/*
 * Removes the entries of q's corrupt/ set aside (by ctime) more than
 * max_age seconds before now, with a log line for each; max_age <= 0
 * keeps everything. Returns the number removed. sysq_pickup calls it with
 * corrupt_max_age (default SYSQ_CORRUPT_MAX_AGE).
 */
int	sysq_clean_corrupt(struct queue *, long long max_age, time_t now);

/* maildrop_max_files / maildrop_max_bytes, or their defaults. */
long long sysq_max_files(const struct config *);
long long sysq_max_bytes(const struct config *);

/* The usage ledger (above), parsed; exposed for tests and fuzzing. */
struct sysq_usage {
	unsigned long		 uid;
	unsigned long long	 files;
	unsigned long long	 bytes;
};
struct ledger {
	struct sysq_usage	*v;
	size_t			 n;
};
void	sysq_ledger_parse(const char *text, size_t len, struct ledger *);
/*
 * The fixed-length first line of a drop file (SYSQ_HDR_LEN bytes, h need
 * not be terminated): 0 and the a=, f= flags and the message length, or
 * -1 when it is malformed.
 */
int	sysq_parse_header(const char *h, int *a, int *f,
	    unsigned long long *msg);

#endif
