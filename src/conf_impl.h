/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * conf_impl.h -- what the configuration modules share, for them alone:
 * conf_file.c (the file: sections and lines), conf_keys.c (keys and
 * values, and the errors of the file), conf_provider.c (provider presets
 * and the OAuth and API checks of an account) and conf_query.c
 * (questions asked of a loaded configuration). The calls run one way:
 * conf_file.c calls the keys and the presets, the presets call the keys'
 * errors; none calls back into conf_file.c.
 */
#ifndef CONF_IMPL_H
#define CONF_IMPL_H

#include "common.h"
#include "conf.h"
#include "status.h"

/* The keys of the file, in the order of conf_keys.c's keyword table. */
enum key {
	K_HOST, K_PORT, K_TLS, K_TLS_STARTTLS, K_TLS_TRUST_FILE, K_TIMEOUT,
	K_DOMAIN, K_FROM, K_USER, K_SEND_AS, K_ALLOW_FROM_OVERRIDE, K_AUTH,
	K_PROVIDER, K_TENANT, K_CLIENT_ID, K_SCOPE, K_AUTH_ENDPOINT,
	K_TOKEN_ENDPOINT, K_DEVICE_ENDPOINT, K_REVOKE_ENDPOINT, K_FLOW,
	K_REFRESH_MARGIN, K_KEYRING, K_ALIASES, K_LOGFILE, K_SYSLOG,
	K_DELIVERY, K_QUEUE_DIR, K_MAX_RATE, K_ADMIN, K_MAX_MESSAGE_SIZE,
	K_CLIENT_CERTIFICATE, K_CLIENT_ASSERTION_ALG, K_CLIENT_ASSERTION_FILE,
	K_TRANSPORT, K_GRAPH_ENDPOINT, K_GMAIL_ENDPOINT, K_API_SCOPE,
	K_TOKEN_CACHE,
	K_NKEYS,
	/* Keys that are not account settings: */
	K_MODE, K_SPOOL_DIR, K_TLS_CERTCHECK, K_PASSWORD, K_CLIENT_SECRET,
	K_MAILDROP_MAX_FILES, K_MAILDROP_MAX_BYTES, K_CORRUPT_MAX_AGE
};

#define BIT(k)		(1ULL << (k))
#define ISSET(a, k)	(((a)->setmask & BIT(k)) != 0)

struct parser {
	const char	*name;		/* file name for messages */
	int		 line;
	struct config	*cf;
	struct account	 defaults;	/* the "defaults" section */
	struct account	*cur;		/* where key lines go */
	struct account	 discard;	/* keys after a refused "account" */
	int		 in_account;
	struct account	*alias_of;	/* "account default : X", no keys yet */
	struct err	*err;
	int		 nerrors;	/* errors reported so far */
};

/*
 * Reports an error at "FILE:LINE: " (p->line) and returns -1. The parser
 * goes on after an error so that one run reports every error of the file:
 * each earlier one is printed as a warning when the next is found, the
 * last stays in p->err for the caller.
 */
int	conf_perr(struct parser *p, const char *fmt, ...) OM_PRINTF(2, 3);
/* Points p->line at the line of key k in account a (else the account's). */
void	conf_at_key(struct parser *p, const struct account *a, enum key k);

/* The key named name (a keyword of the file): 0, or -1 if unknown. */
int	conf_key_lookup(const char *name, enum key *k);
/*
 * Checks value v of key k (named key in messages) and stores it in
 * p->cur, marking k set. -1 with conf_perr's message.
 */
int	conf_set_key(struct parser *p, const char *key, enum key k,
	    const char *v);
/* Copies into dst every key src set (inheritance, "defaults"). */
void	conf_overlay(struct account *dst, const struct account *src);
/* Frees the account's strings and send_as list (not the account). */
void	conf_account_free(struct account *a);

/* 1 for localhost, 127.x.y.z and ::1 (with or without brackets). */
int	conf_is_loopback_host(const char *h);

/*
 * After the whole file is read: the provider's presets (host, endpoints,
 * scopes, limits) for keys the account did not set, then the checks of
 * its OAuth settings (provider, flow, client id, https endpoints, client
 * assertions) and of its API transport. -1 with conf_perr's message.
 */
int	conf_apply_provider(struct parser *p, struct account *a);

#endif
