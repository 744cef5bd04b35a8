/*
 * conf.c -- the configuration file (doc/design.md §3, oauthmail.conf(5)).
 *
 * msmtp's line format and vocabulary: "defaults", "account NAME [: PARENT,
 * ...]", "key value" lines, '#' comment lines, values optionally in double
 * quotes. A keyword table maps names to an enum, and one switch stores each
 * value (the shape of OpenSSH's readconf.c). Every key that a line sets is
 * remembered in the account's setmask: inheritance copies exactly those
 * keys, and the provider presets fill only keys that were not set.
 *
 * No secret is ever accepted here; the file is refused when others could
 * have written it (fstat on the open descriptor, never stat on the path).
 */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "advice.h"
#include "conf.h"
#include "jwt.h"
#include "log.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif

#define LIM_CONF_FILE	(1024 * 1024)
#define LIM_ACCOUNTS	1000
#define LIM_SEND_AS	1000
#define NO_CONFIG_MSG	"no configuration found; create " \
	"~/.config/oauthmail/config (see oauthmail.conf(5))"

enum key {
	K_HOST, K_PORT, K_TLS, K_TLS_STARTTLS, K_TLS_TRUST_FILE, K_TIMEOUT,
	K_DOMAIN, K_FROM, K_USER, K_SEND_AS, K_ALLOW_FROM_OVERRIDE, K_AUTH,
	K_PROVIDER, K_TENANT, K_CLIENT_ID, K_SCOPE, K_AUTH_ENDPOINT,
	K_TOKEN_ENDPOINT, K_DEVICE_ENDPOINT, K_REVOKE_ENDPOINT, K_FLOW,
	K_REFRESH_MARGIN, K_KEYRING, K_ALIASES, K_LOGFILE, K_SYSLOG,
	K_DELIVERY, K_QUEUE_DIR, K_MAX_RATE, K_ADMIN, K_MAX_MESSAGE_SIZE,
	K_CLIENT_CERTIFICATE, K_CLIENT_ASSERTION_ALG, K_CLIENT_ASSERTION_FILE,
	K_TRANSPORT, K_GRAPH_ENDPOINT, K_GMAIL_ENDPOINT, K_API_SCOPE,
	K_NKEYS,
	/* Keys that are not account settings: */
	K_MODE, K_SPOOL_DIR, K_TLS_CERTCHECK, K_PASSWORD, K_CLIENT_SECRET,
	K_MAILDROP_MAX_FILES, K_MAILDROP_MAX_BYTES, K_CORRUPT_MAX_AGE
};

_Static_assert(K_NKEYS <= CONF_KEY_SLOTS, "CONF_KEY_SLOTS too small");
_Static_assert(K_NKEYS <= 64, "setmask has 64 bits");

#define BIT(k)		(1ULL << (k))
#define ISSET(a, k)	(((a)->setmask & BIT(k)) != 0)

static const struct {
	const char	*name;
	enum key	 key;
} keywords[] = {
	{ "host", K_HOST },
	{ "port", K_PORT },
	{ "tls", K_TLS },
	{ "tls_starttls", K_TLS_STARTTLS },
	{ "tls_trust_file", K_TLS_TRUST_FILE },
	{ "timeout", K_TIMEOUT },
	{ "domain", K_DOMAIN },
	{ "from", K_FROM },
	{ "user", K_USER },
	{ "send_as", K_SEND_AS },
	{ "allow_from_override", K_ALLOW_FROM_OVERRIDE },
	{ "auth", K_AUTH },
	{ "provider", K_PROVIDER },
	{ "tenant", K_TENANT },
	{ "client_id", K_CLIENT_ID },
	{ "scope", K_SCOPE },
	{ "auth_endpoint", K_AUTH_ENDPOINT },
	{ "token_endpoint", K_TOKEN_ENDPOINT },
	{ "device_endpoint", K_DEVICE_ENDPOINT },
	{ "revoke_endpoint", K_REVOKE_ENDPOINT },
	{ "flow", K_FLOW },
	{ "refresh_margin", K_REFRESH_MARGIN },
	{ "keyring", K_KEYRING },
	{ "aliases", K_ALIASES },
	{ "logfile", K_LOGFILE },
	{ "syslog", K_SYSLOG },
	{ "delivery", K_DELIVERY },
	{ "queue_dir", K_QUEUE_DIR },
	{ "max_rate", K_MAX_RATE },
	{ "admin", K_ADMIN },
	{ "max_message_size", K_MAX_MESSAGE_SIZE },
	{ "client_certificate", K_CLIENT_CERTIFICATE },
	{ "client_assertion_alg", K_CLIENT_ASSERTION_ALG },
	{ "client_assertion_file", K_CLIENT_ASSERTION_FILE },
	{ "transport", K_TRANSPORT },
	{ "graph_endpoint", K_GRAPH_ENDPOINT },
	{ "gmail_endpoint", K_GMAIL_ENDPOINT },
	{ "api_scope", K_API_SCOPE },
	{ "maildrop_max_files", K_MAILDROP_MAX_FILES },
	{ "maildrop_max_bytes", K_MAILDROP_MAX_BYTES },
	{ "corrupt_max_age", K_CORRUPT_MAX_AGE },
	{ "mode", K_MODE },
	{ "spool_dir", K_SPOOL_DIR },
	{ "tls_certcheck", K_TLS_CERTCHECK },
	{ "password", K_PASSWORD },
	{ "passwordeval", K_PASSWORD },
	{ "client_secret", K_CLIENT_SECRET },
};

/* String-valued keys, by offset into struct account. */
static const struct {
	enum key	 key;
	size_t		 off;
	int		 path;		/* "~/" is expanded */
} strkeys[] = {
	{ K_HOST, offsetof(struct account, host), 0 },
	{ K_TLS_TRUST_FILE, offsetof(struct account, tls_trust_file), 1 },
	{ K_DOMAIN, offsetof(struct account, domain), 0 },
	{ K_FROM, offsetof(struct account, from), 0 },
	{ K_USER, offsetof(struct account, user), 0 },
	{ K_TENANT, offsetof(struct account, tenant), 0 },
	{ K_CLIENT_ID, offsetof(struct account, client_id), 0 },
	{ K_SCOPE, offsetof(struct account, scope), 0 },
	{ K_AUTH_ENDPOINT, offsetof(struct account, auth_endpoint), 0 },
	{ K_TOKEN_ENDPOINT, offsetof(struct account, token_endpoint), 0 },
	{ K_DEVICE_ENDPOINT, offsetof(struct account, device_endpoint), 0 },
	{ K_REVOKE_ENDPOINT, offsetof(struct account, revoke_endpoint), 0 },
	{ K_ALIASES, offsetof(struct account, aliases), 1 },
	{ K_LOGFILE, offsetof(struct account, logfile), 1 },
	{ K_QUEUE_DIR, offsetof(struct account, queue_dir), 1 },
	{ K_ADMIN, offsetof(struct account, admin), 0 },
	{ K_CLIENT_CERTIFICATE, offsetof(struct account, client_certificate),
	    1 },
	{ K_CLIENT_ASSERTION_ALG,
	    offsetof(struct account, client_assertion_alg), 0 },
	{ K_CLIENT_ASSERTION_FILE,
	    offsetof(struct account, client_assertion_file), 1 },
	{ K_GRAPH_ENDPOINT, offsetof(struct account, graph_endpoint), 0 },
	{ K_GMAIL_ENDPOINT, offsetof(struct account, gmail_endpoint), 0 },
	{ K_API_SCOPE, offsetof(struct account, api_scope), 0 },
};

struct parser {
	const char	*name;		/* file name for messages */
	int		 line;
	struct config	*cf;
	struct account	 defaults;	/* the "defaults" section */
	struct account	*cur;		/* where key lines go */
	int		 in_account;
	struct account	*alias_of;	/* "account default : X", no keys yet */
	struct err	*err;
	int		 nerrors;	/* errors reported so far */
};

static const char *const provider_names[] = {
	[PROVIDER_NONE] = "none",
	[PROVIDER_MICROSOFT] = "microsoft",
	[PROVIDER_GOOGLE] = "google",
	[PROVIDER_CUSTOM] = "custom",
	[PROVIDER_OUTLOOK] = "outlook",
};

static const char *const flow_names[] = {
	[FLOW_DEFAULT] = "default",
	[FLOW_AUTHCODE] = "authcode",
	[FLOW_DEVICE] = "device",
	[FLOW_CLIENT_CREDENTIALS] = "client_credentials",
};

const char *
conf_provider_name(enum conf_provider p)
{
	if ((size_t)p < nitems(provider_names) && provider_names[p] != NULL)
		return provider_names[p];
	return "?";
}

const char *
conf_transport_name(enum conf_transport t)
{
	switch (t) {
	case TRANSPORT_SMTP:	return "smtp";
	case TRANSPORT_GRAPH:	return "graph";
	case TRANSPORT_GMAIL:	return "gmail-api";
	case TRANSPORT_AUTO:	return "auto";
	}
	return "smtp";
}

enum conf_transport
conf_api_transport(const struct account *a)
{
	if (a->transport == TRANSPORT_GRAPH || a->transport == TRANSPORT_GMAIL)
		return a->transport;
	if (a->provider == PROVIDER_GOOGLE || (a->graph_endpoint == NULL &&
	    a->gmail_endpoint != NULL))
		return TRANSPORT_GMAIL;
	if (a->graph_endpoint != NULL)
		return TRANSPORT_GRAPH;
	return TRANSPORT_SMTP;
}

const char *
conf_flow_name(enum conf_flow f)
{
	if ((size_t)f < nitems(flow_names))
		return flow_names[f];
	return "?";
}

static char **
strfield(struct account *a, size_t i)
{
	return (char **)(void *)((char *)a + strkeys[i].off);
}

static const char *
strget(const struct account *a, size_t i)
{
	return *(char *const *)(const void *)((const char *)a +
	    strkeys[i].off);
}

static int
strkey_index(enum key k)
{
	size_t i;

	for (i = 0; i < nitems(strkeys); i++)
		if (strkeys[i].key == k)
			return (int)i;
	return -1;
}

static void
send_as_free(struct account *a)
{
	size_t i;

	for (i = 0; i < a->nsend_as; i++)
		free(a->send_as[i]);
	free(a->send_as);
	a->send_as = NULL;
	a->nsend_as = 0;
}

static void
acct_free_fields(struct account *a)
{
	size_t i;

	for (i = 0; i < nitems(strkeys); i++) {
		free(*strfield(a, i));
		*strfield(a, i) = NULL;
	}
	send_as_free(a);
	free(a->name);
	a->name = NULL;
}

/* Copies key k's value from src to dst and marks it set in dst. */
static void
copy_key(struct account *dst, const struct account *src, enum key k)
{
	const char *cs;
	int si;
	size_t i;

	if ((si = strkey_index(k)) != -1) {
		cs = strget(src, (size_t)si);
		free(*strfield(dst, (size_t)si));
		*strfield(dst, (size_t)si) = cs ? xstrdup(cs) : NULL;
	} else {
		switch (k) {
		case K_PORT: dst->port = src->port; break;
		case K_TLS: dst->tls = src->tls; break;
		case K_TLS_STARTTLS: dst->tls_starttls = src->tls_starttls; break;
		case K_TIMEOUT: dst->timeout = src->timeout; break;
		case K_ALLOW_FROM_OVERRIDE:
			dst->allow_from_override = src->allow_from_override;
			break;
		case K_AUTH: dst->auth = src->auth; break;
		case K_PROVIDER: dst->provider = src->provider; break;
		case K_FLOW: dst->flow = src->flow; break;
		case K_REFRESH_MARGIN:
			dst->refresh_margin = src->refresh_margin;
			break;
		case K_KEYRING: dst->keyring = src->keyring; break;
		case K_SYSLOG: dst->syslog = src->syslog; break;
		case K_DELIVERY: dst->delivery = src->delivery; break;
		case K_TRANSPORT: dst->transport = src->transport; break;
		case K_MAX_RATE: dst->max_rate = src->max_rate; break;
		case K_MAX_MESSAGE_SIZE:
			dst->max_message_size = src->max_message_size;
			break;
		case K_SEND_AS:
			send_as_free(dst);
			if (src->nsend_as > 0) {
				dst->send_as = xreallocarray(NULL,
				    src->nsend_as, sizeof(char *));
				for (i = 0; i < src->nsend_as; i++)
					dst->send_as[i] =
					    xstrdup(src->send_as[i]);
				dst->nsend_as = src->nsend_as;
			}
			break;
		default:
			break;
		}
	}
	dst->key_line[k] = src->key_line[k];
	dst->setmask |= BIT(k);
}

static void
overlay(struct account *dst, const struct account *src)
{
	int k;

	for (k = 0; k < K_NKEYS; k++)
		if (ISSET(src, k))
			copy_key(dst, src, (enum key)k);
}

static int	perr(struct parser *, const char *, ...) OM_PRINTF(2, 3);

/*
 * "FILE:LINE: " + the message. Returns -1. The parser goes on after an
 * error so that one run reports every error of the file: each earlier
 * one is printed as a warning when the next is found, the last stays in
 * p->err for the caller.
 */
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
	return err_set(p->err, ERR_CONFIG, "%s:%d: %s", p->name, p->line, msg);
}

/* Points error messages at the line of key k (else the account's). */
static void
at_key(struct parser *p, const struct account *a, enum key k)
{
	p->line = ISSET(a, k) && a->key_line[k] > 0 ? a->key_line[k] :
	    a->from_line;
}

static int
parse_bool(struct parser *p, const char *key, const char *v, int *out)
{
	if (*v == '\0' || strcmp(v, "on") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(v, "off") == 0) {
		*out = 0;
		return 0;
	}
	return perr(p, "%s: invalid value '%s'; use on or off", key, v);
}

static int
parse_secs(struct parser *p, const char *key, const char *v, long long max,
    int *out)
{
	long long secs;

	if (strcmp(v, "off") == 0) {
		*out = 0;
		return 0;
	}
	if (util_parse_duration(v, &secs) == -1 || secs > max)
		return perr(p, "%s: invalid duration '%s'; use seconds, "
		    "e.g. 300 or 5m", key, v);
	*out = (int)secs;
	return 0;
}

/* Bytes, with an optional K, M or G (1024 based); 1K to 1T. */
static int
parse_size(const char *v, long long *out)
{
	static const long long mults[] = { 1024, 1024, 1024 * 1024,
	    1024 * 1024, 1024 * 1024 * 1024, 1024 * 1024 * 1024 };
	long long x, mult;

	if (util_parse_scaled(v, "kKmMgG", mults, 1LL << 40, &x, &mult) == -1 ||
	    x < 1 || x > (1LL << 40) / mult || x * mult < 1024)
		return -1;
	*out = x * mult;
	return 0;
}

/* The global limits of the system-mode maildrop (sysq.h). */
static int
parse_maildrop_key(struct parser *p, enum key k, const char *key,
    const char *v)
{
	struct config *cf = p->cf;
	const char *errstr;
	long long x;

	if (p->in_account)
		return perr(p, "%s is a global setting; move it above the "
		    "first account", key);
	if (k == K_MAILDROP_MAX_FILES) {
		if (util_parse_ll(v, 1, 1000000, &x, &errstr) == -1)
			return perr(p, "%s: invalid value '%s'; use a number "
			    "of files from 1 to 1000000, e.g. 1000", key, v);
		cf->maildrop_max_files = x;
	} else if (k == K_MAILDROP_MAX_BYTES) {
		if (parse_size(v, &x) == -1)
			return perr(p, "%s: invalid size '%s'; use bytes, e.g. "
			    "1G (K, M, G: 1024 based), at least 1K", key, v);
		cf->maildrop_max_bytes = x;
	} else if (strcmp(v, "off") == 0)
		cf->corrupt_max_age = -1;
	else if (util_parse_duration(v, &x) == -1 || x == 0)
		return perr(p, "%s: invalid duration '%s'; use e.g. 30d, "
		    "12h or off (keep for ever)", key, v);
	else
		cf->corrupt_max_age = x;
	return 0;
}

/* "~/x" -> "$HOME/x"; anything else copied. */
static char *
expand_path(const char *v)
{
	const char *home;

	if (v[0] != '~' || v[1] != '/')
		return xstrdup(v);
	if ((home = util_home()) == NULL)
		return xstrdup(v);
	return xasprintf("%s%s", home, v + 1);
}

static int
add_send_as(struct parser *p, struct account *a, const char *v)
{
	const char *s = v, *e;

	while (*s != '\0') {
		while (*s == ',' || isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		e = s;
		while (*e != '\0' && *e != ',' && !isspace((unsigned char)*e))
			e++;
		if (a->nsend_as >= LIM_SEND_AS)
			return perr(p, "send_as: too many addresses; at most %d",
			    LIM_SEND_AS);
		if (memchr(s, '@', (size_t)(e - s)) == NULL)
			return perr(p, "send_as: '%s' is not an address; use "
			    "user@example.com or *@example.com", v);
		a->send_as = xreallocarray(a->send_as, a->nsend_as + 1,
		    sizeof(char *));
		a->send_as[a->nsend_as++] = xstrndup(s, (size_t)(e - s));
		s = e;
	}
	a->setmask |= BIT(K_SEND_AS);
	return 0;
}

/* Sets one key of the current section. */
static int
set_key(struct parser *p, const char *key, enum key k, const char *v)
{
	struct account *a = p->cur;
	long long n;
	const char *errstr;
	int si, b;

	if (k < K_NKEYS)
		a->key_line[k] = p->line;
	switch (k) {
	case K_PASSWORD:
		if (strcmp(key, "passwordeval") == 0) {
			/* msmtp's token command, left in a converted file */
			char fix[400];

			(void)advice_explain("passwordeval", p->in_account &&
			    a->name != NULL ? a->name : NULL, NULL, fix,
			    sizeof(fix));
			return perr(p, "%s: not used: %s", key, fix);
		}
		return perr(p, "%s: secrets are never stored in the config "
		    "file; remove this line and run 'oauthmail password "
		    "ACCOUNT'", key);
	case K_CLIENT_SECRET:
		return perr(p, "%s: secrets are never stored in the config "
		    "file; remove this line and run 'oauthmail secret "
		    "ACCOUNT'", key);
	case K_TLS_CERTCHECK:
		if (parse_bool(p, key, v, &b) == -1)
			return -1;
		if (!b)
			return perr(p, "TLS certificate verification cannot "
			    "be turned off; use tls_trust_file for a private "
			    "CA");
		return 0;	/* "on" is what we always do */
	case K_MODE:
		if (p->in_account)
			return perr(p, "mode is a global setting; move it "
			    "above the first account");
		if (strcmp(v, "system") == 0)
			p->cf->system_mode = 1;
		else if (strcmp(v, "user") == 0)
			p->cf->system_mode = 0;
		else
			return perr(p, "mode: invalid value '%s'; use system "
			    "or user", v);
		return 0;
	case K_MAILDROP_MAX_FILES:
	case K_MAILDROP_MAX_BYTES:
	case K_CORRUPT_MAX_AGE:
		return parse_maildrop_key(p, k, key, v);
	case K_SPOOL_DIR:
		if (p->in_account)
			return perr(p, "spool_dir is a global setting; move it "
			    "above the first account");
		if (*v != '/')
			return perr(p, "spool_dir: '%s' is not an absolute "
			    "path; use e.g. /var/spool/oauthmail", v);
		free(p->cf->spool_dir);
		p->cf->spool_dir = xstrdup(v);
		return 0;
	case K_CLIENT_CERTIFICATE:
	case K_CLIENT_ASSERTION_FILE:
		if (*v != '\0' && *v != '/' && strncmp(v, "~/", 2) != 0)
			return perr(p, "%s: '%s' is not an absolute path; give "
			    "the full path (or ~/...)", key, v);
		break;
	case K_CLIENT_ASSERTION_ALG:
		if (*v != '\0' && !jwt_alg_valid(v))
			return perr(p, "client_assertion_alg: unknown algorithm "
			    "'%s'; use RS256, PS256 or ES256", v);
		break;
	default:
		break;
	}
	if ((si = strkey_index(k)) != -1) {
		free(*strfield(a, (size_t)si));
		if (*v == '\0' || (k == K_TLS_TRUST_FILE &&
		    strcmp(v, "system") == 0))	/* msmtp: system CAs */
			*strfield(a, (size_t)si) = NULL;
		else if (strkeys[si].path)
			*strfield(a, (size_t)si) = expand_path(v);
		else
			*strfield(a, (size_t)si) = xstrdup(v);
		a->setmask |= BIT(k);
		return 0;
	}
	switch (k) {
	case K_PORT:
		if (util_parse_ll(v, 1, 65535, &n, &errstr) == -1)
			return perr(p, "port: invalid port '%s'; use a number "
			    "from 1 to 65535, e.g. 587", v);
		a->port = (int)n;
		break;
	case K_TLS:
		if (parse_bool(p, key, v, &a->tls) == -1)
			return -1;
		break;
	case K_TLS_STARTTLS:
		if (parse_bool(p, key, v, &a->tls_starttls) == -1)
			return -1;
		break;
	case K_ALLOW_FROM_OVERRIDE:
		if (parse_bool(p, key, v, &a->allow_from_override) == -1)
			return -1;
		break;
	case K_TIMEOUT:
		if (parse_secs(p, key, v, 3600, &a->timeout) == -1)
			return -1;
		break;
	case K_REFRESH_MARGIN:
		if (parse_secs(p, key, v, 86400, &a->refresh_margin) == -1)
			return -1;
		break;
	case K_MAX_MESSAGE_SIZE:
		if (parse_size(v, &a->max_message_size) == -1)
			return perr(p, "max_message_size: invalid size '%s'; "
			    "use bytes, e.g. 26214400 or 25M (K, M, G: 1024 "
			    "based), at least 1K", v);
		break;
	case K_MAX_RATE:
		if (util_parse_ll(v, 0, 100000, &n, &errstr) == -1)
			return perr(p, "max_rate: invalid value '%s'; use "
			    "messages per minute, e.g. 30 (0: no limit)", v);
		a->max_rate = (int)n;
		break;
	case K_SEND_AS:
		return add_send_as(p, a, v);
	case K_AUTH:
		if (strcmp(v, "xoauth2") == 0)
			a->auth = AUTH_XOAUTH2;
		else if (strcmp(v, "oauthbearer") == 0)
			a->auth = AUTH_OAUTHBEARER;
		else if (strcmp(v, "plain") == 0)
			a->auth = AUTH_PLAIN;
		else if (strcmp(v, "login") == 0)
			a->auth = AUTH_LOGIN;
		else if (*v == '\0' || strcmp(v, "auto") == 0 ||
		    strcmp(v, "on") == 0)
			a->auth = AUTH_AUTO;
		else if (strcmp(v, "off") == 0)
			a->auth = AUTH_NONE;
		else
			return perr(p, "auth: unsupported method '%s'; use "
			    "xoauth2, oauthbearer, plain, login, auto or off",
			    v);
		break;
	case K_PROVIDER:
		if (strcmp(v, "microsoft") == 0)
			a->provider = PROVIDER_MICROSOFT;
		else if (strcmp(v, "outlook") == 0)
			a->provider = PROVIDER_OUTLOOK;
		else if (strcmp(v, "google") == 0)
			a->provider = PROVIDER_GOOGLE;
		else if (strcmp(v, "custom") == 0)
			a->provider = PROVIDER_CUSTOM;
		else
			return perr(p, "provider: unknown provider '%s'; use "
			    "microsoft, outlook, google or custom", v);
		break;
	case K_FLOW:
		if (strcmp(v, "authcode") == 0)
			a->flow = FLOW_AUTHCODE;
		else if (strcmp(v, "device") == 0)
			a->flow = FLOW_DEVICE;
		else if (strcmp(v, "client_credentials") == 0)
			a->flow = FLOW_CLIENT_CREDENTIALS;
		else
			return perr(p, "flow: unknown flow '%s'; use authcode, "
			    "device or client_credentials", v);
		break;
	case K_KEYRING:
		if (strcmp(v, "auto") == 0)
			a->keyring = KEYRING_AUTO;
		else if (strcmp(v, "secret-service") == 0 ||
		    strcmp(v, "secret_service") == 0)
			a->keyring = KEYRING_SECRET_SERVICE;
		else if (strcmp(v, "kernel") == 0)
			a->keyring = KEYRING_KERNEL;
		else
			return perr(p, "keyring: unknown keyring '%s'; use "
			    "auto, secret-service or kernel", v);
		break;
	case K_SYSLOG:
		if (*v == '\0' || strcmp(v, "on") == 0 ||
		    strcmp(v, "LOG_MAIL") == 0)
			a->syslog = 1;
		else if (strcmp(v, "off") == 0)
			a->syslog = 0;
		else
			return perr(p, "syslog: invalid value '%s'; use on, "
			    "off or LOG_MAIL", v);
		break;
	case K_TRANSPORT:
		if (strcmp(v, "smtp") == 0)
			a->transport = TRANSPORT_SMTP;
		else if (strcmp(v, "graph") == 0)
			a->transport = TRANSPORT_GRAPH;
		else if (strcmp(v, "gmail-api") == 0)
			a->transport = TRANSPORT_GMAIL;
		else if (strcmp(v, "auto") == 0)
			a->transport = TRANSPORT_AUTO;
		else
			return perr(p, "transport: unknown transport '%s'; use "
			    "smtp, graph, gmail-api or auto", v);
		break;
	case K_DELIVERY:
		if (strcmp(v, "foreground") == 0)
			a->delivery = CONF_DELIV_FOREGROUND;
		else if (strcmp(v, "background") == 0)
			a->delivery = CONF_DELIV_BACKGROUND;
		else if (strcmp(v, "queue") == 0)
			a->delivery = CONF_DELIV_QUEUE;
		else
			return perr(p, "delivery: invalid value '%s'; use "
			    "foreground, background or queue", v);
		break;
	default:
		return perr(p, "%s: internal error", key);
	}
	a->setmask |= BIT(k);
	return 0;
}

/* Ends the current section (see "account default : NAME"). */
static void
end_section(struct parser *p)
{
	struct config *cf = p->cf;
	struct account *a;

	if (p->alias_of != NULL) {
		/*
		 * A bare "account default : NAME" (no keys of its own) names
		 * the default; it does not make a second account, whose
		 * tokens would be stored under another name.
		 */
		a = cf->accounts[cf->naccounts - 1];
		acct_free_fields(a);
		free(a);
		cf->naccounts--;
		cf->def = p->alias_of;
		p->alias_of = NULL;
	}
}

static int
valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._@+-", *s) == NULL)
			return 0;
	return 1;
}

/* "account NAME [: PARENT[, PARENT...]]" */
static int
start_account(struct parser *p, char *v)
{
	struct config *cf = p->cf;
	struct account *a, *parent, *first = NULL;
	char *colon, *name, *list, *s, *e;
	int nparents = 0;

	end_section(p);
	if ((colon = strchr(v, ':')) != NULL)
		*colon = '\0';
	name = v;
	while (*name != '\0' && isspace((unsigned char)name[strlen(name) - 1]))
		name[strlen(name) - 1] = '\0';
	if (!valid_name(name))
		return perr(p, "account: invalid account name '%s'; use "
		    "letters, digits and . _ @ + -", name);
	if (conf_account(cf, name) != NULL)
		return perr(p, "account '%s' is defined twice; rename one of "
		    "them", name);
	if (cf->naccounts >= LIM_ACCOUNTS)
		return perr(p, "too many accounts");
	a = xcalloc(1, sizeof(*a));
	a->name = xstrdup(name);
	a->from_line = p->line;
	overlay(a, &p->defaults);
	if (colon != NULL) {
		list = colon + 1;
		for (s = list; *s != '\0'; s = e) {
			while (*s == ',' || isspace((unsigned char)*s))
				s++;
			if (*s == '\0')
				break;
			e = s;
			while (*e != '\0' && *e != ',' &&
			    !isspace((unsigned char)*e))
				e++;
			if (*e != '\0')
				*e++ = '\0';
			if ((parent = conf_account(cf, s)) == NULL) {
				acct_free_fields(a);
				free(a);
				return perr(p, "account '%s' inherits from '%s', "
				    "which is not defined above; define it "
				    "first", name, s);
			}
			overlay(a, parent);
			if (nparents++ == 0)
				first = parent;
		}
		if (nparents == 0) {
			acct_free_fields(a);
			free(a);
			return perr(p, "account '%s': nothing after ':'; name "
			    "the account to inherit from", name);
		}
	}
	cf->accounts = xreallocarray(cf->accounts, cf->naccounts + 1,
	    sizeof(*cf->accounts));
	cf->accounts[cf->naccounts++] = a;
	if (strcmp(name, "default") == 0) {
		cf->def = a;
		if (nparents == 1)
			p->alias_of = first;
	}
	p->cur = a;
	p->in_account = 1;
	return 0;
}

/*
 * Cuts a comment off an unquoted value: '#' after white space starts one
 * (msmtp's files have them after values); a '#' inside a word stays.
 */
static void
strip_comment(char *v)
{
	char *s, *end;

	for (s = v; *s != '\0'; s++)
		if (*s == '#' && (s == v || isspace((unsigned char)s[-1]))) {
			*s = '\0';
			break;
		}
	end = v + strlen(v);
	while (end > v && isspace((unsigned char)end[-1]))
		*--end = '\0';
}

/* Splits "key value" and unquotes the value in place. */
static int
split_line(struct parser *p, char *line, char **key, char **val)
{
	char *s = line, *v, *w;

	*key = s;
	while (*s != '\0' && !isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		*s++ = '\0';
	while (isspace((unsigned char)*s))
		s++;
	v = s;
	if (*v != '"') {
		strip_comment(v);
		*val = v;
		return 0;
	}
	/* Double-quoted: \" and \\ escapes; only blanks may follow. */
	for (s = v + 1, w = v; *s != '"'; s++) {
		if (*s == '\0')
			return perr(p, "%s: missing closing '\"'; close the "
			    "quoted value", *key);
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*w++ = *s;
	}
	*w = '\0';
	for (s++; *s != '\0' && *s != '#'; s++)
		if (!isspace((unsigned char)*s))
			return perr(p, "%s: text after the closing quote; put "
			    "the whole value in quotes", *key);
	*val = v;
	return 0;
}

static int
parse_line(struct parser *p, char *line)
{
	char *key = NULL, *v = NULL, *end;
	size_t i;

	while (isspace((unsigned char)*line))
		line++;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (*line == '\0' || *line == '#')
		return 0;
	if (split_line(p, line, &key, &v) == -1)
		return -1;
	if (strcmp(key, "defaults") == 0) {
		if (*v != '\0')
			return perr(p, "defaults takes no value; write "
			    "'defaults' alone on its line");
		end_section(p);
		p->cur = &p->defaults;
		p->in_account = 0;
		return 0;
	}
	if (strcmp(key, "account") == 0)
		return start_account(p, v);
	for (i = 0; i < nitems(keywords); i++)
		if (strcmp(key, keywords[i].name) == 0)
			break;
	if (i == nitems(keywords))
		return perr(p, "unknown key '%s'; see oauthmail.conf(5) for "
		    "the keys", key);
	p->alias_of = NULL;	/* the default account has its own keys */
	return set_key(p, key, keywords[i].key, v);
}

static int
is_loopback_host(const char *h)
{
	return strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 ||
	    strcmp(h, "[::1]") == 0 || strncmp(h, "127.", 4) == 0;
}

/* https://, or http:// to 127.0.0.1, [::1] or localhost (tests). */
static int
check_endpoint(struct parser *p, const struct account *a, const char *key,
    const char *url)
{
	const char *h;
	size_t n;
	int k;

	if (url == NULL)
		return 0;
	if (strncasecmp(url, "https://", 8) == 0 && url[8] != '\0')
		return 0;
	if (strncasecmp(url, "http://", 7) == 0) {
		h = url + 7;
		n = strcspn(h, ":/?#");
		if (h[0] == '[')
			n = strcspn(h, "]") + 1;
		if ((n == 9 && strncmp(h, "127.0.0.1", 9) == 0) ||
		    (n == 5 && strncmp(h, "[::1]", 5) == 0) ||
		    (n == 9 && strncasecmp(h, "localhost", 9) == 0))
			return 0;
	}
	p->line = a->from_line;
	for (k = 0; k < (int)nitems(keywords); k++)
		if (strcmp(keywords[k].name, key) == 0)
			at_key(p, a, keywords[k].key);
	return perr(p, "account '%s': %s must be an https:// URL; fix "
	    "the URL", a->name, key);
}

static int
valid_tenant(const char *t)
{
	if (*t == '\0' || strlen(t) > 253)
		return 0;
	for (; *t != '\0'; t++)
		if (!isalnum((unsigned char)*t) && *t != '.' && *t != '-')
			return 0;
	return 1;
}

static void
preset(struct account *a, enum key k, char **field, const char *value)
{
	if (!ISSET(a, k) && *field == NULL)
		*field = xstrdup(value);
}

static int
apply_microsoft(struct parser *p, struct account *a)
{
	int outlook = a->provider == PROVIDER_OUTLOOK;
	const char *base = "https://login.microsoftonline.com/";
	char *u;

	preset(a, K_HOST, &a->host, outlook ? "smtp-mail.outlook.com" :
	    "smtp.office365.com");
	/* Exchange Online: 30 messages a minute per mailbox. */
	if (!ISSET(a, K_MAX_RATE))
		a->max_rate = 30;
	if (!ISSET(a, K_AUTH))
		a->auth = AUTH_XOAUTH2;
	if (a->flow == FLOW_CLIENT_CREDENTIALS) {
		at_key(p, a, K_FLOW);
		if (outlook)
			return perr(p, "account '%s': Outlook.com accounts "
			    "cannot use flow client_credentials; use authcode "
			    "or device", a->name);
		at_key(p, a, K_TENANT);
		if (a->tenant == NULL || strcmp(a->tenant, "common") == 0 ||
		    strcmp(a->tenant, "organizations") == 0 ||
		    strcmp(a->tenant, "consumers") == 0)
			return perr(p, "account '%s': flow client_credentials "
			    "needs your tenant; add 'tenant <tenant id or "
			    "domain, e.g. contoso.onmicrosoft.com>'",
			    a->name);
	}
	preset(a, K_TENANT, &a->tenant, outlook ? "consumers" : "common");
	/* "tenant" with an empty value leaves it NULL: refuse that too. */
	at_key(p, a, K_TENANT);
	if (a->tenant == NULL || !valid_tenant(a->tenant))
		return perr(p, "account '%s': invalid tenant '%s'; use a "
		    "tenant id (GUID), a domain, common, organizations or "
		    "consumers", a->name, a->tenant ? a->tenant : "");
	if (!ISSET(a, K_AUTH_ENDPOINT) && a->auth_endpoint == NULL) {
		u = xasprintf("%s%s/oauth2/v2.0/authorize", base, a->tenant);
		a->auth_endpoint = u;
	}
	if (!ISSET(a, K_TOKEN_ENDPOINT) && a->token_endpoint == NULL) {
		u = xasprintf("%s%s/oauth2/v2.0/token", base, a->tenant);
		a->token_endpoint = u;
	}
	if (!ISSET(a, K_DEVICE_ENDPOINT) && a->device_endpoint == NULL) {
		u = xasprintf("%s%s/oauth2/v2.0/devicecode", base, a->tenant);
		a->device_endpoint = u;
	}
	preset(a, K_SCOPE, &a->scope, a->flow == FLOW_CLIENT_CREDENTIALS ?
	    "https://outlook.office365.com/.default" :
	    "https://outlook.office.com/SMTP.Send offline_access");
	return 0;
}

static int
apply_google(struct parser *p, struct account *a)
{
	at_key(p, a, K_FLOW);
	if (a->flow == FLOW_DEVICE)
		return perr(p, "account '%s': Google does not allow the "
		    "device flow for Gmail scopes; use the browser sign-in "
		    "(flow authcode)", a->name);
	if (a->flow == FLOW_CLIENT_CREDENTIALS)
		return perr(p, "account '%s': Google does not offer client "
		    "credentials for Gmail; use flow authcode", a->name);
	preset(a, K_HOST, &a->host, "smtp.gmail.com");
	if (!ISSET(a, K_PORT) && !ISSET(a, K_TLS_STARTTLS)) {
		a->port = 465;		/* RFC 8314 implicit TLS */
		a->tls_starttls = 0;
		a->setmask |= BIT(K_TLS_STARTTLS);
	}
	if (!ISSET(a, K_AUTH))
		a->auth = AUTH_XOAUTH2;
	preset(a, K_AUTH_ENDPOINT, &a->auth_endpoint,
	    "https://accounts.google.com/o/oauth2/v2/auth");
	preset(a, K_TOKEN_ENDPOINT, &a->token_endpoint,
	    "https://oauth2.googleapis.com/token");
	preset(a, K_REVOKE_ENDPOINT, &a->revoke_endpoint,
	    "https://oauth2.googleapis.com/revoke");
	preset(a, K_SCOPE, &a->scope, "https://mail.google.com/");
	return 0;
}

/* client_certificate / client_assertion_file: app-only, one of them. */
static int
check_assertion(struct parser *p, struct account *a)
{
	if (a->client_certificate == NULL && a->client_assertion_file == NULL) {
		at_key(p, a, K_CLIENT_ASSERTION_ALG);
		if (a->client_assertion_alg != NULL)
			return perr(p, "account '%s': client_assertion_alg is "
			    "used only with client_certificate; add it or "
			    "remove this line", a->name);
		return 0;
	}
	at_key(p, a, a->client_certificate != NULL ? K_CLIENT_CERTIFICATE :
	    K_CLIENT_ASSERTION_FILE);
	if (a->client_certificate != NULL && a->client_assertion_file != NULL)
		return perr(p, "account '%s': client_certificate and "
		    "client_assertion_file exclude each other; keep one",
		    a->name);
	if (a->flow != FLOW_CLIENT_CREDENTIALS)
		return perr(p, "account '%s': %s signs the application in "
		    "(app-only); add 'flow client_credentials'", a->name,
		    a->client_certificate != NULL ? "client_certificate" :
		    "client_assertion_file");
	return 0;
}

static int
check_oauth(struct parser *p, struct account *a)
{
	if (a->provider == PROVIDER_NONE) {
		if (a->token_endpoint != NULL)
			a->provider = PROVIDER_CUSTOM;
		else if (a->auth == AUTH_XOAUTH2 ||
		    a->auth == AUTH_OAUTHBEARER || a->client_id != NULL)
			return perr(p, "account '%s': OAuth needs a provider; "
			    "add 'provider microsoft', 'outlook', 'google' or "
			    "'custom' with token_endpoint", a->name);
		else
			return 0;
	}
	at_key(p, a, K_AUTH);
	if (a->auth == AUTH_PLAIN || a->auth == AUTH_LOGIN)
		return perr(p, "account '%s': auth %s does not use OAuth; "
		    "remove 'provider' or use auth xoauth2", a->name,
		    a->auth == AUTH_PLAIN ? "plain" : "login");
	p->line = a->from_line;
	switch (a->provider) {
	case PROVIDER_MICROSOFT:
	case PROVIDER_OUTLOOK:
		if (apply_microsoft(p, a) == -1)
			return -1;
		break;
	case PROVIDER_GOOGLE:
		if (apply_google(p, a) == -1)
			return -1;
		break;
	case PROVIDER_CUSTOM:
		if (a->token_endpoint == NULL)
			return perr(p, "account '%s': provider custom needs "
			    "the token endpoint; add 'token_endpoint "
			    "https://...'", a->name);
		if (a->flow == FLOW_AUTHCODE && a->auth_endpoint == NULL)
			return perr(p, "account '%s': flow authcode needs "
			    "'auth_endpoint https://...'", a->name);
		if (a->flow == FLOW_DEVICE && a->device_endpoint == NULL)
			return perr(p, "account '%s': flow device needs "
			    "'device_endpoint https://...'", a->name);
		break;
	default:
		break;
	}
	if (a->auth == AUTH_NONE)
		return 0;
	if (a->client_id == NULL)
		return perr(p, "account '%s': OAuth needs the application's "
		    "client id; add 'client_id <id from your app "
		    "registration>'", a->name);
	if (check_endpoint(p, a, "auth_endpoint", a->auth_endpoint) == -1 ||
	    check_endpoint(p, a, "token_endpoint", a->token_endpoint) == -1 ||
	    check_endpoint(p, a, "device_endpoint", a->device_endpoint) == -1 ||
	    check_endpoint(p, a, "revoke_endpoint", a->revoke_endpoint) == -1)
		return -1;
	return check_assertion(p, a);
}

/* The API transport's endpoints and scope (after the provider's presets). */
static int
check_api(struct parser *p, struct account *a)
{
	int ms = a->provider == PROVIDER_MICROSOFT ||
	    a->provider == PROVIDER_OUTLOOK;

	if (ms)
		preset(a, K_GRAPH_ENDPOINT, &a->graph_endpoint,
		    CONF_GRAPH_ENDPOINT);
	if (a->provider == PROVIDER_GOOGLE)
		preset(a, K_GMAIL_ENDPOINT, &a->gmail_endpoint,
		    CONF_GMAIL_ENDPOINT);
	if (ms)
		preset(a, K_API_SCOPE, &a->api_scope,
		    a->flow == FLOW_CLIENT_CREDENTIALS ?
		    "https://graph.microsoft.com/.default" :
		    "https://graph.microsoft.com/Mail.Send offline_access");
	else if (a->provider == PROVIDER_GOOGLE)
		preset(a, K_API_SCOPE, &a->api_scope,
		    "https://www.googleapis.com/auth/gmail.send");
	if (check_endpoint(p, a, "graph_endpoint", a->graph_endpoint) == -1 ||
	    check_endpoint(p, a, "gmail_endpoint", a->gmail_endpoint) == -1)
		return -1;
	if (a->transport == TRANSPORT_SMTP)
		return 0;
	at_key(p, a, K_TRANSPORT);
	if (a->provider == PROVIDER_NONE || a->auth == AUTH_NONE)
		return perr(p, "account '%s': transport %s needs OAuth; set "
		    "'provider microsoft' or 'google' (or use transport smtp)",
		    a->name, conf_transport_name(a->transport));
	if ((a->transport == TRANSPORT_GRAPH && a->graph_endpoint == NULL) ||
	    (a->transport == TRANSPORT_GMAIL && a->gmail_endpoint == NULL) ||
	    (a->transport == TRANSPORT_AUTO &&
	    conf_api_transport(a) == TRANSPORT_SMTP))
		return perr(p, "account '%s': transport %s needs the API's "
		    "address; add 'graph_endpoint https://...' or "
		    "'gmail_endpoint https://...'", a->name,
		    conf_transport_name(a->transport));
	if (a->api_scope == NULL)
		return perr(p, "account '%s': transport %s needs the API's "
		    "scope; add 'api_scope SCOPES' (the scope the API's "
		    "tokens must carry)", a->name,
		    conf_transport_name(a->transport));
	return 0;
}

/* Presets and checks of one account, after the whole file is read. */
static int
finish_account(struct parser *p, struct account *a)
{
	p->line = a->from_line;
	if (!ISSET(a, K_TLS))
		a->tls = 1;
	if (!ISSET(a, K_SYSLOG))
		a->syslog = 1;
	if (!ISSET(a, K_REFRESH_MARGIN))
		a->refresh_margin = 300;
	if (check_oauth(p, a) == -1 || check_api(p, a) == -1)
		return -1;
	p->line = a->from_line;
	if (!ISSET(a, K_TLS_STARTTLS))
		a->tls_starttls = a->port == 465 ? 0 : 1;
	if (a->host == NULL)
		return perr(p, "account '%s': no host; add 'host "
		    "smtp.example.com' (or 'provider microsoft', 'outlook' or "
		    "'google')", a->name);
	if (a->from == NULL)
		return perr(p, "account '%s': no sender address; add 'from "
		    "you@example.com'", a->name);
	at_key(p, a, K_FROM);
	if (strchr(a->from, '@') == NULL)
		return perr(p, "account '%s': from '%s' is not an address; "
		    "write 'from you@example.com'", a->name, a->from);
	if (a->user == NULL)
		a->user = xstrdup(a->from);
	at_key(p, a, K_TLS);
	if (!a->tls && a->auth != AUTH_NONE && !is_loopback_host(a->host))
		return perr(p, "account '%s': 'tls off' would send "
		    "credentials (bearer tokens) across the network in clear "
		    "text; remove 'tls off' (it is allowed only with 'auth "
		    "off' or a loopback host)", a->name);
	return 0;
}

static int
parse_text(struct parser *p, const char *text, size_t len)
{
	char line[LIM_CONF_LINE];
	const char *s = text, *end = text + len, *nl;
	size_t n;

	if (memchr(text, '\0', len) != NULL) {
		p->line = 0;
		return err_set(p->err, ERR_CONFIG, "%s: contains a NUL byte; "
		    "is it a text file?", p->name);
	}
	p->line = 0;
	while (s < end) {
		p->line++;
		nl = memchr(s, '\n', (size_t)(end - s));
		n = (size_t)((nl != NULL ? nl : end) - s);
		if (n >= sizeof(line)) {
			(void)perr(p, "line too long (at most %d bytes); "
			    "shorten it", LIM_CONF_LINE - 1);
			s += n + (nl != NULL);
			continue;
		}
		memcpy(line, s, n);
		line[n] = '\0';
		/* On to the next line: all the file's errors in one run. */
		(void)parse_line(p, line);
		s += n + (nl != NULL);
	}
	end_section(p);
	return p->nerrors > 0 ? -1 : 0;
}

static int
parse_all(const char *name, const char *text, size_t len, struct config *cf,
    struct err *err)
{
	struct parser p;
	size_t i;
	int r = -1;

	memset(cf, 0, sizeof(*cf));
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.cf = cf;
	p.cur = &p.defaults;
	p.err = err;
	if (parse_text(&p, text, len) == -1)
		goto out;
	if (cf->naccounts == 0) {
		(void)err_set(err, ERR_CONFIG, "%s: no account defined; add "
		    "'account NAME' followed by its settings (see "
		    "oauthmail.conf(5))", name);
		goto out;
	}
	for (i = 0; i < cf->naccounts; i++)
		(void)finish_account(&p, cf->accounts[i]);
	if (p.nerrors > 0)
		goto out;
	/* System mode: the daemon's queue is under the spool root. */
	for (i = 0; cf->system_mode && i < cf->naccounts; i++)
		if (cf->accounts[i]->queue_dir == NULL)
			cf->accounts[i]->queue_dir = xasprintf("%s/queue",
			    conf_spool_dir(cf));
	r = 0;
out:
	acct_free_fields(&p.defaults);
	if (r == -1)
		conf_free(cf);
	return r;
}

int
conf_load_buffer(const char *name, const char *text, size_t len,
    struct config *cf, struct err *err)
{
	if (parse_all(name, text, len, cf, err) == -1)
		return -1;
	cf->path = xstrdup(name);
	return 0;
}

int
conf_check_perms(int fd, const char *path, struct err *err)
{
	struct stat st;
	uid_t uid = getuid();

	if (fstat(fd, &st) == -1)
		return err_set(err, ERR_CONFIG, "%s: %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(err, ERR_CONFIG, "%s: not a regular file; "
		    "point to a file", path);
	if (st.st_uid != uid && st.st_uid != 0)
		return err_set(err, ERR_CONFIG, "%s: owned by uid %lu, not by "
		    "you (uid %lu) or root; run 'chown %lu %s' and 'chmod 600 "
		    "%s'", path, (unsigned long)st.st_uid, (unsigned long)uid,
		    (unsigned long)uid, path, path);
	if ((st.st_mode & S_IWOTH) ||
	    ((st.st_mode & S_IWGRP) && st.st_gid != 0))
		return err_set(err, ERR_CONFIG, "%s: writable by others (mode "
		    "%03o); run 'chmod 600 %s'", path,
		    (unsigned)(st.st_mode & 0777), path);
	return 0;
}

int
conf_load_fd(int fd, const char *name, struct config *cf, struct err *err)
{
	struct stat st;
	char *text;
	size_t len = 0;
	ssize_t n;
	int r = -1;

	memset(cf, 0, sizeof(*cf));
	if (fstat(fd, &st) == -1 || st.st_size > LIM_CONF_FILE)
		return err_set(err, ERR_CONFIG, "%s: larger than %d bytes; is "
		    "it the right file?", name, LIM_CONF_FILE);
	text = xmalloc(LIM_CONF_FILE + 1);
	for (;;) {
		n = read(fd, text + len, LIM_CONF_FILE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)err_set(err, ERR_CONFIG, "%s: read: %s", name,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > LIM_CONF_FILE) {
			(void)err_set(err, ERR_CONFIG, "%s: larger than %d "
			    "bytes; is it the right file?", name,
			    LIM_CONF_FILE);
			goto out;
		}
	}
	r = conf_load_buffer(name, text, len, cf, err);
out:
	free(text);
	return r;
}

/* Opens path: 0, or -1 with errno ENOENT left for the caller, or error. */
static int
load_file(const char *path, struct config *cf, struct err *err,
    int *missing)
{
	int fd, r = -1;

	*missing = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT)
			*missing = 1;
		return err_set(err, ERR_CONFIG, "%s: %s; fix the path or its "
		    "permissions", path, strerror(errno));
	}
	if (conf_check_perms(fd, path, err) == 0)
		r = conf_load_fd(fd, path, cf, err);
	(void)close(fd);
	return r;
}

int
conf_load(const char *path, struct config *cf, struct err *err)
{
	char xdg[1024];
	const char *env;
	int missing;

	memset(cf, 0, sizeof(*cf));
	if (path != NULL)
		return load_file(path, cf, err, &missing);
	if ((env = getenv("OAUTHMAIL_CONFIG")) != NULL && *env != '\0')
		return load_file(env, cf, err, &missing);
	if (util_xdg_dir(xdg, sizeof(xdg), "XDG_CONFIG_HOME", ".config") == 0 &&
	    strlcat(xdg, "/oauthmail/config", sizeof(xdg)) < sizeof(xdg)) {
		if (load_file(xdg, cf, err, &missing) == 0)
			return 0;
		if (!missing)
			return -1;
	}
	if (load_file(SYSCONFDIR "/oauthmail.conf", cf, err, &missing) == 0)
		return 0;
	if (!missing)
		return -1;
	return err_set(err, ERR_CONFIG, NO_CONFIG_MSG);
}

const char *
conf_spool_dir(const struct config *cf)
{
	return cf->spool_dir != NULL ? cf->spool_dir : CONF_SPOOL_DIR;
}

/*
 * A file only root can have written: the file and every directory above it
 * are owned by root and writable by nobody else, except a sticky directory
 * (/tmp), where others cannot rename or remove a root-owned entry. Checked
 * with lstat on each component of the resolved path; nothing on the path
 * can then change under us unless root changes it.
 */
int
conf_root_only_path(const char *path, struct err *err)
{
	char *real, *s;
	struct stat st;
	int r = -1;

	if ((real = realpath(path, NULL)) == NULL)
		return err_set(err, ERR_CONFIG, "%s: %s", path,
		    strerror(errno));
	for (s = real;;) {
		char save = '/';
		char *slash = strchr(s + 1, '/');

		if (slash != NULL) {
			save = *slash;
			*slash = '\0';
		}
		if (lstat(*real == '\0' ? "/" : real, &st) == -1) {
			(void)err_set(err, ERR_CONFIG, "%s: %s", real,
			    strerror(errno));
			goto out;
		}
		if (st.st_uid != 0 || ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    !(S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) &&
		    slash != NULL))) {
			(void)err_set(err, ERR_CONFIG, "%s: a set-group-id "
			    "run reads only a configuration that root alone "
			    "can change, and %s is owned by uid %lu or "
			    "writable by others", path, *real ? real : "/",
			    (unsigned long)st.st_uid);
			if (slash != NULL)
				*slash = save;
			goto out;
		}
		if (slash == NULL)
			break;
		*slash = save;
		s = slash;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)err_set(err, ERR_CONFIG, "%s: not a regular file", path);
		goto out;
	}
	r = 0;
out:
	free(real);
	return r;
}

void
conf_free(struct config *cf)
{
	size_t i;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->naccounts; i++) {
		acct_free_fields(cf->accounts[i]);
		free(cf->accounts[i]);
	}
	free(cf->accounts);
	free(cf->path);
	free(cf->spool_dir);
	memset(cf, 0, sizeof(*cf));
}

struct account *
conf_account(const struct config *cf, const char *name)
{
	size_t i;

	if (name == NULL)	/* e.g. "oauthmail status" without ACCOUNT */
		return cf->def;
	for (i = 0; i < cf->naccounts; i++)
		if (strcmp(cf->accounts[i]->name, name) == 0)
			return cf->accounts[i];
	if (strcmp(name, "default") == 0)
		return cf->def;
	return NULL;
}

struct account *
conf_select(const struct config *cf, const char *name, const char *sender,
    struct err *err)
{
	struct account *a;
	size_t i;

	if (name != NULL) {
		if ((a = conf_account(cf, name)) == NULL)
			(void)err_set(err, ERR_CONFIG, "no account '%s' in %s; "
			    "use one of the accounts defined there", name,
			    cf->path ? cf->path : "the configuration");
		return a;
	}
	if (sender != NULL && *sender != '\0') {
		for (i = 0; i < cf->naccounts; i++)
			if (strcasecmp(cf->accounts[i]->from, sender) == 0)
				return cf->accounts[i];
		for (i = 0; i < cf->naccounts; i++) {
			a = cf->accounts[i];
			if (!a->allow_from_override &&
			    conf_sender_allowed(a, sender))
				return a;
		}
	}
	if (cf->def != NULL)
		return cf->def;
	if (cf->naccounts == 1)
		return cf->accounts[0];
	(void)err_set(err, ERR_CONFIG, "%s: several accounts and no default; "
	    "add 'account default : NAME' or use -a ACCOUNT",
	    cf->path ? cf->path : "configuration");
	return NULL;
}

int
conf_port(const struct account *a)
{
	if (a->port != 0)
		return a->port;
	return a->tls && !a->tls_starttls ? 465 : 587;
}

int
conf_is_oauth(const struct account *a)
{
	if (a->provider == PROVIDER_NONE)
		return 0;
	return a->auth == AUTH_AUTO || a->auth == AUTH_XOAUTH2 ||
	    a->auth == AUTH_OAUTHBEARER;
}

int
conf_sender_allowed(const struct account *a, const char *sender)
{
	const char *at, *pat;
	size_t i;

	if (sender == NULL || *sender == '\0' || a->allow_from_override)
		return 1;
	if (a->from != NULL && strcasecmp(a->from, sender) == 0)
		return 1;
	at = strrchr(sender, '@');
	for (i = 0; i < a->nsend_as; i++) {
		pat = a->send_as[i];
		if (strcasecmp(pat, sender) == 0)
			return 1;
		if (pat[0] == '*' && pat[1] == '@' && at != NULL &&
		    at != sender && strcasecmp(pat + 2, at + 1) == 0)
			return 1;
	}
	return 0;
}

const char *
conf_pick_sender(const struct account *a, const char *sender)
{
	if (sender == NULL)
		return a->from;
	/* the null sender (-f '<>': bounces, auto-replies) goes out as is */
	if (a->allow_from_override || sender[0] == '\0')
		return sender;
	if (conf_sender_allowed(a, sender))
		return sender;
	log_info("envelope sender <%s> is not an address account '%s' may "
	    "send as; using <%s> (set allow_from_override or send_as to "
	    "change this)", sender, a->name, a->from);
	return a->from;
}

/* The API's own limit when the account sends only over one (0: none). */
static long long
api_limit(const struct account *a)
{
	if (a->transport == TRANSPORT_GRAPH)
		return CONF_GRAPH_MAX_MESSAGE;
	if (a->transport == TRANSPORT_GMAIL)
		return CONF_GMAIL_MAX_MESSAGE;
	return 0;
}

long long
conf_max_message_size(const struct account *a)
{
	long long n = a->max_message_size > 0 ? a->max_message_size :
	    CONF_MAX_MESSAGE_SIZE;

	return api_limit(a) > 0 && api_limit(a) < n ? api_limit(a) : n;
}

const char *
conf_size_cure(const struct account *a)
{
	if (api_limit(a) == 0 || (a->max_message_size > 0 &&
	    a->max_message_size <= api_limit(a)))
		return NULL;
	if (a->transport == TRANSPORT_GRAPH)
		return "Microsoft Graph takes about 3 MB (4 MB of base64): "
		    "send it through an account with transport smtp or auto, "
		    "or make it smaller (a link instead of an attachment)";
	return "the Gmail API takes at most 35 MiB: make it smaller (a "
	    "link instead of an attachment)";
}
