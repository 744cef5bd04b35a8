/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * intake.c -- stdin to spool; see intake.h.
 *
 * Decisions (sendmail/Postfix compatible where they have an answer):
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
 *  - Lines longer than 998 octets (RFC 5322 §2.1.1; RFC 5321 §4.5.3.1.6
 *    allows 1000 with CRLF): a body line is broken into pieces of 998
 *    octets with LF (this changes the text, which is unavoidable: the
 *    server would refuse or break it anyway). A header line is folded at
 *    the last white space before the limit; when there is none it is
 *    broken with LF + space (which inserts a space into the value).
 *  - Headers added when missing (From, Date, Message-ID, in this order)
 *    go at the end of the header block, as Postfix cleanup(8) does.
 *  - -t: recipients from To/Cc/Bcc, or only from Resent-To/Cc/Bcc when
 *    one of those is present; command-line recipients are added (Postfix
 *    semantics). Bcc and Resent-Bcc are always removed.
 *  - Without -t, To/Cc are not recipients: a local mailbox there that
 *    cannot be mapped is left as it is (no error).
 *
 * Memory: one input chunk, one line of at most LIM_INPUT_LINE, the header
 * block (at most LIM_HDR_BLOCK) and one output chunk; the body streams.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "buf.h"
#include "envelope.h"
#include "intake.h"
#include "rfc5322.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

#define MAX_LINE	998	/* octets without CRLF, RFC 5322 §2.1.1 */
#define IOCHUNK		65536

struct reader {
	FILE		*f;
	char		 ibuf[IOCHUNK];
	size_t		 ipos, ilen;
	int		 eof;
	char		*line;		/* LIM_INPUT_LINE bytes */
	size_t		 len;
	int		 first;		/* this piece starts a line */
	int		 eol;		/* this piece ends a line */
};

struct writer {
	int		 fd;
	char		 buf[IOCHUNK];
	size_t		 len;
	off_t		 size;		/* as sent: CRLF endings */
	int		 high;		/* a byte >= 0x80 was written */
	int		 col;		/* body: octets in the current line */
	off_t		 max;		/* > 0: the largest size allowed */
	const char	*cure;		/* opts->size_cure */
};

struct hfield {
	char		*name;
	char		*raw;		/* "Name: value\n cont", no final LF */
	size_t		 len;
	int		 drop;
};

struct hdrs {
	struct hfield	*v;
	size_t		 n;
	size_t		 total;
	struct buf	 cur;		/* the field being collected */
	int		 open;
};

/* one envelope recipient before it is added */
struct rlist {
	char		**addr;
	char		**orig;
	size_t		  n;
};

static int	 rd_piece(struct reader *, struct err *);
static int	 w_flush(struct writer *, struct err *);
static int	 w_toobig(const struct writer *, struct err *);
static int	 w_add(struct writer *, const char *, size_t, struct err *);
static int	 w_line(struct writer *, const char *, size_t, struct err *);
static int	 w_body(struct writer *, const char *, size_t, int,
		    struct err *);
static int	 w_header(struct writer *, const char *, size_t,
		    struct err *);
static int	 is_from_line(const char *, size_t);
static int	 hdr_event(struct hdrs *, const struct rfc5322_result *,
		    struct err *);
static void	 hdrs_free(struct hdrs *);
static int	 hdrs_finish(struct hdrs *, struct writer *,
		    const struct intake_opts *, struct envelope *,
		    struct err *);
static int	 resolve(const struct intake_opts *, const struct addr *,
		    char ***, size_t *, struct err *);
static int	 do_field(struct hfield *, const struct intake_opts *, int,
		    int, struct rlist *, struct err *);
static int	 rewrite_from(struct hfield *, const struct intake_opts *);
static int	 add_rcpts(struct envelope *, struct rlist *, struct err *);
static int	 write_added(struct writer *, const struct intake_opts *, int,
		    int, int, struct err *);
static void	 rlist_add(struct rlist *, const char *, const char *);
static void	 rlist_free(struct rlist *);
static size_t	 value_off(const struct hfield *);
static void	 splice(struct hfield *, size_t, size_t, size_t *,
		    const char *);

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
w_flush(struct writer *w, struct err *err)
{
	size_t off = 0;
	ssize_t n;

	while (off < w->len) {
		n = write(w->fd, w->buf + off, w->len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return err_set(err, ERR_IO, "writing the spool "
			    "file: %s", strerror(errno));
		}
		off += (size_t)n;
	}
	w->len = 0;
	return 0;
}

/* Stops the message at the size limit (opts->max_size), before exit 0. */
static int
w_toobig(const struct writer *w, struct err *err)
{
	if (w->max <= 0 || w->size <= w->max)
		return 0;
	if (w->cure != NULL)
		return err_set(err, ERR_DATA, "message larger than the limit "
		    "of %lld bytes; %s", (long long)w->max, w->cure);
	return err_set(err, ERR_DATA, "message larger than the limit of %lld "
	    "bytes; send a smaller one, or raise max_message_size in the "
	    "configuration (oauthmail.conf(5))", (long long)w->max);
}

/* Raw bytes; the caller accounts line endings in w->size. */
static int
w_add(struct writer *w, const char *p, size_t n, struct err *err)
{
	size_t i, k;

	for (i = 0; i < n && !w->high; i++)
		if ((unsigned char)p[i] >= 0x80)
			w->high = 1;
	w->size += n;
	if (w_toobig(w, err) == -1)
		return -1;
	while (n > 0) {
		if (w->len == sizeof(w->buf) && w_flush(w, err) == -1)
			return -1;
		k = sizeof(w->buf) - w->len;
		if (k > n)
			k = n;
		memcpy(w->buf + w->len, p, k);
		w->len += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* p[0..n) and a line ending (two octets on the wire). */
static int
w_line(struct writer *w, const char *p, size_t n, struct err *err)
{
	if (w_add(w, p, n, err) == -1 || w_add(w, "\n", 1, err) == -1)
		return -1;
	w->size++;
	return w_toobig(w, err);
}

/* Body text: lines broken every MAX_LINE octets. */
static int
w_body(struct writer *w, const char *p, size_t n, int eol, struct err *err)
{
	size_t k;

	while (n > 0) {
		if (w->col == MAX_LINE) {
			if (w_line(w, NULL, 0, err) == -1)
				return -1;
			w->col = 0;
		}
		k = MAX_LINE - (size_t)w->col;
		if (k > n)
			k = n;
		if (w_add(w, p, k, err) == -1)
			return -1;
		w->col += (int)k;
		p += k;
		n -= k;
	}
	if (eol) {
		if (w_line(w, NULL, 0, err) == -1)
			return -1;
		w->col = 0;
	}
	return 0;
}

/* One header field (lines joined by LF), long lines folded. */
static int
w_header(struct writer *w, const char *raw, size_t len, struct err *err)
{
	const char *p = raw, *nl;
	size_t n, max, b, f;
	int lead;

	while (len > 0 || p == raw) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) : len;
		len -= nl != NULL ? n + 1 : n;
		for (lead = 0;;) {
			max = MAX_LINE - (size_t)lead;
			if (n <= max) {
				if ((lead && w_add(w, " ", 1, err) == -1) ||
				    w_line(w, p, n, err) == -1)
					return -1;
				break;
			}
			/* last white space that leaves text before it */
			for (f = 0; f < n && (p[f] == ' ' || p[f] == '\t'); f++)
				;
			for (b = max; b > f && p[b] != ' ' && p[b] != '\t'; b--)
				;
			if (b <= f)
				b = max;	/* none: break with LF + SP */
			if ((lead && w_add(w, " ", 1, err) == -1) ||
			    w_line(w, p, b, err) == -1)
				return -1;
			lead = b == max && p[b] != ' ' && p[b] != '\t';
			p += b;
			n -= b;
		}
		p += n + (nl != NULL);
		if (nl == NULL)
			break;
	}
	return 0;
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

static int
hdr_end(struct hdrs *h, struct err *err)
{
	struct hfield *f;

	if (!h->open)
		return 0;
	h->open = 0;
	if (h->cur.data == NULL)
		return err_set(err, ERR_DATA, "header field too long");
	/* +1: its line ending */
	if (h->cur.len + 1 > LIM_HDR_BLOCK - h->total) {
		buf_free(&h->cur);
		return err_set(err, ERR_DATA, "message header block larger "
		    "than %d bytes", LIM_HDR_BLOCK);
	}
	h->total += h->cur.len + 1;
	h->v = xreallocarray(h->v, h->n + 1, sizeof(*h->v));
	f = &h->v[h->n++];
	memset(f, 0, sizeof(*f));
	f->raw = buf_detach(&h->cur, &f->len);
	/* the name: up to white space or the colon (rfc5322_is_field) */
	f->name = xstrndup(f->raw, strcspn(f->raw, " \t:"));
	return 0;
}

static int
hdr_event(struct hdrs *h, const struct rfc5322_result *r, struct err *err)
{
	switch (r->ev) {
	case RFC5322_HDR_START:
		buf_init(&h->cur, LIM_HDR_VALUE + LIM_HDR_NAME + 16, 0);
		h->open = 1;
		/* name and value are contiguous in the pushed line */
		if (buf_add(&h->cur, r->name.p, (size_t)(r->value.p -
		    r->name.p) + r->value.len) == -1)
			return err_set(err, ERR_DATA, "header field too long");
		return 0;
	case RFC5322_HDR_CONT:
		if (buf_addc(&h->cur, '\n') == -1 ||
		    buf_add(&h->cur, r->value.p, r->value.len) == -1)
			return err_set(err, ERR_DATA, "header field too long");
		return 0;
	case RFC5322_HDR_END:
		return hdr_end(h, err);
	default:
		return 0;
	}
}

static void
hdrs_free(struct hdrs *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].raw);
	}
	free(h->v);
	buf_free(&h->cur);
	memset(h, 0, sizeof(*h));
}

static size_t
value_off(const struct hfield *f)
{
	return (size_t)(strchr(f->raw, ':') - f->raw) + 1;
}

static void
rlist_add(struct rlist *l, const char *a, const char *orig)
{
	l->addr = xreallocarray(l->addr, l->n + 1, sizeof(*l->addr));
	l->orig = xreallocarray(l->orig, l->n + 1, sizeof(*l->orig));
	l->addr[l->n] = xstrdup(a);
	l->orig[l->n] = orig != NULL ? xstrdup(orig) : NULL;
	l->n++;
}

static void
rlist_free(struct rlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->addr[i]);
		free(l->orig[i]);
	}
	free(l->addr);
	free(l->orig);
	memset(l, 0, sizeof(*l));
}

static void
free_vec(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
is_local(const struct addr *a)
{
	return (a->flags & ADDR_NODOMAIN) || aliases_is_local(a->spec);
}

/* The addresses a recipient stands for (itself unless it is local). */
static int
resolve(const struct intake_opts *o, const struct addr *a, char ***v,
    size_t *n, struct err *err)
{
	*v = NULL;
	*n = 0;
	if (!is_local(a)) {
		*v = xreallocarray(NULL, 1, sizeof(**v));
		(*v)[0] = xstrdup(a->spec);
		*n = 1;
		return 0;
	}
	if (o->aliases == NULL)
		return err_set(err, ERR_ADDR, "recipient '%s' is local; set "
		    "'aliases' in the account and map it (e.g. '%.*s: "
		    "you@example.com')", a->spec, (int)strcspn(a->spec, "@"),
		    a->spec);
	if (aliases_expand(o->aliases, a->spec, v, n, err) == -1) {
		free_vec(*v, *n);
		*v = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

/*
 * Replaces the value bytes [off, off + len) (offsets into the value as
 * parsed) of f with text; *delta is the growth from earlier splices in
 * the same field, in modular size_t arithmetic (it may shrink).
 */
static void
splice(struct hfield *f, size_t off, size_t len, size_t *delta,
    const char *text)
{
	struct buf b;
	size_t at = value_off(f) + off + *delta;

	buf_init(&b, (size_t)-1 / 2, 0);
	(void)buf_add(&b, f->raw, at);
	(void)buf_adds(&b, text);
	(void)buf_add(&b, f->raw + at + len, f->len - at - len);
	free(f->raw);
	f->raw = buf_detach(&b, &f->len);
	*delta += strlen(text) - len;
}

/*
 * An address header: recipients into rl when rcpt, local mailboxes
 * replaced by their expansion when rewrite.
 */
static int
do_field(struct hfield *f, const struct intake_opts *o, int rcpt,
    int rewrite, struct rlist *rl, struct err *err)
{
	struct addr_list l;
	struct err e2;
	struct buf b;
	char **v = NULL, *fmt;
	size_t vo = value_off(f), i, k, n, delta = 0;
	int rc = 0;

	if (addr_parse_list(f->raw + vo, f->len - vo, &l, &e2) == -1) {
		if (!rcpt)
			return 0;	/* not ours to judge */
		*err = e2;
		return err_prefix(err, "%s header", f->name);
	}
	for (i = 0; i < l.n; i++) {
		const struct addr *a = &l.v[i];

		if (a->flags & ADDR_NULL)
			continue;
		if (resolve(o, a, &v, &n, &e2) == -1) {
			if (rcpt) {
				*err = e2;
				rc = -1;
				break;
			}
			continue;	/* left as it is */
		}
		if (rcpt)
			for (k = 0; k < n; k++)
				rlist_add(rl, v[k], strcmp(v[k], a->spec) ?
				    a->spec : NULL);
		if (rewrite && is_local(a) && n > 0) {
			/* one address keeps the display name; more do not */
			if (n == 1)
				fmt = addr_format(a->name, v[0]);
			else {
				buf_init(&b, LIM_HDR_VALUE, 0);
				for (k = 0; k < n; k++)
					(void)buf_addf(&b, "%s%s",
					    k > 0 ? ", " : "", v[k]);
				fmt = b.data != NULL ?
				    buf_detach(&b, NULL) : NULL;
			}
			if (fmt != NULL)
				splice(f, a->off, a->len, &delta, fmt);
			free(fmt);
		}
		free_vec(v, n);
		v = NULL;
	}
	addr_list_free(&l);
	return rc;
}

/* From / Sender: a local mailbox becomes the account's address. */
static int
rewrite_from(struct hfield *f, const struct intake_opts *o)
{
	struct addr_list l;
	struct err e2;
	const char *name;
	char *fmt;
	size_t vo = value_off(f), i, delta = 0;

	if (o->from_addr == NULL || o->from_addr[0] == '\0')
		return 0;
	if (addr_parse_list(f->raw + vo, f->len - vo, &l, &e2) == -1)
		return 0;	/* left as it is */
	for (i = 0; i < l.n; i++) {
		const struct addr *a = &l.v[i];

		if ((a->flags & ADDR_NULL) || !is_local(a))
			continue;
		/* "From: Logwatch" -> "Logwatch <acct@example.com>" */
		name = a->name;
		if (name == NULL && (a->flags & ADDR_NODOMAIN))
			name = a->spec;
		fmt = addr_format(name, o->from_addr);
		if (fmt == NULL)
			continue;
		splice(f, a->off, a->len, &delta, fmt);
		free(fmt);
	}
	addr_list_free(&l);
	return 0;
}

/* Validates, counts and adds the collected recipients. */
static int
add_rcpts(struct envelope *env, struct rlist *rl, struct err *err)
{
	struct addr a;
	size_t i;

	for (i = 0; i < rl->n; i++) {
		if (addr_parse_one(rl->addr[i], &a, err) == -1)
			return -1;
		if (a.flags & (ADDR_NULL | ADDR_NODOMAIN)) {
			err_set(err, ERR_ADDR, "invalid recipient '%s': %s",
			    rl->addr[i], (a.flags & ADDR_NULL) ?
			    "empty address" : "no domain after aliases");
			addr_clear(&a);
			return -1;
		}
		if (env->nrcpts >= LIM_RCPTS) {
			addr_clear(&a);
			return err_set(err, ERR_DATA, "more than %d "
			    "recipients", LIM_RCPTS);
		}
		if (a.flags & ADDR_UTF8)
			env->smtputf8 = 1;
		envelope_add_rcpt(env, a.spec, rl->orig[i]);
		addr_clear(&a);
	}
	return 0;
}

static int
name_in(const char *name, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcasecmp(name, *set) == 0)
			return 1;
	return 0;
}

/* Missing From, Date, Message-ID: added at the end of the block. */
static int
write_added(struct writer *w, const struct intake_opts *o, int has_from,
    int has_date, int has_msgid, struct err *err)
{
	const char *dom;
	char tmp[512], *fmt, *hdr;
	int rc;

	if (!has_from && o->from_addr != NULL && o->from_addr[0] != '\0') {
		fmt = addr_format(o->fullname, o->from_addr);
		if (fmt == NULL)
			return err_set(err, ERR_USAGE, "full name too long");
		hdr = xasprintf("From: %s", fmt);
		free(fmt);
		rc = w_header(w, hdr, strlen(hdr), err);
		free(hdr);
		if (rc == -1)
			return -1;
	}
	if (!has_date) {
		memcpy(tmp, "Date: ", 6);
		if (util_date(tmp + 6, sizeof(tmp) - 6, time(NULL)) == -1)
			return err_set(err, ERR_INTERNAL,
			    "cannot format the date");
		if (w_line(w, tmp, strlen(tmp), err) == -1)
			return -1;
	}
	if (!has_msgid) {
		dom = o->domain;
		if (dom == NULL && o->from_addr != NULL &&
		    strrchr(o->from_addr, '@') != NULL)
			dom = strrchr(o->from_addr, '@') + 1;
		if (dom == NULL || dom[0] == '\0')
			dom = util_hostname();
		memcpy(tmp, "Message-ID: ", 12);
		if (util_message_id(tmp + 12, sizeof(tmp) - 12, dom) == -1)
			return err_set(err, ERR_INTERNAL,
			    "cannot make a Message-ID");
		if (w_line(w, tmp, strlen(tmp), err) == -1)
			return -1;
	}
	return 0;
}

/* Header block complete: rewrite, collect recipients, write it. */
static int
hdrs_finish(struct hdrs *h, struct writer *w, const struct intake_opts *o,
    struct envelope *env, struct err *err)
{
	static const char *const resent_set[] = { "Resent-To", "Resent-Cc",
	    "Resent-Bcc", NULL };
	static const char *const plain_set[] = { "To", "Cc", "Bcc", NULL };
	static const char *const rewrite_set[] = { "To", "Cc", "Resent-To",
	    "Resent-Cc", NULL };
	static const char *const bcc_set[] = { "Bcc", "Resent-Bcc", NULL };
	static const char *const from_set[] = { "From", "Sender", NULL };
	struct rlist rl;
	struct addr a;
	const char *const *rset = plain_set;
	size_t i, i2, k;
	char **v;
	int has_date = 0, has_msgid = 0, has_from = 0, rcpt, rw, rc = -1;

	memset(&rl, 0, sizeof(rl));
	for (i = 0; i < h->n; i++)
		if (name_in(h->v[i].name, resent_set))
			rset = resent_set;
	/* command-line recipients first (Postfix adds them with -t) */
	for (i = 0; i < o->nrcpts; i++) {
		if (addr_parse_one(o->rcpts[i], &a, err) == -1)
			goto done;
		if (a.flags & ADDR_NULL) {
			addr_clear(&a);
			err_set(err, ERR_ADDR, "invalid recipient '%s'",
			    o->rcpts[i]);
			goto done;
		}
		if (resolve(o, &a, &v, &k, err) == -1) {
			addr_clear(&a);
			goto done;
		}
		for (i2 = 0; i2 < k; i2++)
			rlist_add(&rl, v[i2], strcmp(v[i2], a.spec) ?
			    a.spec : NULL);
		free_vec(v, k);
		addr_clear(&a);
	}
	for (i = 0; i < h->n; i++) {
		struct hfield *f = &h->v[i];

		if (strcasecmp(f->name, "Date") == 0)
			has_date = 1;
		else if (strcasecmp(f->name, "Message-ID") == 0)
			has_msgid = 1;
		else if (strcasecmp(f->name, "From") == 0)
			has_from = 1;
		if (name_in(f->name, from_set))
			(void)rewrite_from(f, o);
		rcpt = o->extract && name_in(f->name, rset);
		rw = name_in(f->name, rewrite_set);
		if ((rcpt || rw) && do_field(f, o, rcpt, rw, &rl, err) == -1)
			goto done;
		if (name_in(f->name, bcc_set))
			f->drop = 1;
	}
	if (add_rcpts(env, &rl, err) == -1)
		goto done;
	if (env->nrcpts == 0) {
		err_set(err, ERR_USAGE, "%s", o->extract ?
		    "No recipient addresses found in message header" :
		    "Recipient addresses must be specified on the command "
		    "line or via the -t option");
		goto done;
	}
	for (i = 0; i < h->n; i++)
		if (!h->v[i].drop &&
		    w_header(w, h->v[i].raw, h->v[i].len, err) == -1)
			goto done;
	if (write_added(w, o, has_from, has_date, has_msgid, err) == -1)
		goto done;
	/* the empty line; inserted when the input had none */
	if (w_line(w, NULL, 0, err) == -1)
		goto done;
	rc = 0;
done:
	rlist_free(&rl);
	return rc;
}

/*
 * Verify mode: the spool form read back, checked and copied byte for
 * byte. It accepts all that the normal mode writes (LF endings, lines of
 * at most MAX_LINE octets, no NUL) and adds, folds or removes nothing, so
 * a message is never refused the second time for having grown the first.
 */
static int
verify_copy(struct reader *r, struct writer *w, const struct intake_opts *o,
    struct envelope *env, struct err *err)
{
	struct rlist rl;
	size_t i;
	int n, rc = -1;

	memset(&rl, 0, sizeof(rl));
	for (i = 0; i < o->nrcpts; i++)
		rlist_add(&rl, o->rcpts[i], NULL);
	if (add_rcpts(env, &rl, err) == -1)
		goto done;
	if (env->nrcpts == 0) {
		err_set(err, ERR_USAGE, "no recipients");
		goto done;
	}
	while ((n = rd_piece(r, err)) == 1) {
		if (!r->first || !r->eol || r->len > MAX_LINE) {
			err_set(err, ERR_DATA, "a line longer than %d octets",
			    MAX_LINE);
			goto done;
		}
		if (w_line(w, r->line, r->len, err) == -1)
			goto done;
	}
	if (n == -1 || w_flush(w, err) == -1)
		goto done;
	env->size = w->size;
	env->body8bit = w->high;
	rc = 0;
done:
	rlist_free(&rl);
	return rc;
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
			if (w_body(w, line, len, r->eol, err) == -1)
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
			if (hdr_event(&h, &res, err) == -1)
				goto out;
			if (res.ev == RFC5322_END_OF_HDRS) {
				if (hdrs_finish(&h, w, opts, env, err) == -1)
					goto out;
				in_hdrs = 0;
			} else if (res.ev == RFC5322_BODY &&
			    w_body(w, res.value.p, res.value.len, r->eol,
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
			if (hdr_event(&h, &res, err) == -1)
				goto out;
			if (res.ev == RFC5322_END_OF_HDRS &&
			    hdrs_finish(&h, w, opts, env, err) == -1)
				goto out;
		}
	}
	if (w->col != 0 && w_line(w, NULL, 0, err) == -1)
		goto out;
	if (w_flush(w, err) == -1)
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
	hdrs_free(&h);
	free(r->line);
	free(r);
	free(w);
	return rc;
}
