/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* smtpreply.c -- SMTP reply parsing; see smtpreply.h. Pure: no I/O. */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "advice.h"
#include "buf.h"
#include "smtpreply.h"
#include "status.h"
#include "util.h"

int
smtpreply_parse_line(const char *line, size_t len, struct smtpreply_line *out,
    struct err *err)
{
	size_t i;

	/* RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39 */
	if (len < 3 || line[0] < '2' || line[0] > '5' ||
	    line[1] < '0' || line[1] > '5' ||
	    line[2] < '0' || line[2] > '9')
		return err_set(err, ERR_PROTO, "malformed SMTP reply: "
		    "no reply code");
	out->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
	    (line[2] - '0');
	if (len == 3) {
		out->last = 1;
		out->text.p = line + 3;
		out->text.len = 0;
		return 0;
	}
	if (line[3] != ' ' && line[3] != '-')
		return err_set(err, ERR_PROTO, "malformed SMTP reply: "
		    "no space or '-' after the code");
	out->last = line[3] == ' ';
	for (i = 4; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return err_set(err, ERR_PROTO, "malformed SMTP reply: "
			    "control character 0x%02x in the text", c);
	}
	out->text.p = line + 4;
	out->text.len = len - 4;
	return 0;
}

void
smtpreply_init(struct smtpreply *r)
{
	r->code = 0;
	r->esc[0] = '\0';
	buf_init(&r->text, LIM_SMTP_REPLY, 0);
	r->nlines = 0;
	r->done = 0;
}

void
smtpreply_reset(struct smtpreply *r)
{
	r->code = 0;
	r->esc[0] = '\0';
	buf_reset(&r->text);
	r->nlines = 0;
	r->done = 0;
}

void
smtpreply_free(struct smtpreply *r)
{
	buf_free(&r->text);
	smtpreply_init(r);
}

int
smtpreply_add_line(struct smtpreply *r, const char *line, size_t len,
    struct err *err)
{
	struct smtpreply_line l;

	if (r->done) {
		smtpreply_reset(r);
		return err_set(err, ERR_PROTO, "SMTP reply line after the "
		    "last line");
	}
	if (smtpreply_parse_line(line, len, &l, err) == -1) {
		smtpreply_reset(r);
		return -1;
	}
	if (r->nlines > 0 && l.code != r->code) {
		smtpreply_reset(r);
		return err_set(err, ERR_PROTO, "malformed SMTP reply: "
		    "code %d inside a %d reply", l.code, r->code);
	}
	if (r->nlines >= LIM_SMTP_REPLY_LINES) {
		smtpreply_reset(r);
		return err_set(err, ERR_PROTO, "SMTP reply longer than %d "
		    "lines", LIM_SMTP_REPLY_LINES);
	}
	if ((r->nlines > 0 && buf_addc(&r->text, '\n') == -1) ||
	    buf_add(&r->text, l.text.p, l.text.len) == -1) {
		/* buf_add freed the buffer on failure; start clean. */
		smtpreply_free(r);
		return err_set(err, ERR_PROTO, "SMTP reply longer than %d "
		    "bytes", LIM_SMTP_REPLY);
	}
	if (r->nlines == 0) {
		r->code = l.code;
		(void)smtpreply_esc(l.text.p, l.text.len, r->esc,
		    sizeof(r->esc));
	}
	r->nlines++;
	if (l.last)
		r->done = 1;
	return 0;
}

/* 1-3 digits at p; returns how many, 0 if none or more than 3. */
static size_t
digits(const char *p, size_t len)
{
	size_t n = 0;

	while (n < len && p[n] >= '0' && p[n] <= '9')
		n++;
	return n > 3 ? 0 : n;
}

size_t
smtpreply_esc(const char *text, size_t len, char *esc, size_t escsize)
{
	size_t i = 0, n;
	int part;

	if (escsize > 0)
		esc[0] = '\0';
	/* RFC 3463 §2: class "." subject "." detail */
	if (len < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') ||
	    text[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		if ((n = digits(text + i, len - i)) == 0)
			return 0;
		i += n;
		if (part == 0) {
			if (i >= len || text[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < len && text[i] != ' ' && text[i] != '\t')
		return 0;
	if (i + 1 > escsize)
		return 0;
	memcpy(esc, text, i);
	esc[i] = '\0';
	return i;
}

void
smtpreply_oneline(const struct smtpreply *r, char *dst, size_t size)
{
	struct buf b;
	const char *t = buf_str(&r->text);
	size_t i;

	buf_init(&b, 4096, 0);
	if (buf_addf(&b, "%03d ", r->code) == -1) {
		util_sanitize(dst, size, "", 0);
		return;
	}
	for (i = 0; i < r->text.len && b.len < 4000; i++) {
		if (t[i] == '\n') {
			if (buf_adds(&b, " / ") == -1)
				break;
		} else if (buf_addc(&b, t[i]) == -1)
			break;
	}
	util_sanitize(dst, size, buf_str(&b), b.len);
	buf_free(&b);
}

void
smtpreply_text(const struct smtpreply *r, char *dst, size_t size)
{
	const char *t = buf_str(&r->text);
	size_t len = r->text.len, n;
	struct buf b;
	size_t i;

	buf_init(&b, 4096, 0);
	for (i = 0; i < len && b.len < 4000; ) {
		size_t e = i;
		char esc[16];

		while (e < len && t[e] != '\n')
			e++;
		n = smtpreply_esc(t + i, e - i, esc, sizeof(esc));
		if (n > 0 && n < e - i)
			n++;		/* the space after the code */
		if (b.len > 0 && buf_adds(&b, " ") == -1)
			break;
		if (buf_add(&b, t + i + n, e - i - n) == -1)
			break;
		i = e + 1;
	}
	util_sanitize(dst, size, buf_str(&b), b.len);
	buf_free(&b);
}

int
smtpreply_has_mech(const char *list, const char *mech)
{
	size_t n = strlen(mech);
	const char *p = list;

	if (n == 0)
		return 0;
	while (*p != '\0') {
		size_t w;

		while (*p == ' ')
			p++;
		w = strcspn(p, " ");
		if (w == n && strncasecmp(p, mech, n) == 0)
			return 1;
		p += w;
	}
	return 0;
}

static void
add_mechs(struct smtpreply_caps *c, const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		char mech[64];
		size_t s, w, k;

		while (i < len && (p[i] == ' ' || p[i] == '\t'))
			i++;
		s = i;
		while (i < len && p[i] != ' ' && p[i] != '\t')
			i++;
		w = i - s;
		if (w == 0 || w >= sizeof(mech))
			continue;
		for (k = 0; k < w; k++) {
			char ch = p[s + k];

			/* RFC 4422 sasl-mech: A-Z 0-9 - _ */
			if (ch >= 'a' && ch <= 'z')
				ch = (char)(ch - 'a' + 'A');
			if (!((ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
				break;
			mech[k] = ch;
		}
		if (k != w)
			continue;
		mech[w] = '\0';
		if (smtpreply_has_mech(c->auth, mech))
			continue;
		if (strlen(c->auth) + w + 2 > sizeof(c->auth))
			continue;
		if (c->auth[0] != '\0')
			(void)strlcat(c->auth, " ", sizeof(c->auth));
		(void)strlcat(c->auth, mech, sizeof(c->auth));
	}
}

static int
kw_is(struct span kw, const char *name)
{
	return span_ieq(kw, name);
}

void
smtpreply_caps(const struct smtpreply *r, struct smtpreply_caps *c)
{
	const char *t = buf_str(&r->text);
	size_t len = r->text.len, i = 0;
	int first = 1;

	memset(c, 0, sizeof(*c));
	while (i <= len) {
		size_t e = i, k;
		struct span kw, arg;

		while (e < len && t[e] != '\n')
			e++;
		if (first) {		/* the greeting domain line */
			first = 0;
			i = e + 1;
			continue;
		}
		k = i;
		while (k < e && t[k] != ' ' && t[k] != '\t' && t[k] != '=')
			k++;
		kw.p = t + i;
		kw.len = k - i;
		arg.p = t + k;
		arg.len = e - k;
		if (kw_is(kw, "STARTTLS"))
			c->flags |= SMTPREPLY_CAP_STARTTLS;
		else if (kw_is(kw, "PIPELINING"))
			c->flags |= SMTPREPLY_CAP_PIPELINING;
		else if (kw_is(kw, "8BITMIME"))
			c->flags |= SMTPREPLY_CAP_8BITMIME;
		else if (kw_is(kw, "SMTPUTF8"))
			c->flags |= SMTPREPLY_CAP_SMTPUTF8;
		else if (kw_is(kw, "DSN"))
			c->flags |= SMTPREPLY_CAP_DSN;
		else if (kw_is(kw, "ENHANCEDSTATUSCODES"))
			c->flags |= SMTPREPLY_CAP_ENHANCED;
		else if (kw_is(kw, "SIZE")) {
			char num[32];
			struct span a = span_trim(arg);
			long long v;
			const char *es;

			c->flags |= SMTPREPLY_CAP_SIZE;
			c->size_max = 0;
			if (a.len > 0 && a.len < sizeof(num)) {
				memcpy(num, a.p, a.len);
				num[a.len] = '\0';
				if (util_parse_ll(num, 0, (long long)1 << 62,
				    &v, &es) == 0)
					c->size_max = v;
			}
		} else if (kw_is(kw, "AUTH")) {
			/* "AUTH A B" and the obsolete "AUTH=A B" */
			if (arg.len > 0 && arg.p[0] == '=') {
				arg.p++;
				arg.len--;
			}
			c->flags |= SMTPREPLY_CAP_AUTH;
			add_mechs(c, arg.p, arg.len);
		}
		i = e + 1;
	}
}

enum advice_react
smtpreply_react(const char *oneline)
{
	const struct advice *a = advice_find(oneline);

	return a != NULL ? a->react : ADV_INFO;
}

enum err_class
smtpreply_class(int code, const char *oneline)
{
	if (code < 400)
		return ERR_PROTO;
	switch (smtpreply_react(oneline)) {
	case ADV_AUTH:
	case ADV_HOLD:
		return ERR_AUTH;
	case ADV_THROTTLE:
	case ADV_LIMIT:
	case ADV_RECONNECT:
	case ADV_TEMP:
		return ERR_TEMP;
	case ADV_INFO:
	default:
		break;
	}
	return code < 500 ? ERR_TEMP : ERR_PERM;
}
