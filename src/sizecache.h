/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * sizecache.h -- the message size limit a submission enforces, and the
 * record of the limits servers advertise (EHLO "SIZE n", RFC 1870).
 *
 * The limit of an account (sizecache_limit): max_message_size when the
 * configuration sets it, else what the account's server (host and port as
 * configured) last advertised, else SIZECACHE_DEFAULT (also when it
 * advertised "SIZE 0", "SIZE" alone or no SIZE: no fixed limit). So a
 * message the server would refuse is refused at submission, before exit
 * 0, instead of becoming a bounce later.
 *
 * Every SMTP session records what the server advertised after its last
 * EHLO (sizecache_note, called by smtp.c once sizecache_setup has said
 * where): deliveries, "check" and "login". The record is a small text
 * file, one "ACCOUNT HOST PORT SIZE" line per account and server:
 *   user mode    <queue dir>/size-limits, mode 0600
 *   system mode  <spool>/maildrop/.size-limits, mode 0640, owner the
 *                daemon's user, group the maildrop's: the set-gid
 *                submitter reads it while it holds the spool group (as
 *                the usage ledger, sysq.h); users can neither read nor
 *                write it. Written only by the maildrop's owner.
 * It is rewritten atomically (a temporary file, then rename) and only
 * when a value changed, read and written under flock of its directory
 * (two sessions recording at once keep both values); it is parsed
 * defensively: a malformed line, or a file of the wrong owner, type or
 * mode, is ignored (the default applies).
 */
#ifndef SIZECACHE_H
#define SIZECACHE_H

#include <sys/types.h>

#include "common.h"
#include "conf.h"
#include "status.h"

#define SIZECACHE_DEFAULT	CONF_MAX_MESSAGE_SIZE
#define SIZECACHE_USER_NAME	"size-limits"
#define SIZECACHE_SYS_NAME	".size-limits"
/* The file's size and its lines; a bigger file is ignored. */
#define SIZECACHE_MAX_BYTES	(64 * 1024)
#define SIZECACHE_MAX_ENTRIES	256
/* Larger advertised values are taken as "no fixed limit". */
#define SIZECACHE_MAX_SIZE	(1LL << 42)

struct sizecache_entry {
	char		*account;
	char		*host;
	int		 port;
	long long	 size;		/* 0: no fixed limit advertised */
};

struct sizecache {
	struct sizecache_entry	*v;
	size_t			 n;
};

enum size_origin {
	SIZE_CONFIGURED = 0,	/* max_message_size */
	SIZE_ADVERTISED,	/* the server's EHLO SIZE */
	SIZE_DEFAULT,		/* SIZECACHE_DEFAULT */
	SIZE_API		/* an API transport's (conf_size_cure) */
};

/* An account's effective limit, and how to explain it in one line. */
struct size_limit {
	long long		 bytes;
	enum size_origin	 origin;
	/* What follows "the limit of N bytes; " in a refusal: origin, cure. */
	char			 why[400];
	/* The origin in brief, for status: "advertised by HOST:PORT". */
	char			 from[300];
};

/*
 * "ACCOUNT HOST PORT SIZE\n" lines (names and host without white space,
 * port 1-65535, size 0 to SIZECACHE_MAX_SIZE), '#' comments; anything else
 * is skipped, a torn last line too; a later line for the same account and
 * server replaces an earlier one. Appends to c (zeroed by the caller).
 */
void	sizecache_parse(const char *text, size_t len, struct sizecache *c);
void	sizecache_free(struct sizecache *);
/* The file's text form of c into b (buf_init'ed here; buf_free it). */
struct buf;
void	sizecache_format(const struct sizecache *c, struct buf *b);
/* A deep copy of src into dst (dst's old content is freed). */
void	sizecache_copy(struct sizecache *dst, const struct sizecache *src);
/* 1 and *size when c has the server's value for the account, else 0. */
int	sizecache_find(const struct sizecache *c, const char *account,
	    const char *host, int port, long long *size);

/*
 * Loads dirfd/name into c (emptied first) if it is a regular file of uid
 * owner with one link, writable by nobody else and at most
 * SIZECACHE_MAX_BYTES; otherwise c stays empty. Never fails.
 */
void	sizecache_load(int dirfd, const char *name, uid_t owner,
	    struct sizecache *c);
/*
 * Sets the account's value for host:port in dirfd/name (a new file:
 * mode, and group when group is not (gid_t)-1), unless it is recorded
 * already; under flock(dirfd), so dirfd must be this call's own open of
 * the directory, not one shared with a concurrent writer (a fork).
 * ERR_IO / ERR_CANTCREAT.
 */
int	sizecache_store(int dirfd, const char *name, mode_t mode, gid_t group,
	    const char *account, const char *host, int port, long long size,
	    struct err *err);

/*
 * The limit of a submission through acct: max_message_size, else c's
 * value for the account's server (c may be NULL), else the default; for
 * an API transport, the API's when it is lower (conf_max_message_size).
 */
void	sizecache_limit(const struct account *acct, const struct sizecache *c,
	    struct size_limit *out);

/*
 * Where sizecache_note records, for the rest of the process: the user's
 * queue directory, or in system mode the maildrop (only when this process
 * is the maildrop's owner, the daemon's user). Until it is called
 * sizecache_note records nothing.
 */
void	sizecache_setup(const struct config *cf);
/*
 * Records what a server advertised after EHLO: size_max as parsed
 * (0: "SIZE 0", "SIZE" alone or no SIZE). Best effort: a failure is
 * logged at debug level and changes nothing else.
 */
void	sizecache_note(const struct account *acct, const char *host, int port,
	    long long size_max);
/*
 * The user-mode record of acct's queue directory into c (empty if none);
 * in system mode use sysq's (sysq_sizes_load).
 */
void	sizecache_load_user(const struct account *acct, struct sizecache *c);

#endif
