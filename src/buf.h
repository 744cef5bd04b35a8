/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * buf.h -- bounded growable byte buffer (curl's dynbuf with sshbuf's wiping)
 * and a non-owning span.
 *
 * Every buffer names its maximum. On failure (-1, errno E2BIG or ENOMEM)
 * the buffer has already been freed; the caller only propagates the error.
 * A BUF_SECRET buffer never uses realloc: it grows by allocate, copy and
 * wipe the old block, and is wiped when freed.
 */
#ifndef BUF_H
#define BUF_H

#include "common.h"

#define BUF_SECRET	0x01

struct buf {
	char	*data;		/* NUL-terminated when non-NULL */
	size_t	 len;		/* bytes used, excluding the NUL */
	size_t	 cap;		/* bytes allocated */
	size_t	 max;		/* hard limit chosen by the caller */
	int	 flags;
};

struct span {
	const char	*p;
	size_t		 len;
};

void	 buf_init(struct buf *, size_t max, int flags);
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_addc(struct buf *, int);
int	 buf_adds(struct buf *, const char *);
int	 buf_addf(struct buf *, const char *, ...) OM_PRINTF(2, 3);
/* The content as a C string; "" for an empty buffer. Never NULL. */
const char *buf_str(const struct buf *);
/* Empties the buffer but keeps (and, if secret, wipes) the memory. */
void	 buf_reset(struct buf *);
/* Hands the allocation to the caller (NUL-terminated, never NULL). */
char	*buf_detach(struct buf *, size_t *);
void	 buf_free(struct buf *);

struct span span_from(const char *);
int	 span_eq(struct span, const char *);	/* exact */
int	 span_ieq(struct span, const char *);	/* ASCII case-insensitive */
struct span span_trim(struct span);		/* SP/HTAB/CR/LF both ends */
char	*span_dup(struct span);			/* xmalloc'd copy */

#endif
