/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * sysq_impl.h -- what the three parts of system mode's maildrop share, for
 * them alone: sysq.c (the usage ledger and the submitter's side),
 * sysq_pickup.c (the daemon's pickup) and sysq_notice.c (the notices for a
 * refused drop file). sysq.h has the layout and the drop file format.
 */
#ifndef SYSQ_IMPL_H
#define SYSQ_IMPL_H

#include <sys/stat.h>
#include <sys/types.h>

#include "common.h"
#include "conf.h"
#include "envelope.h"
#include "queue.h"
#include "sizecache.h"
#include "sysq.h"

#define DROP_MAGIC	"oauthmail-drop 1 "
/* "oauthmail-drop 1 a=0 f=0 msg=" + 20 digits + "\n" */
#define DROP_HDR_LEN	(sizeof(DROP_MAGIC) - 1 + 4 + 4 + 4 + 20 + 1)
_Static_assert(DROP_HDR_LEN == SYSQ_HDR_LEN, "SYSQ_HDR_LEN");
#define DROP_WRITING	0040	/* group-readable: the daemon may lock it */
#define DROP_READY	0440
#define DROP_ABANDONED	0400
#define LEDGER_NAME	".usage"
#define LEDGER_MODE	0660

/* What the pickup learnt of one drop file (sysq_pickup.c). */
struct pick {
	char			 why[1024];
	const struct account	*acct;		/* chosen, or NULL */
	struct envelope		 denv;		/* valid when parsed */
	int			 parsed;
	off_t			 msgend;	/* the message: [hdr, msgend) */
	int			 toobig;
};

/* The usage ledger's record of uid (added if absent), or NULL when full. */
struct sysq_usage *sysq_ledger_get(struct ledger *l, unsigned long uid);
/* Rewrites the ledger file fd with l. -1 on a write error. */
int	sysq_ledger_write(int fd, const struct ledger *l);
/* The maildrop directory's path into dst. -1 if it does not fit. */
int	sysq_drop_dir_path(const struct config *cf, char *dst, size_t size);
/* 1 if s has the form of a drop file's name. */
int	sysq_valid_drop_name(const char *s);

/* The largest drop file any account's size limit allows. */
off_t	sysq_drop_max(const struct config *cf, const struct sizecache *sizes);
/*
 * A refused drop file (fd, st, name; pk says what is known of it): a
 * notice to its submitter and a warning to the account's admin, queued.
 */
void	sysq_tell_refused(const struct config *cf, struct queue *q, int fd,
	    const struct stat *st, const char *name, const struct pick *pk);

#endif
