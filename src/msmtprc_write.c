/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * msmtprc_write.c -- the parsed msmtprc written as oauthmail's
 * configuration (msmtprc.h): each account as OAuth (a provider preset),
 * password or no AUTH, or commented out with the reason; what does not
 * map (the reader's notes too, msmtprc_vnote) and the next steps in a
 * comment block at the top.
 */
#include "common.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "msmtprc.h"
#include "msmtprc_impl.h"
#include "util.h"
#include "xmalloc.h"

#define MAX_VALUE	1000	/* longest value carried over */
#define PLACEHOLDER_ID	"00000000-0000-0000-0000-000000000000"

static void	note(struct buf *, const char *, ...) OM_PRINTF(2, 3);

void
msmtprc_vnote(struct buf *b, const char *fmt, va_list ap)
{
	char msg[600];

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (b->len < MSMTPRC_MAX_NOTES)
		(void)buf_addf(b, "#   %s\n", msg);
}

static void
note(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msmtprc_vnote(b, fmt, ap);
	va_end(ap);
}

/* Hosts of the provider presets (oauthmail.conf(5), provider). */
static const struct {
	const char	*host;
	const char	*provider;
} provider_hosts[] = {
	{ "smtp.office365.com", "microsoft" },
	{ "outlook.office365.com", "microsoft" },
	{ "smtp-mail.outlook.com", "outlook" },
	{ "smtp.gmail.com", "google" },
	{ "smtp.googlemail.com", "google" },
};

/* Microsoft's consumer domains: such a mailbox is an Outlook.com one. */
static const char *const consumer_domains[] = {
	"outlook.com", "hotmail.com", "live.com", "msn.com"
};

enum how { HOW_OAUTH, HOW_PASSWORD, HOW_NOAUTH, HOW_OFF };

struct conv {
	const struct macct *a;
	char		 name[128];	/* the oauthmail account name */
	const char	*provider;	/* a preset, or NULL */
	enum how	 how;
	const char	*why_off;	/* HOW_OFF: the reason */
	char		 why_buf[300];
	struct buf	*out;		/* this account's lines */
	struct buf	*notes;
	struct buf	*steps;
};

/* A key's value; NULL if unset, or empty where empty means nothing. */
static const char *
val(const struct conv *c, enum mkey k)
{
	const char *v = c->a->v[k];

	if (v != NULL && *v == '\0' && k != M_AUTH && k != M_TLS &&
	    k != M_TLS_STARTTLS && k != M_TLS_CERTCHECK && k != M_SYSLOG &&
	    k != M_ALLOW_FROM_OVERRIDE)
		return NULL;
	return v;
}

static int
is_on(const char *v)
{
	return v != NULL && (*v == '\0' || strcmp(v, "on") == 0);
}

static int
is_off(const char *v)
{
	return v != NULL && strcmp(v, "off") == 0;
}

static const char *
host_provider(const char *host)
{
	size_t i, n;

	if (host == NULL)
		return NULL;
	n = strlen(host);
	if (n > 0 && host[n - 1] == '.')
		n--;
	for (i = 0; i < nitems(provider_hosts); i++)
		if (strlen(provider_hosts[i].host) == n &&
		    strncasecmp(host, provider_hosts[i].host, n) == 0)
			return provider_hosts[i].provider;
	return NULL;
}

static const char *
domain_of(const char *addr)
{
	const char *at;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return NULL;
	return at + 1;
}

static int
consumer_domain(const char *d)
{
	size_t i;

	for (i = 0; d != NULL && i < nitems(consumer_domains); i++)
		if (strcasecmp(d, consumer_domains[i]) == 0)
			return 1;
	return 0;
}

static int
is_loopback(const char *h)
{
	return strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 ||
	    strncmp(h, "127.", 4) == 0;
}

/* An oauthmail account name: letters, digits and . _ @ + - */
static void
map_name(struct conv *c)
{
	const char *s;
	size_t i = 0;

	for (s = c->a->name; *s != '\0' && i + 1 < sizeof(c->name); s++)
		c->name[i++] = isalnum((unsigned char)*s) ||
		    strchr("._@+-", *s) != NULL ? *s : '-';
	c->name[i] = '\0';
	if (strcmp(c->name, c->a->name) != 0)
		note(c->notes, "account %s: renamed %s (oauthmail's names are "
		    "letters, digits and . _ @ + -)", c->a->name, c->name);
}

static void
off(struct conv *c, const char *fmt, ...) OM_PRINTF(2, 3);

static void
off(struct conv *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->why_buf, sizeof(c->why_buf), fmt, ap);
	va_end(ap);
	c->how = HOW_OFF;
	c->why_off = c->why_buf;
}

/* Whether the value can be written (length, and oauthmail's quoting). */
static int
writable(const char *v)
{
	return v != NULL && strlen(v) <= MAX_VALUE;
}

/* Decides how the account maps: OAuth, password, no AUTH, or not. */
static void
classify(struct conv *c)
{
	const char *auth = val(c, M_AUTH), *host = val(c, M_HOST);
	const char *from = val(c, M_FROM);

	c->provider = host_provider(host);
	if (c->provider != NULL && strcmp(c->provider, "microsoft") == 0 &&
	    consumer_domain(domain_of(from)))
		c->provider = "outlook";
	if (auth == NULL || is_off(auth))
		c->how = HOW_NOAUTH;
	else if (strcasecmp(auth, "xoauth2") == 0 ||
	    strcasecmp(auth, "oauthbearer") == 0)
		c->how = HOW_OAUTH;
	else if (is_on(auth) || strcasecmp(auth, "plain") == 0 ||
	    strcasecmp(auth, "login") == 0)
		c->how = HOW_PASSWORD;
	else
		off(c, "auth %s is not supported (oauthmail speaks XOAUTH2, "
		    "OAUTHBEARER, PLAIN and LOGIN)", auth);
	/* Microsoft takes no password; Gmail keeps app passwords. */
	if (c->provider != NULL && (strcmp(c->provider, "google") != 0 ||
	    c->how == HOW_NOAUTH))
		c->how = HOW_OAUTH;
	if (host == NULL && c->provider == NULL)
		off(c, "no host");
	else if (!writable(host))
		off(c, "host too long");
	else if (c->how == HOW_OAUTH && c->provider == NULL)
		off(c, "OAuth at %s needs its provider's endpoints: add "
		    "'provider custom', token_endpoint, auth_endpoint and "
		    "client_id (oauthmail.conf(5))", host);
	if (from == NULL)
		off(c, "no from address (oauthmail needs the account's "
		    "address)");
	else if (!writable(from) || strchr(from, '@') == NULL ||
	    strpbrk(from, "%*? \t") != NULL)
		off(c, "from '%.100s' is not one address (msmtp's patterns "
		    "and substitutions do not map); write the address", from);
	if (val(c, M_PROTOCOL) != NULL && strcasecmp(val(c, M_PROTOCOL),
	    "smtp") != 0)
		off(c, "protocol %.40s is not supported (SMTP only)",
		    val(c, M_PROTOCOL));
}

/* "key value", the value quoted when oauthmail's reader needs it. */
static void
put(struct conv *c, const char *key, const char *v)
{
	const char *s;

	if (v[0] != '\0' && strpbrk(v, "#\"\\") == NULL && v[0] != ' ' &&
	    v[strlen(v) - 1] != ' ' && v[0] != '\t' &&
	    v[strlen(v) - 1] != '\t') {
		(void)buf_addf(c->out, "%s %s\n", key, v);
		return;
	}
	(void)buf_addf(c->out, "%s \"", key);
	for (s = v; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			(void)buf_addc(c->out, '\\');
		(void)buf_addc(c->out, *s);
	}
	(void)buf_adds(c->out, "\"\n");
}

/* Carries a path or name key if it can be written. */
static void
carry(struct conv *c, const char *key, enum mkey k)
{
	const char *v = val(c, k);

	if (v == NULL || *v == '\0')
		return;
	if (!writable(v)) {
		note(c->notes, "line %d: %s: too long; left out",
		    c->a->vline[k], key);
		return;
	}
	put(c, key, v);
}

/* msmtp's TLS: tls (default off), tls_starttls (default on), port. */
static void
put_transport(struct conv *c)
{
	const char *host = val(c, M_HOST), *port = val(c, M_PORT);
	int tls = is_on(val(c, M_TLS)), starttls = !is_off(val(c,
	    M_TLS_STARTTLS)), implicit, preset;
	char num[16];

	/* A provider line brings its host and port. */
	preset = c->how == HOW_OAUTH && c->provider != NULL;
	if (host != NULL && (!preset || host_provider(host) == NULL ||
	    strcmp(host_provider(host), c->provider) != 0))
		put(c, "host", host);
	implicit = tls && !starttls;
	if (!tls && c->how != HOW_NOAUTH && !is_loopback(host ? host : "")) {
		note(c->notes, "account %s: tls off (msmtp's default) not "
		    "carried over: credentials go only over TLS; the server "
		    "must offer STARTTLS", c->a->name);
		tls = 1;
	} else if (!tls)
		put(c, "tls", "off");
	if (port == NULL && preset)
		return;
	if (port == NULL) {
		(void)snprintf(num, sizeof(num), "%d", implicit ? 465 : 25);
		port = num;
	}
	put(c, "port", port);
	if (tls && implicit != (strcmp(port, "465") == 0))
		put(c, "tls_starttls", implicit ? "off" : "on");
}

static void
put_oauth(struct conv *c)
{
	const char *user = val(c, M_USER), *tenant;

	put(c, "provider", c->provider);
	if (strcmp(c->provider, "microsoft") == 0) {
		tenant = domain_of(user != NULL && strchr(user, '@') ? user :
		    val(c, M_FROM));
		if (tenant != NULL && *tenant != '\0' &&
		    strlen(tenant) <= 253 &&
		    strspn(tenant, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
		    strlen(tenant))
			(void)buf_addf(c->out, "tenant %s\t# your tenant: a "
			    "verified domain or its GUID\n", tenant);
	}
	(void)buf_addf(c->out, "client_id %s\t# placeholder: your app "
	    "registration's client id\n", strcmp(c->provider, "google") ==
	    0 ? "PLACEHOLDER.apps.googleusercontent.com" : PLACEHOLDER_ID);
	if (val(c, M_AUTH) != NULL &&
	    strcasecmp(val(c, M_AUTH), "oauthbearer") == 0)
		put(c, "auth", "oauthbearer");
}

static void
put_auth(struct conv *c)
{
	const char *auth = val(c, M_AUTH);

	if (c->how == HOW_OAUTH) {
		put_oauth(c);
		return;
	}
	if (c->how == HOW_NOAUTH) {
		put(c, "auth", "off");
		return;
	}
	put(c, "auth", is_on(auth) ? "on" : strcasecmp(auth, "plain") == 0 ?
	    "plain" : "login");
}

static void
put_local(struct conv *c)
{
	const char *v, *errstr;
	long long n;

	carry(c, "from", M_FROM);
	if (val(c, M_USER) != NULL && (val(c, M_FROM) == NULL ||
	    strcmp(val(c, M_USER), val(c, M_FROM)) != 0))
		carry(c, "user", M_USER);
	carry(c, "domain", M_DOMAIN);
	carry(c, "tls_trust_file", M_TLS_TRUST_FILE);
	if ((v = val(c, M_TIMEOUT)) != NULL && !is_off(v)) {
		if (util_parse_ll(v, 1, 3600, &n, &errstr) == 0)
			put(c, "timeout", v);
		else
			note(c->notes, "line %d: timeout %.20s: oauthmail's "
			    "timeout is 1 to 3600 seconds; left out",
			    c->a->vline[M_TIMEOUT], v);
	}
	if ((v = val(c, M_ALLOW_FROM_OVERRIDE)) != NULL)
		put(c, "allow_from_override", is_off(v) ? "off" : "on");
	if ((v = val(c, M_LOGFILE)) != NULL && strcmp(v, "-") == 0)
		note(c->notes, "line %d: logfile -: standard output is not a "
		    "log file; left out", c->a->vline[M_LOGFILE]);
	else
		carry(c, "logfile", M_LOGFILE);
	if ((v = val(c, M_SYSLOG)) != NULL) {
		if (is_off(v))
			put(c, "syslog", "off");
		else if (!is_on(v) && strcmp(v, "LOG_MAIL") != 0)
			note(c->notes, "line %d: syslog %.20s: oauthmail "
			    "logs to LOG_MAIL", c->a->vline[M_SYSLOG], v);
	}
	carry(c, "aliases", M_ALIASES);
}

/* What the account's owner does next, and what of it did not map. */
static void
put_steps(struct conv *c)
{
	const struct macct *a = c->a;
	int secret = a->v[M_PASSWORD] != NULL || a->v[M_PASSWORDEVAL] != NULL;
	const char *cc = val(c, M_TLS_CERTCHECK);

	if (cc != NULL && is_off(cc))
		note(c->notes, "line %d: tls_certcheck off: certificate "
		    "verification cannot be turned off; for a private CA set "
		    "tls_trust_file", a->vline[M_TLS_CERTCHECK]);
	if (c->how == HOW_OFF)
		return;
	if (c->how == HOW_OAUTH) {
		if (a->v[M_PASSWORDEVAL] != NULL)
			note(c->notes, "line %d: passwordeval: not needed; "
			    "oauthmail signs in and refreshes the token itself",
			    a->vline[M_PASSWORDEVAL]);
		else if (a->v[M_PASSWORD] != NULL)
			note(c->notes, "line %d: password: not copied; the "
			    "account signs in with OAuth now",
			    a->vline[M_PASSWORD]);
		if (val(c, M_AUTH) == NULL || (strcasecmp(val(c, M_AUTH),
		    "xoauth2") != 0 && strcasecmp(val(c, M_AUTH),
		    "oauthbearer") != 0))
			note(c->notes, "account %s: auth %s: now OAuth; this "
			    "account needs an OAuth app registration",
			    a->name, val(c, M_AUTH) ? val(c, M_AUTH) : "off");
		if (strcmp(c->provider, "google") == 0)
			(void)buf_addf(c->steps, "  %s: create an OAuth "
			    "client (Desktop app) in the Google Cloud console, "
			    "put its client id in client_id, store its secret "
			    "with 'oauthmail secret %s', then run 'oauthmail "
			    "login %s'\n", c->name, c->name, c->name);
		else
			(void)buf_addf(c->steps, "  %s: register an app "
			    "(README: Microsoft 365 or Outlook.com), put its "
			    "client id in client_id, then run 'oauthmail login "
			    "%s'\n", c->name, c->name);
		return;
	}
	if (c->how == HOW_PASSWORD) {
		if (secret)
			note(c->notes, "line %d: %s: not copied (no secret "
			    "goes into the configuration)", a->v[M_PASSWORD] ?
			    a->vline[M_PASSWORD] : a->vline[M_PASSWORDEVAL],
			    a->v[M_PASSWORD] ? "password" : "passwordeval");
		(void)buf_addf(c->steps, "  %s: store the password in the "
		    "keyring: 'oauthmail password %s' (it reads standard "
		    "input when piped)\n", c->name, c->name);
	}
}

/* One account: its keys, or all of them commented out with the reason. */
static void
write_account(struct conv *c, struct buf *conf)
{
	const char *s, *nl;

	(void)buf_addf(c->out, "account %s\n", c->name);
	if (c->how != HOW_OFF)
		put_auth(c);
	put_transport(c);
	put_local(c);
	put_steps(c);
	if (c->how != HOW_OFF) {
		(void)buf_addf(conf, "\n%s", buf_str(c->out));
		return;
	}
	note(c->notes, "account %s (line %d): written commented out: %s",
	    c->a->name, c->a->line, c->why_off);
	(void)buf_addf(conf, "\n# account %s: %s\n", c->name, c->why_off);
	for (s = buf_str(c->out); *s != '\0'; s = nl + 1) {
		nl = strchr(s, '\n');
		(void)buf_addf(conf, "#%.*s\n", (int)(nl - s), s);
	}
}

static int
name_taken(const struct buf *body, const char *name)
{
	char pat[160];
	const char *s = buf_str(body);

	(void)snprintf(pat, sizeof(pat), "\naccount %s\n", name);
	return s != NULL && strstr(s, pat) != NULL;
}

static void
convert_one(struct parser *p, size_t i, struct msmtprc_out *out,
    struct buf *body, char **def_name)
{
	struct conv c;
	struct buf one;

	memset(&c, 0, sizeof(c));
	c.a = p->accts[i];
	c.notes = p->notes;
	c.steps = &out->steps;
	buf_init(&one, MSMTPRC_MAX_OUT, 0);
	c.out = &one;
	map_name(&c);
	classify(&c);
	if (name_taken(body, c.name))
		off(&c, "its name %s is taken by another account", c.name);
	write_account(&c, body);
	buf_free(&one);
	if (c.how == HOW_OFF)
		out->ndisabled++;
	else
		out->naccounts++;
	if (p->default_of != NULL && strcmp(c.a->name, p->default_of) == 0 &&
	    c.how != HOW_OFF && *def_name == NULL)
		*def_name = xstrdup(c.name);
}

static void
convert(struct parser *p, struct msmtprc_out *out, struct buf *body)
{
	char *def_name = NULL;
	size_t i;

	/* An account "default" with keys of its own is an account. */
	for (i = 0; i < p->naccts; i++)
		if (strcmp(p->accts[i]->name, "default") == 0 &&
		    p->accts[i]->own) {
			free(p->default_of);
			p->default_of = NULL;
		}
	for (i = 0; i < p->naccts; i++) {
		/* "account default : X" alone only names the default. */
		if (strcmp(p->accts[i]->name, "default") == 0 &&
		    p->default_of != NULL && !p->accts[i]->own)
			continue;
		convert_one(p, i, out, body, &def_name);
	}
	if (def_name != NULL)
		(void)buf_addf(body, "\naccount default : %s\n", def_name);
	else if (p->default_of != NULL)
		note(p->notes, "account default : %s: left out, as %s is "
		    "commented out", p->default_of, p->default_of);
	free(def_name);
	if (p->naccts == 0)
		note(p->notes, "no account in the file");
}

/* Each line of text as a comment line. */
static void
comment_lines(struct buf *b, const char *text)
{
	const char *s, *nl;

	for (s = text; s != NULL && *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s) - 1;
		(void)buf_addf(b, "#%.*s\n", (int)(nl - s), s);
	}
}

static void
assemble(const char *name, struct msmtprc_out *out, struct buf *notes,
    struct buf *body)
{
	char safe[256];

	util_sanitize(safe, sizeof(safe), name, strlen(name));
	(void)buf_addf(&out->conf, "# oauthmail configuration imported from "
	    "%s\n# by 'oauthmail import-msmtprc'. Settings inherited from "
	    "msmtp's defaults\n# and parent accounts are written out in each "
	    "account (oauthmail.conf(5)).\n", safe);
	if (notes->len > 0)
		(void)buf_addf(&out->conf, "#\n# Not carried over:\n%s",
		    buf_str(notes));
	if (out->steps.len > 0) {
		(void)buf_adds(&out->conf, "#\n# Next steps:\n");
		comment_lines(&out->conf, buf_str(&out->steps));
	}
	if (body->len > 0)
		(void)buf_adds(&out->conf, buf_str(body));
}

void
msmtprc_write(struct parser *p, const char *name, struct msmtprc_out *out)
{
	struct buf body;

	buf_init(&body, MSMTPRC_MAX_OUT, 0);
	convert(p, out, &body);
	assemble(name, out, p->notes, &body);
	buf_free(&body);
}
