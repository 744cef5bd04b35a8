/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * conf.h -- the configuration file (msmtp vocabulary + OAuth keys,
 * doc/design.md §3) parsed into immutable account records.
 */
#ifndef CONF_H
#define CONF_H

#include "common.h"
#include "status.h"

enum conf_auth {
	AUTH_AUTO = 0,		/* provider default, else best offered */
	AUTH_XOAUTH2,
	AUTH_OAUTHBEARER,
	AUTH_PLAIN,
	AUTH_LOGIN,
	AUTH_NONE		/* "auth off": no AUTH (test relays only) */
};

enum conf_provider {
	PROVIDER_NONE = 0,	/* no OAuth: password auth or none */
	PROVIDER_MICROSOFT,
	PROVIDER_GOOGLE,
	PROVIDER_CUSTOM,
	PROVIDER_OUTLOOK	/* Outlook.com consumer accounts (Microsoft) */
};

enum conf_flow {
	FLOW_DEFAULT = 0,	/* provider default */
	FLOW_AUTHCODE,
	FLOW_DEVICE,
	FLOW_CLIENT_CREDENTIALS
};

enum conf_keyring {
	KEYRING_AUTO = 0,
	KEYRING_SECRET_SERVICE,
	KEYRING_KERNEL
};

enum conf_delivery {
	CONF_DELIV_FOREGROUND = 0,	/* try now, queue on temporary failure */
	CONF_DELIV_BACKGROUND,
	CONF_DELIV_QUEUE
};

enum conf_transport {
	TRANSPORT_SMTP = 0,
	TRANSPORT_GRAPH,	/* Microsoft Graph sendMail */
	TRANSPORT_GMAIL,	/* Gmail API messages.send (upload) */
	TRANSPORT_AUTO		/* SMTP; the API when SMTP AUTH is off */
};

/* Room for the line number of each account key (conf_keys.c checks it). */
#define CONF_KEY_SLOTS	64

struct account {
	char		*name;
	/* Where: */
	char		*host;
	int		 port;		/* 0: 465 if tls_starttls off, else 587 */
	int		 tls;		/* "tls on|off" (default on) */
	int		 tls_starttls;	/* on: STARTTLS; off: implicit TLS */
	char		*tls_trust_file;
	int		 timeout;	/* seconds; 0 = RFC 5321 defaults */
	char		*domain;	/* EHLO name; default: host name */
	/* Who: */
	char		*from;		/* the account's address */
	char		*user;		/* SASL user= / user name */
	char		**send_as;	/* extra envelope senders allowed */
	size_t		 nsend_as;
	int		 allow_from_override;	/* -f accepted as given */
	enum conf_auth	 auth;
	/* OAuth: */
	enum conf_provider provider;
	char		*tenant;
	char		*client_id;
	char		*scope;
	char		*auth_endpoint;
	char		*token_endpoint;
	char		*device_endpoint;
	char		*revoke_endpoint;
	enum conf_flow	 flow;
	/* App-only sign-in without a secret (jwt.h): */
	char		*client_certificate;	/* PEM; its key in the keyring */
	char		*client_assertion_alg;	/* RS256, PS256, ES256; NULL */
	char		*client_assertion_file;	/* federated assertion */
	int		 refresh_margin;	/* seconds before expiry */
	enum conf_keyring keyring;
	int		 token_cache;	/* kernel copy of the access token */
	/* Local side: */
	char		*aliases;	/* aliases file */
	char		*logfile;
	int		 syslog;	/* default on */
	enum conf_delivery delivery;
	char		*queue_dir;	/* overrides the per-user default */
	int		 max_rate;	/* messages per minute per run; 0: none */
	char		*admin;		/* address for the daemon's warnings */
	long long	 max_message_size; /* bytes as sent; 0: the default */
	/* Delivery over an HTTPS API instead of SMTP (api.h): */
	enum conf_transport transport;
	char		*graph_endpoint;
	char		*gmail_endpoint;
	char		*api_scope;	/* the API token's scope */
	int		 from_line;	/* line of the "account" statement */
	int		 key_line[CONF_KEY_SLOTS];	/* internal: each key's line */
	unsigned long long setmask;	/* internal: keys set in the file */
};

struct config {
	char		*path;		/* the file read; NULL if none */
	struct account	**accounts;
	size_t		 naccounts;
	struct account	*def;		/* "account default : NAME", or NULL */
	int		 system_mode;	/* "mode system" */
	char		*spool_dir;	/* "spool_dir" (global), or NULL */
	/* The maildrop's bounds (sysq.h); 0: the default. */
	long long	 maildrop_max_files;	/* per user */
	long long	 maildrop_max_bytes;	/* per user */
	long long	 corrupt_max_age;	/* seconds; -1: "off" */
};

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR	"/var"
#endif
/* The system spool root (mode system): maildrop/ and queue/ below it. */
#define CONF_SPOOL_DIR	LOCALSTATEDIR "/spool/oauthmail"
/* The API endpoints' defaults (graph_endpoint, gmail_endpoint). */
#define CONF_GRAPH_ENDPOINT	"https://graph.microsoft.com/v1.0"
#define CONF_GMAIL_ENDPOINT	"https://gmail.googleapis.com"
/* The largest message (bytes as queued) each API takes (api.h). */
#define CONF_GRAPH_MAX_MESSAGE	(3LL * 1024 * 1024)	/* 4 MiB of base64 */
#define CONF_GMAIL_MAX_MESSAGE	(35LL * 1024 * 1024)
/* The largest message accepted when max_message_size is not set. */
#define CONF_MAX_MESSAGE_SIZE	(256LL * 1024 * 1024)

/*
 * Finds and loads the configuration: path (from -C) if given, else
 * $OAUTHMAIL_CONFIG, $XDG_CONFIG_HOME/oauthmail/config (~/.config/...),
 * /etc/oauthmail.conf. The file must not be writable by anyone but its
 * owner and root (checked with fstat on the open fd), and must not contain
 * secrets. Errors: ERR_CONFIG "FILE:LINE: what is wrong; what to do".
 * Provider presets are applied (endpoints, scopes, host, port, auth).
 */
int	conf_load(const char *path, struct config *cf, struct err *err);
/*
 * Loads from an open file (its permissions are the caller's to check);
 * name is used in errors.
 */
int	conf_load_fd(int fd, const char *name, struct config *cf,
	    struct err *err);
/* Loads from a memory buffer (tests, fuzzing); name is used in errors. */
int	conf_load_buffer(const char *name, const char *text, size_t len,
	    struct config *cf, struct err *err);
void	conf_free(struct config *cf);
/* Account by name (NULL: the default account), or NULL. */
struct account *conf_account(const struct config *cf, const char *name);
/*
 * Chooses the account: by name if name != NULL (ERR_CONFIG if unknown),
 * else the one whose from matches sender (case-insensitive), else default
 * (or the only account). ERR_CONFIG if none.
 */
struct account *conf_select(const struct config *cf, const char *name,
	    const char *sender, struct err *err);
/* Effective port: explicit, else 465 for implicit TLS, else 587. */
int	conf_port(const struct account *);
/* Whether the account authenticates with OAuth. */
int	conf_is_oauth(const struct account *);
/*
 * Whether the account may use sender as envelope/From address: sender
 * equals from or a send_as entry (case-insensitive), or matches a send_as
 * entry "*@example.com" by domain; always when allow_from_override is on.
 * The null sender "" is allowed (it impersonates nobody).
 */
int	conf_sender_allowed(const struct account *, const char *sender);
/*
 * Refuses an opened file that others could have written: writable by
 * others, group-writable unless its group is root, or owned by someone
 * other than the caller or root (fstat on fd). Also used for the aliases
 * file. Errors: ERR_CONFIG naming path and the fix (chmod 600 / chown).
 */
int	conf_check_perms(int fd, const char *path, struct err *err);
/* "microsoft", "outlook", "google", "custom" or "none". */
const char *conf_provider_name(enum conf_provider);
/*
 * The system spool root: spool_dir, else CONF_SPOOL_DIR. In system mode
 * every account's queue_dir defaults to <root>/queue (filled by the parser).
 */
const char *conf_spool_dir(const struct config *);
/*
 * Whether only root can have written path: it and every directory above it
 * (resolved) are owned by root and not writable by group or others, except
 * that a sticky directory (/tmp) may be. Used to honour -C in a
 * set-group-id run. ERR_CONFIG naming the offending component.
 */
int	conf_root_only_path(const char *path, struct err *err);
const char *conf_flow_name(enum conf_flow);
/* "smtp", "graph", "gmail-api" or "auto". */
const char *conf_transport_name(enum conf_transport);
/*
 * The API transport of the account's provider (TRANSPORT_GRAPH for
 * Microsoft, TRANSPORT_GMAIL for Google; a custom provider's from its
 * endpoints: gmail_endpoint set means Gmail), or TRANSPORT_SMTP if the
 * account has none (no OAuth).
 */
enum conf_transport conf_api_transport(const struct account *);
/*
 * The sender rule, for every submission: who may send as whom. The
 * envelope sender of a new message is sender (-f, MAIL FROM under -bs;
 * NULL if none given) when account a may send as it (conf_sender_allowed)
 * or when it is "" (the null sender), else a's address, with an info line
 * saying so. A sender the provider
 * would refuse is never sent as given (SendAsDenied would come only after
 * DATA).
 */
const char *conf_pick_sender(const struct account *a, const char *sender);

/*
 * The largest message (bytes as sent, CRLF endings) a submission accepts
 * for the account: max_message_size, else CONF_MAX_MESSAGE_SIZE.
 */
long long conf_max_message_size(const struct account *);
/*
 * What to do about a message over conf_max_message_size when the limit
 * is the API's (transport graph or gmail-api), else NULL.
 */
const char *conf_size_cure(const struct account *);

#endif
