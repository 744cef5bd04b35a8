/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * msmtprc_read.c -- reads an msmtprc (msmtprc.h): msmtp's rules (defaults,
 * inheritance by the keys each account set) into flat account records,
 * which msmtprc_write.c turns into oauthmail's configuration, with the
 * notes of what did not map.
 */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "msmtprc.h"
#include "msmtprc_impl.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

#define MAX_ACCOUNTS	1000

static const struct {
	const char	*name;
	enum mkey	 key;
	const char	*fixed;		/* the value of an old form */
} mkeys[] = {
	{ "host", M_HOST, NULL },
	{ "port", M_PORT, NULL },
	{ "timeout", M_TIMEOUT, NULL },
	{ "connect_timeout", M_TIMEOUT, NULL },
	{ "protocol", M_PROTOCOL, NULL },
	{ "domain", M_DOMAIN, NULL },
	{ "auth", M_AUTH, NULL },
	{ "user", M_USER, NULL },
	{ "password", M_PASSWORD, NULL },
	{ "passwordeval", M_PASSWORDEVAL, NULL },
	{ "tls", M_TLS, NULL },
	{ "tls_starttls", M_TLS_STARTTLS, NULL },
	{ "tls_nostarttls", M_TLS_STARTTLS, "off" },
	{ "tls_trust_file", M_TLS_TRUST_FILE, NULL },
	{ "tls_certcheck", M_TLS_CERTCHECK, NULL },
	{ "tls_nocertcheck", M_TLS_CERTCHECK, "off" },
	{ "from", M_FROM, NULL },
	{ "allow_from_override", M_ALLOW_FROM_OVERRIDE, NULL },
	{ "logfile", M_LOGFILE, NULL },
	{ "syslog", M_SYSLOG, NULL },
	{ "aliases", M_ALIASES, NULL },
};

/* msmtp keys with no oauthmail equivalent, and why. */
static const struct {
	const char	*name;
	const char	*why;
} unmapped[] = {
	{ "tls_fingerprint", "the certificate chain is always verified; "
	    "for a private CA set tls_trust_file" },
	{ "tls_key_file", "client certificates are not supported" },
	{ "tls_cert_file", "client certificates are not supported" },
	{ "tls_crl_file", "TLS settings come from the system's OpenSSL" },
	{ "tls_priorities", "TLS settings come from the system's OpenSSL" },
	{ "tls_min_dh_prime_bits", "TLS settings come from the system's "
	    "OpenSSL" },
	{ "tls_host_override", "the certificate must name the host" },
	{ "tls_force_sslv3", "SSLv3 is never used" },
	{ "from_full_name", "give the name with -F or in the From: header" },
	{ "dsn_notify", "use sendmail's -N option" },
	{ "dsn_return", "use sendmail's -R option" },
	{ "set_from_header", "a missing From: is always added" },
	{ "add_missing_from_header", "a missing From: is always added" },
	{ "set_date_header", "a missing Date: is always added" },
	{ "add_missing_date_header", "a missing Date: is always added" },
	{ "set_msgid_header", "a missing Message-ID: is always added" },
	{ "remove_bcc_headers", "Bcc: is always removed" },
	{ "keepbcc", "Bcc: is always removed" },
	{ "undisclosed_recipients", "not supported" },
	{ "auto_from", "write the address in from" },
	{ "maildomain", "write the address in from" },
	{ "proxy_host", "proxies are not supported" },
	{ "proxy_port", "proxies are not supported" },
	{ "socket", "only TCP connections are supported" },
	{ "source_ip", "the system chooses the source address" },
	{ "ntlmdomain", "NTLM is not supported" },
	{ "logfile_time_format", "the log file's time format is fixed" },
};

static int	perr(struct parser *, const char *, ...) OM_PRINTF(2, 3);
static void	note(struct buf *, const char *, ...) OM_PRINTF(2, 3);

/* "NAME:LINE: what"; an earlier error is printed as a warning. */
static int
perr(struct parser *p, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->nerrors++ > 0)
		log_warnx("%s", p->err->msg);
	return err_set(p->err, ERR_DATA, "%s:%d: %s", p->name, p->line, msg);
}

static void
note(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msmtprc_vnote(b, fmt, ap);
	va_end(ap);
}

static void
acct_free(struct macct *a)
{
	int k;

	for (k = 0; k < M_NKEYS; k++)
		free(a->v[k]);
	free(a->name);
	memset(a, 0, sizeof(*a));
}

static void
set_value(struct macct *a, enum mkey k, const char *v, int line)
{
	free(a->v[k]);
	/* A secret is never kept: only that there was one. */
	a->v[k] = xstrdup(k == M_PASSWORD || k == M_PASSWORDEVAL ? "set" : v);
	a->vline[k] = line;
}

/* Copies the keys src set (msmtp's inheritance). */
static void
overlay(struct macct *dst, const struct macct *src, unsigned mask)
{
	int k;

	for (k = 0; k < M_NKEYS; k++)
		if (mask & (1U << k)) {
			free(dst->v[k]);
			dst->v[k] = src->v[k] != NULL ? xstrdup(src->v[k]) :
			    NULL;
			dst->vline[k] = src->vline[k];
		}
}

static struct macct *
find_acct(struct parser *p, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < p->naccts; i++)
		if (strlen(p->accts[i]->name) == len &&
		    memcmp(p->accts[i]->name, name, len) == 0)
			return p->accts[i];
	return NULL;
}

static struct macct *
new_acct(struct parser *p, const char *name)
{
	struct macct *a;

	a = xcalloc(1, sizeof(*a));
	overlay(a, &p->defaults, ~0U);
	a->name = xstrdup(name);
	a->line = p->line;
	p->accts = xreallocarray(p->accts, p->naccts + 1, sizeof(*p->accts));
	p->accts[p->naccts++] = a;
	return a;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* The parents of "account NAME : A, B": each must be defined above. */
static int
inherit(struct parser *p, struct macct *a, char *list)
{
	struct macct *parent;
	char *s = list, *e;
	size_t n;

	for (;;) {
		if ((e = strchr(s, ',')) != NULL)
			*e = '\0';
		s = trim(s);
		n = strlen(s);
		if (n == 0)
			return perr(p, "account %s: an empty name after ':' or "
			    "','; name the account to inherit from", a->name);
		if ((parent = find_acct(p, s, n)) == NULL || parent == a)
			return perr(p, "account %s inherits from '%s', which "
			    "is not defined above; define it first", a->name,
			    s);
		overlay(a, parent, parent->mask);
		a->mask |= parent->mask;
		if (strcmp(a->name, "default") == 0 && p->default_of == NULL)
			p->default_of = xstrdup(parent->name);
		if (e == NULL)
			return 0;
		s = e + 1;
	}
}

static int
start_account(struct parser *p, char *arg)
{
	char *colon, *name;

	if ((colon = strchr(arg, ':')) != NULL)
		*colon++ = '\0';
	name = trim(arg);
	if (*name == '\0')
		return perr(p, "account needs a name; write 'account NAME'");
	if (strchr(name, ',') != NULL)
		return perr(p, "account name '%s' contains a comma; rename it",
		    name);
	if (find_acct(p, name, strlen(name)) != NULL)
		return perr(p, "account %s is defined twice; rename one of "
		    "them", name);
	if (p->naccts >= MAX_ACCOUNTS)
		return perr(p, "more than %d accounts", MAX_ACCOUNTS);
	p->cur = new_acct(p, name);
	if (colon != NULL && inherit(p, p->cur, colon) == -1)
		return -1;
	return 0;
}

static int
valid_port(const char *v)
{
	const char *errstr;
	long long n;

	return util_parse_ll(v, 1, 65535, &n, &errstr) == 0;
}

static int
set_key(struct parser *p, const char *cmd, const char *arg)
{
	size_t i;

	for (i = 0; i < nitems(mkeys); i++)
		if (strcmp(cmd, mkeys[i].name) == 0)
			break;
	if (i == nitems(mkeys)) {
		for (i = 0; i < nitems(unmapped); i++)
			if (strcmp(cmd, unmapped[i].name) == 0) {
				note(p->notes, "line %d: %s: %s", p->line, cmd,
				    unmapped[i].why);
				return 0;
			}
		note(p->notes, "line %d: %s: not an msmtp or oauthmail key; "
		    "left out", p->line, cmd);
		return 0;
	}
	if (mkeys[i].fixed != NULL)
		arg = mkeys[i].fixed;
	if (mkeys[i].key == M_PORT && !valid_port(arg))
		return perr(p, "port: invalid port '%s'; use a number from 1 "
		    "to 65535", arg);
	if (p->cur == NULL)	/* msmtp: keys before any account */
		p->cur = new_acct(p, "default");
	set_value(p->cur, mkeys[i].key, arg, p->line);
	if (p->cur != &p->defaults) {
		p->cur->mask |= 1U << mkeys[i].key;
		p->cur->own = 1;
	}
	return 0;
}

/* Cuts the argument out of "cmd argument", msmtp's way. */
static int
split(struct parser *p, char *line, char **cmd, char **arg)
{
	char *s = line, *a;
	size_t n;

	*cmd = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	if (*s != '\0')
		*s++ = '\0';
	a = trim(s);
	n = strlen(a);
	if (n > 0 && a[0] == '"') {
		if (n < 2 || a[n - 1] != '"')
			return perr(p, "%s: missing closing '\"'; close the "
			    "quoted value", *cmd);
		a[n - 1] = '\0';
		a++;
	}
	*arg = a;
	return 0;
}

static int
parse_line(struct parser *p, char *line)
{
	char *cmd = NULL, *arg = NULL, *s;

	for (s = line; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return perr(p, "a control character (0x%02x); is it a "
			    "text file?", (unsigned char)*s);
	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if (split(p, line, &cmd, &arg) == -1)
		return -1;
	if (strcmp(cmd, "defaults") == 0) {
		if (*arg != '\0')
			return perr(p, "defaults takes no argument; write "
			    "'defaults' alone on its line");
		p->cur = &p->defaults;
		return 0;
	}
	if (strcmp(cmd, "account") == 0)
		return start_account(p, arg);
	return set_key(p, cmd, arg);
}

static int
parse_text(struct parser *p, const char *text, size_t len)
{
	char line[LIM_CONF_LINE];
	const char *s = text, *end = text + len, *nl;
	size_t n;

	if (memchr(text, '\0', len) != NULL) {
		p->line = 0;
		return err_set(p->err, ERR_DATA, "%s: contains a NUL byte; is "
		    "it a text file?", p->name);
	}
	while (s < end) {
		p->line++;
		nl = memchr(s, '\n', (size_t)(end - s));
		n = (size_t)((nl != NULL ? nl : end) - s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n >= sizeof(line))
			(void)perr(p, "line too long (at most %d bytes)",
			    LIM_CONF_LINE - 1);
		else {
			memcpy(line, s, n);
			line[n] = '\0';
			(void)parse_line(p, line);
		}
		s = nl != NULL ? nl + 1 : end;
	}
	return p->nerrors > 0 ? -1 : 0;
}

int
msmtprc_convert(const char *name, const char *text, size_t len,
    struct msmtprc_out *out, struct err *err)
{
	struct parser p;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	buf_init(&out->conf, MSMTPRC_MAX_OUT, 0);
	buf_init(&out->steps, MSMTPRC_MAX_OUT, 0);
	buf_init(&out->notes, MSMTPRC_MAX_OUT, 0);
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.err = err;
	p.notes = &out->notes;
	if (len > MSMTPRC_MAX_FILE)
		rc = err_set(err, ERR_DATA, "%s: larger than %d bytes; is it "
		    "an msmtprc?", name, MSMTPRC_MAX_FILE);
	else
		rc = parse_text(&p, text, len);
	if (rc == 0)
		msmtprc_write(&p, name, out);
	for (i = 0; i < p.naccts; i++) {
		acct_free(p.accts[i]);
		free(p.accts[i]);
	}
	free(p.accts);
	acct_free(&p.defaults);
	free(p.default_of);
	if (rc == -1)
		msmtprc_out_free(out);
	return rc;
}

void
msmtprc_out_free(struct msmtprc_out *out)
{
	buf_free(&out->conf);
	buf_free(&out->steps);
	buf_free(&out->notes);
}
