/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * envelope.c -- the envelope of one queued message and its versioned
 * "key: value" text form. The format is documented in envelope.h.
 *
 * Layer 1: no I/O, no logging. Loading is strict about what it
 * understands (every line, every escape, every number is checked) and
 * lenient only about keys it does not know, so that a later version can
 * add keys without breaking an older runner.
 */
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "envelope.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

#define KEY_MAX		32

enum env_key {
	K_VERSION, K_ID, K_ACCOUNT, K_SENDER, K_CREATED, K_ATTEMPTS,
	K_NEXT_TRY, K_STATE, K_LAST_ERROR, K_SIZE, K_BODY8BIT, K_SMTPUTF8,
	K_DSN_NOTIFY, K_DSN_RET, K_ENVID, K_BOUNCE, K_RCPT, K_PROGRESS,
	K_UNKNOWN
};

static const struct {
	const char	*name;
	enum env_key	 key;
	int		 required;
} keytab[] = {
	{ "version",	K_VERSION,	1 },
	{ "id",		K_ID,		1 },
	{ "account",	K_ACCOUNT,	1 },
	{ "sender",	K_SENDER,	1 },
	{ "created",	K_CREATED,	1 },
	{ "attempts",	K_ATTEMPTS,	1 },
	{ "next-try",	K_NEXT_TRY,	1 },
	{ "state",	K_STATE,	1 },
	{ "last-error",	K_LAST_ERROR,	0 },
	{ "size",	K_SIZE,		1 },
	{ "body8bit",	K_BODY8BIT,	0 },
	{ "smtputf8",	K_SMTPUTF8,	0 },
	{ "dsn-notify",	K_DSN_NOTIFY,	0 },
	{ "dsn-ret",	K_DSN_RET,	0 },
	{ "envid",	K_ENVID,	0 },
	{ "bounce",	K_BOUNCE,	0 },
	{ "rcpt",	K_RCPT,		1 },
	{ "progress",	K_PROGRESS,	0 },
};

static const char *rcpt_states[] = {
	[RCPT_PENDING] = "pending",
	[RCPT_SENT] = "sent",
	[RCPT_DEFERRED] = "deferred",
	[RCPT_FAILED] = "failed",
};

/* The progress line's byte for each state ('b' is a reported failure). */
static const char progress_bytes[] = {
	[RCPT_PENDING] = 'p',
	[RCPT_SENT] = 's',
	[RCPT_DEFERRED] = 'd',
	[RCPT_FAILED] = 'f',
};

static const char *env_states[] = {
	[ENV_QUEUED] = "queued",
	[ENV_HELD] = "held",
	[ENV_FAILED] = "failed",
	[ENV_SENT] = "sent",
};

static int	put_quoted(struct buf *, const char *, int, int);
static int	get_quoted(const char **, const char *, int, int, char **);
static int	is_ctl(unsigned char);
static int	parse_line(struct envelope *, const char *, size_t,
		    unsigned int *, size_t, struct err *);
static int	parse_value(struct envelope *, enum env_key, const char *,
		    const char *, struct err *);
static int	parse_rcpt(struct envelope *, const char *, const char *,
		    struct err *);
static int	parse_num(const char *, const char *, long long, long long,
		    long long *);
static int	parse_str(const char *, const char *, int, int, char **);
static int	check_dups(const struct envelope *);

void
envelope_init(struct envelope *env)
{
	memset(env, 0, sizeof(*env));
	env->version = ENVELOPE_VERSION;
	env->state = ENV_QUEUED;
}

void
envelope_free(struct envelope *env)
{
	size_t i;

	for (i = 0; i < env->nrcpts; i++) {
		free(env->rcpts[i].addr);
		free(env->rcpts[i].orig);
		free(env->rcpts[i].reply);
	}
	free(env->rcpts);
	free(env->account);
	free(env->sender);
	free(env->last_error);
	free(env->dsn_notify);
	free(env->dsn_ret);
	free(env->envid);
	envelope_init(env);
}

static int
rcpt_append(struct envelope *env, const char *addr, const char *orig)
{
	struct rcpt *r;

	if (env->nrcpts >= LIM_RCPTS) {
		errno = E2BIG;
		return -1;
	}
	/* Grow by doubling so that loading many recipients stays linear. */
	if ((env->nrcpts & (env->nrcpts - 1)) == 0)
		env->rcpts = xreallocarray(env->rcpts,
		    env->nrcpts ? env->nrcpts * 2 : 1, sizeof(*env->rcpts));
	r = &env->rcpts[env->nrcpts++];
	memset(r, 0, sizeof(*r));
	r->addr = xstrdup(addr);
	r->orig = orig != NULL ? xstrdup(orig) : NULL;
	r->state = RCPT_PENDING;
	return 0;
}

int
envelope_add_rcpt(struct envelope *env, const char *addr, const char *orig)
{
	size_t i;

	for (i = 0; i < env->nrcpts; i++)
		if (strcasecmp(env->rcpts[i].addr, addr) == 0)
			return 1;
	return rcpt_append(env, addr, orig);
}

size_t
envelope_rcpts_open(const struct envelope *env)
{
	size_t i, n = 0;

	for (i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].state == RCPT_PENDING ||
		    env->rcpts[i].state == RCPT_DEFERRED)
			n++;
	return n;
}

const char *
envelope_rcpt_state_str(enum rcpt_state s)
{
	if ((size_t)s >= nitems(rcpt_states))
		return "unknown";
	return rcpt_states[s];
}

const char *
envelope_state_str(enum env_state s)
{
	if ((size_t)s >= nitems(env_states))
		return "unknown";
	return env_states[s];
}

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * Writes s between open and close, escaping '\\' and close with a
 * backslash. -1 (errno EINVAL) on a control character, or the buffer's
 * -1 on overflow.
 */
static int
put_quoted(struct buf *b, const char *s, int open, int close)
{
	const char *p;

	if (buf_addc(b, open) == -1)
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (is_ctl((unsigned char)*p)) {
			errno = EINVAL;
			return -1;
		}
		if ((*p == '\\' || *p == close) && buf_addc(b, '\\') == -1)
			return -1;
		if (buf_addc(b, *p) == -1)
			return -1;
	}
	return buf_addc(b, close);
}

/*
 * Reads a quoted value starting at *pp (which must point at open) up to
 * the matching unescaped close; on success *pp points past close and
 * *out is an xmalloc'd copy with escapes removed.
 */
static int
get_quoted(const char **pp, const char *end, int open, int close,
    char **out)
{
	const char *p = *pp;
	char *s, *d;

	if (p >= end || *p != open)
		return -1;
	p++;
	s = d = xmalloc((size_t)(end - p) + 1);
	for (; p < end; p++) {
		if (*p == close)
			break;
		if (*p == '\\') {
			if (p + 1 >= end || (p[1] != '\\' && p[1] != close))
				goto bad;
			p++;
		}
		*d++ = *p;
	}
	if (p >= end)
		goto bad;
	*d = '\0';
	*pp = p + 1;
	*out = s;
	return 0;
bad:
	free(s);
	return -1;
}

int
envelope_dump(const struct envelope *env, struct buf *out, struct err *err)
{
	const struct rcpt *r;
	size_t i;
	int rc = 0;

	if (env->nrcpts == 0)
		return err_set(err, ERR_DATA, "envelope %s: no recipients",
		    env->id);
	if (env->account == NULL || env->sender == NULL)
		return err_set(err, ERR_DATA,
		    "envelope %s: no account or sender", env->id);
	rc |= buf_addf(out, "version: %d\nid: %s\naccount: ",
	    ENVELOPE_VERSION, env->id);
	rc |= put_quoted(out, env->account, '"', '"');
	rc |= buf_adds(out, "\nsender: ");
	rc |= put_quoted(out, env->sender, '<', '>');
	rc |= buf_addf(out, "\ncreated: %lld\nattempts: %d\nnext-try: %lld\n"
	    "state: %s\n", (long long)env->created, env->attempts,
	    (long long)env->next_try, envelope_state_str(env->state));
	if (rc == 0 && env->last_error != NULL) {
		rc |= buf_adds(out, "last-error: ");
		rc |= put_quoted(out, env->last_error, '"', '"');
		rc |= buf_addc(out, '\n');
	}
	rc |= buf_addf(out, "size: %lld\nbody8bit: %d\nsmtputf8: %d\n",
	    (long long)env->size, env->body8bit ? 1 : 0,
	    env->smtputf8 ? 1 : 0);
	if (rc == 0 && env->dsn_notify != NULL) {
		rc |= buf_adds(out, "dsn-notify: ");
		rc |= put_quoted(out, env->dsn_notify, '"', '"');
		rc |= buf_addc(out, '\n');
	}
	if (rc == 0 && env->dsn_ret != NULL) {
		rc |= buf_adds(out, "dsn-ret: ");
		rc |= put_quoted(out, env->dsn_ret, '"', '"');
		rc |= buf_addc(out, '\n');
	}
	if (rc == 0 && env->envid != NULL) {
		rc |= buf_adds(out, "envid: ");
		rc |= put_quoted(out, env->envid, '"', '"');
		rc |= buf_addc(out, '\n');
	}
	rc |= buf_addf(out, "bounce: %d\n", env->is_bounce ? 1 : 0);
	for (i = 0; rc == 0 && i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		rc |= buf_addf(out, "rcpt: %s ", envelope_rcpt_state_str(
		    r->state));
		rc |= put_quoted(out, r->addr, '<', '>');
		if (rc == 0 && r->orig != NULL) {
			rc |= buf_adds(out, " orig=");
			rc |= put_quoted(out, r->orig, '<', '>');
		}
		if (rc == 0 && r->reply != NULL) {
			rc |= buf_adds(out, " reply=");
			rc |= put_quoted(out, r->reply, '"', '"');
		}
		rc |= buf_addc(out, '\n');
	}
	if (rc == 0)
		rc |= envelope_dump_progress(env, out);
	if (rc != 0) {
		if (errno == EINVAL)
			return err_set(err, ERR_DATA, "envelope %s: a value "
			    "contains a control character", env->id);
		return err_set(err, ERR_OS, "envelope %s: too large",
		    env->id);
	}
	return 0;
}

int
envelope_dump_progress(const struct envelope *env, struct buf *out)
{
	const struct rcpt *r;
	size_t i;
	int rc;

	rc = buf_adds(out, "progress: ");
	for (i = 0; rc == 0 && i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		if ((size_t)r->state >= nitems(progress_bytes)) {
			errno = EINVAL;
			return -1;
		}
		rc = buf_addc(out, r->state == RCPT_FAILED && r->reported ?
		    'b' : progress_bytes[r->state]);
	}
	return rc == 0 ? buf_addc(out, '\n') : -1;
}

static int
parse_num(const char *p, const char *end, long long min, long long max,
    long long *v)
{
	char tmp[32];
	const char *errstr;
	size_t n = (size_t)(end - p);

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	/* Plain decimal digits only: no sign, no spaces. */
	if (tmp[0] == '-' ? min >= 0 : (tmp[0] < '0' || tmp[0] > '9'))
		return -1;
	return util_parse_ll(tmp, min, max, v, &errstr);
}

/* The whole value is one quoted string. */
static int
parse_str(const char *p, const char *end, int open, int close, char **out)
{
	char *s;

	if (get_quoted(&p, end, open, close, &s) == -1)
		return -1;
	if (p != end) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

static int
parse_bool(const char *p, const char *end, int *out)
{
	if (end - p != 1 || (*p != '0' && *p != '1'))
		return -1;
	*out = *p == '1';
	return 0;
}

static int
parse_rcpt(struct envelope *env, const char *p, const char *end,
    struct err *err)
{
	const char *sp, *name;
	char *addr = NULL, *val;
	struct rcpt *r;
	size_t i, nlen;
	int state = -1;

	if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL)
		return -1;
	for (i = 0; i < nitems(rcpt_states); i++)
		if ((size_t)(sp - p) == strlen(rcpt_states[i]) &&
		    memcmp(p, rcpt_states[i], (size_t)(sp - p)) == 0)
			state = (int)i;
	if (state == -1)
		return -1;
	p = sp + 1;
	if (get_quoted(&p, end, '<', '>', &addr) == -1)
		return -1;
	if (addr[0] == '\0') {
		free(addr);
		return -1;
	}
	if (rcpt_append(env, addr, NULL) == -1) {
		free(addr);
		return err_set(err, ERR_DATA, "more than %d recipients",
		    LIM_RCPTS);
	}
	free(addr);
	r = &env->rcpts[env->nrcpts - 1];
	r->state = (enum rcpt_state)state;
	while (p < end) {
		if (*p++ != ' ')
			return -1;
		name = p;
		while (p < end && ((*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-'))
			p++;
		if (p >= end || *p != '=')
			return -1;
		if (p >= end || p == name)
			return -1;
		nlen = (size_t)(p - name);
		p++;
		if (p < end && *p == '<') {
			if (get_quoted(&p, end, '<', '>', &val) == -1)
				return -1;
			if (nlen == 4 && memcmp(name, "orig", 4) == 0 &&
			    r->orig == NULL) {
				r->orig = val;
				continue;
			}
		} else {
			if (get_quoted(&p, end, '"', '"', &val) == -1)
				return -1;
			if (nlen == 5 && memcmp(name, "reply", 5) == 0 &&
			    r->reply == NULL) {
				r->reply = val;
				continue;
			}
		}
		free(val);
		/* A repeated known attribute is as bad as a repeated key. */
		if ((nlen == 4 && memcmp(name, "orig", 4) == 0) ||
		    (nlen == 5 && memcmp(name, "reply", 5) == 0))
			return -1;
	}
	return 0;
}

/*
 * One byte per recipient already read; each overrides its state. A reply
 * kept with another state belongs to an earlier attempt (the envelope
 * could not be rewritten after this one): it is dropped.
 */
static int
parse_progress(struct envelope *env, const char *p, const char *end,
    struct err *err)
{
	struct rcpt *r;
	const char *c;
	enum rcpt_state st;
	size_t i;

	if ((size_t)(end - p) != env->nrcpts)
		return err_set(err, ERR_DATA, "%zu progress bytes for %zu "
		    "recipients", (size_t)(end - p), env->nrcpts);
	for (i = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		if (p[i] == 'b')
			st = RCPT_FAILED;
		else if ((c = memchr(progress_bytes, p[i],
		    sizeof(progress_bytes))) != NULL && p[i] != '\0')
			st = (enum rcpt_state)(c - progress_bytes);
		else
			return -1;
		if (st != r->state) {
			free(r->reply);
			r->reply = NULL;
		}
		r->state = st;
		r->reported = p[i] == 'b';
	}
	return 0;
}

static int
parse_value(struct envelope *env, enum env_key key, const char *p,
    const char *end, struct err *err)
{
	long long v;
	size_t i;

	switch (key) {
	case K_VERSION:
		if (parse_num(p, end, 0, INT_MAX, &v) == -1)
			return -1;
		if (v != ENVELOPE_VERSION)
			return err_set(err, ERR_DATA,
			    "unsupported envelope version %lld", v);
		env->version = (int)v;
		return 0;
	case K_ID:
		if (end - p != QUEUE_ID_LEN)
			return -1;
		for (i = 0; i < QUEUE_ID_LEN; i++)
			if (strchr("0123456789abcdef", p[i]) == NULL ||
			    p[i] == '\0')
				return -1;
		memcpy(env->id, p, QUEUE_ID_LEN);
		env->id[QUEUE_ID_LEN] = '\0';
		return 0;
	case K_ACCOUNT:
		if (parse_str(p, end, '"', '"', &env->account) == -1)
			return -1;
		return env->account[0] == '\0' ? -1 : 0;
	case K_SENDER:
		return parse_str(p, end, '<', '>', &env->sender);
	case K_CREATED:
		if (parse_num(p, end, 0, LLONG_MAX, &v) == -1)
			return -1;
		env->created = (time_t)v;
		return 0;
	case K_ATTEMPTS:
		if (parse_num(p, end, 0, INT_MAX, &v) == -1)
			return -1;
		env->attempts = (int)v;
		return 0;
	case K_NEXT_TRY:
		if (parse_num(p, end, 0, LLONG_MAX, &v) == -1)
			return -1;
		env->next_try = (time_t)v;
		return 0;
	case K_STATE:
		for (i = 0; i < nitems(env_states); i++)
			if ((size_t)(end - p) == strlen(env_states[i]) &&
			    memcmp(p, env_states[i], (size_t)(end - p)) == 0) {
				env->state = (enum env_state)i;
				return 0;
			}
		return -1;
	case K_LAST_ERROR:
		return parse_str(p, end, '"', '"', &env->last_error);
	case K_SIZE:
		if (parse_num(p, end, 0, LLONG_MAX, &v) == -1)
			return -1;
		env->size = (off_t)v;
		return 0;
	case K_BODY8BIT:
		return parse_bool(p, end, &env->body8bit);
	case K_SMTPUTF8:
		return parse_bool(p, end, &env->smtputf8);
	case K_DSN_NOTIFY:
		return parse_str(p, end, '"', '"', &env->dsn_notify);
	case K_DSN_RET:
		return parse_str(p, end, '"', '"', &env->dsn_ret);
	case K_ENVID:
		return parse_str(p, end, '"', '"', &env->envid);
	case K_BOUNCE:
		return parse_bool(p, end, &env->is_bounce);
	case K_RCPT:
		return parse_rcpt(env, p, end, err);
	case K_PROGRESS:
		return parse_progress(env, p, end, err);
	case K_UNKNOWN:
		return 0;
	}
	return -1;
}

/*
 * One line without its LF. seen is a bitmask of keys already present;
 * lineno counts from 1.
 */
static int
parse_line(struct envelope *env, const char *line, size_t len,
    unsigned int *seen, size_t lineno, struct err *err)
{
	const char *end = line + len, *colon, *p;
	enum env_key key = K_UNKNOWN;
	size_t i, klen;

	if ((colon = memchr(line, ':', len)) == NULL)
		goto bad;
	klen = (size_t)(colon - line);
	if (klen == 0 || klen > KEY_MAX || colon + 1 >= end ||
	    colon[1] != ' ')
		goto bad;
	for (p = line; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-'))
			goto bad;
	for (i = 0; i < nitems(keytab); i++)
		if (strlen(keytab[i].name) == klen &&
		    memcmp(keytab[i].name, line, klen) == 0)
			key = keytab[i].key;
	if (lineno == 1 && key != K_VERSION)
		return err_set(err, ERR_DATA,
		    "envelope: first line is not \"version: %d\"",
		    ENVELOPE_VERSION);
	if (key != K_UNKNOWN && key != K_RCPT) {
		if (*seen & (1U << key))
			return err_set(err, ERR_DATA,
			    "envelope line %zu: repeated key", lineno);
		*seen |= 1U << key;
	} else if (key == K_RCPT) {
		/* The progress line covers every recipient: none after it. */
		if (*seen & (1U << K_PROGRESS))
			goto bad;
		*seen |= 1U << key;
	}
	err_clear(err);
	if (parse_value(env, key, colon + 2, end, err) == -1) {
		if (err->class != ERR_NONE)
			return err_prefix(err, "envelope line %zu", lineno);
		goto bad;
	}
	return 0;
bad:
	return err_set(err, ERR_DATA, "envelope line %zu: malformed", lineno);
}

static int
cmp_addr(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* 1 if two recipients have the same address (case-insensitive). */
static int
check_dups(const struct envelope *env)
{
	char **v;
	size_t i;
	int dup = 0;

	if (env->nrcpts < 2)
		return 0;
	v = xreallocarray(NULL, env->nrcpts, sizeof(*v));
	for (i = 0; i < env->nrcpts; i++)
		v[i] = env->rcpts[i].addr;
	qsort(v, env->nrcpts, sizeof(*v), cmp_addr);
	for (i = 1; i < env->nrcpts && !dup; i++)
		if (strcasecmp(v[i - 1], v[i]) == 0)
			dup = 1;
	free(v);
	return dup;
}

int
envelope_load(struct envelope *env, const char *text, size_t len,
    struct err *err)
{
	const char *p = text, *end = text + len, *nl;
	unsigned int seen = 0;
	size_t i, lineno = 0;

	envelope_init(env);
	if (len > ENVELOPE_MAX)
		return err_set(err, ERR_DATA, "envelope: too large");
	if (len == 0)
		return err_set(err, ERR_DATA, "envelope: empty");
	if (text[len - 1] != '\n')
		return err_set(err, ERR_DATA,
		    "envelope: truncated (no final newline)");
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		if ((size_t)(nl - p) > ENVELOPE_LINE_MAX)
			return err_set(err, ERR_DATA,
			    "envelope line %zu: too long", lineno);
		for (i = 0; p + i < nl; i++)
			if (is_ctl((unsigned char)p[i]))
				return err_set(err, ERR_DATA, "envelope line "
				    "%zu: control character", lineno);
		if (parse_line(env, p, (size_t)(nl - p), &seen, lineno,
		    err) == -1)
			return -1;
		p = nl + 1;
	}
	for (i = 0; i < nitems(keytab); i++)
		if (keytab[i].required && !(seen & (1U << keytab[i].key)))
			return err_set(err, ERR_DATA,
			    "envelope: missing \"%s\"", keytab[i].name);
	if (check_dups(env))
		return err_set(err, ERR_DATA, "envelope: duplicate recipient");
	return 0;
}
