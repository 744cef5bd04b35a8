/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * conf_keys.c -- the keys of the configuration file: the keyword table,
 * one switch that checks and stores each value (the shape of OpenSSH's
 * readconf.c), inheritance, which copies exactly the keys a section set
 * (its setmask), and the "FILE:LINE: " errors of the file's checks, at
 * the line of the key at fault; see conf_impl.h.
 */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "advice.h"
#include "conf.h"
#include "conf_impl.h"
#include "jwt.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#define LIM_SEND_AS	1000

_Static_assert(K_NKEYS <= CONF_KEY_SLOTS, "CONF_KEY_SLOTS too small");
_Static_assert(K_NKEYS <= 64, "setmask has 64 bits");

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
	{ "token_cache", K_TOKEN_CACHE },
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

void
conf_account_free(struct account *a)
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
		case K_TOKEN_CACHE: dst->token_cache = src->token_cache; break;
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

void
conf_overlay(struct account *dst, const struct account *src)
{
	int k;

	for (k = 0; k < K_NKEYS; k++)
		if (ISSET(src, k))
			copy_key(dst, src, (enum key)k);
}

/*
 * "FILE:LINE: " + the message. Returns -1. The parser goes on after an
 * error so that one run reports every error of the file: each earlier
 * one is printed as a warning when the next is found, the last stays in
 * p->err for the caller.
 */
int
conf_perr(struct parser *p, const char *fmt, ...)
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
void
conf_at_key(struct parser *p, const struct account *a, enum key k)
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
	return conf_perr(p, "%s: invalid value '%s'; use on or off", key, v);
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
		return conf_perr(p, "%s: invalid duration '%s'; use seconds, "
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
		return conf_perr(p, "%s is a global setting; move it above the "
		    "first account", key);
	if (k == K_MAILDROP_MAX_FILES) {
		if (util_parse_ll(v, 1, 1000000, &x, &errstr) == -1)
			return conf_perr(p, "%s: invalid value '%s'; use a "
			    "number of files from 1 to 1000000, e.g. "
			    "1000", key, v);
		cf->maildrop_max_files = x;
	} else if (k == K_MAILDROP_MAX_BYTES) {
		if (parse_size(v, &x) == -1)
			return conf_perr(p, "%s: invalid size '%s'; use bytes, "
			    "e.g. 1G (K, M, G: 1024 based), at least "
			    "1K", key, v);
		cf->maildrop_max_bytes = x;
	} else if (strcmp(v, "off") == 0)
		cf->corrupt_max_age = -1;
	else if (util_parse_duration(v, &x) == -1 || x == 0)
		return conf_perr(p, "%s: invalid duration '%s'; use e.g. 30d, "
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
			return conf_perr(p, "send_as: too many addresses; at "
			    "most %d", LIM_SEND_AS);
		if (memchr(s, '@', (size_t)(e - s)) == NULL)
			return conf_perr(p, "send_as: '%s' is not an address; "
			    "use user@example.com or *@example.com", v);
		a->send_as = xreallocarray(a->send_as, a->nsend_as + 1,
		    sizeof(char *));
		a->send_as[a->nsend_as++] = xstrndup(s, (size_t)(e - s));
		s = e;
	}
	a->setmask |= BIT(K_SEND_AS);
	return 0;
}

/* Sets one key of the current section. */
int
conf_set_key(struct parser *p, const char *key, enum key k, const char *v)
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
			return conf_perr(p, "%s: not used: %s", key, fix);
		}
		return conf_perr(p, "%s: secrets are never stored in the "
		    "config file; remove this line and run 'oauthmail password "
		    "ACCOUNT'", key);
	case K_CLIENT_SECRET:
		return conf_perr(p, "%s: secrets are never stored in the "
		    "config file; remove this line and run 'oauthmail secret "
		    "ACCOUNT'", key);
	case K_TLS_CERTCHECK:
		if (parse_bool(p, key, v, &b) == -1)
			return -1;
		if (!b)
			return conf_perr(p, "TLS certificate verification "
			    "cannot be turned off; use tls_trust_file for a "
			    "private CA");
		return 0;	/* "on" is what we always do */
	case K_MODE:
		if (p->in_account)
			return conf_perr(p, "mode is a global setting; move it "
			    "above the first account");
		if (strcmp(v, "system") == 0)
			p->cf->system_mode = 1;
		else if (strcmp(v, "user") == 0)
			p->cf->system_mode = 0;
		else
			return conf_perr(p, "mode: invalid value '%s'; use "
			    "system or user", v);
		return 0;
	case K_MAILDROP_MAX_FILES:
	case K_MAILDROP_MAX_BYTES:
	case K_CORRUPT_MAX_AGE:
		return parse_maildrop_key(p, k, key, v);
	case K_SPOOL_DIR:
		if (p->in_account)
			return conf_perr(p, "spool_dir is a global setting; "
			    "move it above the first account");
		if (*v != '/')
			return conf_perr(p, "spool_dir: '%s' is not an "
			    "absolute path; use e.g. /var/spool/oauthmail", v);
		free(p->cf->spool_dir);
		p->cf->spool_dir = xstrdup(v);
		return 0;
	case K_CLIENT_CERTIFICATE:
	case K_CLIENT_ASSERTION_FILE:
		if (*v != '\0' && *v != '/' && strncmp(v, "~/", 2) != 0)
			return conf_perr(p, "%s: '%s' is not an absolute path; "
			    "give the full path (or ~/...)", key, v);
		break;
	case K_CLIENT_ASSERTION_ALG:
		if (*v != '\0' && !jwt_alg_valid(v))
			return conf_perr(p, "client_assertion_alg: unknown "
			    "algorithm '%s'; use RS256, PS256 or ES256", v);
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
			return conf_perr(p, "port: invalid port '%s'; use a "
			    "number from 1 to 65535, e.g. 587", v);
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
	case K_TOKEN_CACHE:
		if (parse_bool(p, key, v, &a->token_cache) == -1)
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
			return conf_perr(p, "max_message_size: invalid size "
			    "'%s'; use bytes, e.g. 26214400 or 25M (K, M, G: "
			    "1024 based), at least 1K", v);
		break;
	case K_MAX_RATE:
		if (util_parse_ll(v, 0, 100000, &n, &errstr) == -1)
			return conf_perr(p, "max_rate: invalid value '%s'; use "
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
			return conf_perr(p, "auth: unsupported method '%s'; "
			    "use xoauth2, oauthbearer, plain, login, auto or "
			    "off", v);
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
			return conf_perr(p, "provider: unknown provider '%s'; "
			    "use microsoft, outlook, google or custom", v);
		break;
	case K_FLOW:
		if (strcmp(v, "authcode") == 0)
			a->flow = FLOW_AUTHCODE;
		else if (strcmp(v, "device") == 0)
			a->flow = FLOW_DEVICE;
		else if (strcmp(v, "client_credentials") == 0)
			a->flow = FLOW_CLIENT_CREDENTIALS;
		else
			return conf_perr(p, "flow: unknown flow '%s'; use "
			    "authcode, device or client_credentials", v);
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
			return conf_perr(p, "keyring: unknown keyring '%s'; "
			    "use auto, secret-service or kernel", v);
		break;
	case K_SYSLOG:
		if (*v == '\0' || strcmp(v, "on") == 0 ||
		    strcmp(v, "LOG_MAIL") == 0)
			a->syslog = 1;
		else if (strcmp(v, "off") == 0)
			a->syslog = 0;
		else
			return conf_perr(p, "syslog: invalid value '%s'; use "
			    "on, off or LOG_MAIL", v);
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
			return conf_perr(p, "transport: unknown transport "
			    "'%s'; use smtp, graph, gmail-api or auto", v);
		break;
	case K_DELIVERY:
		if (strcmp(v, "foreground") == 0)
			a->delivery = CONF_DELIV_FOREGROUND;
		else if (strcmp(v, "background") == 0)
			a->delivery = CONF_DELIV_BACKGROUND;
		else if (strcmp(v, "queue") == 0)
			a->delivery = CONF_DELIV_QUEUE;
		else
			return conf_perr(p, "delivery: invalid value '%s'; use "
			    "foreground, background or queue", v);
		break;
	default:
		return conf_perr(p, "%s: internal error", key);
	}
	a->setmask |= BIT(k);
	return 0;
}

int
conf_key_lookup(const char *name, enum key *k)
{
	size_t i;

	for (i = 0; i < nitems(keywords); i++)
		if (strcmp(name, keywords[i].name) == 0) {
			*k = keywords[i].key;
			return 0;
		}
	return -1;
}
