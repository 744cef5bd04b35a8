/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * intake_fields.c -- the header block of the message (intake_impl.h):
 * its fields collected (at most LIM_HDR_BLOCK), local From / Sender
 * rewritten to the account's address, local mailboxes in To / Cc mapped
 * through the aliases, the envelope's recipients (the command line's,
 * and with -t the header's), Bcc removed, the missing From, Date and
 * Message-ID added; the block written through intake_write.c.
 *
 * Decisions (sendmail/Postfix compatible where they have an answer):
 *
 *  - Headers added when missing (From, Date, Message-ID, in this order)
 *    go at the end of the header block, as Postfix cleanup(8) does.
 *  - -t: recipients from To/Cc/Bcc, or only from Resent-To/Cc/Bcc when
 *    one of those is present; command-line recipients are added (Postfix
 *    semantics). Bcc and Resent-Bcc are always removed.
 *  - Without -t, To/Cc are not recipients: a local mailbox there that
 *    cannot be mapped is left as it is (no error).
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addr.h"
#include "aliases.h"
#include "buf.h"
#include "envelope.h"
#include "intake.h"
#include "intake_impl.h"
#include "rfc5322.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

struct hfield {
	char		*name;
	char		*raw;		/* "Name: value\n cont", no final LF */
	size_t		 len;
	int		 drop;
};

/* one envelope recipient before it is added */
struct rlist {
	char		**addr;
	char		**orig;
	size_t		  n;
};

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

int
intake_hdr_event(struct hdrs *h, const struct rfc5322_result *r,
    struct err *err)
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

void
intake_hdrs_free(struct hdrs *h)
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
		rc = intake_w_header(w, hdr, strlen(hdr), err);
		free(hdr);
		if (rc == -1)
			return -1;
	}
	if (!has_date) {
		memcpy(tmp, "Date: ", 6);
		if (util_date(tmp + 6, sizeof(tmp) - 6, time(NULL)) == -1)
			return err_set(err, ERR_INTERNAL,
			    "cannot format the date");
		if (intake_w_line(w, tmp, strlen(tmp), err) == -1)
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
		if (intake_w_line(w, tmp, strlen(tmp), err) == -1)
			return -1;
	}
	return 0;
}

/* Header block complete: rewrite, collect recipients, write it. */
int
intake_hdrs_finish(struct hdrs *h, struct writer *w,
    const struct intake_opts *o, struct envelope *env, struct err *err)
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
		    intake_w_header(w, h->v[i].raw, h->v[i].len, err) == -1)
			goto done;
	if (write_added(w, o, has_from, has_date, has_msgid, err) == -1)
		goto done;
	/* the empty line; inserted when the input had none */
	if (intake_w_line(w, NULL, 0, err) == -1)
		goto done;
	rc = 0;
done:
	rlist_free(&rl);
	return rc;
}

int
intake_rcpts_verbatim(const struct intake_opts *o, struct envelope *env,
    struct err *err)
{
	struct rlist rl;
	size_t i;
	int rc = -1;

	memset(&rl, 0, sizeof(rl));
	for (i = 0; i < o->nrcpts; i++)
		rlist_add(&rl, o->rcpts[i], NULL);
	if (add_rcpts(env, &rl, err) == -1)
		goto done;
	if (env->nrcpts == 0) {
		err_set(err, ERR_USAGE, "no recipients");
		goto done;
	}
	rc = 0;
done:
	rlist_free(&rl);
	return rc;
}
