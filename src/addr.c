/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * addr.c -- RFC 5322 §3.4 address lists and RFC 5321 envelope addresses;
 * see addr.h.
 *
 * Two passes: a tokenizer turns the value into atoms, quoted strings,
 * domain literals, comments and specials (white space and folding only set
 * a flag on the next token), then a loop parses address (mailbox or group)
 * after address over the tokens. Neither pass recurses; comment nesting is
 * counted and capped.
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "buf.h"
#include "util.h"
#include "xmalloc.h"

enum tok_type {
	T_ATOM,
	T_QSTR,
	T_DLIT,
	T_SPECIAL,
	T_COMMENT
};

struct tok {
	enum tok_type	 type;
	int		 c;	/* T_SPECIAL: the character */
	size_t		 off;	/* raw text, quotes and parens included */
	size_t		 len;
	int		 ws;	/* white space or a comment before it */
};

struct parser {
	const char	*s;
	size_t		 slen;
	struct tok	*t;
	size_t		 n;
	size_t		 i;	/* next token */
	struct addr_list *out;
	struct err	*err;
};

static int	 tokenize(struct parser *);
static size_t	 next_sig(const struct parser *, size_t);
static int	 is_sp(const struct parser *, size_t, int);
static int	 fail(struct parser *, size_t, const char *);
static int	 parse_group(struct parser *, size_t);
static int	 parse_mailbox(struct parser *, int);
static int	 parse_addrspec(struct parser *, size_t *, struct buf *,
		    int *);
static char	*phrase_text(const struct parser *, size_t, size_t);
static char	*comment_text(const struct parser *, const struct tok *);
static void	 add_unquoted(struct buf *, const char *, size_t);
static int	 is_atext(int);
static int	 is_dot_atom(const char *, size_t);
static int	 utf8_valid(const char *, size_t);
static int	 check_domain(const char *, struct err *, const char *);

/* atext (RFC 5322 §3.2.3) plus any byte >= 0x80 (RFC 6532 UTF-8). */
static int
is_atext(int c)
{
	if (c >= 0x80)
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
is_dot_atom(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return 0;
		} else if (!is_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static int
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, need;
	unsigned int cp, min;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if ((p[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if ((p[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (len - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

static int
tokenize(struct parser *p)
{
	const char *s = p->s;
	size_t len = p->slen, i = 0, cap = 0, start;
	int ws = 0, depth;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		struct tok tk;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			ws = 1;
			i++;
			continue;
		}
		memset(&tk, 0, sizeof(tk));
		start = i;
		tk.off = i;
		tk.ws = ws;
		if (c == '(') {
			tk.type = T_COMMENT;
			for (depth = 0; i < len; i++) {
				if (s[i] == '\\' && i + 1 < len)
					i++;
				else if (s[i] == '(' &&
				    ++depth > ADDR_MAX_NESTING)
					return fail(p, start,
					    "comments nested too deeply");
				else if (s[i] == ')' && --depth == 0)
					break;
			}
			if (i >= len)
				return fail(p, start, "unterminated comment");
			i++;
		} else if (c == '"') {
			tk.type = T_QSTR;
			for (i++; i < len && s[i] != '"'; i++)
				if (s[i] == '\\' && i + 1 < len)
					i++;
			if (i >= len)
				return fail(p, start,
				    "unterminated quoted string");
			i++;
		} else if (c == '[') {
			tk.type = T_DLIT;
			for (i++; i < len && s[i] != ']'; i++) {
				if (s[i] == '[')
					return fail(p, start,
					    "'[' inside a domain literal");
				if (s[i] == '\\' && i + 1 < len)
					i++;
			}
			if (i >= len)
				return fail(p, start,
				    "unterminated domain literal");
			i++;
		} else if (strchr("<>@,;:.", c) != NULL) {
			tk.type = T_SPECIAL;
			tk.c = c;
			i++;
		} else if (is_atext(c)) {
			tk.type = T_ATOM;
			while (i < len && is_atext((unsigned char)s[i]))
				i++;
		} else
			return fail(p, start, "unexpected character");
		tk.len = i - start;
		if (p->n == cap) {
			cap = cap ? cap * 2 : 16;
			p->t = xreallocarray(p->t, cap, sizeof(*p->t));
		}
		p->t[p->n++] = tk;
		/* a comment counts as white space for what follows */
		ws = tk.type == T_COMMENT;
	}
	return 0;
}

/* The index of the first token at or after i that is not a comment. */
static size_t
next_sig(const struct parser *p, size_t i)
{
	while (i < p->n && p->t[i].type == T_COMMENT)
		i++;
	return i;
}

static int
is_sp(const struct parser *p, size_t i, int c)
{
	return i < p->n && p->t[i].type == T_SPECIAL && p->t[i].c == c;
}

/* ERR_ADDR naming the input from byte off to the next ',' (bounded). */
static int
fail(struct parser *p, size_t off, const char *why)
{
	size_t end = off;

	while (end < p->slen && end - off < 100 && p->s[end] != ',' &&
	    p->s[end] != '\r' && p->s[end] != '\n')
		end++;
	return err_set(p->err, ERR_ADDR, "invalid address '%.*s': %s",
	    (int)(end - off), p->s + off, why);
}

/* Appends the content of a quoted string or comment, quoted-pairs undone. */
static void
add_unquoted(struct buf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;	/* folding inside the string */
		if (s[i] == '\\' && i + 1 < len)
			i++;
		(void)buf_addc(b, (unsigned char)s[i]);
	}
}

/* The display name from phrase tokens [from, to). */
static char *
phrase_text(const struct parser *p, size_t from, size_t to)
{
	struct buf b;
	size_t i;
	int first = 1;

	buf_init(&b, LIM_HDR_VALUE, 0);
	for (i = from; i < to; i++) {
		const struct tok *t = &p->t[i];

		if (t->type == T_COMMENT)
			continue;
		if (!first && t->ws)
			(void)buf_addc(&b, ' ');
		first = 0;
		if (t->type == T_QSTR)
			add_unquoted(&b, p->s + t->off + 1, t->len - 2);
		else
			(void)buf_add(&b, p->s + t->off, t->len);
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static char *
comment_text(const struct parser *p, const struct tok *t)
{
	struct buf b;
	struct span sp;
	char *r;

	buf_init(&b, LIM_HDR_VALUE, 0);
	add_unquoted(&b, p->s + t->off + 1, t->len - 2);
	sp = span_trim(span_from(buf_str(&b)));
	r = sp.len ? span_dup(sp) : NULL;
	buf_free(&b);
	return r;
}

/*
 * local-part ["@" domain] starting at significant token *ip; the spec is
 * appended to out, normalised. *flags gets ADDR_NODOMAIN.
 */
static int
parse_addrspec(struct parser *p, size_t *ip, struct buf *out, int *flags)
{
	struct buf local;
	size_t i = *ip, start = p->t[i].off;
	int want_word = 1;

	/* outputs are never longer than the input plus quotes */
	buf_init(&local, 2 * LIM_HDR_VALUE, 0);
	for (;; i = next_sig(p, i + 1)) {
		const struct tok *t = i < p->n ? &p->t[i] : NULL;

		if (want_word && t != NULL && t->type == T_ATOM)
			(void)buf_add(&local, p->s + t->off, t->len);
		else if (want_word && t != NULL && t->type == T_QSTR)
			add_unquoted(&local, p->s + t->off + 1, t->len - 2);
		else if (!want_word && is_sp(p, i, '.'))
			(void)buf_addc(&local, '.');
		else
			break;
		want_word = !want_word;
	}
	if (want_word) {
		buf_free(&local);
		return fail(p, start, "missing or malformed local part");
	}
	if (is_dot_atom(buf_str(&local), local.len))
		(void)buf_add(out, buf_str(&local), local.len);
	else {
		/* re-quote minimally: only '"' and '\' need a quoted-pair */
		size_t k;

		(void)buf_addc(out, '"');
		for (k = 0; k < local.len; k++) {
			if (local.data[k] == '"' || local.data[k] == '\\')
				(void)buf_addc(out, '\\');
			(void)buf_addc(out, (unsigned char)local.data[k]);
		}
		(void)buf_addc(out, '"');
	}
	buf_free(&local);
	if (!is_sp(p, i, '@')) {
		*flags |= ADDR_NODOMAIN;
		*ip = i;
		return 0;
	}
	(void)buf_addc(out, '@');
	i = next_sig(p, i + 1);
	if (i < p->n && p->t[i].type == T_DLIT) {
		/* domain literal: as written, folding white space dropped */
		size_t k;

		for (k = 0; k < p->t[i].len; k++) {
			char c = p->s[p->t[i].off + k];

			if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
				(void)buf_addc(out, (unsigned char)c);
		}
		*ip = next_sig(p, i + 1);
		return 0;
	}
	for (want_word = 1;; i = next_sig(p, i + 1)) {
		if (want_word && i < p->n && p->t[i].type == T_ATOM)
			(void)buf_add(out, p->s + p->t[i].off, p->t[i].len);
		else if (!want_word && is_sp(p, i, '.'))
			(void)buf_addc(out, '.');
		else
			break;
		want_word = !want_word;
	}
	if (want_word)
		return fail(p, start, "missing or malformed domain");
	*ip = i;
	return 0;
}

/* A mailbox; p->i is the first token after the previous separator. */
static int
parse_mailbox(struct parser *p, int ingroup)
{
	struct addr a;
	struct buf spec;
	size_t mstart = p->i, j, k, last, end;
	char *cname = NULL;

	memset(&a, 0, sizeof(a));
	a.flags = ingroup ? ADDR_INGROUP : 0;
	buf_init(&spec, 2 * LIM_HDR_VALUE, 0);
	j = next_sig(p, p->i);
	/* name-addr if a '<' comes before the end of this element */
	for (k = j; k < p->n; k = next_sig(p, k + 1))
		if (is_sp(p, k, '<') || is_sp(p, k, ',') || is_sp(p, k, ';'))
			break;
	if (is_sp(p, k, '<')) {
		for (j = next_sig(p, j); j < k; j = next_sig(p, j + 1))
			/* '.' (obs-phrase) and '@' ("a@b <a@b>") tolerated */
			if (p->t[j].type == T_SPECIAL && p->t[j].c != '.' &&
			    p->t[j].c != '@')
				return fail(p, p->t[mstart].off,
				    "unexpected character in display name");
		a.name = phrase_text(p, mstart, k);
		j = next_sig(p, k + 1);
		if (is_sp(p, j, '>')) {
			a.flags |= ADDR_NULL;
		} else {
			if (is_sp(p, j, '@')) {
				/* obs-route "@a,@b:" is dropped (§4.4) */
				while (j < p->n && !is_sp(p, j, ':') &&
				    !is_sp(p, j, '>'))
					j = next_sig(p, j + 1);
				if (!is_sp(p, j, ':'))
					goto bad;
				j = next_sig(p, j + 1);
			}
			if (j >= p->n || parse_addrspec(p, &j, &spec,
			    &a.flags) == -1)
				goto bad;
			if (!is_sp(p, j, '>'))
				goto bad;
		}
		last = j;
		j = next_sig(p, j + 1);
	} else {
		if (parse_addrspec(p, &j, &spec, &a.flags) == -1)
			goto bad;
		last = j;	/* first token after the addr-spec */
		if (last > 0)
			last--;
	}
	/* trailing comments belong to this mailbox */
	while (last + 1 < p->n && p->t[last + 1].type == T_COMMENT) {
		last++;
		if (a.name == NULL) {
			free(cname);
			cname = comment_text(p, &p->t[last]);
		}
	}
	/* comments inside a bare addr-spec ("root (Cron Daemon)") */
	if (a.name == NULL && cname == NULL)
		for (k = mstart; k <= last && k < p->n; k++)
			if (p->t[k].type == T_COMMENT) {
				free(cname);
				cname = comment_text(p, &p->t[k]);
			}
	if (a.name == NULL)
		a.name = cname;
	else
		free(cname);
	cname = NULL;
	if (j < p->n && !is_sp(p, j, ',') && !is_sp(p, j, ';')) {
		fail(p, p->t[mstart].off, "unexpected text after address");
		goto fail;
	}
	if (spec.len > LIM_ADDR) {
		fail(p, p->t[mstart].off, "address too long");
		goto fail;
	}
	if (p->out->n >= LIM_RCPTS) {
		err_set(p->err, ERR_ADDR, "more than %d addresses",
		    LIM_RCPTS);
		goto fail;
	}
	a.off = p->t[mstart].off;
	end = p->t[last].off + p->t[last].len;
	a.len = end - a.off;
	a.spec = buf_detach(&spec, NULL);
	if (!util_is_ascii(a.spec, strlen(a.spec)))
		a.flags |= ADDR_UTF8;
	p->out->v = xreallocarray(p->out->v, p->out->n + 1,
	    sizeof(*p->out->v));
	p->out->v[p->out->n++] = a;
	p->i = j;
	return 0;
bad:
	if (p->err->class == ERR_NONE)
		fail(p, p->t[mstart].off, "malformed address");
fail:
	free(cname);
	free(a.name);
	buf_free(&spec);
	return -1;
}

/* display-name ":" [mailbox-list] ";" -- the colon is token colon. */
static int
parse_group(struct parser *p, size_t colon)
{
	size_t j;

	for (j = next_sig(p, p->i); j < colon; j = next_sig(p, j + 1))
		if (p->t[j].type == T_SPECIAL && p->t[j].c != '.')
			return fail(p, p->t[p->i].off, "malformed group name");
	p->i = colon + 1;
	for (;;) {
		j = next_sig(p, p->i);
		if (j >= p->n)
			return 0;	/* tolerate a missing ';' */
		if (is_sp(p, j, ';')) {
			p->i = j + 1;
			return 0;
		}
		if (is_sp(p, j, ',')) {
			p->i = j + 1;
			continue;
		}
		if (parse_mailbox(p, 1) == -1)
			return -1;
		j = next_sig(p, p->i);
		if (is_sp(p, j, ','))
			p->i = j + 1;
	}
}

int
addr_parse_list(const char *s, size_t len, struct addr_list *out,
    struct err *err)
{
	struct parser p;
	size_t j, k;
	int rc = 0;

	out->v = NULL;
	out->n = 0;
	err_clear(err);
	if (len > LIM_HDR_VALUE)
		return err_set(err, ERR_ADDR, "address list longer than %d "
		    "bytes", LIM_HDR_VALUE);
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.slen = len;
	p.out = out;
	p.err = err;
	if (tokenize(&p) == -1) {
		rc = -1;
		goto done;
	}
	while ((j = next_sig(&p, p.i)) < p.n) {
		if (is_sp(&p, j, ',')) {	/* empty element (obs) */
			p.i = j + 1;
			continue;
		}
		for (k = j; k < p.n; k = next_sig(&p, k + 1))
			if (p.t[k].type == T_SPECIAL &&
			    strchr("<:,;@", p.t[k].c) != NULL)
				break;
		if (is_sp(&p, k, ':'))
			rc = parse_group(&p, k);
		else
			rc = parse_mailbox(&p, 0);
		if (rc == -1)
			break;
		j = next_sig(&p, p.i);
		if (j >= p.n)
			break;
		if (!is_sp(&p, j, ',')) {
			rc = fail(&p, p.t[j].off, "expected ','");
			break;
		}
		p.i = j + 1;
	}
done:
	free(p.t);
	if (rc == -1)
		addr_list_free(out);
	return rc;
}

void
addr_clear(struct addr *a)
{
	free(a->spec);
	free(a->name);
	memset(a, 0, sizeof(*a));
}

void
addr_list_free(struct addr_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		addr_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* RFC 5321 §4.1.2 Domain / address-literal, name is the whole address. */
static int
check_domain(const char *d, struct err *err, const char *name)
{
	size_t len = strlen(d), i, lab = 0;
	char tmp[ADDR_DOMAIN_MAX + 1];
	unsigned char a6[16];

	if (len == 0)
		return err_set(err, ERR_ADDR, "invalid address '%s': empty "
		    "domain", name);
	if (len > ADDR_DOMAIN_MAX)
		return err_set(err, ERR_ADDR, "invalid address '%s': domain "
		    "longer than %d octets", name, ADDR_DOMAIN_MAX);
	if (d[0] == '[') {
		if (len < 3 || d[len - 1] != ']')
			goto badlit;
		memcpy(tmp, d + 1, len - 2);
		tmp[len - 2] = '\0';
		if (strncasecmp(tmp, "IPv6:", 5) == 0) {
			if (inet_pton(AF_INET6, tmp + 5, a6) != 1)
				goto badlit;
		} else if (strspn(tmp, "0123456789.") == strlen(tmp)) {
			if (inet_pton(AF_INET, tmp, a6) != 1)
				goto badlit;
		} else if (strchr(tmp, ':') == NULL)
			goto badlit;
		return 0;
	}
	for (i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.' || c == '\0') {
			if (lab == 0 || lab > 63 || d[i - 1] == '-')
				return err_set(err, ERR_ADDR, "invalid address "
				    "'%s': malformed domain", name);
			lab = 0;
			continue;
		}
		if (c == '-' && lab == 0)
			return err_set(err, ERR_ADDR, "invalid address '%s': "
			    "malformed domain", name);
		if (!(c >= 0x80 || c == '-' || (c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return err_set(err, ERR_ADDR, "invalid address '%s': "
			    "invalid character in domain", name);
		lab++;
	}
	return 0;
badlit:
	return err_set(err, ERR_ADDR, "invalid address '%s': malformed "
	    "address literal", name);
}

int
addr_parse_one(const char *s, struct addr *out, struct err *err)
{
	struct addr_list l;
	struct span sp;
	const char *spec, *at;
	size_t slen = strlen(s), i;

	memset(out, 0, sizeof(*out));
	err_clear(err);
	if (slen > LIM_ADDR)
		return err_set(err, ERR_ADDR, "invalid address '%.60s...': "
		    "longer than %d bytes", s, LIM_ADDR);
	sp = span_trim(span_from(s));
	if (sp.len == 0 || span_eq(sp, "<>")) {
		out->spec = xstrdup("");
		out->flags = ADDR_NULL;
		return 0;
	}
	if (addr_parse_list(s, slen, &l, err) == -1)
		return -1;
	if (l.n != 1 || (l.v[0].flags & ADDR_INGROUP)) {
		addr_list_free(&l);
		return err_set(err, ERR_ADDR, "invalid address '%s': not a "
		    "single address", s);
	}
	*out = l.v[0];
	free(l.v);
	if (out->flags & ADDR_NULL)
		return 0;
	spec = out->spec;
	if (!utf8_valid(spec, strlen(spec))) {
		err_set(err, ERR_ADDR, "invalid address '%s': invalid UTF-8",
		    s);
		goto fail;
	}
	/* the local part ends at the '@' after any quoted string */
	i = 0;
	if (spec[0] == '"')
		for (i = 1; spec[i] != '\0' && spec[i] != '"'; i++)
			if (spec[i] == '\\' && spec[i + 1] != '\0')
				i++;
	at = strchr(spec + i, '@');
	if ((at != NULL ? (size_t)(at - spec) : strlen(spec)) >
	    ADDR_LOCAL_MAX) {
		err_set(err, ERR_ADDR, "invalid address '%s': local part "
		    "longer than %d octets", spec, ADDR_LOCAL_MAX);
		goto fail;
	}
	if (at != NULL && check_domain(at + 1, err, spec) == -1)
		goto fail;
	if (!addr_smtp_ok(spec)) {
		err_set(err, ERR_ADDR, "invalid address: its quoted local "
		    "part holds a control character; remove it");
		goto fail;
	}
	return 0;
fail:
	addr_clear(out);
	return -1;
}

int
addr_smtp_ok(const char *spec)
{
	const unsigned char *p = (const unsigned char *)spec;

	if (strlen(spec) > LIM_ADDR)
		return 0;
	if (*p == '"') {
		/* qtextSMTP / quoted-pairSMTP: %d32-126, UTF-8 (RFC 6531) */
		for (p++; *p != '"'; p++) {
			if (*p == '\\')
				p++;
			if (*p < 0x20 || *p == 0x7f)	/* also the end */
				return 0;
		}
		p++;
		if (*p != '@' && *p != '\0')
			return 0;
	}
	for (; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>')
			return 0;
	return 1;
}

char *
addr_format(const char *name, const char *spec)
{
	struct buf b, enc;
	size_t i, len, chunk;
	char *n;
	int plain = 1;

	if (name == NULL || name[0] == '\0')
		return xstrdup(spec);
	len = strlen(name);
	if (len > LIM_HDR_VALUE || strlen(spec) > LIM_ADDR)
		return NULL;
	/* control characters (a folded or hostile name) become spaces */
	n = xstrdup(name);
	for (i = 0; i < len; i++)
		if ((unsigned char)n[i] < 0x20 || n[i] == 0x7f)
			n[i] = ' ';
	/* generous: quoting at most doubles, base64 adds a third */
	buf_init(&b, 4 * LIM_HDR_VALUE, 0);
	if (!util_is_ascii(n, len)) {
		/* RFC 2047 encoded words of at most 45 octets (75 chars) */
		for (i = 0; i < len; i += chunk) {
			chunk = len - i > 45 ? 45 : len - i;
			/* do not split a UTF-8 sequence */
			while (i + chunk < len && chunk > 1 &&
			    ((unsigned char)n[i + chunk] & 0xc0) == 0x80)
				chunk--;
			buf_init(&enc, LIM_HDR_VALUE, 0);
			if (util_b64_encode(&enc, n + i, chunk) == -1) {
				free(n);
				buf_free(&b);
				return NULL;
			}
			if (i > 0)
				(void)buf_addc(&b, ' ');
			(void)buf_addf(&b, "=?UTF-8?B?%s?=", buf_str(&enc));
			buf_free(&enc);
		}
	} else {
		/* a phrase of atoms separated by single spaces goes plain */
		for (i = 0; i < len; i++)
			if (n[i] == ' ' ? (i == 0 || i + 1 == len ||
			    n[i + 1] == ' ') : !is_atext((unsigned char)n[i]))
				plain = 0;
		if (plain)
			(void)buf_add(&b, n, len);
		else {
			(void)buf_addc(&b, '"');
			for (i = 0; i < len; i++) {
				if (n[i] == '"' || n[i] == '\\')
					(void)buf_addc(&b, '\\');
				(void)buf_addc(&b, (unsigned char)n[i]);
			}
			(void)buf_addc(&b, '"');
		}
	}
	free(n);
	if (buf_addf(&b, " <%s>", spec) == -1 || b.len > LIM_HDR_VALUE) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}
