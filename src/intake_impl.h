/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * intake_impl.h -- what the intake modules share, for them alone:
 * intake_read.c (the input read: line endings, dots, the mbox From_ line,
 * the verify mode; intake_read), intake_fields.c (the header block: its
 * fields collected, rewritten and written, the recipients) and
 * intake_write.c (the spool form written: line lengths, the size as sent,
 * the size limit). intake.h has the contract. intake_read.c calls the
 * other two, intake_fields.c calls the writer, and nothing calls back.
 */
#ifndef INTAKE_IMPL_H
#define INTAKE_IMPL_H

#include "common.h"

#include <sys/types.h>

#include "buf.h"
#include "envelope.h"
#include "intake.h"
#include "rfc5322.h"
#include "status.h"

#define INTAKE_MAX_LINE	998	/* octets without CRLF, RFC 5322 §2.1.1 */
#define INTAKE_IOCHUNK	65536

struct writer {
	int		 fd;
	char		 buf[INTAKE_IOCHUNK];
	size_t		 len;
	off_t		 size;		/* as sent: CRLF endings */
	int		 high;		/* a byte >= 0x80 was written */
	int		 col;		/* body: octets in the current line */
	off_t		 max;		/* > 0: the largest size allowed */
	const char	*cure;		/* opts->size_cure */
};

struct hfield;

/* The header block being collected (intake_fields.c). */
struct hdrs {
	struct hfield	*v;
	size_t		 n;
	size_t		 total;
	struct buf	 cur;		/* the field being collected */
	int		 open;
};

/*
 * intake_write.c. The buffered output to w->fd, written out; 0 or -1
 * (ERR_IO).
 */
int	intake_w_flush(struct writer *w, struct err *);
/*
 * p[0..n) and a line ending (two octets on the wire). These three fail
 * with ERR_DATA past the size limit (w->max), or with ERR_IO.
 */
int	intake_w_line(struct writer *w, const char *p, size_t n,
	    struct err *);
/* Body text, lines broken every INTAKE_MAX_LINE octets; eol: it ends. */
int	intake_w_body(struct writer *w, const char *p, size_t n, int eol,
	    struct err *);
/* One header field (lines joined by LF), long lines folded. */
int	intake_w_header(struct writer *w, const char *raw, size_t len,
	    struct err *);

/*
 * intake_fields.c. One event of the header parser into h: a field
 * started, continued or ended (others are passed over); -1 (ERR_DATA)
 * past LIM_HDR_VALUE or LIM_HDR_BLOCK.
 */
int	intake_hdr_event(struct hdrs *h, const struct rfc5322_result *,
	    struct err *);
void	intake_hdrs_free(struct hdrs *h);
/*
 * The header block complete: From / Sender and To / Cc rewritten, the
 * recipients (command line, and with -t the header's) into env, Bcc
 * removed, the block written to w with the missing From, Date and
 * Message-ID and the empty line that ends it.
 */
int	intake_hdrs_finish(struct hdrs *h, struct writer *w,
	    const struct intake_opts *, struct envelope *env, struct err *);
/*
 * Verify mode: the command-line recipients into env as they are (no
 * aliases); -1 when one is invalid or there is none.
 */
int	intake_rcpts_verbatim(const struct intake_opts *, struct envelope *env,
	    struct err *);

#endif
