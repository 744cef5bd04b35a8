/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * intake_read.c -- stdin to spool (intake.h): the input read a piece at a
 * time, its line endings, dots and mbox From_ line; the header block
 * handed to intake_fields.c, the body to the writer (intake_write.c);
 * the verify mode. See intake_impl.h.
 *
 * Decisions (sendmail/Postfix compatible where they have an answer; those
 * of the header block are at the top of intake_fields.c, those of long
 * lines at the top of intake_write.c):
 *
 *  - Line endings: LF, CRLF or mixed. Every CR is removed: the CR of a
 *    CRLF, and a bare CR not followed by LF as well (RFC 5321 §2.3.8 bans
 *    bare CR; turning it into a line break would change the structure of
 *    the message and is the SMTP smuggling vector, removing it keeps the
 *    text). The spool holds LF endings; env->size counts CRLF endings.
 *  - NUL bytes: the message is refused (ERR_DATA).
 *  - Without -i a line "." ends the input and a line starting with ".."
 *    loses one dot (sendmail 8 "hidden dot"); with -i dots are data. The
 *    spool holds un-stuffed text; smtp dot-stuffs on the wire.
 *  - A first line "From " or ">From " (any number of '>') is an mbox
 *    separator and is dropped.
 *
 * Memory: one input chunk, one line of at most LIM_INPUT_LINE, the header
 * block (at most LIM_HDR_BLOCK) and one output chunk; the body streams.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "intake.h"
#include "intake_impl.h"
#include "rfc5322.h"
#include "status.h"
#include "xmalloc.h"

struct reader {
	FILE		*f;
	char		 ibuf[INTAKE_IOCHUNK];
	size_t		 ipos, ilen;
	int		 eof;
	char		*line;		/* LIM_INPUT_LINE bytes */
	size_t		 len;
	int		 first;		/* this piece starts a line */
	int		 eol;		/* this piece ends a line */
};

static int	 rd_piece(struct reader *, struct err *);
static int	 is_from_line(const char *, size_t);

/*
 * The next piece of input: a line, or up to LIM_INPUT_LINE bytes of a
 * longer one (first/eol tell). Returns 1, 0 at the end, -1 on error.
 */
static int
rd_piece(struct reader *r, struct err *err)
{
	int c;

	r->first = r->eol;
	r->eol = 0;
	r->len = 0;
	while (r->len < LIM_INPUT_LINE) {
		if (r->ipos == r->ilen) {
			if (r->eof)
				break;
			r->ilen = fread(r->ibuf, 1, sizeof(r->ibuf), r->f);
			r->ipos = 0;
			if (r->ilen == 0) {
				if (ferror(r->f))
					return err_set(err, ERR_IO, "reading "
					    "the message: %s", strerror(errno));
				r->eof = 1;
				break;
			}
		}
		c = (unsigned char)r->ibuf[r->ipos++];
		if (c == '\n') {
			r->eol = 1;
			return 1;
		}
		if (c == '\r')
			continue;	/* CRLF -> LF, bare CR removed */
		if (c == '\0')
			return err_set(err, ERR_DATA,
			    "message contains NUL bytes");
		r->line[r->len++] = (char)c;
	}
	if (r->len == 0 && r->eof) {
		r->eol = 1;
		return 0;
	}
	/* a last line without a line ending still ends there */
	if (r->eof)
		r->eol = 1;
	return 1;
}

static int
is_from_line(const char *p, size_t n)
{
	while (n > 0 && *p == '>') {
		p++;
		n--;
	}
	return n >= 5 && memcmp(p, "From ", 5) == 0;
}

/*
 * Verify mode: the spool form read back, checked and copied byte for
 * byte. It accepts all that the normal mode writes (LF endings, lines of
 * at most INTAKE_MAX_LINE octets, no NUL) and adds, folds or removes
 * nothing, so a message is never refused the second time for having grown
 * the first.
 */
static int
verify_copy(struct reader *r, struct writer *w, const struct intake_opts *o,
    struct envelope *env, struct err *err)
{
	int n;

	if (intake_rcpts_verbatim(o, env, err) == -1)
		return -1;
	while ((n = rd_piece(r, err)) == 1) {
		if (!r->first || !r->eol || r->len > INTAKE_MAX_LINE)
			return err_set(err, ERR_DATA, "a line longer than %d "
			    "octets", INTAKE_MAX_LINE);
		if (intake_w_line(w, r->line, r->len, err) == -1)
			return -1;
	}
	if (n == -1 || intake_w_flush(w, err) == -1)
		return -1;
	env->size = w->size;
	env->body8bit = w->high;
	return 0;
}

int
intake_read(FILE *in, int out_fd, const struct intake_opts *opts,
    struct envelope *env, struct err *err)
{
	struct reader *r;
	struct writer *w;
	struct hdrs h;
	struct rfc5322_parser p;
	struct rfc5322_result res;
	int rc = -1, n, in_hdrs = 1, first = 1, skip = 0;
	const char *line;
	size_t len;

	err_clear(err);
	if (!opts->extract && !opts->verify && opts->nrcpts == 0)
		return err_set(err, ERR_USAGE, "Recipient addresses must be "
		    "specified on the command line or via the -t option");
	r = xcalloc(1, sizeof(*r));
	w = xcalloc(1, sizeof(*w));
	r->f = in;
	r->line = xmalloc(LIM_INPUT_LINE);
	r->eol = 1;
	w->fd = out_fd;
	w->max = opts->max_size;
	w->cure = opts->size_cure;
	memset(&h, 0, sizeof(h));
	if (opts->verify) {
		rc = verify_copy(r, w, opts, env, err);
		goto out;
	}
	rfc5322_init(&p);

	while ((n = rd_piece(r, err)) == 1) {
		line = r->line;
		len = r->len;
		if (r->first) {
			if (!opts->ignore_dots && len == 1 && line[0] == '.' &&
			    r->eol)
				break;
			if (!opts->ignore_dots && len >= 2 &&
			    line[0] == '.' && line[1] == '.') {
				line++;
				len--;
			}
			if (first && is_from_line(line, len))
				skip = 1;
			first = 0;
		}
		if (skip) {
			skip = !r->eol;
			continue;
		}
		if (!in_hdrs) {
			if (intake_w_body(w, line, len, r->eol, err) == -1)
				goto out;
			continue;
		}
		if (rfc5322_push(&p, line, len) == -1)
			goto toobig;
		while (rfc5322_next(&p, &res) != RFC5322_NONE) {
			if ((res.ev == RFC5322_HDR_START ||
			    res.ev == RFC5322_HDR_CONT) && !r->eol) {
				err_set(err, ERR_DATA, "header line longer "
				    "than %d bytes", LIM_INPUT_LINE);
				goto out;
			}
			if (intake_hdr_event(&h, &res, err) == -1)
				goto out;
			if (res.ev == RFC5322_END_OF_HDRS) {
				if (intake_hdrs_finish(&h, w, opts, env,
				    err) == -1)
					goto out;
				in_hdrs = 0;
			} else if (res.ev == RFC5322_BODY &&
			    intake_w_body(w, res.value.p, res.value.len, r->eol,
			    err) == -1)
				goto out;
		}
	}
	if (n == -1)
		goto out;
	if (in_hdrs) {
		if (rfc5322_push_eof(&p) == -1)
			goto toobig;
		while (rfc5322_next(&p, &res) != RFC5322_NONE) {
			if (intake_hdr_event(&h, &res, err) == -1)
				goto out;
			if (res.ev == RFC5322_END_OF_HDRS &&
			    intake_hdrs_finish(&h, w, opts, env, err) == -1)
				goto out;
		}
	}
	if (w->col != 0 && intake_w_line(w, NULL, 0, err) == -1)
		goto out;
	if (intake_w_flush(w, err) == -1)
		goto out;
	env->size = w->size;
	env->body8bit = w->high;
	rc = 0;
	goto out;
toobig:
	err_set(err, ERR_DATA, "message header too large (a field name over "
	    "%d bytes, a field over %d bytes or more than %d fields)",
	    LIM_HDR_NAME, LIM_HDR_VALUE, LIM_HDR_COUNT);
out:
	intake_hdrs_free(&h);
	free(r->line);
	free(r);
	free(w);
	return rc;
}
